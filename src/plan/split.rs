//! Split a compound `RUN` so that its dependency install can be hoisted.
//!
//! What it does: after a broad copy, `RUN npm ci && npm run build` becomes
//! `RUN npm ci` and `RUN npm run build`, split at the top-level `&&` after
//! the longest run of commands the knowledge base understands that do not
//! build from the source tree (at least one of them an install). Why: the
//! install can then move above the broad copy; the hoist decides, and a
//! split whose install is not hoisted is not made (the rewriter plans with
//! the candidate splits and keeps only the used ones). Example:
//! `COPY . .` / `RUN pip install -r requirements.txt && python manage.py
//! collectstatic` becomes `COPY requirements.txt ./` / `RUN pip install -r
//! requirements.txt` / `COPY . .` / `RUN python manage.py collectstatic`.
//!
//! Fix safety: the two `RUN`s run the same commands, in the same order,
//! with the same environment, shell, user, working directory and mounts
//! (the flags are repeated), and fail where the original fails, when:
//! - every top-level operator is `&&` (pipes only inside the rest): a
//!   failing command stops the build at the same point either way;
//! - no shell state crosses the split: the first part is simple commands
//!   only, none a bare assignment, an expansion that assigns (`:
//!   ${MSG:=hello}`, `$((N=5))`) or a builtin that changes the shell
//!   (`export`, `set`, `umask`, `source`, …) except one leading `cd DIR` to
//!   a plain directory, which the rest then repeats (`cd web && npm ci &&
//!   npm run build` gives `RUN cd web && npm ci` and `RUN cd web && npm run
//!   build`); and the rest reads no special parameter of the first part
//!   (`$?`, `$!`, `$_`, `OLDPWD`);
//! - the rest deletes or rewrites nothing the first part wrote (the files
//!   would stay in the first part's layer and the image would grow): no
//!   removal of a path it wrote (also through `sh -c`, `env`, `sudo`,
//!   `xargs`, `python -m pip`), no package removal or cache cleaning, no
//!   known command writing where it wrote (a second install of the same
//!   tree, `chown -R`, `sed -i`; `pip install --no-deps` of the project
//!   itself writes nothing the first part did, nor `pip install -e .` of a
//!   project every dependency of which the first part's requirement files
//!   pin: see [`installs_satisfied_project`]), and no unknown command
//!   given a path it wrote (`gzip`, `strip`, `patch -d`);
//! - when the first part may hard-link what it installs to a second name
//!   (pnpm, bun, Yarn, uv, conda: their store or cache; `cp -l`, `ln`),
//!   the rest runs no code the knowledge base does not read (a build, an
//!   unknown command): a write in place changes both names in one layer,
//!   one name only across two;
//! - the rest does not run by name (also through `command`, `time`,
//!   `type`, `hash`) a command the first part may have put earlier in
//!   `PATH` after the first part looked it up (the original shell
//!   remembers where it found it; `corepack enable && pnpm install && pnpm
//!   build` is fine: the shim is there before pnpm is first looked up); the
//!   system directories count besides a `PATH` the stage sets, and a
//!   relative or unknown directory in it keeps any command run again by
//!   name from being split off;
//! - what the first part writes outlives its `RUN` and is there for the
//!   rest: nothing below `/dev`, `/proc` or `/sys` (mounted afresh for
//!   each `RUN`), no `tmpfs` or `rw` bind mount, and no cache mount it
//!   writes into (a cached install layer does not bring the mount's
//!   content back), its home's paths taken in any user's home and any
//!   mount counted when a variable may move what it writes
//!   (`npm_config_cache`);
//! - `exit`, `return`, `break` and `continue` never end the first part;
//! - the shell is a POSIX shell (no `SHELL` other than sh, bash, ash, dash
//!   or zsh with `-c`) that reads no startup file (no login or interactive
//!   option, not zsh, no `BASH_ENV`: the rest's would run after the first
//!   part's writes), the escape character is `\`, and the instruction
//!   has no comment or blank line inside its continuation lines.
//!
//! The replacement text keeps the original bytes of both parts (their line
//! breaks and indentation); it is parsed again and must give two `RUN`s
//! with the original flags whose commands are exactly the two parts.

use super::{Change, ChangeKind, Options, StageCx, hoist, instruction, short};
use crate::analysis::context::Context;
use crate::analysis::deletions::posix_shell_before;
use crate::analysis::effects;
use crate::analysis::file::FileAnalysis;
use crate::analysis::kb::{self, CostClass, Knowledge};
use crate::analysis::shell::{self, Op, SimpleCommand};
use crate::syntax::{self, Instruction, Kind, Mount, Parse};

/// One `RUN` split in two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Stage index.
    pub stage: usize,
    /// Item index of the `RUN` in the text it was planned on.
    pub item: usize,
    /// The `RUN`'s trimmed text (its logical line) before the split.
    pub original: String,
    /// The trimmed text of the first new `RUN` (the install).
    pub install: String,
    /// The trimmed text of the second new `RUN` (the rest).
    pub rest: String,
    /// Whether the rest installs the project with pip, every dependency of
    /// which the install pinned ([`installs_satisfied_project`]).
    pub pinned_project: bool,
    /// The bytes that replace the `RUN`'s span: both new `RUN`s.
    pub replacement: String,
    /// Where the rest's `RUN` starts in `replacement`.
    pub rest_at: usize,
    /// The commands of the rest the knowledge base does not know (`npm run
    /// build`, `make`): what they delete is not seen, so the reason says
    /// so rather than that the rest deletes nothing.
    pub unread_rest: Vec<String>,
}

/// Builtins whose effect lasts for the rest of the shell: a first part
/// with one of them would change how the rest runs.
const SHELL_STATE: &[&str] = &[
    "cd", "export", "set", "unset", "umask", "alias", "unalias", "source", ".", "shopt", "trap",
    "exec", "pushd", "popd", "declare", "typeset", "readonly", "local", "hash", "ulimit", "eval",
    "read", "shift", "getopts", "enable", "builtin", "let",
    // They end the shell (or its loop): the original runs nothing after
    // them, a split rest would run.
    "exit", "return", "break", "continue",
];

/// Commands that remove files, and the subcommands (`None`: any) of
/// package managers that remove packages or clean caches.
const REMOVERS: &[(&str, Option<&[&str]>)] = &[
    ("rm", None),
    ("rmdir", None),
    ("unlink", None),
    ("shred", None),
    ("truncate", None),
    ("mv", None),
    ("find", None),
    (
        "apt-get",
        Some(&["remove", "purge", "autoremove", "clean", "autoclean"]),
    ),
    (
        "apt",
        Some(&["remove", "purge", "autoremove", "clean", "autoclean"]),
    ),
    ("apk", Some(&["del", "cache"])),
    ("yum", Some(&["remove", "erase", "clean", "autoremove"])),
    ("dnf", Some(&["remove", "erase", "clean", "autoremove"])),
    ("microdnf", Some(&["remove", "clean"])),
    ("pip", Some(&["uninstall", "cache"])),
    ("pip3", Some(&["uninstall", "cache"])),
    // Besides removals, the subcommands (and their aliases) the knowledge
    // base does not know that install, update, relink or rebuild packages
    // in place: unknown, they would count as writing only the paths they
    // are given (`npm add ms`, `npm install-clean`, `composer
    // dump-autoload` rewrite what the install wrote).
    (
        "npm",
        Some(&[
            "prune",
            "uninstall",
            "un",
            "rm",
            "remove",
            "r",
            "unlink",
            "cache",
            "dedupe",
            "ddp",
            "add",
            "in",
            "ins",
            "inst",
            "insta",
            "instal",
            "isnt",
            "isnta",
            "isntal",
            "isntall",
            "ic",
            "install-clean",
            "isntall-clean",
            "it",
            "install-test",
            "cit",
            "install-ci-test",
            "clean-install-test",
            "sit",
            "update",
            "up",
            "upgrade",
            "udpate",
            "rebuild",
            "rb",
            "link",
            "ln",
            "fix",
        ]),
    ),
    (
        "yarn",
        Some(&[
            "remove",
            "cache",
            "autoclean",
            "add",
            "upgrade",
            "upgrade-interactive",
            "up",
            "link",
            "unlink",
            "dedupe",
            "rebuild",
            "unplug",
            "import",
        ]),
    ),
    (
        "pnpm",
        Some(&[
            "prune",
            "remove",
            "rm",
            "uninstall",
            "un",
            "store",
            "add",
            "update",
            "up",
            "upgrade",
            "link",
            "ln",
            "unlink",
            "rebuild",
            "rb",
            "dedupe",
            "import",
            "it",
            "install-test",
        ]),
    ),
    (
        "composer",
        Some(&[
            "remove",
            "rm",
            "clear-cache",
            "clearcache",
            "cc",
            "update",
            "u",
            "upgrade",
            "require",
            "r",
            "reinstall",
            "dump-autoload",
            "dumpautoload",
            "bump",
        ]),
    ),
    ("gem", Some(&["uninstall", "cleanup", "update", "pristine"])),
    ("bundle", Some(&["clean", "update", "add", "remove"])),
    // `git clean -x` removes ignored files: an installed tree.
    ("git", Some(&["clean"])),
    ("go", Some(&["clean"])),
    ("cargo", Some(&["clean"])),
    ("mvn", Some(&["clean"])),
    ("gradle", Some(&["clean"])),
    ("dotnet", Some(&["clean", "nuget"])),
    ("poetry", Some(&["cache", "remove"])),
    ("uv", Some(&["cache", "remove"])),
];

