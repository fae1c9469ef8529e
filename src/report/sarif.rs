//! SARIF 2.1.0: one result per change, each applied change with its own
//! fix (its edits of the original); the fixes of a file are disjoint and
//! together give the `--write` output.

use serde_json::{Value, json};

use super::{FileReport, label};
use crate::plan::{Applicability, Change};

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
pub fn sarif(files: &[FileReport<'_>], root: Option<&std::path::Path>) -> Value {
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
        // What decided the order, as the text report says it; a walked
        // history too short to decide is said to be that.
        let decided = crate::rewrite::usable_history(f.history).is_some();
        let mut order = json!({
            "orderedBy": if decided { "history" } else { "static_estimate" },
        });
        if let Some(h) = f.history.filter(|_| !decided) {
            order["historyNote"] = json!(format!(
                "{} commits walked, {} of them touching the build context: fewer than {}, too few to weigh the order by; it follows the static estimate",
                h.commits.len(),
                crate::rewrite::context_commits(h),
                crate::rewrite::MIN_HISTORY_COMMITS
            ));
        }
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
            if let (Some(props), Some(extra)) = (r["properties"].as_object_mut(), order.as_object())
            {
                props.extend(extra.clone());
            }
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
            "originalUriBaseIds": root_base(root),
            "results": results,
        }]
    })
}

/// `SRCROOT`, the directory the artifact URIs are relative to, as a
/// `file://` URI ending in `/` (SARIF 3.14.14), when it is known.
fn root_base(root: Option<&std::path::Path>) -> Value {
    match root.and_then(|r| std::fs::canonicalize(r).ok()) {
        Some(abs) => {
            let mut uri = format!("file://{}", percent_encode_path(&abs.to_string_lossy()));
            if !uri.ends_with('/') {
                uri.push('/');
            }
            json!({"SRCROOT": {"uri": uri}})
        }
        None => json!({}),
    }
}
