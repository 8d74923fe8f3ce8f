//! Focus, selection, zoom and the mouse, driven by keys and synthetic mouse events.

use std::time::Duration;

use super::*;
use crate::client::app::mouse::Mouse;
use crate::client::app::{focus, mouse, summary, AppConfig, Key, LogKind};
use crate::client::net::{NetEvent, RtpFrame};
use crate::core::protocol::ClientMsg;
use crate::core::rtp::{self, RtpHeader};

fn app() -> App {
    crate::client::app::connected_test_app(AppConfig::new("ws://test"))
}

/// One call to `number` with `ssrcs.len()` streams of 10 packets each, answered and ended.
fn call(a: &mut App, number: &str, ssrcs: &[u32]) {
    let now = a.now;
    a.on_net(NetEvent::Sent(ClientMsg::Call(number.parse().unwrap())), now);
    a.on_net(NetEvent::Status("Call answered".into()), now);
    for &ssrc in ssrcs {
        for i in 0..10u32 {
            let h = RtpHeader { payload_type: 0, sequence: i as u16, timestamp: i * 160, ssrc, marker: false };
            let f = RtpFrame::from_bytes(rtp::build(&h, &[0xff; 160]), now + Duration::from_millis(i as u64 * 20)).unwrap();
            a.on_net(NetEvent::Rtp(f), now);
        }
    }
    a.on_net(NetEvent::Status("Call ended".into()), now + Duration::from_secs(1));
}

fn two_calls() -> App {
    let mut a = app();
    call(&mut a, "111111", &[1, 2]);
    call(&mut a, "222222", &[3]);
    assert_eq!(a.calls.history.len(), 2);
    a
}

fn press(a: &mut App, ks: &[Key]) {
    for k in ks {
        a.press(*k);
    }
}

#[test]
fn tab_walks_the_panes_and_back() {
    let mut a = app();
    assert_eq!(a.focus.pane, Pane::Log);
    press(&mut a, &[Key::Tab]);
    assert_eq!(a.focus.pane, Pane::Streams);
    press(&mut a, &[Key::Tab]);
    assert_eq!(a.focus.pane, Pane::History);
    press(&mut a, &[Key::Tab]);
    assert_eq!(a.focus.pane, Pane::Log);
    press(&mut a, &[Key::BackTab]);
    assert_eq!(a.focus.pane, Pane::History);
}

#[test]
fn an_ended_call_keeps_its_streams_and_selecting_it_shows_them() {
    let mut a = two_calls();
    let first = &a.calls.history[0];
    assert_eq!(first.streams.iter().map(|s| s.ssrc).collect::<Vec<_>>(), vec![1, 2]);
    assert!(first.streams.iter().all(|s| s.last == summary::Last::Ended && s.packets == 10));
    // The current (ended) call's streams read as ended too, never stalled.
    assert!(a.shown_streams().iter().all(|s| s.last == summary::Last::Ended));
    assert_eq!(a.shown_streams().len(), 1);
    press(&mut a, &[Key::Tab, Key::Tab]);
    // Up selects the newest call, Home the oldest.
    press(&mut a, &[Key::Up]);
    assert_eq!(a.selected_call().unwrap().number.as_ref().unwrap().to_string(), "222222");
    press(&mut a, &[Key::Char('k')]);
    assert_eq!(a.selected_call().unwrap().number.as_ref().unwrap().to_string(), "111111");
    assert_eq!(a.shown_streams().iter().map(|s| s.ssrc).collect::<Vec<_>>(), vec![1, 2]);
    press(&mut a, &[Key::Char('j')]);
    assert_eq!(a.selected_call().unwrap().number.as_ref().unwrap().to_string(), "222222");
    press(&mut a, &[Key::Home]);
    assert_eq!(a.selected_call().unwrap().number.as_ref().unwrap().to_string(), "111111");
    // Esc goes back to the current call.
    press(&mut a, &[Key::Esc]);
    assert!(a.selected_call().is_none());
    assert_eq!(a.shown_streams().len(), 1);
}

#[test]
fn arrows_move_the_stream_selection_only_when_the_table_has_the_focus() {
    let mut a = two_calls();
    press(&mut a, &[Key::Tab, Key::Tab, Key::Home, Key::BackTab]);
    assert_eq!(a.focus.pane, Pane::Streams);
    assert_eq!(a.focus.stream, None);
    press(&mut a, &[Key::Up]);
    assert_eq!(a.focus.stream, Some(1), "the first Up selects the newest row");
    press(&mut a, &[Key::Up, Key::Up]);
    assert_eq!(a.focus.stream, Some(0));
    press(&mut a, &[Key::Down, Key::Down]);
    assert_eq!(a.focus.stream, Some(1), "the selection stops at the last row");
    press(&mut a, &[Key::End]);
    assert_eq!(a.focus.stream, None, "End follows the newest again");
    // With the log focused, Up scrolls the log instead.
    press(&mut a, &[Key::Tab, Key::Tab, Key::Up]);
    assert_eq!(a.focus.pane, Pane::Log);
    assert_eq!(a.focus.stream, None);
}

