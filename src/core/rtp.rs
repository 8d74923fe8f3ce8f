//! RTP packets per RFC 3550 section 5.1: parsing without copying, and building.

use thiserror::Error;

pub const HEADER_LEN: usize = 12;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RtpError {
    #[error("packet of {0} bytes is shorter than the 12-byte RTP header")]
    TooShort(usize),
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    #[error("{count} CSRCs need {need} bytes but the packet has {have}")]
    CsrcOverrun { count: u8, need: usize, have: usize },
    #[error("header extension needs {need} bytes but the packet has {have}")]
    ExtensionOverrun { need: usize, have: usize },
    #[error("padding of {pad} bytes is more than the {avail} bytes after the header")]
    BadPadding { pad: usize, avail: usize },
}

/// The fixed header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// A parsed packet borrowing its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub header: RtpHeader,
    pub padding: bool,
    /// Raw CSRC list, 4 bytes each.
    pub csrcs: &'a [u8],
    /// Profile-defined id and the extension body, when the X bit is set.
    pub extension: Option<(u16, &'a [u8])>,
    pub payload: &'a [u8],
    /// Where the payload starts in the buffer.
    pub payload_offset: usize,
}

impl<'a> RtpPacket<'a> {
    pub fn csrc_iter(&self) -> impl Iterator<Item = u32> + 'a {
        self.csrcs.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// Parse a whole RTP packet (RFC 3550 5.1 and 5.3.1): version, padding, CSRC list, extension.
pub fn parse(buf: &[u8]) -> Result<RtpPacket<'_>, RtpError> {
    if buf.len() < HEADER_LEN {
        return Err(RtpError::TooShort(buf.len()));
    }
    let b0 = buf[0];
    let version = b0 >> 6;
    if version != 2 {
        return Err(RtpError::BadVersion(version));
    }
    let padding = b0 & 0x20 != 0;
    let has_ext = b0 & 0x10 != 0;
    let cc = b0 & 0x0f;
    let b1 = buf[1];
    let header = RtpHeader {
        marker: b1 & 0x80 != 0,
        payload_type: b1 & 0x7f,
        sequence: u16::from_be_bytes([buf[2], buf[3]]),
        timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
        ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
    };
    let mut pos = HEADER_LEN + 4 * cc as usize;
    if pos > buf.len() {
        return Err(RtpError::CsrcOverrun { count: cc, need: pos, have: buf.len() });
    }
    let csrcs = &buf[HEADER_LEN..pos];
    let extension = if has_ext {
        if pos + 4 > buf.len() {
            return Err(RtpError::ExtensionOverrun { need: pos + 4, have: buf.len() });
        }
        let profile = u16::from_be_bytes([buf[pos], buf[pos + 1]]);
        let words = u16::from_be_bytes([buf[pos + 2], buf[pos + 3]]) as usize;
        let end = pos + 4 + 4 * words;
        if end > buf.len() {
            return Err(RtpError::ExtensionOverrun { need: end, have: buf.len() });
        }
        let body = &buf[pos + 4..end];
        pos = end;
        Some((profile, body))
    } else {
        None
    };
    let mut end = buf.len();
    if padding {
        // The last octet counts the padding, itself included; zero is invalid.
        let pad = buf[buf.len() - 1] as usize;
        let avail = buf.len() - pos;
        if pad == 0 || pad > avail {
            return Err(RtpError::BadPadding { pad, avail });
        }
        end -= pad;
    }
    Ok(RtpPacket { header, padding, csrcs, extension, payload: &buf[pos..end], payload_offset: pos })
}

impl RtpHeader {
    /// Append a plain 12-byte header (no CSRC, no extension, no padding) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(0x80);
        out.push(((self.marker as u8) << 7) | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
    }
}

/// Build a whole packet: header then payload.
pub fn build(header: &RtpHeader, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    header.write(&mut out);
    out.extend_from_slice(payload);
    out
}

/// Static payload types of RFC 3551 that a phone call meets, plus the usual dynamic DTMF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Pcmu,
    Pcma,
    G722,
    G729,
    Cn,
    TelephoneEvent,
    Other(u8),
}

impl Codec {
    pub fn from_pt(pt: u8) -> Codec {
        match pt {
            0 => Codec::Pcmu,
            8 => Codec::Pcma,
            9 => Codec::G722,
            13 => Codec::Cn,
            18 => Codec::G729,
            101 => Codec::TelephoneEvent,
            n => Codec::Other(n),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Codec::Pcmu => "PCMU".into(),
            Codec::Pcma => "PCMA".into(),
            Codec::G722 => "G722".into(),
            Codec::G729 => "G729".into(),
            Codec::Cn => "CN".into(),
            Codec::TelephoneEvent => "telephone-event".into(),
            Codec::Other(n) => format!("PT {n}"),
        }
    }

