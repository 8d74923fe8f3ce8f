//! The runtime's session and effects: spill hand-over, saves, reads that hang.

use std::time::Instant;

use tokio::sync::mpsc;

use super::effects::save as save_file;
use super::*;
use crate::client::spill;

fn session(dir: &std::path::Path) -> (Session, mpsc::Receiver<IoEvent>) {
    let cfg = crate::client::app::AppConfig { record_dir: dir.to_path_buf(), wav_dir: dir.to_path_buf(), ..crate::client::app::AppConfig::new("ws://127.0.0.1:9") };
    let (cmd, _cmd_rx) = mpsc::channel(4);
    let (io, io_rx) = mpsc::channel(4);
    let mut s = Session::new(App::new(cfg, Instant::now()), Effects::new(cmd, io), None).unwrap();
    s.app.on_net(NetEvent::Connected { subprotocol: true }, Instant::now());
    (s, io_rx)
}

fn rtp(ssrc: u32, seq: u16) -> NetEvent {
    use crate::client::net::RtpFrame;
    use crate::core::rtp::{self, RtpHeader};
    let h = RtpHeader { sequence: seq, timestamp: seq as u32 * 160, ssrc, ..Default::default() };
    NetEvent::Rtp(RtpFrame::from_bytes(rtp::build(&h, &[0x55; 160]), Instant::now()).unwrap())
}

fn call(n: &str) -> NetEvent {
    NetEvent::Sent(crate::core::protocol::ClientMsg::Call(n.parse().unwrap()))
}

fn spill_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".sipdeck-spill-")).count()
}

/// Save through the session as the runtime does, and wait for the job's answer.
async fn save(s: &mut Session, io: &mut mpsc::Receiver<IoEvent>, fx: Vec<Effect>) -> (std::path::PathBuf, usize) {
    s.apply_all(fx).await;
    saved(s, io).await
}

async fn saved(s: &mut Session, io: &mut mpsc::Receiver<IoEvent>) -> (std::path::PathBuf, usize) {
    let ev = io.recv().await.unwrap();
    let IoEvent::Saved { path, .. } = &ev else { panic!("{ev:?}") };
    let path = path.clone();
    s.on_io(ev).await;
    let info = crate::core::wav::parse_header(&std::fs::read(&path).unwrap()).unwrap();
    (path, info.data_len)
}

#[tokio::test]
async fn each_call_has_its_spill_file_and_any_kept_call_saves_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, mut io) = session(dir.path());
    let now = Instant::now();
    s.on_net(call("111"), now);
    s.on_net(rtp(7, 1), now);
    s.on_net(NetEvent::Batch(vec![rtp(7, 2), NetEvent::Status("ringing".into()), rtp(7, 3), rtp(7, 4)]), now);
    s.on_net(NetEvent::Status("Call ended".into()), now);
    // The next CALL and its packets in one batch: they go to a file of their own.
    s.on_net(NetEvent::Batch(vec![call("222"), rtp(9, 1), rtp(9, 2), rtp(9, 3)]), now);
    s.on_tick(now);
    assert_eq!(s.app.capture.len(), 3 * 160);
    assert_eq!(spill_files(dir.path()), 2);
    let first = s.app.calls.history.back().unwrap().id;
    let fx = s.app.save_call(first, crate::client::app::Export::Wav(Default::default()));
    let (_, samples) = save(&mut s, &mut io, fx).await;
    assert_eq!(samples, 4 * 160);
    assert!(s.app.calls.history.back().unwrap().file.is_some(), "the row has its file");
    // The live call: 7 saves what was received when it was pressed.
    let fx = s.app.command(crate::client::app::command::Command::Save);
    s.apply_all(fx).await;
    s.on_net(rtp(9, 4), now);
    s.on_tick(now);
    let (_, samples) = saved(&mut s, &mut io).await;
    assert_eq!(samples, 3 * 160);
    // Packets after that save are unsaved: that call's file stays; the saved one goes.
    let kept = s.finish().expect("unsaved audio keeps its spill file");
    assert_eq!(spill_files(dir.path()), 1);
    let (packets, _) = spill::replay::for_each_packet(&file(&kept), |_, _| {}).unwrap();
    assert_eq!(packets, 4);
}

