//! The client's network actor. It owns the WebSocket, turns frames into typed [`NetEvent`]s
//! and takes [`Command`]s. It never draws; the UI only sees its events.
//!
//! Under load the event channel is bounded and the actor waits on it: a slow UI slows the
//! socket reader (TCP flow control pushes back on the server) instead of dropping audio.
//! Events that arrive close together travel as one [`NetEvent::Batch`] (see `Outbox`), so a
//! flood costs the UI thread one wake-up per few hundred packets.

mod backoff;
mod errors;
mod tls;
mod parse;

pub use backoff::Backoff;
pub use errors::describe_ws_error;
pub use tls::client_config_with_ca;
pub use parse::{parse_text, parse_text_at, FrameParser};

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::core::protocol::{self, ClientMsg, SUBPROTOCOL};
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
pub fn spawn(cfg: NetConfig) -> (mpsc::Sender<Command>, mpsc::Receiver<NetEvent>) {
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
    let connector = cfg.tls.clone().map(tokio_tungstenite::Connector::Rustls);
    let fut = tokio_tungstenite::connect_async_tls_with_config(req, Some(ws_config()), true, connector);
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
    let mut out = Outbox::default();
    let mut parser = FrameParser::default();
    // Every way out hands over what is waiting first, so the UI sees it before the end.
    macro_rules! flush_or_shutdown {
        () => {
            if !out.flush(events).await {
                return SessionEnd::Shutdown;
            }
        };
    }
    loop {
        let deadline = async {
            match pong_deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            cmd = cmds.recv() => {
                flush_or_shutdown!();
                match cmd {
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
                }
            }
            _ = ping.tick() => {
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    flush_or_shutdown!();
                    return SessionEnd::Lost("could not send keep-alive ping".into());
                }
                if pong_deadline.is_none() {
                    pong_deadline = Some(tokio::time::Instant::now() + cfg.pong_timeout);
                }
            }
            _ = deadline => {
                flush_or_shutdown!();
                return SessionEnd::Lost(format!(
                    "keep-alive failed: no pong within {} s", cfg.pong_timeout.as_secs()));
            }
            _ = out.due() => flush_or_shutdown!(),
            frame = stream.next() => {
                // Any traffic proves the peer alive.
                pong_deadline = None;
                // Take the frames that are already read, with one clock reading, up to a
                // batch: then commands and the keep-alive get their look again.
                let now = Instant::now();
                let mut next = Some(frame);
                let mut taken = 0;
                while let Some(frame) = next.take() {
                    taken += 1;
                    match on_frame(frame, now, &mut parser) {
                        Frame::Event(ev) => out.push(ev),
                        Frame::Pong | Frame::Skip => {}
                        Frame::End(reason) => {
                            flush_or_shutdown!();
                            return SessionEnd::Lost(reason);
                        }
                    }
                    if out.full() {
                        flush_or_shutdown!();
                    }
                    if taken < READ_BATCH {
                        next = ready_frame(&mut stream).await;
                    }
                }
            }
        }
    }
}

/// Events handed to the UI at most this many at a time.
const READ_BATCH: usize = 256;
/// The longest an event waits for others to share its hand-over: far below a frame (33 ms),
/// so nothing shows later on screen.
const COALESCE: Duration = Duration::from_millis(2);

/// Events on their way to the UI. Under a flood they go as one [`NetEvent::Batch`] of up to
/// [`READ_BATCH`]: one channel item, so the UI thread is woken once per batch rather than once
/// for every handful of packets the socket yields (each wake-up costs the actor a futex call;
/// that was a fifth of its time in `benches/flood.rs`). A lone event waits [`COALESCE`] for
/// company, then goes on its own.
#[derive(Default)]
struct Outbox {
    events: Vec<NetEvent>,
    due: Option<tokio::time::Instant>,
}

impl Outbox {
    fn push(&mut self, ev: NetEvent) {
        self.due.get_or_insert_with(|| tokio::time::Instant::now() + COALESCE);
        self.events.push(ev);
    }

    fn full(&self) -> bool {
        self.events.len() >= READ_BATCH
    }

    /// Completes when the oldest waiting event has waited long enough.
    async fn due(&self) {
        match self.due {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    }

    /// Send what waits, in order, with one reservation. False when the UI is gone.
    async fn flush(&mut self, events: &mpsc::Sender<NetEvent>) -> bool {
        self.due = None;
        if self.events.is_empty() {
            return true;
        }
        let ev = if self.events.len() == 1 {
            self.events.pop().expect("one event")
        } else {
            NetEvent::Batch(std::mem::replace(&mut self.events, Vec::with_capacity(READ_BATCH)))
        };
        events.send(ev).await.is_ok()
    }
}

type WsStream = futures_util::stream::SplitStream<Ws>;
type WsItem = Option<Result<Message, tungstenite::Error>>;

/// The next frame if it can be had without waiting.
async fn ready_frame(stream: &mut WsStream) -> Option<WsItem> {
    std::future::poll_fn(|cx| match stream.poll_next_unpin(cx) {
        std::task::Poll::Ready(item) => std::task::Poll::Ready(Some(item)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// What one frame means for the session.
enum Frame {
    Event(NetEvent),
    Pong,
    Skip,
    End(String),
}

fn on_frame(frame: WsItem, now: Instant, parser: &mut FrameParser) -> Frame {
    match frame {
        None => Frame::End("connection closed by the server".into()),
        Some(Err(e)) => Frame::End(describe_ws_error(&e)),
        Some(Ok(Message::Close(cf))) => Frame::End(match cf {
            Some(cf) if !cf.reason.is_empty() => format!("server closed the connection: {} {}", u16::from(cf.code), cf.reason),
            Some(cf) => format!("server closed the connection (code {})", u16::from(cf.code)),
            None => "server closed the connection".into(),
        }),
        Some(Ok(Message::Pong(_))) => Frame::Pong,
        Some(Ok(Message::Ping(_))) | Some(Ok(Message::Frame(_))) => Frame::Skip,
        Some(Ok(Message::Binary(b))) => Frame::Event(NetEvent::Malformed {
            reason: format!("binary frame of {} bytes (the protocol uses text frames)", b.len()),
        }),
        Some(Ok(Message::Text(t))) => Frame::Event(parser.parse(t.as_str(), now)),
    }
}

