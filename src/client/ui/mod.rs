//! Rendering: pure functions of [`crate::client::app::App`]; nothing here changes state.

mod dialog;
pub mod fit;
mod header;
pub mod history;
pub mod layout;
mod keypad;
mod log;
pub mod rtp_pane;
pub mod streams;
pub mod theme;
mod zoom;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};
use ratatui::Frame;

use crate::client::app::focus::{Area, ListRects, Pane, Rects};
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
        app.focus.rects.set(Rects::default());
        return;
    }
    let [head, body, foot] =
        Layout::vertical([Constraint::Length(HEADER_HEIGHT), Constraint::Min(5), Constraint::Length(1)]).areas(area);
    header::render(app, theme, frame, head);
    body_panes(app, theme, frame, body);
    footer(app, theme, frame, foot);
    dialog::render(app, theme, frame, area);
}

pub use layout::WIDE;

/// The panes of the body, where [`layout::panes`] puts them; where the lists and the log
/// went is reported to the app for the mouse.
fn body_panes(app: &App, theme: &Theme, frame: &mut Frame, body: Rect) {
    let p = layout::panes(app, body);
    let streams = streams_pane(app, theme, frame, p.streams);
    let history = history::render(app, theme, frame, p.history);
    rtp_pane::render(app, theme, frame, p.rtp);
    log::render(app, theme, frame, p.log);
    app.focus.rects.set(Rects { log: Some(area_of(p.log)), streams: Some(streams), history: Some(history) });
}

/// The stream table of the selected call, or of the current one.
fn streams_pane(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) -> ListRects {
    let rows = app.shown_streams();
    let focused = app.focus.pane == Pane::Streams;
    let count = if rows.len() > 1 { format!(" ({})", rows.len()) } else { String::new() };
    if let Some(r) = app.selected_call() {
        let number = r.number.as_ref().map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        let title = format!(" RTP streams{count} of the call at {} with {number}, ended ", r.started.format("%H:%M:%S"));
        let score = r.score.map(|s| format!(", R {:.1} MOS {:.2}", s.r, s.mos)).unwrap_or_default();
        let notes = vec![
            Line::from(format!("{}, talk time {}{score}", r.result.label(), clock(r.duration))),
            Line::from(Span::styled("Esc: back to the current call; Enter on a row: details", theme.dim())),
        ];
        let view = streams::StreamsView { rows: &rows, selected: app.focus.stream, focused, title, live: None, notes, now: app.now };
        return streams::render(frame, area, &view, theme);
    }
    let ended = !rows.is_empty() && !app.stall_alarms();
    let title = format!(" RTP streams{count}{} ", if ended { ", call ended" } else { "" });
    // Rate and level under the table: of the selected stream, else the newest.
    let live = match app.focus.stream {
        Some(i) => app.streams.iter().nth(i),
        None => app.streams.newest(),
    };
    let view = streams::StreamsView { rows: &rows, selected: app.focus.stream, focused, title, live, notes: vec![], now: app.stream_clock() };
    streams::render(frame, area, &view, theme)
}

/// A pane's frame; the focused pane's is thick and coloured, so focus shows without colour.
pub fn pane_block<'a>(title: String, focused: bool, theme: &Theme) -> Block<'a> {
    let block = Block::default().borders(Borders::ALL);
    if focused {
        block.border_type(BorderType::Thick).border_style(theme.key()).title(Span::styled(title, theme.key()))
    } else {
        block.title(Span::styled(title, theme.title()))
    }
}

/// A ratatui rectangle as the app's neutral one.
pub fn area_of(r: Rect) -> Area {
    Area { x: r.x, y: r.y, width: r.width, height: r.height }
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
