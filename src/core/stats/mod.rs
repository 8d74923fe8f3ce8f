//! Statistics of the received RTP: session totals and a sliding one-second rate window here,
//! per-stream RFC 3550 analysis in [`stream`] and [`set`], the G.107 E-model score in
//! [`emodel`].

pub mod emodel;
pub mod level;
pub mod seq;
pub mod set;
pub mod stream;
#[cfg(test)]
mod tests_streams;

pub use seq::{ExtSeq, Order, Placement};
pub use set::{Arrival, StreamDtmf, StreamSet, MAX_STREAMS};
pub use stream::{Media, StreamStats};

use std::time::{Duration, Instant};

/// Ten whole buckets make the second; the eleventh is the one filling now.
const BUCKETS: usize = 11;
const BUCKET: Duration = Duration::from_millis(100);

/// Packets and bytes over the last second, in 100 ms buckets: O(1) per packet and bounded
/// memory whatever the packet rate. The rate counts the ten buckets before the one filling
/// now, so a steady 50 packets/s reads 50, not 45 to 50 as the current bucket fills.
#[derive(Debug, Clone)]
pub struct RateWindow {
    origin: Instant,
    /// Index (in 100 ms units since `origin`) of the newest bucket.
    head: u64,
    packets: [u64; BUCKETS],
    bytes: [u64; BUCKETS],
}

impl RateWindow {
    pub fn new(origin: Instant) -> RateWindow {
        RateWindow { origin, head: 0, packets: [0; BUCKETS], bytes: [0; BUCKETS] }
    }

    fn slot(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.origin).as_millis() / BUCKET.as_millis()) as u64
    }

    fn advance(&mut self, to: u64) {
        if to <= self.head {
            return;
        }
        let steps = (to - self.head).min(BUCKETS as u64);
        for i in 1..=steps {
            let idx = ((self.head + i) % BUCKETS as u64) as usize;
            self.packets[idx] = 0;
            self.bytes[idx] = 0;
        }
        self.head = to;
    }

    pub fn record(&mut self, at: Instant, bytes: usize) {
        let s = self.slot(at);
        self.advance(s);
        // A packet stamped before the window's head (clock skew between threads) counts now.
        let idx = (self.head % BUCKETS as u64) as usize;
        self.packets[idx] += 1;
        self.bytes[idx] += bytes as u64;
    }

    /// Packets and bytes in the last whole second before `now` (ending at the start of the
    /// current 100 ms bucket).
    pub fn per_second(&mut self, now: Instant) -> (u64, u64) {
        let s = self.slot(now);
        self.advance(s);
        let cur = (self.head % BUCKETS as u64) as usize;
        let sum = |a: &[u64; BUCKETS]| a.iter().enumerate().filter(|(i, _)| *i != cur).map(|(_, v)| v).sum();
        (sum(&self.packets), sum(&self.bytes))
    }
}

/// Totals shown in the RTP pane.
#[derive(Debug, Clone)]
pub struct RtpCounters {
    pub packets: u64,
    /// Bytes of whole RTP packets received.
    pub wire_bytes: u64,
    pub malformed: u64,
    pub first_at: Option<Instant>,
    pub last_at: Option<Instant>,
    pub window: RateWindow,
    /// Packets/s and bytes/s as of the last tick (the render reads these, it cannot mutate).
    pub pps: u64,
    pub bps: u64,
}

impl RtpCounters {
    pub fn new(now: Instant) -> RtpCounters {
        RtpCounters {
            packets: 0,
            wire_bytes: 0,
            malformed: 0,
            first_at: None,
            last_at: None,
            window: RateWindow::new(now),
            pps: 0,
            bps: 0,
        }
    }

    pub fn on_packet(&mut self, at: Instant, len: usize) {
        self.packets += 1;
        self.wire_bytes += len as u64;
        self.first_at.get_or_insert(at);
        self.last_at = Some(at);
        self.window.record(at, len);
    }

    pub fn on_tick(&mut self, now: Instant) {
        let (p, b) = self.window.per_second(now);
        self.pps = p;
        self.bps = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_the_last_second_only() {
        let t0 = Instant::now();
        let mut w = RateWindow::new(t0);
        for i in 0..50 {
            w.record(t0 + Duration::from_millis(i * 20), 172);
        }
        // Inside the first second only whole buckets count: 0-899 ms holds 45 packets.
        assert_eq!(w.per_second(t0 + Duration::from_millis(999)).0, 45);
        // Once the second is whole, a steady 50 packets/s reads exactly 50.
        assert_eq!(w.per_second(t0 + Duration::from_millis(1050)), (50, 50 * 172));
        // Half a second later the first half has slid out.
        let (p, _) = w.per_second(t0 + Duration::from_millis(1550));
        assert_eq!(p, 25);
        assert_eq!(w.per_second(t0 + Duration::from_secs(5)), (0, 0));
    }

    #[test]
    fn counters_fold_packets() {
        let t0 = Instant::now();
        let mut c = RtpCounters::new(t0);
        c.on_packet(t0, 172);
        c.on_packet(t0 + Duration::from_millis(20), 172);
        c.on_tick(t0 + Duration::from_millis(100));
        assert_eq!((c.packets, c.wire_bytes, c.pps, c.bps), (2, 344, 2, 344));
    }
}
