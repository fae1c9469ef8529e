//! What each instruction reads and writes (DESIGN.md section 4), as
//! abstract locations, and when two instructions conflict.
//!
//! The rule for safety: anything not understood reads and writes
//! everything. An unknown `RUN` writes every image path, so nothing that
//! reads or writes an image path moves across it.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

use super::context::Context;
use super::kb::{self, CostClass, ManifestCheck};
use super::shell::{self, Split};
use crate::model::Stage;
use crate::syntax::{Instruction, Kind, Parse};

/// An abstract location an instruction reads or writes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Loc {
    /// A build variable (`ENV`, `ARG`).
    Var(String),
    /// Every variable in scope (the environment of a `RUN`).
    AllVars,
    Workdir,
    User,
    Shell,
    /// An image path; `/**` at the end covers the tree below.
    Path(String),
    /// An image config key (CMD, LABEL k, ...): last writer wins.
    Config(String),
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Var(v) => write!(f, "${v}"),
            Loc::AllVars => write!(f, "all variables"),
            Loc::Workdir => write!(f, "working directory"),
            Loc::User => write!(f, "user"),
            Loc::Shell => write!(f, "shell"),
            Loc::Path(p) => write!(f, "{p}"),
            Loc::Config(k) => write!(f, "config {k}"),
        }
    }
}

/// Path components; an unknown base (`/?wdN`, a WORKDIR we could not
/// resolve) is kept as a component of its own.
fn comps(p: &str) -> (Vec<&str>, bool) {
    let recursive = p.ends_with("/**") || p == "**";
    let base = p.trim_end_matches("**").trim_end_matches('/');
    (
        base.split('/').filter(|c| !c.is_empty()).collect(),
        recursive,
    )
}

/// Whether two path patterns can name the same file.
pub fn paths_overlap(a: &str, b: &str) -> bool {
    let (ca, ra) = comps(a);
    let (cb, rb) = comps(b);
    let unknown_a = ca.first().is_some_and(|c| c.starts_with('?'));
    let unknown_b = cb.first().is_some_and(|c| c.starts_with('?'));
    if unknown_a != unknown_b {
        // One side is below a directory we could not resolve: it may be
        // anywhere.
        return true;
    }
    let n = ca.len().min(cb.len());
    if ca[..n] != cb[..n] {
        return false;
    }
    if ca.len() == cb.len() {
        return true;
    }
    if ca.len() < cb.len() { ra } else { rb }
}

fn loc_conflict(a: &Loc, b: &Loc) -> bool {
    match (a, b) {
        (Loc::Path(x), Loc::Path(y)) => paths_overlap(x, y),
        (Loc::AllVars, Loc::Var(_)) | (Loc::Var(_), Loc::AllVars) => true,
        (Loc::AllVars, Loc::AllVars) => true,
        _ => a == b,
    }
}

/// The effects of one unit.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Effects {
    pub reads: Vec<Loc>,
    pub writes: Vec<Loc>,
    /// Context paths it reads (COPY/ADD sources, bind mounts).
    pub context_reads: Vec<String>,
    /// Image paths of dependency manifests a RUN reads (resolved).
    pub manifests: Vec<String>,
    /// Image paths a RUN writes only when they do not exist yet.
    pub writes_if_missing: Vec<String>,
    /// Manifest checks to make against the context (for hoisting).
    #[serde(skip)]
    pub checks: Vec<(ManifestCheck, String)>,
    /// Why the analysis could not follow it (it then reads and writes
    /// everything).
    pub opaque: Option<String>,
    pub cost: f64,
    pub cost_class: Option<CostClass>,
    /// Package index update (apt/apk/yum) alone in its RUN.
    pub lone_update: Option<String>,
    /// First command is the install matching an update family.
    pub install_of: Option<String>,
    /// Pinned by `# dockreorder: keep`.
    pub keep: bool,
    /// Not understood, but its reads are declared by a pragma: what it
    /// writes is unknown.
    pub declared_only: bool,
}

/// Why `a` must stay before `b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DepReason {
    /// `a` writes what `b` reads.
    WriteRead(Loc),
    /// `a` reads what `b` writes.
    ReadWrite(Loc),
    /// Both write it.
    WriteWrite(Loc),
    /// A pinned instruction (`# dockreorder: keep`).
    Pinned,
}

