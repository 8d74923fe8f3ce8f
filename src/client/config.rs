//! The config file: settings of the dashboard (server, token, CA file, number, folders,
//! recording) at the top level and in named profiles, read from the platform's config folder
//! and checked strictly, so a typo is an error naming its line and key, never a silent default.
//!
//! Layers, strongest first: the command line, the chosen profile (`--profile NAME`, else a
//! profile named `default` when the file has one), the file's top-level keys, built-in
//! defaults ([`resolve`]).

mod resolve;

pub use resolve::{Flags, Resolved, Target};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::client::app::RecordFormat;
use crate::core::protocol::Number;

/// The commented example `sipdeck config` prints; the tests check that it parses.
pub const EXAMPLE: &str = include_str!("config/example.toml");

/// The profile used when none is named and the file has one by this name.
pub const DEFAULT_PROFILE: &str = "default";

/// One layer of settings: the file's top level or one profile. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Full WebSocket URL (ws:// or wss://); wins over `server` and `port`.
    pub url: Option<String>,
    pub server: Option<String>,
    pub port: Option<u16>,
    /// Sent as `Authorization: Bearer <token>` on the WebSocket handshake.
    pub token: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub number: Option<NumberSetting>,
    pub record_dir: Option<PathBuf>,
    pub wav_dir: Option<PathBuf>,
    pub record_format: Option<FormatSetting>,
    pub save_calls: Option<bool>,
    pub log_file: Option<PathBuf>,
    /// Only at the top level: `[profile.NAME]` tables.
    #[serde(default)]
    pub profile: BTreeMap<String, Settings>,
}

/// A phone number checked as the file is read, so a bad one is reported at its line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct NumberSetting(pub Number);

impl TryFrom<String> for NumberSetting {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse().map(NumberSetting).map_err(|e: crate::core::protocol::ProtocolError| e.to_string())
    }
}

/// A record format by its flag name (`mulaw`, `pcm16`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct FormatSetting(pub RecordFormat);

impl TryFrom<String> for FormatSetting {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        <RecordFormat as clap::ValueEnum>::from_str(&s, true)
            .map(FormatSetting)
            .map_err(|_| format!("unknown record format '{s}' (mulaw or pcm16)"))
    }
}

/// What can be wrong with the config file. The caller exits with status 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// Where (`line`, 1-based) and which key (dotted, as far as it is known).
    #[error("{path}, line {line}, key '{key}': {message}")]
    Parse { path: PathBuf, line: usize, key: String, message: String },
    #[error("{path}: profiles cannot hold profiles (profile '{name}' has a [profile] table)")]
    Nested { path: PathBuf, name: String },
    #[error("no profile '{name}' in {path}; {}", list_profiles(.known))]
    NoProfile { path: PathBuf, name: String, known: Vec<String> },
    #[error("--profile {name} was given but there is no config file at {path}")]
    NoFile { path: PathBuf, name: String },
}

fn list_profiles(known: &[String]) -> String {
    if known.is_empty() {
        "it has no profiles".to_string()
    } else {
        format!("its profiles: {}", known.join(", "))
    }
}

/// The platform's folders for sipdeck (`$XDG_CONFIG_HOME/sipdeck`, `$XDG_DATA_HOME/sipdeck`
/// on Linux); `None` when there is no home folder to put them in.
fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "sipdeck")
}

/// Where the config file is looked for when `--config` is not given.
pub fn default_path() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().join("config.toml"))
}

/// Where the dial dialog's redial history is kept (the data folder: it is state the program
/// writes, not settings the user writes).
pub fn history_path() -> Option<PathBuf> {
    dirs().map(|d| d.data_dir().join("dial_history"))
}

/// The config file as read: its path and its settings (empty when the default file is absent).
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    /// False when the file was not there (only allowed for the default path).
    pub found: bool,
    pub settings: Settings,
}

