//! Emitters: unified diffs and summaries (text) and JSON. Only this module
//! and `main` decide how results look; the library computes them.

use serde_json::{Value, json};
use similar::TextDiff;

use crate::analysis::effects;
use crate::analysis::history::{History, WalkEnd};
use crate::model::Model;
use crate::plan::{Applicability, Change};
use crate::simulate::FileFigures;
use crate::syntax;

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

/// Per instruction: line, keyword and effects (for `--format json`).
pub fn instructions_json(text: &str) -> Vec<Value> {
    let parse = syntax::parse(text);
    let model = Model::build(&parse, text);
    let mut out = Vec::new();
    for stage in &model.stages {
        let (eff, _) = effects::analyze_stage(&parse, stage);
        for (u, e) in stage.units.iter().zip(eff) {
            let item = &parse.items[u.item];
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

pub fn file_json(
    path: &str,
    old: &str,
    new: &str,
    changes: &[Change],
    error: Option<String>,
) -> Value {
    json!({
        "path": path,
        "changed": old != new,
        "error": error,
        "changes": changes,
        "diff": if old != new { Value::String(unified_diff(path, old, new)) } else { Value::Null },
        "instructions": if error.is_none() { Value::Array(instructions_json(old)) } else { Value::Array(vec![]) },
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
    let mut used = vec![false; after.units.len()];
    for b in &before.units {
        let Some(k) = after
            .units
            .iter()
            .enumerate()
            .position(|(k, a)| !used[k] && a.instruction == b.instruction)
        else {
            continue;
        };
        used[k] = true;
        let a = &after.units[k];
        if a.rebuilds != b.rebuilds && b.cost > 0.0 {
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
    let mut used = vec![false; after.units.len()];
    let mut units = Vec::new();
    for b in &before.units {
        let k = after
            .units
            .iter()
            .enumerate()
            .position(|(k, a)| !used[k] && a.instruction == b.instruction);
        if let Some(k) = k {
            used[k] = true;
        }
        units.push(json!({
            "line": b.line,
            "instruction": b.instruction,
            "source_changes": b.source_changes,
            "rebuilds": {"before": b.rebuilds, "after": k.map(|k| after.units[k].rebuilds)},
            "cost": b.cost,
        }));
    }
    for (k, a) in after.units.iter().enumerate() {
        if !used[k] {
            units.push(json!({
                "line_after": a.line,
                "instruction": a.instruction,
                "source_changes": a.source_changes,
                "rebuilds": {"before": null, "after": a.rebuilds},
                "cost": a.cost,
                "inserted": true,
            }));
        }
    }
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
