//! One logical line turned into an instruction node, as BuildKit's
//! `newNodeFromLine` and its per-instruction line parsers do it.

use pest::iterators::Pair;
use serde::Serialize;

use super::grammar::{Rule, parse_rule};
use super::shlex::Lex;
use super::words::{extract_builder_flags, parse_words, split_ws, trim_left_space, trim_space};

/// The instruction kinds BuildKit knows, plus `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Kind {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
    Unknown,
}

impl Kind {
    pub fn from_keyword(keyword: &str) -> Kind {
        match keyword.to_ascii_lowercase().as_str() {
            "add" => Kind::Add,
            "arg" => Kind::Arg,
            "cmd" => Kind::Cmd,
            "copy" => Kind::Copy,
            "entrypoint" => Kind::Entrypoint,
            "env" => Kind::Env,
            "expose" => Kind::Expose,
            "from" => Kind::From,
            "healthcheck" => Kind::Healthcheck,
            "label" => Kind::Label,
            "maintainer" => Kind::Maintainer,
            "onbuild" => Kind::Onbuild,
            "run" => Kind::Run,
            "shell" => Kind::Shell,
            "stopsignal" => Kind::Stopsignal,
            "user" => Kind::User,
            "volume" => Kind::Volume,
            "workdir" => Kind::Workdir,
            _ => Kind::Unknown,
        }
    }

    /// The canonical upper-case keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Add => "ADD",
            Kind::Arg => "ARG",
            Kind::Cmd => "CMD",
            Kind::Copy => "COPY",
            Kind::Entrypoint => "ENTRYPOINT",
            Kind::Env => "ENV",
            Kind::Expose => "EXPOSE",
            Kind::From => "FROM",
            Kind::Healthcheck => "HEALTHCHECK",
            Kind::Label => "LABEL",
            Kind::Maintainer => "MAINTAINER",
            Kind::Onbuild => "ONBUILD",
            Kind::Run => "RUN",
            Kind::Shell => "SHELL",
            Kind::Stopsignal => "STOPSIGNAL",
            Kind::User => "USER",
            Kind::Volume => "VOLUME",
            Kind::Workdir => "WORKDIR",
            Kind::Unknown => "UNKNOWN",
        }
    }
}

/// One argument of a node: a string, or (under `ONBUILD`) a nested
/// instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    Str(String),
    Sub(Box<Node>),
}

/// An instruction as BuildKit's parser sees it: keyword as written, builder
/// flags (quotes removed), and arguments in BuildKit's shapes (see
/// FORMAT.md: whitespace-split for FROM/EXPOSE, one string for shell form,
/// key/value/separator triples for ENV and LABEL, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub keyword: String,
    pub kind: Kind,
    pub flags: Vec<String>,
    pub args: Vec<Arg>,
    /// Arguments were given as a JSON array (exec form).
    pub json: bool,
}

/// A heredoc attached to an instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heredoc {
    pub name: String,
    pub file_descriptor: u64,
    pub expand: bool,
    pub chomp: bool,
    /// The body exactly as read (line endings kept, tabs not stripped).
    pub content: String,
}

impl Node {
    /// The string arguments (nested nodes skipped).
    pub fn str_args(&self) -> impl Iterator<Item = &str> {
        self.args.iter().filter_map(|a| match a {
            Arg::Str(s) => Some(s.as_str()),
            Arg::Sub(_) => None,
        })
    }

    /// The node heredocs can belong to: itself, or the instruction wrapped
    /// by `ONBUILD`.
    pub(crate) fn can_contain_heredoc(&self) -> bool {
        let node = match (self.kind, self.args.first()) {
            (Kind::Onbuild, Some(Arg::Sub(child))) => child.as_ref(),
            _ => self,
        };
        matches!(node.kind, Kind::Add | Kind::Copy | Kind::Run) && !node.json
    }
}

