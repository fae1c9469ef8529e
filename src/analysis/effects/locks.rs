//! Whether an install keeps the lock file the broad copy ships (npm's
//! and yarn's locks, Go's `go.sum`, Bundler's `Gemfile.lock`), and
//! whether `git` can run and look at a shipped `.git`. No whenever a
//! setting, a flag or the base image might make the tool rewrite the
//! lock or run git: the move then stays in place or becomes `Unsafe`.

use super::*;

/// Whether no git program can run when unit `b` of the stage runs: the
/// stage is built on an official image that has none
/// ([`base_path_without_git`]), and no unit before it (nor, when its `RUN`
/// is more than the one command, `b` itself: `apt-get install git &&
/// composer install`) may put one in a directory of `PATH`. A `RUN` the
/// analysis does not follow, or a system install, may. `PATH` must be
/// known: set by the stage to absolute directories, or left as the image
/// has it, and not changed by `b`'s own text; `b` mounts nothing (a mount
/// may bring a git program for its time). What a copy ships the caller
/// checks (no file named `git`).
///
/// A missing git program keeps only git away from the repository: the
/// code of the packages an install runs may read `.git` itself. So `b`
/// must run none ([`crate::analysis::manifests::runs_no_package_code`]: a `composer
/// install` whose lock lists no plugin; `text` gives a file of an image
/// directory as `b` reads it, see [`crate::analysis::manifests::runs_no_git`]), and none
/// may be installed globally: nothing before `b` may write where
/// Composer's home is (`~/.composer`, `~/.config/composer`, as `b` reads
/// them), which nothing but the home may move (`COMPOSER`,
/// `COMPOSER_HOME`, `XDG_CONFIG_HOME` unset).
pub fn git_cannot_run(
    parse: &Parse,
    stage: &Stage,
    eff: &[Effects],
    state: &StageState,
    b: usize,
    text: impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    let Some(ex) = eff.get(b) else {
        return false;
    };
    if !crate::analysis::manifests::runs_no_package_code(ex, text) {
        return false;
    }
    let env = state.env.get(b).map(|env| with_run_exports(env, ex));
    let env = env.as_ref();
    if ["COMPOSER", "COMPOSER_HOME", "XDG_CONFIG_HOME"]
        .iter()
        .any(|v| env.is_none_or(|e| e.contains_key(*v)))
    {
        return false;
    }
    // Global plugins live in Composer's home, as `composer global require`
    // puts them: its `composer.json` and `vendor/` (the keys the installer
    // writes there bring no code).
    let mut plugins: Vec<String> = Vec::new();
    for l in &ex.reads {
        let Loc::Path(p) = l else { continue };
        let user = p
            .find("/.composer")
            .or_else(|| p.find("/.config"))
            .map(|k| &p[..k]);
        if let Some(user) = user {
            for home in [".composer", ".config/composer"] {
                for at in ["composer.json", "vendor/**"] {
                    let t = format!("{user}/{home}/{at}");
                    if !plugins.contains(&t) {
                        plugins.push(t);
                    }
                }
            }
        }
    }
    if plugins.is_empty() || (0..b).any(|k| plugins.iter().any(|h| writes_path(&eff[k], h))) {
        return false;
    }
    let Some(mut dirs) = base_path_without_git(parse, stage.from_item) else {
        return false;
    };
    let set_dirs: Vec<&str> = match env.and_then(|e| e.get("PATH")) {
        Some(v) => v.split(':').collect(),
        None => Vec::new(),
    };
    if set_dirs
        .iter()
        .any(|d| !d.starts_with('/') || d.trim_end_matches('/').is_empty() || d.contains('$'))
    {
        return false;
    }
    dirs.extend(set_dirs);
    let Some(text) = stage
        .units
        .get(b)
        .and_then(|u| parse.items.get(u.item))
        .and_then(|i| i.instruction())
        .filter(|i| i.heredocs.is_empty())
        .map(|i| i.original.as_str())
    else {
        return false;
    };
    // Its own `PATH`, or a mount that may bring a git program for the
    // time of the `RUN` (`--mount=type=bind,from=tools,…`).
    if text.contains("PATH") || text.contains("--mount") {
        return false;
    }
    // Its own writes come after its git would run, unless another command
    // of its `RUN` comes first.
    let body = text.replace("\\\n", " ");
    let lone = !["&", "|", ";", "\n", "$(", "`"]
        .iter()
        .any(|op| body.trim_end().contains(op));
    let last = if lone { b } else { b + 1 };
    let programs: Vec<String> = dirs
        .iter()
        .map(|d| format!("{}/git", d.trim_end_matches('/')))
        .collect();
    eff.iter()
        .take(last)
        .all(|e| programs.iter().all(|g| !writes_path(e, g)))
}

