//! Applies plans to text and verifies the result. Edits are the only way
//! text changes: moved units keep their bytes (comments included), inserted
//! lines copy their neighbours' style, and the result must re-parse to the
//! same instructions and be a fixed point of the planner, or nothing is
//! output for the file.

use std::collections::BTreeMap;

use crate::analysis::context::Context;
use crate::analysis::effects;
use crate::analysis::history::History;
use crate::model::Model;
use crate::plan::{self, Change, Merge, Options, StageOrder, short};
use crate::simulate;
use crate::syntax::{self, Parse};

/// The outcome for one file.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub new_text: String,
    pub changes: Vec<Change>,
    /// `# dockreorder: ignore-file` was found.
    pub ignored: bool,
}

impl Outcome {
    pub fn changed(&self, original: &str) -> bool {
        self.new_text != original
    }
}

/// Why a file could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewriteError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn newline_of(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    if crlf > lf { "\r\n" } else { "\n" }
}

fn first_error(p: &Parse) -> Option<RewriteError> {
    p.errors.first().map(|d| RewriteError {
        line: d.line,
        column: d.column,
        message: d.message.clone(),
    })
}

/// Applies merges: removes each update RUN and prefixes the install.
fn apply_merges(text: &str, parse: &Parse, merges: &[Merge]) -> String {
    // (start, end, replacement), applied from the end backwards.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for m in merges {
        let (Some(u), Some(v)) = (
            parse.items.get(m.update_item),
            parse.items.get(m.install_item),
        ) else {
            continue;
        };
        edits.push((u.span.start, u.span.end, String::new()));
        let vt = v.span.text(text);
        let lead = vt.len() - vt.trim_start_matches([' ', '\t']).len();
        let after_kw = vt[lead..].find([' ', '\t']).map_or(vt.len(), |k| lead + k);
        let rest = &vt[after_kw..];
        let ws = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let at = v.span.start + after_kw + ws;
        edits.push((at, at, m.prefix.clone()));
    }
    edits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut out = text.to_string();
    let mut last_start = usize::MAX;
    for (s, e, r) in edits {
        if e > last_start {
            continue; // overlapping edit: skipped
        }
        out.replace_range(s..e, &r);
        last_start = s;
    }
    out
}

/// Applies a new unit order to one stage.
fn apply_order(text: &str, parse: &Parse, model: &Model, order: &StageOrder) -> String {
    let nl = newline_of(text);
    let Some(stage) = model.stages.get(order.stage) else {
        return text.to_string();
    };
    // A unit takes the blank lines right above its comment block: blank
    // lines separate paragraphs, and a paragraph moves whole (no blank line
    // is left between a comment and its instruction, none piles up).
    let lead: Vec<usize> = stage
        .units
        .iter()
        .enumerate()
        .map(|(k, unit)| {
            let floor = if k == 0 {
                stage.from_item + 1
            } else {
                stage.units[k - 1].item + 1
            };
            let mut i = unit.first_item;
            while i > floor && matches!(parse.items[i - 1].kind, crate::syntax::ItemKind::Blank) {
                i -= 1;
            }
            i
        })
        .collect();
    let unit_text = |u: usize| -> (String, String) {
        let unit = &stage.units[u];
        let mut comments = String::new();
        for i in lead[u]..unit.item {
            comments.push_str(parse.items[i].span.text(text));
        }
        let mut ins = parse.items[unit.item].span.text(text).to_string();
        if !ins.ends_with('\n') {
            ins.push_str(nl);
        }
        (comments, ins)
    };
    // Slot k (the k-th unit's place) gets group k.
    let mut slot_of_item: BTreeMap<usize, usize> = BTreeMap::new();
    for (k, &first) in lead.iter().enumerate() {
        slot_of_item.insert(first, k);
    }
    let mut out = String::with_capacity(text.len() + 128);
    let mut i = 0;
    while i < parse.items.len() {
        if let Some(&k) = slot_of_item.get(&i) {
            let g = &order.groups[k];
            let (comments, ins) = unit_text(g.unit);
            out.push_str(&comments);
            let indent: String = ins
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            for line in &g.inserts {
                out.push_str(&indent);
                out.push_str(line);
                out.push_str(nl);
            }
            out.push_str(&ins);
            i = stage.units[k].item + 1;
            continue;
        }
        out.push_str(parse.items[i].span.text(text));
        i += 1;
    }
    if !text.ends_with('\n') && out.ends_with('\n') {
        let trimmed = out
            .strip_suffix(nl)
            .or_else(|| out.strip_suffix('\n'))
            .map(str::len);
        if let Some(len) = trimmed {
            out.truncate(len);
        }
    }
    out
}

