//! G.711 mu-law and A-law (ITU-T G.711), levels, and a test tone.
//!
//! The codecs follow the classic Sun reference implementation (g711.c) that sox and ffmpeg
//! also use, so decoded values match theirs exactly.

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// Linear 16-bit PCM to mu-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut pcm = sample as i32;
    let mask: u8 = if pcm < 0 {
        pcm = -pcm;
        0x7f
    } else {
        0xff
    };
    if pcm > CLIP {
        pcm = CLIP;
    }
    pcm += BIAS;
    let seg = segment(pcm >> 7);
    let uval = ((seg << 4) as i32 | ((pcm >> (seg + 3)) & 0x0f)) as u8;
    uval ^ mask
}

/// Index of the highest set bit among the 8 segment bits (0..=7).
fn segment(v: i32) -> u32 {
    let v = (v & 0xff) as u32;
    if v == 0 {
        0
    } else {
        31 - v.leading_zeros()
    }
}

/// Mu-law to linear 16-bit PCM.
pub fn ulaw_to_linear(u: u8) -> i16 {
    ULAW_TABLE[u as usize]
}

const fn ulaw_decode(u: u8) -> i16 {
    let u = !u;
    let t = (((u & 0x0f) as i32) << 3) + BIAS;
    let t = t << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 { BIAS - t } else { t - BIAS }) as i16
}

/// Linear 16-bit PCM to A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut pcm = sample as i32;
    let mask: u8 = if pcm >= 0 {
        0xd5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    pcm = pcm.min(32767) >> 3; // 13-bit magnitude
    let aval = if pcm < 32 {
        (pcm >> 1) as u8
    } else {
        let seg = 32 - (pcm as u32).leading_zeros() - 5; // 1..=7
        ((seg << 4) as i32 | ((pcm >> seg) & 0x0f)) as u8
    };
    aval ^ mask
}

/// A-law to linear 16-bit PCM.
pub fn alaw_to_linear(a: u8) -> i16 {
    ALAW_TABLE[a as usize]
}

const fn alaw_decode(a: u8) -> i16 {
    let a = a ^ 0x55;
    let mut t = ((a & 0x0f) as i32) << 4;
    let seg = ((a & 0x70) >> 4) as i32;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

static ULAW_TABLE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_decode(i as u8);
        i += 1;
    }
    t
};

static ALAW_TABLE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_decode(i as u8);
        i += 1;
    }
    t
};

/// The mu-law byte for digital silence.
pub const ULAW_SILENCE: u8 = 0xff;
/// The A-law byte for digital silence (decodes to +8, the smallest step).
pub const ALAW_SILENCE: u8 = 0xd5;

/// Which G.711 law a stream, a capture or a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    MuLaw,
    ALaw,
}

impl Law {
    pub fn decode(self, b: u8) -> i16 {
        match self {
            Law::MuLaw => ulaw_to_linear(b),
            Law::ALaw => alaw_to_linear(b),
        }
    }

    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Law::MuLaw => linear_to_ulaw(sample),
            Law::ALaw => linear_to_alaw(sample),
        }
    }

    pub fn silence(self) -> u8 {
        match self {
            Law::MuLaw => ULAW_SILENCE,
            Law::ALaw => ALAW_SILENCE,
        }
    }
}

/// RMS and peak of a block of linear samples, in dBFS (full scale = 32768).
/// Silence reports `f32::NEG_INFINITY`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub rms_dbfs: f32,
    pub peak_dbfs: f32,
}

impl Level {
    pub const SILENT: Level = Level { rms_dbfs: f32::NEG_INFINITY, peak_dbfs: f32::NEG_INFINITY };

    pub fn from_sums(sum_squares: f64, peak: i32, count: usize) -> Level {
        if count == 0 {
            return Level::SILENT;
        }
        let rms = (sum_squares / count as f64).sqrt();
        Level { rms_dbfs: to_dbfs(rms), peak_dbfs: to_dbfs(peak as f64) }
    }
}

