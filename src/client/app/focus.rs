//! Which pane has the keys (`Tab`/`Shift-Tab`), what is selected in the stream table and the
//! call history, and the zoom view (`Enter`) of a stream or a call. Selecting a call shows
//! that call's streams in the stream table.
//!
//! The renderer reports where it drew the panes ([`Rects`], like the log's size), so that
//! a mouse click can be mapped to a pane and a row ([`super::mouse`]).

use std::cell::Cell;

use super::keys::Scroll;
use super::summary::StreamSummary;
use super::{App, CallRecord, Dialog, Effect};

/// The panes that take the focus, in `Tab` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    /// The log (the default: the arrows scroll it).
    #[default]
    Log,
    Streams,
    History,
}

impl Pane {
    const ORDER: [Pane; 3] = [Pane::Log, Pane::Streams, Pane::History];

    fn step(self, forward: bool) -> Pane {
        let i = Self::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        let n = Self::ORDER.len();
        Self::ORDER[if forward { (i + 1) % n } else { (i + n - 1) % n }]
    }
}

/// A rectangle of the screen, in cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Area {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
}

impl Area {
    pub fn contains(&self, x: u16, y: u16) -> bool {
        x >= self.x && y >= self.y && x < self.x.saturating_add(self.width) && y < self.y.saturating_add(self.height)
    }
}

/// A list pane as drawn: its rectangle, the screen row of its first item row, and which
/// items are shown there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListRects {
    pub area: Area,
    pub first_row: u16,
    /// Index of the first item shown.
    pub offset: usize,
    /// Items shown.
    pub shown: usize,
}

impl ListRects {
    /// The item at screen row `y`, if one is drawn there.
    pub fn item_at(&self, y: u16) -> Option<usize> {
        let row = y.checked_sub(self.first_row)? as usize;
        (row < self.shown).then_some(self.offset + row)
    }
}

/// Where the last frame drew the panes that take the mouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rects {
    pub log: Option<Area>,
    pub streams: Option<ListRects>,
    pub history: Option<ListRects>,
}

/// What `Enter` zoomed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zoom {
    /// Row `index` of the stream table, of the call `call` (or the current one).
    Stream { call: Option<u64>, index: usize },
    /// A call of the history.
    Call(u64),
}

/// Focus and selections.
#[derive(Debug, Default)]
pub struct Focus {
    pub pane: Pane,
    /// The selected row of the stream table; `None` follows the newest stream.
    pub stream: Option<usize>,
    /// The selected call of the history (its id); `None` shows the current call's streams.
    pub call: Option<u64>,
    /// Written by the renderer, read by the mouse.
    pub rects: Cell<Rects>,
}

/// Rows a PageUp/PageDown moves in a list.
const LIST_PAGE: usize = 5;

impl App {
    /// The call whose streams the table shows, when one of the history is selected.
    pub fn selected_call(&self) -> Option<&CallRecord> {
        let id = self.focus.call?;
        self.calls.history.iter().find(|r| r.id == id)
    }

    /// The rows of the stream table: the selected call's, or the current call's (as of its
    /// end once it ended, so they read as ended rather than stalled).
    pub fn shown_streams(&self) -> Vec<StreamSummary> {
        self.shown_streams_of(self.focus.call)
    }

    fn shown_streams_of(&self, call: Option<u64>) -> Vec<StreamSummary> {
        if let Some(r) = call.and_then(|id| self.calls.history.iter().find(|r| r.id == id)) {
            return r.streams.clone();
        }
        let live = self.stall_alarms();
        self.streams
            .iter()
            .map(|s| if live { StreamSummary::live(s, self.now) } else { StreamSummary::ended(s) })
            .collect()
    }

    /// `Tab` / `Shift-Tab`.
    pub(crate) fn focus_step(&mut self, forward: bool) -> Vec<Effect> {
        self.focus.pane = self.focus.pane.step(forward);
        vec![]
    }

    /// Give `pane` the focus (a click).
    pub fn focus_pane(&mut self, pane: Pane) {
        self.focus.pane = pane;
    }

    /// The arrows and their kin: the log scrolls, a list moves its selection.
    pub(crate) fn scroll_focused(&mut self, how: Scroll) -> Vec<Effect> {
        match self.focus.pane {
            Pane::Log => return self.scroll_log(how),
            Pane::Streams => self.move_stream(how),
            Pane::History => self.move_call(how),
        }
        vec![]
    }

