//! The gateway against sipp as the far end: each scenario in tests/sipp/ is one call, and
//! sipp's exit status (0) says the gateway's SIP was what the scenario expects.

mod gateway_support;

use gateway_support::{Client, Gateway, Sipp};
use sipdeck::server::sip::Account;
use sipdeck::core::rtp;
use sipdeck::core::wav::{self, Law};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_call_streams_audio_and_hangs_up_with_bye() {
    let sipp = Sipp::start("answer_stream_wait_bye.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:0938220136").await;
    assert_eq!(c.line("Calling").await, "Calling 0938220136");
    c.line("Ringing").await;
    c.line("Call answered").await;
    // sipp streams 20 ms PCMU packets; every one reaches the client whole.
    c.rtp_frames(25).await;
    for pkt in &c.rtp {
        let p = rtp::parse(pkt).expect("a whole RTP packet");
        assert_eq!(p.header.payload_type, 0);
        assert_eq!(p.payload.len(), 160);
    }
    c.send("HANGUP").await;
    c.line("Call ended").await;
    assert!(sipp.finish().await.success(), "sipp scenario failed");
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_end_bye_ends_the_call() {
    let sipp = Sipp::start("far_end_bye.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5551234").await;
    c.line("Call answered").await;
    c.line("Call ended").await;
    assert!(sipp.finish().await.success(), "sipp scenario failed");
    // The call is over: a new HANGUP has nothing to end, and a new call may start.
    c.send("HANGUP").await;
    assert!(c.line("Error:").await.contains("no call"));
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_end_reinvite_is_answered_and_the_call_goes_on() {
    let sipp = Sipp::start("reinvite_then_bye.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5551235").await;
    c.line("Call answered").await;
    c.line("Call ended").await;
    assert!(sipp.finish().await.success(), "sipp scenario failed (re-INVITE not answered with SDP?)");
    assert_eq!(c.lines.iter().filter(|l| *l == "Call answered").count(), 1, "{:?}", c.lines);
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_far_end_fails_the_call_with_its_code() {
    let sipp = Sipp::start("busy.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550000").await;
    assert_eq!(c.line("Call failed").await, "Call failed: 486 Busy Here");
    assert!(sipp.finish().await.success(), "sipp scenario failed (no ACK for the 486?)");
    assert!(!c.saw("Call answered"));
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hangup_before_answer_sends_cancel() {
    let sipp = Sipp::start("ring_then_cancel.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550001").await;
    c.line("Ringing").await;
    c.send("HANGUP").await;
    c.line("Call ended").await;
    assert!(sipp.finish().await.success(), "sipp scenario failed (CANCEL or ACK of the 487 missing?)");
    assert!(!c.lines.iter().any(|l| l.starts_with("Call failed")), "{:?}", c.lines);
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_challenge_is_answered_with_the_credentials() {
    let sipp = Sipp::start("digest_auth.xml", &[]);
    let gw = Gateway::start(sipp.addr, |cfg| cfg.sip.account = alice("secret")).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550002").await;
    c.line("Call answered").await;
    c.send("HANGUP").await;
    c.line("Call ended").await;
    assert!(sipp.finish().await.success(), "sipp rejected the digest");
    c.close().await;
    gw.stop().await;
}

fn alice(password: &str) -> Account {
    Account { user: Some("alice".into()), password: Some(password.into()), domain: Some("sipdeck.test".into()) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_challenge_407_is_answered_too() {
    let sipp = Sipp::start("proxy_auth.xml", &[]);
    let gw = Gateway::start(sipp.addr, |cfg| cfg.sip.account = alice("secret")).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550004").await;
    c.line("Call answered").await;
    c.send("HANGUP").await;
    c.line("Call ended").await;
    let (status, messages) = sipp.finish_keeping_logs().await;
    assert!(status.success(), "sipp scenario failed");
    // RFC 2617 without qop: response = MD5(MD5(user:realm:password):nonce:MD5(INVITE:uri)).
    let header = messages
        .lines()
        .find_map(|l| l.trim().strip_prefix("Proxy-Authorization: Digest "))
        .expect("the second INVITE carries Proxy-Authorization");
    let field = |name: &str| {
        header
            .split(", ")
            .find_map(|kv| kv.trim().strip_prefix(&format!("{name}=")))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("no {name} in {header}"))
    };
    let md5 = |s: String| {
        use md5::Digest as _;
        hex::encode(md5::Md5::digest(s.as_bytes()))
    };
    assert_eq!((field("username"), field("realm"), field("nonce")), ("alice".into(), "sipdeck.test".into(), "8f3a5c0d2e7b4a19".into()));
    let ha1 = md5("alice:sipdeck.test:secret".to_string());
    let ha2 = md5(format!("INVITE:{}", field("uri")));
    assert_eq!(field("response"), md5(format!("{ha1}:8f3a5c0d2e7b4a19:{ha2}")), "{header}");
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_ends_in_the_far_ends_refusal() {
    let sipp = Sipp::start("digest_auth.xml", &[]);
    let gw = Gateway::start(sipp.addr, |cfg| cfg.sip.account = alice("not-the-secret")).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550005").await;
    assert_eq!(c.line("Call failed").await, "Call failed: 403 Forbidden");
    assert!(!sipp.finish().await.success(), "sipp's verifyauth accepted a wrong password");
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenge_without_credentials_fails_the_call() {
    let sipp = Sipp::start("digest_auth.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550006").await;
    assert_eq!(c.line("Call failed").await, "Call failed: 401 Unauthorized");
    drop(sipp); // it waits for a second INVITE that never comes; the guard kills it
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn played_wav_reaches_the_far_end() {
    // sipp echoes every RTP packet it receives back to its sender, so what PLAY_WAV sends
    // comes back to the client: same payloads, same sequence numbers.
    let sipp = Sipp::start("answer_echo.xml", &["-rtp_echo"]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    // Half a second of 16-bit PCM: the gateway converts it to mu-law.
    let ulaw = gateway_support::tone_ulaw(0.5);
    let file = wav::pcm16_wav(Law::MuLaw, &ulaw);
    let upload = sipdeck::core::protocol::ClientMsg::WavUpload { name: "tone.wav".parse().unwrap(), data: file.clone() };
    c.send(&upload.encode()).await;
    assert_eq!(c.line("WAV_ACK").await, format!("WAV_ACK:tone.wav ({} bytes)", file.len()));
    c.send("CALL:5550003").await;
    c.line("Call answered").await;
    c.send("PLAY_WAV:tone.wav").await;
    assert_eq!(c.line("Playing").await, "Playing tone.wav (0.5 s)");
    c.rtp_frames(25).await;
    c.line("Finished playing tone.wav").await;
    let echoed: Vec<_> = c.rtp.iter().map(|p| rtp::parse(p).unwrap()).collect();
    assert!(echoed[0].header.marker, "the first packet of a playback carries the marker");
    let seq0 = echoed[0].header.sequence;
    let ts0 = echoed[0].header.timestamp;
    for (i, p) in echoed.iter().enumerate() {
        assert_eq!(p.header.sequence, seq0.wrapping_add(i as u16));
        assert_eq!(p.header.timestamp, ts0.wrapping_add(160 * i as u32));
        assert_eq!(p.payload, &ulaw[i * 160..(i + 1) * 160], "packet {i} payload");
    }
    c.send("HANGUP").await;
    c.line("Call ended").await;
    assert!(sipp.finish().await.success(), "sipp scenario failed");
    c.close().await;
    gw.stop().await;
}
