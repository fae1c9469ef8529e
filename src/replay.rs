//! Replays the walked history against a Dockerfile: for each commit and
//! stage, which units are invalidated directly (their sources or their text
//! changed, or a stage they copy from was rebuilt). BuildKit then rebuilds
//! every step from the first invalidated one on.

use std::collections::HashMap;

use serde::Serialize;

use crate::analysis::effects::{Effects, Loc, paths_overlap};
use crate::analysis::file::FileAnalysis;
use crate::analysis::history::{History, Query, arg_names_without_default, uses_var};
use crate::analysis::kb::Knowledge;
use crate::model::Model;
use crate::order::Hits;
use crate::syntax::{Kind, Mount, Parse};

/// What a unit reads from outside its stage's earlier steps.
#[derive(Default)]
struct Input {
    /// Indices into the replay's list of source texts.
    sources: Vec<usize>,
    /// Earlier stages it copies from (`COPY --from`, a `RUN`'s
    /// `--mount=from=`), each with the image paths it takes there
    /// (patterns covering the tree below each; `/**` when not known).
    /// BuildKit keys such a copy on the content of those paths, not on
    /// how the stage was built (`fileOp.CacheMap` gives the copy's source
    /// input a content hash of its selectors; `ExecOp.getMountDeps` does
    /// the same for read-only mounts): it reruns only when that content
    /// may have changed.
    stages: Vec<(usize, Vec<String>)>,
}

/// Which reruns write new bytes (and so change what a copy from the stage
/// copies).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rerun {
    /// The figures: a `RUN` that reruns may write new bytes (nothing says
    /// a command is reproducible: a wheel built from source carries
    /// timestamps), and a copy does when what it copies or an earlier
    /// edit changed.
    NewBytes,
    /// Only a step whose own input changed (its sources, its text, an
    /// edit before it) writes new bytes, whatever an earlier rerun wrote
    /// for it; a copy rerun for some of its sources writes them where
    /// they land, not everywhere it may write. Optimistic, and not a figure: a count lower in this
    /// reading may be lower in a real build than the figure says, which
    /// the report says with "at most".
    Optimistic,
}

/// Per stage: one invalidation mask per walked commit, and per unit how
/// many commits changed what it copies.
#[derive(Debug, Clone, Default)]
pub struct StageHistory {
    pub masks: Vec<u64>,
    /// The masks in the optimistic reading of reruns
    /// ([`Rerun::Optimistic`]): they differ from `masks` only below copies
    /// from other stages.
    pub optimistic_masks: Vec<u64>,
    pub source_changes: Vec<u64>,
    /// Whether the stage is built by a default `docker build` (no
    /// `--target`): the last stage and the stages it is built on or copies
    /// from.
    pub default_target: bool,
}

impl StageHistory {
    /// Distinct masks with counts, for the order search.
    pub fn hits(&self) -> Hits {
        Hits::Masks {
            masks: grouped(&self.masks),
            commits: self.masks.len() as u64,
        }
    }

    /// How many commits rebuild each unit under `order` (unit indices).
    pub fn rebuilds(&self, order: &[usize]) -> Vec<u64> {
        rebuilds(&self.masks, order)
    }

    /// [`StageHistory::rebuilds`] in the optimistic reading of reruns.
    pub fn optimistic_rebuilds(&self, order: &[usize]) -> Vec<u64> {
        rebuilds(&self.optimistic_masks, order)
    }
}

