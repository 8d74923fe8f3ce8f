//! The redial history's file: one number a line, newest last; read once at start (a missing
//! file is an empty history, a broken line is skipped with a warning) and written whole,
//! atomically, from a blocking thread after each dial.

use std::path::Path;

use crate::client::app::redial::{Redial, MAX};
use crate::client::app::{App, LogKind};
use crate::core::protocol::Number;

/// Read the history kept in `path`; the warnings are for the log.
pub fn load(path: &Path) -> (Redial, Vec<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            let warn = format!("redial history {} not read ({e}); starting with none", path.display());
            return (Redial::new(Vec::new(), Some(path.to_path_buf())), vec![warn]);
        }
    };
    let mut warnings = Vec::new();
    let numbers: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| match l.parse::<Number>() {
            Ok(_) => true,
            Err(e) => {
                warnings.push(format!("redial history {}: skipped '{l}': {e}", path.display()));
                false
            }
        })
        .map(str::to_string)
        .collect();
    (Redial::new(numbers, Some(path.to_path_buf())), warnings)
}

/// Give `app` the history kept in `path` (none when there is no home folder), its warnings
/// in the log.
pub fn attach(app: &mut App, path: Option<&Path>) {
    let Some(path) = path else { return };
    let (redial, warnings) = load(path);
    app.redial = redial;
    for w in warnings {
        app.log(LogKind::Warn, w);
    }
}

/// Write the history (at most [`MAX`] numbers), making its folder if need be.
pub fn save(path: &Path, numbers: &[String]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let start = numbers.len().saturating_sub(MAX);
    let text: String = numbers[start..].iter().map(|n| format!("{n}\n")).collect();
    crate::client::files::save_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_history_reads_back_and_broken_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dial_history");
        let (empty, warnings) = load(&path);
        assert!(empty.numbers().is_empty() && warnings.is_empty(), "a missing file is an empty history");
        save(&path, &["111".into(), "222".into()]).unwrap();
        let (r, warnings) = load(&path);
        assert_eq!((r.numbers(), warnings.len()), (&["111".to_string(), "222".to_string()][..], 0));
        std::fs::write(&path, "333\nnot a number\n\n444\n").unwrap();
        let (r, warnings) = load(&path);
        assert_eq!(r.numbers(), ["333", "444"]);
        assert!(warnings[0].contains("not a number"), "{warnings:?}");
        let (r, warnings) = load(dir.path());
        assert!(r.numbers().is_empty() && warnings.len() == 1, "a folder is no history: {warnings:?}");
    }
}
