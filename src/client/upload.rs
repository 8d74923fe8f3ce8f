//! Reading and checking a local WAV before it goes on the wire.

use std::io::Read as _;
use std::path::Path;
use thiserror::Error;

use crate::core::protocol::{ClientMsg, ProtocolError, WavName, MAX_WAV_BYTES};
use crate::core::upload::{self, UploadRefusal};
use crate::core::convert;

#[derive(Debug, Error)]
pub enum UploadError {
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file")]
    NotAFile,
    #[error("{0} bytes is over the limit of {MAX_WAV_BYTES} bytes")]
    TooLarge(u64),
    /// What the servers would refuse too: the one upload rule of `core::upload`.
    #[error("{0}")]
    NotWav(UploadRefusal),
    #[error("{0}")]
    Name(#[from] ProtocolError),
    #[error("{0}")]
    Convert(#[from] crate::core::convert::ConvertError),
}

/// Check a file and build its `WAV_UPLOAD` message: a regular file of at most 1 MiB that
/// the servers' upload rule accepts, sent under its base name.
pub fn prepare(path: &Path) -> Result<ClientMsg, UploadError> {
    let name = WavName::from_path(path)?;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(UploadError::NotAFile);
    }
    if meta.len() > MAX_WAV_BYTES as u64 {
        return Err(UploadError::TooLarge(meta.len()));
    }
    // Read at most one byte past the limit: the file may grow between the checks.
    let mut data = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?.take(MAX_WAV_BYTES as u64 + 1).read_to_end(&mut data)?;
    if data.len() > MAX_WAV_BYTES {
        return Err(UploadError::TooLarge(data.len() as u64));
    }
    upload::check(&name, &data).map_err(UploadError::NotWav)?;
    Ok(ClientMsg::WavUpload { name, data })
}

/// Convert a file to 8 kHz mono mu-law for upload under the original's name.
pub fn prepare_converted(path: &Path, length: convert::Length) -> Result<(WavName, convert::Converted), UploadError> {
    let name = WavName::from_path(path)?;
    Ok((name, crate::client::files::convert_file(path, length)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::wav;

    #[test]
    fn accepts_a_wav_and_names_it_by_its_base_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tone.wav");
        std::fs::write(&p, wav::g711_wav(wav::Law::MuLaw, &[0xff; 800])).unwrap();
        let ClientMsg::WavUpload { name, data } = prepare(&p).unwrap() else { panic!() };
        assert_eq!(name.as_str(), "tone.wav");
        assert_eq!(data.len(), 858);
    }

    #[test]
    fn refuses_what_must_not_be_sent() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(prepare(dir.path()), Err(UploadError::NotAFile) | Err(UploadError::Name(_))));
        let sub = dir.path().join("folder.wav");
        std::fs::create_dir(&sub).unwrap();
        assert!(matches!(prepare(&sub), Err(UploadError::NotAFile)));
        assert!(matches!(prepare(&dir.path().join("missing.wav")), Err(UploadError::Io(_))));
        let big = dir.path().join("big.wav");
        std::fs::write(&big, wav::g711_wav(wav::Law::MuLaw, &vec![0; MAX_WAV_BYTES])).unwrap();
        assert!(matches!(prepare(&big), Err(UploadError::TooLarge(_))));
        let txt = dir.path().join("notes.wav");
        std::fs::write(&txt, b"hello").unwrap();
        assert!(matches!(prepare(&txt), Err(UploadError::NotWav(_))));
        let cut = dir.path().join("cut.wav");
        std::fs::write(&cut, &wav::g711_wav(wav::Law::MuLaw, &[0; 1000])[..300]).unwrap();
        let e = prepare(&cut).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let colon = dir.path().join("a:b.wav");
        std::fs::write(&colon, wav::g711_wav(wav::Law::MuLaw, &[0; 10])).unwrap();
        assert!(matches!(prepare(&colon), Err(UploadError::Name(_))));
    }
}
