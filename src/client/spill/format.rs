//! The spill file's bytes. Version 2 (`SDSPILL2`, one file per call): the magic, the call's
//! start as big-endian `u64` microseconds since the UNIX epoch, then per packet a big-endian
//! `u16` length, a big-endian `u64` of microseconds since the call's first packet arrived,
//! and the whole RTP packet. Version 1 (`SDSPILL1`, one file per process, left by older
//! versions) has no start and no times: per packet only the length and the packet.
//!
//! Whole packets (not payloads) are kept so a replay rebuilds the capture with the same
//! sequence logic as live; the arrival times let it place a stream that takes over after a
//! pause exactly as live did, and give a pcap its real times.

use std::io::{self, Read};

pub const MAGIC_V1: &[u8; 8] = b"SDSPILL1";
pub const MAGIC_V2: &[u8; 8] = b"SDSPILL2";
/// Bytes before the first record of a version 2 file.
pub const HEADER_V2: usize = 16;
/// Bytes before a version 2 record's packet.
pub const RECORD_HEAD_V2: usize = 2 + 8;

/// The start of a version 2 file.
pub fn header_v2(start_unix_micros: u64) -> [u8; HEADER_V2] {
    let mut h = [0u8; HEADER_V2];
    h[..8].copy_from_slice(MAGIC_V2);
    h[8..].copy_from_slice(&start_unix_micros.to_be_bytes());
    h
}

/// Append one version 2 record.
pub fn push_record(buf: &mut Vec<u8>, micros: u64, packet: &[u8]) {
    buf.extend_from_slice(&(packet.len() as u16).to_be_bytes());
    buf.extend_from_slice(&micros.to_be_bytes());
    buf.extend_from_slice(packet);
}

/// Which version a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    /// With the call's start (microseconds since the UNIX epoch).
    V2 { start_unix_micros: u64 },
}

/// One packet read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Microseconds after the call's first packet (`None` in version 1 files).
    pub micros: Option<u64>,
    pub packet: &'a [u8],
}

/// Reads records one by one from a stream, with one reused buffer. A torn last record (a
/// crash cut it) ends the reading quietly.
pub struct Reader<R> {
    input: R,
    version: Version,
    buf: Vec<u8>,
}

fn not_spill() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "not a sipdeck spill file")
}

/// Fill `buf` completely; false when the input ends first (a torn record, or the end).
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

impl<R: Read> Reader<R> {
    /// Read and check the file's header.
    pub fn new(mut input: R) -> io::Result<Reader<R>> {
        let mut magic = [0u8; 8];
        if !read_full(&mut input, &mut magic)? {
            return Err(not_spill());
        }
        let version = match &magic {
            m if m == MAGIC_V1 => Version::V1,
            m if m == MAGIC_V2 => {
                let mut start = [0u8; 8];
                if !read_full(&mut input, &mut start)? {
                    return Err(not_spill());
                }
                Version::V2 { start_unix_micros: u64::from_be_bytes(start) }
            }
            _ => return Err(not_spill()),
        };
        Ok(Reader { input, version, buf: Vec::with_capacity(2048) })
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// The call's start (since the UNIX epoch), when the file says it (version 2).
    pub fn start(&self) -> Option<std::time::Duration> {
        match self.version {
            Version::V2 { start_unix_micros } => Some(std::time::Duration::from_micros(start_unix_micros)),
            Version::V1 => None,
        }
    }

    /// The next record, or `None` at the end (or at a torn last record).
    pub fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        let head = match self.version {
            Version::V1 => 2,
            Version::V2 { .. } => RECORD_HEAD_V2,
        };
        let mut h = [0u8; RECORD_HEAD_V2];
        if !read_full(&mut self.input, &mut h[..head])? {
            return Ok(None);
        }
        let len = u16::from_be_bytes([h[0], h[1]]) as usize;
        let micros = (head == RECORD_HEAD_V2).then(|| u64::from_be_bytes(h[2..10].try_into().expect("8 bytes")));
        self.buf.resize(len, 0);
        if !read_full(&mut self.input, &mut self.buf)? {
            return Ok(None);
        }
        Ok(Some(Record { micros, packet: &self.buf }))
    }
}