/// BuildKit's `newNodeFromLine`.
pub(crate) fn node_from_line(line: &str, escape: char) -> Result<Node, String> {
    let (keyword, flags, rest) = split_command(line, escape);
    let kind = Kind::from_keyword(&keyword);
    let (args, json) = match kind {
        Kind::Add | Kind::Copy | Kind::Volume => parse_maybe_json_to_list(&rest)?,
        Kind::Arg => (strs(parse_words(&rest, escape)), false),
        Kind::Cmd | Kind::Entrypoint | Kind::Run | Kind::Shell => parse_maybe_json(&rest)?,
        Kind::Env => (parse_name_val(&rest, "ENV", escape)?, false),
        Kind::Label => (parse_name_val(&rest, "LABEL", escape)?, false),
        Kind::Expose | Kind::From => (whitespace_list(&rest), false),
        Kind::Healthcheck => parse_health_config(&rest)?,
        Kind::Maintainer | Kind::Stopsignal | Kind::User | Kind::Workdir => {
            if rest.is_empty() {
                (Vec::new(), false)
            } else {
                (vec![Arg::Str(rest)], false)
            }
        }
        Kind::Onbuild => {
            if rest.is_empty() {
                (Vec::new(), false)
            } else {
                let child = node_from_line(&rest, escape)?;
                (vec![Arg::Sub(Box::new(child))], false)
            }
        }
        Kind::Unknown => (vec![Arg::Str(String::new())], false),
    };
    Ok(Node {
        keyword,
        kind,
        flags,
        args,
        json,
    })
}

fn strs(v: Vec<String>) -> Vec<Arg> {
    v.into_iter().map(Arg::Str).collect()
}

/// BuildKit's `splitCommand`: keyword, builder flags, and the trimmed rest.
fn split_command(line: &str, escape: char) -> (String, Vec<String>, String) {
    let trimmed = trim_space(line);
    let mut keyword = trimmed.to_string();
    let mut rest_raw: Option<&str> = None;
    if let Some(pairs) = parse_rule(Rule::command_line, trimmed) {
        for pair in pairs.flatten() {
            match pair.as_rule() {
                Rule::keyword => keyword = pair.as_str().to_string(),
                Rule::keyword_rest => rest_raw = Some(pair.as_str()),
                _ => {}
            }
        }
    }
    match rest_raw {
        Some(rest) => {
            let (args, flags) = extract_builder_flags(rest, escape);
            (keyword, flags, trim_space(&args).to_string())
        }
        None => (keyword, Vec::new(), String::new()),
    }
}

fn whitespace_list(rest: &str) -> Vec<Arg> {
    if rest.is_empty() {
        return Vec::new();
    }
    split_ws(rest, None)
        .into_iter()
        .map(|s| Arg::Str(s.to_string()))
        .collect()
}

const NOT_STRING_ARRAY: &str = "JSON arguments must be an array of strings; mixed or nested values are not allowed (BuildKit rejects them too)";

enum Json {
    Strings(Vec<String>),
    NotStringArray,
    Invalid,
}

/// Go nests at most 10,000 levels; deeper input is invalid JSON there.
const GO_JSON_MAX_DEPTH: usize = 10_000;

