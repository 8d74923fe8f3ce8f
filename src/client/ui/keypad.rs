//! The DTMF keypad dialog: the sixteen keys as a phone lays them out, and the keys sent
//! so far in this call.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::{centered, Theme};

/// The keypad rows, with the A-D column of a full DTMF pad.
const ROWS: [&str; 4] = ["1 2 3 A", "4 5 6 B", "7 8 9 C", "* 0 # D"];

pub fn render(sent: &str, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = vec![Line::from(Span::styled("Each key is sent as you type it.", theme.dim()))];
    lines.extend(ROWS.iter().map(|r| Line::from(Span::styled(format!("     {r}"), theme.key()))));
    let shown = if sent.is_empty() { Span::styled("(nothing yet)", theme.dim()) } else { Span::styled(sent, theme.accent()) };
    lines.push(Line::from(vec![Span::raw("sent: "), shown]));
    lines.push(Line::from(Span::styled("Esc, q or Enter closes.", theme.dim())));
    let rect = centered(area, 44, lines.len() as u16 + 2);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" DTMF keypad ", theme.title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
