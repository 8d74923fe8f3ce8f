//! Appending one call's packets to its spill file from a thread of its own; the UI thread
//! only hands over a buffer per tick (or per full chunk under a flood). The writer counts
//! the bytes it has written, so a save of the live call can wait until the file holds
//! everything that was received when the save was asked for.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use super::format;

/// Bytes queued before they are handed to the writer thread without waiting for a tick.
/// Each hand-over wakes the writer (a futex call); under a flood, bigger chunks mean fewer.
const CHUNK: usize = 256 * 1024;
/// A chunk buffer's capacity: a full chunk plus the largest record that may overflow it.
const CHUNK_CAPACITY: usize = CHUNK + format::RECORD_HEAD_V2 + u16::MAX as usize;
/// Written buffers kept for reuse. More in flight than this are freed after writing.
const POOL: usize = 4;

/// How far the writer thread got.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Written {
    bytes: u64,
    /// The thread stopped (a write failed, or the writer was closed): no more will come.
    stopped: bool,
}

/// The written-bytes counter a save waits on.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<(Mutex<Written>, Condvar)>);

impl Progress {
    fn update(&self, f: impl FnOnce(&mut Written)) {
        let (lock, cv) = &*self.0;
        f(&mut lock.lock().unwrap_or_else(|p| p.into_inner()));
        cv.notify_all();
    }

    /// Block until `bytes` are in the file or the writer stopped; the bytes written then.
    /// Only ever called from a background job, never the UI thread.
    pub fn wait_for(&self, bytes: u64) -> u64 {
        let (lock, cv) = &*self.0;
        let mut w = lock.lock().unwrap_or_else(|p| p.into_inner());
        while w.bytes < bytes && !w.stopped {
            w = cv.wait(w).unwrap_or_else(|p| p.into_inner());
        }
        w.bytes.min(bytes)
    }
}

/// One call's spill file being written.
pub struct SpillWriter {
    path: PathBuf,
    /// Arrival of the call's first packet: record times count from it.
    origin: Instant,
    buf: Vec<u8>,
    tx: Option<mpsc::Sender<Vec<u8>>>,
    /// Buffers the writer has emptied, for the next chunks: a fresh buffer per chunk meant
    /// fresh pages (page faults) on the UI thread and frees on the writer's.
    recycled: mpsc::Receiver<Vec<u8>>,
    thread: Option<JoinHandle<()>>,
    error: Arc<Mutex<Option<String>>>,
    reported: bool,
    progress: Progress,
    /// Bytes handed over or queued (the header included): the file's length once written.
    pushed: u64,
    packets: u64,
}

impl SpillWriter {
    /// Create the spill file of call `call` in `dir`; its first packet arrived at `origin`.
    pub fn create(dir: &Path, call: u64, origin: Instant) -> io::Result<SpillWriter> {
        let path = dir.join(super::file_name(std::process::id(), call));
        let mut file = std::fs::File::create(&path)?;
        let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        file.write_all(&format::header_v2(start.as_micros() as u64))?;
        SpillWriter::start(path, file, origin, format::HEADER_V2 as u64)
    }

    /// Run the writer thread on an open file that already holds `header` bytes.
    pub(super) fn start(path: PathBuf, mut file: std::fs::File, origin: Instant, header: u64) -> io::Result<SpillWriter> {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let (back, recycled) = mpsc::sync_channel::<Vec<u8>>(POOL);
        let error = Arc::new(Mutex::new(None));
        let progress = Progress::default();
        progress.update(|w| w.bytes = header);
        let (err, prog) = (error.clone(), progress.clone());
        let writer = move || {
            while let Ok(mut chunk) = rx.recv() {
                if let Err(e) = file.write_all(&chunk) {
                    *err.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                    break;
                }
                prog.update(|w| w.bytes += chunk.len() as u64);
                chunk.clear();
                // A full pool (or a gone writer side) frees the buffer instead.
                let _ = back.try_send(chunk);
            }
            prog.update(|w| w.stopped = true);
        };
        // Named so profiles and benches/flood.rs can tell its CPU from the UI thread's.
        let thread = std::thread::Builder::new().name("sipdeck-spill".into()).spawn(writer)?;
        Ok(SpillWriter {
            path,
            origin,
            buf: Vec::with_capacity(CHUNK_CAPACITY),
            tx: Some(tx),
            recycled,
            thread: Some(thread),
            error,
            reported: false,
            progress,
            pushed: header,
            packets: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Packets queued so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Queue one packet that arrived at `at` (no IO here).
    pub fn push(&mut self, packet: &[u8], at: Instant) {
        if self.tx.is_none() || packet.len() > u16::MAX as usize {
            return;
        }
        let micros = at.saturating_duration_since(self.origin).as_micros() as u64;
        format::push_record(&mut self.buf, micros, packet);
        self.pushed += (format::RECORD_HEAD_V2 + packet.len()) as u64;
        self.packets += 1;
        // Under a flood, hand over full chunks at once rather than let one tick's buffer
        // grow (and reallocate) to megabytes.
        if self.buf.len() >= CHUNK {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        if let Some(tx) = &self.tx {
            let fresh = self.recycled.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK_CAPACITY));
            let chunk = std::mem::replace(&mut self.buf, fresh);
            if tx.send(chunk).is_err() {
                self.tx = None;
            }
        }
    }

    /// Hand queued packets to the writer. Returns a write error once, the first time it is
    /// seen; after that this file takes no more packets.
    pub fn flush(&mut self) -> Option<String> {
        if !self.buf.is_empty() {
            self.hand_over();
        }
        let err = self.error.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match err {
            Some(e) if !self.reported => {
                self.reported = true;
                self.tx = None;
                self.buf = Vec::new();
                Some(e)
            }
            _ => None,
        }
    }

    /// Whether a write failed: packets no longer reach the file.
    pub fn failed(&self) -> bool {
        self.reported
    }

    /// Everything queued so far, handed over: what a save must wait for, and how.
    pub fn mark(&mut self) -> (u64, Progress) {
        self.flush();
        (self.pushed, self.progress.clone())
    }

    /// Finish writing (the writer thread drains its queue first). Returns the file's path
    /// and length, or `None` when it held no packet (the file is then removed).
    pub fn close(mut self) -> Option<(PathBuf, u64)> {
        self.flush();
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if self.packets > 0 {
            Some((self.path.clone(), self.progress.wait_for(self.pushed)))
        } else {
            let _ = std::fs::remove_file(&self.path);
            None
        }
    }
}

impl Drop for SpillWriter {
    /// A writer dropped without `close` (a panic unwinding) still lets its thread end.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
