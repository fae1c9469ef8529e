//! The planner: which changes to make to a Dockerfile, each with an
//! [`Applicability`] and a reason in plain words. One module per
//! transformation (DESIGN.md section 5), each documenting what it does, why,
//! an example and its fix safety:
//!
//! - [`hoist`]: move a dependency install above the broad copy;
//! - [`merge`]: join a lone package index update with its install;
//! - [`split`]: split a compound `RUN` so that its install can be hoisted;
//! - [`reorder`]: order a stage so that rarely changing inputs come first;
//! - [`advice`]: what only a human can fix (`DisplayOnly`).
//!
//! Planning reads the analysis of one stage ([`StageCx`]) and returns a new
//! order of its units; it never touches text (the rewriter does).

use serde::Serialize;

use crate::analysis::context::Context;
use crate::analysis::effects::{Effects, StageState};
use crate::analysis::file::StageAnalysis;
use crate::model::Stage;
use crate::syntax::{Instruction, Parse};

pub mod advice;
pub mod hoist;
pub mod merge;
pub mod reorder;
pub mod split;

pub use crate::analysis::manifests::is_manifest_name;
pub use advice::{foreign_frontend, plan_advice};
pub use hoist::{Kept, kept_installs, plan_hoist};
pub use merge::plan_merges;
pub use reorder::{
    Reorder, change_probability, is_expensive, plan_reorder, reorder_candidate,
    static_probabilities,
};

/// How far a change may be trusted. Ordered: `DisplayOnly < Unsafe < Safe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applicability {
    DisplayOnly,
    Unsafe,
    Safe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Hoist,
    MergeUpdate,
    Reorder,
    Advice,
}

/// One proposed change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub applicability: Applicability,
    /// 1-based line of the instruction it is about, in the original text.
    pub line: usize,
    /// Original line of the instruction it moved above (hoists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub above_line: Option<usize>,
    /// What changes, in a few words.
    pub summary: String,
    /// Why, and why it is safe (or what would make it safe).
    pub reason: String,
    /// Whether it was applied.
    pub applied: bool,
    /// The stage it is in (stage indices never change in a rewrite).
    #[serde(skip)]
    pub stage: usize,
    /// The trimmed text of the instruction it is about, which finds it
    /// again in the original text (lines of intermediate texts differ).
    #[serde(skip)]
    pub subject: String,
    /// The instruction it moved above, and that one's line in the text it
    /// was planned on (the report gives the original line instead).
    #[serde(skip)]
    pub anchor: Option<(String, usize)>,
    /// Instructions it inserts (the manifest COPYs of a hoist).
    #[serde(skip)]
    pub inserted: usize,
    /// Instructions that move with it (a hoist's `WORKDIR`, `ENV`, `ARG`).
    #[serde(skip)]
    pub moved_with: Vec<String>,
    /// Its edits of the original text, when applied (its fix). The edits
    /// of a file's changes are disjoint and together give the output.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<crate::rewrite::Edit>,
    /// A hoist of the first part of a split `RUN`: the `RUN` as it was
    /// (trimmed), which the split replaces by its two parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_from: Option<String>,
    /// With `split_from`: the trimmed text of the `RUN` that stays (the
    /// rest), which a step kept below the copy may depend on.
    pub split_rest: Option<String>,
    /// With `split_from`: why the split keeps the image, the last part of
    /// `reason` (the text report gives it a line of its own).
    #[serde(skip)]
    pub split_why: Option<String>,
}

impl Change {
    /// Advice without a fix (`DisplayOnly`, never applied) about the
    /// instruction `subject` at `line`.
    pub(crate) fn advice(
        stage: usize,
        line: usize,
        subject: &str,
        summary: String,
        reason: &str,
    ) -> Change {
        Change {
            kind: ChangeKind::Advice,
            applicability: Applicability::DisplayOnly,
            line,
            summary,
            reason: reason.to_string(),
            applied: false,
            stage,
            subject: subject.trim().to_string(),
            anchor: None,
            inserted: 0,
            moved_with: Vec::new(),
            above_line: None,
            edits: Vec::new(),
            split_from: None,
            split_rest: None,
            split_why: None,
        }
    }
}

