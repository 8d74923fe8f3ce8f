//! The upload folder: the only place the gateway writes or reads WAV files.
//!
//! Every path is the folder joined with a [`WavName`], which cannot hold a separator or
//! `..`, so nothing outside the folder can be named. Symbolic links inside the folder are
//! refused on read (they could point anywhere) and replaced, not followed, on write.

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;
use tokio::sync::Mutex;

use crate::core::protocol::{WavName, MAX_WAV_BYTES};
use crate::core::wav;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{0:?} must end in .wav")]
    NotWav(String),
    #[error("{size} bytes is over the limit of {MAX_WAV_BYTES} bytes")]
    TooLarge { size: usize },
    #[error("not a valid WAV file: {0}")]
    Broken(String),
    #[error("no uploaded file named {0:?}")]
    Unknown(String),
    #[error("{0:?} is a link, which the upload folder does not serve")]
    Link(String),
    #[error("the upload folder could not {what}: {source}")]
    Io { what: &'static str, source: io::Error },
}

/// The upload folder of one gateway. Writes are serialised so two clients saving the same
/// name cannot interleave their temporary files.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    write_lock: Mutex<()>,
}

impl Store {
    /// Use `dir`, creating it when missing.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { what: "be created", source })?;
        let dir = dir.canonicalize().map_err(|source| StoreError::Io { what: "be found", source })?;
        Ok(Store { dir, write_lock: Mutex::new(()) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Check an upload and save it atomically. Returns the bytes written.
    pub async fn save(&self, name: &WavName, data: Vec<u8>) -> Result<usize, StoreError> {
        check_upload(name, &data)?;
        let path = self.path_of(name)?;
        let _guard = self.write_lock.lock().await;
        let len = data.len();
        tokio::task::spawn_blocking(move || crate::server::files::save_atomic(&path, &data))
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
            return Err(StoreError::NotWav(name.as_str().to_string()));
        }
        Ok(self.dir.join(name.as_str()))
    }
}

/// What an upload must be: a `.wav` name, at most [`MAX_WAV_BYTES`], and a WAV that the
/// core's verdict does not call broken (a header that parses, agrees with itself and with
/// the data that is there). A WAV that needs converting is stored; PLAY_WAV converts it.
pub fn check_upload(name: &WavName, data: &[u8]) -> Result<(), StoreError> {
    if !name.has_wav_extension() {
        return Err(StoreError::NotWav(name.as_str().to_string()));
    }
    if data.len() > MAX_WAV_BYTES {
        return Err(StoreError::TooLarge { size: data.len() });
    }
    match wav::Verdict::of(&wav::parse_header(data), data.len() as u64) {
        wav::Verdict::Broken(why) => Err(StoreError::Broken(why)),
        _ => Ok(()),
    }
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
    use crate::core::wav::{g711_wav, Law};

    fn name(s: &str) -> WavName {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn saves_and_loads_inside_the_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("uploads")).unwrap();
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
        let store = Store::open(dir.path()).unwrap();
        let good = g711_wav(Law::MuLaw, &[1; 100]);
        assert!(matches!(store.save(&name("a.txt"), good.clone()).await, Err(StoreError::NotWav(_))));
        assert!(matches!(store.save(&name("a.wav"), b"hello".to_vec()).await, Err(StoreError::Broken(_))));
        let cut = good[..80].to_vec();
        let err = store.save(&name("a.wav"), cut).await.unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let mut big = g711_wav(Law::MuLaw, &vec![0; MAX_WAV_BYTES]);
        big.truncate(MAX_WAV_BYTES + 1);
        assert!(matches!(store.save(&name("a.wav"), big).await, Err(StoreError::TooLarge { .. })));
        assert_eq!(std::fs::read_dir(store.dir()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn does_not_follow_links_out_of_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("secret.wav");
        std::fs::write(&outside, g711_wav(Law::MuLaw, &[9; 10])).unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        std::os::unix::fs::symlink(&outside, store.dir().join("link.wav")).unwrap();
        assert!(matches!(store.load(&name("link.wav")).await, Err(StoreError::Link(_))));
        // Saving over the link replaces the link; the file outside is untouched.
        let new = g711_wav(Law::MuLaw, &[7; 10]);
        store.save(&name("link.wav"), new.clone()).await.unwrap();
        assert_eq!(std::fs::read(store.dir().join("link.wav")).unwrap(), new);
        assert_eq!(std::fs::read(&outside).unwrap(), g711_wav(Law::MuLaw, &[9; 10]));
    }
}
