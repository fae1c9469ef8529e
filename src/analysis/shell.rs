//! Splits the shell text of a `RUN` into simple commands.
//!
//! Understood: words with single and double quotes and backslash escapes,
//! `&&`, `||`, `;`, `|`, `&` between commands, `VAR=value cmd` prefixes,
//! redirections (`>`, `>>`, `<`, `2>`, `2>&1`, `&>`, `>/dev/null`), and
//! `cd DIR` (which changes the directory of the commands after it).
//! Anything else — subshells, groups, loops, conditionals, `$(…)`,
//! backquotes, `eval`, heredocs, globs in paths — makes the whole `RUN`
//! [`Split::Opaque`]: the analysis then assumes it reads and writes
//! everything.

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// `VAR=value` assignments before the command name.
    pub assignments: Vec<(String, String)>,
    /// The command name and its arguments, unquoted.
    pub argv: Vec<String>,
    /// Files written by redirection (`> f`, `>> f`).
    pub redirect_writes: Vec<String>,
    /// Files read by redirection (`< f`).
    pub redirect_reads: Vec<String>,
    /// The directory the command runs in, relative to the RUN's working
    /// directory (`None` for the working directory itself), after any
    /// earlier `cd` in the same RUN.
    pub cd: Option<String>,
    /// The operator that connects this command to the previous one.
    pub joined_by: Option<Op>,
    /// Arguments the command also takes from a file's words
    /// ([`ListFile`]): `xargs -a FILE CMD…`, `CMD … $(cat FILE)`.
    pub list_file: Option<ListFile>,
}

impl SimpleCommand {
    /// Its words alone: no assignment, redirection or list file.
    fn is_plain(&self) -> bool {
        self.assignments.is_empty()
            && self.redirect_reads.is_empty()
            && self.redirect_writes.is_empty()
            && self.list_file.is_none()
    }
}

/// A file whose words become arguments of a command, in one of the
/// spellings that pass each word unchanged but for comment lines:
/// `xargs -a FILE CMD…`, `xargs CMD… < FILE`, `< FILE xargs CMD…`,
/// `cat FILE | xargs CMD…` (`-r` allowed), and an unquoted argument
/// `$(cat FILE)`, `$(grep -v '^#' FILE)`, `$(cat FILE | tr '\n' ' ')`.
/// The `xargs` is dropped from the command's `argv` (it runs the rest),
/// the substitution from its arguments. The words are only known from
/// the file's content, so whoever takes this must check it: xargs
/// processes quotes and backslashes, the shell expands globs in an
/// unquoted substitution, and neither drops a `#` comment unless
/// `grep -v '^#'` does (`comments_stripped`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFile {
    /// The file, as written (relative to where the command runs).
    pub path: String,
    /// Which comment lines are dropped.
    pub comments_stripped: Comments,
    /// The argument the words follow (the command's last before them), if
    /// any: an option there that takes a value takes the first word.
    pub before: Option<String>,
}

/// The lines of a package list a spelling drops before its words are
/// taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comments {
    /// None: a `#` line's words are arguments (`xargs -a`, `$(cat FILE)`).
    Kept,
    /// Lines whose first character is `#` (`grep -v '^#'`).
    AtLineStart,
    /// Lines whose first character after spaces, tabs, carriage returns,
    /// vertical tabs or form feeds is `#`, and blank ones (`grep -vE
    /// '^\s*(#|$)'`: GNU grep's `\s` is `[[:space:]]`).
    AfterSpaces,
}

