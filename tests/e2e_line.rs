//! End to end without a terminal: line mode driven on stdin like the reference client, and
//! audio recovery after `kill -9`.

mod tmux;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tmux::{number_after, sipdeck, Tmux};

const WAIT: Duration = Duration::from_secs(15);

/// The binary with piped stdin/stdout, and its output lines on a channel.
struct Plain {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Plain {
    fn start(args: &[&str], cwd: &std::path::Path) -> Plain {
        let mut child = Command::new(sipdeck())
            .args(args)
            .current_dir(cwd)
            // The config file and redial history of the user running the tests stay out.
            .env("XDG_CONFIG_HOME", cwd.join(".config"))
            .env("XDG_DATA_HOME", cwd.join(".data"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Plain { child, stdin, lines, seen: Vec::new() }
    }

    fn send(&mut self, line: &str) {
        let s = self.stdin.as_mut().unwrap();
        writeln!(s, "{line}").unwrap();
        s.flush().unwrap();
    }

    /// Wait for an output line containing `needle`; returns it.
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => panic!("no line with {needle:?}; output so far:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "sipdeck did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Plain {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn line_mode_speaks_the_reference_menu() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("tone.wav");
    std::fs::write(&wav, sipdeck::core::wav::g711_wav(sipdeck::core::wav::Law::MuLaw, &[0x80; 3200])).unwrap();
    // stdout is a pipe, so line mode starts without --plain.
    let mut p = Plain::start(&["--demo"], dir.path());
    p.expect("connected to ws://");
    p.send("1");
    p.expect("srv Call answered");
    p.expect("RTP stream SSRC");
    p.send("4");
    let stats = p.expect("statistics:");
    assert!(stats.contains("RTP packets"), "{stats}");
    // Line mode's `4` writes a short line per stream too, as the key does.
    let stream = p.expect("--- SSRC 0x");
    assert!(stream.contains("pkts") && stream.contains("jitter"), "{stream}");
    // The reference's way: the menu number, then the argument on the next line.
    p.send("5");
    p.expect("enter the path of the WAV file to upload:");
    p.send(wav.to_str().unwrap());
    p.expect("srv WAV_ACK: tone.wav (3258 bytes)");
    p.send("6 tone.wav");
    p.expect("srv Playing tone.wav");
    p.expect("srv Finished playing tone.wav");
    p.send("3");
    p.expect("srv Call ended");
    p.send("2");
    p.send("12");
    p.expect("invalid number: a number needs at least 3 digits");
    p.send("7");
    let saved = p.expect("--- saved ");
    assert!(saved.contains("rtp_capture_"), "{saved}");
    p.send("8");
    // The script had a failing command (the invalid number): exit status 1.
    assert_eq!(p.wait_exit(), 1);
    let wavs: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        n.starts_with("rtp_capture_").then_some(n)
    }).collect();
    assert_eq!(wavs.len(), 1);
    // Everything was saved: no spill file is left behind.
    assert!(sipdeck::client::spill::leftovers(dir.path()).is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "only tone.wav and the capture remain");
}

/// `5 <path>` judges the file as the browser does: converted when it must be, refused
/// when it is broken.
#[test]
fn line_mode_uploads_take_the_browsers_verdict() {
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let dir = tempfile::tempdir().unwrap();
    let mut p = Plain::start(&["--demo"], dir.path());
    p.expect("connected to ws://");
    let chord = assets.join("chord-44k-stereo.wav");
    p.send(&format!("5 {}", chord.display()));
    p.expect(&format!("converting {} to 8 kHz mono mu-law, to upload as chord-44k-stereo.wav", chord.display()));
    p.expect(&format!("converted {}: 3.0 s, 24058 bytes; uploading", chord.display()));
    p.expect("srv WAV_ACK: chord-44k-stereo.wav (24058 bytes)");
    p.send("5");
    p.expect("enter the path of the WAV file to upload:");
    p.send(assets.join("broken.wav").to_str().unwrap());
    p.expect("not uploaded: broken.wav: broken, will not be sent");
    p.send(&format!("5 {}", assets.join("tone-8k-mulaw.wav").display()));
    p.expect("srv WAV_ACK: tone-8k-mulaw.wav (32058 bytes)");
    p.send("8");
    // broken.wav was refused: a failed command, exit status 1.
    assert_eq!(p.wait_exit(), 1);
    assert!(!p.seen.iter().any(|l| l.contains("WAV_ACK: broken.wav")), "{:?}", p.seen);
}

#[test]
fn end_of_input_quits_and_keeps_unsaved_audio() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = Plain::start(&["--demo", "--plain"], dir.path());
    p.expect("connected to ws://");
    p.send("1");
    p.expect("RTP stream SSRC");
    p.send("wait 0.5");
    drop(p.stdin.take());
    p.expect("end of input: quitting");
    assert_eq!(p.wait_exit(), 0);
    let mut err = String::new();
    std::io::Read::read_to_string(p.child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("is kept in"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".sipdeck-spill-")).count(), 1);
}

#[test]
fn audio_survives_kill_9_and_is_recovered_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(&format!("{} --demo", sipdeck()), dir.path(), 80, 24, &[]);
    t.wait_for("connection", WAIT, |s| s.contains("● connected"));
    // Two calls, neither saved: a spill file each.
    t.keys(&["1"]);
    t.wait_for("a second of audio", WAIT, |s| number_after(s, "Packets").is_some_and(|n| n >= 50));
    t.keys(&["3"]);
    t.wait_for("the first call's end", WAIT, |s| s.contains("call ended:"));
    t.keys(&["1"]);
    let s = t.wait_for("two seconds of audio", WAIT, |s| number_after(s, "Packets").is_some_and(|n| n >= 150));
    let before = number_after(&s, "Packets").unwrap();
    let pid = t.display("#{pane_pid}");
    // The pane runs `sh -c "sipdeck ...; echo ..."`: kill sipdeck, the shell's child.
    let out = Command::new("pkill").args(["-9", "-P", &pid, "-f", "sipdeck"]).output().unwrap();
    assert!(out.status.success(), "pkill failed");
    t.wait_for("the kill", WAIT, |s| s.contains("sipdeck exited with 137"));
    drop(t);
    let left = sipdeck::client::spill::leftovers(dir.path());
    assert_eq!(left.len(), 2, "each call's spill file survives the crash");
    // Start again in the same folder: one dialog offers both.
    let t = Tmux::start(&format!("{} --demo", sipdeck()), dir.path(), 80, 24, &[]);
    t.wait_for("the offer", WAIT, |s| s.contains("Unsaved audio") && s.contains("(2 calls)") && s.contains("Enter recover"));
    t.keys(&["Enter"]);
    t.wait_for("the recovery", WAIT, |s| s.matches("recovered").count() >= 2);
    let rec: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| {
        let p = e.unwrap().path();
        p.file_name().unwrap().to_string_lossy().starts_with("rtp_capture_recovered_").then_some(p)
    }).collect();
    assert_eq!(rec.len(), 2, "a WAV per call");
    let packets: u64 = rec
        .iter()
        .map(|p| sipdeck::core::wav::parse_header(&std::fs::read(p).unwrap()).unwrap().data_len as u64 / 160)
        .sum();
    // At most a second of audio may be lost (the spill is handed over every frame).
    assert!(packets + 50 >= before, "recovered {packets} packets of {before}");
    t.keys(&["8"]);
    t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with 0"));
}

