//! The verdict on a WAV file: ready for the phone line as it is, needs converting (and why),
//! undecodable, or broken and never sent.

use super::header::{Encoding, WavError, WavInfo};
use crate::core::protocol::MAX_WAV_BYTES;

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
