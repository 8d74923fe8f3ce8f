//! The gateway's Prometheus metrics (`prometheus-client`), shared by every session through an
//! `Arc`: clients, calls, RTP, uploads, registration, draining.
//!
//! Per-packet counters live in [`RtpMeter`]: its handles are resolved once (no label lookup,
//! no lock per packet) and each update is one relaxed atomic add.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Instant;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::sync::watch;

use crate::server::sip::call::Phase;

type Label = [(&'static str, &'static str); 1];
type CodeLabel = [(&'static str, String); 1];

/// Upper bounds of the call duration histogram, in seconds.
const DURATION_BUCKETS: [f64; 11] = [1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0];

/// The RTP counters a call updates for every packet. Cloning shares the counters; the
/// default is a detached set (tests, the demo peer) that nobody scrapes.
#[derive(Debug, Clone, Default)]
pub struct RtpMeter {
    pub to_client_packets: Counter,
    pub to_client_bytes: Counter,
    pub to_far_end_packets: Counter,
    pub to_far_end_bytes: Counter,
    /// Packets from a source that is not the far end (`--rtp-sources far-end`).
    pub foreign_source: Counter,
    /// Frames a client's full queue could not take.
    pub slow_client: Counter,
}

impl RtpMeter {
    /// One RTP packet of `bytes` queued for the client.
    #[inline]
    pub fn to_client(&self, bytes: usize) {
        self.to_client_packets.inc();
        self.to_client_bytes.inc_by(bytes as u64);
    }

    /// One RTP packet of `bytes` sent to the far end.
    #[inline]
    pub fn to_far_end(&self, bytes: usize) {
        self.to_far_end_packets.inc();
        self.to_far_end_bytes.inc_by(bytes as u64);
    }
}

/// Every metric of one gateway, and the registry that names them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    clients: Gauge,
    accepted: Counter,
    refused: Family<Label, Counter>,
    ringing: Gauge,
    answered: Gauge,
    completed: Family<CodeLabel, Counter>,
    duration: Histogram,
    rtp: RtpMeter,
    uploads: Counter,
    plays: Counter,
    registered: Gauge,
    draining: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let clients = Gauge::default();
        registry.register("sipdeck_ws_clients", "WebSocket clients connected now", clients.clone());
        let accepted = Counter::default();
        registry.register("sipdeck_ws_clients_accepted", "WebSocket clients accepted (handshake done)", accepted.clone());
        let refused = Family::<Label, Counter>::default();
        registry.register("sipdeck_ws_clients_refused", "WebSocket clients refused, by reason", refused.clone());
        let calls = Family::<Label, Gauge>::default();
        registry.register("sipdeck_calls", "Calls in progress, by state (ringing, answered)", calls.clone());
        let ringing = calls.get_or_create_owned(&[("state", "ringing")]);
        let answered = calls.get_or_create_owned(&[("state", "answered")]);
        let completed = Family::<CodeLabel, Counter>::default();
        registry.register("sipdeck_calls_completed", "Calls over, by final SIP code (200: answered, then hung up)", completed.clone());
        let duration = Histogram::new(DURATION_BUCKETS);
        registry.register("sipdeck_call_duration_seconds", "Answered calls: seconds from the answer to the end", duration.clone());
        let packets = Family::<Label, Counter>::default();
        let bytes = Family::<Label, Counter>::default();
        let dropped = Family::<Label, Counter>::default();
        registry.register("sipdeck_rtp_packets", "RTP packets forwarded, by direction (to_client, to_far_end)", packets.clone());
        registry.register("sipdeck_rtp_bytes", "RTP bytes forwarded (whole packets), by direction", bytes.clone());
        registry.register("sipdeck_rtp_dropped", "RTP packets dropped, by reason (foreign_source, slow_client)", dropped.clone());
        // The meter's counters are the families' own: resolved here once, never per packet.
        let rtp = RtpMeter {
            to_client_packets: packets.get_or_create_owned(&[("direction", "to_client")]),
            to_client_bytes: bytes.get_or_create_owned(&[("direction", "to_client")]),
            to_far_end_packets: packets.get_or_create_owned(&[("direction", "to_far_end")]),
            to_far_end_bytes: bytes.get_or_create_owned(&[("direction", "to_far_end")]),
            foreign_source: dropped.get_or_create_owned(&[("reason", "foreign_source")]),
            slow_client: dropped.get_or_create_owned(&[("reason", "slow_client")]),
        };
        let uploads = Counter::default();
        registry.register("sipdeck_uploads", "WAV files uploaded and stored", uploads.clone());
        let plays = Counter::default();
        registry.register("sipdeck_plays", "PLAY_WAV playbacks started", plays.clone());
        let registered = Gauge::default();
        registry.register("sipdeck_registered", "1 while the gateway is registered with its registrar (--register)", registered.clone());
        let draining = Gauge::default();
        registry.register("sipdeck_draining", "1 while the gateway drains (SIGTERM/SIGUSR1): no new clients", draining.clone());
        Metrics { registry, clients, accepted, refused, ringing, answered, completed, duration, rtp, uploads, plays, registered, draining }
    }

    /// The exposition (OpenMetrics text, which Prometheus reads).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// The per-packet counters, for a client's outbox and its calls.
    pub fn rtp(&self) -> RtpMeter {
        self.rtp.clone()
    }

    /// A client finished its handshake: counted in until the guard is dropped.
    pub fn client_connected(&self) -> ClientGuard {
        self.accepted.inc();
        self.clients.inc();
        ClientGuard(self.clients.clone())
    }

    /// A client was turned away; `reason` is a label value (`too_many_clients`, ...).
    pub fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&[("reason", reason)]).inc();
    }

    pub fn uploaded(&self) {
        self.uploads.inc();
    }

    pub fn played(&self) {
        self.plays.inc();
    }

    /// Registration state (`--register`): call on every change.
    pub fn set_registered(&self, registered: bool) {
        self.registered.set(registered as i64);
    }

    pub fn set_draining(&self, draining: bool) {
        self.draining.set(draining as i64);
    }

    /// Follow one call through its phases (a task on `phase`); tell the tracker the
    /// call's last line before the phase turns `Over`, for its final SIP code.
    pub fn track_call(self: &Arc<Self>, phase: watch::Receiver<Phase>) -> CallTracker {
        let code = Arc::new(AtomicU16::new(0));
        tokio::spawn(follow_call(self.clone(), phase, code.clone()));
        CallTracker { code }
    }
}

