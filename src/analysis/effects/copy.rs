//! What `COPY` and `ADD` write: the destination of each shipped file when
//! the build context is known (placements, `.dockerignore`), the missing
//! parent directories with their owner, and the whole subtree otherwise
//! (`--from`, URLs, archives, globs the context cannot resolve).

use super::*;

pub(super) fn copy_effects(
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    e: &mut Effects,
) {
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
pub(super) fn refine_copy_writes(
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
        // A link is followed: what it names is not known here.
        if s.contains(['*', '?', '[', '$', '\\', '"', '\'', '`']) || !ctx.ships(s) || ctx.is_link(s)
        {
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
        // `aspnetapp/.` is `aspnetapp` (a `..` leaving the context is
        // refused by the build).
        let cleaned = crate::analysis::context::clean(s);
        let src = if cleaned == "." { "" } else { cleaned.as_str() };
        if files.contains_key(src) {
            // A link named as the source is followed (a link to a
            // directory puts its contents into the destination).
            if ctx.is_link(src) {
                return None;
            }
            // A file: into the directory (`dest/`, or several sources),
            // else to that name.
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
        let before = out.len();
        for f in files.keys() {
            if let Some(rel) = f.strip_prefix(&prefix) {
                out.push(Loc::Path(resolve(&dest_abs, rel)));
            }
        }
        // Nothing shipped below it and not an empty directory: a path
        // through a link (`ln/requirements.txt`, which BuildKit follows),
        // or one that is not there.
        if out.len() == before && !src.is_empty() && !ctx.whole().contains(src) {
            return None;
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
pub(super) fn plain_source(src: &str) -> Option<&str> {
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
            let matched = glob_files(s, files)?;
            // A link it matches is followed.
            if matched.iter().any(|f| ctx.is_link(f)) {
                return None;
            }
            matched
                .into_iter()
                .map(|f| (resolve(&dest_abs, f.rsplit('/').next().unwrap_or(&f)), f))
                .collect()
        } else if files.contains_key(s) {
            // A link is followed: what it names is not known here.
            if ctx.is_link(s) {
                return None;
            }
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

/// Where `COPY FILE DEST` puts its one shipped file when `DEST` names
/// the file itself (`COPY requirements/base.txt requirements/base.txt`,
/// no trailing slash): (image path, context path). `None` for anything
/// else: an `ADD`, a flag, a heredoc, a link, a glob, a directory, a
/// destination written as a directory or holding a variable, quote or
/// escape. BuildKit puts the file at `DEST` unless `DEST` is already a
/// directory, which an instruction before it (or the base image) made:
/// the caller checks that.
pub fn single_file_placement(
    ins: &Instruction,
    wd: &str,
    ctx: &Context,
) -> Option<(String, String)> {
    let node = &ins.node;
    if node.kind != Kind::Copy || !ins.heredocs.is_empty() || !node.flags.is_empty() {
        return None;
    }
    let args: Vec<&str> = node.str_args().collect();
    let [src, dest] = args.as_slice() else {
        return None;
    };
    let s = plain_source(src)?;
    if s.is_empty()
        || s.contains(['*', '?'])
        || !ctx.ships(s)
        || ctx.is_link(s)
        || dest.ends_with('/')
        || matches!(*dest, "." | ".." | "")
        || dest.ends_with("/.")
        || dest.ends_with("/..")
        || dest.contains(['$', '\\', '"', '\'', '`', '*', '?', '['])
    {
        return None;
    }
    Some((resolve(wd, dest), s.to_string()))
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
pub(super) fn glob_files(pat: &str, files: &BTreeMap<String, u64>) -> Option<Vec<String>> {
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
pub(super) fn glob_plain_files(src: &str, ctx: &Context) -> Option<Vec<String>> {
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
pub(super) fn writes_beyond_made_dirs(e: &Effects, p: &str, counts: impl Fn(&Loc) -> bool) -> bool {
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
pub(super) fn created_dirs(abs: &str) -> Vec<String> {
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
pub(super) fn copy_owner(node: &crate::syntax::Node) -> String {
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
pub(super) fn add_may_unpack(s: &str, ctx: &Context) -> bool {
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

pub(super) fn is_archive(s: &str) -> bool {
    [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".gz",
        ".bz2", ".xz",
    ]
    .iter()
    .any(|e| s.ends_with(e))
}
