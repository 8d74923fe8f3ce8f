//! Synthetic packet sequences with known loss, duplication, reordering, wraparound, SSRC
//! changes and arrival times, checked figure by figure.

use std::time::{Duration, Instant};

use super::stream::STALL_AFTER;
use super::*;
use crate::core::dtmf::{Ending, TelephoneEvent};
use crate::core::rtp::RtpHeader;

const SSRC: u32 = 0x1234_5678;

/// One packet to feed: sequence number, timestamp, arrival in microseconds after t0.
#[derive(Debug, Clone, Copy)]
struct P {
    seq: u16,
    ts: u32,
    at_us: u64,
}

/// A regular 20 ms PCMU stream: n packets from `seq0`, timestamps +160, arrivals every 20 ms.
fn regular(seq0: u16, ts0: u32, n: u64) -> Vec<P> {
    (0..n)
        .map(|i| P { seq: seq0.wrapping_add(i as u16), ts: ts0.wrapping_add(160 * i as u32), at_us: 20_000 * i })
        .collect()
}

fn feed_pt(set: &mut StreamSet, t0: Instant, ssrc: u32, pt: u8, packets: &[P]) -> Vec<Arrival> {
    let payload = [0xffu8; 160];
    packets
        .iter()
        .map(|p| {
            let h = RtpHeader { payload_type: pt, sequence: p.seq, timestamp: p.ts, ssrc, marker: false };
            set.on_packet(&h, &payload, 172, t0 + Duration::from_micros(p.at_us))
        })
        .collect()
}

fn feed(set: &mut StreamSet, t0: Instant, packets: &[P]) -> Vec<Arrival> {
    feed_pt(set, t0, SSRC, 0, packets)
}

/// (received, expected, lost, duplicates, out of order) of the stream.
fn figures(s: &StreamStats) -> (u64, u64, u64, u64, u64) {
    (s.packets, s.expected(), s.lost(), s.duplicates, s.out_of_order)
}

#[test]
fn known_loss() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    // 100 packets from 1000, every 10th (1005, 1015, ...) dropped.
    let pkts: Vec<P> = regular(1000, 0, 100).into_iter().filter(|p| p.seq % 10 != 5).collect();
    feed(&mut set, t0, &pkts);
    let s = set.get(SSRC).unwrap();
    assert_eq!(figures(s), (90, 100, 10, 0, 0));
    assert!((s.lost_percent() - 10.0).abs() < 1e-12);
    assert_eq!((s.seq.first_seq(), s.seq.highest_seq()), (1000, 1099));
    // A missing packet doubles the arrival gap.
    assert_eq!(s.max_delta, Duration::from_millis(40));
}

#[test]
fn known_duplicates_are_not_loss_and_loss_is_never_negative() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    let mut pkts = Vec::new();
    for p in regular(0, 0, 50) {
        pkts.push(p);
        if p.seq % 10 == 3 {
            pkts.push(P { at_us: p.at_us + 1000, ..p }); // 5 duplicates
        }
    }
    pkts.push(P { at_us: 2_000_000, ..pkts[0] }); // a very late duplicate of the first
    let arrivals = feed(&mut set, t0, &pkts);
    let s = set.get(SSRC).unwrap();
    assert_eq!(figures(s), (56, 50, 0, 6, 0));
    assert_eq!(s.lost_percent(), 0.0);
    assert_eq!(arrivals.iter().filter(|a| a.placement == Placement::Duplicate).count(), 6);
}

#[test]
fn known_reordering_fills_the_gap() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    let mut pkts = regular(500, 0, 40);
    // Swap every 8th packet with the next: 4 packets arrive late.
    for i in (7..39).step_by(8) {
        pkts.swap(i, i + 1);
    }
    feed(&mut set, t0, &pkts);
    let s = set.get(SSRC).unwrap();
    assert_eq!(figures(s), (40, 40, 0, 0, 4));
}

#[test]
fn loss_duplication_and_reordering_together() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    let base = regular(100, 0, 20);
    // Arrival order: 100..=104, 106, 105, 105(dup), 107, 109..=119 (108 lost), 107(dup).
    let order: Vec<usize> = (0..5).chain([6, 5, 5, 7]).chain(9..20).chain([7]).collect();
    let pkts: Vec<P> = order.iter().map(|&i| base[i]).collect();
    feed(&mut set, t0, &pkts);
    let s = set.get(SSRC).unwrap();
    assert_eq!(figures(s), (21, 20, 1, 2, 1));
    assert!((s.lost_percent() - 5.0).abs() < 1e-12);
}

#[test]
fn sequence_wraparound_at_65535() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    let mut pkts = regular(65500, 0, 100);
    pkts.retain(|p| p.seq != 65535 && p.seq != 3); // one loss each side of the wrap
    pkts.swap(34, 35); // 65534 arrives after 0, across the wrap
    feed(&mut set, t0, &pkts);
    let s = set.get(SSRC).unwrap();
    assert_eq!(figures(s), (98, 100, 2, 0, 1));
    assert_eq!((s.seq.first_seq(), s.seq.highest_seq()), (65500, 63));
}