impl Comments {
    /// Whether the spelling drops `line` (without its `\n`).
    pub fn drops(self, line: &str) -> bool {
        match self {
            Comments::Kept => false,
            Comments::AtLineStart => line.starts_with('#'),
            Comments::AfterSpaces => {
                let rest = line.trim_start_matches([' ', '\t', '\r', '\x0b', '\x0c']);
                rest.is_empty() || rest.starts_with('#')
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    And,
    Or,
    Seq,
    Pipe,
    Background,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    Commands(Vec<SimpleCommand>),
    /// The splitter could not follow the text; the reason is for the user.
    Opaque(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word {
        text: String,
        has_dollar: bool,
        has_glob: bool,
    },
    Op(Op),
    RedirOut(Option<String>),
    RedirIn(Option<String>),
    /// A redirection to a file descriptor (`2>&1`), which touches no file.
    RedirFd,
    /// An unquoted `$(cat FILE)` and the like ([`list_substitution`]).
    List(ListFile),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // An unquoted `$(cat FILE)` and the like: worked out once.
        if c == '$'
            && chars.get(i + 1) == Some(&'(')
            && let Some((list, next)) = list_substitution(&chars, i)
        {
            toks.push(Tok::List(list));
            i = next;
            continue;
        }
        match c {
            ' ' | '\t' | '\r' => {
                i += 1;
            }
            // A line continuation (in a heredoc script) joins the lines.
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                i += 2;
            }
            '\n' => {
                toks.push(Tok::Op(Op::Seq));
                i += 1;
            }
            '&' if chars.get(i + 1) == Some(&'&') => {
                toks.push(Tok::Op(Op::And));
                i += 2;
            }
            '&' if chars.get(i + 1) == Some(&'>') => {
                // &> file : stdout and stderr to a file
                i += 2;
                if chars.get(i) == Some(&'>') {
                    i += 1;
                }
                toks.push(Tok::RedirOut(None));
            }
            '&' => {
                toks.push(Tok::Op(Op::Background));
                i += 1;
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                toks.push(Tok::Op(Op::Or));
                i += 2;
            }
            '|' => {
                toks.push(Tok::Op(Op::Pipe));
                i += 1;
            }
            ';' => {
                if chars.get(i + 1) == Some(&';') {
                    return Err("`;;` (case) is not followed".into());
                }
                toks.push(Tok::Op(Op::Seq));
                i += 1;
            }
            '>' | '<' => {
                let out = c == '>';
                i += 1;
                if out && chars.get(i) == Some(&'>') {
                    i += 1;
                }
                if chars.get(i) == Some(&'&') {
                    // >&2 or <&0
                    i += 1;
                    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '-') {
                        i += 1;
                    }
                    toks.push(Tok::RedirFd);
                    continue;
                }
                if chars.get(i) == Some(&'(') {
                    return Err("process substitution is not followed".into());
                }
                if !out && chars.get(i) == Some(&'<') {
                    return Err("heredocs and here-strings in RUN are not followed".into());
                }
                toks.push(if out {
                    Tok::RedirOut(None)
                } else {
                    Tok::RedirIn(None)
                });
            }
            '(' | ')' | '{' | '}' if word_boundary(&chars, i) => {
                return Err(format!("`{c}` (subshell or group) is not followed"));
            }
            '`' if pure_substitution(&chars, i).is_none() => {
                return Err("backquote command substitution is not followed".into());
            }
            '#' if i == 0
                || chars[i - 1].is_whitespace()
                || matches!(chars[i - 1], ';' | '&' | '|') =>
            {
                // A shell comment runs to the end of the line.
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            _ => {
                // A word; digits directly before a redirection are an fd.
                let (word, next) = read_word(&chars, i)?;
                let is_fd = word.0.chars().all(|c| c.is_ascii_digit())
                    && matches!(chars.get(next), Some('>') | Some('<'));
                if !is_fd {
                    toks.push(Tok::Word {
                        text: word.0,
                        has_dollar: word.1,
                        has_glob: word.2,
                    });
                }
                i = next;
            }
        }
    }
    // Attach redirection targets.
    let mut out: Vec<Tok> = Vec::new();
    let mut it = toks.into_iter().peekable();
    while let Some(t) = it.next() {
        match t {
            Tok::RedirOut(None) | Tok::RedirIn(None) => {
                let target = match it.next() {
                    Some(Tok::Word {
                        text,
                        has_dollar: false,
                        has_glob: false,
                    }) => text,
                    _ => return Err("a redirection without a plain file name".into()),
                };
                out.push(if matches!(t, Tok::RedirOut(_)) {
                    Tok::RedirOut(Some(target))
                } else {
                    Tok::RedirIn(Some(target))
                });
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// A command substitution at `chars[i]` that is a whole word and gives
/// the words of one file ([`ListFile`]): `$(cat FILE)`, `$(grep -v '^#'
/// FILE)`, `$(cat FILE | tr '\n' ' ')`, and the index after
/// it. The file must be a plain name (no variable, glob or quote).
fn list_substitution(chars: &[char], i: usize) -> Option<(ListFile, usize)> {
    // The first `)` outside single quotes closes it (`$(grep -vE
    // '^\s*(#|$)' FILE)`); outside them, nothing the split below would
    // not see as one simple command.
    let mut quoted = false;
    let mut close = None;
    for (k, &c) in chars.iter().enumerate().skip(i + 2) {
        match c {
            '\'' => quoted = !quoted,
            ')' if !quoted => {
                close = Some(k);
                break;
            }
            '(' | '$' | '`' | '<' | '>' | ';' | '&' if !quoted => return None,
            '\n' => return None,
            _ => {}
        }
    }
    let close = close?;
    let inner: String = chars[i + 2..close].iter().collect();
    // A word of its own: what follows ends it.
    if chars
        .get(close + 1)
        .is_some_and(|c| !matches!(c, ' ' | '\t' | '\n' | ';' | '&' | '|'))
    {
        return None;
    }
    let Split::Commands(cmds) = split(&inner) else {
        return None;
    };
    let file = |w: &str| {
        !w.is_empty()
            && !w.starts_with('-')
            && !w.contains(['*', '?', '[', '\'', '"', '\\', '~', '{', '}'])
    };
    fn words(c: &SimpleCommand) -> Vec<&str> {
        c.argv.iter().map(String::as_str).collect()
    }
    if !cmds.iter().all(SimpleCommand::is_plain) {
        return None;
    }
    // The words as the programs get them (`'^#'` and `^#` alike).
    let (path, comments_stripped) = match cmds.as_slice() {
        [c] => match words(c).as_slice() {
            ["cat", f] if file(f) => (f.to_string(), Comments::Kept),
            ["grep", "-v", "^#", f] if file(f) => (f.to_string(), Comments::AtLineStart),
            [
                "grep",
                "-vE" | "-Ev",
                "^\\s*(#|$)" | "^[[:space:]]*(#|$)",
                f,
            ]
            | ["grep", "-v", "-E", "^\\s*(#|$)" | "^[[:space:]]*(#|$)", f]
                if file(f) =>
            {
                (f.to_string(), Comments::AfterSpaces)
            }
            _ => return None,
        },
        [c, t] if t.joined_by == Some(Op::Pipe) => match (words(c).as_slice(), words(t).as_slice())
        {
            (["cat", f], ["tr", "\\n", " "]) if file(f) => (f.to_string(), Comments::Kept),
            _ => return None,
        },
        _ => return None,
    };
    Some((
        ListFile {
            path,
            comments_stripped,
            before: None,
        },
        close + 1,
    ))
}

/// `xargs` running a command on the words of a file ([`ListFile`]): the
/// file from `-a FILE`/`--arg-file=FILE`, from its one input
/// redirection, or from `cat FILE` piped into it; `-r`
/// (`--no-run-if-empty`) is the only other option taken. The command it
/// runs replaces it (the file's read is the list's); anything else is
/// left as it is (an `xargs` the knowledge base does not know).
fn xargs_lists(cmds: &mut [SimpleCommand]) {
    for n in 0..cmds.len() {
        let c = &cmds[n];
        if c.argv.first().map(String::as_str) != Some("xargs") || c.list_file.is_some() {
            continue;
        }
        let mut arg_file: Option<String> = None;
        let mut k = 1;
        let mut ok = true;
        while let Some(a) = c.argv.get(k) {
            match a.as_str() {
                "-r" | "--no-run-if-empty" => k += 1,
                "-a" | "--arg-file" if arg_file.is_none() => {
                    arg_file = c.argv.get(k + 1).cloned();
                    ok &= arg_file.is_some();
                    k += 2;
                }
                _ if a.starts_with("--arg-file=") && arg_file.is_none() => {
                    arg_file = Some(a["--arg-file=".len()..].to_string());
                    k += 1;
                }
                _ if a.starts_with("-a") && a.len() > 2 && arg_file.is_none() => {
                    arg_file = Some(a[2..].to_string());
                    k += 1;
                }
                "--" => {
                    k += 1;
                    break;
                }
                _ if a.starts_with('-') => {
                    ok = false;
                    break;
                }
                _ => break,
            }
        }
        if !ok || !package_install(&c.argv[k..]) {
            continue;
        }
        let piped = |cmds: &[SimpleCommand]| -> Option<String> {
            let prev = cmds.get(n.checked_sub(1)?)?;
            match prev.argv.as_slice() {
                [cat, f] if cat == "cat" && prev.is_plain() && !f.starts_with('-') => {
                    Some(f.clone())
                }
                _ => None,
            }
        };
        let source = match (&arg_file, c.redirect_reads.as_slice(), c.joined_by) {
            (Some(f), [], _) => Some(f.clone()),
            (None, [f], _) => Some(f.clone()),
            (None, [], Some(Op::Pipe)) => piped(cmds),
            _ => None,
        };
        let Some(path) = source.filter(|f| !f.is_empty()) else {
            continue;
        };
        let c = &mut cmds[n];
        c.argv.drain(0..k);
        c.redirect_reads.clear();
        c.list_file = Some(ListFile {
            path,
            comments_stripped: Comments::Kept,
            before: c.argv.last().cloned(),
        });
    }
}

/// Whether `argv` installs packages by name (`apt-get`/`apt install`,
/// `apk add`, the subcommand first after the name's options): the only
/// commands given a [`ListFile`]. The knowledge base checks the rest.
fn package_install(argv: &[String]) -> bool {
    let Some(name) = argv.first().map(|a| a.rsplit('/').next().unwrap_or(a)) else {
        return false;
    };
    let sub = argv[1..]
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str);
    matches!(
        (name, sub),
        ("apt-get" | "apt", Some("install")) | ("apk", Some("add"))
    )
}

fn word_boundary(chars: &[char], i: usize) -> bool {
    // `{` inside a word (like `${X}` or `a{b,c}`) is handled by read_word.
    i == 0 || chars[i - 1].is_whitespace() || matches!(chars[i - 1], ';' | '&' | '|' | '(' | ')')
}

/// Reads one word starting at `i`: (unquoted text, contains `$`, contains
/// an unquoted glob character), and the index after it.
fn read_word(chars: &[char], mut i: usize) -> Result<((String, bool, bool), usize), String> {
    let mut out = String::new();
    let mut dollar = false;
    let mut glob = false;
    // Each quoted part and each escaped character is a segment of its
    // own; `dseg` is the segment of the last `$` (see `push`).
    let (mut seg, mut dseg) = (0usize, None);
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' => break,
            '(' | ')' => return Err(format!("`{c}` inside a word is not followed")),
            '`' if pure_substitution(chars, i).is_none() => {
                return Err("backquote command substitution is not followed".into());
            }
            '\\' => {
                // `\` before a newline continues the line: both go.
                if let Some(&n) = chars.get(i + 1).filter(|&&n| n != '\n') {
                    literal_special(chars, i + 1, out.is_empty())?;
                    seg += 1;
                    push(&mut out, seg, &mut dseg, n)?;
                    seg += 1;
                }
                i += 2;
            }
            '\'' => {
                i += 1;
                seg += 1;
                while i < chars.len() && chars[i] != '\'' {
                    literal_special(chars, i, out.is_empty())?;
                    push(&mut out, seg, &mut dseg, chars[i])?;
                    i += 1;
                }
                if i >= chars.len() {
                    return Err("unbalanced single quote".into());
                }
                seg += 1;
                i += 1;
            }
            '"' => {
                i += 1;
                seg += 1;
                if chars.get(i) == Some(&'~') {
                    literal_special(chars, i, out.is_empty())?;
                }
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && chars.get(i + 1) == Some(&'\n') {
                        i += 2;
                        continue;
                    }
                    if chars[i] == '\\' && matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`'))
                    {
                        literal_special(chars, i + 1, false)?;
                        push(&mut out, seg, &mut dseg, chars[i + 1])?;
                        i += 2;
                        continue;
                    }
                    if let Some(n) = pure_substitution(chars, i) {
                        push(&mut out, seg, &mut dseg, '1')?;
                        i += n;
                        continue;
                    }
                    if chars[i] == '`' {
                        return Err("backquote command substitution is not followed".into());
                    }
                    if chars[i] == '$' {
                        if chars.get(i + 1) == Some(&'(') {
                            return Err("`$(…)` command substitution is not followed".into());
                        }
                        dollar = true;
                    }
                    push(&mut out, seg, &mut dseg, chars[i])?;
                    i += 1;
                }
                if i >= chars.len() {
                    return Err("unbalanced double quote".into());
                }
                seg += 1;
                i += 1;
            }
            '$' | '`' if pure_substitution(chars, i).is_some() => {
                push(&mut out, seg, &mut dseg, '1')?;
                i += pure_substitution(chars, i).unwrap_or(1);
            }
            '$' => {
                if chars.get(i + 1) == Some(&'(') {
                    return Err("`$(…)` command substitution is not followed".into());
                }
                dollar = true;
                push(&mut out, seg, &mut dseg, c)?;
                i += 1;
                if chars.get(i) == Some(&'{') {
                    while i < chars.len() && chars[i] != '}' {
                        push(&mut out, seg, &mut dseg, chars[i])?;
                        i += 1;
                    }
                    if i < chars.len() {
                        push(&mut out, seg, &mut dseg, '}')?;
                        i += 1;
                    }
                }
            }
            '*' | '?' | '[' => {
                glob = true;
                push(&mut out, seg, &mut dseg, c)?;
                i += 1;
            }
            _ => {
                push(&mut out, seg, &mut dseg, c)?;
                i += 1;
            }
        }
    }
    Ok(((out, dollar, glob), i))
}

/// Appends `c`, read in segment `seg` of the word, to `out`. A name
/// character (or `{`) after a `$` of another segment would join the
/// variable's name across a quote or a backslash, which the shell does
/// not do (review 51: `$RE\Q` is `$RE` then `Q`, `$"REQ"` and `'$'REQ`
/// are no variable, `"$RE"Q` is `$RE` then `Q`; each was expanded as
/// `$REQ`): not followed.
fn push(out: &mut String, seg: usize, dseg: &mut Option<usize>, c: char) -> Result<(), String> {
    let name_char = c.is_ascii_alphanumeric() || c == '_' || c == '{';
    let open_name = out.rfind('$').is_some_and(|k| {
        out[k + 1..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if name_char && open_name && *dseg != Some(seg) {
        return Err("a `$` name split by quotes or a backslash is not followed".into());
    }
    if c == '$' {
        *dseg = Some(seg);
    }
    out.push(c);
    Ok(())
}

/// A `$NAME`/`${` or a leading `~` that quotes or a backslash keep as
/// written (`'$REQS'`, `\\$HOME`, `"~/x"`, each element of an exec-form
/// `RUN`): the word keeps no mark of its quoting, and the analysis would
/// expand it as a variable or the home, reading a file the command does
/// not (scout50: `pip install -r '$REQS'` with `ENV REQS=requirements.txt`
/// moved above the copy with `requirements.txt` only, while pip reads the
/// file named `$REQS`). Such a word is not followed.
fn literal_special(chars: &[char], at: usize, word_start: bool) -> Result<(), String> {
    let named =
        |c: Option<&char>| c.is_some_and(|c| c.is_ascii_alphabetic() || *c == '_' || *c == '{');
    if chars[at] == '$' && named(chars.get(at + 1)) {
        return Err("a `$` the shell keeps as written (quoted or escaped) is not followed".into());
    }
    if chars[at] == '~' && word_start {
        return Err("a `~` the shell keeps as written (quoted or escaped) is not followed".into());
    }
    Ok(())
}

const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
    "function", "select", "!", "[[", "]]", "eval", "exec", "source", ".", "trap",
];

/// Splits `text` (the shell form of a RUN) into simple commands.
/// Command substitutions whose value depends on the build host only, never
/// on the image: the same in any order of the instructions. Each is
/// replaced by a stand-in word.
const PURE_SUBSTITUTIONS: &[&str] = &[
    "$(nproc)",
    "`nproc`",
    "$(uname -m)",
    "`uname -m`",
    "$(uname -s)",
    "$(arch)",
    "$(getconf _NPROCESSORS_ONLN)",
];

/// The length of a pure substitution starting at `chars[i]`, if any.
fn pure_substitution(chars: &[char], i: usize) -> Option<usize> {
    PURE_SUBSTITUTIONS.iter().find_map(|p| {
        let n = p.chars().count();
        (chars.len() >= i + n && chars[i..i + n].iter().copied().eq(p.chars())).then_some(n)
    })
}

pub fn split(text: &str) -> Split {
    let toks = match tokenize(text) {
        Ok(t) => t,
        Err(e) => return Split::Opaque(e),
    };
    let mut cmds = Vec::new();
    let mut cur: Option<SimpleCommand> = None;
    let mut joined: Option<Op> = None;
    let mut cd: Option<String> = None;
    let mut pending_cd: Option<Option<String>> = None;
    // A failing `cd` stops only the rest of its and-or list (`&&`): after
    // `;`, a newline, `&` or `||` the shell goes on where it was, unless
    // `set -e` ends the script, which it does for a `cd` alone in its
    // list. `uncertain`: a later command may run in either directory.
    let (mut errexit, mut list_cd, mut list_len, mut uncertain) = (false, false, 0, false);
    for t in toks {
        match t {
            Tok::Op(op) => {
                if let Some(c) = cur.take() {
                    if c.argv.first().is_some_and(|a| a == "set") {
                        set_errexit(&c.argv[1..], &mut errexit);
                    }
                    cmds.push(c);
                    list_len += 1;
                } else if op != Op::Seq {
                    return Split::Opaque("an operator without a command".into());
                }
                if let Some(new) = pending_cd.take() {
                    if op == Op::And || op == Op::Seq {
                        cd = new;
                        list_cd = true;
                        if op == Op::Seq && errexit && list_len == 1 {
                            list_cd = false;
                        }
                    } else {
                        return Split::Opaque("`cd` in a pipeline or `||` is not followed".into());
                    }
                }
                if list_cd && op == Op::Or {
                    return Split::Opaque("`||` after a `cd` that may fail is not followed".into());
                }
                if matches!(op, Op::Seq | Op::Background) {
                    uncertain |= list_cd;
                    (list_cd, list_len) = (false, 0);
                }
                joined = Some(op);
            }
            Tok::Word {
                text,
                has_dollar,
                has_glob,
            } => {
                if cur.is_none() && uncertain {
                    return Split::Opaque(
                        "a command after a `cd` that may fail (no `set -e`) is not followed".into(),
                    );
                }
                let c = cur.get_or_insert_with(|| SimpleCommand {
                    assignments: Vec::new(),
                    argv: Vec::new(),
                    redirect_writes: Vec::new(),
                    redirect_reads: Vec::new(),
                    cd: cd.clone(),
                    joined_by: joined.take(),
                    list_file: None,
                });
                if c.argv.is_empty() {
                    if let Some((k, v)) = text.split_once('=')
                        && !k.is_empty()
                        && k.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                    {
                        c.assignments.push((k.to_string(), v.to_string()));
                        continue;
                    }
                    if KEYWORDS.contains(&text.as_str()) {
                        return Split::Opaque(format!("shell keyword `{text}` is not followed"));
                    }
                    if has_dollar {
                        return Split::Opaque(
                            "a command name from a variable is not followed".into(),
                        );
                    }
                }
                let _ = has_glob;
                c.argv.push(text);
                if c.argv.len() == 2 && c.argv[0] == "cd" {
                    let dir = c.argv[1].clone();
                    // `cd -` (the previous directory) and `cd ~` (the home,
                    // which depends on HOME) are not plain paths.
                    if has_dollar || has_glob || dir == "-" || dir.starts_with('~') {
                        return Split::Opaque(
                            "`cd` to a computed directory is not followed".into(),
                        );
                    }
                    pending_cd = Some(Some(join_dir(cd.as_deref(), &dir)));
                }
            }
            // Input first (`< list.txt xargs …`): the command follows.
            Tok::RedirIn(Some(f)) if cur.is_none() && !uncertain => {
                cur = Some(SimpleCommand {
                    assignments: Vec::new(),
                    argv: Vec::new(),
                    redirect_writes: Vec::new(),
                    redirect_reads: vec![f],
                    cd: cd.clone(),
                    joined_by: joined.take(),
                    list_file: None,
                });
            }
            Tok::RedirOut(Some(f)) | Tok::RedirIn(Some(f)) if cur.is_none() => {
                return Split::Opaque(format!("a redirection without a command (`{f}`)"));
            }
            Tok::RedirOut(Some(f)) => {
                if let Some(c) = cur.as_mut() {
                    c.redirect_writes.push(f);
                }
            }
            Tok::RedirIn(Some(f)) => {
                if let Some(c) = cur.as_mut() {
                    c.redirect_reads.push(f);
                }
            }
            Tok::RedirOut(None) | Tok::RedirIn(None) | Tok::RedirFd => {}
            Tok::List(list) => match cur.as_mut() {
                Some(c) if !c.argv.is_empty() && c.list_file.is_none() => {
                    c.list_file = Some(ListFile {
                        before: c.argv.last().cloned(),
                        ..list
                    });
                }
                _ => {
                    return Split::Opaque(
                        "a command substitution naming the command, or a second one, is not followed"
                            .into(),
                    );
                }
            },
        }
    }
    if let Some(c) = cur.take() {
        cmds.push(c);
    }
    if cmds
        .iter()
        .any(|c| c.argv.is_empty() && !c.redirect_reads.is_empty())
    {
        return Split::Opaque("an input redirection without a command".into());
    }
    // Only a package install takes a list's words here: for any other
    // command (`rm $(cat files.txt)`) the text is not followed, as before.
    if cmds
        .iter()
        .any(|c| c.list_file.is_some() && !package_install(&c.argv))
    {
        return Split::Opaque(
            "a command substitution is not followed (but a package list of an install)".into(),
        );
    }
    xargs_lists(&mut cmds);
    // A list's words are split at `IFS`, which the text may set.
    if text.contains("IFS") && cmds.iter().any(|c| c.list_file.is_some()) {
        return Split::Opaque("a list of words with `IFS` set is not followed".into());
    }
    for c in &cmds {
        if c.argv.first().is_some_and(|a| a == "cd") && c.argv.len() != 2 {
            return Split::Opaque("`cd` without exactly one directory is not followed".into());
        }
    }
    Split::Commands(cmds)
}

/// Follows `set`'s options for `errexit` (`-e`, `-eux`, `-o errexit`,
/// `+e`); the arguments after `--` or a non-option are positional.
fn set_errexit(args: &[String], errexit: &mut bool) {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let on = match a.chars().next() {
            Some('-') => true,
            Some('+') => false,
            _ => break,
        };
        let flags = &a[1..];
        if flags.is_empty() || flags == "-" {
            break;
        }
        if flags.contains('e') {
            *errexit = on;
        }
        if flags.ends_with('o') && it.next().is_some_and(|o| o == "errexit") {
            *errexit = on;
        }
    }
}

/// The top-level operators of a shell text and their byte offsets: what
/// separates its and-or lists and pipelines, outside quotes, `$(…)`,
/// `${…}` and backquotes. `None` when the text has something this scan does
/// not follow at the top level (a comment, a subshell or group, a heredoc,
/// an unbalanced quote): the caller then treats the text as one piece.
pub fn top_level_ops(text: &str) -> Option<Vec<(Op, usize)>> {
    let b = text.as_bytes();
    let mut ops = Vec::new();
    let mut i = 0;
    let mut word_start = true;
    while i < b.len() {
        let c = b[i];
        let at_word_start = word_start;
        word_start = false;
        match c {
            b' ' | b'\t' | b'\r' => word_start = true,
            b'\n' | b';' => {
                ops.push((Op::Seq, i));
                word_start = true;
            }
            b'&' | b'|' => {
                let double = b.get(i + 1) == Some(&c);
                let op = match (c, double) {
                    (b'&', true) => Op::And,
                    (b'&', false) if b.get(i + 1) == Some(&b'>') => {
                        i += 1;
                        Op::Seq // `&>` is a redirection, not an operator
                    }
                    (b'&', false) => Op::Background,
                    (_, true) => Op::Or,
                    _ => Op::Pipe,
                };
                if !(c == b'&' && !double && op == Op::Seq) {
                    ops.push((op, i));
                }
                if double {
                    i += 1;
                }
                word_start = true;
            }
            b'\\' => i += 1,
            b'\'' => i = closing(b, i + 1, b'\'')?,
            b'"' => i = double_quoted_end(b, i + 1)?,
            b'`' => i = closing(b, i + 1, b'`')?,
            b'$' if matches!(b.get(i + 1), Some(b'(') | Some(b'{')) => {
                i = balanced_end(b, i + 1)?;
            }
            b'<' if b.get(i + 1) == Some(&b'<') => return None,
            b'(' | b')' => return None,
            b'{' | b'}' | b'#' if at_word_start => return None,
            b'>' | b'<' => {
                // `2>&1`, `<&0`: a descriptor, not a background operator.
                if b.get(i + 1) == Some(&b'&') {
                    i += 1;
                }
                word_start = true;
            }
            _ => {}
        }
        i += 1;
    }
    Some(ops)
}

/// The index of the next `close` byte at or after `i` (no escapes: single
/// quotes and backquotes as this scan needs them).
fn closing(b: &[u8], i: usize, close: u8) -> Option<usize> {
    b[i.min(b.len())..]
        .iter()
        .position(|&x| x == close)
        .map(|k| i + k)
}

/// The index of the `"` closing a double-quoted string whose body starts
/// at `i` (backslash escapes, `$(…)` and backquotes inside followed).
fn double_quoted_end(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i),
            b'\\' => i += 1,
            b'`' => i = closing(b, i + 1, b'`')?,
            b'$' if matches!(b.get(i + 1), Some(b'(') | Some(b'{')) => {
                i = balanced_end(b, i + 1)?;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the bracket closing the `(` or `{` at `i`, quotes inside
/// followed.
fn balanced_end(b: &[u8], i: usize) -> Option<usize> {
    let (open, close) = if b.get(i) == Some(&b'(') {
        (b'(', b')')
    } else {
        (b'{', b'}')
    };
    let mut depth = 0usize;
    let mut k = i;
    while k < b.len() {
        match b[k] {
            x if x == open => depth += 1,
            x if x == close => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            b'\\' => k += 1,
            b'\'' => k = closing(b, k + 1, b'\'')?,
            b'"' => k = double_quoted_end(b, k + 1)?,
            b'`' => k = closing(b, k + 1, b'`')?,
            _ => {}
        }
        k += 1;
    }
    None
}

/// Joins a `cd` target onto the current relative directory. Absolute
/// targets stay absolute.
fn join_dir(cur: Option<&str>, dir: &str) -> String {
    if dir.starts_with('/') {
        return dir.to_string();
    }
    match cur {
        Some(c) => format!("{}/{}", c.trim_end_matches('/'), dir),
        None => dir.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argvs(s: &str) -> Vec<Vec<String>> {
        match split(s) {
            Split::Commands(c) => c.into_iter().map(|c| c.argv).collect(),
            Split::Opaque(e) => panic!("opaque: {e}"),
        }
    }

    #[test]
    fn file_test_chains_are_read_arm_by_arm() {
        let c = file_test_chain(
            "  if [ -f yarn.lock ]; then yarn --frozen-lockfile;   elif [ -f \"package-lock.json\" ]; then npm ci;   elif test -f pnpm-lock.yaml; then corepack enable pnpm && pnpm i --frozen-lockfile;   else echo \"Lockfile not found.\" && exit 1;   fi",
        )
        .expect("a chain");
        assert_eq!(
            c.arms,
            vec![
                ("yarn.lock".into(), "yarn --frozen-lockfile".into()),
                ("package-lock.json".into(), "npm ci".into()),
                (
                    "pnpm-lock.yaml".into(),
                    "corepack enable pnpm && pnpm i --frozen-lockfile".into()
                ),
            ]
        );
        assert_eq!(
            c.otherwise.as_deref(),
            Some("echo \"Lockfile not found.\" && exit 1")
        );
        let (arm, tested) = c.taken(|p| p == "package-lock.json");
        assert_eq!(arm, Some("npm ci"));
        assert_eq!(tested, vec!["yarn.lock", "package-lock.json"]);
        let (arm, tested) = c.taken(|_| false);
        assert_eq!(arm, c.otherwise.as_deref());
        assert_eq!(tested.len(), 3);
        // Bodies of several commands, on lines of their own.
        let c = file_test_chain("if [ -f a.txt ]\nthen\n  pip install -r a.txt\n  echo ok\nfi")
            .expect("a chain");
        assert_eq!(
            c.arms,
            vec![("a.txt".into(), "pip install -r a.txt; echo ok".into())]
        );
        for other in [
            "if [ -f $LOCK ]; then npm ci; fi",
            "if [ -f ../x ]; then npm ci; fi",
            "if [ -e yarn.lock ]; then npm ci; fi",
            "if [ ! -f yarn.lock ]; then npm ci; fi",
            "if [ -f a ] && [ -f b ]; then npm ci; fi",
            "if [ -f a ]; then npm ci; fi && npm run build",
            "npm ci; if [ -f a ]; then npm ci; fi",
            "if [ -f a ]; then if [ -f b ]; then npm ci; fi; fi",
            "if [ -f a ]; then npm ci; else yarn; else npm i; fi",
            "if [ -f a ]; then npm ci; else yarn; elif [ -f b ]; then x; fi",
            "if [ -f a ]; then; fi",
            "if [ -f a ]; then npm ci # comment\nfi",
            "if [ -f a ]; then (npm ci); fi",
            "if [ -f a ]; then npm ci",
        ] {
            assert_eq!(file_test_chain(other), None, "{other}");
        }
    }

    #[test]
    fn splits_chains_and_redirections() {
        assert_eq!(
            argvs("apt-get update && apt-get install -y \"curl\" > /dev/null 2>&1; true"),
            vec![
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "curl"],
                vec!["true"]
            ]
        );
        match split("cd web && FOO=1 npm ci") {
            Split::Commands(c) => {
                assert_eq!(c[1].cd.as_deref(), Some("web"));
                assert_eq!(c[1].assignments, vec![("FOO".to_string(), "1".to_string())]);
            }
            Split::Opaque(e) => panic!("{e}"),
        }
        match split("echo hi > /etc/motd") {
            Split::Commands(c) => assert_eq!(c[0].redirect_writes, vec!["/etc/motd"]),
            Split::Opaque(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_script_of_several_lines_is_one_command_a_line() {
        // A heredoc script (`RUN <<EOF`): newlines separate commands, `\`
        // before a newline continues the line (also in double quotes).
        assert_eq!(
            argvs(
                "set -e\n# deps\nnpm ci \\\n  --omit=dev\nnpm cache clean --fo\\\nrce\necho \"a\\\nb\"\n"
            ),
            vec![
                vec!["set", "-e"],
                vec!["npm", "ci", "--omit=dev"],
                vec!["npm", "cache", "clean", "--force"],
                vec!["echo", "ab"],
            ]
        );
        // In single quotes it is kept.
        assert_eq!(argvs("echo 'a\\\nb'"), vec![vec!["echo", "a\\\nb"]]);
    }

    #[test]
    fn host_only_substitutions_are_followed() {
        for s in [
            "make -j$(nproc)",
            "make -j`nproc` install",
            "echo \"$(uname -m)\"",
        ] {
            let Split::Commands(c) = split(s) else {
                panic!("opaque: {s}");
            };
            assert_eq!(c.len(), 1, "{s}");
            assert!(c[0].argv.iter().all(|a| !a.contains("nproc")), "{s}");
        }
    }

    #[test]
    fn top_level_operators_skip_quotes_and_substitutions() {
        let ops =
            |s: &str| top_level_ops(s).map(|v| v.into_iter().map(|(o, _)| o).collect::<Vec<_>>());
        assert_eq!(
            ops("npm ci && npm run build -- --v=\"$(git describe || echo x)\" | tee log"),
            Some(vec![Op::And, Op::Pipe])
        );
        assert_eq!(
            ops("echo 'a && b' ; x & y || z"),
            Some(vec![Op::Seq, Op::Background, Op::Or])
        );
        assert_eq!(ops("make >out 2>&1 && ok &>/dev/null"), Some(vec![Op::And]));
        assert_eq!(ops("echo ${A:-x&&y} && z"), Some(vec![Op::And]));
        assert_eq!(top_level_ops("a && b").map(|v| v[0].1), Some(2));
        for s in [
            "(cd x && make) && y",
            "{ a; } && b",
            "a && b # c && d",
            "cat <<EOF",
            "echo 'x",
        ] {
            assert_eq!(top_level_ops(s), None, "{s}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_follow() {
        for s in [
            "for f in *; do echo $f; done",
            "(cd x && make)",
            "echo $(date)",
            "echo `date`",
            "if true; then x; fi",
            "eval \"$CMD\"",
            "$TOOL install",
            "cd $HOME && ls",
            "cd ~/app && npm ci",
        ] {
            assert!(matches!(split(s), Split::Opaque(_)), "{s}");
        }
    }

    #[test]
    fn package_lists_from_files() {
        let list = |s: &str| match split(s) {
            Split::Commands(c) => c
                .iter()
                .map(|c| {
                    (
                        c.argv.join(" "),
                        c.list_file
                            .as_ref()
                            .map(|l| (l.path.clone(), l.comments_stripped)),
                    )
                })
                .collect::<Vec<_>>(),
            Split::Opaque(e) => panic!("opaque: {s}: {e}"),
        };
        let apt = |f: &str, strip: Comments| {
            (
                "apt-get install -y".to_string(),
                Some((f.to_string(), strip)),
            )
        };
        assert_eq!(
            list("xargs -a apt.txt apt-get install -y"),
            [apt("apt.txt", Comments::Kept)]
        );
        assert_eq!(
            list("xargs -r --arg-file=apt.txt apt-get install -y"),
            [apt("apt.txt", Comments::Kept)]
        );
        assert_eq!(
            list("< apt.txt xargs apt-get install -y"),
            [apt("apt.txt", Comments::Kept)]
        );
        assert_eq!(
            list("xargs apt-get install -y < apt.txt"),
            [apt("apt.txt", Comments::Kept)]
        );
        assert_eq!(
            list("apt-get install -y $(cat apt.txt)"),
            [apt("apt.txt", Comments::Kept)]
        );
        assert_eq!(
            list("apt-get install $(grep -v '^#' apt.txt) -y"),
            [(
                "apt-get install -y".to_string(),
                Some(("apt.txt".to_string(), Comments::AtLineStart))
            )]
        );
        for s in [
            "apt-get install -y $(grep -vE '^\\s*(#|$)' apt.txt)",
            "apt-get install -y $(grep -Ev '^[[:space:]]*(#|$)' apt.txt)",
            "apt-get install -y $(grep -v -E '^\\s*(#|$)' apt.txt)",
        ] {
            assert_eq!(list(s), [apt("apt.txt", Comments::AfterSpaces)], "{s}");
        }
        // Another pattern drops other lines: not followed.
        assert!(matches!(
            split("apt-get install -y $(grep -vE '^\\s*#' apt.txt)"),
            Split::Opaque(_)
        ));
        assert!(Comments::AfterSpaces.drops(" \t# libpq5"));
        assert!(Comments::AfterSpaces.drops("\r"));
        assert!(!Comments::AtLineStart.drops(" # libpq5"));
        assert!(!Comments::AfterSpaces.drops("libpq5 # db"));
        assert_eq!(
            list("apt-get install -y $(cat apt.txt | tr '\\n' ' ')"),
            [apt("apt.txt", Comments::Kept)]
        );
        let piped = list("cat apt.txt | xargs apt-get install -y");
        assert_eq!(piped[1], apt("apt.txt", Comments::Kept));
        assert_eq!(piped[0], ("cat apt.txt".to_string(), None));
        // Anything else is as before: an `xargs` of its own, or not followed.
        assert_eq!(list("cat files.txt | xargs rm -f")[1].0, "xargs rm -f");
        assert_eq!(
            list("xargs -n1 -a apt.txt apt-get install -y")[0].0,
            "xargs -n1 -a apt.txt apt-get install -y"
        );
        for s in [
            "rm -f $(cat files.txt)",
            "apt-get install -y \"$(cat apt.txt)\"",
            "apt-get install -y x$(cat apt.txt)",
            "apt-get install -y $(cat $LIST)",
            "apt-get install -y $(sort apt.txt)",
            "$(cat cmd.txt) install",
            "IFS=, ; apt-get install -y $(cat apt.txt)",
            "< apt.txt",
        ] {
            assert!(matches!(split(s), Split::Opaque(_)), "{s}");
        }
    }
}

/// A whole script that is one `if` on file tests: `if [ -f yarn.lock ];
/// then yarn --frozen-lockfile; elif [ -f package-lock.json ]; then npm
/// ci; else exit 1; fi` (the lock-file detection of Next.js's `deps`
/// stage). Each arm's condition is one `[ -f NAME ]` or `test -f NAME`
/// of a plain path (no variable, glob, quote trick or `..`); each body is
/// the text of its commands, its `;`-separated pieces joined by `; `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTestChain {
    /// (tested path, body) of the `if` and each `elif`, in order.
    pub arms: Vec<(String, String)>,
    /// The body of the `else`, when there is one.
    pub otherwise: Option<String>,
}

impl FileTestChain {
    /// The body the shell runs when exactly the tested paths for which
    /// `exists` holds are regular files, and the paths it tests on the
    /// way (in order, the taken arm's included).
    pub fn taken(&self, exists: impl Fn(&str) -> bool) -> (Option<&str>, Vec<&str>) {
        let mut tested = Vec::new();
        for (path, body) in &self.arms {
            tested.push(path.as_str());
            if exists(path) {
                return (Some(body.as_str()), tested);
            }
        }
        (self.otherwise.as_deref(), tested)
    }
}

/// The [`FileTestChain`] a script is, or `None` when it is anything else
/// (a command before or after the `if`, a nested `if`, a condition that is
/// not one file test, a comment).
pub fn file_test_chain(text: &str) -> Option<FileTestChain> {
    let ops = top_level_ops(text)?;
    let mut segs: Vec<&str> = Vec::new();
    let mut start = 0;
    for (op, at) in &ops {
        if *op == Op::Seq {
            segs.push(text.get(start..*at)?.trim());
            start = at + 1;
        }
    }
    segs.push(text.get(start..)?.trim());
    segs.retain(|s| !s.is_empty());
    // A keyword at the start of a piece, and the text after it.
    let keyword = |s: &str, k: &str| -> Option<String> {
        let rest = s.strip_prefix(k)?;
        if rest.is_empty() {
            return Some(String::new());
        }
        rest.starts_with([' ', '\t'])
            .then(|| rest.trim().to_string())
    };
    let is_keyword = |s: &str| {
        ["if", "then", "elif", "else", "fi"]
            .iter()
            .any(|k| keyword(s, k).is_some())
    };
    let (last, segs) = segs.split_last()?;
    if *last != "fi" {
        return None;
    }
    // An arm's commands: the text after its keyword and the pieces up to
    // the next keyword, none empty; `k` is left at that keyword.
    let arm_body = |first: String, k: &mut usize| -> Vec<String> {
        let mut body = vec![first];
        *k += 1;
        while *k < segs.len() && !is_keyword(segs[*k]) {
            body.push(segs[*k].to_string());
            *k += 1;
        }
        body.retain(|b| !b.is_empty());
        body
    };
    let mut arms = Vec::new();
    let mut otherwise = None;
    let mut k = 0;
    while k < segs.len() {
        let s = segs[k];
        let cond = if arms.is_empty() && otherwise.is_none() {
            keyword(s, "if")?
        } else if let Some(c) = keyword(s, "elif") {
            c
        } else if let Some(first) = keyword(s, "else") {
            if otherwise.is_some() {
                return None;
            }
            let body = arm_body(first, &mut k);
            if body.is_empty() || k != segs.len() {
                return None;
            }
            otherwise = Some(body.join("; "));
            continue;
        } else {
            return None;
        };
        if otherwise.is_some() {
            return None;
        }
        let path = file_test(&cond)?;
        k += 1;
        let first = keyword(segs.get(k)?, "then")?;
        let body = arm_body(first, &mut k);
        if body.is_empty() {
            return None;
        }
        arms.push((path, body.join("; ")));
    }
    (!arms.is_empty()).then_some(FileTestChain { arms, otherwise })
}

/// The path of a condition that is one `[ -f PATH ]` or `test -f PATH`.
fn file_test(cond: &str) -> Option<String> {
    let Split::Commands(cmds) = split(cond) else {
        return None;
    };
    let [c] = cmds.as_slice() else {
        return None;
    };
    if !c.assignments.is_empty()
        || !c.redirect_reads.is_empty()
        || !c.redirect_writes.is_empty()
        || c.cd.is_some()
    {
        return None;
    }
    let path = match c.argv.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["[", "-f", p, "]"] | ["test", "-f", p] => p,
        _ => return None,
    };
    let plain = !path.is_empty()
        && path
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._-/+@".contains(ch))
        && !path.split('/').any(|c| c == "..")
        && !cond.contains(['$', '`', '\\', '*', '?']);
    plain.then(|| path.to_string())
}
