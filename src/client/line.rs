//! Line mode: no full screen. Log lines go to stdout as they happen and the menu is read from
//! stdin, the reference client's way (`2` then the number on the next line) or with the
//! argument on the same line (`2 0912345678`), so scripts written for the reference client
//! keep working and CI can drive sipdeck. `wait N` pauses the script for N seconds while
//! events flow; the end of input quits like `8`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use crate::client::app::command::{self, Needs, Parsed};
use crate::client::app::{App, LogKind};
use crate::client::net::{self, Command};
use crate::client::runner::{Effects, Session};

const MENU: crate::client::app::keys::LineMenu = crate::client::app::keys::LineMenu;

pub async fn run(app: App, net_cfg: net::NetConfig, log_path: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    let (cmd_tx, mut net_rx) = net::spawn(net_cfg);
    let (io_tx, mut io_rx) = mpsc::channel(16);
    let mut s = Session::new(app, Effects::new(cmd_tx.clone(), io_tx), log_path)?;
    s.app.log(LogKind::Info, MENU);
    let mut printed = 0u64;
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut input_open = true;
    let mut pending: Option<Needs> = None;
    let mut paused_until: Option<tokio::time::Instant> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut batch = Vec::with_capacity(512);
    while !s.app.quit {
        let pause = async {
            match paused_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            line = stdin.next_line(), if input_open && paused_until.is_none() => match line {
                Ok(Some(l)) => on_line(&mut s, &l, &mut pending, &mut paused_until).await,
                Ok(None) | Err(_) => {
                    input_open = false;
                    s.app.log(LogKind::Info, "end of input: quitting");
                    let effects = s.app.command(command::Command::Quit);
                    s.apply_all(effects).await;
                }
            },
            _ = pause => paused_until = None,
            _ = tick.tick() => s.on_tick(Instant::now()),
            Some(io) = io_rx.recv() => s.on_io(io).await,
            n = net_rx.recv_many(&mut batch, 512) => {
                if n == 0 { break; }
                let now = Instant::now();
                for ev in batch.drain(..) {
                    s.on_net(ev, now);
                }
            }
        }
        print_new(&s.app, &mut printed);
    }
    s.drain(&mut io_rx).await;
    print_new(&s.app, &mut printed);
    let _ = cmd_tx.send(Command::Shutdown).await;
    Ok(s.finish())
}

async fn on_line(s: &mut Session, line: &str, pending: &mut Option<Needs>, paused_until: &mut Option<tokio::time::Instant>) {
    if let Some(needs) = pending.take() {
        let effects = s.app.command(command::complete(needs, line));
        s.apply_all(effects).await;
        return;
    }
    if let Some(secs) = line.trim().strip_prefix("wait ").and_then(|n| n.trim().parse::<f64>().ok()) {
        *paused_until = Some(tokio::time::Instant::now() + Duration::from_secs_f64(secs.clamp(0.0, 3600.0)));
        return;
    }
    match command::parse_line(line) {
        Parsed::Run(cmd) => {
            let effects = s.app.command(cmd);
            s.apply_all(effects).await;
        }
        Parsed::Ask(needs) => {
            s.app.log(LogKind::Info, needs.prompt());
            *pending = Some(needs);
        }
        Parsed::Empty => {}
        Parsed::Unknown(l) => s.app.log(LogKind::Error, format!("unknown command {l:?}; {MENU}")),
    }
}

fn print_new(app: &App, printed: &mut u64) {
    let total = app.log.total();
    if total == *printed {
        return;
    }
    let mut out = std::io::stdout().lock();
    for l in app.log.since(*printed) {
        let _ = writeln!(out, "{}", l.plain());
    }
    let _ = out.flush();
    *printed = total;
}
