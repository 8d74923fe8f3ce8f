//! The received audio, kept for saving as a WAV file, and kept in time.
//!
//! Payloads are placed by their extended sequence number (from the stream statistics) in a
//! small reorder window, so a late packet still lands in its place. A sequence number that
//! never arrives becomes silence: as many samples as the timestamps either side say, or 20 ms
//! when they cannot say. Telephone-event packets hold their sequence numbers the same way, so
//! the audio around a DTMF digit keeps its timing. A saved file is as long as the call.

use std::borrow::Cow;

use crate::core::rtp::RtpHeader;
use crate::core::stats::{Arrival, Media, Placement};
use crate::core::audio::{self, Law};
use crate::core::wav;

/// Packets held back for late arrivals (320 ms at 20 ms per packet).
pub const REORDER_WINDOW: usize = 16;
/// Silence for a lost packet when the timestamps cannot tell: 20 ms at 8000 Hz.
pub const LOSS_FILL_SAMPLES: u32 = 160;
/// Most silence one missing packet may stand for; past it the timestamps are not believed.
const MAX_FILL_SAMPLES: i64 = 8000;

/// Where emitted audio goes: the capture itself, or a counter that measures it unwritten.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
    fn fill(&mut self, byte: u8, n: usize);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn fill(&mut self, byte: u8, n: usize) {
        self.resize(self.len() + n, byte);
    }
}

struct Count(usize);

impl Sink for Count {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
    fn fill(&mut self, _: u8, n: usize) {
        self.0 += n;
    }
}

/// What a held sequence number carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Audio,
    /// A packet that is not audio of the recorded law (an event, another codec): its time
    /// is filled with silence, but it is not a loss.
    NoAudio,
}

#[derive(Debug, Clone, Default)]
struct Slot {
    /// Which extended sequence number the slot holds, if any.
    index: Option<i64>,
    content: Option<Content>,
    timestamp: u32,
    /// Reused from packet to packet, so holding a packet does not allocate.
    data: Vec<u8>,
}

/// The write position.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    /// The next sequence index to write.
    next: i64,
    /// RTP timestamp just after the last sample written, once known.
    ts_end: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    filled: u64,
}

/// The packets of one stream epoch not yet written, in slots by index modulo the window.
#[derive(Debug, Clone)]
struct Reorder {
    slots: Vec<Slot>,
    cursor: Cursor,
    /// Highest index held; below `cursor.next` when nothing is held.
    highest: i64,
    /// Whether anything of this stream was written (until then the window may start earlier).
    written: bool,
}

impl Reorder {
    fn new(first: i64) -> Reorder {
        Reorder {
            slots: vec![Slot::default(); REORDER_WINDOW],
            cursor: Cursor { next: first, ts_end: None },
            highest: first - 1,
            written: false,
        }
    }

    fn slot_of(index: i64) -> usize {
        index.rem_euclid(REORDER_WINDOW as i64) as usize
    }

    /// Hold a packet, first writing out whatever falls out of the window. False when it
    /// came too late: its place was already written.
    fn insert(&mut self, index: i64, ts: u32, audio: Option<&[u8]>, silence: u8, out: &mut Vec<u8>, tally: &mut Tally) -> bool {
        if index < self.cursor.next {
            let fits = self.highest - index < REORDER_WINDOW as i64;
            if self.written || !fits {
                return false;
            }
            // Nothing written yet: the stream's true start arrived after its second packet.
            self.cursor.next = index;
        }
        let w = REORDER_WINDOW as i64;
        if index >= self.cursor.next + w {
            let known = Known { index, timestamp: ts, audio: audio.is_some() };
            self.commit(index - w + 1, Some(known), silence, out, tally);
        }
        let slot = &mut self.slots[Self::slot_of(index)];
        if slot.index == Some(index) {
            return true; // the statistics already drop duplicates; this only guards
        }
        slot.index = Some(index);
        slot.timestamp = ts;
        slot.data.clear();
        match audio {
            Some(p) => {
                slot.data.extend_from_slice(p);
                slot.content = Some(Content::Audio);
            }
            None => slot.content = Some(Content::NoAudio),
        }
        self.highest = self.highest.max(index);
        true
    }

    /// Write every index below `end`, then free their slots.
    fn commit(&mut self, end: i64, beyond: Option<Known>, silence: u8, out: &mut Vec<u8>, tally: &mut Tally) {
        if end <= self.cursor.next {
            return;
        }
        emit(&self.slots, &mut self.cursor, end, beyond, silence, out, tally);
        self.written = true;
        for s in self.slots.iter_mut() {
            if s.index.is_some_and(|i| i < end) {
                s.index = None;
                s.content = None;
            }
        }
    }

