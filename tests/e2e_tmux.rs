//! End to end: the real binary with `--demo` in a real terminal (tmux).

mod tmux;

use std::process::Command;
use std::time::Duration;

use tmux::{number_after, sipdeck, Tmux};

const WAIT: Duration = Duration::from_secs(15);

fn connected(s: &str) -> bool {
    s.contains("● connected")
}

#[test]
fn demo_call_count_save_and_quit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("session.log");
    let cmd = format!("{} --demo --record-dir . --log-file {}", sipdeck(), log.display());
    let t = Tmux::start(&cmd, dir.path(), 80, 24, &[]);
    t.wait_for("connection", WAIT, connected);
    assert_eq!(t.display("#{alternate_on}"), "1", "the dashboard uses the alternate screen");
    t.keys(&["1"]);
    let s = t.wait_for("packets", WAIT, |s| number_after(s, "Packets").is_some_and(|n| n >= 25));
    assert!(s.contains("in call with 0938220136"), "{s}");
    let first = number_after(&s, "Packets").unwrap();
    let s = t.wait_for("the counter to rise", WAIT, |s| number_after(s, "Packets").is_some_and(|n| n >= first + 25));
    assert!(s.contains("Call answered"));
    t.keys(&["7"]);
    t.wait_for("the save", WAIT, |s| s.contains("saved "));
    let saved: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("rtp_capture_") && n.ends_with(".wav"))
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let soxi = Command::new("sox").arg("--i").arg(dir.path().join(&saved[0])).output().expect("sox must be installed");
    let info = String::from_utf8_lossy(&soxi.stdout);
    assert!(soxi.status.success(), "sox cannot read the file: {}", String::from_utf8_lossy(&soxi.stderr));
    assert!(info.contains("Channels       : 1"), "{info}");
    assert!(info.contains("Sample Rate    : 8000"), "{info}");
    assert!(info.contains("u-law"), "{info}");
    // sox decodes the whole file without complaint.
    let dec = Command::new("sox").arg(dir.path().join(&saved[0])).args(["-n", "stat"]).output().unwrap();
    assert!(dec.status.success(), "{}", String::from_utf8_lossy(&dec.stderr));
    // ffmpeg reads it as 8 kHz mono mu-law too, and decodes it without a complaint.
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels", "-of", "default=nw=1"])
        .arg(dir.path().join(&saved[0]))
        .output()
        .expect("ffprobe must be installed (ffmpeg)");
    let probed = String::from_utf8_lossy(&probe.stdout);
    assert!(probe.status.success(), "{}", String::from_utf8_lossy(&probe.stderr));
    for want in ["codec_name=pcm_mulaw", "sample_rate=8000", "channels=1"] {
        assert!(probed.contains(want), "ffprobe: {probed}");
    }
    let ff = Command::new("ffmpeg").args(["-v", "error", "-i"]).arg(dir.path().join(&saved[0])).args(["-f", "null", "-"]).output().unwrap();
    assert!(ff.status.success() && ff.stderr.is_empty(), "ffmpeg: {}", String::from_utf8_lossy(&ff.stderr));
    // The call is still up: quitting asks first.
    t.keys(&["8"]);
    let s = t.wait_for("the question", WAIT, |s| s.contains("Quit sipdeck?"));
    assert!(s.contains("The call with 0938220136 is up."), "{s}");
    t.keys(&["y"]);
    let s = t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with"));
    assert!(s.contains("sipdeck exited with 0"), "{s}");
    assert_eq!(t.display("#{alternate_on}"), "0", "terminal left in the alternate screen");
    assert_eq!(t.display("#{cursor_flag}"), "1", "cursor left hidden");
    assert!(!s.contains("┌ sipdeck"), "dashboard still on screen:\n{s}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("srv Call answered") && logged.contains("saved "), "{logged}");
}

#[test]
fn dialogs_help_resize_and_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!("{} --demo", sipdeck());
    let t = Tmux::start(&cmd, dir.path(), 80, 24, &[]);
    t.wait_for("connection", WAIT, connected);
    t.keys(&["?"]);
    t.wait_for("help", WAIT, |s| s.contains("Esc closes this help"));
    t.keys(&["Escape"]);
    t.wait_for("help closed", WAIT, |s| !s.contains("Esc closes this help"));
    // A number that is too short is refused in the dialog, a good one is called.
    t.keys(&["c", "1", "2", "Enter"]);
    t.wait_for("the refusal", WAIT, |s| s.contains("needs at least 3 digits"));
    t.keys(&["3", "4", "5", "Enter"]);
    t.wait_for("the call", WAIT, |s| s.contains("Calling 12345"));
    t.resize(120, 40);
    t.wait_for("the wider screen", WAIT, |s| s.lines().next().is_some_and(|l| l.chars().count() == 120 && l.ends_with('┐')));
    t.resize(50, 12);
    t.wait_for("the small screen", WAIT, |s| s.lines().next().is_some_and(|l| l.chars().count() == 50 && l.ends_with('┐')));
    t.resize(20, 6);
    t.wait_for("the too-small notice", WAIT, |s| s.contains("sipdeck needs"));
    t.resize(80, 24);
    // The call is up: Ctrl-C asks first, and a second Ctrl-C quits.
    t.keys(&["C-c"]);
    t.wait_for("the question", WAIT, |s| s.contains("Quit sipdeck?"));
    t.keys(&["C-c"]);
    let s = t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with"));
    assert!(s.contains("sipdeck exited with 0"), "{s}");
    assert_eq!(t.display("#{alternate_on}"), "0");
}

