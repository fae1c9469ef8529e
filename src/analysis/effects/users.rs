//! Users and their homes: the `USER` a `RUN` runs as, the homes made by
//! `useradd`/`adduser`/`WORKDIR`, the `/etc/passwd` an image is known to
//! hold, and the settings files a tool reads there. A home not known is
//! every path a home may be.

use super::*;

/// Whether `HOME` is set in the Dockerfile to a value that is not known
/// (`ARG HOME`, `ENV HOME=${APP_HOME:-/srv/app}`): the home may be anywhere.
pub(super) fn home_unknown(env: &BTreeMap<String, String>) -> bool {
    env.contains_key("HOME") && home_dir(env).is_none()
}

/// `HOME` as set in the Dockerfile, when it is a literal absolute path.
pub(super) fn home_dir(env: &BTreeMap<String, String>) -> Option<String> {
    env.get("HOME")
        .filter(|h| !h.contains('$') && h.starts_with('/'))
        .map(|h| resolve("/", h))
}

/// Where a user's home may be besides `/root` (stated assumption, README):
/// without `HOME` set in the Dockerfile, a `RUN` runs with the home
/// `/etc/passwd` gives its user, which the analysis does not read. That
/// is `/home/NAME`, or a home an earlier `useradd`, `adduser` or
/// `usermod` of the stage (or of the stage it is built on) gave
/// ([`created_homes`]). A user of the base image is assumed to have its
/// home in `/root` or `/home/*` (the homes elsewhere of system users,
/// `/var/www`, `/nonexistent`, ..., are not followed: the system package
/// managers' writes to `/var` would otherwise meet every language
/// install's). With `HOME` set, that.
///
/// `homes` holds them for the `RUN`'s user ([`RunUser::homes`]).
pub(super) fn user_homes(env: &BTreeMap<String, String>, homes: &[String]) -> Vec<String> {
    if home_unknown(env) {
        return vec![UNKNOWN_HOME.to_string()];
    }
    if let Some(h) = home_dir(env) {
        return if h == "/root" { Vec::new() } else { vec![h] };
    }
    homes.to_vec()
}

/// The user a `RUN` runs as, as far as its home goes (the fifth stated
/// assumption, README).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunUser {
    /// `root`: `USER root` or `USER 0`, or no `USER` on an official image
    /// ([`base_runs_as_root`]). Its home is `/root`.
    Root,
    /// `USER NAME`, a literal name: its home is `/home/NAME` (or one an
    /// earlier `useradd -d` gave, or `/root`).
    Named(String),
    /// A numeric id, a variable, or a base image that may set a user: any
    /// `/home/*`.
    Unknown,
    /// A `RUN` that sets `HOME` itself, or runs through a `SHELL` that may
    /// switch users: a home anywhere.
    Anywhere,
}

impl RunUser {
    /// The user after `USER arg` (`name[:group]`).
    pub(crate) fn of_user_instruction(arg: &str) -> RunUser {
        let user = arg.split(':').next().unwrap_or("");
        let name_like = user
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        match user {
            "root" | "0" => RunUser::Root,
            _ if name_like => RunUser::Named(user.to_string()),
            _ => RunUser::Unknown,
        }
    }

    /// The homes this user may have besides `/root`, with those earlier
    /// instructions gave users (`created`, [`created_homes`]). Narrowed
    /// only where the user database is known ([`Passwd`]): root's home is
    /// then `/root`, and a user a parsed `useradd`/`adduser` made has the
    /// home it gave; otherwise any `/home/*`, as for a user of the base.
    pub(super) fn homes(&self, created: &[String], passwd: &Passwd) -> Vec<String> {
        let mut out: Vec<String> = match (self, passwd.home_of(self)) {
            (RunUser::Root, Some(_)) => Vec::new(),
            (_, Some(home)) => vec![home],
            (RunUser::Anywhere, _) => vec![UNKNOWN_HOME.to_string()],
            _ => vec![ANY_USER_HOME.to_string()],
        };
        for h in created {
            if !out.contains(h) {
                out.push(h.clone());
            }
        }
        out
    }
}

/// The homes of users a base image may have (besides `/root`): see
/// [`user_homes`].
pub(super) const ANY_USER_HOME: &str = "/home/*";

