//! The reorder window: packets of one stream held by sequence index until the window moves
//! past them, so a late packet still lands in its place; then written at their timeline
//! offsets ([`super::timeline`]).

use std::time::Instant;

use super::timeline::{Cursor, Handover, Packet};

/// Packets held back for late arrivals (320 ms at 20 ms per packet).
pub const REORDER_WINDOW: usize = 16;

use super::Sink;

/// What a held sequence number carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Audio,
    /// A packet that is not audio of the recorded law (an event, another codec): the next
    /// audio packet's timestamp keeps its time as silence, but it is not a loss.
    NoAudio,
}

#[derive(Debug, Clone)]
struct Slot {
    /// Which extended sequence number the slot holds, if any.
    index: Option<i64>,
    content: Option<Content>,
    timestamp: u32,
    marker: bool,
    at: Instant,
    /// Reused from packet to packet, so holding a packet does not allocate.
    data: Vec<u8>,
}

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Tally {
    pub filled: u64,
}

/// A packet as the capture hands it in: its audio in the recorded law, or `None`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Incoming<'a> {
    pub index: i64,
    pub timestamp: u32,
    pub marker: bool,
    pub at: Instant,
    pub audio: Option<&'a [u8]>,
}

/// The packets of one stream epoch not yet written, in slots by index modulo the window.
#[derive(Debug, Clone)]
pub(super) struct Reorder {
    slots: Vec<Slot>,
    cursor: Cursor,
    /// Highest index held; below `cursor.next` when nothing is held.
    pub highest: i64,
    /// Whether anything of this stream was written (until then the window may start earlier).
    written: bool,
}

impl Reorder {
    /// A stream starting at index `first`, placed after `end` samples already recorded.
    pub fn new(first: i64, at: Instant, end: u64, handover: Option<Handover>) -> Reorder {
        let empty = Slot { index: None, content: None, timestamp: 0, marker: false, at, data: Vec::new() };
        Reorder { slots: vec![empty; REORDER_WINDOW], cursor: Cursor::new(first, end, handover), highest: first - 1, written: false }
    }

    fn slot_of(index: i64) -> usize {
        index.rem_euclid(REORDER_WINDOW as i64) as usize
    }

    /// Whether packets are held that have not been written.
    pub fn holds(&self) -> bool {
        self.highest >= self.cursor.next
    }

    /// The anchor for the stream after this one (call after [`Reorder::finish`]).
    pub fn handover(&self) -> Option<Handover> {
        self.cursor.handover()
    }

    /// Hold a packet, first writing out whatever falls out of the window. False when it
    /// came too late: its place was already written.
    pub fn insert(&mut self, p: Incoming<'_>, silence: u8, out: &mut impl Sink, tally: &mut Tally) -> bool {
        let index = p.index;
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
            self.commit(index - w + 1, silence, out, tally);
        }
        let slot = &mut self.slots[Self::slot_of(index)];
        if slot.index == Some(index) {
            return true; // the statistics already drop duplicates; this only guards
        }
        slot.index = Some(index);
        slot.timestamp = p.timestamp;
        slot.marker = p.marker;
        slot.at = p.at;
        slot.data.clear();
        match p.audio {
            Some(bytes) => {
                slot.data.extend_from_slice(bytes);
                slot.content = Some(Content::Audio);
            }
            None => slot.content = Some(Content::NoAudio),
        }
        self.highest = self.highest.max(index);
        true
    }

    /// Write every index below `end`, then free their slots.
    fn commit(&mut self, end: i64, silence: u8, out: &mut impl Sink, tally: &mut Tally) {
        if end <= self.cursor.next {
            return;
        }
        emit(&self.slots, &mut self.cursor, end, silence, out, tally);
        self.written = true;
        for s in self.slots.iter_mut() {
            if s.index.is_some_and(|i| i < end) {
                s.index = None;
                s.content = None;
            }
        }
    }

    pub fn finish(&mut self, silence: u8, out: &mut impl Sink, tally: &mut Tally) {
        self.commit(self.highest + 1, silence, out, tally);
    }

    /// What `finish` would write, without writing it.
    pub fn pending_into(&self, silence: u8, sink: &mut impl Sink) {
        let mut cursor = self.cursor;
        emit(&self.slots, &mut cursor, self.highest + 1, silence, sink, &mut Tally::default());
    }
}

fn held(slots: &[Slot], index: i64) -> Option<&Slot> {
    slots.get(Reorder::slot_of(index)).filter(|s| s.index == Some(index))
}

/// Write indices from the cursor up to `end` (exclusive): each audio packet at its place on
/// the timeline, the silence before it as long as the cursor decides. Events and other
/// codecs write nothing themselves; missing indices are counted as filled.
fn emit(slots: &[Slot], cur: &mut Cursor, end: i64, silence: u8, sink: &mut impl Sink, tally: &mut Tally) {
    while cur.next < end {
        match held(slots, cur.next) {
            Some(s) if s.content == Some(Content::Audio) => {
                let p = Packet { index: cur.next, timestamp: s.timestamp, len: s.data.len() as u32, marker: s.marker, at: s.at };
                let pad = cur.place(p);
                sink.fill(silence, pad as usize);
                sink.put(&s.data);
            }
            Some(_) => {}
            None => tally.filled += 1,
        }
        cur.next += 1;
    }
}
