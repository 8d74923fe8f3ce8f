//! Unit tests of the pane's state, with the disk work answered by hand: no disk here.

use std::path::Path;

use super::*;
use crate::client::app::keys::Key;
use crate::core::convert::Inspection;

fn key(k: Key) -> Key {
    k
}

fn e(name: &str, dir: bool) -> Entry {
    Entry { name: name.into(), kind: if dir { EntryKind::Dir } else { EntryKind::File { size: 1 } }, mark: None }
}

fn listing(dir: &str, entries: &[Entry]) -> Result<Listing, String> {
    Ok(Listing { dir: dir.into(), entries: entries.to_vec() })
}

fn ready() -> Result<Inspection, String> {
    let wav = crate::core::wav::g711_wav(crate::core::wav::Law::MuLaw, &[0xff; 800]);
    Ok(Inspection::of(&wav, wav.len() as u64))
}

fn list_req(p: &str) -> Request {
    Request::List(p.into())
}

fn inspect_req(p: &str) -> Request {
    Request::Inspect(p.into())
}

/// A pane on `/m` holding folders `one`, `two` and files `a.wav`, `b.wav`, listed.
fn listed() -> Browser {
    let mut b = Browser::new(Path::new("/m"), None);
    assert_eq!(b.take_requests(), [list_req("/m")]);
    b.on_listed(Path::new("/m"), listing("/m", &[e("one", true), e("two", true), e("a.wav", false), e("b.wav", false)]));
    assert_eq!(b.reading(), None);
    b
}

fn highlighted(b: &Browser) -> &str {
    b.highlighted().map(|e| e.name.as_str()).unwrap_or("")
}

#[test]
fn opening_only_asks_and_says_it_is_reading() {
    let mut b = Browser::new(Path::new("/m"), None);
    assert_eq!(b.reading(), Some(Path::new("/m")));
    assert_eq!(b.visible_len(), 0);
    assert_eq!(b.take_requests(), [list_req("/m")]);
    assert!(b.take_requests().is_empty(), "asked once");
    b.on_listed(Path::new("/m"), listing("/m", &[e("one", true), e("a.wav", false)]));
    assert_eq!(b.reading(), None);
    assert_eq!(highlighted(&b), "one");
    assert!(b.take_requests().is_empty(), "a folder needs no header");
    // Highlighting a file asks for its header; the info box waits for it.
    b.on_key(key(Key::Down), &[]);
    assert_eq!(b.take_requests(), [inspect_req("/m/a.wav")]);
    assert_eq!(b.info(), None);
    assert_eq!(b.on_inspected(Path::new("/m/a.wav"), ready()), BrowserAction::None);
    assert_eq!(b.info().unwrap().inspection, ready());
    // Known already: moving away and back asks again, as the header may have changed.
    b.on_key(key(Key::Up), &[]);
    b.on_key(key(Key::Down), &[]);
    assert_eq!(b.take_requests(), [inspect_req("/m/a.wav")]);
}

#[test]
fn a_folder_answered_late_is_dropped() {
    let mut b = listed();
    b.on_key(key(Key::Enter), &[]); // into one/
    b.on_key(key(Key::Down), &[]); // the keys still act on what is shown
    b.on_key(key(Key::Enter), &[]); // into two/ instead
    assert_eq!(b.take_requests(), [list_req("/m/one"), list_req("/m/two")]);
    assert_eq!(b.reading(), Some(Path::new("/m/two")));
    b.on_listed(Path::new("/m/one"), listing("/m/one", &[e("x.wav", false)]));
    assert_eq!(b.cwd(), Path::new("/m"), "one/ is no longer wanted");
    assert_eq!(b.visible_len(), 4);
    b.on_listed(Path::new("/m/two"), listing("/m/two", &[e("y.wav", false)]));
    assert_eq!(b.cwd(), Path::new("/m/two"));
    assert_eq!(highlighted(&b), "y.wav");
    // Answered twice (asked twice): the second answer finds nothing pending.
    b.on_listed(Path::new("/m/two"), listing("/m/two", &[]));
    assert_eq!(b.visible_len(), 1);
    // Asking for the folder being read already does not read it twice.
    b.parent();
    b.parent();
    assert_eq!(b.take_requests(), [inspect_req("/m/two/y.wav"), list_req("/m")]);
    b.on_listed(Path::new("/m"), listing("/m", &[e("one", true), e("two", true)]));
    assert_eq!(highlighted(&b), "two", "the parent highlights where we came from");
}

#[test]
fn a_folder_that_cannot_be_read_leaves_the_pane_where_it_was() {
    let mut b = listed();
    b.on_key(key(Key::Char('/')), &[]);
    b.on_key(key(Key::Char('o')), &[]);
    b.on_key(key(Key::Enter), &[]); // ends typing, goes into one/
    b.take_requests();
    b.on_listed(Path::new("/m/one"), Err("Permission denied (os error 13)".into()));
    assert_eq!(b.cwd(), Path::new("/m"));
    assert_eq!(b.notice(), Some("cannot open /m/one: Permission denied (os error 13)"));
    assert_eq!(b.filter(), &Filter::Applied("o".into()), "nothing changed but the notice");
    assert_eq!(highlighted(&b), "one");
    assert_eq!(b.reading(), None);
}

