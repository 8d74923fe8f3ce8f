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
