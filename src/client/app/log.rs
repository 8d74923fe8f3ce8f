//! The session log: a bounded ring of timestamped lines, newest kept.

use chrono::{DateTime, Local};
use std::collections::VecDeque;

/// Longest text kept per line; the rest is cut with a note of the full length.
pub const MAX_LINE_CHARS: usize = 2000;
pub const DEFAULT_CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// A status line from the server.
    Server,
    /// Something the client sent or did.
    Client,
    Info,
    Warn,
    Error,
}

impl LogKind {
    pub fn tag(self) -> &'static str {
        match self {
            LogKind::Server => "srv",
            LogKind::Client => "you",
            LogKind::Info => "---",
            LogKind::Warn => "WRN",
            LogKind::Error => "ERR",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Position in the whole session (survives eviction from the ring).
    pub seq: u64,
    pub time: DateTime<Local>,
    pub kind: LogKind,
    pub text: String,
}

impl LogLine {
    /// The form written to `--log-file` and printed in line mode.
    pub fn plain(&self) -> String {
        format!("[{}] {} {}", self.time.format("%Y-%m-%d %H:%M:%S"), self.kind.tag(), self.text)
    }
}

#[derive(Debug, Clone)]
pub struct LogRing {
    lines: VecDeque<LogLine>,
    cap: usize,
    next_seq: u64,
}

impl Default for LogRing {
    fn default() -> Self {
        LogRing::with_capacity(DEFAULT_CAPACITY)
    }
}

impl LogRing {
    pub fn with_capacity(cap: usize) -> LogRing {
        LogRing { lines: VecDeque::with_capacity(cap.min(1024)), cap: cap.max(1), next_seq: 0 }
    }

    pub fn push(&mut self, time: DateTime<Local>, kind: LogKind, text: &str) {
        let text = clip(text);
        if self.lines.len() == self.cap {
            self.lines.pop_front();
        }
        self.lines.push_back(LogLine { seq: self.next_seq, time, kind, text });
        self.next_seq += 1;
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Lines ever pushed, including those evicted.
    pub fn total(&self) -> u64 {
        self.next_seq
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &LogLine> + ExactSizeIterator {
        self.lines.iter()
    }

    /// Lines with `seq >= from` still in the ring (for writers that follow the log).
    pub fn since(&self, from: u64) -> impl Iterator<Item = &LogLine> {
        let first = self.lines.front().map_or(self.next_seq, |l| l.seq);
        let skip = from.saturating_sub(first) as usize;
        self.lines.iter().skip(skip)
    }

    pub fn last(&self) -> Option<&LogLine> {
        self.lines.back()
    }
}

/// Cut a line to [`MAX_LINE_CHARS`] and flatten control characters so one server line is one
/// screen line.
fn clip(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_LINE_CHARS + 32));
    for (i, c) in text.chars().enumerate() {
        if i == MAX_LINE_CHARS {
            out.push_str(&format!(" … [cut, {} bytes in all]", text.len()));
            return out;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_newest_lines() {
        let mut r = LogRing::with_capacity(3);
        for i in 0..5 {
            r.push(Local::now(), LogKind::Info, &format!("line {i}"));
        }
        let texts: Vec<_> = r.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, vec!["line 2", "line 3", "line 4"]);
        assert_eq!(r.total(), 5);
        assert_eq!(r.since(3).map(|l| l.seq).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(r.since(0).count(), 3);
        assert_eq!(r.since(9).count(), 0);
    }

    #[test]
    fn long_lines_are_cut_and_controls_flattened() {
        let mut r = LogRing::default();
        r.push(Local::now(), LogKind::Server, &"x".repeat(1_048_576));
        let l = r.last().unwrap();
        assert!(l.text.len() < MAX_LINE_CHARS + 64);
        assert!(l.text.ends_with("[cut, 1048576 bytes in all]"));
        r.push(Local::now(), LogKind::Server, "a\nb\tc\x1b[31m");
        assert_eq!(r.last().unwrap().text, "a b c [31m");
    }
}
