//! Hoist a dependency install above the broad copy.
//!
//! What it does: given a broad copy
//! (`COPY . .`) and a later `RUN` that reads only dependency manifests,
//! inserts `COPY <manifests> <dest>` before the `RUN` and moves the `RUN`
//! above the broad copy. Why: the install then reruns only when a manifest
//! changes, not on every source change. Example: `COPY . .` / `RUN npm ci`
//! becomes `COPY package.json package-lock.json ./` / `RUN npm ci` /
//! `COPY . .`. Fix safety: `Safe` when every command of the `RUN` is in the
//! knowledge base, it reads nothing the broad copy ships except the copied
//! manifests, it writes nothing the broad copy ships, nothing between the
//! copy and the `RUN` conflicts with it, the manifests declare no scripts or
//! local paths, and the units it needs (`WORKDIR`, `ENV`, `ARG`, free
//! `RUN`s) can move with it, and the shipped directories it reads
//! manifests or writes in have in the context the mode 0755 the inserted
//! COPY gives them (under root, any mode without a setgid, setuid or
//! sticky bit) and no earlier instruction may make them; the inserted COPY
//! creates the destination's directories with the broad copy's flags and
//! owner. A violated
//! precondition with a known remedy (a `.dockerignore` line, a flag) makes
//! it `Unsafe`; anything else leaves the file alone.
//!
//! An install whose `WORKDIR` is set after a copy into the working
//! directory (`COPY . .`, `WORKDIR web`) cannot take that `WORKDIR` along:
//! it moves with an inserted `WORKDIR` of its own, after the COPY of its
//! manifests, and the copy's working directory is set again before the
//! copy ([`workdir_to_insert`]); the original `WORKDIR` stays.
//!
//! The broad copy is a copy of the whole context (`COPY . .`), of one of
//! its directories (`COPY src ./`), or of several sources with a glob or
//! a directory among them (`COPY *.py *.txt ./`), whose files are then
//! placed one by one as BuildKit copies them
//! ([`effects::source_placements`]).
//!

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Applicability, Change, ChangeKind, Group, StageCx, StageOrder, first_line, instruction, short,
};
use crate::analysis::context::Context;
use crate::analysis::deletions;
use crate::analysis::effects::{self, Effects, Loc, conflict};
use crate::analysis::kb::{CostClass, ManifestCheck};
use crate::analysis::manifests::{self, extra_manifests, manifest_problems};
use crate::model::Stage;
use crate::syntax::{Instruction, Kind, Mount, Parse};

/// A broad copy: `COPY . <dir>` / `ADD . <dir>` from the context.
pub(crate) fn broad_copy(ins: &Instruction) -> Option<(String, Vec<String>)> {
    if !matches!(ins.node.kind, Kind::Copy | Kind::Add) || !ins.heredocs.is_empty() {
        return None;
    }
    let args: Vec<&str> = ins.node.str_args().collect();
    let [src, dest] = args.as_slice() else {
        return None;
    };
    if !matches!(*src, "." | "./") {
        return None;
    }
    let keep_flags = repeatable_flags(ins)?;
    Some(((*dest).to_string(), keep_flags))
}

/// A copy of a whole directory of the context (`COPY src ./`, `COPY
/// ./server /app/server/`): the directory (context-relative, cleaned), the
/// destination as written and the flags the inserted COPY repeats. `None`
/// for anything else, or when the context does not show the directory.
fn subtree_copy(ins: &Instruction, ctx: &Context) -> Option<(String, String, Vec<String>)> {
    if !matches!(ins.node.kind, Kind::Copy | Kind::Add) || !ins.heredocs.is_empty() {
        return None;
    }
    let args: Vec<&str> = ins.node.str_args().collect();
    let [src, dest] = args.as_slice() else {
        return None;
    };
    if src.contains(['*', '?', '[', '$', '\\']) || src.contains("://") {
        return None;
    }
    // BuildKit resolves a source against the context's root and cannot
    // leave it: `../frontend` and `/frontend` are `frontend`.
    let cleaned = crate::analysis::context::clean(src);
    let s = cleaned.as_str();
    if s == "." {
        return None;
    }
    let files = ctx.files()?;
    let prefix = format!("{s}/");
    if files.contains_key(s) || !files.keys().any(|f| f.starts_with(&prefix)) {
        return None;
    }
    // Inside a submodule nothing is known.
    if ctx
        .unknown_dirs()
        .iter()
        .any(|d| s == d || s.starts_with(&format!("{d}/")))
    {
        return None;
    }
    let keep_flags = repeatable_flags(ins)?;
    Some((s.to_string(), (*dest).to_string(), keep_flags))
}

/// A copy of several context sources, at least one of them a glob or a
/// directory (`COPY *.py *.txt ./`, `COPY requirements.txt app.py
/// config/ ./`, `COPY src/*.txt src/*.py /app/`): the destination as
/// written and the flags the inserted COPY repeats. Where it puts each
/// file is [`effects::source_placements`]. A copy of named files alone
/// (`COPY package.json package-lock.json ./`) is the manifest copy a hoist
/// inserts, not a broad one; a copy of one glob (`COPY package*.json
/// ./`, `COPY *.csproj .`) almost always is too, and is left to the
/// reorder as before.
fn placed_copy(ins: &Instruction, ctx: &Context) -> Option<(String, Vec<String>)> {
    if !matches!(ins.node.kind, Kind::Copy | Kind::Add) || !ins.heredocs.is_empty() {
        return None;
    }
    let args: Vec<&str> = ins.node.str_args().collect();
    let (dest, sources) = args.split_last()?;
    let files = ctx.files()?;
    let glob = |s: &str| s.contains(['*', '?']);
    let dir = |s: &str| {
        let c = crate::analysis::context::clean(s);
        !glob(s) && !files.contains_key(c.as_str())
    };
    if sources.len() < 2 || !sources.iter().any(|s| glob(s) || dir(s)) {
        return None;
    }
    let keep_flags = repeatable_flags(ins)?;
    if keep_flags.iter().any(|f| f.contains('$')) {
        return None;
    }
    Some(((*dest).to_string(), keep_flags))
}

/// Whether an instruction before the install `x` (other than the broad
/// copy) copies from the context a configuration file of pip or uv that
/// names a local path (`find-links = /app/wheels` in `/etc/pip.conf` or
/// `/etc/uv/uv.toml`): the install reads it, and the path may be one the
/// broad copy ships (measured: the hoisted install failed). The file is
/// recognised by where the install looks (`/etc`, the homes `/root` and
/// `$HOME`) or by its name (`pip.conf`, `pip.ini`, `uv.toml`: another
/// user's home, an environment's). Returns what wrote it, in words, for
/// the reason.
fn settings_written_before(cx: &StageCx<'_>, copy: &BroadCopy<'_>, x: usize) -> Option<String> {
    let pip = cx.eff[x].has_check(|c| matches!(c, ManifestCheck::Requirements(_)));
    let uv = cx.eff[x].has_check(|c| matches!(c, ManifestCheck::UvSettings(_)));
    if !pip && !uv {
        return None;
    }
    // The stage's environment and what the `RUN` itself exports or gives
    // the install (review 70: `export PIP_CONFIG_FILE=/srv/pipconf.ini &&
    // pip install …`, and the same as the command's own assignment, moved
    // `Safe` where an `ENV` of it kept the install; measured, the
    // rewrite's pip found no wheels in `/app/wheels`).
    let env = cx
        .state
        .env
        .get(x)
        .map(|e| effects::with_run_exports(e, &cx.eff[x]));
    let mut homes = vec!["/root".to_string()];
    if let Some(h) = env.as_ref().and_then(|e| e.get("HOME")) {
        homes.push(h.trim_end_matches('/').to_string());
    }
    let mut paths: Vec<String> = Vec::new();
    if pip {
        paths.extend(["/etc/pip.conf", "/etc/xdg/pip/pip.conf"].map(String::from));
        for h in &homes {
            paths.push(format!("{h}/.pip/pip.conf"));
            paths.push(format!("{h}/.config/pip/pip.conf"));
        }
    }
    if uv {
        paths.extend(["/etc/uv/uv.toml", "/etc/xdg/uv/uv.toml"].map(String::from));
        for h in &homes {
            paths.push(format!("{h}/.config/uv/uv.toml"));
        }
    }
    // Named by the install's own variables.
    if let Some(env) = &env {
        for var in ["PIP_CONFIG_FILE", "UV_CONFIG_FILE"] {
            if let Some(v) = env.get(var) {
                // A value not known may name any file written before.
                let Some(v) = effects::expand(v, env).filter(|v| !v.contains('$')) else {
                    return Some(format!(
                        "`{var}` is not known here: it may name a configuration written before it, with a local path the copy ships"
                    ));
                };
                paths.push(effects::resolve(&cx.state.workdirs[x], &v));
            }
        }
    }
    let named = |p: &str| {
        let base = p.rsplit('/').next().unwrap_or(p);
        paths.iter().any(|q| q == p) || ["pip.conf", "pip.ini", "uv.toml"].contains(&base)
    };
    // A value that is a path or a `file:` URL, not a remote location.
    let local = |text: &str| {
        text.contains("file:")
            || text.lines().any(|l| {
                l.split_once('=').is_some_and(|(_, v)| {
                    v.split([' ', '\t', ',', '[', ']', '"', '\''])
                        .filter(|w| !w.is_empty())
                        .any(|w| {
                            !(w.starts_with("https://") || w.starts_with("http://"))
                                && (w.contains('/') || w.starts_with('.'))
                        })
                })
            })
    };
    // Written with content not read here (`COPY --from=tools /pip.conf
    // /etc/pip.conf`, `RUN printf … > ~/.config/pip/pip.conf`): it may
    // name what the broad copy ships (review 36, F3: measured, the
    // hoisted install found no wheels). Only a write of the file itself
    // counts; a tree a system install or an opaque `RUN` may write is
    // assumed to hold no such settings, as the base image is.
    let unseen = |k: usize| {
        cx.eff[k].writes.iter().any(|w| {
            // A copy's target is written as `target/**` (it may be a
            // directory).
            let Loc::Path(p) = w else { return false };
            let p = p.strip_suffix("/**").unwrap_or(p);
            !p.contains(['*', '?', '[']) && named(p)
        })
    };
    let line = |k: usize| cx.parse.items[cx.stage.units[k].item].lines.start;
    (0..x).filter(|k| *k != copy.unit).find_map(|k| {
        let ins = instruction(cx.parse, cx.stage.units[k].item)?;
        let from_context = ins.node.kind == Kind::Add
            || (ins.node.kind == Kind::Copy
                && !ins.node.flags.iter().any(|f| f.starts_with("--from")));
        if !from_context && unseen(k) {
            return Some(format!(
                "a pip or uv configuration that line {} writes (content not read here) may name a local path the copy ships",
                line(k)
            ));
        }
        let wd = &cx.state.workdirs[k];
        let placed = match effects::context_placements(ins, wd, cx.state.paths_env(k), copy.ctx) {
            Some(p) => p.files,
            // One file to a file's name (`COPY pip.conf /etc/pip.conf`).
            None => one_file_copy(ins, wd, copy.ctx).into_iter().collect(),
        };
        placed
            .iter()
            .any(|(img, rel)| named(img) && copy.ctx.read(rel).is_none_or(|t| local(&t)))
            .then(|| {
                format!(
                    "a pip or uv configuration that line {} copies may name a local path the copy ships",
                    line(k)
                )
            })
    })
}

/// A `COPY` of one context file to a path (`COPY pip.conf
/// /etc/pip.conf`): (image path, context path).
fn one_file_copy(ins: &Instruction, wd: &str, ctx: &Context) -> Option<(String, String)> {
    if ins.node.kind != Kind::Copy
        || !ins.heredocs.is_empty()
        || ins.node.flags.iter().any(|f| f.starts_with("--from"))
    {
        return None;
    }
    let args: Vec<&str> = ins.node.str_args().collect();
    let [src, dest] = args.as_slice() else {
        return None;
    };
    if [src, dest].iter().any(|w| w.contains(['$', '*', '?', '['])) {
        return None;
    }
    let rel = crate::analysis::context::clean(src);
    ctx.files()?.get(rel.as_str())?;
    let name = rel.rsplit('/').next().unwrap_or(&rel);
    let img = if dest.ends_with('/') {
        effects::resolve(&effects::resolve(wd, dest), name)
    } else {
        effects::resolve(wd, dest)
    };
    Some((img, rel))
}

/// The flags of a copy that an inserted COPY repeats (owner, mode, link);
/// `None` when it has any other (`--from`, `--exclude`, …).
fn repeatable_flags(ins: &Instruction) -> Option<Vec<String>> {
    ins.node
        .flags
        .iter()
        .map(|f| effects::owner_mode_link_flag(f).then(|| f.clone()))
        .collect()
}

fn quote_path(p: &str) -> Option<String> {
    if p.chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-+@%/".contains(c))
    {
        Some(p.to_string())
    } else {
        None
    }
}

/// The broad copy a hoist moves installs above, and what it ships.
struct BroadCopy<'a> {
    /// Unit index of the copy.
    unit: usize,
    ins: &'a Instruction,
    /// The context directory it copies (`""` for the whole context).
    src: String,
    /// For a copy of several sources ([`placed_copy`]), the
    /// context directories whose contents go into the destination; its
    /// files are placed one by one (`shipped`), not as one directory.
    placed: Option<Vec<String>>,
    ctx: &'a Context,
    /// Destination as written, and the flags the inserted COPY repeats.
    dest: String,
    flags: Vec<String>,
    line: usize,
    text: String,
    /// Absolute destination, as BuildKit expands it.
    dest_abs: String,
    /// (image path, context path) of everything it ships; below a
    /// submodule (contents unknown), a shipped link or an empty directory,
    /// the whole subtree (`dir/**`).
    shipped: Vec<(String, String)>,
    /// The copy without its path writes: what else it reads and writes (the
    /// inserted COPY has its flags, so creates its directories with the
    /// same owner, and those writes move with it).
    rest: Effects,
    /// Whether it ships a file into a system tree every `RUN` looks in
    /// (see [`BroadCopy::ships_into_system_trees`]).
    into_fixed: std::cell::OnceCell<bool>,
}

impl<'a> BroadCopy<'a> {
    fn find(cx: &StageCx<'a>, b: usize) -> Option<BroadCopy<'a>> {
        Self::find_of(cx, b, false)
    }

    /// [`BroadCopy::find`], with `placed` a copy of several sources
    /// too ([`BroadCopy::head_of`]).
    fn find_of(cx: &StageCx<'a>, b: usize, placed: bool) -> Option<BroadCopy<'a>> {
        let Head {
            ins,
            src,
            dest,
            flags,
            dest_abs,
            placed,
        } = Self::head_of(cx, b, placed)?;
        let unit = &cx.stage.units[b];
        let (ctx, files) = (cx.ctx?, cx.ctx?.files()?);
        let (shipped, placed) = match placed {
            Some(p) => {
                let mut shipped = p.files;
                shipped.extend(p.whole);
                (shipped, Some(p.dirs))
            }
            None => (Self::subtree_shipped(ctx, files, &src, &dest_abs), None),
        };
        let mut rest = cx.eff[b].clone();
        rest.writes
            .retain(|w| !matches!(w, Loc::Path(_) | Loc::Dir { .. }));
        Some(BroadCopy {
            unit: b,
            ins,
            src,
            placed,
            ctx,
            dest,
            flags,
            line: cx.parse.items[unit.item].lines.start,
            text: first_line(cx.text, cx.parse, unit.item),
            dest_abs,
            shipped,
            rest,
            into_fixed: std::cell::OnceCell::new(),
        })
    }

    /// What a copy of context directory `src` to `dest_abs` ships: (image
    /// path, context path) of each file, and `X/**` for a shipped link or
    /// empty directory, which changes every path below it
    /// ([`Context::whole`]), or a submodule, whose contents are not known.
    fn subtree_shipped(
        ctx: &Context,
        files: &BTreeMap<String, u64>,
        src: &str,
        dest_abs: &str,
    ) -> Vec<(String, String)> {
        let prefix = if src.is_empty() {
            String::new()
        } else {
            format!("{src}/")
        };
        let mut shipped: Vec<(String, String)> = files
            .keys()
            .filter_map(|f| {
                let rel = f.strip_prefix(&prefix)?;
                Some((effects::resolve(dest_abs, rel), f.clone()))
            })
            .collect();
        for d in ctx.unknown_dirs().iter().chain(ctx.whole()) {
            if let Some(rel) = d.strip_prefix(&prefix) {
                shipped.push((
                    format!("{}/**", effects::resolve(dest_abs, rel)),
                    format!("{d}/**"),
                ));
            }
        }
        shipped
    }

    /// Whether a shipped file lies in a system tree every `RUN`'s programs
    /// look in ([`effects::in_fixed_lookup`]): then it ships into the
    /// lookups of every unit. Asked once per copy (caldera's copy ships
    /// 622 files, which were compared with the system trees once per unit
    /// passed).
    fn ships_into_system_trees(&self) -> bool {
        *self.into_fixed.get_or_init(|| {
            self.shipped_where(effects::in_fixed_lookup)
                .next()
                .is_some()
        })
    }

    /// Whether a shipped file lands where `e`'s programs look things up
    /// (`effects::ships_into_lookup` of some shipped file).
    fn ships_into_lookup(&self, e: &Effects) -> bool {
        self.ships_into_system_trees() || {
            let lookups = effects::Lookups::of(e);
            self.shipped_where(|p| lookups.ships_own(p))
                .next()
                .is_some()
        }
    }

    /// The shipped entries `test` holds of, for a `test` by overlap (one
    /// that holds of a path only if it holds of `DIR/**` for each
    /// directory above it): each top directory of the copy is asked first
    /// as `DIR/**`, and the files below it only when it holds. Most of a
    /// context lies where nothing a test looks for is (fat_free_crm's
    /// `ADD . $HOME` compared each file with every lookup directory of the
    /// home, and the repository reads, a fifth of a run).
    fn shipped_where<'s: 't, 't>(
        &'s self,
        test: impl Fn(&str) -> bool + 't,
    ) -> impl Iterator<Item = &'s (String, String)> + 't {
        let base = format!("{}/", self.dest_abs.trim_end_matches('/'));
        let mut tops: std::collections::HashMap<&'s str, bool> = std::collections::HashMap::new();
        self.shipped.iter().filter(move |(p, _)| {
            let top = p
                .strip_prefix(base.as_str())
                .and_then(|r| r.split_once('/'))
                .map(|(t, _)| &p[..base.len() + t.len()]);
            if let Some(dir) = top
                && !*tops
                    .entry(dir)
                    .or_insert_with(|| test(&format!("{dir}/**")))
            {
                return false;
            }
            test(p)
        })
    }
}

/// What [`BroadCopy::find`] decides on, before it lists what the copy
/// ships (thousands of files, which [`is_broad_copy`] does not need).
struct Head<'a> {
    ins: &'a Instruction,
    src: String,
    dest: String,
    flags: Vec<String>,
    dest_abs: String,
    /// Where a copy of several sources puts its files.
    placed: Option<effects::SourcePlacements>,
}

