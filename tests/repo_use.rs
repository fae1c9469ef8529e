//! Whole-repository use: configuration, pragmas, SARIF and Markdown
//! output, and bot mode on real temporary repositories.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support;

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(p, text).expect("write");
}

const PIP_DF: &str = "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n";

/// A repository with two services and a few commits.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    support::git(d, &["init", "-q", "-b", "main"]);
    support::git(d, &["config", "user.name", "Dev"]);
    support::git(d, &["config", "user.email", "dev@example.com"]);
    for svc in ["api", "worker"] {
        write(d, &format!("{svc}/Dockerfile"), PIP_DF);
        write(d, &format!("{svc}/requirements.txt"), "flask\n");
        write(d, &format!("{svc}/app.py"), "print(1)\n");
        write(d, &format!("{svc}/.dockerignore"), "Dockerfile\n");
    }
    support::git(d, &["add", "-A"]);
    support::git(d, &["commit", "-q", "-m", "init"]);
    for i in 0..3 {
        write(d, "api/app.py", &format!("print({i})\n"));
        support::git(d, &["commit", "-q", "-am", &format!("api {i}")]);
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(support::bin())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run dockreorder")
}

#[test]
fn config_unknown_key_is_an_error_with_location() {
    let dir = repo();
    write(
        dir.path(),
        ".dockreorder.yaml",
        "max_commits: 10\nexclud:\n  - worker/**\n",
    );
    let out = run(dir.path(), &["--check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".dockreorder.yaml:2:1: unknown field `exclud`"),
        "{err}"
    );
    // A bad date is located too.
    write(
        dir.path(),
        ".dockreorder.yaml",
        "max_commits: 10\nsince: last tuesday\n",
    );
    let out = run(dir.path(), &["--check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".dockreorder.yaml:2:1: since:"));
    // --config pointing nowhere.
    let out = run(dir.path(), &["--config", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.yaml:1:1: cannot read config"));
}

#[test]
fn config_exclude_context_and_commands() {
    let dir = repo();
    let d = dir.path();
    write(d, ".dockreorder.yaml", "exclude: [\"worker/**\"]\n");
    let out = run(d, &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let paths: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(paths, ["./api/Dockerfile"]);
    // Extra command knowledge makes an unknown installer movable.
    write(
        d,
        "api/Dockerfile",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN fetch-deps --lock deps.lock\n",
    );
    write(d, "api/deps.lock", "x\n");
    let out = run(d, &["--check", "api/Dockerfile"]);
    assert_eq!(out.status.code(), Some(0), "unknown command: nothing moves");
    write(
        d,
        ".dockreorder.yaml",
        "commands:\n  - command: [fetch-deps]\n    option_reads: [--lock]\n    writes: [/opt/deps/**]\n    positional: none\n    cost: install\n",
    );
    let out = run(d, &["--check", "api/Dockerfile"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(d, &["api/Dockerfile"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("+COPY deps.lock ./"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Per-Dockerfile context: a context without the manifests moves nothing.
    write(
        d,
        ".dockreorder.yaml",
        "dockerfiles:\n  worker/Dockerfile:\n    context: api/..\n",
    );
    let out = run(d, &["--check", "worker/Dockerfile"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn reads_pragma_declares_what_a_run_reads() {
    let dir = repo();
    let d = dir.path();
    let df = "FROM base\nWORKDIR /app\nCOPY . .\n# dockreorder: reads=requirements.txt\nRUN ./install.sh\n";
    write(d, "api/Dockerfile", df);
    write(d, "api/install.sh", "#!/bin/sh\n");
    let out = run(d, &["--format", "json", "api/Dockerfile"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let changes = v[0]["changes"].as_array().expect("changes");
    let hoist = changes
        .iter()
        .find(|c| c["kind"] == "hoist")
        .expect("a hoist is proposed");
    assert_eq!(hoist["applicability"], "unsafe");
    assert!(
        hoist["reason"]
            .as_str()
            .unwrap_or("")
            .contains("what it writes is not known"),
        "{hoist}"
    );
    // Without the pragma the RUN is not understood and nothing is proposed.
    write(
        d,
        "api/Dockerfile",
        &df.replace("# dockreorder: reads=requirements.txt\n", ""),
    );
    let out = run(d, &["--format", "json", "api/Dockerfile"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        v[0]["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .all(|c| c["kind"] != "hoist")
    );
    // With --unsafe the declared reads are copied first.
    write(d, "api/Dockerfile", df);
    let out = run(d, &["--unsafe", "api/Dockerfile"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("+COPY requirements.txt ./"));
}

#[test]
fn sarif_has_the_required_fields_and_a_fix() {
    let dir = repo();
    let out = run(dir.path(), &["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    // SARIF 2.1.0 required properties: sarifLog.version and runs;
    // run.tool; tool.driver; toolComponent.name; result.message;
    // message.text (or id); artifactChange.artifactLocation and
    // replacements; replacement.deletedRegion; fix.artifactChanges.
    assert_eq!(v["version"], "2.1.0");
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "dockreorder");
    let rule_ids: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    let results = runs[0]["results"].as_array().expect("results");
    assert_eq!(
        results.len(),
        2,
        "one result per proposed change (api and worker)"
    );
    for r in results {
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(rule_ids.contains(&r["ruleId"].as_str().expect("ruleId")));
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .is_some_and(|u| u.ends_with("Dockerfile"))
        );
        assert!(loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1));
        let fix = &r["fixes"][0];
        let change = &fix["artifactChanges"][0];
        assert!(change["artifactLocation"]["uri"].is_string());
        let rep = &change["replacements"][0];
        assert!(rep["deletedRegion"]["startLine"].as_u64().is_some());
        assert!(
            rep["insertedContent"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("COPY requirements.txt ./"))
        );
    }
}

#[test]
fn markdown_body_snapshot() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/pipenv");
    let out = Command::new(support::bin())
        .args(["--format", "markdown", "--no-history", "Dockerfile"])
        .current_dir(&sample)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let body = String::from_utf8_lossy(&out.stdout);
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/pr-body.md");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, body.as_bytes()).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(&snap).expect("snapshot (UPDATE_SNAPSHOTS=1 to create)");
    assert_eq!(body, expected);
    assert!(body.starts_with("<!-- dockreorder:pull-request -->"));
    assert!(body.contains("<details><summary>Diff</summary>"));
}

#[test]
fn bot_commits_onto_a_branch_without_touching_the_work_tree() {
    let dir = repo();
    let d = dir.path();
    // A dirty work tree: an uncommitted edit to a Dockerfile and a new file.
    let dirty = PIP_DF.replace("CMD", "EXPOSE 8000\nCMD");
    write(d, "worker/Dockerfile", &dirty);
    write(d, "notes.txt", "scratch\n");
    let head_before = support::git(d, &["rev-parse", "HEAD"]);
    let status_before = support::git(d, &["status", "--porcelain"]);
    let out = run(
        d,
        &[
            "--commit",
            "--branch",
            "bot/reorder",
            "--pr-body",
            "pr.md",
            "--author",
            "Bot <bot@example.com>",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // HEAD, the index and the work tree are as they were (plus pr.md).
    assert_eq!(support::git(d, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(
        support::git(d, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/main"
    );
    let status_after = support::git(d, &["status", "--porcelain"]);
    assert_eq!(status_after.replace("?? pr.md\n", ""), status_before);
    assert_eq!(
        std::fs::read_to_string(d.join("worker/Dockerfile")).expect("read"),
        dirty
    );
    // The branch: one commit on top of HEAD, touching only the Dockerfiles.
    let files = support::git(d, &["diff", "--name-only", "main", "bot/reorder"]);
    assert_eq!(files, "api/Dockerfile\nworker/Dockerfile\n");
    assert_eq!(support::git(d, &["rev-parse", "bot/reorder^"]), head_before);
    let committed = support::git(d, &["show", "bot/reorder:worker/Dockerfile"]);
    assert!(
        !committed.contains("EXPOSE 8000"),
        "the uncommitted edit must not leak in"
    );
    assert!(committed.contains("COPY requirements.txt ./\nRUN pip install"));
    assert_eq!(
        support::git(d, &["log", "-1", "--format=%an <%ae>", "bot/reorder"]).trim(),
        "Bot <bot@example.com>"
    );
    let body = std::fs::read_to_string(d.join("pr.md")).expect("pr body");
    assert!(body.contains("<!-- dockreorder:pull-request -->"));
    // Idempotent: a second run keeps the same commit and body.
    let tip = support::git(d, &["rev-parse", "bot/reorder"]);
    std::fs::rename(d.join("pr.md"), d.join("pr1.md")).expect("mv");
    let out = run(
        d,
        &[
            "--commit",
            "--branch",
            "bot/reorder",
            "--pr-body",
            "pr.md",
            "--author",
            "Bot <bot@example.com>",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(support::git(d, &["rev-parse", "bot/reorder"]), tip);
    assert_eq!(
        std::fs::read_to_string(d.join("pr.md")).expect("body"),
        std::fs::read_to_string(d.join("pr1.md")).expect("body")
    );
}

#[test]
fn bot_makes_no_branch_when_nothing_changes() {
    let dir = repo();
    let d = dir.path();
    for svc in ["api", "worker"] {
        write(
            d,
            &format!("{svc}/Dockerfile"),
            "FROM base\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n",
        );
    }
    support::git(d, &["commit", "-q", "-am", "well ordered"]);
    let out = run(d, &["--commit", "--pr-body", "pr.md"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing to change: no branch, no commit")
    );
    assert_eq!(
        support::git(d, &["branch", "--list", "dockreorder/reorder"]),
        ""
    );
    assert!(!d.join("pr.md").exists(), "no diff, no body");
}

#[test]
fn ci_samples_are_valid_yaml_and_run_the_bot() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/ci");
    for f in [
        "github-workflow.yml",
        "gitlab-ci.yml",
        ".pre-commit-hooks.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).expect("read");
        let v: serde_yaml::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!v.is_null(), "{f}");
        if f == ".pre-commit-hooks.yaml" {
            assert!(text.contains("dockreorder --check"));
        } else {
            assert!(
                text.contains("dockreorder --commit --branch dockreorder/reorder --pr-body pr.md"),
                "{f}"
            );
        }
    }
}
