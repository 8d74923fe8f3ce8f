//! Turning any readable WAV into what the phone line takes: 8000 Hz mono mu-law in the same
//! format-7 container the recorder writes, at most [`MAX_WAV_BYTES`].
//!
//! Decode (PCM and 32-bit float through hound, mu-law and A-law by table, 64-bit float by
//! hand because hound does not read it), mix down to mono, resample with rubato's
//! band-limited FFT resampler, encode mu-law, wrap with [`wav::g711_wav`].

use std::io::{self, Read as _};
use std::path::Path;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler as _};
use thiserror::Error;

use crate::core::audio;
use crate::core::protocol::MAX_WAV_BYTES;
use crate::core::wav::{self, Encoding, Law, Verdict, WavError, WavInfo, G711_HEADER_LEN};

/// The phone line's sample rate.
pub const PHONE_RATE: u32 = 8000;
/// Mu-law bytes (= samples at 8 kHz) that fit in one upload beside the 58-byte header.
pub const MAX_PHONE_SAMPLES: u64 = (MAX_WAV_BYTES - G711_HEADER_LEN) as u64;
/// Bytes read to judge a file from its header.
pub const HEAD_BYTES: usize = 64 * 1024;
/// Rates above this are refused rather than handed to an FFT of their size.
const MAX_INPUT_RATE: u32 = 1_536_000;

/// The longest audio one upload can hold: (1,048,576 - 58) / 8000 = 131.06 s.
pub fn max_seconds() -> f64 {
    MAX_PHONE_SAMPLES as f64 / PHONE_RATE as f64
}

#[derive(Debug, Error)]
pub enum ConvertError {
    #[error("cannot read it: {0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Header(#[from] WavError),
    /// The verdict on the file says it must not be converted (broken or undecodable).
    #[error("{0}")]
    NotConvertible(Verdict),
    #[error("cannot decode it: {0}")]
    Decode(#[from] hound::Error),
    #[error("cannot resample it: {0}")]
    Resample(String),
    #[error("converted it would be {seconds:.1} s; at most {max:.1} s fit in {MAX_WAV_BYTES} bytes", max = max_seconds())]
    TooLong { seconds: f64 },
}

/// How much of the audio to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// All of it, or fail with [`ConvertError::TooLong`].
    Whole,
    /// As much from the start as fits in one upload.
    FirstPart,
}

/// What converting a file would give, known from its header alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Mu-law samples the whole file converts to.
    pub samples: u64,
}

impl Plan {
    pub fn of(info: &WavInfo) -> Plan {
        // Integer arithmetic: the resampler's output is cut to exactly this length.
        let rate = info.sample_rate.max(1) as u64;
        Plan { samples: (info.frames() * PHONE_RATE as u64).div_ceil(rate) }
    }

    pub fn seconds(&self) -> f64 {
        self.samples as f64 / PHONE_RATE as f64
    }

    /// The size of the converted file, header and pad byte included.
    pub fn bytes(&self) -> u64 {
        G711_HEADER_LEN as u64 + self.samples + (self.samples & 1)
    }

    pub fn fits(&self) -> bool {
        self.samples <= MAX_PHONE_SAMPLES
    }
}

/// A converted file, ready to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub wav: Vec<u8>,
    pub seconds: f64,
    /// The length of the whole audio when only its first part was kept.
    pub cut_from: Option<f64>,
}

/// A file's header read from its first [`HEAD_BYTES`], judged; the audio is not read.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub file_len: u64,
    pub header: Result<WavInfo, WavError>,
    pub verdict: Verdict,
}

impl Inspection {
    /// Judge the head of a file of `file_len` bytes.
    pub fn of(head: &[u8], file_len: u64) -> Inspection {
        let header = wav::parse_header_of(head, file_len);
        let mut verdict = Verdict::of(&header, file_len);
        if let (Verdict::Convert(_), Ok(info)) = (&verdict, &header) {
            // hound is stricter than the header walk (fmt sizes, byte rate); ask it now
            // rather than promise a conversion that fails.
            if uses_hound(info.encoding) {
                if let Err(e) = hound::WavReader::new(io::Cursor::new(head)) {
                    verdict = Verdict::Unsupported(format!("{} that hound cannot read: {e}", info.encoding));
                }
            }
        }
        Inspection { file_len, header, verdict }
    }

    /// What converting would give, for a file that may be converted.
    pub fn plan(&self) -> Option<Plan> {
        match (&self.verdict, &self.header) {
            (Verdict::Convert(_), Ok(info)) => Some(Plan::of(info)),
            _ => None,
        }
    }
}

