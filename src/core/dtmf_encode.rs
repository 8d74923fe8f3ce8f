//! RFC 4733 telephone-events to send: the packet train of one DTMF digit (the sending side
//! of `core::dtmf`, which decodes them).
//!
//! One event is a start packet (marker bit), then one packet per interval with the duration
//! so far, then three identical end packets (E bit) carrying the full duration. All share
//! the event's start timestamp; the caller stamps sequence numbers and that timestamp.

use std::time::Duration;

use crate::core::dtmf::{TelephoneEvent, CLOCK_RATE};

/// The power level sent, in -dBm0 (a typical keypad's -10 dBm0).
pub const VOLUME: u8 = 10;
/// How often the end packet is sent (RFC 4733 2.5.1.4 recommends three).
pub const END_REPEATS: usize = 3;

/// The event code of a DTMF key (RFC 4733 3.2), `None` for anything else.
pub fn event_code(key: char) -> Option<u8> {
    match key.to_ascii_uppercase() {
        c @ '0'..='9' => Some(c as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        c @ 'A'..='D' => Some(c as u8 - b'A' + 12),
        _ => None,
    }
}

/// One packet of an event's train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// When it is due, after the event's start.
    pub at: Duration,
    /// Set on the first packet only.
    pub marker: bool,
    pub payload: [u8; 4],
}

/// Timestamp units (8 kHz) in `d`, within what the 16-bit duration field holds.
fn units(d: Duration) -> u16 {
    (d.as_micros() as u64 * CLOCK_RATE as u64 / 1_000_000).clamp(1, u16::MAX as u64) as u16
}

/// The whole train of one event lasting `length`, one packet per `interval`: packet `k` is
/// sent at `k * interval` and says `(k + 1) * interval` so far (the first one already counts
/// its own interval); the end packets follow the last one by an interval and say `length`.
pub fn event_train(event: u8, length: Duration, interval: Duration) -> Vec<EventPacket> {
    let total = units(length);
    let step = units(interval);
    let progress = (total as usize).div_ceil(step as usize).max(1);
    let mut train = Vec::with_capacity(progress + END_REPEATS);
    for k in 0..progress {
        let duration = (step as usize * (k + 1)).min(total as usize) as u16;
        let ev = TelephoneEvent { event, end: false, volume: VOLUME, duration };
        train.push(EventPacket { at: interval * k as u32, marker: k == 0, payload: ev.to_bytes() });
    }
    let end = TelephoneEvent { event, end: true, volume: VOLUME, duration: total };
    let end_at = interval * progress as u32;
    train.extend((0..END_REPEATS).map(|_| EventPacket { at: end_at, marker: false, payload: end.to_bytes() }));
    train
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dtmf::{key, DtmfDecoder, Ending};
    use std::time::Instant;

    #[test]
    fn every_key_has_its_code_and_back() {
        for k in "0123456789*#ABCD".chars() {
            assert_eq!(key(event_code(k).unwrap()), Some(k));
        }
        assert_eq!(event_code('b'), Some(13));
        assert_eq!(event_code('E'), None);
        assert_eq!(event_code(' '), None);
    }

    #[test]
    fn a_100_ms_event_is_five_growing_packets_and_three_ends() {
        let t = event_train(5, Duration::from_millis(100), Duration::from_millis(20));
        assert_eq!(t.len(), 8);
        let evs: Vec<_> = t.iter().map(|p| TelephoneEvent::parse(&p.payload).unwrap()).collect();
        let durations: Vec<u16> = evs.iter().map(|e| e.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800, 800]);
        assert!(t[0].marker && t[1..].iter().all(|p| !p.marker));
        assert_eq!(evs.iter().filter(|e| e.end).count(), 3);
        assert!(evs[5..].iter().all(|e| e.end) && evs.iter().all(|e| e.event == 5 && e.volume == VOLUME));
        assert_eq!(t[4].at, Duration::from_millis(80));
        assert!(t[5..].iter().all(|p| p.at == Duration::from_millis(100)));
        // A length that is not a whole number of intervals is still told exactly.
        let odd = event_train(1, Duration::from_millis(50), Duration::from_millis(20));
        let last = TelephoneEvent::parse(&odd.last().unwrap().payload).unwrap();
        assert_eq!((odd.len(), last.duration), (6, 400));
    }

    #[test]
    fn trains_decode_to_their_digits() {
        let mut decoder = DtmfDecoder::default();
        let mut heard = Vec::new();
        let now = Instant::now();
        for (i, k) in "19*#AD0".chars().enumerate() {
            let ts = 10_000 + i as u32 * 2_000;
            for p in event_train(event_code(k).unwrap(), Duration::from_millis(120), Duration::from_millis(20)) {
                decoder.on_packet(ts, &p.payload, now + p.at, &mut heard).unwrap();
            }
        }
        let keys: String = heard.iter().map(|d| key(d.event).unwrap()).collect();
        assert_eq!(keys, "19*#AD0");
        assert!(heard.iter().all(|d| d.ending == Ending::EndBit && d.duration_ms() == 120));
    }
}
