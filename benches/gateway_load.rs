//! Load benchmark of the real `sipdeck gateway` binary: N calls, 50 RTP packets/s each,
//! measured from outside: gateway CPU per forwarded packet, packets lost, added delay.
//!
//! The far end is in this process and cheap: one thread is a SIP UAS over UDP (answers each
//! INVITE with SDP, BYE with 200), one thread sends every call's RTP from one UDP socket,
//! each packet carrying its send time in its payload, and one thread runs the N WebSocket
//! clients, which place the calls and decode the send time out of each `RTP:` frame. The
//! gateway is a child process, so its CPU (utime + stime from /proc) is its alone.
//!
//! `cargo bench --bench gateway_load -- 100 400 1000` (default: all three);
//! GATEWAY_LOAD_SECS (default 15) is the measured window, after 2 s of warm-up;
//! GATEWAY_LOAD_PERF="record -F 499 -g -o perf.data" runs `perf <that> -p <gateway>` over
//! the window; `-- floor` measures only the syscalls each forwarded packet needs at
//! least; GATEWAY_LOAD_BIN=path runs that gateway binary instead of this build's.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

const PACKET_EVERY: Duration = Duration::from_millis(20);
const WARM_UP: Duration = Duration::from_secs(2);
/// Sending goes on this long past the window, so the window's last packets meet no edge.
const TAIL: Duration = Duration::from_millis(300);

/// The clock every timestamp is read against (sender and readers share this process).
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
    base().elapsed().as_nanos() as u64
}

fn main() {
    if std::env::args().any(|a| a == "floor") {
        return floor(400);
    }
    let mut sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![100, 400, 1000];
    }
    let secs: u64 = std::env::var("GATEWAY_LOAD_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    println!("gateway_load: {secs} s measured per run, 50 packets/s per call, 172-byte PCMU packets");
    println!("{:>5} {:>9} {:>8} {:>8} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>16}", "calls", "packets", "us/pkt", "csw/pkt", "lost", "median", "p99", "max", "sender%", "readers%", "load avg");
    for n in sizes {
        let r = run(n, Duration::from_secs(secs));
        println!(
            "{:>5} {:>9} {:>8.2} {:>8.3} {:>6} {:>7.2}ms {:>7.2}ms {:>7.2}ms {:>8.1}% {:>8.1}% {:>16}",
            n, r.sent, r.us_per_packet, r.switches_per_packet, r.lost, r.median_ms, r.p99_ms, r.max_ms, r.sender_pct, r.readers_pct, r.load
        );
    }
}

struct Figures {
    sent: u64,
    us_per_packet: f64,
    switches_per_packet: f64,
    lost: i64,
    median_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    sender_pct: f64,
    readers_pct: f64,
    load: String,
}