/// The candidate splits of a file: compound `RUN`s after a broad copy
/// whose first part is an install the hoist may move. Planned speculatively:
/// the rewriter keeps those whose install it hoists.
pub fn plan_splits(
    file: &FileAnalysis,
    ctx: Option<&Context>,
    knowledge: &Knowledge,
    opts: Options,
) -> Vec<Split> {
    let parse = &file.parse;
    let splits: Vec<Split> = candidates(file, ctx, knowledge, opts)
        .into_iter()
        .filter_map(|(_, s)| s.ok())
        .collect();
    // A split is recognised by the text of its install (the hoist's
    // subject): two candidates with the same install in a stage, or an
    // install equal to an instruction already there, could not be told
    // apart.
    let existing = |si: usize, t: &str| {
        file.model.stages[si]
            .units
            .iter()
            .any(|u| instruction(parse, u.item).is_some_and(|i| i.original.trim() == t))
    };
    let dup = |s: &Split| {
        splits
            .iter()
            .filter(|o| o.stage == s.stage && o.install == s.install)
            .count()
            > 1
            || existing(s.stage, &s.install)
    };
    let keep: Vec<bool> = splits.iter().map(|s| !dup(s)).collect();
    splits
        .into_iter()
        .zip(keep)
        .filter_map(|(s, k)| k.then_some(s))
        .collect()
}

/// The compound `RUN`s after a stage's first broad copy that have a split
/// point, by item: the split, or why the two parts may not run apart
/// (`-v` says it of an install left below the copy).
pub fn split_refusals(
    file: &FileAnalysis,
    ctx: Option<&Context>,
    knowledge: &Knowledge,
    opts: Options,
) -> Vec<(usize, String)> {
    candidates(file, ctx, knowledge, opts)
        .into_iter()
        .filter_map(|(item, s)| Some((item, s.err()?)))
        .collect()
}

/// Each `RUN` after a stage's first broad copy with a split point: its
/// item and its split, or why it may not be split.
fn candidates(
    file: &FileAnalysis,
    ctx: Option<&Context>,
    knowledge: &Knowledge,
    opts: Options,
) -> Vec<(usize, Result<Split, String>)> {
    let parse = &file.parse;
    if parse.escape != '\\' {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (si, stage) in file.model.stages.iter().enumerate() {
        let cx = StageCx {
            parse,
            text: &file.text,
            index: si,
            stage,
            eff: &file.stages[si].effects,
            state: &file.stages[si].state,
            stages: &file.model.stages,
            analyses: &file.stages,
            ctx,
            opts,
        };
        let Some(first_copy) = (0..stage.units.len()).find(|&b| hoist::is_broad_copy(&cx, b))
        else {
            continue;
        };
        for x in first_copy + 1..stage.units.len() {
            let unit = &stage.units[x];
            if unit.keep || unit.declared_reads.is_some() {
                continue;
            }
            let Some(ins) = instruction(parse, unit.item) else {
                continue;
            };
            if !posix_shell_before(parse, unit.item) {
                continue;
            }
            let wd = &cx.state.workdirs[x];
            let env = &cx.state.env[x];
            let file_at = |dir: &str, name: &str| hoist::file_before(&cx, x, dir, name);
            let image = Image {
                file: &file_at,
                pip_defaults: pip_settings_are_defaults(&cx, x),
                python_dir: python_dir_at(&cx, x),
                pinned_project: Default::default(),
            };
            let copy = &cx.eff[first_copy];
            match split_run(file, si, unit.item, ins, wd, env, knowledge, &image, copy) {
                Ok(split) => out.push((unit.item, Ok(split))),
                Err(Some(why)) => out.push((unit.item, Err(why))),
                Err(None) => {}
            }
        }
    }
    out
}

/// The split of one `RUN`, when it has a split point and both parts are
/// independent and the replacement reads back as the two parts; `None`
/// when it has no split point (or is no candidate), else why not.
#[allow(clippy::too_many_arguments)]
fn split_run(
    file: &FileAnalysis,
    stage: usize,
    item: usize,
    ins: &Instruction,
    wd: &str,
    env: &std::collections::BTreeMap<String, String>,
    knowledge: &Knowledge,
    image: &Image<'_>,
    copy: &effects::Effects,
) -> Result<Split, Option<String>> {
    if ins.node.kind != Kind::Run || ins.node.json || !ins.heredocs.is_empty() {
        return Err(None);
    }
    let cmd = ins.node.str_args().next().ok_or(None)?;
    let SplitPoint { at, first, cd } =
        split_point(cmd, &knowledge.commands, env, wd, copy).ok_or(None)?;
    if ins.node.flags.iter().any(|f| transient_mount(f)) {
        return Err(Some(
            "a mount of the `RUN` would be another in each part".to_string(),
        ));
    }
    if !reads_no_startup_file(&file.parse, item, env) {
        return Err(Some(
            "its shell runs a startup script first, which the rest would run after the install"
                .to_string(),
        ));
    }
    let prefix = cmd[..at].trim_end();
    // The rest starts in the directory the first part's `cd` moved to.
    let cd_prefix = cd.map(|d| format!("cd {d} && ")).unwrap_or_default();
    let rest = format!("{cd_prefix}{}", cmd[at + 2..].trim());
    let rest_cmds = rest_is_independent(
        &rest,
        &ins.node.flags,
        &first,
        wd,
        env,
        &knowledge.commands,
        image,
    )
    .map_err(Some)?;
    let unread_rest = unread_commands(&rest_cmds, env, &knowledge.commands);
    let raw = file.parse.items[item].span.text(&file.text);
    let (replacement, rest_at) =
        replacement_text(raw, ins, at, &cd_prefix, &file.text).ok_or(None)?;
    let (install, rest, ok) = reads_back(&replacement, ins, prefix, &rest).ok_or(None)?;
    if !ok {
        return Err(None);
    }
    Ok(Split {
        stage,
        item,
        original: ins.original.trim().to_string(),
        install,
        rest,
        unread_rest,
        pinned_project: image.pinned_project.get(),
        replacement,
        rest_at,
    })
}

/// Whether the shell of the `RUN` at `item` reads no startup file: each
/// `RUN` of a login or interactive shell (`SHELL ["/bin/sh", "-l", "-c"]`,
/// `--login`, `-i`, `--rcfile`), of zsh (`.zshenv`, always), or of bash
/// with `BASH_ENV` set runs a script first, and the script of the rest
/// would see what the first part wrote (a profile that puts
/// `~/.local/bin` in `PATH` when it exists, a `BASH_ENV` in the installed
/// tree): the original ran it before the first part. Options that only set
/// shell options (`-e`, `-o pipefail`, `-O extglob`, `--posix`) are fine.
fn reads_no_startup_file(
    parse: &Parse,
    item: usize,
    env: &std::collections::BTreeMap<String, String>,
) -> bool {
    !env.contains_key("BASH_ENV") && posix_shell_before(parse, item)
}

/// Where a `RUN`'s command text is split: the byte offset of the `&&`, the
/// commands before it, and the directory a leading `cd` moved to (the rest
/// then starts with the same `cd`).
struct SplitPoint {
    at: usize,
    first: Vec<SimpleCommand>,
    cd: Option<String>,
}

/// The split point of a `RUN`'s command text: after the longest run of
/// `&&`-joined simple commands the knowledge base knows, that keep no shell
/// state and do not build from the whole tree (a leading `cd DIR` to a
/// plain directory is allowed: the rest repeats it), when one of them is
/// an install, something follows, and every top-level operator is `&&` (or
/// a pipe after the split point).
fn split_point(
    cmd: &str,
    kb: &kb::KnowledgeBase,
    env: &std::collections::BTreeMap<String, String>,
    wd: &str,
    copy: &effects::Effects,
) -> Option<SplitPoint> {
    let ops = shell::top_level_ops(cmd)?;
    let ands: Vec<usize> = ops
        .iter()
        .filter(|(op, _)| *op == Op::And)
        .map(|(_, at)| *at)
        .collect();
    if ands.is_empty() || ops.iter().any(|(op, _)| !matches!(op, Op::And | Op::Pipe)) {
        return None;
    }
    let mut first: Vec<SimpleCommand> = Vec::new();
    let mut cd: Option<String> = None;
    let mut install = false;
    let mut start = 0;
    let mut split_at = None;
    for (k, &at) in ands.iter().enumerate() {
        let piece = &cmd[start..at];
        start = at + 2;
        if k == 0
            && let Some(dir) = leading_cd(piece)
        {
            cd = Some(dir);
            continue;
        }
        let Some((mut c, is_install)) = hoistable_command(piece, kb, env) else {
            break;
        };
        c.cd = cd.clone();
        install |= is_install;
        first.push(c);
        if install {
            split_at = Some((at, first.len(), start));
        }
    }
    let (at, n, after) = split_at?;
    // When the last piece could be hoisted too, the whole RUN can: no
    // split is needed. Not when it is no install and reads or writes
    // where the broad copy writes (`pip install -r requirements.txt &&
    // chmod +x start.sh`): then the whole RUN stays below the copy, and
    // only the install, split off, can move. (A last install moves with
    // its manifests, or the whole RUN stays.)
    if after == start
        && first.len() + usize::from(cd.is_some()) == ands.len()
        && hoistable_command(&cmd[start..], kb, env).is_some_and(|(mut c, install)| {
            c.cd = cd.clone();
            install || !touches_copy(&c, kb, env, wd, copy)
        })
    {
        return None;
    }
    // Every pipe is after the split point.
    if ops.iter().any(|(op, p)| *op == Op::Pipe && *p < at) {
        return None;
    }
    first.truncate(n);
    Some(SplitPoint { at, first, cd })
}

/// Whether a command reads or writes where the broad copy writes (its
/// paths resolved where it runs).
fn touches_copy(
    c: &SimpleCommand,
    kb: &kb::KnowledgeBase,
    env: &std::collections::BTreeMap<String, String>,
    wd: &str,
    copy: &effects::Effects,
) -> bool {
    let facts = kb::interpret(c, kb, env);
    let dir = command_dir(c, wd);
    facts
        .reads
        .iter()
        .chain(&facts.writes)
        .any(|p| effects::writes_path(copy, &effects::resolve(&dir, p)))
}

/// The directory of a piece that is only `cd DIR` to a plain directory
/// (letters, digits, `._-/+@`; not `-` or `~`).
fn leading_cd(piece: &str) -> Option<String> {
    let shell::Split::Commands(cmds) = shell::split(piece) else {
        return None;
    };
    let [c] = cmds.as_slice() else {
        return None;
    };
    let [name, dir] = c.argv.as_slice() else {
        return None;
    };
    let plain = !dir.is_empty()
        && dir != "-"
        && dir
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._-/+@".contains(ch));
    (name == "cd" && c.assignments.is_empty() && plain && piece.trim() == format!("cd {dir}"))
        .then(|| dir.clone())
}

/// One piece of an `&&` chain as a simple command the first part may hold,
/// and whether it is an install.
fn hoistable_command(
    piece: &str,
    kb: &kb::KnowledgeBase,
    env: &std::collections::BTreeMap<String, String>,
) -> Option<(SimpleCommand, bool)> {
    if assigns_a_variable(piece) {
        return None;
    }
    let shell::Split::Commands(mut cmds) = shell::split(piece) else {
        return None;
    };
    if cmds.len() != 1 {
        return None;
    }
    let c = cmds.pop()?;
    let name = c.argv.first()?;
    if SHELL_STATE.contains(&name.as_str()) || c.cd.is_some() {
        return None;
    }
    let facts = kb::interpret(&c, kb, env);
    if facts.unknown.is_some() || facts.cost == Some(CostClass::Build) {
        return None;
    }
    let whole_tree = |p: &String| matches!(p.as_str(), "./**" | "**" | "." | "./");
    if facts.reads.iter().any(whole_tree) || facts.writes.iter().any(whole_tree) {
        return None;
    }
    Some((c, facts.cost == Some(CostClass::Install)))
}

/// Whether a piece of the first part may assign a shell variable while it
/// expands its words: `${NAME=word}`, `${NAME:=word}` (`: ${MSG:=hello}`
/// sets `MSG` for the rest of the shell), or arithmetic (`$((N=5))`,
/// `$[N=5]`). Measured with BuildKit: `RUN : ${MSG:=hello} && npm ci &&
/// echo $MSG > msg.txt` split after `npm ci` wrote an empty `msg.txt`.
/// Quotes are not followed: a quoted one counts too.
fn assigns_a_variable(piece: &str) -> bool {
    let b = piece.as_bytes();
    (0..b.len()).any(|i| {
        if b[i] != b'$' {
            return false;
        }
        match b.get(i + 1) {
            Some(b'{') => {
                let mut k = i + 2;
                while b
                    .get(k)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    k += 1;
                }
                b.get(k) == Some(&b'=') || (b.get(k) == Some(&b':') && b.get(k + 1) == Some(&b'='))
            }
            Some(b'[') => true,
            Some(b'(') => b.get(i + 2) == Some(&b'('),
            _ => false,
        }
    })
}

