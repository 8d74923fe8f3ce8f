//! Spill files: every received RTP packet is appended, as it arrives, to its call's file in
//! the record folder ([`writer`]). The file is the call's recording store: a save replays it
//! into a WAV or pcap ([`replay`]), so the dashboard keeps no audio in memory; and a crash or
//! `kill -9` loses at most the last fraction of a second. The next start finds spill files
//! of sessions that are gone and offers to turn each into an ordinary WAV file ([`recover`]).
//!
//! Files are named `.sipdeck-spill-<pid>-<call>.rtp` (format [`format::MAGIC_V2`]); older
//! versions left one `.sipdeck-spill-<pid>.rtp` per process ([`format::MAGIC_V1`]), which
//! is still recovered.

pub mod format;
pub mod recover;
pub mod replay;
pub mod writer;

use std::path::{Path, PathBuf};

pub use recover::recover;
pub use replay::{save_pcap, save_wav, SavedFile, Source};
pub use writer::{Progress, SpillWriter};

const PREFIX: &str = ".sipdeck-spill-";
const SUFFIX: &str = ".rtp";

/// The spill file name of call `call` of process `pid`.
pub fn file_name(pid: u32, call: u64) -> String {
    format!("{PREFIX}{pid}-{call}{SUFFIX}")
}

/// The process a spill file name belongs to (either naming).
fn pid_of(name: &str) -> Option<u32> {
    let middle = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let pid = middle.split_once('-').map_or(middle, |(pid, call)| if call.parse::<u64>().is_ok() { pid } else { "" });
    pid.parse().ok()
}

fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// A spill file left by a session that is gone.
#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    pub path: PathBuf,
    pub modified: Option<chrono::DateTime<chrono::Local>>,
    pub bytes: u64,
}

/// Spill files in `dir` whose session is no longer running, oldest name first.
pub fn leftovers(dir: &Path) -> Vec<Leftover> {
    let Ok(rd) = std::fs::read_dir(dir) else { return vec![] };
    let mut out: Vec<Leftover> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = pid_of(&name)?;
            if alive(pid) {
                return None;
            }
            let meta = e.metadata().ok()?;
            Some(Leftover {
                path: e.path(),
                modified: meta.modified().ok().map(chrono::DateTime::from),
                bytes: meta.len(),
            })
        })
        .filter(|l| l.bytes > format::HEADER_V2 as u64)
        .collect();
    out.sort_by(|a, b| a.modified.cmp(&b.modified).then_with(|| a.path.cmp(&b.path)));
    out
}

#[cfg(test)]
mod tests;
