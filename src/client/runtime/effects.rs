//! Carrying out the app's [`Effect`]s: messages to the network actor, and the disk work
//! (reads, uploads to prepare, conversions, saves, recoveries) on blocking threads. Each job
//! reports back as an [`IoEvent`]; what then goes on the wire is the app's decision.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::client::app::{Effect, Export, IoEvent, Purpose};
use crate::client::net::NetCommand;
use crate::client::spill;

/// Carries out the app's [`Effect`]s for every front end.
#[derive(Clone)]
pub struct Effects {
    pub cmd: mpsc::Sender<NetCommand>,
    pub io: mpsc::Sender<IoEvent>,
    /// Uploads, conversions, saves and recoveries still under way (quitting waits for them).
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

/// Whether quitting waits for a job.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Work the user asked for that must not be lost (an upload, a save).
    Counted,
    /// A read for the browser: quitting need not wait for a folder on a slow drive.
    Not,
}

impl Effects {
    pub fn new(cmd: mpsc::Sender<NetCommand>, io: mpsc::Sender<IoEvent>) -> Effects {
        Effects { cmd, io, busy: Arc::new(AtomicUsize::new(0)) }
    }

    /// Jobs that have not reported yet. A job reports before it stops counting, so when this
    /// reads 0 every report is already in the IO channel.
    pub fn in_flight(&self) -> usize {
        self.busy.load(Ordering::SeqCst)
    }

    /// Carry out one effect. True when a message was handed to the network actor (which
    /// answers it with `Sent` or `Refused`).
    pub async fn apply(&self, effect: Effect) -> bool {
        match effect {
            Effect::Send(msg) => return self.cmd.send(NetCommand::Send(msg)).await.is_ok(),
            Effect::Reconnect => {
                let _ = self.cmd.send(NetCommand::ReconnectNow).await;
            }
            Effect::Quit => {}
            Effect::Upload(path) => {
                let p = path.clone();
                let failed = move |error| IoEvent::UploadRejected { path: p, error };
                self.job(Wait::Counted, failed, move || match crate::client::upload::prepare(&path) {
                    Ok(msg) => IoEvent::UploadReady { path, msg },
                    Err(e) => IoEvent::UploadRejected { path, error: e.to_string() },
                })
            }
            // Decoding and resampling take CPU: off the async threads like every disk job.
            Effect::UploadConverted { path, length } => {
                let p = path.clone();
                let failed = move |error| IoEvent::UploadRejected { path: p, error };
                self.job(Wait::Counted, failed, move || match crate::client::upload::prepare_converted(&path, length) {
                    Ok((name, conv)) => IoEvent::Converted {
                        seconds: conv.seconds,
                        bytes: conv.wav.len(),
                        cut_from: conv.cut_from,
                        msg: crate::core::protocol::ClientMsg::WavUpload { name, data: conv.wav },
                        path,
                    },
                    Err(e) => IoEvent::UploadRejected { path, error: e.to_string() },
                })
            }
            Effect::Recover { spill, dir } => {
                let s = spill.clone();
                let failed = move |error| IoEvent::RecoverFailed { spill: s, error };
                self.job(Wait::Counted, failed, move || match spill::recover(&spill, &dir) {
                    Ok((path, seconds)) => IoEvent::Recovered { path, seconds },
                    Err(e) => IoEvent::RecoverFailed { spill, error: e.to_string() },
                })
            }
            Effect::ListDir(dir) => {
                let d = dir.clone();
                let failed = move |e| IoEvent::Listed { dir: d, result: Err(format!("the read failed: {e}")) };
                self.job(Wait::Not, failed, move || IoEvent::Listed {
                    result: crate::client::browser::list(&dir).map_err(|e| e.to_string()),
                    dir,
                })
            }
            Effect::Inspect { path, purpose } => {
                // An upload command's header read leads to the upload: quitting waits for it.
                let wait = if purpose == Purpose::Upload { Wait::Counted } else { Wait::Not };
                let p = path.clone();
                let failed = move |e| IoEvent::Inspected { path: p, purpose, result: Err(format!("the read failed: {e}")) };
                self.job(wait, failed, move || IoEvent::Inspected {
                    result: crate::client::files::inspect(&path).map_err(|e| e.to_string()),
                    path,
                    purpose,
                })
            }
            Effect::SaveRedial { path, numbers } => {
                let failed = |e| IoEvent::RedialSaved(Err(e));
                self.job(Wait::Counted, failed, move || {
                    IoEvent::RedialSaved(crate::client::redial_file::save(&path, &numbers).map_err(|e| format!("{}: {e}", path.display())))
                })
            }
            Effect::Discard(spill) => {
                let _ = std::fs::remove_file(spill);
            }
            // The session resolves the calls' packets first (`Session::apply_all`).
            // Answered as a failure rather than a panic, should a caller bypass the session.
            Effect::SaveCall { dir, name, .. } => {
                let path = dir.join(name);
                let error = "the call's packets were not handed over (applied outside the session)".to_string();
                let failed = |error| IoEvent::SaveFailed { path: PathBuf::from("?"), error };
                self.job(Wait::Counted, failed, move || IoEvent::SaveFailed { path, error })
            }
        }
        false
    }

    /// Save calls replayed from their packets (a live call's once its writer got as far as
    /// the save asked for: that wait happens here, on a blocking thread).
    pub fn save_calls(&self, sources: Vec<spill::Source>, dir: PathBuf, name: String, export: Export) {
        let failed = move |error| IoEvent::SaveFailed { path: PathBuf::from("?"), error };
        self.job(Wait::Counted, failed, move || save(&sources, &dir, &name, export))
    }

    /// Run `work` on a blocking thread and report its event. A job that panics reports an
    /// error too (`failed`), so the app never waits for an answer that will not come.
    fn job(
        &self,
        wait: Wait,
        failed: impl FnOnce(String) -> IoEvent + Send + 'static,
        work: impl FnOnce() -> IoEvent + Send + 'static,
    ) {
        let io = self.io.clone();
        let busy = (wait == Wait::Counted).then(|| Busy::start(&self.busy));
        tokio::spawn(async move {
            let _busy = busy;
            let ev = tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| failed(e.to_string()));
            let _ = io.send(ev).await;
        });
    }
}

/// Write calls' packets as `export` under `name`, or `name` with a counter when that file
/// exists already.
pub(super) fn save(sources: &[spill::Source], dir: &Path, name: &str, export: Export) -> IoEvent {
    let path = match crate::client::files::reserve(dir, name) {
        Ok(p) => p,
        Err(e) => return IoEvent::SaveFailed { path: dir.join(name), error: e.to_string() },
    };
    let saved = match export {
        Export::Wav(format) => spill::save_wav(sources, &path, format),
        Export::Pcap => spill::save_pcap(sources, &path),
    };
    match saved {
        Ok(s) => IoEvent::Saved { path, bytes: s.bytes as usize, seconds: s.seconds },
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            IoEvent::SaveFailed { path, error: e.to_string() }
        }
    }
}
