//! Assembles physical lines (split and classified as the grammar's line
//! rules do) into items the way
//! BuildKit's `parser.Parse` loop does: directives at the top, comment and
//! blank lines, and instructions with their continuation lines (comment and
//! empty lines inside a continuation are skipped but stay in the item's
//! bytes) and heredoc bodies.

use std::collections::HashMap;

use serde::Serialize;

use super::grammar::{Rule, parse_rule};
use super::node::{Heredoc, Kind, Node, heredocs_from_line, node_from_line};
use super::words::trim_left_space;
use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;
use crate::span::{LineRange, Span};

/// A parser directive (`# syntax=`, `# escape=`, `# check=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directive {
    /// Lower-cased key.
    pub name: String,
    pub value: String,
}

/// An instruction: the node BuildKit builds, the joined logical line and
/// its heredocs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instruction {
    pub node: Node,
    /// The logical line: continuation markers removed, skipped lines
    /// dropped, heredoc bodies not included.
    pub original: String,
    pub heredocs: Vec<Heredoc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemKind {
    /// The UTF-8 byte-order mark.
    Bom,
    Directive(Directive),
    Comment,
    Blank,
    Instruction(Box<Instruction>),
    /// An instruction BuildKit would reject; the error is in `Parse::errors`.
    Invalid {
        message: String,
    },
}

/// One piece of the file. Items never overlap and cover the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    #[serde(flatten)]
    pub kind: ItemKind,
    pub span: Span,
    pub lines: LineRange,
}

impl Item {
    pub fn instruction(&self) -> Option<&Instruction> {
        match &self.kind {
            ItemKind::Instruction(i) => Some(i),
            _ => None,
        }
    }
}

/// The result of parsing: items covering every byte, plus errors and
/// warnings (BuildKit's "Empty continuation line" warnings).
#[derive(Debug, Clone, Serialize)]
pub struct Parse {
    pub items: Vec<Item>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    pub escape: char,
    pub directives: Vec<Directive>,
}

impl Instruction {
    /// The instruction on one line, for a message: its logical line, and
    /// for a `RUN` each heredoc's body in parentheses, its lines
    /// `;`-separated (`RUN <<EOT (set -e; npm ci)`): the marker alone does
    /// not say what runs. Empty and comment lines of a body are left out;
    /// other instructions' heredocs are file contents, not shown.
    pub fn one_line(&self) -> String {
        let mut out = self.original.trim().to_string();
        if self.node.kind != Kind::Run {
            return out;
        }
        for h in &self.heredocs {
            let body: Vec<&str> = h
                .content
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            if !body.is_empty() {
                out.push_str(&format!(" ({})", body.join("; ")));
            }
        }
        out
    }

    /// The script the shell of a shell-form `RUN` runs: its command line,
    /// or, when that line is a single heredoc marker (`RUN <<EOF`,
    /// `RUN <<-EOF`, quoted or not), the heredoc's body, which BuildKit
    /// passes to the shell as the `-c` argument as it is (`dispatchRun`
    /// in `convert.go`: no variable expansion, leading tabs stripped for
    /// `<<-`). `None` for anything else: exec form, a body starting with
    /// `#!` (BuildKit runs it as a file with its own interpreter), several
    /// heredocs or a heredoc feeding a command (`RUN <<EOF bash`, `RUN
    /// cat <<EOF > f`: the shell's own heredoc), and a body with carriage
    /// returns (which the shell keeps in its words).
    pub fn run_script(&self) -> Option<std::borrow::Cow<'_, str>> {
        if self.node.kind != Kind::Run || self.node.json {
            return None;
        }
        let line = self.node.str_args().next().unwrap_or("");
        let [heredoc] = self.heredocs.as_slice() else {
            return self
                .heredocs
                .is_empty()
                .then_some(std::borrow::Cow::Borrowed(line));
        };
        let marker = super::node::parse_heredoc(line.trim()).ok().flatten()?;
        if marker.name != heredoc.name
            || marker.file_descriptor != 0
            || marker.chomp != heredoc.chomp
            || heredoc.content.starts_with("#!")
            || heredoc.content.contains('\r')
        {
            return None;
        }
        if !heredoc.chomp {
            return Some(std::borrow::Cow::Borrowed(&heredoc.content));
        }
        let chomped: Vec<&str> = heredoc
            .content
            .split_inclusive('\n')
            .map(|l| l.trim_start_matches('\t'))
            .collect();
        Some(std::borrow::Cow::Owned(chomped.concat()))
    }
}

