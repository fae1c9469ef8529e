//! Dependency manifests: which file names are manifests, and what the
//! manifests of a hoisted install say about what it reads beyond them
//! (install scripts, local paths, workspaces, modules). Every finding is a
//! reason a hoist is not `Safe`; a manifest that cannot be read proves
//! nothing either way and is reported by the caller's other checks.

use std::collections::{BTreeMap, BTreeSet};

use super::context::Context;
use super::dotnet;
use super::fxhash::FxMap;
use super::gemspec;
use super::gradle;
use super::kb::{DependencyScripts, ManifestCheck};

/// A JSON manifest from the context; a file that is not JSON is a problem.
fn read_json(ctx: &Context, rel: &str, problems: &mut Vec<String>) -> Option<serde_json::Value> {
    let text = ctx.read(rel)?;
    let v = serde_json::from_str(&text);
    if v.is_err() {
        problems.push(format!("{rel} is not valid JSON"));
    }
    v.ok()
}

/// Context checks of a hoisted install's manifests; each failure is a
/// reason the hoist is not `Safe`.
pub(crate) fn manifest_problems(
    check: &ManifestCheck,
    ctx: &Context,
    dir: &str,
    to_context: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let join = |f: &str| {
        if dir.is_empty() {
            f.to_string()
        } else {
            format!("{dir}/{f}")
        }
    };
    let mut out = Vec::new();
    match check {
        ManifestCheck::NpmScripts(deps) => npm_problems(ctx, dir, &join, *deps, &mut out),
        ManifestCheck::ComposerScripts {
            optimize,
            autoloader,
        } => composer_problems(ctx, &join, *optimize, *autoloader, &mut out),
        ManifestCheck::Requirements(files) => {
            requirements_problems(ctx, to_context, files, &mut out)
        }
        ManifestCheck::UvPip(files) => uv_pip_problems(ctx, to_context, files, &mut out),
        ManifestCheck::PipConfig(file) => {
            if let Some(rel) = to_context(file) {
                match ctx.read(&rel) {
                    Some(t) => out.extend(pip_config_problems(&rel, &t)),
                    None if ctx.ships(&rel) => out.push(format!("{rel} cannot be read")),
                    None => {}
                }
            }
        }
        ManifestCheck::UvSettings(files) => {
            for rel in files.iter().filter_map(|f| to_context(f)) {
                if let Some(t) = ctx.read(&rel) {
                    out.extend(super::uv::settings_problems(&rel, &t));
                }
            }
        }
        ManifestCheck::Pipfile => pipfile_problems(ctx, &join, &mut out),
        ManifestCheck::Poetry => poetry_problems(ctx, &join, &mut out),
        ManifestCheck::UvSources { frozen } => {
            out.extend(super::uv::source_problems(ctx, dir, &|f| Some(join(f))));
            if !frozen {
                out.extend(super::uv::built_metadata(ctx, &|f| Some(join(f))));
            }
        }
        ManifestCheck::GoMod => gomod_problems(ctx, dir, &join, &mut out),
        ManifestCheck::Gemfile => gemfile_problems(ctx, &join, &mut out),
        ManifestCheck::Mix => mix_problems(ctx, &join, &mut out),
        ManifestCheck::PnpmFetch => pnpm_fetch_problems(ctx, dir, &join, &mut out),
        ManifestCheck::Maven => maven_problems(ctx, dir, &mut out),
        ManifestCheck::Gradle => gradle_problems(ctx, dir, &mut out),
        ManifestCheck::Cargo => cargo_problems(ctx, &join, &mut out),
        ManifestCheck::Yarn {
            immutable,
            berry_args,
            corepack,
        } => yarn_problems(
            ctx,
            &join,
            BerryInstall {
                immutable: *immutable,
                berry_args: *berry_args,
                corepack: *corepack == Some(true),
            },
            &mut out,
        ),
        ManifestCheck::UvVirtual => {
            out.extend(super::uv::virtual_problems(ctx, dir, &|f| Some(join(f))))
        }
        ManifestCheck::Dotnet {
            projects,
            properties,
            ..
        } => out.extend(dotnet::restore_inputs(ctx, dir, projects, *properties).problems),
    }
    out
}

/// The install scripts of the packages an npm, yarn or pnpm install
/// installs ([`DependencyScripts`]): each runs with the project's
/// directory in `INIT_CWD`, and it may read and write any file there
/// (msw 2.7.0's postinstall copies its worker into the project's
/// `msw.workerDirectory`; measured with BuildKit, npm 10.8.2 and yarn
/// 1.22.22: hoisted above `COPY . .`, the copy put back the project's
/// older worker; @prisma/client's generates the client from the
/// project's schema). npm's lock (version 2 or later;
/// npm-shrinkwrap.json first, as npm takes it) marks each such package
/// `hasInstallScript`: one so marked keeps the install in place, and so
/// does an npm install with no such lock. yarn's and pnpm's locks do not
/// say (pnpm's version 9 lock dropped `requiresBuild`): their installs
/// stay in place unless `--ignore-scripts` is given, or the project has
/// no dependency at all.
fn dependency_script_problems(
    ctx: &Context,
    join: &dyn Fn(&str) -> String,
    deps: DependencyScripts,
    package: &serde_json::Value,
) -> Vec<String> {
    const RUNS: &str =
        "which may read and write any file of the project (`--ignore-scripts` turns them off)";
    match deps {
        DependencyScripts::Off => return Vec::new(),
        DependencyScripts::Pnpm { ten: true }
            if no_dependencies(ctx, join, package)
                || pnpm_ten_problems(ctx, join, package).is_empty() =>
        {
            return Vec::new();
        }
        DependencyScripts::Other | DependencyScripts::Pnpm { .. } => {
            return (!no_dependencies(ctx, join, package) && !berry_scripts_off(ctx, join))
                .then(|| format!("the install runs the install scripts of the packages it installs, {RUNS}, and its lock does not say which packages have one"))
                .into_iter()
                .collect();
        }
        DependencyScripts::Npm => {}
    }
    let shrinkwrap = join("npm-shrinkwrap.json");
    let lock = if ctx.ships(&shrinkwrap) {
        shrinkwrap
    } else {
        join("package-lock.json")
    };
    let parsed = ctx
        .ships(&lock)
        .then(|| ctx.read(&lock))
        .flatten()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    let Some(packages) = parsed.as_ref().and_then(|v| v["packages"].as_object()) else {
        if no_dependencies(ctx, join, package) {
            return Vec::new();
        }
        return vec![format!(
            "npm runs the install scripts of the packages it installs, {RUNS}, and no lock of version 2 or later says which packages have one"
        )];
    };
    packages
        .iter()
        .find(|(_, p)| {
            !matches!(
                p["hasInstallScript"],
                serde_json::Value::Null | serde_json::Value::Bool(false)
            )
        })
        .map(|(name, _)| {
            format!(
                "{lock} lists `{}` with an install script, which npm runs during the install and which may read and write any file of the project (`--ignore-scripts` turns it off)",
                if name.is_empty() { "the project" } else { name }
            )
        })
        .into_iter()
        .collect()
}

/// Why pnpm 10 or later, which the stage runs as launched
/// ([`DependencyScripts::Pnpm`]), may still run a dependency's install
/// script: package.json's `packageManager` must name pnpm 10 or later
/// (pnpm 10 switches to the release it names, `manage-package-manager-
/// versions` being on by default: measured, pnpm 10.12.1 ran 9.15.9 for
/// `pnpm@9.15.9`, which ran msw's postinstall; corepack's shim runs it
/// too), no `devEngines` may name another, and no setting may let
/// scripts run: `onlyBuiltDependencies` (and its file),
/// `neverBuiltDependencies`, `dangerouslyAllowAllBuilds`, `allowBuilds`
/// in package.json's `pnpm` field, pnpm-workspace.yaml or the project's
/// `.npmrc`.
fn pnpm_ten_problems(
    ctx: &Context,
    join: &dyn Fn(&str) -> String,
    package: &serde_json::Value,
) -> Vec<String> {
    const ALLOW: &[&str] = &[
        "onlyBuiltDependencies",
        "onlyBuiltDependenciesFile",
        "neverBuiltDependencies",
        "dangerouslyAllowAllBuilds",
        "allowBuilds",
    ];
    const ALLOW_RC: &[&str] = &[
        "only-built-dependencies",
        "only-built-dependencies-file",
        "never-built-dependencies",
        "dangerously-allow-all-builds",
        "allow-builds",
    ];
    let mut out = Vec::new();
    let rel = join("package.json");
    let ten = package["packageManager"].as_str().and_then(|pm| {
        let v = pm.strip_prefix("pnpm@")?;
        let major: String = v.chars().take_while(char::is_ascii_digit).collect();
        major.parse::<u64>().ok().filter(|m| *m >= 10)
    });
    if ten.is_none() {
        out.push(format!(
            "{rel} does not name pnpm 10 or later as its `packageManager`"
        ));
    }
    if !package["devEngines"].is_null() {
        out.push(format!(
            "{rel} sets `devEngines`, which may name another pnpm"
        ));
    }
    for k in ALLOW {
        if !package["pnpm"][k].is_null() {
            out.push(format!(
                "{rel} sets `pnpm.{k}`, which lets packages' scripts run"
            ));
        }
    }
    let ws = join("pnpm-workspace.yaml");
    if let Some(text) = ctx.read(&ws) {
        match serde_yaml::from_str::<serde_yaml::Value>(&text) {
            Ok(y) => {
                for k in ALLOW {
                    if y.get(*k).is_some() {
                        out.push(format!("{ws} sets `{k}`, which lets packages' scripts run"));
                    }
                }
            }
            Err(_) => out.push(format!("{ws} is not valid YAML")),
        }
    } else if ctx.ships(&ws) {
        out.push(format!("{ws} cannot be read"));
    }
    let rc = join(".npmrc");
    if let Some(text) = ctx.read(&rc) {
        for key in text.lines().map(npmrc_key) {
            if ALLOW_RC.contains(&key) || ALLOW.contains(&key) {
                out.push(format!(
                    "{rc} sets `{key}`, which lets packages' scripts run"
                ));
            }
        }
    } else if ctx.ships(&rc) {
        out.push(format!("{rc} cannot be read"));
    }
    out
}

/// Whether Yarn Berry runs the install ([`berry_named_by`]; where it
/// does not, [`berry_problems`] keeps the install in place) with
/// `enableScripts: false` in `.yarnrc.yml`: no package's script runs
/// (Berry's settings reference).
fn berry_scripts_off(ctx: &Context, join: &dyn Fn(&str) -> String) -> bool {
    let rc = join(".yarnrc.yml");
    berry_named_by(&|f| context_file(ctx, &join(f))).is_some()
        && context_file(ctx, &rc)
            .flatten()
            .and_then(|t| berry_settings(&t, &rc).ok())
            .is_some_and(|s| s.get("enableScripts").is_some_and(|v| v == "false"))
}

/// Whether the project's package.json (`package`) declares no dependency
/// of any kind (nothing to install, so no package's script to run).
fn no_dependencies(
    ctx: &Context,
    join: &dyn Fn(&str) -> String,
    package: &serde_json::Value,
) -> bool {
    // pnpm's workspace members have their own.
    if ctx.read(&join("pnpm-workspace.yaml")).is_some() {
        return false;
    }
    [
        "dependencies",
        "devDependencies",
        "optionalDependencies",
        "peerDependencies",
        "bundleDependencies",
        "bundledDependencies",
        "workspaces",
    ]
    .iter()
    .all(|k| match &package[*k] {
        serde_json::Value::Null => true,
        serde_json::Value::Object(m) => m.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        _ => false,
    })
}

/// npm, yarn, pnpm: lifecycle scripts (the root's and every workspace
/// member's), workspaces whose members cannot be listed, local
/// dependencies other than links to members.
fn npm_problems(
    ctx: &Context,
    dir: &str,
    join: &dyn Fn(&str) -> String,
    deps: DependencyScripts,
    out: &mut Vec<String>,
) {
    let Some(v) = read_json(ctx, &join("package.json"), out) else {
        return;
    };
    let members = match npm_workspace(ctx, dir, &v) {
        Ok(ws) => {
            let dirs: Vec<String> = ws
                .iter()
                .filter_map(|f| f.strip_suffix("/package.json"))
                .map(str::to_string)
                .collect();
            for rc in ws.iter().filter(|f| f.ends_with("/.npmrc")) {
                out.extend(npmrc_problems(ctx, rc));
            }
            for m in ws.iter().filter(|f| f.ends_with("/package.json")) {
                if let Some(mv) = read_json(ctx, m, out) {
                    out.extend(lifecycle_scripts(&mv, m));
                    out.extend(local_deps(&mv, m, &dirs));
                    out.extend(member_bins(&mv, m));
                }
                if let Some(member) = m.strip_suffix("/package.json") {
                    out.extend(member_node_modules(ctx, member));
                }
                if let Some(member) = m.strip_suffix("package.json") {
                    out.extend(gyp_build(ctx, &format!("{member}binding.gyp")));
                }
            }
            dirs
        }
        Err(problems) => {
            out.extend(problems);
            Vec::new()
        }
    };
    out.extend(lifecycle_scripts(&v, &join("package.json")));
    out.extend(gyp_build(ctx, &join("binding.gyp")));
    // Corepack's shims (yarn, pnpm; npm when enabled; 0.34.6) read
    // `.corepack.env` beside the package.json they take `packageManager`
    // from: its `COREPACK_*` settings (`COREPACK_HOME`, the registry the
    // tool comes from) change where and whether the install runs
    // (measured for yarn: `COREPACK_HOME=/app/.ch` put yarn there only
    // where the file was). Not followed.
    let corepack_env = join(".corepack.env");
    if ctx.ships(&corepack_env) {
        out.push(format!(
            "{corepack_env} sets the environment of corepack's shims, which dockreorder does not follow"
        ));
    }
    out.extend(local_deps(&v, &join("package.json"), &members));
    out.extend(parent_settings(ctx, dir));
    out.extend(local_overrides(&v, &join("package.json")));
    out.extend(pnpm_settings(&v, &join("package.json")));
    out.extend(npmrc_problems(ctx, &join(".npmrc")));
    let workspace_file = join("pnpm-workspace.yaml");
    if let Some(text) = ctx.read(&workspace_file) {
        out.extend(pnpm_workspace_settings(&text, &workspace_file));
    }
    if let Err(problems) = pnpm_patch_files(ctx, dir, &v) {
        out.extend(problems);
    }
    let pnpmfile = join(".pnpmfile.cjs");
    if ctx.ships(&pnpmfile) {
        out.push(format!(
            "{pnpmfile} is code pnpm runs during the install, which may read any file"
        ));
    }
    out.extend(dependency_script_problems(ctx, join, deps, &v));
}

/// `pnpm fetch` reads the lock and pnpm's settings: the project's
/// `.npmrc` and, in pnpm 10, `pnpm-workspace.yaml` (pnpm docs, settings:
/// `storeDir` there moves the store; measured with pnpm 10.12.1,
/// `storeDir: ./store` put the fetched packages in /app/store, and the
/// fetch hoisted with the lock alone put them in ~/.local/share/pnpm);
/// both are copied with the lock, and a setting that may name a file, or
/// a workspace root above the project, keeps the fetch in place.
fn pnpm_fetch_problems(
    ctx: &Context,
    dir: &str,
    join: &dyn Fn(&str) -> String,
    out: &mut Vec<String>,
) {
    out.extend(parent_settings(ctx, dir));
    out.extend(npmrc_problems(ctx, &join(".npmrc")));
    let workspace_file = join("pnpm-workspace.yaml");
    if let Some(text) = ctx.read(&workspace_file) {
        out.extend(pnpm_workspace_settings(&text, &workspace_file));
    } else if ctx.ships(&workspace_file) {
        out.push(format!("{workspace_file} cannot be read"));
    }
}

/// A `binding.gyp` beside a package.json: npm, yarn and pnpm then run
/// `node-gyp rebuild` as the package's install script when it has none
/// (npm's run-script `isNodeGypPackage`; measured with npm 11), which
/// compiles the sources the broad copy brings.
fn gyp_build(ctx: &Context, gyp: &str) -> Option<String> {
    ctx.ships(gyp).then(|| {
        format!(
            "{gyp} makes the install run `node-gyp rebuild`, which compiles the package's sources"
        )
    })
}

/// What the directories above the project (inside the context) give an
/// install run below them: yarn 1 reads every `.yarnrc` up to `/`, and
/// npm, yarn and pnpm run a workspace member's install at the workspace
/// root they find above it (a `package.json` with `workspaces`, a
/// `pnpm-workspace.yaml`, a `lerna.json`). The inserted COPY brings the
/// project's own files only (review 3, F2: built, a parent `.yarnrc`'s
/// `--install.production` was lost).
fn parent_settings(ctx: &Context, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = dir;
    while !at.is_empty() && at != "." {
        at = at.rsplit_once('/').map_or("", |(p, _)| p);
        let file = |f: &str| ctx_join(at, f).unwrap_or_else(|| f.to_string());
        for f in [
            ".yarnrc",
            ".yarnrc.yml",
            "pnpm-workspace.yaml",
            "lerna.json",
        ] {
            if ctx.ships(&file(f)) {
                out.push(format!(
                    "{} applies to the install in {dir} below it",
                    file(f)
                ));
            }
        }
        let manifest = file("package.json");
        let mut sink = Vec::new();
        if ctx.ships(&manifest)
            && read_json(ctx, &manifest, &mut sink).is_none_or(|v| v.get("workspaces").is_some())
        {
            out.push(format!(
                "{manifest} may make the install in {dir} a workspace member's, run at its root"
            ));
        }
    }
    out
}

/// `.npmrc` settings known to name no file (registries, credentials,
/// switches): any other key may make the install read a file the inserted
/// COPY does not bring (`cafile`, `userconfig`, `pnpmfile`, a cache or
/// store directory). npm, yarn 1 and pnpm read it.
const NPMRC_KEYS: &[&str] = &[
    "registry",
    "always-auth",
    "strict-ssl",
    "save-exact",
    "save-prefix",
    "legacy-peer-deps",
    "engine-strict",
    "fund",
    "audit",
    "audit-level",
    "loglevel",
    "progress",
    "package-lock",
    "auto-install-peers",
    "shamefully-hoist",
    "node-linker",
    "strict-peer-dependencies",
    "prefer-offline",
    "prefer-online",
    "fetch-retries",
    "fetch-retry-mintimeout",
    "fetch-retry-maxtimeout",
    "fetch-retry-factor",
    "fetch-timeout",
    "update-notifier",
    "ignore-scripts",
    "omit",
    "include",
    "production",
    "optional",
    "hoist",
    "hoist-pattern",
    "public-hoist-pattern",
    "link-workspace-packages",
    "prefer-workspace-packages",
    "resolution-mode",
    "dedupe-peer-dependents",
    "enable-pre-post-scripts",
    "maxsockets",
    "network-concurrency",
    "child-concurrency",
    "unsafe-perm",
    "color",
    "frozen-lockfile",
    "prefer-frozen-lockfile",
    "side-effects-cache",
    "install-strategy",
    "install-links",
    "save",
    "git-tag-version",
    "sign-git-tag",
    "message",
    "email",
    "user-agent",
    "strict-dep-builds",
    "package-manager-strict",
    "package-manager-strict-version",
    "manage-package-manager-versions",
    "use-node-version",
];

/// Per-registry credentials (`//host/path/:_authToken=…`), and scoped
/// registries (`@scope:registry=…`): no files.
const NPMRC_REGISTRY_KEYS: &[&str] = &[
    "_authToken",
    "_auth",
    "username",
    "_password",
    "always-auth",
    "email",
    "registry",
];

/// Per-registry credentials and scoped registries (`//host/:_authToken`,
/// `@scope:registry`), which name no file.
fn is_registry_key(key: &str) -> bool {
    key.rsplit_once(':').is_some_and(|(scope, last)| {
        (scope.starts_with("//") || scope.starts_with('@')) && NPMRC_REGISTRY_KEYS.contains(&last)
    })
}

/// The keys of the rc file `rel` (one setting a line, `comments` starting
/// a comment) that `known` does not list: each may name a file the
/// install reads. `key_of` takes a line's key.
fn unlisted_settings(
    ctx: &Context,
    rel: &str,
    comments: &[char],
    key_of: fn(&str) -> &str,
    known: fn(&str) -> bool,
) -> Vec<String> {
    let Some(text) = ctx.read(rel) else {
        return Vec::new();
    };
    // A lone `\r` ends a line too for yarn 1's parser and npm's ini one
    // (measured with yarn 1.22.22: a `yarn-path` after one was followed).
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(comments))
        .map(key_of)
        .filter(|k| !known(k))
        .map(|k| format!("{rel} sets `{k}`, which may name a file the install reads"))
        .collect()
}

/// The settings of a shipped `.npmrc` that may name files.
fn npmrc_problems(ctx: &Context, rel: &str) -> Vec<String> {
    unlisted_settings(ctx, rel, &['#', ';'], npmrc_key, |key| {
        NPMRC_KEYS.contains(&key) || is_registry_key(key)
    })
}

/// The setting an `.npmrc` line sets (`key[]=value` lists too).
fn npmrc_key(line: &str) -> &str {
    let key = line.split_once('=').map_or(line, |(k, _)| k).trim();
    key.strip_suffix("[]").unwrap_or(key)
}

/// yarn 1's `.yarnrc` settings known to name no file; `--cmd.flag` lines
/// give default flags, checked by the flag's name. `yarn-path` (another
/// yarn to run), `yarn-offline-mirror`, `cafile` and folders are files.
const YARNRC_KEYS: &[&str] = &[
    "registry",
    "network-timeout",
    "network-concurrency",
    "child-concurrency",
    "strict-ssl",
    "save-prefix",
    "save-exact",
    "ignore-engines",
    "ignore-optional",
    "ignore-scripts",
    "ignore-platform",
    "lastUpdateCheck",
    "disable-self-update-check",
    "always-auth",
    "email",
    "username",
    "version-tag-prefix",
    "version-git-tag",
    "version-commit-hooks",
    "version-git-sign",
    "version-git-message",
    "version-sign-git-tag",
    "production",
    "no-progress",
    "frozen-lockfile",
    "pure-lockfile",
    "prefer-offline",
    "non-interactive",
    "silent",
    "check-files",
    "flat",
    "emoji",
    "unsafe-disable-integrity-migration",
];

/// The settings of a shipped `.yarnrc` (yarn 1) that may name files.
fn yarnrc_problems(ctx: &Context, rel: &str) -> Vec<String> {
    unlisted_settings(
        ctx,
        rel,
        &['#'],
        |line| {
            line.split_whitespace()
                .next()
                .unwrap_or("")
                .trim_matches('"')
        },
        |key| {
            let name = match key.strip_prefix("--") {
                // `--install.frozen-lockfile true`: the flag's own name.
                Some(flag) => flag.rsplit_once('.').map_or(flag, |(_, f)| f),
                None => key,
            };
            YARNRC_KEYS.contains(&name)
                || name.ends_with(":registry")
                || name.starts_with("init-")
                || is_registry_key(name)
        },
    )
}

/// npm's `overrides`, yarn's `resolutions` and pnpm's `overrides` that
/// point at local paths: the install reads them.
fn local_overrides(v: &serde_json::Value, rel: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, found: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) if is_local_spec(s) => found.push(s.clone()),
            serde_json::Value::Object(m) => m.values().for_each(|x| walk(x, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&v["overrides"], &mut found);
    walk(&v["resolutions"], &mut found);
    walk(&v["pnpm"]["overrides"], &mut found);
    found
        .into_iter()
        .map(|s| format!("an override in {rel} is a local path (`{s}`)"))
        .collect()
}

