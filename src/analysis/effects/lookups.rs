//! The directories a program looks in for what it loads (`PATH`,
//! `PYTHONPATH`, `NODE_PATH`, site and library directories, the home):
//! which of them a copy may ship into, and the implicit reads of a `RUN`
//! that runs programs found there. Over-approximated: a directory named by
//! an unknown variable is every path.

use super::*;

/// Whether a file a broad copy ships lands where `e`'s programs look up
/// programs, libraries or settings: the base trees, `/usr/local`'s bin,
/// lib and etc directories, a directory of a search path set in the
/// Dockerfile, or a dotfile of the home directory. (The wider system trees
/// of [`Effects::implicit_reads`] order a RUN after a toolchain copied
/// there; an application copied to `/opt/app` is not a toolchain.)
pub fn ships_into_lookup(e: &Effects, path: &str) -> bool {
    Lookups::of(e).ships(path)
}

/// Whether `path` lies in a system tree any `RUN`'s programs may look
/// things up in (part of [`ships_into_lookup`]).
pub fn in_fixed_lookup(path: &str) -> bool {
    let shipped = pattern_base(path);
    fixed_lookup_bases()
        .iter()
        .any(|&t| bases_overlap(shipped, t))
}

/// [`ships_into_lookup`] for one `RUN` and many shipped files: the
/// pattern bases of its lookup directories and implicit reads are made
/// once, not once per file (caldera's broad copy ships 622 files, each
/// asked about with every unit the hoist passes: 14 M instructions).
pub struct Lookups<'e> {
    pub(super) e: &'e Effects,
    /// The bases of `e.lookup_dirs`.
    pub(super) dirs: Vec<(&'e str, bool)>,
    /// The bases of the paths `e` reads implicitly, each with whether it
    /// is [`OPT_TREE`] (left out below the application directory, see
    /// [`implicit_patterns`]).
    pub(super) implicit: Vec<((&'e str, bool), bool)>,
}

impl<'e> Lookups<'e> {
    pub fn of(e: &'e Effects) -> Lookups<'e> {
        Lookups {
            e,
            dirs: e.lookup_dirs.iter().map(|t| pattern_base(t)).collect(),
            implicit: e
                .implicit_reads
                .iter()
                .filter_map(|l| match l {
                    Loc::Path(p) => Some((pattern_base(p), app_tree_read(p, e.app_dir.as_deref()))),
                    _ => None,
                })
                .collect(),
        }
    }

    /// [`ships_into_lookup`] of `path`.
    pub fn ships(&self, path: &str) -> bool {
        in_fixed_lookup(path) || self.ships_own(path)
    }

    /// [`Lookups::ships`] but for the system trees every `RUN` looks in
    /// ([`in_fixed_lookup`], the same for all: asked once per file, not
    /// once per file and unit).
    pub fn ships_own(&self, path: &str) -> bool {
        let e = self.e;
        let shipped = pattern_base(path);
        e.opaque.is_some()
            || self.dirs.iter().any(|&t| bases_overlap(shipped, t))
            || (!in_source_tree(path) && {
                // As `implicit_patterns(e, path)`.
                let app = below_app_dir(path, e.app_dir.as_deref());
                self.implicit
                    .iter()
                    .any(|&(t, opt)| !(app && opt) && bases_overlap(shipped, t))
            })
    }
}

/// Whether anything below the directory `dir` may land where `e`'s
/// programs look things up: one test for a whole broad copy before
/// [`ships_into_lookup`] asks file by file.
pub fn may_ship_into_lookup(e: &Effects, dir: &str) -> bool {
    let below = format!("{}/**", dir.trim_end_matches('/'));
    e.opaque.is_some()
        || lookup_patterns(e).any(|t| paths_overlap(&below, t))
        || (!in_source_tree(dir) && implicit_patterns(e, &below).any(|t| paths_overlap(&below, t)))
}

/// `/usr/src/…` and `/usr/local/src/…` hold sources, which no program
/// looks up by itself (the system trees that hold them are read for what
/// else is there).
pub(super) fn in_source_tree(path: &str) -> bool {
    ["/usr/src/", "/usr/local/src/"]
        .iter()
        .any(|t| path.starts_with(t) || path == t.trim_end_matches('/'))
}

/// What a `RUN`'s programs read implicitly (configuration under `/etc`,
/// the home): a copy that ships there changes what the install sees even
/// though it names no such file (build fuzz seed 2026 case 203: `ADD conf
/// /etc/conf` before `pip install`, which reads `/etc`).
///
/// `/opt/**` is left out for a `path` below the stage's application
/// directory ([`stage_app_dir`]).
pub(super) fn implicit_patterns<'e>(e: &'e Effects, path: &str) -> impl Iterator<Item = &'e str> {
    let app = below_app_dir(path, e.app_dir.as_deref());
    e.implicit_reads.iter().filter_map(move |l| match l {
        Loc::Path(p) if !(app && app_tree_read(p, e.app_dir.as_deref())) => Some(p.as_str()),
        _ => None,
    })
}

/// The [`pattern_base`]s of [`BASE_TREES`] and [`LOCAL_TREES`], made
/// once: [`ships_into_lookup`] compares every file a broad copy ships with
/// each of them (caldera's 622 shipped files made them 17,000 times).
pub(super) fn fixed_lookup_bases() -> &'static [(&'static str, bool)] {
    static BASES: std::sync::OnceLock<Vec<(&'static str, bool)>> = std::sync::OnceLock::new();
    BASES.get_or_init(|| {
        BASE_TREES
            .iter()
            .chain(LOCAL_TREES)
            .map(|t| pattern_base(t))
            .collect()
    })
}

/// The system trees and the `RUN`'s own lookup directories.
pub(super) fn lookup_patterns(e: &Effects) -> impl Iterator<Item = &str> {
    BASE_TREES
        .iter()
        .copied()
        .chain(LOCAL_TREES.iter().copied())
        .chain(e.lookup_dirs.iter().map(String::as_str))
}

/// `/usr/local`'s program, library and configuration directories.
pub(super) const LOCAL_TREES: &[&str] = &[
    "/usr/local/bin/**",
    "/usr/local/sbin/**",
    "/usr/local/lib/**",
    "/usr/local/lib64/**",
    "/usr/local/etc/**",
    "/usr/local/share/**",
];

/// The system trees every program run by a `RUN` may load programs,
/// libraries and configuration from (DESIGN.md section 4; the issue of
/// `COPY --from` toolchains).
pub(super) const SYSTEM_TREES: &[&str] = &[
    "/bin/**",
    "/sbin/**",
    "/lib/**",
    "/lib32/**",
    "/lib64/**",
    "/libx32/**",
    "/usr/**",
    "/etc/**",
    "/opt/**",
    "/var/lib/**",
    "/go/bin/**",
];

/// Variables naming directories where programs and libraries are found.
pub(super) const SEARCH_PATH_VARS: &[&str] = &[
    "PATH",
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "PYTHONPATH",
    "PYTHONHOME",
    "NODE_PATH",
    "GEM_PATH",
    "GEM_HOME",
    "BUNDLE_PATH",
    "BUNDLE_GEMFILE",
    "BUNDLE_APP_CONFIG",
    "PERL5LIB",
    "CLASSPATH",
    "JAVA_HOME",
    "GOROOT",
    "GOPATH",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "VIRTUAL_ENV",
    "NVM_DIR",
    "PIP_CONFIG_FILE",
    "NPM_CONFIG_USERCONFIG",
    "XDG_CONFIG_HOME",
    // Read by every program whatever its name: the dynamic loader's audit
    // libraries, glibc's locale and conversion modules and host aliases,
    // OpenSSL's certificates, the temporary directory (tools that find it
    // missing fall back to `/tmp`, so what they leave lands elsewhere),
    // bash's startup file, and the other languages' library paths.
    "LD_AUDIT",
    "LOCPATH",
    "GCONV_PATH",
    "HOSTALIASES",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "TMPDIR",
    "BASH_ENV",
    "PERLLIB",
    "RUBYLIB",
    "PYTHONUSERBASE",
];

/// Variables that move where language installers write.
pub(super) const INSTALL_DIR_VARS: &[&str] = &[
    "VIRTUAL_ENV",
    "PYTHONUSERBASE",
    "PIP_TARGET",
    "PIP_PREFIX",
    "GOPATH",
    "GOMODCACHE",
    "BUNDLE_PATH",
    "GEM_HOME",
    "NPM_CONFIG_PREFIX",
    "CARGO_HOME",
    "COMPOSER_HOME",
    "HOME",
];

/// [`kb::GENERIC_ENV`], [`SEARCH_PATH_VARS`] and [`INSTALL_DIR_VARS`]
/// together, sorted (as bytes) and without repeats: what every followed
/// `RUN` reads besides the variables it names. Written out rather than
/// sorted per `RUN` (sorting and copying them was a twentieth of a short
/// run); a test checks it against the three lists.
pub(super) const RUN_FIXED_VARS: &[&str] = &[
    "BASHOPTS",
    "BASH_ENV",
    "BASH_FUNC_*",
    "BUNDLE_APP_CONFIG",
    "BUNDLE_GEMFILE",
    "BUNDLE_PATH",
    "CARGO_HOME",
    "CDPATH",
    "CLASSPATH",
    "COLUMNS",
    "COMPOSER_HOME",
    "ENV",
    "GCONV_PATH",
    "GEM_HOME",
    "GEM_PATH",
    "GLIBC_TUNABLES",
    "GLOBIGNORE",
    "GOMODCACHE",
    "GOPATH",
    "GOROOT",
    "HOME",
    "HOSTALIASES",
    "IFS",
    "JAVA_HOME",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "LD_*",
    "LD_AUDIT",
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "LINES",
    "LOCALDOMAIN",
    "LOCPATH",
    "LOGNAME",
    "MALLOC_*",
    "NLSPATH",
    "NODE_PATH",
    "NPM_CONFIG_PREFIX",
    "NPM_CONFIG_USERCONFIG",
    "NVM_DIR",
    "OLDPWD",
    "PATH",
    "PERL5LIB",
    "PERLLIB",
    "PIP_CONFIG_FILE",
    "PIP_PREFIX",
    "PIP_TARGET",
    "POSIXLY_CORRECT",
    "PS4",
    "PWD",
    "PYTHONHOME",
    "PYTHONPATH",
    "PYTHONUSERBASE",
    "RES_OPTIONS",
    "RUBYLIB",
    "RUSTUP_HOME",
    "SHELL",
    "SHELLOPTS",
    "SIMPLE_BACKUP_SUFFIX",
    "SSL_CERT_DIR",
    "SSL_CERT_FILE",
    "TERM",
    "TMPDIR",
    "USER",
    "VERSION_CONTROL",
    "VIRTUAL_ENV",
    "XDG_CONFIG_HOME",
];

/// What the programs a `RUN` starts may look up (see
/// [`Effects::implicit_reads`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Lookup {
    /// Shell builtins that POSIX runs without a search (`export`, `set`,
    /// `cd`, ...): the shell itself and its libraries, no search path.
    Builtins,
    /// Base utilities only (coreutils, shadow's user tools, the shell's
    /// builtins): the base system's program and library trees, and the
    /// directories the Dockerfile puts on a search path. Assumption, stated
    /// in the README: language package installers (pip, npm, gem, ...)
    /// write into `/usr/local` but never shadow a base utility's name.
    Utilities,
    /// System package managers: every system tree, and only the per-user
    /// settings of [`SYSTEM_HOME`].
    System,
    /// Anything else: every system tree and the user's home.
    Full,
}

