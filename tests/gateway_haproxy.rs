//! Scale-out: HAProxy in front of two `sipdeck gateway` processes on loopback (sipp as the
//! far end of every call). Clients spread over both; one instance is drained (SIGTERM) mid-
//! test: its calls go on until their clients hang up, its /healthz turns 503, HAProxy marks
//! it down, new clients and calls land on the other instance, an idle client reconnects
//! there and still finds the file it uploaded, and the drained instance exits 0 after its
//! last call.

mod gateway_support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use gateway_support::process::{metric, GatewayProcess};
use gateway_support::{Client, Sipp, WAIT};
use sipdeck::core::protocol::ClientMsg;
use sipdeck::core::wav::{self, Law};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

/// The HAProxy configuration the README shows, with this test's ports.
fn haproxy_config(front: u16, gateways: &[GatewayProcess; 2], stats: &Path) -> String {
    let servers: String = gateways
        .iter()
        .enumerate()
        .map(|(i, g)| format!("    server gw{} {} check port {} inter 100ms fall 1 rise 1\n", i + 1, g.ws, g.metrics.port()))
        .collect();
    format!(
        "global\n    stats socket {} mode 600 level admin\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 1h\n    timeout server 1h\n    timeout tunnel 1h\n\
         \x20   option redispatch\n    retries 3\n\
         frontend ws\n    bind 127.0.0.1:{front}\n    default_backend gateways\n\
         backend gateways\n    balance roundrobin\n    option httpchk GET /healthz\n    http-check expect status 200\n{servers}",
        stats.display()
    )
}

struct HaProxy {
    _child: Child,
    front: u16,
    stats: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl HaProxy {
    async fn start(gateways: &[GatewayProcess; 2]) -> HaProxy {
        let dir = tempfile::tempdir().unwrap();
        let front = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let stats = dir.path().join("admin.sock");
        let cfg = dir.path().join("haproxy.cfg");
        std::fs::write(&cfg, haproxy_config(front, gateways, &stats)).unwrap();
        let check = std::process::Command::new("haproxy").arg("-v").stdout(Stdio::null()).status();
        assert!(check.is_ok(), "haproxy is not installed: run scripts/setup.sh (Debian package haproxy)");
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn haproxy");
        let proxy = HaProxy { _child: child, front, stats, _dir: dir };
        for server in ["gw1", "gw2"] {
            proxy.await_status(server, "UP").await;
        }
        proxy
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.front)
    }

    /// A server's status in `show stat` (UP, DOWN...), if HAProxy answers yet.
    async fn status(&self, server: &str) -> Option<String> {
        let mut s = tokio::net::UnixStream::connect(&self.stats).await.ok()?;
        s.write_all(b"show stat\n").await.ok()?;
        let mut csv = String::new();
        s.read_to_string(&mut csv).await.ok()?;
        let header: Vec<&str> = csv.lines().next()?.trim_start_matches("# ").split(',').collect();
        let col = header.iter().position(|h| *h == "status")?;
        let row = csv.lines().find(|l| l.starts_with(&format!("gateways,{server},")))?;
        row.split(',').nth(col).map(str::to_string)
    }

