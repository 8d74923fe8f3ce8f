//! What keys do: [`App::on_key`] translates a terminal key at the edge, [`App::press`] hands
//! it to the open dialog or looks it up in the key table, and [`App::act`] carries out an
//! [`Action`]. Also the pieces every action shares: sending, saving, quitting, scrolling.

use crossterm::event::KeyEvent;
use tui_input::Input;

use super::keys::{self, Action, Key};
use super::log_view::Toward;
use super::dialog::Ask;
use super::{App, Dialog, Effect, LogKind, RecordFormat};
use crate::core::protocol::ClientMsg;
use super::command::Command;

impl App {
    /// A terminal key: translated, then pressed. Front ends and tests call this.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match keys::translate(key) {
            Some(k) => self.press(k),
            None => vec![],
        }
    }

    /// A key: control chords act everywhere (no dialog types them); anything else goes to
    /// the open dialog, or through the key table on the dashboard.
    pub fn press(&mut self, key: Key) -> Vec<Effect> {
        if let (Key::Ctrl(_), Some(action)) = (key, keys::action_for(key)) {
            return self.act(action);
        }
        match self.dialog.take() {
            Some(d) => self.on_dialog_key(d, key),
            None => keys::action_for(key).map(|a| self.act(a)).unwrap_or_default(),
        }
    }

    /// Carry out one action of the key table.
    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::CallDefault => self.command(Command::CallDefault),
            Action::Dial => self.dial(),
            Action::Hangup => self.command(Command::Hangup),
            Action::Stats => self.command(Command::Stats),
            Action::Upload => self.open_browser(),
            Action::Play => self.open(Dialog::Play { input: Input::default(), selected: 0, error: None }),
            Action::Save => self.command(Command::Save),
            Action::Quit => self.quit_asking(),
            Action::Help => self.open(Dialog::Help),
            Action::Reconnect => self.reconnect_asking(),
            Action::Keypad => self.open_keypad(),
            Action::Scroll(s) => self.scroll_log(s),
            Action::Search => self.open(Dialog::Search { input: Input::default() }),
            Action::SearchOlder => {
                self.step_search(Toward::Older);
                vec![]
            }
            Action::SearchNewer => {
                self.step_search(Toward::Newer);
                vec![]
            }
            // On the dashboard itself, Esc drops the search and its highlights.
            Action::Close => {
                self.dialog = None;
                self.clear_search();
                vec![]
            }
        }
    }

    /// The dial dialog, unless a call is up: that is said at once, not after a whole number.
    fn dial(&mut self) -> Vec<Effect> {
        if let Some(n) = self.call.number().filter(|_| self.call.in_progress()) {
            self.log(LogKind::Error, format!("a call with {n} is in progress: hang up first (3)"));
            return vec![];
        }
        self.open(Dialog::Dial { input: Input::default(), error: None })
    }

    /// Quit, asking first when that would drop a call or lose audio. Asked twice (Ctrl-C
    /// while the question is up) it quits.
    fn quit_asking(&mut self) -> Vec<Effect> {
        let asked = matches!(self.dialog, Some(Dialog::Confirm(Ask::Quit)));
        if !asked && (self.call.in_progress() || self.unsaved_audio()) {
            return self.open(Dialog::Confirm(Ask::Quit));
        }
        self.dialog = None;
        self.command(Command::Quit)
    }

    /// Reconnect, asking first when a call is up (it drops with the connection).
    fn reconnect_asking(&mut self) -> Vec<Effect> {
        if self.call.in_progress() {
            return self.open(Dialog::Confirm(Ask::Reconnect));
        }
        self.command(Command::Reconnect)
    }

    fn open(&mut self, dialog: Dialog) -> Vec<Effect> {
        self.dialog = Some(dialog);
        vec![]
    }

    pub(crate) fn quit_effects(&mut self) -> Vec<Effect> {
        self.quit = true;
        self.log(LogKind::Info, "quitting");
        vec![Effect::Quit]
    }

    /// Send now when connected; otherwise say so plainly rather than queue it.
    pub(crate) fn send(&mut self, msg: ClientMsg) -> Vec<Effect> {
        if let (ClientMsg::Call(_), Some(n)) = (&msg, self.call.number().filter(|_| self.call.in_progress())) {
            self.log(LogKind::Error, format!("a call with {n} is in progress: hang up first (3)"));
            return vec![];
        }
        if self.connected() {
            vec![Effect::Send(msg)]
        } else {
            self.log(LogKind::Error, format!("not connected: {} was not sent", msg.summary()));
            vec![]
        }
    }

    /// `7`: the current call's recording, or the last ended call's when none is up.
    pub(crate) fn save_effects(&mut self) -> Vec<Effect> {
        if self.capture.is_empty() {
            self.log(LogKind::Error, "no audio received yet: nothing to save");
            return vec![];
        }
        let name = format!("rtp_capture_{}.wav", (self.wall_clock)().format("%Y%m%d_%H%M%S"));
        self.save_as(name)
    }

    /// The recording of the call that just ended, named by its start and number.
    pub(crate) fn save_call_effects(&mut self) -> Vec<Effect> {
        let Some(s) = &self.calls.current else { return vec![] };
        let number = s.number.as_ref().map(|n| n.to_string()).unwrap_or_else(|| "unknown".into());
        let name = format!("call_{}_{number}.wav", s.started.format("%Y%m%d_%H%M%S"));
        self.save_as(name)
    }

    fn save_as(&mut self, name: String) -> Vec<Effect> {
        let bytes = match self.cfg.record_format {
            RecordFormat::Mulaw => self.capture.to_wav(),
            RecordFormat::Pcm16 => self.capture.to_pcm16_wav(),
        };
        self.log(LogKind::Info, format!("saving {:.1} s of audio as {name}", self.capture.seconds()));
        self.save_requested_at = self.rtp.packets;
        self.calls.saving.push_back(self.calls.current_id());
        vec![Effect::Save { dir: self.cfg.record_dir.clone(), name, bytes, seconds: self.capture.seconds() }]
    }
}
