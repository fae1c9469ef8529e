//! Shared test helpers: where the shared corpus is, and the skip-or-fail
//! rule (`DOCKREORDER_STRICT=1` turns every skip into a failure).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn strict() -> bool {
    std::env::var("DOCKREORDER_STRICT").is_ok_and(|v| v == "1")
}

/// Skips the calling test with a visible message, or fails it in strict mode.
///
/// libtest has no "skipped" outcome and hides a passing test's output, so
/// a skip also records itself, and the first one registers an exit hook
/// that prints, after libtest's closing `test result:` line (which CI
/// reads and which stays untouched), one line counting the skipped tests
/// and one per test with its reason, on stderr.
pub fn skip(what: &str) {
    if strict() {
        panic!("DOCKREORDER_STRICT=1 but this test would be skipped: {what}");
    }
    eprintln!("SKIPPED: {what}");
    let test = std::thread::current()
        .name()
        .unwrap_or("(unnamed test)")
        .to_string();
    if let Ok(mut list) = SKIPPED.lock() {
        list.push((test, what.to_string()));
    }
    REGISTER.call_once(|| {
        // SAFETY: `atexit` is the C library's, and the hook is a plain
        // `extern "C" fn` that does not unwind.
        unsafe {
            atexit(print_skips);
        }
    });
}

static SKIPPED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
static REGISTER: std::sync::Once = std::sync::Once::new();

unsafe extern "C" {
    fn atexit(hook: extern "C" fn()) -> std::ffi::c_int;
}

extern "C" fn print_skips() {
    use std::io::Write;
    let Ok(list) = SKIPPED.lock() else { return };
    if list.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    let n = list.len();
    let _ = writeln!(
        err,
        "\n{n} test{} skipped (they passed without checking anything; DOCKREORDER_STRICT=1 fails them):",
        if n == 1 { "" } else { "s" }
    );
    for (test, why) in list.iter() {
        let _ = writeln!(err, "  SKIPPED {test}: {why}");
    }
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

/// A temporary build context holding `files` (path, text).
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }
    dir
}

/// As [`project`], from owned (path, text) pairs.
pub fn project_owned(files: &[(String, String)]) -> tempfile::TempDir {
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    project(&files)
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dockreorder"))
}

/// Runs git in `dir`, asserting success; returns its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Feeds a `git fast-import` stream to the repository at `dir`.
pub fn fast_import(dir: &Path, stream: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("write stream");
    assert!(child.wait().expect("wait").success(), "fast-import failed");
}

// ms 2.1.3: one small package, no dependencies; integrity as published on
// registry.npmjs.org (`npm view ms@2.1.3 dist.integrity`).
pub const NPM_FILES: &[(&str, &str)] = &[
    (
        "package.json",
        r#"{
  "name": "real-npm-sample",
  "version": "1.0.0",
  "private": true,
  "dependencies": {
    "ms": "2.1.3"
  }
}
"#,
    ),
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
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
      "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="
    }
  }
}
"#,
    ),
];

/// A Gemfile of gems the Ruby 3.1 image ships (issue 11, Bundler's lock).
pub const BUNDLER_GEMFILE: &str =
    "source 'https://rubygems.org'\n\ngem 'rake'\ngem 'minitest', '~> 5.15'\ngem 'test-unit'\n";

/// The lock Bundler 2.3.15 wrote for [`BUNDLER_GEMFILE`] (`bundle lock`),
/// with `aarch64-linux` added to its platforms
/// (`bundle lock --add-platform aarch64-linux`).
pub const BUNDLER_LOCK: &str = "GEM\n  remote: https://rubygems.org/\n  specs:\n    minitest (5.15.0)\n    power_assert (2.0.1)\n    rake (13.0.6)\n    test-unit (3.5.3)\n      power_assert\n\nPLATFORMS\n  aarch64-linux\n  x86_64-linux\n\nDEPENDENCIES\n  minitest (~> 5.15)\n  rake\n  test-unit\n\nBUNDLED WITH\n   2.3.15\n";

