//! Real package managers (issue #8): the pip and npm samples built with the
//! REAL pip and npm, on base images made by `../shared/realbase/build-bases.sh
//! python node` (Debian's python 3.11 + pip under `python:3.12-slim`; the
//! official Node.js 20 + npm under `node:20-slim`), with real manifests (one
//! small pinned dependency each, authored here). For each sample:
//!
//! * the tool's rewrite of the real-base Dockerfile is the sample's
//!   `Dockerfile.expected` (with the same `FROM`);
//! * original and expected, built with `--no-cache` (the installs really
//!   download), give identical images by realbase's `compare.sh` (file
//!   trees, modes, owners, contents, config; its justified noise filter:
//!   `.pyc` mtime headers, npm cache index times, logs);
//! * after a source edit, the install step is served from the cache in the
//!   rewritten build and reruns in the original.
//!
//! Skipped with a message without `../shared/realbase`, a Docker engine or
//! the base images; a failure instead when `DOCKREORDER_STRICT=1`.
//! About 2 minutes here (each `compare.sh` run does six builds).

use std::path::{Path, PathBuf};
use std::process::Command;

use dockreorder::analysis::context::Context;
use dockreorder::plan::{Applicability, Options};
use dockreorder::rewrite;

use crate::support::{self, NPM_FILES};

fn realbase() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realbase");
    if dir.join("compare.sh").is_file() {
        Some(dir)
    } else {
        support::skip(&format!("realbase not found at {}", dir.display()));
        None
    }
}

fn docker() -> String {
    std::env::var("DOCKER").unwrap_or_else(|_| {
        if Path::new("/usr/bin/docker").exists() {
            "/usr/bin/docker".into()
        } else {
            "docker".into()
        }
    })
}

fn image_exists(name: &str) -> bool {
    Command::new(docker())
        .args([
            "image",
            "inspect",
            "--format",
            "{{index .Config.Labels \"realbase.local\"}}",
            name,
        ])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "true")
}

/// A real-manifest variant of a sample.
struct RealSample {
    sample: &'static str,
    base: &'static str,
    /// the file edited for the cache check (not a manifest)
    source: &'static str,
    /// files written over the sample's (the stand-in manifests)
    files: &'static [(&'static str, &'static str)],
    /// the install step as BuildKit prints it
    install: &'static str,
    /// more files for the context (a git repository the copy ships)
    extra: &'static [(&'static str, &'static str)],
    /// a Yarn Berry release fetched from the npm registry when the test
    /// runs (`@yarnpkg/cli-dist` at this version) into the context path
    /// its `.yarnrc.yml` names (the sample holds a stand-in)
    berry_release: Option<(&'static str, &'static str)>,
}

/// A git repository in the context, shipped by the broad copy: `npm ci`
/// with a lock of registry tarballs and no install scripts never looks at
/// it, so the hoist is Safe (and the real npm must agree).
const GIT_REPO: &[(&str, &str)] = &[
    (".git/HEAD", "ref: refs/heads/main\n"),
    (
        ".git/config",
        "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n",
    ),
    (".git/description", "sample\n"),
];

// six: one small pure-python module, no dependencies.
const PIP_FILES: &[(&str, &str)] = &[("requirements.txt", "six==1.16.0\n")];

// The same package, named through an include and a constraint file that
// pip resolves relative to the including file.
const PIP_INCLUDE_FILES: &[(&str, &str)] = &[
    ("requirements/base.txt", "six\n"),
    ("requirements/prod.txt", "-r base.txt\n-c constraints.txt\n"),
    ("requirements/constraints.txt", "six==1.16.0\n"),
];

/// [`NPM_FILES`] with the lock npm writes under
/// `omit-lockfile-registry-resolved`: the entry has no `resolved` URL.
const NPM_FILES_NO_RESOLVED: &[(&str, &str)] = &[
    ("package.json", NPM_FILES[0].1),
    (
        "package-lock.json",
        r#"{
  "name": "real-npm-sample",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "real-npm-sample",
      "version": "1.0.0",
      "dependencies": {
        "ms": "2.1.3"
      }
    },
    "node_modules/ms": {
      "version": "2.1.3",
      "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="
    }
  }
}
"#,
    ),
];

