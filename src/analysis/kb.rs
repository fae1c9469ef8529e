//! The command knowledge base: YAML data embedded in the binary
//! (`knowledge.yaml`), and its interpretation for one simple command.

use std::sync::OnceLock;

pub use super::kb_types::{CostClass, Entry, GitUse, KnowledgeBase, Positional};

use super::shell::SimpleCommand;

/// Relative rebuild cost of a step of each class (static estimate); the
/// config file may override them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostWeights {
    pub cheap: f64,
    pub run: f64,
    pub build: f64,
    pub install: f64,
}

impl Default for CostWeights {
    fn default() -> CostWeights {
        CostWeights {
            cheap: 1.0,
            run: 5.0,
            build: 30.0,
            install: 60.0,
        }
    }
}

impl CostWeights {
    /// The weight of a class.
    pub fn of(&self, class: CostClass) -> f64 {
        match class {
            CostClass::Cheap => self.cheap,
            CostClass::Run => self.run,
            CostClass::Build => self.build,
            CostClass::Install => self.install,
        }
    }
}

/// The knowledge in force for one run: the commands (the config file's,
/// tried first, then the embedded ones) and the cost weights. A plain value
/// passed to the analysis: two configurations can be used side by side in
/// one process.
#[derive(Debug, Clone)]
pub struct Knowledge {
    pub commands: KnowledgeBase,
    pub weights: CostWeights,
}

impl Knowledge {
    /// The embedded knowledge base with the default weights (constant data,
    /// parsed once).
    pub fn embedded() -> &'static Knowledge {
        static EMBEDDED_KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
        EMBEDDED_KNOWLEDGE.get_or_init(|| Knowledge {
            commands: embedded().clone(),
            weights: CostWeights::default(),
        })
    }

    /// The config file's commands before the embedded ones, and its
    /// weights. The embedded ones are built afresh (as cheap as a copy of
    /// [`embedded`]'s, and a run that needs only this never builds both).
    pub fn configured(extra: Vec<Entry>, weights: CostWeights) -> Knowledge {
        let mut commands = extra;
        commands.extend(embedded_base().commands);
        Knowledge {
            commands: KnowledgeBase { commands },
            weights,
        }
    }
}

/// Variables every command may read through the shell and the C library
/// (search paths, locale, the loader, the resolver, temporary files,
/// coreutils' backup settings), whatever the knowledge base says of it.
/// `TZ` is not among them: the entries that may format or parse local
/// time name it.
pub const GENERIC_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "PWD",
    "OLDPWD",
    "CDPATH",
    "IFS",
    "ENV",
    "BASH_ENV",
    "BASH_FUNC_*",
    "SHELLOPTS",
    "BASHOPTS",
    "POSIXLY_CORRECT",
    "GLOBIGNORE",
    "PS4",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "NLSPATH",
    "LOCPATH",
    "GCONV_PATH",
    "LD_*",
    "MALLOC_*",
    "GLIBC_TUNABLES",
    "TMPDIR",
    "HOSTALIASES",
    "RES_OPTIONS",
    "LOCALDOMAIN",
    "TERM",
    "COLUMNS",
    "LINES",
    "SHELL",
    "USER",
    "LOGNAME",
    "VERSION_CONTROL",
    "SIMPLE_BACKUP_SUFFIX",
];

impl Entry {
    /// Whether option `opt` takes a value (the next argument, or `=value`).
    fn takes_value(&self, opt: &str) -> bool {
        [
            &self.option_reads,
            &self.option_writes,
            &self.value_options,
            &self.word_options,
            &self.dir_options,
            &self.output_options,
            &self.input_options,
            &self.location_options,
            &self.setting_options,
            &self.unknown_options,
        ]
        .iter()
        .any(|list| list.iter().any(|o| o == opt))
    }

    /// Whether the entry names option `opt` anywhere: as taking a value, as
    /// an array option, or as a flag that changes what it does (`global`,
    /// `requires_flag`, `writes_unless`; `--save=false` names `--save`).
    fn describes(&self, opt: &str) -> bool {
        let named = |f: &String| f == opt || f.split_once('=').is_some_and(|(o, _)| o == opt);
        self.takes_value(opt)
            || self.array_options.iter().any(|o| o == opt)
            || self.global.iter().any(named)
            || self.requires_flag.iter().any(named)
            || self.writes_unless.values().flatten().any(named)
    }

    /// Whether `opt` switches the command to another mode or place: an
    /// option of `unknown_options`, `global` or `requires_flag`, or a flag
    /// of `writes_unless`.
    fn switches(&self, opt: &str) -> bool {
        self.unknown_options.iter().any(|o| o == opt)
            || self.global.iter().any(|o| o == opt)
            || self.requires_flag.iter().any(|o| o == opt)
            || self.writes_unless.values().flatten().any(|o| o == opt)
    }

    /// A bundle of short options (`-Ur`, `-qr`, `-rFILE`, `-fsub/pom.xml`),
    /// read as getopt and optparse do: letters up to the first that names
    /// an option taking a value, which takes the rest of the word, or the
    /// next word when nothing is left. Returns that option (`-r`) and the
    /// value when it is attached; `None` for a word that is not such a
    /// bundle (a long option, an option the entry names whole like
    /// `-gs`, `--opt=value`, or a bundle without a value option).
    fn short_value<'a>(&self, a: &'a str) -> Option<(String, Option<&'a str>)> {
        let body = a.strip_prefix('-')?;
        if body.starts_with('-') || body.len() < 2 || a.contains('=') || self.describes(a) {
            return None;
        }
        for (k, c) in body.char_indices() {
            if !c.is_ascii_alphanumeric() {
                return None;
            }
            let opt = format!("-{c}");
            if self.takes_value(&opt) {
                let rest = &body[k + 1..];
                return Some((opt, (!rest.is_empty()).then_some(rest)));
            }
        }
        None
    }

    /// With [`Entry::strict_options`], the first word of `args` that is an
    /// option the entry does not name (see the field), a value curl may
    /// read as a file (`-d @data`, `-H @file`, `-w @fmt`), or a word that
    /// starts with a variable where an option may stand; `None`
    /// when every option is named (or the entry is not strict). The
    /// value of an option that takes one is skipped, and so is what
    /// follows `--`.
    fn unnamed_option<'a>(&self, args: &[&'a str]) -> Option<&'a str> {
        if !self.strict_options {
            return None;
        }
        let known = |o: &str| self.flags.iter().any(|f| f == o) || self.takes_value(o);
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            if a == "--" {
                break;
            }
            // `@file` (curl reads it), or a variable that may expand to
            // options (`curl $CURL_OPTS URL`), or a `file:` URL (curl
            // reads the local file it names, as `--url` does: curl docs,
            // "FILE" in the URL syntax).
            if a.starts_with(['@', '$']) || file_url(a) {
                return Some(a);
            }
            // The value of an option that takes one, as the next word.
            let value_at = |j: usize| {
                args.get(j)
                    .is_some_and(|v| v.starts_with('@') || file_url(v))
            };
            if known(a) {
                if self.takes_value(a) {
                    if value_at(i + 1) {
                        return Some(a);
                    }
                    i += 1;
                }
                i += 1;
                continue;
            }
            if let Some(long) = a.strip_prefix("--") {
                let name = long.split_once('=').map_or(long, |(n, _)| n);
                let name = format!("--{name}");
                if !known(&name) {
                    return Some(a);
                }
                match long.split_once('=') {
                    Some((_, v)) if v.starts_with('@') || file_url(v) => return Some(a),
                    Some(_) => {}
                    None if self.takes_value(&name) => {
                        if value_at(i + 1) {
                            return Some(a);
                        }
                        i += 1;
                    }
                    None => {}
                }
            } else if let Some(body) = a.strip_prefix('-').filter(|b| !b.is_empty()) {
                // A bundle: letters up to the first that takes a value,
                // which takes the rest of the word, or the next word.
                for (k, c) in body.char_indices() {
                    let o = format!("-{c}");
                    if !known(&o) {
                        return Some(a);
                    }
                    if self.takes_value(&o) {
                        let rest = &body[k + c.len_utf8()..];
                        if rest.is_empty() {
                            if value_at(i + 1) {
                                return Some(a);
                            }
                            i += 1;
                        } else if rest.starts_with('@') || file_url(rest) {
                            return Some(a);
                        }
                        break;
                    }
                }
            } else if i == 0 && self.tar && a.chars().all(|c| c.is_ascii_alphabetic()) {
                // tar's old style (`xzf ARCHIVE`): each letter an option,
                // the values of those that take one following in order.
                for c in a.chars() {
                    let o = format!("-{c}");
                    if !known(&o) {
                        return Some(a);
                    }
                    i += usize::from(self.takes_value(&o));
                }
            }
            i += 1;
        }
        None
    }

    /// The first option of `args` that switches the command to something
    /// the entry does not describe (see [`Entry::switches`]), given alone,
    /// with `=value`, or inside a bundle of short options (`-gf`: npm reads
    /// it as `-g -f`; `-Csub`).
    fn switched_by<'a>(&self, args: &[&'a str]) -> Option<&'a str> {
        args.iter().copied().find(|a| {
            let opt = a.split_once('=').map_or(*a, |(o, _)| o);
            if self.unknown_options.iter().any(|o| o == opt) {
                return true;
            }
            let Some(body) = a.strip_prefix('-') else {
                return false;
            };
            if body.starts_with('-') || body.len() < 2 || self.describes(opt) {
                return false;
            }
            // Letters up to the first that takes a value (the rest is it).
            for c in body.chars() {
                if !c.is_ascii_alphanumeric() {
                    return false;
                }
                let o = format!("-{c}");
                if self.switches(&o) {
                    return true;
                }
                if self.takes_value(&o) {
                    return false;
                }
            }
            false
        })
    }
}

/// Whether a word is a `file:` URL, in any case (`FILE:///etc/x`): a
/// local file a downloader reads.
fn file_url(word: &str) -> bool {
    word.get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("file:"))
}

/// Whether the value given to an option the entry does not describe
/// (`--production=false`, `--network-concurrency=1`,
/// `--registry=https://…`) can name no file or directory: a boolean, a
/// number, or a URL other than `file:`.
fn names_no_path(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off"
    ) || (!v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
        || (v.contains("://") && !v.contains("file:"))
}

/// The source of the embedded knowledge base.
const EMBEDDED: &str = include_str!("knowledge.yaml");

/// The embedded entries, built by the code `build.rs` wrote from the YAML
/// (struct literals of every field; the strings are the only work of a run:
/// reading the same data as JSON took 1.6 M instructions, a fixed cost of
/// every run, and the YAML about 7 M).
fn embedded_base() -> KnowledgeBase {
    /// The strings of the generated code.
    fn s(text: &str) -> String {
        text.to_owned()
    }
    include!(concat!(env!("OUT_DIR"), "/knowledge.rs"))
}

/// The embedded knowledge base (built once).
pub fn embedded() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(embedded_base)
}

/// Checks the embedded YAML (used by tests).
pub fn embedded_error() -> Option<String> {
    serde_yaml::from_str::<KnowledgeBase>(EMBEDDED)
        .err()
        .map(|e| e.to_string())
}

/// What one simple command does, per the knowledge base.
#[derive(Debug, Clone, Default)]
pub struct CommandFacts {
    /// Files read (relative to the command's directory, or absolute).
    pub reads: Vec<String>,
    /// The subset of `reads` that are dependency manifests (copied first
    /// when the command is hoisted).
    pub manifests: Vec<String>,
    pub writes: Vec<String>,
    /// Files in `writes` that are only written when missing (a lock file
    /// `composer install` creates when there is none).
    pub writes_if_missing: Vec<String>,
    pub cost: Option<CostClass>,
    /// Manifest checks to run against the build context.
    pub checks: Vec<ManifestCheck>,
    pub merge_update: Option<String>,
    pub install_of: Option<String>,
    /// Set when the command is not in the base or used in a way it does
    /// not describe.
    pub unknown: Option<String>,
    /// The variables it honours besides [`GENERIC_ENV`] (`None`: all).
    pub env: Option<Vec<String>>,
    /// A download-only command (see [`Entry::fetch`]).
    pub fetch: bool,
    /// The working directory matters only through relative paths.
    pub cwd_free: bool,
    /// The package names a `names` command was given (`None` when one
    /// holds a variable).
    pub packages: Option<Vec<String>>,
    /// What it reads or writes in a home without naming it (see
    /// [`Entry::home`]; `None`: not known).
    pub home: Option<Vec<String>>,
    /// The variables that may move what it reads and writes (see
    /// [`Entry::path_env`]).
    pub path_env: Vec<String>,
    /// Whether it may run git (see [`Entry::git`]).
    pub git: Option<GitUse>,
    /// The directory a dir option names (see [`Entry::dir_options`]), as
    /// given: the command runs there, relative to where it was started.
    pub chdir: Option<String>,
    /// The lock file (one of `writes`, relative) it leaves as it is when
    /// the lock agrees with its manifest (see [`Entry::keeps_agreeing_lock`]).
    pub kept_lock: Vec<String>,
    /// The writes (among `writes`) that only change the owner or mode of
    /// what is there (see [`Entry::metadata_only`]).
    pub metadata_writes: Vec<String>,
    /// The writes (among `writes`) that are directories it creates and
    /// nothing below them (see [`Entry::dirs_only`]).
    pub dir_writes: Vec<String>,
    /// Files it also reads, and what it may write, in every directory
    /// above the one it runs in (see [`Entry::parent_reads`]), relative
    /// to each.
    pub parent_reads: Vec<String>,
    pub parent_writes: Vec<String>,
}

/// Who runs the install scripts of the packages an npm, yarn or pnpm
/// install installs: each runs with the project's directory in `INIT_CWD`
/// and may read and write any file there (msw's postinstall copies its
/// worker into the project's `msw.workerDirectory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyScripts {
    /// `--ignore-scripts`: none runs.
    Off,
    /// npm, whose lock marks the packages that have one; `elsewhere` when
    /// it installs in another directory than the one it runs in
    /// (`--prefix`, `-C`, a global install), which its scripts get in
    /// `INIT_CWD`; `platform` when the line or the environment may set
    /// the platform npm installs for (`os`, `cpu`, `libc`).
    Npm { elsewhere: bool, platform: bool },
    /// yarn, whose locks do not say.
    Other,
    /// pnpm, whose lock does not say either; `ten` when the stage is
    /// shown to launch a pnpm 10 ([`PnpmTen`]), which runs no
    /// dependency's script unless its settings allow it (pnpm 10.0.0's
    /// release notes; measured: pnpm 10.12.1 ignored msw 2.7.0's
    /// postinstall), given the project's `packageManager` agrees (see
    /// `effects::pnpm_ten_runs`, `manifests::pnpm_ten_problems`);
    /// `frozen` with `--frozen-lockfile` (pnpm installs what its lock
    /// lists, or fails) and no option that may set a setting
    /// (`pnpm_frozen_plain`).
    Pnpm { ten: Option<PnpmTen>, frozen: bool },
}

