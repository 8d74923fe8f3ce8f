//! The demo peer's RTP sender: one task per client that paces 20 ms packets of a tone or of
//! a played file, with optional loss and reordering for tests.

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::{DemoConfig, Out};
use crate::core::audio::{Tone, ULAW_SILENCE};
use crate::core::protocol::{encode_rtp, WavName};
use crate::core::rtp::RtpHeader;

const SAMPLES: usize = 160;

pub(crate) enum MediaCmd {
    Tone(bool),
    Play { name: WavName, ulaw: Vec<u8> },
    StopAll,
}

pub(crate) struct Media {
    cfg: DemoConfig,
    out: mpsc::Sender<Out>,
    tone: Tone,
    tone_on: bool,
    playing: Option<(WavName, Vec<u8>, usize)>,
    header: RtpHeader,
    /// Packets generated, dropped ones included.
    generated: u64,
    sent: u64,
    held: Option<String>,
    /// The next packet starts a talkspurt (marker bit).
    spurt_start: bool,
}

impl Media {
    pub(crate) fn spawn(cfg: DemoConfig, out: mpsc::Sender<Out>) -> mpsc::Sender<MediaCmd> {
        let (tx, rx) = mpsc::channel(16);
        let tone = Tone::new(cfg.tone_hz, 8000.0, 0.5);
        let header = RtpHeader {
            marker: false,
            payload_type: 0,
            sequence: fastrand::u16(..),
            timestamp: fastrand::u32(..),
            ssrc: fastrand::u32(..),
        };
        let m = Media { cfg, out, tone, tone_on: false, playing: None, header, generated: 0, sent: 0, held: None, spurt_start: true };
        tokio::spawn(m.run(rx));
        tx
    }

    fn active(&self) -> bool {
        self.tone_on || self.playing.is_some()
    }

    async fn run(mut self, mut rx: mpsc::Receiver<MediaCmd>) {
        let mut tick = tokio::time::interval(self.cfg.packet_interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None => return,
                    Some(MediaCmd::Tone(on)) => { self.tone_on = on; self.spurt_start = true; }
                    Some(MediaCmd::Play { name, ulaw }) => { self.playing = Some((name, ulaw, 0)); self.spurt_start = true; }
                    Some(MediaCmd::StopAll) => { self.tone_on = false; self.playing = None; self.flush_held().await; }
                },
                _ = tick.tick(), if self.active() => {
                    if !self.send_next().await {
                        return;
                    }
                }
            }
        }
    }

    async fn flush_held(&mut self) {
        if let Some(p) = self.held.take() {
            let _ = self.out.send(Out::Text(p)).await;
        }
    }

    /// Build and send one packet. False when the client is gone or the demo is told to crash.
    async fn send_next(&mut self) -> bool {
        let mut payload = [ULAW_SILENCE; SAMPLES];
        let mut finished = None;
        if let Some((name, data, pos)) = self.playing.as_mut() {
            let n = (data.len() - *pos).min(SAMPLES);
            payload[..n].copy_from_slice(&data[*pos..*pos + n]);
            *pos += n;
            if *pos >= data.len() {
                finished = Some(name.clone());
            }
        } else {
            self.tone.fill_ulaw(&mut payload);
        }
        self.header.marker = std::mem::take(&mut self.spurt_start);
        let mut pkt = Vec::with_capacity(12 + SAMPLES);
        self.header.write(&mut pkt);
        pkt.extend_from_slice(&payload);
        self.header.sequence = self.header.sequence.wrapping_add(1);
        self.header.timestamp = self.header.timestamp.wrapping_add(SAMPLES as u32);
        self.generated += 1;
        if let Some(name) = finished {
            self.playing = None;
            let _ = self.out.send(Out::Text(format!("Finished playing {name}"))).await;
        }
        let n = self.generated;
        if self.cfg.drop_every.is_some_and(|k| k > 0 && n.is_multiple_of(k as u64)) {
            return true;
        }
        let text = encode_rtp(&pkt);
        if self.cfg.reorder_every.is_some_and(|k| k > 0 && n.is_multiple_of(k as u64)) && self.held.is_none() {
            self.held = Some(text);
            return true;
        }
        if self.out.send(Out::Text(text)).await.is_err() {
            return false;
        }
        self.sent += 1;
        if let Some(late) = self.held.take() {
            if self.out.send(Out::Text(late)).await.is_err() {
                return false;
            }
            self.sent += 1;
        }
        if self.cfg.close_after_packets.is_some_and(|k| self.sent >= k) {
            let _ = self.out.send(Out::Abort).await;
            return false;
        }
        true
    }
}
