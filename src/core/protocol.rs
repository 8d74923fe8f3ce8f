//! The wire protocol of the reference gateway, byte for byte.
//!
//! WebSocket text frames, subprotocol [`SUBPROTOCOL`].
//! Client to server: `CALL:<digits>`, `HANGUP`, `WAV_UPLOAD:<name>:<base64>`, `PLAY_WAV:<name>`,
//! and sipdeck's own extension `DTMF:<digits>`.
//! Server to client: `RTP:<hex of a whole RTP packet>`, `WAV_ACK:<text>`, anything else is a
//! status line.

use base64::Engine as _;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

pub const SUBPROTOCOL: &str = "sip-audio-protocol";
pub const DEFAULT_NUMBER: &str = "0938220136";
/// Largest WAV file an upload may carry (the reference client's limit).
pub const MAX_WAV_BYTES: usize = 1_048_576;
/// Frames larger than this are refused by both ends: a maximal upload is
/// `WAV_UPLOAD:` + a 255-byte name + the base64 of 1 MiB (1,398,104 bytes).
pub const MAX_FRAME_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("a number must be digits only (got {0:?})")]
    NotDigits(String),
    #[error("a number needs at least 3 digits (got {0})")]
    TooShort(usize),
    #[error("a number has at most 32 digits (got {0})")]
    TooLong(usize),
    #[error("file name is empty")]
    EmptyName,
    #[error("file name {0:?} must be a plain name: no folders, no '..', no ':', no control characters, no blanks at either end")]
    BadName(String),
    #[error("file name is longer than 255 bytes")]
    NameTooLong,
    #[error("file name {name:?} holds {hidden}, which could disguise it")]
    HiddenChar { name: String, hidden: crate::core::upload::HiddenChar },
    #[error("WAV upload is not valid base64: {0}")]
    BadBase64(String),
    #[error("WAV upload of {0} bytes is over the limit of {MAX_WAV_BYTES} bytes")]
    UploadTooLarge(usize),
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("DTMF digits are 0-9, *, #, A-D (got {0:?})")]
    NotDtmf(String),
    #[error("DTMF takes 1 to {MAX_DTMF_DIGITS} digits (got {0})")]
    DtmfLength(usize),
}

/// Most digits one `DTMF:` command carries.
pub const MAX_DTMF_DIGITS: usize = 32;

/// Digits for sipdeck's own `DTMF:<digits>` extension: 1 to 32 of `0-9 * # A-D` (lower-case
/// a-d are taken as upper-case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DtmfDigits(String);

impl DtmfDigits {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DtmfDigits {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_uppercase();
        if !s.chars().all(|c| matches!(c, '0'..='9' | '*' | '#' | 'A'..='D')) {
            return Err(ProtocolError::NotDtmf(s.chars().take(40).collect()));
        }
        match s.len() {
            n if n == 0 || n > MAX_DTMF_DIGITS => Err(ProtocolError::DtmfLength(n)),
            _ => Ok(DtmfDigits(s)),
        }
    }
}

impl fmt::Display for DtmfDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A dialable number: 3 to 32 ASCII digits, as the reference client demands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

impl Number {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Number {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProtocolError::NotDigits(s.to_string()));
        }
        match s.len() {
            n if n < 3 => Err(ProtocolError::TooShort(n)),
            n if n > 32 => Err(ProtocolError::TooLong(n)),
            _ => Ok(Number(s.to_string())),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file name that is safe on the wire and on a server's disk: no path separators, no `..`,
/// no `:` (it would split the upload message), no control characters, no blanks at either end
/// (servers strip them from `PLAY_WAV:<name>`, so the name would change), at most 255 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WavName(String);

impl WavName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of a local path's last component, validated.
    pub fn from_path(path: &std::path::Path) -> Result<Self, ProtocolError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.parse()
    }

    pub fn has_wav_extension(&self) -> bool {
        self.0.to_ascii_lowercase().ends_with(".wav")
    }
}

impl FromStr for WavName {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ProtocolError::EmptyName);
        }
        if s.len() > 255 {
            return Err(ProtocolError::NameTooLong);
        }
        let bad = s == "."
            || s == ".."
            || s.contains("..")
            || s.trim() != s
            || s.chars().any(|c| matches!(c, '/' | '\\' | ':' | '\0') || c.is_control());
        if bad {
            return Err(ProtocolError::BadName(s.to_string()));
        }
        if let Some(hidden) = crate::core::upload::hidden_char(s) {
            return Err(ProtocolError::HiddenChar { name: s.to_string(), hidden });
        }
        Ok(WavName(s.to_string()))
    }
}

