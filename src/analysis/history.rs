//! The repository's history: for each walked commit, whether what each
//! `COPY`/`ADD` of a Dockerfile copies changed (after the `.dockerignore` in
//! force at that commit) and which instructions of the Dockerfile it edited.
//!
//! Guarantees: blobs are read only for the Dockerfile and `.dockerignore`
//! (so partial clones work; a missing blob is a message, not a crash); no
//! rename detection; a root commit is diffed against the empty tree; a
//! shallow clone's boundary commit (its parent is not there) is not walked,
//! as what it changed is not known; why a walk ended is a [`WalkEnd`]. A
//! small wrapper owns the `Repository` and results are copied into owned
//! structs at once.
//!
//! Speed: the walk does less than `git log --name-only`. It never lists a
//! commit's changed paths; it asks, per commit, the questions the replay
//! needs ("did anything `COPY src/` copies change?"): it follows the source
//! path through the trees (unchanged subtree ids end the question at once;
//! path sources are one walk of the entries that differ), stops a broad
//! copy's diff at the first file the `.dockerignore` keeps, does not enter
//! a changed directory whose every file counts (no `.dockerignore` pattern
//! can reach it) nor one a glob cannot match, and skips subtrees the
//! `.dockerignore` certainly excludes; its decisions are remembered per
//! `.dockerignore` version. Tree objects are parsed in place, and the
//! Dockerfile versions on a second thread. The first-parent chain comes
//! from the commit-graph file where it lists the commits
//! ([`super::commit_graph`]), else from the commit objects; the repository
//! is opened once per run, and a walk's threads share one mapping of the
//! packs. All Dockerfiles of one
//! repository are answered from a single walk of the commit chain
//! ([`Repo::walk_all`]), which also answers what is likely to be asked
//! later (the whole context, the dependency manifests at its root); any
//! other question asked later is answered by one more pass over the commits
//! whose context changed, with the same rules, from the differing top
//! entries the walk recorded (only the directories a question names are
//! read again). The answers are exactly
//! those of the full diff ([`WalkOptions::paths`] still lists the paths).
//!
//! The walk starts at once ([`Repo::start_walk`]) and is collected later
//! ([`PendingWalk::wait`]): the caller reads the build contexts and
//! analyses the Dockerfiles beside it.
//!
//! Robustness: the walk runs on a worker thread that reports progress; a
//! walk that makes no progress for [`WalkOptions::stall`] is an error (a
//! truncated loose object makes libgit2's inflate loop spin forever), and a
//! commit object that cannot be read in a full clone ends the walk as
//! [`WalkEnd::Corrupt`], not as a shallow boundary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use git2::{Oid, Repository, Sort};
use globset::{GlobBuilder, GlobMatcher};
use serde::Serialize;

use super::commit_graph::CommitGraph;
use super::context::DockerIgnore;
use super::fxhash::FxMap;
use super::packs::{self, Kind};
use crate::syntax;

/// Why the walk stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WalkEnd {
    /// The first commit of the history was reached.
    ReachedRoot,
    /// A shallow clone's boundary was reached (the boundary commit itself
    /// is not walked).
    Shallow,
    /// `--max-commits` was reached.
    Limit,
    /// `--since` was reached.
    Since,
    /// A commit object of a full clone could not be read (empty, corrupt or
    /// missing): the repository is damaged; the commits before it are kept.
    Corrupt,
}

/// What the walk was asked to do.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub max_commits: Option<usize>,
    /// Unix time; commits older than this are not walked.
    pub since: Option<i64>,
    /// Follow every parent (merged branches too), not just the first.
    pub all_parents: bool,
    /// Also list every changed path of each commit in
    /// [`CommitChanges::files`] (slower: a full diff, like `git log`).
    pub paths: bool,
    /// A walk that makes no progress for this long is an error (default
    /// [`DEFAULT_STALL`]).
    pub stall: Option<Duration>,
}

/// How long a walk may go without finishing a commit.
pub const DEFAULT_STALL: Duration = Duration::from_secs(30);

/// Progress of a walk, reported by the library and shown by the caller
/// (the library never prints).
pub trait Progress {
    /// The walk of `repo` begins; the number of commits is not known yet
    /// (the chain is read beside the walk), but commits are examined.
    fn begin(&mut self, _repo: &Path) {}
    /// The walk of `repo` has `total` commits to examine.
    fn start(&mut self, repo: &Path, total: u64);
    /// `done` of them are examined (also before `start`).
    fn advance(&mut self, done: u64);
    /// The walk ended at `at` (called before `finish`, which may come
    /// later: the caller may have been busy beside the walk).
    fn ended(&mut self, _at: std::time::Instant) {}
    /// The walk is over (also after an error).
    fn finish(&mut self, done: u64);
}

/// Progress that nobody watches.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _: &Path, _: u64) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self, _: u64) {}
}

/// One walked commit.
#[derive(Debug, Clone, Default)]
pub struct CommitChanges {
    pub id: String,
    /// Changed files, relative to the build context, after `.dockerignore`
    /// (only with [`WalkOptions::paths`]).
    pub files: Vec<String>,
    /// Instruction texts this commit added or changed in the Dockerfile.
    pub edited: Vec<String>,
    /// Index (over all instructions) of the first instruction it edited.
    pub first_edit: Option<usize>,
    /// The instruction at [`CommitChanges::first_edit`] in the
    /// Dockerfile at the first walked commit (`HEAD`): its text and how
    /// many instructions before it have the same text. A replay places an
    /// edit that none of its texts names on this instruction, wherever the
    /// text it replays moved it (a rewrite inserts and moves instructions;
    /// the position alone would name another one).
    pub first_edit_at: Option<(String, usize)>,
    /// The global `ARG`s (before the first `FROM`) this commit added,
    /// removed or changed, with the global `ARG`s whose defaults use them:
    /// their values change only in the stages that declare them and in the
    /// `FROM` lines that use them. Not in [`CommitChanges::edited`].
    pub global_args: Vec<String>,
    /// The commit changed something before the first `FROM` that may
    /// change every stage: a `syntax` or `escape` parser directive (which
    /// picks the frontend or how every line is read), or an instruction
    /// there that is not an `ARG`. Comments rebuild nothing.
    pub whole_file: bool,
}

/// The history of one Dockerfile's build context.
#[derive(Debug, Clone)]
pub struct History {
    /// Unique per walk in this process (memoised replays are keyed by it).
    pub id: u64,
    pub commits: Vec<CommitChanges>,
    pub first_parent: bool,
    pub end: WalkEnd,
    /// Notes for the user (missing blobs, shallow clone, ...).
    pub notes: Vec<String>,
    changes: Arc<Changes>,
}

impl History {
    pub fn truncated(&self) -> bool {
        matches!(
            self.end,
            WalkEnd::Shallow | WalkEnd::Limit | WalkEnd::Since | WalkEnd::Corrupt
        )
    }

    /// For each `COPY`/`ADD` source text (as written in the Dockerfile),
    /// one flag per walked commit: whether the commit changed a file the
    /// source copies, after that commit's `.dockerignore`. Sources that are
    /// not in the context (URLs, heredocs) never change. Answers are kept:
    /// asking again is free.
    pub fn changed(&self, sources: &[&str]) -> Vec<Arc<Vec<bool>>> {
        self.changes.answer(sources)
    }
}

/// The libgit2 settings the walk is fastest with. They are process-wide
/// (libgit2 has no per-repository switch), so the program's `main` sets
/// them once, before any repository is opened; a library caller that does
/// not gets the same answers, a little slower.
pub fn tune_libgit2() {
    // Objects are hashed once when written; verifying every read again
    // only costs time on a long walk.
    git2::opts::strict_hash_verification(false);
    // Trees are cached by the walk (raw); libgit2's object cache would keep
    // a second, parsed copy of each.
    git2::opts::enable_caching(false);
}

/// Why no history could be read; the caller falls back to the static
/// estimate and prints this as a one-line message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoHistory {
    /// No git repository encloses the Dockerfile.
    #[error("not in a git repository: using the static estimate")]
    NotARepository,
    /// A bare repository has no work tree to find the files in.
    #[error("bare repository: using the static estimate")]
    BareRepository,
    /// The build context is not inside the repository's work tree.
    #[error("the build context is outside the repository: using the static estimate")]
    ContextOutsideRepository,
    /// The Dockerfile is not inside the repository's work tree.
    #[error("the Dockerfile is outside the repository: using the static estimate")]
    DockerfileOutsideRepository,
    /// The repository has no commit yet.
    #[error("the repository has no commits yet: using the static estimate")]
    NoCommits,
    /// `HEAD` names something that is not a commit.
    #[error("HEAD does not point to a commit: using the static estimate")]
    HeadNotACommit,
    /// The walk made no progress for the stall time (a damaged object, a
    /// read stuck in libgit2).
    #[error(
        "the history walk made no progress for {seconds} s after {commits} commits (a damaged object?): using the static estimate"
    )]
    Stalled { seconds: u64, commits: u64 },
    /// Reading the repository failed.
    #[error("{0}")]
    Unreadable(String),
}

/// A `COPY`/`ADD` source as a question about the context.
pub enum Query {
    /// Everything in the context.
    All,
    /// A file or directory (relative path, components).
    Path(Vec<String>),
    /// A glob; files below `base` (its literal leading components) that
    /// it (or one of their parent directories) matches.
    Glob {
        base: Vec<String>,
        glob: GlobMatcher,
        /// One matcher per component, when the pattern's components can be
        /// matched one by one (no `**`, braces, escapes or a class that
        /// spans a `/`): directories that cannot lead to a match are then
        /// not entered.
        comps: Option<Vec<GlobMatcher>>,
    },
    /// A path that no context file can have (`a/../b`, `a//b`).
    Never,
}

impl Query {
    /// The question a source text asks; `None` when it is not a context
    /// path (a URL or a heredoc).
    pub fn parse(s: &str) -> Option<Query> {
        let t = Query::key(s)?;
        if t.is_empty() || t == "." {
            return Some(Query::All);
        }
        if t.contains(['*', '?', '[']) {
            // Go's `filepath.Match`, which BuildKit's COPY follows, has no
            // `**`: two stars are one, within one component (`**/*.txt`
            // names `a/m.txt`, not `top.txt`), where globset would read
            // `**/` as any number of directories. (With an escape, a
            // star may be literal: left as it is, which matches more.)
            let collapsed;
            let t = if t.contains("**") && !t.contains('\\') {
                collapsed = collapse_stars(t);
                collapsed.as_str()
            } else {
                t
            };
            let g = GlobBuilder::new(t).literal_separator(true).build().ok()?;
            let base = t
                .split('/')
                .take_while(|c| !c.contains(['*', '?', '[', '{', '\\']))
                .map(str::to_string)
                .collect::<Vec<_>>();
            // The last component is the glob's own (`a/b*` has base `a`).
            let base = if base.len() == t.split('/').count() {
                base[..base.len().saturating_sub(1)].to_vec()
            } else {
                base
            };
            if base.iter().any(|c| c.is_empty() || c == "." || c == "..") {
                return Some(Query::Never);
            }
            let comps = component_matchers(t);
            return Some(Query::Glob {
                base,
                glob: g.compile_matcher(),
                comps,
            });
        }
        let comps: Vec<String> = t.split('/').map(str::to_string).collect();
        if comps.iter().any(|c| c.is_empty() || c == "." || c == "..") {
            return Some(Query::Never);
        }
        Some(Query::Path(comps))
    }

    /// The normalised text of a source: texts with the same key ask the
    /// same question (`./src/` and `src`); `None` when it is not a context
    /// path (a URL or a heredoc).
    fn key(s: &str) -> Option<&str> {
        if s.contains("://") || s.starts_with("<<") {
            return None;
        }
        let t = s.trim_start_matches("./").trim_end_matches('/');
        Some(t.trim_start_matches('/'))
    }

    /// Whether the context file `f` is one the source copies.
    pub fn matches(&self, f: &str) -> bool {
        match self {
            Query::All => true,
            Query::Never => false,
            Query::Path(comps) => {
                // `f` is the path or below it.
                let mut rest = f;
                for (k, c) in comps.iter().enumerate() {
                    let Some(r) = rest.strip_prefix(c.as_str()) else {
                        return false;
                    };
                    if k + 1 == comps.len() {
                        return r.is_empty() || r.starts_with('/');
                    }
                    let Some(r) = r.strip_prefix('/') else {
                        return false;
                    };
                    rest = r;
                }
                false
            }
            Query::Glob { glob, .. } => {
                if glob.is_match(f) {
                    return true;
                }
                // A glob naming a directory copies what is below it.
                let mut cur = f;
                while let Some((parent, _)) = cur.rsplit_once('/') {
                    if glob.is_match(parent) {
                        return true;
                    }
                    cur = parent;
                }
                false
            }
        }
    }