fn to_dbfs(v: f64) -> f32 {
    if v <= 0.0 {
        f32::NEG_INFINITY
    } else {
        (20.0 * (v / 32768.0).log10()) as f32
    }
}

/// A mu-law sine generator with continuous phase across calls, for the demo peer.
#[derive(Debug, Clone)]
pub struct Tone {
    phase: f64,
    step: f64,
    amplitude: f64,
}

impl Tone {
    pub fn new(freq_hz: f64, sample_rate: f64, amplitude: f64) -> Tone {
        Tone { phase: 0.0, step: std::f64::consts::TAU * freq_hz / sample_rate, amplitude }
    }

    pub fn fill_ulaw(&mut self, out: &mut [u8]) {
        for b in out {
            let s = (self.phase.sin() * self.amplitude * 32767.0) as i16;
            *b = linear_to_ulaw(s);
            self.phase = (self.phase + self.step) % std::f64::consts::TAU;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_matches_reference_values() {
        // Values of the ITU/Sun table, as sox decodes them.
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(ulaw_to_linear(0x7f), 0);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0xfe), 8);
        assert_eq!(ulaw_to_linear(0x7e), -8);
        assert_eq!(ulaw_to_linear(0xf0), 120);
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(linear_to_ulaw(-1), 0x7f);
        assert_eq!(linear_to_ulaw(32767), 0x80);
        assert_eq!(linear_to_ulaw(-32768), 0x00);
    }

    #[test]
    fn alaw_matches_reference_values() {
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xaa), 32256);
        assert_eq!(alaw_to_linear(0x2a), -32256);
        assert_eq!(linear_to_alaw(0), 0xd5);
        assert_eq!(linear_to_alaw(32767), 0xaa);
        assert_eq!(linear_to_alaw(-32768), 0x2a);
    }

    #[test]
    fn every_code_round_trips() {
        for c in 0..=255u8 {
            let u = linear_to_ulaw(ulaw_to_linear(c));
            // 0x7f (negative zero) encodes back as 0xff (positive zero).
            if c != 0x7f {
                assert_eq!(u, c, "ulaw {c:#x}");
            }
            assert_eq!(linear_to_alaw(alaw_to_linear(c)), c, "alaw {c:#x}");
        }
    }

    #[test]
    fn encoding_error_stays_within_one_step() {
        for s in (-32768i32..=32767).step_by(7) {
            let s = s as i16;
            let d = ulaw_to_linear(linear_to_ulaw(s));
            let err = (d as i32 - s as i32).abs();
            assert!(err <= (s as i32).abs() / 16 + 132, "ulaw error {err} at {s}");
            let a = alaw_to_linear(linear_to_alaw(s));
            let erra = (a as i32 - s as i32).abs();
            assert!(erra <= (s as i32).abs() / 16 + 16, "alaw error {erra} at {s}");
        }
    }

    #[test]
    fn levels_in_dbfs() {
        let full = Level::from_sums(32768.0f64.powi(2) * 10.0, 32768, 10);
        assert!((full.rms_dbfs - 0.0).abs() < 1e-4);
        assert_eq!(Level::from_sums(0.0, 0, 10), Level::SILENT);
        // A full-scale sine has RMS -3.01 dBFS.
        let mut tone = Tone::new(1000.0, 8000.0, 1.0);
        let mut buf = [0u8; 8000];
        tone.fill_ulaw(&mut buf);
        let (mut sq, mut pk) = (0f64, 0i32);
        for b in buf {
            let s = ulaw_to_linear(b) as i32;
            sq += (s * s) as f64;
            pk = pk.max(s.abs());
        }
        let l = Level::from_sums(sq, pk, buf.len());
        assert!((l.rms_dbfs + 3.01).abs() < 0.2, "{l:?}");
        assert!(l.peak_dbfs > -0.2, "{l:?}");
    }
}
