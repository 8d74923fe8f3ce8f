//! Speed and memory under a flood, measured in one run (`cargo bench --bench flood`).
//!
//! An in-process blast peer (tokio-tungstenite on 127.0.0.1:0, its own thread) sends
//! 200,000 realistic `RTP:` frames (172-byte PCMU packets, hex encoded) as fast as the socket
//! takes them, to
//!   (a) a bare tokio-tungstenite reader that only counts frames, and
//!   (b) sipdeck's network actor feeding the real `Session` (the `App` plus its spill file)
//!       through the real event loop (`client::runtime`, with a front end that renders to a
//!       `TestBackend` 80x24 when the full screen would), recording the intervals between
//!       frames.
//! Then, each in a fresh child process so that one scenario's memory does not count for
//! another, the peak RSS (VmHWM) after the blast through actor and fold, and after a
//! simulated one-hour call (180,000 packets of 160 bytes folded into the `App`).
//!
//! `FLOOD_RUNS` sets how many times (a) and (b) are run, alternating (default 10); rates are
//! medians, frame intervals are pooled over all runs. `FLOOD_NO_SPILL=1` runs (b) without the
//! spill file; `FLOOD_ONLY=sipdeck` runs (b) only, for profiling; `FLOOD_PER_THREAD=1` shows
//! each tokio worker's CPU on its own instead of summed.

#[path = "support/mem.rs"]
mod mem;
use mem::vm_hwm_kib;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use sipdeck::client::app::{App, AppConfig, Effect};
use sipdeck::client::net::{self, NetCommand, NetConfig, NetEvent, RtpFrame};
use sipdeck::client::runtime::redraw::{Redraw, EVENT_FRAME};
use sipdeck::client::runtime::{Effects, Ending, Flow, FrontEnd, Runtime, Session, Woke, LIVELY_TICK};
use sipdeck::client::ui::{self, Theme};
use sipdeck::core::audio::Tone;
use sipdeck::core::rtp::{self, RtpHeader};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

const BLAST: u64 = 200_000;
const HOUR_PACKETS: u64 = 180_000;
const PAYLOAD: usize = 160;
/// The peer flushes its socket after this many frames.
const FLUSH_EVERY: u64 = 64;

const TARGET_RATIO: f64 = 0.8;
/// Frames come at most every `EVENT_FRAME` (100 ms, 10 a second) since the dashboard draws
/// only what changed; a flood must not stretch them by more than half a frame (the target was
/// 50 ms when a fixed 33 ms tick drew 30 frames a second).
const TARGET_P99: Duration = Duration::from_millis(EVENT_FRAME.as_millis() as u64 * 3 / 2);
const TARGET_HOUR_MIB: f64 = 64.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `RTP:` frames of 172-byte PCMU packets.
    Rtp,
    /// Status lines, to see the log path under a flood too.
    Status,
}

// ---- the blast peer ---------------------------------------------------------------------

/// One second of a 440 Hz tone in mu-law; packets take consecutive 160-byte slices.
fn tone_second() -> Vec<u8> {
    let mut t = Tone::new(440.0, 8000.0, 0.3);
    let mut out = vec![0u8; 8000];
    t.fill_ulaw(&mut out);
    out
}

fn packet(i: u64, tone: &[u8]) -> Vec<u8> {
    let h = RtpHeader {
        marker: i == 0,
        payload_type: 0,
        sequence: i as u16,
        timestamp: (i * PAYLOAD as u64) as u32,
        ssrc: 0x5eed_f100,
    };
    let at = (i as usize * PAYLOAD) % tone.len();
    rtp::build(&h, &tone[at..at + PAYLOAD])
}

fn frame_text(kind: Kind, i: u64, tone: &[u8]) -> String {
    match kind {
        Kind::Rtp => sipdeck::core::protocol::encode_rtp(&packet(i, tone)),
        Kind::Status => format!("Call status: in call, {i} packets relayed, jitter 3 ms"),
    }
}

