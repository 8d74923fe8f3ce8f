//! The file-browser pane on a fixture tree: navigation, filtering, picking, the
//! acknowledged list, and snapshots of how it draws.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Local, TimeZone as _};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use sipdeck::client::browser::{self, Browser, BrowserAction, Filter, Focus, Request, Show};
use sipdeck::core::protocol::WavName;
use sipdeck::client::browser::view::render_browser;
use sipdeck::client::ui::Theme;
use sipdeck::core::wav::{g711_wav, Law, Verdict};

/// A home folder with a `music` folder of every kind of file the pane has to tell apart.
/// Contents are fixed, so sizes in snapshots are too.
struct Tree {
    _dir: tempfile::TempDir,
    home: PathBuf,
}

impl Tree {
    fn music(&self) -> PathBuf {
        self.home.join("music")
    }
}

fn stereo_44k(frames: usize) -> Vec<u8> {
    let spec = hound::WavSpec { channels: 2, sample_rate: 44_100, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut c = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
    for i in 0..frames * 2 {
        w.write_sample((i % 200) as i16 * 50).unwrap();
    }
    w.finalize().unwrap();
    c.into_inner()
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let home = std::fs::canonicalize(dir.path()).unwrap();
    let music = home.join("music");
    for d in ["music/assets", "music/Empty", "other"] {
        std::fs::create_dir_all(home.join(d)).unwrap();
    }
    let write = |p: &str, b: &[u8]| std::fs::write(music.join(p), b).unwrap();
    write("a-ready.wav", &g711_wav(Law::MuLaw, &[0xff; 8000]));
    write("B-stereo.WAV", &stereo_44k(4410));
    write("broken.wav", &g711_wav(Law::MuLaw, &[0xff; 4000])[..1058]);
    write("alaw.wav", &g711_wav(Law::ALaw, &[0xd5; 16000]));
    write(".hidden.wav", &g711_wav(Law::MuLaw, &[0xff; 10]));
    write("notes.txt", b"not audio\n");
    write("assets/tone.wav", &g711_wav(Law::MuLaw, &[0xff; 800]));
    Tree { _dir: dir, home }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// A key as the pane takes it: translated at the edge.
fn pane_key(code: KeyCode) -> sipdeck::client::app::Key {
    sipdeck::client::app::keys::translate(key(code)).unwrap()
}

/// Do the reads the pane asked for here and now (the runner does them on blocking threads)
/// and fold the answers; returns the pick an answer gave, if any.
fn settle(b: &mut Browser) -> BrowserAction {
    let mut picked = BrowserAction::None;
    loop {
        let requests = b.take_requests();
        if requests.is_empty() {
            return picked;
        }
        for r in requests {
            match r {
                Request::List(dir) => b.on_listed(&dir, browser::list(&dir).map_err(|e| e.to_string())),
                Request::Inspect(path) => {
                    let answer = sipdeck::client::files::inspect(&path).map_err(|e| e.to_string());
                    match b.on_inspected(&path, answer) {
                        BrowserAction::None => {}
                        action => picked = action,
                    }
                }
            }
        }
    }
}

/// The pane on `start`, its folder listed.
fn open(start: &Path, home: Option<PathBuf>) -> Browser {
    let mut b = Browser::new(start, home);
    settle(&mut b);
    b
}

/// A key, with the reads it asks for done: the key's action, or the pick it led to.
fn hit(b: &mut Browser, code: KeyCode, acked: &[WavName]) -> BrowserAction {
    let action = b.on_key(pane_key(code), acked);
    match settle(b) {
        BrowserAction::None => action,
        picked => picked,
    }
}

fn select(b: &mut Browser, name: &str) {
    b.select_name(name);
    settle(b);
}

fn press(b: &mut Browser, keys: &str) -> BrowserAction {
    let mut last = BrowserAction::None;
    for c in keys.chars() {
        last = hit(b, KeyCode::Char(c), &[]);
    }
    last
}

/// The entries shown, without the `..` row.
fn names(b: &Browser) -> Vec<String> {
    b.visible().filter(|e| !e.is_parent()).map(|e| e.name.clone()).collect()
}

fn highlighted(b: &Browser) -> String {
    b.highlighted().map(|e| e.name.clone()).unwrap_or_default()
}

#[test]
fn lists_folders_first_then_wavs_and_toggles_all_files() {
    let t = tree();
    let mut b = open(&t.music(), Some(t.home.clone()));
    assert_eq!(b.cwd_label(), "~/music");
    assert_eq!(names(&b), ["assets", "Empty", "a-ready.wav", "alaw.wav", "B-stereo.WAV", "broken.wav"]);
    assert_eq!(b.show(), Show::Wavs);
    press(&mut b, "a");
    assert_eq!(b.show(), Show::All);
    assert_eq!(
        names(&b),
        ["assets", "Empty", ".hidden.wav", "a-ready.wav", "alaw.wav", "B-stereo.WAV", "broken.wav", "notes.txt"]
    );
    // The highlight stays on the same entry across the toggle.
    press(&mut b, "jjj");
    assert_eq!(highlighted(&b), "a-ready.wav");
    press(&mut b, "a");
    assert_eq!(highlighted(&b), "a-ready.wav");
}

#[test]
fn walks_down_up_and_home() {
    let t = tree();
    let mut b = open(&t.music(), Some(t.home.clone()));
    assert_eq!(highlighted(&b), "assets");
    assert_eq!(hit(&mut b, KeyCode::Enter, &[]), BrowserAction::None);
    assert_eq!(b.cwd(), t.music().join("assets"));
    assert_eq!(names(&b), ["tone.wav"]);
    // Backspace goes to the parent with the folder we came from highlighted.
    hit(&mut b, KeyCode::Backspace, &[]);
    assert_eq!(b.cwd(), t.music());
    assert_eq!(highlighted(&b), "assets");
    press(&mut b, "j");
    hit(&mut b, KeyCode::Right, &[]);
    assert_eq!(b.cwd_label(), "~/music/Empty");
    assert!(names(&b).is_empty());
    // Only `..` is there to highlight: Enter on it goes up.
    assert_eq!(highlighted(&b), "..");
    assert_eq!(hit(&mut b, KeyCode::Enter, &[]), BrowserAction::None);
    assert_eq!(b.cwd_label(), "~/music");
    hit(&mut b, KeyCode::Left, &[]);
    assert_eq!(b.cwd_label(), "~");
    assert_eq!(highlighted(&b), "music");
    press(&mut b, "jjjj");
    assert_eq!(highlighted(&b), "other", "moving stops at the last row");
    press(&mut b, "kkkkk");
    assert_eq!(highlighted(&b), "..", "the top row is the parent");
    hit(&mut b, KeyCode::End, &[]);
    assert_eq!(highlighted(&b), "other");
    hit(&mut b, KeyCode::Enter, &[]);
    press(&mut b, "~");
    assert_eq!(b.cwd(), t.home);
    // Right on a file does not pick it; only Enter does.
    b.change_dir(t.music());
    settle(&mut b);
    press(&mut b, "jj");
    assert_eq!(hit(&mut b, KeyCode::Right, &[]), BrowserAction::None);
}

#[test]
fn a_folder_that_vanished_leaves_the_pane_where_it_was() {
    let t = tree();
    let mut b = open(&t.music(), Some(t.home.clone()));
    std::fs::remove_dir(t.music().join("Empty")).unwrap();
    press(&mut b, "j");
    assert_eq!(highlighted(&b), "Empty");
    hit(&mut b, KeyCode::Enter, &[]);
    assert_eq!(b.cwd(), t.music());
    assert!(b.notice().unwrap().starts_with("cannot open"), "{:?}", b.notice());
    // The next folder that opens clears the notice.
    press(&mut b, "k");
    hit(&mut b, KeyCode::Enter, &[]);
    assert_eq!(b.cwd(), t.music().join("assets"));
    assert_eq!(b.notice(), None);
    let mut b = open(Path::new("/definitely/not/here"), None);
    assert!(b.notice().unwrap().contains("cannot open"));
    assert_eq!(b.visible_len(), 0);
    press(&mut b, "~");
    assert!(b.notice().unwrap().contains("HOME"));
}

#[test]
fn filters_by_name_as_you_type() {
    let t = tree();
    let mut b = open(&t.music(), Some(t.home.clone()));
    press(&mut b, "/");
    assert_eq!(b.filter(), &Filter::Typing(String::new()));
    // Letters that are keys elsewhere (a, j, k, ~, 6) are text while typing.
    press(&mut b, "a");
    assert_eq!(names(&b), ["assets", "a-ready.wav", "alaw.wav", "B-stereo.WAV", "broken.wav"]);
    press(&mut b, "L");
    assert_eq!(names(&b), ["alaw.wav"], "the filter ignores case");
    hit(&mut b, KeyCode::Backspace, &[]);
    press(&mut b, "-");
    assert_eq!(names(&b), ["a-ready.wav"]);
    // Enter ends typing and picks the one match.
    let BrowserAction::Pick { path, inspection } = hit(&mut b, KeyCode::Enter, &[]) else { panic!("no pick") };
    assert_eq!(path, t.music().join("a-ready.wav"));
    assert_eq!(inspection.verdict, Verdict::Ready);
    assert_eq!(b.filter(), &Filter::Applied("a-".into()));
    // Keys navigate again; Esc clears the filter before it closes the pane.
    press(&mut b, "j");
    assert_eq!(hit(&mut b, KeyCode::Esc, &[]), BrowserAction::None);
    assert_eq!(b.filter(), &Filter::Off);
    assert_eq!(highlighted(&b), "a-ready.wav");
    assert_eq!(hit(&mut b, KeyCode::Esc, &[]), BrowserAction::Close);
    // Nothing matches: Enter only applies the filter.
    press(&mut b, "/zzz");
    assert_eq!(b.visible_len(), 0);
    assert_eq!(hit(&mut b, KeyCode::Enter, &[]), BrowserAction::None);
    // Backspace past the start of an empty filter leaves typing.
    press(&mut b, "/");
    for _ in 0..4 {
        hit(&mut b, KeyCode::Backspace, &[]);
    }
    assert_eq!(b.filter(), &Filter::Off);
    assert_eq!(b.visible_len(), 6);
    // Entering a folder drops the filter.
    press(&mut b, "/ass");
    hit(&mut b, KeyCode::Enter, &[]);
    assert_eq!(b.cwd(), t.music().join("assets"));
    assert_eq!(b.filter(), &Filter::Off);
}

#[test]
fn picks_carry_the_verdict() {
    let t = tree();
    let mut b = open(&t.music(), Some(t.home.clone()));
    let mut verdicts = Vec::new();
    press(&mut b, "a");
    let files: Vec<String> = b.visible().filter(|e| !e.is_dir()).map(|e| e.name.clone()).collect();
    for name in files {
        select(&mut b, &name);
        let BrowserAction::Pick { inspection, .. } = hit(&mut b, KeyCode::Enter, &[]) else { panic!("{name}") };
        let info = b.info().unwrap();
        assert_eq!(info.inspection.as_ref().unwrap(), &inspection, "the info box shows what was picked");
        verdicts.push((name, inspection.verdict));
    }
    let short: Vec<(String, &str)> = verdicts
        .iter()
        .map(|(n, v)| {
            let kind = match v {
                Verdict::Ready => "ready",
                Verdict::Convert(_) => "convert",
                Verdict::Unsupported(_) => "unsupported",
                Verdict::Broken(_) => "broken",
            };
            (n.clone(), kind)
        })
        .collect();
    let want = [
        (".hidden.wav", "ready"),
        ("a-ready.wav", "ready"),
        ("alaw.wav", "convert"),
        ("B-stereo.WAV", "convert"),
        ("broken.wav", "broken"),
        ("notes.txt", "broken"),
    ];
    let want: Vec<(String, &str)> = want.iter().map(|(n, k)| (n.to_string(), *k)).collect();
    assert_eq!(short, want);
}

#[test]
fn plays_from_the_acknowledged_list() {
    let t = tree();
    let mut b = open(&t.music(), Some(t.home.clone()));
    let acked: Vec<WavName> = ["new.wav", "old.wav"].iter().map(|n| n.parse().unwrap()).collect();
    // 6 plays the highlighted acknowledged file from either list.
    assert_eq!(hit(&mut b, KeyCode::Char('6'), &acked), BrowserAction::Play(acked[0].clone()));
    hit(&mut b, KeyCode::Tab, &acked);
    assert_eq!(b.focus(), Focus::Acked);
    hit(&mut b, KeyCode::Char('j'), &acked);
    hit(&mut b, KeyCode::Char('j'), &acked);
    assert_eq!(b.acked_selected(), 1);
    assert_eq!(hit(&mut b, KeyCode::Enter, &acked), BrowserAction::Play(acked[1].clone()));
    // j/k move in the focused list only.
    assert_eq!(highlighted(&b), "assets");
    hit(&mut b, KeyCode::Tab, &acked);
    assert_eq!(hit(&mut b, KeyCode::Enter, &acked), BrowserAction::None);
    assert_eq!(b.cwd(), t.music().join("assets"));
    // The list shrank (a new session): the selection follows; nothing to play says so.
    assert_eq!(hit(&mut b, KeyCode::Char('6'), &acked[..1]), BrowserAction::Play(acked[0].clone()));
    assert_eq!(hit(&mut b, KeyCode::Char('6'), &[]), BrowserAction::None);
    assert!(b.notice().unwrap().contains("nothing was acknowledged"));
}

// ---- snapshots ------------------------------------------------------------------------------

fn at(h: u32, m: u32, s: u32) -> DateTime<Local> {
    Local.with_ymd_and_hms(2026, 3, 14, h, m, s).single().expect("an unambiguous local time")
}

fn draw(b: &Browser, acked: &[(WavName, DateTime<Local>)], w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render_browser(f, f.area(), b, acked, &Theme::PLAIN)).unwrap();
    term
}

fn acked_two() -> Vec<(WavName, DateTime<Local>)> {
    vec![("tone-8k-mulaw.wav".parse().unwrap(), at(9, 41, 7)), ("a-ready.wav".parse().unwrap(), at(9, 40, 0))]
}

#[test]
fn snapshot_ready_file() {
    let t = tree();
    let mut b = open(&t.music(), Some(t.home.clone()));
    press(&mut b, "jj");
    insta::assert_snapshot!("ready_file", draw(&b, &acked_two(), 100, 22).backend());
}

#[test]
fn snapshot_file_to_convert_while_filtering() {
    let t = tree();
    let mut b = open(&t.music(), Some(t.home.clone()));
    press(&mut b, "/ste");
    insta::assert_snapshot!("convert_filtering", draw(&b, &[], 100, 22).backend());
}

#[test]
fn snapshot_broken_file_all_files_acked_focus() {
    let t = tree();
    let mut b = open(&t.music(), Some(t.home.clone()));
    press(&mut b, "a");
    select(&mut b, "broken.wav");
    hit(&mut b, KeyCode::Tab, &[]);
    insta::assert_snapshot!("broken_all_files", draw(&b, &acked_two(), 100, 22).backend());
}

#[test]
fn snapshot_empty_folder_narrow() {
    let t = tree();
    let mut b = open(&t.music().join("Empty"), Some(t.home.clone()));
    b.set_notice("nothing to upload here");
    insta::assert_snapshot!("empty_narrow", draw(&b, &[], 60, 16).backend());
}

#[test]
fn snapshot_too_long_to_convert_whole() {
    let t = tree();
    // 140 s of 8 kHz A-law (1.1 MB): converting gives more than fits in one upload.
    std::fs::write(t.music().join("long.wav"), g711_wav(Law::ALaw, &vec![0xd5; 8000 * 140])).unwrap();
    let mut b = open(&t.music(), Some(t.home.clone()));
    select(&mut b, "long.wav");
    insta::assert_snapshot!("too_long", draw(&b, &[], 100, 22).backend());
}

#[test]
fn snapshot_while_reading() {
    let t = tree();
    // Just opened: nothing listed yet.
    let b = Browser::new(&t.music(), Some(t.home.clone()));
    insta::assert_snapshot!("reading_first", draw(&b, &[], 60, 16).backend());
    // Going into assets/ while the listing shown stays usable: a file highlighted on the way
    // waits for its header.
    let mut b = open(&t.music(), Some(t.home.clone()));
    assert_eq!(highlighted(&b), "assets");
    b.on_key(pane_key(KeyCode::Enter), &[]);
    b.on_key(pane_key(KeyCode::Char('j')), &[]);
    b.on_key(pane_key(KeyCode::Char('j')), &[]);
    insta::assert_snapshot!("reading_folder_and_header", draw(&b, &[], 100, 22).backend());
    settle(&mut b);
    assert_eq!(b.cwd(), t.music().join("assets"));
}

// ---- the pane inside the dashboard ----------------------------------------------------------

fn dashboard(t: &Tree) -> sipdeck::client::app::App {
    use sipdeck::client::app::{App, AppConfig, LogRing};
    let cfg = AppConfig { wav_dir: t.music(), ..AppConfig::new("ws://127.0.0.1:8080") };
    let mut app = App::new(cfg, std::time::Instant::now());
    app.wall_clock = || at(10, 0, 0);
    app.log = LogRing::default();
    // The pane as key 5 opens it, with the fixture's home instead of $HOME.
    app.browser = Some(open(&t.music(), Some(t.home.clone())));
    app.dialog = Some(sipdeck::client::app::Dialog::Browser);
    app
}

/// A key to the app, with the disk reads it leads to done and folded as the runner would.
fn app_key(app: &mut sipdeck::client::app::App, code: KeyCode) -> Vec<sipdeck::client::app::Effect> {
    use sipdeck::client::app::{Effect, IoEvent};
    let mut queue: std::collections::VecDeque<Effect> = app.on_key(key(code)).into();
    let mut rest = vec![];
    while let Some(e) = queue.pop_front() {
        let answer = match e {
            Effect::ListDir(dir) => IoEvent::Listed { result: browser::list(&dir).map_err(|e| e.to_string()), dir },
            Effect::Inspect { path, purpose } => {
                IoEvent::Inspected { result: sipdeck::client::files::inspect(&path).map_err(|e| e.to_string()), path, purpose }
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

fn draw_app(app: &sipdeck::client::app::App, w: u16, h: u16) -> TestBackend {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| sipdeck::client::ui::render(app, &Theme::PLAIN, f)).unwrap();
    term.backend().clone()
}

#[test]
fn snapshot_pane_over_the_dashboard_and_the_convert_offer() {
    let t = tree();
    let mut app = dashboard(&t);
    select(app.browser.as_mut().unwrap(), "B-stereo.WAV");
    insta::assert_snapshot!("dashboard_pane", draw_app(&app, 100, 26));
    app_key(&mut app, KeyCode::Enter);
    assert!(matches!(app.dialog, Some(sipdeck::client::app::Dialog::Convert(_))));
    insta::assert_snapshot!("dashboard_convert_offer", draw_app(&app, 100, 26));
    app_key(&mut app, KeyCode::Esc);
    std::fs::write(t.music().join("long.wav"), g711_wav(Law::ALaw, &vec![0xd5; 8000 * 140])).unwrap();
    app_key(&mut app, KeyCode::Esc);
    app_key(&mut app, KeyCode::Char('5'));
    select(app.browser.as_mut().unwrap(), "long.wav");
    app_key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("dashboard_first_part_offer", draw_app(&app, 100, 26));
}

#[test]
fn a_typed_path_the_parent_row_and_verdict_marks() {
    let t = tree();
    let mut b = open(&t.music(), Some(t.home.clone()));
    // Every WAV row carries its verdict from the listing.
    let mark = |b: &Browser, n: &str| b.visible().find(|e| e.name == n).and_then(|e| e.mark);
    assert_eq!(mark(&b, "a-ready.wav"), Some(browser::Mark::Ready));
    assert_eq!(mark(&b, "B-stereo.WAV"), Some(browser::Mark::Convert));
    assert_eq!(mark(&b, "broken.wav"), Some(browser::Mark::Refused));
    assert_eq!(mark(&b, "assets"), None);
    // `:` takes a folder: relative to the one shown, or from home with `~`.
    press(&mut b, ":assets");
    assert_eq!(b.path_input(), Some("assets"));
    hit(&mut b, KeyCode::Enter, &[]);
    settle(&mut b);
    assert_eq!(b.cwd(), t.music().join("assets"));
    press(&mut b, ":~/other");
    hit(&mut b, KeyCode::Enter, &[]);
    settle(&mut b);
    assert_eq!(b.cwd_label(), "~/other");
    // A folder that is not there says so and stays.
    press(&mut b, ":nope");
    hit(&mut b, KeyCode::Enter, &[]);
    settle(&mut b);
    assert_eq!(b.cwd_label(), "~/other");
    assert!(b.notice().unwrap().starts_with("cannot open"), "{:?}", b.notice());
    // Esc forgets what was typed; the pane stays open.
    press(&mut b, ":xyz");
    assert_eq!(hit(&mut b, KeyCode::Esc, &[]), BrowserAction::None);
    assert_eq!(b.path_input(), None);
    // `..` leads and goes up; moving clears the notice.
    press(&mut b, ":~/music");
    hit(&mut b, KeyCode::Enter, &[]);
    assert_eq!(highlighted(&b), "assets", "the first entry, not `..`, is highlighted");
    b.set_notice("old news");
    press(&mut b, "k");
    assert_eq!(b.notice(), None);
    assert_eq!(highlighted(&b), "..");
    hit(&mut b, KeyCode::Enter, &[]);
    assert_eq!(b.cwd_label(), "~");
    // q closes the pane like Esc.
    assert_eq!(hit(&mut b, KeyCode::Char('q'), &[]), BrowserAction::Close);
}
