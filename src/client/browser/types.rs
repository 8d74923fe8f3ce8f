//! What the pane shows and says: entries and their marks, the filter, the focus, the
//! actions it hands the app and the reads it asks for.

use std::path::{Path, PathBuf};

use crate::core::convert::Inspection;
use crate::core::protocol::WavName;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File { size: u64 },
}

/// What a WAV's header says about sending it, for the mark on its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Ready,
    Convert,
    /// Broken or unsupported: never sent.
    Refused,
}

impl Mark {
    pub fn of(verdict: &crate::core::wav::Verdict) -> Mark {
        use crate::core::wav::Verdict;
        match verdict {
            Verdict::Ready => Mark::Ready,
            Verdict::Convert(_) => Mark::Convert,
            Verdict::Unsupported(_) | Verdict::Broken(_) => Mark::Refused,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
    /// For a WAV file, its verdict once its header was read.
    pub mark: Option<Mark>,
}

/// The row that goes up a folder.
pub const PARENT: &str = "..";
/// Its place in [`Browser::visible`]: not an index of `entries`.
pub(super) const PARENT_ROW: usize = usize::MAX;

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Dir
    }

    pub fn is_hidden(&self) -> bool {
        self.name.starts_with('.')
    }

    pub fn is_parent(&self) -> bool {
        self.kind == EntryKind::Dir && self.name == PARENT
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
pub(super) enum Arrival {
    /// Go into the folder (the filter and the notice go), highlighting `select` if it is there.
    Enter { select: Option<String> },
    /// The folder shown, read again: the filter and the highlighted entry stay.
    Refresh,
}

/// The listing asked for last; an answer for any other folder is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PendingList {
    pub(super) dir: PathBuf,
    pub(super) then: Arrival,
}
