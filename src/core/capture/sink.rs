//! Where a capture's audio goes as it leaves the reorder window: memory, a counter, or (in
//! the client) a file. Writes only ever append.

use crate::core::audio::Law;

/// Receives a recording's samples in timeline order.
pub trait Sink {
    /// The recording's law, told once before the first sample (a file header needs it).
    fn begin(&mut self, _law: Law) {}
    /// Append audio.
    fn put(&mut self, bytes: &[u8]);
    /// Append `n` samples of `byte` (silence).
    fn fill(&mut self, byte: u8, n: usize);
    /// Samples appended so far.
    fn written(&self) -> u64;
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn fill(&mut self, byte: u8, n: usize) {
        self.resize(self.len() + n, byte);
    }
    fn written(&self) -> u64 {
        self.len() as u64
    }
}

/// Counts samples and keeps none: the live view of a recording whose audio is on disk.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counter(pub u64);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len() as u64;
    }
    fn fill(&mut self, _: u8, n: usize) {
        self.0 += n as u64;
    }
    fn written(&self) -> u64 {
        self.0
    }
}

/// A sink borrowed: one file can take several captures in a row (every call, one file).
impl<S: Sink> Sink for &mut S {
    fn begin(&mut self, law: Law) {
        (**self).begin(law)
    }
    fn put(&mut self, bytes: &[u8]) {
        (**self).put(bytes)
    }
    fn fill(&mut self, byte: u8, n: usize) {
        (**self).fill(byte, n)
    }
    fn written(&self) -> u64 {
        (**self).written()
    }
}
