//! The build context on disk: which files a `COPY . .` ships, after
//! `.dockerignore` (matched with BuildKit's rules), which of them are
//! symbolic links and which shipped directories are empty, and small reads of
//! manifests (`package.json`, requirement files, ...).
//!
//! `.dockerignore` rules (moby/patternmatcher): each line is a pattern,
//! `#` lines are comments, patterns are cleaned (`./a/` is `a`, a leading
//! `/` is dropped), `**` matches any number of directories, `!` makes an
//! exception, the last matching pattern wins, and a pattern that matches a
//! parent directory matches everything below it. `<Dockerfile>.dockerignore`
//! next to the Dockerfile takes precedence over `.dockerignore`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One piece of a compiled pattern (moby/patternmatcher turns a pattern
/// into a regular expression; these are its parts).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// The character itself.
    Lit(char),
    /// `?`: `[^/]`.
    One,
    /// `*`: `[^/]*`.
    Star,
    /// `**` (and `**/`) before more of the pattern: `(.*/)?`.
    Deep,
    /// A trailing `**`: `.*`.
    Rest,
    /// `[…]`: members and ranges, negated with `^`.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// How patternmatcher matches a compiled pattern: the whole path, a
/// prefix (`dir/**`), a suffix (`**/name`), or its regular expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Matcher {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Tokens(Vec<Tok>),
}

#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    exclusion: bool,
    /// `strings.Split(pattern, "/")`'s length (the old `Matches` tries one
    /// parent of this many components).
    components: usize,
    matcher: Matcher,
}

/// A parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
    /// A pattern that BuildKit refuses (the build fails), or whose meaning
    /// differs between BuildKit versions or is not modelled here (`{`,
    /// `+`, `(`, `|` are regular-expression syntax before moby/patternmatcher
    /// escaped them; a leading `**` not followed by `/`; an escaped letter;
    /// a class with escapes or POSIX names): what the context ships is
    /// then not known.
    pub unsure: bool,
    /// Where it came from (for messages).
    pub source: Option<PathBuf>,
}

