//! A call-quality score: the ITU-T G.107 E-model rating R and the MOS it maps to, from the
//! codec, the packet loss (with its burstiness) and the delay a jitter buffer adds.
//!
//! # The formula (G.107 (06/2015), §3 and Annex B)
//!
//! ```text
//! R = Ro - Is - Id - Ie,eff + A
//! ```
//!
//! * `Ro = 15 - 1.5 (SLR + No)`: the basic signal-to-noise ratio, `No` the total noise of the
//!   circuit, room and terminals (§3.3).
//! * `Is = Iolr + Ist + Iq`: impairments simultaneous with speech (loudness, sidetone,
//!   quantisation; §3.4).
//! * `Id = Idte + Idle + Idd`: delay impairments: talker echo, listener echo, and absolute
//!   delay `Idd = 25 {(1 + X^6)^(1/6) - 3 (1 + (X/3)^6)^(1/6) + 2}`, `X = log2(Ta / 100)`
//!   for `Ta > 100 ms`, else 0 (§3.5).
//! * `Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)`: the equipment impairment under
//!   packet loss, `Ppl` in percent (§3.6).
//! * `A = 0`: no advantage of access (a wired call).
//!
//! All of it is computed, not tabulated, with every terminal and circuit parameter at its
//! G.107 Table 1 default (SLR 8, RLR 2, STMR 15, LSTR 18, Ds = Dr = 3, TELR 65 dB, WEPL 110,
//! qdu 1, Nc -70 dBm0p, Nfor -64 dBmp, Ps = Pr = 35 dB(A)). With those and no delay or loss,
//! `R = 93.2` and MOS 4.41, G.107's reference point.
//!
//! # What this program supplies
//!
//! * **Codec** (G.113 Appendix I, Table I.1): G.711 has `Ie = 0`; `Bpl = 25.1` when the
//!   listener conceals lost packets (G.711 Appendix I PLC), 4.3 when a loss is heard as a gap
//!   of silence. sipdeck's own recording fills gaps with silence, so [`Concealment::Silence`]
//!   is what the saved file sounds like; [`Concealment::Plc`] what a typical phone would play.
//!   Other codecs are not scored (`None`): their `Ie` and `Bpl` depend on the codec's mode.
//! * **Ppl**: lost / expected, in percent (RFC 3550 A.3 counts, duplicates excluded).
//! * **BurstR** (G.107 §3.6): the mean length of the observed loss runs divided by the mean
//!   run length random (Bernoulli) loss of the same rate would give, `1 / (1 - p)`:
//!   `BurstR = (lost / runs) (1 - p)`. This equals G.107's two-state Markov definition
//!   `1 / (p' + q')`, since the Markov mean run is `1/q'` and `p = p'/(p'+q')`. With no loss
//!   runs seen it is 1 (random).
//! * **Delay** (mouth-to-ear `Ta`): sipdeck sees no RTCP, so the network's delay is not
//!   measured. It is a configurable base ([`Profile::base_delay_ms`], default 50 ms: 20 ms of
//!   packetisation, 20 ms of minimum playout buffer, 10 ms of a short network path) plus the
//!   jitter buffer, sized at twice the RFC 3550 interarrival jitter, a common adaptive-buffer
//!   rule. The echo paths follow the planning convention of a four-wire connection with echo
//!   control: `T = Ta` (talker echo) and `Tr = 2 Ta` (listener echo round trip).
//!
//! R maps to MOS by Annex B: 1 below 0, 4.5 above 100, and
//! `MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6` between (never below 1: the cubic dips to
//! 0.99 for R under 6.5).

use super::StreamStats;
use crate::core::rtp::Codec;

/// How the listener's decoder treats a lost packet; sets G.113's `Bpl` for G.711.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concealment {
    /// Lost packets are heard as silence, as in sipdeck's recordings: `Bpl = 4.3`.
    Silence,
    /// G.711 Appendix I packet loss concealment: `Bpl = 25.1`.
    Plc,
}

