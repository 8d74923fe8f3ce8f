//! Outgoing audio shared by both servers: the one RTP packetiser (RFC 3550 sequence,
//! timestamp and SSRC of a 20 ms G.711 stream) and the phone audio of a stored WAV.

use std::time::{Duration, Instant};

use crate::core::audio::{self, ALAW_SILENCE, ULAW_SILENCE};
use crate::core::convert::{self, Length};
use crate::core::rtp::{self, RtpHeader};
use crate::core::wav;

/// Samples (and payload bytes) of one 20 ms G.711 packet at 8 kHz.
pub const SAMPLES_PER_PACKET: usize = 160;
pub const PACKET_INTERVAL: Duration = Duration::from_millis(20);

/// Payload type of PCMU (RFC 3551, static).
pub const PT_PCMU: u8 = 0;
/// Payload type of PCMA (RFC 3551, static).
pub const PT_PCMA: u8 = 8;

/// The G.711 laws a call can carry (RFC 3551 static payload types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Codec {
    /// G.711 mu-law, payload type 0.
    Pcmu,
    /// G.711 A-law, payload type 8.
    Pcma,
}

impl Codec {
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => PT_PCMU,
            Codec::Pcma => PT_PCMA,
        }
    }

    pub fn from_payload_type(pt: u32) -> Option<Codec> {
        [Codec::Pcmu, Codec::Pcma].into_iter().find(|c| c.payload_type() as u32 == pt)
    }

    /// The SDP encoding name.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    pub fn silence(self) -> u8 {
        match self {
            Codec::Pcmu => ULAW_SILENCE,
            Codec::Pcma => ALAW_SILENCE,
        }
    }

    /// Mu-law audio (what a playback is prepared as) in this law.
    pub fn from_ulaw(self, ulaw: Vec<u8>) -> Vec<u8> {
        match self {
            Codec::Pcmu => ulaw,
            Codec::Pcma => ulaw.into_iter().map(|u| audio::linear_to_alaw(audio::ulaw_to_linear(u))).collect(),
        }
    }
}

/// "PCMU, PCMA": the codecs of a list, for status lines.
pub fn codec_names(codecs: &[Codec]) -> String {
    codecs.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
}

/// Sequence number, timestamp and SSRC of our outgoing stream (RFC 3550 5.1): random
/// starts, +1 and +160 per packet, the marker on the first packet of each talkspurt, and a
/// timestamp that keeps counting real time across the silence between two playbacks.
#[derive(Debug, Clone)]
pub struct RtpPacketiser {
    payload_type: u8,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    last_sent: Option<Instant>,
}

impl RtpPacketiser {
    pub fn new(payload_type: u8, ssrc: u32, sequence: u16, timestamp: u32) -> RtpPacketiser {
        RtpPacketiser { payload_type, ssrc, sequence, timestamp, last_sent: None }
    }

    pub fn random(payload_type: u8) -> RtpPacketiser {
        RtpPacketiser::new(payload_type, fastrand::u32(..), fastrand::u16(..), fastrand::u32(..))
    }

    /// Send another payload type from the next packet on (the codec the answer chose).
    pub fn set_payload_type(&mut self, payload_type: u8) {
        self.payload_type = payload_type;
    }

    /// Start a talkspurt at `now`: the timestamp jumps by the samples of the silence, so
    /// the first packet's timestamp is the last one's plus the real time in between.
    pub fn start_talkspurt(&mut self, now: Instant) {
        if let Some(last) = self.last_sent {
            let samples = now.saturating_duration_since(last).as_micros() as u64 * 8 / 1000;
            let whole = samples / SAMPLES_PER_PACKET as u64 * SAMPLES_PER_PACKET as u64;
            // `next` adds one packet's worth itself.
            let gap = whole.saturating_sub(SAMPLES_PER_PACKET as u64);
            self.timestamp = self.timestamp.wrapping_add(gap as u32);
        }
    }

    /// The header of the next packet of a 160-sample payload sent at `now`.
    pub fn next(&mut self, marker: bool, now: Instant) -> RtpHeader {
        if self.last_sent.is_some() {
            self.sequence = self.sequence.wrapping_add(1);
            self.timestamp = self.timestamp.wrapping_add(SAMPLES_PER_PACKET as u32);
        }
        self.last_sent = Some(now);
        RtpHeader { marker, payload_type: self.payload_type, sequence: self.sequence, timestamp: self.timestamp, ssrc: self.ssrc }
    }

    /// The header of a telephone-event packet (RFC 4733) sent at `now`: the next sequence
    /// number, and the timestamp brought up to `now` in whole packets, as the audio's would
    /// be. The caller keeps an event's first timestamp for all its packets; audio sent
    /// meanwhile (a playback) keeps counting from where it was, so both interleave in one
    /// stream.
    pub fn next_event(&mut self, payload_type: u8, marker: bool, now: Instant) -> RtpHeader {
        match self.last_sent {
            Some(last) => {
                self.sequence = self.sequence.wrapping_add(1);
                let packets = now.saturating_duration_since(last).as_micros() as u64 / PACKET_INTERVAL.as_micros() as u64;
                self.timestamp = self.timestamp.wrapping_add((packets * SAMPLES_PER_PACKET as u64) as u32);
                // The remainder stays counted: `last` moves by whole packets only.
                self.last_sent = Some(last + PACKET_INTERVAL * packets as u32);
            }
            None => self.last_sent = Some(now),
        }
        RtpHeader { marker, payload_type, sequence: self.sequence, timestamp: self.timestamp, ssrc: self.ssrc }
    }

