//! Replays the walked history against a Dockerfile: for each commit and
//! stage, which units are invalidated directly (their sources or their text
//! changed, or a stage they copy from was rebuilt). BuildKit then rebuilds
//! every step from the first invalidated one on.

use std::collections::HashMap;

use serde::Serialize;

use crate::analysis::file::FileAnalysis;
use crate::analysis::history::{History, Query, arg_names_without_default, uses_var};
use crate::analysis::kb::Knowledge;
use crate::model::Model;
use crate::order::Hits;
use crate::syntax::{Kind, Mount, Parse};

enum Input {
    None,
    /// Indices into the replay's list of source texts.
    Sources(Vec<usize>),
    Stage(usize),
}

/// Per stage: one invalidation mask per walked commit, and per unit how
/// many commits changed what it copies.
#[derive(Debug, Clone, Default)]
pub struct StageHistory {
    pub masks: Vec<u64>,
    pub source_changes: Vec<u64>,
}

impl StageHistory {
    /// Distinct masks with counts, for the order search.
    pub fn hits(&self) -> Hits {
        Hits::Masks {
            masks: self.grouped(),
            commits: self.masks.len() as u64,
        }
    }

    /// Distinct masks, ascending, with how many commits have each (few:
    /// most commits change the same files).
    fn grouped(&self) -> Vec<(u64, u64)> {
        let mut sorted = self.masks.clone();
        sorted.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::new();
        for m in sorted {
            match out.last_mut() {
                Some((last, n)) if *last == m => *n += 1,
                _ => out.push((m, 1)),
            }
        }
        out
    }

    /// How many commits rebuild each unit under `order` (unit indices).
    pub fn rebuilds(&self, order: &[usize]) -> Vec<u64> {
        let n = order.len();
        let mut out = vec![0u64; n];
        for (m, count) in self.grouped() {
            let mut hit = false;
            for &u in order {
                if u < 64 && m & (1 << u) != 0 {
                    hit = true;
                }
                if hit && u < n {
                    out[u] += count;
                }
            }
        }
        out
    }
}

/// The `source=` value of a `--mount` flag, as written, when it names the
/// context file `src`.
fn mount_source<'a>(flag: &'a str, src: &str) -> Option<&'a str> {
    Mount::parse(flag)?
        .source()
        .filter(|v| v.trim_start_matches("./") == src)
}

fn stage_ref(name: &str, names: &HashMap<String, usize>, before: usize) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    if let Some(&i) = names.get(&lower) {
        return (i < before).then_some(i);
    }
    name.parse::<usize>().ok().filter(|&i| i < before)
}

/// Replays already made in one run, by Dockerfile text and history:
/// planning, verifying and reporting replay the same text again. An
/// explicit value owned by its caller (no process-wide memo).
#[derive(Debug, Default)]
pub struct ReplayCache {
    memo: HashMap<(u64, usize, usize), Vec<StageHistory>>,
}

fn text_key(file: &FileAnalysis, history: &History) -> (u64, usize, usize) {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for item in &file.parse.items {
        if let Some(i) = item.instruction() {
            i.original.hash(&mut h);
        }
        item.span.hash(&mut h);
    }
    // The same text replays differently with and without the per-build
    // assumption.
    per_build_masks(file).hash(&mut h);
    (h.finish(), history.id as usize, history.commits.len())
}

impl ReplayCache {
    /// Replays `history` against the Dockerfile `parse`, from the cache
    /// when this text was replayed before.
    pub fn replay(&mut self, file: &FileAnalysis, history: &History) -> Vec<StageHistory> {
        let key = text_key(file, history);
        if let Some(v) = self.memo.get(&key) {
            return v.clone();
        }
        let v = replay(file, history);
        if self.memo.len() > 64 {
            self.memo.clear();
        }
        self.memo.insert(key, v.clone());
        v
    }
}

/// Replays `history` against an analysed Dockerfile.
pub fn replay(file: &FileAnalysis, history: &History) -> Vec<StageHistory> {
    replay_uncached(file, history)
}

