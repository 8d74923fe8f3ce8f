//! The client against servers that misbehave: garbage frames, floods, missing subprotocol,
//! refusals. Nothing may crash it or lose what already arrived.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Client, WAIT};
use futures_util::SinkExt;
use sipdeck::client::app::ConnState;
use sipdeck::client::net::NetConfig;
use sipdeck::core::rtp::{self, RtpHeader};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

/// Serve one client with the given frames (echoing the subprotocol), then keep the
/// connection open until the client goes.
async fn scripted(frames: Vec<Message>) -> SocketAddr {
    scripted_sessions(vec![frames]).await
}

/// Serve one connection per script, in order, each as [`scripted`] does.
async fn scripted_sessions(sessions: Vec<Vec<Message>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for frames in sessions {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(serve_frames(stream, frames));
        }
    });
    addr
}

async fn serve_frames(stream: tokio::net::TcpStream, frames: Vec<Message>) {
    #[allow(clippy::result_large_err)] // the signature tungstenite demands
    let cb = move |_req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                   mut resp: tokio_tungstenite::tungstenite::handshake::server::Response| {
        resp.headers_mut().insert("Sec-WebSocket-Protocol", "sip-audio-protocol".parse().unwrap());
        Ok(resp)
    };
    let mut ws = tokio_tungstenite::accept_hdr_async(stream, cb).await.unwrap();
    for f in frames {
        if ws.send(f).await.is_err() {
            return;
        }
    }
    use futures_util::StreamExt;
    while let Some(Ok(_)) = ws.next().await {}
}

/// A text frame carrying exactly these bytes: tungstenite's `Message::Text` cannot hold
/// invalid UTF-8, so it goes out as a raw frame.
fn raw_text(bytes: &[u8], opcode: Data, fin: bool) -> Message {
    Message::Frame(Frame::message(bytes.to_vec(), OpCode::Data(opcode), fin))
}

fn good_packet(seq: u16) -> String {
    let h = RtpHeader { payload_type: 0, sequence: seq, timestamp: seq as u32 * 160, ssrc: 7, marker: false };
    sipdeck::core::protocol::encode_rtp(&rtp::build(&h, &[0x55; 160]))
}

#[tokio::test]
async fn garbage_frames_are_counted_and_the_client_carries_on() {
    let mut csrc_overrun = rtp::build(&RtpHeader::default(), &[0; 4]);
    csrc_overrun[0] = 0x8f;
    let frames = vec![
        Message::text(good_packet(1)),
        Message::binary(vec![1, 2, 3]),
        Message::text(""),
        Message::text("RTP:"),
        Message::text("RTP:abc"),
        Message::text("RTP:zzzz"),
        Message::text("RTP:80000001"),
        Message::text(format!("RTP:{}", hex::encode(&csrc_overrun))),
        Message::text("x".repeat(1_048_576)),
        Message::text("WAV_ACK:"),
        Message::text(good_packet(2)),
        Message::text("the end"),
    ];
    let addr = scripted(frames).await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&format!("ws://{addr}"), dir.path());
    c.until("the last line", WAIT, |a| a.log.iter().any(|l| l.text == "the end")).await;
    assert_eq!(c.app.rtp.packets, 2);
    assert_eq!(c.app.capture.len(), 320);
    // binary, "RTP:" (empty), odd hex, non-hex, short, CSRC overrun
    assert_eq!(c.app.rtp.malformed, 6, "{}", c.log_text());
    assert!(c.logged("not valid hex"));
    assert!(c.logged("not valid RTP"));
    assert!(c.logged("binary frame"));
    // The 1 MiB line is kept as one cut line, not a megabyte of screen.
    assert!(c.app.log.iter().all(|l| l.text.len() < 3000));
    assert!(c.logged("[cut, 1048576 bytes in all]"));
    assert!(c.app.connected());
}

#[tokio::test]
async fn a_flood_of_status_lines_keeps_the_log_bounded() {
    let frames: Vec<Message> = (0..30_000).map(|i| Message::text(format!("status {i}"))).collect();
    let addr = scripted(frames).await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&format!("ws://{addr}"), dir.path());
    c.until("the flood", Duration::from_secs(30), |a| a.log.last().is_some_and(|l| l.text == "status 29999")).await;
    assert_eq!(c.app.log.len(), sipdeck::client::app::log::DEFAULT_CAPACITY);
}

#[tokio::test]
async fn long_lines_in_a_flood_keep_the_log_bounded_in_bytes() {
    // 12,000 lines of 3,000 bytes: 36 MB on the wire, at most 10,000 cut lines kept.
    let line = "y".repeat(3000);
    let mut frames: Vec<Message> = (0..12_000).map(|i| Message::text(format!("{i:05} {line}"))).collect();
    frames.push(Message::text("done"));
    let addr = scripted(frames).await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&format!("ws://{addr}"), dir.path());
    c.until("the flood", Duration::from_secs(30), |a| a.log.last().is_some_and(|l| l.text == "done")).await;
    let kept: usize = c.app.log.iter().map(|l| l.text.len()).sum();
    let cap = sipdeck::client::app::log::DEFAULT_CAPACITY;
    assert_eq!(c.app.log.len(), cap);
    assert!(kept <= cap * (sipdeck::client::app::log::MAX_LINE_CHARS + 64), "log holds {kept} bytes");
    // The newest lines are the ones kept.
    assert!(c.app.log.iter().rev().nth(1).is_some_and(|l| l.text.starts_with("11999 ")));
    assert!(c.app.connected());
}

