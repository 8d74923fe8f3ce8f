//! kamailio (Debian package `kamailio`, installed by scripts/setup.sh) as a child process of a
//! test: started on a free UDP port with a script the test writes, its log read line by line,
//! stopped with SIGTERM when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use tokio::sync::mpsc;

use super::{free_udp_port, WAIT};

/// What a test's kamailio script logs once a worker serves its UDP socket.
pub const READY: &str = "sipdeck-test: ready";

/// kamailio in the foreground (`-DD`: no daemon, but its worker children), logging to
/// stderr, which a thread forwards line by line. SIGTERM when dropped: the main process
/// then stops its children too (SIGKILL would orphan them, with the port still bound).
pub struct Kamailio {
    child: Child,
    pub port: u16,
    log: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Kamailio {
    /// Run kamailio with the script `config(port)` returns, and wait until it logs [`READY`].
    /// Panics when kamailio is not installed.
    pub async fn start(config: impl FnOnce(u16) -> String) -> Kamailio {
        if Command::new("kamailio").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
            panic!("kamailio is not installed: run scripts/setup.sh (Debian package kamailio)");
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_udp_port(false);
        let cfg = dir.path().join("kamailio.cfg");
        std::fs::write(&cfg, config(port)).unwrap();
        // The package's built-in module path is used (no -L); runtime files go to the
        // temporary folder; small memory pools, as there are a few calls at most.
        let mut child = Command::new("kamailio")
            .args(["-DD", "-E", "-m", "16", "-M", "4", "-f"])
            .arg(&cfg)
            .arg("-Y")
            .arg(dir.path())
            .arg("-P")
            .arg(dir.path().join("kamailio.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kamailio");
        let (tx, log) = mpsc::unbounded_channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut k = Kamailio { child, port, log, seen: Vec::new(), _dir: dir };
        k.wait_log(READY).await;
        k
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Whether a line read so far contains `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.seen.iter().any(|l| l.contains(needle))
    }

    /// Read the log until a line contains `needle`; lines read by earlier waits count too.
    pub async fn saw_log(&mut self, needle: &str) -> String {
        match self.seen.iter().find(|l| l.contains(needle)) {
            Some(l) => l.clone(),
            None => self.wait_log(needle).await,
        }
    }

    /// Read the log until a line not read by an earlier wait contains `needle`.
    pub async fn wait_log(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.log.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Ok(None) => panic!("kamailio exited before logging {needle:?}; its log:\n{}", self.seen.join("\n")),
                Err(_) => panic!("kamailio did not log {needle:?}; its log:\n{}", self.seen.join("\n")),
            }
        }
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // SAFETY: a plain signal to our own child, whose pid is still ours (not yet reaped).
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}
