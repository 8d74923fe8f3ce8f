//! Calls as sessions, folded from synthetic events: boundaries, history, saving, stalls.

use std::time::Duration;

use super::super::*;
use super::{CallResult, HISTORY_LEN};
use crate::client::net::{NetEvent, RtpFrame};
use crate::core::protocol::ClientMsg;
use crate::core::rtp::{self, RtpHeader};

fn app(save_calls: SaveCalls) -> App {
    crate::client::app::connected_test_app(AppConfig { save_calls, ..AppConfig::new("ws://test") })
}

fn call(a: &mut App, number: &str) {
    let now = a.now;
    a.on_net(NetEvent::Sent(ClientMsg::Call(number.parse().unwrap())), now);
    a.on_net(NetEvent::Status("Call answered".into()), now);
}

/// `n` packets of 160 bytes on `ssrc`, 20 ms apart from `after` past `a.now`, skipping sequence numbers in
/// `lost`.
fn rtp(a: &mut App, ssrc: u32, n: u32, after: Duration, lost: &[u32]) {
    let at = a.now + after;
    for i in (0..n).filter(|i| !lost.contains(i)) {
        let h = RtpHeader { payload_type: 0, sequence: i as u16, timestamp: i * 160, ssrc, marker: false };
        let t = at + Duration::from_millis(i as u64 * 20);
        let f = RtpFrame::from_bytes(rtp::build(&h, &[0xff; 160]), t).unwrap();
        a.on_net(NetEvent::Rtp(f), t);
    }
}

fn end(a: &mut App, line: &str, after: Duration) {
    let t = a.now + after;
    a.on_net(NetEvent::Status(line.into()), t);
}

#[test]
fn each_call_has_its_own_streams_and_recording() {
    let mut a = app(SaveCalls::Off);
    call(&mut a, "111");
    rtp(&mut a, 7, 50, Duration::ZERO, &[]);
    end(&mut a, "Call ended", Duration::from_secs(1));
    assert_eq!(a.capture.len(), 50 * 160, "the ended call stays for 7");
    call(&mut a, "222");
    assert!(a.streams.is_empty() && a.capture.is_empty(), "a new CALL starts afresh");
    // The same SSRC again: no gap carried over from the previous call.
    rtp(&mut a, 7, 20, Duration::from_secs(5), &[]);
    assert_eq!(a.capture.len(), 20 * 160);
    assert_eq!(a.streams.get(7).unwrap().unique(), 20);
    end(&mut a, "Call ended", Duration::from_secs(6));
    let h: Vec<_> = a.calls.history.iter().collect();
    assert_eq!(h.len(), 2);
    assert_eq!((h[0].number.as_ref().unwrap().as_str(), h[0].packets), ("111", 50));
    assert_eq!((h[1].number.as_ref().unwrap().as_str(), h[1].packets), ("222", 20));
    assert_eq!(h[1].result, CallResult::Answered);
    assert!((h[0].seconds - 1.0).abs() < 1e-9 && (h[1].seconds - 0.4).abs() < 1e-9);
}

#[test]
fn a_failed_call_keeps_its_status_line_and_a_disconnect_ends_a_call() {
    let mut a = app(SaveCalls::Off);
    let now = a.now;
    a.on_net(NetEvent::Sent(ClientMsg::Call("333".parse().unwrap())), now);
    a.on_net(NetEvent::Status("Call failed: 486 Busy Here".into()), now);
    let r = a.calls.history.back().unwrap();
    assert_eq!(r.result, CallResult::NotAnswered("Call failed: 486 Busy Here".into()));
    assert_eq!((r.duration, r.packets, r.score), (Duration::ZERO, 0, None));
    call(&mut a, "444");
    rtp(&mut a, 1, 10, Duration::ZERO, &[]);
    a.on_net(NetEvent::Disconnected { reason: "gone".into(), retry_in: None }, now + Duration::from_secs(2));
    assert_eq!(a.calls.history.len(), 2);
    assert_eq!(a.calls.history.back().unwrap().result, CallResult::Answered);
    assert!(!a.calls.live());
}

#[test]
fn the_history_scores_loss_and_is_bounded() {
    let mut a = app(SaveCalls::Off);
    call(&mut a, "555");
    rtp(&mut a, 9, 100, Duration::ZERO, &[10, 11, 50, 70]);
    end(&mut a, "Call ended", Duration::from_secs(2));
    let r = a.calls.history.back().unwrap().clone();
    assert_eq!(r.packets, 96);
    assert!((r.loss_percent - 4.0).abs() < 1e-9, "{}", r.loss_percent);
    let s = r.score.expect("G.711 is scored");
    let want = crate::core::stats::emodel::Profile::default().score_call(a.streams.iter()).unwrap();
    assert_eq!(s, want);
    assert!(s.mos < 4.41 && s.mos > 1.0, "{s:?}");
    let line = super::history_line(&r);
    assert!(line.contains("555: answered") && line.contains("96 pkts") && line.contains("4.0% lost") && line.contains("not saved"), "{line}");
    for i in 0..HISTORY_LEN + 5 {
        call(&mut a, "666");
        end(&mut a, "Call ended", Duration::from_millis(i as u64));
    }
    assert_eq!(a.calls.history.len(), HISTORY_LEN);
    assert!(a.calls.history.iter().all(|r| r.number.as_ref().unwrap().as_str() == "666"));
}

