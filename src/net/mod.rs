//! The client's network actor. It owns the WebSocket, turns frames into typed [`NetEvent`]s
//! and takes [`Command`]s. It never draws; the UI only sees its events.
//!
//! Under load the event channel is bounded and the actor waits on it: a slow UI slows the
//! socket reader (TCP flow control pushes back on the server) instead of dropping audio.

mod backoff;
mod errors;

pub use backoff::Backoff;
pub use errors::describe_ws_error;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::protocol::{self, ClientMsg, ServerMsg, SUBPROTOCOL};
use crate::rtp::{self, RtpHeader};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Settings of one actor.
#[derive(Debug, Clone)]
pub struct NetConfig {
    pub url: String,
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    pub connect_timeout: Duration,
    /// Reconnect after a drop; `None` means stay disconnected until told.
    pub backoff: Option<Backoff>,
}

impl NetConfig {
    pub fn new(url: impl Into<String>) -> NetConfig {
        NetConfig {
            url: url.into(),
            ping_interval: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            backoff: Some(Backoff::default()),
        }
    }
}

/// What the UI asks of the actor.
#[derive(Debug)]
pub enum Command {
    Send(ClientMsg),
    /// Connect now instead of waiting for the next backoff attempt.
    ReconnectNow,
    Shutdown,
}

/// One received RTP packet, already parsed once here so the UI does not parse it again.
#[derive(Debug, Clone)]
pub struct RtpFrame {
    pub header: RtpHeader,
    pub bytes: Vec<u8>,
    pub payload_offset: usize,
    pub payload_len: usize,
    pub arrival: Instant,
}

impl RtpFrame {
    pub fn payload(&self) -> &[u8] {
        &self.bytes[self.payload_offset..self.payload_offset + self.payload_len]
    }

    /// Parse a decoded packet into a frame (the same checks the actor makes).
    pub fn from_bytes(bytes: Vec<u8>, arrival: Instant) -> Result<RtpFrame, rtp::RtpError> {
        let (header, payload_offset, payload_len) = {
            let p = rtp::parse(&bytes)?;
            (p.header, p.payload_offset, p.payload.len())
        };
        Ok(RtpFrame { header, bytes, payload_offset, payload_len, arrival })
    }
}

/// What the actor tells the UI.
#[derive(Debug, Clone)]
pub enum NetEvent {
    Connecting { attempt: u32 },
    /// `subprotocol` is false when the server did not confirm `sip-audio-protocol`.
    Connected { subprotocol: bool },
    Status(String),
    WavAck(String),
    Rtp(RtpFrame),
    /// A frame that could not be understood: counted and logged, never fatal.
    Malformed { reason: String },
    /// A warning about the connection that does not end it.
    Warning(String),
    /// A command went out on the wire (summarised for the log).
    Sent(ClientMsg),
    /// A command could not be sent; it was not queued.
    Refused { what: String, why: String },
    Disconnected { reason: String, retry_in: Option<Duration> },
}

/// Start the actor on the current tokio runtime.
pub fn spawn(cfg: NetConfig) -> (mpsc::Sender<Command>, mpsc::Receiver<NetEvent>) {
    install_crypto();
    let (cmd_tx, cmd_rx) = mpsc::channel(64);
    let (ev_tx, ev_rx) = mpsc::channel(4096);
    // A bug in the actor must not pass silently: the UI hears of it as a disconnect.
    let actor = tokio::spawn(run(cfg, cmd_rx, ev_tx.clone()));
    tokio::spawn(async move {
        if let Err(e) = actor.await {
            if e.is_panic() {
                let reason = match e.into_panic().downcast::<String>() {
                    Ok(s) => format!("the network task failed: {s}"),
                    Err(p) => format!("the network task failed: {}", p.downcast::<&str>().map(|s| *s).unwrap_or("panic")),
                };
                let _ = ev_tx.send(NetEvent::Disconnected { reason, retry_in: None }).await;
            }
        }
    });
    (cmd_tx, ev_rx)
}

