//! Render snapshots of the dashboard (ratatui TestBackend + insta). Rendering is a pure
//! function of the App, so fixed states give fixed screens.

use std::time::{Duration, Instant};

use chrono::{Local, TimeZone};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use sipdeck::client::app::{App, AppConfig, CallState, ConnState, LogKind, LogRing, Upload, UploadState};
use sipdeck::client::net::{NetEvent, RtpFrame};
use sipdeck::core::rtp::{self, RtpHeader};
use sipdeck::client::ui::{self, Theme};

fn app(t0: Instant) -> App {
    let cfg = AppConfig::new("ws://127.0.0.1:8080");
    let mut a = App::new(cfg, t0);
    a.wall_clock = || at(59);
    a.log = LogRing::default();
    a
}

fn at(sec: u32) -> chrono::DateTime<Local> {
    Local.with_ymd_and_hms(2026, 11, 24, 10, 0, sec).unwrap()
}

fn draw(app: &App, w: u16, h: u16) -> TestBackend {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::render(app, &Theme::PLAIN, f)).unwrap();
    term.backend().clone()
}

fn in_call(t0: Instant) -> App {
    let mut a = app(t0);
    a.conn = ConnState::Connected { since: t0 };
    a.log.push(at(0), LogKind::Info, "connected to ws://127.0.0.1:8080 with subprotocol sip-audio-protocol");
    a.log.push(at(1), LogKind::Client, "sent CALL:0938220136");
    a.log.push(at(1), LogKind::Server, "Calling 0938220136");
    a.log.push(at(2), LogKind::Server, "Ringing");
    a.log.push(at(3), LogKind::Server, "Call answered");
    a.log.push(at(4), LogKind::Warn, "malformed frame: RTP frame is not valid hex (Odd number of digits)");
    a.log.push(at(5), LogKind::Server, "a status line long enough to wrap around the right edge of the log pane at eighty columns");
    for i in 0..250u32 {
        let h = RtpHeader { payload_type: 0, sequence: i as u16, timestamp: i * 160, ssrc: 1, marker: false };
        let f = RtpFrame::from_bytes(rtp::build(&h, &[0xff; 160]), t0 + Duration::from_millis(i as u64 * 20)).unwrap();
        a.on_net(NetEvent::Rtp(f), t0 + Duration::from_millis(2000));
    }
    a.log = {
        // on_rtp logged the stream start with the wall clock; keep the fixed lines only.
        let mut l = LogRing::default();
        for x in a.log.iter().filter(|l| !l.text.starts_with("RTP stream")) {
            l.push(x.time, x.kind, &x.text);
        }
        l
    };
    a.rtp.malformed = 1;
    a.call = CallState::Active { number: "0938220136".parse().unwrap(), answered: t0 + Duration::from_secs(3) };
    a.uploads.push(Upload { name: "hello.wav".parse().unwrap(), bytes: 8058, state: UploadState::Acked { text: "hello.wav (8058 bytes)".into(), at: at(6) } });
    a.uploads.push(Upload { name: "big.wav".parse().unwrap(), bytes: 900_000, state: UploadState::Pending { since: t0 } });
    a.on_tick(t0 + Duration::from_millis(5010));
    a
}

#[test]
fn idle_connecting() {
    let t0 = Instant::now();
    let mut a = app(t0);
    a.log.push(at(0), LogKind::Info, "sipdeck started, server ws://127.0.0.1:8080");
    a.log.push(at(0), LogKind::Info, "connecting to ws://127.0.0.1:8080");
    insta::assert_snapshot!(draw(&a, 80, 24));
}

#[test]
fn in_call_with_counters() {
    let t0 = Instant::now();
    let a = in_call(t0);
    insta::assert_snapshot!(draw(&a, 80, 24));
}