fn json_depth(s: &str) -> usize {
    let (mut depth, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for c in s.chars() {
        if in_str {
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// BuildKit's `parseJSON`, with Go's `json.Unmarshal` into `[]interface{}`.
fn parse_json(rest: &str) -> Json {
    let rest = trim_left_space(rest);
    if !rest.starts_with('[') {
        return Json::Invalid;
    }
    let depth = json_depth(rest);
    if depth > GO_JSON_MAX_DEPTH {
        return Json::Invalid;
    }
    if depth > DEEP_JSON {
        // Too deep for the recursive grammar. Nested means "not an array of
        // strings" whenever it is valid JSON at all.
        return if deep_json_is_valid(rest) {
            Json::NotStringArray
        } else {
            Json::Invalid
        };
    }
    let Some(pairs) = parse_rule(Rule::json_args, rest) else {
        return Json::Invalid;
    };
    let Some(array) = pairs.flatten().find(|p| p.as_rule() == Rule::json_array) else {
        return Json::Invalid;
    };
    // Go reports a number that does not fit a float64 as an error, which
    // BuildKit treats like malformed JSON.
    if array
        .clone()
        .into_inner()
        .flatten()
        .any(|p| p.as_rule() == Rule::json_number && !number_fits(p.as_str()))
    {
        return Json::Invalid;
    }
    let mut out = Vec::new();
    for value in array.into_inner() {
        match string_value(value) {
            Some(s) => out.push(s),
            None => return Json::NotStringArray,
        }
    }
    Json::Strings(out)
}

/// Past this depth the iterative checker below is used instead of the grammar.
const DEEP_JSON: usize = 500;

/// An iterative JSON validity check (no recursion, any depth), for the
/// rare deeply nested argument.
fn deep_json_is_valid(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut stack: Vec<u8> = Vec::new();
    let ws = |b: &[u8], mut i: usize| {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        i
    };
    // States: expecting a value; after a value.
    let mut expect_value = true;
    let mut first_in_container = false;
    i = ws(b, i);
    loop {
        if expect_value {
            i = ws(b, i);
            if i >= b.len() {
                return false;
            }
            match b[i] {
                b'[' | b'{' => {
                    stack.push(b[i]);
                    i += 1;
                    first_in_container = true;
                    if b[i - 1] == b'{' {
                        // Keys: a string then ':'.
                        i = ws(b, i);
                        if i < b.len() && b[i] == b'}' {
                            stack.pop();
                            i += 1;
                            expect_value = false;
                            continue;
                        }
                        let Some(n) = skip_string(b, i) else {
                            return false;
                        };
                        i = ws(b, n);
                        if i >= b.len() || b[i] != b':' {
                            return false;
                        }
                        i += 1;
                    }
                    continue;
                }
                b']' if first_in_container && stack.last() == Some(&b'[') => {
                    stack.pop();
                    i += 1;
                    expect_value = false;
                    first_in_container = false;
                    continue;
                }
                b'"' => match skip_string(b, i) {
                    Some(n) => i = n,
                    None => return false,
                },
                _ => {
                    let start = i;
                    while i < b.len()
                        && !matches!(b[i], b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n')
                    {
                        i += 1;
                    }
                    let tok = &s[start..i];
                    let is_lit = matches!(tok, "true" | "false" | "null");
                    let is_num = parse_rule(Rule::json_number, tok)
                        .is_some_and(|p| p.as_str() == tok)
                        && number_fits(tok);
                    if !is_lit && !is_num {
                        return false;
                    }
                }
            }
            expect_value = false;
            first_in_container = false;
        } else {
            i = ws(b, i);
            let Some(&top) = stack.last() else {
                return i == b.len();
            };
            if i >= b.len() {
                return false;
            }
            match (top, b[i]) {
                (b'[', b']') | (b'{', b'}') => {
                    stack.pop();
                    i += 1;
                }
                (b'[', b',') => {
                    i += 1;
                    expect_value = true;
                }
                (b'{', b',') => {
                    i = ws(b, i + 1);
                    let Some(n) = skip_string(b, i) else {
                        return false;
                    };
                    i = ws(b, n);
                    if i >= b.len() || b[i] != b':' {
                        return false;
                    }
                    i += 1;
                    expect_value = true;
                }
                _ => return false,
            }
        }
    }
}

/// Skips a JSON string starting at `i` (which must be `"`); returns the
/// index after it.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    i += 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => match b.get(i + 1)? {
                b'u' => {
                    let hex = b.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    i += 6;
                }
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                _ => return None,
            },
            c if c < 0x20 => return None,
            _ => i += 1,
        }
    }
    None
}

fn number_fits(s: &str) -> bool {
    s.parse::<f64>().is_ok_and(f64::is_finite)
}

fn string_value(value: Pair<'_, Rule>) -> Option<String> {
    let inner = value.into_inner().next()?;
    if inner.as_rule() != Rule::json_string {
        return None;
    }
    Some(decode_json_string(inner.as_str()))
}

/// Decodes a JSON string literal (quotes included) the way Go does: lone
/// surrogates become U+FFFD instead of failing.
fn decode_json_string(lit: &str) -> String {
    let body = lit
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(lit);
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{08}'),
            Some('f') => out.push('\u{0C}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hi = read_hex4(&mut chars);
                if (0xD800..0xDC00).contains(&hi) {
                    let mut look = chars.clone();
                    if look.next() == Some('\\') && look.next() == Some('u') {
                        let lo = read_hex4(&mut look);
                        if (0xDC00..0xE000).contains(&lo) {
                            chars = look;
                            let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                            continue;
                        }
                    }
                    out.push('\u{FFFD}');
                } else {
                    out.push(char::from_u32(hi).unwrap_or('\u{FFFD}'));
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn read_hex4(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> u32 {
    let mut v = 0;
    for _ in 0..4 {
        let d = chars.next().and_then(|c| c.to_digit(16)).unwrap_or(0);
        v = v * 16 + d;
    }
    v
}

/// BuildKit's `parseMaybeJSON` (RUN, CMD, ENTRYPOINT, SHELL).
fn parse_maybe_json(rest: &str) -> Result<(Vec<Arg>, bool), String> {
    if rest.is_empty() {
        return Ok((Vec::new(), false));
    }
    match parse_json(rest) {
        Json::Strings(v) => Ok((strs(v), true)),
        Json::NotStringArray => Err(NOT_STRING_ARRAY.into()),
        Json::Invalid => Ok((vec![Arg::Str(rest.to_string())], false)),
    }
}

/// BuildKit's `parseMaybeJSONToList` (ADD, COPY, VOLUME).
fn parse_maybe_json_to_list(rest: &str) -> Result<(Vec<Arg>, bool), String> {
    match parse_json(rest) {
        Json::Strings(v) => Ok((strs(v), true)),
        Json::NotStringArray => Err(NOT_STRING_ARRAY.into()),
        Json::Invalid => Ok((whitespace_list(rest), false)),
    }
}

/// BuildKit's `parseNameVal` (ENV, LABEL): `k=v k2=v2` or legacy `k the rest`,
/// as key/value/separator triples.
fn parse_name_val(rest: &str, key: &str, escape: char) -> Result<Vec<Arg>, String> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Ok(Vec::new());
    };
    if !first.contains('=') {
        let parts = split_ws(rest, Some(2));
        if parts.len() < 2 {
            return Err(format!(
                "{key} must have two arguments (`{key} name=value`; `{key} {}` has no value)",
                parts.first().copied().unwrap_or("")
            ));
        }
        return Ok(strs(vec![
            parts[0].to_string(),
            parts[1].to_string(),
            String::new(),
        ]));
    }
    let mut out = Vec::new();
    for word in &words {
        let Some((k, v)) = word.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                super::dump::go_quote(word)
            ));
        };
        out.extend(strs(vec![k.to_string(), v.to_string(), "=".to_string()]));
    }
    Ok(out)
}

