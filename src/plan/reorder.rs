//! Reorder the units of a stage.
//!
//! What it does: moves instructions within a stage, as the
//! dependency graph allows, so that rarely changing inputs come first.
//! Fix safety: every order that keeps the graph's edges is equivalent under
//! the effects model, so a reorder is `Safe`; ties keep the original order.

use super::{
    Applicability, Change, ChangeKind, Group, StageCx, StageOrder, first_line, instruction, short,
};
use crate::analysis::context::Context;
use crate::analysis::effects::{self, Effects, Loc};
use crate::analysis::kb::CostClass;
use crate::analysis::kb::ManifestCheck;
use crate::analysis::manifests::{extra_manifests, is_manifest_name, manifest_problems};
use crate::model::Stage;
use crate::syntax::{Instruction, Kind, Parse};

/// Static estimate of how often a unit's inputs change (per build): only
/// `COPY`/`ADD` read inputs from outside the Dockerfile.
pub fn change_probability(ins: &Instruction, e: &Effects, manifests: &[String]) -> f64 {
    if !matches!(ins.node.kind, Kind::Copy | Kind::Add) {
        return 0.0;
    }
    if let Some(from) = ins
        .node
        .flags
        .iter()
        .find_map(|f| f.strip_prefix("--from="))
    {
        // An image (`--from=ghcr.io/x/uv:0.5`) is as stable as its tag; a
        // stage changes when the stage is rebuilt.
        return if from.contains([':', '/', '@']) {
            0.0
        } else {
            0.3
        };
    }
    if e.context_reads.iter().any(|s| s.contains("://")) {
        return 0.1;
    }
    if e.context_reads.is_empty() {
        return 0.0;
    }
    let is_manifest = |s: &String| {
        let name = s.trim_end_matches('/').rsplit('/').next().unwrap_or(s);
        is_manifest_name(s) || manifests.iter().any(|m| m.rsplit('/').next() == Some(name))
    };
    if e.context_reads.iter().all(is_manifest) {
        MANIFEST_CHANGE
    } else {
        0.5
    }
}

/// Static change probabilities of a stage's units. A file that an
/// install of the stage reads as its manifest (`--lock deps.lock`) counts
/// as a manifest too.
pub fn static_probabilities(parse: &Parse, stage: &Stage, eff: &[Effects]) -> Vec<f64> {
    let manifests: Vec<String> = eff
        .iter()
        .flat_map(|e| e.manifests.iter().cloned())
        .collect();
    let mut p: Vec<f64> = stage
        .units
        .iter()
        .zip(eff)
        .map(|(u, e)| {
            instruction(parse, u.item).map_or(0.0, |i| change_probability(i, e, &manifests))
        })
        .collect();
    // An ARG assumed to take a new value on every build changes in every
    // build.
    for (x, e) in p.iter_mut().zip(eff) {
        if e.per_build.is_some() {
            *x = 1.0;
        }
    }
    // A project's manifests change rarely, and together: however many
    // COPYs carry them (a reactor's 40 POMs), any of them changes with the
    // probability one manifest copy has, not 40 times it.
    let manifest_copies = p.iter().filter(|&&x| x == MANIFEST_CHANGE).count();
    if manifest_copies > 1 {
        let share = 1.0 - (1.0 - MANIFEST_CHANGE).powf(1.0 / manifest_copies as f64);
        for x in p.iter_mut().filter(|x| **x == MANIFEST_CHANGE) {
            *x = share;
        }
    }
    p
}

/// The static change probability of a copy of dependency manifests only.
const MANIFEST_CHANGE: f64 = 0.05;

/// Reorder pass for one stage: by the history when one is given (`hist`),
/// else by the static estimate. With `args_only`, only the `ARG`s taken to
/// change on every build move (the other units keep their order).
pub fn plan_reorder(
    cx: &StageCx<'_>,
    hist: Option<&crate::replay::StageHistory>,
    floor: f64,
    args_only: bool,
    changes: &mut Vec<Change>,
) -> Option<StageOrder> {
    let r = reorder_candidate(cx, hist, args_only)?;
    r.take(floor, changes)
}

/// The best order of a stage and what it saves, before the materiality
/// threshold is applied: everything of [`plan_reorder`] that does not
/// depend on the threshold, so a planner that meets the same stage again
/// with another threshold weighs it without ordering it again.
#[derive(Debug, Clone)]
pub struct Reorder {
    pub order: StageOrder,
    pub change: Change,
    /// Expected cost of the original order minus that of the new one.
    pub saving: f64,
}

impl Reorder {
    /// The order when it saves at least `floor`, its change pushed to
    /// `changes`; `None` otherwise.
    pub fn take(&self, floor: f64, changes: &mut Vec<Change>) -> Option<StageOrder> {
        if self.saving < floor {
            return None;
        }
        changes.push(self.change.clone());
        Some(self.order.clone())
    }
}

