//! Bot mode: commit rewritten Dockerfiles onto a branch with git2, without
//! checking it out. The work tree, the index, `HEAD` and the current branch
//! stay as they were; only the rewritten files go into the commit (their
//! committed versions are what gets rewritten, so uncommitted edits never
//! leak in). Reruns on an unchanged repository leave the branch as it is.
//!
//! The bot only moves a branch it owns: one it creates, one whose tip is
//! its own commit (marked by the [`TRAILER`]) on top of an ancestor of
//! `HEAD`, or one that is itself an ancestor of `HEAD` (nothing of its own
//! would be lost). Anything else needs `force`.

use std::path::{Path, PathBuf};

use git2::{FileMode, Oid, Repository, Signature};

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// No file changes: no branch, no commit.
    NothingToCommit,
    /// The branch already holds exactly this change on top of `HEAD`.
    Unchanged { branch: String, commit: String },
    /// The branch was created or reset to a new commit.
    Committed { branch: String, commit: String },
}

/// The trailer that marks a commit as the bot's: such a commit may be
/// replaced by the next run. It survives clones and pushes, unlike a reflog.
pub const TRAILER: &str = "Generated-by: dockreorder";

/// Git's rules for a branch name (`git check-ref-format --branch`), plus a
/// refusal of `refs/…` (git would create `refs/heads/refs/…`). Checked
/// before any work, so a typo costs nothing.
pub fn check_branch_name(name: &str) -> Result<(), String> {
    let refuse = |why: &str| {
        Err(format!(
            "--branch: `{name}` is not a valid branch name: {why}"
        ))
    };
    if name.is_empty() {
        return refuse("it is empty");
    }
    if name.starts_with('-') {
        return refuse("it starts with `-`");
    }
    if name == "HEAD" || name == "@" {
        return refuse("git reserves it for the current commit");
    }
    if let Some(short) = name.strip_prefix("refs/heads/") {
        return refuse(&format!(
            "it would create refs/heads/{name}; pass the short name `{short}`"
        ));
    }
    if name.starts_with("refs/") {
        return refuse("a branch name is what follows refs/heads/");
    }
    let valid = git2::Branch::name_is_valid(name).unwrap_or(false)
        && git2::Reference::is_valid_name(&format!("refs/heads/{name}"));
    if !valid {
        return refuse(
            "see `git check-ref-format` (no `..`, `~`, `^`, `:`, `?`, `*`, `[`, `\\`, spaces, `@{`, no `.lock` or `/` at the end)",
        );
    }
    Ok(())
}

/// Whether `commit` is one the bot made.
fn is_bot_commit(commit: &git2::Commit<'_>) -> bool {
    commit
        .message_raw_bytes()
        .split(|&b| b == b'\n')
        .any(|l| l == TRAILER.as_bytes())
}

pub struct Bot {
    repo: Repository,
    root: PathBuf,
    /// What [`Bot::differing_paths`] found, made once.
    differing: std::cell::OnceCell<Result<Vec<String>, String>>,
}

fn rel(root: &Path, p: &Path) -> Option<String> {
    let p = std::fs::canonicalize(p).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    Some(
        p.strip_prefix(root)
            .ok()?
            .to_string_lossy()
            .replace('\\', "/"),
    )
}

/// `Name <email>`.
fn parse_author(s: &str) -> Option<(String, String)> {
    let (name, rest) = s.split_once('<')?;
    let email = rest.strip_suffix('>')?.trim();
    let name = name.trim();
    (!name.is_empty() && !email.is_empty()).then(|| (name.to_string(), email.to_string()))
}

impl Bot {
    pub fn open(start: &Path) -> Result<Bot, String> {
        let repo = Repository::discover(start)
            .map_err(|e| format!("--commit needs a git repository: {e}"))?;
        let root = repo
            .workdir()
            .map(Path::to_path_buf)
            .ok_or("--commit needs a repository with a work tree")?;
        Ok(Bot {
            repo,
            root,
            differing: std::cell::OnceCell::new(),
        })
    }

    /// The committed (`HEAD`) text of a file, if it is tracked.
    pub fn head_text(&self, file: &Path) -> Option<String> {
        let rel = rel(&self.root, file)?;
        let tree = self.repo.head().ok()?.peel_to_tree().ok()?;
        let entry = tree.get_path(Path::new(&rel)).ok()?;
        let blob = self.repo.find_blob(entry.id()).ok()?;
        String::from_utf8(blob.content().to_vec()).ok()
    }