/// What is known of the user database (`/etc/passwd`) before a unit: it
/// is known when the stage chain starts from an official image (no `ENV
/// HOME`, root's home `/root`) and nothing since wrote it but `RUN`s of
/// user tools the analysis reads (`useradd`, `adduser`, `groupadd`,
/// `addgroup`) and of system package managers (a stated assumption: they
/// may add system users, never move an existing user's home).
#[derive(Debug, Clone, Default)]
pub(super) struct Passwd {
    pub(super) known: bool,
    /// (login, home) of the users parsed tools made.
    pub(super) users: Vec<(String, String)>,
}

impl Passwd {
    /// The home of `user`, when it is known.
    pub(super) fn home_of(&self, user: &RunUser) -> Option<String> {
        if !self.known {
            return None;
        }
        match user {
            RunUser::Root => Some("/root".into()),
            RunUser::Named(name) => self
                .users
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, h)| h.clone()),
            RunUser::Unknown | RunUser::Anywhere => None,
        }
    }

    /// The database after `ins`, whose effects are `e`; a `RUN` runs in
    /// `wd`, its commands described by `kb`.
    pub(super) fn advance(
        &mut self,
        ins: &Instruction,
        env: &BTreeMap<String, String>,
        wd: &str,
        kb: &kb::KnowledgeBase,
        e: &Effects,
    ) {
        if !self.known {
            return;
        }
        // The database, the files that set new users' homes, or a home
        // itself (a later `ln -s /srv/app /home/app`).
        let homes: Vec<&str> = std::iter::once("/root")
            .chain(self.users.iter().map(|(_, h)| h.as_str()))
            .map(|h| h.trim_end_matches('/'))
            .collect();
        // A write below a home is not one of the home (`pip install
        // --user`, `COPY . /home/app/`), but a `RUN`'s write of its whole
        // tree may be (`rm -rf /home/app && ln -s /srv/app /home/app`).
        // (Compared in place: a RUN writes a few hundred paths.)
        let copy = matches!(ins.node.kind, Kind::Copy | Kind::Add);
        // `paths_overlap` with the fixed sides' bases made once, not once
        // per path written.
        let db: [(&str, bool); 4] = USER_DB_FILES.map(pattern_base);
        let homes: Vec<(&str, (&str, bool))> =
            homes.iter().map(|h| (*h, pattern_base(h))).collect();
        let touches = |p: &str| {
            let base = pattern_base(p);
            db.iter().any(|&f| bases_overlap(base, f))
                || homes
                    .iter()
                    .any(|&(h, hb)| writes_home(p, base, (h, hb), copy))
        };
        let writes_db = e.opaque.is_some()
            || e.writes
                .iter()
                .any(|w| matches!(w, Loc::Path(p) if touches(p)));
        if !writes_db {
            return;
        }
        // Beside the user tools, a command the knowledge base describes
        // that writes none of it (`pip install uv && useradd -m app`,
        // `useradd app && chown -R app /app`: scout77 probe uv-user).
        let leaves_db = |cmds: &[shell::SimpleCommand], n: usize, made: &[String]| {
            let touches_made = |p: &str| {
                touches(p)
                    || made.iter().any(|h| {
                        let h = h.trim_end_matches('/');
                        writes_home(p, pattern_base(p), (h, pattern_base(h)), false)
                    })
            };
            command_leaves_user_db(cmds, n, wd, env, kb, &touches_made)
        };
        match (ins.node.kind, users_made(ins, env, &leaves_db)) {
            (Kind::Run, Some(users)) => self.users.extend(users),
            _ => *self = Passwd::default(),
        }
    }
}

/// Whether a write of `p` (its base `base`) may be one of the home `h`
/// (its base `hb`) itself: a write below a home is not (`pip install
/// --user`, `COPY . /home/app/`), but a `RUN`'s write of its whole tree
/// may be (`rm -rf /home/app && ln -s /srv/app /home/app`); `copy` for a
/// `COPY`/`ADD`.
fn writes_home(p: &str, base: (&str, bool), (h, hb): (&str, (&str, bool)), copy: bool) -> bool {
    let rest = p.strip_prefix(h);
    let below = rest.is_some_and(|r| r.starts_with('/'));
    let whole_tree = rest == Some("/**");
    bases_overlap(base, hb) && !(below && (copy || !whole_tree))
}

/// The user database and the files that decide a new user's home.
pub(super) const USER_DB_FILES: [&str; 4] = [
    "/etc/passwd",
    "/etc/default/useradd",
    "/etc/adduser.conf",
    "/etc/login.defs",
];

