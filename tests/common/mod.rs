//! A headless client for integration tests: the real network actor and effect runner
//! feeding the real `App`, without a terminal.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use sipdeck::client::app::{App, AppConfig, Effect, IoEvent, RecordFormat};
use sipdeck::client::net::{self, NetConfig, NetEvent};
use sipdeck::client::runner::Effects;
use tokio::sync::mpsc;

pub struct Client {
    pub app: App,
    pub effects: Effects,
    net_rx: mpsc::Receiver<NetEvent>,
    io_rx: mpsc::Receiver<IoEvent>,
}

impl Client {
    pub fn connect(url: &str, record_dir: &Path) -> Client {
        Self::connect_with(NetConfig::new(url), record_dir)
    }

    pub fn connect_with(cfg: NetConfig, record_dir: &Path) -> Client {
        let app_cfg = AppConfig {
            url: cfg.url.clone(),
            default_number: "0938220136".parse().unwrap(),
            record_dir: record_dir.to_path_buf(),
            record_format: RecordFormat::Mulaw,
            wav_dir: ".".into(),
        };
        let (cmd, net_rx) = net::spawn(cfg);
        let (io_tx, io_rx) = mpsc::channel(16);
        Client { app: App::new(app_cfg, Instant::now()), effects: Effects::new(cmd, io_tx), net_rx, io_rx }
    }

    /// Fold events until `cond` holds; panics with the log after `timeout`.
    pub async fn until(&mut self, what: &str, timeout: Duration, cond: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        while !cond(&self.app) {
            tokio::select! {
                ev = self.net_rx.recv() => match ev {
                    Some(ev) => self.app.on_net(ev, Instant::now()),
                    None => panic!("network actor ended while waiting for {what}\n{}", self.log_text()),
                },
                Some(io) = self.io_rx.recv() => {
                    for e in self.app.on_io(io) {
                        self.effects.apply(e).await;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => panic!("timed out waiting for {what}\nlog:\n{}", self.log_text()),
            }
            self.app.on_tick(Instant::now());
        }
    }

    pub async fn key(&mut self, c: char) {
        let ev = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c));
        for e in self.app.on_key(ev) {
            self.effects.apply(e).await;
        }
    }

    pub async fn apply(&mut self, e: Effect) {
        self.effects.apply(e).await;
    }

    pub fn log_text(&self) -> String {
        self.app.log.iter().map(|l| l.plain()).collect::<Vec<_>>().join("\n")
    }

    pub fn logged(&self, needle: &str) -> bool {
        self.app.log.iter().any(|l| l.text.contains(needle))
    }
}

pub const WAIT: Duration = Duration::from_secs(10);

/// A quick demo peer for tests.
pub fn fast_demo() -> sipdeck::server::demo::DemoConfig {
    sipdeck::server::demo::DemoConfig {
        ring_after: Duration::from_millis(20),
        answer_after: Duration::from_millis(20),
        packet_interval: Duration::from_millis(5),
        ..Default::default()
    }
}