impl fmt::Display for DepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepReason::WriteRead(l) => write!(f, "writes {l}, which the later one reads"),
            DepReason::ReadWrite(l) => write!(f, "reads {l}, which the later one writes"),
            DepReason::WriteWrite(l) => write!(f, "both write {l}"),
            DepReason::Pinned => write!(f, "pinned by `# dockreorder: keep`"),
        }
    }
}

/// The first reason `a` (earlier) must stay before `b` (later), if any.
pub fn conflict(a: &Effects, b: &Effects) -> Option<DepReason> {
    if a.keep || b.keep {
        return Some(DepReason::Pinned);
    }
    for w in &a.writes {
        if let Some(r) = b.reads.iter().find(|r| loc_conflict(w, r)) {
            return Some(DepReason::WriteRead(narrower(w, r)));
        }
    }
    for r in &a.reads {
        if let Some(w) = b.writes.iter().find(|w| loc_conflict(r, w)) {
            return Some(DepReason::ReadWrite(narrower(r, w)));
        }
    }
    for w in &a.writes {
        if let Some(w2) = b.writes.iter().find(|w2| loc_conflict(w, w2)) {
            return Some(DepReason::WriteWrite(narrower(w, w2)));
        }
    }
    None
}

fn narrower(a: &Loc, b: &Loc) -> Loc {
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

/// Variables referenced as `$X` or `${X…}` in a text.
pub fn vars_used(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' {
            let mut j = i + 1;
            if chars.get(j) == Some(&'{') {
                j += 1;
            }
            let start = j;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if j > start {
                let name: String = chars[start..j].iter().collect();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Normalises an absolute or relative path against a working directory.
pub fn resolve(wd: &str, p: &str) -> String {
    let joined = if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{}/{}", wd.trim_end_matches('/'), p)
    };
    let recursive = joined.ends_with("/**");
    let body = joined.trim_end_matches("/**");
    let mut parts: Vec<&str> = Vec::new();
    for c in body.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| !l.starts_with('?')) {
                    parts.pop();
                }
            }
            c => parts.push(c),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    if recursive {
        if out == "/" {
            out = "/**".into();
        } else {
            out.push_str("/**");
        }
    }
    out
}

/// The state a stage's instructions see, in order.
#[derive(Debug, Clone)]
pub struct StageState {
    /// The working directory before each unit (absolute, or `/?wdN` when
    /// not known), parallel to the stage's units.
    pub workdirs: Vec<String>,
    /// Variables set by ENV/ARG so far, parallel to units (literal values).
    pub env: Vec<BTreeMap<String, String>>,
}

/// Computes the effects of every unit of a stage.
pub fn analyze_stage(parse: &Parse, stage: &Stage) -> (Vec<Effects>, StageState) {
    analyze_stage_with(parse, stage, None)
}

