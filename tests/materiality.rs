//! Issue 10: only changes worth a pull request. BuildKit's cache semantics
//! (metadata instructions invalidate nothing), the materiality threshold,
//! plans that do not change with the length of the walked history, the net
//! report with original lines, layout after a move, and honest PR texts.

use std::path::Path;
use std::process::Command;

use dockreorder::analysis::context::Context;
use dockreorder::analysis::history::{Repo, WalkOptions};
use dockreorder::plan::{Applicability, ChangeKind, Options};
use dockreorder::rewrite;

use crate::support;

use crate::support::project;

const PY: &[(&str, &str)] = &[
    ("requirements.txt", "flask\n"),
    ("app.py", "print(1)\n"),
    ("src/m.py", "x = 1\n"),
];

/// A repository made with `git fast-import`: `n` commits; the first adds
/// `dockerfile` and `requirements.txt`; each commit changes a source file,
/// every `manifest_every`-th also `requirements.txt`, and every
/// `dockerfile_every`-th (if any) rewrites the Dockerfile with
/// `edit(i)` (an edit of one instruction's text).
fn generated(
    n: usize,
    dockerfile: &str,
    manifest_every: usize,
    edit: Option<(usize, &dyn Fn(usize) -> String)>,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    let ok = Command::new("git")
        .args(["init", "-q"])
        .arg(path)
        .status()
        .expect("git init")
        .success();
    assert!(ok);
    let mut s = String::new();
    let blob = |s: &mut String, name: &str, body: &str| {
        s.push_str(&format!(
            "M 100644 inline {name}\ndata {}\n{body}\n",
            body.len()
        ));
    };
    for i in 0..n {
        let t = 1_600_000_000 + 60 * i;
        s.push_str(&format!(
            "commit refs/heads/main\nmark :{}\ncommitter t <t@example.com> {t} +0000\ndata 2\nc\n",
            i + 1
        ));
        if i > 0 {
            s.push_str(&format!("from :{i}\n"));
        } else {
            blob(&mut s, "Dockerfile", dockerfile);
            blob(&mut s, "requirements.txt", "flask\n");
        }
        blob(
            &mut s,
            &format!("src/m{}.py", i % 17),
            &format!("v = {i}\n"),
        );
        if i > 0 && i % manifest_every == 0 {
            blob(&mut s, "requirements.txt", &format!("flask=={i}\n"));
        }
        if let Some((every, f)) = &edit
            && i > 0
            && i % every == 0
        {
            blob(&mut s, "Dockerfile", &f(i));
        }
    }
    support::fast_import(path, &s);
    let ok = Command::new("git")
        .args(["checkout", "-q", "-f", "main"])
        .current_dir(path)
        .status()
        .expect("checkout")
        .success();
    assert!(ok);
    dir
}

fn rewrite_with_walk(dir: &Path, df: &str, max: Option<usize>) -> rewrite::Outcome {
    let dockerfile = dir.join("Dockerfile");
    let repo = Repo::discover(&dockerfile).expect("repository");
    let h = repo
        .walk(
            &dockerfile,
            dir,
            &WalkOptions {
                max_commits: max,
                ..WalkOptions::default()
            },
        )
        .expect("walk");
    let ctx = Context::new(dir.to_path_buf(), Some(&dockerfile));
    rewrite::rewrite_with(df, Some(&ctx), Some(&h), Options::new(Applicability::Safe))
        .expect("rewrite")
}

#[test]
fn metadata_edits_never_move_anything() {
    // The LABEL is edited in every other commit: under the classic
    // builder every step after it would rebuild, under BuildKit none does.
    let df = |v: usize| {
        format!(
            "FROM base\nLABEL version=\"{v}\"\nEXPOSE 80\nSTOPSIGNAL SIGTERM\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
        )
    };
    let last = 119;
    let dir = generated(120, &df(0), 1000, Some((2, &|i| df(i))));
    let head = std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read");
    assert_eq!(head, df(last - last % 2));
    let out = rewrite_with_walk(dir.path(), &head, None);
    assert_eq!(out.new_text, head, "{:#?}", out.changes);
    // Metadata in an odd order is left alone too, statically.
    let p = project(PY);
    let df = "FROM base\nEXPOSE 80\nLABEL a=b\nSTOPSIGNAL SIGINT\nWORKDIR /app\nCOPY . .\nCMD [\"python\"]\nLABEL c=d\n";
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
    assert_eq!(out.new_text, df);
}

#[test]
fn changes_below_the_threshold_are_not_made() {
    let p = project(PY);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    // The hoist saves about 87% of the static expected cost.
    let mut opts = Options::new(Applicability::Safe);
    opts.min_saving = 0.95;
    let out = rewrite::rewrite(df, Some(&ctx), opts).expect("rw");
    assert_eq!(out.new_text, df, "95% is not reached");
    assert!(out.changes.iter().all(|c| !c.applied));
    opts.min_saving = 0.10;
    let out = rewrite::rewrite(df, Some(&ctx), opts).expect("rw");
    assert_ne!(out.new_text, df, "10% is");
    // A cheap step is never moved for itself: two copies that could trade
    // places for a smaller copy cost stay as they are.
    let df =
        "FROM base\nWORKDIR /app\nCOPY src/ ./src/\nCOPY requirements.txt ./\nCMD [\"python\"]\n";
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
    assert_eq!(out.new_text, df);
}

#[test]
fn the_same_proposal_at_200_1000_and_all_commits() {
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\"]\n";
    let dir = generated(1500, df, 37, None);
    let all = rewrite_with_walk(dir.path(), df, None);
    assert_ne!(all.new_text, df, "the hoist is worth it");
    for max in [200, 1000] {
        let out = rewrite_with_walk(dir.path(), df, Some(max));
        assert_eq!(out.new_text, all.new_text, "--max-commits {max}");
    }
}

#[test]
fn the_report_is_the_net_edit_with_original_lines() {
    let p = project(PY);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    // The merge removes line 3 before the hoist is planned: the hoist is
    // still reported at its original line 6, above line 5.
    let df = "FROM base\nWORKDIR /app\nRUN apt-get update\nRUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nCOPY . .\nRUN pip install -r requirements.txt\n";
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
    let merge = out
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::MergeUpdate)
        .expect("merge");
    assert_eq!(merge.line, 3);
    let hoist = out
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::Hoist && c.applied)
        .expect("hoist");
    assert_eq!(hoist.line, 6, "{}", hoist.summary);
    assert!(hoist.summary.contains("(line 5)"), "{}", hoist.summary);
    // Each instruction is reported at most once.
    let mut seen = std::collections::BTreeSet::new();
    for c in out.changes.iter().filter(|c| c.kind != ChangeKind::Advice) {
        assert!(
            seen.insert((c.line, c.kind as u8)),
            "twice: {:#?}",
            out.changes
        );
    }
}

#[test]
fn a_moved_instruction_takes_its_comments_and_blank_lines_keep_their_rhythm() {
    let p = project(PY);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let df = "FROM base\nWORKDIR /app\n\n# The sources\nCOPY . .\n\n# System packages\nRUN apt-get update && apt-get install -y curl\n\nCMD [\"python\"]\n";
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
    assert_eq!(
        out.new_text,
        "FROM base\nWORKDIR /app\n\n# System packages\nRUN apt-get update && apt-get install -y curl\n\n# The sources\nCOPY . .\n\nCMD [\"python\"]\n"
    );
}

#[test]
fn pr_body_says_only_what_was_checked() {
    let p = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"x\":\"1\"}}",
        ),
        ("package-lock.json", "{}"),
        ("index.js", ""),
        (
            "Dockerfile",
            "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm install\n",
        ),
    ]);
    let body = |extra: &[&str]| {
        let mut args = vec!["--format", "markdown", "--no-history"];
        args.extend_from_slice(extra);
        args.push("Dockerfile");
        let out = Command::new(support::bin())
            .args(&args)
            .current_dir(p.path())
            .output()
            .expect("run");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Without --unsafe the Unsafe hoist is left out and named as such.
    let safe = body(&[]);
    assert!(!safe.contains("images stay the same"), "{safe}");
    assert!(!safe.contains("identical"), "{safe}");
    assert!(safe.contains("Left out as Unsafe"), "{safe}");
    // With --unsafe it is applied, marked Unsafe, with what it risks.
    let risky = body(&["--unsafe"]);
    assert!(risky.contains("**Unsafe**"), "{risky}");
    assert!(risky.contains("not proven to keep the image"), "{risky}");
    assert!(risky.contains("risk: "), "{risky}");
    assert!(!risky.contains("identical"), "{risky}");
    // The remedy never asks to .dockerignore a file the hoisted COPY needs.
    assert!(
        !risky.contains("`package-lock.json` to .dockerignore"),
        "{risky}"
    );
}

