//! Abstract locations and how they meet: [`Loc`], glob and path-prefix
//! overlap (a pattern overlaps a path when some path matches both), and
//! the resolution of a path against a working directory. Overlap
//! over-approximates: a glob it cannot compare overlaps everything.

use super::*;

/// An abstract location an instruction reads or writes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Loc {
    /// A build variable (`ENV`, `ARG`).
    Var(String),
    /// Every variable in scope (the environment of a `RUN`).
    AllVars,
    Workdir,
    User,
    Shell,
    /// An image path; `/**` at the end covers the tree below.
    Path(String),
    /// An image config key (CMD, LABEL k, ...): last writer wins.
    Config(String),
    /// A directory an instruction creates when it is missing, with the
    /// owner (and mode) it would get: whoever creates it first decides
    /// them. `?` owners are not known (WORKDIR: the active USER).
    Dir {
        path: String,
        owner: String,
    },
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Var(v) => write!(f, "${v}"),
            Loc::AllVars => write!(f, "all variables"),
            Loc::Workdir => write!(f, "working directory"),
            Loc::User => write!(f, "user"),
            Loc::Shell => write!(f, "shell"),
            Loc::Path(p) => write!(f, "{p}"),
            Loc::Config(k) => write!(f, "config {k}"),
            Loc::Dir { path, owner } => write!(f, "directory {path} (owner {owner})"),
        }
    }
}

/// Whether a path component is a glob (`*`, `?`, `[…]`); `?wdN`, the
/// marker of an unknown working directory, is not.
pub(super) fn is_glob(c: &str) -> bool {
    // Bytes, not `str::contains` with a char set (this runs for every pair
    // of components compared): the three are ASCII, never part of a
    // longer UTF-8 sequence.
    let mut question = false;
    for b in c.bytes() {
        match b {
            b'*' | b'[' => return true,
            b'?' => question = true,
            _ => {}
        }
    }
    question && !c.starts_with("?wd")
}

/// Shell-style match of one component. `[…]` is a class of single
/// characters (members and ranges `a-z`; `^` negates, as in both Go's
/// `filepath.Match`, which COPY sources follow, and the shell). `[!…]`
/// negates in the shell but is a member `!` for Go: it matches whatever
/// either reading matches, that is any character. An unclosed `[` is a
/// literal. `?` takes one UTF-8 character; a class compares bytes, so
/// only ASCII is compared there (see [`comp_overlap`]).
pub(super) fn glob_match(p: &[u8], t: &[u8]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some(b'*') => (0..=t.len()).any(|k| glob_match(&p[1..], &t[k..])),
        // One character, as Go's `?` is one rune (`?` matches `é`, two
        // bytes): the byte and the UTF-8 continuation bytes after it.
        Some(b'?') => {
            !t.is_empty() && {
                let w = 1 + t[1..].iter().take_while(|&&b| b & 0xC0 == 0x80).count();
                glob_match(&p[1..], &t[w..])
            }
        }
        Some(b'[') => match (class_end(&p[1..]), t.first()) {
            (Some(end), Some(&c)) => {
                let (body, rest) = (&p[1..1 + end], &p[2 + end..]);
                class_matches(body, c) && glob_match(rest, &t[1..])
            }
            (Some(_), None) => false,
            (None, _) => t.first() == Some(&b'[') && glob_match(&p[1..], &t[1..]),
        },
        Some(&c) => t.first() == Some(&c) && glob_match(&p[1..], &t[1..]),
    }
}

/// The index of the `]` that closes a class whose body starts `body`
/// (a `]` first, or right after the negation, is a member).
pub(super) fn class_end(body: &[u8]) -> Option<usize> {
    let first = usize::from(matches!(body.first(), Some(b'!' | b'^')));
    let mut k = first;
    while k < body.len() {
        match body[k] {
            b']' if k > first => return Some(k),
            // `[:digit:]` inside a class ends at its own `:]`.
            b'[' if body.get(k + 1) == Some(&b':') => {
                k = (k + 2..body.len().saturating_sub(1))
                    .find(|&j| body[j] == b':' && body[j + 1] == b']')
                    .map_or(k + 1, |j| j + 2);
            }
            _ => k += 1,
        }
    }
    None
}

