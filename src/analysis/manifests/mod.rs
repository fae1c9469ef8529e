//! Dependency manifests: which file names are manifests, and what the
//! manifests of a hoisted install say about what it reads beyond them
//! (install scripts, local paths, workspaces, modules). Every finding is a
//! reason a hoist is not `Safe`; a manifest that cannot be read proves
//! nothing either way and is reported by the caller's other checks.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::context::Context;
use crate::analysis::dotnet;
use crate::analysis::fxhash::FxMap;
use crate::analysis::gemspec;
use crate::analysis::gradle;
use crate::analysis::kb::{DependencyScripts, ManifestCheck, PnpmTen};

mod bundler_lock;
mod node_locks;

pub use bundler_lock::*;
pub use node_locks::*;

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
            scripts,
            optimize,
            autoloader,
            plugins,
            dev,
        } => composer_problems(
            ctx,
            &join,
            ComposerRun {
                scripts: *scripts,
                optimize: *optimize,
                autoloader: *autoloader,
                plugins: *plugins,
                dev: *dev,
            },
            &mut out,
        ),
        ManifestCheck::Requirements(files) => {
            requirements_problems(ctx, to_context, files, &mut out)
        }
        ManifestCheck::PackageList {
            file,
            comments_stripped,
            manager,
        } => out.extend(package_list_problems(
            ctx,
            to_context,
            file,
            *comments_stripped,
            *manager,
        )),
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
        ManifestCheck::Pdm { no_self } => pdm_problems(ctx, &join, *no_self, &mut out),
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
        ManifestCheck::Maven(files) => {
            maven_problems(ctx, dir, &mut out);
            named_file_problems(ctx, files, to_context, maven_settings_problems, &mut out);
        }
        ManifestCheck::Gradle(files) => {
            gradle_problems(ctx, dir, &mut out);
            named_file_problems(
                ctx,
                files,
                to_context,
                gradle::named_script_problems,
                &mut out,
            );
        }
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
/// no dependency at all. A package npm's lock marks whose script is
/// known to read nothing of the project ([`KNOWN_SCRIPTS`]) does not
/// count.
fn dependency_script_problems(
    ctx: &Context,
    dir: &str,
    join: &dyn Fn(&str) -> String,
    deps: DependencyScripts,
    package: &serde_json::Value,
) -> Vec<String> {
    const RUNS: &str =
        "which may read and write any file of the project (`--ignore-scripts` turns them off)";
    match deps {
        DependencyScripts::Off => return Vec::new(),
        DependencyScripts::Pnpm {
            ten: Some(kind),
            frozen,
        } => {
            if no_dependencies(ctx, join, package) {
                return Vec::new();
            }
            return match pnpm_ten_problems(ctx, join, package, kind, frozen) {
                Ok(known) => known_script_guards(ctx, dir, &known),
                Err(problems) => problems,
            };
        }
        DependencyScripts::Other | DependencyScripts::Pnpm { .. } => {
            return (!no_dependencies(ctx, join, package) && !berry_scripts_off(ctx, join))
                .then(|| format!("the install runs the install scripts of the packages it installs, {RUNS}, and its lock does not say which packages have one"))
                .into_iter()
                .collect();
        }
        DependencyScripts::Npm { .. } => {}
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
    // An optional package npm does not install on Linux runs no script
    // there, unless a setting makes npm install for another platform: the
    // project's `.npmrc` (the hoist copies it), the line or the
    // environment, or a user's or global configuration an earlier unit
    // writes (hoist::npm_platform_config_problem).
    let platform_set = matches!(deps, DependencyScripts::Npm { platform: true, .. })
        || ctx.read(&join(".npmrc")).is_none_or(|t| {
            t.lines()
                .map(npmrc_key)
                .any(|k| ["os", "cpu", "libc"].contains(&k.to_ascii_lowercase().as_str()))
        }) && ctx.ships(&join(".npmrc"));
    let mut known: Vec<&KnownScript> = Vec::new();
    let mut known_at: Vec<(&KnownScript, &str)> = Vec::new();
    // The project's own install script is said from package.json (its
    // `scripts`, its binding.gyp), which keeps the install in place
    // already: the lock's mark of it says the same again (scout72).
    let root_said = !lifecycle_scripts(package, "").is_empty()
        || gyp_build(ctx, &join("binding.gyp")).is_some();
    let unknown = packages.iter().find(|(key, p)| {
        if key.is_empty() && root_said {
            return false;
        }
        if matches!(
            p["hasInstallScript"],
            serde_json::Value::Null | serde_json::Value::Bool(false)
        ) {
            return false;
        }
        if !platform_set && not_on_linux(p) {
            return false;
        }
        match known_script(key, p) {
            Some(k) => {
                known.push(k);
                known_at.push((k, key.as_str()));
                false
            }
            None => true,
        }
    });
    if let Some((name, _)) = unknown {
        let who = if name.is_empty() {
            "the project itself".to_string()
        } else {
            format!("`{name}`")
        };
        return vec![format!(
            "{lock} lists {who} with an install script, which npm runs during the install and which may read and write any file of the project (`--ignore-scripts` turns it off)"
        )];
    }
    // What a known script loads or runs was read in the registry's
    // packages of those names and versions only; a package whose presence
    // lets it take a path not read (sharp's build from source) keeps the
    // install in place.
    let mut out = Vec::new();
    // Not an alias: the registry's package of the name node resolves, in
    // a version read.
    let read = |key: &str, p: &serde_json::Value, last: &str, range: &str| {
        registry_entry(key, p).is_some_and(|(name, version)| {
            name == last && node_locks::semver_satisfies(version, range) == Some(true)
        })
    };
    // A package loaded by its name: the entry node finds from where the
    // script's package is installed, which must be in the lock.
    for (k, at) in &known_at {
        for (n, range) in k.loads.iter().filter(|(n, _)| !n.ends_with('*')) {
            match resolved_in_lock(packages, at, n) {
                Some((key, p)) if read(key, p, n, range) => {}
                Some((key, _)) => out.push(format!(
                    "{lock} lists `{key}`, which the install script of `{}` loads, and only the registry's `{n}` {range} was read",
                    k.name
                )),
                None => out.push(format!(
                    "{lock} lists no `{n}` where the install script of `{}` (`{at}`) loads it",
                    k.name
                )),
            }
        }
    }
    for k in &known {
        for (key, p) in packages {
            let Some((_, last)) = key.rsplit_once("node_modules/") else {
                continue;
            };
            let named = |pattern: &str| match pattern.strip_suffix('*') {
                Some(prefix) => last.starts_with(prefix),
                None => pattern == last,
            };
            // Packages of a family (its platform binaries), each of which
            // it may load.
            if let Some((n, range)) = k.loads.iter().find(|(n, _)| n.ends_with('*') && named(n))
                && !read(key, p, last, range)
            {
                out.push(format!(
                    "{lock} lists `{key}`, which the install script of `{}` loads, and only the registry's `{n}` {range} was read",
                    k.name
                ));
            }
            if k.absent.iter().any(|n| named(n)) {
                out.push(format!(
                    "{lock} lists `{key}`, with which the install script of `{}` may build from source, reading what dockreorder does not follow",
                    k.name
                ));
            }
        }
    }
    // A script that reads the project's package.json in INIT_CWD (and may
    // write its node_modules there) reads what the hoist copies only when
    // npm installs where it runs.
    if let DependencyScripts::Npm {
        elsewhere: true, ..
    } = deps
        && let Some(k) = known.iter().find(|k| k.init_cwd)
    {
        out.push(format!(
            "the install script of `{}` reads package.json in the directory npm runs in, which is not the one it installs",
            k.name
        ));
    }
    // A setting that makes a known script do what was not read, in the
    // project's `.npmrc` (the line, the environment and the user's or
    // global configuration: hoist::npm_platform_config_problem).
    let rc = join(".npmrc");
    for k in &known {
        let Some(setting) = k.gated_by else { continue };
        let named = |key: &str| key.to_ascii_lowercase().replace('_', "-") == setting;
        if ctx.ships(&rc)
            && ctx
                .read(&rc)
                .is_none_or(|t| t.lines().map(npmrc_key).any(named))
        {
            out.push(format!(
                "{rc} may set `{setting}`, under which the install script of `{}` does what was not examined",
                k.name
            ));
        }
    }
    if !out.is_empty() {
        return out;
    }
    known_script_guards(ctx, dir, &known)
}

/// What the known scripts `known` may still read of the project: the
/// `node_modules` of the directories above it, a file in the temporary
/// directory the context may ship.
fn known_script_guards(ctx: &Context, dir: &str, known: &[&KnownScript]) -> Vec<String> {
    let mut out = Vec::new();
    // A script that resolves modules the way node does also looks in the
    // `node_modules` of every directory above the project: one the
    // context ships there is written by the broad copy.
    if let Some(k) = known.iter().find(|k| k.resolves_upward) {
        let mut at = dir;
        while !at.is_empty() && at != "." {
            at = at.rsplit_once('/').map_or("", |(p, _)| p);
            let nm = ctx_join(at, "node_modules").unwrap_or_else(|| "node_modules".to_string());
            if ships_tree(ctx, &nm) {
                out.push(format!(
                    "the context ships {nm}/, where the install script of `{}` may look for its packages",
                    k.name
                ));
            }
        }
    }
    // A file the script writes in the system's temporary directory
    // (TMPDIR may put that in the project): one of that name the copy
    // ships would be written over by it in the original order only.
    for k in known {
        let Some(temp) = k.temp_file else { continue };
        let named = |p: &String| p.rsplit('/').next() == Some(temp);
        if ctx.files().is_none_or(|f| f.keys().any(named))
            || ctx.whole().iter().any(named)
            || !ctx.unknown_dirs().is_empty()
        {
            out.push(format!(
                "the install script of `{}` writes `{temp}` in the temporary directory, and the context may ship a file of that name",
                k.name
            ));
        }
    }
    out
}

/// A dependency's install script known to read and write nothing of the
/// project (see [`KNOWN_SCRIPTS`]).
struct KnownScript {
    name: &'static str,
    /// The versions read (node-semver range).
    range: &'static str,
    /// Whether it resolves packages as node does (`require.resolve`),
    /// which also looks in the `node_modules` of the directories above.
    resolves_upward: bool,
    /// The file it writes in the system's temporary directory.
    temp_file: Option<&'static str>,
    /// Whether it links one installed file to a second name (a hard
    /// link): a write in place through one name in a later `RUN` leaves
    /// the other as installed (see [`npm_lock_links`]).
    links: bool,
    /// The packages it loads or runs, as the lock names them (`X*`: any
    /// name that starts with `X`), with the versions read (node-semver
    /// range).
    loads: &'static [(&'static str, &'static str)],
    /// Packages whose presence in the lock lets it take a path not read.
    absent: &'static [&'static str],
    /// Whether it reads package.json in INIT_CWD, the directory npm runs
    /// in (and may write in its node_modules).
    init_cwd: bool,
    /// An npm setting without which it does nothing
    /// (`build-from-source`): set wherever npm may take it from, the
    /// script does what was not read (a build from source).
    gated_by: Option<&'static str>,
}

