//! Shared pieces of the gateway tests: an embedded gateway, a raw WebSocket client that
//! records what it hears, and sipp as a child process that is killed if a test fails.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use sipdeck::server::gateway::{serve, GatewayConfig};
use sipdeck::core::protocol::{self, ServerMsg};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

pub mod baresip;
pub mod kamailio;
pub mod process;

pub const WAIT: Duration = Duration::from_secs(15);

/// A gateway running inside the test, on free ports.
pub struct Gateway {
    pub addr: SocketAddr,
    pub store: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Gateway {
    pub async fn start(target: SocketAddr, tweak: impl FnOnce(&mut GatewayConfig)) -> Gateway {
        let store = tempfile::tempdir().unwrap();
        let mut cfg = GatewayConfig::loopback(target, store.path());
        tweak(&mut cfg);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, cfg, async move {
            let _ = stopped.await;
        }));
        Gateway { addr, store, stop: Some(stop), task }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Fire the shutdown signal and wait for `serve` to return.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let result = tokio::time::timeout(WAIT, &mut self.task).await.expect("gateway stops in time");
        result.unwrap().unwrap();
    }
}

/// A test client that keeps every status line and counts RTP frames.
pub struct Client {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    pub lines: Vec<String>,
    pub rtp: Vec<Vec<u8>>,
    pub subprotocol: Option<String>,
    cursor: usize,
}

impl Client {
    pub async fn connect(url: &str) -> Client {
        Client::try_connect(url, None).await.expect("connect")
    }

    pub async fn try_connect(url: &str, bearer: Option<&str>) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let mut req = url.into_client_request()?;
        req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol::SUBPROTOCOL));
        if let Some(t) = bearer {
            req.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {t}")).unwrap());
        }
        let (ws, resp) = tokio_tungstenite::connect_async(req).await?;
        let subprotocol = resp
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap().to_string());
        Ok(Client { ws, lines: Vec::new(), rtp: Vec::new(), subprotocol, cursor: 0 })
    }

    pub async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// Read frames until `done` holds for what was heard, or fail after `limit`.
    pub async fn until(&mut self, what: &str, limit: Duration, mut done: impl FnMut(&Client) -> bool) {
        let deadline = Instant::now() + limit;
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = match tokio::time::timeout(left, self.ws.next()).await {
                Ok(Some(Ok(f))) => f,
                Ok(other) => panic!("connection ended waiting for {what}: {other:?}; lines so far: {:#?}", self.lines),
                Err(_) => panic!("timed out waiting for {what}; lines so far: {:#?}; {} RTP frames", self.lines, self.rtp.len()),
            };
            if let Message::Text(t) = frame {
                match ServerMsg::parse(t.as_str()) {
                    ServerMsg::Rtp(hex) => {
                        let mut pkt = Vec::new();
                        protocol::decode_rtp_hex(hex, &mut pkt).expect("RTP hex");
                        self.rtp.push(pkt);
                    }
                    _ => self.lines.push(t.as_str().to_string()),
                }
            }
        }
    }

    /// Wait for a status line that starts with `prefix`, after the last line this
    /// returned (so lines are taken in the order they came).
    pub async fn line(&mut self, prefix: &str) -> String {
        let start = self.cursor;
        let find = |c: &Client| c.lines[start..].iter().position(|l| l.starts_with(prefix));
        self.until(prefix, WAIT, |c| find(c).is_some()).await;
        let i = start + find(self).unwrap();
        self.cursor = i + 1;
        self.lines[i].clone()
    }

    /// Wait until `n` RTP frames have arrived in all.
    pub async fn rtp_frames(&mut self, n: usize) {
        self.until(&format!("{n} RTP frames"), WAIT, |c| c.rtp.len() >= n).await;
    }

    pub fn saw(&self, line: &str) -> bool {
        self.lines.iter().any(|l| l == line)
    }

    /// Ping the server and wait for its pong (the reference client drops a connection
    /// whose pongs stop).
    pub async fn ping(&mut self, payload: &'static [u8]) {
        self.ws.send(Message::Ping(payload.into())).await.unwrap();
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await.expect("pong in time") {
                Some(Ok(Message::Pong(p))) if p.as_ref() == payload => return,
                Some(Ok(_)) => {}
                other => panic!("no pong: {other:?}"),
            }
        }
    }

    /// Read on until the server closes; the close code it gave.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await.expect("server closes in time") {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A free UDP port on loopback (and, with `pair`, the one two above free too, for