/// The assumptions behind a score that the packets cannot tell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    pub concealment: Concealment,
    /// Mouth-to-ear delay apart from the jitter buffer, in ms.
    pub base_delay_ms: f64,
    /// Jitter buffer depth as a multiple of the interarrival jitter.
    pub jitter_buffer_factor: f64,
}

impl Default for Profile {
    fn default() -> Profile {
        Profile { concealment: Concealment::Silence, base_delay_ms: 50.0, jitter_buffer_factor: 2.0 }
    }
}

/// What the E-model is fed: the measured figures of a stream or a call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inputs {
    /// Packet loss in percent.
    pub ppl: f64,
    pub burst_r: f64,
    /// Mouth-to-ear delay in ms.
    pub delay_ms: f64,
}

/// A rating and the parts that made it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub r: f64,
    pub mos: f64,
    pub ie_eff: f64,
    pub id: f64,
    pub inputs: Inputs,
}

/// Loss counts from which `Ppl` and `BurstR` follow.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Loss {
    pub expected: u64,
    pub lost: u64,
    /// Runs of consecutive lost packets.
    pub runs: u64,
}

impl Loss {
    pub fn of_stream(s: &StreamStats) -> Loss {
        Loss { expected: s.expected(), lost: s.lost(), runs: s.seq.loss_runs() }
    }

    /// The loss of several streams taken together.
    pub fn add(self, other: Loss) -> Loss {
        Loss { expected: self.expected + other.expected, lost: self.lost + other.lost, runs: self.runs + other.runs }
    }

    /// Loss in percent.
    pub fn ppl(&self) -> f64 {
        if self.expected == 0 {
            return 0.0;
        }
        100.0 * self.lost.min(self.expected) as f64 / self.expected as f64
    }

    /// Mean observed run length over the mean run length of random loss at the same rate.
    pub fn burst_r(&self) -> f64 {
        if self.runs == 0 || self.lost == 0 {
            return 1.0;
        }
        let p = self.ppl() / 100.0;
        (self.lost as f64 / self.runs as f64) * (1.0 - p)
    }
}

/// G.711's `Ie` and `Bpl` (G.113 Appendix I); other codecs are not scored.
fn codec_impairment(codec: Codec, concealment: Concealment) -> Option<(f64, f64)> {
    match codec {
        Codec::Pcmu | Codec::Pcma => Some((0.0, match concealment {
            Concealment::Silence => 4.3,
            Concealment::Plc => 25.1,
        })),
        _ => None,
    }
}

impl Profile {
    /// Mouth-to-ear delay for an interarrival jitter of `jitter_ms`.
    pub fn delay_ms(&self, jitter_ms: f64) -> f64 {
        self.base_delay_ms + self.jitter_buffer_factor * jitter_ms.max(0.0)
    }

    /// The score of one stream from its statistics; `None` for codecs other than G.711.
    pub fn score_stream(&self, s: &StreamStats) -> Option<Score> {
        self.score(s.codec(), Loss::of_stream(s), s.jitter.millis())
    }

    /// The score of a call from its streams: loss pooled over them, the worst jitter.
    /// `None` when no stream is G.711.
    pub fn score_call<'a>(&self, streams: impl IntoIterator<Item = &'a StreamStats>) -> Option<Score> {
        let mut loss = Loss::default();
        let mut jitter: f64 = 0.0;
        let mut codec = None;
        for s in streams.into_iter().filter(|s| codec_impairment(s.codec(), self.concealment).is_some()) {
            loss = loss.add(Loss::of_stream(s));
            jitter = jitter.max(s.jitter.millis());
            codec.get_or_insert(s.codec());
        }
        self.score(codec?, loss, jitter)
    }

    pub fn score(&self, codec: Codec, loss: Loss, jitter_ms: f64) -> Option<Score> {
        let (ie, bpl) = codec_impairment(codec, self.concealment)?;
        let inputs = Inputs { ppl: loss.ppl(), burst_r: loss.burst_r(), delay_ms: self.delay_ms(jitter_ms) };
        Some(rate(ie, bpl, inputs))
    }
}

