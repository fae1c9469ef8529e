//! The rewriter: plans a file's changes, turns them into edits of the
//! ORIGINAL text, applies the edits in one pass and verifies the result.
//!
//! Guarantees:
//! - Text changes only through [`Edit`]s of the original: moved units keep
//!   their bytes (comments included), inserted lines copy their
//!   neighbours' style, an unchanged file comes out byte for byte.
//! - Every applied change carries its own edits; the edits of a file are
//!   disjoint and together give exactly the output ([`edit::apply`]).
//! - Every reported line is a line of the original text.
//! - The output re-parses to the same instructions, keeps every edge of the
//!   old dependency graph, and is a fixed point of the planner; otherwise
//!   the file gets an error and nothing is output ([`check`]).
//!
//! Planning itself runs on intermediate texts ([`apply`]): after each
//! transformation the stage is analysed again, because effects depend on
//! the order. The edits are derived from the original and the final text
//! and checked to reproduce it.
//!
//! Everything is planned and weighed without the per-build assumption
//! ([`crate::analysis::volatile`]); then a last pass moves only the `ARG`s
//! taken to change on every build, weighed with it
//! ([`Rewriter::analyze_per_build`]), so the assumption adds moves and
//! never cancels one made without it.

mod apply;
mod check;
pub mod edit;
mod net;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::analysis::context::Context;
use crate::analysis::file::FileAnalysis;
use crate::analysis::history::History;
use crate::analysis::kb::Knowledge;
use crate::plan::{self, Change, ChangeKind, Options, split};
use crate::replay::{self, ReplayCache};
use crate::source::newline_for;

pub use check::{broken_edge, broken_edge_with};
pub use edit::{Edit, Fix};

/// The outcome for one file.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub new_text: String,
    /// Every change, applied or not, at original lines; an applied change
    /// carries its edits.
    pub changes: Vec<Change>,
    /// All edits of the original text, sorted, disjoint.
    pub edits: Vec<Edit>,
    /// Whether the rewrite moved an `ARG` taken to change on every build
    /// ([`crate::analysis::volatile`]): its figures are then those of
    /// [`Rewriter::analyze_per_build`].
    pub per_build_assumed: bool,
}

/// Why a file could not be rewritten: a parse error, or a rewrite that
/// failed its verification (reported at the place it concerns).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct RewriteError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The fewest commits touching the build context for the history to
/// decide the order; with fewer, the static estimate (manifests change
/// rarely) is steadier than a handful of commits.
pub const MIN_HISTORY_COMMITS: usize = 20;

/// How many walked commits touched the build context (changed a file in
/// it, or edited the Dockerfile): the count compared with
/// [`MIN_HISTORY_COMMITS`].
pub fn context_commits(h: &History) -> usize {
    let context = h.changed(&["."]);
    let touched = |i: usize, c: &crate::analysis::history::CommitChanges| {
        !c.edited.is_empty()
            || c.first_edit.is_some()
            || !c.global_args.is_empty()
            || c.whole_file
            || context.first().is_some_and(|v| v.get(i) == Some(&true))
    };
    h.commits
        .iter()
        .enumerate()
        .filter(|(i, c)| touched(*i, c))
        .count()
}

/// The history when it says enough to order by (see
/// [`MIN_HISTORY_COMMITS`]), else `None`.
pub fn usable_history(history: Option<&History>) -> Option<&History> {
    history.filter(|h| context_commits(h) >= MIN_HISTORY_COMMITS)
}

/// Plans and applies the changes for one file, then verifies the result
/// (static estimate, embedded knowledge base).
pub fn rewrite(text: &str, ctx: Option<&Context>, opts: Options) -> Result<Outcome, RewriteError> {
    rewrite_with(text, ctx, None, opts)
}

/// Like [`rewrite`], ordering by the walked `history` when given.
pub fn rewrite_with(
    text: &str,
    ctx: Option<&Context>,
    history: Option<&History>,
    opts: Options,
) -> Result<Outcome, RewriteError> {
    Rewriter::new(Knowledge::embedded(), ctx, history, opts).rewrite(text)
}

/// One file's rewrite session: the knowledge in force, the build context,
/// the history (when it says enough), the options, and the analyses and
/// replays made so far (planning, verifying and reporting analyse and
/// replay the same few texts many times).
pub struct Rewriter<'a> {
    knowledge: &'a Knowledge,
    ctx: Option<&'a Context>,
    /// The walked history, for the figures of the reports.
    walked: Option<&'a History>,
    /// The history when it says enough to order by.
    history: Option<&'a History>,
    opts: Options,
    cache: RefCell<ReplayCache>,
    analyses: RefCell<Analyses>,
    /// What planning found in each stage of a text, by text and stage:
    /// the planner meets the same text again (the last round of a pass is
    /// the first of the next, with another threshold, and the check
    /// plans the output once more), and all but the threshold depends
    /// only on the text's analysis ([`Rewriter::analyze`]) and the session.
    stage_plans: RefCell<HashMap<(String, usize), Rc<StagePlan>>>,
    /// The history figures of each text, plain or per-build
    /// ([`Rewriter::figures_over`]).
    figures: RefCell<HashMap<(String, bool), Rc<replay::FileFigures>>>,
}