/// Keeps a client counted in `sipdeck_ws_clients` while it lives.
#[derive(Debug)]
pub struct ClientGuard(Gauge);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// What a call's end tells the metrics.
#[derive(Debug, Clone)]
pub struct CallTracker {
    code: Arc<AtomicU16>,
}

impl CallTracker {
    /// The call's last line (`Call failed: 486 Busy Here`, `Call ended`): its code, if any.
    pub fn ended(&self, line: &str) {
        self.code.store(failure_code(line).unwrap_or(0), Ordering::Relaxed);
    }
}

/// The SIP code of a `Call failed: <code> ...` line.
fn failure_code(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("Call failed: ")?;
    rest.split(' ').next()?.parse().ok().filter(|c| (100..700).contains(c))
}

/// Move the call between the state gauges as its phase changes; when it is over (or its
/// task is gone), count it by final code and its answered time in the histogram.
async fn follow_call(metrics: Arc<Metrics>, mut phase: watch::Receiver<Phase>, code: Arc<AtomicU16>) {
    let mut now = Phase::Dialing;
    let mut answered_at = None;
    loop {
        let next = match phase.changed().await {
            Ok(()) => *phase.borrow_and_update(),
            Err(_) => Phase::Over,
        };
        if next == now {
            continue;
        }
        if let Some(g) = metrics.gauge_of(now) {
            g.dec();
        }
        if let Some(g) = metrics.gauge_of(next) {
            g.inc();
        }
        if next == Phase::Answered {
            answered_at = Some(Instant::now());
        }
        now = next;
        if now == Phase::Over {
            break;
        }
    }
    let final_code = match (code.load(Ordering::Relaxed), answered_at) {
        (c, _) if c != 0 => c,
        (_, Some(_)) => 200,
        // Hung up before an answer: the far end answers the CANCEL's INVITE with a 487.
        (_, None) => 487,
    };
    metrics.completed.get_or_create(&[("code", final_code.to_string())]).inc();
    if let Some(t) = answered_at {
        metrics.duration.observe(t.elapsed().as_secs_f64());
    }
}

impl Metrics {
    fn gauge_of(&self, phase: Phase) -> Option<&Gauge> {
        match phase {
            Phase::Ringing => Some(&self.ringing),
            Phase::Answered => Some(&self.answered),
            Phase::Dialing | Phase::Over => None,
        }
    }
}

#[cfg(test)]
mod tests;