/// The E-model with G.107's default terminal and circuit parameters.
pub fn rate(ie: f64, bpl: f64, inputs: Inputs) -> Score {
    let ie_eff = ie_eff(ie, bpl, inputs.ppl, inputs.burst_r);
    let id = id(inputs.delay_ms);
    // A few powers and logs: cheap next to a tick, so nothing is cached.
    let r = ro() - is() - id - ie_eff;
    Score { r, mos: mos(r), ie_eff, id, inputs }
}

/// `Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)` (G.107 eq. 7-29).
pub fn ie_eff(ie: f64, bpl: f64, ppl: f64, burst_r: f64) -> f64 {
    let ppl = ppl.clamp(0.0, 100.0);
    let burst_r = burst_r.max(f64::MIN_POSITIVE);
    ie + (95.0 - ie) * ppl / (ppl / burst_r + bpl)
}

/// R to MOS (G.107 Annex B, eq. B-4). The cubic dips just below 1 for R under about 6.5;
/// MOS has no value below 1, so it is clamped there.
pub fn mos(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6).max(1.0)
    }
}

// G.107 Table 1 defaults.
const SLR: f64 = 8.0;
const RLR: f64 = 2.0;
const STMR: f64 = 15.0;
const DR: f64 = 3.0;
const DS: f64 = 3.0;
const TELR: f64 = 65.0;
const WEPL: f64 = 110.0;
const QDU: f64 = 1.0;
const NC: f64 = -70.0;
const NFOR: f64 = -64.0;
const PS: f64 = 35.0;
const PR: f64 = 35.0;
const OLR: f64 = SLR + RLR;
const LSTR: f64 = STMR + DR;

/// `No`, the total noise (eq. 7-2 to 7-6), about -61.2 dBm0p with the defaults.
fn no() -> f64 {
    let nos = PS - SLR - DS - 100.0 + 0.004 * (PS - OLR - DS - 14.0).powi(2);
    let pre = PR + 10.0 * (1.0 + 10f64.powf((10.0 - LSTR) / 10.0)).log10();
    let nor = RLR - 121.0 + pre + 0.008 * (pre - 35.0).powi(2);
    let nfo = NFOR + RLR;
    let p = |x: f64| 10f64.powf(x / 10.0);
    10.0 * (p(NC) + p(nos) + p(nor) + p(nfo)).log10()
}

/// `Ro = 15 - 1.5 (SLR + No)` (eq. 7-1).
fn ro() -> f64 {
    15.0 - 1.5 * (SLR + no())
}

/// `Is = Iolr + Ist + Iq` (eq. 7-7 to 7-15), at T = 0 for the sidetone term.
fn is() -> f64 {
    let ro = ro();
    let xolr = OLR + 0.2 * (64.0 + no() - RLR);
    let iolr = 20.0 * ((1.0 + (xolr / 8.0).powi(8)).powf(1.0 / 8.0) - xolr / 8.0);
    let stmro = -10.0 * (10f64.powf(-STMR / 10.0) + 10f64.powf(-TELR / 10.0)).log10();
    let ist = 12.0 * (1.0 + ((stmro - 13.0) / 6.0).powi(8)).powf(1.0 / 8.0)
        - 28.0 * (1.0 + ((stmro + 1.0) / 19.4).powi(35)).powf(1.0 / 35.0)
        - 13.0 * (1.0 + ((stmro - 3.0) / 33.0).powi(13)).powf(1.0 / 13.0)
        + 29.0;
    let q = 37.0 - 15.0 * QDU.log10();
    let g = 1.07 + 0.258 * q + 0.0602 * q * q;
    let y = (ro - 100.0) / 15.0 + 46.0 / 8.4 - g / 9.0;
    let z = 46.0 / 30.0 - g / 40.0;
    let iq = 15.0 * (1.0 + 10f64.powf(y) + 10f64.powf(z)).log10();
    iolr + ist + iq
}

