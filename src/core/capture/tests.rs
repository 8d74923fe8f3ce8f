//! The capture fed through the real stream statistics, as the app does: placement, loss,
//! reordering, and the timeline (silence suppression, stream changes, wraps).

use std::time::{Duration, Instant};

use super::*;
use crate::core::dtmf::TelephoneEvent;
use crate::core::stats::StreamSet;

/// Feeds packets through a StreamSet into a Capture, one every 20 ms of arrival time unless
/// told otherwise.
struct Rig {
    t0: Instant,
    clock: Duration,
    set: StreamSet,
    cap: Capture,
}

impl Rig {
    fn new() -> Rig {
        Rig { t0: Instant::now(), clock: Duration::ZERO, set: StreamSet::default(), cap: Capture::default() }
    }

    fn push(&mut self, ssrc: u32, pt: u8, seq: u16, ts: u32, payload: &[u8]) {
        self.send(ssrc, pt, seq, ts, false, payload);
    }

    /// Let `ms` of arrival time pass with nothing received.
    fn pause(&mut self, ms: u64) {
        self.clock += Duration::from_millis(ms);
    }

    fn send(&mut self, ssrc: u32, pt: u8, seq: u16, ts: u32, marker: bool, payload: &[u8]) {
        let h = RtpHeader { payload_type: pt, sequence: seq, timestamp: ts, ssrc, marker };
        self.clock += Duration::from_millis(20);
        let a = self.set.on_packet(&h, payload, payload.len() + 12, self.t0 + self.clock);
        self.cap.push(&a, &h, payload);
        // Measuring without writing agrees with writing, at every step.
        assert_eq!(self.cap.len(), self.cap.bytes().len());
    }

    /// PCMU packet `seq` of a 20 ms stream from timestamp 0, every byte = `seq % 200` so the
    /// file shows where each packet landed (0xff, silence, is never used).
    fn audio(&mut self, seq: u16) {
        self.push(1, 0, seq, 160 * seq as u32, &[(seq % 200) as u8; 160]);
    }
}

/// The packet number each 160-byte block holds, `None` for silence.
fn blocks(bytes: &[u8]) -> Vec<Option<u8>> {
    bytes
        .chunks(160)
        .map(|c| {
            assert!(c.iter().all(|&b| b == c[0]), "a block mixes packets");
            (c[0] != 0xff).then_some(c[0])
        })
        .collect()
}

#[test]
fn in_order_audio_is_kept_as_it_came() {
    let mut r = Rig::new();
    for s in 0..50 {
        r.audio(s);
    }
    assert_eq!(r.cap.len(), 8000);
    assert!((r.cap.seconds() - 1.0).abs() < 1e-12);
    assert_eq!(blocks(&r.cap.bytes()), (0..50).map(Some).collect::<Vec<_>>());
    assert_eq!((r.cap.filled_packets(), r.cap.too_late_packets(), r.cap.skipped_packets()), (0, 0, 0));
    assert_eq!(r.cap.to_wav().len(), 58 + 8000);
}

#[test]
fn a_lost_packet_becomes_20_ms_of_mulaw_silence() {
    let mut r = Rig::new();
    for s in (0..100).filter(|s| s % 10 != 5) {
        r.audio(s);
    }
    let want: Vec<Option<u8>> = (0..100).map(|s| (s % 10 != 5).then_some(s)).collect();
    assert_eq!(blocks(&r.cap.bytes()), want);
    assert_eq!(r.cap.len(), 100 * 160);
    // 85 and 95 are still in the reorder window: counted once written.
    assert_eq!(r.cap.filled_packets(), 8);
}

#[test]
fn reordered_packets_land_in_their_place() {
    let mut r = Rig::new();
    // 1 before 0 at the very start, 7 after 8, and 20 fifteen packets late (still in the window).
    let order: Vec<u16> = [1, 0].into_iter().chain(2..7).chain([8, 7]).chain((9..36).filter(|&s| s != 20)).chain([20]).collect();
    for s in order {
        r.audio(s);
    }
    assert_eq!(blocks(&r.cap.bytes()), (0..36).map(Some).collect::<Vec<_>>());
    assert_eq!((r.cap.filled_packets(), r.cap.too_late_packets()), (0, 0));
}

#[test]
fn a_packet_later_than_the_window_is_dropped_and_its_place_stays_silent() {
    let mut r = Rig::new();
    for s in (0..40).filter(|&s| s != 3) {
        r.audio(s);
    }
    r.audio(3); // 36 packets late: its place was written as silence long ago
    assert_eq!(r.cap.too_late_packets(), 1);
    let b = blocks(&r.cap.bytes());
    assert_eq!(b.len(), 40);
    assert_eq!(b[3], None);
    assert_eq!(r.cap.filled_packets(), 1);
}

#[test]
fn duplicates_add_nothing() {
    let mut r = Rig::new();
    for s in [0, 1, 1, 2, 0, 3] {
        r.audio(s);
    }
    assert_eq!(blocks(&r.cap.bytes()), (0..4).map(Some).collect::<Vec<_>>());
}

