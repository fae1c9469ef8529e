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

/// A count of rebuilds as the model gives it: "at most" when it counts
/// reruns of a copy from another stage that a real build may serve from
/// cache (see [`crate::replay::UnitFigures::at_most`]).
pub(crate) fn count_words(at_most: bool, n: u64) -> String {
    if at_most {
        format!("at most {}", thousands(n))
    } else {
        thousands(n)
    }
}

/// A file's mean rebuilt cost per commit, "at most" as [`count_words`].
pub(crate) fn cost_words(f: &crate::replay::FileFigures) -> String {
    if f.cost_at_most {
        format!("at most {:.1}", f.mean_cost)
    } else {
        format!("{:.1}", f.mean_cost)
    }
}

/// How one instruction's rebuilds change, for the evidence lines: the
/// instruction (the hoisted part of a split `RUN`, named as it is after),
/// its counts before and after, and the stage when only `--target` builds
/// it; `None` when nothing changes or it costs nothing.
pub(crate) fn unit_change(
    b: &crate::replay::UnitFigures,
    a: &crate::replay::UnitFigures,
) -> Option<(String, String, String, String)> {
    if (a.rebuilds, a.at_most) == (b.rebuilds, b.at_most) || b.cost <= 0.0 {
        return None;
    }
    let name = if a.instruction == b.instruction {
        format!("`{}`", crate::plan::short(&b.instruction))
    } else if crate::replay::merged_into(&b.original, &a.original) {
        format!(
            "`{}` (the lone update before it merged in)",
            crate::plan::short(&b.instruction)
        )
    } else {
        // Named by its line: cut short, the original read as the part
        // split from it (scout77 review).
        format!(
            "`{}` (split from the `RUN` on line {})",
            crate::plan::short(&a.instruction),
            b.line
        )
    };
    let target = a
        .target_only
        .as_ref()
        .map(|t| format!(" (stage {t}, built only with `--target`)"))
        .unwrap_or_default();
    Some((
        name,
        count_words(b.at_most, b.rebuilds),
        count_words(a.at_most, a.rebuilds),
        target,
    ))
}

/// The notes the figures need: which stages they leave out, and which
/// copies from other stages make a range.
pub(crate) fn figure_notes(
    before: &crate::replay::FileFigures,
    after: &crate::replay::FileFigures,
) -> Vec<String> {
    let mut notes = Vec::new();
    if !before.target_only.is_empty() {
        notes.push(format!(
            "the mean is for a default `docker build` (the last stage and the stages it needs); {} {} built only with `--target` and left out of it",
            before.target_only.join(", "),
            if before.target_only.len() == 1 { "is" } else { "are" }
        ));
    }
    let mut keyed: Vec<String> = Vec::new();
    for (line, ins) in before.content_keyed.iter() {
        let w = format!("`{}` (line {line})", crate::plan::short(ins));
        if !keyed.contains(&w) {
            keyed.push(w);
        }
    }
    for (_, ins) in after.content_keyed.iter() {
        let w = format!("`{}`", crate::plan::short(ins));
        if !keyed.iter().any(|k| k.starts_with(&w)) {
            keyed.push(w);
        }
    }
    if !keyed.is_empty() {
        notes.push(format!(
            "{} {} counted as rerun whenever a `RUN` that writes what it copies reran, or a copy that may write there reran for files changed elsewhere; BuildKit keys a copy from another stage on the content of the files it copies and serves it from cache when the rerun wrote the same bytes (a file downloaded as it was, a build that gives the same bytes): the counts marked \"at most\" include such reruns",
            keyed.join(", "),
            if keyed.len() == 1 { "is" } else { "are" }
        ));
    }
    notes
}

/// `value` as [`serde_json::to_string_pretty`] writes it (two spaces a
/// level), with each line's indentation written at once rather than two
/// spaces at a time: a report of a few instructions holds thousands of
/// indented lines, and the output was a sixth of a short run.
pub fn pretty_json<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(1 << 16);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
    value.serialize(&mut ser)?;
    // serde_json writes only UTF-8 (strings come from `str`).
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// serde_json's `PrettyFormatter` with the default two-space indent.
#[derive(Default)]
struct Pretty {
    depth: usize,
    has_value: bool,
}

impl Pretty {
    /// A newline (after a comma when `comma`) and the current indentation.
    fn line<W: ?Sized + std::io::Write>(&self, w: &mut W, comma: bool) -> std::io::Result<()> {
        const SPACES: &[u8; 66] =
            b",\n                                                                ";
        let start = usize::from(!comma);
        let mut want = 2 * self.depth;
        let first = want.min(SPACES.len() - 2);
        w.write_all(&SPACES[start..2 + first])?;
        want -= first;
        while want > 0 {
            let n = want.min(SPACES.len() - 2);
            w.write_all(&SPACES[2..2 + n])?;
            want -= n;
        }
        Ok(())
    }

    /// Opens an array or object one level deeper.
    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, b: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b)
    }

    /// Closes it, on a line of its own when it holds a value.
    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, b: &[u8]) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(w, false)?;
        }
        w.write_all(b)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, !first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, !first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_json_is_serde_jsons_pretty_output() {
        // Nesting deeper than one run of spaces, empty containers, every
        // scalar, strings that need escapes.
        let mut deep = serde_json::json!("end");
        for i in 0..40 {
            deep = if i % 2 == 0 {
                serde_json::json!([deep, {}, []])
            } else {
                serde_json::json!({"k": deep, "e": [], "o": {}})
            };
        }
        let values = [
            serde_json::json!(null),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!([1, 2.5, -3, true, null, "a\"b\\c\n\u{1}é"]),
            serde_json::json!({"a": {"b": [{"c": []}, {}], "d": 1.0e300}, "z": "x"}),
            deep,
        ];
        for v in &values {
            assert_eq!(
                pretty_json(v).ok(),
                serde_json::to_string_pretty(v).ok(),
                "{v}"
            );
        }
    }
}
