//! The app plus what follows it: the effects executor, the log file and the spill file, and
//! the count of work under way that quitting waits for.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::effects::Effects;
use super::log_file::LogFile;
use crate::client::app::{App, Effect, IoEvent, LogKind, UploadState};
use crate::client::net::NetEvent;
use super::spills::{Notice, Spills};
use crate::client::spill;

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
    spills: Spills,
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
        Ok(Session { app, effects, log_file, spills: Spills::new(&dir), unanswered: 0 })
    }

    /// Fold a network event, filing each RTP packet into its call's spill file first (a
    /// batch one event at a time, so a `CALL` sent within it moves the packets after it).
    pub fn on_net(&mut self, ev: NetEvent, now: Instant) {
        match ev {
            NetEvent::Batch(evs) => evs.into_iter().for_each(|e| self.on_net(e, now)),
            ev => {
                self.observe(&ev);
                self.app.on_net(ev, now);
            }
        }
    }

    /// File an RTP packet, and count the actor's answers to our sends.
    fn observe(&mut self, ev: &NetEvent) {
        match ev {
            NetEvent::Rtp(f) => {
                let notice = self.spills.push(self.app.calls.media_call_id(), &f.bytes, f.arrival);
                self.tell(notice);
            }
            NetEvent::Sent(_) | NetEvent::Refused { .. } => self.unanswered = self.unanswered.saturating_sub(1),
            _ => {}
        }
    }

    fn tell(&mut self, notice: Option<Notice>) {
        match notice {
            Some(Notice::InMemory(why)) => {
                self.app.log(LogKind::Warn, format!("{why}: received audio is kept in memory only"))
            }
            Some(Notice::WriteFailed(why)) => {
                self.app.log(LogKind::Error, format!("{why}; the rest of this call is kept in memory"))
            }
            None => {}
        }
    }

    /// The clock: app timers, and handing queued lines and packets to their writers.
    pub fn on_tick(&mut self, now: Instant) {
        self.app.on_tick(now);
        let notice = self.spills.flush();
        self.tell(notice);
        self.spills.prune(self.app.calls.oldest_kept());
        self.log_file.follow(&mut self.app);
    }

    /// Fold an effect's result and carry out what the app makes of it.
    pub async fn on_io(&mut self, ev: IoEvent) {
        let effects = self.app.on_io(ev);
        self.apply_all(effects).await;
    }

    pub async fn apply_all(&mut self, effects: Vec<Effect>) {
        for e in effects {
            // A save needs the calls' packets, which only the session knows where to find.
            if let Effect::SaveCall { calls, dir, name, export } = e {
                match calls.iter().map(|&id| self.spills.source(id).ok_or(id)).collect::<Result<Vec<_>, u64>>() {
                    Ok(sources) => self.effects.save_calls(sources, dir, name, export),
                    Err(id) => {
                        let fx = self.app.on_io(IoEvent::SaveFailed {
                            path: dir.join(name),
                            error: format!("the packets of call {id} are not kept"),
                        });
                        Box::pin(self.apply_all(fx)).await;
                    }
                }
                continue;
            }
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

    /// Close the files. Spill files of calls whose audio was never saved stay for the next
    /// start to recover (each is logged); returns the newest of them.
    pub fn finish(mut self) -> Option<PathBuf> {
        let app = &self.app;
        let left = self.spills.finish(|id| app.call_unsaved(id));
        for path in &left {
            self.app.log(LogKind::Warn, format!("unsaved audio kept in {}", path.display()));
        }
        self.log_file.follow(&mut self.app);
        left.last().cloned()
    }
}
