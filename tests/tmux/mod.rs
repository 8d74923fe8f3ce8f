//! Drive the real binary in a real terminal: tmux on a private socket, `send-keys` to type,
//! `capture-pane` to read the screen.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Start `command` (a shell line) in a `w` x `h` terminal. After it exits the pane shows
    /// `sipdeck exited with <code>` and stays open.
    pub fn start(command: &str, cwd: &Path, w: u16, h: u16, env: &[(&str, &str)]) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        let line = format!("{command}; echo \"sipdeck exited with $?\"; sleep 600");
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&socket).args(["-f", "/dev/null", "new-session", "-d", "-s", "e2e"]);
        cmd.args(["-x", &w.to_string(), "-y", &h.to_string(), "-c"]).arg(cwd);
        // The user's own config file and redial history stay out of the tests (and untouched)
        // unless a test names its own folders.
        let (config, data) = (dir.path().join("config"), dir.path().join("data"));
        let own = [("XDG_CONFIG_HOME", config.to_str().unwrap()), ("XDG_DATA_HOME", data.to_str().unwrap())];
        for (k, v) in own.iter().filter(|(k, _)| !env.iter().any(|(e, _)| e == k)).chain(env) {
            cmd.args(["-e", &format!("{k}={v}")]);
        }
        cmd.arg(line);
        let out = cmd.output().expect("tmux must be installed (apt-get install tmux)");
        assert!(out.status.success(), "tmux failed: {}", String::from_utf8_lossy(&out.stderr));
        Tmux { socket, _dir: dir }
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-S").arg(&self.socket).args(args).output().unwrap()
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    /// The screen with colour escapes, to check NO_COLOR.
    pub fn screen_escaped(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-e", "-t", "e2e"]).stdout).into_owned()
    }

    /// Type keys (tmux key names such as `Escape`, `PageUp`, `C-c`, or plain characters).
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let out = self.tmux(&["send-keys", "-t", "e2e", k]);
            assert!(out.status.success());
        }
    }

    /// Type bytes as they are (`send-keys -l`), e.g. a terminal's mouse report.
    pub fn raw(&self, text: &str) {
        let out = self.tmux(&["send-keys", "-t", "e2e", "-l", text]);
        assert!(out.status.success());
    }

    pub fn display(&self, format: &str) -> String {
        String::from_utf8_lossy(&self.tmux(&["display-message", "-p", "-t", "e2e", format]).stdout).trim().to_string()
    }

    pub fn resize(&self, w: u16, h: u16) {
        self.tmux(&["resize-window", "-t", "e2e", "-x", &w.to_string(), "-y", &h.to_string()]);
    }

    /// Poll the screen until `pred` holds; panic with the screen after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// The number after `label` on the screen, e.g. `Packets   123`.
pub fn number_after(screen: &str, label: &str) -> Option<u64> {
    let rest = &screen[screen.find(label)? + label.len()..];
    let digits: String = rest.trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

pub fn sipdeck() -> &'static str {
    env!("CARGO_BIN_EXE_sipdeck")
}
