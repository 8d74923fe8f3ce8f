//! The call history pane: one row per ended call, oldest first, with its time, number,
//! result, talk time, packets, loss, jitter, E-model score and saved file. The selected row
//! (its streams fill the stream table) is drawn reversed. Numbers are never cut; the result
//! is cut with `…` and the file name shortened in the middle.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::{clock, fit, Theme};
use crate::client::app::focus::{ListRects, Pane};
use crate::client::app::{App, CallRecord, CallResult};

/// A column of the history: its title and the width it needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Time,
    Number,
    Result,
    Talk,
    Packets,
    Loss,
    Jitter,
    Mos,
    R,
    File,
}

impl Col {
    fn title(self) -> &'static str {
        match self {
            Col::Time => "Time",
            Col::Number => "Number",
            Col::Result => "Result",
            Col::Talk => "Talk",
            Col::Packets => "Pkts",
            Col::Loss => "Loss",
            Col::Jitter => "Jit ms",
            Col::Mos => "MOS",
            Col::R => "R",
            Col::File => "File",
        }
    }
}

/// Widths of the fixed columns (the number's and the talk time's are measured).
fn fixed(c: Col) -> u16 {
    match c {
        Col::Time => 8,
        Col::Packets => 6,
        Col::Loss => 6,
        Col::Jitter => 6,
        Col::Mos | Col::R => 4,
        Col::Number | Col::Talk | Col::Result | Col::File => 0,
    }
}

/// Smallest widths of the text columns before they are dropped.
const RESULT_MIN: u16 = 8;
const RESULT_MAX: u16 = 28;
const FILE_MIN: u16 = 10;

/// The columns that fit `width` and their widths: R goes first, then the file, then jitter.
fn layout(width: u16, number_w: u16, talk_w: u16) -> Vec<(Col, u16)> {
    let all = [Col::Time, Col::Number, Col::Result, Col::Talk, Col::Packets, Col::Loss, Col::Jitter, Col::Mos, Col::R, Col::File];
    let mut cols: Vec<Col> = all.to_vec();
    let need = |cols: &[Col]| -> u16 {
        cols.iter()
            .map(|&c| 1 + match c {
                Col::Number => number_w,
                Col::Talk => talk_w,
                Col::Result => RESULT_MIN,
                Col::File => FILE_MIN,
                c => fixed(c),
            })
            .sum()
    };
    for drop in [Col::R, Col::File, Col::Jitter, Col::Talk] {
        if need(&cols) <= width + 1 {
            break;
        }
        cols.retain(|&c| c != drop);
    }
    // What is left over goes to the result (up to a point), then to the file.
    let mut spare = (width + 1).saturating_sub(need(&cols));
    let result_extra = spare.min(RESULT_MAX - RESULT_MIN);
    spare -= result_extra;
    cols.iter()
        .map(|&c| {
            let w = match c {
                Col::Number => number_w,
                Col::Talk => talk_w,
                Col::Result => RESULT_MIN + result_extra + if cols.contains(&Col::File) { 0 } else { spare },
                Col::File => FILE_MIN + spare,
                c => fixed(c),
            };
            (c, w)
        })
        .collect()
}

fn cell<'a>(r: &CallRecord, c: Col, w: u16, theme: &Theme) -> Cell<'a> {
    let w = w as usize;
    match c {
        Col::Time => Cell::from(r.started.format("%H:%M:%S").to_string()),
        Col::Number => Cell::from(r.number.as_ref().map(|n| n.to_string()).unwrap_or_else(|| "-".into())),
        Col::Result => {
            let style = match r.result {
                CallResult::Answered => Style::new(),
                CallResult::NotAnswered(_) => theme.warn(),
            };
            // "Call failed: 486 Busy Here" reads as "486 Busy Here" in a column.
            let label = r.result.label();
            let label = label.strip_prefix("Call failed:").map(str::trim_start).filter(|l| !l.is_empty()).unwrap_or(label);
            Cell::from(fit::end(label, w)).style(style)
        }
        Col::Talk => Cell::from(clock(r.duration)),
        Col::Packets => Cell::from(fit::count(r.packets, w)),
        Col::Loss => Cell::from(format!("{:.1}%", r.loss_percent)),
        Col::Jitter => Cell::from(fit::millis(r.jitter_ms, 1, w)),
        Col::Mos => Cell::from(r.score.map(|s| format!("{:.2}", s.mos)).unwrap_or_else(|| "-".into())),
        Col::R => Cell::from(r.score.map(|s| format!("{:.0}", s.r)).unwrap_or_else(|| "-".into())),
        Col::File => {
            let name = r.file.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
            match name {
                Some(n) => Cell::from(fit::middle(&n, w)),
                None => Cell::from(Span::styled("not saved", theme.dim())),
            }
        }
    }
}

/// Draw the history into `area`; returns where its rows went (for the mouse).
pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) -> ListRects {
    let history = &app.calls.history;
    let title = match history.len() {
        0 => " Calls ".to_string(),
        n => format!(" Calls ({n}) "),
    };
    let block = super::pane_block(title, app.focus.pane == Pane::History, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut rects = ListRects { area: super::area_of(area), first_row: inner.y + 1, ..Default::default() };
    if history.is_empty() {
        frame.render_widget(Paragraph::new(Span::styled("no call ended yet", theme.dim())), inner);
        return rects;
    }
    let selected = app.focus.call.and_then(|id| history.iter().position(|r| r.id == id));
    let fit_rows = inner.height.saturating_sub(1) as usize;
    let (offset, shown) = super::streams::window(history.len(), fit_rows, selected);
    rects.offset = offset;
    rects.shown = shown;
    let number_w = history.iter().map(|r| r.number.as_ref().map_or(1, |n| n.to_string().len())).max().unwrap_or(1).max(6) as u16;
    // mm:ss, or h:mm:ss once a call passed an hour: never cut.
    let talk_w = history.iter().map(|r| clock(r.duration).len()).max().unwrap_or(5) as u16;
    let cols = layout(inner.width, number_w, talk_w);
    let rows = history.iter().enumerate().skip(offset).take(shown).map(|(i, r)| {
        let row = Row::new(cols.iter().map(|&(c, w)| cell(r, c, w, theme)).collect::<Vec<_>>());
        if selected == Some(i) {
            row.style(theme.selected())
        } else {
            row
        }
    });
    let header = Row::new(cols.iter().map(|&(c, _)| Cell::from(c.title()))).style(theme.title());
    let widths: Vec<Constraint> = cols.iter().map(|&(_, w)| Constraint::Length(w)).collect();
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
    rects
}

/// Rows the pane wants: the border, the header and one per call (one line when empty).
pub fn wanted_height(app: &App) -> u16 {
    match app.calls.history.len() {
        0 => 3,
        n => 3 + n as u16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_give_way_in_order_and_numbers_keep_their_width() {
        let names = |w| layout(w, 10, 5).iter().map(|&(c, _)| c.title()).collect::<Vec<_>>().join(" ");
        assert_eq!(names(200), "Time Number Result Talk Pkts Loss Jit ms MOS R File");
        assert_eq!(names(78), "Time Number Result Talk Pkts Loss Jit ms MOS R File");
        assert_eq!(names(72), "Time Number Result Talk Pkts Loss Jit ms MOS File");
        assert_eq!(names(60), "Time Number Result Talk Pkts Loss Jit ms MOS");
        let total: u16 = layout(78, 10, 5).iter().map(|&(_, w)| w + 1).sum();
        assert_eq!(total, 79, "the row fills the pane");
    }
}
