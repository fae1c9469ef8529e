//! Emitters: unified diffs and summaries (text) and JSON. Only this module
//! and `main` decide how results look; the library computes them.

use serde_json::{Value, json};
use similar::TextDiff;

use crate::analysis::file::FileAnalysis;
use crate::analysis::history::{History, WalkEnd};
use crate::plan::{Applicability, Change};
use crate::simulate::FileFigures;

/// A unified diff with `a/` and `b/` headers.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let p = path.trim_start_matches("./");
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{p}"), &format!("b/{p}"))
        .to_string()
}

fn label(a: Applicability) -> &'static str {
    match a {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::DisplayOnly => "advice",
    }
}

/// The short summary printed after a file's diff.
pub fn summary(path: &str, changes: &[Change], estimate_note: &str) -> String {
    let mut out = String::new();
    let applied = changes.iter().filter(|c| c.applied).count();
    if applied == 0 && changes.is_empty() {
        return out;
    }
    out.push_str(&format!(
        "{path}: {applied} change{} ({estimate_note})\n",
        if applied == 1 { "" } else { "s" }
    ));
    for c in changes {
        let tag = if c.applied {
            label(c.applicability).to_string()
        } else if c.applicability == Applicability::Unsafe {
            "unsafe, not applied (use --unsafe)".to_string()
        } else {
            label(c.applicability).to_string()
        };
        out.push_str(&format!(
            "  line {}: [{tag}] {}\n    why: {}\n",
            c.line, c.summary, c.reason
        ));
    }
    out
}

/// Per instruction: line, keyword and effects (for `--format json`), as
/// the planner saw them.
pub fn instructions_json(file: &FileAnalysis) -> Vec<Value> {
    let mut out = Vec::new();
    for (stage, sa) in file.model.stages.iter().zip(&file.stages) {
        for (u, e) in stage.units.iter().zip(&sa.effects) {
            let item = &file.parse.items[u.item];
            let ins = item.instruction();
            out.push(json!({
                "line": item.lines.start,
                "keyword": ins.map(|i| i.node.kind.as_str()),
                "reads": e.reads,
                "writes": e.writes,
                "context_reads": e.context_reads,
                "opaque": e.opaque,
                "cost": e.cost,
            }));
        }
    }
    out
}

/// One file of `--format json`; `analysis` is the original text's (absent
/// after an error).
pub fn file_json(
    path: &str,
    old: &str,
    new: &str,
    changes: &[Change],
    error: Option<String>,
    analysis: Option<&FileAnalysis>,
) -> Value {
    json!({
        "path": path,
        "changed": old != new,
        "error": error,
        "changes": changes,
        "diff": if old != new { Value::String(unified_diff(path, old, new)) } else { Value::Null },
        "instructions": Value::Array(analysis.map(instructions_json).unwrap_or_default()),
    })
}

/// Thousands separators: 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn end_words(h: &History) -> &'static str {
    match h.end {
        WalkEnd::ReachedRoot => "the whole history",
        WalkEnd::Shallow => "cut short: shallow clone",
        WalkEnd::Limit => "cut short: --max-commits",
        WalkEnd::Since => "cut short: --since",
        WalkEnd::Corrupt => "cut short: damaged repository",
    }
}

/// The history evidence for one file: commits walked, and for each
/// instruction whose rebuild count changed, how often it ran before and
/// after.
pub fn history_text(path: &str, before: &FileFigures, after: &FileFigures, h: &History) -> String {
    let mut out = format!(
        "{path}: history: {} commits walked ({}, {}); mean rebuilt cost per commit {:.1} before, {:.1} after\n",
        thousands(before.commits),
        if h.first_parent {
            "first parent"
        } else {
            "all parents"
        },
        end_words(h),
        before.mean_cost,
        after.mean_cost
    );
    for (b, a) in before.pair_with(after) {
        if let (Some(b), Some(a)) = (b, a)
            && a.rebuilds != b.rebuilds
            && b.cost > 0.0
        {
            out.push_str(&format!(
                "  over {} commits: `{}` ran in {} of them before, {} after\n",
                thousands(before.commits),
                short_text(&b.instruction),
                thousands(b.rebuilds),
                thousands(a.rebuilds)
            ));
        }
    }
    for note in &h.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    out
}

fn short_text(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s
    }
}

/// The `history` part of a file's JSON.
pub fn history_json(before: &FileFigures, after: &FileFigures, h: &History) -> Value {
    let units: Vec<Value> = before
        .pair_with(after)
        .into_iter()
        .filter_map(|pair| match pair {
            (Some(b), a) => Some(json!({
                "line": b.line,
                "instruction": b.instruction,
                "source_changes": b.source_changes,
                "rebuilds": {"before": b.rebuilds, "after": a.map(|a| a.rebuilds)},
                "cost": b.cost,
            })),
            (None, Some(a)) => Some(json!({
                "line_after": a.line,
                "instruction": a.instruction,
                "source_changes": a.source_changes,
                "rebuilds": {"before": null, "after": a.rebuilds},
                "cost": a.cost,
                "inserted": true,
            })),
            (None, None) => None,
        })
        .collect();
    json!({
        "history": {
            "commits_walked": before.commits,
            "first_parent": h.first_parent,
            "truncated": h.truncated(),
            "end": h.end,
            "notes": h.notes,
        },
        "instructions_history": units,
        "expected_cost": {"before": before.mean_cost, "after": after.mean_cost},
    })
}

