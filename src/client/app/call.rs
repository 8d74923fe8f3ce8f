//! Connection and call state, and how server status lines move the call along.

use std::time::{Duration, Instant};

use crate::core::protocol::Number;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    Connecting { attempt: u32 },
    Connected { since: Instant },
    Disconnected { reason: String, next_attempt: Option<Instant> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallState {
    Idle,
    /// CALL sent, no answer yet.
    Dialing { number: Number, since: Instant },
    Ringing { number: Number, since: Instant },
    Active { number: Number, answered: Instant },
    Ended { number: Number, reason: String, lasted: Option<Duration> },
}

/// What a server status line says about the call. The reference gateway's wording is free
/// text, so this reads it the way an operator would: by keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusHint {
    Calling,
    Ringing,
    Answered,
    Failed,
    Ended,
    None,
}

pub fn classify_status(line: &str) -> StatusHint {
    let l = line.to_ascii_lowercase();
    let has = |w: &str| l.contains(w);
    if has("fail") || has("busy") || has("declin") || has("reject") || has("unavailable") || has("not found") {
        StatusHint::Failed
    } else if has("call ended") || has("hung up") || has("hangup") || has("bye") || has("terminated") || has("call end") {
        StatusHint::Ended
    } else if has("answered") || has("established") || (has("connected") && !has("disconnected")) || has("in call") {
        StatusHint::Answered
    } else if has("ringing") || has("180") || has("183") || has("early media") {
        StatusHint::Ringing
    } else if has("calling") || has("dialing") || has("trying") {
        StatusHint::Calling
    } else {
        StatusHint::None
    }
}

impl CallState {
    pub fn number(&self) -> Option<&Number> {
        match self {
            CallState::Idle => None,
            CallState::Dialing { number, .. }
            | CallState::Ringing { number, .. }
            | CallState::Active { number, .. }
            | CallState::Ended { number, .. } => Some(number),
        }
    }

    pub fn in_progress(&self) -> bool {
        matches!(self, CallState::Dialing { .. } | CallState::Ringing { .. } | CallState::Active { .. })
    }

    /// End the call if one is in progress.
    pub fn end(&mut self, reason: impl Into<String>, now: Instant) {
        let lasted = match self {
            CallState::Active { answered, .. } => Some(now.saturating_duration_since(*answered)),
            _ => None,
        };
        if let (true, Some(number)) = (self.in_progress(), self.number().cloned()) {
            *self = CallState::Ended { number, reason: reason.into(), lasted };
        }
    }

    /// Fold a status hint into the state.
    pub fn on_hint(&mut self, hint: StatusHint, line: &str, now: Instant) {
        let number = self.number().cloned();
        match (hint, number) {
            (StatusHint::Ringing, Some(number)) if matches!(self, CallState::Dialing { .. }) => {
                *self = CallState::Ringing { number, since: now }
            }
            (StatusHint::Answered, Some(number)) if matches!(self, CallState::Dialing { .. } | CallState::Ringing { .. }) => {
                *self = CallState::Active { number, answered: now }
            }
            (StatusHint::Failed | StatusHint::Ended, Some(_)) => self.end(line.to_string(), now),
            _ => {}
        }
    }

    /// Media proves the call is up even when the gateway never says "answered".
    pub fn on_media(&mut self, now: Instant) {
        if let CallState::Dialing { number, .. } | CallState::Ringing { number, .. } = self {
            *self = CallState::Active { number: number.clone(), answered: now };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read_by_keyword() {
        assert_eq!(classify_status("Calling 0938220136"), StatusHint::Calling);
        assert_eq!(classify_status("Ringing"), StatusHint::Ringing);
        assert_eq!(classify_status("SIP/2.0 180 Ringing"), StatusHint::Ringing);
        assert_eq!(classify_status("Call answered"), StatusHint::Answered);
        assert_eq!(classify_status("Call connected"), StatusHint::Answered);
        assert_eq!(classify_status("Call failed: 486 Busy Here"), StatusHint::Failed);
        assert_eq!(classify_status("Call ended"), StatusHint::Ended);
        assert_eq!(classify_status("Remote BYE received"), StatusHint::Ended);
        assert_eq!(classify_status("Client disconnected"), StatusHint::None);
        assert_eq!(classify_status("hello"), StatusHint::None);
    }

    #[test]
    fn a_call_walks_through_its_states() {
        let t0 = Instant::now();
        let n: Number = "123".parse().unwrap();
        let mut c = CallState::Dialing { number: n.clone(), since: t0 };
        c.on_hint(StatusHint::Ringing, "Ringing", t0);
        assert!(matches!(c, CallState::Ringing { .. }));
        c.on_hint(StatusHint::Answered, "Call answered", t0);
        assert!(matches!(c, CallState::Active { .. }));
        c.on_hint(StatusHint::Ringing, "Ringing", t0); // late, ignored
        assert!(matches!(c, CallState::Active { .. }));
        c.end("Call ended", t0 + Duration::from_secs(3));
        assert_eq!(c, CallState::Ended { number: n.clone(), reason: "Call ended".into(), lasted: Some(Duration::from_secs(3)) });
        let mut idle = CallState::Idle;
        idle.on_hint(StatusHint::Ended, "Call ended", t0);
        assert_eq!(idle, CallState::Idle);
        let mut d = CallState::Dialing { number: n, since: t0 };
        d.on_media(t0);
        assert!(matches!(d, CallState::Active { .. }));
    }
}