/// Install scripts read in every version of the range and found to read
/// no file of the project and to write only inside their own package
/// and the system's temporary directory. Each was read from the npm
/// registry's tarballs (`npm pack`), every version of the range, each
/// distinct script read in full (December 2026). What a script reads of
/// its environment is npm's (`npm_config_*`, from the settings the
/// hoisted COPY brings) or is among npm's `path_env` in the knowledge
/// base, so a value naming a project file keeps the install in place.
/// Only a registry package of that name counts (see [`known_script`]).
const KNOWN_SCRIPTS: &[KnownScript] = &[
    // postinstall `node install.js` (0.17.0-0.28.2: 93 versions, 19
    // distinct scripts, differing in the version string, formatting,
    // platform names and, from 0.28.0, a check of the downloaded
    // binary). It finds the platform's binary package
    // (@esbuild/linux-x64 ...) with `require.resolve` (NODE_PATH, and
    // node_modules upward), else installs it with `npm install` in a
    // directory inside its own package or downloads it from the
    // registry, then replaces its own bin/esbuild with a hard link to
    // the binary (not under yarn, as npm_config_user_agent says) and
    // runs it for its version. ESBUILD_BINARY_PATH, when set and the
    // file exists, is written into its own bin/esbuild and lib/main.js
    // instead (the variable is among npm's path_env).
    KnownScript {
        name: "esbuild",
        range: ">=0.17.0 <=0.28.2",
        resolves_upward: true,
        temp_file: None,
        links: true,
        loads: &[("@esbuild/*", ">=0.17.0 <=0.28.2")],
        absent: &[],
        init_cwd: false,
        gated_by: None,
    },
    // postinstall: prints a banner on stdout unless ADBLOCK, CI-like
    // variables, DISABLE_OPENCOLLECTIVE, OPEN_SOURCE_CONTRIBUTOR or
    // npm_config_loglevel (silent, error, warn) say not to, and (from
    // 3.3.0) records the banner in `core-js-banners` in the system's
    // temporary directory to show it once in three minutes
    // (npm_config_color picks the colours). 3.1.0-3.51.0: 141 versions
    // with a script, 8 distinct once the banner's text and comments are
    // set aside (3.0.0 and 3.0.1 have none).
    KnownScript {
        name: "core-js",
        range: ">=3.1.0 <=3.51.0",
        resolves_upward: false,
        temp_file: Some("core-js-banners"),
        links: false,
        loads: &[],
        absent: &[],
        init_cwd: false,
        gated_by: None,
    },
    // install `node install/check` (0.33.0-0.34.5: 12 versions, 5
    // distinct check scripts and 8 distinct lib/libvips.js, which it
    // loads; 0.35 has no install script). It decides whether to build
    // from source: not when
    // SHARP_IGNORE_GLOBAL_LIBVIPS is set; yes when
    // SHARP_FORCE_GLOBAL_LIBVIPS or npm_config_build_from_source is, or
    // when `pkg-config --modversion vips-cpp` (run through /bin/sh, with
    // Homebrew's directory when `brew` is on PATH and PKG_CONFIG_PATH
    // before the system's) finds a libvips at least as new as its
    // package.json asks. It loads semver (computation only) and
    // detect-libc (2.0.2-2.1.2 read: /usr/bin/ldd, /proc/self/exe,
    // `getconf` and `ldd --version`, node's report) from node_modules
    // upward. Building needs `require('node-addon-api')` and
    // `require('node-gyp')` to succeed (else it only logs), then runs
    // `node-gyp rebuild` in its own src/, which compiles its own sources
    // with the compiler, make and python, and the headers named by
    // PKG_CONFIG_PATH, CFLAGS and the like (among npm's path_env) or
    // found in node_modules upward. A lock listing node-gyp or
    // node-addon-api keeps the install in place. Writes only its own
    // src/build (when building). 0.34.5's check exits with an error
    // where the others build, and `npm run build` then runs the same
    // build (`node install/build.js`, which fails without node-gyp and
    // node-addon-api) in sharp's own directory: npm takes the package's
    // directory as its prefix, and its walk up for a workspace root
    // reads the package.json above but cannot match a directory in
    // node_modules (@npmcli/map-workspaces ignores `**/node_modules/**`).
    KnownScript {
        name: "sharp",
        range: ">=0.33.0 <=0.34.5",
        resolves_upward: true,
        temp_file: None,
        links: false,
        loads: &[
            ("detect-libc", ">=2.0.2 <=2.1.2"),
            ("semver", ">=7.0.0 <=7.8.6"),
        ],
        absent: &["node-gyp", "node-addon-api"],
        init_cwd: false,
        gated_by: None,
    },
    // postinstall `node postinstall.js` (1.3.0-1.16.22: 263 versions,
    // one script once formatting is set aside, the later ones also
    // skipping a project named @swc/workspace; 10 distinct binding.js,
    // which it loads). It reads the name in package.json of INIT_CWD,
    // the directory npm runs in, and stops when it is swc's own or
    // cannot be read. It loads its native binding (binding.js tells
    // glibc from musl by /usr/bin/ldd, `ldd --version` or node's
    // report, then loads the platform package @swc/core-linux-x64-gnu
    // and the like, or @swc/core-wasm32-wasi under NAPI_RS_FORCE_WASI)
    // and asks it for its target. Only when that fails, SWC_BINARY_PATH
    // is unset and @swc/wasm does not resolve (node_modules upward), it
    // runs `npm install` of @swc/wasm at its own version in a directory
    // inside its own package, moves the result to node_modules in
    // INIT_CWD and removes the directory. A lock listing
    // @swc/core-wasm32-wasi keeps the install in place.
    KnownScript {
        name: "@swc/core",
        range: ">=1.3.0 <=1.16.22",
        resolves_upward: true,
        temp_file: None,
        links: false,
        loads: &[("@swc/core-*", ">=1.3.0 <=1.16.22")],
        absent: &["@swc/core-wasm32-wasi"],
        init_cwd: true,
        gated_by: None,
    },
    // install `node scripts/build-from-source.js` (2.5.0-2.6.0: 5
    // versions, 2 distinct scripts differing in formatting only; 2.2.0 to
    // 2.4.1 have none, the 2.0 and 2.1 lines ran node-gyp-build and are
    // not included). It does nothing unless `npm_config_build_from_source`
    // is `true`, when it runs `node-gyp rebuild` on its own binding.gyp
    // (not read): the setting anywhere npm may take it from keeps the
    // install in place. Read 2026-12-06 (h-scout58 read the same).
    KnownScript {
        name: "@parcel/watcher",
        range: ">=2.5.0 <=2.6.0",
        resolves_upward: false,
        temp_file: None,
        links: false,
        loads: &[],
        absent: &[],
        init_cwd: false,
        gated_by: Some("build-from-source"),
    },
];