    /// RTP clock rate in Hz. G.722 uses 8000 by RFC 3551's famous exception.
    pub fn clock_rate(&self) -> u32 {
        8000
    }

    /// Whether the payload is G.711 audio that sipdeck can record and measure.
    pub fn is_g711(&self) -> bool {
        matches!(self, Codec::Pcmu | Codec::Pcma)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr() -> RtpHeader {
        RtpHeader { marker: true, payload_type: 0, sequence: 0xfffe, timestamp: 160, ssrc: 0xdeadbeef }
    }

    #[test]
    fn parses_a_plain_packet() {
        let pkt = build(&hdr(), &[1, 2, 3]);
        assert_eq!(&pkt[..4], &[0x80, 0x80, 0xff, 0xfe]);
        let p = parse(&pkt).unwrap();
        assert_eq!(p.header, hdr());
        assert_eq!(p.payload, &[1, 2, 3]);
        assert_eq!(p.payload_offset, 12);
        assert!(p.extension.is_none());
        assert!(!p.padding);
    }

    #[test]
    fn skips_csrcs_extension_and_padding() {
        // V=2 P=1 X=1 CC=2, M=0 PT=8
        let mut pkt = vec![0xb2, 0x08, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4];
        pkt.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 9]); // two CSRCs
        pkt.extend_from_slice(&[0xbe, 0xde, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd]); // one-word extension
        pkt.extend_from_slice(&[0x55; 5]); // payload
        pkt.extend_from_slice(&[0, 0, 3]); // 3 bytes of padding
        let p = parse(&pkt).unwrap();
        assert_eq!(p.header.payload_type, 8);
        assert_eq!(p.csrc_iter().collect::<Vec<_>>(), vec![7, 9]);
        assert_eq!(p.extension, Some((0xbede, &[0xaa, 0xbb, 0xcc, 0xdd][..])));
        assert_eq!(p.payload, &[0x55; 5]);
        assert_eq!(p.payload_offset, 28);
        assert!(p.padding);
    }

    #[test]
    fn rejects_broken_packets_with_reasons() {
        assert_eq!(parse(&[0x80; 11]), Err(RtpError::TooShort(11)));
        let mut v1 = build(&hdr(), &[]);
        v1[0] = 0x40;
        assert_eq!(parse(&v1), Err(RtpError::BadVersion(1)));
        let mut cc = build(&hdr(), &[0; 4]);
        cc[0] = 0x8f; // 15 CSRCs, 60 bytes, only 4 there
        assert_eq!(parse(&cc), Err(RtpError::CsrcOverrun { count: 15, need: 72, have: 16 }));
        let mut ext = build(&hdr(), &[0, 0, 0, 9]);
        ext[0] = 0x90; // extension of 9 words that is not there
        assert!(matches!(parse(&ext), Err(RtpError::ExtensionOverrun { need: 52, have: 16 })));
        let mut ext2 = build(&hdr(), &[0, 0]);
        ext2[0] = 0x90;
        assert!(matches!(parse(&ext2), Err(RtpError::ExtensionOverrun { .. })));
        let mut pad = build(&hdr(), &[1, 2, 9]);
        pad[0] = 0xa0; // padding count 9 > 3 bytes available
        assert_eq!(parse(&pad), Err(RtpError::BadPadding { pad: 9, avail: 3 }));
        let mut pad0 = build(&hdr(), &[1, 0]);
        pad0[0] = 0xa0;
        assert_eq!(parse(&pad0), Err(RtpError::BadPadding { pad: 0, avail: 2 }));
        let mut pad_only = build(&hdr(), &[]);
        pad_only[0] = 0xa0; // padding bit with no byte after the header
        assert!(parse(&pad_only).is_err());
    }

    #[test]
    fn empty_payload_is_valid() {
        let pkt = build(&hdr(), &[]);
        assert!(parse(&pkt).unwrap().payload.is_empty());
    }

    #[test]
    fn codec_names() {
        assert_eq!(Codec::from_pt(0).name(), "PCMU");
        assert_eq!(Codec::from_pt(8).name(), "PCMA");
        assert_eq!(Codec::from_pt(9).name(), "G722");
        assert_eq!(Codec::from_pt(18).name(), "G729");
        assert_eq!(Codec::from_pt(101).name(), "telephone-event");
        assert_eq!(Codec::from_pt(96).name(), "PT 96");
    }
}