    fn finish(&mut self, silence: u8, out: &mut Vec<u8>, tally: &mut Tally) {
        self.commit(self.highest + 1, None, silence, out, tally);
    }

    /// What `finish` would write, without writing it.
    fn pending_into(&self, silence: u8, sink: &mut impl Sink) {
        let mut cursor = self.cursor;
        emit(&self.slots, &mut cursor, self.highest + 1, None, silence, sink, &mut Tally::default());
    }
}

/// A packet known to follow the held ones (the one being inserted).
#[derive(Debug, Clone, Copy)]
struct Known {
    index: i64,
    timestamp: u32,
    audio: bool,
}

fn held(slots: &[Slot], index: i64) -> Option<&Slot> {
    slots.get(Reorder::slot_of(index)).filter(|s| s.index == Some(index))
}

/// The first audio packet after `index`: held, or the one being inserted.
fn next_audio(slots: &[Slot], index: i64, beyond: Option<Known>) -> Option<(i64, u32)> {
    let held = slots
        .iter()
        .filter(|s| s.content == Some(Content::Audio))
        .filter_map(|s| s.index.filter(|&i| i > index).map(|i| (i, s.timestamp)))
        .min_by_key(|&(i, _)| i);
    held.or(beyond.filter(|k| k.audio && k.index > index).map(|k| (k.index, k.timestamp)))
}

/// Write indices from the cursor up to `end` (exclusive): held audio as it is, everything
/// else as silence whose length the timestamps either side decide.
fn emit(slots: &[Slot], cur: &mut Cursor, end: i64, beyond: Option<Known>, silence: u8, sink: &mut impl Sink, tally: &mut Tally) {
    while cur.next < end {
        let slot = held(slots, cur.next);
        if let Some(s) = slot.filter(|s| s.content == Some(Content::Audio)) {
            sink.put(&s.data);
            cur.ts_end = Some(s.timestamp.wrapping_add(s.data.len() as u32));
        } else {
            let n = fill_samples(cur, next_audio(slots, cur.next, beyond));
            sink.fill(silence, n as usize);
            cur.ts_end = cur.ts_end.map(|t| t.wrapping_add(n));
            if slot.is_none() {
                tally.filled += 1;
            }
        }
        cur.next += 1;
    }
}

/// Silence for the index at the cursor: its share of the timestamp gap up to the next
/// audio packet, spread evenly over the indices in between.
fn fill_samples(cur: &Cursor, next: Option<(i64, u32)>) -> u32 {
    let (Some(ts_end), Some((index, ts))) = (cur.ts_end, next) else {
        return LOSS_FILL_SAMPLES;
    };
    let gap = ts.wrapping_sub(ts_end) as i32 as i64;
    let steps = index - cur.next;
    if steps <= 0 || gap <= 0 || gap > steps * MAX_FILL_SAMPLES {
        return LOSS_FILL_SAMPLES;
    }
    (gap / steps) as u32
}

/// The SSRC and sequence epoch a recording follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StreamKey {
    ssrc: u32,
    epoch: u32,
}

/// The call's audio in the law of the first G.711 packet, one stream at a time: the newest.
/// The other law is transcoded; other codecs are not decoded, so their time is silence.
#[derive(Debug, Default, Clone)]
pub struct Capture {
    law: Option<Law>,
    /// Audio written out of the reorder window.
    data: Vec<u8>,
    stream: Option<StreamKey>,
    reorder: Option<Reorder>,
    skipped_packets: u64,
    transcoded_packets: u64,
    too_late: u64,
    tally: Tally,
    /// Reused for transcoding.
    scratch: Vec<u8>,
}

impl Capture {
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
        if !reorder.insert(ext.index, header.timestamp, audio, silence, &mut self.data, &mut self.tally) {
            self.too_late += 1;
        }
    }

    /// The recorded law is the first one seen; a payload in the other law is transcoded into
    /// `scratch` (true), through the linear value, which G.711 maps almost losslessly.
    fn in_recorded_law(&mut self, law: Law, payload: &[u8]) -> bool {
        let recorded = *self.law.get_or_insert(law);
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
                self.stream = Some(key);
                self.reorder = Some(Reorder::new(index));
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
        let mut count = Count(self.data.len());
        if let Some(r) = &self.reorder {
            r.pending_into(self.law().silence(), &mut count);
        }
        count.0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn law(&self) -> Law {
        self.law.unwrap_or(Law::MuLaw)
    }

    /// The whole recording so far, held packets included (copied only when some are held).
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match &self.reorder {
            Some(r) if r.highest >= r.cursor.next => {
                let mut all = self.data.clone();
                r.pending_into(self.law().silence(), &mut all);
                Cow::Owned(all)
            }
            _ => Cow::Borrowed(&self.data),
        }
    }

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