#[test]
fn merges_duplicates_and_repeated_passes_still_verify() {
    // Found by the build fuzzer (seed 4242): these made the tool refuse to
    // write, its own checks matching instructions of the wrong place.
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("requirements-dev.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        ("package.json", "{\"name\":\"a\"}"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    for df in [
        // A merged update, and the same install text again later.
        "FROM base\nWORKDIR /usr/src/app\nCOPY . .\nRUN apt-get update\nRUN apt-get install -y curl\nRUN pip install -r requirements-dev.txt\nRUN apt-get install -y curl\nRUN echo \"$HOME\" > home.txt\n",
        // The inserted COPY reads like one the stage already has.
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nRUN pip install six==1.16.0\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY requirements.txt ./\n",
    ] {
        let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe));
        let out = out.unwrap_or_else(|e| panic!("{}\n{df}", e.message));
        // A second run changes nothing.
        let again = rewrite::rewrite(&out.new_text, Some(&ctx), Options::new(Applicability::Safe))
            .expect("second run");
        assert_eq!(again.new_text, out.new_text);
    }
}

#[test]
fn advice_that_helps() {
    let p = project(PY);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let df = "FROM base AS a\nCOPY . /a\nFROM base\nCOPY . /b\nADD https://example.invalid/x.tgz /x\nADD --checksum=sha256:0123 https://example.invalid/y.tgz /y\nADD https://example.invalid/repo.git#v1.0 /repo\nADD git@example.invalid:o/r.git#main /r\n";
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
    let advice: Vec<&str> = out
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Advice)
        .map(|c| c.summary.as_str())
        .collect();
    assert_eq!(
        advice
            .iter()
            .filter(|s| s.contains("no .dockerignore"))
            .count(),
        1,
        "{advice:?}"
    );
    let urls: Vec<&&str> = advice.iter().filter(|s| s.contains("adds a URL")).collect();
    assert_eq!(urls.len(), 1, "only the unpinned URL: {advice:?}");
    assert!(urls[0].contains("x.tgz"), "{advice:?}");
}

#[test]
fn sarif_fixes_are_disjoint_and_give_the_write_output() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/pipenv");
    let dir = tempfile::tempdir().expect("tempdir");
    for f in ["Dockerfile", "Pipfile", "Pipfile.lock", "app.py"] {
        std::fs::copy(sample.join(f), dir.path().join(f)).expect("copy");
    }
    let out = Command::new(support::bin())
        .args(["--format", "sarif", "--no-history", "Dockerfile"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let results = v["runs"][0]["results"].as_array().expect("results").clone();
    let applied = results
        .iter()
        .filter(|r| r["properties"]["applied"] == true)
        .count();
    assert!(applied >= 2, "two hoists: {results:#?}");
    // Issue 9: each applied change carries its own fix; the fixes of the
    // file are disjoint and applying all of them gives the --write output.
    let fixes: Vec<&serde_json::Value> = results
        .iter()
        .filter_map(|r| r["fixes"].as_array())
        .flatten()
        .collect();
    assert_eq!(fixes.len(), applied, "one fix per applied change");
    let original = std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read");
    let offset = |line: u64, column: u64| -> usize {
        let start: usize = original
            .split_inclusive('\n')
            .take(line as usize - 1)
            .map(str::len)
            .sum();
        let rest = &original[start..];
        // Columns are UTF-16 code units (SARIF's default); ASCII here.
        start
            + rest
                .char_indices()
                .nth(column as usize - 1)
                .map_or(rest.len(), |(k, _)| k)
    };
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for f in &fixes {
        for rep in f["artifactChanges"][0]["replacements"]
            .as_array()
            .expect("replacements")
        {
            let r = &rep["deletedRegion"];
            let n = |k: &str| r[k].as_u64().expect(k);
            edits.push((
                offset(n("startLine"), n("startColumn")),
                offset(n("endLine"), n("endColumn")),
                rep["insertedContent"]["text"]
                    .as_str()
                    .expect("text")
                    .to_string(),
            ));
        }
    }
    edits.sort();
    for w in edits.windows(2) {
        let same_insert = w[0].0 == w[0].1 && w[1].0 == w[1].1 && w[0].0 == w[1].0;
        assert!(w[0].1 <= w[1].0 && !same_insert, "disjoint: {edits:?}");
    }
    let mut fixed = String::new();
    let mut at = 0;
    for (s, e, t) in &edits {
        fixed.push_str(&original[at..*s]);
        fixed.push_str(t);
        at = *e;
    }
    fixed.push_str(&original[at..]);
    let status = Command::new(support::bin())
        .args(["--write", "--no-history", "-q", "Dockerfile"])
        .current_dir(dir.path())
        .status()
        .expect("write");
    assert!(status.success());
    let written = std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read");
    assert_eq!(fixed, written);
}

#[test]
fn the_bot_commit_message_says_only_what_was_checked() {
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        (
            "Dockerfile",
            "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        ),
    ]);
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(p.path())
            .output()
            .expect("git")
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["-c", "user.name=a", "-c", "user.email=a@b", "add", "-A"]);
    git(&[
        "-c",
        "user.name=a",
        "-c",
        "user.email=a@b",
        "commit",
        "-qm",
        "init",
    ]);
    let out = Command::new(support::bin())
        .args([
            "--commit",
            "--branch",
            "dockreorder/reorder",
            "--author",
            "bot <bot@example.com>",
            "--no-history",
        ])
        .current_dir(p.path())
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = git(&["log", "-1", "--format=%B", "dockreorder/reorder"]);
    let msg = String::from_utf8_lossy(&log.stdout);
    assert!(
        msg.contains("proven safe under dockreorder's effects model"),
        "{msg}"
    );
    assert!(msg.contains("not built"), "{msg}");
    assert!(!msg.contains("images are unchanged"), "{msg}");
}

/// scout67: the blank line above the broad copy went down with it, so the
/// install hoisted into its place joined the paragraph above (`RUN
/// useradd …` directly followed by `COPY requirements.txt /app/`) and the
/// copy stood alone below. A paragraph break stays where it was when what
/// moves up into the copy's place has none, and the copy joins the
/// paragraph it lands in; what moves up with its own blank lines, or a
/// copy with comments above it, still moves whole.
#[test]
fn the_paragraph_break_above_the_broad_copy_stays_where_it_was() {
    let p = project(PY);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let rw = |df: &str| {
        rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
            .expect("rw")
            .new_text
    };
    // The install after the copy in the same paragraph, a paragraph break
    // above the copy.
    assert_eq!(
        rw(
            "FROM base\nRUN useradd -m worker\n\nCOPY . /app\nWORKDIR /app\nRUN pip install -r requirements.txt\n\nUSER worker\n"
        ),
        "FROM base\nRUN useradd -m worker\n\nCOPY requirements.txt /app/\nWORKDIR /app\nRUN pip install -r requirements.txt\nCOPY . /app\n\nUSER worker\n"
    );
    // A comment of the install's stays above it, the paragraph break
    // above that.
    assert_eq!(
        rw(
            "FROM base\nWORKDIR /app\n\nCOPY . .\n# dependencies\nRUN pip install -r requirements.txt\n\nCMD [\"python\"]\n"
        ),
        "FROM base\nWORKDIR /app\n\n# dependencies\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n\nCMD [\"python\"]\n"
    );
    // The install's own paragraph moves whole.
    assert_eq!(
        rw(
            "FROM base\nWORKDIR /app\nCOPY . .\n\nRUN pip install -r requirements.txt\n\nCMD [\"python\"]\n"
        ),
        "FROM base\nWORKDIR /app\n\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n\nCMD [\"python\"]\n"
    );
}