impl<'a> BroadCopy<'a> {
    fn head(cx: &StageCx<'a>, b: usize) -> Option<Head<'a>> {
        Self::head_of(cx, b, false)
    }

    /// [`BroadCopy::head`], and with `placed` a copy of several sources
    /// too ([`placed_copy`]): only the hoist moves installs
    /// above one; the other passes ([`is_broad_copy`], [`file_before`])
    /// take the copies of one directory alone.
    fn head_of(cx: &StageCx<'a>, b: usize, placed: bool) -> Option<Head<'a>> {
        let unit = &cx.stage.units[b];
        let ins = instruction(cx.parse, unit.item)?;
        if unit.keep {
            return None;
        }
        let ctx = cx.ctx?;
        let mut by_source = false;
        let (src, dest, flags) = match broad_copy(ins) {
            Some((dest, flags)) => (String::new(), dest, flags),
            None => match subtree_copy(ins, ctx) {
                Some(t) => t,
                None if placed => {
                    let (dest, flags) = placed_copy(ins, ctx)?;
                    by_source = true;
                    (String::new(), dest, flags)
                }
                None => return None,
            },
        };
        ctx.files()?;
        // `ADD . $HOME`: the destination as BuildKit expands it.
        let dest_expanded = cx
            .state
            .paths_env(b)
            .and_then(|env| effects::expand_word(&dest, env))?;
        let dest_abs = effects::resolve(&cx.state.workdirs[b], &dest_expanded);
        let placed = if by_source {
            Some(effects::source_placements(ins, &dest_abs, ctx)?)
        } else {
            None
        };
        Some(Head {
            ins,
            src,
            dest,
            flags,
            dest_abs,
            placed,
        })
    }
}

/// A file of image directory `dir` as unit `x` reads it, when the last
/// broad copy before `x` decides it: the copy ships it (its text) or
/// certainly not (`Some(None)`: nothing before the copy put it there), and
/// no unit between the copy and `x` may write it. `None` when not known.
pub(crate) fn file_before(
    cx: &StageCx<'_>,
    x: usize,
    dir: &str,
    name: &str,
) -> Option<Option<String>> {
    let ctx = cx.ctx?;
    let b = (0..x).rev().find(|&b| is_broad_copy(cx, b))?;
    let copy = BroadCopy::find(cx, b)?;
    let img = effects::resolve(dir, name);
    if (b + 1..x).any(|k| effects::writes_path(&cx.eff[k], &img)) {
        return None;
    }
    shipped_text(cx, ctx, &copy, dir, name)
}

/// Whether unit `b` is a broad copy a hoist may move installs above.
pub(crate) fn is_broad_copy(cx: &StageCx<'_>, b: usize) -> bool {
    BroadCopy::head(cx, b).is_some()
}

impl BroadCopy<'_> {
    /// The context file the copy puts at image path `img`, when it ships
    /// one there.
    fn context_path(&self, img: &str) -> Option<String> {
        self.shipped
            .iter()
            .find(|(p, _)| p == img)
            .map(|(_, rel)| rel.clone())
    }

    /// The context directory an image directory holds (when it is the
    /// copy's destination or below it).
    fn rel_dir(&self, dir: &str) -> Option<String> {
        if self.placed.is_some() {
            return self.mirrored_dir(dir);
        }
        let inner = if dir == self.dest_abs {
            String::new()
        } else {
            dir.strip_prefix(&format!("{}/", self.dest_abs.trim_end_matches('/')))?
                .to_string()
        };
        Some(match (self.src.is_empty(), inner.is_empty()) {
            (true, _) => inner,
            (false, true) => self.src.clone(),
            (false, false) => format!("{}/{inner}", self.src),
        })
    }

    /// Whether the copy may put anything at image path `img`, a directory
    /// included: `img` is its destination or below it, and the context
    /// has an entry there (an empty directory is shipped but not listed
    /// among the files), or its contents are not known here.
    fn may_put_at(&self, ctx: Option<&Context>, img: &str) -> bool {
        if self.placed.is_some() {
            // Its files are listed one by one: a path it places, a
            // directory above one, or below a link or empty directory.
            let img = img.trim_end_matches('/');
            return self.image_inner(img).is_some()
                && (img == self.dest_abs.trim_end_matches('/')
                    || self.shipped.iter().any(|(p, _)| {
                        let base = p.strip_suffix("/**").unwrap_or(p);
                        p == img
                            || p.strip_prefix(img).is_some_and(|r| r.starts_with('/'))
                            || (p.ends_with("/**")
                                && (img == base
                                    || img.strip_prefix(base).is_some_and(|r| r.starts_with('/'))))
                    }));
        }
        let Some(rel) = self.rel_dir(img) else {
            return false;
        };
        let Some(ctx) = ctx else { return true };
        rel.is_empty()
            || ctx
                .unknown_dirs()
                .iter()
                .any(|u| rel == *u || rel.starts_with(&format!("{u}/")))
            || ctx.dir.join(&rel).symlink_metadata().is_ok()
    }

    /// An image path at or below the destination, relative to it (`""`
    /// for the destination itself).
    fn image_inner<'p>(&self, img: &'p str) -> Option<&'p str> {
        let dest = self.dest_abs.trim_end_matches('/');
        if img == dest || (dest.is_empty() && img == "/") {
            return Some("");
        }
        img.strip_prefix(dest)?.strip_prefix('/')
    }

    /// For a copy of several sources, the context directory
    /// image directory `dir` is a copy of: every file the copy places
    /// below `dir` comes from the same place below it, and every file the
    /// context has there is placed (a manifest check may read any of
    /// them). `None` when there is none such.
    fn mirrored_dir(&self, dir: &str) -> Option<String> {
        let dir = dir.trim_end_matches('/');
        self.image_inner(dir)?;
        let ctx_dir = |img: &str, rel: &str| -> Option<String> {
            let tail = img.strip_prefix(dir)?.strip_prefix('/')?;
            let d = rel.strip_suffix(tail)?;
            if d.is_empty() {
                Some(String::new())
            } else {
                d.strip_suffix('/').map(str::to_string)
            }
        };
        let mut found: Option<String> = None;
        let mut count = 0usize;
        for (img, rel) in &self.shipped {
            if !img.starts_with(&format!("{dir}/")) {
                continue;
            }
            if img.ends_with("/**") {
                return None;
            }
            let d = ctx_dir(img, rel)?;
            match &found {
                Some(f) if *f != d => return None,
                _ => found = Some(d),
            }
            count += 1;
        }
        let d = found?;
        let ctx = self.ctx;
        let prefix = if d.is_empty() {
            String::new()
        } else {
            format!("{d}/")
        };
        let below = |p: &str| d.is_empty() || p.starts_with(&prefix);
        let all = ctx.files()?.keys().filter(|f| below(f)).count();
        let hidden = ctx.whole().iter().any(|w| below(w))
            || ctx
                .unknown_dirs()
                .iter()
                .any(|u| below(u) || d.starts_with(&format!("{u}/")) || d == *u);
        (all == count && !hidden).then_some(d)
    }

    /// The context directories a copy puts at image directory `d` below
    /// its destination (`""` for the destination): for a copy of one
    /// directory that directory's `d`; for several sources, `d` in each
    /// directory whose contents it copies. Only those the context has.
    fn context_dirs(&self, ctx: &Context, d: &str) -> Vec<String> {
        let join = |base: &str| match (base.is_empty(), d.is_empty()) {
            (true, _) => d.to_string(),
            (false, true) => base.to_string(),
            (false, false) => format!("{base}/{d}"),
        };
        let bases: Vec<&str> = match &self.placed {
            Some(dirs) => dirs.iter().map(String::as_str).collect(),
            None => vec![self.src.as_str()],
        };
        bases
            .into_iter()
            .map(join)
            .filter(|rel| !rel.is_empty() && ctx.dir.join(rel).is_dir())
            .collect()
    }

    /// A shipped context path, relative to the copied directory.
    fn inner<'p>(&self, rel: &'p str) -> &'p str {
        if self.src.is_empty() {
            rel
        } else {
            rel.strip_prefix(&format!("{}/", self.src)).unwrap_or(rel)
        }
    }
}

/// An install that may move above the broad copy, before its safety is
/// judged: the units that come with it and the shipped files it reads.
struct Candidate<'c> {
    unit: usize,
    companions: Vec<usize>,
    /// The working directory it runs in, when a `WORKDIR` set after the
    /// broad copy stays there and one is inserted before the install
    /// instead ([`workdir_to_insert`]).
    workdir: Option<String>,
    /// (image path, context path) of the manifests it reads, in the order
    /// the knowledge base names them (package.json first).
    needed: Vec<&'c (String, String)>,
    line: usize,
    text: String,
}

/// The path locations of `locs` that may reach below `dir` (the broad
/// copy's destination), prepared for testing every shipped file: plain
/// paths in a set, patterns in a list. Answers as testing every location with `paths_overlap`.
struct Reaching {
    /// (Fx: the paths come from the repository; SipHash was a third of
    /// `touches` for the shipped files of a small context.)
    plain: crate::analysis::fxhash::FxSet<String>,
    patterns: Vec<String>,
}

/// A path with no glob, no `**`, no unknown directory and nothing to
/// normalise: it overlaps another such path only when they are equal.
fn is_plain(p: &str) -> bool {
    p.starts_with('/')
        && !p.contains(['*', '?', '[', '\\'])
        && !p.contains("//")
        && !p.ends_with('/')
}

impl Reaching {
    fn new(locs: &[Loc], dir: &str) -> Reaching {
        let below = format!("{}/**", dir.trim_end_matches('/'));
        let mut r = Reaching {
            plain: Default::default(),
            patterns: Vec::new(),
        };
        for l in locs {
            if let Loc::Path(w) = l
                && effects::paths_overlap(w, &below)
            {
                if is_plain(w) {
                    r.plain.insert(w.clone());
                } else {
                    r.patterns.push(w.clone());
                }
            }
        }
        r
    }

    fn touches(&self, p: &str) -> bool {
        // Nothing reaches below the directory (a RUN with no repository
        // reads, say): no need to look at `p`.
        if self.plain.is_empty() && self.patterns.is_empty() {
            return false;
        }
        let plain = is_plain(p);
        if plain {
            if self.plain.contains(p) {
                return true;
            }
            if self.patterns.is_empty() {
                return false;
            }
        }
        // `paths_overlap(w, p)` with `p`'s side made once for all `w`.
        let base = effects::pattern_base(p);
        let meets = |w: &String| effects::bases_overlap(effects::pattern_base(w), base);
        if plain {
            self.patterns.iter().any(meets)
        } else {
            self.plain.iter().chain(&self.patterns).any(meets)
        }
    }
}

/// An install or build step left below the broad copy before it, and why
/// the hoist pass did not take it (the first condition that failed, as
/// checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// The stage it is in.
    pub stage: usize,
    /// 1-based line of the step, in the text planned on.
    pub line: usize,
    /// Line of the copy it stays below.
    pub below_line: usize,
    /// The step's first line, trimmed.
    pub subject: String,
    /// The broad copy for a one-line message.
    pub below: String,
    pub reason: String,
    /// Whether the knowledge base knows the step as a dependency install
    /// (not a build, nor a command it does not follow).
    pub install: bool,
    /// Whether the copy is a broad copy (`COPY . .`), not a copy of some
    /// sources (`COPY *.py ./`) the step cannot pass.
    pub broad: bool,
}

/// The expensive `RUN`s of a stage that the hoist pass cannot take above
/// the nearest broad copy before them, each with the reason, checked as
/// the pass checks a candidate with the units a rewrite moved
/// (`moved[u]`) gone from between, and a lone update merged into the
/// install after it (`merged_into[u]`, see [`super::plan_merges`]) taken
/// as part of that install, as the pass saw them. The caller leaves out
/// the steps a change is about.
pub fn kept_installs(cx: &StageCx<'_>, moved: &[bool], merged_into: &[Option<usize>]) -> Vec<Kept> {
    let n = cx.stage.units.len();
    let subject = |u: usize| {
        first_line(cx.text, cx.parse, cx.stage.units[u].item)
            .trim()
            .to_string()
    };
    let was_moved = |u: usize| moved.get(u).copied().unwrap_or(false);
    let merged = |u: usize| merged_into.get(u).copied().flatten();
    let mut out = Vec::new();
    let mut nearest: Option<BroadCopy<'_>> = None;
    for x in 0..n {
        if let Some(copy) = BroadCopy::find_of(cx, x, true) {
            nearest = Some(copy);
            continue;
        }
        let Some(copy) = &nearest else {
            let install = cx.eff[x].cost_class == Some(CostClass::Install);
            if super::is_expensive(&cx.eff[x])
                && !was_moved(x)
                && let Some((c, reason)) = source_copy_before(cx, x)
            {
                let item = cx.stage.units[c].item;
                out.push(Kept {
                    stage: cx.index,
                    line: cx.parse.items[cx.stage.units[x].item].lines.start,
                    below_line: cx.parse.items[item].lines.start,
                    subject: subject(x),
                    below: short(&first_line(cx.text, cx.parse, item)),
                    reason,
                    install,
                    broad: false,
                });
            }
            continue;
        };
        if !super::is_expensive(&cx.eff[x]) {
            continue;
        }
        let stays: Vec<usize> = (copy.unit..x)
            .filter(|&u| u == copy.unit || !(was_moved(u) || merged(u) == Some(x)))
            .collect();
        if let Err(Some(reason)) = candidate(cx, copy, &stays, x) {
            out.push(Kept {
                stage: cx.index,
                line: cx.parse.items[cx.stage.units[x].item].lines.start,
                below_line: copy.line,
                subject: subject(x),
                below: short(&copy.text),
                reason,
                install: cx.eff[x].cost_class == Some(CostClass::Install),
                broad: true,
            });
        }
    }
    out
}