    /// Whether a file below the directory `dir` (context-relative) may be
    /// one the source copies; `false` only when none can be.
    fn may_contain(&self, dir: &str) -> bool {
        match self {
            Query::All => true,
            Query::Never => false,
            Query::Path(comps) => dir.split('/').zip(comps).all(|(d, c)| d == c.as_str()),
            Query::Glob { comps: None, .. } => true,
            Query::Glob {
                comps: Some(comps), ..
            } => dir.split('/').zip(comps).all(|(d, m)| m.is_match(d)),
        }
    }

    /// Whether the source copies every file below the directory `dir`.
    fn covers(&self, dir: &str) -> bool {
        let parts = || dir.split('/').filter(|c| !c.is_empty());
        match self {
            Query::All => true,
            Query::Never | Query::Glob { comps: None, .. } => false,
            Query::Path(comps) => {
                parts().count() >= comps.len() && parts().zip(comps).all(|(d, c)| d == c)
            }
            Query::Glob {
                comps: Some(comps), ..
            } => parts().count() >= comps.len() && parts().zip(comps).all(|(d, m)| m.is_match(d)),
        }
    }

    fn base(&self) -> &[String] {
        match self {
            Query::Path(c) => c,
            Query::Glob { base, .. } => base,
            Query::All | Query::Never => &[],
        }
    }
}

/// `t` with each run of `*` made one `*` (the same pattern for Go's
/// `filepath.Match`).
fn collapse_stars(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        if !(c == '*' && out.ends_with('*')) {
            out.push(c);
        }
    }
    out
}

/// One matcher per component of a cleaned pattern, when its components can
/// be matched one by one (no `**`, braces, escapes or a class that spans
/// a `/`).
fn component_matchers(t: &str) -> Option<Vec<GlobMatcher>> {
    if t.contains("**") || t.contains(['{', '}', '\\']) {
        return None;
    }
    t.split('/')
        .map(|c| {
            if c.matches('[').count() != c.matches(']').count() {
                return None;
            }
            GlobBuilder::new(c)
                .literal_separator(true)
                .build()
                .ok()
                .map(|g| g.compile_matcher())
        })
        .collect()
}

/// One exception (`!pattern`) of a `.dockerignore`, for pruning.
struct Exception {
    comps: Vec<String>,
    matcher: Option<GlobMatcher>,
}

/// A `.dockerignore` with what is needed to skip whole subtrees: the
/// decision for a file is always [`DockerIgnore::excludes`]; a subtree is
/// skipped only when that decision is certainly "excluded" for every file
/// below it.
struct Ignore {
    rules: DockerIgnore,
    exceptions: Vec<Exception>,
    max_components: usize,
    /// Per excluding pattern, one matcher per component; `None` when it
    /// cannot be matched component by component (`**`, braces, escapes).
    excluders: Vec<Option<Vec<GlobMatcher>>>,
    /// Decisions so far (the same paths change again and again): files,
    /// and directories for [`Ignore::skips_dir`].
    files: Mutex<PathMap<Box<str>, bool>>,
    dirs: Mutex<PathMap<Box<str>, bool>>,
    keeps: Mutex<PathMap<Box<str>, bool>>,
}

/// Decisions kept per `.dockerignore` version (then forgotten at once).
const MEMO_ENTRIES: usize = 1 << 18;

/// The memoised value of `f(key)`.
fn memo(map: &Mutex<PathMap<Box<str>, bool>>, key: &str, f: impl FnOnce() -> bool) -> bool {
    if let Ok(m) = map.lock()
        && let Some(&v) = m.get(key)
    {
        return v;
    }
    let v = f();
    if let Ok(mut m) = map.lock() {
        if m.len() >= MEMO_ENTRIES {
            m.clear();
        }
        m.insert(key.into(), v);
    }
    v
}

impl Ignore {
    fn parse(text: &str) -> Ignore {
        let mut exceptions = Vec::new();
        let mut excluders = Vec::new();
        let mut max_components = 0;
        for (exclusion, p) in super::context::ignore_lines(text) {
            let Some(p) = p else { continue };
            let cleaned = super::context::clean(p);
            let comps: Vec<String> = cleaned.split('/').map(str::to_string).collect();
            max_components = max_components.max(comps.len());
            if exclusion {
                let matcher = GlobBuilder::new(&cleaned)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build()
                    .ok()
                    .map(|g| g.compile_matcher());
                exceptions.push(Exception { comps, matcher });
            } else {
                excluders.push(component_matchers(&cleaned));
            }
        }
        Ignore {
            rules: DockerIgnore::parse(text),
            exceptions,
            max_components,
            excluders,
            files: Mutex::default(),
            dirs: Mutex::default(),
            keeps: Mutex::default(),
        }
    }

    fn excludes(&self, rel: &str) -> bool {
        memo(&self.files, rel, || self.rules.excludes(rel))
    }

    /// Whether every file below the directory `dir` is certainly kept: no
    /// excluding pattern can match it, a parent or anything below it.
    fn keeps_all_below(&self, dir: &str) -> bool {
        memo(&self.keeps, dir, || {
            let parts: Vec<&str> = dir.split('/').filter(|c| !c.is_empty()).collect();
            self.excluders.iter().all(|e| match e {
                None => false,
                Some(comps) => comps.iter().zip(&parts).any(|(m, d)| !m.is_match(d)),
            })
        })
    }

    /// Whether every file below the directory `dir` is certainly excluded.
    fn skips_dir(&self, dir: &str) -> bool {
        memo(&self.dirs, dir, || self.skips_dir_uncached(dir))
    }

    fn skips_dir_uncached(&self, dir: &str) -> bool {
        let parts: Vec<&str> = dir.split('/').collect();
        // A pattern with more components than a file below `dir` has is
        // not tried on that file's parents.
        if self.max_components > parts.len() + 1 || !self.excludes(dir) {
            return false;
        }
        for e in &self.exceptions {
            let Some(m) = &e.matcher else { continue };
            // It matches `dir` or a parent of it: files below may be back.
            if (1..=parts.len()).any(|n| m.is_match(parts[..n].join("/"))) {
                return false;
            }
            // Could it match a path below `dir`? Only if its leading
            // components agree with `dir` (a glob component might).
            let mut could = e.comps.len() > parts.len();
            for (c, d) in e.comps.iter().zip(&parts) {
                if c.contains(['*', '?', '[', '{', '\\']) {
                    could = true;
                    break;
                }
                if c != d {
                    could = false;
                    break;
                }
            }
            if could {
                return false;
            }
        }
        true
    }
}

/// The repository wrapper.
pub struct Repo {
    repo: Repository,
    root: PathBuf,
}

fn rel_to(root: &Path, p: &Path) -> Option<String> {
    let p = std::fs::canonicalize(p).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    let r = p.strip_prefix(&root).ok()?;
    Some(r.to_string_lossy().replace('\\', "/"))
}

/// A Dockerfile and its build context, for [`Repo::walk_all`].
#[derive(Debug, Clone)]
pub struct Target {
    pub dockerfile: PathBuf,
    pub context: PathBuf,
}

/// A target resolved against the repository.
struct Resolved {
    ctx: String,
    df: String,
    /// The Dockerfile on disk.
    path: PathBuf,
    /// Sources the Dockerfile on disk copies: answered during the walk
    /// (read on the walk's thread, once the commit chain is being read).
    sources: Vec<String>,
}

/// The `COPY`/`ADD` sources of a Dockerfile text (copies from the context
/// only).
fn context_sources(text: &str) -> Vec<String> {
    let parse = syntax::parse(text);
    let mut out: Vec<String> = Vec::new();
    for (_, ins) in parse.instructions() {
        if !matches!(ins.node.kind, syntax::Kind::Copy | syntax::Kind::Add)
            || ins.node.flags.iter().any(|f| f.starts_with("--from="))
        {
            continue;
        }
        let args: Vec<&str> = ins.node.str_args().collect();
        if let Some((_, srcs)) = args.split_last() {
            for s in srcs {
                if Query::parse(s).is_some() && !out.iter().any(|o| o == s) {
                    out.push((*s).to_string());
                }
            }
        }
    }
    out
}

impl Repo {
    /// Finds the repository that holds `path`.
    pub fn discover(path: &Path) -> Result<Repo, NoHistory> {
        let start = if path.is_dir() {
            path
        } else {
            path.parent().unwrap_or(path)
        };
        let start = if start.as_os_str().is_empty() {
            Path::new(".")
        } else {
            start
        };
        let repo = Repository::discover(start).map_err(|_| NoHistory::NotARepository)?;
        let root = repo
            .workdir()
            .map(Path::to_path_buf)
            .ok_or(NoHistory::BareRepository)?;
        Ok(Repo { repo, root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Walks the history for a Dockerfile built with `context`.
    pub fn walk(
        &self,
        dockerfile: &Path,
        context: &Path,
        opts: &WalkOptions,
    ) -> Result<History, NoHistory> {
        let target = Target {
            dockerfile: dockerfile.to_path_buf(),
            context: context.to_path_buf(),
        };
        self.walk_all(&[target], opts, &mut NoProgress)
            .pop()
            .unwrap_or_else(|| {
                Err(NoHistory::Unreadable(
                    "the history could not be read".into(),
                ))
            })
    }

    /// Walks the history once for several Dockerfiles of this repository
    /// (one result per target, in order), reporting to `progress`.
    pub fn walk_all(
        &self,
        targets: &[Target],
        opts: &WalkOptions,
        progress: &mut dyn Progress,
    ) -> Vec<Result<History, NoHistory>> {
        self.start_walk(targets, opts).wait(progress)
    }

    /// Starts the walk of [`Repo::walk_all`] on a thread of its own and
    /// returns at once: the caller works beside it (reading the build
    /// contexts, analysing the Dockerfiles) until [`PendingWalk::wait`].
    pub fn start_walk(&self, targets: &[Target], opts: &WalkOptions) -> PendingWalk {
        let mut out: Vec<Option<Result<History, NoHistory>>> = Vec::new();
        let mut resolved = Vec::new();
        let mut slot = Vec::new();
        for t in targets {
            let ctx = rel_to(&self.root, &t.context).ok_or(NoHistory::ContextOutsideRepository);
            let df =
                rel_to(&self.root, &t.dockerfile).ok_or(NoHistory::DockerfileOutsideRepository);
            match (ctx, df) {
                (Ok(ctx), Ok(df)) => {
                    slot.push(out.len());
                    resolved.push(Resolved {
                        ctx,
                        df,
                        path: t.dockerfile.clone(),
                        sources: Vec::new(),
                    });
                    out.push(None);
                }
                (Err(e), _) | (_, Err(e)) => out.push(Some(Err(e))),
            }
        }
        let stall = opts.stall.unwrap_or(DEFAULT_STALL);
        let running = if resolved.is_empty() {
            None
        } else {
            Some(self.spawn_walk(resolved, opts))
        };
        PendingWalk {
            root: self.root.clone(),
            out,
            slot,
            running,
            stall,
        }
    }

    /// Runs the walk on a worker thread (the channel carries its progress
    /// and its result).
    fn spawn_walk(
        &self,
        targets: Vec<Resolved>,
        opts: &WalkOptions,
    ) -> Result<(mpsc::Receiver<Msg>, usize), NoHistory> {
        let n = targets.len();
        // HEAD is resolved here, from the repository already open; the
        // walk's threads read objects without opening it again.
        let start = Start {
            git_dir: self.repo.path().to_path_buf(),
            commondir: self.repo.commondir().to_path_buf(),
            head: self.repo.head().ok().and_then(|h| h.target()),
            shallow: self.repo.is_shallow(),
        };
        let (tx, rx) = mpsc::channel();
        let o = opts.clone();
        std::thread::Builder::new()
            .name("history walk".into())
            .spawn(move || {
                let r = walk_repo(&start, targets, &o, &tx);
                let _ = tx.send(Msg::Done(r, std::time::Instant::now()));
            })
            .map_err(|e| NoHistory::Unreadable(format!("cannot start the history walk: {e}")))?;
        Ok((rx, n))
    }
}

/// A walk started by [`Repo::start_walk`], running on its own thread.
pub struct PendingWalk {
    root: PathBuf,
    /// Per target: the reason it is not walked, or `None` until its result
    /// arrives.
    out: Vec<Option<Result<History, NoHistory>>>,
    /// The targets walked: their index in `out`, in the walk's order.
    slot: Vec<usize>,
    /// The walk's channel and number of targets (`None`: nothing to walk).
    running: Option<Result<(mpsc::Receiver<Msg>, usize), NoHistory>>,
    stall: Duration,
}

impl PendingWalk {
    /// Waits for the walk, reporting to `progress`; a walk that makes no
    /// progress for the stall time is given up (its thread is left behind:
    /// a read stuck inside libgit2 cannot be interrupted). One result per
    /// target, in order.
    pub fn wait(self, progress: &mut dyn Progress) -> Vec<Result<History, NoHistory>> {
        self.wait_beside(progress, &mut || {})
    }

    /// [`PendingWalk::wait`], calling `beside` once while the walk goes on:
    /// when the commit chain has been read (from then on the walk keeps one
    /// core busy, where the chain and the walk kept two), else when the
    /// walk ends. Work done there does not slow the chain, which the walk
    /// waits for.
    pub fn wait_beside(
        mut self,
        progress: &mut dyn Progress,
        beside: &mut dyn FnMut(),
    ) -> Vec<Result<History, NoHistory>> {
        let mut beside = Some(beside);
        if let Some(running) = self.running.take() {
            let results = match running {
                Ok((rx, n)) => Self::collect(&self.root, &rx, n, self.stall, progress, &mut beside),
                Err(e) => self.slot.iter().map(|_| Err(e.clone())).collect(),
            };
            for (k, r) in results.into_iter().enumerate() {
                if let Some(s) = self.slot.get(k).and_then(|&i| self.out.get_mut(i)) {
                    *s = Some(r);
                }
            }
        }
        if let Some(f) = beside.take() {
            f();
        }
        self.out
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(NoHistory::Unreadable(
                        "the history could not be read".into(),
                    ))
                })
            })
            .collect()
    }

    fn collect(
        root: &Path,
        rx: &mpsc::Receiver<Msg>,
        n: usize,
        stall: Duration,
        progress: &mut dyn Progress,
        beside: &mut Option<&mut dyn FnMut()>,
    ) -> Vec<Result<History, NoHistory>> {
        let fail = |e: NoHistory| (0..n).map(|_| Err(e.clone())).collect();
        let mut done = 0;
        progress.begin(root);
        loop {
            match rx.recv_timeout(stall) {
                Ok(Msg::Total(t)) => {
                    progress.start(root, t);
                    if let Some(f) = beside.take() {
                        f();
                    }
                }
                Ok(Msg::Alive) => {}
                Ok(Msg::Examined(d)) => {
                    done = d;
                    progress.advance(d);
                }
                Ok(Msg::Done(r, at)) => {
                    progress.ended(at);
                    progress.finish(done);
                    return match r {
                        Ok(v) => v,
                        Err(e) => fail(e),
                    };
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    progress.finish(done);
                    return fail(NoHistory::Stalled {
                        seconds: stall.as_secs(),
                        commits: done,
                    });
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    progress.finish(done);
                    return fail(NoHistory::Unreadable(
                        "the history walk stopped unexpectedly".into(),
                    ));
                }
            }
        }
    }
}

