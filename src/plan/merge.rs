//! Merge a lone package index update into its install.
//!
//! What it does: joins
//! `RUN apt-get update` (or `apk update`, `yum makecache`) with the install
//! `RUN` right after it. Why: a separate update layer stays cached and goes
//! stale, so a later change to the install list installs from an old index.
//! Fix safety: `Safe` (the same commands run in the same order with the
//! same environment); only done when both are plain shell-form `RUN`s and
//! the install is a `&&` chain.
//!

use super::{Applicability, Change, ChangeKind, Merge, Options, instruction};
use crate::analysis::file::FileAnalysis;
use crate::analysis::shell::{self, Op, Split};
use crate::syntax::Instruction;

/// Merge pass: lone `apt-get update` (and friends) joined with the install.
pub fn plan_merges(file: &FileAnalysis, opts: Options) -> (Vec<Merge>, Vec<Change>) {
    let (parse, model) = (&file.parse, &file.model);
    let mut merges = Vec::new();
    let mut changes = Vec::new();
    for (si, stage) in model.stages.iter().enumerate() {
        let eff = &file.stages[si].effects;
        for k in 0..stage.units.len().saturating_sub(1) {
            let (u, v) = (&stage.units[k], &stage.units[k + 1]);
            let Some(fam) = &eff[k].lone_update else {
                continue;
            };
            if eff[k + 1].install_of.as_deref() != Some(fam.as_str()) || u.keep || v.keep {
                continue;
            }
            let (Some(ui), Some(vi)) = (instruction(parse, u.item), instruction(parse, v.item))
            else {
                continue;
            };
            let plain =
                |i: &Instruction| i.node.flags.is_empty() && !i.node.json && i.heredocs.is_empty();
            if !plain(ui)
                || !plain(vi)
                || parse.items[u.item].lines.start != parse.items[u.item].lines.end
            {
                continue;
            }
            // Only blank lines and comments between them.
            if (u.item + 1..v.first_item).any(|i| parse.items[i].instruction().is_some()) {
                continue;
            }
            let install_text = vi.node.str_args().next().unwrap_or("");
            let and_chain = match shell::split(install_text) {
                Split::Commands(c) => c.iter().skip(1).all(|c| c.joined_by == Some(Op::And)),
                Split::Opaque(_) => false,
            };
            if !and_chain {
                continue;
            }
            let update = ui.node.str_args().next().unwrap_or("").trim().to_string();
            // The merge prefixes `{update} && `: the update must be one
            // command with nothing after it (a trailing comment would
            // swallow the install, a trailing `;` or `&` would give a
            // syntax error).
            if !lone_command(&update) {
                continue;
            }
            let applied = Applicability::Safe >= opts.threshold;
            changes.push(Change {
                kind: ChangeKind::MergeUpdate,
                applicability: Applicability::Safe,
                line: parse.items[u.item].lines.start,
                summary: format!("merged `{update}` into the `RUN` on line {}", parse.items[v.item].lines.start),
                reason: format!(
                    "a lone `{update}` layer stays cached and goes stale, so a later change to the install list would install from an old package index; the same commands still run in the same order with the same environment"
                ),
                applied,
                stage: si,
                subject: ui.original.trim().to_string(),
                anchor: None,
                inserted: 0,
                moved_with: Vec::new(),
                above_line: None,
                edits: Vec::new(),
                split_from: None,
                split_rest: None,
                split_why: None,
            });
            if applied {
                merges.push(Merge {
                    update_item: u.item,
                    install_item: v.item,
                    prefix: format!("{update} && "),
                });
            }
        }
    }
    (merges, changes)
}

/// Whether `text` is one simple command that ` && ` may follow: no
/// top-level operator (`;`, `&`, `|`, `&&`, `||`, a newline), no comment,
/// no trailing escape.
fn lone_command(text: &str) -> bool {
    shell::top_level_ops(text).is_some_and(|ops| ops.is_empty())
        && !text.ends_with('\\')
        && matches!(shell::split(text), Split::Commands(c) if c.len() == 1)
}
