//! Emitters: unified diffs and summaries (text) and JSON. Only this module
//! and `main` decide how results look; the library computes them.

use serde_json::{Value, json};
use similar::TextDiff;

use crate::analysis::effects;
use crate::model::Model;
use crate::plan::{Applicability, Change};
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
