//! The file-browser pane's state: where it is, what it lists, what is highlighted, the
//! filter being typed, and the header of the highlighted WAV. Keys go in through
//! [`Browser::on_key`], which says what the app should do next as a [`BrowserAction`].
//!
//! The pane never touches the disk: on a slow or network drive that would freeze the keys
//! and the redraw. What it needs read is queued as a [`Request`] ([`Browser::take_requests`]);
//! the runner does it on a blocking thread with [`list`] or [`crate::client::files::inspect`] and
//! hands the answer back through [`Browser::on_listed`] and [`Browser::on_inspected`].
//! Answers for a folder or file that is no longer wanted are dropped. Everything else is pure
//! navigation over the entries listed last.

use std::io;
use std::path::{Component, Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::core::convert::Inspection;
use crate::core::protocol::WavName;

/// Rows a PageUp/PageDown moves.
const PAGE: usize = 10;
/// Headers read at once. A file that never answers (a FIFO, a dead mount) holds one slot,
/// not the info box; holding a key down over a long list does not queue a read per row.
const MAX_INSPECTING: usize = 4;

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

/// What the app should do after a key (or after a header it waited for arrived).
#[derive(Debug, Clone, PartialEq)]
pub enum BrowserAction {
    None,
    Close,
    /// A file was chosen; its inspection, read after Enter, says whether it is ready,
    /// convertible or broken.
    Pick { path: PathBuf, inspection: Inspection },
    /// Play an acknowledged upload on the server.
    Play(WavName),
}

/// Disk work the pane asks for. The answers go to [`Browser::on_listed`] and
/// [`Browser::on_inspected`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// List a folder with [`list`].
    List(PathBuf),
    /// Read the head of a file with [`crate::client::files::inspect`].
    Inspect(PathBuf),
}

/// A folder as [`list`] read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The folder, made absolute when it was asked for relative or with `..` in it.
    pub dir: PathBuf,
    /// Folders first, each group by name.
    pub entries: Vec<Entry>,
}

/// What a listing does when it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arrival {
    /// Go into the folder (the filter and the notice go), highlighting `select` if it is there.
    Enter { select: Option<String> },
    /// The folder shown, read again: the filter and the highlighted entry stay.
    Refresh,
}

/// The listing asked for last; an answer for any other folder is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PendingList {
    dir: PathBuf,
    then: Arrival,
}

#[derive(Debug, Clone)]
pub struct Browser {
    cwd: PathBuf,
    home: Option<PathBuf>,
    /// Every entry of `cwd` as last listed, folders first, each group by name.
    entries: Vec<Entry>,
    /// Indices into `entries` that pass `show` and `filter`, in order.
    visible: Vec<usize>,
    /// Index into `visible`.
    selected: usize,
    filter: Filter,
    show: Show,
    focus: Focus,
    acked_selected: usize,
    /// The header of the highlighted file, once read; `None` while it is being read.
    info: Option<FileInfo>,
    /// The last thing that went wrong (a folder that cannot be read, a file not picked).
    notice: Option<String>,
    /// The folder being read, if any.
    listing: Option<PendingList>,
    /// Files whose head is being read (at most [`MAX_INSPECTING`]).
    inspecting: Vec<PathBuf>,
    /// Enter was pressed on this file: it is picked when its header, read again, arrives,
    /// unless the highlight moved or the pane closed first.
    picking: Option<PathBuf>,
    /// Disk work not yet handed to the runner.
    requests: Vec<Request>,
}

/// List a folder: folders first, then files, each group sorted by name ignoring case.
/// Symbolic links count as what they point to; a dangling link is a file of size 0.
/// Blocks on the disk: the app never calls it; the runner does, on a blocking thread.
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

