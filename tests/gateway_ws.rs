//! The gateway's WebSocket side: handshake, token, commands and their errors, uploads,
//! and what happens to calls when clients leave or the gateway stops.

mod gateway_support;

use std::time::Duration;

use gateway_support::{Client, Gateway, Sipp};
use sipdeck::core::protocol::{ClientMsg, MAX_WAV_BYTES};
use sipdeck::core::wav::{self, Law};
use tokio::net::UdpSocket;

/// A SIP target that never answers, for tests that place no real call.
async fn silent_target() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

fn upload(name: &str, data: Vec<u8>) -> String {
    // Built by hand so names the client library would refuse can be sent too.
    use base64::Engine as _;
    format!("WAV_UPLOAD:{name}:{}", base64::engine::general_purpose::STANDARD.encode(data))
}

#[tokio::test]
async fn answers_the_subprotocol_and_survives_bad_commands() {
    let sip = silent_target().await;
    let gw = Gateway::start(sip.local_addr().unwrap(), |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    assert_eq!(c.subprotocol.as_deref(), Some("sip-audio-protocol"));
    c.ping(b"keepalive").await;
    c.send("DIAL:123").await;
    assert!(c.line("Error:").await.contains("unknown command"));
    c.send("CALL:12ab").await;
    assert!(c.line("Error:").await.contains("digits"));
    c.send("HANGUP").await;
    assert_eq!(c.line("Error:").await, "Error: there is no call in progress");
    c.send("PLAY_WAV:a.wav").await;
    assert!(c.line("Error:").await.contains("no call in progress"));
    // Still connected and serving after all that.
    c.send(&upload("ok.wav", wav::g711_wav(Law::MuLaw, &[0xff; 160]))).await;
    assert_eq!(c.line("WAV_ACK").await, "WAV_ACK:ok.wav (218 bytes)");
    c.close().await;
    gw.stop().await;
}

#[tokio::test]
async fn token_is_required_before_any_command() {
    let sip = silent_target().await;
    let gw = Gateway::start(sip.local_addr().unwrap(), |cfg| cfg.token = Some("s3cret".into())).await;
    let refused = Client::try_connect(&gw.url(), None).await.err().expect("no token, no connection");
    assert!(refused.to_string().contains("401"), "{refused}");
    assert!(Client::try_connect(&format!("{}?token=nope", gw.url()), None).await.is_err());
    assert!(Client::try_connect(&gw.url(), Some("nope")).await.is_err());
    let mut by_query = Client::connect(&format!("{}?token=s3cret", gw.url())).await;
    by_query.send("HANGUP").await;
    by_query.line("Error:").await;
    let mut by_header = Client::try_connect(&gw.url(), Some("s3cret")).await.unwrap();
    by_header.send("HANGUP").await;
    by_header.line("Error:").await;
    gw.stop().await;
}

#[tokio::test]
async fn uploads_are_checked_and_stay_in_the_store() {
    let sip = silent_target().await;
    let gw = Gateway::start(sip.local_addr().unwrap(), |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    let good = wav::g711_wav(Law::MuLaw, &[0x7f; 1000]);

    c.send(&upload("../escape.wav", good.clone())).await;
    assert!(c.line("Error:").await.contains("plain name"));
    c.send(&upload("notes.txt", good.clone())).await;
    assert!(c.line("Error:").await.contains("must end in .wav"));
    c.send(&upload("fake.wav", b"just some text".to_vec())).await;
    assert!(c.line("Error:").await.contains("not a valid WAV"));
    let mut huge = wav::g711_wav(Law::MuLaw, &vec![0; MAX_WAV_BYTES]);
    huge.truncate(MAX_WAV_BYTES + 1);
    c.send(&upload("huge.wav", huge)).await;
    assert!(c.line("Error:").await.contains("over the limit"));

    // The largest allowed upload goes through (the frame is ~1.4 MB of base64).
    let mut max = wav::g711_wav(Law::MuLaw, &vec![0x55; MAX_WAV_BYTES - wav::G711_HEADER_LEN]);
    max.truncate(MAX_WAV_BYTES);
    let msg = ClientMsg::WavUpload { name: "max.wav".parse().unwrap(), data: max.clone() };
    c.send(&msg.encode()).await;
    assert_eq!(c.line("WAV_ACK").await, format!("WAV_ACK:max.wav ({MAX_WAV_BYTES} bytes)"));
    assert_eq!(std::fs::read(gw.store.path().join("max.wav")).unwrap(), max);

    // Only the accepted file is in the store, and nothing was written beside it.
    let names: Vec<_> = std::fs::read_dir(gw.store.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("max.wav")]);
    assert!(!gw.store.path().parent().unwrap().join("escape.wav").exists());
    c.close().await;
    gw.stop().await;
}

#[tokio::test]
async fn silent_target_times_out_after_retransmissions() {
    let sip = silent_target().await;
    let gw = Gateway::start(sip.local_addr().unwrap(), |cfg| cfg.sip.t1 = Duration::from_millis(20)).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550100").await;
    c.line("Calling").await;
    // Timer A doubles from T1: the same INVITE arrives again and again until Timer B.
    let mut buf = vec![0u8; 4096];
    let mut invites = Vec::new();
    while invites.len() < 4 {
        let n = tokio::time::timeout(Duration::from_secs(5), sip.recv(&mut buf)).await.unwrap().unwrap();
        invites.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(invites.iter().all(|m| m.starts_with("INVITE sip:5550100@127.0.0.1:")), "{invites:#?}");
    assert!(invites.iter().all(|m| m == &invites[0]), "retransmissions are the same request");
    assert!(invites[0].contains("m=audio ") && invites[0].contains("a=rtpmap:0 PCMU/8000"));
    assert!(invites[0].contains("a=rtpmap:101 telephone-event/8000"));
    assert!(invites[0].contains("\r\nCall-ID: ") && invites[0].contains("@127.0.0.1\r\n"), "{}", invites[0]);
    assert!(invites[0].contains("\r\nUser-Agent: sipdeck-gateway/"), "{}", invites[0]);
    assert_eq!(c.line("Call failed").await, "Call failed: 408 Request Timeout");
    // A second call while the first is... over: allowed.
    c.send("CALL:5550101").await;
    assert_eq!(c.line("Calling").await, "Calling 5550101");
    c.send("CALL:5550102").await;
    assert_eq!(c.line("Error:").await, "Error: a call is already in progress");
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_errors_are_lines_not_disconnects() {
    let sipp = Sipp::start("answer_stream_wait_bye.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550200").await;
    c.line("Call answered").await;
    c.send("PLAY_WAV:missing.wav").await;
    assert!(c.line("Error:").await.contains("no uploaded file named \"missing.wav\""));
    // A WAV of an encoding nothing here decodes (MP3 in a RIFF): stored, but not playable.
    let mut mp3 = wav::g711_wav(Law::MuLaw, &[0; 400]);
    mp3[20..22].copy_from_slice(&0x0055u16.to_le_bytes());
    c.send(&upload("song.wav", mp3)).await;
    c.line("WAV_ACK").await;
    c.send("PLAY_WAV:song.wav").await;
    assert!(c.line("Error:").await.starts_with("Error: cannot play song.wav:"));
    // CD-quality stereo is converted (mixed down, resampled) and played.
    let spec = hound::WavSpec { channels: 2, sample_rate: 44100, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for i in 0..44100 {
        let s = ((i as f32 * 0.06).sin() * 8000.0) as i16;
        w.write_sample(s).unwrap();
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    c.send(&upload("stereo.wav", cursor.into_inner())).await;
    c.line("WAV_ACK").await;
    c.send("PLAY_WAV:stereo.wav").await;
    assert_eq!(c.line("Playing").await, "Playing stereo.wav (1.0 s)");
    c.send("HANGUP").await;
    c.line("Call ended").await;
    assert!(sipp.finish().await.success());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_hangs_up_its_call() {
    let sipp = Sipp::start("answer_stream_wait_bye.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550300").await;
    c.line("Call answered").await;
    c.rtp_frames(3).await;
    drop(c); // no close handshake: the TCP connection just goes away
    assert!(sipp.finish().await.success(), "no BYE after the client left");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_gateway_hangs_up_every_call() {
    // One far end taking two calls, from two clients of one gateway.
    let sipp = Sipp::start_calls("answer_stream_wait_bye.xml", 2, &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut a = Client::connect(&gw.url()).await;
    let mut b = Client::connect(&gw.url()).await;
    a.send("CALL:5550400").await;
    b.send("CALL:5550401").await;
    a.line("Call answered").await;
    b.line("Call answered").await;
    gw.stop().await;
    a.line("Call ended").await;
    b.line("Call ended").await;
    // 1001 Going Away: the gateway is stopping, the client may reconnect later.
    assert_eq!(a.close_code().await, Some(1001));
    assert_eq!(b.close_code().await, Some(1001));
    assert!(sipp.finish().await.success(), "a call was not hung up at shutdown");
}
