//! One WebSocket client of either server: the handshake, its commands, its line (the call
//! behind it) and the writer that sends everything back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::core::protocol::{ClientMsg, DtmfDigits, Number, WavName};
use crate::server::call::{CallBackend, CallLine};
use crate::server::drain::{Drain, DRAIN_LINE};
use crate::server::handshake;
use crate::server::media::phone_audio;
use crate::server::metrics::Metrics;
use crate::server::outbox::{write_frames, ClientOutbox};
use crate::server::store::UploadStore;

/// How long a leaving client's call gets to send its BYE or CANCEL.
pub const HANGUP_GRACE: Duration = Duration::from_secs(3);

/// What every session of one server shares.
pub struct SessionShared<B> {
    pub backend: B,
    pub store: UploadStore,
    pub token: Option<String>,
    pub limits: SessionLimits,
    pub metrics: Arc<Metrics>,
    pub drain: Drain,
}

/// How long a client may take, and how it is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A connection that has not finished the handshake (and, with a token, so proved who
    /// it is) by then is dropped.
    pub handshake_timeout: Duration,
    /// Ping the client this often; one that sends nothing, not even a pong, for two of
    /// these is taken for dead and dropped (its call hung up). `None`: no pings.
    pub ping_interval: Option<Duration>,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits { handshake_timeout: Duration::from_secs(10), ping_interval: Some(Duration::from_secs(20)) }
    }
}

type Frames = futures_util::stream::SplitStream<handshake::Ws>;

/// How a session's read loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    ClientLeft,
    /// No frame at all (not even a pong) for two ping intervals.
    ClientSilent,
    /// A frame over the protocol's limit.
    TooBig,
    Shutdown,
    /// The server drains and this client has no call (left): it should reconnect.
    Draining,
}

impl Ending {
    /// The close frame this ending sends, if any.
    fn close_frame(self) -> Option<CloseFrame> {
        let (code, reason) = match self {
            Ending::ClientLeft | Ending::ClientSilent => return None,
            Ending::TooBig => (CloseCode::Size, format!("frame over the limit of {} bytes", crate::core::protocol::MAX_FRAME_BYTES)),
            Ending::Shutdown => (CloseCode::Away, "server shutting down".to_string()),
            Ending::Draining => (CloseCode::Restart, "server draining: reconnect".to_string()),
        };
        Some(CloseFrame { code, reason: reason.into() })
    }
}

/// Serve one client until it leaves or `shutdown` fires; its call is hung up either way.
pub async fn serve_client<B: CallBackend>(stream: TcpStream, peer: SocketAddr, shared: Arc<SessionShared<B>>, shutdown: CancellationToken) {
    let Some(ws) = handshake::accept(stream, peer, shared.token.clone(), shared.limits.handshake_timeout).await else {
        return shared.metrics.refused("handshake");
    };
    let _counted = shared.metrics.client_connected();
    tracing::info!(%peer, "client connected");
    let (sink, frames) = ws.split();
    let (out, queue) = ClientOutbox::metered(shared.metrics.rtp());
    let (close_tx, close_rx) = mpsc::channel::<CloseFrame>(1);
    let mut writer = tokio::spawn(write_frames(sink, queue, close_rx));

    let line = shared.backend.open_line(out.clone());
    let mut session = ClientSession { shared, out, line: Some(line) };
    let mut frames = frames;
    let ending = session.read_commands(&mut frames, peer, &shutdown, &mut writer).await;
    if let Some(line) = session.line.take() {
        line.close(HANGUP_GRACE).await;
    }
    if ending == Ending::Draining {
        session.out.line(DRAIN_LINE).await;
    }
    // The close frame goes in while the outbox is still open: were every sender gone
    // first, the writer could see the queue end and close without it.
    if let Some(frame) = ending.close_frame() {
        let _ = close_tx.send(frame).await;
    }
    drop(close_tx);
    drop(session);
    if ending == Ending::TooBig {
        // Read on a moment, so the rest of the oversized frame is not answered with a
        // reset that would hide the close frame from the client.
        let _ = tokio::time::timeout(Duration::from_secs(1), async { while frames.next().await.is_some() {} }).await;
    }
    if !writer.is_finished() {
        let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    }
    tracing::info!(%peer, "client gone");
}

struct ClientSession<B: CallBackend> {
    shared: Arc<SessionShared<B>>,
    out: ClientOutbox,
    /// `None` only while the session is closing.
    line: Option<B::Line>,
}