#[test]
fn a_late_packet_across_the_wrap() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    let mut pkts = regular(65530, 0, 12);
    let late = pkts.remove(5); // seq 65535 arrives after 0..=5
    pkts.push(late);
    feed(&mut set, t0, &pkts);
    let s = set.get(SSRC).unwrap();
    assert_eq!(figures(s), (12, 12, 0, 0, 1));
}

#[test]
fn an_ssrc_change_opens_a_new_row_and_keeps_the_old() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    let first = feed(&mut set, t0, &regular(10, 0, 50));
    assert!(first[0].opened && first[0].newest && !first[1].opened);
    let pkts: Vec<P> = regular(40000, 9000, 30).into_iter().map(|p| P { at_us: p.at_us + 1_000_000, ..p }).collect();
    let second = feed_pt(&mut set, t0, 0xbeef, 8, &pkts);
    assert!(second[0].opened && second[0].newest);
    assert_eq!(second[0].media, Media::G711(crate::core::audio::Law::ALaw));
    assert_eq!(set.len(), 2);
    assert_eq!(set.iter().map(|s| (s.ssrc, s.packets)).collect::<Vec<_>>(), [(SSRC, 50), (0xbeef, 30)]);
    assert_eq!(set.newest().unwrap().ssrc, 0xbeef);
    assert_eq!(set.get(0xbeef).unwrap().codec().name(), "PCMA");
    // A late packet of the old stream still counts there, and is not "newest".
    let late = feed(&mut set, t0, &[P { seq: 60, ts: 8000, at_us: 1_700_000 }]);
    assert!(!late[0].newest && !late[0].opened);
    assert_eq!(set.get(SSRC).unwrap().packets, 51);
}

#[test]
fn the_set_is_bounded_and_drops_the_stream_silent_longest() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    for i in 0..(MAX_STREAMS as u32 + 5) {
        feed_pt(&mut set, t0, i, 0, &[P { seq: 1, ts: 0, at_us: i as u64 * 1000 }]);
        // Stream 0 stays active, so it is never the one dropped.
        feed_pt(&mut set, t0, 0, 0, &[P { seq: 2 + i as u16, ts: 0, at_us: i as u64 * 1000 + 1 }]);
    }
    assert_eq!(set.len(), MAX_STREAMS);
    assert_eq!(set.evicted, 5);
    assert!(set.get(0).is_some());
    assert!(set.get(1).is_none() && set.get(5).is_none() && set.get(6).is_some());
}

/// RFC 3550 A.8 written out independently: transit times as arrival (in timestamp units)
/// minus the unwrapped timestamp, the running estimate J += (|D| - J) / 16.
fn reference_jitter(arrivals_us: &[u64], timestamps: &[i64], clock: f64) -> f64 {
    let transit: Vec<f64> =
        arrivals_us.iter().zip(timestamps).map(|(&a, &ts)| a as f64 * clock / 1e6 - ts as f64).collect();
    transit.windows(2).fold(0.0, |j, w| j + ((w[1] - w[0]).abs() - j) / 16.0)
}

#[test]
fn jitter_matches_an_independent_a8_computation() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    // Timestamps that wrap past 2^32, arrivals 20 ms apart give or take a known wobble.
    let ts0 = u32::MAX - 160 * 20;
    let mut rng = fastrand::Rng::with_seed(7);
    let pkts: Vec<P> = regular(0, ts0, 200)
        .into_iter()
        .map(|p| P { at_us: 30_000 + p.at_us + rng.u64(0..15_000), ..p })
        .collect();
    feed(&mut set, t0, &pkts);
    let arrivals: Vec<u64> = pkts.iter().map(|p| p.at_us).collect();
    let unwrapped: Vec<i64> = (0..200).map(|i| ts0 as i64 + 160 * i).collect();
    let want = reference_jitter(&arrivals, &unwrapped, 8000.0);
    let s = set.get(SSRC).unwrap();
    assert!((s.jitter.timestamp_units() - want).abs() < 1e-6, "{} vs {want}", s.jitter.timestamp_units());
    assert!((s.jitter.millis() - want / 8.0).abs() < 1e-6);
    assert!(want > 10.0, "the wobble must show: {want}");
}

#[test]
fn jitter_known_values() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    // Perfectly paced: zero.
    feed(&mut set, t0, &regular(0, 0, 50));
    assert_eq!(set.get(SSRC).unwrap().jitter.timestamp_units(), 0.0);
    // One packet 10 ms late (80 units): D = 80 then 80, J = 80/16 = 5, then 5 + (80 - 5)/16.
    let mut set = StreamSet::default();
    let mut pkts = regular(0, 0, 3);
    pkts[1].at_us += 10_000;
    feed(&mut set, t0, &pkts);
    let j = set.get(SSRC).unwrap().jitter.timestamp_units();
    assert!((j - (5.0 + 75.0 / 16.0)).abs() < 1e-9, "{j}");
    assert!((set.get(SSRC).unwrap().jitter.millis() - j / 8.0).abs() < 1e-12);
}

