//! The gateway's call backend: SIP through one rsipstack user agent (`agent`, on a socket
//! that hears ICMP errors: `icmp`), the SDP of each call (`sdp`), the call itself (`call`)
//! and its RTP port (`rtp`, from `ports`).

pub mod agent;
pub mod call;
pub mod dtmf;
pub mod icmp;
pub mod ports;
pub mod register;
pub mod rtp;
pub mod rtp_batch;
pub mod sdp;

use std::time::Duration;

pub use agent::{Account, SipAgent, SipConfig, SipTarget};
pub use call::{CallPolicy, SipCall, SipCallContext};

use crate::core::protocol::{DtmfDigits, Number, WavName};
use crate::server::call::{CallBackend, CallLine};
use crate::server::outbox::ClientOutbox;

/// Real calls over SIP: the backend of `sipdeck gateway`.
pub struct SipBackend {
    pub calls: SipCallContext,
}

impl CallBackend for SipBackend {
    type Line = SipLine;

    fn open_line(&self, out: ClientOutbox) -> SipLine {
        let registration = self.calls.registration.clone().map(|state| tokio::spawn(tell_registration(state, out.clone())));
        SipLine { calls: self.calls.clone(), out, call: None, registration }
    }
}

/// The registration told to one client as a status line: where it stands when the client
/// connects (unless the first REGISTER is still out), then every change.
async fn tell_registration(mut state: tokio::sync::watch::Receiver<register::RegState>, out: ClientOutbox) {
    let now = state.borrow_and_update().clone();
    if now != register::RegState::Registering {
        out.line(now.status_line()).await;
    }
    while state.changed().await.is_ok() {
        let line = state.borrow_and_update().status_line();
        out.line(line).await;
    }
}

/// One client's line on the gateway: at most one SIP call at a time.
pub struct SipLine {
    calls: SipCallContext,
    out: ClientOutbox,
    call: Option<SipCall>,
    /// Tells this client when the registration changes (with `--register`).
    registration: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for SipLine {
    fn drop(&mut self) {
        if let Some(task) = self.registration.take() {
            task.abort();
        }
    }
}

impl SipLine {
    /// The live call, forgetting one that has ended.
    fn live_call(&mut self) -> Option<&SipCall> {
        if self.call.as_ref().is_some_and(SipCall::is_over) {
            self.call = None;
        }
        self.call.as_ref()
    }
}

impl CallLine for SipLine {
    fn in_call(&mut self) -> bool {
        self.live_call().is_some()
    }

    async fn dial(&mut self, number: Number) {
        self.call = Some(SipCall::start(self.calls.clone(), number, self.out.clone()));
    }

    async fn hangup(&mut self) {
        if let Some(call) = self.live_call() {
            call.hangup().await;
        }
    }

    fn can_play(&mut self) -> Result<(), String> {
        match self.live_call() {
            Some(_) => Ok(()),
            None => Err("there is no call in progress".to_string()),
        }
    }

    async fn play(&mut self, name: WavName, ulaw: Vec<u8>) {
        if let Some(call) = self.live_call() {
            call.play(name, ulaw).await;
        }
    }

    async fn dtmf(&mut self, digits: DtmfDigits) {
        if let Some(call) = self.live_call() {
            call.dtmf(digits).await;
        }
    }

    async fn close(mut self, grace: Duration) {
        if let Some(task) = self.registration.take() {
            task.abort();
        }
        if let Some(call) = self.call.take() {
            call.finish(grace).await;
        }
    }
}