/// Whether the npm of the stage's base image is 9 or later, which keeps
/// an agreeing lock of version 3 as it is (npm docs, config
/// `lockfile-version`: "maintain current lockfile version"): the official
/// `node` image named by a literal tag whose Node.js ships npm 9 or later
/// (nodejs.org's release list: every 20.x and later, and 18.14 and
/// later in the 18 line, whose last release `18` names; measured: npm
/// 9.0.0 keeps such locks, 8.0.0 and 7.24.2 rewrite version 3 ones), or by
/// a word tag that names
/// the current or a current long-term line (`latest`, `lts`, `current`,
/// `alpine`, `slim`, `bookworm`, `iron`, `jod`, `krypton`...). Assumption:
/// a tag resolves to the image the registry has for it now. A tag with a
/// variable, a digest with a word tag (an older build of a moving tag)
/// and any other image are not known.
pub(super) fn npm_keeps_agreeing_locks(parse: &Parse, from_item: usize) -> bool {
    let npm_9 = |major: u32, minor: Option<&str>| match major {
        m if m >= 20 => true,
        // 18.14.0 shipped npm 9.3.1; the line's last release, npm 10.
        18 => minor.is_none_or(|minor| minor.parse::<u32>().is_ok_and(|m| m >= 14)),
        _ => false,
    };
    official_node_tag(parse, from_item, npm_9, &[])
}

/// Whether the npm of the stage's base image is 9 or 10, which flag a
/// package reached by a peer edge and another edge as arborist's
/// `calc-dep-flags` computes (no `peer`): the official `node` image of
/// Node.js 18.14 to 22 named by a literal version tag or by the codename
/// of one of those lines (`hydrogen`, `iron`, `jod`). Node.js 18.14 to
/// 22 ship npm 9 or 10 (nodejs.org's release list); 24 ships npm 11,
/// whose 11.6.1 and 11.6.2 flag such a package `peer` (npm/cli#8690),
/// and a word tag (`latest`, `lts`, `current`, `krypton`) names 24 or
/// later. The stage may not replace npm before the install (checked by
/// [`lock_kept`]).
fn npm_flags_peers_as_arborist(parse: &Parse, from_item: usize) -> bool {
    let Some(raw) = official_literal_from(parse, from_item, "node") else {
        return false;
    };
    let tag = image_tag(raw);
    let words: Vec<&str> = tag.split('-').filter(|w| !w.is_empty()).collect();
    let line_ok = |w: &str| {
        let mut parts = w.split('.');
        let major = parts.next().and_then(|m| m.parse::<u32>().ok());
        match major {
            Some(20 | 22) => true,
            // `18` alone is the line's last release (npm 10).
            Some(18) => parts
                .next()
                .is_none_or(|m| m.parse::<u32>().is_ok_and(|m| m >= 14)),
            _ => false,
        }
    };
    let mut line = false;
    for w in &words {
        if w.starts_with(|c: char| c.is_ascii_digit()) {
            if !line_ok(w) {
                return false;
            }
            line = true;
        } else if ["hydrogen", "iron", "jod"].contains(w) {
            line = true;
        } else if !(["slim", "bookworm", "bullseye", "buster", "trixie"].contains(w)
            || w.starts_with("alpine"))
        {
            return false;
        }
    }
    line && npm_keeps_agreeing_locks(parse, from_item)
}

/// Whether the yarn of the stage's base image is yarn 1.22.4 or later in
/// the 1.22 line, whose lock writing was measured alike on every case of
/// the yarn 1 predicate (1.22.4, 1.22.5, 1.22.10, 1.22.17, 1.22.19 and
/// 1.22.22 kept or wrote the same locks): the official `node` image of
/// Node.js 14 and later (docker-node set `YARN_VERSION` 1.22.4 in March
/// 2020, before 14.0.0, and only raised it since), or a word tag of a
/// current or long-term line (with the older Debian codenames `buster`
/// and `stretch`, and the long-term names `fermium` and `gallium`).
/// Assumption: a tag resolves to the image the registry has for it now.
pub(super) fn yarn_1_keeps_agreeing_locks(parse: &Parse, from_item: usize) -> bool {
    official_node_tag(
        parse,
        from_item,
        |major, _| major >= 14,
        &["buster", "stretch", "fermium", "gallium"],
    )
}

/// The `FROM` text of a stage whose base is the official image `repo`
/// named without a variable (its tag is [`image_tag`] of it).
pub(super) fn official_literal_from<'p>(
    parse: &'p Parse,
    from_item: usize,
    repo: &str,
) -> Option<&'p str> {
    let image = base_image(parse, from_item)?;
    let raw = from_text(parse, from_item)?;
    (!raw.contains('$') && official_repo(&image) == Some(repo)).then_some(raw)
}

