//! One call of one client: INVITE, the far end's answers turned into status lines, media,
//! and the end of the call however it comes (BYE either way, CANCEL, failure, timeout).

use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TransactionHandle};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::dialog::DialogId;
use rsipstack::sip::{Header, Response, StatusCode, StatusCodeKind};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::media::{Media, PortPool};
use super::outbox::Outbox;
use super::sdp;
use super::sip::SipAgent;
use crate::core::protocol::{Number, WavName};

/// How long a hang-up waits for the answer to its BYE or CANCEL before the call is
/// reported ended anyway.
const BYE_WAIT: Duration = Duration::from_secs(2);

/// Where a call is, as the session sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Dialing,
    Ringing,
    Answered,
    Over,
}

#[derive(Debug)]
enum Cmd {
    Hangup,
    Play { name: WavName, ulaw: Vec<u8> },
}

/// What the gateway shares with every call.
#[derive(Clone)]
pub struct CallContext {
    pub agent: Arc<SipAgent>,
    pub ports: Arc<PortPool>,
}

/// The session's handle on its call. Dropping it hangs the call up.
pub struct Call {
    cmds: mpsc::Sender<Cmd>,
    phase: watch::Receiver<Phase>,
    task: JoinHandle<()>,
}

impl Call {
    /// Place a call to `number`; every status line goes to `out`.
    pub fn start(ctx: CallContext, number: Number, out: Outbox) -> Call {
        let (cmds, rx) = mpsc::channel(8);
        let (phase_tx, phase) = watch::channel(Phase::Dialing);
        let task = tokio::spawn(run(ctx, number, rx, phase_tx, out));
        Call { cmds, phase, task }
    }

    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    pub fn is_over(&self) -> bool {
        self.phase() == Phase::Over
    }

    /// Ask for the call to end (BYE, or CANCEL before an answer).
    pub async fn hangup(&self) {
        let _ = self.cmds.send(Cmd::Hangup).await;
    }

    pub async fn play(&self, name: WavName, ulaw: Vec<u8>) {
        let _ = self.cmds.send(Cmd::Play { name, ulaw }).await;
    }

    /// Hang up and wait, at most `limit`, for the call to be over.
    pub async fn finish(self, limit: Duration) {
        self.hangup().await;
        let mut task = self.task;
        if tokio::time::timeout(limit, &mut task).await.is_err() {
            task.abort();
        }
    }
}

/// The text of a failed call: `Call failed: <code> <reason>`.
pub fn failure_line(code: &StatusCode) -> String {
    format!("Call failed: {} {}", code.code(), code.text())
}

struct Running {
    number: Number,
    out: Outbox,
    phase: watch::Sender<Phase>,
    media: Media,
    /// Our SDP, offered in the INVITE and given again to every re-INVITE.
    sdp: String,
    dialog: InviteDialog,
    /// The dialog once a 2xx confirmed it (its id changes with the far end's tag).
    confirmed: Option<DialogId>,
    /// We sent BYE or CANCEL: whatever the INVITE's outcome, the call just ended.
    hangup_asked: bool,
}

type InviteResult = rsipstack::Result<(DialogId, Option<Response>)>;

type InviteTask = JoinHandle<InviteResult>;

async fn run(ctx: CallContext, number: Number, cmds: mpsc::Receiver<Cmd>, phase: watch::Sender<Phase>, out: Outbox) {
    let line = match dial(&ctx, number, out.clone(), &phase).await {
        Ok((mut call, states, invite)) => {
            let line = call.follow(states, invite, cmds).await;
            if let Some(id) = call.confirmed.take() {
                ctx.agent.dialogs.remove_dialog(&id);
            }
            tracing::info!(number = %call.number, "call over");
            line
        }
        Err(line) => line,
    };
    out.line(line).await;
    phase.send_replace(Phase::Over);
}

/// Open the RTP port and send the INVITE. `Err` is the line that says why not.
async fn dial(
    ctx: &CallContext,
    number: Number,
    out: Outbox,
    phase: &watch::Sender<Phase>,
) -> Result<(Running, DialogStateReceiver, InviteTask), String> {
    let media = Media::open(&ctx.ports, out.clone())
        .await
        .map_err(|e| format!("Call failed: 503 Service Unavailable ({e})"))?;
    let offer = sdp::offer(ctx.agent.local().ip(), media.local_port(), fastrand::u64(1..u64::MAX / 2));
    let option = ctx
        .agent
        .invite(&number, offer.clone())
        .map_err(|e| format!("Call failed: 400 Bad Request ({e})"))?;
    out.line(format!("Calling {number}")).await;
    let (state_tx, states) = ctx.agent.dialogs.new_dialog_state_channel();
    let (dialog, invite) = ctx
        .agent
        .dialogs
        .do_invite_async(option, state_tx)
        .map_err(|e| format!("Call failed: 500 Server Internal Error ({e})"))?;
    let call = Running {
        number,
        out,
        phase: phase.clone(),
        media,
        sdp: offer,
        dialog,
        confirmed: None,
        hangup_asked: false,
    };
    Ok((call, states, invite))
}

