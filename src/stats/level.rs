//! Audio level of a G.711 stream: RMS and peak in dBFS over blocks of decoded samples.

use crate::audio::{self, Level};
use crate::wav::Law;

/// Samples per published reading: 200 ms at 8000 Hz, steady enough to read, quick enough
/// to follow speech.
pub const BLOCK_SAMPLES: u32 = 1600;

/// Accumulates decoded samples and publishes a [`Level`] once per block.
///
/// Samples are counted per code (a histogram) and decoded once per code when the block
/// closes: one increment per sample instead of a decode, a multiply and a max, which made
/// the meter the largest single cost of the UI thread under a flood (benches/flood.rs).
#[derive(Debug, Clone)]
pub struct LevelMeter {
    /// Sum of squares of the block's folded samples; 1600 samples of at most 2^30 fit in an i64.
    sum_squares: i64,
    peak: i32,
    count: u32,
    current: Level,
    /// Samples of the block not folded yet, counted per code, all of `hist_law`.
    hist: [u16; 256],
    hist_law: Law,
}

impl Default for LevelMeter {
    fn default() -> Self {
        LevelMeter { sum_squares: 0, peak: 0, count: 0, current: Level::SILENT, hist: [0; 256], hist_law: Law::MuLaw }
    }
}

impl LevelMeter {
    pub fn push(&mut self, law: Law, payload: &[u8]) {
        if law != self.hist_law {
            // The histogram holds one law: fold what it has before the other law comes.
            self.fold_hist();
            self.hist_law = law;
        }
        let mut rest = payload;
        while !rest.is_empty() {
            let take = ((BLOCK_SAMPLES - self.count) as usize).min(rest.len());
            let (chunk, tail) = rest.split_at(take);
            for &b in chunk {
                self.hist[b as usize] += 1;
            }
            self.count += take as u32;
            if self.count == BLOCK_SAMPLES {
                self.publish();
            }
            rest = tail;
        }
    }

    /// Decode each code seen once and add its samples to the block's sums.
    fn fold_hist(&mut self) {
        let decode = match self.hist_law {
            Law::MuLaw => audio::ulaw_to_linear,
            Law::ALaw => audio::alaw_to_linear,
        };
        for (code, n) in self.hist.iter_mut().enumerate() {
            if *n > 0 {
                let s = decode(code as u8) as i32;
                self.sum_squares += *n as i64 * (s * s) as i64;
                self.peak = self.peak.max(s.abs());
                *n = 0;
            }
        }
    }

    fn publish(&mut self) {
        self.fold_hist();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{linear_to_ulaw, Tone};

    #[test]
    fn a_block_that_changes_law_measures_each_part_in_its_own_law() {
        let mut m = LevelMeter::default();
        let (mu, a) = (linear_to_ulaw(8000), crate::audio::linear_to_alaw(-2000));
        m.push(Law::MuLaw, &[mu; 800]);
        m.push(Law::ALaw, &[a; 800]);
        let (smu, sa) = (Law::MuLaw.decode(mu) as f64, Law::ALaw.decode(a) as f64);
        let rms = ((800.0 * smu * smu + 800.0 * sa * sa) / 1600.0).sqrt();
        let want = (20.0 * (rms / 32768.0).log10()) as f32;
        assert!((m.level().rms_dbfs - want).abs() < 1e-3, "{:?} vs {want}", m.level());
        let peak = (20.0 * (smu.abs().max(sa.abs()) / 32768.0).log10()) as f32;
        assert!((m.level().peak_dbfs - peak).abs() < 1e-3);
    }

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