impl fmt::Display for WavName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A message from client to server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMsg {
    Call(Number),
    Hangup,
    WavUpload { name: WavName, data: Vec<u8> },
    PlayWav(WavName),
    /// sipdeck's own extension: send these digits into the call as DTMF.
    Dtmf(DtmfDigits),
}

impl ClientMsg {
    /// The exact text frame the reference client sends.
    pub fn encode(&self) -> String {
        match self {
            ClientMsg::Call(n) => format!("CALL:{n}"),
            ClientMsg::Hangup => "HANGUP".to_string(),
            ClientMsg::WavUpload { name, data } => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(data);
                let mut s = String::with_capacity(12 + name.0.len() + b64.len());
                s.push_str("WAV_UPLOAD:");
                s.push_str(&name.0);
                s.push(':');
                s.push_str(&b64);
                s
            }
            ClientMsg::PlayWav(n) => format!("PLAY_WAV:{n}"),
            ClientMsg::Dtmf(d) => format!("DTMF:{d}"),
        }
    }

    /// A short form for logs: uploads are summarised, not dumped.
    pub fn summary(&self) -> String {
        match self {
            ClientMsg::WavUpload { name, data } => {
                format!("WAV_UPLOAD:{name}:<{} bytes as base64>", data.len())
            }
            other => other.encode(),
        }
    }

    /// Server side parsing. Trailing CR/LF and surrounding blanks (some clients add them)
    /// are ignored; everything else must be exact.
    pub fn parse(text: &str) -> Result<ClientMsg, ProtocolError> {
        let text = text.trim_matches(|c: char| c == '\r' || c == '\n' || c == ' ');
        if text == "HANGUP" {
            return Ok(ClientMsg::Hangup);
        }
        if let Some(num) = text.strip_prefix("CALL:") {
            return Ok(ClientMsg::Call(num.parse()?));
        }
        if let Some(digits) = text.strip_prefix("DTMF:") {
            return Ok(ClientMsg::Dtmf(digits.parse()?));
        }
        if let Some(name) = text.strip_prefix("PLAY_WAV:") {
            return Ok(ClientMsg::PlayWav(name.parse()?));
        }
        if let Some(rest) = text.strip_prefix("WAV_UPLOAD:") {
            // Names cannot hold ':', so the first ':' ends the name.
            let (name, b64) = rest.split_once(':').ok_or(ProtocolError::BadBase64(
                "missing ':' between name and data".into(),
            ))?;
            let name: WavName = name.parse()?;
            // Reject before decoding: 4 base64 chars carry 3 bytes.
            if b64.len() / 4 * 3 > MAX_WAV_BYTES + 3 {
                return Err(ProtocolError::UploadTooLarge(b64.len() / 4 * 3));
            }
            let data = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| ProtocolError::BadBase64(e.to_string()))?;
            if data.len() > MAX_WAV_BYTES {
                return Err(ProtocolError::UploadTooLarge(data.len()));
            }
            return Ok(ClientMsg::WavUpload { name, data });
        }
        let shown: String = text.chars().take(40).collect();
        Err(ProtocolError::UnknownCommand(shown))
    }
}

