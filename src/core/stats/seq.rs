//! Sequence-number tracking of one RTP source, after RFC 3550 Appendix A.1.
//!
//! The 16-bit sequence number is extended to an `i64` index (cycles of 65536 folded in), so
//! loss, reordering and the capture's placement are plain integer arithmetic. A.1's probation
//! (two in-order packets before a source counts) is not applied: the gateway's stream is
//! trusted, and an operator wants the first packet in the figures.

/// Largest forward jump still taken as loss rather than a restart (A.1's `MAX_DROPOUT`).
pub const MAX_DROPOUT: u16 = 3000;
/// Largest backward step still taken as reordering (A.1's `MAX_MISORDER`).
pub const MAX_MISORDER: u16 = 100;
const SEQ_MOD: i64 = 1 << 16;
/// Width of the "already seen" bitmap. A late packet is at most `MAX_MISORDER - 1` behind the
/// highest, so 128 bits remember every packet a duplicate could repeat.
const SEEN_BITS: i64 = 128;

/// A packet's place in its source's sequence space. `epoch` changes when the source restarts
/// its numbering (a jump A.1 accepts after two sequential packets); indices of different
/// epochs are unrelated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtSeq {
    pub epoch: u32,
    pub index: i64,
}

/// Whether a first copy arrived in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Newer than every packet before it (a gap before it is loss, until filled).
    InOrder,
    /// Older than the highest seen: it fills a gap.
    Late,
}

/// What the tracker made of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The first copy of this sequence number.
    Fresh { ext: ExtSeq, order: Order },
    /// A copy of a packet already counted.
    Duplicate,
    /// A jump too large for loss or reordering; if the next packet follows it, the source is
    /// taken to have restarted. Not counted as received nor expected.
    Unsequenced,
}

/// A.1's state, with cycles folded into the extended indices.
#[derive(Debug, Clone)]
pub struct SeqTracker {
    first_seq: u16,
    epoch: u32,
    /// Extended index of the lowest packet of this epoch.
    base: i64,
    /// Extended index of the highest packet of this epoch.
    max: i64,
    /// After a large jump, the sequence number that would confirm a restart.
    bad_seq: Option<u16>,
    /// Packets expected in earlier epochs.
    expected_closed: u64,
    /// Bit i set: index `max - i` was received.
    seen: u128,
    /// Runs of consecutive lost packets among the indices that left the `seen` window (and
    /// in closed epochs): a late packet can no longer split or end them.
    runs_closed: u64,
    /// Whether the newest index that left the window was lost (a run may continue).
    prev_lost: bool,
}

impl SeqTracker {
    pub fn new(seq: u16) -> SeqTracker {
        SeqTracker {
            first_seq: seq,
            epoch: 0,
            base: seq as i64,
            max: seq as i64,
            bad_seq: None,
            expected_closed: 0,
            seen: 1,
            runs_closed: 0,
            prev_lost: false,
        }
    }

    /// Where the first packet, the one given to `new`, was placed.
    pub fn first_placement(&self) -> Placement {
        Placement::Fresh { ext: ExtSeq { epoch: 0, index: self.first_seq as i64 }, order: Order::InOrder }
    }

    pub fn first_seq(&self) -> u16 {
        self.first_seq
    }

    /// The highest sequence number received (of the current epoch).
    pub fn highest_seq(&self) -> u16 {
        (self.max & 0xffff) as u16
    }

    /// Extended highest sequence number minus base, plus one (A.3), over every epoch.
    pub fn expected(&self) -> u64 {
        self.expected_closed + (self.max - self.base + 1) as u64
    }

    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Runs of consecutive lost packets so far (a burst of three lost is one run), for the
    /// E-model's burst ratio. Gaps not yet filled by late packets count as runs until filled.
    pub fn loss_runs(&self) -> u64 {
        self.runs_closed + self.window_runs()
    }

