//! The SDP of a call (RFC 4566 / RFC 3264): our offer, and where the answer wants audio.

use std::net::{IpAddr, SocketAddr};

use thiserror::Error;
use webrtc_sdp::address::ExplicitlyTypedAddress;
use webrtc_sdp::attribute_type::{SdpAttribute, SdpAttributeType};
use webrtc_sdp::media_type::{SdpFormatList, SdpMediaValue};

use crate::server::media::{codec_names, Codec};

/// Payload type offered for RFC 4733 telephone-event.
pub const PT_DTMF: u8 = 101;

/// The offer: one audio stream with `codecs` in order of preference and telephone-event,
/// 20 ms packets.
pub fn offer(ip: IpAddr, rtp_port: u16, session_id: u64, codecs: &[Codec]) -> String {
    let family = if ip.is_ipv6() { "IP6" } else { "IP4" };
    let pts: String = codecs.iter().map(|c| format!("{} ", c.payload_type())).collect();
    let rtpmaps: String = codecs.iter().map(|c| format!("a=rtpmap:{} {}/8000\r\n", c.payload_type(), c.name())).collect();
    format!(
        "v=0\r\n\
         o=sipdeck {session_id} {session_id} IN {family} {ip}\r\n\
         s=sipdeck\r\n\
         c=IN {family} {ip}\r\n\
         t=0 0\r\n\
         m=audio {rtp_port} RTP/AVP {pts}{PT_DTMF}\r\n\
         {rtpmaps}\
         a=rtpmap:{PT_DTMF} telephone-event/8000\r\n\
         a=fmtp:{PT_DTMF} 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    )
}

#[derive(Debug, Error, PartialEq)]
pub enum AnswerError {
    #[error("the answer carries no SDP")]
    Empty,
    #[error("the answer's SDP does not parse: {0}")]
    Parse(String),
    #[error("the answer has no audio stream")]
    NoAudio,
    #[error("the answer refused the audio stream (port 0)")]
    Rejected,
    #[error("far end accepts none of {}", codec_names(.0))]
    NoCommonCodec(Vec<Codec>),
    #[error("the answer gives no IP address for audio (got {0:?})")]
    NoAddress(String),
}

/// What an SDP answer says about the call's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerMedia {
    /// Where to send our RTP: the first audio stream's port at its own `c=` address, or the
    /// session's.
    pub addr: SocketAddr,
    /// The first payload type of the answer that we offered (RFC 3264 6.1: the answerer
    /// lists what it accepts, most preferred first).
    pub codec: Codec,
    /// False for `a=inactive` or `a=recvonly` (on hold): no RTP is to be expected.
    pub far_end_sends: bool,
    /// The payload type of telephone-event/8000 in the answer (RFC 4733 DTMF); `None`:
    /// digits cannot go in RTP (SIP INFO is the fallback).
    pub dtmf_pt: Option<u8>,
}