/// A message from server to client, borrowed from the frame text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMsg<'a> {
    /// Hex text of a whole RTP packet (not yet decoded).
    Rtp(&'a str),
    WavAck(&'a str),
    Status(&'a str),
}

impl<'a> ServerMsg<'a> {
    pub fn parse(text: &'a str) -> ServerMsg<'a> {
        if let Some(hex) = text.strip_prefix("RTP:") {
            ServerMsg::Rtp(hex.trim_end_matches(['\r', '\n']))
        } else if let Some(ack) = text.strip_prefix("WAV_ACK:") {
            ServerMsg::WavAck(ack)
        } else {
            ServerMsg::Status(text)
        }
    }
}

/// Server side: the text of an `RTP:` frame for a whole packet.
/// One allocation of the exact size: this runs once per forwarded packet. const_hex uses
/// SIMD where the CPU has it.
pub fn encode_rtp(packet: &[u8]) -> String {
    let mut text = vec![0u8; 4 + 2 * packet.len()];
    text[..4].copy_from_slice(b"RTP:");
    const_hex::encode_to_slice(packet, &mut text[4..]).expect("the buffer is twice the packet");
    String::from_utf8(text).expect("hex is ASCII")
}

/// Decode the hex of an `RTP:` frame into `out` (cleared first), reusing its allocation.
/// Upper and lower case digits are accepted; nothing else (no `0x`, no blanks).
pub fn decode_rtp_hex(hex_text: &str, out: &mut Vec<u8>) -> Result<(), hex::FromHexError> {
    out.clear();
    if !hex_text.len().is_multiple_of(2) {
        return Err(hex::FromHexError::OddLength);
    }
    out.resize(hex_text.len() / 2, 0);
    decode_rtp_hex_to_slice(hex_text, out)
}

/// Decode the hex of an `RTP:` frame into `out`, which must be exactly half its length.
pub fn decode_rtp_hex_to_slice(hex_text: &str, out: &mut [u8]) -> Result<(), hex::FromHexError> {
    let bytes = hex_text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return Err(hex::FromHexError::OddLength);
    }
    if out.len() != bytes.len() / 2 {
        return Err(hex::FromHexError::InvalidStringLength);
    }
    // const_hex would skip a `0x` prefix; the wire has none, so it is a bad character here.
    if let [b'0', c @ (b'x' | b'X'), ..] = bytes {
        return Err(hex::FromHexError::InvalidHexCharacter { c: *c as char, index: 1 });
    }
    // The SIMD decoder: the hex crate's byte-at-a-time loop was the actor's largest cost
    // under a flood (benches/flood.rs).
    const_hex::decode_to_slice(bytes, out).map_err(|e| match e {
        const_hex::FromHexError::InvalidHexCharacter { c, index } => hex::FromHexError::InvalidHexCharacter { c, index },
        const_hex::FromHexError::OddLength => hex::FromHexError::OddLength,
        const_hex::FromHexError::InvalidStringLength => hex::FromHexError::InvalidStringLength,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_exactly_like_the_reference_client() {
        let n: Number = "0938220136".parse().unwrap();
        assert_eq!(ClientMsg::Call(n).encode(), "CALL:0938220136");
        assert_eq!(ClientMsg::Hangup.encode(), "HANGUP");
        let name: WavName = "a.wav".parse().unwrap();
        assert_eq!(ClientMsg::PlayWav(name.clone()).encode(), "PLAY_WAV:a.wav");
        let up = ClientMsg::WavUpload { name, data: b"RIFF\x00\x01".to_vec() };
        // python: base64.b64encode(b"RIFF\x00\x01") == b"UklGRgAB"
        assert_eq!(up.encode(), "WAV_UPLOAD:a.wav:UklGRgAB");
        assert_eq!(up.summary(), "WAV_UPLOAD:a.wav:<6 bytes as base64>");
    }

    #[test]
    fn round_trips_every_client_message() {
        let msgs = [
            ClientMsg::Call("123".parse().unwrap()),
            ClientMsg::Hangup,
            ClientMsg::PlayWav("x y.wav".parse().unwrap()),
            ClientMsg::WavUpload { name: "t.wav".parse().unwrap(), data: (0..=255).collect() },
            ClientMsg::WavUpload { name: "empty.wav".parse().unwrap(), data: vec![] },
            ClientMsg::Dtmf("0123456789*#ABCD".parse().unwrap()),
        ];
        for m in msgs {
            assert_eq!(ClientMsg::parse(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn numbers_are_validated_like_the_reference() {
        assert_eq!("12".parse::<Number>(), Err(ProtocolError::TooShort(2)));
        assert!(matches!("12a4".parse::<Number>(), Err(ProtocolError::NotDigits(_))));
        assert!(matches!("".parse::<Number>(), Err(ProtocolError::NotDigits(_))));
        assert!(matches!("+4412".parse::<Number>(), Err(ProtocolError::NotDigits(_))));
        assert_eq!("  0912345678 ".parse::<Number>().unwrap().as_str(), "0912345678");
        assert!(matches!("1".repeat(33).parse::<Number>(), Err(ProtocolError::TooLong(33))));
    }

    #[test]
    fn dtmf_digits_are_the_sixteen_keys() {
        assert_eq!(ClientMsg::parse("DTMF:1#\r\n").unwrap().encode(), "DTMF:1#");
        assert_eq!("a*d".parse::<DtmfDigits>().unwrap().as_str(), "A*D");
        assert!(matches!("1E".parse::<DtmfDigits>(), Err(ProtocolError::NotDtmf(_))));
        assert!(matches!("1 2".parse::<DtmfDigits>(), Err(ProtocolError::NotDtmf(_))));
        assert_eq!("".parse::<DtmfDigits>(), Err(ProtocolError::DtmfLength(0)));
        assert_eq!("1".repeat(33).parse::<DtmfDigits>(), Err(ProtocolError::DtmfLength(33)));
        assert!("#".repeat(32).parse::<DtmfDigits>().is_ok());
        assert!(matches!(ClientMsg::parse("DTMF:"), Err(ProtocolError::DtmfLength(0))));
    }

    #[test]
    fn names_cannot_escape_a_folder_or_split_the_message() {
        // Blanks at the ends were found by tests/fuzz.rs: `PLAY_WAV:a.wav ` came back as
        // `a.wav`, because servers (and `ClientMsg::parse`) strip the line.
        for bad in ["../x.wav", "a/b.wav", "a\\b.wav", "..", ".", "a:b.wav", "x\n.wav", "a..wav", " ", "a.wav ", " a.wav", "a.wav\u{a0}"] {
            assert!(bad.parse::<WavName>().is_err(), "{bad:?} accepted");
        }
        assert_eq!("".parse::<WavName>(), Err(ProtocolError::EmptyName));
        assert_eq!("a".repeat(256).parse::<WavName>(), Err(ProtocolError::NameTooLong));
        assert!("hello world-1.WAV".parse::<WavName>().unwrap().has_wav_extension());
        let p = std::path::Path::new("/tmp/some dir/tone.wav");
        assert_eq!(WavName::from_path(p).unwrap().as_str(), "tone.wav");
    }

    #[test]
    fn server_side_parse_rejects_garbage_with_a_reason() {
        assert!(matches!(ClientMsg::parse("DIAL:123"), Err(ProtocolError::UnknownCommand(_))));
        assert!(matches!(ClientMsg::parse("WAV_UPLOAD:a.wav:@@@"), Err(ProtocolError::BadBase64(_))));
        assert!(matches!(ClientMsg::parse("WAV_UPLOAD:a.wav"), Err(ProtocolError::BadBase64(_))));
        let huge = format!("WAV_UPLOAD:a.wav:{}", "A".repeat(1_500_000));
        assert!(matches!(ClientMsg::parse(&huge), Err(ProtocolError::UploadTooLarge(_))));
        assert_eq!(ClientMsg::parse("HANGUP\r\n"), Ok(ClientMsg::Hangup));
    }

    #[test]
    fn server_messages_split_on_their_prefix() {
        assert_eq!(ServerMsg::parse("RTP:80ab"), ServerMsg::Rtp("80ab"));
        assert_eq!(ServerMsg::parse("WAV_ACK:a.wav ok"), ServerMsg::WavAck("a.wav ok"));
        assert_eq!(ServerMsg::parse("Ringing"), ServerMsg::Status("Ringing"));
        assert_eq!(ServerMsg::parse("rtp:00"), ServerMsg::Status("rtp:00"));
        assert_eq!(ServerMsg::parse(""), ServerMsg::Status(""));
    }

    #[test]
    fn rtp_hex_round_trip_and_errors() {
        let pkt = [0x80u8, 0x00, 0x12, 0x34, 0xff];
        let text = encode_rtp(&pkt);
        assert_eq!(text, "RTP:80001234ff");
        assert_eq!(encode_rtp(&[]), "RTP:");
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(encode_rtp(&all), format!("RTP:{}", hex::encode(&all)));
        let mut out = Vec::new();
        let ServerMsg::Rtp(h) = ServerMsg::parse(&text) else { panic!() };
        decode_rtp_hex(h, &mut out).unwrap();
        assert_eq!(out, pkt);
        assert_eq!(decode_rtp_hex("abc", &mut out), Err(hex::FromHexError::OddLength));
        assert!(decode_rtp_hex("zz", &mut out).is_err());
        decode_rtp_hex("ABCD", &mut out).unwrap();
        assert_eq!(out, [0xab, 0xcd]);
        // Errors name the offending character, as the hex crate did.
        assert_eq!(
            decode_rtp_hex("80zz", &mut out),
            Err(hex::FromHexError::InvalidHexCharacter { c: 'z', index: 2 })
        );
        assert_eq!(
            decode_rtp_hex("0x80", &mut out),
            Err(hex::FromHexError::InvalidHexCharacter { c: 'x', index: 1 })
        );
        // Long enough for the SIMD path, with one bad digit deep inside.
        let mut long = "ab".repeat(100);
        long.replace_range(151..152, "g");
        assert_eq!(
            decode_rtp_hex(&long, &mut out),
            Err(hex::FromHexError::InvalidHexCharacter { c: 'g', index: 151 })
        );
    }
}