/// A context-relative path with `.`, `..` and empty components resolved.
pub(crate) fn clean(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Go's `filepath.Clean` on Unix: unlike [`clean`], a relative path keeps
/// its leading `..` (`../x` stays `../x`, a pattern no context path
/// matches), and a rooted one stays rooted.
fn go_clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Compiles a cleaned pattern as moby/patternmatcher's `compile` does;
/// `None` when BuildKit would refuse it (`filepath.Match` finds it
/// malformed) or when its meaning is not the same for every BuildKit
/// version or not modelled (see [`DockerIgnore::unsure`]).
fn compile(pattern: &str) -> Option<Matcher> {
    #[derive(PartialEq)]
    enum Detected {
        Exact,
        Prefix,
        Suffix,
        Regexp,
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut toks = Vec::new();
    let mut detected = Detected::Exact;
    let mut k = 0;
    let mut first = true;
    while k < chars.len() {
        let ch = chars[k];
        k += 1;
        match ch {
            '*' if chars.get(k) == Some(&'*') => {
                k += 1;
                if chars.get(k) == Some(&'/') {
                    k += 1;
                }
                if k == chars.len() {
                    if detected == Detected::Exact {
                        detected = Detected::Prefix;
                    } else {
                        toks.push(Tok::Rest);
                        detected = Detected::Regexp;
                    }
                } else {
                    toks.push(Tok::Deep);
                    detected = Detected::Regexp;
                }
                if first {
                    detected = Detected::Suffix;
                }
            }
            '*' => {
                toks.push(Tok::Star);
                detected = Detected::Regexp;
            }
            '?' => {
                toks.push(Tok::One);
                detected = Detected::Regexp;
            }
            // Escaped by patternmatcher, regular-expression operators for
            // the BuildKit of Docker 20.10 and older.
            '+' | '(' | ')' | '|' | '{' | '}' => return None,
            // A regular-expression anchor in every version.
            '^' => return None,
            '\\' => {
                let c = *chars.get(k)?;
                k += 1;
                // `\d`, `\w`, … are classes to Go's regexp.
                if c.is_ascii_alphanumeric() {
                    return None;
                }
                toks.push(Tok::Lit(c));
                detected = Detected::Regexp;
            }
            '[' => {
                let (class, next) = class(&chars, k)?;
                toks.push(class);
                k = next;
                detected = Detected::Regexp;
            }
            ']' => {
                toks.push(Tok::Lit(']'));
                detected = Detected::Regexp;
            }
            c => toks.push(Tok::Lit(c)),
        }
        first = false;
    }
    Some(match detected {
        Detected::Exact => Matcher::Exact(pattern.to_string()),
        Detected::Prefix => Matcher::Prefix(pattern[..pattern.len() - 2].to_string()),
        Detected::Suffix => {
            let suffix = &pattern[2..];
            // `**x` is a plain suffix to patternmatcher but `(.*/)?x` to
            // older BuildKit.
            if !suffix.is_empty() && !suffix.starts_with('/') {
                return None;
            }
            Matcher::Suffix(suffix.to_string())
        }
        Detected::Regexp => Matcher::Tokens(toks),
    })
}

/// A `[…]` class starting after the `[` at `chars[k..]`, and where the
/// pattern goes on: members and `a-z` ranges, `^` first to negate. `None`
/// for what `filepath.Match` refuses (empty, unclosed, a reversed range)
/// and for escapes and POSIX names, which Go's `filepath.Match` and its
/// regexp read differently.
fn class(chars: &[char], mut k: usize) -> Option<(Tok, usize)> {
    let negated = chars.get(k) == Some(&'^');
    if negated {
        k += 1;
    }
    let mut ranges = Vec::new();
    loop {
        let lo = *chars.get(k)?;
        if lo == ']' && !ranges.is_empty() {
            return Some((Tok::Class { negated, ranges }, k + 1));
        }
        if matches!(lo, ']' | '-' | '\\' | '[') {
            return None;
        }
        k += 1;
        let mut hi = lo;
        if chars.get(k) == Some(&'-') {
            hi = *chars.get(k + 1)?;
            if matches!(hi, ']' | '-' | '\\' | '[') || hi < lo {
                return None;
            }
            k += 2;
        }
        ranges.push((lo, hi));
    }
}

/// Whether `toks` match all of `path` (as the regular expression they stand
/// for, anchored at both ends; Go's `.` does not match a newline, its
/// negated classes do).
fn tokens_match(toks: &[Tok], path: &str) -> bool {
    // Anchored at both ends: the literal characters the tokens start and
    // end with must start and end the path. Most paths of a context fail
    // this against most patterns (`*.go`, `cmd/*`), without the walk below.
    let lit = |t: &Tok| match t {
        Tok::Lit(c) => Some(*c),
        _ => None,
    };
    let mut chars = path.chars();
    for c in toks.iter().map_while(lit) {
        if chars.next() != Some(c) {
            return false;
        }
    }
    let mut chars = path.chars();
    for c in toks.iter().rev().map_while(lit) {
        if chars.next_back() != Some(c) {
            return false;
        }
    }
    let s: Vec<char> = path.chars().collect();
    let n = s.len();
    // reach[j]: the tokens from the current one on match s[j..]; `next`,
    // the same for the token after it (every entry of `reach` is written
    // again for each token).
    let mut reach = vec![false; n + 1];
    let mut next = vec![false; n + 1];
    reach[n] = true;
    for t in toks.iter().rev() {
        std::mem::swap(&mut reach, &mut next);
        match t {
            Tok::Lit(c) => {
                for j in 0..=n {
                    reach[j] = j < n && s[j] == *c && next[j + 1];
                }
            }
            Tok::One => {
                for j in 0..=n {
                    reach[j] = j < n && s[j] != '/' && next[j + 1];
                }
            }
            Tok::Class { negated, ranges } => {
                for j in 0..=n {
                    reach[j] = j < n
                        && ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&s[j])) != *negated
                        && next[j + 1];
                }
            }
            Tok::Star | Tok::Rest => {
                let stop = if matches!(t, Tok::Star) { '/' } else { '\n' };
                reach[n] = next[n];
                for j in (0..n).rev() {
                    reach[j] = next[j] || (s[j] != stop && reach[j + 1]);
                }
            }
            Tok::Deep => {
                // `(.*/)?`: nothing, or anything without a newline up to
                // and including a `/`.
                let mut through = false;
                reach[n] = next[n];
                for j in (0..n).rev() {
                    through = (s[j] == '/' && next[j + 1]) || (s[j] != '\n' && through);
                    reach[j] = next[j] || through;
                }
            }
        }
    }
    reach[0]
}

