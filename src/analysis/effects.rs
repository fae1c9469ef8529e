//! What each instruction reads and writes (DESIGN.md section 4), as
//! abstract locations, and when two instructions conflict.
//!
//! The rule for safety: anything not understood reads and writes
//! everything. An unknown `RUN` writes every image path, so nothing that
//! reads or writes an image path moves across it.
//!
//! What each instruction reads and writes under BuildKit, as checked in
//! BuildKit's `frontend/dockerfile/dockerfile2llb/convert.go` (the
//! `dispatch*` functions) and the Dockerfile reference:
//!
//! - `RUN`: every variable in scope (`dispatchRun` adds the stage's ENV
//!   and every declared build `ARG` to the exec's environment), the
//!   working directory, `USER`, `SHELL`; the paths its commands name
//!   (knowledge base; an argument that may be a path is a read of it and
//!   its contents); and implicitly the programs, libraries and settings it
//!   may load: the system trees, each directory of `PATH`,
//!   `LD_LIBRARY_PATH`, `PYTHONPATH`, ... and the home directory
//!   ([`Effects::implicit_reads`], narrowed for base utilities, system
//!   package managers and separate language ecosystems). `--mount=type=
//!   cache|tmpfs` add nothing to the image; a `bind` mount of one context
//!   file puts it at the target for this `RUN` only (its reads there are
//!   context reads, its writes there are not kept); other `bind` mounts
//!   (directories, `from=`), `secret` and `ssh` mounts are not followed
//!   (the `RUN` is opaque). A heredoc script (`RUN <<EOF`) is read as
//!   the command line ([`Instruction::run_script`]); other heredocs are
//!   opaque. Writes: what the knowledge base says.
//! - `COPY`/`ADD`: variables used in sources, destination and flags
//!   (`--chown=$U`, `--from=$STAGE`), the working directory for a relative
//!   destination, `/etc/passwd` and `/etc/group` for named `--chown`
//!   owners, and for a heredoc with an unquoted delimiter the variables
//!   of its body (BuildKit expands them). Writes: the destination (each
//!   shipped file when the context is known; the whole subtree for
//!   `--from`, archives `ADD` extracts, URLs and globs), and every missing
//!   directory of the destination path with its owner (root or `--chown`;
//!   `mkdir -p` semantics of the file op). `COPY --link` writes the same
//!   files (it changes how layers are stacked, not their contents).
//! - `WORKDIR`: reads variables, the working directory and `USER`
//!   (`dispatchWorkdir`: `llb.Mkdir(wd, 0755, WithParents, WithUser(user))`);
//!   writes the working directory and each directory it creates, owned
//!   by the active user.
//! - `ENV`/`ARG`: write the variable, read the variables of the value.
//! - `USER`, `SHELL`: write the user and the shell.
//! - `LABEL`, `EXPOSE`, `STOPSIGNAL`, `MAINTAINER`, `CMD`, `ENTRYPOINT`,
//!   `HEALTHCHECK`, `ONBUILD`: write image config only (no build
//!   operation: editing them invalidates no step). `VOLUME` writes config
//!   and, conservatively, the volume's subtree.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

use super::context::Context;
use super::kb::{self, CostClass, ManifestCheck};
use super::shell::{self, Split};
use crate::model::Stage;
use crate::syntax::{Instruction, Kind, Mount, Parse};

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
fn is_glob(c: &str) -> bool {
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
fn glob_match(p: &[u8], t: &[u8]) -> bool {
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
fn class_end(body: &[u8]) -> Option<usize> {
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
fn class_matches(body: &[u8], c: u8) -> bool {
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
fn comp_overlap(a: &str, b: &str) -> bool {
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
struct Components<'a>(&'a str);

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

fn loc_conflict(a: &Loc, b: &Loc) -> bool {
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
fn vars_match(x: &str, y: &str) -> bool {
    match (x.strip_suffix('*'), y.strip_suffix('*')) {
        (Some(px), Some(py)) => px.starts_with(py) || py.starts_with(px),
        (Some(px), None) => y.starts_with(px),
        (None, Some(py)) => x.starts_with(py),
        (None, None) => x == y,
    }
}

/// The effects of one unit.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Effects {
    pub reads: Vec<Loc>,
    /// What a `RUN` reads without naming it: the programs, libraries and
    /// configuration found through `PATH` and the system trees, and the
    /// user's home. They order it after any writer there, but they are not
    /// inputs a hoisted install needs copied first.
    pub implicit_reads: Vec<Loc>,
    /// The language ecosystem of every command of a `RUN` (`python`,
    /// `node`, ...), `base` for base tools only, `None` for system package
    /// managers, mixed ecosystems or anything not understood.
    #[serde(skip)]
    pub ecosystem: Option<&'static str>,
    /// The search-path directories and home dotfiles among the implicit
    /// reads (see [`ships_into_lookup`]).
    #[serde(skip)]
    pub lookup_dirs: Vec<String>,
    pub writes: Vec<Loc>,
    /// Context paths it reads (COPY/ADD sources, bind mounts).
    pub context_reads: Vec<String>,
    /// Image paths of dependency manifests a RUN reads (resolved).
    pub manifests: Vec<String>,
    /// Image paths a RUN writes only when they do not exist yet.
    pub writes_if_missing: Vec<String>,
    /// A `RUN`: it may make the directories above what it writes (see
    /// [`makes_owned_dir_first`]).
    #[serde(skip)]
    pub is_run: bool,
    /// A `RUN` that certainly runs as root: a directory it makes on the
    /// way to what it writes is root's (see [`makes_owned_dir_first`]).
    #[serde(skip)]
    pub runs_as_root: bool,
    /// Directories known to exist before this unit: those a `WORKDIR` of
    /// the stage made (with their parents) and no later `RUN` may have
    /// removed (`RUN rm -rf /code`). A copy gives its `--chown`
    /// owner only to directories it makes (measured with BuildKit: after
    /// `WORKDIR /usr/src/app`, `COPY --chown=1000:1000 . .` leaves
    /// `/usr/src/app` root's), so it makes none of these.
    #[serde(skip)]
    pub existing_dirs: Vec<String>,
    /// The image paths a `RUN`'s mounts are made at (`--mount=type=cache,
    /// target=/code/cache`): BuildKit makes each with the directories above
    /// it, root's, whoever runs the command (measured: `/code` root's after
    /// such a mount).
    #[serde(skip)]
    pub mount_targets: Vec<String>,
    /// A mount whose target is not known (see `mount_targets`).
    #[serde(skip)]
    pub mount_unknown: bool,
    /// Image paths of lock files (among `writes`) a RUN leaves as they are
    /// when they agree with their manifests ([`lock_kept`] says when).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept_locks: Vec<String>,
    /// Paths written by a command of the `RUN` that does not keep them: a
    /// lock among them is not kept (`npm install && npm audit fix`).
    #[serde(skip)]
    pub unkept_writes: Vec<String>,
    /// The writes (among `writes`) that only change the owner or mode of
    /// what is there (`chown -R node /app`): they put no file anywhere
    /// (see [`creates_path`]).
    #[serde(skip)]
    pub metadata_writes: Vec<Loc>,
    /// The writes of its commands that may make files (see
    /// `metadata_writes`).
    #[serde(skip)]
    pub made_writes: Vec<Loc>,
    /// The writes (among `writes`) that are directories a command creates
    /// and nothing below them (`mkdir`), when nothing else of the `RUN`
    /// writes there (see [`creates_path`]).
    #[serde(skip)]
    pub dir_writes: Vec<Loc>,
    /// Directories (among `reads`) that must exist for the `RUN` to
    /// succeed: those a `cd DIR` or a directory option (`composer -d DIR`)
    /// moves to. Other reads are of files read when present.
    #[serde(skip)]
    pub needed_dirs: Vec<String>,
    /// Manifest checks to make against the context (for hoisting).
    #[serde(skip)]
    pub checks: Vec<(ManifestCheck, String)>,
    /// Why the analysis could not follow it (it then reads and writes
    /// everything).
    pub opaque: Option<String>,
    pub cost: f64,
    pub cost_class: Option<CostClass>,
    /// Package index update (apt/apk/yum) alone in its RUN.
    pub lone_update: Option<String>,
    /// First command is the install matching an update family.
    pub install_of: Option<String>,
    /// Pinned by `# dockreorder: keep`.
    pub keep: bool,
    /// A `USER` whose user's home is known ([`RunUser::homes`] narrows
    /// it): only then may it move above a broad copy with an install (an
    /// unknown home may be where the copy ships the tool's settings).
    pub user_home_known: bool,
    /// Not understood, but its reads are declared by a pragma: what it
    /// writes is unknown.
    pub declared_only: bool,
    /// A `RUN` whose installs only download verified packages into their
    /// own cache (`cargo fetch`, `go mod download`; see
    /// [`kb::Entry::fetch`]), the rest being base utilities.
    #[serde(skip)]
    pub fetch_only: bool,
    /// A `RUN` of system package managers (and base utilities) only.
    #[serde(skip)]
    pub system_only: bool,
    /// A `RUN`'s bind mounts of context files: (context path, image path).
    #[serde(skip)]
    pub binds: Vec<(String, String)>,
    /// The packages a system-only `RUN` installs (`None`: not known).
    #[serde(skip)]
    pub packages: Option<Vec<String>>,
    /// An `ARG` of a variable assumed to take a new value on every build
    /// ([`super::volatile`]): its name. It invalidates the stage from here
    /// on in every build; where it may go is still the graph's to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_build: Option<String>,
    /// The repositories (`.git`) among `reads` that a command running git
    /// in its working directory finds (see [`kb::GitUse::Workdir`]): a
    /// broad copy that ships one makes a hoist `Unsafe` (the install would
    /// no longer see it) rather than impossible.
    #[serde(skip)]
    pub repo_reads: Vec<String>,
    /// The commands that may run git in their working directory, as
    /// (command and subcommand, directory): what `repo_reads` comes from.
    #[serde(skip)]
    pub repo_tools: Vec<(String, String)>,
    /// The stage's application directory under `/opt` (see
    /// [`stage_app_dir`]): what is written below it does not meet this
    /// `RUN`'s implicit read of `/opt/**`.
    #[serde(skip)]
    pub app_dir: Option<String>,
    /// For a `RUN` read command by command: what it does to corepack's
    /// yarn shims (see [`corepack_after`]).
    #[serde(skip)]
    pub corepack: Option<RunCorepack>,
    /// The writes (among `writes`, once each) of its `apt-get`/`apt`
    /// commands that install from the configured sources by package name
    /// only ([`archive_apt`]): what [`lock_kept`] takes as the
    /// distribution's packages where the stage's sources are Debian's.
    #[serde(skip)]
    pub archive_writes: Vec<Loc>,
    /// A system package manager command of it is not such an install
    /// (`dpkg -i`, `apt-get -o … update`, a keyring package): what it
    /// installs may come from elsewhere, later archive installs too.
    #[serde(skip)]
    pub foreign_packages: bool,
}

/// What commands do to corepack's yarn shims ([`corepack_state`]):
/// whether they are what `yarn` runs after them (`None`: nothing said),
/// and whether a command may shadow them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCorepack {
    pub state: Option<bool>,
    pub shadows: bool,
}

/// Why `a` must stay before `b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DepReason {
    /// `a` writes what `b` reads.
    WriteRead(Loc),
    /// `a` reads what `b` writes.
    ReadWrite(Loc),
    /// Both write it.
    WriteWrite(Loc),
    /// A pinned instruction (`# dockreorder: keep`).
    Pinned,
}

impl fmt::Display for DepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepReason::WriteRead(l) => write!(f, "writes {l}, which the later one reads"),
            DepReason::ReadWrite(l) => write!(f, "reads {l}, which the later one writes"),
            DepReason::WriteWrite(l) => write!(f, "both write {l}"),
            DepReason::Pinned => write!(f, "pinned by `# dockreorder: keep`"),
        }
    }
}

/// The first reason `a` (earlier) must stay before `b` (later), if any.
pub fn conflict(a: &Effects, b: &Effects) -> Option<DepReason> {
    if a.keep || b.keep {
        return Some(DepReason::Pinned);
    }
    // A broad copy writes thousands of paths: only the locations of the
    // other side that can meet the directory they all lie under are
    // compared with each of them (the same first conflict is found).
    let (aw, bw) = (Near::of(&a.writes), Near::of(&b.writes));
    // Each side's list by class, in order: a location is compared only with
    // those of its own class, the only ones it can meet (a broad copy's
    // thousands of paths never meet a `RUN`'s hundred variables); the
    // first conflict in the original order is still the one found.
    // Each location of `b`'s lists is compared with each of `a`'s: with
    // a long list on `a`'s side its base is made once beforehand, with a
    // short one (a conflict is often found at once) when compared.
    let bases = a.writes.len() >= Near::LONG;
    let b_reads = ByClass::of(aw.keep(&b.reads), bases);
    let b_implicit = ByClass::of(aw.keep(&b.implicit_reads), bases);
    for w in &a.writes {
        // A written path's base is made once for all the reads (when there
        // are some to compare it with).
        let wb = Based::when(
            w,
            !b_reads.like(w).is_empty() || !b_implicit.like(w).is_empty(),
        );
        if let Some(r) = b_reads.like(w).iter().find(|r| based_conflict(wb, **r)) {
            return Some(DepReason::WriteRead(narrower(w, r.loc)));
        }
        if !hidden_from_later(a, b)
            && let Some(r) = b_implicit
                .like(w)
                .iter()
                .find(|r| based_implicit_conflict(wb, **r, b.app_dir.as_deref()))
        {
            return Some(DepReason::WriteRead(narrower(w, r.loc)));
        }
    }
    let a_reads = bw.keep(&a.reads);
    let bases = a_reads.len().max(a.implicit_reads.len()) >= Near::LONG;
    let b_all_writes = ByClass::of(b.writes.iter().collect(), bases);
    for r in a_reads {
        let rb = Based::when(r, !b_all_writes.like(r).is_empty());
        if let Some(w) = b_all_writes
            .like(r)
            .iter()
            .find(|w| based_conflict(rb, **w))
        {
            return Some(DepReason::ReadWrite(narrower(r, w.loc)));
        }
    }
    if !separate_ecosystems(b, a) {
        for r in bw.keep(&a.implicit_reads) {
            let rb = Based::when(r, !b_all_writes.like(r).is_empty());
            if let Some(w) = b_all_writes
                .like(r)
                .iter()
                .find(|w| based_implicit_conflict(**w, rb, a.app_dir.as_deref()))
            {
                return Some(DepReason::ReadWrite(narrower(r, w.loc)));
            }
        }
    }
    let a_writes = bw.keep(&a.writes);
    let b_writes = ByClass::of(aw.keep(&b.writes), a_writes.len() >= Near::LONG);
    for w in a_writes {
        let wb = Based::when(w, !b_writes.like(w).is_empty());
        if let Some(w2) = b_writes.like(w).iter().find(|w2| based_conflict(wb, **w2)) {
            return Some(DepReason::WriteWrite(narrower(w, w2.loc)));
        }
    }
    if let Some((d, p)) = makes_owned_dir_first(a, b).or_else(|| makes_owned_dir_first(b, a)) {
        return Some(DepReason::WriteWrite(Loc::Path(format!("{d} (to {p})"))));
    }
    None
}

/// A directory `a` makes (`COPY --chown=app . /code/app` makes `/code`
/// app's) that `b`, a `RUN`, may make first with another owner: whichever
/// makes it first gives it its owner (measured with BuildKit: `/code` uid
/// 1000 -> 0 when a root `mkdir -p /code/data` ran first). A mount's
/// target is made with its parents root's whoever runs the command; a
/// path the `RUN` writes below the directory, with its parents root's
/// when it certainly runs as root, else with an owner not known (`USER
/// $UID` may be root; `USER app` makes a directory in one it owns
/// app's, with app's primary group, not the copy's `--chown=app:users`:
/// measured gid 100 -> 1000). The two commute only when both would make
/// it root's: `a` makes it `0:0` (no `--chown`, no `--chmod`) and `b`
/// makes it as root. Owners not known (`--chown=${UID}`, measured `/code`
/// uid 1000 -> 0) never commute. A directory that already exists before
/// `a` ([`Effects::existing_dirs`]) is made by neither: a `WORKDIR` that
/// made it stays before both, as both read the working directory or
/// write the directory it makes. Nor are directories in every image
/// ([`IN_EVERY_IMAGE`]). (A `RUN` of another user may also not be
/// allowed to make it at all: measured, `USER app` then `RUN mkdir -p
/// /code/data` moved above `COPY --chown=app . /code/app` failed.)
pub(crate) fn makes_owned_dir_first(a: &Effects, b: &Effects) -> Option<(String, String)> {
    if !b.is_run {
        return None;
    }
    let exists = |d: &str| {
        IN_EVERY_IMAGE.contains(&d) || a.existing_dirs.iter().any(|x| x == d || below_dir(x, d))
    };
    a.writes.iter().find_map(|w| match w {
        Loc::Dir { path, owner } if !exists(path) => {
            let root = owner == "0:0";
            if root && b.runs_as_root {
                // Both make it root's: a mount's target too.
                return None;
            }
            if !root {
                if b.mount_unknown {
                    return Some((path.clone(), "a mount".to_string()));
                }
                let mounted = b
                    .mount_targets
                    .iter()
                    .find(|t| *t == path || below_dir(t, path))
                    .map(|t| (path.clone(), format!("a mount at {t}")));
                if mounted.is_some() {
                    return mounted;
                }
            }
            b.writes.iter().find_map(|w2| match w2 {
                Loc::Path(p) | Loc::Dir { path: p, .. }
                    if below_dir(p, path) && !paths_overlap(path, p) =>
                {
                    Some((path.clone(), p.clone()))
                }
                _ => None,
            })
        }
        _ => None,
    })
}

/// Directories in every image with a shell: nothing makes them.
pub(crate) const IN_EVERY_IMAGE: &[&str] = &["/", "/usr", "/etc", "/var", "/tmp", "/root"];

/// Where a `RUN`'s mounts are made in the image (see
/// [`Effects::mount_targets`]), resolved in working directory `wd` as
/// BuildKit resolves a relative target; `None` when one is not known (a
/// flag not parsed, no target, a variable, an unknown directory). Not a
/// `RUN`: none.
fn mount_targets(ins: &Instruction, wd: &str) -> Option<Vec<String>> {
    if ins.node.kind != Kind::Run {
        return Some(Vec::new());
    }
    let mut out = Vec::new();
    for f in ins.node.flags.iter().filter(|f| Mount::is_mount_flag(f)) {
        let m = Mount::parse(f)?;
        // BuildKit's defaults (`commands_runmount.go`).
        let t = match (m.target(), m.kind().as_str()) {
            (Some(t), _) => t.to_string(),
            (None, "secret") => format!("/run/secrets/{}", m.id()?),
            (None, "ssh") => "/run/buildkit/ssh_agent".to_string(),
            _ => return None,
        };
        if t.is_empty() || t.contains('$') {
            return None;
        }
        let t = resolve(wd, &t);
        if t.contains('?') {
            return None;
        }
        out.push(t);
    }
    Some(out)
}

/// Whether `e` may remove or replace directory `d`: it writes `d`, a
/// directory above it, a path in a working directory not known, or a
/// pattern that may reach `d` (`/code/**` after `rm -rf /code`).
fn may_remove_dir(e: &Effects, d: &str) -> bool {
    e.writes.iter().any(|w| match w {
        Loc::Path(p) | Loc::Dir { path: p, .. } => {
            let base = p.trim_end_matches("/**").trim_end_matches('/');
            base.is_empty()
                || base.starts_with('?')
                || base == d
                || below_dir(d, base)
                || paths_overlap(p, d)
        }
        Loc::AllVars | Loc::Workdir | Loc::Var(_) | Loc::Config(_) | Loc::User | Loc::Shell => {
            false
        }
    })
}

/// Whether pattern `p` names only paths strictly below directory `d`.
fn below_dir(p: &str, d: &str) -> bool {
    let d = d.trim_end_matches('/');
    !d.is_empty()
        && p.strip_prefix(d)
            .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
}

/// A list of locations split by class, each part in the list's order: two
/// locations of different classes never conflict ([`based_conflict`] and
/// [`based_implicit_conflict`] are true only for two paths or
/// directories, two variables, or two equal other locations).
struct ByClass<'l>([Vec<Based<'l>>; 3]);

impl<'l> ByClass<'l> {
    fn class(l: &Loc) -> usize {
        match l {
            Loc::Path(_) | Loc::Dir { .. } => 0,
            Loc::Var(_) | Loc::AllVars => 1,
            Loc::Workdir | Loc::User | Loc::Shell | Loc::Config(_) => 2,
        }
    }

    /// The list by class, each location with its base when `bases`.
    fn of(list: Vec<&'l Loc>, bases: bool) -> Self {
        let mut out: [Vec<Based<'l>>; 3] = Default::default();
        for l in list {
            out[Self::class(l)].push(Based::when(l, bases));
        }
        ByClass(out)
    }

    /// The locations of `l`'s class.
    fn like(&self, l: &Loc) -> &[Based<'l>] {
        &self.0[Self::class(l)]
    }
}

/// A location with the [`pattern_base`] of its path when it is a path or
/// a directory: made once per location of a list, not once per pair
/// compared (a broad copy's thousands of files against a `RUN`'s reads
/// made it most of the rewrite check on a large context). `None` also
/// when not made beforehand: then it is made when compared.
#[derive(Clone, Copy)]
struct Based<'l> {
    loc: &'l Loc,
    base: Option<(&'l str, bool)>,
}

impl<'l> Based<'l> {
    /// `loc`, with its base made now when `now`.
    fn when(loc: &'l Loc, now: bool) -> Self {
        let base = if now { Self::make(loc) } else { None };
        Based { loc, base }
    }

    fn make(loc: &'l Loc) -> Option<(&'l str, bool)> {
        match loc {
            Loc::Path(p) | Loc::Dir { path: p, .. } => Some(pattern_base(p)),
            _ => None,
        }
    }

    /// The base, made now if it was not.
    fn base(&self) -> Option<(&'l str, bool)> {
        self.base.or_else(|| Self::make(self.loc))
    }
}

/// [`loc_conflict`] from the locations' bases: a path meets a path or a
/// directory as [`paths_overlap`] of their paths (the directory's first,
/// as `loc_conflict` passes it), the rest as `loc_conflict` decides.
fn based_conflict(a: Based<'_>, b: Based<'_>) -> bool {
    match (a.loc, b.loc) {
        (Loc::Path(_) | Loc::Dir { .. }, Loc::Path(_)) | (Loc::Path(_), Loc::Dir { .. }) => {
            match (a.base(), b.base()) {
                (Some(x), Some(y)) if matches!(b.loc, Loc::Dir { .. }) => bases_overlap(y, x),
                (Some(x), Some(y)) => bases_overlap(x, y),
                _ => loc_conflict(a.loc, b.loc),
            }
        }
        _ => loc_conflict(a.loc, b.loc),
    }
}

/// [`implicit_conflict`] from the locations' bases (see
/// [`based_conflict`]).
fn based_implicit_conflict(w: Based<'_>, r: Based<'_>, app: Option<&str>) -> bool {
    let wp = match w.loc {
        Loc::Path(p) => p,
        Loc::Dir { .. } => return false,
        _ => return based_conflict(w, r),
    };
    let app_only = matches!(r.loc, Loc::Path(t) if app_tree_read(t, app)) && below_app_dir(wp, app);
    !under_source_tree(wp) && !app_only && based_conflict(w, r)
}

/// The literal directory every location of a long list lies under, as a
/// recursive pattern: a location that does not overlap it meets none of
/// them ([`paths_overlap`] compares component by component, so a path
/// under the directory overlaps only what the directory's pattern does).
struct Near(Option<Loc>);

impl Near {
    /// Lists shorter than this are compared whole.
    const LONG: usize = 64;

    fn of(locs: &[Loc]) -> Near {
        if locs.len() < Self::LONG {
            return Near(None);
        }
        let mut root: Option<&str> = None;
        for l in locs {
            let p = match l {
                Loc::Path(p) | Loc::Dir { path: p, .. } => p.as_str(),
                _ => return Near(None),
            };
            if !p.starts_with('/') || p.starts_with("/?") || p.contains(['*', '?', '[']) {
                return Near(None);
            }
            root = Some(match root {
                None => p,
                Some(r) => common_dir(r, p),
            });
        }
        let root = root.unwrap_or("/").trim_end_matches('/');
        Near(Some(Loc::Path(format!("{root}/**"))))
    }

    /// The locations of `list` that may meet the long list (all when it
    /// has no common directory).
    fn keep<'l>(&self, list: &'l [Loc]) -> Vec<&'l Loc> {
        match &self.0 {
            None => list.iter().collect(),
            Some(root) => list
                .iter()
                .filter(|l| match l {
                    Loc::Path(_) | Loc::Dir { .. } => loc_conflict(root, l),
                    _ => true,
                })
                .collect(),
        }
    }
}

/// The longest common directory of two absolute literal paths (`/` at
/// least), as a prefix of `a`.
fn common_dir<'s>(a: &'s str, b: &str) -> &'s str {
    let mut end = 0;
    for (i, (x, y)) in a.bytes().zip(b.bytes()).enumerate() {
        if x != y {
            break;
        }
        if x == b'/' {
            end = i;
        }
    }
    // The whole shorter path when it is a directory of the other.
    let n = a.len().min(b.len());
    if a.as_bytes().get(..n) == b.as_bytes().get(..n) {
        let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        if long.len() == short.len() || long.as_bytes().get(short.len()) == Some(&b'/') {
            end = short.len();
        }
    }
    a.get(..end.max(1)).unwrap_or("/")
}

/// Whether what `writer` (a language installer) puts in the image is out
/// of sight of `reader`'s programs: a language's packages (Python's
/// site-packages, node_modules, gems, ...) are loaded by that language's
/// tools only. Assumption, stated in the README: an installer adds
/// commands to bin directories but does not replace another ecosystem's.
/// System package managers, base tools that write (`curl`, `tar`) and
/// anything not understood have no such scope.
///
/// A download-only install (`cargo fetch`, `go mod download`) is separate
/// from a system package manager both ways (but see
/// [`hidden_from_later`] for a system install that comes first). Assumption, stated in the
/// README: what it writes is fixed by its manifests, lock file,
/// configuration and variables (the packages it downloads are verified
/// against the lock file), so system packages installed before it do not
/// change it; and no system package manager or its scripts load the
/// language's download cache.
///
/// Not when the system install may provide what the download runs: a
/// package whose name holds the ecosystem's toolchain (`golang-go`,
/// `cargo`, `maven`, `openjdk-17-jdk`) or a fetch transport (`git`,
/// `ca-certificates`, `openssh-client`), or packages not known.
fn separate_ecosystems(writer: &Effects, reader: &Effects) -> bool {
    match (writer.ecosystem, reader.ecosystem) {
        (Some(w), Some(r)) => w != "base" && w != r,
        (None, Some(r)) if writer.system_only && reader.fetch_only => writer
            .packages
            .as_ref()
            .is_some_and(|pkgs| !pkgs.iter().any(|p| provides_fetcher(p, r))),
        _ => writer.fetch_only && reader.system_only,
    }
}

/// [`separate_ecosystems`] for `earlier`, which the later `later` follows
/// in the original order: not a system install before a download-only
/// fetch, whatever packages it names. Their dependencies and recommends
/// may bring what the fetch needs (`apt-get install python3` installs
/// ca-certificates; measured with `apt-get -s` on debian:bookworm-slim),
/// so the fetch moved above it could fail. The other way round, a system
/// install moved above a fetch that preceded it, the fetch only finds
/// more there.
fn hidden_from_later(earlier: &Effects, later: &Effects) -> bool {
    separate_ecosystems(earlier, later) && !(earlier.system_only && later.fetch_only)
}

/// Whether a system package may provide a download-only install of
/// `ecosystem` with its program or a transport it uses.
fn provides_fetcher(package: &str, ecosystem: &str) -> bool {
    let p = package.to_ascii_lowercase();
    let toolchain: &[&str] = match ecosystem {
        "go" => &["go"],
        "rust" => &["cargo", "rust"],
        "java" => &["maven", "mvn", "jdk", "jre", "java", "gradle"],
        "node" => &["node", "npm", "pnpm", "yarn"],
        "python" => &["python", "pip"],
        // Unknown: any package may.
        _ => return true,
    };
    const TRANSPORTS: &[&str] = &[
        "git",
        "certificates",
        "ssh",
        "mercurial",
        "hg",
        "subversion",
        "svn",
        "bzr",
        "curl",
        "wget",
    ];
    toolchain.iter().chain(TRANSPORTS).any(|t| p.contains(t))
}

/// The ecosystem a command belongs to (see [`Effects::ecosystem`]);
/// `None` for system package managers.
fn ecosystem_of(argv0: &str) -> Option<&'static str> {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    let name = name.trim_start_matches("./");
    Some(match name {
        "pip" | "pip3" | "pipenv" | "poetry" | "uv" | "venv" | "virtualenv" | "python"
        | "python3" | "hatch" | "pdm" => "python",
        "npm" | "npx" | "yarn" | "pnpm" | "corepack" | "node" => "node",
        "gem" | "bundle" | "bundler" | "ruby" | "rake" => "ruby",
        "go" => "go",
        "cargo" | "rustup" | "rustc" => "rust",
        "composer" | "php" => "php",
        "mvn" | "mvnw" | "gradle" | "gradlew" | "java" => "java",
        "dotnet" => "dotnet",
        "mix" => "elixir",
        n if SYSTEM_INSTALLERS.contains(&n) => return None,
        _ => "base",
    })
}

/// Source trees by convention (`/usr/src/app`, `/usr/local/src`): no
/// program, library or configuration is looked up there, so writes below
/// them do not meet a `RUN`'s implicit reads of `/usr/**`.
const SOURCE_TREES: &[&str] = &["/usr/src", "/usr/local/src"];

fn under_source_tree(p: &str) -> bool {
    SOURCE_TREES
        .iter()
        .any(|t| p.strip_prefix(t).is_some_and(|r| r.starts_with('/')))
}

/// Whether a write meets an implicit read of a `RUN` whose stage has the
/// application directory `app` (see [`stage_app_dir`]). The plain
/// definition, the tests' reference: [`conflict`] decides by
/// [`based_implicit_conflict`], the same from bases made once.
#[cfg(test)]
fn implicit_conflict(w: &Loc, r: &Loc, app: Option<&str>) -> bool {
    let wp = match w {
        Loc::Path(p) => p,
        // Creating a directory changes no program, library or setting
        // found there (its owner matters only to what is put inside).
        Loc::Dir { .. } => return false,
        _ => return loc_conflict(w, r),
    };
    // The application directory is no toolchain (see `stage_app_dir`).
    let app_only = matches!(r, Loc::Path(t) if app_tree_read(t, app)) && below_app_dir(wp, app);
    !under_source_tree(wp) && !app_only && loc_conflict(w, r)
}

/// The system tree where toolchains are installed (`/opt/conda`,
/// `/opt/java/openjdk`, the Node.js image's `/opt/yarn-v…`).
const OPT_TREE: &str = "/opt/**";

/// The system tree that holds `/usr/local`.
const USR_TREE: &str = "/usr/**";

/// Whether `pattern` is the implicit read of the system tree that holds
/// the application directory `app` (`/opt/**` for `/opt/NAME`, `/usr/**`
/// for `/usr/local/NAME`), which writes below `app` do not meet (see
/// [`stage_app_dir`]).
fn app_tree_read(pattern: &str, app: Option<&str>) -> bool {
    match app {
        Some(a) if a.starts_with("/opt/") => pattern == OPT_TREE,
        Some(a) if a.starts_with("/usr/local/") => pattern == USR_TREE,
        _ => false,
    }
}

/// Whether the path pattern `p` lies strictly below the application
/// directory `app`: every component of `app` literally, then at least one
/// more (`/opt/app/**` is below `/opt/app`; `/opt/**`, `/opt/a*/x` and
/// `/opt/app` itself are not).
fn below_app_dir(p: &str, app: Option<&str>) -> bool {
    let Some(app) = app else {
        return false;
    };
    if !p.starts_with('/') {
        return false;
    }
    let mut comps = Components(p);
    for a in Components(app) {
        if comps.next() != Some(a) {
            return false;
        }
    }
    let rest: Vec<&str> = comps.collect();
    !rest.is_empty() && !rest.iter().any(|c| *c == ".." || *c == ".")
}

/// The `/opt` entries of official images (Docker Hub's `library/`
/// repositories), from their Dockerfiles: an application directory must
/// not be one of them. Debian and Ubuntu ship `/opt` empty (Debian Policy
/// 9.1.1: packages do not install there), Alpine's is empty, and the
/// language images install into `/usr/local`, except the Node.js image's
/// Yarn in `/opt/yarn-v$YARN_VERSION`. An image not listed may have
/// anything there.
const OFFICIAL_OPT: &[(&str, &[&str])] = &[
    ("node", &["yarn-v*"]),
    ("python", &[]),
    ("ruby", &[]),
    ("golang", &[]),
    ("debian", &[]),
    ("ubuntu", &[]),
    ("alpine", &[]),
    ("buildpack-deps", &[]),
];

/// The `/usr/local` entries of the official images of [`OFFICIAL_OPT`]
/// beside the local hierarchy every one has (`bin`, `etc`, `games`,
/// `include`, `lib`, `libexec`, `man`, `sbin`, `share`, `src`: Debian's
/// and Alpine's, and what the language images install there), from their
/// Dockerfiles: the Node.js tarball's top-level files (extracted into
/// `/usr/local`), Ruby's `GEM_HOME` `/usr/local/bundle`, Go's
/// `/usr/local/go`. An application directory must not be one of them.
const OFFICIAL_USR_LOCAL: &[(&str, &[&str])] = &[
    ("node", &["CHANGELOG.md", "LICENSE", "README.md"]),
    ("python", &[]),
    ("ruby", &["bundle"]),
    ("golang", &["go"]),
    ("debian", &[]),
    ("ubuntu", &[]),
    ("alpine", &[]),
    ("buildpack-deps", &[]),
];

/// The local hierarchy of `/usr/local` (the FHS's, with the library
/// variants).
const USR_LOCAL_HIERARCHY: &[&str] = &[
    "bin", "etc", "games", "include", "lib", "lib32", "lib64", "libx32", "libexec", "man", "sbin",
    "share", "src",
];

/// What the official image `image` has in `/usr/local` besides
/// [`USR_LOCAL_HIERARCHY`]; `None` when it is not a listed one.
fn official_usr_local_entries(image: &str) -> Option<&'static [&'static str]> {
    official_entries(OFFICIAL_USR_LOCAL, image)
}

/// What the official image `image` (`node:lts-alpine`,
/// `docker.io/library/python:3.12@sha256:…`) has in `/opt`; `None` when
/// the image is not a listed official one (or its name is not literal).
fn official_opt_entries(image: &str) -> Option<&'static [&'static str]> {
    official_entries(OFFICIAL_OPT, image)
}

/// The entries `table` lists for the official repository of `image`.
fn official_entries(
    table: &'static [(&str, &'static [&'static str])],
    image: &str,
) -> Option<&'static [&'static str]> {
    let repo = official_repo(image)?;
    table
        .iter()
        .find(|(n, _)| *n == repo)
        .map(|(_, entries)| *entries)
}

/// The repository of `image` without registry `docker.io/`, `library/`,
/// tag and digest (`node` for `docker.io/library/node:20@sha256:…`).
fn official_repo(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    // The tag follows the last `:` after the last `/` (a registry may have
    // a port).
    let slash = name.rfind('/').map_or(0, |k| k + 1);
    let repo = match name[slash..].find(':') {
        Some(k) => &name[..slash + k],
        None => name,
    };
    let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
    Some(repo.strip_prefix("library/").unwrap_or(repo))
}

