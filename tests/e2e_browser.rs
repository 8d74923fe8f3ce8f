//! End to end in a real terminal (tmux) with `--demo`: open the file browser, walk to
//! `assets/`, upload a ready file and a file that needs converting, see the acks, refuse the
//! broken file, play the converted one and watch its RTP arrive.

mod tmux;

use std::time::Duration;

use tmux::{number_after, sipdeck, Tmux};

const WAIT: Duration = Duration::from_secs(20);

fn typed(t: &Tmux, text: &str) {
    let keys: Vec<String> = text.chars().map(|c| c.to_string()).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    t.keys(&keys);
}

/// Esc clears an applied filter (a second Esc would close the pane). Wait for it, so the
/// next key is not read together with the Escape as Alt+key.
fn clear_filter(t: &Tmux) {
    t.keys(&["Escape"]);
    t.wait_for("the filter to clear", WAIT, |s| !s.contains("filter: ") && s.contains("Files (3)"));
}

#[test]
fn browse_upload_convert_ack_and_play() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let cwd = tempfile::tempdir().unwrap();
    let cmd = format!("{} --demo --wav-dir '{repo}'", sipdeck());
    let t = Tmux::start(&cmd, cwd.path(), 100, 30, &[]);
    t.wait_for("connection", WAIT, |s| s.contains("● connected"));

    // Open the pane at --wav-dir and walk into assets/ by filtering for it.
    t.keys(&["5"]);
    t.wait_for("the pane", WAIT, |s| s.contains("Upload a WAV:") && s.contains("assets/"));
    t.keys(&["/"]);
    typed(&t, "assets");
    t.keys(&["Enter"]);
    let s = t.wait_for("assets/", WAIT, |s| s.contains("tone-8k-mulaw.wav") && s.contains("chord-44k-stereo.wav"));
    assert!(s.lines().any(|l| l.contains("Upload a WAV:") && l.contains("assets ")), "{s}");

    // A ready file: its header says so, Enter uploads it as it is.
    t.keys(&["/"]);
    typed(&t, "tone");
    let s = t.wait_for("the info box", WAIT, |s| s.contains("ready: 8000 Hz mono mu-law"));
    assert!(s.contains("Duration 4.00 s"), "{s}");
    t.keys(&["Enter"]);
    t.wait_for("the ack of the ready file", WAIT, |s| s.contains("acknowledged: tone-8k-mulaw.wav (32058 bytes)"));
    clear_filter(&t);

    // The broken file is refused locally.
    t.keys(&["/"]);
    typed(&t, "broken");
    t.keys(&["Enter"]);
    t.wait_for("the refusal", WAIT, |s| s.contains("not uploaded: broken, will not be sent"));
    clear_filter(&t);

    // The 44.1 kHz stereo file: Enter offers to convert, y converts and uploads it.
    t.keys(&["/"]);
    typed(&t, "chord");
    t.wait_for("the verdict", WAIT, |s| s.contains("needs converting: 44100 Hz, not 8000"));
    t.keys(&["Enter"]);
    t.wait_for("the offer", WAIT, |s| s.contains("Convert before uploading") && s.contains("3.00 s of 8000 Hz mono mu-law"));
    t.keys(&["y"]);
    let s = t.wait_for("the ack of the converted file", WAIT, |s| {
        s.contains("acknowledged: chord-44k-stereo.wav (24058 bytes)")
    });
    assert!(!s.contains("Convert before uploading"), "{s}");

    // Both are in the acknowledged list, newest first; play the converted one.
    t.keys(&["Tab"]);
    t.keys(&["6"]);
    let s = t.wait_for("the dashboard with the stream", WAIT, |s| {
        s.contains("Playing chord-44k-stereo.wav (3.0 s)") && number_after(s, "Packets").is_some_and(|n| n >= 150)
    });
    assert!(!s.contains("Upload a WAV:"), "playing returns to the dashboard:\n{s}");
    assert!(s.contains("✓ chord-44k-stereo.wav") && s.contains("✓ tone-8k-mulaw.wav"), "{s}");

    // The pane remembers where it was.
    t.keys(&["5"]);
    t.wait_for("the pane again", WAIT, |s| s.lines().any(|l| l.contains("Upload a WAV:") && l.contains("assets ")));
    // Escape and the next key must not arrive together, or they read as Alt+key.
    t.keys(&["Escape"]);
    t.wait_for("the pane to close", WAIT, |s| !s.contains("Upload a WAV:"));
    // Audio arrived and was never saved: quitting asks first.
    t.keys(&["8"]);
    t.wait_for("the question", WAIT, |s| s.contains("Quit sipdeck?") && s.contains("not saved"));
    t.keys(&["y"]);
    let s = t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with"));
    assert!(s.contains("sipdeck exited with 0"), "{s}");
}

