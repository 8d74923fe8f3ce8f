//! `sipdeck gateway` as a child process (killed if a test fails): the addresses it prints,
//! its log lines, its metrics and health endpoint, and signals.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

pub struct GatewayProcess {
    child: Child,
    pub url: String,
    pub ws: SocketAddr,
    pub metrics: SocketAddr,
    /// Every line it wrote to stderr so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl GatewayProcess {
    /// Start it with `--metrics` on a free port, calls going to `target`, uploads in `store`;
    /// `extra` flags follow.
    pub async fn start(target: SocketAddr, store: &Path, extra: &[&str]) -> GatewayProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sipdeck"))
            .args(["gateway", "--listen", "127.0.0.1:0", "--sip-listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0"])
            .args(["--sip-target", &target.to_string()])
            .arg("--upload-dir")
            .arg(store)
            .args(extra)
            .env("RUST_LOG", "info,rsipstack=warn,webrtc_sdp=error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run sipdeck gateway");
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (mut url, mut metrics) = (None, None);
        let started = tokio::time::timeout(Duration::from_secs(20), async {
            while url.is_none() || metrics.is_none() {
                let line = stderr.next_line().await.unwrap().expect("the gateway exited while starting");
                if let Some(rest) = line.strip_prefix("sipdeck gateway: ") {
                    url = Some(rest.split(' ').next().unwrap().to_string());
                }
                if let Some(rest) = line.strip_prefix("sipdeck gateway metrics: http://") {
                    metrics = Some(rest.split('/').next().unwrap().parse::<SocketAddr>().unwrap());
                }
                log.lock().unwrap().push(line);
            }
        })
        .await;
        started.unwrap_or_else(|_| panic!("the gateway did not say where it listens: {:?}", log.lock().unwrap()));
        let keep = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                keep.lock().unwrap().push(line);
            }
        });
        let url = url.unwrap();
        let ws = url.trim_start_matches("ws://").trim_end_matches('/').parse().unwrap();
        GatewayProcess { child, url, ws, metrics: metrics.unwrap(), log }
    }

    /// Send a signal (`TERM`, `USR1`).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("still running").to_string();
        assert!(std::process::Command::new("kill").args([&format!("-{name}"), &pid]).status().unwrap().success());
    }

    /// Wait at most `limit` for it to exit.
    pub async fn exit(&mut self, limit: Duration) -> ExitStatus {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(s) => s.unwrap(),
            Err(_) => panic!("the gateway did not exit; its log: {:#?}", self.log.lock().unwrap()),
        }
    }

    pub fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// `GET path` on the metrics address: status code and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        http_get(self.metrics, path).await
    }

    pub async fn scrape(&self) -> String {
        let (status, body) = self.get("/metrics").await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Scrape until `name` has `want` (bounded): metrics follow events by a moment.
    pub async fn await_metric(&self, name: &str, want: f64) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.scrape().await;
            if metric(&text, name) == Some(want) {
                return text;
            }
            assert!(Instant::now() < deadline, "{name} never became {want}:\n{text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A plain HTTP/1.1 GET (the endpoint closes after each answer).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect to the metrics address");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut raw)).await.expect("answer in time").unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// The value of sample `name` (labels included, as exposed), if present.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}
