//! The file browser, all of it in this folder: the pane's state here (where it is, what it
//! lists, what is highlighted, the filter being typed, the header of the highlighted WAV),
//! its types in [`types`], the reads it asks for and their answers in [`reads`], its keys in
//! [`keys`], its rendering in [`view`], its disk reads in [`disk`], and what a pick means
//! for the app (upload, convert, refuse) in [`pick`].
//!
//! The state never touches the disk: on a slow or network drive that would freeze the keys
//! and the redraw. What it needs read is queued as a [`Request`] ([`Browser::take_requests`]);
//! the runner does it on a blocking thread with [`list`] or [`crate::client::files::inspect`] and
//! hands the answer back through [`Browser::on_listed`] and [`Browser::on_inspected`].
//! Answers for a folder or file that is no longer wanted are dropped. Everything else is pure
//! navigation over the entries listed last.

pub mod disk;
pub mod keys;
pub mod pick;
mod reads;
mod types;
pub mod view;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use disk::{list, read_dir};
pub use pick::ConvertOffer;
pub use types::*;
use types::{Arrival, PendingList, PARENT_ROW};

/// Rows a PageUp/PageDown moves.
const PAGE: usize = 10;
/// Headers read at once. A file that never answers (a FIFO, a dead mount) holds one slot,
/// not the info box; holding a key down over a long list does not queue a read per row.
const MAX_INSPECTING: usize = 4;

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
    /// The `..` row.
    parent_row: Entry,
    /// A folder being typed after `:`.
    path_input: Option<String>,
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
            parent_row: Entry { name: PARENT.into(), kind: EntryKind::Dir, mark: None },
            path_input: None,
        };
        b.go(start.to_path_buf(), None);
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

    /// The rows shown: `..` first when there is a parent and no filter, then the entries.
    pub fn visible(&self) -> impl Iterator<Item = &Entry> {
        self.visible.iter().map(|&i| self.row(i))
    }

    fn row(&self, i: usize) -> &Entry {
        if i == PARENT_ROW {
            &self.parent_row
        } else {
            &self.entries[i]
        }
    }

    /// Entries shown, not counting `..`.
    pub fn visible_len(&self) -> usize {
        self.visible.iter().filter(|&&i| i != PARENT_ROW).count()
    }

    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn highlighted(&self) -> Option<&Entry> {
        self.visible.get(self.selected).map(|&i| self.row(i))
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
        self.path_input = None;
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

    /// Move the highlight by `by` rows, stopping at the ends. What the status line said
    /// about the row left goes with it.
    pub fn move_by(&mut self, by: isize) {
        let last = self.visible.len().saturating_sub(1) as isize;
        let was = self.selected;
        self.selected = (self.selected as isize).saturating_add(by).clamp(0, last) as usize;
        if self.selected != was {
            self.notice = None;
        }
        self.refresh_info();
    }

    pub fn select_name(&mut self, name: &str) {
        if let Some(pos) = self.visible.iter().position(|&i| self.row(i).name == name) {
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
    /// `..` leads when there is a parent and no filter; the first entry after it is
    /// highlighted unless `keep` is shown.
    fn refilter(&mut self, keep: Option<&str>) {
        let parent = self.cwd.parent().is_some() && self.filter == Filter::Off;
        let entries = (0..self.entries.len()).filter(|&i| self.passes(&self.entries[i]));
        self.visible = parent.then_some(PARENT_ROW).into_iter().chain(entries).collect();
        let first = usize::from(parent && self.visible.len() > 1);
        self.selected = keep.and_then(|k| self.visible.iter().position(|&i| self.row(i).name == k)).unwrap_or(first);
        self.refresh_info();
    }

    fn highlighted_file(&self) -> Option<PathBuf> {
        self.highlighted().filter(|e| !e.is_dir()).map(|e| self.cwd.join(&e.name))
    }


    /// The path typed after `:`, while it is being typed.
    pub fn path_input(&self) -> Option<&str> {
        self.path_input.as_deref()
    }

    /// Go to a typed path: `~` is home, a relative path is under the folder shown.
    pub fn go_typed(&mut self, typed: &str) {
        let typed = typed.trim();
        let dir = match (typed.strip_prefix('~'), &self.home) {
            (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => home.join(rest.trim_start_matches('/')),
            _ => self.cwd.join(typed),
        };
        self.go(dir, None);
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


    /// Enter on the highlighted row: go into a folder, or pick a file once its header has
    /// been read again (the file may have changed since it was highlighted).
    fn activate(&mut self) -> BrowserAction {
        let Some(entry) = self.highlighted().cloned() else { return BrowserAction::None };
        if entry.is_parent() {
            self.parent();
            return BrowserAction::None;
        }
        let path = self.cwd.join(&entry.name);
        if entry.is_dir() {
            self.go(path, None);
        } else {
            self.picking = Some(path);
            self.ask_inspect();
        }
        BrowserAction::None
    }
}

/// A file's name for a notice.
pub fn shown(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}