/// sipp's RTP echo on port+2).
pub fn free_udp_port(pair: bool) -> u16 {
    loop {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if !pair || (port < 65000 && UdpSocket::bind(("127.0.0.1", port + 2)).is_ok()) {
            return port;
        }
    }
}

pub fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp").join(name)
}

/// 8 kHz mu-law of a 440 Hz tone, for sipp's `rtp_stream` (it ships no PCMU audio).
pub fn tone_ulaw(seconds: f64) -> Vec<u8> {
    let mut tone = sipdeck::core::audio::Tone::new(440.0, 8000.0, 0.3);
    let mut out = vec![0u8; (8000.0 * seconds) as usize];
    tone.fill_ulaw(&mut out);
    out
}

/// sipp as the far end, as a child process killed when this guard is dropped.
pub struct Sipp {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub media_port: u16,
    pub dir: tempfile::TempDir,
}

impl Sipp {
    /// Start sipp as a UAS on a free port with `scenario` from tests/sipp/; its working
    /// folder holds `audio.raw` (two seconds of tone) and its logs.
    pub fn start(scenario_name: &str, extra: &[&str]) -> Sipp {
        Sipp::start_calls(scenario_name, 1, extra)
    }

    /// Like `start`, for `calls` calls before sipp exits.
    pub fn start_calls(scenario_name: &str, calls: u32, extra: &[&str]) -> Sipp {
        let which = std::process::Command::new("sipp").arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status();
        assert!(which.is_ok(), "sipp is not installed: run scripts/setup.sh (Debian package sip-tester)");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("audio.raw"), tone_ulaw(2.0)).unwrap();
        let port = free_udp_port(false);
        let media_port = free_udp_port(true);
        let control_port = free_udp_port(false);
        let mut cmd = Command::new("sipp");
        cmd.current_dir(dir.path())
            .arg("-sf")
            .arg(scenario(scenario_name))
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &port.to_string(), "-mp", &media_port.to_string(), "-cp", &control_port.to_string()])
            .args(["-m", &calls.to_string(), "-nostdin", "-timeout", "30s", "-timeout_error", "-trace_err", "-trace_msg"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().expect("spawn sipp");
        // Ready once its SIP port is taken: an INVITE sent earlier meets ICMP "port
        // unreachable", which the gateway takes for a dead target.
        for _ in 0..200 {
            if UdpSocket::bind(("127.0.0.1", port)).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Sipp { child: Some(child), addr: SocketAddr::from(([127, 0, 0, 1], port)), media_port, dir }
    }

    /// Wait for sipp to finish its one call; its exit status says whether the scenario
    /// passed (0). Its logs are printed when it did not.
    pub async fn finish(self) -> ExitStatus {
        self.finish_keeping_logs().await.0
    }

    /// `finish`, and sipp's `*_messages.log` (every SIP message it sent and received).
    pub async fn finish_keeping_logs(mut self) -> (ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        let status = match tokio::time::timeout(Duration::from_secs(35), child.wait()).await {
            Ok(s) => s.expect("wait for sipp"),
            Err(_) => {
                let _ = child.kill().await;
                self.dump_logs();
                panic!("sipp did not finish");
            }
        };
        if !status.success() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use tokio::io::AsyncReadExt;
                let _ = e.read_to_string(&mut err).await;
            }
            eprintln!("sipp stderr:\n{err}");
            self.dump_logs();
        }
        let messages = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with("_messages.log"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .unwrap_or_default();
        (status, messages)
    }

    fn dump_logs(&self) {
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "log") {
                eprintln!("==== {} ====\n{}", p.display(), std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
}
