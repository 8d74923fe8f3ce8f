//! Where each payload lands on the recording's timeline: at its RTP timestamp's offset from
//! the stream's first, so lost packets, silence suppression and DTMF events become silence of
//! the length the sender's clock says; a new stream starts where its arrival time puts it.

use std::time::Instant;

/// The recording's sample rate (G.711).
pub const RATE: u32 = 8000;
/// Silence for a lost packet when the timestamps cannot tell: 20 ms at 8000 Hz.
pub const LOSS_FILL_SAMPLES: u32 = 160;
/// Most silence one sequence step may stand for without further evidence (1 s): a gap that
/// large between consecutive packets is believed only with the marker bit or arrival times.
pub const MAX_FILL_SAMPLES: i64 = RATE as i64;
/// Longest pause a talkspurt's marker bit is believed for (one hour); past it the timestamp
/// is taken as broken.
pub const MAX_PAUSE_SAMPLES: i64 = 3600 * RATE as i64;
/// A new stream arriving less than this after where the old one's audio ends (60 ms) is
/// taken to follow it directly: the difference is network jitter, not silence.
pub const HANDOVER_SLACK_SAMPLES: u64 = 480;

/// The last audio packet written of the stream being recorded.
#[derive(Debug, Clone, Copy)]
struct Last {
    index: i64,
    timestamp: u32,
    len: u32,
    /// Timeline offset of its first sample.
    start: u64,
    at: Instant,
}

/// Where the previous stream's last packet began and when it arrived: the anchor a new
/// stream is placed against.
#[derive(Debug, Clone, Copy)]
pub struct Handover {
    start: u64,
    at: Instant,
}

/// One audio packet about to be written.
#[derive(Debug, Clone, Copy)]
pub struct Packet {
    pub index: i64,
    pub timestamp: u32,
    pub len: u32,
    pub marker: bool,
    pub at: Instant,
}

/// The write position of one stream on the whole recording's timeline.
#[derive(Debug, Clone, Copy)]
pub struct Cursor {
    /// The next sequence index to write.
    pub next: i64,
    /// Samples on the timeline so far (every stream's).
    pub end: u64,
    last: Option<Last>,
    handover: Option<Handover>,
}

impl Cursor {
    /// A stream whose first index is `next`, starting no earlier than `end`.
    pub fn new(next: i64, end: u64, handover: Option<Handover>) -> Cursor {
        Cursor { next, end, last: None, handover }
    }

    /// Silence to write before `p`; moves the cursor past it and the packet.
    pub fn place(&mut self, p: Packet) -> u64 {
        let pad = match self.last {
            Some(last) => by_timestamp(&last, &p),
            None => self.handover.map_or(0, |h| by_arrival(h, p.at, self.end)),
        };
        let start = self.end + pad;
        self.last = Some(Last { index: p.index, timestamp: p.timestamp, len: p.len, start, at: p.at });
        self.end = start + p.len as u64;
        pad
    }

    /// The anchor for the stream after this one.
    pub fn handover(&self) -> Option<Handover> {
        self.last.map(|l| Handover { start: l.start, at: l.at }).or(self.handover)
    }
}

/// Silence between the last packet and `p`: the timestamp gap when it is believable,
/// else 20 ms per missing sequence number (the old rule, for senders whose clocks lie).
fn by_timestamp(last: &Last, p: &Packet) -> u64 {
    // Modulo 2^32, so a timestamp wrap is an ordinary small step.
    let gap = p.timestamp.wrapping_sub(last.timestamp.wrapping_add(last.len)) as i32 as i64;
    let steps = p.index - last.index;
    let believed = gap >= 0
        && (gap <= steps * MAX_FILL_SAMPLES
            || (p.marker && gap <= MAX_PAUSE_SAMPLES)
            || arrival_agrees(last, p));
    if believed {
        gap as u64
    } else {
        (steps - 1).max(0) as u64 * LOSS_FILL_SAMPLES as u64
    }
}

/// Whether the time between the two packets' arrivals matches their timestamps (within a
/// quarter, or 100 ms): a long pause sent without a marker bit is still a pause.
fn arrival_agrees(last: &Last, p: &Packet) -> bool {
    let ts_delta = p.timestamp.wrapping_sub(last.timestamp) as i32 as f64;
    let Some(elapsed) = p.at.checked_duration_since(last.at) else { return false };
    let arrived = elapsed.as_secs_f64() * RATE as f64;
    ts_delta > 0.0 && (ts_delta - arrived).abs() <= (ts_delta / 4.0).max(RATE as f64 / 10.0)
}

/// Silence before a new stream's first packet: as long as the time between the old stream's
/// last arrival and this one says, less the old stream's audio already there.
fn by_arrival(h: Handover, at: Instant, end: u64) -> u64 {
    let elapsed = at.saturating_duration_since(h.at).as_secs_f64();
    let start = h.start + (elapsed * RATE as f64).round() as u64;
    match start.checked_sub(end) {
        Some(pad) if pad >= HANDOVER_SLACK_SAMPLES => pad,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn packet(index: i64, timestamp: u32, marker: bool, at: Instant) -> Packet {
        Packet { index, timestamp, len: 160, marker, at }
    }

    #[test]
    fn pauses_are_believed_with_a_marker_or_matching_arrivals() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut c = Cursor::new(0, 0, None);
        assert_eq!(c.place(packet(0, 1000, false, ms(0))), 0);
        // Five seconds of suppressed silence, marker set, consecutive sequence numbers.
        assert_eq!(c.place(packet(1, 1160 + 40_000, true, ms(5020))), 40_000);
        // The same pause without a marker, but arrival times that say it: believed.
        assert_eq!(c.place(packet(2, 41_320 + 24_000, false, ms(8020))), 24_000);
        // A jump of ten minutes 20 ms after the previous packet, no marker: broken.
        assert_eq!(c.place(packet(3, 65_480 + 4_800_000, false, ms(8040))), 0);
        assert_eq!(c.end, 4 * 160 + 40_000 + 24_000);
    }

    #[test]
    fn a_new_stream_is_placed_by_arrival_time() {
        let t0 = Instant::now();
        let mut a = Cursor::new(0, 0, None);
        a.place(packet(0, 0, false, t0));
        a.place(packet(1, 160, false, t0 + Duration::from_millis(20)));
        // Two seconds after the last packet: 16,000 samples after its start.
        let mut b = Cursor::new(500, a.end, a.handover());
        assert_eq!(b.place(packet(500, 7, false, t0 + Duration::from_millis(2020))), 16_000 - 160);
        // A stream taking over 25 ms after the last packet (5 ms of jitter) follows directly.
        let mut c = Cursor::new(9, b.end, b.handover());
        assert_eq!(c.place(packet(9, 0, false, t0 + Duration::from_millis(2045))), 0);
    }
}