/// BuildKit's `parseHealthConfig`: the type word as written, then the rest
/// like CMD.
fn parse_health_config(rest: &str) -> Result<(Vec<Arg>, bool), String> {
    let bytes = rest.as_bytes();
    let is_sp = |b: u8| matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' | 0x85 | 0xA0);
    let sep = bytes.iter().position(|&b| is_sp(b)).unwrap_or(bytes.len());
    if sep == 0 {
        return Ok((Vec::new(), false));
    }
    let next = bytes[sep..]
        .iter()
        .position(|&b| !is_sp(b))
        .map_or(bytes.len(), |p| sep + p);
    let typ = String::from_utf8_lossy(&bytes[..sep]).into_owned();
    let cmd = String::from_utf8_lossy(&bytes[next..]).into_owned();
    let (mut args, json) = parse_maybe_json(&cmd)?;
    args.insert(0, Arg::Str(typ));
    Ok((args, json))
}

/// BuildKit's `heredocsFromLine` and `ParseHeredoc`: the heredoc markers of
/// a logical line, in order. An error here is a parse error (for example an
/// unbalanced quote inside a heredoc name).
pub(crate) fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, String> {
    let mut lex = Lex::new('\\');
    lex.raw_quotes = true;
    lex.raw_escapes = true;
    let words = lex.process_words(line).unwrap_or_default();
    let mut out = Vec::new();
    for word in words {
        if let Some(h) = parse_heredoc(&word)? {
            out.push(h);
        }
    }
    Ok(out)
}