impl Pattern {
    /// patternmatcher's `Pattern.match`.
    fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact(p) => path == p,
            Matcher::Prefix(p) => path.starts_with(p.as_str()),
            Matcher::Suffix(p) => {
                path.ends_with(p.as_str()) || p.strip_prefix('/').is_some_and(|q| path == q)
            }
            Matcher::Tokens(t) => tokens_match(t, path),
        }
    }
}

/// The patterns of a `.dockerignore` text, line by line as BuildKit reads
/// them (patternmatcher's `ignorefile.ReadAll`): a leading byte-order mark
/// dropped, comment and blank lines skipped, each line trimmed, and `!`
/// marking an exclusion: `(exclusion, pattern)`, with no pattern for a
/// `!` alone (an "illegal exclusion pattern": the build fails). One
/// reading for the context's rules and the history walk's shortcuts.
pub(crate) fn ignore_lines(text: &str) -> impl Iterator<Item = (bool, Option<&str>)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines().filter_map(|line| {
        let line = line.trim_end_matches('\r');
        if line.starts_with('#') {
            return None;
        }
        let p = line.trim();
        if p.is_empty() {
            return None;
        }
        match p.strip_prefix('!') {
            Some(rest) => {
                let rest = rest.trim();
                Some((true, (!rest.is_empty()).then_some(rest)))
            }
            None => Some((false, Some(p))),
        }
    })
}
impl DockerIgnore {
    /// Reads a `.dockerignore` as BuildKit does (moby/patternmatcher's
    /// `ignorefile.ReadAll`, then `New`).
    pub fn parse(text: &str) -> Self {
        let mut patterns = Vec::new();
        let mut unsure = false;
        for (exclusion, p) in ignore_lines(text) {
            let Some(p) = p else {
                // "illegal exclusion pattern": the build fails.
                unsure = true;
                continue;
            };
            let mut cleaned = go_clean(p);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
            let cleaned = go_clean(&cleaned);
            let Some(matcher) = compile(&cleaned) else {
                unsure = true;
                continue;
            };
            patterns.push(Pattern {
                components: cleaned.split('/').count(),
                text: cleaned,
                exclusion,
                matcher,
            });
        }
        DockerIgnore {
            patterns,
            unsure,
            source: None,
        }
    }

