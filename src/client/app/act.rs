//! What keys do: [`App::on_key`] translates a terminal key at the edge, [`App::press`] hands
//! it to the open dialog or looks it up in the key table, and [`App::act`] carries out an
//! [`Action`]. Also the pieces every action shares: sending, saving, quitting, scrolling.

use crossterm::event::KeyEvent;
use tui_input::Input;

use super::keys::{self, Action, Key};
use super::log_view::Toward;
use super::dialog::Ask;
use super::{App, Dialog, Effect, Export, LogKind};
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
            Action::SavePcap => self.command(Command::SavePcap),
            Action::Quit => self.quit_asking(),
            Action::Help => self.open(Dialog::Help),
            Action::Reconnect => self.reconnect_asking(),
            Action::Scroll(s) => self.scroll_focused(s),
            Action::FocusNext => self.focus_step(true),
            Action::FocusPrev => self.focus_step(false),
            Action::Zoom => self.zoom(),
            Action::Keypad => self.open_keypad(),
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
                self.clear_selection();
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
        let Some(id) = self.calls.current_id().filter(|_| !self.capture.is_empty()) else {
            self.log(LogKind::Error, "no audio received yet: nothing to save");
            return vec![];
        };
        let name = format!("rtp_capture_{}.wav", (self.wall_clock)().format("%Y%m%d_%H%M%S"));
        self.save_as(vec![id], name, Export::Wav(self.cfg.record_format))
    }

    /// `P`: the current (or last) call's packets as a pcap.
    pub(crate) fn save_pcap_effects(&mut self) -> Vec<Effect> {
        match self.calls.current_id().filter(|_| self.streams.iter().next().is_some()) {
            Some(id) => self.save_call(id, Export::Pcap),
            None => {
                self.log(LogKind::Error, "no RTP received yet: nothing to save");
                vec![]
            }
        }
    }
}