/// Read an SDP answer (or the SDP of early media) to an offer of `offered`.
pub fn answer_media(body: &[u8], offered: &[Codec]) -> Result<AnswerMedia, AnswerError> {
    let text = std::str::from_utf8(body).map_err(|e| AnswerError::Parse(e.to_string()))?;
    if text.trim().is_empty() {
        return Err(AnswerError::Empty);
    }
    let session = webrtc_sdp::parse_sdp(text, false).map_err(|e| AnswerError::Parse(e.to_string()))?;
    let audio = session
        .media
        .iter()
        .find(|m| *m.get_type() == SdpMediaValue::Audio)
        .ok_or(AnswerError::NoAudio)?;
    let port = u16::try_from(audio.get_port()).map_err(|_| AnswerError::Rejected)?;
    if port == 0 {
        return Err(AnswerError::Rejected);
    }
    let codec = match audio.get_formats() {
        SdpFormatList::Integers(pts) => pts
            .iter()
            .filter_map(|&pt| Codec::from_payload_type(pt))
            .find(|c| offered.contains(c))
            .ok_or_else(|| AnswerError::NoCommonCodec(offered.to_vec()))?,
        _ => return Err(AnswerError::NoCommonCodec(offered.to_vec())),
    };
    let silent = |t: SdpAttributeType| audio.get_attribute(t.clone()).is_some() || session.get_attribute(t).is_some();
    let far_end_sends = !(silent(SdpAttributeType::Inactive) || silent(SdpAttributeType::Recvonly));
    let conn = audio.get_connection().as_ref().or(session.connection.as_ref());
    let addr = match conn.map(|c| &c.address) {
        Some(ExplicitlyTypedAddress::Ip(ip)) => SocketAddr::new(*ip, port),
        Some(other) => return Err(AnswerError::NoAddress(other.to_string())),
        None => return Err(AnswerError::NoAddress("nothing".into())),
    };
    let listed = |pt: u8| matches!(audio.get_formats(), SdpFormatList::Integers(pts) if pts.contains(&(pt as u32)));
    let dtmf_pt = audio.get_attributes().iter().find_map(|a| match a {
        SdpAttribute::Rtpmap(m) if m.codec_name.eq_ignore_ascii_case("telephone-event") && m.frequency == 8000 && listed(m.payload_type) => {
            Some(m.payload_type)
        }
        _ => None,
    });
    Ok(AnswerMedia { addr, codec, far_end_sends, dtmf_pt })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The audio address of an answer to a PCMU-only offer.
    fn answer_target(body: &[u8]) -> Result<SocketAddr, AnswerError> {
        answer_media(body, &[Codec::Pcmu]).map(|m| m.addr)
    }

    #[test]
    fn the_offer_parses_and_offers_pcmu_first() {
        let sdp = offer("192.0.2.7".parse().unwrap(), 10_002, 42, &[Codec::Pcmu]);
        let s = webrtc_sdp::parse_sdp(&sdp, true).unwrap();
        assert_eq!(s.media.len(), 1);
        assert_eq!(s.media[0].get_port(), 10_002);
        assert!(matches!(s.media[0].get_formats(), SdpFormatList::Integers(pts) if *pts == [0, 101]));
        assert!(sdp.contains("a=rtpmap:0 PCMU/8000\r\n"));
        assert!(sdp.contains("a=rtpmap:101 telephone-event/8000\r\n"));
        // Our own offer read as an answer points back at us.
        assert_eq!(answer_target(sdp.as_bytes()).unwrap(), "192.0.2.7:10002".parse().unwrap());
        let v6 = offer("2001:db8::1".parse().unwrap(), 4000, 1, &[Codec::Pcmu]);
        assert!(v6.contains("c=IN IP6 2001:db8::1\r\n"));
    }

    #[test]
    fn reads_the_audio_target_of_typical_answers() {
        // sipp's answer: session-level c=, LF line ends.
        let sipp = "v=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
        assert_eq!(answer_target(sipp.as_bytes()).unwrap(), "127.0.0.1:6000".parse().unwrap());
        // Asterisk style: media-level c= wins over the session's.
        let media_c = "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=Asterisk\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 17000 RTP/AVP 0 101\r\nc=IN IP4 10.0.0.9\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n";
        assert_eq!(answer_target(media_c.as_bytes()).unwrap(), "10.0.0.9:17000".parse().unwrap());
    }

    #[test]
    fn refuses_answers_it_cannot_use() {
        assert_eq!(answer_target(b""), Err(AnswerError::Empty));
        assert!(matches!(answer_target(b"hello"), Err(AnswerError::Parse(_))));
        let head = "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
        assert_eq!(answer_target(head.as_bytes()), Err(AnswerError::NoAudio));
        let zero = format!("{head}m=audio 0 RTP/AVP 0\r\n");
        assert_eq!(answer_target(zero.as_bytes()), Err(AnswerError::Rejected));
        let pcma = format!("{head}m=audio 5000 RTP/AVP 8\r\n");
        assert_eq!(answer_target(pcma.as_bytes()), Err(AnswerError::NoCommonCodec(vec![Codec::Pcmu])));
    }

    #[test]
    fn offers_both_laws_in_the_order_given_and_takes_the_answers_pick() {
        let both = offer("192.0.2.7".parse().unwrap(), 10_002, 42, &[Codec::Pcma, Codec::Pcmu]);
        assert!(both.contains("m=audio 10002 RTP/AVP 8 0 101\r\n"), "{both}");
        assert!(both.contains("a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"), "{both}");
        let head = "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
        let ours = [Codec::Pcmu, Codec::Pcma];
        let pcma = format!("{head}m=audio 5000 RTP/AVP 8 101\r\n");
        assert_eq!(answer_media(pcma.as_bytes(), &ours).unwrap().codec, Codec::Pcma);
        let pick = format!("{head}m=audio 5000 RTP/AVP 9 8 0\r\n");
        assert_eq!(answer_media(pick.as_bytes(), &ours).unwrap().codec, Codec::Pcma);
        let g722 = format!("{head}m=audio 5000 RTP/AVP 9\r\n");
        let e = answer_media(g722.as_bytes(), &ours).unwrap_err();
        assert_eq!(e.to_string(), "far end accepts none of PCMU, PCMA");
        let held = format!("{head}m=audio 5000 RTP/AVP 0\r\na=inactive\r\n");
        assert_eq!(answer_media(held.as_bytes(), &ours).unwrap().dtmf_pt, None);
        let events = format!("{head}m=audio 5000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\n");
        assert_eq!(answer_media(events.as_bytes(), &ours).unwrap().dtmf_pt, Some(96));
        let unlisted = format!("{head}m=audio 5000 RTP/AVP 0\r\na=rtpmap:96 telephone-event/8000\r\n");
        assert_eq!(answer_media(unlisted.as_bytes(), &ours).unwrap().dtmf_pt, None);
        assert!(!answer_media(held.as_bytes(), &ours).unwrap().far_end_sends);
        assert!(answer_media(pcma.as_bytes(), &ours).unwrap().far_end_sends);
    }
}
