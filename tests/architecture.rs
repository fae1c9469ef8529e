//! Issue 9: the edit model, original lines, and configuration as values.

use dockreorder::analysis::context::Context;
use dockreorder::analysis::kb::{CostWeights, Entry, Knowledge};
use dockreorder::plan::{Applicability, ChangeKind, Options};
use dockreorder::rewrite::{self, Rewriter, edit};

use crate::support::project;

fn safe() -> Options {
    Options::new(Applicability::Safe)
}

#[test]
fn issue_9_reported_lines_are_original_lines_after_a_merge() {
    let df = "FROM debian:12\nWORKDIR /app\nRUN apt-get update\nRUN apt-get install -y python3-pip && rm -rf /var/lib/apt/lists/*\nCOPY . .\nRUN pip install -r requirements.txt\n";
    let p = project(&[
        ("Dockerfile", df),
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), None);
    let out = rewrite::rewrite(df, Some(&ctx), safe()).expect("rewrite");
    let merge = out
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::MergeUpdate)
        .expect("merge");
    assert_eq!(merge.line, 3, "{merge:?}");
    let hoist = out
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::Hoist)
        .expect("hoist");
    assert_eq!(
        hoist.line, 6,
        "the RUN is on line 6 of the original: {hoist:?}"
    );
    assert_eq!(hoist.above_line, Some(5), "{hoist:?}");
    assert!(hoist.summary.contains("(line 5)"), "{}", hoist.summary);
}

#[test]
fn issue_9_each_change_carries_disjoint_edits_that_give_the_output() {
    let df = "FROM debian:12\nWORKDIR /app\nRUN apt-get update\nRUN apt-get install -y python3-pip && rm -rf /var/lib/apt/lists/*\nCOPY . .\n# the deps\nRUN pip install -r requirements.txt\nCMD [\"python3\", \"app.py\"]";
    let p = project(&[
        ("Dockerfile", df),
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), None);
    let out = rewrite::rewrite(df, Some(&ctx), safe()).expect("rewrite");
    assert_ne!(out.new_text, df);
    let mut all: Vec<edit::Edit> = Vec::new();
    for c in &out.changes {
        if !c.applied {
            assert!(c.edits.is_empty(), "{c:?}");
        }
        all.extend(c.edits.iter().cloned());
    }
    all.sort_by_key(|e| (e.start, e.end));
    assert_eq!(all, out.edits, "the changes' edits are all the edits");
    for w in all.windows(2) {
        assert!(!w[0].overlaps(&w[1]), "{all:?}");
    }
    assert_eq!(edit::apply(df, &all).expect("apply"), out.new_text);
    // Moved bytes are kept: the comment travels with its RUN, the missing
    // final newline stays missing.
    assert!(
        out.new_text
            .contains("# the deps\nCOPY requirements.txt ./\nRUN pip install"),
        "{}",
        out.new_text
    );
    assert!(!out.new_text.ends_with('\n'));
    // Each fix may be applied alone: here the inserted lines (the merged
    // install, the manifest COPY and the moved RUN) are one block, so the
    // hoist's own edits would only delete `RUN pip install` (h-rev50: a
    // fix that, applied alone, dropped the install). The merge then
    // carries the whole rewrite, and the hoist no fix.
    let mut fixes = 0;
    for c in out.changes.iter().filter(|c| !c.edits.is_empty()) {
        fixes += 1;
        let alone = edit::apply(df, &c.edits).expect("apply");
        for cmd in ["apt-get update", "apt-get install", "pip install"] {
            assert_eq!(alone.matches(cmd).count(), 1, "{cmd}, {c:?}:\n{alone}");
        }
    }
    assert!(fixes >= 1);
    for kind in [ChangeKind::MergeUpdate, ChangeKind::Hoist] {
        assert!(
            out.changes.iter().any(|c| c.kind == kind && c.applied),
            "{kind:?}"
        );
    }
}