/// The default working directory (`WorkingDir` of the image config) of
/// official images, checked against each image's Dockerfile and those of
/// the images it is built `FROM`; BuildKit runs in `/` when an image sets
/// none. Listed only when every Linux variant of the repository agrees:
/// - `golang`: `ENV GOPATH /go`, `WORKDIR $GOPATH` in
///   docker-library/golang `Dockerfile-linux.template` (Debian and Alpine
///   variants alike);
/// - `python`, `ruby`: no `WORKDIR` in docker-library/python
///   `Dockerfile-linux.template` (Debian, slim and Alpine variants) nor in
///   docker-library/ruby's generated Dockerfiles (`3.3/slim-bookworm`, one
///   template for every variant);
/// - `node`: no `WORKDIR` in nodejs/docker-node `Dockerfile-debian`,
///   `-alpine` and `-slim.template`;
/// - `buildpack-deps`: none in docker-library/buildpack-deps
///   `Dockerfile.template`; `debian` and `alpine` are a root file system
///   added to `scratch` and a `CMD` (docker-library/repo-info, e.g.
///   `repos/alpine/remote/3.21.md`);
/// - `erlang`, `elixir`: none in erlang/docker-erlang-otp's `27`,
///   `27/slim` and `27/alpine` Dockerfiles (built on buildpack-deps,
///   debian and alpine) nor in erlef/docker-elixir's `1.18` and
///   `1.18/alpine`, built on them.
///
/// `php` is not listed: its `apache` and `fpm` variants set `WORKDIR
/// /var/www/html`, its `cli` and `zts` ones (and the bare version tags)
/// none (see [`php_workdir`]). Windows and `onbuild` tags are not covered
/// (see [`official_workdir`]).
/// Variables an official image's config sets that Dockerfiles use in a
/// `WORKDIR`, for the variants whose working directory is known
/// ([`official_workdir`]): `golang` sets `ENV GOPATH /go` before its
/// `WORKDIR $GOPATH` (docker-library/golang `Dockerfile-linux.template`,
/// Debian and Alpine variants alike), so `WORKDIR $GOPATH/src/app` is
/// `/go/src/app`. Only a `WORKDIR` expands with them ([`workdir_env`]):
/// the commands' model already takes the image's layout (go's module
/// cache in `/go/pkg`).
const OFFICIAL_PATH_VARS: &[(&str, &str, &str)] = &[("golang", "GOPATH", "/go")];

/// The variables a `WORKDIR` expands with: the stage's, and the base
/// image's own ([`OFFICIAL_PATH_VARS`]) where the stage sets none of that
/// name. One an `ARG` of the stage names (not an `ENV`: `config` holds
/// those) is not known: the image's `ENV` and the argument disagree, and
/// the builders differ on which wins.
fn workdir_env(
    env: &BTreeMap<String, String>,
    config: &BTreeMap<String, String>,
    image_vars: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = env.clone();
    for (k, v) in image_vars {
        match (env.contains_key(k), config.contains_key(k)) {
            (false, _) => {
                out.insert(k.clone(), v.clone());
            }
            (true, false) => {
                out.insert(k.clone(), UNKNOWN_VALUE.to_string());
            }
            (true, true) => {}
        }
    }
    out
}

const OFFICIAL_WORKDIR: &[(&str, &str)] = &[
    ("golang", "/go"),
    ("python", "/"),
    ("ruby", "/"),
    ("node", "/"),
    ("buildpack-deps", "/"),
    ("debian", "/"),
    ("alpine", "/"),
    ("erlang", "/"),
    ("elixir", "/"),
];

/// The directories of the `PATH` every official image sets (and
/// BuildKit's default), in order.
pub(crate) const DEFAULT_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// The tag of an image reference, lower-cased: what follows the first `:`
/// after the last `/` (as in [`official_repo`]), without a digest.
fn image_tag(image: &str) -> String {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rfind('/').map_or(0, |k| k + 1);
    name[last..]
        .split_once(':')
        .map_or("", |(_, t)| t)
        .to_ascii_lowercase()
}

/// The default working directory of the official image `image`
/// ([`OFFICIAL_WORKDIR`]); `None` for an image not listed, a name with a
/// variable, and the Windows (`windowsservercore`, `nanoserver`: another
/// file system) and `onbuild` tags (their `ONBUILD` triggers copy the
/// context into `/usr/src/app`, their working directory).
fn official_workdir(image: &str) -> Option<&'static str> {
    if image.contains('$') {
        return None;
    }
    let repo = official_repo(image)?;
    let tag = image_tag(image);
    if ["windows", "nanoserver", "onbuild"]
        .iter()
        .any(|v| tag.contains(v))
    {
        return None;
    }
    if repo == "php" {
        return php_workdir(&tag);
    }
    OFFICIAL_WORKDIR
        .iter()
        .find(|(n, _)| *n == repo)
        .map(|(_, wd)| *wd)
}

/// The working directory of the official `php` image with tag `tag`,
/// which depends on the variant (docker-library/php's generated
/// Dockerfiles, e.g. `8.2/bookworm/{apache,fpm,cli,zts}/Dockerfile`):
/// `apache` and `fpm` end with `WORKDIR /var/www/html`; `cli` (the
/// default, a tag of versions and distributions only: `8.2`,
/// `8.2-alpine`, `8-bookworm`) and `zts` set none. Any other word in the
/// tag (a variant not read) leaves it unknown.
fn php_workdir(tag: &str) -> Option<&'static str> {
    let words: Vec<&str> = if tag.is_empty() {
        Vec::new()
    } else {
        tag.split('-').collect()
    };
    let version = |w: &str| {
        w == "latest"
            || (w.starts_with(|c: char| c.is_ascii_digit())
                && w.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    let distro = |w: &str| {
        matches!(
            w,
            "bookworm" | "bullseye" | "buster" | "stretch" | "jessie" | "trixie"
        ) || w
            .strip_prefix("alpine")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    let mut server = false;
    for w in words {
        match w {
            "apache" | "fpm" => server = true,
            "cli" | "zts" => {}
            w if version(w) || distro(w) => {}
            _ => return None,
        }
    }
    Some(if server { "/var/www/html" } else { "/" })
}

/// Whether the stage's base image is a listed official one
/// ([`OFFICIAL_OPT`]): none of their Dockerfiles has a `USER`, so a stage
/// built on one runs as root until a `USER` of its own. `false` for
/// anything else (another stage, a variable, an unlisted image).
pub(crate) fn base_runs_as_root(parse: &Parse, stage: &Stage) -> bool {
    base_runs_as_root_at(parse, stage.from_item)
}

/// [`base_runs_as_root`] for the stage whose `FROM` is item `from_item`.
fn base_runs_as_root_at(parse: &Parse, from_item: usize) -> bool {
    base_image(parse, from_item).is_some_and(|image| official_opt_entries(&image).is_some())
}

/// The image a `FROM` names when it is an image, not an earlier stage:
/// its text, with the variables of global `ARG`s replaced by their
/// defaults (`FROM golang:${GO_VERSION}-alpine` after
/// `ARG GO_VERSION=1.22`), the values the rest of the model takes for
/// build arguments. `None` for a variable without a default, a form
/// [`expand`] does not understand, or a stage's name.
/// Where the official `python` images have `python`, `python3`, `pip`
/// and `pip3`: `/usr/local/bin` (they build Python into `/usr/local`; the
/// Dockerfiles of docker-library/python, every variant). `None` for any
/// other base, or one a variable names.
pub fn python_tools_dir(parse: &Parse, from_item: usize) -> Option<&'static str> {
    let image = base_image(parse, from_item)?;
    (official_repo(&image)? == "python").then_some("/usr/local/bin")
}

fn base_image(parse: &Parse, from_item: usize) -> Option<String> {
    let raw = from_text(parse, from_item)?;
    let image = if raw.contains('$') {
        // The repository itself in a variable is the base a build
        // argument chooses: not known.
        if official_repo(raw)?.contains('$') {
            return None;
        }
        expand(raw, &global_arg_defaults(parse))?
    } else {
        raw.to_string()
    };
    (!image.is_empty() && !stage_named(parse, from_item, &image)).then_some(image)
}

/// The working directory of the stage's base image (see
/// [`official_workdir`]), from [`base_image`]. A php tag with variables
/// must name its variant outside them (`php:${PHP_VERSION}-apache`): the
/// working directory does not rest on a default a build argument changes.
fn base_workdir(parse: &Parse, from_item: usize, image: &str) -> Option<&'static str> {
    let wd = official_workdir(image)?;
    let raw = from_text(parse, from_item)?;
    if raw.contains('$') && official_repo(image) == Some("php") {
        let tag = raw.rsplit_once(':').map_or("", |(_, t)| t);
        let literal: Vec<&str> = tag.split('-').filter(|w| !w.contains('$')).collect();
        let named = |ws: &[&str]| {
            ws.iter()
                .any(|w| ["apache", "fpm", "cli", "zts"].contains(w))
        };
        if !named(&literal) || php_workdir(&literal.join("-")) != Some(wd) {
            return None;
        }
    }
    Some(wd)
}

/// The directories `PATH` lists in the stage's base image when it is an
/// official image with no git program, as its Dockerfiles (and those of the
/// images it is built on) install none:
/// - `php`, every Linux variant: `$PHPIZE_DEPS` (autoconf, dpkg-dev, file,
///   g++, gcc, libc-dev, make, pkg-config, re2c), ca-certificates, curl,
///   xz-utils (`--no-install-recommends`), apache2 for `apache`
///   (docker-library/php `Dockerfile-linux.template`), on `debian` or
///   `alpine`;
/// - the `slim` and `alpine` variants of `node`, `python`, `ruby` and the
///   `alpine` ones of `golang` (their build dependencies are removed; the
///   full variants are built on buildpack-deps, which has git);
/// - `debian`, `ubuntu`, `alpine` (root file systems with no git).
///
/// The word that picks the variant must be written outside any variable
/// (`node:${V}-alpine`), as a build argument could pick another, and
/// there must be no digest, which picks the image whatever the tag says
/// (both only where some variant has git). `None`
/// for anything else (another stage, an unlisted image or variant).
pub(crate) fn base_path_without_git(parse: &Parse, from_item: usize) -> Option<Vec<&'static str>> {
    let image = base_image(parse, from_item)?;
    let raw = from_text(parse, from_item)?;
    let repo = official_repo(&image)?;
    let tag = image_tag(raw);
    if ["windows", "nanoserver"].iter().any(|v| tag.contains(v)) {
        return None;
    }
    let literal: Vec<&str> = tag.split('-').filter(|w| !w.contains('$')).collect();
    let slim_or_alpine = literal
        .iter()
        .any(|w| *w == "slim" || w.starts_with("alpine"));
    let alpine = literal.iter().any(|w| w.starts_with("alpine"));
    let extra: &[&str] = match repo {
        "php" | "debian" | "ubuntu" | "alpine" | "node" | "python" => &[],
        "ruby" => &["/usr/local/bundle/bin"],
        "golang" => &["/go/bin", "/usr/local/go/bin"],
        _ => return None,
    };
    // A digest picks the image whatever the tag says (`node:20-slim@sha256:`
    // of the full variant): only repositories none of whose variants has
    // git may be named so.
    let digest = raw.contains('@');
    let ok = match repo {
        "php" | "debian" | "ubuntu" | "alpine" => true,
        _ if digest => false,
        "golang" => alpine,
        _ => slim_or_alpine,
    };
    ok.then(|| extra.iter().chain(DEFAULT_PATH.iter()).copied().collect())
}

/// Whether no git program can run when unit `b` of the stage runs: the
/// stage is built on an official image that has none
/// ([`base_path_without_git`]), and no unit before it (nor, when its `RUN`
/// is more than the one command, `b` itself: `apt-get install git &&
/// composer install`) may put one in a directory of `PATH`. A `RUN` the
/// analysis does not follow, or a system install, may. `PATH` must be
/// known: set by the stage to absolute directories, or left as the image
/// has it, and not changed by `b`'s own text; `b` mounts nothing (a mount
/// may bring a git program for its time). What a copy ships the caller
/// checks (no file named `git`).
///
/// A missing git program keeps only git away from the repository: the
/// code of the packages an install runs may read `.git` itself. So `b`
/// must run none ([`manifests::runs_no_package_code`]: a `composer
/// install` whose lock lists no plugin; `text` gives a file of an image
/// directory as `b` reads it, see [`manifests::runs_no_git`]), and none
/// may be installed globally: nothing before `b` may write where
/// Composer's home is (`~/.composer`, `~/.config/composer`, as `b` reads
/// them), which nothing but the home may move (`COMPOSER`,
/// `COMPOSER_HOME`, `XDG_CONFIG_HOME` unset).
pub fn git_cannot_run(
    parse: &Parse,
    stage: &Stage,
    eff: &[Effects],
    state: &StageState,
    b: usize,
    text: impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    let Some(ex) = eff.get(b) else {
        return false;
    };
    if !super::manifests::runs_no_package_code(ex, text) {
        return false;
    }
    let env = state.env.get(b);
    if ["COMPOSER", "COMPOSER_HOME", "XDG_CONFIG_HOME"]
        .iter()
        .any(|v| env.is_none_or(|e| e.contains_key(*v)))
    {
        return false;
    }
    // Global plugins live in Composer's home, as `composer global require`
    // puts them: its `composer.json` and `vendor/` (the keys the installer
    // writes there bring no code).
    let mut plugins: Vec<String> = Vec::new();
    for l in &ex.reads {
        let Loc::Path(p) = l else { continue };
        let user = p
            .find("/.composer")
            .or_else(|| p.find("/.config"))
            .map(|k| &p[..k]);
        if let Some(user) = user {
            for home in [".composer", ".config/composer"] {
                for at in ["composer.json", "vendor/**"] {
                    let t = format!("{user}/{home}/{at}");
                    if !plugins.contains(&t) {
                        plugins.push(t);
                    }
                }
            }
        }
    }
    if plugins.is_empty() || (0..b).any(|k| plugins.iter().any(|h| writes_path(&eff[k], h))) {
        return false;
    }
    let Some(mut dirs) = base_path_without_git(parse, stage.from_item) else {
        return false;
    };
    let set_dirs: Vec<&str> = match state.env.get(b).and_then(|e| e.get("PATH")) {
        Some(v) => v.split(':').collect(),
        None => Vec::new(),
    };
    if set_dirs
        .iter()
        .any(|d| !d.starts_with('/') || d.trim_end_matches('/').is_empty() || d.contains('$'))
    {
        return false;
    }
    dirs.extend(set_dirs);
    let Some(text) = stage
        .units
        .get(b)
        .and_then(|u| parse.items.get(u.item))
        .and_then(|i| i.instruction())
        .filter(|i| i.heredocs.is_empty())
        .map(|i| i.original.as_str())
    else {
        return false;
    };
    // Its own `PATH`, or a mount that may bring a git program for the
    // time of the `RUN` (`--mount=type=bind,from=tools,…`).
    if text.contains("PATH") || text.contains("--mount") {
        return false;
    }
    // Its own writes come after its git would run, unless another command
    // of its `RUN` comes first.
    let body = text.replace("\\\n", " ");
    let lone = !["&", "|", ";", "\n", "$(", "`"]
        .iter()
        .any(|op| body.trim_end().contains(op));
    let last = if lone { b } else { b + 1 };
    let programs: Vec<String> = dirs
        .iter()
        .map(|d| format!("{}/git", d.trim_end_matches('/')))
        .collect();
    eff.iter()
        .take(last)
        .all(|e| programs.iter().all(|g| !writes_path(e, g)))
}

/// Whether the npm of the stage's base image is 9 or later, which keeps
/// an agreeing lock of version 3 as it is (npm docs, config
/// `lockfile-version`: "maintain current lockfile version"): the official
/// `node` image named by a literal tag whose Node.js ships npm 9 or later
/// (nodejs.org's release list: every 20.x and later, and 18.14 and
/// later in the 18 line, whose last release `18` names; measured: npm
/// 9.0.0 keeps such locks, 8.0.0 and 7.24.2 rewrite version 3 ones), or by
/// a word tag that names
/// the current or a current long-term line (`latest`, `lts`, `current`,
/// `alpine`, `slim`, `bookworm`, `iron`, `jod`, `krypton`...). Assumption:
/// a tag resolves to the image the registry has for it now. A tag with a
/// variable, a digest with a word tag (an older build of a moving tag)
/// and any other image are not known.
fn npm_keeps_agreeing_locks(parse: &Parse, from_item: usize) -> bool {
    let npm_9 = |major: u32, minor: Option<&str>| match major {
        m if m >= 20 => true,
        // 18.14.0 shipped npm 9.3.1; the line's last release, npm 10.
        18 => minor.is_none_or(|minor| minor.parse::<u32>().is_ok_and(|m| m >= 14)),
        _ => false,
    };
    official_node_tag(parse, from_item, npm_9, &[])
}

/// Whether the yarn of the stage's base image is yarn 1.22.4 or later in
/// the 1.22 line, whose lock writing was measured alike on every case of
/// the yarn 1 predicate (1.22.4, 1.22.5, 1.22.10, 1.22.17, 1.22.19 and
/// 1.22.22 kept or wrote the same locks): the official `node` image of
/// Node.js 14 and later (docker-node set `YARN_VERSION` 1.22.4 in March
/// 2020, before 14.0.0, and only raised it since), or a word tag of a
/// current or long-term line (with the older Debian codenames `buster`
/// and `stretch`, and the long-term names `fermium` and `gallium`).
/// Assumption: a tag resolves to the image the registry has for it now.
fn yarn_1_keeps_agreeing_locks(parse: &Parse, from_item: usize) -> bool {
    official_node_tag(
        parse,
        from_item,
        |major, _| major >= 14,
        &["buster", "stretch", "fermium", "gallium"],
    )
}

/// The `FROM` text of a stage whose base is the official image `repo`
/// named without a variable (its tag is [`image_tag`] of it).
fn official_literal_from<'p>(parse: &'p Parse, from_item: usize, repo: &str) -> Option<&'p str> {
    let image = base_image(parse, from_item)?;
    let raw = from_text(parse, from_item)?;
    (!raw.contains('$') && official_repo(&image) == Some(repo)).then_some(raw)
}

/// Whether the stage's base is the official `node` image named by a
/// literal tag whose version words `version_ok` takes (major, then minor
/// when the tag has one), or whose words are all known words of its tags
/// (`latest`, `lts`, `slim`, a Debian codename, `alpine…`, a long-term
/// line's name; `more` adds some). A digest must come with a version.
fn official_node_tag(
    parse: &Parse,
    from_item: usize,
    version_ok: impl Fn(u32, Option<&str>) -> bool,
    more: &[&str],
) -> bool {
    let Some(raw) = official_literal_from(parse, from_item, "node") else {
        return false;
    };
    let tag = image_tag(raw);
    let digest = raw.contains('@');
    if digest && tag.is_empty() {
        return false;
    }
    let words: Vec<&str> = tag.split('-').filter(|w| !w.is_empty()).collect();
    let version = |w: &str| {
        let mut parts = w.split('.');
        parts
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|major| version_ok(major, parts.next()))
    };
    const WORDS: &[&str] = &[
        "latest", "current", "lts", "slim", "bookworm", "bullseye", "trixie", "iron", "jod",
        "krypton", "hydrogen",
    ];
    let mut numbered = false;
    for w in &words {
        if w.starts_with(|c: char| c.is_ascii_digit()) {
            if !version(w) {
                return false;
            }
            numbered = true;
        } else if !(WORDS.contains(w) || more.contains(w) || w.starts_with("alpine")) {
            return false;
        }
    }
    numbered || !digest
}

/// Whether `RUN` unit `b` leaves the lock file at image path `lock` as it
/// is, though it is among what it writes ([`Effects::kept_locks`]): npm
/// 9 or later ([`npm_keeps_agreeing_locks`]) running with its own
/// settings only, on a lock that agrees with `package.json`
/// ([`super::manifests::npm_lock_kept`]). Its own settings: no
/// `npm_config_*` variable and no `NODE_OPTIONS`; no `USER` but root or
/// `node` before it (whose homes are known); no unit up to it (nor it, a
/// `npm config set` before the install) may write an npm configuration
/// file (`~/.npmrc`, `/usr/local/etc/npmrc`, `/etc/npmrc`, npm's own) or
/// replace npm or node; the project's `.npmrc`, if shipped, sets only
/// what does not touch the lock. `text` gives a file of an image
/// directory as `b` reads it (`Some(None)`: certainly not there); `ctx`,
/// the build context, lists what each earlier copy from it puts.
pub fn lock_kept(
    parse: &Parse,
    stage: &Stage,
    eff: &[Effects],
    state: &StageState,
    (b, ctx): (usize, Option<&Context>),
    lock: &str,
    text: impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    let Some(ex) = eff.get(b) else {
        return false;
    };
    if ex.opaque.is_some() || !ex.kept_locks.iter().any(|l| l == lock) {
        return false;
    }
    let Some((dir, name)) = lock.rsplit_once('/') else {
        return false;
    };
    let dir = if dir.is_empty() { "/" } else { dir };
    if name == "go.sum" {
        // `go mod download` writes no other lock and reads no settings that
        // change which sums it adds (GOFLAGS' `-modfile` is a path the
        // analysis reads, which keeps it from moving at all).
        return matches!(
            (text(dir, "go.mod"), text(dir, "go.sum")),
            (Some(Some(m)), Some(Some(s))) if super::manifests::go_sum_kept(&m, &s)
        );
    }
    if name == "Gemfile.lock" {
        return bundler_lock_kept(parse, stage, eff, state, (b, ctx), dir, &text);
    }
    let yarn = name == "yarn.lock";
    let image_known = if yarn {
        yarn_1_keeps_agreeing_locks(parse, stage.from_item)
    } else {
        npm_keeps_agreeing_locks(parse, stage.from_item)
    };
    if !image_known {
        return false;
    }
    let Some(env) = state.env.get(b) else {
        return false;
    };
    // yarn 1 reads npm's settings too (`.npmrc`, `npm_config_*`). PREFIX
    // and DESTDIR move the global settings file (`$PREFIX/etc/npmrc`) away
    // from the one checked below.
    if env.keys().any(|k| {
        let k = k.to_ascii_lowercase();
        k.starts_with("npm_config_")
            || k == "node_options"
            || (yarn && k.starts_with("yarn_"))
            || k == "prefix"
            || k == "destdir"
    }) {
        return false;
    }
    // Yarn Berry with an immutable install never writes the lock (it
    // fails instead, in either order, reading the same files). Whether it
    // is Berry that runs, immutably, is the install's manifest check's to
    // prove: where it cannot, that check keeps the install Unsafe
    // (manifests::berry_problems, for every project berry_named_by names).
    let berry = yarn && {
        let file = |n: &str| text(dir, n);
        // Only a Berry project known as such: a `.yarnrc.yml` that may or
        // may not be there could be one yarn 1 reads without Berry running.
        match file(".yarnrc.yml") {
            None => return false,
            Some(_) => super::manifests::berry_named_by(&file).is_some(),
        }
    };
    let users_known = stage.units.iter().take(b).all(|u| {
        match parse.items.get(u.item).and_then(|i| i.instruction()) {
            Some(ins) if ins.node.kind == Kind::User => {
                ins.node.str_args().next().is_some_and(|v| {
                    matches!(v.split(':').next(), Some("root" | "0" | "node" | "1000"))
                })
            }
            Some(_) => true,
            None => true,
        }
    });
    if !users_known {
        return false;
    }
    let archive = archive_installs(eff, b);
    if berry {
        // Berry reads a `.yarnrc.yml` in every directory above the project
        // and in the home too: one the stage wrote may name another yarn
        // (a `yarnPath` to yarn 1, which ignores `--immutable`).
        let mut rcs: Vec<String> = vec![
            "/root/.yarnrc.yml".to_string(),
            "/home/node/.yarnrc.yml".to_string(),
        ];
        if let Some(home) = env.get("HOME") {
            rcs.push(format!("{}/.yarnrc.yml", home.trim_end_matches('/')));
        }
        rcs.extend(dirs_above(dir).map(|d| format!("{d}/.yarnrc.yml")));
        return !eff
            .iter()
            .take(b + 1)
            .any(|e| rcs.iter().any(|p| writes_path(e, p)));
    }
    let mut settings: Vec<String> = [
        "/root/.npmrc",
        "/home/node/.npmrc",
        "/usr/local/etc/npmrc",
        "/etc/npmrc",
        "/usr/local/lib/node_modules/npm/npmrc",
        "/usr/local/lib/node_modules/npm/package.json",
        "/usr/local/bin/npm",
        "/usr/local/bin/node",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    if yarn {
        // yarn 1's rc files (the home's, the global ones, and `.yarnrc`
        // or `.npmrc` in any directory above the project), and yarn itself
        // (the image's /opt/yarn-v1.22.x, linked from /usr/local/bin).
        // A package.json above the project too: yarn 1 runs in the first
        // directory above whose `workspaces` name the project, and reads
        // its other members (measured, yarn 1.22.22: `/package.json` with
        // `app` and `app/sub` made it install at `/` and read
        // `/app/sub/package.json`, which a hoisted install does not find).
        settings.extend(
            [
                "/root/.yarnrc",
                "/home/node/.yarnrc",
                "/etc/yarnrc",
                "/etc/yarn/config",
                "/usr/local/etc/yarnrc",
                "/usr/local/share/.yarnrc",
                "/usr/local/bin/yarn",
                "/usr/local/bin/yarnpkg",
                "/opt/**",
            ]
            .iter()
            .map(|p| p.to_string()),
        );
        for d in dirs_above(dir) {
            for f in [".yarnrc", ".npmrc", "package.json", ".yarnrc.yml"] {
                settings.push(format!("{d}/{f}"));
            }
        }
    }
    // The image's npm and node (and yarn) run only while no directory
    // searched before /usr/local/bin has one of them.
    let Some(before) = path_dirs_before_local_bin(env) else {
        return false;
    };
    let programs: &[&str] = if yarn {
        &["npm", "node", "yarn", "yarnpkg"]
    } else {
        &["npm", "node"]
    };
    // The install's own writes in its `node_modules/.bin` (on `PATH` in
    // many Dockerfiles) come after npm started: for it, only what an
    // earlier unit put there counts.
    let own_bin = format!("{}/node_modules/", dir.trim_end_matches('/'));
    let mut on_path: Vec<String> = Vec::new();
    for d in before {
        for p in programs {
            on_path.push(format!("{d}/{p}"));
        }
    }
    let on_path_for_b: Vec<String> = on_path
        .iter()
        .filter(|p| !p.starts_with(&own_bin))
        .cloned()
        .collect();
    // One certainly not there when the install starts (no earlier unit
    // may put it, the broad copy does not ship it) is not run, in either
    // order (a copy of `node_modules` would bring its `.bin`).
    on_path.retain(|p| {
        let (d, name) = p.rsplit_once('/').unwrap_or(("/", p));
        text(d, name) != Some(None)
    });
    let mut homes: Vec<String> = vec!["/root".into(), "/home/node".into()];
    if let Some(home) = env.get("HOME") {
        if !home.starts_with('/') {
            return false;
        }
        settings.push(format!("{}/.npmrc", home.trim_end_matches('/')));
        homes.push(home.trim_end_matches('/').to_string());
    }
    if yarn {
        // yarn 1 reads its own settings (`yarn-path`, `--install.*`) from
        // each of these in the home too (`getRcPaths`; measured, yarn
        // 1.22.22: a `yarn-path` in `.yarn/config`, `.config/yarn/config`
        // or `.yarnrc.yml` ran another program), and from
        // `$XDG_CONFIG_HOME/yarn` when that is set.
        if env.keys().any(|k| k == "XDG_CONFIG_HOME") {
            return false;
        }
        // As root, yarn's home is `/usr/local/share` (`user-home-dir`):
        // its `.config/yarn` and `.npmrc` are read too (measured, yarn
        // 1.22.22: a `yarn-path` in `/usr/local/share/.config/yarn` ran).
        homes.push("/usr/local/share".into());
        settings.push("/usr/local/share/.npmrc".into());
        let mut in_home: Vec<String> = Vec::new();
        for h in &homes {
            settings.push(format!("{h}/.yarnrc"));
            for f in [
                ".yarnrc.yml",
                ".yarn/config",
                ".config/yarn",
                ".config/yarn/**",
            ] {
                in_home.push(format!("{h}/{f}"));
            }
        }
        // The install itself writes `~/.yarn/**` (Berry's folder, in the
        // knowledge base for yarn): that write of unit `b` is not taken as
        // one of these files, any other is.
        let install = Effects {
            writes: ex
                .writes
                .iter()
                .filter(|w| !matches!(w, Loc::Path(p) if p.ends_with("/.yarn/**")))
                .cloned()
                .collect(),
            ..Effects::default()
        };
        if eff
            .iter()
            .take(b)
            .enumerate()
            .any(|(i, e)| writes_any(e, archive[i].as_ref(), &in_home, dir, &text))
            || in_home
                .iter()
                .any(|p| writes_setting(&install, p, dir, &text))
        {
            return false;
        }
    }
    if eff
        .iter()
        .take(b + 1)
        .enumerate()
        .any(|(i, e)| writes_any(e, archive[i].as_ref(), &settings, dir, &text))
        || eff
            .iter()
            .take(b)
            .enumerate()
            .any(|(i, e)| writes_any(e, archive[i].as_ref(), &on_path, dir, &text))
        || writes_any(ex, archive[b].as_ref(), &on_path_for_b, dir, &text)
    {
        return false;
    }
    let file = |n: &str| text(dir, n);
    if yarn {
        super::manifests::yarn_lock_kept(name, file)
    } else {
        super::manifests::npm_lock_kept(name, file)
    }
}

/// The directories the official node image's `PATH` may search before
/// `/usr/local/bin`, where its npm, node and yarn are: `/usr/local/sbin`,
/// and those an `ENV PATH` adds. The stage's `PATH` holds only the
/// directories it adds, the image's own value dropped
/// ([`search_path_value`]): each of them may come first, unless it
/// follows an explicit `/usr/local/bin`. `None` when one is not known
/// (`/` stands for a part that did not expand) or relative.
fn path_dirs_before_local_bin(env: &BTreeMap<String, String>) -> Option<Vec<String>> {
    let mut out = vec!["/usr/local/sbin".to_string()];
    let Some(value) = env.get("PATH") else {
        return Some(out);
    };
    for d in value.split(':') {
        let d = d.trim_end_matches('/');
        if d == "/usr/local/bin" {
            break;
        }
        if d.is_empty() || !d.starts_with('/') || d.contains(['$', '*', '?', '[']) {
            return None;
        }
        out.push(d.to_string());
    }
    Some(out)
}

/// For each unit up to `upto`: whether its `apt-get`/`apt` installs
/// ([`Effects::archive_writes`]) are the Debian archive's, which put no
/// file in `/usr/local` or `/opt` (Debian Policy 9.1.2, "Site-specific
/// programs"; no package of bullseye, bookworm or trixie main ships one
/// there, nor `/etc/npmrc`, `/etc/npm/`, `/etc/yarnrc` or `/etc/yarn/`:
/// their Contents indexes, checked). Only while the stage's sources are
/// the image's (the official node image configures Debian's alone): no
/// earlier write, nor one of the unit's other commands, nor a mount, is
/// under `/etc/apt`.
/// For those, the writes of their other commands (`None`: not one).
fn archive_installs(eff: &[Effects], upto: usize) -> Vec<Option<Effects>> {
    let mut clean = true;
    let mut out = Vec::new();
    for e in eff.iter().take(upto + 1) {
        let others = Effects {
            writes: other_writes(e),
            ..Effects::default()
        };
        let mounted = e.mount_unknown
            || e.mount_targets
                .iter()
                .chain(e.binds.iter().map(|(_, img)| img))
                .any(|t| t == "/etc" || t == "/etc/apt" || t.starts_with("/etc/apt/") || t == "/");
        if writes_path(&others, "/etc/apt/**") || mounted || e.foreign_packages {
            clean = false;
        }
        let archive = clean && e.opaque.is_none() && !e.archive_writes.is_empty();
        out.push(archive.then_some(others));
    }
    out
}

/// A unit's writes but those of its archive installs (each of
/// [`Effects::archive_writes`] taken out once).
fn other_writes(e: &Effects) -> Vec<Loc> {
    let mut rest = e.writes.clone();
    for w in &e.archive_writes {
        if let Some(k) = rest.iter().position(|x| x == w) {
            rest.remove(k);
        }
    }
    rest
}

/// Whether unit `e` may write one of `paths`; for an archive install
/// (`others`: the writes of its other commands, see [`archive_installs`])
/// its installs' writes count only for paths outside `/usr/local`, `/opt`
/// and the npm and yarn settings files of `/etc`.
fn writes_any(
    e: &Effects,
    others: Option<&Effects>,
    paths: &[String],
    dir: &str,
    text: &impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    let Some(others) = others else {
        return paths.iter().any(|p| writes_setting(e, p, dir, text));
    };
    let archive_free = |p: &str| {
        p.starts_with("/usr/local/")
            || p.starts_with("/opt/")
            || p == "/opt"
            || matches!(p, "/etc/npmrc" | "/etc/yarnrc" | "/etc/yarn/config")
    };
    paths
        .iter()
        .any(|p| writes_path(others, p) || (!archive_free(p) && writes_setting(e, p, dir, text)))
}

/// Whether unit `e` may write the settings file `p` of an install in
/// image directory `dir` ([`lock_kept`]). A copy of context files that
/// puts the project into `dir` writes `dir/**`, which covers the settings
/// when the project is at `/` (`COPY . .` with no `WORKDIR`) or in a
/// home: it puts a file there only if it ships it, and `text` (the file
/// as the install reads it) says so. `Some(None)` there means neither
/// the copy nor any unit before it puts `p`; any other writer of `p` is
/// taken as writing it. A pattern (`/opt/**`) is not asked about.
fn writes_setting(
    e: &Effects,
    p: &str,
    dir: &str,
    text: &impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    if !writes_path(e, p) {
        return false;
    }
    let tree = dir.trim_end_matches('/');
    let whole = |w: &Loc| matches!(w, Loc::Path(q) if q.strip_suffix("/**").map(|q| q.trim_end_matches('/')) == Some(tree));
    let from_context = !e.is_run && e.opaque.is_none() && !e.context_reads.is_empty();
    if !from_context || !e.writes.iter().any(whole) || p.contains('*') {
        return true;
    }
    let rest = Effects {
        writes: e.writes.iter().filter(|w| !whole(w)).cloned().collect(),
        ..Effects::default()
    };
    let Some((pdir, name)) = p.rsplit_once('/') else {
        return true;
    };
    let pdir = if pdir.is_empty() { "/" } else { pdir };
    writes_path(&rest, p) || text(pdir, name) != Some(None)
}

/// The release line (`"2.3"`, `"2.6"`) of the Bundler of the stage's
/// base image, when it is one whose lock writing was measured
/// (`manifests::bundler_lock_kept`): the official `ruby` image named by a
/// literal tag of Ruby 3.1 (which ships Bundler 2.3) or 3.4 (Bundler
/// 2.6), on Debian (`slim`, a codename). Not Alpine, whose platform
/// (`x86_64-linux-musl`) a lock may not list. Assumption: a tag resolves
/// to the image the registry has for it now, which runs the Bundler its
/// Ruby ships.
fn ruby_bundler_line(parse: &Parse, from_item: usize) -> Option<&'static str> {
    let raw = official_literal_from(parse, from_item, "ruby")?;
    let tag = image_tag(raw);
    let mut words = tag.split('-');
    let version = words.next()?;
    let mut parts = version.split('.');
    let line = match (parts.next(), parts.next()) {
        (Some("3"), Some("1")) => "2.3",
        (Some("3"), Some("4")) => "2.6",
        _ => return None,
    };
    let patch_ok = match parts.next() {
        None => true,
        Some(p) => !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()),
    };
    let words_ok = words.all(|w| ["slim", "bookworm", "bullseye", "buster", "trixie"].contains(&w));
    (patch_ok && parts.next().is_none() && words_ok).then_some(line)
}

