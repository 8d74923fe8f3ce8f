//! The one upload rule: whether a `WAV_UPLOAD` (a name and its decoded bytes) is accepted.
//! The client checks a file with it before sending, and the gateway and the demo peer check
//! what arrives with it, so all three always agree.

use thiserror::Error;

use crate::core::protocol::{WavName, MAX_WAV_BYTES};
use crate::core::wav::{self, Verdict, WavError};

/// Why an upload is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum UploadRefusal {
    #[error("{0:?} must end in .wav")]
    NotWavName(String),
    #[error("{size} bytes is over the limit of {MAX_WAV_BYTES} bytes")]
    TooLarge { size: usize },
    #[error("not a valid WAV file: {0}")]
    NotWav(WavError),
    #[error("the WAV file is truncated: its header promises {declared} data bytes, {present} are there")]
    Truncated { declared: u64, present: usize },
    /// A header that parses but contradicts itself (block align against the encoding).
    #[error("not a valid WAV file: {0}")]
    Inconsistent(String),
}

/// A character a file name must not hold, because it hides or disguises what the name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HiddenChar {
    pub ch: char,
    pub what: &'static str,
}

impl std::fmt::Display for HiddenChar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (U+{:04X})", self.what, self.ch as u32)
    }
}

/// The first control, bidirectional-override or invisible character of a name: they let
/// `evil\u{202E}vaw.exe` show as `evilexe.wav`, or two different names look the same.
pub fn hidden_char(name: &str) -> Option<HiddenChar> {
    name.chars().find_map(|ch| {
        let what = match ch {
            c if c.is_control() => "a control character",
            '\u{2028}' | '\u{2029}' => "a line or paragraph separator",
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                "a bidirectional control"
            }
            '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{206A}'..='\u{206F}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}' => "an invisible character",
            _ => return None,
        };
        Some(HiddenChar { ch, what })
    })
}

/// Judge an upload: a name ending in `.wav` (the rest of the name rules are [`WavName`]'s),
/// at most [`MAX_WAV_BYTES`], a header that parses, is whole and agrees with itself. The
/// verdict says whether the accepted file still needs converting before it can be played;
/// such a file is accepted all the same (the server converts it when it is played).
pub fn check(name: &WavName, data: &[u8]) -> Result<Verdict, UploadRefusal> {
    if !name.has_wav_extension() {
        return Err(UploadRefusal::NotWavName(name.as_str().to_string()));
    }
    if data.len() > MAX_WAV_BYTES {
        return Err(UploadRefusal::TooLarge { size: data.len() });
    }
    let parsed = wav::parse_header(data);
    match &parsed {
        Err(e) => return Err(UploadRefusal::NotWav(e.clone())),
        Ok(info) if info.truncated() => {
            return Err(UploadRefusal::Truncated { declared: info.data_declared, present: info.data_len })
        }
        Ok(_) => {}
    }
    match Verdict::of(&parsed, data.len() as u64) {
        Verdict::Broken(why) => Err(UploadRefusal::Inconsistent(why)),
        verdict => Ok(verdict),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::wav::{g711_wav, Law};

    fn name(s: &str) -> WavName {
        s.parse().unwrap()
    }

    #[test]
    fn accepts_whole_wavs_ready_or_to_convert() {
        let ulaw = g711_wav(Law::MuLaw, &[0x55; 800]);
        assert_eq!(check(&name("a.wav"), &ulaw), Ok(Verdict::Ready));
        assert_eq!(check(&name("LOUD.WAV"), &ulaw), Ok(Verdict::Ready));
        let alaw = g711_wav(Law::ALaw, &[0x55; 800]);
        assert!(matches!(check(&name("a.wav"), &alaw), Ok(Verdict::Convert(_))));
        // An encoding nothing here decodes is stored all the same; playing it says why not.
        let mut mp3 = g711_wav(Law::MuLaw, &[0; 400]);
        mp3[20..22].copy_from_slice(&0x0055u16.to_le_bytes());
        assert!(matches!(check(&name("a.wav"), &mp3), Ok(Verdict::Unsupported(_))));
    }

    #[test]
    fn refuses_with_a_reason() {
        let good = g711_wav(Law::MuLaw, &[1; 100]);
        assert_eq!(check(&name("a.txt"), &good), Err(UploadRefusal::NotWavName("a.txt".into())));
        let e = check(&name("a.txt"), &good).unwrap_err();
        assert!(e.to_string().contains("must end in .wav"), "{e}");
        let e = check(&name("a.wav"), b"hello").unwrap_err();
        assert!(matches!(e, UploadRefusal::NotWav(_)));
        assert!(e.to_string().contains("not a valid WAV"), "{e}");
        let e = check(&name("a.wav"), &good[..80]).unwrap_err();
        assert!(matches!(e, UploadRefusal::Truncated { declared: 100, present: 22 }), "{e:?}");
        assert!(e.to_string().contains("truncated"), "{e}");
        let mut big = g711_wav(Law::MuLaw, &vec![0; MAX_WAV_BYTES]);
        big.truncate(MAX_WAV_BYTES + 1);
        let e = check(&name("a.wav"), &big).unwrap_err();
        assert_eq!(e, UploadRefusal::TooLarge { size: MAX_WAV_BYTES + 1 });
        assert!(e.to_string().contains("over the limit"), "{e}");
        // A block align that contradicts the encoding.
        let mut odd = g711_wav(Law::MuLaw, &[1; 100]);
        odd[32..34].copy_from_slice(&3u16.to_le_bytes());
        assert!(matches!(check(&name("a.wav"), &odd), Err(UploadRefusal::Inconsistent(_))));
    }

    #[test]
    fn names_with_hidden_characters_are_refused_with_what_they_hold() {
        assert_eq!(hidden_char("plain name é 名前.wav"), None);
        let bidi = hidden_char("evil\u{202E}vaw.exe").unwrap();
        assert_eq!(bidi.to_string(), "a bidirectional control (U+202E)");
        assert_eq!(hidden_char("a\u{200B}b.wav").unwrap().what, "an invisible character");
        assert_eq!(hidden_char("a\u{FEFF}.wav").unwrap().what, "an invisible character");
        assert_eq!(hidden_char("a\tb.wav").unwrap().what, "a control character");
        assert_eq!(hidden_char("a\u{2028}b.wav").unwrap().what, "a line or paragraph separator");
        for bad in ["evil\u{202E}vaw.wav", "a\u{2066}b.wav", "zero\u{200D}width.wav"] {
            let e = bad.parse::<WavName>().unwrap_err();
            assert!(matches!(e, crate::core::protocol::ProtocolError::HiddenChar { .. }), "{bad:?}: {e:?}");
        }
        // The longest name the protocol allows is a valid name.
        let long = format!("{}.wav", "n".repeat(251));
        assert_eq!(long.parse::<WavName>().unwrap().as_str().len(), 255);
    }

    #[test]
    fn exactly_the_limit_is_allowed() {
        let mut max = g711_wav(Law::MuLaw, &vec![0x55; MAX_WAV_BYTES - wav::G711_HEADER_LEN]);
        max.truncate(MAX_WAV_BYTES);
        assert_eq!(max.len(), MAX_WAV_BYTES);
        assert_eq!(check(&name("max.wav"), &max), Ok(Verdict::Ready));
    }
}