#[tokio::test]
async fn invalid_utf8_text_frames_drop_the_connection_plainly_and_it_comes_back() {
    // A text frame that is not UTF-8, then one split over two fragments (the invalid byte
    // in the second); each costs one connection, the third connection works.
    let sessions = vec![
        vec![Message::text("before"), raw_text(b"RTP:\xff\xfe", Data::Text, true)],
        vec![raw_text(b"Ringing \xe2\x82", Data::Text, false), raw_text(b"\x28 more", Data::Continue, true)],
        vec![Message::text("after reconnect"), Message::text(good_packet(1))],
    ];
    let addr = scripted_sessions(sessions).await;
    let mut cfg = NetConfig::new(format!("ws://{addr}"));
    cfg.backoff = Some(sipdeck::client::net::Backoff::new(Duration::from_millis(20), Duration::from_millis(40), 0.0));
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect_with(cfg, dir.path());
    c.until("the third connection", WAIT, |a| a.rtp.packets == 1).await;
    let said = "disconnected: server sent a text frame that is not valid UTF-8";
    assert_eq!(c.app.log.iter().filter(|l| l.text.starts_with(said)).count(), 2, "{}", c.log_text());
    assert!(c.logged("before") && c.logged("after reconnect"));
    // Nothing of the broken frames reached the log or the counters as if it were data.
    assert!(!c.logged("Ringing"));
    assert_eq!(c.app.rtp.malformed, 0);
    assert!(c.app.connected());
}

#[tokio::test]
async fn a_server_without_the_subprotocol_still_works_with_a_warning() {
    // The first handshake fails on the missing header and the client connects again
    // without asking, so the server must take two connections.
    let addr = scripted_twice().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&format!("ws://{addr}"), dir.path());
    c.until("hello", WAIT, |a| a.log.iter().any(|l| l.text == "hello")).await;
    assert!(c.logged("did not confirm subprotocol 'sip-audio-protocol'"));
    assert!(c.app.connected());
}

/// A server that never echoes the subprotocol, for two connections.
async fn scripted_twice() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..2 {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
                let _ = ws.send(Message::text("hello")).await;
                use futures_util::StreamExt;
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    addr
}

#[tokio::test]
async fn connection_refused_and_http_errors_have_plain_messages() {
    // A port with nothing behind it.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&format!("ws://{addr}"), dir.path());
    c.until("refused", WAIT, |a| matches!(&a.conn, ConnState::Disconnected { reason, .. } if reason.starts_with("connection refused"))).await;

    // An HTTP server that answers 404 to the upgrade.
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let haddr = http.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = http.accept().await {
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").await;
        }
    });
    let mut cfg = NetConfig::new(format!("ws://{haddr}/nope"));
    cfg.backoff = None;
    let mut h = Client::connect_with(cfg, dir.path());
    h.until("http error", WAIT, |a| matches!(&a.conn, ConnState::Disconnected { reason, .. } if reason.contains("HTTP 404"))).await;
}

#[tokio::test]
async fn keepalive_failure_is_detected() {
    // A raw TCP server that completes the handshake and then never reads again: pings go
    // unanswered.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        #[allow(clippy::result_large_err)] // the signature tungstenite demands
        let cb = |_req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                  mut resp: tokio_tungstenite::tungstenite::handshake::server::Response| {
            resp.headers_mut().insert("Sec-WebSocket-Protocol", "sip-audio-protocol".parse().unwrap());
            Ok(resp)
        };
        let ws = tokio_tungstenite::accept_hdr_async(stream, cb).await.unwrap();
        std::future::pending::<()>().await;
        drop(ws);
    });
    let mut cfg = NetConfig::new(format!("ws://{addr}"));
    cfg.ping_interval = Duration::from_millis(100);
    cfg.pong_timeout = Duration::from_millis(200);
    cfg.backoff = None;
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect_with(cfg, dir.path());
    c.until("keep-alive failure", WAIT, |a| matches!(&a.conn, ConnState::Disconnected { reason, .. } if reason.starts_with("keep-alive failed"))).await;
}

#[tokio::test]
async fn tls_to_a_plain_server_fails_with_a_tls_message() {
    let demo = sipdeck::server::demo::start(Default::default()).await.unwrap();
    let mut cfg = NetConfig::new(format!("wss://{}", demo.addr));
    cfg.backoff = None;
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect_with(cfg, dir.path());
    c.until("tls failure", WAIT, |a| matches!(&a.conn, ConnState::Disconnected { reason, .. } if reason.starts_with("TLS"))).await;
}

#[tokio::test]
async fn dns_failure_has_its_own_message() {
    let mut cfg = NetConfig::new("ws://no-such-host.invalid:8080");
    cfg.backoff = None;
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect_with(cfg, dir.path());
    c.until("dns failure", std::time::Duration::from_secs(30), |a| matches!(&a.conn, ConnState::Disconnected { reason, .. } if reason.starts_with("DNS lookup failed"))).await;
}
