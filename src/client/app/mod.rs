//! The one application state, its effects and the folds that change it: network events
//! ([`network`]), keys ([`keys`] is the table, [`act`] what they do, [`dialog`] the dialogs,
//! [`log_view`] scrolling and searching the log),
//! menu commands ([`command`]), IO results and the clock (here). No IO happens here, so every
//! behaviour is unit-testable; what needs IO is returned as an [`Effect`] for the runtime to
//! carry out.

pub mod act;
pub mod call;
pub mod calls;
pub mod command;
pub mod dialog;
pub mod focus;
pub mod keypad;
pub mod keys;
pub mod log;
pub mod log_view;
pub mod mouse;
pub mod network;
pub mod redial;
pub mod summary;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Local;

pub use crate::client::browser::ConvertOffer;
pub use call::{CallState, ConnState};
pub use calls::{CallRecord, CallResult, Calls, Export, SaveCalls};
pub use dialog::{Ask, Dialog};
pub use keys::{Action, Key};
pub use log::{LogKind, LogLine, LogRing};
pub use log_view::LogView;
pub use redial::Redial;

use crate::core::capture::{Capture, Counter};
use crate::core::protocol::{ClientMsg, Number, WavName};
use crate::core::stats::{RtpCounters, StreamSet};

/// How a saved recording is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RecordFormat {
    /// G.711 as received (format 7 mu-law, or 6 for A-law streams), like the reference.
    #[default]
    Mulaw,
    /// 16-bit linear PCM, which every player opens.
    Pcm16,
}

/// What the app was started with.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub url: String,
    pub default_number: Number,
    pub record_dir: PathBuf,
    pub record_format: RecordFormat,
    /// Where the file browser opens the first time.
    pub wav_dir: PathBuf,
    /// Save every call when it ends (`--save-calls`).
    pub save_calls: SaveCalls,
}

impl AppConfig {
    /// The command line's defaults for `url`: the default number, the current folder for
    /// recordings and the file browser, mu-law, no saving of every call.
    pub fn new(url: impl Into<String>) -> AppConfig {
        AppConfig {
            url: url.into(),
            default_number: crate::core::protocol::DEFAULT_NUMBER.parse().expect("the default number is valid"),
            record_dir: ".".into(),
            record_format: RecordFormat::Mulaw,
            wav_dir: ".".into(),
            save_calls: SaveCalls::Off,
        }
    }
}

/// An app connected to a test URL with the default settings, for the folds' unit tests.
#[cfg(test)]
pub(crate) fn connected_test_app(cfg: AppConfig) -> App {
    let now = Instant::now();
    let mut a = App::new(cfg, now);
    a.on_net(crate::client::net::NetEvent::Connected { subprotocol: true }, now);
    a
}

/// Work the runtime must do on the app's behalf; it reports back as an [`IoEvent`] and never
/// decides what is sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(ClientMsg),
    /// Read, check and upload a local file.
    Upload(PathBuf),
    /// Convert a local file to 8 kHz mono mu-law and upload it under its own name.
    UploadConverted { path: PathBuf, length: crate::core::convert::Length },
    /// List a folder for the file browser ([`crate::client::browser::list`]); answered by
    /// [`IoEvent::Listed`].
    ListDir(PathBuf),
    /// Read the head of a file and judge it ([`crate::client::files::inspect`]); answered by
    /// [`IoEvent::Inspected`].
    Inspect { path: PathBuf, purpose: Purpose },
    /// Save calls (by id, one after the other) replayed from their spill files, atomically
    /// into `dir` under `name` or a free variant of it.
    SaveCall { calls: Vec<u64>, dir: PathBuf, name: String, export: Export },
    /// Write the redial history (oldest first) to its file; answered by
    /// [`IoEvent::RedialSaved`].
    SaveRedial { path: PathBuf, numbers: Vec<String> },
    /// Turn an earlier session's spill file into a WAV in `dir`.
    Recover { spill: PathBuf, dir: PathBuf },
    /// Delete an earlier session's spill file.
    Discard(PathBuf),
    Reconnect,
    Quit,
}

/// Why a file's header is read, so that its answer goes where it was wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The file browser's info box, or its pick.
    Browser,
    /// An upload command (line mode), which the verdict decides.
    Upload,
}