/// The hoist of a stage (with the changes it reports, moved or not) and,
/// when nothing is hoisted, its best reorder before the threshold.
struct StagePlan {
    hoist: Option<plan::StageOrder>,
    hoist_changes: Vec<Change>,
    reorder: Option<plan::Reorder>,
}

/// The analyses of the texts seen in one session, by text. An analysis
/// depends only on the text, the context and the knowledge, and the last
/// two are fixed for a session, so a memo hit is the analysis that would
/// be made again.
#[derive(Default)]
struct Analyses {
    /// With the per-build assumption ([`Rewriter::analyze_per_build`]).
    per_build: HashMap<String, Rc<FileAnalysis>>,
    /// Without it ([`Rewriter::analyze`]).
    plain: HashMap<String, Rc<FileAnalysis>>,
}

/// Analyses kept per session before the memo starts over: planning sees
/// a handful of texts; this only bounds the memory of a pathological plan.
const MAX_ANALYSES: usize = 64;

impl Analyses {
    fn bound<K, V>(map: &mut HashMap<K, V>) {
        if map.len() >= MAX_ANALYSES {
            map.clear();
        }
    }
}

/// A text's parse and model: its session analysis's, or made alone.
enum Parsed {
    Analysed(Rc<FileAnalysis>),
    Own {
        parse: crate::syntax::Parse,
        model: crate::model::Model,
    },
}

impl Parsed {
    fn parse(&self) -> &crate::syntax::Parse {
        match self {
            Parsed::Analysed(a) => &a.parse,
            Parsed::Own { parse, .. } => parse,
        }
    }

    fn model(&self) -> &crate::model::Model {
        match self {
            Parsed::Analysed(a) => &a.model,
            Parsed::Own { model, .. } => model,
        }
    }
}

/// What planning one text gives: the final text and the changes, at
/// original lines.
struct Planned {
    text: String,
    changes: Vec<Change>,
    per_build_assumed: bool,
}

