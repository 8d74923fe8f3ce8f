//! The gateway where it meets hostile or broken peers (issue 14): RTP from anyone but the
//! far end, codecs other than PCMU, a far end that dies, a target that does not exist,
//! rejected credentials, and WebSocket clients that are too many, silent, oversized or not
//! WebSocket at all.

mod gateway_support;

use std::time::{Duration, Instant};

use gateway_support::{free_udp_port, Client, Gateway, Sipp};
use sipdeck::core::rtp::{self, RtpHeader};
use sipdeck::core::wav::{self, Law};
use sipdeck::server::media::Codec;
use sipdeck::server::sip::ports::PortRange;
use sipdeck::server::sip::Account;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// A range of two ports, one of them even and free: the gateway's only RTP port.
fn one_rtp_port() -> (PortRange, u16) {
    loop {
        let p = free_udp_port(false) & !1;
        if p > 1024 && std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok() {
            return (PortRange { first: p, last: p + 1 }, p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtp_from_anyone_but_the_far_end_never_reaches_the_client() {
    let sipp = Sipp::start("answer_stream_wait_bye.xml", &[]);
    let (range, port) = one_rtp_port();
    let gw = Gateway::start(sipp.addr, |cfg| cfg.rtp_ports = range).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550600").await;
    c.line("Call answered").await;
    c.rtp_frames(10).await;
    // Another host on the path sends its own stream to the call's port, mid-call.
    let intruder = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for i in 0..100u16 {
        let pkt = rtp::build(&RtpHeader { marker: false, payload_type: 0, sequence: i, timestamp: 160 * i as u32, ssrc: 0xBAD }, &[0x11; 160]);
        intruder.send_to(&pkt, ("127.0.0.1", port)).await.unwrap();
    }
    let seen = c.rtp.len();
    c.rtp_frames(seen + 25).await;
    let ssrcs: std::collections::HashSet<u32> = c.rtp.iter().map(|p| rtp::parse(p).unwrap().header.ssrc).collect();
    assert_eq!(ssrcs.len(), 1, "only the far end's stream: {ssrcs:x?}");
    assert!(!ssrcs.contains(&0xBAD));
    c.send("HANGUP").await;
    c.line("Call ended").await;
    assert!(sipp.finish().await.success());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alaw_only_far_end_gets_alaw() {
    let sipp = Sipp::start("answer_pcma_echo.xml", &["-rtp_echo"]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    let ulaw = gateway_support::tone_ulaw(0.5);
    c.send(&sipdeck::core::protocol::ClientMsg::WavUpload { name: "tone.wav".parse().unwrap(), data: wav::g711_wav(Law::MuLaw, &ulaw) }.encode()).await;
    c.line("WAV_ACK").await;
    c.send("CALL:5550601").await;
    c.line("Call answered").await;
    c.send("PLAY_WAV:tone.wav").await;
    assert_eq!(c.line("Playing").await, "Playing tone.wav (0.5 s)");
    c.rtp_frames(25).await;
    let alaw = Codec::Pcma.from_ulaw(ulaw.clone());
    for (i, pkt) in c.rtp.iter().take(25).enumerate() {
        let p = rtp::parse(pkt).unwrap();
        assert_eq!(p.header.payload_type, 8, "packet {i} is PCMA");
        assert_eq!(p.payload, &alaw[i * 160..(i + 1) * 160], "packet {i} payload");
    }
    c.send("HANGUP").await;
    c.line("Call ended").await;
    assert!(sipp.finish().await.success());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_a_common_codec_is_acked_and_byed() {
    let sipp = Sipp::start("answer_no_common_codec.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550602").await;
    assert_eq!(c.line("Call failed").await, "Call failed: far end accepts none of PCMU, PCMA");
    assert!(!c.saw("Call answered"), "{:?}", c.lines);
    assert!(sipp.finish().await.success(), "sipp did not get its ACK and BYE");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pcmu_only_offer_refuses_an_alaw_answer() {
    let sipp = Sipp::start("answer_pcma_wait_bye.xml", &[]);
    let gw = Gateway::start(sipp.addr, |cfg| cfg.calls.codecs = vec![Codec::Pcmu]).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550603").await;
    assert_eq!(c.line("Call failed").await, "Call failed: far end accepts none of PCMU");
    assert!(sipp.finish().await.success());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_far_end_that_goes_silent_is_hung_up() {
    let sipp = Sipp::start("answer_silent_wait_bye.xml", &[]);
    let gw = Gateway::start(sipp.addr, |cfg| cfg.calls.rtp_timeout = Some(Duration::from_secs(1))).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550604").await;
    c.line("Call answered").await;
    let answered = Instant::now();
    assert_eq!(c.line("Call ended").await, "Call ended: no audio from the far end for 1 s (BYE sent)");
    assert!(answered.elapsed() < Duration::from_secs(4));
    assert!(sipp.finish().await.success(), "sipp got no BYE");
    gw.stop().await;
}

#[tokio::test]
async fn an_unreachable_target_fails_at_once() {
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = closed.local_addr().unwrap();
    drop(closed);
    let gw = Gateway::start(target, |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    let started = Instant::now();
    c.send("CALL:5550605").await;
    assert_eq!(c.line("Call failed").await, "Call failed: 503 Service Unavailable (target unreachable)");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    // The line is free for the next call.
    c.send("CALL:5550606").await;
    assert_eq!(c.line("Calling 5550606").await, "Calling 5550606");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_credentials_are_told_apart_from_missing_ones() {
    let sipp = Sipp::start("digest_rechallenge.xml", &[]);
    let account = Account { user: Some("alice".into()), password: Some("wrong".into()), domain: None };
    let gw = Gateway::start(sipp.addr, |cfg| cfg.sip.account = account).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:5550607").await;
    assert_eq!(c.line("Call failed").await, "Call failed: 401 Unauthorized (credentials rejected)");
    assert!(sipp.finish().await.success());
    gw.stop().await;
}

async fn silent_gateway(tweak: impl FnOnce(&mut sipdeck::server::gateway::GatewayConfig)) -> (Gateway, UdpSocket) {
    let sip = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    (Gateway::start(sip.local_addr().unwrap(), tweak).await, sip)
}

#[tokio::test]
async fn clients_beyond_the_caps_get_a_503() {
    let (gw, _sip) = silent_gateway(|cfg| cfg.caps = sipdeck::server::listen::ClientCaps { total: 5, per_ip: 2 }).await;
    let a = Client::connect(&gw.url()).await;
    let _b = Client::connect(&gw.url()).await;
    let refused = Client::try_connect(&gw.url(), None).await.err().expect("a third client from one address is refused");
    assert!(refused.to_string().contains("503"), "{refused}");
    // One leaves: there is room again.
    a.close().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Client::try_connect(&gw.url(), None).await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                assert!(e.to_string().contains("503"), "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("still refused: {e}"),
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_client_that_answers_no_pings_is_dropped() {
    let (gw, _sip) = silent_gateway(|cfg| cfg.sessions.ping_interval = Some(Duration::from_millis(100))).await;
    let mut dead = Client::connect(&gw.url()).await;
    let mut alive = Client::connect(&gw.url()).await;
    // `alive` reads (and so answers pings) all along; `dead` reads nothing for a while.
    let kept = tokio::time::timeout(Duration::from_millis(800), alive.close_code()).await;
    assert!(kept.is_err(), "a client that answers pings was dropped: {kept:?}");
    let ended = tokio::time::timeout(Duration::from_secs(3), dead.close_code()).await;
    assert!(ended.is_ok(), "the silent client is still connected");
    gw.stop().await;
}

#[tokio::test]
async fn an_oversized_frame_is_closed_with_1009() {
    let (gw, _sip) = silent_gateway(|_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send(&"x".repeat(sipdeck::core::protocol::MAX_FRAME_BYTES + 1)).await;
    assert_eq!(c.close_code().await, Some(1009));
    gw.stop().await;
}

#[tokio::test]
async fn plain_http_gets_an_http_answer() {
    let (gw, _sip) = silent_gateway(|_| {}).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 426 Upgrade Required\r\n"), "{answer}");
    assert!(answer.contains("sip-audio-protocol"), "{answer}");
    gw.stop().await;
}

#[tokio::test]
async fn names_up_to_255_bytes_work_and_disguised_ones_are_refused() {
    use base64::Engine as _;
    let (gw, _sip) = silent_gateway(|_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    let file = wav::g711_wav(Law::MuLaw, &[0x7f; 160]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&file);
    let long = format!("{}.wav", "é".repeat(125) + "n");
    assert_eq!(long.len(), 255);
    c.send(&format!("WAV_UPLOAD:{long}:{b64}")).await;
    assert_eq!(c.line("WAV_ACK").await, format!("WAV_ACK:{long} ({} bytes)", file.len()));
    assert_eq!(std::fs::read(gw.store.path().join(&long)).unwrap(), file);
    c.send(&format!("WAV_UPLOAD:evil\u{202E}vaw.exe.wav:{b64}")).await;
    let refusal = c.line("Error:").await;
    assert!(refusal.contains("bidirectional control (U+202E)"), "{refusal}");
    c.send(&format!("WAV_UPLOAD:in\u{200B}visible.wav:{b64}")).await;
    assert!(c.line("Error:").await.contains("invisible character (U+200B)"));
    gw.stop().await;
}
