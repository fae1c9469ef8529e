//! One analysis per file: the parse, the stage model and, per stage, the
//! effects of every unit (with the build context and the knowledge in
//! force) and the state before it. Built once per text and handed to
//! planning, the history figures, `explain` and the reports, so they all
//! see the same effects (they used to re-parse, some without the context).

use super::context::Context;
use super::effects::{self, Effects, StageState};
use super::kb::Knowledge;
use crate::model::Model;
use crate::syntax::{self, Parse};

/// The analysis of one stage.
#[derive(Debug, Clone)]
pub struct StageAnalysis {
    /// Effects of each unit, parallel to the stage's units.
    pub effects: Vec<Effects>,
    /// Working directory and variables before each unit.
    pub state: StageState,
}

/// The analysis of one Dockerfile text.
#[derive(Debug, Clone)]
pub struct FileAnalysis {
    pub text: String,
    pub parse: Parse,
    pub model: Model,
    /// Parallel to `model.stages`.
    pub stages: Vec<StageAnalysis>,
}

impl FileAnalysis {
    /// Parses and analyses `text`.
    pub fn new(text: &str, ctx: Option<&Context>, knowledge: &Knowledge) -> FileAnalysis {
        FileAnalysis::of_parse(text, syntax::parse(text), ctx, knowledge)
    }

    /// Analyses an existing parse of `text`.
    pub fn of_parse(
        text: &str,
        parse: Parse,
        ctx: Option<&Context>,
        knowledge: &Knowledge,
    ) -> FileAnalysis {
        let model = Model::build(&parse, text);
        let mut stages: Vec<StageAnalysis> = model
            .stages
            .iter()
            .map(|stage| {
                let (effects, state) = effects::analyze_stage_with(&parse, stage, ctx, knowledge);
                StageAnalysis { effects, state }
            })
            .collect();
        // A `RUN` that is one `if` on file tests is analysed again as the
        // arm that runs, where the context and the first analysis say
        // which ([`effects::resolve_file_tests`]).
        let has_chain = parse.items.iter().filter_map(|i| i.instruction()).any(|i| {
            i.node.kind == crate::syntax::Kind::Run
                && i.run_script()
                    .is_some_and(|t| super::shell::file_test_chain(&t).is_some())
        });
        if let Some(ctx) = ctx.filter(|_| has_chain) {
            let effs: Vec<Vec<Effects>> = stages.iter().map(|s| s.effects.clone()).collect();
            let states: Vec<StageState> = stages.iter().map(|s| s.state.clone()).collect();
            for (si, stage) in model.stages.iter().enumerate() {
                let resolved =
                    effects::resolve_file_tests(&parse, &model.stages, &effs, &states, si, ctx);
                if resolved.is_empty() {
                    continue;
                }
                let (effects, state) =
                    effects::analyze_stage_resolved(&parse, stage, Some(ctx), knowledge, &resolved);
                stages[si] = StageAnalysis { effects, state };
            }
        }
        FileAnalysis {
            text: text.to_string(),
            parse,
            model,
            stages,
        }
    }

    /// The same analysis without the per-build assumption: no `ARG` is
    /// taken to change on every build ([`super::volatile`]), as for a build
    /// that passes them no new value.
    pub fn without_per_build(mut self) -> FileAnalysis {
        for e in self.stages.iter_mut().flat_map(|s| s.effects.iter_mut()) {
            e.per_build = None;
        }
        self
    }

    /// Whether some `ARG` is taken to change on every build.
    pub fn has_per_build(&self) -> bool {
        self.stages
            .iter()
            .any(|s| s.effects.iter().any(|e| e.per_build.is_some()))
    }
}
