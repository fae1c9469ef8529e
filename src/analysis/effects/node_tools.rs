//! Which pnpm and yarn a stage runs: pnpm 10's launch (`npm install -g
//! pnpm@10`, `corepack enable`) carried through the stages a stage is
//! built on, and what may shadow or move yarn (corepack, `PATH`, `COREPACK_*`
//! settings). Unknown whenever a later instruction may put another program
//! first.

use super::*;

/// Marks each pnpm install of the stage that runs pnpm 10 or later
/// ([`pnpm_ten_runs`]): its packages' scripts then run only where the
/// project allows them (`manifests::pnpm_ten_problems`).
pub(super) fn settle_pnpm_ten(
    parse: &Parse,
    stage: &Stage,
    state: &StageState,
    start: PnpmState,
    effects: &mut [Effects],
) {
    for b in 0..effects.len() {
        let pnpm = effects[b].checks.iter().any(|(c, _)| {
            matches!(
                c,
                ManifestCheck::NpmScripts(kb::DependencyScripts::Pnpm { ten: None, .. })
            )
        });
        if !pnpm {
            continue;
        }
        let Some(kind) = pnpm_ten_runs(parse, stage, effects, state, start, b) else {
            continue;
        };
        for (c, _) in &mut effects[b].checks {
            if let ManifestCheck::NpmScripts(kb::DependencyScripts::Pnpm { ten, .. }) = c {
                *ten = Some(kind);
            }
        }
    }
}

/// What a `RUN` does to the pnpm the stage runs: puts a pnpm 10 first on
/// `PATH` (`Ten(Npm)`: `npm install -g pnpm@10…`, a release or range of
/// major 10, alone on its command; `Ten(Corepack)`: `corepack enable`
/// with pnpm among its shims, which runs the release `packageManager`
/// names), or anything else a command of it may do to pnpm (another
/// corepack command, a global install of pnpm 9, of pnpm with no version
/// or `latest` (the registry's newest, of a major whose policy was not
/// read: 12.25.1 in December 2026), or of other packages, whose programs
/// may be named `pnpm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PnpmLaunch {
    Ten(kb::PnpmTen),
    Other,
    Untouched,
}

pub(super) fn pnpm_launch(cmds: &[shell::SimpleCommand]) -> PnpmLaunch {
    const NPM_INSTALL: &[&str] = &[
        "install", "i", "add", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal",
        "isntall",
    ];
    let mut out = PnpmLaunch::Untouched;
    for c in cmds {
        let tool = c.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a));
        let args = c.argv.get(1..).unwrap_or(&[]);
        match tool {
            Some("npm")
                if args
                    .first()
                    .is_some_and(|a| NPM_INSTALL.contains(&a.as_str())) =>
            {
                let global = args
                    .iter()
                    .any(|a| a == "-g" || a == "--global" || a == "--location=global");
                let names: Vec<&String> =
                    args[1..].iter().filter(|a| !a.starts_with('-')).collect();
                let pnpm: Vec<&&String> = names
                    .iter()
                    .filter(|a| a.as_str() == "pnpm" || a.starts_with("pnpm@"))
                    .collect();
                if !global {
                    continue;
                }
                out =
                    match (pnpm.as_slice(), names.len()) {
                        ([spec], 1)
                            if args.iter().filter(|a| a.starts_with('-')).all(|a| {
                                a == "-g" || a == "--global" || a == "--location=global"
                            }) && pnpm_spec_ten(spec) =>
                        {
                            PnpmLaunch::Ten(kb::PnpmTen::Npm)
                        }
                        _ => PnpmLaunch::Other,
                    };
            }
            Some("corepack") => {
                let names: Vec<&String> = args.iter().skip(1).collect();
                out = if args.first().is_some_and(|a| a == "enable")
                    && names.iter().all(|a| !a.starts_with('-'))
                    && (names.is_empty() || names.iter().any(|a| *a == "pnpm"))
                {
                    PnpmLaunch::Ten(kb::PnpmTen::Corepack)
                } else {
                    PnpmLaunch::Other
                };
            }
            Some("yarn" | "pnpm" | "npx" | "bun")
                if args
                    .iter()
                    .any(|a| a == "global" || a == "-g" || a == "--global") =>
            {
                out = PnpmLaunch::Other;
            }
            _ => {}
        }
    }
    // Any other program in the launching `RUN` may put a pnpm on `PATH`
    // after it (a system package, a script).
    let plain = cmds.iter().all(|c| {
        let tool = c.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a));
        match tool {
            Some("corepack" | "echo" | "true" | "set") => true,
            // The launch itself, a cache cleaning, a version.
            Some("npm") => match c.argv.get(1).map(String::as_str) {
                Some("cache" | "--version" | "-v") => true,
                Some(a) => {
                    NPM_INSTALL.contains(&a)
                        && c.argv
                            .iter()
                            .any(|a| a == "-g" || a == "--global" || a == "--location=global")
                }
                None => false,
            },
            Some("pnpm") => matches!(c.argv.get(1..), Some([v]) if v == "--version" || v == "-v"),
            _ => false,
        }
    });
    if matches!(out, PnpmLaunch::Ten(_)) && !plain {
        PnpmLaunch::Other
    } else {
        out
    }
}

