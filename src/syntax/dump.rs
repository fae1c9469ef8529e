//! BuildKit's AST dump (the format of the conformance suite's `result`
//! files) and Go's `strconv.Quote`.

use std::fmt::Write;
use unicode_general_category::{GeneralCategory as G, get_general_category};

use super::node::{Arg, Node};
use super::parser::{ItemKind, Parse};

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols
/// and the ASCII space.
fn is_go_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !matches!(
        get_general_category(c),
        G::Control
            | G::Format
            | G::Surrogate
            | G::PrivateUse
            | G::Unassigned
            | G::SpaceSeparator
            | G::LineSeparator
            | G::ParagraphSeparator
    )
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_go_print(c) => out.push(c),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7F => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// `Node.Dump()`.
fn dump_node(node: &Node) -> String {
    let mut s = node.keyword.to_lowercase();
    if !node.flags.is_empty() {
        let flags: Vec<String> = node.flags.iter().map(|f| go_quote(f)).collect();
        let _ = write!(s, " [{}]", flags.join(" "));
    }
    for arg in &node.args {
        match arg {
            Arg::Str(v) => {
                s.push(' ');
                s.push_str(&go_quote(v));
            }
            Arg::Sub(child) => {
                let _ = write!(s, " ({})", dump_node(child));
            }
        }
    }
    s.trim_matches(super::words::is_space).to_string()
}

/// The whole dump: one `(…)` line per instruction. `None` when the parse
/// had errors (BuildKit prints nothing then either).
pub fn dump_buildkit(parse: &Parse) -> Option<String> {
    if !parse.errors.is_empty() {
        return None;
    }
    let mut out = String::new();
    for item in &parse.items {
        if let ItemKind::Instruction(ins) = &item.kind {
            let _ = writeln!(out, "({})", dump_node(&ins.node));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::go_quote;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a\tb\\\"\u{0}"), "\"a\\tb\\\\\\\"\\x00\"");
        assert_eq!(go_quote("♥ ☃"), "\"♥ ☃\"");
        assert_eq!(go_quote("\u{A0}\u{1F600}\u{E000}"), "\"\\u00a0😀\\ue000\"");
    }
}
