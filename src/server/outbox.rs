//! What a session sends to its WebSocket client: status lines, acks and RTP frames, all
//! through one bounded queue, and the writer task that is the only one to write the socket.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{Sink, SinkExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use crate::server::metrics::RtpMeter;

/// Frames waiting for a slow client before RTP is dropped (about 20 s of audio).
pub const QUEUE_FRAMES: usize = 1024;
/// A client hears of dropped RTP frames at most this often.
const DROP_NOTICE_EVERY: Duration = Duration::from_secs(1);

/// One item of a session's queue.
#[derive(Debug, PartialEq, Eq)]
pub enum Outgoing {
    Frame(String),
    /// A WebSocket ping (is the client still there?).
    Ping,
    /// Drop the connection without a close frame (the demo's simulated crash).
    Abort,
}

/// The sending side of a session's queue; cheap to clone, one per task that talks to the
/// client.
#[derive(Debug, Clone)]
pub struct ClientOutbox {
    tx: mpsc::Sender<Outgoing>,
    drops: Arc<DropCount>,
    meter: RtpMeter,
}

/// RTP frames dropped for a slow client, and what it has been told of them.
#[derive(Debug, Default)]
struct DropCount {
    total: AtomicU64,
    /// Dropped since the last notice to the client.
    untold: AtomicU64,
    last_notice: Mutex<Option<Instant>>,
}

impl ClientOutbox {
    pub fn new() -> (ClientOutbox, mpsc::Receiver<Outgoing>) {
        ClientOutbox::with_capacity(QUEUE_FRAMES)
    }

    pub fn with_capacity(frames: usize) -> (ClientOutbox, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(frames);
        (ClientOutbox { tx, drops: Arc::default(), meter: RtpMeter::default() }, rx)
    }

    /// A queue whose RTP is counted in `meter` (the gateway's metrics).
    pub fn metered(meter: RtpMeter) -> (ClientOutbox, mpsc::Receiver<Outgoing>) {
        let (mut out, rx) = ClientOutbox::new();
        out.meter = meter;
        (out, rx)
    }

    /// The RTP counters of this client and its calls.
    pub fn meter(&self) -> &RtpMeter {
        &self.meter
    }

    /// A status line, an ack or an error: waits for room, never dropped while the client
    /// is connected.
    pub async fn line(&self, text: impl Into<String>) {
        // A closed queue means the client is gone; there is no one left to tell.
        let _ = self.tx.send(Outgoing::Frame(text.into())).await;
    }

