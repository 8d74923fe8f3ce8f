//! The modal dialogs over the dashboard and what keys do in them: help, dialling a number,
//! playing an uploaded file, recovering earlier sessions' audio. The file browser and its
//! conversion offer are folded in [`crate::client::browser::pick`].

use tui_input::Input;

use super::keys::Key;
use super::{App, Effect, LogKind};
use crate::client::browser::ConvertOffer;
use crate::client::spill::Leftover;
use crate::core::protocol::{ClientMsg, Number, WavName};

/// A modal dialog over the dashboard. Only one at a time.
#[derive(Debug, Clone)]
pub enum Dialog {
    Help,
    Dial { input: Input, error: Option<String> },
    /// The file-browser pane ([`App::browser`]).
    Browser,
    /// Converting a picked file, to be confirmed; over the browser.
    Convert(ConvertOffer),
    Play { input: Input, selected: usize, error: Option<String> },
    /// Spill files of earlier sessions whose audio was never saved.
    Recover { files: Vec<Leftover> },
    /// A yes/no question before something that loses a call or audio.
    Confirm(Ask),
    /// Typing a search of the log (drawn in the footer row).
    Search { input: Input },
    /// The detail view of a stream or a call (`Enter` on the stream table or the history).
    Zoom(super::focus::Zoom),
    /// The DTMF keypad ([`super::keypad`]): the keys sent so far.
    Keypad { sent: String },
}

/// What a [`Dialog::Confirm`] asks before doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Quit although a call is up or received audio is not saved.
    Quit,
    /// Reconnect although a call is up (the call drops with the connection).
    Reconnect,
}

/// Apply a key to a text field; keys that are no edit change nothing.
fn edit(input: &mut Input, key: Key) {
    if let Some(req) = key.edit() {
        input.handle(req);
    }
}

impl App {
    /// Show the recovery dialog for spill files an earlier session left.
    pub fn offer_recovery(&mut self, files: Vec<Leftover>) {
        for f in &files {
            self.log(LogKind::Warn, format!("unsaved audio from an earlier session: {} ({} bytes)", f.path.display(), f.bytes));
        }
        self.dialog = Some(Dialog::Recover { files });
    }

    /// A key while `dialog` is open (it was taken out of `self.dialog`; it is put back
    /// unless the key closes it).
    pub(super) fn on_dialog_key(&mut self, dialog: Dialog, key: Key) -> Vec<Effect> {
        match dialog {
            Dialog::Browser => return self.on_browser_key(key),
            Dialog::Convert(offer) => return self.on_convert_key(offer, key),
            _ => {}
        }
        if key == Key::Esc {
            return vec![];
        }
        match dialog {
            // Any key closes the help.
            Dialog::Help => vec![],
            Dialog::Confirm(ask) => self.on_confirm_key(ask, key),
            Dialog::Search { mut input } => {
                match key {
                    Key::Enter => self.search_log(input.value().to_string()),
                    _ => {
                        edit(&mut input, key);
                        self.dialog = Some(Dialog::Search { input });
                    }
                }
                vec![]
            }
            Dialog::Recover { files } => self.on_recover_key(files, key),
            Dialog::Zoom(zoom) => self.on_zoom_key(zoom, key),
            Dialog::Dial { input, error } => self.on_dial_key(input, error, key),
            Dialog::Play { input, selected, error } => self.on_play_key(input, selected, error, key),
            Dialog::Keypad { sent } => self.on_keypad_key(sent, key),
            Dialog::Browser | Dialog::Convert(_) => unreachable!("handled above"),
        }
    }

