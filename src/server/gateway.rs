//! The gateway: WebSocket clients on one side, SIP calls and RTP on the other.
//!
//! `serve` runs it on a bound listener until a shutdown future fires or a drain ends (tests
//! embed it this way); `run` is `sipdeck gateway`: it binds, serves `--metrics`, drains on
//! SIGTERM or SIGUSR1 and stops at once on Ctrl-C (or a second SIGTERM). Each client gets the
//! shared session (`server::session`) with a SIP line behind it (`server::sip`).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::server::drain::Drain;
use crate::server::http::{self, OpsState};
use crate::server::listen::{accept_clients, ClientCaps};
use crate::server::logs::LogFormat;
use crate::server::metrics::Metrics;
use crate::server::session::{SessionLimits, SessionShared};
use crate::server::media::Codec;
use crate::server::sip::ports::{PortPool, PortRange};
use crate::server::sip::dtmf::DtmfTiming;
use crate::server::sip::register::{RegisterConfig, Registrar};
use crate::server::sip::rtp::RtpSources;
use crate::server::sip::{Account, CallPolicy, SipAgent, SipBackend, SipCallContext, SipConfig, SipTarget};
use crate::server::store::UploadStore;

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
    /// Folder for uploaded WAV files; nothing outside it is ever read or written. Several
    /// instances may share one (a local or NFS folder): a client that reconnects to another
    /// instance still finds its uploads.
    #[arg(long, visible_alias = "upload-dir", default_value = "gateway-uploads")]
    pub store: PathBuf,
    /// Access token clients must present (?token=... or Authorization: Bearer ...), or
    /// SIPDECK_GATEWAY_TOKEN.
    #[arg(long, env = "SIPDECK_GATEWAY_TOKEN", hide_env_values = true,
          value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub token: Option<String>,
    /// Codecs offered to the far end, most preferred first; the answer picks one, and an
    /// answer with none of them is ended with a BYE.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "pcmu,pcma", value_name = "LIST")]
    pub codecs: Vec<Codec>,
    /// Whose RTP a call takes: `far-end` (only the address the far end's SDP names, or the
    /// first source after it, which is then where our audio goes: symmetric RTP); `any`
    /// relaxes that for networks where the far end's audio comes from several addresses.
    #[arg(long, value_enum, default_value = "far-end")]
    pub rtp_sources: RtpSources,
    /// Hang up (BYE) an answered call whose far end has sent no RTP for this many seconds;
    /// 0 never does.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub rtp_timeout: u64,
    /// Most WebSocket clients served at once; more are answered HTTP 503.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_clients: u32,
    /// Most WebSocket clients served at once from one source address.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_clients_per_ip: u32,
    /// A connection that has not completed the WebSocket handshake (with --token: has not
    /// presented the token) within this many seconds is closed.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..), value_name = "SECONDS")]
    pub handshake_timeout: u64,
    /// Ping every client this often; one that answers nothing for two intervals is dropped
    /// and its call hung up. 0 sends no pings.
    #[arg(long, default_value_t = 20, value_name = "SECONDS")]
    pub ws_ping: u64,
    /// How long each DTMF digit sent into a call lasts (RFC 4733 events or SIP INFO).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(40..=5000), value_name = "MS")]
    pub dtmf_duration: u64,
    /// Silence between two DTMF digits.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(20..=5000), value_name = "MS")]
    pub dtmf_gap: u64,
    /// Serve Prometheus metrics on http://ADDR:PORT/metrics and the load balancer's health
    /// check on /healthz (200 `ok`; 503 `draining` once SIGTERM or SIGUSR1 came).
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<SocketAddr>,
    /// After SIGTERM or SIGUSR1, calls in progress get this long to end before they are hung
    /// up; 0 hangs up at once.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub drain_timeout: u64,
    /// Log lines as text, or one JSON object per line.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Runtime threads for the WebSocket side (RTP is received on a thread of its own).
    /// 1 runs everything on one thread: fewer wake-ups across threads, the cheapest per
    /// packet on a small machine; more spreads many clients over cores.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256), value_name = "N")]
    pub threads: u16,
    /// REGISTER --sip-user (with --sip-password for digest auth) at the registrar at start,
    /// refresh it before it expires, and unregister on shutdown; calls are refused while
    /// not registered.
    #[arg(long, requires = "sip_user")]
    pub register: bool,
    /// The registrar's URI (sip:host[:port]); the --sip-target when left out.
    #[arg(long, value_name = "URI", requires = "register")]
    pub registrar: Option<String>,
    /// The registration's lifetime asked for; the registrar may grant less.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(10..), value_name = "SECONDS")]
    pub register_expires: u32,
}

/// Everything `serve` needs, ready to use.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub sip: SipConfig,
    pub rtp_ports: PortRange,
    pub store: PathBuf,
    pub token: Option<String>,
    pub calls: CallPolicy,
    pub sessions: SessionLimits,
    pub caps: ClientCaps,
    /// Starting it drains the gateway; `serve` returns once drained.
    pub drain: Drain,
    pub metrics: Arc<Metrics>,
    /// `--register`: keep the user registered while serving.
    pub register: Option<RegisterConfig>,
}