/// Read the head of a file and judge it.
pub fn inspect(path: &Path) -> io::Result<Inspection> {
    let file = std::fs::File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut head = Vec::with_capacity(HEAD_BYTES.min(file_len as usize));
    file.take(HEAD_BYTES as u64).read_to_end(&mut head)?;
    Ok(Inspection::of(&head, file_len))
}

fn uses_hound(e: Encoding) -> bool {
    matches!(e, Encoding::Pcm { .. } | Encoding::Float { bits: 32 })
}

/// Convert a file on disk, reading only as much of it as the kept audio needs.
pub fn convert_file(path: &Path, length: Length) -> Result<Converted, ConvertError> {
    let ins = inspect(path)?;
    let info = convertible(&ins)?.clone();
    let (keep, frames) = extent(&info, length)?;
    let want = info.data_offset as u64 + frames * info.block_align as u64;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(want).read_to_end(&mut bytes)?;
    if (bytes.len() as u64) < want {
        return Err(ConvertError::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank while reading it")));
    }
    finish(&bytes, &info, frames, keep)
}

/// Convert a whole file held in memory.
pub fn convert(file: &[u8], length: Length) -> Result<Converted, ConvertError> {
    let ins = Inspection::of(file, file.len() as u64);
    let info = convertible(&ins)?;
    let (keep, frames) = extent(info, length)?;
    finish(file, info, frames, keep)
}

fn convertible(ins: &Inspection) -> Result<&WavInfo, ConvertError> {
    match (&ins.verdict, &ins.header) {
        (Verdict::Ready | Verdict::Convert(_), Ok(info)) => Ok(info),
        (_, Err(e)) => Err(ConvertError::Header(e.clone())),
        (v, Ok(_)) => Err(ConvertError::NotConvertible(v.clone())),
    }
}

/// The mu-law samples to keep and the input frames needed to make them.
fn extent(info: &WavInfo, length: Length) -> Result<(u64, u64), ConvertError> {
    if info.sample_rate > MAX_INPUT_RATE {
        return Err(ConvertError::Resample(format!("{} Hz is above {MAX_INPUT_RATE} Hz", info.sample_rate)));
    }
    let plan = Plan::of(info);
    if plan.fits() {
        return Ok((plan.samples, info.frames()));
    }
    match length {
        Length::Whole => Err(ConvertError::TooLong { seconds: plan.seconds() }),
        Length::FirstPart => {
            let rate = info.sample_rate as u64;
            // A little input past the cut, so the resampler's filter sees what follows
            // instead of a cliff.
            let frames = (MAX_PHONE_SAMPLES * rate).div_ceil(PHONE_RATE as u64) + rate / 50;
            Ok((MAX_PHONE_SAMPLES, frames.min(info.frames())))
        }
    }
}

fn finish(bytes: &[u8], info: &WavInfo, frames: u64, keep: u64) -> Result<Converted, ConvertError> {
    let mono = decode_mono(bytes, info, frames as usize)?;
    let mut phone = resample(&mono, info.sample_rate)?;
    // FFT resampling gives ceil(ratio * n) samples, computed in floating point; the plan's
    // integer count is the one that is right.
    phone.resize(keep as usize, 0.0);
    let ulaw: Vec<u8> = phone.iter().map(|&x| audio::linear_to_ulaw(to_i16(x))).collect();
    let whole = Plan::of(info);
    Ok(Converted {
        wav: wav::g711_wav(Law::MuLaw, &ulaw),
        seconds: keep as f64 / PHONE_RATE as f64,
        cut_from: (keep < whole.samples).then(|| whole.seconds()),
    })
}

fn to_i16(x: f32) -> i16 {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn first_part_of_a_long_44k_file_reads_only_what_it_needs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("long.wav");
        // 140 s of 44.1 kHz mono 16-bit, 12 MB: over the limit after converting.
        std::fs::write(&p, sine(44_100, 440.0, 0.3, 44_100 * 140, 1)).unwrap();
        let ins = inspect(&p).unwrap();
        let plan = ins.plan().unwrap();
        assert!(!plan.fits());
        assert!(matches!(convert_file(&p, Length::Whole), Err(ConvertError::TooLong { .. })));
        let part = convert_file(&p, Length::FirstPart).unwrap();
        assert_eq!(part.wav.len(), MAX_WAV_BYTES);
        let out = decoded(&part);
        // The tone runs right to the cut: no fade from a missing filter tail.
        assert!((rms(&out[out.len() - 800..]) - 0.212).abs() < 0.01);
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
}