/// How a stage launches pnpm 10: corepack's shim (it runs the exact
/// release `packageManager` names, and nothing else decides), or npm's
/// global install of a release of major 10 (which switches to the exact
/// release `packageManager` names, if any: its
/// `manage-package-manager-versions` is on by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PnpmTen {
    Corepack,
    Npm,
}

/// Whose package names a list file's words must be
/// ([`ManifestCheck::PackageList`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListManager {
    Apt,
    Apk,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestCheck {
    /// npm/yarn/pnpm: lifecycle scripts, workspaces, local dependencies,
    /// and npm's packages' install scripts its lock marks.
    NpmScripts(DependencyScripts),
    /// composer: scripts, classmap/files autoload, and PSR-0/PSR-4 autoload
    /// when the class map is built from the sources (`optimize`: `-o`,
    /// `-a` and their long forms). `autoloader` is false with
    /// `--no-autoloader`, which writes no autoloader at all. `plugins` is
    /// false with `--no-plugins`, which runs no plugin; `dev` is false with
    /// `--no-dev` (or `COMPOSER_NO_DEV`), which installs no dev package;
    /// `scripts` is false with `--no-scripts`, which runs none of the root
    /// package's scripts (plugins still run: they are `plugins`).
    ComposerScripts {
        scripts: bool,
        optimize: bool,
        autoloader: bool,
        plugins: bool,
        dev: bool,
    },
    /// pip: `-r`/`-c`/`-e`/local paths inside requirement files.
    Requirements(Vec<String>),
    /// A package install taking its names from a file (`xargs -a FILE
    /// apt-get install -y`, `apk add $(cat FILE)`; see
    /// `shell::ListFile`): the file (an image path, as
    /// [`ManifestCheck::Requirements`]) must come from the context, not
    /// through a link, and hold only what the spelling turns into
    /// package names of `manager` (`#` lines dropped when
    /// `comments_stripped`).
    PackageList {
        file: String,
        comments_stripped: crate::analysis::shell::Comments,
        manager: ListManager,
    },
    /// pipenv: `path =` dependencies.
    Pipfile,
    /// poetry: path and file dependencies.
    Poetry,
    /// pdm: the project itself (unless `no_self`: `--no-self`, or a
    /// project that is not a distribution), hook scripts, local
    /// dependencies and sources, and the project's own settings file.
    Pdm { no_self: bool },
    /// uv: local sources, workspaces and indexes; and, unless `frozen`
    /// (`--frozen`: the lock is installed as it is, never checked against
    /// the project), metadata uv must build the project to know.
    UvSources { frozen: bool },
    /// go: `replace … => ./local`.
    GoMod,
    /// bundler: `gemspec`, `path:`, `eval_gemfile`.
    Gemfile,
    /// mix: `mix.exs` reading other files, path and in-umbrella deps.
    Mix,
    /// pnpm fetch: settings that name files or move the store.
    PnpmFetch,
    /// yarn: a `.yarnrc` naming files; a project of Yarn 2 and later
    /// (Berry) is hoisted only when Berry certainly runs (a `yarnPath`
    /// release, or `corepack enable` earlier in the `RUN` or the stage with a
    /// `packageManager` of Berry), the install is immutable (`immutable`:
    /// `--immutable` or `--frozen-lockfile`, which Berry takes as it) and
    /// its options are all Berry's that change nothing it writes
    /// (`berry_args`) (see `manifests::berry_problems`).
    Yarn {
        immutable: bool,
        berry_args: bool,
        /// Whether corepack's shims are what `yarn` runs: `Some(true)` when
        /// `corepack enable` comes last before it (in the `RUN` or, when
        /// the `RUN` says nothing of it, earlier in the stage) and nothing
        /// since may have replaced yarn; `Some(false)` when something
        /// else did; `None` when nothing said (see
        /// `effects::corepack_state`).
        corepack: Option<bool>,
    },
    /// maven: `<modules>` and parent POMs live in other files; the
    /// settings and toolchains files its options name (image paths, as
    /// [`ManifestCheck::Requirements`]) may name local files.
    Maven(Vec<String>),
    /// gradle: `include` in settings.gradle pulls in subprojects; the
    /// build and init scripts its options name (image paths, as
    /// [`ManifestCheck::Requirements`]) are read as the project's are.
    Gradle(Vec<String>),
    /// uv sync without `--no-install-project`: the project must be virtual
    /// (no `[build-system]`, `tool.uv.package` not true), outside any
    /// workspace and without local sources, so that uv installs its
    /// dependencies alone.
    UvVirtual,
    /// `uv pip install`/`uv pip sync`: its requirement files (image paths,
    /// as [`ManifestCheck::Requirements`]) and those they include must be
    /// requirement files: uv reads a `pyproject.toml`, `setup.py` or
    /// `setup.cfg` named so as the project's metadata, which it may have
    /// to build from the project's sources.
    UvPip(Vec<String>),
    /// `uv pip install`, `uv venv`: the settings files uv may read (image
    /// paths: `uv.toml` and `pyproject.toml` of the directory it runs in
    /// and of each parent) must not point it at local files
    /// (`find-links = ["wheels"]`, an index `url = "./wheels"`), which
    /// copying the settings first does not provide.
    UvSettings(Vec<String>),
    /// pip: the configuration file `PIP_CONFIG_FILE` names (an image
    /// path), copied with the requirement files: it may set only what
    /// names no file (see `manifests::pip_config_problems`).
    PipConfig(String),
    /// cargo: a package's manifest loads only with its targets
    /// (`src/main.rs`, `src/lib.rs`, ...), and a workspace with its members.
    Cargo,
    /// dotnet restore: the projects and solutions it is given (relative to
    /// its directory, variables expanded; none: what the directory holds),
    /// followed through `<ProjectReference>`s, and whether MSBuild
    /// properties were given on the command line.
    Dotnet {
        projects: Vec<String>,
        properties: bool,
        /// `--locked-mode`: lock files are read, never rewritten.
        locked: bool,
    },
}

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

fn looks_like_path(arg: &str) -> bool {
    arg.starts_with('.')
        || arg.starts_with('/')
        || arg.contains('/') && !arg.contains("://") && !arg.contains('@')
        || [".deb", ".rpm", ".gem", ".apk"]
            .iter()
            .any(|e| arg.ends_with(e))
        // pip installs a file of the working directory named like any of
        // the archives it unpacks, in any case (`is_archive_file`).
        || super::manifests::is_pip_archive(arg)
}

/// The path an argument names or may name, if any: absolute, relative
/// (`./`, `../`, containing `/`), a glob, `file:`/`git+file:` URLs, an
/// archive, or anything holding a variable; `[extras]` dropped.
fn path_of_arg(arg: &str) -> Option<String> {
    let a = arg.trim();
    if a.is_empty() {
        return None;
    }
    let a = a
        .strip_prefix("git+file://")
        .or_else(|| a.strip_prefix("file://"))
        .or_else(|| a.strip_prefix("file:"))
        .unwrap_or(a);
    // `name @ file:///x` is one argument only when quoted.
    let a = a.rsplit_once(" @ ").map_or(a, |(_, r)| r);
    let a = a
        .strip_prefix("file://")
        .or_else(|| a.strip_prefix("file:"))
        .unwrap_or(a);
    let a = match a.find('[') {
        Some(k) if a.ends_with(']') && k > 0 => &a[..k],
        _ => a,
    };
    let pathish = looks_like_path(a)
        || a.contains('$')
        || a.contains(['*', '?'])
        || a == "~"
        || a.starts_with("~/");
    if !pathish || a.contains("://") {
        return None;
    }
    Some(a.to_string())
}

fn push_path_read(facts: &mut CommandFacts, arg: &str) {
    let Some(p) = path_of_arg(arg) else { return };
    let base = p.trim_end_matches('/');
    let base = if base.is_empty() { "/" } else { base };
    facts.reads.push(base.to_string());
    facts.reads.push(if base == "/" {
        "/**".to_string()
    } else {
        format!("{base}/**")
    });
}

/// One invocation of a command from the knowledge base: its name, its
/// arguments after the name, and what it sees (assignments, variables).
struct Invocation<'a> {
    name: &'a str,
    args: &'a [&'a str],
    cmd: &'a SimpleCommand,
    env: &'a std::collections::BTreeMap<String, String>,
}

impl Invocation<'_> {
    /// Whether a flag is given, as an option or a variable that is set.
    fn has(&self, flag: &str) -> bool {
        self.args
            .iter()
            .any(|a| *a == flag || a.starts_with(&format!("{flag}=")))
            || self.cmd.assignments.iter().any(|(k, _)| k == flag)
            || self
                .env
                .get(flag)
                .is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
    }

    /// Whether a flag is given and on, as [`Invocation::has`] but a value
    /// that a tool may read as off (`BUNDLE_FROZEN=false`, `=no`, `=0`,
    /// Bundler's `to_bool`) is not, and the command's own assignment
    /// overrides the environment: the flag that lets a write be skipped.
    fn has_on(&self, flag: &str) -> bool {
        let on = |v: &str| {
            !matches!(
                v.to_ascii_lowercase().as_str(),
                "" | "false" | "f" | "no" | "n" | "0" | "off"
            )
        };
        if let Some((_, v)) = self.cmd.assignments.iter().rev().find(|(k, _)| k == flag) {
            return on(v);
        }
        self.args.iter().any(|a| {
            *a == flag
                || a.strip_prefix(flag)
                    .and_then(|r| r.strip_prefix('='))
                    .is_some_and(on)
        }) || self.env.get(flag).is_some_and(|v| on(v))
    }

    /// Whether variable `flag` is given a value a tool reads as off (see
    /// [`Invocation::has_on`]), by the command's own assignment or else
    /// the environment.
    fn has_off(&self, flag: &str) -> bool {
        let value = match self.cmd.assignments.iter().rev().find(|(k, _)| k == flag) {
            Some((_, v)) => Some(v.as_str()),
            None => self.env.get(flag).map(String::as_str),
        };
        value.is_some_and(|v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "" | "false" | "f" | "no" | "n" | "0" | "off"
            )
        })
    }
}

/// Interprets one simple command.
pub fn interpret(
    cmd: &SimpleCommand,
    kb: &KnowledgeBase,
    env: &std::collections::BTreeMap<String, String>,
) -> CommandFacts {
    let mut facts = CommandFacts::default();
    if cmd.argv.is_empty() {
        // Assignments only (`FOO=bar`): a shell variable, no files.
        facts.cost = Some(CostClass::Cheap);
        facts.env = Some(Vec::new());
        facts.cwd_free = true;
        return facts;
    }
    let (argv, prefix) = match command_words(cmd) {
        Ok(words) => words,
        Err(why) => {
            facts.unknown = Some(why);
            return facts;
        }
    };
    let name = if argv[0].starts_with("./") {
        argv[0]
    } else {
        basename(argv[0])
    };
    let Some(e) = find_entry(kb, name, &argv) else {
        facts.unknown = Some(format!(
            "`{}` is not in the command knowledge base",
            cmd.argv
                .iter()
                .take(2)
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        ));
        return facts;
    };
    let inv = Invocation {
        name,
        args: &argv[1..],
        cmd,
        env,
    };
    let list = match list_manager(e, &inv) {
        Ok(list) => list,
        Err(why) => {
            facts.unknown = Some(why);
            return facts;
        }
    };
    facts.cost = Some(e.cost);
    facts.env = e.env.clone();
    facts.fetch = e.fetch;
    facts.cwd_free = !e.cwd;
    facts.merge_update = e.merge_update.clone();
    facts.install_of = e.install_of.clone();
    facts.home = e.home.clone();
    facts.path_env = e.path_env.clone().unwrap_or_default();
    facts.git = e.git;
    if let Some(opt) = e.switched_by(inv.args) {
        facts.unknown = Some(format!(
            "`{name}` with `{opt}` runs elsewhere, reads or writes what the knowledge base does not follow"
        ));
        return facts;
    }
    if let Some(opt) = e.unnamed_option(inv.args) {
        facts.unknown = Some(format!(
            "`{name}` with `{opt}`: an option the knowledge base does not name, or a file it names, may read, write or run files"
        ));
        return facts;
    }
    if let Some(var) = e
        .unknown_options
        .iter()
        .filter(|o| !o.starts_with('-'))
        .find(|v| inv.has(v))
    {
        facts.unknown = Some(format!(
            "`{name}` with `{var}` set runs elsewhere or in another mode"
        ));
        return facts;
    }
    if let Some(f) = e.requires_flag.iter().find(|f| !inv.has(f)) {
        if !e.uv_virtual {
            facts.unknown = Some(format!(
                "`{name}` without `{f}` also installs the project itself"
            ));
            return facts;
        }
        // Read as with the flag, on condition that the manifests show the
        // project is not installed (the stage analysis checks them).
        facts.checks.push(ManifestCheck::UvVirtual);
    }
    match dir_option(e, inv.args) {
        Ok(dir) => facts.chdir = dir,
        Err(why) => {
            facts.unknown = Some(why);
            return facts;
        }
    }
    if !e.global.is_empty() && e.global.iter().any(|g| inv.has(g)) {
        if let Err(why) = global_install(e, &inv, &mut facts) {
            facts.unknown = Some(why);
        }
        return facts;
    }
    entry_files(e, &inv, &mut facts);
    // A program run by its path in the working directory (`./mvnw`,
    // `./gradlew`) is a file there, read where the shell runs it: a
    // manifest, copied first (moved above the copy that ships it, it was
    // not found). A directory option moves the reads but not the
    // program, nor the wrapper's own files beside it: not followed.
    if let Some(prog) = name.strip_prefix("./") {
        if facts.chdir.is_some() {
            facts.unknown = Some(format!(
                "`{name}` with a directory option reads its own files where it is, the project's elsewhere"
            ));
            return facts;
        }
        if !facts.reads.iter().any(|r| r == prog) {
            facts.reads.push(prog.to_string());
        }
        if !facts.manifests.iter().any(|m| m == prog) {
            facts.manifests.push(prog.to_string());
        }
    }
    let positional = match option_values(e, inv.name, inv.args, inv.env, &mut facts) {
        Ok(p) => p,
        Err(why) => {
            facts.unknown = Some(why);
            return facts;
        }
    };
    if e.dotnet {
        facts.checks.push(dotnet_check(e, &inv, &positional));
    }
    facts.kept_lock = kept_lock(e, &inv, &positional);
    if let Err(why) = positional_effects(e, &inv, positional, &mut facts) {
        facts.unknown = Some(why);
        return facts;
    }
    tool_effects(e, &inv, &mut facts);
    if e.global.is_empty() {
        global_scripts_read_workdir(e, &inv, &mut facts);
    }
    if e.requirements && editable(&inv) && !inv.has("--src") {
        // pip checks an editable VCS requirement (`-e git+https://…`) out
        // into `--src`, by default `src/` of the working directory
        // outside a virtualenv (pip's `cmdoptions.src`).
        facts.writes.push("src/**".into());
    }
    manifest_checks(e, &inv, &mut facts);
    if let (Some(manager), Some(l)) = (list, &cmd.list_file) {
        // The list is a manifest of the install (copied first, where it
        // is read); its words are package names only if the context's
        // copy says so (`ManifestCheck::PackageList`): until then, which
        // packages is not known.
        facts.reads.push(l.path.clone());
        facts.manifests.push(l.path.clone());
        facts.checks.push(ManifestCheck::PackageList {
            file: l.path.clone(),
            comments_stripped: l.comments_stripped,
            manager,
        });
        facts.packages = None;
    }
    if e.metadata_only {
        facts.metadata_writes = facts.writes.clone();
    }
    if e.dirs_only {
        facts.dir_writes = facts.writes.clone();
    }
    for w in &cmd.redirect_writes {
        if w != "/dev/null" && w != "/dev/stderr" && w != "/dev/stdout" {
            facts.writes.push(w.clone());
        }
    }
    for r in &cmd.redirect_reads {
        facts.reads.push(r.clone());
    }
    if let Some(prefix) = prefix {
        // Its interpreter, its packages and its `pip.conf` are there, and
        // it installs there.
        let tree = format!("{}/**", prefix.trim_end_matches('/'));
        facts.reads.push(tree.clone());
        facts.writes.push(tree);
    }
    if module_run(cmd, "pip") {
        // `python -m pip` finds the module in the working directory first
        // (sys.path[0]; pip's __main__ drops that entry only once it
        // runs): a `pip.py`, `pip.pyc`, extension module or `pip/`
        // package there is what runs.
        for p in ["pip.py", "pip.pyc", "pip.*so", "pip/**"] {
            facts.reads.push(p.to_string());
        }
    }
    if module_run(cmd, "pip") || module_run(cmd, "venv") {
        // Before that, runpy imports `types` and `importlib.util` (and
        // what they import), and venv imports `logging`, `shutil`,
        // `subprocess`...: a module of the working directory named as one
        // of the standard library's is what runs (measured, python:3.12-slim
        // stand-in, Python 3.11: a shipped `types.py` ran in `python3 -m
        // pip --version` and `python3 -m venv /venv`, and left its
        // `__pycache__` in the original image only).
        for n in STDLIB_PATH_MODULES {
            facts.reads.push(format!("{n}.py*"));
            facts.reads.push(format!("{n}.*so"));
            facts.reads.push(format!("{n}/__init__.*"));
        }
    }
    facts
}

