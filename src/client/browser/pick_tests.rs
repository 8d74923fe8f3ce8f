//! Tests of the app's side of the browser: picks, conversions, upload commands, on a real
//! folder with the disk reads done here and now.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::client::app::{AppConfig, ConnState, IoEvent, Purpose, UploadState};
use crate::core::convert::Length;
use crate::core::protocol::ClientMsg;
use crate::client::net::NetEvent;
use crate::core::wav::{g711_wav, Law};

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// Do the disk reads here and now, as the runner does them on its blocking threads, and
/// fold their answers; returns the effects that are not reads.
fn settle(app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
    let mut queue: std::collections::VecDeque<Effect> = effects.into();
    let mut rest = vec![];
    while let Some(e) = queue.pop_front() {
        let answer = match e {
            Effect::ListDir(dir) => IoEvent::Listed { result: crate::client::browser::list(&dir).map_err(|e| e.to_string()), dir },
            Effect::Inspect { path, purpose } => {
                IoEvent::Inspected { result: crate::client::files::inspect(&path).map_err(|e| e.to_string()), path, purpose }
            }
            other => {
                rest.push(other);
                continue;
            }
        };
        queue.extend(app.on_io(answer));
    }
    rest
}

/// A key, with the reads it asks for done.
fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let effects = app.on_key(key(code));
    settle(app, effects)
}

fn chars(app: &mut App, s: &str) -> Vec<Effect> {
    s.chars().flat_map(|c| press(app, KeyCode::Char(c))).collect()
}