/// Whether `RUN` unit `b` leaves the `Gemfile.lock` of image directory
/// `dir` as it is ([`lock_kept`]): `bundle install` alone in its `RUN`,
/// with a Bundler whose lock writing was measured
/// ([`ruby_bundler_line`]: a lock's `BUNDLED WITH` of another version
/// makes Bundler install and run that one, so the lock must name the same
/// line or none), its own settings (no `BUNDLE*` but `BUNDLE_WITHOUT`,
/// `BUNDLE_JOBS` and `BUNDLE_RETRY`, no `GEM_*`, `RUBY*` or `XDG_*`
/// variable, a `HOME` only as a plain absolute path; no `USER` but root;
/// no unit before it writes Bundler's or RubyGems' settings, gems or
/// programs, there or in the home: a copy from the context by the files
/// it lists, an install from the Debian archive outside /usr/local and
/// /etc/gemrc), on a lock Bundler keeps
/// ([`super::manifests::bundler_lock_kept`]).
fn bundler_lock_kept(
    parse: &Parse,
    stage: &Stage,
    eff: &[Effects],
    state: &StageState,
    (b, ctx): (usize, Option<&Context>),
    dir: &str,
    text: &impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    let Some(line) = ruby_bundler_line(parse, stage.from_item) else {
        return false;
    };
    let Some(env) = state.env.get(b) else {
        return false;
    };
    // `BUNDLE_WITHOUT` (measured alike), `BUNDLE_JOBS` and
    // `BUNDLE_RETRY` (the settings of `--jobs` and `--retry`, measured
    // alike) and the image's own `BUNDLE_SILENCE_ROOT_WARNING` leave the
    // lock alone. A `HOME` set to a plain absolute path moves the user's
    // settings there (checked below as `/root`'s are).
    if env.keys().any(|k| {
        let k = k.to_ascii_uppercase();
        !matches!(
            k.as_str(),
            "BUNDLE_WITHOUT" | "BUNDLE_JOBS" | "BUNDLE_RETRY" | "BUNDLE_SILENCE_ROOT_WARNING"
        ) && ["BUNDLE", "GEM_", "GEMRC", "RUBY", "XDG_"]
            .iter()
            .any(|p| k.starts_with(p))
    }) {
        return false;
    }
    // Bundler takes a home that is not a directory for a temporary one
    // it removes (`Bundler.user_home`), where it would otherwise keep its
    // caches: the home must exist at the install in either order, as one
    // a `WORKDIR` of the stage made does (it comes before the install,
    // or moves with it), not one only the broad copy makes.
    let home = match env.get("HOME") {
        None => "/root".to_string(),
        Some(h) if plain_absolute(h) => h.trim_end_matches('/').to_string(),
        Some(_) => return false,
    };
    if home != "/root"
        && !eff.get(b).is_some_and(|e| {
            e.existing_dirs
                .iter()
                .any(|d| d.trim_end_matches('/') == home)
        })
    {
        return false;
    }
    for u in stage.units.iter().take(b + 1) {
        let Some(ins) = parse.items.get(u.item).and_then(|i| i.instruction()) else {
            continue;
        };
        if ins.node.kind == Kind::User
            && !ins
                .node
                .str_args()
                .next()
                .is_some_and(|v| matches!(v.split(':').next(), Some("root" | "0")))
        {
            return false;
        }
    }
    // Alone in its RUN: what the RUN writes is the install's own.
    let Some(run) = stage
        .units
        .get(b)
        .and_then(|u| parse.items.get(u.item))
        .and_then(|i| i.instruction())
        .filter(|i| i.heredocs.is_empty())
        .map(|i| i.original.replace("\\\n", " "))
    else {
        return false;
    };
    if !bundle_install_alone(&run) {
        return false;
    }
    // Bundler's and RubyGems' settings, gems and programs: the image's
    // (`GEM_HOME` and `BUNDLE_APP_CONFIG` are /usr/local/bundle), and in
    // the home (`/root`, or `HOME`) `~/.gemrc`, `~/.bundle` (settings,
    // plugins), the user gems of `~/.gem` and the XDG folders.
    let mut settings = vec![
        "/usr/local/bundle/**".to_string(),
        "/usr/local/lib/ruby/**".to_string(),
        "/usr/local/bin/**".to_string(),
        "/usr/local/etc/gemrc".to_string(),
        "/etc/gemrc".to_string(),
    ];
    for h in ["/root", home.as_str()] {
        for entry in [".gemrc", ".bundle/**", ".gem/**", ".config/**", ".local/**"] {
            settings.push(format!("{h}/{entry}"));
        }
    }
    // The project's settings a copy ships are `text`'s to tell; another
    // unit that writes them is not followed.
    let project = format!("{}/.bundle/**", dir.trim_end_matches('/'));
    let archive = archive_installs(eff, b);
    for (k, e) in eff.iter().enumerate().take(b) {
        let ins = stage
            .units
            .get(k)
            .and_then(|u| parse.items.get(u.item))
            .and_then(|i| i.instruction());
        let copy = ins.is_some_and(|i| matches!(i.node.kind, Kind::Copy | Kind::Add));
        // A copy from the context puts the files it lists, and only
        // those (`ADD . $HOME` with the project in the home: its
        // `.rspec` is none of these).
        let placed = ins.zip(ctx).and_then(|(i, ctx)| {
            context_placements(i, &state.workdirs[k], state.placement_env(k), ctx)
        });
        let hit = match placed {
            Some(p) => p
                .files
                .iter()
                .any(|(img, _)| settings.iter().any(|s| paths_overlap(img, s))),
            None => {
                // A directory made (`mkdir -p $HOME`) is no file; the
                // Debian archive puts none in /usr/local, nor /etc/gemrc
                // ([`archive_installs`]).
                let free = |p: &str| p.starts_with("/usr/local/") || p == "/etc/gemrc";
                settings.iter().any(|p| match &archive[k] {
                    Some(others) => creates_path(others, p) || (!free(p) && creates_path(e, p)),
                    None => creates_path(e, p),
                })
            }
        };
        if hit || (!copy && creates_path(e, &project)) {
            return false;
        }
    }
    super::manifests::bundler_lock_kept("Gemfile.lock", |n| text(dir, n), line)
}

/// Whether `p` is an absolute path of plain names (no variable, glob,
/// quote, blank, `.` or `..` component).
fn plain_absolute(p: &str) -> bool {
    p.starts_with('/')
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
        && p.split('/').all(|c| c != "." && c != "..")
}

/// Whether a `RUN` (its text, continuations joined) is `bundle install`
/// alone, or after `bundle config [set] [--local|--global] KEY VALUE &&`
/// settings whose keys are `without`, `jobs` or `retry` (the settings of
/// the options [`bundler_lock_kept`] admits; measured alike): what the
/// `RUN` writes is then the install's own and those settings' file.
/// Nothing else of the shell (`;`, `|`, `&` alone, `$(`, `` ` ``, a
/// newline) nor a mount; the settings are plain words.
fn bundle_install_alone(run: &str) -> bool {
    let body = run.trim_end();
    let Some(body) = body
        .get(..4)
        .filter(|k| k.eq_ignore_ascii_case("RUN "))
        .map(|_| &body[4..])
    else {
        return false;
    };
    if ["|", ";", "\n", "$(", "`", "--mount"]
        .iter()
        .any(|op| body.contains(op))
    {
        return false;
    }
    let parts: Vec<&str> = body.split("&&").collect();
    let Some((install, settings)) = parts.split_last() else {
        return false;
    };
    if install.contains('&') {
        return false;
    }
    if settings.is_empty() {
        return true;
    }
    if !plain_words(install).is_some_and(|w| {
        matches!(w.first().map(String::as_str), Some("bundle" | "bundler"))
            && w.get(1).map(String::as_str) == Some("install")
    }) {
        return false;
    }
    settings.iter().all(|part| {
        if part.contains(['$', '<', '>', '#', '\\']) {
            return false;
        }
        let Some(words) = plain_words(part) else {
            return false;
        };
        let mut w = words.iter().map(String::as_str).peekable();
        if (w.next(), w.next()) != (Some("bundle"), Some("config")) {
            return false;
        }
        if w.peek() == Some(&"set") {
            w.next();
        }
        if matches!(w.peek(), Some(&"--local" | &"--global")) {
            w.next();
        }
        let key = w.next();
        let values: Vec<&str> = w.collect();
        matches!(key, Some("without" | "jobs" | "retry"))
            && values.len() == 1
            && values[0]
                .split([' ', ':'])
                .all(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    })
}

/// The words of a plain command line: blanks split, a single- or
/// double-quoted part is one word with its quotes removed; `None` for an
/// unclosed quote or an empty line.
fn plain_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => {
                if let Some(w) = cur.take() {
                    words.push(w);
                }
            }
            (None, c) => cur.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return None;
    }
    words.extend(cur);
    (!words.is_empty()).then_some(words)
}

/// The directories above an absolute directory, nearest first, the root
/// as `""` (so that `format!("{d}/{file}")` names a file in each).
fn dirs_above(dir: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(dir.rsplit_once('/').map(|(p, _)| p), |d| {
        (!d.is_empty()).then(|| d.rsplit_once('/').map_or("", |(p, _)| p))
    })
}

/// The image text of the `FROM` at item `from_item`, as written.
pub(crate) fn from_text(parse: &Parse, from_item: usize) -> Option<&str> {
    parse
        .items
        .get(from_item)?
        .instruction()?
        .node
        .str_args()
        .next()
}

/// The defaults of the global `ARG`s (those before the first `FROM`);
/// one without a default is left out.
fn global_arg_defaults(parse: &Parse) -> BTreeMap<String, String> {
    let mut args = BTreeMap::new();
    for (_, ins) in parse.instructions() {
        match ins.node.kind {
            Kind::From => break,
            Kind::Arg => {
                for a in ins.node.str_args() {
                    match a.split_once('=') {
                        Some((k, v)) => {
                            args.insert(k.to_string(), unquote(v));
                        }
                        None => {
                            args.remove(a);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    args
}

/// The users the official base image `image` makes, with their homes
/// (the `node` images' `useradd --create-home node` / `adduser -D node`).
fn official_base_users(image: &str) -> Vec<(String, String)> {
    match official_repo(image) {
        Some("node") => vec![("node".into(), "/home/node".into())],
        _ => Vec::new(),
    }
}

/// The stage's application directory: `/opt/NAME` when
/// - the stage starts from an official image whose `/opt` is known
///   ([`OFFICIAL_OPT`]) and `NAME` is none of its entries, so the
///   directory is not in the base image;
/// - a `WORKDIR` of the stage makes it the working directory, and a copy
///   of the whole build context (`COPY . .`, `ADD . /opt/NAME`) puts the
///   context there;
/// - before that copy, only copies from the context, language installs
///   the knowledge base understands and directory creation touch what
///   may lie below it (no `RUN` it does not understand, no `COPY --from`,
///   no `ADD` of an archive or URL put a toolchain there first);
/// - no search-path variable or `HOME` is set to a value that names an
///   unknown variable (its directories would not be known).
///
/// Then it holds the application, like `/app` or `/srv/app`, and no
/// program looks things up there by itself: a write below it does not
/// meet a `RUN`'s implicit read of `/opt/**` (the stated assumption of
/// the README). It still meets every directory of a search path set in
/// the Dockerfile, the home entries and every read a command names.
fn stage_app_dir(
    parse: &Parse,
    stage: &Stage,
    state: &StageState,
    effects: &[Effects],
) -> Option<String> {
    let image = base_image(parse, stage.from_item)?;
    let opt = official_opt_entries(&image)?;
    let local = official_usr_local_entries(&image)?;
    let units = &stage.units;
    let ins_of = |u: usize| parse.items.get(units[u].item).and_then(|i| i.instruction());
    // The directory a WORKDIR makes the working directory.
    let app = (0..units.len()).find_map(|u| {
        let ins = ins_of(u)?;
        if ins.node.kind != Kind::Workdir {
            return None;
        }
        let d = state.workdirs.get(u + 1)?;
        let comps: Vec<&str> = Components(d).collect();
        let (tree, name, known): (&str, &str, Vec<&str>) = match comps.as_slice() {
            ["opt", name] => ("/opt", name, opt.to_vec()),
            ["usr", "local", name] => (
                "/usr/local",
                name,
                local.iter().chain(USR_LOCAL_HIERARCHY).copied().collect(),
            ),
            _ => return None,
        };
        let literal = !name.contains(['*', '?', '[', '$', '\\']) && name != "." && name != "..";
        (literal
            && !known
                .iter()
                .any(|k| glob_match(k.as_bytes(), name.as_bytes())))
        .then(|| format!("{tree}/{name}"))
    })?;
    // The first copy of the whole context into it.
    let copy = (0..units.len()).find(|&u| {
        let Some(ins) = ins_of(u) else {
            return false;
        };
        let args: Vec<&str> = ins.node.str_args().collect();
        let ([".", dest] | ["./", dest]) = args.as_slice() else {
            return false;
        };
        matches!(ins.node.kind, Kind::Copy | Kind::Add)
            && ins.heredocs.is_empty()
            && !ins.node.flags.iter().any(|f| f.starts_with("--from"))
            && state
                .env
                .get(u)
                .and_then(|env| expand_word(dest, env))
                .is_some_and(|d| resolve(&state.workdirs[u], &d).trim_end_matches('/') == app)
    })?;
    let below = format!("{app}/**");
    for u in 0..copy {
        let ins = ins_of(u)?;
        let e = effects.get(u)?;
        let reaches = e
            .writes
            .iter()
            .any(|w| matches!(w, Loc::Path(p) if paths_overlap(p, &below)));
        if !reaches {
            continue;
        }
        let context_copy =
            ins.node.kind == Kind::Copy && !ins.node.flags.iter().any(|f| f.starts_with("--from"));
        let language_install = ins.node.kind == Kind::Run
            && e.opaque.is_none()
            && !e.declared_only
            && e.ecosystem.is_some_and(|x| x != "base");
        if !(context_copy || language_install) {
            return None;
        }
    }
    // Search paths and homes with a part that cannot be known.
    let unknown = |k: &str, v: &str| {
        (SEARCH_PATH_VARS.contains(&k) || k == "HOME")
            && (v.contains('$') || v.split(':').any(|p| p == "/"))
    };
    for u in 0..units.len() {
        let ins = ins_of(u)?;
        if matches!(ins.node.kind, Kind::Env | Kind::Arg)
            && state
                .env
                .get(u + 1)
                .or_else(|| state.env.get(u))
                .is_some_and(|env| env.iter().any(|(k, v)| unknown(k, v)))
        {
            return None;
        }
    }
    Some(app)
}

/// Marks each pnpm install of the stage that runs pnpm 10 or later
/// ([`pnpm_ten_runs`]): its packages' scripts then run only where the
/// project allows them (`manifests::pnpm_ten_problems`).
fn settle_pnpm_ten(
    parse: &Parse,
    stage: &Stage,
    state: &StageState,
    start: PnpmState,
    effects: &mut [Effects],
) {
    for b in 0..effects.len() {
        let pnpm = effects[b].checks.iter().any(|(c, _)| {
            matches!(
                c,
                ManifestCheck::NpmScripts(kb::DependencyScripts::Pnpm { ten: false })
            )
        });
        if !pnpm || !pnpm_ten_runs(parse, stage, effects, state, start, b) {
            continue;
        }
        for (c, _) in &mut effects[b].checks {
            if let ManifestCheck::NpmScripts(kb::DependencyScripts::Pnpm { ten }) = c {
                *ten = true;
            }
        }
    }
}

/// What a `RUN` does to the pnpm the stage runs: puts pnpm 10 or later
/// first on `PATH` (`npm install -g pnpm@10…`, `pnpm@latest` or no
/// version, alone on its command; `corepack enable` with pnpm among its
/// shims, which runs the release `packageManager` names), or anything
/// else a command of it may do to pnpm (another corepack command, a
/// global install of pnpm 9 or of other packages, whose programs may be
/// named `pnpm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PnpmLaunch {
    Ten,
    Other,
    Untouched,
}

fn pnpm_launch(cmds: &[shell::SimpleCommand]) -> PnpmLaunch {
    const NPM_INSTALL: &[&str] = &[
        "install", "i", "add", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal",
        "isntall",
    ];
    let mut out = PnpmLaunch::Untouched;
    for c in cmds {
        let tool = c.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a));
        let args = c.argv.get(1..).unwrap_or(&[]);
        match tool {
            Some("npm")
                if args
                    .first()
                    .is_some_and(|a| NPM_INSTALL.contains(&a.as_str())) =>
            {
                let global = args
                    .iter()
                    .any(|a| a == "-g" || a == "--global" || a == "--location=global");
                let names: Vec<&String> =
                    args[1..].iter().filter(|a| !a.starts_with('-')).collect();
                let pnpm: Vec<&&String> = names
                    .iter()
                    .filter(|a| a.as_str() == "pnpm" || a.starts_with("pnpm@"))
                    .collect();
                if !global {
                    continue;
                }
                out =
                    match (pnpm.as_slice(), names.len()) {
                        ([spec], 1)
                            if args.iter().filter(|a| a.starts_with('-')).all(|a| {
                                a == "-g" || a == "--global" || a == "--location=global"
                            }) && pnpm_spec_ten(spec) =>
                        {
                            PnpmLaunch::Ten
                        }
                        _ => PnpmLaunch::Other,
                    };
            }
            Some("corepack") => {
                let names: Vec<&String> = args.iter().skip(1).collect();
                out = if args.first().is_some_and(|a| a == "enable")
                    && names.iter().all(|a| !a.starts_with('-'))
                    && (names.is_empty() || names.iter().any(|a| *a == "pnpm"))
                {
                    PnpmLaunch::Ten
                } else {
                    PnpmLaunch::Other
                };
            }
            Some("yarn" | "pnpm" | "npx" | "bun")
                if args
                    .iter()
                    .any(|a| a == "global" || a == "-g" || a == "--global") =>
            {
                out = PnpmLaunch::Other;
            }
            _ => {}
        }
    }
    // Any other program in the launching `RUN` may put a pnpm on `PATH`
    // after it (a system package, a script).
    let plain = cmds.iter().all(|c| {
        let tool = c.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a));
        match tool {
            Some("corepack" | "echo" | "true" | "set") => true,
            // The launch itself, a cache cleaning, a version.
            Some("npm") => match c.argv.get(1).map(String::as_str) {
                Some("cache" | "--version" | "-v") => true,
                Some(a) => {
                    NPM_INSTALL.contains(&a)
                        && c.argv
                            .iter()
                            .any(|a| a == "-g" || a == "--global" || a == "--location=global")
                }
                None => false,
            },
            Some("pnpm") => matches!(c.argv.get(1..), Some([v]) if v == "--version" || v == "-v"),
            _ => false,
        }
    });
    if out == PnpmLaunch::Ten && !plain {
        PnpmLaunch::Other
    } else {
        out
    }
}

/// Whether an npm package spec of pnpm (`pnpm`, `pnpm@latest`,
/// `pnpm@10`, `pnpm@^10.2.0`, `pnpm@10.12.1`) installs pnpm 10 or later:
/// no version or `latest` installs the newest release, which is 10 or
/// later since January 2025.
fn pnpm_spec_ten(spec: &str) -> bool {
    let v = spec.strip_prefix("pnpm").unwrap_or(spec);
    let v = v.strip_prefix('@').unwrap_or(v);
    if v.is_empty() || v == "latest" {
        return true;
    }
    let v = v.trim_start_matches(['^', '~', '=', 'v']);
    let major: String = v.chars().take_while(char::is_ascii_digit).collect();
    let rest = &v[major.len()..];
    (rest.is_empty() || rest.starts_with('.'))
        && !rest.contains(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'x'))
        && major.parse::<u64>().is_ok_and(|m| m >= 10)
}

/// Whether `RUN` unit `b` runs pnpm 10 or later as launched: an earlier
/// `RUN` of the stage put it there ([`pnpm_launch`]), and after that
/// nothing may have put another pnpm ahead of it (no unit the analysis
/// does not follow, no write where `PATH` looks for `pnpm` or `pnpx`, no
/// other launch); nothing in the stage up to `b` writes pnpm's or npm's
/// configuration files (`~/.npmrc`, `/usr/local/etc/npmrc`,
/// `/etc/npmrc`, `~/.config/pnpm/`, where `only-built-dependencies` may
/// be set); and `b`'s environment sets no `npm_config_*`,
/// `pnpm_config_*`, `COREPACK_*` (but the download prompt), `HOME` or
/// `XDG_CONFIG_HOME`, and a `PATH` only of literal absolute directories.
/// The stage's base is not followed: a `pnpm` it has counts only once a
/// launch of this stage replaced it.
fn pnpm_ten_runs(
    parse: &Parse,
    stage: &Stage,
    effects: &[Effects],
    state: &StageState,
    start: PnpmState,
    b: usize,
) -> bool {
    let Some(env) = state.env.get(b) else {
        return false;
    };
    let unsure = env.keys().any(|k| {
        let l = k.to_ascii_lowercase();
        l.starts_with("npm_config_")
            || l.starts_with("pnpm_config_")
            || (k.starts_with("COREPACK_") && k != "COREPACK_ENABLE_DOWNLOAD_PROMPT")
            || k == "HOME"
            || k == "XDG_CONFIG_HOME"
    });
    if unsure || pnpm_programs(env).is_none() {
        return false;
    }
    // The earlier stages checked their writes against the `PATH` they
    // ended with.
    let mut at = start;
    if state.env.first().and_then(|e| e.get("PATH")) != env.get("PATH") {
        at.ten = false;
    }
    for (k, e) in effects.iter().enumerate().take(b) {
        let Some(ins) = stage
            .units
            .get(k)
            .and_then(|u| parse.items.get(u.item))
            .and_then(|i| i.instruction())
        else {
            return false;
        };
        at = pnpm_step(at, ins, e, env);
    }
    at.ten && at.clean
}

/// Whether `image` names a stage before the `FROM` at `from_item`.
fn stage_named(parse: &Parse, from_item: usize, image: &str) -> bool {
    parse.items.iter().take(from_item).any(|item| {
        item.instruction().is_some_and(|ins| {
            let args: Vec<&str> = ins.node.str_args().collect();
            ins.node.kind == Kind::From
                && matches!(args.as_slice(), [_, kw, n] if kw.eq_ignore_ascii_case("as") && n.eq_ignore_ascii_case(image))
        })
    })
}

/// Whether a file a broad copy ships lands where `e`'s programs look up
/// programs, libraries or settings: the base trees, `/usr/local`'s bin,
/// lib and etc directories, a directory of a search path set in the
/// Dockerfile, or a dotfile of the home directory. (The wider system trees
/// of [`Effects::implicit_reads`] order a RUN after a toolchain copied
/// there; an application copied to `/opt/app` is not a toolchain.)
pub fn ships_into_lookup(e: &Effects, path: &str) -> bool {
    Lookups::of(e).ships(path)
}

/// Whether `path` lies in a system tree any `RUN`'s programs may look
/// things up in (part of [`ships_into_lookup`]).
pub fn in_fixed_lookup(path: &str) -> bool {
    let shipped = pattern_base(path);
    fixed_lookup_bases()
        .iter()
        .any(|&t| bases_overlap(shipped, t))
}

/// [`ships_into_lookup`] for one `RUN` and many shipped files: the
/// pattern bases of its lookup directories and implicit reads are made
/// once, not once per file (caldera's broad copy ships 622 files, each
/// asked about with every unit the hoist passes: 14 M instructions).
pub struct Lookups<'e> {
    e: &'e Effects,
    /// The bases of `e.lookup_dirs`.
    dirs: Vec<(&'e str, bool)>,
    /// The bases of the paths `e` reads implicitly, each with whether it
    /// is [`OPT_TREE`] (left out below the application directory, see
    /// [`implicit_patterns`]).
    implicit: Vec<((&'e str, bool), bool)>,
}

impl<'e> Lookups<'e> {
    pub fn of(e: &'e Effects) -> Lookups<'e> {
        Lookups {
            e,
            dirs: e.lookup_dirs.iter().map(|t| pattern_base(t)).collect(),
            implicit: e
                .implicit_reads
                .iter()
                .filter_map(|l| match l {
                    Loc::Path(p) => Some((pattern_base(p), app_tree_read(p, e.app_dir.as_deref()))),
                    _ => None,
                })
                .collect(),
        }
    }

    /// [`ships_into_lookup`] of `path`.
    pub fn ships(&self, path: &str) -> bool {
        in_fixed_lookup(path) || self.ships_own(path)
    }

    /// [`Lookups::ships`] but for the system trees every `RUN` looks in
    /// ([`in_fixed_lookup`], the same for all: asked once per file, not
    /// once per file and unit).
    pub fn ships_own(&self, path: &str) -> bool {
        let e = self.e;
        let shipped = pattern_base(path);
        e.opaque.is_some()
            || self.dirs.iter().any(|&t| bases_overlap(shipped, t))
            || (!in_source_tree(path) && {
                // As `implicit_patterns(e, path)`.
                let app = below_app_dir(path, e.app_dir.as_deref());
                self.implicit
                    .iter()
                    .any(|&(t, opt)| !(app && opt) && bases_overlap(shipped, t))
            })
    }
}

/// Whether anything below the directory `dir` may land where `e`'s
/// programs look things up: one test for a whole broad copy before
/// [`ships_into_lookup`] asks file by file.
pub fn may_ship_into_lookup(e: &Effects, dir: &str) -> bool {
    let below = format!("{}/**", dir.trim_end_matches('/'));
    e.opaque.is_some()
        || lookup_patterns(e).any(|t| paths_overlap(&below, t))
        || (!in_source_tree(dir) && implicit_patterns(e, &below).any(|t| paths_overlap(&below, t)))
}

/// `/usr/src/…` and `/usr/local/src/…` hold sources, which no program
/// looks up by itself (the system trees that hold them are read for what
/// else is there).
fn in_source_tree(path: &str) -> bool {
    ["/usr/src/", "/usr/local/src/"]
        .iter()
        .any(|t| path.starts_with(t) || path == t.trim_end_matches('/'))
}

/// What a `RUN`'s programs read implicitly (configuration under `/etc`,
/// the home): a copy that ships there changes what the install sees even
/// though it names no such file (build fuzz seed 2026 case 203: `ADD conf
/// /etc/conf` before `pip install`, which reads `/etc`).
///
/// `/opt/**` is left out for a `path` below the stage's application
/// directory ([`stage_app_dir`]).
fn implicit_patterns<'e>(e: &'e Effects, path: &str) -> impl Iterator<Item = &'e str> {
    let app = below_app_dir(path, e.app_dir.as_deref());
    e.implicit_reads.iter().filter_map(move |l| match l {
        Loc::Path(p) if !(app && app_tree_read(p, e.app_dir.as_deref())) => Some(p.as_str()),
        _ => None,
    })
}

/// The [`pattern_base`]s of [`BASE_TREES`] and [`LOCAL_TREES`], made
/// once: [`ships_into_lookup`] compares every file a broad copy ships with
/// each of them (caldera's 622 shipped files made them 17,000 times).
fn fixed_lookup_bases() -> &'static [(&'static str, bool)] {
    static BASES: std::sync::OnceLock<Vec<(&'static str, bool)>> = std::sync::OnceLock::new();
    BASES.get_or_init(|| {
        BASE_TREES
            .iter()
            .chain(LOCAL_TREES)
            .map(|t| pattern_base(t))
            .collect()
    })
}

/// The system trees and the `RUN`'s own lookup directories.
fn lookup_patterns(e: &Effects) -> impl Iterator<Item = &str> {
    BASE_TREES
        .iter()
        .copied()
        .chain(LOCAL_TREES.iter().copied())
        .chain(e.lookup_dirs.iter().map(String::as_str))
}

/// `/usr/local`'s program, library and configuration directories.
const LOCAL_TREES: &[&str] = &[
    "/usr/local/bin/**",
    "/usr/local/sbin/**",
    "/usr/local/lib/**",
    "/usr/local/lib64/**",
    "/usr/local/etc/**",
    "/usr/local/share/**",
];

/// The system trees every program run by a `RUN` may load programs,
/// libraries and configuration from (DESIGN.md section 4; the issue of
/// `COPY --from` toolchains).
const SYSTEM_TREES: &[&str] = &[
    "/bin/**",
    "/sbin/**",
    "/lib/**",
    "/lib32/**",
    "/lib64/**",
    "/libx32/**",
    "/usr/**",
    "/etc/**",
    "/opt/**",
    "/var/lib/**",
    "/go/bin/**",
];

/// Variables naming directories where programs and libraries are found.
const SEARCH_PATH_VARS: &[&str] = &[
    "PATH",
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "PYTHONPATH",
    "PYTHONHOME",
    "NODE_PATH",
    "GEM_PATH",
    "GEM_HOME",
    "BUNDLE_PATH",
    "BUNDLE_GEMFILE",
    "BUNDLE_APP_CONFIG",
    "PERL5LIB",
    "CLASSPATH",
    "JAVA_HOME",
    "GOROOT",
    "GOPATH",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "VIRTUAL_ENV",
    "NVM_DIR",
    "PIP_CONFIG_FILE",
    "NPM_CONFIG_USERCONFIG",
    "XDG_CONFIG_HOME",
    // Read by every program whatever its name: the dynamic loader's audit
    // libraries, glibc's locale and conversion modules and host aliases,
    // OpenSSL's certificates, the temporary directory (tools that find it
    // missing fall back to `/tmp`, so what they leave lands elsewhere),
    // bash's startup file, and the other languages' library paths.
    "LD_AUDIT",
    "LOCPATH",
    "GCONV_PATH",
    "HOSTALIASES",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "TMPDIR",
    "BASH_ENV",
    "PERLLIB",
    "RUBYLIB",
    "PYTHONUSERBASE",
];

/// Variables that move where language installers write.
const INSTALL_DIR_VARS: &[&str] = &[
    "VIRTUAL_ENV",
    "PYTHONUSERBASE",
    "PIP_TARGET",
    "PIP_PREFIX",
    "GOPATH",
    "GOMODCACHE",
    "BUNDLE_PATH",
    "GEM_HOME",
    "NPM_CONFIG_PREFIX",
    "CARGO_HOME",
    "COMPOSER_HOME",
    "HOME",
];

/// [`kb::GENERIC_ENV`], [`SEARCH_PATH_VARS`] and [`INSTALL_DIR_VARS`]
/// together, sorted (as bytes) and without repeats: what every followed
/// `RUN` reads besides the variables it names. Written out rather than
/// sorted per `RUN` (sorting and copying them was a twentieth of a short
/// run); a test checks it against the three lists.
const RUN_FIXED_VARS: &[&str] = &[
    "BASHOPTS",
    "BASH_ENV",
    "BASH_FUNC_*",
    "BUNDLE_APP_CONFIG",
    "BUNDLE_GEMFILE",
    "BUNDLE_PATH",
    "CARGO_HOME",
    "CDPATH",
    "CLASSPATH",
    "COLUMNS",
    "COMPOSER_HOME",
    "ENV",
    "GCONV_PATH",
    "GEM_HOME",
    "GEM_PATH",
    "GLIBC_TUNABLES",
    "GLOBIGNORE",
    "GOMODCACHE",
    "GOPATH",
    "GOROOT",
    "HOME",
    "HOSTALIASES",
    "IFS",
    "JAVA_HOME",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "LD_*",
    "LD_AUDIT",
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "LINES",
    "LOCALDOMAIN",
    "LOCPATH",
    "LOGNAME",
    "MALLOC_*",
    "NLSPATH",
    "NODE_PATH",
    "NPM_CONFIG_PREFIX",
    "NPM_CONFIG_USERCONFIG",
    "NVM_DIR",
    "OLDPWD",
    "PATH",
    "PERL5LIB",
    "PERLLIB",
    "PIP_CONFIG_FILE",
    "PIP_PREFIX",
    "PIP_TARGET",
    "POSIXLY_CORRECT",
    "PS4",
    "PWD",
    "PYTHONHOME",
    "PYTHONPATH",
    "PYTHONUSERBASE",
    "RES_OPTIONS",
    "RUBYLIB",
    "RUSTUP_HOME",
    "SHELL",
    "SHELLOPTS",
    "SIMPLE_BACKUP_SUFFIX",
    "SSL_CERT_DIR",
    "SSL_CERT_FILE",
    "TERM",
    "TMPDIR",
    "USER",
    "VERSION_CONTROL",
    "VIRTUAL_ENV",
    "XDG_CONFIG_HOME",
];

/// What the programs a `RUN` starts may look up (see
/// [`Effects::implicit_reads`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Lookup {
    /// Shell builtins that POSIX runs without a search (`export`, `set`,
    /// `cd`, ...): the shell itself and its libraries, no search path.
    Builtins,
    /// Base utilities only (coreutils, shadow's user tools, the shell's
    /// builtins): the base system's program and library trees, and the
    /// directories the Dockerfile puts on a search path. Assumption, stated
    /// in the README: language package installers (pip, npm, gem, ...)
    /// write into `/usr/local` but never shadow a base utility's name.
    Utilities,
    /// System package managers: every system tree, and only the per-user
    /// settings of [`SYSTEM_HOME`].
    System,
    /// Anything else: every system tree and the user's home.
    Full,
}

const UTILITIES: &[&str] = &[
    "mkdir", "chmod", "chown", "chgrp", "touch", "rm", "rmdir", "ln", "unlink", "truncate", "cp",
    "mv", "install", "echo", "printf", "true", "false", ":", "set", "export", "sleep", "exit",
    "cd", "tr", "cat", "useradd", "adduser", "groupadd", "addgroup", "usermod", "groupmod",
];

const SYSTEM_INSTALLERS: &[&str] = &[
    "apt-get", "apt", "apk", "xx-apk", "yum", "dnf", "microdnf", "dpkg",
];

/// The base system's program and library trees: what a base utility
/// loads (its binary, the C library and NSS modules, locales, `/etc`).
/// Language trees (`/usr/lib/python3`, `/usr/lib/node_modules`) are not
/// among them.
const BASE_TREES: &[&str] = &[
    "/bin/**",
    "/sbin/**",
    "/usr/bin/**",
    "/usr/sbin/**",
    "/lib/*.so*",
    "/lib/*-linux-*/**",
    "/lib/ld-*",
    "/lib32/**",
    "/lib64/**",
    "/libx32/**",
    "/usr/lib/*.so*",
    "/usr/lib/*-linux-*/**",
    "/usr/lib/locale/**",
    "/usr/lib32/**",
    "/usr/lib64/**",
    "/usr/libx32/**",
    "/usr/libexec/**",
    "/usr/share/locale/**",
    "/usr/share/zoneinfo/**",
    // What the C library and the shadow tools read from /etc (user and
    // group lookups, the loader's paths, locales), not every setting.
    "/etc/passwd",
    "/etc/group",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/nsswitch.conf",
    "/etc/ld.so.*",
    "/etc/ld.so.conf.d/**",
    "/etc/locale.*",
    "/etc/default/**",
    "/etc/login.defs",
    "/etc/skel/**",
    "/etc/alternatives/**",
];

/// POSIX's special built-in utilities and the intrinsic `cd` and `umask`
/// that change only the shell's own state: the shell runs them without
/// searching `PATH` (XCU 2.9.1.4), whatever a copy puts on it. `eval`,
/// `.`, `exec` and `trap` run other commands and are not among them.
const SEARCHLESS_BUILTINS: &[&str] = &[
    "export", "set", ":", "exit", "readonly", "unset", "shift", "cd", "umask", "break", "continue",
    "return",
];

fn lookup_of(argv0: &str) -> Lookup {
    if SEARCHLESS_BUILTINS.contains(&argv0) {
        return Lookup::Builtins;
    }
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    if UTILITIES.contains(&name) {
        Lookup::Utilities
    } else if SYSTEM_INSTALLERS.contains(&name) {
        Lookup::System
    } else {
        Lookup::Full
    }
}