/// A dependency specifier that names a local path.
fn is_local_spec(s: &str) -> bool {
    ["file:", "link:", "portal:", "patch:", ".", "/"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// pnpm settings in `package.json` known to name no file; any other key of
/// its `pnpm` field (`patchedDependencies`, …) may.
const PNPM_SETTINGS: &[&str] = &[
    "overrides",
    "packageExtensions",
    "peerDependencyRules",
    "neverBuiltDependencies",
    "onlyBuiltDependencies",
    "ignoredBuiltDependencies",
    "allowedDeprecatedVersions",
    "supportedArchitectures",
    "auditConfig",
    "updateConfig",
    "ignoredOptionalDependencies",
    "requiredScripts",
];

/// The keys of `package.json`'s `pnpm` field that may name files.
fn pnpm_settings(v: &serde_json::Value, rel: &str) -> Vec<String> {
    v["pnpm"]
        .as_object()
        .map(|m| {
            m.keys()
                .filter(|k| !PNPM_SETTINGS.contains(&k.as_str()) && *k != PNPM_PATCHES)
                .map(|k| format!("{rel} sets `pnpm.{k}`, which may name a file the install reads"))
                .collect()
        })
        .unwrap_or_default()
}

/// `pnpm-workspace.yaml` keys known to name no file (pnpm 10 keeps its
/// settings there too: `patchedDependencies` names patch files).
const PNPM_WORKSPACE_KEYS: &[&str] = &[
    "packages",
    "catalog",
    "catalogs",
    "overrides",
    "packageExtensions",
    "peerDependencyRules",
    "neverBuiltDependencies",
    "onlyBuiltDependencies",
    "ignoredBuiltDependencies",
    "allowedDeprecatedVersions",
    "supportedArchitectures",
    "linkWorkspacePackages",
    "sharedWorkspaceLockfile",
    "nodeLinker",
    "shamefullyHoist",
    "hoistPattern",
    "publicHoistPattern",
    "strictPeerDependencies",
    "autoInstallPeers",
    "dedupePeerDependents",
    "saveExact",
    "savePrefix",
    "preferWorkspacePackages",
    "ignoreScripts",
];

/// The keys of a `pnpm-workspace.yaml` that may name files, and local
/// paths among its overrides.
fn pnpm_workspace_settings(text: &str, rel: &str) -> Vec<String> {
    let Ok(y) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return vec![format!("{rel} is not valid YAML")];
    };
    let mut out = Vec::new();
    if let Some(m) = y.as_mapping() {
        for k in m.keys() {
            let key = k.as_str().unwrap_or("");
            if !PNPM_WORKSPACE_KEYS.contains(&key) && key != PNPM_PATCHES {
                out.push(format!(
                    "{rel} sets `{key}`, which may name a file the install reads"
                ));
            }
        }
    }
    if let Some(o) = y["overrides"].as_mapping() {
        for v in o.values().filter_map(|v| v.as_str()) {
            if is_local_spec(v) {
                out.push(format!("an override in {rel} is a local path (`{v}`)"));
            }
        }
    }
    out
}

/// The key naming pnpm's patch files, in `package.json`'s `pnpm` field
/// (pnpm 9 and earlier) and in `pnpm-workspace.yaml` (pnpm 10).
const PNPM_PATCHES: &str = "patchedDependencies";

/// pnpm's patch files: the values of `patchedDependencies`, paths relative
/// to the project (pnpm joins them to the lockfile's directory), which the
/// install reads to patch the packages it names (and checks against the
/// lock's hashes). `Ok` with the context paths when each is a plain path
/// below the project that the context ships as a file, not through a
/// symbolic link, so that a copy of it gives the install the same bytes;
/// otherwise the reasons.
fn pnpm_patch_files(
    ctx: &Context,
    dir: &str,
    package_json: &serde_json::Value,
) -> Result<Vec<String>, Vec<String>> {
    let join = |f: &str| ctx_join(dir, f).unwrap_or_else(|| f.to_string());
    let mut named: Vec<(String, Option<String>)> = Vec::new();
    let manifest = join("package.json");
    if let Some(p) = package_json["pnpm"].get(PNPM_PATCHES) {
        match p.as_object() {
            Some(m) => named.extend(
                m.values()
                    .map(|v| (manifest.clone(), v.as_str().map(str::to_string))),
            ),
            None => named.push((manifest.clone(), None)),
        }
    }
    let workspace_file = join("pnpm-workspace.yaml");
    if let Some(text) = ctx.read(&workspace_file)
        && let Ok(y) = serde_yaml::from_str::<serde_yaml::Value>(&text)
        && let Some(p) = y.get(PNPM_PATCHES)
    {
        match p.as_mapping() {
            Some(m) => named.extend(
                m.values()
                    .map(|v| (workspace_file.clone(), v.as_str().map(str::to_string))),
            ),
            None => named.push((workspace_file.clone(), None)),
        }
    }
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for (from, path) in named {
        let plain = path.as_deref().filter(|p| {
            !p.is_empty()
                && !p.starts_with('/')
                && !p.contains(['*', '?', '[', '\\', '$'])
                && !p.split('/').any(|c| c == "..")
        });
        let Some(rel) = plain.and_then(|p| ctx_join(dir, p)) else {
            problems.push(format!(
                "{from} sets `{PNPM_PATCHES}` to a path that is not a plain file of the project"
            ));
            continue;
        };
        if !ctx.ships(&rel) || ctx.through_symlink(&rel) {
            problems.push(format!(
                "{from} sets `{PNPM_PATCHES}` to the patch `{rel}`, which the build context does not ship as a file"
            ));
            continue;
        }
        files.push(rel);
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

/// composer: install and autoload scripts; classmap/files autoload, and
/// PSR-0/PSR-4 autoload when the install builds a class map from the
/// sources (`optimize`, or `optimize-autoloader`/`classmap-authoritative`
/// in the project's config), unless it writes no autoloader; path
/// repositories.
fn composer_problems(
    ctx: &Context,
    join: &dyn Fn(&str) -> String,
    optimize: bool,
    autoloader: bool,
    out: &mut Vec<String>,
) {
    let Some(v) = read_json(ctx, &join("composer.json"), out) else {
        return;
    };
    if let Some(scripts) = v["scripts"].as_object() {
        for k in scripts.keys() {
            if k.contains("install")
                || k.contains("autoload")
                || k.contains("update")
                || k.starts_with("pre-")
                || k.starts_with("post-")
            {
                out.push(format!("{} declares a `{k}` script", join("composer.json")));
            }
        }
    }
    let configured = ["optimize-autoloader", "classmap-authoritative"]
        .iter()
        .any(|k| v["config"][*k].as_bool() == Some(true));
    let mut scanned = vec!["classmap", "files"];
    if optimize || configured {
        scanned.extend(["psr-4", "psr-0"]);
    }
    for key in scanned.into_iter().filter(|_| autoloader) {
        if v["autoload"].get(key).is_some() || v["autoload-dev"].get(key).is_some() {
            let how = if key.starts_with("psr") {
                "which an optimized autoloader turns into a class map of the sources"
            } else {
                "which composer reads from the sources"
            };
            out.push(format!(
                "{} autoloads a `{key}`, {how}",
                join("composer.json")
            ));
        }
    }
    // The knowledge base has it write `vendor/` (and its `bin/`): another
    // `vendor-dir` or `bin-dir` is written where the broad copy may ship
    // files it would put back over the install's.
    for key in ["vendor-dir", "bin-dir"] {
        let Some(d) = v["config"].get(key) else {
            continue;
        };
        let vendor = v["config"]["vendor-dir"].as_str().unwrap_or("vendor");
        let d = d.as_str().map(|d| d.replace("{$vendor-dir}", vendor));
        let shipped = d.as_deref().is_some_and(|d| {
            let Some(rel) = ctx_join(&join(""), d) else {
                return true;
            };
            d.starts_with(['/', '\\'])
                || ctx
                    .files()
                    .is_none_or(|f| f.keys().any(|k| k.starts_with(&format!("{rel}/"))))
        });
        if d.is_none() || shipped {
            out.push(format!(
                "{} sets `{key}`, where composer writes and the broad copy ships files",
                join("composer.json")
            ));
        }
    }
    // `repositories` is a list or an object of named entries (Composer
    // accepts both); `false` entries disable one (`packagist.org`).
    let repos: Vec<&serde_json::Value> = match &v["repositories"] {
        serde_json::Value::Array(a) => a.iter().collect(),
        serde_json::Value::Object(o) => o.values().collect(),
        _ => Vec::new(),
    };
    for r in repos.into_iter().filter(|r| r.is_object()) {
        let kind = r["type"].as_str().unwrap_or("");
        if matches!(kind, "path" | "artifact") || composer_urls(r).iter().any(|u| !remote_url(u)) {
            out.push(format!(
                "{} has a repository in the file system (`{}`)",
                join("composer.json"),
                if kind.is_empty() { "?" } else { kind }
            ));
        }
    }
    // An install from the lock fetches each package from where the lock
    // says (a path or artifact repository's directory or zip included).
    let mut sink = Vec::new();
    if let Some(lock) = read_json(ctx, &join("composer.lock"), &mut sink) {
        let local = ["packages", "packages-dev"]
            .iter()
            .filter_map(|k| lock[*k].as_array())
            .flatten()
            .find_map(|p| {
                let name = p["name"].as_str().unwrap_or("?");
                composer_urls(p)
                    .iter()
                    .any(|u| !remote_url(u))
                    .then_some(name)
            });
        if let Some(name) = local {
            out.push(format!(
                "{} installs `{name}` from the file system",
                join("composer.lock")
            ));
        }
    }
}

/// The URLs a Composer repository entry or locked package names: its
/// `url`, its `dist` and `source` URLs, and those of the packages of a
/// `package` repository.
fn composer_urls(v: &serde_json::Value) -> Vec<&str> {
    let mut entries = vec![v];
    match &v["package"] {
        serde_json::Value::Array(a) => entries.extend(a),
        p @ serde_json::Value::Object(_) => entries.push(p),
        _ => {}
    }
    let mut urls = Vec::new();
    for p in entries {
        for u in [&p["url"], &p["dist"]["url"], &p["source"]["url"]] {
            match u.as_str() {
                Some(u) => urls.push(u),
                // Not a string: not known to be remote.
                None if !u.is_null() => urls.push(""),
                None => {}
            }
        }
    }
    urls
}

/// Whether a Composer URL names another machine: a scheme other than
/// `file:` (`https://`, `ssh://`, `git://`, `svn+ssh://`) or git's
/// `user@host:path`. A path, `file://` or anything else is local.
fn remote_url(u: &str) -> bool {
    let lower = u.to_ascii_lowercase();
    if lower.starts_with("file:") {
        return false;
    }
    if let Some((scheme, _)) = lower.split_once("://") {
        return !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
    }
    // scp-like `git@github.com:org/repo.git`: a user, a host, a colon.
    u.split_once(':').is_some_and(|(host, _)| {
        host.contains('@') && !host.contains(['/', '\\']) && host.len() > 2
    })
}

/// pip: what requirement files read besides the packages they name. The
/// files they include (`-r`, `-c`) are followed, relative to the including
/// file as pip resolves them (`req_file.py`), and copied with them
/// ([`requirement_includes`]); a local path (`-e .`, `./pkg`, `pkg @
/// file:…`, `--find-links ./wheels`), an include the context does not ship
/// or that leaves it, a URL or a variable is a problem.
fn requirements_problems(
    ctx: &Context,
    to_context: &dyn Fn(&str) -> Option<String>,
    files: &[String],
    out: &mut Vec<String>,
) {
    out.extend(walk_requirements(ctx, to_context, files).problems);
}

/// The settings of a pip configuration file (`PIP_CONFIG_FILE`) that
/// are not known to name no file: pip takes each key of every section
/// as the option of that name (pip's user guide, "Configuration"), and
/// an option may name a local path the broad copy ships
/// (`find-links = wheels`, `constraint`, `src`, `target`, an index
/// `file:` URL). Only options that take a word, a number or (the index
/// options) an `http`/`https` URL are known; any other key, a value with
/// a `/` but those URLs, or a line not understood is a problem. Copied
/// with the requirement files, such a file is read alike in both orders.
pub(crate) fn pip_config_problems(rel: &str, text: &str) -> Vec<String> {
    const WORDS: &[&str] = &[
        "disable-pip-version-check",
        "no-compile",
        "compile",
        "no-cache-dir",
        "timeout",
        "default-timeout",
        "retries",
        "progress-bar",
        "root-user-action",
        "break-system-packages",
        "quiet",
        "verbose",
        "no-input",
        "prefer-binary",
        "only-binary",
        "no-binary",
        "no-warn-script-location",
        "no-warn-conflicts",
        "upgrade-strategy",
        "pre",
        "require-hashes",
        "no-color",
        "trusted-host",
    ];
    const URLS: &[&str] = &["index-url", "extra-index-url"];
    let mut out = Vec::new();
    let mut key: Option<String> = None;
    let word_ok = |v: &str| {
        v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:,".contains(c))
    };
    let url_ok = |v: &str| {
        (v.starts_with("https://") || v.starts_with("http://"))
            && !v.contains(char::is_whitespace)
            && !v.contains("..")
    };
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        // A continuation line: another value of the key above.
        let (k, values) = if line.starts_with([' ', '\t']) {
            match &key {
                Some(k) => (k.clone(), t.to_string()),
                None => {
                    out.push(format!("{rel}: `{t}` is not understood"));
                    continue;
                }
            }
        } else if t.starts_with('[') && t.ends_with(']') {
            key = None;
            continue;
        } else if let Some((k, v)) = t.split_once(['=', ':']) {
            let k = k.trim().trim_start_matches("--").replace('_', "-");
            let k = k.to_ascii_lowercase();
            key = Some(k.clone());
            (k, v.trim().to_string())
        } else {
            out.push(format!("{rel}: `{t}` is not understood"));
            continue;
        };
        let url = URLS.contains(&k.as_str());
        let ok = (url || WORDS.contains(&k.as_str()))
            && values
                .split_whitespace()
                .all(|v| if url { url_ok(v) } else { word_ok(v) });
        if !ok {
            out.push(format!(
                "{rel} sets `{k}`, which is not known to name no file"
            ));
        }
    }
    out
}

/// uv: a requirement file named `pyproject.toml`, `setup.py` or
/// `setup.cfg`, on the command line or included, is the project's
/// metadata, which uv may build the project to read (uv docs, pip
/// interface: "Declaring dependencies").
fn uv_pip_problems(
    ctx: &Context,
    to_context: &dyn Fn(&str) -> Option<String>,
    files: &[String],
    out: &mut Vec<String>,
) {
    let included = walk_requirements(ctx, to_context, files).included;
    let named = files.iter().filter_map(|f| to_context(f));
    for rel in named.chain(included) {
        let base = rel.rsplit('/').next().unwrap_or(&rel);
        if ["pyproject.toml", "setup.py", "setup.cfg"].contains(&base) {
            out.push(format!(
                "uv reads {rel} as the project's metadata, which it may build the project to know"
            ));
        }
    }
}

/// The requirement files `files` (image paths) include, at any depth, as
/// context paths in the order they are first named.
pub(crate) fn requirement_includes(
    ctx: &Context,
    to_context: &dyn Fn(&str) -> Option<String>,
    files: &[String],
) -> Vec<String> {
    walk_requirements(ctx, to_context, files).included
}

#[derive(Default)]
struct RequirementFiles {
    included: Vec<String>,
    problems: Vec<String>,
}

fn walk_requirements(
    ctx: &Context,
    to_context: &dyn Fn(&str) -> Option<String>,
    files: &[String],
) -> RequirementFiles {
    let mut out = RequirementFiles::default();
    // The files are image paths (variables expanded); those the copy ships
    // are read from the context.
    let mut queue: Vec<String> = files
        .iter()
        .filter_map(|f| to_context(f))
        .filter(|rel| ctx.ships(rel))
        .collect();
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut next = 0;
    while let Some(rel) = queue.get(next).cloned() {
        next += 1;
        let Some(text) = ctx.read(&rel) else {
            out.problems
                .push(format!("{rel} cannot be read to check what it includes"));
            continue;
        };
        if let Some(why) = undecodable_requirements(&text) {
            out.problems.push(format!("{rel} {why}"));
            continue;
        }
        for l in requirement_lines(&text) {
            let l = l.as_str();
            match requirement_line(l) {
                Err(why) => out.problems.push(format!("{rel}: `{l}` {why}")),
                Ok(targets) => {
                    for target in targets {
                        match include_path(ctx, &rel, &target) {
                            Ok(p) => {
                                if seen.insert(p.clone()) {
                                    out.included.push(p.clone());
                                    queue.push(p);
                                }
                            }
                            Err(why) => out
                                .problems
                                .push(format!("{rel} includes another file (`{l}`): {why}")),
                        }
                    }
                }
            }
        }
    }
    out
}

/// A reason pip may decode the file otherwise than as the UTF-8 text read
/// here (pip's `auto_decode`: a byte-order mark picks the codec, else a
/// `coding:` declaration in the first two lines, else the locale's).
fn undecodable_requirements(text: &str) -> Option<&'static str> {
    let head: String = text.lines().take(2).collect::<Vec<_>>().join("\n");
    (!text.is_ascii() && head.contains("coding"))
        .then_some("declares a coding pip may decode it with")
}

/// Python's `str.isspace`, which `\s` and `str.strip` follow.
fn py_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\x1c'..='\x1f')
}

/// Python's `str.splitlines`: `\n`, `\r`, `\r\n`, `\x0b`, `\x0c`,
/// `\x1c`..`\x1e`, `\x85`, U+2028 and U+2029 end a line.
fn py_splitlines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let brk = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if brk {
            out.push(&text[start..i]);
            let mut next = i + c.len_utf8();
            if c == '\r'
                && let Some(&(j, '\n')) = it.peek()
            {
                it.next();
                next = j + 1;
            }
            start = next;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// pip's `COMMENT_RE` (`(^|\s+)#.*$`): the byte where a comment starts.
fn comment_start(l: &str) -> Option<usize> {
    let mut prev_space = true;
    for (i, c) in l.char_indices() {
        if c == '#' && prev_space {
            // Back over the whitespace before it, which the match takes too.
            let head = l[..i].trim_end_matches(py_space);
            return Some(head.len());
        }
        prev_space = py_space(c);
    }
    None
}

/// The logical lines of a requirement file as pip's `req_file.preprocess`
/// makes them: lines split as Python splits them, a line ending in `\`
/// joined with the next unless it is a comment line (which never
/// continues, and ends a continuation), comments dropped, blank lines
/// dropped.
pub(crate) fn requirement_lines(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let is_comment_line = |l: &str| l.trim_start_matches(py_space).starts_with('#');
    let mut joined = Vec::new();
    let mut cur: Option<String> = None;
    for raw in py_splitlines(text) {
        if !raw.ends_with('\\') || is_comment_line(raw) {
            let line = if is_comment_line(raw) {
                format!(" {raw}")
            } else {
                raw.to_string()
            };
            match cur.take() {
                Some(mut c) => {
                    c.push_str(&line);
                    joined.push(c);
                }
                None => joined.push(line),
            }
        } else {
            // Python's `line.strip("\\")`: both ends.
            cur.get_or_insert_with(String::new)
                .push_str(raw.trim_matches('\\'));
        }
    }
    joined.extend(cur);
    joined
        .into_iter()
        .filter_map(|l| {
            let l = match comment_start(&l) {
                Some(k) => &l[..k],
                None => &l[..],
            };
            let l = l.trim_matches(py_space);
            (!l.is_empty()).then(|| l.to_string())
        })
        .collect()
}

/// The long options of pip's requirement-file parser (`req_file.py`:
/// `SUPPORTED_OPTIONS` and `SUPPORTED_OPTIONS_REQ`, from pip 20 to 24) and
/// whether each takes a value. optparse accepts any unambiguous prefix.
const PIP_REQ_LONG: &[(&str, bool)] = &[
    ("--index-url", true),
    ("--extra-index-url", true),
    ("--no-index", false),
    ("--constraint", true),
    ("--requirement", true),
    ("--editable", true),
    ("--find-links", true),
    ("--no-binary", true),
    ("--only-binary", true),
    ("--prefer-binary", false),
    ("--require-hashes", false),
    ("--pre", false),
    ("--trusted-host", true),
    ("--use-feature", true),
    ("--install-option", true),
    ("--global-option", true),
    ("--config-settings", true),
    ("--hash", true),
];

/// The short options of that parser, all of which take a value.
const PIP_REQ_SHORT: &[(char, &str)] = &[
    ('i', "--index-url"),
    ('c', "--constraint"),
    ('r', "--requirement"),
    ('e', "--editable"),
    ('f', "--find-links"),
];

/// A long option as optparse resolves it: exact, or the one option it is
/// a prefix of.
fn pip_req_long(opt: &str) -> Option<(&'static str, bool)> {
    if let Some(&o) = PIP_REQ_LONG.iter().find(|(n, _)| *n == opt) {
        return Some(o);
    }
    let mut hits = PIP_REQ_LONG.iter().filter(|(n, _)| n.starts_with(opt));
    match (hits.next(), hits.next()) {
        (Some(&o), None) if opt.len() > 2 => Some(o),
        _ => None,
    }
}

/// One logical requirement-file line as pip parses it
/// (`break_args_options`, then `shlex` and optparse on the options): the
/// files it includes (`-r`, `-c`, on a line without a requirement), or why
/// it may read something the hoist would not copy first: an editable or
/// local-path requirement (`-e .`, `./pkg`, `libs/pkg`, an archive such as
/// `pkg-1.0.tar.gz` the working directory may hold, a `file:` URL), a
/// local `--find-links` or index, a variable pip expands, or options this
/// reading does not follow.
fn requirement_line(l: &str) -> Result<Vec<String>, &'static str> {
    if l.contains('$') {
        return Err("may name a variable pip expands");
    }
    let tokens: Vec<&str> = l.split(' ').collect();
    let k = tokens
        .iter()
        .position(|t| t.starts_with('-'))
        .unwrap_or(tokens.len());
    let args = tokens[..k].join(" ");
    let opts = tokens[k..].join(" ");
    if !args.is_empty() && requirement_is_local(&args) {
        return Err("installs a local path");
    }
    if opts.contains(['\'', '"', '\\']) {
        return Err("has quoted options");
    }
    let words: Vec<&str> = opts
        .split([' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
        .collect();
    let mut includes = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        i += 1;
        if w == "--" {
            break;
        }
        let (opt, takes, attached): (&str, bool, Option<&str>) =
            if let Some(long) = w.strip_prefix("--") {
                let (name, value) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (long, None),
                };
                let Some((opt, takes)) = pip_req_long(&format!("--{name}")) else {
                    return Err("has an option this reading does not follow");
                };
                (opt, takes, value)
            } else if let Some(short) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
                let c = short.chars().next().unwrap_or(' ');
                let Some(&(_, opt)) = PIP_REQ_SHORT.iter().find(|(s, _)| *s == c) else {
                    return Err("has an option this reading does not follow");
                };
                let rest = &short[c.len_utf8()..];
                (opt, true, (!rest.is_empty()).then_some(rest))
            } else {
                continue;
            };
        if !takes {
            if attached.is_some() {
                return Err("has an option this reading does not follow");
            }
            continue;
        }
        let value = match attached {
            Some(v) => v,
            None => {
                let Some(v) = words.get(i) else {
                    return Err("has an option without its value");
                };
                i += 1;
                v
            }
        };
        let remote = |v: &str| v.starts_with("https://") || v.starts_with("http://");
        match opt {
            "--editable" => return Err("installs a local path"),
            "--find-links" | "--index-url" | "--extra-index-url" if !remote(value) => {
                return Err("installs a local path");
            }
            "--requirement" | "--constraint" if !args.is_empty() => {
                return Err("includes another file on a requirement line");
            }
            "--requirement" | "--constraint" => includes.push(value.to_string()),
            _ => {}
        }
    }
    Ok(includes)
}

/// Whether a requirement (the arguments of a requirement-file line) may
/// name a local path, as pip's `parse_req_from_line` reads it: a `file:`
/// URL, a name that looks like a path (a `/`, a leading `.`), or one that
/// ends like an archive (which pip installs when the working directory
/// holds a file of that name).
fn requirement_is_local(req: &str) -> bool {
    let lower = req.to_ascii_lowercase();
    if lower.contains("file:") {
        return true;
    }
    let name = req.split(';').next().unwrap_or(req).trim_matches(py_space);
    let name = match name.find('[') {
        Some(k) if name.ends_with(']') => &name[..k],
        _ => name,
    };
    // `name @ https://…`: a URL requirement (its `file:` form is above).
    !name.contains("://") && (name.contains('/') || name.starts_with('.') || is_pip_archive(name))
}

/// pip's `is_archive_file`: the extensions it unpacks, in any case.
pub(crate) fn is_pip_archive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        ".zip",
        ".whl",
        ".tar.bz2",
        ".tbz",
        ".tar.xz",
        ".txz",
        ".tlz",
        ".tar.lz",
        ".tar.lzma",
        ".tar.gz",
        ".tgz",
        ".tar",
    ]
    .iter()
    .any(|e| lower.ends_with(e))
}

