//! Property-based fuzzing of everything that reads bytes from outside: the server-message
//! parser and the actor's frame parsing, the RTP parser, the WAV header reader, and the
//! client-message parser of the demo peer and gateway.
//!
//! cargo-fuzz needs a nightly toolchain, so these are proptest properties that run inside
//! `cargo test`. `PROPTEST_CASES` sets the cases per property (default [`DEFAULT_CASES`]);
//! a failing input is shrunk and saved to `proptest-regressions/fuzz.txt`, which is committed
//! and replayed first on every later run.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use sipdeck::client::net::{self, NetEvent};
use sipdeck::core::protocol::{self, ClientMsg, Number, ServerMsg, WavName};
use sipdeck::core::rtp::{self, RtpHeader};
use sipdeck::core::audio::Law;
use sipdeck::core::wav;

/// Cases per property when `PROPTEST_CASES` is not set: the 13 properties of this file take
/// 6 to 10 seconds together in release mode on two cores (CI runs `cargo test --release`);
/// debug builds, several times slower, run a sixteenth of that.
const DEFAULT_CASES: u32 = if cfg!(debug_assertions) { 4096 } else { 65_536 };

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        // Strategies that filter reject a share of cases; let that scale with long runs.
        max_local_rejects: cases.max(65_536),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/fuzz.txt"
        )))),
        ..ProptestConfig::default()
    }
}

// ---- server messages and the actor's frame parsing -------------------------------------

/// Text that often starts like a real server message.
fn server_text() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("RTP:"),
        Just("WAV_ACK:"),
        Just("rtp:"),
        Just("RTP"),
        Just("WAV_ACK"),
    ];
    (prefix, any::<String>()).prop_map(|(p, s)| format!("{p}{s}"))
}

/// A plain reading of `hex` as the wire carries it: pairs of hex digits, any case.
fn decode_hex_independently(hex: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = hex.chars().map(|c| c.to_digit(16).map(|d| d as u8)).collect::<Option<_>>()?;
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    Some(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Every property of a frame the actor accepted as RTP.
fn check_frame(f: &net::RtpFrame, bytes: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(&f.bytes[..], bytes);
    prop_assert!(f.payload_offset + f.payload_len <= f.bytes.len());
    let p = rtp::parse(bytes).map_err(|e| TestCaseError::fail(format!("accepted a packet rtp::parse refuses: {e}")))?;
    prop_assert_eq!(f.header, p.header);
    prop_assert_eq!(f.payload(), p.payload);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn server_text_is_classified_by_its_prefix(text in server_text()) {
        let msg = ServerMsg::parse(&text);
        let ev = net::parse_text(&text);
        if let Some(rest) = text.strip_prefix("RTP:") {
            prop_assert_eq!(msg, ServerMsg::Rtp(rest.trim_end_matches(['\r', '\n'])));
            match ev {
                NetEvent::Rtp(f) => {
                    let bytes = decode_hex_independently(rest.trim_end_matches(['\r', '\n']));
                    prop_assert!(bytes.is_some(), "RTP accepted from bad hex {:?}", rest);
                    check_frame(&f, &bytes.unwrap_or_default())?;
                }
                NetEvent::Malformed { reason } => prop_assert!(!reason.is_empty()),
                other => prop_assert!(false, "RTP frame became {:?}", other),
            }
        } else if let Some(rest) = text.strip_prefix("WAV_ACK:") {
            prop_assert_eq!(msg, ServerMsg::WavAck(rest));
            prop_assert!(matches!(ev, NetEvent::WavAck(ref a) if a == rest));
        } else {
            prop_assert_eq!(msg, ServerMsg::Status(&text));
            prop_assert!(matches!(ev, NetEvent::Status(ref s) if *s == text));
        }
    }

    #[test]
    fn rtp_frames_of_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300),
                               upper in any::<bool>(), crlf in any::<bool>()) {
        let mut text = protocol::encode_rtp(&bytes);
        if upper {
            text = format!("RTP:{}", text[4..].to_ascii_uppercase());
        }
        if crlf {
            text.push_str("\r\n");
        }
        match net::parse_text(&text) {
            NetEvent::Rtp(f) => check_frame(&f, &bytes)?,
            NetEvent::Malformed { reason } => {
                prop_assert!(rtp::parse(&bytes).is_err(), "good packet refused: {}", reason);
                prop_assert!(reason.contains("not valid RTP"), "{}", reason);
            }
            other => prop_assert!(false, "RTP frame became {:?}", other),
        }
    }

    #[test]
    fn rtp_frames_of_near_hex_text(body in "[0-9a-fA-FgxG \r\n-]{0,80}", head in "(80|90|a0|b0|8f|00)?") {
        // A plausible first byte, then text that is hex most of the time.
        let hex = format!("{head}{body}");
        let text = format!("RTP:{hex}");
        let trimmed = hex.trim_end_matches(['\r', '\n']);
        match net::parse_text(&text) {
            NetEvent::Rtp(f) => {
                let bytes = decode_hex_independently(trimmed);
                prop_assert!(bytes.is_some(), "RTP accepted from bad hex {:?}", trimmed);
                check_frame(&f, &bytes.unwrap_or_default())?;
            }
            NetEvent::Malformed { .. } => {
                let valid = decode_hex_independently(trimmed).is_some_and(|b| rtp::parse(&b).is_ok());
                prop_assert!(!valid, "valid RTP refused: {:?}", trimmed);
            }
            other => prop_assert!(false, "RTP frame became {:?}", other),
        }
    }
}