/// Whether an npm package spec of pnpm (`pnpm@10`, `pnpm@^10.2.0`,
/// `pnpm@~10.4`, `pnpm@10.x`, `pnpm@10.12.1`) installs a release of
/// major 10, whose policy was read in 10.0.0 and 10.34.9 (the newest
/// 10.x): dependencies' scripts run only where a setting allows them. No
/// version or `latest` installs the registry's newest release, of a
/// major not read (pnpm 11 writes `allowBuilds` placeholders into
/// pnpm-workspace.yaml during the install; 12 is another program), and
/// neither does a range open above.
pub(super) fn pnpm_spec_ten(spec: &str) -> bool {
    let v = spec.strip_prefix("pnpm").unwrap_or(spec);
    let Some(v) = v.strip_prefix('@') else {
        return false;
    };
    let v = v
        .strip_prefix('^')
        .or_else(|| v.strip_prefix('~'))
        .unwrap_or(v);
    let v = v.strip_prefix('=').unwrap_or(v);
    let v = v.strip_prefix('v').unwrap_or(v);
    let Some(rest) = v.strip_prefix("10") else {
        return false;
    };
    // `10`, `10.x`, `10.12`, `10.12.1`, `10.x.x`: nothing but digits,
    // dots and `x` after a dot.
    rest.is_empty()
        || rest.starts_with('.')
            && rest.split('.').skip(1).all(|p| {
                p == "x"
                    || p == "X"
                    || p == "*"
                    || (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            })
            && rest.split('.').count() <= 3
}

/// How `RUN` unit `b` runs pnpm 10 as launched, if it does: an earlier
/// `RUN` of the stage put it there ([`pnpm_launch`]), and after that
/// nothing may have put another pnpm ahead of it (no unit the analysis
/// does not follow, no write where `PATH` looks for `pnpm` or `pnpx`, no
/// other launch); nothing in the stage up to `b` writes pnpm's or npm's
/// configuration files (`~/.npmrc`, `/usr/local/etc/npmrc`,
/// `/etc/npmrc`, `~/.config/pnpm/`, where `only-built-dependencies` may
/// be set); and `b`'s environment sets no `npm_config_*`,
/// `pnpm_config_*`, `COREPACK_*` (but the download prompt and the
/// integrity keys), `HOME` or
/// `XDG_CONFIG_HOME`, and a `PATH` only of literal absolute directories.
/// The stage's base is not followed: a `pnpm` it has counts only once a
/// launch of this stage replaced it.
pub(super) fn pnpm_ten_runs(
    parse: &Parse,
    stage: &Stage,
    effects: &[Effects],
    state: &StageState,
    start: PnpmState,
    b: usize,
) -> Option<kb::PnpmTen> {
    let env = &super::locks::with_run_exports(state.env.get(b)?, effects.get(b)?);
    let unsure = env.keys().any(|k| kb::pnpm_setting_var(k));
    if unsure || pnpm_programs(env).is_none() {
        return None;
    }
    // The earlier stages checked their writes against the `PATH` they
    // ended with.
    let mut at = start;
    if state.env.first().and_then(|e| e.get("PATH")) != env.get("PATH") {
        at.ten = None;
    }
    for (k, e) in effects.iter().enumerate().take(b) {
        let ins = stage
            .units
            .get(k)
            .and_then(|u| parse.items.get(u.item))
            .and_then(|i| i.instruction())?;
        at = pnpm_step(at, ins, e, env);
    }
    at.ten.filter(|_| at.clean)
}

/// What is known of pnpm at a point of a stage: how a pnpm 10 that
/// `pnpm` runs was launched ([`pnpm_launch`], nothing since that may have
/// put another first), and whether no npm or pnpm configuration file may
/// have been written (an official base image ships none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PnpmState {
    pub(super) ten: Option<kb::PnpmTen>,
    pub(super) clean: bool,
}

