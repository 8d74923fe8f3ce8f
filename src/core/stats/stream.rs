//! Statistics of one RTP stream (one SSRC): RFC 3550 A.1 sequence accounting, A.8
//! interarrival jitter, duplicates, reordering, arrival gaps, rates, a 60 s history, the
//! audio level and DTMF.

use std::time::{Duration, Instant};

use crate::core::audio::{Law, Level};
use crate::core::dtmf::{Dtmf, DtmfDecoder};
use crate::core::rtp::{Codec, RtpHeader};

use super::level::LevelMeter;
use super::seq::{Order, Placement, SeqTracker};
use super::RateWindow;

/// Seconds of packets/s history kept for the sparkline.
pub const HISTORY_SECONDS: usize = 60;
/// A stream silent for this long is shown as stalled.
pub const STALL_AFTER: Duration = Duration::from_millis(500);

/// What a packet's payload type carries, as far as the statistics care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// G.711 audio that can be measured and recorded.
    G711(Law),
    /// RFC 4733 events: sequenced like audio, but not audio.
    Event,
    /// Another codec: counted and timed, not decoded.
    Other,
}

impl Media {
    pub fn of(codec: Codec) -> Media {
        match codec {
            Codec::Pcmu => Media::G711(Law::MuLaw),
            Codec::Pcma => Media::G711(Law::ALaw),
            Codec::TelephoneEvent => Media::Event,
            _ => Media::Other,
        }
    }
}

/// RFC 3550 A.8 interarrival jitter, kept in timestamp units as the RFC does.
#[derive(Debug, Clone)]
pub struct Jitter {
    clock_rate: u32,
    prev: Option<(Instant, u32)>,
    value: f64,
}

impl Jitter {
    pub fn new(clock_rate: u32) -> Jitter {
        Jitter { clock_rate, prev: None, value: 0.0 }
    }

    /// J += (|D| - J) / 16, D the difference of relative transit times of this packet and the
    /// one before it in arrival order. Arrival is converted to timestamp units at the clock
    /// rate; the timestamp difference is taken modulo 2^32 so wraparound is harmless.
    pub fn update(&mut self, arrival: Instant, timestamp: u32) {
        if let Some((prev_at, prev_ts)) = self.prev {
            let arrival_delta = signed_seconds(arrival, prev_at) * self.clock_rate as f64;
            let ts_delta = timestamp.wrapping_sub(prev_ts) as i32 as f64;
            let d = (arrival_delta - ts_delta).abs();
            self.value += (d - self.value) / 16.0;
        }
        self.prev = Some((arrival, timestamp));
    }

    pub fn timestamp_units(&self) -> f64 {
        self.value
    }

    pub fn millis(&self) -> f64 {
        self.value * 1000.0 / self.clock_rate as f64
    }
}

fn signed_seconds(a: Instant, b: Instant) -> f64 {
    match a.checked_duration_since(b) {
        Some(d) => d.as_secs_f64(),
        None => -b.duration_since(a).as_secs_f64(),
    }
}

/// Packets per whole second over the last [`HISTORY_SECONDS`], O(1) per packet.
#[derive(Debug, Clone)]
pub struct History {
    origin: Instant,
    /// Newest second (since `origin`) with a slot.
    head: u64,
    counts: [u32; HISTORY_SECONDS],
}

impl History {
    pub fn new(origin: Instant) -> History {
        History { origin, head: 0, counts: [0; HISTORY_SECONDS] }
    }

    fn second(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_secs()
    }

    pub fn record(&mut self, at: Instant) {
        let s = self.second(at);
        if s > self.head {
            for i in (self.head + 1)..=s.min(self.head + HISTORY_SECONDS as u64) {
                self.counts[(i % HISTORY_SECONDS as u64) as usize] = 0;
            }
            // Past a full turn every slot was cleared above; only the head moves.
            self.head = s;
        }
        if self.head - s < HISTORY_SECONDS as u64 {
            self.counts[(s % HISTORY_SECONDS as u64) as usize] += 1;
        }
    }

    /// Packets in each of the last complete seconds before `now`, oldest first; seconds
    /// before the stream began and seconds without packets read 0.
    pub fn last_seconds(&self, now: Instant) -> [u64; HISTORY_SECONDS] {
        let now_s = self.second(now);
        let mut out = [0u64; HISTORY_SECONDS];
        for (i, v) in out.iter_mut().enumerate() {
            let Some(s) = (now_s + i as u64).checked_sub(HISTORY_SECONDS as u64) else { continue };
            if s <= self.head && self.head - s < HISTORY_SECONDS as u64 {
                *v = self.counts[(s % HISTORY_SECONDS as u64) as usize] as u64;
            }
        }
        out
    }
}

/// Everything known about one SSRC.
#[derive(Debug, Clone)]
pub struct StreamStats {
    pub ssrc: u32,
    /// Payload type of the stream's media (the latest non-event one; 101 if only events came).
    pub payload_type: u8,
    pub seq: SeqTracker,
    /// Every packet received, duplicates included (RFC 3550's "received").
    pub packets: u64,
    pub wire_bytes: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    /// Packets of a large jump that were never confirmed as a restart.
    pub unsequenced: u64,
    pub event_packets: u64,
    pub first_at: Instant,
    pub last_at: Instant,
    pub jitter: Jitter,
    /// Largest gap between two consecutive arrivals.
    pub max_delta: Duration,
    window: RateWindow,
    /// Packets/s and bytes/s over the second before the last tick.
    pub pps: u64,
    pub bps: u64,
    pub history: History,
    pub level: LevelMeter,
    pub dtmf_events: u64,
    dtmf: DtmfDecoder,
}