    /// The dial field takes digits only, as they are typed; `q` closes it like Esc; Up and
    /// Down walk the redial history. A number that is still wrong on Enter is said in the
    /// dialog, not in the log; a good one joins the history.
    fn on_dial_key(&mut self, mut input: Input, error: Option<String>, key: Key) -> Vec<Effect> {
        match key {
            Key::Char('q') => return vec![],
            Key::Char(c) if !c.is_ascii_digit() => {}
            Key::Up | Key::Down => {
                let walked = if key == Key::Up { self.redial.older(input.value()) } else { self.redial.newer(input.value()) };
                if let Some(n) = walked {
                    input = Input::new(n.to_string());
                }
            }
            Key::Enter => {
                return match input.value().parse::<Number>() {
                    Ok(n) => {
                        let save = self.redial.push(n.as_str());
                        let mut effects = self.send(ClientMsg::Call(n));
                        effects.extend(save);
                        effects
                    }
                    Err(e) => {
                        self.dialog = Some(Dialog::Dial { input, error: Some(e.to_string()) });
                        vec![]
                    }
                };
            }
            _ => edit(&mut input, key),
        }
        self.dialog = Some(Dialog::Dial { input, error });
        vec![]
    }

    /// `y` does what was asked; `n`, `q` and Esc keep things as they are.
    fn on_confirm_key(&mut self, ask: Ask, key: Key) -> Vec<Effect> {
        match (key, ask) {
            (Key::Char('y') | Key::Char('Y'), Ask::Quit) => self.command(super::command::Command::Quit),
            (Key::Char('y') | Key::Char('Y'), Ask::Reconnect) => self.command(super::command::Command::Reconnect),
            (Key::Char('n') | Key::Char('N') | Key::Char('q'), _) => vec![],
            _ => {
                self.dialog = Some(Dialog::Confirm(ask));
                vec![]
            }
        }
    }

    fn on_play_key(&mut self, mut input: Input, mut selected: usize, error: Option<String>, key: Key) -> Vec<Effect> {
        let names_len = self.acked_names().len();
        match key {
            Key::Up => selected = selected.saturating_sub(1),
            Key::Down => selected = (selected + 1).min(names_len.saturating_sub(1)),
            Key::Enter => {
                let typed = input.value().trim().to_string();
                let choice =
                    if typed.is_empty() { self.acked_names().get(selected).map(|n| n.to_string()) } else { Some(typed) };
                let Some(choice) = choice else {
                    let error = Some("type a file name (nothing was acknowledged yet)".to_string());
                    self.dialog = Some(Dialog::Play { input, selected, error });
                    return vec![];
                };
                return match choice.parse::<WavName>() {
                    Ok(name) => self.send(ClientMsg::PlayWav(name)),
                    Err(e) => {
                        self.dialog = Some(Dialog::Play { input, selected, error: Some(e.to_string()) });
                        vec![]
                    }
                };
            }
            _ => edit(&mut input, key),
        }
        self.dialog = Some(Dialog::Play { input, selected, error });
        vec![]
    }

    /// One dialog for every leftover file. Enter or `y` recovers them all (one WAV per
    /// call), `D` deletes them all, Esc or `n` keeps them for later. Any other key is the
    /// dashboard's: the dialog may open while keys typed before it are still queued, and
    /// those must do what they meant, not answer a question not yet seen.
    fn on_recover_key(&mut self, files: Vec<Leftover>, key: Key) -> Vec<Effect> {
        let dir = self.cfg.record_dir.clone();
        match key {
            Key::Enter | Key::Char('y') => {
                self.log(LogKind::Info, format!("recovering {} spill file(s)", files.len()));
                files.into_iter().map(|f| Effect::Recover { spill: f.path, dir: dir.clone() }).collect()
            }
            Key::Char('D') => {
                for f in &files {
                    self.log(LogKind::Info, format!("deleted {}", f.path.display()));
                }
                files.into_iter().map(|f| Effect::Discard(f.path)).collect()
            }
            Key::Char('n') => {
                self.log(LogKind::Info, "unsaved audio kept for later: the next start offers it again");
                vec![]
            }
            _ => {
                self.dialog = Some(Dialog::Recover { files });
                let fx = super::keys::action_for(key).map(|a| self.act(a)).unwrap_or_default();
                if !matches!(self.dialog, Some(Dialog::Recover { .. })) && self.dialog.is_some() {
                    self.log(LogKind::Info, "the recovery offer was closed: the next start offers it again");
                }
                fx
            }
        }
    }
}
