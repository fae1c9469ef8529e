//! Verification of a rewrite before anything is output (DESIGN.md
//! section 9): the new text parses, holds the same instructions, runs
//! each in the working directory it ran in, keeps every edge of the old
//! dependency graph (same pairs, same order), and is a fixed point of the
//! planner. A failure is an error for the file.

use std::collections::BTreeMap;

use super::apply::apply_merges;
use super::net::{match_units, unit_texts};
use super::{RewriteError, Rewriter};
use crate::analysis::context::Context;
use crate::analysis::deletions;
use crate::analysis::effects;
use crate::analysis::file::FileAnalysis;
use crate::analysis::kb::Knowledge;
use crate::analysis::manifests;
use crate::plan::{self, Change, short, split};
use crate::syntax::Parse;

fn instruction_texts(parse: &Parse) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (_, ins) in parse.instructions() {
        *m.entry(ins.original.trim().to_string()).or_insert(0) += 1;
    }
    m
}

/// The dependency check of DESIGN.md section 9: every edge of the old
/// text's graph (a pair that must keep its order) keeps it in the new
/// text. Returns the first broken pair (texts of the earlier and the later
/// instruction). Instructions whose text changed (merged `RUN`s) and
/// inserted ones are matched by nothing and checked by the re-plan.
pub fn broken_edge(
    old: &str,
    new: &str,
    ctx: Option<&Context>,
    skip: &[String],
) -> Option<(String, String)> {
    broken_edge_with(Knowledge::embedded(), old, new, ctx, skip)
}

/// [`broken_edge`] with the knowledge in force.
pub fn broken_edge_with(
    knowledge: &Knowledge,
    old: &str,
    new: &str,
    ctx: Option<&Context>,
    skip: &[String],
) -> Option<(String, String)> {
    broken_edge_of(
        &FileAnalysis::new(old, ctx, knowledge),
        &FileAnalysis::new(new, ctx, knowledge),
        ctx,
        skip,
    )
}