/// The lock's entry node loads for `require(name)` from the package
/// installed at `at` (a lock key): its own `node_modules`, then that of
/// each directory above that is not itself a `node_modules`, up to the
/// project's; `None` when the lock lists none there.
fn resolved_in_lock<'a>(
    packages: &'a serde_json::Map<String, serde_json::Value>,
    at: &str,
    name: &str,
) -> Option<(&'a str, &'a serde_json::Value)> {
    let mut dir = at;
    loop {
        let base = dir.rsplit('/').next().unwrap_or(dir);
        if base != "node_modules" {
            let cand = if dir.is_empty() {
                format!("node_modules/{name}")
            } else {
                format!("{dir}/node_modules/{name}")
            };
            if let Some((k, v)) = packages.get_key_value(&cand) {
                return Some((k.as_str(), v));
            }
        }
        if dir.is_empty() {
            return None;
        }
        dir = dir.rsplit_once('/').map_or("", |(p, _)| p);
    }
}

/// The known script of the lock's entry `key`: a registry package
/// ([`registry_entry`]) of a name and version [`KNOWN_SCRIPTS`] holds.
fn known_script(key: &str, p: &serde_json::Value) -> Option<&'static KnownScript> {
    let (name, version) = registry_entry(key, p)?;
    KNOWN_SCRIPTS
        .iter()
        .find(|k| k.name == name && node_locks::semver_satisfies(version, k.range) == Some(true))
}

/// The name and version of the lock's entry `key` when it is a registry
/// package: its `resolved`, when the lock keeps one, is the npm
/// registry's tarball of that name and version, whose integrity the lock
/// gives and npm checks; not linked, not bundled in another. An alias is
/// taken by the name its entry gives.
fn registry_entry<'a>(key: &'a str, p: &'a serde_json::Value) -> Option<(&'a str, &'a str)> {
    let (_, last) = key.rsplit_once("node_modules/")?;
    let name = p["name"].as_str().unwrap_or(last);
    if p["link"] != serde_json::Value::Null || p["inBundle"] != serde_json::Value::Null {
        return None;
    }
    let version = p["version"].as_str()?;
    let base = name.rsplit_once('/').map_or(name, |(_, b)| b);
    let registry = format!("https://registry.npmjs.org/{name}/-/{base}-{version}.tgz");
    if !p["resolved"].is_null() && p["resolved"].as_str() != Some(registry.as_str())
        || !p["integrity"].as_str()?.starts_with("sha512-")
    {
        return None;
    }
    Some((name, version))
}

/// Whether npm installs the lock's entry `p` on Linux: an optional
/// package whose `os` names only other systems (fsevents: `darwin`) is
/// not. npm 10.8.2's reify checks each optional package's platform (the
/// lock's entry is its package: `os`, `cpu`, `libc`, against npm's `os`,
/// `cpu` and `libc` settings, `--force` ignored) before it extracts it,
/// puts one that fails on its trash list, and runs no script of a
/// package on that list; npm 11 marks it inert and leaves it out of the
/// install. Measured with BuildKit on node:20-slim: fsevents 2.3.3's
/// `node-gyp rebuild` did not run (no `node_modules/fsevents`), and the
/// install hoisted above `COPY . .` built the same image.
fn not_on_linux(p: &serde_json::Value) -> bool {
    let Some(os) = p["os"].as_array() else {
        return false;
    };
    p["optional"] == serde_json::Value::Bool(true)
        && !os.is_empty()
        && os.iter().all(|o| {
            o.as_str()
                .is_some_and(|o| !o.starts_with('!') && !["linux", "any", "win32"].contains(&o))
        })
}

/// The install scripts of an npm lock whose running npm's settings decide
/// ([`npm_lock_setting_scripts`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SettingScripts {
    /// An optional package npm does not install on Linux
    /// ([`not_on_linux`]) has one: npm's platform settings (`os`, `cpu`,
    /// `libc`) decide whether it runs.
    pub os_limited: bool,
    /// A package whose known script does something only under a setting
    /// ([`KnownScript::gated_by`]) has one.
    pub gated: bool,
    /// A package npm installs on Linux has one: npm runs it with the
    /// environment its settings make (`node-options` becomes the script's
    /// `NODE_OPTIONS`, a `--require` of a project file among them;
    /// `script-shell` runs it).
    pub runs: bool,
}

/// What the npm lock `text` lists whose install script npm's settings
/// decide (see [`SettingScripts`]); nothing when it cannot be read.
pub(crate) fn npm_lock_setting_scripts(text: &str) -> SettingScripts {
    let mut out = SettingScripts::default();
    let Some(packages) = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["packages"].as_object().cloned())
    else {
        return out;
    };
    for (key, p) in &packages {
        if matches!(
            p["hasInstallScript"],
            serde_json::Value::Null | serde_json::Value::Bool(false)
        ) {
            continue;
        }
        out.os_limited |= not_on_linux(p);
        out.runs |= !not_on_linux(p);
        out.gated |= known_script(key, p).is_some_and(|k| k.gated_by.is_some());
    }
    out
}

/// Whether an npm install from the lock `text` (npm-shrinkwrap.json or
/// package-lock.json) may link an installed file to a second name: the
/// lock lists a package with an install script that links (esbuild's
/// makes its `bin/esbuild` a hard link to the platform package's binary;
/// measured with BuildKit: `RUN npm ci && ./build.sh`, the script
/// appending to `node_modules/@esbuild/linux-x64/bin/esbuild`, split in
/// two left `node_modules/esbuild/bin/esbuild` as installed), or one not
/// known, or the lock cannot be read.
pub(crate) fn npm_lock_links(text: &str) -> bool {
    let Some(packages) = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["packages"].as_object().cloned())
    else {
        return true;
    };
    packages.iter().any(|(key, p)| {
        !matches!(
            p["hasInstallScript"],
            serde_json::Value::Null | serde_json::Value::Bool(false)
        ) && known_script(key, p).is_none_or(|k| k.links)
    })
}

/// Whether the context ships anything at or under `rel`.
fn ships_tree(ctx: &Context, rel: &str) -> bool {
    let prefix = format!("{rel}/");
    ctx.files().is_some_and(|f| {
        f.range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }) || ctx
        .whole()
        .iter()
        .any(|w| *w == rel || w.starts_with(&prefix))
}