#[test]
fn issue_9_two_configurations_in_one_process() {
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN fetch-deps --lock deps.lock\n";
    let p = project(&[
        ("Dockerfile", df),
        ("deps.lock", "x\n"),
        ("main.c", "int main;\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), None);
    let entry: Entry = serde_yaml::from_str(
        "command: [fetch-deps]\noption_reads: [--lock]\nwrites: [/opt/deps/**]\npositional: none\ncost: install\n",
    )
    .expect("entry");
    let configured = Knowledge::configured(vec![entry], CostWeights::default());
    let embedded = Knowledge::embedded();
    // Interleaved, in one process: each rewrite sees only its own knowledge.
    for _ in 0..2 {
        let plain = Rewriter::new(embedded, Some(&ctx), None, safe())
            .rewrite(df)
            .expect("embedded");
        assert_eq!(plain.new_text, df, "unknown command: nothing moves");
        let taught = Rewriter::new(&configured, Some(&ctx), None, safe())
            .rewrite(df)
            .expect("configured");
        assert!(
            taught.new_text.contains("COPY deps.lock ./"),
            "{}",
            taught.new_text
        );
    }
    // Cost weights are values too: the same file costs more under heavier
    // weights.
    let heavy = Knowledge::configured(
        Vec::new(),
        CostWeights {
            install: 600.0,
            ..CostWeights::default()
        },
    );
    let light = Rewriter::new(embedded, Some(&ctx), None, safe());
    let heavy = Rewriter::new(&heavy, Some(&ctx), None, safe());
    let pip = "FROM base\nCOPY . .\nRUN pip install six\n";
    assert!(heavy.cost(&heavy.analyze(pip)) > light.cost(&light.analyze(pip)));
}

#[test]
fn issue_9_sarif_uris_are_relative_to_the_repository_and_percent_encoded() {
    let p = project(&[
        ("my app/requirements.txt", "six==1.16.0\n"),
        ("my app/app.py", "print(1)\n"),
        (
            "my app/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        ),
    ]);
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(p.path())
            .output()
            .expect("git")
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    let out = std::process::Command::new(crate::support::bin())
        .args(["--format", "sarif", "--no-history", "Dockerfile"])
        .current_dir(p.path().join("my app"))
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let run = &v["runs"][0];
    let base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
        .as_str()
        .expect("SRCROOT");
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    let r = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "hoist-dependency-install")
        .expect("hoist");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "my%20app/Dockerfile");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "SRCROOT");
    assert_eq!(loc["region"]["startLine"], 4);
    assert_eq!(loc["region"]["endLine"], 4);
    let fix = &r["fixes"][0]["artifactChanges"][0];
    assert_eq!(fix["artifactLocation"]["uri"], "my%20app/Dockerfile");
}

#[test]
fn issue_9_hoists_that_move_the_same_copy_share_one_fix() {
    // Two installs that read nothing from the context pass the same copy:
    // the fewest bytes move (the copy goes below them), and that one move
    // is the first hoist's fix; applied alone it is still the whole move.
    let df = "FROM debian:12\nCOPY . /src/\nRUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*\nRUN python3 -m venv /opt/venv\nRUN /opt/venv/bin/pip install /src\n";
    let p = project(&[("Dockerfile", df), ("setup.py", "x\n")]);
    let ctx = Context::new(p.path().to_path_buf(), None);
    let out = rewrite::rewrite(df, Some(&ctx), safe()).expect("rewrite");
    let hoists: Vec<_> = out
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Hoist && c.applied)
        .collect();
    assert_eq!(hoists.len(), 2, "{:#?}", out.changes);
    assert_eq!(
        out.edits.len(),
        2,
        "delete the copy, insert it lower: {:?}",
        out.edits
    );
    assert_eq!(hoists[0].edits, out.edits);
    assert!(hoists[1].edits.is_empty());
    assert_eq!(
        edit::apply(df, &hoists[0].edits).expect("apply"),
        out.new_text
    );
}