/// Hoist pass for one stage. Returns the new order when something moved.
pub fn plan_hoist(cx: &StageCx<'_>, changes: &mut Vec<Change>) -> Option<StageOrder> {
    let n = cx.stage.units.len();
    for b in 0..n {
        let Some(copy) = BroadCopy::find_of(cx, b, true) else {
            continue;
        };
        let mut stays: Vec<usize> = vec![b];
        // (unit, the COPYs inserted before it, whether they stand above
        // its comments)
        let mut moved: Vec<(usize, Vec<String>, bool)> = Vec::new();
        // Manifests an earlier COPY already put in place need no second
        // COPY (a person copied them, then put the install after the
        // broad copy by mistake).
        let already = already_copied(cx, &copy);
        let mut copied: BTreeSet<String> = already.keys().cloned().collect();
        // All the copy writes, each shipped file by name: what a unit
        // carried above it must not touch (see [`carried_along`]).
        let mut copy_all = cx.eff[b].clone();
        copy_all
            .writes
            .extend(copy.shipped.iter().map(|(p, _)| Loc::Path(p.clone())));
        // The working directory where the broad copy stands, and at the
        // end of what moved so far: inserted `WORKDIR`s may set another
        // for an install (`Candidate::workdir`); the copy's is then set
        // again before the copy. A `WORKDIR` that moves with an install
        // sets it itself, and then none is inserted.
        let wd_b = cx.state.workdirs[b].clone();
        let mut wd_now = wd_b.clone();
        let mut moved_workdir = false;
        for x in b + 1..n {
            let Ok(mut cand) = candidate(cx, &copy, &stays, x) else {
                stays.push(x);
                continue;
            };
            let takes_workdir = cand.companions.iter().any(|&u| touches_workdir(&cx.eff[u]));
            let inserting = cand.workdir.is_some() || wd_now != wd_b;
            if (cand.workdir.is_some() && moved_workdir) || (inserting && takes_workdir) {
                stays.push(x);
                continue;
            }
            // After an inserted `WORKDIR`, an install that runs where the
            // copy stands has that directory set again.
            if cand.workdir.is_none()
                && wd_now != wd_b
                && cx.eff[x].reads.contains(&Loc::Workdir)
                && cx.state.workdirs[x] != wd_now
            {
                if cx.state.workdirs[x] != wd_b {
                    stays.push(x);
                    continue;
                }
                cand.workdir = Some(wd_b.clone());
            }
            let (mut problems, deleted) = hoist_problems(cx, &copy, &cand);
            // What stands between the copy and the install and would pass
            // the copy too comes along, as a person moving the copy down
            // would leave it (`RUN export FLASK_APP=app.py`, `EXPOSE 5000`).
            let after_moved = moved.iter().map(|m| m.0).max().unwrap_or(b);
            let mut carried = carried_along(
                cx,
                &copy,
                &copy_all,
                &stays,
                &cand.companions,
                after_moved,
                x,
            );
            if inserting {
                // They would run where the inserted `WORKDIR`s leave it.
                carried.retain(|&u| !touches_workdir(&cx.eff[u]));
            }
            cand.companions.extend(carried.iter().copied());
            cand.companions.sort_unstable();
            let new_files: Vec<&String> = cand
                .needed
                .iter()
                .map(|(_, rel)| rel)
                .filter(|r| !copied.contains(*r))
                .collect();
            // After an inserted `WORKDIR`, the COPY names the destination
            // in full.
            let inserts = match manifest_copies(&copy, &new_files, wd_now != wd_b) {
                Ok(inserts) => inserts,
                Err(why) => {
                    // Reported, never applied: there is no COPY to insert.
                    problems.push(why);
                    let mut change =
                        hoist_change(cx, &copy, &cand, problems, 0, &already, deleted.as_deref());
                    change.applicability = Applicability::DisplayOnly;
                    change.applied = false;
                    changes.push(change);
                    stays.push(x);
                    continue;
                }
            };
            if companions_need_copy(cx, &copy, &cand.companions) && inserts.is_empty() {
                stays.push(x);
                continue;
            }
            // The `WORKDIR` inserted before the install, and the copy's
            // set again before the copy when this is the first.
            let set_wd = cand.workdir.clone().filter(|w| *w != wd_now);
            let wd_inserts = match &set_wd {
                Some(_) if wd_now == wd_b => 2,
                Some(_) => 1,
                None => 0,
            };
            let mut change = hoist_change(
                cx,
                &copy,
                &cand,
                problems,
                inserts.len() + wd_inserts,
                &already,
                deleted.as_deref(),
            );
            if let Some(w) = &cand.workdir {
                describe_workdirs(&mut change, w, &wd_b);
            }
            let applied = change.applied;
            changes.push(change);
            if !applied {
                stays.push(x);
                continue;
            }
            if takes_workdir {
                moved_workdir = true;
            }
            copied.extend(new_files.into_iter().cloned());
            stays.retain(|s| !cand.companions.contains(s));
            // The inserted COPYs go right before the install, as a person
            // would write them (a manifest edit then reruns the install
            // alone), when everything that moves with the install only
            // sets variables they do not read (`ENV`, `ARG`), or is a
            // known `RUN` that touches nothing in or above the copy's
            // destination (`RUN ln -snf … /etc/localtime`) and mounts
            // nothing. Otherwise
            // they stand first, where the broad copy stood: a `RUN` or
            // `WORKDIR` may create a directory the COPY would create with
            // its owner (`RUN mkdir -p /app/cache` before a `COPY
            // --chown=app . /app` leaves /app root's). A `RUN` carried
            // along counts too: it passes the copy's files, not the
            // directories above its destination it would make first
            // (`RUN mkdir -p /code/data` before a `COPY --chown=app .
            // /code/app` leaves /code root's).
            let mut inserted = copy.rest.clone();
            inserted
                .writes
                .extend(cand.needed.iter().map(|(p, _)| Loc::Path(p.clone())));
            let copy_first = cand.companions.iter().any(|&c| {
                let kind = instruction(cx.parse, cx.stage.units[c].item).map(|i| i.node.kind);
                let apart = match kind {
                    Some(Kind::Env | Kind::Arg | Kind::Label | Kind::Expose) => true,
                    // A mount's target (`--mount=type=cache,target=/code/cache`)
                    // is made in the image with the directories above it,
                    // root's (`Effects::mount_targets`): measured, `/code`
                    // stayed root's as after a `mkdir`.
                    Some(Kind::Run) => {
                        cx.eff[c].opaque.is_none()
                            && !writes_in_or_above(&cx.eff[c], &copy.dest_abs)
                            && cx.eff[c].mount_targets.is_empty()
                            && !cx.eff[c].mount_unknown
                    }
                    _ => false,
                };
                !apart
                    || conflict(&inserted, &cx.eff[c]).is_some()
                    || conflict(&cx.eff[c], &inserted).is_some()
            });
            let mut inserts = Some(inserts);
            for &c in &cand.companions {
                let before = if copy_first {
                    inserts.take().unwrap_or_default()
                } else {
                    Vec::new()
                };
                moved.push((c, before, true));
            }
            // The inserted `WORKDIR` stands after the COPY of the
            // manifests, which makes its directory as the broad copy
            // would have.
            let mut last = inserts.take().unwrap_or_default();
            if let Some(w) = set_wd {
                last.push(workdir_text(&copy, &w));
                wd_now = w;
            }
            moved.push((x, last, false));
        }
        if !moved.is_empty() {
            let restore = (wd_now != wd_b).then(|| workdir_text(&copy, &wd_b));
            return Some(hoisted_order(cx.index, b, moved, stays, restore));
        }
    }
    None
}

/// Whether the install needs a directory to exist (`cd DIR`, a directory
/// option: [`Effects::needed_dirs`]) that the broad copy makes or writes
/// in (its destination), that none of the manifests copied first
/// (`needed`) is below. The destination itself
/// counts even where a `WORKDIR` made it: the graph keeps such a read
/// below the copy, and the rewrite would be refused.
fn lacks_a_directory(copy: &BroadCopy<'_>, ex: &Effects, needed: &[&(String, String)]) -> bool {
    let dest = copy.dest_abs.trim_end_matches('/');
    ex.needed_dirs.iter().any(|d| {
        let d = d.trim_end_matches('/');
        if !is_plain(d) || !(d == dest || d.starts_with(&format!("{dest}/"))) {
            return false;
        }
        let below = format!("{d}/");
        // A shipped empty directory is listed as itself.
        let made_here = |p: &String| p == d || p.starts_with(&below);
        let made_by_copy = d == dest || copy.shipped.iter().any(|(p, _)| made_here(p));
        made_by_copy && !needed.iter().any(|(p, _)| made_here(p))
    })
}

/// Whether `e` writes anything at or below the directory `dest`, or at a
/// directory above it, or may create a directory above it as the parent
/// of what it writes (`RUN mkdir -p /srv/data` before a copy into
/// `/srv/app`: whoever creates `/srv` first gives it its owner): a path,
/// a directory it makes, or anything it may write without naming it.
/// `/usr`, `/etc`, `/var`, `/tmp` and `/root` are in every base image with
/// a shell, so neither creates them.
fn writes_in_or_above(e: &Effects, dest: &str) -> bool {
    let dest = dest.trim_end_matches('/');
    let tree = format!("{dest}/**");
    let above: Vec<&str> = std::iter::once("/").chain(dirs_above(dest)).collect();
    let made_above = |p: &str| {
        // The directories writing `p` may create: its parents, and with a
        // pattern every directory from its last plain component down.
        let base = p.trim_end_matches("/**");
        let plain_end = base
            .split('/')
            .position(|c| c.contains(['*', '?', '[']))
            .map_or(base.len(), |k| {
                base.split('/').take(k).map(|c| c.len() + 1).sum::<usize>() - 1
            });
        let plain = &base[..plain_end.min(base.len())];
        above
            .iter()
            .filter(|a| !effects::IN_EVERY_IMAGE.contains(a))
            .any(|a| plain.starts_with(&format!("{a}/")) || plain == *a)
    };
    e.writes.iter().any(|w| match w {
        Loc::Path(p) | Loc::Dir { path: p, .. } => {
            effects::paths_overlap(p, &tree)
                || above.iter().any(|a| effects::paths_overlap(p, a))
                || made_above(p)
        }
        Loc::Var(_) | Loc::Config(_) | Loc::User | Loc::Shell => false,
        Loc::AllVars | Loc::Workdir => true,
    })
}

/// The directories above absolute path `p`, `/` aside, from the top:
/// `/usr/src/app` gives `/usr`, `/usr/src`.
fn dirs_above(p: &str) -> impl Iterator<Item = &str> {
    p.match_indices('/').skip(1).map(|(k, _)| &p[..k])
}

/// Whether unit `x` is an install that may move above the broad copy at
/// all: a known `RUN` worth moving, independent of the copy, whose
/// dependencies among the units in between can come along, that reads
/// only manifests of what the copy ships, and finds no program, library
/// or setting among the shipped files.
fn candidate<'c>(
    cx: &StageCx<'_>,
    copy: &'c BroadCopy<'_>,
    stays: &[usize],
    x: usize,
) -> Result<Candidate<'c>, Option<String>> {
    let ex = &cx.eff[x];
    let cannot_come_along = || Some(needs_what_stays(cx, copy, stays, x));
    let ins = instruction(cx.parse, cx.stage.units[x].item).ok_or(None)?;
    let worth = ex.cost_class.is_some_and(|c| c >= CostClass::Run);
    if ins.node.kind != Kind::Run || !worth {
        return Err(None);
    }
    if let Some(why) = &ex.opaque {
        return Err(Some(format!("not followed: {why}")));
    }
    if ex.keep {
        return Err(Some("pinned by `# dockreorder: keep`".to_string()));
    }
    if let Some(dep) = conflict(&copy.rest, ex) {
        return Err(Some(copy_conflict_words(dep)));
    }
    if let Some(why) = settings_written_before(cx, copy, x) {
        return Err(Some(why));
    }
    // The state it needs (`WORKDIR /code` after `ADD . /code`) may come
    // along: ENV, ARG, WORKDIR and USER units that move above the broad copy with
    // it, when they pass everything they move past.
    let along = |reads: &Effects, supplied: &[usize]| {
        companions(
            cx.parse,
            cx.stage,
            cx.eff,
            stays,
            copy.unit,
            &copy.rest,
            reads,
            supplied,
            copy,
            &|img: &str| copy.may_put_at(cx.ctx, img),
        )
    };
    // A `WORKDIR` set after a copy that reads the working directory
    // (`COPY . .`, `WORKDIR web`) cannot pass the copy: the install moves
    // without it, with a `WORKDIR` of its own inserted before it
    // ([`workdir_to_insert`]); what else comes along may not depend on
    // the working directory.
    let (companions, workdir) = match along(ex, &[]) {
        Some(c) => (c, None),
        None => {
            let wd = workdir_to_insert(cx, copy, x).ok_or_else(cannot_come_along)?;
            let mut elsewhere = ex.clone();
            elsewhere.reads.retain(|r| *r != Loc::Workdir);
            // What it needs of the `WORKDIR`s in between (the directory,
            // made by then) the inserted one gives; not another directory
            // one of them makes (`WORKDIR web/node_modules/foo`).
            let only_wd = |s: usize| {
                let mut e = cx.eff[s].clone();
                e.writes.retain(|l| match l {
                    Loc::Workdir => false,
                    Loc::Dir { path, .. } => {
                        let p = path.trim_end_matches('/');
                        wd.as_str() != p && !wd.starts_with(&format!("{p}/"))
                    }
                    _ => true,
                });
                conflict(&e, &elsewhere).is_none()
            };
            let set_here: Vec<usize> = stays
                .iter()
                .copied()
                .filter(|&s| {
                    s > copy.unit
                        && instruction(cx.parse, cx.stage.units[s].item)
                            .is_some_and(|i| i.node.kind == Kind::Workdir)
                        && only_wd(s)
                })
                .collect();
            let c = along(&elsewhere, &set_here).ok_or_else(cannot_come_along)?;
            if c.iter().any(|&u| touches_workdir(&cx.eff[u])) {
                return Err(cannot_come_along());
            }
            (c, Some(wd))
        }
    };
    // The repository its git may find is not copied first: shipping it
    // makes the hoist Unsafe (`hoist_problems`), not impossible.
    let reads_here = Reaching::new(&ex.reads, &copy.dest_abs);
    let repo = Reaching::new(&repo_locs(ex), &copy.dest_abs);
    let mut needed: Vec<&(String, String)> = copy
        .shipped_where(|p| reads_here.touches(p))
        .filter(|(p, _)| !repo.touches(p))
        .collect();
    needed.sort_by_key(|(p, _)| {
        ex.manifests
            .iter()
            .position(|m| m == p)
            .unwrap_or(usize::MAX)
    });
    // A directory it needs to exist (`cd tools`, `composer -d DIR`: read
    // as the directory itself) that only the broad copy makes: moved above
    // the copy, the `cd` fails, unless a manifest copied first makes the
    // directory. Measured with BuildKit: `RUN cd tools && pip install six`
    // moved above `COPY . .` failed (`can't cd to tools`).
    if lacks_a_directory(copy, ex, &needed) {
        return Err(Some(
            "it needs a directory that only the copy makes".to_string(),
        ));
    }
    // A pattern (`gem install NAME` reads the `*.gem` files of its
    // directory) names files that may well be absent.
    let named = ex.manifests.iter().any(|m| !m.contains(['*', '?', '[']));
    if named && needed.is_empty() && ex.binds.is_empty() {
        // Its manifests are not in this build context: the context is not
        // the one this Dockerfile is built with (or the install reads files
        // made earlier). Nothing is proven. An install that bind-mounts
        // its manifests reads them from the context (whether it ships
        // them is `hoist_problems`' to say); what else it may read
        // (`go.work`) the copy does not ship.
        // Two commands may read one file (`pip install -r F && pip
        // download -r F`): each is named once.
        let mut files: Vec<&str> = Vec::new();
        for m in &ex.manifests {
            if !files.contains(&m.as_str()) {
                files.push(m);
            }
        }
        // Manifests an earlier copy put at the working directory that
        // name more than themselves (`--find-links ./vendor`) are why it
        // stays: "ships none of the files it reads" was untrue of an
        // install reading the `vendor` this copy ships (scout75 review).
        if let Some(why) = earlier_manifests_problems(cx, x) {
            return Err(Some(why));
        }
        return Err(Some(format!(
            "the copy ships none of the files it reads ({})",
            files.join(", ")
        )));
    }
    // The source named in the reason: a file of the project rather than a
    // hidden one or a Dockerfile (which sorts first and says little,
    // scout71 review), when there is one.
    let dockerfile = |rel: &str| {
        let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
        name.starts_with("dockerfile") || name.ends_with(".dockerfile")
    };
    // A file known as some tool's manifest (`go.mod` read by `go build`)
    // says little too: "ships `go.mod`, which is not one of its
    // manifests" reads as a contradiction (scout74 review).
    // Nor does a document (`README.md`, `certs/README.txt`) where a
    // source file is shipped too (`main.go`; scout75 review).
    let document = |rel: &str| {
        let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
        let stem = name.split('.').next().unwrap_or(&name);
        [".md", ".txt", ".rst", ".adoc"]
            .iter()
            .any(|e| name.ends_with(e))
            || [
                "readme",
                "license",
                "licence",
                "changelog",
                "notice",
                "authors",
                "copying",
            ]
            .contains(&stem)
    };
    let source = |hidden: bool, docker: bool, other: bool| {
        needed.iter().find(|(p, rel)| {
            !ex.manifests.contains(p)
                && (hidden || !rel.starts_with('.'))
                && (docker || !dockerfile(rel))
                && (other || !(manifests::is_manifest_name(rel) || document(rel)))
        })
    };
    let source = |hidden: bool, docker: bool| {
        source(hidden, docker, false).or_else(|| source(hidden, docker, true))
    };
    if let Some((img, rel)) = source(false, false)
        .or_else(|| source(false, true))
        .or_else(|| source(true, true))
    {
        // It reads sources, not just manifests: not a dependency install.
        let mut why = reads_a_source(ex, img, rel);
        // A tool's environment made on the host and shipped by mistake
        // (`.venv/bin/pip` run by `/app/.venv/bin/pip install`: scout76
        // trap-stray-venv) is what keeps it; node_modules gets the same
        // remedy where the install writes it.
        let top = rel.split('/').next().unwrap_or(rel);
        if rel.contains('/') && [".venv", "venv", "node_modules"].contains(&top) {
            why.push_str(&format!(
                "; adding `{top}` to {} would settle this reason",
                copy.ctx.ignore_file_name()
            ));
        }
        return Err(Some(why));
    }
    if copy.placed.is_some() {
        // A copy of several sources that places nothing but the
        // manifests (`COPY package*.json ./`) is the manifest copy itself.
        // So is one that places nothing else but dependency manifests
        // (`COPY requirements*.txt ./`): they change rarely, and the
        // install after it is where a person puts it.
        let stage_manifests: BTreeSet<&str> = cx
            .eff
            .iter()
            .flat_map(|e| e.manifests.iter())
            .map(|m| m.rsplit('/').next().unwrap_or(m))
            .collect();
        let other_sources = copy.shipped.iter().any(|(img, rel)| {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            !needed.iter().any(|(n, _)| n == img)
                && (rel.ends_with("/**")
                    || !(manifests::is_manifest_name(rel) || stage_manifests.contains(name)))
        });
        if !other_sources {
            return Err(None);
        }
        // A context file it puts at two places would be copied to one.
        let mut rels = BTreeSet::new();
        if !needed.iter().all(|(_, rel)| rels.insert(rel)) {
            return Err(Some(
                "the copy puts a file it reads at two places".to_string(),
            ));
        }
        // The manifest checks but pip's read the files of the manifests'
        // context directory: that directory must be what the copy puts
        // there.
        if ex.checks.iter().any(|(chk, dir)| {
            !matches!(chk, ManifestCheck::Requirements(_))
                && copy.image_inner(dir.trim_end_matches('/')).is_some()
                && copy.rel_dir(dir).is_none()
        }) {
            return Err(Some(
                "the copy does not put its manifests' directory there as the context has it"
                    .to_string(),
            ));
        }
    }
    if needed.is_empty()
        && std::iter::once(x)
            .chain(companions.iter().copied())
            .any(|u| effects::makes_owned_dir_first(&cx.eff[copy.unit], &cx.eff[u]).is_some())
    {
        // No COPY is inserted to make the copy's directories first, and
        // the install or what moves with it may make one of them root's.
        return Err(Some(
            "above the copy, it (or what moves with it) may make a directory the copy makes, with another owner"
                .to_string(),
        ));
    }
    if effects::may_ship_into_lookup(ex, &copy.dest_abs) && copy.ships_into_lookup(ex) {
        // The broad copy puts files where the install's programs,
        // libraries or settings are looked up (a bin or lib directory, a
        // search path, a dotfile in the home).
        return Err(Some(
            "the copy may put files where its programs, libraries or settings are looked up"
                .to_string(),
        ));
    }
    if let Some(wd) = &workdir
        && !needed.iter().any(|(p, _)| p.starts_with(&format!("{wd}/")))
    {
        // The inserted `WORKDIR` would make its directory (with the
        // user's owner) where the broad copy made it: only one the
        // inserted COPY of its manifests makes first is set so.
        return Err(Some(
            "its working directory would be made by an inserted `WORKDIR`, not by the COPY of its manifests"
                .to_string(),
        ));
    }
    let item = cx.stage.units[x].item;
    Ok(Candidate {
        unit: x,
        companions,
        workdir,
        needed,
        line: cx.parse.items[item].lines.start,
        text: first_line(cx.text, cx.parse, item),
    })
}

