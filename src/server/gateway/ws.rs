//! One WebSocket client: the handshake, its commands, its call, and what goes back to it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::call::{Call, CallContext};
use super::handshake;
use super::outbox::Outbox;
use super::store::Store;
use crate::core::protocol::{self, ClientMsg, Number, WavName};
use crate::core::convert::{self, Length};
use crate::core::wav;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a leaving client's call gets to send its BYE or CANCEL.
pub const HANGUP_GRACE: Duration = Duration::from_secs(3);

/// What every session shares.
pub struct Shared {
    pub calls: CallContext,
    pub store: Store,
    pub token: Option<String>,
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(protocol::MAX_FRAME_BYTES))
        .max_frame_size(Some(protocol::MAX_FRAME_BYTES))
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;
type Sink = futures_util::stream::SplitSink<Ws, Message>;
type Frames = futures_util::stream::SplitStream<Ws>;

/// How a session's read loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    ClientLeft,
    Shutdown,
}

/// Serve one client until it leaves or `shutdown` fires; its call is hung up either way.
pub async fn session(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>, shutdown: CancellationToken) {
    let Some(ws) = accept(stream, peer, shared.token.clone()).await else { return };
    tracing::info!(%peer, "client connected");
    let (sink, frames) = ws.split();
    let (out, queue) = Outbox::new();
    let (close_tx, close_rx) = mpsc::channel::<CloseFrame>(1);
    let writer = tokio::spawn(write_frames(sink, queue, close_rx));

    let mut client = Client { shared, out, call: None };
    let ending = client.read_commands(frames, peer, &shutdown).await;
    if let Some(call) = client.call.take() {
        call.finish(HANGUP_GRACE).await;
    }
    // The close frame goes in while the outbox is still open: were every sender gone
    // first, the writer could see the queue end and close without the 1001.
    if ending == Ending::Shutdown {
        let _ = close_tx.send(CloseFrame { code: CloseCode::Away, reason: "gateway shutting down".into() }).await;
    }
    drop(close_tx);
    drop(client);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    tracing::info!(%peer, "client gone");
}

/// The handshake, bounded in time so a silent connection cannot hold a task for ever.
async fn accept(stream: TcpStream, peer: SocketAddr, token: Option<String>) -> Option<Ws> {
    #[allow(clippy::result_large_err)] // tungstenite's callback signature
    let accept = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        move |req: &_, resp| handshake::answer(req, resp, token.as_deref()),
        Some(ws_config()),
    );
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
        Ok(Ok(ws)) => Some(ws),
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "handshake refused");
            None
        }
        Err(_) => {
            tracing::info!(%peer, "handshake timed out");
            None
        }
    }
}

/// The only writer of the socket: everything queued in the session's outbox, in order.
/// When the session ends (with a close frame if the gateway stops), what is still queued
/// goes out first, so the client hears "Call ended".
async fn write_frames(mut sink: Sink, mut queue: mpsc::Receiver<String>, mut close: mpsc::Receiver<CloseFrame>) {
    loop {
        tokio::select! {
            biased;
            frame = close.recv() => {
                while let Ok(text) = queue.try_recv() {
                    if sink.send(Message::text(text)).await.is_err() {
                        return;
                    }
                }
                if let Some(frame) = frame {
                    let _ = sink.send(Message::Close(Some(frame))).await;
                }
                break;
            }
            text = queue.recv() => match text {
                Some(text) => if sink.send(Message::text(text)).await.is_err() { return },
                None => break,
            },
        }
    }
    let _ = sink.close().await;
}

struct Client {
    shared: Arc<Shared>,
    out: Outbox,
    call: Option<Call>,
}

impl Client {
    async fn read_commands(&mut self, mut frames: Frames, peer: SocketAddr, shutdown: &CancellationToken) -> Ending {
        loop {
            tokio::select! {
                frame = frames.next() => match frame {
                    Some(Ok(Message::Text(text))) => self.command(text.as_str()).await,
                    Some(Ok(Message::Binary(_))) => {
                        self.out.line("Error: binary frames are not part of the protocol; send text").await
                    }
                    Some(Ok(Message::Close(_))) | None => return Ending::ClientLeft,
                    Some(Ok(_)) => {} // ping/pong are answered by tungstenite
                    Some(Err(e)) => {
                        tracing::info!(%peer, error = %e, "client connection lost");
                        return Ending::ClientLeft;
                    }
                },
                _ = shutdown.cancelled() => return Ending::Shutdown,
            }
        }
    }

    /// The live call, forgetting one that has ended.
    fn live_call(&mut self) -> Option<&Call> {
        if self.call.as_ref().is_some_and(Call::is_over) {
            self.call = None;
        }
        self.call.as_ref()
    }

    async fn command(&mut self, text: &str) {
        let msg = match ClientMsg::parse(text) {
            Ok(m) => m,
            Err(e) => return self.out.line(format!("Error: {e}")).await,
        };
        tracing::debug!(command = %msg.summary(), "client command");
        match msg {
            ClientMsg::Call(number) => self.call(number).await,
            ClientMsg::Hangup => match self.live_call() {
                Some(call) => call.hangup().await,
                None => self.out.line("Error: there is no call in progress").await,
            },
            ClientMsg::WavUpload { name, data } => self.upload(name, data).await,
            ClientMsg::PlayWav(name) => self.play(name).await,
        }
    }

    async fn call(&mut self, number: Number) {
        if self.live_call().is_some() {
            return self.out.line("Error: a call is already in progress").await;
        }
        self.call = Some(Call::start(self.shared.calls.clone(), number, self.out.clone()));
    }

    async fn upload(&mut self, name: WavName, data: Vec<u8>) {
        let line = match self.shared.store.save(&name, data).await {
            Ok(bytes) => format!("WAV_ACK:{name} ({bytes} bytes)"),
            Err(e) => format!("Error: upload of {name} refused: {e}"),
        };
        self.out.line(line).await;
    }

    async fn play(&mut self, name: WavName) {
        if self.live_call().is_none() {
            return self.out.line(format!("Error: cannot play {name}: there is no call in progress")).await;
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
        if let Some(call) = self.live_call() {
            call.play(name, ulaw).await;
        }
    }
}

/// The 8 kHz mu-law of a stored WAV: mu-law as it is, A-law and 16-bit PCM at 8 kHz mono
/// transcoded, anything else decoded, mixed to mono and resampled by the core's converter
/// (as much as fits in one upload's worth of audio).
pub fn phone_audio(file: &[u8]) -> Result<Vec<u8>, String> {
    if let Ok(ulaw) = wav::phone_ulaw(file) {
        return Ok(ulaw.into_owned());
    }
    let converted = convert::convert(file, Length::FirstPart).map_err(|e| e.to_string())?;
    wav::phone_ulaw(&converted.wav).map(|u| u.into_owned())
}
