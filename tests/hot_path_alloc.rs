//! The per-packet path (parse, stream statistics, capture) does not allocate per packet:
//! counted with a counting global allocator over a minute of a lossy, reordered call.

mod counting_alloc;

use counting_alloc::{Counting, ALLOCATIONS};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sipdeck::core::capture::Capture;
use sipdeck::core::rtp::{self, RtpHeader};
use sipdeck::core::stats::StreamSet;

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_minute_of_packets_allocates_only_for_the_growing_recording() {
    let t0 = Instant::now();
    let mut packets: Vec<Vec<u8>> = (0..3000u32)
        .filter(|i| i % 100 != 50)
        .map(|i| {
            let h = RtpHeader { marker: false, payload_type: 0, sequence: 65000u16.wrapping_add(i as u16), timestamp: 160 * i, ssrc: 7 };
            rtp::build(&h, &[(i % 200) as u8; 160])
        })
        .collect();
    for i in (70..packets.len() - 1).step_by(100) {
        packets.swap(i, i + 1);
    }
    let (mut set, mut capture) = (StreamSet::default(), Capture::default());
    let mut fold = |range: std::ops::Range<usize>| {
        for (i, bytes) in packets[range.clone()].iter().enumerate() {
            let p = rtp::parse(bytes).unwrap();
            let at = t0 + Duration::from_millis(20 * (range.start + i) as u64);
            let arrival = set.on_packet(&p.header, p.payload, bytes.len(), at);
            capture.push(&arrival, &p.header, p.payload);
        }
    };
    fold(0..100); // the stream and the reorder window are set up here
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    fold(100..packets.len());
    let during = ALLOCATIONS.load(Ordering::Relaxed) - before;
    // The recording doubles its buffer a handful of times; nothing else allocates.
    assert!(during <= 12, "{during} allocations for {} packets", packets.len() - 100);
}