impl<'a> Rewriter<'a> {
    pub fn new(
        knowledge: &'a Knowledge,
        ctx: Option<&'a Context>,
        history: Option<&'a History>,
        opts: Options,
    ) -> Rewriter<'a> {
        Rewriter {
            knowledge,
            ctx,
            walked: history,
            history: usable_history(history),
            opts,
            cache: RefCell::new(ReplayCache::default()),
            analyses: RefCell::new(Analyses::default()),
            stage_plans: RefCell::new(HashMap::new()),
            figures: RefCell::new(HashMap::new()),
        }
    }

    /// Plans, derives the edits, applies them and verifies the result.
    pub fn rewrite(&self, text: &str) -> Result<Outcome, RewriteError> {
        let Planned {
            text: planned,
            mut changes,
            per_build_assumed,
        } = self.plan(text)?;
        if planned == text {
            return Ok(Outcome {
                new_text: text.to_string(),
                changes,
                edits: Vec::new(),
                per_build_assumed: false,
            });
        }
        let edits = self.edits(text, &planned, &mut changes)?;
        let new_text = edit::apply(text, &edits).map_err(|e| internal(&e.to_string()))?;
        self.check(text, &new_text, &changes)?;
        Ok(Outcome {
            new_text,
            changes,
            edits,
            per_build_assumed,
        })
    }

    /// The parse and model of `text`: those of its analysis in this
    /// session when there is one (planning has analysed the original and
    /// every text it planned), else made here.
    fn parsed(&self, text: &str) -> Parsed {
        let a = self.analyses.borrow();
        match a.plain.get(text).or_else(|| a.per_build.get(text)) {
            Some(file) => Parsed::Analysed(Rc::clone(file)),
            None => {
                let parse = crate::syntax::parse(text);
                let model = crate::model::Model::build(&parse, text);
                Parsed::Own { parse, model }
            }
        }
    }

    /// [`edit::chunks`] of `text`, from [`Rewriter::parsed`].
    fn chunks(&self, text: &str) -> Vec<edit::Chunk> {
        let p = self.parsed(text);
        edit::chunks_of(text, p.parse(), p.model())
    }

    /// The analysis of one text with this session's context and knowledge,
    /// no `ARG` taken to change on every build: what every transformation
    /// but the sinking of those `ARG`s is planned and weighed on. Made
    /// once per text and session.
    pub fn analyze(&self, text: &str) -> Rc<FileAnalysis> {
        if let Some(a) = self.analyses.borrow().plain.get(text) {
            return Rc::clone(a);
        }
        let full = self.analyze_per_build(text);
        // Without a per-build `ARG` the two analyses are the same.
        let plain = if full.has_per_build() {
            Rc::new((*full).clone().without_per_build())
        } else {
            full
        };
        let mut memo = self.analyses.borrow_mut();
        Analyses::bound(&mut memo.plain);
        memo.plain.insert(text.to_string(), Rc::clone(&plain));
        plain
    }

    /// [`Rewriter::analyze`] with the `ARG`s that conventionally carry a
    /// per-build value taken to change on every build
    /// ([`crate::analysis::volatile`]).
    pub fn analyze_per_build(&self, text: &str) -> Rc<FileAnalysis> {
        if let Some(a) = self.analyses.borrow().per_build.get(text) {
            return Rc::clone(a);
        }
        let full = Rc::new(FileAnalysis::new(text, self.ctx, self.knowledge));
        let mut memo = self.analyses.borrow_mut();
        Analyses::bound(&mut memo.per_build);
        memo.per_build.insert(text.to_string(), Rc::clone(&full));
        full
    }

    /// Takes `analysis` as this session's analysis of `text` with the
    /// per-build assumption: it must be `FileAnalysis::new(text, ctx,
    /// knowledge)` with this session's context and knowledge (made ahead,
    /// on time otherwise spent waiting). A text already analysed keeps
    /// its analysis.
    pub fn adopt(&self, text: &str, analysis: Rc<FileAnalysis>) {
        let mut memo = self.analyses.borrow_mut();
        if memo.per_build.contains_key(text) {
            return;
        }
        Analyses::bound(&mut memo.per_build);
        memo.per_build.insert(text.to_string(), analysis);
    }

    /// The history figures of an analysed text over the walked history
    /// (`None` without one).
    pub fn figures(&self, file: &FileAnalysis) -> Option<replay::FileFigures> {
        let h = self.walked?;
        Some((*self.figures_over(file, h)).clone())
    }

    /// The figures of an analysed text over `h`, made once per text and
    /// session: planning weighs the original and the planned text several
    /// times (each pass, the check's re-plan) and the report asks for both
    /// again. `h` is the walked history (the one to order by is the same
    /// or none); a session's analysis of a text is the plain or the
    /// per-build one, which `has_per_build` tells apart. An analysis made
    /// elsewhere is replayed without the memo.
    fn figures_over(&self, file: &FileAnalysis, h: &History) -> Rc<replay::FileFigures> {
        let ours = {
            let a = self.analyses.borrow();
            [&a.plain, &a.per_build]
                .iter()
                .any(|m| m.get(&file.text).is_some_and(|r| std::ptr::eq(&**r, file)))
        };
        if !ours {
            return Rc::new(replay::figures_of(file, h, &mut self.cache.borrow_mut()));
        }
        let key = (file.text.clone(), file.has_per_build());
        if let Some(f) = self.figures.borrow().get(&key) {
            return Rc::clone(f);
        }
        let f = Rc::new(replay::figures_of(file, h, &mut self.cache.borrow_mut()));
        let mut memo = self.figures.borrow_mut();
        Analyses::bound(&mut memo);
        memo.insert(key, Rc::clone(&f));
        f
    }

    /// Expected rebuild cost per build of a whole file: by the history when
    /// it says enough, else by the static estimate.
    pub fn cost(&self, file: &FileAnalysis) -> f64 {
        if let Some(h) = self.history {
            return self.figures_over(file, h).all_stages_cost;
        }
        let mut total = 0.0;
        for (stage, sa) in file.model.stages.iter().zip(&file.stages) {
            let p = plan::static_probabilities(&file.parse, stage, &sa.effects);
            let n = stage.units.len().min(crate::order::MAX_UNITS);
            let c: Vec<f64> = sa.effects.iter().take(n).map(|e| e.cost).collect();
            let order: Vec<usize> = (0..n).collect();
            total += crate::order::expected_cost(&order, &c, &crate::order::Hits::Static(p));
        }
        total
    }

    /// Hoists and reorders, one stage order at a time, until nothing moves.
    /// Returns the final text and the changes of every round.
    fn plan_rounds(&self, start: &str, floor: f64) -> Result<(String, Vec<Change>), RewriteError> {
        let nl = newline_for(start);
        let mut cur = start.to_string();
        let mut changes: Vec<Change> = Vec::new();
        for _ in 0..64 {
            let file = self.analyze(&cur);
            if let Some(e) = file.parse.errors.first() {
                return Err(internal(&format!(
                    "an intermediate rewrite does not parse ({})",
                    e.message
                )));
            }
            let mut round = Vec::new();
            let next = self
                .plan_one_stage(&file, floor, &mut round)
                .map(|order| apply::apply_order(&cur, &file.parse, &file.model, &order, nl));
            merge_new(&mut changes, round);
            match next {
                Some(t) => cur = t,
                None => break,
            }
        }
        Ok((cur, changes))
    }

    /// The first stage that a hoist or a reorder changes, and its new order.
    fn plan_one_stage(
        &self,
        file: &FileAnalysis,
        floor: f64,
        round: &mut Vec<Change>,
    ) -> Option<plan::StageOrder> {
        let mut replayed = None;
        for si in 0..file.model.stages.len() {
            let key = (file.text.clone(), si);
            let memo = self.stage_plans.borrow().get(&key).map(Rc::clone);
            let sp = match memo {
                Some(sp) => sp,
                None => {
                    let replayed = replayed.get_or_insert_with(|| {
                        self.history
                            .map(|h| self.cache.borrow_mut().replay(file, h))
                    });
                    let sp = Rc::new(self.plan_stage(file, si, replayed.as_deref()));
                    let mut plans = self.stage_plans.borrow_mut();
                    Analyses::bound(&mut plans);
                    plans.insert(key, Rc::clone(&sp));
                    sp
                }
            };
            round.extend(sp.hoist_changes.iter().cloned());
            if let Some(order) = &sp.hoist {
                return Some(order.clone());
            }
            if let Some(order) = sp.reorder.as_ref().and_then(|r| r.take(floor, round)) {
                return Some(order);
            }
        }
        None
    }

    /// What [`Rewriter::plan_one_stage`] finds in stage `si` of the
    /// analysed `file` apart from the threshold (`replayed`: the file's
    /// replay of the history, when ordering by it).
    fn plan_stage(
        &self,
        file: &FileAnalysis,
        si: usize,
        replayed: Option<&[replay::StageHistory]>,
    ) -> StagePlan {
        let cx = self.stage_cx(file, si);
        let mut hoist_changes = Vec::new();
        let hoist = plan::plan_hoist(&cx, &mut hoist_changes);
        let reorder = if hoist.is_none() {
            let hist = replayed.and_then(|r| r.get(si));
            plan::reorder_candidate(&cx, hist, false)
        } else {
            None
        };
        StagePlan {
            hoist,
            hoist_changes,
            reorder,
        }
    }

    /// One full planning run: advice, merges, then hoists and reorders when
    /// they save at least the materiality threshold, reported as the net
    /// edit of the original text.
    fn plan(&self, text: &str) -> Result<Planned, RewriteError> {
        let file = self.analyze(text);
        if let Some(e) = file.parse.errors.first() {
            return Err(RewriteError {
                line: e.line,
                column: e.column,
                message: e.message.clone(),
            });
        }
        // A file marked to be left alone, or read by another frontend: as
        // it is (with the advice that says why, for the latter).
        let kept = if file.model.ignore_file {
            Some(Vec::new())
        } else {
            plan::foreign_frontend(&file.parse).map(|a| vec![a])
        };
        if let Some(changes) = kept {
            return Ok(Planned {
                text: text.to_string(),
                changes,
                per_build_assumed: false,
            });
        }
        let mut changes = plan::plan_advice(&file.parse, text, &file.model, self.ctx);
        let (merges, mc) = plan::plan_merges(&file, self.opts);
        changes.extend(mc);
        let merged = if merges.is_empty() {
            text.to_string()
        } else {
            apply::apply_merges(text, &file.parse, &merges)
        };
        // The merged text's analysis (the file's own when nothing merged).
        let analysed;
        let merged_file = if merges.is_empty() {
            &file
        } else {
            analysed = self.analyze(&merged);
            &analysed
        };
        let mut base_cost = self.cost(merged_file);
        let floor = self.opts.min_saving * base_cost;
        let (splits, mut cur, mut round) = self.plan_with_splits(merged_file, floor)?;
        let mut after_cost = base_cost;
        // The splits the text planned on holds (none once the plan is
        // dropped).
        let mut held: &[split::Split] = &splits;
        if cur != merged {
            after_cost = self.cost(&self.analyze(&cur));
            if base_cost - after_cost < floor || base_cost - after_cost <= 0.0 {
                // Not worth a pull request: keep the order, report only
                // what was not applied anyway.
                cur = merged.clone();
                round.retain(|c| !c.applied);
                after_cost = base_cost;
                held = &[];
            }
        }
        // Then the ARGs taken to change on every build sink below the
        // expensive steps that do not read them, weighed with that
        // assumption; the figures of a file where one moved are then those
        // of the assumption, and say so.
        let sunk = self.sink_per_build(&merged, &cur);
        let per_build_assumed = sunk.is_some();
        if let Some((text_b, base_b, after_b)) = sunk {
            cur = text_b;
            (base_cost, after_cost) = (base_b, after_b);
        }
        if cur != merged {
            let analyse = |t: &str| {
                if per_build_assumed {
                    self.analyze_per_build(t)
                } else {
                    self.analyze(t)
                }
            };
            let mut saving =
                self.saving_words(base_cost, after_cost, (&analyse(&merged), &analyse(&cur)));
            if per_build_assumed
                && let Some(note) = net::per_build_note(
                    &self.analyze_per_build(&merged),
                    &self.analyze_per_build(&cur),
                )
            {
                saving = format!("{saving}; {note}");
            }
            let before = net::Before {
                merges: &merges,
                merged: &merged,
                splits: held,
            };
            let fin = self.parsed(&cur);
            round = net::net_changes(
                text,
                &file.parse,
                &before,
                (fin.parse(), fin.model()),
                round,
                &saving,
            );
        }
        if cur == merged {
            let before = net::Before {
                merges: &merges,
                merged: &merged,
                splits: &splits,
            };
            let index = net::OriginalLines::new(text, &file.parse, &before);
            for c in &mut round {
                index.relocate(c);
            }
        }
        changes.extend(round);
        Ok(Planned {
            text: cur,
            changes,
            per_build_assumed,
        })
    }

    /// The install and build steps of `text` that `outcome` (its rewrite)
    /// leaves below a broad copy, each with why the hoist pass did not take
    /// it, checked with what `outcome` moved above the copy gone from
    /// between: none a change of `outcome` (not advice) is about, none in
    /// a stage a reorder changed (the steps' places are not the original's).
    /// Units are found by their original lines (a change's `line`), not by
    /// text: the hoist pass planned on the text with lone updates merged
    /// into their installs (whose first lines are not the original's), and
    /// two units may read alike. A unit that moved with a hoist (its
    /// `WORKDIR`, `ENV`) is the one of that text between the copy and the
    /// install; a merged update moves with its install.
    pub fn kept(&self, text: &str, outcome: &Outcome) -> Vec<plan::Kept> {
        let file = self.analyze(text);
        let (merges, _) = plan::plan_merges(&file, self.opts);
        let mut out = Vec::new();
        for si in 0..file.model.stages.len() {
            let here: Vec<&Change> = outcome
                .changes
                .iter()
                .filter(|c| c.stage == si && c.kind != plan::ChangeKind::Advice)
                .collect();
            if here
                .iter()
                .any(|c| c.applied && c.kind == plan::ChangeKind::Reorder)
            {
                continue;
            }
            let stage = &file.model.stages[si];
            let line = |u: usize| file.parse.items[stage.units[u].item].lines.start;
            let own_text = |u: usize| {
                plan::instruction(&file.parse, stage.units[u].item)
                    .map(|i| i.original.trim().to_string())
                    .unwrap_or_default()
            };
            let n = stage.units.len();
            // The update merged into each install, by unit.
            let merged_into: Vec<Option<usize>> = (0..n)
                .map(|u| {
                    let m = merges
                        .iter()
                        .find(|m| m.update_item == stage.units[u].item)?;
                    stage.units.iter().position(|v| v.item == m.install_item)
                })
                .collect();
            // A split moves the first part of a `RUN`; the rest stays.
            let hoisted: Vec<&&Change> = here
                .iter()
                .filter(|c| {
                    c.applied && c.kind == plan::ChangeKind::Hoist && c.split_from.is_none()
                })
                .collect();
            let mut moved: Vec<bool> = (0..n)
                .map(|u| {
                    hoisted.iter().any(|c| {
                        c.line == line(u)
                            || (c.above_line.is_some_and(|a| a < line(u))
                                && line(u) < c.line
                                && c.moved_with.contains(&own_text(u)))
                    })
                })
                .collect();
            for u in 0..n {
                if let Some(v) = merged_into[u] {
                    moved[u] |= moved[v];
                }
            }
            let mut kept: Vec<plan::Kept> =
                plan::kept_installs(&self.stage_cx(&file, si), &moved, &merged_into)
                    .into_iter()
                    .filter(|k| !here.iter().any(|c| c.line == k.line))
                    .collect();
            name_what_stays_of_splits(&file, stage, &here, &mut kept);
            out.extend(kept);
        }
        // A compound `RUN` whose install could not be split off says why
        // first: what it says of the whole `RUN` (an unknown build step
        // after the install) is not what kept the install below the copy.
        let refused = if out.is_empty() {
            Vec::new()
        } else {
            plan::split::split_refusals(&file, self.ctx, self.knowledge, self.opts)
        };
        for k in &mut out {
            if let Some((_, why)) = refused
                .iter()
                .find(|(item, _)| file.parse.items[*item].lines.start == k.line)
            {
                k.reason = format!(
                    "its install is not split off: {why}; as a whole, {}",
                    k.reason
                );
            }
        }
        out
    }

    /// The planning view of stage `si` of an analysed file.
    fn stage_cx<'f>(&'f self, file: &'f FileAnalysis, si: usize) -> plan::StageCx<'f> {
        plan::StageCx {
            parse: &file.parse,
            text: &file.text,
            index: si,
            stage: &file.model.stages[si],
            eff: &file.stages[si].effects,
            state: &file.stages[si].state,
            stages: &file.model.stages,
            analyses: &file.stages,
            ctx: self.ctx,
            opts: self.opts,
        }
    }

    /// Moves the `ARG`s taken to change on every build in `cur` (planned
    /// from `merged`) below the expensive steps they may pass, nothing
    /// else, when that saves at least the materiality threshold of
    /// `merged`'s expected cost with that assumption. Returns the new text
    /// and the expected costs of `merged` and of it with the assumption;
    /// `None` when no such `ARG` moves.
    fn sink_per_build(&self, merged: &str, cur: &str) -> Option<(String, f64, f64)> {
        let start = self.analyze_per_build(cur);
        if !start.has_per_build() {
            return None;
        }
        let base_b = self.cost(&self.analyze_per_build(merged));
        let floor = self.opts.min_saving * base_b;
        let nl = newline_for(cur);
        let before_b = self.cost(&start);
        // The analysis of the text as it stands (the start's at first).
        let mut file = start;
        for _ in 0..64 {
            let replayed = self
                .history
                .map(|h| self.cache.borrow_mut().replay(&file, h));
            let order = (0..file.model.stages.len()).find_map(|si| {
                let hist = replayed.as_ref().and_then(|r| r.get(si));
                plan::plan_reorder(
                    &self.stage_cx(&file, si),
                    hist,
                    floor,
                    true,
                    &mut Vec::new(),
                )
            });
            match order {
                Some(o) => {
                    let text = apply::apply_order(&file.text, &file.parse, &file.model, &o, nl);
                    file = self.analyze_per_build(&text);
                }
                None => break,
            }
        }
        let text = file.text.clone();
        let after_b = self.cost(&file);
        (text != cur && before_b - after_b >= floor && before_b - after_b > 0.0)
            .then_some((text, base_b, after_b))
    }

    /// Plans the merged text with the candidate splits of compound `RUN`s
    /// (see [`plan::split`]) and keeps only the splits whose install is
    /// hoisted: planned again without the others until every split kept is
    /// used. Returns the splits kept, the final text and the changes; the
    /// hoist of a split's install carries the split, and one proposed but
    /// not applied (`Unsafe`) is reported on the `RUN` as it stands.
    fn plan_with_splits(
        &self,
        merged: &FileAnalysis,
        floor: f64,
    ) -> Result<(Vec<split::Split>, String, Vec<Change>), RewriteError> {
        let mut chosen = split::plan_splits(merged, self.ctx, self.knowledge, self.opts);
        let mut proposals: Vec<Change> = Vec::new();
        for _ in 0..4 {
            if chosen.is_empty() {
                break;
            }
            let start = split::apply_splits(&merged.text, &merged.parse, &chosen);
            let (cur, mut round) = self.plan_to_fixed_point(&start, floor)?;
            let used = |s: &split::Split| round.iter().any(|c| c.applied && s.hoisted_by(c));
            if chosen.iter().all(used) {
                for c in &mut round {
                    if let Some(s) = chosen.iter().find(|s| s.hoisted_by(c)) {
                        s.annotate(c);
                    }
                }
                return Ok((chosen, cur, round));
            }
            for s in chosen.iter().filter(|s| !used(s)) {
                for c in round.iter().filter(|c| !c.applied && s.hoisted_by(c)) {
                    let mut c = c.clone();
                    s.annotate(&mut c);
                    c.subject = s.original.clone();
                    proposals.push(c);
                }
            }
            chosen.retain(|s| round.iter().any(|c| c.applied && s.hoisted_by(c)));
        }
        let (cur, mut round) = self.plan_to_fixed_point(&merged.text, floor)?;
        merge_new(&mut round, proposals);
        Ok((Vec::new(), cur, round))
    }

    /// Plans again on the result until nothing moves, each time with the
    /// threshold of the text planned on: the output is then a fixed point
    /// (a second run proposes nothing), by construction.
    fn plan_to_fixed_point(
        &self,
        merged: &str,
        floor: f64,
    ) -> Result<(String, Vec<Change>), RewriteError> {
        let (mut cur, mut round) = self.plan_rounds(merged, floor)?;
        for _ in 0..4 {
            if cur == merged {
                break;
            }
            let floor_now = self.opts.min_saving * self.cost(&self.analyze(&cur));
            let (next, more) = self.plan_rounds(&cur, floor_now)?;
            if next == cur {
                break;
            }
            cur = next;
            merge_new(&mut round, more);
        }
        Ok((cur, round))
    }

    /// Why a move is worth it, in the planner's figures (the costs of
    /// `texts`, before and after): what they count where it is not
    /// plain, every stage (not only the default build's, as the history
    /// figures) and copies from other stages taken as rerun.
    fn saving_words(
        &self,
        base_cost: f64,
        after_cost: f64,
        texts: (&FileAnalysis, &FileAnalysis),
    ) -> String {
        let basis = match self.history {
            Some(h) => format!("over {} commits of history", h.commits.len()),
            None => "by the static estimate".to_string(),
        };
        let (before, after) = match self.history {
            Some(h) => (
                Some(self.figures_over(texts.0, h)),
                Some(self.figures_over(texts.1, h)),
            ),
            None => (None, None),
        };
        let at_most = |f: &Option<Rc<replay::FileFigures>>| {
            if f.as_ref().is_some_and(|f| f.stages_at_most) {
                "at most "
            } else {
                ""
            }
        };
        let mut words = format!(
            "{basis} the expected rebuild cost per build drops from {}{base_cost:.1} to {}{after_cost:.1} ({:.0}% less",
            at_most(&before),
            at_most(&after),
            100.0 * (base_cost - after_cost) / base_cost.max(1e-9)
        );
        if let Some(b) = before.as_ref().filter(|b| !b.target_only.is_empty()) {
            words.push_str(&format!(
                "; every stage counted, {} too, which only `--target` builds",
                b.target_only.join(", ")
            ));
        }
        if !at_most(&before).is_empty() || !at_most(&after).is_empty() {
            words.push_str(
                "; a copy from another stage counted as rerun whenever a `RUN` that writes what it copies reran, or a copy that may write there reran for files changed elsewhere",
            );
        }
        words.push(')');
        words
    }

    /// The edits of the original that give `planned` (moving the fewest
    /// bytes), each given to the applied change it makes.
    fn edits(
        &self,
        text: &str,
        planned: &str,
        changes: &mut [Change],
    ) -> Result<Vec<Edit>, RewriteError> {
        let old_chunks = self.chunks(text);
        let derived = edit::derive_edits_of(text, &old_chunks, planned, &self.chunks(planned))
            .map_err(|e| internal(&format!("the edits do not reproduce the rewrite ({e})")))?;
        attribute(&old_chunks, &derived, changes);
        combine_unless_standalone(text, planned, changes);
        Ok(derived.into_iter().map(|d| d.edit).collect())
    }
}

