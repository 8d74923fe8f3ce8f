//! The demo's RTP source: one task per client that paces 20 ms packets of a tone or of a
//! played file, with optional loss, reordering and a simulated crash for tests.

use std::time::Instant;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::DemoConfig;
use crate::core::audio::{Tone, ULAW_SILENCE};
use crate::core::protocol::{encode_rtp, WavName};
use crate::core::rtp;
use crate::server::media::{RtpPacketiser, PT_PCMU, SAMPLES_PER_PACKET};
use crate::server::outbox::ClientOutbox;

pub(crate) enum StreamCmd {
    Tone(bool),
    Play { name: WavName, ulaw: Vec<u8> },
    StopAll,
}

/// What the simulated far end is sending.
pub(crate) struct DemoStream {
    cfg: DemoConfig,
    out: ClientOutbox,
    tone: Tone,
    tone_on: bool,
    playing: Option<(WavName, Vec<u8>, usize)>,
    packetiser: RtpPacketiser,
    packet: Vec<u8>,
    /// Packets generated, dropped ones included.
    generated: u64,
    sent: u64,
    held: Option<String>,
    /// The next packet starts a talkspurt (marker bit).
    spurt_start: bool,
}

/// Whether the stream goes on after a packet.
enum Sent {
    More,
    ClientGone,
}

impl DemoStream {
    pub(crate) fn spawn(cfg: DemoConfig, out: ClientOutbox) -> mpsc::Sender<StreamCmd> {
        let (tx, rx) = mpsc::channel(16);
        let tone = Tone::new(cfg.tone_hz, 8000.0, 0.5);
        let s = DemoStream {
            cfg,
            out,
            tone,
            tone_on: false,
            playing: None,
            packetiser: RtpPacketiser::random(PT_PCMU),
            packet: Vec::with_capacity(rtp::HEADER_LEN + SAMPLES_PER_PACKET),
            generated: 0,
            sent: 0,
            held: None,
            spurt_start: true,
        };
        tokio::spawn(s.run(rx));
        tx
    }

    fn active(&self) -> bool {
        self.tone_on || self.playing.is_some()
    }

    async fn run(mut self, mut rx: mpsc::Receiver<StreamCmd>) {
        let mut tick = tokio::time::interval(self.cfg.packet_interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None => return,
                    Some(StreamCmd::Tone(on)) => { self.tone_on = on; self.spurt_start = true; }
                    Some(StreamCmd::Play { name, ulaw }) => { self.playing = Some((name, ulaw, 0)); self.spurt_start = true; }
                    Some(StreamCmd::StopAll) => { self.tone_on = false; self.playing = None; self.flush_held().await; }
                },
                _ = tick.tick(), if self.active() => {
                    if let Sent::ClientGone = self.send_next().await {
                        return;
                    }
                }
            }
        }
    }

    async fn flush_held(&mut self) {
        if let Some(p) = self.held.take() {
            self.out.rtp_waiting(p).await;
        }
    }

    /// The next payload: the played file's next 160 bytes, or the tone's.
    fn next_payload(&mut self, payload: &mut [u8; SAMPLES_PER_PACKET]) -> Option<WavName> {
        let Some((name, data, pos)) = self.playing.as_mut() else {
            self.tone.fill_ulaw(payload);
            return None;
        };
        let n = (data.len() - *pos).min(SAMPLES_PER_PACKET);
        payload[..n].copy_from_slice(&data[*pos..*pos + n]);
        *pos += n;
        (*pos >= data.len()).then(|| name.clone())
    }

    /// Build and send one packet, applying the loss and reorder knobs.
    async fn send_next(&mut self) -> Sent {
        let mut payload = [ULAW_SILENCE; SAMPLES_PER_PACKET];
        let finished = self.next_payload(&mut payload);
        let marker = std::mem::take(&mut self.spurt_start);
        // A dropped packet still uses up its sequence number: real loss.
        self.packetiser.write_next(&mut self.packet, &payload, marker, ULAW_SILENCE, Instant::now());
        self.generated += 1;
        if let Some(name) = finished {
            self.playing = None;
            self.out.line(format!("Finished playing {name}")).await;
        }
        let n = self.generated;
        if self.cfg.drop_every.is_some_and(|k| k > 0 && n.is_multiple_of(k as u64)) {
            return Sent::More;
        }
        let text = encode_rtp(&self.packet);
        if self.cfg.reorder_every.is_some_and(|k| k > 0 && n.is_multiple_of(k as u64)) && self.held.is_none() {
            self.held = Some(text);
            return Sent::More;
        }
        if !self.out.rtp_waiting(text).await {
            return Sent::ClientGone;
        }
        self.sent += 1;
        if let Some(late) = self.held.take() {
            if !self.out.rtp_waiting(late).await {
                return Sent::ClientGone;
            }
            self.sent += 1;
        }
        if self.cfg.close_after_packets.is_some_and(|k| self.sent >= k) {
            // Simulate a crash: the connection drops without a close frame.
            self.out.abort().await;
            return Sent::ClientGone;
        }
        Sent::More
    }
}
