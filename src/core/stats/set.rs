//! Every RTP stream of the session, one per SSRC, bounded.

use std::collections::VecDeque;
use std::time::Instant;

use crate::core::dtmf::Dtmf;
use crate::core::rtp::{Codec, RtpHeader};

use super::seq::Placement;
use super::stream::{Media, StreamStats};

/// Streams kept; past this the one silent the longest is dropped.
pub const MAX_STREAMS: usize = 64;

/// What [`StreamSet::on_packet`] made of a packet, for the capture and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    pub ssrc: u32,
    /// This packet opened a new stream.
    pub opened: bool,
    /// The packet belongs to the most recently opened stream (the one a recording follows).
    pub newest: bool,
    pub placement: Placement,
    pub media: Media,
    /// When the packet arrived (the capture places a new stream by it).
    pub at: Instant,
}

/// A DTMF event and the SSRC it came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamDtmf {
    pub ssrc: u32,
    pub dtmf: Dtmf,
}

#[derive(Debug, Clone, Default)]
pub struct StreamSet {
    /// Oldest opened first.
    streams: VecDeque<StreamStats>,
    /// Index of the stream of the previous packet: consecutive packets share an SSRC.
    last: usize,
    newest_ssrc: Option<u32>,
    /// Reports not yet taken; the buffer is reused.
    dtmf: Vec<StreamDtmf>,
    scratch: Vec<Dtmf>,
    /// Streams dropped to stay within [`MAX_STREAMS`].
    pub evicted: u64,
}

impl StreamSet {
    pub fn on_packet(&mut self, header: &RtpHeader, payload: &[u8], wire_len: usize, at: Instant) -> Arrival {
        let media = Media::of(Codec::from_pt(header.payload_type));
        let ssrc = header.ssrc;
        let (placement, opened) = match self.find(ssrc) {
            Some(i) => {
                self.last = i;
                (self.streams[i].on_packet(header, payload, wire_len, at, &mut self.scratch), false)
            }
            None => {
                if self.streams.len() >= MAX_STREAMS {
                    self.evict();
                }
                let s = StreamStats::open(header, payload, wire_len, at, &mut self.scratch);
                let placement = s.seq.first_placement();
                self.streams.push_back(s);
                self.last = self.streams.len() - 1;
                self.newest_ssrc = Some(ssrc);
                (placement, true)
            }
        };
        self.dtmf.extend(self.scratch.drain(..).map(|dtmf| StreamDtmf { ssrc, dtmf }));
        Arrival { ssrc, opened, newest: self.newest_ssrc == Some(ssrc), placement, media, at }
    }

    fn find(&self, ssrc: u32) -> Option<usize> {
        match self.streams.get(self.last) {
            Some(s) if s.ssrc == ssrc => Some(self.last),
            _ => self.streams.iter().position(|s| s.ssrc == ssrc),
        }
    }

    fn evict(&mut self) {
        let quietest = self.streams.iter().enumerate().min_by_key(|(_, s)| s.last_at).map(|(i, _)| i);
        if let Some(i) = quietest {
            self.streams.remove(i);
            self.evicted += 1;
        }
    }

    /// Update rates and report DTMF events whose end never came.
    pub fn on_tick(&mut self, now: Instant) {
        for s in self.streams.iter_mut() {
            s.on_tick(now, &mut self.scratch);
            let ssrc = s.ssrc;
            self.dtmf.extend(self.scratch.drain(..).map(|dtmf| StreamDtmf { ssrc, dtmf }));
        }
    }

    /// DTMF events finished since the last call, in order.
    pub fn take_dtmf(&mut self) -> std::vec::Drain<'_, StreamDtmf> {
        self.dtmf.drain(..)
    }

    /// Streams, oldest opened first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &StreamStats> + ExactSizeIterator {
        self.streams.iter()
    }

    pub fn len(&self) -> usize {
        self.streams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    pub fn get(&self, ssrc: u32) -> Option<&StreamStats> {
        self.streams.iter().find(|s| s.ssrc == ssrc)
    }

    /// The most recently opened stream that is still kept.
    pub fn newest(&self) -> Option<&StreamStats> {
        self.newest_ssrc.and_then(|n| self.get(n)).or_else(|| self.streams.back())
    }
}