/// The context path an include names, relative to the including file.
fn include_path(ctx: &Context, including: &str, target: &str) -> Result<String, String> {
    if target.is_empty() || target.contains("://") || target.contains('$') {
        return Err("not a file of the build context".into());
    }
    if target.starts_with('/') {
        return Err("an absolute path, not a file the build context ships".into());
    }
    let dir = including.rsplit_once('/').map_or("", |(d, _)| d);
    // The system resolves `sub/../x` through `sub`, which exists after the
    // hoist's copy only when it holds the including file (measured: `-r
    // sub/../other.txt` failed in the rewritten build).
    let base: Vec<&str> = dir.split('/').filter(|c| !c.is_empty()).collect();
    let mut at: Vec<&str> = base.clone();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if !base.starts_with(&at) {
                    return Err(format!(
                        "it passes through `{}`, which the copy of the manifests may not create",
                        at.join("/")
                    ));
                }
                at.pop();
            }
            c => at.push(c),
        }
    }
    let p = ctx_join(dir, target).ok_or("it leaves the build context")?;
    if ctx.ships(&p) {
        Ok(p)
    } else {
        Err(format!("the build context does not ship `{p}`"))
    }
}

/// pipenv: `path` and `file` dependencies (a local project or archive),
/// and `editable` ones (a VCS checkout in the working directory's `src/`),
/// in Pipfile or in Pipfile.lock (`"path": "./pkg"`), read conservatively:
/// any such key anywhere, `"file"` unless every value is a URL.
fn pipfile_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    // pipenv loads the project's .env into its environment and pip's
    // (`PIP_TARGET`, `PIP_FIND_LINKS`, `PIPENV_PIPFILE`, ...), unless
    // PIPENV_DONT_LOAD_ENV is set; an empty one (or only comments) is
    // copied with the manifests.
    let env = join(".env");
    if ctx.ships(&env) {
        let sets = ctx.read(&env).is_none_or(|t| {
            t.lines()
                .map(str::trim)
                .any(|l| !l.is_empty() && !l.starts_with('#'))
        });
        if sets {
            out.push(format!(
                "pipenv loads {env} into its environment and pip's, which may point them at other files"
            ));
        }
    }
    if let Some(text) = ctx.read(&join("Pipfile")) {
        for key in ["path", "file", "editable"] {
            if super::uv::assignments(&text, key).next().is_some() {
                out.push(format!("{} has a `{key}` dependency", join("Pipfile")));
            }
        }
    }
    if let Some(text) = ctx.read(&join("Pipfile.lock")) {
        for key in ["\"path\"", "\"editable\""] {
            if text.contains(key) {
                out.push(format!("{} locks a {key} dependency", join("Pipfile.lock")));
            }
        }
        let local_file = text.match_indices("\"file\"").any(|(at, k)| {
            let v = text[at + k.len()..].trim_start_matches([' ', '\t', '\n', '\r', ':']);
            !(v.starts_with("\"https://") || v.starts_with("\"http://"))
        });
        if local_file {
            out.push(format!("{} locks a local file", join("Pipfile.lock")));
        }
    }
}

/// poetry: `path` and `file` dependencies (also `develop = true`) in
/// pyproject.toml, and `directory` or `file` sources in poetry.lock,
/// which `install --no-root` installs from the project's files (measured
/// with poetry 1.8.5: a hoisted install failed without `libs/mylib`); a
/// local `url` of a source. Read conservatively: any such key anywhere.
fn poetry_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    let remote = |v: &str| {
        let v = v.trim_start_matches(['"', '\'']);
        v.starts_with("https://") || v.starts_with("http://")
    };
    if let Some(text) = ctx.read(&join("pyproject.toml")) {
        match poetry_local_dependencies(&text) {
            Some(found) => out.extend(
                found
                    .into_iter()
                    .map(|why| format!("{} {why}", join("pyproject.toml"))),
            ),
            None => {
                // Not TOML poetry can read either; read conservatively.
                for key in ["path", "file", "develop"] {
                    if super::uv::assignments(&text, key).next().is_some() {
                        out.push(format!(
                            "{} has a `{key}` dependency",
                            join("pyproject.toml")
                        ));
                    }
                }
                if super::uv::assignments(&text, "url").any(|v| !remote(v)) {
                    out.push(format!(
                        "{} has a source `url` that may be local",
                        join("pyproject.toml")
                    ));
                }
            }
        }
    }
    if let Some(text) = ctx.read(&join("poetry.lock")) {
        for kind in ["directory", "file"] {
            if super::uv::assignments(&text, "type").any(|v| v.starts_with(&format!("\"{kind}\"")))
            {
                out.push(format!("{} locks a {kind} source", join("poetry.lock")));
            }
        }
        if super::uv::assignments(&text, "url").any(|v| !remote(v)) {
            out.push(format!(
                "{} locks a `url` that may be local",
                join("poetry.lock")
            ));
        }
        if super::uv::assignments(&text, "develop").any(|v| !v.starts_with("false")) {
            out.push(format!(
                "{} locks a `develop` dependency",
                join("poetry.lock")
            ));
        }
    }
}

/// What of a poetry project's `pyproject.toml` installs from the project's
/// files: a dependency (in `tool.poetry`'s `dependencies`,
/// `dev-dependencies` or a group's, each a table or a list of them) with
/// `path`, `file`, `develop` or a `url` that is not remote; a PEP 621
/// dependency (`project.dependencies`, `optional-dependencies`) with a
/// direct reference that is not remote; a `tool.poetry.source` whose `url`
/// is not remote; a PEP 621 `license = {file = …}`, which poetry-core
/// reads whenever it loads the project (measured with poetry 2.5.1:
/// `install --no-root` failed with "license file '/app/LICENSE' not
/// found" when only the manifests were copied). Other keys (`readme`,
/// `license-files`) name files poetry reads only to build the project,
/// which `--no-root` skips. `None` when the text is not TOML.
fn poetry_local_dependencies(text: &str) -> Option<Vec<String>> {
    let table: toml::Table = text.parse().ok()?;
    let remote = |v: &str| v.starts_with("https://") || v.starts_with("http://");
    let mut out = Vec::new();
    if let Some(file) = table
        .get("project")
        .and_then(|p| p.get("license"))
        .and_then(|l| l.get("file"))
    {
        let shown = file.as_str().unwrap_or("a file");
        out.push(format!(
            "names a license file (`{shown}`) that poetry reads whenever it loads the project"
        ));
    }
    let poetry = table.get("tool").and_then(|t| t.get("poetry"));
    let mut maps: Vec<&toml::Value> = Vec::new();
    if let Some(p) = poetry {
        maps.extend(p.get("dependencies"));
        maps.extend(p.get("dev-dependencies"));
        if let Some(groups) = p.get("group").and_then(toml::Value::as_table) {
            maps.extend(groups.values().filter_map(|g| g.get("dependencies")));
        }
        for src in p
            .get("source")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            if src
                .get("url")
                .is_some_and(|u| !u.as_str().is_some_and(remote))
            {
                out.push("has a source `url` that may be local".to_string());
            }
        }
    }
    for map in maps {
        let Some(map) = map.as_table() else {
            out.push("has a dependency table that is not read".to_string());
            continue;
        };
        for (name, spec) in map {
            let specs: Vec<&toml::Value> = match spec {
                toml::Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            for spec in specs {
                let Some(t) = spec.as_table() else { continue };
                for key in ["path", "file"] {
                    if t.contains_key(key) {
                        out.push(format!("has a `{key}` dependency (`{name}`)"));
                    }
                }
                if t.get("develop").is_some_and(|d| d.as_bool() != Some(false)) {
                    out.push(format!("has a `develop` dependency (`{name}`)"));
                }
                // A git repository named by a path or a `file://` URL is
                // the project's files (`git = "vendor/mylib"`).
                let remote_git = |g: &str| {
                    remote(g)
                        || ["ssh://", "git://", "git@"]
                            .iter()
                            .any(|p| g.starts_with(p))
                };
                if t.get("git")
                    .is_some_and(|g| !g.as_str().is_some_and(remote_git))
                {
                    out.push(format!(
                        "has a `git` dependency that may be local (`{name}`)"
                    ));
                }
                if t.get("url")
                    .is_some_and(|u| !u.as_str().is_some_and(remote))
                {
                    out.push(format!(
                        "has a `url` dependency that may be local (`{name}`)"
                    ));
                }
            }
        }
    }
    if let Some(project) = table.get("project") {
        let mut reqs: Vec<&toml::Value> = Vec::new();
        reqs.extend(
            project
                .get("dependencies")
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten(),
        );
        if let Some(opt) = project
            .get("optional-dependencies")
            .and_then(toml::Value::as_table)
        {
            reqs.extend(opt.values().filter_map(toml::Value::as_array).flatten());
        }
        for r in reqs {
            let local = match r.as_str() {
                Some(s) => s.split_once('@').is_some_and(|(_, at)| !remote(at.trim())),
                None => true,
            };
            if local {
                let shown = r.as_str().unwrap_or("a dependency that is not a string");
                out.push(format!("has a dependency that may be local (`{shown}`)"));
            }
        }
    }
    Some(out)
}

/// go: local `replace` directives and workspaces. A replacement is local
/// when its target is a directory path as `golang.org/x/mod/modfile`'s
/// `IsDirectoryPath` says (`./`, `../`, `/`, a backslash, a drive letter, `.` or
/// `..`), whatever the spacing around `=>` and quoted or not; the go
/// command finds a `go.work` in the directory it runs in or any parent.
fn gomod_problems(ctx: &Context, dir: &str, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    if let Some(text) = ctx.read(&join("go.mod"))
        && text.lines().any(replaces_with_directory)
    {
        out.push(format!(
            "{} replaces a module with a local directory",
            join("go.mod")
        ));
    }
    let mut here = Some(dir.trim_matches('/'));
    while let Some(d) = here {
        let work = if d.is_empty() {
            "go.work".to_string()
        } else {
            format!("{d}/go.work")
        };
        if ctx.ships(&work) {
            out.push(format!("{work} uses a Go workspace"));
        }
        here = (!d.is_empty()).then(|| d.rsplit_once('/').map_or("", |(p, _)| p));
    }
}

/// Whether `go mod download` leaves a go.sum as it is: it adds the
/// `/go.mod` sum of every module whose go.mod it loads, when missing, and
/// removes nothing. The modules are taken to be those go.mod requires (at
/// the version it requires, or what a `replace` puts in their place): a
/// go.sum that has both sums (`M V h1:` and `M V/go.mod h1:`) of each is
/// kept. Not proven from the files: the go.mod sums of the requirements of
/// a dependency whose own go.mod predates module graph pruning (go 1.17),
/// which `go mod tidy` records too; a go.sum with every direct sum lacks
/// those only when edited by hand.
pub(crate) fn go_sum_kept(gomod: &str, gosum: &str) -> bool {
    let mut requires: Vec<(String, String)> = Vec::new();
    let mut replaces: Vec<(String, Option<String>, String, String)> = Vec::new();
    let mut block: Option<String> = None;
    for raw in gomod.lines() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if line == ")" {
            block = None;
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (verb, rest) = match &block {
            Some(v) => (v.as_str(), &words[..]),
            None => (words[0], &words[1..]),
        };
        if block.is_none() && rest == ["("] {
            block = Some(verb.to_string());
            continue;
        }
        if rest.iter().any(|w| w.contains(['"', '`', '(', ')'])) {
            // Quoted paths: not read here.
            return false;
        }
        match verb {
            "require" => match rest {
                [m, v] => requires.push((m.to_string(), v.to_string())),
                _ => return false,
            },
            "replace" => match rest {
                [m, "=>", n, nv] => {
                    replaces.push((m.to_string(), None, n.to_string(), nv.to_string()))
                }
                [m, v, "=>", n, nv] => replaces.push((
                    m.to_string(),
                    Some(v.to_string()),
                    n.to_string(),
                    nv.to_string(),
                )),
                // A directory: a problem of its own (gomod_problems).
                _ => return false,
            },
            "module" | "go" | "toolchain" | "exclude" | "retract" | "godebug" => {}
            _ => return false,
        }
    }
    if block.is_some() {
        return false;
    }
    // The (module, version) pairs whose two sums are needed, each with
    // whether its `M V h1:` and its `M V/go.mod h1:` line were seen. Only
    // the lines that name one of them are read to their end: a go.sum has
    // hundreds of lines, mostly of modules go.mod does not name (a
    // BTreeSet of every line, sorted on long common module prefixes, was
    // a third of a run's main thread on a Go project).
    let mut needed: FxMap<(&str, &str), (bool, bool)> = requires
        .iter()
        .map(|(m, v)| {
            let pair = replaces
                .iter()
                .find(|(rm, rv, _, _)| rm == m && rv.as_ref().is_none_or(|rv| rv == v))
                .map_or((m.as_str(), v.as_str()), |(_, _, n, nv)| {
                    (n.as_str(), nv.as_str())
                });
            (pair, (false, false))
        })
        .collect();
    // Every line of an ASCII text is ASCII (one check of the whole text,
    // not one of each line).
    let ascii = gosum.is_ascii();
    for l in gosum.lines() {
        let mut w = Fields::new(l, ascii);
        let (Some(m), Some(v)) = (w.next(), w.next()) else {
            continue;
        };
        let sum = needed.contains_key(&(m, v));
        let gomod = v.strip_suffix("/go.mod");
        let gomod = gomod.filter(|g| needed.contains_key(&(m, *g)));
        if !sum && gomod.is_none() {
            continue;
        }
        // `M V h1:…`, three words.
        if !(w.next().is_some_and(|h| h.starts_with("h1:")) && w.next().is_none()) {
            continue;
        }
        if let Some(e) = sum.then(|| needed.get_mut(&(m, v))).flatten() {
            e.0 = true;
        }
        if let Some(e) = gomod.and_then(|g| needed.get_mut(&(m, g))) {
            e.1 = true;
        }
    }
    needed.values().all(|&(sum, gomod)| sum && gomod)
}

/// The words of a line as [`str::split_whitespace`] splits them (Go's
/// `strings.Fields`, which reads go.sum, splits on the same Unicode white
/// space), one at a time; a line of ASCII, the usual one, is split byte by
/// byte (on the same six separators).
enum Fields<'a> {
    Ascii(&'a str),
    Other(std::str::SplitWhitespace<'a>),
}

impl<'a> Fields<'a> {
    /// The words of `l`; `ascii` when `l` is known to be ASCII (else it
    /// is checked).
    fn new(l: &'a str, ascii: bool) -> Self {
        if ascii || l.is_ascii() {
            Fields::Ascii(l)
        } else {
            Fields::Other(l.split_whitespace())
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self {
            Fields::Other(w) => w.next(),
            Fields::Ascii(rest) => {
                // `char::is_whitespace` on ASCII: space, \t \n \x0b \x0c \r.
                let space = |b: &u8| matches!(b, b' ' | b'\t'..=b'\r');
                let b = rest.as_bytes();
                let start = b.iter().position(|c| !space(c))?;
                let end = b[start..]
                    .iter()
                    .position(space)
                    .map_or(b.len(), |k| start + k);
                // ASCII: every byte is a character boundary.
                let word = rest.get(start..end)?;
                *rest = rest.get(end..)?;
                Some(word)
            }
        }
    }
}

/// Whether a go.mod line replaces a module with a directory (over-approximate:
/// every `=>` of the line, comments included, is looked at).
fn replaces_with_directory(line: &str) -> bool {
    line.split("=>").skip(1).any(|target| {
        let t = target.trim_start().trim_start_matches(['"', '`']);
        let b = t.as_bytes();
        t.starts_with(['.', '/', '\\'])
            || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
    })
}

/// bundler: gemspecs not understood (see [`gemspec::gemfile_gemspecs`]),
/// `path:`, `eval_gemfile` and other file reads.
fn gemfile_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    // Bundler 2 takes `gems.rb` (and `gems.locked`) before `Gemfile` in a
    // directory (SharedHelpers#gemfile_names): the install would read
    // files the COPY of the manifests does not bring.
    let gems_rb = join("gems.rb");
    if ctx.ships(&gems_rb) || (ctx.files().is_none() && ctx.read(&gems_rb).is_some()) {
        out.push(format!(
            "{gems_rb} is there, which Bundler reads instead of the Gemfile"
        ));
    }
    if let Some(text) = ctx.read(&join("Gemfile")) {
        // `gemspec` lines: the gemspecs and what they require are followed.
        out.extend(gemspec::gemfile_gemspecs(ctx, &join("Gemfile"), &text).problems);
        // A `ruby` line that reads a file of the Gemfile's directory by
        // its literal name is followed too (the file is copied with the
        // Gemfile, `gemspec::gemfile_gemspecs`): it reads nothing else.
        let text: String = text
            .lines()
            .map(|l| {
                if gemfile_ruby_file_read(l).is_some() {
                    "ruby \"0\""
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        for needle in [
            "path:",
            ":path",
            "eval_gemfile",
            "File.",
            "require_relative",
        ] {
            if text.contains(needle) {
                out.push(format!(
                    "{} uses `{needle}`, which reads other files",
                    join("Gemfile")
                ));
            }
        }
        if let Some(word) = gemfile_unknown_word(&text) {
            out.push(format!(
                "{} runs Ruby (`{word}`) that is not known to read no other file",
                join("Gemfile")
            ));
        }
    }
}

/// The words of the Bundler DSL (and plain Ruby values) a Gemfile may use
/// without reading any file but those followed elsewhere (`gemspec`,
/// `ruby file:`). `path` (a directory of gems) and `git` (a block, checked
/// for a remote URL) are not among them.
const GEMFILE_WORDS: &[&str] = &[
    "source",
    "gem",
    "group",
    "platforms",
    "platform",
    "ruby",
    "gemspec",
    "git_source",
    "github",
    "env",
    "end",
    "do",
    "if",
    "unless",
    "else",
    "elsif",
    "then",
    "true",
    "false",
    "nil",
    "and",
    "or",
    "not",
    "ENV",
    "fetch",
];

/// The first word of a Gemfile that is not known to read no file, or the
/// first construct not understood: the Gemfile is Ruby, and any code may
/// read files (`IO.read`, `load`, `instance_eval`, `Dir[...]`, a `path`
/// block, a `git:` source in the context). Understood: string literals
/// (interpolating block parameters or known words only), symbols, numbers,
/// `%i[...]`/`%w[...]` word lists, hash keys, punctuation, comments, the
/// words of [`GEMFILE_WORDS`] and block parameters (`|repo|`). A `git:`
/// option or `git` block must name a remote URL.
fn gemfile_unknown_word(text: &str) -> Option<String> {
    let mut params: Vec<String> = Vec::new();
    let mut lines: Vec<(String, Vec<(usize, String)>)> = Vec::new();
    for line in text.lines() {
        let Some((code, literals)) = ruby_code(line) else {
            return Some(line.trim().to_string());
        };
        // Block parameters: `|a, b|`.
        let mut rest = code.as_str();
        while let Some(k) = rest.find('|') {
            let Some(e) = rest[k + 1..].find('|') else {
                break;
            };
            params.extend(
                rest[k + 1..k + 1 + e]
                    .split(',')
                    .map(|p| p.trim().trim_start_matches(['*', '&']).to_string()),
            );
            rest = &rest[k + 2 + e..];
        }
        lines.push((code, literals));
    }
    for (code, literals) in &lines {
        // A string key (`"path" => "gems"`): Bundler takes string keys as
        // it takes symbols (`Dsl#normalize_hash`).
        if let Some((_, key)) = literals
            .iter()
            .find(|(o, _)| code[o + 2..].trim_start().starts_with("=>"))
        {
            return Some(format!("\"{key}\" =>"));
        }
        let b = code.as_bytes();
        let mut i = 0;
        // Where the value of a `git:`, `source:` or `git_source` starts.
        let mut urls: Vec<(&str, usize)> = Vec::new();
        while i < b.len() {
            let c = b[i];
            if !(c.is_ascii_alphabetic() || c == b'_') {
                if c.is_ascii_digit() {
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                        i += 1;
                    }
                } else {
                    i += 1;
                }
                continue;
            }
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'?' || b[i] == b'!') {
                i += 1;
            }
            let word = &code[start..i];
            let before = code[..start].trim_end();
            let symbol = code[..start].ends_with(':') && !before.ends_with("::");
            let after = &code[i..];
            let key = after.starts_with(':') && !after.starts_with("::");
            let method = before.ends_with('.') || before.ends_with("::") || after.starts_with("::");
            if (matches!(word, "git" | "source") && (key || symbol || start == 0))
                || (word == "git_source" && !method)
            {
                // `git: "url"`, `:git => "url"`, `git "url" do`, `source
                // "url"`, `source: "url"` and a `git_source` block's URL
                // (what `gem "x", NAME: "y"` clones): a local one is read.
                urls.push((
                    if word == "git_source" {
                        "git_source"
                    } else {
                        word
                    },
                    i,
                ));
                continue;
            }
            if word == "path" && (key || symbol) {
                return Some("path".into());
            }
            // `gemspec` and `ruby` are followed (their files copied) only
            // as the first word of a line (`gemspec::gemfile_gemspecs`):
            // `group(:dev) { gemspec }` loads a gemspec not copied.
            if matches!(word, "gemspec" | "ruby") && !before.trim().is_empty() {
                return Some(word.to_string());
            }
            let known = (method && word == "fetch")
                || (!method
                    && (symbol
                        || key
                        || GEMFILE_WORDS.contains(&word)
                        || (params.iter().any(|p| p == word) && !called(after))));
            if !known {
                return Some(word.to_string());
            }
        }
        for (word, at) in urls {
            // The value: the first literal after the word.
            let value = literals.iter().find(|(o, _)| *o >= at).map(|(_, l)| l);
            if !value.is_some_and(|u| remote_url(u)) {
                return Some(word.into());
            }
        }
    }
    None
}

/// Whether a name followed by `after` is a method call with arguments:
/// Ruby calls the method `load` in `load "x"` even where a block
/// parameter `load` is in scope. A name is taken as a value only before
/// the end of the line or one of `) , } ] | . ; =`.
fn called(after: &str) -> bool {
    !after
        .trim_start()
        .chars()
        .next()
        .is_none_or(|c| "),}]|.;=".contains(c))
}

/// A Ruby line with its string literals and `%i[...]`/`%w[...]` lists
/// blanked (`""`, `[]`) and its comment dropped; the interpolations of
/// double-quoted strings are kept as code. Also the literals' texts, each
/// with the offset of its blank in the code.
/// `None` when the line is not understood (a string that does not end on
/// the line, a heredoc, a backtick, another `%` literal).
fn ruby_code(line: &str) -> Option<(String, Vec<(usize, String)>)> {
    let mut code = String::new();
    let mut literals = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => break,
            '`' => return None,
            '<' if chars.peek() == Some(&'<') => {
                chars.next();
                if chars
                    .peek()
                    .is_some_and(|n| matches!(n, '~' | '-' | '"' | '\'') || n.is_ascii_uppercase())
                {
                    return None;
                }
                code.push_str("<<");
            }
            '%' => {
                let kind = chars.next()?;
                if !matches!(kind, 'i' | 'w' | 'I' | 'W') {
                    return None;
                }
                let close = match chars.next()? {
                    '[' => ']',
                    '(' => ')',
                    '{' => '}',
                    _ => return None,
                };
                let mut body = String::new();
                loop {
                    let n = chars.next()?;
                    if n == close {
                        break;
                    }
                    if n == '#' || n == '\\' {
                        return None;
                    }
                    body.push(n);
                }
                let at = code.len();
                literals.extend(body.split_whitespace().map(|w| (at, w.to_string())));
                code.push_str("[]");
            }
            '"' | '\'' => {
                let mut lit = String::new();
                loop {
                    let n = chars.next()?;
                    if n == c {
                        break;
                    }
                    if n == '\\' {
                        lit.push(chars.next()?);
                    } else if c == '"' && n == '#' && chars.peek() == Some(&'{') {
                        chars.next();
                        code.push(' ');
                        loop {
                            let m = chars.next()?;
                            if m == '}' {
                                break;
                            }
                            if matches!(m, '"' | '\'' | '{' | '`' | '%') {
                                return None;
                            }
                            code.push(m);
                        }
                        // Ends a value: what it holds is not called.
                        code.push_str("; ");
                    } else {
                        lit.push(n);
                    }
                }
                literals.push((code.len(), lit));
                code.push_str("\"\"");
            }
            c => code.push(c),
        }
    }
    Some((code, literals))
}

