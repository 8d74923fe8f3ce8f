//! The app plus what follows it: the effects executor, the log file and the spill file, and
//! the count of work under way that quitting waits for.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::effects::Effects;
use super::log_file::LogFile;
use crate::client::app::{App, Effect, IoEvent, LogKind, UploadState};
use crate::client::net::NetEvent;
use crate::client::spill::{self, SpillWriter};

/// What a quit still waits for, by kind (for the log when it gives up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnderWay {
    /// Disk jobs (reads for uploads, conversions, saves, recoveries) not yet reported.
    pub jobs: usize,
    /// Messages handed to the network actor that it has not yet said were sent or refused.
    pub sends: usize,
    /// Uploads sent that the server has not acknowledged (while connected).
    pub acks: usize,
}

impl UnderWay {
    pub fn is_empty(&self) -> bool {
        *self == UnderWay::default()
    }
}

impl std::fmt::Display for UnderWay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [(self.jobs, "file job"), (self.sends, "message to send"), (self.acks, "upload to be acknowledged")]
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}{}", if n > 1 { "s" } else { "" }))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// The app and the files that follow it.
pub struct Session {
    pub app: App,
    pub effects: Effects,
    log_file: LogFile,
    spill: Option<SpillWriter>,
    /// Sends the actor has not answered (`Sent` or `Refused`) yet.
    unanswered: usize,
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
        Ok(Session { app, effects, log_file, spill, unanswered: 0 })
    }

    pub fn on_net(&mut self, ev: NetEvent, now: Instant) {
        self.observe(&ev);
        self.app.on_net(ev, now);
    }

    /// Queue every RTP packet of an event, batches included, for the spill file, and count
    /// the actor's answers to our sends.
    fn observe(&mut self, ev: &NetEvent) {
        match ev {
            NetEvent::Rtp(f) => {
                if let Some(s) = self.spill.as_mut() {
                    s.push(&f.bytes);
                }
            }
            NetEvent::Batch(evs) => evs.iter().for_each(|e| self.observe(e)),
            NetEvent::Sent(_) | NetEvent::Refused { .. } => self.unanswered = self.unanswered.saturating_sub(1),
            _ => {}
        }
    }

    /// The clock: app timers, and handing queued lines and packets to their writers.
    pub fn on_tick(&mut self, now: Instant) {
        self.app.on_tick(now);
        if let Some(err) = self.spill.as_mut().and_then(|s| s.flush()) {
            self.app.log(LogKind::Error, format!("spill file write failed ({err}); capture continues in memory"));
        }
        self.log_file.follow(&mut self.app);
    }

    /// Fold an effect's result and carry out what the app makes of it.
    pub async fn on_io(&mut self, ev: IoEvent) {
        let effects = self.app.on_io(ev);
        self.apply_all(effects).await;
    }

    pub async fn apply_all(&mut self, effects: Vec<Effect>) {
        for e in effects {
            if self.effects.apply(e).await {
                self.unanswered += 1;
            }
        }
    }

    /// What a quit waits for. Acknowledgements are only waited for while connected: a lost
    /// connection will not bring them.
    pub fn under_way(&self) -> UnderWay {
        let acks = if self.app.connected() {
            self.app.uploads.iter().filter(|u| matches!(u.state, UploadState::Pending { .. })).count()
        } else {
            0
        };
        UnderWay { jobs: self.effects.in_flight(), sends: self.unanswered, acks }
    }

    /// Close the files; returns the spill file when it keeps audio that was never saved.
    pub fn finish(mut self) -> Option<PathBuf> {
        let keep = self.app.unsaved_audio();
        self.log_file.follow(&mut self.app);
        self.spill.take().and_then(|s| s.close(keep))
    }
}
