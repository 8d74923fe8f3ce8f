//! WAV writing, header reading and verdicts, byte by byte.

use std::io;

use super::header::{u16_at, u32_at};
use super::*;
use crate::core::audio::Law;
use crate::core::protocol::MAX_WAV_BYTES;

#[test]
fn g711_header_byte_by_byte() {
    let f = g711_wav(Law::MuLaw, &[0xff, 0x7f, 0x00]);
    let mut want: Vec<u8> = Vec::new();
    want.extend(b"RIFF");
    want.extend(54u32.to_le_bytes()); // 58 - 8 + 3 data + 1 pad
    want.extend(b"WAVEfmt ");
    want.extend(18u32.to_le_bytes());
    want.extend([7, 0, 1, 0]);
    want.extend(8000u32.to_le_bytes());
    want.extend(8000u32.to_le_bytes());
    want.extend([1, 0, 8, 0, 0, 0]);
    want.extend(b"fact");
    want.extend(4u32.to_le_bytes());
    want.extend(3u32.to_le_bytes());
    want.extend(b"data");
    want.extend(3u32.to_le_bytes());
    want.extend([0xff, 0x7f, 0x00, 0x00]);
    assert_eq!(f, want);
    assert_eq!(f.len(), 62);
    // Even data: no pad, RIFF size = file length - 8, no stray bytes anywhere.
    let g = g711_wav(Law::ALaw, &[1; 320]);
    assert_eq!(g.len(), 58 + 320);
    assert_eq!(u32_at(&g, 4) as usize, g.len() - 8);
    assert_eq!(u16_at(&g, 20), 6);
}

#[test]
fn reads_back_what_it_writes() {
    let f = g711_wav(Law::MuLaw, &[0x55; 8000]);
    let info = parse_header(&f).unwrap();
    assert_eq!(info.encoding, Encoding::MuLaw);
    assert_eq!((info.sample_rate, info.channels, info.block_align), (8000, 1, 1));
    assert_eq!((info.data_offset, info.data_len), (58, 8000));
    assert!(!info.truncated());
    assert!(info.is_phone_ready());
    assert!((info.duration_secs() - 1.0).abs() < 1e-9);
    assert_eq!(phone_ulaw(&f).unwrap().len(), 8000);
}

#[test]
fn pcm16_through_hound_is_readable() {
    let f = pcm16_wav(Law::MuLaw, &[0x80, 0x00, 0xff]);
    let mut r = hound::WavReader::new(io::Cursor::new(&f)).unwrap();
    assert_eq!(r.spec().sample_rate, 8000);
    let s: Vec<i16> = r.samples::<i16>().map(|s| s.unwrap()).collect();
    assert_eq!(s, vec![32124, -32124, 0]);
    let info = parse_header(&f).unwrap();
    assert_eq!(info.encoding, Encoding::Pcm { bits: 16 });
    assert_eq!(phone_ulaw(&f).unwrap().as_ref(), &[0x80, 0x00, 0xff]);
}

#[test]
fn survives_truncated_and_lying_headers() {
    let full = g711_wav(Law::MuLaw, &[0x11; 1000]);
    let cut = &full[..500];
    let info = parse_header(cut).unwrap();
    assert!(info.truncated());
    assert_eq!((info.data_declared, info.data_len), (1000, 442));
    // A data size of 4 GiB in a tiny file.
    let mut lie = g711_wav(Law::MuLaw, &[1, 2]);
    lie[54..58].copy_from_slice(&u32::MAX.to_le_bytes());
    let info = parse_header(&lie).unwrap();
    assert_eq!(info.data_len, 2);
    assert!(info.truncated());
    // A chunk size that jumps past the end before any data.
    let mut skip = g711_wav(Law::MuLaw, &[1, 2]);
    skip[42..46].copy_from_slice(&u32::MAX.to_le_bytes()); // fact size
    assert_eq!(parse_header(&skip), Err(WavError::NoData));
    assert_eq!(parse_header(b"RIFX\0\0\0\0WAVE"), Err(WavError::NotRiff));
    assert_eq!(parse_header(b"RIFF\0\0\0\0AVI "), Err(WavError::NotWave));
    assert_eq!(parse_header(b"RIFF"), Err(WavError::NotRiff));
    assert_eq!(parse_header(&full[..30]), Err(WavError::ShortFmt(10)));
    let mut nofmt = b"RIFF\0\0\0\0WAVEdata\x02\0\0\0ab".to_vec();
    assert_eq!(parse_header(&nofmt), Err(WavError::NoFmt));
    nofmt.truncate(12);
    assert_eq!(parse_header(&nofmt), Err(WavError::NoFmt));
    let mut zero_ch = full.clone();
    zero_ch[22] = 0;
    assert!(matches!(parse_header(&zero_ch), Err(WavError::Invalid(_))));
}

