//! The one key table of the dashboard: every [`Action`] with its keys, its short label and its
//! help text. The footer, the help overlay, the line-mode menu, line-mode parsing and key
//! dispatch are all derived from [`BINDINGS`]; adding a key is one line here.
//!
//! Keys reach the app as a neutral [`Key`]: [`translate`] turns a terminal event into one at
//! the edge, so nothing past it needs crossterm to decide what a key means.

use std::sync::OnceLock;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::command::{Command, Needs, Parsed};

/// A key press, free of any terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Char(char),
    /// A letter with Control held, lower case.
    Ctrl(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    F(u8),
}

impl Key {
    /// How the key is written in hints and help.
    pub fn label(self) -> String {
        match self {
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Enter => "Enter".into(),
            Key::Esc => "Esc".into(),
            Key::Tab => "Tab".into(),
            Key::BackTab => "S-Tab".into(),
            Key::Backspace => "Bksp".into(),
            Key::Delete => "Del".into(),
            Key::Up => "Up".into(),
            Key::Down => "Down".into(),
            Key::Left => "Left".into(),
            Key::Right => "Right".into(),
            Key::PageUp => "PgUp".into(),
            Key::PageDown => "PgDn".into(),
            Key::Home => "Home".into(),
            Key::End => "End".into(),
            Key::F(n) => format!("F{n}"),
        }
    }

    /// The edit a text field makes of this key (tui-input's own request type, so the
    /// fields need no terminal events either).
    pub fn edit(self) -> Option<tui_input::InputRequest> {
        use tui_input::InputRequest as R;
        Some(match self {
            Key::Char(c) => R::InsertChar(c),
            Key::Backspace | Key::Ctrl('h') => R::DeletePrevChar,
            Key::Delete => R::DeleteNextChar,
            Key::Left | Key::Ctrl('b') => R::GoToPrevChar,
            Key::Right | Key::Ctrl('f') => R::GoToNextChar,
            Key::Home | Key::Ctrl('a') => R::GoToStart,
            Key::End | Key::Ctrl('e') => R::GoToEnd,
            Key::Ctrl('u') => R::DeleteLine,
            Key::Ctrl('w') => R::DeletePrevWord,
            Key::Ctrl('k') => R::DeleteTillEnd,
            _ => return None,
        })
    }
}

/// The edge: a terminal key event as a [`Key`]; `None` for releases and keys nothing uses.
pub fn translate(ev: KeyEvent) -> Option<Key> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    // AltGr arrives as Control+Alt on some terminals: it types a character.
    let altgr = ctrl && ev.modifiers.contains(KeyModifiers::ALT);
    Some(match ev.code {
        KeyCode::Char(c) if ctrl && !altgr => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Delete => Key::Delete,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::F(n) => Key::F(n),
        _ => return None,
    })
}

/// How far the log moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    LineUp,
    LineDown,
    PageUp,
    PageDown,
    Top,
    Bottom,
}

/// Everything a key can ask of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CallDefault,
    Dial,
    Hangup,
    Stats,
    Upload,
    Play,
    Save,
    /// Save the current (or last) call's packets as a pcap.
    SavePcap,
    Quit,
    Help,
    Reconnect,
    Scroll(Scroll),
    /// Type a search of the log.
    Search,
    /// The next match, older.
    SearchOlder,
    /// The previous match, newer.
    SearchNewer,
    /// Close what is open (nothing, on the dashboard itself).
    Close,
    /// The next pane takes the keys (log, streams, history).
    FocusNext,
    /// The previous pane takes the keys.
    FocusPrev,
    /// A detail view of the selected stream or call.
    Zoom,
    /// The DTMF keypad (line mode: `d <digits>`).
    Keypad,
}

impl Action {
    /// What the action is as a line-mode input line, given the rest of the line: `None`
    /// when line mode has no such command.
    pub fn line(self, arg: Option<&str>) -> Option<Parsed> {
        let with = |needs: Needs, make: fn(String) -> Command| match arg {
            Some(a) if !a.is_empty() => Parsed::Run(make(a.to_string())),
            _ => Parsed::Ask(needs),
        };
        Some(match self {
            Action::CallDefault => Parsed::Run(Command::CallDefault),
            Action::Dial => with(Needs::Number, Command::Call),
            Action::Hangup => Parsed::Run(Command::Hangup),
            Action::Stats => Parsed::Run(Command::Stats),
            Action::Upload => with(Needs::Path, |p| Command::Upload(p.into())),
            Action::Play => with(Needs::Name, Command::Play),
            Action::Save if arg == Some("all") => Parsed::Run(Command::SaveAll),
            Action::Save => Parsed::Run(Command::Save),
            Action::SavePcap => Parsed::Run(Command::SavePcap),
            Action::Quit => Parsed::Run(Command::Quit),
            Action::Reconnect => Parsed::Run(Command::Reconnect),
            Action::Keypad => with(Needs::Digits, Command::Dtmf),
            Action::Help | Action::Scroll(_) | Action::Search | Action::SearchOlder | Action::SearchNewer | Action::Close => {
                return None
            }
            Action::FocusNext | Action::FocusPrev | Action::Zoom => return None,
        })
    }

