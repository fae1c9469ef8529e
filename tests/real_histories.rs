//! The real histories of `../shared/corpus/real-histories/`: each
//! repository is materialized (its real first-parent history, Dockerfiles,
//! `.dockerignore` files and manifests), dockreorder runs on it with and
//! without the history, and the outcome must be what the entry's `SOURCE`
//! note says a careful engineer would accept: no change where the note
//! says "well-ordered" or "trap", and for cache-unfriendly files only the
//! moves the note allows (with the ones dockreorder makes today required,
//! so that a regression shows).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support;

/// What may move for one entry: `RUN` texts (prefixes) that must be moved
/// above a copy they followed, and those that may be; and the moves the
/// note accepts only as `Unsafe` (applied with `--unsafe`), each with the
/// context files that must be copied before it.
struct Expect {
    name: &'static str,
    must: &'static [&'static str],
    may: &'static [&'static str],
    unsafe_must: &'static [(&'static str, &'static [&'static str])],
    /// Moves the SOURCE accepts as `Unsafe` (checked with `--unsafe` only).
    unsafe_may: &'static [&'static str],
}

const CACHE_UNFRIENDLY: &[Expect] = &[
    Expect {
        name: "black",
        must: &["RUN apt update", "RUN python -m venv"],
        may: &[],
        unsafe_may: &[],
        unsafe_must: &[],
    },
    Expect {
        name: "caldera",
        must: &[
            "RUN apt-get update",
            "RUN curl -k -L https://go.dev",
            "RUN ln -snf /usr/share/zoneinfo",
            "RUN pip3 install --break-system-packages --no-cache-dir -r requirements.txt",
        ],
        may: &["RUN go version"],
        unsafe_may: &[],
        unsafe_must: &[],
    },
    Expect {
        name: "fat_free_crm",
        must: &["RUN apt-get update"],
        may: &[],
        unsafe_may: &[],
        // bundle install only with the Gemfile, its lock, the gemspec the
        // Gemfile loads and the version file that requires (the shipped
        // .git makes it Unsafe); `RUN cp config/...` stays below.
        unsafe_must: &[(
            "RUN gem install bundler",
            &[
                "Gemfile",
                "Gemfile.lock",
                "fat_free_crm.gemspec",
                "lib/fat_free_crm/version.rb",
            ],
        )],
    },
    Expect {
        name: "katana",
        must: &["RUN go mod download"],
        may: &[],
        unsafe_may: &[],
        unsafe_must: &[],
    },
    Expect {
        name: "jspwiki",
        must: &["RUN mvn -B dependency:go-offline"],
        may: &[],
        unsafe_may: &[],
        unsafe_must: &[],
    },
    Expect {
        name: "typst",
        must: &["RUN xx-apk add"],
        may: &[],
        // SOURCE: cargo fetch with the manifests alone does not load (the
        // members and targets are missing): no hoist, or Unsafe.
        unsafe_may: &[
            "RUN --mount=type=cache,target=/root/.cargo/git/db     --mount=type=cache,target=/root/.cargo/registry/cache     --mount=type=cache,target=/root/.cargo/registry/index     CARGO_REGISTRIES_CRATES_IO_PROTOCOL=sparse     cargo fetch",
        ],
        unsafe_must: &[],
    },
    Expect {
        name: "simplcommerce",
        must: &["RUN dotnet tool install --global dotnet-ef"],
        may: &[],
        unsafe_may: &[],
        unsafe_must: &[],
    },
    Expect {
        name: "etherpad-lite",
        must: &[],
        may: &[],
        unsafe_may: &[],
        // The adminbuild stage's application directory is /opt/etherpad-lite
        // (node's image has only yarn there): pnpm install with the
        // workspace's manifests (Unsafe: the shipped .git, and the lock
        // file pnpm may rewrite); `RUN pnpm run build:ui` stays below.
        unsafe_must: &[(
            "RUN pnpm install",
            &[
                "package.json",
                "pnpm-lock.yaml",
                "pnpm-workspace.yaml",
                ".npmrc",
                "admin/package.json",
                "bin/package.json",
                "doc/package.json",
                "src/package.json",
                "src/.npmrc",
                "ui/package.json",
            ],
        )],
    },
    Expect {
        name: "markdownlint-cli",
        must: &[],
        may: &[],
        unsafe_may: &[],
        // Unsafe: the shipped .git, the lock npm install may rewrite, and a
        // local-path dependency. `RUN npm install --global` installs the
        // package itself and stays below the copy.
        unsafe_must: &[(
            "RUN npm install --production",
            &["package.json", "package-lock.json", ".npmrc"],
        )],
    },
];