    /// An `RTP:` frame from a real-time source. It must not stall the socket reader behind
    /// a slow client, so when the queue is full the frame is dropped and counted (and
    /// logged), never silently.
    pub fn rtp(&self, frame: String) {
        // "RTP:" and two hex digits a byte.
        let bytes = frame.len().saturating_sub(4) / 2;
        match self.tx.try_send(Outgoing::Frame(frame)) {
            Ok(()) => {
                self.meter.to_client(bytes);
                if self.drops.untold.load(Ordering::Relaxed) > 0 {
                    self.tell_drops();
                }
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.meter.slow_client.inc();
                self.drops.untold.fetch_add(1, Ordering::Relaxed);
                let n = self.drops.total.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(dropped = n, "client is too slow: RTP frames dropped");
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Once there is room again, tell the client how many frames it lost, at most once
    /// a second, so a gap in its audio is explained.
    fn tell_drops(&self) {
        let mut last = self.drops.last_notice.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < DROP_NOTICE_EVERY) {
            return;
        }
        let n = self.drops.untold.swap(0, Ordering::Relaxed);
        let line = format!("Warning: {n} RTP frames dropped: this connection is too slow for the call's audio");
        if self.tx.try_send(Outgoing::Frame(line)).is_err() {
            self.drops.untold.fetch_add(n, Ordering::Relaxed);
            return;
        }
        *last = Some(Instant::now());
    }

    /// A ping, unless the queue is full (then the client is busy, not dead).
    pub fn ping(&self) {
        let _ = self.tx.try_send(Outgoing::Ping);
    }

    /// An `RTP:` frame from a source that can wait (the simulated call): nothing is
    /// dropped, the source slows down instead. False when the client is gone.
    pub async fn rtp_waiting(&self, frame: String) -> bool {
        self.tx.send(Outgoing::Frame(frame)).await.is_ok()
    }

    /// End the connection at once, without a close frame.
    pub async fn abort(&self) {
        let _ = self.tx.send(Outgoing::Abort).await;
    }

    pub fn rtp_dropped(&self) -> u64 {
        self.drops.total.load(Ordering::Relaxed)
    }
}

/// How the writer stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterEnd {
    /// The queue ran dry after the session ended, or a close frame went out.
    Closed,
    /// The socket failed or an abort was asked for: the client is gone.
    Lost,
}

/// The only writer of the socket: everything queued, in order. When the session ends (with
/// a close frame if the server stops), what is still queued goes out first, so the client
/// hears "Call ended".
pub async fn write_frames<S>(mut sink: S, mut queue: mpsc::Receiver<Outgoing>, mut close: mpsc::Receiver<CloseFrame>) -> WriterEnd
where
    S: Sink<Message> + Unpin,
{
    loop {
        tokio::select! {
            biased;
            frame = close.recv() => {
                while let Ok(item) = queue.try_recv() {
                    let text = match item {
                        Outgoing::Frame(text) => text,
                        Outgoing::Ping => continue,
                        Outgoing::Abort => return WriterEnd::Lost,
                    };
                    if sink.send(Message::text(text)).await.is_err() {
                        return WriterEnd::Lost;
                    }
                }
                if let Some(frame) = frame {
                    let _ = sink.send(Message::Close(Some(frame))).await;
                }
                break;
            }
            item = queue.recv() => match item {
                Some(item) => if let Err(end) = write_batch(&mut sink, item, &mut queue).await { return end },
                None => break,
            },
        }
    }
    let _ = sink.close().await;
    WriterEnd::Closed
}

/// Most frames written in one go (one flush: one write to the socket).
const BATCH_FRAMES: usize = 64;

/// `first` and whatever else is queued already, fed to the socket and flushed once: a
/// client that fell behind catches up in a few writes rather than one per frame.
async fn write_batch<S>(sink: &mut S, first: Outgoing, queue: &mut mpsc::Receiver<Outgoing>) -> Result<(), WriterEnd>
where
    S: Sink<Message> + Unpin,
{
    feed(sink, first).await?;
    for _ in 1..BATCH_FRAMES {
        match queue.try_recv() {
            Ok(next) => feed(sink, next).await?,
            Err(_) => break,
        }
    }
    sink.flush().await.map_err(|_| WriterEnd::Lost)
}

async fn feed<S>(sink: &mut S, item: Outgoing) -> Result<(), WriterEnd>
where
    S: Sink<Message> + Unpin,
{
    let msg = match item {
        Outgoing::Frame(text) => Message::text(text),
        Outgoing::Ping => Message::Ping(Default::default()),
        // What came before still goes out; then dropping the sink (and, with it, the
        // session's half) closes the socket with no close frame.
        Outgoing::Abort => {
            let _ = sink.flush().await;
            return Err(WriterEnd::Lost);
        }
    };
    sink.feed(msg).await.map_err(|_| WriterEnd::Lost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(item: Outgoing) -> String {
        match item {
            Outgoing::Frame(t) => t,
            other => panic!("{other:?}"),
        }
    }

    /// A sink that records what is written and how often it is flushed.
    #[derive(Default)]
    struct Recorder {
        fed: Vec<Message>,
        flushes: Vec<usize>,
    }

    impl Sink<Message> for Recorder {
        type Error = std::convert::Infallible;
        fn poll_ready(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn start_send(mut self: std::pin::Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
            self.fed.push(item);
            Ok(())
        }
        fn poll_flush(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
            let n = self.fed.len();
            self.flushes.push(n);
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_close(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn queued_frames_go_out_in_order_with_one_flush_per_batch() {
        let (out, rx) = ClientOutbox::new();
        let (_close_tx, close_rx) = mpsc::channel(1);
        for i in 0..100 {
            out.rtp(format!("RTP:{i:02x}"));
        }
        out.ping();
        out.line("Call ended").await;
        drop(out);
        let mut sink = Recorder::default();
        assert_eq!(write_frames(&mut sink, rx, close_rx).await, WriterEnd::Closed);
        let mut want: Vec<Message> = (0..100).map(|i| Message::text(format!("RTP:{i:02x}"))).collect();
        want.push(Message::Ping(Default::default()));
        want.push(Message::text("Call ended"));
        assert_eq!(sink.fed, want);
        // 102 queued frames: two batches (64 + 38), each flushed once.
        assert_eq!(sink.flushes, [64, 102]);
    }

    #[tokio::test]
    async fn a_slow_client_hears_how_many_frames_it_lost_at_most_once_a_second() {
        let (out, mut rx) = ClientOutbox::with_capacity(2);
        out.rtp("RTP:01".into());
        out.rtp("RTP:02".into());
        for _ in 0..5 {
            out.rtp("RTP:lost".into()); // the queue is full: dropped
        }
        assert_eq!(out.rtp_dropped(), 5);
        assert_eq!(text(rx.recv().await.unwrap()), "RTP:01");
        assert_eq!(text(rx.recv().await.unwrap()), "RTP:02");
        // Room again: the next frame goes out, and the notice after it.
        out.rtp("RTP:03".into());
        assert_eq!(text(rx.recv().await.unwrap()), "RTP:03");
        let notice = text(rx.recv().await.unwrap());
        assert!(notice.starts_with("Warning: 5 RTP frames dropped"), "{notice}");
        // More losses within the second are told later, not now.
        out.rtp("RTP:04".into());
        out.rtp("RTP:05".into());
        out.rtp("RTP:lost".into());
        assert_eq!(text(rx.recv().await.unwrap()), "RTP:04");
        out.rtp("RTP:06".into());
        assert_eq!(text(rx.recv().await.unwrap()), "RTP:05");
        assert_eq!(text(rx.recv().await.unwrap()), "RTP:06");
        assert!(rx.try_recv().is_err());
        assert_eq!(out.drops.untold.load(Ordering::Relaxed), 1);
        // A second on, the next frame brings the count.
        *out.drops.last_notice.lock().unwrap() = Some(Instant::now() - DROP_NOTICE_EVERY);
        out.rtp("RTP:07".into());
        assert_eq!(text(rx.recv().await.unwrap()), "RTP:07");
        assert!(text(rx.recv().await.unwrap()).starts_with("Warning: 1 RTP frames dropped"));
    }
}