    /// Reads `<dockerfile name>.dockerignore` or `.dockerignore` in `context`.
    pub fn load(context: &Path, dockerfile: Option<&Path>) -> Self {
        let mut candidates = Vec::new();
        if let Some(df) = dockerfile
            && let (Some(dir), Some(name)) = (df.parent(), df.file_name())
        {
            candidates.push(dir.join(format!("{}.dockerignore", name.to_string_lossy())));
        }
        candidates.push(context.join(".dockerignore"));
        for c in candidates {
            let bytes = match std::fs::read(&c) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                // BuildKit uses it (or fails): not a reason to read the
                // next one, or none.
                Err(_) => Vec::from(&b"\xff"[..]),
            };
            // Go matches bytes; a file that is not UTF-8 (a Latin-1
            // comment) is not read here, and what it excludes not known.
            let mut d = match String::from_utf8(bytes) {
                Ok(text) => Self::parse(&text),
                Err(_) => DockerIgnore {
                    unsure: true,
                    ..DockerIgnore::default()
                },
            };
            d.source = Some(c);
            return d;
        }
        DockerIgnore::default()
    }

    /// Whether the context-relative path `rel` (with `/` separators) is
    /// excluded from the context: the last pattern matching it or one of
    /// its parents decides (patternmatcher's `MatchesOrParentMatches`).
    /// What a build ships is [`Context::files`], which also follows how
    /// BuildKit walks the context.
    pub fn excludes(&self, rel: &str) -> bool {
        let rel = clean(rel);
        let parents: Vec<&str> = rel.match_indices('/').map(|(k, _)| &rel[..k]).collect();
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            if p.matches(&rel) || parents.iter().any(|d| p.matches(d)) {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// patternmatcher's `MatchesUsingParentResults` (how BuildKit's
    /// context walk decides since fsutil moved to it): `parent` holds, per
    /// pattern, whether the parent directory's decision recorded a match
    /// (empty at the top); returns the decision and this path's record.
    fn decide_with_parent(&self, rel: &str, parent: &[bool]) -> (bool, Vec<bool>) {
        let mut matched = false;
        let mut record = vec![false; self.patterns.len()];
        for (i, p) in self.patterns.iter().enumerate() {
            let mut hit = parent.get(i).copied().unwrap_or(false);
            if !hit {
                if p.exclusion != matched {
                    continue;
                }
                hit = p.matches(rel);
            }
            record[i] = hit;
            if hit {
                matched = !p.exclusion;
            }
        }
        (matched, record)
    }

    /// The deprecated `Matches` of moby's fileutils, as the BuildKit of
    /// Docker 20.10 walks the context with it: besides the path itself,
    /// a pattern is tried only on the parent with as many components as
    /// it has.
    fn decide_old(&self, rel: &str) -> bool {
        let parent: Vec<&str> = match rel.rfind('/') {
            Some(k) => rel[..k].split('/').collect(),
            None => Vec::new(),
        };
        let mut matched = false;
        for p in &self.patterns {
            let mut hit = p.matches(rel);
            if !hit && !parent.is_empty() && p.components <= parent.len() {
                hit = p.matches(&parent[..p.components].join("/"));
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Whether some pattern is an exception (`!...`): one may bring back
    /// files below an excluded directory.
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// Whether a walk that found the directory `dir` excluded goes on
    /// below it. fsutil's filter enters it when an exception has a
    /// pattern character (then every path is decided on its own) or names
    /// a path below it; the older walker only in the second case, with
    /// the exception as written.
    fn enters_excluded(&self, dir: &str, old: bool) -> bool {
        let exceptions = || self.patterns.iter().filter(|p| p.exclusion);
        if !self.has_exceptions() {
            return false;
        }
        let trimmed = |p: &Pattern| -> String {
            if old {
                return p.text.clone();
            }
            let t = p.text.as_str();
            let t = t.strip_suffix("/**").unwrap_or(t);
            t.strip_suffix("/*").unwrap_or(t).to_string()
        };
        if !old && exceptions().any(|p| trimmed(p).contains(['*', '[', ']', '?', '^', '\\'])) {
            return true;
        }
        let dir_slash = format!("{dir}/");
        exceptions().any(|p| format!("{}/", trimmed(p)).starts_with(&dir_slash))
    }

    /// The patterns, for messages.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(|p| p.text.as_str())
    }
}

/// The build context: a directory and its `.dockerignore`.
#[derive(Debug, Clone)]
pub struct Context {
    pub dir: PathBuf,
    pub ignore: DockerIgnore,
    /// Shipped files (context-relative) with their sizes; `None` when the
    /// context could not be read.
    files: Option<BTreeMap<String, u64>>,
    /// Shipped entries below which a path means something else once
    /// copied, though no shipped file is there: symbolic links and empty
    /// directories (see [`Context::whole`]).
    whole: BTreeSet<String>,
    /// Directories whose contents this checkout may not show: git
    /// submodules (`.gitmodules`), checked out in CI but perhaps not here.
    unknown: Vec<String>,
    /// The Maven reactors read so far, by directory.
    reactors: ReactorMemo,
    /// The files read as text so far (see [`TextMemo`]).
    texts: TextMemo,
}

impl Context {
    /// The ignore file in force as a remedy names it: `.dockerignore`, or
    /// the Dockerfile's own (`app.Dockerfile.dockerignore`, which BuildKit
    /// reads instead), relative to the context when it is inside it.
    pub fn ignore_file_name(&self) -> String {
        match &self.ignore.source {
            Some(p) if p.file_name().is_some_and(|n| n != ".dockerignore") => p
                .strip_prefix(&self.dir)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned(),
            _ => ".dockerignore".to_string(),
        }
    }
}

/// The context files read as text so far, by context-relative path
/// (`None`: not readable as text): the planner and the rewrite check ask
/// for the same manifests and locks many times while one file is planned
/// (markdownlint-cli's 1 MB lock was read twice, its package.json five
/// times). Read once, so the answer is the one a new read would give
/// while the context does not change under the run, as for
/// [`ReactorMemo`]. A mutex, as contexts are shared between threads.
#[derive(Debug, Default)]
struct TextMemo(Mutex<HashMap<String, Option<String>>>);

impl Clone for TextMemo {
    fn clone(&self) -> Self {
        let memo = self.0.lock().map(|m| m.clone()).unwrap_or_default();
        TextMemo(Mutex::new(memo))
    }
}

/// A Maven reactor (its POMs, and the problems found in them) by the
/// directory of its root POM ([`crate::analysis::manifests::maven_reactor`]):
/// hoisting, reordering and splitting ask for the same reactor many times
/// while one file is planned, and each answer reads and scans every module
/// POM again. The files are read once, so the answer is the one a new read
/// would give while the context does not change under the run. A mutex, as
/// contexts are shared between threads.
#[derive(Debug, Default)]
struct ReactorMemo(Mutex<HashMap<String, Reactor>>);

/// The POM files of a reactor and its problems.
pub(crate) type Reactor = (Vec<String>, Vec<String>);

impl Clone for ReactorMemo {
    fn clone(&self) -> Self {
        let memo = self.0.lock().map(|m| m.clone()).unwrap_or_default();
        ReactorMemo(Mutex::new(memo))
    }
}

/// Stop walking huge contexts: past this many entries the context is
/// treated as unknown (nothing is hoisted).
const MAX_FILES: usize = 200_000;

impl Context {
    pub fn new(dir: PathBuf, dockerfile: Option<&Path>) -> Self {
        let ignore = DockerIgnore::load(&dir, dockerfile);
        let (files, whole) = match walk(&dir, &ignore) {
            Some((files, whole)) => (Some(files), whole),
            None => (None, BTreeSet::new()),
        };
        let unknown = submodule_paths(&dir);
        Context {
            dir,
            ignore,
            files,
            whole,
            unknown,
            reactors: ReactorMemo::default(),
            texts: TextMemo::default(),
        }
    }

    /// The Maven reactor rooted in `dir`, as `read` gives it, read once
    /// per context (see [`ReactorMemo`]).
    pub(crate) fn reactor(&self, dir: &str, read: impl FnOnce() -> Reactor) -> Reactor {
        if let Some(r) = self
            .reactors
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(dir).cloned())
        {
            return r;
        }
        let r = read();
        if let Ok(mut m) = self.reactors.0.lock() {
            m.insert(dir.to_string(), r.clone());
        }
        r
    }

    /// Context-relative directories whose contents are not known here
    /// (git submodules): anything may be shipped below them.
    pub fn unknown_dirs(&self) -> &[String] {
        &self.unknown
    }

    /// Every file (and symlink) the context ships, context-relative, with
    /// its size in bytes, or `None` when the context could not be read.
    pub fn files(&self) -> Option<&BTreeMap<String, u64>> {
        self.files.as_ref()
    }

    /// The shipped symbolic links and empty directories, context-relative:
    /// a copy of one changes every path below it (a `RUN` writing
    /// `out/x` goes through the shipped link `out`; `cp FILE uploads`
    /// makes a file where the copy puts an empty directory), which the
    /// list of [`Context::files`] does not show.
    pub fn whole(&self) -> &BTreeSet<String> {
        &self.whole
    }

    /// Whether the context ships `rel` as a symbolic link. Named as a
    /// `COPY`/`ADD` source, a link is followed (BuildKit's copy follows
    /// the source path): a link to a directory puts the directory's
    /// contents into the destination, not a file of the link's name.
    pub fn is_link(&self, rel: &str) -> bool {
        let rel = clean(rel);
        self.whole.contains(&rel) && self.files.as_ref().is_some_and(|f| f.contains_key(&rel))
    }

    /// Whether the context ships the file `rel`.
    pub fn ships(&self, rel: &str) -> bool {
        self.files
            .as_ref()
            .is_some_and(|f| f.contains_key(&clean(rel)))
    }

    /// Total size in bytes of the shipped files below (or equal to) `rel`
    /// (`.git/` is left out: it changes with every commit, but not what a
    /// build does).
    pub fn size_under(&self, rel: &str) -> u64 {
        let Some(files) = &self.files else { return 0 };
        let rel = clean(rel);
        if rel == "." {
            return files
                .iter()
                .filter(|(k, _)| !k.starts_with(".git/"))
                .map(|(_, v)| v)
                .sum();
        }
        let prefix = format!("{rel}/");
        files
            .range(rel.clone()..)
            .take_while(|(k, _)| {
                k.as_str() == rel || k.starts_with(&prefix) || k.as_str() < prefix.as_str()
            })
            .filter(|(k, _)| k.as_str() == rel || k.starts_with(&prefix))
            .map(|(_, v)| v)
            .sum()
    }

    /// Whether `ADD` would unpack the context file `rel` (BuildKit decides
    /// by content, not by name: a tar archive, plain or compressed with
    /// gzip, bzip2, xz or zstd). `true` unless the file can be read and is
    /// certainly none: it starts with no compression magic, and it is
    /// shorter than a tar header (512 bytes) or its first 512 bytes are
    /// not a tar header with a valid checksum.
    pub fn may_unpack(&self, rel: &str) -> bool {
        use std::io::Read;
        let Ok(mut f) = std::fs::File::open(self.dir.join(clean(rel))) else {
            return true;
        };
        let mut head = Vec::with_capacity(512);
        if f.by_ref().take(512).read_to_end(&mut head).is_err() {
            return true;
        }
        const MAGIC: &[&[u8]] = &[
            &[0x1f, 0x8b],
            b"BZh",
            &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
            &[0x28, 0xb5, 0x2f, 0xfd],
        ];
        if MAGIC.iter().any(|m| head.starts_with(m)) {
            return true;
        }
        head.len() == 512 && tar_checksum_ok(&head)
    }

    /// Whether the context path `rel`, or a directory above it, is a
    /// symbolic link. A `COPY` naming it follows the link inside the
    /// context, whereas a `RUN` reading the copy of the whole context
    /// follows the shipped link inside the image: the two may read
    /// different files (or none).
    pub fn through_symlink(&self, rel: &str) -> bool {
        let rel = clean(rel);
        let mut at = self.dir.clone();
        rel.split('/').any(|c| {
            at.push(c);
            at.symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
        })
    }

    /// Reads a small context file as text, once per context (see
    /// [`TextMemo`]).
    pub fn read(&self, rel: &str) -> Option<String> {
        let key = clean(rel);
        if let Some(text) = self.texts.0.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return text;
        }
        let text = self.read_uncached(&key);
        if let Ok(mut m) = self.texts.0.lock() {
            m.insert(key, text.clone());
        }
        text
    }

    fn read_uncached(&self, rel: &str) -> Option<String> {
        let p = self.dir.join(rel);
        let meta = std::fs::metadata(&p).ok()?;
        if meta.len() > 4 * 1024 * 1024 {
            return None;
        }
        std::fs::read_to_string(p).ok()
    }
}

/// Whether a 512-byte block is a tar header by its checksum (the field at
/// 148..156, octal, is the sum of the header's bytes with that field read
/// as spaces; unsigned or signed sums, as readers accept both). A field
/// that is not octal (a text file) is no header.
fn tar_checksum_ok(h: &[u8]) -> bool {
    let field = &h[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|c| *c == b' ')
        .take_while(|c| (b'0'..=b'7').contains(c))
        .collect();
    if digits.is_empty() {
        return false;
    }
    let Some(want) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| i64::from_str_radix(d, 8).ok())
    else {
        return false;
    };
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (k, b) in h.iter().enumerate() {
        let b = if (148..156).contains(&k) { b' ' } else { *b };
        unsigned += i64::from(b);
        signed += i64::from(b as i8);
    }
    want == unsigned || want == signed
}