    /// The first path below `context` (or `extra`, a file outside it the
    /// build reads, such as the Dockerfile's own ignore file) where the
    /// work tree is not `HEAD`'s: modified, staged, deleted, untracked or
    /// ignored (a local `node_modules/`, a lock file `.gitignore` keeps
    /// out of the repository), other than the paths in `skip`. The rewrite
    /// is checked against the files of the work tree, but the commit is
    /// built from `HEAD`'s: a `requirements.txt` edited to drop its `-r
    /// base.txt` made a hoist that failed to build from the commit.
    pub fn uncommitted(
        &self,
        context: &Path,
        extra: &[PathBuf],
        skip: &[PathBuf],
    ) -> Option<String> {
        let differing = match self.differing.get_or_init(|| self.differing_paths()) {
            Ok(d) => d,
            Err(e) => return Some(e.clone()),
        };
        let skip: Vec<String> = skip.iter().filter_map(|p| rel(&self.root, p)).collect();
        let ctx = rel(&self.root, context);
        // An extra file may be gone from the work tree: its directory
        // places it.
        let extra: Vec<String> = extra
            .iter()
            .filter_map(|p| {
                let (dir, name) = (p.parent()?, p.file_name()?);
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                let d = rel(&self.root, dir)?;
                let name = name.to_string_lossy();
                Some(if d.is_empty() {
                    name.into_owned()
                } else {
                    format!("{d}/{name}")
                })
            })
            .collect();
        let below = |dir: &str, path: &str| {
            dir.is_empty() || path == dir || path.starts_with(&format!("{dir}/"))
        };
        differing
            .iter()
            .find(|path| {
                !skip.iter().any(|s| s == *path)
                    && (ctx.as_deref().is_some_and(|c| below(c, path))
                        || extra.iter().any(|x| x == *path))
            })
            .cloned()
    }