/// An install a user expects to move but that stays below the broad copy
/// was passed over in silence, even with `-v` (only `explain` said why):
/// `-v` now says, per install, the first condition that failed, and
/// nothing for an install that moved. Without `-v` one line names the
/// dependency installs that stay (held-out scouts 69 and 70: a file with
/// nothing to change printed nothing while its installs reran on every
/// commit), not the steps the knowledge base does not know as installs.
#[test]
fn a_verbose_run_says_why_an_install_stays_below_the_broad_copy() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN --mount=type=secret,id=pipconf,target=/etc/pip.conf \\\n    pip install --no-cache-dir -r requirements.txt\nRUN ./tools/setup.sh\nCMD [\"python\", \"app.py\"]\n",
        ),
        ("requirements.txt", "flask==3.0.3\n"),
        ("tools/setup.sh", "#!/bin/sh\necho hi\n"),
        ("app.py", "print(1)\n"),
        (
            "web/Dockerfile",
            "FROM node:20-slim\nWORKDIR /srv\nCOPY . .\nRUN npm install -g nodemon@3.1.4\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n",
        ),
        (
            "web/package.json",
            "{\"name\":\"w\",\"version\":\"1.0.0\",\"dependencies\":{}}\n",
        ),
        (
            "web/package-lock.json",
            "{\"name\":\"w\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{\"\":{\"name\":\"w\",\"version\":\"1.0.0\"}}}\n",
        ),
        ("web/index.js", "console.log(1)\n"),
        (
            "ok/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
        ),
        ("ok/requirements.txt", "flask==3.0.3\n"),
        ("ok/app.py", "print(1)\n"),
    ]);
    let run = |args: &[&str], df: &str| {
        let out = Command::new(support::bin())
            .args(args)
            .arg("--no-history")
            .arg(dir.path().join(df))
            .output()
            .expect("run dockreorder");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let py = run(&["-v"], "Dockerfile");
    assert!(
        py.contains(
            ":4: kept below `COPY . .` (line 3): not followed: a secret mounted at `/etc/pip.conf`"
        ),
        "{py}"
    );
    assert!(py.contains(":6: kept below `COPY . .` (line 3): not followed: `./tools/setup.sh` is not in the command knowledge base"), "{py}");
    let web = run(&["-v"], "web/Dockerfile");
    assert!(
        web.contains(
            ":4: kept below `COPY . .` (line 3): it may read /srv/**, where the copy ships `"
        ),
        "{web}"
    );
    assert!(
        web.contains(":5: kept below `COPY . .` (line 3): it depends on `RUN npm install -g nodemon@3.1.4` (line 4), between the copy and it, which stays below the copy"),
        "{web}"
    );
    // The install that moves is not listed; without `-v` nothing is.
    let ok = run(&["-v"], "ok/Dockerfile");
    assert!(ok.contains("[safe] moved `RUN pip install"), "{ok}");
    assert!(!ok.contains("kept below"), "{ok}");
    assert!(!run(&[], "Dockerfile").contains("kept below"));
    assert!(!run(&[], "web/Dockerfile").contains("kept below"));
    let web = run(&[], "web/Dockerfile");
    assert!(
        web.contains("/Dockerfile: 2 installs stay below a broad copy and rerun when any copied file changes (lines 4, 5); -v says why\n"),
        "{web}"
    );
    // Steps it does not follow (a secret mount, `./tools/setup.sh`) are
    // not known as installs: only `-v` lists them.
    let py = run(&[], "Dockerfile");
    assert!(!py.contains("below a broad copy"), "{py}");
    let ok = run(&[], "ok/Dockerfile");
    assert!(!ok.contains("below a broad copy"), "{ok}");
    // `-v` gives the reasons instead.
    assert!(!run(&["-v"], "web/Dockerfile").contains("-v says why"));
}

/// scout68: the remedy of an Unsafe hoist said "adding `.venv` to
/// .dockerignore" where the Dockerfile's own ignore file
/// (`Dockerfile.dockerignore`, which BuildKit reads instead) was in force
/// and the root `.dockerignore` already listed it: the remedy names the
/// file in force.
#[test]
fn a_remedy_names_the_ignore_file_in_force() {
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let mut files = vec![
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}\n",
        ),
        ("node_modules/ms/index.js", "x\n"),
        ("index.js", "x\n"),
        ("Dockerfile.dockerignore", "*.md\n"),
        (".dockerignore", "node_modules\n"),
    ];
    let (change, _) = support::hoist_proposal(&[], df, &files);
    let (app, reason) = change.expect("a hoist is reported");
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    assert!(
        reason.contains("adding `node_modules` to Dockerfile.dockerignore would make it safe"),
        "{reason}"
    );
    // Without the Dockerfile's own, the root one is named.
    files.retain(|(n, _)| *n != "Dockerfile.dockerignore" && *n != ".dockerignore");
    files.push((".dockerignore", "*.md\n"));
    let (change, _) = support::hoist_proposal(&[], df, &files);
    let (_, reason) = change.expect("a hoist is reported");
    assert!(
        reason.contains("adding `node_modules` to .dockerignore would make it safe"),
        "{reason}"
    );
}

/// scout68: `dockreorder --no-history explain FILE` read `explain` as a
/// Dockerfile and said only "no such file or directory": the error says
/// how to run the subcommand.
#[test]
fn a_subcommand_after_an_option_says_how_to_run_it() {
    let dir = project(PY);
    std::fs::write(dir.path().join("Dockerfile"), "FROM python:3.12\n").expect("write");
    let out = Command::new(support::bin())
        .current_dir(dir.path())
        .args(["--no-history", "explain", "Dockerfile"])
        .output()
        .expect("run dockreorder");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("explain:1:1: no such file or directory (to run `explain`, name it first: `dockreorder explain [OPTIONS] FILE`)"),
        "{err}"
    );
    let ok = Command::new(support::bin())
        .current_dir(dir.path())
        .args(["explain", "--no-history", "Dockerfile"])
        .output()
        .expect("run dockreorder");
    assert!(ok.status.success(), "{ok:?}");
}

