//! What a `RUN` certainly deletes, and whether a file is deleted before
//! any later instruction of the stage uses it (issue 11, capability 9: a
//! write that cannot reach the image does not block a move).
//!
//! Guarantees: a path is listed as deleted by a unit only when the unit is
//! a shell-form `RUN` in a POSIX shell, without flags (no mount can stand
//! where it deletes) or heredocs, running as root, whose leading commands,
//! joined by `&&`, are recursive `rm`s of literal paths: if the `RUN`
//! succeeds, the path is gone, whatever was there (a file, a tree, a link)
//! and whoever owned it. Anything less certain is not listed.

use crate::analysis::effects::{self, Effects, Loc, StageState, conflict};
use crate::analysis::shell::{self, Op};
use crate::model::Stage;
use crate::syntax::{Arg, Instruction, Kind, Node, Parse};

/// What each unit of a stage certainly deletes ([`certain_deletions`]).
pub fn of_stage(parse: &Parse, stage: &Stage, state: &StageState) -> Vec<Vec<String>> {
    (0..stage.units.len())
        .map(|k| certain_deletions(parse, stage, state, k))
        .collect()
}

/// The first unit after `from` (skipping those in `skip`) that deletes the
/// image path `p` and everything below it, when none before it reads or
/// writes `p` or anything below it (content, mode or owner).
pub fn first_deleter(
    eff: &[Effects],
    deletions: &[Vec<String>],
    from: usize,
    p: &str,
    skip: &[usize],
) -> Option<usize> {
    let writer = subtree_writer(p);
    for k in from + 1..eff.len().min(deletions.len()) {
        if skip.contains(&k) {
            continue;
        }
        if deletions[k].iter().any(|q| covers(q, p)) {
            return Some(k);
        }
        if conflict(&writer, &eff[k]).is_some() || conflict(&eff[k], &writer).is_some() {
            return None;
        }
    }
    None
}

/// Whether no unit after `from` reads or writes `p` or anything below it.
pub fn untouched_after(eff: &[Effects], from: usize, p: &str) -> bool {
    let writer = subtree_writer(p);
    eff.iter()
        .skip(from + 1)
        .all(|e| conflict(&writer, e).is_none() && conflict(e, &writer).is_none())
}

/// The highest of `p` and its parent directories that `writer` writes
/// (`p` itself when it writes none of them): a copy also gives the
/// directories it ships their mode and owner, so a delete that leaves one
/// of them would leave the copy's version in one order and the writer's
/// in the other.
pub fn written_top(writer: &Effects, p: &str) -> String {
    let mut top = p.to_string();
    let mut cur = p;
    while let Some(k) = cur.rfind('/') {
        cur = &cur[..k];
        if cur.is_empty() {
            break;
        }
        if effects::writes_path(writer, cur) {
            top = cur.to_string();
        }
    }
    top
}

/// A unit that writes `p` and everything below it: what conflicts with it
/// reads or writes some of that.
fn subtree_writer(p: &str) -> Effects {
    Effects {
        writes: vec![
            Loc::Path(p.to_string()),
            Loc::Path(format!("{}/**", p.trim_end_matches('/'))),
        ],
        ..Effects::default()
    }
}

/// Whether deleting `q` deletes `p` (`p` is `q` or below it).
pub fn covers(q: &str, p: &str) -> bool {
    p == q || p.strip_prefix(q).is_some_and(|r| r.starts_with('/'))
}

/// What unit `k` certainly deletes, as absolute paths, before it does
/// anything else (see the module's guarantees). The last `USER` of the
/// stage before it must be `root` or `0`, or there is none and the base is
/// an official image ([`effects::base_runs_as_root`]): another user's
/// `rm` may fail on one order's files and not on the other's. A path with
/// a variable, a glob or `~` is not counted; an option other than `-r`,
/// `-R`, `-f`, `-v` (and their long forms) ends the list; a `cd` among the
/// leading commands is followed.
pub fn certain_deletions(
    parse: &Parse,
    stage: &Stage,
    state: &StageState,
    k: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let Some(unit) = stage.units.get(k) else {
        return out;
    };
    let Some(ins) = parse.items.get(unit.item).and_then(|i| i.instruction()) else {
        return out;
    };
    if ins.node.kind != Kind::Run
        || ins.node.json
        || !ins.heredocs.is_empty()
        || !ins.node.flags.is_empty()
        || !posix_shell_before(parse, unit.item)
        || !runs_as_root(parse, stage, k)
    {
        return out;
    }
    let Some(cmd) = ins.node.str_args().next() else {
        return out;
    };
    let shell::Split::Commands(cmds) = shell::split(cmd) else {
        return out;
    };
    let Some(wd) = state.workdirs.get(k) else {
        return out;
    };
    for c in &cmds {
        if c.joined_by.is_some_and(|op| op != Op::And)
            || !c.redirect_writes.is_empty()
            || !c.redirect_reads.is_empty()
        {
            break;
        }
        let name = c.argv.first().map(String::as_str).unwrap_or("");
        if name == "cd" {
            continue;
        }
        if !matches!(name, "rm" | "/bin/rm" | "/usr/bin/rm") {
            break;
        }
        let Some(paths) = rm_recursive_paths(&c.argv[1..]) else {
            break;
        };
        let dir =
            c.cd.as_deref()
                .map_or_else(|| wd.clone(), |d| effects::resolve(wd, d));
        for a in paths {
            if a.is_empty() || a.contains(['$', '*', '?', '[', '~', '\\']) {
                continue;
            }
            let q = effects::resolve(&dir, a);
            let q = q.trim_end_matches('/');
            if q.starts_with('/') && q.len() > 1 {
                out.push(q.to_string());
            }
        }
    }
    out
}