/// `Id = Idte + Idle + Idd` for a mouth-to-ear delay `ta` (ms), with `T = Ta`, `Tr = 2 Ta`.
pub fn id(ta: f64) -> f64 {
    let ta = ta.max(0.0);
    idte(ta) + idle(2.0 * ta) + idd(ta)
}

/// Talker echo (eq. 7-16 to 7-19), `t` the one-way echo path delay in ms.
fn idte(t: f64) -> f64 {
    let roe = -1.5 * (no() - RLR);
    let terv = TELR - 40.0 * ((1.0 + t / 10.0) / (1.0 + t / 150.0)).log10() + 6.0 * (-0.3 * t * t).exp();
    let re = 80.0 + 2.5 * (terv - 14.0);
    let d = roe - re;
    (d / 2.0 + (d * d / 4.0 + 100.0).sqrt() - 1.0) * (1.0 - (-t).exp())
}

/// Listener echo (eq. 7-24, 7-25), `tr` the round-trip delay in ms.
fn idle(tr: f64) -> f64 {
    let rle = 10.5 * (WEPL + 7.0) * (tr + 1.0).powf(-0.25);
    let d = ro() - rle;
    d / 2.0 + (d * d / 4.0 + 169.0).sqrt()
}

/// Absolute delay (eq. 7-26, 7-27).
fn idd(ta: f64) -> f64 {
    if ta <= 100.0 {
        return 0.0;
    }
    let x = (ta / 100.0).log2();
    25.0 * ((1.0 + x.powi(6)).powf(1.0 / 6.0) - 3.0 * (1.0 + (x / 3.0).powi(6)).powf(1.0 / 6.0) + 2.0)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::core::rtp::RtpHeader;

    fn close(got: f64, want: f64, tol: f64, what: &str) {
        assert!((got - want).abs() <= tol, "{what}: got {got:.4}, want {want} +- {tol}");
    }

    #[test]
    fn defaults_give_g107s_reference_point() {
        // No ≈ -61.18 dBm0p, Ro ≈ 94.77, Is ≈ 1.43 (G.107 §7 with Table 1 defaults).
        close(no(), -61.18, 0.01, "No");
        close(ro(), 94.77, 0.01, "Ro");
        close(is(), 1.43, 0.02, "Is");
        let s = rate(0.0, 4.3, Inputs { ppl: 0.0, burst_r: 1.0, delay_ms: 0.0 });
        close(s.r, 93.2, 0.05, "R");
        close(s.mos, 4.41, 0.005, "MOS");
    }

    #[test]
    fn r_to_mos_follows_annex_b() {
        assert_eq!((mos(-5.0), mos(0.0), mos(100.0), mos(120.0)), (1.0, 1.0, 4.5, 4.5));
        // The cubic alone gives 0.99 at R = 4.3; a MOS is never below 1.
        assert_eq!(mos(4.3), 1.0);
        close(mos(93.2), 4.41, 0.005, "93.2");
        close(mos(80.0), 4.02, 0.005, "80");
        close(mos(70.0), 3.60, 0.005, "70");
        close(mos(50.0), 2.575, 0.001, "50");
    }

    #[test]
    fn packet_loss_per_g113_appendix_i() {
        // G.711 with PLC (Bpl 25.1), 1 % random loss: 95 / 26.1 = 3.64.
        close(ie_eff(0.0, 25.1, 1.0, 1.0), 3.64, 0.005, "PLC 1%");
        // Without PLC (Bpl 4.3) the same loss costs far more: 95 / 5.3 = 17.92.
        close(ie_eff(0.0, 4.3, 1.0, 1.0), 17.92, 0.005, "silence 1%");
        // Bursty loss hurts more at equal Ppl: BurstR 2 at 2 % with PLC is 190 / 26.1 = 7.28
        // against 190 / 27.1 = 7.01 random.
        close(ie_eff(0.0, 25.1, 2.0, 2.0), 7.28, 0.005, "bursty 2%");
        close(ie_eff(0.0, 25.1, 2.0, 1.0), 7.01, 0.005, "random 2%");
        // Total loss tends to 95: nothing gets through.
        close(ie_eff(0.0, 25.1, 100.0, 1.0), 75.94, 0.01, "100%");
        let s = rate(0.0, 25.1, Inputs { ppl: 1.0, burst_r: 1.0, delay_ms: 0.0 });
        close(s.r, 93.2 - 3.64, 0.05, "R at 1% PLC");
    }

    #[test]
    fn delay_per_g107() {
        // Up to 100 ms only the echo terms count, and they are small with TELR 65 dB.
        assert_eq!(idd(100.0), 0.0);
        close(id(0.0), 0.15, 0.01, "Id(0)");
        // The widely used fit of G.107's delay curve (Cole & Rosenbluth 2001),
        // Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3): 3.6 at 150 ms, 20.7 at 300 ms.
        close(id(150.0), 3.6, 0.3, "Id(150)");
        close(id(300.0), 20.7, 0.3, "Id(300)");
        close(idd(300.0), 14.76, 0.01, "Idd(300)");
        // G.114's planning figures: 150 ms keeps MOS above 4.3, 300 ms drops R below 75.
        let at = |ms| rate(0.0, 4.3, Inputs { ppl: 0.0, burst_r: 1.0, delay_ms: ms });
        assert!(at(150.0).mos > 4.3, "{:?}", at(150.0));
        assert!(at(300.0).r < 75.0 && at(300.0).r > 70.0, "{:?}", at(300.0));
    }

    #[test]
    fn burst_ratio_from_loss_runs() {
        // 20 lost of 1000 in 20 runs of one: random loss, BurstR = 1 * (1 - 0.02) = 0.98.
        let random = Loss { expected: 1000, lost: 20, runs: 20 };
        close(random.burst_r(), 0.98, 1e-9, "single losses");
        // The same 20 in 5 runs of 4: four times burstier.
        close(Loss { runs: 5, ..random }.burst_r(), 3.92, 1e-9, "runs of 4");
        assert_eq!(Loss::default().burst_r(), 1.0);
        assert_eq!(Loss::default().ppl(), 0.0);
        close(random.add(random).ppl(), 2.0, 1e-9, "pooled");
    }

    #[test]
    fn a_stream_is_scored_from_its_statistics() {
        let t0 = Instant::now();
        let h = |seq: u16| RtpHeader { payload_type: 0, sequence: seq, timestamp: 160 * seq as u32, ssrc: 7, marker: false };
        let mut out = Vec::new();
        let mut s = StreamStats::open(&h(0), &[0xff; 160], 172, t0, &mut out);
        // 500 packets, perfectly timed, two lost in one run (seq 100 and 101).
        for seq in (1..500).filter(|&q| q != 100 && q != 101) {
            s.on_packet(&h(seq), &[0xff; 160], 172, t0 + Duration::from_millis(20 * seq as u64), &mut out);
        }
        assert_eq!((s.lost(), s.seq.loss_runs()), (2, 1));
        let p = Profile::default();
        let score = p.score_stream(&s).unwrap();
        close(score.inputs.ppl, 0.4, 1e-9, "Ppl");
        close(score.inputs.burst_r, 2.0 * 0.996, 1e-9, "BurstR");
        close(score.inputs.delay_ms, 50.0, 1e-6, "delay");
        let want = ie_eff(0.0, 4.3, 0.4, 1.992);
        close(score.ie_eff, want, 1e-9, "Ie,eff");
        close(score.r, ro() - is() - id(50.0) - want, 1e-9, "R");
        assert_eq!(p.score_call([&s]), Some(score));
        // Another codec is not scored.
        let g729 = RtpHeader { payload_type: 18, ..h(0) };
        let other = StreamStats::open(&g729, &[0; 20], 32, t0, &mut out);
        assert_eq!(p.score_stream(&other), None);
        assert_eq!(p.score_call([&other]), None);
        assert_eq!(p.score_call([&other, &s]), Some(score));
    }
}
