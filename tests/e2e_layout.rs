//! End to end: the layout, the call history, focus, zoom and the mouse in a real terminal
//! (tmux) at 80x24 and 200x60, with the real binary and its demo peer.

mod tmux;

use std::time::Duration;

use tmux::{sipdeck, Tmux};

const WAIT: Duration = Duration::from_secs(20);

/// Place a call with `keys`, wait for its audio, hang up, and wait for the history's row.
fn call_and_hang_up(t: &Tmux, keys: &[&str], rows_after: usize) {
    t.keys(keys);
    t.wait_for("the call's audio", WAIT, |s| s.contains("in call with") && s.contains("PCMU"));
    t.keys(&["3"]);
    t.wait_for("the history row", WAIT, |s| s.contains(&format!("Calls ({rows_after})")));
}

/// The history's rows on screen (they start with the call's time).
fn history_rows(s: &str, number: &str) -> usize {
    s.lines().filter(|l| l.contains(number) && l.contains("answered")).count()
}

#[test]
fn two_calls_fill_the_history_and_selecting_one_shows_its_streams_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(&format!("{} --demo", sipdeck()), dir.path(), 80, 24, &[]);
    t.wait_for("connection", WAIT, |s| s.contains("● connected"));
    assert_eq!(t.display("#{mouse_any_flag}"), "1", "the dashboard takes the mouse by default");
    call_and_hang_up(&t, &["1"], 1);
    call_and_hang_up(&t, &["c", "0", "9", "1", "2", "3", "4", "5", "6", "7", "8", "Enter"], 2);
    let s = t.screen();
    assert_eq!(history_rows(&s, "0938220136") + history_rows(&s, "0912345678"), 2, "{s}");
    assert!(s.contains("call ended") && !s.contains("s!"), "ended streams do not read as stalled:\n{s}");
    // Tab twice: the history has the focus (a thick frame); Home selects the first call.
    t.keys(&["Tab", "Tab"]);
    t.wait_for("the history focused", WAIT, |s| s.contains("┏ Calls (2)"));
    t.keys(&["Home"]);
    let s = t.wait_for("the first call's streams", WAIT, |s| s.contains("of the call at") && s.contains("with 0938220136"));
    assert!(s.contains("ended"), "{s}");
    // Down: the second call's.
    t.keys(&["Down"]);
    t.wait_for("the second call's streams", WAIT, |s| s.contains("with 0912345678, ended"));
    // Enter zooms into the call; q closes the zoom, not the program.
    t.keys(&["Enter"]);
    t.wait_for("the call's details", WAIT, |s| s.contains("Talk time") && s.contains("Streams (1)"));
    t.keys(&["q"]);
    t.wait_for("the zoom closed", WAIT, |s| !s.contains("Talk time"));
    // Esc: back to the current call's streams.
    t.keys(&["Escape"]);
    t.wait_for("the current call's streams", WAIT, |s| !s.contains("of the call at"));
    t.keys(&["q"]);
    t.wait_for("the question", WAIT, |s| s.contains("Quit sipdeck?"));
    t.keys(&["y"]);
    t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with 0"));
    assert_eq!(t.display("#{mouse_any_flag}"), "0", "mouse mode left on");
}

/// At 200x60 the stream table and the counters stand side by side, and the history beside
/// the log; a click on a history row selects it, the wheel over the log scrolls it.
#[test]
fn wide_layout_puts_streams_history_and_log_side_by_side_and_takes_the_mouse_at_200x60() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(&format!("{} --demo", sipdeck()), dir.path(), 200, 60, &[]);
    t.wait_for("connection", WAIT, |s| s.contains("● connected"));
    call_and_hang_up(&t, &["1"], 1);
    call_and_hang_up(&t, &["1"], 2);
    let s = t.screen();
    assert!(s.lines().any(|l| l.contains("RTP streams") && l.contains("┌ RTP ─")), "streams beside the counters:\n{s}");
    let row = s.lines().find(|l| l.contains("0938220136") && l.contains("answered")).expect("a history row");
    assert!(row.matches('│').count() + row.matches('┃').count() >= 3, "the history row shares its line with the log:\n{s}");
    assert!(s.lines().any(|l| l.contains("┌ Calls (2)")) && s.contains("Log ("), "{s}");
    // A click on the first history row (SGR mouse report: button 0 at column, row, 1-based).
    let y = s.lines().position(|l| l.contains("0938220136") && l.contains("answered")).unwrap() + 1;
    t.raw(&format!("\x1b[<0;5;{y}M"));
    t.raw(&format!("\x1b[<0;5;{y}m"));
    t.wait_for("the clicked call's streams", WAIT, |s| s.contains("┏ Calls (2)") && s.contains("of the call at"));
    // The wheel over the log scrolls it up, once the log is longer than its pane.
    for _ in 0..15 {
        t.keys(&["4"]);
    }
    t.wait_for("a long log", WAIT, |s| s.matches("statistics:").count() >= 5);
    let log_y = s.lines().position(|l| l.contains("Log (")).unwrap() + 3;
    t.raw(&format!("\x1b[<64;180;{log_y}M"));
    t.wait_for("the log scrolled", WAIT, |s| s.contains("lines up; End follows"));
    t.keys(&["q"]);
    t.wait_for("the question", WAIT, |s| s.contains("Quit sipdeck?"));
    t.keys(&["y"]);
    t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with 0"));
}

#[test]
fn no_mouse_leaves_the_mouse_to_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(&format!("{} --demo --no-mouse", sipdeck()), dir.path(), 80, 24, &[]);
    t.wait_for("connection", WAIT, |s| s.contains("● connected"));
    assert_eq!(t.display("#{mouse_any_flag}"), "0");
    t.keys(&["q"]);
    t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with 0"));
}
