//! The full-screen front end: terminal set-up and restore, keys in, the screen drawn on the
//! runtime's tick.

use std::path::{Path, PathBuf};
use anyhow::Context as _;
use crossterm::event::{Event, EventStream, KeyCode, KeyEvent};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;

use crate::client::app::{App, Effect};
use crate::client::net::NetConfig;
use crate::client::runtime::{Flow, FrontEnd, Runtime, Session, Woke};
use crate::client::ui::{self, Theme};

/// Run the dashboard until the user quits. Returns the spill file when it keeps audio that
/// was never saved.
pub async fn run(app: App, net_cfg: NetConfig, log_path: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    let mut rt = Runtime::start(app, net_cfg, log_path)?;
    // ratatui::init also installs a panic hook that restores the terminal first.
    let mut screen = Screen { terminal: ratatui::init(), keys: EventStream::new(), theme: Theme::from_env() };
    let result = rt.run(&mut screen).await;
    ratatui::restore();
    let kept = rt.shutdown().await;
    result.map(|_| kept)
}

/// The terminal as a front end.
struct Screen {
    terminal: DefaultTerminal,
    keys: EventStream,
    theme: Theme,
}

impl FrontEnd for Screen {
    type Input = KeyEvent;

    async fn next_input(&mut self) -> anyhow::Result<Option<KeyEvent>> {
        loop {
            match self.keys.next().await {
                Some(Ok(Event::Key(key))) => return Ok(Some(key)),
                Some(Ok(_)) => {} // resize and the rest: the next frame draws at the new size
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => return Ok(None),
            }
        }
    }

    fn on_input(&mut self, app: &mut App, key: KeyEvent) -> Vec<Effect> {
        // A seam for the end-to-end test that proves a panic restores the terminal.
        if key.code == KeyCode::F(12) && std::env::var_os("SIPDECK_TEST_PANIC").is_some() {
            panic!("test panic requested with F12");
        }
        app.on_key(key)
    }

    fn on_end(&mut self, app: &mut App) -> Vec<Effect> {
        // The terminal is gone: nothing more can be asked of us.
        app.quit = true;
        vec![]
    }

    fn show(&mut self, s: &mut Session, woke: Woke) -> anyhow::Result<Flow> {
        if woke == Woke::Tick {
            self.terminal.draw(|f| ui::render(&s.app, &self.theme, f)).context("drawing the screen")?;
        }
        Ok(Flow::Go)
    }
}
