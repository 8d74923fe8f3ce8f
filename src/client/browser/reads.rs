//! The pane's disk work, asked for and answered: what it wants read is queued as a
//! [`Request`]; the runner reads it off the UI thread and the answers come back here. Answers
//! nobody waits for any more are dropped.

use std::path::{Path, PathBuf};

use super::{shown, Arrival, Browser, BrowserAction, FileInfo, Listing, Mark, PendingList, Request, Filter, MAX_INSPECTING};
use crate::core::convert::Inspection;

impl Browser {
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
        if let Ok(ins) = &result {
            self.remember_mark(path, ins);
        }
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

    /// Ask for a listing; it replaces the one asked for before, whose answer is then stale.
    pub(super) fn ask_list(&mut self, dir: PathBuf, then: Arrival) {
        if self.listing.as_ref().is_none_or(|p| p.dir != dir) {
            self.requests.push(Request::List(dir.clone()));
        }
        self.listing = Some(PendingList { dir, then });
    }

    /// Ask for the highlighted file's header when the info box lacks it or Enter wants it
    /// read again, unless it is being read already or too many reads are under way (the
    /// next answer asks again).
    pub(super) fn ask_inspect(&mut self) {
        let Some(path) = self.highlighted_file() else { return };
        let known = self.info.as_ref().is_some_and(|i| i.path == path);
        let wanted = !known || self.picking.as_ref() == Some(&path);
        if !wanted || self.inspecting.contains(&path) || self.inspecting.len() >= MAX_INSPECTING {
            return;
        }
        self.requests.push(Request::Inspect(path.clone()));
        self.inspecting.push(path);
    }

    /// A header read: the file's row shows its verdict.
    fn remember_mark(&mut self, path: &Path, ins: &Inspection) {
        if path.parent() != Some(self.cwd.as_path()) {
            return;
        }
        let name = path.file_name().map(|n| n.to_string_lossy());
        if let Some(e) = self.entries.iter_mut().find(|e| Some(e.name.as_str()) == name.as_deref()) {
            e.mark = Some(Mark::of(&ins.verdict));
        }
    }
}
