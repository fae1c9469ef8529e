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

mod bundler;
mod conditions;
mod copy;
mod links;
mod locks;
mod lookups;
mod node_tools;
mod official;
mod paths;
mod plugins;
mod site_trees;
mod users;

use bundler::*;
pub use conditions::{Resolved, resolve_file_tests};
pub use copy::*;
use links::*;
pub use locks::*;
pub use lookups::*;
use node_tools::*;
pub use official::*;
pub use paths::*;
use plugins::{may_install_poetry_plugin, run_installs_no_poetry_plugin};
pub(crate) use users::*;

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
    /// The manifests (among `manifests`) a command names through a
    /// variable (`pip install -r $REQS`): after an `ARG`, a build may give
    /// it another value and the command read another file.
    pub manifests_by_vars: Vec<String>,
    /// The variables those names use (`REQS`).
    #[serde(skip)]
    pub manifest_vars: Vec<String>,
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
    /// The variables the `RUN`'s own commands exported or changed (`export
    /// npm_config_lockfile_version=2 && npm install`), or gave a command
    /// of theirs (`PIP_CONFIG_FILE=/srv/pip.ini pip install …`), with the
    /// last values they gave (as written): the checks that read a tool's
    /// settings from the stage's environment ([`lock_kept`], pnpm's,
    /// Composer's, the pip settings the hoist reads) read these over it,
    /// as the commands see them.
    #[serde(skip)]
    pub exported: BTreeMap<String, String>,
    /// The item of the earlier `RUN` whose Bundler settings (`frozen`,
    /// `deployment`) keep this `RUN` from writing what it would write
    /// without them (the lock: [`BundleSettings`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundler_settings_from: Option<usize>,
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
    /// One of those installs names a package not measured, or removes
    /// ones it does not name ([`site_trees::measured_apt`]): why. Its
    /// writes under `/srv` and `/usr/src` stay the knowledge base's.
    #[serde(skip)]
    pub archive_unmeasured: Option<String>,
    /// Why its installs' writes under `/srv` and `/usr/src` were not
    /// narrowed to what measured packages write
    /// ([`site_trees::narrow_archive_site_writes`]), for a reason to say.
    #[serde(skip)]
    pub site_note: Option<String>,
    /// A system package manager command of it is not such an install
    /// (`dpkg -i`, `apt-get -o … update`, a keyring package): what it
    /// installs may come from elsewhere, later archive installs too.
    #[serde(skip)]
    pub foreign_packages: bool,
    /// A `RUN` that is one `if` on file tests, read as the arm that runs
    /// ([`conditions`]): for the reason.
    #[serde(skip)]
    pub file_tests: Option<Resolved>,
    /// A command of it may install a Poetry plugin, which a later `poetry`
    /// command loads and runs (see [`plugins`]).
    pub poetry_plugins: bool,
    /// A command of it that may install a Poetry plugin comes before one
    /// of its `poetry` commands, which then may load the plugin.
    pub poetry_plugins_first: bool,
    /// A `RUN` not followed whose commands, read one by one, install no
    /// Poetry plugin: the one not known is Poetry's installer (see
    /// [`plugins`]).
    pub opaque_plugin_free: bool,
}