/// Like [`analyze_stage`], with the build context: `COPY` sources that are
/// files in the context then write exactly their destination file.
pub fn analyze_stage_with(
    parse: &Parse,
    stage: &Stage,
    ctx: Option<&Context>,
) -> (Vec<Effects>, StageState) {
    let kb = kb::active();
    let mut wd = "/?wd0".to_string();
    let mut unknown_wds = 0;
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut effects = Vec::new();
    let mut state = StageState {
        workdirs: Vec::new(),
        env: Vec::new(),
    };
    for unit in &stage.units {
        state.workdirs.push(wd.clone());
        state.env.push(env.clone());
        let Some(ins) = parse.items.get(unit.item).and_then(|i| i.instruction()) else {
            effects.push(opaque_effects("not an instruction"));
            continue;
        };
        let mut e = instruction_effects(ins, &wd, &env, kb);
        if matches!(ins.node.kind, Kind::Copy | Kind::Add) {
            refine_copy_writes(ins, &wd, &env, ctx, &mut e);
            // A copy costs more the more it copies (1 per MB, at most 30).
            if let Some(ctx) = ctx {
                let bytes: u64 = e.context_reads.iter().map(|s| ctx.size_under(s)).sum();
                e.cost += (bytes as f64 / 1_000_000.0).min(30.0);
            }
        }
        e.keep = unit.keep;
        if let (Some(declared), Kind::Run) = (&unit.declared_reads, ins.node.kind) {
            // The user's word for what this RUN reads; what it writes stays
            // as analysed (everything, when the RUN is not understood).
            e.reads = vec![Loc::AllVars, Loc::Workdir, Loc::User, Loc::Shell];
            e.manifests.clear();
            for p in declared {
                let path = resolve(&wd, p);
                e.reads.push(Loc::Path(path.clone()));
                e.manifests.push(path);
            }
            e.checks.clear();
            if e.opaque.is_some() {
                e.declared_only = true;
                e.opaque = None;
            }
        }
        // State changes for the following units.
        match ins.node.kind {
            Kind::Workdir => {
                let arg = ins.node.str_args().next().unwrap_or("");
                match expand(arg, &env) {
                    Some(p) => wd = resolve(&wd, &p),
                    None => {
                        unknown_wds += 1;
                        wd = format!("/?wd{unknown_wds}");
                    }
                }
            }
            Kind::Env => {
                let args: Vec<&str> = ins.node.str_args().collect();
                for t in args.chunks(3) {
                    if let [k, v, _] = t {
                        let v = unquote(v);
                        env.insert(k.to_string(), expand(&v, &env).unwrap_or_default());
                    }
                }
            }
            Kind::Arg => {
                for a in ins.node.str_args() {
                    let (k, v) = a.split_once('=').unwrap_or((a, ""));
                    env.insert(k.to_string(), unquote(v));
                }
            }
            _ => {}
        }
        effects.push(e);
    }
    (effects, state)
}

fn unquote(v: &str) -> String {
    let t = v.trim();
    if t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')))
    {
        t[1..t.len() - 1].to_string()
    } else {
        t.to_string()
    }
}

/// Expands `$X`/`${X}` from literal values; `None` when a variable is not
/// known or a form is not understood.
fn expand(text: &str, env: &BTreeMap<String, String>) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_string());
    }
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let braced = chars.get(i + 1) == Some(&'{');
        let mut j = i + 1 + usize::from(braced);
        let start = j;
        while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
            j += 1;
        }
        if j == start {
            return None;
        }
        if braced {
            if chars.get(j) != Some(&'}') {
                return None;
            }
            j += 1;
        }
        let name: String = chars[start..j - usize::from(braced)].iter().collect();
        out.push_str(env.get(&name)?);
        i = j;
    }
    Some(out)
}

fn opaque_effects(reason: &str) -> Effects {
    Effects {
        reads: vec![
            Loc::Path("/**".into()),
            Loc::AllVars,
            Loc::Workdir,
            Loc::User,
            Loc::Shell,
        ],
        writes: vec![Loc::Path("/**".into())],
        opaque: Some(reason.to_string()),
        cost: CostClass::Build.weight(),
        cost_class: Some(CostClass::Build),
        ..Effects::default()
    }
}

fn add_vars(e: &mut Effects, text: &str) {
    for v in vars_used(text) {
        let l = Loc::Var(v);
        if !e.reads.contains(&l) {
            e.reads.push(l);
        }
    }
}

