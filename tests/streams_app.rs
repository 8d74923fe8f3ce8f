//! The app's fold of RTP frames into the stream set, the capture and the log, with synthetic
//! frames and known arrival times (no network).

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};
use sipdeck::client::app::{App, AppConfig, Effect, RecordFormat};
use sipdeck::core::dtmf::TelephoneEvent;
use sipdeck::client::net::{NetEvent, RtpFrame};
use sipdeck::core::rtp::{self, RtpHeader};

fn app(t0: Instant, format: RecordFormat) -> App {
    let cfg = AppConfig { record_dir: std::env::temp_dir(), record_format: format, ..AppConfig::new("ws://127.0.0.1:1") };
    App::new(cfg, t0)
}

fn frame(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8], at: Instant) -> NetEvent {
    let h = RtpHeader { marker: false, payload_type: pt, sequence: seq, timestamp: ts, ssrc };
    NetEvent::Rtp(RtpFrame::from_bytes(rtp::build(&h, payload), at).unwrap())
}

fn lines(app: &App, needle: &str) -> Vec<String> {
    app.log.iter().filter(|l| l.text.contains(needle)).map(|l| l.text.clone()).collect()
}

/// 40 PCMU packets with 12 and 30 lost and 20 late, then a DTMF digit on the same SSRC
/// (seq 40..=45, its end sent three times), then 10 more audio packets.
fn call(app: &mut App, t0: Instant) {
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let mut order: Vec<u16> = (0..40).filter(|s| *s != 12 && *s != 30).collect();
    let i = order.iter().position(|&s| s == 20).unwrap();
    order.remove(i);
    order.insert(i + 2, 20);
    for s in order {
        app.on_net(frame(0, s, 160 * s as u32, 0xabc, &[0x55; 160], at(20 * s as u64)), at(20 * s as u64));
    }
    for (k, s) in (40u16..46).enumerate() {
        let p = TelephoneEvent { event: 5, end: k >= 3, volume: 10, duration: 160 * (k.min(2) as u16 + 1) }.to_bytes();
        app.on_net(frame(101, s, 6400, 0xabc, &p, at(20 * s as u64)), at(20 * s as u64));
    }
    for s in 46..56u16 {
        app.on_net(frame(0, s, 160 * s as u32, 0xabc, &[0x55; 160], at(20 * s as u64)), at(20 * s as u64));
    }
    app.on_tick(at(20 * 55 + 5));
}

#[test]
fn frames_fold_into_streams_dtmf_and_a_gap_true_capture() {
    let t0 = Instant::now();
    let mut a = app(t0, RecordFormat::Mulaw);
    call(&mut a, t0);
    let s = a.streams.iter().next().unwrap();
    assert_eq!((s.packets, s.expected(), s.lost(), s.out_of_order, s.event_packets), (54, 56, 2, 1, 6));
    // One digit, logged once, though three end packets came.
    assert_eq!(lines(&a, "DTMF"), ["DTMF 5 (60 ms, -10 dBm0) on SSRC 0x00000abc"]);
    assert_eq!(lines(&a, "RTP stream SSRC").len(), 1);
    // 56 places of 20 ms: the two lost and the six event packets are silence.
    assert_eq!(a.capture.len(), 56 * 160);
    // Where each packet landed is checked on the saved file (below) and in the capture's
    // own tests; the app only measures the recording.
}

#[tokio::test]
async fn key_4_writes_every_stream_and_save_writes_the_gap_true_file() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut a = app(t0, RecordFormat::Pcm16);
    a.cfg.record_dir = dir.path().to_path_buf();
    // Through the session, as the runtime runs it: packets go to the call's spill file,
    // from which the save replays the recording.
    let (cmd, _cmd_rx) = tokio::sync::mpsc::channel(4);
    let (io, mut io_rx) = tokio::sync::mpsc::channel(4);
    let effects = sipdeck::client::runtime::effects::Effects::new(cmd, io);
    let mut s = sipdeck::client::runtime::Session::new(a, effects, None).unwrap();
    call_through(&mut s, t0);
    // A second SSRC opens a second row.
    let later = t0 + Duration::from_secs(2);
    s.on_net(frame(8, 7, 0, 0xdef, &[0xd5; 160], later), later);
    s.on_tick(later);
    let a = &mut s.app;
    assert!(a.on_key(KeyEvent::from(KeyCode::Char('4'))).is_empty());
    // One short line per stream (the zoom view has every figure).
    let streams: Vec<String> = lines(a, "SSRC 0x").into_iter().filter(|l| l.starts_with("SSRC")).collect();
    assert_eq!(streams.len(), 2, "{streams:?}");
    assert!(streams[0].starts_with("SSRC 0x00000abc PCMU: 54/56 pkts, 2 lost 3.6%, jitter "), "{}", streams[0]);
    assert!(streams[0].ends_with(" ms, 1 late, 1 DTMF"), "{}", streams[0]);
    assert_eq!(streams[1], "SSRC 0x00000def PCMA: 1/1 pkts, 0 lost 0.0%, jitter 0.00 ms");
    // The recording follows the newest stream, its A-law transcoded to the recorded mu-law.
    assert_eq!((a.capture.skipped_packets(), a.capture.transcoded_packets()), (0, 1));
    let effects = a.on_key(KeyEvent::from(KeyCode::Char('7')));
    assert!(matches!(effects.as_slice(), [Effect::SaveCall { .. }]), "{effects:?}");
    s.apply_all(effects).await;
    let ev = io_rx.recv().await.unwrap();
    let sipdeck::client::app::IoEvent::Saved { path, seconds, .. } = ev else { panic!("{ev:?}") };
    let bytes = std::fs::read(path).unwrap();
    // The second stream arrived 900 ms after the first's last packet (seq 55, at 8800):
    // it starts at 8800 + 7200 = 16000, so the file keeps the call's time.
    assert_eq!(bytes.len(), 44 + (16_000 + 160) * 2);
    assert!((seconds - 2.02).abs() < 1e-9);
    let pcm: Vec<i16> = bytes[44..].chunks(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
    let silent = |from: usize, to: usize| pcm[from * 160..to * 160].iter().all(|&v| v.abs() < 16);
    assert!(silent(12, 13) && silent(40, 46), "a lost packet and the DTMF event are silence");
    assert!(!silent(20, 21), "the late packet landed in its place");
}

/// [`call`], through a session.
fn call_through(s: &mut sipdeck::client::runtime::Session, t0: Instant) {
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let mut order: Vec<u16> = (0..40).filter(|s| *s != 12 && *s != 30).collect();
    let i = order.iter().position(|&s| s == 20).unwrap();
    order.remove(i);
    order.insert(i + 2, 20);
    for q in order {
        s.on_net(frame(0, q, 160 * q as u32, 0xabc, &[0x55; 160], at(20 * q as u64)), at(20 * q as u64));
    }
    for (k, q) in (40u16..46).enumerate() {
        let p = TelephoneEvent { event: 5, end: k >= 3, volume: 10, duration: 160 * (k.min(2) as u16 + 1) }.to_bytes();
        s.on_net(frame(101, q, 6400, 0xabc, &p, at(20 * q as u64)), at(20 * q as u64));
    }
    for q in 46..56u16 {
        s.on_net(frame(0, q, 160 * q as u32, 0xabc, &[0x55; 160], at(20 * q as u64)), at(20 * q as u64));
    }
    s.on_tick(at(20 * 55 + 5));
}
