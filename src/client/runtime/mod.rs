//! The one event loop under every front end (full screen, line mode, the tests, the flood
//! bench): input from the front end, the clock, IO results and network batches, each folded
//! into the [`App`], whose effects are carried out here ([`effects`]). A front end only reads
//! its input and shows the app ([`FrontEnd`]).
//!
//! Quitting waits for the work under way (uploads being read or converted and their
//! acknowledgements, saves, recoveries) for at most [`QUIT_PATIENCE`].

pub mod effects;
mod log_file;
pub mod redraw;
mod session;
pub mod spills;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::time::Instant as Deadline;

pub use effects::Effects;
pub use log_file::LogFile;
pub use session::{Session, UnderWay};

use crate::client::app::{App, ConnState, Effect, IoEvent, LogKind};
use crate::client::net::{self, NetCommand, NetConfig, NetEvent};

/// Network events folded per wake-up before input and the clock get another look.
pub const NET_BATCH: usize = 512;
/// The clock's period while something happens (a call, packets in the last seconds, a
/// reconnect countdown): app timers, the spill and log file hand-overs, and a redraw so
/// that times on screen move. As long as [`redraw::EVENT_FRAME`], so a call wakes the UI for
/// the tick and the network's hand-over about five times a second each.
pub const LIVELY_TICK: Duration = Duration::from_millis(200);
/// The clock's period when nothing happens: times on screen move by the second.
pub const IDLE_TICK: Duration = Duration::from_secs(1);
/// Packets this recent keep the clock lively.
const LIVELY_FOR: Duration = Duration::from_secs(2);
/// The longest a quit waits for work under way.
pub const QUIT_PATIENCE: Duration = Duration::from_secs(10);

/// What woke the loop, for the front end to decide what to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    Input,
    Net,
    Io,
    Tick,
    /// The front end's own timer ([`FrontEnd::timer`]).
    Timer,
}

/// Whether the loop goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Go,
    Stop,
}

/// A way of reading input and showing the app: the terminal, stdin and stdout, a test.
pub trait FrontEnd {
    type Input;

    /// The next key or line; `None` at the end of input. Must be cancel-safe: the loop drops
    /// it whenever something else wakes first.
    fn next_input(&mut self) -> impl Future<Output = anyhow::Result<Option<Self::Input>>>;

    /// Whether input is read now: not once the app quits, by default (line mode also pauses
    /// for `wait`; the full screen reads on, so that a second `q` can stop the waiting).
    fn reading(&self, app: &App) -> bool {
        !app.quit
    }

    /// Fold one input into the app.
    fn on_input(&mut self, app: &mut App, input: Self::Input) -> Vec<Effect>;

    /// The input ended.
    fn on_end(&mut self, _app: &mut App) -> Vec<Effect> {
        vec![]
    }

    /// When the front end wants to be woken ([`Woke::Timer`]), if at all.
    fn timer(&self) -> Option<Deadline> {
        None
    }

    /// Its timer fired.
    fn on_timer(&mut self, _app: &mut App) -> Vec<Effect> {
        vec![]
    }

    /// Called once per network batch before it is folded (the bench counts messages here).
    fn saw_net(&mut self, _ev: &NetEvent) {}

    /// After every wake-up: show what changed; `Stop` ends the loop at once.
    fn show(&mut self, s: &mut Session, woke: Woke) -> anyhow::Result<Flow>;
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The app quit and the work under way finished (or [`QUIT_PATIENCE`] ran out).
    Quit,
    /// The front end stopped it.
    Stopped,
    /// The network actor is gone.
    NetGone,
}

/// The session with its channels: the network actor's events and the effects' reports.
pub struct Runtime {
    pub session: Session,
    cmd: mpsc::Sender<NetCommand>,
    net_rx: mpsc::Receiver<NetEvent>,
    io_rx: mpsc::Receiver<IoEvent>,
    batch: Vec<NetEvent>,
    /// The clock's next tick; one timer, reset after each tick rather than made anew.
    tick: std::pin::Pin<Box<tokio::time::Sleep>>,
    input_open: bool,
}

impl Runtime {
    /// Start the network actor and open the session's files.
    pub fn start(app: App, net_cfg: NetConfig, log_path: Option<&Path>) -> anyhow::Result<Runtime> {
        let (cmd, net_rx) = net::spawn(net_cfg);
        Runtime::with_actor(app, cmd, net_rx, log_path)
    }

    /// Over an actor already started (its command sender and event receiver).
    pub fn with_actor(
        app: App,
        cmd: mpsc::Sender<NetCommand>,
        net_rx: mpsc::Receiver<NetEvent>,
        log_path: Option<&Path>,
    ) -> anyhow::Result<Runtime> {
        let (io_tx, io_rx) = mpsc::channel(16);
        let session = Session::new(app, Effects::new(cmd.clone(), io_tx), log_path)?;
        Ok(Runtime {
            session,
            cmd,
            net_rx,
            io_rx,
            batch: Vec::with_capacity(NET_BATCH),
            tick: Box::pin(tokio::time::sleep_until(Deadline::now())),
            input_open: true,
        })
    }