const SAMPLES: &[RealSample] = &[
    RealSample {
        sample: "pip",
        base: "python:3.12-slim",
        source: "app.py",
        files: PIP_FILES,
        install: "RUN pip install --no-cache-dir -r requirements.txt",
        extra: &[],
        berry_release: None,
    },
    RealSample {
        sample: "pip-includes",
        base: "python:3.12-slim",
        source: "app.py",
        files: PIP_INCLUDE_FILES,
        install: "RUN pip install --no-cache-dir -r requirements/prod.txt",
        extra: &[],
        berry_release: None,
    },
    RealSample {
        sample: "pip-project",
        base: "python:3.12-slim",
        source: "app.py",
        // The sample's own hash-checked requirements (six 1.16.0's wheel).
        files: &[],
        install: "RUN pip install --no-cache-dir -r requirements.txt",
        extra: &[],
        berry_release: None,
    },
    RealSample {
        sample: "user-home",
        base: "python:3.12-slim",
        source: "app.py",
        files: PIP_FILES,
        install: "RUN pip install --no-cache-dir -r requirements.txt",
        extra: &[],
        berry_release: None,
    },
    RealSample {
        sample: "npm-ci",
        base: "node:20-slim",
        source: "server.js",
        files: NPM_FILES,
        install: "RUN npm ci --omit=dev",
        extra: &[],
        berry_release: None,
    },
    RealSample {
        sample: "npm-ci",
        base: "node:20-slim",
        source: "server.js",
        files: NPM_FILES,
        install: "RUN npm ci --omit=dev",
        extra: GIT_REPO,
        berry_release: None,
    },
    RealSample {
        sample: "npm-install",
        base: "node:20-slim",
        source: "server.js",
        files: NPM_FILES,
        install: "RUN npm install --omit=dev --no-audit --no-fund",
        extra: &[],
        berry_release: None,
    },
    RealSample {
        sample: "npm-install",
        base: "node:20-slim",
        source: "server.js",
        files: NPM_FILES,
        install: "RUN npm install --omit=dev --no-audit --no-fund",
        extra: GIT_REPO,
        berry_release: None,
    },
    // The lock as npm writes it with `omit-lockfile-registry-resolved`
    // (no `resolved` URL): npm fetches ms@2.1.3 from the registry and
    // writes the lock back byte for byte (h-npm69).
    RealSample {
        sample: "npm-install",
        base: "node:20-slim",
        source: "server.js",
        files: NPM_FILES_NO_RESOLVED,
        install: "RUN npm install --omit=dev --no-audit --no-fund",
        extra: &[],
        berry_release: None,
    },
    // yarn 1 (the image's 1.22.22) with the sample's own lock, written by
    // yarn 1.22.22 for its package.json: no lock is written at all.
    RealSample {
        sample: "yarn-install",
        base: "node:20-slim",
        source: "server.js",
        files: &[],
        install: "RUN yarn install --production --non-interactive --ignore-scripts",
        extra: &[],
        berry_release: None,
    },
    // Yarn Berry 4.5.3 through the `yarnPath` the sample's .yarnrc.yml
    // names (the image's yarn 1 runs it), immutable, with the lock Berry
    // 4.5.3 wrote for the sample's package.json.
    RealSample {
        sample: "yarn-berry",
        base: "node:20-slim",
        source: "server.js",
        files: &[],
        install: "RUN yarn install --immutable",
        extra: &[],
        berry_release: Some(("4.5.3", ".yarn/releases/yarn-4.5.3.cjs")),
    },
    // Debian's real apt installing libpq5 (and its maintainer scripts)
    // with the application copied under `/srv`: the measured packages
    // write nothing there (src/analysis/effects/site-free-packages.txt).
    RealSample {
        sample: "srv-app-dir",
        base: "python:3.12-slim",
        source: "app.py",
        files: PIP_FILES,
        install: "RUN apt-get update     && apt-get install -y --no-install-recommends libpq5     && rm -rf /var/lib/apt/lists/*     && pip install --no-cache-dir -r requirements.txt",
        extra: &[],
        berry_release: None,
    },
    RealSample {
        sample: "user-after-copy",
        base: "node:20-slim",
        source: "server.js",
        files: NPM_FILES,
        install: "RUN npm ci --omit=dev",
        extra: &[],
        berry_release: None,
    },
    RealSample {
        sample: "manifests-copied-before",
        base: "node:20-slim",
        source: "server.js",
        files: NPM_FILES,
        install: "RUN npm ci --omit=dev",
        extra: &[],
        berry_release: None,
    },
];

