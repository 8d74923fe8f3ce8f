//! RTP counters, the capture and the uploads of this session.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::{size, Theme};
use crate::client::app::{App, UploadState};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let r = &app.rtp;
    let since_last = match r.last_at {
        Some(t) => format!("{:.1} s ago", app.now.saturating_duration_since(t).as_secs_f64()),
        None => "none yet".into(),
    };
    let stalled = r.last_at.is_some_and(|t| app.now.saturating_duration_since(t).as_millis() > 1000) && app.call.in_progress();
    let malformed_style = if r.malformed > 0 { theme.warn() } else { theme.dim() };
    let mut lines = vec![
        kv("Packets", r.packets.to_string(), theme),
        kv("Audio", format!("{} ({:.1} s)", size(app.capture.len() as u64), app.capture.seconds()), theme),
        kv("Rate", format!("{} pkt/s {:.1} kb/s", r.pps, r.bps as f64 * 8.0 / 1000.0), theme),
        Line::from(vec![
            Span::styled(format!("{:<10}", "Last"), theme.dim()),
            Span::styled(since_last, if stalled { theme.bad() } else { theme.dim() }),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<10}", "Malformed"), theme.dim()),
            Span::styled(r.malformed.to_string(), malformed_style),
        ]),
    ];
    let w = area.width.saturating_sub(2) as usize;
    if let Some(p) = &app.last_save {
        // Shortened in the middle: the date and the .wav at the end stay readable.
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        lines.push(kv("Saved", super::fit::middle(&name, w.saturating_sub(10)), theme));
    }
    if !app.uploads.is_empty() {
        lines.push(Line::from(Span::styled("Uploads", theme.title())));
        for u in app.uploads.iter().rev() {
            let (mark, style) = match u.state {
                UploadState::Pending { .. } => ("… ", theme.warn()),
                UploadState::Acked { .. } => ("✓ ", theme.good()),
            };
            lines.push(Line::from(vec![Span::styled(mark, style), Span::raw(super::fit::middle(u.name.as_str(), w.saturating_sub(2)))]));
        }
    }
    let lines: Vec<Line> = lines.into_iter().map(|l| super::fit::line_end(l, w)).collect();
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" RTP ", theme.title()));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn kv<'a>(k: &'a str, v: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![Span::styled(format!("{k:<10}"), theme.dim()), Span::raw(v)])
}

/// The RTP totals in one row, for screens that cover the pane (the file browser).
pub fn totals<'a>(app: &App, theme: &Theme) -> Line<'a> {
    let r = &app.rtp;
    Line::from(vec![
        Span::styled("RTP ", theme.title()),
        Span::raw(format!("{} packets", r.packets)),
        Span::styled("  audio ", theme.dim()),
        Span::raw(format!("{} ({:.1} s)", size(app.capture.len() as u64), app.capture.seconds())),
        Span::styled("  rate ", theme.dim()),
        Span::raw(format!("{} pkt/s", r.pps)),
        Span::styled("  malformed ", theme.dim()),
        Span::raw(r.malformed.to_string()),
    ])
}