/// A file that never answers (a FIFO without a writer stands in for a dead network drive)
/// freezes neither the keys nor the screen, and does not keep sipdeck from exiting.
#[test]
fn a_file_that_never_answers_freezes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let wavs = dir.path().join("wavs");
    std::fs::create_dir(&wavs).unwrap();
    std::fs::write(wavs.join("a-ready.wav"), sipdeck::core::wav::g711_wav(sipdeck::core::wav::Law::MuLaw, &[0xff; 8000])).unwrap();
    let made = std::process::Command::new("mkfifo").arg(wavs.join("b-stuck.wav")).status().expect("mkfifo (coreutils)");
    assert!(made.success());
    let cmd = format!("{} --demo --wav-dir '{}'", sipdeck(), wavs.display());
    let t = Tmux::start(&cmd, dir.path(), 100, 30, &[]);
    t.wait_for("connection", WAIT, |s| s.contains("● connected"));
    t.keys(&["5"]);
    t.wait_for("the listing", WAIT, |s| s.contains("b-stuck.wav") && s.contains("ready: 8000 Hz mono mu-law"));
    t.keys(&["j"]);
    t.wait_for("the stuck header read", WAIT, |s| s.contains("reading its header…"));
    // The keys still work: back to the ready file, whose header shows, and Enter uploads it.
    t.keys(&["k"]);
    t.wait_for("the ready file's header", WAIT, |s| s.contains("ready: 8000 Hz mono mu-law"));
    t.keys(&["Enter"]);
    t.wait_for("the ack", WAIT, |s| s.contains("acknowledged: a-ready.wav (8058 bytes)"));
    // Enter on the stuck file waits for its header; Esc closes the pane all the same.
    t.keys(&["j"]);
    t.keys(&["Enter"]);
    t.wait_for("the pick to wait", WAIT, |s| s.contains("reading its header…"));
    t.keys(&["Escape"]);
    t.wait_for("the pane to close", WAIT, |s| !s.contains("Upload a WAV:"));
    t.keys(&["8"]);
    let s = t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with"));
    assert!(s.contains("sipdeck exited with 0"), "{s}");
}

/// A folder typed after `:`, the `..` row, marks on the rows, and the call header and RTP
/// totals still in view while the pane is open.
#[test]
fn typed_path_parent_row_and_totals() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let cwd = tempfile::tempdir().unwrap();
    let cmd = format!("{} --demo --wav-dir '{repo}'", sipdeck());
    let t = Tmux::start(&cmd, cwd.path(), 100, 30, &[]);
    t.wait_for("connection", WAIT, |s| s.contains("● connected"));
    t.keys(&["5"]);
    t.wait_for("the pane", WAIT, |s| s.contains("Upload a WAV:") && s.contains("../"));
    t.keys(&[":"]);
    typed(&t, "assets");
    let s = t.wait_for("the typed path", WAIT, |s| s.contains(":assets"));
    assert!(s.contains("Enter goes, Esc cancels"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("assets/", WAIT, |s| s.contains("tone-8k-mulaw.wav") && s.contains("✓ tone-8k-mulaw.wav"));
    assert!(s.contains("~ chord-44k-stereo.wav"), "the convert mark:\n{s}");
    assert!(s.contains("Server ws://") && s.contains("RTP 0 packets"), "header and totals in view:\n{s}");
    // q closes the pane.
    t.keys(&["q"]);
    t.wait_for("the pane to close", WAIT, |s| !s.contains("Upload a WAV:"));
    t.keys(&["8"]);
    let s = t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with"));
    assert!(s.contains("sipdeck exited with 0"), "{s}");
}