/// wss:// needs a process-wide rustls crypto provider; ring is the one compiled in.
fn install_crypto() {
    // Err means one is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

enum SessionEnd {
    Lost(String),
    Shutdown,
}

async fn run(cfg: NetConfig, mut cmds: mpsc::Receiver<Command>, events: mpsc::Sender<NetEvent>) {
    let mut backoff = cfg.backoff.clone();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        if events.send(NetEvent::Connecting { attempt }).await.is_err() {
            return;
        }
        let reason = match connect(&cfg, &events).await {
            Ok(ws) => {
                attempt = 0;
                if let Some(b) = backoff.as_mut() {
                    b.reset();
                }
                match session(&cfg, ws, &mut cmds, &events).await {
                    SessionEnd::Shutdown => return,
                    SessionEnd::Lost(r) => r,
                }
            }
            Err(r) => r,
        };
        let retry_in = backoff.as_mut().map(|b| b.next_delay());
        if events.send(NetEvent::Disconnected { reason, retry_in }).await.is_err() {
            return;
        }
        if !wait_to_reconnect(retry_in, &mut cmds, &events).await {
            return;
        }
    }
}

/// Wait out the backoff while refusing commands. False means shut down.
async fn wait_to_reconnect(
    delay: Option<Duration>,
    cmds: &mut mpsc::Receiver<Command>,
    events: &mpsc::Sender<NetEvent>,
) -> bool {
    let sleep = async {
        match delay {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            _ = &mut sleep => return true,
            cmd = cmds.recv() => match cmd {
                None | Some(Command::Shutdown) => return false,
                Some(Command::ReconnectNow) => return true,
                Some(Command::Send(msg)) => {
                    let what = msg.summary();
                    let why = "not connected".to_string();
                    if events.send(NetEvent::Refused { what, why }).await.is_err() {
                        return false;
                    }
                }
            }
        }
    }
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(protocol::MAX_FRAME_BYTES * 2))
        .max_frame_size(Some(protocol::MAX_FRAME_BYTES * 2))
}

async fn connect(cfg: &NetConfig, events: &mpsc::Sender<NetEvent>) -> Result<Ws, String> {
    let (ws, negotiated) = match try_connect(cfg, true).await {
        Ok(ws) => (ws, true),
        // The reference client (Python websockets) carries on when a server does not echo
        // the subprotocol; so do we, but say so.
        Err(tungstenite::Error::Protocol(tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(
            tungstenite::error::SubProtocolError::NoSubProtocol,
        ))) => {
            let warn = format!("server did not confirm subprotocol '{SUBPROTOCOL}'; continuing without it");
            let _ = events.send(NetEvent::Warning(warn)).await;
            (try_connect(cfg, false).await.map_err(|e| describe_connect_error(&cfg.url, &e))?, false)
        }
        Err(e) => return Err(describe_connect_error(&cfg.url, &e)),
    };
    let _ = events.send(NetEvent::Connected { subprotocol: negotiated }).await;
    Ok(ws)
}

/// Over wss://, an IO failure after the TCP connect is the TLS handshake failing (the peer
/// speaks plain HTTP, or hangs up on our hello): say so rather than "connection lost".
fn describe_connect_error(url: &str, e: &tungstenite::Error) -> String {
    use std::io::ErrorKind as K;
    match e {
        tungstenite::Error::Io(io)
            if url.starts_with("wss://")
                && matches!(io.kind(), K::InvalidData | K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe) =>
        {
            format!("TLS handshake failed: {io}")
        }
        other => describe_ws_error(other),
    }
}

async fn try_connect(cfg: &NetConfig, with_subprotocol: bool) -> Result<Ws, tungstenite::Error> {
    let mut req = cfg.url.as_str().into_client_request()?;
    if with_subprotocol {
        req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
    }
    let fut = tokio_tungstenite::connect_async_with_config(req, Some(ws_config()), true);
    match tokio::time::timeout(cfg.connect_timeout, fut).await {
        Ok(r) => r.map(|(ws, _resp)| ws),
        Err(_) => Err(tungstenite::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s", cfg.connect_timeout.as_secs()),
        ))),
    }
}