/// Each directory (`dir/**`) of the search-path variables set in the
/// Dockerfile; parts inherited from the base (`$PATH`) are not known.
fn search_path_dirs(dir: &str, env: &BTreeMap<String, String>) -> Vec<String> {
    SEARCH_PATH_VARS
        .iter()
        .filter_map(|var| env.get(*var))
        .flat_map(|v| v.split(':'))
        .map(str::trim)
        .filter(|part| !part.is_empty() && !part.contains('$'))
        .map(|part| {
            format!(
                "{}/**",
                resolve(dir, part)
                    .trim_end_matches("/**")
                    .trim_end_matches('/')
            )
        })
        .collect()
}

/// Whether `HOME` is set in the Dockerfile to a value that is not known
/// (`ARG HOME`, `ENV HOME=${APP_HOME:-/srv/app}`): the home may be anywhere.
fn home_unknown(env: &BTreeMap<String, String>) -> bool {
    env.contains_key("HOME") && home_dir(env).is_none()
}

/// `HOME` as set in the Dockerfile, when it is a literal absolute path.
fn home_dir(env: &BTreeMap<String, String>) -> Option<String> {
    env.get("HOME")
        .filter(|h| !h.contains('$') && h.starts_with('/'))
        .map(|h| resolve("/", h))
}

/// Where a user's home may be besides `/root` (stated assumption, README):
/// without `HOME` set in the Dockerfile, a `RUN` runs with the home
/// `/etc/passwd` gives its user, which the analysis does not read. That
/// is `/home/NAME`, or a home an earlier `useradd`, `adduser` or
/// `usermod` of the stage (or of the stage it is built on) gave
/// ([`created_homes`]). A user of the base image is assumed to have its
/// home in `/root` or `/home/*` (the homes elsewhere of system users,
/// `/var/www`, `/nonexistent`, ..., are not followed: the system package
/// managers' writes to `/var` would otherwise meet every language
/// install's). With `HOME` set, that.
///
/// `homes` holds them for the `RUN`'s user ([`RunUser::homes`]).
fn user_homes(env: &BTreeMap<String, String>, homes: &[String]) -> Vec<String> {
    if home_unknown(env) {
        return vec![UNKNOWN_HOME.to_string()];
    }
    if let Some(h) = home_dir(env) {
        return if h == "/root" { Vec::new() } else { vec![h] };
    }
    homes.to_vec()
}

/// The user a `RUN` runs as, as far as its home goes (the fifth stated
/// assumption, README).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunUser {
    /// `root`: `USER root` or `USER 0`, or no `USER` on an official image
    /// ([`base_runs_as_root`]). Its home is `/root`.
    Root,
    /// `USER NAME`, a literal name: its home is `/home/NAME` (or one an
    /// earlier `useradd -d` gave, or `/root`).
    Named(String),
    /// A numeric id, a variable, or a base image that may set a user: any
    /// `/home/*`.
    Unknown,
    /// A `RUN` that sets `HOME` itself, or runs through a `SHELL` that may
    /// switch users: a home anywhere.
    Anywhere,
}

impl RunUser {
    /// The user after `USER arg` (`name[:group]`).
    pub(crate) fn of_user_instruction(arg: &str) -> RunUser {
        let user = arg.split(':').next().unwrap_or("");
        let name_like = user
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        match user {
            "root" | "0" => RunUser::Root,
            _ if name_like => RunUser::Named(user.to_string()),
            _ => RunUser::Unknown,
        }
    }

    /// The homes this user may have besides `/root`, with those earlier
    /// instructions gave users (`created`, [`created_homes`]). Narrowed
    /// only where the user database is known ([`Passwd`]): root's home is
    /// then `/root`, and a user a parsed `useradd`/`adduser` made has the
    /// home it gave; otherwise any `/home/*`, as for a user of the base.
    fn homes(&self, created: &[String], passwd: &Passwd) -> Vec<String> {
        let mut out: Vec<String> = match (self, passwd.home_of(self)) {
            (RunUser::Root, Some(_)) => Vec::new(),
            (_, Some(home)) => vec![home],
            (RunUser::Anywhere, _) => vec![UNKNOWN_HOME.to_string()],
            _ => vec![ANY_USER_HOME.to_string()],
        };
        for h in created {
            if !out.contains(h) {
                out.push(h.clone());
            }
        }
        out
    }
}

/// The homes of users a base image may have (besides `/root`): see
/// [`user_homes`].
const ANY_USER_HOME: &str = "/home/*";

/// What is known of the user database (`/etc/passwd`) before a unit: it
/// is known when the stage chain starts from an official image (no `ENV
/// HOME`, root's home `/root`) and nothing since wrote it but `RUN`s of
/// user tools the analysis reads (`useradd`, `adduser`, `groupadd`,
/// `addgroup`) and of system package managers (a stated assumption: they
/// may add system users, never move an existing user's home).
#[derive(Debug, Clone, Default)]
struct Passwd {
    known: bool,
    /// (login, home) of the users parsed tools made.
    users: Vec<(String, String)>,
}

impl Passwd {
    /// The home of `user`, when it is known.
    fn home_of(&self, user: &RunUser) -> Option<String> {
        if !self.known {
            return None;
        }
        match user {
            RunUser::Root => Some("/root".into()),
            RunUser::Named(name) => self
                .users
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, h)| h.clone()),
            RunUser::Unknown | RunUser::Anywhere => None,
        }
    }

    /// The database after `ins`, whose effects are `e`.
    fn advance(&mut self, ins: &Instruction, env: &BTreeMap<String, String>, e: &Effects) {
        if !self.known {
            return;
        }
        // The database, the files that set new users' homes, or a home
        // itself (a later `ln -s /srv/app /home/app`).
        let homes: Vec<&str> = std::iter::once("/root")
            .chain(self.users.iter().map(|(_, h)| h.as_str()))
            .map(|h| h.trim_end_matches('/'))
            .collect();
        // A write below a home is not one of the home (`pip install
        // --user`, `COPY . /home/app/`), but a `RUN`'s write of its whole
        // tree may be (`rm -rf /home/app && ln -s /srv/app /home/app`).
        // (Compared in place: a RUN writes a few hundred paths.)
        let copy = matches!(ins.node.kind, Kind::Copy | Kind::Add);
        // `paths_overlap` with the fixed sides' bases made once, not once
        // per path written.
        let db: [(&str, bool); 4] = USER_DB_FILES.map(pattern_base);
        let homes: Vec<(&str, (&str, bool))> =
            homes.iter().map(|h| (*h, pattern_base(h))).collect();
        let touches = |p: &str| {
            let base = pattern_base(p);
            db.iter().any(|&f| bases_overlap(base, f))
                || homes.iter().any(|&(h, hb)| {
                    let rest = p.strip_prefix(h);
                    let below = rest.is_some_and(|r| r.starts_with('/'));
                    let whole_tree = rest == Some("/**");
                    bases_overlap(base, hb) && !(below && (copy || !whole_tree))
                })
        };
        let writes_db = e.opaque.is_some()
            || e.writes
                .iter()
                .any(|w| matches!(w, Loc::Path(p) if touches(p)));
        if !writes_db {
            return;
        }
        match (ins.node.kind, user_tool_users(ins, env)) {
            (Kind::Run, Some(users)) => self.users.extend(users),
            _ => *self = Passwd::default(),
        }
    }
}

/// The user database and the files that decide a new user's home.
const USER_DB_FILES: [&str; 4] = [
    "/etc/passwd",
    "/etc/default/useradd",
    "/etc/adduser.conf",
    "/etc/login.defs",
];

/// The users a `RUN` that writes the user database makes, when every
/// command of it is read: `useradd`/`adduser` with their login and home,
/// `groupadd`/`addgroup`, a system package manager, or `id`/`getent`/
/// `true` (`id node || adduser -D node`); `None` for anything else (a
/// script, `sed`, `tar`, `usermod`, `mkdir`, a heredoc, shell the splitter
/// does not follow): it may edit the database.
fn user_tool_users(
    ins: &Instruction,
    env: &BTreeMap<String, String>,
) -> Option<Vec<(String, String)>> {
    const SYSTEM_PMS: [&str; 8] = [
        "apt-get", "apt", "apk", "dnf", "yum", "microdnf", "dpkg", "rpm",
    ];
    if ins.node.json || !ins.heredocs.is_empty() {
        return None;
    }
    let text = ins.node.str_args().collect::<Vec<_>>().join(" ");
    let Split::Commands(cmds) = shell::split(&text) else {
        return None;
    };
    let mut users = Vec::new();
    for c in &cmds {
        let tool = c.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a))?;
        match tool {
            "useradd" | "adduser" => users.push(made_user(tool, &c.argv[1..], env)?),
            "groupadd" | "addgroup" => {}
            t if SYSTEM_PMS.contains(&t) => {}
            "id" | "getent" | "true" | ":" if c.redirect_writes.is_empty() => {}
            _ => return None,
        }
    }
    Some(users)
}

/// The login and home a `useradd`/`adduser` command gives (`/home/NAME`
/// unless `-d`/`-b`/`--home` says otherwise); `None` for an option it does
/// not know, a `--root`/`--prefix`, a variable it cannot expand, or
/// positionals that name no single new login.
fn made_user(
    tool: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
) -> Option<(String, String)> {
    // Options taking a value (shadow's useradd, BusyBox and Debian adduser).
    // Not followed (so `None`): a skeleton or configuration file (`-k`,
    // `--conf`), another root (`-R`, `-P`, `--root`, `--prefix`), and a
    // system user without a home given (Debian's `adduser --system` gives
    // `/nonexistent`).
    let (short_values, short_flags) = match tool {
        "adduser" => ("hgsGu", "DHL"),
        // (`useradd -D` changes the defaults)
        _ => ("bcdefgGKpsuZ", "lmMNoU"),
    };
    const LONG_VALUES: [&str; 17] = [
        "home",
        "home-dir",
        "base-dir",
        "shell",
        "uid",
        "gid",
        "ingroup",
        "gecos",
        "comment",
        "groups",
        "expiredate",
        "inactive",
        "key",
        "password",
        "firstuid",
        "lastuid",
        "selinux-user",
    ];
    const LONG_FLAGS: [&str; 10] = [
        "disabled-password",
        "disabled-login",
        "no-create-home",
        "create-home",
        "group",
        "quiet",
        "debug",
        "user-group",
        "no-user-group",
        "no-log-init",
    ];
    let mut positional: Vec<&str> = Vec::new();
    // A system user (`useradd -r`, BusyBox `adduser -S`, Debian `adduser
    // --system`) counts only with its home given.
    let mut system = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        if let Some(name) = a.strip_prefix("--") {
            let name = name.split_once('=').map_or(name, |(n, _)| n);
            if name == "system" {
                system = true;
            } else if LONG_VALUES.contains(&name) {
                if !a.contains('=') {
                    i += 1;
                }
            } else if !LONG_FLAGS.contains(&name) {
                return None;
            }
            continue;
        }
        if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (k, ch) in cluster.char_indices() {
                if short_values.contains(ch) {
                    if cluster[k + ch.len_utf8()..].is_empty() {
                        i += 1;
                    }
                    break;
                }
                let system_flag = if tool == "adduser" { 'S' } else { 'r' };
                if ch == system_flag {
                    system = true;
                } else if !short_flags.contains(ch) {
                    return None;
                }
            }
            continue;
        }
        positional.push(a);
    }
    // useradd LOGIN; adduser USER (`adduser USER GROUP` adds a user that
    // may already exist, with its own home, to a group).
    let login = match positional.as_slice() {
        [login] => *login,
        _ => return None,
    };
    if login.contains(['$', '/', '`']) || login.is_empty() {
        return None;
    }
    let mut home = format!("/home/{login}");
    let given = home_options(tool, args);
    if system && !given.iter().any(|(o, _)| *o == HomeOpt::Home) {
        return None;
    }
    for (opt, value) in given {
        let dir = expand(&value, env).filter(|d| d.starts_with('/'))?;
        home = match opt {
            HomeOpt::Home => resolve("/", &dir),
            HomeOpt::Base => format!("{}/{login}", resolve("/", &dir).trim_end_matches('/')),
            HomeOpt::Root => return None,
        };
    }
    Some((login.to_string(), home))
}

/// A home that may be anywhere: a `useradd -d` whose directory is not
/// known. Its entries (`/**/.npm/**`) cover every path.
const UNKNOWN_HOME: &str = "/**";

/// Search-path directories set in the Dockerfile, and the home entries
/// the commands read without naming them (for commands that read per-user
/// settings).
fn lookup_dirs(
    dir: &str,
    env: &BTreeMap<String, String>,
    lookup: Lookup,
    created: &[String],
    home: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    if lookup != Lookup::Builtins {
        out.extend(search_path_dirs(dir, env));
    }
    if lookup >= Lookup::System {
        out.extend(home_paths(env, created, home));
    }
    out
}