/// What the replay needs to know of a Dockerfile, computed once: each
/// unit's inputs, each stage's base, how history edits map to units, and
/// which units are metadata.
struct ReplayPlan<'s> {
    /// Inputs per unit, per stage.
    inputs: Vec<Vec<Input>>,
    /// Every context source text, asked of the history at once.
    sources: Vec<&'s str>,
    /// The stage each stage builds on, when it is one of the file's.
    base: Vec<Option<usize>>,
    /// Global instruction index -> (stage, Some(unit) | None for FROM).
    global: Vec<Option<(usize, Option<usize>)>>,
    /// Trimmed text of each instruction, by global index.
    global_texts: Vec<String>,
    /// Trimmed text of each unit, per stage, and of each stage's FROM.
    texts: Vec<Vec<String>>,
    from_texts: Vec<String>,
    /// Per stage, a mask of the units whose edit invalidates no step.
    metadata: Vec<u64>,
    /// Per stage, a mask of the `ARG`s assumed to take a new value on
    /// every build ([`crate::analysis::volatile`]): invalidated in every
    /// commit, as each commit is a build.
    per_build: Vec<u64>,
    /// Units per stage.
    lens: Vec<usize>,
}

fn trimmed(parse: &Parse, item: usize) -> String {
    parse.items[item]
        .instruction()
        .map(|i| i.original.trim().to_string())
        .unwrap_or_default()
}