    async fn await_status(&self, server: &str, want: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.status(server).await;
            if now.as_deref().is_some_and(|s| s.starts_with(want)) {
                return;
            }
            assert!(Instant::now() < deadline, "haproxy never saw {server} {want} (last: {now:?})");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// How many WebSocket clients each instance has, once they add up to `total`.
async fn census(gws: &[GatewayProcess; 2], total: f64) -> [f64; 2] {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut n = [0.0; 2];
        for (i, g) in gws.iter().enumerate() {
            n[i] = metric(&g.scrape().await, "sipdeck_ws_clients").unwrap();
        }
        if n[0] + n[1] == total {
            return n;
        }
        assert!(Instant::now() < deadline, "clients never added up to {total}: {n:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Connect through HAProxy; which instance (0 or 1) took the client.
async fn connect(proxy: &HaProxy, gws: &[GatewayProcess; 2], before: [f64; 2]) -> (Client, usize, [f64; 2]) {
    let c = Client::connect(&proxy.url()).await;
    let now = census(gws, before[0] + before[1] + 1.0).await;
    let on = if now[0] > before[0] { 0 } else { 1 };
    (c, on, now)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_one_instance_behind_haproxy_cuts_no_call() {
    // 4 calls before the drain, 2 after (a reconnected client and a new one).
    let sipp = Sipp::start_calls("answer_stream_wait_bye.xml", 6, &[]);
    let uploads = tempfile::tempdir().unwrap();
    let mut gws = [
        GatewayProcess::start(sipp.addr, uploads.path(), &["--rtp-ports", "40000-44999", "--drain-timeout", "60"]).await,
        GatewayProcess::start(sipp.addr, uploads.path(), &["--rtp-ports", "45000-49999", "--drain-timeout", "60"]).await,
    ];
    let proxy = HaProxy::start(&gws).await;

    // Four clients with calls, spread over both instances.
    let mut count = [0.0; 2];
    let mut calls: Vec<(Client, usize)> = Vec::new();
    for i in 0..4 {
        let (mut c, on, now) = connect(&proxy, &gws, count).await;
        count = now;
        c.send(&format!("CALL:555080{i}")).await;
        c.line("Call answered").await;
        calls.push((c, on));
    }
    assert!(count[0] >= 1.0 && count[1] >= 1.0, "HAProxy sent every client to one instance: {count:?}");
    for (c, _) in calls.iter_mut() {
        c.rtp_frames(10).await;
    }
    // A fifth client, without a call, uploads a file; the instance it landed on is drained.
    let (mut idle, x, now) = connect(&proxy, &gws, count).await;
    count = now;
    let y = 1 - x;
    let file = wav::pcm16_wav(Law::MuLaw, &gateway_support::tone_ulaw(0.2));
    idle.send(&ClientMsg::WavUpload { name: "hello.wav".parse().unwrap(), data: file }.encode()).await;
    idle.line("WAV_ACK").await;
    assert!(calls.iter().any(|(_, on)| *on == x), "no call on the instance to drain");

    gws[x].signal("TERM");
    // The idle client is told at once, and closed with 1012 (service restart).
    idle.line("Server draining: reconnect").await;
    assert_eq!(idle.close_code().await, Some(1012));
    assert_eq!(gws[x].get("/healthz").await, (503, "draining\n".to_string()));
    assert_eq!(metric(&gws[x].scrape().await, "sipdeck_draining"), Some(1.0));
    let (down, up) = if x == 0 { ("gw1", "gw2") } else { ("gw2", "gw1") };
    proxy.await_status(down, "DOWN").await;
    assert!(proxy.status(up).await.is_some_and(|s| s.starts_with("UP")));

    // Calls on the draining instance go on: a second more of audio, no end.
    for (c, _) in calls.iter_mut().filter(|(_, on)| *on == x) {
        let had = c.rtp.len();
        c.rtp_frames(had + 50).await;
        assert!(!c.lines.iter().any(|l| l.starts_with("Call ended")), "{:?}", c.lines);
    }
    // The idle client reconnects: it lands on the other instance and finds its upload there.
    count[x] -= 1.0;
    let (mut back, on, now) = connect(&proxy, &gws, count).await;
    count = now;
    assert_eq!(on, y, "a client reached the draining instance");
    back.send("CALL:5550810").await;
    back.line("Call answered").await;
    back.send("PLAY_WAV:hello.wav").await;
    assert_eq!(back.line("Playing").await, "Playing hello.wav (0.2 s)");
    // A new client and call land on the other instance too.
    let (mut fresh, on, _) = connect(&proxy, &gws, count).await;
    assert_eq!(on, y, "a client reached the draining instance");
    fresh.send("CALL:5550811").await;
    fresh.line("Call answered").await;
    fresh.rtp_frames(10).await;
    assert!(!gws[x].exited(), "the drained instance left with calls in progress");

    // Its clients hang up: each hears the end of its call, then the drain; then it exits 0.
    for (c, _) in calls.iter_mut().filter(|(_, on)| *on == x) {
        c.send("HANGUP").await;
        c.line("Call ended").await;
        c.line("Server draining: reconnect").await;
        assert_eq!(c.close_code().await, Some(1012));
    }
    let drained = gws[x].exit(WAIT).await;
    assert!(drained.success(), "the drained instance exited with {drained}");

    // The rest hang up; the other instance is still serving.
    for (c, _) in calls.iter_mut().filter(|(_, on)| *on == y) {
        c.send("HANGUP").await;
        c.line("Call ended").await;
    }
    for c in [&mut back, &mut fresh] {
        c.send("HANGUP").await;
        c.line("Call ended").await;
    }
    let text = gws[y].scrape().await;
    assert_eq!(metric(&text, "sipdeck_draining"), Some(0.0), "{text}");
    assert!(sipp.finish().await.success(), "sipp scenario failed: a call did not end with the gateway's BYE");
    drop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigusr1_drains_and_the_drain_timeout_hangs_up_what_remains() {
    let sipp = Sipp::start("answer_stream_wait_bye.xml", &[]);
    let uploads = tempfile::tempdir().unwrap();
    let mut gw = GatewayProcess::start(sipp.addr, uploads.path(), &["--rtp-ports", "55000-57999", "--drain-timeout", "1"]).await;
    let mut c = Client::connect(&gw.url).await;
    c.send("CALL:5550820").await;
    c.line("Call answered").await;
    c.rtp_frames(5).await;
    gw.signal("USR1");
    gw.await_metric("sipdeck_draining", 1.0).await;
    assert_eq!(gw.get("/healthz").await.0, 503);
    // New clients find the door closed.
    assert!(Client::try_connect(&gw.url, None).await.is_err());
    // The call goes on until the timeout, then is hung up (BYE) and the client told.
    c.line("Call ended").await;
    assert_eq!(c.close_code().await, Some(1001));
    assert!(gw.exit(WAIT).await.success());
    assert!(sipp.finish().await.success(), "sipp got no BYE before the gateway exited");
}
