//! Symbolic links instructions make (`ln -s`, archives unpacked by `ADD`,
//! commands that cannot be read) and the paths reached through them: a
//! link whose target is not known aliases every path below it, and a RUN
//! whose commands are not read may make one anywhere.

use super::*;

/// The symbolic links a `RUN` makes with `ln -s` (also `-sf`, `-t DIR`,
/// several sources into a directory), each as the link's path and its
/// target's (resolved against the link's directory), `None` when the
/// target is not known. `ln -s T L` may also make `L/T's name` when `L`
/// is a directory, so both count; a link whose own path is not known is
/// `/`, which stands for any path.
pub(super) fn symlinks_made(ins: &Instruction, wd: &str) -> Vec<(String, Option<String>)> {
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
pub(super) fn add_archive_links(ins: &Instruction, wd: &str) -> Vec<(String, Option<String>)> {
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
pub(super) fn may_make_links(ins: &Instruction) -> bool {
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
pub(super) const LINK_COPIERS: &[&str] =
    &["tar", "bsdtar", "unzip", "cpio", "git", "mv", "cp", "rsync"];

/// Adds to what an instruction reads and writes the same paths taken
/// through the symbolic links made before it ([`symlinks_made`]): a path
/// below a link is also one below its target (any path when the target
/// is not known), links of links followed too. The link's own path is
/// its target's when the target is known and the link is one of the
/// first `earlier` (made by an earlier instruction, not by this one); a
/// link of its own to a target not known is not followed (the `ln`
/// writes below its link path itself: `ln -snf /usr/share/zoneinfo/$TZ
/// /etc/localtime` would write everything).
pub(super) fn through_links(e: &mut Effects, links: &[(String, Option<String>)], earlier: usize) {
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

/// The symbolic links a `COPY`/`ADD` from the build context puts in the
/// image: a link shipped below a directory source is copied as a link
/// (only a link named as the source is followed), so a later write below
/// it lands where it points (`etc -> /etc` shipped by `COPY . /app`, then
/// `COPY conf/pip.conf /app/etc/` writes `/etc/pip.conf`; review 55,
/// measured with BuildKit: a pip install hoisted above both missed the
/// configuration, the image differed). Each as the link's image path and
/// its target's (read from the context, resolved against the link's
/// directory); a link at `/` with no target (any path) when where they
/// land is not known: a glob, a variable, a source or destination that is
/// not plain. An `ADD` of a context file it may unpack may put links
/// anywhere below its destination, and so may a `--from` copy of a stage
/// of the file that may make one ([`stage_may_make_links`]; an image from
/// outside the file is trusted as the base image is).
pub(super) fn copied_links(
    parse: &Parse,
    item: usize,
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    ctx: Option<&Context>,
) -> Vec<(String, Option<String>)> {
    let node = &ins.node;
    if !matches!(node.kind, Kind::Copy | Kind::Add) {
        return Vec::new();
    }
    // A copy from another stage or an image may put links anywhere below
    // its destination (a stage's `ln -s /etc /out/etc`, then `COPY
    // --from=b /out /app` and `COPY conf/pip.conf /app/etc/`: measured
    // with BuildKit, the pip install hoisted above both missed the
    // configuration, the image differed).
    if let Some(from) = node.flags.iter().find_map(|f| f.strip_prefix("--from=")) {
        if !stage_may_make_links(parse, from, item, ctx, 8) {
            return Vec::new();
        }
        let args: Vec<&str> = node.str_args().collect();
        let at = match args.last().and_then(|d| expand_word(d, env)) {
            Some(d) if !d.contains(['$', '*', '?', '[', '~', '\\', '"', '\'', '`']) => {
                resolve(wd, &d)
            }
            _ => "/".to_string(),
        };
        return vec![(at, None)];
    }
    let Some(ctx) = ctx else {
        return Vec::new();
    };
    let Some(files) = ctx.files() else {
        return Vec::new();
    };
    let links: Vec<&String> = ctx.whole().iter().filter(|w| ctx.is_link(w)).collect();
    let args: Vec<&str> = node.str_args().collect();
    let Some((dest, sources)) = args.split_last() else {
        return Vec::new();
    };
    let anywhere = vec![("/".to_string(), None)];
    let dest_abs = match expand_word(dest, env) {
        Some(d) if !d.contains(['$', '*', '?', '[', '~', '\\', '"', '\'', '`']) => resolve(wd, &d),
        _ if links.is_empty() => return Vec::new(),
        _ => return anywhere,
    };
    let mut out = Vec::new();
    for s in sources {
        let heredoc = s.starts_with("<<");
        if heredoc || s.contains("://") || s.starts_with("git@") {
            continue;
        }
        if node.kind == Kind::Add && add_may_unpack(s, ctx) {
            out.push((dest_abs.clone(), None));
            continue;
        }
        if links.is_empty() {
            continue;
        }
        let Some(src) = plain_source(s) else {
            return anywhere;
        };
        if src.contains(['*', '?']) {
            return anywhere;
        }
        if files.contains_key(src) {
            // A file, or a link the copy follows.
            continue;
        }
        let prefix = if src.is_empty() {
            String::new()
        } else {
            format!("{src}/")
        };
        for l in &links {
            let Some(rel) = l.strip_prefix(&prefix) else {
                continue;
            };
            let img = resolve(&dest_abs, rel);
            let target = std::fs::read_link(ctx.dir.join(l.as_str()))
                .ok()
                .and_then(|t| t.to_str().map(str::to_string))
                .filter(|t| !t.is_empty() && !t.contains(['$', '*', '?', '[', '~']))
                .map(|t| {
                    let dir = img.rsplit_once('/').map_or("/", |(d, _)| d);
                    resolve(if dir.is_empty() { "/" } else { dir }, &t)
                });
            out.push((img, target));
        }
    }
    out
}

/// Whether the stage `name` (a name or an index) of the file, defined
/// before item `before`, may hold a symbolic link its instructions made:
/// a `RUN` whose text may make one ([`may_make_links`]), an `ADD`, a copy
/// from the context when the context ships a link (or is not known), a
/// `--from` copy or a base stage that may. An image from outside the file
/// (no stage of that name) is trusted, as a base image is. `depth` bounds
/// the chain of stages followed (past it: may).
fn stage_may_make_links(
    parse: &Parse,
    name: &str,
    before: usize,
    ctx: Option<&Context>,
    depth: usize,
) -> bool {
    let froms: Vec<(usize, &Instruction)> = parse
        .items
        .iter()
        .enumerate()
        .take(before)
        .filter_map(|(k, i)| i.instruction().map(|ins| (k, ins)))
        .filter(|(_, ins)| ins.node.kind == Kind::From)
        .collect();
    let named = |ins: &Instruction| {
        let args: Vec<&str> = ins.node.str_args().collect();
        args.len() >= 3
            && args[args.len() - 2].eq_ignore_ascii_case("as")
            && args[args.len() - 1].eq_ignore_ascii_case(name)
    };
    // `--from=${B}` (or `FROM ${B}`): BuildKit expands global build
    // arguments there (its maintainers on moby/buildkit#2374; Docker
    // 20.10's frontend refuses the variable), so it may name any stage.
    if name.contains('$') {
        return true;
    }
    let found = match name.parse::<usize>() {
        Ok(n) => froms.get(n).copied(),
        Err(_) => froms.iter().rev().find(|(_, ins)| named(ins)).copied(),
    };
    let Some((start, from)) = found else {
        return false;
    };
    if depth == 0 {
        return true;
    }
    if let Some(base) = from.node.str_args().next()
        && stage_may_make_links(parse, base, start, ctx, depth - 1)
    {
        return true;
    }
    let context_links =
        ctx.is_none_or(|c| c.files().is_none() || c.whole().iter().any(|w| c.is_link(w)));
    for (k, i) in parse.items.iter().enumerate().skip(start + 1) {
        let Some(ins) = i.instruction() else { continue };
        match ins.node.kind {
            Kind::From => break,
            Kind::Run if may_make_links(ins) => return true,
            Kind::Add => return true,
            Kind::Copy => match ins
                .node
                .flags
                .iter()
                .find_map(|f| f.strip_prefix("--from="))
            {
                Some(f) if stage_may_make_links(parse, f, k, ctx, depth - 1) => return true,
                Some(_) => {}
                None if context_links => return true,
                None => {}
            },
            _ => {}
        }
    }
    false
}
