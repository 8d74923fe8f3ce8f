//! WAV files: the G.711 container (format 7 mu-law / 6 A-law) that hound does not write,
//! 16-bit PCM through hound, a RIFF header reader that survives lying headers, and atomic saves.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;
use thiserror::Error;

use crate::core::audio;
use crate::core::protocol::MAX_WAV_BYTES;

pub const WAVE_FORMAT_PCM: u16 = 1;
pub const WAVE_FORMAT_IEEE_FLOAT: u16 = 3;
pub const WAVE_FORMAT_ALAW: u16 = 6;
pub const WAVE_FORMAT_MULAW: u16 = 7;
pub const WAVE_FORMAT_EXTENSIBLE: u16 = 0xfffe;
/// Bytes before the data of a G.711 file written here: RIFF(12) + fmt(8+18) + fact(8+4) + data(8).
pub const G711_HEADER_LEN: usize = 58;

/// Which G.711 law a capture or file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    MuLaw,
    ALaw,
}

impl Law {
    pub fn format_tag(self) -> u16 {
        match self {
            Law::MuLaw => WAVE_FORMAT_MULAW,
            Law::ALaw => WAVE_FORMAT_ALAW,
        }
    }
    pub fn decode(self, b: u8) -> i16 {
        match self {
            Law::MuLaw => audio::ulaw_to_linear(b),
            Law::ALaw => audio::alaw_to_linear(b),
        }
    }
    pub fn silence(self) -> u8 {
        match self {
            Law::MuLaw => audio::ULAW_SILENCE,
            Law::ALaw => audio::ALAW_SILENCE,
        }
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
    out.extend_from_slice(&law.format_tag().to_le_bytes());
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

/// Write `bytes` to `path` so that readers see either the old file or the whole new one:
/// a temporary file in the same folder, flushed to disk, then renamed over.
pub fn save_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| io::Error::other("no file name"))?;
    let tmp = dir.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

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

/// One thing that keeps a readable WAV from going to the phone line as it is; converting
/// fixes every one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Rate(u32),
    Channels(u16),
    Encoding(Encoding),
    /// The whole file is over [`MAX_WAV_BYTES`].
    TooLarge(u64),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Rate(r) => write!(f, "{r} Hz, not 8000"),
            Problem::Channels(c) => write!(f, "{c} channels, not mono"),
            Problem::Encoding(e) => write!(f, "{e}, not mu-law"),
            Problem::TooLarge(n) => write!(f, "{n} bytes, over the {MAX_WAV_BYTES}-byte limit"),
        }
    }
}

/// Whether a file can be uploaded as it is, after converting, or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// 8000 Hz mono mu-law and at most [`MAX_WAV_BYTES`]: upload the file unchanged.
    Ready,
    /// Readable, but needs converting for these reasons (never empty).
    Convert(Vec<Problem>),
    /// A well-formed header of an encoding this program cannot decode.
    Unsupported(String),
    /// Not a WAV, or a header that contradicts itself or the file: never sent.
    Broken(String),
}

impl Verdict {
    /// Judge a parsed header of a file of `file_len` bytes.
    pub fn of(parsed: &Result<WavInfo, WavError>, file_len: u64) -> Verdict {
        let info = match parsed {
            Ok(info) => info,
            Err(e) => return Verdict::Broken(e.to_string()),
        };
        if info.truncated() {
            return Verdict::Broken(format!(
                "truncated: the header declares {} data bytes, the file holds {}",
                info.data_declared, info.data_len
            ));
        }
        let Some(bytes_per_sample) = info.encoding.decodable_bytes() else {
            return Verdict::Unsupported(format!("{} cannot be decoded here", info.encoding));
        };
        let want_align = bytes_per_sample as u32 * info.channels as u32;
        if info.block_align as u32 != want_align {
            return Verdict::Broken(format!(
                "block align {} does not match {} x {} channel(s)",
                info.block_align, info.encoding, info.channels
            ));
        }
        let mut problems = Vec::new();
        if info.sample_rate != 8000 {
            problems.push(Problem::Rate(info.sample_rate));
        }
        if info.channels != 1 {
            problems.push(Problem::Channels(info.channels));
        }
        if info.encoding != Encoding::MuLaw {
            problems.push(Problem::Encoding(info.encoding));
        }
        if file_len > MAX_WAV_BYTES as u64 {
            problems.push(Problem::TooLarge(file_len));
        }
        if problems.is_empty() {
            Verdict::Ready
        } else {
            Verdict::Convert(problems)
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Ready => f.write_str("ready: 8000 Hz mono mu-law within the size limit"),
            Verdict::Convert(problems) => {
                f.write_str("needs converting: ")?;
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
            Verdict::Unsupported(why) => write!(f, "cannot convert: {why}"),
            Verdict::Broken(why) => write!(f, "broken, will not be sent: {why}"),
        }
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

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
fn u32_at(b: &[u8], i: usize) -> u32 {
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

/// The 8 kHz mono mu-law bytes of a WAV file, for streaming as PCMU. Mu-law passes through;
/// A-law and 16-bit PCM at 8 kHz mono are transcoded; anything else needs converting first.
pub fn phone_ulaw(file: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    let info = parse_header(file).map_err(|e| e.to_string())?;
    if info.sample_rate != 8000 || info.channels != 1 {
        return Err(format!(
            "needs 8000 Hz mono, file is {} Hz with {} channel(s)",
            info.sample_rate, info.channels
        ));
    }
    let data = info.data(file);
    match info.encoding {
        Encoding::MuLaw => Ok(Cow::Borrowed(data)),
        Encoding::ALaw => Ok(Cow::Owned(
            data.iter().map(|&a| audio::linear_to_ulaw(audio::alaw_to_linear(a))).collect(),
        )),
        Encoding::Pcm { bits: 16 } => Ok(Cow::Owned(
            data.chunks_exact(2)
                .map(|c| audio::linear_to_ulaw(i16::from_le_bytes([c[0], c[1]])))
                .collect(),
        )),
        other => Err(format!("{other} cannot be streamed; convert it to 8 kHz mu-law first")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn atomic_save_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        save_atomic(&p, b"one").unwrap();
        save_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let bad = dir.path().join("missing-dir").join("b.wav");
        assert!(save_atomic(&bad, b"x").is_err());
    }
}