/// Answer a [`Request::List`]: [`read_dir`], with the folder made absolute first when it is
/// relative or has `..` in it (so the parent of `.` is where the user expects). Blocks.
pub fn list(dir: &Path) -> io::Result<Listing> {
    let dir = if is_plain_absolute(dir) { dir.to_path_buf() } else { std::fs::canonicalize(dir)? };
    Ok(Listing { entries: read_dir(&dir)?, dir })
}

/// Absolute with no `..`: the parent is a prefix of the path, no disk needed to find it.
fn is_plain_absolute(p: &Path) -> bool {
    p.is_absolute() && p.components().all(|c| !matches!(c, Component::ParentDir | Component::CurDir))
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
    /// Open the pane on `start`; `home` is where `~` goes. The pane is empty and says it is
    /// reading until the listing it asks for arrives.
    pub fn new(start: &Path, home: Option<PathBuf>) -> Browser {
        let mut b = Browser {
            cwd: start.to_path_buf(),
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
            listing: None,
            inspecting: Vec::new(),
            picking: None,
            requests: Vec::new(),
        };
        b.go(start.to_path_buf(), None);
        b
    }

    /// The user's home folder from the environment.
    pub fn env_home() -> Option<PathBuf> {
        std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
    }

    // ---- disk work, asked for and answered -------------------------------------------------

    /// The reads asked for since the last call, for the runner to do off the UI thread.
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    /// Fold the answer to a [`Request::List`] of `dir`. A folder that cannot be read leaves
    /// the pane where it was, with the reason as its notice.
    pub fn on_listed(&mut self, dir: &Path, result: Result<Listing, String>) {
        let Some(pending) = self.listing.take_if(|p| p.dir == dir) else { return };
        match (result, pending.then) {
            (Ok(listing), Arrival::Enter { select }) => {
                self.cwd = listing.dir;
                self.entries = listing.entries;
                self.filter = Filter::Off;
                self.notice = None;
                self.picking = None;
                self.refilter(select.as_deref());
            }
            (Ok(listing), Arrival::Refresh) => {
                let keep = self.highlighted().map(|e| e.name.clone());
                self.entries = listing.entries;
                self.refilter(keep.as_deref());
            }
            (Err(e), Arrival::Enter { .. }) => self.notice = Some(format!("cannot open {}: {e}", dir.display())),
            (Err(e), Arrival::Refresh) => self.notice = Some(format!("cannot read {}: {e}", dir.display())),
        }
    }

    /// Fold the answer to a [`Request::Inspect`] of `path`. It fills the info box when the
    /// file is still highlighted, and is the pick when Enter was pressed on it.
    pub fn on_inspected(&mut self, path: &Path, result: Result<Inspection, String>) -> BrowserAction {
        let Some(i) = self.inspecting.iter().position(|p| p == path) else { return BrowserAction::None };
        self.inspecting.swap_remove(i);
        let mut action = BrowserAction::None;
        if self.highlighted_file().as_deref() == Some(path) {
            if self.picking.as_deref() == Some(path) {
                self.picking = None;
                action = match &result {
                    Ok(inspection) => BrowserAction::Pick { path: path.to_path_buf(), inspection: inspection.clone() },
                    Err(e) => {
                        self.notice = Some(format!("cannot read {}: {e}", shown(path)));
                        BrowserAction::None
                    }
                };
            }
            self.info = Some(FileInfo { path: path.to_path_buf(), inspection: result });
        }
        // The highlight may have moved on while this one was read.
        self.ask_inspect();
        action
    }

    // ---- what the renderer reads ----------------------------------------------------------

    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The folder for a title: under home it starts with `~`.
    pub fn cwd_label(&self) -> String {
        self.label(&self.cwd)
    }

    /// A folder as the pane names it: under home it starts with `~`.
    pub fn label(&self, dir: &Path) -> String {
        match self.home.as_deref().and_then(|h| dir.strip_prefix(h).ok()) {
            Some(rest) if rest.as_os_str().is_empty() => "~".into(),
            Some(rest) => format!("~/{}", rest.display()),
            None => dir.display().to_string(),
        }
    }

    /// The folder being read, while a listing is under way.
    pub fn reading(&self) -> Option<&Path> {
        self.listing.as_ref().map(|p| p.dir.as_path())
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

    /// The header of the highlighted file, when a file is highlighted and its header was
    /// read; `None` while it is being read.
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
        self.ask_list(self.cwd.clone(), Arrival::Refresh);
    }

    /// Show the pane again where it was left, without the filter and notice of last time
    /// (a forgotten filter would hide files): the listing of last time at once, and the
    /// folder read again in the background.
    pub fn reopen(&mut self) {
        let keep = self.highlighted().map(|e| e.name.clone());
        self.filter = Filter::Off;
        self.focus = Focus::Files;
        self.notice = None;
        self.refilter(keep.as_deref());
        // A folder still being read (the pane was closed before it came) arrives as asked.
        if self.listing.is_none() {
            self.reload();
        }
    }

    /// Go into `dir` once it is listed; if it cannot be, stay where we are and say why.
    pub fn change_dir(&mut self, dir: PathBuf) {
        self.go(dir, None);
    }

    fn go(&mut self, dir: PathBuf, then_select: Option<String>) {
        self.ask_list(dir, Arrival::Enter { select: then_select });
    }

    /// Ask for a listing; it replaces the one asked for before, whose answer is then stale.
    fn ask_list(&mut self, dir: PathBuf, then: Arrival) {
        if self.listing.as_ref().is_none_or(|p| p.dir != dir) {
            self.requests.push(Request::List(dir.clone()));
        }
        self.listing = Some(PendingList { dir, then });
    }

    pub fn parent(&mut self) {
        let Some(parent) = self.cwd.parent().map(Path::to_path_buf) else { return };
        let came_from = self.cwd.file_name().map(|n| n.to_string_lossy().into_owned());
        self.go(parent, came_from);
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

    fn highlighted_file(&self) -> Option<PathBuf> {
        self.highlighted().filter(|e| !e.is_dir()).map(|e| self.cwd.join(&e.name))
    }

    /// The highlight may have changed: drop what belongs to another file, ask for its header.
    fn refresh_info(&mut self) {
        let path = self.highlighted_file();
        if self.picking.is_some() && self.picking != path {
            self.picking = None;
        }
        if self.info.as_ref().map(|i| &i.path) != path.as_ref() {
            self.info = None;
        }
        self.ask_inspect();
    }

    /// Ask for the highlighted file's header when the info box lacks it or Enter wants it
    /// read again, unless it is being read already or too many reads are under way (the
    /// next answer asks again).
    fn ask_inspect(&mut self) {
        let Some(path) = self.highlighted_file() else { return };
        let known = self.info.as_ref().is_some_and(|i| i.path == path);
        let wanted = !known || self.picking.as_ref() == Some(&path);
        if !wanted || self.inspecting.contains(&path) || self.inspecting.len() >= MAX_INSPECTING {
            return;
        }
        self.requests.push(Request::Inspect(path.clone()));
        self.inspecting.push(path);
    }

    /// Enter on the highlighted row: go into a folder, or pick a file once its header has
    /// been read again (the file may have changed since it was highlighted).
    fn activate(&mut self) -> BrowserAction {
        let Some(entry) = self.highlighted().cloned() else { return BrowserAction::None };
        let path = self.cwd.join(&entry.name);
        if entry.is_dir() {
            self.go(path, None);
        } else {
            self.picking = Some(path);
            self.ask_inspect();
        }
        BrowserAction::None
    }

    // ---- keys -----------------------------------------------------------------------------

    /// Fold a key. `acked` is the list of uploads the server acknowledged, newest first,
    /// as the pane shows it.
    pub fn on_key(&mut self, key: KeyEvent, acked: &[WavName]) -> BrowserAction {
        let action = self.fold_key(key, acked);
        if matches!(action, BrowserAction::Close | BrowserAction::Play(_)) {
            // The pane goes away: a pick still being read is dropped with it.
            self.picking = None;
        }
        action
    }

    fn fold_key(&mut self, key: KeyEvent, acked: &[WavName]) -> BrowserAction {
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

/// A file's name for a notice.
fn shown(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
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

    // ---- the disk work, answered by hand: no disk in these tests ---------------------------

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn listing(dir: &str, entries: &[Entry]) -> Result<Listing, String> {
        Ok(Listing { dir: dir.into(), entries: entries.to_vec() })
    }

    fn ready() -> Result<Inspection, String> {
        let wav = crate::core::wav::g711_wav(crate::core::wav::Law::MuLaw, &[0xff; 800]);
        Ok(Inspection::of(&wav, wav.len() as u64))
    }

    fn list_req(p: &str) -> Request {
        Request::List(p.into())
    }

    fn inspect_req(p: &str) -> Request {
        Request::Inspect(p.into())
    }

    /// A pane on `/m` holding folders `one`, `two` and files `a.wav`, `b.wav`, listed.
    fn listed() -> Browser {
        let mut b = Browser::new(Path::new("/m"), None);
        assert_eq!(b.take_requests(), [list_req("/m")]);
        b.on_listed(Path::new("/m"), listing("/m", &[e("one", true), e("two", true), e("a.wav", false), e("b.wav", false)]));
        assert_eq!(b.reading(), None);
        b
    }

    fn highlighted(b: &Browser) -> &str {
        b.highlighted().map(|e| e.name.as_str()).unwrap_or("")
    }

    #[test]
    fn opening_only_asks_and_says_it_is_reading() {
        let mut b = Browser::new(Path::new("/m"), None);
        assert_eq!(b.reading(), Some(Path::new("/m")));
        assert_eq!(b.visible_len(), 0);
        assert_eq!(b.take_requests(), [list_req("/m")]);
        assert!(b.take_requests().is_empty(), "asked once");
        b.on_listed(Path::new("/m"), listing("/m", &[e("one", true), e("a.wav", false)]));
        assert_eq!(b.reading(), None);
        assert_eq!(highlighted(&b), "one");
        assert!(b.take_requests().is_empty(), "a folder needs no header");
        // Highlighting a file asks for its header; the info box waits for it.
        b.on_key(key(KeyCode::Down), &[]);
        assert_eq!(b.take_requests(), [inspect_req("/m/a.wav")]);
        assert_eq!(b.info(), None);
        assert_eq!(b.on_inspected(Path::new("/m/a.wav"), ready()), BrowserAction::None);
        assert_eq!(b.info().unwrap().inspection, ready());
        // Known already: moving away and back asks again, as the header may have changed.
        b.on_key(key(KeyCode::Up), &[]);
        b.on_key(key(KeyCode::Down), &[]);
        assert_eq!(b.take_requests(), [inspect_req("/m/a.wav")]);
    }

    #[test]
    fn a_folder_answered_late_is_dropped() {
        let mut b = listed();
        b.on_key(key(KeyCode::Enter), &[]); // into one/
        b.on_key(key(KeyCode::Down), &[]); // the keys still act on what is shown
        b.on_key(key(KeyCode::Enter), &[]); // into two/ instead
        assert_eq!(b.take_requests(), [list_req("/m/one"), list_req("/m/two")]);
        assert_eq!(b.reading(), Some(Path::new("/m/two")));
        b.on_listed(Path::new("/m/one"), listing("/m/one", &[e("x.wav", false)]));
        assert_eq!(b.cwd(), Path::new("/m"), "one/ is no longer wanted");
        assert_eq!(b.visible_len(), 4);
        b.on_listed(Path::new("/m/two"), listing("/m/two", &[e("y.wav", false)]));
        assert_eq!(b.cwd(), Path::new("/m/two"));
        assert_eq!(highlighted(&b), "y.wav");
        // Answered twice (asked twice): the second answer finds nothing pending.
        b.on_listed(Path::new("/m/two"), listing("/m/two", &[]));
        assert_eq!(b.visible_len(), 1);
        // Asking for the folder being read already does not read it twice.
        b.parent();
        b.parent();
        assert_eq!(b.take_requests(), [inspect_req("/m/two/y.wav"), list_req("/m")]);
        b.on_listed(Path::new("/m"), listing("/m", &[e("one", true), e("two", true)]));
        assert_eq!(highlighted(&b), "two", "the parent highlights where we came from");
    }

    #[test]
    fn a_folder_that_cannot_be_read_leaves_the_pane_where_it_was() {
        let mut b = listed();
        b.on_key(key(KeyCode::Char('/')), &[]);
        b.on_key(key(KeyCode::Char('o')), &[]);
        b.on_key(key(KeyCode::Enter), &[]); // ends typing, goes into one/
        b.take_requests();
        b.on_listed(Path::new("/m/one"), Err("Permission denied (os error 13)".into()));
        assert_eq!(b.cwd(), Path::new("/m"));
        assert_eq!(b.notice(), Some("cannot open /m/one: Permission denied (os error 13)"));
        assert_eq!(b.filter(), &Filter::Applied("o".into()), "nothing changed but the notice");
        assert_eq!(highlighted(&b), "one");
        assert_eq!(b.reading(), None);
    }

    #[test]
    fn reopening_shows_the_last_listing_at_once_and_reads_it_again() {
        let mut b = listed();
        b.on_key(key(KeyCode::Char('/')), &[]);
        b.on_key(key(KeyCode::Char('b')), &[]);
        b.take_requests();
        assert_eq!(b.visible_len(), 1);
        b.reopen();
        assert_eq!(b.filter(), &Filter::Off);
        assert_eq!(b.visible_len(), 4, "the remembered listing, unfiltered, before any answer");
        assert_eq!(highlighted(&b), "b.wav");
        assert_eq!(b.take_requests(), [list_req("/m")]);
        // The refresh keeps the highlight and the place; new files show.
        b.on_listed(Path::new("/m"), listing("/m", &[e("a.wav", false), e("b.wav", false), e("c.wav", false)]));
        assert_eq!(highlighted(&b), "b.wav");
        assert_eq!(b.visible_len(), 3);
        b.reopen();
        b.take_requests();
        b.on_listed(Path::new("/m"), Err("No such file or directory (os error 2)".into()));
        assert_eq!(b.notice(), Some("cannot read /m: No such file or directory (os error 2)"));
        assert_eq!(b.visible_len(), 3, "the last listing stays");
        // Reopened while a folder is still being read: that answer is awaited, not replaced.
        b.on_key(key(KeyCode::Backspace), &[]);
        b.reopen();
        assert_eq!(b.take_requests(), [list_req("/")], "b.wav's header is still being read from before");
        assert_eq!(b.reading(), Some(Path::new("/")));
    }

    #[test]
    fn a_header_for_a_file_no_longer_highlighted_is_not_shown() {
        let mut b = listed();
        b.select_name("a.wav");
        b.on_key(key(KeyCode::Down), &[]);
        assert_eq!(b.take_requests(), [inspect_req("/m/a.wav"), inspect_req("/m/b.wav")]);
        b.on_inspected(Path::new("/m/a.wav"), ready());
        assert_eq!(b.info(), None, "b.wav is highlighted; its header is still coming");
        b.on_inspected(Path::new("/m/b.wav"), Err("gone".into()));
        assert_eq!(b.info().unwrap().inspection, Err("gone".into()));
        // An answer nobody asked for changes nothing.
        b.on_inspected(Path::new("/m/b.wav"), ready());
        assert_eq!(b.info().unwrap().inspection, Err("gone".into()));
    }

    #[test]
    fn header_reads_are_bounded_and_the_last_highlight_wins() {
        let mut b = Browser::new(Path::new("/m"), None);
        let files: Vec<Entry> = (0..10).map(|i| e(&format!("{i}.wav"), false)).collect();
        b.on_listed(Path::new("/m"), listing("/m", &files));
        for _ in 0..9 {
            b.on_key(key(KeyCode::Down), &[]);
        }
        let asked = b.take_requests();
        assert_eq!(asked.len(), 1 + MAX_INSPECTING, "the listing and the first reads only");
        assert_eq!(asked[1..], ["/m/0.wav", "/m/1.wav", "/m/2.wav", "/m/3.wav"].map(inspect_req));
        // One answer frees a slot: it goes to the file highlighted now.
        b.on_inspected(Path::new("/m/0.wav"), ready());
        assert_eq!(b.take_requests(), [inspect_req("/m/9.wav")]);
        b.on_inspected(Path::new("/m/9.wav"), ready());
        assert_eq!(b.info().unwrap().path, Path::new("/m/9.wav"));
        for p in ["/m/1.wav", "/m/2.wav", "/m/3.wav"] {
            b.on_inspected(Path::new(p), ready());
        }
        assert!(b.take_requests().is_empty());
    }

    #[test]
    fn enter_picks_on_a_fresh_header_unless_the_highlight_moved_or_the_pane_closed() {
        let mut b = listed();
        b.select_name("a.wav");
        b.take_requests();
        b.on_inspected(Path::new("/m/a.wav"), ready());
        // Known, but read again for the pick: the file may have changed.
        assert_eq!(b.on_key(key(KeyCode::Enter), &[]), BrowserAction::None);
        assert_eq!(b.take_requests(), [inspect_req("/m/a.wav")]);
        let Ok(ins) = ready() else { unreachable!() };
        let pick = BrowserAction::Pick { path: "/m/a.wav".into(), inspection: ins };
        assert_eq!(b.on_inspected(Path::new("/m/a.wav"), ready()), pick);
        // A read under way when Enter comes serves the pick.
        b.on_key(key(KeyCode::Down), &[]);
        b.on_key(key(KeyCode::Enter), &[]);
        assert_eq!(b.take_requests(), [inspect_req("/m/b.wav")]);
        assert!(matches!(b.on_inspected(Path::new("/m/b.wav"), ready()), BrowserAction::Pick { .. }));
        // Enter, then the highlight moves: no pick.
        b.on_key(key(KeyCode::Enter), &[]);
        b.on_key(key(KeyCode::Up), &[]);
        b.take_requests();
        assert_eq!(b.on_inspected(Path::new("/m/b.wav"), ready()), BrowserAction::None);
        // Enter, then Esc: no pick either.
        b.on_inspected(Path::new("/m/a.wav"), ready());
        b.on_key(key(KeyCode::Enter), &[]);
        assert_eq!(b.on_key(key(KeyCode::Esc), &[]), BrowserAction::Close);
        b.take_requests();
        assert_eq!(b.on_inspected(Path::new("/m/a.wav"), ready()), BrowserAction::None);
        // A header that cannot be read is said, not picked.
        b.on_key(key(KeyCode::Enter), &[]);
        b.take_requests();
        assert_eq!(b.on_inspected(Path::new("/m/a.wav"), Err("gone".into())), BrowserAction::None);
        assert_eq!(b.notice(), Some("cannot read a.wav: gone"));
    }

    #[test]
    fn listing_makes_a_relative_folder_absolute() {
        assert!(is_plain_absolute(Path::new("/a/b")));
        assert!(!is_plain_absolute(Path::new("/a/../b")));
        assert!(!is_plain_absolute(Path::new("a")));
        let here = list(Path::new(".")).unwrap();
        assert_eq!(here.dir, std::fs::canonicalize(".").unwrap());
        assert!(here.entries.iter().any(|e| e.name == "Cargo.toml"));
        let up = list(Path::new("src/..")).unwrap();
        assert_eq!(up.dir, here.dir);
    }
}