/// The binary in line mode with a whole script on stdin (closed at its end): its output and
/// exit status. Killed after `limit`.
fn script(args: &[&str], cwd: &std::path::Path, input: &str, limit: Duration) -> (String, i32) {
    let mut child = Command::new(sipdeck())
        .args(args)
        .current_dir(cwd)
        .env("XDG_CONFIG_HOME", cwd.join(".config"))
        .env("XDG_DATA_HOME", cwd.join(".data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
        out
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sipdeck did not end the script {input:?} within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (reader.join().unwrap(), status)
}

fn errors(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.contains(" ERR ")).collect()
}

/// The README's script, 20 times (five at a time): commands given before the connection is
/// up wait for it, so none is lost, and quitting waits for the save.
#[test]
fn the_readme_script_never_loses_a_command() {
    const RUNS: usize = 20;
    const AT_ONCE: usize = 5;
    let input = "1\nwait 3\n4\n7\n8\n";
    for round in 0..RUNS / AT_ONCE {
        let runs: Vec<_> = (0..AT_ONCE)
            .map(|_| {
                std::thread::spawn(move || {
                    let dir = tempfile::tempdir().unwrap();
                    let (out, status) = script(&["--demo", "--plain"], dir.path(), input, WAIT);
                    let saved = std::fs::read_dir(dir.path()).unwrap().filter(|e| {
                        e.as_ref().unwrap().file_name().to_string_lossy().starts_with("rtp_capture_")
                    });
                    (out, status, saved.count())
                })
            })
            .collect();
        for (i, run) in runs.into_iter().enumerate() {
            let (out, status, saved) = run.join().unwrap();
            let which = format!("run {} of {RUNS}", round * AT_ONCE + i + 1);
            assert!(errors(&out).is_empty(), "{which}:\n{out}");
            let sent = out.find("you sent CALL:0938220136").unwrap_or_else(|| panic!("{which}: no call\n{out}"));
            assert!(out[sent..].contains("statistics:"), "{which}:\n{out}");
            assert!(out[sent..].contains("--- saved "), "{which}:\n{out}");
            assert_eq!((status, saved), (0, 1), "{which}:\n{out}");
        }
    }
}

/// The end of input waits for the uploads (read, converted, sent and acknowledged) and the
/// save under way.
#[test]
fn the_end_of_input_waits_for_uploads_and_saves() {
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let dir = tempfile::tempdir().unwrap();
    let input = format!(
        "1\nwait-for \"RTP stream\" 10\nwait 0.3\n7\n5 {}\n5 {}\n",
        assets.join("chord-44k-stereo.wav").display(),
        assets.join("tone-8k-mulaw.wav").display()
    );
    let (out, status) = script(&["--demo", "--plain"], dir.path(), &input, WAIT);
    let quit = out.find("end of input: quitting").unwrap_or_else(|| panic!("{out}"));
    for after in ["--- saved ", "converted ", "srv WAV_ACK: chord-44k-stereo.wav (24058 bytes)", "srv WAV_ACK: tone-8k-mulaw.wav (32058 bytes)"] {
        assert!(out[quit..].contains(after) || out[..quit].contains(after), "{after:?} missing:\n{out}");
    }
    assert!(out.contains("srv WAV_ACK: tone-8k-mulaw.wav"), "{out}");
    assert_eq!(status, 0, "{out}");
    // A script that is only an upload: read, sent and acknowledged before the exit.
    let (out, status) = script(&["--demo", "--plain"], dir.path(), &format!("5 {}\n", assets.join("tone-8k-mulaw.wav").display()), WAIT);
    let quit = out.find("end of input: quitting").unwrap_or_else(|| panic!("{out}"));
    assert!(out[quit..].contains("srv WAV_ACK: tone-8k-mulaw.wav (32058 bytes)"), "{out}");
    assert_eq!(status, 0, "{out}");
}

/// A command that fails makes the exit status 1; a clean script exits with 0.
#[test]
fn a_failed_command_makes_the_exit_status_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (out, status) = script(&["--demo", "--plain"], dir.path(), "4\nr\nwait 0.3\n4\n8\n", WAIT);
    assert_eq!(status, 0, "a clean script, a reconnect asked for included:\n{out}");
    for (input, error) in [
        ("2 12\n", "invalid number"),
        ("7\n", "nothing to save"),
        ("5 missing.wav\n8\n", "not uploaded: missing.wav"),
        ("6 not:a-name.wav\n", "invalid file name"),
        ("bogus\n", "unknown command"),
    ] {
        let (out, status) = script(&["--demo", "--plain"], dir.path(), input, WAIT);
        assert!(errors(&out).iter().any(|l| l.contains(error)), "{input:?}:\n{out}");
        assert_eq!(status, 1, "{input:?}:\n{out}");
    }
}

