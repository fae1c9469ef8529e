//! Real builds (DESIGN.md section 8): every sample's original and rewritten
//! Dockerfile are built with the local Docker engine and must give
//! identical images (files, contents, modes, owners, config); then a source
//! file changes, and the hoisted install must be served from the cache in
//! the rewritten build while the original reruns it. The rewritten image's
//! total layer size may exceed the original's by at most the bytes of the
//! manifest copies the rewrite inserted.
//!
//! Skipped with a message when no engine is reachable; a failure when
//! `DOCKREORDER_STRICT=1` (as in CI, where `.ci/run` starts `dockerd`).

use std::path::{Path, PathBuf};
use std::process::Command;

use dockreorder::analysis::context::Context;
use dockreorder::plan::{Applicability, ChangeKind, Options};
use dockreorder::rewrite;

use crate::support;

fn docker() -> String {
    std::env::var("DOCKER").unwrap_or_else(|_| {
        if Path::new("/usr/bin/docker").exists() {
            "/usr/bin/docker".into()
        } else {
            "docker".into()
        }
    })
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/docker")
}

static PINNED: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The base image of exactly this checkout's fakes
/// (`dockreorder-test-base:fakes-<hash>`, see build-base.sh), once
/// `engine_ready()` has run; `dockreorder-test-base` before.
pub fn pinned_base() -> String {
    PINNED
        .get()
        .cloned()
        .unwrap_or_else(|| "dockreorder-test-base".into())
}

/// Official images a sample names because the analysis depends on its
/// base (`samples/opt-app-dir`: what `node`'s `/opt` holds; `user-home`,
/// `user-after-copy`: an official image runs as root with no `ENV HOME`,
/// and `node`'s user `node` lives in `/home/node`); the offline engine
/// builds them from the pinned base like `dockreorder-test-base`.
const STAND_INS: &[&str] = &["node:lts-alpine", "node:20-slim", "python:3.12-slim"];

/// `text` with every `FROM dockreorder-test-base` (or a [`STAND_INS`]
/// image) naming the pinned base instead: the engine is shared, and
/// another checkout may retag the base with its own fakes between two
/// builds. Used on both Dockerfiles of a comparison alike, so it cannot
/// make them differ.
pub fn pin_base(text: &str) -> String {
    let pinned = pinned_base();
    let is_base = |w: &str| {
        w == "dockreorder-test-base"
            || w == "dockreorder-test-base:latest"
            || STAND_INS.contains(&w)
    };
    text.split_inclusive('\n')
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
                && words.iter().any(|w| is_base(w))
            {
                let mut out = words
                    .iter()
                    .map(|w| if is_base(w) { pinned.as_str() } else { w })
                    .collect::<Vec<_>>()
                    .join(" ");
                if line.ends_with('\n') {
                    out.push('\n');
                }
                out
            } else {
                line.to_string()
            }
        })
        .collect()
}

/// Whether the engine answers and the base image exists (built if missing).
pub fn engine_ready() -> bool {
    let ok = Command::new(docker())
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        support::skip("no Docker engine reachable (run tests/docker/setup.sh as root)");
        return false;
    }
    let base = Command::new("bash")
        .arg(scripts().join("build-base.sh"))
        .output()
        .expect("run build-base.sh");
    assert!(
        base.status.success(),
        "build-base.sh failed: {}",
        String::from_utf8_lossy(&base.stderr)
    );
    if let Some(p) = String::from_utf8_lossy(&base.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("build-base.sh: pinned "))
    {
        let _ = PINNED.set(p.trim().to_string());
    }
    true
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read sample").flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            std::fs::create_dir_all(&t).expect("mkdir");
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