impl Effects {
    /// Whether one of the manifest checks the unit carries is one `f`
    /// takes.
    pub fn has_check(&self, f: impl Fn(&kb::ManifestCheck) -> bool) -> bool {
        self.checks.iter().any(|(c, _)| f(c))
    }
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

/// The mount targets of a `RUN` (`None`: one not known) at or below a
/// symbolic link made before it (`links`), as paths it writes: BuildKit
/// makes a missing target, and the directories above it, through the
/// link, so moved above the link's maker the `RUN` makes them where the
/// link goes instead (measured: below a `conf -> /etc/foo` the broad copy
/// ships, a hoisted install's secret or cache mount made a real
/// `/app/conf`, and the copy then failed to replace it with its link).
/// A target not known counts as written at every such link.
fn mounts_through_links(mounts: Option<&[String]>, links: &[(String, Option<String>)]) -> Vec<Loc> {
    let below = |t: &str, l: &str| l == "/" || t == l || below_dir(t, l);
    let mut out: Vec<Loc> = Vec::new();
    for (l, _) in links {
        let hit = match mounts {
            Some(ts) => ts
                .iter()
                .filter(|t| below(t, l))
                .map(|t| Loc::Path(t.clone()))
                .collect(),
            None => vec![Loc::Path(l.clone())],
        };
        for loc in hit {
            if !out.contains(&loc) {
                out.push(loc);
            }
        }
    }
    out
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
pub(crate) fn global_arg_defaults(parse: &Parse) -> BTreeMap<String, String> {
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
    analyze_stage_resolved(parse, stage, ctx, knowledge, &BTreeMap::new())
}

/// Like [`analyze_stage_with`], with the file-test `RUN`s the context
/// resolves ([`resolve_file_tests`], by item) analysed as the arm that
/// runs.
pub fn analyze_stage_resolved(
    parse: &Parse,
    stage: &Stage,
    ctx: Option<&Context>,
    knowledge: &kb::Knowledge,
    resolved: &BTreeMap<usize, Resolved>,
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
        mut bundle,
        links: inherited_links,
    } = inherited_state(parse, stage.from_item, ctx, knowledge);
    // Every `SHELL` so far is a POSIX shell run with `-c` (one that is not
    // may switch users: `["su", "app", "-c"]`) that reads no startup file
    // before each command (a login or interactive shell, zsh): a
    // shell-form `RUN` is not understood otherwise, as what the profile
    // sources is not known.
    let mut posix = super::deletions::posix_shell_before(parse, stage.from_item);
    // Whether a `SHELL` before may have made bash the shell (bash run as
    // `sh` reads no `BASH_ENV`).
    let names_bash = |i: &Instruction| {
        super::deletions::shell_set(i).is_some_and(|shell| {
            shell
                .str_args()
                .next()
                .is_some_and(|p| p.rsplit('/').next() == Some("bash"))
        })
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
    // Symbolic links an earlier `RUN` of the stage, or of the stages it is
    // built on, made ([`symlinks_made`]).
    let mut links: Vec<(String, Option<String>)> = inherited_links;
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
            // Bundler settings an earlier `RUN` wrote, as the config files
            // hold them ([`BundleSettings`]).
            let seed = if ins.node.kind == Kind::Run {
                let mounts = mount_targets(ins, &wd);
                bundle.seed(&env, matches!(run_user, RunUser::Root), mounts.as_deref())
            } else {
                BTreeMap::new()
            };
            let created = run_user.homes(&homes, &passwd);
            let chosen = resolved.get(&unit.item);
            let mut e = instruction_effects_seeded(
                ins, &wd, &paths_env, &created, knowledge, &seed, chosen,
            );
            if !seed.is_empty() {
                let without = instruction_effects_seeded(
                    ins,
                    &wd,
                    &paths_env,
                    &created,
                    knowledge,
                    &BTreeMap::new(),
                    chosen,
                );
                if without.writes != e.writes {
                    e.bundler_settings_from = bundle.item;
                }
            }
            e
        };
        // A link the `RUN` makes counts for the whole `RUN` (its commands
        // after the `ln` go through it), but for the link itself, which it
        // makes.
        let made = symlinks_made(ins, &wd);
        let before = links.len();
        let mounts = mount_targets(ins, &wd);
        e.writes
            .extend(mounts_through_links(mounts.as_deref(), &links));
        links.extend(made);
        links.extend(copied_links(parse, unit.item, ins, &wd, &paths_env, ctx));
        through_links(&mut e, &links, before);
        e.is_run = ins.node.kind == Kind::Run;
        e.runs_as_root = e.is_run && matches!(run_user, RunUser::Root) && root_group;
        e.existing_dirs = made_by_workdir.clone();
        match mounts {
            Some(t) => e.mount_targets = t,
            None => e.mount_unknown = true,
        }
        if matches!(ins.node.kind, Kind::Copy | Kind::Add) {
            if dest_absolute_through_vars(parse, unit.item, ins, &paths_env) {
                e.reads.retain(|r| *r != Loc::Workdir);
            }
            refine_copy_writes(ins, &wd, &paths_env, ctx, &mut e);
            // What it writes through links (refined writes are below the
            // destination as written).
            through_links(&mut e, &links, before);
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
        bundle.step(unit.item, ins, &e, &env, matches!(run_user, RunUser::Root));
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
        passwd.advance(ins, &env, &wd, &knowledge.commands, &e);
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
    let debian = base_image(parse, stage.from_item).is_some_and(|image| {
        official_repo(&image)
            .is_some_and(|r| matches!(r, "python" | "ruby" | "golang" | "node" | "debian"))
    });
    // Measured packages write nothing where applications are copied under
    // `/srv` or `/usr/src` (scouts 66-71: `COPY . /srv/app`).
    site_trees::narrow_archive_site_writes(&mut effects, debian);
    if let Some(app) = stage_app_dir(parse, stage, &state, &effects) {
        if debian && app.starts_with("/opt/") {
            drop_archive_opt_writes(&mut effects);
        }
        for e in &mut effects {
            e.app_dir = Some(app.clone());
        }
    }
    (effects, state)
}

/// In a stage whose application directory is under `/opt` (so it starts
/// from an official image, [`stage_app_dir`]) and whose image's apt
/// sources are Debian's main alone (the `python`, `ruby`, `golang`, `node`
/// and `debian` images; not `ubuntu` nor `buildpack-deps`, which has
/// Ubuntu tags), the `apt-get`/`apt`
/// installs from Debian's archive alone ([`locks::archive_installs`]: the
/// image's sources, no `.deb` or option, nothing written below `/etc/apt`
/// since) write nothing in `/opt`: no package of bullseye, bookworm or
/// trixie main ships a file there (their Contents indexes), and Debian
/// Policy leaves `/opt` to the administrator (lintian's
/// `dir-or-file-in-opt`). Their `/opt/**` write is dropped, so they pass
/// the copy of the application there (scout66 and scout67: `WORKDIR
/// /opt/reports`, `COPY . .`, `RUN apt-get install …`). A write of
/// `/opt/**` by another command of the same `RUN` stays.
fn drop_archive_opt_writes(effects: &mut [Effects]) {
    let Some(last) = effects.len().checked_sub(1) else {
        return;
    };
    let archive = locks::archive_installs(effects, last);
    let opt = Loc::Path("/opt/**".to_string());
    for (e, from_archive) in effects.iter_mut().zip(archive) {
        if from_archive.is_none() {
            continue;
        }
        take_archive_writes(e, |w| *w == opt);
    }
}

/// Removes the archive's writes that `pred` picks from both `archive_writes`
/// and `writes` (each once per archive entry: another command of the RUN
/// may write the same place, and keeps its own entry).
pub(super) fn take_archive_writes(e: &mut Effects, pred: impl Fn(&Loc) -> bool) {
    while let Some(k) = e.archive_writes.iter().position(&pred) {
        let w = e.archive_writes.remove(k);
        if let Some(j) = e.writes.iter().position(|x| *x == w) {
            e.writes.remove(j);
        }
    }
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
    /// Bundler settings earlier `RUN`s wrote ([`BundleSettings`]).
    bundle: BundleSettings,
    /// The symbolic links the stages built on made, as the stage's own
    /// `RUN`s' ([`symlinks_made`], [`copied_links`]): a write below one
    /// lands where it points (measured with BuildKit: `ln -s /app/venv
    /// /env` in the stage built on, then `COPY . /app` and `/env/bin/pip
    /// install` hoisted above it, and the copy's six.py replaced pip's).
    links: Vec<(String, Option<String>)>,
}

fn inherited_state(
    parse: &Parse,
    from_item: usize,
    ctx: Option<&Context>,
    knowledge: &kb::Knowledge,
) -> Inherited {
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
                ten: None,
                clean: official,
            },
            bundle: BundleSettings::fresh(image.as_deref()),
            links: Vec::new(),
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
                ten: None,
                clean: false,
            },
            bundle: BundleSettings::default(),
            links: st.links.clone(),
        }
    };
    // (lower-case name, end state: working directory, ENV only) of each
    // earlier stage, and the state of the one being read (with whether it
    // has `ONBUILD` triggers).
    let mut done: Vec<(Option<String>, Inherited)> = Vec::new();
    let mut cur: Option<(Option<String>, Inherited, BTreeMap<String, String>)> = None;
    let mut onbuild = false;
    // The variables the stage's triggers set (`ONBUILD ENV`, `ONBUILD ARG`).
    let mut onbuild_vars: Vec<String> = Vec::new();
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
                bundle: s.bundle.clone(),
                links: s.links.clone(),
            })
    };
    for (k, item) in parse.items.iter().enumerate().take(from_item + 1) {
        let Some(ins) = item.instruction() else {
            continue;
        };
        if ins.node.kind == Kind::From {
            if let Some((name, st, config)) = cur.take() {
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
                let end = if onbuild {
                    // The triggers run after the stage's own `ENV`s,
                    // which stay (an `ONBUILD LABEL` beside `ENV
                    // PIP_CONFIG_FILE=/app/pip.conf` dropped it, and a
                    // hoist above the copy shipping that file was Safe:
                    // measured, the image differed); a variable a
                    // trigger sets or declares is not known.
                    for k in &onbuild_vars {
                        env.insert(k.clone(), UNKNOWN_VALUE.to_string());
                    }
                    Inherited {
                        env,
                        ..triggered(&st)
                    }
                } else {
                    Inherited { env, ..st }
                };
                done.push((name, end));
            }
            onbuild = false;
            onbuild_vars.clear();
            let found = start_of(&done, ins);
            let named_stage = found.is_some();
            let mut start = found.unwrap_or_else(|| fresh(k));
            // `FROM ${BASE}`: the build argument may name any earlier
            // stage (its default often does: `ARG BASE=base`), whose
            // variables the stage then has (measured with BuildKit: an
            // `ENV PIP_CONFIG_FILE` of the stage the default named was
            // not seen, and `pip install` moved above the copy shipping
            // that file). Their values are not known.
            if !named_stage && ins.node.str_args().next().is_some_and(|b| b.contains('$')) {
                for (_, earlier) in &done {
                    for var in earlier.env.keys() {
                        start.env.insert(var.clone(), UNKNOWN_VALUE.to_string());
                    }
                    for link in &earlier.links {
                        if !start.links.contains(link) {
                            start.links.push(link.clone());
                        }
                    }
                }
            }
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
        onbuild_vars.extend(trigger_vars(ins));
        if let Some((_, st, config)) = cur.as_mut() {
            if matches!(ins.node.kind, Kind::Run | Kind::Copy | Kind::Add) {
                let made = symlinks_made(ins, &st.wd);
                st.links.extend(made);
                let copied = copied_links(parse, k, ins, &st.wd, &st.env, ctx);
                st.links.extend(copied);
            }
            if matches!(ins.node.kind, Kind::Run | Kind::Copy | Kind::Add)
                && (st.passwd.known || st.pnpm.clean || st.bundle.known)
            {
                let e = instruction_effects(ins, &st.wd, &st.env, &[], knowledge);
                if st.passwd.known {
                    st.passwd
                        .advance(ins, &st.env, &st.wd, &knowledge.commands, &e);
                }
                st.pnpm = pnpm_step(st.pnpm, ins, &e, &st.env);
                let as_root = matches!(st.user, RunUser::Root) && !sets_home(ins);
                st.bundle.step(k, ins, &e, &st.env, as_root);
            } else if matches!(ins.node.kind, Kind::Run | Kind::Copy | Kind::Add) {
                st.pnpm.ten = None;
            } else {
                st.bundle.step(k, ins, &Effects::default(), &st.env, false);
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
                st.pnpm.ten = None;
            }
        }
    }
    fresh(from_item)
}

