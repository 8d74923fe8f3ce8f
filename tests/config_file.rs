//! The config file end to end: the real binary with `XDG_CONFIG_HOME` in a temp folder.
//! `sipdeck config` prints the path and an example; a bad file is an error naming its line
//! and key, exit status 2 and nothing on stdout; a profile's server, port and token are used
//! (the token arrives as `Authorization: Bearer` on the handshake).

use std::io::{BufRead, BufReader, Read as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn sipdeck(xdg: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sipdeck"));
    cmd.args(args)
        .env("XDG_CONFIG_HOME", xdg.join("config"))
        .env("XDG_DATA_HOME", xdg.join("data"))
        .env_remove("SIPDECK_TOKEN")
        .current_dir(xdg);
    cmd
}

fn run(xdg: &Path, args: &[&str]) -> Output {
    sipdeck(xdg, args).stdin(Stdio::null()).output().unwrap()
}

fn write_config(xdg: &Path, text: &str) -> std::path::PathBuf {
    let dir = xdg.join("config/sipdeck");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn config_prints_the_path_in_use_and_an_example_that_parses() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run(xdg.path(), &["config"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let path = xdg.path().join("config/sipdeck/config.toml");
    assert!(text.contains(&format!("# config file: {} (not there", path.display())), "{text}");
    assert!(text.contains(&xdg.path().join("data/sipdeck/dial_history").display().to_string()), "{text}");
    assert!(text.contains("[profile.lab]"), "{text}");
    // The printed example, saved as the config file, is a good file with two profiles.
    let example: String = text.lines().skip_while(|l| l.starts_with("# ")).collect::<Vec<_>>().join("\n");
    write_config(xdg.path(), &example);
    let out = run(xdg.path(), &["config"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("(found)") && text.contains("# profiles: default, lab"), "{text}");
}

#[test]
fn a_bad_file_exits_2_naming_the_line_and_key_before_touching_the_terminal() {
    let xdg = tempfile::tempdir().unwrap();
    write_config(xdg.path(), "server = \"127.0.0.1\"\n\n[profile.work]\nport = \"eighty\"\n");
    let out = run(xdg.path(), &["--plain"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing drawn: {:?}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("line 4") && err.contains("key 'profile.work.port'"), "{err}");

    write_config(xdg.path(), "sever = \"typo\"\n");
    let err = String::from_utf8(run(xdg.path(), &["--plain"]).stderr).unwrap();
    assert!(err.contains("line 1") && err.contains("unknown field `sever`"), "{err}");

    write_config(xdg.path(), "[profile.home]\n[profile.work]\n");
    let out = run(xdg.path(), &["--plain", "--profile", "lab"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no profile 'lab'") && err.contains("home, work"), "{err}");

    let out = run(xdg.path(), &["--plain", "--config", "missing.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_profile_chooses_the_server_and_sends_its_token() {
    let xdg = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // The top level points nowhere useful; the profile wins over it, and the token is the
    // profile's.
    write_config(
        xdg.path(),
        &format!("port = 1\ntoken = \"top\"\n[profile.lab]\nserver = \"127.0.0.1\"\nport = {port}\ntoken = \"s3cret\"\n"),
    );
    let mut child = sipdeck(xdg.path(), &["--plain", "--profile", "lab"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (sock, _) = listener.accept().unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = Vec::new();
    let mut reader = BufReader::new(sock);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        head.push(line.trim_end().to_string());
    }
    assert!(head.iter().any(|l| l.eq_ignore_ascii_case("authorization: Bearer s3cret")), "{head:?}");
    // Seen what we came for: the fake server never answers, so no need to wait for it.
    child.kill().unwrap();
    drop(reader);
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.wait().unwrap();
    assert!(out.contains(&format!("127.0.0.1:{port}")), "the profile's server is the one shown: {out}");
}