/// Why pnpm 10, which the stage runs as launched ([`PnpmTen`],
/// [`DependencyScripts::Pnpm`]), may still run a dependency's install
/// script; `Ok` with the known scripts it may run (its allowed packages,
/// all in [`KNOWN_SCRIPTS`]) when nothing else may.
///
/// pnpm 10 (its code read in 10.0.0 and 10.34.9, the newest 10.x:
/// `createAllowBuildFunction` and the default it gets) runs a
/// dependency's `preinstall`, `install`, `postinstall` (and
/// `node-gyp rebuild` for a `binding.gyp`) only when
/// `dangerouslyAllowAllBuilds` is on, or the package is named in
/// `onlyBuiltDependencies` (or the JSON file `onlyBuiltDependenciesFile`
/// names; `allowBuilds` keys set to `true` feed it from 10.26), or,
/// with neither, `neverBuiltDependencies` is set (10.0.0 then builds
/// every package when it is empty). These come from package.json's
/// `pnpm` field, pnpm-workspace.yaml, the `.npmrc` files (the project's
/// is read here; the user's and global ones are `effects::PNPM_CONFIG`,
/// refused when written), `npm_config_*`/`pnpm_config_*` variables
/// (refused by `effects::pnpm_ten_runs` and `kb::pnpm_setting_var`) and
/// options (`--config.*`, any setting's name: only known options count,
/// `kb::pnpm_frozen_plain`). The project's own scripts still run (checked
/// by [`lifecycle_scripts`]), and before 10.26 a git-hosted dependency's
/// `prepare` ran whatever the settings (pnpm/pnpm#10288).
///
/// So: package.json's `packageManager` must name an exact release of
/// pnpm 10 (corepack's shim runs it; npm's pnpm 10 switches to it,
/// `manage-package-manager-versions` being on by default: measured,
/// pnpm 10.12.1 ran 9.15.9 for `pnpm@9.15.9`, which ran msw's
/// postinstall), or be absent when npm installed the pnpm 10 (which then
/// runs itself); no `devEngines` may name another; the install is
/// `--frozen-lockfile` and its version 9 lock lists registry packages
/// only (no git-hosted, tarball or directory resolution); and the
/// settings allow no package but those of [`KNOWN_SCRIPTS`] at locked
/// versions of their ranges, unpatched.
fn pnpm_ten_problems(
    ctx: &Context,
    join: &dyn Fn(&str) -> String,
    package: &serde_json::Value,
    kind: PnpmTen,
    frozen: bool,
) -> Result<Vec<&'static KnownScript>, Vec<String>> {
    const LISTS: &[&str] = &["onlyBuiltDependencies", "allowBuilds"];
    const ALLOW: &[&str] = &[
        "onlyBuiltDependenciesFile",
        "neverBuiltDependencies",
        "dangerouslyAllowAllBuilds",
    ];
    const ALLOW_RC: &[&str] = &[
        "only-built-dependencies",
        "only-built-dependencies-file",
        "never-built-dependencies",
        "dangerously-allow-all-builds",
        "allow-builds",
        "onlyBuiltDependencies",
        "onlyBuiltDependenciesFile",
        "neverBuiltDependencies",
        "dangerouslyAllowAllBuilds",
        "allowBuilds",
    ];
    let mut out = Vec::new();
    let rel = join("package.json");
    match (&package["packageManager"], kind) {
        (serde_json::Value::Null, PnpmTen::Npm) => {}
        (serde_json::Value::String(pm), _) if pnpm_exact_ten(pm) => {}
        (serde_json::Value::String(pm), _) if pnpm_major(pm).is_some_and(|m| m < 10) => {
            out.push(format!(
                "{rel} names `{pm}` as its `packageManager`, which {}: before pnpm 10 it runs every dependency's install scripts, and its lock does not say which have one",
                if kind == PnpmTen::Corepack {
                    "corepack runs"
                } else {
                    "pnpm switches to"
                }
            ))
        }
        _ => out.push(format!(
            "{rel} does not name an exact release of pnpm 10 as its `packageManager`{}",
            if kind == PnpmTen::Corepack {
                ", which corepack runs"
            } else {
                ", which pnpm switches to"
            }
        )),
    }
    if !package["devEngines"].is_null() {
        out.push(format!(
            "{rel} sets `devEngines`, which may name another pnpm"
        ));
    }
    // The packages the settings let build, by name.
    let mut allowed: Vec<(String, String)> = Vec::new();
    let mut entries = |v: &serde_json::Value, at: String, out: &mut Vec<String>| match v {
        serde_json::Value::Null => {}
        serde_json::Value::Array(a) => {
            for e in a {
                match e.as_str() {
                    Some(e) => allowed.push((e.to_string(), at.clone())),
                    None => out.push(format!("{at} lists something else than a package name")),
                }
            }
        }
        serde_json::Value::Object(m) => {
            for k in m.keys() {
                allowed.push((k.clone(), at.clone()));
            }
        }
        _ => out.push(format!("{at} is neither a list nor a map")),
    };
    for k in LISTS {
        entries(&package["pnpm"][k], format!("{rel}'s `pnpm.{k}`"), &mut out);
    }
    for k in ALLOW {
        if !package["pnpm"][k].is_null() {
            out.push(format!(
                "{rel} sets `pnpm.{k}`, which lets packages' scripts run"
            ));
        }
    }
    let ws = join("pnpm-workspace.yaml");
    let mut ws_patches = None;
    if let Some(text) = ctx.read(&ws) {
        match serde_yaml::from_str::<serde_json::Value>(&text) {
            Ok(y) => {
                for k in LISTS {
                    entries(&y[k], format!("{ws}'s `{k}`"), &mut out);
                }
                for k in ALLOW {
                    if !y[k].is_null() {
                        out.push(format!("{ws} sets `{k}`, which lets packages' scripts run"));
                    }
                }
                ws_patches = Some(y["patchedDependencies"].clone());
            }
            Err(_) => out.push(format!("{ws} is not valid YAML")),
        }
    } else if ctx.ships(&ws) {
        out.push(format!("{ws} cannot be read"));
    }
    let rc = join(".npmrc");
    if let Some(text) = ctx.read(&rc) {
        for key in text.lines().map(npmrc_key) {
            let key = key.trim_end_matches("[]");
            if ALLOW_RC.contains(&key) {
                out.push(format!(
                    "{rc} sets `{key}`, which lets packages' scripts run"
                ));
            }
        }
    } else if ctx.ships(&rc) {
        out.push(format!("{rc} cannot be read"));
    }
    // Each allowed package must be one whose script is known; an entry
    // `name@versions` counts as the name (every version of it).
    let mut known: Vec<&'static KnownScript> = Vec::new();
    for (entry, at) in &allowed {
        let name = match entry.get(1..).and_then(|r| r.find('@')) {
            Some(i) => &entry[..=i],
            None => entry.as_str(),
        };
        match KNOWN_SCRIPTS.iter().find(|k| k.name == name) {
            Some(k) => {
                if !known.iter().any(|x| x.name == k.name) {
                    known.push(k);
                }
            }
            None => out.push(format!(
                "{at} lets `{entry}` run its install scripts, which may read and write any file of the project"
            )),
        }
    }
    // A patch may change a known package's script.
    for patches in [
        Some(package["pnpm"]["patchedDependencies"].clone()),
        ws_patches,
    ]
    .into_iter()
    .flatten()
    {
        if let Some(m) = patches.as_object() {
            for key in m.keys() {
                let name = match key.get(1..).and_then(|r| r.find('@')) {
                    Some(i) => &key[..=i],
                    None => key.as_str(),
                };
                if known.iter().any(|k| k.name == name) {
                    out.push(format!(
                        "`{key}` is patched, and the patch may change its install script"
                    ));
                }
            }
        }
    }
    if !frozen {
        out.push(
            "the install is not `--frozen-lockfile` with known options alone: pnpm may resolve packages its lock does not list (pnpm before 10.26 runs a git-hosted package's `prepare` whatever the settings), and an option may set any setting (`--dangerously-allow-all-builds`)".to_string(),
        );
    }
    out.extend(pnpm_lock_problems(ctx, &join("pnpm-lock.yaml"), &known));
    if out.is_empty() { Ok(known) } else { Err(out) }
}

/// Whether a `packageManager` value names an exact release of pnpm 10
/// (`pnpm@10.12.1`, with or without corepack's `+sha…` hash).
/// The major version of a `packageManager` naming pnpm (`pnpm@9.4.0`,
/// `pnpm@9.15.9+sha512.…`), when it names one.
fn pnpm_major(pm: &str) -> Option<u64> {
    pm.strip_prefix("pnpm@")?.split('.').next()?.parse().ok()
}

