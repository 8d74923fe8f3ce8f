//! Rendering: pure functions of [`crate::client::app::App`]; nothing here changes state.

mod dialog;
pub mod fit;
mod header;
mod keypad;
mod log;
pub mod rtp_pane;
pub mod streams;
pub mod theme;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::client::app::App;
pub use theme::Theme;

/// Rows of the header (connection and call), which the file browser leaves in view.
pub const HEADER_HEIGHT: u16 = 4;

/// Smallest area the dashboard lays out; below it a one-line notice is shown.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

/// Draw the whole screen.
pub fn render(app: &App, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!("sipdeck needs {MIN_WIDTH}x{MIN_HEIGHT}; q quits");
        frame.render_widget(Paragraph::new(msg), area);
        return;
    }
    let [head, body, foot] =
        Layout::vertical([Constraint::Length(HEADER_HEIGHT), Constraint::Min(5), Constraint::Length(1)]).areas(area);
    header::render(app, theme, frame, head);
    if body.width >= WIDE {
        wide_body(app, theme, frame, body);
    } else {
        narrow_body(app, theme, frame, body);
    }
    footer(app, theme, frame, foot);
    dialog::render(app, theme, frame, area);
}

/// From this width on, the log gets a column of its own beside the streams and counters.
pub const WIDE: u16 = 150;

/// Up to [`WIDE`]: the streams across the top, the counters and the log side by side under them.
fn narrow_body(app: &App, theme: &Theme, frame: &mut Frame, body: Rect) {
    let [streams_area, body] = Layout::vertical([Constraint::Length(streams_height(app, body.height)), Constraint::Min(5)]).areas(body);
    streams::render_streams(frame, streams_area, &app.streams, app.stream_clock(), theme);
    let side = if body.width >= 100 { 38 } else { 30 };
    let [left, right] = Layout::horizontal([Constraint::Length(side), Constraint::Min(10)]).areas(body);
    rtp_pane::render(app, theme, frame, left);
    log::render(app, theme, frame, right);
}

/// Wide: streams over counters on the left (the table gets its wider columns), the log the
/// whole height on the right.
fn wide_body(app: &App, theme: &Theme, frame: &mut Frame, body: Rect) {
    let left_w = (body.width * 11 / 20).max(100);
    let [left, right] = Layout::horizontal([Constraint::Length(left_w), Constraint::Min(40)]).areas(body);
    let [streams_area, counters] =
        Layout::vertical([Constraint::Length(streams_height(app, left.height)), Constraint::Min(5)]).areas(left);
    streams::render_streams(frame, streams_area, &app.streams, app.now, theme);
    rtp_pane::render(app, theme, frame, counters);
    log::render(app, theme, frame, right);
}

/// Rows for the stream table: the rows its streams need (at most a third of the body), and
/// never so many that the counters and the log get fewer than 8.
fn streams_height(app: &App, body: u16) -> u16 {
    let want = match app.streams.len() {
        0 => 3,
        n => 2 + 1 + n as u16 + 2,
    };
    want.min((body / 3).max(6)).min(body.saturating_sub(8)).max(3)
}

/// The key hints, from the key table; or the search being typed.
fn footer(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    if let Some(crate::client::app::Dialog::Search { input }) = &app.dialog {
        let line = Line::from(vec![
            Span::styled("/", theme.key()),
            Span::raw(input.value()),
            Span::styled("  Enter searches the log (n older, N newer), Esc cancels", theme.dim()),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        let x = area.x + 1 + input.visual_cursor() as u16;
        if x < area.right() {
            frame.set_cursor_position(ratatui::layout::Position { x, y: area.y });
        }
        return;
    }
    let mut spans = Vec::new();
    for (k, what) in crate::client::app::keys::footer() {
        spans.push(Span::styled(k, theme.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `mm:ss`, or `h:mm:ss` past an hour.
pub fn clock(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// Bytes in a short human form (1000-based like most tools show rates, 1024 for sizes).
pub fn size(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b < K {
        format!("{bytes} B")
    } else if b < K * K {
        format!("{:.1} KiB", b / K)
    } else {
        format!("{:.1} MiB", b / K / K)
    }
}

/// A centred rectangle of at most `w` x `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}