impl StreamStats {
    /// A stream opened by its first packet (which is counted here).
    pub fn open(header: &RtpHeader, payload: &[u8], wire_len: usize, at: Instant, dtmf_out: &mut Vec<Dtmf>) -> StreamStats {
        let codec = Codec::from_pt(header.payload_type);
        let mut s = StreamStats {
            ssrc: header.ssrc,
            payload_type: header.payload_type,
            seq: SeqTracker::new(header.sequence),
            packets: 0,
            wire_bytes: 0,
            duplicates: 0,
            out_of_order: 0,
            unsequenced: 0,
            event_packets: 0,
            first_at: at,
            last_at: at,
            jitter: Jitter::new(codec.clock_rate()),
            max_delta: Duration::ZERO,
            window: RateWindow::new(at),
            pps: 0,
            bps: 0,
            history: History::new(at),
            level: LevelMeter::default(),
            dtmf_events: 0,
            dtmf: DtmfDecoder::default(),
        };
        let first = s.seq.first_placement();
        s.count(header, payload, wire_len, at, first, dtmf_out);
        s
    }

    /// Fold in a later packet of this SSRC; returns where its sequence number fell.
    pub fn on_packet(&mut self, header: &RtpHeader, payload: &[u8], wire_len: usize, at: Instant, dtmf_out: &mut Vec<Dtmf>) -> Placement {
        let placement = self.seq.update(header.sequence);
        self.count(header, payload, wire_len, at, placement, dtmf_out);
        placement
    }

    fn count(&mut self, header: &RtpHeader, payload: &[u8], wire_len: usize, at: Instant, placement: Placement, dtmf_out: &mut Vec<Dtmf>) {
        self.packets += 1;
        self.wire_bytes += wire_len as u64;
        match placement {
            Placement::Duplicate => self.duplicates += 1,
            Placement::Unsequenced => self.unsequenced += 1,
            Placement::Fresh { order: Order::Late, .. } => self.out_of_order += 1,
            Placement::Fresh { order: Order::InOrder, .. } => {}
        }
        if let Some(gap) = at.checked_duration_since(self.last_at) {
            self.max_delta = self.max_delta.max(gap);
        }
        self.last_at = self.last_at.max(at);
        self.window.record(at, wire_len);
        self.history.record(at);
        match Media::of(Codec::from_pt(header.payload_type)) {
            Media::Event => {
                self.event_packets += 1;
                // Only first copies: a duplicate repeats what was decoded.
                if matches!(placement, Placement::Fresh { .. }) {
                    let before = dtmf_out.len();
                    // A short event payload is counted as a packet and otherwise ignored.
                    let _ = self.dtmf.on_packet(header.timestamp, payload, at, dtmf_out);
                    self.dtmf_events += (dtmf_out.len() - before) as u64;
                }
            }
            media => {
                self.payload_type = header.payload_type;
                // Event packets carry the event's start timestamp, so they stay out of A.8.
                self.jitter.update(at, header.timestamp);
                if let Media::G711(law) = media {
                    self.level.push(law, payload);
                }
            }
        }
    }

    pub fn on_tick(&mut self, now: Instant, dtmf_out: &mut Vec<Dtmf>) {
        let (p, b) = self.window.per_second(now);
        self.pps = p;
        self.bps = b;
        let before = dtmf_out.len();
        self.dtmf.poll(now, dtmf_out);
        self.dtmf_events += (dtmf_out.len() - before) as u64;
    }

    pub fn codec(&self) -> Codec {
        Codec::from_pt(self.payload_type)
    }

    pub fn expected(&self) -> u64 {
        self.seq.expected()
    }

    /// Distinct sequenced packets received.
    pub fn unique(&self) -> u64 {
        self.packets - self.duplicates - self.unsequenced
    }

    /// Expected minus distinct received, never negative.
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.unique())
    }

    pub fn lost_percent(&self) -> f64 {
        match self.expected() {
            0 => 0.0,
            e => self.lost() as f64 * 100.0 / e as f64,
        }
    }

    pub fn kbit_per_s(&self) -> f64 {
        self.bps as f64 * 8.0 / 1000.0
    }

    pub fn since_last(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_at)
    }

    pub fn stalled(&self, now: Instant) -> bool {
        self.since_last(now) >= STALL_AFTER
    }

    pub fn audio_level(&self) -> Level {
        self.level.level()
    }

    /// Every figure on one line, for the log.
    pub fn summary(&self, now: Instant) -> String {
        let level = self.audio_level();
        format!(
            "stream SSRC {:#010x} {} (PT {}): seq {}..{}, {} received, {} expected, {} lost ({:.1}%), \
             {} duplicates, {} out of order, jitter {:.2} ms, max delta {:.1} ms, {} packets/s, \
             {:.1} kbit/s, last packet {:.2} s ago, level {} rms / {} peak, {} DTMF events",
            self.ssrc,
            self.codec().name(),
            self.payload_type,
            self.seq.first_seq(),
            self.seq.highest_seq(),
            self.packets,
            self.expected(),
            self.lost(),
            self.lost_percent(),
            self.duplicates,
            self.out_of_order,
            self.jitter.millis(),
            self.max_delta.as_secs_f64() * 1000.0,
            self.pps,
            self.kbit_per_s(),
            self.since_last(now).as_secs_f64(),
            dbfs(level.rms_dbfs),
            dbfs(level.peak_dbfs),
            self.dtmf_events,
        )
    }
}

/// A level for people: "-20.1 dBFS", or "silent".
pub fn dbfs(v: f32) -> String {
    if v.is_finite() {
        format!("{v:.1} dBFS")
    } else {
        "silent".into()
    }
}
