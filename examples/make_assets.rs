//! Writes the sample WAVs in `assets/`: `cargo run --example make_assets`.
//!
//! Everything is computed from fixed formulas, so running it again gives the same files.
//! - `tone-8k-mulaw.wav`: 8000 Hz mono mu-law (format 7), ready to upload as it is.
//! - `chord-44k-stereo.wav`: 44.1 kHz stereo 16-bit PCM; the browser offers to convert it.
//! - `broken.wav`: a mu-law header promising more data than the file holds; never sent.

use std::f64::consts::TAU;
use std::path::Path;

use anyhow::Context as _;
use sipdeck::core::audio::linear_to_ulaw;
use sipdeck::core::wav::{g711_wav, Law};

/// A gain ramp of `fade` seconds at both ends of a note, so notes start and stop without clicks.
fn envelope(t: f64, len: f64, fade: f64) -> f64 {
    (t / fade).min((len - t) / fade).clamp(0.0, 1.0)
}

/// A dial-tone-like 440 Hz, then a rising arpeggio and two DTMF pairs: 4 s at 8 kHz.
fn tone_8k() -> Vec<u8> {
    const RATE: f64 = 8000.0;
    // (seconds, frequencies)
    let notes: &[(f64, &[f64])] = &[
        (0.8, &[440.0]),
        (0.2, &[]),
        (0.35, &[523.25]),
        (0.35, &[659.25]),
        (0.35, &[783.99]),
        (0.55, &[1046.50]),
        (0.2, &[]),
        (0.3, &[697.0, 1209.0]), // DTMF 1
        (0.1, &[]),
        (0.3, &[770.0, 1336.0]), // DTMF 5
        (0.5, &[]),
    ];
    let mut out = Vec::new();
    for &(len, freqs) in notes {
        let n = (len * RATE).round() as usize;
        for i in 0..n {
            let t = i as f64 / RATE;
            let s: f64 = freqs.iter().map(|f| (TAU * f * t).sin()).sum::<f64>() / freqs.len().max(1) as f64;
            let v = 0.5 * s * envelope(t, len, 0.01);
            out.push(linear_to_ulaw((v * 32767.0).round() as i16));
        }
    }
    g711_wav(Law::MuLaw, &out)
}

/// A C major chord on the left and A minor on the right, with a faint 6 kHz partial that a
/// band-limited conversion to 8 kHz must remove: 3 s of 44.1 kHz stereo 16-bit.
fn chord_44k() -> anyhow::Result<Vec<u8>> {
    const RATE: u32 = 44_100;
    const LEN: f64 = 3.0;
    let left = [261.63, 329.63, 392.00];
    let right = [220.00, 261.63, 329.63];
    let spec = hound::WavSpec { channels: 2, sample_rate: RATE, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut c = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut c, spec)?;
    let n = (LEN * RATE as f64) as usize;
    for i in 0..n {
        let t = i as f64 / RATE as f64;
        let env = envelope(t, LEN, 0.05);
        let air = 0.04 * (TAU * 6000.0 * t).sin();
        for chord in [&left, &right] {
            let s: f64 = chord.iter().map(|f| (TAU * f * t).sin()).sum::<f64>() / 3.0;
            w.write_sample(((0.6 * s + air) * env * 32767.0).round() as i16)?;
        }
    }
    w.finalize()?;
    Ok(c.into_inner())
}

/// A mu-law file whose data chunk claims 16,000 bytes and holds 2,000.
fn broken() -> Vec<u8> {
    let data: Vec<u8> = (0..16_000).map(|i| linear_to_ulaw(((TAU * 440.0 * i as f64 / 8000.0).sin() * 8000.0) as i16)).collect();
    let mut f = g711_wav(Law::MuLaw, &data);
    f.truncate(58 + 2000);
    f
}

fn main() -> anyhow::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let files = [("tone-8k-mulaw.wav", tone_8k()), ("chord-44k-stereo.wav", chord_44k()?), ("broken.wav", broken())];
    for (name, bytes) in files {
        let path = dir.join(name);
        sipdeck::client::files::save_atomic(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}
