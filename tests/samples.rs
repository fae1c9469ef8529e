//! `samples/<name>/Dockerfile` rewrites to `samples/<name>/Dockerfile.expected`
//! (with the sample directory as build context), and every expected file
//! is a fixed point.

use std::path::{Path, PathBuf};
use std::process::Command;

use dockreorder::analysis::context::Context;
use dockreorder::plan::{Applicability, Options};
use dockreorder::rewrite;

use crate::support;

pub fn sample_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("samples/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Dockerfile").is_file() && p.join("Dockerfile.expected").is_file())
        .collect();
    out.sort();
    out
}

fn safe() -> Options {
    Options::new(Applicability::Safe)
}

#[test]
fn each_sample_rewrites_to_its_expected_file() {
    let dirs = sample_dirs();
    let names: Vec<String> = dirs
        .iter()
        .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for required in [
        "pipenv",
        "pip",
        "npm-ci",
        "yarn",
        "go-multistage",
        "bundler",
        "composer",
        "apt-get-update",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "missing sample {required}"
        );
    }
    for dir in &dirs {
        let before = std::fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
        let expected = std::fs::read_to_string(dir.join("Dockerfile.expected")).expect("expected");
        let ctx = Context::new(dir.clone(), Some(&dir.join("Dockerfile")));
        let out = rewrite::rewrite(&before, Some(&ctx), safe()).expect("rewrite");
        assert_eq!(out.new_text, expected, "{}", dir.display());
        for c in out.changes.iter().filter(|c| c.applied) {
            assert!(!c.reason.is_empty(), "every change carries its reason");
        }
        let again = rewrite::rewrite(&expected, Some(&ctx), safe()).expect("rewrite expected");
        assert_eq!(
            again.new_text,
            expected,
            "{}: expected file is not a fixed point",
            dir.display()
        );
    }
}

#[test]
fn cli_check_write_and_diff_on_a_sample() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/npm-ci");
    let tmp = tempfile::tempdir().expect("tempdir");
    for f in [
        "Dockerfile",
        "Dockerfile.expected",
        "package.json",
        "package-lock.json",
        "server.js",
        ".dockerignore",
    ] {
        std::fs::copy(src.join(f), tmp.path().join(f)).expect("copy sample");
    }
    let df = tmp.path().join("Dockerfile");
    let before = std::fs::read(&df).expect("read");
    // Dry run: a diff with a/ b/ headers, nothing written.
    let out = Command::new(support::bin()).arg(&df).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("--- a/") && diff.contains("+++ b/"), "{diff}");
    assert!(
        diff.contains("+COPY --chown=1000:1000 package.json package-lock.json ./"),
        "{diff}"
    );
    assert_eq!(
        std::fs::read(&df).expect("read"),
        before,
        "dry run must not write"
    );
    // --check: exit 1, nothing written.
    let out = Command::new(support::bin())
        .arg("--check")
        .arg(&df)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&df).expect("read"), before);
    // --write: rewritten to the expected file, mode kept.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&df, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let out = Command::new(support::bin())
        .arg("--write")
        .arg(&df)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&df).expect("read"),
        std::fs::read_to_string(tmp.path().join("Dockerfile.expected")).expect("read")
    );
    let mode = std::fs::metadata(&df).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "file mode kept");
    // Now it is a fixed point: --check passes.
    let out = Command::new(support::bin())
        .arg("--check")
        .arg(&df)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn json_format_lists_changes_and_effects() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/pipenv");
    let out = Command::new(support::bin())
        .args(["--format", "json"])
        .arg(dir.join("Dockerfile"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = &v[0];
    assert_eq!(f["changed"], true);
    let changes = f["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2);
    assert!(
        changes
            .iter()
            .all(|c| c["applicability"] == "safe" && c["kind"] == "hoist")
    );
    let ins = f["instructions"].as_array().expect("instructions");
    assert!(
        ins.iter()
            .any(|i| i["keyword"] == "RUN" && i["reads"].as_array().is_some_and(|r| !r.is_empty()))
    );
}

#[test]
fn write_on_a_tree_with_broken_files_rewrites_the_good_ones_and_exits_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let good = root.join("svc/api");
    std::fs::create_dir_all(&good).expect("mkdir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/pip");
    for f in ["Dockerfile", "requirements.txt", "app.py", ".dockerignore"] {
        std::fs::copy(src.join(f), good.join(f)).expect("copy");
    }
    let bad = root.join("svc/worker");
    std::fs::create_dir_all(&bad).expect("mkdir");
    let broken = "FROM base\nRUN <<EOF\necho never closed\n";
    std::fs::write(bad.join("Dockerfile"), broken).expect("write");
    std::fs::write(root.join("bad.Dockerfile"), b"FROM a\n\xff\xfe\n").expect("write");
    let out = Command::new(support::bin())
        .arg("--write")
        .arg(root)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:2:1: unterminated heredoc",
            bad.join("Dockerfile").display()
        )),
        "{err}"
    );
    assert!(err.contains("bad.Dockerfile:2:1: invalid UTF-8"), "{err}");
    assert_eq!(
        std::fs::read_to_string(bad.join("Dockerfile")).expect("read"),
        broken
    );
    assert_eq!(
        std::fs::read_to_string(good.join("Dockerfile")).expect("read"),
        std::fs::read_to_string(src.join("Dockerfile.expected")).expect("read")
    );
    // No temporary files left behind.
    let leftovers: Vec<_> = support::dockerfiles_under(root)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp"))
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn directory_discovery_respects_gitignore_and_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::create_dir_all(root.join("ignored")).expect("mkdir");
    std::fs::create_dir_all(root.join(".git")).expect("mkdir");
    std::fs::write(root.join(".gitignore"), "ignored/\n").expect("write");
    for f in [
        "Dockerfile",
        "Containerfile",
        "api.Dockerfile",
        "Dockerfile.dev",
        "ignored/Dockerfile",
        "x.dockerignore",
        "Dockerfile.dockerignore",
    ] {
        std::fs::write(root.join(f), "FROM a\n").expect("write");
    }
    let found: Vec<String> = dockreorder::discover::find(root)
        .into_iter()
        .map(|p| {
            p.strip_prefix(root)
                .map(|r| r.display().to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        found,
        [
            "Containerfile",
            "Dockerfile",
            "Dockerfile.dev",
            "api.Dockerfile"
        ]
    );
}
