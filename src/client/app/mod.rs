//! The one application state and the folds that change it: network events, key presses,
//! IO results and the clock. No IO happens here, so every behaviour is unit-testable; what
//! needs IO is returned as an [`Effect`] for the runtime to carry out.

pub mod browse;
pub mod call;
pub mod command;
pub mod log;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Local;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

pub use browse::ConvertOffer;
pub use call::{CallState, ConnState};
use command::Command;
pub use log::{LogKind, LogLine, LogRing};

use crate::core::capture::Capture;
use crate::client::net::NetEvent;
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
    /// Write a recording atomically into `dir`, under `name` or a free variant of it.
    Save { dir: PathBuf, name: String, bytes: Vec<u8>, seconds: f64 },
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

/// A modal dialog over the dashboard. Only one at a time.
#[derive(Debug, Clone)]
pub enum Dialog {
    Help,
    Dial { input: Input, error: Option<String> },
    /// The file-browser pane ([`App::browser`]).
    Browser,
    /// Converting a picked file, to be confirmed; over the browser.
    Convert(ConvertOffer),
    Play { input: Input, selected: usize, error: Option<String> },
    /// Spill files of earlier sessions whose audio was never saved.
    Recover { files: Vec<crate::client::spill::Leftover> },
}

/// Malformed frames are logged one by one at first, then summarised once a second.
const MALFORMED_LOGGED_ONE_BY_ONE: u64 = 5;

