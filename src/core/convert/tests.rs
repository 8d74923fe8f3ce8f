//! Conversion: limits, resampling, every decodable encoding, cutting.

use std::io;

use super::decode::to_i16;
use super::*;
use crate::core::audio::{self, Law};
use crate::core::wav::{self, Encoding, Verdict, WavError, WavInfo};

fn sine(rate: u32, hz: f64, amp: f64, frames: usize, channels: u16) -> Vec<u8> {
    let spec = hound::WavSpec { channels, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut c = io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
    for i in 0..frames {
        let v = (amp * (std::f64::consts::TAU * hz * i as f64 / rate as f64).sin() * 32767.0) as i16;
        for _ in 0..channels {
            w.write_sample(v).unwrap();
        }
    }
    w.finalize().unwrap();
    c.into_inner()
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

fn decoded(conv: &Converted) -> Vec<f32> {
    let info = wav::parse_header(&conv.wav).unwrap();
    assert!(info.is_phone_ready());
    info.data(&conv.wav).iter().map(|&b| audio::ulaw_to_linear(b) as f32 / 32768.0).collect()
}

#[test]
fn the_limit_in_seconds() {
    assert_eq!(MAX_PHONE_SAMPLES, 1_048_518);
    assert!((max_seconds() - 131.06).abs() < 0.01);
    let info = |frames: u64, rate: u32| WavInfo {
        encoding: Encoding::Pcm { bits: 16 },
        sample_rate: rate,
        channels: 2,
        block_align: 4,
        data_offset: 44,
        data_declared: frames * 4,
        data_len: (frames * 4) as usize,
    };
    let p = Plan::of(&info(132_300, 44_100));
    assert_eq!((p.samples, p.bytes()), (24_000, 24_058));
    assert!(p.fits());
    let p = Plan::of(&info(44_100 * 132, 44_100));
    assert!(!p.fits());
    assert!((p.seconds() - 132.0).abs() < 1e-9);
    // One sample more than fits, at the phone rate itself.
    assert!(!Plan::of(&info(MAX_PHONE_SAMPLES + 1, 8000)).fits());
    assert_eq!(Plan::of(&info(MAX_PHONE_SAMPLES, 8000)).bytes(), MAX_WAV_BYTES as u64);
}

#[test]
fn converts_stereo_44k_to_phone_mulaw() {
    let file = sine(44_100, 1000.0, 0.5, 44_100 / 2, 2);
    let conv = convert(&file, Length::Whole).unwrap();
    assert_eq!(conv.wav.len(), 58 + 4000);
    assert_eq!(Verdict::of(&wav::parse_header(&conv.wav), conv.wav.len() as u64), Verdict::Ready);
    assert_eq!(conv.cut_from, None);
    let out = decoded(&conv);
    // A 0.5 sine has RMS 0.354; mu-law and the resampler keep it within a few percent.
    let mid = &out[400..3600];
    assert!((rms(mid) - 0.3536).abs() < 0.01, "rms {}", rms(mid));
}

#[test]
fn removes_what_lies_above_4khz() {
    // A 6 kHz tone would fold back to 2 kHz at full strength without a band limit.
    let file = sine(44_100, 6000.0, 0.5, 44_100 / 2, 1);
    let out = decoded(&convert(&file, Length::Whole).unwrap());
    let level = rms(&out[400..3600]);
    assert!(level < 0.354 / 100.0, "6 kHz leaks through at rms {level}");
}

#[test]
fn decodes_every_readable_encoding_to_the_same_tone() {
    let reference = sine(8000, 500.0, 0.5, 800, 1);
    let pcm = {
        let info = wav::parse_header(&reference).unwrap();
        decode_mono(&reference, &info, 800).unwrap()
    };
    let ulaw: Vec<u8> = pcm.iter().map(|&x| audio::linear_to_ulaw(to_i16(x))).collect();
    let alaw: Vec<u8> = pcm.iter().map(|&x| audio::linear_to_alaw(to_i16(x))).collect();
    let mut files = vec![
        ("mu-law", wav::g711_wav(Law::MuLaw, &ulaw)),
        ("A-law", wav::g711_wav(Law::ALaw, &alaw)),
        ("float64", float64_wav(&pcm)),
    ];
    for (bits, fmt) in [(8, hound::SampleFormat::Int), (24, hound::SampleFormat::Int), (32, hound::SampleFormat::Int), (32, hound::SampleFormat::Float)] {
        let spec = hound::WavSpec { channels: 1, sample_rate: 8000, bits_per_sample: bits, sample_format: fmt };
        let mut c = io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
        for &x in &pcm {
            match fmt {
                hound::SampleFormat::Float => w.write_sample(x).unwrap(),
                hound::SampleFormat::Int => w.write_sample((x as f64 * (1i64 << (bits - 1)) as f64) as i32).unwrap(),
            }
        }
        w.finalize().unwrap();
        files.push(("hound", c.into_inner()));
    }
    for (what, f) in files {
        let info = wav::parse_header(&f).unwrap();
        let got = decode_mono(&f, &info, 800).unwrap();
        assert_eq!(got.len(), 800, "{what} {}", info.encoding);
        let err: Vec<f32> = got.iter().zip(&pcm).map(|(a, b)| a - b).collect();
        // 8-bit PCM and G.711 are coarse; the rest is exact to 16 bits.
        assert!(rms(&err) < 0.01, "{what} {}: error rms {}", info.encoding, rms(&err));
        let conv = convert(&f, Length::Whole).unwrap();
        assert_eq!(conv.wav.len(), 58 + 800, "{what}");
    }
}

fn float64_wav(x: &[f32]) -> Vec<u8> {
    let mut f = Vec::new();
    let data: Vec<u8> = x.iter().flat_map(|&v| (v as f64).to_le_bytes()).collect();
    f.extend(b"RIFF");
    f.extend((36 + data.len() as u32).to_le_bytes());
    f.extend(b"WAVEfmt ");
    f.extend(16u32.to_le_bytes());
    f.extend(3u16.to_le_bytes());
    f.extend(1u16.to_le_bytes());
    f.extend(8000u32.to_le_bytes());
    f.extend(64000u32.to_le_bytes());
    f.extend(8u16.to_le_bytes());
    f.extend(64u16.to_le_bytes());
    f.extend(b"data");
    f.extend((data.len() as u32).to_le_bytes());
    f.extend(data);
    f
}

#[test]
fn downmix_averages_channels() {
    // Left +0.5, right -0.5: the mono mix is silence.
    let spec = hound::WavSpec { channels: 2, sample_rate: 8000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut c = io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
    for _ in 0..100 {
        w.write_sample(16384i16).unwrap();
        w.write_sample(-16384i16).unwrap();
    }
    w.finalize().unwrap();
    let out = decoded(&convert(c.get_ref(), Length::Whole).unwrap());
    assert_eq!(out.len(), 100);
    assert!(out.iter().all(|&v| v == 0.0));
}

#[test]
fn too_long_is_refused_or_cut() {
    // 132 s of 8 kHz A-law: one second over.
    let file = wav::g711_wav(Law::ALaw, &vec![0xd5; 8000 * 132]);
    match convert(&file, Length::Whole) {
        Err(ConvertError::TooLong { seconds }) => assert!((seconds - 132.0).abs() < 1e-9),
        other => panic!("{other:?}"),
    }
    let msg = convert(&file, Length::Whole).unwrap_err().to_string();
    assert!(msg.contains("132.0 s") && msg.contains("131.1 s"), "{msg}");
    let part = convert(&file, Length::FirstPart).unwrap();
    assert_eq!(part.wav.len(), MAX_WAV_BYTES);
    assert_eq!(part.cut_from, Some(132.0));
    assert!((part.seconds - max_seconds()).abs() < 1e-9);
    assert_eq!(Verdict::of(&wav::parse_header(&part.wav), part.wav.len() as u64), Verdict::Ready);
}

#[test]
fn broken_and_unsupported_files_are_not_converted() {
    let full = wav::g711_wav(Law::MuLaw, &[0; 1000]);
    assert!(matches!(convert(&full[..500], Length::Whole), Err(ConvertError::NotConvertible(Verdict::Broken(_)))));
    assert!(matches!(convert(b"not a wav at all", Length::Whole), Err(ConvertError::Header(WavError::NotRiff))));
    // A PCM header whose byte rate contradicts itself: the header walk accepts it,
    // hound does not, so the inspection says so up front.
    let mut lying = sine(8000, 440.0, 0.5, 100, 1);
    lying[28..32].copy_from_slice(&12345u32.to_le_bytes());
    let ins = Inspection::of(&lying, lying.len() as u64);
    assert!(matches!(&ins.verdict, Verdict::Unsupported(why) if why.contains("hound")), "{:?}", ins.verdict);
    assert!(ins.plan().is_none());
}