impl<B: CallBackend> ClientSession<B> {
    async fn read_commands<W>(&mut self, frames: &mut Frames, peer: SocketAddr, shutdown: &CancellationToken, writer: &mut W) -> Ending
    where
        W: std::future::Future + Unpin,
    {
        let ping_every = self.shared.limits.ping_interval;
        let mut pings = ping_every.map(|every| tokio::time::interval_at(tokio::time::Instant::now() + every, every));
        let mut last_heard = Instant::now();
        let mut drain = self.shared.drain.watch();
        loop {
            let ping_due = async {
                match pings.as_mut() {
                    Some(p) => p.tick().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = ping_due => {
                    let every = ping_every.unwrap_or_default();
                    if last_heard.elapsed() > every * 2 {
                        tracing::info!(%peer, "client answers no pings: dropped");
                        return Ending::ClientSilent;
                    }
                    self.out.ping();
                }
                frame = frames.next() => {
                    last_heard = Instant::now();
                    match frame {
                    Some(Ok(Message::Text(text))) => self.command(text.as_str()).await,
                    Some(Ok(Message::Binary(_))) => {
                        self.out.line("Error: binary frames are not part of the protocol; send text").await
                    }
                    Some(Ok(Message::Close(_))) | None => return Ending::ClientLeft,
                    Some(Ok(_)) => {} // ping/pong are answered by tungstenite
                    Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(e))) => {
                        tracing::info!(%peer, error = %e, "client sent a frame over the limit");
                        return Ending::TooBig;
                    }
                    Some(Err(e)) => {
                        tracing::info!(%peer, error = %e, "client connection lost");
                        return Ending::ClientLeft;
                    }
                    }
                }
                // The writer stops first when the socket failed or a crash is simulated.
                _ = &mut *writer => return Ending::ClientLeft,
                _ = shutdown.cancelled() => return Ending::Shutdown,
                // Draining: a client leaves once it has no call (at once, or when it ends).
                _ = drain.tick() => if !self.line().in_call() { return Ending::Draining },
            }
        }
    }

    fn line(&mut self) -> &mut B::Line {
        self.line.as_mut().expect("the line lives as long as the read loop")
    }

    async fn command(&mut self, text: &str) {
        let msg = match ClientMsg::parse(text) {
            Ok(m) => m,
            Err(e) => return self.out.line(format!("Error: {e}")).await,
        };
        tracing::debug!(command = %msg.summary(), "client command");
        match msg {
            ClientMsg::Call(number) => self.call(number).await,
            ClientMsg::Hangup => self.hangup().await,
            ClientMsg::WavUpload { name, data } => self.upload(name, data).await,
            ClientMsg::PlayWav(name) => self.play(name).await,
            ClientMsg::Dtmf(digits) => self.dtmf(digits).await,
        }
    }

    async fn call(&mut self, number: Number) {
        if self.line().in_call() {
            return self.out.line("Error: a call is already in progress").await;
        }
        if self.shared.drain.is_draining() {
            return self.out.line(format!("Error: no new calls: {DRAIN_LINE}")).await;
        }
        self.line().dial(number).await;
    }

    async fn hangup(&mut self) {
        if !self.line().in_call() {
            return self.out.line("Error: there is no call in progress").await;
        }
        self.line().hangup().await;
    }

    async fn dtmf(&mut self, digits: DtmfDigits) {
        if !self.line().in_call() {
            return self.out.line(format!("Error: cannot send DTMF {digits}: there is no call in progress")).await;
        }
        self.line().dtmf(digits).await;
    }

    async fn upload(&mut self, name: WavName, data: Vec<u8>) {
        let line = match self.shared.store.save(&name, data).await {
            Ok(bytes) => {
                self.shared.metrics.uploaded();
                format!("WAV_ACK:{name} ({bytes} bytes)")
            }
            Err(e) => format!("Error: upload of {name} refused: {e}"),
        };
        self.out.line(line).await;
    }

    async fn play(&mut self, name: WavName) {
        if let Err(why) = self.line().can_play() {
            return self.out.line(format!("Error: cannot play {name}: {why}")).await;
        }
        let file = match self.shared.store.load(&name).await {
            Ok(f) => f,
            Err(e) => return self.out.line(format!("Error: cannot play {name}: {e}")).await,
        };
        let ulaw = match tokio::task::spawn_blocking(move || phone_audio(&file)).await {
            Ok(Ok(u)) => u,
            Ok(Err(e)) => return self.out.line(format!("Error: cannot play {name}: {e}")).await,
            Err(e) => return self.out.line(format!("Error: cannot play {name}: {e}")).await,
        };
        self.shared.metrics.played();
        self.line().play(name, ulaw).await;
    }
}
