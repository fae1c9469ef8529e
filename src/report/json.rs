//! `--format json`: per file, its changes (with their edits), diff,
//! instructions with their effects, and the history figures.
//!
//! Guarantees: the objects are serialised straight from the analysis (no
//! `serde_json::Value` tree is built for the bulk of it, a fixed cost of
//! every run), with their keys in alphabetical order, the order a `Value`
//! map gives: the output is the one the `Value`-based report gave, byte for
//! byte. Only the changes, a few per file, still pass through a `Value`,
//! which sorts their keys the same way.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::unified_diff;
use crate::analysis::effects::{Effects, Loc};
use crate::analysis::file::FileAnalysis;
use crate::analysis::history::{History, WalkEnd};
use crate::plan::{Change, Kept};
use crate::replay::FileFigures;

/// One location, as `{"type": …, "value": …}` with a directory's value
/// as `{"owner": …, "path": …}` (sorted keys; the derived `Serialize` of
/// [`Loc`] puts `path` first).
struct LocJson<'a>(&'a Loc);

impl Serialize for LocJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Owned<'a>(&'a str, &'a str);
        impl Serialize for Owned<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("owner", self.1)?;
                m.serialize_entry("path", self.0)?;
                m.end()
            }
        }
        let (kind, value) = match self.0 {
            Loc::Var(v) => ("var", Some(v)),
            Loc::AllVars => ("all_vars", None),
            Loc::Workdir => ("workdir", None),
            Loc::User => ("user", None),
            Loc::Shell => ("shell", None),
            Loc::Path(p) => ("path", Some(p)),
            Loc::Config(k) => ("config", Some(k)),
            Loc::Dir { path, owner } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", "dir")?;
                m.serialize_entry("value", &Owned(path, owner))?;
                return m.end();
            }
        };
        let mut m = s.serialize_map(Some(1 + usize::from(value.is_some())))?;
        m.serialize_entry("type", kind)?;
        if let Some(v) = value {
            m.serialize_entry("value", v)?;
        }
        m.end()
    }
}

/// A list of locations.
struct LocsJson<'a>(&'a [Loc]);

impl Serialize for LocsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(LocJson))
    }
}

/// One instruction: line, keyword and effects, as the planner saw them.
#[derive(serde::Serialize)]
pub struct InstructionJson<'a> {
    context_reads: &'a [String],
    cost: f64,
    keyword: Option<&'static str>,
    line: usize,
    opaque: &'a Option<String>,
    reads: LocsJson<'a>,
    writes: LocsJson<'a>,
}

impl<'a> InstructionJson<'a> {
    fn new(line: usize, keyword: Option<&'static str>, e: &'a Effects) -> Self {
        InstructionJson {
            context_reads: &e.context_reads,
            cost: e.cost,
            keyword,
            line,
            opaque: &e.opaque,
            reads: LocsJson(&e.reads),
            writes: LocsJson(&e.writes),
        }
    }
}

/// Per instruction: line, keyword and effects (for `--format json`), as
/// the planner saw them.
pub fn instructions_json(file: &FileAnalysis) -> Vec<InstructionJson<'_>> {
    let mut out = Vec::new();
    for (stage, sa) in file.model.stages.iter().zip(&file.stages) {
        for (u, e) in stage.units.iter().zip(&sa.effects) {
            let item = &file.parse.items[u.item];
            let keyword = item.instruction().map(|i| i.node.kind.as_str());
            out.push(InstructionJson::new(item.lines.start, keyword, e));
        }
    }
    out
}

/// A figure before and after the rewrite.
#[derive(serde::Serialize)]
struct BeforeAfter<T> {
    after: T,
    before: T,
}

/// The walk behind a file's figures.
#[derive(serde::Serialize)]
struct HistoryJson<'a> {
    commits_walked: u64,
    /// The walked commits that touched the build context.
    context_commits: u64,
    /// Whether the history decided the order: at least
    /// [`crate::rewrite::MIN_HISTORY_COMMITS`] context commits (else the
    /// static estimate did, and the figures are only what the walked
    /// commits give).
    decided_order: bool,
    end: WalkEnd,
    first_parent: bool,
    notes: &'a [String],
    /// The stages a default `docker build` does not build, left out of
    /// `expected_cost`.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    target_only: &'a [String],
    truncated: bool,
}

/// One instruction's history figures; an instruction the rewrite inserted
/// has `line_after` (its line in the new text) and `inserted` instead of
/// `line`.
#[derive(serde::Serialize)]
struct UnitJson<'a> {
    cost: f64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    inserted: bool,
    instruction: &'a str,
    /// The hoisted part of a split `RUN` (`instruction`), paired with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    instruction_after: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line_after: Option<usize>,
    rebuilds: BeforeAfter<Option<u64>>,
    /// Whether `rebuilds` is an upper bound (see
    /// [`crate::replay::UnitFigures::at_most`]), where one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    rebuilds_at_most: Option<BeforeAfter<Option<bool>>>,
    source_changes: u64,
    /// The stage, when only `--target` builds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    target_only: Option<&'a str>,
}

