//! Memory of one simulated 24-hour call: 4,320,000 PCMU packets of 160 bytes (50 a second,
//! sequence numbers and timestamps wrapping as they do) folded through the client's real
//! receive path -- the runtime `Session`: its spill file in a temporary record folder and
//! the `App` -- with the clock ticking every simulated second; then the call is saved (`7`,
//! replayed from the spill file into the WAV off the loop, as the dashboard does). Prints
//! the peak resident set (VmHWM) and the WAV's sample count, which must be 4,320,000 * 160.
//!
//! `cargo bench --bench day_call` (about 1.5 GB of temporary files; `DAY_CALL_DIR` picks
//! their folder). `-- --packets N` runs a shorter call.

#[path = "support/mem.rs"]
mod mem;
use mem::vm_hwm_kib;
use std::time::{Duration, Instant};

use sipdeck::client::app::command::Command;
use sipdeck::client::app::{App, AppConfig, IoEvent};
use sipdeck::client::net::{NetEvent, RtpFrame};
use sipdeck::client::runtime::{Effects, Session};
use sipdeck::core::audio::Tone;
use sipdeck::core::protocol::ClientMsg;
use sipdeck::core::rtp::{self, RtpHeader};

const DAY_PACKETS: u64 = 24 * 3600 * 50;
const PAYLOAD: usize = 160;
/// The target of issue 12.
const TARGET_KIB: u64 = 64 * 1024;


fn packets_wanted() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--packets")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--packets takes a number"))
        .unwrap_or(DAY_PACKETS)
}

fn main() {
    let packets = packets_wanted();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let (peak, samples, saved) = rt.block_on(day(packets));
    println!("day_call: {packets} packets of {PAYLOAD} bytes through Session (spill file) + App, then saved");
    println!("  WAV samples      {samples} (want {})", packets * PAYLOAD as u64);
    println!("  save took        {:.1} s", saved.as_secs_f64());
    println!("  peak RSS (VmHWM) {:.1} MiB (target < {} MiB)", peak as f64 / 1024.0, TARGET_KIB / 1024);
    assert_eq!(samples, packets * PAYLOAD as u64, "the WAV holds the whole call");
    if peak >= TARGET_KIB {
        eprintln!("day_call: over the target");
        std::process::exit(1);
    }
}

async fn day(packets: u64) -> (u64, u64, Duration) {
    let base = std::env::var_os("DAY_CALL_DIR").map(std::path::PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(base).expect("a record folder");
    let cfg = AppConfig { record_dir: dir.path().to_path_buf(), wav_dir: dir.path().to_path_buf(), ..AppConfig::new("ws://127.0.0.1:9") };
    let (cmd, _cmd_rx) = tokio::sync::mpsc::channel(1);
    let (io, mut io_rx) = tokio::sync::mpsc::channel(4);
    let t0 = Instant::now();
    let mut s = Session::new(App::new(cfg, t0), Effects::new(cmd, io), None).expect("a session");
    s.on_net(NetEvent::Connected { subprotocol: true }, t0);
    s.on_net(NetEvent::Sent(ClientMsg::Call("0938220136".parse().expect("a number"))), t0);
    s.on_net(NetEvent::Status("Call answered".into()), t0);
    let mut tone = vec![0u8; 8000];
    Tone::new(440.0, 8000.0, 0.3).fill_ulaw(&mut tone);
    for i in 0..packets {
        let at = t0 + Duration::from_millis(20 * i);
        let h = RtpHeader {
            marker: i == 0,
            payload_type: 0,
            sequence: i as u16,
            timestamp: (i * PAYLOAD as u64) as u32,
            ssrc: 0xda11_ca11,
        };
        let from = (i as usize * PAYLOAD) % tone.len();
        let frame = RtpFrame::from_bytes(rtp::build(&h, &tone[from..from + PAYLOAD]), at).expect("a valid packet");
        s.on_net(NetEvent::Rtp(frame), at);
        if i % 50 == 49 {
            s.on_tick(at);
        }
    }
    let end = t0 + Duration::from_millis(20 * packets);
    s.on_net(NetEvent::Status("Call ended".into()), end);
    s.on_tick(end);
    assert_eq!(s.app.capture.len() as u64, packets * PAYLOAD as u64);
    let started = Instant::now();
    let fx = s.app.command(Command::Save);
    s.apply_all(fx).await;
    let ev = io_rx.recv().await.expect("the save's answer");
    let saved = started.elapsed();
    let IoEvent::Saved { path, .. } = &ev else { panic!("{ev:?}") };
    let head = {
        use std::io::Read as _;
        let mut head = vec![0u8; 64];
        std::fs::File::open(path).expect("the WAV").read_exact(&mut head).expect("its header");
        head
    };
    let len = std::fs::metadata(path).expect("the WAV").len();
    let info = sipdeck::core::wav::parse_header_of(&head, len).expect("a WAV header");
    s.on_io(ev).await;
    let peak = vm_hwm_kib();
    s.finish();
    (peak, info.data_len as u64, saved)
}