/// `-v`'s list of installs kept below a copy left out every install
/// below a copy another install was hoisted above, and a reason could
/// name as blocking an install the rewrite did move: the kept installs
/// are checked with the moved ones gone from between.
#[test]
fn a_verbose_run_lists_what_stays_beside_what_moved() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nRUN ./tools/setup.sh\nCMD [\"python\", \"app.py\"]\n",
        ),
        ("requirements.txt", "flask==3.0.3\n"),
        ("tools/setup.sh", "#!/bin/sh\necho hi\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let out = Command::new(support::bin())
        .args(["-v", "--no-history"])
        .arg(dir.path().join("Dockerfile"))
        .output()
        .expect("run dockreorder");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[safe] moved `RUN pip install"), "{err}");
    assert!(
        err.contains(":5: kept below `COPY . .` (line 3): not followed: `./tools/setup.sh` is not in the command knowledge base"),
        "{err}"
    );
    assert!(!err.contains(":4: kept below"), "{err}");
}

/// scout68's go-mod-verify: the comment above `COPY . .` said why go.mod
/// is copied before the download ("pre-copy/cache go.mod …"); it stayed
/// with the broad copy, under the install it was written for. A comment
/// that names a file the inserted COPY copies stays where it stood, above
/// that COPY; one that names none describes the broad copy and moves with
/// it.
#[test]
fn a_comment_naming_the_manifests_stays_above_their_copy() {
    let p = project(&[
        ("go.mod", "module example.com/app\n\ngo 1.22\n"),
        ("go.sum", ""),
        ("main.go", "package main\n\nfunc main() {}\n"),
        (".dockerignore", ".git\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let rw = |df: &str| {
        rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
            .expect("rw")
            .new_text
    };
    let df = "FROM golang:1.22\n\nWORKDIR /usr/src/app\n\n# pre-copy/cache go.mod for pre-downloading dependencies\nCOPY . .\nRUN go mod download && go mod verify\n\nRUN go build -v -o /usr/local/bin/app .\n";
    assert_eq!(
        rw(df),
        "FROM golang:1.22\n\nWORKDIR /usr/src/app\n\n# pre-copy/cache go.mod for pre-downloading dependencies\nCOPY go.mod go.sum ./\nRUN go mod download && go mod verify\nCOPY . .\n\nRUN go build -v -o /usr/local/bin/app .\n"
    );
    // The comment names no manifest (`go.models` is not `go.mod`): it is
    // the copy's, and goes down with it, with its blank line; the slot
    // keeps the paragraph break too.
    let df = "FROM golang:1.22\n\nWORKDIR /usr/src/app\n\n# copy the sources and go.models\nCOPY . .\nRUN go mod download && go mod verify\n\nRUN go build -v -o /usr/local/bin/app .\n";
    assert_eq!(
        rw(df),
        "FROM golang:1.22\n\nWORKDIR /usr/src/app\n\nCOPY go.mod go.sum ./\nRUN go mod download && go mod verify\n\n# copy the sources and go.models\nCOPY . .\n\nRUN go build -v -o /usr/local/bin/app .\n"
    );
}

/// scout69's py-sqlserver-done: merging a lone `RUN apt-get update` that
/// stood between blank lines into the install left two blank lines where
/// one stood. One goes with it; an update with no blank line after it
/// leaves the one above alone.
#[test]
fn a_merged_update_between_blank_lines_leaves_one() {
    let p = project(&[("requirements.txt", "six==1.16.0\n"), ("app.py", "x\n")]);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let rw = |df: &str| {
        rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
            .expect("rw")
            .new_text
    };
    assert_eq!(
        rw(
            "FROM python:3.12\n\nRUN apt-get update\n\n# odbc headers\nRUN apt-get install -y unixodbc-dev\n\nCMD [\"python\"]\n"
        ),
        "FROM python:3.12\n\n# odbc headers\nRUN apt-get update && apt-get install -y unixodbc-dev\n\nCMD [\"python\"]\n"
    );
    assert_eq!(
        rw(
            "FROM python:3.12\n\nRUN apt-get update\nRUN apt-get install -y unixodbc-dev\n\nCMD [\"python\"]\n"
        ),
        "FROM python:3.12\n\nRUN apt-get update && apt-get install -y unixodbc-dev\n\nCMD [\"python\"]\n"
    );
    // CRLF the same way.
    assert_eq!(
        rw(
            "FROM python:3.12\r\n\r\nRUN apt-get update\r\n\r\nRUN apt-get install -y unixodbc-dev\r\n"
        ),
        "FROM python:3.12\r\n\r\nRUN apt-get update && apt-get install -y unixodbc-dev\r\n"
    );
}

/// scout69's py-custom-add: the broad copy left with its blank line and
/// comment, and the `WORKDIR` that moved up into its place had none, so
/// the inserted `COPY` was glued under the multi-line apt `RUN`. A comment
/// heads a paragraph wherever it goes: the slot keeps a blank line too.
#[test]
fn a_copy_leaving_with_its_comment_leaves_the_paragraph_break() {
    let p = project(&[
        ("requirements.txt", "gunicorn==23.0.0\n"),
        ("main.py", "app = None\n"),
        (".dockerignore", ".git\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let rw = |df: &str| {
        rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
            .expect("rw")
            .new_text
    };
    let df = "FROM python:3.12-slim\n\nRUN apt-get update && \\\n    apt-get install --no-install-recommends -y libpq5 && \\\n    rm -rf /var/lib/apt/lists/*\n\n# Add the application source code.\nADD . /app\nWORKDIR /app\n\nRUN pip install -r requirements.txt\n\nENTRYPOINT [\"gunicorn\", \"main:app\"]\n";
    assert_eq!(
        rw(df),
        "FROM python:3.12-slim\n\nRUN apt-get update && \\\n    apt-get install --no-install-recommends -y libpq5 && \\\n    rm -rf /var/lib/apt/lists/*\n\nCOPY requirements.txt /app/\nWORKDIR /app\n\nRUN pip install -r requirements.txt\n\n# Add the application source code.\nADD . /app\n\nENTRYPOINT [\"gunicorn\", \"main:app\"]\n"
    );
    // CRLF the same way.
    let crlf = df.replace('\n', "\r\n");
    assert_eq!(
        rw(&crlf),
        "FROM python:3.12-slim\r\n\r\nRUN apt-get update && \\\r\n    apt-get install --no-install-recommends -y libpq5 && \\\r\n    rm -rf /var/lib/apt/lists/*\r\n\r\nCOPY requirements.txt /app/\r\nWORKDIR /app\r\n\r\nRUN pip install -r requirements.txt\r\n\r\n# Add the application source code.\r\nADD . /app\r\n\r\nENTRYPOINT [\"gunicorn\", \"main:app\"]\r\n"
    );
    // Without a blank line above the copy's comment none is made.
    let df = "FROM python:3.12-slim\nRUN apt-get update\n# Add the application source code.\nADD . /app\nWORKDIR /app\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        rw(df),
        "FROM python:3.12-slim\nRUN apt-get update\nCOPY requirements.txt /app/\nWORKDIR /app\nRUN pip install -r requirements.txt\n# Add the application source code.\nADD . /app\n"
    );
}

/// scout69's py-seed-split: the comment above a split `RUN` went up with
/// the install although it describes the rest (`python make-data.py`),
/// which was left without it, glued under the broad copy. A comment that
/// names nothing of the install stays with the rest, in the `RUN`'s place,
/// after the blank line that stood above it; one about the install
/// (`# install the dependencies, then …`) goes up with the install.
#[test]
fn a_split_leaves_a_comment_about_the_rest_with_the_rest() {
    let p = project(&[
        ("requirements.txt", "requests==2.32.3\n"),
        ("make-data.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let rw = |df: &str| {
        rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
            .expect("rw")
            .new_text
    };
    let df = "FROM python:3.12-slim\n\nWORKDIR /seed\n\nCOPY . .\n\n# create POST data files with ab friendly formats\nRUN pip install --no-cache-dir -r requirements.txt && python make-data.py\n\nCMD [\"python\"]\n";
    assert_eq!(
        rw(df),
        "FROM python:3.12-slim\n\nWORKDIR /seed\n\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\n\nCOPY . .\n\n# create POST data files with ab friendly formats\nRUN python make-data.py\n\nCMD [\"python\"]\n"
    );
    let crlf = df.replace('\n', "\r\n");
    assert_eq!(
        rw(&crlf),
        "FROM python:3.12-slim\r\n\r\nWORKDIR /seed\r\n\r\nCOPY requirements.txt ./\r\nRUN pip install --no-cache-dir -r requirements.txt\r\n\r\nCOPY . .\r\n\r\n# create POST data files with ab friendly formats\r\nRUN python make-data.py\r\n\r\nCMD [\"python\"]\r\n"
    );
    // About the install: it goes up with it.
    let df = "FROM python:3.12-slim\n\nWORKDIR /seed\n\nCOPY . .\n\n# Install the dependencies, then make the data\nRUN pip install --no-cache-dir -r requirements.txt && python make-data.py\n";
    assert_eq!(
        rw(df),
        "FROM python:3.12-slim\n\nWORKDIR /seed\n\n# Install the dependencies, then make the data\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\n\nCOPY . .\nRUN python make-data.py\n"
    );
}

/// Reasons name what was matched (held-out scout70): an apt install under
/// `WORKDIR /srv/report` was refused as "may rewrite
/// `docker/apt-packages.txt`", a file apt is not known to write; the
/// pattern it may write (`/srv/**`: maintainer scripts make directories
/// there) is said. A shipped symbolic link was named `constraints.txt/**`;
/// it is `constraints.txt`. A lock that names the project itself with an
/// install script says so, not "lists `the project`".
#[test]
fn reasons_name_the_pattern_the_link_and_the_project() {
    let dir = project(&[
        (
            "apt/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /srv/report\nCOPY . .\nRUN apt-get update && apt-get install -y $(cat apt-packages.txt)\n",
        ),
        ("apt/apt-packages.txt", "jq\n"),
        ("apt/main.py", "print(1)\n"),
        ("apt/.dockerignore", ".git\n"),
        (
            "link/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n",
        ),
        ("link/requirements.txt", "-c constraints.txt\nrequests\n"),
        ("link/deploy/constraints-prod.txt", "requests==2.32.3\n"),
        ("link/main.py", "print(1)\n"),
        ("link/.dockerignore", ".git\n"),
        (
            "npm/Dockerfile",
            "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        ),
        (
            "npm/package.json",
            "{\"name\":\"w\",\"version\":\"1.0.0\",\"dependencies\":{}}\n",
        ),
        (
            "npm/package-lock.json",
            "{\"name\":\"w\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{\"\":{\"name\":\"w\",\"version\":\"1.0.0\",\"hasInstallScript\":true}}}\n",
        ),
        ("npm/index.js", "console.log(1)\n"),
        ("npm/.dockerignore", ".git\n"),
        (
            "rust/Dockerfile",
            "FROM rust:1.79\nWORKDIR /usr/src/relay\nCOPY . .\nRUN apt-get update && apt-get install -y libssl-dev\nRUN cargo build --release\n",
        ),
        ("rust/Cargo.toml", "[package]\nname = \"relay\"\n"),
        ("rust/.dockerignore", ".git\n"),
    ]);
    std::os::unix::fs::symlink(
        "deploy/constraints-prod.txt",
        dir.path().join("link/constraints.txt"),
    )
    .expect("symlink");
    let run = |df: &str| {
        let out = Command::new(support::bin())
            .args(["-v", "--no-history"])
            .arg(dir.path().join(df))
            .output()
            .expect("run dockreorder");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let apt = run("apt/Dockerfile");
    assert!(
        apt.contains("may rewrite `apt-packages.txt` (it may write `/srv/**`), which it reads"),
        "{apt}"
    );
    let link = run("link/Dockerfile");
    assert!(link.contains("ships `constraints.txt`,"), "{link}");
    assert!(!link.contains("constraints.txt/**"), "{link}");
    let rust = run("rust/Dockerfile");
    assert!(
        rust.contains("may write (`/usr/src/[^a]*/**`: the base image is not one whose apt sources are known to be Debian's alone (the official python, node, ruby, golang and debian images)), so moving the install above the copy"),
        "{rust}"
    );
    let npm = run("npm/Dockerfile");
    assert!(
        npm.contains("package-lock.json lists the project itself with an install script"),
        "{npm}"
    );
}

/// Layout of a merged lone update (scout70 review): a comment right above
/// `RUN apt-get update`, a blank line, then the install. The merge removed
/// the update's line only, so its comment was left above a blank line,
/// cut off from the merged `RUN`, and the reorder then carried it above
/// the next instruction (`RUN pip install`). The comment heads the merged
/// `RUN`; with a comment between the two, nothing of it is dropped.
#[test]
fn a_comment_above_a_merged_update_heads_the_merged_install() {
    let p = project(&[("read.py", "0\n"), (".dockerignore", ".git\n")]);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let rw = |df: &str| {
        rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
            .expect("rw")
            .new_text
    };
    let df = "FROM python:3.12-slim\nWORKDIR /pipeline\nCOPY . ./\n\n# refresh the package lists\nRUN apt-get update\n\nRUN apt-get install -y --no-install-recommends curl\nRUN pip install --no-cache-dir six==1.16.0\nCMD [\"python\", \"read.py\"]\n";
    assert_eq!(
        rw(df),
        "FROM python:3.12-slim\nWORKDIR /pipeline\n\n# refresh the package lists\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nRUN pip install --no-cache-dir six==1.16.0\nCOPY . ./\nCMD [\"python\", \"read.py\"]\n"
    );
    // Nothing to move: the merge alone.
    let df = "FROM debian:bookworm-slim\n# refresh the package lists\nRUN apt-get update\n\n\nRUN apt-get install -y curl\n";
    assert_eq!(
        rw(df),
        "FROM debian:bookworm-slim\n# refresh the package lists\nRUN apt-get update && apt-get install -y curl\n"
    );
    // A comment of the install's own between them stays.
    let df = "FROM debian:bookworm-slim\n# refresh the package lists\nRUN apt-get update\n\n# curl for the health check\nRUN apt-get install -y curl\n";
    let out = rw(df);
    assert!(out.contains("# refresh the package lists\n"), "{out}");
    assert!(
        out.contains(
            "# curl for the health check\nRUN apt-get update && apt-get install -y curl\n"
        ),
        "{out}"
    );
}

/// Review 70: an install kept below the broad copy because a pip
/// configuration written by a `RUN` may name a shipped path was explained
/// with "a pip or uv configuration copied before it names a local path":
/// it was not copied, and its content was not read. `-v` says which line
/// wrote it and how, and that a configuration named by a variable not
/// known here may be any file written before.
#[test]
fn a_kept_install_names_the_line_that_wrote_its_pip_configuration() {
    let dir = project(&[
        (
            "run/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nRUN printf '[global]\\nfind-links = /app/wheels\\n' > /srv/pip.conf\nENV PIP_CONFIG_FILE=/srv/pip.conf\nCOPY . .\nRUN pip install -r requirements.txt\n",
        ),
        ("run/requirements.txt", "six==1.16.0\n"),
        (
            "copy/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY pip.conf /etc/pip.conf\nCOPY . .\nRUN pip install -r requirements.txt\n",
        ),
        ("copy/pip.conf", "[global]\nfind-links = /app/wheels\n"),
        ("copy/requirements.txt", "six==1.16.0\n"),
        (
            "var/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN export PIP_CONFIG_FILE=\"$(ls /srv/*.ini)\" && pip install -r requirements.txt\n",
        ),
        ("var/requirements.txt", "six==1.16.0\n"),
    ]);
    let run = |df: &str| {
        let out = Command::new(support::bin())
            .args(["-v", "--no-history"])
            .arg(dir.path().join(df))
            .output()
            .expect("run dockreorder");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run("run/Dockerfile");
    assert!(
        err.contains(":6: kept below `COPY . .` (line 5): a pip or uv configuration that line 3 writes (content not read here) may name a local path the copy ships\n"),
        "{err}"
    );
    let err = run("copy/Dockerfile");
    assert!(
        err.contains(":5: kept below `COPY . .` (line 4): a pip or uv configuration that line 3 copies may name a local path the copy ships\n"),
        "{err}"
    );
    let err = run("var/Dockerfile");
    assert!(
        err.contains(":4: kept below `COPY . .` (line 3): "),
        "{err}"
    );
    assert!(!err.contains("[safe]"), "{err}");
}

/// `--format json` carried no word of the installs left below a broad
/// copy (only the text report did, with `-v` or in one line): a bot or a
/// CI job reading the JSON could not tell a file whose installs rerun on
/// every commit from one with nothing to gain. Each file's object lists
/// them under `kept`, with the reason `-v` prints.
#[test]
fn json_lists_the_installs_kept_below_the_broad_copy() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY pip.conf /etc/pip.conf\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nRUN --mount=type=secret,id=s,target=/etc/s.conf ./build.sh\nCMD [\"python\", \"app.py\"]\n",
        ),
        ("pip.conf", "[global]\nfind-links = /app/wheels\n"),
        ("requirements.txt", "flask==3.0.3\n"),
        ("app.py", "print(1)\n"),
        (
            "ok/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n",
        ),
        ("ok/requirements.txt", "flask==3.0.3\n"),
    ]);
    let out = Command::new(support::bin())
        .args(["--no-history", "--format", "json"])
        .arg(dir.path().join("Dockerfile"))
        .arg(dir.path().join("ok/Dockerfile"))
        .output()
        .expect("run dockreorder");
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let kept = &v[0]["kept"];
    assert_eq!(kept.as_array().map(Vec::len), Some(2), "{v}");
    assert_eq!(kept[0]["line"], 5, "{v}");
    assert_eq!(kept[0]["below"], "COPY . .", "{v}");
    assert_eq!(kept[0]["below_line"], 4, "{v}");
    assert_eq!(kept[0]["install"], true, "{v}");
    assert_eq!(
        kept[0]["instruction"], "RUN pip install --no-cache-dir -r requirements.txt",
        "{v}"
    );
    assert_eq!(
        kept[0]["reason"],
        "a pip or uv configuration that line 3 copies may name a local path the copy ships",
        "{v}"
    );
    // A step it does not follow is listed, not as an install.
    assert_eq!(kept[1]["line"], 6, "{v}");
    assert_eq!(kept[1]["install"], false, "{v}");
    assert!(
        kept[1]["reason"]
            .as_str()
            .is_some_and(|s| s.starts_with("not followed: ")),
        "{v}"
    );
    assert_eq!(v[1]["kept"], serde_json::json!([]), "{v}");
}

/// Corpus (python-docs-samples' streaming_beam): `pip install -r F && pip
/// download -r F` read one file twice, and `-v` named it twice ("none of
/// the files it reads (/template/requirements.txt,
/// /template/requirements.txt)").
#[test]
fn a_file_two_commands_read_is_named_once() {
    let dir = project(&[(
        "Dockerfile",
        "FROM python:3.12-slim\nENV REQ=/template/requirements.txt\nCOPY . /template\nRUN pip install --no-cache-dir -r $REQ && pip download --no-cache-dir --dest /tmp/cache -r $REQ\n",
    )]);
    let out = Command::new(support::bin())
        .args(["-v", "--no-history"])
        .arg(dir.path().join("Dockerfile"))
        .output()
        .expect("run dockreorder");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":4: kept below `COPY . /template` (line 3): the copy ships none of the files it reads (/template/requirements.txt)\n"),
        "{err}"
    );
}

/// scout71 review: a reason about an install that reads sources named the
/// Dockerfile as the shipped source ("it may read /src/**, where the copy
/// ships `Dockerfile`", the name sorts first); it names a file of the
/// project when there is one. And "has a `editable` source" is "an".
#[test]
fn reasons_name_a_project_file_and_read_as_english() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /src\nCOPY . .\nRUN pip install .\n",
        ),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
        (
            "uv/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen --no-install-project\n",
        ),
        (
            "uv/pyproject.toml",
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"lib\"]\n",
        ),
        (
            "uv/uv.lock",
            "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [{ name = \"lib\" }]\n\n[[package]]\nname = \"lib\"\nversion = \"0.1.0\"\nsource = { editable = \"libs/lib\" }\n",
        ),
        ("uv/libs/lib/x.py", "1\n"),
    ]);
    let run = |df: &str| {
        let out = Command::new(support::bin())
            .args(["-v", "--no-history"])
            .arg(dir.path().join(df))
            .output()
            .expect("run dockreorder");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run("Dockerfile");
    assert!(
        err.contains(
            "it may read /src/**, where the copy ships `app.py`, which is not one of its manifests"
        ),
        "{err}"
    );
    let err = run("uv/Dockerfile");
    assert!(err.contains("uv.lock has an `editable` source"), "{err}");
    assert!(!err.contains(" a `editable`"), "{err}");
}

