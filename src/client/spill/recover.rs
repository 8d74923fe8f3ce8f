//! Turning a spill file that a gone session left into an ordinary WAV file.

use std::io;
use std::path::{Path, PathBuf};

use super::replay::{save_wav, Source};
use crate::client::app::RecordFormat;

/// Turn a leftover spill file into `rtp_capture_recovered_<call start>.wav` in `dir` (the
/// file's modification time for version 1 files), then remove the spill file. Returns the
/// WAV's path and its seconds of audio.
pub fn recover(spill: &Path, dir: &Path) -> io::Result<(PathBuf, f64)> {
    let src = Source::File { path: spill.to_path_buf(), upto: u64::MAX, progress: None, tail: None };
    let start = super::replay::open(&src)?.start();
    let stamp = match start {
        Some(d) => chrono::DateTime::<chrono::Local>::from(std::time::UNIX_EPOCH + d),
        None => std::fs::metadata(spill)
            .and_then(|m| m.modified())
            .map(chrono::DateTime::<chrono::Local>::from)
            .unwrap_or_else(|_| chrono::Local::now()),
    };
    let name = format!("rtp_capture_recovered_{}.wav", stamp.format("%Y%m%d_%H%M%S"));
    // Recoveries run side by side: the name is claimed before the file is written.
    let path = crate::client::files::reserve(dir, &name)?;
    let saved = save_wav(std::slice::from_ref(&src), &path, RecordFormat::Mulaw).inspect_err(|_| {
        let _ = std::fs::remove_file(&path);
    })?;
    if saved.seconds == 0.0 {
        let _ = std::fs::remove_file(&path);
        std::fs::remove_file(spill)?;
        return Err(io::Error::new(io::ErrorKind::InvalidData, "the spill file holds no audio"));
    }
    std::fs::remove_file(spill)?;
    Ok((path, saved.seconds))
}