/// How the peer puts frames on the wire.
#[derive(Clone)]
enum Frames {
    /// Every frame already framed (RFC 6455 header, unmasked as a server sends), one buffer
    /// written with `write_all`: the peer costs little more than the kernel's copy, so the
    /// readers, not the peer, set the pace. The headline figures use this peer.
    Raw(std::sync::Arc<Vec<u8>>),
    /// Each frame sent through tokio-tungstenite's `Sink` (flushed every `FLUSH_EVERY`). Its
    /// framing costs the peer about as much CPU as a reader spends, so on 2 cores it
    /// competes with the reader it feeds; reported for comparison.
    Tungstenite(std::sync::Arc<Vec<Utf8Bytes>>),
    /// Made on the fly through tungstenite (the memory runs, where the peer must stay small).
    OnTheFly,
}

impl Frames {
    fn raw(kind: Kind, n: u64) -> Frames {
        let tone = tone_second();
        let mut buf = Vec::new();
        for i in 0..n {
            ws_text_frame(frame_text(kind, i, &tone).as_bytes(), &mut buf);
        }
        Frames::Raw(std::sync::Arc::new(buf))
    }

    fn tungstenite(kind: Kind, n: u64) -> Frames {
        let tone = tone_second();
        Frames::Tungstenite(std::sync::Arc::new((0..n).map(|i| Utf8Bytes::from(frame_text(kind, i, &tone))).collect()))
    }
}

/// One final, unmasked text frame (RFC 6455 section 5.2), as a server sends it.
fn ws_text_frame(payload: &[u8], out: &mut Vec<u8>) {
    out.push(0x81);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xffff => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// Echo the subprotocol when asked for it, like the gateway.
#[allow(clippy::result_large_err)] // the signature tungstenite's callback demands
fn echo_subprotocol(req: &Request, mut resp: Response) -> Result<Response, ErrorResponse> {
    if let Some(p) = req.headers().get("Sec-WebSocket-Protocol") {
        resp.headers_mut().insert("Sec-WebSocket-Protocol", p.clone());
    }
    Ok(resp)
}

/// Serve one connection on a thread of its own: `n` frames as fast as the socket takes
/// them, then wait for the client to go.
fn spawn_peer(kind: Kind, n: u64, frames: Frames) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding the blast peer");
    let addr = listener.local_addr().expect("peer address");
    let named = std::thread::Builder::new().name("blast-peer".into());
    named.spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("peer runtime");
        rt.block_on(async move {
            listener.set_nonblocking(true).expect("non-blocking listener");
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            let (stream, _) = listener.accept().await.expect("accepting the client");
            let _ = stream.set_nodelay(true);
            let mut ws = tokio_tungstenite::accept_hdr_async(stream, echo_subprotocol).await.expect("handshake");
            if let Frames::Raw(buf) = &frames {
                // Whole frames on the socket under tungstenite, which only reads from now on.
                use tokio::io::AsyncWriteExt as _;
                if ws.get_mut().write_all(buf).await.is_err() {
                    return;
                }
                while let Some(Ok(_)) = ws.next().await {}
                return;
            }
            let tone = tone_second();
            for i in 0..n {
                let msg = match &frames {
                    Frames::Tungstenite(f) => Message::Text(f[i as usize].clone()),
                    _ => Message::text(frame_text(kind, i, &tone)),
                };
                if ws.feed(msg).await.is_err() {
                    return;
                }
                if (i + 1) % FLUSH_EVERY == 0 && ws.flush().await.is_err() {
                    return;
                }
            }
            let _ = ws.flush().await;
            while let Some(Ok(_)) = ws.next().await {}
        });
    })
    .expect("starting the peer thread");
    addr
}

// ---- CPU per thread -----------------------------------------------------------------------

/// Thread id to (thread name, CPU nanoseconds so far).
type ThreadCpu = std::collections::HashMap<u32, (String, u64)>;

/// CPU time of every thread of this process so far, by thread id: (name, nanoseconds), from
/// `/proc/self/task/*/schedstat` (nanosecond resolution, unlike `stat`'s clock ticks).
fn thread_cpu() -> ThreadCpu {
    let mut out = std::collections::HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return out };
    for t in tasks.flatten() {
        let Some(tid) = t.file_name().to_str().and_then(|s| s.parse().ok()) else { continue };
        let name = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default().trim().to_string();
        let ns = std::fs::read_to_string(t.path().join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
            .unwrap_or(0);
        out.insert(tid, (name, ns));
    }
    out
}