/// Builds with `--build-arg` values (`NAME=value`) and returns the
/// per-step cache report lines.
fn build_with(
    context: &Path,
    dockerfile: &str,
    tag: &str,
    args: &[String],
) -> Result<Vec<String>, String> {
    let out = Command::new("bash")
        .arg(scripts().join("cache-steps.sh"))
        .arg(context)
        .arg(context.join(dockerfile))
        .arg(tag)
        .arg("--")
        .args(args.iter().flat_map(|a| ["--build-arg", a.as_str()]))
        .env("DOCKER", docker())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "build of {dockerfile} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

fn compare(a: &str, b: &str) -> Result<(), String> {
    let out = Command::new("bash")
        .arg(scripts().join("compare-images.sh"))
        .args([a, b])
        .env("DOCKER", docker())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "images differ:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn cached(report: &[String], instruction: &str) -> Option<bool> {
    report.iter().find_map(|l| {
        if let Some(rest) = l.strip_prefix("CACHED ") {
            same_step(instruction, rest.trim()).then_some(true)
        } else if let Some(rest) = l.strip_prefix("RUN ") {
            same_step(instruction, rest.trim()).then_some(false)
        } else {
            None
        }
    })
}

/// Whether BuildKit's step name `shown` is the instruction `text`: BuildKit
/// prints a `RUN` with its build variables expanded (`$TZ` as `UTC`), so a
/// `$NAME` or `${NAME}` of `text` matches any run of non-blank characters.
fn same_step(text: &str, shown: &str) -> bool {
    fn var_len(t: &[u8]) -> usize {
        if t.first() != Some(&b'$') {
            return 0;
        }
        if t.get(1) == Some(&b'{') {
            return t.iter().position(|&c| c == b'}').map_or(0, |k| k + 1);
        }
        let n = t[1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        if n == 0 { 0 } else { n + 1 }
    }
    fn go(t: &[u8], s: &[u8]) -> bool {
        match t.first() {
            None => s.is_empty(),
            Some(_) => {
                let v = var_len(t);
                if v > 0 {
                    (0..=s.len())
                        .take_while(|&k| k == 0 || !s[k - 1].is_ascii_whitespace())
                        .any(|k| go(&t[v..], &s[k..]))
                } else {
                    s.first() == t.first() && go(&t[1..], &s[1..])
                }
            }
        }
    }
    go(text.as_bytes(), shown.as_bytes())
}

#[test]
fn build_steps_match_with_their_variables_expanded() {
    assert!(same_step(
        "RUN ln -s /z/$TZ /l && echo ${TZ}",
        "RUN ln -s /z/UTC /l && echo UTC"
    ));
    assert!(same_step("RUN a", "RUN a"));
    assert!(!same_step("RUN ln -s /z/$TZ /l", "RUN ln -s /z/UTC /m"));
    assert!(!same_step("RUN echo $X", "RUN echo a b"));
}

/// The source file each sample changes (not a dependency manifest).
fn source_file(sample: &str) -> Option<&'static str> {
    Some(match sample {
        "pipenv" | "pip" | "pip-includes" | "absolute-manifests" | "base-image-workdir"
        | "glob-sources" | "shell-tee-log" => "app.py",
        "npm-ci"
        | "npm-install"
        | "workdir-after-copy"
        | "manifests-copied-before"
        | "deleted-later"
        | "user-after-copy" => "server.js",
        "split-run" => "src/server.js",
        "home-workdir" | "opt-app-dir" => "server.js",
        "subtree-copy" | "workdir-subdir" => "server/server.js",
        "yarn" => "index.js",
        "yarn-install" | "yarn-berry" => "server.js",
        "go-multistage" => "main.go",
        "bundler" | "bundler-home" => "app.rb",
        "composer" | "copy-from-tool" => "index.php",
        "composer-working-dir" => "public_html/index.php",
        "apt-get-update" => "run.sh",
        "reorder" => "src/index.js",
        "poetry" => "app/__main__.py",
        "pnpm" => "src/index.ts",
        "pnpm-workspace" => "packages/web/src/index.ts",
        "cargo" => "src/main.rs",
        "maven" => "src/main/java/A.java",
        "maven-reactor" => "core/src/main/java/A.java",
        "dotnet-restore" => "src/Core/Order.cs",
        "gradle-multiproject" => "core/src/main/java/shop/Order.java",
        "bundler-gemspec" => "lib/shop.rb",
        "env-reads" | "bind-mount" | "global-arg-workdir" | "inherited-stage" | "user-home"
        | "srv-app-dir" | "user-compound" => "app.py",
        "system-install-past-fetch" => "src/main.rs",
        "build-date-arg" => "run.sh",
        _ => return None,
    })
}

fn check_sample(dir: &Path, token: &str) -> Result<usize, String> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let ctx_dir = tmp.path();
    copy_dir(dir, ctx_dir);
    let original =
        std::fs::read_to_string(ctx_dir.join("Dockerfile")).map_err(|e| e.to_string())?;
    let ctx = Context::new(ctx_dir.to_path_buf(), Some(&ctx_dir.join("Dockerfile")));
    let out = rewrite::rewrite(&original, Some(&ctx), Options::new(Applicability::Safe))
        .map_err(|e| e.message)?;
    std::fs::write(ctx_dir.join("Dockerfile.rewritten"), &out.new_text)
        .map_err(|e| e.to_string())?;
    let tag_a = format!("dockreorder-test/{name}-orig:{token}");
    let tag_b = format!("dockreorder-test/{name}-new:{token}");
    // A unique source change first, so no earlier run can serve these builds.
    let src = source_file(&name).ok_or(format!("no source file for sample {name}"))?;
    let append = |n: u32| {
        let p = ctx_dir.join(src);
        let mut t = std::fs::read_to_string(&p).unwrap_or_default();
        t.push_str(&format!("\n# change {token} {n}\n"));
        std::fs::write(&p, t)
    };
    append(0).map_err(|e| e.to_string())?;
    // Built FROM this checkout's pinned base (same substitution in both).
    std::fs::write(ctx_dir.join("Dockerfile.a-pinned"), pin_base(&original))
        .map_err(|e| e.to_string())?;
    std::fs::write(ctx_dir.join("Dockerfile.b-pinned"), pin_base(&out.new_text))
        .map_err(|e| e.to_string())?;
    // Each build passes new values to the ARGs assumed to change on every
    // build, as CI does (the same values to both Dockerfiles).
    let per_build = per_build_args(&original);
    let values = |n: u32| -> Vec<String> {
        per_build
            .iter()
            .map(|a| format!("{a}={token}-{n}"))
            .collect()
    };
    build_with(ctx_dir, "Dockerfile.a-pinned", &tag_a, &values(0))?;
    build_with(ctx_dir, "Dockerfile.b-pinned", &tag_b, &values(0))?;
    compare(&tag_a, &tag_b).map_err(|e| format!("{name}: {e}"))?;
    // The rewrite may add only the manifest copies it inserted to the
    // image's total layer size (they are shipped twice: before and in the
    // broad copy).
    let allowance = crate::build_fuzz::inserted_copy_bytes(&original, &out.new_text, ctx_dir);
    let size_a = crate::build_fuzz::image_size(&tag_a)?;
    let size_b = crate::build_fuzz::image_size(&tag_b)?;
    if size_b > size_a + allowance {
        return Err(format!(
            "{name}: the rewritten image is {size_b} bytes, the original {size_a}; the inserted copies account for {allowance}"
        ));
    }
    // Change a source file: the original reruns the install, the
    // rewritten build serves it from the cache.
    append(1).map_err(|e| e.to_string())?;
    let ra = build_with(ctx_dir, "Dockerfile.a-pinned", &tag_a, &values(1))?;
    let rb = build_with(ctx_dir, "Dockerfile.b-pinned", &tag_b, &values(1))?;
    compare(&tag_a, &tag_b).map_err(|e| format!("{name} after a change: {e}"))?;
    let hoisted = rewrite_hoisted(&original, &out.new_text);
    for (old_ins, ins) in &hoisted {
        match (cached(&ra, old_ins), cached(&rb, ins)) {
            (Some(false), Some(true)) => {}
            other => {
                return Err(format!(
                    "{name}: `{ins}` cache (original, rewritten) = {other:?}\noriginal:\n{}\nrewritten:\n{}",
                    ra.join("\n"),
                    rb.join("\n")
                ));
            }
        }
    }
    if out
        .changes
        .iter()
        .any(|c| c.applied && c.kind == ChangeKind::Hoist)
        && hoisted.is_empty()
    {
        return Err(format!("{name}: could not find the hoisted instructions"));
    }
    for tag in [&tag_a, &tag_b] {
        let _ = Command::new(docker()).args(["rmi", "-f", tag]).output();
    }
    Ok(hoisted.len())
}

