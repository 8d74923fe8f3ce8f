//! The full-screen front end: terminal set-up and restore, keys and the mouse in, and the
//! screen drawn when something changed ([`Redraw`]).

use std::path::{Path, PathBuf};
use std::time::Instant;
use anyhow::Context as _;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream, KeyCode, KeyEvent, KeyModifiers, MouseEvent};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;

use crate::client::app::{mouse, App, Effect};
use crate::client::net::NetConfig;
use crate::client::runtime::redraw::Redraw;
use crate::client::runtime::{Flow, FrontEnd, Runtime, Session, Woke};
use crate::client::ui::{self, Theme};

/// Whether the dashboard takes the mouse (`--no-mouse` leaves it to the terminal, for
/// selecting text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MouseMode {
    #[default]
    On,
    Off,
}

/// Run the dashboard until the user quits. Returns the spill file when it keeps audio that
/// was never saved.
pub async fn run(app: App, net_cfg: NetConfig, log_path: Option<&Path>, mouse: MouseMode) -> anyhow::Result<Option<PathBuf>> {
    let mut rt = Runtime::start(app, net_cfg, log_path)?;
    // ratatui::init also installs a panic hook that restores the terminal first.
    let terminal = ratatui::init();
    if mouse == MouseMode::On {
        capture_mouse()?;
    }
    let mut screen = Screen {
        terminal,
        keys: EventStream::new(),
        theme: Theme::from_env(),
        redraw: Redraw::default(),
        abandon: false,
    };
    let result = rt.run(&mut screen).await;
    if mouse == MouseMode::On {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
    }
    ratatui::restore();
    let kept = rt.shutdown().await;
    result.map(|_| kept)
}

/// Turn mouse reporting on, and off again before a panic's message (after ratatui's own
/// hook has left the alternate screen), so a crashed dashboard leaves no mouse mode behind.
fn capture_mouse() -> anyhow::Result<()> {
    crossterm::execute!(std::io::stdout(), EnableMouseCapture).context("turning on the mouse")?;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        hook(info);
    }));
    Ok(())
}

/// What the terminal gives the dashboard.
enum Input {
    Key(KeyEvent),
    Mouse(MouseEvent),
}

/// The terminal as a front end.
struct Screen {
    terminal: DefaultTerminal,
    keys: EventStream,
    theme: Theme,
    redraw: Redraw,
    /// Quit again while quitting: stop waiting for the work under way.
    abandon: bool,
}

impl FrontEnd for Screen {
    type Input = Input;

    async fn next_input(&mut self) -> anyhow::Result<Option<Input>> {
        loop {
            match self.keys.next().await {
                Some(Ok(Event::Key(key))) => return Ok(Some(Input::Key(key))),
                Some(Ok(Event::Mouse(m))) => return Ok(Some(Input::Mouse(m))),
                // Drawn at the new size at once.
                Some(Ok(Event::Resize(..))) => self.redraw.resized(),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => return Ok(None),
            }
        }
    }

    fn on_input(&mut self, app: &mut App, input: Input) -> Vec<Effect> {
        let key = match input {
            Input::Key(key) => key,
            // The mouse is translated at the edge, like keys; a quitting app takes none.
            Input::Mouse(m) if !app.quit => return mouse::translate(m).map(|m| app.on_mouse(m)).unwrap_or_default(),
            Input::Mouse(_) => return vec![],
        };
        // A seam for the end-to-end test that proves a panic restores the terminal.
        if key.code == KeyCode::F(12) && std::env::var_os("SIPDECK_TEST_PANIC").is_some() {
            panic!("test panic requested with F12");
        }
        if app.quit {
            let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
            self.abandon |= ctrl_c || matches!(key.code, KeyCode::Char('q') | KeyCode::Char('8') | KeyCode::Esc);
            return vec![];
        }
        app.on_key(key)
    }

    fn reading(&self, _app: &App) -> bool {
        true
    }

    fn on_end(&mut self, app: &mut App) -> Vec<Effect> {
        // The terminal is gone: nothing more can be asked of us.
        app.quit = true;
        vec![]
    }

    fn timer(&self) -> Option<tokio::time::Instant> {
        self.redraw.timer()
    }

    fn show(&mut self, s: &mut Session, woke: Woke) -> anyhow::Result<Flow> {
        if self.abandon {
            return Ok(Flow::Stop);
        }
        let now = Instant::now();
        if self.redraw.due(woke, now) {
            if woke != Woke::Tick {
                // Times on screen are as of now, not of the last tick.
                s.on_tick(now);
            }
            self.terminal.draw(|f| ui::render(&s.app, &self.theme, f)).context("drawing the screen")?;
            self.redraw.drawn(now);
        }
        Ok(Flow::Go)
    }
}
