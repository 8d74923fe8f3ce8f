//! The two WAV files a recording is saved as: G.711 in its own container (format 7 or 6,
//! which hound does not write) and 16-bit PCM through hound.

use std::io;

use super::{G711_HEADER_LEN, WAVE_FORMAT_ALAW, WAVE_FORMAT_MULAW};
use crate::core::audio::Law;

/// The WAVE format tag of a G.711 law.
pub fn format_tag(law: Law) -> u16 {
    match law {
        Law::MuLaw => WAVE_FORMAT_MULAW,
        Law::ALaw => WAVE_FORMAT_ALAW,
    }
}

/// A complete 8 kHz mono G.711 WAV file: `fmt ` of 18 bytes (cbSize 0), `fact` with the
/// sample count, `data`, and a pad byte when the data length is odd (RIFF chunks are
/// word-aligned). Every size field matches the bytes written.
pub fn g711_wav(law: Law, data: &[u8]) -> Vec<u8> {
    let pad = data.len() % 2;
    let riff_size = (G711_HEADER_LEN - 8 + data.len() + pad) as u32;
    let mut out = Vec::with_capacity(G711_HEADER_LEN + data.len() + pad);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&format_tag(law).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // channels
    out.extend_from_slice(&8000u32.to_le_bytes()); // sample rate
    out.extend_from_slice(&8000u32.to_le_bytes()); // byte rate
    out.extend_from_slice(&1u16.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(&0u16.to_le_bytes()); // cbSize
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if pad == 1 {
        out.push(0);
    }
    out
}

/// 8 kHz mono 16-bit PCM WAV of G.711 bytes, written by hound.
pub fn pcm16_wav(law: Law, data: &[u8]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = io::Cursor::new(Vec::with_capacity(44 + data.len() * 2));
    {
        // Writing to memory cannot fail short of allocation failure.
        let mut w = hound::WavWriter::new(&mut cursor, spec).expect("in-memory WAV header");
        for &b in data {
            w.write_sample(law.decode(b)).expect("in-memory WAV sample");
        }
        w.finalize().expect("in-memory WAV finalize");
    }
    cursor.into_inner()
}
