//! Fitting text into columns: cut at the end with `…`, or in the middle for file names so
//! that their extension and the end of a timestamp stay. Widths are terminal columns.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// At most `w` columns of `s`, ending in `…` when cut.
pub fn end(s: &str, w: usize) -> String {
    if s.width() <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut cols = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if cols + cw + 1 > w {
            break;
        }
        out.push(c);
        cols += cw;
    }
    out.push('…');
    out
}

/// At most `w` columns of `s`, its middle replaced by `…` when cut (`rtp_cap…_101500.wav`).
pub fn middle(s: &str, w: usize) -> String {
    if s.width() <= w {
        return s.to_string();
    }
    if w < 5 {
        return end(s, w);
    }
    let tail_w = (w - 1) / 2;
    let head_w = w - 1 - tail_w;
    let mut head = String::new();
    let mut cols = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if cols + cw > head_w {
            break;
        }
        head.push(c);
        cols += cw;
    }
    let mut tail: Vec<char> = Vec::new();
    let mut cols = 0;
    for c in s.chars().rev() {
        let cw = c.width().unwrap_or(0);
        if cols + cw > tail_w {
            break;
        }
        tail.push(c);
        cols += cw;
    }
    head.push('…');
    head.extend(tail.into_iter().rev());
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_the_end_with_an_ellipsis() {
        assert_eq!(end("short.wav", 20), "short.wav");
        assert_eq!(end("a-very-long-name.wav", 8), "a-very-…");
        assert_eq!(end("日本語.wav", 5), "日本…");
        assert_eq!(end("abc", 0), "");
    }

    #[test]
    fn file_names_are_shortened_in_the_middle() {
        assert_eq!(middle("rtp_capture_20261201_101500.wav", 20), "rtp_captur…01500.wav");
        assert_eq!(middle("rtp_capture_20261201_101500.wav", 20).width(), 20);
        assert_eq!(middle("a.wav", 20), "a.wav");
        assert_eq!(middle("日本語日本語.wav", 9).width(), 9);
    }
}

/// A line of spans cut to `w` columns, ending in `…` when cut (styles kept).
pub fn line_end(line: ratatui::text::Line<'_>, w: usize) -> ratatui::text::Line<'static> {
    use ratatui::text::{Line, Span};
    let total: usize = line.spans.iter().map(|s| s.content.width()).sum();
    let own = |s: &Span| Span::styled(s.content.to_string(), s.style);
    if total <= w {
        return Line::from(line.spans.iter().map(own).collect::<Vec<_>>()).style(line.style);
    }
    let mut out = Vec::new();
    let mut left = w;
    for s in &line.spans {
        let sw = s.content.width();
        if sw < left {
            out.push(own(s));
            left -= sw;
            continue;
        }
        // The span that reaches the edge takes the ellipsis.
        out.push(Span::styled(end(&s.content, left), s.style));
        break;
    }
    Line::from(out).style(line.style)
}

/// A count in at most `w` columns: whole when it fits, else in thousands or millions
/// (`123k`, `4.5M`), never cut.
pub fn count(n: u64, w: usize) -> String {
    let whole = n.to_string();
    if whole.len() <= w {
        return whole;
    }
    let k = n as f64 / 1000.0;
    if k < 1000.0 {
        format!("{k:.0}k")
    } else {
        format!("{:.1}M", k / 1000.0)
    }
}

/// Milliseconds in at most `w` columns: decimals go first, then whole seconds (`37s`).
pub fn millis(ms: f64, decimals: usize, w: usize) -> String {
    for d in (0..=decimals).rev() {
        let s = format!("{ms:.d$}");
        if s.len() <= w {
            return s;
        }
    }
    format!("{:.0}s", ms / 1000.0)
}

#[cfg(test)]
mod number_tests {
    use super::*;

    #[test]
    fn numbers_lose_precision_never_digits() {
        assert_eq!(millis(36989.4, 1, 6), "36989");
        assert_eq!(millis(12.34, 2, 6), "12.34");
        assert_eq!(millis(1_234_567.0, 1, 6), "1235s");
        assert_eq!(count(999_999, 6), "999999");
        assert_eq!(count(1_234_567, 6), "1.2M");
        assert_eq!(count(123_456, 5), "123k");
    }

    #[test]
    fn lines_are_cut_with_an_ellipsis() {
        use ratatui::text::{Line, Span};
        let l = Line::from(vec![Span::raw("Server "), Span::raw("disconnected: connection reset")]);
        let cut = line_end(l, 20);
        let text: String = cut.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "Server disconnected…");
    }
}