/// One run: a fresh gateway, `n` calls, a window of `window`.
fn run(n: usize, window: Duration) -> Figures {
    base();
    let uas = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let ws_port = free_tcp_port();
    let store = tempfile::tempdir().unwrap();
    let mut gateway = spawn_gateway(ws_port, uas.local_addr().unwrap(), store.path());
    wait_listening(ws_port);

    let stop = Arc::new(AtomicBool::new(false));
    let rtp_port = rtp.local_addr().unwrap().port();
    let (media_tx, media_rx) = mpsc::channel::<SocketAddr>();
    let uas_thread = {
        let stop = stop.clone();
        std::thread::spawn(move || far_end_sip(uas, rtp_port, media_tx, &stop))
    };
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let readers = {
        let stop = stop.clone();
        std::thread::spawn(move || clients(n, ws_port, ready_tx, stop))
    };
    ready_rx.recv_timeout(Duration::from_secs(120)).expect("every call answered");
    let targets: Vec<SocketAddr> = media_rx.try_iter().collect();
    assert_eq!(targets.len(), n, "one media address per call");

    let start = Instant::now() + Duration::from_millis(50);
    let from = start + WARM_UP;
    let to = from + window;
    let (from_ns, to_ns) = ((from - base()).as_nanos() as u64, (to - base()).as_nanos() as u64);
    WINDOW.0.store(from_ns, Ordering::Relaxed);
    WINDOW.1.store(to_ns, Ordering::Relaxed);
    let sender = std::thread::spawn(move || send_rtp(rtp, targets, start, to + TAIL, from_ns, to_ns));

    sleep_until(from);
    let cpu0 = process_cpu(gateway.id());
    let switches0 = context_switches(gateway.id());
    let perf = std::env::var("GATEWAY_LOAD_PERF").ok().map(|args| spawn_perf(&args, gateway.id(), window));
    sleep_until(to);
    let cpu1 = process_cpu(gateway.id());
    let switches1 = context_switches(gateway.id());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap().split(' ').take(3).collect::<Vec<_>>().join(" ");
    if let Some(mut p) = perf {
        let _ = p.wait();
    }
    let (sent, sender_cpu) = sender.join().unwrap();
    // Frames still on their way get a moment; then the gateway goes (its connections
    // end the clients' tasks) before the far end does, so no BYE meets a closed port.
    std::thread::sleep(Duration::from_millis(500));
    let _ = gateway.kill();
    let _ = gateway.wait();
    stop.store(true, Ordering::Relaxed);
    let (mut delays, readers_cpu) = readers.join().unwrap();
    uas_thread.join().unwrap();

    delays.sort_unstable();
    let pick = |q: f64| delays.get(((delays.len() as f64 - 1.0) * q) as usize).map_or(f64::NAN, |&us| us as f64 / 1000.0);
    let busy = window.as_secs_f64() + WARM_UP.as_secs_f64();
    Figures {
        sent,
        us_per_packet: (cpu1 - cpu0).as_secs_f64() * 1e6 / sent as f64,
        switches_per_packet: (switches1 - switches0) as f64 / sent as f64,
        lost: sent as i64 - delays.len() as i64,
        median_ms: pick(0.5),
        p99_ms: pick(0.99),
        max_ms: pick(1.0),
        sender_pct: sender_cpu.as_secs_f64() * 100.0 / busy,
        readers_pct: readers_cpu.as_secs_f64() * 100.0 / busy,
        load,
    }
}

/// The measured window, in ns after `base()`: the readers count only what was sent in it.
static WINDOW: (AtomicU64, AtomicU64) = (AtomicU64::new(0), AtomicU64::new(u64::MAX));

