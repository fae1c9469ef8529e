//! The repository's history: for each walked commit, which files under the
//! build context changed (after the `.dockerignore` in force at that
//! commit) and which instructions of the Dockerfile it edited.
//!
//! Guarantees: blobs are read only for the Dockerfile and `.dockerignore`
//! (so partial clones work; a missing blob is a message, not a crash); no
//! rename detection; a root commit is diffed against the empty tree; why a
//! walk ended is a [`WalkEnd`]. A small wrapper owns the `Repository` and
//! results are copied into owned structs at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository, Sort};
use serde::Serialize;

use super::context::DockerIgnore;
use crate::syntax;

/// Why the walk stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WalkEnd {
    /// The first commit of the history was reached.
    ReachedRoot,
    /// A shallow clone's boundary was reached.
    Shallow,
    /// `--max-commits` was reached.
    Limit,
    /// `--since` was reached.
    Since,
}

/// What the walk was asked to do.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub max_commits: Option<usize>,
    /// Unix time; commits older than this are not walked.
    pub since: Option<i64>,
    /// Follow every parent (merged branches too), not just the first.
    pub all_parents: bool,
    /// Show progress on stderr (the caller checks it is a terminal).
    pub progress: bool,
}

/// One walked commit.
#[derive(Debug, Clone, Default)]
pub struct CommitChanges {
    pub id: String,
    /// Changed files, relative to the build context, after `.dockerignore`.
    pub files: Vec<String>,
    /// Instruction texts this commit added or changed in the Dockerfile.
    pub edited: Vec<String>,
    /// Index (over all instructions) of the first instruction it edited.
    pub first_edit: Option<usize>,
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
}

impl History {
    pub fn truncated(&self) -> bool {
        matches!(self.end, WalkEnd::Shallow | WalkEnd::Limit | WalkEnd::Since)
    }
}

/// Why no history could be read; the caller falls back to the static
/// estimate and prints this as a one-line message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoHistory(pub String);

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
        let repo = Repository::discover(start)
            .map_err(|_| NoHistory("not in a git repository: using the static estimate".into()))?;
        let root = repo
            .workdir()
            .map(Path::to_path_buf)
            .ok_or_else(|| NoHistory("bare repository: using the static estimate".into()))?;
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
        let ctx_rel = rel_to(&self.root, context).ok_or_else(|| {
            NoHistory(
                "the build context is outside the repository: using the static estimate".into(),
            )
        })?;
        let df_rel = rel_to(&self.root, dockerfile).ok_or_else(|| {
            NoHistory("the Dockerfile is outside the repository: using the static estimate".into())
        })?;
        run_walk(&self.repo, &ctx_rel, &df_rel, opts)
    }
}

struct Cache {
    ignores: HashMap<Oid, DockerIgnore>,
    instructions: HashMap<Oid, Vec<String>>,
    notes: Vec<String>,
}

fn blob_text(repo: &Repository, oid: Oid, what: &str, notes: &mut Vec<String>) -> Option<String> {
    match repo.find_blob(oid) {
        Ok(b) => Some(String::from_utf8_lossy(b.content()).into_owned()),
        Err(_) => {
            let n = format!("{what} blob {oid} is missing (partial clone?): treated as unchanged");
            if !notes.contains(&n) {
                notes.push(n);
            }
            None
        }
    }
}

fn instructions_of(repo: &Repository, oid: Option<Oid>, cache: &mut Cache) -> Vec<String> {
    let Some(oid) = oid else { return Vec::new() };
    if let Some(v) = cache.instructions.get(&oid) {
        return v.clone();
    }
    let v = match blob_text(repo, oid, "Dockerfile", &mut cache.notes) {
        Some(text) => syntax::parse(&text)
            .instructions()
            .map(|(_, i)| i.original.trim().to_string())
            .collect(),
        None => Vec::new(),
    };
    cache.instructions.insert(oid, v.clone());
    v
}

fn ignore_at(repo: &Repository, oid: Option<Oid>, cache: &mut Cache) -> Option<Oid> {
    let oid = oid?;
    if !cache.ignores.contains_key(&oid) {
        let d = blob_text(repo, oid, ".dockerignore", &mut cache.notes)
            .map(|t| DockerIgnore::parse(&t))
            .unwrap_or_default();
        cache.ignores.insert(oid, d);
    }
    Some(oid)
}

/// Every ancestor of `head`, newest first (for `--all-parents`; the
/// first-parent walk follows parents directly and loads nothing ahead).
fn all_ancestors(repo: &Repository, head: Oid) -> Result<Vec<Oid>, NoHistory> {
    let err = |e: git2::Error| NoHistory(format!("cannot walk the history: {e}"));
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
    data: Vec<u8>,
    /// (mode start, name start, name end, id) per entry.
    index: Vec<(u32, u32, u32, Oid)>,
}

