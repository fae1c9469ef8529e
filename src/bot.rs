//! Bot mode: commit rewritten Dockerfiles onto a branch with git2, without
//! checking it out. The work tree, the index, `HEAD` and the current branch
//! stay as they were; only the rewritten files go into the commit (their
//! committed versions are what gets rewritten, so uncommitted edits never
//! leak in). Reruns on an unchanged repository leave the branch as it is.

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

pub struct Bot {
    repo: Repository,
    root: PathBuf,
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
        Ok(Bot { repo, root })
    }

    /// The committed (`HEAD`) text of a file, if it is tracked.
    pub fn head_text(&self, file: &Path) -> Option<String> {
        let rel = rel(&self.root, file)?;
        let tree = self.repo.head().ok()?.peel_to_tree().ok()?;
        let entry = tree.get_path(Path::new(&rel)).ok()?;
        let blob = self.repo.find_blob(entry.id()).ok()?;
        String::from_utf8(blob.content().to_vec()).ok()
    }

    /// Commits `files` (path, new text) onto `branch`, created or reset
    /// from `HEAD`.
    pub fn commit(
        &self,
        branch: &str,
        message: &str,
        author: Option<&str>,
        files: &[(PathBuf, String)],
    ) -> Result<CommitOutcome, String> {
        let err = |what: &str, e: git2::Error| format!("{what}: {}", e.message());
        let head = self.repo.head().map_err(|e| err("no HEAD commit", e))?;
        let head_commit = head
            .peel_to_commit()
            .map_err(|e| err("HEAD is not a commit", e))?;
        let refname = format!("refs/heads/{branch}");
        if !git2::Reference::is_valid_name(&refname) {
            return Err(format!("`{branch}` is not a valid branch name"));
        }
        if head.name().ok() == Some(refname.as_str()) {
            return Err(format!(
                "`{branch}` is the checked-out branch; --commit writes to another branch so the work tree stays as it is"
            ));
        }
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
            .commit(None, &sig, &sig, message, &tree, &[&head_commit])
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
