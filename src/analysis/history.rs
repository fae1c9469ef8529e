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

use git2::{DiffOptions, Oid, Repository, Sort, Tree};
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

fn entry_oid(tree: Option<&Tree<'_>>, path: &str) -> Option<Oid> {
    let tree = tree?;
    if path.is_empty() {
        return Some(tree.id());
    }
    tree.get_path(Path::new(path)).ok().map(|e| e.id())
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

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn run_walk(
    repo: &Repository,
    ctx_rel: &str,
    df_rel: &str,
    opts: &WalkOptions,
) -> Result<History, NoHistory> {
    let head = match repo.head() {
        Ok(h) => h,
        Err(_) => {
            return Err(NoHistory(
                "the repository has no commits yet: using the static estimate".into(),
            ));
        }
    };
    let head = head.peel_to_commit().map_err(|_| {
        NoHistory("HEAD does not point to a commit: using the static estimate".into())
    })?;
    let mut walk = repo
        .revwalk()
        .map_err(|e| NoHistory(format!("cannot walk the history: {e}")))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(|e| NoHistory(format!("cannot walk the history: {e}")))?;
    walk.push(head.id())
        .map_err(|e| NoHistory(format!("cannot walk the history: {e}")))?;
    if !opts.all_parents {
        walk.simplify_first_parent()
            .map_err(|e| NoHistory(format!("cannot walk the history: {e}")))?;
    }
    let shallow = repo.is_shallow();
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
    let mut commits = Vec::new();
    let mut end = if shallow {
        WalkEnd::Shallow
    } else {
        WalkEnd::ReachedRoot
    };
    let mut diff_opts = DiffOptions::new();
    diff_opts.skip_binary_check(true).ignore_submodules(true);
    for oid in walk {
        let Ok(oid) = oid else { break };
        if opts.max_commits.is_some_and(|m| commits.len() >= m) {
            end = WalkEnd::Limit;
            break;
        }
        let Ok(commit) = repo.find_commit(oid) else {
            break;
        };
        if opts.since.is_some_and(|s| commit.time().seconds() < s) {
            end = WalkEnd::Since;
            break;
        }
        let tree = commit.tree().ok();
        // In a shallow clone the boundary commits have no parent objects.
        let parent_tree = if commit.parent_count() > 0 {
            match commit.parent(0).and_then(|p| p.tree()) {
                Ok(t) => Some(t),
                Err(_) => {
                    end = WalkEnd::Shallow;
                    None
                }
            }
        } else {
            None
        };
        let mut change = CommitChanges {
            id: oid.to_string(),
            ..CommitChanges::default()
        };
        // Context files: diff only the context subtree, and only when its
        // id changed.
        let new_ctx = entry_oid(tree.as_ref(), ctx_rel);
        let old_ctx = entry_oid(parent_tree.as_ref(), ctx_rel);
        if new_ctx != old_ctx {
            let new_t = new_ctx.and_then(|o| repo.find_tree(o).ok());
            let old_t = old_ctx.and_then(|o| repo.find_tree(o).ok());
            if let Ok(diff) =
                repo.diff_tree_to_tree(old_t.as_ref(), new_t.as_ref(), Some(&mut diff_opts))
            {
                let ig_oid = ignore_paths
                    .iter()
                    .find_map(|p| entry_oid(tree.as_ref(), p))
                    .and_then(|o| ignore_at(repo, Some(o), &mut cache));
                let ignore = ig_oid.and_then(|o| cache.ignores.get(&o));
                for delta in diff.deltas() {
                    for f in [delta.new_file().path(), delta.old_file().path()]
                        .into_iter()
                        .flatten()
                    {
                        let p = f.to_string_lossy().replace('\\', "/");
                        if ignore.is_some_and(|i| i.excludes(&p)) {
                            continue;
                        }
                        if !change.files.contains(&p) {
                            change.files.push(p);
                        }
                    }
                }
            }
        }
        // Dockerfile edits.
        let new_df = entry_oid(tree.as_ref(), df_rel);
        let old_df = entry_oid(parent_tree.as_ref(), df_rel);
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
        commits.push(change);
        if let Some(pb) = &progress {
            pb.inc(1);
        }
        if end == WalkEnd::Shallow && parent_tree.is_none() && commit.parent_count() > 0 {
            break;
        }
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    let mut notes = cache.notes;
    if shallow {
        notes.push("shallow clone: only the commits present were walked".into());
    }
    Ok(History {
        commits,
        first_parent: !opts.all_parents,
        end,
        notes,
    })
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