/// Each of `entries` in every home a command may have: `HOME` as set in
/// the Dockerfile, `/root`, and the homes [`user_homes`] gives without it.
fn home_paths(
    env: &BTreeMap<String, String>,
    created: &[String],
    entries: &[String],
) -> Vec<String> {
    let mut homes: Vec<String> = home_dir(env).into_iter().collect();
    if home_unknown(env) {
        homes.push(UNKNOWN_HOME.to_string());
    }
    homes.push("/root".to_string());
    homes.extend(user_homes(&BTreeMap::new(), created));
    let mut out: Vec<String> = Vec::new();
    for h in homes {
        let h = h.trim_end_matches('/');
        for entry in entries {
            let p = format!("{h}/{entry}");
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// The implicit reads of a `RUN` (see [`Effects::implicit_reads`]):
/// `home` holds the home entries its commands read (see [`HomeUse`]).
fn run_implicit_reads(
    dir: &str,
    env: &BTreeMap<String, String>,
    lookup: Lookup,
    created: &[String],
    home: &[String],
) -> Vec<Loc> {
    let trees = if lookup <= Lookup::Utilities {
        BASE_TREES
    } else {
        SYSTEM_TREES
    };
    let mut out: Vec<Loc> = trees.iter().map(|t| Loc::Path((*t).into())).collect();
    let mut push = |p: String| {
        let l = Loc::Path(p);
        if !out.contains(&l) {
            out.push(l);
        }
    };
    for d in search_path_dirs(dir, env)
        .into_iter()
        .filter(|_| lookup != Lookup::Builtins)
    {
        push(d);
    }
    if lookup >= Lookup::System {
        // In a home, the tools read their settings, caches and user-level
        // installs (a system package manager only those of
        // [`SYSTEM_HOME`]). Other files there (an application in
        // `/home/node/app`) are read only when named.
        for p in home_paths(env, created, home) {
            push(p);
        }
    }
    out
}

/// What a tool the knowledge base gives no home entries for may read in a
/// home without naming it: its dot entries, and the few plain directories
/// tools default to (`~/go` for Go, `~/perl5` for local::lib, `~/R`).
pub(crate) const HOME_ENTRIES: &[&str] = &[".*", ".*/**", "go/**", "perl5/**", "R/**"];

/// What a system package manager and the maintainer scripts it runs read
/// in the home of the user running it (`HOME`, `/root` for root), each
/// from its documentation: dpkg's `~/.dpkg.cfg` (dpkg.cfg(5)), debconf's
/// `~/.debconfrc` (debconf.conf(5)), rpm's `~/.rpmmacros`, `~/.rpmrc`
/// and `~/.config/rpm/macros` (rpm(8)); and what the runtimes a
/// maintainer script may start load from there without being told:
/// Python's user site under `~/.local` (site(3); measured: python3's
/// postinst imported a shipped `usercustomize.py`), fontconfig's user
/// settings and fonts (fc-cache: `~/.config/fontconfig`, `~/.fonts.conf`,
/// `~/.fonts`, `~/.local/share/fonts`), git's (`~/.gitconfig`,
/// `~/.config/git`), wget's `~/.wgetrc` and `~/.netrc` (packages that
/// download at install). Other dot files of a home (`.rspec`,
/// `.gitignore`, `.config/dotnet-tools.json`) are none of theirs.
pub(crate) const SYSTEM_HOME: &[&str] = &[
    ".dpkg.cfg",
    ".debconfrc",
    ".rpmmacros",
    ".rpmrc",
    ".config/rpm/**",
    ".config/fontconfig/**",
    ".config/git/**",
    ".local/lib/**",
    ".local/share/fonts/**",
    ".fonts.conf",
    ".fonts/**",
    ".gitconfig",
    ".wgetrc",
    ".netrc",
];

/// What git reads in a home (git-config(1), gitcredentials(7), ssh(1),
/// and libcurl's `.netrc`), for a command that may run it.
pub(crate) const GIT_HOME: &[&str] = &[
    ".gitconfig",
    ".config/git/**",
    ".git-credentials",
    ".netrc",
    ".ssh/**",
];

/// The home entries the commands of one `RUN` read or write without
/// naming them, gathered command by command: the union of the knowledge
/// base's lists, or [`HOME_ENTRIES`] as soon as one command that looks
/// things up has none.
#[derive(Default)]
struct HomeUse {
    entries: Vec<String>,
    unlisted: bool,
}

impl HomeUse {
    fn add(&mut self, argv0: &str, facts: &kb::CommandFacts) {
        match lookup_of(argv0) {
            Lookup::Full => {}
            Lookup::System => {
                self.entries
                    .extend(SYSTEM_HOME.iter().map(|e| e.to_string()));
                return;
            }
            Lookup::Builtins | Lookup::Utilities => return,
        }
        match &facts.home {
            Some(list) => self.entries.extend(list.iter().cloned()),
            None => self.unlisted = true,
        }
        if facts.git.is_some() {
            self.entries.extend(GIT_HOME.iter().map(|g| g.to_string()));
        }
    }

    /// The entries to use.
    fn entries(&self) -> Vec<String> {
        if self.unlisted {
            return HOME_ENTRIES.iter().map(|e| e.to_string()).collect();
        }
        let mut out = self.entries.clone();
        out.sort();
        out.dedup();
        out
    }
}

/// The directories above `dir` (absolute), nearest first, `/` last.
fn parent_dirs(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = dir.trim_end_matches('/');
    while let Some((parent, _)) = d.rsplit_once('/') {
        out.push(if parent.is_empty() {
            "/".to_string()
        } else {
            parent.to_string()
        });
        d = parent;
    }
    out
}

/// The repository git finds from `dir`: the `.git` of it or of a parent
/// (gitrepository-layout(5); a `.git` file points elsewhere, so it counts
/// too).
fn repository_paths(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = dir.trim_end_matches('/').to_string();
    loop {
        out.push(format!("{d}/.git"));
        out.push(format!("{d}/.git/**"));
        match d.rsplit_once('/') {
            Some((parent, _)) if !d.is_empty() => d = parent.to_string(),
            _ => break,
        }
    }
    out
}

fn narrower(a: &Loc, b: &Loc) -> Loc {
    match (a, b) {
        (Loc::Path(x), Loc::Path(y)) => {
            if x.len() >= y.len() {
                a.clone()
            } else {
                b.clone()
            }
        }
        (Loc::AllVars, _) => b.clone(),
        _ => a.clone(),
    }
}

/// Variables referenced as `$X` or `${X…}` in a text.
pub fn vars_used(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' {
            let mut j = i + 1;
            if chars.get(j) == Some(&'{') {
                j += 1;
                // `${#X}` (its length) reads X too.
                if chars.get(j) == Some(&'#') {
                    j += 1;
                }
            }
            let start = j;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if j > start {
                let name: String = chars[start..j].iter().collect();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The directories a `RUN` climbs out of with `..` (`/app` for `touch
/// /app/../etc/x`, `/app/web` for `> web/../.npmrc` in `/app`): the kernel
/// resolves `..` after looking the directory up, so the command fails when
/// it is missing, though [`resolve`] drops it. `/` when a relative one may
/// be resolved in another directory (the `RUN` has a `cd`) or the text
/// cannot be read word by word.
fn climbed_dirs(ins: &Instruction, wd: &str) -> Vec<String> {
    let mut text = ins.node.str_args().collect::<Vec<_>>().join(" ");
    for h in &ins.heredocs {
        text.push(' ');
        text.push_str(&h.content);
    }
    if !text.contains("..") {
        return Vec::new();
    }
    let moves = text.contains("cd") || text.contains("pushd") || wd.contains('?');
    let mut out: Vec<String> = Vec::new();
    let words = text.split(|c: char| c.is_whitespace() || "<>|;&'\"=()`:,{}$".contains(c));
    for w in words {
        let comps: Vec<&str> = w.split('/').collect();
        // The components before the first `..` that follows a name.
        let Some(k) = comps.iter().enumerate().position(|(i, c)| {
            *c == ".." && comps[..i].iter().any(|p| !matches!(*p, "" | "." | ".."))
        }) else {
            continue;
        };
        let prefix = comps[..k].join("/");
        let dir = if prefix.starts_with('/') {
            resolve("/", &prefix)
        } else if moves || prefix.contains(['*', '?', '[']) {
            "/".to_string()
        } else {
            resolve(wd, &prefix)
        };
        let dir = if dir.contains(['*', '?', '[']) {
            "/".to_string()
        } else {
            dir
        };
        if !out.contains(&dir) {
            out.push(dir);
        }
    }
    out
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
fn is_normal(s: &str) -> bool {
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
fn join_normal(wd: &str, p: &str) -> Option<String> {
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
fn resolve_components(wd: &str, p: &str) -> String {
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

/// The state a stage's instructions see, in order.
#[derive(Debug, Clone)]
pub struct StageState {
    /// The working directory before each unit (absolute, or `/?wdN` when
    /// not known), parallel to the stage's units.
    pub workdirs: Vec<String>,
    /// Variables set by ENV/ARG so far, parallel to units (literal values).
    pub env: Vec<BTreeMap<String, String>>,
    /// Whether each unit certainly runs as root (`RunUser::Root`, through a
    /// POSIX shell, not setting `HOME`), parallel to units.
    pub as_root: Vec<bool>,
    /// The variables a `WORKDIR`, `COPY` or `ADD` at each unit expands its
    /// paths with, where they are not `env`'s: those and the base image's
    /// own ([`workdir_env`]). Parallel to units, or empty when the image
    /// has none (see [`StageState::paths_env`]).
    pub image_paths_env: Vec<BTreeMap<String, String>>,
    /// Whether an `ARG` comes between the file's first `FROM` and each
    /// unit ([`arg_before`]), parallel to units: a variable there may hold
    /// a build argument's value, not its default.
    pub arg_before: Vec<bool>,
}

impl StageState {
    /// The variables a `WORKDIR`, `COPY` or `ADD` at unit `k` expands its
    /// paths with: the stage's, and the official base image's own
    /// ([`OFFICIAL_PATH_VARS`]) where the stage sets none of that name.
    pub fn paths_env(&self, k: usize) -> Option<&BTreeMap<String, String>> {
        self.image_paths_env.get(k).or_else(|| self.env.get(k))
    }

    /// The variables a copy's destination at unit `k` is expanded with to
    /// say where its files land ([`context_placements`]): those of
    /// [`StageState::paths_env`], or none after an `ARG` ([`arg_before`]),
    /// whose default a build may override (`ARG APP=/app`, `COPY
    /// package.json $APP/`, `--build-arg APP=/srv`: the file is not in
    /// `/app`), even through an `ENV`.
    pub fn placement_env(&self, k: usize) -> Option<&BTreeMap<String, String>> {
        if self.arg_before.get(k).is_none_or(|a| *a) {
            return None;
        }
        self.paths_env(k)
    }
}

/// Whether an `ARG` comes between the first `FROM` of the file and item
/// `item`: a variable expanded there may come from a build argument.
fn arg_before(parse: &Parse, item: usize) -> bool {
    let mut staged = false;
    parse.items[..item.min(parse.items.len())]
        .iter()
        .filter_map(|i| i.instruction())
        .any(|i| {
            staged |= i.node.kind == Kind::From;
            staged && i.node.kind == Kind::Arg
        })
}

/// Whether the destination of `COPY`/`ADD` `ins` (at item `item`) is
/// written with a variable (`$GOPATH/src/app`, `$APP`) but is an absolute
/// path whatever the build's arguments: it expands with `env` (the unit's
/// [`StageState::paths_env`]) to one, and no `ARG` comes between the
/// first `FROM` and it (a value may come from one, even through an `ENV`:
/// `ARG BASE=/srv`, `ENV APP=$BASE/app`, `--build-arg BASE=srv`). It
/// then does not read the working directory.
fn dest_absolute_through_vars(
    parse: &Parse,
    item: usize,
    ins: &Instruction,
    env: &BTreeMap<String, String>,
) -> bool {
    let Some(dest) = ins.node.str_args().last() else {
        return false;
    };
    if dest.starts_with('/') || !dest.starts_with('$') {
        return false;
    }
    if !expand_word(dest, env).is_some_and(|d| d.starts_with('/') && !d.contains('$')) {
        return false;
    }
    !arg_before(parse, item)
}

/// Computes the effects of every unit of a stage.
pub fn analyze_stage(parse: &Parse, stage: &Stage) -> (Vec<Effects>, StageState) {
    analyze_stage_with(parse, stage, None, kb::Knowledge::embedded())
}

/// Like [`analyze_stage`], with the build context: `COPY` sources that are
/// files in the context then write exactly their destination file.
pub fn analyze_stage_with(
    parse: &Parse,
    stage: &Stage,
    ctx: Option<&Context>,
    knowledge: &kb::Knowledge,
) -> (Vec<Effects>, StageState) {
    let Inherited {
        mut wd,
        mut env,
        image_vars,
        mut unknown_wds,
        mut homes,
        mut user,
        mut passwd,
        pnpm,
    } = inherited_state(parse, stage.from_item, knowledge);
    // Every `SHELL` so far is a POSIX shell run with `-c` (one that is not
    // may switch users: `["su", "app", "-c"]`) that reads no startup file
    // before each command (a login or interactive shell, zsh): a
    // shell-form `RUN` is not understood otherwise, as what the profile
    // sources is not known.
    let mut posix = super::deletions::posix_shell_before(parse, stage.from_item);
    // Whether a `SHELL` before may have made bash the shell (bash run as
    // `sh` reads no `BASH_ENV`).
    let names_bash = |i: &Instruction| {
        i.node.kind == Kind::Shell
            && i.node
                .str_args()
                .next()
                .is_some_and(|p| p.rsplit('/').next() == Some("bash"))
    };
    let mut bash = parse.items[..stage.from_item.min(parse.items.len())]
        .iter()
        .filter_map(|i| i.instruction())
        .any(names_bash);
    // The variables set by ENV (inherited ones included): an ARG of the
    // same name leaves them not known (see `advance_state`).
    let mut config = env.clone();
    let mut effects = Vec::new();
    let mut corepack_on = false;
    let mut shadowed = false;
    // Directories a `WORKDIR` of the stage made (see
    // `Effects::existing_dirs`).
    let mut made_by_workdir: Vec<String> = Vec::new();
    // Symbolic links an earlier `RUN` of the stage made ([`symlinks_made`]).
    let mut links: Vec<(String, Option<String>)> = Vec::new();
    // Whether the `USER` in effect keeps root's group (`USER 0:1000` makes
    // directories root:1000, measured). A stage built on an earlier one
    // does not know that stage's group: any `USER` with another group
    // before this stage leaves it not known.
    let mut root_group = !parse.items[..stage.from_item.min(parse.items.len())]
        .iter()
        .filter_map(|i| i.instruction())
        .any(|i| i.node.kind == Kind::User && !user_keeps_root_group(i));
    let mut state = StageState {
        workdirs: Vec::new(),
        env: Vec::new(),
        as_root: Vec::new(),
        image_paths_env: Vec::new(),
        arg_before: Vec::new(),
    };
    for unit in &stage.units {
        state.workdirs.push(wd.clone());
        state.env.push(env.clone());
        state.arg_before.push(arg_before(parse, unit.item));
        // A `WORKDIR`, `COPY` or `ADD` also sees the base image's own
        // variables.
        if !image_vars.is_empty() {
            state
                .image_paths_env
                .push(workdir_env(&env, &config, &image_vars));
        }
        let Some(ins) = parse.items.get(unit.item).and_then(|i| i.instruction()) else {
            state.as_root.push(false);
            let mut o = opaque_effects("not an instruction");
            o.cost = knowledge.weights.of(CostClass::Build);
            effects.push(o);
            continue;
        };
        // bash reads the file `BASH_ENV` names before each command, which
        // may set any variable: not followed either.
        let run_user = if sets_home(ins) || !posix || (bash && env.contains_key("BASH_ENV")) {
            // `HOME=/srv/app bundle install`, `export HOME=…`, `SHELL
            // ["su", "app", "-c"]`: not followed.
            RunUser::Anywhere
        } else {
            user.clone()
        };
        state.as_root.push(matches!(run_user, RunUser::Root));
        let paths_env = match state.image_paths_env.last() {
            Some(p) if matches!(ins.node.kind, Kind::Workdir | Kind::Copy | Kind::Add) => p.clone(),
            _ => env.clone(),
        };
        let mut e = if ins.node.kind == Kind::Run && !ins.node.json && !posix {
            let mut o = opaque_effects(
                "its SHELL reads startup files (a login or interactive shell, zsh) or is not a POSIX shell run with `-c`",
            );
            o.cost = knowledge.weights.of(CostClass::Build);
            o
        } else {
            instruction_effects(
                ins,
                &wd,
                &paths_env,
                &run_user.homes(&homes, &passwd),
                knowledge,
            )
        };
        // A link the `RUN` makes counts for the whole `RUN` (its commands
        // after the `ln` go through it), but for the link itself, which it
        // makes.
        let made = symlinks_made(ins, &wd);
        let before = links.len();
        links.extend(made);
        through_links(&mut e, &links, before);
        e.is_run = ins.node.kind == Kind::Run;
        e.runs_as_root = e.is_run && matches!(run_user, RunUser::Root) && root_group;
        e.existing_dirs = made_by_workdir.clone();
        match mount_targets(ins, &wd) {
            Some(t) => e.mount_targets = t,
            None => e.mount_unknown = true,
        }
        if matches!(ins.node.kind, Kind::Copy | Kind::Add) {
            if dest_absolute_through_vars(parse, unit.item, ins, &paths_env) {
                e.reads.retain(|r| *r != Loc::Workdir);
            }
            refine_copy_writes(ins, &wd, &paths_env, ctx, &mut e);
            // A copy costs more the more it copies (1 per MB, at most 30).
            if let Some(ctx) = ctx {
                let bytes: u64 = e.context_reads.iter().map(|s| ctx.size_under(s)).sum();
                e.cost += (bytes as f64 / 1_000_000.0).min(30.0);
            }
        }
        e.keep = unit.keep;
        // An ARG of a name an ENV already set changes no RUN's environment
        // under the classic builder (BuildKit gives it the ARG's value): it
        // is not counted as busting the cache, so moving it is not proposed.
        e.per_build = super::volatile::per_build_args(ins)
            .find(|k| !config.contains_key(*k))
            .map(str::to_string);
        if let (Some(declared), Kind::Run) = (&unit.declared_reads, ins.node.kind) {
            // The user's word for what this RUN reads; what it writes stays
            // as analysed (everything, when the RUN is not understood).
            e.reads = vec![Loc::AllVars, Loc::Workdir, Loc::User, Loc::Shell];
            e.manifests.clear();
            for p in declared {
                let path = resolve(&wd, p);
                e.reads.push(Loc::Path(path.clone()));
                e.manifests.push(path);
            }
            e.checks.clear();
            if e.opaque.is_some() {
                e.declared_only = true;
                e.opaque = None;
            }
        }
        // Corepack enabled by an earlier `RUN` of the stage, when this one
        // says nothing of it (see `corepack_after`).
        // An earlier instruction that may have put a yarn ahead of the
        // shims (or set `PATH`, `COREPACK_*`) leaves no shim known, even
        // after a later `corepack enable`.
        for (chk, _) in &mut e.checks {
            if let ManifestCheck::Yarn { corepack: c, .. } = chk {
                if shadowed {
                    *c = Some(false);
                } else if corepack_on && c.is_none() {
                    *c = Some(true);
                }
            }
        }
        let (on, shadows) = corepack_after(ins, &e, corepack_on);
        shadowed |= shadows;
        corepack_on = on && !shadowed;
        // State changes for the following units.
        if ins.node.kind == Kind::Workdir {
            let mut paths_env = paths_env;
            advance_state(
                parse,
                ins,
                &mut wd,
                &mut paths_env,
                &mut unknown_wds,
                &mut config,
            );
        } else {
            advance_state(parse, ins, &mut wd, &mut env, &mut unknown_wds, &mut config);
        }
        if !matches!(ins.node.kind, Kind::Copy | Kind::Add | Kind::Workdir) {
            // A unit that may remove or replace a directory a `WORKDIR`
            // made (`RUN rm -rf /code`, measured: a later `COPY
            // --chown=app . /code/app` makes `/code` again, app's): it
            // no longer counts as existing. A copy never removes one.
            made_by_workdir.retain(|d| !may_remove_dir(&e, d));
        }
        if ins.node.kind == Kind::Workdir && !wd.contains('?') && !made_by_workdir.contains(&wd) {
            made_by_workdir.push(wd.clone());
        }
        add_created_homes(ins, &env, &mut homes);
        passwd.advance(ins, &env, &e);
        advance_user(ins, &mut user);
        if ins.node.kind == Kind::User {
            root_group = user_keeps_root_group(ins);
        }
        posix &= ins.node.kind != Kind::Shell || super::deletions::posix_shell(ins);
        bash |= names_bash(ins);
        if ins.node.kind == Kind::User {
            e.user_home_known = passwd.home_of(&user).is_some();
        }
        effects.push(e);
    }
    if let Some(ctx) = ctx {
        add_manifest_reads(parse, stage, &state, ctx, &mut effects);
    }
    settle_uv_virtual(parse, stage, &state, ctx, &mut effects);
    settle_pnpm_ten(parse, stage, &state, pnpm, &mut effects);
    if let Some(app) = stage_app_dir(parse, stage, &state, &effects) {
        for e in &mut effects {
            e.app_dir = Some(app.clone());
        }
    }
    (effects, state)
}

/// The state a stage starts in. A stage built `FROM` an earlier stage of
/// the file starts in that stage's working directory with its `ENV`
/// variables (both are image configuration), and the users it created
/// (their homes: see [`created_homes`]) and its user; its `ARG`s carry
/// over under BuildKit and not under the classic builder, so their values
/// are not known. Any other stage starts in the base image's working
/// directory, known for the official images of [`OFFICIAL_WORKDIR`] and
/// unknown (`/?wd0`) otherwise, as root on an official image
/// ([`base_runs_as_root`]). A stage built on an earlier stage that has
/// `ONBUILD` instructions starts where nothing is known (directory,
/// variables, user, users): BuildKit runs those triggers first in it
/// (measured with Docker 20.10: `ONBUILD WORKDIR /srv` moved the stage
/// built on it to /srv).
struct Inherited {
    wd: String,
    env: BTreeMap<String, String>,
    /// Variables the base image's config sets that a `WORKDIR` may use
    /// ([`OFFICIAL_PATH_VARS`]; see [`workdir_env`]).
    image_vars: BTreeMap<String, String>,
    unknown_wds: usize,
    homes: Vec<String>,
    user: RunUser,
    passwd: Passwd,
    /// pnpm as the stage starts ([`pnpm_ten_runs`]).
    pnpm: PnpmState,
}

/// What is known of pnpm at a point of a stage: whether pnpm 10 or later
/// is what `pnpm` runs ([`pnpm_launch`], nothing since that may have put
/// another first), and whether no npm or pnpm configuration file may
/// have been written (an official base image ships none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PnpmState {
    ten: bool,
    clean: bool,
}

/// npm's and pnpm's user and global configuration files, where a setting
/// may let packages' scripts run.
const PNPM_CONFIG: &[&str] = &[
    "/root/.npmrc",
    "/root/.config/pnpm/**",
    "/home/*/.npmrc",
    "/home/*/.config/pnpm/**",
    "/usr/local/etc/npmrc",
    "/etc/npmrc",
];

/// Where `pnpm` may be found on the `PATH` of `env` (its programs and
/// npm's global copy); `None` when `PATH` is not literal.
fn pnpm_programs(env: &BTreeMap<String, String>) -> Option<Vec<String>> {
    let dirs: Vec<String> = match env.get("PATH") {
        Some(p) => {
            let dirs: Vec<&str> = p.split(':').collect();
            if dirs
                .iter()
                .any(|d| !d.starts_with('/') || d.contains('$') || d.starts_with(UNKNOWN_VALUE))
            {
                return None;
            }
            dirs.iter().map(|d| d.to_string()).collect()
        }
        None => DEFAULT_PATH.iter().map(|d| d.to_string()).collect(),
    };
    let mut programs: Vec<String> = dirs
        .iter()
        .flat_map(|d| {
            let d = d.trim_end_matches('/');
            [format!("{d}/pnpm"), format!("{d}/pnpx")]
        })
        .collect();
    programs.push("/usr/local/lib/node_modules/pnpm/**".to_string());
    Some(programs)
}

/// The pnpm state after unit `ins` with effects `e`, run with `env`.
fn pnpm_step(
    was: PnpmState,
    ins: &Instruction,
    e: &Effects,
    env: &BTreeMap<String, String>,
) -> PnpmState {
    let clean = was.clean && e.opaque.is_none() && !PNPM_CONFIG.iter().any(|c| writes_path(e, c));
    let launch = match ins.node.kind {
        _ if e.opaque.is_some() => None,
        Kind::Run => ins.run_script().and_then(|t| match shell::split(&t) {
            Split::Commands(c) => Some(pnpm_launch(&c)),
            Split::Opaque(_) => None,
        }),
        _ => Some(PnpmLaunch::Untouched),
    };
    let ten = match launch {
        Some(PnpmLaunch::Ten) => true,
        Some(PnpmLaunch::Other) | None => false,
        Some(PnpmLaunch::Untouched) => {
            was.ten && pnpm_programs(env).is_some_and(|ps| !ps.iter().any(|p| writes_path(e, p)))
        }
    };
    PnpmState { ten, clean }
}

fn inherited_state(parse: &Parse, from_item: usize, knowledge: &kb::Knowledge) -> Inherited {
    let fresh = |from: usize| {
        // An official image: runs as root, no `ENV HOME`, users known.
        let image = base_image(parse, from);
        let official = image
            .as_deref()
            .is_some_and(|i| official_opt_entries(i).is_some());
        // An official image's own working directory when it is known.
        let wd = image.as_deref().and_then(|i| base_workdir(parse, from, i));
        let image_vars = match (wd, image.as_deref().and_then(official_repo)) {
            (Some(_), Some(repo)) => OFFICIAL_PATH_VARS
                .iter()
                .filter(|(r, _, _)| *r == repo)
                .map(|(_, k, v)| (k.to_string(), v.to_string()))
                .collect(),
            _ => BTreeMap::new(),
        };
        Inherited {
            wd: wd.unwrap_or("/?wd0").to_string(),
            env: BTreeMap::new(),
            image_vars,
            unknown_wds: 0,
            homes: Vec::new(),
            user: if official {
                RunUser::Root
            } else {
                RunUser::Unknown
            },
            passwd: Passwd {
                known: official,
                users: if official {
                    official_base_users(image.as_deref().unwrap_or(""))
                } else {
                    Vec::new()
                },
            },
            pnpm: PnpmState {
                ten: false,
                clean: official,
            },
        }
    };
    // What a stage built on one with triggers starts from: nothing known.
    let triggered = |st: &Inherited| {
        let n = st.unknown_wds + 1;
        Inherited {
            wd: format!("/?wd{n}"),
            env: BTreeMap::new(),
            image_vars: BTreeMap::new(),
            unknown_wds: n,
            homes: Vec::new(),
            user: RunUser::Unknown,
            passwd: Passwd {
                known: false,
                users: Vec::new(),
            },
            pnpm: PnpmState {
                ten: false,
                clean: false,
            },
        }
    };
    // (lower-case name, end state: working directory, ENV only) of each
    // earlier stage, and the state of the one being read (with whether it
    // has `ONBUILD` triggers).
    let mut done: Vec<(Option<String>, Inherited)> = Vec::new();
    let mut cur: Option<(Option<String>, Inherited, BTreeMap<String, String>)> = None;
    let mut onbuild = false;
    let start_of = |done: &[(Option<String>, Inherited)], ins: &Instruction| {
        let base = ins
            .node
            .str_args()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        done.iter()
            .rev()
            .find(|(n, _)| n.as_deref() == Some(base.as_str()))
            .map(|(_, s)| Inherited {
                wd: s.wd.clone(),
                env: s.env.clone(),
                image_vars: s.image_vars.clone(),
                unknown_wds: s.unknown_wds,
                homes: s.homes.clone(),
                user: s.user.clone(),
                passwd: s.passwd.clone(),
                pnpm: s.pnpm,
            })
    };
    for (k, item) in parse.items.iter().enumerate().take(from_item + 1) {
        let Some(ins) = item.instruction() else {
            continue;
        };
        if ins.node.kind == Kind::From {
            if let Some((name, st, config)) = cur.take() {
                let end = if onbuild {
                    triggered(&st)
                } else {
                    // The stage's `ARG`s reach the stages built on it under
                    // BuildKit (their expansions and `RUN` environments;
                    // measured with Docker 20.10), not under the classic
                    // builder: not known there.
                    let mut env = config;
                    for (k, v) in &st.env {
                        if env.get(k) != Some(v) {
                            env.insert(k.clone(), UNKNOWN_VALUE.to_string());
                        }
                    }
                    Inherited { env, ..st }
                };
                done.push((name, end));
            }
            onbuild = false;
            let start = start_of(&done, ins).unwrap_or_else(|| fresh(k));
            if k == from_item {
                return start;
            }
            let args: Vec<&str> = ins.node.str_args().collect();
            let name = match args.as_slice() {
                [_, kw, n] if kw.eq_ignore_ascii_case("as") => Some(n.to_ascii_lowercase()),
                _ => None,
            };
            let config = start.env.clone();
            cur = Some((name, start, config));
            continue;
        }
        onbuild |= ins.node.kind == Kind::Onbuild;
        if let Some((_, st, config)) = cur.as_mut() {
            if matches!(ins.node.kind, Kind::Run | Kind::Copy | Kind::Add)
                && (st.passwd.known || st.pnpm.clean)
            {
                let e = instruction_effects(ins, &st.wd, &st.env, &[], knowledge);
                if st.passwd.known {
                    st.passwd.advance(ins, &st.env, &e);
                }
                st.pnpm = pnpm_step(st.pnpm, ins, &e, &st.env);
            } else if matches!(ins.node.kind, Kind::Run | Kind::Copy | Kind::Add) {
                st.pnpm.ten = false;
            }
            let path_before = st.env.get("PATH").cloned();
            if ins.node.kind == Kind::Workdir {
                let mut env = workdir_env(&st.env, config, &st.image_vars);
                advance_state(
                    parse,
                    ins,
                    &mut st.wd,
                    &mut env,
                    &mut st.unknown_wds,
                    config,
                );
            } else {
                advance_state(
                    parse,
                    ins,
                    &mut st.wd,
                    &mut st.env,
                    &mut st.unknown_wds,
                    config,
                );
            }
            add_created_homes(ins, &st.env, &mut st.homes);
            advance_user(ins, &mut st.user);
            // Earlier writes were checked against the `PATH` of their
            // time: another one leaves what `pnpm` finds not known.
            if st.env.get("PATH") != path_before.as_ref() {
                st.pnpm.ten = false;
            }
        }
    }
    fresh(from_item)
}

/// Whether a `RUN` may set `HOME` itself (`HOME=… cmd`, `export HOME=…`):
/// its commands' home is then not its user's.
fn sets_home(ins: &Instruction) -> bool {
    ins.node.kind == Kind::Run
        && (ins.node.str_args().any(|a| a.contains("HOME="))
            || ins.heredocs.iter().any(|h| h.content.contains("HOME=")))
}

/// The user after `ins`: a `USER` sets it.
fn advance_user(ins: &Instruction, user: &mut RunUser) {
    if ins.node.kind == Kind::User {
        *user = RunUser::of_user_instruction(ins.node.str_args().next().unwrap_or(""));
    }
}

/// Whether `USER name[:group]` names no group (the user's own: root's is
/// root) or root's group.
fn user_keeps_root_group(ins: &Instruction) -> bool {
    let arg = ins.node.str_args().next().unwrap_or("");
    arg.split_once(':')
        .is_none_or(|(_, g)| g == "root" || g == "0")
}

/// Adds the homes a `RUN` gives users ([`created_homes`]) to `homes`.
fn add_created_homes(ins: &Instruction, env: &BTreeMap<String, String>, homes: &mut Vec<String>) {
    if ins.node.kind != Kind::Run {
        return;
    }
    for h in created_homes(ins, env) {
        if !homes.contains(&h) {
            homes.push(h);
        }
    }
}

/// The home directories the `useradd`, `adduser` and `usermod` commands
/// of a `RUN` give the users they create or change: `-d`/`--home-dir`/
/// `--home` (BusyBox `adduser -h`) as given, `BASE/*` for `-b`/
/// `--base-dir`; [`UNKNOWN_HOME`] for one that cannot be read (a
/// variable that is not known, a relative directory, `--root`/`--prefix`,
/// or shell the splitter does not follow around such a command). Without
/// these options the home is `/home/NAME`, which [`user_homes`] has
/// already.
fn created_homes(ins: &Instruction, env: &BTreeMap<String, String>) -> Vec<String> {
    const TOOLS: [&str; 3] = ["useradd", "adduser", "usermod"];
    let text = ins.node.str_args().collect::<Vec<_>>().join(" ");
    let mentions = TOOLS.iter().any(|t| text.contains(t))
        || ins
            .heredocs
            .iter()
            .any(|h| TOOLS.iter().any(|t| h.content.contains(t)));
    if !mentions {
        return Vec::new();
    }
    let cmds = match (
        ins.node.json || !ins.heredocs.is_empty(),
        shell::split(&text),
    ) {
        (false, Split::Commands(c)) => c,
        _ => return vec![UNKNOWN_HOME.to_string()],
    };
    let mut out = Vec::new();
    for c in &cmds {
        let Some(tool) = c.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a)) else {
            continue;
        };
        if !TOOLS.contains(&tool) {
            continue;
        }
        for (opt, value) in home_options(tool, &c.argv[1..]) {
            let dir = match expand(&value, env) {
                Some(d) if d.starts_with('/') && opt != HomeOpt::Root => resolve("/", &d),
                _ => UNKNOWN_HOME.to_string(),
            };
            let home = match opt {
                HomeOpt::Base if dir != UNKNOWN_HOME => format!("{}/*", dir.trim_end_matches('/')),
                _ => dir,
            };
            if !out.contains(&home) {
                out.push(home);
            }
        }
    }
    out
}

/// What a user tool's option says of a home (see [`home_options`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HomeOpt {
    /// The home itself (`-d DIR`).
    Home,
    /// The directory homes are made in (`useradd -b BASE`).
    Base,
    /// Another root or prefix for the user files (`-R`, `-P`): the home
    /// is not known.
    Root,
}

/// The home options of one `useradd`/`usermod`/`adduser` call, with their
/// values. Short options are read as getopt does (`-md DIR`, `-dDIR`);
/// the options that take a value are those of shadow's useradd(8),
/// usermod(8), Debian's adduser(8) and BusyBox's adduser.
fn home_options(tool: &str, args: &[String]) -> Vec<(HomeOpt, String)> {
    let (short_values, home_short, base_short): (&str, Option<char>, Option<char>) = match tool {
        "adduser" => ("hgsGuk", Some('h'), None),
        "usermod" => ("cdefgGlpsuRPZ", Some('d'), None),
        _ => ("bcdefgGkKpsuRPZ", Some('d'), Some('b')),
    };
    let long = |name: &str| match name {
        "home-dir" | "home" => Some(HomeOpt::Home),
        "base-dir" => Some(HomeOpt::Base),
        "root" | "prefix" => Some(HomeOpt::Root),
        _ => None,
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if let Some(name) = a.strip_prefix("--") {
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (name, None),
            };
            if let Some(kind) = long(name) {
                let v = inline.or_else(|| args.get(i).cloned());
                if v.is_some() && !a.contains('=') {
                    i += 1;
                }
                out.push((kind, v.unwrap_or_default()));
            }
            continue;
        }
        let Some(cluster) = a.strip_prefix('-') else {
            continue;
        };
        for (k, ch) in cluster.char_indices() {
            if !short_values.contains(ch) {
                continue;
            }
            let rest = &cluster[k + ch.len_utf8()..];
            let v = if rest.is_empty() {
                i += 1;
                args.get(i - 1).cloned().unwrap_or_default()
            } else {
                rest.to_string()
            };
            let kind = if Some(ch) == home_short {
                Some(HomeOpt::Home)
            } else if Some(ch) == base_short {
                Some(HomeOpt::Base)
            } else if matches!(ch, 'R' | 'P') && tool != "adduser" {
                Some(HomeOpt::Root)
            } else {
                None
            };
            if let Some(kind) = kind {
                out.push((kind, v));
            }
            break;
        }
    }
    out
}

/// How a unit changes the state the next units see: `WORKDIR` the working
/// directory, `ENV` and `ARG` the variables. `config` holds the `ENV` ones
/// (what a stage built on this one inherits); an `ARG` of one of them
/// leaves its value not known (the builders disagree on which wins).
fn advance_state(
    parse: &Parse,
    ins: &Instruction,
    wd: &mut String,
    env: &mut BTreeMap<String, String>,
    unknown_wds: &mut usize,
    config: &mut BTreeMap<String, String>,
) {
    match ins.node.kind {
        Kind::Workdir => {
            let arg = ins.node.str_args().next().unwrap_or("");
            match expand_word(arg, env) {
                Some(p) => *wd = resolve(wd, &p),
                None => {
                    *unknown_wds += 1;
                    *wd = format!("/?wd{unknown_wds}");
                }
            }
        }
        Kind::Env => {
            let args: Vec<&str> = ins.node.str_args().collect();
            // Every value expands with the variables as they were before
            // the instruction: `ENV D=/app W=$D` gives W the earlier D
            // (the Dockerfile reference; measured with BuildKit).
            let before = env.clone();
            for t in args.chunks(3) {
                if let [k, v, _] = t {
                    let raw = unquote(v);
                    // A value that does not expand here (`$NAME` of the
                    // base image, `${X:-y}`) is not known: it is not empty
                    // (`WORKDIR $D` would stay where it was).
                    let v = expand_word(v, &before)
                        .or_else(|| {
                            SEARCH_PATH_VARS
                                .contains(k)
                                .then(|| search_path_value(k, &raw, &before))
                        })
                        .unwrap_or_else(|| UNKNOWN_VALUE.to_string());
                    config.insert(k.to_string(), v.clone());
                    env.insert(k.to_string(), v);
                }
            }
        }
        Kind::Arg => {
            // The names an earlier pair of this instruction set: BuildKit
            // releases disagree on which value a later default sees (`ARG
            // D=/app W=$D`: Docker 20.10's gives W the D before the
            // instruction, measured; today's `dispatchArg` expands each
            // default after adding the earlier ones). Not known, then.
            let mut set: Vec<&str> = Vec::new();
            for a in ins.node.str_args() {
                let v = match a.split_once('=') {
                    // The default as BuildKit expands it (`ARG D=$BASE/app`).
                    Some((k, v)) => Some((
                        k,
                        if vars_used(v).iter().any(|u| set.contains(&u.as_str())) {
                            UNKNOWN_VALUE.to_string()
                        } else {
                            expand_word(v, env).unwrap_or_else(|| UNKNOWN_VALUE.to_string())
                        },
                    )),
                    // `ARG X` in a stage takes the default of a global
                    // `ARG X=…` (before the first FROM).
                    None => global_arg_default(parse, a).map(|v| {
                        // Not expanded there: a reference or an escape
                        // left in it is not known.
                        let known = !v.contains(['$', '\\', '"', '\'', '`']);
                        (a, if known { v } else { UNKNOWN_VALUE.to_string() })
                    }),
                };
                // Without a default the value is the build's (README:
                // "a build argument without a default" is not known).
                let (k, v) = v.unwrap_or((a, UNKNOWN_ARG_VALUE.to_string()));
                // After an `ENV` of the same name the builders disagree
                // (measured with Docker 20.10): BuildKit takes the ARG's
                // value (`dispatchArg`: `d.state.AddEnv`), in expansions
                // and in the `RUN` environment, the classic builder keeps
                // the ENV's. Not known, then.
                let v = if config.contains_key(k) {
                    UNKNOWN_VALUE.to_string()
                } else {
                    v
                };
                env.insert(k.to_string(), v);
                set.push(k);
            }
        }
        _ => {}
    }
}

/// The value of search-path variable `var` set to `raw` when `raw` names
/// a variable that is not known (`ENV PATH=/app/bin:$PATH`, the base
/// image's `PATH`): each part that expands is kept, so `/app/bin` stays a
/// lookup directory (dropping the whole value lost it, and a copy into
/// `/app/bin` passed a `RUN` that runs what is there). The variable's own
/// inherited value is dropped (the base image's directories are the
/// system trees'); any other part that does not expand could be anywhere,
/// so it stands as `/`.
fn search_path_value(var: &str, raw: &str, env: &BTreeMap<String, String>) -> String {
    raw.split(':')
        .filter_map(|part| match expand(part, env) {
            Some(p) => Some(p),
            None if part == format!("${var}") || part == format!("${{{var}}}") => None,
            None => Some("/".to_string()),
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// The default of a global `ARG name=value` (one before the first
/// `FROM`), the value a stage's `ARG name` without a default takes.
fn global_arg_default(parse: &Parse, name: &str) -> Option<String> {
    global_arg_defaults(parse).remove(name)
}

/// The files a `RUN`'s manifests name beyond the knowledge base's list (a
/// Maven reactor's module POMs, `.mvn/`, profile activation files), as
/// reads and manifests at the image paths where the stage's copies of the
/// whole context (`COPY . DEST`, before or after it) put them: the graph
/// then keeps the install after the COPYs that provide them.
fn add_manifest_reads(
    parse: &Parse,
    stage: &Stage,
    state: &StageState,
    ctx: &Context,
    effects: &mut [Effects],
) {
    let dests = context_copies(parse, stage, state);
    let dir_dests = context_dir_copies(parse, stage, state);
    for i in 0..effects.len() {
        dotnet_reads(&dir_dests, i, ctx, effects);
        let e = &mut effects[i];
        let mut extra = Vec::new();
        for (chk, dir) in &e.checks {
            if matches!(chk, ManifestCheck::Dotnet { .. }) {
                continue;
            }
            for (_, dest) in &dests {
                let rel = if dir == dest {
                    Some(String::new())
                } else {
                    dir.strip_prefix(&format!("{}/", dest.trim_end_matches('/')))
                        .map(str::to_string)
                };
                let Some(rel) = rel else { continue };
                let prefix = format!("{}/", dest.trim_end_matches('/'));
                let to_context = |img: &str| img.strip_prefix(prefix.as_str()).map(str::to_string);
                for f in super::manifests::extra_manifests(chk, ctx, &rel, &to_context) {
                    extra.push(resolve(dest, &f));
                }
            }
        }
        for p in extra {
            if !e.manifests.contains(&p) {
                e.reads.push(Loc::Path(p.clone()));
                e.manifests.push(p);
            }
        }
    }
}

/// The stage's copies of the whole context (`COPY . DEST`): each unit's
/// index with its destination, absolute.
fn context_copies(parse: &Parse, stage: &Stage, state: &StageState) -> Vec<(usize, String)> {
    context_dir_copies(parse, stage, state)
        .into_iter()
        .filter(|(_, _, root)| root.is_empty())
        .map(|(k, d, _)| (k, d))
        .collect()
}

/// The stage's copies of the whole context, and of one of its directories
/// (`COPY --link aspnetapp/. .`, `COPY web/ /app`, `COPY web /app`: its
/// contents land at the destination): `(unit, destination, directory)`,
/// the directory context-relative (`""` for the whole context). A
/// directory copy is one literal relative path without `..`, with no flag
/// but `--link`, `--chown` or `--chmod`; whether the path is a directory
/// of the context is for the caller to check.
fn context_dir_copies(
    parse: &Parse,
    stage: &Stage,
    state: &StageState,
) -> Vec<(usize, String, String)> {
    let mut dests: Vec<(usize, String, String)> = Vec::new();
    for (k, unit) in stage.units.iter().enumerate() {
        let Some(ins) = parse.items.get(unit.item).and_then(|i| i.instruction()) else {
            continue;
        };
        let args: Vec<&str> = ins.node.str_args().collect();
        if !matches!(ins.node.kind, Kind::Copy | Kind::Add) || !ins.heredocs.is_empty() {
            continue;
        }
        let [src, dest] = args.as_slice() else {
            continue;
        };
        let Some(d) = state.paths_env(k).and_then(|env| expand_word(dest, env)) else {
            continue;
        };
        let dest = resolve(&state.workdirs[k], &d);
        if matches!(*src, "." | "./") {
            if !ins.node.flags.iter().any(|f| f.starts_with("--from")) {
                dests.push((k, dest, String::new()));
            }
            continue;
        }
        let plain_flags = ins.node.flags.iter().all(|f| {
            f == "--link"
                || f == "--link=true"
                || f.starts_with("--chown=")
                || f.starts_with("--chmod=")
        });
        let root = src
            .strip_suffix("/.")
            .or_else(|| src.strip_suffix('/'))
            .unwrap_or(src)
            .trim_start_matches("./");
        let plain = !root.is_empty()
            && !root.starts_with('/')
            && root
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..")
            && root
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
        if plain_flags && plain {
            dests.push((k, dest, root.to_string()));
        }
    }
    dests
}

/// `uv sync` without `--no-install-project` is read as with it only for a
/// virtual project ([`ManifestCheck::UvVirtual`]); this settles the
/// condition and makes every other such `RUN` opaque, as the knowledge
/// base alone would. The manifests it sees are the context files that the
/// last copy before it writing each of them put there ([`uv_sources`]);
/// with no context, a manifest written by anything else, or one that does
/// not show a virtual project, the `RUN` stays opaque.
fn settle_uv_virtual(
    parse: &Parse,
    stage: &Stage,
    state: &StageState,
    ctx: Option<&Context>,
    effects: &mut [Effects],
) {
    let dests = context_copies(parse, stage, state);
    for i in 0..effects.len() {
        let Some(dir) = effects[i]
            .checks
            .iter()
            .find(|(c, _)| matches!(c, ManifestCheck::UvVirtual))
            .map(|(_, d)| d.clone())
        else {
            continue;
        };
        let project = "`uv sync` without `--no-install-project` also installs the project itself";
        let reason = match ctx {
            None => Some(format!(
                "{project} (no build context to show it is virtual)"
            )),
            Some(ctx) => match uv_sources(parse, stage, &dests, i, &dir, effects) {
                Err(why) => Some(format!("{project} ({why})")),
                Ok(files) => {
                    let pyproject = files.first().cloned().flatten().unwrap_or_default();
                    let rel = pyproject
                        .strip_suffix("pyproject.toml")
                        .unwrap_or("")
                        .trim_end_matches('/')
                        .to_string();
                    let names = ["pyproject.toml", "uv.lock", "uv.toml"];
                    let find = |f: &str| {
                        names
                            .iter()
                            .position(|n| *n == f)
                            .and_then(|k| files.get(k).cloned().flatten())
                    };
                    let problems = super::uv::virtual_problems(ctx, &rel, &find);
                    (!problems.is_empty()).then(|| format!("{project}: {}", problems.join("; ")))
                }
            },
        };
        let Some(reason) = reason else {
            continue;
        };
        let e = &effects[i];
        let mut o = opaque_effects(&reason);
        o.cost = e.cost;
        o.keep = e.keep;
        o.per_build = e.per_build.clone();
        effects[i] = o;
    }
}

/// The context paths of the `pyproject.toml`, `uv.lock` and `uv.toml`
/// that unit `i` finds in the image directory `dir`: for each, the last
/// unit before `i` that may write it must be a copy from the context, of
/// the whole context ([`context_copies`]) or naming a source of that file
/// name, and `None` stands for a file nothing wrote. `pyproject.toml`
/// must have been written; anything else is an error.
fn uv_sources(
    parse: &Parse,
    stage: &Stage,
    dests: &[(usize, String)],
    i: usize,
    dir: &str,
    effects: &[Effects],
) -> Result<Vec<Option<String>>, String> {
    let base = dir.trim_end_matches('/');
    let mut out = Vec::new();
    for name in ["pyproject.toml", "uv.lock", "uv.toml"] {
        let img = format!("{base}/{name}");
        let writer = (0..i).rev().find(|&j| {
            effects[j].opaque.is_some()
                || effects[j]
                    .writes
                    .iter()
                    .any(|w| matches!(w, Loc::Path(p) if paths_overlap(p, &img)))
        });
        let Some(j) = writer else {
            if name == "pyproject.toml" {
                return Err(format!("no copy before it puts `{img}` there"));
            }
            out.push(None);
            continue;
        };
        if let Some((_, dest)) = dests.iter().find(|(k, _)| *k == j) {
            let rel = rel_under(dest, dir).ok_or_else(|| format!("`{img}` may be rewritten"))?;
            out.push(Some(if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            }));
            continue;
        }
        let ins = stage
            .units
            .get(j)
            .and_then(|u| parse.items.get(u.item))
            .and_then(|it| it.instruction());
        let sources: Vec<&str> = match ins {
            Some(ins)
                if ins.node.kind == Kind::Copy
                    && ins.heredocs.is_empty()
                    && effects[j].opaque.is_none()
                    && !ins.node.flags.iter().any(|f| f.starts_with("--from")) =>
            {
                let args: Vec<&str> = ins.node.str_args().collect();
                args[..args.len().saturating_sub(1)]
                    .iter()
                    .copied()
                    .filter(|a| a.rsplit('/').next() == Some(name))
                    .collect()
            }
            _ => Vec::new(),
        };
        match sources.as_slice() {
            [src] if !src.contains(['$', '*', '?', '[']) => {
                let rel = resolve("/", src);
                out.push(Some(rel.trim_start_matches('/').to_string()));
            }
            _ => return Err(format!("`{img}` may be rewritten before it")),
        }
    }
    Ok(out)
}

/// The context directory an image directory holds under a copy of the
/// whole context to `dest`.
fn rel_under(dest: &str, dir: &str) -> Option<String> {
    if dir == dest {
        Some(String::new())
    } else {
        dir.strip_prefix(&format!("{}/", dest.trim_end_matches('/')))
            .map(str::to_string)
    }
}

/// `path` (absolute, normalised) relative to the directory `dir`.
fn relative_to(dir: &str, path: &str) -> String {
    let d: Vec<&str> = dir.split('/').filter(|c| !c.is_empty()).collect();
    let p: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let common = d.iter().zip(&p).take_while(|(a, b)| a == b).count();
    let mut out: Vec<&str> = vec![".."; d.len() - common];
    out.extend(&p[common..]);
    if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    }
}

/// A `dotnet restore` (unit `i`) run below the destination of the last copy
/// of the whole context, or of one of its directories, before it: the projects it restores are followed in
/// the context ([`super::dotnet::restore_inputs`]) and, when nothing in them
/// is beyond the model and nothing between the copy and the restore writes
/// what they name, its reads and writes of the whole directory become
/// exactly those files (at their image paths), the MSBuild and NuGet names
/// in every directory up to `/`, the working directory's project files, and
/// each project's `obj/` (and lock file, unless `--locked-mode`). Otherwise
/// it keeps reading and writing the whole directory.
fn dotnet_reads(
    dests: &[(usize, String, String)],
    i: usize,
    ctx: &Context,
    effects: &mut [Effects],
) {
    let Some((chk, dir)) = effects[i]
        .checks
        .iter()
        .find(|(c, _)| matches!(c, ManifestCheck::Dotnet { .. }))
        .cloned()
    else {
        return;
    };
    // One restore per RUN is followed; a second one keeps the whole tree.
    if effects[i]
        .checks
        .iter()
        .filter(|(c, _)| matches!(c, ManifestCheck::Dotnet { .. }))
        .count()
        > 1
    {
        return;
    }
    let ManifestCheck::Dotnet {
        projects,
        properties,
        locked,
    } = &chk
    else {
        return;
    };
    let Some((k, dest, root, rel)) = dests
        .iter()
        .filter(|(k, _, _)| *k < i)
        .rev()
        .find_map(|(k, d, root)| rel_under(d, &dir).map(|r| (*k, d.clone(), root.clone(), r)))
    else {
        return;
    };
    // A copy of a context directory puts its contents at the destination:
    // the restore there sees that directory's files only, so everything it
    // reads in the context must lie in it (a project reference or an
    // MSBuild or NuGet file above it keeps the whole directory), and a
    // context path `root/x` is `dest/x` in the image.
    let prefix = format!("{root}/");
    let shipped_dir = root.is_empty()
        || ctx.files().is_some_and(|all| {
            all.keys().any(|f| f.starts_with(&prefix)) && !all.contains_key(&root)
        });
    if !shipped_dir {
        return;
    }
    let in_root = |p: &str| -> Option<String> {
        if root.is_empty() {
            Some(p.to_string())
        } else if p == root {
            Some(String::new())
        } else {
            p.strip_prefix(&prefix).map(str::to_string)
        }
    };
    let ctx_dir = if root.is_empty() {
        rel.clone()
    } else if rel.is_empty() {
        root.clone()
    } else {
        format!("{root}/{rel}")
    };
    let inputs = super::dotnet::restore_inputs(ctx, &ctx_dir, projects, *properties);
    if !inputs.problems.is_empty() {
        return;
    }
    let (Some(files), Some(project_dirs)) = (
        inputs
            .files
            .iter()
            .map(|f| in_root(f))
            .collect::<Option<Vec<String>>>(),
        inputs
            .project_dirs
            .iter()
            .map(|d| in_root(d))
            .collect::<Option<Vec<String>>>(),
    ) else {
        return;
    };
    // Directories above the copied one hold nothing of the context here
    // (any file found there is among `files`, refused above): the image's
    // own directories above the destination are read below.
    let lookup_dirs: Vec<String> = inputs
        .lookup_dirs
        .iter()
        .filter_map(|d| in_root(d))
        .collect();
    let mut reads: Vec<String> = files.iter().map(|f| resolve(&dest, f)).collect();
    let mut writes: Vec<String> = Vec::new();
    for d in &project_dirs {
        let img = resolve(&dest, d);
        reads.push(format!("{img}/obj/**"));
        writes.push(format!("{img}/obj/**"));
        if !locked {
            writes.push(format!("{img}/packages.lock.json"));
        }
    }
    let mut lookup: Vec<String> = lookup_dirs.iter().map(|d| resolve(&dest, d)).collect();
    let mut up = Some(dest.clone());
    while let Some(u) = up {
        up = (u != "/").then(|| resolve(&u, ".."));
        lookup.push(u);
    }
    for d in &lookup {
        for name in super::dotnet::LOOKUP_NAMES {
            reads.push(resolve(d, name));
        }
        reads.push(resolve(d, "[Nn][Uu][Gg][Ee][Tt].[Cc][Oo][Nn][Ff][Ii][Gg]"));
    }
    if projects.is_empty() {
        for ext in [
            "*.sln", "*.slnx", "*.slnf", "*.csproj", "*.fsproj", "*.vbproj", "*.proj",
        ] {
            reads.push(resolve(&dir, ext));
        }
    }
    // What sits at those paths must be what the copy shipped.
    let precise = Effects {
        reads: reads.iter().cloned().map(Loc::Path).collect(),
        ..Effects::default()
    };
    if (k + 1..i).any(|j| {
        let w = Effects {
            writes: effects[j].writes.clone(),
            ..Effects::default()
        };
        conflict(&w, &precise).is_some()
    }) {
        return;
    }
    let whole = resolve(&dir, "./**");
    let whole_obj = resolve(&dir, "./**/obj/**");
    let e = &mut effects[i];
    e.reads.retain(|r| *r != Loc::Path(whole.clone()));
    e.writes.retain(|w| *w != Loc::Path(whole_obj.clone()));
    for r in reads {
        e.reads.push(Loc::Path(r));
    }
    // In context order (the solution's directory first), the project
    // arguments among them.
    let files: Vec<String> = files.iter().map(|f| resolve(&dest, f)).collect();
    e.manifests.retain(|m| !files.contains(m));
    e.manifests.extend(files);
    for w in writes {
        e.writes.push(Loc::Path(w));
    }
}

fn unquote(v: &str) -> String {
    let t = v.trim();
    if t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')))
    {
        t[1..t.len() - 1].to_string()
    } else {
        t.to_string()
    }
}

/// The value of a variable set to something not known here (a build
/// argument without a default, an `ENV` naming a variable of the base
/// image): [`expand`] of a word naming it is `None`, and as a path it is
/// no absolute path and holds a `$`, as an unexpanded value does.
pub(crate) const UNKNOWN_VALUE: &str = "$?";

/// [`UNKNOWN_VALUE`] of a build argument declared without a default (and
/// none given globally): the build's, empty unless `--build-arg` sets it.
/// Read as [`UNKNOWN_VALUE`] everywhere but by [`relocated_paths`].
pub(crate) const UNKNOWN_ARG_VALUE: &str = "$?arg";

/// A word of a `WORKDIR`, `VOLUME` or a `COPY`/`ADD` destination as
/// BuildKit's shell lexer reads it (`ProcessWord`): quotes are removed
/// (`WORKDIR "/app"` is `/app`), `$X`/`${X}` expand outside single quotes.
/// `None` when a variable is not known, a quote is not closed, or the word
/// has an escape character (`\` or a `# escape=` backtick, which this
/// does not model: `/my\app` is `/myapp` to BuildKit).
pub fn expand_word(text: &str, env: &BTreeMap<String, String>) -> Option<String> {
    if !text.contains(['"', '\'', '\\', '`']) {
        return expand(text, env);
    }
    if text.contains(['\\', '`']) {
        return None;
    }
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let k = rest.find(['"', '\'']).unwrap_or(rest.len());
        out.push_str(&expand(&rest[..k], env)?);
        rest = &rest[k..];
        let Some(q) = rest.chars().next() else { break };
        let end = rest[1..].find(q)? + 1;
        let inner = &rest[1..end];
        if q == '"' {
            out.push_str(&expand(inner, env)?);
        } else {
            out.push_str(inner);
        }
        rest = &rest[end + 1..];
    }
    Some(out)
}

/// Expands `$X`/`${X}` from literal values; `None` when a variable is not
/// known or a form is not understood.
pub fn expand(text: &str, env: &BTreeMap<String, String>) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_string());
    }
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let braced = chars.get(i + 1) == Some(&'{');
        let mut j = i + 1 + usize::from(braced);
        let start = j;
        while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
            j += 1;
        }
        if j == start {
            return None;
        }
        if braced {
            if chars.get(j) != Some(&'}') {
                return None;
            }
            j += 1;
        }
        let name: String = chars[start..j - usize::from(braced)].iter().collect();
        let value = env.get(&name)?;
        if value.starts_with(UNKNOWN_VALUE) {
            return None;
        }
        out.push_str(value);
        i = j;
    }
    Some(out)
}

