//! Connection and call state at the top of the screen.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::{clock, Theme};
use crate::client::app::{App, CallState, ConnState};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" sipdeck ", theme.title()));
    // Cut with an ellipsis at the edge: a long disconnect reason reads as cut, not as a word.
    let w = area.width.saturating_sub(2) as usize;
    let lines = vec![super::fit::line_end(conn_line(app, theme), w), super::fit::line_end(call_line(app, theme), w)];
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn conn_line<'a>(app: &'a App, theme: &Theme) -> Line<'a> {
    let (mark, style, text) = match &app.conn {
        ConnState::Connecting { attempt: 1 } => ("◌", theme.warn(), "connecting".to_string()),
        ConnState::Connecting { attempt } => ("◌", theme.warn(), format!("connecting (attempt {attempt})")),
        ConnState::Connected { since } => {
            ("●", theme.good(), format!("connected {}", clock(app.now.saturating_duration_since(*since))))
        }
        ConnState::Disconnected { reason, next_attempt } => {
            let next = match next_attempt {
                Some(t) => format!(", retry in {:.1} s", t.saturating_duration_since(app.now).as_secs_f64()),
                None => String::new(),
            };
            ("○", theme.bad(), format!("disconnected{next} (r: now): {reason}"))
        }
    };
    Line::from(vec![
        Span::raw("Server "),
        Span::styled(app.cfg.url.as_str(), theme.accent()),
        Span::raw("  "),
        Span::styled(format!("{mark} {text}"), style),
    ])
}

fn call_line<'a>(app: &'a App, theme: &Theme) -> Line<'a> {
    let now = app.now;
    let (style, text) = match &app.call {
        CallState::Idle => (theme.dim(), format!("idle (1 calls {})", app.cfg.default_number)),
        CallState::Dialing { number, since } => {
            (theme.warn(), format!("dialling {number}  {}", clock(now.saturating_duration_since(*since))))
        }
        CallState::Ringing { number, since } => {
            (theme.warn(), format!("ringing {number}  {}", clock(now.saturating_duration_since(*since))))
        }
        CallState::Active { number, answered } => {
            (theme.good(), format!("in call with {number}  {}", clock(now.saturating_duration_since(*answered))))
        }
        CallState::Ended { number, reason, lasted } => {
            let lasted = lasted.map(|d| format!(" after {}", clock(d))).unwrap_or_default();
            (theme.dim(), format!("ended {number}{lasted}: {reason}"))
        }
    };
    Line::from(vec![Span::raw("Call   "), Span::styled(text, style)])
}
