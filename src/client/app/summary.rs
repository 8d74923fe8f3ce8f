//! One stream's figures as the stream table, the zoom view and `4` show them: taken from the
//! live statistics each frame, or kept in a call's history row when the call ends (a few
//! hundred bytes each, so the history stays small whatever the call's length).

use std::time::{Duration, Instant};

use crate::core::rtp::Codec;
use crate::core::stats::emodel::{Profile, Score};
use crate::core::stats::StreamStats;

/// Streams a history row keeps (the newest ones).
pub const RECORD_STREAMS: usize = 16;

/// When the stream's last packet came.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Last {
    /// A live call's stream: this long ago, and whether that is a stall.
    Ago { since: Duration, stalled: bool },
    /// The call ended: no stall, no age.
    Ended,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamSummary {
    pub ssrc: u32,
    pub payload_type: u8,
    pub codec: Codec,
    pub first_seq: u16,
    pub highest_seq: u16,
    pub packets: u64,
    pub expected: u64,
    pub lost: u64,
    pub lost_percent: f64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub jitter_ms: f64,
    pub max_delta_ms: f64,
    /// Packets/s and kbit/s: of the last second while live, the stream's mean once ended.
    pub pps: u64,
    pub kbit_s: f64,
    /// First to last packet.
    pub lasted: Duration,
    pub last: Last,
    pub rms_dbfs: f32,
    pub peak_dbfs: f32,
    pub dtmf_events: u64,
    pub score: Option<Score>,
}

impl StreamSummary {
    /// A live stream as of `now`.
    pub fn live(s: &StreamStats, now: Instant) -> StreamSummary {
        let mut out = Self::base(s);
        out.pps = s.pps;
        out.kbit_s = s.kbit_per_s();
        out.last = Last::Ago { since: s.since_last(now), stalled: s.stalled(now) };
        out
    }

    /// A stream of a call that ended: mean rates over its life, no age.
    pub fn ended(s: &StreamStats) -> StreamSummary {
        let mut out = Self::base(s);
        // n packets span n - 1 intervals: counting them keeps a short stream's rate right.
        let secs = out.lasted.as_secs_f64();
        if secs > 0.0 && s.packets > 1 {
            let intervals = (s.packets - 1) as f64 / s.packets as f64;
            out.pps = (s.packets as f64 * intervals / secs).round() as u64;
            out.kbit_s = s.wire_bytes as f64 * intervals * 8.0 / 1000.0 / secs;
        }
        out
    }

    fn base(s: &StreamStats) -> StreamSummary {
        let level = s.audio_level();
        StreamSummary {
            ssrc: s.ssrc,
            payload_type: s.payload_type,
            codec: s.codec(),
            first_seq: s.seq.first_seq(),
            highest_seq: s.seq.highest_seq(),
            packets: s.packets,
            expected: s.expected(),
            lost: s.lost(),
            lost_percent: s.lost_percent(),
            duplicates: s.duplicates,
            out_of_order: s.out_of_order,
            jitter_ms: s.jitter.millis(),
            max_delta_ms: s.max_delta.as_secs_f64() * 1000.0,
            pps: 0,
            kbit_s: 0.0,
            lasted: s.last_at.saturating_duration_since(s.first_at),
            last: Last::Ended,
            rms_dbfs: level.rms_dbfs,
            peak_dbfs: level.peak_dbfs,
            dtmf_events: s.dtmf_events,
            score: Profile::default().score_stream(s),
        }
    }

    pub fn stalled(&self) -> bool {
        matches!(self.last, Last::Ago { stalled: true, .. })
    }

    /// One short line (under 67 columns in the usual case, so that with the log's time and
    /// tag it fits 80): what `4` writes per stream.
    pub fn line(&self) -> String {
        let mut s = format!(
            "SSRC {:#010x} {}: {}/{} pkts, {} lost {:.1}%, jitter {:.2} ms",
            self.ssrc,
            codec_label(self.codec),
            self.packets,
            self.expected,
            self.lost,
            self.lost_percent,
            self.jitter_ms
        );
        for (n, what) in [(self.duplicates, "dup"), (self.out_of_order, "late"), (self.dtmf_events, "DTMF")] {
            if n > 0 {
                s.push_str(&format!(", {n} {what}"));
            }
        }
        s
    }
}

/// Short enough for a table column; the zoom view carries the full name.
pub fn codec_label(c: Codec) -> String {
    match c {
        Codec::TelephoneEvent => "event".into(),
        other => other.name(),
    }
}

/// The streams of a call as a history row keeps them: the newest [`RECORD_STREAMS`].
pub fn snapshot<'a>(streams: impl DoubleEndedIterator<Item = &'a StreamStats> + ExactSizeIterator) -> Vec<StreamSummary> {
    let skip = streams.len().saturating_sub(RECORD_STREAMS);
    streams.skip(skip).map(StreamSummary::ended).collect()
}
