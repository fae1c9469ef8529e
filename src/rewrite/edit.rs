//! Edits of the original text (ruff's model): an [`Edit`] replaces a byte
//! range of the ORIGINAL text; a [`Fix`] is the edits of one change with
//! its applicability. A move is "delete the unit's bytes here, insert them
//! there"; an inserted `COPY` and a merged `RUN` are edits too.
//!
//! Guarantees: the edits of a file never overlap and no two insert at the
//! same offset (checked by [`apply`], which refuses otherwise), so the
//! fixes of a file are disjoint, and applying all of them in one forward
//! pass gives exactly the rewritten text ([`edits_between`] checks it).

use serde::Serialize;

use crate::model::Model;
use crate::plan::Applicability;
use crate::syntax::{self, ItemKind, Parse};

/// A byte range of the original text and what replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Start byte offset in the original text.
    pub start: usize,
    /// End byte offset (exclusive); equal to `start` for an insertion.
    pub end: usize,
    /// The replacement.
    pub content: String,
}

impl Edit {
    /// Inserts `content` at `at`.
    pub fn insertion(at: usize, content: impl Into<String>) -> Edit {
        Edit {
            start: at,
            end: at,
            content: content.into(),
        }
    }

    /// Deletes `start..end`.
    pub fn deletion(start: usize, end: usize) -> Edit {
        Edit {
            start,
            end,
            content: String::new(),
        }
    }

    /// Replaces `start..end` with `content`.
    pub fn replacement(start: usize, end: usize, content: impl Into<String>) -> Edit {
        Edit {
            start,
            end,
            content: content.into(),
        }
    }

    /// Whether the two edits touch the same bytes, or insert at the same
    /// offset (whose order would be ambiguous).
    pub fn overlaps(&self, other: &Edit) -> bool {
        let (a, b) = if (self.start, self.end) <= (other.start, other.end) {
            (self, other)
        } else {
            (other, self)
        };
        b.start < a.end || (a.start == b.start && a.start == a.end && b.start == b.end)
    }
}

/// The edits of one change and how far they may be trusted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fix {
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

impl Fix {
    /// A fix whose edits are proven to keep the image.
    pub fn safe_edits(edits: Vec<Edit>) -> Fix {
        Fix {
            applicability: Applicability::Safe,
            edits,
        }
    }

    /// A fix applied only on request (`--unsafe`).
    pub fn unsafe_edits(edits: Vec<Edit>) -> Fix {
        Fix {
            applicability: Applicability::Unsafe,
            edits,
        }
    }
}

/// Two edits that overlap: a defect of the planner, never output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("edits overlap at bytes {first_start}..{first_end} and {second_start}..{second_end}")]
pub struct Overlap {
    pub first_start: usize,
    pub first_end: usize,
    pub second_start: usize,
    pub second_end: usize,
}

/// Applies `edits` to `text` in one forward pass. Refuses overlapping
/// edits and ranges outside the text or off a character boundary.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, Overlap> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    let mut prev: Option<&Edit> = None;
    for e in sorted {
        let bad = e.end < e.start
            || e.end > text.len()
            || !text.is_char_boundary(e.start)
            || !text.is_char_boundary(e.end)
            || prev.is_some_and(|p| p.overlaps(e));
        if bad {
            let p = prev.unwrap_or(e);
            return Err(Overlap {
                first_start: p.start,
                first_end: p.end,
                second_start: e.start,
                second_end: e.end,
            });
        }
        out.push_str(&text[at..e.start]);
        out.push_str(&e.content);
        at = e.end;
        prev = Some(e);
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// A piece of a text that moves whole: a unit with the blank lines and
/// comments above it (as the rewriter moves it), or any other item.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub start: usize,
    pub end: usize,
    /// The trimmed instruction text, when the chunk holds one.
    pub instruction: Option<String>,
}

/// The chunks of a text, in order, covering it entirely.
pub fn chunks(text: &str) -> Vec<Chunk> {
    let parse = syntax::parse(text);
    let model = Model::build(&parse, text);
    chunks_of(text, &parse, &model)
}

