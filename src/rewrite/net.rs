//! The report of a rewrite as the net edit of the original file: each
//! applied hoist once, each other instruction that ends up elsewhere once
//! (the fewest moves that explain the new order), every line an original
//! line (planning runs on intermediate texts, whose lines differ).

use super::edit::heaviest_increasing;
use crate::analysis::file::FileAnalysis;
use crate::model::Model;
use crate::plan::split::Split;
use crate::plan::{self, Change, Merge, short};
use crate::syntax::{self, Parse};

/// What planning started from besides the original: the merges made, the
/// merged text, and the splits of compound `RUN`s kept (made in the merged
/// text).
pub(super) struct Before<'a> {
    pub merges: &'a [Merge],
    pub merged: &'a str,
    pub splits: &'a [Split],
}

/// Finds an instruction of an intermediate or final text in the original:
/// by stage and text (the merged install by its place, both parts of a
/// split `RUN` at its line).
pub(super) struct OriginalLines {
    /// Per stage: (trimmed text in the text planning started from,
    /// original line).
    units: Vec<Vec<(String, usize)>>,
}

impl OriginalLines {
    /// `parse` must be `syntax::parse(text)` (an analysis's parse of it).
    pub(super) fn new(text: &str, parse: &Parse, before: &Before<'_>) -> OriginalLines {
        let (merges, merged) = (before.merges, before.merged);
        let model = Model::build(parse, text);
        // Nothing merged (the usual case): the merged text is the text, and
        // `parse` is its parse (`syntax::parse`, as every analysis makes
        // it), so neither is made twice.
        let (own_parse, own_model);
        let (mparse, mmodel) = if merged == text {
            (parse, &model)
        } else {
            own_parse = syntax::parse(merged);
            own_model = Model::build(&own_parse, merged);
            (&own_parse, &own_model)
        };
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
                .map_or_else(Vec::new, |ms| unit_texts(mparse, ms));
            let mut lines: Vec<(String, usize)> = Vec::new();
            for (t, l) in texts.into_iter().zip(orig) {
                match before
                    .splits
                    .iter()
                    .find(|s| s.stage == si && s.original == t)
                {
                    Some(s) => {
                        lines.push((s.install.clone(), l));
                        lines.push((s.rest.clone(), l));
                    }
                    None => lines.push((t, l)),
                }
            }
            units.push(lines);
        }
        OriginalLines { units }
    }

    /// Gives a change the original lines of its instruction and anchor.
    pub(super) fn relocate(&self, c: &mut Change) {
        if let Some(l) = self.line(c.stage, &c.subject) {
            c.line = l;
        }
        if let Some((text, planned)) = &c.anchor
            && let Some(l) = self.line(c.stage, text)
        {
            c.above_line = Some(l);
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
/// that explain the new order), with original lines. `fin` is the final
/// text's parse and model (its analysis's: it is not parsed again).
pub(super) fn net_changes(
    text: &str,
    parse: &Parse,
    before: &Before<'_>,
    (fparse, fmodel): (&Parse, &Model),
    round: Vec<Change>,
    saving: &str,
) -> Vec<Change> {
    let index = OriginalLines::new(text, parse, before);
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
        let ftexts = unit_texts(fparse, fs);
        // Final position of each original unit (k-th occurrence to k-th).
        let otexts: Vec<String> = units.iter().map(|(t, _)| t.clone()).collect();
        let (pos, _) = match_units(&otexts, &ftexts);
        let candidates: Vec<usize> = (0..units.len())
            .filter(|&k| pos[k].is_some() && !hoisted.contains(&(si, units[k].0.clone())))
            .collect();
        // The fewest moves; among as few, the per-build `ARG`s are the
        // ones said to move (the cost model moved them: reporting the
        // `WORKDIR` they passed as moved named an instruction whose order
        // with the steps around it had not changed).
        let heavy = candidates.len() + 1;
        let weights: Vec<usize> = candidates
            .iter()
            .map(|&k| {
                if is_per_build_arg(&units[k].0) {
                    heavy
                } else {
                    heavy + 1
                }
            })
            .collect();
        let keep = heaviest_increasing(
            &candidates
                .iter()
                .map(|&k| pos[k].unwrap_or(0))
                .collect::<Vec<_>>(),
            &weights,
        );
        for (ci, &k) in candidates.iter().enumerate() {
            if keep.contains(&ci) {
                continue;
            }
            let Some(p) = pos[k] else { continue };
            // Its new neighbour among the original units, one it now stands
            // on the other side of: a unit that was before it and now
            // follows it, or one that was after it and now precedes it (the
            // nearest neighbour may keep its order with it, and "moved
            // above" it then says nothing true).
            let unit_at = |j: usize, crossed: &dyn Fn(usize) -> bool| {
                (0..units.len()).find(|&o| pos[o] == Some(j) && crossed(o))
            };
            let next = (p + 1..ftexts.len()).find_map(|j| unit_at(j, &|o| o < k));
            let prev = (0..p).rev().find_map(|j| unit_at(j, &|o| o > k));
            let (next, prev) = match (next, prev) {
                (Some(n), _) => (Some(n), None),
                (None, Some(pr)) => (None, Some(pr)),
                (None, None) => (
                    (p + 1..ftexts.len()).find_map(|j| unit_at(j, &|_| true)),
                    (0..p).rev().find_map(|j| unit_at(j, &|_| true)),
                ),
            };
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
                edits: Vec::new(),
                split_from: None,
                split_rest: None,
                split_why: None,
            });
        }
    }
    out
}

