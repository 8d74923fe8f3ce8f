//! Draining: the server stops taking clients, lets calls in progress finish (up to a
//! timeout) and closes every client without a call, so an instance can be replaced behind a
//! load balancer without cutting a call.

use std::time::Duration;

use tokio::time::Interval;
use tokio_util::sync::CancellationToken;

/// The status line a client gets before a draining server closes its connection.
pub const DRAIN_LINE: &str = "Server draining: reconnect";
/// How often a session that still has a call looks again whether it is over.
const IDLE_CHECK: Duration = Duration::from_millis(250);
/// `--drain-timeout`'s default.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(300);

/// Whether the server drains, shared by the accept loop, every session and `/healthz`.
/// Cloning shares it.
#[derive(Debug, Clone)]
pub struct Drain {
    started: CancellationToken,
    /// The longest calls in progress get once draining starts; then they are hung up.
    timeout: Duration,
}

impl Default for Drain {
    fn default() -> Self {
        Drain::new(DEFAULT_DRAIN_TIMEOUT)
    }
}

impl Drain {
    pub fn new(timeout: Duration) -> Drain {
        Drain { started: CancellationToken::new(), timeout }
    }

    /// Start draining (again: nothing more happens).
    pub fn start(&self) {
        self.started.cancel();
    }

    pub fn is_draining(&self) -> bool {
        self.started.is_cancelled()
    }

    /// Resolves once draining has started.
    pub async fn started(&self) {
        self.started.cancelled().await
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What a session waits on to learn it should look whether it is idle.
    pub fn watch(&self) -> DrainWatch {
        DrainWatch { started: self.started.clone(), ticks: None }
    }
}

/// A session's view of draining: `tick` resolves when draining starts, then again every
/// [`IDLE_CHECK`] (a session with a call looks whether it is over yet).
#[derive(Debug)]
pub struct DrainWatch {
    started: CancellationToken,
    ticks: Option<Interval>,
}

impl DrainWatch {
    /// Cancel-safe: usable as a `select!` branch.
    pub async fn tick(&mut self) {
        if self.ticks.is_none() {
            self.started.cancelled().await;
            let mut ticks = tokio::time::interval(IDLE_CHECK);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            self.ticks = Some(ticks);
        }
        if let Some(t) = self.ticks.as_mut() {
            // The first tick is at once: an idle session leaves as soon as draining starts.
            t.tick().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watch_ticks_once_draining_starts_then_again() {
        use futures_util::FutureExt as _;
        let drain = Drain::new(Duration::from_secs(1));
        let mut watch = drain.watch();
        assert!(watch.tick().now_or_never().is_none(), "ticked before draining");
        assert!(!drain.is_draining());
        drain.start();
        assert!(drain.is_draining());
        let limit = Duration::from_secs(5);
        tokio::time::timeout(limit, watch.tick()).await.expect("the first tick comes when draining starts");
        tokio::time::timeout(limit, watch.tick()).await.expect("and the next a check later");
        // Every clone sees the same state.
        assert!(drain.clone().is_draining());
    }
}