fn in_window(sent_ns: u64) -> bool {
    (WINDOW.0.load(Ordering::Relaxed)..WINDOW.1.load(Ordering::Relaxed)).contains(&sent_ns)
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn_gateway(ws_port: u16, sip_target: SocketAddr, store: &std::path::Path) -> Child {
    let first = 40000 + 2 * (std::process::id() as u16 % 1000);
    // GATEWAY_LOAD_BIN: another build to compare with (a copy of an older one).
    let bin = std::env::var("GATEWAY_LOAD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sipdeck").to_string());
    Command::new(bin)
        .args(["gateway", "--listen", &format!("127.0.0.1:{ws_port}"), "--sip-target", &sip_target.to_string()])
        .args(["--sip-listen", "127.0.0.1:0", "--rtp-ports", &format!("{first}-{}", first + 9000)])
        .args(["--max-clients", "5000", "--max-clients-per-ip", "5000", "--ws-ping", "0", "--rtp-timeout", "0"])
        .arg("--store")
        .arg(store)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the sipdeck binary (cargo bench builds it)")
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the gateway never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn_perf(args: &str, pid: u32, window: Duration) -> Child {
    Command::new("perf")
        .args(args.split_whitespace())
        .args(["-p", &pid.to_string(), "--", "sleep", &window.as_secs().to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("perf")
}

fn sleep_until(t: Instant) {
    std::thread::sleep(t.saturating_duration_since(Instant::now()));
}

/// Context switches (voluntary and not) of every live thread of a process: unlike CPU time,
/// a count the load of the machine does not inflate.
fn context_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// utime + stime of a process, all its threads.
fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    ticks_to_time(&stat)
}

/// utime + stime (fields 14 and 15) of a /proc stat line.
fn ticks_to_time(stat: &str) -> Duration {
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<u64> = after_name.split(' ').skip(11).take(2).map(|f| f.parse().unwrap()).collect();
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_nanos((fields[0] + fields[1]) * 1_000_000_000 / hz)
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The far end's SIP: every INVITE gets a 200 with SDP naming `rtp_port` (and its media
/// address goes to `media`), every BYE a 200; ACKs need nothing.
fn far_end_sip(socket: UdpSocket, rtp_port: u16, media: mpsc::Sender<SocketAddr>, stop: &AtomicBool) {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else { continue };
        let msg = String::from_utf8_lossy(&buf[..n]);
        let answer = if msg.starts_with("INVITE ") {
            let call_id = header(&msg, "Call-ID").unwrap_or_default().to_string();
            if seen.insert(call_id) {
                media.send(sdp_media(&msg)).unwrap();
            }
            let sdp = format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n");
            response(&msg, socket.local_addr().unwrap(), &sdp)
        } else if msg.starts_with("BYE ") || msg.starts_with("CANCEL ") || msg.starts_with("OPTIONS ") {
            response(&msg, socket.local_addr().unwrap(), "")
        } else {
            continue;
        };
        let _ = socket.send_to(answer.as_bytes(), from);
    }
}

fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Where the gateway wants this call's RTP: its SDP's `c=` and `m=audio` lines.
fn sdp_media(msg: &str) -> SocketAddr {
    let ip = msg.lines().find_map(|l| l.strip_prefix("c=IN IP4 ")).expect("c= line").trim();
    let port = msg.lines().find_map(|l| l.strip_prefix("m=audio ")).expect("m= line");
    let port = port.split(' ').next().unwrap();
    format!("{ip}:{port}").parse().unwrap()
}

/// A 200 OK to `req`: its Via, From, Call-ID and CSeq, a tagged To, and `sdp` if any.
fn response(req: &str, local: SocketAddr, sdp: &str) -> String {
    let mut out = String::from("SIP/2.0 200 OK\r\n");
    for l in req.lines().take_while(|l| !l.is_empty()) {
        let name = l.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
        match name.as_str() {
            "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" => {
                out.push_str(l);
                out.push_str("\r\n");
            }
            "to" | "t" => {
                out.push_str(l);
                if !l.contains(";tag=") {
                    out.push_str(";tag=far");
                }
                out.push_str("\r\n");
            }
            _ => {}
        }
    }
    out.push_str(&format!("Contact: <sip:far@{local}>\r\n"));
    if !sdp.is_empty() {
        out.push_str("Content-Type: application/sdp\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{sdp}", sdp.len()));
    out
}

/// Every call's RTP, 50 packets/s each, call `i` offset by `i/n` of the 20 ms so the
/// packets are spread evenly; each payload starts with its send time. Returns the packets
/// sent in the window and this thread's CPU.
fn send_rtp(socket: UdpSocket, targets: Vec<SocketAddr>, start: Instant, end: Instant, from_ns: u64, to_ns: u64) -> (u64, Duration) {
    let cpu0 = thread_cpu();
    let n = targets.len() as u32;
    let mut packet = [0u8; 172];
    packet[0] = 0x80; // version 2, PCMU
    let mut in_window = 0u64;
    for tick in 0u32.. {
        let slot_start = start + PACKET_EVERY * tick;
        if slot_start >= end {
            break;
        }
        for (i, target) in targets.iter().enumerate() {
            // Sleeping per packet would cost the machine more than the gateway: packets
            // due within 200 µs go now (each carries its real send time anyway).
            let due = slot_start + PACKET_EVERY * i as u32 / n;
            if due > Instant::now() + Duration::from_micros(200) {
                sleep_until(due);
            }
            packet[2..4].copy_from_slice(&(tick as u16).to_be_bytes());
            packet[4..8].copy_from_slice(&(tick * 160).to_be_bytes());
            packet[8..12].copy_from_slice(&(i as u32 + 1).to_be_bytes());
            let sent = now_ns();
            packet[12..20].copy_from_slice(&sent.to_be_bytes());
            socket.send_to(&packet, target).unwrap();
            in_window += u64::from((from_ns..to_ns).contains(&sent));
        }
    }
    (in_window, thread_cpu() - cpu0)
}

/// The N WebSocket clients on one thread: each places its call; once all are answered,
/// `ready` fires, and from then on each `RTP:` frame's delay is taken. Returns the delays
/// (µs) of the packets sent in the window and this thread's CPU.
fn clients(n: usize, port: u16, ready: mpsc::Sender<()>, stop: Arc<AtomicBool>) -> (Vec<u32>, Duration) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let cpu0 = thread_cpu();
        let mut ws = Vec::with_capacity(n);
        for i in 0..n {
            let mut req = format!("ws://127.0.0.1:{port}/").into_client_request().unwrap();
            req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip-audio-protocol"));
            let (mut c, _) = tokio_tungstenite::connect_async(req).await.expect("connect");
            c.send(Message::text(format!("CALL:{}", 1000 + i))).await.unwrap();
            ws.push(c);
        }
        for c in ws.iter_mut() {
            answered(c).await;
        }
        ready.send(()).unwrap();
        let tasks: Vec<_> = ws.into_iter().map(|c| tokio::spawn(read_frames(c, stop.clone()))).collect();
        let mut delays = Vec::new();
        for t in tasks {
            delays.extend(t.await.unwrap());
        }
        (delays, thread_cpu() - cpu0)
    })
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn answered(c: &mut Ws) {
    loop {
        match c.next().await {
            Some(Ok(Message::Text(t))) if t.as_str() == "Call answered" => return,
            Some(Ok(Message::Text(t))) if t.starts_with("Call failed") || t.starts_with("Error") => panic!("{}", t.as_str()),
            Some(Ok(_)) => {}
            other => panic!("connection ended before the answer: {other:?}"),
        }
    }
}