/// [`plan_reorder`] without the threshold: the new order of the stage and
/// its saving, `None` when the best order is the original or saves
/// nothing.
pub fn reorder_candidate(
    cx: &StageCx<'_>,
    hist: Option<&crate::replay::StageHistory>,
    args_only: bool,
) -> Option<Reorder> {
    let StageCx {
        parse,
        text,
        index: stage_idx,
        stage,
        eff,
        state: _,
        ctx,
        ..
    } = *cx;
    let n = stage.units.len();
    if n < 2 {
        return None;
    }
    if n > crate::order::MAX_UNITS {
        return None;
    }
    let graph = crate::analysis::graph::DepGraph::build(eff);
    let mut preds = graph.preds(n);
    let p = static_probabilities(parse, stage, eff);
    let c: Vec<f64> = eff.iter().map(|e| e.cost).collect();
    // An install whose manifests declare scripts or local paths may read
    // more than the knowledge base says: it does not move. Nor does one
    // whose manifests are not known to be the context's files at the same
    // place.
    let mut movable = vec![true; n];
    // What the checks found each install reads (image paths), files its
    // manifests include too: the knowledge base names only the manifests
    // on the line (`pip install -r requirements.txt` reads
    // requirements.txt), not the `-r`/`-c` files they name.
    let mut check_reads: Vec<Vec<String>> = vec![Vec::new(); n];
    for (k, e) in eff.iter().enumerate() {
        if e.checks.is_empty() {
            continue;
        }
        match ctx.and_then(|ctx| checks_hold(cx, k, ctx)) {
            Some(files) => check_reads[k] = files,
            None => movable[k] = false,
        }
    }
    // Each such file stays below the units before the install that write
    // it and above the later ones (h-real62: the copy of an included
    // requirement file moved below the install; the rewrite failed to
    // build).
    for (k, files) in check_reads.iter().enumerate() {
        for (j, ej) in eff.iter().enumerate() {
            if j == k {
                continue;
            }
            let writes = ej.writes.iter().any(
                |w| matches!(w, Loc::Path(p) if files.iter().any(|f| effects::paths_overlap(p, f))),
            );
            if !writes {
                continue;
            }
            let (before, after) = if j < k { (j, k) } else { (k, j) };
            if !preds[after].contains(&before) {
                preds[after].push(before);
            }
        }
    }
    // An install that may read more than it declares stays below every
    // copy from the context that precedes it.
    for (u, m) in movable.iter().enumerate() {
        if !m {
            for (j, ej) in eff.iter().enumerate().take(u) {
                if !ej.context_reads.is_empty() && !preds[u].contains(&j) {
                    preds[u].push(j);
                }
            }
        }
    }
    if args_only {
        let others: Vec<usize> = (0..n).filter(|&k| eff[k].per_build.is_none()).collect();
        for w in others.windows(2) {
            preds[w[1]].push(w[0]);
        }
    }
    let (hits, basis) = match hist {
        Some(h) if !h.masks.is_empty() => (
            h.hits(),
            format!("over {} commits of history", h.masks.len()),
        ),
        _ => (crate::order::Hits::Static(p), "static estimate".to_string()),
    };
    // Only expensive steps (installs, builds) are worth moving for: a cheap
    // step rerun costs seconds, and moving for it makes diffs nobody merges.
    let c: Vec<f64> = c
        .iter()
        .zip(eff)
        .map(|(c, e)| if is_expensive(e) { *c } else { 0.0 })
        .collect();
    let order = crate::order::best_order(n, &preds, &c, &hits);
    if order.iter().enumerate().all(|(i, &u)| i == u) {
        return None;
    }
    let before = crate::order::expected_cost(&(0..n).collect::<Vec<_>>(), &c, &hits);
    let after = crate::order::expected_cost(&order, &c, &hits);
    if before - after <= 1e-6 * before.max(1.0) {
        return None;
    }
    // One change per stage; the report lists the net moves of the file.
    let first_moved = order
        .iter()
        .enumerate()
        .find(|(i, u)| *i != **u)
        .map_or(0, |(_, &u)| u);
    let change = Change {
        kind: ChangeKind::Reorder,
        applicability: Applicability::Safe,
        line: parse.items[stage.units[first_moved].item].lines.start,
        summary: format!(
            "reordered the stage so that `{}` runs earlier",
            short(&first_line(text, parse, stage.units[first_moved].item))
        ),
        reason: format!(
            "{basis}: no instruction it moves past reads or writes anything it reads or writes"
        ),
        applied: true,
        stage: stage_idx,
        subject: instruction(parse, stage.units[first_moved].item)
            .map(|i| i.original.trim().to_string())
            .unwrap_or_default(),
        anchor: None,
        inserted: 0,
        moved_with: Vec::new(),
        above_line: None,
        edits: Vec::new(),
        split_from: None,
        split_rest: None,
        split_why: None,
    };
    Some(Reorder {
        order: StageOrder {
            stage: stage_idx,
            groups: order
                .into_iter()
                .map(|u| Group {
                    above_comments: false,
                    inserts: vec![],
                    unit: u,
                })
                .collect(),
        },
        change,
        saving: before - after,
    })
}

