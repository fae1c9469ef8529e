//! The knowledge base's entries as data: the types the YAML is read into.
//! Kept apart from their interpretation (`kb.rs`) because `build.rs`
//! includes this file too: it reads `knowledge.yaml` into these types and
//! writes, through their `Serialize`, Rust code that builds the same
//! values, which the binary includes.
//!
//! Guarantees: every type serialises to what it deserialises from (field
//! names as in Rust, enums as their lower-cased single-word variant), so
//! the code written from a YAML base builds the same entries (a test in
//! `kb.rs` checks it on the embedded base). Nothing here but data and serde.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CostClass {
    Cheap,
    Run,
    Build,
    Install,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Positional {
    #[default]
    None,
    Names,
    Paths,
    Reads,
    Ignore,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub command: Vec<String>,
    #[serde(default)]
    pub sub: Option<Vec<String>>,
    #[serde(default)]
    pub sub2: Option<Vec<String>>,
    #[serde(default)]
    pub reads: Vec<String>,
    #[serde(default)]
    pub writes: Vec<String>,
    #[serde(default)]
    pub writes_unless: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub option_reads: Vec<String>,
    #[serde(default)]
    pub option_writes: Vec<String>,
    #[serde(default)]
    pub output_options: Vec<String>,
    #[serde(default)]
    pub input_options: Vec<String>,
    /// Options whose value is a URL or, when it is not a remote one, a
    /// file or directory it reads whatever it looks like (pip's
    /// `--find-links wheels`, `--index-url index`: pip takes any existing
    /// path of that name, relative to where it runs).
    #[serde(default)]
    pub location_options: Vec<String>,
    /// Options whose value is a setting `KEY=VALUE` (apt's `-o`, dnf's
    /// `--setopt`): a `VALUE` that may name a file or directory is read
    /// and written (`-o Dir::Etc::SourceList=/app/sources.list`,
    /// `--setopt=reposdir=/app/repos`, `-o RootDir=/rootfs`).
    #[serde(default)]
    pub setting_options: Vec<String>,
    /// optparse's abbreviations: a long option may be given as any prefix
    /// of one name (`--requirem FILE`). Non-empty: an option the entry
    /// does not describe that starts the name of one taking a value makes
    /// the command unknown, unless it is listed here (an exact flag, such
    /// as pip's `--pre` beside `--prefix`).
    #[serde(default)]
    pub abbreviation_flags: Vec<String>,
    #[serde(default)]
    pub value_options: Vec<String>,
    /// Options whose value is a name, never a path (dotnet's `-a`/`--arch`,
    /// `--os`, `-r`/`--runtime`: an architecture, an OS, a runtime
    /// identifier). Besides a literal, such a value may be one of
    /// BuildKit's automatic platform arguments (`-a $TARGETARCH`) declared
    /// in the stage without a default: BuildKit sets it to one word of the
    /// target (or build) platform, so it names no file and does not split.
    #[serde(default)]
    pub word_options: Vec<String>,
    /// Options whose value is the directory the command runs in, as after
    /// `cd DIR` (`composer install -d DIR`, `npm --prefix DIR ci`, `yarn
    /// --cwd DIR`, `pnpm -C DIR`). In a global install it names the global
    /// folder, which it writes.
    #[serde(default)]
    pub dir_options: Vec<String>,
    /// Options whose value is every following word up to the next option
    /// (Thor's array options: `bundle install --without development test`).
    #[serde(default)]
    pub array_options: Vec<String>,
    /// Options (or variables, named without a leading `-`) the entry does
    /// not follow: given in any form (`--opt VALUE`, `--opt=VALUE`, `-oVALUE`,
    /// bundled), the command is not understood. Their values name a
    /// directory the command runs in or installs from, or a file it reads
    /// (`yarn --cwd`, `pnpm -C`, `mvn -f`, `gradle -p`, `gem install -g`),
    /// or they switch it to another mode (`npm --location global`).
    #[serde(default)]
    pub unknown_options: Vec<String>,
    #[serde(default)]
    pub global: Vec<String>,
    #[serde(default)]
    pub global_writes: Vec<String>,
    /// A global install (one of `global`, or any run of an entry without
    /// them, such as `yarn global add`) of packages from a registry runs
    /// their install scripts with the working directory in `INIT_CWD`,
    /// where they may read and write any file: unless `--ignore-scripts`
    /// is given, it reads the whole working directory.
    #[serde(default)]
    pub global_scripts: bool,
    #[serde(default)]
    pub requires_flag: Vec<String>,
    /// The entry describes the command only without these options
    /// (`cargo install --path DIR`, `--git URL`): given one, in any form,
    /// the next entry for the command is tried.
    #[serde(default)]
    pub not_with: Vec<String>,
    /// The entry describes the command only when a positional argument
    /// follows its subcommands (`cargo install NAME`; without one, cargo
    /// installs the package of the working directory): else the next
    /// entry is tried.
    #[serde(default)]
    pub names_required: bool,
    #[serde(default)]
    pub first_positional_is_value: Vec<String>,
    #[serde(default)]
    pub positional: Positional,
    #[serde(default)]
    pub scripts: Option<String>,
    #[serde(default)]
    pub requirements: bool,
    /// Files the command also looks for in every directory above the one
    /// it runs in (uv finds its `uv.toml` and a `pyproject.toml` with
    /// `[tool.uv]` in the nearest parent): read there, and copied first by
    /// a hoist when the broad copy ships them.
    #[serde(default)]
    pub parent_reads: Vec<String>,
    /// What the command may write in a directory above the one it runs in
    /// (`uv pip install` installs into the `.venv` of the nearest parent
    /// that has one).
    #[serde(default)]
    pub parent_writes: Vec<String>,
    /// `uv pip`: requirement files that are project metadata
    /// (`-r pyproject.toml`) are not followed (see `uv::pip_problems`).
    #[serde(default)]
    pub uv_pip: bool,
    /// uv: its settings files, here and in every parent, may name local
    /// files (see `ManifestCheck::UvSettings`).
    #[serde(default)]
    pub uv_settings: bool,
    #[serde(default)]
    pub pipfile: bool,
    /// poetry: path and file dependencies in pyproject.toml / poetry.lock.
    #[serde(default)]
    pub poetry: bool,
    /// `uv sync`: path, editable, directory and workspace sources, and
    /// local indexes, in pyproject.toml, uv.lock and uv.toml, with or
    /// without `--no-install-project` (see `uv::source_problems`).
    #[serde(default)]
    pub uv_sources: bool,
    #[serde(default)]
    pub gomod: bool,
    #[serde(default)]
    pub gemfile: bool,
    /// mix: `mix.exs` is Elixir code run by every task in the project.
    #[serde(default)]
    pub mix: bool,
    /// pnpm fetch: the settings it reads besides the lock (the project's
    /// `.npmrc` and `pnpm-workspace.yaml`, a workspace root above) may
    /// name files or move its store (see `manifests::pnpm_fetch_problems`).
    #[serde(default)]
    pub pnpm_fetch: bool,
    #[serde(default)]
    pub yarn: bool,
    #[serde(default)]
    pub maven: bool,
    #[serde(default)]
    pub gradle: bool,
    #[serde(default)]
    pub cargo: bool,
    /// `pdm install`/`pdm sync`: the project itself unless `--no-self`,
    /// hook scripts, local dependencies and sources, project settings (see
    /// `manifests::pdm_problems`).
    #[serde(default)]
    pub pdm: bool,
    /// `uv sync`: without its `requires_flag` the project is installed
    /// only when its `pyproject.toml` makes it a package; a virtual project
    /// (see [`crate::analysis::kb::ManifestCheck::UvVirtual`]) installs its
    /// dependencies alone, as with the flag.
    #[serde(default)]
    pub uv_virtual: bool,
    /// `dotnet restore`: the projects it restores are followed (see
    /// [`crate::analysis::kb::ManifestCheck::Dotnet`]).
    #[serde(default)]
    pub dotnet: bool,
    #[serde(default)]
    pub downloads: bool,
    #[serde(default)]
    pub tar: bool,
    /// Options that take no value and change nothing the entry describes
    /// (`curl -fsSL`), for [`Entry::strict_options`].
    #[serde(default)]
    pub flags: Vec<String>,
    /// Every option must be one the entry names (among `flags` or the
    /// options that take a value), alone, with `=value`, in a bundle of
    /// short options, or (tar) in the old-style bundle of the first word:
    /// any other makes the command not understood. For commands with
    /// many options that read, write or run files (`curl -K cfg`, `tar
    /// -T list`, `tar -P`).
    #[serde(default)]
    pub strict_options: bool,
    /// The environment variables the command (and what it starts) honours,
    /// beyond the shell's and the C library's ([`crate::analysis::kb::GENERIC_ENV`]); a `*` at
    /// the end matches a prefix. Absent: every variable in scope.
    #[serde(default)]
    pub env: Option<Vec<String>>,
    /// Downloads verified packages into its own cache and builds nothing:
    /// what it writes is fixed by its manifests, lock file, configuration
    /// and variables, not by the system packages it runs among, and its
    /// cache is loaded by its own ecosystem's tools only.
    #[serde(default)]
    pub fetch: bool,
    /// `false`: the working directory matters only through relative path
    /// arguments (system package managers, whose scripts run in `/`).
    #[serde(default = "yes")]
    pub cwd: bool,
    /// What the command reads or writes in a home directory without naming
    /// it, relative to the home (its settings, caches and user-level
    /// installs, as its documentation gives them; `X/**` covers a tree).
    /// Absent: any dot entry and `~/go`, `~/perl5`, `~/R`
    /// (`effects::HOME_ENTRIES`). Every `/root/…` path of `reads` and
    /// `writes` must be among them (a test checks it): with `HOME` set
    /// elsewhere the command uses them there.
    #[serde(default)]
    pub home: Option<Vec<String>>,
    /// The variables whose value names a file or directory the command
    /// reads or writes in place of (or besides) its defaults: a cache, a
    /// configuration file, a tool home (`GRADLE_USER_HOME`,
    /// `npm_config_cache`, `XDG_CACHE_HOME`). A name ending in `*` is a
    /// prefix, whose variables count only when their value looks like a
    /// path (see `effects::relocated_paths`); a name in lower case matches
    /// in any case (npm reads `npm_config_*` so). Absent: none (base
    /// utilities and system package managers; a test makes every other
    /// entry say).
    #[serde(default)]
    pub path_env: Option<Vec<String>>,
    /// Whether, and where, the command may run `git` (see [`GitUse`]).
    #[serde(default)]
    pub git: Option<GitUse>,
    /// The lock files it writes (among `writes`) that it leaves as they
    /// are when the lock agrees with the manifest, npm's
    /// `package-lock.json` (or `npm-shrinkwrap.json`, whichever it has):
    /// run with no package argument, not global, and no option but
    /// [`Entry::agreeing_lock_options`], it takes the whole tree from such
    /// a lock and writes back the same bytes (the stage analysis checks
    /// the lock, the npm version and its configuration:
    /// `effects::lock_kept`).
    #[serde(default)]
    pub keeps_agreeing_lock: Vec<String>,
    /// It changes only the owner or mode of what its paths name (`chown`,
    /// `chmod`): its writes make no file (its redirections still do).
    #[serde(default)]
    pub metadata_only: bool,
    /// Its writes are directories it creates (`mkdir`): it puts nothing
    /// below them.
    #[serde(default)]
    pub dirs_only: bool,
    /// The options (by name, any value) with which
    /// [`Entry::keeps_agreeing_lock`] holds.
    #[serde(default)]
    pub agreeing_lock_options: Vec<String>,
    pub cost: CostClass,
    #[serde(default)]
    pub merge_update: Option<String>,
    #[serde(default)]
    pub install_of: Option<String>,
}

fn yes() -> bool {
    true
}

/// How a command may run `git`. Either way git reads the user's settings
/// and credentials in the home (`effects::GIT_HOME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GitUse {
    /// Only inside the clones and caches it makes (`go mod download`,
    /// `cargo fetch`): each is a repository, so git never looks further.
    Fetch,
    /// Also in the working directory (the root package's version from
    /// `git describe`, `git ls-files` in a gemspec, `git ls-remote` from
    /// where the command was started): git then finds the repository the
    /// directory is in, the `.git` of it or of a parent.
    Workdir,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBase {
    pub commands: Vec<Entry>,
}