/// What the worker thread tells the caller.
enum Msg {
    /// Commits to examine.
    Total(u64),
    /// Still reading the commit chain.
    Alive,
    /// Commits examined so far.
    Examined(u64),
    /// The result, and when the walk ended.
    Done(
        Result<Vec<Result<History, NoHistory>>, NoHistory>,
        std::time::Instant,
    ),
}

struct Cache {
    ignores: HashMap<Oid, u32>,
    notes: Vec<String>,
}

/// The text of the blob `oid` (read as the walk's trees are: straight from
/// the packs when it can be, else through libgit2); a missing object, or
/// one that is not a blob, is noted once and is no text.
fn blob_text(
    trees: &mut TreeCache,
    oid: Oid,
    what: &str,
    notes: &mut Vec<String>,
) -> Option<String> {
    match trees.objects.read(oid) {
        Some((Kind::Blob, b)) => Some(String::from_utf8_lossy(&b).into_owned()),
        _ => {
            let n = format!("{what} blob {oid} is missing (partial clone?): treated as unchanged");
            if !notes.contains(&n) {
                notes.push(n);
            }
            None
        }
    }
}

/// Every ancestor of `head`, newest first (for `--all-parents`; the
/// first-parent walk follows parents directly and loads nothing ahead).
fn all_ancestors(repo: &Repository, head: Oid) -> Result<Vec<Oid>, NoHistory> {
    let err = |e: git2::Error| NoHistory::Unreadable(format!("cannot walk the history: {e}"));
    let mut walk = repo.revwalk().map_err(err)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(err)?;
    walk.push(head).map_err(err)?;
    Ok(walk.flatten().collect())
}

/// A tree object's raw bytes (`<mode> <name>\0<20-byte id>`...), with its
/// entries indexed once when read: cheaper than building libgit2 tree
/// objects on a long walk.
struct RawTree {
    /// The object's bytes (owned: reading them back through libgit2 cost
    /// two calls per entry looked at).
    data: Rc<[u8]>,
    /// (mode start, name start, name end) per entry; the id follows the
    /// name's NUL.
    index: Vec<(u32, u32, u32)>,
}

/// One entry of a raw tree.
struct RawEntry<'a> {
    name: &'a [u8],
    raw_id: &'a [u8; 20],
    mode: &'a [u8],
}

impl RawEntry<'_> {
    fn is_tree(&self) -> bool {
        self.mode == b"40000"
    }

    fn id(&self) -> Oid {
        Oid::from_bytes(self.raw_id).unwrap_or(Oid::ZERO_SHA1)
    }

    /// Same id and mode (compared as bytes, without building ids).
    fn same(&self, other: &RawEntry) -> bool {
        self.raw_id == other.raw_id && self.mode == other.mode
    }

    fn found(&self) -> Found {
        Found {
            id: self.id(),
            mode: mode_num(self.mode),
            tree: self.is_tree(),
        }
    }
}

impl RawTree {
    fn parse(data: Rc<[u8]>) -> RawTree {
        // An entry takes at least 28 bytes (mode, space, name, NUL, id).
        let mut index = Vec::with_capacity(data.len() / 28 + 1);
        let mut i = 0;
        while i < data.len() {
            let Some(sp) = data[i..].iter().position(|&c| c == b' ') else {
                break;
            };
            let Some(nul) = data[i + sp..].iter().position(|&c| c == 0) else {
                break;
            };
            let name_start = i + sp + 1;
            let name_end = i + sp + nul;
            if data.len() < name_end + 21 {
                break;
            }
            index.push((i as u32, name_start as u32, name_end as u32));
            i = name_end + 21;
        }
        RawTree { data, index }
    }

    fn entry(&self, k: usize) -> Option<RawEntry<'_>> {
        let &(m, ns, ne) = self.index.get(k)?;
        let data = &self.data;
        let (m, ns, ne) = (m as usize, ns as usize, ne as usize);
        Some(RawEntry {
            name: data.get(ns..ne)?,
            raw_id: data.get(ne + 1..ne + 21)?.try_into().ok()?,
            mode: data.get(m..ns.checked_sub(1)?)?,
        })
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    /// The bytes of entry `k` (mode, name and id).
    fn raw(&self, k: usize) -> Option<&[u8]> {
        let &(m, _, ne) = self.index.get(k)?;
        self.data.get(m as usize..ne as usize + 21)
    }

    /// How many leading entries are byte for byte the same in `other`
    /// (found by comparing the raw bytes: entry `k` depends only on the
    /// bytes up to its end).
    fn same_prefix(&self, other: &RawTree) -> usize {
        let (a, b) = (&self.data[..], &other.data[..]);
        let mut n = a
            .chunks_exact(16)
            .zip(b.chunks_exact(16))
            .take_while(|(x, y)| x == y)
            .count()
            * 16;
        n += a[n..]
            .iter()
            .zip(&b[n..])
            .take_while(|(x, y)| x == y)
            .count();
        self.index
            .partition_point(|&(_, _, ne)| ne as usize + 21 <= n)
    }

    /// How many trailing entries (not among the first `skip`) are byte for
    /// byte the same in `other`.
    fn same_suffix(&self, other: &RawTree, skip: usize) -> usize {
        let (la, lb) = (self.len(), other.len());
        let max = la.min(lb).saturating_sub(skip);
        (0..max)
            .take_while(|&k| {
                let (x, y) = (self.raw(la - 1 - k), other.raw(lb - 1 - k));
                x.is_some() && x == y
            })
            .count()
    }

    /// The entry named `name` (entries are in git's order: a binary search
    /// for it as a file, then as a directory).
    fn find(&self, name: &[u8]) -> Option<RawEntry<'_>> {
        for dir in [false, true] {
            let (mut lo, mut hi) = (0, self.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let e = self.entry(mid)?;
                match git_order(e.name, e.is_tree(), name, dir) {
                    std::cmp::Ordering::Less => lo = mid + 1,
                    std::cmp::Ordering::Greater => hi = mid,
                    std::cmp::Ordering::Equal => return Some(e),
                }
            }
        }
        None
    }
}

/// Identity hashing for object ids (already uniformly distributed).
#[derive(Default)]
struct OidHasher(u64);

impl std::hash::Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for (k, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(*b) << (8 * k);
        }
    }
}

type OidMap<V> = HashMap<Oid, V, std::hash::BuildHasherDefault<OidHasher>>;

/// The walk's path-keyed maps.
type PathMap<K, V> = FxMap<K, V>;

/// Git's tree order: names compared bytewise, a directory as if its name
/// ended in `/`.
fn git_order(a: &[u8], a_dir: bool, b: &[u8], b_dir: bool) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        std::cmp::Ordering::Equal => {}
        o => return o,
    }
    let next = |s: &[u8], dir: bool| -> u8 {
        match s.get(n) {
            Some(c) => *c,
            None if dir => b'/',
            None => 0,
        }
    };
    next(a, a_dir).cmp(&next(b, b_dir))
}

/// Where a walk's threads read objects, opened once per walk and shared
/// by its threads (and by the later passes of [`Changes`]): the pack files,
/// mapped once ([`packs::Packs`]), and libgit2's object database for
/// anything that reader leaves (loose objects, alternates, damaged
/// entries), opened the first time a thread needs it. No `Repository` is
/// opened for it: opening one reads the configuration files (a fifth of a
/// short history's walk, twice per walk when each thread opened its own).
struct Store {
    objects_dir: PathBuf,
    packs: Option<Arc<packs::Packs>>,
    /// The object database: not yet opened, or opened (`None` when it
    /// could not be).
    odb: std::sync::OnceLock<Option<git2::Odb<'static>>>,
}

impl Store {
    /// The store of the repository whose common directory is `commondir`.
    fn open(commondir: &Path) -> Store {
        let objects_dir = commondir.join("objects");
        Store {
            packs: packs::Packs::open(&objects_dir).map(Arc::new),
            objects_dir,
            odb: std::sync::OnceLock::new(),
        }
    }

    /// libgit2's object database of the repository: the objects directory
    /// with its loose objects, packs and alternates, read as the
    /// repository's own database reads them.
    fn odb(&self) -> Option<&git2::Odb<'static>> {
        self.odb
            .get_or_init(|| {
                let odb = git2::Odb::new().ok()?;
                odb.add_disk_alternate(self.objects_dir.to_str()?).ok()?;
                Some(odb)
            })
            .as_ref()
    }

    /// Gives back the mapped pages of the packs read so far (see
    /// [`packs::Packs::release`]).
    fn release(&self) {
        if let Some(p) = &self.packs {
            p.release();
        }
    }
}

/// Trees read so far, in two generations: when the young one is full the
/// old one is dropped, so the trees the walk keeps coming back to (the
/// parent's trees, unchanged directories) stay while memory stays bounded.
/// Where objects are read: the pack files directly ([`packs::Reader`]),
/// and libgit2 for anything that reader leaves (loose objects, alternates,
/// damaged entries), which also reports the errors.
struct Objects {
    packs: Option<packs::Reader>,
    store: Arc<Store>,
}