/// Why a step cannot pass a copy, from the first conflict between them.
fn copy_conflict_words(dep: effects::DepReason) -> String {
    match dep {
        effects::DepReason::WriteRead(l) => format!("the copy writes {l}, which it reads"),
        effects::DepReason::ReadWrite(l) => format!("it writes {l}, which the copy reads"),
        effects::DepReason::WriteWrite(l) => format!("it and the copy both write {l}"),
        effects::DepReason::Pinned => "pinned by `# dockreorder: keep`".to_string(),
    }
}

/// The last copy from the build context before install `x` that ships
/// more than its manifests (`COPY *.py ./`, not `COPY requirements.txt .`)
/// and that `x` cannot pass, with why: where no broad copy stands before
/// an install, this is the copy that keeps it where it is (scout75: `-v`
/// said nothing of an install kept below `COPY *.py ./` by the
/// `python prepare.py` of its `RUN`).
fn source_copy_before(cx: &StageCx<'_>, x: usize) -> Option<(usize, String)> {
    let ex = &cx.eff[x];
    let (c, dep) = (0..x).rev().find_map(|c| {
        let ec = &cx.eff[c];
        let copy = instruction(cx.parse, cx.stage.units[c].item)
            .is_some_and(|i| matches!(i.node.kind, Kind::Copy | Kind::Add));
        // A copy of manifests (`COPY Gemfile Gemfile.lock ./`) is where a
        // person puts the install: nothing is said of one kept below it.
        let sources = ec
            .writes
            .iter()
            .any(|w| matches!(w, Loc::Path(p) if !ex.manifests.contains(p)))
            && !ec
                .context_reads
                .iter()
                .all(|r| manifests::is_manifest_name(r));
        if !copy || ec.context_reads.is_empty() || !sources {
            return None;
        }
        conflict(ec, ex).map(|dep| (c, dep))
    })?;
    // A step not followed conflicts with every copy: the last one is named
    // when it copies sources by a pattern (`COPY *.py ./`), not when it
    // copies a few files a person put before it on purpose (`COPY
    // setup.sh ./`, `RUN ./setup.sh`).
    let pattern = cx.eff[c]
        .context_reads
        .iter()
        .any(|r| r.contains(['*', '?', '[']));
    match &ex.opaque {
        Some(why) if pattern => Some((c, format!("not followed: {why}"))),
        Some(_) => None,
        None => Some((c, copy_conflict_words(dep))),
    }
}

/// What the manifests of install `x` say it reads beyond them, read from
/// the context at the working directory's relative paths
/// (`requirements.txt: `--find-links ./vendor` installs a local path`),
/// when they name any such thing; `None` otherwise.
fn earlier_manifests_problems(cx: &StageCx<'_>, x: usize) -> Option<String> {
    let ctx = cx.ctx?;
    let wd = cx.state.workdirs[x].trim_end_matches('/');
    if wd.contains('?') || !cx.state.workdirs[x].starts_with('/') {
        return None;
    }
    let prefix = format!("{wd}/");
    let to_context = |img: &str| img.strip_prefix(prefix.as_str()).map(str::to_string);
    let mut said: Vec<String> = Vec::new();
    for (chk, dir) in &cx.eff[x].checks {
        if dir.trim_end_matches('/') != wd {
            continue;
        }
        for p in manifest_problems(chk, ctx, "", &to_context) {
            if !said.contains(&p) {
                said.push(p);
            }
        }
    }
    (!said.is_empty()).then(|| {
        format!(
            "{}: it may read files of the copy that are not its manifests",
            said.join("; ")
        )
    })
}

/// The pattern by which `ex` may write the image path `img`, when it is
/// one (`apt-get` may write `/srv/**`: maintainer scripts make directories
/// there): a reason then says the pattern, the file not being one the
/// tool is known to write.
fn write_pattern<'e>(ex: &'e Effects, img: &str) -> Option<&'e str> {
    ex.writes.iter().find_map(|l| match l {
        Loc::Path(w) if w != img && w.contains('*') && effects::paths_overlap(w, img) => {
            Some(w.as_str())
        }
        _ => None,
    })
}

/// For a write pattern under `/srv` or `/usr/src` of an apt install
/// that was not narrowed to what measured packages write: `: ` and why
/// (`python3-flask` is not among the packages measured…); empty
/// otherwise.
fn site_note(ex: &Effects, pattern: &str) -> String {
    match &ex.site_note {
        Some(why) if pattern == "/srv/**" || pattern.starts_with("/usr/src/") => {
            format!(": {why}")
        }
        _ => String::new(),
    }
}

/// Why an install reads more than its manifests: the read that takes in
/// `rel`, a file the copy ships at `img` that is none of them.
fn reads_a_source(ex: &Effects, img: &str, rel: &str) -> String {
    // A symbolic link the copy ships is matched as a tree (it may point to
    // a directory): the reason names the link.
    let rel = rel.strip_suffix("/**").unwrap_or(rel);
    // A path read as a file or a directory (`-c constraints.txt`) is
    // read as `PATH/**` too.
    let tree = format!("{img}/**");
    let exact = ex
        .reads
        .iter()
        .any(|l| matches!(l, Loc::Path(p) if *p == img || *p == tree));
    let wide = ex.reads.iter().find_map(|l| match l {
        Loc::Path(p) if p != img && effects::paths_overlap(p, img) => Some(p.clone()),
        _ => None,
    });
    match wide {
        Some(p) if !exact => format!(
            "it may read {p}, where the copy ships `{rel}`, which is not one of its manifests"
        ),
        _ => format!("it reads `{rel}`, which the copy ships and is not one of its manifests"),
    }
}

/// Why what install `x` needs cannot come along: the units between the
/// copy and `x` that it depends on, by line, all among `stays` (they stay
/// below the copy).
fn needs_what_stays(cx: &StageCx<'_>, copy: &BroadCopy<'_>, stays: &[usize], x: usize) -> String {
    let named: Vec<String> = stays
        .iter()
        .filter(|&&u| u > copy.unit && u < x && conflict(&cx.eff[u], &cx.eff[x]).is_some())
        .map(|&u| quoted_at(cx, cx.stage.units[u].item))
        .collect();
    if named.is_empty() {
        "what it needs set before it cannot move above the copy".to_string()
    } else {
        let verb = if named.len() > 1 { "stay" } else { "stays" };
        format!(
            "it depends on {}, between the copy and it, which {verb} below the copy",
            named.join(", ")
        )
    }
}

/// The working directory install `x` runs in, when it may be set by an
/// inserted `WORKDIR` before the install: `x` runs in a directory the
/// broad copy makes, below its destination, and the copy's own working
/// directory (set again before the copy, whose destination depends on it)
/// is known and already exists there (`/`, or made by a `WORKDIR` of the
/// stage and not removed since): setting it again makes nothing. Both
/// are written as plain absolute paths, so only names BuildKit reads back
/// the same way (no blank, quote, `$` or backslash) are set.
fn workdir_to_insert(cx: &StageCx<'_>, copy: &BroadCopy<'_>, x: usize) -> Option<String> {
    let (wd_b, wd_x) = (&cx.state.workdirs[copy.unit], &cx.state.workdirs[x]);
    let plain = |p: &str| p.starts_with('/') && writes_plainly(p) && !p.contains("//");
    if !plain(wd_b) || !plain(wd_x) || wd_b == wd_x {
        return None;
    }
    // The directories are written out as the model takes them, with each
    // build argument at its default: one a `WORKDIR` (or the copy's
    // destination) takes from a variable, after an `ARG` that may set it
    // (`ARG APP=/repo`, `WORKDIR $APP`, `--build-arg APP=/x`), is not.
    let before = 0..cx.stage.units[x].item;
    let of_kind = |i: usize, k: Kind| instruction(cx.parse, i).filter(|ins| ins.node.kind == k);
    let varies = before.clone().any(|i| {
        of_kind(i, Kind::Workdir).is_some_and(|ins| ins.node.str_args().any(|a| a.contains('$')))
    }) || copy.dest.contains('$');
    if varies && before.clone().any(|i| of_kind(i, Kind::Arg).is_some()) {
        return None;
    }
    let exists = wd_b == "/"
        || effects::IN_EVERY_IMAGE.contains(&wd_b.as_str())
        || cx.eff[copy.unit].existing_dirs.iter().any(|d| d == wd_b);
    let below = wd_x
        .strip_prefix(copy.dest_abs.trim_end_matches('/'))
        .is_some_and(|r| r.starts_with('/') && r.len() > 1);
    (exists && below).then(|| wd_x.clone())
}

/// An inserted `WORKDIR` of `dir`, in the broad copy's keyword case.
fn workdir_text(copy: &BroadCopy<'_>, dir: &str) -> String {
    format!("{} {dir}", in_copys_case(copy, "WORKDIR"))
}

/// An inserted instruction's keyword (upper case) in the broad copy's
/// case: lower case when the copy's is.
fn in_copys_case(copy: &BroadCopy<'_>, keyword: &str) -> String {
    if copy
        .ins
        .node
        .keyword
        .chars()
        .all(|c| c.is_ascii_lowercase())
    {
        keyword.to_ascii_lowercase()
    } else {
        keyword.to_string()
    }
}

/// Whether a path is written in an inserted instruction as it is: only
/// characters BuildKit reads back the same way (no blank, quote, `$` or
/// backslash).
fn writes_plainly(p: &str) -> bool {
    p.bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"/._-+@:".contains(&c))
}

/// Says in a hoist's summary and reason which working directories were
/// inserted, and why they keep the image.
fn describe_workdirs(change: &mut Change, wd: &str, wd_b: &str) {
    change.summary.push_str(&format!(
        ", in `WORKDIR {wd}` inserted before it (`WORKDIR {wd_b}` set again before the copy)"
    ));
    if change.applicability == Applicability::Safe {
        change.reason.push_str(&format!(
            "; it runs in `{wd}`, set after the broad copy, whose destination depends on the working directory: an inserted `WORKDIR {wd}` sets it after the COPY of its manifests made that directory as the broad copy would, and `WORKDIR {wd_b}` sets the copy's again, an existing directory, so neither makes a directory or changes the image"
        ));
    }
}

/// Whether `e` reads or sets the working directory.
fn touches_workdir(e: &Effects) -> bool {
    e.reads
        .iter()
        .chain(&e.writes)
        .any(|l| matches!(l, Loc::Workdir))
}

/// The stage's name for a message (`` `build` `` or `#1`), when it is not
/// the last stage, no later instruction of it reads or writes the files
/// (or what the install writes above them), and no later stage takes them
/// (`COPY --from`, `RUN --mount=from=`, `FROM`): the image of the last
/// stage is then the same in both orders. DESIGN.md section 4 still asks
/// every stage to be (`docker build --target` builds one), so such a hoist
/// stays `Unsafe`; this only says what it risks.
fn unused_in_later_stages(
    cx: &StageCx<'_>,
    x: usize,
    files: &[&(String, String)],
) -> Option<String> {
    let later = later_stage_reads(cx)?;
    let untouched = files.iter().all(|(p, _)| {
        let top = deletions::written_top(&cx.eff[x], p);
        let under = format!("{}/**", top.trim_end_matches('/'));
        deletions::untouched_after(cx.eff, x, &top)
            && !later
                .iter()
                .any(|r| effects::paths_overlap(r, &top) || effects::paths_overlap(r, &under))
    });
    untouched.then(|| match &cx.stage.name {
        Some(n) => format!("`{n}`"),
        None => format!("#{}", cx.index),
    })
}

/// What later stages read of this one, as image path patterns; `None`
/// when this is the last stage, or a later stage is built `FROM` it or
/// names a stage through a variable (it may take anything).
fn later_stage_reads(cx: &StageCx<'_>) -> Option<Vec<String>> {
    let this = |v: &str| {
        cx.stage
            .name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(v))
            || v == cx.index.to_string()
    };
    let mut reads = Vec::new();
    let mut last = true;
    let paths = |src: &str, out: &mut Vec<String>| -> Option<()> {
        if src.contains('$') {
            return None;
        }
        let p = effects::resolve("/", src);
        out.push(format!("{}/**", p.trim_end_matches('/')));
        out.push(p);
        Some(())
    };
    for item in cx.parse.items.iter().skip(cx.stage.from_item + 1) {
        let Some(ins) = item.instruction() else {
            continue;
        };
        match ins.node.kind {
            Kind::From => {
                last = false;
                let image = ins.node.str_args().next().unwrap_or("");
                if image.contains('$') || this(image) {
                    return None;
                }
            }
            Kind::Copy | Kind::Add => {
                let Some(v) = ins
                    .node
                    .flags
                    .iter()
                    .find_map(|f| f.strip_prefix("--from="))
                else {
                    continue;
                };
                if v.contains('$') {
                    return None;
                }
                if this(v) {
                    let args: Vec<&str> = ins.node.str_args().collect();
                    for src in args.split_last().map_or(&[][..], |(_, s)| s) {
                        paths(src, &mut reads)?;
                    }
                }
            }
            Kind::Run => {
                for f in &ins.node.flags {
                    if !Mount::is_mount_flag(f) {
                        continue;
                    }
                    // A mount it cannot read may take anything.
                    let m = Mount::parse(f)?;
                    let Some(v) = m.from() else {
                        continue;
                    };
                    if v.contains('$') {
                        return None;
                    }
                    if this(v) {
                        paths(m.source().unwrap_or("/"), &mut reads)?;
                    }
                }
            }
            _ => {}
        }
    }
    (!last).then_some(reads)
}

/// Whether the `RUN`'s git, if any, never runs: see
/// [`manifests::runs_no_git`], with the lock files the broad copy ships.
fn runs_no_git(cx: &StageCx<'_>, copy: &BroadCopy<'_>, ex: &Effects) -> bool {
    let Some(ctx) = cx.ctx else {
        return false;
    };
    manifests::runs_no_git(ex, |dir, name| shipped_text(cx, ctx, copy, dir, name))
}

/// The text of file `name` of image directory `dir` as the candidate
/// reads it in the original order: what the broad copy ships, or
/// certainly nothing (`Some(None)`) when neither the copy nor an earlier
/// instruction puts it there; `None` when that is not known.
fn shipped_text(
    cx: &StageCx<'_>,
    ctx: &Context,
    copy: &BroadCopy<'_>,
    dir: &str,
    name: &str,
) -> Option<Option<String>> {
    if copy.placed.is_some() {
        // Its files are listed one by one.
        copy.image_inner(dir.trim_end_matches('/'))?;
        let img = effects::resolve(dir, name);
        if let Some(rel) = copy.context_path(&img) {
            return ctx.read(&rel).map(Some);
        }
        let under = |p: &str| {
            p.strip_suffix("/**").is_some_and(|base| {
                img == base || img.strip_prefix(base).is_some_and(|r| r.starts_with('/'))
            })
        };
        if copy.shipped.iter().any(|(p, _)| under(p)) {
            return None;
        }
        let earlier = (0..copy.unit)
            .any(|k| effects::unit_may_put(cx.parse, cx.stage, cx.state, k, &cx.eff[k], &img, ctx));
        return (!earlier).then_some(None);
    }
    let rel = copy.rel_dir(dir)?;
    let path = if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    };
    if ctx.ships(&path) {
        return ctx.read(&path).map(Some);
    }
    // Not shipped: there only if an earlier instruction put it there.
    let img = effects::resolve(dir, name);
    let earlier = (0..copy.unit)
        .any(|k| effects::unit_may_put(cx.parse, cx.stage, cx.state, k, &cx.eff[k], &img, ctx));
    (!earlier).then_some(None)
}

/// Whether no git program can run at the candidate, so that the
/// repository the copy ships is never looked at: see
/// [`effects::git_cannot_run`], and the copy ships no file named `git`
/// (nor a directory whose contents are not known).
fn git_cannot_run(cx: &StageCx<'_>, copy: &BroadCopy<'_>, cand: &Candidate<'_>) -> bool {
    let ships_git = copy
        .shipped
        .iter()
        .any(|(p, _)| p.ends_with("/**") || p.rsplit('/').next() == Some("git"));
    let Some(ctx) = cx.ctx else {
        return false;
    };
    !ships_git
        && effects::git_cannot_run(
            cx.parse,
            cx.stage,
            cx.eff,
            cx.state,
            cand.unit,
            |dir, name| shipped_text(cx, ctx, copy, dir, name),
        )
}

/// Whether the candidate leaves the lock file at image path `lock`, which
/// the copy ships, as it is ([`effects::lock_kept`], reading the files the
/// copy ships).
fn lock_kept(cx: &StageCx<'_>, copy: &BroadCopy<'_>, cand: &Candidate<'_>, lock: &str) -> bool {
    let Some(ctx) = cx.ctx else {
        return false;
    };
    effects::lock_kept(
        cx.parse,
        cx.stage,
        cx.eff,
        cx.state,
        (cand.unit, Some(ctx)),
        lock,
        |dir, name| shipped_text(cx, ctx, copy, dir, name),
    )
}