/// Effects of one instruction, given the working directory and variables
/// before it.
pub fn instruction_effects(
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
) -> Effects {
    let node = &ins.node;
    let mut e = Effects::default();
    let args: Vec<&str> = node.str_args().collect();
    let flag_text = node.flags.join(" ");
    match node.kind {
        Kind::Arg => {
            for a in &args {
                let (k, v) = a.split_once('=').unwrap_or((a, ""));
                e.writes.push(Loc::Var(k.to_string()));
                add_vars(&mut e, v);
            }
        }
        Kind::Env => {
            for t in args.chunks(3) {
                if let [k, v, _] = t {
                    e.writes.push(Loc::Var(k.to_string()));
                    add_vars(&mut e, v);
                }
            }
        }
        Kind::Workdir => {
            let p = args.first().copied().unwrap_or("");
            add_vars(&mut e, p);
            e.reads.push(Loc::Workdir);
            e.reads.push(Loc::User);
            e.writes.push(Loc::Workdir);
            match expand(p, env) {
                Some(p) => e.writes.push(Loc::Path(resolve(wd, &p))),
                None => e.writes.push(Loc::Path("/**".into())),
            }
        }
        Kind::User => {
            add_vars(&mut e, args.first().copied().unwrap_or(""));
            e.writes.push(Loc::User);
        }
        Kind::Shell => e.writes.push(Loc::Shell),
        Kind::Label => {
            for t in args.chunks(3) {
                if let [k, v, _] = t {
                    add_vars(&mut e, k);
                    add_vars(&mut e, v);
                    e.writes.push(Loc::Config(format!("label {}", unquote(k))));
                }
            }
        }
        Kind::Expose | Kind::Stopsignal | Kind::Maintainer => {
            for a in &args {
                add_vars(&mut e, a);
            }
            e.writes
                .push(Loc::Config(node.kind.as_str().to_ascii_lowercase()));
        }
        Kind::Cmd | Kind::Entrypoint | Kind::Healthcheck => {
            if !node.json {
                e.reads.push(Loc::Shell);
            }
            e.writes
                .push(Loc::Config(node.kind.as_str().to_ascii_lowercase()));
            if node.kind == Kind::Entrypoint {
                // ENTRYPOINT resets an inherited CMD.
                e.writes.push(Loc::Config("cmd".into()));
            }
        }
        Kind::Volume => {
            e.writes.push(Loc::Config("volume".into()));
            for a in &args {
                add_vars(&mut e, a);
                match expand(a, env) {
                    Some(p) => e.writes.push(Loc::Path(format!(
                        "{}/**",
                        resolve(wd, &p).trim_end_matches("/**")
                    ))),
                    None => e.writes.push(Loc::Path("/**".into())),
                }
            }
        }
        Kind::Onbuild => e.writes.push(Loc::Config("onbuild".into())),
        Kind::Copy | Kind::Add => copy_effects(ins, wd, env, &mut e),
        Kind::Run => run_effects(ins, wd, env, kb, &mut e),
        Kind::From | Kind::Unknown => {
            return opaque_effects(&format!(
                "`{}` is not an instruction that can move",
                node.keyword
            ));
        }
    }
    add_vars(&mut e, &flag_text);
    if e.cost_class.is_none() {
        e.cost = 0.0;
    }
    e
}

fn copy_effects(ins: &Instruction, wd: &str, env: &BTreeMap<String, String>, e: &mut Effects) {
    let node = &ins.node;
    let args: Vec<&str> = node.str_args().collect();
    e.cost_class = Some(CostClass::Cheap);
    e.cost = CostClass::Cheap.weight();
    let Some((dest, sources)) = args.split_last() else {
        *e = opaque_effects("COPY without a destination");
        return;
    };
    for a in &args {
        add_vars(e, a);
    }
    let from = node.flags.iter().find_map(|f| f.strip_prefix("--from="));
    for f in &node.flags {
        if let Some(owner) = f.strip_prefix("--chown=") {
            // User and group names are looked up in the image.
            if !owner
                .split(':')
                .all(|p| p.chars().all(|c| c.is_ascii_digit()))
            {
                e.reads.push(Loc::Path("/etc/passwd".into()));
                e.reads.push(Loc::Path("/etc/group".into()));
            }
        }
    }
    if from.is_none() {
        let heredoc_names: Vec<&str> = ins.heredocs.iter().map(|h| h.name.as_str()).collect();
        for s in sources {
            let is_heredoc = s.starts_with("<<") && heredoc_names.iter().any(|n| s.ends_with(n));
            if !is_heredoc {
                e.context_reads.push((*s).to_string());
            }
        }
    }
    if !dest.starts_with('/') {
        e.reads.push(Loc::Workdir);
    }
    match expand(dest, env) {
        Some(d) => e.writes.push(Loc::Path(format!(
            "{}/**",
            resolve(wd, &d).trim_end_matches("/**")
        ))),
        None => e.writes.push(Loc::Path("/**".into())),
    }
    if node.kind == Kind::Add
        && sources
            .iter()
            .any(|s| s.contains("://") || s.starts_with("git@"))
    {
        e.cost_class = Some(CostClass::Run);
        e.cost = CostClass::Run.weight();
    }
}

