//! The file-browser pane's state: where it is, what it lists, what is highlighted, the
//! filter being typed, and the header of the highlighted WAV. Keys go in through
//! [`Browser::on_key`], which says what the app should do next as a [`BrowserAction`].
//!
//! The disk is touched in two places only: [`read_dir`] lists a folder and
//! [`crate::convert::inspect`] reads the head of the highlighted file. Everything else is
//! pure navigation over the listed entries.

use std::io;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::convert::{self, Inspection};
use crate::protocol::WavName;

/// Rows a PageUp/PageDown moves.
const PAGE: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File { size: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Dir
    }

    pub fn is_hidden(&self) -> bool {
        self.name.starts_with('.')
    }

    pub fn is_wav(&self) -> bool {
        !self.is_dir() && Path::new(&self.name).extension().is_some_and(|e| e.eq_ignore_ascii_case("wav"))
    }
}

/// Which files the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Folders and `.wav` files, hidden ones left out.
    Wavs,
    /// Every folder and file, hidden ones too.
    All,
}

/// The name filter, started with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Off,
    /// Being typed: letters go into the filter, not to the key bindings.
    Typing(String),
    /// Typed and kept; the keys navigate again.
    Applied(String),
}

impl Filter {
    pub fn text(&self) -> &str {
        match self {
            Filter::Off => "",
            Filter::Typing(t) | Filter::Applied(t) => t,
        }
    }
}

/// Which of the pane's two lists takes the arrow keys and Enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Files,
    Acked,
}

/// The header of the highlighted file, or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    pub path: PathBuf,
    pub inspection: Result<Inspection, String>,
}

/// What the app should do after a key.
#[derive(Debug, Clone, PartialEq)]
pub enum BrowserAction {
    None,
    Close,
    /// A file was chosen; its inspection says whether it is ready, convertible or broken.
    Pick { path: PathBuf, inspection: Inspection },
    /// Play an acknowledged upload on the server.
    Play(WavName),
}

#[derive(Debug, Clone)]
pub struct Browser {
    cwd: PathBuf,
    home: Option<PathBuf>,
    /// Every entry of `cwd`, folders first, each group by name.
    entries: Vec<Entry>,
    /// Indices into `entries` that pass `show` and `filter`, in order.
    visible: Vec<usize>,
    /// Index into `visible`.
    selected: usize,
    filter: Filter,
    show: Show,
    focus: Focus,
    acked_selected: usize,
    info: Option<FileInfo>,
    /// The last thing that went wrong (a folder that cannot be read, a file not picked).
    notice: Option<String>,
}

/// List a folder: folders first, then files, each group sorted by name ignoring case.
/// Symbolic links count as what they point to; a dangling link is a file of size 0.
pub fn read_dir(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let kind = match std::fs::metadata(e.path()) {
            Ok(m) if m.is_dir() => EntryKind::Dir,
            Ok(m) => EntryKind::File { size: m.len() },
            Err(_) => EntryKind::File { size: 0 },
        };
        entries.push(Entry { name, kind });
    }
    sort_entries(&mut entries);
    Ok(entries)
}

fn sort_entries(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        b.is_dir()
            .cmp(&a.is_dir())
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
}

impl Browser {
    /// Open the pane on `start` (made absolute, so the parent of `.` is where the user
    /// expects); `home` is where `~` goes.
    pub fn new(start: &Path, home: Option<PathBuf>) -> Browser {
        let cwd = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
        let mut b = Browser {
            cwd: cwd.clone(),
            home,
            entries: Vec::new(),
            visible: Vec::new(),
            selected: 0,
            filter: Filter::Off,
            show: Show::Wavs,
            focus: Focus::Files,
            acked_selected: 0,
            info: None,
            notice: None,
        };
        if let Err(e) = b.change_dir(cwd) {
            b.notice = Some(format!("cannot open {}: {e}", start.display()));
        }
        b
    }

    /// The user's home folder from the environment.
    pub fn env_home() -> Option<PathBuf> {
        std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
    }

    // ---- what the renderer reads ----------------------------------------------------------

    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The folder for a title: under home it starts with `~`.
    pub fn cwd_label(&self) -> String {
        match self.home.as_deref().and_then(|h| self.cwd.strip_prefix(h).ok()) {
            Some(rest) if rest.as_os_str().is_empty() => "~".into(),
            Some(rest) => format!("~/{}", rest.display()),
            None => self.cwd.display().to_string(),
        }
    }

