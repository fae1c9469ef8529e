//! Text output: the summary after a file's diff and the history figures.

use super::{cost_words, end_words, figure_notes, label, thousands, unit_change};
use crate::analysis::history::History;
use crate::plan::{Applicability, Change, ChangeKind};
use crate::replay::FileFigures;

/// The short summary printed after a file's diff.
pub fn summary(path: &str, changes: &[Change], estimate_note: &str) -> String {
    let mut out = String::new();
    let applied = changes.iter().filter(|c| c.applied).count();
    if applied == 0 && changes.is_empty() {
        return out;
    }
    // What ordered the changes says nothing when none is made ("0 changes
    // (ordered by the walked history)" read oddly: scout76 review).
    // Nor when none it makes moves anything: a merged `apt-get update`
    // is not ordered by anything (scout78 review).
    let moves = changes
        .iter()
        .any(|c| c.applied && matches!(c.kind, ChangeKind::Hoist | ChangeKind::Reorder));
    if applied == 0 {
        out.push_str(&format!("{path}: 0 changes\n"));
    } else if !moves {
        out.push_str(&format!(
            "{path}: {applied} change{}\n",
            if applied == 1 { "" } else { "s" }
        ));
    } else {
        out.push_str(&format!(
            "{path}: {applied} change{} ({estimate_note})\n",
            if applied == 1 { "" } else { "s" }
        ));
    }
    for c in changes {
        let tag = if c.applied {
            label(c.applicability).to_string()
        } else if c.applicability == Applicability::Unsafe {
            "unsafe, not applied (use --unsafe)".to_string()
        } else {
            label(c.applicability).to_string()
        };
        // A split's own justification on a line of its own (scout78
        // review: the reason was one line of about 900 characters).
        let (why, split) = match c
            .split_why
            .as_deref()
            .and_then(|s| Some((c.reason.strip_suffix(s)?.strip_suffix("; ")?, s)))
        {
            Some((why, s)) => (why, format!("    split: {s}\n")),
            None => (c.reason.as_str(), String::new()),
        };
        out.push_str(&format!(
            "  line {}: [{tag}] {}\n    why: {why}\n{split}",
            c.line, c.summary
        ));
    }
    out
}

/// after.
pub fn history_text(path: &str, before: &FileFigures, after: &FileFigures, h: &History) -> String {
    let mut out = format!(
        "{path}: history: {} commit{} walked ({}, {}); mean rebuilt cost per commit {} before, {} after\n",
        thousands(before.commits),
        if before.commits == 1 { "" } else { "s" },
        if h.first_parent {
            "first parent"
        } else {
            "all parents"
        },
        end_words(h),
        cost_words(before),
        cost_words(after)
    );
    if crate::rewrite::usable_history(Some(h)).is_none() {
        out.push_str(
            "  note: too few commits to weigh the order by; it follows the static estimate, and these figures are only what the walked commits give\n",
        );
    }
    for (b, a) in before.pair_with(after) {
        if let (Some(b), Some(a)) = (b, a)
            && let Some((name, was, now, target)) = unit_change(b, a)
        {
            out.push_str(&format!(
                "  over {} commits: {name} ran in {was} of them before, {now} after{target}\n",
                thousands(before.commits),
            ));
        }
    }
    for note in figure_notes(before, after) {
        out.push_str(&format!("  note: {note}\n"));
    }
    if let Some(note) = super::per_build_words(before) {
        out.push_str(&format!("  note: {note}\n"));
    }
    for note in &h.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    out
}

/// ANSI colours for a unified diff: headers bold, additions green,
/// deletions red, hunk headers cyan.
pub fn paint_diff(diff: &str) -> String {
    let paint = |code: &str, line: &str| {
        let body = line.trim_end_matches('\n');
        let nl = if line.ends_with('\n') { "\n" } else { "" };
        format!("\x1b[{code}m{body}\x1b[0m{nl}")
    };
    diff.split_inclusive('\n')
        .map(|l| {
            if l.starts_with("+++") || l.starts_with("---") {
                paint("1", l)
            } else if l.starts_with('+') {
                paint("32", l)
            } else if l.starts_with('-') {
                paint("31", l)
            } else if l.starts_with("@@") {
                paint("36", l)
            } else {
                l.to_string()
            }
        })
        .collect()
}