#[test]
fn no_color_means_no_colour() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!("{} --demo", sipdeck());
    let plain = Tmux::start(&cmd, dir.path(), 80, 24, &[("NO_COLOR", "1")]);
    let coloured = Tmux::start(&cmd, dir.path(), 80, 24, &[]);
    plain.wait_for("connection", WAIT, connected);
    coloured.wait_for("connection", WAIT, connected);
    // A foreground colour is SGR 30-37/90-97, or 38;5;N / 38;2;R;G;B as tmux writes them.
    let has_colour = |s: &str| {
        s.contains("38;5;") || s.contains("38;2;") || (30..=37).chain(90..=97).any(|c| s.contains(&format!("\x1b[{c}m")))
    };
    assert!(has_colour(&coloured.screen_escaped()), "expected colour by default");
    assert!(!has_colour(&plain.screen_escaped()), "NO_COLOR was not respected:\n{:?}", plain.screen_escaped());
    plain.keys(&["q"]);
    coloured.keys(&["q"]);
    plain.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with 0"));
}

#[test]
fn bad_flags_and_unreachable_servers_are_explained() {
    let out = Command::new(sipdeck()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--server", "--port", "--url", "--demo", "--number", "--record-dir", "--log-file", "gateway"] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    let out = Command::new(sipdeck()).args(["--number", "12"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 3 digits"));
    // Nothing listens on port 1: the dashboard stays up and says why.
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(&format!("{} -s 127.0.0.1 -p 1", sipdeck()), dir.path(), 100, 24, &[]);
    t.wait_for("the refusal", WAIT, |s| s.contains("connection refused"));
    t.keys(&["1"]);
    t.wait_for("the refused command", WAIT, |s| s.contains("not connected: CALL:0938220136 was not sent"));
    t.keys(&["8"]);
    t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with 0"));
}

#[test]
fn a_panic_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(&format!("{} --demo", sipdeck()), dir.path(), 80, 24, &[("SIPDECK_TEST_PANIC", "1"), ("RUST_BACKTRACE", "0")]);
    t.wait_for("connection", WAIT, connected);
    assert_eq!(t.display("#{alternate_on}"), "1");
    t.keys(&["F12"]);
    let s = t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with"));
    assert!(s.contains("sipdeck exited with 101"), "{s}");
    assert!(s.contains("test panic requested with F12"), "the panic message is readable:\n{s}");
    assert_eq!(t.display("#{alternate_on}"), "0", "left in the alternate screen");
    assert_eq!(t.display("#{cursor_flag}"), "1", "cursor left hidden");
}

/// At 200x60 the counters stand beside the streams and the log beside the history; `/`
/// searches the log and `n` steps to an older match; Esc clears the search.
#[test]
fn wide_layout_and_log_search() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(&format!("{} --demo", sipdeck()), dir.path(), 200, 60, &[]);
    t.wait_for("connection", WAIT, connected);
    let s = t.screen();
    assert!(s.lines().any(|l| l.contains("RTP streams") && l.contains("┌ RTP ─")), "counters beside the streams:\n{s}");
    assert!(s.lines().any(|l| l.starts_with('│') && l.contains("Log (")), "log beside the history:\n{s}");
    t.keys(&["/"]);
    for c in ["c", "o", "n", "n"] {
        t.keys(&[c]);
    }
    t.wait_for("the search prompt", WAIT, |s| s.contains("/conn  Enter searches the log"));
    t.keys(&["Enter"]);
    t.wait_for("the search", WAIT, |s| s.contains("Log (/conn n N Esc;"));
    t.keys(&["n", "n", "n"]);
    t.wait_for("no older match", WAIT, |s| s.contains("/conn: no more;"));
    t.keys(&["Escape"]);
    t.wait_for("the search cleared", WAIT, |s| !s.contains("/conn"));
    t.keys(&["q"]);
    t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with 0"));
}