#[test]
fn dial_dialog_with_error() {
    let t0 = Instant::now();
    let mut a = in_call(t0);
    // The dial dialog opens only when no call is up.
    a.call.end("hung up by you", t0 + Duration::from_secs(5));
    a.on_key(KeyEvent::from(KeyCode::Char('2')));
    for c in "12".chars() {
        a.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    a.on_key(KeyEvent::from(KeyCode::Enter));
    insta::assert_snapshot!(draw(&a, 80, 24));
}

#[test]
fn play_dialog_offers_acknowledged_names() {
    let t0 = Instant::now();
    let mut a = in_call(t0);
    a.on_key(KeyEvent::from(KeyCode::Char('6')));
    insta::assert_snapshot!(draw(&a, 80, 24));
}

#[test]
fn help_overlay() {
    let t0 = Instant::now();
    let mut a = in_call(t0);
    a.on_key(KeyEvent::from(KeyCode::Char('?')));
    insta::assert_snapshot!(draw(&a, 80, 24));
}

#[test]
fn disconnected_and_call_ended() {
    let t0 = Instant::now();
    let mut a = in_call(t0);
    a.on_net(NetEvent::Disconnected { reason: "connection reset by the server".into(), retry_in: Some(Duration::from_secs(2)) }, t0 + Duration::from_millis(5010));
    a.log = LogRing::default();
    a.log.push(at(9), LogKind::Error, "disconnected: connection reset by the server; retrying in 2.0 s (r to retry now)");
    insta::assert_snapshot!(draw(&a, 80, 24));
}

#[test]
fn tiny_and_odd_sizes_never_panic() {
    let t0 = Instant::now();
    let mut a = in_call(t0);
    for (w, h) in [(0, 0), (1, 1), (10, 3), (39, 9), (40, 10), (80, 24), (200, 60), (300, 12)] {
        draw(&a, w, h);
    }
    a.on_key(KeyEvent::from(KeyCode::Char('?')));
    for (w, h) in [(40, 10), (45, 12), (20, 40)] {
        draw(&a, w, h);
    }
    insta::assert_snapshot!(draw(&a, 30, 8));
}

#[test]
fn log_scrolls_by_lines() {
    let t0 = Instant::now();
    let mut a = app(t0);
    for i in 0..100 {
        a.log.push(at(i % 60), LogKind::Server, &format!("line {i}"));
    }
    a.on_key(KeyEvent::from(KeyCode::PageUp));
    let screen = draw(&a, 80, 24).to_string();
    assert!(screen.contains("line 89") && !screen.contains("line 90"), "{screen}");
    assert!(screen.contains("10 lines up"));
    a.on_key(KeyEvent::from(KeyCode::Home));
    let screen = draw(&a, 80, 24).to_string();
    assert!(screen.contains("line 0 ") || screen.contains("line 0│"), "{screen}");
    a.on_key(KeyEvent::from(KeyCode::End));
    assert!(draw(&a, 80, 24).to_string().contains("line 99"));
}

#[test]
fn quit_asks_during_a_call() {
    let t0 = Instant::now();
    let mut a = in_call(t0);
    a.on_key(KeyEvent::from(KeyCode::Char('q')));
    insta::assert_snapshot!(draw(&a, 80, 24));
}

#[test]
fn log_search_highlights_matches() {
    let t0 = Instant::now();
    let mut a = in_call(t0);
    a.on_key(KeyEvent::from(KeyCode::Char('/')));
    for c in "call".chars() {
        a.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    let typing = draw(&a, 80, 24).to_string();
    assert!(typing.contains("/call  Enter searches the log"), "{typing}");
    a.on_key(KeyEvent::from(KeyCode::Enter));
    insta::assert_snapshot!(draw(&a, 80, 24));
    // The matches are drawn reversed.
    let mut term = ratatui::Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| ui::render(&a, &Theme::PLAIN, f)).unwrap();
    let buf = term.backend().buffer();
    let reversed: String = buf
        .content()
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
        .map(|c| c.symbol())
        .collect();
    assert!(reversed.to_lowercase().contains("callcall"), "{reversed:?}");
}

#[test]
fn wide_terminal_puts_the_log_beside_streams_and_counters() {
    let t0 = Instant::now();
    let mut a = in_call(t0);
    a.last_save = Some("rtp_capture_20261124_100059.wav".into());
    insta::assert_snapshot!(draw(&a, 200, 30));
}

#[test]
fn text_is_cut_with_an_ellipsis_and_numbers_whole() {
    let t0 = Instant::now();
    let mut a = in_call(t0);
    a.last_save = Some("rtp_capture_20261124_100059_a_long_suffix.wav".into());
    a.on_net(
        NetEvent::Disconnected { reason: "connection reset by the server after a very long explanation".into(), retry_in: None },
        t0 + Duration::from_millis(5010),
    );
    let s = draw(&a, 80, 24).to_string();
    assert!(s.contains("(r: now): connection reset by the …│"), "{s}");
    assert!(s.contains("Saved     rtp_captu…ffix.wav│"), "{s}");
}

/// Two ended calls: one answered with two streams (the second lossy) and saved, one
/// refused busy; then a third call up with one live stream.
fn with_history(t0: Instant) -> App {
    use sipdeck::client::app::IoEvent;
    use sipdeck::core::protocol::ClientMsg;
    let mut a = app(t0);
    a.on_net(NetEvent::Connected { subprotocol: true }, t0);
    let packets = |a: &mut App, ssrc: u32, n: u32, skip: u32, start: Duration| {
        for i in (0..n).filter(|i| skip == 0 || i % skip != 3) {
            let h = RtpHeader { payload_type: 0, sequence: i as u16, timestamp: i * 160, ssrc, marker: false };
            let at = t0 + start + Duration::from_millis(i as u64 * 20);
            let f = RtpFrame::from_bytes(rtp::build(&h, &[0xff; 160]), at).unwrap();
            a.on_net(NetEvent::Rtp(f), at);
        }
    };
    a.on_net(NetEvent::Sent(ClientMsg::Call("0938220136".parse().unwrap())), t0);
    a.on_net(NetEvent::Status("Call answered".into()), t0);
    packets(&mut a, 0x1a2b3c4d, 250, 0, Duration::ZERO);
    packets(&mut a, 0xcafe0001, 250, 10, Duration::ZERO);
    a.on_net(NetEvent::Status("Call ended".into()), t0 + Duration::from_secs(5));
    let fx = a.on_key(KeyEvent::from(KeyCode::Char('7')));
    assert!(!fx.is_empty(), "the ended call is saved");
    a.on_io(IoEvent::Saved { path: "recordings/rtp_capture_20261124_100059_a_long_suffix.wav".into(), bytes: 80044, seconds: 5.0 });
    a.on_net(NetEvent::Sent(ClientMsg::Call("0912345678".parse().unwrap())), t0 + Duration::from_secs(6));
    a.on_net(NetEvent::Status("Call failed: 486 Busy Here".into()), t0 + Duration::from_secs(6));
    a.on_net(NetEvent::Sent(ClientMsg::Call("0987654321".parse().unwrap())), t0 + Duration::from_secs(7));
    a.on_net(NetEvent::Status("Call answered".into()), t0 + Duration::from_secs(7));
    packets(&mut a, 0x00000077, 100, 0, Duration::from_secs(7));
    a.on_tick(t0 + Duration::from_millis(9010));
    a.log = LogRing::default();
    a.log.push(at(1), LogKind::Info, "call ended: 475 packets, 5.0% lost, MOS 3.94");
    assert_eq!(a.calls.history.len(), 2);
    a
}

fn key(a: &mut App, code: KeyCode) {
    a.on_key(KeyEvent::from(code));
}

#[test]
fn history_pane_at_80x24() {
    let a = with_history(Instant::now());
    insta::assert_snapshot!(draw(&a, 80, 24));
}

#[test]
fn history_selected_shows_that_calls_streams_at_80x24() {
    let mut a = with_history(Instant::now());
    // Tab twice: the history; Home: the first call, whose two streams fill the table.
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Home);
    let s = draw(&a, 80, 24);
    insta::assert_snapshot!(s);
    let text = s.to_string();
    assert!(text.contains("0x1a2b3c4d") && text.contains("0xcafe0001") && !text.contains("0x00000077"), "{text}");
    assert!(text.contains("ended") && !text.contains("s!"), "ended streams are no stall: {text}");
}

