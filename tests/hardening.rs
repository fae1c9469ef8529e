//! Issue #12 (hardening): data loss, repository damage, hangs and bad input.
//! Each test here failed before its fix.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support;

const PIP_DF: &str = "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n";

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(p, text).expect("write");
}

/// A repository whose Dockerfile dockreorder would change, with a few commits.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    support::git(d, &["init", "-q", "-b", "main"]);
    support::git(d, &["config", "user.name", "Dev"]);
    support::git(d, &["config", "user.email", "dev@example.com"]);
    write(d, "Dockerfile", PIP_DF);
    write(d, "requirements.txt", "flask\n");
    write(d, "app.py", "print(0)\n");
    support::git(d, &["add", "-A"]);
    support::git(d, &["commit", "-q", "-m", "init"]);
    for i in 1..4 {
        write(d, "app.py", &format!("print({i})\n"));
        support::git(d, &["commit", "-q", "-am", &format!("app {i}")]);
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(support::bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run dockreorder")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[track_caller]
fn assert_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2; stderr: {err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

const BOT: &[&str] = &["--commit", "--author", "Bot <bot@example.com>"];

fn bot(dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&str> = BOT.to_vec();
    args.extend_from_slice(extra);
    run(dir, &args)
}

// ---- bot mode: branches it does not own ---------------------------------

#[test]
fn bot_refuses_to_reset_a_branch_with_commits_of_its_own() {
    let dir = repo();
    let d = dir.path();
    support::git(d, &["checkout", "-q", "-b", "feature"]);
    for i in 0..3 {
        write(d, "feature.txt", &format!("{i}\n"));
        support::git(d, &["add", "-A"]);
        support::git(d, &["commit", "-q", "-m", &format!("feature {i}")]);
    }
    support::git(d, &["checkout", "-q", "main"]);
    let tip = support::git(d, &["rev-parse", "feature"]);
    let out = bot(d, &["--branch", "feature", "--pr-body", "pr.md"]);
    assert_error(&out, "feature");
    assert!(stderr(&out).contains("--force-branch"), "{}", stderr(&out));
    assert_eq!(
        support::git(d, &["rev-parse", "feature"]),
        tip,
        "branch untouched"
    );
    assert!(!d.join("pr.md").exists(), "nothing written after an error");
    // With --force-branch the user takes responsibility.
    let out = bot(d, &["--branch", "feature", "--force-branch"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        support::git(d, &["rev-parse", "feature^"]),
        support::git(d, &["rev-parse", "main"])
    );
}

#[test]
fn bot_updates_its_own_branch_after_head_moves() {
    let dir = repo();
    let d = dir.path();
    let out = bot(d, &["--branch", "bot/reorder"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first = support::git(d, &["rev-parse", "bot/reorder"]);
    // HEAD moves on: the bot's branch (a bot commit on an ancestor of HEAD)
    // is the bot's to update.
    write(d, "app.py", "print(99)\n");
    support::git(d, &["commit", "-q", "-am", "more"]);
    let out = bot(d, &["--branch", "bot/reorder"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_ne!(support::git(d, &["rev-parse", "bot/reorder"]), first);
    assert_eq!(
        support::git(d, &["rev-parse", "bot/reorder^"]),
        support::git(d, &["rev-parse", "main"])
    );
    // A branch that is an ancestor of HEAD (nothing of its own) may move too.
    support::git(d, &["branch", "old", "main~2"]);
    let out = bot(d, &["--branch", "old"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Someone adds a commit on top of the bot's commit: no longer the bot's.
    support::git(d, &["checkout", "-q", "bot/reorder"]);
    write(d, "review.txt", "fixup\n");
    support::git(d, &["add", "-A"]);
    support::git(d, &["commit", "-q", "-m", "review fixup"]);
    support::git(d, &["checkout", "-q", "main"]);
    let tip = support::git(d, &["rev-parse", "bot/reorder"]);
    let out = bot(d, &["--branch", "bot/reorder"]);
    assert_error(&out, "--force-branch");
    assert_eq!(support::git(d, &["rev-parse", "bot/reorder"]), tip);
}

#[test]
fn bot_refuses_branch_names_git_refuses_before_any_work() {
    let dir = repo();
    let d = dir.path();
    for name in ["HEAD", "-x", "refs/heads/x", "a..b", "x.lock", "@", ""] {
        let flag = format!("--branch={name}");
        let out = bot(d, &[&flag]);
        assert_error(&out, "branch");
        assert!(
            !stderr(&out).contains("history"),
            "{name}: validated before the walk: {}",
            stderr(&out)
        );
    }
    assert_eq!(
        support::git(d, &["for-each-ref", "--format=%(refname)"]),
        "refs/heads/main\n"
    );
}

#[test]
fn bot_writes_the_pr_body_only_after_the_commit() {
    let dir = repo();
    let d = dir.path();
    // The branch cannot be created: a file is in the way of its ref.
    support::git(d, &["branch", "bot"]);
    let out = bot(d, &["--branch", "bot/reorder", "--pr-body", "pr.md"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!d.join("pr.md").exists(), "no PR body for a failed commit");
}

#[test]
fn check_with_commit_and_empty_message_are_refused() {
    let dir = repo();
    let d = dir.path();
    let out = bot(d, &["--check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--check"), "{}", stderr(&out));
    let out = bot(d, &["--message", ""]);
    assert_error(&out, "--message");
    let out = bot(d, &["--message", "  \n"]);
    assert_error(&out, "--message");
    assert_eq!(
        support::git(d, &["branch", "--list", "dockreorder/reorder"]),
        ""
    );
}

// ---- --write and what is on disk -----------------------------------------

#[test]
fn write_through_a_symlink_inside_the_repository() {
    let dir = repo();
    let d = dir.path();
    std::fs::create_dir_all(d.join("docker")).expect("mkdir");
    std::fs::rename(d.join("Dockerfile"), d.join("docker/Dockerfile.real")).expect("mv");
    std::os::unix::fs::symlink("docker/Dockerfile.real", d.join("Dockerfile")).expect("ln");
    let out = run(d, &["--write", "--no-history", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let meta = std::fs::symlink_metadata(d.join("Dockerfile")).expect("stat");
    assert!(meta.file_type().is_symlink(), "the link stays a link");
    let text = std::fs::read_to_string(d.join("docker/Dockerfile.real")).expect("read");
    assert!(text.contains("COPY requirements.txt ./"), "{text}");
}

#[test]
fn write_refuses_a_symlink_that_leaves_the_repository() {
    let dir = repo();
    let d = dir.path();
    let outside = tempfile::tempdir().expect("tempdir");
    write(outside.path(), "Dockerfile", PIP_DF);
    std::fs::remove_file(d.join("Dockerfile")).expect("rm");
    std::os::unix::fs::symlink(outside.path().join("Dockerfile"), d.join("Dockerfile"))
        .expect("ln");
    let out = run(d, &["--write", "--no-history", "Dockerfile"]);
    assert_error(&out, "outside");
    assert_eq!(
        std::fs::read_to_string(outside.path().join("Dockerfile")).expect("read"),
        PIP_DF
    );
    assert!(
        std::fs::symlink_metadata(d.join("Dockerfile"))
            .expect("stat")
            .file_type()
            .is_symlink()
    );
}

#[test]
fn write_keeps_the_owner_and_reports_a_broken_hard_link() {
    use std::os::unix::fs::MetadataExt;
    let dir = repo();
    let d = dir.path();
    let df = d.join("Dockerfile");
    let me = std::fs::metadata(&df).expect("stat");
    if me.uid() == 0 {
        // As root the rewritten file must stay someone else's.
        std::os::unix::fs::chown(&df, Some(4321), Some(4321)).expect("chown");
    }
    let before = std::fs::metadata(&df).expect("stat");
    std::fs::hard_link(&df, d.join("Dockerfile.hardlink")).expect("ln");
    let out = run(d, &["--write", "--no-history", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = std::fs::metadata(&df).expect("stat");
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert!(
        std::fs::read_to_string(&df)
            .expect("read")
            .contains("COPY requirements.txt ./")
    );
    assert!(stderr(&out).contains("hard link"), "{}", stderr(&out));
}

#[test]
fn a_fifo_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("Dockerfile");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let mut child = Command::new(support::bin())
        .args(["--no-history", "Dockerfile"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dockreorder blocked on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    assert_error(&out, "not a regular file");
    // parse and explain too, and a FIFO as the config
    std::fs::write(dir.path().join("real.Dockerfile"), PIP_DF).expect("write");
    for sub in [
        &["parse", "Dockerfile"][..],
        &["explain", "Dockerfile"][..],
        &["--config", "Dockerfile", "real.Dockerfile"][..],
    ] {
        let mut child = Command::new(support::bin())
            .args(sub)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let start = Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{sub:?} blocked on a FIFO");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().expect("output");
        assert_error(&out, "not a regular file");
    }
}

// ---- bad input -------------------------------------------------------------

#[test]
fn history_options_are_checked() {
    let dir = repo();
    let d = dir.path();
    assert_error(&run(d, &["--max-commits", "0"]), "--max-commits");
    for bad in [
        "2024-02-31",
        "2023-02-29",
        "2024-01-01garbage",
        "2024-01-01T10:00",
        "2099-01-01",
        "2024-1-1x",
    ] {
        let out = run(d, &["--since", bad]);
        assert_error(&out, "--since");
        assert!(stderr(&out).contains(bad), "{bad}: {}", stderr(&out));
    }
    // A leap day is a date.
    let out = run(d, &["--since", "2024-02-29"]);
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    // A walk that finds no commit says so instead of silently estimating.
    let t = Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(d)
        .output()
        .expect("git");
    let newest: i64 = String::from_utf8_lossy(&t.stdout)
        .trim()
        .parse()
        .expect("time");
    let since = (newest + 1).to_string();
    let out = run(d, &["--since", &since]);
    assert!(
        stderr(&out).contains("no commit"),
        "exit {:?}: {}",
        out.status.code(),
        stderr(&out)
    );
}

#[test]
fn config_values_are_checked_with_locations() {
    let dir = repo();
    let d = dir.path();
    for (yaml, needle) in [
        ("costs:\n  install: -5\n", ".dockreorder.yaml:2:"),
        ("costs:\n  run: .nan\n", ".dockreorder.yaml:2:"),
        ("costs:\n  cheap: .inf\n", ".dockreorder.yaml:2:"),
        ("unsafe: false\nsince: 2024-02-31\n", ".dockreorder.yaml:2:"),
        ("max_commits: 0\n", ".dockreorder.yaml:1:"),
        (
            "dockerfiles:\n  Dockerfile:\n    context: /nonexistent\n",
            ".dockreorder.yaml:3:",
        ),
    ] {
        write(d, ".dockreorder.yaml", yaml);
        let out = run(d, &["--check"]);
        assert_error(&out, needle);
    }
    write(
        d,
        ".dockreorder.yaml",
        "dockerfiles:\n  Dockerfile:\n    context: /nonexistent\n",
    );
    assert_error(&run(d, &["--check"]), "does not exist");
}

#[test]
fn context_must_be_an_existing_directory() {
    let dir = repo();
    let d = dir.path();
    let out = run(d, &["--context", "nope"]);
    assert_error(&out, "does not exist");
    assert!(!stderr(&out).contains("outside"), "{}", stderr(&out));
    assert_error(&run(d, &["--context", "Dockerfile"]), "not a directory");
    assert_error(
        &run(d, &["explain", "--context", "nope", "Dockerfile"]),
        "does not exist",
    );
}

#[test]
fn output_that_cannot_be_written_is_an_error() {
    let dir = repo();
    let d = dir.path();
    if !Path::new("/dev/full").exists() {
        support::skip("no /dev/full");
        return;
    }
    for args in [
        &["--no-history"][..],
        &["--no-history", "--format", "json"][..],
        &["parse", "Dockerfile"][..],
        &["explain", "--no-history", "Dockerfile"][..],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        let out = Command::new(support::bin())
            .args(args)
            .current_dir(d)
            .stdout(full)
            .output()
            .expect("run");
        assert_error(&out, "standard output");
    }
    // A reader that goes away (a pager, `head`) is not an error.
    let mut child = Command::new(support::bin())
        .args(["parse", "Dockerfile"])
        .current_dir(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn utf16_and_mistyped_pragmas_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut bytes = vec![0xff, 0xfe];
    for u in "FROM base\n".encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(d.join("Dockerfile"), bytes).expect("write");
    let out = run(d, &["--no-history", "Dockerfile"]);
    assert_error(&out, "UTF-16");
    let out = run(d, &["parse", "Dockerfile"]);
    assert_error(&out, "UTF-16");
    write(
        d,
        "Dockerfile",
        "FROM base\nCOPY . .\n# dockreorder: kep\nRUN make\n",
    );
    let out = run(d, &["--no-history", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("Dockerfile:3:"), "{err}");
    assert!(err.contains("kep"), "{err}");
    assert!(
        err.contains("keep") && err.contains("ignore-file") && err.contains("reads="),
        "{err}"
    );
    // The known pragmas are not warned about.
    write(
        d,
        "Dockerfile",
        "FROM base\n# dockreorder: keep\nCOPY . .\n# dockreorder: reads=a,b\nRUN make\n",
    );
    let out = run(d, &["--no-history", "Dockerfile"]);
    assert!(!stderr(&out).contains("pragma"), "{}", stderr(&out));
}

#[test]
fn no_dockerfile_found_says_where_it_looked() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "sub/README", "nothing here\n");
    let out = run(dir.path(), &["sub"]);
    assert_error(&out, "no Dockerfile found");
    assert!(stderr(&out).contains("sub"), "{}", stderr(&out));
}

// ---- explain and verify ------------------------------------------------------

#[test]
fn explain_and_verify_take_the_history_options() {
    let dir = repo();
    let d = dir.path();
    let out = run(d, &["explain", "--max-commits", "2", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("history: 2 commits walked"),
        "{}",
        stdout(&out)
    );
    let out = run(d, &["explain", "--no-history", "Dockerfile"]);
    assert!(stdout(&out).contains("history: none"), "{}", stdout(&out));
    let out = run(d, &["explain", "--since", "2024-02-31", "Dockerfile"]);
    assert_error(&out, "--since");
    let out = Command::new(support::bin())
        .args(["verify", "--no-history", "--max-commits", "3", "Dockerfile"])
        .current_dir(d)
        .env("DOCKER", "/nonexistent/docker")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn verify_says_first_that_no_engine_answers_and_names_the_users_files() {
    let dir = repo();
    let d = dir.path();
    let out = Command::new(support::bin())
        .args(["verify", "--no-history", "Dockerfile"])
        .current_dir(d)
        .env("DOCKER", "/nonexistent/docker")
        .output()
        .expect("run");
    assert_error(&out, "no Docker engine");
    assert!(!stdout(&out).contains("building"), "{}", stdout(&out));
    // An engine that answers but fails the build: the message names the
    // user's Dockerfile, not a temporary copy.
    let fake = d.join("fake-docker");
    write(
        d,
        "fake-docker",
        "#!/bin/sh\ncase \"$1\" in\n  version|info) echo 27.0; exit 0;;\n  *) echo \"ERROR: failed to solve\" >&2; exit 1;;\nesac\n",
    );
    let mut perms = std::fs::metadata(&fake).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&fake, perms).expect("chmod");
    let out = Command::new(support::bin())
        .args(["verify", "--no-history", "Dockerfile"])
        .current_dir(d)
        .env("DOCKER", &fake)
        .output()
        .expect("run");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Dockerfile"), "{err}");
    assert!(!err.contains("Dockerfile.original"), "{err}");
    assert!(!err.contains("/tmp"), "{err}");
    assert!(err.contains("failed to solve"), "{err}");
}

// ---- visible skips ------------------------------------------------------------

/// Skips when `DOCKREORDER_SKIP_PROBE` is set; run only as a child of
/// `skips_are_counted_after_the_test_result_line`.
#[test]
fn skip_probe() {
    if std::env::var_os("DOCKREORDER_SKIP_PROBE").is_some() {
        support::skip("probe for the skip summary");
    }
}

#[test]
fn skips_are_counted_after_the_test_result_line() {
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(&exe)
        .args(["hardening::skip_probe", "--exact", "--test-threads", "2"])
        .env("DOCKREORDER_SKIP_PROBE", "1")
        .env_remove("DOCKREORDER_STRICT")
        .output()
        .expect("run the test binary");
    let all = stdout(&out) + &stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        stdout(&out).contains("test result: ok. 1 passed"),
        "the line CI reads is intact: {all}"
    );
    assert!(
        all.contains("1 test skipped") && all.contains("probe for the skip summary"),
        "{all}"
    );
    assert!(
        all.contains("hardening::skip_probe"),
        "names the test: {all}"
    );
    // Strict mode still turns the skip into a failure.
    let out = Command::new(&exe)
        .args(["hardening::skip_probe", "--exact"])
        .env("DOCKREORDER_SKIP_PROBE", "1")
        .env("DOCKREORDER_STRICT", "1")
        .output()
        .expect("run the test binary");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("test result: FAILED"),
        "{}",
        stdout(&out)
    );
}