    /// The argument line mode wants after the key, as the menu writes it.
    fn line_arg(self) -> Option<&'static str> {
        match self {
            Action::Dial => Some("<number>"),
            Action::Upload => Some("<wav path>"),
            Action::Play => Some("<wav name>"),
            Action::Keypad => Some("<digits>"),
            _ => None,
        }
    }
}

/// Where a binding is shown besides the help overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// In the footer, with its label.
    Footer,
    /// Only in the help overlay (and the line-mode menu, for line commands).
    Help,
}

/// One row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The first key is the one the footer and the line menu name.
    pub keys: &'static [Key],
    pub action: Action,
    /// Short label for the footer and the line-mode menu.
    pub label: &'static str,
    /// The help overlay's text; consecutive rows with the same text share one help row.
    pub help: &'static str,
    pub shown: Shown,
    /// Words line mode takes for it besides its keys.
    pub words: &'static [&'static str],
}

const fn bind(
    keys: &'static [Key],
    action: Action,
    label: &'static str,
    help: &'static str,
    shown: Shown,
    words: &'static [&'static str],
) -> Binding {
    Binding { keys, action, label, help, shown, words }
}

use Key::Char as C;
use Shown::{Footer, Help};

/// The dashboard's keys. Order is the order of the footer, the help and the line menu.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    bind(&[C('1')],                    Action::CallDefault,            "call",      "call the default number",            Footer, &[]),
    bind(&[C('2'), C('c')],            Action::Dial,                   "dial",      "call a number you type",             Footer, &["call"]),
    bind(&[C('3'), C('h')],            Action::Hangup,                 "hang up",   "hang up",                            Footer, &["hangup"]),
    bind(&[C('4')],                    Action::Stats,                  "stats",     "write statistics to the log",        Footer, &["stats"]),
    bind(&[C('5'), C('u')],            Action::Upload,                 "upload",    "browse and upload WAV files",        Footer, &["upload"]),
    bind(&[C('6'), C('p')],            Action::Play,                   "play",      "play an uploaded WAV on the server", Footer, &["play"]),
    bind(&[C('7'), C('s')],            Action::Save,                   "save",      "save received audio as WAV",         Footer, &["save"]),
    bind(&[C('8'), C('q'), Key::Ctrl('c')], Action::Quit,              "quit",      "quit",                               Footer, &["quit", "exit"]),
    bind(&[C('?')],                    Action::Help,                   "help",      "this help",                          Footer, &[]),
    bind(&[C('P')],                    Action::SavePcap,               "pcap",      "save the call's packets as a pcap",  Help,   &["pcap"]),
    bind(&[C('d')],                    Action::Keypad,                 "keypad",    "DTMF keypad (during a call)",        Help,   &["dtmf"]),
    bind(&[C('r')],                    Action::Reconnect,              "reconnect", "reconnect now",                      Help,   &["reconnect"]),
    bind(&[Key::Up, C('k')],           Action::Scroll(Scroll::LineUp),   "up",      "a row up (log, or the list in focus)", Help,   &[]),
    bind(&[Key::Down, C('j')],         Action::Scroll(Scroll::LineDown), "down",    "a row down (log, or the list in focus)", Help,   &[]),
    bind(&[Key::PageUp],               Action::Scroll(Scroll::PageUp),   "page up", "log: a page up, down",               Help,   &[]),
    bind(&[Key::PageDown],             Action::Scroll(Scroll::PageDown), "page down", "log: a page up, down",             Help,   &[]),
    bind(&[Key::Home, C('g')],         Action::Scroll(Scroll::Top),      "top",     "log: the oldest line",               Help,   &[]),
    bind(&[Key::End, C('G')],          Action::Scroll(Scroll::Bottom),   "bottom",  "log: the newest, following",         Help,   &[]),
    bind(&[C('/')],                    Action::Search,                 "search",    "search the log",                     Help,   &[]),
    bind(&[C('n')],                    Action::SearchOlder,            "next",      "next match (older), previous",       Help,   &[]),
    bind(&[C('N')],                    Action::SearchNewer,            "previous",  "next match (older), previous",       Help,   &[]),
    bind(&[Key::Esc],                  Action::Close,                  "close",     "close what is open (q too)",         Help,   &[]),
    bind(&[Key::Tab],                  Action::FocusNext,              "next pane", "focus: next pane (log, streams, calls), previous", Help, &[]),
    bind(&[Key::BackTab],              Action::FocusPrev,              "prev pane", "focus: next pane (log, streams, calls), previous", Help, &[]),
    bind(&[Key::Enter],                Action::Zoom,                   "zoom",      "details of the selected stream or call", Help, &[]),
];