/// The commands of the rest of a split `RUN` when it can run in a shell
/// of its own: it reads no special parameter of the first part's shell
/// and deletes nothing the first part wrote (nor removes packages or
/// cleans caches). Else why not, in words.
fn rest_is_independent(
    rest: &str,
    flags: &[String],
    first: &[SimpleCommand],
    wd: &str,
    env: &std::collections::BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
    image: &Image<'_>,
) -> Result<Vec<SimpleCommand>, String> {
    if ["$?", "$!", "$_", "${?}", "${!}", "${_}", "$$", "OLDPWD"]
        .iter()
        .any(|p| rest.contains(p))
    {
        return Err(
            "the rest reads a parameter of the install's shell (`$?`, `$!`, `$_`, `$$`, `OLDPWD`)"
                .to_string(),
        );
    }
    let shell::Split::Commands(cmds) = shell::split(rest) else {
        // What it removes cannot be seen.
        return Err(
            "the rest is not followed, so what it deletes of the install's files is not known"
                .to_string(),
        );
    };
    let writes_of: Vec<Vec<String>> = first
        .iter()
        .map(|c| {
            let dir = command_dir(c, wd);
            kb::interpret(c, kb, env)
                .writes
                .into_iter()
                .map(|w| effects::resolve(&dir, &w))
                .collect()
        })
        .collect();
    let written: Vec<String> = writes_of.iter().flatten().cloned().collect();
    let said = |c: &SimpleCommand| c.argv.join(" ");
    if writes_a_per_run_mount(&written) {
        return Err(
            "the install writes into a mount of the `RUN`, which the rest would not see"
                .to_string(),
        );
    }
    if path_lookup_changes(first, &cmds, &writes_of, env, image.python_dir) {
        return Err(
            "the install may put programs where the rest's commands are looked up".to_string(),
        );
    }
    if fills_a_cache_mount(flags, &written, wd, moved_by_env(first, env, kb)) {
        return Err("the install fills a cache mount the rest may read".to_string());
    }
    if may_write_through_a_link(first, &cmds, wd, env, kb, image) {
        return Err("the install may hard-link files it installs to a second name, and the rest runs code not read here (or links files itself), which may write in place through one of them".to_string());
    }
    if let Some(c) = cmds.iter().find(|c| removes_written(c, &written, wd)) {
        return Err(format!(
            "`{}` deletes files the install writes (split, they would stay in the install's layer)",
            said(c)
        ));
    }
    if let Some(c) = cmds.iter().find(|c| {
        overwrites_written(c, &written, wd, env, kb)
            && !installs_satisfied_project(c, first, &written, wd, env, image)
    }) {
        return Err(format!(
            "`{}` may rewrite files the install writes (split, both versions would stay in the image's layers)",
            said(c)
        ));
    }
    Ok(cmds)
}

/// Whether a command of the first part may hard-link the files it
/// installs to a second copy in the image: pnpm, bun and Yarn's
/// hard-link modes link `node_modules` to their store, uv and conda link
/// environments to their cache (on Linux by default), `cp -l` and `ln`
/// without `-s` link what they are given. In one `RUN` a write in place
/// by the rest changes both names' file; split, the rest's layer gets a
/// copy of one name and the other keeps the install's content (measured
/// with BuildKit: `pnpm install --ignore-scripts && pnpm build` with a
/// build appending to `node_modules/ms/index.js`: the store's file kept
/// the old text). Any word naming such a tool counts (`corepack pnpm`).
fn links_files(c: &SimpleCommand) -> bool {
    let base = |a: &String| a.rsplit('/').next().unwrap_or(a).to_string();
    let (argv, _) = unwrapped(&c.argv);
    let Some(name) = argv.first().map(base) else {
        return false;
    };
    let shorts = |a: &String| a.starts_with('-') && !a.starts_with("--");
    match name.as_str() {
        "cp" => argv[1..]
            .iter()
            .any(|a| a == "--link" || (shorts(a) && a.contains('l'))),
        "ln" => !argv[1..]
            .iter()
            .any(|a| a == "--symbolic" || (shorts(a) && a.contains('s'))),
        _ => argv.iter().map(base).any(|w| {
            matches!(
                w.as_str(),
                "pnpm" | "bun" | "yarn" | "uv" | "conda" | "mamba" | "micromamba"
            )
        }),
    }
}

/// Whether an npm command of the first part may link files through the
/// install scripts it runs ([`manifests::npm_lock_links`]): an install
/// (`ci`, `install`, `i`) of the lock the broad copy ships in its
/// directory, without packages named on the line, `--prefix` or
/// `--global`, counts only when that lock says so; `--ignore-scripts`
/// runs none; its settings and caches (`config`, `cache`) run none;
/// any other npm or npx command counts.
fn npm_links(c: &SimpleCommand, wd: &str, image: &Image<'_>) -> bool {
    let base = |a: &String| a.rsplit('/').next().unwrap_or(a).to_string();
    let (argv, _) = unwrapped(&c.argv);
    let Some(at) = argv
        .iter()
        .position(|w| matches!(base(w).as_str(), "npm" | "npx"))
    else {
        return false;
    };
    let args = &argv[at + 1..];
    if argv[at].ends_with("npx") {
        return true;
    }
    if args.iter().any(|a| a == "--ignore-scripts") {
        return false;
    }
    // The words that are not options nor an option's separate value.
    const VALUED: &[&str] = &[
        "--omit",
        "--include",
        "--only",
        "--also",
        "--loglevel",
        "--install-strategy",
        "--cache",
    ];
    let words: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(k, a)| {
            !a.starts_with('-') && (*k == 0 || !VALUED.contains(&args[k - 1].as_str()))
        })
        .map(|(_, a)| a)
        .collect();
    let Some(sub) = words.first() else {
        return true;
    };
    match sub.as_str() {
        "config" | "c" | "set" | "get" | "cache" => return false,
        "ci" | "install" | "i" => {}
        _ => return true,
    }
    let positional = words.len() > 1;
    let moved = args.iter().any(|a| {
        let name = a.split('=').next().unwrap_or(a);
        matches!(
            name,
            "--prefix" | "-C" | "-g" | "--global" | "--location" | "--workspace" | "-w"
        ) || !a.starts_with("--") && a.starts_with('-') && a.contains('g')
    });
    if positional || moved {
        return true;
    }
    let dir = command_dir(c, wd);
    let lock = match (image.file)(&dir, "npm-shrinkwrap.json") {
        Some(Some(t)) => Some(t),
        Some(None) => (image.file)(&dir, "package-lock.json").flatten(),
        None => None,
    };
    lock.is_none_or(|t| crate::analysis::manifests::npm_lock_links(&t))
}

/// Whether the rest may write in place into a file the first part linked
/// to a second name: the first part may link ([`links_files`],
/// [`npm_links`]) and the rest runs code not read ([`runs_unread_code`])
/// or makes a hard link itself ([`links_files`]: `ln`, `cp -l`), which
/// copies the file up into its layer when it is the first part's and so
/// breaks the first part's link (measured with BuildKit: `npm ci && ln
/// node_modules/esbuild/bin/esbuild /usr/local/bin/esbuild` split left
/// esbuild's `bin/esbuild` no longer linked to its platform binary).
fn may_write_through_a_link(
    first: &[SimpleCommand],
    rest: &[SimpleCommand],
    wd: &str,
    env: &std::collections::BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
    image: &Image<'_>,
) -> bool {
    first
        .iter()
        .any(|c| links_files(c) || npm_links(c, wd, image))
        && rest
            .iter()
            .any(|c| runs_unread_code(c, env, kb) || links_files(c))
}