/// Results of effects, folded back in.
#[derive(Debug, Clone, PartialEq)]
pub enum IoEvent {
    /// The redial history was written, or why not.
    RedialSaved(Result<(), String>),
    Saved { path: PathBuf, bytes: usize, seconds: f64 },
    SaveFailed { path: PathBuf, error: String },
    UploadRejected { path: PathBuf, error: String },
    /// A file was read and checked: its `WAV_UPLOAD`, for the app to send (or not).
    UploadReady { path: PathBuf, msg: ClientMsg },
    Recovered { path: PathBuf, seconds: f64 },
    RecoverFailed { spill: PathBuf, error: String },
    /// A file was converted: its `WAV_UPLOAD`, for the app to send (or not).
    Converted { path: PathBuf, seconds: f64, bytes: usize, cut_from: Option<f64>, msg: ClientMsg },
    /// The answer to [`Effect::ListDir`] of `dir`.
    Listed { dir: PathBuf, result: Result<crate::client::browser::Listing, String> },
    /// The answer to [`Effect::Inspect`] of `path`.
    Inspected { path: PathBuf, purpose: Purpose, result: Result<crate::core::convert::Inspection, String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadState {
    Pending { since: Instant },
    Acked { text: String, at: chrono::DateTime<Local> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub name: WavName,
    pub bytes: usize,
    pub state: UploadState,
}

/// Malformed frames are logged one by one at first, then summarised once a second.
pub(crate) const MALFORMED_LOGGED_ONE_BY_ONE: u64 = 5;

#[derive(Debug)]
pub struct App {
    pub cfg: AppConfig,
    pub now: Instant,
    pub conn: ConnState,
    pub call: CallState,
    pub rtp: RtpCounters,
    /// Per-SSRC RFC 3550 statistics, audio level and DTMF.
    pub streams: StreamSet,
    /// The current (or last ended) call's recording, measured: its audio is in the call's
    /// spill file (the runtime's), from which saves replay it.
    pub capture: Capture<Counter>,
    /// The current session and the history of ended calls.
    pub calls: Calls,
    /// Effects a network fold asked for (a call saved as it ends); the runtime takes them.
    pub(crate) pending: Vec<Effect>,
    pub log: LogRing,
    /// Where the log is scrolled to and what is searched in it.
    pub log_view: LogView,
    /// Which pane has the keys, and what is selected (see [`focus`]).
    pub focus: focus::Focus,
    pub uploads: Vec<Upload>,
    pub dialog: Option<Dialog>,
    /// The file browser, kept between openings so it remembers where it was.
    pub browser: Option<crate::client::browser::Browser>,
    /// Numbers dialled before, for Up/Down in the dial dialog.
    pub redial: Redial,
    pub last_save: Option<PathBuf>,
    /// Packets received when the newest successful save was asked for.
    saved_packets: u64,
    pub(crate) save_requested_at: u64,
    pub quit: bool,
    /// A reconnect was asked for: the disconnection it brings is no error.
    pub(crate) reconnect_asked: bool,
    /// The wall clock for log timestamps; tests pin it.
    pub wall_clock: fn() -> chrono::DateTime<Local>,
    pub(crate) malformed_unlogged: u64,
    pub(crate) malformed_last_reason: String,
    pub(crate) malformed_summary_at: Instant,
}

impl App {
    pub fn new(cfg: AppConfig, now: Instant) -> App {
        let mut app = App {
            cfg,
            now,
            conn: ConnState::Connecting { attempt: 1 },
            call: CallState::Idle,
            rtp: RtpCounters::new(now),
            streams: StreamSet::default(),
            capture: Capture::with_sink(Counter::default()),
            calls: Calls::default(),
            pending: Vec::new(),
            log: LogRing::default(),
            log_view: LogView::default(),
            focus: focus::Focus::default(),
            uploads: Vec::new(),
            dialog: None,
            browser: None,
            redial: Redial::default(),
            last_save: None,
            saved_packets: 0,
            save_requested_at: 0,
            quit: false,
            reconnect_asked: false,
            wall_clock: Local::now,
            malformed_unlogged: 0,
            malformed_last_reason: String::new(),
            malformed_summary_at: now,
        };
        app.log(LogKind::Info, format!("sipdeck {} started, server {}", env!("CARGO_PKG_VERSION"), app.cfg.url));
        app
    }

    pub fn log(&mut self, kind: LogKind, text: impl AsRef<str>) {
        self.log.push((self.wall_clock)(), kind, text.as_ref());
        self.keep_log_in_place();
    }

    pub fn connected(&self) -> bool {
        matches!(self.conn, ConnState::Connected { .. })
    }

    // ---- IO results and the clock -------------------------------------------------------

    /// Fold the result of an effect; some answers need more work (a folder listed asks for
    /// the header of the file it highlights, a header read for a pick starts an upload).
    pub fn on_io(&mut self, ev: IoEvent) -> Vec<Effect> {
        match ev {
            IoEvent::Listed { dir, result } => return self.on_listed(&dir, result),
            IoEvent::Inspected { path, purpose: Purpose::Browser, result } => return self.on_browser_inspected(&path, result),
            IoEvent::Inspected { path, purpose: Purpose::Upload, result } => return self.on_upload_inspected(path, result),
            IoEvent::Saved { path, bytes, seconds } => {
                self.log(LogKind::Info, format!("saved {} ({bytes} bytes, {seconds:.1} s of audio)", path.display()));
                self.on_call_saved(&path);
                self.last_save = Some(path);
                self.saved_packets = self.saved_packets.max(self.save_requested_at);
            }
            IoEvent::Recovered { path, seconds } => {
                self.log(LogKind::Info, format!("recovered {seconds:.1} s of unsaved audio into {}", path.display()))
            }
            IoEvent::RecoverFailed { spill, error } => {
                self.log(LogKind::Error, format!("could not recover {}: {error}", spill.display()))
            }
            IoEvent::SaveFailed { path, error } => {
                self.calls.saving.pop_front();
                self.log(
                LogKind::Error,
                    format!("could not save {}: {error}; the audio is kept, press 7 to retry", path.display()),
                )
            }
            IoEvent::UploadRejected { path, error } => {
                self.log(LogKind::Error, format!("not uploaded: {}: {error}", path.display()));
                self.tell_browser(format!("not uploaded: {error}"));
            }
            // The effect only reads and converts; whether it goes out is decided here.
            IoEvent::UploadReady { msg, .. } => return self.send(msg),
            IoEvent::RedialSaved(Ok(())) => {}
            IoEvent::RedialSaved(Err(e)) => self.log(LogKind::Warn, format!("redial history not saved: {e}")),
            IoEvent::Converted { path, seconds, bytes, cut_from, msg } => {
                self.on_converted(&path, seconds, bytes, cut_from);
                return self.send(msg);
            }
        }
        vec![]
    }

    /// Effects the network folds asked for since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.pending)
    }

    pub fn on_tick(&mut self, now: Instant) {
        self.now = now;
        self.rtp.on_tick(now);
        self.streams.on_tick(now);
        self.log_dtmf();
        if self.malformed_unlogged > 0 && now.duration_since(self.malformed_summary_at) >= Duration::from_secs(1) {
            let n = std::mem::take(&mut self.malformed_unlogged);
            let last = std::mem::take(&mut self.malformed_last_reason);
            self.log(LogKind::Warn, format!("{n} more malformed frames (latest: {last})"));
            self.malformed_summary_at = now;
        }
    }

    /// The totals in one short line (it fits 80 columns with the log's time and tag).
    pub fn stats_line(&self) -> String {
        let mut s = format!(
            "statistics: {} RTP packets, {} pkt/s, {:.1} s of audio ({})",
            self.rtp.packets,
            self.rtp.pps,
            self.capture.seconds(),
            crate::client::ui::size(self.capture.len() as u64)
        );
        if self.rtp.malformed > 0 {
            s.push_str(&format!(", {} malformed", self.rtp.malformed));
        }
        s
    }

    /// One short line per stream, oldest first, for the log (`4`); the zoom view (`Enter` on
    /// the stream table) has every figure.
    pub fn stream_lines(&self) -> Vec<String> {
        if self.streams.is_empty() {
            return vec!["no RTP stream yet".into()];
        }
        self.streams.iter().map(|s| summary::StreamSummary::live(s, self.now).line()).collect()
    }

    /// True when audio arrived after the newest save (or there was no save).
    pub fn unsaved_audio(&self) -> bool {
        !self.capture.is_empty() && self.rtp.packets > self.saved_packets
    }

    /// Names the server acknowledged this session, newest first.
    pub fn acked_names(&self) -> Vec<&WavName> {
        self.uploads
            .iter()
            .rev()
            .filter(|u| matches!(u.state, UploadState::Acked { .. }))
            .map(|u| &u.name)
            .collect()
    }

    /// [`Self::acked_names`] with when each was acknowledged, in the same order.
    pub fn acked(&self) -> Vec<(WavName, chrono::DateTime<Local>)> {
        self.uploads
            .iter()
            .rev()
            .filter_map(|u| match u.state {
                UploadState::Acked { at, .. } => Some((u.name.clone(), at)),
                UploadState::Pending { .. } => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
