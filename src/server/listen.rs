//! The accept loop both servers run: one session task per WebSocket client, within caps on
//! the number of clients, until a shutdown future fires; then every session hangs up its
//! call and says goodbye. Draining (`server::drain`) closes the listener first and ends the
//! loop when the last session has left, or when the drain timeout is up.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::server::call::CallBackend;
use crate::server::session::{serve_client, SessionShared};

/// How long sessions get to hang up their calls when the server stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Waits after a failed accept (out of file descriptors...): doubling up to the last.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(2));

/// How many clients a server serves at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientCaps {
    pub total: usize,
    /// From one source address.
    pub per_ip: usize,
}

impl Default for ClientCaps {
    fn default() -> Self {
        ClientCaps { total: 256, per_ip: 32 }
    }
}

/// The clients being served, by source address.
#[derive(Debug, Default)]
struct Census {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

impl Census {
    /// Count a new client in, or say which cap it would break.
    fn admit(&mut self, ip: IpAddr, caps: ClientCaps) -> Result<(), Refusal> {
        if self.total >= caps.total {
            return Err(Refusal::TooMany);
        }
        let here = self.by_ip.entry(ip).or_default();
        if *here >= caps.per_ip {
            return Err(Refusal::TooManyFromAddress);
        }
        *here += 1;
        self.total += 1;
        Ok(())
    }

    fn leave(&mut self, ip: IpAddr) {
        self.total = self.total.saturating_sub(1);
        if let Some(n) = self.by_ip.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.by_ip.remove(&ip);
            }
        }
    }
}

/// Which cap a refused client would have broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    TooMany,
    TooManyFromAddress,
}

impl Refusal {
    /// What the client is told.
    fn text(self) -> &'static str {
        match self {
            Refusal::TooMany => "too many clients",
            Refusal::TooManyFromAddress => "too many clients from this address",
        }
    }

    /// The metric's `reason` label.
    fn label(self) -> &'static str {
        match self {
            Refusal::TooMany => "too_many_clients",
            Refusal::TooManyFromAddress => "too_many_clients_from_address",
        }
    }
}

/// Accept errors come in episodes (the descriptor table is full for a while): one log
/// line when one starts, one when it ends, and a growing wait in between.
#[derive(Debug, Default)]
struct AcceptTrouble {
    errors: u64,
}

impl AcceptTrouble {
    fn failed(&mut self, e: &std::io::Error) -> Duration {
        self.errors += 1;
        if self.errors == 1 {
            tracing::warn!(error = %e, "accepting clients fails; retrying with backoff");
        }
        let doubled = ACCEPT_BACKOFF.0.saturating_mul(1 << self.errors.min(16).saturating_sub(1));
        doubled.min(ACCEPT_BACKOFF.1)
    }

    fn succeeded(&mut self) {
        if self.errors > 0 {
            tracing::warn!(errors = self.errors, "accepting clients works again");
            self.errors = 0;
        }
    }
}

/// Accept clients on `listener` until `shutdown` completes, then end every session
/// (their calls are hung up, their clients get a 1001 close). Once `shared.drain` starts,
/// the listener is closed (a load balancer's next connection attempt fails at once and goes
/// to another instance) and the loop ends when every session has left, or at the drain
/// timeout.
pub async fn accept_clients<B: CallBackend>(
    listener: TcpListener,
    shared: Arc<SessionShared<B>>,
    caps: ClientCaps,
    shutdown: impl Future<Output = ()>,
) {
    let stop = CancellationToken::new();
    let mut sessions = JoinSet::new();
    let mut census = Census::default();
    let mut trouble = AcceptTrouble::default();
    let mut listener = Some(listener);
    let mut drain_deadline: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = accept_on(&listener) => match accepted {
                Ok((stream, peer)) => {
                    trouble.succeeded();
                    let _ = stream.set_nodelay(true);
                    match census.admit(peer.ip(), caps) {
                        Ok(()) => {
                            let session = serve_client(stream, peer, shared.clone(), stop.child_token());
                            sessions.spawn(async move {
                                session.await;
                                peer.ip()
                            });
                        }
                        Err(why) => {
                            tracing::info!(%peer, clients = census.total, why = why.text(), "client refused");
                            shared.metrics.refused(why.label());
                            tokio::spawn(refuse(stream, peer, why.text()));
                        }
                    }
                }
                Err(e) => tokio::time::sleep(trouble.failed(&e)).await,
            },
            Some(done) = sessions.join_next(), if !sessions.is_empty() => {
                if let Ok(ip) = done {
                    census.leave(ip);
                }
                if drain_deadline.is_some() && sessions.is_empty() {
                    tracing::info!("drained: every client has left");
                    break;
                }
            }
            _ = shared.drain.started(), if drain_deadline.is_none() => {
                listener = None;
                drain_deadline = Some(Instant::now() + shared.drain.timeout());
                shared.metrics.set_draining(true);
                tracing::info!(clients = sessions.len(), timeout_s = shared.drain.timeout().as_secs(), "draining: no new clients; calls in progress may finish");
                if sessions.is_empty() {
                    break;
                }
            }
            _ = sleep_until(drain_deadline) => {
                tracing::warn!(clients = sessions.len(), "drain timeout: hanging up the calls left");
                break;
            }
            _ = &mut shutdown => break,
        }
    }
    tracing::info!(clients = sessions.len(), "server stopping: hanging up every call");
    drop(listener);
    stop.cancel();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async { while sessions.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        sessions.abort_all();
    }
}

/// The next client, or never once the listener is closed.
async fn accept_on(listener: &Option<TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// A client over a cap gets an HTTP 503 (before any WebSocket exists) and the door.
async fn refuse(mut stream: TcpStream, peer: SocketAddr, why: &'static str) {
    let body = format!("{why}; try again later\n");
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 10\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let sent = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    });
    if let Ok(Err(e)) = sent.await {
        tracing::debug!(%peer, error = %e, "refusal not delivered");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_clients_in_total_and_by_address() {
        let caps = ClientCaps { total: 3, per_ip: 2 };
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let mut c = Census::default();
        assert!(c.admit(a, caps).is_ok());
        assert!(c.admit(a, caps).is_ok());
        assert_eq!(c.admit(a, caps), Err(Refusal::TooManyFromAddress));
        assert!(c.admit(b, caps).is_ok());
        assert_eq!(c.admit(b, caps), Err(Refusal::TooMany));
        c.leave(a);
        assert!(c.admit(b, caps).is_ok());
        c.leave(a);
        c.leave(b);
        c.leave(b);
        assert_eq!((c.total, c.by_ip.len()), (0, 0));
    }

    #[test]
    fn accept_errors_back_off_and_log_once_per_episode() {
        let mut t = AcceptTrouble::default();
        let e = std::io::Error::other("EMFILE");
        let waits: Vec<_> = (0..8).map(|_| t.failed(&e)).collect();
        assert_eq!(waits[0], Duration::from_millis(50));
        assert_eq!(waits[1], Duration::from_millis(100));
        assert_eq!(waits[7], Duration::from_secs(2));
        t.succeeded();
        assert_eq!(t.errors, 0);
        assert_eq!(t.failed(&e), Duration::from_millis(50));
    }
}
