//! What both runners (full screen and line mode) share: carrying out effects, the log file,
//! the spill file, and folding events into the app with their side work.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use tokio::sync::mpsc;

use crate::client::app::{App, Effect, IoEvent, LogKind};
use crate::client::net::{Command, NetEvent};
use crate::client::spill::{self, SpillWriter};

/// Carries out the app's [`Effect`]s; shared by the full-screen and the line-mode runners.
#[derive(Clone)]
pub struct Effects {
    pub cmd: mpsc::Sender<Command>,
    pub io: mpsc::Sender<IoEvent>,
    /// Uploads, saves and recoveries still under way (quitting waits for them).
    busy: Arc<AtomicUsize>,
}

/// Counts a background job from its start to its report.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn start(counter: &Arc<AtomicUsize>) -> Busy {
        counter.fetch_add(1, Ordering::SeqCst);
        Busy(counter.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Effects {
    pub fn new(cmd: mpsc::Sender<Command>, io: mpsc::Sender<IoEvent>) -> Effects {
        Effects { cmd, io, busy: Arc::new(AtomicUsize::new(0)) }
    }

    pub fn in_flight(&self) -> usize {
        self.busy.load(Ordering::SeqCst)
    }

    pub async fn apply(&self, effect: Effect) {
        match effect {
            Effect::Send(msg) => {
                let _ = self.cmd.send(Command::Send(msg)).await;
            }
            Effect::Reconnect => {
                let _ = self.cmd.send(Command::ReconnectNow).await;
            }
            Effect::Quit => {}
            Effect::Upload(path) => {
                let (cmd, io) = (self.cmd.clone(), self.io.clone());
                let busy = Busy::start(&self.busy);
                tokio::spawn(async move {
                    let _busy = busy;
                    let p = path.clone();
                    match tokio::task::spawn_blocking(move || crate::client::upload::prepare(&p)).await {
                        Ok(Ok(msg)) => {
                            let _ = cmd.send(Command::Send(msg)).await;
                        }
                        Ok(Err(e)) => {
                            let _ = io.send(IoEvent::UploadRejected { path, error: e.to_string() }).await;
                        }
                        Err(e) => {
                            let _ = io.send(IoEvent::UploadRejected { path, error: e.to_string() }).await;
                        }
                    }
                });
            }
            Effect::UploadConverted { path, length } => {
                let (cmd, io) = (self.cmd.clone(), self.io.clone());
                let busy = Busy::start(&self.busy);
                tokio::spawn(async move {
                    let _busy = busy;
                    let p = path.clone();
                    // Decoding and resampling take CPU: off the async threads.
                    match tokio::task::spawn_blocking(move || crate::client::upload::prepare_converted(&p, length)).await {
                        Ok(Ok((name, conv))) => {
                            let bytes = conv.wav.len();
                            let done = IoEvent::Converted { path, seconds: conv.seconds, bytes, cut_from: conv.cut_from };
                            let _ = io.send(done).await;
                            let msg = crate::core::protocol::ClientMsg::WavUpload { name, data: conv.wav };
                            let _ = cmd.send(Command::Send(msg)).await;
                        }
                        Ok(Err(e)) => {
                            let _ = io.send(IoEvent::UploadRejected { path, error: e.to_string() }).await;
                        }
                        Err(e) => {
                            let _ = io.send(IoEvent::UploadRejected { path, error: e.to_string() }).await;
                        }
                    }
                });
            }
            Effect::Recover { spill, dir } => {
                let io = self.io.clone();
                let busy = Busy::start(&self.busy);
                tokio::spawn(async move {
                    let _busy = busy;
                    let sp = spill.clone();
                    let ev = match tokio::task::spawn_blocking(move || spill::recover(&sp, &dir)).await {
                        Ok(Ok((path, seconds))) => IoEvent::Recovered { path, seconds },
                        Ok(Err(e)) => IoEvent::RecoverFailed { spill, error: e.to_string() },
                        Err(e) => IoEvent::RecoverFailed { spill, error: e.to_string() },
                    };
                    let _ = io.send(ev).await;
                });
            }
            Effect::ListDir(dir) => {
                let io = self.io.clone();
                // Not counted as busy: quitting need not wait for a folder on a slow drive.
                tokio::spawn(async move {
                    let d = dir.clone();
                    let result = flatten(tokio::task::spawn_blocking(move || crate::client::browser::list(&d)).await);
                    let _ = io.send(IoEvent::Listed { dir, result }).await;
                });
            }
            Effect::Inspect { path, purpose } => {
                let io = self.io.clone();
                tokio::spawn(async move {
                    let p = path.clone();
                    let result = flatten(tokio::task::spawn_blocking(move || crate::client::files::inspect(&p)).await);
                    let _ = io.send(IoEvent::Inspected { path, purpose, result }).await;
                });
            }
            Effect::Discard(spill) => {
                let _ = std::fs::remove_file(spill);
            }
            Effect::Save { dir, name, bytes, seconds } => {
                let io = self.io.clone();
                let busy = Busy::start(&self.busy);
                tokio::spawn(async move {
                    let _busy = busy;
                    let ev = tokio::task::spawn_blocking(move || save(&dir, &name, &bytes, seconds))
                        .await
                        .unwrap_or_else(|e| IoEvent::SaveFailed { path: PathBuf::from("?"), error: e.to_string() });
                    let _ = io.send(ev).await;
                });
            }
        }
    }
}

/// A blocking read's result with its error as text; a read that panicked is an error too,
/// so the app always hears back and never waits for an answer that will not come.
fn flatten<T>(joined: Result<std::io::Result<T>, tokio::task::JoinError>) -> Result<T, String> {
    match joined {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(format!("the read failed: {e}")),
    }
}

/// Write a recording under `name`, or `name` with a counter when that file exists already.
fn save(dir: &Path, name: &str, bytes: &[u8], seconds: f64) -> IoEvent {
    let path = free_path(dir, name);
    match crate::client::files::save_atomic(&path, bytes) {
        Ok(()) => IoEvent::Saved { path, bytes: bytes.len(), seconds },
        Err(e) => IoEvent::SaveFailed { path, error: e.to_string() },
    }
}

fn free_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let stem = name.trim_end_matches(".wav");
    (2..)
        .map(|i| dir.join(format!("{stem}_{i}.wav")))
        .find(|p| !p.exists())
        .expect("an unbounded range always has a free name")
}