/// The modules of Python's standard library that are found on `sys.path`
/// (not built into the interpreter): `sys.stdlib_module_names` of CPython
/// 3.11 less `sys.builtin_module_names`, with the names 3.12 to 3.14 add.
const STDLIB_PATH_MODULES: &[&str] = &[
    "__future__",
    "_aix_support",
    "_android_support",
    "_apple_support",
    "_asyncio",
    "_bootsubprocess",
    "_bz2",
    "_codecs_cn",
    "_codecs_hk",
    "_codecs_iso2022",
    "_codecs_jp",
    "_codecs_kr",
    "_codecs_tw",
    "_collections_abc",
    "_colorize",
    "_compat_pickle",
    "_compression",
    "_contextvars",
    "_crypt",
    "_ctypes",
    "_curses",
    "_curses_panel",
    "_dbm",
    "_decimal",
    "_frozen_importlib",
    "_frozen_importlib_external",
    "_gdbm",
    "_hashlib",
    "_ios_support",
    "_json",
    "_lsprof",
    "_lzma",
    "_markupbase",
    "_msi",
    "_multibytecodec",
    "_multiprocessing",
    "_opcode_metadata",
    "_osx_support",
    "_overlapped",
    "_posixshmem",
    "_py_abc",
    "_pydatetime",
    "_pydecimal",
    "_pyio",
    "_pylong",
    "_pyrepl",
    "_queue",
    "_scproxy",
    "_sitebuiltins",
    "_sqlite3",
    "_ssl",
    "_strptime",
    "_sysconfig",
    "_threading_local",
    "_tkinter",
    "_typing",
    "_uuid",
    "_weakrefset",
    "_winapi",
    "_zoneinfo",
    "abc",
    "aifc",
    "annotationlib",
    "antigravity",
    "argparse",
    "ast",
    "asynchat",
    "asyncio",
    "asyncore",
    "audioop",
    "base64",
    "bdb",
    "bisect",
    "bz2",
    "cProfile",
    "calendar",
    "cgi",
    "cgitb",
    "chunk",
    "cmd",
    "code",
    "codecs",
    "codeop",
    "collections",
    "colorsys",
    "compileall",
    "compression",
    "concurrent",
    "configparser",
    "contextlib",
    "contextvars",
    "copy",
    "copyreg",
    "crypt",
    "csv",
    "ctypes",
    "curses",
    "dataclasses",
    "datetime",
    "dbm",
    "decimal",
    "difflib",
    "dis",
    "distutils",
    "doctest",
    "email",
    "encodings",
    "ensurepip",
    "enum",
    "filecmp",
    "fileinput",
    "fnmatch",
    "fractions",
    "ftplib",
    "functools",
    "genericpath",
    "getopt",
    "getpass",
    "gettext",
    "glob",
    "graphlib",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "idlelib",
    "imaplib",
    "imghdr",
    "imp",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "json",
    "keyword",
    "lib2to3",
    "linecache",
    "locale",
    "logging",
    "lzma",
    "mailbox",
    "mailcap",
    "mimetypes",
    "mmap",
    "modulefinder",
    "msilib",
    "msvcrt",
    "multiprocessing",
    "netrc",
    "nis",
    "nntplib",
    "nt",
    "ntpath",
    "nturl2path",
    "numbers",
    "opcode",
    "operator",
    "optparse",
    "os",
    "ossaudiodev",
    "pathlib",
    "pdb",
    "pickle",
    "pickletools",
    "pipes",
    "pkgutil",
    "platform",
    "plistlib",
    "poplib",
    "posixpath",
    "pprint",
    "profile",
    "pstats",
    "pty",
    "py_compile",
    "pyclbr",
    "pydoc",
    "pydoc_data",
    "queue",
    "quopri",
    "random",
    "re",
    "readline",
    "reprlib",
    "resource",
    "rlcompleter",
    "runpy",
    "sched",
    "secrets",
    "selectors",
    "shelve",
    "shlex",
    "shutil",
    "signal",
    "site",
    "smtpd",
    "smtplib",
    "sndhdr",
    "socket",
    "socketserver",
    "sqlite3",
    "sre_compile",
    "sre_constants",
    "sre_parse",
    "ssl",
    "stat",
    "statistics",
    "string",
    "stringprep",
    "struct",
    "subprocess",
    "sunau",
    "symtable",
    "sysconfig",
    "tabnanny",
    "tarfile",
    "telnetlib",
    "tempfile",
    "termios",
    "textwrap",
    "this",
    "threading",
    "timeit",
    "tkinter",
    "token",
    "tokenize",
    "tomllib",
    "trace",
    "traceback",
    "tracemalloc",
    "tty",
    "turtle",
    "turtledemo",
    "types",
    "typing",
    "unittest",
    "urllib",
    "uu",
    "uuid",
    "venv",
    "warnings",
    "wave",
    "weakref",
    "webbrowser",
    "winreg",
    "winsound",
    "wsgiref",
    "xdrlib",
    "xml",
    "xmlrpc",
    "zipapp",
    "zipfile",
    "zipimport",
    "zoneinfo",
];

/// Whether the command is `python -m MODULE` (any interpreter named
/// `python` or `python3`, also by path).
fn module_run(cmd: &SimpleCommand, module: &str) -> bool {
    matches!(
        cmd.argv.first().map(|a| basename(a)),
        Some("python" | "python3")
    ) && cmd.argv.get(1).map(String::as_str) == Some("-m")
        && cmd.argv.get(2).map(String::as_str) == Some(module)
}

/// Whether a pip command names an editable requirement: `-e` (alone or in
/// a bundle of short options), `--editable` or an abbreviation of it,
/// `PIP_EDITABLE`.
fn editable(inv: &Invocation<'_>) -> bool {
    inv.has("PIP_EDITABLE")
        || inv.args.iter().any(|a| {
            a.starts_with("--ed")
                || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains('e'))
        })
}

/// The lock file an install leaves as it is when the lock agrees with its
/// manifest ([`Entry::keeps_agreeing_lock`]): given no package argument,
/// no variable on the command line, and only options the entry lists for
/// it (`--omit=dev`, `--no-audit`), in any form.
fn kept_lock(e: &Entry, inv: &Invocation<'_>, positional: &[&str]) -> Vec<String> {
    if kept_lock_holds(e, inv, positional) {
        e.keeps_agreeing_lock.clone()
    } else {
        Vec::new()
    }
}

/// Whether the line is one with which [`Entry::keeps_agreeing_lock`]
/// holds (see [`kept_lock`]).
fn kept_lock_holds(e: &Entry, inv: &Invocation<'_>, positional: &[&str]) -> bool {
    if e.keeps_agreeing_lock.is_empty() {
        return false;
    }
    // The positional words start with the subcommands.
    let skip = usize::from(e.sub.is_some()) + usize::from(e.sub2.is_some());
    if positional.len() > skip || !inv.cmd.assignments.is_empty() {
        return false;
    }
    let listed = |a: &str| {
        let name = a.split_once('=').map_or(a, |(n, _)| n);
        e.agreeing_lock_options.iter().any(|o| o == name)
    };
    // The value of a value option given as the next word is no option.
    let mut skip = false;
    for a in inv.args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if !a.starts_with('-') {
            continue;
        }
        if !listed(a) {
            return false;
        }
        skip = !a.contains('=')
            && (e.value_options.iter().any(|o| o == a) || e.word_options.iter().any(|o| o == a));
    }
    true
}

/// A global install (`npm install -g`): it writes the global folders, and
/// reads what it installs. Its package arguments are names, a path among
/// them read whole (`npm i -g .`, `npm i -g /app`); without any it installs
/// the package of its working directory, the whole directory (npm's
/// `install -g` with no arguments), so it reads that.
fn global_install(e: &Entry, inv: &Invocation<'_>, facts: &mut CommandFacts) -> Result<(), String> {
    facts.writes = e.global_writes.clone();
    // `npm i -g --prefix DIR`: the global folder is DIR.
    if let Some(dir) = facts.chdir.take() {
        facts
            .writes
            .push(format!("{}/**", dir.trim_end_matches('/')));
    }
    let positional = option_values(e, inv.name, inv.args, inv.env, facts)?;
    let skip = usize::from(e.sub.is_some()) + usize::from(e.sub2.is_some());
    let packages: Vec<&str> = positional.into_iter().skip(skip).collect();
    if packages.is_empty() {
        push_path_read(facts, ".");
        return Ok(());
    }
    package_names(facts, &packages);
    global_scripts_read_workdir(e, inv, facts);
    Ok(())
}

/// What the install scripts of a global install's packages may read
/// ([`Entry::global_scripts`]): the whole working directory, their
/// `INIT_CWD`. msw's postinstall copies its worker into the
/// `msw.workerDirectory` of `$INIT_CWD/package.json` (measured with
/// BuildKit, node:20-slim, npm 10.8.2: `npm install -g msw@2.7.0` moved
/// above `COPY . .` left the shipped worker in the image, not msw's).
fn global_scripts_read_workdir(e: &Entry, inv: &Invocation<'_>, facts: &mut CommandFacts) {
    if e.global_scripts && !inv.args.contains(&"--ignore-scripts") {
        push_path_read(facts, ".");
    }
}

/// The directory a dir option names (`-d DIR`, `-dDIR`, `--working-dir
/// DIR`, `--working-dir=DIR`; see [`Entry::dir_options`]). A value this
/// cannot follow (a variable, a glob, `~`, none) or the option given twice
/// makes the command unknown.
fn dir_option(e: &Entry, args: &[&str]) -> Result<Option<String>, String> {
    let mut found: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        let mut value: Option<&str> = None;
        for o in &e.dir_options {
            if a == o {
                value = Some(args.get(i + 1).copied().unwrap_or(""));
                i += 1;
            } else if let Some(rest) = a.strip_prefix(o.as_str()) {
                if o.starts_with("--") {
                    value = rest.strip_prefix('=');
                } else if o.len() == 2 && !rest.is_empty() {
                    value = Some(rest.strip_prefix('=').unwrap_or(rest));
                }
            }
            if value.is_some() {
                break;
            }
        }
        if let Some(v) = value {
            let computed = v.is_empty()
                || v.starts_with('-')
                || v.starts_with('~')
                || v.contains(['$', '`', '*', '?', '[']);
            if computed {
                return Err(format!("`{a}` names a directory that is not followed"));
            }
            if found.is_some() {
                return Err(format!("`{a}` is given twice"));
            }
            found = Some(v.to_string());
        }
        i += 1;
    }
    Ok(found)
}

/// Interprets command `n` of a `RUN`'s commands: as [`interpret`], except
/// for `php` running what the analysis knows (see [`php_facts`]).
pub fn interpret_in(
    cmds: &[SimpleCommand],
    n: usize,
    kb: &KnowledgeBase,
    env: &std::collections::BTreeMap<String, String>,
) -> CommandFacts {
    let Some(c) = cmds.get(n) else {
        return CommandFacts::default();
    };
    if c.argv.first().is_some_and(|a| basename(a) == "php")
        && let Some(f) = php_facts(cmds, n, kb, env)
    {
        return f;
    }
    interpret(c, kb, env)
}

/// `php` running Composer's installer or Composer, as getcomposer.org
/// documents them: the installer piped from its address (`curl -sS
/// https://getcomposer.org/installer | php -- --install-dir=D
/// --filename=F`), saved and run (`php -r "copy('https://getcomposer.org/
/// installer', 'composer-setup.php');"`, the documented hash check and
/// `unlink`, `php composer-setup.php …`), and the PHAR it makes (`php
/// composer.phar install`, read as `composer install`). `None` for any
/// other `php` (a script the analysis does not read).
fn php_facts(
    cmds: &[SimpleCommand],
    n: usize,
    kb: &KnowledgeBase,
    env: &std::collections::BTreeMap<String, String>,
) -> Option<CommandFacts> {
    let c = &cmds[n];
    let args: Vec<&str> = c.argv[1..].iter().map(String::as_str).collect();
    if !c.redirect_reads.is_empty() {
        return None;
    }
    match *args.first()? {
        "--" if piped_composer_installer(cmds, n) => Some(composer_installer(&args[1..], None)),
        "-r" if args.len() == 2 => composer_setup_snippet(args[1]),
        s if basename(s) == "composer-setup.php" => Some(composer_installer(&args[1..], Some(s))),
        s if basename(s) == "composer.phar" => {
            let mut sc = c.clone();
            sc.argv.remove(0);
            sc.argv[0] = "composer".to_string();
            let mut f = interpret(&sc, kb, env);
            f.reads.push(s.to_string());
            Some(f)
        }
        _ => None,
    }
}