impl Objects {
    fn new(store: &Arc<Store>) -> Self {
        Objects {
            packs: store.packs.clone().map(packs::Reader::new),
            store: Arc::clone(store),
        }
    }

    /// The object `oid`, whole.
    fn read(&mut self, oid: Oid) -> Option<(Kind, Rc<[u8]>)> {
        if let Some(found) = self.packs.as_mut().and_then(|p| p.read(raw_id(&oid)?)) {
            return Some(found);
        }
        let obj = self.store.odb()?.read(oid).ok()?;
        Some((kind_of(obj.kind())?, obj.data().into()))
    }

    /// The header lines of the commit `oid` (its message may be left out;
    /// a damaged object is returned as it is), or why it cannot be read.
    fn commit_header(&mut self, oid: Oid, want_time: bool) -> Result<Rc<[u8]>, String> {
        let enough = |b: &[u8]| header_read(b, want_time);
        if let Some((Kind::Commit, b)) = self
            .packs
            .as_mut()
            .and_then(|p| p.read_prefix(raw_id(&oid)?, enough))
        {
            return Ok(b);
        }
        let odb = self
            .store
            .odb()
            .ok_or_else(|| "cannot be read".to_string())?;
        let obj = odb
            .read(oid)
            .map_err(|e| format!("cannot be read ({})", e.message()))?;
        Ok(obj.data().into())
    }
}

fn raw_id(oid: &Oid) -> Option<&[u8; 20]> {
    oid.as_bytes().try_into().ok()
}

fn kind_of(k: git2::ObjectType) -> Option<Kind> {
    match k {
        git2::ObjectType::Commit => Some(Kind::Commit),
        git2::ObjectType::Tree => Some(Kind::Tree),
        git2::ObjectType::Blob => Some(Kind::Blob),
        git2::ObjectType::Tag => Some(Kind::Tag),
        _ => None,
    }
}

/// Whether `b`, the start of a commit, holds every header line the chain
/// reads: `tree` and the first `parent` come before `author`; the
/// committer's time ends the `committer` line.
fn header_read(b: &[u8], want_time: bool) -> bool {
    // Up to the last line break: every line in it is whole.
    let Some(end) = b.iter().rposition(|&c| c == b'\n') else {
        return false;
    };
    let key: &[u8] = if want_time {
        b"\ncommitter "
    } else {
        b"\nauthor "
    };
    b[..end].windows(key.len()).any(|w| w == key)
}

struct TreeCache {
    objects: Objects,
    young: OidMap<Rc<RawTree>>,
    old: OidMap<Rc<RawTree>>,
    young_bytes: usize,
}

use std::rc::Rc;

/// An entry found by name: its id, its mode bytes, whether it is a tree.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Found {
    id: Oid,
    mode: u32,
    tree: bool,
}

fn mode_num(m: &[u8]) -> u32 {
    m.iter().fold(0u32, |a, &c| {
        a.wrapping_mul(8)
            .wrapping_add(u32::from(c.wrapping_sub(b'0')))
    })
}

impl TreeCache {
    /// Raw bytes kept per generation (two generations at most).
    const MAX_BYTES: usize = 8 << 20;

    fn new(objects: Objects) -> Self {
        TreeCache {
            objects,
            young: OidMap::default(),
            old: OidMap::default(),
            young_bytes: 0,
        }
    }

    fn tree(&mut self, oid: Option<Oid>) -> Option<Rc<RawTree>> {
        let oid = oid?;
        if let Some(t) = self.young.get(&oid) {
            return Some(t.clone());
        }
        let t = match self.old.remove(&oid) {
            Some(t) => t,
            None => {
                let (kind, data) = self.objects.read(oid)?;
                if kind != Kind::Tree {
                    return None;
                }
                Rc::new(RawTree::parse(data))
            }
        };
        let size = t.data.len() + t.index.len() * 12 + 64;
        if self.young_bytes + size > Self::MAX_BYTES {
            self.old = std::mem::take(&mut self.young);
            self.young_bytes = 0;
        }
        self.young_bytes += size;
        self.young.insert(oid, t.clone());
        Some(t)
    }

    /// The entry `name` of the tree `oid`.
    fn entry(&mut self, oid: Option<Oid>, name: &str) -> Option<Found> {
        let t = self.tree(oid)?;
        t.find(name.as_bytes()).map(|e| Found {
            id: e.id(),
            mode: mode_num(e.mode),
            tree: e.is_tree(),
        })
    }

    /// The id of `path` below the tree `root` ("" is the root itself).
    fn lookup(&mut self, root: Option<Oid>, path: &str) -> Option<Oid> {
        let mut cur = root?;
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            cur = self.entry(Some(cur), comp)?.id;
        }
        Some(cur)
    }

    /// Calls `hit` on the files below a tree until it returns true;
    /// `path` is the tree's path, and is the same again on return.
    fn any_file(&mut self, oid: Oid, path: &mut String, walker: &mut dyn Walker) -> bool {
        let Some(t) = self.tree(Some(oid)) else {
            return false;
        };
        for e in (0..t.len()).filter_map(|k| t.entry(k)) {
            let len = push_name(path, e.name);
            let found = if e.is_tree() {
                !walker.skip(path) && self.any_file(e.id(), path, walker)
            } else {
                walker.hit(path)
            };
            path.truncate(len);
            if found {
                return true;
            }
        }
        false
    }

    /// Paths (relative to the compared trees) whose content or mode
    /// differs, like `git log --no-renames --name-only`.
    fn diff(&mut self, old: Option<Oid>, new: Option<Oid>, out: &mut Vec<String>) {
        struct All<'a>(&'a mut Vec<String>);
        impl Walker for All<'_> {
            fn hit(&mut self, p: &str) -> bool {
                self.0.push(p.to_string());
                false
            }
            fn skip(&mut self, _: &str) -> bool {
                false
            }
        }
        self.first_hit(old, new, &mut String::new(), &mut All(out));
    }

    /// Walks the paths that differ between two trees (only subtrees whose
    /// ids differ are read, no blob at all) and calls `hit` on each until
    /// it returns true; directories for which `skip` is true are not
    /// entered. Returns whether a hit was found. `path` is the trees' path
    /// and is the same again on return.
    fn first_hit(
        &mut self,
        old: Option<Oid>,
        new: Option<Oid>,
        path: &mut String,
        walker: &mut dyn Walker,
    ) -> bool {
        if old == new {
            return false;
        }
        let ot = self.tree(old);
        let nt = self.tree(new);
        merge_entries(ot.as_deref(), nt.as_deref(), |name, oe, ne| {
            let len = push_name(path, name);
            let found = match (oe, ne) {
                (Some(a), Some(b)) if a.tree && b.tree => {
                    walker.all_below(path)
                        || (!walker.skip(path)
                            && self.first_hit(Some(a.id), Some(b.id), path, walker))
                }
                (Some(e), None) | (None, Some(e)) if e.tree => {
                    !walker.skip(path) && self.any_file(e.id, path, walker)
                }
                _ => walker.hit(path),
            };
            path.truncate(len);
            found
        })
    }

    /// Whether the commit (context trees `old` → `new`) changed a file the
    /// query selects and `ignore` keeps.
    fn query_changed(
        &mut self,
        old: Option<Oid>,
        new: Option<Oid>,
        q: &Query,
        ignore: Option<&Ignore>,
    ) -> bool {
        if old == new || matches!(q, Query::Never) {
            return false;
        }
        let mut walker = QueryWalker { q, ignore };
        let base = q.base();
        let (mut o, mut n) = (old, new);
        let mut prefix = String::new();
        for (k, comp) in base.iter().enumerate() {
            if o == n {
                return false;
            }
            let oe = self.entry(o, comp);
            let ne = self.entry(n, comp);
            push_name(&mut prefix, comp.as_bytes());
            if k + 1 == base.len() {
                // The path itself may be a file on either side.
                let ob = oe.filter(|e| !e.tree);
                let nb = ne.filter(|e| !e.tree);
                if ob != nb && walker.hit(&prefix) {
                    return true;
                }
            }
            o = oe.filter(|e| e.tree).map(|e| e.id);
            n = ne.filter(|e| e.tree).map(|e| e.id);
        }
        if o != n && o.is_some() && n.is_some() && walker.all_below(&prefix) {
            return true;
        }
        if !prefix.is_empty() && walker.skip(&prefix) {
            return false;
        }
        self.first_hit(o, n, &mut prefix, &mut walker)
    }
}

/// What a tree walk asks about each path it meets.
trait Walker {
    /// A changed file: true ends the walk.
    fn hit(&mut self, path: &str) -> bool;
    /// A changed directory: true means it is not entered.
    fn skip(&mut self, dir: &str) -> bool;
    /// A directory whose ids differ on both sides: true means every file
    /// below it counts, so the difference is a hit without entering it.
    fn all_below(&mut self, _dir: &str) -> bool {
        false
    }
}

/// The walker of one source question.
struct QueryWalker<'a> {
    q: &'a Query,
    ignore: Option<&'a Ignore>,
}

impl Walker for QueryWalker<'_> {
    fn hit(&mut self, p: &str) -> bool {
        self.q.matches(p) && self.ignore.is_none_or(|i| !i.excludes(p))
    }
    fn skip(&mut self, d: &str) -> bool {
        !self.q.may_contain(d) || self.ignore.is_some_and(|i| i.skips_dir(d))
    }
    fn all_below(&mut self, d: &str) -> bool {
        self.q.covers(d) && self.ignore.is_none_or(|i| i.keeps_all_below(d))
    }
}

/// Appends `/name` (or `name` to an empty path) and returns the length to
/// truncate back to.
fn push_name(path: &mut String, name: &[u8]) -> usize {
    let len = path.len();
    if !path.is_empty() {
        path.push('/');
    }
    path.push_str(&String::from_utf8_lossy(name));
    len
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The tree, first parent and committer time of a raw commit object.
fn parse_commit(data: &[u8], want_time: bool) -> Option<(Oid, Option<Oid>, i64)> {
    let mut tree = None;
    let mut parent = None;
    let mut time = 0;
    for line in data.split(|&c| c == b'\n') {
        if line.is_empty() {
            break;
        }
        if let Some(h) = line.strip_prefix(b"tree ") {
            tree = hex_oid(h);
        } else if let Some(h) = line.strip_prefix(b"parent ") {
            if parent.is_none() {
                parent = hex_oid(h);
            }
        } else if let Some(c) = line.strip_prefix(b"committer ").filter(|_| want_time) {
            // "... <email> 1700000000 +0000"
            let text = String::from_utf8_lossy(c);
            let mut parts = text.rsplitn(3, ' ');
            let _tz = parts.next();
            time = parts.next().and_then(|t| t.parse().ok()).unwrap_or(0);
        }
    }
    Some((tree?, parent, time))
}

/// The object id written as 40 hexadecimal digits (`None` for anything
/// else). Read for every commit of the chain: libgit2's parser, which also
/// takes shorter prefixes, cost a twentieth of reading the chain.
fn hex_oid(h: &[u8]) -> Option<Oid> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    if h.len() != 40 {
        return None;
    }
    let mut raw = [0u8; 20];
    for (b, pair) in raw.iter_mut().zip(h.chunks_exact(2)) {
        *b = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Oid::from_bytes(&raw).ok()
}

/// One commit of the chain to examine: its id, its tree and its first
/// parent's tree (none for a root or shallow-boundary commit).
#[derive(Clone, Copy)]
struct Link {
    id: Oid,
    tree: Oid,
    parent_tree: Option<Oid>,
}

/// Source questions asked together, by key: paths are answered per
/// directory (the directory's ids are compared once, then each file's entry),
/// the others one by one.
struct Questions {
    keys: Vec<String>,
    queries: Vec<Query>,
    /// The paths, as a tree of names.
    paths: PathNode,
    /// Indices of the other queries.
    others: Vec<usize>,
}

impl Questions {
    /// The questions of `sources` (deduplicated by key; sources that are
    /// not context paths are left out).
    fn new<'a>(sources: impl IntoIterator<Item = &'a str>) -> Questions {
        let mut q = Questions {
            keys: Vec::new(),
            queries: Vec::new(),
            paths: PathNode::default(),
            others: Vec::new(),
        };
        for s in sources {
            let (Some(key), Some(query)) = (Query::key(s), Query::parse(s)) else {
                continue;
            };
            if q.keys.iter().any(|k| k == key) {
                continue;
            }
            let k = q.queries.len();
            if let Query::Path(comps) = &query
                && let Some((name, dir)) = comps.split_last()
            {
                let mut node = &mut q.paths;
                for c in dir {
                    let c = c.as_bytes();
                    let at = match node.dirs.iter().position(|(n, _)| n == c) {
                        Some(at) => at,
                        None => {
                            node.dirs.push((c.to_vec(), PathNode::default()));
                            node.dirs.len() - 1
                        }
                    };
                    node = &mut node.dirs[at].1;
                }
                node.files.push((name.as_bytes().to_vec(), k));
            } else {
                q.others.push(k);
            }
            q.keys.push(key.to_string());
            q.queries.push(query);
        }
        q
    }

    /// Answers every question for commit `c` (context trees `old` → `new`)
    /// into `out[question][c]`.
    fn ask(
        &self,
        trees: &mut TreeCache,
        old: Option<Oid>,
        new: Option<Oid>,
        ignore: Option<&Ignore>,
        c: usize,
        out: &mut [Vec<bool>],
    ) {
        if old == new {
            return;
        }
        let mut set = |k: usize, v: bool| {
            if let Some(slot) = out.get_mut(k).and_then(|o| o.get_mut(c)) {
                *slot = v;
            }
        };
        for &k in &self.others {
            set(k, trees.query_changed(old, new, &self.queries[k], ignore));
        }
        let mut walk = PathWalk {
            trees,
            questions: self,
            ctx: (old, new),
            ignore,
            c,
            out,
        };
        walk.node(&self.paths, old, new, &mut String::new());
    }

    /// [`Questions::ask`] with the differing entries of the context's top
    /// directory already known (`top`): its trees are not read for the
    /// path questions.
    fn ask_top<'e>(
        &self,
        trees: &mut TreeCache,
        (old, new): (Option<Oid>, Option<Oid>),
        top: impl Iterator<Item = (&'e [u8], Option<Found>, Option<Found>)>,
        ignore: Option<&Ignore>,
        c: usize,
        out: &mut [Vec<bool>],
    ) {
        if old == new {
            return;
        }
        for &k in &self.others {
            let v = trees.query_changed(old, new, &self.queries[k], ignore);
            if let Some(slot) = out.get_mut(k).and_then(|o| o.get_mut(c)) {
                *slot = v;
            }
        }
        let mut walk = PathWalk {
            trees,
            questions: self,
            ctx: (old, new),
            ignore,
            c,
            out,
        };
        walk.top(top);
    }
}