/// [`broken_edge`] on the analyses of the two texts (with the per-build
/// assumption, as [`FileAnalysis::new`] makes them).
fn broken_edge_of(
    old: &FileAnalysis,
    new: &FileAnalysis,
    ctx: Option<&Context>,
    skip: &[String],
) -> Option<(String, String)> {
    let (op, om) = (&old.parse, &old.model);
    let (np, nm) = (&new.parse, &new.model);
    for (si, stage) in om.stages.iter().enumerate() {
        let nstage = nm.stages.get(si)?;
        let (ot, nt) = (unit_texts(op, stage), unit_texts(np, nstage));
        let (pos, used) = match_units(&ot, &nt);
        let (eff, state) = (&old.stages[si].effects, &old.stages[si].state);
        let neff = &new.stages.get(si)?.effects;
        let n = eff.len().min(ot.len());
        // An inserted COPY may have the text of one the file already had:
        // every occurrence of a text the new file has more of counts as
        // inserted.
        let surplus = |t: &String| {
            nt.iter().filter(|x| *x == t).count() > ot.iter().filter(|x| *x == t).count()
        };
        for a in 0..n {
            // What `a` writes, made once for every `b` it passes (a broad
            // copy lists every file it ships).
            let mut writes_a: Option<effects::Effects> = None;
            for b in a + 1..n {
                let (Some(pa), Some(pb)) = (pos[a], pos[b]) else {
                    continue;
                };
                if pa < pb {
                    continue;
                }
                if skip.iter().any(|t| *t == ot[a] || *t == ot[b]) {
                    continue;
                }
                // A hoist inserts a COPY of the same files from the same
                // context before `b`: what it writes, `a` no longer needs
                // to provide.
                let inserted: Vec<&effects::Loc> = (0..pb)
                    .filter(|j| !used[*j] || surplus(&nt[*j]))
                    .filter_map(|j| neff.get(j))
                    .flat_map(|e| e.writes.iter())
                    .collect();
                let mut rest = writes_a
                    .get_or_insert_with(|| {
                        let mut w = eff[a].clone();
                        // A copy from the context writes exactly what it
                        // ships.
                        let exact = ctx
                            .zip(op.items[stage.units[a].item].instruction())
                            .and_then(|(c, ins)| {
                                effects::exact_copy_writes(
                                    ins,
                                    &state.workdirs[a],
                                    state.paths_env(a)?,
                                    c,
                                )
                            });
                        if let Some(x) = exact {
                            w.writes.retain(|x| {
                                !matches!(x, effects::Loc::Path(_) | effects::Loc::Dir { .. })
                            });
                            w.writes.extend(x);
                        }
                        w
                    })
                    .clone();
                // Unless `b` writes the file too: the copy `a` then puts
                // back what `b` wrote, and the inserted COPY does not
                // change that; only a file `b` leaves as it is (written
                // only when missing, a lock npm keeps) is discharged. (A
                // directory made again with the same owner is the same.)
                rest.writes.retain(|w| {
                    !inserted.contains(&w)
                        || (matches!(w, effects::Loc::Path(_))
                            && loc_written(&eff[b], w)
                            && !leaves_as_is(old, si, (a, b), ctx, w))
                });
                let mut needs = eff[b].clone();
                needs.reads.retain(|r| !inserted.contains(&r));
                // Each discharge below only removes locations: the
                // conflict is looked for again only when one did (it
                // compares every file a broad copy ships with every read).
                let mut found = effects::conflict(&rest, &needs);
                if found.is_some()
                    && let Some(c) = ctx
                {
                    // What an earlier COPY already put there, `b` reads
                    // from it (the hoist inserted no second COPY).
                    let before = copied_before(old, si, a, pb, &pos, neff, c);
                    let had = (needs.reads.len(), rest.writes.len());
                    needs.reads.retain(|r| !before.contains(r));
                    // A file `b` writes there and leaves as it found it (a
                    // lock it keeps) is the same whichever copy put it.
                    rest.writes
                        .retain(|w| !before.contains(w) || !leaves_as_is(old, si, (a, b), ctx, w));
                    if (needs.reads.len(), rest.writes.len()) != had {
                        found = effects::conflict(&rest, &needs);
                    }
                }
                if found.is_some()
                    && let Some(c) = ctx
                    && (never_runs_git(old, si, (a, b), c) || git_absent(old, si, (a, b), c))
                {
                    // The repository it would look at is never looked at.
                    let repo: Vec<effects::Loc> = eff[b]
                        .repo_reads
                        .iter()
                        .map(|p| effects::Loc::Path(p.clone()))
                        .collect();
                    let had = needs.reads.len();
                    needs.reads.retain(|r| !repo.contains(r));
                    if needs.reads.len() != had {
                        found = effects::conflict(&rest, &needs);
                    }
                }
                if found.is_some() {
                    // What both write and a later RUN deletes before any
                    // use is in neither text's image.
                    let gone = deleted_in_both(old, new, si, (a, b), &pos, &rest, &needs);
                    let had = rest.writes.len();
                    rest.writes.retain(|w| !gone.contains(w));
                    if rest.writes.len() != had {
                        found = effects::conflict(&rest, &needs);
                    }
                }
                if let Some(why) = found {
                    return Some((ot[a].clone(), format!("{} ({why})", ot[b])));
                }
            }
        }
    }
    None
}

/// The files old unit `a`, a `COPY` from the context, puts where an
/// earlier plain `COPY` `u` already put the same context file with the
/// same flags, when `u` stands before new position `pb` and nothing
/// rewrites the file between them, in the old text or the new: a unit at
/// `pb` finds there what it found after `a`. Its reads of them are served
/// so; what it writes there still conflicts with `a` unless it leaves the
/// file as it found it ([`leaves_as_is`]).
fn copied_before(
    old: &FileAnalysis,
    si: usize,
    a: usize,
    pb: usize,
    pos: &[Option<usize>],
    new_eff: &[effects::Effects],
    ctx: &Context,
) -> Vec<effects::Loc> {
    let stage = &old.model.stages[si];
    let (eff, state) = (&old.stages[si].effects, &old.stages[si].state);
    let placements = |k: usize| {
        old.parse.items[stage.units[k].item]
            .instruction()
            .and_then(|i| {
                effects::context_placements(i, &state.workdirs[k], state.placement_env(k), ctx)
            })
    };
    let Some(placed_a) = placements(a) else {
        return Vec::new();
    };
    let by_a: std::collections::HashMap<&str, &str> = placed_a
        .files
        .iter()
        .map(|(i, r)| (i.as_str(), r.as_str()))
        .collect();
    let mut out = Vec::new();
    for u in 0..a {
        let Some(Some(pu)) = pos.get(u) else {
            continue;
        };
        let pu = *pu;
        if pu >= pb {
            continue;
        }
        let Some(by_u) = placements(u) else {
            continue;
        };
        if by_u.flags != placed_a.flags {
            continue;
        }
        for (img, rel) in by_u.files {
            if by_a.get(img.as_str()) != Some(&rel.as_str()) {
                continue;
            }
            let rewritten_old = (u + 1..a).any(|k| effects::writes_path(&eff[k], &img));
            let rewritten_new =
                (pu + 1..pb).any(|k| new_eff.get(k).is_none_or(|e| effects::writes_path(e, &img)));
            if !rewritten_old && !rewritten_new {
                out.push(effects::Loc::Path(img));
            }
        }
    }
    out
}