/// The installer's address, as `curl` or `wget` write it to standard
/// output, piped into command `n`.
fn piped_composer_installer(cmds: &[SimpleCommand], n: usize) -> bool {
    let (Some(c), Some(prev)) = (cmds.get(n), n.checked_sub(1).and_then(|k| cmds.get(k))) else {
        return false;
    };
    if c.joined_by != Some(super::shell::Op::Pipe) || !prev.redirect_writes.is_empty() {
        return false;
    }
    let url = |a: &String| {
        matches!(
            a.as_str(),
            "https://getcomposer.org/installer" | "http://getcomposer.org/installer"
        )
    };
    let args = &prev.argv[1..];
    match prev.argv.first().map(|a| basename(a)) {
        Some("curl") => {
            args.iter().any(url)
                && args.iter().all(|a| {
                    url(a)
                        || matches!(
                            a.as_str(),
                            "-s" | "-S"
                                | "-sS"
                                | "-Ss"
                                | "-L"
                                | "-sSL"
                                | "-fsSL"
                                | "-f"
                                | "--silent"
                                | "--show-error"
                                | "--location"
                                | "--fail"
                        )
                })
        }
        Some("wget") => {
            args.iter().any(url)
                && args.iter().any(|a| {
                    matches!(
                        a.as_str(),
                        "-O-" | "-qO-" | "-qO" | "-O" | "--output-document=-"
                    )
                })
                && args.iter().all(|a| {
                    url(a)
                        || matches!(
                            a.as_str(),
                            "-O-"
                                | "-qO-"
                                | "-qO"
                                | "-O"
                                | "-"
                                | "-q"
                                | "--quiet"
                                | "--output-document=-"
                        )
                })
                && !args
                    .windows(2)
                    .any(|w| matches!(w[0].as_str(), "-O" | "-qO") && w[1] != "-")
        }
        _ => false,
    }
}

/// What getcomposer.org's installer does with `args`: writes the PHAR
/// (`--filename`, default `composer.phar`) into `--install-dir` (default
/// the working directory), and Composer's home (its public keys); `script`
/// is the saved installer it reads. An option it does not know, or a
/// directory or name with a variable, makes it unknown.
fn composer_installer(args: &[&str], script: Option<&str>) -> CommandFacts {
    let mut facts = CommandFacts::default();
    let (mut dir, mut name) = (".".to_string(), "composer.phar".to_string());
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        let (opt, inline) = match a.split_once('=') {
            Some((o, v)) => (o, Some(v.to_string())),
            None => (a, None),
        };
        match opt {
            "--install-dir" | "--filename" | "--version" | "--cafile" => {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        i += 1;
                        args.get(i).map(|s| s.to_string()).unwrap_or_default()
                    }
                };
                if v.is_empty() || v.contains(['$', '`', '*', '?', '~']) {
                    facts.unknown = Some(format!("`{a}` of Composer's installer is not followed"));
                    return facts;
                }
                match opt {
                    "--install-dir" => dir = v,
                    "--filename" if !v.contains('/') => name = v,
                    "--filename" => {
                        facts.unknown = Some(format!("`{a}` names a path"));
                        return facts;
                    }
                    "--cafile" => facts.reads.push(v),
                    _ => {}
                }
            }
            "--1" | "--2" | "--2.2" | "--stable" | "--preview" | "--snapshot" | "--quiet"
            | "--no-ansi" | "--ansi" => {}
            _ => {
                facts.unknown = Some(format!("`{a}` of Composer's installer is not described"));
                return facts;
            }
        }
        i += 1;
    }
    let dir = dir.trim_end_matches('/');
    let dir = if dir.is_empty() { "/" } else { dir };
    // Composer's public keys into its home (~/.composer, or
    // ~/.config/composer), nothing else there.
    facts.writes = vec![
        format!("{dir}/{name}").replace("//", "/"),
        "/root/.composer/keys.dev.pub".into(),
        "/root/.composer/keys.tags.pub".into(),
        "/root/.config/composer/keys.dev.pub".into(),
        "/root/.config/composer/keys.tags.pub".into(),
        "/tmp/**".into(),
    ];
    facts.reads.extend([
        "/root/.composer/**".to_string(),
        "/root/.config/composer/**".to_string(),
    ]);
    if let Some(s) = script {
        facts.reads.push(s.to_string());
    }
    facts.cost = Some(CostClass::Run);
    facts.env = Some(composer_setup_env());
    facts.path_env = [
        "COMPOSER_HOME",
        "COMPOSER_CACHE_DIR",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "PHPRC",
        "PHP_INI_SCAN_DIR",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ]
    .map(String::from)
    .to_vec();
    facts.home = Some(vec![
        ".composer/**".into(),
        ".config/**".into(),
        ".cache/**".into(),
    ]);
    facts
}

/// The variables Composer's installer and `php` read.
fn composer_setup_env() -> Vec<String> {
    [
        "COMPOSER_*",
        "XDG_*",
        "PHPRC",
        "PHP_INI_SCAN_DIR",
        "SSL_CERT_*",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "CGI_HTTP_PROXY",
    ]
    .map(String::from)
    .to_vec()
}

/// The `php -r` steps getcomposer.org documents around its installer:
/// saving it as `composer-setup.php`, checking its hash (which deletes it
/// when it does not match) and deleting it. Whitespace does not matter;
/// any other code is not followed.
fn composer_setup_snippet(code: &str) -> Option<CommandFacts> {
    let tight: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let save = ["https", "http"]
        .iter()
        .any(|s| tight == format!("copy('{s}://getcomposer.org/installer','composer-setup.php');"));
    let remove = tight == "unlink('composer-setup.php');";
    let check = tight
        .strip_prefix("if(hash_file('sha384','composer-setup.php')==='")
        .and_then(|r| {
            r.strip_suffix(
                "'){echo'Installerverified';}else{echo'Installercorrupt';unlink('composer-setup.php');}echoPHP_EOL;",
            )
        })
        .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()));
    if !(save || remove || check) {
        return None;
    }
    let mut facts = CommandFacts {
        writes: vec!["composer-setup.php".into()],
        cost: Some(if save {
            CostClass::Run
        } else {
            CostClass::Cheap
        }),
        env: Some(composer_setup_env()),
        path_env: ["PHPRC", "PHP_INI_SCAN_DIR", "SSL_CERT_FILE", "SSL_CERT_DIR"]
            .map(String::from)
            .to_vec(),
        home: Some(Vec::new()),
        ..CommandFacts::default()
    };
    if check {
        facts.reads.push("composer-setup.php".into());
    }
    Some(facts)
}

/// The command's words as the knowledge base names them: `python -m pip`
/// is pip and `python -m venv DIR` is venv. A program run by a path outside
/// the usual bin directories is not the tool the base describes (a venv's
/// pip writes into the venv), except pip run from the `bin` directory of a
/// prefix (`/opt/venv/bin/pip`, `venv/bin/python -m pip`): pip, whose
/// prefix is also returned, which it reads (its interpreter, packages and
/// `pip.conf`) and writes besides what the base says.
fn command_words(cmd: &SimpleCommand) -> Result<(Vec<&str>, Option<String>), String> {
    let mut argv: Vec<&str> = cmd.argv.iter().map(String::as_str).collect();
    let by_path = |name0: &str| {
        name0.contains('/')
            && ![
                "/usr/bin/",
                "/usr/local/bin/",
                "/bin/",
                "/usr/sbin/",
                "/sbin/",
            ]
            .iter()
            .any(|p| name0.starts_with(p))
    };
    if matches!(basename(argv[0]), "python" | "python3")
        && argv.get(1) == Some(&"-m")
        && argv.get(2).is_some_and(|m| matches!(*m, "pip" | "venv"))
    {
        // The interpreter decides where pip installs: `venv/bin/python -m
        // pip` (also `./venv/bin/python`) writes into that venv.
        let prefix = if by_path(argv[0]) {
            if argv[2] != "pip" {
                return Err(format!("`{}` is run by path", argv[0]));
            }
            Some(bin_prefix(argv[0]).ok_or_else(|| format!("`{}` is run by path", argv[0]))?)
        } else {
            None
        };
        argv.drain(0..2);
        return Ok((argv, prefix));
    }
    let name0 = argv[0];
    if by_path(name0) && !name0.starts_with("./") {
        if matches!(basename(name0), "pip" | "pip3")
            && let Some(prefix) = bin_prefix(name0)
        {
            return Ok((argv, Some(prefix)));
        }
        return Err(format!("`{name0}` is run by path"));
    }
    Ok((argv, None))
}

/// The prefix of a program named by a plain path into a `bin` directory
/// (`/opt/venv/bin/pip` gives `/opt/venv`, `./venv/bin/python` gives
/// `./venv`): letters, digits and `._-/+@` only, no `..`, and not the
/// root (whose `bin` holds the system's programs).
fn bin_prefix(program: &str) -> Option<String> {
    let (dir, _) = program.rsplit_once('/')?;
    let prefix = dir.strip_suffix("/bin")?;
    let plain = !prefix.is_empty()
        && prefix
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._-/+@".contains(ch))
        && !prefix.split('/').any(|seg| seg == "..")
        && !matches!(
            prefix.trim_end_matches('/'),
            "" | "." | "/usr" | "/usr/local"
        );
    plain.then(|| prefix.to_string())
}

/// The first entry for this command and its subcommands.
fn find_entry<'k>(kb: &'k KnowledgeBase, name: &str, argv: &[&str]) -> Option<&'k Entry> {
    kb.commands.iter().find(|e| {
        if !e.command.iter().any(|c| c == name) {
            return false;
        }
        let positional: Vec<&str> = positionals(&argv[1..], e);
        let given = |o: &String| {
            argv[1..].iter().any(|a| {
                a == o
                    || a.strip_prefix(o.as_str())
                        .is_some_and(|r| r.starts_with('='))
            })
        };
        if e.not_with.iter().any(given) {
            return false;
        }
        if e.names_required && !names_a_package(&argv[1..], e) {
            return false;
        }
        match &e.sub {
            None => true,
            Some(subs) => {
                let first = positional.first().copied().unwrap_or("");
                let ok = subs.iter().any(|s| s == first)
                    || (first.is_empty() && subs.iter().any(|s| s.is_empty()));
                ok && match &e.sub2 {
                    None => true,
                    Some(s2) => positional.get(1).is_some_and(|p| s2.iter().any(|s| s == p)),
                }
            }
        }
    })
}

