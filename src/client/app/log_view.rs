//! How the log is looked at: scrolled by screen rows (a long line wraps into several), and
//! searched (`/`, then `n` older and `N` newer matches). The wrapping rule lives here so that
//! the keys and the renderer count rows the same way.

use std::cell::Cell;

use unicode_width::UnicodeWidthChar;

use super::keys::Scroll;
use super::{App, Effect, LogLine};

/// Width of the "HH:MM:SS tag " prefix; wrapped rows are indented by it.
pub const PREFIX: usize = 13;
/// Rows a PageUp/PageDown moves.
pub const PAGE_ROWS: usize = 10;

/// The log pane as last drawn: the renderer reports it, the keys scroll by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pane {
    /// Columns inside the border.
    pub width: usize,
    /// Rows inside the border.
    pub rows: usize,
}

impl Default for Pane {
    fn default() -> Self {
        // The 80x24 layout, until the first frame says otherwise.
        Pane { width: 48, rows: 11 }
    }
}

/// Where the log is scrolled to and what is searched.
#[derive(Debug, Default)]
pub struct LogView {
    /// Screen rows scrolled up from the newest; 0 follows the log.
    pub scroll: usize,
    /// The search, once typed (case is ignored).
    pub search: Option<String>,
    /// The line of the match shown last (its `seq`).
    pub hit: Option<u64>,
    /// The last search step found nothing further.
    pub missed: bool,
    /// Written by the renderer (a frame is drawn from `&App`), read by the keys.
    pub pane: Cell<Pane>,
}

/// Split text into pieces no wider than `w` terminal columns (wide characters count two),
/// breaking after a space where there is one in the piece.
pub fn split_width(text: &str, w: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut cols) = (0, 0);
    let mut last_space: Option<(usize, usize)> = None; // (byte after the space, cols up to it)
    for (i, c) in text.char_indices() {
        let cw = c.width().unwrap_or(0);
        if cols + cw > w && i > start {
            match last_space.take() {
                Some((cut, used)) if cut > start && cut < i => {
                    out.push(&text[start..cut]);
                    start = cut;
                    cols -= used;
                }
                _ => {
                    out.push(&text[start..i]);
                    start = i;
                    cols = 0;
                }
            }
        }
        cols += cw;
        if c == ' ' {
            last_space = Some((i + 1, cols));
        }
    }
    out.push(&text[start..]);
    out
}

/// Columns left for a line's text in a pane `width` wide.
pub fn text_width(width: usize) -> usize {
    width.saturating_sub(PREFIX).max(8)
}

/// Screen rows a log line takes in a pane `width` wide.
pub fn rows_of(line: &LogLine, width: usize) -> usize {
    split_width(&line.text, text_width(width)).len()
}

/// Byte ranges of `needle` in `hay`, ignoring ASCII case (non-ASCII compares exactly, so
/// byte offsets stay valid).
pub fn matches(hay: &str, needle: &str) -> Vec<(usize, usize)> {
    if needle.is_empty() {
        return vec![];
    }
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let mut out = Vec::new();
    let mut i = 0;
    while i + n.len() <= h.len() {
        if h[i..i + n.len()].eq_ignore_ascii_case(n) && hay.is_char_boundary(i) && hay.is_char_boundary(i + n.len()) {
            out.push((i, i + n.len()));
            i += n.len();
        } else {
            i += 1;
        }
    }
    out
}

/// Which way a search step goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    Older,
    Newer,
}

impl App {
    /// Rows the log holds at the pane's width, less a pane: how far up it can scroll.
    fn max_scroll(&self) -> usize {
        let pane = self.log_view.pane.get();
        let total: usize = self.log.iter().map(|l| rows_of(l, pane.width)).sum();
        total.saturating_sub(pane.rows)
    }

    pub(crate) fn scroll_log(&mut self, how: Scroll) -> Vec<Effect> {
        let v = &mut self.log_view;
        v.scroll = match how {
            Scroll::LineUp => v.scroll + 1,
            Scroll::LineDown => v.scroll.saturating_sub(1),
            Scroll::PageUp => v.scroll + PAGE_ROWS,
            Scroll::PageDown => v.scroll.saturating_sub(PAGE_ROWS),
            Scroll::Top => usize::MAX,
            Scroll::Bottom => 0,
        };
        if self.log_view.scroll > 0 {
            self.log_view.scroll = self.log_view.scroll.min(self.max_scroll());
        }
        vec![]
    }

    /// A line was added: when scrolled up, keep the rows being read where they are.
    pub(crate) fn keep_log_in_place(&mut self) {
        if self.log_view.scroll == 0 {
            return;
        }
        let width = self.log_view.pane.get().width;
        let added = self.log.last().map_or(0, |l| rows_of(l, width));
        self.log_view.scroll += added;
    }

    /// Start a search for `text` from where the log is shown, toward older lines.
    pub fn search_log(&mut self, text: String) {
        self.log_view.search = (!text.is_empty()).then_some(text);
        self.log_view.hit = None;
        self.step_search(Toward::Older);
    }

    /// Forget the search and its highlights.
    pub fn clear_search(&mut self) {
        self.log_view.search = None;
        self.log_view.hit = None;
        self.log_view.missed = false;
    }

    /// Show the next match older or newer than the one shown (or than the bottom of the
    /// pane, for a new search), as the pane's bottom line.
    pub fn step_search(&mut self, toward: Toward) {
        let Some(needle) = self.log_view.search.clone() else { return };
        let width = self.log_view.pane.get().width;
        // The newest line on screen now: the start of a new search.
        let bottom = self.bottom_seq(width);
        let from = self.log_view.hit.or(bottom.map(|b| b + 1)).unwrap_or(0);
        let is_hit = |l: &&LogLine| !matches(&l.text, &needle).is_empty();
        let found = match toward {
            Toward::Older => self.log.iter().rev().filter(|l| l.seq < from).find(is_hit),
            Toward::Newer => self.log.iter().filter(|l| l.seq > from).find(is_hit),
        }
        .map(|l| l.seq);
        self.log_view.missed = found.is_none();
        let Some(seq) = found else { return };
        self.log_view.hit = Some(seq);
        // Scroll so that the match is the bottom line: the rows of everything newer.
        self.log_view.scroll = self.log.iter().filter(|l| l.seq > seq).map(|l| rows_of(l, width)).sum();
    }

    /// The newest line at least partly on screen.
    fn bottom_seq(&self, width: usize) -> Option<u64> {
        let mut rows = 0;
        for l in self.log.iter().rev() {
            rows += rows_of(l, width);
            if rows > self.log_view.scroll {
                return Some(l.seq);
            }
        }
        self.log.iter().next().map(|l| l.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_by_columns_not_bytes() {
        assert_eq!(split_width("abcdef", 4), vec!["abcd", "ef"]);
        assert_eq!(split_width("", 4), vec![""]);
        // Each CJK character takes two columns.
        assert_eq!(split_width("收到服務器消息", 4), vec!["收到", "服務", "器消", "息"]);
        assert_eq!(split_width("call answered by the far end", 10), vec!["call ", "answered ", "by the ", "far end"]);
    }

    #[test]
    fn matches_ignore_case_and_do_not_overlap() {
        assert_eq!(matches("Call answered, call ended", "call"), vec![(0, 4), (15, 19)]);
        assert_eq!(matches("aaa", "aa"), vec![(0, 2)]);
        assert!(matches("x", "").is_empty());
        assert_eq!(matches("收到 RTP", "rtp"), vec![(7, 10)]);
    }
}