/// Where old unit `a`, a copy from the context, puts its files
/// ([`effects::context_placements`]).
fn placements_of(
    old: &FileAnalysis,
    si: usize,
    a: usize,
    ctx: &Context,
) -> Option<effects::Placements> {
    let (stage, sa) = (old.model.stages.get(si)?, old.stages.get(si)?);
    let ins = old.parse.items[stage.units[a].item].instruction()?;
    effects::context_placements(ins, &sa.state.workdirs[a], sa.state.placement_env(a), ctx)
}

/// Whether old unit `b`'s git never runs ([`manifests::runs_no_git`]),
/// judged by the lock files old unit `a`, a copy from the context, puts
/// where `b` reads them, when nothing between them rewrites those.
fn never_runs_git(old: &FileAnalysis, si: usize, (a, b): (usize, usize), ctx: &Context) -> bool {
    let (Some(sa), Some(placed)) = (old.stages.get(si), placements_of(old, si, a, ctx)) else {
        return false;
    };
    manifests::runs_no_git(&sa.effects[b], |dir, name| {
        placed_text(old, si, &placed, (a, b), ctx, dir, name)
    })
}

/// The text of file `name` of image directory `dir` as old unit `b` reads
/// it when old unit `a`, a copy from the context, put the files `placed`:
/// `Some(None)` when nothing puts it there, `None` when another unit
/// before `b` may.
fn placed_text(
    old: &FileAnalysis,
    si: usize,
    placed: &effects::Placements,
    (a, b): (usize, usize),
    ctx: &Context,
    dir: &str,
    name: &str,
) -> Option<Option<String>> {
    let img = effects::resolve(dir, name);
    let (stage, sa) = (old.model.stages.get(si)?, old.stages.get(si)?);
    // A directory made (`WORKDIR /app` after the copy) changes no file in
    // it.
    // What `a` places, units before it wrote in vain.
    let from = if placed.files.iter().any(|(p, _)| *p == img) {
        a + 1
    } else {
        0
    };
    // A unit after `a` that keeps the lock file as `a` put it (`go mod
    // download` before `go mod verify`) changes nothing there either.
    let others = (from..b).any(|k| {
        k != a && {
            let mut files = sa.effects[k].clone();
            files
                .writes
                .retain(|l| !matches!(l, effects::Loc::Dir { .. }));
            effects::unit_may_put(&old.parse, stage, &sa.state, k, &files, &img, ctx)
                && !(k > a
                    && leaves_as_is(old, si, (a, k), Some(ctx), &effects::Loc::Path(img.clone())))
        }
    });
    if others {
        return None;
    }
    match placed.files.iter().find(|(p, _)| *p == img) {
        Some((_, rel)) => ctx.read(rel).map(Some),
        None => Some(None),
    }
}

/// Whether old unit `b` writes location `w`.
fn loc_written(b: &effects::Effects, w: &effects::Loc) -> bool {
    let reader = effects::Effects {
        reads: vec![w.clone()],
        ..effects::Effects::default()
    };
    effects::conflict(b, &reader).is_some()
}