impl ConfigFile {
    /// Read `explicit` (which must exist), else the default path (which may not).
    pub fn load(explicit: Option<&Path>) -> Result<ConfigFile, ConfigError> {
        let (path, must_exist) = match explicit {
            Some(p) => (Some(p.to_path_buf()), true),
            None => (default_path(), false),
        };
        let Some(path) = path else { return Ok(ConfigFile::default()) };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(ConfigFile { settings: parse(&path, &text)?, path: Some(path), found: true }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                Ok(ConfigFile { path: Some(path), found: false, settings: Settings::default() })
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// The settings in force for `profile` (or the `default` profile when there is one): the
    /// profile's keys over the top level's.
    pub fn select(&self, profile: Option<&str>) -> Result<Settings, ConfigError> {
        let path = self.path.clone().unwrap_or_default();
        let name = match profile {
            Some(n) if !self.found => return Err(ConfigError::NoFile { path, name: n.to_string() }),
            Some(n) => n,
            None if self.settings.profile.contains_key(DEFAULT_PROFILE) => DEFAULT_PROFILE,
            None => return Ok(Settings { profile: BTreeMap::new(), ..self.settings.clone() }),
        };
        let Some(chosen) = self.settings.profile.get(name) else {
            let known = self.settings.profile.keys().cloned().collect();
            return Err(ConfigError::NoProfile { path, name: name.to_string(), known });
        };
        Ok(chosen.clone().over(&self.settings))
    }
}

impl Settings {
    /// These settings, with `base` filling what they leave unset.
    fn over(self, base: &Settings) -> Settings {
        Settings {
            url: self.url.or_else(|| base.url.clone()),
            server: self.server.or_else(|| base.server.clone()),
            port: self.port.or(base.port),
            token: self.token.or_else(|| base.token.clone()),
            ca_file: self.ca_file.or_else(|| base.ca_file.clone()),
            number: self.number.or_else(|| base.number.clone()),
            record_dir: self.record_dir.or_else(|| base.record_dir.clone()),
            wav_dir: self.wav_dir.or_else(|| base.wav_dir.clone()),
            record_format: self.record_format.or(base.record_format),
            save_calls: self.save_calls.or(base.save_calls),
            log_file: self.log_file.or_else(|| base.log_file.clone()),
            profile: BTreeMap::new(),
        }
    }
}

/// Parse the text of a config file; errors name the line and the key.
pub fn parse(path: &Path, text: &str) -> Result<Settings, ConfigError> {
    let settings: Settings = toml::from_str(text).map_err(|e| parse_error(path, text, &e))?;
    if let Some((name, _)) = settings.profile.iter().find(|(_, p)| !p.profile.is_empty()) {
        return Err(ConfigError::Nested { path: path.to_path_buf(), name: name.clone() });
    }
    Ok(settings)
}

/// toml gives a byte span; the operator wants a line and the dotted key found there.
fn parse_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let at = e.span().map_or(0, |s| s.start).min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or("");
    ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        key: key_at(before, line_text),
        message: e.message().trim().to_string(),
    }
}

/// The dotted key of the line an error is on: the nearest `[table]` header above it, and the
/// key before `=` on the line itself.
fn key_at(before: &str, line_text: &str) -> String {
    let table = before
        .lines()
        .rev()
        .skip(1)
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let own = line_text.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_string());
    let header = line_text.trim_start().starts_with('[');
    match (table, own) {
        _ if header => line_text.trim().trim_matches(|c| c == '[' || c == ']').trim().to_string(),
        (Some(t), Some(k)) => format!("{t}.{k}"),
        (None, Some(k)) => k,
        (Some(t), None) => t,
        (None, None) => "(top level)".to_string(),
    }
}

/// What `sipdeck config` prints: the file in use, the history file, and the example.
pub fn describe(file: &ConfigFile) -> String {
    let state = |p: &Option<PathBuf>, found: bool| match p {
        Some(p) if found => format!("{} (found)", p.display()),
        Some(p) => format!("{} (not there: built-in defaults)", p.display()),
        None => "none (no home folder)".to_string(),
    };
    let profiles: Vec<&str> = file.settings.profile.keys().map(String::as_str).collect();
    let history = history_path().map_or("none (no home folder)".to_string(), |p| p.display().to_string());
    format!(
        "# config file: {}\n# profiles: {}\n# redial history: {}\n# An example (every key is optional; --flags override it):\n\n{EXAMPLE}",
        state(&file.path, file.found),
        if profiles.is_empty() { "none".to_string() } else { profiles.join(", ") },
        history,
    )
}

#[cfg(test)]
mod tests;
