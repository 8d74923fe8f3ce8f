//! The scrolling session log. Long lines wrap; scrolling moves by screen rows; matches of the
//! search are highlighted. The pane's size is reported back to the app, whose keys scroll by it.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::Theme;
use crate::client::app::log_view::{matches, split_width, text_width, Pane, PREFIX};
use crate::client::app::{App, LogKind, LogLine};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let rows = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    app.log_view.pane.set(Pane { width, rows });
    let search = app.log_view.search.as_deref();
    // Walk back from the newest line until the rows scrolled past and the pane are filled.
    let want = app.log_view.scroll.saturating_add(rows);
    let mut out: Vec<Line> = Vec::with_capacity(rows);
    for l in app.log.iter().rev() {
        if out.len() >= want {
            break;
        }
        let mut wrapped = wrap_line(l, theme, width, search);
        wrapped.reverse();
        out.extend(wrapped);
    }
    // Scrolled past the oldest row: show the top of the log.
    let scroll = app.log_view.scroll.min(out.len().saturating_sub(rows));
    let mut shown: Vec<Line> = out.into_iter().skip(scroll).take(rows).collect();
    shown.reverse();
    let focused = app.focus.pane == crate::client::app::focus::Pane::Log;
    let block = super::pane_block(title(app, scroll), focused, theme);
    frame.render_widget(Paragraph::new(shown).block(block), area);
}

fn title(app: &App, scroll: usize) -> String {
    let v = &app.log_view;
    let search = match (&v.search, v.missed) {
        (None, _) => String::new(),
        (Some(s), false) => format!("/{s} n N Esc; "),
        (Some(s), true) => format!("/{s}: no more; "),
    };
    if scroll > 0 {
        format!(" Log ({search}{scroll} lines up; End follows) ")
    } else {
        format!(" Log ({search}{}) ", app.log.len())
    }
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

/// One log line as screen rows: the first with time and tag, the rest indented under the
/// text; matches of `search` stand out.
fn wrap_line<'a>(l: &'a LogLine, theme: &Theme, width: usize, search: Option<&str>) -> Vec<Line<'a>> {
    let style = style_of(l.kind, theme);
    let chunks = split_width(&l.text, text_width(width));
    let hits = search.map(|s| matches(&l.text, s)).unwrap_or_default();
    let mut rows = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut spans = if i == 0 {
            vec![
                Span::styled(l.time.format("%H:%M:%S ").to_string(), theme.dim()),
                Span::styled(format!("{} ", l.kind.tag()), style),
            ]
        } else {
            vec![Span::raw(" ".repeat(PREFIX.min(width.saturating_sub(8))))]
        };
        // The chunk's place in the text, to cut the matches that fall in it.
        let at = chunk.as_ptr() as usize - l.text.as_ptr() as usize;
        highlight(&mut spans, chunk, at, &hits, style, theme);
        rows.push(Line::from(spans));
    }
    rows
}

/// `chunk` (starting at byte `at` of its line) as spans, the parts inside `hits` reversed.
fn highlight<'a>(spans: &mut Vec<Span<'a>>, chunk: &'a str, at: usize, hits: &[(usize, usize)], style: Style, theme: &Theme) {
    let mark = theme.selected().add_modifier(Modifier::BOLD);
    let mut pos = 0;
    for &(s, e) in hits {
        let (s, e) = (s.saturating_sub(at).min(chunk.len()), e.saturating_sub(at).min(chunk.len()));
        if s >= e || s < pos {
            continue;
        }
        if s > pos {
            spans.push(Span::styled(&chunk[pos..s], style));
        }
        spans.push(Span::styled(&chunk[s..e], mark));
        pos = e;
    }
    spans.push(Span::styled(&chunk[pos..], style));
}
