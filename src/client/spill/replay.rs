//! Saving a call from its spill file: the packets are read back one by one and replayed
//! through fresh stream statistics and a [`Capture`] whose sink is the WAV file itself, so a
//! save of a day-long call needs no more memory than a minute's. Also a call's packets as a
//! pcap, stamped with their arrival times.

use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::format::Reader;
use super::writer::Progress;
use crate::client::app::RecordFormat;
use crate::core::audio::{self, Law};
use crate::core::capture::{Capture, Sink};
use crate::core::stats::StreamSet;

/// Where one call's packets are.
#[derive(Debug, Clone)]
pub enum Source {
    /// A spill file, read up to `upto` bytes, once its writer (if still writing) got there;
    /// then `tail`, records kept in memory after the file could take no more.
    File { path: PathBuf, upto: u64, progress: Option<Progress>, tail: Option<Arc<Vec<u8>>> },
    /// A whole spill file's bytes kept in memory (no spill file could be written).
    Memory(Arc<Vec<u8>>),
}

/// Shared bytes, readable through a cursor.
struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Open a call's packets for reading. A live call's file is read only as far as the writer
/// had got when the save was asked for (waiting for it to get there).
pub fn open(src: &Source) -> io::Result<Reader<Box<dyn Read>>> {
    let input: Box<dyn Read> = match src {
        Source::File { path, upto, progress, tail } => {
            let upto = progress.as_ref().map_or(*upto, |p| p.wait_for(*upto));
            let file = BufReader::with_capacity(256 * 1024, std::fs::File::open(path)?.take(upto));
            let tail = io::Cursor::new(Shared(tail.clone().unwrap_or_default()));
            Box::new(file.chain(tail))
        }
        Source::Memory(bytes) => Box::new(io::Cursor::new(Shared(bytes.clone()))),
    };
    Reader::new(input)
}

/// Call `each` with every packet of `src` and its arrival after the call's first packet
/// (version 1 files keep no times: 20 ms per packet is assumed). Returns the packet count
/// and the call's start, when the file says it.
pub fn for_each_packet(src: &Source, mut each: impl FnMut(Duration, &[u8])) -> io::Result<(u64, Option<Duration>)> {
    let mut reader = open(src)?;
    let start = reader.start();
    let mut packets = 0u64;
    while let Some(r) = reader.next_record()? {
        let at = r.micros.map_or(Duration::from_millis(20 * packets), Duration::from_micros);
        each(at, r.packet);
        packets += 1;
    }
    Ok((packets, start))
}

/// Replay a call's packets through fresh statistics into `capture`, as live. Returns the
/// packets read.
pub fn replay<S: Sink>(src: &Source, capture: &mut Capture<S>) -> io::Result<u64> {
    let mut streams = StreamSet::default();
    let origin = Instant::now();
    let (packets, _) = for_each_packet(src, |at, packet| {
        if let Ok(p) = crate::core::rtp::parse(packet) {
            let arrival = streams.on_packet(&p.header, p.payload, packet.len(), origin + at);
            capture.push(&arrival, &p.header, p.payload);
        }
    })?;
    Ok(packets)
}

/// A WAV file written as the capture's audio leaves its reorder window: a header with the
/// sizes left open, the samples, then the header rewritten with the sizes.
pub struct WavFile {
    out: BufWriter<std::fs::File>,
    format: RecordFormat,
    /// The file's law (the first capture's); a later capture in another law is transcoded.
    law: Option<Law>,
    incoming: Law,
    samples: u64,
    error: Option<io::Error>,
    scratch: Vec<u8>,
}

/// The header of an empty file of `format`, and where its size fields are.
fn template(format: RecordFormat, law: Law) -> Vec<u8> {
    match format {
        RecordFormat::Mulaw => crate::core::wav::g711_wav(law, &[]),
        RecordFormat::Pcm16 => crate::core::wav::pcm16_wav(law, &[]),
    }
}

fn find(h: &[u8], tag: &[u8; 4]) -> Option<usize> {
    h.windows(4).position(|w| w == tag)
}

