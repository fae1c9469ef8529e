//! The lossless Dockerfile parser.
//!
//! Guarantees:
//! - every byte of the input belongs to exactly one [`Item`]; concatenating
//!   the items' texts gives the input back, byte for byte (BOM, CRLF, tabs,
//!   trailing blanks, missing final newline included);
//! - instructions are read exactly as BuildKit's parser reads them (same
//!   logical lines, flags, arguments, heredocs and line numbers), which the
//!   conformance tests check against BuildKit's own expected dumps;
//! - parsing never panics and never stops at the first error: errors are
//!   values with a line and column, and the items still cover the input.

mod dump;
mod grammar;
mod json;
mod mount;
mod node;
mod parser;
mod shlex;
mod words;

pub use dump::{dump_buildkit, go_quote};
pub use json::parse_to_json;
pub use mount::Mount;
pub use node::{Arg, Heredoc, Kind, Node};
pub use parser::{
    Directive, Instruction, Item, ItemKind, LineCache, Parse, parse, parse_source, parse_with,
};