/// The symbolic links a `RUN` makes with `ln -s` (also `-sf`, `-t DIR`,
/// several sources into a directory), each as the link's path and its
/// target's (resolved against the link's directory), `None` when the
/// target is not known. `ln -s T L` may also make `L/T's name` when `L`
/// is a directory, so both count; a link whose own path is not known is
/// `/`, which stands for any path.
fn symlinks_made(ins: &Instruction, wd: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    if ins.node.kind == Kind::Add {
        return add_archive_links(ins, wd);
    }
    if ins.node.kind != Kind::Run {
        return out;
    }
    // A link the text may make where its commands cannot be read (exec
    // form, shell the splitter does not follow, another heredoc, `cp -s`)
    // is one at any path to a target not known.
    let anywhere = vec![("/".to_string(), None)];
    if ins.node.json {
        return if may_make_links(ins) { anywhere } else { out };
    }
    let plain = |p: &str| !p.is_empty() && !p.contains(['$', '*', '?', '[', '{', '~', '`', '\\']);
    let base = |p: &str| {
        p.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string()
    };
    let Some(cmds) = ins.run_script().and_then(|t| match shell::split(&t) {
        Split::Commands(cmds) => Some(cmds),
        Split::Opaque(_) => None,
    }) else {
        return if may_make_links(ins) { anywhere } else { out };
    };
    for c in &cmds {
        let tool = c.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a));
        // `cp -s`, a program that runs `ln` (`busybox ln`, `find -exec
        // ln`, `sudo ln`) or names a `symlink` call (`python -c`).
        let runs_ln =
            c.argv.iter().skip(1).any(|a| {
                a == "ln" || a.ends_with("/ln") || a.to_ascii_lowercase().contains("symlink")
            });
        let cp_s = tool == Some("cp")
            && c.argv[1..].iter().any(|a| {
                a == "--symbolic-link"
                    || (a.starts_with('-') && !a.starts_with("--") && a.contains('s'))
            });
        if runs_ln || cp_s {
            return anywhere;
        }
        if tool != Some("ln") {
            continue;
        }
        let dir =
            c.cd.as_deref()
                .map_or_else(|| wd.to_string(), |d| resolve(wd, d));
        let (mut symbolic, mut tdir, mut pos) = (false, None::<String>, Vec::new());
        let mut no_target_dir = false;
        let mut args = c.argv[1..].iter();
        let mut only_pos = false;
        while let Some(a) = args.next() {
            if only_pos || a == "-" || !a.starts_with('-') {
                pos.push(a.clone());
            } else if a == "--" {
                only_pos = true;
            } else if let Some(long) = a.strip_prefix("--") {
                if long == "symbolic" {
                    symbolic = true;
                } else if long == "no-target-directory" {
                    no_target_dir = true;
                } else if let Some(d) = long.strip_prefix("target-directory=") {
                    tdir = Some(d.to_string());
                } else if long == "target-directory" {
                    tdir = args.next().cloned();
                } else if long == "suffix" {
                    args.next();
                }
            } else {
                let cluster = &a[1..];
                for (k, ch) in cluster.char_indices() {
                    match ch {
                        's' => symbolic = true,
                        'T' => no_target_dir = true,
                        't' | 'S' => {
                            let v = &cluster[k + 1..];
                            let v = if v.is_empty() {
                                args.next().cloned().unwrap_or_default()
                            } else {
                                v.to_string()
                            };
                            if ch == 't' {
                                tdir = Some(v);
                            }
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }
        if !symbolic {
            continue;
        }
        let mut made = |link: String, target: &str| {
            if !plain(&link) {
                out.push(("/".to_string(), None));
                return;
            }
            let at = resolve(&dir, &link);
            let parent = at
                .rsplit_once('/')
                .map_or("/", |(p, _)| if p.is_empty() { "/" } else { p });
            let to = plain(target).then(|| resolve(parent, target));
            out.push((at, to));
        };
        match (tdir, pos.as_slice()) {
            (Some(d), srcs) => {
                for s in srcs {
                    made(format!("{}/{}", d.trim_end_matches('/'), base(s)), s);
                }
            }
            (None, [t]) => made(base(t), t),
            (None, [t, l]) => {
                made(l.clone(), t);
                if !no_target_dir {
                    // Into `l` when it is a directory; a name not
                    // known there is any path below `l`.
                    let name = base(t);
                    if plain(&name) {
                        made(format!("{}/{}", l.trim_end_matches('/'), name), t);
                    } else if plain(l) {
                        out.push((resolve(&dir, l), None));
                    } else {
                        out.push(("/".to_string(), None));
                    }
                }
            }
            (None, []) => {}
            (None, [srcs @ .., d]) => {
                for s in srcs {
                    made(format!("{}/{}", d.trim_end_matches('/'), base(s)), s);
                }
            }
        }
    }
    out
}

/// The links an `ADD` of a local archive (named as one) may unpack: any
/// entry of it may be a symbolic link to anywhere, so a link below the
/// destination whose target is not known (at `/` when the destination
/// cannot be read). Measured: `ADD links.tar /` with an entry `app ->
/// /srv` before `COPY . /srv` and `RUN cat /app/config` made the rewrite
/// that moved the copy below the `RUN` fail to build.
fn add_archive_links(ins: &Instruction, wd: &str) -> Vec<(String, Option<String>)> {
    let args: Vec<&str> = ins.node.str_args().collect();
    let Some((dest, srcs)) = args.split_last() else {
        return Vec::new();
    };
    let local_archive = srcs
        .iter()
        .any(|s| !s.contains("://") && !s.starts_with("git@") && is_archive(s));
    if !local_archive || !ins.heredocs.is_empty() {
        return Vec::new();
    }
    let at = if dest.contains(['$', '*', '?', '[', '~']) {
        "/".to_string()
    } else {
        resolve(wd, dest)
    };
    vec![(at, None)]
}

/// Whether the text of a `RUN` (its line and its heredocs) may make a
/// symbolic link: it names `ln`, a `symlink` call or `cp` with `-s`, or a
/// program that puts links an archive or a tree holds (`tar`, `unzip`,
/// `cpio`, `git`; `mv`, `cp`, `rsync` of a link).
fn may_make_links(ins: &Instruction) -> bool {
    let texts = ins
        .node
        .str_args()
        .chain(ins.heredocs.iter().map(|h| h.content.as_str()));
    texts.into_iter().any(|t| {
        let words: Vec<&str> = t
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .collect();
        words.contains(&"ln")
            || LINK_COPIERS.iter().any(|w| words.contains(w))
            || t.to_ascii_lowercase().contains("symlink")
            || (words.contains(&"cp")
                && words.iter().any(|w| {
                    *w == "--symbolic-link"
                        || (w.starts_with('-') && !w.starts_with("--") && w.contains('s'))
                }))
    })
}

/// Programs that may put a symbolic link they do not make with `ln`:
/// archive extractors (an archive may hold links, `tar -xf l.tar -C /`
/// with `app -> /srv`), a clone, and moves and copies of a link (GNU `cp`
/// keeps links with `-a`, `-d`, `-P` and `-R`).
const LINK_COPIERS: &[&str] = &["tar", "bsdtar", "unzip", "cpio", "git", "mv", "cp", "rsync"];

/// Adds to what an instruction reads and writes the same paths taken
/// through the symbolic links made before it ([`symlinks_made`]): a path
/// below a link is also one below its target (any path when the target
/// is not known), links of links followed too. The link's own path is
/// its target's when the target is known and the link is one of the
/// first `earlier` (made by an earlier instruction, not by this one); a
/// link of its own to a target not known is not followed (the `ln`
/// writes below its link path itself: `ln -snf /usr/share/zoneinfo/$TZ
/// /etc/localtime` would write everything).
fn through_links(e: &mut Effects, links: &[(String, Option<String>)], earlier: usize) {
    if links.is_empty() {
        return;
    }
    for _ in 0..=links.len() {
        let mut added = false;
        for write in [false, true] {
            let list = if write { &e.writes } else { &e.reads };
            let mut new = Vec::new();
            for loc in list {
                let Loc::Path(p) = loc else {
                    continue;
                };
                for (k, (link, target)) in links.iter().enumerate() {
                    if k >= earlier && target.is_none() {
                        // Its own link to a place not known: what it writes
                        // below the link is the link's own `L/**`.
                        continue;
                    }
                    let rest = if link == "/" {
                        Some("")
                    } else if p == link {
                        (k < earlier && target.is_some()).then_some("")
                    } else {
                        p.strip_prefix(link.as_str()).filter(|r| r.starts_with('/'))
                    };
                    let Some(rest) = rest else {
                        continue;
                    };
                    let mapped = match target {
                        Some(t) if link != "/" => {
                            format!("{}{rest}", t.trim_end_matches('/'))
                        }
                        _ => "/**".to_string(),
                    };
                    let mapped = if mapped.is_empty() {
                        "/".to_string()
                    } else {
                        mapped
                    };
                    let loc = Loc::Path(mapped);
                    if !list.contains(&loc) && !new.contains(&loc) {
                        new.push(loc);
                    }
                }
            }
            if !new.is_empty() {
                added = true;
                if write {
                    e.writes.extend(new);
                } else {
                    e.reads.extend(new);
                }
            }
        }
        if !added {
            break;
        }
    }
}

fn opaque_effects(reason: &str) -> Effects {
    Effects {
        reads: vec![
            Loc::Path("/**".into()),
            Loc::AllVars,
            Loc::Workdir,
            Loc::User,
            Loc::Shell,
        ],
        writes: vec![Loc::Path("/**".into())],
        opaque: Some(reason.to_string()),
        cost_class: Some(CostClass::Build),
        ..Effects::default()
    }
}

fn add_vars(e: &mut Effects, text: &str) {
    for v in vars_used(text) {
        let l = Loc::Var(v);
        if !e.reads.contains(&l) {
            e.reads.push(l);
        }
    }
}

/// Effects of one instruction, given the working directory, variables and
/// the homes earlier instructions gave users ([`created_homes`]) before it.
pub fn instruction_effects(
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    created: &[String],
    knowledge: &kb::Knowledge,
) -> Effects {
    let kb = &knowledge.commands;
    let node = &ins.node;
    let mut e = Effects::default();
    let args: Vec<&str> = node.str_args().collect();
    let flag_text = node.flags.join(" ");
    match node.kind {
        Kind::Arg => {
            for a in &args {
                let (k, v) = a.split_once('=').unwrap_or((a, ""));
                e.writes.push(Loc::Var(k.to_string()));
                add_vars(&mut e, v);
            }
        }
        Kind::Env => {
            for t in args.chunks(3) {
                if let [k, v, _] = t {
                    e.writes.push(Loc::Var(k.to_string()));
                    add_vars(&mut e, v);
                }
            }
        }
        Kind::Workdir => {
            let p = args.first().copied().unwrap_or("");
            add_vars(&mut e, p);
            e.reads.push(Loc::Workdir);
            e.reads.push(Loc::User);
            match expand_word(p, env) {
                Some(p) => {
                    // `WORKDIR .` (or the same path again) leaves a known
                    // working directory as it is.
                    let target = resolve(wd, &p);
                    if target != wd || wd.contains('?') {
                        e.writes.push(Loc::Workdir);
                    }
                    // BuildKit's WORKDIR is a mkdir -p owned by the active
                    // USER (dispatchWorkdir: `llb.Mkdir(..., WithUser)`).
                    for d in created_dirs(&target) {
                        e.writes.push(Loc::Dir {
                            path: d,
                            owner: "?user".into(),
                        });
                    }
                }
                None => {
                    e.writes.push(Loc::Workdir);
                    e.writes.push(Loc::Path("/**".into()));
                }
            }
        }
        Kind::User => {
            add_vars(&mut e, args.first().copied().unwrap_or(""));
            e.writes.push(Loc::User);
        }
        Kind::Shell => e.writes.push(Loc::Shell),
        Kind::Label => {
            for t in args.chunks(3) {
                if let [k, v, _] = t {
                    add_vars(&mut e, k);
                    add_vars(&mut e, v);
                    e.writes.push(Loc::Config(format!("label {}", unquote(k))));
                }
            }
        }
        Kind::Expose | Kind::Stopsignal | Kind::Maintainer => {
            for a in &args {
                add_vars(&mut e, a);
            }
            e.writes
                .push(Loc::Config(node.kind.as_str().to_ascii_lowercase()));
        }
        Kind::Cmd | Kind::Entrypoint | Kind::Healthcheck => {
            if !node.json {
                e.reads.push(Loc::Shell);
            }
            e.writes
                .push(Loc::Config(node.kind.as_str().to_ascii_lowercase()));
            if node.kind == Kind::Entrypoint {
                // ENTRYPOINT resets an inherited CMD.
                e.writes.push(Loc::Config("cmd".into()));
            }
        }
        Kind::Volume => {
            e.writes.push(Loc::Config("volume".into()));
            for a in &args {
                add_vars(&mut e, a);
                match expand_word(a, env) {
                    Some(p) => e.writes.push(Loc::Path(format!(
                        "{}/**",
                        resolve(wd, &p).trim_end_matches("/**")
                    ))),
                    None => e.writes.push(Loc::Path("/**".into())),
                }
            }
        }
        Kind::Onbuild => e.writes.push(Loc::Config("onbuild".into())),
        Kind::Copy | Kind::Add => copy_effects(ins, wd, env, &mut e),
        Kind::Run => {
            run_effects(ins, wd, env, created, kb, &mut e);
            // A home `useradd -m -d /app`, `adduser --home /app` or
            // `usermod -m -d /app` gives: made (with the user's owner and
            // the skeleton files) only when missing, so whoever makes it
            // first decides them. The knowledge base's writes name
            // `/home/**` only.
            if e.opaque.is_none() {
                for d in climbed_dirs(ins, wd) {
                    let tree = format!("{}/**", d.trim_end_matches('/'));
                    for r in [Loc::Path(tree), Loc::Path(d)] {
                        if !e.reads.contains(&r) {
                            e.reads.push(r);
                        }
                    }
                }
                for h in created_homes(ins, env) {
                    let h = h.trim_end_matches('/');
                    let tree = if h.is_empty() {
                        "/**".to_string()
                    } else {
                        format!("{h}/**")
                    };
                    for w in [h.to_string(), tree] {
                        if !w.is_empty() && !e.writes.contains(&Loc::Path(w.clone())) {
                            e.writes.push(Loc::Path(w));
                        }
                    }
                }
            }
        }
        Kind::From | Kind::Unknown => {
            let mut o = opaque_effects(&format!(
                "`{}` is not an instruction that can move",
                node.keyword
            ));
            o.cost = knowledge.weights.of(CostClass::Build);
            return o;
        }
    }
    add_vars(&mut e, &flag_text);
    e.cost = e.cost_class.map_or(0.0, |c| knowledge.weights.of(c));
    if node.kind == Kind::Run && !node.json {
        let opaque = e.opaque.is_some();
        let cmd = args.first().copied().unwrap_or("");
        e.cost = e.cost.max(compound_cost(cmd, opaque, env, knowledge));
    }
    e
}

/// The rebuild cost of a `RUN` by its top-level `&&` pieces: every install
/// and build it holds costs its weight (`pip install -r r.txt && pip
/// install -e .` two installs, as the two `RUN`s it may be split into do).
/// One the analysis does not follow (`opaque`) costs a build for the pieces
/// the knowledge base does not know, plus the weight of each piece it
/// knows. An estimate only: it decides no order, only what a move saves.
fn compound_cost(
    cmd: &str,
    opaque: bool,
    env: &BTreeMap<String, String>,
    knowledge: &kb::Knowledge,
) -> f64 {
    let w = &knowledge.weights;
    let Some(ops) = shell::top_level_ops(cmd) else {
        return if opaque { w.of(CostClass::Build) } else { 0.0 };
    };
    let mut bounds: Vec<usize> = ops
        .iter()
        .filter(|(op, _)| *op == shell::Op::And)
        .map(|(_, at)| *at)
        .collect();
    bounds.push(cmd.len());
    let mut start = 0;
    let mut known = 0.0;
    for end in bounds {
        let piece = cmd.get(start..end).unwrap_or("");
        if let Split::Commands(cs) = shell::split(piece)
            && let [c] = cs.as_slice()
        {
            let f = kb::interpret(c, &knowledge.commands, env);
            let class = f.cost.unwrap_or(CostClass::Cheap);
            if f.unknown.is_none() && (opaque || class >= CostClass::Build) {
                known += w.of(class);
            }
        }
        start = end + 2;
    }
    if opaque {
        w.of(CostClass::Build) + known
    } else {
        known
    }
}

fn copy_effects(ins: &Instruction, wd: &str, env: &BTreeMap<String, String>, e: &mut Effects) {
    let node = &ins.node;
    let args: Vec<&str> = node.str_args().collect();
    e.cost_class = Some(CostClass::Cheap);
    let Some((dest, sources)) = args.split_last() else {
        *e = opaque_effects("COPY without a destination");
        return;
    };
    for a in &args {
        add_vars(e, a);
    }
    let from = node.flags.iter().find_map(|f| f.strip_prefix("--from="));
    for f in &node.flags {
        if let Some(owner) = f.strip_prefix("--chown=") {
            // User and group names are looked up in the image.
            if !owner
                .split(':')
                .all(|p| p.chars().all(|c| c.is_ascii_digit()))
            {
                e.reads.push(Loc::Path("/etc/passwd".into()));
                e.reads.push(Loc::Path("/etc/group".into()));
            }
        }
    }
    if from.is_none() {
        let heredoc_names: Vec<&str> = ins.heredocs.iter().map(|h| h.name.as_str()).collect();
        for s in sources {
            let is_heredoc = s.starts_with("<<") && heredoc_names.iter().any(|n| s.ends_with(n));
            if !is_heredoc {
                e.context_reads.push((*s).to_string());
            }
        }
    }
    // BuildKit expands variables in the body of a COPY/ADD heredoc whose
    // delimiter is not quoted (dispatchCopy: `expandHeredoc`).
    for h in &ins.heredocs {
        if h.expand {
            add_vars(e, &h.content);
        }
    }
    if !dest.starts_with('/') {
        e.reads.push(Loc::Workdir);
    }
    match expand_word(dest, env) {
        Some(d) => {
            let abs = resolve(wd, &d);
            e.writes
                .push(Loc::Path(format!("{}/**", abs.trim_end_matches("/**"))));
            // Missing parents are created as root, or as `--chown` says.
            let owner = copy_owner(node);
            for dir in created_dirs(&abs) {
                e.writes.push(Loc::Dir {
                    path: dir,
                    owner: owner.clone(),
                });
            }
        }
        None => e.writes.push(Loc::Path("/**".into())),
    }
    if node.kind == Kind::Add
        && sources
            .iter()
            .any(|s| s.contains("://") || s.starts_with("git@"))
    {
        e.cost_class = Some(CostClass::Run);
    }
}

/// With the context known: a `COPY` of plain files into a directory writes
/// just `dir/<name>` for each (and the directory itself when it may not
/// exist yet), instead of the whole destination tree.
fn refine_copy_writes(
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    ctx: Option<&Context>,
    e: &mut Effects,
) {
    let Some(ctx) = ctx else { return };
    let node = &ins.node;
    if node.flags.iter().any(|f| {
        f.starts_with("--from=") || f.starts_with("--parents") || f.starts_with("--exclude")
    }) || !ins.heredocs.is_empty()
    {
        return;
    }
    let args: Vec<&str> = node.str_args().collect();
    let Some((dest, sources)) = args.split_last() else {
        return;
    };
    if !dest.ends_with('/') && sources.len() < 2 && *dest != "." {
        return;
    }
    let Some(dest) = expand_word(dest, env) else {
        return;
    };
    if node.kind == Kind::Add && sources.iter().any(|s| add_may_unpack(s, ctx)) {
        return;
    }
    let dir = resolve(wd, &dest);
    let mut writes = Vec::new();
    for s in sources {
        // (Not for `ADD`, which unpacks a matched archive, whatever its
        // name, into the destination.)
        if node.kind == Kind::Copy
            && s.contains(['*', '?'])
            && !s.contains(['[', '$', '\\', '"', '\'', '`'])
        {
            // A glob matching plain files only (`COPY *.py ./`): each
            // lands in the directory under its own name.
            let Some(names) = glob_plain_files(s, ctx) else {
                return;
            };
            for f in names {
                let name = f.rsplit('/').next().unwrap_or(&f);
                writes.push(Loc::Path(resolve(&dir, name)));
            }
            continue;
        }
        if s.contains(['*', '?', '[', '$', '\\', '"', '\'', '`']) || !ctx.ships(s) {
            return;
        }
        let name = s.trim_end_matches('/').rsplit('/').next().unwrap_or(s);
        writes.push(Loc::Path(resolve(&dir, name)));
    }
    // The directories it may create stay in `writes` (`Loc::Dir`).
    let _ = wd;
    e.writes.retain(|w| !matches!(w, Loc::Path(_)));
    e.writes.extend(writes);
}

/// The exact files a `COPY`/`ADD` of context files and directories writes
/// (each shipped file below a source, at its place under the
/// destination), or `None` when that cannot be listed (no context, a
/// glob, a variable, `--from`, a URL or archive, a heredoc). Planning
/// keeps the cheaper `dest/**`; the rewrite's dependency check uses this.
pub fn exact_copy_writes(
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    ctx: &Context,
) -> Option<Vec<Loc>> {
    let node = &ins.node;
    if !matches!(node.kind, Kind::Copy | Kind::Add)
        || !ins.heredocs.is_empty()
        || node.flags.iter().any(|f| {
            f.starts_with("--from=") || f.starts_with("--parents") || f.starts_with("--exclude")
        })
    {
        return None;
    }
    let files = ctx.files()?;
    let args: Vec<&str> = node.str_args().collect();
    let (dest, sources) = args.split_last()?;
    let dest_abs = resolve(wd, &expand_word(dest, env)?);
    let mut out = Vec::new();
    // A glob: what it matches, as BuildKit copies it.
    if node.kind == Kind::Copy && sources.iter().any(|s| s.contains(['*', '?'])) {
        let placed = source_placements(ins, &dest_abs, ctx)?;
        out.extend(placed.files.into_iter().map(|(p, _)| Loc::Path(p)));
        out.extend(placed.whole.into_iter().map(|(p, _)| Loc::Path(p)));
        for w in created_dirs(&dest_abs) {
            out.push(Loc::Dir {
                path: w,
                owner: copy_owner(node),
            });
        }
        return Some(out);
    }
    for s in sources {
        if s.contains(['*', '?', '[', '$', '\\', '"', '\'', '`'])
            || (node.kind == Kind::Add && add_may_unpack(s, ctx))
            || s.contains("://")
        {
            return None;
        }
        let src = s.trim_start_matches("./").trim_end_matches('/');
        let src = if src == "." { "" } else { src };
        if files.contains_key(src) {
            // A file: into the directory (`dest/`, or several sources),
            // else to that name; a link, every path below it too.
            let name = src.rsplit('/').next().unwrap_or(src);
            let at = if dest.ends_with('/') || sources.len() > 1 || *dest == "." {
                resolve(&dest_abs, name)
            } else {
                dest_abs.clone()
            };
            if ctx.whole().contains(src) {
                out.push(Loc::Path(format!("{}/**", at.trim_end_matches('/'))));
            }
            out.push(Loc::Path(at));
            continue;
        }
        // A directory: its contents go into the destination.
        let prefix = if src.is_empty() {
            String::new()
        } else {
            format!("{src}/")
        };
        for f in files.keys() {
            if let Some(rel) = f.strip_prefix(&prefix) {
                out.push(Loc::Path(resolve(&dest_abs, rel)));
            }
        }
        // A shipped link or empty directory: every path below it.
        for f in ctx.whole() {
            if let Some(rel) = f.strip_prefix(&prefix) {
                out.push(Loc::Path(resolve(&dest_abs, &format!("{rel}/**"))));
            }
        }
    }
    for w in created_dirs(&dest_abs) {
        out.push(Loc::Dir {
            path: w,
            owner: copy_owner(node),
        });
    }
    Some(out)
}

/// A copy source as a context path (`./src/` is `src`, `.` is `""`), when
/// it is one the placements follow: relative, inside the context, with no
/// variable, quote, escape, class or URL (BuildKit's reading of those is
/// not modelled).
fn plain_source(src: &str) -> Option<&str> {
    let s = src.trim_start_matches("./").trim_end_matches('/');
    let s = if s == "." { "" } else { s };
    let odd = s.starts_with('/')
        || s.contains(['$', '\\', '[', ']', '"', '\'', '`'])
        || s.contains("://")
        || (!s.is_empty() && s.split('/').any(|c| c.is_empty() || c == "." || c == ".."));
    (!odd).then_some(s)
}

/// Where a plain `COPY` from the context puts each file: (image path,
/// context path), and its flags ([`normal_copy_flags`]). Every pair is
/// what BuildKit does; files inside a submodule, whose contents are not
/// known, are not listed. `None` unless the copy has only `--chown`,
/// `--chmod` and `--link` flags, no variable in a flag or source (one in
/// the destination is expanded with `env`, the unit's
/// [`StageState::paths_env`], when all are known), no heredoc, a directory
/// destination (`dir/`, `.`, or any path for the one directory copied:
/// `COPY . /app`), and sources (for an `ADD`, directories only) that are shipped files,
/// directories (the whole context too) or `*`/`?` globs matching files
/// only; with several sources, none may hold a submodule (a later source
/// wins where two put a file).
pub fn context_placements(
    ins: &Instruction,
    wd: &str,
    env: Option<&BTreeMap<String, String>>,
    ctx: &Context,
) -> Option<Placements> {
    let node = &ins.node;
    let add = node.kind == Kind::Add;
    if !(node.kind == Kind::Copy || add) || !ins.heredocs.is_empty() {
        return None;
    }
    if !node
        .flags
        .iter()
        .all(|f| owner_mode_link_flag(f) && !f.contains('$'))
    {
        return None;
    }
    let files = ctx.files()?;
    let args: Vec<&str> = node.str_args().collect();
    let (dest, sources) = args.split_last()?;
    // A destination with variables (`$GOPATH/src/app`) as BuildKit
    // expands it ([`StageState::paths_env`]), when all are known.
    let expanded;
    let dest: &str = if dest.contains('$') && !dest.contains(['\\', '"', '\'', '`']) {
        expanded = expand_word(dest, env?)?;
        &expanded
    } else {
        dest
    };
    // A directory source (`.`, `src/`): neither a file nor a pattern.
    let directory = |src: &str| {
        let s = src.trim_start_matches("./").trim_end_matches('/');
        let s = if s == "." { "" } else { s };
        !s.contains(['*', '?']) && !files.contains_key(s)
    };
    // One directory's contents go into the destination, slash or not
    // (`COPY . /app`); otherwise the destination is a directory only when
    // written as one.
    let into_dir = dest.ends_with('/')
        || matches!(dest, "." | "./")
        || (sources.len() == 1 && sources.iter().all(|s| directory(s)));
    // BuildKit removes quotes and escapes: `"/app/"` is `/app/`.
    if dest.contains(['$', '\\', '"', '\'', '`']) || !into_dir {
        return None;
    }
    // `ADD` of a directory is a copy (only an archive file given as the
    // source is unpacked, only a URL fetched).
    if add && !sources.iter().all(|s| directory(s)) {
        return None;
    }
    let dest_abs = resolve(wd, dest);
    let mut out: Vec<(String, String)> = Vec::new();
    for src in sources {
        let s = plain_source(src)?;
        let placed: Vec<(String, String)> = if s.contains(['*', '?']) {
            glob_files(s, files)?
                .into_iter()
                .map(|f| (resolve(&dest_abs, f.rsplit('/').next().unwrap_or(&f)), f))
                .collect()
        } else if files.contains_key(s) {
            let name = s.rsplit('/').next().unwrap_or(s);
            vec![(resolve(&dest_abs, name), s.to_string())]
        } else {
            // A directory: its contents go into the destination.
            let prefix = if s.is_empty() {
                String::new()
            } else {
                format!("{s}/")
            };
            let unknown = ctx
                .unknown_dirs()
                .iter()
                .any(|d| d.starts_with(&prefix) || prefix.starts_with(&format!("{d}/")));
            if unknown && sources.len() > 1 {
                return None;
            }
            files
                .keys()
                .filter_map(|f| Some((resolve(&dest_abs, f.strip_prefix(&prefix)?), f.clone())))
                .collect()
        };
        if placed.is_empty() {
            return None;
        }
        out.retain(|(img, _)| !placed.iter().any(|(p, _)| p == img));
        out.extend(placed);
    }
    Some(Placements {
        files: out,
        flags: normal_copy_flags(&node.flags),
    })
}

/// What a `COPY` of several context sources, or of a glob, places
/// ([`source_placements`]).
#[derive(Debug, Clone, Default)]
pub struct SourcePlacements {
    /// (image path, context path) of every file placed, after a later
    /// source replaced what an earlier one put at the same path.
    pub files: Vec<(String, String)>,
    /// (image pattern `p/**`, context pattern `d/**`) below a shipped
    /// symbolic link or empty directory a directory source holds: every
    /// path below it changes.
    pub whole: Vec<(String, String)>,
    /// The context directories whose contents go into the destination
    /// (`""` for the whole context): a named directory source, or one a
    /// glob matches.
    pub dirs: Vec<String>,
}

/// Where a `COPY` of context sources puts each file, as BuildKit copies
/// them: each source in turn (a later one replaces a file an earlier one
/// put at the same path), a named file to its name in the destination, a
/// directory's contents into the destination, and a `*`/`?` glob (each
/// path component matched as Go's `filepath.Match` does, dotfiles
/// included) each matching file to its name and each matching directory's
/// contents into the destination. `dest_abs` is the destination, which
/// must be written as a directory (`dir/`, `.`, `./`). `None` when that
/// is not certain: an `ADD` of anything but directories (an archive is
/// unpacked), a URL, a variable, quotes, escapes or a `[` class, a path
/// leaving the context, a source that places nothing (missing, excluded by
/// `.dockerignore`, a glob matching nothing), a named symbolic link or a
/// glob that may match one, an empty directory or a submodule (whose
/// contents are not known), two matches of one glob putting a file at the
/// same path (their order decides), or one source putting a file where
/// another makes a directory.
pub fn source_placements(
    ins: &Instruction,
    dest_abs: &str,
    ctx: &Context,
) -> Option<SourcePlacements> {
    let node = &ins.node;
    let add = node.kind == Kind::Add;
    if !(node.kind == Kind::Copy || add) || !ins.heredocs.is_empty() {
        return None;
    }
    let files = ctx.files()?;
    let args: Vec<&str> = node.str_args().collect();
    let (dest, sources) = args.split_last()?;
    if sources.is_empty() || !(dest.ends_with('/') || matches!(*dest, "." | "./")) {
        return None;
    }
    let dest_abs = dest_abs.trim_end_matches('/');
    let dest_abs = if dest_abs.is_empty() { "/" } else { dest_abs };
    let in_unknown = |rel: &str| {
        ctx.unknown_dirs().iter().any(|u| {
            rel.is_empty() || rel == u || rel.starts_with(&format!("{u}/")) || {
                u.starts_with(&format!("{rel}/"))
            }
        })
    };
    let mut out = SourcePlacements::default();
    for src in sources {
        let s = plain_source(src)?;
        let glob = s.contains(['*', '?']);
        // `*/` or `file/`: what BuildKit makes of a slash after a
        // pattern or a file is not modelled.
        if src.ends_with('/') && (glob || files.contains_key(s)) {
            return None;
        }
        // `ADD` copies a directory as `COPY` does; anything else it may
        // unpack or fetch.
        if add && (glob || files.contains_key(s)) {
            return None;
        }
        let mut placed: Vec<(String, String)> = Vec::new();
        let mut whole: Vec<(String, String)> = Vec::new();
        if glob {
            let pat: Vec<&str> = s.split('/').collect();
            let head_matches = |path: &str| {
                let comps: Vec<&str> = path.split('/').collect();
                pat.iter()
                    .zip(&comps)
                    .take(comps.len().min(pat.len()))
                    .all(|(p, c)| glob_match(p.as_bytes(), c.as_bytes()))
            };
            // A link or empty directory it may match, or one inside a
            // directory it matches; a submodule it may reach.
            if ctx.whole().iter().any(|w| head_matches(w))
                || ctx.unknown_dirs().iter().any(|d| head_matches(d))
            {
                return None;
            }
            let mut seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
            for f in files.keys() {
                let comps: Vec<&str> = f.split('/').collect();
                if comps.len() < pat.len() || !head_matches(f) {
                    continue;
                }
                let img = if comps.len() == pat.len() {
                    resolve(dest_abs, comps[comps.len() - 1])
                } else {
                    let dir = comps[..pat.len()].join("/");
                    if !out.dirs.contains(&dir) {
                        out.dirs.push(dir);
                    }
                    resolve(dest_abs, &comps[pat.len()..].join("/"))
                };
                // Two matches put a file at the same path: which one
                // stays depends on the order BuildKit copies them in.
                if !seen.insert(img.clone()) {
                    return None;
                }
                placed.push((img, f.clone()));
            }
        } else if files.contains_key(s) {
            if ctx.whole().contains(s) || in_unknown(s) {
                return None;
            }
            let name = s.rsplit('/').next().unwrap_or(s);
            placed.push((resolve(dest_abs, name), s.to_string()));
        } else {
            // A directory: its contents go into the destination.
            if in_unknown(s) || ctx.whole().contains(s) {
                return None;
            }
            let prefix = if s.is_empty() {
                String::new()
            } else {
                format!("{s}/")
            };
            for f in files.keys() {
                if let Some(rel) = f.strip_prefix(&prefix) {
                    placed.push((resolve(dest_abs, rel), f.clone()));
                }
            }
            for w in ctx.whole() {
                if let Some(rel) = w.strip_prefix(&prefix) {
                    whole.push((format!("{}/**", resolve(dest_abs, rel)), format!("{w}/**")));
                }
            }
            out.dirs.push(s.to_string());
        }
        if placed.is_empty() {
            return None;
        }
        // A file put where another source (or another match of the same
        // glob) makes a directory, or the other way round, or into what a
        // link or empty directory becomes.
        let base = |p: &String| p.trim_end_matches("/**").to_string();
        let old: std::collections::BTreeSet<String> = out
            .files
            .iter()
            .chain(&out.whole)
            .map(|(p, _)| base(p))
            .collect();
        let new: std::collections::BTreeSet<String> =
            placed.iter().chain(&whole).map(|(p, _)| base(p)).collect();
        let above = |p: &str| -> Vec<String> {
            p.match_indices('/')
                .filter(|(k, _)| *k > 0)
                .map(|(k, _)| p[..k].to_string())
                .collect()
        };
        if new.iter().any(|p| {
            above(p)
                .iter()
                .any(|a| old.contains(a) || (glob && new.contains(a)))
        }) || old.iter().any(|p| above(p).iter().any(|a| new.contains(a)))
            || whole.iter().any(|(p, _)| old.contains(&base(p)))
            || out.whole.iter().any(|(p, _)| new.contains(&base(p)))
        {
            return None;
        }
        out.files
            .retain(|(img, _)| !placed.iter().any(|(p, _)| p == img));
        out.files.extend(placed);
        out.whole.extend(whole);
    }
    Some(out)
}

/// What [`context_placements`] returns.
pub struct Placements {
    /// (image path, context path) of every file copied.
    pub files: Vec<(String, String)>,
    /// The flags, as [`normal_copy_flags`] gives them.
    pub flags: Vec<String>,
}

/// Whether a `COPY` flag only sets the owner or mode of what it copies, or
/// links it (`--chown`, `--chmod`, `--link`): a COPY of the same files
/// with the same such flags puts the same bytes, owner and mode.
pub fn owner_mode_link_flag(f: &str) -> bool {
    f.starts_with("--chown=") || f.starts_with("--chmod=") || f == "--link" || f == "--link=true"
}

/// Owner, mode and link flags ([`owner_mode_link_flag`]) in a form two
/// copies can be compared by: sorted, `--link=true` as `--link`.
pub fn normal_copy_flags(flags: &[String]) -> Vec<String> {
    let mut v: Vec<String> = flags
        .iter()
        .map(|f| {
            if f == "--link=true" {
                "--link".to_string()
            } else {
                f.clone()
            }
        })
        .collect();
    v.sort();
    v
}

/// The shipped files a `*`/`?` glob names (each path component matched as
/// Go's `filepath.Match` does). `None` when it matches a directory (copied
/// whole) or nothing (BuildKit fails).
fn glob_files(pat: &str, files: &BTreeMap<String, u64>) -> Option<Vec<String>> {
    let pat: Vec<&str> = pat.split('/').collect();
    let matches = |comps: &[&str]| {
        comps.len() == pat.len()
            && pat
                .iter()
                .zip(comps)
                .all(|(p, c)| glob_match(p.as_bytes(), c.as_bytes()))
    };
    let mut out = Vec::new();
    for f in files.keys() {
        let comps: Vec<&str> = f.split('/').collect();
        if comps.len() > pat.len() && matches(&comps[..pat.len()]) {
            return None;
        }
        if matches(&comps) {
            out.push(f.clone());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The shipped files a `*`/`?` glob source of a `COPY` names, when each
/// is a plain file: `None` when the pattern is not a clean relative path,
/// matches nothing, a directory (whose contents BuildKit copies into the
/// destination), a symbolic link or empty directory ([`Context::whole`]),
/// or may match inside a directory whose contents are not known.
fn glob_plain_files(src: &str, ctx: &Context) -> Option<Vec<String>> {
    let s = src.trim_start_matches("./");
    if s.starts_with('/')
        || s.ends_with('/')
        || s.split('/').any(|c| c.is_empty() || c == "." || c == "..")
    {
        return None;
    }
    let pat: Vec<&str> = s.split('/').collect();
    // Whether the first components of `path` match the pattern's.
    let prefix_matches = |path: &str| {
        let comps: Vec<&str> = path.split('/').collect();
        let k = comps.len().min(pat.len());
        pat.iter()
            .zip(&comps)
            .take(k)
            .all(|(p, c)| glob_match(p.as_bytes(), c.as_bytes()))
    };
    if ctx.whole().iter().any(|w| prefix_matches(w))
        || ctx.unknown_dirs().iter().any(|d| prefix_matches(d))
    {
        return None;
    }
    glob_files(s, ctx.files()?)
}

/// Whether a unit may write the image path `p` (its content, mode or
/// owner).
/// Whether unit `k` of a stage, whose effects are `e`, may put a file
/// at image path `img`: a copy from the context puts exactly the files
/// it places ([`context_placements`]: `COPY package*.json ./` no
/// `.npmrc`); anything else what it may create ([`creates_path`]: not
/// what it only changes the owner or mode of).
pub fn unit_may_put(
    parse: &Parse,
    stage: &Stage,
    state: &StageState,
    k: usize,
    e: &Effects,
    img: &str,
    ctx: &Context,
) -> bool {
    let placed = stage
        .units
        .get(k)
        .and_then(|u| parse.items.get(u.item))
        .and_then(|i| i.instruction())
        .and_then(|ins| context_placements(ins, &state.workdirs[k], state.placement_env(k), ctx));
    match placed {
        Some(p) => p.files.iter().any(|(i, _)| i == img),
        None => creates_path(e, img),
    }
}

/// Whether `e` may put a file (or anything) at path `p`: [`writes_path`]
/// without its writes that only change owner or mode
/// ([`Effects::metadata_writes`]).
pub fn creates_path(e: &Effects, p: &str) -> bool {
    if e.metadata_writes.is_empty() && e.dir_writes.is_empty() {
        return writes_path(e, p);
    }
    writes_beyond_made_dirs(e, p, |w| !e.metadata_writes.contains(w))
}

/// Whether `e` may write `p` or change its owner or mode: as
/// [`writes_path`], but a directory it only creates (`mkdir -p /home/app`,
/// knowledge-base `dirs_only`) makes nothing strictly below it.
pub fn touches_path(e: &Effects, p: &str) -> bool {
    if e.dir_writes.is_empty() {
        return writes_path(e, p);
    }
    writes_beyond_made_dirs(e, p, |_| true)
}

/// [`writes_path`] of `e`'s writes that `counts` keeps, less the
/// directories it only creates strictly above `p`: a directory it only
/// creates holds nothing of its making below it (the knowledge base writes
/// a path with all below it, `DIR/**`).
fn writes_beyond_made_dirs(e: &Effects, p: &str, counts: impl Fn(&Loc) -> bool) -> bool {
    let strictly_above = |w: &Loc| match w {
        Loc::Path(d) => {
            let d = d.strip_suffix("/**").unwrap_or(d).trim_end_matches('/');
            !d.is_empty()
                && !d.contains(['*', '?', '['])
                && p.strip_prefix(d)
                    .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
        }
        _ => false,
    };
    let mut made = e.clone();
    made.writes
        .retain(|w| counts(w) && !(e.dir_writes.contains(w) && strictly_above(w)));
    writes_path(&made, p)
}

pub fn writes_path(e: &Effects, p: &str) -> bool {
    let reader = Effects {
        reads: vec![Loc::Path(p.to_string())],
        ..Effects::default()
    };
    conflict(e, &reader).is_some()
}

/// The directories a `mkdir -p` of `abs` may create: `abs` and each of its
/// parents except `/` (none of them is known to exist).
fn created_dirs(abs: &str) -> Vec<String> {
    let body = abs.trim_end_matches("/**").trim_end_matches('/');
    let mut out = Vec::new();
    let mut cur = body;
    while !cur.is_empty() && cur != "/" {
        out.push(cur.to_string());
        match cur.rfind('/') {
            Some(0) | None => break,
            Some(k) => cur = &cur[..k],
        }
    }
    out
}

/// Owner and mode a COPY/ADD gives what it creates: `--chown`/`--chmod`,
/// else root.
fn copy_owner(node: &crate::syntax::Node) -> String {
    let chown = node
        .flags
        .iter()
        .find_map(|f| f.strip_prefix("--chown="))
        .unwrap_or("0:0");
    let chmod = node
        .flags
        .iter()
        .find_map(|f| f.strip_prefix("--chmod="))
        .unwrap_or("");
    if chown.contains('$') || chmod.contains('$') {
        return "?variable".into();
    }
    format!("{chown}{chmod}")
}

/// Whether `ADD` of source `s` may fetch or unpack rather than copy: a
/// URL, a name of an archive, or a context file whose content may be one
/// ([`Context::may_unpack`]; BuildKit decides by content). A directory
/// is copied as it is.
fn add_may_unpack(s: &str, ctx: &Context) -> bool {
    if s.contains("://") || s.starts_with("git@") || is_archive(s) {
        return true;
    }
    let src = s.trim_start_matches("./").trim_end_matches('/');
    match ctx.files() {
        Some(files) if files.contains_key(src) => ctx.may_unpack(src),
        // Not a shipped file: a directory (or nothing, which fails).
        Some(_) => false,
        None => true,
    }
}

fn is_archive(s: &str) -> bool {
    [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".gz",
        ".bz2", ".xz",
    ]
    .iter()
    .any(|e| s.ends_with(e))
}

/// Whether `p` (a path or pattern) may be a `yarn` (or `yarnpkg`) in a
/// directory of the default PATH: where corepack's shims are
/// (`/usr/local/bin`), and where another yarn would run instead of them
/// (`/usr/local/sbin` comes before the shims).
fn may_be_a_yarn(p: &str) -> bool {
    let base = pattern_base(p);
    YARN_PATHS
        .iter()
        .any(|y| bases_overlap(base, pattern_base(y)))
}

/// `yarn` and `yarnpkg` in each directory of [`DEFAULT_PATH`] (a test
/// checks that they are): written out, not formatted for every path
/// [`may_be_a_yarn`] is asked about (every path every command writes).
const YARN_PATHS: [&str; 12] = [
    "/usr/local/sbin/yarn",
    "/usr/local/sbin/yarnpkg",
    "/usr/local/bin/yarn",
    "/usr/local/bin/yarnpkg",
    "/usr/sbin/yarn",
    "/usr/sbin/yarnpkg",
    "/usr/bin/yarn",
    "/usr/bin/yarnpkg",
    "/sbin/yarn",
    "/sbin/yarnpkg",
    "/bin/yarn",
    "/bin/yarnpkg",
];

/// Whether a variable may make `yarn` something else than corepack's shim
/// running the `packageManager` release: `PATH` (a directory ahead of the
/// shims may hold another yarn) or a `COREPACK_*` variable
/// (`COREPACK_ENABLE_PROJECT_SPEC=0` runs corepack's default yarn), but
/// `COREPACK_ENABLE_DOWNLOAD_PROMPT`: corepack (0.34.6, the Node.js 20
/// image's) reads it in one place, before a download, only to print the
/// URL on stderr and, when its standard input is a terminal and `CI` is
/// unset, to ask whether to go on; a `RUN`'s standard input is not a
/// terminal, so it changes neither which yarn runs nor what it writes.
fn moves_yarn(var: &str) -> bool {
    var == "PATH" || (var.starts_with("COREPACK_") && var != "COREPACK_ENABLE_DOWNLOAD_PROMPT")
}

/// Whether an environment may make `yarn` other than corepack's shim
/// running the `packageManager` release: a `PATH` the Dockerfile set (a
/// directory ahead of the shims may hold another yarn, such as the
/// Node.js image's `/opt/yarn-v1.22.22/bin`), or any `COREPACK_*`
/// variable (`COREPACK_ENABLE_PROJECT_SPEC=0` runs corepack's default
/// yarn, 1.22.22, whatever `packageManager` says; measured with corepack
/// 0.34.6).
fn corepack_env_unsure(env: &BTreeMap<String, String>) -> bool {
    env.keys().any(|k| moves_yarn(k))
}

/// Whether corepack's shims are what `yarn` runs after `cmds`, starting
/// from `was`: `Some(true)` after a plain `corepack enable`, `Some(false)`
/// after any other corepack command or a command that may shadow the
/// shims ([`shadows_yarn`]; for good: a later `corepack enable` does not
/// take a yarn ahead of the shims off PATH), `was` when none of that
/// happens; and whether a command shadowed them.
fn corepack_state(
    cmds: &[shell::SimpleCommand],
    wd: &str,
    env: &BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
    was: Option<bool>,
) -> RunCorepack {
    let mut state = was;
    for c in cmds {
        if shadows_yarn(c, wd, env, kb) {
            return RunCorepack {
                state: Some(false),
                shadows: true,
            };
        }
        if let Some(argv0) = c.argv.first()
            && argv0.rsplit('/').next() == Some("corepack")
        {
            state = Some(c.argv.len() == 2 && c.argv[1] == "enable");
        }
    }
    RunCorepack {
        state,
        shadows: false,
    }
}

/// Whether a command may make `yarn` something else than corepack's shim
/// running the `packageManager` release: one the knowledge base does not
/// know, one that may write a yarn in a directory of PATH, or one that
/// sets `PATH` or a `COREPACK_*` variable (see [`corepack_env_unsure`]).
fn shadows_yarn(
    c: &shell::SimpleCommand,
    wd: &str,
    env: &BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
) -> bool {
    if c.assignments.iter().any(|(k, _)| moves_yarn(k)) {
        return true;
    }
    let Some(argv0) = c.argv.first() else {
        return false;
    };
    if argv0 == "export" {
        return c.argv[1..]
            .iter()
            .any(|a| moves_yarn(a.split('=').next().unwrap_or(a)));
    }
    if argv0.rsplit('/').next() == Some("corepack") {
        return false;
    }
    let f = kb::interpret(c, kb, env);
    let dir =
        c.cd.as_deref()
            .map_or_else(|| wd.to_string(), |d| resolve(wd, d));
    f.unknown.is_some()
        || f.writes
            .iter()
            .chain(&c.redirect_writes)
            .any(|w| may_be_a_yarn(&resolve(&dir, w)))
}

/// [`corepack_state`] after a whole instruction of the stage, from `was`:
/// a `RUN` as its commands say ([`Effects::corepack`], made once when the
/// `RUN` is read; one the splitter does not follow ends it), another
/// instruction that may write where the shims are or set `PATH` or a
/// `COREPACK_*` variable ends it, anything else keeps it. Second: whether
/// the instruction may shadow the shims for the rest of the stage,
/// whatever `corepack enable` comes after.
fn corepack_after(ins: &Instruction, e: &Effects, was: bool) -> (bool, bool) {
    if e.opaque.is_some() {
        return (false, true);
    }
    if ins.node.kind == Kind::Run {
        return match e.corepack {
            Some(RunCorepack { shadows: true, .. }) | None => (false, true),
            Some(RunCorepack { state, .. }) => (state.unwrap_or(was), false),
        };
    }
    let writes_yarn = e.writes.iter().any(|l| match l {
        Loc::Path(p) => may_be_a_yarn(p),
        Loc::Var(v) => moves_yarn(v),
        _ => false,
    });
    (was && !writes_yarn, writes_yarn)
}

fn run_effects(
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    created: &[String],
    kb: &kb::KnowledgeBase,
    e: &mut Effects,
) {
    let opaque = |reason: String| {
        let mut o = opaque_effects(&reason);
        o.opaque = Some(reason);
        o
    };
    let (cmds, binds) = match run_commands(ins, wd) {
        Ok(c) => c,
        Err(reason) => {
            *e = opaque(reason);
            return;
        }
    };
    e.reads.extend([Loc::User, Loc::Shell]);
    let mut cost: Option<CostClass> = None;
    let mut local_env = env.clone();
    let mut seen = RunScope::default();
    let mut home = HomeUse::default();
    // Settings earlier commands made that the knowledge base reads as
    // variables (see `bundle_config_setting`), not exported to the shell.
    let mut settings: BTreeMap<String, String> = BTreeMap::new();
    // The files the commands so far wrote, by exact path.
    let mut made_here: Vec<String> = Vec::new();
    for (n, c) in cmds.iter().enumerate() {
        if c.cd.as_deref().is_some_and(relative) {
            seen.uses_workdir = true;
        }
        // `cd DIR` is followed by the splitter (the later commands carry
        // the directory); it writes nothing, and fails unless DIR exists:
        // it reads that directory (review 3, F1: `RUN cd src` moved above
        // the copy that ships `src` failed).
        if c.argv.first().is_some_and(|a| a == "cd") {
            if c.argv.get(1).is_none_or(|d| relative(d)) {
                seen.uses_workdir = true;
            }
            if let Some(target) = c.argv.get(1) {
                let from = match &c.cd {
                    Some(d) => resolve(wd, d),
                    None => wd.to_string(),
                };
                e.reads.push(Loc::Path(resolve(&from, target)));
                e.needed_dirs.push(resolve(&from, target));
            }
            continue;
        }
        let facts = if settings.is_empty() {
            kb::interpret_in(&cmds, n, kb, &local_env)
        } else {
            let mut seen_env = settings.clone();
            seen_env.extend(local_env.iter().map(|(k, v)| (k.clone(), v.clone())));
            kb::interpret_in(&cmds, n, kb, &seen_env)
        };
        if let Some(u) = facts.unknown {
            *e = opaque(u);
            return;
        }
        seen.add(c, &facts);
        let argv0 = c.argv.first().map(String::as_str).unwrap_or("");
        home.add(argv0, &facts);
        if argv0 == "export" {
            for a in &c.argv[1..] {
                if let Some((k, v)) = a.split_once('=') {
                    local_env.insert(k.to_string(), v.to_string());
                }
            }
        }
        let dir = match &c.cd {
            Some(d) => resolve(wd, d),
            None => wd.to_string(),
        };
        // A dir option (`composer -d DIR`) runs it in DIR, which must
        // exist, as after `cd DIR`.
        let dir = match &facts.chdir {
            Some(d) => {
                let to = resolve(&dir, d);
                e.reads.push(Loc::Path(to.clone()));
                e.needed_dirs.push(to.clone());
                to
            }
            None => dir,
        };
        let (manifests_before, writes_before) = (e.manifests.len(), e.writes.len());
        let archive = archive_apt(c, &facts);
        let system_tool = argv0.rsplit('/').next().unwrap_or(argv0);
        if SYSTEM_INSTALLERS.contains(&system_tool) && !archive {
            e.foreign_packages = true;
        }
        if let Err(reason) = command_paths(&facts, &dir, &local_env, created, e) {
            *e = opaque(reason);
            return;
        }
        // A file an earlier command of this `RUN` made (`curl -o x.tgz &&
        // tar -xzf x.tgz`) is no manifest: nothing is copied for it.
        let new_manifests = e.manifests.split_off(manifests_before);
        e.manifests
            .extend(new_manifests.into_iter().filter(|m| !made_here.contains(m)));
        made_here.extend(e.writes[writes_before..].iter().filter_map(|w| match w {
            Loc::Path(p) if !p.contains(['*', '?', '[']) => Some(p.clone()),
            _ => None,
        }));
        match relocated_paths(&facts.path_env, c, &local_env, &dir) {
            Ok(paths) => {
                // Configuration taken from elsewhere (`APT_CONFIG`) may name
                // other sources: those writes are not the archive's.
                if archive && paths.is_empty() {
                    let these = e.writes[writes_before..].to_vec();
                    e.archive_writes.extend(these);
                } else if archive {
                    e.foreign_packages = true;
                }
                let homes = user_homes(&local_env, created);
                for p in paths {
                    let locs = in_homes(p, &homes);
                    e.reads.extend(locs.iter().cloned());
                    e.writes.extend(locs);
                }
            }
            Err(var) => {
                *e = opaque(format!(
                    "`{var}` may move what `{argv0}` reads and writes, and its value is not known"
                ));
                return;
            }
        }
        if facts.git == Some(kb::GitUse::Workdir) {
            add_repo_reads(&dir, e);
            let mut words = c.argv.iter().map(String::as_str);
            let mut name = words
                .next()
                .map_or("", |a| a.rsplit('/').next().unwrap_or(a));
            // `php composer.phar install` is Composer's (kb::php_facts).
            if name == "php" {
                name = "composer";
                words.next();
            }
            let sub = words.next().unwrap_or("");
            e.repo_tools.push((format!("{name} {sub}"), dir.clone()));
        }
        // A virtualenv or user base on PATH changes where language
        // installers write (system package managers ignore them).
        let language_installer = ecosystem_of(argv0).is_some();
        if facts.cost == Some(CostClass::Install) && language_installer {
            let prog = argv0.rsplit('/').next().unwrap_or(argv0);
            install_prefix_writes(prog, &dir, &local_env, facts.home.as_deref(), e);
        }
        bundle_config_setting(c, &local_env, &mut settings);
        // pip reads the file `PIP_CONFIG_FILE` names (pip's user guide,
        // "Configuration": loaded after the global and user files; not
        // at all when it is `os.devnull`), from the directory it runs
        // in: a manifest of the install, checked and copied with the
        // requirement files. uv does not read it.
        let pip = facts
            .checks
            .iter()
            .any(|k| matches!(k, kb::ManifestCheck::Requirements(_)))
            && !facts
                .checks
                .iter()
                .any(|k| matches!(k, kb::ManifestCheck::UvPip(_)));
        if pip
            && let Some(v) = local_env.get("PIP_CONFIG_FILE")
            && !v.is_empty()
            && !v.contains(['$', '*', '?', '['])
            && v != "/dev/null"
        {
            let p = resolve(&dir, v);
            // `pip install` only reads it (`pip config` writes it): the
            // write its variable stood for is none.
            let tree = format!("{p}/**");
            e.writes
                .retain(|w| !matches!(w, Loc::Path(q) if *q == p || *q == tree));
            if !e.manifests.contains(&p) {
                e.reads.push(Loc::Path(p.clone()));
                e.manifests.push(p.clone());
            }
            e.checks
                .push((kb::ManifestCheck::PipConfig(p), dir.clone()));
        }
        for mut chk in facts.checks {
            // Berry through corepack: the shim is there when an earlier
            // command of this `RUN` enabled it (the stage's earlier `RUN`s
            // are `analyze_stage_with`'s to add).
            if let kb::ManifestCheck::Yarn { corepack, .. } = &mut chk {
                // A yarn named by its path is not the shim on PATH.
                *corepack = if argv0.contains('/') || corepack_env_unsure(&local_env) {
                    Some(false)
                } else {
                    corepack_state(&cmds[..n], wd, env, kb, None).state
                };
            }
            e.checks
                .push((resolve_check(chk, &dir, &local_env), dir.clone()));
        }
        if n == 0 && cmds.len() == 1 {
            e.lone_update = facts.merge_update.clone();
        }
        if n == 0 {
            e.install_of = facts.install_of.clone();
        }
        cost = cost.max(facts.cost);
    }
    e.corepack = Some(corepack_state(&cmds, wd, env, kb, None));
    if e.reads
        .iter()
        .any(|r| matches!(r, Loc::Path(p) if reads_process_state(p)))
    {
        seen.env_reads = None;
    }
    seen.finish(&ins.run_script().unwrap_or_default(), &cmds, e);
    let lookup = cmds
        .iter()
        .filter_map(|c| c.argv.first())
        .map(|a| lookup_of(a))
        .max()
        .unwrap_or(Lookup::Utilities);
    let home = home.entries();
    e.implicit_reads = run_implicit_reads(wd, &local_env, lookup, created, &home);
    e.lookup_dirs = lookup_dirs(wd, &local_env, lookup, created, &home);
    // pip's configuration file is a manifest of the install, copied with
    // it and checked ([`kb::ManifestCheck::PipConfig`]): no longer a file
    // a copy would put unseen where the install looks.
    let pip_configs: Vec<String> = e
        .checks
        .iter()
        .filter_map(|(c, _)| match c {
            kb::ManifestCheck::PipConfig(p) => Some(format!("{p}/**")),
            _ => None,
        })
        .collect();
    e.lookup_dirs.retain(|d| !pip_configs.contains(d));
    e.implicit_reads
        .retain(|l| !matches!(l, Loc::Path(p) if pip_configs.contains(p)));
    e.ecosystem = run_ecosystem(&cmds);
    e.cost_class = Some(cost.unwrap_or(CostClass::Cheap));
    apply_binds(e, binds);
}

/// Whether a command is `apt-get`/`apt` installing (or updating,
/// removing, cleaning) from the sources the image configures: packages
/// named by name only (not a path or a `.deb` file, not a keyring
/// package, the one kind of package of Debian's archive that ships an
/// apt source: `mobian-archive-keyring`, in the Contents indexes of
/// bullseye, bookworm and trixie main), no configuration option (`-o`,
/// `-c`), which may name other sources or another root, and no
/// redirection of its output but to `/dev/null`.
fn archive_apt(c: &shell::SimpleCommand, facts: &kb::CommandFacts) -> bool {
    let Some(argv0) = c.argv.first() else {
        return false;
    };
    if !matches!(argv0.rsplit('/').next(), Some("apt-get" | "apt")) {
        return false;
    }
    let settings = c.argv[1..].iter().any(|a| {
        a == "-o"
            || a == "-c"
            || a.starts_with("--option")
            || a.starts_with("--config-file")
            || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains(['o', 'c']))
    });
    // `apt-get update` names no package (`packages` stays unknown).
    let by_name = match &facts.packages {
        Some(pkgs) => pkgs.iter().all(|p| {
            !p.contains(['/', '$', '*', '?', '[']) && !p.ends_with(".deb") && !p.contains("keyring")
        }),
        None => {
            c.argv[1..]
                .iter()
                .filter(|a| !a.starts_with('-'))
                .collect::<Vec<_>>()
                == ["update"]
        }
    };
    // Its own redirection (`apt-get install -y jq > /usr/local/etc/npmrc`)
    // is the shell's write, not the archive's: such a command is no
    // archive install (output thrown away is none).
    let redirected = c
        .redirect_writes
        .iter()
        .any(|w| !matches!(w.as_str(), "/dev/null" | "/dev/stderr" | "/dev/stdout"));
    !settings && by_name && !redirected && facts.unknown.is_none()
}

/// A manifest check with its paths as the command sees them: requirement
/// files by their image paths, variables expanded (`pip install -r
/// $REQS`: the check reads those files); project arguments relative to
/// the command's directory, variables expanded (one that cannot be keeps
/// its `$`, which the check refuses).
fn resolve_check(
    chk: kb::ManifestCheck,
    dir: &str,
    local_env: &BTreeMap<String, String>,
) -> kb::ManifestCheck {
    match chk {
        kb::ManifestCheck::Requirements(files) => kb::ManifestCheck::Requirements(
            files
                .iter()
                .map(|f| expand(f, local_env).map_or_else(|| f.clone(), |x| resolve(dir, &x)))
                .collect(),
        ),
        kb::ManifestCheck::UvPip(files) => kb::ManifestCheck::UvPip(
            files
                .iter()
                .map(|f| expand(f, local_env).map_or_else(|| f.clone(), |x| resolve(dir, &x)))
                .collect(),
        ),
        // The settings of the directory it runs in and of every parent.
        kb::ManifestCheck::UvSettings(names) => kb::ManifestCheck::UvSettings(
            std::iter::once(dir.to_string())
                .chain(parent_dirs(dir))
                .flat_map(|d| names.iter().map(move |n| resolve(&d, n)))
                .collect(),
        ),
        kb::ManifestCheck::Dotnet {
            projects,
            properties,
            locked,
        } => kb::ManifestCheck::Dotnet {
            projects: projects
                .iter()
                .map(|p| {
                    expand(p, local_env)
                        .map_or_else(|| p.clone(), |x| relative_to(dir, &resolve(dir, &x)))
                })
                .collect(),
            properties,
            locked,
        },
        other => other,
    }
}

/// The repository git finds from `dir` (see [`repository_paths`]), read.
fn add_repo_reads(dir: &str, e: &mut Effects) {
    for p in repository_paths(dir) {
        if !e.repo_reads.contains(&p) {
            e.reads.push(Loc::Path(p.clone()));
            e.repo_reads.push(p);
        }
    }
}

/// Whether reading the image path `p` reads the state of a process, as
/// procfs holds it: `/proc/self/environ` is the reader's own environment,
/// so `cat /proc/self/environ > /etc/env` writes every variable in scope
/// (measured with BuildKit). A command reading such a path reads every
/// variable.
fn reads_process_state(p: &str) -> bool {
    p == "/proc" || p.starts_with("/proc/")
}

/// A path relative to the working directory.
fn relative(p: &str) -> bool {
    !p.starts_with('/') && !p.starts_with("~/")
}

/// What the commands of a `RUN` see, gathered command by command: the
/// variables they honour (`None`: any), whether the working directory
/// matters, and whether they only fetch or only install system packages.
struct RunScope {
    env_reads: Option<Vec<String>>,
    uses_workdir: bool,
    fetches: bool,
    all_fetch_or_base: bool,
    all_system_or_base: bool,
    /// The packages its system installs name (`None`: not known).
    packages: Option<Vec<String>>,
}

impl Default for RunScope {
    fn default() -> RunScope {
        RunScope {
            env_reads: Some(Vec::new()),
            uses_workdir: false,
            fetches: false,
            all_fetch_or_base: true,
            all_system_or_base: true,
            packages: Some(Vec::new()),
        }
    }
}

impl RunScope {
    fn add(&mut self, c: &shell::SimpleCommand, facts: &kb::CommandFacts) {
        // `set` or `export` without names (or `-p`) print every variable.
        let lists_all = matches!(c.argv.first().map(String::as_str), Some("set" | "export"))
            && c.argv[1..].iter().all(|a| a == "-p" || a == "--");
        match (&mut self.env_reads, &facts.env) {
            (Some(all), Some(these)) if !lists_all => all.extend(these.iter().cloned()),
            _ => self.env_reads = None,
        }
        // Run in an absolute directory (a dir option), its relative paths
        // are there, not in the working directory.
        match facts.chdir.as_deref() {
            Some(d) if !relative(d) => {}
            Some(_) => self.uses_workdir = true,
            None => {
                if !facts.cwd_free
                    || facts
                        .reads
                        .iter()
                        .chain(&facts.writes)
                        .chain(&facts.manifests)
                        .chain(&facts.writes_if_missing)
                        .any(|p| relative(p))
                {
                    self.uses_workdir = true;
                }
            }
        }
        let eco = ecosystem_of(c.argv.first().map(String::as_str).unwrap_or(""));
        self.fetches |= facts.fetch;
        if eco.is_none() {
            match (&mut self.packages, &facts.packages) {
                (Some(all), Some(these)) => all.extend(these.iter().cloned()),
                _ => self.packages = None,
            }
        }
        self.all_fetch_or_base &= facts.fetch || eco == Some("base");
        self.all_system_or_base &= eco.is_none() || eco == Some("base");
    }

    /// The variable and working-directory reads, and the fetch-only and
    /// system-only marks.
    fn finish(mut self, text: &str, cmds: &[shell::SimpleCommand], e: &mut Effects) {
        // `${!X}` names a variable by the value of another.
        if text.contains("${!") {
            self.env_reads = None;
        }
        match self.env_reads {
            Some(mut vars) => {
                // The variables the text names, the shell's and the C
                // library's, the search paths (they decide which programs
                // run) and where language installers put what they write.
                vars.extend(vars_used(text));
                vars.sort_unstable();
                vars.dedup();
                e.reads
                    .extend(merge_fixed_vars(vars, RUN_FIXED_VARS).map(Loc::Var));
            }
            None => e.reads.push(Loc::AllVars),
        }
        if self.uses_workdir {
            e.reads.push(Loc::Workdir);
        }
        e.fetch_only = self.fetches && self.all_fetch_or_base;
        e.packages = self.packages;
        e.system_only = !cmds.is_empty()
            && self.all_system_or_base
            && cmds
                .iter()
                .filter_map(|c| c.argv.first())
                .any(|a| ecosystem_of(a).is_none());
    }
}

/// The union of `vars` and `fixed` (each sorted, without repeats), sorted,
/// without repeats: what sorting both together would give.
fn merge_fixed_vars(
    vars: Vec<String>,
    fixed: &'static [&'static str],
) -> impl Iterator<Item = String> {
    let mut vars = vars.into_iter().peekable();
    let mut fixed = fixed.iter().peekable();
    std::iter::from_fn(move || match (vars.peek(), fixed.peek()) {
        (Some(v), Some(f)) => match v.as_str().cmp(f) {
            std::cmp::Ordering::Less => vars.next(),
            std::cmp::Ordering::Greater => fixed.next().map(|f| f.to_string()),
            std::cmp::Ordering::Equal => {
                fixed.next();
                vars.next()
            }
        },
        (Some(_), None) => vars.next(),
        (None, _) => fixed.next().map(|f| f.to_string()),
    })
}

/// The simple commands of a shell-form `RUN` (of its heredoc script for
/// `RUN <<EOF`, [`Instruction::run_script`]) and its bind mounts of
/// single context files, or why it cannot be followed (flags, other
/// mounts, exec form, other heredocs, shell the splitter does not
/// follow).
#[allow(clippy::type_complexity)]
fn run_commands(
    ins: &Instruction,
    wd: &str,
) -> Result<(Vec<shell::SimpleCommand>, Vec<(String, String)>), String> {
    let node = &ins.node;
    // Bind mounts of single context files: (context path, image path).
    let mut binds: Vec<(String, String)> = Vec::new();
    for f in &node.flags {
        if Mount::is_mount_flag(f) {
            let m = Mount::parse(f).ok_or_else(|| format!("mount `{f}` is not understood"))?;
            match m.kind().as_str() {
                "bind" => {
                    let b = file_bind(&m, wd).ok_or_else(|| {
                        "a bind mount of a directory, of another stage or with variables"
                            .to_string()
                    })?;
                    binds.push(b);
                }
                // They add nothing to the image.
                "cache" | "tmpfs" => {}
                "secret" | "ssh" => return Err("a secret or ssh mount".into()),
                other => return Err(format!("a mount of type `{other}`")),
            }
        } else if !f.starts_with("--network=") && !f.starts_with("--security=") {
            return Err(format!("RUN flag `{f}` is not understood"));
        }
    }
    if node.json {
        return Err("exec form RUN".into());
    }
    let Some(script) = ins.run_script() else {
        return Err("a RUN with heredocs other than one plain shell script (`RUN <<EOF`)".into());
    };
    match shell::split(&script) {
        Split::Commands(c) => Ok((c, binds)),
        Split::Opaque(reason) => Err(reason),
    }
}

/// The directory that `p` (relative to `dir`, or absolute) leaves by a
/// `..` and that is not `dir` or one of its parents, which exist when the
/// command runs; `None` when there is none.
fn dotdot_through(dir: &str, p: &str) -> Option<String> {
    if !p.split('/').any(|c| c == "..") {
        return None;
    }
    let base: Vec<&str> = dir
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let mut at: Vec<&str> = if p.starts_with('/') {
        Vec::new()
    } else {
        base.clone()
    };
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if !base.starts_with(&at) {
                    return Some(format!("/{}", at.join("/")));
                }
                at.pop();
            }
            c => at.push(c),
        }
    }
    None
}