/// Whether a word after the entry's subcommands is an argument, not an
/// option or the value of one the entry names (`--version 0.1.62` is
/// neither a name nor two: `positionals` keeps `--version` for the
/// commands that take it as their subcommand).
fn names_a_package(args: &[&str], e: &Entry) -> bool {
    let skip = usize::from(e.sub.is_some()) + usize::from(e.sub2.is_some());
    let mut words = 0;
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if a.starts_with('-') && a.len() > 1 {
            if let Some((_, attached)) = e.short_value(a) {
                i += usize::from(attached.is_none());
            } else if !a.contains('=') && e.takes_value(a) {
                i += 1;
            }
        } else {
            words += 1;
            if words > skip {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// The entry's own manifests: the files of `reads` relative to where it
/// runs (not trees, not absolute settings).
fn own_manifests(e: &Entry) -> impl Iterator<Item = &String> {
    e.reads
        .iter()
        .filter(|r| !r.contains("**") && !r.starts_with('/'))
}

/// The files the entry names: reads (those relative and without `**` are
/// manifests) and writes (some skipped by a flag, some only when missing).
fn entry_files(e: &Entry, inv: &Invocation<'_>, facts: &mut CommandFacts) {
    facts.reads = e.reads.clone();
    facts.parent_reads = e.parent_reads.clone();
    facts.parent_writes = e.parent_writes.clone();
    facts.manifests = own_manifests(e).cloned().collect();
    for w in &e.writes {
        let skip = e.writes_unless.get(w).is_some_and(|flags| {
            // Bundler: a `frozen` setting given as off may win over
            // `deployment` (the later releases' `frozen_bundle?` takes an
            // explicit `frozen` first, as remembered, not read; 2.3.15
            // takes either): only the command's own `--frozen` keeps the
            // lock then.
            let frozen_off =
                flags.iter().any(|f| f == "BUNDLE_FROZEN") && inv.has_off("BUNDLE_FROZEN");
            flags.iter().any(|f| {
                (!frozen_off || f == "--frozen")
                    && (inv.has_on(f) || inv.args.first() == Some(&f.as_str()))
            })
        });
        if e.writes_unless.get(w).is_some_and(Vec::is_empty) {
            facts.writes_if_missing.push(w.clone());
        }
        if !skip {
            facts.writes.push(w.clone());
        }
    }
}

/// Options with values: what they read and write. Returns the positional
/// arguments; `Err` for an option the entry does not describe given a
/// value that may name a file or directory (`yarn --cwd=sub`, `go mod
/// download -modfile=alt.mod`): it may be where the command runs, what it
/// reads or where it writes.
fn option_values<'a>(
    e: &Entry,
    name: &str,
    args: &[&'a str],
    env: &std::collections::BTreeMap<String, String>,
    facts: &mut CommandFacts,
) -> Result<Vec<&'a str>, String> {
    let mut i = 0;
    let mut positional = Vec::new();
    while i < args.len() {
        let a = args[i];
        if let Some((opt, attached)) = e.short_value(a) {
            // `-Ur FILE`, `-rFILE`: the value of the bundle's last option.
            let value = match attached {
                Some(v) => Some(v.to_string()),
                None => {
                    i += 1;
                    args.get(i).map(|s| s.to_string())
                }
            };
            if let Some(v) = value {
                option_value_effects(e, &opt, v, env, facts);
            }
            i += 1;
            continue;
        }
        let (opt, inline) = match a.split_once('=') {
            Some((o, v)) if o.starts_with('-') => (o, Some(v.to_string())),
            _ => (a, None),
        };
        if !(opt.starts_with('-') && opt.len() > 1) {
            positional.push(a);
            i += 1;
            continue;
        }
        if inline.is_none() && e.array_options.iter().any(|o| o == opt) {
            // Every following word up to the next option is a value.
            while let Some(v) = args.get(i + 1).filter(|v| !v.starts_with('-')) {
                option_value_effects(e, opt, v.to_string(), env, facts);
                i += 1;
            }
            i += 1;
            continue;
        }
        let takes_value = e.takes_value(opt);
        let value = match (takes_value, inline) {
            (true, Some(v)) => Some(v),
            (true, None) => {
                i += 1;
                args.get(i).map(|s| s.to_string())
            }
            (false, Some(v)) if e.describes(opt) || names_no_path(&v) => {
                // `--save=false`, `--network-concurrency=1`: no path.
                push_path_read(facts, &v);
                None
            }
            (false, Some(_)) => {
                // `--cwd=sub`, `--prefix=sub`, `--editable=/opt/pkg`: a
                // value that may name a directory or file, `sub` as well
                // as `./sub`.
                return Err(format!("`{name}` with `{a}` is not described"));
            }
            (false, None) => {
                if abbreviates_value_option(e, opt) {
                    return Err(format!(
                        "`{name}` with `{a}` may be an abbreviated option taking a value"
                    ));
                }
                None
            }
        };
        if let Some(v) = value {
            option_value_effects(e, opt, v, env, facts);
        }
        i += 1;
    }
    Ok(positional)
}

/// Whether the long option `opt`, which the entry does not describe, may
/// be an optparse abbreviation of one that takes a value (see
/// [`Entry::abbreviation_flags`]).
fn abbreviates_value_option(e: &Entry, opt: &str) -> bool {
    if e.abbreviation_flags.is_empty()
        || !opt.starts_with("--")
        || opt.len() < 3
        || e.describes(opt)
        || e.abbreviation_flags.iter().any(|f| f == opt)
    {
        return false;
    }
    [
        &e.option_reads,
        &e.option_writes,
        &e.value_options,
        &e.word_options,
        &e.dir_options,
        &e.output_options,
        &e.input_options,
        &e.location_options,
        &e.setting_options,
        &e.unknown_options,
    ]
    .iter()
    .any(|list| list.iter().any(|o| o.starts_with(opt)))
}

/// BuildKit's automatic platform arguments whose value is one word (no
/// `/`): `TARGETPLATFORM` and `BUILDPLATFORM` hold `os/arch`.
const PLATFORM_WORD_ARGS: [&str; 6] = [
    "TARGETARCH",
    "TARGETOS",
    "TARGETVARIANT",
    "BUILDARCH",
    "BUILDOS",
    "BUILDVARIANT",
];

/// Whether the value of a [`Entry::word_options`] option is one word that
/// names no file: a literal, or `$X`/`${X}` (quoted or not) of an
/// automatic platform argument the stage declares without a default
/// (its value is BuildKit's, one word of the platform) or sets to such a
/// literal word. Undeclared, it is empty and the option would take the
/// next argument; set by an `ENV`, or to anything else, it is not known.
fn platform_word(v: &str, env: &std::collections::BTreeMap<String, String>) -> bool {
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if word(v) {
        return true;
    }
    let v = v
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(v);
    let Some(rest) = v.strip_prefix('$') else {
        return false;
    };
    let name = rest
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(rest);
    if !PLATFORM_WORD_ARGS.contains(&name) {
        return false;
    }
    match env.get(name) {
        Some(val) if val == super::effects::UNKNOWN_ARG_VALUE => true,
        Some(val) => word(val),
        None => false,
    }
}

/// What the value of a named option reads or writes.
fn option_value_effects(
    e: &Entry,
    opt: &str,
    v: String,
    env: &std::collections::BTreeMap<String, String>,
    facts: &mut CommandFacts,
) {
    let is = |list: &[String]| list.iter().any(|o| o == opt);
    if is(&e.word_options) && platform_word(&v, env) {
        // An architecture, OS or runtime name: no file.
        return;
    }
    if is(&e.dir_options) {
        // Where the command runs (see `dir_option`), not a file it reads.
        return;
    }
    if is(&e.location_options) {
        for p in location_paths(&v) {
            let base = p.trim_end_matches('/');
            let base = if base.is_empty() { "/" } else { base };
            facts.reads.push(base.to_string());
            facts
                .reads
                .push(format!("{}/**", base.trim_end_matches('/')));
        }
        return;
    }
    if is(&e.setting_options) {
        // `KEY=VALUE`: the value may name a place the tool reads and
        // writes instead of its default (apt's `Dir::*`, `RootDir`, dnf's
        // `reposdir`, `installroot`).
        if let Some((key, value)) = v.split_once('=') {
            let before = facts.reads.len();
            // apt resolves a relative value against its parent setting's
            // (`Dir::Etc=etc` is /etc), but `Dir` and `RootDir` have none:
            // a bare word is a directory where it runs (apt's
            // Configuration::FindFile), `-o Dir=root` reads ./root.
            let top = ["dir", "rootdir"].contains(&key.to_ascii_lowercase().as_str());
            if top && !value.starts_with(['/', '.', '~', '$']) && !value.is_empty() {
                push_path_read(facts, &format!("./{value}"));
            } else {
                push_path_read(facts, value);
            }
            let named: Vec<String> = facts.reads[before..].to_vec();
            facts.writes.extend(named);
        }
        return;
    }
    // An option of `option_writes` also listed in `value_options` names a
    // place it reads as well (apk's `--root`).
    let named = is(&e.option_reads)
        || is(&e.input_options)
        || (is(&e.option_writes) && !is(&e.value_options))
        || is(&e.output_options);
    if !named {
        push_path_read(facts, &v);
    }
    if is(&e.option_reads) || is(&e.input_options) {
        facts.reads.push(v.clone());
        facts.manifests.push(v.clone());
    }
    if is(&e.option_writes) || (e.tar && is(&e.output_options)) {
        facts.writes.push(format!("{}/**", v.trim_end_matches('/')));
    } else if is(&e.output_options) {
        facts.writes.push(v);
    }
}

/// The paths a location option's value (`-f`, `-i`, `--cert`, `-e`) may
/// name: a remote URL none, anything else a path whatever it looks like.
/// `file:` URLs name one (`file://localhost/x` is `/x`, pip's
/// `url_to_path`), and so do VCS ones over `file:` (`-e
/// git+file:///src/lib@v1#egg=lib`: the repository git clones, with and
/// without what may be a revision); a project's `[extras]` (`-e .[dev]`)
/// and a URL's `#fragment` are not part of the path. Each candidate is
/// kept with its cut versions (an over-approximation).
pub(crate) fn location_paths(v: &str) -> Vec<String> {
    let vcs = ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .find_map(|s| v.strip_prefix(s));
    let rest = vcs.unwrap_or(v);
    let file = rest
        .strip_prefix("file://localhost/")
        .map(|r| (true, r))
        .or_else(|| rest.strip_prefix("file://").map(|r| (false, r)))
        .or_else(|| rest.strip_prefix("file:").map(|r| (false, r)));
    let mut out: Vec<String> = Vec::new();
    let mut push = |p: &str| {
        if !p.is_empty() && !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    };
    let p = match file {
        Some((true, r)) => format!("/{r}"),
        Some((false, r)) => r.to_string(),
        // `git+https://…`, `https://…`: remote.
        None if vcs.is_some() || v.contains("://") => return out,
        None => v.to_string(),
    };
    if p.contains("://") {
        return out;
    }
    push(&p);
    let mut cuts = vec![p.clone()];
    if file.is_some()
        && let Some((before, _)) = p.split_once('#')
    {
        cuts.push(before.to_string());
    }
    if vcs.is_some() {
        for c in cuts.clone() {
            if let Some((before, _)) = c.rsplit_once('@') {
                cuts.push(before.to_string());
            }
        }
    }
    for c in cuts.clone() {
        if let Some(k) = c.find('[')
            && k > 0
            && c.ends_with(']')
        {
            cuts.push(c[..k].to_string());
        }
    }
    for c in &cuts {
        push(c);
    }
    out
}

/// Package-name arguments: a path among them is read whole, and the names
/// are kept (`None` when one holds a variable).
fn package_names(facts: &mut CommandFacts, names: &[&str]) {
    facts.packages = Some(Vec::new());
    for &r in names {
        push_path_read(facts, r);
        match &mut facts.packages {
            Some(p) if !r.contains('$') => p.push(r.to_string()),
            _ => facts.packages = None,
        }
    }
}

/// What the positional arguments (after the subcommand words) read and
/// write; an argument the entry does not describe makes it unknown.
fn positional_effects(
    e: &Entry,
    inv: &Invocation<'_>,
    positional: Vec<&str>,
    facts: &mut CommandFacts,
) -> Result<(), String> {
    let (name, args) = (inv.name, inv.args);
    if name == "set" && set_allexport(args) {
        // Every later assignment is exported: the variables the commands
        // after it see are not followed (bash(1), `set -a`).
        return Err(format!(
            "`set {}` exports every later assignment",
            args.join(" ")
        ));
    }
    let skip = usize::from(e.sub.is_some()) + usize::from(e.sub2.is_some());
    let mut rest: Vec<&str> = positional.into_iter().skip(skip).collect();
    // `sed -e SCRIPT FILE…` (or `-f`): the first positional is a file.
    let mut script_given = name == "sed"
        && args.iter().any(|a| {
            *a == "-e"
                || *a == "-f"
                || a.starts_with("--expression")
                || a.starts_with("--file")
                // `-ne SCRIPT`, `-es/a/b/`: bundled.
                || e.short_value(a).is_some_and(|(o, _)| o == "-e" || o == "-f")
        });
    if name == "sed" {
        // What the script does besides editing the files it is given: GNU
        // sed's `r`/`R` read a file, `w`/`W` and the `w` flag of `s`
        // write one, `e` and the `e` flag run a command; a script from a
        // file (`-f`) may do any of these (GNU sed manual, "sed commands
        // summary", "Commands Specific to GNU sed").
        let mut scripts = sed_option_scripts(args)?;
        script_given |= !scripts.is_empty();
        if !script_given {
            scripts.extend(rest.first().copied());
        }
        sed_script_problem(&scripts.join("\n"))?;
    }
    if e.first_positional_is_value.iter().any(|c| c == name) && !rest.is_empty() && !script_given {
        rest.remove(0);
    }
    match e.positional {
        Positional::None => {
            if let Some(extra) = rest.first() {
                return Err(format!("`{name}` with argument `{extra}` is not described"));
            }
        }
        Positional::Names => {
            // An argument that names or may name a path is a read of that
            // path, directory contents included (`pip install /opt/site`,
            // `gem install vendor/cache/x.gem`, `pip install .[dev]`).
            package_names(facts, &rest);
        }
        Positional::Paths => {
            // `ln`, `cp` and `install` read their sources and write only
            // the last argument (unless `-t DIR` names the target first).
            let target_option = target_directory_option(name, args)?;
            let beside = makes_backups(name, args)?;
            let first_write = facts.writes.len();
            let target_last =
                matches!(name, "ln" | "cp" | "install") && rest.len() >= 2 && !target_option;
            let last = rest.len().saturating_sub(1);
            let into_dir =
                rest.len() >= 2 && dots_only(rest[last]) && options_keep_names(name, args);
            if name == "ln" && rest.len() == 1 && !target_option {
                // `ln -s /opt/x`: the link is `./x`, in the directory the
                // command runs in.
                let at = if options_keep_names(name, args) {
                    placed_in_dir(".", rest[0])
                } else {
                    "./**".to_string()
                };
                facts.reads.push(at.clone());
                facts.writes.push(at);
            }
            for (k, r) in rest.iter().enumerate() {
                let p = r.trim_end_matches('/').to_string();
                if k == last && into_dir {
                    // Each source lands on its own name in the target,
                    // where what is already there decides the outcome.
                    for src in &rest[..last] {
                        facts.reads.push(placed_in_dir(&p, src));
                        facts.writes.push(placed_in_dir(&p, src));
                    }
                    continue;
                }
                facts.reads.push(format!("{p}/**"));
                if !target_last || k == last {
                    facts.writes.push(format!("{p}/**"));
                }
            }
            if beside {
                // A backup is a new name in the written path's directory.
                let parents: Vec<String> = facts.writes[first_write..]
                    .iter()
                    .map(|w| format!("{}/../**", w.trim_end_matches("/**")))
                    .collect();
                facts.writes.extend(parents);
            }
        }
        Positional::Reads => {
            for r in rest {
                facts.reads.push(r.to_string());
                facts.manifests.push(r.to_string());
            }
        }
        Positional::Ignore => {}
    }
    Ok(())
}

/// Whether `set` turns on `allexport`: `-a` alone or in a bundle
/// (`-ea`), or `-o allexport` (bundled `-eo allexport` too); a word after
/// `-o` is an option name, not letters.
fn set_allexport(args: &[&str]) -> bool {
    let mut next_is_name = false;
    for a in args {
        if next_is_name {
            if *a == "allexport" {
                return true;
            }
            next_is_name = false;
            continue;
        }
        if *a == "--" || !a.starts_with('-') {
            break;
        }
        let letters = &a[1..];
        if letters.contains('a') {
            return true;
        }
        next_is_name = letters.ends_with('o');
    }
    false
}

/// The scripts `sed` is given by option (`-e SCRIPT`, `-eSCRIPT`, `-ne
/// SCRIPT`, `--expression[=]SCRIPT` or an abbreviation of it); a script
/// file (`-f`, `--file`, bundled or abbreviated) is not described: what
/// it holds is not read here.
fn sed_option_scripts<'a>(args: &[&'a str]) -> Result<Vec<&'a str>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        i += 1;
        if a == "--" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (opt, inline) = match long.split_once('=') {
                Some((o, v)) => (o, Some(v)),
                None => (long, None),
            };
            if opt.is_empty() {
                continue;
            }
            if "file".starts_with(opt) && opt.len() >= 2 {
                return Err(format!("`sed` with `{a}`: a script file is not read"));
            }
            if "expression".starts_with(opt) {
                match inline {
                    Some(v) => out.push(v),
                    None => {
                        out.extend(args.get(i).copied());
                        i += 1;
                    }
                }
            }
            continue;
        }
        let Some(bundle) = a.strip_prefix('-').filter(|b| !b.is_empty()) else {
            continue;
        };
        for (k, c) in bundle.char_indices() {
            let rest = &bundle[k + c.len_utf8()..];
            match c {
                'f' => return Err(format!("`sed` with `{a}`: a script file is not read")),
                'e' | 'l' => {
                    if rest.is_empty() {
                        if c == 'e' {
                            out.extend(args.get(i).copied());
                        }
                        i += 1;
                    } else if c == 'e' {
                        out.push(rest);
                    }
                    break;
                }
                // `-i[SUFFIX]`: the rest of the bundle is the suffix.
                'i' => break,
                _ => {}
            }
        }
    }
    Ok(out)
}

/// Whether the `$` at `i` may start a variable the shell expanded
/// (`$NAME`, `${…}`): the splitter keeps `$` as written, in single
/// quotes or not.
fn var_after(b: &[char], i: usize) -> bool {
    b.get(i + 1)
        .is_some_and(|n| *n == '{' || *n == '_' || n.is_ascii_alphabetic())
}