#[test]
fn reopening_shows_the_last_listing_at_once_and_reads_it_again() {
    let mut b = listed();
    b.on_key(key(Key::Char('/')), &[]);
    b.on_key(key(Key::Char('b')), &[]);
    b.take_requests();
    assert_eq!(b.visible_len(), 1);
    b.reopen();
    assert_eq!(b.filter(), &Filter::Off);
    assert_eq!(b.visible_len(), 4, "the remembered listing, unfiltered, before any answer");
    assert_eq!(highlighted(&b), "b.wav");
    assert_eq!(b.take_requests(), [list_req("/m")]);
    // The refresh keeps the highlight and the place; new files show.
    b.on_listed(Path::new("/m"), listing("/m", &[e("a.wav", false), e("b.wav", false), e("c.wav", false)]));
    assert_eq!(highlighted(&b), "b.wav");
    assert_eq!(b.visible_len(), 3);
    b.reopen();
    b.take_requests();
    b.on_listed(Path::new("/m"), Err("No such file or directory (os error 2)".into()));
    assert_eq!(b.notice(), Some("cannot read /m: No such file or directory (os error 2)"));
    assert_eq!(b.visible_len(), 3, "the last listing stays");
    // Reopened while a folder is still being read: that answer is awaited, not replaced.
    b.on_key(key(Key::Backspace), &[]);
    b.reopen();
    assert_eq!(b.take_requests(), [list_req("/")], "b.wav's header is still being read from before");
    assert_eq!(b.reading(), Some(Path::new("/")));
}

#[test]
fn a_header_for_a_file_no_longer_highlighted_is_not_shown() {
    let mut b = listed();
    b.select_name("a.wav");
    b.on_key(key(Key::Down), &[]);
    assert_eq!(b.take_requests(), [inspect_req("/m/a.wav"), inspect_req("/m/b.wav")]);
    b.on_inspected(Path::new("/m/a.wav"), ready());
    assert_eq!(b.info(), None, "b.wav is highlighted; its header is still coming");
    b.on_inspected(Path::new("/m/b.wav"), Err("gone".into()));
    assert_eq!(b.info().unwrap().inspection, Err("gone".into()));
    // An answer nobody asked for changes nothing.
    b.on_inspected(Path::new("/m/b.wav"), ready());
    assert_eq!(b.info().unwrap().inspection, Err("gone".into()));
}

#[test]
fn header_reads_are_bounded_and_the_last_highlight_wins() {
    let mut b = Browser::new(Path::new("/m"), None);
    let files: Vec<Entry> = (0..10).map(|i| e(&format!("{i}.wav"), false)).collect();
    b.on_listed(Path::new("/m"), listing("/m", &files));
    for _ in 0..9 {
        b.on_key(key(Key::Down), &[]);
    }
    let asked = b.take_requests();
    assert_eq!(asked.len(), 1 + MAX_INSPECTING, "the listing and the first reads only");
    assert_eq!(asked[1..], ["/m/0.wav", "/m/1.wav", "/m/2.wav", "/m/3.wav"].map(inspect_req));
    // One answer frees a slot: it goes to the file highlighted now.
    b.on_inspected(Path::new("/m/0.wav"), ready());
    assert_eq!(b.take_requests(), [inspect_req("/m/9.wav")]);
    b.on_inspected(Path::new("/m/9.wav"), ready());
    assert_eq!(b.info().unwrap().path, Path::new("/m/9.wav"));
    for p in ["/m/1.wav", "/m/2.wav", "/m/3.wav"] {
        b.on_inspected(Path::new(p), ready());
    }
    assert!(b.take_requests().is_empty());
}

#[test]
fn enter_picks_on_a_fresh_header_unless_the_highlight_moved_or_the_pane_closed() {
    let mut b = listed();
    b.select_name("a.wav");
    b.take_requests();
    b.on_inspected(Path::new("/m/a.wav"), ready());
    // Known, but read again for the pick: the file may have changed.
    assert_eq!(b.on_key(key(Key::Enter), &[]), BrowserAction::None);
    assert_eq!(b.take_requests(), [inspect_req("/m/a.wav")]);
    let Ok(ins) = ready() else { unreachable!() };
    let pick = BrowserAction::Pick { path: "/m/a.wav".into(), inspection: ins };
    assert_eq!(b.on_inspected(Path::new("/m/a.wav"), ready()), pick);
    // A read under way when Enter comes serves the pick.
    b.on_key(key(Key::Down), &[]);
    b.on_key(key(Key::Enter), &[]);
    assert_eq!(b.take_requests(), [inspect_req("/m/b.wav")]);
    assert!(matches!(b.on_inspected(Path::new("/m/b.wav"), ready()), BrowserAction::Pick { .. }));
    // Enter, then the highlight moves: no pick.
    b.on_key(key(Key::Enter), &[]);
    b.on_key(key(Key::Up), &[]);
    b.take_requests();
    assert_eq!(b.on_inspected(Path::new("/m/b.wav"), ready()), BrowserAction::None);
    // Enter, then Esc: no pick either.
    b.on_inspected(Path::new("/m/a.wav"), ready());
    b.on_key(key(Key::Enter), &[]);
    assert_eq!(b.on_key(key(Key::Esc), &[]), BrowserAction::Close);
    b.take_requests();
    assert_eq!(b.on_inspected(Path::new("/m/a.wav"), ready()), BrowserAction::None);
    // A header that cannot be read is said, not picked.
    b.on_key(key(Key::Enter), &[]);
    b.take_requests();
    assert_eq!(b.on_inspected(Path::new("/m/a.wav"), Err("gone".into())), BrowserAction::None);
    assert_eq!(b.notice(), Some("cannot read a.wav: gone"));
}
