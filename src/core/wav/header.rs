//! Reading a RIFF/WAVE header: what it declares, checked against the bytes really there, so
//! truncated and lying headers are named instead of trusted.

use thiserror::Error;

use super::{WAVE_FORMAT_ALAW, WAVE_FORMAT_EXTENSIBLE, WAVE_FORMAT_IEEE_FLOAT, WAVE_FORMAT_MULAW, WAVE_FORMAT_PCM};

/// The sample encoding a WAV header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Pcm { bits: u16 },
    Float { bits: u16 },
    MuLaw,
    ALaw,
    Other(u16),
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Encoding::Pcm { bits } => write!(f, "PCM {bits}-bit"),
            Encoding::Float { bits } => write!(f, "float {bits}-bit"),
            Encoding::MuLaw => f.write_str("mu-law"),
            Encoding::ALaw => f.write_str("A-law"),
            Encoding::Other(tag) => write!(f, "format {tag:#06x}"),
        }
    }
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WavError {
    #[error("not a RIFF file")]
    NotRiff,
    #[error("RIFF file but not WAVE")]
    NotWave,
    #[error("no 'fmt ' chunk before the data")]
    NoFmt,
    #[error("'fmt ' chunk is {0} bytes, too short")]
    ShortFmt(u32),
    #[error("no 'data' chunk")]
    NoData,
    #[error("invalid format: {0}")]
    Invalid(String),
}

/// What a WAV header says, checked against the bytes that are really there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavInfo {
    pub encoding: Encoding,
    pub sample_rate: u32,
    pub channels: u16,
    pub block_align: u16,
    /// Offset of the first data byte in the file.
    pub data_offset: usize,
    /// Data bytes the header declares.
    pub data_declared: u64,
    /// Data bytes present in the file (less than declared when truncated).
    pub data_len: usize,
}

impl WavInfo {
    pub fn truncated(&self) -> bool {
        (self.data_len as u64) < self.data_declared
    }

    pub fn frames(&self) -> u64 {
        self.data_len as u64 / self.block_align.max(1) as u64
    }

    pub fn duration_secs(&self) -> f64 {
        if self.sample_rate == 0 {
            0.0
        } else {
            self.frames() as f64 / self.sample_rate as f64
        }
    }

    /// 8 kHz mono mu-law: what the gateway streams as PCMU without conversion.
    pub fn is_phone_ready(&self) -> bool {
        self.encoding == Encoding::MuLaw && self.sample_rate == 8000 && self.channels == 1
    }

    pub fn data<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        &file[self.data_offset..self.data_offset + self.data_len]
    }
}

impl Encoding {
    /// Bytes per sample of the encodings the converter decodes; `None` for the rest.
    pub fn decodable_bytes(self) -> Option<u16> {
        match self {
            Encoding::Pcm { bits: b @ (8 | 16 | 24 | 32) } | Encoding::Float { bits: b @ (32 | 64) } => Some(b / 8),
            Encoding::MuLaw | Encoding::ALaw => Some(1),
            _ => None,
        }
    }
}

pub(super) fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
pub(super) fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Read a WAV header. Chunk sizes that run past the end of the file are clamped, and the
/// result says so through [`WavInfo::truncated`]; nothing here can index out of bounds.
pub fn parse_header(file: &[u8]) -> Result<WavInfo, WavError> {
    parse_header_of(file, file.len() as u64)
}

/// Read a WAV header from the first bytes of a file whose whole length is `file_len`, so a
/// large file can be inspected without reading its audio. `head` may be the whole file.
/// Sizes are checked against `file_len`; chunk headers must lie within `head`.
pub fn parse_header_of(head: &[u8], file_len: u64) -> Result<WavInfo, WavError> {
    let file_len = file_len.max(head.len() as u64);
    if head.len() < 12 || &head[0..4] != b"RIFF" {
        return Err(WavError::NotRiff);
    }
    if &head[8..12] != b"WAVE" {
        return Err(WavError::NotWave);
    }
    let mut pos = 12usize;
    let mut fmt: Option<(Encoding, u32, u16, u16)> = None;
    while (pos as u64) + 8 <= file_len {
        if pos + 8 > head.len() {
            return Err(WavError::Invalid(format!("chunks before the data run past the first {} bytes", head.len())));
        }
        let id = &head[pos..pos + 4];
        let size = u32_at(head, pos + 4);
        let body = pos + 8;
        let avail = file_len - body as u64;
        if id == b"fmt " {
            let in_head = head.len() - body;
            if size < 16 || in_head < 16 {
                return Err(WavError::ShortFmt(size.min(in_head as u32)));
            }
            fmt = Some(parse_fmt(&head[body..], size)?);
        } else if id == b"data" {
            let (encoding, sample_rate, channels, block_align) = fmt.ok_or(WavError::NoFmt)?;
            let data_len = (size as u64).min(avail) as usize;
            return Ok(WavInfo {
                encoding,
                sample_rate,
                channels,
                block_align,
                data_offset: body,
                data_declared: size as u64,
                data_len,
            });
        }
        // Chunks are word-aligned; a size past the end simply ends the walk.
        pos = match body.checked_add(size as usize + (size as usize & 1)) {
            Some(p) => p,
            None => break,
        };
    }
    Err(if fmt.is_none() { WavError::NoFmt } else { WavError::NoData })
}

/// The body of a `fmt ` chunk (at least 16 bytes of it present in `f`).
fn parse_fmt(f: &[u8], size: u32) -> Result<(Encoding, u32, u16, u16), WavError> {
    let mut tag = u16_at(f, 0);
    let channels = u16_at(f, 2);
    let rate = u32_at(f, 4);
    let align = u16_at(f, 12);
    let bits = u16_at(f, 14);
    if tag == WAVE_FORMAT_EXTENSIBLE {
        // The real format is the first two bytes of the SubFormat GUID.
        if size < 40 || f.len() < 40 {
            return Err(WavError::Invalid("WAVE_FORMAT_EXTENSIBLE without its 40-byte body".into()));
        }
        tag = u16_at(f, 24);
    }
    let enc = match tag {
        WAVE_FORMAT_PCM => Encoding::Pcm { bits },
        WAVE_FORMAT_IEEE_FLOAT => Encoding::Float { bits },
        WAVE_FORMAT_MULAW => Encoding::MuLaw,
        WAVE_FORMAT_ALAW => Encoding::ALaw,
        t => Encoding::Other(t),
    };
    if channels == 0 {
        return Err(WavError::Invalid("0 channels".into()));
    }
    if rate == 0 {
        return Err(WavError::Invalid("sample rate 0".into()));
    }
    if align == 0 {
        return Err(WavError::Invalid("block align 0".into()));
    }
    Ok((enc, rate, channels, align))
}