fn instruction_texts(parse: &Parse) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (_, ins) in parse.instructions() {
        *m.entry(ins.original.trim().to_string()).or_insert(0) += 1;
    }
    m
}

/// The fewest commits touching the build context for the history to
/// decide the order; with fewer, the static estimate (manifests change
/// rarely) is steadier than a handful of commits.
pub const MIN_HISTORY_COMMITS: usize = 20;

/// The history when it says enough to order by (see
/// [`MIN_HISTORY_COMMITS`]), else `None`.
pub fn usable_history(history: Option<&History>) -> Option<&History> {
    history.filter(|h| {
        let context = h.changed(&["."]);
        let touched = |i: usize, c: &crate::analysis::history::CommitChanges| {
            !c.edited.is_empty() || context.first().is_some_and(|v| v.get(i) == Some(&true))
        };
        h.commits
            .iter()
            .enumerate()
            .filter(|(i, c)| touched(*i, c))
            .count()
            >= MIN_HISTORY_COMMITS
    })
}

/// Expected rebuild cost per build of a whole file: by the history when
/// given, else by the static estimate.
pub fn file_cost(text: &str, ctx: Option<&Context>, history: Option<&History>) -> f64 {
    if let Some(h) = history {
        return simulate::figures(text, ctx, h).mean_cost;
    }
    let parse = syntax::parse(text);
    let model = Model::build(&parse, text);
    let mut total = 0.0;
    for stage in &model.stages {
        let (eff, _) = effects::analyze_stage_with(&parse, stage, ctx);
        let p = plan::static_probabilities(&parse, stage, &eff);
        let n = stage.units.len().min(crate::order::MAX_UNITS);
        let c: Vec<f64> = eff.iter().take(n).map(|e| e.cost).collect();
        let order: Vec<usize> = (0..n).collect();
        total += crate::order::expected_cost(&order, &c, &crate::order::Hits::Static(p));
    }
    total
}

/// Hoists and reorders, one stage order at a time, until nothing moves.
/// Returns the final text and the changes of every round.
fn plan_rounds(
    start: &str,
    ctx: Option<&Context>,
    history: Option<&History>,
    opts: Options,
    floor: f64,
) -> Result<(String, Vec<Change>), RewriteError> {
    let mut cur = start.to_string();
    let mut changes: Vec<Change> = Vec::new();
    for _ in 0..64 {
        let parse = syntax::parse(&cur);
        if let Some(e) = first_error(&parse) {
            return Err(RewriteError {
                line: e.line,
                column: e.column,
                message: format!(
                    "internal error: an intermediate rewrite does not parse ({})",
                    e.message
                ),
            });
        }
        let model = Model::build(&parse, &cur);
        let replayed = history.map(|h| simulate::replay(&parse, &model, h));
        let mut next = None;
        let mut round = Vec::new();
        for (si, stage) in model.stages.iter().enumerate() {
            let (eff, state) = effects::analyze_stage_with(&parse, stage, ctx);
            let cx = plan::StageCx {
                parse: &parse,
                text: &cur,
                index: si,
                stage,
                eff: &eff,
                state: &state,
                ctx,
                opts,
            };
            let order = plan::plan_hoist(&cx, &mut round).or_else(|| {
                let hist = replayed.as_ref().and_then(|r| r.get(si));
                plan::plan_reorder(&cx, hist, floor, &mut round)
            });
            if let Some(order) = order {
                next = Some(apply_order(&cur, &parse, &model, &order));
                break;
            }
        }
        for c in round {
            if !changes
                .iter()
                .any(|o: &Change| o.kind == c.kind && o.stage == c.stage && o.subject == c.subject)
            {
                changes.push(c);
            }
        }
        match next {
            Some(t) => cur = t,
            None => break,
        }
    }
    Ok((cur, changes))
}

