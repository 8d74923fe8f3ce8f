//! `sipdeck`: the dashboard (default), `sipdeck gateway`, and `sipdeck demo-server`.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use sipdeck::client::app::{App, AppConfig, RecordFormat, SaveCalls};
use sipdeck::client::net::NetConfig;
use sipdeck::core::protocol::{Number, DEFAULT_NUMBER};

#[derive(Debug, Parser)]
#[command(name = "sipdeck", version, about = "A keyboard-driven terminal dashboard for WebSocket-controlled SIP calls")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Debug, Subcommand)]
// Parsed once at start: the size of the gateway's flags does not matter.
#[allow(clippy::large_enum_variant)]
enum Cmd {
    /// Run the gateway: WebSocket clients on one side, SIP calls over UDP on the other.
    Gateway(sipdeck::server::gateway::GatewayArgs),
    /// Run the embedded demo peer on its own, for other clients (e.g. the reference Python client).
    DemoServer(DemoServerArgs),
}

#[derive(Debug, Args)]
struct ClientArgs {
    /// Gateway host name or address.
    #[arg(short = 's', long, default_value = "127.0.0.1")]
    server: String,
    /// Gateway WebSocket port.
    #[arg(short = 'p', long, default_value_t = 8080)]
    port: u16,
    /// Full WebSocket URL (ws:// or wss://), instead of --server and --port.
    #[arg(long, conflicts_with_all = ["server", "port"])]
    url: Option<String>,
    /// Start the embedded demo peer on a free loopback port and connect to it.
    #[arg(long, conflicts_with_all = ["server", "port", "url"])]
    demo: bool,
    /// The number key 1 calls.
    #[arg(long, default_value = DEFAULT_NUMBER, value_parser = parse_number)]
    number: Number,
    /// Folder where key 7 saves recordings.
    #[arg(long, default_value = ".")]
    record_dir: PathBuf,
    /// Folder the file browser (key 5) opens in.
    #[arg(long, default_value = ".")]
    wav_dir: PathBuf,
    /// Save every call into --record-dir when it ends, as call_YYYYMMDD_HHMMSS_<number>.wav.
    #[arg(long)]
    save_calls: bool,
    /// Encoding of saved recordings.
    #[arg(long, value_enum, default_value_t = RecordFormat::Mulaw)]
    record_format: RecordFormat,
    /// PEM file of extra CA certificates to trust for wss:// (a gateway with a private CA).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Also append every log line to this file.
    #[arg(long)]
    log_file: Option<PathBuf>,
    /// Line mode: print the log to stdout and read menu commands from stdin (automatic when
    /// stdout is not a terminal). Commands wait for the first connection (10 s at most);
    /// `wait N` pauses, `wait-for TEXT [N]` waits for a log line with TEXT (30 s unless N);
    /// `8` and the end of input wait for uploads and saves under way. Exit status 1 when a
    /// command failed (any error line once the script started), else 0.
    #[arg(long)]
    plain: bool,
}

#[derive(Debug, Args)]
struct DemoServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Folder for uploads (a temporary folder when not given).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Log lines as text, or one JSON object per line.
    #[arg(long, value_enum, default_value = "text")]
    log_format: sipdeck::server::logs::LogFormat,
}

fn parse_number(s: &str) -> Result<Number, String> {
    s.parse().map_err(|e: sipdeck::core::protocol::ProtocolError| e.to_string())
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match cli.command {
        Some(Cmd::Gateway(args)) => {
            sipdeck::server::logs::init(args.log_format);
            rt.block_on(sipdeck::server::gateway::run(args)).map(|()| std::process::ExitCode::SUCCESS)
        }
        Some(Cmd::DemoServer(args)) => {
            sipdeck::server::logs::init(args.log_format);
            rt.block_on(demo_server(args)).map(|()| std::process::ExitCode::SUCCESS)
        }
        None => {
            let result = rt.block_on(client(cli.client));
            // Dropping the runtime would wait for every blocking task, and a file browser
            // read stuck on a dead network drive (or a FIFO) may never end. Uploads and saves
            // were waited for already.
            rt.shutdown_timeout(std::time::Duration::from_millis(500));
            result
        }
    }
}

async fn demo_server(args: DemoServerArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let tmp;
    let store = match args.store {
        Some(s) => s,
        None => {
            tmp = tempfile::Builder::new().prefix("sipdeck-demo-").tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    tracing::info!("demo peer listening on ws://{}", listener.local_addr()?);
    let cfg = sipdeck::server::demo::DemoConfig { store: Some(store), ..Default::default() };
    tokio::select! {
        r = sipdeck::server::demo::serve(listener, cfg) => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Run the dashboard or line mode; line mode's exit status says whether a command failed.
async fn client(args: ClientArgs) -> anyhow::Result<std::process::ExitCode> {
    // Keep the demo peer alive for the whole session.
    let demo = if args.demo { Some(sipdeck::server::demo::start(Default::default()).await?) } else { None };
    let url = match (&demo, &args.url) {
        (Some(d), _) => d.url(),
        (None, Some(u)) => u.clone(),
        (None, None) => format!("ws://{}:{}", bracket_v6(&args.server), args.port),
    };
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        anyhow::bail!("--url must start with ws:// or wss:// (got {url})");
    }
    if !args.record_dir.is_dir() {
        anyhow::bail!("--record-dir {} is not a folder", args.record_dir.display());
    }
    if !args.wav_dir.is_dir() {
        anyhow::bail!("--wav-dir {} is not a folder", args.wav_dir.display());
    }
    let cfg = AppConfig {
        url: url.clone(),
        default_number: args.number,
        record_dir: args.record_dir,
        record_format: args.record_format,
        wav_dir: args.wav_dir,
        save_calls: if args.save_calls { SaveCalls::Wav } else { SaveCalls::Off },
    };
    let mut app = App::new(cfg, std::time::Instant::now());
    if demo.is_some() {
        app.log(sipdeck::client::app::LogKind::Info, "demo mode: an embedded peer answers calls with a tone; press 1 to call");
    }
    let mut net = NetConfig::new(url);
    if let Some(ca) = &args.ca_file {
        net.tls = Some(sipdeck::client::net::client_config_with_ca(ca)?);
    }
    let (kept, failed) = if args.plain || !std::io::stdout().is_terminal() {
        let end = sipdeck::client::line::run(app, net, args.log_file.as_deref()).await?;
        (end.kept, end.failed)
    } else {
        (sipdeck::client::tui::run(app, net, args.log_file.as_deref()).await?, 0)
    };
    if let Some(spill) = kept {
        eprintln!(
            "sipdeck: audio received after the last save is kept in {}; the next start in that folder offers to recover it",
            spill.display()
        );
    }
    Ok(if failed > 0 { std::process::ExitCode::FAILURE } else { std::process::ExitCode::SUCCESS })
}

fn bracket_v6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}
