//! The RTP stream table: one row per SSRC with the RFC 3550 figures, and under it the
//! packets/s of the last minute and the audio level of the newest stream.
//!
//! Pure: everything time-dependent is computed against the `now` passed in.

use std::time::{Duration, Instant};

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, LineGauge, Paragraph, Row, Sparkline, Table};
use ratatui::Frame;

use crate::client::app::focus::ListRects;
use crate::client::app::summary::{codec_label, Last, StreamSummary};
use crate::client::ui::fit;
use crate::client::ui::theme::Theme;
use crate::core::stats::stream::{dbfs, Media};
use crate::core::stats::{StreamSet, StreamStats};

/// Lowest level the meter shows; quieter reads as an empty bar.
const METER_FLOOR_DBFS: f32 = -60.0;
/// Loss from this share on is shown as bad rather than a warning.
const BAD_LOSS_PERCENT: f64 = 5.0;

const WIDTHS: [Constraint; 13] = [
    Constraint::Length(10), // SSRC
    Constraint::Length(6),  // codec
    Constraint::Length(11), // first-last sequence
    Constraint::Length(6),  // received
    Constraint::Length(6),  // expected
    Constraint::Length(11), // lost
    Constraint::Length(4),  // duplicates
    Constraint::Length(4),  // out of order
    Constraint::Length(6),  // jitter
    Constraint::Length(6),  // max delta
    Constraint::Length(5),  // packets/s
    Constraint::Length(5),  // kbit/s
    Constraint::Length(6),  // since last
];

const HEADER: [&str; 13] =
    ["SSRC", "Codec", "Seq", "Recv", "Expect", "Lost", "Dup", "OoO", "Jit ms", "MaxΔms", "pkt/s", "kb/s", "Last"];

/// Columns in the order they give way when the pane is narrow: the sequence range, max
/// delta, kbit/s and duplicates go first; SSRC, loss, jitter and the stall clock stay.
const DROP_ORDER: [usize; 4] = [2, 9, 11, 6];

/// Indices of the columns that fit in `width` cells (one space between columns).
fn columns_for(width: u16) -> Vec<usize> {
    let mut cols: Vec<usize> = (0..WIDTHS.len()).collect();
    let need = |cols: &[usize]| -> u16 {
        cols.iter().map(|&i| match WIDTHS[i] { Constraint::Length(n) => n + 1, _ => 1 }).sum::<u16>()
    };
    for drop in DROP_ORDER {
        if need(&cols) <= width + 1 {
            break;
        }
        cols.retain(|&i| i != drop);
    }
    cols
}

/// What the stream pane shows: its rows, the selection, and what goes under the table.
pub struct StreamsView<'a> {
    pub rows: &'a [StreamSummary],
    /// The selected row; `None` follows the newest.
    pub selected: Option<usize>,
    pub focused: bool,
    pub title: String,
    /// A live stream whose packets/s and level are drawn under the table; without one,
    /// `notes` are drawn there.
    pub live: Option<&'a StreamStats>,
    pub notes: Vec<Line<'a>>,
    pub now: Instant,
}

/// Draw the stream pane of a bare stream set, all live (the set's own test and benches).
pub fn render_streams(f: &mut Frame, area: Rect, streams: &StreamSet, now: Instant, theme: &Theme) {
    let rows: Vec<StreamSummary> = streams.iter().map(|s| StreamSummary::live(s, now)).collect();
    let title = match streams.len() {
        0 | 1 => " RTP streams ".to_string(),
        n => format!(" RTP streams ({n}) "),
    };
    let view = StreamsView { rows: &rows, selected: None, focused: false, title, live: streams.newest(), notes: vec![], now };
    render(f, area, &view, theme);
}