/// One full planning run: merges, then hoists and reorders when they save
/// at least the materiality threshold, reported as the net edit of the
/// original text.
fn plan_and_apply(
    text: &str,
    ctx: Option<&Context>,
    history: Option<&History>,
    opts: Options,
) -> Result<(String, Vec<Change>, bool), RewriteError> {
    let parse = syntax::parse(text);
    if let Some(e) = first_error(&parse) {
        return Err(e);
    }
    let model = Model::build(&parse, text);
    if model.ignore_file {
        return Ok((text.to_string(), Vec::new(), true));
    }
    let history = usable_history(history);
    let mut changes = Vec::new();
    changes.extend(plan::plan_advice(&parse, text, &model, ctx));
    let (merges, mc) = plan::plan_merges(&parse, &model, opts);
    changes.extend(mc);
    let merged = if merges.is_empty() {
        text.to_string()
    } else {
        apply_merges(text, &parse, &merges)
    };
    let base_cost = file_cost(&merged, ctx, history);
    let floor = opts.min_saving * base_cost;
    let (mut cur, mut round) = plan_rounds(&merged, ctx, history, opts, floor)?;
    // Plan again on the result until nothing moves, each time with the
    // threshold of the text planned on: the output is then a fixed point
    // (a second run proposes nothing), by construction.
    for _ in 0..4 {
        if cur == merged {
            break;
        }
        let floor_now = opts.min_saving * file_cost(&cur, ctx, history);
        let (next, more) = plan_rounds(&cur, ctx, history, opts, floor_now)?;
        if next == cur {
            break;
        }
        cur = next;
        for c in more {
            if !round
                .iter()
                .any(|o| o.kind == c.kind && o.stage == c.stage && o.subject == c.subject)
            {
                round.push(c);
            }
        }
    }
    if cur != merged {
        let after_cost = file_cost(&cur, ctx, history);
        if base_cost - after_cost < floor || base_cost - after_cost <= 0.0 {
            // Not worth a pull request: keep the order, report only what
            // was not applied anyway.
            cur = merged.clone();
            round.retain(|c| !c.applied);
        } else {
            let basis = match history {
                Some(h) => format!("over {} commits of history", h.commits.len()),
                None => "by the static estimate".to_string(),
            };
            let saving = format!(
                "{basis} the expected rebuild cost per build drops from {base_cost:.1} to {after_cost:.1} ({:.0}% less)",
                100.0 * (base_cost - after_cost) / base_cost.max(1e-9)
            );
            round = net_changes(text, &merged, &parse, &merges, &cur, round, &saving);
        }
    }
    if cur == merged {
        let index = OriginalLines::new(text, &parse, &merges, &merged);
        for c in &mut round {
            index.relocate(c);
        }
    }
    changes.extend(round);
    Ok((cur, changes, false))
}

/// Finds an instruction of an intermediate or final text in the original:
/// by stage and text (the merged install by its place).
struct OriginalLines {
    /// Per stage: (trimmed text in the merged text, original line).
    units: Vec<Vec<(String, usize)>>,
}

impl OriginalLines {
    fn new(text: &str, parse: &Parse, merges: &[Merge], merged: &str) -> OriginalLines {
        let model = Model::build(parse, text);
        let mparse = syntax::parse(merged);
        let mmodel = Model::build(&mparse, merged);
        let removed: Vec<usize> = merges.iter().map(|m| m.update_item).collect();
        let mut units = Vec::new();
        for (si, stage) in model.stages.iter().enumerate() {
            let orig: Vec<usize> = stage
                .units
                .iter()
                .filter(|u| !removed.contains(&u.item))
                .map(|u| parse.items[u.item].lines.start)
                .collect();
            let texts = mmodel
                .stages
                .get(si)
                .map_or_else(Vec::new, |ms| unit_texts(&mparse, ms));
            units.push(texts.into_iter().zip(orig).collect());
        }
        OriginalLines { units }
    }