pub(super) const UTILITIES: &[&str] = &[
    "mkdir", "chmod", "chown", "chgrp", "touch", "rm", "rmdir", "ln", "unlink", "truncate", "cp",
    "mv", "install", "echo", "printf", "true", "false", ":", "set", "export", "sleep", "exit",
    "cd", "tr", "cat", "tee", "head", "tail", "useradd", "adduser", "groupadd", "addgroup",
    "usermod", "groupmod",
];

pub(super) const SYSTEM_INSTALLERS: &[&str] = &[
    "apt-get", "apt", "apk", "xx-apk", "yum", "dnf", "microdnf", "dpkg",
];

/// The base system's program and library trees: what a base utility
/// loads (its binary, the C library and NSS modules, locales, `/etc`).
/// Language trees (`/usr/lib/python3`, `/usr/lib/node_modules`) are not
/// among them.
pub(super) const BASE_TREES: &[&str] = &[
    "/bin/**",
    "/sbin/**",
    "/usr/bin/**",
    "/usr/sbin/**",
    "/lib/*.so*",
    "/lib/*-linux-*/**",
    "/lib/ld-*",
    "/lib32/**",
    "/lib64/**",
    "/libx32/**",
    "/usr/lib/*.so*",
    "/usr/lib/*-linux-*/**",
    "/usr/lib/locale/**",
    "/usr/lib32/**",
    "/usr/lib64/**",
    "/usr/libx32/**",
    "/usr/libexec/**",
    "/usr/share/locale/**",
    "/usr/share/zoneinfo/**",
    // What the C library and the shadow tools read from /etc (user and
    // group lookups, the loader's paths, locales), not every setting.
    "/etc/passwd",
    "/etc/group",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/nsswitch.conf",
    "/etc/ld.so.*",
    "/etc/ld.so.conf.d/**",
    "/etc/locale.*",
    "/etc/default/**",
    "/etc/login.defs",
    "/etc/skel/**",
    "/etc/alternatives/**",
];