/// The names of the variables an `ONBUILD ENV` or `ONBUILD ARG` sets in
/// the stages built on its stage.
fn trigger_vars(ins: &Instruction) -> Vec<String> {
    let child = match (ins.node.kind, ins.node.args.first()) {
        (Kind::Onbuild, Some(crate::syntax::Arg::Sub(child))) => child.as_ref(),
        _ => return Vec::new(),
    };
    let args: Vec<&str> = child.str_args().collect();
    match child.kind {
        Kind::Env => args
            .chunks(3)
            .filter_map(|t| t.first().map(|k| k.to_string()))
            .collect(),
        Kind::Arg => args
            .iter()
            .map(|a| a.split_once('=').map_or(*a, |(k, _)| k).to_string())
            .collect(),
        _ => Vec::new(),
    }
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
/// system trees'), but for `PATH` it may be empty: the base image need
/// not set it, and `ENV LD_LIBRARY_PATH=/opt/lib:$LD_LIBRARY_PATH` then
/// ends in an empty entry, which the loader (and Python, Java) take for
/// the working directory; it stands as an empty entry
/// ([`search_path_dirs`]: the working directory). BuildKit always gives
/// a `RUN` a `PATH`. Any other part that does not expand could be
/// anywhere, so it stands as `/`: the variable's own value too when the
/// Dockerfile set it to something not known (`ARG PATH`).
fn search_path_value(var: &str, raw: &str, env: &BTreeMap<String, String>) -> String {
    raw.split(':')
        .filter_map(|part| match expand(part, env) {
            Some(p) => Some(p),
            None if !env.contains_key(var)
                && (part == format!("${var}") || part == format!("${{{var}}}")) =>
            {
                (var != "PATH").then(String::new)
            }
            None => Some("/".to_string()),
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// The value a `RUN`'s command gives variable `k` (`export k=v`, a prefix
/// assignment) in environment `env`: a search-path variable's as
/// [`search_path_value`] reads it (`$PATH`, the base image's, is dropped;
/// a part not known may be any directory), others as written. The shell
/// expands a `~` that starts the value or follows a `:` in an assignment
/// (`PATH=~/bin:$PATH`, POSIX "Tilde Expansion"; dash does) to a home
/// this does not follow (the user's, `HOME`'s): such a part, like one
/// quoted and kept as written, stands as `/`.
fn exported_value(k: &str, v: &str, env: &BTreeMap<String, String>) -> String {
    if SEARCH_PATH_VARS.contains(&k) {
        let v = v
            .split(':')
            .map(|part| if part.starts_with('~') { "/" } else { part })
            .collect::<Vec<_>>()
            .join(":");
        search_path_value(k, &v, env)
    } else {
        v.to_string()
    }
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
            // Requirement files are named by image paths, and pip finds
            // what they include beside them: where the install runs does
            // not matter (`WORKDIR /srv`, `pip install -r
            // /app/requirements.txt` reads `/app/base.txt`; scout73).
            let by_image_path = matches!(chk, ManifestCheck::Requirements(_));
            for (_, dest) in &dests {
                let rel = if dir == dest {
                    Some(String::new())
                } else {
                    dir.strip_prefix(&format!("{}/", dest.trim_end_matches('/')))
                        .map(str::to_string)
                };
                let Some(rel) = rel.or_else(|| by_image_path.then(String::new)) else {
                    continue;
                };
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
    instruction_effects_seeded(ins, wd, env, created, knowledge, &BTreeMap::new(), None)
}

/// [`instruction_effects`] of a `RUN` whose Bundler finds settings `seed`
/// (variable → value) in its config files, which an earlier `RUN` wrote
/// ([`BundleSettings`]): read below the environment and the `RUN`'s own
/// `bundle config` settings.
fn instruction_effects_seeded(
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    created: &[String],
    knowledge: &kb::Knowledge,
    seed: &BTreeMap<String, String>,
    resolved: Option<&Resolved>,
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
            run_effects(ins, wd, env, created, kb, seed, resolved, &mut e);
            // A resolved file-test `RUN` ([`conditions`]) reads the paths
            // its conditions test, each a manifest: shipped by the broad
            // copy, it is copied first with the install.
            if let Some(r) = resolved
                && e.opaque.is_none()
            {
                for p in &r.tested {
                    e.reads.push(Loc::Path(p.clone()));
                    if !e.manifests.contains(p) {
                        e.manifests.push(p.clone());
                    }
                }
                if !e.reads.contains(&Loc::Workdir) {
                    e.reads.push(Loc::Workdir);
                }
                e.file_tests = Some(r.clone());
            }
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

/// POSIX special built-ins: `dash` (Debian's `/bin/sh`) keeps the
/// assignments written before one of them (`X=v :`) in the shell, where
/// before any other command they are that command's only (measured:
/// `sh -c 'X=1 :; echo $X'` prints 1 in debian:bookworm-slim).
const SPECIAL_BUILTINS: &[&str] = &[
    ":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set",
    "shift", "times", "trap", "unset",
];

/// Why command `n` may or may not change a shell variable that later
/// commands read, when the analysis cannot tell whether it does: an
/// assignment alone (`X=v`) or an `export` that is run in a pipeline or
/// in the background (a subshell: the variable keeps its value), or
/// after a `&&`/`||` whose left side may fail while the commands after
/// its list still run (`false && X=v; pip install -r $X` reads the old
/// value), and assignments written before a special built-in (`X=v :`),
/// which `dash` keeps. `None` when the command changes no variable or
/// always does so.
fn uncertain_assignment(cmds: &[shell::SimpleCommand], n: usize) -> Option<String> {
    use shell::Op;
    let c = &cmds[n];
    let argv0 = c.argv.first().map(String::as_str);
    if !c.assignments.is_empty() && argv0.is_some_and(|a| SPECIAL_BUILTINS.contains(&a)) {
        return Some(format!(
            "an assignment before the special built-in `{}` (kept in the shell by `dash`) is not followed",
            argv0.unwrap_or("")
        ));
    }
    let assigns = (argv0.is_none() && !c.assignments.is_empty()) || argv0 == Some("export");
    if !assigns {
        return None;
    }
    let next = cmds.get(n + 1).and_then(|c| c.joined_by);
    let in_subshell =
        matches!(c.joined_by, Some(Op::Pipe)) || matches!(next, Some(Op::Pipe | Op::Background));
    // After `&&` or `||` the assignment runs only when the list so far
    // allows it; it is certain for the commands that run only if it did:
    // the rest of its `&&` chain, when nothing else follows.
    let conditional = match c.joined_by {
        Some(Op::Or) => true,
        Some(Op::And) => cmds[n + 1..].iter().any(|c| c.joined_by != Some(Op::And)),
        _ => false,
    };
    (in_subshell || conditional).then(|| {
        "a variable assignment in a pipeline, in the background or after `&&`/`||` (it may not happen) is not followed".to_string()
    })
}

/// The variable a word of command `c` assigns as it expands
/// (`${NAME:=word}`, `${NAME=word}`): `: ${PYTHONPATH:=/app/lib}; export
/// PYTHONPATH; pip install …` ran the `pip` package the broad copy ships
/// in `/app/lib` (review 68, measured with BuildKit), and such an
/// assignment was not seen at all. The shell keeps it, exported when the
/// variable is, for every later command.
fn expansion_assignment(c: &shell::SimpleCommand) -> Option<String> {
    let words = c
        .argv
        .iter()
        .chain(c.assignments.iter().map(|(_, v)| v))
        .chain(&c.redirect_writes)
        .chain(&c.redirect_reads)
        .chain(&c.cd);
    for w in words {
        let mut rest = w.as_str();
        while let Some(at) = rest.find("${") {
            rest = &rest[at + 2..];
            let len = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            let tail = &rest[len..];
            if len > 0 && (tail.starts_with(":=") || tail.starts_with('=')) {
                return Some(rest[..len].to_string());
            }
        }
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn run_effects(
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    created: &[String],
    kb: &kb::KnowledgeBase,
    seed: &BTreeMap<String, String>,
    resolved: Option<&Resolved>,
    e: &mut Effects,
) {
    let opaque = |reason: String| {
        let mut o = opaque_effects(&reason);
        o.opaque = Some(reason);
        o
    };
    let (cmds, binds, secrets) = match run_commands(ins, wd, resolved.map(|r| r.script.as_str())) {
        Ok(c) => c,
        Err(reason) => {
            *e = opaque(reason);
            return;
        }
    };
    // A secret set as a variable holds what the build gives: for the
    // commands, a variable of unknown value (as a build argument without
    // a default).
    let with_secrets;
    let env = if secrets.vars.is_empty() {
        env
    } else {
        let mut all = env.clone();
        for v in &secrets.vars {
            all.insert(v.clone(), UNKNOWN_VALUE.to_string());
        }
        with_secrets = all;
        &with_secrets
    };
    e.reads.extend([Loc::User, Loc::Shell]);
    let mut cost: Option<CostClass> = None;
    let mut local_env = env.clone();
    let mut seen = RunScope::default();
    let mut home = HomeUse::default();
    // Settings earlier commands made that the knowledge base reads as
    // variables (see `bundle_config_setting`), not exported to the shell.
    // An earlier `RUN`'s settings come first, below everything else.
    let mut settings: BTreeMap<String, String> = seed.clone();
    // The files the commands so far wrote, by exact path.
    let mut made_here: Vec<String> = Vec::new();
    // Shell variables assigned alone (`X=v`), not exported.
    let mut shell_vars: BTreeMap<String, String> = BTreeMap::new();
    // Names `export` marked while unset: an assignment exports them.
    let mut marked: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    // The search-path directories of commands' own assignments.
    let mut assigned_search: Vec<String> = Vec::new();
    for (n, c) in cmds.iter().enumerate() {
        if let Some(reason) = uncertain_assignment(&cmds, n) {
            *e = opaque(reason);
            return;
        }
        if let Some(name) = expansion_assignment(c) {
            *e = opaque(format!(
                "`${{{name}:=…}}` assigns `{name}` where it expands, which is not followed"
            ));
            return;
        }
        if c.cd.as_deref().is_some_and(relative) {
            seen.uses_workdir = true;
        }
        // `cd DIR` is followed by the splitter (the later commands carry
        // the directory); it writes nothing, and fails unless DIR exists:
        // it reads that directory (review 3, F1: `RUN cd src` moved above
        // the copy that ships `src` failed).
        if c.argv.first().is_some_and(|a| a == "cd") {
            // With `CDPATH` set, `cd web` tries each of its directories
            // before the working directory (POSIX `cd`, step 5; an empty
            // entry is the working directory): where it lands depends on
            // what the image holds there, which a move may change.
            if c.argv.get(1).is_some_and(|d| !d.starts_with(['/', '.']))
                && (local_env.contains_key("CDPATH")
                    || shell_vars.contains_key("CDPATH")
                    || c.assignments.iter().any(|(k, _)| k == "CDPATH"))
            {
                *e = opaque("`cd` with `CDPATH` set is not followed".into());
                return;
            }
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
            let plugin_free = run_installs_no_poetry_plugin(&cmds, kb, &local_env);
            *e = opaque(u);
            e.opaque_plugin_free = plugin_free;
            return;
        }
        seen.add(c, &facts);
        let argv0 = c.argv.first().map(String::as_str).unwrap_or("");
        home.add(argv0, &facts);
        if argv0 == "export" {
            // `export -n X` (bash) unexports X, `export -p` lists; the
            // names after an option are not exported as written.
            if c.argv[1..].iter().any(|a| a.starts_with('-')) {
                *e = opaque("`export` with an option is not followed".into());
                return;
            }
            for a in &c.argv[1..] {
                if let Some((k, v)) = a.split_once('=') {
                    let v = exported_value(k, v, &local_env);
                    local_env.insert(k.to_string(), v);
                } else if let Some(v) = shell_vars.get(a.as_str()) {
                    // `X=v; export X`: the shell variable is exported now.
                    let v = exported_value(a, v, &local_env);
                    local_env.insert(a.clone(), v);
                } else {
                    // `export X; X=v`: X is exported with the value it is
                    // given later.
                    marked.insert(a.clone());
                }
            }
        }
        if c.argv.is_empty() {
            // `X=v` alone: a shell variable, which `export X` exports
            // later; a variable of the environment (an `ENV`, an `ARG`,
            // an earlier `export`) stays exported with its new value
            // (measured: `RUN PIP_TARGET=/app/lib; export PIP_TARGET; pip
            // install …` installed into /app/lib, where the broad copy
            // moved after it replaced what pip wrote).
            // A search-path variable is taken as exported too: BuildKit
            // gives every `RUN` a `PATH`, which the shell looks commands up
            // in exported or not (`PATH=/app/bin:$PATH; pip install …` ran
            // the `pip` the broad copy ships in `/app/bin`), and the base
            // image's environment, which is not known here, may export the
            // others (`PYTHONPATH`, `GEM_HOME`).
            for (k, v) in &c.assignments {
                shell_vars.insert(k.clone(), v.clone());
                if local_env.contains_key(k)
                    || marked.contains(k)
                    || SEARCH_PATH_VARS.contains(&k.as_str())
                {
                    let v = exported_value(k, v, &local_env);
                    local_env.insert(k.clone(), v);
                }
            }
        }
        let dir = match &c.cd {
            Some(d) => resolve(wd, d),
            None => wd.to_string(),
        };
        if !c.argv.is_empty()
            && c.assignments
                .iter()
                .any(|(k, _)| SEARCH_PATH_VARS.contains(&k.as_str()))
        {
            // `PATH=/app/bin:$PATH pip install …`: the command and what
            // it runs look up programs and modules there too.
            let mut own = local_env.clone();
            for (k, v) in &c.assignments {
                let v = exported_value(k, v, &local_env);
                own.insert(k.clone(), v);
            }
            assigned_search.extend(search_path_dirs(&dir, &own));
        }
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
        // A tool's settings are what it runs with: what the commands
        // before it exported counts (review 70: `export
        // npm_config_lockfile_version=2 && npm install` was Safe, "nothing
        // sets npm's configuration", and the lock came out as version 2).
        for (k, v) in &local_env {
            if env.get(k) != Some(v) {
                e.exported.insert(k.clone(), v.clone());
            }
        }
        // A command's own assignments too (`PIP_CONFIG_FILE=/srv/pip.ini
        // pip install …`), for the checks that do not read the line.
        if !c.argv.is_empty() {
            for (k, v) in &c.assignments {
                let v = exported_value(k, v, &local_env);
                e.exported.insert(k.clone(), v);
            }
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
        // A secret set as a variable the command may take a path from,
        // a prefix's too (`GIT_*`, `npm_config_*`: where a build argument
        // without a default is taken as none, a secret is given): its
        // value is not seen, so the `RUN` is not followed.
        if let Some(v) = secrets
            .vars
            .iter()
            .find(|v| path_var_match(&facts.path_env, v).is_some())
        {
            *e = opaque(format!(
                "a secret set as `{v}`, from which `{argv0}` may take a path (its value is not seen here)"
            ));
            return;
        }
        match relocated_paths(&facts.path_env, c, &local_env, &dir) {
            Ok(paths) => {
                // Configuration taken from elsewhere (`APT_CONFIG`) may name
                // other sources: those writes are not the archive's.
                if archive && paths.is_empty() {
                    let these = e.writes[writes_before..].to_vec();
                    e.archive_writes.extend(these);
                    if let Err(why) = site_trees::measured_apt(c, &facts) {
                        e.archive_unmeasured.get_or_insert(why);
                    }
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
        if e.poetry_plugins
            && facts
                .checks
                .iter()
                .any(|k| matches!(k, ManifestCheck::Poetry | ManifestCheck::Pdm { .. }))
        {
            e.poetry_plugins_first = true;
        }
        if may_install_poetry_plugin(c, &facts, &local_env) {
            e.poetry_plugins = true;
        }
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
            // `pip install` only reads it (`pip config` writes it).
            read_as_manifest(e, &p);
            e.checks
                .push((kb::ManifestCheck::PipConfig(p), dir.clone()));
        }
        // pip takes `PIP_CONSTRAINT` as `-c` options, one per word (an
        // appending option's variable is split on whitespace): local
        // files are constraint files of the install, checked (what they
        // include too) and copied with its requirement files (scout73:
        // `ENV PIP_CONSTRAINT=/app/constraints.txt` kept the install below
        // `COPY . .`). A URL or a word with a variable stays a read only.
        let mut constraints: Vec<String> = Vec::new();
        if pip && let Some(v) = local_env.get("PIP_CONSTRAINT") {
            for w in v.split_whitespace() {
                if w.contains("://") || w.contains(['$', '*', '?', '[']) || w.starts_with('~') {
                    continue;
                }
                let p = resolve(&dir, w);
                read_as_manifest(e, &p);
                constraints.push(p);
            }
        }
        for mut chk in facts.checks {
            if let kb::ManifestCheck::Requirements(files) = &mut chk {
                files.extend(constraints.iter().cloned());
            }
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
    for d in assigned_search {
        if !e.lookup_dirs.contains(&d) {
            e.lookup_dirs.push(d.clone());
        }
        let l = Loc::Path(d);
        if !e.implicit_reads.contains(&l) {
            e.implicit_reads.push(l);
        }
    }
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
    // A secret file where a command may read it (`target=/root/.npmrc`):
    // its content is not seen here and may name any file (an npmrc's
    // `cafile`, a pip.conf's `find-links`), so the `RUN` is not followed.
    // Elsewhere (`/run/secrets/ID`, read by no command) it changes nothing
    // the commands do.
    if let Some(f) = secret_read(e, &secrets) {
        *e = opaque(format!(
            "a secret mounted at `{f}`, where its commands may read it (its content is not seen here)"
        ));
    }
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
    // `apt-get update` names no package (`packages` stays unknown), nor
    // do `clean`, `autoclean` (the package cache) and `autoremove` (the
    // archive's packages nothing needs any more): scout67's `apt-get
    // clean` after the install made the whole `RUN` foreign.
    let by_name = match &facts.packages {
        Some(pkgs) => pkgs.iter().all(|p| {
            !p.contains(['/', '$', '*', '?', '[']) && !p.ends_with(".deb") && !p.contains("keyring")
        }),
        None => matches!(
            c.argv[1..]
                .iter()
                .filter(|a| !a.starts_with('-'))
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            ["update" | "clean" | "autoclean" | "autoremove"]
        ),
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
/// Makes the file `p` a pip variable names (`PIP_CONFIG_FILE`,
/// `PIP_CONSTRAINT`) a manifest the install reads: pip only reads it, so
/// the write the variable stood for (the path and its tree) is none.
fn read_as_manifest(e: &mut Effects, p: &str) {
    let tree = format!("{p}/**");
    e.writes
        .retain(|w| !matches!(w, Loc::Path(q) if q == p || *q == tree));
    if !e.manifests.iter().any(|m| m == p) {
        e.reads.push(Loc::Path(p.to_string()));
        e.manifests.push(p.to_string());
    }
}

fn resolve_check(
    chk: kb::ManifestCheck,
    dir: &str,
    local_env: &BTreeMap<String, String>,
) -> kb::ManifestCheck {
    // Files named on the line: expanded and resolved where they can be.
    let paths = |files: &[String]| -> Vec<String> {
        files
            .iter()
            .map(|f| expand(f, local_env).map_or_else(|| f.clone(), |x| resolve(dir, &x)))
            .collect()
    };
    match chk {
        kb::ManifestCheck::Requirements(files) => kb::ManifestCheck::Requirements(paths(&files)),
        kb::ManifestCheck::PackageList {
            file,
            comments_stripped,
            manager,
        } => kb::ManifestCheck::PackageList {
            file: paths(std::slice::from_ref(&file)).remove(0),
            comments_stripped,
            manager,
        },
        kb::ManifestCheck::UvPip(files) => kb::ManifestCheck::UvPip(paths(&files)),
        kb::ManifestCheck::Gradle(files) => kb::ManifestCheck::Gradle(paths(&files)),
        kb::ManifestCheck::Maven(files) => kb::ManifestCheck::Maven(paths(&files)),
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
/// mounts, other heredocs, shell the splitter does not follow). An
/// exec-form `RUN` is its argv, each element a literal word.
#[allow(clippy::type_complexity)]
fn run_commands(
    ins: &Instruction,
    wd: &str,
    resolved: Option<&str>,
) -> Result<(Vec<shell::SimpleCommand>, Vec<(String, String)>, Secrets), String> {
    let node = &ins.node;
    // Bind mounts of single context files: (context path, image path).
    let mut binds: Vec<(String, String)> = Vec::new();
    let mut secrets = Secrets::default();
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
                // An agent's socket: it authenticates what the commands
                // fetch and adds nothing to the image (its target is made
                // as every mount's: `mount_targets`).
                "ssh" => {
                    plain_fields(&m, &[])
                        .ok_or("an ssh mount with variables or fields not followed")?;
                }
                "secret" => secret_mount(&m, wd, &mut secrets)?,
                other => return Err(format!("a mount of type `{other}`")),
            }
        } else if !f.starts_with("--network=") && !f.starts_with("--security=") {
            return Err(format!("RUN flag `{f}` is not understood"));
        }
    }
    if node.json {
        // Exec form: BuildKit runs the array as the command's argv, with no
        // shell and no variable expansion (Dockerfile reference, "Shell and
        // exec form"). Each element single-quoted for the splitter is the
        // same argv, taken literally; heredocs beside it are not followed.
        let argv: Vec<&str> = node.str_args().collect();
        if argv.is_empty() || !ins.heredocs.is_empty() || argv.len() != node.args.len() {
            return Err("exec form RUN".into());
        }
        let script = argv
            .iter()
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect::<Vec<_>>()
            .join(" ");
        return match shell::split(&script) {
            Split::Commands(c) => Ok((c, binds, secrets)),
            Split::Opaque(reason) => Err(reason),
        };
    }
    let Some(script) = ins.run_script() else {
        return Err("a RUN with heredocs other than one plain shell script (`RUN <<EOF`)".into());
    };
    // The arm of a file-test `if` that runs ([`conditions`]).
    let script = match resolved {
        Some(r) if ins.heredocs.is_empty() => std::borrow::Cow::Borrowed(r),
        _ => script,
    };
    match shell::split(&script) {
        Split::Commands(c) => Ok((c, binds, secrets)),
        Split::Opaque(reason) => Err(reason),
    }
}

/// What a `RUN`'s secret mounts (`--mount=type=secret`) give its
/// commands: files put at their targets for this `RUN` only, and
/// variables set from them, each holding what the build is given, which
/// is never seen here (the same in both orders, but it may name anything).
#[derive(Debug, Default)]
struct Secrets {
    /// Image paths of the secret files.
    files: Vec<String>,
    /// Names of the variables set from secrets (`env=NAME`).
    vars: Vec<String>,
}

/// The fields of an ssh mount this reading follows (BuildKit's
/// `commands_runmount.go`); a secret mount's are these and
/// [`SECRET_ONLY_KEYS`].
const SSH_KEYS: &[&str] = &[
    "type",
    "id",
    "target",
    "dst",
    "destination",
    "required",
    "mode",
    "uid",
    "gid",
];

/// The fields only a secret mount has: its source, and `env`
/// (Dockerfile 1.10: the secret as a variable).
const SECRET_ONLY_KEYS: &[&str] = &["source", "src", "env"];

/// `Some(())` when every field of `m` is an ssh mount's or among `more`,
/// and no value names a variable (BuildKit expands them; this reading
/// does not).
fn plain_fields(m: &Mount<'_>, more: &[&str]) -> Option<()> {
    let fields: Vec<&str> = m.keys().collect();
    let known = |k: &&str| SSH_KEYS.contains(k) || more.contains(k);
    let values_plain = [m.id(), m.source(), m.target(), m.env()]
        .into_iter()
        .flatten()
        .all(|v| !v.contains('$'));
    (fields.iter().all(known) && values_plain).then_some(())
}

/// Adds what the secret mount `m` gives the commands to `secrets`: the
/// variable `env=` names, and the file at its target (BuildKit's default
/// `/run/secrets/ID`; a relative target is in the working directory `wd`).
/// A secret set as a variable is taken to be a file at its default target
/// as well (reading more is the safe side).
fn secret_mount(m: &Mount<'_>, wd: &str, secrets: &mut Secrets) -> Result<(), String> {
    plain_fields(m, SECRET_ONLY_KEYS)
        .ok_or("a secret mount with variables or fields not followed")?;
    if let Some(v) = m.env() {
        if v.is_empty() {
            return Err("a secret mount with an empty `env`".into());
        }
        // One every program or shell reads (`PATH`, `LD_PRELOAD`, `HOME`,
        // `BASH_ENV`: where programs, libraries and settings are found) may
        // hold a directory the broad copy fills: not followed.
        if RUN_FIXED_VARS.iter().any(|f| vars_match(f, v)) {
            return Err(format!("a secret set as `{v}`, which every command reads"));
        }
        secrets.vars.push(v.to_string());
    }
    let file = match (m.target(), m.id().or(m.source())) {
        (Some(t), _) if !t.is_empty() => resolve(wd, t),
        (_, Some(id)) if !id.is_empty() && !id.contains('/') => format!("/run/secrets/{id}"),
        _ => return Err("a secret mount whose file is not known".into()),
    };
    if file.contains(['*', '?', '[']) {
        return Err("a secret mount whose file is not known".into());
    }
    secrets.files.push(file);
    Ok(())
}

/// The file of `secrets` that a command of the `RUN` (effects `e`) may
/// read, named or unasked (a home's dotfiles, a tool's configuration).
fn secret_read<'s>(e: &Effects, secrets: &'s Secrets) -> Option<&'s String> {
    secrets.files.iter().find(|f| {
        e.reads
            .iter()
            .chain(&e.implicit_reads)
            .any(|r| matches!(r, Loc::Path(p) if paths_overlap(p, f)))
    })
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
        let p = match p.strip_prefix('~') {
            Some("") => "/root".to_string(),
            Some(r) if r.starts_with('/') => format!("/root{r}"),
            // Another user's home (`~app/x`, dash and bash), the working
            // directories of bash (`~+`, `~-`): not known here.
            Some(_) => return None,
            None => p,
        };
        Some(resolve(dir, &p))
    };
    // The knowledge base writes the home as `/root`; the command uses its
    // user's home (`HOME` as set, else what `/etc/passwd` says: see
    // `user_homes`), and `/root` is kept, for what names it literally.
    let homes = user_homes(local_env, created);
    let with_home = |p: String| in_homes(p, &homes);
    for r in &facts.reads {
        let p = res(r)
            .ok_or_else(|| format!("path `{r}` depends on a variable or a home directory"))?;
        e.reads.extend(with_home(p));
    }
    for w in &facts.writes {
        let p = res(w)
            .ok_or_else(|| format!("path `{w}` depends on a variable or a home directory"))?;
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
    e.manifests_by_vars.extend(
        facts
            .manifests
            .iter()
            .filter(|m| m.contains('$'))
            .filter_map(|m| res(m)),
    );
    for m in facts.manifests.iter().filter(|m| m.contains('$')) {
        for v in vars_used(m) {
            if !e.manifest_vars.contains(&v) {
                e.manifest_vars.push(v);
            }
        }
    }
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
/// `./wheels`), whatever it looks like. A value not known may be any path,
/// a build argument's without a default too (`ARG PIP_INDEX_URL`).
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
            // So does a package index: a value that does not expand here
            // (`${OTHER:-index}`, a variable of the base image), and a
            // build argument without a default (`ARG PIP_INDEX_URL`),
            // which the build may set to `file:///app/simple`, an index the
            // copy ships (measured: the hoisted install found no
            // distribution).
            None if location => return Err(name.clone()),
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

    #[test]
    fn an_rm_beside_user_tools_keeps_the_user_database_known_only_off_its_files() {
        let users = |text: &str| {
            let p = crate::syntax::parse(&format!("FROM x\nRUN {text}\n"));
            let ins = p.instructions().map(|(_, i)| i).nth(1).expect("the RUN");
            users::user_tool_users(ins, &BTreeMap::new()).is_some()
        };
        for kept in [
            "apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
            "apt-get install -y curl && rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/*",
            "useradd -m app && rm -f /var/log/lastlog /var/log/faillog",
            "apk add --no-cache git && rm -rf -- /var/cache/apk/*",
        ] {
            assert!(users(kept), "{kept}");
        }
        for unknown in [
            "apt-get install -y curl && rm -f /etc/passwd",
            "apt-get install -y curl && rm -rf /etc/*",
            "apt-get install -y curl && rm -rf /etc/default",
            "apt-get install -y curl && rm -rf /etc",
            "apt-get install -y curl && rm -rf --no-preserve-root /",
            "apt-get install -y curl && rm -f /etc/pass[w]d",
            "apt-get install -y curl && rm -f /etc/logi?.defs",
            "apt-get install -y curl && rm -rf $LISTS",
            "apt-get install -y curl && rm -rf lists",
            "apt-get install -y curl && rm -rf /var/../etc/passwd",
            "apt-get install -y curl && rm -rf",
            "apt-get install -y curl && rm -rf /var/lib/apt/lists/* > /etc/passwd",
        ] {
            assert!(!users(unknown), "{unknown}");
        }
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