/// npm's and pnpm's user and global configuration files, where a setting
/// may let packages' scripts run.
pub(super) const PNPM_CONFIG: &[&str] = &[
    "/root/.npmrc",
    "/root/.config/pnpm/**",
    "/home/*/.npmrc",
    "/home/*/.config/pnpm/**",
    "/usr/local/etc/npmrc",
    "/etc/npmrc",
];

/// Where `pnpm` may be found on the `PATH` of `env` (its programs and
/// npm's global copy); `None` when `PATH` is not literal.
pub(super) fn pnpm_programs(env: &BTreeMap<String, String>) -> Option<Vec<String>> {
    let dirs: Vec<String> = match env.get("PATH") {
        Some(p) => {
            let dirs: Vec<&str> = p.split(':').collect();
            if dirs
                .iter()
                .any(|d| !d.starts_with('/') || d.contains('$') || d.starts_with(UNKNOWN_VALUE))
            {
                return None;
            }
            dirs.iter().map(|d| d.to_string()).collect()
        }
        None => DEFAULT_PATH.iter().map(|d| d.to_string()).collect(),
    };
    let mut programs: Vec<String> = dirs
        .iter()
        .flat_map(|d| {
            let d = d.trim_end_matches('/');
            [format!("{d}/pnpm"), format!("{d}/pnpx")]
        })
        .collect();
    programs.push("/usr/local/lib/node_modules/pnpm/**".to_string());
    Some(programs)
}

/// The pnpm state after unit `ins` with effects `e`, run with `env`.
pub(super) fn pnpm_step(
    was: PnpmState,
    ins: &Instruction,
    e: &Effects,
    env: &BTreeMap<String, String>,
) -> PnpmState {
    let clean = was.clean && e.opaque.is_none() && !PNPM_CONFIG.iter().any(|c| writes_path(e, c));
    let launch = match ins.node.kind {
        _ if e.opaque.is_some() => None,
        Kind::Run => ins.run_script().and_then(|t| match shell::split(&t) {
            Split::Commands(c) => Some(pnpm_launch(&c)),
            Split::Opaque(_) => None,
        }),
        _ => Some(PnpmLaunch::Untouched),
    };
    let ten = match launch {
        Some(PnpmLaunch::Ten(kind)) => Some(kind),
        Some(PnpmLaunch::Other) | None => None,
        Some(PnpmLaunch::Untouched) => was
            .ten
            .filter(|_| pnpm_programs(env).is_some_and(|ps| !ps.iter().any(|p| writes_path(e, p)))),
    };
    PnpmState { ten, clean }
}

/// Whether `p` (a path or pattern) may be a `yarn` (or `yarnpkg`) in a
/// directory of the default PATH: where corepack's shims are
/// (`/usr/local/bin`), and where another yarn would run instead of them
/// (`/usr/local/sbin` comes before the shims).
pub(super) fn may_be_a_yarn(p: &str) -> bool {
    let base = pattern_base(p);
    YARN_PATHS
        .iter()
        .any(|y| bases_overlap(base, pattern_base(y)))
}

/// `yarn` and `yarnpkg` in each directory of [`DEFAULT_PATH`] (a test
/// checks that they are): written out, not formatted for every path
/// [`may_be_a_yarn`] is asked about (every path every command writes).
pub(super) const YARN_PATHS: [&str; 12] = [
    "/usr/local/sbin/yarn",
    "/usr/local/sbin/yarnpkg",
    "/usr/local/bin/yarn",
    "/usr/local/bin/yarnpkg",
    "/usr/sbin/yarn",
    "/usr/sbin/yarnpkg",
    "/usr/bin/yarn",
    "/usr/bin/yarnpkg",
    "/sbin/yarn",
    "/sbin/yarnpkg",
    "/bin/yarn",
    "/bin/yarnpkg",
];

/// Whether a variable may make `yarn` something else than corepack's shim
/// running the `packageManager` release: `PATH` (a directory ahead of the
/// shims may hold another yarn) or a `COREPACK_*` variable
/// (`COREPACK_ENABLE_PROJECT_SPEC=0` runs corepack's default yarn), but
/// `COREPACK_ENABLE_DOWNLOAD_PROMPT`: corepack (0.34.6, the Node.js 20
/// image's) reads it in one place, before a download, only to print the
/// URL on stderr and, when its standard input is a terminal and `CI` is
/// unset, to ask whether to go on; a `RUN`'s standard input is not a
/// terminal, so it changes neither which yarn runs nor what it writes;
/// nor does `COREPACK_INTEGRITY_KEYS` (see
/// [`kb::corepack_var_may_change_the_tool`]).
pub(super) fn moves_yarn(var: &str) -> bool {
    var == "PATH" || kb::corepack_var_may_change_the_tool(var)
}

