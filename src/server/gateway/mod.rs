//! The gateway: WebSocket clients on one side, SIP calls and RTP on the other.
//!
//! `serve` runs it on a bound listener until a shutdown future fires (tests and the demo
//! embed it this way); `run` is `sipdeck gateway`: it binds, and stops on Ctrl-C or SIGTERM.
//! Each client gets its own session (`ws`) and at most one call at a time (`call`), with
//! its own RTP port (`media`); SIP goes through one user agent (`sip`, on rsipstack).

pub mod call;
pub mod handshake;
pub mod media;
pub mod outbox;
pub mod sdp;
pub mod sip;
pub mod store;
pub mod ws;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use self::call::CallContext;
use self::media::{PortPool, PortRange};
use self::sip::{Account, SipAgent, SipConfig, SipTarget};
use self::store::Store;
use self::ws::Shared;

/// Flags of `sipdeck gateway`.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayArgs {
    /// WebSocket listen address. Anything but loopback is an explicit choice: pair it with
    /// --token.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The SIP proxy, PBX or endpoint that calls go to (host:port; port 5060 if left out).
    #[arg(long, value_name = "HOST:PORT")]
    pub sip_target: SipTarget,
    /// Local UDP address for SIP.
    #[arg(long, default_value = "0.0.0.0:5060")]
    pub sip_listen: SocketAddr,
    /// The address the far end should reach us on (Via, Contact, SDP); by default the
    /// --sip-listen address, or the local address on the route to the target.
    #[arg(long)]
    pub public_ip: Option<IpAddr>,
    /// UDP ports for RTP, one even port per call.
    #[arg(long, default_value = "10000-20000", value_name = "FIRST-LAST")]
    pub rtp_ports: PortRange,
    /// SIP user (From and digest username).
    #[arg(long)]
    pub sip_user: Option<String>,
    /// SIP password for digest authentication (or SIPDECK_SIP_PASSWORD).
    #[arg(long, env = "SIPDECK_SIP_PASSWORD", hide_env_values = true, requires = "sip_user")]
    pub sip_password: Option<String>,
    /// SIP domain for the From header; the target's host if left out.
    #[arg(long)]
    pub sip_domain: Option<String>,
    /// Folder for uploaded WAV files; nothing outside it is ever read or written.
    #[arg(long, default_value = "gateway-uploads")]
    pub store: PathBuf,
    /// Access token clients must present (?token=... or Authorization: Bearer ...), or
    /// SIPDECK_GATEWAY_TOKEN.
    #[arg(long, env = "SIPDECK_GATEWAY_TOKEN", hide_env_values = true,
          value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub token: Option<String>,
}

/// Everything `serve` needs, ready to use.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub sip: SipConfig,
    pub rtp_ports: PortRange,
    pub store: PathBuf,
    pub token: Option<String>,
}

impl GatewayConfig {
    pub fn from_args(args: &GatewayArgs) -> GatewayConfig {
        GatewayConfig {
            sip: SipConfig {
                bind: args.sip_listen,
                public_ip: args.public_ip,
                target: args.sip_target.clone(),
                account: Account {
                    user: args.sip_user.clone(),
                    password: args.sip_password.clone(),
                    domain: args.sip_domain.clone(),
                },
                t1: Duration::from_millis(500),
            },
            rtp_ports: args.rtp_ports,
            store: args.store.clone(),
            token: args.token.clone(),
        }
    }
}

impl GatewayConfig {
    /// A gateway for tests and demos: SIP on a free loopback port, RTP on loopback, no
    /// token, RFC timers. Change fields as needed before `serve`.
    pub fn loopback(target: SocketAddr, store: &std::path::Path) -> GatewayConfig {
        GatewayConfig {
            sip: SipConfig {
                bind: SocketAddr::from(([127, 0, 0, 1], 0)),
                public_ip: None,
                target: SipTarget { host: target.ip().to_string(), port: target.port() },
                account: Account::default(),
                t1: Duration::from_millis(500),
            },
            rtp_ports: PortRange { first: 20000, last: 29999 },
            store: store.to_path_buf(),
            token: None,
        }
    }
}