/// Whether a command of a split's rest runs code the knowledge base does
/// not read (an unknown command, a build): it may write in place into
/// any file the first part installed.
fn runs_unread_code(
    c: &SimpleCommand,
    env: &std::collections::BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
) -> bool {
    let facts = kb::interpret(c, kb, env);
    !c.argv.is_empty() && (facts.unknown.is_some() || facts.cost == Some(CostClass::Build))
}

/// The commands of a split's rest that the knowledge base does not know,
/// as written: their deletions are not seen ([`rest_is_independent`]
/// sees only those of known commands and of [`REMOVERS`]).
fn unread_commands(
    cmds: &[SimpleCommand],
    env: &std::collections::BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
) -> Vec<String> {
    cmds.iter()
        // A `cd DIR` runs no code and deletes nothing: the shell model
        // follows it (it is how the split repeats a leading `cd`), it is
        // no command of the knowledge base (scout76 trap-split-cd).
        .filter(|c| !(c.argv.len() == 2 && c.argv[0] == "cd" && c.assignments.is_empty()))
        .filter(|c| !c.argv.is_empty() && kb::interpret(c, kb, env).unknown.is_some())
        .map(|c| c.argv.join(" "))
        .collect()
}

/// Whether the first part writes into a cache mount of the `RUN`: the rest
/// may read what it put there, and split in two `RUN`s it would not find
/// it when the install's layer comes from the cache but the mount is empty
/// (a pruned builder, a CI runner that imports layers only).
///
/// The knowledge base writes a home as `/root`: the home of another user,
/// or a `HOME` the stage sets, is any directory, so a target that is such
/// a path below some directory (`/home/node/.npm`) counts. When a
/// variable moves what the first part writes (`npm_config_cache`,
/// `moved`), any cache mount may receive it.
fn fills_a_cache_mount(flags: &[String], written: &[String], wd: &str, moved: bool) -> bool {
    flags.iter().any(|f| {
        if !Mount::is_mount_flag(f) {
            return false;
        }
        let Some(m) = Mount::parse(f) else {
            return true;
        };
        if m.kind() != "cache" {
            return false;
        }
        let Some(target) = m.target() else {
            return true;
        };
        if moved || target.contains('$') {
            return true;
        }
        let t = effects::resolve(wd, target);
        let in_a_home = t
            .match_indices('/')
            .map(|(k, _)| format!("/root{}", &t[k..]))
            .any(|h| touches_written(written, &h));
        in_a_home || touches_written(written, &t)
    })
}

/// Whether a variable of the environment may move what a first-part
/// command writes (its knowledge base `path_env`, `X*` a prefix; compared
/// without case, as npm reads `NPM_CONFIG_CACHE` too).
fn moved_by_env(
    first: &[SimpleCommand],
    env: &std::collections::BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
) -> bool {
    first.iter().any(|c| {
        kb::interpret(c, kb, env).path_env.iter().any(|v| {
            let v = v.to_ascii_lowercase();
            env.keys()
                .map(|k| k.to_ascii_lowercase())
                .any(|k| match v.strip_suffix('*') {
                    Some(prefix) => k.starts_with(prefix),
                    None => k == v,
                })
        })
    })
}

/// The directory a command of the `RUN` runs in (after any `cd`).
fn command_dir(c: &SimpleCommand, wd: &str) -> String {
    c.cd.as_deref()
        .map_or_else(|| wd.to_string(), |d| effects::resolve(wd, d))
}

/// Whether the path `p`, or anything below it, is among what the first
/// part wrote.
fn touches_written(written: &[String], p: &str) -> bool {
    let below = format!("{}/**", p.trim_end_matches('/'));
    written
        .iter()
        .any(|w| effects::paths_overlap(w, p) || effects::paths_overlap(w, &below))
}

/// The trees BuildKit mounts afresh for every `RUN` (`/dev` is a tmpfs,
/// `/proc` and `/sys` the kernel's): what the first part writes there is
/// gone when the rest runs in its own `RUN` (measured with BuildKit on
/// `node:20-slim`: after `mkdir -p /dev/shm/build && npm ci` split from
/// `npm run build`, the build no longer found `/dev/shm/build`).
const PER_RUN_MOUNTS: &[&str] = &["/dev", "/proc", "/sys"];

/// Whether the first part may write below [`PER_RUN_MOUNTS`] (a pattern
/// that may reach there, `/**`, counts). Redirections to `/dev/null`,
/// `/dev/stdout` and `/dev/stderr` are no writes.
fn writes_a_per_run_mount(written: &[String]) -> bool {
    PER_RUN_MOUNTS.iter().any(|m| touches_written(written, m))
}

/// Whether a `RUN` flag is a mount whose content does not outlive the `RUN`
/// (a `tmpfs`, a `rw` bind mount): what the first part writes there would
/// be gone for the rest.
/// A mount it cannot read may be either.
fn transient_mount(flag: &str) -> bool {
    if !Mount::is_mount_flag(flag) {
        return false;
    }
    let Some(m) = Mount::parse(flag) else {
        return true;
    };
    let ty = m.kind();
    ty == "tmpfs" || (ty == "bind" && m.read_write())
}

/// Whether the rest runs, by name, a command the first part ran, after the
/// first part wrote a file of that name in a `PATH` directory: the shell
/// of the original remembers (hashes) where it found the command, a new
/// shell finds the new file. A write before the command's first run is
/// no change: the original shell looked it up after that write too, as
/// the new shell does (`corepack enable && pnpm install && pnpm build`).
/// `writes_of` holds each first-part command's writes, in order.
///
/// The shell's lookup also serves `command NAME`, bash's `time NAME` and
/// `type`/`hash` ([`looked_up`]). The directories searched are those of a
/// `PATH` the stage sets and the system ones it keeps (`ENV
/// PATH=/opt/venv/bin:$PATH` keeps them; the state holds only the known
/// part); a relative or unknown directory (`ENV PATH=node_modules/.bin:$PATH`,
/// `$NODE_HOME/bin`) may be anywhere, and a relative one is searched from
/// the directory the command runs in, which the rest may change: a command
/// the rest runs again by name then keeps the split from being made.
fn path_lookup_changes(
    first: &[SimpleCommand],
    rest: &[SimpleCommand],
    writes_of: &[Vec<String>],
    env: &std::collections::BTreeMap<String, String>,
    python_dir: Option<&str>,
) -> bool {
    let mut dirs: Vec<&str> = effects::DEFAULT_PATH.to_vec();
    let mut unknown_dir = false;
    if let Some(p) = env.get("PATH") {
        for d in p.split(':') {
            if !d.starts_with('/') || d.trim_end_matches('/').is_empty() || d.contains('$') {
                unknown_dir = true;
            } else {
                dirs.push(d);
            }
        }
    }
    let first_run = |n: &str| first.iter().position(|c| looked_up(c).contains(&n));
    let first_names: Vec<&str> = first.iter().flat_map(looked_up).collect();
    rest.iter()
        .flat_map(|c| {
            // `hash` alone lists every remembered command.
            let whole_table = c.argv.first().is_some_and(|a| a == "hash")
                && c.argv[1..].iter().all(|a| a.starts_with('-'));
            if whole_table {
                first_names.clone()
            } else {
                looked_up(c)
            }
        })
        .filter_map(|n| first_run(n).map(|at| (n, at)))
        .any(|(n, at)| {
            if unknown_dir {
                return true;
            }
            let later: Vec<&String> = writes_of.iter().skip(at).flatten().collect();
            // Where the name was found is known: only a directory searched
            // before it can change what the name finds (a new file in the
            // same place is what the remembered path names too).
            let found = python_dir
                .filter(|_| {
                    !env.contains_key("PATH") && matches!(n, "pip" | "pip3" | "python" | "python3")
                })
                .and_then(|d| dirs.iter().position(|x| x.trim_end_matches('/') == d));
            let searched = &dirs[..found.unwrap_or(dirs.len())];
            searched.iter().any(|d| {
                let f = format!("{}/{n}", d.trim_end_matches('/'));
                later.iter().any(|w| effects::paths_overlap(w, &f))
            })
        })
}

/// The command names a simple command has the shell look up in `PATH`
/// (through its table of remembered commands): its own name and, after
/// `command`, `time` (a bash keyword), `type` or `hash`, the names they
/// are given. Names with a `/` are not looked up.
fn looked_up(c: &SimpleCommand) -> Vec<&str> {
    let Some(name) = c.argv.first() else {
        return Vec::new();
    };
    let mut names = vec![name.as_str()];
    if matches!(name.as_str(), "command" | "time" | "type" | "hash") {
        names.extend(
            c.argv[1..]
                .iter()
                .filter(|a| !a.starts_with('-'))
                .map(String::as_str),
        );
    }
    names.retain(|n| !n.contains('/'));
    names
}

/// Whether a known command of the rest writes where the first part wrote:
/// a package manager run again (`npm ci`, `apt-get … purge`), `chown -R`,
/// `sed -i`: the files it replaces stay in the first part's layer and the
/// image grows. A command the knowledge base does not know may write any
/// path it is given (`gzip node_modules/x/index.js`, `strip`, `patch -d`,
/// `unzip -o … -d`, `dd of=…`): one that names a path the first part wrote
/// counts as writing there.
fn overwrites_written(
    c: &SimpleCommand,
    written: &[String],
    wd: &str,
    env: &std::collections::BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
) -> bool {
    let facts = kb::interpret(c, kb, env);
    if facts.unknown.is_some() {
        return names_written(c, written, wd);
    }
    if facts.cost == Some(CostClass::Build) {
        return false;
    }
    if installs_only_local_project(c) {
        return false;
    }
    let dir = command_dir(c, wd);
    facts.writes.iter().any(|a| {
        if a.contains('$') || a.starts_with('~') {
            return true;
        }
        let p = effects::resolve(&dir, a);
        touches_written(written, &p)
    })
}

