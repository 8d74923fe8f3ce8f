//! The file browser's disk reads: listing a folder. Blocking IO, so only the effects layer
//! (the runner, on a blocking thread) calls it; the pane's state never touches the disk.

use std::io;
use std::path::{Component, Path};

use super::{Entry, EntryKind, Listing, Mark};

/// List a folder: folders first, then files, each group sorted by name ignoring case.
/// Symbolic links count as what they point to; a dangling link is a file of size 0.
/// Blocks on the disk: the app never calls it; the runner does, on a blocking thread.
pub fn read_dir(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    let mut marked = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let kind = match std::fs::metadata(e.path()) {
            Ok(m) if m.is_dir() => EntryKind::Dir,
            Ok(m) => EntryKind::File { size: m.len() },
            Err(_) => EntryKind::File { size: 0 },
        };
        let mark = match &kind {
            EntryKind::File { .. } if marked < MAX_MARKED => mark_of(&e.path(), &name),
            _ => None,
        };
        marked += usize::from(mark.is_some());
        entries.push(Entry { name, kind, mark });
    }
    sort_entries(&mut entries);
    Ok(entries)
}

/// WAV headers read per listing for the marks; past that the rows wait for a highlight.
const MAX_MARKED: usize = 200;

/// The verdict mark of a regular `.wav` file (a FIFO or device is never opened: it could
/// block the listing).
fn mark_of(path: &Path, name: &str) -> Option<Mark> {
    let wav = Path::new(name).extension().is_some_and(|x| x.eq_ignore_ascii_case("wav"));
    if !wav || !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    crate::client::files::inspect(path).ok().map(|ins| Mark::of(&ins.verdict))
}

/// Answer a [`Request::List`]: [`read_dir`], with the folder made absolute first when it is
/// relative or has `..` in it (so the parent of `.` is where the user expects). Blocks.
pub fn list(dir: &Path) -> io::Result<Listing> {
    let dir = if is_plain_absolute(dir) { dir.to_path_buf() } else { std::fs::canonicalize(dir)? };
    Ok(Listing { entries: read_dir(&dir)?, dir })
}

/// Absolute with no `..`: the parent is a prefix of the path, no disk needed to find it.
fn is_plain_absolute(p: &Path) -> bool {
    p.is_absolute() && p.components().all(|c| !matches!(c, Component::ParentDir | Component::CurDir))
}

fn sort_entries(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        b.is_dir()
            .cmp(&a.is_dir())
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, dir: bool) -> Entry {
        Entry { name: name.into(), kind: if dir { EntryKind::Dir } else { EntryKind::File { size: 1 } }, mark: None }
    }

    #[test]
    fn folders_first_then_names_ignoring_case() {
        let mut v = vec![e("b.wav", false), e("Zed", true), e("A.WAV", false), e("alpha", true), e("a.wav", false)];
        sort_entries(&mut v);
        let names: Vec<&str> = v.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["alpha", "Zed", "A.WAV", "a.wav", "b.wav"]);
        assert!(e("X.Wav", false).is_wav());
        assert!(!e("x.wav", true).is_wav());
        assert!(!e("wav", false).is_wav());
    }

    #[test]
    fn listing_makes_a_relative_folder_absolute() {
        assert!(is_plain_absolute(Path::new("/a/b")));
        assert!(!is_plain_absolute(Path::new("/a/../b")));
        assert!(!is_plain_absolute(Path::new("a")));
        let here = list(Path::new(".")).unwrap();
        assert_eq!(here.dir, std::fs::canonicalize(".").unwrap());
        assert!(here.entries.iter().any(|e| e.name == "Cargo.toml"));
        let up = list(Path::new("src/..")).unwrap();
        assert_eq!(up.dir, here.dir);
    }
}