async fn session(
    cfg: &NetConfig,
    ws: Ws,
    cmds: &mut mpsc::Receiver<Command>,
    events: &mpsc::Sender<NetEvent>,
) -> SessionEnd {
    let (mut sink, mut stream) = ws.split();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + cfg.ping_interval, cfg.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pong_deadline: Option<tokio::time::Instant> = None;
    loop {
        let deadline = async {
            match pong_deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            cmd = cmds.recv() => match cmd {
                None | Some(Command::Shutdown) => {
                    let _ = sink.send(Message::Close(None)).await;
                    return SessionEnd::Shutdown;
                }
                Some(Command::ReconnectNow) => {
                    let _ = sink.send(Message::Close(None)).await;
                    return SessionEnd::Lost("reconnect requested".into());
                }
                Some(Command::Send(msg)) => {
                    if let Err(e) = sink.send(Message::text(msg.encode())).await {
                        let why = describe_ws_error(&e);
                        let _ = events.send(NetEvent::Refused { what: msg.summary(), why: why.clone() }).await;
                        return SessionEnd::Lost(why);
                    }
                    if events.send(NetEvent::Sent(msg)).await.is_err() {
                        return SessionEnd::Shutdown;
                    }
                }
            },
            _ = ping.tick() => {
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return SessionEnd::Lost("could not send keep-alive ping".into());
                }
                if pong_deadline.is_none() {
                    pong_deadline = Some(tokio::time::Instant::now() + cfg.pong_timeout);
                }
            }
            _ = deadline => {
                return SessionEnd::Lost(format!(
                    "keep-alive failed: no pong within {} s", cfg.pong_timeout.as_secs()));
            }
            frame = stream.next() => {
                let ev = match frame {
                    None => return SessionEnd::Lost("connection closed by the server".into()),
                    Some(Err(e)) => return SessionEnd::Lost(describe_ws_error(&e)),
                    Some(Ok(Message::Close(cf))) => return SessionEnd::Lost(match cf {
                        Some(cf) if !cf.reason.is_empty() => format!("server closed the connection: {} {}", u16::from(cf.code), cf.reason),
                        Some(cf) => format!("server closed the connection (code {})", u16::from(cf.code)),
                        None => "server closed the connection".into(),
                    }),
                    Some(Ok(Message::Pong(_))) => { pong_deadline = None; continue; }
                    Some(Ok(Message::Ping(_))) | Some(Ok(Message::Frame(_))) => continue,
                    Some(Ok(Message::Binary(b))) => NetEvent::Malformed {
                        reason: format!("binary frame of {} bytes (the protocol uses text frames)", b.len()),
                    },
                    Some(Ok(Message::Text(t))) => parse_text(t.as_str()),
                };
                // Any traffic proves the peer alive.
                pong_deadline = None;
                if events.send(ev).await.is_err() {
                    return SessionEnd::Shutdown;
                }
            }
        }
    }
}

/// Turn one text frame into an event. Public so benchmarks and fuzzers drive the real path.
pub fn parse_text(text: &str) -> NetEvent {
    match ServerMsg::parse(text) {
        ServerMsg::Rtp(hex) => {
            let mut bytes = Vec::new();
            if let Err(e) = protocol::decode_rtp_hex(hex, &mut bytes) {
                return NetEvent::Malformed { reason: format!("RTP frame is not valid hex ({e})") };
            }
            match RtpFrame::from_bytes(bytes, Instant::now()) {
                Ok(f) => NetEvent::Rtp(f),
                Err(e) => NetEvent::Malformed { reason: format!("RTP frame is not valid RTP: {e}") },
            }
        }
        ServerMsg::WavAck(a) => NetEvent::WavAck(a.to_string()),
        ServerMsg::Status(s) => NetEvent::Status(s.to_string()),
    }
}
