//! The runtime's session and effects: spill hand-over, saves, reads that hang.

use std::time::Instant;

use tokio::sync::mpsc;

use super::effects::save;
use super::*;
use crate::client::spill;

#[tokio::test]
async fn packets_in_batches_reach_the_spill_file() {
    use crate::client::net::RtpFrame;
    use crate::core::rtp::{self, RtpHeader};
    let dir = tempfile::tempdir().unwrap();
    let cfg = crate::client::app::AppConfig {
        url: "ws://127.0.0.1:9".into(),
        default_number: "0938220136".parse().unwrap(),
        record_dir: dir.path().to_path_buf(),
        record_format: crate::client::app::RecordFormat::Mulaw,
        wav_dir: dir.path().to_path_buf(),
        save_calls: Default::default(),
    };
    let (cmd, _cmd_rx) = mpsc::channel(4);
    let (io, _io_rx) = mpsc::channel(4);
    let mut s = Session::new(App::new(cfg, Instant::now()), Effects::new(cmd, io), None).unwrap();
    let rtp = |seq: u16| {
        let h = RtpHeader { sequence: seq, timestamp: seq as u32 * 160, ssrc: 7, ..Default::default() };
        NetEvent::Rtp(RtpFrame::from_bytes(rtp::build(&h, &[0x55; 160]), Instant::now()).unwrap())
    };
    let now = Instant::now();
    s.on_net(rtp(1), now);
    s.on_net(NetEvent::Batch(vec![rtp(2), NetEvent::Status("ringing".into()), rtp(3), rtp(4)]), now);
    s.on_tick(now);
    assert_eq!(s.app.capture.len(), 4 * 160);
    let kept = s.finish().expect("unsaved audio keeps its spill file");
    let (capture, packets) = spill::read_capture(&kept).unwrap();
    assert_eq!((packets, capture.len()), (4, 4 * 160));
}

#[test]
fn saves_never_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let IoEvent::Saved { path: a, .. } = save(dir.path(), "rtp_capture_x.wav", b"1", 0.0) else { panic!() };
    let IoEvent::Saved { path: b, .. } = save(dir.path(), "rtp_capture_x.wav", b"2", 0.0) else { panic!() };
    assert_eq!(a.file_name().unwrap(), "rtp_capture_x.wav");
    assert_eq!(b.file_name().unwrap(), "rtp_capture_x_2.wav");
    let IoEvent::SaveFailed { error, .. } = save(&dir.path().join("nope"), "a.wav", b"1", 0.0) else { panic!() };
    assert!(error.contains("No such file"), "{error}");
}

/// A FIFO blocks whoever opens it until a writer comes: a stand-in for a file on a drive
/// that does not answer. Reading its header must not hold up the loop that applies
/// effects, nor a folder listing asked for after it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_hangs_holds_up_nothing_else() {
    use crate::client::app::Purpose;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("slow.wav");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo (coreutils)");
    assert!(made.success());
    let (cmd, _cmd_rx) = mpsc::channel(4);
    let (io, mut io_rx) = mpsc::channel(4);
    let fx = Effects::new(cmd, io);
    let limit = Duration::from_secs(10);
    let inspect = Effect::Inspect { path: fifo.clone(), purpose: Purpose::Browser };
    tokio::time::timeout(limit, fx.apply(inspect)).await.expect("apply returns while the FIFO has no writer");
    tokio::time::timeout(limit, fx.apply(Effect::ListDir(dir.path().to_path_buf()))).await.unwrap();
    let Some(IoEvent::Listed { result: Ok(listing), .. }) = tokio::time::timeout(limit, io_rx.recv()).await.unwrap() else {
        panic!("the listing answers first")
    };
    assert_eq!(listing.entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["slow.wav"]);
    assert_eq!(fx.in_flight(), 0, "reads are not work that quitting waits for");
    // A writer comes: the header read ends.
    let wav = crate::core::wav::g711_wav(crate::core::wav::Law::MuLaw, &[0xff; 800]);
    let writer = tokio::task::spawn_blocking(move || std::fs::write(fifo, wav));
    let answer = tokio::time::timeout(limit, io_rx.recv()).await.unwrap();
    let Some(IoEvent::Inspected { result: Ok(ins), purpose: Purpose::Browser, .. }) = answer else { panic!("{answer:?}") };
    assert_eq!(ins.verdict, crate::core::wav::Verdict::Ready);
    writer.await.unwrap().unwrap();
}

/// An upload effect reads and checks the file and reports; it sends nothing itself. The app
/// decides: connected, its answer is the send; disconnected, nothing goes out.
#[tokio::test]
async fn uploads_report_and_the_app_decides_what_is_sent() {
    use crate::client::app::ConnState;
    use crate::core::protocol::ClientMsg;
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("tone.wav");
    std::fs::write(&wav, crate::core::wav::g711_wav(crate::core::wav::Law::MuLaw, &[0xff; 800])).unwrap();
    let (cmd, mut cmd_rx) = mpsc::channel(4);
    let (io, mut io_rx) = mpsc::channel(4);
    let fx = Effects::new(cmd, io);
    assert!(!fx.apply(Effect::Upload(wav.clone())).await, "nothing handed to the network");
    let ev = tokio::time::timeout(std::time::Duration::from_secs(10), io_rx.recv()).await.unwrap().unwrap();
    let IoEvent::UploadReady { path, msg: ClientMsg::WavUpload { name, .. } } = &ev else { panic!("{ev:?}") };
    assert_eq!((path, name.as_str()), (&wav, "tone.wav"));
    assert!(cmd_rx.try_recv().is_err(), "the effect sent nothing");
    assert_eq!(fx.in_flight(), 0);
    let cfg = crate::client::app::AppConfig {
        url: "ws://127.0.0.1:9".into(),
        default_number: "0938220136".parse().unwrap(),
        record_dir: dir.path().to_path_buf(),
        record_format: crate::client::app::RecordFormat::Mulaw,
        wav_dir: dir.path().to_path_buf(),
        save_calls: Default::default(),
    };
    let mut app = App::new(cfg, Instant::now());
    assert_eq!(app.on_io(ev.clone()), vec![], "not connected: not sent");
    app.conn = ConnState::Connected { since: Instant::now() };
    let IoEvent::UploadReady { msg, .. } = ev.clone() else { unreachable!() };
    assert_eq!(app.on_io(ev), vec![Effect::Send(msg)]);
}