/// CPU nanoseconds each kind of thread spent between two snapshots, per message, by role.
#[derive(Debug, Clone, Default)]
struct CpuSplit {
    /// (role, ns per message), largest first.
    roles: Vec<(String, f64)>,
}

impl CpuSplit {
    fn between(before: &ThreadCpu, after: &ThreadCpu, n: u64) -> CpuSplit {
        let per_thread = std::env::var_os("FLOOD_PER_THREAD").is_some();
        let mut by: std::collections::BTreeMap<String, u64> = Default::default();
        for (tid, (name, ns)) in after {
            let was = before.get(tid).map_or(0, |b| b.1);
            let role = match name.as_str() {
                "blast-peer" => "peer".to_string(),
                "sipdeck-spill" => "spill".to_string(),
                n if n.starts_with("tokio") && per_thread => format!("tokio#{tid}"),
                n if n.starts_with("tokio") => "tokio workers".to_string(),
                _ if *tid == std::process::id() => "main".to_string(),
                _ => "other".to_string(),
            };
            *by.entry(role).or_default() += ns.saturating_sub(was);
        }
        let mut roles: Vec<(String, f64)> = by.into_iter().map(|(r, ns)| (r, ns as f64 / n as f64)).filter(|(_, v)| *v >= 1.0).collect();
        roles.sort_by(|a, b| b.1.total_cmp(&a.1));
        CpuSplit { roles }
    }

    fn show(&self) -> String {
        self.roles.iter().map(|(r, v)| format!("{r} {v:.0}")).collect::<Vec<_>>().join(", ")
    }
}

// ---- (a) the bare reader ----------------------------------------------------------------

/// Count text frames until `n`; the clock runs from the handshake to the last frame.
async fn bare_reader(addr: SocketAddr, n: u64) -> (Duration, CpuSplit) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}")).await.expect("bare connect");
    let cpu0 = thread_cpu();
    let t0 = Instant::now();
    let mut count = 0u64;
    while let Some(msg) = ws.next().await {
        if let Message::Text(_) = msg.expect("bare read") {
            count += 1;
            if count == n {
                let elapsed = t0.elapsed();
                return (elapsed, CpuSplit::between(&cpu0, &thread_cpu(), n));
            }
        }
    }
    panic!("the peer closed after {count} of {n} frames");
}

// ---- (b) sipdeck: actor, fold and render --------------------------------------------------

/// The app and its spill file as the runtime has them, recording into `dir`.
fn session(url: &str, dir: &std::path::Path, cmd: tokio::sync::mpsc::Sender<NetCommand>) -> Session {
    let (io, _) = tokio::sync::mpsc::channel(1);
    Session::new(App::new(app_config(url, dir), Instant::now()), Effects::new(cmd, io), None).expect("a session")
}

fn app_config(url: &str, dir: &std::path::Path) -> AppConfig {
    AppConfig { record_dir: dir.to_path_buf(), wav_dir: dir.to_path_buf(), ..AppConfig::new(url) }
}

struct SipdeckRun {
    /// From `Connected` to the last message folded.
    elapsed: Duration,
    /// Between consecutive redraws while the blast ran.
    frame_intervals: Vec<Duration>,
    /// Times the loop woke for network events (`recv_many` returns).
    wakeups: u64,
    /// Longest time one tick (clock fold and draw) and one network wake-up took.
    longest_tick: Duration,
    longest_fold: Duration,
    /// RTP packets, malformed frames and audio bytes the app counted.
    packets: u64,
    malformed: u64,
    captured: usize,
    /// CPU per message by thread, from `Connected` to the last message folded.
    cpu: CpuSplit,
}

/// Server messages (RTP or status) in an event.
fn messages(ev: &NetEvent) -> u64 {
    match ev {
        NetEvent::Rtp(_) | NetEvent::Status(_) => 1,
        NetEvent::Batch(evs) => evs.iter().map(messages).sum(),
        _ => 0,
    }
}