fn with_base(text: &str, base: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim() == "FROM dockreorder-test-base" {
                format!("FROM {base}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Whether every difference compare.sh lists (the `  /path: what` lines
/// after `different`) is the noise its `noise.conf` filters in root's home
/// (`root/.npm/_logs/*`: ignore; `root/.npm/_cacache/index-v5/*`: content),
/// found in another user's home: an install run as `USER node` keeps its
/// npm cache in `/home/node/.npm`, and two builds of the same Dockerfile
/// differ there for the same reasons (the log is named after the time, the
/// index records the fetch time). Nothing else passes: a differing content
/// tarball, a file of the application, a presence change of an index entry.
///
/// Also V8's code cache that yarn 1 keeps in `/tmp` (its bundled
/// v8-compile-cache: `/tmp/v8-compile-cache-0/<v8 version>/<script>.BLOB`
/// and `.MAP`): measured, two `--no-cache` builds of the same yarn
/// Dockerfile gave BLOBs of 2198032 and 2198008 bytes and different MAPs
/// (V8's compiled code depends on what ran and when it was optimised).
/// Only their bytes and size may differ; presence still counts.
fn only_home_noise(text: &str) -> bool {
    let Some(rest) = text.split_once("\ndifferent\n").map(|(_, r)| r) else {
        return false;
    };
    let diffs: Vec<&str> = rest.lines().take_while(|l| l.starts_with("  /")).collect();
    !diffs.is_empty()
        && diffs.iter().all(|l| {
            let Some((path, what)) = l.trim().rsplit_once(": ") else {
                return false;
            };
            if v8_code_cache(path) {
                return what == "content"
                    || what
                        .strip_prefix("size ")
                        .and_then(|w| w.strip_suffix(", content"))
                        .is_some_and(|sizes| sizes.contains("->"));
            }
            let Some(in_home) = path.strip_prefix("/home/") else {
                return false;
            };
            let Some((user, below)) = in_home.split_once('/') else {
                return false;
            };
            !user.is_empty()
                && (below.starts_with(".npm/_logs/")
                    || (below.starts_with(".npm/_cacache/index-v5/") && what == "content"))
        })
}

/// The step lines (`CACHED ...` / `ran ...`) of compare.sh's cache check
/// section for `which` (A or B).
fn cache_section<'a>(out: &'a str, which: &str) -> Vec<&'a str> {
    out.lines()
        .skip_while(|l| !l.starts_with(&format!("cache check {which} ")))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .map(str::trim)
        .collect()
}

fn step_state<'a>(section: &[&'a str], instruction: &str) -> Option<&'a str> {
    section.iter().find_map(|l| {
        let (state, rest) = l.split_once(' ')?;
        let rest = rest.trim_start();
        let text = rest.split_once("] ").map_or(rest, |(_, t)| t);
        (text.trim() == instruction).then_some(state)
    })
}

/// The state of the step of a cache-check section whose instruction
/// starts with `head` and goes on with `&&` (a compound `RUN`).
fn step_starting<'a>(section: &[&'a str], head: &str) -> Option<&'a str> {
    section.iter().find_map(|l| {
        let (state, rest) = l.split_once(' ')?;
        let rest = rest.trim_start();
        let text = rest.split_once("] ").map_or(rest, |(_, t)| t);
        text.strip_prefix(head)
            .is_some_and(|more| more.trim_start().starts_with("&&"))
            .then_some(state)
    })
}

/// Yarn Berry's release `version` (`@yarnpkg/cli-dist`'s `bin/yarn.js`,
/// as `yarn set version` commits it) from the npm registry, with the
/// machine's npm, written to `dest`.
fn fetch_berry(version: &str, dest: &Path, work: &Path) -> Result<(), String> {
    let dir = work.join("berry-release");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let pack = Command::new("npm")
        .args(["pack", "--silent", &format!("@yarnpkg/cli-dist@{version}")])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("npm pack: {e}"))?;
    let tarball = String::from_utf8_lossy(&pack.stdout).trim().to_string();
    if !pack.status.success() || tarball.is_empty() {
        return Err(format!(
            "npm pack @yarnpkg/cli-dist@{version} failed: {}",
            String::from_utf8_lossy(&pack.stderr)
        ));
    }
    let untar = Command::new("tar")
        .args(["xzf", &tarball, "package/bin/yarn.js"])
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("tar: {e}"))?;
    if !untar.success() {
        return Err(format!("cannot unpack {tarball}"));
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::copy(dir.join("package/bin/yarn.js"), dest).map_err(|e| e.to_string())?;
    Ok(())
}