/// The words of a reason for the lock files the candidate writes and
/// leaves as they are.
fn kept_lock_words(cx: &StageCx<'_>, cand: &Candidate<'_>, kept: &[&str]) -> String {
    let names: Vec<String> = kept.iter().map(|r| format!("`{r}`")).collect();
    let base = effects::from_text(cx.parse, cx.stage.from_item).unwrap_or("node");
    let yarn = kept
        .iter()
        .all(|k| k.rsplit('/').next() == Some("yarn.lock"));
    let berry = yarn
        && cx.ctx.is_some_and(|ctx| {
            cand.needed.iter().any(|(img, rel)| {
                if img.rsplit('/').next() != Some("yarn.lock") {
                    return false;
                }
                let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
                let file = |f: &str| {
                    let p = manifests::ctx_join(dir, f).unwrap_or_else(|| f.to_string());
                    manifests::context_file(ctx, &p)
                };
                manifests::berry_named_by(&file).is_some()
            })
        });
    let go = kept.iter().all(|k| k.rsplit('/').next() == Some("go.sum"));
    let bundler = kept
        .iter()
        .all(|k| k.rsplit('/').next() == Some("Gemfile.lock"));
    let why = if bundler {
        format!(
            "the lock is the one Bundler writes for the Gemfile (every gem locked and used, for every platform, `PLATFORMS` with `x86_64-linux` and `aarch64-linux`, laid out as Bundler writes it), and the Bundler of `{base}` (or the one of its line the lock names) then writes nothing, with nothing setting Bundler's or RubyGems' configuration"
        )
    } else if go {
        "go.sum already holds both sums of every module go.mod requires (or of what replaces it), and `go mod download` only adds the go.mod sums it lacks".to_string()
    } else if berry {
        "the project's yarn is Yarn Berry (its `yarnPath` release, or its `packageManager` with corepack enabled before it), whose immutable install never writes the lock: it fails instead, in either order, on the same files".to_string()
    } else if yarn {
        format!(
            "the lock agrees with package.json (every pattern it names and every one its entries name is locked, no other is, each from a registry tarball), and the yarn 1 of `{base}` then writes no lock at all, with nothing setting yarn's or npm's configuration"
        )
    } else {
        format!(
            "the lock agrees with package.json (name, version, every dependency, only registry packages with their integrity, each `resolved` an https tarball or not written, laid out as npm writes it), the npm of `{base}` is 9 or later, which then writes back the same bytes, and nothing sets npm's configuration in a way that changes what it writes"
        )
    };
    format!(
        "`{}` writes {} but leaves {} as {}: {why}",
        short(&cand.text),
        names.join(", "),
        if kept.len() == 1 { "it" } else { "them" },
        if kept.len() == 1 { "it is" } else { "they are" },
    )
}

/// The repositories a `RUN`'s git may find, as locations.
fn repo_locs(e: &Effects) -> Vec<Loc> {
    e.repo_reads.iter().map(|p| Loc::Path(p.clone())).collect()
}

/// The directories between the broad copy's destination and the
/// manifests the install reads are made by the inserted COPY (or found as
/// they are) with mode 0755, and the shipped ones it writes in are not
/// there yet, where the broad copy gives each its mode in the context (or
/// its `--chmod`). Before the move the install saw the context's mode;
/// after it, 0755 or none. That decides what a user other than
/// root may write there (`npm ci` in a 0777 `web/` as `USER node`), and a
/// setgid bit passes to what anyone makes below. A reason when a mode
/// differs and matters (a moved unit may not run as root, or the mode has
/// bits beyond the permissions), when an earlier instruction may have
/// made the directory with an owner and mode of its own, or when one may
/// have set the mode of the destination or a directory above it, whose
/// setgid bit the directories the inserted COPY makes would take.
fn directory_mode_problem(
    cx: &StageCx<'_>,
    copy: &BroadCopy<'_>,
    cand: &Candidate<'_>,
) -> Option<String> {
    let ctx = cx.ctx?;
    let moved = || std::iter::once(cand.unit).chain(cand.companions.iter().copied());
    // Below the destination, as the copy's own paths: the manifests'
    // directories, and the shipped directories the moved units write in
    // (`pip install --target web/lib` makes `lib` in a setgid `web`).
    let base = format!("{}/", copy.dest_abs.trim_end_matches('/'));
    let mut inner: Vec<String> = cand
        .needed
        .iter()
        .filter_map(|(img, rel)| {
            let below = if copy.placed.is_some() {
                copy.image_inner(img)?
            } else {
                copy.inner(rel)
            };
            below.rsplit_once('/').map(|(d, _)| d.to_string())
        })
        .collect();
    for u in moved() {
        for w in &cx.eff[u].writes {
            if let Loc::Path(p) = w
                && let Some(below) = p.strip_prefix(base.as_str())
            {
                let plain = below.split(['*', '?', '[']).next().unwrap_or("");
                if let Some((d, _)) = plain.rsplit_once('/') {
                    inner.push(d.to_string());
                }
            }
        }
    }
    // (context directory, image directory)
    let mut dirs: BTreeSet<(String, String)> = BTreeSet::new();
    for i in &inner {
        let mut at = 0;
        let i = format!("{i}/");
        while let Some(k) = i[at..].find('/') {
            let d = &i[..at + k];
            // Only what the context has there is given a mode (by each
            // directory a copy of several sources puts there).
            if !d.is_empty() {
                for rel in copy.context_dirs(ctx, d) {
                    dirs.insert((rel, effects::resolve(&copy.dest_abs, d)));
                }
            }
            at += k + 1;
        }
    }
    if dirs.is_empty() {
        return None;
    }
    // A directory an earlier instruction may make is there with the owner
    // and mode it gave (`RUN mkdir -p /app/web && chmod g+s /app/web`):
    // the broad copy resets them to the context's, the inserted COPY
    // keeps them (measured: `node_modules` gained the setgid bit).
    // An earlier COPY of context files with the broad copy's owner and no
    // `--chmod` that puts there only what the broad copy puts there
    // (`COPY web/package.json web/`) makes the directory as the inserted
    // COPY would: the modes below decide.
    let same_copy = |k: usize, rel: &str, img: &str| {
        let Some(ins) = instruction(cx.parse, cx.stage.units[k].item) else {
            return false;
        };
        let below = format!("{img}/");
        // `COPY web/package.json web/package.json`: one file to its own
        // name, made as the inserted COPY makes it (no flag on either
        // copy: owner root, the directories above 0755). Were the
        // destination already a directory, what made it would make `img`
        // too and be found on its own.
        if copy.flags.is_empty()
            && let Some((i, r)) = effects::single_file_placement(ins, &cx.state.workdirs[k], ctx)
        {
            return i
                .strip_prefix(below.as_str())
                .is_some_and(|tail| r == format!("{rel}/{tail}"));
        }
        let Some(placed) =
            effects::context_placements(ins, &cx.state.workdirs[k], cx.state.paths_env(k), ctx)
        else {
            return false;
        };
        placed.flags == effects::normal_copy_flags(&copy.flags)
            && !placed.flags.iter().any(|f| f.starts_with("--chmod="))
            && placed.files.iter().all(|(i, r)| {
                i.strip_prefix(below.as_str())
                    .is_none_or(|tail| *r == format!("{rel}/{tail}"))
            })
    };
    for (rel, img) in &dirs {
        let earlier =
            (0..copy.unit).find(|&k| may_make_dir(&cx.eff[k], img) && !same_copy(k, rel, img));
        let item = match earlier {
            Some(k) => Some(cx.stage.units[k].item),
            None => parent_stage_may_make(cx, img),
        };
        if let Some(item) = item {
            return Some(format!(
                "`{}` (line {}) may make `{img}` before `{}`, which gives it the owner and mode `{rel}` has in the context; moved above the copy, `{}` would find it as that instruction left it",
                short(&first_line(cx.text, cx.parse, item)),
                cx.parse.items[item].lines.start,
                short(&copy.text),
                short(&cand.text)
            ));
        }
    }
    // The directory the inserted COPY makes its first one in passes a
    // setgid bit to it (and so to what the install makes there), where
    // the broad copy gives the directory its own mode: `RUN chmod 2775
    // /app` before `WORKDIR /app` gave the moved `npm ci`'s
    // `node_modules` the setgid bit (measured with BuildKit). An earlier
    // instruction that may set the mode of the destination or a directory
    // above it keeps the install in place; a `WORKDIR` or a plain `mkdir`
    // makes them 0755.
    if let Some(item) = ancestor_mode_setter(cx, copy) {
        return Some(format!(
            "`{}` (line {}) may give `{}` or a directory above it a mode of its own (a setgid bit), which the directories the inserted COPY makes below it would take; `{}` gives them the context's",
            short(&first_line(cx.text, cx.parse, item)),
            cx.parse.items[item].lines.start,
            copy.dest_abs,
            short(&copy.text),
        ));
    }
    let chmod = copy.flags.iter().find_map(|f| f.strip_prefix("--chmod="));
    let root = moved().all(|u| cx.state.as_root.get(u).copied().unwrap_or(false));
    for (d, _) in dirs {
        let mut modes = vec![context_dir_mode(&ctx.dir.join(&d))];
        if let Some(c) = chmod {
            modes.push(u32::from_str_radix(c, 8).ok().filter(|m| *m <= 0o7777));
        }
        let differs = modes.iter().any(|m| match m {
            Some(m) => *m != 0o755 && (!root || m & 0o7000 != 0),
            None => true,
        });
        if differs {
            let how = match (modes.first().copied().flatten(), chmod) {
                (_, Some(c)) => format!("`--chmod={c}`"),
                (Some(m), None) => format!("mode {m:04o}"),
                (None, None) => "a mode not known here".to_string(),
            };
            return Some(format!(
                "`{}` gives the directory `{d}` {how}, which `{}` sees there now; the inserted COPY makes it with mode 0755 instead, and the mode decides what a user other than root may write there (a setgid bit, what is made below it)",
                short(&copy.text),
                short(&cand.text)
            ));
        }
    }
    None
}

/// The item of an instruction before the broad copy, in its stage or a
/// stage it is built on, that may set the mode of the copy's destination
/// or of a directory above it (`/` aside): any instruction that writes
/// one, but a `WORKDIR` and a `RUN` that only makes directories with
/// `mkdir` and no mode option (both make them 0755).
fn ancestor_mode_setter(cx: &StageCx<'_>, copy: &BroadCopy<'_>) -> Option<usize> {
    let dest = copy.dest_abs.trim_end_matches('/');
    let dirs: Vec<&str> = dirs_above(dest)
        .chain((!dest.is_empty()).then_some(dest))
        .collect();
    let sets = |parse: &crate::syntax::Parse, item: usize, e: &Effects| {
        let Some(ins) = instruction(parse, item) else {
            return true;
        };
        if ins.node.kind == Kind::Workdir {
            return false;
        }
        let hits: Vec<&Loc> = e
            .writes
            .iter()
            .filter(|w| dirs.iter().any(|d| effects::writes_path(&only(w), d)))
            .collect();
        if hits.is_empty() {
            return false;
        }
        // A COPY that only makes the directories above what it puts there
        // makes them 0755.
        if matches!(ins.node.kind, Kind::Copy | Kind::Add)
            && !ins.node.flags.iter().any(|f| f.starts_with("--chmod"))
            && hits.iter().all(|w| matches!(w, Loc::Dir { .. }))
        {
            return false;
        }
        // A known RUN none of whose commands sets a mode or restores one
        // (a package manager's `/usr/**` takes `/usr` as it is).
        const MODES: &[&str] = &[
            "chmod", "chown", "chgrp", "install", "setfacl", "tar", "bsdtar", "unzip", "cpio",
            "cp", "rsync", "mv", "ln", "useradd", "adduser", "usermod", "busybox", "sh", "bash",
            "dash", "env", "xargs", "find", "sudo", "su", "gosu", "eval", "exec", "command",
            "nice", "timeout",
        ];
        if ins.node.kind != Kind::Run || e.opaque.is_some() || !ins.heredocs.is_empty() {
            return true;
        }
        let text = ins.node.str_args().collect::<Vec<_>>().join(" ");
        let crate::analysis::shell::Split::Commands(cmds) = crate::analysis::shell::split(&text)
        else {
            return true;
        };
        cmds.iter().any(|c| {
            let Some(tool) = c.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a)) else {
                return false;
            };
            MODES.contains(&tool)
                || (tool == "mkdir"
                    && c.argv[1..].iter().any(|a| {
                        a.starts_with("--mode")
                            || (a.starts_with('-') && !a.starts_with("--") && a.contains('m'))
                    }))
        })
    };
    if let Some(k) = (0..copy.unit).find(|&k| sets(cx.parse, cx.stage.units[k].item, &cx.eff[k])) {
        return Some(cx.stage.units[k].item);
    }
    in_parent_stages(cx, |item, e| sets(cx.parse, item, e))
}

/// Effects that write `w` alone.
fn only(w: &Loc) -> Effects {
    Effects {
        writes: vec![w.clone()],
        ..Effects::default()
    }
}

/// The item of an instruction of a stage the current one is built on
/// (`FROM base`, and so on up) that may make image directory `img`.
fn parent_stage_may_make(cx: &StageCx<'_>, img: &str) -> Option<usize> {
    in_parent_stages(cx, |_, e| may_make_dir(e, img))
}

/// Whether effects `e` may make image directory `img` or change its owner
/// or mode.
fn may_make_dir(e: &Effects, img: &str) -> bool {
    effects::touches_path(e, img)
        || e.writes
            .iter()
            .any(|w| matches!(w, Loc::Dir { path, .. } if path == img))
}

/// The item of the first instruction, in the stages the current one is
/// built on (`FROM base`, then that one's base, and so on up), that `hit`
/// accepts given its item and effects; `None` when the chain ends at an
/// image from outside the file. An `ONBUILD` counts as a hit whatever
/// `hit` says: its trigger runs in the stage built on its own, where it
/// may make or change anything (its effects are only the config key).
pub(super) fn in_parent_stages(
    cx: &StageCx<'_>,
    hit: impl Fn(usize, &Effects) -> bool,
) -> Option<usize> {
    let mut from = cx.stage.from_item;
    loop {
        let base = instruction(cx.parse, from)?
            .node
            .str_args()
            .next()?
            .to_ascii_lowercase();
        let earlier = || {
            cx.stages
                .iter()
                .enumerate()
                .filter(move |(_, s)| s.from_item < from)
        };
        let Some((pi, parent)) = earlier()
            .rev()
            .find(|(_, s)| s.name.as_deref().map(str::to_ascii_lowercase) == Some(base.clone()))
        else {
            // `FROM ${BASE}`: a build argument (its default often) may
            // name any earlier stage, which may have made anything
            // (measured with BuildKit: a `chmod 2775 /app` there gave the
            // hoisted install's `node_modules` the setgid bit).
            return (base.contains('$') && earlier().next().is_some()).then_some(from);
        };
        let eff = &cx.analyses.get(pi)?.effects;
        let trigger =
            |item: usize| instruction(cx.parse, item).is_some_and(|i| i.node.kind == Kind::Onbuild);
        if let Some((u, _)) = parent
            .units
            .iter()
            .zip(eff)
            .find(|(u, e)| trigger(u.item) || hit(u.item, e))
        {
            return Some(u.item);
        }
        from = parent.from_item;
    }
}

/// A directory's mode bits in the context (permissions, setuid, setgid,
/// sticky), as BuildKit's copy gives them; `None` when not known.
fn context_dir_mode(p: &std::path::Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::symlink_metadata(p).ok()?;
        m.is_dir().then(|| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = p;
        None
    }
}

/// Why a manifest the candidate reads may be another file in a build
/// that passes build arguments: it is named through a variable
/// (`pip install -r ${REQS}`) and an `ARG` comes before the install, so
/// `--build-arg REQS=requirements/dev.txt` names a file the inserted COPY,
/// made from the default, does not bring (measured with BuildKit: the
/// rewrite failed where the original built).
///
/// A variable the stage itself sets with `ENV NAME=value`, a value with no
/// `$` in it, and no `ARG NAME` after, is that value whatever the build's
/// arguments (an `ENV` overrides an `ARG` of the same name: the Dockerfile
/// reference): held-out scout69's `ENV
/// FLEX_TEMPLATE_PYTHON_REQUIREMENTS_FILE="/template/requirements.txt"`
/// after an unrelated `ARG WORKDIR=/template` was proposed Unsafe for
/// this, and the rewrite built identical.
fn manifest_named_by_a_build_argument(cx: &StageCx<'_>, cand: &Candidate<'_>) -> Option<String> {
    let ex = &cx.eff[cand.unit];
    if !cx.state.arg_before.get(cand.unit).is_none_or(|a| *a) {
        return None;
    }
    let item = cx.stage.units[cand.unit].item;
    if !ex.manifest_vars.is_empty()
        && ex
            .manifest_vars
            .iter()
            .all(|v| set_by_the_stage_alone(cx, item, v))
    {
        return None;
    }
    let (_, rel) = cand
        .needed
        .iter()
        .find(|(img, _)| ex.manifests_by_vars.contains(img))?;
    Some(format!(
        "`{}` names `{rel}` through a variable a build argument may set (an `ARG` comes before it): a build passing another value reads another file, which the copy inserted here would not bring",
        short(&cand.text)
    ))
}

/// Whether the variable `name` has, at item `item`, the literal value an
/// `ENV` of this stage gave it: the stage's last `ENV` of it before `item`
/// has a value without `$`, and no `ARG` of that name comes after that
/// `ENV` (whichever wins then, the build's argument may).
fn set_by_the_stage_alone(cx: &StageCx<'_>, item: usize, name: &str) -> bool {
    let mut literal = false;
    for i in cx.stage.from_item + 1..item.min(cx.parse.items.len()) {
        let Some(ins) = cx.parse.items[i].instruction() else {
            continue;
        };
        match ins.node.kind {
            Kind::Env => {
                let args: Vec<&str> = ins.node.str_args().collect();
                for t in args.chunks(3) {
                    if let [k, v, ..] = t
                        && *k == name
                    {
                        literal = !v.contains('$');
                    }
                }
            }
            Kind::Arg => {
                let named = ins
                    .node
                    .str_args()
                    .any(|a| a.split('=').next() == Some(name));
                if named {
                    literal = false;
                }
            }
            _ => {}
        }
    }
    literal
}

/// The item of the first unit `hit` accepts among those that stay above
/// an install moved above the broad copy (the units before the copy and
/// before the install); the stages this one is built on are the
/// caller's to look at ([`in_parent_stages`]).
fn unit_staying_above(
    cx: &StageCx<'_>,
    copy: &BroadCopy<'_>,
    cand: &Candidate<'_>,
    hit: impl Fn(usize, &Effects) -> bool,
) -> Option<usize> {
    (0..copy.unit.min(cand.unit))
        .map(|k| cx.stage.units[k].item)
        .zip(cx.eff)
        .find(|(item, e)| hit(*item, e))
        .map(|(item, _)| item)
}