/// scout71 review: an install in a compound `RUN` whose split was refused
/// was explained by the whole `RUN` ("not followed: `npm run` is not in
/// the command knowledge base"), not by what refused the split (the rest
/// deletes what the install wrote; the install may hard-link what it
/// installs and the rest runs code not read). `-v` says both, the split
/// first.
#[test]
fn a_refused_split_says_why_the_install_was_not_split_off() {
    let lock = |deps: &str, pkgs: &str| {
        format!(
            "{{\"name\":\"y\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"y\",\"version\":\"1.0.0\",\"dependencies\":{{{deps}}}}}{pkgs}}}}}\n"
        )
    };
    let esbuild = lock(
        "\"esbuild\":\"0.21.5\"",
        ",\"node_modules/esbuild\":{\"version\":\"0.21.5\",\"resolved\":\"https://registry.npmjs.org/esbuild/-/esbuild-0.21.5.tgz\",\"integrity\":\"sha512-mg3OPMV4hXywwpoDxu3Qda5xCKQi+vCTZq8S9J/EpkhB2HzKXq4SNFZE3+NK0U5BCOTeiXAb7kyj6NkaE5UD6w==\",\"hasInstallScript\":true,\"bin\":{\"esbuild\":\"bin/esbuild\"}}",
    );
    let plain = lock("", "");
    let dir = project(&[
        (
            "prune/Dockerfile",
            "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build && npm prune --omit=dev\n",
        ),
        (
            "prune/package.json",
            "{\"name\":\"y\",\"version\":\"1.0.0\",\"scripts\":{\"build\":\"node b.js\"}}\n",
        ),
        ("prune/package-lock.json", plain.as_str()),
        ("prune/.dockerignore", "node_modules\n"),
        (
            "link/Dockerfile",
            "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n",
        ),
        (
            "link/package.json",
            "{\"name\":\"y\",\"version\":\"1.0.0\",\"dependencies\":{\"esbuild\":\"0.21.5\"},\"scripts\":{\"build\":\"esbuild i.js\"}}\n",
        ),
        ("link/package-lock.json", esbuild.as_str()),
        ("link/.dockerignore", "node_modules\n"),
    ]);
    let run = |df: &str| {
        let out = Command::new(support::bin())
            .args(["-v", "--no-history"])
            .arg(dir.path().join(df))
            .output()
            .expect("run dockreorder");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run("prune/Dockerfile");
    assert!(
        err.contains(":4: kept below `COPY . .` (line 3): its install is not split off: `npm prune --omit=dev` deletes files the install writes (split, they would stay in the install's layer); as a whole, not followed: "),
        "{err}"
    );
    let err = run("link/Dockerfile");
    assert!(
        err.contains(":4: kept below `COPY . .` (line 3): its install is not split off: the install may hard-link files it installs to a second name, and the rest runs code not read here (or links files itself), which may write in place through one of them; as a whole, "),
        "{err}"
    );
}

/// Review 71 (u6): two checks of one pyproject.toml said the same thing,
/// one with more words ("pyproject.toml sets `find-links`;
/// pyproject.toml sets `find-links`, a directory uv uses"): it is said
/// once, the longer.
#[test]
fn a_problem_two_checks_find_is_said_once() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nRUN pip install uv==0.9.5\nWORKDIR /app\nCOPY . .\nRUN uv pip install --system -r pyproject.toml\n",
        ),
        (
            "pyproject.toml",
            "[project]\nname=\"app\"\nversion=\"1\"\ndependencies=[\"six==1.16.0\"]\n[tool.uv]\nfind-links = [\"wheels\"]\n",
        ),
        ("wheels/six-1.16.0-py2.py3-none-any.whl", "x"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let out = Command::new(support::bin())
        .args(["--no-history"])
        .arg(dir.path().join("Dockerfile"))
        .output()
        .expect("run dockreorder");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "    why: pyproject.toml sets `find-links`, a directory uv uses: moved above the copy"
        ),
        "{err}"
    );
    assert_eq!(err.matches("sets `find-links`").count(), 1, "{err}");
}