/// Whether the character `c` is in the class `body` (without brackets).
pub(super) fn class_matches(body: &[u8], c: u8) -> bool {
    // A POSIX class (`[[:digit:]]`) or an escape (`[\\]]` in Go): not
    // compared, taken to match.
    if body.windows(2).any(|w| w == b"[:") || body.contains(&b'\\') {
        return true;
    }
    let (negated, set) = match body.first() {
        // Go's member `!` and the shell's negation: either reading.
        Some(b'!') => return true,
        Some(b'^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut k = 0;
    let mut member = false;
    while k < set.len() {
        if k + 2 < set.len() && set[k + 1] == b'-' {
            member |= (set[k]..=set[k + 2]).contains(&c);
            k += 3;
        } else {
            member |= set[k] == c;
            k += 1;
        }
    }
    member != negated
}

/// Whether two components can name the same entry. A pattern or name
/// with a non-ASCII character is taken to meet any pattern (a class or
/// `?` stands for one character, which [`glob_match`] compares as bytes).
pub(super) fn comp_overlap(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (is_glob(a), is_glob(b)) {
        (false, false) => a == b,
        // Non-ASCII, or an escape outside a class: not compared.
        (true, false) | (false, true)
            if !a.is_ascii() || !b.is_ascii() || a.contains('\\') || b.contains('\\') =>
        {
            true
        }
        (true, false) => glob_match(a.as_bytes(), b.as_bytes()),
        (false, true) => glob_match(b.as_bytes(), a.as_bytes()),
        // Two patterns: assume they can meet.
        (true, true) => true,
    }
}

/// Whether two path patterns can name the same file.
pub fn paths_overlap(a: &str, b: &str) -> bool {
    bases_overlap(pattern_base(a), pattern_base(b))
}

/// [`paths_overlap`] of two patterns' [`pattern_base`]s: one side's is
/// made once where it is compared with many (a shipped file with every
/// lookup directory, a broad copy's file with every read).
pub(crate) fn bases_overlap((ba, ra): (&str, bool), (bb, rb): (&str, bool)) -> bool {
    let mut ia = Components(ba);
    let mut ib = Components(bb);
    let (mut x, mut y) = (ia.next(), ib.next());
    let unknown_a = x.is_some_and(|c| c.starts_with("?wd"));
    let unknown_b = y.is_some_and(|c| c.starts_with("?wd"));
    if unknown_a != unknown_b {
        // One side is below a directory we could not resolve: it may be
        // anywhere.
        return true;
    }
    loop {
        match (x, y) {
            (Some(cx), Some(cy)) => {
                if !comp_overlap(cx, cy) {
                    return false;
                }
            }
            (None, None) => return true,
            // The shorter one covers the longer only when it is recursive.
            (None, Some(_)) => return ra,
            (Some(_), None) => return rb,
        }
        x = ia.next();
        y = ib.next();
    }
}

/// The non-empty `/`-separated components of a path (as
/// `split('/').filter(|c| !c.is_empty())`, without a searcher per call:
/// this runs for every pair of paths compared).
pub(super) struct Components<'a>(pub(super) &'a str);

impl<'a> Iterator for Components<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        // Bytes, not `trim_start_matches('/')` (a char searcher per call).
        let start = self
            .0
            .bytes()
            .position(|b| b != b'/')
            .unwrap_or(self.0.len());
        let rest = self.0.get(start..).unwrap_or("");
        if rest.is_empty() {
            self.0 = rest;
            return None;
        }
        let end = rest.bytes().position(|b| b == b'/').unwrap_or(rest.len());
        let (comp, tail) = rest.split_at(end);
        self.0 = tail;
        Some(comp)
    }
}

/// The fixed part of a pattern and whether it covers everything below it:
/// `a/b/**` is (`a/b`, true); `a/**/c` or `a/x**` is (`a`, true).
pub(crate) fn pattern_base(p: &str) -> (&str, bool) {
    if !p.as_bytes().contains(&b'*') {
        return (p.trim_end_matches('/'), false);
    }
    let recursive = p.ends_with("/**") || p == "**";
    // `trim_end_matches("**")` without building a substring searcher per
    // call (this runs for every pair of paths compared).
    let mut base = p;
    while let Some(b) = base.strip_suffix("**") {
        base = b;
    }
    let base = base.trim_end_matches('/');
    // Bytes, not `str::contains`: this runs for every shipped file.
    match base.as_bytes().windows(2).position(|w| w == b"**") {
        None => (base, recursive),
        Some(k) => {
            let start = base[..k].rfind('/').map_or(0, |s| s + 1);
            (&base[..start], true)
        }
    }
}