#[test]
fn the_timestamps_say_how_long_a_gap_is() {
    let mut r = Rig::new();
    // 30 ms packets (240 samples): a lost packet is 240 samples, not the default 160.
    for s in [0u16, 1, 3] {
        r.push(1, 0, s, 240 * s as u32, &[s as u8 + 1; 240]);
    }
    let b = r.cap.bytes();
    assert_eq!(b.len(), 4 * 240);
    assert!(b[480..720].iter().all(|&x| x == 0xff));
    assert!(b[720..].iter().all(|&x| x == 4));
    // Three lost between two packets whose timestamps are 1000 apart: 1000 - 160 = 840
    // samples spread over three places.
    let mut r = Rig::new();
    r.push(1, 0, 0, 0, &[1; 160]);
    r.push(1, 0, 4, 1000, &[2; 160]);
    assert_eq!(r.cap.len(), 160 + 840 + 160);
}

#[test]
fn broken_timestamps_fall_back_to_20_ms_per_lost_packet() {
    let mut r = Rig::new();
    r.push(1, 0, 0, 5000, &[1; 160]);
    r.push(1, 0, 2, 100, &[2; 160]); // timestamp went backwards
    assert_eq!(r.cap.len(), 3 * 160);
}

#[test]
fn a_long_loss_is_as_long_as_the_timestamps_say() {
    let mut r = Rig::new();
    r.audio(0);
    r.audio(251); // 250 packets (5 s) lost
    r.audio(252);
    assert_eq!(r.cap.len(), 253 * 160);
    // Written up to 16 places behind the newest packet; the rest is still held.
    assert_eq!(r.cap.filled_packets(), 236);
    for s in 253..280 {
        r.audio(s);
    }
    assert_eq!(r.cap.filled_packets(), 250);
    assert!((r.cap.seconds() - 280.0 * 0.02).abs() < 1e-9);
}

#[test]
fn sequence_and_timestamp_wraparound() {
    let mut r = Rig::new();
    let ts0 = u32::MAX - 800;
    for i in (0u16..20).filter(|&i| i != 12) {
        let seq = 65530u16.wrapping_add(i);
        r.push(1, 0, seq, ts0.wrapping_add(160 * i as u32), &[i as u8; 160]);
    }
    let want: Vec<Option<u8>> = (0..20).map(|i| (i != 12).then_some(i)).collect();
    assert_eq!(blocks(&r.cap.bytes()), want);
}

#[test]
fn telephone_events_keep_their_time_as_silence_but_are_not_loss() {
    let mut r = Rig::new();
    for s in 0..10 {
        r.audio(s);
    }
    // Six event packets (seq 10..=15) all stamped with the event start, 1600.
    for s in 10..16 {
        let p = TelephoneEvent { event: 1, end: s >= 13, volume: 10, duration: 160 * (s - 9) }.to_bytes();
        r.push(1, 101, s, 1600, &p);
    }
    for s in 16..40 {
        r.audio(s);
    }
    let want: Vec<Option<u8>> = (0..40).map(|s| (!(10..16).contains(&s)).then_some(s)).collect();
    assert_eq!(blocks(&r.cap.bytes()), want);
    assert_eq!(r.cap.filled_packets(), 0);
    assert_eq!(r.cap.skipped_packets(), 0);
}

#[test]
fn a_new_ssrc_is_appended_and_the_old_one_no_longer_recorded() {
    let mut r = Rig::new();
    for s in 0..5 {
        r.audio(s);
    }
    r.audio(6); // 5 is lost; still held when the stream changes
    for s in 0..3u16 {
        r.push(2, 0, 9000 + s, 777 + 160 * s as u32, &[100 + s as u8; 160]);
    }
    r.audio(7); // a straggler of the old stream
    let want: Vec<Option<u8>> =
        [Some(0), Some(1), Some(2), Some(3), Some(4), None, Some(6), Some(100), Some(101), Some(102)].into();
    assert_eq!(blocks(&r.cap.bytes()), want);
    assert_eq!(r.cap.skipped_packets(), 1);
    assert_eq!(r.cap.filled_packets(), 1);
}

#[test]
fn a_sequence_restart_starts_a_new_run_without_a_huge_gap() {
    let mut r = Rig::new();
    for s in 0..5 {
        r.audio(s);
    }
    // The sender restarts at 30000: the first packet is unsequenced, the second confirms.
    for s in 30000..30004u16 {
        r.push(1, 0, s, 160 * s as u32, &[(s - 29900) as u8; 160]);
    }
    let want: Vec<Option<u8>> = (0..5).map(Some).chain((101..104).map(Some)).collect();
    assert_eq!(blocks(&r.cap.bytes()), want);
}

