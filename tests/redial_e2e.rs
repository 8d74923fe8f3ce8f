//! The dial dialog's redial history across restarts, end to end in tmux with
//! `XDG_DATA_HOME` in a temp folder: a number dialled in one run is offered by Up in the next.

mod tmux;

use std::time::Duration;

use tmux::{sipdeck, Tmux};

const WAIT: Duration = Duration::from_secs(20);

fn start(dir: &std::path::Path) -> Tmux {
    let data = dir.join("data").display().to_string();
    let config = dir.join("config").display().to_string();
    let env = [("XDG_DATA_HOME", data.as_str()), ("XDG_CONFIG_HOME", config.as_str())];
    let t = Tmux::start(&format!("{} --demo", sipdeck()), dir, 80, 24, &env);
    t.wait_for("connected", WAIT, |s| s.contains("connected"));
    t
}

#[test]
fn a_number_dialled_in_one_run_is_offered_by_up_in_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("data/sipdeck/dial_history");
    {
        let t = start(dir.path());
        t.keys(&["2", "5", "5", "5", "0", "1", "Enter"]);
        t.wait_for("the call to 55501", WAIT, |s| s.contains("in call with 55501"));
        // The history is written by a background job after the dial; the call's hang-up
        // and the quit come after it.
        t.keys(&["3"]);
        t.wait_for("the call to end", WAIT, |s| !s.contains("in call with"));
        // Saved, so that the next run has no audio to offer for recovery.
        t.keys(&["7"]);
        t.wait_for("the save", WAIT, |s| s.contains("saved "));
        t.keys(&["q"]);
        t.wait_for("the exit", WAIT, |s| s.contains("sipdeck exited with"));
    }
    assert_eq!(std::fs::read_to_string(&history).unwrap(), "55501\n");
    let t = start(dir.path());
    t.keys(&["2", "Up"]);
    t.wait_for("the redialled number in the field", WAIT, |s| s.lines().any(|l| l.contains("55501") && !l.contains("in call")));
    t.keys(&["Down"]);
    t.wait_for("an empty field again", WAIT, |s| !s.contains("55501"));
}