/// The files the context ships, or `None` when that is not known: the
/// `.dockerignore` has a pattern whose meaning is not certain (see
/// [`DockerIgnore::unsure`]), or BuildKit versions ship different files
/// (with exceptions, the Docker 20.10 walker and fsutil's filter enter and
/// match differently).
/// With the files, the shipped links and empty directories
/// ([`Context::whole`]).
fn walk(dir: &Path, ignore: &DockerIgnore) -> Option<(BTreeMap<String, u64>, BTreeSet<String>)> {
    if ignore.unsure {
        return None;
    }
    let (files, mut whole) = walk_with(dir, ignore, false)?;
    // Without exceptions a directory matched by a pattern is skipped by
    // both, and what is reached matches no pattern through a parent: they
    // agree.
    if ignore.has_exceptions() {
        let (old, old_whole) = walk_with(dir, ignore, true)?;
        if old != files {
            return None;
        }
        whole.extend(old_whole);
    }
    Some((files, whole))
}

/// One BuildKit walk of the context: fsutil's filter (`old` false: each
/// path decided with its parent directory's record) or the walker of
/// Docker 20.10 (`old`: moby fileutils' `Matches`).
fn walk_with(
    dir: &Path,
    ignore: &DockerIgnore,
    old: bool,
) -> Option<(BTreeMap<String, u64>, BTreeSet<String>)> {
    let mut out = BTreeMap::new();
    let mut whole = BTreeSet::new();
    let mut dirs = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new(), Vec::new())];
    let mut seen = 0usize;
    let plain = ignore.patterns.is_empty();
    while let Some((abs, rel, record)) = stack.pop() {
        let entries = std::fs::read_dir(&abs).ok()?;
        for e in entries.flatten() {
            seen += 1;
            if seen > MAX_FILES {
                return None;
            }
            let name = match e.file_name().into_string() {
                Ok(name) => name,
                // Go matches the bytes; a name that is not UTF-8 is not
                // matched here.
                Err(_) if !plain => return None,
                Err(name) => name.to_string_lossy().into_owned(),
            };
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let (excluded, mine) = if plain {
                (false, Vec::new())
            } else if old {
                (ignore.decide_old(&r), Vec::new())
            } else {
                ignore.decide_with_parent(&r, &record)
            };
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !excluded {
                    dirs.push(r.clone());
                }
                // An excluded directory is entered only where an exception
                // may bring files back below it.
                if !excluded || ignore.enters_excluded(&r, old) {
                    stack.push((e.path(), r, mine));
                }
            } else if !excluded {
                if ft.is_symlink() {
                    whole.insert(r.clone());
                }
                out.insert(r, e.metadata().map_or(0, |m| m.len()));
            }
        }
    }
    // A directory shipped with no file below it (empty, or its contents
    // all excluded) is still created by the copy.
    for d in dirs {
        let below = format!("{d}/");
        if !out
            .range(below.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&below))
        {
            whole.insert(d);
        }
    }
    Some((out, whole))
}

