//! `dockreorder explain`: a readable table per stage of what each
//! instruction reads and writes and which instructions it must follow.

use std::fmt::Write;

use crate::analysis::context::Context;
use crate::analysis::effects::Loc;
use crate::analysis::file::FileAnalysis;
use crate::analysis::graph::DepGraph;
use crate::analysis::history::History;

fn locs(l: &[Loc]) -> String {
    if l.is_empty() {
        return "-".into();
    }
    let v: Vec<String> = l.iter().map(|x| x.to_string()).collect();
    let s = v.join(", ");
    if s.chars().count() > 70 {
        format!("{}…", s.chars().take(69).collect::<String>())
    } else {
        s
    }
}

/// A bar of `width` cells for `n` out of `total`.
pub fn bar(n: u64, total: u64, width: usize) -> String {
    if total == 0 {
        return " ".repeat(width);
    }
    let eighths = ((n as f64 / total as f64) * (width * 8) as f64).round() as usize;
    let full = eighths / 8;
    let part = eighths % 8;
    let mut s = "█".repeat(full.min(width));
    if full < width {
        s.push_str(["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][part]);
        let used = full + usize::from(part > 0);
        s.push_str(&" ".repeat(width - used));
    }
    s
}

pub fn explain(file: &FileAnalysis, ctx: Option<&Context>, history: Option<&History>) -> String {
    let (text, parse, model) = (file.text.as_str(), &file.parse, &file.model);
    let mut out = String::new();
    let replayed = history.map(|h| crate::replay::replay(file, h));
    if let Some(h) = history {
        let _ = writeln!(
            out,
            "history: {} commits walked ({}{})",
            crate::report::thousands(h.commits.len() as u64),
            if h.first_parent {
                "first parent"
            } else {
                "all parents"
            },
            if h.truncated() { ", cut short" } else { "" }
        );
    } else {
        let _ = writeln!(out, "history: none (static estimate)");
    }
    if let Some(c) = ctx {
        let n = c.files().map_or(0, |f| f.len());
        let _ = writeln!(
            out,
            "build context: {} ({n} files shipped{})",
            c.dir.display(),
            c.ignore
                .source
                .as_ref()
                .map(|s| format!(", after {}", s.display()))
                .unwrap_or_default()
        );
    }
    for (si, stage) in model.stages.iter().enumerate() {
        let from = &parse.items[stage.from_item];
        let _ = writeln!(
            out,
            "\nstage {si}{} (line {})",
            stage
                .name
                .as_ref()
                .map(|n| format!(" `{n}`"))
                .unwrap_or_default(),
            from.lines.start
        );
        let eff = &file.stages[si].effects;
        let graph = DepGraph::build(eff);
        let sh = replayed.as_ref().and_then(|r| r.get(si));
        let order: Vec<usize> = (0..stage.units.len()).collect();
        let rebuilds = sh.map(|h| (h.optimistic_rebuilds(&order), h.rebuilds(&order)));
        if sh.is_some_and(|h| !h.default_target) {
            let _ = writeln!(
                out,
                "  (built only with `--target`: a default `docker build` does not build this stage)"
            );
        }
        for (k, (u, e)) in stage.units.iter().zip(eff).enumerate() {
            let item = &parse.items[u.item];
            let first = item.span.text(text).lines().next().unwrap_or("").trim();
            let _ = writeln!(out, "  line {:>4}  {}", item.lines.start, first);
            if let (Some(h), Some((lo, hi))) = (sh, &rebuilds) {
                let total = h.masks.len() as u64;
                let changes = h.source_changes.get(k).copied().unwrap_or(0);
                let hi = hi.get(k).copied().unwrap_or(0);
                let rb = crate::report::count_words(lo.get(k).copied() != Some(hi), hi);
                let _ = writeln!(
                    out,
                    "             inputs changed {} {:>6} of {} commits; rebuilt in {}",
                    bar(changes, total, 20),
                    crate::report::thousands(changes),
                    crate::report::thousands(total),
                    rb
                );
            }
            let _ = writeln!(out, "             reads:  {}", locs(&e.reads));
            let _ = writeln!(out, "             writes: {}", locs(&e.writes));
            if !e.context_reads.is_empty() {
                let _ = writeln!(out, "             context: {}", e.context_reads.join(", "));
            }
            if let Some(o) = &e.opaque {
                let _ = writeln!(
                    out,
                    "             unknown: {o} (reads and writes everything)"
                );
            }
            if let Some(c) = e.cost_class {
                let _ = writeln!(out, "             cost: {c:?} ({:.0})", e.cost);
            }
            for edge in graph.edges.iter().filter(|g| g.after == k) {
                let prev = &parse.items[stage.units[edge.before].item];
                let _ = writeln!(
                    out,
                    "             after line {}: {}",
                    prev.lines.start, edge.reason
                );
            }
        }
    }
    out
}
