//! The part of BuildKit's shell lexer (`frontend/dockerfile/shell/lex.go`)
//! that decides which words of a line are heredoc markers: word splitting
//! with quotes, escapes, `$` expansion (every variable unset, and kept as
//! written) and the `<<` rule that keeps the blanks after `<<` in its word.
//! Errors are values; there is no recursion limit problem because `${…}`
//! nesting is bounded by the line length and each level consumes input.

use unicode_general_category::{GeneralCategory, get_general_category};

use super::words::is_space;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError(pub String);

pub(crate) struct Lex {
    escape: char,
    pub raw_quotes: bool,
    pub raw_escapes: bool,
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

/// `${…}` nesting deeper than this is refused instead of recursing further
/// (Go would recurse; we must not overflow the stack on hostile input).
const MAX_DEPTH: usize = 200;

#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if is_space(ch) && self.in_word {
            if !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else if !is_space(ch) {
            self.add_raw_char(ch);
        }
    }
    fn add_raw_char(&mut self, ch: char) {
        self.word.push(ch);
        self.in_word = true;
    }
    fn add_string(&mut self, s: &str) {
        for ch in s.chars() {
            self.add_char(ch);
        }
    }
    fn add_raw_string(&mut self, s: &str) {
        self.word.push_str(s);
        self.in_word = true;
    }
    fn into_words(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(std::mem::take(&mut self.word));
        }
        self.words
    }
}

fn is_letter(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::UppercaseLetter
            | GeneralCategory::LowercaseLetter
            | GeneralCategory::TitlecaseLetter
            | GeneralCategory::ModifierLetter
            | GeneralCategory::OtherLetter
    )
}

fn is_digit(c: char) -> bool {
    get_general_category(c) == GeneralCategory::DecimalNumber
}

impl Lex {
    pub(crate) fn new(escape: char) -> Self {
        Lex {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            chars: Vec::new(),
            pos: 0,
            depth: 0,
        }
    }

    /// `ProcessWords` with an empty environment and `SkipUnsetEnv`.
    pub(crate) fn process_words(&mut self, input: &str) -> Result<Vec<String>, LexError> {
        self.chars = input.chars().collect();
        self.pos = 0;
        self.depth = 0;
        let raw = self.raw_escapes;
        self.process_stop_on(None, raw).map(|(_, words)| words)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), LexError> {
        if self.depth >= MAX_DEPTH {
            return Err(LexError("substitutions nested too deeply".into()));
        }
        self.depth += 1;
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let out = self.stop_on_inner(stop);
        self.raw_escapes = saved;
        self.depth -= 1;
        out
    }

