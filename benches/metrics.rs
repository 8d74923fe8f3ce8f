//! What the gateway's metrics cost: the per-packet counter updates (alone, and inside a
//! client's outbox taking an RTP frame) and one scrape of `/metrics`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sipdeck::server::metrics::Metrics;
use sipdeck::server::outbox::ClientOutbox;

fn per_packet(c: &mut Criterion) {
    let metrics = Metrics::new();
    let meter = metrics.rtp();
    let mut g = c.benchmark_group("metrics");
    g.throughput(Throughput::Elements(1));
    g.bench_function("to_client (packets + bytes)", |b| b.iter(|| meter.to_client(black_box(172))));
    // For scale: the outbox taking the frame, its counters included.
    let frame = format!("RTP:{}", "ab".repeat(172));
    let (out, mut rx) = ClientOutbox::metered(metrics.rtp());
    g.bench_function("outbox.rtp (queued and counted)", |b| {
        b.iter(|| {
            out.rtp(black_box(frame.clone()));
            black_box(rx.try_recv().ok());
        })
    });
    g.finish();
}

fn scrape(c: &mut Criterion) {
    let metrics = std::sync::Arc::new(Metrics::new());
    // A busy gateway: every label in use.
    let _clients: Vec<_> = (0..100).map(|_| metrics.client_connected()).collect();
    for code in ["too_many_clients", "too_many_clients_from_address", "handshake"] {
        metrics.refused(code);
    }
    metrics.rtp().to_client(172);
    c.bench_function("metrics/scrape (encode /metrics)", |b| b.iter(|| black_box(metrics.encode().len())));
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = per_packet, scrape
}
criterion_main!(benches);
