//! What a session sends to its WebSocket client: status lines, acks and RTP frames, all
//! through one bounded queue drained by the session's writer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

/// Frames waiting for a slow client before RTP is dropped (about 20 s of audio).
pub const QUEUE_FRAMES: usize = 1024;

#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::Sender<String>,
    rtp_dropped: Arc<AtomicU64>,
}

impl Outbox {
    pub fn new() -> (Outbox, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(QUEUE_FRAMES);
        (Outbox { tx, rtp_dropped: Arc::new(AtomicU64::new(0)) }, rx)
    }

    /// A status line, an ack or an error: waits for room, never dropped while the client
    /// is connected.
    pub async fn line(&self, text: impl Into<String>) {
        // A closed queue means the client is gone; there is no one left to tell.
        let _ = self.tx.send(text.into()).await;
    }

    /// An `RTP:` frame. Real-time audio must not stall the socket reader behind a slow
    /// client, so when the queue is full the frame is dropped and counted (and logged),
    /// never silently.
    pub fn rtp(&self, frame: String) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(frame) {
            let n = self.rtp_dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "client is too slow: RTP frames dropped");
            }
        }
    }

    pub fn rtp_dropped(&self) -> u64 {
        self.rtp_dropped.load(Ordering::Relaxed)
    }
}