/// [`chunks`] of a text already parsed (`parse` is `syntax::parse(text)`
/// and `model` its model): planning has parsed the original and every
/// planned text, and parsing them again was a tenth of a short run.
pub fn chunks_of(text: &str, parse: &Parse, model: &Model) -> Vec<Chunk> {
    // The first item of each unit's block: the blank lines right above its
    // comment block move with it (see `apply::apply_order`).
    let mut block_start: Vec<Option<usize>> = vec![None; parse.items.len()];
    for stage in &model.stages {
        for (k, unit) in stage.units.iter().enumerate() {
            let floor = if k == 0 {
                stage.from_item + 1
            } else {
                stage.units[k - 1].item + 1
            };
            let mut i = unit.first_item;
            while i > floor && matches!(parse.items[i - 1].kind, ItemKind::Blank) {
                i -= 1;
            }
            if let Some(slot) = block_start.get_mut(unit.item) {
                *slot = Some(i);
            }
        }
    }
    let mut out: Vec<Chunk> = Vec::new();
    let mut covered = 0;
    let mut i = 0;
    while i < parse.items.len() {
        let item = &parse.items[i];
        // A unit's block starts at its lead; find the unit it belongs to.
        let unit_end = (i..parse.items.len()).find(|&j| block_start[j] == Some(i));
        let last = unit_end.unwrap_or(i);
        let start = parse.items[i].span.start.min(item.span.start);
        let end = parse.items[last].span.end;
        if start > covered {
            out.push(Chunk {
                start: covered,
                end: start,
                instruction: None,
            });
        }
        out.push(Chunk {
            start,
            end,
            instruction: parse.items[last]
                .instruction()
                .map(|ins| ins.original.trim().to_string()),
        });
        covered = end;
        i = last + 1;
    }
    if covered < text.len() {
        out.push(Chunk {
            start: covered,
            end: text.len(),
            instruction: None,
        });
    }
    out
}

/// The edits that turn `old` into `new`, moving whole chunks: the chunks
/// kept in place are the common ordered subset with the most bytes, so the
/// fewest bytes move (a hoist moves the broad copy below the installs it
/// passes when they are longer); every other old chunk is deleted and every
/// run of new chunks inserted after the kept chunk before it. Checked:
/// applying them to `old` gives `new`.
pub fn edits_between(old: &str, new: &str) -> Result<Vec<Edit>, Overlap> {
    Ok(derive_edits(old, new)?
        .into_iter()
        .map(|d| d.edit)
        .collect())
}

/// An edit with the instruction that follows it in the new text (for an
/// insertion: the instruction its inserted lines stand above).
#[derive(Debug, Clone)]
pub struct Derived {
    pub edit: Edit,
    pub next_instruction: Option<String>,
}

/// [`edits_between`], each edit with the instruction that follows it.
pub fn derive_edits(old: &str, new: &str) -> Result<Vec<Derived>, Overlap> {
    derive_edits_of(old, &chunks(old), new, &chunks(new))
}