/// The full screen's front end with a test terminal, counting and timing what it sees.
struct Bench {
    n: u64,
    term: Terminal<TestBackend>,
    redraw: Redraw,
    count: u64,
    started: Option<Instant>,
    cpu0: Option<ThreadCpu>,
    last_draw: Option<Instant>,
    frame_intervals: Vec<Duration>,
    wakeups: u64,
    /// When the network batch being folded arrived.
    fold_began: Option<Instant>,
    longest_tick: Duration,
    longest_fold: Duration,
}

impl FrontEnd for Bench {
    type Input = ();

    async fn next_input(&mut self) -> anyhow::Result<Option<()>> {
        std::future::pending().await
    }

    fn on_input(&mut self, _app: &mut App, _input: ()) -> Vec<Effect> {
        vec![]
    }

    fn saw_net(&mut self, ev: &NetEvent) {
        let now = *self.fold_began.get_or_insert_with(Instant::now);
        self.count += messages(ev);
        match ev {
            NetEvent::Connected { .. } => {
                self.started = Some(now);
                self.cpu0 = Some(thread_cpu());
            }
            NetEvent::Disconnected { reason, .. } => panic!("disconnected during the blast: {reason}"),
            _ => {}
        }
    }

    fn timer(&self) -> Option<tokio::time::Instant> {
        self.redraw.timer()
    }

    /// What the full screen does after a wake-up (`tui::Screen::show`), timed.
    fn show(&mut self, s: &mut Session, woke: Woke) -> anyhow::Result<Flow> {
        if woke == Woke::Net {
            self.wakeups += 1;
            if let Some(began) = self.fold_began.take() {
                self.longest_fold = self.longest_fold.max(began.elapsed());
            }
        }
        let began = Instant::now();
        if self.redraw.due(woke, began) {
            if woke != Woke::Tick {
                s.on_tick(began);
            }
            self.term.draw(|f| ui::render(&s.app, &Theme::PLAIN, f)).expect("drawing");
            self.redraw.drawn(began);
            let now = Instant::now();
            self.longest_tick = self.longest_tick.max(now - began);
            if let (Some(_), Some(prev)) = (self.started, self.last_draw) {
                self.frame_intervals.push(now - prev);
            }
            self.last_draw = Some(now);
        }
        Ok(if self.count >= self.n { Flow::Stop } else { Flow::Go })
    }
}

/// The real event loop without a terminal, until `n` messages are folded.
async fn sipdeck_reader(addr: SocketAddr, n: u64) -> SipdeckRun {
    let url = format!("ws://{addr}");
    let mut cfg = NetConfig::new(&url);
    cfg.backoff = None;
    let (cmd, net_rx) = net::spawn(cfg);
    let dir = tempfile::tempdir().expect("a record folder");
    // FLOOD_NO_SPILL=1 records into a folder that does not exist, so the session runs
    // without its spill file: to see what the spill costs.
    let record_dir = if std::env::var_os("FLOOD_NO_SPILL").is_some() { dir.path().join("none") } else { dir.path().to_path_buf() };
    let app = App::new(app_config(&url, &record_dir), Instant::now());
    let mut rt = Runtime::with_actor(app, cmd, net_rx, None).expect("a runtime");
    let mut b = Bench {
        n,
        term: Terminal::new(TestBackend::new(80, 24)).expect("test terminal"),
        redraw: Redraw::default(),
        count: 0,
        started: None,
        cpu0: None,
        last_draw: None,
        frame_intervals: Vec::new(),
        wakeups: 0,
        fold_began: None,
        longest_tick: Duration::ZERO,
        longest_fold: Duration::ZERO,
    };
    let ending = rt.run(&mut b).await.expect("the loop");
    assert_eq!(ending, Ending::Stopped, "the loop ended after {} of {n} messages", b.count);
    let elapsed = b.started.expect("connected before any message").elapsed();
    let cpu = CpuSplit::between(&b.cpu0.clone().unwrap_or_default(), &thread_cpu(), n);
    let (packets, malformed, captured) = (rt.app().rtp.packets, rt.app().rtp.malformed, rt.app().capture.len());
    rt.shutdown().await;
    let Bench { frame_intervals, wakeups, longest_tick, longest_fold, .. } = b;
    SipdeckRun { elapsed, frame_intervals, wakeups, longest_tick, longest_fold, packets, malformed, captured, cpu }
}