/// Makes every change's fix one that may be applied alone: when the edits
/// of some applied change, applied without the others, do not run the
/// original's commands once each (plus only lines the rewrite inserts),
/// all edits become the fix of the first applied change that has any, as
/// for two hoists that move the same lines. A split's fix that deleted the
/// compound `RUN` while a merge's fix carried its two parts (their
/// inserted lines were one block) lost `npm ci && npm run build` when
/// applied alone (h-rev50).
fn combine_unless_standalone(text: &str, planned: &str, changes: &mut [Change]) {
    let with_edits: Vec<usize> = (0..changes.len())
        .filter(|&k| !changes[k].edits.is_empty())
        .collect();
    if with_edits.len() < 2 {
        return;
    }
    let original = pieces(text);
    let inserted = multiset_minus(&pieces(planned), &original);
    let standalone = |c: &Change| {
        let Ok(alone) = edit::apply(text, &c.edits) else {
            return false;
        };
        let got = pieces(&alone);
        multiset_minus(&original, &got).is_empty()
            && multiset_minus(&multiset_minus(&got, &original), &inserted).is_empty()
    };
    if with_edits.iter().all(|&k| standalone(&changes[k])) {
        return;
    }
    let first = with_edits[0];
    let mut all: Vec<edit::Edit> = Vec::new();
    for &k in &with_edits {
        all.append(&mut changes[k].edits);
    }
    all.sort_by_key(|e| (e.start, e.end));
    changes[first].edits = all;
}