/// The users a `RUN` that writes the user database makes, when every
/// command of it is read: `useradd`/`adduser` with their login and home,
/// `groupadd`/`addgroup`, a system package manager, or `id`/`getent`/
/// `true` (`id node || adduser -D node`); `None` for anything else (a
/// script, `sed`, `tar`, `usermod`, `mkdir`, a heredoc, shell the splitter
/// does not follow): it may edit the database.
#[cfg(test)]
pub(super) fn user_tool_users(
    ins: &Instruction,
    env: &BTreeMap<String, String>,
) -> Option<Vec<(String, String)>> {
    users_made(ins, env, &|_, _, _| false)
}

/// Whether the `n`th of a `RUN`'s commands leaves the user database alone,
/// given the homes the `RUN`'s user tools make.
type LeavesDb<'a> = &'a dyn Fn(&[shell::SimpleCommand], usize, &[String]) -> bool;

/// [`user_tool_users`], where a command `leaves_db` accepts (the `n`th of
/// the `RUN`'s commands, given the homes the `RUN`'s user tools make)
/// counts as one that leaves the database alone.
fn users_made(
    ins: &Instruction,
    env: &BTreeMap<String, String>,
    leaves_db: LeavesDb<'_>,
) -> Option<Vec<(String, String)>> {
    const SYSTEM_PMS: [&str; 8] = [
        "apt-get", "apt", "apk", "dnf", "yum", "microdnf", "dpkg", "rpm",
    ];
    if ins.node.json || !ins.heredocs.is_empty() {
        return None;
    }
    let text = ins.node.str_args().collect::<Vec<_>>().join(" ");
    let Split::Commands(cmds) = shell::split(&text) else {
        return None;
    };
    let tool_of = |c: &shell::SimpleCommand| {
        c.argv
            .first()
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
    };
    // The homes this `RUN` makes: another command may move one (`mv
    // /home/app /srv/app && ln -s /srv/app /home/app`).
    let made_homes: Vec<String> = cmds
        .iter()
        .filter_map(|c| {
            let tool = tool_of(c)?;
            matches!(tool.as_str(), "useradd" | "adduser")
                .then(|| made_user(&tool, &c.argv[1..], env))
                .flatten()
                .map(|(_, home)| home)
        })
        .collect();
    let mut users = Vec::new();
    for (n, c) in cmds.iter().enumerate() {
        let tool = tool_of(c)?;
        let tool = tool.as_str();
        match tool {
            "useradd" | "adduser" => users.push(made_user(tool, &c.argv[1..], env)?),
            "groupadd" | "addgroup" => {}
            t if SYSTEM_PMS.contains(&t) => {}
            "id" | "getent" | "true" | ":" if c.redirect_writes.is_empty() => {}
            "rm" if c.redirect_writes.is_empty() && removes_no_user_files(&c.argv[1..]) => {}
            "usermod" | "userdel" | "groupmod" | "chsh" | "chfn" | "vipw" => return None,
            _ if leaves_db(&cmds, n, &made_homes) => {}
            _ => return None,
        }
    }
    Some(users)
}

/// Whether the `n`th command of a `RUN` leaves the user database, the files
/// that decide a new user's home and the homes known so far alone
/// (`touches` says which paths are theirs): the knowledge base describes
/// it, and none of the files it writes (redirections included) is one,
/// but for the owner or mode it changes (`chown -R app /home/app`) or a
/// directory it makes (`mkdir -p /home/app`), which move no home. A
/// relative path where the working directory is not known may be any.
fn command_leaves_user_db(
    cmds: &[shell::SimpleCommand],
    n: usize,
    wd: &str,
    env: &BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
    touches: &dyn Fn(&str) -> bool,
) -> bool {
    let Some(c) = cmds.get(n) else {
        return false;
    };
    // A `cd` writes nothing (unless redirected): the user tools after it
    // take no file from the directory they run in.
    if c.argv.first().is_some_and(|a| a == "cd") {
        return c.redirect_writes.is_empty();
    }
    let facts = kb::interpret_in(cmds, n, kb, env);
    if facts.unknown.is_some() {
        return false;
    }
    let dir = match (&c.cd, &facts.chdir) {
        (Some(d), Some(x)) => resolve(&resolve(wd, d), x),
        (Some(d), None) => resolve(wd, d),
        (None, Some(x)) => resolve(wd, x),
        (None, None) => wd.to_string(),
    };
    facts.writes.iter().all(|w| {
        let Some(p) = expand(w, env) else {
            return false;
        };
        if p.starts_with('~') || (!p.starts_with('/') && dir.contains('?')) {
            return false;
        }
        let p = resolve(&dir, &p);
        let harmless = facts.metadata_writes.contains(w) || facts.dir_writes.contains(w);
        let db = USER_DB_FILES.iter().any(|f| {
            paths_overlap(&p, f) || paths_overlap(&format!("{}/**", p.trim_end_matches('/')), f)
        });
        !db && (harmless || !touches(&p))
    })
}