    pub(crate) fn move_stream(&mut self, how: Scroll) {
        let len = self.shown_streams().len();
        if len == 0 {
            self.focus.stream = None;
            return;
        }
        let last = len - 1;
        let cur = self.focus.stream.map(|i| i.min(last));
        self.focus.stream = match (how, cur) {
            (Scroll::Top, _) => Some(0),
            (Scroll::Bottom, _) => None,
            (_, None) => Some(last),
            (Scroll::LineUp, Some(i)) => Some(i.saturating_sub(1)),
            (Scroll::PageUp, Some(i)) => Some(i.saturating_sub(LIST_PAGE)),
            (Scroll::LineDown, Some(i)) => Some((i + 1).min(last)),
            (Scroll::PageDown, Some(i)) => Some((i + LIST_PAGE).min(last)),
        };
    }

    pub(crate) fn move_call(&mut self, how: Scroll) {
        let ids: Vec<u64> = self.calls.history.iter().map(|r| r.id).collect();
        let Some(&newest) = ids.last() else {
            self.focus.call = None;
            return;
        };
        let at = self.focus.call.and_then(|id| ids.iter().position(|&i| i == id));
        let pick = match (how, at) {
            (Scroll::Top, _) => Some(0),
            (Scroll::Bottom, _) | (_, None) => None,
            (Scroll::LineUp, Some(i)) => Some(i.saturating_sub(1)),
            (Scroll::PageUp, Some(i)) => Some(i.saturating_sub(LIST_PAGE)),
            (Scroll::LineDown, Some(i)) => Some((i + 1).min(ids.len() - 1)),
            (Scroll::PageDown, Some(i)) => Some((i + LIST_PAGE).min(ids.len() - 1)),
        };
        self.select_call(Some(pick.map_or(newest, |i| ids[i])));
    }

    /// Select a call of the history (or none: the current call's streams again).
    pub fn select_call(&mut self, id: Option<u64>) {
        if self.focus.call != id {
            self.focus.stream = None;
        }
        self.focus.call = id;
    }

    /// Select row `index` of the stream table.
    pub fn select_stream(&mut self, index: usize) {
        let len = self.shown_streams().len();
        self.focus.stream = (index < len).then_some(index);
    }

    /// `Esc` on the dashboard: selections go, the table follows the current call again.
    pub(crate) fn clear_selection(&mut self) {
        self.focus.stream = None;
        self.focus.call = None;
    }

    /// `Enter`: a detail view of the selected stream or call.
    pub(crate) fn zoom(&mut self) -> Vec<Effect> {
        let zoom = match self.focus.pane {
            Pane::Log => None,
            Pane::Streams => {
                let len = self.shown_streams().len();
                (len > 0).then(|| Zoom::Stream { call: self.focus.call, index: self.focus.stream.unwrap_or(len - 1).min(len - 1) })
            }
            Pane::History => {
                if self.focus.call.is_none() {
                    self.move_call(Scroll::Bottom);
                }
                self.focus.call.map(Zoom::Call)
            }
        };
        if let Some(z) = zoom {
            self.dialog = Some(Dialog::Zoom(z));
        }
        vec![]
    }

    /// The stream a zoom shows, as of now.
    pub fn zoomed_stream(&self, call: Option<u64>, index: usize) -> Option<StreamSummary> {
        self.shown_streams_of(call).into_iter().nth(index)
    }

    /// Keys in the zoom view: Up/Down step through the streams; anything else closes it.
    pub(super) fn on_zoom_key(&mut self, zoom: Zoom, key: super::Key) -> Vec<Effect> {
        use super::Key;
        let next = match (zoom, key) {
            (Zoom::Stream { call, index }, Key::Up | Key::Char('k')) => Some(Zoom::Stream { call, index: index.saturating_sub(1) }),
            (Zoom::Stream { call, index }, Key::Down | Key::Char('j')) => {
                let last = self.shown_streams_of(call).len().saturating_sub(1);
                Some(Zoom::Stream { call, index: (index + 1).min(last) })
            }
            _ => None,
        };
        self.dialog = next.map(Dialog::Zoom);
        vec![]
    }
}

#[cfg(test)]
#[path = "focus_tests.rs"]
mod tests;