/// The variables of the ARGs of `text` assumed to change on every build.
fn per_build_args(text: &str) -> Vec<String> {
    dockreorder::verify::per_build_names(text)
}

/// Every RUN that now comes before a COPY or ADD, or an ARG assumed to
/// change on every build, it used to follow (the net moves of the rewrite,
/// whatever the report calls moved): its text in the original and in the
/// rewrite (the first part, when it was split).
fn rewrite_hoisted(old_text: &str, new_text: &str) -> Vec<(String, String)> {
    let texts = |t: &str| -> Vec<String> {
        dockreorder::syntax::parse(t)
            .instructions()
            .map(|(_, ins)| ins.original.trim().to_string())
            .collect()
    };
    let (old, new) = (texts(old_text), texts(new_text));
    let is_copy = |t: &str| {
        let k = t.get(..4).unwrap_or("").to_ascii_uppercase();
        k == "COPY" || k == "ADD " || (k == "ARG " && !per_build_args(&format!("{t}\n")).is_empty())
    };
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    for (i, t) in old.iter().enumerate() {
        if !t.to_ascii_uppercase().starts_with("RUN") {
            continue;
        }
        // The RUN itself, or the first part of it when it was split at a
        // `&&` (a new RUN that the old one's text starts with).
        let moved = new
            .iter()
            .position(|n| n == t)
            .map(|ni| (ni, t))
            .or_else(|| {
                new.iter().enumerate().find_map(|(ni, n)| {
                    (!old.contains(n) && words(t).starts_with(&format!("{} &&", words(n))))
                        .then_some((ni, n))
                })
            });
        let Some((ni, shown)) = moved else {
            continue;
        };
        let jumped = old[..i]
            .iter()
            .any(|c| is_copy(c) && new.iter().position(|n| n == c).is_some_and(|nc| nc > ni));
        if jumped {
            out.push((t.clone(), shown.clone()));
        }
    }
    out
}