/// An instruction as a reason names it: its first line, short, and its
/// line number (`` `RUN pip install …` (line 3) ``).
fn quoted_at(cx: &StageCx<'_>, item: usize) -> String {
    super::quoted_item(cx.text, cx.parse, item)
}

/// Why a `composer install` that runs plugins may run one installed
/// globally before it: Composer loads the plugins of its home
/// (`COMPOSER_HOME`: `~/.composer`, `~/.config/composer`) in every
/// project's install, and a plugin's code may read any file of the
/// project (h-kb55 measured: `composer global require` of a plugin,
/// then the install hoisted above `COPY . .`: the file the plugin wrote
/// from the project differed). An earlier unit of the stage, or of the
/// stages it is built on, that may write the home's project (an unread
/// `RUN` may) before the broad copy keeps the install in place.
fn global_composer_plugins_problem(
    cx: &StageCx<'_>,
    copy: &BroadCopy<'_>,
    cand: &Candidate<'_>,
) -> Option<String> {
    let ex = &cx.eff[cand.unit];
    let runs_plugins =
        ex.has_check(|c| matches!(c, ManifestCheck::ComposerScripts { plugins: true, .. }));
    if !runs_plugins {
        return None;
    }
    // The user homes the install reads Composer's home in (`/root`,
    // another user's), each with both of Composer's places for it.
    let mut homes: Vec<String> = Vec::new();
    for r in &ex.reads {
        if let Loc::Path(p) = r
            && let Some((user, _)) = p.split_once("/.composer")
        {
            homes.push(format!("{user}/.composer"));
            homes.push(format!("{user}/.config/composer"));
        }
    }
    if let Some(h) = cx
        .state
        .env
        .get(cand.unit)
        .and_then(|e| e.get("COMPOSER_HOME"))
    {
        homes.push(h.trim_end_matches('/').to_string());
    }
    // Global plugins are the packages of the home's own project: its
    // `composer.json`, its `vendor/` and `config.json` (which may move
    // `vendor-dir`); the installer's keys (`keys.dev.pub`) are none.
    let plugin_paths: Vec<String> = homes
        .iter()
        .flat_map(|h| ["vendor/**", "composer.json", "config.json"].map(|f| format!("{h}/{f}")))
        .collect();
    let writes_home = |e: &Effects| {
        e.writes.iter().any(|w| {
            matches!(w, Loc::Path(p) if plugin_paths.iter().any(|h| effects::paths_overlap(p, h)))
        })
    };
    // The units before the broad copy stay before the install; what the
    // copy and the units after it write there, the install reads, which
    // keeps it below them anyway.
    let at = unit_staying_above(cx, copy, cand, |_, e| writes_home(e))
        .or_else(|| in_parent_stages(cx, |_, e| writes_home(e)))?;
    Some(format!(
        "{} may install a Composer plugin in Composer's home, which `{}` runs and which may read any file of the project (`--no-plugins` turns plugins off)",
        quoted_at(cx, at),
        short(&cand.text)
    ))
}

/// Why a `poetry` command cannot move above the copy although its
/// manifests are copied first: an earlier unit (before the copy, or in a
/// stage this one is built on) may have installed a Poetry plugin, which
/// Poetry loads for every command and which may read any file of the
/// project (h-kb55: poetry-dynamic-versioning asks git for the version).
/// Which package is a plugin is not known, so every Python package
/// install but Poetry's own counts, and a `RUN` not followed
/// (`effects::plugins`).
fn poetry_plugins_problem(
    cx: &StageCx<'_>,
    copy: &BroadCopy<'_>,
    cand: &Candidate<'_>,
) -> Option<String> {
    let ex = &cx.eff[cand.unit];
    let tool = if ex.has_check(|c| matches!(c, ManifestCheck::Poetry)) {
        "Poetry"
    } else if ex.has_check(|c| matches!(c, ManifestCheck::Pdm { .. })) {
        "PDM"
    } else {
        return None;
    };
    // A copy from another stage or image may bring an environment with
    // plugins; one from the context may put one in `site-packages`.
    let copies_plugins = |item: usize, e: &Effects| {
        instruction(cx.parse, item).is_some_and(|i| {
            matches!(i.node.kind, Kind::Copy | Kind::Add)
                && (i.node.flags.iter().any(|f| f.starts_with("--from"))
                    || e.writes.iter().any(|w| {
                        matches!(w, Loc::Path(p) if p.contains("site-packages") || p.contains("dist-packages"))
                    }))
        })
    };
    let may_install = |item: usize, e: &Effects| {
        e.poetry_plugins
            || (e.opaque.is_some() && !e.opaque_plugin_free)
            || e.declared_only
            || copies_plugins(item, e)
    };
    let earlier = unit_staying_above(cx, copy, cand, may_install);
    let itself = ex
        .poetry_plugins_first
        .then_some(cx.stage.units[cand.unit].item);
    let at = earlier
        .or(itself)
        .or_else(|| in_parent_stages(cx, may_install))?;
    if earlier.is_none() && itself.is_some() {
        return Some(format!(
            "a command of `{}` before its `{}` command may install a {tool} plugin, which {tool} loads and which may read any file of the project",
            short(&cand.text),
            tool.to_ascii_lowercase()
        ));
    }
    Some(format!(
        "{} may install a {tool} plugin, which `{}` loads and which may read any file of the project",
        quoted_at(cx, at),
        short(&cand.text)
    ))
}

/// Bundler settings known to name no file the install reads or writes
/// beyond what the knowledge base gives it: the lock's (`frozen`,
/// `deployment`), the groups, the job count, the retries, messages,
/// platform and shared-gems switches, and the cleaning of the gem
/// directory it writes anyway.
const BUNDLER_PLAIN_SETTINGS: &[&str] = &[
    "frozen",
    "deployment",
    "without",
    "with",
    "jobs",
    "retry",
    "timeout",
    "silence_root_warning",
    "ignore_messages",
    "force_ruby_platform",
    "disable_version_check",
    "disable_shared_gems",
    "clean",
];

/// The first `bundle config` setting of the `RUN` `ins` that may name a
/// file (`gemfile`, `path` elsewhere than `vendor/bundle` or
/// `/usr/local/bundle`, `local.GEM`, `build.GEM` flags with a path, a key
/// not known): `Some` also when the `RUN` names `bundle config` in a
/// script that is not followed.
fn bundler_file_setting(ins: &Instruction) -> Option<String> {
    if ins.node.kind != Kind::Run {
        return None;
    }
    let cmds = match ins.run_script() {
        Some(script) => match crate::analysis::shell::split(&script) {
            crate::analysis::shell::Split::Commands(c) => {
                c.into_iter().map(|c| c.argv).collect::<Vec<_>>()
            }
            crate::analysis::shell::Split::Opaque(_) => {
                let named = script.contains("bundle") && script.contains("config");
                return named.then(|| "`bundle config` in a script not followed".to_string());
            }
        },
        None => vec![ins.node.str_args().map(str::to_string).collect()],
    };
    for argv in cmds {
        let name = argv
            .first()
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_string());
        if !matches!(name.as_deref(), Some("bundle" | "bundler"))
            || argv.get(1).map(String::as_str) != Some("config")
        {
            continue;
        }
        let words: Vec<&str> = argv[2..]
            .iter()
            .map(String::as_str)
            .filter(|w| !matches!(*w, "--global" | "--local"))
            .collect();
        let (key, values) = match words.as_slice() {
            [] | ["list" | "get" | "unset", ..] => continue,
            ["set", key, values @ ..] | [key, values @ ..] => (*key, values),
        };
        let key = key.to_ascii_lowercase();
        let plain = match key.as_str() {
            "path" => matches!(
                values,
                ["vendor/bundle"
                    | "vendor/bundle/"
                    | "./vendor/bundle"
                    | "/usr/local/bundle"
                    | "/usr/local/bundle/"]
            ),
            k if k.starts_with("build.") => values.iter().all(|v| !v.contains(['/', '~', '$'])),
            k => BUNDLER_PLAIN_SETTINGS.contains(&k),
        };
        if !plain {
            return Some(format!("`{}`", argv.join(" ")));
        }
    }
    None
}

/// Why a Bundler command (`bundle install`) cannot move above the copy
/// although its Gemfile and lock are copied first: a `bundle config`
/// setting written before it (an earlier unit that stays above it, a
/// stage this one is built on, or its own `RUN`) may name a file it reads
/// or writes, which the inserted copy does not bring or the broad copy
/// ships: `gemfile` makes it read another Gemfile and lock (measured with
/// BuildKit on ruby 3.1: the hoisted install failed), `path` install
/// elsewhere, `local.GEM` read a checkout.
fn bundler_settings_problem(
    cx: &StageCx<'_>,
    copy: &BroadCopy<'_>,
    cand: &Candidate<'_>,
) -> Option<String> {
    let ex = &cx.eff[cand.unit];
    if !ex.has_check(|c| matches!(c, ManifestCheck::Gemfile)) {
        return None;
    }
    let names = |item: usize| instruction(cx.parse, item).and_then(bundler_file_setting);
    let item = cx.stage.units[cand.unit].item;
    let (at, what) = match names(item) {
        Some(w) => (item, w),
        None => {
            let at = unit_staying_above(cx, copy, cand, |i, _| names(i).is_some())
                .or_else(|| in_parent_stages(cx, |i, _| names(i).is_some()))?;
            // An `ONBUILD` trigger the parent search stops at is no
            // `bundle config`.
            (
                at,
                names(at).unwrap_or_else(|| "a trigger not followed".to_string()),
            )
        }
    };
    Some(format!(
        "{} sets {what} in Bundler's configuration, which may make `{}` read or write a file the inserted copy does not bring or the broad copy ships",
        quoted_at(cx, at),
        short(&cand.text)
    ))
}

/// Why an npm install whose lock lists a script npm skips on Linux (an
/// optional package for other systems, fsevents; see
/// `manifests::npm_lock_setting_scripts`) may run it: npm's `os`,
/// `cpu` and `libc` settings make it install for another platform, and
/// a user's or the global npmrc an earlier unit of the stage, or of the
/// stages it is built on, writes (an unread `RUN` may) may set them. That
/// script may read any file of the project. The project's `.npmrc`, the
/// line and the environment are checked with the lock. The same for a
/// known script that does something only under `build-from-source`
/// (`manifests::SettingScripts::gated`), whose line and environment
/// are checked here; and for any install script npm runs: its
/// `node-options` become the script's `NODE_OPTIONS` (measured with
/// BuildKit on node:20-slim, npm 10.8.2: `npm config set
/// node-options=--require=/app/pre.js` before `COPY . .` and `npm ci`
/// of esbuild 0.21.5; the hoisted install failed, the preload missing).
fn npm_platform_config_problem(
    cx: &StageCx<'_>,
    copy: &BroadCopy<'_>,
    cand: &Candidate<'_>,
) -> Option<String> {
    let ctx = cx.ctx?;
    let ex = &cx.eff[cand.unit];
    let mut scripts = manifests::SettingScripts::default();
    for (c, dir) in &ex.checks {
        if !matches!(
            c,
            ManifestCheck::NpmScripts(crate::analysis::kb::DependencyScripts::Npm { .. })
        ) {
            continue;
        }
        for f in ["npm-shrinkwrap.json", "package-lock.json"] {
            if let Some(Some(t)) = shipped_text(cx, ctx, copy, dir, f) {
                let these = manifests::npm_lock_setting_scripts(&t);
                scripts.os_limited |= these.os_limited;
                scripts.gated |= these.gated;
                scripts.runs |= these.runs;
            }
        }
    }
    let manifests::SettingScripts {
        os_limited: limited,
        gated,
        runs,
    } = scripts;
    if !limited && !gated && !runs {
        return None;
    }
    // `build-from-source` on the line or in the environment (npm takes
    // `npm_config_*` in any case).
    if gated {
        let named = |s: &str| {
            let s = s.to_ascii_lowercase().replace('_', "-");
            s.contains("build-from-source")
        };
        let in_env = cx
            .state
            .env
            .get(cand.unit)
            .is_some_and(|env| env.keys().any(|k| named(k)));
        if in_env || named(&cand.text) {
            return Some(format!(
                "`build-from-source` may be set for `{}`, under which a package's install script its lock lists builds from source, which was not examined",
                short(&cand.text)
            ));
        }
    }
    let mut configs: Vec<String> = vec![
        "/usr/local/etc/npmrc".into(),
        "/etc/npmrc".into(),
        "/root/.npmrc".into(),
        "/home/*/.npmrc".into(),
    ];
    if let Some(env) = cx
        .state
        .env
        .get(cand.unit)
        .map(|e| effects::with_run_exports(e, &cx.eff[cand.unit]))
    {
        for (k, v) in &env {
            let k = k.to_ascii_lowercase();
            if k == "npm_config_userconfig" || k == "npm_config_globalconfig" || k == "home" {
                configs.push(v.clone());
                configs.push(format!("{}/.npmrc", v.trim_end_matches('/')));
            }
        }
    }
    let writes_config = |e: &Effects| {
        e.writes.iter().any(|w| match w {
            Loc::Path(p) => {
                p.ends_with("/.npmrc")
                    || p.ends_with("/npmrc")
                    || configs.iter().any(|c| effects::paths_overlap(p, c))
            }
            _ => false,
        })
    };
    let at = unit_staying_above(cx, copy, cand, |_, e| writes_config(e))
        .or_else(|| in_parent_stages(cx, |_, e| writes_config(e)))?;
    Some(format!(
        "{} may write npm's configuration, {} which may read any file of the project",
        quoted_at(cx, at),
        if limited || gated {
            format!(
                "whose `os`, `cpu` or `libc` (or `build-from-source`) would make `{}` run an install script its lock lists that was not examined,",
                short(&cand.text)
            )
        } else {
            format!(
                "whose `node-options` or `script-shell` would make `{}` run its packages' install scripts with other code (a `--require` of a project file),",
                short(&cand.text)
            )
        }
    ))
}