/// mix: `mix.exs` is Elixir code that every mix task in the project runs;
/// one that reads files (`File.read!("VERSION")`), loads code or config,
/// runs commands, or names path, umbrella or git dependencies reads more
/// than the manifests.
fn mix_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    let rel = join("mix.exs");
    let Some(text) = ctx.read(&rel) else {
        return;
    };
    for needle in [
        "File.",
        "Code.",
        "Path.",
        "System.",
        "import_config",
        "config_path",
        "path:",
        "in_umbrella",
        "apps_path",
        "git:",
        "github:",
        "__DIR__",
    ] {
        if text.contains(needle) {
            out.push(format!("{rel} uses `{needle}`, which reads other files"));
        }
    }
}

/// maven: a reactor's module POMs are read too (see [`maven_reactor`]);
/// what cannot be followed is a problem.
fn maven_problems(ctx: &Context, dir: &str, out: &mut Vec<String>) {
    out.extend(maven_reactor(ctx, dir).1);
}

/// gradle: what the settings include and the scripts do (see
/// [`gradle::gradle_build`]).
fn gradle_problems(ctx: &Context, dir: &str, out: &mut Vec<String>) {
    out.extend(gradle::gradle_build(ctx, dir).problems);
}

/// cargo: a manifest loads only with its targets and workspace members.
fn cargo_problems(_ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    // `cargo fetch` parses the whole manifest, and a package
    // without a target (src/main.rs, src/lib.rs, [[bin]]) does not
    // parse; a workspace needs every member's manifest too.
    out.push(format!(
        "cargo loads {} only with its targets (src/main.rs, src/lib.rs) and workspace members, which the manifests alone do not provide",
        join("Cargo.toml")
    ));
}

/// yarn: a `.yarnrc` that names files; then, for a project of Yarn 2 and
/// later (Berry, [`berry_named_by`]), what [`berry_problems`] finds.
fn yarn_problems(
    ctx: &Context,
    join: &dyn Fn(&str) -> String,
    berry: BerryInstall,
    out: &mut Vec<String>,
) {
    out.extend(yarnrc_problems(ctx, &join(".yarnrc")));
    let file = |f: &str| context_file(ctx, &join(f));
    if let Some(by) = berry_named_by(&file) {
        berry_problems(ctx, join, &by, berry, out);
    }
}

/// A context file as an install reads it: `Some(None)` when it is not
/// shipped, `None` when it is but cannot be read.
pub(crate) fn context_file(ctx: &Context, rel: &str) -> Option<Option<String>> {
    if ctx.ships(rel) {
        ctx.read(rel).map(Some)
    } else {
        Some(None)
    }
}

/// What a yarn install command is, for [`berry_problems`] (see
/// [`ManifestCheck::Yarn`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BerryInstall {
    pub immutable: bool,
    pub berry_args: bool,
    pub corepack: bool,
}

/// What names a project's yarn as Yarn 2 or later (Berry), if anything: a
/// `.yarnrc.yml` (one that is there or may be), a `packageManager` of
/// `yarn@2` and later (corepack runs that yarn; yarn 1 refuses to
/// install, measured with 1.22.22), or a lock in Berry's format
/// (`__metadata:`). `file` gives a file of the project directory as in
/// [`yarn_lock_kept`].
pub(crate) fn berry_named_by(file: &dyn Fn(&str) -> Option<Option<String>>) -> Option<String> {
    if file(".yarnrc.yml") != Some(None) {
        return Some("`.yarnrc.yml`".to_string());
    }
    if let Some(Some(pkg)) = file("package.json")
        && berry_package_manager(&pkg)
    {
        return Some("the `packageManager` of package.json".to_string());
    }
    if let Some(Some(lock)) = file("yarn.lock")
        && lock.lines().any(|l| l.trim_end() == "__metadata:")
    {
        return Some("the format of yarn.lock".to_string());
    }
    None
}

/// Whether package.json's `packageManager` is yarn 2 or later.
fn berry_package_manager(pkg: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(pkg)
        .ok()
        .and_then(|v| {
            v.get("packageManager")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        })
        .and_then(|pm| {
            let version = pm.strip_prefix("yarn@")?;
            let major: u64 = version.split('.').next()?.parse().ok()?;
            Some(major >= 2)
        })
        .unwrap_or(false)
}

/// The settings of `.yarnrc.yml` Berry's install may meet here: flat
/// `key: value` lines whose keys change nothing the install reads or
/// writes in the project beyond what the model holds (`yarnPath` is
/// checked by its caller). Anything else (nested maps, lists, `plugins`,
/// folders, `packageExtensions`, `injectEnvironmentFiles`, ...) is not
/// followed.
const BERRY_SETTINGS: [&str; 28] = [
    "yarnPath",
    "nodeLinker",
    "enableTelemetry",
    "enableGlobalCache",
    "enableImmutableInstalls",
    "enableImmutableCache",
    "enableScripts",
    "enableColors",
    "enableProgressBars",
    "enableHyperlinks",
    "enableMessageNames",
    "enableInlineBuilds",
    "enableMirror",
    "enableStrictSsl",
    "enableNetwork",
    "compressionLevel",
    "checksumBehavior",
    "httpTimeout",
    "httpRetry",
    "networkConcurrency",
    "npmRegistryServer",
    "npmAlwaysAuth",
    "npmAuthToken",
    "nmMode",
    "nmHoistingLimits",
    "pnpMode",
    "defaultSemverRangePrefix",
    "preferInteractive",
];

/// `.yarnrc.yml` read as flat `key: value` lines (comments and blank
/// lines skipped, one level of quotes taken off a value), only keys of
/// [`BERRY_SETTINGS`]; a problem for anything else. A lone `\r` ends a
/// line as `\n` does: YAML takes both as line breaks (Berry's parser and
/// yarn 1's, which finds `yarnPath` with it; measured with Berry 4.5.3).
fn berry_settings(text: &str, rel: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for line in text.split(['\n', '\r']) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let not_followed = || format!("{rel}: `{t}` is not a setting dockreorder follows");
        if line.starts_with([' ', '\t']) || line == "---" {
            return Err(not_followed());
        }
        let Some((key, value)) = t.split_once(':') else {
            return Err(not_followed());
        };
        let key = key.trim().trim_matches(['"', '\'']);
        let mut value = value.trim();
        if let Some(k) = value.find(" #") {
            value = value[..k].trim_end();
        }
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        // Escapes (`"\x2e"`, `''`) give YAML another string than the text.
        if !BERRY_SETTINGS.contains(&key)
            || value.is_empty()
            || value.contains(['\\', '"', '\''])
            || value.starts_with(['{', '[', '&', '*', '!', '|', '>'])
            || out.insert(key.to_string(), value.to_string()).is_some()
        {
            return Err(not_followed());
        }
    }
    Ok(out)
}

/// Yarn Berry's install, which this model follows only when: Berry
/// certainly runs (the `.yarnrc.yml`'s `yarnPath` names a release under
/// `.yarn/releases/` that the context ships, which yarn 1 runs too,
/// measured with 1.22.22; or corepack is enabled before it, in its `RUN`
/// or the stage, and `packageManager` names yarn 2 or later); it is immutable
/// (`--immutable`, `--frozen-lockfile`, or `enableImmutableInstalls:
/// true`), so it never writes yarn.lock (it fails instead, in either
/// order, on the same files); its options are Berry's own that leave the
/// project alone; `.yarnrc.yml` holds only [`BERRY_SETTINGS`]; package.json
/// has no `workspaces`; and every package of the lock resolves from the
/// registry (`npm:`), but the project itself (`workspace:.`) and Berry's
/// built-in compatibility patches (`typescript`, `resolve`, `fsevents`). What
/// Berry writes in the project (`.pnp.*`, `.yarn/install-state.gz`,
/// `.yarn/cache`, ...) is in the knowledge base: a broad copy that ships
/// any of it keeps the install in place.
fn berry_problems(
    ctx: &Context,
    join: &dyn Fn(&str) -> String,
    by: &str,
    berry: BerryInstall,
    out: &mut Vec<String>,
) {
    let intro = format!("{by} selects Yarn Berry");
    let rc_name = join(".yarnrc.yml");
    let settings = match context_file(ctx, &rc_name) {
        Some(None) => BTreeMap::new(),
        None => {
            out.push(format!("{intro}, and {rc_name} cannot be read"));
            return;
        }
        Some(Some(text)) => match berry_settings(&text, &rc_name) {
            Ok(s) => s,
            Err(why) => {
                out.push(format!("{intro}; {why}"));
                return;
            }
        },
    };
    let pkg_name = join("package.json");
    let pkg = ctx.read(&pkg_name).unwrap_or_default();
    match settings.get("yarnPath") {
        Some(p) => {
            let cleaned = super::context::clean(p);
            let release = join(&cleaned);
            if p.contains('$')
                || p.starts_with('/')
                || !cleaned.starts_with(".yarn/releases/")
                || !ctx.ships(&release)
            {
                out.push(format!(
                    "{intro}, and its `yarnPath` ({p}) is not a release under `.yarn/releases/` in the build context"
                ));
            } else if !berry_release_name(&cleaned) {
                out.push(format!(
                    "{intro}, but its `yarnPath` ({p}) is not named as a release of Yarn 2 or later (`yarn-2.…` and later, `yarn-berry`): a yarn 1 release there runs as yarn 1, which may rewrite yarn.lock"
                ));
            }
        }
        None if berry.corepack && berry_package_manager(&pkg) => {}
        None => out.push(format!(
            "{intro}, but no `yarnPath` release names it and corepack is not enabled before the install (in its `RUN` or the stage, with nothing since that may replace yarn): which yarn runs is not known"
        )),
    }
    if !berry.immutable
        && settings.get("enableImmutableInstalls").map(String::as_str) != Some("true")
    {
        out.push(format!(
            "{intro}, whose install without `--immutable` may rewrite yarn.lock"
        ));
    }
    if !berry.berry_args {
        out.push(format!(
            "{intro}, and the install has options other than `--immutable`, `--immutable-cache`, `--check-cache`, `--inline-builds` and `--json`"
        ));
    }
    if serde_json::from_str::<serde_json::Value>(&pkg)
        .ok()
        .is_none_or(|v| v.get("workspaces").is_some())
    {
        out.push(format!(
            "{intro}, and {pkg_name} has workspaces or cannot be read"
        ));
    }
    let lock_name = join("yarn.lock");
    match ctx.read(&lock_name) {
        None => out.push(format!("{intro}, and {lock_name} cannot be read")),
        Some(lock) => {
            if !lock.lines().any(|l| l.trim_end() == "__metadata:") {
                out.push(format!("{intro}, and {lock_name} is not a Berry lock"));
            }
            if let Some(r) = lock
                .lines()
                .filter_map(|l| l.trim().strip_prefix("resolution:"))
                .map(|r| r.trim().trim_matches('"'))
                .find(|r| !berry_registry_resolution(r))
            {
                out.push(format!(
                    "{intro}, and {lock_name} resolves `{r}` from elsewhere than the registry"
                ));
            }
        }
    }
}

/// Whether a `yarnPath` release is named as Berry's: `yarn-N.….cjs` (or
/// `.js`) with a major version N of 2 or more, as `yarn set version`
/// names it, or Berry 2's `yarn-berry.cjs`. The image's yarn 1 runs
/// whatever `yarnPath` names, and a yarn 1 release there installs as yarn
/// 1: it takes `--immutable` without a word and rewrites a Berry lock
/// (measured with yarn 1.22.22's own bundle as `yarn-1.22.22.cjs`).
fn berry_release_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some(version) = name
        .strip_suffix(".cjs")
        .or_else(|| name.strip_suffix(".js"))
        .and_then(|stem| stem.strip_prefix("yarn-"))
    else {
        return false;
    };
    if version == "berry" {
        return true;
    }
    let Some((major, _)) = version.split_once('.') else {
        return false;
    };
    !major.starts_with('0')
        && major.bytes().all(|b| b.is_ascii_digit())
        && major.parse::<u64>().is_ok_and(|m| m >= 2)
}

/// The files Yarn Berry reads in the project besides package.json and
/// yarn.lock, where the context ships them: `.yarnrc.yml`, the release its
/// `yarnPath` names, and `.env.yarn` (Berry 4 reads it into its
/// environment when it is there). Nothing for a yarn 1 project.
fn berry_files(ctx: &Context, dir: &str) -> Vec<String> {
    let join = |f: &str| ctx_join(dir, f).unwrap_or_else(|| f.to_string());
    let file = |f: &str| context_file(ctx, &join(f));
    if berry_named_by(&file).is_none() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let rc = join(".yarnrc.yml");
    if let Some(Some(text)) = file(".yarnrc.yml") {
        out.push(rc.clone());
        if let Some(p) = berry_settings(&text, &rc)
            .ok()
            .and_then(|s| s.get("yarnPath").cloned())
        {
            let release = join(&super::context::clean(&p));
            if ctx.ships(&release) {
                out.push(release);
            }
        }
    }
    let env = join(".env.yarn");
    if ctx.ships(&env) {
        out.push(env);
    }
    out
}

/// Whether a Berry lock's `resolution` is a registry package (`npm:`),
/// the project itself (`workspace:.`) or one of Berry's built-in
/// compatibility patches of a registry package.
fn berry_registry_resolution(r: &str) -> bool {
    let at = if let Some(scoped) = r.strip_prefix('@') {
        scoped.find('@').map(|k| k + 1)
    } else {
        r.find('@')
    };
    let Some(reference) = at.and_then(|k| r.get(k + 1..)) else {
        return false;
    };
    if let Some(v) = reference.strip_prefix("npm:") {
        return !v.is_empty() && !v.contains(['#', ':', '/']);
    }
    if reference == "workspace:." {
        return true;
    }
    reference.strip_prefix("patch:").is_some_and(|p| {
        p.contains("@npm%3A")
            && [
                "#optional!builtin<compat/",
                "#~builtin<compat/",
                "#builtin<compat/",
            ]
            .iter()
            .any(|b| p.contains(b))
    })
}

/// The lifecycle scripts of a `package.json` that run during an install:
/// npm 7 and later also run `dependencies` once the install changed
/// `node_modules` (npm docs, scripts; measured, npm 10.8.2: `npm ci` ran
/// it), with its `predependencies` and `postdependencies` hooks (npm's
/// arborist runs the three; measured, npm 10.8.2: `npm ci` and `npm
/// install` ran both hooks), pnpm `pnpm:devPreinstall` before it installs
/// (pnpm docs, scripts).
fn lifecycle_scripts(v: &serde_json::Value, rel: &str) -> Vec<String> {
    [
        "preinstall",
        "install",
        "postinstall",
        "prepare",
        "preprepare",
        "postprepare",
        "prepublish",
        "predependencies",
        "dependencies",
        "postdependencies",
        "pnpm:devPreinstall",
    ]
    .iter()
    .filter(|s| v["scripts"].get(**s).is_some())
    .map(|s| {
        format!(
            "{rel} declares a `{s}` script, which runs during the install and may read any file"
        )
    })
    .collect()
}

/// A workspace member's own `node_modules`, which the install writes (npm
/// and yarn nest there a version the root cannot take, pnpm links the
/// member's dependencies there): a broad copy that ships anything below
/// it (a `.dockerignore` naming only the root's `node_modules`) would put
/// the developer's files back over the install's (measured: npm 10.8.2
/// `npm ci` replaced a shipped nested package, the copy after a hoisted
/// one restored it; pnpm's hoisted install left a link the copy could
/// not write a directory through).
fn member_node_modules(ctx: &Context, member: &str) -> Option<String> {
    let nm = format!("{member}/node_modules");
    let prefix = format!("{nm}/");
    let shipped = ctx.files().is_some_and(|f| {
        f.range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }) || ctx
        .whole()
        .iter()
        .any(|w| *w == nm || w.starts_with(&prefix));
    shipped.then(|| {
        format!("the context ships {nm}/, where the install writes the member's own packages")
    })
}

/// A workspace member's programs: the install links a member's `bin`
/// (or every file of its `directories.bin`) into `node_modules/.bin` and
/// makes the file executable (npm's bin-links; measured: npm 10.8.2 `npm
/// ci`, pnpm 9.15.9 and yarn 1.22.22 with `--ignore-scripts` made a
/// shipped 0644 bin file 0755, and npm links it only when the file is
/// there). The root package's own `bin` is not linked (npm 10.8.2 left it
/// as it was).
fn member_bins(v: &serde_json::Value, rel: &str) -> Option<String> {
    let bin = match &v["bin"] {
        serde_json::Value::String(s) => !s.is_empty(),
        serde_json::Value::Object(m) => !m.is_empty(),
        serde_json::Value::Null => false,
        _ => true,
    };
    (bin || !v["directories"]["bin"].is_null()).then(|| {
        format!(
            "{rel} declares programs (`bin`), which the install links and makes executable in the member's directory"
        )
    })
}

/// Dependencies on local paths. A `link:` or `workspace:` dependency on a
/// workspace member (context directory in `members`, whose manifest is
/// copied) is not one: the install links it, it does not read its files.
fn local_deps(v: &serde_json::Value, rel: &str, members: &[String]) -> Vec<String> {
    let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
    let mut out = Vec::new();
    for deps in ["dependencies", "devDependencies", "optionalDependencies"] {
        if let Some(map) = v[deps].as_object() {
            for (name, spec) in map {
                let s = spec.as_str().unwrap_or("");
                let member_link = s
                    .strip_prefix("link:")
                    .and_then(|p| ctx_join(dir, p))
                    .is_some_and(|p| members.contains(&p));
                let workspace = s.starts_with("workspace:") && !members.is_empty();
                if member_link || workspace {
                    continue;
                }
                if s.starts_with("file:")
                    || s.starts_with("link:")
                    || s.starts_with("workspace:")
                    || s.starts_with('.')
                    || s.starts_with('/')
                {
                    out.push(format!(
                        "dependency `{name}` in {rel} is a local path (`{s}`)"
                    ));
                }
            }
        }
    }
    out
}

