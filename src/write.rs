//! Writing a rewritten Dockerfile: where (`--write` follows a symlink only
//! inside the repository) and how (atomically, keeping permissions and
//! owner, saying what could not be kept). Never writes after an error: the
//! caller writes only once every file was processed.

use std::io::Write;
use std::path::PathBuf;

/// Where `--write` writes for `path`: the file itself, or the target of a
/// symlink when that stays inside `root` (the repository, or the current
/// directory outside one). Replacing the link with a regular file would
/// silently cut it; writing outside the repository is not ours to do.
pub fn write_target(path: &std::path::Path, root: &std::path::Path) -> Result<PathBuf, String> {
    let link = std::fs::symlink_metadata(path)
        .map_err(|e| format!("cannot read file: {e}"))?
        .file_type()
        .is_symlink();
    if !link {
        return Ok(path.to_path_buf());
    }
    let target =
        std::fs::canonicalize(path).map_err(|e| format!("cannot follow the symlink: {e}"))?;
    let root = std::fs::canonicalize(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if target.starts_with(&root) {
        Ok(target)
    } else {
        Err(format!(
            "is a symlink to {}, outside {}: not written (rewrite the target itself)",
            target.display(),
            root.display()
        ))
    }
}

/// Writes `text` to `path` atomically (temporary file in the same
/// directory, then rename), keeping the file's permissions and owner.
/// Returns notes for the user: a hard link the rename cut, an owner that
/// could not be kept.
pub fn write_atomic(path: &std::path::Path, text: &str) -> std::io::Result<Vec<String>> {
    use std::os::unix::fs::MetadataExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::Path::new("."));
    let meta = std::fs::metadata(path)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    let mut notes = Vec::new();
    let (uid, gid) = (
        tmp.as_file().metadata()?.uid(),
        tmp.as_file().metadata()?.gid(),
    );
    if (uid, gid) != (meta.uid(), meta.gid())
        && std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid())).is_err()
    {
        notes.push(format!(
            "owner changed from {}:{} to {uid}:{gid} (not allowed to keep it)",
            meta.uid(),
            meta.gid()
        ));
    }
    // After the owner: changing it may clear set-id bits.
    std::fs::set_permissions(tmp.path(), meta.permissions())?;
    if meta.nlink() > 1 {
        let others = meta.nlink() - 1;
        let s = if others == 1 { "" } else { "s" };
        notes.push(format!(
            "was a hard link: {others} other name{s} for it keep{} the old text",
            if others == 1 { "s" } else { "" },
        ));
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(notes)
}