/// One entry of a raw tree.
struct RawEntry<'a> {
    name: &'a [u8],
    id: Oid,
    mode: &'a [u8],
}

impl RawEntry<'_> {
    fn is_tree(&self) -> bool {
        self.mode == b"40000"
    }
}

impl RawTree {
    fn parse(data: Vec<u8>) -> RawTree {
        let mut index = Vec::new();
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
            let Some(raw_id) = data.get(name_end + 1..name_end + 21) else {
                break;
            };
            let Ok(id) = Oid::from_bytes(raw_id) else {
                break;
            };
            index.push((i as u32, name_start as u32, name_end as u32, id));
            i = name_end + 21;
        }
        RawTree { data, index }
    }

    fn entry(&self, k: usize) -> Option<RawEntry<'_>> {
        let &(m, ns, ne, id) = self.index.get(k)?;
        Some(RawEntry {
            name: &self.data[ns as usize..ne as usize],
            id,
            mode: &self.data[m as usize..ns as usize - 1],
        })
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    fn find(&self, name: &[u8]) -> Option<Oid> {
        (0..self.len())
            .filter_map(|k| self.entry(k))
            .find(|e| e.name == name)
            .map(|e| e.id)
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

/// Trees read so far (bounded). A first-parent walk reads each commit's
/// trees once and finds its parent's trees here on the next step.
struct TreeCache<'r> {
    odb: Option<git2::Odb<'r>>,
    map: OidMap<std::rc::Rc<RawTree>>,
}

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

impl<'r> TreeCache<'r> {
    const MAX: usize = 4096;

    fn new(repo: &'r Repository) -> Self {
        TreeCache {
            odb: repo.odb().ok(),
            map: OidMap::default(),
        }
    }

    fn tree(&mut self, oid: Option<Oid>) -> Option<std::rc::Rc<RawTree>> {
        let oid = oid?;
        if let Some(t) = self.map.get(&oid) {
            return Some(t.clone());
        }
        if self.map.len() >= Self::MAX {
            self.map.clear();
        }
        let obj = self.odb.as_ref()?.read(oid).ok()?;
        if obj.kind() != git2::ObjectType::Tree {
            return None;
        }
        let t = std::rc::Rc::new(RawTree::parse(obj.data().to_vec()));
        self.map.insert(oid, t.clone());
        Some(t)
    }