fn file(p: &std::path::Path) -> spill::Source {
    spill::Source::File { path: p.to_path_buf(), upto: u64::MAX, progress: None, tail: None }
}

#[tokio::test]
async fn calls_leaving_the_history_take_their_files_and_a_folder_without_room_keeps_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _io) = session(dir.path());
    let now = Instant::now();
    for i in 0..crate::client::app::calls::HISTORY_LEN + 3 {
        s.on_net(call("111"), now);
        s.on_net(rtp(i as u32, 1), now);
        s.on_net(NetEvent::Status("Call ended".into()), now);
        s.on_tick(now);
    }
    assert_eq!(spill_files(dir.path()), crate::client::app::calls::HISTORY_LEN);
    // A record folder that cannot take files: the packets are kept in memory, said once.
    let (mut s, mut io) = session(&dir.path().join("missing"));
    s.on_net(call("222"), now);
    s.on_net(rtp(1, 1), now);
    s.on_net(rtp(1, 2), now);
    assert!(s.app.log.iter().any(|l| l.text.contains("kept in memory only")));
    s.app.cfg.record_dir = dir.path().to_path_buf();
    let fx = s.app.command(crate::client::app::command::Command::Save);
    let (_, samples) = save(&mut s, &mut io, fx).await;
    assert_eq!(samples, 2 * 160);
}

#[test]
fn saves_never_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("x.rtp");
    let mut bytes = spill::format::header_v2(0).to_vec();
    let h = crate::core::rtp::RtpHeader { sequence: 1, timestamp: 0, ssrc: 1, ..Default::default() };
    spill::format::push_record(&mut bytes, 0, &crate::core::rtp::build(&h, &[0x55; 160]));
    std::fs::write(&src, bytes).unwrap();
    let wav = crate::client::app::Export::Wav(Default::default());
    let IoEvent::Saved { path: a, .. } = save_file(&[file(&src)], dir.path(), "rtp_capture_x.wav", wav) else { panic!() };
    let IoEvent::Saved { path: b, .. } = save_file(&[file(&src)], dir.path(), "rtp_capture_x.wav", wav) else { panic!() };
    assert_eq!(a.file_name().unwrap(), "rtp_capture_x.wav");
    assert_eq!(b.file_name().unwrap(), "rtp_capture_x_2.wav");
    let pcap = crate::client::app::Export::Pcap;
    let IoEvent::Saved { path: c, .. } = save_file(&[file(&src)], dir.path(), "x.pcap", pcap) else { panic!() };
    let IoEvent::Saved { path: d, .. } = save_file(&[file(&src)], dir.path(), "x.pcap", pcap) else { panic!() };
    assert_eq!((c.file_name().unwrap(), d.file_name().unwrap()), ("x.pcap".as_ref(), "x_2.pcap".as_ref()));
    let IoEvent::SaveFailed { error, .. } = save_file(&[file(&src)], &dir.path().join("nope"), "a.wav", wav) else { panic!() };
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
    let cfg = crate::client::app::AppConfig { record_dir: dir.path().to_path_buf(), wav_dir: dir.path().to_path_buf(), ..crate::client::app::AppConfig::new("ws://127.0.0.1:9") };
    let mut app = App::new(cfg, Instant::now());
    assert_eq!(app.on_io(ev.clone()), vec![], "not connected: not sent");
    app.conn = ConnState::Connected { since: Instant::now() };
    let IoEvent::UploadReady { msg, .. } = ev.clone() else { unreachable!() };
    assert_eq!(app.on_io(ev), vec![Effect::Send(msg)]);
}
