//! Where the panes go: a pure function of the app and the body's size, so that every frame
//! of the same state is laid out the same way.
//!
//! - Narrow (under [`WIDE`] columns): the stream table across the top, the call history under
//!   it, then the RTP counters and the log side by side. The focused list gets more rows.
//! - Wide: two columns. On the left the stream table over the history (the tables get their
//!   widest columns), on the right the RTP counters over the log.

use ratatui::layout::{Constraint, Layout, Rect};

use super::history;
use crate::client::app::focus::Pane;
use crate::client::app::App;

/// From this width on, the panes stand in two columns.
pub const WIDE: u16 = 150;

/// The rectangles of the dashboard's panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    pub streams: Rect,
    pub history: Rect,
    pub rtp: Rect,
    pub log: Rect,
}

pub fn panes(app: &App, body: Rect) -> Panes {
    if body.width >= WIDE {
        wide(app, body)
    } else {
        narrow(app, body)
    }
}

fn narrow(app: &App, body: Rect) -> Panes {
    let streams_h = streams_height(app, body.height);
    let history_cap = if app.focus.pane == Pane::History { body.height / 2 } else { 6 };
    // The counters and the log keep at least 7 rows.
    let history_h = history::wanted_height(app).min(history_cap).min(body.height.saturating_sub(streams_h + 7)).max(3);
    let [streams, history, rest] =
        Layout::vertical([Constraint::Length(streams_h), Constraint::Length(history_h), Constraint::Min(5)]).areas(body);
    let side = if body.width >= 100 { 38 } else { 30 };
    let [rtp, log] = Layout::horizontal([Constraint::Length(side), Constraint::Min(10)]).areas(rest);
    Panes { streams, history, rtp, log }
}

fn wide(app: &App, body: Rect) -> Panes {
    let left_w = (body.width * 11 / 20).max(100);
    let [left, right] = Layout::horizontal([Constraint::Length(left_w), Constraint::Min(40)]).areas(body);
    let [streams, history] =
        Layout::vertical([Constraint::Length(streams_height(app, left.height)), Constraint::Min(4)]).areas(left);
    let rtp_h = rtp_height(app).min(right.height / 2);
    let [rtp, log] = Layout::vertical([Constraint::Length(rtp_h), Constraint::Min(5)]).areas(right);
    Panes { streams, history, rtp, log }
}

/// Rows for the stream table: the rows its streams need (at most a third of the body, half
/// when it has the focus), and never so many that the panes under it get fewer than 8.
fn streams_height(app: &App, body: u16) -> u16 {
    let want = match app.shown_streams().len() {
        0 => 3,
        n => 2 + 1 + n as u16 + 2,
    };
    let cap = if app.focus.pane == Pane::Streams { body / 2 } else { body / 3 };
    want.min(cap.max(6)).min(body.saturating_sub(8)).max(3)
}

/// Rows of the RTP counters: five figures, the saved file, the uploads.
fn rtp_height(app: &App) -> u16 {
    let uploads = if app.uploads.is_empty() { 0 } else { 1 + app.uploads.len() as u16 };
    2 + 5 + u16::from(app.last_save.is_some()) + uploads
}
