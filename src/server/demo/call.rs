//! The demo's line: a simulated call that rings, answers (or is busy) and streams a tone,
//! and plays uploads back to the client, inside a call or not.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::stream::{DemoStream, StreamCmd};
use super::DemoConfig;
use crate::core::protocol::{DtmfDigits, Number, WavName};
use crate::server::call::{CallBackend, CallLine};
use crate::server::outbox::ClientOutbox;

/// How long the demo's far end takes for each DTMF digit, and between two.
const DEMO_DTMF_TONE: Duration = Duration::from_millis(100);
const DEMO_DTMF_GAP: Duration = Duration::from_millis(60);

/// Simulated calls: the backend of the demo peer.
pub struct SimulatedCalls {
    pub cfg: DemoConfig,
}

impl CallBackend for SimulatedCalls {
    type Line = SimulatedLine;

    fn open_line(&self, out: ClientOutbox) -> SimulatedLine {
        let stream = DemoStream::spawn(self.cfg.clone(), out.clone());
        SimulatedLine { cfg: self.cfg.clone(), out, stream, call: None }
    }
}

pub struct SimulatedLine {
    cfg: DemoConfig,
    out: ClientOutbox,
    stream: mpsc::Sender<StreamCmd>,
    /// The simulated call's progress task while a call exists.
    call: Option<JoinHandle<()>>,
}

impl SimulatedLine {
    async fn stop(&mut self) {
        if let Some(c) = self.call.take() {
            c.abort();
        }
        let _ = self.stream.send(StreamCmd::StopAll).await;
    }
}

impl Drop for SimulatedLine {
    /// A session task that is aborted (the demo server dropped) must not leave its
    /// simulated call, and with it the tone, running.
    fn drop(&mut self) {
        if let Some(c) = self.call.take() {
            c.abort();
        }
    }
}

impl CallLine for SimulatedLine {
    fn in_call(&mut self) -> bool {
        self.call.as_ref().is_some_and(|c| !c.is_finished())
    }

    async fn dial(&mut self, number: Number) {
        self.out.line(format!("Calling {number}")).await;
        let (out, stream, cfg) = (self.out.clone(), self.stream.clone(), self.cfg.clone());
        // Numbers ending in 486 are busy, to show a failed call.
        let busy = number.as_str().ends_with("486");
        self.call = Some(tokio::spawn(async move {
            tokio::time::sleep(cfg.ring_after).await;
            out.line("Ringing").await;
            tokio::time::sleep(cfg.answer_after).await;
            if busy {
                out.line("Call failed: 486 Busy Here").await;
                return;
            }
            out.line("Call answered").await;
            let _ = stream.send(StreamCmd::Tone(true)).await;
            // The call lasts until HANGUP; this task just holds its place.
            std::future::pending::<()>().await;
        }));
    }

    async fn hangup(&mut self) {
        self.stop().await;
        self.out.line("Call ended").await;
    }

    fn can_play(&mut self) -> Result<(), String> {
        Ok(())
    }

    async fn play(&mut self, name: WavName, ulaw: Vec<u8>) {
        let secs = ulaw.len() as f64 / 8000.0;
        let mode = if self.in_call() { "" } else { " (no call: played back to you only)" };
        self.out.line(format!("Playing {name} ({secs:.1} s){mode}")).await;
        let _ = self.stream.send(StreamCmd::Play { name, ulaw }).await;
    }

    /// The simulated far end takes the digits at a keypad's pace (100 ms tone, 60 ms gap)
    /// and the client hears they were sent, as from the gateway.
    async fn dtmf(&mut self, digits: DtmfDigits) {
        let out = self.out.clone();
        let pace = DEMO_DTMF_TONE + DEMO_DTMF_GAP;
        tokio::spawn(async move {
            tokio::time::sleep(pace * digits.as_str().len() as u32).await;
            tracing::info!(%digits, "demo far end heard DTMF");
            out.line(format!("DTMF sent: {digits}")).await;
        });
    }

    async fn close(mut self, _grace: Duration) {
        self.stop().await;
    }
}