/// Review 72: every split's reason said "(a leading `cd` is repeated)",
/// also of `RUN pip install … && python -m compileall …`, which has no
/// `cd`. Only a split whose install starts with a `cd` says it.
#[test]
fn a_split_mentions_a_repeated_cd_only_when_there_is_one() {
    use crate::support::hoist_proposal;
    let files = [
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        ("web/requirements.txt", "six==1.16.0\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nWORKDIR /srv/app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt && python -m compileall -q /srv/app\n";
    let (change, out) = hoist_proposal(&[], df, &files);
    let (_, reason) = change.expect("a hoist is reported");
    assert!(
        out.contains("RUN python -m compileall -q /srv/app\n"),
        "{out}"
    );
    assert!(reason.contains("crosses the split; a failure"), "{reason}");
    assert!(!reason.contains("`cd`"), "{reason}");
    let df = "FROM python:3.12-slim\nWORKDIR /srv/app\nCOPY . .\nRUN cd web && pip install --no-cache-dir -r requirements.txt && python -m compileall -q /srv/app\n";
    let (change, out) = hoist_proposal(&[], df, &files);
    let (_, reason) = change.expect("a hoist is reported");
    assert!(out.contains("RUN cd web && python -m compileall"), "{out}");
    assert!(reason.contains("(the leading `cd` repeated)"), "{reason}");
}

/// Scout72 srv-apt-only: "may write (`/srv/**`)" did not say why an
/// `apt-get install python3-flask` may write below `/srv` when
/// `apt-get install libmagic1` does not. The reason names what kept the
/// install's writes there: the package not measured, an earlier install
/// of one, or a base image that is not an official Debian-based one.
#[test]
fn an_apt_install_kept_above_srv_says_why_it_may_write_there() {
    use crate::support::hoist_proposal;
    let files = [("app.py", "print(1)\n"), (".dockerignore", ".git\n")];
    for (df, says) in [
        (
            "FROM python:3.12-slim\nWORKDIR /srv/app\nCOPY . .\nRUN apt-get update && apt-get install -y vsftpd\n",
            "may write (`/srv/**`: `vsftpd` is not among the packages measured to write nothing there)",
        ),
        (
            "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y vsftpd\nWORKDIR /srv/app\nCOPY . .\nRUN apt-get install -y libpq5\n",
            "an earlier install in the stage may run trigger scripts during this one, and `vsftpd` is not among",
        ),
        (
            "FROM mycorp/python\nWORKDIR /srv/app\nCOPY . .\nRUN apt-get install -y libpq5\n",
            "the base image is not one whose apt sources are known to be Debian's alone",
        ),
    ] {
        let (change, out) = hoist_proposal(&[], df, &files);
        let (app, reason) = change.expect("a hoist is reported");
        assert_eq!(app, dockreorder::plan::Applicability::Unsafe, "{reason}");
        assert!(reason.contains(says), "{reason}");
        assert_eq!(out, df);
    }
}

/// Scout72 trap-patch-package: the project's `postinstall` was said twice,
/// from package.json and as "package-lock.json lists the project itself
/// with an install script" (npm marks the root entry for that very
/// script). It is said once, from package.json; the lock's mark alone
/// (no script in package.json) is still said.
#[test]
fn the_projects_own_install_script_is_said_once() {
    use crate::support::hoist_proposal;
    let lock = "{\"name\":\"w\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{\"\":{\"name\":\"w\",\"version\":\"1.0.0\",\"hasInstallScript\":true}}}\n";
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let files = [
        (
            "package.json",
            "{\"name\":\"w\",\"version\":\"1.0.0\",\"scripts\":{\"postinstall\":\"node fix.js\"},\"dependencies\":{}}\n",
        ),
        ("package-lock.json", lock),
        ("fix.js", "1\n"),
        (".dockerignore", ".git\n"),
    ];
    let (change, out) = hoist_proposal(&[], df, &files);
    let (app, reason) = change.expect("a hoist is reported");
    assert_eq!(app, dockreorder::plan::Applicability::Unsafe, "{reason}");
    assert!(
        reason.contains("package.json declares a `postinstall` script"),
        "{reason}"
    );
    assert!(!reason.contains("lists the project itself"), "{reason}");
    assert_eq!(out, df);
}

/// A step kept below the copy because of a `RUN` whose install was split
/// off and hoisted named the `RUN` as it was (`RUN pip install -r
/// requirements.txt && python manage.py collectstatic`), whose install is
/// above the copy in the output: it names what stays of it.
#[test]
fn a_step_kept_by_a_split_run_names_what_stays_of_it() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt && python manage.py collectstatic\nRUN pip install gunicorn==23.0.0\nCMD [\"gunicorn\"]\n",
        ),
        ("requirements.txt", "six==1.16.0\n"),
        ("manage.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let out = Command::new(support::bin())
        .args(["-v", "--no-history"])
        .arg(dir.path().join("Dockerfile"))
        .output()
        .expect("run dockreorder");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[safe] split the `RUN` at its `&&` and moved `RUN pip install"),
        "{err}"
    );
    assert!(
        err.contains(":5: kept below `COPY . .` (line 3): it depends on `RUN python manage.py collectstatic` (line 4, what stays of it after the split), between the copy and it"),
        "{err}"
    );
}

/// scout73: an Unsafe hoist of `npm install` with a `postinstall` script
/// in package.json gave two reasons, and the first ended "an install that
/// keeps it as it is (`npm ci` instead of `npm install`) would make it
/// safe": with `npm ci` the postinstall script still keeps it Unsafe. A
/// remedy says it makes the move safe only when it is the one reason.
#[test]
fn a_remedy_claims_safety_only_when_it_is_the_one_reason() {
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . ./\nRUN npm install\n";
    let lock = "{\n  \"name\": \"site\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"site\",\n      \"version\": \"1.0.0\"\n    }\n  }\n}\n";
    let files = [
        (
            "package.json",
            "{\n  \"name\": \"site\",\n  \"version\": \"1.0.0\",\n  \"scripts\": {\n    \"postinstall\": \"node scripts/build-assets.js\"\n  }\n}\n",
        ),
        ("package-lock.json", lock),
        (
            "scripts/build-assets.js",
            "require('fs').readFileSync('assets/a.css');\n",
        ),
        ("assets/a.css", "a{}\n"),
    ];
    let (change, _) = support::hoist_proposal(&[], df, &files);
    let (app, reason) = change.expect("a hoist is reported");
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    assert!(reason.contains("`postinstall`"), "{reason}");
    assert!(
        reason.contains("`npm ci` instead of `npm install`"),
        "{reason}"
    );
    assert!(!reason.contains("would make it safe"), "{reason}");
    // Following the hint alone leaves it Unsafe, as the reason now says.
    let ci = df.replace("npm install", "npm ci");
    let (change, _) = support::hoist_proposal(&[], &ci, &files);
    let (app, reason) = change.expect("a hoist is reported");
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    // Without the script, the lock is the one reason and its remedy is
    // said to make it safe.
    let plain = [
        (
            "package.json",
            "{\n  \"name\": \"site\",\n  \"version\": \"1.0.0\"\n}\n",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
    ];
    let (change, _) = support::hoist_proposal(&[], df, &plain);
    let (app, reason) = change.expect("a hoist is reported");
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    assert!(
        reason.contains("(`npm ci` instead of `npm install`) would make it safe"),
        "{reason}"
    );
}

/// scout73 parcel-ship-go and shop-assistant-py: a comment above the
/// broad copy that described the dependencies the install after it gets
/// (`# restore dependencies`, `# get packages`) was left above `COPY .
/// .` alone, the moved install above it uncommented. Such a comment stays
/// where it stood and heads the inserted copy and the install; one about
/// the sources (`# copy the rest of the source`) goes with the copy.
#[test]
fn a_comment_about_the_dependencies_heads_the_moved_install() {
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let rw = |df: &str| {
        rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
            .expect("rw")
            .new_text
    };
    for comment in [
        "# restore dependencies",
        "# get packages",
        "# Install app dependencies",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /app\n\n{comment}\nCOPY . .\nRUN pip install -r requirements.txt\n\nCMD [\"python\", \"app.py\"]\n"
        );
        assert_eq!(
            rw(&df),
            format!(
                "FROM python:3.12-slim\nWORKDIR /app\n\n{comment}\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n\nCMD [\"python\", \"app.py\"]\n"
            ),
            "{comment}"
        );
    }
    for comment in [
        "# copy the rest of the source",
        "# add the code and install it",
        "# copy all files, restore the packages",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /app\n\n{comment}\nCOPY . .\nRUN pip install -r requirements.txt\n\nCMD [\"python\", \"app.py\"]\n"
        );
        assert_eq!(
            rw(&df),
            format!(
                "FROM python:3.12-slim\nWORKDIR /app\n\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\n\n{comment}\nCOPY . .\n\nCMD [\"python\", \"app.py\"]\n"
            ),
            "{comment}"
        );
    }
}

/// A build kept below the copy names a source file, not a file known as a
/// manifest: "ships `go.mod`, which is not one of its manifests" read as a
/// contradiction for `go build` (scout74 review).
#[test]
fn a_kept_build_names_a_source_not_a_manifest() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go mod download\nRUN go build -o /out/app .\n",
        ),
        ("go.mod", "module example.com/x\n\ngo 1.22\n"),
        ("main.go", "package main\n\nfunc main() {}\n"),
        (".dockerignore", ".git\n"),
    ]);
    let out = Command::new(support::bin())
        .args(["-v", "--no-history"])
        .arg(dir.path().join("Dockerfile"))
        .output()
        .expect("run dockreorder");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "Dockerfile:5: kept below `COPY . .` (line 3): it may read /src/**, where the copy ships `main.go`, which is not one of its manifests"
        ),
        "{err}"
    );
}