#[test]
fn rates_history_and_stall() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    // 3 s at 50 packets/s, then silence.
    feed(&mut set, t0, &regular(0, 0, 150));
    let last = t0 + Duration::from_millis(2980);
    set.on_tick(last + Duration::from_millis(10));
    let s = set.get(SSRC).unwrap();
    assert_eq!((s.pps, s.bps), (50, 50 * 172));
    assert!((s.kbit_per_s() - 68.8).abs() < 1e-9);
    assert!(!s.stalled(last + Duration::from_millis(10)));
    assert!(s.stalled(last + STALL_AFTER));
    assert_eq!(s.since_last(last + Duration::from_millis(700)), Duration::from_millis(700));
    let h = s.history.last_seconds(t0 + Duration::from_millis(4500));
    assert_eq!(&h[56..], &[50, 50, 50, 0]);
    assert!(h[..56].iter().all(|&v| v == 0));
    set.on_tick(last + Duration::from_secs(2));
    assert_eq!(set.get(SSRC).unwrap().pps, 0);
    // A minute and more later the history has rolled over.
    let h = set.get(SSRC).unwrap().history.last_seconds(t0 + Duration::from_secs(70));
    assert!(h.iter().all(|&v| v == 0));
}

#[test]
fn telephone_events_are_sequenced_but_not_audio_and_logged_once() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    let mut pkts = regular(0, 0, 10);
    // Seq 10..=15 carry one event starting at timestamp 1600: 3 updates, 3 end packets.
    let mut events = Vec::new();
    for (i, (end, dur)) in [(false, 160), (false, 320), (false, 480), (true, 640), (true, 640), (true, 640)].into_iter().enumerate() {
        let payload = TelephoneEvent { event: 11, end, volume: 7, duration: dur }.to_bytes();
        events.push((10 + i as u16, payload, 200_000 + 20_000 * i as u64));
    }
    feed(&mut set, t0, &pkts);
    for (seq, payload, at) in &events {
        let h = RtpHeader { payload_type: 101, sequence: *seq, timestamp: 1600, ssrc: SSRC, marker: false };
        let a = set.on_packet(&h, payload, 16, t0 + Duration::from_micros(*at));
        assert_eq!(a.media, Media::Event);
    }
    pkts = regular(16, 16 * 160, 4).into_iter().map(|p| P { at_us: p.at_us + 320_000, ..p }).collect();
    feed(&mut set, t0, &pkts);
    let s = set.get(SSRC).unwrap();
    assert_eq!(figures(s), (20, 20, 0, 0, 0));
    assert_eq!(s.event_packets, 6);
    assert_eq!(s.payload_type, 0);
    assert_eq!(s.codec().name(), "PCMU");
    // The event's fixed timestamp did not disturb the jitter of the paced audio.
    assert_eq!(s.jitter.timestamp_units(), 0.0);
    let dtmf: Vec<StreamDtmf> = set.take_dtmf().collect();
    assert_eq!(dtmf.len(), 1);
    assert_eq!((dtmf[0].ssrc, dtmf[0].dtmf.event, dtmf[0].dtmf.ending), (SSRC, 11, Ending::EndBit));
    assert_eq!(dtmf[0].dtmf.to_string(), "DTMF # (80 ms, -7 dBm0)");
    assert_eq!(set.get(SSRC).unwrap().dtmf_events, 1);
    assert_eq!(set.take_dtmf().count(), 0);
}

#[test]
fn the_level_meter_reads_the_decoded_payload() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    let mut tone = crate::core::audio::Tone::new(440.0, 8000.0, 0.1);
    let mut payload = [0u8; 160];
    for i in 0..20u16 {
        tone.fill_ulaw(&mut payload);
        let h = RtpHeader { payload_type: 0, sequence: i, timestamp: 160 * i as u32, ssrc: SSRC, marker: false };
        set.on_packet(&h, &payload, 172, t0 + Duration::from_millis(20 * i as u64));
    }
    let l = set.get(SSRC).unwrap().audio_level();
    // A sine at 0.1 of full scale: -23 dBFS RMS, -20 dBFS peak.
    assert!((l.rms_dbfs + 23.0).abs() < 0.3, "{l:?}");
    assert!((l.peak_dbfs + 20.0).abs() < 0.3, "{l:?}");
}

#[test]
fn the_summary_line_has_every_figure() {
    let t0 = Instant::now();
    let mut set = StreamSet::default();
    let pkts: Vec<P> = regular(1000, 0, 100).into_iter().filter(|p| p.seq % 10 != 5).collect();
    feed(&mut set, t0, &pkts);
    set.on_tick(t0 + Duration::from_millis(1990));
    let line = set.get(SSRC).unwrap().summary(t0 + Duration::from_millis(2000));
    assert_eq!(
        line,
        "stream SSRC 0x12345678 PCMU (PT 0): seq 1000..1099, 90 received, 100 expected, 10 lost (10.0%), \
         0 duplicates, 0 out of order, jitter 0.00 ms, max delta 40.0 ms, 45 packets/s, 61.9 kbit/s, \
         last packet 0.02 s ago, level silent rms / silent peak, 0 DTMF events"
    );
}