pub(super) fn loc_conflict(a: &Loc, b: &Loc) -> bool {
    match (a, b) {
        (Loc::Path(x), Loc::Path(y)) => paths_overlap(x, y),
        (Loc::Dir { path: x, owner: ox }, Loc::Dir { path: y, owner: oy }) => {
            // Two creators of the same directory commute only when they
            // would give it the same, known owner.
            x == y && (ox != oy || ox.starts_with('?'))
        }
        (Loc::Dir { path: d, .. }, Loc::Path(p)) | (Loc::Path(p), Loc::Dir { path: d, .. }) => {
            paths_overlap(d, p)
        }
        (Loc::AllVars, Loc::Var(_)) | (Loc::Var(_), Loc::AllVars) => true,
        (Loc::AllVars, Loc::AllVars) => true,
        (Loc::Var(x), Loc::Var(y)) => vars_match(x, y),
        _ => a == b,
    }
}

/// Whether two variable names meet; a `*` at the end of one is a prefix
/// (`LC_*`, `APT_*`), as the knowledge base writes the variables a command
/// honours.
pub(super) fn vars_match(x: &str, y: &str) -> bool {
    match (x.strip_suffix('*'), y.strip_suffix('*')) {
        (Some(px), Some(py)) => px.starts_with(py) || py.starts_with(px),
        (Some(px), None) => y.starts_with(px),
        (None, Some(py)) => x.starts_with(py),
        (None, None) => x == y,
    }
}

/// Normalises an absolute or relative path against a working directory.
pub fn resolve(wd: &str, p: &str) -> String {
    // Most paths (every shipped file of a broad copy) are already normal:
    // join them without splitting.
    if let Some(out) = join_normal(wd, p) {
        return out;
    }
    resolve_components(wd, p)
}

/// Whether `s` is `c1/c2/...` with every component non-empty, not `.` or
/// `..` (so [`resolve_components`] would keep it as it is, but for a
/// repeated `/**` at its end, which [`join_normal`] checks).
pub(super) fn is_normal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut start = 0;
    for i in 0..=b.len() {
        if i == b.len() || b[i] == b'/' {
            let c = &b[start..i];
            if c.is_empty() || c == b"." || c == b".." {
                return false;
            }
            start = i + 1;
        }
    }
    true
}

/// [`resolve`] of a normal path `p` (relative, or absolute) in a normal
/// absolute working directory; `None` for anything else.
pub(super) fn join_normal(wd: &str, p: &str) -> Option<String> {
    let out = if let Some(abs) = p.strip_prefix('/') {
        is_normal(abs).then(|| p.to_string())?
    } else {
        if !is_normal(p) {
            return None;
        }
        if wd == "/" {
            format!("/{p}")
        } else {
            let rel = wd.strip_prefix('/')?;
            if !is_normal(rel) {
                return None;
            }
            let mut out = String::with_capacity(wd.len() + 1 + p.len());
            out.push_str(wd);
            out.push('/');
            out.push_str(p);
            out
        }
    };
    // A pattern (the knowledge base's `/usr/local/go/**`) is kept as it
    // is, but `a/**/**`, which resolves to `a/**`.
    (!out.ends_with("/**/**")).then_some(out)
}

/// [`resolve`] component by component.
pub(super) fn resolve_components(wd: &str, p: &str) -> String {
    let joined = if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{}/{}", wd.trim_end_matches('/'), p)
    };
    let recursive = joined.ends_with("/**");
    let body = joined.trim_end_matches("/**");
    let mut parts: Vec<&str> = Vec::new();
    for c in body.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| !l.starts_with('?')) {
                    parts.pop();
                }
            }
            c => parts.push(c),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    if recursive {
        if out == "/" {
            out = "/**".into();
        } else {
            out.push_str("/**");
        }
    }
    out
}
