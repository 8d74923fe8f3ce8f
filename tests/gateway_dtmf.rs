//! DTMF into a call (sipdeck's `DTMF:<digits>` extension) end to end: baresip, a user agent
//! nobody here wrote, reports the RFC 4733 telephone-events it received; sipp, answering
//! without telephone-event, receives the SIP INFO fallback; and the refusals.

mod gateway_support;

use std::time::Duration;

use gateway_support::baresip::Baresip;
use gateway_support::{Client, Gateway, Sipp};
use sipdeck::core::protocol::ClientMsg;
use sipdeck::core::wav::{self, Law};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_hears_the_digits_as_telephone_events() {
    let Some(far) = Baresip::start("PCMU").await else { return };
    let gw = Gateway::start(far.addr(), |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    let tone = wav::g711_wav(Law::MuLaw, &gateway_support::tone_ulaw(3.0));
    c.send(&ClientMsg::WavUpload { name: "tone.wav".parse().unwrap(), data: tone }.encode()).await;
    c.line("WAV_ACK").await;
    c.send("CALL:1000").await;
    c.line("Call answered").await;
    // The digits go while a playback runs: events and audio share one stream (baresip's
    // jitter buffer also needs the audio after the last event to let its end packets out).
    c.send("PLAY_WAV:tone.wav").await;
    c.line("Playing tone.wav").await;
    c.send("DTMF:1#9A").await;
    // Typed one after another, as the keypad does: they queue behind the first.
    c.send("DTMF:*").await;
    c.send("DTMF:0").await;
    assert_eq!(c.line("DTMF sent").await, "DTMF sent: 1#9A");
    assert_eq!(c.line("DTMF sent").await, "DTMF sent: *");
    assert_eq!(c.line("DTMF sent").await, "DTMF sent: 0");
    // baresip logs each digit when its end packet arrives; the last may still be on its way.
    let mut heard = String::new();
    for _ in 0..50 {
        heard = far.received_dtmf();
        if heard.len() >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(heard, "1#9A*0", "baresip console:\n{}", far.console());
    c.line("Finished playing tone.wav").await;
    c.send("HANGUP").await;
    c.line("Call ended").await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_telephone_event_the_digits_go_as_sip_info() {
    let sipp = Sipp::start("answer_info_dtmf.xml", &[]);
    let gw = Gateway::start(sipp.addr, |cfg| cfg.calls.dtmf.tone = Duration::from_millis(160)).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:1000").await;
    c.line("Call answered").await;
    c.send("DTMF:5*D").await;
    assert_eq!(c.line("DTMF sent").await, "DTMF sent: 5*D");
    c.send("HANGUP").await;
    c.line("Call ended").await;
    let (status, messages) = sipp.finish_keeping_logs().await;
    assert!(status.success(), "sipp scenario failed");
    let signals: Vec<&str> = messages.lines().filter_map(|l| l.trim().strip_prefix("Signal=")).collect();
    assert_eq!(signals, ["5", "*", "D"]);
    assert_eq!(messages.matches("Duration=160").count(), 3);
    assert_eq!(messages.matches("Content-Type: application/dtmf-relay").count(), 3);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digits_are_refused_without_a_call_or_when_they_are_not_keys() {
    let target = std::net::SocketAddr::from(([127, 0, 0, 1], gateway_support::free_udp_port(false)));
    let gw = Gateway::start(target, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("DTMF:12").await;
    assert_eq!(c.line("Error").await, "Error: cannot send DTMF 12: there is no call in progress");
    c.send("DTMF:1E").await;
    assert!(c.line("Error").await.contains("DTMF digits are 0-9, *, #, A-D"));
    c.send(&format!("DTMF:{}", "1".repeat(33))).await;
    assert_eq!(c.line("Error").await, "Error: DTMF takes 1 to 32 digits (got 33)");
    gw.stop().await;
}