// ---- RTP --------------------------------------------------------------------------------

/// An RTP packet described field by field, with ways to make it lie about itself.
#[derive(Debug, Clone)]
struct PacketSpec {
    version: u8,
    header: RtpHeader,
    csrcs: Vec<u32>,
    /// The CC field, when it should not match the CSRCs present.
    cc_lie: Option<u8>,
    extension: Option<(u16, Vec<u8>)>,
    /// The extension length in words, when it should not match the body present.
    ext_words_lie: Option<u16>,
    payload: Vec<u8>,
    /// Padding octets, the count octet included (0 is invalid on the wire).
    padding: Option<u8>,
    /// Cut the packet to this many bytes.
    cut: Option<usize>,
}

impl PacketSpec {
    fn honest(&self) -> bool {
        self.version == 2
            && self.cc_lie.is_none()
            && self.ext_words_lie.is_none()
            && self.padding != Some(0)
            && self.cut.is_none()
    }

    fn bytes(&self) -> Vec<u8> {
        let cc = self.cc_lie.unwrap_or(self.csrcs.len() as u8) & 0x0f;
        let b0 = (self.version & 3) << 6
            | (self.padding.is_some() as u8) << 5
            | (self.extension.is_some() as u8) << 4
            | cc;
        let mut out = vec![b0, (self.header.marker as u8) << 7 | (self.header.payload_type & 0x7f)];
        out.extend_from_slice(&self.header.sequence.to_be_bytes());
        out.extend_from_slice(&self.header.timestamp.to_be_bytes());
        out.extend_from_slice(&self.header.ssrc.to_be_bytes());
        for c in &self.csrcs {
            out.extend_from_slice(&c.to_be_bytes());
        }
        if let Some((profile, body)) = &self.extension {
            let words = self.ext_words_lie.unwrap_or((body.len() / 4) as u16);
            out.extend_from_slice(&profile.to_be_bytes());
            out.extend_from_slice(&words.to_be_bytes());
            out.extend_from_slice(body);
        }
        out.extend_from_slice(&self.payload);
        if let Some(n) = self.padding {
            out.extend(std::iter::repeat_n(0u8, (n as usize).saturating_sub(1)));
            out.push(n);
        }
        if let Some(cut) = self.cut {
            out.truncate(cut % (out.len() + 1));
        }
        out
    }
}

fn rtp_header() -> impl Strategy<Value = RtpHeader> {
    (any::<bool>(), 0u8..128, any::<u16>(), any::<u32>(), any::<u32>()).prop_map(
        |(marker, payload_type, sequence, timestamp, ssrc)| RtpHeader { marker, payload_type, sequence, timestamp, ssrc },
    )
}

fn packet_spec() -> impl Strategy<Value = PacketSpec> {
    let version = prop_oneof![8 => Just(2u8), 1 => 0u8..4];
    let csrcs = proptest::collection::vec(any::<u32>(), 0..=15);
    let lie = |s: BoxedStrategy<u16>| prop_oneof![4 => Just(None), 1 => s.prop_map(Some)];
    let extension = proptest::option::of((any::<u16>(), proptest::collection::vec(0u8..4, 0..6)))
        .prop_map(|e| e.map(|(p, words)| (p, words.iter().flat_map(|&w| [w; 4]).collect::<Vec<u8>>())));
    (
        version,
        rtp_header(),
        csrcs,
        lie((0u16..16).boxed()),
        extension,
        lie(any::<u16>().boxed()),
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::option::of(any::<u8>()),
        lie(any::<u16>().boxed()),
    )
        .prop_map(|(version, header, csrcs, cc_lie, extension, ext_words_lie, payload, padding, cut)| PacketSpec {
            version,
            header,
            csrcs,
            cc_lie: cc_lie.map(|c| c as u8),
            extension,
            ext_words_lie,
            payload,
            padding,
            cut: cut.map(usize::from),
        })
}