    /// Loss runs starting inside the `seen` window, O(1): a run starts at a lost index whose
    /// predecessor was received (or, at the window's edge, was not the tail of a closed run).
    fn window_runs(&self) -> u64 {
        let width = (self.max - self.base + 1).clamp(1, SEEN_BITS) as u32;
        let mask = if width == 128 { u128::MAX } else { (1u128 << width) - 1 };
        // Bit j is index max - j, so a predecessor is one bit up.
        let lost = !self.seen & mask;
        let mut starts = (lost & !(lost >> 1)).count_ones() as u64;
        if width == 128 && self.prev_lost && lost >> 127 == 1 {
            starts -= 1; // continues the run that left the window
        }
        starts
    }

    /// Account the indices that leave the window when the highest moves up by `shift`.
    fn retire(&mut self, shift: i64) {
        let top = SEEN_BITS - 1;
        for j in (0..=top).rev().take(shift.min(SEEN_BITS) as usize) {
            if self.max - j >= self.base {
                self.retire_one(self.seen >> j & 1 == 0);
            }
        }
        if shift > SEEN_BITS {
            // Indices never inside the window: all lost, one run at most.
            self.retire_one(true);
        }
    }

    fn retire_one(&mut self, lost: bool) {
        if lost && !self.prev_lost {
            self.runs_closed += 1;
        }
        self.prev_lost = lost;
    }

    /// Fold in the sequence number of a packet after the first.
    pub fn update(&mut self, seq: u16) -> Placement {
        let udelta = seq.wrapping_sub(self.highest_seq());
        if udelta < MAX_DROPOUT {
            // In order, perhaps with a gap; udelta 0 repeats the highest.
            self.place(self.max + udelta as i64)
        } else if udelta as i64 <= SEQ_MOD - MAX_MISORDER as i64 {
            self.jump(seq)
        } else {
            // Behind the highest by fewer than MAX_MISORDER: duplicate or reordered.
            self.place(self.max - (SEQ_MOD - udelta as i64))
        }
    }

