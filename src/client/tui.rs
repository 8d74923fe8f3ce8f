//! The full-screen runner: terminal set-up and restore, the event loop that folds key
//! presses, network events and IO results into the [`App`], and a fixed redraw tick.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use crate::client::app::App;
use crate::client::net::{self, Command, NetEvent};
use crate::client::runner::{Effects, Session};
use crate::client::ui::{self, Theme};

/// About 30 frames per second, whatever the packet rate.
pub const FRAME: Duration = Duration::from_millis(33);
/// Network events folded per wake-up before keys and the tick get another look.
pub const NET_BATCH: usize = 512;

/// Run the dashboard until the user quits. Returns the spill file when it keeps audio that
/// was never saved.
pub async fn run(app: App, net_cfg: net::NetConfig, log_path: Option<&Path>) -> anyhow::Result<Option<std::path::PathBuf>> {
    let (cmd_tx, net_rx) = net::spawn(net_cfg);
    let (io_tx, io_rx) = mpsc::channel(16);
    let mut session = Session::new(app, Effects::new(cmd_tx.clone(), io_tx), log_path)?;
    // ratatui::init also installs a panic hook that restores the terminal first.
    let mut terminal = ratatui::init();
    let mut io_rx = io_rx;
    let result = event_loop(&mut terminal, &mut session, net_rx, &mut io_rx).await;
    ratatui::restore();
    session.drain(&mut io_rx).await;
    let _ = cmd_tx.send(Command::Shutdown).await;
    let kept = session.finish();
    result.map(|()| kept)
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    s: &mut Session,
    mut net_rx: mpsc::Receiver<NetEvent>,
    io_rx: &mut mpsc::Receiver<crate::client::app::IoEvent>,
) -> anyhow::Result<()> {
    let theme = Theme::from_env();
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut batch = Vec::with_capacity(NET_BATCH);
    while !s.app.quit {
        // Keys first, then the frame tick, then the network: a flood of packets can never
        // starve the keyboard or the redraw.
        tokio::select! {
            biased;
            ev = keys.next() => match ev {
                Some(Ok(Event::Key(key))) => {
                    // A seam for the end-to-end test that proves a panic restores the terminal.
                    if key.code == crossterm::event::KeyCode::F(12) && std::env::var_os("SIPDECK_TEST_PANIC").is_some() {
                        panic!("test panic requested with F12");
                    }
                    let effects = s.app.on_key(key);
                    s.apply_all(effects).await;
                }
                Some(Ok(_)) => {} // resize and the rest: the next frame draws at the new size
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => return Ok(()),
            },
            _ = tick.tick() => {
                s.on_tick(Instant::now());
                terminal.draw(|f| ui::render(&s.app, &theme, f)).context("drawing the screen")?;
            }
            Some(io) = io_rx.recv() => s.on_io(io).await,
            n = net_rx.recv_many(&mut batch, NET_BATCH) => {
                if n == 0 {
                    return Ok(());
                }
                let now = Instant::now();
                for ev in batch.drain(..) {
                    s.on_net(ev, now);
                }
            }
        }
    }
    Ok(())
}
