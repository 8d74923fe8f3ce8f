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
use crate::protocol::{self, ClientMsg, Number, WavName};
use crate::wav;

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

/// Serve one client until it leaves or `shutdown` fires; its call is hung up either way.
pub async fn session(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>, shutdown: CancellationToken) {
    let token = shared.token.clone();
    #[allow(clippy::result_large_err)] // tungstenite's callback signature
    let accept = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        move |req: &_, resp| handshake::answer(req, resp, token.as_deref()),
        Some(ws_config()),
    );
    let ws = match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "handshake refused");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, "handshake timed out");
            return;
        }
    };
    tracing::info!(%peer, "client connected");
    let (mut sink, mut frames) = ws.split();
    let (out, mut queue) = Outbox::new();
    let (close_tx, mut close_rx) = mpsc::channel::<CloseFrame>(1);
    let writer = tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                // The session is over (with a close frame when the gateway stops): flush
                // what is queued first, so the client hears "Call ended".
                frame = close_rx.recv() => {
                    while let Ok(text) = queue.try_recv() {
                        if sink.send(Message::text(text)).await.is_err() { return }
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
    });

    let mut client = Client { shared, out: out.clone(), call: None };
    let ended_by_shutdown = loop {
        tokio::select! {
            frame = frames.next() => match frame {
                Some(Ok(Message::Text(text))) => client.command(text.as_str()).await,
                Some(Ok(Message::Binary(_))) => client.out.line("Error: binary frames are not part of the protocol; send text").await,
                Some(Ok(Message::Close(_))) | None => break false,
                Some(Ok(_)) => {} // ping/pong are answered by tungstenite
                Some(Err(e)) => {
                    tracing::info!(%peer, error = %e, "client connection lost");
                    break false;
                }
            },
            _ = shutdown.cancelled() => break true,
        }
    };
    if let Some(call) = client.call.take() {
        call.finish(HANGUP_GRACE).await;
    }
    drop(client);
    if ended_by_shutdown {
        let _ = close_tx.send(CloseFrame { code: CloseCode::Away, reason: "gateway shutting down".into() }).await;
    }
    drop(close_tx);
    drop(out);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    tracing::info!(%peer, "client gone");
}

struct Client {
    shared: Arc<Shared>,
    out: Outbox,
    call: Option<Call>,
}

impl Client {
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
        let ulaw = match wav::phone_ulaw(&file) {
            Ok(u) => u.into_owned(),
            Err(e) => return self.out.line(format!("Error: cannot play {name}: {e}")).await,
        };
        if let Some(call) = self.live_call() {
            call.play(name, ulaw).await;
        }
    }
}