/// Distinct masks, ascending, with how many commits have each (few:
/// most commits change the same files).
fn grouped(masks: &[u64]) -> Vec<(u64, u64)> {
    let mut sorted = masks.to_vec();
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

/// How many commits of `masks` rebuild each unit under `order`.
fn rebuilds(masks: &[u64], order: &[usize]) -> Vec<u64> {
    let n = order.len();
    let mut out = vec![0u64; n];
    for (m, count) in grouped(masks) {
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

/// The `source=` value of a `--mount` flag, as written, when it names the
/// context file `src`.
fn mount_source<'a>(flag: &'a str, src: &str) -> Option<&'a str> {
    Mount::parse(flag)?
        .source()
        .filter(|v| v.trim_start_matches("./") == src)
}

/// The earlier stages a `FROM`, `--from=` or mount `from=` may name: a
/// variable takes its global `ARG` default (`FROM base-${VARIANT}` after
/// `ARG VARIANT=slim`, the value the rest of the model takes for a build
/// argument); one without a default may name any earlier stage (`None`).
fn stage_refs(
    name: &str,
    names: &HashMap<String, usize>,
    before: usize,
    args: &std::collections::BTreeMap<String, String>,
) -> Option<Option<usize>> {
    if !name.contains('$') {
        return Some(stage_ref(name, names, before));
    }
    let name = crate::analysis::effects::expand(name, args).filter(|n| !n.contains('$'))?;
    Some(stage_ref(&name, names, before))
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
    /// Per stage, whether its `FROM` names a variable without a default,
    /// which may be any earlier stage.
    any_base: Vec<bool>,
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
    /// Per stage, per unit: the image paths it may write (patterns).
    writes: Vec<Vec<Vec<String>>>,
    /// Per stage, a mask of the copies (`COPY`, and `ADD` of context files
    /// or stages): a file op that reruns with the same inputs writes the
    /// same files.
    file_ops: Vec<u64>,
    /// Per stage, a mask of the copies that read the image (a `--chown`
    /// by name reads `/etc/passwd`): what a `RUN` before them wrote there
    /// may change what they write.
    reads_image: Vec<u64>,
    /// Per stage, whether a default `docker build` builds it.
    default_target: Vec<bool>,
}

fn trimmed(parse: &Parse, item: usize) -> String {
    parse.items[item]
        .instruction()
        .map(|i| i.original.trim().to_string())
        .unwrap_or_default()
}

impl<'s> ReplayPlan<'s> {
    fn of(file: &'s FileAnalysis, per_build: Vec<u64>) -> ReplayPlan<'s> {
        let (parse, model) = (&file.parse, &file.model);
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
            any_base: Vec::new(),
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
            writes: file
                .stages
                .iter()
                .map(|sa| sa.effects.iter().map(written_paths).collect())
                .collect(),
            file_ops: model
                .stages
                .iter()
                .zip(&file.stages)
                .map(|(s, sa)| unit_mask(s, |k| is_file_op(parse, s.units[k].item, &sa.effects[k])))
                .collect(),
            reads_image: model
                .stages
                .iter()
                .zip(&file.stages)
                .map(|(s, sa)| {
                    unit_mask(s, |k| {
                        sa.effects[k]
                            .reads
                            .iter()
                            .any(|r| matches!(r, Loc::Path(_)))
                    })
                })
                .collect(),
            default_target: Vec::new(),
        };
        let args = crate::analysis::effects::global_arg_defaults(parse);
        for (si, stage) in model.stages.iter().enumerate() {
            let from = parse.items[stage.from_item].instruction();
            let base = from
                .and_then(|f| f.node.str_args().next())
                .map_or(Some(None), |img| stage_refs(img, &names, si, &args));
            plan.base.push(base.flatten());
            plan.any_base.push(base.is_none());
            // A stage's own `ARG` may give a `--from=` or mount `from=`
            // another value (BuildKit expands them with the stage's
            // arguments): after it, that variable is not known.
            let mut known = args.clone();
            let mut v = Vec::with_capacity(stage.units.len());
            for u in &stage.units {
                v.push(plan.input_of(parse, u.item, &names, si, &known));
                if let Some(i) = parse.items[u.item].instruction()
                    && i.node.kind == Kind::Arg
                {
                    for a in i.node.str_args() {
                        known.remove(a.split_once('=').map_or(a, |(k, _)| k));
                    }
                }
            }
            plan.inputs.push(v);
        }
        plan.default_target = plan.built_by_default();
        plan
    }

    /// Per stage, whether `docker build` without `--target` builds it: the
    /// last stage, and every stage a built one is based on or copies from
    /// (BuildKit solves only what the target needs).
    fn built_by_default(&self) -> Vec<bool> {
        let ns = self.lens.len();
        let mut built = vec![false; ns];
        let Some(last) = ns.checked_sub(1) else {
            return built;
        };
        built[last] = true;
        // Stages only depend on earlier ones: one pass from the end.
        for si in (0..ns).rev() {
            if !built[si] {
                continue;
            }
            if let Some(b) = self.base[si] {
                built[b] = true;
            }
            // A base a variable without a default names may be any
            // earlier stage: none is said to be left out.
            if self.any_base[si] {
                built[..si].iter_mut().for_each(|b| *b = true);
            }
            for input in &self.inputs[si] {
                for (t, _) in &input.stages {
                    built[*t] = true;
                }
            }
        }
        built
    }

    /// What a unit reads from outside the Dockerfile: context sources
    /// (registered in `sources`) or earlier stages.
    fn input_of(
        &mut self,
        parse: &'s Parse,
        item: usize,
        names: &HashMap<String, usize>,
        si: usize,
        defaults: &std::collections::BTreeMap<String, String>,
    ) -> Input {
        let mut input = Input::default();
        let Some(ins) = parse.items[item].instruction() else {
            return input;
        };
        if ins.node.kind == Kind::Run {
            // A RUN's bind-mounted context files are its inputs too.
            for s in &crate::analysis::effects::bind_sources(ins) {
                let Some(text) = ins.node.flags.iter().find_map(|f| mount_source(f, s)) else {
                    continue;
                };
                if Query::parse(text).is_some() {
                    input.sources.push(self.source_index(text));
                }
            }
            // So are the stages it mounts (`--mount=type=bind,from=build`):
            // their content at the source path, from the stage's root.
            for flag in &ins.node.flags {
                if !Mount::is_mount_flag(flag) {
                    continue;
                }
                let Some(m) = Mount::parse(flag) else {
                    // A mount not read here may name any stage.
                    input
                        .stages
                        .extend((0..si).map(|t| (t, vec!["/**".to_string()])));
                    continue;
                };
                let Some(from) = m.from() else {
                    continue;
                };
                let path = vec![from_stage_path(m.source().unwrap_or("/"))];
                match stage_refs(from, names, si, defaults) {
                    Some(Some(t)) => input.stages.push((t, path)),
                    Some(None) => {}
                    // A variable without a default may name any earlier
                    // stage (`from=${BUILDER}`).
                    None => input.stages.extend((0..si).map(|t| (t, path.clone()))),
                }
            }
            return input;
        }
        if !matches!(ins.node.kind, Kind::Copy | Kind::Add) {
            return input;
        }
        let args: Vec<&'s str> = ins.node.str_args().collect();
        let srcs = args.split_last().map_or(&[][..], |(_, s)| s);
        if let Some(from) = ins
            .node
            .flags
            .iter()
            .find_map(|f| f.strip_prefix("--from="))
        {
            // Sources of `COPY --from` are paths from the stage's root.
            let paths: Vec<String> = srcs.iter().map(|s| from_stage_path(s)).collect();
            match stage_refs(from, names, si, defaults) {
                Some(Some(t)) => input.stages.push((t, paths)),
                Some(None) => {}
                // A variable without a default may name any earlier stage.
                None => input.stages.extend((0..si).map(|t| (t, paths.clone()))),
            }
            return input;
        }
        for s in srcs.iter().filter(|s| Query::parse(s).is_some()) {
            input.sources.push(self.source_index(s));
        }
        input
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
    /// left in `scratch.direct`, and in `scratch.optimistic` in the
    /// optimistic reading of reruns), counting the source changes on the
    /// way.
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
        scratch.sourced.clear();
        scratch.sourced.resize(ns, 0);
        scratch.edited.clone_from(&self.per_build);
        let (direct, whole, sourced, edited) = (
            &mut scratch.direct,
            &mut scratch.whole,
            &mut scratch.sourced,
            &mut scratch.edited,
        );
        let mut any_edit_matched = false;
        for si in 0..ns {
            for (k, input) in self.inputs[si].iter().enumerate().take(64) {
                if input
                    .sources
                    .iter()
                    .any(|&k| changed.get(k).and_then(|v| v.get(ci)).copied() == Some(true))
                {
                    direct[si] |= 1 << k;
                    sourced[si] |= 1 << k;
                    out[si].source_changes[k] += 1;
                }
                if !c.edited.is_empty() && c.edited.contains(&self.texts[si][k]) {
                    direct[si] |= 1 << k;
                    edited[si] |= 1 << k;
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
                        edited[si] |= 1 << k;
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
                Some((si, Some(k))) if k < 64 => {
                    direct[si] |= 1 << k;
                    edited[si] |= 1 << k;
                }
                Some((si, _)) => whole[si] = true,
                None => whole.iter_mut().for_each(|w| *w = true),
            }
        }
        // The same commit under both readings of a rerun.
        let (own, fresh) = (scratch.direct.clone(), scratch.whole.clone());
        self.propagate(scratch, Rerun::Optimistic);
        std::mem::swap(&mut scratch.direct, &mut scratch.optimistic);
        scratch.direct.clone_from(&own);
        scratch.whole.clone_from(&fresh);
        self.propagate(scratch, Rerun::NewBytes);
    }

    /// Rebuilt stages rebuild the stages built on them; a copy from a stage
    /// reruns when what it copies may have changed there (see
    /// [`Input::stages`]); metadata edits rebuild nothing; a wholly
    /// invalidated stage rebuilds every unit.
    fn propagate(&self, scratch: &mut Scratch, rerun: Rerun) {
        let ns = self.lens.len();
        let Scratch {
            direct,
            whole,
            rebuilt,
            differs,
            fresh,
            sourced,
            edited,
            partial,
            ..
        } = scratch;
        rebuilt.clear();
        rebuilt.resize(ns, false);
        differs.clear();
        differs.resize(ns, 0);
        partial.clear();
        partial.resize(ns, 0);
        // A stage wholly invalidated by itself (its `FROM` edited, a
        // directive, a global `ARG` in its `FROM`): its base image may
        // differ anywhere.
        fresh.clone_from(whole);
        for si in 0..ns {
            if self.base[si].is_some_and(|b| rebuilt[b]) {
                whole[si] = true;
            }
            for (k, input) in self.inputs[si].iter().enumerate().take(64) {
                if input
                    .stages
                    .iter()
                    .any(|(t, paths)| self.changed_at(*t, paths, rebuilt, differs, fresh, partial))
                {
                    direct[si] |= 1 << k;
                    sourced[si] |= 1 << k;
                }
            }
            direct[si] &= !self.metadata[si];
            let own = direct[si];
            let n = self.lens[si].min(64);
            let all = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            if whole[si] {
                direct[si] = all;
            }
            rebuilt[si] = direct[si] != 0 || whole[si];
            // What the units that rerun may write anew.
            let reran = if whole[si] {
                all
            } else if own == 0 {
                0
            } else {
                all & !((1u64 << own.trailing_zeros()) - 1)
            };
            let (mut edited_before, mut ran_before) = (false, false);
            for u in 0..n {
                if reran & (1 << u) == 0 {
                    continue;
                }
                let file_op = self.file_ops[si] & (1 << u) != 0;
                let new_input = fresh[si] || own & (1 << u) != 0 || edited_before;
                let new_bytes = rerun == Rerun::NewBytes
                    && (!file_op || (self.reads_image[si] & (1 << u) != 0 && ran_before));
                if new_input || new_bytes {
                    differs[si] |= 1 << u;
                }
                // A copy that reran only because some of what it copies
                // changed writes new bytes where those land, below its
                // destination, not everywhere it may write (a `COPY . .`
                // rerun for an edited README writes no new bytes in the
                // build output a later stage copies; measured, BuildKit
                // served that copy from its cache): in the optimistic
                // reading it changes only what covers all it writes.
                if rerun == Rerun::Optimistic
                    && file_op
                    && sourced[si] & (1 << u) != 0
                    && edited[si] & (1 << u) == 0
                    && !fresh[si]
                    && !edited_before
                {
                    partial[si] |= 1 << u;
                }
                if !file_op {
                    // An edited `ENV`, `WORKDIR`, `USER` or `RUN` may
                    // change what every later step writes.
                    edited_before |= own & (1 << u) != 0;
                    ran_before = true;
                }
            }
        }
    }

    /// Whether the content of `paths` in stage `t` may differ from the
    /// previous build's: a unit that reran there may write them anew, or
    /// they come from its base image, which changed, or from its base
    /// stage, where they may differ.
    fn changed_at(
        &self,
        t: usize,
        paths: &[String],
        rebuilt: &[bool],
        differs: &[u64],
        fresh: &[bool],
        partial: &[u64],
    ) -> bool {
        if fresh[t] || (self.lens[t] > 64 && rebuilt[t]) {
            return true;
        }
        let mut d = differs[t];
        while d != 0 {
            let u = d.trailing_zeros() as usize;
            d &= d - 1;
            let writes = &self.writes[t][u];
            let hit = if partial[t] & (1 << u) != 0 {
                // Its new bytes are surely among the copied paths only
                // when all it writes is.
                !writes.is_empty()
                    && writes
                        .iter()
                        .all(|w| paths.iter().any(|p| pattern_within(w, p)))
            } else {
                writes
                    .iter()
                    .any(|w| paths.iter().any(|p| paths_overlap(w, p)))
            };
            if hit {
                return true;
            }
        }
        self.base[t].is_some_and(|b| self.changed_at(b, paths, rebuilt, differs, fresh, partial))
    }
}

/// A source path of a copy from a stage (`COPY --from`, a mount's
/// `source=`), read from the stage's root, as a pattern covering the tree
/// below it; `/**` when a variable names it.
fn from_stage_path(src: &str) -> String {
    if src.contains('$') {
        return "/**".to_string();
    }
    let rel = src.trim_start_matches("./").trim_start_matches('/');
    let rel = rel.trim_end_matches('/');
    if rel.is_empty() || rel == "." {
        "/**".to_string()
    } else {
        format!("/{rel}/**")
    }
}

/// Whether every path the pattern `w` names lies within `p`, a tree as
/// [`from_stage_path`] makes it (`/dir/**`, `/**`).
fn pattern_within(w: &str, p: &str) -> bool {
    let Some(dir) = p.strip_suffix("/**") else {
        return w == p;
    };
    if dir.is_empty() {
        return true;
    }
    // The directory every path of `w` lies in: `w` itself without a glob,
    // else its literal part up to the last `/` before the first glob.
    let lit = match w.find(['*', '?', '[']) {
        Some(i) => w[..i].rsplit_once('/').map_or("", |(d, _)| d),
        None => w,
    };
    lit == dir || lit.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// The image paths a unit may write (patterns): its path writes and the
/// directories it makes.
fn written_paths(e: &Effects) -> Vec<String> {
    e.writes
        .iter()
        .filter_map(|w| match w {
            Loc::Path(p) => Some(p.clone()),
            Loc::Dir { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect()
}

/// Whether a unit is a copy BuildKit makes a file op of, from the context
/// or a stage: rerun with the same inputs, it writes the same files. An
/// `ADD` of a URL or a repository fetches again, and is not.
fn is_file_op(parse: &Parse, item: usize, e: &Effects) -> bool {
    parse.items[item]
        .instruction()
        .is_some_and(|i| match i.node.kind {
            Kind::Copy => true,
            Kind::Add => !e
                .context_reads
                .iter()
                .any(|s| s.contains("://") || s.starts_with("git@")),
            _ => false,
        })
}

/// The mask of a stage's units (the first 64) for which `f` holds.
fn unit_mask(s: &crate::model::Stage, f: impl Fn(usize) -> bool) -> u64 {
    (0..s.units.len().min(64)).fold(0u64, |m, k| if f(k) { m | (1 << k) } else { m })
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
    /// Per stage, the units that reran and may have written new bytes.
    differs: Vec<u64>,
    /// Per stage, whether it was wholly invalidated by itself.
    fresh: Vec<bool>,
    /// `direct` in the optimistic reading of reruns.
    optimistic: Vec<u64>,
    /// Per stage, the units invalidated because what they copy changed
    /// (their context sources, or what they take from another stage).
    sourced: Vec<u64>,
    /// Per stage, the units invalidated otherwise (their text or an
    /// `ARG` they take edited, a per-build `ARG`).
    edited: Vec<u64>,
    /// Per stage, in the optimistic reading, the copies that reran with
    /// only some of what they copy changed: they write new bytes below
    /// their destination, not known where.
    partial: Vec<u64>,
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
    let model = &file.model;
    let per_build = per_build_masks(file);
    let plan = ReplayPlan::of(file, per_build);
    let mut out: Vec<StageHistory> = model
        .stages
        .iter()
        .enumerate()
        .map(|(si, s)| StageHistory {
            masks: Vec::with_capacity(history.commits.len()),
            optimistic_masks: Vec::with_capacity(history.commits.len()),
            source_changes: vec![0; s.units.len()],
            default_target: plan.default_target[si],
        })
        .collect();
    let changed = history.changed(&plan.sources);
    let mut scratch = Scratch::default();
    for (ci, c) in history.commits.iter().enumerate() {
        plan.commit_masks(ci, c, &changed, &mut out, &mut scratch);
        for (si, &m) in scratch.direct.iter().enumerate() {
            out[si].masks.push(m);
        }
        for (si, &m) in scratch.optimistic.iter().enumerate() {
            out[si].optimistic_masks.push(m);
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
    /// Commits that rebuild it, a `RUN` that reruns taken to write new
    /// bytes (see [`Rerun::NewBytes`]).
    pub rebuilds: u64,
    /// Whether `rebuilds` counts commits in which it reran only because a
    /// copy from another stage took what a rerun `RUN` wrote as new: a
    /// real build may rebuild it less (see [`Rerun::Optimistic`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub at_most: bool,
    pub cost: f64,
    /// The stage, when a default `docker build` does not build it (only
    /// `--target` does): its name, or its number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_only: Option<String>,
    /// The trimmed text (to find a split `RUN` again).
    #[serde(skip)]
    pub original: String,
}

/// History figures of a whole Dockerfile.
#[derive(Debug, Clone, Serialize)]
pub struct FileFigures {
    pub units: Vec<UnitFigures>,
    /// Mean rebuilt cost per commit of what a default `docker build`
    /// builds (the last stage and what it needs), a rerun `RUN` taken to
    /// write new bytes.
    pub mean_cost: f64,
    /// Whether `mean_cost` counts such reruns (see
    /// [`UnitFigures::at_most`]) of a step with a cost.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cost_at_most: bool,
    /// Mean rebuilt cost per commit of every stage, what the planner
    /// weighs (a move in a stage built only with `--target` saves too).
    #[serde(skip)]
    pub all_stages_cost: f64,
    /// Whether `all_stages_cost` counts reruns as `cost_at_most` does.
    #[serde(skip)]
    pub stages_at_most: bool,
    pub commits: u64,
    /// The `ARG`s counted as changed in every commit: their variables,
    /// assumed to take a new value on every build
    /// ([`crate::analysis::volatile`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_build: Vec<String>,
    /// The stages a default `docker build` does not build, left out of
    /// `mean_cost`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_only: Vec<String>,
    /// Copies from other stages counted as rerun because a `RUN` that
    /// wrote what they copy reran (see [`UnitFigures::at_most`]): (line,
    /// text).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub content_keyed: Vec<(usize, String)>,
    /// The `RUN`s a rewrite split, as (the `RUN` before, its hoisted
    /// first part): set on the rewritten text's figures, so the two are
    /// paired.
    #[serde(skip)]
    pub splits: Vec<(String, String)>,
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

/// Whether an instruction copies from another stage or mounts one.
fn copies_from_stage(ins: &crate::syntax::Instruction) -> bool {
    ins.node.flags.iter().any(|f| {
        f.starts_with("--from=")
            || (Mount::is_mount_flag(f) && Mount::parse(f).is_none_or(|m| m.from().is_some()))
    })
}

/// Replays `history` against an analysed file in its own order.
pub fn figures_of(file: &FileAnalysis, history: &History, cache: &mut ReplayCache) -> FileFigures {
    let parse = &file.parse;
    let replayed = cache.replay(file, history);
    let mut units = Vec::new();
    let (mut total, mut all_total) = (0.0, 0.0);
    let (mut cost_at_most, mut stages_at_most) = (false, false);
    let mut target_only = Vec::new();
    let mut content_keyed = Vec::new();
    for (si, stage) in file.model.stages.iter().enumerate() {
        let eff = &file.stages[si].effects;
        let order: Vec<usize> = (0..stage.units.len()).collect();
        let sh = &replayed[si];
        let rebuilds = sh.rebuilds(&order);
        let optimistic = sh.optimistic_rebuilds(&order);
        let label = (!sh.default_target).then(|| {
            stage
                .name
                .clone()
                .map_or_else(|| format!("stage {si}"), |n| format!("`{n}`"))
        });
        if let Some(l) = &label {
            target_only.push(l.clone());
        }
        for (k, u) in stage.units.iter().enumerate() {
            let item = &parse.items[u.item];
            let cost = eff.get(k).map_or(0.0, |e| e.cost);
            all_total += cost * rebuilds[k] as f64;
            let at_most = optimistic[k] != rebuilds[k];
            stages_at_most |= at_most && cost > 0.0;
            if sh.default_target {
                total += cost * rebuilds[k] as f64;
                cost_at_most |= at_most && cost > 0.0;
            }
            let ins = item.instruction();
            // A copy whose own invalidation depends on the reading.
            let direct = |masks: &[u64]| {
                masks
                    .iter()
                    .filter(|m| k < 64 && *m & (1 << k) != 0)
                    .count()
            };
            if ins.is_some_and(copies_from_stage)
                && direct(&sh.masks) != direct(&sh.optimistic_masks)
            {
                content_keyed.push((
                    item.lines.start,
                    ins.map(|i| i.one_line()).unwrap_or_default(),
                ));
            }
            units.push(UnitFigures {
                line: item.lines.start,
                instruction: ins.map(|i| i.one_line()).unwrap_or_default(),
                source_changes: sh.source_changes[k],
                rebuilds: rebuilds[k],
                at_most,
                cost,
                target_only: label.clone(),
                original: ins
                    .map(|i| i.original.trim().to_string())
                    .unwrap_or_default(),
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
    let mean = |t: f64| {
        if commits == 0 {
            0.0
        } else {
            t / commits as f64
        }
    };
    FileFigures {
        units,
        per_build,
        mean_cost: mean(total),
        cost_at_most,
        all_stages_cost: mean(all_total),
        stages_at_most,
        commits,
        target_only,
        content_keyed,
        splits: Vec::new(),
    }
}

/// Whether `after` is the `RUN` `before` with a lone update merged in
/// front of its command (`RUN apt-get install -y curl` and `RUN apt-get
/// update && apt-get install -y curl`; see `plan::merge`).
pub(crate) fn merged_into(before: &str, after: &str) -> bool {
    let (Some(cmd), Some(rest)) = (before.strip_prefix("RUN "), after.strip_prefix("RUN ")) else {
        return false;
    };
    rest.strip_suffix(cmd)
        .and_then(|head| head.strip_suffix(" && "))
        .is_some_and(|update| update.contains("update") && !update.contains("&&"))
}

impl FileFigures {
    /// The instructions of `self` (before a rewrite) matched with those of
    /// `after` by text (a split `RUN` with its hoisted part, see
    /// [`FileFigures::splits`]), in `self`'s order, then those only in
    /// `after` (inserted ones).
    pub fn pair_with<'a>(
        &'a self,
        after: &'a FileFigures,
    ) -> Vec<(Option<&'a UnitFigures>, Option<&'a UnitFigures>)> {
        let mut used = vec![false; after.units.len()];
        let mut out = Vec::new();
        for b in &self.units {
            // A split `RUN` pairs with its hoisted first part: what ran as
            // part of it before runs on its own after.
            let hoisted = after
                .splits
                .iter()
                .find(|(whole, _)| *whole == b.original)
                .map(|(_, part)| part);
            let k = after
                .units
                .iter()
                .enumerate()
                .position(|(k, a)| !used[k] && a.instruction == b.instruction)
                .or_else(|| {
                    let part = hoisted?;
                    (0..after.units.len()).find(|&k| !used[k] && after.units[k].original == *part)
                })
                .or_else(|| {
                    // An install a lone `apt-get update` was merged into:
                    // the same `RUN` with the update put first.
                    (0..after.units.len())
                        .find(|&k| !used[k] && merged_into(&b.original, &after.units[k].original))
                });
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
