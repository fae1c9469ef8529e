//! BuildKit's small word splitters, ported rule for rule: the quote-aware
//! `parseWords` (ARG, and the ENV/LABEL form check), the byte-wise builder
//! flag extractor, and the `[\t\v\f\r ]+` splitter.

/// Go's `unicode.IsSpace`.
pub(crate) fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    ) || (c as u32 > 0xFF && c.is_whitespace())
}

/// Go's `unicode.IsSpace(rune(b))` for a single byte (Go's flag parser
/// looks at bytes, so 0x85 and 0xA0 count as spaces there).
fn is_space_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' | 0x85 | 0xA0)
}

/// Go's `strings.TrimSpace`.
pub(crate) fn trim_space(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`.
pub(crate) fn trim_left_space(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

fn is_ws_sep(c: char) -> bool {
    matches!(c, '\t' | '\u{0B}' | '\u{0C}' | '\r' | ' ')
}

/// Go's `regexp.MustCompile("[\t\v\f\r ]+").Split(s, n)` with `n == -1`
/// (all pieces) or `n == 2`.
pub(crate) fn split_ws(s: &str, limit: Option<usize>) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        if limit.is_some_and(|n| out.len() + 1 == n) {
            out.push(rest);
            return out;
        }
        match rest.find(is_ws_sep) {
            Some(i) => {
                out.push(&rest[..i]);
                let after = &rest[i..];
                let skip = after.len() - after.trim_start_matches(is_ws_sep).len();
                rest = &after[skip..];
            }
            None => {
                out.push(rest);
                return out;
            }
        }
    }
}

/// BuildKit's `parseWords`: split on whitespace outside quotes; quotes and
/// escape characters stay in the words.
pub(crate) fn parse_words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut pos = 0;
    while pos <= chars.len() {
        let at_end = pos == chars.len();
        let mut ch = if at_end { '\0' } else { chars[pos] };
        if phase == Phase::Spaces {
            if at_end {
                break;
            }
            if is_space(ch) {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if at_end {
            if blank_ok || !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            break;
        }
        if phase == Phase::Word {
            if is_space(ch) {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if pos + 1 == chars.len() {
                    pos += 1;
                    continue;
                }
                word.push(ch);
                pos += 1;
                ch = chars[pos];
            }
            word.push(ch);
            pos += 1;
            continue;
        }
        // Phase::Quote
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if pos + 1 == chars.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            word.push(ch);
            ch = chars[pos];
        }
        word.push(ch);
        pos += 1;
    }
    words
}

/// BuildKit's `extractBuilderFlags`: leading `--words` are flags (quotes
/// removed, escapes resolved); a bare `--` ends them. Returns the rest of the
/// line and the flags. Like Go, it walks bytes, so a non-ASCII byte inside
/// a flag becomes the Latin-1 character of that byte.
pub(crate) fn extract_builder_flags(line: &str, escape: char) -> (String, Vec<String>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let bytes = line.as_bytes();
    let esc = escape as u32;
    let rest_from = |pos: usize| String::from_utf8_lossy(&bytes[pos..]).into_owned();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = 0u8;
    let mut blank_ok = false;
    let mut pos = 0;
    while pos <= bytes.len() {
        let at_end = pos == bytes.len();
        let mut ch = if at_end { 0 } else { bytes[pos] };
        if phase == Phase::Spaces {
            if at_end {
                break;
            }
            if is_space_byte(ch) {
                pos += 1;
                continue;
            }
            if ch != b'-' || pos + 1 == bytes.len() || bytes[pos + 1] != b'-' {
                return (rest_from(pos), words);
            }
            phase = Phase::Word;
        }
        if at_end {
            if word != "--" && (blank_ok || !word.is_empty()) {
                words.push(word);
            }
            break;
        }
        if phase == Phase::Word {
            if is_space_byte(ch) {
                phase = Phase::Spaces;
                if word == "--" {
                    return (rest_from(pos), words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == b'\'' || ch == b'"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            if u32::from(ch) == esc {
                if pos + 1 == bytes.len() {
                    pos += 1;
                    continue;
                }
                pos += 1;
                ch = bytes[pos];
            }
            word.push(char::from(ch));
            pos += 1;
            continue;
        }
        // Phase::Quote
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        if u32::from(ch) == esc {
            if pos + 1 == bytes.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            ch = bytes[pos];
        }
        word.push(char::from(ch));
        pos += 1;
    }
    (String::new(), words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_words_keeps_quotes_and_escapes() {
        assert_eq!(
            parse_words("foo bar 'abc xyz'", '\\'),
            ["foo", "bar", "'abc xyz'"]
        );
        assert_eq!(parse_words("foo\\ bar", '\\'), ["foo\\ bar"]);
        assert_eq!(
            parse_words("abc=\"123 456\" def", '\\'),
            ["abc=\"123 456\"", "def"]
        );
    }

    #[test]
    fn flags_stop_at_double_dash_and_resolve_quotes() {
        let (rest, flags) = extract_builder_flags("--x=\"a b\" -- foo", '\\');
        assert_eq!(flags, ["--x=a b"]);
        assert_eq!(rest.trim(), "foo");
        let (rest, flags) = extract_builder_flags("--doit -- [ ]", '\\');
        assert_eq!(flags, ["--doit"]);
        assert_eq!(rest.trim(), "[ ]");
    }

    #[test]
    fn split_ws_limits() {
        assert_eq!(split_ws("a  b\tc", None), ["a", "b", "c"]);
        assert_eq!(split_ws("a  b\tc", Some(2)), ["a", "b\tc"]);
        assert_eq!(split_ws("a", Some(2)), ["a"]);
    }
}