/// The workspace of the `package.json` in `dir` (its content `v`): the
/// workspace file and every member's `package.json` and `.npmrc` (context
/// paths); empty when it is no workspace root. `Err` with the reasons when
/// the members cannot be listed (a pattern other than `dir`, `dir/*` or
/// `dir/**`, a Lerna file, a member in a submodule).
fn npm_workspace(
    ctx: &Context,
    dir: &str,
    v: &serde_json::Value,
) -> Result<Vec<String>, Vec<String>> {
    let join = |f: &str| ctx_join(dir, f).unwrap_or_else(|| f.to_string());
    let mut files = Vec::new();
    let patterns: Vec<String> = if ctx.ships(&join("pnpm-workspace.yaml")) {
        let text = ctx.read(&join("pnpm-workspace.yaml")).unwrap_or_default();
        let y: serde_yaml::Value = serde_yaml::from_str(&text)
            .map_err(|_| vec![format!("{} is not valid YAML", join("pnpm-workspace.yaml"))])?;
        files.push(join("pnpm-workspace.yaml"));
        y["packages"]
            .as_sequence()
            .map(|s| {
                s.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    } else if let Some(w) = v.get("workspaces") {
        let list = w.as_array().or_else(|| w["packages"].as_array());
        match list {
            Some(l) => l
                .iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect(),
            None => {
                return Err(vec![format!(
                    "{} declares workspaces in a form that is not understood",
                    join("package.json")
                )]);
            }
        }
    } else {
        Vec::new()
    };
    if ctx.ships(&join("lerna.json")) {
        return Err(vec![format!(
            "{} belongs to a Lerna workspace, whose members are not listed",
            join("package.json")
        )]);
    }
    let Some(all) = ctx.files() else {
        return Err(vec!["the build context cannot be listed".into()]);
    };
    let member_dirs: Vec<&str> = all
        .keys()
        .filter_map(|f| f.strip_suffix("/package.json"))
        .collect();
    let mut members: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    for p in &patterns {
        let (neg, pat) = match p.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, p.as_str()),
        };
        let pat = pat.trim_start_matches("./").trim_end_matches('/');
        let (base, depth) = if let Some(b) = pat.strip_suffix("/**") {
            (b, None)
        } else if let Some(b) = pat.strip_suffix("/*") {
            (b, Some(1))
        } else {
            (pat, Some(0))
        };
        if base.contains(['*', '?', '[', '{']) {
            problems.push(format!("the workspace pattern `{p}` is not understood"));
            continue;
        }
        let Some(base) = ctx_join(dir, base) else {
            problems.push(format!(
                "the workspace pattern `{p}` leaves the build context"
            ));
            continue;
        };
        let matched: Vec<String> = member_dirs
            .iter()
            .filter(|d| {
                let rest = if base.is_empty() {
                    Some(**d)
                } else if **d == base {
                    Some("")
                } else {
                    d.strip_prefix(&format!("{base}/"))
                };
                match (rest, depth) {
                    (Some(""), Some(0)) => true,
                    (Some(r), Some(1)) => !r.is_empty() && !r.contains('/'),
                    (Some(r), None) => !r.is_empty() && !r.split('/').any(|c| c == "node_modules"),
                    _ => false,
                }
            })
            .map(|d| d.to_string())
            .collect();
        if neg {
            members.retain(|m| !matched.contains(m));
        } else {
            members.extend(matched);
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if ctx.unknown_dirs().iter().any(|u| {
        patterns
            .iter()
            .any(|p| p.trim_start_matches("./").starts_with(u.as_str()))
    }) {
        return Err(vec![
            "a workspace member lies in a submodule, whose contents are not known".into(),
        ]);
    }
    members.sort();
    members.dedup();
    for m in &members {
        files.push(format!("{m}/package.json"));
        let rc = format!("{m}/.npmrc");
        if ctx.ships(&rc) {
            files.push(rc);
        }
    }
    Ok(files)
}

/// Extra files an install reads beside its own manifests, found in them
/// (context paths): a Maven reactor's module and parent POMs, `.mvn/`, the
/// files its profiles test for; a workspace's member manifests; a Gradle
/// build's settings, included projects' build files, `gradle/`, `buildSrc/`
/// and `gradlew`; the gemspecs a Gemfile loads and the files they
/// require; what a
/// `dotnet restore` reads (projects, references, MSBuild and NuGet files);
/// the requirement files pip requirement files include. Empty for other
/// checks.
pub(crate) fn extra_manifests(
    check: &ManifestCheck,
    ctx: &Context,
    dir: &str,
    to_context: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    match check {
        ManifestCheck::Requirements(files) => requirement_includes(ctx, to_context, files),
        ManifestCheck::Maven => maven_reactor(ctx, dir).0,
        ManifestCheck::Gradle => gradle::gradle_build(ctx, dir).files,
        ManifestCheck::Gemfile => {
            let gemfile = ctx_join(dir, "Gemfile").unwrap_or_default();
            ctx.read(&gemfile)
                .map(|t| gemspec::gemfile_gemspecs(ctx, &gemfile, &t).files)
                .unwrap_or_default()
        }
        ManifestCheck::Dotnet {
            projects,
            properties,
            ..
        } => dotnet::restore_inputs(ctx, dir, projects, *properties).files,
        ManifestCheck::Yarn { .. } => berry_files(ctx, dir),
        ManifestCheck::NpmScripts(_) => {
            let rel = ctx_join(dir, "package.json").unwrap_or_default();
            let mut sink = Vec::new();
            let Some(v) = read_json(ctx, &rel, &mut sink) else {
                return Vec::new();
            };
            let mut files = npm_workspace(ctx, dir, &v).unwrap_or_default();
            files.extend(pnpm_patch_files(ctx, dir, &v).unwrap_or_default());
            files
        }
        _ => Vec::new(),
    }
}

/// The text with XML comments removed.
pub(crate) fn strip_xml_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(k) = rest.find("<!--") {
        out.push_str(&rest[..k]);
        match rest[k..].find("-->") {
            Some(e) => rest = &rest[k + e + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The trimmed contents of every `<tag>…</tag>` element.
fn xml_values<'a>(text: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(k) = rest.find(&open) {
        let after = &rest[k + open.len()..];
        let Some(e) = after.find(&close) else { break };
        out.push(after[..e].trim());
        rest = &after[e + close.len()..];
    }
    out
}

/// `dir/rel` normalised (context-relative, `..` applied); `None` when it
/// leaves the context.
pub(crate) fn ctx_join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|c| !c.is_empty()).collect();
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// What `mvn dependency:go-offline` (or `resolve`) in `dir` reads before it
/// builds anything: the POM of every module of the reactor (`<module>`,
/// recursively, in profiles too), each parent POM found by
/// `<relativePath>` (default `../pom.xml`) that the context holds, the
/// files `<activation><file>` tests for (resolved against every module),
/// and `.mvn/`. Problems: a module or `.mvn` file the context does not
/// ship, a POM that reads the environment (`${env.…}`), a `systemPath`, a
/// `file:` repository, an activation path with a property other than
/// `basedir`.
pub(crate) fn maven_reactor(ctx: &Context, dir: &str) -> (Vec<String>, Vec<String>) {
    ctx.reactor(dir, || read_maven_reactor(ctx, dir))
}

/// [`maven_reactor`] read from the context's files.
fn read_maven_reactor(ctx: &Context, dir: &str) -> (Vec<String>, Vec<String>) {
    let mut files: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    let mut activation: Vec<String> = Vec::new();
    let mut pom_dirs: Vec<String> = Vec::new();
    let root = ctx_join(dir, "pom.xml").unwrap_or_else(|| "pom.xml".into());
    let mut queue = vec![(root, true)];
    while let Some((pom, follow_modules)) = queue.pop() {
        if files.contains(&pom) {
            continue;
        }
        if !ctx.ships(&pom) {
            if follow_modules {
                problems.push(format!(
                    "the Maven module POM {pom} is not in the build context"
                ));
            }
            continue;
        }
        let Some(raw) = ctx.read(&pom) else {
            problems.push(format!("{pom} cannot be read"));
            continue;
        };
        files.push(pom.clone());
        let text = strip_xml_comments(&raw);
        let pdir = pom
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string());
        pom_dirs.push(pdir.clone());
        for needle in ["${env.", "<systemPath>", "file:"] {
            if text.contains(needle) {
                problems.push(format!(
                    "{pom} uses `{needle}`, which reads outside the POMs"
                ));
            }
        }
        if follow_modules {
            for m in xml_values(&text, "module") {
                let target = if m.ends_with(".xml") {
                    ctx_join(&pdir, m)
                } else {
                    ctx_join(&pdir, &format!("{m}/pom.xml"))
                };
                match target {
                    Some(t) => queue.push((t, true)),
                    None => {
                        problems.push(format!("{pom} names a module outside the build context"))
                    }
                }
            }
        }
        for parent in xml_values(&text, "parent") {
            let rel = xml_values(parent, "relativePath")
                .first()
                .map_or("../pom.xml".to_string(), |r| r.to_string());
            if parent.contains("<relativePath/>") || rel.is_empty() {
                continue;
            }
            let rel = if rel.ends_with(".xml") {
                rel
            } else {
                format!("{}/pom.xml", rel.trim_end_matches('/'))
            };
            if let Some(t) = ctx_join(&pdir, &rel) {
                queue.push((t, false));
            }
        }
        for tag in ["exists", "missing"] {
            for v in xml_values(&text, tag) {
                let v = v
                    .trim_start_matches("${project.basedir}/")
                    .trim_start_matches("${basedir}/");
                if v.contains('$') || v.starts_with('/') {
                    problems.push(format!(
                        "{pom} activates a profile by the file `{v}`, which cannot be resolved"
                    ));
                } else {
                    activation.push(v.to_string());
                }
            }
        }
    }
    // Profiles are inherited: a file test applies in every module.
    for a in &activation {
        for d in &pom_dirs {
            if let Some(t) = ctx_join(d, a)
                && ctx.ships(&t)
                && !files.contains(&t)
            {
                files.push(t);
            }
        }
    }
    if let Some(all) = ctx.files() {
        let mvn = ctx_join(dir, ".mvn").unwrap_or_default();
        let prefix = format!("{mvn}/");
        files.extend(all.keys().filter(|f| f.starts_with(&prefix)).cloned());
    }
    if ctx.unknown_dirs().iter().any(|d| {
        pom_dirs
            .iter()
            .any(|p| p == d || p.starts_with(&format!("{d}/")))
    }) {
        problems.push("a Maven module lies in a submodule, whose contents are not known".into());
    }
    files.sort();
    files.dedup();
    (files, problems)
}

/// Dependency manifests and lock files: they change rarely.
pub fn is_manifest_name(path: &str) -> bool {
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    const NAMES: &[&str] = &[
        "package.json",
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "pnpm-workspace.yaml",
        ".npmrc",
        ".yarnrc",
        "Pipfile",
        "Pipfile.lock",
        "pyproject.toml",
        "poetry.lock",
        "uv.lock",
        "setup.cfg",
        "go.mod",
        "go.sum",
        "Gemfile",
        "Gemfile.lock",
        "composer.json",
        "composer.lock",
        "pom.xml",
        "build.gradle",
        "build.gradle.kts",
        "settings.gradle",
        "settings.gradle.kts",
        "gradle.properties",
        "Cargo.toml",
        "Cargo.lock",
        "mix.exs",
        "mix.lock",
        "packages.config",
        "NuGet.config",
        "nuget.config",
        "Directory.Build.props",
        "Directory.Packages.props",
        "Directory.Build.targets",
        "Directory.Build.rsp",
        "packages.lock.json",
        "global.json",
        "gradlew",
        "gradle-wrapper.properties",
        "gradle-wrapper.jar",
        "libs.versions.toml",
    ];
    NAMES.contains(&name)
        || (name.starts_with("requirements") && name.ends_with(".txt"))
        || name.ends_with(".csproj")
        || name.ends_with(".fsproj")
        || name.ends_with(".vbproj")
        || name.ends_with(".sln")
        || name.ends_with(".slnx")
        || name.ends_with(".gemspec")
        || name.eq_ignore_ascii_case("nuget.config")
}

/// Whether every command of a `RUN` that may run git in its working
/// directory (`Effects::repo_tools`) is an `npm ci` (or an `npm install`
/// whose lock agrees with `package.json`, [`lock_agrees`]) whose lock file shows
/// that it runs neither git nor any package's code, so a repository where
/// it runs is never looked at: a lock of version 2 or later (it records
/// install scripts) in which every package comes from an `http(s)` tarball
/// with a plain version, none is a link and none has an install script.
/// npm runs git only for git dependencies; a package's install script may
/// run anything (husky 4's writes hooks into the repository it finds). The
/// project's own scripts are the manifest checks' to judge. `lock_text`
/// gives a file of an image directory (`npm-shrinkwrap.json`, which npm
/// prefers, or `package-lock.json`) as the install reads it: `Some(None)`
/// when it is certainly not there, `None` when that is not known.
pub fn runs_no_git(
    e: &crate::analysis::effects::Effects,
    lock_text: impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    !e.repo_tools.is_empty()
        && e.repo_tools.iter().all(|(tool, dir)| {
            let clean = matches!(tool.as_str(), "npm ci" | "npm clean-install");
            if !clean && !matches!(tool.as_str(), "npm install" | "npm i") {
                return false;
            }
            let lock = match lock_text(dir, "npm-shrinkwrap.json") {
                None => return false,
                Some(Some(text)) => Some(text),
                Some(None) => lock_text(dir, "package-lock.json").flatten(),
            };
            // A link or an install script rules the lock out by its text,
            // before the whole of it is read (markdownlint-cli's link: a
            // quarter of a run without history went to reading its lock).
            let ruled_out = |text: &str| {
                ["\"link\": true", "\"hasInstallScript\": true"]
                    .iter()
                    .any(|t| text.contains(t))
            };
            let Some(lock) = lock
                .filter(|text| !ruled_out(text))
                .and_then(|text| serde_json::from_str::<NpmLock>(&text).ok())
                .filter(plain_npm_lock)
            else {
                return false;
            };
            // `npm install` follows the lock only where it agrees with
            // package.json; what it resolves anew is not in the lock.
            clean
                || lock_text(dir, "package.json")
                    .flatten()
                    .is_some_and(|manifest| lock_agrees(&lock, &manifest))
        })
}

/// What [`runs_no_git`] reads of an npm lock file; everything else is
/// skipped unread (a `serde_json::Value` of markdownlint-cli's lock was
/// half of a run without history).
#[derive(serde::Deserialize)]
struct NpmLock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<serde_json::Value>,
    packages: Option<std::collections::BTreeMap<String, NpmLockEntry>>,
}

/// One entry of an npm lock's `packages`: the fields [`plain_npm_lock`]
/// and [`lock_agrees`] read, as written (any JSON value).
#[derive(serde::Deserialize)]
struct NpmLockEntry {
    #[serde(rename = "hasInstallScript")]
    has_install_script: Option<serde_json::Value>,
    link: Option<serde_json::Value>,
    resolved: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
    dependencies: Option<serde_json::Value>,
    #[serde(rename = "devDependencies")]
    dev_dependencies: Option<serde_json::Value>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: Option<serde_json::Value>,
    #[serde(rename = "peerDependencies")]
    peer_dependencies: Option<serde_json::Value>,
}

/// Whether no code but the tools' own can run in a `RUN` whose commands
/// may run git in their working directory, so that where no git program
/// can run ([`crate::analysis::effects::git_cannot_run`]) the repository
/// there is never looked at: every such command is a `composer install`
/// whose `composer.json` (`text(dir, name)`, as for [`runs_no_git`]) is
/// not itself a plugin and whose `composer.lock` lists no package of a
/// plugin type (`composer-plugin`, or the older `composer-installer`),
/// the only code of its packages Composer runs. Every other tool runs its
/// packages' code: npm, yarn and pnpm their install scripts (the
/// `pre-commit` package's and yorkie's find `.git` with `fs.existsSync`
/// and write hooks into it), bundler the Gemfile, gemspecs and extension
/// builds; Composer's plugins (captainhook/hook-installer searches for
/// `.git` with `file_exists` and fails without one). Composer's own
/// scripts are the manifest checks' to judge.
pub fn runs_no_package_code(
    e: &crate::analysis::effects::Effects,
    text: impl Fn(&str, &str) -> Option<Option<String>>,
) -> bool {
    let plugin = |v: &serde_json::Value| {
        matches!(
            v.get("type").and_then(serde_json::Value::as_str),
            Some("composer-plugin" | "composer-installer")
        )
    };
    let json = |dir: &str, name: &str| {
        text(dir, name)
            .flatten()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    };
    !e.repo_tools.is_empty()
        && e.repo_tools.iter().all(|(tool, dir)| {
            if tool != "composer install" {
                return false;
            }
            let (Some(manifest), Some(lock)) =
                (json(dir, "composer.json"), json(dir, "composer.lock"))
            else {
                return false;
            };
            !plugin(&manifest)
                && ["packages", "packages-dev"].iter().all(|k| {
                    lock.get(k)
                        .and_then(serde_json::Value::as_array)
                        .is_some_and(|ps| ps.iter().all(|p| p.is_object() && !plugin(p)))
                })
        })
}

/// Whether an npm lock's root entry (`packages[""]`) names exactly the
/// dependencies `package.json` names, in each of the four maps: then
/// `npm install` takes the whole tree from the lock (npm's arborist
/// resolves anew only the edges the lock does not satisfy).
fn lock_agrees(lock: &NpmLock, manifest: &str) -> bool {
    let Ok(manifest) = serde_json::from_str::<serde_json::Value>(manifest) else {
        return false;
    };
    let Some(root) = lock.packages.as_ref().and_then(|p| p.get("")) else {
        return false;
    };
    let empty = serde_json::Value::Object(serde_json::Map::new());
    [
        ("dependencies", &root.dependencies),
        ("devDependencies", &root.dev_dependencies),
        ("optionalDependencies", &root.optional_dependencies),
        ("peerDependencies", &root.peer_dependencies),
    ]
    .iter()
    .all(|(k, v)| v.as_ref().unwrap_or(&empty) == manifest.get(*k).unwrap_or(&empty))
}

/// Whether an npm lock file (version 2 or later) lists only packages from
/// `http(s)` tarballs with plain versions, no link and no install script.
fn plain_npm_lock(lock: &NpmLock) -> bool {
    if lock
        .lockfile_version
        .as_ref()
        .and_then(serde_json::Value::as_u64)
        .is_none_or(|v| v < 2)
    {
        return false;
    }
    let Some(packages) = &lock.packages else {
        return false;
    };
    packages.iter().all(|(path, entry)| {
        let flag = |v: &Option<serde_json::Value>| {
            v.as_ref().and_then(serde_json::Value::as_bool) == Some(true)
        };
        if flag(&entry.has_install_script) || flag(&entry.link) {
            return false;
        }
        if path.is_empty() {
            return true;
        }
        let tarball = entry
            .resolved
            .as_ref()
            .and_then(|r| r.as_str())
            .is_none_or(|r| r.starts_with("https://") || r.starts_with("http://"));
        let version = entry
            .version
            .as_ref()
            .and_then(|v| v.as_str())
            .is_some_and(|v| !v.contains([':', '/', '#']));
        tarball && version
    })
}

/// Whether `npm install` (npm 9 or later, with its own settings: see
/// `effects::lock_kept`) leaves lock file `name` of a directory as it is.
/// `file` gives a file of that directory as the install reads it
/// (`Some(None)`: certainly not there; `None`: not known). It does when:
/// - it is `package-lock.json` and there is no `npm-shrinkwrap.json`
///   (npm would read and write that instead) and no `binding.gyp` (it
///   gives the project an install script);
/// - the project's `.npmrc`, if any, sets nothing that touches the lock
///   ([`npmrc_keeps_lock`]);
/// - the lock agrees with `package.json` ([`npm_lock_agrees`]);
/// - its text is what npm writes for it ([`npm_canonical_json`]): npm
///   serialises the lock anew with the lock's own indent and newline, so a
///   lock edited by hand or by another tool (other spacing, escapes, no
///   final newline, a repeated key) would come back different.
///
/// Measured (npm 9.9.4, 10.9.9, 11.21.2, official settings): `npm install`
/// on 16 real locks that pass this wrote each back byte for byte.
pub fn npm_lock_kept(name: &str, file: impl Fn(&str) -> Option<Option<String>>) -> bool {
    if name != "package-lock.json"
        || file("npm-shrinkwrap.json") != Some(None)
        || file("binding.gyp") != Some(None)
    {
        return false;
    }
    match file(".npmrc") {
        Some(None) => {}
        Some(Some(text)) if npmrc_keeps_lock(&text) => {}
        _ => return false,
    }
    let (Some(Some(lock)), Some(Some(manifest))) = (file(name), file("package.json")) else {
        return false;
    };
    // What rules a lock out at once, by its text as npm writes it, before
    // reading the whole of it (markdownlint-cli's link: a run without
    // history took 1.7 times git log's time reading its lock twice).
    if !(lock.contains("\"lockfileVersion\": 3") || lock.contains("\"lockfileVersion\": 2"))
        || [
            "\"link\": true",
            "\"extraneous\": true",
            "\"inBundle\": true",
        ]
        .iter()
        .any(|t| lock.contains(t))
    {
        return false;
    }
    npm_canonical_json(&lock)
        && npm_indent_kept(&manifest, &lock)
        && npm_lock_agrees(&lock, &manifest)
}

/// Whether npm writes the lock back with the indent it has: npm writes
/// the lock with `package.json`'s indent (arborist's reify takes the
/// root package's `Symbol.for('indent')`, which json-parse-even-better-
/// errors reads as the whitespace after the first newline following the
/// opening brace) unless that is empty (a minified manifest), when the
/// lock keeps its own. Measured (npm 9.0.0, 10.9.9, 11.21.2): a lock
/// indented by two spaces beside a `package.json` indented by four or by
/// a tab is written back indented as the manifest is.
fn npm_indent_kept(manifest: &str, lock: &str) -> bool {
    if !lock.starts_with("{\n") {
        return false;
    }
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let lead = manifest.trim_start_matches(ws);
    let Some(rest) = lead.strip_prefix(['{', '[']) else {
        return false;
    };
    let mut after = rest;
    loop {
        if let Some(r) = after.strip_prefix('\n') {
            after = r;
        } else if let Some(r) = after.strip_prefix("\r\n") {
            after = r;
        } else {
            break;
        }
    }
    if after.len() == rest.len() {
        // No newline after the brace: no indent, the lock keeps its own.
        return true;
    }
    let indent = &after[..after.len() - after.trim_start_matches(ws).len()];
    if indent.is_empty() {
        return true;
    }
    // The lock's own indent, as [`npm_canonical_json`] reads it. A lock
    // with CRLF newlines is written back with LF ones (measured, npm
    // 9.0.0, 9.9.4, 10.9.9, 11.21.2, beside an LF or a CRLF
    // `package.json`): not kept.
    let Some(lock_rest) = lock.strip_prefix("{\n") else {
        return false;
    };
    let lock_indent =
        &lock_rest[..lock_rest.len() - lock_rest.trim_start_matches([' ', '\t']).len()];
    indent == lock_indent
}

/// Whether `v` is a value npm's `metaFromNode` writes into a lock entry
/// as it is read: a non-empty string, object or array (arborist's
/// `metaFieldFromPkg` drops falsy values and empty objects and arrays,
/// and keeps only a license object's `type`; read-package-json-fast's
/// `normalize` turns a `funding` string into an object and rewrites
/// `bin`). `bin` must already be as `npm-normalize-package-bin` leaves
/// it: an object of plain names to clean relative paths.
fn npm_meta_value_kept(key: &str, v: &serde_json::Value) -> bool {
    use serde_json::Value;
    let clean_path = |p: &str| {
        !p.is_empty()
            && !p.contains('\\')
            && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
    };
    match (key, v) {
        ("bin", Value::Object(m)) => {
            !m.is_empty()
                && m.iter().all(|(k, t)| {
                    !k.contains(['/', '\\', ':'])
                        && clean_path(k)
                        && t.as_str().is_some_and(clean_path)
                })
        }
        ("bin", _) => false,
        ("funding", Value::Object(m)) => !m.is_empty(),
        ("funding", Value::Array(a)) => !a.is_empty(),
        ("funding", _) => false,
        ("license", Value::String(s)) => !s.is_empty(),
        ("license", Value::Array(a)) => !a.is_empty(),
        ("license", _) => false,
        (_, Value::String(s)) => !s.is_empty(),
        (_, Value::Object(m)) => !m.is_empty(),
        (_, Value::Array(a)) => !a.is_empty(),
        _ => false,
    }
}

/// Whether a `resolved` URL is one npm keeps as written: an `https`
/// tarball URL that npm-package-arg does not read as a hosted git
/// repository (`consistentResolve` turns `https://github.com/u/r` into
/// `git+ssh://git@github.com/u/r.git`, and the legacy tree then records
/// it as the version: measured, npm 10.9.9), with no fragment, user or
/// whitespace.
fn npm_resolved_kept(r: &str) -> bool {
    const GIT_HOSTS: &[&str] = &[
        "github.com",
        "gist.github.com",
        "gitlab.com",
        "bitbucket.org",
        "git.sr.ht",
    ];
    let Some(rest) = r.strip_prefix("https://") else {
        return false;
    };
    let Some((authority, path)) = rest.split_once('/') else {
        return false;
    };
    let host = authority
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    !host.is_empty()
        && !authority.contains('@')
        && !GIT_HOSTS.contains(&host)
        && !path.is_empty()
        && !r.contains(['#', '\\'])
        && !r.chars().any(char::is_whitespace)
}

/// Whether `yarn install` (yarn 1, as the official `node` images ship
/// it: see `effects::lock_kept`) leaves `yarn.lock` of a directory as it
/// is, without writing it. yarn 1 writes the lock only when what it
/// resolved differs from it (`Install#saveLockfileAndIntegrity`): it
/// returns before writing when every pattern of package.json is locked,
/// every pattern the lock holds was used by the resolution, each with the
/// lock's own `resolved` (and `integrity`), and there is at least one. A
/// locked pattern is taken from the lock as it is, so those hold when:
/// - there is no `.yarnrc` or `.yarnrc.yml` (settings, another yarn), no
///   `.pnp.cjs`, and the project's `.npmrc`, if any, sets only what
///   [`npmrc_keeps_lock`] admits;
/// - package.json has no `workspaces`, `resolutions`, `flat` or
///   `installConfig`, no `packageManager` but yarn 1's, at least one
///   dependency, and no name in two of its dependency maps;
/// - the lock parses as a yarn 1 lock (no merge conflict, which yarn
///   would resolve and write), and the patterns `NAME@RANGE` of
///   package.json's `dependencies`, `devDependencies` and
///   `optionalDependencies`, then those of each reached entry's
///   `dependencies` and `optionalDependencies`, are all locked and reach
///   every pattern the lock holds (an unused one is pruned: measured);
/// - every name is a package name (yarn drops one named `//`) and every
///   range a registry range (no URL, path, alias or git shorthand: `:`,
///   `/` or `@`) that names no file or directory of the
///   project (yarn installs a directory `RANGE` with a package.json), and
///   every entry has a `version` and an `https` `resolved`, no two
///   entries one version of one package.
///
/// Measured (yarn 1.22.22): a lock it wrote, reordered, without its
/// header comment, with CRLF or without `integrity`, was left as it is,
/// with `--production` too; a lock with an unused entry, an unused merged
/// pattern or a package.json range it does not hold was rewritten.
pub fn yarn_lock_kept(name: &str, file: impl Fn(&str) -> Option<Option<String>>) -> bool {
    if name != "yarn.lock"
        || [".yarnrc", ".yarnrc.yml", ".pnp.cjs", ".pnp.js"]
            .iter()
            .any(|f| file(f) != Some(None))
    {
        return false;
    }
    match file(".npmrc") {
        Some(None) => {}
        Some(Some(text)) if npmrc_keeps_lock(&text) => {}
        _ => return false,
    }
    let (Some(Some(lock)), Some(Some(manifest))) = (file(name), file("package.json")) else {
        return false;
    };
    let Ok(serde_json::Value::Object(manifest)) = serde_json::from_str(&manifest) else {
        return false;
    };
    if ["workspaces", "resolutions", "flat", "installConfig"]
        .iter()
        .any(|k| manifest.contains_key(*k))
    {
        return false;
    }
    match manifest.get("packageManager") {
        None => {}
        Some(serde_json::Value::String(pm)) if pm.starts_with("yarn@1.") => {}
        Some(_) => return false,
    }
    let mut top: Vec<String> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for key in ["dependencies", "devDependencies", "optionalDependencies"] {
        let Some(map) = manifest.get(key) else {
            continue;
        };
        let Some(map) = map.as_object() else {
            return false;
        };
        for (dep, range) in map {
            let Some(range) = range.as_str() else {
                return false;
            };
            // A name in two maps: yarn keeps one of them (measured, yarn
            // 1.22.22: it dropped the devDependencies pattern's entry).
            if names.contains(&dep.as_str()) {
                return false;
            }
            names.push(dep.as_str());
            top.push(format!("{dep}@{range}"));
        }
    }
    if top.is_empty() {
        return false;
    }
    let Some(entries) = parse_yarn_lock(&lock) else {
        return false;
    };
    yarn_lock_holds(&entries, &top, &file)
}

/// One entry of a yarn 1 lock: its `version`, `resolved` and the patterns
/// (`NAME@RANGE`) of its `dependencies` and `optionalDependencies`.
#[derive(Debug, Default, Clone)]
struct YarnEntry {
    version: Option<String>,
    resolved: Option<String>,
    deps: Vec<String>,
    /// The names of `deps`, each once.
    names: Vec<String>,
}