/// Draw the stream pane into `area`; returns where its rows went (for the mouse).
pub fn render(f: &mut Frame, area: Rect, view: &StreamsView, theme: &Theme) -> ListRects {
    let block = super::pane_block(view.title.clone(), view.focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut rects = ListRects { area: super::area_of(area), ..Default::default() };
    if view.rows.is_empty() {
        f.render_widget(Paragraph::new(Span::styled("no RTP received yet", theme.dim())), inner);
        return rects;
    }
    // The table takes the rows it needs (header included); the two lines under it get what
    // is left, so a short pane shows rows rather than the rate and the level.
    let table_rows = (view.rows.len() as u16 + 1).min(inner.height).max(2);
    let row = |i: u16| Rect { y: inner.y + i, height: u16::from(i < inner.height), ..inner };
    let table_area = Rect { height: table_rows.min(inner.height), ..inner };
    let (under1, under2) = (row(table_rows), row(table_rows + 1));
    let (offset, shown) = render_table(f, table_area, view, theme);
    rects.first_row = table_area.y + 1;
    rects.offset = offset;
    rects.shown = shown;
    match view.live {
        Some(s) => {
            render_history(f, under1, s, view.now, theme);
            render_level(f, under2, s, view.now, theme);
        }
        None => {
            let w = inner.width as usize;
            for (line, at) in view.notes.iter().zip([under1, under2]) {
                f.render_widget(Paragraph::new(fit::line_end(line.clone(), w)), at);
            }
        }
    }
    rects
}

/// The first row shown and how many, so that the selection (or the newest) is in view.
pub fn window(len: usize, fit: usize, selected: Option<usize>) -> (usize, usize) {
    let offset = match selected {
        Some(i) if i < len => i.saturating_sub(fit.saturating_sub(1)).min(len.saturating_sub(fit)),
        _ => len.saturating_sub(fit),
    };
    (offset, fit.min(len - offset.min(len)))
}

fn render_table(f: &mut Frame, area: Rect, view: &StreamsView, theme: &Theme) -> (usize, usize) {
    let rows_fit = area.height.saturating_sub(1) as usize;
    let (offset, shown) = window(view.rows.len(), rows_fit, view.selected);
    let cols = columns_for(area.width);
    let newest = view.rows.len() - 1;
    let rows = view.rows.iter().enumerate().skip(offset).take(shown).map(|(i, s)| {
        let mut cells: Vec<Option<Cell>> = stream_row(s, i == newest, theme).into_iter().map(Some).collect();
        let row = Row::new(cols.iter().map(|&c| cells[c].take().unwrap_or_default()).collect::<Vec<_>>());
        if view.selected == Some(i) {
            row.style(theme.selected())
        } else {
            row
        }
    });
    let header = Row::new(cols.iter().map(|&i| Cell::from(HEADER[i]))).style(theme.title());
    let widths = widen(&cols, area.width);
    f.render_widget(Table::new(rows, widths).header(header).column_spacing(1), area);
    (offset, shown)
}

/// The columns' widths, with the room a wide pane has left shared out (up to double each),
/// so that a wide terminal reads as a table rather than a cramped left edge.
fn widen(cols: &[usize], width: u16) -> Vec<Constraint> {
    let base: Vec<u16> = cols.iter().map(|&i| match WIDTHS[i] { Constraint::Length(n) => n, _ => 1 }).collect();
    let need: u16 = base.iter().map(|n| n + 1).sum();
    let extra = width.saturating_sub(need) / cols.len().max(1) as u16;
    base.iter().map(|&n| Constraint::Length(n + extra.min(n))).collect()
}

fn stream_row<'a>(s: &StreamSummary, newest: bool, theme: &Theme) -> [Cell<'a>; 13] {
    let lost_style = match s.lost {
        0 => Style::new(),
        _ if s.lost_percent >= BAD_LOSS_PERCENT => theme.bad(),
        _ => theme.warn(),
    };
    let (last, last_style) = match s.last {
        Last::Ago { since, stalled } => (age(since, stalled), if stalled { theme.bad() } else { Style::new() }),
        Last::Ended => ("ended".to_string(), theme.dim()),
    };
    let ssrc_style = if newest { theme.accent() } else { Style::new() };
    [
        Cell::from(format!("{:#010x}", s.ssrc)).style(ssrc_style),
        Cell::from(codec_label(s.codec)),
        Cell::from(format!("{}-{}", s.first_seq, s.highest_seq)),
        Cell::from(fit::count(s.packets, 6)),
        Cell::from(fit::count(s.expected, 6)),
        Cell::from(format!("{} {:.1}%", fit::count(s.lost, 4), s.lost_percent)).style(lost_style),
        Cell::from(fit::count(s.duplicates, 4)),
        Cell::from(fit::count(s.out_of_order, 4)),
        Cell::from(fit::millis(s.jitter_ms, 2, 6)),
        Cell::from(fit::millis(s.max_delta_ms, 1, 6)),
        Cell::from(fit::count(s.pps, 5)),
        Cell::from(fit::millis(s.kbit_s, 1, 5)),
        Cell::from(last).style(last_style),
    ]
}

/// Time since the last packet; a stalled stream is marked so it reads without colour too.
pub fn age(d: Duration, stalled: bool) -> String {
    let secs = d.as_secs_f64();
    let mark = if stalled { "!" } else { "" };
    if secs < 10.0 {
        format!("{secs:.2}s{mark}")
    } else if secs < 1000.0 {
        format!("{secs:.0}s{mark}")
    } else {
        format!("{:.0}m{mark}", secs / 60.0)
    }
}

fn render_history(f: &mut Frame, area: Rect, s: &StreamStats, now: Instant, theme: &Theme) {
    let label = format!("{:#010x} pkt/s, 60 s ", s.ssrc);
    let [label_area, spark_area, value_area] = Layout::horizontal([
        Constraint::Length(label.len() as u16),
        Constraint::Length(crate::core::stats::stream::HISTORY_SECONDS as u16),
        Constraint::Fill(1),
    ])
    .areas(area);
    let data = s.history.last_seconds(now);
    let max = data.iter().copied().max().unwrap_or(0).max(1);
    f.render_widget(Span::styled(label, theme.dim()), label_area);
    f.render_widget(Sparkline::default().data(data).max(max).style(theme.accent()), spark_area);
    f.render_widget(Span::raw(format!(" {} now", s.pps)), value_area);
}