/// Every file of a run gets a line, with history too: a well-ordered file
/// printed nothing without `-v`, and the run ended on the history walk's
/// line (scout74 review). A file with an Unsafe proposal left alone is
/// not said to have nothing to change.
#[test]
fn a_well_ordered_file_says_it_has_nothing_to_change() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM golang:1.22\nWORKDIR /src\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\nRUN go build -o /out/app .\n",
        ),
        ("go.mod", "module example.com/x\n\ngo 1.22\n"),
        ("main.go", "package main\n\nfunc main() {}\n"),
        (".dockerignore", ".git\n"),
        (
            "web/Dockerfile",
            "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD [\"node\", \"index.js\"]\n",
        ),
        (
            "web/package.json",
            "{\"name\":\"w\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}}\n",
        ),
        ("web/index.js", "console.log(1)\n"),
        ("web/.dockerignore", ".git\nnode_modules\n"),
    ]);
    support::git(dir.path(), &["init", "-q"]);
    support::git(dir.path(), &["add", "-A"]);
    support::git(
        dir.path(),
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "init",
        ],
    );
    let run = |df: &str| {
        let out = Command::new(support::bin())
            .current_dir(dir.path())
            .arg(df)
            .output()
            .expect("run dockreorder");
        assert!(out.status.success(), "{out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run("Dockerfile");
    assert!(err.contains("history: 1 commit walked"), "{err}");
    assert!(err.ends_with("Dockerfile: nothing to change\n"), "{err}");
    let web = run("web/Dockerfile");
    assert!(
        web.contains("[unsafe, not applied (use --unsafe)]"),
        "{web}"
    );
    assert!(!web.contains("nothing to change"), "{web}");
    // Nothing was ordered: no basis is named (scout76 review).
    assert!(web.contains("web/Dockerfile: 0 changes\n"), "{web}");
}

/// A step kept below the copy names a source file rather than a document
/// (scout75 review: "ships `README.md`" for `go build`), and an install
/// whose requirement file names a local directory says so, not that the
/// copy ships none of the files it reads (`--find-links ./vendor`, kept
/// below `COPY vendor ./vendor`). Where no broad copy stands, `-v` names
/// the copy of sources an install stays below (`COPY *.py ./` before a
/// `RUN` that runs `python prepare.py`), which it said nothing of.
#[test]
fn kept_reasons_name_sources_and_what_requirement_files_read() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\n",
        ),
        ("go.mod", "module example.com/x\n\ngo 1.22\n"),
        ("README.md", "# x\n"),
        ("main.go", "package main\n\nfunc main() {}\n"),
        (".dockerignore", ".git\n"),
        (
            "py/Dockerfile",
            "FROM python:3.11\nWORKDIR /pipeline\nCOPY requirements.txt .\nCOPY vendor ./vendor\nCOPY *.py ./\nRUN pip install --no-cache-dir -r requirements.txt\n",
        ),
        (
            "py/requirements.txt",
            "--find-links ./vendor\ntabulate==0.9.0\n",
        ),
        ("py/vendor/tabulate-0.9.0.tar.gz", "x\n"),
        ("py/main.py", "print(1)\n"),
        (
            "prep/Dockerfile",
            "FROM python:3.11\nWORKDIR /pipeline\nCOPY requirements.txt .\nCOPY *.py ./\nRUN pip install -r requirements.txt && python prepare.py\n",
        ),
        ("prep/requirements.txt", "tabulate==0.9.0\n"),
        ("prep/prepare.py", "print(1)\n"),
    ]);
    let run = |df: &str| {
        let out = Command::new(support::bin())
            .args(["-v", "--no-history"])
            .arg(dir.path().join(df))
            .output()
            .expect("run dockreorder");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let go = run("Dockerfile");
    assert!(
        go.contains("where the copy ships `main.go`, which is not one of its manifests"),
        "{go}"
    );
    let py = run("py/Dockerfile");
    assert!(
        py.contains(":6: kept below `COPY vendor ./vendor` (line 4): requirements.txt: `--find-links ./vendor` installs a local path"),
        "{py}"
    );
    assert!(!py.contains("ships none of the files it reads"), "{py}");
    let prep = run("prep/Dockerfile");
    assert!(
        prep.contains(":5: kept below `COPY *.py ./` (line 4): "),
        "{prep}"
    );
}

