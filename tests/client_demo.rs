//! The client core (network actor + app fold + effects) against the embedded demo peer,
//! all in the test process over real WebSockets.

mod common;

use std::time::Duration;

use common::{fast_demo, Client, WAIT};
use sipdeck::client::app::{CallState, ConnState, Effect, UploadState};
use sipdeck::core::wav;

#[tokio::test]
async fn call_count_hang_up_save_and_read_back() {
    let demo = sipdeck::server::demo::start(fast_demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&demo.url(), dir.path());
    c.until("connected", WAIT, |a| a.connected()).await;
    c.key('1').await;
    c.until("call answered", WAIT, |a| matches!(a.call, CallState::Active { .. })).await;
    c.until("100 packets", WAIT, |a| a.rtp.packets >= 100).await;
    assert!(c.logged("Calling 0938220136") && c.logged("Ringing") && c.logged("Call answered"));
    c.key('3').await;
    c.until("call ended", WAIT, |a| matches!(a.call, CallState::Ended { .. })).await;
    c.until("server confirms", WAIT, |a| a.log.iter().any(|l| l.text == "Call ended")).await;
    let packets = c.app.rtp.packets;
    // Every packet's payload is kept, not only the first three.
    assert_eq!(c.app.capture.len() as u64, packets * 160);
    assert_eq!(c.app.rtp.malformed, 0);
    c.key('7').await;
    c.until("saved", WAIT, |a| a.last_save.is_some()).await;
    let path = c.app.last_save.clone().unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("rtp_capture_") && name.ends_with(".wav") && name.len() == "rtp_capture_YYYYMMDD_HHMMSS.wav".len(), "{name}");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 58 + packets as usize * 160);
    let info = wav::parse_header(&bytes).unwrap();
    assert!(info.is_phone_ready());
    assert_eq!(info.data_len as u64, packets * 160);
    // The file is the replay of the call's spill file: the demo's tone, not silence.
    assert!(info.data(&bytes).iter().filter(|&&b| b != 0xff).count() > bytes.len() / 2);
}

#[tokio::test]
async fn upload_is_pending_until_acked_then_plays_back() {
    let demo = sipdeck::server::demo::start(fast_demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("beep.wav");
    std::fs::write(&file, wav::g711_wav(wav::Law::MuLaw, &[0x80; 1600])).unwrap();
    let mut c = Client::connect(&demo.url(), dir.path());
    c.until("connected", WAIT, |a| a.connected()).await;
    c.apply(Effect::Upload(file)).await;
    c.until("upload sent", WAIT, |a| !a.uploads.is_empty()).await;
    c.until("ack", WAIT, |a| matches!(a.uploads[0].state, UploadState::Acked { .. })).await;
    assert_eq!(c.app.uploads[0].name.as_str(), "beep.wav");
    assert_eq!(c.app.uploads[0].bytes, 1658);
    assert!(c.logged("WAV_ACK: beep.wav (1658 bytes)"), "{}", c.log_text());
    assert_eq!(c.app.acked_names().len(), 1);
    // Play it: 1600 bytes come back as 10 packets of 160.
    c.apply(Effect::Send(sipdeck::core::protocol::ClientMsg::PlayWav("beep.wav".parse().unwrap()))).await;
    c.until("file played", WAIT, |a| a.log.iter().any(|l| l.text.starts_with("Finished playing beep.wav"))).await;
    c.until("its packets", WAIT, |a| a.rtp.packets >= 10).await;
    // The played file comes back: saved from the call's spill file, it starts with it.
    c.key('7').await;
    c.until("saved", WAIT, |a| a.last_save.is_some()).await;
    let saved = std::fs::read(c.app.last_save.clone().unwrap()).unwrap();
    let info = wav::parse_header(&saved).unwrap();
    assert_eq!(&info.data(&saved)[..1600], &[0x80; 1600][..]);
}

#[tokio::test]
async fn bad_uploads_are_refused_locally_and_remotely() {
    let demo = sipdeck::server::demo::start(fast_demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&demo.url(), dir.path());
    c.until("connected", WAIT, |a| a.connected()).await;
    let txt = dir.path().join("notes.wav");
    std::fs::write(&txt, b"not a wav").unwrap();
    c.apply(Effect::Upload(txt)).await;
    c.until("refusal", WAIT, |a| a.log.iter().any(|l| l.text.starts_with("not uploaded:"))).await;
    assert!(c.app.uploads.is_empty());
    // Playing a name the server does not have gets the server's error line.
    c.apply(Effect::Send(sipdeck::core::protocol::ClientMsg::PlayWav("nope.wav".parse().unwrap()))).await;
    c.until("server error", WAIT, |a| a.log.iter().any(|l| l.text.contains("no such file: nope.wav"))).await;
}

#[tokio::test]
async fn a_server_that_dies_mid_call_ends_the_call_and_keeps_the_audio() {
    let cfg = sipdeck::server::demo::DemoConfig { close_after_packets: Some(40), ..fast_demo() };
    let demo = sipdeck::server::demo::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&demo.url(), dir.path());
    c.until("connected", WAIT, |a| a.connected()).await;
    c.key('1').await;
    c.until("disconnect", WAIT, |a| matches!(a.conn, ConnState::Disconnected { .. })).await;
    assert_eq!(c.app.rtp.packets, 40);
    assert!(matches!(&c.app.call, CallState::Ended { reason, .. } if reason == "connection lost"), "{:?}", c.app.call);
    assert_eq!(c.app.capture.len(), 40 * 160);
    // Commands are refused while disconnected, not queued.
    c.key('1').await;
    assert!(c.logged("not connected: CALL:0938220136 was not sent"));
    // The actor reconnects by itself, and the audio is still there to save.
    c.until("reconnected", WAIT, |a| a.connected()).await;
    assert_eq!(c.app.capture.len(), 40 * 160);
    c.key('7').await;
    c.until("saved", WAIT, |a| a.last_save.is_some()).await;
}

#[tokio::test]
async fn busy_numbers_fail_with_the_reason() {
    let demo = sipdeck::server::demo::start(fast_demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&demo.url(), dir.path());
    c.until("connected", WAIT, |a| a.connected()).await;
    c.apply(Effect::Send(sipdeck::core::protocol::ClientMsg::Call("555486".parse().unwrap()))).await;
    c.until("failure", Duration::from_secs(5), |a| matches!(a.call, CallState::Ended { .. })).await;
    let CallState::Ended { reason, .. } = &c.app.call else { unreachable!() };
    assert_eq!(reason, "Call failed: 486 Busy Here");
    assert_eq!(c.app.rtp.packets, 0);
}
