//! The full-screen runner: terminal set-up and restore, the event loop that folds key
//! presses, network events and IO results into the [`App`], and a fixed redraw tick.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use crate::app::{App, Effect, IoEvent, LogKind};
use crate::net::{self, Command, NetEvent};
use crate::ui::{self, Theme};

/// About 30 frames per second, whatever the packet rate.
pub const FRAME: Duration = Duration::from_millis(33);
/// Network events folded per wake-up before keys and the tick get another look.
const NET_BATCH: usize = 512;

/// Carries out the app's [`Effect`]s; shared by the full-screen and the line-mode runners.
#[derive(Clone)]
pub struct Effects {
    pub cmd: mpsc::Sender<Command>,
    pub io: mpsc::Sender<IoEvent>,
}

impl Effects {
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
                tokio::spawn(async move {
                    let p = path.clone();
                    match tokio::task::spawn_blocking(move || crate::upload::prepare(&p)).await {
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
            Effect::Save { dir, name, bytes, seconds } => {
                let io = self.io.clone();
                tokio::spawn(async move {
                    let ev = tokio::task::spawn_blocking(move || save(&dir, &name, &bytes, seconds))
                        .await
                        .unwrap_or_else(|e| IoEvent::SaveFailed { path: PathBuf::from("?"), error: e.to_string() });
                    let _ = io.send(ev).await;
                });
            }
        }
    }
}

/// Write a recording under `name`, or `name` with a counter when that file exists already.
fn save(dir: &Path, name: &str, bytes: &[u8], seconds: f64) -> IoEvent {
    let path = free_path(dir, name);
    match crate::wav::save_atomic(&path, bytes) {
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

/// Run the dashboard until the user quits.
pub async fn run(mut app: App, net_cfg: net::NetConfig, log_path: Option<&Path>) -> anyhow::Result<()> {
    let mut log_file = LogFile::open(log_path)?;
    let (cmd_tx, net_rx) = net::spawn(net_cfg);
    // ratatui::init also installs a panic hook that restores the terminal first.
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app, cmd_tx.clone(), net_rx, &mut log_file).await;
    ratatui::restore();
    let _ = cmd_tx.send(Command::Shutdown).await;
    log_file.follow(&mut app);
    result
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    cmd_tx: mpsc::Sender<Command>,
    mut net_rx: mpsc::Receiver<NetEvent>,
    log_file: &mut LogFile,
) -> anyhow::Result<()> {
    let theme = Theme::from_env();
    let (io_tx, mut io_rx) = mpsc::channel(16);
    let effects = Effects { cmd: cmd_tx, io: io_tx };
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut batch = Vec::with_capacity(NET_BATCH);
    while !app.quit {
        // Keys first, then the frame tick, then the network: a flood of packets can never
        // starve the keyboard or the redraw.
        tokio::select! {
            biased;
            ev = keys.next() => match ev {
                Some(Ok(Event::Key(key))) => {
                    for effect in app.on_key(key) {
                        effects.apply(effect).await;
                    }
                }
                Some(Ok(_)) => {} // resize and the rest: the next frame draws at the new size
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => return Ok(()),
            },
            _ = tick.tick() => {
                app.on_tick(Instant::now());
                log_file.follow(app);
                terminal.draw(|f| ui::render(app, &theme, f)).context("drawing the screen")?;
            }
            Some(io) = io_rx.recv() => app.on_io(io),
            n = net_rx.recv_many(&mut batch, NET_BATCH) => {
                if n == 0 {
                    return Ok(());
                }
                let now = Instant::now();
                for ev in batch.drain(..) {
                    app.on_net(ev, now);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