/// What a text runs, as a sorted multiset: each instruction's logical line,
/// blanks collapsed; a shell-form `RUN` is cut at its top-level `&&` (a
/// split or a merge regroups those pieces), each piece with the `RUN`'s
/// flags, and a `cd DIR` piece left out (a split repeats a leading one).
fn pieces(text: &str) -> Vec<String> {
    use crate::analysis::shell::{self, Op};
    let collapse = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let parse = crate::syntax::parse(text);
    let mut out = Vec::new();
    for (_, ins) in parse.instructions() {
        let shell_run =
            ins.node.kind == crate::syntax::Kind::Run && !ins.node.json && ins.heredocs.is_empty();
        let cmd = ins.node.str_args().next().filter(|_| shell_run);
        let Some((cmd, ops)) = cmd.and_then(|c| shell::top_level_ops(c).map(|o| (c, o))) else {
            out.push(collapse(&ins.original));
            continue;
        };
        let flags = ins.node.flags.join(" ");
        let mut start = 0;
        let cuts = ops
            .iter()
            .filter(|(op, _)| *op == Op::And)
            .map(|(_, at)| *at)
            .chain([cmd.len()]);
        for at in cuts {
            let piece = collapse(&cmd[start..at]);
            start = (at + 2).min(cmd.len());
            let is_cd = piece.starts_with("cd ") && piece.split(' ').count() == 2;
            if !is_cd {
                out.push(format!("RUN {flags} {piece}"));
            }
        }
    }
    out.sort();
    out
}