// ---- memory scenarios, each in a child process ----------------------------------------------


/// The blast through actor and fold, frames made on the fly by the peer.
fn child_blast() -> u64 {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let run = rt.block_on(async {
        let addr = spawn_peer(Kind::Rtp, BLAST, Frames::OnTheFly);
        sipdeck_reader(addr, BLAST).await
    });
    assert_eq!(run.packets, BLAST);
    vm_hwm_kib()
}

/// One hour of a call at 50 packets/s folded straight into the App, on a simulated clock:
/// the clock ticks every LIVELY_TICK and the screen is drawn once a simulated second.
fn child_hour() -> u64 {
    let tone = tone_second();
    let t0 = Instant::now();
    let dir = tempfile::tempdir().expect("a record folder");
    let (cmd, _cmd_rx) = tokio::sync::mpsc::channel(1);
    let mut s = session("ws://127.0.0.1:8080", dir.path(), cmd);
    s.on_net(NetEvent::Connected { subprotocol: true }, t0);
    s.on_net(NetEvent::Status("Call answered".into()), t0);
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
    let mut next_tick = t0;
    let mut ticks = 0u64;
    for i in 0..HOUR_PACKETS {
        let at = t0 + Duration::from_millis(20 * i);
        let frame = RtpFrame::from_bytes(packet(i, &tone), at).expect("a valid packet");
        s.on_net(NetEvent::Rtp(frame), at);
        while next_tick <= at {
            s.on_tick(next_tick);
            if ticks.is_multiple_of(10) {
                term.draw(|f| ui::render(&s.app, &Theme::PLAIN, f)).expect("drawing");
            }
            ticks += 1;
            next_tick += LIVELY_TICK;
        }
    }
    assert_eq!(s.app.capture.len() as u64, HOUR_PACKETS * PAYLOAD as u64);
    let peak = vm_hwm_kib();
    s.finish();
    peak
}

/// Run this bench binary again as `--child <what>` and read the KiB it prints.
fn in_child(what: &str) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe).args(["--child", what]).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("child {what} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("child {what} printed no number: {e}"))
}