/// Whether old unit `b`, which writes file `w` that the copy `a` ships,
/// leaves it as `a` put it: it writes it only when missing, or it is a
/// lock file `b` keeps ([`effects::lock_kept`], judged by the files `a`
/// puts where `b` reads them).
fn leaves_as_is(
    old: &FileAnalysis,
    si: usize,
    (a, b): (usize, usize),
    ctx: Option<&Context>,
    w: &effects::Loc,
) -> bool {
    let effects::Loc::Path(p) = w else {
        return false;
    };
    let (Some(stage), Some(sa)) = (old.model.stages.get(si), old.stages.get(si)) else {
        return false;
    };
    let eb = &sa.effects[b];
    if eb.writes_if_missing.contains(p) {
        return true;
    }
    let Some(ctx) = ctx else {
        return false;
    };
    if !eb.kept_locks.contains(p) {
        return false;
    }
    let Some(placed) = placements_of(old, si, a, ctx) else {
        return false;
    };
    effects::lock_kept(
        &old.parse,
        stage,
        &sa.effects,
        &sa.state,
        (b, Some(ctx)),
        p,
        |dir, name| placed_text(old, si, &placed, (a, b), ctx, dir, name),
    )
}

/// Whether no git program can run at old unit `b`
/// ([`effects::git_cannot_run`]) and the copy `a` ships none: the context
/// holds no file named `git` and no directory whose contents are not
/// known (whatever part of it `a` copies).
fn git_absent(old: &FileAnalysis, si: usize, (a, b): (usize, usize), ctx: &Context) -> bool {
    let (Some(stage), Some(sa)) = (old.model.stages.get(si), old.stages.get(si)) else {
        return false;
    };
    let Some(files) = ctx.files() else {
        return false;
    };
    let Some(ins) = old.parse.items[stage.units[a].item].instruction() else {
        return false;
    };
    let Some(placed) =
        effects::context_placements(ins, &sa.state.workdirs[a], sa.state.placement_env(a), ctx)
    else {
        return false;
    };
    let ships_git =
        !ctx.unknown_dirs().is_empty() || files.keys().any(|f| f.rsplit('/').next() == Some("git"));
    !ships_git
        && effects::git_cannot_run(&old.parse, stage, &sa.effects, &sa.state, b, |dir, name| {
            placed_text(old, si, &placed, (a, b), ctx, dir, name)
        })
}

/// The paths old unit `a` writes, which old unit `b` (after it in the old
/// text, before it in the new one) writes too but does not read, that the
/// same later `RUN` deletes in both texts before anything else reads or
/// writes them: in the old text no unit between `a` and the delete but `b`
/// touches them, in the new text none between `b` and the delete but `a`.
/// The write-after-write edge of those paths does not change the image.
fn deleted_in_both(
    old: &FileAnalysis,
    new: &FileAnalysis,
    si: usize,
    (a, b): (usize, usize),
    pos: &[Option<usize>],
    a_writes: &effects::Effects,
    b_effects: &effects::Effects,
) -> Vec<effects::Loc> {
    let (Some(ostage), Some(nstage)) = (old.model.stages.get(si), new.model.stages.get(si)) else {
        return Vec::new();
    };
    let (oeff, neff) = (&old.stages[si].effects, &new.stages[si].effects);
    let (Some(Some(pa)), Some(Some(pb))) = (pos.get(a), pos.get(b)) else {
        return Vec::new();
    };
    let odel = deletions::of_stage(&old.parse, ostage, &old.stages[si].state);
    let ndel = deletions::of_stage(&new.parse, nstage, &new.stages[si].state);
    let mut b_reads = b_effects.clone();
    b_reads.writes.clear();
    let mut out = Vec::new();
    for w in &a_writes.writes {
        let effects::Loc::Path(p) = w else {
            continue;
        };
        if !effects::writes_path(b_effects, p) {
            continue;
        }
        let writer = effects::Effects {
            writes: vec![w.clone()],
            ..effects::Effects::default()
        };
        if effects::conflict(&writer, &b_reads).is_some() {
            continue;
        }
        let top = deletions::written_top(b_effects, p);
        let Some(d) = deletions::first_deleter(oeff, &odel, a, &top, &[b]) else {
            continue;
        };
        let Some(nd) = deletions::first_deleter(neff, &ndel, *pb, &top, &[*pa]) else {
            continue;
        };
        if d > b && nd > *pa && pos.get(d) == Some(&Some(nd)) {
            out.push(w.clone());
        }
    }
    out
}