    fn stop_on_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), LexError> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.next();
                return Ok((result, words.into_words()));
            }
            match ch {
                '$' => {
                    let tmp = self.process_dollar()?;
                    result.push_str(&tmp);
                    words.add_string(&tmp);
                }
                '<' => {
                    let tmp = self.process_possible_heredoc();
                    result.push_str(&tmp);
                    words.add_raw_string(&tmp);
                }
                '\'' => {
                    let tmp = self.process_single_quote()?;
                    result.push_str(&tmp);
                    words.add_raw_string(&tmp);
                }
                '"' => {
                    let tmp = self.process_double_quote()?;
                    result.push_str(&tmp);
                    words.add_raw_string(&tmp);
                }
                _ => {
                    let mut ch = ch;
                    self.next();
                    if ch == self.escape {
                        if self.raw_escapes {
                            words.add_raw_char(ch);
                            result.push(ch);
                        }
                        match self.next() {
                            None => break,
                            Some(c) => ch = c,
                        }
                        words.add_raw_char(ch);
                    } else {
                        words.add_char(ch);
                    }
                    result.push(ch);
                }
            }
        }
        if let Some(stop) = stop {
            return Err(LexError(format!(
                "unexpected end of statement while looking for matching {stop}"
            )));
        }
        Ok((result, words.into_words()))
    }

    fn process_single_quote(&mut self) -> Result<String, LexError> {
        let mut result = String::new();
        let open = self.next();
        if self.raw_quotes {
            result.extend(open);
        }
        loop {
            match self.next() {
                None => {
                    return Err(LexError(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    ));
                }
                Some('\'') => {
                    if self.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> Result<String, LexError> {
        let mut result = String::new();
        let open = self.next();
        if self.raw_quotes {
            result.extend(open);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(LexError(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    ));
                }
                Some('"') => {
                    self.next();
                    if self.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let value = self.process_dollar()?;
                    result.push_str(&value);
                }
                Some(_) => {
                    let mut ch = self.next().unwrap_or('\0');
                    if ch == self.escape {
                        if self.raw_escapes {
                            result.push(ch);
                        }
                        match self.peek() {
                            None => continue,
                            Some(c) if c == '"' || c == '$' || c == self.escape => {
                                self.next();
                                ch = c;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(ch);
                }
            }
        }
    }

    fn process_dollar(&mut self) -> Result<String, LexError> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(format!("${name}"));
        }
        self.next();
        match self.peek() {
            None => return Err(LexError("syntax error: missing '}'".into())),
            Some('{') | Some('}') | Some(':') => {
                return Err(LexError("syntax error: bad substitution".into()));
            }
            _ => {}
        }
        let name = self.process_name();
        let ch = self.next();
        let mut chs: String = ch.map_or("\u{FFFD}".to_string(), String::from);
        match ch {
            Some('}') => Ok(format!("${{{name}}}")),
            Some(':') | Some('+') | Some('-') | Some('?') | Some('#') | Some('%') => {
                let mut modifier = ch;
                if ch == Some(':') {
                    modifier = self.next();
                    chs.push(modifier.unwrap_or('\u{FFFD}'));
                }
                let raw = modifier == Some('#') || modifier == Some('%');
                let (word, _) = match self.process_stop_on(Some('}'), raw) {
                    Ok(v) => v,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err(LexError("syntax error: missing '}'".into()));
                        }
                        return Err(e);
                    }
                };
                // Every variable is unset and kept as written.
                Ok(format!("${{{name}{chs}{word}}}"))
            }
            Some('/') => {
                if self.peek() == Some('/') {
                    self.next();
                }
                let (pattern, _) = match self.process_stop_on(Some('/'), true) {
                    Ok(v) => v,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err(LexError("syntax error: missing '/' in ${}".into()));
                        }
                        return Err(e);
                    }
                };
                let (replacement, _) = match self.process_stop_on(Some('}'), true) {
                    Ok(v) => v,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err(LexError("syntax error: missing '}'".into()));
                        }
                        return Err(e);
                    }
                };
                Ok(format!("${{{name}/{pattern}/{replacement}}}"))
            }
            _ => Err(LexError(format!(
                "unsupported modifier ({chs}) in substitution"
            ))),
        }
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && is_digit(ch) {
                while let Some(c) = self.peek() {
                    if !is_digit(c) {
                        break;
                    }
                    self.next();
                    name.push(c);
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.next();
                return ch.to_string();
            }
            if !is_letter(ch) && !is_digit(ch) && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }

    fn process_possible_heredoc(&mut self) -> String {
        self.next();
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.next();
        let mut result = String::from("<<");
        while let Some(c) = self.peek() {
            if !matches!(c, ' ' | '\t' | '\r' | '\n') {
                break;
            }
            result.push(c);
            self.next();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_words(s: &str) -> Vec<String> {
        let mut lex = Lex::new('\\');
        lex.raw_quotes = true;
        lex.raw_escapes = true;
        lex.process_words(s).unwrap_or_default()
    }

    #[test]
    fn keeps_blanks_after_double_less_than() {
        assert_eq!(
            line_words("RUN <<  EOF  > foo"),
            ["RUN", "<<  EOF", ">", "foo"]
        );
        assert_eq!(line_words("RUN <<- EOF"), ["RUN", "<<-", "EOF"]);
    }

    #[test]
    fn keeps_quotes_escapes_and_variables() {
        assert_eq!(line_words("RUN <<'e'o\\'f"), ["RUN", "<<'e'o\\'f"]);
        assert_eq!(line_words("RUN <<$EOF"), ["RUN", "<<$EOF"]);
        assert_eq!(line_words("RUN \"<<EOF\""), ["RUN", "\"<<EOF\""]);
    }

    #[test]
    fn unbalanced_quote_is_an_error() {
        let mut lex = Lex::new('\\');
        assert!(lex.process_words("'EOF").is_err());
    }
}