/// Appends every log line to `--log-file` from a thread of its own, so a slow disk never
/// stalls the UI.
pub struct LogFile {
    tx: Option<std::sync::mpsc::Sender<String>>,
    written: u64,
    failed: bool,
}

impl LogFile {
    pub fn open(path: Option<&Path>) -> anyhow::Result<LogFile> {
        let Some(path) = path else {
            return Ok(LogFile { tx: None, written: 0, failed: false });
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening log file {}", path.display()))?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut w = std::io::BufWriter::new(file);
            while let Ok(line) = rx.recv() {
                let mut ok = writeln!(w, "{line}").is_ok();
                while let Ok(more) = rx.try_recv() {
                    ok &= writeln!(w, "{more}").is_ok();
                }
                if !ok || w.flush().is_err() {
                    return; // dropping rx tells the UI
                }
            }
        });
        Ok(LogFile { tx: Some(tx), written: 0, failed: false })
    }

    /// Hand new log lines to the writer thread.
    pub fn follow(&mut self, app: &mut App) {
        let Some(tx) = &self.tx else { return };
        let mut lost = false;
        for line in app.log.since(self.written) {
            if tx.send(line.plain()).is_err() {
                lost = true;
                break;
            }
        }
        self.written = app.log.total();
        if lost && !self.failed {
            self.failed = true;
            self.tx = None;
            app.log(LogKind::Error, "writing the log file failed (disk full?); the on-screen log goes on");
        }
    }
}

/// The app plus the files that follow it: the log file and the spill file.
pub struct Session {
    pub app: App,
    pub effects: Effects,
    log_file: LogFile,
    spill: Option<SpillWriter>,
}

impl Session {
    /// Open the log file, start the spill file in the record folder, and offer to recover
    /// audio that an earlier session left unsaved.
    pub fn new(mut app: App, effects: Effects, log_path: Option<&Path>) -> anyhow::Result<Session> {
        let log_file = LogFile::open(log_path)?;
        let dir = app.cfg.record_dir.clone();
        let left = spill::leftovers(&dir);
        if !left.is_empty() {
            app.offer_recovery(left);
        }
        let spill = match SpillWriter::create(&dir) {
            Ok(w) => Some(w),
            Err(e) => {
                app.log(LogKind::Warn, format!("no spill file in {} ({e}): received audio is kept in memory only", dir.display()));
                None
            }
        };
        Ok(Session { app, effects, log_file, spill })
    }

    pub fn on_net(&mut self, ev: NetEvent, now: Instant) {
        if let Some(s) = self.spill.as_mut() {
            spill_packets(s, &ev);
        }
        self.app.on_net(ev, now);
    }

    /// The clock: app timers, and handing queued lines and packets to their writers.
    pub fn on_tick(&mut self, now: Instant) {
        self.app.on_tick(now);
        if let Some(err) = self.spill.as_mut().and_then(|s| s.flush()) {
            self.app.log(LogKind::Error, format!("spill file write failed ({err}); capture continues in memory"));
        }
        self.log_file.follow(&mut self.app);
    }

    /// Fold an effect's result and carry out what it leads to.
    pub async fn on_io(&mut self, ev: IoEvent) {
        let effects = self.app.on_io(ev);
        self.apply_all(effects).await;
    }

    pub async fn apply_all(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.effects.apply(e).await;
        }
    }

    /// Let uploads, saves and recoveries under way finish and report (at most a few seconds).
    pub async fn drain(&mut self, io_rx: &mut mpsc::Receiver<IoEvent>) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while self.effects.in_flight() > 0 {
            tokio::select! {
                // Quitting: what a late answer leads to (a pick, a read) is not started.
                Some(io) = io_rx.recv() => drop(self.app.on_io(io)),
                _ = tokio::time::sleep(std::time::Duration::from_millis(20)) => {}
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        while let Ok(io) = io_rx.try_recv() {
            drop(self.app.on_io(io));
        }
        self.on_tick(Instant::now());
    }

    /// Close the files; returns the spill file when it keeps audio that was never saved.
    pub fn finish(mut self) -> Option<PathBuf> {
        let keep = self.app.unsaved_audio();
        self.log_file.follow(&mut self.app);
        self.spill.take().and_then(|s| s.close(keep))
    }
}

/// Queue every RTP packet of an event, batches included, for the spill file.
fn spill_packets(s: &mut SpillWriter, ev: &NetEvent) {
    match ev {
        NetEvent::Rtp(f) => s.push(&f.bytes),
        NetEvent::Batch(evs) => evs.iter().for_each(|e| spill_packets(s, e)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
