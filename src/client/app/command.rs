//! The menu as commands, for runners without keys (line mode) and for scripts: the same
//! behaviour as the keys, with arguments given up front. Which words mean what comes from
//! the key table ([`super::keys`]).

use std::path::PathBuf;

use super::{App, Effect, LogKind, Purpose};
use crate::core::protocol::{ClientMsg, Number, WavName};

/// One menu action with its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    CallDefault,
    Call(String),
    Hangup,
    Stats,
    Upload(PathBuf),
    Play(String),
    Save,
    /// Every kept call into one WAV (`7 all`).
    SaveAll,
    /// The current (or last) call's packets as a pcap.
    SavePcap,
    Quit,
    Reconnect,
    /// DTMF digits into the call (sipdeck's extension).
    Dtmf(String),
}

/// What the menu item of a line needs before it can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Number,
    Path,
    Name,
    Digits,
}

impl Needs {
    pub fn prompt(self) -> &'static str {
        match self {
            Needs::Number => "enter the number to call:",
            Needs::Path => "enter the path of the WAV file to upload:",
            Needs::Name => "enter the name of the WAV file to play:",
            Needs::Digits => "enter the DTMF digits to send (0-9 * # A-D):",
        }
    }
}

/// A parsed input line: a command, a menu item waiting for its argument, or nonsense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Command),
    Ask(Needs),
    Empty,
    Unknown(String),
}

/// Read a line as the reference client's menu does (`2` then the number on the next line)
/// or with the argument on the same line (`2 0912345678`). The words are the key table's
/// ([`super::keys::line_action`]).
pub fn parse_line(line: &str) -> Parsed {
    let line = line.trim();
    let (head, arg) = match line.split_once(char::is_whitespace) {
        Some((h, a)) => (h, Some(a.trim())),
        None => (line, None),
    };
    if head.is_empty() {
        return Parsed::Empty;
    }
    super::keys::line_action(head).and_then(|a| a.line(arg)).unwrap_or_else(|| Parsed::Unknown(line.to_string()))
}

/// Complete a menu item that asked for its argument.
pub fn complete(needs: Needs, arg: &str) -> Command {
    let arg = arg.trim().to_string();
    match needs {
        Needs::Number => Command::Call(arg),
        Needs::Path => Command::Upload(PathBuf::from(arg)),
        Needs::Name => Command::Play(arg),
        Needs::Digits => Command::Dtmf(arg),
    }
}

impl App {
    /// Run one menu command.
    pub fn command(&mut self, cmd: Command) -> Vec<Effect> {
        match cmd {
            Command::CallDefault => self.send(ClientMsg::Call(self.cfg.default_number.clone())),
            Command::Call(n) => match n.parse::<Number>() {
                Ok(n) => self.send(ClientMsg::Call(n)),
                Err(e) => {
                    self.log(LogKind::Error, format!("invalid number: {e}"));
                    vec![]
                }
            },
            Command::Hangup => self.send(ClientMsg::Hangup),
            Command::Stats => {
                let line = self.stats_line();
                self.log(LogKind::Info, line);
                for line in self.stream_lines() {
                    self.log(LogKind::Info, line);
                }
                if !self.calls.history.is_empty() {
                    for line in self.history_lines() {
                        self.log(LogKind::Info, line);
                    }
                }
                vec![]
            }
            Command::Upload(path) => {
                if path.as_os_str().is_empty() {
                    self.log(LogKind::Error, "no file given to upload");
                    vec![]
                } else if !self.connected() {
                    self.log(LogKind::Error, format!("not connected: {} was not uploaded", path.display()));
                    vec![]
                } else {
                    // Judged like a pick in the browser once its header is read (off the
                    // UI thread): sent as it is, converted, or refused with the reason.
                    vec![Effect::Inspect { path, purpose: Purpose::Upload }]
                }
            }
            Command::Play(name) => match name.parse::<WavName>() {
                Ok(n) => self.send(ClientMsg::PlayWav(n)),
                Err(e) => {
                    self.log(LogKind::Error, format!("invalid file name: {e}"));
                    vec![]
                }
            },
            Command::Save => self.save_effects(),
            Command::SaveAll => self.save_all(),
            Command::SavePcap => self.save_pcap_effects(),
            Command::Dtmf(digits) => self.send_dtmf(&digits),
            Command::Quit => self.quit_effects(),
            Command::Reconnect => {
                self.reconnect_asked = true;
                self.log(LogKind::Info, "reconnecting now");
                vec![Effect::Reconnect]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_like_the_reference_menu() {
        assert_eq!(parse_line("1"), Parsed::Run(Command::CallDefault));
        assert_eq!(parse_line(" 2 0912345678 "), Parsed::Run(Command::Call("0912345678".into())));
        assert_eq!(parse_line("2"), Parsed::Ask(Needs::Number));
        assert_eq!(complete(Needs::Number, "0912345678\n"), Command::Call("0912345678".into()));
        assert_eq!(parse_line("5 my file.wav"), Parsed::Run(Command::Upload("my file.wav".into())));
        assert_eq!(parse_line("6"), Parsed::Ask(Needs::Name));
        assert_eq!(parse_line("6 a.wav"), Parsed::Run(Command::Play("a.wav".into())));
        assert_eq!(parse_line("7"), Parsed::Run(Command::Save));
        assert_eq!(parse_line("8"), Parsed::Run(Command::Quit));
        assert_eq!(parse_line(""), Parsed::Empty);
        assert_eq!(parse_line("9"), Parsed::Unknown("9".into()));
        assert_eq!(parse_line("exit"), Parsed::Run(Command::Quit));
        assert_eq!(parse_line("c 123"), Parsed::Run(Command::Call("123".into())));
        assert_eq!(parse_line("r"), Parsed::Run(Command::Reconnect));
        assert_eq!(parse_line("? x"), Parsed::Unknown("? x".into()));
    }
}
