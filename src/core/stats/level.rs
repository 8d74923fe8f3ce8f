//! Audio level of a G.711 stream: RMS and peak in dBFS over the last 200 ms of samples.

use crate::core::audio::{self, Law, Level};

/// Samples a reading covers: the last 200 ms at 8000 Hz, steady enough to read, quick
/// enough to follow speech.
pub const WINDOW_SAMPLES: usize = 1600;

/// Keeps the codes of the last [`WINDOW_SAMPLES`] samples and measures them when asked.
///
/// A packet only copies its payload into a ring; decoding, squaring and the peak happen when
/// the screen reads the level (a few times a second), not per packet. Under a flood of
/// thousands of packets per frame that moved the meter from the largest single cost of the
/// UI thread (benches/flood.rs) to a memcpy.
#[derive(Debug, Clone)]
pub struct LevelMeter {
    ring: Box<[u8; WINDOW_SAMPLES]>,
    /// Where the next code goes.
    at: usize,
    /// Codes held, up to the window.
    held: usize,
    /// The law of every held code: a change of law starts the window again.
    law: Law,
}

impl Default for LevelMeter {
    fn default() -> Self {
        LevelMeter { ring: Box::new([0; WINDOW_SAMPLES]), at: 0, held: 0, law: Law::MuLaw }
    }
}

impl LevelMeter {
    pub fn push(&mut self, law: Law, payload: &[u8]) {
        if law != self.law {
            self.law = law;
            self.held = 0;
        }
        // Only the newest window of a long payload can count.
        let payload = &payload[payload.len().saturating_sub(WINDOW_SAMPLES)..];
        let first = payload.len().min(WINDOW_SAMPLES - self.at);
        self.ring[self.at..self.at + first].copy_from_slice(&payload[..first]);
        let rest = &payload[first..];
        self.ring[..rest.len()].copy_from_slice(rest);
        self.at = (self.at + payload.len()) % WINDOW_SAMPLES;
        self.held = (self.held + payload.len()).min(WINDOW_SAMPLES);
    }

    /// RMS and peak of the last window of samples (fewer while a stream is young); silent
    /// before any.
    pub fn level(&self) -> Level {
        // Codes counted per value and each value decoded once: 256 decodes at most.
        let mut hist = [0u32; 256];
        let start = (self.at + WINDOW_SAMPLES - self.held) % WINDOW_SAMPLES;
        let (a, b) = if start + self.held <= WINDOW_SAMPLES {
            (&self.ring[start..start + self.held], &self.ring[..0])
        } else {
            (&self.ring[start..], &self.ring[..self.at])
        };
        for &c in a.iter().chain(b) {
            hist[c as usize] += 1;
        }
        let decode = match self.law {
            Law::MuLaw => audio::ulaw_to_linear,
            Law::ALaw => audio::alaw_to_linear,
        };
        let (mut sum_squares, mut peak) = (0i64, 0i32);
        for (code, &n) in hist.iter().enumerate().filter(|(_, n)| **n > 0) {
            let s = decode(code as u8) as i32;
            sum_squares += n as i64 * (s * s) as i64;
            peak = peak.max(s.abs());
        }
        Level::from_sums(sum_squares as f64, peak, self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::audio::{linear_to_ulaw, Tone};

    #[test]
    fn a_change_of_law_starts_the_window_again() {
        let mut m = LevelMeter::default();
        let (mu, a) = (linear_to_ulaw(8000), crate::core::audio::linear_to_alaw(-2000));
        m.push(Law::MuLaw, &[mu; 800]);
        m.push(Law::ALaw, &[a; 800]);
        let sa = Law::ALaw.decode(a) as f64;
        let want = (20.0 * (sa.abs() / 32768.0).log10()) as f32;
        assert!((m.level().rms_dbfs - want).abs() < 1e-3, "{:?} vs {want}", m.level());
        assert!((m.level().peak_dbfs - want).abs() < 1e-3);
    }

    #[test]
    fn measures_the_last_window_of_samples() {
        let mut m = LevelMeter::default();
        assert_eq!(m.level(), Level::SILENT, "nothing received");
        // A constant of 3277 (one tenth of full scale) is -20 dBFS RMS and peak alike, but
        // mu-law rounds it to a step: measure against the decoded value.
        let loud = linear_to_ulaw(3277);
        let decoded = Law::MuLaw.decode(loud) as f64;
        let want = (20.0 * (decoded / 32768.0).log10()) as f32;
        m.push(Law::MuLaw, &[loud; 160]);
        assert!((m.level().rms_dbfs - want).abs() < 1e-4, "a young stream reads what it has");
        assert!((want + 20.0).abs() < 0.3);
        // A loud burst, then a whole window of silence in odd sizes that wrap the ring:
        // the burst has left the window.
        m.push(Law::MuLaw, &[loud; 1000]);
        for _ in 0..10 {
            m.push(Law::MuLaw, &[crate::core::audio::ULAW_SILENCE; 161]);
        }
        assert!(m.level().peak_dbfs < -70.0, "{:?}", m.level());
        // Half a window loud again: RMS 3 dB under the tone, peak the tone's.
        m.push(Law::MuLaw, &[loud; 800]);
        let l = m.level();
        assert!((l.peak_dbfs - want).abs() < 1e-4, "{l:?}");
        assert!((l.rms_dbfs - (want - 3.01)).abs() < 0.05, "{l:?}");
        // A payload longer than the window counts by its newest samples.
        let mut long = vec![loud; 3000];
        long[1400..].fill(crate::core::audio::ULAW_SILENCE);
        m.push(Law::MuLaw, &long);
        assert!(m.level().peak_dbfs < -70.0, "{:?}", m.level());
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
        m.push(Law::ALaw, &[crate::core::audio::ALAW_SILENCE; 1600]);
        assert!(m.level().rms_dbfs < -70.0);
    }
}
