//! Folds of the app driven by synthetic events: keys that never surprise (confirmations,
//! closing, the dial field), and the log's scrolling and search.

use std::time::Duration;

use super::keys::Key;
use super::*;
use crate::client::net::{NetEvent, RtpFrame};
use crate::core::protocol::ClientMsg;
use crate::core::rtp::{self, RtpHeader};

fn app() -> App {
    crate::client::app::connected_test_app(AppConfig::new("ws://test"))
}

/// Connected, in a call, with some audio received.
fn in_call() -> App {
    let mut a = app();
    let now = a.now;
    a.on_net(NetEvent::Sent(ClientMsg::Call("0938220136".parse().unwrap())), now);
    a.on_net(NetEvent::Status("Call answered".into()), now);
    for i in 0..10u32 {
        let h = RtpHeader { payload_type: 0, sequence: i as u16, timestamp: i * 160, ssrc: 1, marker: false };
        let f = RtpFrame::from_bytes(rtp::build(&h, &[0xff; 160]), now + Duration::from_millis(i as u64 * 20)).unwrap();
        a.on_net(NetEvent::Rtp(f), now);
    }
    assert!(a.call.in_progress() && a.unsaved_audio());
    a
}

fn keys(a: &mut App, ks: &[Key]) -> Vec<Effect> {
    ks.iter().flat_map(|k| a.press(*k)).collect()
}

fn last_log(a: &App) -> &LogLine {
    a.log.last().unwrap()
}

#[test]
fn quitting_a_live_call_asks_first() {
    let mut a = in_call();
    assert!(keys(&mut a, &[Key::Char('q')]).is_empty());
    assert!(matches!(a.dialog, Some(Dialog::Confirm(Ask::Quit))));
    assert!(keys(&mut a, &[Key::Char('n')]).is_empty(), "n stays");
    assert!(a.dialog.is_none() && !a.quit);
    keys(&mut a, &[Key::Char('8')]);
    assert!(keys(&mut a, &[Key::Esc]).is_empty() && a.dialog.is_none(), "Esc stays too");
    keys(&mut a, &[Key::Char('8')]);
    assert!(keys(&mut a, &[Key::Char('x')]).is_empty(), "other keys change nothing");
    assert!(matches!(a.dialog, Some(Dialog::Confirm(Ask::Quit))));
    assert_eq!(keys(&mut a, &[Key::Char('y')]), vec![Effect::Quit]);
    assert!(a.quit);
    // Ctrl-C asks too, and a second Ctrl-C quits.
    let mut a = in_call();
    assert!(keys(&mut a, &[Key::Ctrl('c')]).is_empty());
    assert_eq!(keys(&mut a, &[Key::Ctrl('c')]), vec![Effect::Quit]);
}

#[test]
fn unsaved_audio_asks_but_saved_audio_does_not() {
    let mut a = in_call();
    a.call.end("hung up by you", a.now);
    keys(&mut a, &[Key::Char('q')]);
    assert!(matches!(a.dialog, Some(Dialog::Confirm(Ask::Quit))), "audio not saved");
    keys(&mut a, &[Key::Char('n')]);
    let fx = keys(&mut a, &[Key::Char('7')]);
    let [Effect::SaveCall { dir, .. }] = fx.as_slice() else { panic!("{fx:?}") };
    a.on_io(IoEvent::Saved { path: dir.join("x.wav"), bytes: 10, seconds: 0.2 });
    assert_eq!(keys(&mut a, &[Key::Char('q')]), vec![Effect::Quit], "nothing to lose: no question");
    // Line mode's quit never asks: nobody is there to answer.
    let mut a = in_call();
    assert_eq!(a.command(command::Command::Quit), vec![Effect::Quit]);
}