fn stereo(frames: usize, rate: u32) -> Vec<u8> {
    let spec = hound::WavSpec { channels: 2, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut c = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
    for _ in 0..frames * 2 {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
    c.into_inner()
}

/// A connected app whose browser opens on a folder with one file of each kind.
fn setup() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a-ready.wav"), g711_wav(Law::MuLaw, &[0xff; 800])).unwrap();
    std::fs::write(d.join("b-stereo.wav"), stereo(4410, 44_100)).unwrap();
    std::fs::write(d.join("c-broken.wav"), &g711_wav(Law::MuLaw, &[0xff; 800])[..100]).unwrap();
    // 132 s at 8 kHz: over the limit once converted.
    std::fs::write(d.join("d-long.wav"), stereo(8000 * 132, 8000)).unwrap();
    let cfg = AppConfig { default_number: "123".parse().unwrap(), record_dir: d.to_path_buf(), wav_dir: d.to_path_buf(), ..AppConfig::new("ws://test") };
    let now = Instant::now();
    let mut app = App::new(cfg, now);
    app.on_net(NetEvent::Connected { subprotocol: true }, now);
    assert!(matches!(app.conn, ConnState::Connected { .. }));
    (dir, app)
}

fn pick(app: &mut App, name: &str) -> Vec<Effect> {
    app.browser.as_mut().unwrap().select_name(name);
    press(app, KeyCode::Enter)
}

#[test]
fn a_ready_file_uploads_and_the_pane_stays_open() {
    let (dir, mut app) = setup();
    assert!(chars(&mut app, "5").is_empty());
    assert!(matches!(app.dialog, Some(Dialog::Browser)));
    let fx = pick(&mut app, "a-ready.wav");
    assert_eq!(fx, vec![Effect::Upload(std::fs::canonicalize(dir.path()).unwrap().join("a-ready.wav"))]);
    assert!(matches!(app.dialog, Some(Dialog::Browser)));
    assert_eq!(app.browser.as_ref().unwrap().notice(), Some("uploading a-ready.wav…"));
}

#[test]
fn a_file_to_convert_asks_first() {
    let (_dir, mut app) = setup();
    chars(&mut app, "u");
    assert!(pick(&mut app, "b-stereo.wav").is_empty());
    let Some(Dialog::Convert(offer)) = &app.dialog else { panic!("{:?}", app.dialog) };
    assert_eq!(offer.name.as_str(), "b-stereo.wav");
    assert_eq!(offer.length(), Length::Whole);
    // Esc goes back to the pane, not to the dashboard.
    app.on_key(key(KeyCode::Esc));
    assert!(matches!(app.dialog, Some(Dialog::Browser)));
    pick(&mut app, "b-stereo.wav");
    let fx = app.on_key(key(KeyCode::Enter));
    let [Effect::UploadConverted { path, length: Length::Whole }] = fx.as_slice() else { panic!("{fx:?}") };
    assert!(path.ends_with("b-stereo.wav"));
    assert!(matches!(app.dialog, Some(Dialog::Browser)));
}

#[test]
fn too_long_offers_the_first_part() {
    let (_dir, mut app) = setup();
    chars(&mut app, "5");
    pick(&mut app, "d-long.wav");
    let Some(Dialog::Convert(offer)) = &app.dialog else { panic!("{:?}", app.dialog) };
    assert!(!offer.plan.fits());
    assert_eq!(offer.length(), Length::FirstPart);
    let fx = chars(&mut app, "f");
    assert!(matches!(fx.as_slice(), [Effect::UploadConverted { length: Length::FirstPart, .. }]));
    assert!(app.log.iter().any(|l| l.text.contains("converting the first 131.1 s of")));
}

#[test]
fn broken_files_are_never_sent() {
    let (_dir, mut app) = setup();
    chars(&mut app, "5");
    assert!(pick(&mut app, "c-broken.wav").is_empty());
    assert!(matches!(app.dialog, Some(Dialog::Browser)));
    let notice = app.browser.as_ref().unwrap().notice().unwrap().to_string();
    assert!(notice.starts_with("not uploaded: broken, will not be sent"), "{notice}");
    assert!(app.log.iter().any(|l| l.text.starts_with("not uploaded: c-broken.wav: broken")));
}

#[test]
fn nothing_is_sent_while_disconnected() {
    let (_dir, mut app) = setup();
    app.on_net(NetEvent::Disconnected { reason: "gone".into(), retry_in: None }, Instant::now());
    chars(&mut app, "5");
    assert!(pick(&mut app, "a-ready.wav").is_empty());
    pick(&mut app, "b-stereo.wav");
    assert!(app.on_key(key(KeyCode::Enter)).is_empty());
    assert_eq!(app.browser.as_ref().unwrap().notice(), Some("not uploaded: not connected"));
}

#[test]
fn remembers_where_it_was_and_plays_acked_uploads() {
    let (dir, mut app) = setup();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    chars(&mut app, "5");
    app.browser.as_mut().unwrap().select_name("sub");
    press(&mut app, KeyCode::Enter);
    app.on_key(key(KeyCode::Esc));
    assert!(app.dialog.is_none());
    chars(&mut app, "u");
    assert!(app.browser.as_ref().unwrap().cwd().ends_with("sub"));
    // An upload the server acknowledged shows in the pane's second list, and plays.
    let now = Instant::now();
    app.on_net(
        NetEvent::Sent(ClientMsg::WavUpload { name: "a-ready.wav".parse().unwrap(), data: vec![0; 10] }),
        now,
    );
    app.on_net(NetEvent::WavAck("stored a-ready.wav".into()), now);
    assert!(matches!(app.uploads[0].state, UploadState::Acked { .. }));
    assert_eq!(app.acked().len(), 1);
    let fx = chars(&mut app, "6");
    assert_eq!(fx, vec![Effect::Send(ClientMsg::PlayWav("a-ready.wav".parse().unwrap()))]);
    assert!(app.dialog.is_none(), "playing returns to the dashboard");
    // IO results reach the pane too.
    app.on_io(IoEvent::UploadRejected { path: "x.wav".into(), error: "gone".into() });
    assert_eq!(app.browser.as_ref().unwrap().notice(), Some("not uploaded: gone"));
}

/// Do the effects that are reads, one step: the answers, not yet folded.
fn answer(effects: Vec<Effect>) -> Vec<IoEvent> {
    effects
        .into_iter()
        .map(|e| match e {
            Effect::ListDir(dir) => IoEvent::Listed { result: crate::client::browser::list(&dir).map_err(|e| e.to_string()), dir },
            Effect::Inspect { path, purpose } => {
                IoEvent::Inspected { result: crate::client::files::inspect(&path).map_err(|e| e.to_string()), path, purpose }
            }
            other => panic!("not a read: {other:?}"),
        })
        .collect()
}

#[test]
fn keys_only_ask_for_reads_and_reopening_shows_the_last_listing() {
    let (dir, mut app) = setup();
    let fx = app.on_key(key(KeyCode::Char('5')));
    assert_eq!(fx, vec![Effect::ListDir(dir.path().to_path_buf())]);
    let pane = app.browser.as_ref().unwrap();
    assert_eq!((pane.visible_len(), pane.reading()), (0, Some(dir.path())), "nothing listed until the answer");
    for io in answer(fx) {
        // The listing highlights a file, whose header is asked for in turn.
        let more = app.on_io(io);
        assert!(matches!(more.as_slice(), [Effect::Inspect { purpose: Purpose::Browser, .. }]), "{more:?}");
        settle(&mut app, more);
    }
    assert_eq!(app.browser.as_ref().unwrap().visible_len(), 4);
    app.on_key(key(KeyCode::Esc));
    std::fs::write(dir.path().join("e-new.wav"), g711_wav(Law::MuLaw, &[0xff; 80])).unwrap();
    let fx = app.on_key(key(KeyCode::Char('u')));
    let pane = app.browser.as_ref().unwrap();
    assert_eq!(pane.visible_len(), 4, "the remembered listing shows at once");
    assert!(pane.info().is_some(), "and so does the header of the highlighted file");
    assert_eq!(fx, vec![Effect::ListDir(pane.cwd().to_path_buf())]);
    settle(&mut app, fx);
    assert_eq!(app.browser.as_ref().unwrap().visible_len(), 5, "the refresh brings the new file");
}

#[test]
fn a_pick_answered_after_the_pane_closed_is_dropped() {
    let (_dir, mut app) = setup();
    chars(&mut app, "5");
    app.browser.as_mut().unwrap().select_name("a-ready.wav");
    let fx = app.on_key(key(KeyCode::Enter));
    assert!(matches!(fx.as_slice(), [Effect::Inspect { .. }]), "{fx:?}");
    app.on_key(key(KeyCode::Esc));
    let rest: Vec<Effect> = answer(fx).into_iter().flat_map(|io| app.on_io(io)).collect();
    assert!(rest.is_empty(), "{rest:?}");
    assert!(app.dialog.is_none());
}

/// Line mode's `5 <path>`, carried out.
fn upload(app: &mut App, path: PathBuf) -> Vec<Effect> {
    let fx = app.command(crate::client::app::command::Command::Upload(path.clone()));
    assert_eq!(fx, vec![Effect::Inspect { path, purpose: Purpose::Upload }], "judged first, off the UI thread");
    settle(app, fx)
}

#[test]
fn upload_commands_take_the_browsers_verdict() {
    let (dir, mut app) = setup();
    let d = dir.path();
    assert_eq!(upload(&mut app, d.join("a-ready.wav")), vec![Effect::Upload(d.join("a-ready.wav"))]);
    // A file to convert is converted without asking (line mode has no dialog), and says so.
    let fx = upload(&mut app, d.join("b-stereo.wav"));
    assert_eq!(fx, vec![Effect::UploadConverted { path: d.join("b-stereo.wav"), length: Length::Whole }]);
    let want = format!("converting {} to 8 kHz mono mu-law, to upload as b-stereo.wav", d.join("b-stereo.wav").display());
    assert!(app.log.iter().any(|l| l.text == want), "{want}");
    assert!(app.dialog.is_none());
    // Too long for one upload: its first part, said so in the log.
    let fx = upload(&mut app, d.join("d-long.wav"));
    assert!(matches!(fx.as_slice(), [Effect::UploadConverted { length: Length::FirstPart, .. }]), "{fx:?}");
    assert!(app.log.iter().any(|l| l.text.starts_with("converting the first 131.1 s of")));
    // Broken or missing: refused with the reason.
    assert!(upload(&mut app, d.join("c-broken.wav")).is_empty());
    assert!(app.log.iter().any(|l| l.text.starts_with("not uploaded: c-broken.wav: broken, will not be sent")));
    assert!(upload(&mut app, d.join("nope.wav")).is_empty());
    let last = &app.log.iter().last().unwrap().text;
    assert!(last.starts_with("not uploaded: nope.wav: cannot read it: No such file"), "{last}");
    // The connection dropped while the header was read: not sent.
    let fx = app.command(crate::client::app::command::Command::Upload(d.join("a-ready.wav")));
    app.on_net(NetEvent::Disconnected { reason: "gone".into(), retry_in: None }, Instant::now());
    assert!(settle(&mut app, fx).is_empty());
    assert!(app.log.iter().any(|l| l.text == "not uploaded: a-ready.wav: not connected"));
}
