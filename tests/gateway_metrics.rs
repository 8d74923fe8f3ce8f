//! `sipdeck gateway --metrics`: counters scraped during a real call (sipp as the far end,
//! echoing what PLAY_WAV sends) move as the call goes, and `--log-format json` writes one
//! JSON object per line.

mod gateway_support;

use std::time::Duration;

use gateway_support::process::{metric, GatewayProcess};
use gateway_support::{Client, Sipp};
use sipdeck::core::protocol::ClientMsg;
use sipdeck::core::wav::{self, Law};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_during_a_call_and_logs_are_json_lines() {
    let sipp = Sipp::start("answer_echo.xml", &["-rtp_echo"]);
    let store = tempfile::tempdir().unwrap();
    let mut gw = GatewayProcess::start(sipp.addr, store.path(), &["--rtp-ports", "50000-54999", "--max-clients", "1", "--log-format", "json"]).await;
    assert_eq!(gw.get("/healthz").await, (200, "ok\n".to_string()));
    let text = gw.scrape().await;
    assert_eq!(metric(&text, "sipdeck_ws_clients"), Some(0.0), "{text}");
    assert!(text.ends_with("# EOF\n"));

    let mut c = Client::connect(&gw.url).await;
    gw.await_metric("sipdeck_ws_clients", 1.0).await;
    // --max-clients 1: a second client is refused, and counted by reason.
    assert!(Client::try_connect(&gw.url, None).await.is_err());
    gw.await_metric(r#"sipdeck_ws_clients_refused_total{reason="too_many_clients"}"#, 1.0).await;

    let file = wav::pcm16_wav(Law::MuLaw, &gateway_support::tone_ulaw(0.5));
    c.send(&ClientMsg::WavUpload { name: "tone.wav".parse().unwrap(), data: file }.encode()).await;
    c.line("WAV_ACK").await;
    c.send("CALL:5550700").await;
    c.line("Call answered").await;
    gw.await_metric(r#"sipdeck_calls{state="answered"}"#, 1.0).await;
    c.send("PLAY_WAV:tone.wav").await;
    c.line("Finished playing tone.wav").await;
    c.rtp_frames(25).await;
    let text = gw.await_metric(r#"sipdeck_rtp_packets_total{direction="to_far_end"}"#, 25.0).await;
    let to_client = metric(&text, r#"sipdeck_rtp_packets_total{direction="to_client"}"#).unwrap();
    assert!(to_client >= 25.0, "{text}");
    // 12-byte header, 160 bytes of audio: whole packets are counted.
    assert_eq!(metric(&text, r#"sipdeck_rtp_bytes_total{direction="to_client"}"#), Some(to_client * 172.0), "{text}");
    assert_eq!(metric(&text, r#"sipdeck_rtp_bytes_total{direction="to_far_end"}"#), Some(25.0 * 172.0), "{text}");
    assert_eq!(metric(&text, "sipdeck_uploads_total"), Some(1.0), "{text}");
    assert_eq!(metric(&text, "sipdeck_plays_total"), Some(1.0), "{text}");
    assert_eq!(metric(&text, r#"sipdeck_rtp_dropped_total{reason="foreign_source"}"#), Some(0.0), "{text}");

    c.send("HANGUP").await;
    c.line("Call ended").await;
    let text = gw.await_metric(r#"sipdeck_calls_completed_total{code="200"}"#, 1.0).await;
    assert_eq!(metric(&text, r#"sipdeck_calls{state="answered"}"#), Some(0.0), "{text}");
    assert_eq!(metric(&text, "sipdeck_call_duration_seconds_count"), Some(1.0), "{text}");
    assert!(sipp.finish().await.success(), "sipp scenario failed");
    c.close().await;
    gw.await_metric("sipdeck_ws_clients", 0.0).await;

    // No call left: SIGTERM drains at once and the gateway exits 0.
    gw.signal("TERM");
    assert!(gw.exit(Duration::from_secs(10)).await.success());
    let log = gw.log.lock().unwrap().clone();
    let json: Vec<serde_json::Value> = log.iter().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).expect(l)).collect();
    let says = |msg: &str| json.iter().any(|j| j["fields"]["message"] == msg && j["level"] == "INFO" && j["timestamp"].is_string());
    assert!(says("client connected"), "{log:#?}");
    assert!(says("call over"), "{log:#?}");
    // Only the two address lines on stderr are not JSON: they are for scripts and people.
    assert_eq!(json.len() + 2, log.len(), "{log:#?}");
}

#[tokio::test]
async fn demo_server_logs_json_lines_too() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut demo = tokio::process::Command::new(env!("CARGO_BIN_EXE_sipdeck"))
        .args(["demo-server", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run sipdeck demo-server");
    let mut lines = BufReader::new(demo.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.expect("a log line").unwrap().unwrap();
    let json: serde_json::Value = serde_json::from_str(&first).expect(&first);
    let message = json["fields"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("demo peer listening on ws://127.0.0.1:"), "{first}");
}