/// `wait-for` holds the script until a log line has the text, and ends it with an error when
/// none comes in time.
#[test]
fn wait_for_waits_on_the_log_and_fails_after_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let input = "1\nwait-for \"Call answered\" 10\n3\nwait-for Call ended\nwait-for \"no such line\" 0.5\n4\n";
    let started = Instant::now();
    let (out, status) = script(&["--demo", "--plain"], dir.path(), input, WAIT);
    let answered = out.find("srv Call answered").unwrap_or_else(|| panic!("{out}"));
    let hangup = out.find("you sent HANGUP").unwrap_or_else(|| panic!("{out}"));
    assert!(answered < hangup, "the hang-up waited for the answer:\n{out}");
    let timed_out = out.find("ERR wait-for: no log line with \"no such line\" within 0.5 s").unwrap_or_else(|| panic!("{out}"));
    assert!(out.find("srv Call ended").is_some_and(|e| e < timed_out), "{out}");
    assert!(!out.contains("statistics:"), "the script stopped at the failed wait-for:\n{out}");
    assert_eq!(status, 1, "{out}");
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
}

/// Commands wait for a server that comes up late; with no server at all, an error says so
/// after the wait and the commands fail.
#[test]
fn commands_wait_for_the_first_connection() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}");
    // The server comes up 1.5 s after the client (its first attempts are refused).
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        Command::new(sipdeck())
            .args(["demo-server", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    });
    let (out, status) = script(&["--url", &url, "--plain"], dir.path(), "1\nwait-for \"Call answered\" 5\n3\n8\n", WAIT);
    let mut server = late.join().unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(out.contains("you sent CALL:0938220136") && out.contains("you sent HANGUP"), "{out}");
    assert_eq!(status, 0, "refused attempts before the first connection are no failure:\n{out}");
    let (out, status) = script(&["--url", &url, "--plain"], dir.path(), "1\n8\n", Duration::from_secs(20));
    assert!(out.contains("ERR no connection to ws://127.0.0.1"), "{out}");
    assert!(out.contains("not connected: CALL:0938220136 was not sent"), "{out}");
    assert_eq!(status, 1, "{out}");
}