/// Why a GNU sed script may read, write or run more than the files it is
/// given, if it may: a command or `s` flag that names a file or runs one
/// (`r`, `R`, `w`, `W`, `e`; `s///w FILE`, `s///e`), a variable where a
/// part of `s` or `y` stands (its value could close the part and add a
/// flag), or anything this reading does not follow (an unknown command,
/// an unclosed part). The script is read as GNU sed compiles it: commands
/// separated by `;` or newlines, each after at most two addresses and
/// `!`; `a`, `i`, `c` take the rest of the line as text; labels end at
/// `;` or a newline.
fn sed_script_problem(script: &str) -> Result<(), String> {
    let b: Vec<char> = script.chars().collect();
    let fail = |what: &str| Err(format!("`sed` script `{script}`: {what}"));
    let mut i = 0;
    // A part of `s` or `y` closed by `delim`; the index after it.
    let part = |mut i: usize, delim: char| -> Option<usize> {
        while i < b.len() {
            match b[i] {
                '\\' => i += 2,
                c if c == delim => return Some(i + 1),
                '$' if var_after(&b, i) => return None,
                _ => i += 1,
            }
        }
        None
    };
    // One address: a line number (`N`, `N~M`), `$`, `/RE/` or `\cREc`
    // with `I`/`M` after it; `+N` and `~N` after a comma.
    let address = |mut i: usize| -> Option<usize> {
        match b.get(i) {
            Some('$') => Some(i + 1),
            Some(c) if c.is_ascii_digit() || *c == '+' || *c == '~' => {
                i += 1;
                while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == '~') {
                    i += 1;
                }
                Some(i)
            }
            Some('/') | Some('\\') => {
                let delim = if b[i] == '/' { '/' } else { *b.get(i + 1)? };
                let start = if b[i] == '/' { i + 1 } else { i + 2 };
                let mut j = start;
                while j < b.len() {
                    match b[j] {
                        '\\' => j += 2,
                        c if c == delim => break,
                        '\n' => return None,
                        '$' if var_after(&b, j) => return None,
                        _ => j += 1,
                    }
                }
                if j >= b.len() {
                    return None;
                }
                j += 1;
                while matches!(b.get(j), Some('I' | 'M')) {
                    j += 1;
                }
                Some(j)
            }
            _ => Some(i),
        }
    };
    let blank = |c: char| c == ' ' || c == '\t';
    while i < b.len() {
        if blank(b[i]) || b[i] == '\n' || b[i] == ';' || b[i] == '}' {
            i += 1;
            continue;
        }
        if b[i] == '#' {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let Some(j) = address(i) else {
            return fail("an address is not followed");
        };
        i = j;
        while i < b.len() && blank(b[i]) {
            i += 1;
        }
        if b.get(i) == Some(&',') {
            i += 1;
            while i < b.len() && blank(b[i]) {
                i += 1;
            }
            let Some(j) = address(i) else {
                return fail("an address is not followed");
            };
            i = j;
        }
        while i < b.len() && (blank(b[i]) || b[i] == '!') {
            i += 1;
        }
        let Some(&cmd) = b.get(i) else {
            return fail("a command is missing");
        };
        i += 1;
        match cmd {
            '{' => continue,
            '=' | 'd' | 'D' | 'g' | 'G' | 'h' | 'H' | 'n' | 'N' | 'p' | 'P' | 'x' | 'z' | 'F' => {}
            'q' | 'Q' | 'l' | 'L' => {
                while i < b.len() && (blank(b[i]) || b[i].is_ascii_digit()) {
                    i += 1;
                }
            }
            // A label (or a version) up to `;` or the end of the line.
            ':' | 'b' | 't' | 'T' | 'v' => {
                while i < b.len() && b[i] != ';' && b[i] != '\n' {
                    i += 1;
                }
            }
            // Text up to the end of the line (a `\` before a newline
            // continues it).
            'a' | 'i' | 'c' => {
                while i < b.len() && b[i] != '\n' {
                    i += if b[i] == '\\' { 2 } else { 1 };
                }
            }
            's' | 'y' => {
                let Some(&delim) = b.get(i).filter(|d| **d != '\\' && **d != '\n') else {
                    return fail("a delimiter is not followed");
                };
                let Some(j) = part(i + 1, delim).and_then(|j| part(j, delim)) else {
                    return fail("a part is not closed, or holds a variable");
                };
                i = j;
                if cmd == 's' {
                    while let Some(&f) = b.get(i) {
                        match f {
                            'g' | 'p' | 'i' | 'I' | 'm' | 'M' => i += 1,
                            c if c.is_ascii_digit() => i += 1,
                            'w' | 'e' => return fail("its `s` writes a file or runs a command"),
                            _ => break,
                        }
                    }
                }
            }
            'r' | 'R' | 'w' | 'W' | 'e' => {
                return fail(&format!("its `{cmd}` command reads, writes or runs a file"));
            }
            _ => return fail(&format!("the command `{cmd}` is not described")),
        }
        while i < b.len() && blank(b[i]) {
            i += 1;
        }
        match b.get(i) {
            None | Some(';' | '\n' | '}' | '#') => {}
            Some(_) => return fail("a command is not followed"),
        }
    }
    Ok(())
}

/// Whether `target` is made of `.` and `..` only: the directory a command
/// runs in or one above it, which exists, so that `cp`, `mv` and `ln` put
/// each source inside it under the source's own name.
fn dots_only(target: &str) -> bool {
    let t = target.trim_end_matches('/');
    !t.is_empty()
        && !t.starts_with('/')
        && t.split('/').all(|c| c.is_empty() || c == "." || c == "..")
}

/// Whether the options of `cp`, `mv` or `ln` leave each source landing on
/// its own name in the target directory: none changes where the copies
/// land (`-T`, `-t`, `--parents`) or adds files beside them (backups:
/// `-b`, `-S`). Short options are read letter by letter against each
/// tool's known harmless ones; any other option keeps the coarse answer.
fn options_keep_names(name: &str, args: &[&str]) -> bool {
    let harmless_short = match name {
        "cp" => "adfHilLnPpRrsuvx",
        "mv" => "finuv",
        "ln" => "finsvrLP",
        _ => return false,
    };
    let harmless_long = [
        "--archive",
        "--force",
        "--interactive",
        "--no-clobber",
        "--recursive",
        "--verbose",
        "--update",
        "--symbolic",
        "--relative",
        "--dereference",
        "--no-dereference",
        "--logical",
        "--physical",
        "--link",
    ];
    args.iter().all(|a| {
        if a.starts_with("--") {
            let opt = a.split_once('=').map_or(*a, |(o, _)| o);
            // `--preserve=…` and `--no-preserve=…` only copy attributes.
            opt == "--preserve" || opt == "--no-preserve" || harmless_long.contains(&opt)
        } else if let Some(short) = a.strip_prefix('-') {
            !short.is_empty() && short.chars().all(|c| harmless_short.contains(c))
        } else {
            true
        }
    })
}

/// Whether `cp`, `mv`, `ln` or `install` are given their target directory
/// by option (`-t DIR`, `-rt DIR`, `--target-directory DIR`), so that no
/// positional argument is written as the target. A directory attached to
/// a short option (`-t.`, `-rt..`) is not described: it is in no
/// positional argument at all.
fn target_directory_option(name: &str, args: &[&str]) -> Result<bool, String> {
    // The short options of these tools that take a value: the rest of a
    // bundle after one of them is that value (`-m0755`, `-S.old`).
    let valued = match name {
        "cp" | "mv" | "ln" => "St",
        "install" => "gmoSt",
        _ => return Ok(false),
    };
    let mut given = false;
    for a in args {
        if *a == "--" {
            break;
        }
        if a.starts_with("--target-directory") {
            given = true;
            continue;
        }
        let Some(bundle) = a.strip_prefix('-').filter(|b| !b.starts_with('-')) else {
            continue;
        };
        if let Some(k) = bundle.find(|c| valued.contains(c))
            && bundle[k..].starts_with('t')
        {
            if k + 1 < bundle.len() {
                return Err(format!("`{name}` with `{a}` is not described"));
            }
            given = true;
        }
    }
    Ok(given)
}

/// Whether the command keeps what it replaces under a new name beside it:
/// `cp`, `mv`, `ln` and `install` with `-b`, `--backup` (or an
/// abbreviation) or a suffix (`-S`, `--suffix`, which imply a backup),
/// and `sed -i` with a suffix attached (`-i.bak`, `-ni.bak`). A `sed`
/// suffix with a `/` puts the backup in another directory: not described.
fn makes_backups(name: &str, args: &[&str]) -> Result<bool, String> {
    let (valued, flag) = match name {
        "cp" | "mv" | "ln" => ("St", 'b'),
        "install" => ("gmoSt", 'b'),
        // `-i[SUFFIX]`: the rest of the bundle is the suffix.
        "sed" => ("efl", 'i'),
        _ => return Ok(false),
    };
    for a in args {
        if *a == "--" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let opt = long.split_once('=').map_or(long, |(o, _)| o);
            if name != "sed"
                && !opt.is_empty()
                && ("backup".starts_with(opt) || "suffix".starts_with(opt))
            {
                return Ok(true);
            }
            continue;
        }
        let Some(bundle) = a.strip_prefix('-') else {
            continue;
        };
        for (k, c) in bundle.char_indices() {
            if name == "sed" {
                if c == 'i' {
                    let suffix = &bundle[k + 1..];
                    if suffix.contains('/') {
                        return Err(format!("`sed` with `{a}` is not described"));
                    }
                    if !suffix.is_empty() {
                        return Ok(true);
                    }
                }
                if valued.contains(c) {
                    break;
                }
                continue;
            }
            if c == flag || c == 'S' {
                return Ok(true);
            }
            if valued.contains(c) {
                break;
            }
        }
    }
    Ok(false)
}

/// Where `src` lands inside directory `dir` (`cp -r node_modules ..`:
/// `../node_modules`, and everything below it); a source whose last
/// component names no entry (`.`, `..`), or one the shell computes (`~`,
/// `~app`, `$D`, `${D}`, a glob such as `.*`, which matches `.` and `..`,
/// or bash's braces), may spread over the whole target.
fn placed_in_dir(dir: &str, src: &str) -> String {
    let base = src.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let computed =
        src.contains('$') || base.starts_with('~') || base.contains(['*', '?', '[', '{']);
    if base.is_empty() || base == "." || base == ".." || computed {
        format!("{dir}/**")
    } else {
        format!("{dir}/{base}/**")
    }
}

/// Downloads and archives: where their output goes, what they read.
fn tool_effects(e: &Entry, inv: &Invocation<'_>, facts: &mut CommandFacts) {
    // curl without -o prints to stdout; curl -O (`--remote-name`, alone or
    // bundled: `-sSLO`) and wget without -O write a file named after the
    // URL into the directory. curl's -O takes no value: the word after it
    // (the URL) is not a file it writes, though the entry's `-O` (wget's
    // output file) takes one.
    let remote_name = inv.name == "curl"
        && inv.args.iter().any(|a| {
            a.starts_with("--remote-name")
                || a.strip_prefix('-').is_some_and(|b| {
                    !b.starts_with('-')
                        && b.chars().all(|c| c.is_ascii_alphanumeric())
                        && b.contains('O')
                })
        });
    if e.downloads && (remote_name || inv.name == "wget" && facts.writes.is_empty()) {
        facts.writes.push("./**".into());
    }
    if inv.name == "curl" {
        // With URL globbing (`{a,b}`, `[1-3]`), `#N` in an output name is
        // the text the glob matched (curl docs, "URL globbing"): the files
        // written are others than the one named, in its directory.
        for w in facts.writes.iter_mut() {
            if let Some(k) = w.find('#') {
                let dir = w[..k].rfind('/').map_or(".", |s| &w[..s]);
                let dir = if dir.is_empty() { "/" } else { dir };
                *w = format!("{}/**", dir.trim_end_matches('/'));
            }
        }
    }
    if e.tar {
        if !facts.writes.iter().any(|w| w.ends_with("/**")) {
            facts.writes.push("./**".into());
        }
        match tar_archive(e, inv.args) {
            // Extraction reads the archive only.
            TarArchive::File(archive) => facts.reads.push(archive),
            // The archive comes down a pipe (`curl … | tar -xz`).
            TarArchive::Stdin => {}
            TarArchive::NotUnderstood => facts.reads.push("./**".into()),
        }
    }
}

/// The check of a `dotnet restore`: its project arguments (after the
/// subcommand) and whether it sets MSBuild properties (`-p:`, `/p:`,
/// `--property`).
fn dotnet_check(e: &Entry, inv: &Invocation<'_>, positional: &[&str]) -> ManifestCheck {
    let skip = usize::from(e.sub.is_some()) + usize::from(e.sub2.is_some());
    let projects = positional
        .iter()
        .skip(skip)
        // `/p:Name=Value` is a property, not a project.
        .filter(|p| !(p.starts_with('/') && p.contains(':')))
        .map(|p| p.to_string())
        .collect();
    let properties = inv.args.iter().any(|a| {
        let l = a.to_ascii_lowercase();
        l.starts_with("-p:")
            || l.starts_with("/p:")
            || l.starts_with("-property:")
            || l.starts_with("/property:")
            || l.starts_with("--property")
            || l == "-p"
    });
    ManifestCheck::Dotnet {
        projects,
        properties,
        locked: inv.has("--locked-mode"),
    }
}

/// Who runs the install scripts of an npm, yarn or pnpm install's
/// packages ([`DependencyScripts`]).
fn dependency_scripts(e: &Entry, inv: &Invocation<'_>) -> DependencyScripts {
    if inv.args.contains(&"--ignore-scripts") {
        DependencyScripts::Off
    } else if e.command.iter().any(|c| c == "npm") {
        DependencyScripts::Npm {
            elsewhere: [
                "--prefix",
                "-C",
                "-g",
                "--global",
                "--location",
                "npm_config_global",
                "NPM_CONFIG_GLOBAL",
                "npm_config_location",
                "NPM_CONFIG_LOCATION",
            ]
            .iter()
            .any(|f| inv.has(f)),
            platform: ["--os", "--cpu", "--libc"].iter().any(|f| inv.has(f))
                || inv
                    .env
                    .keys()
                    .chain(inv.cmd.assignments.iter().map(|(k, _)| k))
                    .any(|k| {
                        let k = k.to_ascii_lowercase();
                        ["npm_config_os", "npm_config_cpu", "npm_config_libc"].contains(&k.as_str())
                    }),
        }
    } else if e.command.iter().any(|c| c == "pnpm") {
        DependencyScripts::Pnpm {
            ten: None,
            frozen: pnpm_frozen_plain(inv.args)
                && !inv
                    .cmd
                    .assignments
                    .iter()
                    .map(|(k, _)| k)
                    .chain(inv.env.keys())
                    .any(|k| pnpm_setting_var(k)),
        }
    } else {
        DependencyScripts::Other
    }
}

/// Whether a variable may set a pnpm setting or move where pnpm reads
/// them (`npm_config_*`, `pnpm_config_*`, `HOME`, `XDG_CONFIG_HOME`), or
/// which pnpm corepack runs (`COREPACK_*` but the download prompt).
pub(crate) fn pnpm_setting_var(k: &str) -> bool {
    let l = k.to_ascii_lowercase();
    l.starts_with("npm_config_")
        || l.starts_with("pnpm_config_")
        || corepack_var_may_change_the_tool(k)
        || k == "HOME"
        || k == "XDG_CONFIG_HOME"
}