    fn place(&mut self, index: i64) -> Placement {
        let ext = ExtSeq { epoch: self.epoch, index };
        if index > self.max {
            let shift = index - self.max;
            self.retire(shift);
            self.seen = if shift >= SEEN_BITS { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.max = index;
            return Placement::Fresh { ext, order: Order::InOrder };
        }
        let behind = self.max - index;
        if behind < SEEN_BITS {
            let bit = 1u128 << behind;
            if self.seen & bit != 0 {
                return Placement::Duplicate;
            }
            self.seen |= bit;
        }
        // A packet from before the first one received widens the range it was expected in.
        self.base = self.base.min(index);
        Placement::Fresh { ext, order: Order::Late }
    }

    /// A.1: a very large jump; two sequential packets of it mean the sender restarted.
    fn jump(&mut self, seq: u16) -> Placement {
        if self.bad_seq != Some(seq) {
            self.bad_seq = Some(seq.wrapping_add(1));
            return Placement::Unsequenced;
        }
        self.expected_closed = self.expected();
        self.runs_closed += self.window_runs();
        self.prev_lost = false;
        self.epoch += 1;
        self.base = seq as i64;
        self.max = seq as i64;
        self.bad_seq = None;
        self.seen = 1;
        Placement::Fresh { ext: ExtSeq { epoch: self.epoch, index: seq as i64 }, order: Order::InOrder }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(epoch: u32, index: i64, order: Order) -> Placement {
        Placement::Fresh { ext: ExtSeq { epoch, index }, order }
    }

    #[test]
    fn wraps_at_65535_into_the_next_cycle() {
        let mut t = SeqTracker::new(65534);
        assert_eq!(t.update(65535), fresh(0, 65535, Order::InOrder));
        assert_eq!(t.update(0), fresh(0, 65536, Order::InOrder));
        assert_eq!(t.update(2), fresh(0, 65538, Order::InOrder));
        // 1 arrives late, across the wrap from 2's point of view it is just behind.
        assert_eq!(t.update(1), fresh(0, 65537, Order::Late));
        assert_eq!(t.expected(), 5);
        assert_eq!(t.highest_seq(), 2);
        assert_eq!(t.first_seq(), 65534);
    }

    #[test]
    fn a_late_packet_from_before_the_wrap_gets_the_old_cycle() {
        let mut t = SeqTracker::new(65533);
        t.update(0);
        assert_eq!(t.update(65534), fresh(0, 65534, Order::Late));
        assert_eq!(t.update(65534), Placement::Duplicate);
        assert_eq!(t.expected(), 4); // 65533, 65534, 65535, 0
    }

    #[test]
    fn duplicates_of_the_highest_and_of_older_packets() {
        let mut t = SeqTracker::new(10);
        assert_eq!(t.update(10), Placement::Duplicate);
        t.update(11);
        t.update(12);
        assert_eq!(t.update(11), Placement::Duplicate);
        assert_eq!(t.expected(), 3);
    }

    #[test]
    fn a_packet_before_the_first_extends_the_base() {
        let mut t = SeqTracker::new(100);
        t.update(101);
        assert_eq!(t.update(98), fresh(0, 98, Order::Late));
        assert_eq!(t.expected(), 4); // 98..=101, 99 missing
    }

    #[test]
    fn a_jump_restarts_only_after_two_sequential_packets() {
        let mut t = SeqTracker::new(1000);
        t.update(1001);
        assert_eq!(t.update(30000), Placement::Unsequenced);
        assert_eq!(t.update(1002), fresh(0, 1002, Order::InOrder));
        assert_eq!(t.update(40000), Placement::Unsequenced);
        assert_eq!(t.update(40001), fresh(1, 40001, Order::InOrder));
        assert_eq!(t.update(40002), fresh(1, 40002, Order::InOrder));
        // 1000..=1002 of the first epoch, 40001..=40002 of the second.
        assert_eq!(t.expected(), 5);
        assert_eq!(t.epoch(), 1);
    }

    #[test]
    fn loss_runs_count_bursts_not_packets() {
        let mut t = SeqTracker::new(0);
        // Lost: 5; 8 and 9; 12, 13, 14.
        for s in (1..20).filter(|s| ![5, 8, 9, 12, 13, 14].contains(s)) {
            t.update(s);
        }
        assert_eq!(t.loss_runs(), 3);
        // A late 13 splits the last run in two; a late 5 removes the first.
        t.update(13);
        assert_eq!(t.loss_runs(), 4);
        t.update(5);
        assert_eq!(t.loss_runs(), 3);
    }

    #[test]
    fn loss_runs_survive_leaving_the_window() {
        // Every tenth packet lost and a burst of 4 that straddles the window's edge later.
        let mut t = SeqTracker::new(0);
        let lost = |s: u16| s % 10 == 5 || (300..304).contains(&s);
        for s in (1..1000u16).filter(|&s| !lost(s)) {
            t.update(s);
            let want = (1..=s).filter(|&i| lost(i) && !lost(i - 1)).count() as u64;
            assert_eq!(t.loss_runs(), want, "after {s}");
        }
        // A jump past the whole window: the skipped indices are one run.
        let mut t = SeqTracker::new(0);
        t.update(1);
        t.update(500);
        assert_eq!(t.loss_runs(), 1);
        for s in 501..800 {
            t.update(s);
        }
        assert_eq!(t.loss_runs(), 1);
        // A restart closes the epoch's runs and starts afresh.
        t.update(10_000);
        t.update(10_001);
        t.update(10_003);
        assert_eq!(t.loss_runs(), 2);
    }

    #[test]
    fn loss_within_max_dropout_is_a_gap() {
        let mut t = SeqTracker::new(0);
        assert_eq!(t.update(2999), fresh(0, 2999, Order::InOrder));
        assert_eq!(t.expected(), 3000);
    }
}