// ---- report -----------------------------------------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Runs (a) and (b) `runs` times each, alternating; returns (bare medians, sipdeck medians,
/// all frame intervals of (b)).
fn speed(rt: &tokio::runtime::Runtime, kind: Kind, frames: Frames, runs: usize) -> (f64, f64, Vec<Duration>) {
    let (mut bare, mut deck, mut intervals) = (Vec::new(), Vec::new(), Vec::new());
    // FLOOD_ONLY=sipdeck runs sipdeck's reader only, for profiling (the ratio is then 1).
    let only = std::env::var("FLOOD_ONLY").unwrap_or_default();
    for run in 1..=runs {
        let bare_run = || rt.block_on(bare_reader(spawn_peer(kind, BLAST, frames.clone()), BLAST));
        let deck_run = || rt.block_on(sipdeck_reader(spawn_peer(kind, BLAST, frames.clone()), BLAST));
        let (a, b) = match only.as_str() {
            "sipdeck" => {
                let b = deck_run();
                ((b.elapsed, b.cpu.clone()), b)
            }
            _ => (bare_run(), deck_run()),
        };
        let (a, a_cpu) = a;
        let mut iv = b.frame_intervals.clone();
        iv.sort();
        println!(
            "  run {run}: bare {:>9.0} msg/s   sipdeck {:>9.0} msg/s   ratio {:.2}   {:>6.0} events/wake-up   frames {:>3}, p99 {}, max {}; longest tick {}, fold {}",
            rate(BLAST, a),
            rate(BLAST, b.elapsed),
            a.as_secs_f64() / b.elapsed.as_secs_f64(),
            BLAST as f64 / b.wakeups as f64,
            iv.len() + 1,
            ms(percentile(&iv, 99.0)),
            ms(iv.last().copied().unwrap_or_default()),
            ms(b.longest_tick),
            ms(b.longest_fold),
        );
        println!("         CPU ns per message: bare [{}]   sipdeck [{}]", a_cpu.show(), b.cpu.show());
        if kind == Kind::Rtp {
            assert_eq!((b.packets, b.malformed), (BLAST, 0));
            assert_eq!(b.captured as u64, BLAST * PAYLOAD as u64);
        }
        bare.push(rate(BLAST, a));
        deck.push(rate(BLAST, b.elapsed));
        intervals.extend(b.frame_intervals);
    }
    intervals.sort();
    (median(bare), median(deck), intervals)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let kib = match args.get(i + 1).map(String::as_str) {
            Some("blast") => child_blast(),
            Some("hour") => child_hour(),
            other => {
                eprintln!("unknown child {other:?}");
                return ExitCode::FAILURE;
            }
        };
        println!("{kib}");
        return ExitCode::SUCCESS;
    }
    let runs = std::env::var("FLOOD_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(10usize).max(1);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("sipdeck flood benchmark ({cores} cores, {runs} runs of each reader)");
    println!("\n{BLAST} RTP: frames (172-byte PCMU packets, 348 hex characters each), pre-framed peer:");
    let (bare, deck, intervals) = speed(&rt, Kind::Rtp, Frames::raw(Kind::Rtp, BLAST), runs);
    let ratio = deck / bare;
    let p99 = percentile(&intervals, 99.0);
    if std::env::var("FLOOD_ONLY").is_ok_and(|v| v == "sipdeck") {
        return ExitCode::SUCCESS; // profiling the RTP path only
    }
    println!("\nthe same through a tokio-tungstenite peer (it shares the 2 cores with the readers):");
    let (tbare, tdeck, tintervals) = speed(&rt, Kind::Rtp, Frames::tungstenite(Kind::Rtp, BLAST), runs);
    println!("\n{BLAST} status lines (the log path), pre-framed peer:");
    let (sbare, sdeck, sintervals) = speed(&rt, Kind::Status, Frames::raw(Kind::Status, BLAST), runs);
    drop(rt);

    let blast = in_child("blast");
    let hour = in_child("hour");
    let mib = |r: &Result<u64, String>| match r {
        Ok(k) => format!("{:.1} MiB", *k as f64 / 1024.0),
        Err(e) => format!("not measured ({e})"),
    };
    let hour_ok = hour.as_ref().is_ok_and(|k| (*k as f64 / 1024.0) < TARGET_HOUR_MIB);

    println!("\nresults (medians of {runs} runs)");
    println!("  bare tokio-tungstenite reader      {bare:>10.0} msg/s");
    println!("  sipdeck actor + Session fold + render {deck:>7.0} msg/s");
    println!("  ratio sipdeck / bare               {ratio:>10.2}   target >= {TARGET_RATIO}   {}", verdict(ratio >= TARGET_RATIO));
    println!(
        "  frame interval p99 during the blast {:>9}   target < {}   {} ({} intervals: p50 {}, p90 {}, max {})",
        ms(p99),
        ms(TARGET_P99),
        verdict(p99 < TARGET_P99),
        intervals.len(),
        ms(percentile(&intervals, 50.0)),
        ms(percentile(&intervals, 90.0)),
        ms(intervals.last().copied().unwrap_or_default())
    );
    println!(
        "  through a tokio-tungstenite peer: bare {tbare:.0} msg/s, sipdeck {tdeck:.0} msg/s (ratio {:.2}), frame p99 {}",
        tdeck / tbare,
        ms(percentile(&tintervals, 99.0))
    );
    println!(
        "  status-line flood: bare {sbare:.0} msg/s, sipdeck {sdeck:.0} msg/s (ratio {:.2}), frame p99 {}",
        sdeck / sbare,
        ms(percentile(&sintervals, 99.0))
    );
    println!("  peak RSS after the {BLAST}-message blast  {}", mib(&blast));
    println!(
        "  peak RSS after a one-hour call ({HOUR_PACKETS} x {PAYLOAD} B)  {}   target < {TARGET_HOUR_MIB} MiB   {}",
        mib(&hour),
        verdict(hour_ok)
    );
    ExitCode::SUCCESS
}
