//! Which value wins: a flag the user gave, else the config file's setting, else the built-in
//! default; and the dashboard's [`AppConfig`] and [`NetConfig`] built from the result.

use std::path::{Path, PathBuf};

use super::Settings;
use crate::client::app::{AppConfig, RecordFormat, SaveCalls};
use crate::client::net::NetConfig;
use crate::core::protocol::{Number, DEFAULT_NUMBER};

pub const DEFAULT_SERVER: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 8080;

/// The client's flags, each `Some` only when the user gave it (not clap's default).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub server: Option<String>,
    pub port: Option<u16>,
    pub url: Option<String>,
    pub demo: bool,
    pub token: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub number: Option<Number>,
    pub record_dir: Option<PathBuf>,
    pub wav_dir: Option<PathBuf>,
    pub record_format: Option<RecordFormat>,
    pub save_calls: Option<SaveCalls>,
    pub log_file: Option<PathBuf>,
}

/// Where the dashboard connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The embedded demo peer (its URL is known once it listens).
    Demo,
    Url(String),
}

/// The settings in force after every layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub target: Target,
    pub token: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub number: Number,
    pub record_dir: PathBuf,
    pub wav_dir: PathBuf,
    pub record_format: RecordFormat,
    pub save_calls: SaveCalls,
    pub log_file: Option<PathBuf>,
}

impl Resolved {
    /// Flags over `file` over the defaults.
    pub fn resolve(flags: Flags, file: &Settings) -> Resolved {
        let path = |flag: Option<PathBuf>, set: &Option<PathBuf>| flag.or_else(|| set.as_deref().map(expand_home));
        let target = target(&flags, file);
        let number = flags.number.or_else(|| file.number.clone().map(|n| n.0));
        // The file says yes or no (a WAV per call); the flag may also ask for pcap or both.
        let save = flags.save_calls.or_else(|| file.save_calls.map(|on| if on { SaveCalls::Wav } else { SaveCalls::Off }));
        Resolved {
            target,
            token: flags.token.or_else(|| file.token.clone()),
            ca_file: path(flags.ca_file, &file.ca_file),
            number: number.unwrap_or_else(|| DEFAULT_NUMBER.parse().expect("the default number is valid")),
            record_dir: path(flags.record_dir, &file.record_dir).unwrap_or_else(|| PathBuf::from(".")),
            wav_dir: path(flags.wav_dir, &file.wav_dir).unwrap_or_else(|| PathBuf::from(".")),
            record_format: flags.record_format.or(file.record_format.map(|f| f.0)).unwrap_or_default(),
            save_calls: save.unwrap_or_default(),
            log_file: path(flags.log_file, &file.log_file),
        }
    }

    /// What must hold before anything starts: the URL's scheme, the folders.
    pub fn check(&self) -> anyhow::Result<()> {
        if let Target::Url(url) = &self.target {
            if !(url.starts_with("ws://") || url.starts_with("wss://")) {
                anyhow::bail!("the URL must start with ws:// or wss:// (got {url})");
            }
        }
        if !self.record_dir.is_dir() {
            anyhow::bail!("the record folder {} is not a folder", self.record_dir.display());
        }
        if !self.wav_dir.is_dir() {
            anyhow::bail!("the WAV folder {} is not a folder", self.wav_dir.display());
        }
        Ok(())
    }

    pub fn app_config(&self, url: &str) -> AppConfig {
        AppConfig {
            url: url.to_string(),
            default_number: self.number.clone(),
            record_dir: self.record_dir.clone(),
            record_format: self.record_format,
            wav_dir: self.wav_dir.clone(),
            save_calls: self.save_calls,
        }
    }

    /// The network actor's settings: the URL, the token, and the CA file read now.
    pub fn net_config(&self, url: &str) -> anyhow::Result<NetConfig> {
        let mut net = NetConfig::new(url);
        net.token = self.token.clone();
        if let Some(ca) = &self.ca_file {
            net.tls = Some(crate::client::net::client_config_with_ca(ca)?);
        }
        Ok(net)
    }
}

/// A URL flag, else server/port flags (filled from the file), else the file's URL, else its
/// server and port, else the defaults.
fn target(flags: &Flags, file: &Settings) -> Target {
    if flags.demo {
        return Target::Demo;
    }
    if let Some(u) = &flags.url {
        return Target::Url(u.clone());
    }
    let by_flags = flags.server.is_some() || flags.port.is_some();
    if let (false, Some(u)) = (by_flags, &file.url) {
        return Target::Url(u.clone());
    }
    let server = flags.server.clone().or_else(|| file.server.clone()).unwrap_or_else(|| DEFAULT_SERVER.to_string());
    let port = flags.port.or(file.port).unwrap_or(DEFAULT_PORT);
    Target::Url(format!("ws://{}:{port}", bracket_v6(&server)))
}

fn bracket_v6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// `~/x` in the file means the home folder (a shell does this for flags).
fn expand_home(p: &Path) -> PathBuf {
    match (p.strip_prefix("~"), directories::BaseDirs::new()) {
        (Ok(rest), Some(b)) => b.home_dir().join(rest),
        _ => p.to_path_buf(),
    }
}
