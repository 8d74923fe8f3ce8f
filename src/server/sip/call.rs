//! One SIP call of one client: INVITE, the far end's answers turned into status lines, media,
//! and the end of the call however it comes (BYE either way, CANCEL, failure, timeout).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TransactionHandle};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::dialog::DialogId;
use rsipstack::sip::{Header, Response, StatusCode, StatusCodeKind};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use super::agent::SipAgent;
use super::dtmf::{send_dtmf_in_turn, DtmfPath, DtmfTiming};
use super::ports::PortPool;
use super::rtp::{CallRtp, RtpSources};
use super::sdp::{self, AnswerError};
use crate::server::media::Codec;
use crate::core::protocol::{DtmfDigits, Number, WavName};
use crate::server::metrics::Metrics;

use crate::server::outbox::ClientOutbox;

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
    Dtmf(DtmfDigits),
}

/// What the gateway shares with every call.
#[derive(Clone)]
pub struct SipCallContext {
    pub agent: Arc<SipAgent>,
    pub ports: Arc<PortPool>,
    pub policy: CallPolicy,
    pub metrics: Arc<Metrics>,
    /// With `--register`: calls are refused while the registration is not up.
    pub registration: Option<watch::Receiver<super::register::RegState>>,
}

/// How calls treat media and silence (gateway flags).
#[derive(Debug, Clone)]
pub struct CallPolicy {
    /// Offered in this order; the answer picks one.
    pub codecs: Vec<Codec>,
    pub rtp_sources: RtpSources,
    /// A call whose far end sends no RTP for this long after the answer is hung up.
    pub rtp_timeout: Option<Duration>,
    /// Tone and gap of each DTMF digit sent.
    pub dtmf: DtmfTiming,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy { codecs: vec![Codec::Pcmu, Codec::Pcma], rtp_sources: RtpSources::FarEnd, rtp_timeout: Some(Duration::from_secs(30)), dtmf: DtmfTiming::default() }
    }
}

/// How often a call checks that the far end's audio still arrives.
const LIVENESS_CHECK: Duration = Duration::from_millis(250);

/// The session's handle on its call. Dropping it hangs the call up.
pub struct SipCall {
    cmds: mpsc::Sender<Cmd>,
    phase: watch::Receiver<Phase>,
    task: JoinHandle<()>,
}