/// One processed file, for the emitters that see the whole run.
pub struct FileReport<'a> {
    pub path: &'a str,
    /// The path relative to the repository root (or the current directory
    /// outside one), for SARIF's `uriBaseId`.
    pub uri: &'a str,
    /// The analysis of the original text.
    pub original: Option<&'a FileAnalysis>,
    pub old: &'a str,
    pub new: &'a str,
    pub changes: &'a [Change],
    pub before: Option<&'a FileFigures>,
    pub after: Option<&'a FileFigures>,
    pub history: Option<&'a History>,
}

fn rule_id(c: &Change) -> &'static str {
    match c.kind {
        crate::plan::ChangeKind::Hoist => "hoist-dependency-install",
        crate::plan::ChangeKind::MergeUpdate => "merge-package-index-update",
        crate::plan::ChangeKind::Reorder => "reorder-for-cache",
        crate::plan::ChangeKind::Advice => "cache-advice",
    }
}

/// A relative path as a URI reference: every byte outside the unreserved
/// set and `/` percent-encoded (RFC 3986).
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.trim_start_matches("./").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SARIF region of a byte range of `text` (columns in UTF-16 code units,
/// SARIF's default).
fn sarif_region(text: &str, start: usize, end: usize) -> Value {
    let (sl, sc) = crate::rewrite::edit::line_column(text, start);
    let (el, ec) = crate::rewrite::edit::line_column(text, end);
    json!({"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec})
}

/// The lines of the instruction a change is about: its first line and the
/// last line of that instruction in the original.
fn change_region(f: &FileReport<'_>, c: &Change) -> Value {
    let end = f
        .original
        .and_then(|a| {
            a.parse
                .items
                .iter()
                .find(|i| i.lines.start == c.line && i.instruction().is_some())
        })
        .map_or(c.line, |i| i.lines.end.max(c.line));
    json!({"startLine": c.line.max(1), "startColumn": 1, "endLine": end.max(1)})
}

/// A change's own fix: its edits of the original as SARIF replacements.
fn sarif_fix(f: &FileReport<'_>, c: &Change) -> Value {
    let replacements: Vec<Value> = c
        .edits
        .iter()
        .map(|e| {
            json!({
                "deletedRegion": sarif_region(f.old, e.start, e.end),
                "insertedContent": {"text": e.content},
            })
        })
        .collect();
    json!([{
        "description": {"text": format!("{} ({})", c.summary, label(c.applicability))},
        "artifactChanges": [{
            "artifactLocation": {"uri": percent_encode_path(f.uri), "uriBaseId": "SRCROOT"},
            "replacements": replacements,
        }]
    }])
}

/// SARIF 2.1.0: one result per proposed change; the file's rewrite is
/// attached as a fix (one replacement of the changed lines).
pub fn sarif(files: &[FileReport<'_>]) -> Value {
    let rules = [
        (
            "hoist-dependency-install",
            "Install dependencies before copying the sources",
            "A dependency install after a broad COPY reruns on every source change; copying the manifests first lets the cache serve it.",
        ),
        (
            "merge-package-index-update",
            "Update the package index in the same RUN as the install",
            "A lone `apt-get update` layer stays cached and goes stale.",
        ),
        (
            "reorder-for-cache",
            "Order instructions so rarely changing inputs come first",
            "Every step after a changed one is rebuilt; putting rarely changing steps first rebuilds less.",
        ),
        (
            "cache-advice",
            "Build cache advice",
            "Something that makes the build cache less effective and has no automatic fix.",
        ),
    ];
    let mut results = Vec::new();
    for f in files {
        // Each applied change carries its own fix: the edits of a file are
        // disjoint, and applying every fix gives the `--write` output.
        for c in f.changes {
            let mut r = json!({
                "ruleId": rule_id(c),
                "level": if c.applicability == Applicability::DisplayOnly { "note" } else { "warning" },
                "message": {"text": format!("{} ({}): {}", c.summary, label(c.applicability), c.reason)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": percent_encode_path(f.uri), "uriBaseId": "SRCROOT"},
                        "region": change_region(f, c)
                    }
                }],
                "properties": {"applicability": c.applicability, "applied": c.applied},
            });
            if c.applied && !c.edits.is_empty() {
                r["fixes"] = sarif_fix(f, c);
            }
            results.push(r);
        }
    }
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "dockreorder",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/dockreorder/dockreorder",
                "rules": rules.iter().map(|(id, short, full)| json!({
                    "id": id,
                    "shortDescription": {"text": short},
                    "fullDescription": {"text": full},
                    "defaultConfiguration": {"level": "warning"},
                })).collect::<Vec<_>>(),
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }]
    })
}