/// Whether an `rm` with these arguments leaves the user database and the
/// files that decide a new user's home ([`USER_DB_FILES`]) alone: plain
/// options, and literal absolute operands none of which is one of them or a
/// directory above one (`rm -rf /var/lib/apt/lists/*`, which most `apt-get
/// install` RUNs end with; not `rm -f /etc/*`, `rm -rf /etc/default`,
/// `rm -rf $DIR`, a relative path, `/etc/./passwd`, whose `.` the path
/// comparison does not take away). Removing a home does not move it: the
/// database still names it (a link put in its place is another command's).
fn removes_no_user_files(args: &[String]) -> bool {
    let mut operands = 0;
    for a in args {
        if let Some(letters) = a.strip_prefix('-') {
            let plain = matches!(
                a.as_str(),
                "--recursive" | "--force" | "--verbose" | "--dir" | "--"
            ) || (!letters.is_empty()
                && letters
                    .bytes()
                    .all(|b| matches!(b, b'r' | b'R' | b'f' | b'v' | b'd')));
            if !plain {
                return false;
            }
            continue;
        }
        let literal = a.starts_with('/')
            && !a.contains(['$', '`', '\\', '"', '\'', '{', '~', '[', '?'])
            && !a.split('/').any(|c| c == ".." || c == ".");
        let below = format!("{}/**", a.trim_end_matches('/'));
        if !literal
            || USER_DB_FILES
                .iter()
                .any(|f| paths_overlap(a, f) || paths_overlap(&below, f))
        {
            return false;
        }
        operands += 1;
    }
    operands > 0
}

/// The login and home a `useradd`/`adduser` command gives (`/home/NAME`
/// unless `-d`/`-b`/`--home` says otherwise); `None` for an option it does
/// not know, a `--root`/`--prefix`, a variable it cannot expand, or
/// positionals that name no single new login.
pub(super) fn made_user(
    tool: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
) -> Option<(String, String)> {
    // Options taking a value (shadow's useradd, BusyBox and Debian adduser).
    // Not followed (so `None`): a skeleton or configuration file (`-k`,
    // `--conf`), another root (`-R`, `-P`, `--root`, `--prefix`), and a
    // system user without a home given (Debian's `adduser --system` gives
    // `/nonexistent`).
    let (short_values, short_flags) = match tool {
        "adduser" => ("hgsGu", "DHL"),
        // (`useradd -D` changes the defaults)
        _ => ("bcdefgGKpsuZ", "lmMNoU"),
    };
    const LONG_VALUES: [&str; 17] = [
        "home",
        "home-dir",
        "base-dir",
        "shell",
        "uid",
        "gid",
        "ingroup",
        "gecos",
        "comment",
        "groups",
        "expiredate",
        "inactive",
        "key",
        "password",
        "firstuid",
        "lastuid",
        "selinux-user",
    ];
    const LONG_FLAGS: [&str; 10] = [
        "disabled-password",
        "disabled-login",
        "no-create-home",
        "create-home",
        "group",
        "quiet",
        "debug",
        "user-group",
        "no-user-group",
        "no-log-init",
    ];
    let mut positional: Vec<&str> = Vec::new();
    // A system user (`useradd -r`, BusyBox `adduser -S`, Debian `adduser
    // --system`) counts only with its home given.
    let mut system = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        if let Some(name) = a.strip_prefix("--") {
            let name = name.split_once('=').map_or(name, |(n, _)| n);
            if name == "system" {
                system = true;
            } else if LONG_VALUES.contains(&name) {
                if !a.contains('=') {
                    i += 1;
                }
            } else if !LONG_FLAGS.contains(&name) {
                return None;
            }
            continue;
        }
        if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (k, ch) in cluster.char_indices() {
                if short_values.contains(ch) {
                    if cluster[k + ch.len_utf8()..].is_empty() {
                        i += 1;
                    }
                    break;
                }
                let system_flag = if tool == "adduser" { 'S' } else { 'r' };
                if ch == system_flag {
                    system = true;
                } else if !short_flags.contains(ch) {
                    return None;
                }
            }
            continue;
        }
        positional.push(a);
    }
    // useradd LOGIN; adduser USER (`adduser USER GROUP` adds a user that
    // may already exist, with its own home, to a group).
    let login = match positional.as_slice() {
        [login] => *login,
        _ => return None,
    };
    if login.contains(['$', '/', '`']) || login.is_empty() {
        return None;
    }
    let mut home = format!("/home/{login}");
    let given = home_options(tool, args);
    if system && !given.iter().any(|(o, _)| *o == HomeOpt::Home) {
        return None;
    }
    for (opt, value) in given {
        let dir = expand(&value, env).filter(|d| d.starts_with('/'))?;
        home = match opt {
            HomeOpt::Home => resolve("/", &dir),
            HomeOpt::Base => format!("{}/{login}", resolve("/", &dir).trim_end_matches('/')),
            HomeOpt::Root => return None,
        };
    }
    Some((login.to_string(), home))
}