fn render_level(f: &mut Frame, area: Rect, s: &StreamStats, now: Instant, theme: &Theme) {
    let level = s.audio_level();
    let (ratio, text, style) = if !matches!(Media::of(s.codec()), Media::G711(_)) {
        (0.0, format!("no level: {} is not decoded", s.codec().name()), theme.dim())
    } else if s.stalled(now) {
        (0.0, "no audio: stream stalled".to_string(), theme.bad())
    } else {
        let ratio = ((level.rms_dbfs - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS).clamp(0.0, 1.0);
        let text = format!("{} rms, {} peak", dbfs(level.rms_dbfs), dbfs(level.peak_dbfs));
        (ratio as f64, text, theme.good())
    };
    let label = Line::from(vec![Span::styled("level ", theme.dim()), Span::raw(text), Span::raw(" ")]);
    let [label_area, gauge_area] =
        Layout::horizontal([Constraint::Length(label.width() as u16), Constraint::Fill(1)]).areas(area);
    f.render_widget(label, label_area);
    let gauge = LineGauge::default()
        .ratio(ratio)
        .label("")
        .filled_symbol("█")
        .unfilled_symbol("░")
        .filled_style(style)
        .unfilled_style(theme.dim());
    f.render_widget(gauge, gauge_area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::audio::Tone;
    use crate::core::rtp::RtpHeader;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    /// Two streams: a PCMU one with loss, a duplicate and a late packet that stopped two
    /// seconds ago, and the newest, a live PCMA one with a tone.
    fn two_streams(t0: Instant) -> (StreamSet, Instant) {
        let mut set = StreamSet::default();
        let mut tone = Tone::new(440.0, 8000.0, 0.25);
        let mut ulaw = [0u8; 160];
        let mut order: Vec<u16> = (0..250).filter(|s| s % 25 != 7).collect();
        order.swap(100, 101);
        order.insert(50, 49);
        for (i, &seq) in order.iter().enumerate() {
            tone.fill_ulaw(&mut ulaw);
            let h = RtpHeader { payload_type: 0, sequence: 65400u16.wrapping_add(seq), timestamp: 160 * seq as u32, ssrc: 0x1a2b3c4d, marker: false };
            let jitter = (i as u64 * 7919) % 3000;
            set.on_packet(&h, &ulaw, 172, t0 + Duration::from_micros(20_000 * seq as u64 + jitter));
        }
        let start2 = t0 + Duration::from_secs(3);
        for seq in 0..400u16 {
            let alaw: Vec<u8> = ulaw.iter().map(|&u| crate::core::audio::linear_to_alaw(crate::core::audio::ulaw_to_linear(u) / 2)).collect();
            tone.fill_ulaw(&mut ulaw);
            let h = RtpHeader { payload_type: 8, sequence: 100 + seq, timestamp: 160 * seq as u32, ssrc: 0xcafe0001, marker: false };
            set.on_packet(&h, &alaw, 172, start2 + Duration::from_millis(20 * seq as u64));
        }
        let now = start2 + Duration::from_millis(20 * 399 + 15);
        set.on_tick(now);
        (set, now)
    }

    fn draw(set: &StreamSet, now: Instant, w: u16, h: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| render_streams(f, f.area(), set, now, &Theme::PLAIN)).unwrap();
        terminal
    }

    #[test]
    fn two_streams_snapshot() {
        let t0 = Instant::now();
        let (set, now) = two_streams(t0);
        insta::assert_snapshot!(draw(&set, now, 100, 12).backend());
    }

    #[test]
    fn empty_snapshot() {
        insta::assert_snapshot!(draw(&StreamSet::default(), Instant::now(), 60, 4).backend());
    }

    #[test]
    fn a_stalled_stream_reads_without_colour() {
        let t0 = Instant::now();
        let (set, now) = two_streams(t0);
        let later = now + Duration::from_millis(600);
        let backend = draw(&set, later, 100, 12);
        let text = format!("{}", backend.backend());
        assert!(text.contains("0.61s!"), "{text}");
        assert!(text.contains("no audio: stream stalled"), "{text}");
    }

    #[test]
    fn only_the_newest_rows_when_not_all_fit() {
        let t0 = Instant::now();
        let mut set = StreamSet::default();
        for ssrc in 1..=10u32 {
            let h = RtpHeader { payload_type: 0, sequence: 1, timestamp: 0, ssrc, marker: false };
            set.on_packet(&h, &[0xff; 160], 172, t0);
        }
        let text = format!("{}", draw(&set, t0, 100, 8).backend());
        assert!(text.contains("RTP streams (10)"));
        // The rows come before the rate and level lines when the pane is short.
        assert!(text.contains("0x0000000a") && text.contains("0x00000006") && !text.contains("0x00000005"), "{text}");
    }
}
