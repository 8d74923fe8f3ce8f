//! A headless client for integration tests: the real runtime (network actor, effects, the one
//! event loop) feeding the real `App`, without a terminal.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use sipdeck::client::app::{App, AppConfig, Effect};
use sipdeck::client::net::{NetConfig, NetEvent};
use sipdeck::client::runtime::{Ending, Flow, FrontEnd, Runtime, Session, Woke};
use tokio::time::Instant as Deadline;

pub struct Client {
    rt: Runtime,
}

/// The runtime's loop with no input, stopped as soon as a condition on the app holds.
struct Until<'a, F: Fn(&App) -> bool> {
    what: &'a str,
    cond: F,
    deadline: Deadline,
}

impl<F: Fn(&App) -> bool> FrontEnd for Until<'_, F> {
    type Input = ();

    async fn next_input(&mut self) -> anyhow::Result<Option<()>> {
        std::future::pending().await
    }

    fn on_input(&mut self, _app: &mut App, _input: ()) -> Vec<Effect> {
        vec![]
    }

    fn timer(&self) -> Option<Deadline> {
        Some(self.deadline)
    }

    fn on_timer(&mut self, app: &mut App) -> Vec<Effect> {
        panic!("timed out waiting for {}\nlog:\n{}", self.what, log_text(app))
    }

    fn saw_net(&mut self, _ev: &NetEvent) {}

    fn show(&mut self, s: &mut Session, _woke: Woke) -> anyhow::Result<Flow> {
        s.on_tick(Instant::now());
        Ok(if (self.cond)(&s.app) { Flow::Stop } else { Flow::Go })
    }
}

impl Client {
    pub fn connect(url: &str, record_dir: &Path) -> Client {
        Self::connect_with(NetConfig::new(url), record_dir)
    }

    pub fn connect_with(cfg: NetConfig, record_dir: &Path) -> Client {
        let app_cfg = AppConfig { record_dir: record_dir.to_path_buf(), ..AppConfig::new(cfg.url.clone()) };
        let rt = Runtime::start(App::new(app_cfg, Instant::now()), cfg, None).unwrap();
        Client { rt }
    }

    pub fn app(&self) -> &App {
        &self.rt.session.app
    }

    /// Run the loop until `cond` holds; panics with the log after `timeout`.
    pub async fn until(&mut self, what: &str, timeout: Duration, cond: impl Fn(&App) -> bool) {
        if cond(self.app()) {
            return;
        }
        let mut fe = Until { what, cond, deadline: Deadline::now() + timeout };
        match self.rt.run(&mut fe).await.unwrap() {
            Ending::Stopped => {}
            other => panic!("the loop ended ({other:?}) while waiting for {what}\n{}", self.log_text()),
        }
    }

    pub async fn key(&mut self, c: char) {
        let ev = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c));
        let effects = self.rt.session.app.on_key(ev);
        self.rt.apply(effects).await;
    }

    pub async fn apply(&mut self, e: Effect) {
        self.rt.apply(vec![e]).await;
    }

    pub fn log_text(&self) -> String {
        log_text(self.app())
    }

    pub fn logged(&self, needle: &str) -> bool {
        self.app().log.iter().any(|l| l.text.contains(needle))
    }
}

impl std::ops::Deref for Client {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.rt.session
    }
}

impl std::ops::DerefMut for Client {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.rt.session
    }
}

fn log_text(app: &App) -> String {
    app.log.iter().map(|l| l.plain()).collect::<Vec<_>>().join("\n")
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