/// A home that may be anywhere: a `useradd -d` whose directory is not
/// known. Its entries (`/**/.npm/**`) cover every path.
pub(super) const UNKNOWN_HOME: &str = "/**";

/// Search-path directories set in the Dockerfile, and the home entries
/// the commands read without naming them (for commands that read per-user
/// settings).
pub(super) fn lookup_dirs(
    dir: &str,
    env: &BTreeMap<String, String>,
    lookup: Lookup,
    created: &[String],
    home: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    if lookup != Lookup::Builtins {
        out.extend(search_path_dirs(dir, env));
    }
    if lookup >= Lookup::System {
        out.extend(home_paths(env, created, home));
    }
    out
}

/// Each of `entries` in every home a command may have: `HOME` as set in
/// the Dockerfile, `/root`, and the homes [`user_homes`] gives without it.
pub(super) fn home_paths(
    env: &BTreeMap<String, String>,
    created: &[String],
    entries: &[String],
) -> Vec<String> {
    let mut homes: Vec<String> = home_dir(env).into_iter().collect();
    if home_unknown(env) {
        homes.push(UNKNOWN_HOME.to_string());
    }
    homes.push("/root".to_string());
    homes.extend(user_homes(&BTreeMap::new(), created));
    let mut out: Vec<String> = Vec::new();
    for h in homes {
        let h = h.trim_end_matches('/');
        for entry in entries {
            let p = format!("{h}/{entry}");
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// The implicit reads of a `RUN` (see [`Effects::implicit_reads`]):
/// `home` holds the home entries its commands read (see [`HomeUse`]).
pub(super) fn run_implicit_reads(
    dir: &str,
    env: &BTreeMap<String, String>,
    lookup: Lookup,
    created: &[String],
    home: &[String],
) -> Vec<Loc> {
    let trees = if lookup <= Lookup::Utilities {
        BASE_TREES
    } else {
        SYSTEM_TREES
    };
    let mut out: Vec<Loc> = trees.iter().map(|t| Loc::Path((*t).into())).collect();
    let mut push = |p: String| {
        let l = Loc::Path(p);
        if !out.contains(&l) {
            out.push(l);
        }
    };
    for d in search_path_dirs(dir, env)
        .into_iter()
        .filter(|_| lookup != Lookup::Builtins)
    {
        push(d);
    }
    if lookup >= Lookup::System {
        // In a home, the tools read their settings, caches and user-level
        // installs (a system package manager only those of
        // [`SYSTEM_HOME`]). Other files there (an application in
        // `/home/node/app`) are read only when named.
        for p in home_paths(env, created, home) {
            push(p);
        }
    }
    out
}

/// What a tool the knowledge base gives no home entries for may read in a
/// home without naming it: its dot entries, and the few plain directories
/// tools default to (`~/go` for Go, `~/perl5` for local::lib, `~/R`).
pub(crate) const HOME_ENTRIES: &[&str] = &[".*", ".*/**", "go/**", "perl5/**", "R/**"];

/// What a system package manager and the maintainer scripts it runs read
/// in the home of the user running it (`HOME`, `/root` for root), each
/// from its documentation: dpkg's `~/.dpkg.cfg` (dpkg.cfg(5)), debconf's
/// `~/.debconfrc` (debconf.conf(5)), rpm's `~/.rpmmacros`, `~/.rpmrc`
/// and `~/.config/rpm/macros` (rpm(8)); and what the runtimes a
/// maintainer script may start load from there without being told:
/// Python's user site under `~/.local` (site(3); measured: python3's
/// postinst imported a shipped `usercustomize.py`), fontconfig's user
/// settings and fonts (fc-cache: `~/.config/fontconfig`, `~/.fonts.conf`,
/// `~/.fonts`, `~/.local/share/fonts`), git's (`~/.gitconfig`,
/// `~/.config/git`), wget's `~/.wgetrc` and `~/.netrc` (packages that
/// download at install). Other dot files of a home (`.rspec`,
/// `.gitignore`, `.config/dotnet-tools.json`) are none of theirs.
pub(crate) const SYSTEM_HOME: &[&str] = &[
    ".dpkg.cfg",
    ".debconfrc",
    ".rpmmacros",
    ".rpmrc",
    ".config/rpm/**",
    ".config/fontconfig/**",
    ".config/git/**",
    ".local/lib/**",
    ".local/share/fonts/**",
    ".fonts.conf",
    ".fonts/**",
    ".gitconfig",
    ".wgetrc",
    ".netrc",
];

/// What git reads in a home (git-config(1), gitcredentials(7), ssh(1),
/// and libcurl's `.netrc`), for a command that may run it.
pub(crate) const GIT_HOME: &[&str] = &[
    ".gitconfig",
    ".config/git/**",
    ".git-credentials",
    ".netrc",
    ".ssh/**",
];

/// The home entries the commands of one `RUN` read or write without
/// naming them, gathered command by command: the union of the knowledge
/// base's lists, or [`HOME_ENTRIES`] as soon as one command that looks
/// things up has none.
#[derive(Default)]
pub(super) struct HomeUse {
    pub(super) entries: Vec<String>,
    pub(super) unlisted: bool,
}

impl HomeUse {
    pub(super) fn add(&mut self, argv0: &str, facts: &kb::CommandFacts) {
        match lookup_of(argv0) {
            Lookup::Full => {}
            Lookup::System => {
                self.entries
                    .extend(SYSTEM_HOME.iter().map(|e| e.to_string()));
                return;
            }
            Lookup::Builtins | Lookup::Utilities => return,
        }
        match &facts.home {
            Some(list) => self.entries.extend(list.iter().cloned()),
            None => self.unlisted = true,
        }
        if facts.git.is_some() {
            self.entries.extend(GIT_HOME.iter().map(|g| g.to_string()));
        }
    }

    /// The entries to use.
    pub(super) fn entries(&self) -> Vec<String> {
        if self.unlisted {
            return HOME_ENTRIES.iter().map(|e| e.to_string()).collect();
        }
        let mut out = self.entries.clone();
        out.sort();
        out.dedup();
        out
    }
}

/// The directories above `dir` (absolute), nearest first, `/` last.
pub(super) fn parent_dirs(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = dir.trim_end_matches('/');
    while let Some((parent, _)) = d.rsplit_once('/') {
        out.push(if parent.is_empty() {
            "/".to_string()
        } else {
            parent.to_string()
        });
        d = parent;
    }
    out
}

/// The repository git finds from `dir`: the `.git` of it or of a parent
/// (gitrepository-layout(5); a `.git` file points elsewhere, so it counts
/// too).
pub(super) fn repository_paths(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = dir.trim_end_matches('/').to_string();
    loop {
        out.push(format!("{d}/.git"));
        out.push(format!("{d}/.git/**"));
        match d.rsplit_once('/') {
            Some((parent, _)) if !d.is_empty() => d = parent.to_string(),
            _ => break,
        }
    }
    out
}

pub(super) fn narrower(a: &Loc, b: &Loc) -> Loc {
    match (a, b) {
        (Loc::Path(x), Loc::Path(y)) => {
            if x.len() >= y.len() {
                a.clone()
            } else {
                b.clone()
            }
        }
        (Loc::AllVars, _) => b.clone(),
        _ => a.clone(),
    }
}