/// A WAV built field by field, so headers can say anything: `fmt_extra` follows the
/// 16 standard bytes of `fmt ` (cbSize and beyond), `declared` is the data chunk's size.
fn raw_wav(tag: u16, channels: u16, rate: u32, bits: u16, fmt_extra: &[u8], declared: u32, data: &[u8]) -> Vec<u8> {
    let align = channels * bits.div_ceil(8).max(1);
    let mut f = Vec::new();
    f.extend(b"RIFF");
    f.extend(0u32.to_le_bytes()); // nothing here reads the RIFF size
    f.extend(b"WAVEfmt ");
    f.extend((16 + fmt_extra.len() as u32).to_le_bytes());
    f.extend(tag.to_le_bytes());
    f.extend(channels.to_le_bytes());
    f.extend(rate.to_le_bytes());
    f.extend((rate * align as u32).to_le_bytes());
    f.extend(align.to_le_bytes());
    f.extend(bits.to_le_bytes());
    f.extend(fmt_extra);
    f.extend(b"data");
    f.extend(declared.to_le_bytes());
    f.extend(data);
    f
}

/// The 24 bytes after cbSize of WAVE_FORMAT_EXTENSIBLE, with a SubFormat GUID of `tag`.
fn extensible_tail(valid_bits: u16, tag: u16) -> Vec<u8> {
    let mut e = 22u16.to_le_bytes().to_vec();
    e.extend(valid_bits.to_le_bytes());
    e.extend(0u32.to_le_bytes()); // channel mask
    e.extend(tag.to_le_bytes());
    e.extend([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);
    e
}

fn hound_wav(channels: u16, rate: u32, bits: u16, format: hound::SampleFormat, frames: usize) -> Vec<u8> {
    let spec = hound::WavSpec { channels, sample_rate: rate, bits_per_sample: bits, sample_format: format };
    let mut c = io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
    for i in 0..frames * channels as usize {
        match format {
            hound::SampleFormat::Float => w.write_sample(i as f32 / 1000.0).unwrap(),
            hound::SampleFormat::Int => w.write_sample((i % 100) as i32).unwrap(),
        }
    }
    w.finalize().unwrap();
    c.into_inner()
}

#[test]
fn names_every_encoding() {
    use hound::SampleFormat::{Float, Int};
    // (file, encoding, rate, channels, block align, frames)
    let cases: Vec<(Vec<u8>, Encoding, u32, u16, u16, u64)> = vec![
        (hound_wav(1, 8000, 8, Int, 80), Encoding::Pcm { bits: 8 }, 8000, 1, 1, 80),
        (hound_wav(2, 44100, 16, Int, 441), Encoding::Pcm { bits: 16 }, 44100, 2, 4, 441),
        // hound writes more than 16 bits as WAVE_FORMAT_EXTENSIBLE.
        (hound_wav(1, 48000, 24, Int, 48), Encoding::Pcm { bits: 24 }, 48000, 1, 3, 48),
        (hound_wav(2, 16000, 32, Int, 16), Encoding::Pcm { bits: 32 }, 16000, 2, 8, 16),
        (hound_wav(1, 22050, 32, Float, 22050), Encoding::Float { bits: 32 }, 22050, 1, 4, 22050),
        (raw_wav(3, 1, 8000, 64, &[0, 0], 64, &[0; 64]), Encoding::Float { bits: 64 }, 8000, 1, 8, 8),
        (g711_wav(Law::ALaw, &[0xd5; 800]), Encoding::ALaw, 8000, 1, 1, 800),
        (g711_wav(Law::MuLaw, &[0xff; 400]), Encoding::MuLaw, 8000, 1, 1, 400),
        (raw_wav(0xfffe, 1, 8000, 8, &extensible_tail(8, 7), 8, &[0; 8]), Encoding::MuLaw, 8000, 1, 1, 8),
        (raw_wav(0x0055, 2, 44100, 0, &[0, 0], 4, &[0; 4]), Encoding::Other(0x55), 44100, 2, 2, 2),
        (raw_wav(0x0002, 1, 8000, 4, &[0, 0], 4, &[0; 4]), Encoding::Other(2), 8000, 1, 1, 4),
    ];
    for (file, enc, rate, ch, align, frames) in cases {
        let info = parse_header(&file).unwrap_or_else(|e| panic!("{enc}: {e}"));
        assert_eq!(info.encoding, enc);
        assert_eq!((info.sample_rate, info.channels, info.block_align), (rate, ch, align), "{enc}");
        assert_eq!(info.frames(), frames, "{enc}");
        assert!(!info.truncated(), "{enc}");
    }
    let names: Vec<String> = [
        Encoding::Pcm { bits: 24 },
        Encoding::Float { bits: 32 },
        Encoding::MuLaw,
        Encoding::ALaw,
        Encoding::Other(0x55),
    ]
    .iter()
    .map(|e| e.to_string())
    .collect();
    assert_eq!(names, ["PCM 24-bit", "float 32-bit", "mu-law", "A-law", "format 0x0055"]);
    // An extensible header cut short of its SubFormat is refused, not misread.
    let short = raw_wav(0xfffe, 1, 8000, 16, &[0, 0], 2, &[0, 0]);
    assert!(matches!(parse_header(&short), Err(WavError::Invalid(_))));
}

#[test]
fn verdicts() {
    let ready = g711_wav(Law::MuLaw, &[0xff; 8000]);
    let v = |f: &[u8]| Verdict::of(&parse_header(f), f.len() as u64);
    assert_eq!(v(&ready), Verdict::Ready);
    // The same header on a file over the limit: only its size is wrong.
    let big = MAX_WAV_BYTES as u64 + 1;
    assert_eq!(Verdict::of(&parse_header(&ready), big), Verdict::Convert(vec![Problem::TooLarge(big)]));
    let cd = hound_wav(2, 44100, 16, hound::SampleFormat::Int, 10);
    assert_eq!(
        v(&cd),
        Verdict::Convert(vec![
            Problem::Rate(44100),
            Problem::Channels(2),
            Problem::Encoding(Encoding::Pcm { bits: 16 })
        ])
    );
    assert_eq!(
        v(&cd).to_string(),
        "needs converting: 44100 Hz, not 8000; 2 channels, not mono; PCM 16-bit, not mu-law"
    );
    assert_eq!(v(&g711_wav(Law::ALaw, &[0; 10])), Verdict::Convert(vec![Problem::Encoding(Encoding::ALaw)]));
    // Truncated, lying and unreadable files are broken and never sent.
    assert!(matches!(v(&ready[..4000]), Verdict::Broken(why) if why.contains("truncated")));
    assert!(matches!(v(b"RIFF\0\0\0\0AVI LIST"), Verdict::Broken(_)));
    let mut bad_align = ready.clone();
    bad_align[32] = 2;
    assert!(matches!(v(&bad_align), Verdict::Broken(why) if why.contains("block align 2")));
    // Well-formed but undecodable.
    let mp3 = raw_wav(0x0055, 2, 44100, 0, &[0, 0], 4, &[0; 4]);
    assert_eq!(v(&mp3), Verdict::Unsupported("format 0x0055 cannot be decoded here".into()));
    let pcm12 = raw_wav(1, 1, 8000, 12, &[], 4, &[0; 4]);
    assert!(matches!(v(&pcm12), Verdict::Unsupported(_)));
    assert!(v(&mp3).to_string().starts_with("cannot convert"));
    assert!(v(&ready[..100]).to_string().starts_with("broken, will not be sent"));
}

#[test]
fn reads_a_header_from_the_head_of_a_long_file() {
    let file = g711_wav(Law::MuLaw, &[0x55; 100_000]);
    let head = &file[..4096];
    let info = parse_header_of(head, file.len() as u64).unwrap();
    assert_eq!((info.data_len, info.data_declared), (100_000, 100_000));
    assert!(!info.truncated());
    assert_eq!(Verdict::of(&Ok(info), file.len() as u64), Verdict::Ready);
    // The same head of a file that is really shorter: truncated.
    let info = parse_header_of(head, 50_000).unwrap();
    assert_eq!(info.data_len, 50_000 - 58);
    assert!(info.truncated());
    // A file whose chunks before the data do not fit in the head cannot be judged from it.
    let mut padded = b"RIFF\0\0\0\0WAVEJUNK".to_vec();
    padded.extend(5000u32.to_le_bytes());
    padded.extend([0; 5000]);
    padded.extend(&file[12..]);
    assert!(matches!(parse_header_of(&padded[..4096], padded.len() as u64), Err(WavError::Invalid(_))));
    assert_eq!(parse_header(&padded).unwrap().data_len, 100_000);
}

#[test]
fn lying_sizes_past_the_end() {
    // A fmt chunk claiming 4 GiB swallows the rest of the file: no data chunk is found.
    let mut f = raw_wav(1, 1, 8000, 16, &[], 4, &[1, 2, 3, 4]);
    f[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(parse_header(&f), Err(WavError::NoData));
    // A RIFF size far past the end is ignored: the chunks are what count.
    let mut g = g711_wav(Law::MuLaw, &[0x11; 10]);
    g[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(parse_header(&g).unwrap().data_len, 10);
    // A PCM data size that is not a whole number of frames counts whole frames only.
    let odd = raw_wav(1, 2, 8000, 16, &[], 6, &[0; 6]);
    let info = parse_header(&odd).unwrap();
    assert_eq!((info.frames(), info.data_len), (1, 6));
}

#[test]
fn phone_ulaw_refuses_what_it_cannot_stream() {
    let spec = hound::WavSpec { channels: 2, sample_rate: 44100, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut c = io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
    w.write_sample(0i16).unwrap();
    w.write_sample(0i16).unwrap();
    w.finalize().unwrap();
    let err = phone_ulaw(c.get_ref()).unwrap_err();
    assert!(err.contains("44100 Hz with 2"), "{err}");
}
