//! The three floors, enforced: nothing under `src/core` does IO or reaches up into the client
//! or the server, and the client and the server never import each other. Each failure names
//! the file, the line and the rule it breaks.

use std::path::{Path, PathBuf};

/// Paths a pure file must not name: files, sockets, processes, the async runtime, the
/// terminal, the SIP stack.
const CORE_FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::os",
    "File::open",
    "File::create",
    "OpenOptions",
    "tokio",
    "tokio_tungstenite",
    "tokio_util",
    "crossterm",
    "ratatui",
    "tui_input",
    "rsipstack",
    "tempfile",
];

/// One rule: files under `floor` must not mention any of `forbidden` (as a whole path
/// segment, outside comments).
struct Rule {
    floor: &'static str,
    forbidden: &'static [&'static str],
    why: &'static str,
}

const RULES: &[Rule] = &[
    Rule { floor: "src/core", forbidden: CORE_FORBIDDEN, why: "core is pure: bytes and values in, bytes and values out" },
    Rule { floor: "src/core", forbidden: &["crate::client", "crate::server"], why: "core imports nothing from the floors above it" },
    Rule { floor: "src/client", forbidden: &["crate::server"], why: "the client and the server never import each other" },
    Rule { floor: "src/server", forbidden: &["crate::client"], why: "the client and the server never import each other" },
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line without its `//` comment (doc comments may name what core avoids).
fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `code` names `path` as a whole: `tokio` matches `tokio::spawn` and `use tokio;`,
/// not `my_tokio_thing`.
fn names(code: &str, path: &str) -> bool {
    code.match_indices(path).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + path.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Every breach of `rule` in one file's text, as `file:line: ...` messages.
fn breaches(file: &str, text: &str, rule: &Rule) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = code_of(line);
        for &path in rule.forbidden {
            if names(code, path) {
                found.push(format!("{file}:{}: names `{path}` ({}): {}", n + 1, rule.why, line.trim()));
            }
        }
    }
    found
}

#[test]
fn floors_import_only_downwards_and_core_does_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    let mut scanned = 0;
    for rule in RULES {
        let mut files = Vec::new();
        rust_files(&root.join(rule.floor), &mut files);
        assert!(!files.is_empty(), "no .rs files under {}", rule.floor);
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
            let rel = f.strip_prefix(root).unwrap_or(&f).display().to_string();
            all.extend(breaches(&rel, &text, rule));
            scanned += 1;
        }
    }
    assert!(scanned > 20, "only {scanned} files scanned: is the tree where this test thinks?");
    assert!(all.is_empty(), "{} layer violation(s):\n  {}", all.len(), all.join("\n  "));
}

#[test]
fn the_scanner_catches_what_it_should_and_nothing_else() {
    let core = &RULES[0];
    let bad = "use std::fs;\nfn f() { let _ = std::fs::File::open(\"x\"); }\nuse tokio::sync::mpsc;";
    let found = breaches("src/core/x.rs", bad, core);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0].starts_with("src/core/x.rs:1: names `std::fs`"), "{}", found[0]);
    assert!(found.iter().any(|f| f.starts_with("src/core/x.rs:2: names `File::open`")));
    assert!(found.iter().any(|f| f.starts_with("src/core/x.rs:3: names `tokio`")));
    // Comments, longer identifiers and look-alike paths are not breaches.
    let fine = "//! no tokio, no std::fs here\nlet my_tokio = 1; // tokio\nuse std::fsx;\nuse crate::core::std_net;";
    assert!(breaches("src/core/y.rs", fine, core).is_empty());
    let up = breaches("src/core/z.rs", "use crate::client::app::App;", &RULES[1]);
    assert_eq!(up.len(), 1);
    assert!(up[0].contains("crate::client"));
}
