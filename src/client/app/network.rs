//! Folding network events into the app: status lines move the call, RTP feeds the
//! statistics and the capture, acks settle uploads, connection changes are logged.

use std::time::Instant;

use super::{call, App, CallState, ConnState, LogKind, Upload, UploadState, MALFORMED_LOGGED_ONE_BY_ONE};
use crate::client::net::NetEvent;
use crate::core::protocol::ClientMsg;

impl App {
    pub fn on_net(&mut self, ev: NetEvent, now: Instant) {
        // A packet never ends a call (status lines, sends and disconnects do), and a batch
        // folds its events through here one by one: no check per packet.
        let may_end_call = !matches!(ev, NetEvent::Rtp(_) | NetEvent::Batch(_));
        self.fold_net(ev, now);
        if may_end_call {
            self.follow_call_end();
        }
    }

    fn fold_net(&mut self, ev: NetEvent, now: Instant) {
        match ev {
            NetEvent::Rtp(f) => self.on_rtp(&f, now),
            NetEvent::Batch(evs) => evs.into_iter().for_each(|ev| self.on_net(ev, now)),
            NetEvent::Status(s) => {
                let hint = call::classify_status(&s);
                self.call.on_hint(hint, &s, now);
                self.log(LogKind::Server, &s);
            }
            NetEvent::WavAck(text) => self.on_ack(text),
            NetEvent::Malformed { reason } => self.on_malformed(reason, now),
            NetEvent::Connecting { attempt } => {
                self.conn = ConnState::Connecting { attempt };
                let suffix = if attempt > 1 { format!(" (attempt {attempt})") } else { String::new() };
                self.log(LogKind::Info, format!("connecting to {}{suffix}", self.cfg.url));
            }
            NetEvent::Connected { subprotocol } => {
                self.conn = ConnState::Connected { since: now };
                let how = if subprotocol { " with subprotocol sip-audio-protocol" } else { "" };
                self.log(LogKind::Info, format!("connected to {}{how}", self.cfg.url));
            }
            NetEvent::Warning(w) => self.log(LogKind::Warn, w),
            NetEvent::Sent(msg) => self.on_sent(msg, now),
            NetEvent::Refused { what, why } => self.log(LogKind::Error, format!("not sent: {what} ({why})")),
            NetEvent::Disconnected { reason, retry_in } => {
                self.call.end("connection lost", now);
                let next = retry_in.map(|d| now + d);
                let when = match retry_in {
                    Some(d) => format!("; retrying in {:.1} s (r to retry now)", d.as_secs_f64()),
                    None => "; press r to reconnect".into(),
                };
                // A reconnect the user asked for is no error.
                let kind = if std::mem::take(&mut self.reconnect_asked) { LogKind::Info } else { LogKind::Error };
                self.log(kind, format!("disconnected: {reason}{when}"));
                self.conn = ConnState::Disconnected { reason, next_attempt: next };
            }
        }
    }

    fn on_rtp(&mut self, f: &crate::client::net::RtpFrame, now: Instant) {
        self.session_for_media();
        self.rtp.on_packet(f.arrival, f.bytes.len());
        let arrival = self.streams.on_packet(&f.header, f.payload(), f.bytes.len(), f.arrival);
        self.capture.push(&arrival, &f.header, f.payload());
        self.call.on_media(now);
        self.log_dtmf();
        if arrival.opened {
            let codec = crate::core::rtp::Codec::from_pt(f.header.payload_type);
            self.log(
                LogKind::Info,
                format!(
                    "RTP stream SSRC {:#010x}, {} (PT {}), first sequence {}",
                    f.header.ssrc,
                    codec.name(),
                    f.header.payload_type,
                    f.header.sequence
                ),
            );
        }
    }

    pub(super) fn log_dtmf(&mut self) {
        // Collecting an empty drain does not allocate; events themselves are rare.
        let events: Vec<_> = self.streams.take_dtmf().collect();
        for d in events {
            self.log(LogKind::Info, format!("{} on SSRC {:#010x}", d.dtmf, d.ssrc));
        }
    }

    fn on_malformed(&mut self, reason: String, now: Instant) {
        self.rtp.malformed += 1;
        if self.rtp.malformed <= MALFORMED_LOGGED_ONE_BY_ONE {
            self.log(LogKind::Warn, format!("malformed frame: {reason}"));
            if self.rtp.malformed == MALFORMED_LOGGED_ONE_BY_ONE {
                self.log(LogKind::Warn, "further malformed frames are summarised once a second");
            }
            self.malformed_summary_at = now;
        } else {
            self.malformed_unlogged += 1;
            self.malformed_last_reason = reason;
        }
    }

    fn on_ack(&mut self, text: String) {
        self.log(LogKind::Server, format!("WAV_ACK: {text}"));
        let at = (self.wall_clock)();
        let pending = |u: &Upload| matches!(u.state, UploadState::Pending { .. });
        // Match the ack to the upload it names; a gateway whose ack names nothing acks the
        // oldest pending upload, as uploads are answered in order.
        let idx = self
            .uploads
            .iter()
            .position(|u| pending(u) && text.contains(u.name.as_str()))
            .or_else(|| self.uploads.iter().position(pending));
        if let Some(i) = idx {
            self.tell_browser(format!("acknowledged: {text}"));
            self.uploads[i].state = UploadState::Acked { text, at };
        }
    }

    fn on_sent(&mut self, msg: ClientMsg, now: Instant) {
        self.log(LogKind::Client, format!("sent {}", msg.summary()));
        match msg {
            ClientMsg::Call(number) => {
                self.begin_call(number.clone());
                self.call = CallState::Dialing { number, since: now };
            }
            ClientMsg::Hangup => self.call.end("hung up by you", now),
            ClientMsg::WavUpload { name, data } => {
                self.uploads.retain(|u| u.name != name);
                self.uploads.push(Upload { name, bytes: data.len(), state: UploadState::Pending { since: now } });
            }
            ClientMsg::PlayWav(_) | ClientMsg::Dtmf(_) => {}
        }
    }
}
