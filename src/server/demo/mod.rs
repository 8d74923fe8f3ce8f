//! The embedded demo peer: the server side of the protocol with a simulated call, so a new
//! user (and every test) can see sipdeck work without a gateway or a SIP server.
//!
//! `CALL:` answers with "Calling", "Ringing", "Call answered" and then a mu-law tone as RTP
//! at 50 packets/s; `HANGUP` stops it; uploads are checked and kept in a folder; `PLAY_WAV`
//! streams a kept file back as RTP. Numbers ending in 486 are busy, to show a failed call.

mod media;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::core::protocol::{self, ClientMsg, WavName, SUBPROTOCOL};
use media::{MediaCmd, Media};

/// How the demo peer behaves. `Default` is the friendly demo; tests tune it.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub ring_after: Duration,
    pub answer_after: Duration,
    pub tone_hz: f64,
    pub packet_interval: Duration,
    /// Drop every Nth RTP packet (its sequence number is used up: real loss).
    pub drop_every: Option<u32>,
    /// Send every Nth packet after the one that follows it.
    pub reorder_every: Option<u32>,
    /// Close the connection without a close frame after this many RTP packets.
    pub close_after_packets: Option<u64>,
    /// Where uploads are kept; a temporary folder when `None`.
    pub store: Option<PathBuf>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            ring_after: Duration::from_millis(300),
            answer_after: Duration::from_millis(700),
            tone_hz: 440.0,
            packet_interval: Duration::from_millis(20),
            drop_every: None,
            reorder_every: None,
            close_after_packets: None,
            store: None,
        }
    }
}

/// A running demo peer.
pub struct DemoServer {
    pub addr: SocketAddr,
    pub task: JoinHandle<()>,
    /// Keeps a temporary upload folder alive as long as the server.
    _store: Option<tempfile::TempDir>,
}

impl DemoServer {
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bind a free loopback port and serve there.
pub async fn start(cfg: DemoConfig) -> anyhow::Result<DemoServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await.context("binding a loopback port for the demo peer")?;
    let addr = listener.local_addr()?;
    let (store, tmp) = match cfg.store.clone() {
        Some(p) => (p, None),
        None => {
            let t = tempfile::Builder::new().prefix("sipdeck-demo-").tempdir().context("creating the demo upload folder")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let cfg = DemoConfig { store: Some(store), ..cfg };
    let task = tokio::spawn(async move {
        if let Err(e) = serve(listener, cfg).await {
            tracing::error!("demo peer stopped: {e:#}");
        }
    });
    Ok(DemoServer { addr, task, _store: tmp })
}

/// Accept clients on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, cfg: DemoConfig) -> anyhow::Result<()> {
    let store = cfg.store.clone().context("demo peer needs an upload folder")?;
    std::fs::create_dir_all(&store).with_context(|| format!("creating {}", store.display()))?;
    let shared = Arc::new(Shared { cfg, store, names: Mutex::new(HashSet::new()) });
    loop {
        let (stream, peer) = listener.accept().await?;
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = client(stream, shared).await {
                tracing::debug!("demo client {peer}: {e:#}");
            }
        });
    }
}

struct Shared {
    cfg: DemoConfig,
    store: PathBuf,
    names: Mutex<HashSet<WavName>>,
}

/// Answer the subprotocol when the client asks for it, as the reference gateway does.
#[allow(clippy::result_large_err)]
fn negotiate(req: &Request, mut resp: Response) -> Result<Response, tokio_tungstenite::tungstenite::handshake::server::ErrorResponse> {
    let asked = req
        .headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL);
    if asked {
        resp.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
    }
    Ok(resp)
}

async fn client(stream: TcpStream, shared: Arc<Shared>) -> anyhow::Result<()> {
    let config = WebSocketConfig::default()
        .max_message_size(Some(protocol::MAX_FRAME_BYTES))
        .max_frame_size(Some(protocol::MAX_FRAME_BYTES));
    let ws = tokio_tungstenite::accept_hdr_async_with_config(stream, negotiate, Some(config)).await?;
    let (mut sink, mut source) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Out>(1024);
    let writer = tokio::spawn(async move {
        while let Some(out) = out_rx.recv().await {
            match out {
                Out::Text(t) => {
                    if sink.send(Message::text(t)).await.is_err() {
                        break;
                    }
                }
                // Simulate a crash: drop the socket without a close frame.
                Out::Abort => break,
            }
        }
    });
    let media = Media::spawn(shared.cfg.clone(), out_tx.clone());
    let mut session = Session { shared, out: out_tx, media, call: None };
    let mut writer = writer;
    loop {
        tokio::select! {
            frame = source.next() => match frame {
                Some(Ok(Message::Text(t))) => session.on_text(t.as_str()).await,
                Some(Ok(Message::Binary(_))) => session.say("Error: binary frames are not part of the protocol").await,
                Some(Ok(Message::Close(_))) | None => break,
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    session.hang_up_quietly().await;
                    return Err(e.into());
                }
            },
            // The writer ends when the client is gone or a crash is simulated: dropping
            // both halves closes the socket without a close frame.
            _ = &mut writer => {
                session.hang_up_quietly().await;
                return Ok(());
            }
        }
    }
    session.hang_up_quietly().await;
    drop(session);
    let _ = writer.await;
    Ok(())
}