/// Whether a `COREPACK_*` variable may change which release corepack runs
/// or where it keeps it (`COREPACK_ENABLE_PROJECT_SPEC=0`, `COREPACK_HOME`,
/// the registry): all but two. `COREPACK_ENABLE_DOWNLOAD_PROMPT` only
/// prints the URL before a download (and asks on a terminal, which a
/// `RUN`'s input is not); `COREPACK_INTEGRITY_KEYS` only gives the keys
/// the downloaded release's registry signature is checked with, `0` or
/// empty skipping the check (corepack 0.34.6, the Node.js 20 image's:
/// `verifySignature`, `shouldSkipIntegrityCheck`): the check passes or
/// the command fails, the release being the same. Neither pnpm 10.0.0 nor
/// 10.34.9 reads either (their code names `COREPACK_ENABLE_STRICT` and
/// `COREPACK_ROOT` only; read 2026-12-06). h-scout58 found the second, a
/// common workaround for corepack's expired keys, keeping pnpm installs
/// in place.
pub(crate) fn corepack_var_may_change_the_tool(k: &str) -> bool {
    k.starts_with("COREPACK_")
        && k != "COREPACK_ENABLE_DOWNLOAD_PROMPT"
        && k != "COREPACK_INTEGRITY_KEYS"
}

/// Whether a pnpm install's arguments give `--frozen-lockfile` and no
/// option but those known to change no setting that lets scripts run:
/// pnpm takes any setting as an option (`--dangerously-allow-all-builds`,
/// `--config.only-built-dependencies=…`; pnpm docs, cli: config).
fn pnpm_frozen_plain(args: &[&str]) -> bool {
    const PLAIN: &[&str] = &[
        "--frozen-lockfile",
        "--frozen-lockfile=true",
        "--prod",
        "-P",
        "--production",
        "--dev",
        "-D",
        "--no-optional",
        "--offline",
        "--prefer-offline",
        "--silent",
        "-s",
    ];
    let mut frozen = false;
    let mut value = false;
    for a in args {
        if value {
            value = false;
            continue;
        }
        if a.starts_with("--frozen-lockfile") {
            frozen |= *a == "--frozen-lockfile" || *a == "--frozen-lockfile=true";
        }
        if *a == "--reporter" || *a == "--loglevel" {
            value = true;
        } else if a.starts_with("--reporter=") || a.starts_with("--loglevel=") {
        } else if a.starts_with('-') && !PLAIN.contains(a) {
            return false;
        }
    }
    frozen
}

/// For a command taking arguments from a file ([`SimpleCommand::list_file`]):
/// the package manager whose names they must be. Only an install by
/// package names (`apt-get`/`apt install`, `apk add`) is followed, from a
/// file named plainly; any other command given a file's words is not.
fn list_manager(e: &Entry, inv: &Invocation<'_>) -> Result<Option<ListManager>, String> {
    let Some(l) = &inv.cmd.list_file else {
        return Ok(None);
    };
    let first = positionals(inv.args, e).first().copied();
    let manager = match (e.install_of.as_deref(), first) {
        (Some("apt"), Some("install")) => ListManager::Apt,
        (Some("apk"), Some("add")) if inv.name == "apk" => ListManager::Apk,
        _ => {
            return Err(format!(
                "`{}` given the words of `{}`: only package names of `apt-get install` and `apk add` are followed",
                inv.name, l.path
            ));
        }
    };
    if l.path.contains(['$', '*', '?', '[', '~']) {
        return Err(format!(
            "a package list from `{}` (not a plain path)",
            l.path
        ));
    }
    // `apt-get install -y -o $(cat apt.txt)`: the option takes the list's
    // first word as its value (`-o dir=.`), which is then no package.
    if let Some(prev) = l.before.as_deref()
        && prev.starts_with('-')
        && !prev.contains('=')
        && (e.takes_value(prev) || e.short_value(prev).is_some_and(|(_, v)| v.is_none()))
    {
        return Err(format!(
            "`{prev}` takes the first word of the package list `{}` as its value",
            l.path
        ));
    }
    Ok(Some(manager))
}

/// The manifest checks the entry asks for (run against the build context
/// when the command is hoisted).
fn manifest_checks(e: &Entry, inv: &Invocation<'_>, facts: &mut CommandFacts) {
    if let Some(s) = &e.scripts {
        facts.checks.push(if s == "composer" {
            ManifestCheck::ComposerScripts {
                scripts: !inv.has("--no-scripts"),
                optimize: composer_optimizes(inv.args),
                autoloader: !inv.has("--no-autoloader"),
                plugins: !inv.has("--no-plugins"),
                dev: !inv.has("--no-dev") && !inv.has("COMPOSER_NO_DEV"),
            }
        } else {
            ManifestCheck::NpmScripts(dependency_scripts(e, inv))
        });
    }
    if e.yarn {
        facts.checks.push(yarn_check(inv.args));
    }
    if e.requirements {
        // The requirement files: what the options and arguments name, after
        // the entry's own manifests (`entry_files` puts those first).
        let own = own_manifests(e).count();
        let files: Vec<String> = facts.manifests.get(own..).unwrap_or_default().to_vec();
        if e.uv_pip {
            facts.checks.push(ManifestCheck::UvPip(files.clone()));
            // Project metadata is no requirements text: `UvPip` checks it.
            let text: Vec<String> = files
                .into_iter()
                .filter(|f| !crate::analysis::manifests::is_project_metadata(f))
                .collect();
            facts.checks.push(ManifestCheck::Requirements(text));
        } else {
            facts.checks.push(ManifestCheck::Requirements(files));
        }
    }
    if e.gradle {
        // The build and init scripts the options name, after the entry's
        // own manifests.
        let own = own_manifests(e).count();
        let files: Vec<String> = facts.manifests.get(own..).unwrap_or_default().to_vec();
        facts.checks.push(ManifestCheck::Gradle(files));
    }
    if e.maven {
        // The settings and toolchains files the options name, after the
        // entry's own manifests.
        let own = own_manifests(e).count();
        let files: Vec<String> = facts.manifests.get(own..).unwrap_or_default().to_vec();
        facts.checks.push(ManifestCheck::Maven(files));
    }
    if e.uv_settings {
        facts.checks.push(ManifestCheck::UvSettings(vec![
            "uv.toml".to_string(),
            "pyproject.toml".to_string(),
        ]));
    }
    for (on, check) in [
        (e.pipfile, ManifestCheck::Pipfile),
        (e.poetry, ManifestCheck::Poetry),
        (
            e.uv_sources,
            ManifestCheck::UvSources {
                frozen: inv.args.contains(&"--frozen"),
            },
        ),
        (e.gomod, ManifestCheck::GoMod),
        (e.gemfile, ManifestCheck::Gemfile),
        (e.mix, ManifestCheck::Mix),
        (e.pnpm_fetch, ManifestCheck::PnpmFetch),
        (e.cargo, ManifestCheck::Cargo),
        (
            e.pdm,
            ManifestCheck::Pdm {
                no_self: inv.has("--no-self") || inv.has("PDM_NO_SELF"),
            },
        ),
    ] {
        if on {
            facts.checks.push(check);
        }
    }
}

/// The yarn install check of `args` (see [`ManifestCheck::Yarn`]):
/// immutable when `--immutable` or `--frozen-lockfile` is given as such
/// (not `--immutable=…` or negated), and every word is `install` or one of
/// Berry's install options that leave the project's files alone. Whether
/// corepack was enabled before is the stage analysis's to say.
fn yarn_check(args: &[&str]) -> ManifestCheck {
    const BERRY: [&str; 7] = [
        "install",
        "--immutable",
        "--immutable-cache",
        "--frozen-lockfile",
        "--check-cache",
        "--inline-builds",
        "--json",
    ];
    ManifestCheck::Yarn {
        immutable: args
            .iter()
            .any(|a| matches!(*a, "--immutable" | "--frozen-lockfile")),
        berry_args: args.iter().all(|a| BERRY.contains(a)),
        corepack: None,
    }
}

/// Whether composer's arguments ask for a class map built from the
/// sources: `--optimize-autoloader`, `--classmap-authoritative`, or `-o`/`-a`
/// alone or bundled with other short options (Symfony's console reads
/// `-no` as `-n -o`). A bundle that holds a value (`-d/app`) may be read
/// as one too: that only keeps an install in place.
fn composer_optimizes(args: &[&str]) -> bool {
    args.iter().any(|a| {
        matches!(*a, "--optimize-autoloader" | "--classmap-authoritative")
            || a.strip_prefix('-')
                .is_some_and(|b| !b.starts_with('-') && b.contains(['o', 'a']))
    })
}

/// What a `tar` run reads as its archive ([`tar_archive`]).
#[derive(Debug, PartialEq, Eq)]
enum TarArchive {
    /// An extraction of this file.
    File(String),
    /// An extraction of the standard input: no `-f`, or `-f -` (the
    /// archive Debian's GNU tar and busybox tar take by default,
    /// `tar --show-defaults`: `-f-`; `TAPE` is a path variable of the
    /// entry, so a stage that sets it is not taken so).
    Stdin,
    /// Anything else: a creation, a listing, or an option the entry does
    /// not name (`-T`, `-X`, `-g` read other files).
    NotUnderstood,
}

/// The archive of a `tar` extraction whose every option the entry names
/// (as [`Entry::unnamed_option`] reads them; anything else is not
/// understood): bundled (`-xzf`, `-vxzC DIR`), old style (`xzf ARCHIVE`:
/// the letters that take a value take the next words in turn) or long
/// (`--file=A`, `--file A`). Words that are not options name members.
fn tar_archive(e: &Entry, args: &[&str]) -> TarArchive {
    let named = |o: &str| e.flags.iter().any(|f| f == o) || e.takes_value(o);
    let (mut extract, mut archive) = (false, None::<String>);
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        // The value of option `o`: attached, else the next word.
        let mut value = |o: &str, attached: Option<&str>, i: &mut usize| {
            let v = attached.or_else(|| {
                *i += 1;
                args.get(*i).copied()
            });
            if matches!(o, "-f" | "--file") {
                archive = v.map(str::to_string);
            }
            v.is_some()
        };
        if let Some(long) = a.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(v)),
                None => (a.to_string(), None),
            };
            if !named(&name) {
                return TarArchive::NotUnderstood;
            }
            extract |= matches!(name.as_str(), "--extract" | "--get");
            if e.takes_value(&name) && !value(&name, attached, &mut i) {
                return TarArchive::NotUnderstood;
            }
        } else if let Some(bundle) = a.strip_prefix('-').filter(|b| !b.is_empty()) {
            for (k, c) in bundle.char_indices() {
                let o = format!("-{c}");
                if !named(&o) {
                    return TarArchive::NotUnderstood;
                }
                extract |= c == 'x';
                if e.takes_value(&o) {
                    let rest = &bundle[k + c.len_utf8()..];
                    if !value(&o, (!rest.is_empty()).then_some(rest), &mut i) {
                        return TarArchive::NotUnderstood;
                    }
                    break;
                }
            }
        } else if i == 0 {
            let mut next = 0;
            for c in a.chars() {
                let o = format!("-{c}");
                if !named(&o) {
                    return TarArchive::NotUnderstood;
                }
                extract |= c == 'x';
                if e.takes_value(&o) && !value(&o, None, &mut next) {
                    return TarArchive::NotUnderstood;
                }
            }
            i = next;
        } else if a == "-" {
            return TarArchive::NotUnderstood;
        }
        i += 1;
    }
    match archive {
        _ if !extract => TarArchive::NotUnderstood,
        None => TarArchive::Stdin,
        Some(f) if f == "-" => TarArchive::Stdin,
        Some(f) => TarArchive::File(f),
    }
}

