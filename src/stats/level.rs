//! Audio level of a G.711 stream: RMS and peak in dBFS over blocks of decoded samples.

use crate::audio::{self, Level};
use crate::wav::Law;

/// Samples per published reading: 200 ms at 8000 Hz, steady enough to read, quick enough
/// to follow speech.
pub const BLOCK_SAMPLES: u32 = 1600;

/// Accumulates decoded samples and publishes a [`Level`] once per block.
#[derive(Debug, Clone)]
pub struct LevelMeter {
    /// Sum of squares of the block so far; 1600 samples of at most 2^30 fit in an i64.
    sum_squares: i64,
    peak: i32,
    count: u32,
    current: Level,
}

impl Default for LevelMeter {
    fn default() -> Self {
        LevelMeter { sum_squares: 0, peak: 0, count: 0, current: Level::SILENT }
    }
}

impl LevelMeter {
    pub fn push(&mut self, law: Law, payload: &[u8]) {
        let mut rest = payload;
        while !rest.is_empty() {
            let take = ((BLOCK_SAMPLES - self.count) as usize).min(rest.len());
            let (chunk, tail) = rest.split_at(take);
            // One law per chunk, so the decode is a plain table lookup in the loop.
            let (squares, peak) = match law {
                Law::MuLaw => sums(chunk, audio::ulaw_to_linear),
                Law::ALaw => sums(chunk, audio::alaw_to_linear),
            };
            self.sum_squares += squares;
            self.peak = self.peak.max(peak);
            self.count += take as u32;
            if self.count == BLOCK_SAMPLES {
                self.publish();
            }
            rest = tail;
        }
    }

    fn publish(&mut self) {
        self.current = Level::from_sums(self.sum_squares as f64, self.peak, self.count as usize);
        self.sum_squares = 0;
        self.peak = 0;
        self.count = 0;
    }

    /// The level of the last complete block; silent until one is complete.
    pub fn level(&self) -> Level {
        self.current
    }
}

fn sums(chunk: &[u8], decode: impl Fn(u8) -> i16) -> (i64, i32) {
    chunk.iter().fold((0i64, 0i32), |(squares, peak), &b| {
        let s = decode(b) as i32;
        (squares + (s * s) as i64, peak.max(s.abs()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{linear_to_ulaw, Tone};

    #[test]
    fn publishes_per_block_of_decoded_samples() {
        let mut m = LevelMeter::default();
        // A constant of 3277 (one tenth of full scale) is -20 dBFS RMS and peak alike, but
        // mu-law rounds it to a step: measure against the decoded value.
        let code = linear_to_ulaw(3277);
        let decoded = Law::MuLaw.decode(code) as f64;
        let want = (20.0 * (decoded / 32768.0).log10()) as f32;
        m.push(Law::MuLaw, &[code; 1599]);
        assert_eq!(m.level(), Level::SILENT, "no block complete yet");
        m.push(Law::MuLaw, &[code; 1]);
        assert!((m.level().rms_dbfs - want).abs() < 1e-4, "{:?}", m.level());
        assert!((m.level().peak_dbfs - want).abs() < 1e-4);
        assert!((want + 20.0).abs() < 0.3);
    }

    #[test]
    fn a_half_scale_sine_reads_about_minus_9_rms_and_minus_6_peak() {
        let mut m = LevelMeter::default();
        let mut tone = Tone::new(1000.0, 8000.0, 0.5);
        let mut buf = [0u8; 160];
        for _ in 0..10 {
            tone.fill_ulaw(&mut buf);
            m.push(Law::MuLaw, &buf);
        }
        let l = m.level();
        assert!((l.rms_dbfs + 9.03).abs() < 0.2, "{l:?}");
        assert!((l.peak_dbfs + 6.02).abs() < 0.2, "{l:?}");
    }

    #[test]
    fn alaw_silence_is_very_quiet() {
        let mut m = LevelMeter::default();
        m.push(Law::ALaw, &[crate::audio::ALAW_SILENCE; 1600]);
        assert!(m.level().rms_dbfs < -70.0);
    }
}