/// POSIX's special built-in utilities and the intrinsic `cd` and `umask`
/// that change only the shell's own state: the shell runs them without
/// searching `PATH` (XCU 2.9.1.4), whatever a copy puts on it. `eval`,
/// `.`, `exec` and `trap` run other commands and are not among them.
pub(super) const SEARCHLESS_BUILTINS: &[&str] = &[
    "export", "set", ":", "exit", "readonly", "unset", "shift", "cd", "umask", "break", "continue",
    "return",
];

pub(super) fn lookup_of(argv0: &str) -> Lookup {
    if SEARCHLESS_BUILTINS.contains(&argv0) {
        return Lookup::Builtins;
    }
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    if UTILITIES.contains(&name) {
        Lookup::Utilities
    } else if SYSTEM_INSTALLERS.contains(&name) {
        Lookup::System
    } else {
        Lookup::Full
    }
}

/// Each directory (`dir/**`) of the search-path variables set in the
/// Dockerfile. An empty part is the working directory (POSIX `PATH`: `ENV
/// PATH=:/usr/local/bin:…` ran the `pip` the broad copy put in the
/// working directory; review 51). A value that is not known (a build
/// argument without a default: `ARG PATH` may be given
/// `/app/bin:/usr/local/bin` with `--build-arg`) could name any
/// directory, so it stands as `/` (an `ENV` part that does not expand is
/// `/` already, [`super::search_path_value`]; the base image's own
/// `$PATH` is dropped there, before this).
pub(super) fn search_path_dirs(dir: &str, env: &BTreeMap<String, String>) -> Vec<String> {
    SEARCH_PATH_VARS
        .iter()
        .filter_map(|var| env.get(*var))
        .flat_map(|v| v.split(':'))
        .map(|part| match part.trim() {
            "" => ".",
            p if p.contains('$') => "/",
            p => p,
        })
        .map(|part| {
            format!(
                "{}/**",
                resolve(dir, part)
                    .trim_end_matches("/**")
                    .trim_end_matches('/')
            )
        })
        .collect()
}