/// Whether an argument (or an option's `=` value, or a redirection) of a
/// command other than its name is a path the first part wrote, or may be
/// one (`~/…`, a variable in a path).
fn names_written(c: &SimpleCommand, written: &[String], wd: &str) -> bool {
    let dir = command_dir(c, wd);
    let args = c.argv.iter().skip(1).filter_map(|a| {
        if a.starts_with('-') {
            a.split_once('=').map(|(_, v)| v)
        } else {
            Some(a.rsplit_once('=').map_or(a.as_str(), |(k, v)| {
                if k.contains('/') { a.as_str() } else { v }
            }))
        }
    });
    args.chain(c.redirect_writes.iter().map(String::as_str))
        .filter(|a| !a.is_empty())
        .any(|a| {
            if a.starts_with('~') || (a.contains('$') && a.contains('/')) {
                return true;
            }
            // A directory holding what it wrote (`.`) is not counted: a
            // build is given its project.
            let p = effects::resolve(&dir, a);
            !a.contains('$') && written.iter().any(|w| effects::paths_overlap(w, &p))
        })
}

/// What the rest of a split may look at in the image, as the `RUN` sees
/// it: a file of an image directory (`Some(None)`: certainly not there;
/// `None`: not known), and whether pip runs with its default settings (no
/// configuration file written up to the `RUN`, no user but root).
pub(crate) struct Image<'r> {
    pub file: &'r dyn Fn(&str, &str) -> Option<Option<String>>,
    pub pip_defaults: bool,
    /// Where `python`, `python3`, `pip` and `pip3` are found in the base
    /// image's `PATH` (its official image), when known.
    pub python_dir: Option<&'static str>,
    /// Set when a command of the rest was found to install only the
    /// project ([`installs_satisfied_project`]).
    pub pinned_project: std::cell::Cell<bool>,
}

impl Image<'_> {
    /// Knows nothing of the image.
    #[cfg(test)]
    fn unknown() -> Image<'static> {
        Image {
            file: &|_, _| None,
            pip_defaults: false,
            python_dir: None,
            pinned_project: Default::default(),
        }
    }

    /// Knows nothing of the image but that the copy ships an npm lock
    /// whose packages have no install script (and no shrinkwrap): an npm
    /// install of it links nothing ([`npm_links`]).
    #[cfg(test)]
    fn script_free_npm_lock() -> Image<'static> {
        Image {
            file: &|_, name| {
                match name {
                "npm-shrinkwrap.json" => Some(None),
                "package-lock.json" => Some(Some(
                    "{\"lockfileVersion\":3,\"packages\":{\"\":{},\"node_modules/ms\":{\"version\":\"2.1.3\"}}}".to_string(),
                )),
                _ => None,
            }
            },
            ..Image::unknown()
        }
    }
}