impl Rewriter<'_> {
    /// The reliability rules of DESIGN.md section 9: the result parses,
    /// holds the same instructions (plus the inserted COPYs and
    /// `WORKDIR`s, with merged RUNs joined), runs each in the working
    /// directory it ran in, keeps every edge of the old dependency graph,
    /// and a second run changes nothing.
    pub(super) fn check(
        &self,
        old: &str,
        new: &str,
        changes: &[Change],
    ) -> Result<(), RewriteError> {
        let new_file = self.analyze_per_build(new);
        if let Some(e) = new_file.parse.errors.first() {
            return Err(refusal(format!(
                "the rewritten file does not parse ({})",
                e.message
            )));
        }
        let old_file = self.analyze_per_build(old);
        same_instructions(&old_file.parse, &new_file.parse, changes)?;
        // Unsafe changes (applied with --unsafe) are the ones the model
        // could not prove: their edges are not checked, the report names
        // their risk.
        let unproven: Vec<String> = changes
            .iter()
            .filter(|c| c.applied && c.applicability == plan::Applicability::Unsafe)
            .map(|c| c.subject.clone())
            .collect();
        // Merges are checked above (same commands, one RUN); the edges are
        // those of the merged text, where every instruction keeps its text.
        let (merges, _) = plan::plan_merges(&old_file, self.opts);
        let merged = if merges.is_empty() {
            old.to_string()
        } else {
            apply_merges(old, &old_file.parse, &merges)
        };
        // Splits are checked when planned (the two parts read back as the
        // `RUN`); the edges are those of the split text, so both parts keep
        // every order the `RUN` had.
        let split_from: Vec<(usize, &String)> = changes
            .iter()
            .filter(|c| c.applied)
            .filter_map(|c| c.split_from.as_ref().map(|o| (c.stage, o)))
            .collect();
        let merged = if split_from.is_empty() {
            merged
        } else {
            // Without merges the merged text is the old one, analysed above.
            let analysed;
            let merged_file = if merges.is_empty() {
                &old_file
            } else {
                analysed = self.analyze_per_build(&merged);
                &analysed
            };
            let splits: Vec<split::Split> =
                split::plan_splits(merged_file, self.ctx, self.knowledge, self.opts)
                    .into_iter()
                    .filter(|s| split_from.contains(&(s.stage, &s.original)))
                    .collect();
            if splits.len() != split_from.len() {
                return Err(refusal(
                    "a split `RUN` is not one the planner would split".into(),
                ));
            }
            split::apply_splits(&merged, &merged_file.parse, &splits)
        };
        let merged_file = self.analyze_per_build(&merged);
        if let Some((text, old_wd, new_wd)) = moved_working_directory(&merged_file, &new_file) {
            return Err(refusal(format!(
                "the rewrite runs `{}` in `{new_wd}`, not in `{old_wd}`",
                short(&text)
            )));
        }
        if let Some((a, b)) = broken_edge_of(&merged_file, &new_file, self.ctx, &unproven) {
            return Err(refusal(format!(
                "the rewrite puts `{}` before `{}`, which must stay after it",
                short(&b),
                short(&a)
            )));
        }
        let again = self.plan(new)?;
        if again.text != new {
            let c = again
                .changes
                .iter()
                .find(|c| c.applied)
                .map(|c| c.summary.clone())
                .unwrap_or_default();
            return Err(refusal(format!(
                "a second run would change the file again ({c})"
            )));
        }
        Ok(())
    }
}

/// The first instruction that reads the working directory and runs in
/// another one in the new text than in the old (its text, the old
/// directory and the new one): a hoist that inserts `WORKDIR`s must leave
/// every such instruction where it ran (`ADD . /code` does not read it,
/// and may pass a `WORKDIR`). Directories not known (from a base image)
/// are compared only with each other.
fn moved_working_directory(
    old: &FileAnalysis,
    new: &FileAnalysis,
) -> Option<(String, String, String)> {
    for (si, stage) in old.model.stages.iter().enumerate() {
        let nstage = new.model.stages.get(si)?;
        let (ot, nt) = (
            unit_texts(&old.parse, stage),
            unit_texts(&new.parse, nstage),
        );
        let (pos, _) = match_units(&ot, &nt);
        let (ow, nw) = (
            &old.stages[si].state.workdirs,
            &new.stages.get(si)?.state.workdirs,
        );
        for (a, p) in pos.iter().enumerate() {
            let (Some(p), Some(o)) = (p, ow.get(a)) else {
                continue;
            };
            let Some(n) = nw.get(*p) else { continue };
            let reads_it = old.stages[si]
                .effects
                .get(a)
                .is_some_and(|e| e.reads.contains(&effects::Loc::Workdir));
            if !reads_it {
                continue;
            }
            let known = |w: &str| !w.contains('?');
            if o != n && (known(o) || known(n)) {
                return Some((ot[a].clone(), o.clone(), n.clone()));
            }
        }
    }
    None
}

