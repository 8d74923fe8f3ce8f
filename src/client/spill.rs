//! The spill file: every received RTP packet is appended, as it arrives, to a file in the
//! record folder, so a crash or `kill -9` loses at most the last fraction of a second of
//! audio. The next start finds spill files of sessions that are gone and offers to turn them
//! into ordinary WAV files.
//!
//! Format: the 8 bytes `SDSPILL1`, then per packet a big-endian `u16` length and the whole
//! RTP packet. Whole packets (not payloads) are kept so recovery rebuilds the capture with
//! the same sequence logic as a live save.

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::core::capture::Capture;

pub const MAGIC: &[u8; 8] = b"SDSPILL1";
const PREFIX: &str = ".sipdeck-spill-";
const SUFFIX: &str = ".rtp";
/// Bytes queued before they are handed to the writer thread without waiting for a tick.
/// Each hand-over wakes the writer (a futex call); under a flood, bigger chunks mean fewer.
const CHUNK: usize = 256 * 1024;
/// A chunk buffer's capacity: a full chunk plus the largest packet that may overflow it.
const CHUNK_CAPACITY: usize = CHUNK + 2 + u16::MAX as usize;
/// Written buffers kept for reuse. More in flight than this are freed after writing.
const POOL: usize = 4;

/// Appends packets from a thread of its own; the UI only hands over a buffer per tick.
pub struct SpillWriter {
    path: PathBuf,
    buf: Vec<u8>,
    tx: Option<mpsc::Sender<Vec<u8>>>,
    /// Buffers the writer has emptied, for the next chunks: a fresh buffer per chunk meant
    /// fresh pages (page faults) on the UI thread and frees on the writer's.
    recycled: mpsc::Receiver<Vec<u8>>,
    thread: Option<JoinHandle<()>>,
    error: Arc<Mutex<Option<String>>>,
    reported: bool,
    packets: u64,
}

impl SpillWriter {
    /// Create this process's spill file in `dir`.
    pub fn create(dir: &Path) -> io::Result<SpillWriter> {
        let path = dir.join(format!("{PREFIX}{}{SUFFIX}", std::process::id()));
        let mut file = std::fs::File::create(&path)?;
        file.write_all(MAGIC)?;
        SpillWriter::start(path, file)
    }

