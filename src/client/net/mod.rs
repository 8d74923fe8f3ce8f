//! The client's network actor. It owns the WebSocket, turns frames into typed [`NetEvent`]s
//! and takes [`NetCommand`]s. It never draws; the UI only sees its events.
//!
//! Under load the event channel is bounded and the actor waits on it: a slow UI slows the
//! socket reader (TCP flow control pushes back on the server) instead of dropping audio.
//! Events that arrive close together travel as one [`NetEvent::Batch`] (see `Outbox`), so a
//! flood costs the UI thread one wake-up per few hundred packets.

mod backoff;
mod connect;
mod errors;
mod live;
mod parse;
mod tls;

pub use backoff::Backoff;
pub use errors::describe_ws_error;
pub use tls::client_config_with_ca;
pub use parse::{parse_text, parse_text_at, FrameParser};

use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::core::protocol::ClientMsg;
use crate::core::rtp::{self, RtpHeader};

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
    /// TLS settings for wss:// (e.g. a private CA); the web PKI roots when `None`.
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// Sent as `Authorization: Bearer <token>` on the handshake (sipdeck's own extension;
    /// servers that do not check it ignore the header).
    pub token: Option<String>,
}

impl NetConfig {
    pub fn new(url: impl Into<String>) -> NetConfig {
        NetConfig {
            url: url.into(),
            ping_interval: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            backoff: Some(Backoff::default()),
            tls: None,
            token: None,
        }
    }
}

/// What the UI asks of the actor (named apart from the app's menu actions).
#[derive(Debug)]
pub enum NetCommand {
    Send(ClientMsg),
    /// Connect now instead of waiting for the next backoff attempt.
    ReconnectNow,
    Shutdown,
}

/// One received RTP packet, already parsed once here so the UI does not parse it again.
#[derive(Debug, Clone)]
pub struct RtpFrame {
    pub header: RtpHeader,
    /// The whole packet. The actor carves these out of shared blocks (see [`FrameParser`]).
    pub bytes: Bytes,
    pub payload_offset: usize,
    pub payload_len: usize,
    pub arrival: Instant,
}

impl RtpFrame {
    pub fn payload(&self) -> &[u8] {
        &self.bytes[self.payload_offset..self.payload_offset + self.payload_len]
    }

    /// Parse a decoded packet into a frame (the same checks the actor makes).
    pub fn from_bytes(bytes: impl Into<Bytes>, arrival: Instant) -> Result<RtpFrame, rtp::RtpError> {
        let bytes = bytes.into();
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
    /// Events received together, in order (one channel item so the UI wakes once for them).
    Batch(Vec<NetEvent>),
}

/// Start the actor on the current tokio runtime.
pub fn spawn(cfg: NetConfig) -> (mpsc::Sender<NetCommand>, mpsc::Receiver<NetEvent>) {
    install_crypto();
    let (cmd_tx, cmd_rx) = mpsc::channel(64);
    // Items are often batches of up to READ_BATCH events: at most 4096 events wait, and one
    // `recv_many` of the UI folds at most that many before keys and the tick get a look.
    let (ev_tx, ev_rx) = mpsc::channel(16);
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

/// How one live connection ended.
pub(super) enum SessionEnd {
    Lost(String),
    Shutdown,
}

async fn run(cfg: NetConfig, mut cmds: mpsc::Receiver<NetCommand>, events: mpsc::Sender<NetEvent>) {
    let mut backoff = cfg.backoff.clone();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        if events.send(NetEvent::Connecting { attempt }).await.is_err() {
            return;
        }
        let reason = match connect::connect(&cfg, &events).await {
            Ok(ws) => {
                attempt = 0;
                if let Some(b) = backoff.as_mut() {
                    b.reset();
                }
                match live::session(&cfg, ws, &mut cmds, &events).await {
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
    cmds: &mut mpsc::Receiver<NetCommand>,
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
                None | Some(NetCommand::Shutdown) => return false,
                Some(NetCommand::ReconnectNow) => return true,
                Some(NetCommand::Send(msg)) => {
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