/// Positional arguments, skipping options and the values of options known
/// to take one.
fn positionals<'a>(args: &[&'a str], e: &Entry) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if a.starts_with('-') && a.len() > 1 && !a.starts_with("--version") {
            if let Some((_, attached)) = e.short_value(a) {
                // `-Ur FILE`: the next word is the value.
                i += usize::from(attached.is_none());
            } else if !a.contains('=') && e.array_options.iter().any(|o| o == a) {
                while args.get(i + 1).is_some_and(|v| !v.starts_with('-')) {
                    i += 1;
                }
            } else if !a.contains('=') && e.takes_value(a) {
                i += 1;
            }
        } else {
            out.push(a);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::shell::{Split, split};

    #[test]
    fn tar_archive_is_the_file_the_pipe_or_not_understood() {
        use super::TarArchive::{File, NotUnderstood, Stdin};
        let kb = Knowledge::embedded();
        let tar = super::find_entry(&kb.commands, "tar", &["tar"]).expect("tar's entry");
        let f = |s: &str| File(s.to_string());
        for (args, want) in [
            (&["-xzf", "go.tgz"][..], f("go.tgz")),
            (&["-C", "/usr/local", "-xzf", "go.tgz"], f("go.tgz")),
            (&["xzf", "a.tgz", "-C", "/opt"], f("a.tgz")),
            (&["xCf", "/opt", "a.tgz"], f("a.tgz")),
            (&["--extract", "--file=a.tar"], f("a.tar")),
            (&["-xfz"], f("z")),
            (&["-xz", "-C", "/opt"], Stdin),
            (&["-vxzC", "/usr/local/bin"], Stdin),
            (&["-xzf", "-", "--strip-components", "1", "-C", "/x"], Stdin),
            (&["xvz"], Stdin),
            (&["-xz", "member/one"], Stdin),
            (&["-czf", "out.tgz", "src"], NotUnderstood),
            (&["-xz", "-T", "list"], NotUnderstood),
            (&["-xzT", "list"], NotUnderstood),
            (&["-xz", "--files-from=list"], NotUnderstood),
            (&["-xz", "-X", "list"], NotUnderstood),
            (&["-xz", "-g", "snap"], NotUnderstood),
            (&["-xz", "--to-command=sh"], NotUnderstood),
            (&["-xzf"], NotUnderstood),
            (&["xf"], NotUnderstood),
            (&["-xz", "-"], NotUnderstood),
        ] {
            assert_eq!(super::tar_archive(tar, args), want, "{args:?}");
        }
    }

    fn facts(s: &str) -> Vec<CommandFacts> {
        match split(s) {
            Split::Commands(c) => c
                .iter()
                .map(|c| interpret(c, embedded(), &Default::default()))
                .collect(),
            Split::Opaque(e) => panic!("{e}"),
        }
    }

    /// `pip config` writes the file its scope names: `--global` the
    /// site-wide one, none the environment's (/usr/local/pip.conf for
    /// the official images) or the user's; `--site` of a pip that may be
    /// a virtual environment's is not described (h-kb50 noticed the
    /// entry listed only the user's file).
    #[test]
    fn pip_config_writes_the_file_of_its_scope() {
        let writes = |s: &str| facts(s).remove(0).writes;
        let global = writes("pip config --global set global.index-url https://example.org/simple");
        assert!(global.iter().any(|w| w == "/etc/pip.conf"), "{global:?}");
        assert!(global.iter().any(|w| w == "/etc/xdg/pip/**"), "{global:?}");
        let plain = writes("pip config set global.no-cache-dir true");
        assert!(
            plain.iter().any(|w| w == "/usr/local/pip.conf"),
            "{plain:?}"
        );
        assert!(
            plain.iter().any(|w| w == "/root/.config/pip/**"),
            "{plain:?}"
        );
        assert!(
            facts("pip config --site set global.timeout 60")[0]
                .unknown
                .is_some()
        );
        assert!(facts("pip config edit --editor vi")[0].unknown.is_some());
    }

    #[test]
    fn embedded_base_parses() {
        assert_eq!(embedded_error(), None);
        assert!(embedded().commands.len() > 20);
    }

    #[test]
    fn the_code_built_from_the_yaml_holds_the_same_entries() {
        let yaml: KnowledgeBase = serde_yaml::from_str(EMBEDDED).expect("the YAML parses");
        assert_eq!(
            format!("{:?}", embedded().commands),
            format!("{:?}", yaml.commands)
        );
    }

    #[test]
    fn a_move_into_a_directory_above_lands_on_the_sources_names() {
        let f = &facts("mv node_modules ../")[0];
        assert!(f.unknown.is_none(), "{:?}", f.unknown);
        assert_eq!(f.writes, vec!["node_modules/**", "../node_modules/**"]);
        assert_eq!(f.reads, vec!["node_modules/**", "../node_modules/**"]);
        let f = &facts("cp -r dist a/b.txt ../..")[0];
        assert_eq!(f.writes, vec!["../../dist/**", "../../b.txt/**"]);
        // `.` as the source spreads over the whole target.
        assert_eq!(facts("cp -r . ..")[0].writes, vec!["../**"]);
        // Options that move the copies elsewhere or add backups, and a
        // target that need not be a directory, keep the whole target.
        for cmd in [
            "mv -b node_modules ..",
            "mv --backup=numbered node_modules ..",
            "cp -rT dist ..",
            "cp --parents a/b ..",
            "mv -S .old x ..",
            "mv node_modules ../lib",
            "mv node_modules /srv",
        ] {
            let f = &facts(cmd)[0];
            let whole =
                |w: &String| matches!(w.as_str(), "../**" | "../lib/**" | "/srv/**" | "./**");
            assert!(
                f.writes.iter().any(whole) || f.unknown.is_some(),
                "{cmd}: {:?}",
                f.writes
            );
        }
    }

    #[test]
    fn a_target_directory_attached_to_a_short_option_is_not_lost() {
        // `cp -t. FILE` puts FILE in `.`: the target is no positional
        // argument, so it must not vanish from the writes.
        for cmd in [
            "cp -t. node_modules/ms/index.js",
            "cp -rt. node_modules/ms",
            "ln -sft. node_modules/ms/index.js",
            "mv -ft.. node_modules",
            "install -Dt. node_modules/ms/index.js",
        ] {
            let f = &facts(cmd)[0];
            assert!(
                f.unknown.is_some() || f.writes.iter().any(|w| w == "./**" || w == "../**"),
                "{cmd}: {:?}",
                f.writes
            );
        }
        // A value of another option is no target (`install -m0755`).
        let f = &facts("install -m0755 bin/x /usr/local/bin/x")[0];
        assert!(f.unknown.is_none(), "{:?}", f.unknown);
    }

    #[test]
    fn a_link_given_one_argument_is_made_in_the_working_directory() {
        let f = &facts("ln -sf node_modules/ms/index.js")[0];
        assert!(f.unknown.is_none(), "{:?}", f.unknown);
        assert!(
            f.writes.iter().any(|w| w == "./index.js/**"),
            "{:?}",
            f.writes
        );
        // With a backup beside it, the whole directory.
        let f = &facts("ln -sb /opt/x")[0];
        assert!(f.writes.iter().any(|w| w == "./**"), "{:?}", f.writes);
    }

    #[test]
    fn a_source_whose_name_the_shell_computes_spreads_over_the_target() {
        // `~` is the home (`/root` lands as `./root`), `$D` a path whose
        // last component is not `$D`, `.*` matches `.` and `..` in dash.
        for cmd in [
            "cp -r ~ .",
            "cp -r ~/ ..",
            "cp -r ~app .",
            "cp -r $D .",
            "cp -r ${D} ..",
            "cp -r /opt/${V:-a/b} .",
            "cp -r .* ..",
            "mv node_* ..",
        ] {
            let f = &facts(cmd)[0];
            let last = f.writes.last().map(String::as_str);
            assert!(
                matches!(last, Some("./**" | "../**")) || f.unknown.is_some(),
                "{cmd}: {:?}",
                f.writes
            );
        }
    }

    #[test]
    fn backups_are_written_beside_what_they_keep() {
        // `cp -b SRC DEST` renames an existing DEST to `DEST~` (or
        // `DEST.~1~`, `DEST` + the `-S` suffix), `sed -i.bak` keeps the
        // file as `FILE.bak`: new names in the target's directory.
        for (cmd, beside) in [
            ("cp -b a/x.js x.js", "x.js/../**"),
            ("cp -fb a/x.js x.js", "x.js/../**"),
            ("cp --backup a/x.js lib/x.js", "lib/x.js/../**"),
            ("cp --b a/x.js x.js", "x.js/../**"),
            ("mv -S .old a/x.js x.js", "x.js/../**"),
            ("mv -bf a/x.js x.js", "x.js/../**"),
            ("ln -sb a/x.js x.js", "x.js/../**"),
            ("ln -sbf a/x.js", "./**"),
            ("install -b -m 0644 a/x.js x.js", "x.js/../**"),
            ("sed -i.bak s/a/b/ x.js", "x.js/../**"),
            ("sed -ni.bak s/a/b/p x.js", "x.js/../**"),
        ] {
            let f = &facts(cmd)[0];
            assert!(f.unknown.is_none(), "{cmd}: {:?}", f.unknown);
            assert!(
                f.writes.iter().any(|w| w == beside),
                "{cmd}: {:?}",
                f.writes
            );
        }
        // Without a suffix, in place only.
        for cmd in [
            "sed -i s/a/b/ x.js",
            "sed -Ei s/a/b/ x.js",
            "cp -f a/x.js x.js",
        ] {
            let f = &facts(cmd)[0];
            assert!(
                !f.writes.iter().any(|w| w.ends_with("/../**")),
                "{cmd}: {:?}",
                f.writes
            );
        }
        // A suffix with a directory in it puts the backup there.
        let f = &facts("sed -i'old/*' s/a/b/ x.js")[0];
        assert!(f.unknown.is_some(), "{:?}", f.writes);
    }

    #[test]
    fn pip_requirements_are_manifests() {
        let f = &facts("pip install --no-cache-dir -r requirements.txt")[0];
        assert!(f.unknown.is_none(), "{:?}", f.unknown);
        assert_eq!(f.manifests, vec!["requirements.txt"]);
        let f = &facts("python -m pip install -e .")[0];
        assert!(f.reads.iter().any(|r| r == "./**"));
    }

    #[test]
    fn npm_and_friends() {
        let f = &facts("npm ci --omit=dev")[0];
        assert!(f.unknown.is_none());
        assert!(f.manifests.contains(&"package-lock.json".to_string()));
        assert!(!f.writes.contains(&"package-lock.json".to_string()));
        let f = &facts("npm install")[0];
        assert!(f.writes.contains(&"package-lock.json".to_string()));
        // A global install's package scripts run in the working
        // directory (`INIT_CWD`): it reads it, unless they are off.
        let f = &facts("npm install -g pnpm")[0];
        assert!(f.reads.iter().any(|r| r == "./**"), "{:?}", f.reads);
        let f = &facts("npm install -g --ignore-scripts pnpm")[0];
        assert!(f.reads.is_empty());
        assert!(facts("npm run build")[0].unknown.is_some());
        let f = &facts("yarn install --frozen-lockfile")[0];
        assert!(!f.writes.contains(&"yarn.lock".to_string()));
        let f = &facts("go mod download")[0];
        assert!(f.unknown.is_none() && f.manifests.contains(&"go.sum".to_string()));
        assert!(
            facts("go build -o /app ./...")[0]
                .reads
                .contains(&"./**".to_string())
        );
    }

    #[test]
    fn file_utilities() {
        let f = &facts("mkdir -p /data")[0];
        assert!(f.writes.contains(&"/data/**".to_string()), "{:?}", f.writes);
        let f = &facts("chmod 755 /app/run.sh")[0];
        assert_eq!(f.writes, vec!["/app/run.sh/**".to_string()]);
        let f = &facts("chown -R app:app /app")[0];
        assert!(f.reads.contains(&"/etc/passwd".to_string()));
        assert_eq!(f.writes, vec!["/app/**".to_string()]);
    }

    /// Whether a home entry (`.gem/**`, `.gemrc`) covers a path relative
    /// to the home.
    fn covers(entry: &str, rel: &str) -> bool {
        match entry.strip_suffix("/**") {
            Some(dir) => rel == dir || rel.starts_with(&format!("{dir}/")),
            None => rel == entry,
        }
    }

    #[test]
    fn home_lists_cover_the_entrys_own_home_paths() {
        // With `HOME` set elsewhere a command uses its `/root/…` paths
        // there; the analysis narrows what it touches in a home to its
        // `home` list, so the list must hold them all.
        for e in &embedded().commands {
            let Some(home) = &e.home else { continue };
            for p in e.reads.iter().chain(&e.writes).chain(&e.global_writes) {
                let Some(rel) = p.strip_prefix("/root/") else {
                    continue;
                };
                assert!(
                    home.iter().any(|h| covers(h, rel)),
                    "{:?} {:?}: `{p}` is not in its home list",
                    e.command,
                    e.sub
                );
            }
        }
    }

    #[test]
    fn bundled_short_options_take_their_values() {
        // optparse: `-Ur FILE`, `-rFILE` are `-r FILE`.
        for cmd in [
            "pip install -Ur requirements.txt",
            "pip install -qr requirements.txt",
            "pip install -rrequirements.txt",
        ] {
            let f = &facts(cmd)[0];
            assert!(f.unknown.is_none(), "{cmd}: {:?}", f.unknown);
            assert_eq!(f.manifests, vec!["requirements.txt"], "{cmd}");
            assert_eq!(f.packages, Some(Vec::new()), "{cmd}");
        }
        // sed's script given bundled: the next word is a file it edits.
        let f = &facts("sed -ne s/a/b/ /etc/x.conf")[0];
        assert!(
            f.writes.contains(&"/etc/x.conf/**".to_string()),
            "{:?}",
            f.writes
        );
        // curl: -o bundled names the file; -O bundled writes into the
        // directory (the URL is no file).
        let f = &facts("curl -fsSLo /usr/local/bin/x https://example.org/x")[0];
        assert_eq!(f.writes, vec!["/usr/local/bin/x".to_string()]);
        for cmd in [
            "curl -fsSLO https://example.org/x.tgz",
            "curl -O https://example.org/x.tgz",
        ] {
            let f = &facts(cmd)[0];
            assert!(
                f.writes.contains(&"./**".to_string()),
                "{cmd}: {:?}",
                f.writes
            );
        }
    }

    #[test]
    fn options_that_move_or_switch_an_install_make_it_unknown() {
        for cmd in [
            "yarn --cwd=sub",
            "yarn install --cwd sub",
            "npm install --location=global",
            "npm install -gf",
            "npm_config_location=global npm install",
            "pnpm install -Csub",
            "go mod download -modfile=alt.mod",
            "go -C sub mod download",
            "gem install -g",
            "mvn -f sub dependency:go-offline",
        ] {
            assert!(facts(cmd)[0].unknown.is_some(), "{cmd}");
        }
        // Directory options are followed: the command runs there.
        for (cmd, dir) in [
            ("npm ci --prefix=sub", "sub"),
            ("gradle dependencies -p sub", "sub"),
            ("composer install -d sub", "sub"),
            ("composer -dsub install", "sub"),
        ] {
            let f = &facts(cmd)[0];
            assert!(f.unknown.is_none(), "{cmd}: {:?}", f.unknown);
            assert_eq!(f.chdir.as_deref(), Some(dir), "{cmd}");
        }
        // Values that name no path, and options the entry names.
        for cmd in [
            "npm install --production=false",
            "npm install --save=false",
            "npm ci --registry=https://registry.example.org/",
            "yarn install --network-timeout=100000",
            "npm install -g pnpm",
        ] {
            let f = &facts(cmd)[0];
            assert!(f.unknown.is_none(), "{cmd}: {:?}", f.unknown);
        }
        // Directories given to options are written.
        let f = &facts("yarn install --modules-folder deps")[0];
        assert!(f.writes.contains(&"deps/**".to_string()), "{:?}", f.writes);
        let f = &facts("pip install --cache-dir cache -r requirements.txt")[0];
        assert!(f.writes.contains(&"cache/**".to_string()), "{:?}", f.writes);
    }

    #[test]
    fn apt_update_and_install() {
        let f = facts("apt-get update && apt-get install -y --no-install-recommends curl");
        assert_eq!(f[0].merge_update.as_deref(), Some("apt"));
        assert_eq!(f[1].install_of.as_deref(), Some("apt"));
        assert!(f[1].unknown.is_none());
    }

    #[test]
    fn sed_scripts_that_only_edit_their_files_are_described() {
        for ok in [
            "s/a/b/",
            "s#:/home/app:#:/srv/app:#g",
            "s/^\\(x\\)$/\\1/2",
            "/^#/d",
            "$a export X=1",
            "1i\\\nline one",
            "$!N; s/\\n/ /; P; D",
            "0,/re/ { s/x/y/I; p }",
            "2~3!y/abc/xyz/",
            "/a/,+2 { /b/I d }; :top; s/x/y/; t top",
            "\\%^/usr%s%/usr/local%w%; q 3",
        ] {
            assert_eq!(sed_script_problem(ok), Ok(()), "{ok}");
        }
        for bad in [
            "$r /app/extra.conf",
            "/x/R list",
            "1w out.txt",
            "s/a/b/w out.txt",
            "s/a/b/gw out.txt",
            "1e cat /app/x",
            "s/^/id/e",
            "$ W out",
            "s/a/$V/",
            "s/${A}/b/",
            "/$NAME/d",
            "s/a/b",
            "k",
            "1 { s/a/b/; w log }",
        ] {
            assert!(sed_script_problem(bad).is_err(), "{bad}");
        }
        // Scripts given by option, bundled or long; a script file is
        // not read.
        assert_eq!(
            sed_option_scripts(&["-ne", "p", "-e$r x", "--expression=1d", "--expr", "2d"]),
            Ok(vec!["p", "$r x", "1d", "2d"])
        );
        assert_eq!(
            sed_option_scripts(&["-i.bak", "-E", "s/a/b/", "f"]),
            Ok(vec![])
        );
        for bad in [
            &["-f", "x.sed"][..],
            &["-nf", "x.sed"],
            &["--file=x.sed"],
            &["--fi", "x"],
        ] {
            assert!(sed_option_scripts(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn set_turns_on_allexport_only_with_a() {
        for on in [
            &["-a"][..],
            &["-ea"],
            &["-eo", "allexport"],
            &["-o", "allexport"],
            &["-xa", "x"],
        ] {
            assert!(set_allexport(on), "{on:?}");
        }
        for off in [
            &["-e"][..],
            &["-euo", "pipefail"],
            &["-o", "pipefail"],
            &["+a"],
            &["--", "-a"],
            &["x", "-a"],
        ] {
            assert!(!set_allexport(off), "{off:?}");
        }
    }
}