impl SipCall {
    /// Place a call to `number`; every status line goes to `out`.
    pub fn start(ctx: SipCallContext, number: Number, out: ClientOutbox) -> SipCall {
        let (cmds, rx) = mpsc::channel(8);
        let (phase_tx, phase) = watch::channel(Phase::Dialing);
        let task = tokio::spawn(run(ctx, number, rx, phase_tx, out));
        SipCall { cmds, phase, task }
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

    pub async fn dtmf(&self, digits: DtmfDigits) {
        let _ = self.cmds.send(Cmd::Dtmf(digits)).await;
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
    out: ClientOutbox,
    phase: watch::Sender<Phase>,
    media: CallRtp,
    policy: CallPolicy,
    /// Where the INVITE goes: an ICMP error from there ends the attempt at once.
    destination: SocketAddr,
    unreachable: broadcast::Receiver<SocketAddr>,
    /// We had a password to answer a challenge with.
    has_credentials: bool,
    /// Any response (provisional or final) came back.
    heard_back: bool,
    answered_at: Option<Instant>,
    /// The far end said it sends audio (not on hold): silence then means it is gone.
    far_end_sends: bool,
    /// Our SDP, offered in the INVITE and given again to every re-INVITE.
    sdp: String,
    dialog: InviteDialog,
    /// The dialog once a 2xx confirmed it (its id changes with the far end's tag).
    confirmed: Option<DialogId>,
    /// The answer's telephone-event payload type; `None`: DTMF goes as SIP INFO.
    dtmf_pt: Option<u8>,
    /// Digits waiting for the sender task, which sends one request after another, in order.
    dtmf_queue: Option<(mpsc::UnboundedSender<(DtmfDigits, DtmfPath)>, JoinHandle<()>)>,
    /// We sent BYE or CANCEL: whatever the INVITE's outcome, the call just ended.
    hangup_asked: bool,
    /// The INVITE was given up without an answer (target unreachable).
    abandoned: bool,
}

type InviteResult = rsipstack::Result<(DialogId, Option<Response>)>;

type InviteTask = JoinHandle<InviteResult>;

async fn run(ctx: SipCallContext, number: Number, cmds: mpsc::Receiver<Cmd>, phase: watch::Sender<Phase>, out: ClientOutbox) {
    let tracker = ctx.metrics.track_call(phase.subscribe());
    let line = match dial(&ctx, number, out.clone(), &phase).await {
        Ok((mut call, states, invite)) => {
            let line = call.follow(states, invite, cmds).await;
            if let Some((_, sender)) = call.dtmf_queue.take() {
                sender.abort();
            }
            if let Some(id) = call.confirmed.take() {
                ctx.agent.dialogs.remove_dialog(&id);
            }
            if call.abandoned {
                ctx.agent.dialogs.remove_dialog(&call.dialog.id());
            }
            tracing::info!(number = %call.number, "call over");
            line
        }
        Err(line) => line,
    };
    tracker.ended(&line);
    out.line(line).await;
    phase.send_replace(Phase::Over);
}

/// Open the RTP port and send the INVITE. `Err` is the line that says why not.
async fn dial(
    ctx: &SipCallContext,
    number: Number,
    out: ClientOutbox,
    phase: &watch::Sender<Phase>,
) -> Result<(Running, DialogStateReceiver, InviteTask), String> {
    if let Some(refusal) = ctx.registration.as_ref().and_then(|r| r.borrow().refusal()) {
        return Err(refusal);
    }
    let media = CallRtp::open(&ctx.ports, out.clone(), ctx.policy.rtp_sources)
        .await
        .map_err(|e| format!("Call failed: 503 Service Unavailable ({e})"))?;
    let offer = sdp::offer(ctx.agent.local().ip(), media.local_port(), fastrand::u64(1..u64::MAX / 2), &ctx.policy.codecs);
    // Subscribed before the INVITE goes out, so an early ICMP error is not missed.
    let unreachable = ctx.agent.unreachable();
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
        policy: ctx.policy.clone(),
        destination: ctx.agent.destination(),
        unreachable,
        has_credentials: ctx.agent.has_credentials(),
        heard_back: false,
        answered_at: None,
        far_end_sends: true,
        sdp: offer,
        dialog,
        confirmed: None,
        dtmf_pt: None,
        dtmf_queue: None,
        hangup_asked: false,
        abandoned: false,
    };
    Ok((call, states, invite))
}

impl Running {
    /// Follow the call until it ends; the line that says how.
    async fn follow(&mut self, mut states: DialogStateReceiver, mut invite: InviteTask, mut cmds: mpsc::Receiver<Cmd>) -> String {
        let mut invite_done = false;
        let mut liveness = tokio::time::interval(LIVENESS_CHECK);
        let mut icmp_errors = 0;
        loop {
            tokio::select! {
                _ = liveness.tick() => if let Some(line) = self.check_liveness().await { return line },
                from = self.unreachable.recv(), if !self.heard_back && !invite_done => {
                    if matches!(from, Ok(addr) if addr == self.destination) {
                        icmp_errors += 1;
                    }
                    // RFC 3261 8.1.3.1: an ICMP error is a 503; nothing will answer. The
                    // first retransmission (after T1) must meet one too, so a far end that
                    // is just starting up is not given up on.
                    if icmp_errors >= 2 {
                        invite.abort();
                        self.abandoned = true;
                        return "Call failed: 503 Service Unavailable (target unreachable)".to_string();
                    }
                }
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
                    Some(Cmd::Dtmf(digits)) => self.dtmf(digits).await,
                    // A hang-up, or the session is gone: either way the call ends.
                    Some(Cmd::Hangup) | None => return self.hangup().await,
                },
            }
        }
    }

