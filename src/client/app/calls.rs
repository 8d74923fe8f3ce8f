//! Calls as sessions: each call, from its `CALL` to `Call ended`/`Call failed`/disconnect,
//! gets fresh stream statistics and a fresh recording; an ended call leaves one row in a
//! bounded history with its figures and E-model score.
//!
//! The app's `streams` and `capture` always belong to the newest call: they are replaced when
//! the next `CALL` is sent, not when a call ends, so the last ended call can still be shown
//! and saved (`7`), and packets trailing its end still land in its recording. RTP that comes
//! with no call ever placed is kept in the same way (a session without a number).
//!
//! The per-call score is [`Profile::score_call`] with the default profile: loss pooled over
//! the call's G.711 streams (with their burstiness) and the worst stream's jitter, so one
//! bad direction is not averaged away. Loss and jitter in the row are the same figures.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Local;

use super::{App, CallState, Effect, LogKind, RecordFormat};
use crate::core::capture::{Capture, Counter};
use crate::core::protocol::Number;
use crate::core::stats::emodel::{Loss, Profile, Score};
use crate::core::stats::StreamSet;

/// Ended calls kept in the history; older rows are dropped.
pub const HISTORY_LEN: usize = 100;

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallResult {
    /// It was answered (media or an answer line), then ended.
    Answered,
    /// It never was answered: the status line (failure code and reason) or why it stopped.
    NotAnswered(String),
}

impl CallResult {
    pub fn label(&self) -> &str {
        match self {
            CallResult::Answered => "answered",
            CallResult::NotAnswered(why) => why,
        }
    }
}

/// One ended call, as the history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub id: u64,
    pub started: chrono::DateTime<Local>,
    pub number: Option<Number>,
    pub result: CallResult,
    /// Talk time: from the answer to the end (zero when never answered).
    pub duration: Duration,
    /// Packets received (unique, over every stream of the call).
    pub packets: u64,
    pub loss_percent: f64,
    /// The worst stream's interarrival jitter.
    pub jitter_ms: f64,
    /// `None` when no stream was G.711.
    pub score: Option<Score>,
    /// Seconds of recorded audio when the call ended.
    pub seconds: f64,
    /// Where it was saved, once it was.
    pub file: Option<PathBuf>,
    /// Its streams' figures as they were when it ended (at most
    /// [`super::summary::RECORD_STREAMS`]), shown when the row is selected.
    pub streams: Vec<super::summary::StreamSummary>,
}

/// The call whose statistics and recording the app now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub id: u64,
    pub started: chrono::DateTime<Local>,
    pub number: Option<Number>,
    /// Still going: its end has not been folded yet.
    pub live: bool,
}

/// The sessions: the current one and the history of ended ones.
#[derive(Debug, Default)]
pub struct Calls {
    pub history: VecDeque<CallRecord>,
    pub(crate) current: Option<Session>,
    next_id: u64,
    /// Saves asked for and not answered yet, oldest first, with the call each one holds.
    pub(crate) saving: VecDeque<Option<u64>>,
    /// The newest file a save of the live call wrote (it has no row yet).
    live_saved: Option<(u64, PathBuf)>,
}

impl Calls {
    /// The history row of a call, if it is still kept.
    pub fn record_mut(&mut self, id: u64) -> Option<&mut CallRecord> {
        self.history.iter_mut().find(|r| r.id == id)
    }

    /// True while a session is live.
    pub fn live(&self) -> bool {
        self.current.as_ref().is_some_and(|s| s.live)
    }

    /// The id of the call the recording belongs to.
    pub fn current_id(&self) -> Option<u64> {
        self.current.as_ref().map(|s| s.id)
    }

    /// The call a received packet belongs to: the current session's, or the one it opens
    /// (the runtime files packets by call before the app folds them).
    pub fn media_call_id(&self) -> u64 {
        self.current_id().unwrap_or(self.next_id + 1)
    }

    /// Calls whose packets are still wanted: the current one and every history row.
    /// Ids only grow, so one number says it: anything older than this is gone.
    pub fn oldest_kept(&self) -> Option<u64> {
        self.history.front().map(|r| r.id).into_iter().chain(self.current_id()).min()
    }

    fn open(&mut self, number: Option<Number>, started: chrono::DateTime<Local>) -> u64 {
        self.next_id += 1;
        self.current = Some(Session { id: self.next_id, started, number, live: true });
        self.next_id
    }

    fn push(&mut self, r: CallRecord) {
        if self.history.len() >= HISTORY_LEN {
            self.history.pop_front();
        }
        self.history.push_back(r);
    }
}

/// The figures of a call from its streams.
pub fn figures(streams: &StreamSet) -> (u64, f64, f64, Option<Score>) {
    let packets = streams.iter().map(|s| s.unique()).sum();
    let loss = streams.iter().fold(Loss::default(), |l, s| l.add(Loss::of_stream(s)));
    let jitter = streams.iter().map(|s| s.jitter.millis()).fold(0.0, f64::max);
    (packets, loss.ppl(), jitter, Profile::default().score_call(streams.iter()))
}