impl Parse {
    pub fn instructions(&self) -> impl Iterator<Item = (&Item, &Instruction)> {
        self.items
            .iter()
            .filter_map(|it| it.instruction().map(|i| (it, i)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Blank,
    Comment,
    Continued,
    Text,
}

#[derive(Debug, Clone, Copy)]
struct PhysLine {
    start: usize,
    /// End of the content, newline excluded (carriage returns included).
    content_end: usize,
    /// End including the newline.
    end: usize,
    kind: LineKind,
}

/// A physical line must fit Go's 64 KiB scanner buffer, newline included.
const MAX_LINE: usize = 65_536;

pub fn parse_source(source: &SourceFile) -> Parse {
    parse(&source.text)
}

/// Parses a Dockerfile's text. Never panics; errors are in the result.
pub fn parse(text: &str) -> Parse {
    assemble(text, None)
}

/// The instructions already read by [`parse_with`], by logical line: many
/// texts parsed in a row (the versions of one Dockerfile in a history)
/// share most of their lines, and reading a line is most of a parse.
#[derive(Default)]
pub struct LineCache {
    /// The escape character the cached lines were read with.
    escape: Option<char>,
    nodes: HashMap<String, Result<Node, String>>,
}

/// Lines a [`LineCache`] keeps before it starts over (bounds its memory).
const MAX_CACHED_LINES: usize = 4096;

impl LineCache {
    fn node(&mut self, line: &str, escape: char) -> Result<Node, String> {
        // A line reads differently under another escape character.
        if self.escape != Some(escape) {
            self.nodes.clear();
            self.escape = Some(escape);
        }
        if let Some(n) = self.nodes.get(line) {
            return n.clone();
        }
        let node = node_from_line(line, escape);
        if self.nodes.len() >= MAX_CACHED_LINES {
            self.nodes.clear();
        }
        self.nodes.insert(line.to_string(), node.clone());
        node
    }
}

/// [`parse`], reading each logical line through `cache`: the same result,
/// since an instruction's node depends only on its line and the escape
/// character.
pub fn parse_with(text: &str, cache: &mut LineCache) -> Parse {
    assemble(text, Some(cache))
}

fn assemble(text: &str, cache: Option<&mut LineCache>) -> Parse {
    let mut errors = Vec::new();
    let (directives, directive_lines, escape) = scan_directives(text, &mut errors);
    let (bom_len, lines) = physical_lines(text, escape);
    let mut p = Assembler {
        text,
        lines: &lines,
        escape,
        items: Vec::new(),
        errors,
        warnings: Vec::new(),
        cache,
    };
    if bom_len > 0 {
        p.items.push(Item {
            kind: ItemKind::Bom,
            span: Span::new(0, bom_len),
            lines: LineRange { start: 1, end: 1 },
        });
    }
    p.run(&directives, directive_lines);
    let Assembler {
        mut items,
        mut errors,
        warnings,
        ..
    } = p;
    if !items
        .iter()
        .any(|i| matches!(i.kind, ItemKind::Instruction(_) | ItemKind::Invalid { .. }))
    {
        errors.push(Diagnostic::new(lines.len(), 1, "file with no instructions"));
    }
    // A file without physical lines (empty) still gets the invariant.
    if items.is_empty() && !text.is_empty() {
        items.push(Item {
            kind: ItemKind::Blank,
            span: Span::new(0, text.len()),
            lines: LineRange { start: 1, end: 1 },
        });
    }
    errors.sort_by_key(|d| (d.line, d.column));
    Parse {
        items,
        errors,
        warnings,
        escape,
        directives,
    }
}

/// BuildKit reads parser directives from the uninterrupted run of
/// `# key=value` lines at the top; the first other line ends the run. The
/// escape token they pick applies to the whole file, so they are read first.
fn scan_directives(text: &str, errors: &mut Vec<Diagnostic>) -> (Vec<Directive>, usize, char) {
    let mut directives: Vec<Directive> = Vec::new();
    let mut escape = '\\';
    let mut count = 0;
    let body = text.strip_prefix(crate::source::BOM).unwrap_or(text);
    for (idx, raw) in body.split('\n').enumerate() {
        let line = trim_left_space(raw.trim_end_matches(['\r', '\n']));
        let Some(pairs) = parse_rule(Rule::directive, line) else {
            break;
        };
        let (mut key, mut value) = (String::new(), String::new());
        for p in pairs.flatten() {
            match p.as_rule() {
                Rule::directive_key => key = p.as_str().to_ascii_lowercase(),
                Rule::directive_value => value = p.as_str().to_string(),
                _ => {}
            }
        }
        if !matches!(key.as_str(), "syntax" | "escape" | "check") {
            break;
        }
        let line_no = idx + 1;
        if directives.iter().any(|d| d.name == key) {
            errors.push(Diagnostic::new(
                line_no,
                1,
                format!("only one {key} parser directive can be used"),
            ));
        } else if key == "escape" {
            match value.as_str() {
                "\\" => escape = '\\',
                "`" => escape = '`',
                other => errors.push(Diagnostic::new(
                    line_no,
                    1,
                    format!("invalid escape token '{other}' does not match ` or \\"),
                )),
            }
        }
        directives.push(Directive { name: key, value });
        count += 1;
    }
    (directives, count, escape)
}

/// Splits the text into classified physical lines exactly as the
/// grammar's `file_backslash` / `file_backtick` rules do (a property test
/// holds the two equal), by hand: the grammar tries the continuation rule
/// at every character of every line, which made this the larger part of a
/// parse (a parse is repeated for every Dockerfile version of the history
/// and every plan the rewrite tries).
fn physical_lines(text: &str, escape: char) -> (usize, Vec<PhysLine>) {
    let bom_len = if text.starts_with(crate::source::BOM) {
        crate::source::BOM.len()
    } else {
        0
    };
    let mut lines = Vec::new();
    let mut start = bom_len;
    while start < text.len() {
        let (content_end, end) = match text.as_bytes()[start..].iter().position(|&b| b == b'\n') {
            Some(k) => (start + k, start + k + 1),
            None => (text.len(), text.len()),
        };
        let kind = line_kind(text.get(start..content_end).unwrap_or(""), escape);
        lines.push(PhysLine {
            start,
            content_end,
            end,
            kind,
        });
        start = end;
    }
    (bom_len, lines)
}

/// The grammar's classification of one line (without its newline), in
/// its order: blank (only Unicode white space), comment (`#` after white
/// space), continued (the escape token, not itself escaped or alone after
/// white space, then only blanks and carriage returns), else text.
fn line_kind(line: &str, escape: char) -> LineKind {
    let rest = line.trim_start_matches(char::is_whitespace);
    if rest.is_empty() {
        return LineKind::Blank;
    }
    if rest.starts_with('#') {
        return LineKind::Comment;
    }
    let t = line.trim_end_matches('\r').trim_end_matches([' ', '\t']);
    match t.strip_suffix(escape) {
        Some(before)
            if before.trim_start_matches(char::is_whitespace).is_empty()
                || !before.ends_with(escape) =>
        {
            LineKind::Continued
        }
        _ => LineKind::Text,
    }
}

struct Assembler<'a> {
    text: &'a str,
    lines: &'a [PhysLine],
    escape: char,
    items: Vec<Item>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    cache: Option<&'a mut LineCache>,
}

impl Assembler<'_> {
    fn content(&self, l: &PhysLine) -> &str {
        // trimNewline: every trailing \r and \n goes.
        self.text
            .get(l.start..l.content_end)
            .unwrap_or("")
            .trim_end_matches(['\r', '\n'])
    }

    /// The line without its continuation marker (and the blanks after it).
    fn strip_marker<'s>(&self, content: &'s str) -> &'s str {
        let t = content.trim_end_matches([' ', '\t']);
        t.strip_suffix(self.escape).unwrap_or(t)
    }

    fn push(&mut self, kind: ItemKind, first: usize, last: usize) {
        let (a, b) = (self.lines[first], self.lines[last]);
        self.items.push(Item {
            kind,
            span: Span::new(a.start, b.end),
            lines: LineRange {
                start: first + 1,
                end: last + 1,
            },
        });
    }

    fn run(&mut self, directives: &[Directive], directive_lines: usize) {
        for (i, l) in self.lines.iter().enumerate() {
            if l.end - l.start > MAX_LINE || (l.end == l.content_end && l.end - l.start >= MAX_LINE)
            {
                self.errors.push(Diagnostic::new(
                    i + 1,
                    1,
                    "dockerfile line greater than max allowed size of 65535",
                ));
            }
        }
        let n = self.lines.len();
        let mut i = 0;
        while i < n {
            let line = self.lines[i];
            if i < directive_lines {
                let d = directives[i].clone();
                self.push(ItemKind::Directive(d), i, i);
                i += 1;
                continue;
            }
            match line.kind {
                LineKind::Blank => {
                    self.push(ItemKind::Blank, i, i);
                    i += 1;
                    continue;
                }
                LineKind::Comment => {
                    self.push(ItemKind::Comment, i, i);
                    i += 1;
                    continue;
                }
                LineKind::Continued | LineKind::Text => {}
            }
            i = self.instruction(i);
        }
    }

    /// Reads one instruction starting at line `first`; returns the index of
    /// the line after it.
    fn instruction(&mut self, first: usize) -> usize {
        let n = self.lines.len();
        let l0 = self.lines[first];
        let c0 = trim_left_space(self.content(&l0));
        let mut buf = String::new();
        let mut ended = l0.kind != LineKind::Continued;
        buf.push_str(if ended { c0 } else { self.strip_marker(c0) });
        let mut j = first + 1;
        let mut empty_continuation = false;
        while !ended && j < n {
            let l = self.lines[j];
            j += 1;
            match l.kind {
                LineKind::Comment => continue,
                LineKind::Blank => {
                    empty_continuation = true;
                    continue;
                }
                LineKind::Continued => {
                    let c = self.content(&l);
                    buf.push_str(self.strip_marker(c));
                }
                LineKind::Text => {
                    buf.push_str(self.content(&l));
                    ended = true;
                }
            }
        }
        let start_line = first + 1;
        let mut last = j - 1;
        if empty_continuation {
            self.warnings.push(Diagnostic::new(
                last + 1,
                1,
                format!(
                    "Empty continuation line found in: {buf}; empty continuation lines will become errors in a future release"
                ),
            ));
        }
        let read = match self.cache.as_deref_mut() {
            Some(c) => c.node(&buf, self.escape),
            None => node_from_line(&buf, self.escape),
        };
        let node = match read {
            Ok(node) => node,
            Err(message) => {
                self.errors
                    .push(Diagnostic::new(start_line, 1, message.clone()));
                self.push(ItemKind::Invalid { message }, first, last);
                return j;
            }
        };
        let mut heredocs = Vec::new();
        if node.can_contain_heredoc() && buf.contains("<<") {
            match heredocs_from_line(&buf) {
                Err(message) => {
                    self.errors
                        .push(Diagnostic::new(start_line, 1, message.clone()));
                    self.push(ItemKind::Invalid { message }, first, last);
                    return j;
                }
                Ok(found) => {
                    for mut h in found {
                        let mut terminated = false;
                        let mut content = String::new();
                        while j < n {
                            let l = self.lines[j];
                            j += 1;
                            let raw = self.text.get(l.start..l.end).unwrap_or("");
                            let mut candidate = raw.trim_end_matches(['\r', '\n']);
                            if h.chomp {
                                candidate = candidate.trim_start_matches('\t');
                            }
                            if candidate == h.name {
                                terminated = true;
                                break;
                            }
                            content.push_str(raw);
                        }
                        last = j - 1;
                        if !terminated {
                            let message = format!(
                                "unterminated heredoc: no line `{}` closes the heredoc opened here",
                                h.name
                            );
                            self.errors
                                .push(Diagnostic::new(start_line, 1, message.clone()));
                            self.push(ItemKind::Invalid { message }, first, last);
                            return j;
                        }
                        h.content = content;
                        heredocs.push(h);
                    }
                }
            }
        }
        self.push(
            ItemKind::Instruction(Box::new(Instruction {
                node,
                original: buf,
                heredocs,
            })),
            first,
            last,
        );
        j
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The physical lines as the grammar splits and classifies them (what
    /// `physical_lines` must equal).
    fn grammar_lines(text: &str, escape: char) -> (usize, Vec<(usize, usize, usize, LineKind)>) {
        let (file_rule, line_rule) = if escape == '`' {
            (Rule::file_backtick, Rule::line_backtick)
        } else {
            (Rule::file_backslash, Rule::line_backslash)
        };
        let mut lines: Vec<(usize, usize, usize, LineKind)> = Vec::new();
        let mut bom_len = 0;
        let file = parse_rule(file_rule, text)
            .and_then(|p| p.into_iter().next())
            .expect("the grammar accepts every input");
        for pair in file.into_inner() {
            let rule = pair.as_rule();
            let span = pair.as_span();
            if rule == Rule::bom {
                bom_len = span.end();
            } else if rule == line_rule {
                let kind = match pair.into_inner().next().map(|p| p.as_rule()) {
                    Some(Rule::blank_line) => LineKind::Blank,
                    Some(Rule::comment_line) => LineKind::Comment,
                    Some(Rule::continued_backslash) | Some(Rule::continued_backtick) => {
                        LineKind::Continued
                    }
                    _ => LineKind::Text,
                };
                lines.push((span.start(), span.end(), span.end(), kind));
            } else if let (Rule::newline, Some(last)) = (rule, lines.last_mut()) {
                last.2 = span.end();
            }
        }
        (bom_len, lines)
    }

    fn scanned(text: &str, escape: char) -> (usize, Vec<(usize, usize, usize, LineKind)>) {
        let (bom, lines) = physical_lines(text, escape);
        let lines = lines
            .iter()
            .map(|l| (l.start, l.content_end, l.end, l.kind))
            .collect();
        (bom, lines)
    }

    /// Pieces that decide a line's class: escape tokens, blanks, carriage
    /// returns, Unicode white space, `#`, a BOM, newlines.
    const PIECES: &[&str] = &[
        "\\", "`", " ", "\t", "\r", "\n", "#", "a", "RUN", "\u{FEFF}", "\u{3000}", "\u{85}",
        "\u{A0}", "\u{0B}", "\u{0C}", "\u{2028}", "\u{180E}", "é", "\\\n", "`\n", " \\ \r\n",
    ];

    #[test]
    fn known_lines() {
        for (text, escape) in [
            ("RUN a \\\n  b\n", '\\'),
            ("\u{FEFF}# c\n\n  \\ \t\r\r\nx\\\\\n", '\\'),
            ("a\\\r \nb`\n\u{3000}`", '`'),
            ("", '\\'),
            ("\u{FEFF}", '`'),
        ] {
            assert_eq!(
                scanned(text, escape),
                grammar_lines(text, escape),
                "{text:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, .. ProptestConfig::default() })]
        #[test]
        fn scanner_equals_grammar(v in proptest::collection::vec(0..PIECES.len(), 0..40), tick in any::<bool>()) {
            let text: String = v.iter().map(|&k| PIECES[k]).collect();
            let escape = if tick { '`' } else { '\\' };
            prop_assert_eq!(scanned(&text, escape), grammar_lines(&text, escape));
        }
    }
}