/// Path questions below one directory: files of it asked about, and
/// subdirectories holding more.
#[derive(Default)]
struct PathNode {
    files: Vec<(Vec<u8>, usize)>,
    dirs: Vec<(Vec<u8>, PathNode)>,
}

/// Answers path questions by walking the question tree and the two trees
/// side by side: only the entries that differ are looked at (a directory
/// whose ids agree answers every question below it at once).
struct PathWalk<'q, 't, 'o> {
    trees: &'t mut TreeCache,
    questions: &'q Questions,
    ctx: (Option<Oid>, Option<Oid>),
    ignore: Option<&'q Ignore>,
    c: usize,
    out: &'o mut [Vec<bool>],
}

impl PathWalk<'_, '_, '_> {
    fn node(&mut self, node: &PathNode, old: Option<Oid>, new: Option<Oid>, path: &mut String) {
        if old == new {
            return;
        }
        let ot = self.trees.tree(old);
        let nt = self.trees.tree(new);
        if node.files.len() + node.dirs.len() <= Self::FEW {
            // A few names: looked up, not merged over every entry.
            let names = node
                .files
                .iter()
                .map(|f| &f.0)
                .chain(node.dirs.iter().map(|d| &d.0));
            for name in names {
                let oe = ot.as_ref().and_then(|t| t.find(name)).map(|e| e.found());
                let ne = nt.as_ref().and_then(|t| t.find(name)).map(|e| e.found());
                if oe != ne {
                    self.differs(node, name, oe, ne, path);
                }
            }
            return;
        }
        merge_entries(ot.as_deref(), nt.as_deref(), |name, oe, ne| {
            self.differs(node, name, oe, ne, path);
            false
        });
    }

    /// The questions of the context's top directory, from the entries
    /// recorded as differing there (the same calls as [`PathWalk::node`]
    /// makes when it merges the two trees).
    fn top<'e>(&mut self, entries: impl Iterator<Item = (&'e [u8], Option<Found>, Option<Found>)>) {
        let node = &self.questions.paths;
        let mut path = String::new();
        for (name, oe, ne) in entries {
            self.differs(node, name, oe, ne, &mut path);
        }
    }

    /// Names looked up rather than merged when a directory has this many
    /// questions or fewer.
    const FEW: usize = 4;

    /// The entry `name` differs (`oe` before, `ne` after).
    fn differs(
        &mut self,
        node: &PathNode,
        name: &[u8],
        oe: Option<Found>,
        ne: Option<Found>,
        path: &mut String,
    ) {
        let file = node.files.iter().find(|(n, _)| n == name).map(|f| f.1);
        let dir = node.dirs.iter().find(|(n, _)| n == name).map(|d| &d.1);
        if file.is_none() && dir.is_none() {
            return;
        }
        let len = push_name(path, name);
        if let Some(k) = file {
            let v = if oe.is_some_and(|e| e.tree) || ne.is_some_and(|e| e.tree) {
                // A directory on either side: what below it changed.
                let (o, n) = self.ctx;
                self.trees
                    .query_changed(o, n, &self.questions.queries[k], self.ignore)
            } else {
                self.ignore.is_none_or(|ig| !ig.excludes(path))
            };
            // A name can be met twice (a file on one side, a directory
            // on the other): either meeting may say "changed".
            if let Some(slot) = self.out.get_mut(k).and_then(|o| o.get_mut(self.c)) {
                *slot |= v;
            }
        }
        if let Some(d) = dir {
            let sub = |e: Option<Found>| e.filter(|e| e.tree).map(|e| e.id);
            self.node(d, sub(oe), sub(ne), path);
        }
        path.truncate(len);
    }
}

/// Per walked commit, the entries of the context's top directory that
/// differ between the parent and the commit (as a merge of the two trees
/// meets them: a name that is a file on one side and a directory on the
/// other is two entries). Recorded during the walk, from trees it reads
/// anyway, so that a later pass answers path questions without reading
/// the context's top trees again: only the directories they name, and
/// only in the commits that changed them.
#[derive(Default)]
struct TopChanges {
    names: Vec<Box<[u8]>>,
    name_ids: PathMap<Box<[u8]>, u32>,
    /// (name, old entry, new entry).
    entries: Vec<(u32, Option<Found>, Option<Found>)>,
    /// Per commit, where its entries start (one more at the end).
    start: Vec<u32>,
}

impl TopChanges {
    fn new(n: usize) -> TopChanges {
        let mut start = Vec::with_capacity(n + 1);
        start.push(0);
        TopChanges {
            start,
            ..TopChanges::default()
        }
    }

    /// Records the next commit (context trees `old` → `new`).
    fn record(&mut self, trees: &mut TreeCache, old: Option<Oid>, new: Option<Oid>) {
        if old != new {
            let ot = trees.tree(old);
            let nt = trees.tree(new);
            merge_entries(ot.as_deref(), nt.as_deref(), |name, oe, ne| {
                let id = match self.name_ids.get(name) {
                    Some(&id) => id,
                    None => {
                        let id = self.names.len() as u32;
                        self.names.push(name.into());
                        self.name_ids.insert(name.into(), id);
                        id
                    }
                };
                self.entries.push((id, oe, ne));
                false
            });
        }
        self.start.push(self.entries.len() as u32);
    }

    /// The entries recorded for commit `c`, with their names.
    fn of(&self, c: usize) -> impl Iterator<Item = (&[u8], Option<Found>, Option<Found>)> {
        let (a, b) = (
            self.start.get(c).copied().unwrap_or(0) as usize,
            self.start.get(c + 1).copied().unwrap_or(0) as usize,
        );
        self.entries
            .get(a..b)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&(id, oe, ne)| Some((&**self.names.get(id as usize)?, oe, ne)))
    }
}

/// Calls `differs(name, old entry, new entry)` for each entry that differs
/// between two trees, in git's order, until it returns true; returns
/// whether it did. The entries both trees begin or end
/// with, byte for byte, are skipped at once: in trees in git's order (as
/// git writes them) they pair with each other and do not differ.
fn merge_entries(
    ot: Option<&RawTree>,
    nt: Option<&RawTree>,
    mut differs: impl FnMut(&[u8], Option<Found>, Option<Found>) -> bool,
) -> bool {
    use std::cmp::Ordering;
    let (olen, nlen) = (ot.map_or(0, RawTree::len), nt.map_or(0, RawTree::len));
    let (lo, hi) = match (ot, nt) {
        (Some(o), Some(n)) => {
            let lo = o.same_prefix(n);
            (lo, o.same_suffix(n, lo))
        }
        _ => (0, 0),
    };
    let (oend, nend) = (olen - hi, nlen - hi);
    let (mut i, mut j) = (lo, lo);
    loop {
        let a = ot.filter(|_| i < oend).and_then(|t| t.entry(i));
        let b = nt.filter(|_| j < nend).and_then(|t| t.entry(j));
        let ord = match (&a, &b) {
            (None, None) => break,
            (Some(a), Some(b)) => git_order(a.name, a.is_tree(), b.name, b.is_tree()),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
        };
        let stop = match (ord, a, b) {
            (Ordering::Less, Some(a), _) => {
                i += 1;
                differs(a.name, Some(a.found()), None)
            }
            (Ordering::Greater, _, Some(b)) => {
                j += 1;
                differs(b.name, None, Some(b.found()))
            }
            (Ordering::Equal, Some(a), Some(b)) => {
                i += 1;
                j += 1;
                !a.same(&b) && differs(b.name, Some(a.found()), Some(b.found()))
            }
            _ => break,
        };
        if stop {
            return true;
        }
    }
    false
}

/// What a walk learnt about one context, kept to answer later questions:
/// per commit the context trees (parent, commit) when they differ, and the
/// `.dockerignore` in force.
struct Changes {
    /// The walk's objects (its pack maps and object database).
    store: Arc<Store>,
    stall: Duration,
    /// Per commit: (parent's context tree, commit's context tree), `None`
    /// when the context did not change.
    trees: Vec<Option<(Option<Oid>, Option<Oid>)>>,
    /// Per commit: index into `ignores`.
    ignore_of: Vec<Option<u32>>,
    ignores: Vec<Arc<Ignore>>,
    top: TopChanges,
    /// Answers so far, by source text.
    answers: Mutex<HashMap<String, Arc<Vec<bool>>>>,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("commits", &self.trees.len())
            .finish_non_exhaustive()
    }
}

impl Changes {
    fn answer(self: &Arc<Self>, sources: &[&str]) -> Vec<Arc<Vec<bool>>> {
        let never = || Arc::new(vec![false; self.trees.len()]);
        let missing: Vec<String> = {
            let known = self.answers.lock().map(|a| a.clone()).unwrap_or_default();
            let mut m: Vec<String> = Vec::new();
            for s in sources {
                if let Some(key) = Query::key(s)
                    && !known.contains_key(key)
                    && !m.iter().any(|x| Query::key(x) == Some(key))
                {
                    m.push((*s).to_string());
                }
            }
            m
        };
        if !missing.is_empty() {
            let (keys, computed) = self.compute(&missing);
            if let Ok(mut a) = self.answers.lock() {
                for (k, v) in keys.into_iter().zip(computed) {
                    a.insert(k, Arc::new(v));
                }
            }
        }
        let known = self.answers.lock().map(|a| a.clone()).unwrap_or_default();
        sources
            .iter()
            .map(|s| {
                Query::key(s)
                    .and_then(|k| known.get(k).cloned())
                    .unwrap_or_else(never)
            })
            .collect()
    }