fn check(rb: &Path, s: &RealSample) -> Result<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(s.sample);
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).map_err(|e| e.to_string())?;
    for e in std::fs::read_dir(&src)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_file() && !name.starts_with("Dockerfile") {
            std::fs::copy(e.path(), ctx.join(&name)).map_err(|e| e.to_string())?;
        }
    }
    for (name, text) in s.files.iter().chain(s.extra) {
        let path = ctx.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::write(path, text).map_err(|e| e.to_string())?;
    }
    if let Some((version, dest)) = s.berry_release {
        fetch_berry(version, &ctx.join(dest), tmp.path())?;
    }
    let read = |n: &str| std::fs::read_to_string(src.join(n)).map_err(|e| e.to_string());
    let original = with_base(&read("Dockerfile")?, s.base);
    let expected = with_base(&read("Dockerfile.expected")?, s.base);
    // A sample may name the real base already (the analysis depends on an
    // official image: `user-home`); docker_build builds it on a stand-in.
    let names_base = read("Dockerfile")?
        .lines()
        .any(|l| l.trim() == format!("FROM {}", s.base));
    if original == read("Dockerfile")? && !names_base {
        return Err(format!(
            "{}: no `FROM dockreorder-test-base` to replace",
            s.sample
        ));
    }
    // The Dockerfiles live outside the context: the same context for both.
    let a = tmp.path().join("A.Dockerfile");
    let b = tmp.path().join("B.Dockerfile");
    std::fs::write(&a, &original).map_err(|e| e.to_string())?;
    std::fs::write(&b, &expected).map_err(|e| e.to_string())?;
    let c = Context::new(ctx.clone(), Some(&a));
    let out = rewrite::rewrite(&original, Some(&c), Options::new(Applicability::Safe))
        .map_err(|e| e.message)?;
    if out.new_text != expected {
        return Err(format!(
            "{}: with real manifests and FROM {}, the rewrite is not the expected file:\n{}",
            s.sample, s.base, out.new_text
        ));
    }
    let t0 = std::time::Instant::now();
    let run = Command::new("bash")
        .arg(rb.join("compare.sh"))
        .args(["--cache-check", s.source])
        .arg(&a)
        .arg(&b)
        .arg(&ctx)
        .env("DOCKER", docker())
        .output()
        .map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let identical = run.status.code() == Some(0) && text.lines().any(|l| l.trim() == "identical");
    let noise_only = run.status.code() == Some(1) && only_home_noise(&text);
    if !(identical || noise_only) {
        return Err(format!(
            "{}: compare.sh exit {:?}, expected identical images:\n{text}",
            s.sample,
            run.status.code()
        ));
    }
    let (sa, sb) = (cache_section(&text, "A"), cache_section(&text, "B"));
    // The original may run the install as the head of a compound `RUN`
    // the rewrite splits (`samples/pip-project`).
    let original_step = step_state(&sa, s.install).or_else(|| step_starting(&sa, s.install));
    match (original_step, step_state(&sb, s.install)) {
        (Some("ran"), Some("CACHED")) => {}
        other => {
            return Err(format!(
                "{}: after editing {}, `{}` (original, rewritten) = {other:?}; wanted ran, CACHED:\n{text}",
                s.sample, s.source, s.install
            ));
        }
    }
    Ok(format!(
        "{}: identical with real installs{}, install CACHED after editing {} ({:.0} s)",
        s.sample,
        if identical {
            ""
        } else {
            " (npm's log and index times in the user's home filtered)"
        },
        s.source,
        t0.elapsed().as_secs_f64()
    ))
}