/// The paths of a recursive `rm` (its arguments after the name), or `None`
/// when it is not recursive or has an option other than `-r`, `-R`, `-f`,
/// `-v` and their long forms.
fn rm_recursive_paths(args: &[String]) -> Option<Vec<&str>> {
    let mut recursive = false;
    let mut options = true;
    let mut paths = Vec::new();
    for a in args {
        if options && a == "--" {
            options = false;
        } else if options && a.starts_with("--") {
            match a.as_str() {
                "--recursive" => recursive = true,
                "--force" | "--verbose" => {}
                _ => return None,
            }
        } else if options && a.starts_with('-') && a.len() > 1 {
            for ch in a[1..].chars() {
                match ch {
                    'r' | 'R' => recursive = true,
                    'f' | 'v' => {}
                    _ => return None,
                }
            }
        } else {
            paths.push(a.as_str());
        }
    }
    recursive.then_some(paths)
}

/// Whether unit `k` runs as root: the last `USER` of the stage before it
/// names `root` or `0`, or there is none and the stage's base runs as root.
fn runs_as_root(parse: &Parse, stage: &Stage, k: usize) -> bool {
    for u in (0..k.min(stage.units.len())).rev() {
        let Some(ins) = parse
            .items
            .get(stage.units[u].item)
            .and_then(|i| i.instruction())
        else {
            continue;
        };
        if ins.node.kind == Kind::User {
            let arg = ins.node.str_args().next().unwrap_or("");
            return effects::RunUser::of_user_instruction(arg) == effects::RunUser::Root;
        }
    }
    effects::base_runs_as_root(parse, stage)
}

/// Whether every `SHELL` before `item` (in any stage: a stage inherits its
/// base stage's shell) is a POSIX shell run with `-c`.
pub fn posix_shell_before(parse: &Parse, item: usize) -> bool {
    parse.items[..item.min(parse.items.len())]
        .iter()
        .filter_map(|it| it.instruction())
        .filter_map(shell_set)
        .all(posix_shell_node)
}

/// The `SHELL` node an instruction sets: a `SHELL`, or an `ONBUILD
/// SHELL`, which sets it in every stage built on its stage (BuildKit runs
/// the triggers first there; measured with Docker 20.10: `ONBUILD SHELL
/// ["/bin/bash", "-l", "-c"]` made the next stage's `RUN`s read
/// `~/.profile`).
pub fn shell_set(ins: &Instruction) -> Option<&Node> {
    let node = match (ins.node.kind, ins.node.args.first()) {
        (Kind::Onbuild, Some(Arg::Sub(child))) => child.as_ref(),
        _ => &ins.node,
    };
    (node.kind == Kind::Shell).then_some(node)
}

/// Whether a `SHELL` instruction names a POSIX shell run with `-c` that
/// reads no startup file: no login or interactive shell (`-l`,
/// `--login`, `-i`, `--rcfile`: `/etc/profile`, `/etc/profile.d/*.sh`,
/// `~/.profile`, `~/.bashrc` may set any variable, measured: an `export
/// npm_config_lockfile_version=2` in `/etc/profile.d` under `SHELL
/// ["/bin/bash", "-l", "-c"]` rewrote the lock `npm install` was taken
/// to keep), and not zsh, which always reads `/etc/zsh/zshenv` and
/// `~/.zshenv`. Between the program and `-c` only clusters of the
/// letters that set shell options (`-e`, `-eux`, `+x`), `-o`/`-O` with a
/// name (`-o pipefail`), and `--noprofile`, `--norc`, `--posix`,
/// `--noediting`.
pub fn posix_shell(ins: &Instruction) -> bool {
    posix_shell_node(&ins.node)
}

/// [`posix_shell`] of a `SHELL` node (one under `ONBUILD` too).
fn posix_shell_node(node: &Node) -> bool {
    let args: Vec<&str> = node.str_args().collect();
    let prog = args.first().map(|p| p.rsplit('/').next().unwrap_or(p));
    if !matches!(prog, Some("sh" | "bash" | "ash" | "dash")) || args.last() != Some(&"-c") {
        return false;
    }
    let mut rest = args[1..args.len() - 1].iter();
    while let Some(a) = rest.next() {
        match *a {
            "-o" | "+o" | "-O" | "+O" => {
                if rest.next().is_none_or(|v| v.starts_with(['-', '+'])) {
                    return false;
                }
            }
            "--noprofile" | "--norc" | "--posix" | "--noediting" => {}
            _ => {
                let Some(flags) = a.strip_prefix('-').or_else(|| a.strip_prefix('+')) else {
                    return false;
                };
                // Only the letters that set shell options (`set`'s, and
                // bash's `-B`, `-C`, `-E`, `-H`, `-P`, `-T`).
                if flags.is_empty() || !flags.chars().all(|c| "aefhkmnpuvxBCEHPT".contains(c)) {
                    return false;
                }
            }
        }
    }
    true
}