fn seconds(s: u64) -> Option<Duration> {
    (s > 0).then(|| Duration::from_secs(s))
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
            calls: CallPolicy {
                codecs: dedup(&args.codecs),
                rtp_sources: args.rtp_sources,
                rtp_timeout: seconds(args.rtp_timeout),
                dtmf: DtmfTiming {
                    tone: Duration::from_millis(args.dtmf_duration),
                    gap: Duration::from_millis(args.dtmf_gap),
                },
            },
            sessions: SessionLimits {
                handshake_timeout: Duration::from_secs(args.handshake_timeout),
                ping_interval: seconds(args.ws_ping),
            },
            caps: ClientCaps { total: args.max_clients as usize, per_ip: args.max_clients_per_ip as usize },
            drain: Drain::new(Duration::from_secs(args.drain_timeout)),
            metrics: Arc::default(),
            register: args.register.then(|| RegisterConfig { registrar: args.registrar.clone(), expires: args.register_expires }),
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
            calls: CallPolicy::default(),
            sessions: SessionLimits::default(),
            caps: ClientCaps::default(),
            drain: Drain::default(),
            metrics: Arc::default(),
            register: None,
        }
    }
}

/// Run the gateway on `listener` until `shutdown` completes; then every call is hung up
/// (BYE or CANCEL) and every client is told the gateway is going away. Once `config.drain`
/// starts, it returns when the last client has left (or at the drain timeout).
pub async fn serve(listener: TcpListener, config: GatewayConfig, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let store = UploadStore::open(&config.store).with_context(|| format!("upload folder {}", config.store.display()))?;
    let agent = SipAgent::start(&config.sip).await.context("SIP user agent")?;
    let rtp_ip = rtp_bind_ip(config.sip.bind.ip(), agent.local().ip());
    let ports = Arc::new(PortPool::new(config.rtp_ports, rtp_ip));
    let metrics = config.metrics.clone();
    let registrar = match &config.register {
        Some(cfg) => Some(Registrar::start(&agent, cfg).context("registration")?),
        None => None,
    };
    let registration = registrar.as_ref().map(Registrar::state);
    if let Some(state) = registration.clone() {
        tokio::spawn(crate::server::sip::register::report_to_metrics(state, metrics.clone()));
    }
    let calls = SipCallContext { agent: agent.clone(), ports, policy: config.calls.clone(), metrics: metrics.clone(), registration };
    let limits = config.sessions;
    let shared = Arc::new(SessionShared { backend: SipBackend { calls }, store, token: config.token.clone(), limits, metrics, drain: config.drain.clone() });
    accept_clients(listener, shared, config.caps, shutdown).await;
    // Shutdown steps, in order: every session has ended above (calls hung up); the
    // unregister must still reach the SIP side, before the agent stops.
    if let Some(registrar) = &registrar {
        registrar.unregister().await;
    }
    agent.shutdown();
    Ok(())
}

/// The codecs in the order given, each once.
fn dedup(codecs: &[Codec]) -> Vec<Codec> {
    let mut out: Vec<Codec> = Vec::new();
    for c in codecs {
        if !out.contains(c) {
            out.push(*c);
        }
    }
    out
}

/// RTP sockets bind to the SIP address, not to every interface: the SIP bind address when
/// it is a real one, otherwise the address SIP advertises when this host has it (with
/// --public-ip behind NAT it does not, and every interface is the only choice left).
fn rtp_bind_ip(sip_bind: IpAddr, advertised: IpAddr) -> IpAddr {
    if !sip_bind.is_unspecified() {
        return sip_bind;
    }
    match std::net::UdpSocket::bind((advertised, 0)) {
        Ok(_) => advertised,
        Err(_) => {
            tracing::warn!(%advertised, "the advertised address is not on this host: RTP listens on every interface");
            sip_bind
        }
    }
}

/// `sipdeck gateway`: bind, serve, stop on Ctrl-C or SIGTERM.
pub async fn run(args: GatewayArgs) -> anyhow::Result<()> {
    let config = GatewayConfig::from_args(&args);
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("listen on {}", args.listen))?;
    if !args.listen.ip().is_loopback() && config.token.is_none() {
        // On stderr, not only in the log: RUST_LOG must not be able to hide it.
        eprintln!("sipdeck gateway: WARNING: listening on {} without --token: anyone who reaches this port can place calls", args.listen);
        tracing::warn!(listen = %args.listen, "listening beyond loopback without --token: anyone who reaches this port can place calls");
    }
    eprintln!(
        "sipdeck gateway: ws://{} -> SIP {} (uploads in {})",
        listener.local_addr()?,
        config.sip.target,
        config.store.display()
    );
    if let Some(addr) = args.metrics {
        let ops = TcpListener::bind(addr).await.with_context(|| format!("--metrics {addr}"))?;
        let addr = ops.local_addr()?;
        // Printed for scripts (port 0 means the OS chose).
        eprintln!("sipdeck gateway metrics: http://{addr}/metrics and http://{addr}/healthz");
        tokio::spawn(http::serve(ops, OpsState { metrics: config.metrics.clone(), drain: config.drain.clone() }));
    }
    let stop = stop_signal(config.drain.clone());
    serve(listener, config, stop).await
}