/// Whether an environment may make `yarn` other than corepack's shim
/// running the `packageManager` release: a `PATH` the Dockerfile set (a
/// directory ahead of the shims may hold another yarn, such as the
/// Node.js image's `/opt/yarn-v1.22.22/bin`), or any `COREPACK_*`
/// variable (`COREPACK_ENABLE_PROJECT_SPEC=0` runs corepack's default
/// yarn, 1.22.22, whatever `packageManager` says; measured with corepack
/// 0.34.6).
pub(super) fn corepack_env_unsure(env: &BTreeMap<String, String>) -> bool {
    env.keys().any(|k| moves_yarn(k))
}

/// Whether corepack's shims are what `yarn` runs after `cmds`, starting
/// from `was`: `Some(true)` after a plain `corepack enable`, `Some(false)`
/// after any other corepack command or a command that may shadow the
/// shims ([`shadows_yarn`]; for good: a later `corepack enable` does not
/// take a yarn ahead of the shims off PATH), `was` when none of that
/// happens; and whether a command shadowed them.
pub(super) fn corepack_state(
    cmds: &[shell::SimpleCommand],
    wd: &str,
    env: &BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
    was: Option<bool>,
) -> RunCorepack {
    let mut state = was;
    for c in cmds {
        if shadows_yarn(c, wd, env, kb) {
            return RunCorepack {
                state: Some(false),
                shadows: true,
            };
        }
        if let Some(argv0) = c.argv.first()
            && argv0.rsplit('/').next() == Some("corepack")
        {
            state = Some(c.argv.len() == 2 && c.argv[1] == "enable");
        }
    }
    RunCorepack {
        state,
        shadows: false,
    }
}

/// Whether a command may make `yarn` something else than corepack's shim
/// running the `packageManager` release: one the knowledge base does not
/// know, one that may write a yarn in a directory of PATH, or one that
/// sets `PATH` or a `COREPACK_*` variable (see [`corepack_env_unsure`]).
pub(super) fn shadows_yarn(
    c: &shell::SimpleCommand,
    wd: &str,
    env: &BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
) -> bool {
    if c.assignments.iter().any(|(k, _)| moves_yarn(k)) {
        return true;
    }
    let Some(argv0) = c.argv.first() else {
        return false;
    };
    if argv0 == "export" {
        return c.argv[1..]
            .iter()
            .any(|a| moves_yarn(a.split('=').next().unwrap_or(a)));
    }
    if argv0.rsplit('/').next() == Some("corepack") {
        return false;
    }
    let f = kb::interpret(c, kb, env);
    let dir =
        c.cd.as_deref()
            .map_or_else(|| wd.to_string(), |d| resolve(wd, d));
    f.unknown.is_some()
        || f.writes
            .iter()
            .chain(&c.redirect_writes)
            .any(|w| may_be_a_yarn(&resolve(&dir, w)))
}

/// [`corepack_state`] after a whole instruction of the stage, from `was`:
/// a `RUN` as its commands say ([`Effects::corepack`], made once when the
/// `RUN` is read; one the splitter does not follow ends it), another
/// instruction that may write where the shims are or set `PATH` or a
/// `COREPACK_*` variable ends it, anything else keeps it. Second: whether
/// the instruction may shadow the shims for the rest of the stage,
/// whatever `corepack enable` comes after.
pub(super) fn corepack_after(ins: &Instruction, e: &Effects, was: bool) -> (bool, bool) {
    if e.opaque.is_some() {
        return (false, true);
    }
    if ins.node.kind == Kind::Run {
        return match e.corepack {
            Some(RunCorepack { shadows: true, .. }) | None => (false, true),
            Some(RunCorepack { state, .. }) => (state.unwrap_or(was), false),
        };
    }
    let writes_yarn = e.writes.iter().any(|l| match l {
        Loc::Path(p) => may_be_a_yarn(p),
        Loc::Var(v) => moves_yarn(v),
        _ => false,
    });
    (was && !writes_yarn, writes_yarn)
}