impl Running {
    /// Follow the call until it ends; the line that says how.
    async fn follow(&mut self, mut states: DialogStateReceiver, mut invite: InviteTask, mut cmds: mpsc::Receiver<Cmd>) -> String {
        let mut invite_done = false;
        loop {
            tokio::select! {
                state = states.recv() => match state {
                    Some(state) => if let Some(line) = self.on_state(state).await { return line },
                    None => return "Call ended".to_string(),
                },
                result = &mut invite, if !invite_done => {
                    invite_done = true;
                    let line = match result {
                        Ok(outcome) => self.on_invite_result(outcome),
                        Err(e) => Some(format!("Call failed: 500 Server Internal Error ({e})")),
                    };
                    if let Some(line) = line {
                        return line;
                    }
                }
                cmd = cmds.recv() => match cmd {
                    Some(Cmd::Play { name, ulaw }) => self.play(name, ulaw).await,
                    // A hang-up, or the session is gone: either way the call ends.
                    Some(Cmd::Hangup) | None => return self.hangup().await,
                },
            }
        }
    }

    /// A change of dialog state; `Some(line)` when it ends the call.
    async fn on_state(&mut self, state: DialogState) -> Option<String> {
        match state {
            DialogState::Early(_, resp) if *self.phase.borrow() == Phase::Dialing => {
                let code = resp.status_code.code();
                if code == 180 || code == 183 {
                    self.phase.send_replace(Phase::Ringing);
                    self.out.line("Ringing").await;
                }
                None
            }
            // A re-INVITE's ACK confirms the dialog again: not a new answer.
            DialogState::Confirmed(..) if self.confirmed.is_some() => None,
            DialogState::Confirmed(id, resp) => {
                self.confirmed = Some(id);
                match sdp::answer_target(&resp.body) {
                    Ok(addr) => self.media.set_remote(addr),
                    // Audio still arrives; our own will follow its source address.
                    Err(e) => tracing::warn!(error = %e, "unusable SDP answer"),
                }
                self.phase.send_replace(Phase::Answered);
                self.out.line("Call answered").await;
                None
            }
            DialogState::Updated(_, req, handle) => {
                self.renegotiate(&req.body, handle).await;
                None
            }
            DialogState::Info(_, _, handle) | DialogState::Options(_, _, handle) => {
                let _ = handle.reply(StatusCode::OK).await;
                None
            }
            // Before an answer the INVITE's own outcome says why; after, the call is over.
            DialogState::Terminated(_, reason) if self.confirmed.is_some() => {
                tracing::info!(?reason, "dialog terminated");
                Some("Call ended".to_string())
            }
            _ => None,
        }
    }

    /// The INVITE transaction finished: a final response, or none at all (Timer B).
    fn on_invite_result(&mut self, result: InviteResult) -> Option<String> {
        match result {
            Ok((_, Some(resp))) if resp.status_code.kind() == StatusCodeKind::Successful => {
                // The Confirmed state carries the rest; a 2xx to a cancelled INVITE is
                // ended with a BYE by the stack.
                self.hangup_asked.then(|| "Call ended".to_string())
            }
            _ if self.hangup_asked => Some("Call ended".to_string()),
            Ok((_, Some(resp))) => Some(failure_line(&resp.status_code)),
            Ok((_, None)) => Some(failure_line(&StatusCode::RequestTimeout)),
            Err(e) => Some(format!("Call failed: 500 Server Internal Error ({e})")),
        }
    }

    /// A re-INVITE or UPDATE (hold, a media move, a session refresh): follow the new
    /// address when it offers one, and answer with our unchanged SDP.
    async fn renegotiate(&mut self, offer: &[u8], handle: TransactionHandle) {
        if !offer.is_empty() {
            match sdp::answer_target(offer) {
                Ok(addr) => self.media.set_remote(addr),
                Err(e) => tracing::info!(error = %e, "re-INVITE SDP not followed"),
            }
        }
        let content_type = Header::ContentType("application/sdp".into());
        let body = self.sdp.clone().into_bytes();
        if let Err(e) = handle.respond(StatusCode::OK, Some(vec![content_type]), Some(body)).await {
            tracing::warn!(error = %e, "re-INVITE answer");
        }
    }

    async fn play(&mut self, name: WavName, ulaw: Vec<u8>) {
        if self.confirmed.is_none() {
            self.out.line(format!("Error: cannot play {name}: the call is not answered yet")).await;
            return;
        }
        let out = self.out.clone();
        let shown = name.clone();
        let done = async move { out.line(format!("Finished playing {shown}")).await };
        match self.media.play(ulaw, done) {
            Ok(len) => self.out.line(format!("Playing {name} ({:.1} s)", len.as_secs_f64())).await,
            Err(e) => self.out.line(format!("Error: cannot play {name}: {e}")).await,
        }
    }

    /// End the call from our side: CANCEL before an answer, BYE after.
    async fn hangup(&mut self) -> String {
        self.hangup_asked = true;
        let dialog = self.dialog.clone();
        if self.confirmed.is_some() {
            match tokio::time::timeout(BYE_WAIT, dialog.bye()).await {
                Ok(Err(e)) => tracing::warn!(error = %e, "BYE"),
                Err(_) => tracing::warn!("no answer to BYE in time"),
                Ok(Ok(())) => {}
            }
        } else {
            // The INVITE's outcome (487, or a 2xx that crossed the CANCEL and gets a BYE)
            // is the stack's to finish; the client hears now that the call is over.
            match tokio::time::timeout(BYE_WAIT, dialog.cancel()).await {
                Ok(Err(e)) => tracing::warn!(error = %e, "CANCEL"),
                Err(_) => tracing::warn!("no answer to CANCEL in time"),
                Ok(Ok(())) => {}
            }
        }
        "Call ended".to_string()
    }
}
