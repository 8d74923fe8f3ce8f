//! RFC 4733 telephone-events (DTMF digits carried in RTP, usually payload type 101).
//!
//! One event is sent as many packets sharing the event's start timestamp, their duration
//! growing, and the last one (end bit set) is sent three times. [`DtmfDecoder`] turns such a
//! packet train into one [`Dtmf`] report per event.

use std::fmt;
use std::time::{Duration, Instant};

use thiserror::Error;

/// The telephone-event clock rate sipdeck assumes (RFC 4733's usual 8000 Hz).
pub const CLOCK_RATE: u32 = 8000;
/// An event whose end packets were all lost is reported this long after its last packet.
pub const END_TIMEOUT: Duration = Duration::from_millis(1000);

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DtmfError {
    #[error("telephone-event payload of {0} bytes, need 4")]
    TooShort(usize),
}

/// The payload of one RFC 4733 packet (section 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub event: u8,
    pub end: bool,
    /// Power level in -dBm0 (0..=63).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parse the first event block of a payload (RFC 2198 redundancy uses its own PT).
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, DtmfError> {
        let [event, flags, d0, d1, ..] = *payload else {
            return Err(DtmfError::TooShort(payload.len()));
        };
        Ok(TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [self.event, ((self.end as u8) << 7) | (self.volume & 0x3f), d[0], d[1]]
    }
}

/// The DTMF key of an event code (RFC 4733 section 3.2), `None` for other events.
pub fn key(event: u8) -> Option<char> {
    match event {
        0..=9 => Some((b'0' + event) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + event - 12) as char),
        _ => None,
    }
}

/// How an event's end was known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// An end packet arrived.
    EndBit,
    /// No end packet arrived: another event started, or the event went quiet.
    Inferred,
}

/// One reported event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dtmf {
    pub event: u8,
    pub volume: u8,
    /// Longest duration seen, in timestamp units.
    pub duration: u16,
    /// The RTP timestamp that names the event.
    pub timestamp: u32,
    pub ending: Ending,
}

impl Dtmf {
    pub fn duration_ms(&self) -> u32 {
        self.duration as u32 * 1000 / CLOCK_RATE
    }
}

impl fmt::Display for Dtmf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match key(self.event) {
            Some(k) => write!(f, "DTMF {k}")?,
            None => write!(f, "telephone-event {}", self.event)?,
        }
        write!(f, " ({} ms, -{} dBm0", self.duration_ms(), self.volume)?;
        match self.ending {
            Ending::EndBit => f.write_str(")"),
            Ending::Inferred => f.write_str(", end packet not received)"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Current {
    dtmf: Dtmf,
    last_at: Instant,
    reported: bool,
}

/// Folds the telephone-event packets of one source into reports, once per event.
#[derive(Debug, Clone, Default)]
pub struct DtmfDecoder {
    current: Option<Current>,
}

impl DtmfDecoder {
    /// Fold one packet in; a finished event is appended to `out`.
    pub fn on_packet(&mut self, timestamp: u32, payload: &[u8], at: Instant, out: &mut Vec<Dtmf>) -> Result<(), DtmfError> {
        let ev = TelephoneEvent::parse(payload)?;
        if let Some(cur) = self.current.as_mut() {
            let age = timestamp.wrapping_sub(cur.dtmf.timestamp) as i32;
            if age < 0 {
                return Ok(()); // a late packet of an older event
            }
            if age == 0 {
                cur.last_at = at;
                cur.dtmf.duration = cur.dtmf.duration.max(ev.duration);
                cur.dtmf.volume = ev.volume;
                if ev.end && !cur.reported {
                    cur.reported = true;
                    cur.dtmf.ending = Ending::EndBit;
                    out.push(cur.dtmf);
                }
                return Ok(());
            }
            if !cur.reported {
                out.push(cur.dtmf);
            }
        }
        let ending = if ev.end { Ending::EndBit } else { Ending::Inferred };
        let dtmf = Dtmf { event: ev.event, volume: ev.volume, duration: ev.duration, timestamp, ending };
        if ev.end {
            out.push(dtmf);
        }
        self.current = Some(Current { dtmf, last_at: at, reported: ev.end });
        Ok(())
    }

    /// Report an event whose end never came once it has been quiet for [`END_TIMEOUT`].
    pub fn poll(&mut self, now: Instant, out: &mut Vec<Dtmf>) {
        if let Some(cur) = self.current.as_mut() {
            if !cur.reported && now.saturating_duration_since(cur.last_at) >= END_TIMEOUT {
                cur.reported = true;
                out.push(cur.dtmf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(event: u8, end: bool, duration: u16) -> [u8; 4] {
        TelephoneEvent { event, end, volume: 10, duration }.to_bytes()
    }

    #[test]
    fn parses_the_payload_fields() {
        let e = TelephoneEvent::parse(&[11, 0x8a, 0x03, 0x20]).unwrap();
        assert_eq!(e, TelephoneEvent { event: 11, end: true, volume: 10, duration: 800 });
        assert_eq!(e.to_bytes(), [11, 0x8a, 0x03, 0x20]);
        // The reserved bit is not the volume.
        assert_eq!(TelephoneEvent::parse(&[1, 0x40 | 5, 0, 0]).unwrap().volume, 5);
        assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), Err(DtmfError::TooShort(3)));
    }

    #[test]
    fn keys() {
        let keys: String = (0..16).filter_map(key).collect();
        assert_eq!(keys, "0123456789*#ABCD");
        assert_eq!(key(16), None);
    }

    #[test]
    fn reports_once_although_the_end_is_sent_three_times() {
        let t0 = Instant::now();
        let mut d = DtmfDecoder::default();
        let mut out = Vec::new();
        for (i, dur) in [160u16, 320, 480, 640].into_iter().enumerate() {
            d.on_packet(8000, &pkt(5, false, dur), t0 + Duration::from_millis(20 * i as u64), &mut out).unwrap();
        }
        assert!(out.is_empty());
        for _ in 0..3 {
            d.on_packet(8000, &pkt(5, true, 800), t0, &mut out).unwrap();
        }
        d.poll(t0 + Duration::from_secs(5), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].ending, Ending::EndBit);
        assert_eq!(out[0].duration_ms(), 100);
        assert_eq!(out[0].to_string(), "DTMF 5 (100 ms, -10 dBm0)");
    }

    #[test]
    fn an_event_without_end_is_reported_when_the_next_starts_or_after_a_timeout() {
        let t0 = Instant::now();
        let mut d = DtmfDecoder::default();
        let mut out = Vec::new();
        d.on_packet(1000, &pkt(1, false, 160), t0, &mut out).unwrap();
        // The next event is a single end packet: both are reported, in order.
        d.on_packet(3000, &pkt(2, true, 400), t0, &mut out).unwrap();
        assert_eq!(out.iter().map(|e| (e.event, e.ending)).collect::<Vec<_>>(), [(1, Ending::Inferred), (2, Ending::EndBit)]);
        // A late packet of the first event is ignored.
        d.on_packet(1000, &pkt(1, true, 800), t0, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        d.on_packet(5000, &pkt(11, false, 160), t0, &mut out).unwrap();
        d.poll(t0 + Duration::from_millis(999), &mut out);
        assert_eq!(out.len(), 2);
        d.poll(t0 + END_TIMEOUT, &mut out);
        assert_eq!(out[2].to_string(), "DTMF # (20 ms, -10 dBm0, end packet not received)");
        d.poll(t0 + END_TIMEOUT * 3, &mut out);
        assert_eq!(out.len(), 3);
    }
}