pub(crate) enum Out {
    Text(String),
    Abort,
}

struct Session {
    shared: Arc<Shared>,
    out: mpsc::Sender<Out>,
    media: mpsc::Sender<MediaCmd>,
    /// The simulated call's progress task while a call exists.
    call: Option<JoinHandle<()>>,
}

impl Session {
    async fn say(&self, text: impl Into<String>) {
        let _ = self.out.send(Out::Text(text.into())).await;
    }

    async fn on_text(&mut self, text: &str) {
        match ClientMsg::parse(text) {
            Ok(ClientMsg::Call(n)) => self.on_call(n).await,
            Ok(ClientMsg::Hangup) => self.on_hangup().await,
            Ok(ClientMsg::WavUpload { name, data }) => self.on_upload(name, data).await,
            Ok(ClientMsg::PlayWav(name)) => self.on_play(name).await,
            Err(e) => self.say(format!("Error: {e}")).await,
        }
    }

    async fn on_call(&mut self, number: protocol::Number) {
        if self.call.as_ref().is_some_and(|c| !c.is_finished()) {
            self.say("Error: a call is already in progress; send HANGUP first").await;
            return;
        }
        self.say(format!("Calling {number}")).await;
        let (out, media, cfg) = (self.out.clone(), self.media.clone(), self.shared.cfg.clone());
        let busy = number.as_str().ends_with("486");
        self.call = Some(tokio::spawn(async move {
            tokio::time::sleep(cfg.ring_after).await;
            let _ = out.send(Out::Text("Ringing".into())).await;
            tokio::time::sleep(cfg.answer_after).await;
            if busy {
                let _ = out.send(Out::Text("Call failed: 486 Busy Here".into())).await;
                return;
            }
            let _ = out.send(Out::Text("Call answered".into())).await;
            let _ = media.send(MediaCmd::Tone(true)).await;
            // The call lasts until HANGUP; this task just holds its place.
            std::future::pending::<()>().await;
        }));
    }

    async fn on_hangup(&mut self) {
        match self.call.take() {
            Some(c) if !c.is_finished() => {
                c.abort();
                let _ = self.media.send(MediaCmd::StopAll).await;
                self.say("Call ended").await;
            }
            _ => self.say("Error: no call in progress").await,
        }
    }

    async fn hang_up_quietly(&mut self) {
        if let Some(c) = self.call.take() {
            c.abort();
        }
        let _ = self.media.send(MediaCmd::StopAll).await;
    }

    async fn on_upload(&mut self, name: WavName, data: Vec<u8>) {
        if !name.has_wav_extension() {
            self.say(format!("Error: upload refused: {name} does not end in .wav")).await;
            return;
        }
        if let Err(e) = crate::core::wav::parse_header(&data) {
            self.say(format!("Error: upload refused: {name} is not a valid WAV file ({e})")).await;
            return;
        }
        let path = self.shared.store.join(name.as_str());
        let len = data.len();
        let saved = tokio::task::spawn_blocking(move || crate::server::files::save_atomic(&path, &data)).await;
        match saved {
            Ok(Ok(())) => {
                self.shared.names.lock().await.insert(name.clone());
                self.say(format!("WAV_ACK:{name} ({len} bytes)")).await;
            }
            Ok(Err(e)) => self.say(format!("Error: could not store {name}: {e}")).await,
            Err(e) => self.say(format!("Error: could not store {name}: {e}")).await,
        }
    }

    async fn on_play(&mut self, name: WavName) {
        if !self.shared.names.lock().await.contains(&name) {
            self.say(format!("Error: no such file: {name} (upload it first)")).await;
            return;
        }
        let path = self.shared.store.join(name.as_str());
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) => return self.say(format!("Error: cannot read {name}: {e}")).await,
        };
        match crate::core::wav::phone_ulaw(&bytes) {
            Ok(ulaw) => {
                let secs = ulaw.len() as f64 / 8000.0;
                let mode = if self.call.as_ref().is_some_and(|c| !c.is_finished()) { "" } else { " (no call: played back to you only)" };
                self.say(format!("Playing {name} ({secs:.1} s){mode}")).await;
                let _ = self.media.send(MediaCmd::Play { name, ulaw: ulaw.into_owned() }).await;
            }
            Err(e) => self.say(format!("Error: cannot play {name}: {e}")).await,
        }
    }
}