#[test]
fn the_first_law_is_recorded_and_the_other_transcoded() {
    let mut r = Rig::new();
    r.push(1, 8, 0, 0, &[0xd5; 160]);
    r.push(1, 0, 1, 160, &[0xff; 160]); // mu-law zero
    r.push(1, 9, 2, 320, &[0x11; 160]); // G.722: not decoded
    r.push(1, 8, 3, 480, &[0xaa; 160]);
    assert_eq!(r.cap.law(), Law::ALaw);
    assert_eq!((r.cap.skipped_packets(), r.cap.transcoded_packets()), (1, 1));
    // Mu-law zero becomes A-law's smallest step; the G.722 packet's time is A-law silence.
    let b = r.cap.bytes();
    assert_eq!(b.len(), 4 * 160);
    assert!(b[..480].iter().all(|&x| x == 0xd5));
    assert!(b[480..].iter().all(|&x| x == 0xaa));
    assert_eq!(r.cap.to_pcm16_wav().len(), 44 + 4 * 160 * 2);
    // Transcoding both ways stays within G.711's step size.
    for code in 0..=255u8 {
        let mut r = Rig::new();
        r.push(1, 0, 0, 0, &[0xff; 1]);
        r.push(1, 8, 1, 1, &[code; 1]);
        let want = Law::ALaw.decode(code) as i32;
        let got = Law::MuLaw.decode(r.cap.bytes()[1]) as i32;
        assert!((want - got).abs() <= want.abs() / 16 + 8, "A-law {code:#x}: {want} became {got}");
    }
}

#[test]
fn an_empty_capture() {
    let c = Capture::default();
    assert!(c.is_empty());
    assert_eq!(c.law(), Law::MuLaw);
    assert_eq!(c.to_wav().len(), 58);
}

#[test]
fn silence_suppression_keeps_the_pause() {
    let mut r = Rig::new();
    for s in 0..10 {
        r.audio(s);
    }
    // One second without packets; the next talkspurt's timestamp is 8000 further on, its
    // marker bit set, and its sequence number the next one (RFC 3551 §4.1).
    r.pause(1000);
    for s in 10..20u16 {
        r.send(1, 0, s, 160 * s as u32 + 8000, s == 10, &[s as u8; 160]);
    }
    assert_eq!(r.cap.len(), 20 * 160 + 8000);
    let b = blocks(&r.cap.bytes());
    let want: Vec<Option<u8>> = (0..10).map(Some).chain(std::iter::repeat_n(None, 50)).chain((10..20).map(Some)).collect();
    assert_eq!(b, want);
    // Nothing was lost: the pause is not loss.
    assert_eq!(r.cap.filled_packets(), 0);
}

#[test]
fn a_new_ssrc_after_a_pause_starts_where_its_arrival_says() {
    let mut r = Rig::new();
    for s in 0..50 {
        r.audio(s); // arrivals 20..=1000 ms
    }
    // Two seconds of nothing, then another source with its own sequence and timestamps.
    r.pause(2000);
    for s in 0..50u16 {
        r.push(2, 0, 7000 + s, 99_999 + 160 * s as u32, &[150; 160]);
    }
    // The last packet of the first stream began at 7840 (arrived at 1000 ms); the second
    // arrived 2020 ms later, at 7840 + 16,160 = 24,000 = 3 s.
    let bytes = r.cap.bytes();
    assert_eq!(bytes.len(), 24_000 + 50 * 160);
    assert!(bytes[8000..24_000].iter().all(|&b| b == 0xff));
    assert!(bytes[24_000..].iter().all(|&b| b == 150));
}

#[test]
fn a_silence_gap_across_the_timestamp_wrap() {
    let mut r = Rig::new();
    let ts0 = u32::MAX - 1000;
    for i in 0..5u16 {
        r.push(1, 0, i, ts0.wrapping_add(160 * i as u32), &[i as u8 + 1; 160]);
    }
    // Half a second of suppressed silence that crosses 2^32.
    r.pause(500);
    let resume = ts0.wrapping_add(800 + 4000);
    assert!(resume < ts0, "the timestamp wrapped");
    for i in 0..5u16 {
        r.send(1, 0, 5 + i, resume.wrapping_add(160 * i as u32), i == 0, &[i as u8 + 10; 160]);
    }
    let b = r.cap.bytes();
    assert_eq!(b.len(), 10 * 160 + 4000);
    assert!(b[800..4800].iter().all(|&x| x == 0xff));
    assert!(b[4800..4960].iter().all(|&x| x == 10));
}

#[test]
fn telephone_events_over_a_pause_keep_the_audio_after_them_in_time() {
    let mut r = Rig::new();
    for s in 0..5 {
        r.audio(s);
    }
    // A 200 ms digit (events seq 5..=9, stamped at its start, 800), audio resuming at 2400
    // (the digit's 1600 samples later), with the marker of a new talkspurt.
    for s in 5..10u16 {
        let p = TelephoneEvent { event: 9, end: s == 9, volume: 10, duration: 320 * (s - 4) }.to_bytes();
        r.push(1, 101, s, 800, &p);
    }
    r.send(1, 0, 10, 2400, true, &[42; 160]);
    let b = r.cap.bytes();
    assert_eq!(b.len(), 2400 + 160);
    assert!(b[800..2400].iter().all(|&x| x == 0xff));
    assert!(b[2400..].iter().all(|&x| x == 42));
    assert_eq!(r.cap.filled_packets(), 0);
}