    /// One pass over the commits whose context changed, on a worker
    /// thread (a pass that stalls answers "unchanged").
    fn compute(self: &Arc<Self>, sources: &[String]) -> (Vec<String>, Vec<Vec<bool>>) {
        let n = self.trees.len();
        let questions = Questions::new(sources.iter().map(String::as_str));
        let keys = questions.keys.clone();
        let fallback = || {
            let v = keys.iter().map(|_| vec![false; n]).collect();
            (keys.clone(), v)
        };
        let me = Arc::clone(self);
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("history pass".into())
            .spawn(move || {
                let out = me.pass(&questions, &tx);
                let _ = tx.send(Some(out));
            });
        if spawned.is_err() {
            return fallback();
        }
        loop {
            match rx.recv_timeout(self.stall) {
                Ok(Some(out)) => return (keys, out),
                Ok(None) => {}
                Err(_) => return fallback(),
            }
        }
    }

    fn pass(
        &self,
        questions: &Questions,
        alive: &mpsc::Sender<Option<Vec<Vec<bool>>>>,
    ) -> Vec<Vec<bool>> {
        let n = self.trees.len();
        let mut out: Vec<Vec<bool>> = questions.keys.iter().map(|_| vec![false; n]).collect();
        let mut trees = TreeCache::new(Objects::new(&self.store));
        for (c, t) in self.trees.iter().enumerate() {
            let Some((old, new)) = *t else { continue };
            if c.is_multiple_of(256) {
                let _ = alive.send(None);
            }
            let ig = self
                .ignore_of
                .get(c)
                .copied()
                .flatten()
                .and_then(|i| self.ignores.get(i as usize))
                .map(|i| &**i);
            questions.ask_top(&mut trees, (old, new), self.top.of(c), ig, c, &mut out);
        }
        out
    }
}

/// One context being walked.
struct TargetWalk {
    ctx: String,
    df: String,
    df_in_ctx: bool,
    ignore_paths: [String; 2],
    questions: Questions,
    answers: Vec<Vec<bool>>,
    trees: Vec<Option<(Option<Oid>, Option<Oid>)>>,
    ignore_of: Vec<Option<u32>>,
    ignores: Vec<Arc<Ignore>>,
    top: TopChanges,
    commits: Vec<CommitChanges>,
    cache: Cache,
    /// (commit, old, new) where the Dockerfile changed.
    df_changes: Vec<(usize, Option<Oid>, Option<Oid>)>,
    /// The Dockerfile at the first walked commit (`HEAD`).
    head_df: Option<Oid>,
}

impl TargetWalk {
    /// `more`: sources to answer besides the Dockerfile's own (those a
    /// later question is likely to ask).
    fn new(t: Resolved, more: &[String], n: usize) -> TargetWalk {
        // A .dockerignore named after the Dockerfile takes precedence.
        let df_name = t.df.rsplit('/').next().unwrap_or(&t.df).to_string();
        let df_dir = t.df.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        let ignore_paths = [
            join(&df_dir, &format!("{df_name}.dockerignore")),
            join(&t.ctx, ".dockerignore"),
        ];
        let df_in_ctx = t.ctx.is_empty() || t.df.starts_with(&format!("{}/", t.ctx));
        TargetWalk {
            questions: Questions::new(t.sources.iter().chain(more).map(String::as_str)),
            answers: Vec::new(),
            ctx: t.ctx,
            df: t.df,
            df_in_ctx,
            ignore_paths,
            trees: Vec::with_capacity(n),
            ignore_of: Vec::with_capacity(n),
            ignores: Vec::new(),
            top: TopChanges::new(n),
            commits: Vec::with_capacity(n),
            df_changes: Vec::new(),
            head_df: None,
            cache: Cache {
                ignores: HashMap::new(),
                notes: Vec::new(),
            },
        }
    }

    /// Examines one commit.
    fn step(&mut self, trees: &mut TreeCache, parser: &mut Parser, link: &Link, paths: bool) {
        let c = self.commits.len();
        for a in &mut self.answers {
            a.push(false);
        }
        let root = Some(link.tree);
        let parent_root = link.parent_tree;
        let mut change = CommitChanges {
            id: link.id.to_string(),
            ..CommitChanges::default()
        };
        let new_ctx = trees.lookup(root, &self.ctx);
        let old_ctx = trees.lookup(parent_root, &self.ctx);
        let mut ig_index = None;
        if new_ctx != old_ctx {
            let ig_oid = self.ignore_paths.iter().find_map(|p| trees.lookup(root, p));
            if let Some(oid) = ig_oid {
                ig_index = Some(match self.cache.ignores.get(&oid) {
                    Some(&i) => i,
                    None => {
                        let ig = blob_text(trees, oid, ".dockerignore", &mut self.cache.notes)
                            .map(|t| Ignore::parse(&t))
                            .unwrap_or_else(|| Ignore::parse(""));
                        let i = self.ignores.len() as u32;
                        self.ignores.push(Arc::new(ig));
                        self.cache.ignores.insert(oid, i);
                        i
                    }
                });
            }
            let ignore = ig_index.and_then(|i| self.ignores.get(i as usize)).cloned();
            self.questions.ask(
                trees,
                old_ctx,
                new_ctx,
                ignore.as_deref(),
                c,
                &mut self.answers,
            );
            if paths {
                let mut changed = Vec::new();
                trees.diff(old_ctx, new_ctx, &mut changed);
                for p in changed {
                    if ignore.as_ref().is_some_and(|i| i.excludes(&p)) {
                        continue;
                    }
                    if !change.files.contains(&p) {
                        change.files.push(p);
                    }
                }
            }
            self.trees.push(Some((old_ctx, new_ctx)));
        } else {
            self.trees.push(None);
        }
        self.top.record(trees, old_ctx, new_ctx);
        self.ignore_of.push(ig_index);
        // Dockerfile edits (when the Dockerfile lives in the context and
        // the context did not change, neither did the Dockerfile).
        let (new_df, old_df) = if self.df_in_ctx && new_ctx == old_ctx {
            (None, None)
        } else {
            (
                trees.lookup(root, &self.df),
                trees.lookup(parent_root, &self.df),
            )
        };
        if c == 0 {
            self.head_df = trees.lookup(root, &self.df);
            if let Some(oid) = self.head_df {
                parser.request(trees, oid, &mut self.cache.notes);
            }
        }
        if new_df != old_df {
            for oid in [new_df, old_df].into_iter().flatten() {
                parser.request(trees, oid, &mut self.cache.notes);
            }
            self.df_changes.push((c, old_df, new_df));
        }
        self.commits.push(change);
    }

    /// Fills in the Dockerfile edits once every version is parsed.
    fn edits(&mut self, parsed: &HashMap<Oid, Version>) {
        let none = Version::default();
        let text = |oid: Option<Oid>| oid.and_then(|o| parsed.get(&o)).unwrap_or(&none);
        let head = text(self.head_df);
        let head_rest = &head.texts[head.globals..];
        for &(c, old_df, new_df) in &self.df_changes {
            let Some(change) = self.commits.get_mut(c) else {
                continue;
            };
            let (new_v, old_v) = (text(new_df), text(old_df));
            // What comes before the first `FROM` is not part of any stage:
            // it is compared on its own (see `global_changes`), and the
            // positions of the stages' edits are counted from HEAD's first
            // `FROM`.
            let (new_i, old_i) = (&new_v.texts[new_v.globals..], &old_v.texts[old_v.globals..]);
            let rest_edit = new_i
                .iter()
                .zip(old_i)
                .position(|(a, b)| a != b)
                .or_else(|| (new_i.len() != old_i.len()).then(|| new_i.len().min(old_i.len())));
            change.first_edit = rest_edit.map(|i| head.globals + i);
            change.first_edit_at = rest_edit.and_then(|i| {
                let i = i.min(head_rest.len().checked_sub(1)?);
                let t = head_rest.get(i)?;
                let rank = head.texts[..head.globals + i]
                    .iter()
                    .filter(|h| *h == t)
                    .count();
                Some((t.clone(), rank))
            });
            let mut pool = old_i.to_vec();
            for t in new_i {
                if let Some(k) = pool.iter().position(|o| o == t) {
                    pool.swap_remove(k);
                } else {
                    change.edited.push(t.clone());
                }
            }
            let (args, whole) = global_changes(old_v, new_v);
            change.global_args = args;
            change.whole_file = whole;
        }
    }
}

/// One version of the Dockerfile, as the edits need it: its instruction
/// texts (trimmed), how many of them come before the first `FROM`, and
/// its `syntax` and `escape` parser directives.
#[derive(Debug, Clone, Default)]
struct Version {
    texts: Vec<String>,
    globals: usize,
    directives: Vec<String>,
}

/// The names an `ARG` instruction's text declares without a default of
/// its own (`B` in `ARG A=1 B`), or none when it is not an `ARG`: in a
/// stage, only those take the global `ARG`'s default (a stage's `ARG
/// A=1` is `1` whatever the global `ARG A=` says, unless a build argument
/// is given). A quoted value with spaces adds names no stage declares.
pub fn arg_names_without_default(text: &str) -> Option<Vec<String>> {
    Some(
        arg_words(text)?
            .filter(|w| !w.contains('='))
            .map(str::to_string)
            .collect(),
    )
}

/// The names an `ARG` instruction's text declares (`ARG A=1 B`), or none
/// when it is not an `ARG`. Every word's part before `=` counts: a quoted
/// value with spaces adds names no stage declares, which is harmless.
pub fn arg_names(text: &str) -> Option<Vec<String>> {
    Some(
        arg_words(text)?
            .map(|w| w.split('=').next().unwrap_or(w).to_string())
            .filter(|n| !n.is_empty())
            .collect(),
    )
}

/// The words after `ARG` in an instruction's text, or none when it is not
/// an `ARG`.
fn arg_words(text: &str) -> Option<std::str::SplitWhitespace<'_>> {
    let mut words = text.split_whitespace();
    words.next()?.eq_ignore_ascii_case("ARG").then_some(words)
}

/// Whether `text` may expand the variable `name` (`$name`, `${name…}`;
/// a longer name that starts with it counts too).
pub fn uses_var(text: &str, name: &str) -> bool {
    text.contains(&format!("${name}")) || text.contains(&format!("${{{name}"))
}

