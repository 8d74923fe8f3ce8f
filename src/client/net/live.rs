//! One live connection: commands out, frames in (parsed once, handed over in batches), and
//! the keep-alive ping that notices a dead peer.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message};

use super::{describe_ws_error, FrameParser, NetCommand, NetConfig, NetEvent, SessionEnd, Ws};

pub(super) async fn session(
    cfg: &NetConfig,
    ws: Ws,
    cmds: &mut mpsc::Receiver<NetCommand>,
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
                    None | Some(NetCommand::Shutdown) => {
                        let _ = sink.send(Message::Close(None)).await;
                        return SessionEnd::Shutdown;
                    }
                    Some(NetCommand::ReconnectNow) => {
                        let _ = sink.send(Message::Close(None)).await;
                        return SessionEnd::Lost("reconnect requested".into());
                    }
                    Some(NetCommand::Send(msg)) => {
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
                        Frame::Event(ev) => out.push(ev, now),
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
/// The longest an event other than RTP waits for others to share its hand-over: far below
/// a screen frame, so a status line or an answer shows at once.
const COALESCE: Duration = Duration::from_millis(2);
/// The longest an RTP packet waits for others. A call's packets come every 20 ms; handing
/// each over alone woke the UI thread 50 times a second (a quarter of the in-call CPU was
/// the kernel switching tasks). Held this long, a call's packets go in batches of about ten:
/// the UI wakes 5 times a second for them, as often as it draws (`runtime::redraw::EVENT_FRAME`).
const RTP_HOLD: Duration = Duration::from_millis(200);
/// RTP that comes this long or more after the previous packet is paced (a call) and is held;
/// packets closer together are a burst or a flood, handed over as fast as before, so the end
/// of a flood is not held back.
const PACED: Duration = Duration::from_millis(5);

/// Events on their way to the UI. Under a flood they go as one [`NetEvent::Batch`] of up to
/// [`READ_BATCH`]: one channel item, so the UI thread is woken once per batch rather than once
/// for every handful of packets the socket yields (each wake-up costs the actor a futex call;
/// that was a fifth of its time in `benches/flood.rs`). A lone event waits [`COALESCE`] for
/// company ([`RTP_HOLD`] for RTP), then goes on its own; an event that is not RTP brings the
/// hand-over of everything waiting forward to [`COALESCE`] after it.
#[derive(Default)]
struct Outbox {
    events: Vec<NetEvent>,
    due: Option<tokio::time::Instant>,
    /// When the previous RTP packet was read.
    last_rtp: Option<Instant>,
}

impl Outbox {
    fn push(&mut self, ev: NetEvent, now: Instant) {
        let wait = match ev {
            NetEvent::Rtp(_) => {
                let paced = self.last_rtp.is_some_and(|t| now.saturating_duration_since(t) >= PACED);
                self.last_rtp = Some(now);
                if paced { RTP_HOLD } else { COALESCE }
            }
            _ => COALESCE,
        };
        // `now` is when the frame was read: no second clock read per packet.
        let due = tokio::time::Instant::from_std(now + wait);
        self.due = Some(self.due.map_or(due, |d| d.min(due)));
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

