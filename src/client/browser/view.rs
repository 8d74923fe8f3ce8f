//! Drawing the file-browser pane: the folder's listing, the header of the highlighted WAV
//! with its verdict, and the uploads the server acknowledged this session.

use chrono::{DateTime, Local};
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, HighlightSpacing, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr as _;

use super::{Browser, Entry, EntryKind, FileInfo, Filter, Focus, Mark, Show};
use crate::client::ui::{size, Theme};
use super::ConvertOffer;
use crate::core::convert::{self, Length};
use crate::core::protocol::WavName;
use crate::core::wav::Verdict;

/// Marks the highlighted row in text too, for terminals without reverse video and for snapshots.
const MARK: &str = "> ";

/// Draw the pane over `area`. `acked` is newest first, as [`Browser::on_key`] sees it.
pub fn render_browser(f: &mut Frame, area: Rect, pane: &Browser, acked: &[(WavName, DateTime<Local>)], theme: &Theme) {
    let which = match pane.show() {
        Show::Wavs => "folders and .wav files",
        Show::All => "all files",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(format!(" Upload a WAV: {} ", pane.cwd_label()), theme.title()))
        .title_bottom(Line::from(Span::styled(format!(" {which} "), theme.dim())).right_aligned());
    let inner = block.inner(area);
    f.render_widget(Clear, area);
    f.render_widget(block, area);
    let [body, status, hints] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1), Constraint::Length(1)]).areas(inner);
    let [list, right] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
    // The acknowledged list takes the rows it needs (up to 8, fewer on a short screen),
    // the info box the rest.
    let acked_rows = ((acked.len() as u16).clamp(1, 6) + 2).min(right.height.saturating_sub(10)).max(3);
    let [info, acked_area] = Layout::vertical([Constraint::Min(8), Constraint::Length(acked_rows)]).areas(right);
    file_list(f, list, pane, theme);
    info_box(f, info, pane, theme);
    acked_list(f, acked_area, pane, acked, theme);
    status_line(f, status, pane, theme);
    let mut spans = Vec::new();
    for (i, (k, what)) in super::keys::hints().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(k, theme.key()));
        spans.push(Span::raw(format!(" {what}")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), hints);
}

fn file_list(f: &mut Frame, area: Rect, pane: &Browser, theme: &Theme) {
    let focused = pane.focus() == Focus::Files;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { theme.accent() } else { Style::new() })
        .title(Span::styled(format!(" Files ({}) ", pane.visible_len()), theme.title()));
    let width = (block.inner(area).width as usize).saturating_sub(MARK.len());
    let items: Vec<ListItem> = pane.visible().map(|e| ListItem::new(row(e, width, theme))).collect();
    if pane.visible_len() == 0 {
        let why = match (pane.filter(), pane.show()) {
            _ if pane.reading().is_some() => "Reading the folder…",
            (Filter::Off, Show::Wavs) => "No folders or .wav files here (a shows all files).",
            (Filter::Off, Show::All) => "This folder is empty.",
            _ => "Nothing matches the filter (Esc clears it).",
        };
        let p = Paragraph::new(Span::styled(why, theme.dim())).wrap(Wrap { trim: true }).block(block);
        f.render_widget(p, area);
        return;
    }
    let highlight = if focused { theme.selected() } else { theme.title() };
    let list = List::new(items).block(block).highlight_style(highlight).highlight_symbol(MARK).highlight_spacing(HighlightSpacing::Always);
    let mut state = ListState::default().with_selected(Some(pane.selected()));
    f.render_stateful_widget(list, area, &mut state);
}

/// The verdict mark before a WAV's name: ready, to convert, refused, or not read yet.
fn mark<'a>(e: &Entry, theme: &Theme) -> Span<'a> {
    match (e.is_wav(), e.mark) {
        (false, _) => Span::raw("  "),
        (true, Some(Mark::Ready)) => Span::styled("✓ ", theme.good()),
        (true, Some(Mark::Convert)) => Span::styled("~ ", theme.warn()),
        (true, Some(Mark::Refused)) => Span::styled("✗ ", theme.bad()),
        (true, None) => Span::styled("? ", theme.dim()),
    }
}