    /// Run the writer thread on an open file.
    fn start(path: PathBuf, mut file: std::fs::File) -> io::Result<SpillWriter> {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let (back, recycled) = mpsc::sync_channel::<Vec<u8>>(POOL);
        let error = Arc::new(Mutex::new(None));
        let err = error.clone();
        let writer = move || {
            while let Ok(mut chunk) = rx.recv() {
                if let Err(e) = file.write_all(&chunk) {
                    *err.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                    return;
                }
                chunk.clear();
                // A full pool (or a gone writer side) frees the buffer instead.
                let _ = back.try_send(chunk);
            }
        };
        // Named so profiles and benches/flood.rs can tell its CPU from the UI thread's.
        let thread = std::thread::Builder::new().name("sipdeck-spill".into()).spawn(writer)?;
        Ok(SpillWriter {
            path,
            buf: Vec::with_capacity(CHUNK_CAPACITY),
            tx: Some(tx),
            recycled,
            thread: Some(thread),
            error,
            reported: false,
            packets: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queue one packet (no IO here).
    pub fn push(&mut self, packet: &[u8]) {
        if self.tx.is_none() || packet.len() > u16::MAX as usize {
            return;
        }
        self.buf.extend_from_slice(&(packet.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(packet);
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
    /// seen; after that the spill stops and capture goes on in memory only.
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

    /// Finish writing; remove the file unless its audio is still unsaved.
    pub fn close(mut self, keep: bool) -> Option<PathBuf> {
        self.flush();
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if keep && self.packets > 0 {
            Some(self.path.clone())
        } else {
            let _ = std::fs::remove_file(&self.path);
            None
        }
    }
}

/// A spill file left by a session that is gone.
#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    pub path: PathBuf,
    pub modified: Option<chrono::DateTime<chrono::Local>>,
    pub bytes: u64,
}

fn pid_of(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?.parse().ok()
}

fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Spill files in `dir` whose session is no longer running.
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
        .filter(|l| l.bytes > MAGIC.len() as u64)
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Rebuild the capture of a spill file. A torn last record (the crash cut it) is ignored.
pub fn read_capture(path: &Path) -> io::Result<(Capture, u64)> {
    let mut data = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut data)?;
    if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a sipdeck spill file"));
    }
    let mut capture = Capture::default();
    // The capture is placed by the streams' sequence tracking and timestamps, as live; arrival
    // times are not kept in the file, so a pause between two streams is not restored.
    let mut streams = crate::core::stats::StreamSet::default();
    let at = std::time::Instant::now();
    let mut pos = MAGIC.len();
    let mut packets = 0u64;
    while pos + 2 <= data.len() {
        let len = u16::from_be_bytes([data[pos], data[pos + 1]]) as usize;
        let end = pos + 2 + len;
        if end > data.len() {
            break;
        }
        if let Ok(p) = crate::core::rtp::parse(&data[pos + 2..end]) {
            let arrival = streams.on_packet(&p.header, p.payload, len, at);
            capture.push(&arrival, &p.header, p.payload);
            packets += 1;
        }
        pos = end;
    }
    Ok((capture, packets))
}

/// Turn a leftover spill file into `rtp_capture_recovered_<time>.wav` in `dir`, then remove
/// the spill file. Returns the WAV's path and its seconds of audio.
pub fn recover(spill: &Path, dir: &Path) -> io::Result<(PathBuf, f64)> {
    let (capture, _) = read_capture(spill)?;
    if capture.is_empty() {
        std::fs::remove_file(spill)?;
        return Err(io::Error::new(io::ErrorKind::InvalidData, "the spill file holds no audio"));
    }
    let stamp = std::fs::metadata(spill)
        .and_then(|m| m.modified())
        .map(chrono::DateTime::<chrono::Local>::from)
        .unwrap_or_else(|_| chrono::Local::now());
    let mut path = dir.join(format!("rtp_capture_recovered_{}.wav", stamp.format("%Y%m%d_%H%M%S")));
    let mut i = 2;
    while path.exists() {
        path = dir.join(format!("rtp_capture_recovered_{}_{i}.wav", stamp.format("%Y%m%d_%H%M%S")));
        i += 1;
    }
    crate::client::files::save_atomic(&path, &capture.to_wav())?;
    std::fs::remove_file(spill)?;
    Ok((path, capture.seconds()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rtp::{build, RtpHeader};

    fn pkt(seq: u16) -> Vec<u8> {
        build(&RtpHeader { payload_type: 0, sequence: seq, timestamp: seq as u32 * 160, ssrc: 9, marker: false }, &[seq as u8; 160])
    }

    #[test]
    fn spilled_packets_come_back_as_a_wav() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpillWriter::create(dir.path()).unwrap();
        for s in 0..100 {
            w.push(&pkt(s));
        }
        assert_eq!(w.flush(), None);
        let path = w.path().to_path_buf();
        // Simulate a crash: keep the file, then pretend it came from a dead process.
        let kept = w.close(true).unwrap();
        let dead = dir.path().join(format!("{PREFIX}999999999{SUFFIX}"));
        std::fs::rename(&kept, &dead).unwrap();
        assert!(!path.exists());
        // Tear the last record as a crash mid-write would.
        let mut f = std::fs::OpenOptions::new().append(true).open(&dead).unwrap();
        f.write_all(&[0, 172, 0x80]).unwrap();
        let found = leftovers(dir.path());
        assert_eq!(found.len(), 1);
        let (cap, packets) = read_capture(&dead).unwrap();
        assert_eq!(packets, 100);
        assert_eq!(cap.len(), 16000);
        let (wav_path, secs) = recover(&dead, dir.path()).unwrap();
        assert!((secs - 2.0).abs() < 1e-9);
        let wav = std::fs::read(&wav_path).unwrap();
        assert_eq!(crate::core::wav::parse_header(&wav).unwrap().data_len, 16000);
        assert!(!dead.exists());
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn many_chunks_through_reused_buffers_arrive_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpillWriter::create(dir.path()).unwrap();
        // About 26 chunks: buffers go round the pool many times, with a flush (a partial
        // chunk, as a tick hands over) now and then.
        let n = 40_000u32;
        for i in 0..n {
            w.push(&pkt(i as u16));
            if i % 7_919 == 0 {
                assert_eq!(w.flush(), None);
            }
        }
        let kept = w.close(true).unwrap();
        let data = std::fs::read(&kept).unwrap();
        assert_eq!(data.len(), MAGIC.len() + n as usize * (2 + 172));
        for (i, rec) in data[MAGIC.len()..].chunks(2 + 172).enumerate() {
            assert_eq!(&rec[..2], &172u16.to_be_bytes());
            assert_eq!(&rec[2..], &pkt(i as u16)[..], "record {i}");
        }
    }

    #[test]
    fn a_clean_close_leaves_nothing_and_live_sessions_are_not_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpillWriter::create(dir.path()).unwrap();
        w.push(&pkt(1));
        w.flush();
        assert!(leftovers(dir.path()).is_empty(), "our own spill is not a leftover");
        assert_eq!(w.close(false), None);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_full_disk_is_reported_once_and_spilling_stops() {
        // /dev/full fails every write with ENOSPC, as a full disk does.
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let mut w = SpillWriter::start(PathBuf::from("/dev/full"), full).unwrap();
        w.push(&pkt(1));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let err = loop {
            if let Some(e) = w.flush() {
                break e;
            }
            assert!(std::time::Instant::now() < deadline, "the write error never surfaced");
            std::thread::yield_now();
        };
        assert!(err.contains("No space left"), "{err}");
        assert_eq!(w.flush(), None, "reported once");
        w.push(&pkt(2));
        assert!(w.buf.is_empty(), "after a failure nothing more is queued");
    }
}