#[test]
fn enter_zooms_the_selected_stream_or_call_and_esc_or_q_closes() {
    let mut a = two_calls();
    press(&mut a, &[Key::Tab, Key::Tab, Key::Home, Key::BackTab, Key::Home, Key::Enter]);
    assert!(matches!(a.dialog, Some(Dialog::Zoom(focus::Zoom::Stream { index: 0, .. }))), "{:?}", a.dialog);
    let Some(Dialog::Zoom(focus::Zoom::Stream { call, index })) = a.dialog else { unreachable!() };
    assert_eq!(a.zoomed_stream(call, index).unwrap().ssrc, 1);
    press(&mut a, &[Key::Down]);
    assert!(matches!(a.dialog, Some(Dialog::Zoom(focus::Zoom::Stream { index: 1, .. }))));
    press(&mut a, &[Key::Esc]);
    assert!(a.dialog.is_none());
    press(&mut a, &[Key::Tab, Key::Enter]);
    let first = a.calls.history[0].id;
    assert!(matches!(a.dialog, Some(Dialog::Zoom(focus::Zoom::Call(id))) if id == first), "{:?}", a.dialog);
    press(&mut a, &[Key::Char('q')]);
    assert!(a.dialog.is_none() && !a.quit, "q closes the zoom, it does not quit");
    // The log has nothing to zoom.
    press(&mut a, &[Key::Tab, Key::Enter]);
    assert_eq!(a.focus.pane, Pane::Log);
    assert!(a.dialog.is_none());
}

/// Rectangles as a frame at 80x24 would report them.
fn rects() -> Rects {
    Rects {
        log: Some(Area { x: 30, y: 15, width: 50, height: 8 }),
        streams: Some(ListRects { area: Area { x: 0, y: 4, width: 80, height: 6 }, first_row: 6, offset: 0, shown: 1 }),
        history: Some(ListRects { area: Area { x: 0, y: 10, width: 80, height: 5 }, first_row: 12, offset: 0, shown: 2 }),
    }
}

#[test]
fn a_click_focuses_its_pane_and_selects_the_row_under_it() {
    let mut a = two_calls();
    a.focus.rects.set(rects());
    assert_eq!(a.pane_at(5, 12), Some(Pane::History));
    assert_eq!(a.pane_at(40, 20), Some(Pane::Log));
    assert_eq!(a.pane_at(5, 20), None, "the counters take no mouse");
    a.on_mouse(Mouse::Click { x: 5, y: 12 });
    assert_eq!(a.focus.pane, Pane::History);
    assert_eq!(a.selected_call().unwrap().id, a.calls.history[0].id);
    a.on_mouse(Mouse::Click { x: 5, y: 13 });
    assert_eq!(a.selected_call().unwrap().id, a.calls.history[1].id);
    // The header row and rows past the last item select nothing.
    a.on_mouse(Mouse::Click { x: 5, y: 11 });
    assert_eq!(a.selected_call().unwrap().id, a.calls.history[1].id);
    a.on_mouse(Mouse::Click { x: 5, y: 6 });
    assert_eq!((a.focus.pane, a.focus.stream), (Pane::Streams, Some(0)));
    a.on_mouse(Mouse::Click { x: 40, y: 20 });
    assert_eq!(a.focus.pane, Pane::Log);
}

#[test]
fn the_wheel_scrolls_what_is_under_the_pointer() {
    let mut a = two_calls();
    for i in 0..40 {
        a.log(LogKind::Info, format!("line {i}"));
    }
    a.focus.rects.set(rects());
    a.on_mouse(Mouse::WheelUp { x: 40, y: 20 });
    assert_eq!(a.log_view.scroll, mouse::WHEEL_ROWS);
    assert_eq!(a.focus.pane, Pane::Log);
    a.on_mouse(Mouse::WheelDown { x: 40, y: 20 });
    assert_eq!(a.log_view.scroll, 0);
    a.on_mouse(Mouse::WheelUp { x: 5, y: 12 });
    assert_eq!(a.selected_call().unwrap().id, a.calls.history[1].id, "the wheel moves the history's selection");
    a.on_mouse(Mouse::WheelUp { x: 5, y: 12 });
    assert_eq!(a.selected_call().unwrap().id, a.calls.history[0].id);
    // A dialog takes no mouse.
    press(&mut a, &[Key::Char('?')]);
    a.on_mouse(Mouse::Click { x: 40, y: 20 });
    assert!(a.dialog.is_some());
}

#[test]
fn four_writes_one_short_line_per_stream() {
    let mut a = app();
    call(&mut a, "111111", &[1, 2]);
    let before = a.log.len();
    a.press(Key::Char('4'));
    let lines: Vec<String> = a.log.iter().skip(before).map(|l| l.text.clone()).collect();
    assert!(lines[0].starts_with("statistics: 20 RTP packets"), "{lines:?}");
    assert_eq!(lines[1], "SSRC 0x00000001 PCMU: 10/10 pkts, 0 lost 0.0%, jitter 0.00 ms");
    for l in &lines[..3] {
        assert!(l.chars().count() <= 67, "too long for 80 columns with time and tag: {l}");
    }
}
