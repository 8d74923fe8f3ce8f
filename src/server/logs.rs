//! How the servers log: to stderr, as text (default) or one JSON object per line
//! (`--log-format json`, for log collectors).

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line: timestamp, level, target, fields (`message` among them).
    Json,
}

/// Install the servers' subscriber. RUST_LOG overrides the filter.
pub fn init(format: LogFormat) {
    // rsipstack logs every raw SIP message at info; its warnings are what an operator needs.
    // webrtc-sdp warns about every attribute it does not model (a=tool, a=minptime, ...),
    // which are standard and harmless: only its errors are shown.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,rsipstack=warn,webrtc_sdp=error".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
}