/// The hidden marker the bot looks for in its pull requests.
pub const PR_MARKER: &str = "<!-- dockreorder:pull-request -->";

/// The pull-request body (Markdown).
pub fn markdown(files: &[FileReport<'_>]) -> String {
    let mut out = String::new();
    out.push_str(PR_MARKER);
    out.push_str("\n## dockreorder: cache-friendly instruction order\n\n");
    let changed: Vec<&FileReport<'_>> = files.iter().filter(|f| f.old != f.new).collect();
    let unsafe_applied = changed.iter().any(|f| {
        f.changes
            .iter()
            .any(|c| c.applied && c.applicability == Applicability::Unsafe)
    });
    // Only what was checked: the effects model, not a build.
    out.push_str(&format!(
        "This reorders {} Dockerfile{} so that rarely changing layers come first. {}\n\n",
        changed.len(),
        if changed.len() == 1 { "" } else { "s" },
        if unsafe_applied {
            "Moves marked **Unsafe** were applied because `--unsafe` was given: they are not proven to keep the image, and each says what it risks. The others are proven safe under dockreorder's effects model. The images were not built."
        } else {
            "Every move below is proven safe under dockreorder's effects model (what each instruction reads and writes); the images were not built."
        }
    ));
    out.push_str("### Changes\n\n| File | Line | What moved | Why |\n|---|---|---|---|\n");
    for f in &changed {
        for c in f.changes.iter().filter(|c| c.applied) {
            let unsafe_mark = if c.applicability == Applicability::Unsafe {
                "**Unsafe** "
            } else {
                ""
            };
            let risk = if c.applicability == Applicability::Unsafe {
                "risk: "
            } else {
                ""
            };
            out.push_str(&format!(
                "| `{}` | {} | {unsafe_mark}{} | {risk}{} |\n",
                f.path.trim_start_matches("./"),
                c.line,
                c.summary.replace('|', "\\|"),
                c.reason.replace('|', "\\|")
            ));
        }
    }
    out.push_str("\n### Evidence from the history\n\n");
    let mut any = false;
    for f in &changed {
        let (Some(b), Some(a), Some(h)) = (f.before, f.after, f.history) else {
            out.push_str(&format!(
                "- `{}`: no git history was read; the order follows the static estimate (dependency manifests change rarely, other sources often).\n",
                f.path.trim_start_matches("./")
            ));
            continue;
        };
        any = true;
        out.push_str(&format!(
            "- `{}`: {} commits walked ({}, {}). Mean rebuilt cost per commit: {:.1} before, {:.1} after.\n",
            f.path.trim_start_matches("./"),
            thousands(b.commits),
            if h.first_parent { "first parent" } else { "all parents" },
            end_words(h),
            b.mean_cost,
            a.mean_cost
        ));
        for pair in b.pair_with(a) {
            if let (Some(u), Some(x)) = pair
                && x.rebuilds != u.rebuilds
                && u.cost > 0.0
            {
                out.push_str(&format!(
                    "  - `{}` would have run in {} of {} commits before, {} after.\n",
                    short_text(&u.instruction),
                    thousands(u.rebuilds),
                    thousands(b.commits),
                    thousands(x.rebuilds)
                ));
            }
        }
    }
    if !any && changed.is_empty() {
        out.push_str("Nothing to change.\n");
    }
    out.push_str("\n### Safety\n\n");
    out.push_str("- Each rewritten file was parsed again: the same instructions (plus the inserted manifest `COPY`s), every dependency between them kept, and a second run changes nothing.\n");
    out.push_str("- A move is `Safe` only when every command involved is described by dockreorder's command knowledge base; a `RUN` it does not understand never moves unless `--unsafe` is given.\n");
    let left_out: Vec<(&str, &Change)> = files
        .iter()
        .flat_map(|f| {
            f.changes
                .iter()
                .filter(|c| !c.applied && c.applicability == Applicability::Unsafe)
                .map(move |c| (f.path, c))
        })
        .collect();
    if left_out.is_empty() {
        out.push_str("- No Unsafe change was left out.\n");
    } else {
        out.push_str("- Left out as Unsafe (apply with `--unsafe` after checking):\n");
        for (p, c) in left_out {
            out.push_str(&format!(
                "  - `{}` line {}: {} — {}\n",
                p.trim_start_matches("./"),
                c.line,
                c.summary,
                c.reason
            ));
        }
    }
    out.push_str("\n<details><summary>Diff</summary>\n\n```diff\n");
    for f in &changed {
        out.push_str(&unified_diff(f.path, f.old, f.new));
    }
    out.push_str("```\n\n</details>\n\n");
    out.push_str("### Opting out\n\n- Put `# dockreorder: keep` on the line above an instruction to pin it, or `# dockreorder: ignore-file` anywhere in a Dockerfile to leave it alone.\n- Exclude files in `.dockreorder.yaml` (`exclude: [\"path/**\"]`).\n");
    out
}
