//! The pcap export checked by Wireshark's own RTP analysis: `tshark -z rtp,streams` must count
//! the packets and the losses sipdeck's stream statistics count.

use std::time::{Duration, Instant};

use sipdeck::core::pcap::{Clock, Flow, Pcap};
use sipdeck::core::rtp::{build, RtpHeader};
use sipdeck::core::stats::StreamSet;

#[path = "common/tshark.rs"]
mod tshark;

#[test]
fn tshark_counts_what_sipdeck_counts() {
    let t0 = Instant::now();
    let clock = Clock { origin: t0, wall: Duration::from_secs(1_750_000_000) };
    let mut pcap = Pcap::new(Flow::default());
    let mut set = StreamSet::default();
    // Two streams in a row: 500 packets with 7 lost (one burst of 3) and one late, then a
    // second source after a pause, with 2 lost.
    let first: Vec<u16> = (0..500u16).filter(|s| ![17, 100, 101, 102, 250, 251, 400].contains(s)).collect();
    let mut order = first.clone();
    let i = order.iter().position(|&s| s == 300).unwrap();
    order.remove(i);
    order.insert(i + 3, 300);
    let mut clock_ms = 0u64;
    let mut send = |ssrc: u32, seq: u16, ts: u32, pcap: &mut Pcap, set: &mut StreamSet| {
        clock_ms += 20;
        let at = t0 + Duration::from_millis(clock_ms);
        let h = RtpHeader { payload_type: 0, sequence: seq, timestamp: ts, ssrc, marker: false };
        let bytes = build(&h, &[0x55; 160]);
        set.on_packet(&h, &bytes[12..], bytes.len(), at);
        assert!(pcap.push(clock.at(at), &bytes));
    };
    for s in order {
        send(0x1111, 1000 + s, 160 * s as u32, &mut pcap, &mut set);
    }
    for s in (0..200u16).filter(|s| ![50, 51].contains(s)) {
        send(0x2222, 60_000u16.wrapping_add(s), 3_000_000 + 160 * s as u32, &mut pcap, &mut set);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("call.pcap");
    std::fs::write(&path, pcap.finish()).unwrap();
    let (theirs, report) = tshark::rtp_streams(&path);
    let mut ours: Vec<(u32, u64, i64)> = set.iter().map(|s| (s.ssrc, s.packets, s.lost() as i64)).collect();
    ours.sort();
    assert_eq!(ours, [(0x1111, 493, 7), (0x2222, 198, 2)], "sipdeck's own figures");
    assert_eq!(theirs, ours, "tshark's report:\n{report}");
}
