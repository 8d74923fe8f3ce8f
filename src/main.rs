//! `sipdeck`: the dashboard (default), `sipdeck gateway`, and `sipdeck demo-server`.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use sipdeck::client::app::{App, RecordFormat, SaveCalls};
use sipdeck::client::config::{ConfigFile, Flags, Target};
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
    /// Print the config file in use (and its profiles) and a commented example.
    Config(ConfigArgs),
}

#[derive(Debug, Args)]
struct ConfigArgs {
    /// Read this config file instead of the one in the platform's config folder.
    #[arg(long)]
    config: Option<PathBuf>,
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
    /// Save every call into --record-dir when it ends, as call_YYYYMMDD_HHMMSS_<number>.wav
    /// (or .pcap, or both: --save-calls=pcap, --save-calls=both).
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "wav")]
    save_calls: Option<SaveCalls>,
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
    /// Leave the mouse to the terminal (for selecting text); by default the wheel scrolls the
    /// log and lists under the pointer and a click selects a row and focuses its pane.
    #[arg(long)]
    no_mouse: bool,
    /// Token sent as `Authorization: Bearer <token>` on the WebSocket handshake.
    #[arg(long, env = "SIPDECK_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Use this profile of the config file (else its `default` profile, if any).
    #[arg(long)]
    profile: Option<String>,
    /// Read this config file instead of the one in the platform's config folder
    /// (`sipdeck config` prints its path).
    #[arg(long)]
    config: Option<PathBuf>,
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
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match cli.command {
        Some(Cmd::Gateway(args)) => {
            sipdeck::server::logs::init(args.log_format);
            drop(rt);
            let rt = sipdeck::server::gateway::runtime(&args).context("starting the async runtime")?;
            rt.block_on(sipdeck::server::gateway::run(args)).map(|()| std::process::ExitCode::SUCCESS)
        }
        Some(Cmd::DemoServer(args)) => {
            sipdeck::server::logs::init(args.log_format);
            rt.block_on(demo_server(args)).map(|()| std::process::ExitCode::SUCCESS)
        }
        Some(Cmd::Config(args)) => {
            match ConfigFile::load(args.config.as_deref()) {
                Ok(file) => print!("{}", sipdeck::client::config::describe(&file)),
                Err(e) => return Ok(bad_config(e)),
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        None => {
            // A bad config file stops us before the terminal is touched.
            let settings = match ConfigFile::load(cli.client.config.as_deref()).and_then(|f| f.select(cli.client.profile.as_deref())) {
                Ok(s) => s,
                Err(e) => return Ok(bad_config(e)),
            };
            let flags = given_flags(&cli.client, &matches);
            let resolved = sipdeck::client::config::Resolved::resolve(flags, &settings);
            let result = rt.block_on(client(resolved, cli.client.plain, cli.client.no_mouse));
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

/// A config file that cannot be used: said on stderr, exit status 2 (as for a bad flag).
fn bad_config(e: sipdeck::client::config::ConfigError) -> std::process::ExitCode {
    eprintln!("sipdeck: {e}");
    std::process::ExitCode::from(2)
}

/// The flags the user gave (clap's defaults are not "given": the config file fills those).
fn given_flags(a: &ClientArgs, m: &ArgMatches) -> Flags {
    let given = |id: &str| matches!(m.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable));
    Flags {
        server: given("server").then(|| a.server.clone()),
        port: given("port").then_some(a.port),
        url: a.url.clone(),
        demo: a.demo,
        token: a.token.clone(),
        ca_file: a.ca_file.clone(),
        number: given("number").then(|| a.number.clone()),
        record_dir: given("record_dir").then(|| a.record_dir.clone()),
        wav_dir: given("wav_dir").then(|| a.wav_dir.clone()),
        record_format: given("record_format").then_some(a.record_format),
        save_calls: a.save_calls,
        log_file: a.log_file.clone(),
    }
}

/// Run the dashboard or line mode; line mode's exit status says whether a command failed.
async fn client(cfg: sipdeck::client::config::Resolved, plain: bool, no_mouse: bool) -> anyhow::Result<std::process::ExitCode> {
    cfg.check()?;
    // Keep the demo peer alive for the whole session.
    let demo = if cfg.target == Target::Demo { Some(sipdeck::server::demo::start(Default::default()).await?) } else { None };
    let url = match (&demo, &cfg.target) {
        (Some(d), _) => d.url(),
        (None, Target::Url(u)) => u.clone(),
        (None, Target::Demo) => unreachable!("the demo peer was started"),
    };
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        anyhow::bail!("--url must start with ws:// or wss:// (got {url})");
    }
    let mut app = App::new(cfg.app_config(&url), std::time::Instant::now());
    if demo.is_some() {
        app.log(sipdeck::client::app::LogKind::Info, "demo mode: an embedded peer answers calls with a tone; press 1 to call");
    }
    sipdeck::client::redial_file::attach(&mut app, sipdeck::client::config::history_path().as_deref());
    let net = cfg.net_config(&url)?;
    let log_file = cfg.log_file.as_deref();
    let (kept, failed) = if plain || !std::io::stdout().is_terminal() {
        let end = sipdeck::client::line::run(app, net, log_file).await?;
        (end.kept, end.failed)
    } else {
        let mouse = if no_mouse { sipdeck::client::tui::MouseMode::Off } else { sipdeck::client::tui::MouseMode::On };
        (sipdeck::client::tui::run(app, net, log_file, mouse).await?, 0)
    };
    if let Some(spill) = kept {
        eprintln!(
            "sipdeck: audio received after the last save is kept in {}; the next start in that folder offers to recover it",
            spill.display()
        );
    }
    Ok(if failed > 0 { std::process::ExitCode::FAILURE } else { std::process::ExitCode::SUCCESS })
}
