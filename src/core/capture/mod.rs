//! The received audio, kept for saving as a WAV file, and kept in time: the sample count
//! equals the RTP timeline.
//!
//! Packets wait in a small reorder window by extended sequence number (from the stream
//! statistics), so a late packet still lands in its place ([`reorder`]). Each payload is then
//! written at its `timestamp - first timestamp` offset ([`timeline`]): lost packets, silence
//! suppression (a timestamp jump, marker bit set) and telephone events become silence of the
//! length the sender's clock says, across timestamp wraps. A new stream (another SSRC, or a
//! restart of the sequence numbers) begins where its arrival time puts it after the previous
//! stream's last packet. Timestamps that contradict the sequence numbers fall back to 20 ms
//! per missing packet.

mod reorder;
mod sink;
pub mod timeline;

use std::borrow::Cow;

use crate::core::rtp::RtpHeader;
use crate::core::stats::{Arrival, Media, Placement};
use crate::core::audio::{self, Law};
use crate::core::wav;

pub use reorder::REORDER_WINDOW;
use reorder::{Incoming, Reorder, Tally};
pub use sink::{Counter, Sink};
pub use timeline::LOSS_FILL_SAMPLES;

/// The SSRC and sequence epoch a recording follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StreamKey {
    ssrc: u32,
    epoch: u32,
}

/// The call's audio in the law of the first G.711 packet, one stream at a time: the newest.
/// The other law is transcoded; other codecs are not decoded, so their time is silence.
///
/// The audio goes to a [`Sink`]: a `Vec` (the whole recording in memory, for tests and
/// small saves), a [`Counter`] (the live view: only its length), or a file writer (a save
/// replayed from the spill file, in the client).
#[derive(Debug, Clone)]
pub struct Capture<S: Sink = Vec<u8>> {
    law: Option<Law>,
    /// Audio written out of the reorder window.
    data: S,
    stream: Option<StreamKey>,
    reorder: Option<Reorder>,
    skipped_packets: u64,
    transcoded_packets: u64,
    too_late: u64,
    tally: Tally,
    /// Reused for transcoding.
    scratch: Vec<u8>,
}

impl<S: Sink> Capture<S> {
    /// An empty capture writing into `sink`.
    pub fn with_sink(sink: S) -> Capture<S> {
        Capture {
            law: None,
            data: sink,
            stream: None,
            reorder: None,
            skipped_packets: 0,
            transcoded_packets: 0,
            too_late: 0,
            tally: Tally::default(),
            scratch: Vec::new(),
        }
    }

    /// Write out the packets still held in the reorder window and hand back the sink (the
    /// whole recording): the end of a replay.
    pub fn finish(mut self) -> (Law, S) {
        self.finish_stream();
        (self.law(), self.data)
    }

    /// Place one packet, as the stream statistics classified it.
    pub fn push(&mut self, arrival: &Arrival, header: &RtpHeader, payload: &[u8]) {
        let Placement::Fresh { ext, .. } = arrival.placement else {
            return; // a duplicate adds nothing; an unsequenced packet has no place
        };
        if !self.follow(arrival, ext.epoch, ext.index) {
            self.skipped_packets += 1;
            return;
        }
        let audio = match arrival.media {
            Media::G711(law) => Some(self.in_recorded_law(law, payload)),
            Media::Event => None,
            Media::Other => {
                self.skipped_packets += 1;
                None
            }
        };
        let audio = audio.map(|transcoded| if transcoded { &self.scratch[..] } else { payload });
        let silence = self.law().silence();
        let Some(reorder) = self.reorder.as_mut() else { return };
        let p = Incoming { index: ext.index, timestamp: header.timestamp, marker: header.marker, at: arrival.at, audio };
        if !reorder.insert(p, silence, &mut self.data, &mut self.tally) {
            self.too_late += 1;
        }
    }