/// The mark, `name/` or `name` on the left (a long name shortened in the middle), the size
/// (or "parent" for `..`) on the right.
fn row<'a>(e: &'a Entry, width: usize, theme: &Theme) -> Line<'a> {
    let (name, right, style) = match e.kind {
        EntryKind::Dir if e.is_parent() => ("../".to_string(), "parent".to_string(), theme.accent()),
        EntryKind::Dir => (format!("{}/", e.name), String::new(), theme.accent()),
        EntryKind::File { size: n } => {
            let style = if e.is_wav() { Style::new() } else { theme.dim() };
            (e.name.clone(), size(n), style)
        }
    };
    let width = width.saturating_sub(2);
    let room = width.saturating_sub(right.width() + 1);
    let name = crate::client::ui::fit::middle(&name, room);
    let pad = width.saturating_sub(name.width() + right.width());
    Line::from(vec![mark(e, theme), Span::styled(name, style), Span::raw(" ".repeat(pad)), Span::styled(right, theme.dim())])
}

fn info_box(f: &mut Frame, area: Rect, pane: &Browser, theme: &Theme) {
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" File ", theme.title()));
    let lines = match (pane.highlighted(), pane.info()) {
        (None, _) => vec![Line::from(Span::styled("Nothing highlighted.", theme.dim()))],
        (Some(e), _) if e.is_parent() => vec![
            Line::from(Span::styled("../", theme.accent())),
            Line::from(Span::styled("The folder above: Enter goes up.", theme.dim())),
        ],
        (Some(e), _) if e.is_dir() => vec![
            Line::from(Span::styled(format!("{}/", e.name), theme.accent())),
            Line::from(Span::styled("Folder: Enter opens it.", theme.dim())),
        ],
        (Some(e), Some(info)) => file_lines(&e.name, info, theme),
        (Some(e), None) => vec![
            Line::from(Span::styled(e.name.clone(), theme.title())),
            Line::from(Span::styled("reading its header…", theme.dim())),
        ],
    };
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

fn kv(k: &'static str, v: String, theme: &Theme) -> Line<'static> {
    Line::from(vec![Span::styled(format!("{k:<9}"), theme.dim()), Span::raw(v)])
}

fn file_lines(name: &str, info: &FileInfo, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled(name.to_string(), theme.title()))];
    let ins = match &info.inspection {
        Ok(ins) => ins,
        Err(e) => {
            lines.push(Line::from(Span::styled(format!("cannot read it: {e}"), theme.bad())));
            return lines;
        }
    };
    if let Ok(h) = &ins.header {
        let channels = match h.channels {
            1 => "1 (mono)".to_string(),
            2 => "2 (stereo)".to_string(),
            n => n.to_string(),
        };
        lines.push(kv("Encoding", h.encoding.to_string(), theme));
        lines.push(kv("Rate", format!("{} Hz", h.sample_rate), theme));
        lines.push(kv("Channels", channels, theme));
        lines.push(kv("Duration", format!("{:.2} s", h.duration_secs()), theme));
    }
    lines.push(kv("Size", format!("{} ({} bytes)", size(ins.file_len), ins.file_len), theme));
    let style = match ins.verdict {
        Verdict::Ready => theme.good(),
        Verdict::Convert(_) => theme.warn(),
        Verdict::Unsupported(_) | Verdict::Broken(_) => theme.bad(),
    };
    lines.push(Line::from(Span::styled(ins.verdict.to_string(), style)));
    if let Some(plan) = ins.plan() {
        let text = if plan.fits() {
            format!("Enter converts it to {:.2} s of 8 kHz mu-law ({}) and uploads it", plan.seconds(), size(plan.bytes()))
        } else {
            format!(
                "converted it is {:.1} s; at most {:.1} s fit in one upload: Enter offers the first part",
                plan.seconds(),
                convert::max_seconds()
            )
        };
        lines.push(Line::from(Span::styled(text, theme.dim())));
    }
    lines
}