/// Whether the stage's base is the official `node` image named by a
/// literal tag whose version words `version_ok` takes (major, then minor
/// when the tag has one), or whose words are all known words of its tags
/// (`latest`, `lts`, `slim`, a Debian codename, `alpine…`, a long-term
/// line's name; `more` adds some). A digest must come with a version.
pub(super) fn official_node_tag(
    parse: &Parse,
    from_item: usize,
    version_ok: impl Fn(u32, Option<&str>) -> bool,
    more: &[&str],
) -> bool {
    let Some(raw) = official_literal_from(parse, from_item, "node") else {
        return false;
    };
    let tag = image_tag(raw);
    let digest = raw.contains('@');
    if digest && tag.is_empty() {
        return false;
    }
    let words: Vec<&str> = tag.split('-').filter(|w| !w.is_empty()).collect();
    let version = |w: &str| {
        let mut parts = w.split('.');
        parts
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|major| version_ok(major, parts.next()))
    };
    const WORDS: &[&str] = &[
        "latest", "current", "lts", "slim", "bookworm", "bullseye", "trixie", "iron", "jod",
        "krypton", "hydrogen",
    ];
    let mut numbered = false;
    for w in &words {
        if w.starts_with(|c: char| c.is_ascii_digit()) {
            if !version(w) {
                return false;
            }
            numbered = true;
        } else if !(WORDS.contains(w) || more.contains(w) || w.starts_with("alpine")) {
            return false;
        }
    }
    numbered || !digest
}