/// Drain on SIGTERM or SIGUSR1; resolves (stop now: hang up every call) on Ctrl-C or on a
/// SIGTERM while draining.
async fn stop_signal(drain: Drain) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = drain_signals(drain) => {}
    }
}

#[cfg(unix)]
async fn drain_signals(drain: Drain) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut usr1)) = (signal(SignalKind::terminate()), signal(SignalKind::user_defined1())) else {
        return std::future::pending().await;
    };
    loop {
        let again = tokio::select! {
            _ = term.recv() => drain.is_draining(),
            _ = usr1.recv() => false,
        };
        if again {
            tracing::warn!("SIGTERM while draining: hanging up every call now");
            return;
        }
        drain.start();
    }
}

#[cfg(not(unix))]
async fn drain_signals(_drain: Drain) {
    std::future::pending().await
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
        assert_eq!(cfg.calls.codecs, [Codec::Pcmu, Codec::Pcma]);
        assert_eq!(cfg.calls.rtp_sources, RtpSources::FarEnd);
        assert_eq!(cfg.calls.rtp_timeout, Some(Duration::from_secs(30)));
        assert_eq!(cfg.caps, ClientCaps { total: 256, per_ip: 32 });
        assert_eq!(cfg.sessions, SessionLimits::default());
        assert_eq!((a.metrics, a.log_format), (None, LogFormat::Text));
        assert_eq!(cfg.drain.timeout(), Duration::from_secs(300));
    }

    #[test]
    fn operations_flags_parse() {
        let a = parse(&["--sip-target", "x", "--metrics", "127.0.0.1:9101", "--drain-timeout", "0", "--log-format", "json", "--upload-dir", "/srv/up"]).unwrap();
        assert_eq!(a.metrics, Some("127.0.0.1:9101".parse().unwrap()));
        assert_eq!(a.log_format, LogFormat::Json);
        assert_eq!(a.store, PathBuf::from("/srv/up"));
        assert_eq!(GatewayConfig::from_args(&a).drain.timeout(), Duration::ZERO);
        assert!(parse(&["--sip-target", "x", "--log-format", "xml"]).is_err());
        assert!(parse(&["--sip-target", "x", "--metrics", "9101"]).is_err(), "an address and a port");
    }

    #[test]
    fn hardening_flags_parse() {
        let a = parse(&["--sip-target", "x", "--codecs", "pcma", "--rtp-sources", "any", "--rtp-timeout", "0"]).unwrap();
        let cfg = GatewayConfig::from_args(&a);
        assert_eq!(cfg.calls.codecs, [Codec::Pcma]);
        assert_eq!(cfg.calls.rtp_sources, RtpSources::Any);
        assert_eq!(cfg.calls.rtp_timeout, None);
        let a = parse(&["--sip-target", "x", "--codecs", "pcma,pcmu,pcma"]).unwrap();
        assert_eq!(GatewayConfig::from_args(&a).calls.codecs, [Codec::Pcma, Codec::Pcmu]);
        assert!(parse(&["--sip-target", "x", "--codecs", "g722"]).is_err());
        assert!(parse(&["--sip-target", "x", "--rtp-sources", "some"]).is_err());
        let a = parse(&["--sip-target", "x", "--max-clients", "5", "--max-clients-per-ip", "2", "--handshake-timeout", "3", "--ws-ping", "0"]).unwrap();
        let cfg = GatewayConfig::from_args(&a);
        assert_eq!(cfg.caps, ClientCaps { total: 5, per_ip: 2 });
        assert_eq!(cfg.sessions, SessionLimits { handshake_timeout: Duration::from_secs(3), ping_interval: None });
        assert!(parse(&["--sip-target", "x", "--max-clients", "0"]).is_err());
    }

    #[test]
    fn rtp_binds_to_the_sip_address() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        assert_eq!(rtp_bind_ip(lo, "203.0.113.9".parse().unwrap()), lo);
        assert_eq!(rtp_bind_ip(any, lo), lo);
        // A public address behind NAT is not on this host.
        assert_eq!(rtp_bind_ip(any, "203.0.113.9".parse().unwrap()), any);
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

/// The async runtime `sipdeck gateway` runs on, as `--threads` asks.
pub fn runtime(args: &GatewayArgs) -> std::io::Result<tokio::runtime::Runtime> {
    match args.threads {
        1 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        n => tokio::runtime::Builder::new_multi_thread().worker_threads(n as usize).enable_all().build(),
    }
}