    pub fn visible(&self) -> impl Iterator<Item = &Entry> {
        self.visible.iter().map(|&i| &self.entries[i])
    }

    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn highlighted(&self) -> Option<&Entry> {
        self.visible.get(self.selected).map(|&i| &self.entries[i])
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    pub fn show(&self) -> Show {
        self.show
    }

    pub fn focus(&self) -> Focus {
        self.focus
    }

    pub fn acked_selected(&self) -> usize {
        self.acked_selected
    }

    /// The header of the highlighted file, when a file is highlighted.
    pub fn info(&self) -> Option<&FileInfo> {
        self.info.as_ref()
    }

    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Say something in the pane (e.g. why a pick was not uploaded).
    pub fn set_notice(&mut self, text: impl Into<String>) {
        self.notice = Some(text.into());
    }

    // ---- navigation -----------------------------------------------------------------------

    /// Read the folder again (files come and go while the pane is closed), keeping the
    /// highlighted entry when it is still there.
    pub fn reload(&mut self) {
        let keep = self.highlighted().map(|e| e.name.clone());
        match read_dir(&self.cwd) {
            Ok(entries) => {
                self.entries = entries;
                self.refilter(keep.as_deref());
            }
            Err(e) => self.notice = Some(format!("cannot read {}: {e}", self.cwd.display())),
        }
    }

    /// Show the pane again where it was left, without the filter and notice of last time
    /// (a forgotten filter would hide files) and with the folder read again.
    pub fn reopen(&mut self) {
        self.filter = Filter::Off;
        self.focus = Focus::Files;
        self.notice = None;
        self.reload();
    }

    /// Go into `dir`; on failure stay where we are and say why.
    pub fn change_dir(&mut self, dir: PathBuf) -> io::Result<()> {
        let entries = read_dir(&dir)?;
        self.cwd = dir;
        self.entries = entries;
        self.filter = Filter::Off;
        self.notice = None;
        self.refilter(None);
        Ok(())
    }

    fn go(&mut self, dir: PathBuf, then_select: Option<&str>) {
        match self.change_dir(dir.clone()) {
            Ok(()) => {
                if let Some(name) = then_select {
                    self.select_name(name);
                }
            }
            Err(e) => self.notice = Some(format!("cannot open {}: {e}", dir.display())),
        }
    }

    pub fn parent(&mut self) {
        let Some(parent) = self.cwd.parent().map(Path::to_path_buf) else { return };
        let came_from = self.cwd.file_name().map(|n| n.to_string_lossy().into_owned());
        self.go(parent, came_from.as_deref());
    }

    pub fn home(&mut self) {
        match self.home.clone() {
            Some(h) => self.go(h, None),
            None => self.notice = Some("no home folder is known (HOME is not set)".into()),
        }
    }

    pub fn toggle_show(&mut self) {
        self.show = match self.show {
            Show::Wavs => Show::All,
            Show::All => Show::Wavs,
        };
        let keep = self.highlighted().map(|e| e.name.clone());
        self.refilter(keep.as_deref());
    }

    /// Move the highlight by `by` rows, stopping at the ends.
    pub fn move_by(&mut self, by: isize) {
        let last = self.visible.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize).saturating_add(by).clamp(0, last) as usize;
        self.refresh_info();
    }

    pub fn select_name(&mut self, name: &str) {
        if let Some(pos) = self.visible.iter().position(|&i| self.entries[i].name == name) {
            self.selected = pos;
        }
        self.refresh_info();
    }

    fn passes(&self, e: &Entry) -> bool {
        let shown = match self.show {
            Show::All => true,
            Show::Wavs => !e.is_hidden() && (e.is_dir() || e.is_wav()),
        };
        let text = self.filter.text();
        shown && (text.is_empty() || e.name.to_lowercase().contains(&text.to_lowercase()))
    }

    /// Recompute the visible rows, keeping `keep` highlighted when it is still shown.
    fn refilter(&mut self, keep: Option<&str>) {
        self.visible = (0..self.entries.len()).filter(|&i| self.passes(&self.entries[i])).collect();
        self.selected = keep
            .and_then(|k| self.visible.iter().position(|&i| self.entries[i].name == k))
            .unwrap_or(0);
        self.refresh_info();
    }

    /// Read the header of the highlighted file when it changed.
    fn refresh_info(&mut self) {
        let path = match self.highlighted() {
            Some(e) if !e.is_dir() => self.cwd.join(&e.name),
            _ => {
                self.info = None;
                return;
            }
        };
        if self.info.as_ref().is_some_and(|i| i.path == path) {
            return;
        }
        let inspection = convert::inspect(&path).map_err(|e| e.to_string());
        self.info = Some(FileInfo { path, inspection });
    }

    /// Enter on the highlighted row: go into a folder, or pick a file.
    fn activate(&mut self) -> BrowserAction {
        let Some(entry) = self.highlighted().cloned() else { return BrowserAction::None };
        let path = self.cwd.join(&entry.name);
        if entry.is_dir() {
            self.go(path, None);
            return BrowserAction::None;
        }
        // Read the header again: the file may have changed since it was highlighted.
        self.info = None;
        self.refresh_info();
        match self.info.as_ref().map(|i| &i.inspection) {
            Some(Ok(inspection)) => BrowserAction::Pick { path, inspection: inspection.clone() },
            Some(Err(e)) => {
                self.notice = Some(format!("cannot read {}: {e}", entry.name));
                BrowserAction::None
            }
            None => BrowserAction::None,
        }
    }