#[test]
fn pip_and_npm_samples_with_the_real_installers() {
    let Some(rb) = realbase() else { return };
    if !crate::docker_build::engine_ready() {
        return;
    }
    let missing: Vec<&str> = SAMPLES
        .iter()
        .map(|s| s.base)
        .filter(|b| !image_exists(b))
        .collect();
    if !missing.is_empty() {
        support::skip(&format!(
            "realbase images {missing:?} missing (run ../shared/realbase/build-bases.sh python node)"
        ));
        return;
    }
    let mut failures = Vec::new();
    for s in SAMPLES {
        match check(&rb, s) {
            Ok(line) => eprintln!("{line}"),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Whether `path` is in yarn 1's V8 code cache (see [`only_home_noise`]).
fn v8_code_cache(path: &str) -> bool {
    path.strip_prefix("/tmp/v8-compile-cache-")
        .and_then(|r| r.split_once('/'))
        .is_some_and(|(uid, rest)| {
            uid.bytes().all(|b| b.is_ascii_digit())
                && rest.split('/').count() == 2
                && (rest.ends_with(".BLOB") || rest.ends_with(".MAP"))
        })
}

#[test]
fn v8_code_cache_bytes_are_noise_and_nothing_else_there() {
    let out = "files: A 9 paths\ndifferent\n  /tmp/v8-compile-cache-0/11.3.244.8-node.38/zSoptzSyarn-v1.22.22zSbinzSyarn.js.BLOB: size 2197960->2197992, content\n  /tmp/v8-compile-cache-0/11.3.244.8-node.38/zSoptzSyarn-v1.22.22zSbinzSyarn.js.MAP: content\ncache check A (after touching server.js):\n";
    assert!(only_home_noise(out));
    for bad in [
        "  /tmp/v8-compile-cache-0/11.3.244.8-node.38/x.BLOB: only in A\n",
        "  /tmp/v8-compile-cache-0/11.3.244.8-node.38/x.js: content\n",
        "  /tmp/other/x.BLOB: content\n",
        "  /tmp/v8-compile-cache-0/11.3.244.8-node.38/x.BLOB: mode 644->755\n",
    ] {
        let text = out.replace("cache check", &format!("{bad}cache check"));
        assert!(!only_home_noise(&text), "{bad}");
    }
}

#[test]
fn home_noise_is_only_npm_logs_and_index_times_in_a_users_home() {
    let out = "files: A 9 paths\ndifferent\n  /home/node/.npm/_cacache/index-v5/21/a7/bd8a: content\n  /home/node/.npm/_logs/2026-12-03T13_44_09_032Z-debug-0.log: only in A\ncache check A (after touching server.js):\n";
    assert!(only_home_noise(out));
    for bad in [
        "  /home/node/app/package-lock.json: content\n",
        "  /home/node/.npm/_cacache/index-v5/21/a7/bd8a: only in A\n",
        "  /home/node/.npm/_cacache/content-v2/sha512/aa: content\n",
        "  /root/.npm/_logs/x.log: only in B\n",
    ] {
        let text = out.replace("cache check", &format!("{bad}cache check"));
        assert!(!only_home_noise(&text), "{bad}");
    }
    assert!(!only_home_noise("different\n"));
}

#[test]
fn cache_section_parsing() {
    let out = "identical\ncache check A (after touching app.py):\n    base   [1/5] FROM docker.io/library/python:3.12-slim\n    ran    [3/5] COPY . .\n    ran    [4/5] RUN pip install -r requirements.txt\ncache check B (after touching app.py):\n    CACHED [3/6] COPY requirements.txt ./\n    CACHED [4/6] RUN pip install -r requirements.txt\n    ran    [5/6] COPY . .\n";
    let a = cache_section(out, "A");
    let b = cache_section(out, "B");
    assert_eq!(a.len(), 3);
    assert_eq!(
        step_state(&a, "RUN pip install -r requirements.txt"),
        Some("ran")
    );
    assert_eq!(
        step_state(&b, "RUN pip install -r requirements.txt"),
        Some("CACHED")
    );
    assert_eq!(step_state(&b, "COPY . ."), Some("ran"));
    assert_eq!(step_state(&b, "RUN npm ci"), None);
    assert_eq!(
        with_base("FROM dockreorder-test-base\nRUN x\n", "node:20-slim"),
        "FROM node:20-slim\nRUN x\n"
    );
}
