//! dockreorder: reorders Dockerfile instructions so that the layers whose
//! inputs change least come first, without changing the image.
//!
//! The library is organised along the data: [`source`] (bytes to text, line
//! endings, BOM) → [`syntax`] (the lossless BuildKit-compatible parser) →
//! later stages (analysis, planning, rewriting). The library never prints;
//! only `main` and the report layer write to stdout or stderr.

pub mod analysis;
pub mod bot;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod model;
pub mod order;
pub mod plan;
pub mod replay;
pub mod report;
pub mod rewrite;
pub mod source;
pub mod span;
pub mod syntax;
pub mod verify;
pub mod write;
