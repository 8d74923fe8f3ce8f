//! The actor's frame parsing does not allocate per packet: decoded packets are cut from
//! shared 64 KiB blocks. Counted with a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use sipdeck::net::{FrameParser, NetEvent};
use sipdeck::protocol;
use sipdeck::rtp::{self, RtpHeader};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

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