    /// The paths (without a trailing `/`) where the work tree or the index
    /// differs from `HEAD`, untracked and ignored ones included (a
    /// directory of them once).
    fn differing_paths(&self) -> Result<Vec<String>, String> {
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true)
            .include_ignored(true)
            .recurse_untracked_dirs(false)
            .recurse_ignored_dirs(false)
            .exclude_submodules(true);
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .map_err(|e| format!("cannot compare the work tree with HEAD: {}", e.message()))?;
        Ok(statuses
            .iter()
            .filter(|e| !e.status().is_empty())
            .filter_map(|e| e.path().ok().map(|p| p.trim_end_matches('/').to_string()))
            .collect())
    }

    /// Whether the bot may move `branch` (see the module comment); `force`
    /// allows any branch but the checked-out one.
    pub fn check_branch(&self, branch: &str, force: bool) -> Result<(), String> {
        check_branch_name(branch)?;
        let err = |what: &str, e: git2::Error| format!("--commit: {what}: {}", e.message());
        let head = self.repo.head().map_err(|e| err("no HEAD commit", e))?;
        let refname = format!("refs/heads/{branch}");
        if head.name().ok() == Some(refname.as_str()) {
            return Err(format!(
                "--commit: `{branch}` is the checked-out branch; --commit writes to another branch so the work tree stays as it is"
            ));
        }
        let tip = match self.repo.find_reference(&refname) {
            Ok(r) => r
                .peel_to_commit()
                .map_err(|e| err(&format!("`{branch}` does not point to a commit"), e))?,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(()),
            Err(e) => return Err(err(&format!("cannot read `{branch}`"), e)),
        };
        if force {
            return Ok(());
        }
        let head_id = head
            .peel_to_commit()
            .map_err(|e| err("HEAD is not a commit", e))?
            .id();
        let behind_head =
            |id: Oid| id == head_id || self.repo.graph_descendant_of(head_id, id).unwrap_or(false);
        let owned = behind_head(tip.id())
            || (is_bot_commit(&tip)
                && tip.parent_count() == 1
                && tip.parent_id(0).is_ok_and(behind_head));
        if owned {
            Ok(())
        } else {
            Err(format!(
                "--commit: `{branch}` holds commits that are not dockreorder's (its tip {} is not a dockreorder commit on top of an ancestor of HEAD): left as it is; choose another --branch, or pass --force-branch to reset it to HEAD plus the rewrite",
                &tip.id().to_string()[..12]
            ))
        }
    }

    /// Commits `files` (path, new text) onto `branch`, created from `HEAD`
    /// or moved when [`Bot::check_branch`] allows it. The message gets the
    /// [`TRAILER`].
    pub fn commit(
        &self,
        branch: &str,
        message: &str,
        author: Option<&str>,
        files: &[(PathBuf, String)],
        force: bool,
    ) -> Result<CommitOutcome, String> {
        if message.trim().is_empty() {
            return Err("a commit message cannot be empty".into());
        }
        self.check_branch(branch, force)?;
        let err = |what: &str, e: git2::Error| format!("{what}: {}", e.message());
        let head = self.repo.head().map_err(|e| err("no HEAD commit", e))?;
        let head_commit = head
            .peel_to_commit()
            .map_err(|e| err("HEAD is not a commit", e))?;
        let refname = format!("refs/heads/{branch}");
        let base = head_commit
            .tree()
            .map_err(|e| err("cannot read HEAD's tree", e))?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        let mut any = false;
        for (path, text) in files {
            let r = rel(&self.root, path)
                .ok_or_else(|| format!("{} is outside the repository", path.display()))?;
            let mode = match base.get_path(Path::new(&r)).map(|e| e.filemode()) {
                Ok(0o100755) => FileMode::BlobExecutable,
                _ => FileMode::Blob,
            };
            let blob = self
                .repo
                .blob(text.as_bytes())
                .map_err(|e| err("cannot write a blob", e))?;
            update.upsert(&r, blob, mode);
            any = true;
        }
        if !any {
            return Ok(CommitOutcome::NothingToCommit);
        }
        let tree_id = update
            .create_updated(&self.repo, &base)
            .map_err(|e| err("cannot build the tree", e))?;
        if tree_id == base.id() {
            return Ok(CommitOutcome::NothingToCommit);
        }
        if let Ok(existing) = self
            .repo
            .find_reference(&refname)
            .and_then(|r| r.peel_to_commit())
            && existing.tree_id() == tree_id
            && existing.parent_ids().collect::<Vec<Oid>>() == vec![head_commit.id()]
        {
            return Ok(CommitOutcome::Unchanged {
                branch: branch.to_string(),
                commit: existing.id().to_string(),
            });
        }
        let sig = match author {
            Some(a) => {
                let (name, email) = parse_author(a).ok_or_else(|| format!("--author `{a}` is not `Name <email>`"))?;
                Signature::now(&name, &email).map_err(|e| err("bad author", e))?
            }
            None => self.repo.signature().map_err(|_| {
                "no author: set user.name and user.email in git config, or pass --author \"Name <email>\"".to_string()
            })?,
        };
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(|e| err("cannot read the new tree", e))?;
        let commit = self
            .repo
            .commit(
                None,
                &sig,
                &sig,
                &with_trailer(message),
                &tree,
                &[&head_commit],
            )
            .map_err(|e| err("cannot commit", e))?;
        self.repo
            .reference(&refname, commit, true, "dockreorder: reorder Dockerfiles")
            .map_err(|e| err("cannot update the branch", e))?;
        Ok(CommitOutcome::Committed {
            branch: branch.to_string(),
            commit: commit.to_string(),
        })
    }
}

/// `message` with the [`TRAILER`] as its last paragraph (once).
fn with_trailer(message: &str) -> String {
    let body = message.trim_end();
    if body.lines().any(|l| l == TRAILER) {
        format!("{body}\n")
    } else {
        format!("{body}\n\n{TRAILER}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_follow_git() {
        for ok in ["dockreorder/reorder", "feature", "a.b", "x-1"] {
            assert_eq!(check_branch_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "HEAD",
            "@",
            "-x",
            "refs/heads/x",
            "refs/x",
            "a..b",
            "x.lock",
            "a b",
            "x/",
            "a~1",
            "a^",
            "a:b",
            "a@{1}",
        ] {
            assert!(check_branch_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_trailer_is_added_once() {
        assert_eq!(with_trailer("Reorder\n"), format!("Reorder\n\n{TRAILER}\n"));
        let once = with_trailer("Reorder");
        assert_eq!(with_trailer(&once), once);
    }
}