impl App {
    /// A `CALL` went out: a new session with its own streams and recording.
    pub(super) fn begin_call(&mut self, number: Number) {
        if self.calls.live() {
            self.finish_call();
        }
        // Packets that trailed the end line landed in the ended call's recording: its row
        // says how long that recording really is.
        let seconds = self.capture.seconds();
        if let Some(r) = self.calls.current_id().and_then(|id| self.calls.record_mut(id)) {
            r.seconds = seconds;
        }
        self.streams = StreamSet::default();
        self.capture = Capture::with_sink(Counter::default());
        self.calls.open(Some(number), (self.wall_clock)());
    }

    /// RTP with no session at all opens one without a number.
    pub(super) fn session_for_media(&mut self) {
        if self.calls.current.is_none() {
            self.calls.open(None, (self.wall_clock)());
        }
    }

    /// After every network event: a live session whose call is no longer in progress ends.
    pub(super) fn follow_call_end(&mut self) {
        if self.calls.live() && !self.call.in_progress() && !matches!(self.call, CallState::Idle) {
            let fx = self.finish_call();
            self.pending.extend(fx);
        }
    }

    /// Close the live session into a history row; saves it when `--save-calls` asks.
    fn finish_call(&mut self) -> Vec<Effect> {
        let Some(session) = self.calls.current.as_mut() else { return vec![] };
        session.live = false;
        let session = session.clone();
        let (result, duration) = match &self.call {
            CallState::Ended { lasted: Some(d), .. } => (CallResult::Answered, *d),
            CallState::Ended { reason, lasted: None, .. } => (CallResult::NotAnswered(reason.clone()), Duration::ZERO),
            _ => (CallResult::NotAnswered("ended".into()), Duration::ZERO),
        };
        let (packets, loss_percent, jitter_ms, score) = figures(&self.streams);
        let record = CallRecord {
            id: session.id,
            started: session.started,
            number: session.number,
            result,
            duration,
            packets,
            loss_percent,
            jitter_ms,
            score,
            seconds: self.capture.seconds(),
            // Saved while live, and nothing arrived since: the row has its file.
            file: match self.calls.live_saved.take() {
                Some((id, path)) if id == session.id && !self.unsaved_audio() => Some(path),
                _ => None,
            },
            streams: super::summary::snapshot(self.streams.iter()),
        };
        let mos = record.score.map(|s| format!(", MOS {:.2}", s.mos)).unwrap_or_default();
        self.log(LogKind::Info, format!("call ended: {} packets, {:.1}% lost{mos}", record.packets, record.loss_percent));
        self.calls.push(record);
        let Some(id) = self.calls.current_id().filter(|_| !self.capture.is_empty()) else { return vec![] };
        let mut fx = vec![];
        for export in self.cfg.save_calls.exports(self.cfg.record_format) {
            fx.extend(self.save_call(id, export));
        }
        fx
    }

    /// Whether streams may be shown as stalled: only while their call (or the numberless
    /// session of RTP with no call) is live.
    pub fn stall_alarms(&self) -> bool {
        self.call.in_progress() || self.calls.live() || self.calls.current.is_none()
    }

    /// The instant streams are drawn at: now while the call is live; once it ended, the
    /// last packet's arrival, so a past call's streams never read as stalled.
    pub fn stream_clock(&self) -> Instant {
        if self.stall_alarms() {
            return self.now;
        }
        self.streams.iter().map(|s| s.last_at).max().unwrap_or(self.now)
    }

    /// A save answered: the history row of the call it held gets its file.
    pub(super) fn on_call_saved(&mut self, path: &std::path::Path) {
        if let Some(Some(id)) = self.calls.saving.pop_front() {
            match self.calls.record_mut(id) {
                Some(r) => r.file = Some(path.to_path_buf()),
                None => self.calls.live_saved = Some((id, path.to_path_buf())),
            }
        }
    }

    /// One compact line per ended call, oldest first, for line mode and the log.
    pub fn history_lines(&self) -> Vec<String> {
        if self.calls.history.is_empty() {
            return vec!["no call ended yet".into()];
        }
        self.calls.history.iter().map(history_line).collect()
    }
}

impl App {
    /// Save call `id` (the current one, or a row of the history) as `export`, named by the
    /// call's start and number (`call_YYYYMMDD_HHMMSS_<number>.wav`). The runtime replays
    /// the call's spill file off the UI thread; the row gets the file when it is written.
    pub fn save_call(&mut self, id: u64, export: Export) -> Vec<Effect> {
        let Some((started, number)) = self.call_label(id) else {
            self.log(LogKind::Error, format!("call {id} is no longer kept: nothing to save"));
            return vec![];
        };
        let name = format!("call_{}_{number}.{}", started.format("%Y%m%d_%H%M%S"), export.extension());
        self.save_as(vec![id], name, export)
    }

