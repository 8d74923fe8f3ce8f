//! The actor's frame parsing does not allocate per packet: decoded packets are cut from
//! shared 64 KiB blocks. Counted with a counting global allocator.

mod counting_alloc;

use counting_alloc::{Counting, ALLOCATIONS};
use std::sync::atomic::Ordering;
use std::time::Instant;

use sipdeck::client::net::{FrameParser, NetEvent};
use sipdeck::core::protocol;
use sipdeck::core::rtp::{self, RtpHeader};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn rtp_frames_are_parsed_without_an_allocation_each() {
    const N: usize = 10_000;
    let texts: Vec<String> = (0..N)
        .map(|i| {
            let h = RtpHeader { sequence: i as u16, timestamp: i as u32 * 160, ssrc: 7, ..Default::default() };
            protocol::encode_rtp(&rtp::build(&h, &[0x55; 160]))
        })
        .collect();
    let mut parser = FrameParser::default();
    let now = Instant::now();
    let mut kept = Vec::with_capacity(N);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for t in &texts {
        match parser.parse(t, now) {
            NetEvent::Rtp(f) => kept.push(f),
            other => panic!("{other:?}"),
        }
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    // 172-byte packets: about 380 to a 64 KiB block, and one shared header per block.
    assert!(allocations <= 2 * N / 300 + 2, "{allocations} allocations for {N} packets");
    assert_eq!(kept[N - 1].header.sequence, (N - 1) as u16);
    assert_eq!(kept[N - 1].payload(), &[0x55; 160][..]);
}