    /// The recorded law is the first one seen; a payload in the other law is transcoded into
    /// `scratch` (true), through the linear value, which G.711 maps almost losslessly.
    fn in_recorded_law(&mut self, law: Law, payload: &[u8]) -> bool {
        let recorded = match self.law {
            Some(l) => l,
            None => {
                self.data.begin(law);
                *self.law.insert(law)
            }
        };
        if recorded == law {
            return false;
        }
        self.scratch.clear();
        self.scratch.extend(payload.iter().map(|&b| match recorded {
            Law::MuLaw => audio::linear_to_ulaw(law.decode(b)),
            Law::ALaw => audio::linear_to_alaw(law.decode(b)),
        }));
        self.transcoded_packets += 1;
        true
    }

    /// Follow the stream of this packet if it is the newest one (or a restart of the one
    /// followed); false for packets of streams left behind.
    fn follow(&mut self, arrival: &Arrival, epoch: u32, index: i64) -> bool {
        let key = StreamKey { ssrc: arrival.ssrc, epoch };
        match self.stream {
            Some(k) if k == key => true,
            Some(k) if k.ssrc == key.ssrc && epoch < k.epoch => false,
            _ if !arrival.newest => false,
            _ => {
                self.finish_stream();
                let handover = self.reorder.as_ref().and_then(Reorder::handover);
                self.stream = Some(key);
                self.reorder = Some(Reorder::new(index, arrival.at, self.data.written(), handover));
                true
            }
        }
    }

    fn finish_stream(&mut self) {
        let silence = self.law().silence();
        if let Some(r) = self.reorder.as_mut() {
            r.finish(silence, &mut self.data, &mut self.tally);
        }
    }

    /// Bytes (= samples) of audio, held packets and the gaps between them included.
    pub fn len(&self) -> usize {
        let mut count = Counter(self.data.written());
        if let Some(r) = &self.reorder {
            r.pending_into(self.law().silence(), &mut count);
        }
        count.0 as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn law(&self) -> Law {
        self.law.unwrap_or(Law::MuLaw)
    }

    /// Packets written into the sink so far, without those held in the reorder window.
    pub fn sink(&self) -> &S {
        &self.data
    }
}

impl Default for Capture<Vec<u8>> {
    fn default() -> Self {
        Capture::with_sink(Vec::new())
    }
}

impl Capture<Vec<u8>> {
    /// The whole recording so far, held packets included (copied only when some are held).
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match &self.reorder {
            Some(r) if r.holds() => {
                let mut all = self.data.clone();
                r.pending_into(self.law().silence(), &mut all);
                Cow::Owned(all)
            }
            _ => Cow::Borrowed(&self.data),
        }
    }

}

impl<S: Sink> Capture<S> {
    /// Seconds of audio at 8000 samples/s.
    pub fn seconds(&self) -> f64 {
        self.len() as f64 / 8000.0
    }

    /// Packets not recorded: another codec (its time is kept as silence), or a stream no
    /// longer followed.
    pub fn skipped_packets(&self) -> u64 {
        self.skipped_packets
    }

    /// Packets of the other G.711 law, recorded transcoded.
    pub fn transcoded_packets(&self) -> u64 {
        self.transcoded_packets
    }

    /// Packets that arrived after their place had been written (the window had moved on).
    pub fn too_late_packets(&self) -> u64 {
        self.too_late
    }

    /// Missing packets written as silence so far (held ones not yet counted).
    pub fn filled_packets(&self) -> u64 {
        self.tally.filled
    }
}

impl Capture<Vec<u8>> {
    /// The whole capture as a G.711 WAV file.
    pub fn to_wav(&self) -> Vec<u8> {
        wav::g711_wav(self.law(), &self.bytes())
    }

    /// The whole capture as 16-bit linear PCM.
    pub fn to_pcm16_wav(&self) -> Vec<u8> {
        wav::pcm16_wav(self.law(), &self.bytes())
    }
}

#[cfg(test)]
mod tests;