/// The trimmed instruction text of each unit of a stage (how units are
/// found again across texts).
pub(super) fn unit_texts(parse: &Parse, stage: &crate::model::Stage) -> Vec<String> {
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
/// to the k-th. When the new stage has more of a text (a hoist inserted a
/// COPY or a `WORKDIR` that reads like one the stage had), the old ones
/// pair with the new ones that keep their order with the units paired
/// first (the texts the new stage has as often); among equals the later
/// ones, since inserted COPYs stand above (a `WORKDIR` set again before
/// the broad copy stands below the one it repeats, after what moved).
/// Returns the new position of each old unit and which new units are
/// paired.
pub(super) fn match_units(old: &[String], new: &[String]) -> (Vec<Option<usize>>, Vec<bool>) {
    let mut used = vec![false; new.len()];
    let mut pos = vec![None; old.len()];
    let mut seen: Vec<&String> = Vec::new();
    let mut surplus: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    for t in old {
        if seen.contains(&t) {
            continue;
        }
        seen.push(t);
        let olds: Vec<usize> = (0..old.len()).filter(|&i| old[i] == *t).collect();
        let news: Vec<usize> = (0..new.len()).filter(|&j| new[j] == *t).collect();
        if news.len() > olds.len() {
            surplus.push((olds, news));
            continue;
        }
        for (i, j) in olds.iter().zip(news.iter()) {
            pos[*i] = Some(*j);
            used[*j] = true;
        }
    }
    let anchors: Vec<(usize, usize)> = pos
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|j| (i, j)))
        .collect();
    for (olds, news) in surplus {
        for (i, j) in olds.iter().zip(order_keeping(&olds, &news, &anchors)) {
            pos[*i] = Some(j);
            used[j] = true;
        }
    }
    (pos, used)
}

/// The new positions among `news` (one per old position in `olds`, in
/// order) that keep the most orders with the `anchors` (old and new
/// positions of the units already paired); among equals the later ones.
fn order_keeping(olds: &[usize], news: &[usize], anchors: &[(usize, usize)]) -> Vec<usize> {
    let kept = |i: usize, j: usize| anchors.iter().filter(|(a, b)| (*a < i) == (*b < j)).count();
    let (k, m) = (olds.len(), news.len());
    // best[a][b]: the most orders kept pairing the first `a` olds within
    // the first `b` news; a later new position wins a tie.
    let mut best = vec![vec![0usize; m + 1]; k + 1];
    for a in 1..=k {
        for b in 0..=m {
            best[a][b] = if b < a {
                0
            } else {
                let skip = if b > a { best[a][b - 1] } else { 0 };
                let take = best[a - 1][b - 1] + kept(olds[a - 1], news[b - 1]);
                if b > a { skip.max(take) } else { take }
            };
        }
    }
    let mut out = vec![0; k];
    let (mut a, mut b) = (k, m);
    while a > 0 {
        let take = best[a - 1][b - 1] + kept(olds[a - 1], news[b - 1]);
        if b == a || take >= best[a][b] {
            out[a - 1] = news[b - 1];
            a -= 1;
        }
        b -= 1;
    }
    out
}

/// The assumption behind a rewrite that moved an `ARG` assumed to change
/// on every build ([`crate::analysis::volatile`]) below expensive steps
/// that followed it, in words for the reasons: which `ARG`s, why they are
/// assumed to change, and which steps no longer follow them. `None` when
/// the rewrite moved none.
pub(super) fn per_build_note(before: &FileAnalysis, after: &FileAnalysis) -> Option<String> {
    let (mut args, mut passed): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for (si, stage) in before.model.stages.iter().enumerate() {
        let (Some(sa), Some(fstage)) = (before.stages.get(si), after.model.stages.get(si)) else {
            continue;
        };
        let texts = unit_texts(&before.parse, stage);
        let ftexts = unit_texts(&after.parse, fstage);
        let (pos, _) = match_units(&texts, &ftexts);
        for (a, ea) in sa.effects.iter().enumerate() {
            let (Some(name), Some(pa)) = (&ea.per_build, pos[a]) else {
                continue;
            };
            let mut any = false;
            for b in a + 1..texts.len() {
                if plan::is_expensive(&sa.effects[b]) && pos[b].is_some_and(|pb| pb < pa) {
                    any = true;
                    let t = format!("`{}`", short(&texts[b]));
                    if !passed.contains(&t) {
                        passed.push(t);
                    }
                }
            }
            let arg = format!("`ARG {name}`");
            if any && !args.contains(&arg) {
                args.push(arg);
            }
        }
    }
    if args.is_empty() {
        return None;
    }
    let (one_arg, one_step) = (args.len() == 1, passed.len() == 1);
    Some(format!(
        "{} {} assumed to take a new value on every build (CI systems pass the build's date, commit, number or a cache buster under such names), and a new value reruns every `RUN` after it; {} no longer {} {} and {} not read {}",
        args.join(", "),
        if one_arg { "is" } else { "are" },
        passed.join(", "),
        if one_step { "follows" } else { "follow" },
        if one_arg { "it" } else { "them" },
        if one_step { "does" } else { "do" },
        if one_arg { "it" } else { "them" },
    ))
}

/// Whether a unit's text is an `ARG` whose first variable is assumed to
/// change on every build ([`crate::analysis::volatile`]).
fn is_per_build_arg(text: &str) -> bool {
    let parse = syntax::parse(text);
    parse
        .instructions()
        .next()
        .is_some_and(|(_, ins)| crate::analysis::volatile::per_build_arg(ins).is_some())
}