/// The environment the commands of a `RUN` (effects `ex`) run with, as
/// far as their settings go: the stage's, `env`, and over it what the
/// `RUN`'s own commands exported ([`Effects::exported`]).
pub fn with_run_exports(env: &BTreeMap<String, String>, ex: &Effects) -> BTreeMap<String, String> {
    let mut out = env.clone();
    out.extend(ex.exported.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// Whether `RUN` unit `b` leaves the lock file at image path `lock` as it
/// is, though it is among what it writes ([`Effects::kept_locks`]): npm
/// 9 or later ([`npm_keeps_agreeing_locks`]) running with its own
/// settings only, on a lock that agrees with `package.json`
/// ([`crate::analysis::manifests::npm_lock_kept`]). Its own settings: no
/// `npm_config_*` variable and no `NODE_OPTIONS`; no `USER` but root or
/// `node` before it (whose homes are known); no unit up to it (nor it, a
/// `npm config set` before the install) may write an npm configuration
/// file (`~/.npmrc`, `/usr/local/etc/npmrc`, `/etc/npmrc`, npm's own) or
/// replace npm or node; the project's `.npmrc`, if shipped, sets only
/// what does not touch the lock. `text` gives a file of an image
/// directory as `b` reads it (`Some(None)`: certainly not there); `ctx`,
/// the build context, lists what each earlier copy from it puts.
pub fn lock_kept(
    parse: &Parse,
    stage: &Stage,
    eff: &[Effects],
    state: &StageState,
    (b, ctx): (usize, Option<&Context>),
    lock: &str,
    text: impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    let Some(ex) = eff.get(b) else {
        return false;
    };
    if ex.opaque.is_some() || !ex.kept_locks.iter().any(|l| l == lock) {
        return false;
    }
    let Some((dir, name)) = lock.rsplit_once('/') else {
        return false;
    };
    let dir = if dir.is_empty() { "/" } else { dir };
    if name == "go.sum" {
        // `go mod download` writes no other lock and reads no settings that
        // change which sums it adds (GOFLAGS' `-modfile` is a path the
        // analysis reads, which keeps it from moving at all).
        return matches!(
            (text(dir, "go.mod"), text(dir, "go.sum")),
            (Some(Some(m)), Some(Some(s))) if crate::analysis::manifests::go_sum_kept(&m, &s)
        );
    }
    if name == "Gemfile.lock" {
        return bundler_lock_kept(parse, stage, eff, state, (b, ctx), dir, &text);
    }
    let yarn = name == "yarn.lock";
    let image_known = if yarn {
        yarn_1_keeps_agreeing_locks(parse, stage.from_item)
    } else {
        npm_keeps_agreeing_locks(parse, stage.from_item)
    };
    if !image_known {
        return false;
    }
    let Some(env) = state.env.get(b) else {
        return false;
    };
    let env = &with_run_exports(env, ex);
    // yarn 1 reads npm's settings too (`.npmrc`, `npm_config_*`). PREFIX
    // and DESTDIR move the global settings file (`$PREFIX/etc/npmrc`) away
    // from the one checked below.
    if env.keys().any(|k| {
        let k = k.to_ascii_lowercase();
        k.starts_with("npm_config_")
            || k == "node_options"
            || (yarn && k.starts_with("yarn_"))
            || k == "prefix"
            || k == "destdir"
    }) {
        return false;
    }
    // Yarn Berry with an immutable install never writes the lock (it
    // fails instead, in either order, reading the same files). Whether it
    // is Berry that runs, immutably, is the install's manifest check's to
    // prove: where it cannot, that check keeps the install Unsafe
    // (manifests::berry_problems, for every project berry_named_by names).
    let berry = yarn && {
        let file = |n: &str| text(dir, n);
        // Only a Berry project known as such: a `.yarnrc.yml` that may or
        // may not be there could be one yarn 1 reads without Berry running.
        match file(".yarnrc.yml") {
            None => return false,
            Some(_) => crate::analysis::manifests::berry_named_by(&file).is_some(),
        }
    };
    let users_known = stage.units.iter().take(b).all(|u| {
        match parse.items.get(u.item).and_then(|i| i.instruction()) {
            Some(ins) if ins.node.kind == Kind::User => {
                ins.node.str_args().next().is_some_and(|v| {
                    matches!(v.split(':').next(), Some("root" | "0" | "node" | "1000"))
                })
            }
            Some(_) => true,
            None => true,
        }
    });
    if !users_known {
        return false;
    }
    let archive = archive_installs(eff, b);
    if berry {
        // Berry reads a `.yarnrc.yml` in every directory above the project
        // and in the home too: one the stage wrote may name another yarn
        // (a `yarnPath` to yarn 1, which ignores `--immutable`).
        let mut rcs: Vec<String> = vec![
            "/root/.yarnrc.yml".to_string(),
            "/home/node/.yarnrc.yml".to_string(),
        ];
        if let Some(home) = env.get("HOME") {
            rcs.push(format!("{}/.yarnrc.yml", home.trim_end_matches('/')));
        }
        rcs.extend(dirs_above(dir).map(|d| format!("{d}/.yarnrc.yml")));
        return !eff
            .iter()
            .take(b + 1)
            .any(|e| rcs.iter().any(|p| writes_path(e, p)));
    }
    // The user's own settings are those of the user the install runs as:
    // root's alone when it certainly runs as root (scout73: `useradd -m
    // appuser` writes `/home/**`, not root's `.npmrc`), root's or node's
    // otherwise (no other `USER` passed the check above).
    let as_root = state.as_root.get(b).copied().unwrap_or(false);
    let user_homes: &[&str] = if as_root {
        &["/root"]
    } else {
        &["/root", "/home/node"]
    };
    let mut settings: Vec<String> = user_homes.iter().map(|h| format!("{h}/.npmrc")).collect();
    settings.extend(
        [
            "/usr/local/etc/npmrc",
            "/etc/npmrc",
            "/usr/local/lib/node_modules/npm/npmrc",
            "/usr/local/lib/node_modules/npm/package.json",
            "/usr/local/bin/npm",
            "/usr/local/bin/node",
        ]
        .iter()
        .map(|p| p.to_string()),
    );
    if yarn {
        // yarn 1's rc files (the home's, the global ones, and `.yarnrc`
        // or `.npmrc` in any directory above the project), and yarn itself
        // (the image's /opt/yarn-v1.22.x, linked from /usr/local/bin).
        // A package.json above the project too: yarn 1 runs in the first
        // directory above whose `workspaces` name the project, and reads
        // its other members (measured, yarn 1.22.22: `/package.json` with
        // `app` and `app/sub` made it install at `/` and read
        // `/app/sub/package.json`, which a hoisted install does not find).
        settings.extend(
            [
                "/etc/yarnrc",
                "/etc/yarn/config",
                "/usr/local/etc/yarnrc",
                "/usr/local/share/.yarnrc",
                "/usr/local/bin/yarn",
                "/usr/local/bin/yarnpkg",
                "/opt/**",
            ]
            .iter()
            .map(|p| p.to_string()),
        );
        for d in dirs_above(dir) {
            for f in [".yarnrc", ".npmrc", "package.json", ".yarnrc.yml"] {
                settings.push(format!("{d}/{f}"));
            }
        }
    }
    // The image's npm and node (and yarn) run only while no directory
    // searched before /usr/local/bin has one of them.
    let Some(before) = path_dirs_before_local_bin(env) else {
        return false;
    };
    let programs: &[&str] = if yarn {
        &["npm", "node", "yarn", "yarnpkg"]
    } else {
        &["npm", "node"]
    };
    // The install's own writes in its `node_modules/.bin` (on `PATH` in
    // many Dockerfiles) come after npm started: for it, only what an
    // earlier unit put there counts.
    let own_bin = format!("{}/node_modules/", dir.trim_end_matches('/'));
    let mut on_path: Vec<String> = Vec::new();
    for d in before {
        for p in programs {
            on_path.push(format!("{d}/{p}"));
        }
    }
    let on_path_for_b: Vec<String> = on_path
        .iter()
        .filter(|p| !p.starts_with(&own_bin))
        .cloned()
        .collect();
    // One certainly not there when the install starts (no earlier unit
    // may put it, the broad copy does not ship it) is not run, in either
    // order (a copy of `node_modules` would bring its `.bin`).
    on_path.retain(|p| {
        let (d, name) = p.rsplit_once('/').unwrap_or(("/", p));
        text(d, name) != Some(None)
    });
    let mut homes: Vec<String> = user_homes.iter().map(|h| h.to_string()).collect();
    if let Some(home) = env.get("HOME") {
        if !home.starts_with('/') {
            return false;
        }
        settings.push(format!("{}/.npmrc", home.trim_end_matches('/')));
        homes.push(home.trim_end_matches('/').to_string());
    }
    if yarn {
        // yarn 1 reads its own settings (`yarn-path`, `--install.*`) from
        // each of these in the home too (`getRcPaths`; measured, yarn
        // 1.22.22: a `yarn-path` in `.yarn/config`, `.config/yarn/config`
        // or `.yarnrc.yml` ran another program), and from
        // `$XDG_CONFIG_HOME/yarn` when that is set.
        if env.keys().any(|k| k == "XDG_CONFIG_HOME") {
            return false;
        }
        // As root, yarn's home is `/usr/local/share` (`user-home-dir`):
        // its `.config/yarn` and `.npmrc` are read too (measured, yarn
        // 1.22.22: a `yarn-path` in `/usr/local/share/.config/yarn` ran).
        homes.push("/usr/local/share".into());
        settings.push("/usr/local/share/.npmrc".into());
        let mut in_home: Vec<String> = Vec::new();
        for h in &homes {
            settings.push(format!("{h}/.yarnrc"));
            for f in [
                ".yarnrc.yml",
                ".yarn/config",
                ".config/yarn",
                ".config/yarn/**",
            ] {
                in_home.push(format!("{h}/{f}"));
            }
        }
        // The install itself writes `~/.yarn/**` (Berry's folder, in the
        // knowledge base for yarn): that write of unit `b` is not taken as
        // one of these files, any other is.
        let install = Effects {
            writes: ex
                .writes
                .iter()
                .filter(|w| !matches!(w, Loc::Path(p) if p.ends_with("/.yarn/**")))
                .cloned()
                .collect(),
            ..Effects::default()
        };
        if eff
            .iter()
            .take(b)
            .enumerate()
            .any(|(i, e)| writes_any(e, archive[i].as_ref(), &in_home, dir, &text))
            || in_home
                .iter()
                .any(|p| writes_setting(&install, p, dir, &text))
        {
            return false;
        }
    }
    if eff
        .iter()
        .take(b + 1)
        .enumerate()
        .any(|(i, e)| writes_any(e, archive[i].as_ref(), &settings, dir, &text))
        || eff
            .iter()
            .take(b)
            .enumerate()
            .any(|(i, e)| writes_any(e, archive[i].as_ref(), &on_path, dir, &text))
        || writes_any(ex, archive[b].as_ref(), &on_path_for_b, dir, &text)
    {
        return false;
    }
    let file = |n: &str| text(dir, n);
    if yarn {
        crate::analysis::manifests::yarn_lock_kept(name, file)
    } else {
        crate::analysis::manifests::npm_lock_kept(
            name,
            file,
            npm_flags_peers_as_arborist(parse, stage.from_item),
        )
    }
}

/// The directories the official node image's `PATH` may search before
/// `/usr/local/bin`, where its npm, node and yarn are: `/usr/local/sbin`,
/// and those an `ENV PATH` adds. The stage's `PATH` holds only the
/// directories it adds, the image's own value dropped
/// ([`search_path_value`]): each of them may come first, unless it
/// follows an explicit `/usr/local/bin`. `None` when one is not known
/// (`/` stands for a part that did not expand) or relative.
pub(super) fn path_dirs_before_local_bin(env: &BTreeMap<String, String>) -> Option<Vec<String>> {
    let mut out = vec!["/usr/local/sbin".to_string()];
    let Some(value) = env.get("PATH") else {
        return Some(out);
    };
    for d in value.split(':') {
        let d = d.trim_end_matches('/');
        if d == "/usr/local/bin" {
            break;
        }
        if d.is_empty() || !d.starts_with('/') || d.contains(['$', '*', '?', '[']) {
            return None;
        }
        out.push(d.to_string());
    }
    Some(out)
}

/// For each unit up to `upto`: whether its `apt-get`/`apt` installs
/// ([`Effects::archive_writes`]) are the Debian archive's, which put no
/// file in `/usr/local` or `/opt` (Debian Policy 9.1.2, "Site-specific
/// programs"; no package of bullseye, bookworm or trixie main ships one
/// there, nor `/etc/npmrc`, `/etc/npm/`, `/etc/yarnrc` or `/etc/yarn/`:
/// their Contents indexes, checked). Only while the stage's sources are
/// the image's (the official node image configures Debian's alone): no
/// earlier write, nor one of the unit's other commands, nor a mount, is
/// under `/etc/apt`.
/// For those, the writes of their other commands (`None`: not one).
pub(super) fn archive_installs(eff: &[Effects], upto: usize) -> Vec<Option<Effects>> {
    let mut clean = true;
    let mut out = Vec::new();
    for e in eff.iter().take(upto + 1) {
        let others = Effects {
            writes: other_writes(e),
            ..Effects::default()
        };
        let mounted = e.mount_unknown
            || e.mount_targets
                .iter()
                .chain(e.binds.iter().map(|(_, img)| img))
                .any(|t| t == "/etc" || t == "/etc/apt" || t.starts_with("/etc/apt/") || t == "/");
        if writes_path(&others, "/etc/apt/**") || mounted || e.foreign_packages {
            clean = false;
        }
        let archive = clean && e.opaque.is_none() && !e.archive_writes.is_empty();
        out.push(archive.then_some(others));
    }
    out
}

/// A unit's writes but those of its archive installs (each of
/// [`Effects::archive_writes`] taken out once).
pub(super) fn other_writes(e: &Effects) -> Vec<Loc> {
    let mut rest = e.writes.clone();
    for w in &e.archive_writes {
        if let Some(k) = rest.iter().position(|x| x == w) {
            rest.remove(k);
        }
    }
    rest
}

/// Whether unit `e` may write one of `paths`; for an archive install
/// (`others`: the writes of its other commands, see [`archive_installs`])
/// its installs' writes count only for paths outside `/usr/local`, `/opt`
/// and the npm and yarn settings files of `/etc`.
pub(super) fn writes_any(
    e: &Effects,
    others: Option<&Effects>,
    paths: &[String],
    dir: &str,
    text: &impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    let Some(others) = others else {
        return paths.iter().any(|p| writes_setting(e, p, dir, text));
    };
    let archive_free = |p: &str| {
        p.starts_with("/usr/local/")
            || p.starts_with("/opt/")
            || p == "/opt"
            || matches!(p, "/etc/npmrc" | "/etc/yarnrc" | "/etc/yarn/config")
    };
    paths
        .iter()
        .any(|p| writes_path(others, p) || (!archive_free(p) && writes_setting(e, p, dir, text)))
}

/// Whether unit `e` may write the settings file `p` of an install in
/// image directory `dir` ([`lock_kept`]). A copy of context files that
/// puts the project into `dir` writes `dir/**`, which covers the settings
/// when the project is at `/` (`COPY . .` with no `WORKDIR`) or in a
/// home: it puts a file there only if it ships it, and `text` (the file
/// as the install reads it) says so. `Some(None)` there means neither
/// the copy nor any unit before it puts `p`; any other writer of `p` is
/// taken as writing it. A pattern (`/opt/**`) is not asked about.
pub(super) fn writes_setting(
    e: &Effects,
    p: &str,
    dir: &str,
    text: &impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    if !writes_path(e, p) {
        return false;
    }
    let tree = dir.trim_end_matches('/');
    let whole = |w: &Loc| matches!(w, Loc::Path(q) if q.strip_suffix("/**").map(|q| q.trim_end_matches('/')) == Some(tree));
    let from_context = !e.is_run && e.opaque.is_none() && !e.context_reads.is_empty();
    if !from_context || !e.writes.iter().any(whole) || p.contains('*') {
        return true;
    }
    let rest = Effects {
        writes: e.writes.iter().filter(|w| !whole(w)).cloned().collect(),
        ..Effects::default()
    };
    let Some((pdir, name)) = p.rsplit_once('/') else {
        return true;
    };
    let pdir = if pdir.is_empty() { "/" } else { pdir };
    writes_path(&rest, p) || text(pdir, name) != Some(None)
}

/// The release line (`"2.3"`, `"2.6"`) of the Bundler of the stage's
/// base image, when it is one whose lock writing was measured
/// (`manifests::bundler_lock_kept`): the official `ruby` image named by a
/// literal tag of Ruby 3.1 (which ships Bundler 2.3) or 3.4 (Bundler
/// 2.6), on Debian (`slim`, a codename). Not Alpine, whose platform
/// (`x86_64-linux-musl`) a lock may not list. Assumption: a tag resolves
/// to the image the registry has for it now, which runs the Bundler its
/// Ruby ships.
pub(super) fn ruby_bundler_line(parse: &Parse, from_item: usize) -> Option<&'static str> {
    let raw = official_literal_from(parse, from_item, "ruby")?;
    let tag = image_tag(raw);
    let mut words = tag.split('-');
    let version = words.next()?;
    let mut parts = version.split('.');
    let line = match (parts.next(), parts.next()) {
        (Some("3"), Some("1")) => "2.3",
        (Some("3"), Some("4")) => "2.6",
        _ => return None,
    };
    let patch_ok = match parts.next() {
        None => true,
        Some(p) => !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()),
    };
    let words_ok = words.all(|w| ["slim", "bookworm", "bullseye", "buster", "trixie"].contains(&w));
    (patch_ok && parts.next().is_none() && words_ok).then_some(line)
}

