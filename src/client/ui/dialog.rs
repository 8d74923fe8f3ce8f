//! Modal dialogs: dial a number, the file browser and its conversion offer, play a file, help.

use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;
use tui_input::Input;

use super::{centered, Theme};
use crate::client::browser::view::{render_browser, render_convert_offer};
use crate::client::app::{App, Ask, Dialog};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    match &app.dialog {
        // The search is typed in the footer row.
        None | Some(Dialog::Search { .. }) => {}
        Some(Dialog::Help) => help(theme, frame, area),
        Some(Dialog::Zoom(zoom)) => super::zoom::render(app, *zoom, theme, frame, area),
        Some(Dialog::Keypad { sent }) => super::keypad::render(sent, theme, frame, area),
        Some(Dialog::Confirm(ask)) => confirm(app, *ask, theme, frame, area),
        Some(Dialog::Recover { files }) => recover(files, theme, frame, area),
        Some(Dialog::Dial { input, error }) => field(
            frame,
            theme,
            area,
            " Call a number ",
            input,
            "Digits (3+). Enter calls, Up/Down redial, Esc cancels.",
            error.as_deref(),
            &[],
        ),
        Some(Dialog::Browser) => browser_pane(app, theme, frame, area),
        Some(Dialog::Convert(offer)) => {
            browser_pane(app, theme, frame, area);
            render_convert_offer(offer, theme, frame, area);
        }
        Some(Dialog::Play { input, selected, error }) => {
            let names = app.acked_names();
            let list: Vec<Line> = if names.is_empty() {
                vec![Line::from(Span::styled("(no uploads acknowledged yet)", theme.dim()))]
            } else {
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        let style = if i == *selected && input.value().is_empty() { theme.selected() } else { ratatui::style::Style::new() };
                        Line::from(Span::styled(format!(" {n} "), style))
                    })
                    .collect()
            };
            field(
                frame,
                theme,
                area,
                " Play a WAV on the server ",
                input,
                "Pick with Up/Down or type a name. Enter plays, Esc cancels.",
                error.as_deref(),
                &list,
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn field(
    frame: &mut Frame,
    theme: &Theme,
    area: Rect,
    title: &str,
    input: &Input,
    hint: &str,
    error: Option<&str>,
    extra: &[Line],
) {
    let height = 6 + extra.len().min(8) as u16;
    let rect = centered(area, 64, height);
    let inner_w = rect.width.saturating_sub(4) as usize;
    let scroll = input.visual_scroll(inner_w.saturating_sub(2));
    let mut lines = vec![
        Line::from(Span::styled(hint, theme.dim())),
        Line::from(vec![Span::styled("> ", theme.key()), Span::raw(&input.value()[byte_at(input.value(), scroll)..])]),
    ];
    lines.push(match error {
        Some(e) => Line::from(Span::styled(e, theme.bad())),
        None => Line::default(),
    });
    lines.extend(extra.iter().take(8).cloned());
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, theme.title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block.padding(ratatui::widgets::Padding::horizontal(1))), rect);
    let x = rect.x + 2 + 2 + (input.visual_cursor().saturating_sub(scroll)) as u16;
    let y = rect.y + 2;
    if x < rect.right() - 1 {
        frame.set_cursor_position(Position { x, y });
    }
}

/// Byte offset of the `chars`-th character (the input scrolls by characters).
fn byte_at(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i)
}

/// The file browser over the dashboard, leaving the header (connection and call) in view
/// when there is room, and the RTP totals in the bottom row.
fn browser_pane(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(pane) = &app.browser else { return };
    let top = if area.height >= 16 { super::HEADER_HEIGHT } else { 0 };
    let pane_area = Rect { y: area.y + top, height: area.height.saturating_sub(top + 1), ..area };
    render_browser(frame, pane_area, pane, &app.acked(), theme);
    let totals = Rect { y: area.bottom().saturating_sub(1), height: 1, ..area };
    frame.render_widget(Clear, totals);
    frame.render_widget(Paragraph::new(super::rtp_pane::totals(app, theme)), totals);
}

/// The help overlay, from the key table.
fn help(theme: &Theme, frame: &mut Frame, area: Rect) {
    let rows = crate::client::app::keys::help_rows();
    let rect = centered(area, 74, rows.len() as u16 + 4);
    let mut lines: Vec<Line> = rows
        .into_iter()
        .map(|(k, what)| Line::from(vec![Span::styled(format!("{k:>18}  "), theme.key()), Span::raw(what)]))
        .collect();
    lines.push(Line::from(Span::styled("Esc closes this help", theme.dim())));
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" Keys ", theme.title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// Files listed at most; the rest are counted.
const RECOVER_LISTED: usize = 8;

fn recover(files: &[crate::client::spill::Leftover], theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut lines = vec![Line::from(format!(
        "Earlier sessions ended before their audio was saved ({} call{}):",
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    ))];
    for f in files.iter().take(RECOVER_LISTED) {
        let when = f.modified.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "?".into());
        // About 182 bytes of spill per 20 ms packet.
        let secs = f.bytes as f64 / 182.0 * 0.02;
        let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        lines.push(Line::from(vec![Span::styled(name, theme.accent()), Span::raw(format!("  ~{secs:.0} s, {when}"))]));
    }
    if files.len() > RECOVER_LISTED {
        lines.push(Line::from(Span::styled(format!("... and {} more", files.len() - RECOVER_LISTED), theme.dim())));
    }
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled("Enter", theme.key()),
        Span::raw(" recover all (a WAV each)   "),
        Span::styled("D", theme.key()),
        Span::raw(" delete all   "),
        Span::styled("Esc", theme.key()),
        Span::raw(" later"),
    ]));
    let rect = centered(area, 70, lines.len() as u16 + 2);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" Unsaved audio ", theme.warn()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// A yes/no question before a call or audio is lost.
fn confirm(app: &App, ask: Ask, theme: &Theme, frame: &mut Frame, area: Rect) {
    let call = app.call.number().filter(|_| app.call.in_progress()).map(|n| format!("The call with {n} is up."));
    let audio = app
        .unsaved_audio()
        .then(|| format!("{:.1} s of received audio is not saved (7 saves it).", app.capture.seconds()));
    let (title, question, yes) = match ask {
        Ask::Quit => (" Quit? ", "Quit sipdeck?", "y quits"),
        Ask::Reconnect => (" Reconnect? ", "Reconnecting drops the call. Reconnect?", "y reconnects"),
    };
    let mut lines: Vec<Line> = call.into_iter().chain(audio).map(Line::from).collect();
    lines.push(Line::from(Span::styled(question, theme.title())));
    lines.push(Line::from(vec![
        Span::styled(yes, theme.key()),
        Span::raw("   "),
        Span::styled("n / Esc stays", theme.key()),
    ]));
    let rect = centered(area, 60, lines.len() as u16 + 2);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, theme.warn()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }).block(block), rect);
}
