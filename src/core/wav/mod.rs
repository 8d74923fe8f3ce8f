//! WAV bytes: the G.711 container (format 7 mu-law / 6 A-law) that hound does not write,
//! 16-bit PCM through hound, a RIFF header reader that survives lying headers, the verdict on
//! whether a file may go to the phone line, and the mu-law a file streams as. Bytes in, bytes
//! out: reading and saving files is the client's and the server's business.

mod header;
mod phone;
mod verdict;
mod write;

pub use header::{parse_header, parse_header_of, Encoding, WavError, WavInfo};
pub use phone::phone_ulaw;
pub use verdict::{Problem, Verdict};
pub use write::{g711_wav, pcm16_wav};
/// Re-exported for callers that name it through `wav`; it lives in [`crate::core::audio`].
pub use crate::core::audio::Law;

pub const WAVE_FORMAT_PCM: u16 = 1;
pub const WAVE_FORMAT_IEEE_FLOAT: u16 = 3;
pub const WAVE_FORMAT_ALAW: u16 = 6;
pub const WAVE_FORMAT_MULAW: u16 = 7;
pub const WAVE_FORMAT_EXTENSIBLE: u16 = 0xfffe;
/// Bytes before the data of a G.711 file written here: RIFF(12) + fmt(8+18) + fact(8+4) + data(8).
pub const G711_HEADER_LEN: usize = 58;

#[cfg(test)]
mod tests;