    // ---- keys -----------------------------------------------------------------------------

    /// Fold a key. `acked` is the list of uploads the server acknowledged, newest first,
    /// as the pane shows it.
    pub fn on_key(&mut self, key: KeyEvent, acked: &[WavName]) -> BrowserAction {
        if key.kind == KeyEventKind::Release {
            return BrowserAction::None;
        }
        self.acked_selected = self.acked_selected.min(acked.len().saturating_sub(1));
        if let Filter::Typing(text) = &self.filter {
            let text = text.clone();
            return self.on_filter_key(key, text);
        }
        match (self.focus, key.code) {
            (_, KeyCode::Esc) => self.escape(),
            (_, KeyCode::Tab | KeyCode::BackTab) => {
                self.focus = match self.focus {
                    Focus::Files => Focus::Acked,
                    Focus::Acked => Focus::Files,
                };
                BrowserAction::None
            }
            (_, KeyCode::Char('6')) => self.play(acked),
            (Focus::Acked, KeyCode::Enter) => self.play(acked),
            (Focus::Acked, code) => {
                match code {
                    KeyCode::Up | KeyCode::Char('k') => self.acked_selected = self.acked_selected.saturating_sub(1),
                    KeyCode::Down | KeyCode::Char('j') => {
                        self.acked_selected = (self.acked_selected + 1).min(acked.len().saturating_sub(1))
                    }
                    _ => {}
                }
                BrowserAction::None
            }
            (Focus::Files, code) => self.on_files_key(code, key.modifiers),
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

    fn on_files_key(&mut self, code: KeyCode, mods: KeyModifiers) -> BrowserAction {
        match code {
            KeyCode::Up | KeyCode::Char('k') => self.move_by(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_by(1),
            KeyCode::PageUp => self.move_by(-(PAGE as isize)),
            KeyCode::PageDown => self.move_by(PAGE as isize),
            KeyCode::Home | KeyCode::Char('g') => self.move_by(isize::MIN),
            KeyCode::End | KeyCode::Char('G') => self.move_by(isize::MAX),
            KeyCode::Enter => return self.activate(),
            KeyCode::Right | KeyCode::Char('l') if self.highlighted().is_some_and(Entry::is_dir) => {
                return self.activate();
            }
            KeyCode::Backspace | KeyCode::Left => self.parent(),
            KeyCode::Char('~') => self.home(),
            KeyCode::Char('/') => {
                self.filter = Filter::Typing(self.filter.text().to_string());
            }
            KeyCode::Char('a') if !mods.contains(KeyModifiers::CONTROL) => self.toggle_show(),
            _ => {}
        }
        BrowserAction::None
    }

    fn on_filter_key(&mut self, key: KeyEvent, mut text: String) -> BrowserAction {
        let keep = self.highlighted().map(|e| e.name.clone());
        match key.code {
            KeyCode::Esc => {
                self.filter = Filter::Off;
                self.refilter(keep.as_deref());
                return BrowserAction::None;
            }
            KeyCode::Enter => {
                self.filter = if text.is_empty() { Filter::Off } else { Filter::Applied(text) };
                // One Enter both ends typing and opens or picks the highlighted row.
                return self.activate();
            }
            KeyCode::Up => return self.nav(-1),
            KeyCode::Down => return self.nav(1),
            KeyCode::Tab => {
                self.filter = if text.is_empty() { Filter::Off } else { Filter::Applied(text) };
                self.focus = Focus::Acked;
                return BrowserAction::None;
            }
            KeyCode::Backspace => {
                if text.pop().is_none() {
                    self.filter = Filter::Off;
                    return BrowserAction::None;
                }
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
            _ => return BrowserAction::None,
        }
        self.filter = Filter::Typing(text);
        self.refilter(keep.as_deref());
        BrowserAction::None
    }

    fn nav(&mut self, by: isize) -> BrowserAction {
        self.move_by(by);
        BrowserAction::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, dir: bool) -> Entry {
        Entry { name: name.into(), kind: if dir { EntryKind::Dir } else { EntryKind::File { size: 1 } } }
    }

    #[test]
    fn folders_first_then_names_ignoring_case() {
        let mut v = vec![e("b.wav", false), e("Zed", true), e("A.WAV", false), e("alpha", true), e("a.wav", false)];
        sort_entries(&mut v);
        let names: Vec<&str> = v.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["alpha", "Zed", "A.WAV", "a.wav", "b.wav"]);
        assert!(e("X.Wav", false).is_wav());
        assert!(!e("x.wav", true).is_wav());
        assert!(!e("wav", false).is_wav());
    }
}