fn pnpm_exact_ten(pm: &str) -> bool {
    let Some(v) = pm.strip_prefix("pnpm@10.") else {
        return false;
    };
    let v = v.split_once('+').map_or(v, |(v, _)| v);
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// What pnpm's version 9 lock `lock` (the frozen install installs what
/// it lists) says against the install running no unexamined script:
/// every package must come from the registry (its resolution an
/// `integrity` alone: a git-hosted one is prepared, its `prepare` run,
/// by pnpm before 10.26 whatever the settings), and every package of a
/// known script's name (`known`) must be at a version of its range with
/// a `sha512` integrity.
fn pnpm_lock_problems(ctx: &Context, lock: &str, known: &[&KnownScript]) -> Vec<String> {
    let Some(text) = ctx.ships(lock).then(|| ctx.read(lock)).flatten() else {
        return vec![format!("{lock} cannot be read")];
    };
    let Ok(y) = serde_yaml::from_str::<serde_json::Value>(&text) else {
        return vec![format!("{lock} is not valid YAML")];
    };
    if y["lockfileVersion"].as_str() != Some("9.0") {
        return vec![format!("{lock} is not a version 9.0 lock")];
    }
    let mut out = Vec::new();
    let packages = match &y["packages"] {
        serde_json::Value::Null => return out,
        serde_json::Value::Object(m) => m,
        _ => return vec![format!("{lock} has `packages` that are not a map")],
    };
    for (key, p) in packages {
        let integrity = p["resolution"]["integrity"].as_str();
        let only_integrity = p["resolution"].as_object().is_some_and(|r| r.len() == 1);
        if integrity.is_none() || !only_integrity {
            out.push(format!(
                "{lock} lists `{key}` from elsewhere than the registry (pnpm before 10.26 runs a git-hosted package's `prepare` whatever the settings)"
            ));
            continue;
        }
        let Some(i) = key.get(1..).and_then(|r| r.find('@')) else {
            out.push(format!("{lock} lists `{key}` with no version"));
            continue;
        };
        let (name, version) = (&key[..=i], &key[i + 2..]);
        if let Some(k) = known.iter().find(|k| k.name == name)
            && (node_locks::semver_satisfies(version, k.range) != Some(true)
                || !integrity.is_some_and(|i| i.starts_with("sha512-")))
        {
            out.push(format!(
                "{lock} lists `{key}`, whose install script was not examined"
            ));
        }
        // What a known script loads (esbuild's platform packages), at a
        // version read.
        for k in known {
            let loaded = k.loads.iter().find(|(n, _)| match n.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => *n == name,
            });
            if let Some((_, range)) = loaded
                && node_locks::semver_satisfies(version, range) != Some(true)
            {
                out.push(format!(
                    "{lock} lists `{key}`, which the install script of `{}` loads, and only {range} was read",
                    k.name
                ));
            }
        }
    }
    // Checked in npm's lock only: what a script loads by its name from
    // where node finds it, the packages whose presence changes its path,
    // the project it reads in INIT_CWD; and an override may give a loaded
    // name another package.
    for k in known {
        let by_name = k.loads.iter().any(|(n, _)| !n.ends_with('*'));
        if by_name || !k.absent.is_empty() || k.init_cwd || k.gated_by.is_some() {
            out.push(format!(
                "the install script of `{}` was examined under npm's layout only",
                k.name
            ));
        }
    }
    if !known.is_empty() && !y["overrides"].is_null() {
        out.push(format!(
            "{lock} has overrides, which may give a package a known install script loads another package"
        ));
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
    out.extend(dependency_script_problems(ctx, dir, join, deps, &v));
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
    // pnpm loads its pnpmfile (code) for every command, the fetch too
    // (review 51, measured with pnpm 9.15.4: a `.pnpmfile.cjs` writing
    // /app/hooked.txt ran in the original's fetch, not in the hoisted
    // one's, and the images differed). pnpm 10 also reads `.pnpmfile.mjs`.
    for name in [".pnpmfile.cjs", ".pnpmfile.mjs"] {
        let pnpmfile = join(name);
        if ctx.ships(&pnpmfile) {
            out.push(format!(
                "{pnpmfile} is code pnpm runs before the fetch, which may read or write any file"
            ));
        }
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
    // A boolean: npm writes registry packages' entries without `resolved`
    // (npm docs, config).
    "omit-lockfile-registry-resolved",
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
    "allowBuilds",
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
    "allowBuilds",
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

/// What of a composer install its options decide (see
/// [`ManifestCheck::ComposerScripts`]).
#[derive(Debug, Clone, Copy)]
struct ComposerRun {
    scripts: bool,
    optimize: bool,
    autoloader: bool,
    plugins: bool,
    dev: bool,
}

/// composer: install and autoload scripts (unless `--no-scripts`: Composer's
/// install command then tells its event dispatcher to run no script of the
/// root package, while the listeners plugins register still run, which is
/// the `plugins` check's business); classmap/files autoload, and
/// PSR-0/PSR-4 autoload when the install builds a class map from the
/// sources (`optimize`, or `optimize-autoloader`/`classmap-authoritative`
/// in the project's config), unless it writes no autoloader; path
/// repositories; plugins it installs and runs.
fn composer_problems(
    ctx: &Context,
    join: &dyn Fn(&str) -> String,
    run: ComposerRun,
    out: &mut Vec<String>,
) {
    let ComposerRun {
        scripts: run_scripts,
        optimize,
        autoloader,
        plugins,
        dev,
    } = run;
    let Some(v) = read_json(ctx, &join("composer.json"), out) else {
        return;
    };
    if let Some(scripts) = v["scripts"].as_object().filter(|_| run_scripts) {
        for k in scripts.keys() {
            if k.contains("install")
                || k.contains("autoload")
                || k.contains("update")
                || k.starts_with("pre-")
                || k.starts_with("post-")
            {
                out.push(format!(
                    "{} declares {} `{k}` script",
                    join("composer.json"),
                    article(k)
                ));
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
                "{} autoloads {} `{key}`, {how}",
                join("composer.json"),
                article(key)
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
    // Files Composer opens at start-up, before it downloads anything:
    // the TLS certificates (`cafile`, `capath`: its HTTP downloader is
    // set up for every command and throws "The configured cafile was not
    // valid or could not be read" when the file is missing;
    // StreamContextFactory::getTlsDefaults), named relative to the
    // project or anywhere.
    for key in ["cafile", "capath"] {
        if v["config"].get(key).is_some() {
            out.push(format!(
                "{} sets `{key}`, a file composer opens that the copy does not bring",
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
        // A plugin (type `composer-plugin`, or the older
        // `composer-installer`) runs its code inside the install, and may
        // read and write any file of the project (Composer docs, plugins
        // and `allow-plugins`; composer/installers puts packages where the
        // project's `installer-paths` say). Measured with composer 2.5.5: a
        // plugin that reads a file of the working directory read none
        // when the install was moved above the copy shipping it.
        let sections: &[&str] = if dev {
            &["packages", "packages-dev"]
        } else {
            &["packages"]
        };
        let plugin = sections
            .iter()
            .filter_map(|k| lock[*k].as_array())
            .flatten()
            .find(|p| {
                matches!(
                    p["type"].as_str(),
                    Some("composer-plugin" | "composer-installer")
                )
            });
        if let Some(p) = plugin.filter(|_| plugins) {
            out.push(format!(
                "{} installs the Composer plugin `{}`, whose code runs in the install",
                join("composer.lock"),
                p["name"].as_str().unwrap_or("?")
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

/// What keeps a package list (`xargs -a apt.txt apt-get install -y`,
/// `apk add $(cat apk.txt)`; [`ManifestCheck::PackageList`]) from being
/// the plain install of the names it holds, copied from the context
/// first: a file that is not the context's (`to_context` gives none: it
/// is not where the copy put it, or an earlier instruction wrote it), not
/// shipped, reached through a link (the copy ships the link, which the
/// image resolves, not the context) or not readable; or a word that is
/// not a package name of the manager. The words are what both spellings
/// make of the text: split at blanks and newlines (xargs and the shell's
/// field splitting alike), `#` lines dropped only when `grep -v '^#'`
/// drops them. A name is a Debian package name (Debian Policy 5.6.1:
/// `[a-z0-9][a-z0-9+.-]+`), with apt-get(8)'s `:ARCH` and `=VERSION`
/// (a version of the archive); for apk a name (`[a-z0-9][a-z0-9_+.-]*`)
/// with apk(8)'s `@TAG` and a version constraint (`=`, `~`, `<`, `>`).
/// Nothing else: no path or file name (`./x.deb`, `/tmp/y.apk`, a
/// `/RELEASE` that names a directory as well), no glob (the shell would
/// expand it against the working directory, which the broad copy fills),
/// no quote or backslash (xargs takes them), no option.
fn package_list_problems(
    ctx: &Context,
    to_context: &dyn Fn(&str) -> Option<String>,
    file: &str,
    comments_stripped: crate::analysis::shell::Comments,
    manager: crate::analysis::kb::ListManager,
) -> Vec<String> {
    let Some(rel) = to_context(file) else {
        return vec![format!(
            "the package list `{file}` is not a file the build context puts there"
        )];
    };
    if !ctx.ships(&rel) {
        return vec![format!(
            "the package list `{rel}` is not in the build context"
        )];
    }
    if ctx.through_symlink(&rel) {
        return vec![format!(
            "the package list `{rel}` is a symbolic link (or below one) in the build context"
        )];
    }
    let Some(text) = ctx.read(&rel) else {
        return vec![format!("the package list `{rel}` cannot be read")];
    };
    let mut out = Vec::new();
    for line in text.split('\n') {
        if comments_stripped.drops(line) {
            continue;
        }
        for word in line.split([' ', '\t']).filter(|w| !w.is_empty()) {
            if !list_package_name(word, manager) {
                out.push(format!(
                    "`{word}` in the package list `{rel}` is not a package name"
                ));
            }
        }
    }
    out
}

/// Whether a word of a package list is a package name of `manager` alone
/// (see [`package_list_problems`]).
fn list_package_name(word: &str, manager: crate::analysis::kb::ListManager) -> bool {
    use crate::analysis::kb::ListManager;
    let name_char = |c: char, extra: &str| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c) || extra.contains(c)
    };
    let starts = |n: &str| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    let version = |v: &str| {
        !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+~:-_".contains(c))
    };
    match manager {
        ListManager::Apt => {
            let (name, ver) = match word.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (word, None),
            };
            let (name, arch) = match name.split_once(':') {
                Some((n, a)) => (n, Some(a)),
                None => (name, None),
            };
            name.len() >= 2
                && starts(name)
                && name.chars().all(|c| name_char(c, ""))
                && !is_package_file(name)
                && arch.is_none_or(|a| {
                    !a.is_empty()
                        && a.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                })
                && ver.is_none_or(version)
        }
        ListManager::Apk => {
            let cut = word.find(['=', '~', '<', '>']).unwrap_or(word.len());
            let (name, constraint) = word.split_at(cut);
            let (name, tag) = match name.split_once('@') {
                Some((n, t)) => (n, Some(t)),
                None => (name, None),
            };
            let constraint = constraint.trim_start_matches(['=', '~', '<', '>']);
            // apk add reads any word holding `.apk` anywhere as a package
            // file (apk-tools' add applet: `strstr(arg, ".apk")`), named
            // relative to where it runs.
            !word.contains(".apk")
                && starts(name)
                && name.chars().all(|c| name_char(c, "_"))
                && !is_package_file(name)
                && tag.is_none_or(|t| {
                    !t.is_empty()
                        && t.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                })
                && (cut == word.len() || version(constraint))
        }
    }
}

/// A name a package manager may take for a package file rather than a
/// package of its sources.
fn is_package_file(name: &str) -> bool {
    [".deb", ".udeb", ".ddeb", ".dsc", ".changes", ".apk"]
        .iter()
        .any(|x| name.ends_with(x))
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
            out.push(format!("{rel} sets `{k}`, which may name a file"));
        }
    }
    out
}

/// uv: a requirement file named `pyproject.toml`, `setup.py` or
/// `setup.cfg`, on the command line or included, is the project's
/// metadata, which uv may build the project to read (uv docs, pip
/// interface: "Declaring dependencies"). A `pyproject.toml` named on the
/// command line whose requirements uv reads without building is followed
/// ([`super::uv::static_requirements_problems`]).
fn uv_pip_problems(
    ctx: &Context,
    to_context: &dyn Fn(&str) -> Option<String>,
    files: &[String],
    out: &mut Vec<String>,
) {
    let (metadata, plain): (Vec<String>, Vec<String>) =
        files.iter().cloned().partition(|f| is_project_metadata(f));
    for rel in metadata.iter().filter_map(|f| to_context(f)) {
        if rel == "pyproject.toml" || rel.ends_with("/pyproject.toml") {
            out.extend(super::uv::static_requirements_problems(ctx, &rel));
        } else {
            out.push(format!(
                "uv reads {rel} as the project's metadata, which it may build the project to know"
            ));
        }
    }
    for rel in walk_requirements(ctx, to_context, &plain).included {
        if is_project_metadata(&rel) {
            out.push(format!(
                "uv reads {rel} as the project's metadata, which it may build the project to know"
            ));
        }
    }
}

/// Whether a requirement file `uv pip` takes is a project's metadata
/// (by its name), not a requirements text.
pub(crate) fn is_project_metadata(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    ["pyproject.toml", "setup.py", "setup.cfg"].contains(&base)
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
                out.push(format!(
                    "{} has {} `{key}` dependency",
                    join("Pipfile"),
                    article(key)
                ));
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
/// `pdm install`/`pdm sync` (PDM 2.29.4, read: `project/core.py`,
/// `cli/commands/install.py`, `sync.py`, `cli/actions.py`, `cli/hooks.py`).
/// It reads, besides the copied pyproject.toml and pdm.lock:
/// - the project itself, built and installed (editable) unless `--no-self`
///   or the project is not a distribution (`Project.is_distribution`: no
///   `[project] name`, `[tool.pdm] package-type = "application"` or
///   `distribution = false`);
/// - the `pre_*`/`post_*` scripts of `[tool.pdm.scripts]`, which it runs as
///   hooks (`pre_invoke`, `pre_install`, `post_install`, `pre_lock`,
///   `post_lock`): any command;
/// - local dependencies and sources (`file:` URLs, `${PROJECT_ROOT}`,
///   `-e` lines, `name @ ./path`, a lock's `path`/`editable` entries);
/// - `[tool.pdm.options]`, extra options for its commands (another lock,
///   an override file);
/// - `pdm.toml` (or the older `.pdm.toml`), the project's settings, which
///   may name an index, a cache or an interpreter anywhere;
/// - the nearest parent's project when the directory has no pyproject.toml
///   (`find_project_root`).
fn pdm_problems(
    ctx: &Context,
    join: &dyn Fn(&str) -> String,
    no_self: bool,
    out: &mut Vec<String>,
) {
    let shipped = |rel: &str| ctx.ships(rel) || (ctx.files().is_none() && ctx.read(rel).is_some());
    let pyproject = join("pyproject.toml");
    if !shipped(&pyproject) {
        out.push(format!(
            "{pyproject} is not in the build context: pdm takes the project of a parent directory"
        ));
        return;
    }
    for settings in ["pdm.toml", ".pdm.toml"].map(join) {
        if shipped(&settings) {
            out.push(format!(
                "{settings} holds pdm settings, which may name an index, a cache or an interpreter in the project"
            ));
        }
    }
    let Some(table) = ctx
        .read(&pyproject)
        .and_then(|t| t.parse::<toml::Table>().ok())
    else {
        out.push(format!("{pyproject} cannot be read"));
        return;
    };
    let pdm = table
        .get("tool")
        .and_then(|t| t.get("pdm"))
        .and_then(toml::Value::as_table);
    let setting = |k: &str| pdm.and_then(|p| p.get(k));
    let named = table
        .get("project")
        .and_then(|p| p.get("name"))
        .is_some_and(|n| n.as_str().is_some_and(|n| !n.is_empty()));
    let distribution = named
        && match (setting("package-type"), setting("distribution")) {
            (Some(t), _) => t.as_str() != Some("application"),
            (None, Some(d)) => d.as_bool() != Some(false),
            (None, None) => true,
        };
    if distribution && !no_self {
        out.push(format!(
            "pdm also builds and installs the project itself from its files ({pyproject} makes it a distribution; `--no-self` skips it)"
        ));
    }
    if let Some(scripts) = setting("scripts").and_then(toml::Value::as_table) {
        for k in scripts.keys() {
            if k.starts_with("pre_") || k.starts_with("post_") {
                out.push(format!(
                    "{pyproject} declares {} `{k}` script, which pdm may run as a hook",
                    article(k)
                ));
            }
        }
    }
    if setting("options").is_some() {
        out.push(format!(
            "{pyproject} sets `[tool.pdm.options]`, options pdm adds to its commands"
        ));
    }
    let mut local = Vec::new();
    let mut sections: Vec<(&str, &toml::Value)> = Vec::new();
    if let Some(p) = table.get("project") {
        for k in ["dependencies", "optional-dependencies"] {
            if let Some(v) = p.get(k) {
                sections.push((k, v));
            }
        }
    }
    if let Some(g) = table.get("dependency-groups") {
        sections.push(("dependency-groups", g));
    }
    if let Some(p) = pdm {
        // The scripts are hooks (above); the build and version settings
        // are the project's own build, which `distribution` covers.
        for (k, v) in p
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "scripts" | "build" | "version"))
        {
            sections.push((k, v));
        }
    }
    for (k, v) in sections {
        pdm_local_values(v, "", &mut |key, s| {
            if pdm_local(key, s) {
                local.push(k.to_string());
            }
        });
    }
    local.dedup();
    for k in local {
        out.push(format!(
            "{pyproject} names a local dependency or source in `{k}`, read from the project's files"
        ));
    }
    let lock = join("pdm.lock");
    if shipped(&lock) {
        match ctx.read(&lock).and_then(|t| t.parse::<toml::Table>().ok()) {
            None => out.push(format!("{lock} cannot be read")),
            Some(t) => {
                let mut found = false;
                pdm_local_values(&toml::Value::Table(t), "", &mut |key, s| {
                    found |= pdm_local(key, s);
                });
                if found {
                    out.push(format!(
                        "{lock} locks a local or editable package, read from the project's files"
                    ));
                }
            }
        }
    }
}

/// Every string of `v` (with the key it is the value of, or `""` in an
/// array), and `"editable"` for a true `editable` and `"path"` for any
/// `path` key.
fn pdm_local_values(v: &toml::Value, key: &str, f: &mut dyn FnMut(&str, &str)) {
    match v {
        toml::Value::String(s) => f(key, s),
        toml::Value::Array(a) => a.iter().for_each(|x| pdm_local_values(x, key, f)),
        toml::Value::Table(t) => {
            for (k, x) in t {
                match (k.as_str(), x) {
                    ("path", _) => f("path", ""),
                    ("editable", toml::Value::Boolean(false)) => {}
                    ("editable", _) => f("editable", ""),
                    _ => pdm_local_values(x, k, f),
                }
            }
        }
        _ => {}
    }
}

/// Whether a value of a pdm manifest names something in the file system: a
/// `path` or `editable` key, a `file:` URL or `${PROJECT_ROOT}`, an
/// editable (`-e`) line, a direct reference to a path (`name @ ./x`), a
/// `url` or `git` that is not a remote URL.
fn pdm_local(key: &str, s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    matches!(key, "path" | "editable")
        || lower.contains("file:")
        || s.contains("PROJECT_ROOT")
        || s.trim_start().starts_with("-e")
        || s.split_once('@')
            .is_some_and(|(_, r)| r.trim_start().starts_with(['.', '/', '~', '\\']))
        || (matches!(key, "url" | "git") && !remote_url(s))
}

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
                if text.contains("requires-plugins") {
                    out.push(format!(
                        "{} may declare `requires-plugins`",
                        join("pyproject.toml")
                    ));
                }
                for key in ["path", "file", "develop"] {
                    if super::uv::assignments(&text, key).next().is_some() {
                        out.push(format!(
                            "{} has {} `{key}` dependency",
                            join("pyproject.toml"),
                            article(key)
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
/// is not remote; a `tool.poetry.requires-plugins` table (plugins poetry
/// installs into the project and runs); a PEP 621 `license = {file = …}`,
/// which poetry-core reads whenever it loads the project (measured with
/// poetry 2.5.1: `install --no-root` failed with "license file
/// '/app/LICENSE' not found" when only the manifests were copied). Other
/// keys (`readme`,
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
        // Poetry 2 installs the project's plugins into `.poetry/plugins` of
        // the project and runs them with every command (poetry docs,
        // plugins: "Project plugins"); a plugin's code may read any file,
        // and one may itself come from the project's files (`path`).
        if p.get("requires-plugins").is_some() {
            out.push(
                "declares `requires-plugins`, plugins poetry installs into the project and runs"
                    .to_string(),
            );
        }
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
                        out.push(format!(
                            "has {} `{key}` dependency (`{name}`)",
                            article(key)
                        ));
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
        && go_mod_replaces_with_directory(&text)
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

/// Whether go.mod text replaces a module with a local directory (see
/// [`replaces_with_directory`]).
pub(crate) fn go_mod_replaces_with_directory(text: &str) -> bool {
    text.lines().any(replaces_with_directory)
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
/// what cannot be followed is a problem. So are the launcher's project
/// files the hoist copies with `.mvn/**` when they may make Maven read
/// more (Maven docs, "Configuring Apache Maven"): `.mvn/maven.config`
/// holds command-line options and `.mvn/jvm.config` JVM options, either
/// of which may name a file (`--settings ci/settings.xml`,
/// `-Dmaven.repo.local=repo`, `-Djavax.net.ssl.trustStore=certs.jks`);
/// `.mvn/extensions.xml` loads core extensions, code that runs in every
/// build. Only options known to name no file pass
/// ([`maven_config_unknown_word`]).
fn maven_problems(ctx: &Context, dir: &str, out: &mut Vec<String>) {
    out.extend(maven_reactor(ctx, dir).1);
    let file = |f: &str| ctx_join(dir, f).unwrap_or_else(|| f.to_string());
    let extensions = file(".mvn/extensions.xml");
    if ctx.ships(&extensions) {
        out.push(format!(
            "{extensions} loads Maven core extensions, code that runs in the build"
        ));
    }
    for (name, jvm) in [(".mvn/maven.config", false), (".mvn/jvm.config", true)] {
        let f = file(name);
        if !ctx.ships(&f) {
            continue;
        }
        match ctx.read(&f) {
            None => out.push(format!("{f} cannot be read")),
            Some(text) => {
                if let Some(word) = maven_config_unknown_word(&text, jvm) {
                    out.push(format!("{f} passes `{word}`, which may name a file"));
                }
            }
        }
    }
}

/// The problems `check` finds in each file an option of the command names
/// (Maven's `-s`, Gradle's `-b`/`-I`; image paths, taken to the context
/// by `to_context`): a file the context ships but that cannot be read is
/// one.
fn named_file_problems(
    ctx: &Context,
    files: &[String],
    to_context: &dyn Fn(&str) -> Option<String>,
    check: fn(&str, &str) -> Vec<String>,
    out: &mut Vec<String>,
) {
    for rel in files.iter().filter_map(|f| to_context(f)) {
        match ctx.read(&rel) {
            Some(t) => out.extend(check(&rel, &t)),
            None if ctx.ships(&rel) => out.push(format!("{rel} cannot be read")),
            None => {}
        }
    }
}

/// A Maven settings (or toolchains) file the command names (`-s
/// settings.xml`): copied first, but a local repository it sets
/// (`<localRepository>`), a repository or mirror in the file system
/// (`file:` URLs), a property it expands (`${user.dir}`, `${env.X}`) or a
/// JDK home names files the copy does not bring (Maven docs, "Settings
/// Reference"; measured with Debian's Maven 3.8.7: see the soundness test
/// `maven_settings_naming_files_keep_the_resolve_in_place`).
fn maven_settings_problems(rel: &str, text: &str) -> Vec<String> {
    let text = strip_xml_comments(text);
    ["<localRepository", "file:", "${", "<jdkHome"]
        .iter()
        .filter(|n| text.contains(**n))
        .map(|n| format!("{rel} uses `{n}`, which may name files the copy does not bring"))
        .collect()
}

/// The first word of `.mvn/maven.config` (or, with `jvm`,
/// `.mvn/jvm.config`) not known to name no file: Maven's switches, its
/// options whose value is a plain word (`-T 4`, `-P ci`), `-D` properties
/// that are switches (`-DskipTests`, `=true`/`=false`) or known to name
/// no file (`-Drevision=1.2.0`), and, in jvm.config, heap and stack sizes,
/// `-XX:` switches and numeric settings, and `--add-opens`/`--add-exports`.
pub(crate) fn maven_config_unknown_word(text: &str, jvm: bool) -> Option<String> {
    const FLAGS: &[&str] = &[
        "-B",
        "--batch-mode",
        "-U",
        "--update-snapshots",
        "-e",
        "--errors",
        "-X",
        "--debug",
        "-q",
        "--quiet",
        "-V",
        "--show-version",
        "-ntp",
        "--no-transfer-progress",
        "-fae",
        "--fail-at-end",
        "-ff",
        "--fail-fast",
        "-fn",
        "--fail-never",
        "-o",
        "--offline",
        "-nsu",
        "--no-snapshot-updates",
        "-C",
        "--strict-checksums",
        "-c",
        "--lax-checksums",
        "-am",
        "--also-make",
        "-amd",
        "--also-make-dependents",
        "-N",
        "--non-recursive",
    ];
    const VALUES: &[&str] = &["-T", "--threads", "-P", "--activate-profiles", "--color"];
    const KEYS: &[&str] = &[
        "revision",
        "changelist",
        "sha1",
        "style.color",
        "file.encoding",
        "sun.jnu.encoding",
        "user.timezone",
        "user.language",
        "user.country",
        "java.awt.headless",
        "java.net.preferIPv4Stack",
        "java.net.preferIPv6Addresses",
        "https.protocols",
    ];
    const KEY_PREFIXES: &[&str] = &[
        "aether.connector.",
        "maven.wagon.http.",
        "maven.wagon.httpconnectionManager.",
        "org.slf4j.simpleLogger.",
    ];
    let plain = |v: &str| {
        !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.,:+!".contains(c))
    };
    let property = |p: &str| match p.split_once('=') {
        None => plain(p),
        Some((k, v)) => {
            plain(k)
                && (matches!(v, "true" | "false")
                    || (plain(v)
                        && (KEYS.contains(&k) || KEY_PREFIXES.iter().any(|x| k.starts_with(x)))))
        }
    };
    // A number or a size (`512m`, `75.0`): `-XX:ArchiveClassesAtExit=app.jsa`
    // or `-XX:CRaCCheckpointTo=cr` name files.
    let size = |v: &str| {
        let digits = v.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G', 't', 'T']);
        !digits.is_empty()
            && digits.starts_with(|c: char| c.is_ascii_digit())
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
    };
    let jvm_word = |w: &str| {
        if let Some(v) = ["-Xmx", "-Xms", "-Xss", "-Xmn"]
            .iter()
            .find_map(|x| w.strip_prefix(x))
        {
            return size(v);
        }
        if let Some(xx) = w.strip_prefix("-XX:") {
            return match xx.split_once('=') {
                None => xx
                    .strip_prefix(['+', '-'])
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric())),
                Some((n, v)) => n.chars().all(|c| c.is_ascii_alphanumeric()) && size(v),
            };
        }
        ["--add-opens=", "--add-exports="].iter().any(|x| {
            w.strip_prefix(x).is_some_and(|v| {
                v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._/=-,".contains(c))
            })
        }) || matches!(w, "-server" | "-ea" | "-da")
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        i += 1;
        if let Some(p) = w.strip_prefix("-D") {
            let p = if p.is_empty() {
                i += 1;
                words.get(i - 1).copied().unwrap_or("")
            } else {
                p
            };
            if !property(p) {
                return Some(w.to_string());
            }
            continue;
        }
        if jvm {
            if matches!(w, "--add-opens" | "--add-exports") {
                let v = words.get(i).copied().unwrap_or("");
                i += 1;
                if jvm_word(&format!("{w}={v}")) {
                    continue;
                }
            } else if jvm_word(w) {
                continue;
            }
            return Some(w.to_string());
        }
        if FLAGS.contains(&w) {
            continue;
        }
        if VALUES.contains(&w) {
            let v = words.get(i).copied().unwrap_or("");
            i += 1;
            if plain(v) {
                continue;
            }
            return Some(format!("{w} {v}"));
        }
        let attached = VALUES.iter().find_map(|o| {
            w.strip_prefix(o).map(|v| {
                if o.starts_with("--") {
                    v.strip_prefix('=').unwrap_or("")
                } else {
                    v
                }
            })
        });
        if attached.is_some_and(plain) {
            continue;
        }
        return Some(w.to_string());
    }
    None
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
            let cleaned = crate::analysis::context::clean(p);
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
        // scout67: "corepack is not enabled" was said after `RUN corepack
        // enable` when a `COREPACK_*` variable was what kept the shim from
        // being known: the condition is said as checked.
        None if berry.corepack => out.push(format!(
            "{intro}, but no `yarnPath` release names it and {pkg_name} has no `packageManager` of yarn 2 or later for corepack to run: which yarn runs is not known"
        )),
        None => out.push(format!(
            "{intro}, but no `yarnPath` release names it and corepack's shim is not known to be what `yarn` runs (that needs `corepack enable` before the install, in its `RUN` or the stage, no `PATH` or `COREPACK_*` variable set but `COREPACK_ENABLE_DOWNLOAD_PROMPT` and `COREPACK_INTEGRITY_KEYS`, and nothing since that may replace yarn): which yarn runs is not known"
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
            let release = join(&crate::analysis::context::clean(&p));
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
            "{rel} declares {} `{s}` script, which runs during the install and may read any file",
            article(s)
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
    ships_tree(ctx, &nm).then(|| {
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
        ManifestCheck::Maven(_) => maven_reactor(ctx, dir).0,
        ManifestCheck::Gradle(_) => gradle::gradle_build(ctx, dir).files,
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
        // Extensions are code Maven loads with the project, before any
        // goal, and a lifecycle participant among them may read any file
        // of the project (Tycho's reads each bundle's
        // META-INF/MANIFEST.MF): a plugin marked `<extensions>true`, or a
        // build extension other than os-maven-plugin (which reads the
        // OS) and the wagon transports.
        if xml_values(&text, "extensions")
            .iter()
            .any(|v| v.trim() == "true")
        {
            problems.push(format!(
                "{pom} loads a plugin as an extension, code that runs with the project"
            ));
        }
        for ext in xml_values(&text, "extension") {
            let id = xml_values(ext, "artifactId")
                .first()
                .map_or("", |a| a.trim());
            if !(id == "os-maven-plugin" || id.starts_with("wagon-")) {
                problems.push(format!(
                    "{pom} loads the build extension `{id}`, code that runs with the project"
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
    // Profiles are inherited: a file test applies in every module. Maven
    // tests whether anything is at the path, a directory too: a tested
    // path the copy makes as a directory (or may, below a link or a
    // submodule) is not a file an inserted copy could bring, and moved
    // above the broad copy the install would see other profiles.
    for a in &activation {
        for d in &pom_dirs {
            let Some(t) = ctx_join(d, a) else { continue };
            if ctx.ships(&t) {
                if !files.contains(&t) {
                    files.push(t);
                }
                continue;
            }
            let below = format!("{t}/");
            let dir_there = ctx.files().is_some_and(|f| {
                f.range(below.clone()..)
                    .next()
                    .is_some_and(|(k, _)| k.starts_with(&below))
            }) || ctx.whole().contains(&t)
                || ctx.through_symlink(&t)
                || ctx
                    .unknown_dirs()
                    .iter()
                    .any(|u| t == *u || t.starts_with(&format!("{u}/")));
            if dir_there {
                problems.push(format!(
                    "a POM activates a profile by whether `{t}` exists, which the build context has as a directory (or may), so which profiles are active depends on the copy"
                ));
            }
        }
    }
    if let Some(all) = ctx.files() {
        let mvn = ctx_join(dir, ".mvn").unwrap_or_default();
        let prefix = format!("{mvn}/");
        files.extend(all.keys().filter(|f| f.starts_with(&prefix)).cloned());
        crate::analysis::gradle::wrapper_url_problems(
            ctx,
            &format!("{prefix}wrapper/maven-wrapper.properties"),
            &mut problems,
        );
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

/// The indefinite article before a word as it is read aloud (`an
/// install script`, `a postinstall script`).
pub(crate) fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some(c) if "aeiouAEIOU".contains(c) => "an",
        _ => "a",
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
