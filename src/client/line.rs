//! Line mode: no full screen. Log lines go to stdout as they happen and the menu is read from
//! stdin, the reference client's way (`2` then the number on the next line) or with the
//! argument on the same line (`2 0912345678`), so scripts written for the reference client
//! keep working and CI can drive sipdeck. `wait N` pauses the script for N seconds while
//! events flow; the end of input quits like `8`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};
use tokio::time::Instant as Deadline;

use crate::client::app::command::{self, Needs, Parsed};
use crate::client::app::{App, Effect, LogKind};
use crate::client::net::NetConfig;
use crate::client::runtime::{Flow, FrontEnd, Runtime, Session, Woke};

const MENU: crate::client::app::keys::LineMenu = crate::client::app::keys::LineMenu;

pub async fn run(mut app: App, net_cfg: NetConfig, log_path: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    app.log(LogKind::Info, MENU);
    let mut rt = Runtime::start(app, net_cfg, log_path)?;
    let mut script = Script {
        stdin: BufReader::new(tokio::io::stdin()).lines(),
        pending: None,
        paused_until: None,
        printed: 0,
    };
    script.print_new(rt.app());
    let ended = rt.run(&mut script).await;
    let kept = rt.shutdown().await;
    ended?;
    Ok(kept)
}

/// Stdin as a script of menu commands, stdout as the log.
struct Script {
    stdin: Lines<BufReader<Stdin>>,
    /// A menu item read without its argument, waiting for the next line.
    pending: Option<Needs>,
    /// `wait N`: no line is read before this.
    paused_until: Option<Deadline>,
    /// Log lines already printed.
    printed: u64,
}

impl FrontEnd for Script {
    type Input = String;

    async fn next_input(&mut self) -> anyhow::Result<Option<String>> {
        // A read error ends the input like the end of the file does.
        Ok(self.stdin.next_line().await.unwrap_or(None))
    }

    fn reading(&self, _app: &App) -> bool {
        self.paused_until.is_none()
    }

    fn on_input(&mut self, app: &mut App, line: String) -> Vec<Effect> {
        if let Some(needs) = self.pending.take() {
            return app.command(command::complete(needs, &line));
        }
        if let Some(secs) = line.trim().strip_prefix("wait ").and_then(|n| n.trim().parse::<f64>().ok()) {
            self.paused_until = Some(Deadline::now() + Duration::from_secs_f64(secs.clamp(0.0, 3600.0)));
            return vec![];
        }
        match command::parse_line(&line) {
            Parsed::Run(cmd) => app.command(cmd),
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

    fn on_end(&mut self, app: &mut App) -> Vec<Effect> {
        app.log(LogKind::Info, "end of input: quitting");
        app.command(command::Command::Quit)
    }

    fn timer(&self) -> Option<Deadline> {
        self.paused_until
    }

    fn on_timer(&mut self, _app: &mut App) -> Vec<Effect> {
        self.paused_until = None;
        vec![]
    }

    fn show(&mut self, s: &mut Session, _woke: Woke) -> anyhow::Result<Flow> {
        self.print_new(&s.app);
        Ok(Flow::Go)
    }
}

impl Script {
    fn print_new(&mut self, app: &App) {
        let total = app.log.total();
        if total == self.printed {
            return;
        }
        let mut out = std::io::stdout().lock();
        for l in app.log.since(self.printed) {
            let _ = writeln!(out, "{}", l.plain());
        }
        let _ = out.flush();
        self.printed = total;
    }
}