/// The sorted multiset `a` without the elements of the sorted multiset `b`.
fn multiset_minus(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut j = 0;
    for x in a {
        while j < b.len() && b[j] < *x {
            j += 1;
        }
        if j < b.len() && b[j] == *x {
            j += 1;
        } else {
            out.push(x.clone());
        }
    }
    out
}

/// Gives each edit to the change it makes: an inserted block to the change
/// whose instruction it stands above (a hoist's manifest COPY), else to the
/// first applied change whose instruction (or one moving with it, or the
/// install a merged update joins) the edit touches, else to the first
/// whose anchor (the copy it moved above) it touches, else to the first
/// applied change. Changes that move the same lines (two hoists above one
/// copy) share one fix, carried by the first: applied alone, it is then
/// still the combined move.
fn attribute(old_chunks: &[edit::Chunk], edits: &[edit::Derived], changes: &mut [Change]) {
    let applied = |c: &Change| c.applied && c.kind != ChangeKind::Advice;
    let owns = |c: &Change, t: &String| {
        let update = c.subject.split_once(' ').map_or("", |(_, r)| r.trim());
        *t == c.subject
            || c.moved_with.contains(t)
            || c.split_from.as_ref() == Some(t)
            || (c.kind == ChangeKind::MergeUpdate && !update.is_empty() && t.contains(update))
    };
    for d in edits {
        let touched = edit::touched_instructions(old_chunks, &d.edit);
        let inserted_above = |c: &Change| {
            d.edit.start == d.edit.end
                && c.inserted > 0
                && d.next_instruction.as_ref().is_some_and(|t| owns(c, t))
        };
        let by_subject = |c: &Change| touched.iter().any(|t| owns(c, t));
        let by_anchor = |c: &Change| {
            c.anchor
                .as_ref()
                .is_some_and(|(a, _)| touched.iter().any(|t| t == a))
        };
        let owner = changes
            .iter()
            .position(|c| applied(c) && inserted_above(c))
            .or_else(|| changes.iter().position(|c| applied(c) && by_subject(c)))
            .or_else(|| changes.iter().position(|c| applied(c) && by_anchor(c)))
            .or_else(|| changes.iter().position(applied));
        if let Some(k) = owner {
            changes[k].edits.push(d.edit.clone());
        }
    }
}