/// The `path = …` entries of the context's `.gitmodules`.
fn submodule_paths(dir: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(dir.join(".gitmodules")) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.trim().split_once('=')?;
            (k.trim() == "path")
                .then(|| v.trim().trim_matches('"').trim_end_matches('/').to_string())
        })
        .filter(|p| !p.is_empty() && !p.starts_with('/') && !p.contains(".."))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain matcher: every token over every position, no shortcut.
    fn tokens_match_plain(toks: &[Tok], s: &[char]) -> bool {
        let n = s.len();
        let mut reach = vec![false; n + 1];
        reach[n] = true;
        for t in toks.iter().rev() {
            let next = reach.clone();
            for j in (0..=n).rev() {
                reach[j] = match t {
                    Tok::Lit(c) => j < n && s[j] == *c && next[j + 1],
                    Tok::One => j < n && s[j] != '/' && next[j + 1],
                    Tok::Class { negated, ranges } => {
                        j < n
                            && ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&s[j])) != *negated
                            && next[j + 1]
                    }
                    Tok::Star | Tok::Rest => {
                        let stop = if matches!(t, Tok::Star) { '/' } else { '\n' };
                        next[j] || (j < n && s[j] != stop && reach[j + 1])
                    }
                    Tok::Deep => {
                        next[j]
                            || (j..n)
                                .any(|k| s[k] == '/' && next[k + 1] && !s[j..k].contains(&'\n'))
                    }
                };
            }
        }
        reach[0]
    }

    proptest::proptest! {
        /// The matcher (with its literal start and end checked first)
        /// decides as the plain one, on the patterns `compile` makes.
        #[test]
        fn tokens_match_as_the_plain_matcher(
            pattern in "([ab/.]|\\*|\\*\\*/|\\?|\\[a-b\\]|\\[\\^/\\]){0,6}",
            path in "[ab/.\n]{0,8}",
        ) {
            if let Some(Matcher::Tokens(toks)) = compile(&pattern) {
                let s: Vec<char> = path.chars().collect();
                proptest::prop_assert_eq!(tokens_match(&toks, &path), tokens_match_plain(&toks, &s));
            }
        }
    }

    /// BuildKit does not enter a directory the `.dockerignore` excludes
    /// (when no exception could bring a file back): nothing below it is
    /// shipped, even where the per-file rule alone would keep a file (a
    /// pattern of more components than the file's path, which matches its
    /// directory through `**`).
    #[test]
    fn an_excluded_directory_is_not_entered_without_exceptions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("x")).expect("mkdir");
        std::fs::write(root.join("x/y"), "y").expect("write");
        std::fs::write(root.join("keep"), "k").expect("write");
        std::fs::write(root.join(".dockerignore"), "**/**/x\n").expect("write");
        let ctx = Context::new(root.to_path_buf(), None);
        assert!(ctx.ignore.excludes("x"));
        assert!(!ctx.ships("x/y"), "{:?}", ctx.files());
        assert!(ctx.ships("keep"));
        // With an exception the directory is entered, and the file rule
        // decides.
        std::fs::write(root.join(".dockerignore"), "**/**/x\n!keep\n").expect("write");
        let ctx = Context::new(root.to_path_buf(), None);
        assert_eq!(ctx.ships("x/y"), !ctx.ignore.excludes("x/y"));
    }

    #[test]
    fn dockerignore_rules() {
        let d = DockerIgnore::parse("# c\nnode_modules\n*.md\n!README.md\n**/*.pyc\n/build/\n");
        assert!(d.excludes("node_modules/a/b.js"));
        assert!(d.excludes("CHANGES.md"));
        assert!(!d.excludes("README.md"));
        assert!(!d.excludes("docs/x.md"), "* does not cross /");
        assert!(d.excludes("a/b/c.pyc"));
        assert!(d.excludes("c.pyc"));
        assert!(d.excludes("build/out"));
        assert!(!d.excludes("src/main.py"));
        let d = DockerIgnore::parse("*\n!src\n");
        assert!(d.excludes("Dockerfile"));
        assert!(!d.excludes("src/app.py"));
    }
}
