//! The mu-law bytes a WAV file streams as PCMU: passed through, or transcoded from A-law or
//! 16-bit PCM at 8 kHz mono.

use std::borrow::Cow;

use super::header::{parse_header, Encoding};
use crate::core::audio;

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