/// How long sessions get to hang up their calls when the gateway stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Run the gateway on `listener` until `shutdown` completes; then every call is hung up
/// (BYE or CANCEL) and every client is told the gateway is going away.
pub async fn serve(listener: TcpListener, config: GatewayConfig, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let store = Store::open(&config.store).with_context(|| format!("upload folder {}", config.store.display()))?;
    let agent = SipAgent::start(&config.sip).await.context("SIP user agent")?;
    let rtp_ip = config.sip.bind.ip();
    let shared = Arc::new(Shared {
        calls: CallContext { agent: agent.clone(), ports: Arc::new(PortPool::new(config.rtp_ports, rtp_ip)) },
        store,
        token: config.token.clone(),
    });
    let stop = CancellationToken::new();
    let mut sessions = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    sessions.spawn(ws::session(stream, peer, shared.clone(), stop.child_token()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "accept");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            _ = &mut shutdown => break,
        }
    }
    tracing::info!(clients = sessions.len(), "gateway stopping: hanging up every call");
    drop(listener);
    stop.cancel();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async { while sessions.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        sessions.abort_all();
    }
    agent.shutdown();
    Ok(())
}

/// `sipdeck gateway`: bind, serve, stop on Ctrl-C or SIGTERM.
pub async fn run(args: GatewayArgs) -> anyhow::Result<()> {
    let config = GatewayConfig::from_args(&args);
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("listen on {}", args.listen))?;
    if !args.listen.ip().is_loopback() && config.token.is_none() {
        tracing::warn!(listen = %args.listen, "listening beyond loopback without --token: anyone who reaches this port can place calls");
    }
    eprintln!(
        "sipdeck gateway: ws://{} -> SIP {} (uploads in {})",
        listener.local_addr()?,
        config.sip.target,
        config.store.display()
    );
    serve(listener, config, stop_signal()).await
}

/// Ctrl-C or SIGTERM, whichever comes first.
async fn stop_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        gateway: GatewayArgs,
    }

    fn parse(args: &[&str]) -> Result<GatewayArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("gateway").chain(args.iter().copied())).map(|c| c.gateway)
    }

    #[test]
    fn defaults_are_loopback_and_rfc_timers() {
        let a = parse(&["--sip-target", "pbx.lan"]).unwrap();
        assert_eq!(a.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(a.sip_listen, "0.0.0.0:5060".parse().unwrap());
        assert_eq!(a.rtp_ports, PortRange { first: 10000, last: 20000 });
        assert_eq!(a.sip_target.to_string(), "pbx.lan:5060");
        let cfg = GatewayConfig::from_args(&a);
        assert_eq!(cfg.sip.t1, Duration::from_millis(500));
        assert!(cfg.token.is_none());
    }

    #[test]
    fn every_flag_parses_and_bad_values_are_refused() {
        let a = parse(&[
            "--listen", "0.0.0.0:9000", "--sip-target", "10.0.0.5:5080", "--sip-listen", "10.0.0.2:5062",
            "--public-ip", "203.0.113.9", "--rtp-ports", "40000-40100", "--sip-user", "1001",
            "--sip-password", "pw", "--sip-domain", "pbx.example", "--store", "up", "--token", "t0k",
        ])
        .unwrap();
        let cfg = GatewayConfig::from_args(&a);
        assert_eq!(cfg.sip.account.user.as_deref(), Some("1001"));
        assert_eq!(cfg.sip.account.password.as_deref(), Some("pw"));
        assert_eq!(cfg.sip.public_ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(cfg.token.as_deref(), Some("t0k"));
        assert!(parse(&[]).is_err(), "--sip-target is required");
        assert!(parse(&["--sip-target", "x", "--sip-password", "pw"]).is_err(), "a password needs a user");
        assert!(parse(&["--sip-target", "x", "--rtp-ports", "9-3"]).is_err());
        assert!(parse(&["--sip-target", "x:0"]).is_err());
        // An empty token would be a token everyone knows.
        assert!(parse(&["--sip-target", "x", "--token", ""]).is_err());
    }
}
