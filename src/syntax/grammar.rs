//! The pest grammar (`grammar/dockerfile.pest`) and small helpers around it.

use pest::Parser;
use pest::iterators::Pairs;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "../grammar/dockerfile.pest"]
pub(crate) struct DockerfileGrammar;

/// Parses `input` with `rule`; `None` when it does not match.
pub(crate) fn parse_rule(rule: Rule, input: &str) -> Option<Pairs<'_, Rule>> {
    DockerfileGrammar::parse(rule, input).ok()
}