    /// The id of `path` below the tree `root` ("" is the root itself).
    fn lookup(&mut self, root: Option<Oid>, path: &str) -> Option<Oid> {
        let mut cur = root?;
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            let t = self.tree(Some(cur))?;
            cur = t.find(comp.as_bytes())?;
        }
        Some(cur)
    }

    /// Every file below a tree (an added or deleted directory).
    fn all_files(&mut self, oid: Oid, prefix: &str, out: &mut Vec<String>) {
        let Some(t) = self.tree(Some(oid)) else {
            return;
        };
        for e in (0..t.len()).filter_map(|k| t.entry(k)) {
            let path = join(prefix, &String::from_utf8_lossy(e.name));
            if e.is_tree() {
                self.all_files(e.id, &path, out);
            } else {
                out.push(path);
            }
        }
    }

    /// Paths (relative to the compared trees) whose content or mode
    /// differs. Only subtrees whose ids differ are read, and no blob is
    /// read at all: like `git log --no-renames --name-only`.
    fn diff(&mut self, old: Option<Oid>, new: Option<Oid>, prefix: &str, out: &mut Vec<String>) {
        if old == new {
            return;
        }
        let empty = std::rc::Rc::new(RawTree::parse(Vec::new()));
        let ot = self.tree(old).unwrap_or_else(|| empty.clone());
        let nt = self.tree(new).unwrap_or(empty);
        let (mut i, mut j) = (0, 0);
        while i < ot.len() || j < nt.len() {
            let (a, b) = (ot.entry(i), nt.entry(j));
            let ord = match (&a, &b) {
                (Some(a), Some(b)) => git_order(a.name, a.is_tree(), b.name, b.is_tree()),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match (ord, a, b) {
                (std::cmp::Ordering::Less, Some(a), _) => {
                    let path = join(prefix, &String::from_utf8_lossy(a.name));
                    if a.is_tree() {
                        self.all_files(a.id, &path, out);
                    } else {
                        out.push(path);
                    }
                    i += 1;
                }
                (std::cmp::Ordering::Greater, _, Some(b)) => {
                    let path = join(prefix, &String::from_utf8_lossy(b.name));
                    if b.is_tree() {
                        self.all_files(b.id, &path, out);
                    } else {
                        out.push(path);
                    }
                    j += 1;
                }
                (std::cmp::Ordering::Equal, Some(a), Some(b)) => {
                    if a.id != b.id || a.mode != b.mode {
                        let path = join(prefix, &String::from_utf8_lossy(b.name));
                        if a.is_tree() && b.is_tree() {
                            self.diff(Some(a.id), Some(b.id), &path, out);
                        } else {
                            out.push(path);
                        }
                    }
                    i += 1;
                    j += 1;
                }
                _ => break,
            }
        }
    }
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
            tree = Oid::from_str(std::str::from_utf8(h).ok()?).ok();
        } else if let Some(h) = line.strip_prefix(b"parent ") {
            if parent.is_none() {
                parent = Oid::from_str(std::str::from_utf8(h).ok()?).ok();
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

/// One commit of the chain to examine: its id, its tree and its first
/// parent's tree (none for a root or shallow-boundary commit).
#[derive(Clone, Copy)]
struct Link {
    id: Oid,
    tree: Oid,
    parent_tree: Option<Oid>,
}

fn run_walk(
    repo: &Repository,
    ctx_rel: &str,
    df_rel: &str,
    opts: &WalkOptions,
) -> Result<History, NoHistory> {
    let head = repo.head().map_err(|_| {
        NoHistory("the repository has no commits yet: using the static estimate".into())
    })?;
    let head = head.peel_to_commit().map_err(|_| {
        NoHistory("HEAD does not point to a commit: using the static estimate".into())
    })?;
    let shallow = repo.is_shallow();
    // Objects are hashed once when written; verifying every read again
    // only costs time on a long walk.
    git2::opts::strict_hash_verification(false);
    // Each object is needed once or twice; a 256 MB cache only costs memory.
    git2::opts::enable_caching(false);
    let progress = if opts.progress {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} walking history: {pos} commits ({per_sec})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        Some(pb)
    } else {
        None
    };
    // 1. The chain of commits (reads commit objects only).
    let mut end = if shallow {
        WalkEnd::Shallow
    } else {
        WalkEnd::ReachedRoot
    };
    let mut links: Vec<Link> = Vec::new();
    if opts.all_parents {
        for id in all_ancestors(repo, head.id())? {
            if opts.max_commits.is_some_and(|m| links.len() >= m) {
                end = WalkEnd::Limit;
                break;
            }
            let Ok(commit) = repo.find_commit(id) else {
                break;
            };
            if opts.since.is_some_and(|s| commit.time().seconds() < s) {
                end = WalkEnd::Since;
                break;
            }
            let parent_tree = match commit.parent(0) {
                Ok(p) => Some(p.tree_id()),
                Err(_) if commit.parent_count() > 0 => {
                    end = WalkEnd::Shallow;
                    None
                }
                Err(_) => None,
            };
            links.push(Link {
                id,
                tree: commit.tree_id(),
                parent_tree,
            });
            if let Some(pb) = &progress {
                pb.inc(1);
            }
        }
    } else {
        // The first-parent chain from raw commit objects: only the tree,
        // parent and committer lines are read.
        let odb = repo
            .odb()
            .map_err(|e| NoHistory(format!("cannot read objects: {e}")))?;
        let mut cur = Some(head.id());
        let mut pending: Option<(Oid, Oid)> = None; // (id, tree) awaiting its parent's tree
        while let Some(id) = cur.take() {
            let raw = odb
                .read(id)
                .ok()
                .and_then(|o| parse_commit(o.data(), opts.since.is_some()));
            let Some((tree, parent, time)) = raw else {
                // The parent of the previous commit is not here: a shallow
                // boundary (or a damaged repository).
                end = WalkEnd::Shallow;
                break;
            };
            if opts.since.is_some_and(|s| time < s) {
                end = WalkEnd::Since;
                break;
            }
            if let Some((pid, ptree)) = pending.take() {
                links.push(Link {
                    id: pid,
                    tree: ptree,
                    parent_tree: Some(tree),
                });
                if let Some(pb) = &progress {
                    pb.inc(1);
                }
            }
            if opts.max_commits.is_some_and(|m| links.len() >= m) {
                end = WalkEnd::Limit;
                break;
            }
            pending = Some((id, tree));
            cur = parent;
        }
        if let Some((pid, ptree)) = pending.take()
            && opts.max_commits.is_none_or(|m| links.len() < m)
        {
            links.push(Link {
                id: pid,
                tree: ptree,
                parent_tree: None,
            });
        }
        if shallow && end == WalkEnd::ReachedRoot {
            end = WalkEnd::Shallow;
        }
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    // 2. What changed in each commit. (One thread: libgit2 serialises
    // reads of a pack file, so more threads only wait on each other.)
    let results = vec![examine(repo, &links, ctx_rel, df_rel)];
    let mut commits = Vec::with_capacity(links.len());
    let mut notes: Vec<String> = Vec::new();
    for (c, n) in results {
        commits.extend(c);
        for note in n {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    if commits.len() != links.len() {
        return Err(NoHistory(
            "the history could not be read completely: using the static estimate".into(),
        ));
    }
    if shallow {
        notes.push("shallow clone: only the commits present were walked".into());
    }
    static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    Ok(History {
        id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        commits,
        first_parent: !opts.all_parents,
        end,
        notes,
    })
}

/// What each commit of `links` changed under the context, and which
/// Dockerfile instructions it edited.
fn examine(
    repo: &Repository,
    links: &[Link],
    ctx_rel: &str,
    df_rel: &str,
) -> (Vec<CommitChanges>, Vec<String>) {
    let mut cache = Cache {
        ignores: HashMap::new(),
        instructions: HashMap::new(),
        notes: Vec::new(),
    };
    // A .dockerignore named after the Dockerfile takes precedence.
    let df_name = df_rel.rsplit('/').next().unwrap_or(df_rel);
    let df_dir = df_rel.rsplit_once('/').map_or("", |(d, _)| d);
    let ignore_paths = [
        join(df_dir, &format!("{df_name}.dockerignore")),
        join(ctx_rel, ".dockerignore"),
    ];
    let mut trees = TreeCache::new(repo);
    let mut out = Vec::with_capacity(links.len());
    let df_in_ctx = ctx_rel.is_empty() || df_rel.starts_with(&format!("{ctx_rel}/"));
    for link in links {
        let root = Some(link.tree);
        let parent_root = link.parent_tree;
        let mut change = CommitChanges {
            id: link.id.to_string(),
            ..CommitChanges::default()
        };
        // Context files: diff only the context subtree, and only when its
        // id changed.
        let new_ctx = trees.lookup(root, ctx_rel);
        let old_ctx = trees.lookup(parent_root, ctx_rel);
        if new_ctx != old_ctx {
            let mut changed = Vec::new();
            trees.diff(old_ctx, new_ctx, "", &mut changed);
            let ig_oid = ignore_paths
                .iter()
                .find_map(|p| trees.lookup(root, p))
                .and_then(|o| ignore_at(repo, Some(o), &mut cache));
            let ignore = ig_oid.and_then(|o| cache.ignores.get(&o));
            for p in changed {
                if ignore.is_some_and(|i| i.excludes(&p)) {
                    continue;
                }
                if !change.files.contains(&p) {
                    change.files.push(p);
                }
            }
        }
        // Dockerfile edits (when the Dockerfile lives in the context and
        // the context did not change, neither did the Dockerfile).
        let (new_df, old_df) = if df_in_ctx && new_ctx == old_ctx {
            (None, None)
        } else {
            (
                trees.lookup(root, df_rel),
                trees.lookup(parent_root, df_rel),
            )
        };
        if new_df != old_df {
            let new_i = instructions_of(repo, new_df, &mut cache);
            let old_i = instructions_of(repo, old_df, &mut cache);
            change.first_edit = new_i
                .iter()
                .zip(&old_i)
                .position(|(a, b)| a != b)
                .or_else(|| (new_i.len() != old_i.len()).then(|| new_i.len().min(old_i.len())));
            let mut pool = old_i.clone();
            for t in &new_i {
                if let Some(k) = pool.iter().position(|o| o == t) {
                    pool.swap_remove(k);
                } else {
                    change.edited.push(t.clone());
                }
            }
        }
        out.push(change);
    }
    (out, cache.notes)
}

/// The build context of a Dockerfile from compose files at the repository
/// root (`build.context`, `build.dockerfile`), if any names it.
pub fn context_from_compose(repo_root: &Path, dockerfile: &Path) -> Option<PathBuf> {
    let target = std::fs::canonicalize(dockerfile).ok()?;
    for name in [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
    ] {
        let path = repo_root.join(name);
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
            let ctx_dir = repo_root.join(&ctx);
            let df_path = ctx_dir.join(&df);
            if std::fs::canonicalize(&df_path).ok().as_ref() == Some(&target) {
                return Some(ctx_dir);
            }
        }
    }
    None
}
