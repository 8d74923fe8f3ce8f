//! Text frames to events: the per-packet hot path of the actor under a flood.

use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::{NetEvent, RtpFrame};
use crate::core::protocol::{self, ServerMsg};

/// Decoded packets are carved from blocks of this size.
const BLOCK: usize = 64 * 1024;
/// Packets up to this size (an Ethernet MTU's worth) go through the reused stage buffer.
const STAGE: usize = 1500;

/// Turns text frames into events. Decoded RTP packets are cut from shared 64 KiB blocks
/// (reference-counted [`Bytes`]): one allocation per few hundred packets rather than one per
/// packet. That matters because the UI thread frees what the actor allocates, and with one
/// heap block per packet the two threads fought over the allocator's lock under a flood.
/// A block is freed when the last packet cut from it is dropped; the app drops each frame
/// once it has copied the payload.
#[derive(Debug, Default)]
pub struct FrameParser {
    block: BytesMut,
    /// Where a packet is decoded before it joins the block; zeroed once.
    stage: Vec<u8>,
}

impl FrameParser {
    pub fn parse(&mut self, text: &str, arrival: Instant) -> NetEvent {
        match ServerMsg::parse(text) {
            ServerMsg::Rtp(hex) => self.rtp(hex, arrival),
            ServerMsg::WavAck(a) => NetEvent::WavAck(a.to_string()),
            ServerMsg::Status(s) => NetEvent::Status(s.to_string()),
        }
    }

    fn rtp(&mut self, hex: &str, arrival: Instant) -> NetEvent {
        let bytes = match self.decode(hex) {
            Ok(b) => b,
            Err(e) => return NetEvent::Malformed { reason: format!("RTP frame is not valid hex ({e})") },
        };
        match RtpFrame::from_bytes(bytes, arrival) {
            Ok(f) => NetEvent::Rtp(f),
            Err(e) => NetEvent::Malformed { reason: format!("RTP frame is not valid RTP: {e}") },
        }
    }

    fn decode(&mut self, hex: &str) -> Result<Bytes, hex::FromHexError> {
        if !hex.len().is_multiple_of(2) {
            return Err(hex::FromHexError::OddLength);
        }
        let n = hex.len() / 2;
        if n > STAGE {
            // Larger than any RTP over UDP: decoded on its own.
            let mut big = vec![0u8; n];
            protocol::decode_rtp_hex_to_slice(hex, &mut big)?;
            return Ok(Bytes::from(big));
        }
        // Decoded into the reused stage, then appended to the block: a block is never zeroed
        // (that memset was a tenth of the actor's time under a flood), and a failed decode
        // leaves nothing in it.
        if self.stage.len() < STAGE {
            self.stage.resize(STAGE, 0);
        }
        let stage = &mut self.stage[..n];
        protocol::decode_rtp_hex_to_slice(hex, stage)?;
        if self.block.capacity() - self.block.len() < n {
            self.block = BytesMut::with_capacity(BLOCK);
        }
        self.block.extend_from_slice(stage);
        Ok(self.block.split_to(n).freeze())
    }
}

/// Turn one text frame into an event. Public so benchmarks and fuzzers drive the real path.
pub fn parse_text(text: &str) -> NetEvent {
    parse_text_at(text, Instant::now())
}

/// [`parse_text`] for a frame that arrived at `arrival`.
pub fn parse_text_at(text: &str, arrival: Instant) -> NetEvent {
    FrameParser::default().parse(text, arrival)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rtp::{self, RtpHeader};

    fn text(seq: u16, len: usize) -> String {
        let h = RtpHeader { sequence: seq, ..Default::default() };
        protocol::encode_rtp(&rtp::build(&h, &vec![seq as u8; len]))
    }

    #[test]
    fn packets_share_blocks_and_stay_intact() {
        let mut p = FrameParser::default();
        let now = Instant::now();
        // Enough 172-byte packets to span several blocks, one larger than a block, and bad
        // frames in between that must not disturb their neighbours.
        let mut frames = Vec::new();
        for seq in 0..1000u16 {
            let len = if seq == 500 { BLOCK + 10 } else { 160 };
            match p.parse(&text(seq, len), now) {
                NetEvent::Rtp(f) => frames.push(f),
                other => panic!("{other:?}"),
            }
            assert!(matches!(p.parse("RTP:80zz", now), NetEvent::Malformed { .. }));
        }
        for (seq, f) in frames.iter().enumerate() {
            assert_eq!(f.header.sequence, seq as u16);
            let len = if seq == 500 { BLOCK + 10 } else { 160 };
            assert_eq!(f.payload(), &vec![seq as u8; len][..]);
        }
    }
}