fn acked_list(f: &mut Frame, area: Rect, pane: &Browser, acked: &[(WavName, DateTime<Local>)], theme: &Theme) {
    let focused = pane.focus() == Focus::Acked;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { theme.accent() } else { Style::new() })
        .title(Span::styled(" Acknowledged: Enter/6 plays ", theme.title()));
    if acked.is_empty() {
        let p = Paragraph::new(Span::styled("No uploads acknowledged yet.", theme.dim())).wrap(Wrap { trim: true }).block(block);
        f.render_widget(p, area);
        return;
    }
    let items: Vec<ListItem> = acked
        .iter()
        .map(|(name, at)| {
            ListItem::new(Line::from(vec![
                Span::styled(at.format("%H:%M:%S ").to_string(), theme.dim()),
                Span::raw(name.as_str().to_string()),
            ]))
        })
        .collect();
    let highlight = if focused { theme.selected() } else { theme.title() };
    let list = List::new(items).block(block).highlight_style(highlight).highlight_symbol(MARK).highlight_spacing(HighlightSpacing::Always);
    let mut state = ListState::default().with_selected(Some(pane.acked_selected().min(acked.len() - 1)));
    f.render_stateful_widget(list, area, &mut state);
}

fn status_line(f: &mut Frame, area: Rect, pane: &Browser, theme: &Theme) {
    let mut spans = Vec::new();
    if let Some(t) = pane.path_input() {
        spans.push(Span::styled(":", theme.key()));
        spans.push(Span::raw(t.to_string()));
        let x = area.x + 1 + t.width() as u16;
        if x < area.right() {
            f.set_cursor_position(Position { x, y: area.y });
        }
        spans.push(Span::styled("  a folder (~ is home); Enter goes, Esc cancels", theme.dim()));
    }
    match pane.filter() {
        Filter::Off => {}
        Filter::Typing(t) => {
            spans.push(Span::styled("/", theme.key()));
            spans.push(Span::raw(t.clone()));
            let x = area.x + 1 + t.width() as u16;
            if x < area.right() {
                f.set_cursor_position(Position { x, y: area.y });
            }
            spans.push(Span::styled("  Enter picks, Esc clears", theme.dim()));
        }
        Filter::Applied(t) => {
            spans.push(Span::styled(format!("filter: {t}"), theme.accent()));
            spans.push(Span::styled("  / edits, Esc clears", theme.dim()));
        }
    }
    if let Some(dir) = pane.reading() {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(format!("reading {}…", pane.label(dir)), theme.dim()));
    }
    if let Some(n) = pane.notice() {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(n.to_string(), theme.warn()));
    }
    // Cut with an ellipsis rather than mid-word at the edge.
    let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
    if text.width() > area.width as usize {
        let cut = crate::client::ui::fit::end(&text, area.width as usize);
        f.render_widget(Paragraph::new(Span::styled(cut, theme.warn())), area);
        return;
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The conversion offer over the pane.
pub fn render_convert_offer(offer: &ConvertOffer, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut lines = vec![
        Line::from(Span::styled(offer.name.to_string(), theme.title())),
        Line::from(Span::styled(offer.verdict.to_string(), theme.warn())),
        Line::default(),
    ];
    let seconds = offer.plan.seconds();
    let (question, yes) = match offer.length() {
        Length::Whole => (
            format!(
                "Convert it to {seconds:.2} s of 8000 Hz mono mu-law ({}) and upload it as {}?",
                size(offer.plan.bytes()),
                offer.name
            ),
            "Enter/y converts and uploads",
        ),
        Length::FirstPart => (
            format!(
                "Converted it would be {seconds:.1} s, but one upload holds at most {max:.1} s ({limit} bytes). \
                 Send its first {max:.1} s as {}?",
                offer.name,
                max = convert::max_seconds(),
                limit = crate::core::protocol::MAX_WAV_BYTES,
            ),
            "Enter/f sends the first part",
        ),
    };
    lines.push(Line::from(question));
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled(yes, theme.key()),
        Span::raw("   "),
        Span::styled("Esc/n back to the files", theme.dim()),
    ]));
    let rect = crate::client::ui::centered(area, 70, 11);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" Convert before uploading ", theme.title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(block.padding(ratatui::widgets::Padding::horizontal(1))),
        rect,
    );
}