#[test]
fn key_7_saves_the_last_call_and_its_row_gets_the_file() {
    let mut a = app(SaveCalls::Off);
    call(&mut a, "777");
    rtp(&mut a, 3, 25, Duration::ZERO, &[]);
    end(&mut a, "Call ended", Duration::from_secs(1));
    assert!(a.take_effects().is_empty(), "nothing is saved unasked");
    let fx = a.press(keys::Key::Char('7'));
    let [Effect::SaveCall { name, calls, export, .. }] = fx.as_slice() else { panic!("{fx:?}") };
    assert!(name.starts_with("rtp_capture_"), "{name}");
    assert_eq!((calls.as_slice(), *export), (&[a.calls.history.back().unwrap().id][..], Export::Wav(RecordFormat::Mulaw)));
    assert!(a.log.iter().any(|l| l.text.contains("saving 0.5 s of audio")));
    a.on_io(IoEvent::Saved { path: "x/rec.wav".into(), bytes: 10, seconds: 0.5 });
    assert_eq!(a.calls.history.back().unwrap().file.as_deref(), Some(std::path::Path::new("x/rec.wav")));
}

#[test]
fn save_calls_saves_every_call_as_it_ends_named_by_time_and_number() {
    let mut a = app(SaveCalls::Wav);
    assert_eq!(a.press(keys::Key::Char('P')), vec![], "no packets yet: no pcap");
    a.wall_clock = || chrono::TimeZone::with_ymd_and_hms(&chrono::Local, 2026, 3, 4, 5, 6, 7).unwrap();
    call(&mut a, "0938220136");
    rtp(&mut a, 3, 30, Duration::ZERO, &[]);
    end(&mut a, "Call ended", Duration::from_secs(1));
    let fx = a.take_effects();
    let [Effect::SaveCall { name, .. }] = fx.as_slice() else { panic!("{fx:?}") };
    assert_eq!(name, "call_20260304_050607_0938220136.wav");
    // Both: a WAV and a pcap per call.
    a.cfg.save_calls = SaveCalls::Both;
    call(&mut a, "4242");
    rtp(&mut a, 4, 5, Duration::ZERO, &[]);
    end(&mut a, "Call ended", Duration::from_secs(1));
    let names: Vec<String> = a.take_effects().into_iter().map(|e| match e {
        Effect::SaveCall { name, .. } => name,
        e => panic!("{e:?}"),
    }).collect();
    assert_eq!(names, ["call_20260304_050607_4242.wav", "call_20260304_050607_4242.pcap"]);
    // A call without audio leaves nothing to save.
    call(&mut a, "1234");
    end(&mut a, "Call failed: 404 Not Found", Duration::ZERO);
    assert!(a.take_effects().is_empty());
}

#[test]
fn streams_of_an_ended_call_are_not_stalled() {
    let mut a = app(SaveCalls::Off);
    call(&mut a, "888");
    let t0 = a.now;
    rtp(&mut a, 5, 10, Duration::ZERO, &[]);
    let later = t0 + Duration::from_secs(5);
    a.on_tick(later);
    assert!(a.stall_alarms() && a.stream_clock() == later, "live: the alarm may sound");
    end(&mut a, "Call ended", Duration::ZERO);
    a.on_tick(later + Duration::from_secs(60));
    assert!(!a.stall_alarms());
    let s = a.streams.get(5).unwrap();
    assert!(!s.stalled(a.stream_clock()));
}

#[test]
fn a_call_saved_while_live_keeps_its_file_in_the_row_unless_audio_came_after() {
    let mut a = app(SaveCalls::Off);
    call(&mut a, "777");
    rtp(&mut a, 3, 25, Duration::ZERO, &[]);
    assert_eq!(a.press(keys::Key::Char('7')).len(), 1);
    a.on_io(IoEvent::Saved { path: "x/live.wav".into(), bytes: 10, seconds: 0.5 });
    end(&mut a, "Call ended", Duration::from_secs(1));
    let r = a.calls.history.back().unwrap();
    assert_eq!(r.file.as_deref(), Some(std::path::Path::new("x/live.wav")));
    assert!(!a.call_unsaved(r.id), "its spill file may go at exit");
    // Audio after the save: the row says not saved, and the spill file stays at exit.
    call(&mut a, "888");
    rtp(&mut a, 4, 10, Duration::ZERO, &[]);
    a.press(keys::Key::Char('7'));
    a.on_io(IoEvent::Saved { path: "x/live2.wav".into(), bytes: 10, seconds: 0.2 });
    rtp(&mut a, 4, 20, Duration::from_secs(1), &[]);
    end(&mut a, "Call ended", Duration::from_secs(2));
    let r = a.calls.history.back().unwrap();
    assert_eq!(r.file, None);
    assert!(a.call_unsaved(r.id));
}