/// Whether unit `k`'s manifest checks hold on the files it reads, and
/// then those files (image paths, the files its manifests include too). The
/// checks read the context's files at the working directory's relative
/// paths (`/app/requirements.txt` is `requirements.txt`), which are the
/// files the install reads only when they were put there from those
/// context paths: `COPY deps/requirements.txt ./requirements.txt`
/// naming `./lib` is not the root's clean `requirements.txt` (review 55,
/// measured with BuildKit: the install moved above `COPY lib/ ./lib/`,
/// the rewrite failed to build), nor is a manifest a `RUN` or a parent
/// stage made. Checks of files named by image path (pip's and uv's
/// requirement, constraint and settings files): each file read, includes
/// too, must have been put last by a copy from the same context path.
/// Other checks (which read the directory's manifests by name): every
/// unit before it writing below the directory must be a copy from the
/// context putting each file at its own relative path, and no stage this
/// one is built on may write there. A file named outside the working
/// directory is not read here either: it does not move.
fn checks_hold(cx: &StageCx<'_>, k: usize, ctx: &Context) -> Option<Vec<String>> {
    let (eff, state) = (cx.eff, cx.state);
    // The root keeps its slash (`/` is where the python image starts).
    let wd = match state.workdirs[k].trim_end_matches('/') {
        "" if state.workdirs[k].starts_with('/') => "/",
        w => w,
    };
    if wd.contains('?') || wd.is_empty() {
        return None;
    }
    let prefix = if wd == "/" {
        "/".to_string()
    } else {
        format!("{wd}/")
    };
    let placed = |j: usize| {
        instruction(cx.parse, cx.stage.units[j].item).and_then(|ins| {
            effects::context_placements(ins, &state.workdirs[j], state.placement_env(j), ctx)
        })
    };
    // The context path the last writer before `k` put image file `img`
    // from, when that is a copy from the context (its placements list
    // every file it puts); `None` when another unit may have written it
    // last, or none did.
    let put_from = |img: &str| -> Option<String> {
        for j in (0..k).rev() {
            if let Some((_, rel)) =
                placed(j).and_then(|p| p.files.into_iter().find(|(i, _)| i == img))
            {
                return Some(rel);
            }
            // (Also what a copy writes through a link.)
            let writes = eff[j]
                .writes
                .iter()
                .any(|w| matches!(w, Loc::Path(p) if effects::paths_overlap(p, img)));
            if writes {
                return None;
            }
        }
        None
    };
    let by_image_path = |chk: &ManifestCheck| {
        matches!(
            chk,
            ManifestCheck::Requirements(_)
                | ManifestCheck::UvPip(_)
                | ManifestCheck::UvSettings(_)
                | ManifestCheck::PipConfig(_)
                | ManifestCheck::PackageList { .. }
        )
    };
    let under = format!("{prefix}**");
    let below = |e: &Effects| {
        e.writes
            .iter()
            .any(|w| matches!(w, Loc::Path(p) if effects::paths_overlap(p, &under)))
    };
    if !eff[k].checks.iter().all(|(chk, _)| by_image_path(chk)) {
        if super::hoist::in_parent_stages(cx, |_, e| below(e)).is_some() {
            return None;
        }
        for (j, ej) in eff.iter().enumerate().take(k) {
            if !below(ej) {
                continue;
            }
            let p = placed(j)?;
            if p.files
                .iter()
                .any(|(img, rel)| effects::resolve(wd, rel) != *img)
            {
                return None;
            }
        }
    }
    let mut all: Vec<String> = Vec::new();
    let holds = eff[k].checks.iter().all(|(chk, dir)| {
        let read = std::cell::RefCell::new(Vec::new());
        let outside = std::cell::Cell::new(false);
        let to_context = |img: &str| {
            let rel = img.strip_prefix(&prefix).map(str::to_string);
            match &rel {
                Some(r) => read.borrow_mut().push(r.clone()),
                None => outside.set(true),
            }
            rel
        };
        let ok = *dir == state.workdirs[k]
            && manifest_problems(chk, ctx, "", &to_context).is_empty()
            && !outside.get();
        if !ok {
            return false;
        }
        let mut files = read.borrow().clone();
        files.extend(extra_manifests(chk, ctx, "", &to_context));
        if outside.get() {
            return false;
        }
        all.extend(files.iter().map(|r| effects::resolve(wd, r)));
        !by_image_path(chk)
            || files
                .iter()
                .all(|r| put_from(&effects::resolve(wd, r)).as_deref() == Some(r.as_str()))
    });
    holds.then_some(all)
}

/// An expensive step: an install or a build (the knowledge base's cost
/// classes, or the configured costs), or a step nobody could follow.
pub fn is_expensive(e: &Effects) -> bool {
    e.cost_class.is_some_and(|c| c >= CostClass::Build)
}