/// With the context known: a `COPY` of plain files into a directory writes
/// just `dir/<name>` for each (and the directory itself when it may not
/// exist yet), instead of the whole destination tree.
fn refine_copy_writes(
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    ctx: Option<&Context>,
    e: &mut Effects,
) {
    let Some(ctx) = ctx else { return };
    let node = &ins.node;
    if node.flags.iter().any(|f| {
        f.starts_with("--from=") || f.starts_with("--parents") || f.starts_with("--exclude")
    }) || !ins.heredocs.is_empty()
    {
        return;
    }
    let args: Vec<&str> = node.str_args().collect();
    let Some((dest, sources)) = args.split_last() else {
        return;
    };
    if !dest.ends_with('/') && sources.len() < 2 && *dest != "." {
        return;
    }
    let Some(dest) = expand(dest, env) else {
        return;
    };
    if node.kind == Kind::Add && sources.iter().any(|s| s.contains("://") || is_archive(s)) {
        return;
    }
    let dir = resolve(wd, &dest);
    let mut writes = Vec::new();
    for s in sources {
        if s.contains(['*', '?', '[', '$']) || !ctx.ships(s) {
            return;
        }
        let name = s.trim_end_matches('/').rsplit('/').next().unwrap_or(s);
        writes.push(Loc::Path(resolve(&dir, name)));
    }
    if dir != wd {
        // Whoever creates the directory decides its owner and mode.
        writes.push(Loc::Path(dir.clone()));
    }
    e.writes.retain(|w| !matches!(w, Loc::Path(_)));
    e.writes.extend(writes);
}

/// For a path with a glob (`./*`, `/var/lib/*.log`), the tree that may
/// hold the files it names; `None` without a glob.
fn glob_dir(p: &str) -> Option<String> {
    let body = p.strip_suffix("/**").unwrap_or(p);
    let i = body.find(['*', '?', '['])?;
    let head = &body[..i];
    Some(match head.rfind('/') {
        Some(0) => "/**".to_string(),
        Some(k) => format!("{}/**", &head[..k]),
        None => "./**".to_string(),
    })
}

fn is_archive(s: &str) -> bool {
    [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".gz",
        ".bz2", ".xz",
    ]
    .iter()
    .any(|e| s.ends_with(e))
}