#[derive(Debug)]
pub struct App {
    pub cfg: AppConfig,
    pub now: Instant,
    pub conn: ConnState,
    pub call: CallState,
    pub rtp: RtpCounters,
    /// Per-SSRC RFC 3550 statistics, audio level and DTMF.
    pub streams: StreamSet,
    pub capture: Capture,
    pub log: LogRing,
    /// Lines scrolled up from the newest; 0 follows the log.
    pub log_scroll: usize,
    pub uploads: Vec<Upload>,
    pub dialog: Option<Dialog>,
    /// The file browser, kept between openings so it remembers where it was.
    pub browser: Option<crate::client::browser::Browser>,
    pub last_save: Option<PathBuf>,
    /// Packets received when the newest successful save was asked for.
    saved_packets: u64,
    save_requested_at: u64,
    pub quit: bool,
    /// The wall clock for log timestamps; tests pin it.
    pub wall_clock: fn() -> chrono::DateTime<Local>,
    malformed_unlogged: u64,
    malformed_last_reason: String,
    malformed_summary_at: Instant,
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
            capture: Capture::default(),
            log: LogRing::default(),
            log_scroll: 0,
            uploads: Vec::new(),
            dialog: None,
            browser: None,
            last_save: None,
            saved_packets: 0,
            save_requested_at: 0,
            quit: false,
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
        if self.log_scroll > 0 {
            // Keep the lines the reader is looking at in place.
            self.log_scroll = (self.log_scroll + 1).min(self.log.len().saturating_sub(1));
        }
    }

    pub fn connected(&self) -> bool {
        matches!(self.conn, ConnState::Connected { .. })
    }

    // ---- network events -------------------------------------------------------------------

    pub fn on_net(&mut self, ev: NetEvent, now: Instant) {
        match ev {
            NetEvent::Rtp(f) => self.on_rtp(&f, now),
            NetEvent::Batch(evs) => evs.into_iter().for_each(|ev| self.on_net(ev, now)),
            NetEvent::Status(s) => {
                let hint = call::classify_status(&s);
                self.call.on_hint(hint, &s, now);
                self.log(LogKind::Server, &s);
            }
            NetEvent::WavAck(text) => self.on_ack(text),
            NetEvent::Malformed { reason } => self.on_malformed(reason, now),
            NetEvent::Connecting { attempt } => {
                self.conn = ConnState::Connecting { attempt };
                let suffix = if attempt > 1 { format!(" (attempt {attempt})") } else { String::new() };
                self.log(LogKind::Info, format!("connecting to {}{suffix}", self.cfg.url));
            }
            NetEvent::Connected { subprotocol } => {
                self.conn = ConnState::Connected { since: now };
                let how = if subprotocol { " with subprotocol sip-audio-protocol" } else { "" };
                self.log(LogKind::Info, format!("connected to {}{how}", self.cfg.url));
            }
            NetEvent::Warning(w) => self.log(LogKind::Warn, w),
            NetEvent::Sent(msg) => self.on_sent(msg, now),
            NetEvent::Refused { what, why } => self.log(LogKind::Error, format!("not sent: {what} ({why})")),
            NetEvent::Disconnected { reason, retry_in } => {
                self.call.end("connection lost", now);
                let next = retry_in.map(|d| now + d);
                let when = match retry_in {
                    Some(d) => format!("; retrying in {:.1} s (r to retry now)", d.as_secs_f64()),
                    None => "; press r to reconnect".into(),
                };
                self.log(LogKind::Error, format!("disconnected: {reason}{when}"));
                self.conn = ConnState::Disconnected { reason, next_attempt: next };
            }
        }
    }

    fn on_rtp(&mut self, f: &crate::client::net::RtpFrame, now: Instant) {
        self.rtp.on_packet(f.arrival, f.bytes.len());
        let arrival = self.streams.on_packet(&f.header, f.payload(), f.bytes.len(), f.arrival);
        self.capture.push(&arrival, &f.header, f.payload());
        self.call.on_media(now);
        self.log_dtmf();
        if arrival.opened {
            let codec = crate::core::rtp::Codec::from_pt(f.header.payload_type);
            self.log(
                LogKind::Info,
                format!(
                    "RTP stream SSRC {:#010x}, {} (PT {}), first sequence {}",
                    f.header.ssrc,
                    codec.name(),
                    f.header.payload_type,
                    f.header.sequence
                ),
            );
        }
    }

    fn log_dtmf(&mut self) {
        // Collecting an empty drain does not allocate; events themselves are rare.
        let events: Vec<_> = self.streams.take_dtmf().collect();
        for d in events {
            self.log(LogKind::Info, format!("{} on SSRC {:#010x}", d.dtmf, d.ssrc));
        }
    }

    fn on_malformed(&mut self, reason: String, now: Instant) {
        self.rtp.malformed += 1;
        if self.rtp.malformed <= MALFORMED_LOGGED_ONE_BY_ONE {
            self.log(LogKind::Warn, format!("malformed frame: {reason}"));
            if self.rtp.malformed == MALFORMED_LOGGED_ONE_BY_ONE {
                self.log(LogKind::Warn, "further malformed frames are summarised once a second");
            }
            self.malformed_summary_at = now;
        } else {
            self.malformed_unlogged += 1;
            self.malformed_last_reason = reason;
        }
    }

    fn on_ack(&mut self, text: String) {
        self.log(LogKind::Server, format!("WAV_ACK: {text}"));
        let at = (self.wall_clock)();
        let pending = |u: &Upload| matches!(u.state, UploadState::Pending { .. });
        // Match the ack to the upload it names; a gateway whose ack names nothing acks the
        // oldest pending upload, as uploads are answered in order.
        let idx = self
            .uploads
            .iter()
            .position(|u| pending(u) && text.contains(u.name.as_str()))
            .or_else(|| self.uploads.iter().position(pending));
        if let Some(i) = idx {
            self.tell_browser(format!("acknowledged: {text}"));
            self.uploads[i].state = UploadState::Acked { text, at };
        }
    }

    fn on_sent(&mut self, msg: ClientMsg, now: Instant) {
        self.log(LogKind::Client, format!("sent {}", msg.summary()));
        match msg {
            ClientMsg::Call(number) => {
                self.call = CallState::Dialing { number, since: now };
            }
            ClientMsg::Hangup => self.call.end("hung up by you", now),
            ClientMsg::WavUpload { name, data } => {
                self.uploads.retain(|u| u.name != name);
                self.uploads.push(Upload { name, bytes: data.len(), state: UploadState::Pending { since: now } });
            }
            ClientMsg::PlayWav(_) => {}
        }
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
                self.last_save = Some(path);
                self.saved_packets = self.saved_packets.max(self.save_requested_at);
            }
            IoEvent::Recovered { path, seconds } => {
                self.log(LogKind::Info, format!("recovered {seconds:.1} s of unsaved audio into {}", path.display()))
            }
            IoEvent::RecoverFailed { spill, error } => {
                self.log(LogKind::Error, format!("could not recover {}: {error}", spill.display()))
            }
            IoEvent::SaveFailed { path, error } => self.log(
                LogKind::Error,
                format!("could not save {}: {error}; the audio is kept, press 7 to retry", path.display()),
            ),
            IoEvent::UploadRejected { path, error } => {
                self.log(LogKind::Error, format!("not uploaded: {}: {error}", path.display()));
                self.tell_browser(format!("not uploaded: {error}"));
            }
            // The effect only reads and converts; whether it goes out is decided here.
            IoEvent::UploadReady { msg, .. } => return self.send(msg),
            IoEvent::Converted { path, seconds, bytes, cut_from, msg } => {
                self.on_converted(&path, seconds, bytes, cut_from);
                return self.send(msg);
            }
        }
        vec![]
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

    pub fn stats_line(&self) -> String {
        format!(
            "statistics: {} RTP packets received, {} bytes of audio captured ({:.1} s), {} packets/s, {} malformed frames",
            self.rtp.packets,
            self.capture.len(),
            self.capture.seconds(),
            self.rtp.pps,
            self.rtp.malformed
        )
    }

    /// The full statistics of every stream, oldest first, for the log.
    pub fn stream_lines(&self) -> Vec<String> {
        if self.streams.is_empty() {
            return vec!["no RTP stream yet".into()];
        }
        self.streams.iter().map(|s| s.summary(self.now)).collect()
    }

    // ---- keys -----------------------------------------------------------------------------

    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            return vec![];
        }
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return self.quit_effects();
        }
        match self.dialog.take() {
            Some(d) => self.on_dialog_key(d, key),
            None => self.on_main_key(key),
        }
    }

    fn quit_effects(&mut self) -> Vec<Effect> {
        self.quit = true;
        self.log(LogKind::Info, "quitting");
        vec![Effect::Quit]
    }

    /// Send now when connected; otherwise say so plainly rather than queue it.
    pub(crate) fn send(&mut self, msg: ClientMsg) -> Vec<Effect> {
        if let (ClientMsg::Call(_), Some(n)) = (&msg, self.call.number().filter(|_| self.call.in_progress())) {
            self.log(LogKind::Error, format!("a call with {n} is in progress: hang up first (3)"));
            return vec![];
        }
        if self.connected() {
            vec![Effect::Send(msg)]
        } else {
            self.log(LogKind::Error, format!("not connected: {} was not sent", msg.summary()));
            vec![]
        }
    }

    fn on_main_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Char('1') => self.command(Command::CallDefault),
            KeyCode::Char('2') | KeyCode::Char('c') => {
                self.dialog = Some(Dialog::Dial { input: Input::default(), error: None });
                vec![]
            }
            KeyCode::Char('3') | KeyCode::Char('h') => self.command(Command::Hangup),
            KeyCode::Char('4') => self.command(Command::Stats),
            KeyCode::Char('5') | KeyCode::Char('u') => self.open_browser(),
            KeyCode::Char('6') | KeyCode::Char('p') => {
                self.dialog = Some(Dialog::Play { input: Input::default(), selected: 0, error: None });
                vec![]
            }
            KeyCode::Char('7') | KeyCode::Char('s') => self.command(Command::Save),
            KeyCode::Char('8') | KeyCode::Char('q') => self.command(Command::Quit),
            KeyCode::Char('?') => {
                self.dialog = Some(Dialog::Help);
                vec![]
            }
            KeyCode::Char('r') => self.command(Command::Reconnect),
            KeyCode::PageUp => self.scroll_log(10),
            KeyCode::PageDown => self.scroll_log(-10),
            KeyCode::Up => self.scroll_log(1),
            KeyCode::Down => self.scroll_log(-1),
            KeyCode::Home => self.scroll_log(isize::MAX),
            KeyCode::End => {
                self.log_scroll = 0;
                vec![]
            }
            _ => vec![],
        }
    }

    fn scroll_log(&mut self, by: isize) -> Vec<Effect> {
        let max = self.log.len().saturating_sub(1);
        self.log_scroll = (self.log_scroll as isize).saturating_add(by).clamp(0, max as isize) as usize;
        vec![]
    }

    fn save_effects(&mut self) -> Vec<Effect> {
        if self.capture.is_empty() {
            self.log(LogKind::Error, "no audio received yet: nothing to save");
            return vec![];
        }
        let name = format!("rtp_capture_{}.wav", (self.wall_clock)().format("%Y%m%d_%H%M%S"));
        let bytes = match self.cfg.record_format {
            RecordFormat::Mulaw => self.capture.to_wav(),
            RecordFormat::Pcm16 => self.capture.to_pcm16_wav(),
        };
        self.log(LogKind::Info, format!("saving {:.1} s of audio as {name}", self.capture.seconds()));
        self.save_requested_at = self.rtp.packets;
        vec![Effect::Save { dir: self.cfg.record_dir.clone(), name, bytes, seconds: self.capture.seconds() }]
    }

    /// True when audio arrived after the newest save (or there was no save).
    pub fn unsaved_audio(&self) -> bool {
        !self.capture.is_empty() && self.rtp.packets > self.saved_packets
    }

    /// Show the recovery dialog for spill files an earlier session left.
    pub fn offer_recovery(&mut self, files: Vec<crate::client::spill::Leftover>) {
        for f in &files {
            self.log(LogKind::Warn, format!("unsaved audio from an earlier session: {} ({} bytes)", f.path.display(), f.bytes));
        }
        self.dialog = Some(Dialog::Recover { files });
    }

    fn on_recover_key(&mut self, mut files: Vec<crate::client::spill::Leftover>, key: KeyEvent) -> Vec<Effect> {
        let Some(first) = files.first().cloned() else { return vec![] };
        let effect = match key.code {
            KeyCode::Enter | KeyCode::Char('y') => Effect::Recover { spill: first.path, dir: self.cfg.record_dir.clone() },
            KeyCode::Char('d') => {
                self.log(LogKind::Info, format!("deleted {}", first.path.display()));
                Effect::Discard(first.path)
            }
            _ => {
                self.dialog = Some(Dialog::Recover { files });
                return vec![];
            }
        };
        files.remove(0);
        if !files.is_empty() {
            self.dialog = Some(Dialog::Recover { files });
        }
        vec![effect]
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

    fn on_dialog_key(&mut self, dialog: Dialog, key: KeyEvent) -> Vec<Effect> {
        match dialog {
            Dialog::Browser => return self.on_browser_key(key),
            Dialog::Convert(offer) => return self.on_convert_key(offer, key),
            _ => {}
        }
        if key.code == KeyCode::Esc {
            return vec![];
        }
        match dialog {
            Dialog::Help => vec![],
            Dialog::Recover { files } => self.on_recover_key(files, key),
            Dialog::Dial { mut input, error } => {
                if key.code != KeyCode::Enter {
                    input.handle_event(&crossterm::event::Event::Key(key));
                    self.dialog = Some(Dialog::Dial { input, error });
                    return vec![];
                }
                match input.value().parse::<Number>() {
                    Ok(n) => self.send(ClientMsg::Call(n)),
                    Err(e) => {
                        self.log(LogKind::Error, format!("invalid number: {e}"));
                        self.dialog = Some(Dialog::Dial { input, error: Some(e.to_string()) });
                        vec![]
                    }
                }
            }
            Dialog::Browser | Dialog::Convert(_) => unreachable!("handled above"),
            Dialog::Play { mut input, mut selected, error } => {
                let names_len = self.acked_names().len();
                match key.code {
                    KeyCode::Up => selected = selected.saturating_sub(1),
                    KeyCode::Down => selected = (selected + 1).min(names_len.saturating_sub(1)),
                    KeyCode::Enter => {
                        let typed = input.value().trim().to_string();
                        let choice = if typed.is_empty() {
                            self.acked_names().get(selected).map(|n| n.to_string())
                        } else {
                            Some(typed)
                        };
                        let Some(choice) = choice else {
                            let error = Some("type a file name (nothing was acknowledged yet)".to_string());
                            self.dialog = Some(Dialog::Play { input, selected, error });
                            return vec![];
                        };
                        return match choice.parse::<WavName>() {
                            Ok(name) => self.send(ClientMsg::PlayWav(name)),
                            Err(e) => {
                                self.dialog = Some(Dialog::Play { input, selected, error: Some(e.to_string()) });
                                vec![]
                            }
                        };
                    }
                    _ => {
                        input.handle_event(&crossterm::event::Event::Key(key));
                    }
                }
                self.dialog = Some(Dialog::Play { input, selected, error });
                vec![]
            }
        }
    }
}
