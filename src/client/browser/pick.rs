//! The app's side of the file browser: open the pane, pick a file, confirm a conversion,
//! play an acknowledged upload. The pane's own navigation is [`super::Browser`]; the disk
//! reads it asks for go out as [`Effect::ListDir`] and [`Effect::Inspect`] and come back as
//! [`IoEvent::Listed`](crate::client::app::IoEvent::Listed) and
//! [`IoEvent::Inspected`](crate::client::app::IoEvent::Inspected). Upload commands (line
//! mode) are judged by the same verdict.

use std::path::{Path, PathBuf};

use super::{shown, Browser, BrowserAction, Listing, Request};
use crate::client::app::keys::Key;
use crate::client::app::{App, Dialog, Effect, LogKind, Purpose};
use crate::core::convert::{Inspection, Length, Plan};
use crate::core::protocol::{ClientMsg, WavName};
use crate::core::wav::Verdict;

/// A picked file that must be converted before it can be sent, waiting for a yes.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertOffer {
    pub path: PathBuf,
    /// The name it is uploaded under: the original's.
    pub name: WavName,
    /// What is wrong with it as it is.
    pub verdict: Verdict,
    pub plan: Plan,
}

impl ConvertOffer {
    /// All of it when it fits in one upload; otherwise only its first part can go.
    pub fn length(&self) -> Length {
        if self.plan.fits() {
            Length::Whole
        } else {
            Length::FirstPart
        }
    }
}

/// What a file's verdict means for sending it.
#[derive(Debug, Clone, PartialEq)]
enum Judged {
    /// Ready: upload it as it is.
    Send,
    /// Readable but not what the line takes: convert it first.
    Convert(ConvertOffer),
    /// Never sent, for this reason.
    Refuse(String),
}

fn judge(path: &Path, ins: Inspection) -> Judged {
    let name = match WavName::from_path(path) {
        Ok(n) => n,
        Err(e) => return Judged::Refuse(e.to_string()),
    };
    match (&ins.verdict, ins.plan()) {
        (Verdict::Ready, _) => Judged::Send,
        (Verdict::Convert(_), Some(plan)) => {
            Judged::Convert(ConvertOffer { path: path.to_path_buf(), name, verdict: ins.verdict, plan })
        }
        (verdict, _) => Judged::Refuse(verdict.to_string()),
    }
}

impl App {
    /// Open the pane where it was left (its last listing at once, read again in the
    /// background), or at `--wav-dir` the first time.
    pub(crate) fn open_browser(&mut self) -> Vec<Effect> {
        match &mut self.browser {
            Some(b) => b.reopen(),
            None => self.browser = Some(Browser::new(&self.cfg.wav_dir, Browser::env_home())),
        }
        self.dialog = Some(Dialog::Browser);
        self.browser_reads()
    }

    /// The disk reads the pane asked for, as effects.
    fn browser_reads(&mut self) -> Vec<Effect> {
        let Some(b) = self.browser.as_mut() else { return vec![] };
        b.take_requests()
            .into_iter()
            .map(|r| match r {
                Request::List(dir) => Effect::ListDir(dir),
                Request::Inspect(path) => Effect::Inspect { path, purpose: Purpose::Browser },
            })
            .collect()
    }

    /// Say something in the pane's status line, if the pane exists.
    pub(crate) fn tell_browser(&mut self, text: String) {
        if let Some(b) = &mut self.browser {
            b.set_notice(text);
        }
    }

    pub(crate) fn on_browser_key(&mut self, key: Key) -> Vec<Effect> {
        let acked: Vec<WavName> = self.acked_names().into_iter().cloned().collect();
        let Some(browser) = self.browser.as_mut() else { return vec![] };
        let action = browser.on_key(key, &acked);
        self.dialog = Some(Dialog::Browser);
        let mut effects = self.browser_reads();
        effects.extend(self.on_browser_action(action));
        effects
    }

    fn on_browser_action(&mut self, action: BrowserAction) -> Vec<Effect> {
        match action {
            BrowserAction::None => vec![],
            BrowserAction::Close => {
                self.dialog = None;
                vec![]
            }
            BrowserAction::Play(name) => {
                // Back to the dashboard, where the stream shows.
                self.dialog = None;
                self.send(ClientMsg::PlayWav(name))
            }
            BrowserAction::Pick { path, inspection } => self.on_pick(path, inspection),
        }
    }