    /// A change of dialog state; `Some(line)` when it ends the call.
    async fn on_state(&mut self, state: DialogState) -> Option<String> {
        if !matches!(state, DialogState::Calling(_)) {
            self.heard_back = true;
        }
        match state {
            DialogState::Early(_, resp) if *self.phase.borrow() == Phase::Dialing => {
                self.heard_back = true;
                // Early media: its SDP names where the far end's audio comes from.
                if let Ok(media) = sdp::answer_media(&resp.body, &self.policy.codecs) {
                    self.media.set_remote(media.addr);
                    self.media.set_codec(media.codec);
                }
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
                self.heard_back = true;
                match sdp::answer_media(&resp.body, &self.policy.codecs) {
                    Ok(media) => {
                        self.media.set_remote(media.addr);
                        self.media.set_codec(media.codec);
                        self.far_end_sends = media.far_end_sends;
                        self.dtmf_pt = media.dtmf_pt;
                    }
                    // RFC 3264 6: we cannot take what it sends; the stack has ACKed the
                    // 2xx, so the call is ended with a BYE.
                    Err(e @ AnswerError::NoCommonCodec(_)) => {
                        tracing::warn!(number = %self.number, error = %e, "answer without a common codec: BYE");
                        self.hangup().await;
                        return Some(format!("Call failed: {e}"));
                    }
                    // Audio still arrives; our own will follow its source address.
                    Err(e) => tracing::warn!(error = %e, "unusable SDP answer"),
                }
                self.answered_at = Some(Instant::now());
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
            Ok((_, Some(resp))) => Some(self.refusal_line(&resp.status_code)),
            Ok((_, None)) => Some(failure_line(&StatusCode::RequestTimeout)),
            Err(e) => Some(format!("Call failed: 500 Server Internal Error ({e})")),
        }
    }

    /// A final refusal. A challenge (401/407) that ends the call means either that we had
    /// no credentials, or that the far end refused the ones we answered it with: the two
    /// are told apart.
    fn refusal_line(&self, code: &StatusCode) -> String {
        let challenged = matches!(code.code(), 401 | 407);
        match (challenged, self.has_credentials) {
            (true, true) => format!("{} (credentials rejected)", failure_line(code)),
            (true, false) => {
                tracing::warn!(number = %self.number, "the far end asks for credentials: pass --sip-user and --sip-password");
                failure_line(code)
            }
            (false, _) => failure_line(code),
        }
    }

    /// After the answer: a far end that should be sending and has not for the RTP timeout
    /// is gone (killed, unplugged): hang up so the call and its port are freed.
    async fn check_liveness(&mut self) -> Option<String> {
        let (Some(limit), Some(answered)) = (self.policy.rtp_timeout, self.answered_at) else { return None };
        if !self.far_end_sends {
            return None;
        }
        let since = self.media.last_heard().map_or(answered, |t| t.max(answered));
        if since.elapsed() < limit {
            return None;
        }
        tracing::warn!(number = %self.number, secs = limit.as_secs(), "no RTP from the far end: hanging up");
        self.hangup().await;
        Some(format!("Call ended: no audio from the far end for {} s (BYE sent)", limit.as_secs()))
    }

    /// A re-INVITE or UPDATE (hold, a media move, a session refresh): follow the new
    /// address when it offers one, and answer with our unchanged SDP.
    async fn renegotiate(&mut self, offer: &[u8], handle: TransactionHandle) {
        if !offer.is_empty() {
            match sdp::answer_media(offer, &self.policy.codecs) {
                Ok(media) => {
                    self.media.set_remote(media.addr);
                    self.far_end_sends = media.far_end_sends;
                }
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

    /// Send digits in the background, after any sent before: telephone-events when the
    /// answer took them, SIP INFO otherwise.
    async fn dtmf(&mut self, digits: DtmfDigits) {
        if self.confirmed.is_none() {
            self.out.line(format!("Error: cannot send DTMF {digits}: the call is not answered yet")).await;
            return;
        }
        let how = match self.dtmf_pt {
            Some(pt) => DtmfPath::Events(self.media.outlet(), pt),
            None => DtmfPath::Info(self.dialog.clone()),
        };
        let (out, timing) = (self.out.clone(), self.policy.dtmf);
        let (queue, _) = self.dtmf_queue.get_or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            (tx, tokio::spawn(send_dtmf_in_turn(rx, timing, out)))
        });
        let _ = queue.send((digits, how));
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