/// Whether `RUN` unit `b` leaves the `Gemfile.lock` of image directory
/// `dir` as it is ([`lock_kept`]): `bundle install` alone in its `RUN`,
/// with a Bundler whose lock writing was measured
/// ([`ruby_bundler_line`]: a lock's `BUNDLED WITH` of another version
/// makes Bundler install and run that one, so the lock must name the same
/// line or none), its own settings (no `BUNDLE*` but `BUNDLE_WITHOUT`,
/// `BUNDLE_JOBS` and `BUNDLE_RETRY`, no `GEM_*`, `RUBY*` or `XDG_*`
/// variable, a `HOME` only as a plain absolute path; no `USER` but root;
/// no unit before it writes Bundler's or RubyGems' settings, gems or
/// programs, there or in the home: a copy from the context by the files
/// it lists, an install from the Debian archive outside /usr/local and
/// /etc/gemrc), on a lock Bundler keeps
/// ([`crate::analysis::manifests::bundler_lock_kept`]).
pub(super) fn bundler_lock_kept(
    parse: &Parse,
    stage: &Stage,
    eff: &[Effects],
    state: &StageState,
    (b, ctx): (usize, Option<&Context>),
    dir: &str,
    text: &impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    let Some(line) = ruby_bundler_line(parse, stage.from_item) else {
        return false;
    };
    let Some(env) = state.env.get(b) else {
        return false;
    };
    let Some(ex) = eff.get(b) else {
        return false;
    };
    let env = &with_run_exports(env, ex);
    // `BUNDLE_WITHOUT` (measured alike), `BUNDLE_JOBS` and
    // `BUNDLE_RETRY` (the settings of `--jobs` and `--retry`, measured
    // alike) and the image's own `BUNDLE_SILENCE_ROOT_WARNING` leave the
    // lock alone. A `HOME` set to a plain absolute path moves the user's
    // settings there (checked below as `/root`'s are).
    if env.keys().any(|k| {
        let k = k.to_ascii_uppercase();
        !matches!(
            k.as_str(),
            "BUNDLE_WITHOUT" | "BUNDLE_JOBS" | "BUNDLE_RETRY" | "BUNDLE_SILENCE_ROOT_WARNING"
        ) && ["BUNDLE", "GEM_", "GEMRC", "RUBY", "XDG_"]
            .iter()
            .any(|p| k.starts_with(p))
    }) {
        return false;
    }
    // Bundler takes a home that is not a directory for a temporary one
    // it removes (`Bundler.user_home`), where it would otherwise keep its
    // caches: the home must exist at the install in either order, as one
    // a `WORKDIR` of the stage made does (it comes before the install,
    // or moves with it), not one only the broad copy makes.
    let home = match env.get("HOME") {
        None => "/root".to_string(),
        Some(h) if plain_absolute(h) => h.trim_end_matches('/').to_string(),
        Some(_) => return false,
    };
    if home != "/root"
        && !eff.get(b).is_some_and(|e| {
            e.existing_dirs
                .iter()
                .any(|d| d.trim_end_matches('/') == home)
        })
    {
        return false;
    }
    for u in stage.units.iter().take(b + 1) {
        let Some(ins) = parse.items.get(u.item).and_then(|i| i.instruction()) else {
            continue;
        };
        if ins.node.kind == Kind::User
            && !ins
                .node
                .str_args()
                .next()
                .is_some_and(|v| matches!(v.split(':').next(), Some("root" | "0")))
        {
            return false;
        }
    }
    // Alone in its RUN: what the RUN writes is the install's own.
    let Some(run) = stage
        .units
        .get(b)
        .and_then(|u| parse.items.get(u.item))
        .and_then(|i| i.instruction())
        .filter(|i| i.heredocs.is_empty())
        .map(|i| i.original.replace("\\\n", " "))
    else {
        return false;
    };
    if !bundle_install_alone(&run) {
        return false;
    }
    // Bundler's and RubyGems' settings, gems and programs: the image's
    // (`GEM_HOME` and `BUNDLE_APP_CONFIG` are /usr/local/bundle), and in
    // the home (`/root`, or `HOME`) `~/.gemrc`, `~/.bundle` (settings,
    // plugins), the user gems of `~/.gem` and the XDG folders.
    let mut settings = vec![
        "/usr/local/bundle/**".to_string(),
        "/usr/local/lib/ruby/**".to_string(),
        "/usr/local/bin/**".to_string(),
        "/usr/local/etc/gemrc".to_string(),
        "/etc/gemrc".to_string(),
    ];
    for h in ["/root", home.as_str()] {
        for entry in [".gemrc", ".bundle/**", ".gem/**", ".config/**", ".local/**"] {
            settings.push(format!("{h}/{entry}"));
        }
    }
    // The project's settings a copy ships are `text`'s to tell; another
    // unit that writes them is not followed.
    let project = format!("{}/.bundle/**", dir.trim_end_matches('/'));
    let archive = archive_installs(eff, b);
    for (k, e) in eff.iter().enumerate().take(b) {
        let ins = stage
            .units
            .get(k)
            .and_then(|u| parse.items.get(u.item))
            .and_then(|i| i.instruction());
        let copy = ins.is_some_and(|i| matches!(i.node.kind, Kind::Copy | Kind::Add));
        // A copy from the context puts the files it lists, and only
        // those (`ADD . $HOME` with the project in the home: its
        // `.rspec` is none of these).
        let placed = ins.zip(ctx).and_then(|(i, ctx)| {
            context_placements(i, &state.workdirs[k], state.placement_env(k), ctx)
        });
        let hit = match placed {
            Some(p) => p
                .files
                .iter()
                .any(|(img, _)| settings.iter().any(|s| paths_overlap(img, s))),
            None => {
                // A directory made (`mkdir -p $HOME`) is no file; the
                // Debian archive puts none in /usr/local, nor /etc/gemrc
                // ([`archive_installs`]).
                let free = |p: &str| p.starts_with("/usr/local/") || p == "/etc/gemrc";
                settings.iter().any(|p| match &archive[k] {
                    Some(others) => creates_path(others, p) || (!free(p) && creates_path(e, p)),
                    None => creates_path(e, p),
                })
            }
        };
        if hit || (!copy && creates_path(e, &project)) {
            return false;
        }
    }
    crate::analysis::manifests::bundler_lock_kept("Gemfile.lock", |n| text(dir, n), line)
}

