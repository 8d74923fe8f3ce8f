//! DTMF into a SIP call: RFC 4733 telephone-events in the call's own RTP stream, or, when
//! the answer negotiated no telephone-event, one SIP INFO per digit (RFC 6086, the
//! `application/dtmf-relay` body most PBXs take).

use std::time::Duration;

use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, StatusCodeKind};
use thiserror::Error;
use tokio::sync::mpsc;

use super::rtp::{RtpError, RtpOutlet};
use crate::core::dtmf_encode::{event_code, event_train};
use crate::core::protocol::DtmfDigits;
use crate::server::media::PACKET_INTERVAL;
use crate::server::outbox::ClientOutbox;

/// How long each digit sounds, and the silence between two (`--dtmf-duration`,
/// `--dtmf-gap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfTiming {
    pub tone: Duration,
    pub gap: Duration,
}

impl Default for DtmfTiming {
    fn default() -> Self {
        DtmfTiming { tone: Duration::from_millis(100), gap: Duration::from_millis(60) }
    }
}

#[derive(Debug, Error)]
pub enum DtmfError {
    #[error("{0}")]
    Rtp(#[from] RtpError),
    #[error("the far end refused INFO: {0}")]
    InfoRefused(String),
    #[error("INFO failed: {0}")]
    Info(String),
    #[error("the call is not confirmed")]
    NotConfirmed,
}

/// Each digit as a train of telephone-events with payload type `pt`, paced in real time:
/// the tone's packets every 20 ms, then the gap, then the next digit.
pub async fn send_events(outlet: &RtpOutlet, pt: u8, digits: &DtmfDigits, timing: DtmfTiming) -> Result<(), DtmfError> {
    for (i, key) in digits.as_str().chars().enumerate() {
        if i > 0 {
            tokio::time::sleep(timing.gap).await;
        }
        let Some(code) = event_code(key) else { continue };
        let start = tokio::time::Instant::now();
        let mut event_ts = None;
        for packet in event_train(code, timing.tone, PACKET_INTERVAL) {
            tokio::time::sleep_until(start + packet.at).await;
            outlet.send_event(pt, packet.marker, &mut event_ts, &packet.payload).await?;
        }
    }
    Ok(())
}

/// The body of one INFO: `Signal=<key>` and its duration in ms.
pub fn relay_body(key: char, tone: Duration) -> String {
    format!("Signal={key}\r\nDuration={}\r\n", tone.as_millis())
}

/// One INFO per digit, each waiting for its answer, the gap between two.
pub async fn send_info(dialog: &InviteDialog, digits: &DtmfDigits, timing: DtmfTiming) -> Result<(), DtmfError> {
    for (i, key) in digits.as_str().chars().enumerate() {
        if i > 0 {
            tokio::time::sleep(timing.gap).await;
        }
        let headers = vec![Header::ContentType("application/dtmf-relay".into())];
        let body = relay_body(key, timing.tone).into_bytes();
        match dialog.info(Some(headers), Some(body)).await {
            Ok(Some(resp)) if resp.status_code.kind() == StatusCodeKind::Successful => {}
            Ok(Some(resp)) => {
                return Err(DtmfError::InfoRefused(format!("{} {}", resp.status_code.code(), resp.status_code.text())))
            }
            Ok(None) => return Err(DtmfError::NotConfirmed),
            Err(e) => return Err(DtmfError::Info(e.to_string())),
        }
    }
    Ok(())
}

/// How a call's digits travel.
pub enum DtmfPath {
    Events(RtpOutlet, u8),
    Info(InviteDialog),
}

/// The DTMF sender of a call: each request in the order it came, its line when done.
pub async fn send_dtmf_in_turn(mut queue: mpsc::UnboundedReceiver<(DtmfDigits, DtmfPath)>, timing: DtmfTiming, out: ClientOutbox) {
    while let Some((digits, how)) = queue.recv().await {
        let sent = match &how {
            DtmfPath::Events(outlet, pt) => send_events(outlet, *pt, &digits, timing).await,
            DtmfPath::Info(dialog) => send_info(dialog, &digits, timing).await,
        };
        let line = match sent {
            Ok(()) => format!("DTMF sent: {digits}"),
            Err(e) => format!("Error: cannot send DTMF {digits}: {e}"),
        };
        out.line(line).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dtmf::{key, DtmfDecoder};
    use crate::core::rtp;
    use crate::server::outbox::ClientOutbox;
    use crate::server::sip::ports::PortPool;
    use crate::server::sip::rtp::{CallRtp, RtpSources};
    use std::time::Instant;
    use tokio::net::UdpSocket;

    #[test]
    fn info_bodies_name_the_key_and_duration() {
        assert_eq!(relay_body('5', Duration::from_millis(100)), "Signal=5\r\nDuration=100\r\n");
        assert_eq!(relay_body('#', Duration::from_millis(250)), "Signal=#\r\nDuration=250\r\n");
    }

    #[tokio::test]
    async fn digits_go_out_as_telephone_events_in_one_stream() {
        let pool = PortPool::new("33000-33999".parse().unwrap(), "127.0.0.1".parse().unwrap());
        let (out, _rx) = ClientOutbox::new();
        let media = CallRtp::open(&pool, out, RtpSources::FarEnd).await.unwrap();
        let far = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        media.set_remote(far.local_addr().unwrap());
        let timing = DtmfTiming { tone: Duration::from_millis(60), gap: Duration::from_millis(40) };
        let digits: DtmfDigits = "1#".parse().unwrap();
        send_events(&media.outlet(), 96, &digits, timing).await.unwrap();
        // 60 ms: 3 progress packets and 3 end packets per digit.
        let mut buf = [0u8; 200];
        let mut packets = Vec::new();
        for _ in 0..12 {
            let n = far.recv(&mut buf).await.unwrap();
            packets.push(buf[..n].to_vec());
        }
        let parsed: Vec<_> = packets.iter().map(|p| rtp::parse(p).unwrap()).collect();
        let first = parsed[0].header;
        for (i, p) in parsed.iter().enumerate() {
            assert_eq!(p.header.payload_type, 96);
            assert_eq!(p.header.ssrc, first.ssrc);
            assert_eq!(p.header.sequence, first.sequence.wrapping_add(i as u16));
            assert_eq!(p.header.marker, i == 0 || i == 6);
        }
        assert!(parsed[..6].iter().all(|p| p.header.timestamp == first.timestamp));
        // The second event starts later in the stream: 60 ms of tone + 40 ms of gap.
        assert!(parsed[6].header.timestamp.wrapping_sub(first.timestamp) >= 640);
        let mut decoder = DtmfDecoder::default();
        let mut heard = Vec::new();
        for p in &parsed {
            decoder.on_packet(p.header.timestamp, p.payload, Instant::now(), &mut heard).unwrap();
        }
        let keys: String = heard.iter().filter_map(|d| key(d.event)).collect();
        assert_eq!(keys, "1#");
        assert!(heard.iter().all(|d| d.duration_ms() == 60));
    }
}
