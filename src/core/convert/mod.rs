//! Turning any readable WAV into what the phone line takes: 8000 Hz mono mu-law in the same
//! format-7 container the recorder writes, at most [`MAX_WAV_BYTES`].
//!
//! Decode (PCM and 32-bit float through hound, mu-law and A-law by table, 64-bit float by
//! hand because hound does not read it), mix down to mono, resample with rubato's
//! band-limited FFT resampler, encode mu-law, wrap with [`wav::g711_wav`]. Bytes in, bytes
//! out: whoever reads the file asks [`Inspection::of`] about its head, then hands a [`Job`]
//! the bytes it needs.

mod decode;

use std::io;

use thiserror::Error;

pub use decode::{decode_mono, resample};
use decode::to_i16;
use crate::core::audio::{self, Law};
use crate::core::protocol::MAX_WAV_BYTES;
use crate::core::wav::{self, Encoding, Verdict, WavError, WavInfo, G711_HEADER_LEN};

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

fn uses_hound(e: Encoding) -> bool {
    matches!(e, Encoding::Pcm { .. } | Encoding::Float { bits: 32 })
}

/// Convert a whole file held in memory.
pub fn convert(file: &[u8], length: Length) -> Result<Converted, ConvertError> {
    Job::new(&Inspection::of(file, file.len() as u64), length)?.run(file)
}

/// One conversion, decided from the header alone: which leading bytes of the file it reads
/// and how many mu-law samples it keeps. The reader (client or server) fetches
/// [`Job::bytes_needed`] bytes and hands them to [`Job::run`], so a long file is never read
/// past what the kept audio needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    info: WavInfo,
    /// Input frames decoded.
    frames: u64,
    /// Mu-law samples kept.
    keep: u64,
}

impl Job {
    /// Plan the conversion of an inspected file, or say why it cannot be done.
    pub fn new(ins: &Inspection, length: Length) -> Result<Job, ConvertError> {
        let info = convertible(ins)?.clone();
        let (keep, frames) = extent(&info, length)?;
        Ok(Job { info, frames, keep })
    }

    /// How many bytes from the start of the file the conversion reads.
    pub fn bytes_needed(&self) -> u64 {
        self.info.data_offset as u64 + self.frames * self.info.block_align as u64
    }

    /// Convert the first [`Job::bytes_needed`] bytes of the file (or more).
    pub fn run(&self, bytes: &[u8]) -> Result<Converted, ConvertError> {
        if (bytes.len() as u64) < self.bytes_needed() {
            return Err(ConvertError::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank while reading it")));
        }
        finish(bytes, &self.info, self.frames, self.keep)
    }
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

#[cfg(test)]
mod tests;
