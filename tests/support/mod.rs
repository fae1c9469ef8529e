//! Shared test helpers: where the shared corpus is, and the skip-or-fail
//! rule (`DOCKREORDER_STRICT=1` turns every skip into a failure).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn strict() -> bool {
    std::env::var("DOCKREORDER_STRICT").is_ok_and(|v| v == "1")
}

/// Skips the calling test with a visible message, or fails it in strict mode.
pub fn skip(what: &str) {
    if strict() {
        panic!("DOCKREORDER_STRICT=1 but this test would be skipped: {what}");
    }
    eprintln!("SKIPPED: {what}");
}

/// `../shared/corpus` next to the repository, if present.
pub fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!("corpus not found at {}", dir.display()));
        None
    }
}

/// Every file named `Dockerfile` (or ending in `.Dockerfile`/`.dockerfile`,
/// or starting with `Dockerfile.`) under `dir`, sorted.
pub fn dockerfiles_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dockreorder"))
}