#[test]
fn samples_build_identical_images_and_hoisted_installs_hit_the_cache() {
    if !engine_ready() {
        return;
    }
    let token = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let mut failures = Vec::new();
    let dirs = crate::samples::sample_dirs();
    let mut checked = 0;
    let mut cache_checks = 0;
    for dir in &dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if source_file(&name).is_none() {
            continue;
        }
        checked += 1;
        match check_sample(dir, &token) {
            Ok(n) => cache_checks += n,
            Err(e) => failures.push(e),
        }
    }
    assert!(checked >= 15, "only {checked} samples were built");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "built {checked} samples; {cache_checks} moved RUNs served from cache after a source change"
    );
    assert!(cache_checks >= 14, "only {cache_checks} cache checks ran");
}

#[test]
fn pin_base_rewrites_only_from_lines_naming_the_base() {
    let p = pinned_base();
    assert_eq!(
        pin_base(
            "FROM dockreorder-test-base AS b\nfrom dockreorder-test-base\nRUN echo dockreorder-test-base\nFROM b"
        ),
        format!("FROM {p} AS b\nfrom {p}\nRUN echo dockreorder-test-base\nFROM b")
    );
    assert_eq!(
        pin_base("FROM node:lts-alpine\nFROM node:20\n"),
        format!("FROM {p}\nFROM node:20\n")
    );
}

#[test]
fn verify_command_builds_compares_and_reports_the_cache() {
    if !engine_ready() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/pipenv"),
        tmp.path(),
    );
    std::fs::remove_file(tmp.path().join("Dockerfile.expected")).expect("rm");
    // A unique source so the first builds cannot come from an earlier run.
    std::fs::write(
        tmp.path().join("app.py"),
        format!("print({})\n", std::process::id()),
    )
    .expect("write");
    let out = Command::new(support::bin())
        .args(["verify", "Dockerfile"])
        .current_dir(tmp.path())
        .env("DOCKER", docker())
        .output()
        .expect("run verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("images: identical"), "{text}");
    assert!(text.contains("after changing app.py:"), "{text}");
    let rewritten = text
        .lines()
        .find(|l| l.trim_start().starts_with("rewritten"))
        .expect("rewritten line");
    assert!(rewritten.ends_with("rebuilt: COPY . ."), "{text}");
    let original = text
        .lines()
        .find(|l| l.trim_start().starts_with("original"))
        .expect("original line");
    assert!(
        original.contains("RUN pipenv install --deploy --system"),
        "{text}"
    );
}

/// `verify` gives the ARGs assumed to change on every build new values in
/// its second builds, as CI does: the install the rewrite moved above them
/// comes from the cache, the original reruns it. Fails before `verify`
/// passed build arguments (both reused the cache for the install).
#[test]
fn verify_gives_per_build_args_new_values() {
    if !engine_ready() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/build-date-arg"),
        tmp.path(),
    );
    std::fs::remove_file(tmp.path().join("Dockerfile.expected")).expect("rm");
    let df = std::fs::read_to_string(tmp.path().join("Dockerfile")).expect("read");
    std::fs::write(tmp.path().join("Dockerfile"), pin_base(&df)).expect("write");
    let out = Command::new(support::bin())
        .args(["verify", "Dockerfile"])
        .current_dir(tmp.path())
        .env("DOCKER", docker())
        .output()
        .expect("run verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("images: identical"), "{text}");
    assert!(
        text.contains("giving new values to `BUILD_DATE`, `VCS_REF`"),
        "{text}"
    );
    let line = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("original").contains("RUN apt-get update"), "{text}");
    assert!(!line("rewritten").contains("RUN apt-get update"), "{text}");
}