/// A step kept below the copy because it depends on a `RUN` whose install
/// was split off and hoisted names what stays of that `RUN` (the rest),
/// not the `RUN` as it was: the install part is above the copy now.
fn name_what_stays_of_splits(
    file: &FileAnalysis,
    stage: &crate::model::Stage,
    here: &[&Change],
    kept: &mut [plan::Kept],
) {
    for c in here.iter().filter(|c| c.applied) {
        let Some(rest) = &c.split_rest else {
            continue;
        };
        let Some(unit) = stage
            .units
            .iter()
            .find(|u| file.parse.items.get(u.item).map(|i| i.lines.start) == Some(c.line))
        else {
            continue;
        };
        let whole = plan::quoted_item(&file.text, &file.parse, unit.item);
        let part = format!(
            "`{}` (line {}, what stays of it after the split)",
            plan::short(rest),
            c.line
        );
        for k in kept.iter_mut() {
            k.reason = k.reason.replace(&whole, &part);
        }
    }
}

/// Adds the changes of `more` not already in `changes` (the same kind,
/// stage and instruction).
fn merge_new(changes: &mut Vec<Change>, more: Vec<Change>) {
    for c in more {
        if !changes
            .iter()
            .any(|o| o.kind == c.kind && o.stage == c.stage && o.subject == c.subject)
        {
            changes.push(c);
        }
    }
}