/// What `key` does on the dashboard.
pub fn action_for(key: Key) -> Option<Action> {
    BINDINGS.iter().find(|b| b.keys.contains(&key)).map(|b| b.action)
}

/// The footer: (key, label) of each binding shown there.
pub fn footer() -> impl Iterator<Item = (String, &'static str)> {
    BINDINGS.iter().filter(|b| b.shown == Footer).map(|b| (b.keys[0].label(), b.label))
}

/// The help overlay's rows: (keys, text). A binding's keys are joined with ` / `; rows that
/// share a text (the log's scroll keys) are merged, their keys joined with a space.
pub fn help_rows() -> Vec<(String, &'static str)> {
    let mut rows: Vec<(String, &'static str)> = Vec::new();
    for b in BINDINGS.iter().filter(|b| b.action != Action::Help) {
        let keys = b.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(" / ");
        match rows.last_mut() {
            Some((k, text)) if *text == b.help => {
                k.push(' ');
                k.push_str(&keys);
            }
            _ => rows.push((keys, b.help)),
        }
    }
    rows
}

/// Commands line mode reads that have no key (its own pauses), appended to the menu.
pub const LINE_ONLY: &[&str] = &["wait <s>", "wait-for <text> [s]"];

/// The line-mode menu, printed at start and after an unknown command.
pub fn line_menu() -> &'static str {
    static MENU: OnceLock<String> = OnceLock::new();
    MENU.get_or_init(|| {
        let items = BINDINGS.iter().filter(|b| b.action.line(None).is_some()).map(|b| {
            let what = b.action.line_arg().unwrap_or(b.label);
            format!("{} {what}", b.keys[0].label())
        });
        let all: Vec<String> = items.chain(LINE_ONLY.iter().map(|s| s.to_string())).collect();
        format!("commands: {}", all.join(" | "))
    })
}

/// [`line_menu`] as a constant, for front ends that keep their menu in one (`const MENU`).
#[derive(Debug, Clone, Copy)]
pub struct LineMenu;

impl AsRef<str> for LineMenu {
    fn as_ref(&self) -> &str {
        line_menu()
    }
}

impl std::fmt::Display for LineMenu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(line_menu())
    }
}

/// The action a line-mode word or key character names (`2`, `c`, `call`).
pub fn line_action(head: &str) -> Option<Action> {
    let mut chars = head.chars();
    let single = match (chars.next(), chars.next()) {
        (Some(c), None) => Some(Key::Char(c)),
        _ => None,
    };
    BINDINGS
        .iter()
        .filter(|b| b.action.line(None).is_some())
        .find(|b| b.words.contains(&head) || single.is_some_and(|k| b.keys.contains(&k)))
        .map(|b| b.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_means_one_thing() {
        let mut seen = std::collections::HashMap::new();
        for b in BINDINGS {
            for k in b.keys {
                if let Some(other) = seen.insert(*k, b.action) {
                    panic!("{k:?} is bound to {other:?} and {:?}", b.action);
                }
            }
        }
    }

    #[test]
    fn the_edge_drops_releases_and_reads_control() {
        let press = |code, mods| translate(KeyEvent::new(code, mods));
        assert_eq!(press(KeyCode::Char('c'), KeyModifiers::CONTROL), Some(Key::Ctrl('c')));
        assert_eq!(press(KeyCode::Char('Q'), KeyModifiers::SHIFT), Some(Key::Char('Q')));
        assert_eq!(press(KeyCode::Char('@'), KeyModifiers::CONTROL | KeyModifiers::ALT), Some(Key::Char('@')));
        let mut release = KeyEvent::new(KeyCode::Char('1'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(translate(release), None);
        assert_eq!(action_for(Key::Ctrl('c')), Some(Action::Quit));
        assert_eq!(action_for(Key::Char('u')), Some(Action::Upload));
    }

    #[test]
    fn footer_help_and_menu_come_from_the_table() {
        let footer: Vec<String> = footer().map(|(k, l)| format!("{k} {l}")).collect();
        assert_eq!(footer.join("  "), "1 call  2 dial  3 hang up  4 stats  5 upload  6 play  7 save  8 quit  ? help");
        let help = help_rows();
        assert!(help.contains(&("8 / q / Ctrl-C".into(), "quit")));
        assert!(help.contains(&("PgUp PgDn".into(), "log: a page up, down")));
        assert!(help.contains(&("n N".into(), "next match (older), previous")));
        assert_eq!(
            line_menu(),
            "commands: 1 call | 2 <number> | 3 hang up | 4 stats | 5 <wav path> | 6 <wav name> | 7 save | 8 quit | P pcap | d <digits> | r reconnect | wait <s> | wait-for <text> [s]"
        );
        assert_eq!(line_action("c"), Some(Action::Dial));
        assert_eq!(line_action("exit"), Some(Action::Quit));
        assert_eq!(line_action("?"), None);
    }
}
