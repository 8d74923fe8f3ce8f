//! The spill files of the calls the app still keeps: the live call's being written, and the
//! closed ones of the history, so any kept call can be saved later. Packets are filed by the
//! call they belong to; a file goes when its call leaves the history, or at a clean exit
//! once its audio was saved. With no spill file possible (a read-only folder), a call's
//! packets are kept in memory in the same format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::client::spill::{format, Source, SpillWriter};

/// Where the live call's packets go.
enum Store {
    File {
        writer: SpillWriter,
        /// Packets after a write failure, as records (the file ends at a record boundary).
        tail: Option<Vec<u8>>,
    },
    /// A whole spill file's bytes, header included.
    Memory(Vec<u8>),
}

/// A closed call's packets.
enum Kept {
    File { path: PathBuf, len: u64, tail: Option<Arc<Vec<u8>>> },
    Memory(Arc<Vec<u8>>),
}

impl Kept {
    fn source(&self) -> Source {
        match self {
            Kept::File { path, len, tail } => Source::File { path: path.clone(), upto: *len, progress: None, tail: tail.clone() },
            Kept::Memory(bytes) => Source::Memory(bytes.clone()),
        }
    }
}

struct Live {
    id: u64,
    origin: Instant,
    store: Store,
}

/// What happened that the log should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// No spill file could be created: packets are kept in memory.
    InMemory(String),
    /// A spill file stopped taking packets: the rest of the call is kept in memory.
    WriteFailed(String),
}

/// Every kept call's packets, by call id.
pub struct Spills {
    dir: PathBuf,
    live: Option<Live>,
    kept: BTreeMap<u64, Kept>,
    /// The memory fallback was said once.
    told_memory: bool,
}

impl Spills {
    pub fn new(dir: &Path) -> Spills {
        Spills { dir: dir.to_path_buf(), live: None, kept: BTreeMap::new(), told_memory: false }
    }

    /// File one packet of call `id` that arrived at `at` (no IO: the writer thread writes).
    pub fn push(&mut self, id: u64, packet: &[u8], at: Instant) -> Option<Notice> {
        let mut notice = None;
        if self.live.as_ref().map(|l| l.id) != Some(id) {
            self.close_live();
            notice = self.open(id, at);
        }
        let live = self.live.as_mut().expect("opened above");
        match &mut live.store {
            Store::File { tail: Some(t), .. } => push_record(t, live.origin, packet, at),
            Store::File { writer, .. } => writer.push(packet, at),
            Store::Memory(bytes) => push_record(bytes, live.origin, packet, at),
        }
        notice
    }

    fn open(&mut self, id: u64, at: Instant) -> Option<Notice> {
        let (store, notice) = match SpillWriter::create(&self.dir, id, at) {
            Ok(writer) => (Store::File { writer, tail: None }, None),
            Err(e) => {
                let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                let said = std::mem::replace(&mut self.told_memory, true);
                let notice = (!said).then(|| Notice::InMemory(format!("no spill file in {} ({e})", self.dir.display())));
                (Store::Memory(format::header_v2(start.as_micros() as u64).to_vec()), notice)
            }
        };
        self.live = Some(Live { id, origin: at, store });
        notice
    }

    /// Close the live call's file (its writer drains first) and keep it with the others.
    fn close_live(&mut self) {
        let Some(live) = self.live.take() else { return };
        let kept = match live.store {
            Store::File { writer, tail } => match writer.close() {
                Some((path, len)) => Kept::File { path, len, tail: tail.map(Arc::new) },
                None => return,
            },
            Store::Memory(bytes) => Kept::Memory(Arc::new(bytes)),
        };
        self.kept.insert(live.id, kept);
    }

    /// Hand queued packets to the writer; a write failure turns the rest of the call to
    /// memory and is said once.
    pub fn flush(&mut self) -> Option<Notice> {
        let live = self.live.as_mut()?;
        let Store::File { writer, tail } = &mut live.store else { return None };
        let err = writer.flush()?;
        *tail = Some(Vec::new());
        Some(Notice::WriteFailed(format!("spill file {} write failed ({err})", writer.path().display())))
    }

    /// Where call `id`'s packets are, as they are now: a live file is read up to what was
    /// received so far, once its writer has written that much.
    pub fn source(&mut self, id: u64) -> Option<Source> {
        match &mut self.live {
            Some(live) if live.id == id => Some(match &mut live.store {
                Store::File { writer, tail } => {
                    let (upto, progress) = writer.mark();
                    let path = writer.path().to_path_buf();
                    Source::File { path, upto, progress: Some(progress), tail: tail.clone().map(Arc::new) }
                }
                Store::Memory(bytes) => Source::Memory(Arc::new(bytes.clone())),
            }),
            _ => self.kept.get(&id).map(Kept::source),
        }
    }

    /// Drop the files of calls older than `oldest` (they left the history).
    pub fn prune(&mut self, oldest: Option<u64>) {
        let Some(oldest) = oldest else { return };
        let keep = self.kept.split_off(&oldest);
        for (_, gone) in std::mem::replace(&mut self.kept, keep) {
            if let Kept::File { path, .. } = gone {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// Close everything at exit: files of calls `unsaved` says were never saved stay for
    /// recovery (their paths are returned), the others are removed.
    pub fn finish(mut self, unsaved: impl Fn(u64) -> bool) -> Vec<PathBuf> {
        self.close_live();
        let mut left = Vec::new();
        for (id, kept) in std::mem::take(&mut self.kept) {
            if let Kept::File { path, .. } = kept {
                if unsaved(id) {
                    left.push(path);
                } else {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        left
    }
}

fn push_record(buf: &mut Vec<u8>, origin: Instant, packet: &[u8], at: Instant) {
    if packet.len() <= u16::MAX as usize {
        format::push_record(buf, at.saturating_duration_since(origin).as_micros() as u64, packet);
    }
}
