//! Line mode: no full screen. Log lines go to stdout as they happen and the menu is read from
//! stdin, the reference client's way (`2` then the number on the next line) or with the
//! argument on the same line (`2 0912345678`), so scripts written for the reference client
//! keep working and CI can drive sipdeck.
//!
//! A script never loses a command:
//! - no line is read before the first connection is up; after [`CONNECT_PATIENCE`] without
//!   one, an error says so and the script goes on (commands that need the server fail);
//! - `wait N` pauses the script for N seconds while events flow;
//! - `wait-for TEXT [N]` pauses it until a log line since the previous command contains TEXT
//!   (quoted `"..."` or bare words), at most N seconds ([`WAIT_FOR_DEFAULT`] when not given);
//!   when none comes, an error ends the script;
//! - `8` and the end of input quit once the uploads, conversions and saves under way are done
//!   and acknowledged (see [`crate::client::runtime`]).
//!
//! Exit status ([`LineEnd::failed`]): 1 when any command failed, that is when any error line
//! was logged once the script started (a command refused or not sent, a file not uploaded or
//! not saved, a `wait-for` that timed out, the connection lost), else 0. A reconnect the
//! script asked for (`r`) is not a failure.

mod script;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};
use tokio::time::Instant as Deadline;

use crate::client::app::command::{self, Needs, Parsed};
use crate::client::app::{App, Effect, LogKind};
use crate::client::net::NetConfig;
use crate::client::runtime::{Flow, FrontEnd, Runtime, Session, Woke};
use script::{Gate, ScriptLine};

const MENU: crate::client::app::keys::LineMenu = crate::client::app::keys::LineMenu;

/// How long commands wait for the first connection.
pub const CONNECT_PATIENCE: Duration = Duration::from_secs(10);
/// How long `wait-for` waits when no time is given.
pub const WAIT_FOR_DEFAULT: Duration = Duration::from_secs(30);

/// How a line-mode session ended.
#[derive(Debug)]
pub struct LineEnd {
    /// The spill file, when it keeps audio that was never saved.
    pub kept: Option<PathBuf>,
    /// Error lines logged once the script started; non-zero means exit status 1.
    pub failed: usize,
}

pub async fn run(mut app: App, net_cfg: NetConfig, log_path: Option<&Path>) -> anyhow::Result<LineEnd> {
    app.log(LogKind::Info, MENU);
    let mut rt = Runtime::start(app, net_cfg, log_path)?;
    let mut script = Script {
        stdin: BufReader::new(tokio::io::stdin()).lines(),
        pending: None,
        gate: Gate::Connection { until: Deadline::now() + CONNECT_PATIENCE },
        started: None,
        mark: 0,
        printed: 0,
        failed: 0,
    };
    script.show_app(&mut rt.session.app);
    let ended = rt.run(&mut script).await;
    let kept = rt.shutdown().await;
    ended?;
    Ok(LineEnd { kept, failed: script.failed })
}

/// Stdin as a script of menu commands, stdout as the log.
struct Script {
    stdin: Lines<BufReader<Stdin>>,
    /// A menu item read without its argument, waiting for the next line.
    pending: Option<Needs>,
    /// What the next line waits for.
    gate: Gate,
    /// The log's length when the script started: errors after it are failures.
    started: Option<u64>,
    /// The log's length when the newest command ran: `wait-for` looks from there on.
    mark: u64,
    /// Log lines already printed.
    printed: u64,
    failed: usize,
}

impl FrontEnd for Script {
    type Input = String;

    async fn next_input(&mut self) -> anyhow::Result<Option<String>> {
        // A read error ends the input like the end of the file does.
        Ok(self.stdin.next_line().await.unwrap_or(None))
    }

    fn reading(&self, app: &App) -> bool {
        !app.quit && self.gate == Gate::Open
    }

    fn on_input(&mut self, app: &mut App, line: String) -> Vec<Effect> {
        if let Some(needs) = self.pending.take() {
            self.mark = app.log.total();
            return app.command(command::complete(needs, &line));
        }
        match script::parse(&line) {
            ScriptLine::Wait(d) => self.gate = Gate::Pause { until: Deadline::now() + d },
            ScriptLine::WaitFor { text, within } => {
                self.gate = Gate::WaitFor { text, within, until: Deadline::now() + within };
            }
            ScriptLine::Bad(why) => app.log(LogKind::Error, why),
            ScriptLine::Menu => return self.menu(app, &line),
        }
        vec![]
    }

    fn on_end(&mut self, app: &mut App) -> Vec<Effect> {
        app.log(LogKind::Info, "end of input: quitting");
        app.command(command::Command::Quit)
    }

    fn timer(&self) -> Option<Deadline> {
        self.gate.until()
    }

    fn on_timer(&mut self, app: &mut App) -> Vec<Effect> {
        match std::mem::replace(&mut self.gate, Gate::Open) {
            Gate::Connection { .. } => {
                self.start(app);
                app.log(
                    LogKind::Error,
                    format!(
                        "no connection to {} within {} s; the script goes on, commands that need the server fail",
                        app.cfg.url,
                        CONNECT_PATIENCE.as_secs()
                    ),
                );
            }
            Gate::WaitFor { text, within, .. } => {
                app.log(LogKind::Error, format!("wait-for: no log line with {text:?} within {} s; stopping the script", within.as_secs_f64()));
                return app.command(command::Command::Quit);
            }
            Gate::Pause { .. } | Gate::Open => {}
        }
        vec![]
    }

    fn show(&mut self, s: &mut Session, _woke: Woke) -> anyhow::Result<Flow> {
        self.show_app(&mut s.app);
        Ok(Flow::Go)
    }
}

impl Script {
    fn menu(&mut self, app: &mut App, line: &str) -> Vec<Effect> {
        match command::parse_line(line) {
            Parsed::Run(cmd) => {
                self.mark = app.log.total();
                app.command(cmd)
            }
            Parsed::Ask(needs) => {
                app.log(LogKind::Info, needs.prompt());
                self.pending = Some(needs);
                vec![]
            }
            Parsed::Empty => vec![],
            Parsed::Unknown(l) => {
                app.log(LogKind::Error, format!("unknown command {l:?}; {MENU}"));
                vec![]
            }
        }
    }

    /// From here on, errors are failures.
    fn start(&mut self, app: &App) {
        self.started.get_or_insert(app.log.total());
    }

    /// Print new log lines, count failures, and open the gate whose wait is over.
    fn show_app(&mut self, app: &mut App) {
        if self.gate.is_connection() && app.connected() {
            self.gate = Gate::Open;
            self.start(app);
        }
        if let Gate::WaitFor { text, .. } = &self.gate {
            // The next `wait-for` looks after the line that matched, or after all looked at.
            match app.log.since(self.mark).find(|l| l.text.contains(text.as_str())) {
                Some(l) => {
                    self.mark = l.seq + 1;
                    self.gate = Gate::Open;
                }
                None => self.mark = app.log.total(),
            }
        }
        self.print_new(app);
    }

    fn print_new(&mut self, app: &App) {
        let total = app.log.total();
        if total == self.printed {
            return;
        }
        let mut out = std::io::stdout().lock();
        for l in app.log.since(self.printed) {
            let _ = writeln!(out, "{}", l.plain());
            if self.started.is_some_and(|s| l.seq >= s) && script::is_failure(l) {
                self.failed += 1;
            }
        }
        let _ = out.flush();
        self.printed = total;
    }
}