/// What the planner may do.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Lowest applicability that is applied.
    pub threshold: Applicability,
    /// Smallest share of the file's expected rebuild cost a reorder must
    /// save to be proposed (0.10: 10%).
    pub min_saving: f64,
}

impl Options {
    /// The default materiality threshold: 10% of the expected rebuild cost.
    pub const DEFAULT_MIN_SAVING: f64 = 0.10;

    pub fn new(threshold: Applicability) -> Options {
        Options {
            threshold,
            min_saving: Options::DEFAULT_MIN_SAVING,
        }
    }
}

/// A group of the new order of a stage: inserted instruction texts (each
/// without newline) followed by an original unit.
#[derive(Debug, Clone)]
pub struct Group {
    pub inserts: Vec<String>,
    pub unit: usize,
    /// The inserts stand above the unit's comments, not between them and
    /// the unit: they are not what the comments describe (a `COPY` of the
    /// manifests put where the broad copy stood, before a `# run as node`
    /// / `USER node` that moves with the install).
    pub above_comments: bool,
}

/// A text-level plan for one stage: the new order of its units.
#[derive(Debug, Clone)]
pub struct StageOrder {
    pub stage: usize,
    pub groups: Vec<Group>,
}

/// A merge of a lone update RUN into the install after it.
#[derive(Debug, Clone)]
pub struct Merge {
    /// Item index of the update RUN (removed).
    pub update_item: usize,
    /// Item index of the install RUN.
    pub install_item: usize,
    /// Text inserted after the install's keyword.
    pub prefix: String,
}

pub fn instruction(parse: &Parse, item: usize) -> Option<&Instruction> {
    parse.items.get(item).and_then(|i| i.instruction())
}

/// The first line of an item as written, for quoting in a report; a line
/// continued with `\` takes in the next (about 80 characters; [`short`]
/// cuts the quote anyway).
pub(crate) fn first_line(text: &str, parse: &Parse, item: usize) -> String {
    parse
        .items
        .get(item)
        .map(|i| {
            if let Some(ins) = i.instruction().filter(|ins| !ins.heredocs.is_empty()) {
                return ins.one_line();
            }
            // A line continued (`RUN \`) goes on with the next ones, so
            // that the quote shows the command, not `RUN \`.
            let mut out = String::new();
            for (k, line) in i.span.text(text).lines().enumerate() {
                let line = line.trim();
                // Comment and empty lines inside a continuation are not
                // part of the instruction.
                if k > 0 && (line.is_empty() || line.starts_with('#')) {
                    continue;
                }
                match line.strip_suffix('\\') {
                    Some(head) => {
                        out.push_str(head.trim_end());
                        out.push(' ');
                        if out.chars().count() > 80 {
                            break;
                        }
                    }
                    None => {
                        out.push_str(line);
                        break;
                    }
                }
            }
            out.trim().to_string()
        })
        .unwrap_or_default()
}

/// An instruction's text for a one-line message: whitespace collapsed (a
/// continued line reads as one), at most 60 characters.
/// An instruction as reasons name it: its first line, shortened, and its
/// line (`` `RUN pip install …` (line 4) ``).
pub(crate) fn quoted_item(text: &str, parse: &Parse, item: usize) -> String {
    format!(
        "`{}` (line {})",
        short(&first_line(text, parse, item)),
        parse.items.get(item).map_or(0, |i| i.lines.start)
    )
}

pub(crate) fn short(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s.to_string()
    }
}

/// What planning one stage reads: the text and its parse, the stage and its
/// analysis (effects and the state before each unit), the build context
/// and the options. One value instead of eight arguments.
#[derive(Clone, Copy)]
pub struct StageCx<'a> {
    pub parse: &'a Parse,
    pub text: &'a str,
    /// Index of the stage in the file.
    pub index: usize,
    pub stage: &'a Stage,
    pub eff: &'a [Effects],
    pub state: &'a StageState,
    /// Every stage of the file and its analysis (parallel), for what the
    /// stages this one is built on (`FROM base`) did.
    pub stages: &'a [Stage],
    pub analyses: &'a [StageAnalysis],
    pub ctx: Option<&'a Context>,
    pub opts: Options,
}
