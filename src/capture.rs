//! The received audio, kept for saving as a WAV file.

use crate::rtp::{Codec, RtpHeader};
use crate::wav::{self, Law};

/// Audio payloads of the call, in arrival order, in the law of the first G.711 packet seen.
/// Packets of another codec are not mixed in (they would be noise in the file).
#[derive(Debug, Default, Clone)]
pub struct Capture {
    law: Option<Law>,
    data: Vec<u8>,
    skipped_packets: u64,
}

impl Capture {
    pub fn push(&mut self, header: &RtpHeader, payload: &[u8]) {
        let law = match Codec::from_pt(header.payload_type) {
            Codec::Pcmu => Law::MuLaw,
            Codec::Pcma => Law::ALaw,
            _ => {
                self.skipped_packets += 1;
                return;
            }
        };
        match self.law {
            None => self.law = Some(law),
            Some(l) if l != law => {
                self.skipped_packets += 1;
                return;
            }
            Some(_) => {}
        }
        self.data.extend_from_slice(payload);
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn law(&self) -> Law {
        self.law.unwrap_or(Law::MuLaw)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Seconds of audio at 8000 samples/s.
    pub fn seconds(&self) -> f64 {
        self.data.len() as f64 / 8000.0
    }

    pub fn skipped_packets(&self) -> u64 {
        self.skipped_packets
    }

    /// The whole capture as a G.711 WAV file.
    pub fn to_wav(&self) -> Vec<u8> {
        wav::g711_wav(self.law(), &self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pt: u8) -> RtpHeader {
        RtpHeader { payload_type: pt, ..Default::default() }
    }

    #[test]
    fn keeps_every_packet_of_the_first_law() {
        let mut c = Capture::default();
        for _ in 0..10 {
            c.push(&h(0), &[0x11; 160]);
        }
        c.push(&h(101), &[1, 2, 3, 4]);
        c.push(&h(8), &[0xd5; 160]);
        assert_eq!(c.len(), 1600);
        assert_eq!(c.law(), Law::MuLaw);
        assert_eq!(c.skipped_packets(), 2);
        assert!((c.seconds() - 0.2).abs() < 1e-9);
        assert_eq!(c.to_wav().len(), 58 + 1600);
    }
}
