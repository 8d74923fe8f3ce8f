//! Tests of the gateway's metrics: names, labels, and a call followed through its phases.

use super::*;

/// The value of the sample `name` (with its labels, as exposed) in `text`.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn every_metric_is_exposed_with_its_labels() {
    let m = Metrics::new();
    let rtp = m.rtp();
    rtp.to_client(172);
    rtp.to_client(172);
    rtp.to_far_end(172);
    rtp.foreign_source.inc();
    rtp.slow_client.inc();
    let guard = m.client_connected();
    m.refused("too_many_clients");
    m.uploaded();
    m.played();
    m.set_registered(true);
    let text = m.encode();
    assert_eq!(sample(&text, "sipdeck_ws_clients"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "sipdeck_ws_clients_accepted_total"), Some(1.0));
    assert_eq!(sample(&text, r#"sipdeck_ws_clients_refused_total{reason="too_many_clients"}"#), Some(1.0));
    assert_eq!(sample(&text, r#"sipdeck_rtp_packets_total{direction="to_client"}"#), Some(2.0));
    assert_eq!(sample(&text, r#"sipdeck_rtp_bytes_total{direction="to_client"}"#), Some(344.0));
    assert_eq!(sample(&text, r#"sipdeck_rtp_packets_total{direction="to_far_end"}"#), Some(1.0));
    assert_eq!(sample(&text, r#"sipdeck_rtp_dropped_total{reason="foreign_source"}"#), Some(1.0));
    assert_eq!(sample(&text, r#"sipdeck_rtp_dropped_total{reason="slow_client"}"#), Some(1.0));
    assert_eq!(sample(&text, "sipdeck_uploads_total"), Some(1.0));
    assert_eq!(sample(&text, "sipdeck_plays_total"), Some(1.0));
    assert_eq!(sample(&text, "sipdeck_registered"), Some(1.0));
    assert_eq!(sample(&text, "sipdeck_draining"), Some(0.0));
    assert_eq!(sample(&text, r#"sipdeck_calls{state="answered"}"#), Some(0.0));
    drop(guard);
    assert_eq!(sample(&m.encode(), "sipdeck_ws_clients"), Some(0.0));
}

#[test]
fn failure_lines_give_their_code() {
    assert_eq!(failure_code("Call failed: 486 Busy Here"), Some(486));
    assert_eq!(failure_code("Call failed: 503 Service Unavailable (target unreachable)"), Some(503));
    assert_eq!(failure_code("Call failed: no common codec"), None);
    assert_eq!(failure_code("Call ended"), None);
}

#[tokio::test]
async fn a_call_moves_through_the_state_gauges_and_is_counted_by_code() {
    let m = Arc::new(Metrics::new());
    let (tx, rx) = watch::channel(Phase::Dialing);
    let tracker = m.track_call(rx);
    let settled = |m: &Metrics, name: &str, want: f64| {
        let text = m.encode();
        sample(&text, name) == Some(want)
    };
    tx.send_replace(Phase::Ringing);
    wait_for(|| settled(&m, r#"sipdeck_calls{state="ringing"}"#, 1.0)).await;
    tx.send_replace(Phase::Answered);
    wait_for(|| settled(&m, r#"sipdeck_calls{state="answered"}"#, 1.0)).await;
    assert!(settled(&m, r#"sipdeck_calls{state="ringing"}"#, 0.0));
    tracker.ended("Call ended");
    tx.send_replace(Phase::Over);
    wait_for(|| settled(&m, r#"sipdeck_calls_completed_total{code="200"}"#, 1.0)).await;
    assert!(settled(&m, r#"sipdeck_calls{state="answered"}"#, 0.0));
    assert!(settled(&m, "sipdeck_call_duration_seconds_count", 1.0));

    // A refused call: its code; its task gone without `Over` counts it all the same.
    let (tx, rx) = watch::channel(Phase::Dialing);
    let tracker = m.track_call(rx);
    tracker.ended("Call failed: 486 Busy Here");
    drop(tx);
    wait_for(|| settled(&m, r#"sipdeck_calls_completed_total{code="486"}"#, 1.0)).await;
    assert!(settled(&m, "sipdeck_call_duration_seconds_count", 1.0));
}

/// The tracker is a task: yield to it until `done` holds (bounded).
async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the tracker did not get there");
}
