//! `--format json`: per file, its changes (with their edits), diff,
//! instructions with their effects, and the history figures.

use serde_json::{Value, json};

use super::unified_diff;
use crate::analysis::file::FileAnalysis;
use crate::analysis::history::History;
use crate::plan::Change;
use crate::replay::FileFigures;

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