/// The delays of this client's frames sent in the window.
async fn read_frames(mut c: Ws, stop: Arc<AtomicBool>) -> Vec<u32> {
    let mut delays = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            frame = c.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    let now = now_ns();
                    let Some(hex) = t.as_str().strip_prefix("RTP:") else { continue };
                    let mut sent = [0u8; 8];
                    const_hex::decode_to_slice(&hex[24..40], &mut sent).expect("hex");
                    let sent = u64::from_be_bytes(sent);
                    if in_window(sent) {
                        delays.push(((now - sent) / 1000) as u32);
                    }
                }
                Some(Ok(_)) => {}
                _ => break,
            },
            _ = tick.tick() => if stop.load(Ordering::Relaxed) { break },
        }
    }
    delays
}

/// The syscall floor of forwarding one packet, with no gateway: on one thread, `recvfrom`
/// of a 172-byte datagram on each of `n` sockets, then one `write` of its 352-byte frame
/// to each of `n` loopback TCP connections (drained by another thread).
fn floor(n: usize) {
    use std::io::{Read, Write};
    let sockets: Vec<UdpSocket> = (0..n).map(|_| UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut links = Vec::new();
    let mut peers = Vec::new();
    for _ in 0..n {
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (link, _) = listener.accept().unwrap();
        link.set_nodelay(true).unwrap();
        peer.set_nonblocking(true).unwrap();
        links.push(link);
        peers.push(peer);
    }
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        loop {
            for mut p in &peers {
                let _ = p.read(&mut buf);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (packet, frame, mut buf) = ([0x80u8; 172], [b'0'; 352], [0u8; 2048]);
    let (mut recv, mut write, mut count) = (Duration::ZERO, Duration::ZERO, 0u32);
    for _ in 0..200 {
        for s in &sockets {
            tx.send_to(&packet, s.local_addr().unwrap()).unwrap();
        }
        let t0 = thread_cpu();
        for s in &sockets {
            s.recv_from(&mut buf).unwrap();
        }
        let t1 = thread_cpu();
        for l in links.iter_mut() {
            l.write_all(&frame).unwrap();
        }
        recv += t1 - t0;
        write += thread_cpu() - t1;
        count += n as u32;
        std::thread::sleep(Duration::from_millis(2));
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap();
    println!("floor per packet: recvfrom {:.2} us + TCP write {:.2} us (load {})", recv.as_secs_f64() * 1e6 / count as f64, write.as_secs_f64() * 1e6 / count as f64, load.trim());
}