#[test]
fn wide_layout_with_history_focus_and_a_selected_stream_at_200x60() {
    let mut a = with_history(Instant::now());
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Home);
    key(&mut a, KeyCode::BackTab);
    key(&mut a, KeyCode::Home);
    let s = draw(&a, 200, 60);
    insta::assert_snapshot!(s);
    // Streams and counters side by side, the history and the log under them.
    let text = s.to_string();
    assert!(text.lines().any(|l| l.contains("RTP streams (2) of the call") && l.contains("RTP ─")), "{text}");
    assert!(text.lines().any(|l| l.trim_matches('"').starts_with('│') && l.contains("10:00:01 --- call ended: 475 packets")), "{text}");
    assert!(text.contains("486 Busy Here") && text.contains("rtp_capture…suffix.wav"), "{text}");
}

#[test]
fn zoom_of_a_stream_and_of_a_call() {
    let mut a = with_history(Instant::now());
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Home);
    key(&mut a, KeyCode::BackTab);
    key(&mut a, KeyCode::End);
    key(&mut a, KeyCode::Enter);
    insta::assert_snapshot!("zoom_stream", draw(&a, 80, 24));
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Enter);
    insta::assert_snapshot!("zoom_call", draw(&a, 80, 24));
    key(&mut a, KeyCode::Char('q'));
    assert!(a.dialog.is_none() && !a.quit);
}

#[test]
fn a_narrow_stream_table_scrolls_to_its_selection() {
    let t0 = Instant::now();
    let mut a = in_call(t0);
    for ssrc in 2..=8u32 {
        let h = RtpHeader { payload_type: 0, sequence: 1, timestamp: 0, ssrc, marker: false };
        let f = RtpFrame::from_bytes(rtp::build(&h, &[0xff; 160]), t0 + Duration::from_secs(5)).unwrap();
        a.on_net(NetEvent::Rtp(f), t0 + Duration::from_secs(5));
    }
    // Unfocused, the newest rows show.
    let text = draw(&a, 80, 24).to_string();
    assert!(text.contains("0x00000008") && !text.contains("0x00000001 PCMU"), "{text}");
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Home);
    let s = draw(&a, 80, 24);
    let text = s.to_string();
    assert!(text.contains("0x00000001 PCMU") && text.contains("┏ RTP streams (8)"), "the first row, in a focused pane: {text}");
    insta::assert_snapshot!(s);
}
