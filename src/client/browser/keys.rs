//! The file browser's keys: one table ([`PANE_KEYS`]) from which the pane's hint line and
//! its key dispatch are derived, and the fold of a key into the pane's state.

use super::{Browser, BrowserAction, Entry, Filter, Focus, PAGE};
use crate::client::app::keys::Key;
use crate::core::protocol::WavName;

/// What a key asks of the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaneAction {
    /// Open the highlighted folder or pick the highlighted file (or play, in the second list).
    Activate,
    Parent,
    Home,
    Filter,
    /// Type the folder to go to.
    TypePath,
    ToggleAll,
    SwitchList,
    Play,
    Close,
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    /// Into the highlighted folder (a file stays highlighted).
    Into,
}

/// One row of the pane's key table; a `hint` puts it in the pane's bottom line.
#[derive(Debug, Clone, Copy)]
pub struct PaneBinding {
    pub keys: &'static [Key],
    pub action: PaneAction,
    pub hint: Option<&'static str>,
}

const fn bind(keys: &'static [Key], action: PaneAction, hint: Option<&'static str>) -> PaneBinding {
    PaneBinding { keys, action, hint }
}

use Key::Char as C;

/// The pane's keys, in the order of its hint line.
#[rustfmt::skip]
pub const PANE_KEYS: &[PaneBinding] = &[
    bind(&[Key::Enter],               PaneAction::Activate,   Some("pick")),
    bind(&[Key::Backspace, Key::Left], PaneAction::Parent,    Some("up")),
    bind(&[C('~')],                   PaneAction::Home,       Some("home")),
    bind(&[C('/')],                   PaneAction::Filter,     Some("filter")),
    bind(&[C(':')],                   PaneAction::TypePath,   Some("path")),
    bind(&[C('a')],                   PaneAction::ToggleAll,  Some("all")),
    bind(&[Key::Tab, Key::BackTab],   PaneAction::SwitchList, Some("lists")),
    bind(&[C('6')],                   PaneAction::Play,       Some("play")),
    bind(&[Key::Esc, C('q')],         PaneAction::Close,      Some("close")),
    bind(&[Key::Up, C('k')],          PaneAction::Up,         None),
    bind(&[Key::Down, C('j')],        PaneAction::Down,       None),
    bind(&[Key::PageUp],              PaneAction::PageUp,     None),
    bind(&[Key::PageDown],            PaneAction::PageDown,   None),
    bind(&[Key::Home, C('g')],        PaneAction::First,      None),
    bind(&[Key::End, C('G')],         PaneAction::Last,       None),
    bind(&[Key::Right, C('l')],       PaneAction::Into,       None),
];

/// What `key` does in the pane.
pub fn pane_action(key: Key) -> Option<PaneAction> {
    PANE_KEYS.iter().find(|b| b.keys.contains(&key)).map(|b| b.action)
}

/// The pane's hint line: (key, what).
pub fn hints() -> impl Iterator<Item = (String, &'static str)> {
    PANE_KEYS.iter().filter_map(|b| b.hint.map(|h| (b.keys[0].label(), h)))
}

impl Browser {
    /// Fold a key. `acked` is the list of uploads the server acknowledged, newest first,
    /// as the pane shows it.
    pub fn on_key(&mut self, key: Key, acked: &[WavName]) -> BrowserAction {
        let action = self.fold_key(key, acked);
        if matches!(action, BrowserAction::Close | BrowserAction::Play(_)) {
            // The pane goes away: a pick still being read is dropped with it.
            self.picking = None;
        }
        action
    }

    fn fold_key(&mut self, key: Key, acked: &[WavName]) -> BrowserAction {
        self.acked_selected = self.acked_selected.min(acked.len().saturating_sub(1));
        if let Filter::Typing(text) = &self.filter {
            let text = text.clone();
            return self.on_filter_key(key, text);
        }
        if let Some(text) = self.path_input.take() {
            return self.on_path_key(key, text);
        }
        let Some(action) = pane_action(key) else { return BrowserAction::None };
        match (self.focus, action) {
            (_, PaneAction::Close) => self.escape(),
            (_, PaneAction::SwitchList) => {
                self.focus = match self.focus {
                    Focus::Files => Focus::Acked,
                    Focus::Acked => Focus::Files,
                };
                BrowserAction::None
            }
            (_, PaneAction::Play) | (Focus::Acked, PaneAction::Activate) => self.play(acked),
            (Focus::Acked, PaneAction::Up) => {
                self.acked_selected = self.acked_selected.saturating_sub(1);
                BrowserAction::None
            }
            (Focus::Acked, PaneAction::Down) => {
                self.acked_selected = (self.acked_selected + 1).min(acked.len().saturating_sub(1));
                BrowserAction::None
            }
            (Focus::Acked, _) => BrowserAction::None,
            (Focus::Files, action) => self.on_files_action(action),
        }
    }