/// Why the hoist of a candidate is not `Safe` (empty when it is): what it
/// writes that the copy ships, what its manifests say it may read, and a
/// repository the copy ships where its git would find it. Also, when what
/// it writes over shipped files is deleted later before any use (see
/// [`deleted_before_use`]), the words that say so for the reason.
fn hoist_problems(
    cx: &StageCx<'_>,
    copy: &BroadCopy<'_>,
    cand: &Candidate<'_>,
) -> (Vec<String>, Option<String>) {
    let ex = &cx.eff[cand.unit];
    let mut problems = Vec::new();
    let repo = Reaching::new(&repo_locs(ex), &copy.dest_abs);
    if let Some((_, rel)) = copy.shipped_where(|p| repo.touches(p)).next()
        && !git_cannot_run(cx, copy, cand)
        && !runs_no_git(cx, copy, ex)
    {
        let top = rel.split('/').next().unwrap_or(rel);
        problems.push(format!(
            "`{}` ships the git repository (`{top}`) where git run by `{}` finds it, so moving the install above the copy changes what it sees there; adding `{top}` to {} would make it safe",
            short(&copy.text),
            short(&cand.text),
            copy.ctx.ignore_file_name()
        ));
    }
    // A manifest that is a symbolic link (or below one) is read through
    // the shipped link in the image, where its target may be another file
    // or none, but an inserted COPY copies what the link names in the
    // context.
    if let Some(ctx) = cx.ctx
        && let Some((_, rel)) = cand.needed.iter().find(|(_, rel)| ctx.through_symlink(rel))
    {
        problems.push(format!(
            "`{rel}` is a symbolic link in the build context: `{}` reads what it points to in the image, a COPY of it copies what it points to in the context",
            short(&cand.text)
        ));
    }
    if let Some(p) = directory_mode_problem(cx, copy, cand) {
        problems.push(p);
    }
    if let Some(p) = manifest_named_by_a_build_argument(cx, cand) {
        problems.push(p);
    }
    if let Some(p) = global_composer_plugins_problem(cx, copy, cand) {
        problems.push(p);
    }
    if let Some(p) = poetry_plugins_problem(cx, copy, cand) {
        problems.push(p);
    }
    if let Some(p) = npm_platform_config_problem(cx, copy, cand) {
        problems.push(p);
    }
    if let Some(p) = bundler_settings_problem(cx, copy, cand) {
        problems.push(p);
    }
    // A file written only when missing is not written once it is copied in
    // first.
    let writes_here = Reaching::new(&ex.writes, &copy.dest_abs);
    let mut kept: Vec<&str> = Vec::new();
    let clobbered: Vec<&(String, String)> = copy
        .shipped_where(|p| writes_here.touches(p))
        .filter(|(p, _)| {
            !(ex.writes_if_missing.contains(p) && cand.needed.iter().any(|(n, _)| n == p))
        })
        .filter(|(p, rel)| {
            let keeps = cand.needed.iter().any(|(n, _)| n == p) && lock_kept(cx, copy, cand, p);
            if keeps {
                kept.push(rel);
            }
            !keeps
        })
        .collect();
    // What it writes over shipped files (not the manifests it reads) that
    // a later RUN deletes before any use is not in the stage's filesystem
    // in either order.
    // Listed only when some shipped file is written over (most hoists
    // write none): it splits the shell text of every RUN of the stage.
    let deletions = if clobbered.is_empty() {
        Vec::new()
    } else {
        deletions::of_stage(cx.parse, cx.stage, cx.state)
    };
    let mut deleters: BTreeSet<usize> = BTreeSet::new();
    let mut deleted_files = 0usize;
    let clobbered: Vec<&(String, String)> = clobbered
        .into_iter()
        .filter(|(p, _)| {
            if cand.needed.iter().any(|(n, _)| n == p) {
                return true;
            }
            match deleted_before_use(cx, cand.unit, p, &deletions) {
                Some(k) => {
                    deleters.insert(k);
                    deleted_files += 1;
                    false
                }
                None => true,
            }
        })
        .collect();
    let deleted = (!deleters.is_empty()).then(|| {
        let by: Vec<String> = deleters
            .iter()
            .map(|&k| quoted_at(cx, cx.stage.units[k].item))
            .collect();
        format!(
            "the {deleted_files} shipped file{} it writes over {} deleted by {}, which runs as root before any instruction reads or writes {}, so neither version stays in the image",
            if deleted_files == 1 { "" } else { "s" },
            if deleted_files == 1 { "is" } else { "are" },
            by.join(" and "),
            if deleted_files == 1 { "it" } else { "them" },
        )
    });
    let kept = (!kept.is_empty()).then(|| kept_lock_words(cx, cand, &kept));
    let deleted = match (deleted, kept) {
        (Some(d), Some(k)) => Some(format!("{d}; and {k}")),
        (d, k) => d.or(k),
    };
    if ex.declared_only {
        problems.push(format!(
            "only what `{}` reads is declared (by a pragma); what it writes is not known, so the broad copy might overwrite its results",
            short(&cand.text)
        ));
    } else if let Some((_, rel)) = clobbered
        .iter()
        .find(|(p, _)| cand.needed.iter().any(|(n, _)| n == p))
    {
        // The install rewrites a manifest the inserted COPY needs: ignoring
        // it would break the install, so say what would.
        let img = clobbered
            .iter()
            .find(|(_, r)| r == rel)
            .map_or("", |(p, _)| p.as_str());
        let wide = write_pattern(ex, img).map_or(String::new(), |w| {
            format!(" (it may write `{w}`{})", site_note(ex, w))
        });
        let wide = format!("{wide}{}", npm_lock_stale_note(copy.ctx, rel));
        problems.push(format!(
            "`{}` may rewrite `{rel}`{wide}, which it reads and the broad copy ships, so moving the install above the copy would let the copy put back the old `{rel}`{}",
            short(&cand.text),
            lock_remedy(rel, &cand.text)
                .filter(|_| !go_sum_of_a_local_replace(copy.ctx, rel))
                .map_or(String::new(), |r| format!("; {r}"))
        ));
    } else if let Some((img, rel)) = clobbered
        .iter()
        .find(|(_, rel)| {
            !rel.starts_with('.') && !rel.to_ascii_lowercase().starts_with("dockerfile")
        })
        .or_else(|| clobbered.first())
    {
        // The file named is one of the project's before a hidden one or a
        // Dockerfile ("ships `.dockerignore` and 4 more": scout76 review).
        // The entries to ignore: for each file, its top directory, unless
        // the install reads something else there (`.yarn/releases/` beside
        // `.yarn/install-state.gz`): then the file. Offered only when they
        // are few and leave something to ship (an install that may write
        // anywhere the copy puts files, `apt-get` below `/srv`, has no
        // such remedy).
        let mut tops: Vec<&str> = Vec::new();
        for (_, rel) in &clobbered {
            let top = rel.split('/').next().unwrap_or(rel);
            let top = if cand
                .needed
                .iter()
                .any(|(_, c)| c.starts_with(&format!("{top}/")))
            {
                rel.as_str()
            } else {
                top
            };
            if !tops.contains(&top) {
                tops.push(top);
            }
        }
        let remedy = if tops.len() <= 3 && clobbered.len() < copy.shipped.len() {
            let names: Vec<String> = tops.iter().map(|t| format!("`{t}`")).collect();
            format!(
                "; adding {} to {} would make it safe",
                names.join(", "),
                copy.ctx.ignore_file_name()
            )
        } else {
            String::new()
        };
        let writes = write_pattern(ex, img).map_or("writes".to_string(), |w| {
            format!("may write (`{w}`{})", site_note(ex, w))
        });
        let mut problem = format!(
            "`{}` ships `{rel}`{}, which `{}` {writes}, so moving the install above the copy would let the copy overwrite its result{remedy}",
            short(&copy.text),
            if clobbered.len() > 1 {
                format!(" and {} more", clobbered.len() - 1)
            } else {
                String::new()
            },
            short(&cand.text)
        );
        if let Some(name) = unused_in_later_stages(cx, cand.unit, &clobbered) {
            problem.push_str(&format!(
                " (no later instruction of this stage uses those files and no later stage takes them, so only a build of stage {name} on its own, `--target`, would differ)"
            ));
        }
        problems.push(problem);
    }
    if let Some(ctx) = cx.ctx {
        // The files the checks name by their image paths (pip's and uv's
        // requirement files, a package list, a pip configuration file):
        // those checks read the file found there, which a bind mount
        // takes from the context whatever the copy ships.
        let by_name: Vec<&str> = ex.checks.iter().flat_map(|(c, _)| named_files(c)).collect();
        // A bind-mounted manifest needs no COPY, but it must be the file
        // the broad copy ships at that place (the manifest checks read
        // that), or one the checks read by its image path, mounted away
        // from everything the copy writes.
        for (src, target) in &ex.binds {
            let elsewhere = if copy.placed.is_some() {
                copy.context_path(target).as_deref() != Some(src.as_str())
            } else {
                // A copy of the context directory `copy.src` puts
                // `copy.src/X` at `dest/X`.
                let inner = if copy.src.is_empty() {
                    Some(src.as_str())
                } else {
                    src.strip_prefix(&format!("{}/", copy.src))
                };
                inner.map(|r| effects::resolve(&copy.dest_abs, r)).as_ref() != Some(target)
            };
            let apart = !within(target, &copy.dest_abs) && by_name.contains(&target.as_str());
            if !ctx.ships(src) {
                problems.push(format!(
                    "the bind mount's source `{src}` is not a file the build context ships"
                ));
            } else if elsewhere && apart {
                // pip and uv resolve the `-r`/`-c` includes of a
                // requirement file beside it (measured with pip 23:
                // `-r other.txt` in `/tmp/requirements.txt` opened
                // `/tmp/other.txt`): the image's files there, not the
                // context's the checks would follow.
                let included = extra_manifests(
                    &ManifestCheck::Requirements(vec![target.clone()]),
                    ctx,
                    "",
                    &|img| through_binds(&ex.binds, copy, img),
                );
                if let Some(f) = included.first() {
                    problems.push(format!(
                        "`{src}`, mounted at `{target}`, includes another requirement file (`{f}` in the context), which is read beside the mount in the image, not from the build context"
                    ));
                }
            } else if elsewhere && !ex.checks.is_empty() {
                problems.push(format!(
                    "the bind mount puts `{src}` at `{target}`, not where `{}` ships it, so its manifest checks do not apply",
                    short(&copy.text)
                ));
            }
        }
        let mut read_beyond = Vec::new();
        for (chk, dir) in &ex.checks {
            // A copy of several sources: requirement files are
            // read through its placements; the includes they name are
            // found beside them in the context, which need not be where
            // the copy puts them.
            if copy.placed.is_some() && matches!(chk, ManifestCheck::Requirements(_)) {
                read_beyond.extend(manifest_problems(chk, ctx, "", &|img| {
                    through_binds(&ex.binds, copy, img)
                }));
                let included =
                    extra_manifests(chk, ctx, "", &|img| through_binds(&ex.binds, copy, img));
                if let Some(f) = included.first() {
                    problems.push(format!(
                        "a requirement file includes `{f}`, which is not followed through `{}`, a copy of several sources",
                        short(&copy.text)
                    ));
                }
                continue;
            }
            // Checks of files named by their image paths (pip's and uv's
            // requirement and settings files) hold wherever the install
            // runs: `WORKDIR /srv` with `pip install -r
            // /app/requirements.txt` reads `/app`'s files all the same.
            let by_image_path = matches!(
                chk,
                ManifestCheck::Requirements(_)
                    | ManifestCheck::UvPip(_)
                    | ManifestCheck::UvSettings(_)
                    | ManifestCheck::PipConfig(_)
                    | ManifestCheck::PackageList { .. }
            );
            let rel = copy
                .rel_dir(dir)
                .or_else(|| by_image_path.then(String::new));
            if let Some(rel) = rel {
                read_beyond.extend(manifest_problems(chk, ctx, &rel, &|img| {
                    through_binds(&ex.binds, copy, img)
                }));
                // What its manifests name must be copied first (the
                // analysis adds them to its reads for copies of the whole
                // context only).
                for f in extra_manifests(chk, ctx, &rel, &|img| through_binds(&ex.binds, copy, img))
                {
                    if !cand.needed.iter().any(|(_, n)| *n == f) {
                        problems.push(format!("`{f}` would not be copied first"));
                    }
                }
            }
        }
        // What the manifests say the install reads beyond them, and the
        // risk of that, once.
        read_beyond.dedup();
        // One check's words may be another's with more said (`sets
        // `find-links`` and `sets `find-links`, a directory uv uses`):
        // the longer is kept.
        let said_more = |short: &String, all: &[String]| {
            all.iter().any(|l| {
                l.len() > short.len()
                    && l.starts_with(short.as_str())
                    && l[short.len()..].starts_with(',')
            })
        };
        let copy_of = read_beyond.clone();
        read_beyond.retain(|p| !said_more(p, &copy_of));
        if !read_beyond.is_empty() {
            problems.push(format!(
                "{}: moved above the copy, the install may miss files it reads that only the copy puts there",
                read_beyond.join("; ")
            ));
        }
    }
    // The same line repeated in a manifest is one problem.
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    (problems, deleted)
}

/// The context file a hoisted install finds at image path `img`: the
/// source of a bind mount there (which hides whatever the image holds),
/// else what the broad copy ships there.
fn through_binds(binds: &[(String, String)], copy: &BroadCopy<'_>, img: &str) -> Option<String> {
    match binds.iter().find(|(_, t)| t == img) {
        Some((src, _)) => Some(src.clone()),
        None => copy.context_path(img),
    }
}

/// The image paths of the files a manifest check names by path, wherever
/// the install runs (see [`ManifestCheck::Requirements`]).
fn named_files(chk: &ManifestCheck) -> Vec<&str> {
    match chk {
        ManifestCheck::Requirements(f) | ManifestCheck::UvPip(f) => {
            f.iter().map(String::as_str).collect()
        }
        ManifestCheck::PipConfig(f) => vec![f.as_str()],
        ManifestCheck::PackageList { file, .. } => vec![file.as_str()],
        _ => Vec::new(),
    }
}

/// Whether image path `p` is `dir` or below it.
fn within(p: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.is_empty() || crate::analysis::deletions::covers(dir, p)
}

/// The later unit that deletes the shipped file `p`, which the install
/// (unit `x`) writes over, when one does before any unit after `x` reads
/// or writes it: in the original order the install's version is deleted
/// there, in the new order the copy's is, and every unit in between finds
/// neither touched by the move (the units between the copy and the install
/// see the copy's version in both orders).
fn deleted_before_use(
    cx: &StageCx<'_>,
    x: usize,
    p: &str,
    deletions: &[Vec<String>],
) -> Option<usize> {
    let top = deletions::written_top(&cx.eff[x], p);
    deletions::first_deleter(cx.eff, deletions, x, &top, &[])
}

/// What would keep the lock file `rel` that the install `text` rewrites
/// as it is: the install of the lock's tool with the knowledge base's
/// `writes_unless` flags, spelled as a user writes them; for a
/// `yarn.lock` under npm (which rewrites it beside its own lock in its
/// own form, whatever the yarn flags) leaving it out of the context.
/// `None` for a file no install flag keeps (`.bundle/config`).
fn lock_remedy(rel: &str, text: &str) -> Option<String> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let words = || text.split_whitespace();
    if name == "yarn.lock" && words().any(|w| w == "npm") && !words().any(|w| w == "yarn") {
        return Some("npm rewrites a yarn.lock beside its own lock in its own form (`npm ci` too): leaving it out of the context (.dockerignore) would make it safe".to_string());
    }
    keep_lock_flags(name)
        .map(|h| format!("an install that keeps it as it is ({h}) would make it safe"))
}

/// For an npm lock whose root entry records package.json's fields
/// otherwise: ` (its root entry differs from package.json in `engines`)`;
/// empty otherwise.
fn npm_lock_stale_note(ctx: &Context, rel: &str) -> String {
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    if !matches!(name, "package-lock.json" | "npm-shrinkwrap.json") {
        return String::new();
    }
    let beside = |f: &str| {
        if dir.is_empty() {
            f.to_string()
        } else {
            format!("{dir}/{f}")
        }
    };
    let manifest = beside("package.json");
    let (Some(lock), Some(manifest)) = (ctx.read(rel), ctx.read(&manifest)) else {
        return String::new();
    };
    let fields = manifests::npm_root_disagreement(&lock, &manifest);
    if fields.is_empty() {
        // The lock agrees: a shipped `.npmrc` may be what keeps npm's
        // writing it back from being known (scout80 review).
        let keys = ctx
            .read(&beside(".npmrc"))
            .map(|t| manifests::npmrc_lock_settings(&t))
            .unwrap_or_default();
        if keys.is_empty() {
            return String::new();
        }
        let named: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
        return format!(
            " (the project's `.npmrc` sets {}, which may change what npm writes)",
            named.join(", ")
        );
    }
    let named: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    format!(
        " (its root entry differs from package.json in {})",
        named.join(", ")
    )
}

/// Whether `rel` is a go.sum beside a go.mod that replaces a module with a
/// local directory: a module there has no sums, so "a go.sum with both
/// sums of every module go.mod requires" is no remedy (scout75 review);
/// the local replacement is a reason of its own.
fn go_sum_of_a_local_replace(ctx: &Context, rel: &str) -> bool {
    let Some(dir) = rel.strip_suffix("go.sum") else {
        return false;
    };
    if !(dir.is_empty() || dir.ends_with('/')) {
        return false;
    }
    ctx.read(&format!("{dir}go.mod"))
        .is_some_and(|t| manifests::go_mod_replaces_with_directory(&t))
}

/// How the install of the tool of the lock file `name` keeps it as it is.
fn keep_lock_flags(name: &str) -> Option<&'static str> {
    Some(match name {
        "package-lock.json" | "npm-shrinkwrap.json" => "`npm ci` instead of `npm install`",
        "yarn.lock" => "`yarn install --frozen-lockfile`",
        "pnpm-lock.yaml" => "`pnpm install --frozen-lockfile`",
        "Gemfile.lock" => {
            "`ENV BUNDLE_FROZEN=true`, `bundle config set frozen true` or `bundle install --deployment`"
        }
        "Pipfile.lock" => "`pipenv install --deploy` or `pipenv sync`",
        "uv.lock" => "`uv sync --locked` or `--frozen`",
        "go.sum" => {
            "a go.sum with both sums of every module go.mod requires, as `go mod tidy` writes it"
        }
        // Not a lock file (`.bundle/config`): no install flag keeps it.
        _ => return None,
    })
}

/// The manifests (context path → line) that an earlier plain `COPY` of
/// the stage puts exactly where the broad copy puts them, with the same
/// flags, and that nothing rewrites before the broad copy. An inserted COPY
/// of them would rewrite the same bytes with the same owner and mode over
/// themselves: it changes nothing, so it is left out (the rewrite's check
/// discharges the edge the same way, `check::copied_before`).
fn already_copied(cx: &StageCx<'_>, copy: &BroadCopy<'_>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let Some(ctx) = cx.ctx else {
        return out;
    };
    for u in 0..copy.unit {
        let unit = &cx.stage.units[u];
        let Some(ins) = instruction(cx.parse, unit.item) else {
            continue;
        };
        // A broad copy before this one is a broad copy of its own: a later
        // round may hoist the install above it too (with a COPY).
        if is_broad_copy(cx, u) {
            continue;
        }
        let Some(placed) =
            effects::context_placements(ins, &cx.state.workdirs[u], cx.state.placement_env(u), ctx)
        else {
            continue;
        };
        if placed.flags != effects::normal_copy_flags(&copy.flags) {
            continue;
        }
        for (img, rel) in placed.files {
            let same_place = copy.context_path(&img).as_deref() == Some(rel.as_str());
            let rewritten = (u + 1..copy.unit).any(|k| effects::writes_path(&cx.eff[k], &img));
            if same_place && !rewritten {
                out.insert(rel, cx.parse.items[unit.item].lines.start);
            }
        }
    }
    out
}

/// The inserted COPYs: one per directory, in the order the files are
/// named, with the broad copy's flags and keyword case. The inserted COPY
/// stands where the broad copy stood: it creates the destination (and the
/// manifests' directories) as the broad copy would have, and the broad copy
/// then gives every directory it ships its own mode and owner again
/// (checked with BuildKit: mode and owner of a directory copied over an
/// existing one are the source's). Why not, when a name or the
/// destination would need quoting or where a manifest goes is not known.
fn manifest_copies(
    copy: &BroadCopy<'_>,
    files: &[&String],
    absolute: bool,
) -> Result<Vec<String>, String> {
    let quoted: Vec<String> = files
        .iter()
        .map(|f| {
            quote_path(f).ok_or_else(|| {
                format!("the manifest name `{f}` would need quoting in the inserted COPY")
            })
        })
        .collect::<Result<_, _>>()?;
    let unplaced = || "where the broad copy puts a manifest is not known".to_string();
    let mut by_dir: Vec<(String, Vec<String>)> = Vec::new();
    for (f, orig) in quoted.into_iter().zip(files) {
        // The directory below the copy's destination (for `COPY src ./`,
        // `src/a/x.json` goes to `./a/`; for a copy of several sources,
        // where it puts the file).
        let below = match &copy.placed {
            Some(_) => copy
                .shipped
                .iter()
                .find(|(_, r)| r == *orig)
                .and_then(|(img, _)| copy.image_inner(img))
                .ok_or_else(unplaced)?,
            None => copy.inner(&f),
        };
        let dir = below
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string());
        match by_dir.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, v)) => v.push(f),
            None => by_dir.push((dir, vec![f])),
        }
    }
    let kw = in_copys_case(copy, "COPY");
    // The destination is written as the broad copy has it: one word that
    // BuildKit reads the same way again (not a JSON string with a blank).
    if copy
        .dest
        .contains(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '`'))
    {
        return Err(format!(
            "the broad copy's destination `{}` would need quoting in the inserted COPY",
            copy.dest
        ));
    }
    // An empty destination (`COPY [".", ""]`) is the working directory,
    // as BuildKit reads it.
    let base = if absolute {
        // Written in full (after an inserted `WORKDIR`), as plain as the
        // `WORKDIR`s themselves.
        if !writes_plainly(&copy.dest_abs) {
            return Err(format!(
                "the destination `{}` would need quoting in the inserted COPY",
                copy.dest_abs
            ));
        }
        copy.dest_abs.trim_end_matches('/').to_string()
    } else if copy.dest == "." || copy.dest.is_empty() {
        ".".to_string()
    } else {
        copy.dest.trim_end_matches('/').to_string()
    };
    let mut inserts = Vec::new();
    for (dir, files) in by_dir {
        let mut parts = vec![kw.clone()];
        parts.extend(copy.flags.iter().cloned());
        parts.extend(files);
        parts.push(if dir.is_empty() {
            format!("{base}/")
        } else {
            format!("{base}/{dir}/")
        });
        inserts.push(parts.join(" "));
    }
    Ok(inserts)
}

