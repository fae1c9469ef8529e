//! `dockreorder verify`: build the original and the rewritten Dockerfile
//! with the local Docker engine (the `docker` CLI, or `$DOCKER`;
//! `DOCKER_HOST` is honoured by the CLI), compare the two images (files,
//! contents, modes, owners, link targets, and the image config), then
//! change the most frequently changed source file in a copy of the context,
//! rebuild both and report which steps each served from the cache. Every
//! build gives the `ARG`s assumed to change on every build
//! ([`crate::analysis::volatile`]) a value of its own with `--build-arg`
//! (the same one to both Dockerfiles), as CI does.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why verification could not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// No Docker engine answers: the CLI cannot run, or the server does
    /// not reply (said before anything about builds).
    #[error("no Docker engine answers: {0}")]
    NoEngine(String),
    /// A build failed; the tail of its log, with the temporary paths
    /// replaced by the file's name.
    #[error("building {label} failed:\n{log}")]
    BuildFailed { label: String, log: String },
    /// Running the engine or reading what it produced failed.
    #[error("{0}")]
    Engine(String),
    /// Preparing the temporary copies (Dockerfiles, context) failed.
    #[error("{0}")]
    Copy(String),
}

/// One build's outcome.
#[derive(Debug, Clone)]
pub struct Build {
    pub took: Duration,
    /// (instruction text, served from cache) per executed step.
    pub steps: Vec<(String, bool)>,
}

/// The result.
#[derive(Debug, Clone)]
pub struct Report {
    /// The first differences between the images (empty when identical).
    pub differences: Vec<String>,
    pub changed_file: Option<String>,
    /// The `ARG`s given a new value for the second builds.
    pub new_values: Vec<String>,
    pub original: Option<Build>,
    pub rewritten: Option<Build>,
}

/// The Docker CLI to use: `$DOCKER`, else `docker` from `PATH`.
pub fn default_cli() -> String {
    std::env::var("DOCKER").unwrap_or_else(|_| "docker".into())
}

fn run(cli: &str, args: &[&str]) -> Result<std::process::Output, VerifyError> {
    Command::new(cli)
        .args(args)
        .env("DOCKER_BUILDKIT", "1")
        .output()
        .map_err(|e| VerifyError::Engine(format!("cannot run `{cli}`: {e}")))
}

