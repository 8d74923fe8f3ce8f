//! The scrolling session log. Long lines wrap; scrolling moves by log lines.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use super::Theme;
use crate::client::app::{App, LogKind, LogLine};

/// Width of the "HH:MM:SS tag " prefix; wrapped rows are indented by it.
const PREFIX: usize = 13;

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let rows = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let total = app.log.len();
    let scroll = app.log_scroll.min(total.saturating_sub(1));
    // Walk back from the newest visible line until the pane is full.
    let mut out: Vec<Line> = Vec::with_capacity(rows);
    for l in app.log.iter().rev().skip(scroll) {
        if out.len() >= rows {
            break;
        }
        let mut wrapped = wrap_line(l, theme, width);
        wrapped.reverse();
        out.extend(wrapped);
    }
    out.truncate(rows);
    out.reverse();
    let title = if scroll > 0 {
        format!(" Log ({scroll} lines up; End follows) ")
    } else {
        format!(" Log ({total}) ")
    };
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, theme.title()));
    frame.render_widget(Paragraph::new(out).block(block), area);
}

fn style_of(kind: LogKind, theme: &Theme) -> Style {
    match kind {
        LogKind::Server => theme.accent(),
        LogKind::Client => Style::new(),
        LogKind::Info => theme.dim(),
        LogKind::Warn => theme.warn(),
        LogKind::Error => theme.bad(),
    }
}

/// One log line as screen rows: the first with time and tag, the rest indented under the text.
fn wrap_line<'a>(l: &'a LogLine, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let style = style_of(l.kind, theme);
    let text_w = width.saturating_sub(PREFIX).max(8);
    let chunks = split_width(&l.text, text_w);
    let mut rows = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.into_iter().enumerate() {
        let lead = if i == 0 {
            vec![
                Span::styled(l.time.format("%H:%M:%S ").to_string(), theme.dim()),
                Span::styled(format!("{} ", l.kind.tag()), style),
            ]
        } else {
            vec![Span::raw(" ".repeat(PREFIX.min(width.saturating_sub(8))))]
        };
        let mut spans = lead;
        spans.push(Span::styled(chunk, style));
        rows.push(Line::from(spans));
    }
    rows
}

/// Split text into pieces no wider than `w` terminal columns (wide characters count two),
/// breaking after a space where there is one in the piece.
fn split_width(text: &str, w: usize) -> Vec<&str> {
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

#[cfg(test)]
mod tests {
    use super::split_width;

    #[test]
    fn splits_by_columns_not_bytes() {
        assert_eq!(split_width("abcdef", 4), vec!["abcd", "ef"]);
        assert_eq!(split_width("", 4), vec![""]);
        // Each CJK character takes two columns.
        assert_eq!(split_width("收到服務器消息", 4), vec!["收到", "服務", "器消", "息"]);
        assert_eq!(split_width("call answered by the far end", 10), vec!["call ", "answered ", "by the ", "far end"]);
    }
}