#[test]
fn reconnect_during_a_call_asks_and_is_no_error() {
    let mut a = in_call();
    assert!(keys(&mut a, &[Key::Char('r')]).is_empty());
    assert!(matches!(a.dialog, Some(Dialog::Confirm(Ask::Reconnect))));
    assert_eq!(keys(&mut a, &[Key::Char('y')]), vec![Effect::Reconnect]);
    a.on_net(NetEvent::Disconnected { reason: "reconnect requested".into(), retry_in: Some(Duration::ZERO) }, a.now);
    assert_eq!(last_log(&a).kind, LogKind::Info, "{:?}", last_log(&a));
    // A connection lost on its own is still an error.
    a.on_net(NetEvent::Disconnected { reason: "reset".into(), retry_in: None }, a.now);
    assert_eq!(last_log(&a).kind, LogKind::Error);
    // With no call, r reconnects at once.
    let mut a = app();
    assert_eq!(keys(&mut a, &[Key::Char('r')]), vec![Effect::Reconnect]);
}

#[test]
fn the_dial_field_refuses_at_once_and_takes_digits_only() {
    let mut a = in_call();
    let before = a.log.len();
    keys(&mut a, &[Key::Char('2')]);
    assert!(a.dialog.is_none(), "a call is up: no dialog");
    assert_eq!(a.log.len(), before + 1);
    assert!(last_log(&a).text.contains("in progress"));
    let mut a = app();
    keys(&mut a, &[Key::Char('2')]);
    keys(&mut a, &"09a1-2 x".chars().map(Key::Char).collect::<Vec<_>>());
    let Some(Dialog::Dial { input, .. }) = &a.dialog else { panic!("{:?}", a.dialog) };
    assert_eq!(input.value(), "0912");
    // A number too short is said in the dialog, not in the log.
    let before = a.log.len();
    keys(&mut a, &[Key::Backspace, Key::Backspace, Key::Enter]);
    let Some(Dialog::Dial { error: Some(e), .. }) = &a.dialog else { panic!("{:?}", a.dialog) };
    assert!(e.contains("at least 3"), "{e}");
    assert_eq!(a.log.len(), before);
    keys(&mut a, &[Key::Char('q')]);
    assert!(a.dialog.is_none(), "q closes it");
}

#[test]
fn q_and_esc_close_what_is_open() {
    let mut a = app();
    for open in [Key::Char('?'), Key::Char('5'), Key::Char('2')] {
        for close in [Key::Char('q'), Key::Esc] {
            keys(&mut a, &[open]);
            assert!(a.dialog.is_some(), "{open:?}");
            assert!(keys(&mut a, &[close]).is_empty());
            assert!(a.dialog.is_none(), "{close:?} closes what {open:?} opened");
            assert!(!a.quit);
        }
    }
    // The play field takes names, so q is typed there; Esc closes it.
    keys(&mut a, &[Key::Char('6'), Key::Char('q')]);
    let Some(Dialog::Play { input, .. }) = &a.dialog else { panic!("{:?}", a.dialog) };
    assert_eq!(input.value(), "q");
    keys(&mut a, &[Key::Esc]);
    assert!(a.dialog.is_none());
}

/// An app with a log of `n` one-row lines and one line three rows long (the second newest),
/// in a pane 33 columns (20 of text) by 5 rows.
fn with_log(n: usize) -> App {
    let mut a = app();
    a.log = LogRing::default();
    a.log_view.pane.set(super::log_view::Pane { width: 33, rows: 5 });
    for i in 0..n {
        a.log(LogKind::Info, format!("line {i}"));
    }
    a.log(LogKind::Warn, "a line that is long enough for three rows");
    a.log(LogKind::Info, "newest");
    a
}

