//! The upload folder: the only place a server (gateway or demo) writes or reads WAV files.
//!
//! Every path is the folder joined with a [`WavName`], which cannot hold a separator or
//! `..`, so nothing outside the folder can be named. Symbolic links inside the folder are
//! refused on read (they could point anywhere) and replaced, not followed, on write.

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;
use tokio::sync::Mutex;

use crate::core::protocol::WavName;
use crate::core::upload::{self, UploadRefusal};

#[derive(Debug, Error)]
pub enum StoreError {
    /// The one upload rule (`core::upload`) said no.
    #[error("{0}")]
    Refused(#[from] UploadRefusal),
    // Both phrasings: the gateway's and the demo's, which clients already look for.
    #[error("no uploaded file named {0:?} (no such file: {0}; upload it first)")]
    Unknown(String),
    #[error("{0:?} is a link, which the upload folder does not serve")]
    Link(String),
    #[error("the upload folder could not {what}: {source}")]
    Io { what: &'static str, source: io::Error },
}

/// The upload folder of one server. Writes are serialised so two clients saving the same
/// name cannot race each other's renames.
#[derive(Debug)]
pub struct UploadStore {
    dir: PathBuf,
    write_lock: Mutex<()>,
}

impl UploadStore {
    /// Use `dir`, creating it when missing.
    pub fn open(dir: &Path) -> Result<UploadStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { what: "be created", source })?;
        let dir = dir.canonicalize().map_err(|source| StoreError::Io { what: "be found", source })?;
        Ok(UploadStore { dir, write_lock: Mutex::new(()) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Check an upload and save it atomically. Returns the bytes written.
    pub async fn save(&self, name: &WavName, data: Vec<u8>) -> Result<usize, StoreError> {
        upload::check(name, &data)?;
        let path = self.path_of(name)?;
        let _guard = self.write_lock.lock().await;
        let len = data.len();
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || save_atomic(&dir, &path, &data))
            .await
            .map_err(|e| StoreError::Io { what: "save the file", source: io::Error::other(e) })?
            .map_err(|source| StoreError::Io { what: "save the file", source })?;
        Ok(len)
    }

    /// The bytes of an uploaded file.
    pub async fn load(&self, name: &WavName) -> Result<Vec<u8>, StoreError> {
        let path = self.path_of(name)?;
        let shown = name.as_str().to_string();
        tokio::task::spawn_blocking(move || read_plain_file(&path, shown))
            .await
            .map_err(|e| StoreError::Io { what: "read the file", source: io::Error::other(e) })?
    }

    fn path_of(&self, name: &WavName) -> Result<PathBuf, StoreError> {
        if !name.has_wav_extension() {
            return Err(UploadRefusal::NotWavName(name.as_str().to_string()).into());
        }
        Ok(self.dir.join(name.as_str()))
    }
}

/// Write `bytes` to `path` so that readers see either the old file or the whole new one: a
/// temporary file in the folder, flushed to disk, then renamed over (a link at `path` is
/// replaced, not followed). The temporary file has a short name of its own, not one built
/// from the upload's, so a 255-byte name still fits the file system's limit; it is removed
/// if anything fails.
fn save_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut tmp = tempfile::Builder::new().prefix(".upload-").suffix(".partial").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn read_plain_file(path: &Path, shown: String) -> Result<Vec<u8>, StoreError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::Unknown(shown)),
        Err(source) => return Err(StoreError::Io { what: "read the file", source }),
    };
    if meta.file_type().is_symlink() {
        return Err(StoreError::Link(shown));
    }
    if !meta.is_file() {
        return Err(StoreError::Unknown(shown));
    }
    std::fs::read(path).map_err(|source| StoreError::Io { what: "read the file", source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::protocol::MAX_WAV_BYTES;
    use crate::core::wav::{g711_wav, Law};

    fn name(s: &str) -> WavName {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn saves_and_loads_inside_the_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = UploadStore::open(&dir.path().join("uploads")).unwrap();
        let file = g711_wav(Law::MuLaw, &[0x55; 800]);
        assert_eq!(store.save(&name("hello.wav"), file.clone()).await.unwrap(), file.len());
        assert_eq!(store.load(&name("hello.wav")).await.unwrap(), file);
        // Only the file itself is left behind: no temporary files.
        let entries: Vec<_> = std::fs::read_dir(store.dir()).unwrap().collect();
        assert_eq!(entries.len(), 1);
        assert!(matches!(store.load(&name("missing.wav")).await, Err(StoreError::Unknown(_))));
    }

    #[tokio::test]
    async fn refuses_bad_uploads_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let store = UploadStore::open(dir.path()).unwrap();
        let good = g711_wav(Law::MuLaw, &[1; 100]);
        assert!(matches!(store.save(&name("a.txt"), good.clone()).await, Err(StoreError::Refused(UploadRefusal::NotWavName(_)))));
        assert!(matches!(store.save(&name("a.wav"), b"hello".to_vec()).await, Err(StoreError::Refused(UploadRefusal::NotWav(_)))));
        let cut = good[..80].to_vec();
        let err = store.save(&name("a.wav"), cut).await.unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let mut big = g711_wav(Law::MuLaw, &vec![0; MAX_WAV_BYTES]);
        big.truncate(MAX_WAV_BYTES + 1);
        assert!(matches!(store.save(&name("a.wav"), big).await, Err(StoreError::Refused(UploadRefusal::TooLarge { .. }))));
        assert_eq!(std::fs::read_dir(store.dir()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn does_not_follow_links_out_of_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("secret.wav");
        std::fs::write(&outside, g711_wav(Law::MuLaw, &[9; 10])).unwrap();
        let store = UploadStore::open(&dir.path().join("store")).unwrap();
        std::os::unix::fs::symlink(&outside, store.dir().join("link.wav")).unwrap();
        assert!(matches!(store.load(&name("link.wav")).await, Err(StoreError::Link(_))));
        // Saving over the link replaces the link; the file outside is untouched.
        let new = g711_wav(Law::MuLaw, &[7; 10]);
        store.save(&name("link.wav"), new.clone()).await.unwrap();
        assert_eq!(std::fs::read(store.dir().join("link.wav")).unwrap(), new);
        assert_eq!(std::fs::read(&outside).unwrap(), g711_wav(Law::MuLaw, &[9; 10]));
    }
}