fn field(source: &str, key: &str) -> String {
    source
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or("")
        .trim()
        .to_string()
}

fn materialize(corpus: &Path, name: &str, dest: &Path) -> bool {
    let out = Command::new("python3")
        .arg(corpus.join("materialize.py"))
        .arg(name)
        .arg(dest)
        .output();
    matches!(out, Ok(o) if o.status.success())
}

/// Instruction texts (trimmed) in order.
fn instructions(text: &str) -> Vec<String> {
    dockreorder::syntax::parse(text)
        .instructions()
        .map(|(_, i)| i.original.trim().to_string())
        .collect()
}

/// The `RUN`s of `old` that come before, in `new`, a COPY/ADD they
/// followed in `old`.
fn moved_runs(old: &str, new: &str) -> Vec<String> {
    let (o, n) = (instructions(old), instructions(new));
    let is_copy = |t: &str| {
        let k = t
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        k == "COPY" || k == "ADD"
    };
    // The k-th occurrence of a text in `old` is the k-th in `new` (the
    // same line can stand in several stages).
    let mut used = vec![false; n.len()];
    let pos: Vec<Option<usize>> = o
        .iter()
        .map(|t| {
            let j = (0..n.len()).find(|&j| !used[j] && n[j] == *t)?;
            used[j] = true;
            Some(j)
        })
        .collect();
    let mut out = Vec::new();
    for (i, t) in o.iter().enumerate() {
        let Some(ni) = pos[i] else { continue };
        if !t.to_ascii_uppercase().starts_with("RUN") {
            continue;
        }
        if (0..i).any(|c| is_copy(&o[c]) && pos[c].is_some_and(|nc| nc > ni)) {
            out.push(t.clone());
        }
    }
    out
}

fn run_on(repo: &Path, dockerfile: &str, history: bool) -> Result<String, String> {
    run_with(repo, dockerfile, history, false)
}