/// A step left below a broad copy (see [`crate::plan::Kept`]).
#[derive(serde::Serialize)]
pub struct KeptJson<'a> {
    /// The broad copy's first line, trimmed.
    below: &'a str,
    below_line: usize,
    /// Whether the knowledge base knows the step as a dependency install.
    install: bool,
    instruction: &'a str,
    line: usize,
    reason: &'a str,
}

/// One file of `--format json`, serialised as it is (see the module
/// comment for the key order).
#[derive(serde::Serialize)]
pub struct FileJson<'a> {
    changed: bool,
    changes: Value,
    diff: Option<String>,
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_cost: Option<BeforeAfter<f64>>,
    /// Whether `expected_cost` is an upper bound, where one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_cost_at_most: Option<BeforeAfter<bool>>,
    /// Absent until [`FileJson::with_history`]; `null` without figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<Option<HistoryJson<'a>>>,
    instructions: Vec<InstructionJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions_history: Option<Vec<UnitJson<'a>>>,
    /// The expensive steps left below a broad copy, each with the first
    /// condition the hoist pass found failed (what `-v` prints).
    kept: Vec<KeptJson<'a>>,
    /// What decided the order: `history` or `static_estimate` (absent
    /// after an error).
    #[serde(skip_serializing_if = "Option::is_none")]
    ordered_by: Option<&'static str>,
    path: &'a str,
}

/// One file of `--format json`; `analysis` is the original text's (absent
/// after an error).
pub fn file_json<'a>(
    path: &'a str,
    old: &str,
    new: &str,
    changes: &[Change],
    error: Option<String>,
    analysis: Option<&'a FileAnalysis>,
) -> FileJson<'a> {
    FileJson {
        changed: old != new,
        changes: serde_json::to_value(changes).unwrap_or(Value::Null),
        diff: (old != new).then(|| unified_diff(path, old, new)),
        error,
        expected_cost: None,
        expected_cost_at_most: None,
        history: None,
        instructions: analysis.map(instructions_json).unwrap_or_default(),
        instructions_history: None,
        kept: Vec::new(),
        ordered_by: None,
        path,
    }
}

impl<'a> FileJson<'a> {
    /// Adds the steps left below a broad copy.
    pub fn with_kept(mut self, kept: &'a [Kept]) -> Self {
        self.kept = kept
            .iter()
            .map(|k| KeptJson {
                below: &k.below,
                below_line: k.below_line,
                install: k.install,
                instruction: &k.subject,
                line: k.line,
                reason: &k.reason,
            })
            .collect();
        self
    }

    /// Adds the history figures (`history`: `null` without them) and
    /// what decided the order (`ordered_by`).
    pub fn with_history(
        mut self,
        figures: Option<(&'a FileFigures, &'a FileFigures, &'a History)>,
    ) -> Self {
        let decided =
            figures.is_some_and(|(_, _, h)| crate::rewrite::usable_history(Some(h)).is_some());
        self.ordered_by = Some(if decided {
            "history"
        } else {
            "static_estimate"
        });
        let Some((before, after, h)) = figures else {
            self.history = Some(None);
            return self;
        };
        let units = before
            .pair_with(after)
            .into_iter()
            .filter_map(|pair| match pair {
                (Some(b), a) => Some(UnitJson {
                    cost: b.cost,
                    inserted: false,
                    instruction: &b.instruction,
                    instruction_after: a
                        .filter(|a| a.instruction != b.instruction)
                        .map(|a| a.instruction.as_str()),
                    line: Some(b.line),
                    line_after: None,
                    rebuilds: BeforeAfter {
                        after: a.map(|a| a.rebuilds),
                        before: Some(b.rebuilds),
                    },
                    rebuilds_at_most: (b.at_most || a.is_some_and(|a| a.at_most)).then(|| {
                        BeforeAfter {
                            after: a.map(|a| a.at_most),
                            before: Some(b.at_most),
                        }
                    }),
                    source_changes: b.source_changes,
                    target_only: b.target_only.as_deref(),
                }),
                (None, Some(a)) => Some(UnitJson {
                    cost: a.cost,
                    inserted: true,
                    instruction: &a.instruction,
                    instruction_after: None,
                    line: None,
                    line_after: Some(a.line),
                    rebuilds: BeforeAfter {
                        after: Some(a.rebuilds),
                        before: None,
                    },
                    rebuilds_at_most: a.at_most.then_some(BeforeAfter {
                        after: Some(true),
                        before: None,
                    }),
                    source_changes: a.source_changes,
                    target_only: a.target_only.as_deref(),
                }),
                (None, None) => None,
            })
            .collect();
        self.history = Some(Some(HistoryJson {
            commits_walked: before.commits,
            context_commits: crate::rewrite::context_commits(h) as u64,
            decided_order: decided,
            end: h.end,
            first_parent: h.first_parent,
            notes: &h.notes,
            target_only: &before.target_only,
            truncated: h.truncated(),
        }));
        self.instructions_history = Some(units);
        self.expected_cost = Some(BeforeAfter {
            after: after.mean_cost,
            before: before.mean_cost,
        });
        self.expected_cost_at_most =
            (before.cost_at_most || after.cost_at_most).then_some(BeforeAfter {
                after: after.cost_at_most,
                before: before.cost_at_most,
            });
        self
    }
}