/// Whether a companion finds a directory the broad copy creates
/// (`WORKDIR /code`): it then needs the inserted COPY before it, which
/// creates it as the broad copy would have.
fn companions_need_copy(cx: &StageCx<'_>, copy: &BroadCopy<'_>, companions: &[usize]) -> bool {
    let dirs = Effects {
        writes: cx.eff[copy.unit]
            .writes
            .iter()
            .filter(|w| matches!(w, Loc::Dir { .. }))
            .cloned()
            .collect(),
        ..Effects::default()
    };
    companions
        .iter()
        .any(|&c| conflict(&dirs, &cx.eff[c]).is_some())
}

/// The reported change of one hoist, `Safe` when nothing is in `problems`.
fn hoist_change(
    cx: &StageCx<'_>,
    copy: &BroadCopy<'_>,
    cand: &Candidate<'_>,
    problems: Vec<String>,
    inserted: usize,
    already: &BTreeMap<String, usize>,
    deleted: Option<&str>,
) -> Change {
    let with_texts: Vec<String> = cand
        .companions
        .iter()
        .filter_map(|&c| instruction(cx.parse, cx.stage.units[c].item))
        .map(|i| i.original.trim().to_string())
        .collect();
    let applicability = if problems.is_empty() {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    };
    let mut manifests: Vec<String> = cand.needed.iter().map(|(_, r)| format!("`{r}`")).collect();
    // The manifests an earlier COPY put in place, and its line.
    let in_place: Vec<(&String, usize)> = cand
        .needed
        .iter()
        .filter_map(|(_, r)| already.get(r).map(|&l| (r, l)))
        .collect();
    let to_copy: Vec<String> = cand
        .needed
        .iter()
        .filter(|(_, r)| !already.contains_key(r))
        .map(|(_, r)| format!("`{r}`"))
        .collect();
    if manifests.len() > 8 {
        // A Maven reactor names dozens of POMs: the diff lists them all.
        let more = manifests.len() - 6;
        manifests.truncate(6);
        manifests.push(format!("{more} more"));
    }
    let with = if with_texts.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = with_texts
            .iter()
            .map(|t| format!("`{}`", short(t)))
            .collect();
        format!(" (with {})", list.join(", "))
    };
    let mut summary = format!(
        "moved `{}`{with} above `{}` (line {})",
        short(&cand.text),
        short(&copy.text),
        copy.line
    );
    if in_place.is_empty() {
        if !manifests.is_empty() {
            summary.push_str(&format!(", copying {} first", manifests.join(", ")));
        }
    } else {
        if !to_copy.is_empty() {
            summary.push_str(&format!(", copying {} first", to_copy.join(", ")));
        }
        let mut lines: Vec<usize> = in_place.iter().map(|(_, l)| *l).collect();
        lines.sort_unstable();
        lines.dedup();
        let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
        let names: Vec<String> = in_place.iter().map(|(r, _)| format!("`{r}`")).collect();
        summary.push_str(&format!(
            ", reading {} as copied on line {}",
            names.join(", "),
            lines.join(", ")
        ));
    }
    let ex = &cx.eff[cand.unit];
    let mounted: Vec<String> = ex.binds.iter().map(|(s, _)| format!("`{s}`")).collect();
    let reason = if problems.is_empty() {
        let reads = match (manifests.is_empty(), mounted.is_empty()) {
            (true, true) => "nothing from the build context".to_string(),
            (false, true) => format!("{} from the build context", manifests.join(", ")),
            (true, false) => format!(
                "{} from the build context through a bind mount (no COPY needed)",
                mounted.join(", ")
            ),
            (false, false) => format!(
                "{} from the build context, and {} through a bind mount (no COPY needed)",
                manifests.join(", "),
                mounted.join(", ")
            ),
        };
        let mut r = match deleted {
            None => format!(
                "it reads {reads}, so it no longer reruns when other files change; every command is in the knowledge base and it writes nothing the broad copy ships"
            ),
            Some(d) => format!(
                "it reads {reads}, so it no longer reruns when other files change; every command is in the knowledge base, and {d}"
            ),
        };
        // What was checked of a requirement file mounted away from the
        // copy, and of a `pyproject.toml` uv reads statically.
        let by_name: Vec<&str> = ex.checks.iter().flat_map(|(c, _)| named_files(c)).collect();
        for (src, target) in &ex.binds {
            if !within(target, &copy.dest_abs)
                && by_name.contains(&target.as_str())
                && copy.context_path(target).as_deref() != Some(src.as_str())
            {
                r.push_str(&format!(
                    "; `{src}` is mounted at `{target}`, outside what the copy writes, and names no other file and no local path"
                ));
            }
        }
        let uv_static = ex.checks.iter().any(|(c, _)| {
            matches!(c, ManifestCheck::UvPip(f) if f.iter().any(|f| f.ends_with("/pyproject.toml") || f == "pyproject.toml"))
        });
        if uv_static {
            r.push_str("; uv reads the requirements of `pyproject.toml` statically (a `[project]` table with its name, version and dependencies, nothing `dynamic`, no local requirement, source or workspace), without building the project");
        }
        if !in_place.is_empty() {
            r.push_str("; an earlier COPY already puts the same files there with the broad copy's flags and nothing rewrites them before it, so no COPY of them is inserted");
        }
        if let Some(item) = ex.bundler_settings_from {
            r.push_str(&format!(
                "; Bundler leaves the lock as it is: `{}` (line {}) set it frozen in Bundler's config files, and nothing since may write them, set `BUNDLE_FROZEN` or change the user, the home or where the files are",
                short(&first_line(cx.text, cx.parse, item)),
                cx.parse.items[item].lines.start
            ));
        }
        if let Some(t) = &ex.file_tests {
            let tests: Vec<String> = t
                .tested
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let name = p.rsplit('/').next().unwrap_or(p);
                    let file = !t.otherwise && k + 1 == t.tested.len();
                    format!("`{name}` {}", if file { "a file" } else { "no file" })
                })
                .collect();
            r.push_str(&format!(
                "; its `if` runs the arm `{}`: the build context and the stage decide each file test on the way ({}), and they test the same above the copy (a tested file it ships is copied first)",
                short(&t.script),
                tests.join(", ")
            ));
        }
        let repo = Reaching::new(&repo_locs(ex), &copy.dest_abs);
        let shipped_repo = copy.shipped_where(|p| repo.touches(p)).next();
        if let Some((_, rel)) = shipped_repo
            && runs_no_git(cx, copy, ex)
        {
            let top = rel.split('/').next().unwrap_or(rel);
            r.push_str(&format!(
                "; the copy ships the git repository (`{top}`), but npm runs git only for git dependencies and its lock lists none, nor any package with an install script, so nothing looks at it"
            ));
        } else if let Some((_, rel)) = shipped_repo
            && git_cannot_run(cx, copy, cand)
        {
            // Discharged so (or by the lock file too: both are true).
            let top = rel.split('/').next().unwrap_or(rel);
            r.push_str(&format!(
                "; the copy ships the git repository (`{top}`), but the base image has no git program, nothing before the install may put one on PATH or install a Composer plugin globally, and its composer.lock lists no plugin (the only code of its packages Composer runs), so nothing looks at it"
            ));
        }
        r
    } else if problems.len() > 1 {
        // A remedy settles its own reason only: with another reason left,
        // following it does not make the move safe (scout73: `npm ci`
        // was said to make an install with a `postinstall` script safe).
        let others = if problems.len() == 2 {
            "the other one"
        } else {
            "the others"
        };
        problems
            .iter()
            .map(|p| {
                p.replace(
                    " would make it safe",
                    &format!(" would settle this reason, not {others}"),
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        problems.join("; ")
    };
    Change {
        kind: ChangeKind::Hoist,
        applicability,
        line: cand.line,
        summary,
        reason,
        applied: applicability >= cx.opts.threshold,
        inserted,
        moved_with: with_texts,
        stage: cx.index,
        subject: instruction(cx.parse, cx.stage.units[cand.unit].item)
            .map(|i| i.original.trim().to_string())
            .unwrap_or_default(),
        anchor: Some((copy.ins.original.trim().to_string(), copy.line)),
        above_line: Some(copy.line),
        edits: Vec::new(),
        split_from: None,
        split_rest: None,
        split_why: None,
    }
}

/// The stage's new order: the units before the copy, the moved ones (each
/// after its inserted COPYs), then the copy and the units that stay.
fn hoisted_order(
    stage: usize,
    b: usize,
    moved: Vec<(usize, Vec<String>, bool)>,
    stays: Vec<usize>,
    restore: Option<String>,
) -> StageOrder {
    let plain = |unit| Group {
        inserts: vec![],
        unit,
        above_comments: false,
    };
    let mut groups: Vec<Group> = (0..b).map(plain).collect();
    groups.extend(
        moved
            .into_iter()
            .map(|(unit, inserts, above_comments)| Group {
                inserts,
                unit,
                above_comments,
            }),
    );
    // The copy's working directory, set again above its comments.
    let mut restore = restore;
    groups.extend(stays.into_iter().map(|unit| match restore.take() {
        Some(w) if unit == b => Group {
            inserts: vec![w],
            unit,
            above_comments: true,
        },
        other => {
            restore = other;
            plain(unit)
        }
    }));
    StageOrder { stage, groups }
}

/// The units among `stays` between the broad copy and the install `x`
/// (after every unit already `moved`, so their order among the moved ones
/// is kept) that the install does not need but that may stand above the
/// copy as well: a unit of state or metadata, or an understood `RUN` that
/// touches nothing the copy ships, passing the copy (all it writes) and
/// every unit that stays below it. Leaving them in place keeps the edit to
/// the copy's own move; moving them, they no longer rerun on every change
/// either. Each is named in the change (`with …`).
fn carried_along(
    cx: &StageCx<'_>,
    copy: &BroadCopy<'_>,
    copy_all: &Effects,
    stays: &[usize],
    companions: &[usize],
    after_moved: usize,
    x: usize,
) -> Vec<usize> {
    let eff = cx.eff;
    let mut carried: Vec<usize> = Vec::new();
    for &s in stays {
        if s == copy.unit || s <= after_moved || s >= x || companions.contains(&s) {
            continue;
        }
        let Some(ins) = instruction(cx.parse, cx.stage.units[s].item) else {
            continue;
        };
        let movable = match ins.node.kind {
            Kind::Env | Kind::Arg | Kind::Label | Kind::Expose => true,
            Kind::Run => eff[s].opaque.is_none() && !eff[s].declared_only,
            _ => false,
        };
        if !movable
            || eff[s].keep
            || copy.ships_into_lookup(&eff[s])
            || conflict(copy_all, &eff[s]).is_some()
        {
            continue;
        }
        // It passes every unit that stays below the copy before it.
        let blocked = stays.iter().any(|&t| {
            t != copy.unit
                && t < s
                && t > copy.unit
                && !carried.contains(&t)
                && !companions.contains(&t)
                && conflict(&eff[t], &eff[s]).is_some()
        });
        if !blocked {
            carried.push(s);
        }
    }
    carried
}

/// The units among `stays` (after the broad copy `b`) that `x` depends on
/// and that may move above `b` with it: `ENV`, `ARG`, `WORKDIR` and `SHELL`
/// units (`USER` with a known home),
/// copies from another stage or image that write nothing it ships,
/// and understood `RUN`s that touch nothing the broad copy ships (the
/// condition of a hoist without manifests), that pass every unit they
/// would move past (the other stays before them, and `b` except for the
/// writes the inserted COPY repeats). `None` when a dependency cannot move.
/// What `x` needs of the units in `supplied` something else gives it (an
/// inserted `WORKDIR`): they are not taken for `x`'s sake.
#[allow(clippy::too_many_arguments)]
fn companions(
    parse: &Parse,
    stage: &Stage,
    eff: &[Effects],
    stays: &[usize],
    b: usize,
    b_rest: &Effects,
    ex: &Effects,
    supplied: &[usize],
    copy: &BroadCopy<'_>,
    may_put_at: &dyn Fn(&str) -> bool,
) -> Option<Vec<usize>> {
    let mut take: Vec<usize> = Vec::new();
    // From the nearest back: a companion's own dependencies come along too.
    for &s in stays.iter().rev() {
        if s == b {
            continue;
        }
        let needed = (conflict(&eff[s], ex).is_some() && !supplied.contains(&s))
            || take.iter().any(|&t| conflict(&eff[s], &eff[t]).is_some());
        if !needed {
            continue;
        }
        let kind = instruction(parse, stage.units[s].item).map(|i| i.node.kind);
        // `USER` too: a `COPY` takes its owner from `--chown` alone, so
        // the user moves above the broad copy when nothing else in
        // between runs as it, and its home is known (an unknown one may
        // be where the copy ships the tool's settings).
        // `SHELL` as well: no copy runs a shell, and what else stays in
        // between and runs one keeps it below (it passes them all, below).
        let state = matches!(
            kind,
            Some(Kind::Env | Kind::Arg | Kind::Workdir | Kind::Shell)
        ) || (kind == Some(Kind::User) && eff[s].user_home_known);
        // `paths_overlap(w, p)`, with `p`'s side made once per shipped file.
        let touches = |locs: &[Loc], base: (&str, bool)| {
            locs.iter().any(
                |l| matches!(l, Loc::Path(w) if effects::bases_overlap(effects::pattern_base(w), base)),
            )
        };
        // Where the broad copy makes a directory (an empty one is shipped
        // but not listed among its files), a unit moved above it finds
        // none: a file put there first stands in the directory's way
        // (`cannot copy to non-directory`), and a `RUN` that writes into
        // it (`echo … > conf/app.ini`) fails or makes a file of that name
        // (`cp x conf`). Its targets, and with `within` the directories
        // above them below the broad copy's destination, may not be one.
        let lands_on_copied_dir = |within: bool| {
            eff[s].writes.iter().any(|w| {
                let Loc::Path(w) = w else { return false };
                let target = w.strip_suffix("/**").unwrap_or(w);
                may_put_at(target)
                    || (within && ancestors(target).any(|a| a != copy.dest_abs && may_put_at(a)))
            })
        };
        let free_run = kind == Some(Kind::Run)
            && eff[s].opaque.is_none()
            && !eff[s].declared_only
            && !copy.ships_into_lookup(&eff[s])
            && !copy.shipped.iter().any(|(p, _)| {
                let base = effects::pattern_base(p);
                touches(&eff[s].reads, base) || touches(&eff[s].writes, base)
            })
            && !lands_on_copied_dir(true);
        // A copy from another stage or an image (`COPY --from=composer:2
        // /usr/bin/composer /usr/bin/`, `COPY --from=ghcr.io/astral-sh/uv
        // /uv /bin/`): it reads nothing of this stage or the context, so
        // it moves when what it writes is none of what the broad copy
        // ships, nor a directory it makes. It makes the directories above
        // its target itself (the broad copy then sets their owner and
        // mode as it would have). With `--link`, though, the copy's layer
        // holds every directory above its target with its own owner and
        // mode, and that layer's order against the broad copy decides
        // which of them the image keeps (moby/buildkit#3602, #4964): none
        // of those below the broad copy's destination may be one either.
        let link = |i: &Instruction| {
            i.node
                .flags
                .iter()
                .any(|f| f == "--link" || f == "--link=true")
        };
        let free_copy = kind == Some(Kind::Copy)
            && instruction(parse, stage.units[s].item).is_some_and(|i| {
                i.node.flags.iter().any(|f| f.starts_with("--from="))
                    && i.node.flags.iter().all(|f| {
                        ["--from=", "--chown=", "--chmod=", "--link"]
                            .iter()
                            .any(|k| f.starts_with(k))
                    })
                    && !lands_on_copied_dir(link(i))
            })
            && eff[s].opaque.is_none()
            && eff[s].context_reads.is_empty()
            && !copy
                .shipped
                .iter()
                .any(|(p, _)| touches(&eff[s].writes, effects::pattern_base(p)));
        if !(state || free_run || free_copy) || eff[s].keep {
            return None;
        }
        take.push(s);
    }
    take.sort_unstable();
    // The broad copy's directories are created by the inserted COPY, which
    // stands first (with its flags, so with its owner); its files are not.
    let b_dirs: Vec<&str> = eff[b]
        .writes
        .iter()
        .filter_map(|w| match w {
            Loc::Dir { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    // Its files are exactly what it ships (the context is listed), not the
    // whole destination tree: `RUN go version` reads a `go.mod` that the
    // copy does not ship.
    let mut b_files = b_rest.clone();
    b_files
        .writes
        .extend(copy.shipped.iter().map(|(p, _)| Loc::Path(p.clone())));
    for &c in &take {
        // It passes the broad copy and every stay before it.
        let mut ce = eff[c].clone();
        ce.writes
            .retain(|w| !matches!(w, Loc::Dir { path, .. } if b_dirs.contains(&path.as_str())));
        if conflict(&b_files, &ce).is_some() {
            return None;
        }
        if stays
            .iter()
            .any(|&s| s != b && s < c && !take.contains(&s) && conflict(&eff[s], &eff[c]).is_some())
        {
            return None;
        }
    }
    Some(take)
}

/// The directories above the absolute path `p`, nearest first (`/a/b/c`:
/// `/a/b`, `/a`, `/`).
fn ancestors(p: &str) -> impl Iterator<Item = &str> {
    let p = p.trim_end_matches('/');
    p.match_indices('/')
        .map(move |(k, _)| if k == 0 { "/" } else { &p[..k] })
        .rev()
}