/// Whether an engine answers: `docker version` must reach the server. The
/// error says so first, before anything about builds.
pub fn engine(cli: &str) -> Result<String, VerifyError> {
    let hint = "start dockerd, or point $DOCKER_HOST (or $DOCKER, the CLI) at an engine";
    let out = Command::new(cli)
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| VerifyError::NoEngine(format!("cannot run `{cli}`: {e} ({hint})")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no reason given");
        return Err(VerifyError::NoEngine(format!(
            "`{cli} version` failed: {} ({hint})",
            why.trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `docker build` with plain progress; returns the per-step cache report.
pub fn build(
    cli: &str,
    context: &Path,
    dockerfile: &Path,
    tag: &str,
) -> Result<Build, VerifyError> {
    build_named(
        cli,
        context,
        dockerfile,
        &dockerfile.display().to_string(),
        tag,
        &[],
    )
}

/// [`build`], with `label` naming the Dockerfile in errors (the user's name
/// for it, not the temporary copy that is built) and build arguments
/// (`NAME=value`).
pub fn build_named(
    cli: &str,
    context: &Path,
    dockerfile: &Path,
    label: &str,
    tag: &str,
    args: &[String],
) -> Result<Build, VerifyError> {
    let start = Instant::now();
    let out = Command::new(cli)
        .arg("build")
        .arg("--progress=plain")
        .args(args.iter().flat_map(|a| ["--build-arg", a.as_str()]))
        .arg("-f")
        .arg(dockerfile)
        .arg("-t")
        .arg(tag)
        .arg(context)
        .env("DOCKER_BUILDKIT", "1")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| VerifyError::Engine(format!("cannot run `{cli}`: {e}")))?;
    let took = start.elapsed();
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let log = log.replace(&dockerfile.display().to_string(), label);
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        return Err(VerifyError::BuildFailed {
            label: label.to_string(),
            log: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(Build {
        took,
        steps: cache_steps(&log),
    })
}

/// BuildKit's plain log: `#N [stage i/n] INSTRUCTION` then `#N CACHED`.
fn cache_steps(log: &str) -> Vec<(String, bool)> {
    let mut names: BTreeMap<u32, String> = BTreeMap::new();
    let mut cached: BTreeMap<u32, bool> = BTreeMap::new();
    for line in log.lines() {
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let Some((num, text)) = rest.split_once(' ') else {
            continue;
        };
        let Ok(n) = num.parse::<u32>() else { continue };
        if text.starts_with('[') && text.contains("] ") && !text.contains("internal]") {
            if let Some((_, ins)) = text.split_once("] ")
                && !ins.starts_with("FROM ")
            {
                names.entry(n).or_insert_with(|| ins.trim().to_string());
                cached.entry(n).or_insert(false);
            }
        } else if text.trim() == "CACHED" {
            cached.insert(n, true);
        }
    }
    names
        .into_iter()
        .map(|(n, ins)| (ins, cached.get(&n).copied().unwrap_or(false)))
        .collect()
}

#[derive(Debug, PartialEq, Eq)]
struct FileInfo {
    kind: u8,
    mode: u32,
    uid: u64,
    gid: u64,
    link: Option<String>,
    size: u64,
    hash: u64,
}

/// The file system of an image: path -> metadata and a content hash.
fn filesystem(cli: &str, tag: &str) -> Result<BTreeMap<String, FileInfo>, VerifyError> {
    let create = run(cli, &["create", tag, "/dockreorder-verify"])?;
    if !create.status.success() {
        return Err(VerifyError::Engine(format!(
            "docker create {tag} failed: {}",
            String::from_utf8_lossy(&create.stderr)
        )));
    }
    let id = String::from_utf8_lossy(&create.stdout).trim().to_string();
    let result = (|| {
        let mut child = Command::new(cli)
            .args(["export", &id])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| VerifyError::Engine(format!("docker export failed: {e}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| VerifyError::Engine("docker export gave no output".into()))?;
        let mut archive = tar::Archive::new(stdout);
        let mut out = BTreeMap::new();
        let entries = archive
            .entries()
            .map_err(|e| VerifyError::Engine(format!("reading the export: {e}")))?;
        for entry in entries {
            let mut entry =
                entry.map_err(|e| VerifyError::Engine(format!("reading the export: {e}")))?;
            let path = entry
                .path()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let header = entry.header();
            let kind = header.entry_type().as_byte();
            let mode = header.mode().unwrap_or(0);
            let uid = header.uid().unwrap_or(0);
            let gid = header.gid().unwrap_or(0);
            let link = entry
                .link_name()
                .ok()
                .flatten()
                .map(|l| l.to_string_lossy().into_owned());
            let size = entry.size();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            let mut buf = [0u8; 65536];
            loop {
                let n = entry
                    .read(&mut buf)
                    .map_err(|e| VerifyError::Engine(format!("reading {path}: {e}")))?;
                if n == 0 {
                    break;
                }
                h.write(&buf[..n]);
            }
            out.insert(
                path,
                FileInfo {
                    kind,
                    mode,
                    uid,
                    gid,
                    link,
                    size,
                    hash: h.finish(),
                },
            );
        }
        let _ = child.wait();
        Ok(out)
    })();
    let _ = run(cli, &["rm", "-f", &id]);
    result
}

fn config(cli: &str, tag: &str) -> Result<serde_json::Value, VerifyError> {
    let out = run(
        cli,
        &["image", "inspect", "--format", "{{json .Config}}", tag],
    )?;
    if !out.status.success() {
        return Err(VerifyError::Engine(format!(
            "docker image inspect {tag} failed"
        )));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| VerifyError::Engine(format!("image config: {e}")))
}

fn normalise(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Null => serde_json::Value::Null,
        serde_json::Value::Array(a) if a.is_empty() => serde_json::Value::Null,
        serde_json::Value::Object(o) if o.is_empty() => serde_json::Value::Null,
        other => other.clone(),
    }
}

/// Differences between two built images (at most `limit`).
pub fn compare(cli: &str, a: &str, b: &str, limit: usize) -> Result<Vec<String>, VerifyError> {
    let mut diffs = Vec::new();
    let (ca, cb) = (config(cli, a)?, config(cli, b)?);
    for key in [
        "Env",
        "WorkingDir",
        "User",
        "Cmd",
        "Entrypoint",
        "Shell",
        "ExposedPorts",
        "Labels",
        "Volumes",
        "Healthcheck",
        "StopSignal",
        "OnBuild",
    ] {
        let (mut x, mut y) = (normalise(&ca[key]), normalise(&cb[key]));
        if key == "Env" {
            // The order of ENV does not change the environment.
            for v in [&mut x, &mut y] {
                if let serde_json::Value::Array(a) = v {
                    a.sort_by_key(|e| e.as_str().unwrap_or("").to_string());
                }
            }
        }
        if x != y {
            diffs.push(format!("config {key}: {x} vs {y}"));
        }
    }
    let (fa, fb) = (filesystem(cli, a)?, filesystem(cli, b)?);
    for (path, ia) in &fa {
        if diffs.len() >= limit {
            break;
        }
        match fb.get(path) {
            None => diffs.push(format!("/{path}: only in the original")),
            Some(ib) if ia != ib => {
                let what = if ia.hash != ib.hash || ia.size != ib.size {
                    "content"
                } else if ia.mode != ib.mode {
                    "mode"
                } else if ia.uid != ib.uid || ia.gid != ib.gid {
                    "owner"
                } else {
                    "type or link target"
                };
                diffs.push(format!("/{path}: {what} differs"));
            }
            _ => {}
        }
    }
    for path in fb.keys() {
        if diffs.len() >= limit {
            break;
        }
        if !fa.contains_key(path) {
            diffs.push(format!("/{path}: only in the rewritten image"));
        }
    }
    diffs.truncate(limit);
    Ok(diffs)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if name == ".git" {
            continue;
        }
        let ft = e.file_type()?;
        let target = to.join(&name);
        if ft.is_dir() {
            copy_tree(&e.path(), &target)?;
        } else if ft.is_symlink() {
            let link = std::fs::read_link(e.path())?;
            std::os::unix::fs::symlink(link, target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

/// Runs the whole check. `shown` is the user's name for the Dockerfile
/// (errors name it, not the temporary copies); `changed_file` is the
/// context-relative source file to change for the cache comparison.
pub fn verify(
    cli: &str,
    context: &Path,
    shown: &str,
    original: &str,
    rewritten: &str,
    changed_file: Option<&str>,
) -> Result<Report, VerifyError> {
    let per_build = per_build_names(original);
    let tmp =
        tempfile::tempdir().map_err(|e| VerifyError::Copy(format!("temporary directory: {e}")))?;
    let fa: PathBuf = tmp.path().join("Dockerfile.original");
    let fb: PathBuf = tmp.path().join("Dockerfile.rewritten");
    std::fs::write(&fa, original)
        .and_then(|()| std::fs::write(&fb, rewritten))
        .map_err(|e| VerifyError::Copy(format!("writing temporary copies of {shown}: {e}")))?;
    let id = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let (ta, tb) = (
        format!("dockreorder-verify:{id}-a"),
        format!("dockreorder-verify:{id}-b"),
    );
    let (la, lb) = (
        format!("the original {shown}"),
        format!("the rewritten {shown}"),
    );
    let values = |n: u32| -> Vec<String> {
        per_build
            .iter()
            .map(|a| format!("{a}=dockreorder-verify-{id}-{n}"))
            .collect()
    };
    build_named(cli, context, &fa, &la, &ta, &values(0))?;
    build_named(cli, context, &fb, &lb, &tb, &values(0))?;
    let differences = compare(cli, &ta, &tb, 20)?;
    let mut report = Report {
        differences,
        changed_file: None,
        new_values: Vec::new(),
        original: None,
        rewritten: None,
    };
    if report.differences.is_empty() && changed_file.is_none() && !per_build.is_empty() {
        report.new_values = per_build.clone();
        report.original = Some(build_named(cli, context, &fa, &la, &ta, &values(1))?);
        report.rewritten = Some(build_named(cli, context, &fb, &lb, &tb, &values(1))?);
    }
    if report.differences.is_empty()
        && let Some(f) = changed_file
    {
        let copy = tmp.path().join("context");
        copy_tree(context, &copy)
            .map_err(|e| VerifyError::Copy(format!("copying the context: {e}")))?;
        let p = copy.join(f);
        let mut text = std::fs::read(&p).map_err(|e| VerifyError::Copy(format!("{f}: {e}")))?;
        text.extend_from_slice(format!("\n# dockreorder verify {id}\n").as_bytes());
        std::fs::write(&p, text).map_err(|e| {
            VerifyError::Copy(format!("changing {f} in a copy of the context: {e}"))
        })?;
        report.changed_file = Some(f.to_string());
        report.new_values = per_build.clone();
        report.original = Some(build_named(cli, &copy, &fa, &la, &ta, &values(1))?);
        report.rewritten = Some(build_named(cli, &copy, &fb, &lb, &tb, &values(1))?);
    }
    for t in [&ta, &tb] {
        let _ = run(cli, &["rmi", "-f", t]);
    }
    Ok(report)
}

/// The source file `verify` edits to show the cache at work: the shipped
/// file the history changed most often, else the first shipped file that is
/// not a manifest, a Dockerfile or a `.dockerignore`.
pub fn file_to_change(
    ctx: &crate::analysis::context::Context,
    history: Option<&crate::analysis::history::History>,
) -> Option<String> {
    // The source file to change: the one the history changed most often,
    // else the first shipped file that is not a manifest.
    let shipped = ctx.files();
    let candidate = |f: &String| {
        !crate::plan::is_manifest_name(f)
            && !f.starts_with(".git/")
            && !f.contains("Dockerfile")
            && !f.ends_with(".dockerignore")
    };
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    if let Some(h) = history {
        for c in &h.commits {
            for f in &c.files {
                if shipped.is_some_and(|s| s.contains_key(f)) && candidate(f) {
                    *counts.entry(f.as_str()).or_insert(0) += 1;
                }
            }
        }
    }
    counts
        .iter()
        .max_by_key(|(f, n)| (**n, std::cmp::Reverse(**f)))
        .map(|(f, _)| f.to_string())
        .or_else(|| shipped.and_then(|s| s.keys().find(|f| candidate(f)).cloned()))
}

/// The variables of the `ARG`s of `text` assumed to change on every build,
/// each once.
pub fn per_build_names(text: &str) -> Vec<String> {
    let parse = crate::syntax::parse(text);
    let mut out: Vec<String> = Vec::new();
    for (_, ins) in parse.instructions() {
        for a in crate::analysis::volatile::per_build_args(ins) {
            if !out.iter().any(|o| o == a) {
                out.push(a.to_string());
            }
        }
    }
    out
}