fn run_effects(
    ins: &Instruction,
    wd: &str,
    env: &BTreeMap<String, String>,
    kb: &kb::KnowledgeBase,
    e: &mut Effects,
) {
    let node = &ins.node;
    let opaque = |reason: String| {
        let mut o = opaque_effects(&reason);
        o.opaque = Some(reason);
        o
    };
    for f in &node.flags {
        if f.starts_with("--mount=") {
            if f.contains("type=bind") || !f.contains("type=") {
                *e = opaque("a bind mount reads from the context or another stage".into());
                return;
            }
            if f.contains("type=secret") || f.contains("type=ssh") {
                *e = opaque("a secret or ssh mount".into());
                return;
            }
        } else if !f.starts_with("--network=") && !f.starts_with("--security=") {
            *e = opaque(format!("RUN flag `{f}` is not understood"));
            return;
        }
    }
    if node.json {
        *e = opaque("exec form RUN".into());
        return;
    }
    if !ins.heredocs.is_empty() {
        *e = opaque("a RUN with a heredoc script".into());
        return;
    }
    let text = node.str_args().next().unwrap_or("");
    let cmds = match shell::split(text) {
        Split::Commands(c) => c,
        Split::Opaque(reason) => {
            *e = opaque(reason);
            return;
        }
    };
    e.reads
        .extend([Loc::AllVars, Loc::Workdir, Loc::User, Loc::Shell]);
    let mut cost: Option<CostClass> = None;
    let mut local_env = env.clone();
    for (n, c) in cmds.iter().enumerate() {
        let facts = kb::interpret(c, kb, &local_env);
        if let Some(u) = facts.unknown {
            *e = opaque(u);
            return;
        }
        if c.argv.first().is_some_and(|a| a == "cd") {
            continue;
        }
        if c.argv.first().is_some_and(|a| a == "export") {
            for a in &c.argv[1..] {
                if let Some((k, v)) = a.split_once('=') {
                    local_env.insert(k.to_string(), v.to_string());
                }
            }
        }
        let dir = match &c.cd {
            Some(d) => resolve(wd, d),
            None => wd.to_string(),
        };
        let res = |p: &str| -> Option<String> {
            let p = expand(p, &local_env)?;
            // A glob names files we cannot list: the directory above it.
            let p = glob_dir(&p).unwrap_or(p);
            let p = p
                .strip_prefix("~/")
                .map(|r| format!("/root/{r}"))
                .unwrap_or(p);
            Some(resolve(&dir, &p))
        };
        for r in &facts.reads {
            match res(r) {
                Some(p) => e.reads.push(Loc::Path(p)),
                None => {
                    *e = opaque(format!("path `{r}` depends on a variable"));
                    return;
                }
            }
        }
        for w in &facts.writes {
            match res(w) {
                Some(p) => e.writes.push(Loc::Path(p)),
                None => {
                    *e = opaque(format!("path `{w}` depends on a variable"));
                    return;
                }
            }
        }
        // A virtualenv or user base on PATH changes where installers write.
        if facts.cost == Some(CostClass::Install) {
            for key in [
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
            ] {
                if let Some(v) = local_env.get(key) {
                    e.writes.push(Loc::Path(format!(
                        "{}/**",
                        resolve(&dir, v).trim_end_matches("/**")
                    )));
                }
            }
            if let Some(path) = local_env.get("PATH") {
                for p in path.split(':') {
                    if !p.is_empty()
                        && !p.contains('$')
                        && ![
                            "/usr/local/sbin",
                            "/usr/local/bin",
                            "/usr/sbin",
                            "/usr/bin",
                            "/sbin",
                            "/bin",
                        ]
                        .contains(&p)
                    {
                        let parent = resolve(&dir, p);
                        let parent = parent
                            .rsplit_once('/')
                            .map_or("/", |(a, _)| if a.is_empty() { "/" } else { a })
                            .to_string();
                        e.writes
                            .push(Loc::Path(format!("{}/**", parent.trim_end_matches('/'))));
                    }
                }
            }
        }
        for m in &facts.manifests {
            if let Some(p) = res(m) {
                e.manifests.push(p);
            }
        }
        for m in &facts.writes_if_missing {
            if let Some(p) = res(m) {
                e.writes_if_missing.push(p);
            }
        }
        for chk in facts.checks {
            e.checks.push((chk, dir.clone()));
        }
        if n == 0 && cmds.len() == 1 {
            e.lone_update = facts.merge_update.clone();
        }
        if n == 0 {
            e.install_of = facts.install_of.clone();
        }
        cost = cost.max(facts.cost);
    }
    let class = cost.unwrap_or(CostClass::Cheap);
    e.cost_class = Some(class);
    e.cost = class.weight();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap() {
        assert!(paths_overlap("/app/**", "/app/package.json"));
        assert!(!paths_overlap("/app/node_modules/**", "/app/package.json"));
        assert!(paths_overlap("/**", "/etc/passwd"));
        assert!(!paths_overlap("/usr/**", "/app/**"));
        assert!(paths_overlap("/?wd0/**", "/usr/**"));
        assert!(!paths_overlap("/?wd0/a", "/?wd0/b"));
        assert!(paths_overlap("/app", "/app/**"));
    }

    #[test]
    fn resolve_paths() {
        assert_eq!(resolve("/app", "./x/../y"), "/app/y");
        assert_eq!(resolve("/app", "/etc/x"), "/etc/x");
        assert_eq!(resolve("/", "."), "/");
        assert_eq!(resolve("/app", "node_modules/**"), "/app/node_modules/**");
        assert_eq!(resolve("/", "./**"), "/**");
    }

    #[test]
    fn globs() {
        assert_eq!(glob_dir("./*").as_deref(), Some("./**"));
        assert_eq!(glob_dir("/var/lib/*.log").as_deref(), Some("/var/lib/**"));
        assert_eq!(glob_dir("/*").as_deref(), Some("/**"));
        assert_eq!(glob_dir("a/b"), None);
        assert_eq!(glob_dir("./**"), None);
    }

    #[test]
    fn vars() {
        assert_eq!(vars_used("a $X ${Y:-z} $"), vec!["X", "Y"]);
    }
}