    pub(crate) fn on_listed(&mut self, dir: &Path, result: Result<Listing, String>) -> Vec<Effect> {
        if let Some(b) = self.browser.as_mut() {
            b.on_listed(dir, result);
        }
        self.browser_reads()
    }

    pub(crate) fn on_browser_inspected(&mut self, path: &Path, result: Result<Inspection, String>) -> Vec<Effect> {
        let Some(b) = self.browser.as_mut() else { return vec![] };
        let action = b.on_inspected(path, result);
        let mut effects = self.browser_reads();
        // A pick lands only in the open pane (closing it drops a pick still being read).
        if matches!(self.dialog, Some(Dialog::Browser)) {
            effects.extend(self.on_browser_action(action));
        }
        effects
    }

    fn on_pick(&mut self, path: PathBuf, ins: Inspection) -> Vec<Effect> {
        match judge(&path, ins) {
            Judged::Send => self.upload_now(path),
            Judged::Convert(offer) => {
                self.dialog = Some(Dialog::Convert(offer));
                vec![]
            }
            Judged::Refuse(why) => {
                self.refuse(&shown(&path), why);
                vec![]
            }
        }
    }

    /// An upload command, its header read: the browser's verdict, with no one to ask, so a
    /// file to convert is converted at once (only its first part when all of it would not
    /// fit, as the log says).
    pub(crate) fn on_upload_inspected(&mut self, path: PathBuf, result: Result<Inspection, String>) -> Vec<Effect> {
        let ins = match result {
            Ok(ins) => ins,
            Err(e) => {
                self.refuse(&shown(&path), format!("cannot read it: {e}"));
                return vec![];
            }
        };
        match judge(&path, ins) {
            Judged::Send => self.upload_now(path),
            Judged::Convert(offer) => self.convert_now(offer),
            Judged::Refuse(why) => {
                self.refuse(&shown(&path), why);
                vec![]
            }
        }
    }

    fn upload_now(&mut self, path: PathBuf) -> Vec<Effect> {
        let file = shown(&path);
        if !self.connected() {
            self.refuse(&file, "not connected".into());
            return vec![];
        }
        self.log(LogKind::Info, format!("uploading {}", path.display()));
        self.tell_browser(format!("uploading {file}…"));
        vec![Effect::Upload(path)]
    }

    fn convert_now(&mut self, offer: ConvertOffer) -> Vec<Effect> {
        if !self.connected() {
            self.refuse(&offer.name.to_string(), "not connected".into());
            return vec![];
        }
        let length = offer.length();
        let what = match length {
            Length::Whole => "converting".to_string(),
            Length::FirstPart => format!("converting the first {:.1} s of", crate::core::convert::max_seconds()),
        };
        self.log(LogKind::Info, format!("{what} {} to 8 kHz mono mu-law, to upload as {}", offer.path.display(), offer.name));
        self.tell_browser(format!("converting {}…", offer.name));
        vec![Effect::UploadConverted { path: offer.path, length }]
    }

    fn refuse(&mut self, file: &str, why: String) {
        self.log(LogKind::Error, format!("not uploaded: {file}: {why}"));
        self.tell_browser(format!("not uploaded: {why}"));
    }

    pub(crate) fn on_convert_key(&mut self, offer: ConvertOffer, key: Key) -> Vec<Effect> {
        match key {
            Key::Enter | Key::Char('y') | Key::Char('f') => {
                self.dialog = Some(Dialog::Browser);
                self.convert_now(offer)
            }
            Key::Esc | Key::Char('n') | Key::Char('q') => {
                self.dialog = Some(Dialog::Browser);
                vec![]
            }
            _ => {
                self.dialog = Some(Dialog::Convert(offer));
                vec![]
            }
        }
    }

    pub(crate) fn on_converted(&mut self, path: &Path, seconds: f64, bytes: usize, cut_from: Option<f64>) {
        let how = match cut_from {
            Some(whole) => format!("the first {seconds:.1} s of {whole:.1} s"),
            None => format!("{seconds:.1} s"),
        };
        self.log(LogKind::Info, format!("converted {}: {how}, {bytes} bytes; uploading", path.display()));
        self.tell_browser(format!("converted {}; uploading…", shown(path)));
    }
}

#[cfg(test)]
#[path = "pick_tests.rs"]
mod tests;