/// Whether pip runs with its default settings at unit `x`: no unit up to
/// it may write one of pip's configuration files (global, user, site: the
/// prefix of each `bin` directory of `PATH`, `VIRTUAL_ENV`), and no `USER`
/// but root comes first (another user's home is not followed).
fn pip_settings_are_defaults(cx: &StageCx<'_>, x: usize) -> bool {
    let env = &cx.state.env[x];
    let mut confs: Vec<String> = [
        "/etc/pip.conf",
        "/etc/xdg/pip/pip.conf",
        "/root/.pip/pip.conf",
        "/root/.config/pip/pip.conf",
        "/usr/pip.conf",
        "/usr/local/pip.conf",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(v) = env.get("VIRTUAL_ENV") {
        confs.push(format!("{}/pip.conf", v.trim_end_matches('/')));
    }
    for d in env.get("PATH").map_or("", String::as_str).split(':') {
        if let Some(prefix) = d.trim_end_matches('/').strip_suffix("/bin") {
            confs.push(format!("{prefix}/pip.conf"));
        }
    }
    if confs.iter().any(|c| !c.starts_with('/') || c.contains('$')) {
        return false;
    }
    let root_only = cx.stage.units[..x].iter().all(|u| {
        instruction(cx.parse, u.item).is_none_or(|ins| {
            ins.node.kind != Kind::User
                || ins
                    .node
                    .str_args()
                    .next()
                    .is_some_and(|v| matches!(v.split(':').next(), Some("root" | "0")))
        })
    });
    root_only && (0..x).all(|k| confs.iter().all(|c| !effects::writes_path(&cx.eff[k], c)))
}

/// Where `python` and `pip` are found at unit `x`: where the official
/// image has them ([`effects::python_tools_dir`]), when no unit before `x`
/// may put one there or earlier in `PATH`, or remove one, except a `RUN`
/// of `pip install`s alone (which may replace pip, never leave it out).
fn python_dir_at(cx: &StageCx<'_>, x: usize) -> Option<&'static str> {
    let dir = effects::python_tools_dir(cx.parse, cx.stage.from_item)?;
    let only_pip_installs = |k: usize| {
        let Some(ins) = instruction(cx.parse, cx.stage.units[k].item) else {
            return false;
        };
        if ins.node.kind != Kind::Run || ins.node.json || !ins.heredocs.is_empty() {
            return false;
        }
        let Some(cmd) = ins.node.str_args().next() else {
            return false;
        };
        let shell::Split::Commands(cmds) = shell::split(cmd) else {
            return false;
        };
        !cmds.is_empty() && cmds.iter().all(|c| pip_install_words(c).is_some())
    };
    (0..x)
        .all(|k| {
            let touches = ["pip", "pip3", "python", "python3"].iter().any(|n| {
                ["/usr/local/sbin", dir]
                    .iter()
                    .any(|d| effects::writes_path(&cx.eff[k], &format!("{d}/{n}")))
            });
            !touches || only_pip_installs(k)
        })
        .then_some(dir)
}

/// Options of `pip install` that change neither what it installs nor
/// where.
const PIP_QUIET_OPTIONS: &[&str] = &[
    "--no-cache-dir",
    "-q",
    "--quiet",
    "-qq",
    "-v",
    "--verbose",
    "--disable-pip-version-check",
    "--no-warn-script-location",
    "--root-user-action=ignore",
    "--progress-bar=off",
];

/// The words before `install` (`pip`, `python3 -m pip`) and the words
/// after it, of a plain `pip install` command.
fn pip_install_words(c: &SimpleCommand) -> Option<(Vec<String>, &[String])> {
    let v = &c.argv;
    let base = |a: &String| a.rsplit('/').next().unwrap_or(a).to_string();
    let n = match v.first().map(base)?.as_str() {
        "pip" | "pip3" => 1,
        p if p.starts_with("python") && v.get(1).is_some_and(|a| a == "-m") => {
            if v.get(2).is_none_or(|m| m != "pip") {
                return None;
            }
            3
        }
        _ => return None,
    };
    (v.get(n).is_some_and(|s| s == "install") && c.assignments.is_empty())
        .then(|| (v[..n].to_vec(), &v[n + 1..]))
}

/// The requirement files of a `pip install` that installs only requirement
/// files (`-r FILE`, `--requirement[=]FILE`), with options that change
/// nothing else (`-U` included: the files pin every version read).
fn requirement_files_only(args: &[String]) -> Option<Vec<String>> {
    let mut files = Vec::new();
    let mut k = 0;
    while k < args.len() {
        let a = args[k].as_str();
        if a == "-r" || a == "--requirement" {
            files.push(args.get(k + 1)?.clone());
            k += 2;
            continue;
        }
        if let Some(f) = a.strip_prefix("--requirement=").or_else(|| {
            a.strip_prefix("-r")
                .filter(|f| !f.is_empty() && !f.starts_with('-'))
        }) {
            files.push(f.to_string());
        } else if !(PIP_QUIET_OPTIONS.contains(&a) || a == "-U" || a == "--upgrade") {
            return None;
        }
        k += 1;
    }
    (!files.is_empty()).then_some(files)
}

/// `pip install .` (or `-e .`) after the first part installed requirement
/// files that pin every dependency the project declares: pip's default
/// strategy keeps each installed dependency, so it writes the project's
/// own files only and replaces nothing the first part wrote
/// ([`crate::analysis::pyproject::nothing_new_to_install`]). The same pip
/// (the same words before `install`) runs both, with its default settings
/// (no `PIP_*` variable but output ones, no configuration file), and the
/// pinned installs end the first part (nothing after them may change an
/// installed version). Every requirement file is in pip's hash-checking
/// mode, so the install puts the pinned distributions and nothing else
/// (an unpinned dependency named as the project would be uninstalled).
/// The requirement files, `pyproject.toml` and the
/// files that must be absent are read as the `RUN` sees them, and the first
/// part writes none of them.
fn installs_satisfied_project(
    c: &SimpleCommand,
    first: &[SimpleCommand],
    written: &[String],
    wd: &str,
    env: &std::collections::BTreeMap<String, String>,
    image: &Image<'_>,
) -> bool {
    const QUIET_ENV: &[&str] = &[
        "PIP_NO_CACHE_DIR",
        "PIP_DISABLE_PIP_VERSION_CHECK",
        "PIP_ROOT_USER_ACTION",
        "PIP_NO_WARN_SCRIPT_LOCATION",
        "PIP_PROGRESS_BAR",
        "PIP_DEFAULT_TIMEOUT",
    ];
    let settings_env = env.keys().any(|k| {
        (k.starts_with("PIP_") && !QUIET_ENV.contains(&k.as_str()))
            || k.starts_with("XDG_CONFIG")
            || k == "PYTHONUSERBASE"
    });
    if !image.pip_defaults || settings_env {
        return false;
    }
    let Some((prog, args)) = pip_install_words(c) else {
        return false;
    };
    // A pip or python named by its path (`/opt/venv/bin/pip`) reads the
    // settings of its own prefix, which are not followed.
    if prog.first().is_some_and(|p| p.contains('/')) {
        return false;
    }
    // Editable only: a regular install copies the project's modules into
    // site-packages, where one may land on a file a pinned package
    // installed (a top-level `tests`); an editable one adds its dist-info,
    // a `.pth` and a finder named after the project. No cache either: the
    // build's isolated install of the backend may refresh an HTTP cache
    // entry the first part wrote.
    let (mut target, mut editable, mut no_cache) = (false, false, false);
    for a in args {
        match a.as_str() {
            "-e" | "--editable" => editable = true,
            "." | "./" if !target => target = true,
            "--no-cache-dir" => no_cache = true,
            o if PIP_QUIET_OPTIONS.contains(&o) => {}
            _ => return false,
        }
    }
    let cache_off = env
        .get("PIP_NO_CACHE_DIR")
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"));
    if !(target && editable && (no_cache || cache_off)) {
        return false;
    }
    // The pinned installs: from the first `pip install -r` of this pip to
    // the end of the first part, nothing else.
    let Some(start) = first.iter().position(|f| {
        pip_install_words(f).is_some_and(|(p, a)| p == prog && requirement_files_only(a).is_some())
    }) else {
        return false;
    };
    let mut pins = std::collections::BTreeMap::new();
    let mut read: Vec<String> = Vec::new();
    for f in &first[start..] {
        let Some((p, a)) = pip_install_words(f) else {
            return false;
        };
        let Some(files) = requirement_files_only(a) else {
            return false;
        };
        if p != prog {
            return false;
        }
        for file in files {
            let path = effects::resolve(&command_dir(f, wd), &file);
            let Some((dir, name)) = path.rsplit_once('/') else {
                return false;
            };
            let dir = if dir.is_empty() { "/" } else { dir };
            let Some(Some(text)) = (image.file)(dir, name) else {
                return false;
            };
            if !crate::analysis::pyproject::hash_checked(&text) {
                return false;
            }
            let Some(more) = crate::analysis::pyproject::pins(&text) else {
                return false;
            };
            for (k, v) in more {
                if pins.get(&k).is_some_and(|old| *old != v) {
                    return false;
                }
                pins.insert(k, v);
            }
            read.push(path);
        }
    }
    let dir = command_dir(c, wd);
    let exists = |f: &str| match (image.file)(&dir, f) {
        Some(None) => Some(false),
        Some(Some(_)) => Some(true),
        None => None,
    };
    let Some(Some(pyproject)) = (image.file)(&dir, "pyproject.toml") else {
        return false;
    };
    read.extend(
        ["pyproject.toml", "setup.py", "setup.cfg", "pdm_build.py"]
            .iter()
            .map(|f| effects::resolve(&dir, f)),
    );
    let ok = !read.iter().any(|p| touches_written(written, p))
        && crate::analysis::pyproject::nothing_new_to_install(&pyproject, &pins, &exists).is_ok();
    if ok {
        image.pinned_project.set(true);
    }
    ok
}

/// `pip install --no-deps .` (or `-e ./pkg`): it installs the project's own
/// distribution and nothing else, so it replaces nothing an install of
/// requirements wrote (a requirement file naming the project is refused by
/// the hoist's manifest checks).
fn installs_only_local_project(c: &SimpleCommand) -> bool {
    let (argv, _) = unwrapped(&c.argv);
    let is_pip = argv
        .first()
        .is_some_and(|n| matches!(n.rsplit('/').next(), Some("pip" | "pip3")));
    if !is_pip || argv.get(1).map(String::as_str) != Some("install") {
        return false;
    }
    let args = &argv[2..];
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    args.iter().any(|a| a == "--no-deps")
        && args.iter().all(|a| {
            !a.starts_with('-')
                || matches!(
                    a.as_str(),
                    "--no-deps" | "-e" | "--editable" | "--no-cache-dir" | "-q" | "--quiet"
                )
        })
        && !positional.is_empty()
        && positional
            .iter()
            .all(|p| *p == "." || p.starts_with("./") || p.starts_with('/'))
}

/// The command a wrapper runs (`env`, `sudo`, `xargs`, `nice`, `busybox`,
/// `python -m pip` …) as an argument vector, and whether its arguments
/// come from elsewhere (`xargs`: stdin).
fn unwrapped(argv: &[String]) -> (Vec<String>, bool) {
    let base = |a: &String| a.rsplit('/').next().unwrap_or(a).to_string();
    let mut v: Vec<String> = argv.to_vec();
    let mut hidden = false;
    loop {
        let Some(name) = v.first().map(base) else {
            return (v, hidden);
        };
        let skip = match name.as_str() {
            "env" => v[1..]
                .iter()
                .position(|a| !a.starts_with('-') && !a.contains('='))
                .map(|k| k + 1),
            "sudo" | "nice" | "nohup" | "command" | "busybox" | "stdbuf" | "doas" | "time"
            | "xargs" => {
                hidden |= name == "xargs";
                v[1..]
                    .iter()
                    .position(|a| !a.starts_with('-'))
                    .map(|k| k + 1)
            }
            "timeout" => v[1..]
                .iter()
                .position(|a| !a.starts_with('-'))
                .map(|k| k + 2),
            "python" | "python3" if v.get(1).is_some_and(|a| a == "-m") => {
                if v.get(2).is_some_and(|m| m == "pip" || m == "pip3") {
                    v.drain(..2);
                    v[0] = "pip".into();
                    continue;
                }
                None
            }
            _ => None,
        };
        match skip {
            Some(k) if k < v.len() => {
                v.drain(..k);
            }
            _ => return (v, hidden),
        }
    }
}

/// Whether a command of the rest may remove what the first part wrote.
fn removes_written(c: &SimpleCommand, written: &[String], wd: &str) -> bool {
    let (argv, hidden) = unwrapped(&c.argv);
    let Some(name) = argv.first() else {
        return false;
    };
    let base = name.rsplit('/').next().unwrap_or(name);
    // `sh -c 'rm -rf node_modules'`: the script's own commands.
    if matches!(base, "sh" | "bash" | "dash" | "ash" | "zsh") {
        let Some(k) = argv.iter().position(|a| a == "-c") else {
            return argv.len() > 1; // a script file: not seen
        };
        let Some(script) = argv.get(k + 1) else {
            return false;
        };
        let shell::Split::Commands(cmds) = shell::split(script) else {
            return true;
        };
        let dir = command_dir(c, wd);
        return cmds.iter().any(|c| removes_written(c, written, &dir));
    }
    let Some((_, subs)) = REMOVERS.iter().find(|(n, _)| *n == base) else {
        return false;
    };
    if hidden {
        // `… | xargs rm`: the paths come from elsewhere.
        return true;
    }
    if let Some(subs) = subs {
        // Any word may be the subcommand: options take values
        // (`npm --loglevel error prune`, `apt-get -o X=Y purge`).
        let words: Vec<&String> = argv[1..].iter().filter(|a| !a.starts_with('-')).collect();
        return words.is_empty() || words.iter().any(|s| subs.contains(&s.as_str()));
    }
    let dir = command_dir(c, wd);
    // `find -name '*.md' -delete`: without a starting point (the words
    // before the first expression, after `-H`/`-L`/`-P`), find searches
    // the working directory.
    if base == "find" {
        let start = argv[1..]
            .iter()
            .find(|a| !matches!(a.as_str(), "-H" | "-L" | "-P"));
        let implicit = start.is_none_or(|a| a.starts_with(['-', '(', '!']));
        if implicit && touches_written(written, &dir) {
            return true;
        }
    }
    argv[1..].iter().filter(|a| !a.starts_with('-')).any(|a| {
        if a.contains('$') || a.starts_with('~') {
            return true;
        }
        let p = effects::resolve(&dir, a);
        touches_written(written, &p)
    })
}

/// The two `RUN`s as text: the original bytes up to the `&&` (the line
/// continuation before it dropped) and from the command after it, each
/// after the original keyword and flags, and where the second starts.
/// `None` when the logical line cannot be followed back to the bytes.
fn replacement_text(
    raw: &str,
    ins: &Instruction,
    at: usize,
    cd_prefix: &str,
    whole: &str,
) -> Option<(String, usize)> {
    let cmd = ins.node.str_args().next()?;
    let logical = ins.original.trim_end();
    let cmd_off = logical.len().checked_sub(cmd.trim_end().len())?;
    if logical.get(cmd_off..)? != cmd.trim_end() {
        return None;
    }
    // The span's own line break is put back by `apply_splits`.
    let raw = raw
        .strip_suffix("\r\n")
        .or_else(|| raw.strip_suffix('\n'))
        .unwrap_or(raw);
    let map = align(raw, logical)?;
    let (cmd_raw, and_raw) = (*map.get(cmd_off)?, *map.get(cmd_off + at)?);
    let head = &raw[..cmd_raw];
    let first = strip_trailing_continuation(&raw[cmd_raw..and_raw]);
    let second = strip_leading_continuation(&raw[and_raw + 2..]);
    let nl = crate::source::newline_for(whole);
    let rest_at = head.len() + first.len() + nl.len();
    Some((
        format!("{head}{first}{nl}{head}{cd_prefix}{second}"),
        rest_at,
    ))
}

/// Maps each byte of the logical line to its byte in the raw text: the raw
/// text is the logical line with `\` line continuations added. `None` when
/// it is anything else (a comment or blank line inside the continuation).
fn align(raw: &str, logical: &str) -> Option<Vec<usize>> {
    let (r, l) = (raw.as_bytes(), logical.as_bytes());
    let mut map = Vec::with_capacity(l.len() + 1);
    let (mut i, mut j) = (0, 0);
    while j < l.len() {
        if i < r.len() && r[i] == l[j] && continuation_len(&r[i..]).is_none() {
            map.push(i);
            i += 1;
            j += 1;
        } else if let Some(n) = continuation_len(r.get(i..)?) {
            i += n;
            // A blank or comment line inside the continuation is dropped
            // by the parser: not followed here.
            let line_start = &r[i..];
            let body = line_start
                .iter()
                .position(|&c| c != b' ' && c != b'\t')
                .map(|k| line_start[k]);
            if matches!(body, None | Some(b'\n') | Some(b'\r') | Some(b'#')) {
                return None;
            }
        } else {
            return None;
        }
    }
    map.push(i);
    Some(map)
}

/// The length of a line continuation at the start of `r` (`\`, spaces,
/// a line break), if there is one.
fn continuation_len(r: &[u8]) -> Option<usize> {
    if r.first() != Some(&b'\\') {
        return None;
    }
    let mut k = 1;
    while matches!(r.get(k), Some(b' ' | b'\t')) {
        k += 1;
    }
    match (r.get(k), r.get(k + 1)) {
        (Some(b'\n'), _) => Some(k + 1),
        (Some(b'\r'), Some(b'\n')) => Some(k + 2),
        _ => None,
    }
}

/// The first part's bytes without the whitespace and the line
/// continuation before the `&&`.
fn strip_trailing_continuation(s: &str) -> &str {
    let t = s.trim_end_matches([' ', '\t']);
    if !t.ends_with('\n') {
        return t;
    }
    let t = t
        .trim_end_matches(['\n', '\r'])
        .trim_end_matches([' ', '\t']);
    t.strip_suffix('\\')
        .map_or(t, |u| u.trim_end_matches([' ', '\t']))
}

fn strip_leading_continuation(s: &str) -> &str {
    let mut t = s.trim_start_matches([' ', '\t']);
    while let Some(n) = continuation_len(t.as_bytes()) {
        t = t[n..].trim_start_matches([' ', '\t']);
    }
    t
}

/// Parses the replacement: two `RUN`s with the original flags whose
/// commands are the two parts. Returns their trimmed texts.
fn reads_back(
    replacement: &str,
    ins: &Instruction,
    prefix: &str,
    rest: &str,
) -> Option<(String, String, bool)> {
    let p = syntax::parse(replacement);
    if !p.errors.is_empty() {
        return None;
    }
    let runs: Vec<&Instruction> = p.instructions().map(|(_, i)| i).collect();
    let [a, b] = runs.as_slice() else {
        return None;
    };
    let same = |i: &Instruction, want: &str| {
        i.node.kind == Kind::Run
            && !i.node.json
            && i.heredocs.is_empty()
            && i.node.flags == ins.node.flags
            && i.node.str_args().next().map(str::trim) == Some(want)
    };
    Some((
        a.original.trim().to_string(),
        b.original.trim().to_string(),
        same(a, prefix) && same(b, rest),
    ))
}

impl Split {
    /// What the reason may say of the rest's deletions: all of them when
    /// every command is known; otherwise only the known ones', and what
    /// an unread command's deletion would cost (the image's files are the
    /// same either way; its layers would keep what was deleted).
    fn deletions_words(&self) -> String {
        if self.unread_rest.is_empty() {
            return "the rest deletes nothing the install wrote".into();
        }
        let unread: Vec<String> = self
            .unread_rest
            .iter()
            .map(|c| format!("`{}`", short(c)))
            .collect();
        format!(
            "no command of the rest that the knowledge base knows deletes what the install wrote, and what {} (code not read here) might delete of it would stay in the install's layer, the image's files the same",
            unread.join(", ")
        )
    }

    /// Whether the install's `RUN` starts with a `cd` (after its flags):
    /// a leading `cd` is the one shell state the split carries over, by
    /// repeating it before the rest (review 72: the reason said so of
    /// every split).
    fn repeats_a_leading_cd(&self) -> bool {
        self.install
            .split_whitespace()
            .skip(1)
            .find(|w| !w.starts_with("--"))
            == Some("cd")
    }

    /// Whether `c` is the hoist of this split's install.
    pub fn hoisted_by(&self, c: &Change) -> bool {
        c.kind == ChangeKind::Hoist && c.stage == self.stage && c.subject == self.install
    }

    /// Says in the hoist's words that the `RUN` is split, and why that
    /// keeps the image.
    pub fn annotate(&self, c: &mut Change) {
        c.split_from = Some(self.original.clone());
        c.split_rest = Some(self.rest.clone());
        // The original is not named: its line heads the report line, and
        // cut short it read as the install did (scout77 review: "split
        // `RUN pip install poetry… && poetry config virtualenvs.…` at its
        // `&&` and moved `RUN pip install poetry… && poetry config
        // virtualenvs.…`"); the part that stays is.
        c.summary = format!(
            "split the `RUN` at its `&&` and {}; `{}` stays below",
            c.summary,
            short(&self.rest)
        );
        let why = format!(
            "as two `RUN`s, the same commands run in the same order, with the same environment, shell and mounts{}; no shell state (variables, functions, `set`) crosses the split; a failure stops the build where it did; {}",
            if self.repeats_a_leading_cd() {
                " (the leading `cd` repeated)"
            } else {
                ""
            },
            self.deletions_words()
        );
        let mut why = why;
        if self.pinned_project {
            why.push_str(&format!(
                "; `{}` adds only the project: pyproject.toml declares it statically, and every dependency it names is pinned by the requirement files the install read (in hash-checking mode, so they install nothing else), at a version its specifiers take, so pip keeps each installed one",
                short(&self.rest)
            ));
        }
        c.reason.push_str(&format!("; {why}"));
        c.split_why = Some(why);
    }
}

/// Applies splits to a text: each `RUN`'s span replaced by its two parts.
/// The comments right above the `RUN` go with the install, unless they
/// are not about it ([`comments_for_rest`]): then they stay above the rest,
/// which keeps the `RUN`'s place.
pub fn apply_splits(text: &str, parse: &Parse, splits: &[Split]) -> String {
    let mut spans: Vec<(usize, usize, String)> = splits
        .iter()
        .filter_map(|s| {
            let it = parse.items.get(s.item)?;
            let r = s.replacement.as_str();
            let (install, rest) = (r.get(..s.rest_at)?, r.get(s.rest_at..)?);
            Some(match comments_for_rest(text, parse, s) {
                // The blank lines above the comments are repeated above
                // them: the install takes its paragraph break along when
                // it moves up, the rest keeps one.
                Some((blanks, start)) => (
                    start,
                    it.span.end,
                    format!(
                        "{install}{}{}{rest}",
                        &text[blanks..start],
                        &text[start..it.span.start]
                    ),
                ),
                None => (it.span.start, it.span.end, r.to_string()),
            })
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (start, end, r) in spans {
        let keep_nl = &text[start..end];
        // The span ends with the instruction's line break (when it has
        // one); the replacement ends without it.
        let nl = if keep_nl.ends_with("\r\n") {
            "\r\n"
        } else if keep_nl.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        out.replace_range(start..end, &format!("{r}{nl}"));
    }
    out
}

/// The start of the comment block right above the split `RUN`, when no
/// word of it is about the install: `# create POST data files` above `RUN
/// pip install -r requirements.txt && python make-data.py` describes the
/// rest and stays with it, in the `RUN`'s place, while `# install the
/// dependencies and build` goes up with the install. A comment naming a
/// word of the install's command (`requirements`, `npm`) or a word about
/// installing (`deps`, `packages`, `vendor`, …) counts as about it, as
/// does a `dockreorder:` comment (it speaks of the whole `RUN`).
/// Returns also where the blank lines right above the comments start.
fn comments_for_rest(text: &str, parse: &Parse, s: &Split) -> Option<(usize, usize)> {
    let mut start = None;
    let mut i = s.item;
    while i > 0 && matches!(parse.items[i - 1].kind, syntax::ItemKind::Comment) {
        i -= 1;
        start = Some(parse.items[i].span.start);
    }
    let start = start?;
    let mut blanks = start;
    while i > 0 && matches!(parse.items[i - 1].kind, syntax::ItemKind::Blank) {
        i -= 1;
        blanks = parse.items[i].span.start;
    }
    let comments = text.get(start..parse.items.get(s.item)?.span.start)?;
    (!comments.contains("dockreorder:") && !about_the_install(comments, &s.install))
        .then_some((blanks, start))
}

/// Whether a comment speaks of the install `RUN` (`install` its text).
fn about_the_install(comment: &str, install: &str) -> bool {
    const STEMS: &[&str] = &[
        "install",
        "depend",
        "dep",
        "deps",
        "requirement",
        "package",
        "pkg",
        "librar",
        "lib",
        "module",
        "vendor",
        "download",
        "fetch",
        "restore",
        "lock",
        "wheel",
        "gem",
        "toolchain",
        "sdk",
    ];
    let words = |t: &str| -> Vec<String> {
        t.to_ascii_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let install_words: Vec<String> = words(install)
        .into_iter()
        .filter(|w| w.len() >= 3 && w != "run")
        .collect();
    words(comment)
        .iter()
        .any(|w| STEMS.iter().any(|stem| w.starts_with(stem)) || install_words.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splits_of(text: &str) -> Vec<Split> {
        let file = FileAnalysis::new(text, None, Knowledge::embedded());
        let mut out = Vec::new();
        for (si, stage) in file.model.stages.iter().enumerate() {
            for (x, unit) in stage.units.iter().enumerate() {
                let Some(ins) = instruction(&file.parse, unit.item) else {
                    continue;
                };
                let st = &file.stages[si].state;
                if let Ok(s) = split_run(
                    &file,
                    si,
                    unit.item,
                    ins,
                    &st.workdirs[x],
                    &st.env[x],
                    Knowledge::embedded(),
                    &Image::script_free_npm_lock(),
                    &effects::Effects::default(),
                ) {
                    out.push(s);
                }
            }
        }
        out
    }

    #[test]
    fn splits_after_the_install_keeping_the_bytes() {
        let s = splits_of(
            "FROM x\nWORKDIR /app\nRUN --mount=type=secret,id=npmrc npm ci \\\n    && npm run build\n",
        );
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].replacement,
            "RUN --mount=type=secret,id=npmrc npm ci\nRUN --mount=type=secret,id=npmrc npm run build"
        );
        assert_eq!(s[0].install, "RUN --mount=type=secret,id=npmrc npm ci");
        // A cache mount the install fills: the rest might find it empty.
        let s = splits_of(
            "FROM x\nWORKDIR /app\nRUN --mount=type=cache,target=/root/.npm npm ci && npm run build\n",
        );
        assert_eq!(s, vec![]);
        let s = splits_of(
            "FROM x\nWORKDIR /app\nRUN --mount=type=cache,target=/var/cache/apt npm ci && npm run build\n",
        );
        assert_eq!(s.len(), 1);
        // npm's cache in another home, or moved by a variable.
        for text in [
            "USER node\nRUN --mount=type=cache,target=/home/node/.npm npm ci && npm run build",
            "ENV HOME=/home/x\nRUN --mount=type=cache,target=/home/x/.npm npm ci && npm run build",
            "ENV npm_config_cache=/cache/npm\nRUN --mount=type=cache,target=/cache npm ci && npm run build",
        ] {
            let s = splits_of(&format!("FROM x\nWORKDIR /app\n{text}\n"));
            assert_eq!(s, vec![], "{text}");
        }
        let s = splits_of(
            "FROM x\nWORKDIR /app\nRUN apt-get update && apt-get install -y gcc && \\\n  pip install -r requirements.txt && \\\n  python manage.py collectstatic --noinput\n",
        );
        assert_eq!(
            s[0].replacement,
            "RUN apt-get update && apt-get install -y gcc && \\\n  pip install -r requirements.txt\nRUN python manage.py collectstatic --noinput"
        );
    }

    #[test]
    fn splits_the_usual_compound_installs() {
        for (text, install) in [
            ("RUN npm ci && npm run build && rm -rf /tmp/x", "RUN npm ci"),
            (
                "RUN go mod download && go build -o /bin/app .",
                "RUN go mod download",
            ),
            ("RUN npm ci && npm run build | tee /tmp/log", "RUN npm ci"),
            // Shell options that read no startup file, an absolute `PATH`.
            (
                "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN npm ci && npm run build",
                "RUN npm ci",
            ),
            (
                "ENV PATH=/opt/venv/bin:$PATH\nRUN npm ci && npm run build",
                "RUN npm ci",
            ),
            (
                "RUN cd web && npm ci && npm run build",
                "RUN cd web && npm ci",
            ),
            ("RUN npm ci && cd web && npm run build", "RUN npm ci"),
            (
                "RUN pip install -r requirements.txt && python manage.py collectstatic --noinput",
                "RUN pip install -r requirements.txt",
            ),
        ] {
            let s = splits_of(&format!("FROM x\nWORKDIR /app\n{text}\n"));
            assert_eq!(s.len(), 1, "{text}");
            assert_eq!(s[0].install, install);
        }
    }

    #[test]
    fn refuses_splits_that_change_what_runs() {
        for text in [
            // An install that may link its files to its store or cache,
            // then code not read that may write into them in place (the
            // first two were split before: measured, a build appending to
            // a pnpm-installed file left the store's copy unchanged).
            "RUN yarn install --frozen-lockfile && yarn build",
            "RUN corepack enable && pnpm install --frozen-lockfile && pnpm run build",
            "RUN uv sync --frozen && python manage.py collectstatic",
            // Shell state crosses the split.
            "RUN cd web && cd sub && npm ci && npm run build",
            "RUN cd $DIR && npm ci && npm run build",
            "RUN cd web && npm ci && cd - && npm run build",
            "RUN export CI=1 && npm ci && npm run build",
            "RUN set -e && npm ci && npm run build",
            "RUN FOO=1 && npm ci && npm run build",
            // A failure would not stop the original at the same point.
            "RUN npm ci && npm run build || true",
            "RUN npm ci && npm run build; echo done",
            "RUN npm ci && npm run build &",
            // The rest deletes what the install wrote.
            "RUN npm ci && npm run build && npm prune --production",
            "RUN npm ci && npm run build && rm -rf node_modules/.cache",
            "RUN pip install -r requirements.txt && python setup.py x && rm -rf /root/.cache/pip",
            // The rest reads the first part's shell.
            "RUN npm ci && echo $?",
            // Nothing to hoist, or nothing left.
            "RUN npm run build && npm test",
            "RUN npm ci",
            "RUN npm ci && rm -rf /tmp/x",
            "RUN npm ci && npm cache clean --force",
            // A comment inside the continuation.
            "RUN npm ci && \\\n# build\n npm run build",
            // The rest removes or rewrites what the install wrote, through
            // a home-relative path, a wrapper, an option value before the
            // subcommand, or a second install of the same tree.
            "RUN npm ci && npm run build && rm -rf ~/.npm",
            "RUN npm ci && npm run build && sh -c 'rm -rf node_modules'",
            "RUN npm ci && npm run build && ls node_modules | xargs rm -rf",
            "RUN npm ci && npm run build && npm --loglevel error prune --omit=dev",
            "RUN pip install -r requirements.txt && python setup.py build && python -m pip uninstall -y requests",
            "RUN apt-get update && apt-get install -y gcc && make && apt-get -o Dpkg::Use-Pty=0 purge -y gcc",
            "RUN npm ci && npm run build && npm ci --omit=dev",
            "RUN npm ci && npm run build && chown -R 1000:1000 /app",
            // What the first part writes in a tmpfs or rw bind mount is gone
            // for the rest.
            "RUN --mount=type=tmpfs,target=/app/node_modules npm ci && ls node_modules > /m",
            "RUN --mount=type=bind,target=/app,rw npm ci && ls node_modules > /m",
            // Read as BuildKit reads the flag: keys and type in any case,
            // `readonly=false` is writable.
            "RUN --mount=Type=TMPFS,Target=/app/node_modules npm ci && ls node_modules > /m",
            "RUN --mount=type=bind,target=/app,readonly=false npm ci && ls node_modules > /m",
            "RUN --mount=type=bind,target=/app,ro=0 npm ci && ls node_modules > /m",
            // The first part puts a new `npm` first in PATH: the original
            // shell still runs the one it found before.
            "RUN npm ci && cp /usr/local/bin/npm /usr/local/sbin/npm && node build.js && npm install left-pad",
            // Written by the command's own first run: looked up before.
            "RUN npm install -g npm@10 && npm ci && node build.js && npm run build",
            // `command NAME` and bash's `time NAME` take the remembered
            // place too.
            "RUN npm ci && cp /opt/npm /usr/local/sbin/npm && command npm run build",
            "RUN npm ci && cp /opt/npm /usr/local/sbin/npm && time npm run build",
            // A `PATH` the stage extends keeps the system directories.
            "ENV PATH=/opt/venv/bin:$PATH\nRUN npm ci && cp /opt/npm /usr/local/sbin/npm && npm run build",
            // A relative or unknown directory in `PATH` may hold what the
            // install wrote (a `npm` in node_modules/.bin).
            "ENV PATH=node_modules/.bin:$PATH\nRUN npm ci && npm run build",
            "ENV PATH=$NODE_HOME/bin:$PATH\nRUN npm ci && npm run build",
            // Each `RUN` of a login shell reads a profile, of bash with
            // `BASH_ENV` that file, of zsh `.zshenv`: the rest's would see
            // what the install wrote.
            "SHELL [\"/bin/sh\", \"-l\", \"-c\"]\nRUN npm ci && npm run build",
            "SHELL [\"/bin/bash\", \"--login\", \"-c\"]\nRUN npm ci && npm run build",
            "SHELL [\"/bin/bash\", \"-i\", \"-c\"]\nRUN npm ci && npm run build",
            "SHELL [\"/bin/zsh\", \"-c\"]\nRUN npm ci && npm run build",
            "ENV BASH_ENV=/app/.venv/bin/activate\nRUN npm ci && npm run build",
            // A command the knowledge base does not know, given a path the
            // install wrote, may rewrite or remove it.
            "RUN npm ci && npm run build && gzip node_modules/left-pad/index.js",
            "RUN pip install -r requirements.txt && python manage.py check && strip /usr/local/lib/python3.12/site-packages/x.so",
            "RUN npm ci && npm run build && dd of=node_modules/x/y.js if=/dev/null",
            // `find` without a starting point searches the working
            // directory.
            "RUN npm ci && npm run build && find -name package.json -exec rm '{}' +",
            "RUN npm ci && npm run build && find -L -type f -exec chmod 600 '{}' +",
            "RUN npm ci && npm run build && find",
            // Subcommands (or aliases) the knowledge base does not know
            // that install, update, relink or rebuild in place, and
            // `git clean -x` (the installed tree is ignored).
            "RUN npm ci && npm run build && npm add ms",
            "RUN npm ci && npm run build && npm install-clean",
            "RUN npm ci && npm run build && npm update",
            "RUN npm ci && npm run build && npm unlink ms",
            "RUN npm ci && npm run build && npm rebuild",
            "RUN yarn install --frozen-lockfile && yarn build && yarn upgrade",
            "RUN pnpm install --frozen-lockfile && pnpm build && pnpm add ms",
            "RUN composer install --no-dev && composer dump-autoload --optimize",
            "RUN npm ci && npm run build && git clean -xdf",
        ] {
            let full = format!("FROM x\nWORKDIR /app\n{text}\n");
            assert_eq!(splits_of(&full), vec![], "{text}");
        }
        // `exit` ends the shell: the original runs nothing after it, so it
        // never ends the first part (it may start the rest).
        for text in [
            "RUN npm ci && exit 0 && npm run build",
            "RUN npm ci && true && exit && npm run build",
        ] {
            let full = format!("FROM x\nWORKDIR /app\n{text}\n");
            for s in splits_of(&full) {
                assert!(!s.install.contains("exit"), "{text}: {s:?}");
            }
        }
        let shell = "FROM x\nSHELL [\"pwsh\", \"-Command\"]\nRUN npm ci && npm run build\n";
        let file = FileAnalysis::new(shell, None, Knowledge::embedded());
        assert!(!posix_shell_before(&file.parse, file.parse.items.len() - 1));
    }
}