/// A command's paths, resolved against its directory and variables; a path
/// that depends on an unknown variable makes the `RUN` opaque.
fn command_paths(
    facts: &kb::CommandFacts,
    dir: &str,
    local_env: &BTreeMap<String, String>,
    created: &[String],
    e: &mut Effects,
) -> Result<(), String> {
    let res = |p: &str| -> Option<String> {
        let p = expand(p, local_env)?;
        // A glob stays a pattern: its components match by shell rules
        // (`paths_overlap`), `**` inside covers the tree above it.
        let p = p
            .strip_prefix("~/")
            .map(|r| format!("/root/{r}"))
            .unwrap_or(p);
        Some(resolve(dir, &p))
    };
    // The knowledge base writes the home as `/root`; the command uses its
    // user's home (`HOME` as set, else what `/etc/passwd` says: see
    // `user_homes`), and `/root` is kept, for what names it literally.
    let homes = user_homes(local_env, created);
    let with_home = |p: String| in_homes(p, &homes);
    for r in &facts.reads {
        let p = res(r).ok_or_else(|| format!("path `{r}` depends on a variable"))?;
        e.reads.extend(with_home(p));
    }
    for w in &facts.writes {
        let p = res(w).ok_or_else(|| format!("path `{w}` depends on a variable"))?;
        let locs = with_home(p);
        // A place another command of the `RUN` writes is not metadata
        // only (`cp a /app/a && chmod 600 /app/a`).
        if facts.metadata_writes.contains(w) {
            let made = &e.made_writes;
            let only: Vec<Loc> = locs.iter().filter(|l| !made.contains(l)).cloned().collect();
            e.metadata_writes.extend(only);
        } else {
            e.metadata_writes.retain(|l| !locs.contains(l));
            if facts.dir_writes.contains(w) {
                let fresh: Vec<Loc> = locs
                    .iter()
                    .filter(|l| !e.made_writes.contains(l))
                    .cloned()
                    .collect();
                e.dir_writes.extend(fresh);
            } else {
                e.dir_writes.retain(|l| !locs.contains(l));
            }
            e.made_writes.extend(locs.iter().cloned());
        }
        e.writes.extend(locs);
    }
    for m in &facts.manifests {
        if let Some(p) = expand(m, local_env)
            && let Some(through) = dotdot_through(dir, &p)
        {
            // The system resolves `sub/../x` through `sub`, which a copy
            // of the manifests alone does not create (measured: `pip
            // install -r sub/../requirements.txt` failed after the hoist).
            return Err(format!(
                "`{m}` passes through `{through}`, which only the broad copy may create"
            ));
        }
    }
    // What it looks for above the directory it runs in: the nearest
    // parent's configuration, read (a manifest, copied first when the copy
    // ships it), and a parent's environment, written.
    for up in parent_dirs(dir) {
        for r in &facts.parent_reads {
            let p = resolve(&up, r);
            e.reads.push(Loc::Path(p.clone()));
            e.manifests.push(p);
        }
        for w in &facts.parent_writes {
            let p = resolve(&up, w);
            e.made_writes.push(Loc::Path(p.clone()));
            e.writes.push(Loc::Path(p.clone()));
            e.unkept_writes.push(p);
        }
    }
    e.manifests
        .extend(facts.manifests.iter().filter_map(|m| res(m)));
    e.writes_if_missing
        .extend(facts.writes_if_missing.iter().filter_map(|m| res(m)));
    let kept: Vec<String> = facts.kept_lock.iter().filter_map(|m| res(m)).collect();
    for w in &facts.writes {
        if let Some(p) = res(w)
            && !kept.contains(&p)
        {
            e.kept_locks.retain(|l| !paths_overlap(&p, l));
            e.unkept_writes.push(p);
        }
    }
    for l in kept {
        if !e.unkept_writes.iter().any(|w| paths_overlap(w, &l)) && !e.kept_locks.contains(&l) {
            e.kept_locks.push(l);
        }
    }
    Ok(())
}