    /// The next whole packet into `packet` (cleared first): the header, then `payload`
    /// padded to 160 bytes with `silence`.
    pub fn write_next(&mut self, packet: &mut Vec<u8>, payload: &[u8], marker: bool, silence: u8, now: Instant) {
        let header = self.next(marker, now);
        packet.clear();
        header.write(packet);
        packet.extend_from_slice(&payload[..payload.len().min(SAMPLES_PER_PACKET)]);
        packet.resize(rtp::HEADER_LEN + SAMPLES_PER_PACKET, silence);
    }
}

/// The 8 kHz mu-law of a stored WAV: mu-law as it is, A-law and 16-bit PCM at 8 kHz mono
/// transcoded, anything else decoded, mixed to mono and resampled by the core's converter
/// (as much as fits in one upload's worth of audio).
pub fn phone_audio(file: &[u8]) -> Result<Vec<u8>, String> {
    if let Ok(ulaw) = wav::phone_ulaw(file) {
        return Ok(ulaw.into_owned());
    }
    let converted = convert::convert(file, Length::FirstPart).map_err(|e| e.to_string())?;
    wav::phone_ulaw(&converted.wav).map(|u| u.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_counts_packets_and_marks_talkspurts() {
        let t0 = Instant::now();
        let mut c = RtpPacketiser::new(PT_PCMU, 7, 0xfffe, u32::MAX - 100);
        c.start_talkspurt(t0);
        let a = c.next(true, t0);
        let b = c.next(false, t0 + PACKET_INTERVAL);
        let d = c.next(false, t0 + 2 * PACKET_INTERVAL);
        assert_eq!((a.sequence, b.sequence, d.sequence), (0xfffe, 0xffff, 0));
        assert_eq!(b.timestamp, a.timestamp.wrapping_add(160));
        assert_eq!(d.timestamp, a.timestamp.wrapping_add(320));
        assert!(a.marker && !b.marker && !d.marker);
        assert_eq!((a.ssrc, a.payload_type), (7, 0));
        // One second after the last packet, a new talkspurt: 8000 samples later.
        let later = t0 + 2 * PACKET_INTERVAL + Duration::from_secs(1);
        c.start_talkspurt(later);
        let e = c.next(true, later);
        assert_eq!(e.sequence, 1);
        assert_eq!(e.timestamp, d.timestamp.wrapping_add(8000));
        assert!(e.marker);
    }

    #[test]
    fn event_packets_continue_the_audio_stream() {
        let t0 = Instant::now();
        let mut c = RtpPacketiser::new(PT_PCMU, 7, 100, 1000);
        let a = c.next(true, t0);
        // 50 ms later: two whole packets of time have passed.
        let e1 = c.next_event(101, true, t0 + Duration::from_millis(50));
        assert_eq!((e1.sequence, e1.timestamp, e1.payload_type, e1.ssrc), (101, 1320, 101, 7));
        assert!(e1.marker);
        let e2 = c.next_event(101, false, t0 + Duration::from_millis(70));
        assert_eq!((e2.sequence, e2.timestamp), (102, 1480));
        // Audio right after goes on one packet later, with the next sequence number.
        let b = c.next(false, t0 + Duration::from_millis(75));
        assert_eq!((b.sequence, b.timestamp), (103, 1640));
        assert_eq!(a.sequence, 100);
        // A stream that starts with an event starts where the clock stands.
        let mut fresh = RtpPacketiser::new(PT_PCMU, 1, 5, 50);
        let f = fresh.next_event(101, true, t0);
        assert_eq!((f.sequence, f.timestamp), (5, 50));
        assert_eq!(fresh.next(false, t0 + PACKET_INTERVAL).sequence, 6);
    }

    #[test]
    fn codecs_know_their_payload_types_and_transcode() {
        assert_eq!(Codec::from_payload_type(8), Some(Codec::Pcma));
        assert_eq!(Codec::from_payload_type(9), None);
        assert_eq!(codec_names(&[Codec::Pcmu, Codec::Pcma]), "PCMU, PCMA");
        let ulaw = vec![ULAW_SILENCE; 4];
        assert_eq!(Codec::Pcma.from_ulaw(ulaw.clone()), vec![ALAW_SILENCE; 4]);
        assert_eq!(Codec::Pcmu.from_ulaw(ulaw.clone()), ulaw);
    }

    #[test]
    fn writes_whole_padded_packets() {
        let mut c = RtpPacketiser::new(PT_PCMA, 1, 10, 100);
        let mut pkt = Vec::new();
        c.write_next(&mut pkt, &[1, 2, 3], true, 0xd5, Instant::now());
        let p = rtp::parse(&pkt).unwrap();
        assert_eq!((p.header.payload_type, p.header.sequence, p.header.marker), (PT_PCMA, 10, true));
        assert_eq!(&p.payload[..3], &[1, 2, 3]);
        assert!(p.payload[3..].iter().all(|&b| b == 0xd5));
        assert_eq!(p.payload.len(), SAMPLES_PER_PACKET);
    }
}