fn run_with(
    repo: &Path,
    dockerfile: &str,
    history: bool,
    unsafe_too: bool,
) -> Result<String, String> {
    let original = std::fs::read_to_string(repo.join(dockerfile)).map_err(|e| e.to_string())?;
    let mut args = vec!["--write", "--quiet", "--context", "."];
    if !history {
        args.push("--no-history");
    }
    if unsafe_too {
        args.push("--unsafe");
    }
    args.push(dockerfile);
    let out = Command::new(support::bin())
        .args(&args)
        .current_dir(repo)
        .output()
        .map_err(|e| e.to_string())?;
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(format!(
            "exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let new = std::fs::read_to_string(repo.join(dockerfile)).map_err(|e| e.to_string())?;
    // Put the original back for the next run.
    std::fs::write(repo.join(dockerfile), &original).map_err(|e| e.to_string())?;
    Ok(new)
}

/// With `--unsafe`: the moves the note accepts as Unsafe are made, each
/// after COPYs of the files it needs, and nothing else moves.
fn check_unsafe(
    repo: &Path,
    dockerfile: &str,
    original: &str,
    e: &Expect,
    failures: &mut Vec<String>,
) {
    // Every entry is checked with `--unsafe` too: a move that breaks the
    // build is wrong even when it is only proposed (markdownlint-cli's
    // `RUN npm install --global`, which installs the copied package itself,
    // was once moved above the copy as Unsafe).
    let name = e.name;
    let new = match run_with(repo, dockerfile, true, true) {
        Ok(n) => n,
        Err(err) => {
            failures.push(format!("{name} (--unsafe): {err}"));
            return;
        }
    };
    let moved = moved_runs(original, &new);
    let allowed = |m: &String| {
        e.must
            .iter()
            .chain(e.may)
            .chain(e.unsafe_must.iter().map(|(p, _)| p))
            .chain(e.unsafe_may)
            .any(|p| m.starts_with(p))
    };
    for m in moved.iter().filter(|m| !allowed(m)) {
        failures.push(format!("{name} (--unsafe): `{m}` must not move"));
    }
    let lines = instructions(&new);
    for (p, files) in e.unsafe_must {
        let Some(at) = lines.iter().position(|l| l.starts_with(p)) else {
            failures.push(format!("{name} (--unsafe): `{p}…` is gone"));
            continue;
        };
        if !moved.iter().any(|m| m.starts_with(p)) {
            failures.push(format!(
                "{name} (--unsafe): expected `{p}…` above the broad copy"
            ));
        }
        let copied: Vec<&str> = lines[..at]
            .iter()
            .filter(|l| l.to_ascii_uppercase().starts_with("COPY "))
            .flat_map(|l| l.split_whitespace().skip(1))
            .collect();
        for f in *files {
            if !copied.contains(f) {
                failures.push(format!(
                    "{name} (--unsafe): `{f}` is not copied before `{p}…`"
                ));
            }
        }
    }
}

#[test]
fn real_histories_get_what_a_careful_engineer_would_accept() {
    let Some(corpus) = support::corpus() else {
        return;
    };
    let root = corpus.join("real-histories");
    if !root.join("materialize.py").is_file() {
        support::skip(&format!("no real histories at {}", root.display()));
        return;
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("read real-histories")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("SOURCE").is_file())
        .collect();
    names.sort();
    assert!(names.len() >= 20, "only {} entries", names.len());
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for entry in &names {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let source = std::fs::read_to_string(entry.join("SOURCE")).expect("SOURCE");
        let kind = field(&source, "kind");
        let dockerfile = field(&source, "dockerfile");
        let repo = tmp.path().join(&name);
        if !materialize(&root, &name, &repo) {
            failures.push(format!("{name}: could not materialize"));
            continue;
        }
        let original = std::fs::read_to_string(repo.join(&dockerfile)).expect("Dockerfile");
        for history in [true, false] {
            let label = if history { "history" } else { "static" };
            let new = match run_on(&repo, &dockerfile, history) {
                Ok(n) => n,
                Err(e) => {
                    failures.push(format!("{name} ({label}): {e}"));
                    continue;
                }
            };
            let moved = moved_runs(&original, &new);
            match kind.as_str() {
                "well-ordered" | "trap" => {
                    if new != original {
                        failures.push(format!(
                            "{name} ({label}, {kind}): expected no change, got moves {moved:?}"
                        ));
                    }
                }
                _ => {
                    let Some(e) = CACHE_UNFRIENDLY.iter().find(|e| e.name == name) else {
                        failures.push(format!("{name}: no expectation written for it"));
                        continue;
                    };
                    for m in &moved {
                        if !e.must.iter().chain(e.may).any(|p| m.starts_with(p)) {
                            failures.push(format!("{name} ({label}): `{m}` must not move"));
                        }
                    }
                    // The history decides; the static estimate may be more
                    // cautious, never bolder.
                    if history {
                        for p in e.must {
                            if !moved.iter().any(|m| m.starts_with(p)) {
                                failures.push(format!(
                                    "{name} ({label}): expected `{p}…` above the broad copy"
                                ));
                            }
                        }
                        check_unsafe(&repo, &dockerfile, &original, e, &mut failures);
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