    /// Every kept call (the history and the current one), oldest first, into one WAV,
    /// back to back (`7 all` in line mode).
    pub fn save_all(&mut self) -> Vec<Effect> {
        let mut ids: Vec<u64> = self.calls.history.iter().filter(|r| r.packets > 0).map(|r| r.id).collect();
        if let Some(id) = self.calls.current_id().filter(|_| !self.capture.is_empty()) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            self.log(LogKind::Error, "no audio received yet: nothing to save");
            return vec![];
        }
        let name = format!("rtp_capture_all_{}.wav", (self.wall_clock)().format("%Y%m%d_%H%M%S"));
        self.save_as(ids, name, Export::Wav(self.cfg.record_format))
    }

    /// When call `id` started and its number (`unknown` without one), while it is kept.
    fn call_label(&self, id: u64) -> Option<(chrono::DateTime<Local>, String)> {
        let label = |n: &Option<Number>| n.as_ref().map(|n| n.to_string()).unwrap_or_else(|| "unknown".into());
        match &self.calls.current {
            Some(s) if s.id == id => Some((s.started, label(&s.number))),
            _ => self.calls.history.iter().find(|r| r.id == id).map(|r| (r.started, label(&r.number))),
        }
    }

    /// Seconds of audio of call `id` as the app knows them.
    fn call_seconds(&self, id: u64) -> f64 {
        match self.calls.current_id() {
            Some(c) if c == id => self.capture.seconds(),
            _ => self.calls.history.iter().find(|r| r.id == id).map_or(0.0, |r| r.seconds),
        }
    }

    pub(super) fn save_as(&mut self, calls: Vec<u64>, name: String, export: Export) -> Vec<Effect> {
        let seconds: f64 = calls.iter().map(|&id| self.call_seconds(id)).sum();
        let what = match export {
            Export::Wav(_) => format!("{seconds:.1} s of audio"),
            Export::Pcap => "the packets".to_string(),
        };
        self.log(LogKind::Info, format!("saving {what} as {name}"));
        // Only a save of the current call settles the quit question about unsaved audio.
        if calls.contains(&self.calls.current_id().unwrap_or(u64::MAX)) {
            self.save_requested_at = self.rtp.packets;
        }
        self.calls.saving.push_back(calls.last().copied());
        vec![Effect::SaveCall { calls, dir: self.cfg.record_dir.clone(), name, export }]
    }

    /// Whether call `id`'s audio was never saved (its spill file is kept at exit).
    pub fn call_unsaved(&self, id: u64) -> bool {
        match self.calls.current_id() {
            Some(c) if c == id => self.unsaved_audio(),
            _ => self.calls.history.iter().find(|r| r.id == id).is_some_and(|r| r.file.is_none() && r.packets > 0),
        }
    }
}

/// `HH:MM:SS number result duration pkts loss jitter MOS file`, one call.
pub fn history_line(r: &CallRecord) -> String {
    let number = r.number.as_ref().map(|n| n.to_string()).unwrap_or_else(|| "-".into());
    let mos = r.score.map(|s| format!("R {:.1} MOS {:.2}", s.r, s.mos)).unwrap_or_else(|| "MOS -".into());
    let file = r.file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "not saved".into());
    format!(
        "call {} {number}: {}, {:.1} s, {} pkts, {:.1}% lost, jitter {:.1} ms, {mos}, {file}",
        r.started.format("%H:%M:%S"),
        r.result.label(),
        r.duration.as_secs_f64(),
        r.packets,
        r.loss_percent,
        r.jitter_ms
    )
}

/// Whether each call is saved when it ends (`--save-calls[=wav|pcap|both]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SaveCalls {
    #[default]
    #[value(skip)]
    Off,
    /// A WAV per call, `call_YYYYMMDD_HHMMSS_<number>.wav`.
    Wav,
    /// A pcap per call, `call_YYYYMMDD_HHMMSS_<number>.pcap`.
    Pcap,
    /// Both.
    Both,
}

impl SaveCalls {
    /// What is written for each call.
    pub fn exports(self, format: RecordFormat) -> Vec<Export> {
        match self {
            SaveCalls::Off => vec![],
            SaveCalls::Wav => vec![Export::Wav(format)],
            SaveCalls::Pcap => vec![Export::Pcap],
            SaveCalls::Both => vec![Export::Wav(format), Export::Pcap],
        }
    }
}

/// What a save writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// The recording, in this encoding.
    Wav(RecordFormat),
    /// The received RTP packets with their arrival times, for Wireshark.
    Pcap,
}

impl Export {
    fn extension(self) -> &'static str {
        match self {
            Export::Wav(_) => "wav",
            Export::Pcap => "pcap",
        }
    }
}

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
