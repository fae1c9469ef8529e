//! The reports: how results look. Only this module and `main` decide
//! that; the library computes the results. One module per format:
//! [`text`] (diff, summary, history figures), [`json`], [`sarif`],
//! [`markdown`] (the pull-request body), [`explain`].

use similar::TextDiff;

use crate::analysis::file::FileAnalysis;
use crate::analysis::history::{History, WalkEnd};
use crate::plan::{Applicability, Change};
use crate::replay::FileFigures;

pub mod explain;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;

pub use json::{FileJson, InstructionJson, file_json, instructions_json};
pub use markdown::{PR_MARKER, markdown};
pub use sarif::{percent_encode_path, sarif};
pub use text::{history_text, summary};

/// A unified diff with `a/` and `b/` headers.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let p = path.trim_start_matches("./");
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{p}"), &format!("b/{p}"))
        .to_string()
}

pub(crate) fn label(a: Applicability) -> &'static str {
    match a {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::DisplayOnly => "advice",
    }
}

/// Thousands separators: 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn end_words(h: &History) -> &'static str {
    match h.end {
        WalkEnd::ReachedRoot => "the whole history",
        WalkEnd::Shallow => "cut short: shallow clone",
        WalkEnd::Limit => "cut short: --max-commits",
        WalkEnd::Since => "cut short: --since",
        WalkEnd::Corrupt => "cut short: damaged repository",
    }
}

/// The history evidence for one file: commits walked, and for each
/// instruction whose rebuild count changed, how often it ran before and
/// One processed file, for the emitters that see the whole run.
pub struct FileReport<'a> {
    pub path: &'a str,
    /// The path relative to the repository root (or the current directory
    /// outside one), for SARIF's `uriBaseId`.
    pub uri: &'a str,
    /// The analysis of the original text.
    pub original: Option<&'a FileAnalysis>,
    pub old: &'a str,
    pub new: &'a str,
    pub changes: &'a [Change],
    pub before: Option<&'a FileFigures>,
    pub after: Option<&'a FileFigures>,
    pub history: Option<&'a History>,
}

pub(crate) fn short_text(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s
    }
}

/// What the history figures assume about the `ARG`s they count as changed
/// in every commit (see [`crate::replay::FileFigures::per_build`]), or
/// `None` when there are none.
pub(crate) fn per_build_words(f: &crate::replay::FileFigures) -> Option<String> {
    if f.per_build.is_empty() {
        return None;
    }
    let args: Vec<String> = f.per_build.iter().map(|a| format!("`ARG {a}`")).collect();
    Some(format!(
        "{} counted as changed in every commit: assumed to take a new value on every build",
        args.join(", ") + if args.len() == 1 { " is" } else { " are" }
    ))
}