#[test]
fn verify_compare_reports_differences() {
    if !engine_ready() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    std::fs::write(d.join("a.txt"), "a\n").expect("write");
    std::fs::write(
        d.join("A.Dockerfile"),
        "FROM dockreorder-test-base\nCOPY a.txt /a.txt\nENV X=1\n",
    )
    .expect("write");
    std::fs::write(
        d.join("B.Dockerfile"),
        "FROM dockreorder-test-base\nCOPY --chmod=600 a.txt /a.txt\nENV X=2\n",
    )
    .expect("write");
    let cli = docker();
    let tag = format!("dockreorder-test/cmp:{}", std::process::id());
    let (ta, tb) = (format!("{tag}a"), format!("{tag}b"));
    dockreorder::verify::build(&cli, d, &d.join("A.Dockerfile"), &ta).expect("build a");
    dockreorder::verify::build(&cli, d, &d.join("B.Dockerfile"), &tb).expect("build b");
    let diffs = dockreorder::verify::compare(&cli, &ta, &tb, 10).expect("compare");
    assert!(
        diffs.iter().any(|x| x.starts_with("config Env")),
        "{diffs:?}"
    );
    assert!(
        diffs.iter().any(|x| x == "/a.txt: mode differs"),
        "{diffs:?}"
    );
    assert!(
        dockreorder::verify::compare(&cli, &ta, &ta, 10)
            .expect("compare")
            .is_empty()
    );
    for t in [&ta, &tb] {
        let _ = Command::new(docker()).args(["rmi", "-f", t]).output();
    }
}

/// A tool that reads and writes where a variable or its user's home puts
/// it, in the directory a broad copy ships into: the hoist earlier
/// versions made (the second text) builds another image than the original
/// (the copy overwrites what the install wrote there), and dockreorder now
/// leaves the original alone, even with `--unsafe`.
#[test]
fn hoists_into_a_moved_tool_home_change_the_image_and_are_not_made() {
    if !engine_ready() {
        return;
    }
    let cases: [(&str, &str, &str); 2] = [
        (
            ".npm-cache/_cacache/marker",
            "FROM dockreorder-test-base\nENV npm_config_cache=/app/.npm-cache\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
            "FROM dockreorder-test-base\nENV npm_config_cache=/app/.npm-cache\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n",
        ),
        (
            ".npm/_cacache/marker",
            "FROM dockreorder-test-base\nRUN useradd -m -d /app app\nUSER app\nWORKDIR /app\nCOPY --chown=app . .\nRUN npm ci\n",
            "FROM dockreorder-test-base\nRUN useradd -m -d /app app\nUSER app\nWORKDIR /app\nCOPY --chown=app package.json package-lock.json ./\nRUN npm ci\nCOPY --chown=app . .\n",
        ),
    ];
    let cli = docker();
    for (k, (shipped, original, old_hoist)) in cases.iter().enumerate() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        for (f, body) in [
            (
                "package.json",
                "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{}}",
            ),
            ("package-lock.json", "{\"lockfileVersion\":3}"),
            ("index.js", "x\n"),
            (shipped, "shipped\n"),
            ("A.Dockerfile", original),
            ("B.Dockerfile", old_hoist),
        ] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, body).expect("write");
        }
        let ctx = dockreorder::analysis::context::Context::new(
            d.to_path_buf(),
            Some(&d.join("A.Dockerfile")),
        );
        let out = dockreorder::rewrite::rewrite(
            original,
            Some(&ctx),
            dockreorder::plan::Options::new(dockreorder::plan::Applicability::Unsafe),
        )
        .expect("rewrite");
        assert_eq!(out.new_text, *original, "moved");
        let tag = format!("dockreorder-test/home:{}-{k}", std::process::id());
        let (ta, tb) = (format!("{tag}a"), format!("{tag}b"));
        dockreorder::verify::build(&cli, d, &d.join("A.Dockerfile"), &ta).expect("build a");
        dockreorder::verify::build(&cli, d, &d.join("B.Dockerfile"), &tb).expect("build b");
        let diffs = dockreorder::verify::compare(&cli, &ta, &tb, 10).expect("compare");
        assert!(
            diffs
                .iter()
                .any(|x| x == &format!("/app/{shipped}: content differs")),
            "{diffs:?}"
        );
        for t in [&ta, &tb] {
            let _ = Command::new(docker()).args(["rmi", "-f", t]).output();
        }
    }
}
