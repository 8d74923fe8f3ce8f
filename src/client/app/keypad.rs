//! The DTMF keypad (`d`): during a call every key typed goes to the server at once as
//! `DTMF:<key>` (sipdeck's own extension, which the gateway and the demo peer serve); the
//! dialog shows what was sent. A server without the extension answers with an error line,
//! which the log shows like any other status line.

use super::keys::Key;
use super::{App, Dialog, Effect, LogKind};
use crate::core::protocol::{ClientMsg, DtmfDigits, MAX_DTMF_DIGITS};

impl App {
    /// `d`: the keypad, refused at once when no call is up.
    pub(super) fn open_keypad(&mut self) -> Vec<Effect> {
        if !self.call.in_progress() {
            self.log(LogKind::Error, "no call in progress: the keypad sends DTMF into a call (1 or 2 calls)");
            return vec![];
        }
        self.dialog = Some(Dialog::Keypad { sent: String::new() });
        vec![]
    }

    /// A key on the open keypad: a DTMF key is sent as it is typed, `q` and Enter close it
    /// (Esc already did), anything else is ignored.
    pub(super) fn on_keypad_key(&mut self, mut sent: String, key: Key) -> Vec<Effect> {
        let digit = match key {
            Key::Char('q') | Key::Enter => return vec![],
            Key::Char(c) => c.to_string().parse::<DtmfDigits>().ok(),
            _ => None,
        };
        let mut effects = vec![];
        if let Some(digit) = digit {
            if !self.call.in_progress() {
                self.log(LogKind::Error, format!("the call is over: DTMF {digit} was not sent"));
                return vec![];
            }
            effects = self.send(ClientMsg::Dtmf(digit.clone()));
            if !effects.is_empty() {
                // The dialog shows the latest keys, as many as one command carries.
                sent.push_str(digit.as_str());
                let extra = sent.len().saturating_sub(MAX_DTMF_DIGITS);
                sent.drain(..extra);
            }
        }
        self.dialog = Some(Dialog::Keypad { sent });
        effects
    }

    /// Line mode's `d <digits>`: all of them in one command, during a call only.
    pub(super) fn send_dtmf(&mut self, digits: &str) -> Vec<Effect> {
        let digits = match digits.parse::<DtmfDigits>() {
            Ok(d) => d,
            Err(e) => {
                self.log(LogKind::Error, format!("invalid DTMF: {e}"));
                return vec![];
            }
        };
        if !self.call.in_progress() {
            self.log(LogKind::Error, format!("no call in progress: DTMF {digits} was not sent"));
            return vec![];
        }
        self.send(ClientMsg::Dtmf(digits))
    }
}

#[cfg(test)]
#[path = "keypad_tests.rs"]
mod tests;