fn refusal(what: String) -> RewriteError {
    RewriteError {
        line: 1,
        column: 1,
        message: format!("refusing to write: {what}"),
    }
}

/// The same instructions before and after, but for merged update RUNs (one
/// fewer each), split `RUN`s (one more each) and the COPYs and `WORKDIR`s
/// hoists insert.
fn same_instructions(p_old: &Parse, p_new: &Parse, changes: &[Change]) -> Result<(), RewriteError> {
    let before = instruction_texts(p_old);
    let after = instruction_texts(p_new);
    let merges = changes
        .iter()
        .filter(|c| c.applied && c.kind == plan::ChangeKind::MergeUpdate)
        .count();
    let hoists: usize = changes
        .iter()
        .filter(|c| c.applied && c.kind == plan::ChangeKind::Hoist)
        .map(|c| c.inserted)
        .sum();
    let splits = changes
        .iter()
        .filter(|c| c.applied && c.split_from.is_some())
        .count();
    let n_before: usize = before.values().sum();
    let n_after: usize = after.values().sum();
    if n_after + merges < n_before + splits || n_after + merges > n_before + splits + hoists {
        return Err(refusal(format!(
            "the rewritten file has {n_after} instructions, expected {n_before} minus {merges} merged plus {splits} split plus at most {hoists} inserted"
        )));
    }
    let missing: usize = before
        .iter()
        .map(|(t, n)| n.saturating_sub(after.get(t).copied().unwrap_or(0)))
        .sum();
    if missing > 2 * merges + splits {
        return Err(refusal("instructions were lost in the rewrite".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(text: &str) -> FileAnalysis {
        FileAnalysis::new(text, None, Knowledge::embedded())
    }

    #[test]
    fn an_instruction_moved_out_of_its_working_directory_is_found() {
        let old = "FROM node:20\nWORKDIR /repo\nCOPY . .\nWORKDIR web\nRUN npm ci\n";
        // Moved above the `WORKDIR` that set its directory.
        let bad = "FROM node:20\nWORKDIR /repo\nRUN npm ci\nCOPY . .\nWORKDIR web\n";
        assert_eq!(
            moved_working_directory(&analysis(old), &analysis(bad)),
            Some((
                "RUN npm ci".to_string(),
                "/repo/web".to_string(),
                "/repo".to_string()
            ))
        );
        // With its directory set before it, and the copy's set again.
        let good = "FROM node:20\nWORKDIR /repo\nWORKDIR /repo/web\nRUN npm ci\nWORKDIR /repo\nCOPY . .\nWORKDIR web\n";
        assert_eq!(
            moved_working_directory(&analysis(old), &analysis(good)),
            None
        );
        // The copy's not set again: the copy runs elsewhere.
        let bad =
            "FROM node:20\nWORKDIR /repo\nWORKDIR /repo/web\nRUN npm ci\nCOPY . .\nWORKDIR web\n";
        assert_eq!(
            moved_working_directory(&analysis(old), &analysis(bad)).map(|t| t.0),
            Some("COPY . .".to_string())
        );
    }

    #[test]
    fn a_repeated_text_pairs_with_the_one_that_keeps_the_order() {
        let old: Vec<String> = ["WORKDIR /repo", "COPY . .", "USER node", "RUN npm ci"]
            .map(String::from)
            .to_vec();
        let new: Vec<String> = [
            "WORKDIR /repo",
            "USER node",
            "RUN npm ci",
            "WORKDIR /repo",
            "COPY . .",
        ]
        .map(String::from)
        .to_vec();
        let (pos, used) = match_units(&old, &new);
        assert_eq!(pos, vec![Some(0), Some(4), Some(1), Some(2)]);
        assert_eq!(used, vec![true, true, true, false, true]);
        // An inserted COPY like an earlier one stands above: the later
        // one is the original.
        let old: Vec<String> = ["COPY a ./", "COPY . .", "RUN x"]
            .map(String::from)
            .to_vec();
        let new: Vec<String> = ["COPY a ./", "COPY a ./", "RUN x", "COPY . ."]
            .map(String::from)
            .to_vec();
        assert_eq!(match_units(&old, &new).0, vec![Some(1), Some(3), Some(2)]);
    }
}
