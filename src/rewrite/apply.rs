//! Planning works on texts: after each transformation the stage is parsed
//! and analysed again (effects depend on the order). These functions make
//! the intermediate texts; the output is not made here but by the edits of
//! the original (see `edit`), which are checked to give the same text.

use std::collections::BTreeMap;

use crate::model::Model;
use crate::plan::{Merge, StageOrder};
use crate::syntax::{ItemKind, Parse};

/// Applies merges: removes each update RUN and prefixes the install.
pub(super) fn apply_merges(text: &str, parse: &Parse, merges: &[Merge]) -> String {
    // (start, end, replacement), applied from the end backwards.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for m in merges {
        let (Some(u), Some(v)) = (
            parse.items.get(m.update_item),
            parse.items.get(m.install_item),
        ) else {
            continue;
        };
        // A lone update between blank lines takes one of them along: two
        // blank lines would be left where one stood.
        let kind = |i: usize| parse.items.get(i).map(|it| &it.kind);
        let blank = |i: usize| matches!(kind(i), Some(ItemKind::Blank));
        let comment = |i: usize| matches!(kind(i), Some(ItemKind::Comment));
        // A comment right above the update heads the merged `RUN`: the
        // blank lines between the update and the install go with the
        // update, or the comment would be left above a blank line, cut
        // off from the command it is about (and move with whatever
        // follows it).
        let headed = m.update_item > 0 && comment(m.update_item - 1);
        let only_blanks_between =
            m.install_item > m.update_item + 1 && (m.update_item + 1..m.install_item).all(blank);
        let end = match parse.items.get(m.update_item + 1) {
            _ if headed && only_blanks_between => v.span.start,
            Some(next)
                if blank(m.update_item + 1) && m.update_item > 0 && blank(m.update_item - 1) =>
            {
                next.span.end
            }
            _ => u.span.end,
        };
        edits.push((u.span.start, end, String::new()));
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
pub(super) fn apply_order(
    text: &str,
    parse: &Parse,
    model: &Model,
    order: &StageOrder,
    nl: &str,
) -> String {
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
    // (the blank lines above the unit's comments, its comments, itself)
    let unit_text = |u: usize| -> (String, String, String) {
        let unit = &stage.units[u];
        let (mut blanks, mut comments) = (String::new(), String::new());
        for i in lead[u]..unit.item {
            let blank = matches!(parse.items[i].kind, crate::syntax::ItemKind::Blank);
            if blank && comments.is_empty() {
                blanks.push_str(parse.items[i].span.text(text));
            } else {
                comments.push_str(parse.items[i].span.text(text));
            }
        }
        let mut ins = parse.items[unit.item].span.text(text).to_string();
        if !ins.ends_with('\n') {
            ins.push_str(nl);
        }
        (blanks, comments, ins)
    };
    // Slot k (the k-th unit's place) gets group k.
    let mut slot_of_item: BTreeMap<usize, usize> = BTreeMap::new();
    for (k, &first) in lead.iter().enumerate() {
        slot_of_item.insert(first, k);
    }
    let texts: Vec<(String, String, String)> = (0..stage.units.len()).map(unit_text).collect();
    let mut blanks_at = slot_blanks(order, |u| {
        let (blanks, comments, _) = &texts[u];
        (!blanks.is_empty(), !comments.is_empty())
    });
    let kept = comments_kept_in_slot(order, |u| {
        let (blanks, comments, _) = &texts[u];
        (
            !blanks.is_empty() || !comments.is_empty(),
            comments.as_str(),
        )
    });
    for (k, &keep) in kept.iter().enumerate() {
        if keep && let Some(landing) = order.groups.iter().position(|g| g.unit == k) {
            blanks_at[k] = Some(k);
            blanks_at[landing] = None;
        }
    }
    let mut out = String::with_capacity(text.len() + 128);
    let mut i = 0;
    while i < parse.items.len() {
        if let Some(&k) = slot_of_item.get(&i) {
            let g = &order.groups[k];
            let (_, comments, ins) = &texts[g.unit];
            // The comments of a unit that left them in its slot stay
            // there; the unit goes without them.
            let comments = if kept[g.unit] { "" } else { comments.as_str() };
            if let Some(from) = blanks_at[k] {
                out.push_str(&texts[from].0);
            }
            if kept[k] {
                out.push_str(&texts[k].1);
            }
            // Inserted lines go above the unit's comments too when the
            // comments are the unit's own note, not a heading for the
            // dependencies that the inserted COPY and the install share
            // (scout76 beam-flex-launcher: `# We could get rid of
            // installing libffi-dev and git…` was parted from its RUN).
            let above_comments = g.above_comments
                || (!g.inserts.is_empty()
                    && !comments.is_empty()
                    && !comments.contains("dockreorder:")
                    && !names_dependencies(comments));
            if !above_comments {
                out.push_str(comments);
            }
            let indent: String = ins
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            for line in &g.inserts {
                out.push_str(&indent);
                out.push_str(line);
                out.push_str(nl);
            }
            if above_comments {
                out.push_str(comments);
            }
            out.push_str(ins);
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

/// For each slot of `order`: whether the comments above its unit stay in
/// the slot, above what the plan inserts there, and the unit moves down
/// without them. So when they name a file the inserted `COPY` copies and
/// the unit arriving there has no blank line or comment of its own: `#
/// pre-copy go.mod to cache the downloads`, `COPY . .`, `RUN go mod
/// download` becomes that comment, `COPY go.mod go.sum ./`, the install,
/// `COPY . .`: the comment said what the copy was there for, which is now
/// the inserted copy's job. A comment that names no such file (`# copy the
/// sources`) describes the copy and moves with it. `shape(u)`: whether
/// unit `u` has blank lines or comments above it, and its comments.
fn comments_kept_in_slot<'t>(
    order: &StageOrder,
    shape: impl Fn(usize) -> (bool, &'t str),
) -> Vec<bool> {
    let n = order.groups.len();
    let mut kept = vec![false; n];
    for (k, g) in order.groups.iter().enumerate() {
        let (_, comments) = shape(k);
        let moved_down = order.groups[k + 1..].iter().any(|later| later.unit == k);
        if g.unit == k || g.inserts.is_empty() || shape(g.unit).0 || !moved_down {
            continue;
        }
        if comments.is_empty() || comments.contains("dockreorder:") {
            continue;
        }
        kept[k] = describes_dependencies(comments)
            || g.inserts
                .iter()
                .flat_map(|line| copied_names(line))
                .any(|name| names_file(comments, name));
    }
    kept
}

/// Whether comments above a broad copy are a heading for the
/// dependencies its install gets (`# restore dependencies`, `# get
/// packages`, `# install requirements`): one line of at most six words,
/// a dependency word among them (`node_modules` is none, nor `modules`:
/// a Maven reactor's are the project's) and no word of
/// the sources it copies (`# copy the source code`, `# add the rest of the
/// app`). Then they are the inserted copy's and the install's, whose
/// paragraph they head (scout73 parcel-ship-go and shop-assistant-py: `#
/// restore dependencies` was left above `COPY . .` alone). A longer note
/// (`# node_modules is not in .dockerignore: …`) is about the copy.
fn describes_dependencies(comments: &str) -> bool {
    // Stems of words (`sources`, `files`, `building`); `rest` is a word
    // alone (`restore` is a dependency word).
    const SOURCES: &[&str] = &[
        "source",
        "code",
        "everything",
        "remaining",
        "whole",
        "context",
        "file",
        "build",
        "compil",
    ];
    let lines: Vec<&str> = comments.lines().filter(|l| !l.trim().is_empty()).collect();
    let [line] = lines.as_slice() else {
        return false;
    };
    let t = line.trim().trim_start_matches('#').to_ascii_lowercase();
    let words: Vec<&str> = t
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .filter(|w| !w.is_empty())
        .collect();
    words.len() <= 6
        && words
            .iter()
            .any(|w| DEPENDENCIES.iter().any(|d| w.starts_with(d)))
        && !words
            .iter()
            .any(|w| *w == "rest" || SOURCES.iter().any(|s| w.starts_with(s)))
}

/// Stems of the words that name dependencies (`dependencies`, `deps`,
/// `packages`, `requirements`, `restore`, `install`…).
const DEPENDENCIES: &[&str] = &[
    "dependenc",
    "deps",
    "package",
    "requirement",
    "restore",
    "download",
    "librar",
    "install",
    "vendor",
];

/// Whether comments above an install name its dependencies (`# The pinned
/// dependencies, then the project`, `# Install python packages`): then
/// they head the inserted COPY of the manifests as well as the install.
/// `install` alone does not count: `# We could get rid of installing
/// libffi-dev and git, or leave them` is a note on the RUN, which the
/// inserted COPY does not part it from (scout76 beam-flex-launcher).
fn names_dependencies(comments: &str) -> bool {
    comments
        .to_ascii_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .any(|w| {
            DEPENDENCIES
                .iter()
                .any(|d| *d != "install" && w.starts_with(d))
        })
}

/// The file names an inserted `COPY` line copies (`COPY --chown=app
/// go.mod go.sum ./` gives `go.mod`, `go.sum`; `requirements/base.txt`
/// gives `base.txt`).
fn copied_names(line: &str) -> Vec<&str> {
    let mut words: Vec<&str> = line
        .split_whitespace()
        .skip(1)
        .filter(|w| !w.starts_with("--"))
        .collect();
    words.pop();
    words
        .into_iter()
        .map(|w| w.trim_matches(['"', '[', ']', ',']))
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .filter(|w| !w.is_empty() && !w.contains(['*', '?', '$']))
        .collect()
}

/// Whether `text` names the file `name` as a word of its own (`go.mod` in
/// `# cache go.mod first`, not in `# go.models`), ignoring ASCII case.
fn names_file(text: &str, name: &str) -> bool {
    let part = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let (t, n) = (text.to_ascii_lowercase(), name.to_ascii_lowercase());
    let bytes = t.as_bytes();
    t.match_indices(&n).any(|(at, _)| {
        let before = at.checked_sub(1).and_then(|i| bytes.get(i));
        let after = bytes.get(at + n.len());
        // A sentence's full stop after the name is not part of it.
        let after_ok = match after {
            None => true,
            Some(b'.') => bytes.get(at + n.len() + 1).is_none_or(|b| !part(*b)),
            Some(b) => !part(*b),
        };
        before.is_none_or(|b| !part(*b)) && after_ok
    })
}

/// Whose blank lines stand above slot `k` of `order` (the `k`-th unit's
/// place), for each slot: the unit placed there brings its own (a
/// paragraph moves whole), but a unit that moves down with blank lines and
/// no comments above it (the broad copy, below the installs hoisted over
/// it) leaves them where it stood when the unit that moves up into its
/// place has none: the paragraph break stays where a person put it (`RUN
/// useradd …`, blank line, `COPY . /app` gives `RUN useradd …`, blank
/// line, `COPY requirements.txt /app/`), and the unit that moved down joins
/// the paragraph it lands in. One that moves down with a comment takes
/// its blank lines along and the slot gets the same: a comment heads a
/// paragraph wherever it goes (`RUN apt-get …`, blank line, `# the
/// sources`, `ADD . /app` gives `RUN apt-get …`, blank line, `COPY
/// requirements.txt /app/`, and further down the blank line, the comment
/// and the `ADD`). Units pushed down by one that moved up
/// before them keep theirs. `None`: no blank lines. `shape(u)` says
/// whether unit `u` has blank lines, and comments, above it.
fn slot_blanks(order: &StageOrder, shape: impl Fn(usize) -> (bool, bool)) -> Vec<Option<usize>> {
    let n = order.groups.len();
    let mut pos = vec![usize::MAX; n];
    for (k, g) in order.groups.iter().enumerate() {
        if let Some(p) = pos.get_mut(g.unit) {
            *p = k;
        }
    }
    let mut out: Vec<Option<usize>> = order.groups.iter().map(|g| Some(g.unit)).collect();
    for (k, g) in order.groups.iter().enumerate() {
        let (arriving_blanks, _) = shape(g.unit);
        let (leaving_blanks, leaving_comments) = shape(k);
        let moved_down = pos.get(k).is_some_and(|&p| p != usize::MAX && p > k);
        if g.unit > k && !arriving_blanks && moved_down && leaving_blanks {
            out[k] = Some(k);
            if !leaving_comments {
                out[pos[k]] = None;
            }
        }
    }
    out
}
