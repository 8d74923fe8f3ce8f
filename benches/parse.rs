//! Per-frame costs of the actor's hot path (criterion): `cargo bench --bench parse`.
//! `benches/flood.rs` measures the whole path end to end; this one says where the time goes.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sipdeck::client::net::FrameParser;
use sipdeck::core::protocol;
use sipdeck::core::rtp::{self, RtpHeader};

/// One 172-byte PCMU packet as the gateway sends it.
fn rtp_text() -> String {
    let h = RtpHeader { payload_type: 0, sequence: 4711, timestamp: 753_760, ssrc: 0x5eed_f100, marker: false };
    protocol::encode_rtp(&rtp::build(&h, &[0x55; 160]))
}

fn hot_path(c: &mut Criterion) {
    let text = rtp_text();
    let hex_text = &text[4..];
    let mut g = c.benchmark_group("rtp_frame");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hex_crate_decode_to_slice", |b| {
        let mut out = vec![0u8; hex_text.len() / 2];
        b.iter(|| hex::decode_to_slice(black_box(hex_text), &mut out).unwrap())
    });
    g.bench_function("protocol_decode_rtp_hex", |b| {
        let mut out = Vec::new();
        b.iter(|| protocol::decode_rtp_hex(black_box(hex_text), &mut out).unwrap())
    });
    let packet = hex::decode(hex_text).unwrap();
    g.bench_function("rtp_parse", |b| b.iter(|| rtp::parse(black_box(&packet)).unwrap().payload.len()));
    g.bench_function("frame_parser_parse", |b| {
        let mut p = FrameParser::default();
        let now = Instant::now();
        b.iter(|| p.parse(black_box(&text), now))
    });
    g.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
