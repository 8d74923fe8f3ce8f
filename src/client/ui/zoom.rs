//! The zoom view (`Enter`): every figure of one stream, or one call of the history with its
//! streams, in a box over the dashboard. Esc or q closes it.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::{centered, clock, fit, size, Theme};
use crate::client::app::focus::Zoom;
use crate::client::app::summary::{Last, StreamSummary};
use crate::client::app::{App, CallRecord};
use crate::core::stats::emodel::Score;
use crate::core::stats::stream::dbfs;

pub fn render(app: &App, zoom: Zoom, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (title, mut lines) = match zoom {
        Zoom::Stream { call, index } => match app.zoomed_stream(call, index) {
            Some(s) => (format!(" Stream {:#010x} ", s.ssrc), stream_lines(&s, theme)),
            None => (" Stream ".into(), vec![Line::from("that stream is gone")]),
        },
        Zoom::Call(id) => match app.calls.history.iter().find(|r| r.id == id) {
            Some(r) => (format!(" Call {} ", r.started.format("%H:%M:%S")), call_lines(r, theme)),
            None => (" Call ".into(), vec![Line::from("that call is no longer in the history")]),
        },
    };
    let hint = match zoom {
        Zoom::Stream { .. } => "Up/Down other streams, Esc closes",
        Zoom::Call(_) => "Esc closes",
    };
    lines.push(Line::from(Span::styled(hint, theme.dim())));
    let rect = centered(area, 76, lines.len() as u16 + 2);
    let w = rect.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = lines.into_iter().map(|l| fit::line_end(l, w)).collect();
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, theme.title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

fn kv<'a>(k: &'static str, v: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![Span::styled(format!("{k:<12}"), theme.dim()), Span::raw(v)])
}

fn score(s: Option<Score>) -> String {
    match s {
        Some(s) => format!("R {:.1}, MOS {:.2} (ITU-T G.107 E-model)", s.r, s.mos),
        None => "- (no G.711 audio)".into(),
    }
}

fn stream_lines<'a>(s: &StreamSummary, theme: &Theme) -> Vec<Line<'a>> {
    let last = match s.last {
        Last::Ago { since, stalled: true } => format!("{:.2} s ago: stalled", since.as_secs_f64()),
        Last::Ago { since, stalled: false } => format!("{:.2} s ago", since.as_secs_f64()),
        Last::Ended => "ended (the call is over)".into(),
    };
    vec![
        kv("Codec", format!("{} (PT {})", s.codec.name(), s.payload_type), theme),
        kv("Sequence", format!("{} to {}", s.first_seq, s.highest_seq), theme),
        kv("Received", format!("{} of {} expected", s.packets, s.expected), theme),
        kv("Lost", format!("{} ({:.2}%)", s.lost, s.lost_percent), theme),
        kv("Duplicates", format!("{}, out of order {}", s.duplicates, s.out_of_order), theme),
        kv("Jitter", format!("{:.2} ms, largest gap {:.1} ms", s.jitter_ms, s.max_delta_ms), theme),
        kv("Rate", format!("{} pkt/s, {:.1} kbit/s", s.pps, s.kbit_s), theme),
        kv("Lasted", format!("{:.1} s", s.lasted.as_secs_f64()), theme),
        kv("Last packet", last, theme),
        kv("Level", format!("{} rms, {} peak", dbfs(s.rms_dbfs), dbfs(s.peak_dbfs)), theme),
        kv("DTMF", format!("{} events", s.dtmf_events), theme),
        kv("Quality", score(s.score), theme),
    ]
}

fn call_lines<'a>(r: &CallRecord, theme: &Theme) -> Vec<Line<'a>> {
    let number = r.number.as_ref().map(|n| n.to_string()).unwrap_or_else(|| "- (RTP with no call)".into());
    let file = r.file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "not saved".into());
    let mut lines = vec![
        kv("Started", r.started.format("%Y-%m-%d %H:%M:%S").to_string(), theme),
        kv("Number", number, theme),
        kv("Result", r.result.label().to_string(), theme),
        kv("Talk time", clock(r.duration), theme),
        kv("Packets", format!("{}, {:.2}% lost, worst jitter {:.2} ms", r.packets, r.loss_percent, r.jitter_ms), theme),
        kv("Quality", score(r.score), theme),
        kv("Audio", format!("{:.1} s recorded ({} as mu-law)", r.seconds, size((r.seconds * 8000.0) as u64)), theme),
        Line::from(vec![Span::styled(format!("{:<12}", "Saved"), theme.dim()), Span::raw(fit::middle(&file, 62))]),
        Line::from(Span::styled(format!("Streams ({})", r.streams.len()), theme.title())),
    ];
    lines.extend(r.streams.iter().map(|s| Line::from(s.line())));
    lines
}