impl<'s> ReplayPlan<'s> {
    fn of(parse: &'s Parse, model: &Model, per_build: Vec<u64>) -> ReplayPlan<'s> {
        let mut names = HashMap::new();
        for (i, s) in model.stages.iter().enumerate() {
            if let Some(n) = &s.name {
                names.insert(n.clone(), i);
            }
        }
        let mut plan = ReplayPlan {
            inputs: Vec::new(),
            sources: Vec::new(),
            base: Vec::new(),
            global: global_index(parse, model),
            global_texts: parse
                .items
                .iter()
                .filter_map(|i| i.instruction())
                .map(|i| i.original.trim().to_string())
                .collect(),
            texts: model
                .stages
                .iter()
                .map(|s| s.units.iter().map(|u| trimmed(parse, u.item)).collect())
                .collect(),
            from_texts: model
                .stages
                .iter()
                .map(|s| trimmed(parse, s.from_item))
                .collect(),
            metadata: model
                .stages
                .iter()
                .map(|s| metadata_mask(parse, s))
                .collect(),
            lens: model.stages.iter().map(|s| s.units.len()).collect(),
            per_build,
        };
        for (si, stage) in model.stages.iter().enumerate() {
            let from = parse.items[stage.from_item].instruction();
            plan.base.push(
                from.and_then(|f| f.node.str_args().next())
                    .and_then(|img| stage_ref(img, &names, si)),
            );
            let v = stage
                .units
                .iter()
                .map(|u| plan.input_of(parse, u.item, &names, si))
                .collect();
            plan.inputs.push(v);
        }
        plan
    }

    /// What a unit reads from outside the Dockerfile: context sources
    /// (registered in `sources`) or an earlier stage.
    fn input_of(
        &mut self,
        parse: &'s Parse,
        item: usize,
        names: &HashMap<String, usize>,
        si: usize,
    ) -> Input {
        let Some(ins) = parse.items[item].instruction() else {
            return Input::None;
        };
        if ins.node.kind == Kind::Run {
            // A RUN's bind-mounted context files are its inputs too.
            let mut idx = Vec::new();
            for s in &crate::analysis::effects::bind_sources(ins) {
                let Some(text) = ins.node.flags.iter().find_map(|f| mount_source(f, s)) else {
                    continue;
                };
                if Query::parse(text).is_some() {
                    idx.push(self.source_index(text));
                }
            }
            return if idx.is_empty() {
                Input::None
            } else {
                Input::Sources(idx)
            };
        }
        if !matches!(ins.node.kind, Kind::Copy | Kind::Add) {
            return Input::None;
        }
        if let Some(from) = ins
            .node
            .flags
            .iter()
            .find_map(|f| f.strip_prefix("--from="))
        {
            return stage_ref(from, names, si).map_or(Input::None, Input::Stage);
        }
        let args: Vec<&'s str> = ins.node.str_args().collect();
        let srcs = args.split_last().map_or(&[][..], |(_, s)| s);
        let mut idx = Vec::new();
        for s in srcs.iter().filter(|s| Query::parse(s).is_some()) {
            idx.push(self.source_index(s));
        }
        Input::Sources(idx)
    }

    /// The index of a source text in `sources`, added when new.
    fn source_index(&mut self, s: &'s str) -> usize {
        self.sources
            .iter()
            .position(|x| *x == s)
            .unwrap_or_else(|| {
                self.sources.push(s);
                self.sources.len() - 1
            })
    }

    /// The units of each stage that one commit rebuilds (a mask per stage,
    /// left in `scratch.direct`), counting the source changes on the way.
    fn commit_masks(
        &self,
        ci: usize,
        c: &crate::analysis::history::CommitChanges,
        changed: &[std::sync::Arc<Vec<bool>>],
        out: &mut [StageHistory],
        scratch: &mut Scratch,
    ) {
        let ns = self.lens.len();
        scratch.direct.clone_from(&self.per_build);
        scratch.whole.clear();
        scratch.whole.resize(ns, false);
        let (direct, whole) = (&mut scratch.direct, &mut scratch.whole);
        let mut any_edit_matched = false;
        for si in 0..ns {
            for (k, input) in self.inputs[si].iter().enumerate().take(64) {
                if let Input::Sources(srcs) = input
                    && srcs
                        .iter()
                        .any(|&k| changed.get(k).and_then(|v| v.get(ci)).copied() == Some(true))
                {
                    direct[si] |= 1 << k;
                    out[si].source_changes[k] += 1;
                }
                if !c.edited.is_empty() && c.edited.contains(&self.texts[si][k]) {
                    direct[si] |= 1 << k;
                    any_edit_matched = true;
                }
            }
            if !c.edited.is_empty() && c.edited.contains(&self.from_texts[si]) {
                whole[si] = true;
                any_edit_matched = true;
            }
        }
        // An edit before the first `FROM`: a global `ARG`'s value reaches
        // only the stages that declare it without a default (`ARG NAME` in
        // the stage) and the lines that expand it (a `FROM`, a `--from=`);
        // a parser directive may change every stage.
        if c.whole_file {
            whole.iter_mut().for_each(|w| *w = true);
        }
        if !c.global_args.is_empty() {
            let hit = |t: &str| c.global_args.iter().any(|n| uses_var(t, n));
            for si in 0..ns {
                if hit(&self.from_texts[si]) {
                    whole[si] = true;
                }
                for (k, t) in self.texts[si].iter().enumerate().take(64) {
                    // (A stage's `ARG NAME=default` keeps its own
                    // default: only `ARG NAME` takes the global one.)
                    let declares = arg_names_without_default(t)
                        .is_some_and(|names| names.iter().any(|n| c.global_args.contains(n)));
                    if declares || hit(t) {
                        direct[si] |= 1 << k;
                    }
                }
            }
        }
        if !any_edit_matched && let Some(i) = c.first_edit {
            // The instruction `HEAD`'s Dockerfile has at that position,
            // wherever this text has it; the position itself when this
            // text does not have it.
            let i = c
                .first_edit_at
                .as_ref()
                .and_then(|(t, rank)| {
                    self.global_texts
                        .iter()
                        .enumerate()
                        .filter(|(_, g)| *g == t)
                        .nth(*rank)
                        .map(|(g, _)| g)
                })
                .unwrap_or(i);
            match self
                .global
                .get(i.min(self.global.len().saturating_sub(1)))
                .copied()
                .flatten()
            {
                Some((si, Some(k))) if k < 64 => direct[si] |= 1 << k,
                Some((si, _)) => whole[si] = true,
                None => whole.iter_mut().for_each(|w| *w = true),
            }
        }
        self.propagate(scratch);
    }

    /// Rebuilt stages rebuild the stages built on them and the copies from
    /// them; metadata edits rebuild nothing; a wholly invalidated stage
    /// rebuilds every unit.
    fn propagate(&self, scratch: &mut Scratch) {
        let ns = self.lens.len();
        let Scratch {
            direct,
            whole,
            rebuilt,
        } = scratch;
        rebuilt.clear();
        rebuilt.resize(ns, false);
        for si in 0..ns {
            if self.base[si].is_some_and(|b| rebuilt[b]) {
                whole[si] = true;
            }
            for (k, input) in self.inputs[si].iter().enumerate().take(64) {
                if let Input::Stage(t) = input
                    && rebuilt[*t]
                {
                    direct[si] |= 1 << k;
                }
            }
            direct[si] &= !self.metadata[si];
            let n = self.lens[si].min(64);
            if whole[si] {
                direct[si] = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            }
            rebuilt[si] = direct[si] != 0 || whole[si];
        }
    }
}

/// The per-commit working vectors of a replay, made once per replay rather
/// than once per commit (a replay walks every commit of the history).
#[derive(Default)]
struct Scratch {
    /// Per stage, the units the commit rebuilds (the answer).
    direct: Vec<u64>,
    /// Per stage, whether the commit invalidates all of it.
    whole: Vec<bool>,
    /// Per stage, whether it is rebuilt.
    rebuilt: Vec<bool>,
}

/// Global instruction index -> (stage, Some(unit) | None for FROM).
fn global_index(parse: &Parse, model: &Model) -> Vec<Option<(usize, Option<usize>)>> {
    let mut global = Vec::new();
    for (idx, item) in parse.items.iter().enumerate() {
        if item.instruction().is_none() {
            continue;
        }
        let mut found = None;
        for (si, s) in model.stages.iter().enumerate() {
            if s.from_item == idx {
                found = Some((si, None));
            } else if let Some(k) = s.units.iter().position(|u| u.item == idx) {
                found = Some((si, Some(k)));
            }
        }
        global.push(found);
    }
    global
}

/// Under BuildKit only RUN, COPY, ADD and WORKDIR become build operations;
/// ENV, ARG, USER and SHELL change what later RUNs see. An edit of anything
/// else (LABEL, EXPOSE, CMD, ...) changes the image config and invalidates
/// no step (dockerfile2llb: `dispatch` only adds to `d.image.Config` for
/// them).
fn metadata_mask(parse: &Parse, s: &crate::model::Stage) -> u64 {
    s.units.iter().enumerate().take(64).fold(0u64, |m, (k, u)| {
        let meta = parse.items[u.item].instruction().is_some_and(|i| {
            matches!(
                i.node.kind,
                Kind::Label
                    | Kind::Expose
                    | Kind::Cmd
                    | Kind::Entrypoint
                    | Kind::Stopsignal
                    | Kind::Healthcheck
                    | Kind::Maintainer
                    | Kind::Volume
                    | Kind::Onbuild
            )
        });
        if meta { m | (1 << k) } else { m }
    })
}

/// Per stage, the mask of the units that are `ARG`s taken to change on
/// every build.
fn per_build_masks(file: &FileAnalysis) -> Vec<u64> {
    file.stages
        .iter()
        .map(|sa| {
            sa.effects
                .iter()
                .enumerate()
                .take(64)
                .fold(0u64, |m, (k, e)| {
                    if e.per_build.is_some() {
                        m | (1 << k)
                    } else {
                        m
                    }
                })
        })
        .collect()
}

fn replay_uncached(file: &FileAnalysis, history: &History) -> Vec<StageHistory> {
    let (parse, model) = (&file.parse, &file.model);
    let per_build = per_build_masks(file);
    let plan = ReplayPlan::of(parse, model, per_build);
    let mut out: Vec<StageHistory> = model
        .stages
        .iter()
        .map(|s| StageHistory {
            masks: Vec::with_capacity(history.commits.len()),
            source_changes: vec![0; s.units.len()],
        })
        .collect();
    let changed = history.changed(&plan.sources);
    let mut scratch = Scratch::default();
    for (ci, c) in history.commits.iter().enumerate() {
        plan.commit_masks(ci, c, &changed, &mut out, &mut scratch);
        for (si, &m) in scratch.direct.iter().enumerate() {
            out[si].masks.push(m);
        }
    }
    out
}

/// Per-instruction history figures for a report.
#[derive(Debug, Clone, Serialize)]
pub struct UnitFigures {
    pub line: usize,
    pub instruction: String,
    pub source_changes: u64,
    pub rebuilds: u64,
    pub cost: f64,
}

/// History figures of a whole Dockerfile.
#[derive(Debug, Clone, Serialize)]
pub struct FileFigures {
    pub units: Vec<UnitFigures>,
    /// Mean rebuilt cost per commit.
    pub mean_cost: f64,
    pub commits: u64,
    /// The `ARG`s counted as changed in every commit: their variables,
    /// assumed to take a new value on every build
    /// ([`crate::analysis::volatile`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_build: Vec<String>,
}

/// Replays `history` against `text` in its own order (analysed with the
/// embedded knowledge base; the pipeline uses [`figures_of`]).
pub fn figures(
    text: &str,
    ctx: Option<&crate::analysis::context::Context>,
    history: &History,
) -> FileFigures {
    let analysis = FileAnalysis::new(text, ctx, Knowledge::embedded());
    figures_of(&analysis, history, &mut ReplayCache::default())
}

/// Replays `history` against an analysed file in its own order.
pub fn figures_of(file: &FileAnalysis, history: &History, cache: &mut ReplayCache) -> FileFigures {
    let parse = &file.parse;
    let replayed = cache.replay(file, history);
    let mut units = Vec::new();
    let mut total = 0.0;
    for (si, stage) in file.model.stages.iter().enumerate() {
        let eff = &file.stages[si].effects;
        let order: Vec<usize> = (0..stage.units.len()).collect();
        let rebuilds = replayed[si].rebuilds(&order);
        for (k, u) in stage.units.iter().enumerate() {
            let item = &parse.items[u.item];
            let cost = eff.get(k).map_or(0.0, |e| e.cost);
            total += cost * rebuilds[k] as f64;
            units.push(UnitFigures {
                line: item.lines.start,
                instruction: item.instruction().map(|i| i.one_line()).unwrap_or_default(),
                source_changes: replayed[si].source_changes[k],
                rebuilds: rebuilds[k],
                cost,
            });
        }
    }
    let commits = history.commits.len() as u64;
    let mut per_build: Vec<String> = Vec::new();
    for name in file
        .stages
        .iter()
        .flat_map(|sa| sa.effects.iter().filter_map(|e| e.per_build.clone()))
    {
        if !per_build.contains(&name) {
            per_build.push(name);
        }
    }
    FileFigures {
        units,
        per_build,
        mean_cost: if commits == 0 {
            0.0
        } else {
            total / commits as f64
        },
        commits,
    }
}

impl FileFigures {
    /// The instructions of `self` (before a rewrite) matched with those of
    /// `after` by text, in `self`'s order, then those only in `after`
    /// (inserted ones).
    pub fn pair_with<'a>(
        &'a self,
        after: &'a FileFigures,
    ) -> Vec<(Option<&'a UnitFigures>, Option<&'a UnitFigures>)> {
        let mut used = vec![false; after.units.len()];
        let mut out = Vec::new();
        for b in &self.units {
            let k = after
                .units
                .iter()
                .enumerate()
                .position(|(k, a)| !used[k] && a.instruction == b.instruction);
            if let Some(k) = k {
                used[k] = true;
            }
            out.push((Some(b), k.map(|k| &after.units[k])));
        }
        out.extend(
            after
                .units
                .iter()
                .zip(used)
                .filter(|(_, u)| !u)
                .map(|(a, _)| (None, Some(a))),
        );
        out
    }
}