fn internal(what: &str) -> RewriteError {
    RewriteError {
        line: 1,
        column: 1,
        message: format!("internal error: {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Applicability;

    /// The memo hands out one analysis per text and kind, equal to what a
    /// fresh analysis of that text gives (with and without the per-build
    /// assumption, which a text with a cache-buster `ARG` tells apart).
    #[test]
    fn each_text_is_analysed_once_and_as_a_fresh_analysis_would() {
        let kb = Knowledge::embedded();
        let r = Rewriter::new(kb, None, None, Options::new(Applicability::Safe));
        let buster = "FROM debian:12\nARG BUILD_DATE\nRUN apt-get update\nCOPY . .\n";
        let plain = "FROM debian:12\nRUN apt-get update\nCOPY . .\n";
        for text in [buster, plain, buster] {
            let (a, b) = (r.analyze(text), r.analyze(text));
            assert!(Rc::ptr_eq(&a, &b));
            let fresh = FileAnalysis::new(text, None, kb);
            assert_eq!(
                format!("{:?}", *r.analyze_per_build(text)),
                format!("{fresh:?}")
            );
            assert_eq!(format!("{a:?}"), format!("{:?}", fresh.without_per_build()));
        }
        assert!(r.analyze_per_build(buster).has_per_build());
        assert!(!r.analyze(buster).has_per_build());
    }
}