    fn escape(&mut self) -> BrowserAction {
        if self.filter == Filter::Off {
            return BrowserAction::Close;
        }
        let keep = self.highlighted().map(|e| e.name.clone());
        self.filter = Filter::Off;
        self.refilter(keep.as_deref());
        BrowserAction::None
    }

    fn play(&mut self, acked: &[WavName]) -> BrowserAction {
        match acked.get(self.acked_selected) {
            Some(name) => BrowserAction::Play(name.clone()),
            None => {
                self.notice = Some("nothing was acknowledged yet: upload a file first".into());
                BrowserAction::None
            }
        }
    }

    fn on_files_action(&mut self, action: PaneAction) -> BrowserAction {
        match action {
            PaneAction::Up => self.move_by(-1),
            PaneAction::Down => self.move_by(1),
            PaneAction::PageUp => self.move_by(-(PAGE as isize)),
            PaneAction::PageDown => self.move_by(PAGE as isize),
            PaneAction::First => self.move_by(isize::MIN),
            PaneAction::Last => self.move_by(isize::MAX),
            PaneAction::Activate => return self.activate(),
            PaneAction::Into if self.highlighted().is_some_and(Entry::is_dir) => return self.activate(),
            PaneAction::Parent => self.parent(),
            PaneAction::Home => self.home(),
            PaneAction::Filter => self.filter = Filter::Typing(self.filter.text().to_string()),
            PaneAction::TypePath => self.path_input = Some(String::new()),
            PaneAction::ToggleAll => self.toggle_show(),
            PaneAction::Into | PaneAction::SwitchList | PaneAction::Play | PaneAction::Close => {}
        }
        BrowserAction::None
    }

    /// Typing the filter: letters go into it, not to the table.
    fn on_filter_key(&mut self, key: Key, mut text: String) -> BrowserAction {
        let keep = self.highlighted().map(|e| e.name.clone());
        match key {
            Key::Esc => {
                self.filter = Filter::Off;
                self.refilter(keep.as_deref());
                return BrowserAction::None;
            }
            Key::Enter => {
                self.filter = if text.is_empty() { Filter::Off } else { Filter::Applied(text) };
                // One Enter both ends typing and opens or picks the highlighted row.
                return self.activate();
            }
            Key::Up => return self.nav(-1),
            Key::Down => return self.nav(1),
            Key::Tab => {
                self.filter = if text.is_empty() { Filter::Off } else { Filter::Applied(text) };
                self.focus = Focus::Acked;
                return BrowserAction::None;
            }
            Key::Backspace => {
                if text.pop().is_none() {
                    self.filter = Filter::Off;
                    return BrowserAction::None;
                }
            }
            Key::Char(c) => text.push(c),
            _ => return BrowserAction::None,
        }
        self.filter = Filter::Typing(text);
        self.refilter(keep.as_deref());
        BrowserAction::None
    }

    /// Typing a folder after `:`: Enter goes there, Esc forgets it.
    fn on_path_key(&mut self, key: Key, mut text: String) -> BrowserAction {
        match key {
            Key::Enter => {
                if !text.trim().is_empty() {
                    self.go_typed(&text);
                }
                return BrowserAction::None;
            }
            Key::Esc => return BrowserAction::None,
            Key::Backspace => {
                text.pop();
            }
            Key::Char(c) => text.push(c),
            _ => {}
        }
        self.path_input = Some(text);
        BrowserAction::None
    }

    fn nav(&mut self, by: isize) -> BrowserAction {
        self.move_by(by);
        BrowserAction::None
    }
}