pub(crate) fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, String> {
    let Some(pairs) = parse_rule(Rule::heredoc_word, word) else {
        return Ok(None);
    };
    let (mut fd, mut chomp, mut rest) = ("", false, "");
    for p in pairs.flatten() {
        match p.as_rule() {
            Rule::heredoc_fd => fd = p.as_str(),
            Rule::heredoc_chomp => chomp = p.as_str() == "-",
            Rule::heredoc_name => rest = p.as_str(),
            _ => {}
        }
    }
    if rest.is_empty() {
        return Ok(None);
    }
    let file_descriptor = if fd.is_empty() {
        0
    } else {
        fd.parse::<u64>().unwrap_or(u64::MAX)
    };
    let mut lex = Lex::new('\\');
    let words = lex.process_words(rest).map_err(|e| e.0)?;
    if words.len() != 1 {
        return Ok(None);
    }
    lex.raw_quotes = true;
    let raw = lex.process_words(rest).map_err(|e| e.0)?;
    if raw.len() != words.len() {
        return Err(format!(
            "internal lexing of heredoc produced inconsistent results: {rest}"
        ));
    }
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    Ok(Some(Heredoc {
        name: words[0].clone(),
        file_descriptor,
        expand: quotes(&words[0]) == quotes(&raw[0]),
        chomp,
        content: String::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heredoc_words() {
        for w in [
            "<<EOF",
            "<<'EOF'",
            "<<\"EOF\"",
            "<<-EOF",
            "<<EO\"F\"",
            "<< EOF",
            "<<- EOF",
        ] {
            let h = parse_heredoc(w).unwrap().unwrap();
            assert_eq!(h.name, "EOF", "{w}");
        }
        for w in ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"] {
            assert_eq!(parse_heredoc(w).unwrap(), None, "{w}");
        }
        for w in ["<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""] {
            assert!(parse_heredoc(w).is_err(), "{w}");
        }
    }

    #[test]
    fn json_forms() {
        assert!(matches!(parse_json("[\"a\", 1]"), Json::NotStringArray));
        assert!(matches!(parse_json("[\"a\""), Json::Invalid));
        assert!(matches!(parse_json("[1e999]"), Json::Invalid));
        assert!(
            matches!(parse_json("\t[\t\"a\",\t\"b\"\t]\t"), Json::Strings(v) if v == ["a", "b"])
        );
        assert_eq!(decode_json_string("\"\\ud800x\""), "\u{FFFD}x");
        for (text, valid) in [
            ("[[\"a\", {\"k\": [1, 2e3, null]}], true]", true),
            ("[[], {}]", true),
            ("[[\"a\",]]", false),
            ("[{\"k\" 1}]", false),
            ("[[1] x", false),
            ("[01]", false),
        ] {
            assert_eq!(deep_json_is_valid(text), valid, "{text}");
            let pest = parse_rule(Rule::json_args, text).is_some();
            assert_eq!(pest, valid, "grammar disagrees on {text}");
        }
    }
}
