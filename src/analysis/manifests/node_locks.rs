//! What npm's and yarn's lock files prove: whether an install leaves the
//! lock the broad copy ships as it is (it agrees with `package.json`, is
//! written as npm or yarn would write it, and no setting makes the tool
//! resolve again), and whether an install runs git or any package's code
//! (no git dependency, no link, no install script, no Composer plugin).
//! A lock that cannot be read, or a form not checked here, proves
//! nothing: the callers then keep the install in place.

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
pub(super) struct NpmLock {
    #[serde(rename = "lockfileVersion")]
    pub(super) lockfile_version: Option<serde_json::Value>,
    pub(super) packages: Option<std::collections::BTreeMap<String, NpmLockEntry>>,
}

/// One entry of an npm lock's `packages`: the fields [`plain_npm_lock`]
/// and [`lock_agrees`] read, as written (any JSON value).
#[derive(serde::Deserialize)]
pub(super) struct NpmLockEntry {
    #[serde(rename = "hasInstallScript")]
    pub(super) has_install_script: Option<serde_json::Value>,
    pub(super) link: Option<serde_json::Value>,
    pub(super) resolved: Option<serde_json::Value>,
    pub(super) version: Option<serde_json::Value>,
    pub(super) dependencies: Option<serde_json::Value>,
    #[serde(rename = "devDependencies")]
    pub(super) dev_dependencies: Option<serde_json::Value>,
    #[serde(rename = "optionalDependencies")]
    pub(super) optional_dependencies: Option<serde_json::Value>,
    #[serde(rename = "peerDependencies")]
    pub(super) peer_dependencies: Option<serde_json::Value>,
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
pub(super) fn lock_agrees(lock: &NpmLock, manifest: &str) -> bool {
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
pub(super) fn plain_npm_lock(lock: &NpmLock) -> bool {
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
///   (npm would read and write that instead), or it is
///   `npm-shrinkwrap.json` and there is no `package-lock.json` (npm reads
///   and writes the shrinkwrap, the same lock under another name:
///   arborist's `Shrinkwrap` takes it first and saves to the file it
///   loaded), and there is no `binding.gyp` (it gives the project an
///   install script);
/// - the project's `.npmrc`, if any, sets nothing that touches the lock
///   ([`npmrc_keeps_lock`]), or only `omit-lockfile-registry-resolved`
///   beside that and the lock has no `resolved` at all
///   ([`npmrc_omits_resolved`]);
/// - the lock agrees with `package.json` ([`npm_lock_agrees`]);
/// - its text is what npm writes for it ([`npm_canonical_json`]): npm
///   serialises the lock anew with the lock's own indent and newline, so a
///   lock edited by hand or by another tool (other spacing, escapes, no
///   final newline, a repeated key) would come back different.
///
/// Measured (npm 9.9.4, 10.9.9, 11.21.2, official settings): `npm install`
/// on 16 real locks that pass this wrote each back byte for byte.
/// `peer_flags_known`: the npm that runs is one of the releases that flag
/// a package reached by a peer edge as arborist's `calc-dep-flags` does
/// (see [`npm_tree_holds`]).
pub fn npm_lock_kept(
    name: &str,
    file: impl Fn(&str) -> Option<Option<String>>,
    peer_flags_known: bool,
) -> bool {
    let other = match name {
        "package-lock.json" => "npm-shrinkwrap.json",
        "npm-shrinkwrap.json" => "package-lock.json",
        _ => return false,
    };
    if file(other) != Some(None) || file("binding.gyp") != Some(None) {
        return false;
    }
    let (Some(Some(lock)), Some(Some(manifest))) = (file(name), file("package.json")) else {
        return false;
    };
    match file(".npmrc") {
        Some(None) => {}
        Some(Some(text)) if npmrc_keeps_lock(&text) => {}
        Some(Some(text)) if npmrc_omits_resolved(&text) && !lock.contains("\"resolved\"") => {}
        _ => return false,
    }
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
        && npm_lock_agrees(&lock, &manifest, peer_flags_known)
}

/// Whether npm writes the lock back with the indent and newline it has:
/// npm writes the lock with `package.json`'s newline and indent
/// (arborist's reify takes the root package's `Symbol.for('newline')`
/// and `Symbol.for('indent')`, which json-parse-even-better-errors reads
/// as the run of newlines after the opening brace and the whitespace
/// after it) unless the indent is empty (a minified manifest), when the
/// lock keeps its own. Measured (npm 9.0.0, 10.9.9, 11.21.2): a lock
/// indented by two spaces beside a `package.json` indented by four or by
/// a tab is written back indented as the manifest is.
pub(super) fn npm_indent_kept(manifest: &str, lock: &str) -> bool {
    if !lock.starts_with("{\n") {
        return false;
    }
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let lead = manifest.trim_start_matches(ws);
    let Some(rest) = lead.strip_prefix(['{', '[']) else {
        return false;
    };
    // The newline npm writes the lock with is the whole run of newlines
    // after the brace (json-parse-even-better-errors' `(?:\r?\n)+`):
    // anything but one LF (CRLF, even on that line only, or a blank line)
    // rewrites an LF lock (measured, npm 10.8.2 and 11.19.1: CRLF lock,
    // double-spaced lock).
    let after = if let Some(r) = rest.strip_prefix('\n') {
        if r.starts_with(['\n', '\r']) {
            return false;
        }
        r
    } else if rest.starts_with('\r') {
        return false;
    } else {
        // No newline after the brace: no indent, the lock keeps its own.
        return true;
    };
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
pub(super) fn npm_meta_value_kept(key: &str, v: &serde_json::Value) -> bool {
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
pub(super) fn npm_resolved_kept(r: &str) -> bool {
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
pub(super) struct YarnEntry {
    pub(super) version: Option<String>,
    pub(super) resolved: Option<String>,
    pub(super) deps: Vec<String>,
    /// The names of `deps`, each once.
    pub(super) names: Vec<String>,
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
pub(super) fn yarn_lock_holds(
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
pub(super) fn parse_yarn_lock(text: &str) -> Option<Vec<(Vec<String>, YarnEntry)>> {
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
pub(super) fn yarn_integrity_kept(value: &str) -> bool {
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
pub(super) fn yarn_words(body: &str) -> Option<Vec<String>> {
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
/// saved (`save-exact`, `save-prefix`), credentials (`//host/:_authToken`),
/// the default registry itself, and `install-strategy` `hoisted`,
/// `nested` or `shallow`, which lay out `node_modules` but leave an
/// agreeing lock as it is (measured, npm 9.9.4, 10.8.2 and 11.7.0: a lock
/// of pg, pg-pool, react, react-dom and knex written by the hoisted
/// strategy came back byte for byte under each, and one written by the
/// nested strategy under `nested` and `shallow`; scout73
/// trap-md-render-npmrc). Anything else (another registry, a
/// lockfile version, `omit-lockfile-registry-resolved`, peer-dependency
/// modes) may change what npm writes.
pub(super) fn npmrc_keeps_lock(text: &str) -> bool {
    npmrc_lock_settings(text).is_empty()
}

/// The keys of a project `.npmrc` that [`npmrc_keeps_lock`] does not admit
/// (a line that is no setting counts by its text), for a reason to name
/// (scout80 trap-endpoints-npmrc-node: the reason did not say the shipped
/// `.npmrc` kept the lock check from holding). `omit` and `include` are
/// the settings of `--omit` and `--include`, which change what is
/// installed, not an agreeing lock (knowledge base,
/// `agreeing_lock_options`).
pub fn npmrc_lock_settings(text: &str) -> Vec<String> {
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
        "omit",
        "include",
    ];
    let mut out = Vec::new();
    for l in text.lines() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        let Some((k, v)) = l.split_once('=') else {
            out.push(l.to_string());
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        let ok = if k.starts_with("//") {
            k.ends_with(":_authToken") || k.ends_with(":_auth") || k.ends_with(":always-auth")
        } else if k == "registry" {
            matches!(
                v,
                "https://registry.npmjs.org/" | "https://registry.npmjs.org"
            )
        } else if k == "install-strategy" {
            matches!(v, "hoisted" | "nested" | "shallow")
        } else if matches!(k, "omit" | "include") {
            matches!(v, "dev" | "optional" | "peer")
        } else {
            KEYS.contains(&k) && !v.contains('$')
        };
        if !ok {
            out.push(k.to_string());
        }
    }
    out
}

/// Whether a project `.npmrc` sets `omit-lockfile-registry-resolved` to
/// `true` and otherwise only what [`npmrc_keeps_lock`] admits. npm then
/// writes no `resolved` for a registry package: a lock that has none
/// comes back as it is, one that has some loses them (measured, npm
/// 9.3.1 to 11.21.3).
pub(super) fn npmrc_omits_resolved(text: &str) -> bool {
    let mut omits = false;
    let rest: Vec<&str> = text
        .lines()
        .filter(|l| {
            let setting = l.split_once('=').is_some_and(|(k, v)| {
                k.trim() == "omit-lockfile-registry-resolved" && v.trim() == "true"
            });
            omits |= setting;
            !setting
        })
        .collect();
    omits && npmrc_keeps_lock(&rest.join("\n"))
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
/// an `https` tarball, or from the registry with no `resolved` written
/// (`omit-lockfile-registry-resolved`), with its `integrity`, none
/// extraneous (npm would prune it) and none a link.
/// The fields of package.json npm records in a lock's root entry, as
/// package.json has them.
const NPM_ROOT_FIELDS: &[&str] = &[
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

/// The fields of package.json that the npm lock's root entry records
/// otherwise (`engines`, `license`, `bin`…), or its name and version,
/// which npm writes back as package.json has them: what makes a lock stale
/// in the plainest way, for a reason to name (scout76: "may rewrite
/// `package-lock.json`" did not say why). Empty when they agree, or when
/// either file is not a JSON object.
pub fn npm_root_disagreement(lock: &str, manifest: &str) -> Vec<&'static str> {
    use serde_json::Value;
    let (Ok(lock), Ok(manifest)) = (
        serde_json::from_str::<Value>(lock),
        serde_json::from_str::<Value>(manifest),
    ) else {
        return Vec::new();
    };
    let root = lock.get("packages").and_then(|p| p.get(""));
    match (root, manifest.as_object()) {
        (Some(root), Some(m)) => NPM_ROOT_FIELDS
            .iter()
            .copied()
            .filter(|k| {
                // npm leaves an empty field out of the root entry.
                let empty = |v: Option<&Value>| match v {
                    None | Some(Value::Null) => true,
                    Some(Value::Object(o)) => o.is_empty(),
                    Some(Value::Array(a)) => a.is_empty(),
                    Some(Value::String(t)) => t.is_empty(),
                    _ => false,
                };
                let (r, v) = (root.get(*k), m.get(*k));
                r != v && !(empty(r) && empty(v))
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub(super) fn npm_lock_agrees(lock: &str, manifest: &str, peer_flags_known: bool) -> bool {
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
    if root.keys().any(|k| !NPM_ROOT_FIELDS.contains(&k.as_str()))
        || NPM_ROOT_FIELDS
            .iter()
            .any(|k| root.get(*k) != manifest.get(*k))
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
        // No `resolved` at all is how npm writes a registry package with
        // `omit-lockfile-registry-resolved` (a setting some authors keep
        // in their user config): npm then fetches `NAME@VERSION` from the
        // registry and writes the entry back without one, the setting on
        // or off (`metaFromNode` writes the node's `resolved`, which only
        // the lock gives it). Measured, npm 9.3.1, 9.9.4, 10.8.2, 10.9.2,
        // 11.6.2 and 11.7.0: a lock with no `resolved` in any entry, or
        // in one, came back byte for byte, with `--omit=dev`,
        // `--production` and `--only=production` too. The version is then
        // a plain one (the registry's), which the tree check reads anyway.
        let resolved = match entry.get("resolved") {
            None => text("version").is_some_and(|v| plain_version(v).is_some()),
            Some(_) => text("resolved").is_some_and(npm_resolved_kept),
        };
        kept && resolved
            && text("integrity").is_some_and(|i| !i.is_empty())
            && text("version").is_some_and(|v| !v.is_empty())
    });
    entries_plain
        && npm_tree_holds(packages, peer_flags_known)
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
pub(super) fn npm_legacy_tree(
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
pub(super) const LEGACY_DEPTH: usize = 64;

/// The legacy entries of `at`'s children: `Some(None)` when it has none,
/// `None` past [`LEGACY_DEPTH`].
pub(super) fn legacy_children(
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
pub(super) enum EdgeKind {
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
///   package is not read; a peer edge the tree resolves is proven only
///   when `peer_flags_known` (npm versions flag its package `peer`
///   differently: see below);
/// - every entry is reached from the root;
/// - each entry's `dev`, `optional`, `devOptional` and `peer` are what
///   arborist's `calc-dep-flags` computes: `dev` unless reached by edges
///   that are not `devDependencies`, `optional` unless reached by edges
///   that are not optional, `devOptional` (written only when neither of
///   those is) unless reached by edges that are neither, `peer` unless
///   reached by edges that are not peer edges.
pub(super) fn npm_tree_holds(
    packages: &serde_json::Map<String, serde_json::Value>,
    peer_flags_known: bool,
) -> bool {
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
                // A peer edge the tree resolves: npm versions disagree on
                // the `peer` flag it gives (npm/cli#8690: npm 11.6.1 and
                // 11.6.2, which Node 24 images shipped, mark a package both
                // a dependency and a peer `"peer": true`, and 11.6.3
                // reverted it; measured, 11.6.1 and 11.6.2 rewrote such a
                // lock npm 9.0.0, 10.8.2 and 11.7.0 kept), so the lock
                // written back is proven the same only where the npm
                // that runs is known to be one that flags as arborist's
                // `calc-dep-flags` does (npm 9 and 10: scout73, `pg-pool`
                // peer-depending on `pg`, both the project's
                // dependencies, npm 10.8.2 kept the lock).
                Some(_) if peer && !peer_flags_known => return false,
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
pub(super) fn plain_version(v: &str) -> Option<(u64, u64, u64)> {
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
pub(super) fn glued_comparators(alt: &str) -> Option<Vec<String>> {
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
pub(super) fn comparator(ver: (u64, u64, u64), c: &str) -> Option<bool> {
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
pub(super) struct Canonical<'a, 'o> {
    pub(super) src: &'a [u8],
    pub(super) at: usize,
    pub(super) indent: &'a str,
    pub(super) newline: &'a str,
    pub(super) out: &'o mut String,
}

impl Canonical<'_, '_> {
    pub(super) fn skip_ws(&mut self) {
        while self
            .src
            .get(self.at)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    pub(super) fn line(&mut self, depth: usize) {
        self.out.push_str(self.newline);
        for _ in 0..depth {
            self.out.push_str(self.indent);
        }
    }

    /// A value (`Some(true)`: an object, which npm sorts after the
    /// strings, numbers, booleans and arrays of its parent).
    pub(super) fn value(&mut self, depth: usize) -> Option<bool> {
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

    pub(super) fn container(&mut self, depth: usize, close: u8, object: bool) -> Option<()> {
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
    pub(super) fn string(&mut self) -> Option<String> {
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

    pub(super) fn integer(&mut self) -> Option<()> {
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
    /// time (8 s for 400 levels of 30 such edges, a 1.6 MB lock). The
    /// answer is checked here; its time is not (a wall-clock bound failed
    /// a CI run on a loaded machine: speed belongs in `benches/`).
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
        assert!(super::npm_tree_holds(&packages, false));
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