/// [`derive_edits`] from the texts' chunks (`oc` is `chunks(old)`, `nc` is
/// `chunks(new)`).
pub fn derive_edits_of(
    old: &str,
    oc: &[Chunk],
    new: &str,
    nc: &[Chunk],
) -> Result<Vec<Derived>, Overlap> {
    let otext: Vec<&str> = oc.iter().map(|c| &old[c.start..c.end]).collect();
    let ntext: Vec<&str> = nc.iter().map(|c| &new[c.start..c.end]).collect();
    // Pair equal chunks, k-th occurrence with k-th occurrence.
    let mut pos: Vec<Option<usize>> = vec![None; oc.len()];
    let mut used = vec![false; nc.len()];
    for (i, t) in otext.iter().enumerate() {
        if let Some(j) = (0..nc.len()).find(|&j| !used[j] && ntext[j] == *t) {
            pos[i] = Some(j);
            used[j] = true;
        }
    }
    let paired: Vec<usize> = (0..oc.len()).filter(|&i| pos[i].is_some()).collect();
    let keep_idx = heaviest_increasing(
        &paired.iter().filter_map(|&i| pos[i]).collect::<Vec<_>>(),
        &paired.iter().map(|&i| otext[i].len()).collect::<Vec<_>>(),
    );
    let mut kept_old = vec![false; oc.len()];
    let mut kept_new: Vec<Option<usize>> = vec![None; nc.len()];
    for k in keep_idx {
        let i = paired[k];
        kept_old[i] = true;
        if let Some(j) = pos[i] {
            kept_new[j] = Some(i);
        }
    }
    let mut edits = Vec::new();
    for (i, c) in oc.iter().enumerate() {
        if !kept_old[i] && c.start < c.end {
            edits.push(Derived {
                edit: Edit::deletion(c.start, c.end),
                next_instruction: None,
            });
        }
    }
    // Runs of new chunks between kept ones, inserted after the kept chunk
    // before them (or at the start of the text).
    let mut at = 0;
    let mut run = String::new();
    for (j, c) in nc.iter().enumerate() {
        match kept_new[j] {
            Some(i) => {
                if !run.is_empty() {
                    edits.push(Derived {
                        edit: Edit::insertion(at, std::mem::take(&mut run)),
                        next_instruction: oc[i].instruction.clone(),
                    });
                }
                at = oc[i].end;
            }
            None => run.push_str(&new[c.start..c.end]),
        }
    }
    if !run.is_empty() {
        edits.push(Derived {
            edit: Edit::insertion(at, run),
            next_instruction: None,
        });
    }
    edits.sort_by_key(|d| (d.edit.start, d.edit.end));
    let plain: Vec<Edit> = edits.iter().map(|d| d.edit.clone()).collect();
    let applied = apply(old, &plain)?;
    if applied != new {
        return Err(Overlap {
            first_start: 0,
            first_end: old.len(),
            second_start: 0,
            second_end: new.len(),
        });
    }
    Ok(edits)
}

/// Indices (into `v`) of the strictly increasing subsequence of `v` with
/// the largest total `weight` (ties: the earliest).
pub(crate) fn heaviest_increasing(v: &[usize], weight: &[usize]) -> Vec<usize> {
    let n = v.len();
    let mut best: Vec<usize> = weight.to_vec();
    let mut prev = vec![usize::MAX; n];
    for i in 0..n {
        for j in 0..i {
            if v[j] < v[i] && best[j] + weight[i] > best[i] {
                best[i] = best[j] + weight[i];
                prev[i] = j;
            }
        }
    }
    let Some(mut i) = (0..n).max_by_key(|&i| (best[i], usize::MAX - i)) else {
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

/// The instruction texts an edit touches among the old text's chunks (deleted) and in its
/// content (inserted): how an edit is attributed to the change it makes.
pub fn touched_instructions(old_chunks: &[Chunk], edit: &Edit) -> Vec<String> {
    let mut out: Vec<String> = old_chunks
        .iter()
        .filter(|c| c.start >= edit.start && c.end <= edit.end && c.start < c.end)
        .filter_map(|c| c.instruction.clone())
        .collect();
    if !edit.content.is_empty() {
        out.extend(
            chunks(&edit.content)
                .into_iter()
                .filter_map(|c| c.instruction),
        );
    }
    out
}

/// Line and column (1-based; the column in UTF-16 code units, SARIF's
/// default) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |k| k + 1);
    let column = before[line_start..].encode_utf16().count() + 1;
    (line, column)
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_edits_are_refused() {
        let t = "abcdef";
        assert!(apply(t, &[Edit::deletion(1, 3), Edit::deletion(2, 4)]).is_err());
        assert!(apply(t, &[Edit::insertion(2, "x"), Edit::insertion(2, "y")]).is_err());
        assert_eq!(
            apply(t, &[Edit::insertion(2, "x"), Edit::deletion(2, 4)]).as_deref(),
            Ok("abxef")
        );
    }

    #[test]
    fn a_move_is_a_deletion_and_an_insertion() {
        let old = "FROM a\nCOPY . .\n# deps\nRUN pip install -r r.txt\n";
        let new = "FROM a\n# deps\nRUN pip install -r r.txt\nCOPY . .\n";
        let edits = edits_between(old, new).expect("edits");
        // The copy is shorter than the install with its comment: it moves.
        assert_eq!(
            edits,
            vec![
                Edit::deletion(7, 16),
                Edit::insertion(old.len(), "COPY . .\n"),
            ]
        );
    }
}