    pub fn app(&self) -> &App {
        &self.session.app
    }

    /// Carry out effects the caller got from the app (a test's key press).
    pub async fn apply(&mut self, effects: Vec<Effect>) {
        self.session.apply_all(effects).await;
    }

    /// Run until the app quits (and its work is done), the front end stops, or the network
    /// actor ends.
    pub async fn run<F: FrontEnd>(&mut self, fe: &mut F) -> anyhow::Result<Ending> {
        let mut quit_by: Option<Deadline> = None;
        loop {
            if self.session.app.quit {
                let by = *quit_by.get_or_insert_with(|| self.start_quitting());
                if self.settled() {
                    return Ok(Ending::Quit);
                }
                if Deadline::now() >= by {
                    let left = self.session.under_way();
                    self.session.app.log(LogKind::Error, format!("quitting without waiting longer for {left}"));
                    fe.show(&mut self.session, Woke::Timer)?;
                    return Ok(Ending::Quit);
                }
            }
            let reading = self.input_open && fe.reading(&self.session.app);
            let timer = fe.timer();
            let woke = tokio::select! {
                // Input first, then the clock, then the rest: a flood of packets can never
                // starve the keyboard or the redraw.
                biased;
                input = fe.next_input(), if reading => {
                    let effects = match input? {
                        Some(i) => fe.on_input(&mut self.session.app, i),
                        None => {
                            self.input_open = false;
                            fe.on_end(&mut self.session.app)
                        }
                    };
                    self.session.apply_all(effects).await;
                    Woke::Input
                }
                _ = self.tick.as_mut() => {
                    self.session.on_tick(Instant::now());
                    let next = Deadline::now() + self.tick_period();
                    self.tick.as_mut().reset(next);
                    Woke::Tick
                }
                _ = sleep_until(timer) => {
                    let effects = fe.on_timer(&mut self.session.app);
                    self.session.apply_all(effects).await;
                    Woke::Timer
                }
                // Quitting rechecks its deadline now and then.
                _ = sleep_until(quit_by.map(|_| Deadline::now() + Duration::from_millis(50))) => Woke::Timer,
                Some(io) = self.io_rx.recv() => {
                    self.session.on_io(io).await;
                    Woke::Io
                }
                n = self.net_rx.recv_many(&mut self.batch, NET_BATCH) => {
                    if n == 0 {
                        return Ok(Ending::NetGone);
                    }
                    let now = Instant::now();
                    for ev in self.batch.drain(..) {
                        fe.saw_net(&ev);
                        self.session.on_net(ev, now);
                    }
                    // Calls saved as they end (--save-calls).
                    let effects = self.session.app.take_effects();
                    self.session.apply_all(effects).await;
                    Woke::Net
                }
            };
            if woke != Woke::Tick {
                self.pace_tick();
            }
            if fe.show(&mut self.session, woke)? == Flow::Stop {
                return Ok(Ending::Stopped);
            }
        }
    }

    /// The clock's period for what the app is doing now.
    fn tick_period(&self) -> Duration {
        let app = &self.session.app;
        let recent = |t: Instant| app.now.saturating_duration_since(t) < LIVELY_FOR;
        let countdown = matches!(app.conn, ConnState::Disconnected { next_attempt: Some(_), .. });
        if app.call.in_progress() || app.rtp.last_at.is_some_and(recent) || countdown || app.quit {
            LIVELY_TICK
        } else {
            IDLE_TICK
        }
    }

    /// Bring the next tick forward when the app just became lively (a call starts).
    fn pace_tick(&mut self) {
        let want = Deadline::now() + self.tick_period();
        if self.tick.deadline() > want {
            self.tick.as_mut().reset(want);
        }
    }

    fn start_quitting(&mut self) -> Deadline {
        let left = self.session.under_way();
        if !left.is_empty() {
            self.session.app.log(LogKind::Info, format!("waiting for {left} before quitting"));
        }
        Deadline::now() + QUIT_PATIENCE
    }

    /// Nothing under way and no report waiting to be folded. `in_flight` reads 0 only once
    /// every job's report is in the channel, so checking the channel after it is enough.
    fn settled(&self) -> bool {
        self.session.under_way().is_empty() && self.io_rx.is_empty()
    }

    /// Stop the network actor and close the files; returns the spill file when it keeps
    /// audio that was never saved.
    pub async fn shutdown(mut self) -> Option<PathBuf> {
        let _ = self.cmd.send(NetCommand::Shutdown).await;
        self.session.on_tick(Instant::now());
        self.session.finish()
    }
}

/// Sleep until `at`, or forever when there is no `at`.
async fn sleep_until(at: Option<Deadline>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