/// Whether the patterns from package.json (`top`) and those of the
/// entries they reach are all locked, reach every locked pattern, and
/// each is a registry range locked with a version and an `https` tarball.
/// A range must name nothing in the project (`file` reads the project's
/// files, `Some(None)`: certainly not there): yarn reads a range that is
/// not a semver range (a tag) as `file:RANGE` when `RANGE/package.json`
/// exists (`PackageRequest#normalizeRange`; measured, yarn 1.22.22: it
/// installed the directory and wrote the lock), so no file or directory
/// may have the range's name.
fn yarn_lock_holds(
    entries: &[(Vec<String>, YarnEntry)],
    top: &[String],
    file: &dyn Fn(&str) -> Option<Option<String>>,
) -> bool {
    use std::collections::{BTreeMap, BTreeSet};
    let mut by_pattern: BTreeMap<&str, usize> = BTreeMap::new();
    // One entry per version of a package: yarn resolves a second entry of
    // the same version as the first (`getExactVersionMatch`), with the
    // first's `resolved`, and then writes the lock (measured, yarn
    // 1.22.22). An entry's patterns all name one package.
    let mut versions: BTreeSet<(&str, &str)> = BTreeSet::new();
    let name_of = |p: &str| -> Option<usize> {
        match p.strip_prefix('@') {
            Some(rest) => rest.find('@').map(|k| k + 1),
            None => p.find('@'),
        }
    };
    for (k, (patterns, entry)) in entries.iter().enumerate() {
        let mut names = patterns.iter().map(|p| name_of(p).map(|at| &p[..at]));
        let Some(Some(name)) = names.next() else {
            return false;
        };
        if !names.all(|n| n == Some(name))
            || !versions.insert((name, entry.version.as_deref().unwrap_or("")))
        {
            return false;
        }
        for p in patterns {
            if by_pattern.insert(p.as_str(), k).is_some() {
                return false;
            }
        }
    }
    // A package name as the registry has them: yarn drops a dependency
    // named `//` (`normalizeManifest`: a comment), leaving its locked
    // pattern unused (measured, yarn 1.22.22).
    let part = |p: &str| {
        p.starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '~'))
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
    };
    let package_name = |name: &str| match name.strip_prefix('@') {
        Some(rest) => rest
            .split_once('/')
            .is_some_and(|(s, n)| part(s) && part(n)),
        None => part(name),
    };
    let registry_range = |pattern: &str| {
        // NAME@RANGE, NAME possibly `@scope/name`.
        let at = if let Some(rest) = pattern.strip_prefix('@') {
            rest.find('@').map(|k| k + 1)
        } else {
            pattern.find('@')
        };
        at.is_some_and(|k| {
            let (name, range) = (&pattern[..k], &pattern[k + 1..]);
            package_name(name)
                && !range.is_empty()
                && !range.contains([':', '/', '@'])
                && range != "."
                && range != ".."
                && file(range) == Some(None)
                && file(&format!("{range}/package.json")) == Some(None)
        })
    };
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue: Vec<&str> = top.iter().map(String::as_str).collect();
    while let Some(p) = queue.pop() {
        if !seen.insert(p) {
            continue;
        }
        if !registry_range(p) {
            return false;
        }
        let Some(k) = by_pattern.get(p) else {
            return false;
        };
        let entry = &entries[*k].1;
        let tarball = entry
            .resolved
            .as_deref()
            .is_some_and(|r| r.starts_with("https://"));
        if !tarball || entry.version.as_deref().is_none_or(str::is_empty) {
            return false;
        }
        queue.extend(entry.deps.iter().map(String::as_str));
    }
    by_pattern.keys().all(|p| seen.contains(p))
}

/// A yarn 1 lock file: its entries, each with the patterns of its key
/// (`"a@^1", a@^1.1:`). `None` for anything else: no `# yarn lockfile v1`
/// comment line, a merge conflict, an indent that is not two spaces per
/// level, a line that is neither `KEY VALUE` nor `KEY:`, a field outside
/// an entry, a repeated field, a nesting other than the dependency maps, a
/// name twice in an entry's dependency maps, an `integrity` yarn does not
/// find equal to itself ([`yarn_integrity_kept`]), a word yarn's tokenizer
/// reads otherwise ([`yarn_words`]), a line of spaces only, a comment
/// after the first entry or indented, a field other than `version`,
/// `resolved`, `integrity` and the dependency maps.
fn parse_yarn_lock(text: &str) -> Option<Vec<(Vec<String>, YarnEntry)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.lines().any(|l| l.trim_end() == "# yarn lockfile v1") {
        return None;
    }
    let mut out: Vec<(Vec<String>, YarnEntry)> = Vec::new();
    // The dependency map being read, if any: (optional?).
    let mut in_map: Option<&'static str> = None;
    let mut fields: Vec<String> = Vec::new();
    for raw in text.lines() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with(['<', '=', '>', '|']) && line.len() >= 7 {
            return None;
        }
        let body = line.trim_start_matches(' ');
        // A line of spaces only, or a comment after the header (one inside
        // an entry ends it for yarn's parser): measured, yarn 1.22.22
        // wrote the lock.
        if body.is_empty() && line.is_empty() {
            continue;
        }
        if body.is_empty()
            || (body.starts_with('#') && (body.len() != line.len() || !out.is_empty()))
        {
            return None;
        }
        if body.starts_with('#') {
            continue;
        }
        if body.starts_with('\t') {
            return None;
        }
        let indent = line.len() - body.len();
        if indent % 2 != 0 {
            return None;
        }
        let words = yarn_words(body)?;
        match (indent / 2, words.as_slice()) {
            (0, [keys @ .., last])
                if last.ends_with(':') && keys.iter().all(|k| k.ends_with(',')) =>
            {
                let mut patterns: Vec<String> = Vec::new();
                for k in keys.iter().chain(std::iter::once(last)) {
                    let k = k.strip_suffix(':').unwrap_or(k);
                    let k = k.strip_suffix(',').unwrap_or(k);
                    patterns.push(k.to_string());
                }
                out.push((patterns, YarnEntry::default()));
                in_map = None;
                fields.clear();
            }
            (1, [key]) if key.ends_with(':') => {
                let key = key.trim_end_matches(':');
                in_map = match key {
                    "dependencies" => Some("dependencies"),
                    "optionalDependencies" => Some("optionalDependencies"),
                    _ => return None,
                };
                if fields.iter().any(|f| f == key) {
                    return None;
                }
                fields.push(key.to_string());
                out.last()?;
            }
            (1, [key, value]) if ![key, value].iter().any(|w| w.ends_with([':', ','])) => {
                in_map = None;
                if fields.iter().any(|f| f == key) {
                    return None;
                }
                fields.push(key.clone());
                let entry = &mut out.last_mut()?.1;
                // The fields yarn writes for a registry package; others
                // (`name`, `uid`, `registry`) change how it resolves.
                match key.as_str() {
                    "version" => entry.version = Some(value.clone()),
                    "resolved" => entry.resolved = Some(value.clone()),
                    "integrity" if yarn_integrity_kept(value) => {}
                    _ => return None,
                }
            }
            (2, [dep, range])
                if in_map.is_some() && ![dep, range].iter().any(|w| w.ends_with([':', ','])) =>
            {
                // A name twice in an entry's maps: yarn asks for one of
                // the patterns only (the map keeps the last;
                // `cleanDependencies` keeps the optional one), so the
                // other's entry goes unused (measured, yarn 1.22.22).
                let entry = &mut out.last_mut()?.1;
                if entry.names.contains(dep) {
                    return None;
                }
                entry.names.push(dep.clone());
                entry.deps.push(format!("{dep}@{range}"));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Whether yarn 1 finds an entry's `integrity` equal to itself: it
/// compares `ssri.stringify` of the lock's text (hashes grouped by
/// algorithm, in the order met) with the text's hashes sorted
/// (`serializeIntegrity`), so hashes out of order made yarn 1.22.22 write
/// the lock. Kept: `ALGO-BASE64` hashes of the algorithms ssri knows,
/// separated by single spaces, sorted, none repeated.
fn yarn_integrity_kept(value: &str) -> bool {
    let hashes: Vec<&str> = value.split(' ').collect();
    hashes.windows(2).all(|w| w[0] < w[1])
        && hashes.iter().all(|h| {
            h.split_once('-').is_some_and(|(algo, digest)| {
                ["sha1", "sha256", "sha384", "sha512"].contains(&algo)
                    && !digest.is_empty()
                    && digest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            })
        })
}

/// The words of a yarn 1 lock line as yarn's own tokenizer reads them,
/// separated by single spaces, each followed by at most one `:` or `,`.
/// A quoted word has no backslash (yarn finds its end its own way, then
/// reads it with `JSON.parse`) and no control character; a bare word
/// starts with a letter, `/`, `.` or `-` (a digit starts a number),
/// not with `true` or `false` (booleans), and ends at ` `, `:` or `,`
/// (a bare URL is `https`, then `:`: yarn's parser fails and it reads the
/// file as YAML; measured, yarn 1.22.22 wrote the lock). `None` for
/// anything else.
fn yarn_words(body: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = body.chars().peekable();
    loop {
        let mut w = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    c if c == '\\' || c.is_control() => return None,
                    c => w.push(c),
                }
            }
        } else {
            if !chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '.' | '-'))
            {
                return None;
            }
            while let Some(c) = chars.peek().copied() {
                if matches!(c, ' ' | ':' | ',') {
                    break;
                }
                if c == '"' || c.is_control() {
                    return None;
                }
                w.push(c);
                chars.next();
            }
            if w.starts_with("true") || w.starts_with("false") {
                return None;
            }
        }
        if let Some(c) = chars.next_if(|c| matches!(c, ':' | ',')) {
            w.push(c);
        }
        if w.is_empty() {
            return None;
        }
        out.push(w);
        match chars.next() {
            None => return Some(out),
            Some(' ') if chars.peek().is_some_and(|c| *c != ' ') => {}
            Some(_) => return None,
        }
    }
}

/// Whether a project `.npmrc` sets only what leaves an agreeing lock as it
/// is: reporting (`audit`, `fund`, `loglevel`, `progress`,
/// `update-notifier`), `engine-strict`, how new dependencies would be
/// saved (`save-exact`, `save-prefix`), credentials (`//host/:_authToken`)
/// and the default registry itself. Anything else (another registry, a
/// lockfile version, `omit-lockfile-registry-resolved`, peer-dependency
/// modes) may change what npm writes.
fn npmrc_keeps_lock(text: &str) -> bool {
    const KEYS: &[&str] = &[
        "audit",
        "fund",
        "loglevel",
        "progress",
        "update-notifier",
        "engine-strict",
        "save-exact",
        "save-prefix",
        "unsafe-perm",
    ];
    text.lines().all(|l| {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            return true;
        }
        let Some((k, v)) = l.split_once('=') else {
            return false;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.starts_with("//") {
            return k.ends_with(":_authToken")
                || k.ends_with(":_auth")
                || k.ends_with(":always-auth");
        }
        if k == "registry" {
            return matches!(
                v,
                "https://registry.npmjs.org/" | "https://registry.npmjs.org"
            );
        }
        KEYS.contains(&k) && !v.contains('$')
    })
}

/// Whether an npm lock (version 3) agrees with `package.json` so
/// that npm takes the whole tree from it and records the same root: the
/// lock's `name` and `version` are the manifest's (which has a name: a
/// project without one is named after its directory); its root entry
/// (`packages[""]`) holds exactly what npm records of the manifest there,
/// each field as the manifest writes it (`dependencies`,
/// `devDependencies`, `peerDependencies`, `peerDependenciesMeta`,
/// `engines`, `os`, `cpu`, `bin`, `funding`, `license`; a field npm
/// normalises, a `bin` string, then differs and the lock is not taken);
/// the manifest declares nothing that reshapes the tree beyond the root
/// entry (`optionalDependencies`, which npm folds into `dependencies`,
/// bundled dependencies, `overrides`, `workspaces`) and no install script
/// of its own; every other entry is a package under `node_modules/` from
/// an `https` tarball with its `integrity` (or bundled inside one), none
/// extraneous (npm would prune it) and none a link.
fn npm_lock_agrees(lock: &str, manifest: &str) -> bool {
    use serde_json::Value;
    let (Ok(lock), Ok(manifest)) = (
        serde_json::from_str::<Value>(lock),
        serde_json::from_str::<Value>(manifest),
    ) else {
        return false;
    };
    let (Some(lock), Some(manifest)) = (lock.as_object(), manifest.as_object()) else {
        return false;
    };
    // Version 2 or 3. A version 2 lock also carries the legacy
    // `dependencies` tree, which npm derives anew from `packages` (a stale
    // one, an entry missing or of another version, is written back
    // changed: measured, npm 10.9.9), so it must be the one npm derives
    // ([`npm_legacy_tree`]); a version 3 lock has none. npm keeps the
    // other top-level keys as they are read, so none but its own may be
    // there.
    let version = lock.get("lockfileVersion").and_then(Value::as_u64);
    let top: &[&str] = match version {
        Some(2) => &[
            "name",
            "version",
            "lockfileVersion",
            "requires",
            "packages",
            "dependencies",
        ],
        Some(3) => &["name", "version", "lockfileVersion", "requires", "packages"],
        _ => return false,
    };
    if lock.keys().any(|k| !top.contains(&k.as_str()))
        || lock.get("requires") != Some(&Value::Bool(true))
        || !manifest.get("name").is_some_and(Value::is_string)
        || lock.get("name") != manifest.get("name")
        || lock.get("version") != manifest.get("version")
    {
        return false;
    }
    const RESHAPE: &[&str] = &[
        "optionalDependencies",
        "bundleDependencies",
        "bundledDependencies",
        "overrides",
        "workspaces",
    ];
    // Fields npm records in the root entry that the lock's root may not
    // hold here (`acceptDependencies`, `deprecated`, `hasInstallScript`:
    // measured, npm 10.9.9 adds them), and a `directories.bin` npm reads
    // the `bin` of the root entry from (the files of that directory).
    const RECORDED: &[&str] = &["acceptDependencies", "deprecated", "hasInstallScript"];
    if RESHAPE
        .iter()
        .chain(RECORDED)
        .any(|k| manifest.contains_key(*k))
        || manifest
            .get("directories")
            .is_some_and(|d| !d.is_object() || d.get("bin").is_some())
    {
        return false;
    }
    let scripts = manifest.get("scripts").and_then(Value::as_object);
    if scripts.is_some_and(|s| {
        ["preinstall", "install", "postinstall"]
            .iter()
            .any(|k| s.contains_key(*k))
    }) {
        return false;
    }
    let Some(packages) = lock.get("packages").and_then(Value::as_object) else {
        return false;
    };
    let Some(root) = packages.get("").and_then(Value::as_object) else {
        return false;
    };
    const ROOT: &[&str] = &[
        "name",
        "version",
        "license",
        "dependencies",
        "devDependencies",
        "peerDependencies",
        "peerDependenciesMeta",
        "engines",
        "os",
        "cpu",
        "bin",
        "funding",
    ];
    if root.keys().any(|k| !ROOT.contains(&k.as_str()))
        || ROOT.iter().any(|k| root.get(*k) != manifest.get(*k))
    {
        return false;
    }
    // Each field as npm writes it from the manifest it reads
    // ([`npm_meta_value_kept`]): an empty `dependencies`, `engines` or
    // `license`, a `bin` or `funding` string come back otherwise or not
    // at all (measured, npm 10.9.9). `devDependencies` is written as it
    // is, even empty.
    if root
        .iter()
        .any(|(k, v)| k != "devDependencies" && !npm_meta_value_kept(k, v))
        || !root.get("devDependencies").is_none_or(Value::is_object)
    {
        return false;
    }
    let entries_plain = packages.iter().all(|(path, entry)| {
        if path.is_empty() {
            return true;
        }
        let Some(entry) = entry.as_object() else {
            return false;
        };
        let flag = |k: &str| entry.get(k).and_then(Value::as_bool) == Some(true);
        // An alias (`name`) or a bundled package is not followed.
        if !path.starts_with("node_modules/")
            || flag("link")
            || flag("extraneous")
            || flag("inBundle")
            || entry.contains_key("name")
        {
            return false;
        }
        // Only what npm's `metaFromNode` writes back as it reads it: a
        // key it does not write (`devDependencies`, `hasShrinkwrap`
        // false, an unknown one) or a value it drops or rewrites (an
        // empty `dependencies`, a license object, a `funding` string) is
        // written back otherwise (measured, npm 10.9.9).
        const ENTRY: &[&str] = &[
            "version",
            "resolved",
            "integrity",
            "license",
            "dependencies",
            "optionalDependencies",
            "peerDependencies",
            "peerDependenciesMeta",
            "engines",
            "os",
            "cpu",
            "bin",
            "funding",
            "deprecated",
        ];
        const FLAGS: &[&str] = &["dev", "optional", "devOptional", "peer", "hasInstallScript"];
        let kept = entry.iter().all(|(k, v)| {
            if FLAGS.contains(&k.as_str()) {
                return v == &Value::Bool(true);
            }
            ENTRY.contains(&k.as_str()) && npm_meta_value_kept(k, v)
        });
        let text = |k: &str| entry.get(k).and_then(Value::as_str);
        kept && text("resolved").is_some_and(npm_resolved_kept)
            && text("integrity").is_some_and(|i| !i.is_empty())
            && text("version").is_some_and(|v| !v.is_empty())
    });
    entries_plain
        && npm_tree_holds(packages)
        && (version == Some(3)
            || npm_legacy_tree(packages).is_some_and(|t| t.as_ref() == lock.get("dependencies")))
}

/// The legacy `dependencies` tree npm writes into a version 2 lock, as
/// arborist's shrinkwrap `#buildLegacyLockfile` derives it from the tree:
/// each package under its name, with its `version`, `resolved`,
/// `integrity`, its `peer`, `devOptional`, `dev` and `optional` flags as
/// `packages` has them, `requires` (the ranges of its dependency and
/// optional edges, peer edges left out, written when it has any edge at
/// all) and its own nested packages as `dependencies`. `Some(None)` when
/// the root has no package (npm writes no legacy tree then), `None` when
/// the nesting is deeper than [`LEGACY_DEPTH`] (not derived, so not
/// proven). Only for the plain
/// entries [`npm_lock_agrees`] admits (no link, alias, bundle or
/// extraneous entry).
fn npm_legacy_tree(
    packages: &serde_json::Map<String, serde_json::Value>,
) -> Option<Option<serde_json::Value>> {
    use std::collections::BTreeMap;
    // Each entry's direct children: `P/node_modules/NAME` under `P`.
    let mut kids: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for path in packages.keys() {
        let (parent, name) = match path.rfind("/node_modules/") {
            Some(k) => (&path[..k], &path[k + "/node_modules/".len()..]),
            None => match path.strip_prefix("node_modules/") {
                Some(name) => ("", name),
                None => continue,
            },
        };
        // A scoped name (`@scope/name`) holds one slash; `a/b` under
        // `node_modules/` is no child of anything npm writes.
        let plain = match name.split_once('/') {
            None => true,
            Some((scope, rest)) => scope.starts_with('@') && !rest.contains('/'),
        };
        if plain {
            kids.entry(parent).or_default().push((path.as_str(), name));
        }
    }
    legacy_children(packages, &kids, "", 0)
}

/// How deep [`npm_legacy_tree`] follows nested `node_modules/` (the JSON
/// nesting [`npm_canonical_json`] admits is about twice this).
const LEGACY_DEPTH: usize = 64;

/// The legacy entries of `at`'s children: `Some(None)` when it has none,
/// `None` past [`LEGACY_DEPTH`].
fn legacy_children(
    packages: &serde_json::Map<String, serde_json::Value>,
    kids: &std::collections::BTreeMap<&str, Vec<(&str, &str)>>,
    at: &str,
    depth: usize,
) -> Option<Option<serde_json::Value>> {
    use serde_json::{Map, Value};
    let Some(children) = kids.get(at) else {
        return Some(None);
    };
    if depth >= LEGACY_DEPTH {
        return None;
    }
    let mut tree = Map::new();
    for (path, name) in children {
        let entry = packages.get(*path)?;
        let mut out = Map::new();
        for k in ["version", "resolved", "integrity"] {
            if let Some(v) = entry.get(k) {
                out.insert(k.to_string(), v.clone());
            }
        }
        for k in ["peer", "devOptional", "dev", "optional"] {
            if entry.get(k).and_then(Value::as_bool) == Some(true) {
                out.insert(k.to_string(), Value::Bool(true));
            }
        }
        let mut requires = Map::new();
        let mut edges = 0;
        for key in ["dependencies", "optionalDependencies", "peerDependencies"] {
            for (dep, range) in entry
                .get(key)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                edges += 1;
                if key != "peerDependencies" {
                    requires.insert(dep.clone(), range.clone());
                }
            }
        }
        if edges > 0 {
            out.insert("requires".to_string(), Value::Object(requires));
        }
        if let Some(nested) = legacy_children(packages, kids, path, depth + 1)? {
            out.insert("dependencies".to_string(), nested);
        }
        tree.insert((*name).to_string(), Value::Object(out));
    }
    Some(Some(Value::Object(tree)))
}

/// The kinds of dependency edge npm's arborist knows (`edge.js`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum EdgeKind {
    Prod,
    Dev,
    Optional,
    Peer,
    PeerOptional,
}

/// Whether the tree an npm lock describes is the one npm keeps as it is
/// (arborist builds anew only what a "problem edge" needs, then
/// recomputes every entry's flags and prunes what nothing reaches):
/// - every dependency edge (the root's `dependencies`, `devDependencies`
///   and `peerDependencies`; each entry's `dependencies`,
///   `optionalDependencies` and `peerDependencies`) finds its package by
///   walking up the `node_modules/` folders, at a version its range takes
///   ([`semver_satisfies`]; a range form not read is not proven), except
///   an optional peer, which may be missing; a name in two maps of one
///   package is not read;
/// - every entry is reached from the root;
/// - each entry's `dev`, `optional`, `devOptional` and `peer` are what
///   arborist's `calc-dep-flags` computes: `dev` unless reached by edges
///   that are not `devDependencies`, `optional` unless reached by edges
///   that are not optional, `devOptional` (written only when neither of
///   those is) unless reached by edges that are neither, `peer` unless
///   reached by edges that are not peer edges.
fn npm_tree_holds(packages: &serde_json::Map<String, serde_json::Value>) -> bool {
    use serde_json::Value;
    use std::collections::{BTreeMap, HashMap, VecDeque};
    // Each node's edges: (name, range, kind).
    let mut edges: BTreeMap<&str, Vec<(&str, &str, EdgeKind)>> = BTreeMap::new();
    for (path, entry) in packages {
        let Some(entry) = entry.as_object() else {
            return false;
        };
        let root = path.is_empty();
        let optional_peers: Vec<&str> = entry
            .get("peerDependenciesMeta")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| v.get("optional").and_then(Value::as_bool) == Some(true))
                    .map(|(k, _)| k.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let maps: &[(&str, EdgeKind)] = if root {
            &[
                ("dependencies", EdgeKind::Prod),
                ("devDependencies", EdgeKind::Dev),
                ("peerDependencies", EdgeKind::Peer),
            ]
        } else {
            &[
                ("dependencies", EdgeKind::Prod),
                ("optionalDependencies", EdgeKind::Optional),
                ("peerDependencies", EdgeKind::Peer),
            ]
        };
        let mut out: Vec<(&str, &str, EdgeKind)> = Vec::new();
        for (key, kind) in maps {
            let Some(map) = entry.get(*key) else { continue };
            let Some(map) = map.as_object() else {
                return false;
            };
            for (name, range) in map {
                let Some(range) = range.as_str() else {
                    return false;
                };
                if out.iter().any(|(n, _, _)| *n == name.as_str()) {
                    return false;
                }
                let kind = if *kind == EdgeKind::Peer && optional_peers.contains(&name.as_str()) {
                    EdgeKind::PeerOptional
                } else {
                    *kind
                };
                out.push((name.as_str(), range, kind));
            }
        }
        edges.insert(path.as_str(), out);
    }
    // Every entry's parent (the entry whose `node_modules/` holds it; npm
    // writes no entry under a folder that is not one) and name, by index:
    // walking up is then one step a level, not a path built anew (a chain
    // of nested entries each needing a package at the top made this
    // cubic in the depth: 8 s for a 1.6 MB lock).
    let keys: Vec<&str> = packages.keys().map(String::as_str).collect();
    let ids: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let Some(&root) = ids.get("") else {
        return false;
    };
    let mut parent: Vec<Option<usize>> = vec![None; keys.len()];
    let mut child: HashMap<(usize, &str), usize> = HashMap::new();
    for (i, path) in keys.iter().enumerate() {
        if path.is_empty() {
            continue;
        }
        let (up, name) = match path.rfind("/node_modules/") {
            Some(k) => (&path[..k], &path[k + "/node_modules/".len()..]),
            None => match path.strip_prefix("node_modules/") {
                Some(name) => ("", name),
                None => return false,
            },
        };
        let Some(&up) = ids.get(up) else {
            return false;
        };
        parent[i] = Some(up);
        child.insert((up, name), i);
    }
    // Walking up has a bound (a real lock takes a few thousand steps):
    // past it the tree is not proven.
    let mut budget: usize = 4_000_000;
    let mut resolved: Vec<Vec<(usize, EdgeKind)>> = vec![Vec::new(); keys.len()];
    for (from, list) in &edges {
        let from_id = ids[from];
        for (name, range, kind) in list {
            // A name that is itself a path is not read.
            if name.contains("node_modules") {
                return false;
            }
            // A peer may be looked for from the parent, past a child of
            // the same name: not read.
            let peer = matches!(kind, EdgeKind::Peer | EdgeKind::PeerOptional);
            if peer && from_id != root && child.contains_key(&(from_id, *name)) {
                return false;
            }
            let mut at = Some(from_id);
            let mut found = None;
            while let Some(b) = at {
                if budget == 0 {
                    return false;
                }
                budget -= 1;
                if let Some(&c) = child.get(&(b, *name)) {
                    found = Some(c);
                    break;
                }
                at = parent[b];
            }
            match found {
                Some(to) => {
                    let version = packages[keys[to]].get("version").and_then(Value::as_str);
                    if version.is_none_or(|v| semver_satisfies(v, range) != Some(true)) {
                        return false;
                    }
                    resolved[from_id].push((to, *kind));
                }
                None if *kind == EdgeKind::PeerOptional => {}
                None => return false,
            }
        }
    }
    // The entries reached from the root through edges whose kind passes.
    let reach = |pass: &dyn Fn(EdgeKind) -> bool| -> Vec<bool> {
        let mut seen = vec![false; keys.len()];
        let mut queue = VecDeque::from([root]);
        seen[root] = true;
        while let Some(node) = queue.pop_front() {
            for (to, kind) in &resolved[node] {
                if pass(*kind) && !seen[*to] {
                    seen[*to] = true;
                    queue.push_back(*to);
                }
            }
        }
        seen
    };
    let all = reach(&|_| true);
    let not_dev = reach(&|k| k != EdgeKind::Dev);
    let not_optional = reach(&|k| !matches!(k, EdgeKind::Optional | EdgeKind::PeerOptional));
    let neither = reach(&|k| {
        !matches!(
            k,
            EdgeKind::Dev | EdgeKind::Optional | EdgeKind::PeerOptional
        )
    });
    let not_peer = reach(&|k| !matches!(k, EdgeKind::Peer | EdgeKind::PeerOptional));
    keys.iter().enumerate().all(|(i, path)| {
        if path.is_empty() {
            return true;
        }
        if !all[i] {
            return false;
        }
        let entry = &packages[*path];
        let dev = !not_dev[i];
        let optional = !not_optional[i];
        let dev_optional = !neither[i] && !dev && !optional;
        let peer = !not_peer[i];
        [
            ("dev", dev),
            ("optional", optional),
            ("devOptional", dev_optional),
            ("peer", peer),
        ]
        .iter()
        .all(|(k, want)| match entry.get(*k) {
            None => !want,
            Some(v) => *want && v.as_bool() == Some(true),
        })
    })
}

