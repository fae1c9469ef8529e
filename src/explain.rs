//! `dockreorder explain`: a readable table per stage of what each
//! instruction reads and writes and which instructions it must follow.

use std::fmt::Write;

use crate::analysis::context::Context;
use crate::analysis::effects::{self, Loc};
use crate::analysis::graph::DepGraph;
use crate::model::Model;
use crate::syntax::Parse;

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

pub fn explain(text: &str, parse: &Parse, ctx: Option<&Context>) -> String {
    let model = Model::build(parse, text);
    let mut out = String::new();
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
        let (eff, _) = effects::analyze_stage(parse, stage);
        let graph = DepGraph::build(&eff);
        for (k, (u, e)) in stage.units.iter().zip(&eff).enumerate() {
            let item = &parse.items[u.item];
            let first = item.span.text(text).lines().next().unwrap_or("").trim();
            let _ = writeln!(out, "  line {:>4}  {}", item.lines.start, first);
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