#[test]
fn the_log_scrolls_by_rows() {
    let mut a = with_log(20);
    assert_eq!(super::log_view::rows_of(&a.log.iter().rev().nth(1).unwrap().clone(), 33), 3);
    // Every row key moves one row, even through a wrapped line.
    for want in 1..=4 {
        keys(&mut a, &[Key::Char('k')]);
        assert_eq!(a.log_view.scroll, want);
    }
    keys(&mut a, &[Key::Down, Key::Char('j')]);
    assert_eq!(a.log_view.scroll, 2);
    // New lines keep what is read in place.
    a.log(LogKind::Info, "one more");
    assert_eq!(a.log_view.scroll, 3);
    // g goes to the top (24 rows, 5 shown), G back to following.
    keys(&mut a, &[Key::Char('g')]);
    assert_eq!(a.log_view.scroll, 25 - 5);
    keys(&mut a, &[Key::PageUp]);
    assert_eq!(a.log_view.scroll, 20, "no further than the top");
    keys(&mut a, &[Key::Char('G')]);
    assert_eq!(a.log_view.scroll, 0);
    a.log(LogKind::Info, "followed");
    assert_eq!(a.log_view.scroll, 0, "following stays following");
}

#[test]
fn search_steps_through_matches_and_esc_clears_it() {
    let mut a = with_log(30);
    keys(&mut a, &[Key::Char('/')]);
    assert!(matches!(a.dialog, Some(Dialog::Search { .. })));
    keys(&mut a, &"LINE 2".chars().map(Key::Char).collect::<Vec<_>>());
    keys(&mut a, &[Key::Enter]);
    assert!(a.dialog.is_none());
    let hit = |a: &App| a.log.iter().find(|l| Some(l.seq) == a.log_view.hit).map(|l| l.text.clone());
    // The newest match first, case ignored; then older ones with n.
    assert_eq!(hit(&a).as_deref(), Some("line 29"));
    assert_eq!(a.log_view.scroll, 1 + 3, "the match is the bottom row");
    keys(&mut a, &[Key::Char('n')]);
    assert_eq!(hit(&a).as_deref(), Some("line 28"));
    keys(&mut a, &[Key::Char('N')]);
    assert_eq!(hit(&a).as_deref(), Some("line 29"));
    for _ in 0..20 {
        keys(&mut a, &[Key::Char('n')]);
    }
    assert_eq!(hit(&a).as_deref(), Some("line 2"));
    assert!(a.log_view.missed, "no older match is said");
    keys(&mut a, &[Key::Esc]);
    assert_eq!((a.log_view.search.as_deref(), a.log_view.hit), (None, None));
}

#[test]
fn one_recovery_dialog_for_every_leftover_and_keys_typed_ahead_still_work() {
    let mut a = app();
    let left = |n: &str| crate::client::spill::Leftover { path: n.into(), modified: None, bytes: 1000 };
    a.offer_recovery(vec![left("a.rtp"), left("b.rtp"), left("c.rtp")]);
    // A `1` typed before the dialog was seen still calls; the offer stays up.
    assert_eq!(keys(&mut a, &[Key::Char('1')]), vec![Effect::Send(ClientMsg::Call("0938220136".parse().unwrap()))]);
    assert!(matches!(&a.dialog, Some(Dialog::Recover { files }) if files.len() == 3));
    let fx = keys(&mut a, &[Key::Enter]);
    let dir = a.cfg.record_dir.clone();
    let want: Vec<Effect> = ["a.rtp", "b.rtp", "c.rtp"].iter().map(|p| Effect::Recover { spill: p.into(), dir: dir.clone() }).collect();
    assert_eq!(fx, want, "every file at once");
    assert!(a.dialog.is_none());
    // D deletes them all; Esc keeps them for the next start.
    a.offer_recovery(vec![left("a.rtp"), left("b.rtp")]);
    assert_eq!(keys(&mut a, &[Key::Char('D')]), vec![Effect::Discard("a.rtp".into()), Effect::Discard("b.rtp".into())]);
    a.offer_recovery(vec![left("a.rtp")]);
    assert!(keys(&mut a, &[Key::Esc]).is_empty() && a.dialog.is_none());
}