/// The `bundle install` hoist proposed for `df` in a context of `files`
/// ([`BUNDLER_GEMFILE`] and [`BUNDLER_LOCK`] unless replaced, `.git`
/// ignored): its applicability and reason, and the text rewritten with
/// `Safe` changes.
pub fn bundler_hoist(
    df: &str,
    files: &[(&str, &str)],
) -> (dockreorder::plan::Applicability, String, String) {
    let (hoist, text) = bundler_rewrite(df, files);
    let (app, reason) = hoist.expect("the hoist is proposed");
    (app, reason, text)
}

/// As [`bundler_hoist`], the hoist when one is proposed.
pub fn bundler_rewrite(
    df: &str,
    files: &[(&str, &str)],
) -> (Option<(dockreorder::plan::Applicability, String)>, String) {
    let defaults = [
        ("Gemfile", BUNDLER_GEMFILE),
        ("Gemfile.lock", BUNDLER_LOCK),
        (".dockerignore", ".git\n"),
        ("lib/app.rb", "puts 1\n"),
    ];
    hoist_proposal(&defaults, df, files)
}

/// The hoist proposed for `df` in a context of `defaults` with `files`
/// replacing or adding to them, if any (its applicability and reason),
/// and the text rewritten with `Safe` changes.
pub fn hoist_proposal(
    defaults: &[(&str, &str)],
    df: &str,
    files: &[(&str, &str)],
) -> (Option<(dockreorder::plan::Applicability, String)>, String) {
    use dockreorder::plan::{Applicability, ChangeKind, Options};
    let mut all: Vec<(&str, &str)> = defaults.to_vec();
    for (name, text) in files {
        all.retain(|(n, _)| n != name);
        all.push((name, text));
    }
    let dir = project(&all);
    let ctx = dockreorder::analysis::context::Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    let out = dockreorder::rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
        .expect("rewrite");
    let c = out
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::Hoist)
        .map(|c| (c.applicability, c.reason.clone()));
    (c, out.new_text)
}

/// An npm project with a lock and no install script, for the heredoc
/// tests (recall and soundness).
pub const HEREDOC_NPM: &[(&str, &str)] = &[
    (
        "package.json",
        "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
    ),
    (
        "package-lock.json",
        "{\"lockfileVersion\":3,\"packages\":{}}",
    ),
    ("src/index.js", "x\n"),
    (".dockerignore", ".git\nnode_modules\n"),
];

/// A pnpm 10 project (pnpm-lock.yaml made by pnpm 10.12.1) depending on
/// esbuild 0.21.5, whose install script pnpm 10 runs only where a setting
/// allows it; `allow` is spliced into package.json after its
/// dependencies (`,"pnpm":{…}`). For the pnpm 10 recall and soundness
/// tests.
pub fn pnpm_ten_esbuild(allow: &str) -> Vec<(String, String)> {
    vec![
        (
            "package.json".to_string(),
            format!(
                "{{\"name\":\"a\",\"version\":\"1.0.0\",\"packageManager\":\"pnpm@10.12.1\",\"dependencies\":{{\"esbuild\":\"0.21.5\"}}{allow}}}"
            ),
        ),
        ("pnpm-lock.yaml".to_string(), pnpm_ten_lock("0.21.5", "")),
        ("index.js".to_string(), "x\n".to_string()),
        (
            ".dockerignore".to_string(),
            ".git\nnode_modules\n".to_string(),
        ),
    ]
}

/// A version 9 lock of esbuild `version` (with its Linux binary package),
/// and `more` appended to its `packages`.
pub fn pnpm_ten_lock(version: &str, more: &str) -> String {
    format!(
        "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n  .:\n    dependencies:\n      esbuild:\n        specifier: {version}\n        version: {version}\n\npackages:\n\n  '@esbuild/linux-x64@{version}':\n    resolution: {{integrity: sha512-1rYdTpyv03iycF1+BhzrzQJCdOuAOtaqHTWJZCWvijKD2N5Xu0TtVC8/+1faWqcP9iBCWOmjmhoH94dH82BxPQ==}}\n    engines: {{node: '>=12'}}\n    cpu: [x64]\n    os: [linux]\n\n  esbuild@{version}:\n    resolution: {{integrity: sha512-mg3OPMV4hXywwpoDxu3Qda5xCKQi+vCTZq8S9J/EpkhB2HzKXq4SNFZE3+NK93JYxc8VMSep+lOUSC/RVKaBqw==}}\n    engines: {{node: '>=12'}}\n    hasBin: true\n{more}\nsnapshots:\n\n  '@esbuild/linux-x64@{version}':\n    optional: true\n\n  esbuild@{version}:\n    optionalDependencies:\n      '@esbuild/linux-x64': {version}\n"
    )
}

