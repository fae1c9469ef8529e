//! The Dockerfile model on top of the lossless parse: stages, and the
//! movable units inside them (an instruction with the comment lines
//! directly above it), plus the inline pragmas.
//!
//! Guarantees: units never cross `FROM`; instructions before the first
//! `FROM` (global `ARG`s) and parser directives are never units; a comment
//! separated from the next instruction by a blank line belongs to no unit
//! and stays where it is.

use crate::syntax::{ItemKind, Kind, Parse};

/// An instruction plus the comment items directly above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Index of the instruction item in `Parse::items`.
    pub item: usize,
    /// Index of the first item of the unit (a comment, or the instruction).
    pub first_item: usize,
    /// `# dockreorder: keep` above it: nothing moves across it.
    pub keep: bool,
    /// `# dockreorder: reads=PATH[,PATH]` above a RUN: what it reads.
    pub declared_reads: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Stage {
    /// Index of the `FROM` item.
    pub from_item: usize,
    /// `FROM … AS name`.
    pub name: Option<String>,
    pub units: Vec<Unit>,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub stages: Vec<Stage>,
    /// `# dockreorder: ignore-file` was found.
    pub ignore_file: bool,
}

pub const PRAGMA_KEEP: &str = "dockreorder: keep";
pub const PRAGMA_IGNORE_FILE: &str = "dockreorder: ignore-file";

/// The pragmas this version knows, for messages.
pub const KNOWN_PRAGMAS: &str =
    "`# dockreorder: keep`, `# dockreorder: ignore-file`, `# dockreorder: reads=PATH[,PATH]`";

/// Warnings for `# dockreorder:` comments that are no known pragma: a
/// typo (`kep`) would otherwise silently pin nothing.
pub fn unknown_pragmas(parse: &Parse, text: &str) -> Vec<crate::diagnostic::Diagnostic> {
    parse
        .items
        .iter()
        .filter(|i| matches!(i.kind, ItemKind::Comment))
        .filter_map(|i| {
            let p = pragma(i.span.text(text))?;
            let known = p == "keep" || p == "ignore-file" || p.starts_with("reads=");
            (!known).then(|| {
                crate::diagnostic::Diagnostic::new(
                    i.lines.start,
                    1,
                    format!(
                        "unknown pragma `# dockreorder: {p}` (ignored); known: {KNOWN_PRAGMAS}"
                    ),
                )
            })
        })
        .collect()
}

fn pragma(comment: &str) -> Option<&str> {
    let c = comment.trim().strip_prefix('#')?.trim();
    c.strip_prefix("dockreorder:").map(str::trim)
}

impl Model {
    pub fn build(parse: &Parse, text: &str) -> Model {
        let mut stages: Vec<Stage> = Vec::new();
        let mut ignore_file = false;
        for (idx, item) in parse.items.iter().enumerate() {
            match &item.kind {
                ItemKind::Comment if pragma(item.span.text(text)) == Some("ignore-file") => {
                    ignore_file = true;
                }
                ItemKind::Instruction(ins) => {
                    if ins.node.kind == Kind::From {
                        let args: Vec<&str> = ins.node.str_args().collect();
                        let name = match args.as_slice() {
                            [_, as_kw, name, ..] if as_kw.eq_ignore_ascii_case("as") => {
                                Some(name.to_ascii_lowercase())
                            }
                            _ => None,
                        };
                        stages.push(Stage {
                            from_item: idx,
                            name,
                            units: Vec::new(),
                        });
                        continue;
                    }
                    let Some(stage) = stages.last_mut() else {
                        continue;
                    };
                    // Comments directly above (no blank line between), but
                    // not across the FROM.
                    let mut first = idx;
                    let mut keep = false;
                    let mut declared_reads = None;
                    while first > stage.from_item + 1 {
                        let prev = &parse.items[first - 1];
                        if !matches!(prev.kind, ItemKind::Comment) {
                            break;
                        }
                        match pragma(prev.span.text(text)) {
                            Some("keep") => keep = true,
                            Some(p) if p.starts_with("reads=") => {
                                let list: Vec<String> = p["reads=".len()..]
                                    .split(',')
                                    .map(|s| s.trim().to_string())
                                    .filter(|s| !s.is_empty())
                                    .collect();
                                declared_reads = Some(list);
                            }
                            _ => {}
                        }
                        first -= 1;
                    }
                    stage.units.push(Unit {
                        item: idx,
                        first_item: first,
                        keep,
                        declared_reads,
                    });
                }
                _ => {}
            }
        }
        Model {
            stages,
            ignore_file,
        }
    }
}