/// Scout76 trap-split-cd: the reason of a split whose install starts with
/// a `cd` said "`cd /app/web` runs code not read here: what it deleted of
/// the install's files would …" of the `cd` the split repeats before the
/// rest. A `cd` runs no code and deletes nothing (the shell model follows
/// it), so the rest here is all known and the reason says so.
#[test]
fn a_repeated_cd_is_not_called_code_not_read_here() {
    use crate::support::hoist_proposal;
    let files = [
        ("app.py", "print(1)\n"),
        ("web/requirements.txt", "six==1.16.0\n"),
        ("web/test/test_app.py", "print(2)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nWORKDIR /srv/app\nCOPY . .\nRUN cd web && pip install --no-cache-dir -r requirements.txt && rm -rf test\n";
    let (change, out) = hoist_proposal(&[], df, &files);
    let (_, reason) = change.expect("a hoist is reported");
    assert!(out.contains("RUN cd web && rm -rf test\n"), "{out}");
    assert!(!reason.contains("runs code not read here"), "{reason}");
    assert!(
        reason.contains("the rest deletes nothing the install wrote"),
        "{reason}"
    );
}

/// A note on the install's `RUN` stays on it: the inserted COPY goes above
/// it (scout76 beam-flex-launcher: `COPY requirements.txt` stood between
/// `# We could get rid of installing libffi-dev and git…` and its RUN). A
/// comment naming the dependencies heads both, as before.
#[test]
fn an_inserted_copy_does_not_part_a_run_from_its_note() {
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), Some(&p.path().join("Dockerfile")));
    let rw = |df: &str| {
        rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
            .expect("rw")
            .new_text
    };
    assert_eq!(
        rw(
            "FROM python:3.11\nCOPY . /template\n\n# We could get rid of installing git, or leave it.\nRUN pip install --no-cache-dir -r /template/requirements.txt\n\nENTRYPOINT [\"python\", \"/template/app.py\"]\n"
        ),
        "FROM python:3.11\n\nCOPY requirements.txt /template/\n# We could get rid of installing git, or leave it.\nRUN pip install --no-cache-dir -r /template/requirements.txt\nCOPY . /template\n\nENTRYPOINT [\"python\", \"/template/app.py\"]\n"
    );
    assert_eq!(
        rw(
            "FROM python:3.11\nCOPY . /template\n\n# The pinned packages for the launcher.\nRUN pip install --no-cache-dir -r /template/requirements.txt\n"
        ),
        "FROM python:3.11\n\n# The pinned packages for the launcher.\nCOPY requirements.txt /template/\nRUN pip install --no-cache-dir -r /template/requirements.txt\nCOPY . /template\n"
    );
}

/// The go.sum remedy is not offered where go.mod replaces a module with a
/// local directory (scout75 trap-span-go-replace: "a go.sum with both sums
/// of every module go.mod requires would settle this" of a module that
/// has no sums); the local replacement is the reason, and the move stays
/// Unsafe.
#[test]
fn no_go_sum_remedy_beside_a_local_replace() {
    use crate::support::hoist_proposal;
    let files = [
        (
            "go.mod",
            "module example.com/spanapp\n\ngo 1.22\n\nrequire example.com/spanutil v0.0.0\n\nreplace example.com/spanutil => ./spanutil\n",
        ),
        ("go.sum", ""),
        (
            "spanutil/go.mod",
            "module example.com/spanutil\n\ngo 1.22\n",
        ),
        ("main.go", "package main\n\nfunc main() {}\n"),
        (".dockerignore", ".git\n"),
    ];
    let df =
        "FROM golang:1.22\nWORKDIR /usr/src/app\nCOPY . ./\nRUN go mod download && go mod verify\n";
    let (change, out) = hoist_proposal(&[], df, &files);
    let (applicability, reason) = change.expect("a hoist is reported");
    assert_eq!(applicability, Applicability::Unsafe, "{reason}");
    assert_eq!(out, df);
    assert!(
        reason.contains("go.mod replaces a module with a local directory"),
        "{reason}"
    );
    assert!(!reason.contains("both sums"), "{reason}");
}

/// A virtual environment made on the host and shipped by the broad copy
/// keeps the install below it; the reason says that leaving it out of the
/// context would settle that (scout76 trap-stray-venv: no hint was given,
/// as one is for node_modules).
#[test]
fn a_shipped_virtual_environment_gets_the_ignore_remedy() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN python -m venv /app/.venv && /app/.venv/bin/pip install --no-cache-dir -r requirements.txt\n",
        ),
        ("requirements.txt", "six==1.16.0\n"),
        (".venv/bin/pip", "#!/bin/sh\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let out = Command::new(support::bin())
        .args(["-v", "--no-history"])
        .arg(dir.path().join("Dockerfile"))
        .output()
        .expect("run dockreorder");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":4: kept below `COPY . .` (line 3): it may read /app/.venv/**, where the copy ships `.venv/bin/pip`, which is not one of its manifests; adding `.venv` to .dockerignore would settle this reason"),
        "{err}"
    );
}

/// An install that may write where the copy ships files names one of the
/// project's files, not `.dockerignore` (scout76 trap-apt-nginx-www:
/// "ships `.dockerignore` and 4 more").
#[test]
fn a_clobber_reason_names_a_project_file() {
    use crate::support::hoist_proposal;
    let files = [
        ("index.html", "<p>hi</p>\n"),
        ("about.html", "<p>about</p>\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM debian:bookworm-slim\nWORKDIR /var/www/html\nCOPY . .\nRUN apt-get update && apt-get install -y --no-install-recommends nginx\n";
    let (change, _) = hoist_proposal(&[], df, &files);
    let (_, reason) = change.expect("a hoist is reported");
    assert!(
        reason.contains("`COPY . .` ships `about.html` and 2 more"),
        "{reason}"
    );
}

/// scout77 and scout78 reviews of a split: the summary named the original
/// `RUN` and the hoisted part cut at the same width, so both read the
/// same, and never named the part that stays; the history line said "`X`
/// (split from `X`)"; and the reason, with why the split keeps the image,
/// was one line of about 900 characters. The summary now names the part
/// that stays, the history line the split `RUN`'s line, and the split's
/// justification has a line of its own.
#[test]
fn a_split_names_both_parts_and_gives_its_justification_a_line() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . ./\nRUN pip install poetry==2.1.3 && poetry config virtualenvs.create false && poetry install --only main\n",
        ),
        (
            "pyproject.toml",
            "[tool.poetry]\nname = \"a\"\nversion = \"0.1.0\"\n",
        ),
        ("main.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let out = Command::new(support::bin())
        .args(["--no-history"])
        .arg(dir.path().join("Dockerfile"))
        .output()
        .expect("run dockreorder");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("  line 4: [safe] split the `RUN` at its `&&` and moved `RUN pip install poetry==2.1.3 && poetry config virtualenvs.…` above `COPY . ./` (line 3); `RUN poetry install --only main` stays below\n    why: it reads nothing from the build context, so it no longer reruns when other files change; every command is in the knowledge base and it writes nothing the broad copy ships\n    split: as two `RUN`s, the same commands run in the same order"),
        "{err}"
    );
    assert!(err.lines().all(|l| l.chars().count() < 500), "{err}");
}

/// scout78 review: a pip.conf setting the analysis does not know said
/// "which is not known to name no file", a double negative; it says what
/// the setting may do.
#[test]
fn a_pip_setting_not_known_says_it_may_name_a_file() {
    use crate::support::hoist_proposal;
    let files = [
        ("requirements.txt", "six==1.16.0\n"),
        ("pip.conf", "[global]\ncert = certs/ca.pem\n"),
        ("certs/ca.pem", "x\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nENV PIP_CONFIG_FILE=/app/pip.conf\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    let (change, out) = hoist_proposal(&[], df, &files);
    let (app, reason) = change.expect("a hoist is reported");
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    assert_eq!(out, df);
    assert!(
        reason.contains("pip.conf sets `cert`, which may name a file"),
        "{reason}"
    );
    assert!(!reason.contains("name no file"), "{reason}");
}

/// scout77 review: with `-v`, a file with nothing to change printed the
/// history figures before its verdict, a changed file after its summary.
/// The verdict comes first in both.
#[test]
fn the_verdict_comes_before_the_figures() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM golang:1.22\nWORKDIR /src\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\nRUN go build -o /out/app .\n",
        ),
        ("go.mod", "module example.com/x\n\ngo 1.22\n"),
        ("main.go", "package main\n\nfunc main() {}\n"),
        (".dockerignore", ".git\n"),
    ]);
    support::git(dir.path(), &["init", "-q"]);
    support::git(dir.path(), &["add", "-A"]);
    support::git(
        dir.path(),
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "init",
        ],
    );
    let out = Command::new(support::bin())
        .current_dir(dir.path())
        .args(["-v", "Dockerfile"])
        .output()
        .expect("run dockreorder");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let verdict = err.find("Dockerfile: nothing to change\n");
    let figures = err.find("Dockerfile: history: 1 commit walked (");
    assert!(
        verdict.is_some() && figures.is_some() && verdict < figures,
        "{err}"
    );
}