/// Whether `p` is an absolute path of plain names (no variable, glob,
/// quote, blank, `.` or `..` component).
pub(super) fn plain_absolute(p: &str) -> bool {
    p.starts_with('/')
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
        && p.split('/').all(|c| c != "." && c != "..")
}

/// Whether a `RUN` (its text, continuations joined) is `bundle install`
/// alone, or after `bundle config [set] [--local|--global] KEY VALUE &&`
/// settings whose keys are `without`, `jobs` or `retry` (the settings of
/// the options [`bundler_lock_kept`] admits; measured alike): what the
/// `RUN` writes is then the install's own and those settings' file.
/// Nothing else of the shell (`;`, `|`, `&` alone, `$(`, `` ` ``, a
/// newline) nor a mount; the settings are plain words.
pub(super) fn bundle_install_alone(run: &str) -> bool {
    let body = run.trim_end();
    let Some(body) = body
        .get(..4)
        .filter(|k| k.eq_ignore_ascii_case("RUN "))
        .map(|_| &body[4..])
    else {
        return false;
    };
    if ["|", ";", "\n", "$(", "`", "--mount"]
        .iter()
        .any(|op| body.contains(op))
    {
        return false;
    }
    let parts: Vec<&str> = body.split("&&").collect();
    let Some((install, settings)) = parts.split_last() else {
        return false;
    };
    if install.contains('&') {
        return false;
    }
    if settings.is_empty() {
        return true;
    }
    if !plain_words(install).is_some_and(|w| {
        matches!(w.first().map(String::as_str), Some("bundle" | "bundler"))
            && w.get(1).map(String::as_str) == Some("install")
    }) {
        return false;
    }
    settings.iter().all(|part| {
        if part.contains(['$', '<', '>', '#', '\\']) {
            return false;
        }
        let Some(words) = plain_words(part) else {
            return false;
        };
        let mut w = words.iter().map(String::as_str).peekable();
        if (w.next(), w.next()) != (Some("bundle"), Some("config")) {
            return false;
        }
        if w.peek() == Some(&"set") {
            w.next();
        }
        if matches!(w.peek(), Some(&"--local" | &"--global")) {
            w.next();
        }
        let key = w.next();
        let values: Vec<&str> = w.collect();
        matches!(key, Some("without" | "jobs" | "retry"))
            && values.len() == 1
            && values[0]
                .split([' ', ':'])
                .all(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    })
}

/// The words of a plain command line: blanks split, a single- or
/// double-quoted part is one word with its quotes removed; `None` for an
/// unclosed quote or an empty line.
pub(super) fn plain_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => {
                if let Some(w) = cur.take() {
                    words.push(w);
                }
            }
            (None, c) => cur.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return None;
    }
    words.extend(cur);
    (!words.is_empty()).then_some(words)
}

/// The directories above an absolute directory, nearest first, the root
/// as `""` (so that `format!("{d}/{file}")` names a file in each).
pub(super) fn dirs_above(dir: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(dir.rsplit_once('/').map(|(p, _)| p), |d| {
        (!d.is_empty()).then(|| d.rsplit_once('/').map_or("", |(p, _)| p))
    })
}
