//! `--log-file`: every log line appended from a thread of its own, so a slow disk never
//! stalls the loop.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::client::app::{App, LogKind};

/// The writer side of the log file; lines are handed over on each tick.
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
                    return; // dropping rx tells the loop
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