/// How a value found in an option variable is taken as a path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Taken {
    /// Whatever it looks like (a listed variable's own value).
    Always,
    /// When it looks like a path (`/`, `.`, `~`, or a `/` in it).
    PathLike,
    /// When it looks like a path or a file name (a `.` in it, as in
    /// `-javaagent:otel.jar`; not `-XX:+UseG1GC`).
    FileLike,
}

/// The values one word of an option variable may name a path with: a
/// plain word itself; of an option, what follows its `=`
/// (`-Dmaven.repo.local=DIR`), what follows its first `:`
/// (`-javaagent:/app/agent.jar`, `-Xbootclasspath/a:lib.jar`, up to a `=`
/// of agent options) and a single-dash option's attached value
/// (`-r/app/boot.rb`, `-I./lib`). `exact`: the variable is listed by name.
fn option_values(word: &str, exact: bool) -> Vec<(&str, Taken)> {
    let own = if exact {
        Taken::Always
    } else {
        Taken::PathLike
    };
    let Some(opt) = word.strip_prefix('-') else {
        return vec![(word, own)];
    };
    let mut out = Vec::new();
    let colon = opt.find(':');
    match opt.split_once('=') {
        // `-javaagent:FILE=OPTIONS`: the `=` is the agent's.
        Some((name, _)) if colon.is_some_and(|c| c < name.len()) => {}
        Some((_, v)) => out.push((v, own)),
        None => {}
    }
    if let Some((_, v)) = opt.split_once(':') {
        out.push((v.split('=').next().unwrap_or(v), Taken::FileLike));
    }
    if !opt.starts_with('-')
        && let Some(c) = opt.chars().next()
    {
        let v = &opt[c.len_utf8()..];
        out.push((v.split('=').next().unwrap_or(v), Taken::PathLike));
    }
    out
}

/// `p`, and, when it lies in `/root`, the same entry in each of `homes`.
fn in_homes(p: String, homes: &[String]) -> Vec<Loc> {
    let moved: Vec<Loc> = match p.strip_prefix("/root/") {
        Some(rest) => homes
            .iter()
            .map(|h| {
                if h.contains('*') {
                    // A pattern (`/home/*`, anywhere): join, do not normalise.
                    Loc::Path(format!("{}/{rest}", h.trim_end_matches('/')))
                } else {
                    Loc::Path(resolve(h, rest))
                }
            })
            .collect(),
        None => Vec::new(),
    };
    std::iter::once(Loc::Path(p)).chain(moved).collect()
}

/// Variables naming a package index or a place to find packages: pip
/// and uv open any value that is not a remote URL as a directory or file
/// (measured with pip 23: `-i index` and `-f wheels` read `./index` and
/// `./wheels`), whatever it looks like. A value not known is taken as no
/// path, as for other variables a prefix matches (`ARG PIP_INDEX_URL`).
const INDEX_LOCATION_VARS: &[&str] = &[
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
];

/// Besides the package indexes ([`INDEX_LOCATION_VARS`]), the variables
/// whose value is a location pip or uv opens as the option of the same
/// name: a path, a `file:` URL, a VCS URL over `file:` or a project with
/// `[extras]`; remote otherwise.
const OTHER_LOCATION_VARS: &[&str] = &[
    "PIP_FIND_LINKS",
    "PIP_EDITABLE",
    "PIP_CERT",
    "PIP_CLIENT_CERT",
    "UV_FIND_LINKS",
];

/// The files and directories the variables `names` (a command's
/// `path_env`, see [`kb::Entry::path_env`]) point a command to, as
/// `PATH/**` resolved against `dir`: every word of a listed variable's
/// value, and every word that looks like a path of one a prefix matches.
/// The command's own assignments (`npm_config_cache=/x npm ci`) count. A
/// word `~/…` is in the home (`/root/…`, which the caller moves to the
/// user's homes); an option word (`-Dmaven.repo.local=DIR`) gives its
/// value, a Java argument file (`@FILE`) its file; URLs other than
/// `file://` are not paths. `Err(name)` when a listed variable's value is
/// not known: empty (a build argument without a default, or a variable
/// that could not be expanded when it was set) or not expandable; such a
/// variable matched only by a prefix names no path.
fn relocated_paths(
    names: &[String],
    cmd: &shell::SimpleCommand,
    env: &BTreeMap<String, String>,
    dir: &str,
) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    if names.is_empty() {
        return Ok(out);
    }
    let assigned = cmd.assignments.iter().map(|(k, v)| (k, v));
    for (name, raw) in env.iter().chain(assigned) {
        let Some(exact) = path_var_match(names, name) else {
            continue;
        };
        let location = INDEX_LOCATION_VARS.contains(&name.as_str());
        let value = match expand(raw, env) {
            Some(v) if !v.trim().is_empty() => v,
            // A listed variable names a path: one not known may be any.
            _ if exact => return Err(name.clone()),
            // So does a package index; only a build argument without a
            // default is taken as none (`ARG PIP_INDEX_URL`), not a value
            // that does not expand here (`${OTHER:-index}`, a variable of
            // the base image).
            None if location && raw != UNKNOWN_ARG_VALUE => return Err(name.clone()),
            // One a prefix matches is read for paths only when it looks
            // like one; a build argument (`ARG PIP_INDEX_URL`) is taken as
            // none: the documented path options are listed by name.
            _ => continue,
        };
        // A location pip or uv reads (`PIP_EDITABLE=.[dev]`,
        // `PIP_FIND_LINKS=file://localhost/w`, `-e git+file:///src/lib`)
        // names its path as the option's value does (kb::location_paths):
        // every word is read with its cut versions; a remote one is none.
        let value = if location || OTHER_LOCATION_VARS.contains(&name.as_str()) {
            value
                .split_whitespace()
                .flat_map(|w| match w.split_once('=') {
                    // uv's `NAME=URL` index.
                    Some((n, v)) if !n.contains('/') => kb::location_paths(v),
                    _ => kb::location_paths(w),
                })
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            value
        };
        // Each value, with whether a tool may read it with a suffix added:
        // Ruby's `-r./boot` (or `-r ./boot`) loads `./boot.rb`. A value
        // attached to a short option, or a word after an option that has
        // none attached, is also read as any `VALUE.*`.
        let words: Vec<&str> = value.split_whitespace().collect();
        let values = words.iter().enumerate().flat_map(|(k, w)| {
            let after_option = k > 0 && {
                let prev = words[k - 1];
                prev.starts_with('-') && !prev.contains('=')
            };
            // A package index names a directory when it is not a remote
            // URL (`uv`'s `NAME=URL` too).
            let w = match w.split_once('=') {
                Some((n, v)) if location && !n.contains('/') && !w.starts_with('-') => v,
                _ => w,
            };
            option_values(w, exact || location)
                .into_iter()
                .map(move |(v, taken)| {
                    let stem = if w.starts_with('-') {
                        !w.starts_with("--") && !w.contains('=')
                    } else {
                        after_option
                    };
                    (v, taken, stem)
                })
        });
        for (word, taken, stem) in values {
            let word = word.trim_start_matches('@');
            let word = match word.strip_prefix("file://") {
                // `file://localhost/x` is `/x` (pip's `url_to_path`).
                Some(p) => p
                    .strip_prefix("localhost")
                    .filter(|r| r.starts_with('/'))
                    .unwrap_or(p),
                None if word.contains("://") => continue,
                None => word,
            };
            for part in word.split(':').filter(|p| !p.is_empty()) {
                let looks_like_path = part.starts_with(['/', '.', '~']) || part.contains('/');
                let taken = match taken {
                    Taken::Always => true,
                    Taken::PathLike => looks_like_path,
                    Taken::FileLike => looks_like_path || part.contains('.'),
                };
                if !taken {
                    continue;
                }
                let abs = if part == "~" {
                    "/root".to_string()
                } else if let Some(rest) = part.strip_prefix("~/") {
                    format!("/root/{rest}")
                } else if part.starts_with('~') {
                    // Another user's home (`~app/`): anywhere.
                    UNKNOWN_HOME.to_string()
                } else {
                    resolve(dir, part)
                };
                let abs = abs.trim_end_matches("/**").trim_end_matches('/');
                let mut found = vec![format!("{abs}/**")];
                if stem
                    && !abs
                        .rsplit('/')
                        .next()
                        .unwrap_or("")
                        .contains(['.', '*', '?', '['])
                {
                    found.push(format!("{abs}.*/**"));
                }
                for p in found {
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Whether the variable `name` is one of `names` (`Some(true)`: by its
/// exact name; `Some(false)`: by a prefix `X*`). A name without upper-case
/// letters matches in any case.
fn path_var_match(names: &[String], name: &str) -> Option<bool> {
    let eq = |pattern: &str, text: &str| {
        if pattern.chars().any(|c| c.is_ascii_uppercase()) {
            pattern == text
        } else {
            pattern.eq_ignore_ascii_case(text)
        }
    };
    if names.iter().any(|n| !n.ends_with('*') && eq(n, name)) {
        return Some(true);
    }
    names
        .iter()
        .filter_map(|n| n.strip_suffix('*'))
        .any(|prefix| {
            name.len() >= prefix.len()
                && name.is_char_boundary(prefix.len())
                && eq(prefix, &name[..prefix.len()])
        })
        .then_some(false)
}

/// `bundle config [set] [--local|--global] NAME VALUE` in a `RUN`: the
/// later `bundle` commands of the same `RUN` see the setting as if its
/// variable (`BUNDLE_NAME`) were set, unless the variable is set already
/// (it takes precedence over the global file, bundle-config(1); and the
/// local file, read first, is the one `--local` writes). Only what
/// [`kb::interpret`] asks of flags follows from it (`deployment`,
/// `frozen`: the lock file is not rewritten). Assumption: the setting is
/// written (`bundle config` fails only when it cannot write its file).
fn bundle_config_setting(
    c: &shell::SimpleCommand,
    local_env: &BTreeMap<String, String>,
    settings: &mut BTreeMap<String, String>,
) {
    let name = c.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a));
    if !matches!(name, Some("bundle" | "bundler"))
        || c.argv.get(1).map(String::as_str) != Some("config")
    {
        return;
    }
    let words: Vec<&str> = c.argv[2..]
        .iter()
        .map(String::as_str)
        .filter(|a| !matches!(*a, "--local" | "--global"))
        .collect();
    let (key, value) = match words.as_slice() {
        ["set", k, v] | [k, v] if !k.starts_with('-') && *k != "unset" && *k != "get" => (k, v),
        _ => return,
    };
    let var = format!(
        "BUNDLE_{}",
        key.to_ascii_uppercase().replace(['.', '-'], "_")
    );
    if !local_env.contains_key(&var) {
        settings.insert(var, unquote(value));
    }
}

/// Where a language installer also writes when the environment points it
/// elsewhere: a virtualenv, a user base, a prefix, the home (the entries
/// the knowledge base gives it there, `home`, or else all of it), and the
/// parent of every non-system `PATH` directory (a virtualenv's `bin`). For
/// pnpm, the `PATH` directory that is `PNPM_HOME` (pnpm's Docker guide:
/// `ENV PNPM_HOME=/pnpm`, `ENV PATH=$PNPM_HOME:$PATH`) is its own home,
/// where it keeps its global packages, their programs and its store (pnpm
/// docs: `PNPM_HOME`, `global-bin-dir`, `store-dir`): that directory is
/// written, not its parent (`/`, everything).
fn install_prefix_writes(
    prog: &str,
    dir: &str,
    local_env: &BTreeMap<String, String>,
    home: Option<&[String]>,
    e: &mut Effects,
) {
    for key in INSTALL_DIR_VARS {
        if let Some(v) = local_env.get(*key) {
            // A value not known (or not expanded) may point anywhere.
            if v.contains('$') {
                e.writes.push(Loc::Path("/**".into()));
                continue;
            }
            let base = resolve(dir, v);
            let base = base.trim_end_matches("/**").trim_end_matches('/');
            match home {
                Some(entries) if *key == "HOME" => e
                    .writes
                    .extend(entries.iter().map(|entry| Loc::Path(resolve(base, entry)))),
                _ => e.writes.push(Loc::Path(format!("{base}/**"))),
            }
        }
    }
    let Some(path) = local_env.get("PATH") else {
        return;
    };
    for p in path.split(':') {
        if p.is_empty() || p.contains('$') || DEFAULT_PATH.contains(&p) {
            continue;
        }
        let parent = resolve(dir, p);
        let pnpm_home = (prog == "pnpm")
            .then(|| local_env.get("PNPM_HOME"))
            .flatten()
            .filter(|h| !h.contains('$'))
            .map(|h| resolve(dir, h));
        if pnpm_home.is_some_and(|h| h.trim_end_matches('/') == parent.trim_end_matches('/'))
            && !parent.trim_end_matches('/').is_empty()
        {
            e.writes
                .push(Loc::Path(format!("{}/**", parent.trim_end_matches('/'))));
            continue;
        }
        let parent = parent
            .rsplit_once('/')
            .map_or("/", |(a, _)| if a.is_empty() { "/" } else { a })
            .to_string();
        e.writes
            .push(Loc::Path(format!("{}/**", parent.trim_end_matches('/'))));
    }
}

/// The one ecosystem all commands of a `RUN` belong to (base utilities
/// belong to any), or `None` when they mix.
fn run_ecosystem(cmds: &[shell::SimpleCommand]) -> Option<&'static str> {
    let mut families = cmds
        .iter()
        .filter_map(|c| c.argv.first())
        .map(|a| ecosystem_of(a));
    let first = families.next().flatten();
    families
        .try_fold(first, |acc, f| match (acc, f) {
            (Some("base"), f) => Some(f),
            (a, Some("base")) => Some(a),
            (a, f) if a == f => Some(a),
            _ => None,
        })
        .flatten()
        .or(if cmds.is_empty() { Some("base") } else { None })
}

/// A `--mount=type=bind` of one file from the build context:
/// `(source, absolute target)`. `None` for anything else (a directory or
/// the whole context, `from=` another stage or image, a variable): the
/// caller then treats the `RUN` as not understood. Whether the source is
/// a file is decided by its name (`.`, a trailing `/`, no extension are
/// taken as directories); [`apply_binds`]' caller checks it against the
/// context when it plans a hoist.
fn file_bind(m: &Mount<'_>, wd: &str) -> Option<(String, String)> {
    let plain = m.keys().all(|k| {
        matches!(
            k,
            "type"
                | "source"
                | "src"
                | "target"
                | "dst"
                | "destination"
                | "rw"
                | "readwrite"
                | "readonly"
                | "ro"
        )
    });
    if !plain {
        return None;
    }
    let (source, target) = (m.source()?, m.target()?);
    let src = source.trim_start_matches("./");
    if m.kind() != "bind"
        || src.is_empty()
        || src == "."
        || src.ends_with('/')
        || src.starts_with('/')
        || src.contains("..")
        || !src.rsplit('/').next().is_some_and(|n| n.contains('.'))
        || src.contains(['$', '*', '?', '['])
        || target.contains(['$', '*', '?', '['])
        || target.is_empty()
    {
        return None;
    }
    Some((src.to_string(), resolve(wd, target)))
}

/// The context files a `RUN` bind-mounts (the sources [`file_bind`]
/// accepts): its inputs from the build context, for the cache replay.
pub fn bind_sources(ins: &Instruction) -> Vec<String> {
    if ins.node.kind != Kind::Run {
        return Vec::new();
    }
    ins.node
        .flags
        .iter()
        .filter_map(|f| Mount::parse(f))
        .filter_map(|m| file_bind(&m, "/"))
        .map(|(src, _)| src)
        .collect()
}

/// What a `RUN` reads at a bind mount's target comes from the build
/// context, not the image, and what it writes there is not kept: those
/// reads and writes leave the image paths; the source is a context read
/// and a manifest the hoist needs no COPY for.
fn apply_binds(e: &mut Effects, binds: Vec<(String, String)>) {
    if binds.is_empty() {
        return;
    }
    let inside = |p: &str, t: &str| p == t || p.strip_prefix(t).is_some_and(|r| r == "/**");
    for (src, target) in &binds {
        e.reads
            .retain(|r| !matches!(r, Loc::Path(p) if inside(p, target)));
        e.writes
            .retain(|w| !matches!(w, Loc::Path(p) if inside(p, target)));
        e.manifests.retain(|m| m != target);
        e.writes_if_missing.retain(|m| m != target);
        e.kept_locks.retain(|m| m != target);
        e.context_reads.push(src.clone());
    }
    e.binds = binds;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The yarns `may_be_a_yarn` looks for are `yarn` and `yarnpkg` in
    /// every directory of the default PATH, and a path is one of them as
    /// `paths_overlap` compares it with each.
    #[test]
    fn yarn_paths_are_the_default_path_s() {
        let want: Vec<String> = DEFAULT_PATH
            .iter()
            .flat_map(|d| ["yarn", "yarnpkg"].map(|n| format!("{d}/{n}")))
            .collect();
        assert_eq!(YARN_PATHS.to_vec(), want);
        for p in [
            "/usr/local/bin/yarn",
            "/usr/local/bin/*",
            "/usr/**",
            "/bin/yarnpkg",
            "/usr/local/bin/yarn/x",
            "/opt/yarn",
            "/usr/local/lib/**",
            "?wd1/yarn",
            "/",
        ] {
            let plain = want.iter().any(|y| paths_overlap(p, y));
            assert_eq!(may_be_a_yarn(p), plain, "{p}");
        }
    }

    #[test]
    fn classes_match_their_members_only() {
        let m = |p: &str, t: &str| comp_overlap(p, t);
        let nuget = "[Nn][Uu][Gg][Ee][Tt].[Cc][Oo][Nn][Ff][Ii][Gg]";
        assert!(m(nuget, "NuGet.config") && m(nuget, "NUGET.CONFIG") && m(nuget, "nuget.Config"));
        assert!(!m(nuget, "build.gradle"), "a class is not any character");
        assert!(m("[a-c]x", "bx") && !m("[a-c]x", "dx"));
        assert!(m("[^a-c]x", "dx") && !m("[^a-c]x", "ax"));
        // `[!a]`: the shell's negation or Go's member `!`: either.
        assert!(m("[!a]", "a") && m("[!a]", "b") && m("[!a]", "!"));
        // `]` first is a member; an unclosed `[` is literal.
        assert!(m("[]a]", "]") && m("[]a]", "a") && !m("[]a]", "b"));
        assert!(m("x[y", "x[y") && !m("x[y", "xay"));
        assert!(!m("[ab]", "") && !m("[ab]", "ab"));
        // Non-ASCII, POSIX classes and escapes: taken to meet.
        assert!(m("[é]", "e") && m("?", "é"));
        assert!(m("[[:digit:]]x", "5x") && m("[\\]]", "]") && m("a\\*", "a*"));
    }

    #[test]
    fn every_tool_says_which_variables_move_its_paths() {
        // A language tool (anything but a base utility or a system package
        // manager) reads and writes where its variables point it: its entry
        // must say which those are (`path_env`), and the variables it lists
        // must be among those it honours when it has an `env:` list.
        for e in &kb::embedded().commands {
            let full = e.command.iter().any(|c| lookup_of(c) == Lookup::Full);
            let Some(vars) = &e.path_env else {
                assert!(!full, "{:?} {:?} has no path_env", e.command, e.sub);
                continue;
            };
            let Some(env) = &e.env else { continue };
            for v in vars {
                assert!(
                    env.iter().any(|x| vars_match(x, v)),
                    "{:?} {:?}: `{v}` is not in its env list",
                    e.command,
                    e.sub
                );
            }
        }
    }

    #[test]
    fn relocated_paths_follow_values_words_and_prefixes() {
        let cmd = |text: &str| match shell::split(text) {
            Split::Commands(mut c) => c.remove(0),
            Split::Opaque(r) => panic!("{r}"),
        };
        let names: Vec<String> = ["npm_config_*", "npm_config_cache", "MAVEN_OPTS", "GOPATH"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let got = |pairs: &[(&str, &str)], text: &str| {
            relocated_paths(&names, &cmd(text), &env(pairs), "/app")
        };
        assert_eq!(
            got(&[("NPM_CONFIG_CACHE", "cache")], "npm ci"),
            Ok(vec!["/app/cache/**".to_string()])
        );
        // By prefix only what looks like a path; URLs are not paths.
        assert_eq!(
            got(
                &[
                    ("npm_config_loglevel", "warn"),
                    ("npm_config_registry", "https://mirror/"),
                    ("npm_config_devdir", "~/gyp")
                ],
                "npm ci"
            ),
            Ok(vec!["/root/gyp/**".to_string()])
        );
        assert_eq!(
            got(
                &[("MAVEN_OPTS", "-Xmx1g -Dmaven.repo.local=/m2 @args")],
                "mvn -B"
            ),
            Ok(vec!["/m2/**".to_string(), "/app/args/**".to_string()])
        );
        // Agents and libraries attached to an option: `-javaagent:FILE`,
        // Ruby's `-rFILE`; a plain flag (`-Xss1m`) names none.
        assert_eq!(
            got(
                &[(
                    "MAVEN_OPTS",
                    "-javaagent:/app/agent.jar=opt -XX:+UseG1GC -Xss1m -r./boot.rb -javaagent:o.jar"
                )],
                "mvn -B"
            ),
            Ok(vec![
                "/app/agent.jar/**".to_string(),
                "/app/boot.rb/**".to_string(),
                "/app/o.jar/**".to_string()
            ])
        );
        // Ruby's `-r` adds the suffix: `-r./boot` and `-r ./boot` read
        // `boot.rb` too.
        assert_eq!(
            got(&[("MAVEN_OPTS", "-r./boot -r ./lib/x")], "mvn -B"),
            Ok(vec![
                "/app/boot/**".to_string(),
                "/app/boot.*/**".to_string(),
                "/app/lib/x/**".to_string(),
                "/app/lib/x.*/**".to_string()
            ])
        );
        assert_eq!(
            got(&[("GOPATH", "/go:/work")], "go mod download"),
            Ok(vec!["/go/**".to_string(), "/work/**".to_string()])
        );
        assert_eq!(
            got(&[], "npm_config_cache=/c npm ci"),
            Ok(vec!["/c/**".to_string()])
        );
        assert_eq!(
            got(&[("npm_config_cache", "")], "npm ci"),
            Err("npm_config_cache".to_string())
        );
        assert_eq!(
            got(&[], "npm_config_cache=$X npm ci"),
            Err("npm_config_cache".to_string())
        );
        assert_eq!(got(&[("npm_config_registry", "")], "npm ci"), Ok(vec![]));
    }

    #[test]
    fn homes_from_user_tools() {
        let homes = |text: &str| {
            let p = crate::syntax::parse(&format!("FROM x\nRUN {text}\n"));
            let ins = p.instructions().map(|(_, i)| i).nth(1).expect("the RUN");
            let env: BTreeMap<String, String> = [("H".to_string(), "/srv/h".to_string())]
                .into_iter()
                .collect();
            created_homes(ins, &env)
        };
        assert_eq!(homes("useradd -m -d /app app"), vec!["/app"]);
        assert_eq!(homes("useradd -md/app app"), vec!["/app"]);
        assert_eq!(
            homes("useradd -s /bin/sh -u 1000 -m app"),
            Vec::<String>::new()
        );
        assert_eq!(homes("useradd --home-dir $H app"), vec!["/srv/h"]);
        assert_eq!(homes("useradd -b /srv app"), vec!["/srv/*"]);
        assert_eq!(homes("adduser -D -h /data app"), vec!["/data"]);
        assert_eq!(homes("adduser --home=/data app"), vec!["/data"]);
        assert_eq!(homes("usermod -d /data app"), vec!["/data"]);
        assert_eq!(homes("useradd -d $UNSET app"), vec![UNKNOWN_HOME]);
        assert_eq!(homes("useradd -R /chroot app"), vec![UNKNOWN_HOME]);
        assert_eq!(homes("useradd -d app app"), vec![UNKNOWN_HOME]);
        assert_eq!(homes("for u in a; do useradd $u; done"), vec![UNKNOWN_HOME]);
        assert_eq!(homes("apt-get install -y adduser"), Vec::<String>::new());
    }

    proptest::proptest! {
        /// With long lists of written paths, `conflict` (which compares
        /// only what can meet their common directory) finds the conflict
        /// the plain pairwise comparison finds.
        #[test]
        fn conflict_with_long_lists_matches_the_plain_comparison(
            files in proptest::collection::vec("/app(/[ab]{1,2}){1,3}", 64..90),
            dirs in proptest::collection::vec("/app(/[ab]{1,2}){0,2}", 0..3),
            reads in proptest::collection::vec("/(app|usr|\\?wd1)(/[ab*]{1,2}){0,3}(/\\*\\*)?", 0..6),
            writes in proptest::collection::vec("/(app|usr|root)(/[ab*]{1,2}){0,3}(/\\*\\*)?", 0..6),
            vars in proptest::bool::ANY,
        ) {
            let mut a = Effects {
                writes: files.iter().map(|f| Loc::Path(f.clone())).collect(),
                ..Effects::default()
            };
            a.writes.extend(dirs.iter().map(|d| Loc::Dir { path: d.clone(), owner: "0:0".into() }));
            let mut b = Effects {
                reads: reads.iter().map(|r| Loc::Path(r.clone())).collect(),
                ..Effects::default()
            };
            if vars {
                b.reads.push(Loc::AllVars);
            }
            b.implicit_reads = vec![Loc::Path("/usr/**".into()), Loc::Path("/app/a/**".into())];
            b.writes = writes.iter().map(|w| Loc::Path(w.clone())).collect();
            proptest::prop_assert_eq!(conflict(&a, &b), plain_conflict(&a, &b));
            proptest::prop_assert_eq!(conflict(&b, &a), plain_conflict(&b, &a));
        }

        /// The comparisons from bases made once per location decide as
        /// `loc_conflict` and `implicit_conflict` do, on short lists of
        /// every kind of location (paths, directories of two owners,
        /// variables, the source trees, `/opt/**` beside an application
        /// directory), with or without a long list on one side, both ways.
        #[test]
        fn based_conflict_matches_the_plain_comparison(
            locs in proptest::collection::vec(
                (0..6u8, "/(app|opt|usr/src|usr)(/[ab*]{1,2}){0,2}(/\\*\\*)?"),
                0..24,
            ),
            split in proptest::collection::vec(0..6usize, 24),
            app in proptest::option::of("/opt/a|/app"),
            long in proptest::collection::vec("/(app|usr/src|opt)(/[ab]{1,2}){1,3}", 0..80),
            long_to in 0..3usize,
        ) {
            let loc = |(k, p): &(u8, String)| match k {
                0 => Loc::Path(p.clone()),
                1 => Loc::Dir { path: p.clone(), owner: "0:0".into() },
                2 => Loc::Dir { path: p.clone(), owner: "1:1".into() },
                3 => Loc::Var(if p.len() % 2 == 0 { "A".into() } else { "A*".into() }),
                4 => Loc::AllVars,
                _ => Loc::Path(OPT_TREE.into()),
            };
            let (mut a, mut b) = (Effects::default(), Effects::default());
            a.app_dir = app.clone();
            b.app_dir = app;
            for (l, to) in locs.iter().zip(&split) {
                let l = loc(l);
                match to {
                    0 => a.writes.push(l),
                    1 => a.reads.push(l),
                    2 => a.implicit_reads.push(l),
                    3 => b.writes.push(l),
                    4 => b.reads.push(l),
                    _ => b.implicit_reads.push(l),
                }
            }
            // A long list on one side: the other side's bases are made
            // beforehand.
            let long = long.into_iter().map(Loc::Path);
            match long_to {
                0 => a.writes.extend(long),
                1 => a.reads.extend(long),
                _ => a.implicit_reads.extend(long),
            }
            proptest::prop_assert_eq!(conflict(&a, &b), plain_conflict(&a, &b));
            proptest::prop_assert_eq!(conflict(&b, &a), plain_conflict(&b, &a));
        }

        /// The shortcut for normal paths resolves as the general rule.
        #[test]
        fn resolve_shortcut_matches_components(wd in "(/|/[a.?w1]{1,3}(/[a.*]{1,3}){0,2}/?)", p in "/?[a.*]{0,3}(/[a.*]{0,3}){0,3}") {
            proptest::prop_assert_eq!(resolve(&wd, &p), resolve_components(&wd, &p));
        }

        /// The hand-written component scan is the plain definition.
        #[test]
        fn components_match_split_and_filter(p in "[/a*.?]{0,12}") {
            let plain: Vec<&str> = p.split('/').filter(|c| !c.is_empty()).collect();
            proptest::prop_assert_eq!(Components(&p).collect::<Vec<_>>(), plain);
        }

        /// A pattern with classes (ranges, `^` negation, `]` first) matches
        /// a name exactly as globset does.
        #[test]
        fn classes_match_as_globset_does(
            p in "([ab.*?]|\\[\\^?\\]?[a-c.](-[b-d])?[a-c]?\\]){1,5}",
            t in "[a-d.\\]^]{0,6}",
        ) {
            let globset_pattern = p.replace("[^", "[!");
            // An inverted range (`[c-a]`) is an error for globset and Go.
            let g = globset::GlobBuilder::new(&globset_pattern)
                .literal_separator(true)
                .build();
            proptest::prop_assume!(g.is_ok());
            let g = g.expect("checked").compile_matcher();
            proptest::prop_assert_eq!(glob_match(p.as_bytes(), t.as_bytes()), g.is_match(&t), "{} {}", p, t);
        }

        /// `paths_overlap` (shortcuts included) answers as the reference.
        #[test]
        fn overlap_matches_the_reference(a in "[/ab*?]{0,10}", b in "[/ab*?]{0,10}") {
            proptest::prop_assert_eq!(paths_overlap(&a, &b), reference_overlap(&a, &b));
        }
    }

    /// `conflict` before it filtered long lists, as a reference.
    fn plain_conflict(a: &Effects, b: &Effects) -> Option<DepReason> {
        for w in &a.writes {
            if let Some(r) = b.reads.iter().find(|r| loc_conflict(w, r)) {
                return Some(DepReason::WriteRead(narrower(w, r)));
            }
            if !hidden_from_later(a, b)
                && let Some(r) = b
                    .implicit_reads
                    .iter()
                    .find(|r| implicit_conflict(w, r, b.app_dir.as_deref()))
            {
                return Some(DepReason::WriteRead(narrower(w, r)));
            }
        }
        for r in &a.reads {
            if let Some(w) = b.writes.iter().find(|w| loc_conflict(r, w)) {
                return Some(DepReason::ReadWrite(narrower(r, w)));
            }
        }
        if !separate_ecosystems(b, a) {
            for r in &a.implicit_reads {
                if let Some(w) = b
                    .writes
                    .iter()
                    .find(|w| implicit_conflict(w, r, a.app_dir.as_deref()))
                {
                    return Some(DepReason::ReadWrite(narrower(r, w)));
                }
            }
        }
        for w in &a.writes {
            if let Some(w2) = b.writes.iter().find(|w2| loc_conflict(w, w2)) {
                return Some(DepReason::WriteWrite(narrower(w, w2)));
            }
        }
        None
    }

    /// The allocating version `paths_overlap` replaced, as a reference.
    fn reference_overlap(a: &str, b: &str) -> bool {
        fn comps(p: &str) -> (Vec<&str>, bool) {
            let recursive = p.ends_with("/**") || p == "**";
            let base = p.trim_end_matches("**").trim_end_matches('/');
            let mut out: Vec<&str> = Vec::new();
            for c in base.split('/').filter(|c| !c.is_empty()) {
                if c.contains("**") {
                    return (out, true);
                }
                out.push(c);
            }
            (out, recursive)
        }
        let (ca, ra) = comps(a);
        let (cb, rb) = comps(b);
        let unknown_a = ca.first().is_some_and(|c| c.starts_with("?wd"));
        let unknown_b = cb.first().is_some_and(|c| c.starts_with("?wd"));
        if unknown_a != unknown_b {
            return true;
        }
        let n = ca.len().min(cb.len());
        if !(0..n).all(|i| comp_overlap(ca[i], cb[i])) {
            return false;
        }
        if ca.len() == cb.len() {
            return true;
        }
        if ca.len() < cb.len() { ra } else { rb }
    }

    #[test]
    fn the_fixed_run_variables_are_the_three_lists_sorted() {
        let mut all: Vec<&str> = kb::GENERIC_ENV
            .iter()
            .chain(SEARCH_PATH_VARS)
            .chain(INSTALL_DIR_VARS)
            .copied()
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(RUN_FIXED_VARS, &all[..]);
        // Merged as a sort of both would order them.
        let vars = vec!["AA".to_string(), "HOME".to_string(), "ZZ".to_string()];
        let mut want: Vec<String> = vars
            .iter()
            .cloned()
            .chain(all.iter().map(|v| v.to_string()))
            .collect();
        want.sort();
        want.dedup();
        let got: Vec<String> = merge_fixed_vars(vars, RUN_FIXED_VARS).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn overlap_without_allocation_agrees_with_the_reference() {
        let pats = [
            "/",
            "/**",
            "**",
            "/app",
            "/app/",
            "/app/**",
            "/app/a.txt",
            "/app/**/x",
            "/app/x**",
            "/app/*.json",
            "/app/pkg/**",
            "/usr/**",
            "/usr/local/bin/**",
            "/?wd0/x",
            "/?wd0/**",
            "/a//b",
            "/a/b/",
            "/app/[ab]/c",
            "/app/?/c",
            "a/b",
            "",
        ];
        for a in pats {
            for b in pats {
                assert_eq!(paths_overlap(a, b), reference_overlap(a, b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn overlap() {
        assert!(paths_overlap("/app/**", "/app/package.json"));
        assert!(!paths_overlap("/app/node_modules/**", "/app/package.json"));
        assert!(paths_overlap("/**", "/etc/passwd"));
        assert!(!paths_overlap("/usr/**", "/app/**"));
        assert!(paths_overlap("/?wd0/**", "/usr/**"));
        assert!(!paths_overlap("/?wd0/a", "/?wd0/b"));
        assert!(paths_overlap("/app", "/app/**"));
        // Globs match by component.
        assert!(!paths_overlap(
            "/usr/src/linux-headers-*/**",
            "/usr/src/app/**"
        ));
        assert!(paths_overlap(
            "/usr/src/linux-headers-*/**",
            "/usr/src/linux-headers-6.1/x"
        ));
        assert!(paths_overlap(
            "/var/lib/apt/lists/*/**",
            "/var/lib/apt/lists/x"
        ));
        assert!(!paths_overlap("/app/*.log", "/app/main.py"));
        assert!(paths_overlap("/app/a/**/b", "/app/a/c/d"));
        assert!(paths_overlap("/?wd1/x", "/usr/x"));
    }

    #[test]
    fn resolve_paths() {
        assert_eq!(resolve("/app", "./x/../y"), "/app/y");
        assert_eq!(resolve("/app", "/etc/x"), "/etc/x");
        assert_eq!(resolve("/", "."), "/");
        assert_eq!(resolve("/app", "node_modules/**"), "/app/node_modules/**");
        assert_eq!(resolve("/", "./**"), "/**");
    }

    #[test]
    fn vars() {
        assert_eq!(vars_used("a $X ${Y:-z} $"), vec!["X", "Y"]);
        assert_eq!(vars_used("${#TZ}"), vec!["TZ"]);
    }
}