/// A version `MAJOR.MINOR.PATCH` (a leading `v` or `=` allowed), without
/// pre-release or build parts (those are not read).
fn plain_version(v: &str) -> Option<(u64, u64, u64)> {
    let v = v.trim().trim_start_matches(['v', '=']);
    let mut it = v.split('.');
    let parse = |p: Option<&str>| -> Option<u64> {
        let p = p?;
        if p.is_empty()
            || !p.bytes().all(|c| c.is_ascii_digit())
            || (p.len() > 1 && p.starts_with('0'))
        {
            return None;
        }
        p.parse().ok()
    };
    let out = (parse(it.next())?, parse(it.next())?, parse(it.next())?);
    it.next().is_none().then_some(out)
}

/// Whether version `v` satisfies npm range `range` as node-semver reads
/// it, for the forms read here: `||` of space-separated comparators, each
/// an exact version, `^`/`~` of a full or partial version, `>=`, `>`,
/// `<=`, `<` of a full version, `*`, `x` or a partial version (`1`,
/// `1.2`, `1.x`, `1.2.x`). `None` for anything else (a tag, a URL, an
/// alias, a hyphen range, a pre-release): not proven.
pub(crate) fn semver_satisfies(v: &str, range: &str) -> Option<bool> {
    let ver = plain_version(v)?;
    if range.contains([':', '/', '#']) || range.contains(" - ") {
        return None;
    }
    let mut any = false;
    for alt in range.split("||") {
        let mut all = true;
        let comps = glued_comparators(alt)?;
        let comps = if comps.is_empty() {
            vec!["*".to_string()]
        } else {
            comps
        };
        for c in comps {
            if !comparator(ver, &c)? {
                all = false;
            }
        }
        any |= all;
    }
    Some(any)
}

/// The comparators of one `||` alternative, as node-semver reads them:
/// blanks between an operator and its version are dropped before the
/// split at blanks (`>= 2.1.2 < 3` is `>=2.1.2 <3`; range.js trims them
/// with its comparator, tilde and caret trims; express 4's tree has such
/// ranges). `None` when an operator stands last or before another
/// operator (not read).
fn glued_comparators(alt: &str) -> Option<Vec<String>> {
    const OPS: &[&str] = &[">=", "<=", ">", "<", "=", "~>", "~", "^"];
    let mut out = Vec::new();
    let mut words = alt.split_whitespace();
    while let Some(w) = words.next() {
        if OPS.contains(&w) {
            let next = words.next()?;
            if !next.starts_with(|c: char| c.is_ascii_digit() || c == 'v') {
                return None;
            }
            out.push(format!("{w}{next}"));
        } else {
            out.push(w.to_string());
        }
    }
    Some(out)
}

/// One comparator of [`semver_satisfies`].
fn comparator(ver: (u64, u64, u64), c: &str) -> Option<bool> {
    // node-semver takes one operator and at most one `v` before the
    // version: `>==1.2.3` or `vv1` make the whole range invalid, and
    // `satisfies` then answers false whatever the other alternatives say.
    let op_len = [">=", "<=", "~>", ">", "<", "=", "^", "~"]
        .iter()
        .find(|o| c.starts_with(**o))
        .map_or(0, |o| o.len());
    let body = &c[op_len..];
    if body
        .strip_prefix('v')
        .unwrap_or(body)
        .starts_with(['v', '='])
    {
        return None;
    }
    // A partial version: its numbers, `x`/`X`/`*` ending it.
    let partial = |p: &str| -> Option<Vec<u64>> {
        let bare = p.trim_start_matches(['v', '=']);
        // A `v` or `=` with no version after it is no range node-semver
        // reads (`>=v`, `^v`: invalid, `satisfies` answers false).
        if bare.is_empty() && !p.is_empty() {
            return None;
        }
        let p = bare;
        if p.is_empty() || p == "*" || p == "x" || p == "X" {
            return Some(Vec::new());
        }
        let mut out = Vec::new();
        let mut wild = false;
        for part in p.split('.') {
            if matches!(part, "x" | "X" | "*") {
                wild = true;
                continue;
            }
            // node-semver takes no leading zero (`^01.2`, `>=01.2` are not
            // ranges it reads: `satisfies` answers false).
            if wild
                || part.is_empty()
                || !part.bytes().all(|b| b.is_ascii_digit())
                || (part.len() > 1 && part.starts_with('0'))
            {
                return None;
            }
            out.push(part.parse().ok()?);
        }
        (out.len() <= 3 && p.split('.').count() <= 3).then_some(out)
    };
    let full = |p: &[u64]| (p[0], p[1], p[2]);
    // A comparison with a partial version, as node-semver's
    // `replaceXRange` rewrites it (the versions read here have no
    // pre-release, so its `<X.Y.Z-0` is `<X.Y.Z`): `>=1.2` is
    // `>=1.2.0`, `>1.2` is `>=1.3.0`, `<1.2` is `<1.2.0`, `<=1.2` is
    // `<1.3.0`; with no number at all `>=*` and `<=*` take every
    // version, `>*` and `<*` none.
    let cmp = |op: &str, rest: &str| -> Option<bool> {
        if let Some(v) = plain_version(rest) {
            return Some(match op {
                ">=" => ver >= v,
                "<=" => ver <= v,
                ">" => ver > v,
                _ => ver < v,
            });
        }
        let p = partial(rest)?;
        let next = |p: &[u64]| -> Option<(u64, u64, u64)> {
            match p {
                [m] => Some((m.checked_add(1)?, 0, 0)),
                [m, n] => Some((*m, n.checked_add(1)?, 0)),
                _ => None,
            }
        };
        let low = |p: &[u64]| match p {
            [m] => Some((*m, 0, 0)),
            [m, n] => Some((*m, *n, 0)),
            _ => None,
        };
        Some(match (op, p.as_slice()) {
            (">=" | "<=", []) => true,
            (">" | "<", []) => false,
            (">=", p) => ver >= low(p)?,
            (">", p) => ver >= next(p)?,
            ("<", p) => ver < low(p)?,
            (_, p) => ver < next(p)?,
        })
    };
    for op in [">=", "<=", ">", "<"] {
        if let Some(rest) = c.strip_prefix(op) {
            return cmp(op, rest);
        }
    }
    if let Some(rest) = c.strip_prefix('^') {
        let p = partial(rest)?;
        return Some(match p.as_slice() {
            [] => true,
            [m] => ver.0 == *m,
            [m, n] if *m > 0 => ver.0 == *m && (ver.1, ver.2) >= (*n, 0),
            [0, n] => ver.0 == 0 && ver.1 == *n,
            [m, n, q] if *m > 0 => ver.0 == *m && ver >= (*m, *n, *q),
            [0, n, q] if *n > 0 => ver.0 == 0 && ver.1 == *n && ver.2 >= *q,
            [0, 0, q] => ver == (0, 0, *q),
            _ => return None,
        });
    }
    if let Some(rest) = c.strip_prefix('~') {
        let p = partial(rest.trim_start_matches('>'))?;
        return Some(match p.as_slice() {
            [] => true,
            [m] => ver.0 == *m,
            [m, n] => ver.0 == *m && ver.1 == *n,
            [m, n, q] => ver.0 == *m && ver.1 == *n && ver.2 >= *q,
            _ => return None,
        });
    }
    let p = partial(c)?;
    Some(match p.as_slice() {
        [] => true,
        [m] => ver.0 == *m,
        [m, n] => ver.0 == *m && ver.1 == *n,
        [_, _, _] => ver == full(&p),
        _ => return None,
    })
}

/// Whether `text` is exactly what npm writes for the JSON it holds:
/// `JSON.stringify` with the indent of its first member and its first
/// newline (`\n` or `\r\n`, used throughout), then a final newline; keys
/// not repeated; strings with only the escapes `JSON.stringify` makes;
/// numbers as plain integers; and the members of every object in the
/// order npm's `json-stringify-nice` sorts them ([`npm_key_order`]): npm
/// sorts every object of the lock when it writes it, so a lock whose
/// entries hold `integrity` before `resolved`, or packages in byte order
/// (`node_modules/1x` before `node_modules/@scope/x`), comes back
/// reordered (measured with npm 9.9.4, 10.9.9, 11.21.2).
pub(crate) fn npm_canonical_json(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('{') else {
        return false;
    };
    let newline = if rest.starts_with("\r\n") {
        "\r\n"
    } else if rest.starts_with('\n') {
        "\n"
    } else {
        return false;
    };
    let after = &rest[newline.len()..];
    let indent = &after[..after.len() - after.trim_start_matches([' ', '\t']).len()];
    if indent.is_empty() {
        return false;
    }
    let mut out = String::with_capacity(text.len());
    let mut json = Canonical {
        src: text.as_bytes(),
        at: 0,
        indent,
        newline,
        out: &mut out,
    };
    json.value(0).is_some() && {
        json.skip_ws();
        json.at == text.len() && {
            out.push_str(newline);
            out == text
        }
    }
}

/// The writer of [`npm_canonical_json`]: reads a JSON value and writes it
/// as `JSON.stringify(value, null, indent)` would (`None`: not JSON, or
/// not as npm writes it).
struct Canonical<'a, 'o> {
    src: &'a [u8],
    at: usize,
    indent: &'a str,
    newline: &'a str,
    out: &'o mut String,
}