    /// Gives a change the original lines of its instruction and anchor.
    fn relocate(&self, c: &mut Change) {
        if let Some(l) = self.line(c.stage, &c.subject) {
            c.line = l;
        }
        if let Some((text, planned)) = &c.anchor
            && let Some(l) = self.line(c.stage, text)
        {
            c.summary = c
                .summary
                .replace(&format!("(line {planned})"), &format!("(line {l})"));
        }
    }

    fn line(&self, stage: usize, subject: &str) -> Option<usize> {
        self.units
            .get(stage)?
            .iter()
            .find(|(t, _)| t == subject)
            .map(|(_, l)| *l)
    }
}

/// The net edit from the original text to `fin`: each applied hoist once,
/// each other instruction that ends up elsewhere once (the fewest moves
/// that explain the new order), with original lines.
fn net_changes(
    text: &str,
    merged: &str,
    parse: &Parse,
    merges: &[Merge],
    fin: &str,
    round: Vec<Change>,
    saving: &str,
) -> Vec<Change> {
    let index = OriginalLines::new(text, parse, merges, merged);
    let fparse = syntax::parse(fin);
    let fmodel = Model::build(&fparse, fin);
    let mut out: Vec<Change> = Vec::new();
    let hoisted: Vec<(usize, String)> = round
        .iter()
        .filter(|c| c.applied && c.kind == plan::ChangeKind::Hoist)
        .flat_map(|c| {
            std::iter::once(c.subject.clone())
                .chain(c.moved_with.iter().cloned())
                .map(move |t| (c.stage, t))
        })
        .collect();
    let applied: Vec<(usize, String)> = round
        .iter()
        .filter(|c| c.applied)
        .map(|c| (c.stage, c.subject.clone()))
        .collect();
    for mut c in round {
        if c.kind == plan::ChangeKind::Reorder && c.applied {
            continue;
        }
        // A move proposed as Unsafe in one round and made safely in
        // another is reported once, as made.
        if !c.applied && applied.contains(&(c.stage, c.subject.clone())) {
            continue;
        }
        index.relocate(&mut c);
        out.push(c);
    }
    for (si, units) in index.units.iter().enumerate() {
        let Some(fs) = fmodel.stages.get(si) else {
            continue;
        };
        let ftexts = unit_texts(&fparse, fs);
        // Final position of each original unit (k-th occurrence to k-th).
        let otexts: Vec<String> = units.iter().map(|(t, _)| t.clone()).collect();
        let (pos, _) = match_units(&otexts, &ftexts);
        let candidates: Vec<usize> = (0..units.len())
            .filter(|&k| pos[k].is_some() && !hoisted.contains(&(si, units[k].0.clone())))
            .collect();
        let keep = longest_increasing(
            &candidates
                .iter()
                .map(|&k| pos[k].unwrap_or(0))
                .collect::<Vec<_>>(),
        );
        for (ci, &k) in candidates.iter().enumerate() {
            if keep.contains(&ci) {
                continue;
            }
            let Some(p) = pos[k] else { continue };
            // Its new neighbour among the original units.
            let next =
                (p + 1..ftexts.len()).find_map(|j| (0..units.len()).find(|&o| pos[o] == Some(j)));
            let prev = (0..p)
                .rev()
                .find_map(|j| (0..units.len()).find(|&o| pos[o] == Some(j)));
            let place = match (next, prev) {
                (Some(o), _) => format!("above `{}` (line {})", short(&units[o].0), units[o].1),
                (None, Some(o)) => format!("below `{}` (line {})", short(&units[o].0), units[o].1),
                _ => continue,
            };
            out.push(Change {
                kind: plan::ChangeKind::Reorder,
                applicability: plan::Applicability::Safe,
                line: units[k].1,
                summary: format!("moved `{}` {place}", short(&units[k].0)),
                reason: format!(
                    "{saving}; no instruction it moves past reads or writes anything it reads or writes"
                ),
                applied: true,
                stage: si,
                subject: units[k].0.clone(),
                anchor: None,
                inserted: 0,
                moved_with: Vec::new(),
                above_line: None,
            });
        }
    }
    out
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
    let op = syntax::parse(old);
    let om = Model::build(&op, old);
    let np = syntax::parse(new);
    let nm = Model::build(&np, new);
    for (si, stage) in om.stages.iter().enumerate() {
        let nstage = nm.stages.get(si)?;
        let (ot, nt) = (unit_texts(&op, stage), unit_texts(&np, nstage));
        let (pos, used) = match_units(&ot, &nt);
        let (eff, state) = effects::analyze_stage_with(&op, stage, ctx);
        let (neff, _) = effects::analyze_stage_with(&np, nstage, ctx);
        let n = eff.len().min(ot.len());
        for a in 0..n {
            for b in a + 1..n {
                let (Some(pa), Some(pb)) = (pos[a], pos[b]) else {
                    continue;
                };
                if pa < pb {
                    continue;
                }
                // A hoist inserts a COPY of the same files from the same
                // context before `b`: what it writes, `a` no longer needs
                // to provide.
                // An inserted COPY may have the text of one the file
                // already had: every occurrence of a text the new file has
                // more of counts as inserted.
                let surplus = |t: &String| {
                    nt.iter().filter(|x| *x == t).count() > ot.iter().filter(|x| *x == t).count()
                };
                let inserted: Vec<&effects::Loc> = (0..pb)
                    .filter(|j| !used[*j] || surplus(&nt[*j]))
                    .filter_map(|j| neff.get(j))
                    .flat_map(|e| e.writes.iter())
                    .collect();
                if skip.iter().any(|t| *t == ot[a] || *t == ot[b]) {
                    continue;
                }
                let mut rest = eff[a].clone();
                // A copy from the context writes exactly what it ships.
                let exact = ctx
                    .zip(op.items[stage.units[a].item].instruction())
                    .and_then(|(c, ins)| {
                        effects::exact_copy_writes(ins, &state.workdirs[a], &state.env[a], c)
                    });
                if let Some(w) = exact {
                    rest.writes
                        .retain(|x| !matches!(x, effects::Loc::Path(_) | effects::Loc::Dir { .. }));
                    rest.writes.extend(w);
                }
                rest.writes.retain(|w| !inserted.contains(&w));
                let mut needs = eff[b].clone();
                needs.reads.retain(|r| !inserted.contains(&r));
                if let Some(why) = effects::conflict(&rest, &needs) {
                    return Some((ot[a].clone(), format!("{} ({why})", ot[b])));
                }
            }
        }
    }
    None
}

