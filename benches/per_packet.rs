//! Per-packet cost of the receive path: RTP parse, per-stream statistics, gap-true capture.
//!
//! Each minute of a realistic call: 3000 PCMU packets of 172 bytes (12-byte header, 160 bytes
//! of a tone), 1 % lost and 1 % reordered. Each iteration folds the whole minute into fresh
//! state, so the capture's growth is part of the figure; throughput is per packet.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sipdeck::core::audio::Tone;
use sipdeck::core::capture::Capture;
use sipdeck::core::rtp::{self, RtpHeader};
use sipdeck::core::stats::StreamSet;

const PACKETS: usize = 3000;

/// `minutes` of the call, each minute with its loss and reordering.
fn call(minutes: usize) -> (Vec<Vec<u8>>, Vec<Instant>) {
    let t0 = Instant::now();
    let mut tone = Tone::new(440.0, 8000.0, 0.3);
    let mut payload = [0u8; 160];
    let mut packets = Vec::with_capacity(PACKETS * minutes);
    let mut arrivals = Vec::with_capacity(PACKETS * minutes);
    for i in 0..PACKETS * minutes {
        tone.fill_ulaw(&mut payload);
        if i % 100 == 50 {
            continue; // lost
        }
        let h = RtpHeader {
            marker: i == 0,
            payload_type: 0,
            sequence: 65000u16.wrapping_add(i as u16),
            timestamp: 160u32.wrapping_mul(i as u32),
            ssrc: 0x1234_5678,
        };
        packets.push(rtp::build(&h, &payload));
        arrivals.push(t0 + Duration::from_micros(20_000 * i as u64 + (i as u64 * 7919) % 4000));
    }
    for i in (70..packets.len() - 1).step_by(100) {
        packets.swap(i, i + 1); // reordered
    }
    assert!(packets.iter().all(|p| p.len() == 172));
    (packets, arrivals)
}

fn fold(packets: &[Vec<u8>], arrivals: &[Instant], set: &mut StreamSet, capture: &mut Capture) {
    for (bytes, &at) in packets.iter().zip(arrivals) {
        let Ok(p) = rtp::parse(black_box(bytes)) else { continue };
        let arrival = set.on_packet(&p.header, p.payload, bytes.len(), at);
        capture.push(&arrival, &p.header, p.payload);
    }
}

fn per_packet(c: &mut Criterion) {
    let (packets, arrivals) = call(2);
    let minute = packets.len() / 2;
    let (first, second) = (&packets[..minute], &packets[minute..]);
    let (first_at, second_at) = (&arrivals[..minute], &arrivals[minute..]);
    let mut g = c.benchmark_group("per_packet");
    g.throughput(Throughput::Elements(minute as u64));
    g.bench_function("parse_stats_capture", |b| {
        b.iter_batched_ref(
            || (StreamSet::default(), Capture::default()),
            |(set, capture)| {
                fold(first, first_at, set, capture);
                black_box(capture.len())
            },
            BatchSize::LargeInput,
        )
    });
    // The second minute of the call, on state warmed by the first (folded untimed).
    g.bench_function("parse_stats_capture_second_minute", |b| {
        b.iter_batched_ref(
            || {
                let (mut set, mut capture) = (StreamSet::default(), Capture::default());
                fold(first, first_at, &mut set, &mut capture);
                (set, capture)
            },
            |(set, capture)| {
                fold(second, second_at, set, capture);
                black_box(capture.len())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, per_packet);
criterion_main!(benches);