impl Canonical<'_, '_> {
    fn skip_ws(&mut self) {
        while self
            .src
            .get(self.at)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn line(&mut self, depth: usize) {
        self.out.push_str(self.newline);
        for _ in 0..depth {
            self.out.push_str(self.indent);
        }
    }

    /// A value (`Some(true)`: an object, which npm sorts after the
    /// strings, numbers, booleans and arrays of its parent).
    fn value(&mut self, depth: usize) -> Option<bool> {
        // As deep as serde_json reads (its recursion limit): deeper input
        // is not a lock, and would exhaust the stack.
        if depth > 128 {
            return None;
        }
        self.skip_ws();
        match *self.src.get(self.at)? {
            b'{' => self.container(depth, b'}', true).map(|_| true),
            b'[' => self.container(depth, b']', false).map(|_| false),
            b'"' => self.string().map(|_| false),
            b't' | b'f' | b'n' => {
                for lit in ["true", "false", "null"] {
                    if self.src[self.at..].starts_with(lit.as_bytes()) {
                        self.at += lit.len();
                        self.out.push_str(lit);
                        return Some(false);
                    }
                }
                None
            }
            _ => self.integer().map(|_| false),
        }
    }

    fn container(&mut self, depth: usize, close: u8, object: bool) -> Option<()> {
        self.at += 1;
        self.out.push(if object { '{' } else { '[' });
        self.skip_ws();
        if self.src.get(self.at) == Some(&close) {
            self.at += 1;
            self.out.push(close as char);
            return Some(());
        }
        let mut keys: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut last: Option<(bool, String)> = None;
        loop {
            self.line(depth + 1);
            let mut key = None;
            if object {
                self.skip_ws();
                if self.src.get(self.at) != Some(&b'"') {
                    return None;
                }
                let k = self.string()?;
                if !keys.insert(k.clone()) {
                    return None;
                }
                key = Some(k);
                self.skip_ws();
                if self.src.get(self.at) != Some(&b':') {
                    return None;
                }
                self.at += 1;
                self.out.push_str(": ");
            }
            let is_object = self.value(depth + 1)?;
            if let Some(key) = key {
                let key = key[1..key.len() - 1].to_string();
                if let Some((was_object, prev)) = &last
                    && npm_key_order((*was_object, prev), (is_object, &key))
                        != Some(std::cmp::Ordering::Less)
                {
                    return None;
                }
                // A key JavaScript reads as an array index goes first
                // whatever the sort: not followed, not taken.
                if !key.is_empty() && key.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                last = Some((is_object, key));
            }
            self.skip_ws();
            match *self.src.get(self.at)? {
                b',' => {
                    self.at += 1;
                    self.out.push(',');
                }
                c if c == close => {
                    self.at += 1;
                    self.line(depth);
                    self.out.push(close as char);
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string, copied as written when its escapes are those
    /// `JSON.stringify` makes; returns its raw text (for repeated keys).
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        self.at += 1;
        loop {
            match *self.src.get(self.at)? {
                b'"' => break,
                b'\\' => {
                    let esc = *self.src.get(self.at + 1)?;
                    match esc {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 2,
                        b'u' => {
                            let hex = self.src.get(self.at + 2..self.at + 6)?;
                            let hex = std::str::from_utf8(hex).ok()?;
                            let code = u32::from_str_radix(hex, 16).ok()?;
                            let lower = hex.bytes().all(|c| !c.is_ascii_uppercase());
                            let control = code < 0x20 && ![8, 9, 10, 12, 13].contains(&code);
                            // Only control characters (a lone surrogate
                            // is escaped too, but a pair is not: not read).
                            if !lower || !control {
                                return None;
                            }
                            self.at += 6;
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                _ => self.at += 1,
            }
        }
        self.at += 1;
        let raw = std::str::from_utf8(&self.src[start..self.at]).ok()?;
        self.out.push_str(raw);
        Some(raw.to_string())
    }

    fn integer(&mut self) -> Option<()> {
        let start = self.at;
        if self.src.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let digits = self.at;
        while self.src.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let n = &self.src[digits..self.at];
        if n.is_empty() || (n.len() > 1 && n[0] == b'0') {
            return None;
        }
        if self
            .src
            .get(self.at)
            .is_some_and(|c| matches!(c, b'.' | b'e' | b'E'))
        {
            return None;
        }
        self.out
            .push_str(std::str::from_utf8(&self.src[start..self.at]).ok()?);
        Some(())
    }
}

/// The order `json-stringify-nice` (npm's lock writer, with the lock's
/// preferred keys) gives two members of an object, each `(is an object,
/// key)`: members that are not objects first; then the preferred keys
/// (`name`, `version`, `lockfileVersion`, `resolved`, `integrity`,
/// `requires`, `packages`, `dependencies`) in that order; then the rest by
/// `localeCompare(_, 'en')`, ICU's collation. `None` where that collation
/// is not followed here: a key with a character other than ASCII letters,
/// digits and `_-!.@*/+~$` (whose ICU order, measured with Node.js 20, is
/// that one, before digits, before letters), or two keys that differ only
/// in case (ICU's tertiary level); and a key with an escape.
pub(crate) fn npm_key_order(a: (bool, &str), b: (bool, &str)) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    const PREFERRED: &[&str] = &[
        "name",
        "version",
        "lockfileVersion",
        "resolved",
        "integrity",
        "requires",
        "packages",
        "dependencies",
    ];
    const PUNCT: &str = "_-!.@*/+~$";
    if a.0 != b.0 {
        return Some(a.0.cmp(&b.0));
    }
    let (a, b) = (a.1, b.1);
    match (
        PREFERRED.iter().position(|k| *k == a),
        PREFERRED.iter().position(|k| *k == b),
    ) {
        (Some(i), Some(j)) => return Some(i.cmp(&j)),
        (Some(_), None) => return Some(Ordering::Less),
        (None, Some(_)) => return Some(Ordering::Greater),
        (None, None) => {}
    }
    let weight = |c: char| -> Option<usize> {
        if let Some(i) = PUNCT.find(c) {
            Some(i)
        } else if c.is_ascii_digit() {
            Some(PUNCT.len() + (c as usize - '0' as usize))
        } else if c.is_ascii_alphabetic() {
            Some(PUNCT.len() + 10 + (c.to_ascii_lowercase() as usize - 'a' as usize))
        } else {
            None
        }
    };
    let wa: Option<Vec<usize>> = a.chars().map(weight).collect();
    let wb: Option<Vec<usize>> = b.chars().map(weight).collect();
    match wa?.cmp(&wb?) {
        Ordering::Equal if a != b => None,
        o => Some(o),
    }
}

/// Whether `bundle install`, run by a Bundler of release line `line`
/// (`"2.3"`, `"2.6"`: see `effects::lock_kept`), leaves `Gemfile.lock` of a
/// directory as it is. Bundler writes the lock only when the text it
/// generates differs from it (`Definition#lock`), and with every
/// dependency locked and the platform it runs on among the lock's it
/// takes the lock's specs as the resolution (`nothing_changed?`), so the
/// text it generates is the lock's own, written in its format. That holds
/// when:
/// - there is no `gems.rb` or `gems.locked` (another Gemfile) and no
///   `.bundle/config` (settings);
/// - the Gemfile is only `source` rubygems.org, `gem` lines with literal
///   names, requirements and `require:`/`group:` options, `group ... do`
///   blocks and comments ([`simple_gemfile`]): nothing it runs (`gemspec`,
///   `path:`, `git:`, `platforms:`, `eval_gemfile`) is taken; a `ruby`
///   line only with Bundler 2.3, naming a plain version or reading one
///   from a file of the directory by its literal name
///   ([`gemfile_ruby_file_read`]), with the lock's `RUBY VERSION` that
///   very version;
/// - the lock is one rubygems.org `GEM` section, `PLATFORMS`,
///   `DEPENDENCIES` and an optional `BUNDLED WITH` of release line `line`,
///   in Bundler's format (specs by full name, each dependency and
///   requirement list in Bundler's order, a final newline), its specs all
///   for every platform (no `-PLATFORM` version), each reached from the
///   Gemfile's gems and each dependency locked, its `DEPENDENCIES` the
///   Gemfile's gems;
/// - `PLATFORMS` lists `x86_64-linux` and `aarch64-linux` (the platform of
///   an amd64 or arm64 build host: one Bundler does not find is added, and
///   whether the platform needs other specs is the gem index's to say),
///   and only platform names measured to be kept.
///
/// Measured (Bundler 2.3.7, 2.3.15, 2.6.7; the gems installed, and with
/// 2.3.15 and 2.6.7 downloaded too, from a local mirror of rubygems.org
/// holding newer versions and a platform variant): such locks were left
/// as they are, with `--jobs`, `--retry`, `--without`, `--local`, `--quiet`,
/// `BUNDLE_WITHOUT` or `bundle config set without` too, whatever their
/// `BUNDLED WITH` of those lines; one without a final newline, with its
/// platforms, dependencies or specs out of order, an unused spec, a
/// dependency written `(>= 0)`, a remote without its final `/`, a `BUNDLED
/// WITH` of Bundler 1 or (2.3) a `x86_64-linux-gnu` platform was written
/// anew, and one whose dependencies differ from the Gemfile's was resolved
/// again (from the index, which would rewrite it).
pub fn bundler_lock_kept(
    name: &str,
    file: impl Fn(&str) -> Option<Option<String>>,
    line: &str,
) -> bool {
    if name != "Gemfile.lock"
        || ["gems.rb", "gems.locked", ".bundle/config"]
            .iter()
            .any(|f| file(f) != Some(None))
    {
        return false;
    }
    let (Some(Some(lock)), Some(Some(gemfile))) = (file(name), file("Gemfile")) else {
        return false;
    };
    let Some((deps, ruby)) = simple_gemfile(&gemfile) else {
        return false;
    };
    let version = match ruby {
        None => None,
        Some(RubyRequirement::Version(v)) => Some(v),
        // The file's text, stripped: only a plain version and a final
        // newline (`.strip` and `.chomp` give the same).
        Some(RubyRequirement::File(f)) => {
            let Some(Some(t)) = file(&f) else {
                return false;
            };
            let v = t.strip_suffix('\n').unwrap_or(&t);
            if !plain_ruby_version(v) {
                return false;
            }
            Some(v.to_string())
        }
    };
    bundler_lock_canonical(&lock, &deps, line, version.as_deref())
}

/// What a Gemfile's `ruby` line asks for: a version written in it, or the
/// text of a file of its directory.
enum RubyRequirement {
    Version(String),
    File(String),
}

/// A Ruby version as Bundler compares it exactly (`3.1.2`: digits and
/// dots, at most three numbers).
fn plain_ruby_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// The file a Gemfile's `ruby` line reads with `File.read` (the text of a
/// file of the Gemfile's directory, stripped: `File.read(".ruby-version")`,
/// `File.read(File.join(__dir__, ".ruby-version"))`,
/// `File.read(File.expand_path(".ruby-version", __dir__))`, then
/// `.strip` or `.chomp`), a plain name; `None` for any other line.
pub(crate) fn gemfile_ruby_file_read(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("ruby ")?.trim_start();
    let rest = rest
        .strip_suffix(".strip")
        .or_else(|| rest.strip_suffix(".chomp"))?;
    let inner = rest.strip_prefix("File.read(")?.strip_suffix(')')?.trim();
    let name_lit = if let Some(a) = inner
        .strip_prefix("File.join(__dir__,")
        .and_then(|a| a.strip_suffix(')'))
    {
        a.trim()
    } else if let Some(a) = inner
        .strip_prefix("File.expand_path(")
        .and_then(|a| a.strip_suffix(", __dir__)"))
    {
        a.trim()
    } else {
        inner
    };
    let name = name_lit
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .or_else(|| {
            name_lit
                .strip_prefix('\'')
                .and_then(|n| n.strip_suffix('\''))
        })?;
    (!name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
    .then_some(name)
}

/// A Gemfile's gems (name, requirements as the lock writes them) and its
/// `ruby` line.
type SimpleGemfile = (BTreeMap<String, Vec<String>>, Option<RubyRequirement>);

/// The gems of a Gemfile that is only a rubygems.org `source`, one `ruby`
/// line at the top (a plain version, or the text of a file,
/// [`gemfile_ruby_file_read`]), `gem` lines
/// (a quoted name, quoted requirements, then `require:`/`group:`/`groups:`
/// options), `group ... do` / `end` blocks, blank lines and whole-line
/// comments: each gem's name and requirements as Bundler writes them in
/// the lock (`op version`, sorted then reversed), by name, and its `ruby`
/// line. `None` for anything else, and for a gem named twice.
fn simple_gemfile(text: &str) -> Option<SimpleGemfile> {
    let mut gems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut source = false;
    let mut depth = 0usize;
    let mut ruby: Option<RubyRequirement> = None;
    for raw in text.lines() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        // One `ruby` line at the top level: a plain version, or the text
        // of a file.
        if l.starts_with("ruby ") && depth == 0 {
            if ruby.is_some() {
                return None;
            }
            if let Some(f) = gemfile_ruby_file_read(l) {
                ruby = Some(RubyRequirement::File(f.to_string()));
                continue;
            }
            let v = ruby_string(l.strip_prefix("ruby ")?.trim())?;
            let v = v.strip_prefix("= ").unwrap_or(&v);
            if !plain_ruby_version(v) {
                return None;
            }
            ruby = Some(RubyRequirement::Version(v.to_string()));
            continue;
        }
        // A comment after code, or an interpolation, is not read.
        if l.contains(['#', '\\', '(', ')', '{', '}', ';']) {
            return None;
        }
        if let Some(rest) = l.strip_prefix("source ") {
            let url = ruby_string(rest.trim())?;
            if source
                || depth > 0
                || !gems.is_empty()
                || !matches!(
                    url.as_str(),
                    "https://rubygems.org" | "https://rubygems.org/"
                )
            {
                return None;
            }
            source = true;
        } else if l == "end" {
            depth = depth.checked_sub(1)?;
        } else if let Some(rest) = l.strip_prefix("group ") {
            let groups = rest.strip_suffix(" do")?;
            if !groups.split(',').all(|g| ruby_symbol(g.trim())) {
                return None;
            }
            depth += 1;
        } else if let Some(rest) = l.strip_prefix("gem ") {
            if !source {
                return None;
            }
            let mut args = split_args(rest)?.into_iter();
            let name = ruby_string(args.next()?)?;
            if !is_gem_name(&name) || gems.contains_key(&name) {
                return None;
            }
            let mut reqs: Vec<String> = Vec::new();
            let mut options = false;
            for a in args {
                if let Some(r) = ruby_string(a) {
                    if options {
                        return None;
                    }
                    reqs.push(requirement_to_lock(&r)?);
                } else {
                    options = true;
                    let (key, value) = a.split_once(':')?;
                    let value = value.trim();
                    let ok = match key.trim() {
                        "require" => {
                            matches!(value, "false" | "true") || ruby_string(value).is_some()
                        }
                        "group" | "groups" => {
                            ruby_symbol(value)
                                || value
                                    .strip_prefix('[')
                                    .and_then(|v| v.strip_suffix(']'))
                                    .is_some_and(|v| v.split(',').all(|g| ruby_symbol(g.trim())))
                        }
                        _ => false,
                    };
                    if !ok {
                        return None;
                    }
                }
            }
            let n = reqs.len();
            reqs.sort();
            reqs.dedup();
            if reqs.len() != n {
                return None;
            }
            reqs.reverse();
            gems.insert(name, reqs);
        } else {
            return None;
        }
    }
    (source && depth == 0 && !gems.is_empty()).then_some((gems, ruby))
}

/// The comma-separated arguments of a call without parentheses; `None`
/// when a bracket is left open.
fn split_args(s: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0usize, None::<char>);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || quote.is_some() {
        return None;
    }
    out.push(s[start..].trim());
    Some(out)
}

/// The text of a Ruby string literal that holds only plain characters.
fn ruby_string(s: &str) -> Option<String> {
    let inner = s
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|r| r.strip_suffix('"')))?;
    inner
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " ._-~=<>!:/".contains(c))
        .then(|| inner.to_string())
}

/// Whether `s` is a plain symbol (`:development`).
fn ruby_symbol(s: &str) -> bool {
    s.strip_prefix(':')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Whether `s` is a gem name as Bundler writes it unchanged.
fn is_gem_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A version as RubyGems keeps its text (digits first, no `-`, which
/// RubyGems turns into `.pre.`, nor a platform).
fn is_plain_version(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
        && !s.ends_with('.')
        && !s.contains("..")
}

/// One requirement (`~> 5.15`, `>=1.0`, `2.1`) as the lock writes it
/// (`~> 5.15`, `>= 1.0`, `= 2.1`); `None` for another form and for
/// `>= 0`, which the lock leaves out.
fn requirement_to_lock(r: &str) -> Option<String> {
    let r = r.trim();
    let ops = ["~>", ">=", "<=", "!=", ">", "<", "="];
    let (op, version) = match ops.iter().find(|o| r.starts_with(**o)) {
        Some(op) => (*op, r[op.len()..].trim()),
        None => ("=", r),
    };
    if !is_plain_version(version) || (op == ">=" && version.split('.').all(|p| p == "0")) {
        return None;
    }
    Some(format!("{op} {version}"))
}

/// A dependency of a lock: its name and requirements (as the lock writes
/// them).
type LockDependency = (String, Vec<String>);

/// A dependency line of the lock (`name` or `name (reqs)`) split into its
/// name and requirements, or `None` when it is not written as Bundler
/// writes one (requirements in its order, none `>= 0`, no `!`).
fn lock_dependency(s: &str) -> Option<LockDependency> {
    let (name, reqs) = match s.split_once(" (") {
        None => (s, Vec::new()),
        Some((n, r)) => {
            let r = r.strip_suffix(')')?;
            let reqs: Vec<String> = r.split(", ").map(|x| x.to_string()).collect();
            (n, reqs)
        }
    };
    if !is_gem_name(name) {
        return None;
    }
    let mut canonical: Vec<String> = Vec::new();
    for q in &reqs {
        let c = requirement_to_lock(q)?;
        if &c != q {
            return None;
        }
        canonical.push(c);
    }
    let mut sorted = canonical.clone();
    sorted.sort();
    sorted.dedup();
    sorted.reverse();
    (sorted == canonical).then(|| (name.to_string(), canonical))
}

/// A dependency as the lock writes it.
fn dependency_to_lock(name: &str, reqs: &[String]) -> String {
    if reqs.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({})", reqs.join(", "))
    }
}

/// Whether `lock` is the lock Bundler of release `line` writes for a
/// Gemfile of gems `deps` when it takes the lock's specs: see
/// [`bundler_lock_kept`]. The lock is parsed, its text generated as
/// Bundler's `LockfileGenerator` does and compared byte for byte.
fn bundler_lock_canonical(
    lock: &str,
    deps: &BTreeMap<String, Vec<String>>,
    line: &str,
    ruby: Option<&str>,
) -> bool {
    const PLATFORMS: &[&str] = &[
        "aarch64-linux",
        "arm64-darwin",
        "java",
        "ruby",
        "x64-mingw-ucrt",
        "x86_64-darwin",
        "x86_64-linux",
        "x86_64-linux-musl",
    ];
    if !lock.ends_with('\n') || lock.contains('\r') {
        return false;
    }
    let mut sections: Vec<&str> = lock.trim_end_matches('\n').split("\n\n").collect();
    // A Gemfile's `ruby VERSION`: Bundler (2.3) keeps the lock's `RUBY
    // VERSION` when the Gemfile's version matches it (`Definition`:
    // `@unlock[:ruby]` is `RubyVersion#diff`, nil then), and writes it
    // back as it is; without one, or with another version, it resolves
    // again (measured with Bundler 2.3.15: kept; without the section, or
    // with 3.1.1 locked for a Gemfile's 3.1.2, it went to the index). The
    // section stands after DEPENDENCIES (`LockfileGenerator`).
    match ruby {
        None => {}
        Some(v) => {
            if line != "2.3" || sections.len() < 4 {
                return false;
            }
            let k = sections.len() - if sections.len() == 5 { 2 } else { 1 };
            let Some(locked) = sections[k].strip_prefix("RUBY VERSION\n   ruby ") else {
                return false;
            };
            let Some((version, patch)) = locked.split_once('p') else {
                return false;
            };
            if version != v || patch.is_empty() || !patch.chars().all(|c| c.is_ascii_digit()) {
                return false;
            }
            sections.remove(k);
        }
    }
    // DEPENDENCIES is compared as a whole with the text generated below.
    let (gem, platforms, bundled) = match sections.as_slice() {
        [g, p, _] => (*g, *p, None),
        [g, p, _, b] => (*g, *p, Some(*b)),
        _ => return false,
    };
    // Specs, by name: version and dependencies.
    let Some(spec_lines) = gem.strip_prefix("GEM\n  remote: https://rubygems.org/\n  specs:\n")
    else {
        return false;
    };
    let mut specs: BTreeMap<String, (String, Vec<LockDependency>)> = BTreeMap::new();
    let mut current: Option<String> = None;
    for l in spec_lines.lines() {
        if let Some(dep) = l.strip_prefix("      ") {
            let (Some(spec), Some((n, r))) = (current.as_ref(), lock_dependency(dep)) else {
                return false;
            };
            if let Some(s) = specs.get_mut(spec) {
                s.1.push((n, r));
            }
        } else if let Some(spec) = l.strip_prefix("    ") {
            let Some((n, v)) = spec.strip_suffix(')').and_then(|s| s.split_once(" (")) else {
                return false;
            };
            if !is_gem_name(n) || !is_plain_version(v) || n == "bundler" || specs.contains_key(n) {
                return false;
            }
            specs.insert(n.to_string(), (v.to_string(), Vec::new()));
            current = Some(n.to_string());
        } else {
            return false;
        }
    }
    let Some(platform_lines) = platforms.strip_prefix("PLATFORMS\n") else {
        return false;
    };
    let mut listed: Vec<&str> = Vec::new();
    for l in platform_lines.lines() {
        match l.strip_prefix("  ") {
            Some(p) if PLATFORMS.contains(&p) => listed.push(p),
            _ => return false,
        }
    }
    if !["x86_64-linux", "aarch64-linux"]
        .iter()
        .all(|p| listed.contains(p))
    {
        return false;
    }
    listed.sort_unstable();
    listed.dedup();
    if let Some(b) = bundled {
        let Some(version) = b.strip_prefix("BUNDLED WITH\n   ") else {
            return false;
        };
        let in_line = version
            .strip_prefix(line)
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|patch| !patch.is_empty() && patch.chars().all(|c| c.is_ascii_digit()));
        if !in_line {
            return false;
        }
    }
    // Every spec is reached from the Gemfile's gems, and every dependency
    // of one is locked.
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = deps.keys().map(|k| k.as_str()).collect();
    // (each with a locked version its requirements take: another makes
    // Bundler resolve again).
    let mut required: Vec<(&str, &[String])> = deps
        .iter()
        .map(|(n, r)| (n.as_str(), r.as_slice()))
        .collect();
    required.extend(
        specs
            .values()
            .flat_map(|(_, d)| d.iter().map(|(n, r)| (n.as_str(), r.as_slice()))),
    );
    for (n, reqs) in required {
        match specs.get(n) {
            Some((v, _)) if reqs.iter().all(|r| version_satisfies(v, r)) => {}
            _ => return false,
        }
    }
    while let Some(n) = todo.pop() {
        let Some((_, spec_deps)) = specs.get(n) else {
            return false;
        };
        if reached.insert(n) {
            todo.extend(spec_deps.iter().map(|(d, _)| d.as_str()));
        }
    }
    if reached.len() != specs.len() {
        return false;
    }
    // The text Bundler writes for it.
    let mut order: Vec<(String, &String)> = specs
        .iter()
        .map(|(n, (v, _))| (format!("{n}-{v}"), n))
        .collect();
    order.sort();
    let mut out = String::from("GEM\n  remote: https://rubygems.org/\n  specs:\n");
    for (_, n) in &order {
        let (v, spec_deps) = &specs[*n];
        out.push_str(&format!("    {n} ({v})\n"));
        let mut sorted: Vec<&LockDependency> = spec_deps.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        sorted.dedup_by(|a, b| a.0 == b.0);
        for (d, r) in sorted {
            out.push_str(&format!("      {}\n", dependency_to_lock(d, r)));
        }
    }
    out.push_str("\nPLATFORMS\n");
    for p in &listed {
        out.push_str(&format!("  {p}\n"));
    }
    out.push_str("\nDEPENDENCIES\n");
    for (n, r) in deps {
        out.push_str(&format!("  {}\n", dependency_to_lock(n, r)));
    }
    if let Some(v) = ruby {
        let locked = lock
            .split("\n\n")
            .find(|s| s.starts_with("RUBY VERSION\n"))
            .unwrap_or_default();
        // Checked above to be `ruby {v}p…`.
        debug_assert!(locked.contains(v));
        out.push_str(&format!("\n{}\n", locked.trim_end_matches('\n')));
    }
    if let Some(b) = bundled {
        out.push_str(&format!("\n{b}\n"));
    }
    out == lock
}

/// The numeric segments of a version (`None` for a prerelease or any
/// other form: not compared).
fn version_segments(v: &str) -> Option<Vec<u64>> {
    v.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

// RubyGems' order of two numeric versions (missing segments are zeros,
// as in PEP 440).
use super::pyproject::cmp as version_cmp;

/// Whether version `v` meets requirement `req` (`op version`, as
/// [`requirement_to_lock`] writes it). A prerelease on either side is not
/// taken.
fn version_satisfies(v: &str, req: &str) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some((op, r)) = req.split_once(' ') else {
        return false;
    };
    let (Some(v), Some(r)) = (version_segments(v), version_segments(r)) else {
        return false;
    };
    let o = version_cmp(&v, &r);
    match op {
        "=" => o == Equal,
        "!=" => o != Equal,
        ">" => o == Greater,
        "<" => o == Less,
        ">=" => o != Less,
        "<=" => o != Greater,
        "~>" => {
            // `~> 5.15` is `>= 5.15, < 6`; `~> 5` is `>= 5, < 6`.
            let mut bump = r.clone();
            if bump.len() > 1 {
                bump.pop();
            }
            if let Some(last) = bump.last_mut() {
                *last += 1;
            }
            o != Less && version_cmp(&v, &bump) == Less
        }
        _ => false,
    }
}

#[cfg(test)]
mod npm_order_tests {

    #[test]
    fn deeply_nested_json_is_not_canonical_and_does_not_exhaust_the_stack() {
        let deep = format!(
            "{{\n  \"a\": {}{}\n}}\n",
            "[".repeat(200_000),
            "]".repeat(200_000)
        );
        assert!(!super::npm_canonical_json(&deep));
        assert!(super::npm_canonical_json("{\n  \"a\": [\n    1\n  ]\n}\n"));
    }

    #[test]
    fn semver_subset_reads_as_node_semver_or_not_at_all() {
        let yes = [
            ("2.1.3", "2.1.3"),
            ("2.1.3", "^2.1.0"),
            ("2.9.0", "^2"),
            ("2.1.3", "~2.1.1"),
            ("0.2.5", "^0.2.3"),
            ("0.0.3", "^0.0.3"),
            ("1.5.0", ">=1.2.3 <2.0.0"),
            ("3.0.0", "^1.0.0 || ^3.0.0"),
            ("1.2.9", "1.2.x"),
            ("4.0.0", "*"),
            ("4.0.0", ""),
            ("1.3.0", "~>1.3"),
        ];
        for (v, r) in yes {
            assert_eq!(semver_satisfies(v, r), Some(true), "{v} {r}");
        }
        let no = [
            ("3.0.0", "^2.1.0"),
            ("2.0.9", "^2.1.0"),
            ("0.3.0", "^0.2.3"),
            ("0.0.4", "^0.0.3"),
            ("2.2.0", "~2.1.1"),
            ("2.0.0", ">=1.2.3 <2.0.0"),
            ("1.3.0", "1.2.x"),
        ];
        for (v, r) in no {
            assert_eq!(semver_satisfies(v, r), Some(false), "{v} {r}");
        }
        for (v, r) in [
            ("1.0.0-beta.1", "^1.0.0-beta.0"),
            ("1.0.0", "latest"),
            ("1.0.0", "npm:other@1.0.0"),
            ("1.0.0", "github:a/b"),
            ("1.0.0", "1.0.0 - 2.0.0"),
            ("1.0.0", ">= latest"),
            ("1.0.0", ">="),
            ("1.2.0", ">=01.2"),
            ("1.2.0", "^01.2"),
            ("1.2.0", "<=1.02"),
            ("1.2.0", ">==1.2.0 || >=0"),
            ("1.2.0", "vv1.2.0"),
            ("1.2.0", "==1.2.0"),
            ("1.2.0", ">=v"),
            ("1.2.0", "^v"),
            ("01.0.0", "1.0.0"),
        ] {
            assert_eq!(semver_satisfies(v, r), None, "{v} {r}");
        }
    }

    /// node-semver drops the blanks between an operator and its version
    /// (express 4's tree holds `>= 2.1.2 < 3` and `>= 1.5.0 < 2`) and
    /// reads a comparison with a partial version as a bound of whole
    /// releases. Each range with the versions that satisfy it, as the
    /// `semver.satisfies` of npm 11 (semver 7) answered; every other
    /// version does not.
    #[test]
    fn semver_spaced_and_partial_comparators() {
        const VERSIONS: &[&str] = &[
            "1.2.3", "1.5.0", "1.9.9", "2.0.0", "2.0.9", "2.1.0", "2.1.2", "2.1.9", "2.2.0",
            "2.9.9", "3.0.0", "0.4.7", "0.5.0",
        ];
        let cases = [
            (">= 2.1.2 < 3", "2.1.2 2.1.9 2.2.0 2.9.9"),
            (
                "< 3",
                "1.2.3 1.5.0 1.9.9 2.0.0 2.0.9 2.1.0 2.1.2 2.1.9 2.2.0 2.9.9 0.4.7 0.5.0",
            ),
            ("<2", "1.2.3 1.5.0 1.9.9 0.4.7 0.5.0"),
            (">=2.1", "2.1.0 2.1.2 2.1.9 2.2.0 2.9.9 3.0.0"),
            (
                "<=2.1",
                "1.2.3 1.5.0 1.9.9 2.0.0 2.0.9 2.1.0 2.1.2 2.1.9 0.4.7 0.5.0",
            ),
            (">2.1", "2.2.0 2.9.9 3.0.0"),
            (">2", "3.0.0"),
            (
                "<=2",
                "1.2.3 1.5.0 1.9.9 2.0.0 2.0.9 2.1.0 2.1.2 2.1.9 2.2.0 2.9.9 0.4.7 0.5.0",
            ),
            (">=2", "2.0.0 2.0.9 2.1.0 2.1.2 2.1.9 2.2.0 2.9.9 3.0.0"),
            ("<2.1", "1.2.3 1.5.0 1.9.9 2.0.0 2.0.9 0.4.7 0.5.0"),
            ("=2.1", "2.1.0 2.1.2 2.1.9"),
            ("~ 1.2.3", "1.2.3"),
            ("^ 1.2.3", "1.2.3 1.5.0 1.9.9"),
            (
                ">=1.x",
                "1.2.3 1.5.0 1.9.9 2.0.0 2.0.9 2.1.0 2.1.2 2.1.9 2.2.0 2.9.9 3.0.0",
            ),
            (
                ">= v1.2.3",
                "1.2.3 1.5.0 1.9.9 2.0.0 2.0.9 2.1.0 2.1.2 2.1.9 2.2.0 2.9.9 3.0.0",
            ),
            (
                ">=*",
                "1.2.3 1.5.0 1.9.9 2.0.0 2.0.9 2.1.0 2.1.2 2.1.9 2.2.0 2.9.9 3.0.0 0.4.7 0.5.0",
            ),
            (
                "<=*",
                "1.2.3 1.5.0 1.9.9 2.0.0 2.0.9 2.1.0 2.1.2 2.1.9 2.2.0 2.9.9 3.0.0 0.4.7 0.5.0",
            ),
            (">= 1.5.0 < 2", "1.5.0 1.9.9"),
            (">=0.4 <0.5", "0.4.7"),
            (">2.x", "3.0.0"),
            ("<=1.2.x", "1.2.3 0.4.7 0.5.0"),
            ("<*", ""),
            (">*", ""),
        ];
        for (range, yes) in cases {
            let yes: Vec<&str> = yes.split_whitespace().collect();
            for v in VERSIONS {
                assert_eq!(
                    semver_satisfies(v, range),
                    Some(yes.contains(v)),
                    "{v} {range}"
                );
            }
        }
    }
    use super::semver_satisfies;

    /// Review: a chain of nested entries, each needing packages found
    /// only at the top, walked up by building each path anew, took cubic
    /// time (8 s for 400 levels of 30 such edges, a 1.6 MB lock).
    #[test]
    fn a_deep_chain_of_nested_entries_is_checked_in_linear_steps() {
        let (depth, wide) = (400, 30);
        let tops: serde_json::Map<String, serde_json::Value> = (0..wide)
            .map(|k| (format!("b{k}"), serde_json::json!("1.0.0")))
            .collect();
        let entry = |deps: serde_json::Map<String, serde_json::Value>| serde_json::json!({"version": "1.0.0", "dependencies": deps});
        let mut packages = serde_json::Map::new();
        let mut root_deps = tops.clone();
        root_deps.insert("a".into(), serde_json::json!("1.0.0"));
        packages.insert("".into(), serde_json::json!({"dependencies": root_deps}));
        for k in 0..wide {
            packages.insert(
                format!("node_modules/b{k}"),
                serde_json::json!({"version": "1.0.0"}),
            );
        }
        let mut path = "node_modules/a".to_string();
        for level in 0..depth {
            let mut deps = tops.clone();
            if level + 1 < depth {
                deps.insert("a".into(), serde_json::json!("1.0.0"));
            }
            packages.insert(path.clone(), entry(deps));
            path.push_str("/node_modules/a");
        }
        let start = std::time::Instant::now();
        assert!(super::npm_tree_holds(&packages));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    use super::npm_key_order;
    use std::cmp::Ordering::{Greater, Less};

    /// Orders measured with Node.js 20 (`localeCompare(_, 'en')`) and
    /// json-stringify-nice.
    #[test]
    fn keys_sort_as_npm_writes_them() {
        let s = |a: &str, b: &str| npm_key_order((false, a), (false, b));
        // ICU: `@` before digits, `_` before `-`, case ignored first.
        assert_eq!(s("node_modules/@scope/x", "node_modules/1x"), Some(Less));
        assert_eq!(s("a_b", "a-b"), Some(Less));
        assert_eq!(s("a-b", "a.b"), Some(Less));
        assert_eq!(s("a/b", "a1"), Some(Less));
        assert_eq!(s("ab", "B"), Some(Less));
        assert_eq!(s("ab", "abc"), Some(Less));
        assert_eq!(s("ab", "aB"), None);
        assert_eq!(s("a b", "c"), None);
        // Preferred keys first, in their order; objects after the rest.
        assert_eq!(s("version", "resolved"), Some(Less));
        assert_eq!(s("integrity", "dev"), Some(Less));
        assert_eq!(s("license", "dev"), Some(Greater));
        assert_eq!(
            npm_key_order((true, "dependencies"), (false, "license")),
            Some(Greater)
        );
        assert_eq!(
            npm_key_order((true, "dependencies"), (true, "engines")),
            Some(Less)
        );
    }
}

#[cfg(test)]
mod go_sum_tests {
    /// The byte-wise split of ASCII lines is `split_whitespace`'s.
    #[test]
    fn fields_split_as_split_whitespace() {
        let lines = [
            "",
            " ",
            "a",
            "a b",
            "a b c",
            "  a\tb \t c  ",
            "a b c d",
            "a b c \r",
            "a\x0bb\x0cc",
            "a\x0bb\x0cc\x0bd",
            "a\u{a0}b c",
            "a\u{2003}b c",
            "a\u{2003}b\u{85}c",
            "é b c",
            "a b c\u{3000}",
            "a b c\u{3000}d",
            "a\x1fb c",
        ];
        for l in lines {
            let want: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(
                super::Fields::new(l, false).collect::<Vec<_>>(),
                want,
                "{l:?}"
            );
            if l.is_ascii() {
                assert_eq!(
                    super::Fields::new(l, true).collect::<Vec<_>>(),
                    want,
                    "{l:?}"
                );
            }
        }
    }

    /// Both sums of every requirement, at its version or its
    /// replacement's; a sum that is not `h1:`, or a line of four words,
    /// is none.
    #[test]
    fn go_sum_needs_both_sums_of_every_requirement() {
        let gomod = "module m\n\ngo 1.22\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/b v1.2.0 // indirect\n)\n\nreplace example.com/b => example.com/c v0.1.0\n";
        let full = "example.com/a v1.0.0 h1:x=\nexample.com/a v1.0.0/go.mod h1:y=\nexample.com/c v0.1.0 h1:z=\nexample.com/c v0.1.0/go.mod h1:w=\n";
        assert!(super::go_sum_kept(gomod, full));
        assert!(super::go_sum_kept(gomod, &full.replace('\n', "\r\n")));
        for missing in [
            "example.com/a v1.0.0 h1:x=\n",
            "example.com/a v1.0.0/go.mod h1:y=\n",
            "example.com/c v0.1.0/go.mod h1:w=\n",
        ] {
            assert!(!super::go_sum_kept(gomod, &full.replace(missing, "")));
        }
        assert!(!super::go_sum_kept(
            gomod,
            &full.replace("v1.0.0/go.mod h1:y=", "v1.0.0/go.mod h2:y=")
        ));
        assert!(!super::go_sum_kept(
            gomod,
            &full.replace("v1.0.0 h1:x=", "v1.0.0 h1:x= extra")
        ));
        // The replaced module's own sums are not what is needed.
        assert!(!super::go_sum_kept(
            gomod,
            &full.replace("example.com/c", "example.com/b")
        ));
    }
}