impl WavFile {
    pub fn create(path: &Path, format: RecordFormat) -> io::Result<WavFile> {
        let mut out = BufWriter::with_capacity(256 * 1024, std::fs::File::create(path)?);
        out.write_all(&template(format, Law::MuLaw))?;
        Ok(WavFile { out, format, law: None, incoming: Law::MuLaw, samples: 0, error: None, scratch: Vec::new() })
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(bytes) {
                self.error = Some(e);
            }
        }
    }

    /// Samples in the file's encoding: G.711 bytes as they are, or 16-bit little-endian.
    fn encode(&mut self, g711: &[u8]) {
        let file_law = self.law.unwrap_or(self.incoming);
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        match self.format {
            RecordFormat::Mulaw if file_law == self.incoming => self.write(g711),
            RecordFormat::Mulaw => {
                scratch.extend(g711.iter().map(|&b| match file_law {
                    Law::MuLaw => audio::linear_to_ulaw(self.incoming.decode(b)),
                    Law::ALaw => audio::linear_to_alaw(self.incoming.decode(b)),
                }));
                self.write(&scratch);
            }
            RecordFormat::Pcm16 => {
                scratch.extend(g711.iter().flat_map(|&b| self.incoming.decode(b).to_le_bytes()));
                self.write(&scratch);
            }
        }
        self.scratch = scratch;
        self.samples += g711.len() as u64;
    }

    /// Write the sizes into the header and flush to disk. Returns the file's length.
    pub fn finish(mut self) -> io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let law = self.law.unwrap_or(Law::MuLaw);
        let mut header = template(self.format, law);
        let bytes_per_sample = if self.format == RecordFormat::Pcm16 { 2 } else { 1 };
        let data = self.samples * bytes_per_sample;
        let pad = data % 2;
        if pad == 1 {
            self.out.write_all(&[0])?;
        }
        let too_long = || io::Error::other("the recording is too long for a WAV file (4 GiB)");
        let riff = u32::try_from(header.len() as u64 - 8 + data + pad).map_err(|_| too_long())?;
        header[4..8].copy_from_slice(&riff.to_le_bytes());
        if let Some(f) = find(&header, b"fact") {
            header[f + 8..f + 12].copy_from_slice(&(self.samples as u32).to_le_bytes());
        }
        let d = find(&header, b"data").ok_or_else(|| io::Error::other("WAV template without data"))?;
        header[d + 4..d + 8].copy_from_slice(&(data as u32).to_le_bytes());
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header)?;
        file.sync_all()?;
        Ok(header.len() as u64 + data + pad)
    }
}

impl Sink for WavFile {
    fn begin(&mut self, law: Law) {
        self.law.get_or_insert(law);
        self.incoming = law;
    }
    fn put(&mut self, bytes: &[u8]) {
        self.encode(bytes);
    }
    fn fill(&mut self, byte: u8, n: usize) {
        let block = [byte; 1024];
        let mut left = n;
        while left > 0 {
            let k = left.min(block.len());
            self.encode(&block[..k]);
            left -= k;
        }
    }
    fn written(&self) -> u64 {
        self.samples
    }
}

/// What a save wrote.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SavedFile {
    pub bytes: u64,
    pub seconds: f64,
}

/// Write `path` through a temporary file in the same folder renamed over it at the end, so
/// readers see no half-written file.
fn atomically(path: &Path, write: impl FnOnce(&Path) -> io::Result<SavedFile>) -> io::Result<SavedFile> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| io::Error::other("no file name"))?;
    let tmp = dir.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
    let result = write(&tmp).and_then(|saved| std::fs::rename(&tmp, path).map(|()| saved));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Replay the calls' packets, one call after the other, into one WAV file at `path`.
pub fn save_wav(sources: &[Source], path: &Path, format: RecordFormat) -> io::Result<SavedFile> {
    atomically(path, |tmp| {
        let mut wav = WavFile::create(tmp, format)?;
        for src in sources {
            let mut capture = Capture::with_sink(&mut wav);
            replay(src, &mut capture)?;
            capture.finish();
        }
        let seconds = wav.samples as f64 / 8000.0;
        Ok(SavedFile { bytes: wav.finish()?, seconds })
    })
}

/// The calls' packets as a pcap at `path`, each at its arrival time: the call's start plus
/// its time in the file (a version 1 file, which keeps neither, starts at the save).
pub fn save_pcap(sources: &[Source], path: &Path) -> io::Result<SavedFile> {
    use crate::core::pcap::{Flow, Pcap};
    atomically(path, |tmp| {
        // Straight to the file, a frame at a time: a day-long call needs no more memory.
        let file = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(tmp)?);
        let mut pcap = Pcap::into_writer(file, Flow::default()).map_err(io::Error::other)?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let mut span = Duration::ZERO;
        for src in sources {
            let mut reader = open(src)?;
            let start = reader.start().unwrap_or(now);
            let mut n = 0u64;
            while let Some(r) = reader.next_record()? {
                let at = r.micros.map_or(Duration::from_millis(20 * n), Duration::from_micros);
                pcap.write(start + at, r.packet).map_err(io::Error::other)?;
                span = span.max(at);
                n += 1;
            }
        }
        let file = pcap.into_inner().into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        let bytes = file.metadata()?.len();
        Ok(SavedFile { bytes, seconds: span.as_secs_f64() })
    })
}