/// The trimmed instruction text of each unit of a stage (how units are
/// found again across texts).
fn unit_texts(parse: &Parse, stage: &crate::model::Stage) -> Vec<String> {
    stage
        .units
        .iter()
        .map(|u| {
            parse.items[u.item]
                .instruction()
                .map(|i| i.original.trim().to_string())
                .unwrap_or_default()
        })
        .collect()
}

/// Pairs the units of an old and a new stage by text: the k-th of a text
/// to the k-th, except that when the new stage has more of a text (a
/// hoist inserted a COPY that reads like one the stage had) the old ones
/// pair with the last ones, since inserted COPYs stand above. Returns the
/// new position of each old unit and which new units are paired.
fn match_units(old: &[String], new: &[String]) -> (Vec<Option<usize>>, Vec<bool>) {
    let mut used = vec![false; new.len()];
    let mut pos = vec![None; old.len()];
    let mut seen: Vec<&String> = Vec::new();
    for t in old {
        if seen.contains(&t) {
            continue;
        }
        seen.push(t);
        let olds: Vec<usize> = (0..old.len()).filter(|&i| old[i] == *t).collect();
        let news: Vec<usize> = (0..new.len()).filter(|&j| new[j] == *t).collect();
        let skip = news.len().saturating_sub(olds.len());
        for (i, j) in olds.iter().zip(news.iter().skip(skip)) {
            pos[*i] = Some(*j);
            used[*j] = true;
        }
    }
    (pos, used)
}

