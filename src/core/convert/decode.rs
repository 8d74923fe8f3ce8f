//! Decoding a WAV's samples to mono floats, and resampling them to the phone rate.

use std::io;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler as _};

use super::{ConvertError, PHONE_RATE};
use crate::core::audio::Law;
use crate::core::wav::{Encoding, Verdict, WavInfo};

pub(super) fn to_i16(x: f32) -> i16 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// The first `frames` frames of the data, channels averaged, as floats in [-1, 1).
pub fn decode_mono(file: &[u8], info: &WavInfo, frames: usize) -> Result<Vec<f32>, ConvertError> {
    let ch = info.channels as usize;
    let mut mono = Vec::with_capacity(frames);
    let mut push = |samples: &mut dyn Iterator<Item = Result<f32, ConvertError>>| -> Result<(), ConvertError> {
        let mut sum = 0f32;
        for (i, s) in samples.take(frames * ch).enumerate() {
            sum += s?;
            if i % ch == ch - 1 {
                mono.push(sum / ch as f32);
                sum = 0.0;
            }
        }
        Ok(())
    };
    let data = &file[info.data_offset..file.len().min(info.data_offset + info.data_len)];
    match info.encoding {
        Encoding::MuLaw | Encoding::ALaw => {
            let law = if info.encoding == Encoding::MuLaw { Law::MuLaw } else { Law::ALaw };
            push(&mut data.iter().map(|&b| Ok(law.decode(b) as f32 / 32768.0)))?;
        }
        Encoding::Float { bits: 64 } => {
            push(&mut data.chunks_exact(8).map(|c| {
                let b: [u8; 8] = c.try_into().expect("chunks_exact gives 8 bytes");
                Ok(f64::from_le_bytes(b) as f32)
            }))?;
        }
        Encoding::Float { bits: 32 } => {
            let mut r = hound::WavReader::new(io::Cursor::new(file))?;
            push(&mut r.samples::<f32>().map(|s| s.map_err(ConvertError::from)))?;
        }
        Encoding::Pcm { .. } => {
            let mut r = hound::WavReader::new(io::Cursor::new(file))?;
            // hound reports the valid bits (24 in a 32-bit container, say) and returns
            // samples on that scale.
            let scale = 1.0 / (1u64 << (r.spec().bits_per_sample.clamp(1, 32) - 1)) as f32;
            push(&mut r.samples::<i32>().map(|s| s.map(|v| v as f32 * scale).map_err(ConvertError::from)))?;
        }
        other => return Err(ConvertError::NotConvertible(Verdict::Unsupported(format!("{other} cannot be decoded here")))),
    }
    Ok(mono)
}

/// Resample mono audio to 8000 Hz with rubato's FFT resampler: band-limited (its
/// anti-aliasing filter removes what lies above 4 kHz instead of folding it back), with
/// its delay trimmed so the output lines up with the input.
pub fn resample(mono: &[f32], rate: u32) -> Result<Vec<f32>, ConvertError> {
    if rate == PHONE_RATE || mono.is_empty() {
        return Ok(mono.to_vec());
    }
    let err = |e: &dyn std::fmt::Display| ConvertError::Resample(e.to_string());
    let mut r = Fft::<f32>::new(rate as usize, PHONE_RATE as usize, 1024, 1, FixedSync::Input).map_err(|e| err(&e))?;
    let input = InterleavedSlice::new(mono, 1, mono.len()).map_err(|e| err(&e))?;
    let out = r.process_all(&input, mono.len(), None).map_err(|e| err(&e))?;
    Ok(out.take_data())
}