/// An npm project depending on @parcel/watcher `version`, whose lock (made
/// by npm 10 in shape; the integrity is a stand-in) marks it
/// `hasInstallScript`: 2.5.0-2.6.0's script does nothing unless
/// `build-from-source` is set. For the known-scripts tests.
pub fn parcel_watcher_project(version: &str) -> Vec<(String, String)> {
    let package = format!(
        "{{\"name\":\"w\",\"version\":\"1.0.0\",\"dependencies\":{{\"@parcel/watcher\":\"{version}\"}}}}\n"
    );
    let lock = format!(
        "{{\n  \"name\": \"w\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {{\n    \"\": {{\n      \"name\": \"w\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {{\n        \"@parcel/watcher\": \"{version}\"\n      }}\n    }},\n    \"node_modules/@parcel/watcher\": {{\n      \"version\": \"{version}\",\n      \"resolved\": \"https://registry.npmjs.org/@parcel/watcher/-/watcher-{version}.tgz\",\n      \"integrity\": \"sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\",\n      \"hasInstallScript\": true,\n      \"license\": \"MIT\"\n    }}\n  }}\n}}\n"
    );
    vec![
        ("package.json".to_string(), package),
        ("package-lock.json".to_string(), lock),
        (
            "index.js".to_string(),
            "require('@parcel/watcher');\n".to_string(),
        ),
        (
            ".dockerignore".to_string(),
            ".git\nnode_modules\n".to_string(),
        ),
    ]
}

/// An npm project as npm 11 writes its lock with
/// `omit-lockfile-registry-resolved` set: no entry has a `resolved` URL
/// (npm fetches `NAME@VERSION` from the registry). A production
/// dependency with a nested older `ms`, `semver` with a `bin` and
/// `engines`, dev dependencies (h-npm69; scouts 66 and 68 had such locks).
pub const NO_RESOLVED_PACKAGE: &str = r#"{
  "name": "parcel-tracker",
  "version": "1.0.0",
  "private": true,
  "license": "MIT",
  "dependencies": {
    "debug": "^2.6.9",
    "semver": "^7.6.0"
  },
  "devDependencies": {
    "is-number": "^7.0.0",
    "ms": "^2.1.3"
  }
}
"#;

/// The lock of [`NO_RESOLVED_PACKAGE`], as npm 11.19.1 wrote it.
pub const NO_RESOLVED_LOCK: &str = r#"{
  "name": "parcel-tracker",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "parcel-tracker",
      "version": "1.0.0",
      "license": "MIT",
      "dependencies": {
        "debug": "^2.6.9",
        "semver": "^7.6.0"
      },
      "devDependencies": {
        "is-number": "^7.0.0",
        "ms": "^2.1.3"
      }
    },
    "node_modules/debug": {
      "version": "2.6.9",
      "integrity": "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==",
      "license": "MIT",
      "dependencies": {
        "ms": "2.0.0"
      }
    },
    "node_modules/debug/node_modules/ms": {
      "version": "2.0.0",
      "integrity": "sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==",
      "license": "MIT"
    },
    "node_modules/is-number": {
      "version": "7.0.0",
      "integrity": "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==",
      "dev": true,
      "license": "MIT",
      "engines": {
        "node": ">=0.12.0"
      }
    },
    "node_modules/ms": {
      "version": "2.1.3",
      "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
      "dev": true,
      "license": "MIT"
    },
    "node_modules/semver": {
      "version": "7.8.6",
      "integrity": "sha512-9lpSSU4Mly3mrtruwLs1eLK6+gzbzqeBFwRNjIjE+9LuDpWdYctrQlQ3ej1Ilgi7gknpsTRnPoLP8DpCHqHIJw==",
      "license": "ISC",
      "bin": {
        "semver": "bin/semver.js"
      },
      "engines": {
        "node": ">=10"
      }
    }
  }
}
"#;