/// Indices (into `v`) of one longest strictly increasing subsequence.
fn longest_increasing(v: &[usize]) -> Vec<usize> {
    let n = v.len();
    let mut len = vec![1usize; n];
    let mut prev = vec![usize::MAX; n];
    for i in 0..n {
        for j in 0..i {
            if v[j] < v[i] && len[j] + 1 > len[i] {
                len[i] = len[j] + 1;
                prev[i] = j;
            }
        }
    }
    let Some(mut i) = (0..n).max_by_key(|&i| (len[i], usize::MAX - i)) else {
        return Vec::new();
    };
    let mut out = vec![i];
    while prev[i] != usize::MAX {
        i = prev[i];
        out.push(i);
    }
    out.reverse();
    out
}

/// Plans and applies the changes for one file, then verifies the result
/// (static estimate).
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
    let (new_text, changes, ignored) = plan_and_apply(text, ctx, history, opts)?;
    if new_text != text {
        verify(text, &new_text, &changes, ctx, history, opts)?;
    }
    Ok(Outcome {
        new_text,
        changes,
        ignored,
    })
}

/// The reliability rules: the result parses, holds the same instructions
/// (plus the inserted COPYs, with merged RUNs joined), and a second run
/// changes nothing.
fn verify(
    old: &str,
    new: &str,
    changes: &[Change],
    ctx: Option<&Context>,
    history: Option<&History>,
    opts: Options,
) -> Result<(), RewriteError> {
    let fail = |message: String| RewriteError {
        line: 1,
        column: 1,
        message,
    };
    let p_new = syntax::parse(new);
    if !p_new.errors.is_empty() {
        return Err(fail(format!(
            "refusing to write: the rewritten file does not parse ({})",
            p_new.errors[0].message
        )));
    }
    let p_old = syntax::parse(old);
    let before = instruction_texts(&p_old);
    let after = instruction_texts(&p_new);
    let merges = changes
        .iter()
        .filter(|c| c.applied && c.kind == plan::ChangeKind::MergeUpdate)
        .count();
    let hoists: usize = changes
        .iter()
        .filter(|c| c.applied && c.kind == plan::ChangeKind::Hoist)
        .map(|c| c.inserted)
        .sum();
    let n_before: usize = before.values().sum();
    let n_after: usize = after.values().sum();
    // Each merge removes one instruction; hoists insert their manifest COPYs.
    if n_after + merges < n_before || n_after + merges > n_before + hoists {
        return Err(fail(format!(
            "refusing to write: the rewritten file has {n_after} instructions, expected {n_before} minus {merges} merged plus at most {hoists} inserted"
        )));
    }
    let mut missing = 0;
    for (t, n) in &before {
        missing += n.saturating_sub(after.get(t).copied().unwrap_or(0));
    }
    if missing > 2 * merges {
        return Err(fail(
            "refusing to write: instructions were lost in the rewrite".into(),
        ));
    }
    // Unsafe changes (applied with --unsafe) are the ones the model could
    // not prove: their edges are not checked, the report names their risk.
    let unproven: Vec<String> = changes
        .iter()
        .filter(|c| c.applied && c.applicability == plan::Applicability::Unsafe)
        .map(|c| c.subject.clone())
        .collect();
    // Merges are checked above (same commands, one RUN); the edges are
    // those of the merged text, where every instruction keeps its text.
    let merged = {
        let model = Model::build(&p_old, old);
        let (merges, _) = plan::plan_merges(&p_old, &model, opts);
        if merges.is_empty() {
            old.to_string()
        } else {
            apply_merges(old, &p_old, &merges)
        }
    };
    if let Some((a, b)) = broken_edge(&merged, new, ctx, &unproven) {
        return Err(fail(format!(
            "refusing to write: the rewrite puts `{}` before `{}`, which must stay after it",
            short(&b),
            short(&a)
        )));
    }
    let (again, again_changes, _) = plan_and_apply(new, ctx, history, opts)?;
    if again != new {
        let c = again_changes
            .iter()
            .find(|c| c.applied)
            .map(|c| c.summary.clone())
            .unwrap_or_default();
        return Err(fail(format!(
            "refusing to write: a second run would change the file again ({c})"
        )));
    }
    Ok(())
}