/// What changed before the first `FROM` between two versions: the global
/// `ARG` names whose declaration changed (with the global `ARG`s whose
/// defaults use them, in either version), and whether anything there may
/// change every stage (see [`CommitChanges::whole_file`]).
fn global_changes(old: &Version, new: &Version) -> (Vec<String>, bool) {
    let (old_g, new_g) = (&old.texts[..old.globals], &new.texts[..new.globals]);
    let mut whole = old.directives != new.directives;
    let mut names: Vec<String> = Vec::new();
    let mut pool = old_g.to_vec();
    let mut changed = Vec::new();
    for t in new_g {
        if let Some(k) = pool.iter().position(|o| o == t) {
            pool.swap_remove(k);
        } else {
            changed.push(t);
        }
    }
    changed.extend(pool.iter());
    for t in changed {
        match arg_names(t) {
            Some(ns) => {
                for n in ns {
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
            }
            None => whole = true,
        }
    }
    // A global `ARG B=${A}` changes with `A`.
    loop {
        let mut more = false;
        for t in old_g.iter().chain(new_g) {
            let Some(ns) = arg_names(t) else { continue };
            if names.iter().any(|n| uses_var(t, n)) {
                for n in ns {
                    if !names.contains(&n) {
                        names.push(n);
                        more = true;
                    }
                }
            }
        }
        if !more {
            break;
        }
    }
    (names, whole)
}

/// Parses the Dockerfile versions the walk meets on a thread of its own
/// (parsing costs as much as reading the trees, and the walk itself is
/// one thread: libgit2 serialises the pack reads).
struct Parser {
    tx: Option<mpsc::Sender<(Oid, String)>>,
    handle: Option<std::thread::JoinHandle<HashMap<Oid, Version>>>,
    /// Versions sent (and their texts, when the thread could not start).
    sent: HashMap<Oid, Option<String>>,
    /// Versions whose blob is missing, with the note said about them.
    missing: HashMap<Oid, String>,
}

fn instructions(text: &str, cache: &mut syntax::LineCache) -> Version {
    let parse = syntax::parse_with(text, cache);
    let texts: Vec<String> = parse
        .instructions()
        .map(|(_, i)| i.original.trim().to_string())
        .collect();
    let globals = parse
        .instructions()
        .position(|(_, i)| i.node.kind == syntax::Kind::From)
        .unwrap_or(texts.len());
    let directives = parse
        .directives
        .iter()
        .filter(|d| d.name == "syntax" || d.name == "escape")
        .map(|d| format!("{}={}", d.name, d.value.trim()))
        .collect();
    Version {
        texts,
        globals,
        directives,
    }
}

impl Parser {
    fn start() -> Parser {
        let (tx, rx) = mpsc::channel::<(Oid, String)>();
        let handle = std::thread::Builder::new()
            .name("dockerfile versions".into())
            .spawn(move || {
                let mut cache = syntax::LineCache::default();
                rx.into_iter()
                    .map(|(oid, text)| (oid, instructions(&text, &mut cache)))
                    .collect()
            })
            .ok();
        Parser {
            tx: handle.is_some().then_some(tx),
            handle,
            sent: HashMap::new(),
            missing: HashMap::new(),
        }
    }

    fn request(&mut self, trees: &mut TreeCache, oid: Oid, notes: &mut Vec<String>) {
        if let Some(note) = self.missing.get(&oid) {
            if !notes.contains(note) {
                notes.push(note.clone());
            }
            return;
        }
        if self.sent.contains_key(&oid) {
            return;
        }
        let mut mine = Vec::new();
        let Some(text) = blob_text(trees, oid, "Dockerfile", &mut mine) else {
            for n in mine {
                if !notes.contains(&n) {
                    notes.push(n.clone());
                }
                self.missing.insert(oid, n);
            }
            return;
        };
        let kept = match &self.tx {
            Some(tx) => tx.send((oid, text)).err().map(|e| e.0.1),
            None => Some(text),
        };
        self.sent.insert(oid, kept);
    }

    /// Every version's instruction texts.
    fn finish(mut self) -> HashMap<Oid, Version> {
        self.tx = None;
        let mut parsed = self
            .handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let mut cache = syntax::LineCache::default();
        for (oid, text) in self.sent {
            // Not parsed by the thread (it could not start or stopped).
            parsed.entry(oid).or_insert_with(|| {
                text.map(|t| instructions(&t, &mut cache))
                    .unwrap_or_default()
            });
        }
        parsed
    }
}

/// Sources a later question is likely to ask, answered during the walk:
/// the whole context (the rewrite compares every result with it) and the
/// dependency manifests at the context's root at HEAD (what a hoist copies
/// first; answered from the top trees the walk reads anyway). Deeper ones
/// are left to a later pass, which reads only their directories, only in
/// the commits that changed them ([`TopChanges`]): answering them in the
/// walk read those trees whether the planner asked or not (on typst,
/// restic, etherpad-lite and php-cs-fixer a run costs 4–6 % fewer
/// instructions without them; jspwiki's reactor, which asks for all its
/// POMs, 2 % more).
fn likely_questions(trees: &mut TreeCache, head_tree: Oid, ctx: &str) -> Vec<String> {
    const DEPTH: usize = 1;
    const MAX: usize = 48;
    let mut out = vec![".".to_string()];
    let mut level = vec![(String::new(), trees.lookup(Some(head_tree), ctx))];
    for _ in 0..DEPTH {
        let mut next = Vec::new();
        for (dir, oid) in level {
            let Some(t) = trees.tree(oid) else { continue };
            for e in (0..t.len()).filter_map(|k| t.entry(k)) {
                let mut path = dir.clone();
                push_name(&mut path, e.name);
                if e.is_tree() {
                    if e.name != b"node_modules" && e.name != b"vendor" && !e.name.starts_with(b".")
                    {
                        next.push((path, Some(e.id())));
                    }
                } else if crate::plan::is_manifest_name(&path) && out.len() < MAX {
                    out.push(path);
                }
            }
        }
        level = next;
    }
    out
}

/// What a walk starts from, read on the caller's thread from the
/// repository it has open.
struct Start {
    git_dir: PathBuf,
    commondir: PathBuf,
    /// The commit `HEAD` names, when it names one directly (else the walk
    /// asks libgit2, which also says why there is none).
    head: Option<Oid>,
    shallow: bool,
}

/// The `HEAD` commit and its tree, read as the chain reads commits; `None`
/// when `head` is not a commit this reader can read (libgit2 then decides).
fn head_commit(objects: &mut Objects, head: Oid) -> Option<(Oid, Oid)> {
    let raw = objects.commit_header(head, false).ok()?;
    let (tree, _, _) = parse_commit(&raw, false)?;
    Some((head, tree))
}

/// Reads the commit chain and examines every commit for every target.
fn walk_repo(
    start: &Start,
    targets: Vec<Resolved>,
    opts: &WalkOptions,
    tx: &mpsc::Sender<Msg>,
) -> Result<Vec<Result<History, NoHistory>>, NoHistory> {
    let store = Arc::new(Store::open(&start.commondir));
    let mut objects = Objects::new(&store);
    let (head, head_tree) = match start.head.and_then(|h| head_commit(&mut objects, h)) {
        Some(found) => found,
        None => {
            let (_, head, tree, _) = open_at_head(&start.git_dir)?;
            (head, tree)
        }
    };
    let shallow = start.shallow;
    // The chain on a thread of its own, while this one examines the
    // commits it has read.
    let chain_start = ChainStart {
        git_dir: start.git_dir.clone(),
        store: Arc::clone(&store),
        head,
        shallow,
        boundary: if shallow {
            shallow_boundary(&start.commondir)
        } else {
            Default::default()
        },
    };
    let (links, reader) = spawn_chain(chain_start, opts, tx);
    let mut targets = targets;
    for t in &mut targets {
        t.sources = std::fs::read_to_string(&t.path)
            .map(|text| context_sources(&text))
            .unwrap_or_default();
    }
    // What changed in each commit, for every target at once, sharing the
    // tree cache, while the other thread reads the commits ahead.
    let mut trees = TreeCache::new(objects);
    let mut walks: Vec<TargetWalk> = targets
        .into_iter()
        .map(|t| {
            let more = likely_questions(&mut trees, head_tree, &t.ctx);
            let mut w = TargetWalk::new(t, &more, 0);
            w.answers = w.questions.keys.iter().map(|_| Vec::new()).collect();
            w
        })
        .collect();
    let mut parser = Parser::start();
    let mut n = 0;
    for link in links.iter().flatten() {
        for w in &mut walks {
            w.step(&mut trees, &mut parser, &link, opts.paths);
        }
        n += 1;
        if n % 64 == 0 {
            let _ = tx.send(Msg::Examined(n as u64));
        }
    }
    let (end, bad) = reader.join()?;
    store.release();
    let parsed = parser.finish();
    for w in &mut walks {
        w.edits(&parsed);
    }
    let _ = tx.send(Msg::Examined(n as u64));
    static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let stall = opts.stall.unwrap_or(DEFAULT_STALL);
    Ok(walks
        .into_iter()
        .map(|w| {
            let mut notes = Vec::new();
            for note in w.cache.notes {
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            if let Some(msg) = &bad {
                notes.push(msg.clone());
            }
            if end == WalkEnd::Shallow {
                notes.push(
                    "shallow clone: only the commits present were walked; the boundary commit, whose parent is missing, is not counted"
                        .into(),
                );
            }
            let answers = w
                .questions
                .keys
                .into_iter()
                .zip(w.answers)
                .map(|(s, a)| (s, Arc::new(a)))
                .collect();
            Ok(History {
                id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                commits: w.commits,
                first_parent: !opts.all_parents,
                end,
                notes,
                changes: Arc::new(Changes {
                    store: Arc::clone(&store),
                    stall,
                    trees: w.trees,
                    ignore_of: w.ignore_of,
                    ignores: w.ignores,
                    top: w.top,
                    answers: Mutex::new(answers),
                }),
            })
        })
        .collect())
}

/// The repository, its `HEAD` commit, and whether it is a shallow clone.
fn open_at_head(git_dir: &Path) -> Result<(Repository, Oid, Oid, bool), NoHistory> {
    let repo = Repository::open(git_dir)
        .map_err(|e| NoHistory::Unreadable(format!("cannot open the repository: {e}")))?;
    let (head, tree) = {
        let head = repo.head().map_err(|_| NoHistory::NoCommits)?;
        let commit = head
            .peel_to_commit()
            .map_err(|_| NoHistory::HeadNotACommit)?;
        (commit.id(), commit.tree_id())
    };
    let shallow = repo.is_shallow();
    Ok((repo, head, tree, shallow))
}

/// Where the commit chain is read: on its own thread, or (when no thread
/// can be started) already read in place.
enum ChainReader {
    Thread(std::thread::JoinHandle<ChainEnd>),
    Done(ChainEnd),
}

/// Why the chain ends, and a note when it ends at a damaged commit.
type ChainEnd = Result<(WalkEnd, Option<String>), NoHistory>;

impl ChainReader {
    fn join(self) -> ChainEnd {
        match self {
            ChainReader::Done(end) => end,
            ChainReader::Thread(t) => t.join().unwrap_or_else(|_| {
                Err(NoHistory::Unreadable(
                    "reading the commit chain failed".into(),
                ))
            }),
        }
    }
}

/// Where the chain starts: the repository, its objects (shared with the
/// walk), `HEAD`, and whether the clone is shallow.
struct ChainStart {
    git_dir: PathBuf,
    store: Arc<Store>,
    head: Oid,
    shallow: bool,
    /// A shallow clone's boundary commits (the `shallow` file), whose
    /// parents are not there.
    boundary: std::collections::HashSet<Oid>,
}

/// The commits a shallow clone's `shallow` file lists (its boundary).
fn shallow_boundary(commondir: &Path) -> std::collections::HashSet<Oid> {
    std::fs::read_to_string(commondir.join("shallow"))
        .map(|t| {
            t.lines()
                .filter_map(|l| Oid::from_str(l.trim()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Starts reading the commits to examine, newest first, on a thread with
/// its own reader of the shared objects: inflating commit objects (almost
/// half of a walk) then overlaps examining their trees. The links arrive in
/// batches; the total is sent as [`Msg::Total`] when the chain is read.
fn spawn_chain(
    start: ChainStart,
    opts: &WalkOptions,
    tx: &mpsc::Sender<Msg>,
) -> (mpsc::Receiver<Vec<Link>>, ChainReader) {
    let (out, links) = mpsc::channel();
    let start = Arc::new(start);
    let read = {
        let (start, opts, tx, out) = (Arc::clone(&start), opts.clone(), tx.clone(), out.clone());
        move || send_chain(&start, &opts, &tx, &out)
    };
    match std::thread::Builder::new()
        .name("commit chain".into())
        .spawn(read)
    {
        Ok(t) => (links, ChainReader::Thread(t)),
        Err(_) => {
            // No second thread: read it here, then examine.
            let end = send_chain(&start, opts, tx, &out);
            (links, ChainReader::Done(end))
        }
    }
}

/// Reads the chain and sends its links in batches to `out`.
fn send_chain(
    start: &ChainStart,
    opts: &WalkOptions,
    tx: &mpsc::Sender<Msg>,
    out: &mpsc::Sender<Vec<Link>>,
) -> ChainEnd {
    // The first batch is small: the walk waits for it.
    const FIRST: usize = 8;
    const BATCH: usize = 64;
    let mut batch = Vec::with_capacity(FIRST);
    let mut total = 0u64;
    let end = chain(start, opts, tx, &mut |link| {
        batch.push(link);
        total += 1;
        if batch.len() == BATCH || total == FIRST as u64 {
            let _ = out.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
        }
    });
    if !batch.is_empty() {
        let _ = out.send(batch);
    }
    let _ = tx.send(Msg::Total(total));
    end
}

/// Reads the commits to examine, newest first, handing each to `emit`;
/// returns why the chain ends, and a note when it ends at a damaged commit.
fn chain(
    start: &ChainStart,
    opts: &WalkOptions,
    tx: &mpsc::Sender<Msg>,
    emit: &mut dyn FnMut(Link),
) -> ChainEnd {
    let (head, shallow) = (start.head, start.shallow);
    // A shallow clone whose walk reaches a commit without parents has the
    // whole history (a clone deeper than the history): `ReachedRoot`.
    let mut end = WalkEnd::ReachedRoot;
    let mut bad = None;
    let mut count = 0usize;
    if opts.all_parents {
        let repo = Repository::open(&start.git_dir)
            .map_err(|e| NoHistory::Unreadable(format!("cannot open the repository: {e}")))?;
        let repo = &repo;
        for id in all_ancestors(repo, head)? {
            if opts.max_commits.is_some_and(|m| count >= m) {
                end = WalkEnd::Limit;
                break;
            }
            let Ok(commit) = repo.find_commit(id) else {
                if !shallow {
                    end = WalkEnd::Corrupt;
                    bad = Some(format!(
                        "damaged repository: commit {id} cannot be read; the walk stopped there"
                    ));
                }
                break;
            };
            if opts.since.is_some_and(|s| commit.time().seconds() < s) {
                end = WalkEnd::Since;
                break;
            }
            // A shallow boundary (its parents are cut off: listed in the
            // `shallow` file, or named but missing) is not walked: what it
            // changed is not known.
            let parent_tree = match commit.parent(0) {
                _ if start.boundary.contains(&id) => {
                    end = WalkEnd::Shallow;
                    continue;
                }
                Ok(p) => Some(p.tree_id()),
                Err(_) if commit.parent_count() > 0 => {
                    end = WalkEnd::Shallow;
                    continue;
                }
                Err(_) => None,
            };
            count += 1;
            emit(Link {
                id,
                tree: commit.tree_id(),
                parent_tree,
            });
            if count.is_multiple_of(256) {
                let _ = tx.send(Msg::Alive);
            }
        }
        return Ok((end, bad));
    }
    // The first-parent chain from the commit-graph file where it lists the
    // commit (not in a shallow clone, whose graph may name parents that
    // are not there, nor with `--since`: the graph's times are the
    // committer's only for well-formed commits), else from the raw commit
    // objects: only the tree, parent and committer lines are read.
    let graph = (!shallow && opts.since.is_none())
        .then(|| CommitGraph::open(&start.store.objects_dir))
        .flatten();
    let mut objects = Objects::new(&start.store);
    // The graph must agree with the head's commit object, and a chain read
    // from it cannot take more steps than it lists commits: a damaged graph
    // (review 3: every tree id flipped, or parents in a circle, which made
    // the walk endless) is read as no graph, or ends the walk as damaged.
    let graph = graph.filter(|g| graph_agrees(g, &mut objects, head));
    let mut from_graph = 0usize;
    let mut cur = Some(head);
    let mut pending: Option<(Oid, Oid)> = None; // (id, tree) awaiting its parent's tree
    while let Some(id) = cur.take() {
        let listed = graph
            .as_ref()
            .zip(raw_id(&id))
            .and_then(|(g, raw)| g.commit(raw))
            .and_then(|c| {
                let tree = Oid::from_bytes(&c.tree).ok()?;
                let parent = match c.parent {
                    Some(p) => Some(Oid::from_bytes(&p).ok()?),
                    None => None,
                };
                Some((tree, parent, 0))
            });
        if listed.is_some() {
            from_graph += 1;
            if graph.as_ref().is_some_and(|g| from_graph > g.commits()) {
                end = WalkEnd::Corrupt;
                bad = Some(format!(
                    "damaged repository: the commit-graph's first parents run in a circle at {id}; the walk stopped there"
                ));
                break;
            }
        }
        let read = match listed {
            Some(_) => Ok(Rc::from(&b""[..])),
            None => objects.commit_header(id, opts.since.is_some()),
        };
        let raw = listed.or_else(|| {
            read.as_ref()
                .ok()
                .and_then(|b| parse_commit(b, opts.since.is_some()))
        });
        let Some((tree, parent, time)) = raw else {
            if shallow && read.is_err() {
                // The parent of the previous commit is not here: a
                // shallow boundary. What that commit changed is not known
                // (its diff against nothing would count every instruction
                // as rebuilt): it is not walked.
                end = WalkEnd::Shallow;
                pending = None;
            } else {
                // A full clone lacks it, or it is there but unreadable:
                // what the previous commit changed is not known either,
                // so it is not walked (as a shallow boundary is not).
                end = WalkEnd::Corrupt;
                pending = None;
                let why = match &read {
                    Ok(b) if b.is_empty() => "is empty".to_string(),
                    Ok(_) => "is not a valid commit".to_string(),
                    Err(e) => e.clone(),
                };
                bad = Some(format!(
                    "damaged repository: commit {id} {why}; the walk stopped there, and the commit above it, whose changes are not known, is not counted"
                ));
            }
            break;
        };
        if opts.since.is_some_and(|s| time < s) {
            // The oldest commit kept is diffed against this one, its
            // parent, not against nothing as a root is.
            if let Some((pid, ptree)) = pending.take() {
                emit(Link {
                    id: pid,
                    tree: ptree,
                    parent_tree: Some(tree),
                });
            }
            end = WalkEnd::Since;
            break;
        }
        if let Some((pid, ptree)) = pending.take() {
            count += 1;
            emit(Link {
                id: pid,
                tree: ptree,
                parent_tree: Some(tree),
            });
            if count.is_multiple_of(256) {
                let _ = tx.send(Msg::Alive);
            }
        }
        if opts.max_commits.is_some_and(|m| count >= m) {
            end = WalkEnd::Limit;
            break;
        }
        pending = Some((id, tree));
        cur = parent;
    }
    if let Some((pid, ptree)) = pending.take()
        && opts.max_commits.is_none_or(|m| count < m)
    {
        // The last commit read: a root, or the commit before a damaged
        // one (diffed against nothing; a shallow boundary is not walked).
        emit(Link {
            id: pid,
            tree: ptree,
            parent_tree: None,
        });
    }
    Ok((end, bad))
}

/// Whether the commit-graph gives the head commit the tree and first
/// parent its commit object names (one object read per walk).
fn graph_agrees(g: &CommitGraph, objects: &mut Objects, head: Oid) -> bool {
    let Some(listed) = raw_id(&head).and_then(|raw| g.commit(raw)) else {
        // The head is newer than the graph: its object is read anyway.
        return true;
    };
    let Some((tree, parent, _)) = objects
        .commit_header(head, false)
        .ok()
        .and_then(|b| parse_commit(&b, false))
    else {
        return false;
    };
    tree.as_bytes() == listed.tree.as_slice()
        && parent.map(|p| p.as_bytes().to_vec()) == listed.parent.map(|p| p.to_vec())
}

/// The build context of a Dockerfile from the compose files that name it
/// (`build.context`, `build.dockerfile`), if any does: the first of
/// [`compose_contexts`].
pub fn context_from_compose(repo_root: &Path, dockerfile: &Path) -> Option<PathBuf> {
    compose_contexts(repo_root, dockerfile).into_iter().next()
}

/// The directories compose files are read in for `target` (a
/// canonical Dockerfile path): the root first, then the Dockerfile's
/// directory and its parents below the root.
fn compose_dirs(repo_root: &Path, target: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = vec![repo_root.to_path_buf()];
    if let Ok(root) = std::fs::canonicalize(repo_root) {
        let mut at = target.parent();
        while let Some(d) = at {
            let Ok(rel) = d.strip_prefix(&root) else {
                break;
            };
            if rel.as_os_str().is_empty() {
                break;
            }
            dirs.push(repo_root.join(rel));
            at = d.parent();
        }
    }
    dirs
}

/// (directory, path) of the compose files read in `dirs`.
fn compose_files(dirs: &[PathBuf]) -> impl Iterator<Item = (PathBuf, PathBuf)> + '_ {
    dirs.iter().flat_map(|dir| {
        [
            "compose.yaml",
            "compose.yml",
            "docker-compose.yml",
            "docker-compose.yaml",
        ]
        .map(|name| (dir.clone(), dir.join(name)))
    })
}

/// A compose file [`compose_contexts`] reads but does not follow where it
/// may build `dockerfile` from another context: an `include` (its files
/// name contexts from their own directories), a service's `extends`, or
/// an override file beside it (`compose.override.yaml`, merged by
/// default) that sets a service's `build` (one that sets only ports,
/// volumes or environment, as development overrides do, changes no
/// context) or is not read as YAML. The path of the first, if any.
pub fn compose_unfollowed(repo_root: &Path, dockerfile: &Path) -> Option<PathBuf> {
    let target = std::fs::canonicalize(dockerfile).ok()?;
    let dirs = compose_dirs(repo_root, &target);
    for dir in &dirs {
        for name in [
            "compose.override.yaml",
            "compose.override.yml",
            "docker-compose.override.yml",
            "docker-compose.override.yaml",
        ] {
            let path = dir.join(name);
            if path.exists() && override_may_build(&path) {
                return Some(path);
            }
        }
    }
    for (_, path) in compose_files(&dirs) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
            continue;
        };
        let extends = doc
            .get("services")
            .and_then(|s| s.as_mapping())
            .is_some_and(|m| m.values().any(|svc| svc.get("extends").is_some()));
        if doc.get("include").is_some() || extends {
            return Some(path);
        }
    }
    None
}

/// Whether the compose override file at `path` may change what a service
/// builds: it sets `build` for a service, or it cannot be read as a
/// mapping of services.
fn override_may_build(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
        return true;
    };
    match doc.get("services") {
        None => doc.get("include").is_some(),
        Some(serde_yaml::Value::Mapping(m)) => m.values().any(|svc| {
            !svc.is_mapping() || svc.get("build").is_some() || svc.get("extends").is_some()
        }),
        Some(_) => true,
    }
}

/// Every build context the compose files build `dockerfile` with, in the
/// order they name them, each once (several services may build one
/// Dockerfile, each from its own directory). The compose files are read at
/// the repository root and in every directory from the Dockerfile's up to
/// the root (`deploy/docker-compose.yml` naming `context: ..` and
/// `dockerfile: deploy/api.Dockerfile`): Compose resolves `context`
/// against the compose file's directory and `dockerfile` against the
/// context.
pub fn compose_contexts(repo_root: &Path, dockerfile: &Path) -> Vec<PathBuf> {
    let mut found: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    let Ok(target) = std::fs::canonicalize(dockerfile) else {
        return Vec::new();
    };
    // The root first (as before), then the Dockerfile's directory and its
    // parents below the root.
    let root = std::fs::canonicalize(repo_root).ok();
    let dirs = compose_dirs(repo_root, &target);
    for (base, path) in compose_files(&dirs) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
            continue;
        };
        let Some(services) = doc.get("services").and_then(|s| s.as_mapping()) else {
            continue;
        };
        for (_, svc) in services {
            let Some(build) = svc.get("build") else {
                continue;
            };
            let (ctx, df) = match build {
                serde_yaml::Value::String(s) => (s.clone(), "Dockerfile".to_string()),
                serde_yaml::Value::Mapping(_) => (
                    build
                        .get("context")
                        .and_then(|c| c.as_str())
                        .unwrap_or(".")
                        .to_string(),
                    build
                        .get("dockerfile")
                        .and_then(|c| c.as_str())
                        .unwrap_or("Dockerfile")
                        .to_string(),
                ),
                _ => continue,
            };
            let mut ctx_dir = base.join(&ctx);
            let df_path = ctx_dir.join(&df);
            if std::fs::canonicalize(&df_path).ok().as_ref() == Some(&target) {
                let real = std::fs::canonicalize(&ctx_dir).ok();
                // A compose file below the root names its context from
                // there (`deploy/..`): named from the root instead.
                if base != repo_root
                    && let (Some(r), Some(root)) = (&real, &root)
                    && let Ok(rel) = r.strip_prefix(root)
                {
                    ctx_dir = repo_root.join(rel);
                }
                if !found.iter().any(|(_, r)| r.is_some() && *r == real) {
                    found.push((ctx_dir, real));
                }
            }
        }
    }
    found.into_iter().map(|(dir, _)| dir).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_header_names_its_tree_and_first_parent_by_full_ids() {
        let tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        let p1 = "0123456789abcdef0123456789ABCDEF01234567";
        let p2 = "89abcdef0123456789abcdef0123456789abcdef";
        let raw = format!(
            "tree {tree}\nparent {p1}\nparent {p2}\nauthor A <a@b> 1 +0000\ncommitter C <c@d> 1700000000 +0100\n\nmsg\n"
        );
        let (t, p, time) = parse_commit(raw.as_bytes(), true).expect("a valid commit");
        assert_eq!(t, Oid::from_str(tree).expect("hex"));
        assert_eq!(p, Some(Oid::from_str(p1).expect("hex")));
        assert_eq!(time, 1_700_000_000);
        // A short, long or non-hexadecimal id is no id.
        assert_eq!(hex_oid(&tree.as_bytes()[..39]), None);
        assert_eq!(hex_oid(format!("{tree}0").as_bytes()), None);
        assert_eq!(hex_oid(tree.replace('4', "g").as_bytes()), None);
        assert!(parse_commit(b"tree 4b825dc6\n\n", false).is_none());
    }
}
