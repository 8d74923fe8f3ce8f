//! The embedded demo peer: the server side of the protocol with a simulated call, so a new
//! user (and every test) can see sipdeck work without a gateway or a SIP server.
//!
//! It is the gateway's session (`server::session`: handshake, commands, uploads, writer) with
//! a simulated call behind it (`call`, streaming from `stream`): `CALL:` answers with
//! "Calling", "Ringing", "Call answered" and then a mu-law tone as RTP at 50 packets/s;
//! `HANGUP` stops it; `PLAY_WAV` streams an upload back as RTP, in a call or not. Numbers
//! ending in 486 are busy, to show a failed call.

mod call;
mod stream;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use call::{SimulatedCalls, SimulatedLine};

use crate::server::listen::{accept_clients, ClientCaps};
use crate::server::session::{SessionLimits, SessionShared};
use crate::server::store::UploadStore;

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
    let dir = cfg.store.clone().context("demo peer needs an upload folder")?;
    let store = UploadStore::open(&dir).with_context(|| format!("upload folder {}", dir.display()))?;
    let shared = Arc::new(SessionShared { backend: SimulatedCalls { cfg }, store, token: None, limits: SessionLimits::default(), metrics: Default::default(), drain: Default::default() });
    accept_clients(listener, shared, ClientCaps::default(), std::future::pending()).await;
    Ok(())
}
