use std::path::{Path, PathBuf};

use super::*;
use crate::client::app::SaveCalls;

fn parse_ok(text: &str) -> Settings {
    parse(Path::new("c.toml"), text).unwrap()
}

fn parse_err(text: &str) -> (usize, String, String) {
    match parse(Path::new("c.toml"), text) {
        Err(ConfigError::Parse { line, key, message, .. }) => (line, key, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn file(text: &str) -> ConfigFile {
    ConfigFile { path: Some(PathBuf::from("c.toml")), found: true, settings: parse_ok(text) }
}

#[test]
fn the_example_parses_with_its_profiles() {
    let s = parse_ok(EXAMPLE);
    assert_eq!(s.port, Some(8080));
    assert_eq!(s.number.as_ref().map(|n| n.0.to_string()), Some("0938220136".to_string()));
    assert_eq!(s.profile.keys().collect::<Vec<_>>(), ["default", "lab"]);
    assert_eq!(s.profile["lab"].record_format, Some(FormatSetting(RecordFormat::Pcm16)));
}

#[test]
fn an_unknown_key_names_itself_and_its_line() {
    let (line, key, message) = parse_err("port = 1\n\n[profile.work]\nurl = \"ws://x\"\ncolour = \"red\"\n");
    assert_eq!(line, 5);
    assert_eq!(key, "profile.work.colour");
    assert!(message.contains("unknown field `colour`"), "{message}");
    let shown = parse(Path::new("c.toml"), "recorddir = \".\"\n").unwrap_err().to_string();
    assert!(shown.contains("line 1") && shown.contains("recorddir"), "{shown}");
}

#[test]
fn a_wrong_type_names_its_line_and_key() {
    let (line, key, message) = parse_err("server = \"h\"\nport = \"eighty\"\n");
    assert_eq!((line, key.as_str()), (2, "port"));
    assert!(message.contains("invalid type"), "{message}");
    let (line, key, _) = parse_err("[profile.a]\nsave-calls = 1\n");
    assert_eq!((line, key.as_str()), (2, "profile.a.save-calls"));
}

#[test]
fn a_bad_number_or_format_is_reported_at_its_line() {
    let (line, key, message) = parse_err("\nnumber = \"12ab\"\n");
    assert_eq!((line, key.as_str()), (2, "number"));
    assert!(message.contains("12ab"), "{message}");
    let (line, key, message) = parse_err("record-format = \"mp3\"\n");
    assert_eq!((line, key.as_str()), (1, "record-format"));
    assert!(message.contains("mulaw or pcm16"), "{message}");
}

#[test]
fn broken_toml_names_its_line() {
    let (line, _, _) = parse_err("port = 8080\nserver = \n");
    assert_eq!(line, 2);
}

#[test]
fn profiles_cannot_nest() {
    let err = parse(Path::new("c.toml"), "[profile.a.profile.b]\nport = 1\n").unwrap_err();
    assert!(matches!(err, ConfigError::Nested { ref name, .. } if name == "a"), "{err}");
}

#[test]
fn a_missing_profile_lists_the_profiles() {
    let f = file("[profile.home]\n[profile.work]\n");
    let err = f.select(Some("lab")).unwrap_err().to_string();
    assert!(err.contains("no profile 'lab'") && err.contains("home, work"), "{err}");
    let none = ConfigFile { path: Some(PathBuf::from("gone.toml")), found: false, settings: Settings::default() };
    let err = none.select(Some("lab")).unwrap_err().to_string();
    assert!(err.contains("no config file at gone.toml"), "{err}");
}

#[test]
fn a_profile_wins_over_the_top_level_and_default_is_chosen_by_itself() {
    let f = file("port = 1\nserver = \"top\"\n[profile.default]\nport = 2\n[profile.lab]\nport = 3\nsave-calls = true\n");
    let d = f.select(None).unwrap();
    assert_eq!((d.port, d.server.as_deref()), (Some(2), Some("top")));
    let lab = f.select(Some("lab")).unwrap();
    assert_eq!((lab.port, lab.save_calls), (Some(3), Some(true)));
    assert!(lab.profile.is_empty());
    let plain = file("port = 1\n[profile.lab]\nport = 3\n").select(None).unwrap();
    assert_eq!(plain.port, Some(1), "without a default profile the top level is used");
}

#[test]
fn a_flag_beats_the_file_which_beats_the_default() {
    let s = parse_ok("server = \"gw\"\nport = 9000\nnumber = \"555\"\nrecord-format = \"pcm16\"\nsave-calls = true\ntoken = \"t\"\n");
    let from_file = Resolved::resolve(Flags::default(), &s);
    assert_eq!(from_file.target, Target::Url("ws://gw:9000".into()));
    assert_eq!(from_file.number.to_string(), "555");
    assert_eq!((from_file.record_format, from_file.save_calls), (RecordFormat::Pcm16, SaveCalls::Wav));
    assert_eq!(from_file.token.as_deref(), Some("t"));

    let flags = Flags {
        port: Some(7000),
        number: Some("777".parse().unwrap()),
        record_format: Some(RecordFormat::Mulaw),
        save_calls: Some(SaveCalls::Wav),
        ..Flags::default()
    };
    let r = Resolved::resolve(flags, &s);
    assert_eq!(r.target, Target::Url("ws://gw:7000".into()), "the port flag, the file's server");
    assert_eq!((r.number.to_string().as_str(), r.record_format), ("777", RecordFormat::Mulaw));

    let d = Resolved::resolve(Flags::default(), &Settings::default());
    assert_eq!(d.target, Target::Url("ws://127.0.0.1:8080".into()));
    assert_eq!((d.record_dir.as_path(), d.save_calls, d.token.as_deref()), (Path::new("."), SaveCalls::Off, None));
}

#[test]
fn urls_and_the_demo_choose_the_target() {
    let s = parse_ok("url = \"wss://file/ws\"\nserver = \"ignored\"\n");
    assert_eq!(Resolved::resolve(Flags::default(), &s).target, Target::Url("wss://file/ws".into()));
    let by_server = Flags { server: Some("::1".into()), ..Flags::default() };
    assert_eq!(Resolved::resolve(by_server, &s).target, Target::Url("ws://[::1]:8080".into()));
    let by_url = Flags { url: Some("ws://flag".into()), ..Flags::default() };
    assert_eq!(Resolved::resolve(by_url, &s).target, Target::Url("ws://flag".into()));
    let demo = Flags { demo: true, ..Flags::default() };
    assert_eq!(Resolved::resolve(demo, &s).target, Target::Demo);
}

#[test]
fn home_is_expanded_in_file_paths_only() {
    let s = parse_ok("record-dir = \"~/rec\"\n");
    let r = Resolved::resolve(Flags::default(), &s);
    assert!(!r.record_dir.starts_with("~") && r.record_dir.ends_with("rec"), "{}", r.record_dir.display());
    let flag = Flags { record_dir: Some(PathBuf::from("~lit")), ..Flags::default() };
    assert_eq!(Resolved::resolve(flag, &s).record_dir, PathBuf::from("~lit"));
}
