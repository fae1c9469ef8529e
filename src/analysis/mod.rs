//! Analysis: what each instruction reads and writes, the command knowledge
//! base, the build context, and the dependency graph.

pub mod commit_graph;
pub mod context;
pub mod deletions;
pub mod dotnet;
pub mod effects;
pub mod file;
pub(crate) mod fxhash;
pub mod gemspec;
pub mod gradle;
pub mod graph;
pub mod history;
pub mod kb;
mod kb_types;
pub mod manifests;
pub mod packs;
pub mod pyproject;
pub mod shell;
pub mod uv;
pub mod volatile;