/// What must hold for any packet the parser accepts.
fn check_rtp_bounds(buf: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(p) = rtp::parse(buf) {
        let cc = (buf[0] & 0x0f) as usize;
        prop_assert_eq!(p.csrcs.len(), 4 * cc);
        prop_assert!(p.payload_offset >= rtp::HEADER_LEN + 4 * cc);
        prop_assert!(p.payload_offset + p.payload.len() <= buf.len());
        prop_assert_eq!(p.payload, &buf[p.payload_offset..p.payload_offset + p.payload.len()]);
        if let Some((_, body)) = p.extension {
            prop_assert!(rtp::HEADER_LEN + 4 * cc + 4 + body.len() == p.payload_offset);
        }
        prop_assert_eq!(p.csrc_iter().count(), cc);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn rtp_parse_any_bytes(buf in proptest::collection::vec(any::<u8>(), 0..128)) {
        check_rtp_bounds(&buf)?;
    }

    #[test]
    fn rtp_parse_structured(spec in packet_spec()) {
        let buf = spec.bytes();
        check_rtp_bounds(&buf)?;
        if spec.honest() {
            let p = rtp::parse(&buf).map_err(|e| TestCaseError::fail(format!("honest packet refused: {e}")))?;
            prop_assert_eq!(p.header, spec.header);
            prop_assert_eq!(p.csrc_iter().collect::<Vec<_>>(), spec.csrcs.clone());
            prop_assert_eq!(p.extension.map(|(id, b)| (id, b.to_vec())), spec.extension.clone());
            prop_assert_eq!(p.payload, &spec.payload[..]);
            prop_assert_eq!(p.padding, spec.padding.is_some());
        }
        if spec.version != 2 && buf.len() >= rtp::HEADER_LEN {
            prop_assert!(rtp::parse(&buf).is_err());
        }
    }

    #[test]
    fn rtp_build_parse_round_trip(header in rtp_header(), payload in proptest::collection::vec(any::<u8>(), 0..400)) {
        let pkt = rtp::build(&header, &payload);
        let p = rtp::parse(&pkt).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(p.header, header);
        prop_assert_eq!(p.payload, &payload[..]);
    }
}

// ---- WAV headers --------------------------------------------------------------------------

/// What must hold for any header the reader accepts, and what must never panic.
fn check_wav(file: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(info) = wav::parse_header(file) {
        prop_assert!(info.data_offset + info.data_len <= file.len());
        prop_assert!(info.data_len as u64 <= info.data_declared);
        prop_assert_eq!(info.truncated(), (info.data_len as u64) < info.data_declared);
        prop_assert!(info.channels > 0 && info.sample_rate > 0 && info.block_align > 0);
        prop_assert_eq!(info.data(file).len(), info.data_len);
        prop_assert!(info.duration_secs().is_finite());
    }
    // The gateway streams uploads through this; it must refuse, not panic.
    let _ = wav::phone_ulaw(file);
    Ok(())
}

/// A RIFF/WAVE file made of chunks whose declared sizes may lie.
fn chunked_wav() -> impl Strategy<Value = Vec<u8>> {
    let id = prop_oneof![Just(*b"fmt "), Just(*b"data"), Just(*b"fact"), Just(*b"LIST"), any::<[u8; 4]>()];
    let size = prop_oneof![
        3 => Just(None), // honest
        1 => any::<u32>().prop_map(Some),
        1 => Just(Some(u32::MAX)),
        1 => (0u32..64).prop_map(Some),
    ];
    let body = proptest::collection::vec(any::<u8>(), 0..64);
    proptest::collection::vec((id, size, body), 0..6).prop_map(|chunks| {
        let mut f = b"RIFF\0\0\0\0WAVE".to_vec();
        for (id, size, body) in chunks {
            f.extend_from_slice(&id);
            f.extend_from_slice(&size.unwrap_or(body.len() as u32).to_le_bytes());
            f.extend_from_slice(&body);
        }
        f
    })
}

/// A valid file this crate writes, then bytes overwritten, size fields replaced and cut.
fn mutated_wav() -> impl Strategy<Value = Vec<u8>> {
    let law = prop_oneof![Just(Law::MuLaw), Just(Law::ALaw)];
    let data = proptest::collection::vec(any::<u8>(), 0..300);
    let writer = any::<bool>();
    let pokes = proptest::collection::vec((0usize..80, any::<u8>()), 0..6);
    // RIFF size, fmt size, fact size, data size of the G.711 layout; data size of the PCM one.
    let size_at = prop_oneof![Just(4usize), Just(16), Just(42), Just(54), Just(40)];
    let sizes = proptest::collection::vec((size_at, any::<u32>()), 0..3);
    let cut = proptest::option::of(any::<u16>());
    (law, data, writer, pokes, sizes, cut).prop_map(|(law, data, g711, pokes, sizes, cut)| {
        let mut f = if g711 { wav::g711_wav(law, &data) } else { wav::pcm16_wav(law, &data) };
        for (at, v) in pokes {
            let i = at % f.len();
            f[i] = v;
        }
        for (at, v) in sizes {
            if at + 4 <= f.len() {
                f[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
        if let Some(c) = cut {
            f.truncate(c as usize % (f.len() + 1));
        }
        f
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn wav_header_any_bytes(file in proptest::collection::vec(any::<u8>(), 0..256)) {
        check_wav(&file)?;
        let mut riff = b"RIFF\0\0\0\0WAVE".to_vec();
        riff.extend_from_slice(&file);
        check_wav(&riff)?;
    }

    #[test]
    fn wav_header_chunks_that_lie(file in chunked_wav()) {
        check_wav(&file)?;
    }

    #[test]
    fn wav_header_mutated_valid_files(file in mutated_wav()) {
        check_wav(&file)?;
    }

    #[test]
    fn wav_g711_round_trip(alaw in any::<bool>(), data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let law = if alaw { Law::ALaw } else { Law::MuLaw };
        let f = wav::g711_wav(law, &data);
        let info = wav::parse_header(&f).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(info.data(&f), &data[..]);
        prop_assert!(!info.truncated());
        prop_assert_eq!(info.encoding, if alaw { wav::Encoding::ALaw } else { wav::Encoding::MuLaw });
    }
}

// ---- client messages (what the demo peer and the gateway parse) ---------------------------

fn number() -> impl Strategy<Value = Number> {
    "[0-9]{3,32}".prop_map(|s| s.parse().expect("3 to 32 digits is a number"))
}

fn wav_name() -> impl Strategy<Value = WavName> {
    // Mostly valid by construction, so the filter rejects few cases.
    prop_oneof![
        4 => "[a-zA-Z0-9_-](([a-zA-Z0-9 _-]|\\.[a-zA-Z0-9_-]){0,30}[a-zA-Z0-9_-])?",
        2 => "\\PC{1,20}\\.wav",
        1 => "[^/\\\\:]{1,40}",
    ]
    .prop_filter_map("not a valid name", |s| s.parse::<WavName>().ok())
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        number().prop_map(ClientMsg::Call),
        Just(ClientMsg::Hangup),
        wav_name().prop_map(ClientMsg::PlayWav),
        (wav_name(), proptest::collection::vec(any::<u8>(), 0..512))
            .prop_map(|(name, data)| ClientMsg::WavUpload { name, data }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn client_messages_round_trip(msg in client_msg()) {
        let text = msg.encode();
        prop_assert_eq!(ClientMsg::parse(&text), Ok(msg.clone()));
        // A client that adds a line end is understood the same.
        prop_assert_eq!(ClientMsg::parse(&format!("{text}\r\n")), Ok(msg));
    }

    #[test]
    fn client_parse_any_text(text in prop_oneof![
        any::<String>(),
        ("(CALL:|PLAY_WAV:|WAV_UPLOAD:|HANGUP)", any::<String>()).prop_map(|(p, s)| format!("{p}{s}")),
        ("WAV_UPLOAD:[a-z.]{0,8}:", "[A-Za-z0-9+/=]{0,64}").prop_map(|(p, s)| format!("{p}{s}")),
    ]) {
        // Whatever is accepted means the same after encoding again.
        if let Ok(msg) = ClientMsg::parse(&text) {
            prop_assert_eq!(ClientMsg::parse(&msg.encode()), Ok(msg));
        }
    }

    #[test]
    fn names_that_parse_are_safe(s in "\\PC{0,30}|[./\\\\: a-z]{0,12}") {
        if let Ok(name) = s.parse::<WavName>() {
            let n = name.as_str();
            prop_assert!(!n.is_empty() && n.len() <= 255);
            prop_assert!(!n.contains(['/', '\\', ':']) && !n.contains(".."));
            prop_assert!(!n.chars().any(char::is_control));
            prop_assert_eq!(n.trim(), n);
        }
    }
}

/// One packet of a generated stream: lost or not, a pause (in samples) before it, and
/// whether it swaps places with the next one on the wire.
#[derive(Debug, Clone, Copy)]
struct Step {
    lost: bool,
    pause: u32,
    swap: bool,
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..100, prop_oneof![9 => Just(0u32), 1 => 1u32..40_000], 0u8..100)
        .prop_map(|(l, pause, s)| Step { lost: l < 10, pause, swap: s < 10 })
}

proptest! {
    #![proptest_config(config())]

    /// Whatever the loss, pauses (with their marker bits), adjacent reordering and timestamp
    /// wraps, the recording is exactly as long as the RTP timeline and every payload sits at
    /// its `timestamp - first timestamp` offset.
    #[test]
    fn capture_sample_count_equals_the_rtp_timeline(
        ts0 in any::<u32>(), seq0 in any::<u16>(), steps in proptest::collection::vec(step(), 2..250)
    ) {
        use sipdeck::core::capture::Capture;
        use sipdeck::core::stats::StreamSet;
        use std::time::{Duration, Instant};
        // (seq, timestamp, marker, arrival ms, byte) of every packet sent, in timeline order.
        let mut sent = Vec::new();
        let (mut ts, mut ms) = (ts0, 0u64);
        for (i, s) in steps.iter().enumerate() {
            let pause = if i == 0 { 0 } else { s.pause };
            ts = ts.wrapping_add(pause);
            ms += pause as u64 / 8;
            let last = i == steps.len() - 1;
            if i == 0 || last || !s.lost {
                sent.push((seq0.wrapping_add(i as u16), ts, pause > 0, ms, (i % 250) as u8));
            }
            ts = ts.wrapping_add(160);
            ms += 20;
        }
        let mut wire = sent.clone();
        let mut i = 1;
        while i + 1 < wire.len() {
            if steps[i].swap {
                wire.swap(i, i + 1);
                i += 1;
            }
            i += 1;
        }
        let t0 = Instant::now();
        let (mut set, mut cap) = (StreamSet::default(), Capture::default());
        for &(seq, ts, marker, ms, byte) in &wire {
            let h = RtpHeader { payload_type: 0, sequence: seq, timestamp: ts, ssrc: 1, marker };
            let a = set.on_packet(&h, &[byte; 160], 172, t0 + Duration::from_millis(ms));
            cap.push(&a, &h, &[byte; 160]);
        }
        let bytes = cap.bytes();
        let (_, last_ts, ..) = sent[sent.len() - 1];
        prop_assert_eq!(bytes.len() as u64, last_ts.wrapping_sub(ts0) as u64 + 160);
        for &(_, ts, _, _, byte) in &sent {
            let at = ts.wrapping_sub(ts0) as usize;
            prop_assert!(bytes[at..at + 160].iter().all(|&b| b == byte), "payload {} misplaced", byte);
        }
        prop_assert_eq!(cap.too_late_packets(), 0);
    }

    /// The E-model's score stays on its scales and never improves with more loss or delay.
    #[test]
    fn emodel_is_bounded_and_monotonic(ppl in 0.0f64..30.0, burst_r in 0.5f64..6.0, delay in 5.0f64..800.0, bpl in prop_oneof![Just(4.3), Just(25.1)]) {
        use sipdeck::core::stats::emodel::{rate, Inputs};
        let at = |ppl: f64, delay_ms: f64| rate(0.0, bpl, Inputs { ppl, burst_r, delay_ms });
        let s = at(ppl, delay);
        prop_assert!((1.0..=4.5).contains(&s.mos), "{:?}", s);
        prop_assert!(s.r <= 93.4, "{:?}", s);
        prop_assert!(at(ppl + 1.0, delay).r <= s.r);
        prop_assert!(at(ppl, delay + 10.0).r <= s.r + 1e-9);
    }
}
