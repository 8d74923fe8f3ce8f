//! The client's file reads and writes around the pure core: judging a WAV from the head of a
//! file, converting one while reading only what the kept audio needs, and atomic saves.

use std::io::{self, Read as _, Write as _};
use std::path::Path;

use crate::core::convert::{ConvertError, Converted, Inspection, Job, Length, HEAD_BYTES};

/// Read the head of a file ([`HEAD_BYTES`]) and judge it; the audio is not read.
pub fn inspect(path: &Path) -> io::Result<Inspection> {
    let file = std::fs::File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut head = Vec::with_capacity(HEAD_BYTES.min(file_len as usize));
    file.take(HEAD_BYTES as u64).read_to_end(&mut head)?;
    Ok(Inspection::of(&head, file_len))
}

/// Convert a file on disk, reading only as much of it as the kept audio needs.
pub fn convert_file(path: &Path, length: Length) -> Result<Converted, ConvertError> {
    let job = Job::new(&inspect(path)?, length)?;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(job.bytes_needed()).read_to_end(&mut bytes)?;
    job.run(&bytes)
}

/// Write `bytes` to `path` so that readers see either the old file or the whole new one:
/// a temporary file in the same folder, flushed to disk, then renamed over.
pub fn save_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| io::Error::other("no file name"))?;
    let tmp = dir.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Claim a free name in `dir`: `name`, else `stem_2.ext`, `stem_3.ext`... The file is
/// created empty (so two saves at once never pick the same name) and is then written over
/// by an atomic save.
pub fn reserve(dir: &Path, name: &str) -> io::Result<std::path::PathBuf> {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let candidates = std::iter::once(dir.join(name)).chain((2..).map(|i| dir.join(format!("{stem}_{i}.{ext}"))));
    for path in candidates {
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("an unbounded range always has a free name")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::audio;
    use crate::core::protocol::MAX_WAV_BYTES;
    use crate::core::wav;

    fn sine(rate: u32, hz: f64, amp: f64, frames: usize) -> Vec<u8> {
        let spec = hound::WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
        let mut c = io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
        for i in 0..frames {
            w.write_sample((amp * (std::f64::consts::TAU * hz * i as f64 / rate as f64).sin() * 32767.0) as i16).unwrap();
        }
        w.finalize().unwrap();
        c.into_inner()
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
    }

    fn decoded(conv: &Converted) -> Vec<f32> {
        let info = wav::parse_header(&conv.wav).unwrap();
        assert!(info.is_phone_ready());
        info.data(&conv.wav).iter().map(|&b| audio::ulaw_to_linear(b) as f32 / 32768.0).collect()
    }

    #[test]
    fn first_part_of_a_long_44k_file_reads_only_what_it_needs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("long.wav");
        // 140 s of 44.1 kHz mono 16-bit, 12 MB: over the limit after converting.
        std::fs::write(&p, sine(44_100, 440.0, 0.3, 44_100 * 140)).unwrap();
        let ins = inspect(&p).unwrap();
        let plan = ins.plan().unwrap();
        assert!(!plan.fits());
        assert!(matches!(convert_file(&p, Length::Whole), Err(ConvertError::TooLong { .. })));
        let part = convert_file(&p, Length::FirstPart).unwrap();
        assert_eq!(part.wav.len(), MAX_WAV_BYTES);
        let out = decoded(&part);
        // The tone runs right to the cut: no fade from a missing filter tail.
        assert!((rms(&out[out.len() - 800..]) - 0.212).abs() < 0.01);
    }

    #[test]
    fn atomic_save_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        save_atomic(&p, b"one").unwrap();
        save_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let bad = dir.path().join("missing-dir").join("b.wav");
        assert!(save_atomic(&bad, b"x").is_err());
    }
}
