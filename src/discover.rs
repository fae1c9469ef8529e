//! Finds Dockerfiles under a directory, respecting `.gitignore`:
//! `Dockerfile`, `Containerfile`, `*.Dockerfile`, `*.dockerfile`,
//! `Dockerfile.*` (but not `*.dockerignore`).

use std::path::{Path, PathBuf};

pub fn is_dockerfile_name(name: &str) -> bool {
    if name.ends_with(".dockerignore") {
        return false;
    }
    name == "Dockerfile"
        || name == "Containerfile"
        || name.ends_with(".Dockerfile")
        || name.ends_with(".dockerfile")
        || name.starts_with("Dockerfile.")
        || name.starts_with("Containerfile.")
}

/// Dockerfiles under `dir`, sorted.
pub fn find(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| is_dockerfile_name(&e.file_name().to_string_lossy()))
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::is_dockerfile_name;

    #[test]
    fn names() {
        for n in [
            "Dockerfile",
            "Containerfile",
            "api.Dockerfile",
            "x.dockerfile",
            "Dockerfile.dev",
        ] {
            assert!(is_dockerfile_name(n), "{n}");
        }
        for n in [
            "Dockerfile.dockerignore",
            ".dockerignore",
            "dockerfile.md",
            "README",
        ] {
            assert!(!is_dockerfile_name(n), "{n}");
        }
    }
}
