//! The planner: which changes to make to a Dockerfile, each with an
//! [`Applicability`] and a reason in plain words.
//!
//! Transformations (DESIGN.md section 5):
//!
//! **Hoist a dependency install.** What it does: given a broad copy
//! (`COPY . .`) and a later `RUN` that reads only dependency manifests,
//! inserts `COPY <manifests> <dest>` before the `RUN` and moves the `RUN`
//! above the broad copy. Why: the install then reruns only when a manifest
//! changes, not on every source change. Example: `COPY . .` / `RUN npm ci`
//! becomes `COPY package.json package-lock.json ./` / `RUN npm ci` /
//! `COPY . .`. Fix safety: `Safe` when every command of the `RUN` is in the
//! knowledge base, it reads nothing the broad copy ships except the copied
//! manifests, it writes nothing the broad copy ships, nothing between the
//! copy and the `RUN` conflicts with it, the manifests declare no scripts or
//! local paths, and the destination directory already exists. A violated
//! precondition with a known remedy (a `.dockerignore` line, a flag) makes
//! it `Unsafe`; anything else leaves the file alone.
//!
//! **Merge a lone package index update.** What it does: joins
//! `RUN apt-get update` (or `apk update`, `yum makecache`) with the install
//! `RUN` right after it. Why: a separate update layer stays cached and goes
//! stale, so a later change to the install list installs from an old index.
//! Fix safety: `Safe` (the same commands run in the same order with the
//! same environment); only done when both are plain shell-form `RUN`s and
//! the install is a `&&` chain.
//!
//! **Reorder.** What it does: moves instructions within a stage, as the
//! dependency graph allows, so that rarely changing inputs come first.
//! Fix safety: every order that keeps the graph's edges is equivalent under
//! the effects model, so a reorder is `Safe`; ties keep the original order.

use serde::Serialize;
use std::collections::BTreeSet;

use crate::analysis::context::Context;
use crate::analysis::effects::{self, Effects, Loc, StageState, conflict};
use crate::analysis::kb::{CostClass, ManifestCheck};
use crate::analysis::shell::{self, Op, Split};
use crate::model::{Model, Stage};
use crate::syntax::{Instruction, Kind, Parse};

/// How far a change may be trusted. Ordered: `DisplayOnly < Unsafe < Safe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applicability {
    DisplayOnly,
    Unsafe,
    Safe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Hoist,
    MergeUpdate,
    Reorder,
    Advice,
}

/// One proposed change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub applicability: Applicability,
    /// 1-based line of the instruction it is about (in the text it was
    /// planned on).
    pub line: usize,
    /// What changes, in a few words.
    pub summary: String,
    /// Why, and why it is safe (or what would make it safe).
    pub reason: String,
    /// Whether it was applied.
    pub applied: bool,
    /// The stage it is in (stage indices never change in a rewrite).
    #[serde(skip)]
    pub stage: usize,
    /// The trimmed text of the instruction it is about, which finds it
    /// again in the original text (lines of intermediate texts differ).
    #[serde(skip)]
    pub subject: String,
    /// The instruction it moved above, and that one's line in the text it
    /// was planned on (the report gives the original line instead).
    #[serde(skip)]
    pub anchor: Option<(String, usize)>,
    /// Instructions it inserts (the manifest COPYs of a hoist).
    #[serde(skip)]
    pub inserted: usize,
    /// Instructions that move with it (a hoist's `WORKDIR`, `ENV`, `ARG`).
    #[serde(skip)]
    pub moved_with: Vec<String>,
}

/// What the planner may do.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Lowest applicability that is applied.
    pub threshold: Applicability,
    /// Smallest share of the file's expected rebuild cost a reorder must
    /// save to be proposed (0.10: 10%).
    pub min_saving: f64,
}

impl Options {
    /// The default materiality threshold: 10% of the expected rebuild cost.
    pub const DEFAULT_MIN_SAVING: f64 = 0.10;

    pub fn new(threshold: Applicability) -> Options {
        Options {
            threshold,
            min_saving: Options::DEFAULT_MIN_SAVING,
        }
    }
}

/// A group of the new order of a stage: inserted instruction texts (each
/// without newline) followed by an original unit.
#[derive(Debug, Clone)]
pub struct Group {
    pub inserts: Vec<String>,
    pub unit: usize,
}

/// A text-level plan for one stage: the new order of its units.
#[derive(Debug, Clone)]
pub struct StageOrder {
    pub stage: usize,
    pub groups: Vec<Group>,
}

/// A merge of a lone update RUN into the install after it.
#[derive(Debug, Clone)]
pub struct Merge {
    /// Item index of the update RUN (removed).
    pub update_item: usize,
    /// Item index of the install RUN.
    pub install_item: usize,
    /// Text inserted after the install's keyword.
    pub prefix: String,
}

pub fn instruction(parse: &Parse, item: usize) -> Option<&Instruction> {
    parse.items.get(item).and_then(|i| i.instruction())
}

fn first_line(text: &str, parse: &Parse, item: usize) -> String {
    parse
        .items
        .get(item)
        .map(|i| {
            i.span
                .text(text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// An instruction's text for a one-line message: whitespace collapsed (a
/// continued line reads as one), at most 60 characters.
pub(crate) fn short(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Merge pass: lone `apt-get update` (and friends) joined with the install.
pub fn plan_merges(parse: &Parse, model: &Model, opts: Options) -> (Vec<Merge>, Vec<Change>) {
    let mut merges = Vec::new();
    let mut changes = Vec::new();
    for (si, stage) in model.stages.iter().enumerate() {
        let (eff, _) = effects::analyze_stage(parse, stage);
        for k in 0..stage.units.len().saturating_sub(1) {
            let (u, v) = (&stage.units[k], &stage.units[k + 1]);
            let Some(fam) = &eff[k].lone_update else {
                continue;
            };
            if eff[k + 1].install_of.as_deref() != Some(fam.as_str()) || u.keep || v.keep {
                continue;
            }
            let (Some(ui), Some(vi)) = (instruction(parse, u.item), instruction(parse, v.item))
            else {
                continue;
            };
            let plain =
                |i: &Instruction| i.node.flags.is_empty() && !i.node.json && i.heredocs.is_empty();
            if !plain(ui)
                || !plain(vi)
                || parse.items[u.item].lines.start != parse.items[u.item].lines.end
            {
                continue;
            }
            // Only blank lines and comments between them.
            if (u.item + 1..v.first_item).any(|i| parse.items[i].instruction().is_some()) {
                continue;
            }
            let install_text = vi.node.str_args().next().unwrap_or("");
            let and_chain = match shell::split(install_text) {
                Split::Commands(c) => c.iter().skip(1).all(|c| c.joined_by == Some(Op::And)),
                Split::Opaque(_) => false,
            };
            if !and_chain {
                continue;
            }
            let update = ui.node.str_args().next().unwrap_or("").trim().to_string();
            let applied = Applicability::Safe >= opts.threshold;
            changes.push(Change {
                kind: ChangeKind::MergeUpdate,
                applicability: Applicability::Safe,
                line: parse.items[u.item].lines.start,
                summary: format!("merged `{update}` into the `RUN` on line {}", parse.items[v.item].lines.start),
                reason: format!(
                    "a lone `{update}` layer stays cached and goes stale, so a later change to the install list would install from an old package index; the same commands still run in the same order with the same environment"
                ),
                applied,
                stage: si,
                subject: ui.original.trim().to_string(),
                anchor: None,
                inserted: 0,
                moved_with: Vec::new(),
            });
            if applied {
                merges.push(Merge {
                    update_item: u.item,
                    install_item: v.item,
                    prefix: format!("{update} && "),
                });
            }
        }
    }
    (merges, changes)
}

/// A broad copy: `COPY . <dir>` / `ADD . <dir>` from the context.
fn broad_copy(ins: &Instruction) -> Option<(String, Vec<String>)> {
    if !matches!(ins.node.kind, Kind::Copy | Kind::Add) || !ins.heredocs.is_empty() {
        return None;
    }
    let args: Vec<&str> = ins.node.str_args().collect();
    let [src, dest] = args.as_slice() else {
        return None;
    };
    if !matches!(*src, "." | "./") {
        return None;
    }
    let mut keep_flags = Vec::new();
    for f in &ins.node.flags {
        if f.starts_with("--chown=")
            || f.starts_with("--chmod=")
            || f == "--link"
            || f == "--link=true"
        {
            keep_flags.push(f.clone());
        } else {
            return None;
        }
    }
    Some(((*dest).to_string(), keep_flags))
}

fn quote_path(p: &str) -> Option<String> {
    if p.chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-+@%/".contains(c))
    {
        Some(p.to_string())
    } else {
        None
    }
}

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
fn manifest_problems(check: &ManifestCheck, ctx: &Context, dir: &str) -> Vec<String> {
    let join = |f: &str| {
        if dir.is_empty() {
            f.to_string()
        } else {
            format!("{dir}/{f}")
        }
    };
    let mut out = Vec::new();
    match check {
        ManifestCheck::NpmScripts => {
            let Some(v) = read_json(ctx, &join("package.json"), &mut out) else {
                return out;
            };
            for s in [
                "preinstall",
                "install",
                "postinstall",
                "prepare",
                "preprepare",
                "postprepare",
                "prepublish",
            ] {
                if v["scripts"].get(s).is_some() {
                    out.push(format!(
                        "{} declares a `{s}` script, which runs during the install and may read any file",
                        join("package.json")
                    ));
                }
            }
            if ctx.ships(&join("pnpm-workspace.yaml")) || ctx.ships(&join("lerna.json")) {
                out.push(format!(
                    "{} belongs to a workspace, whose manifests live in other directories",
                    join("package.json")
                ));
            }
            if v.get("workspaces").is_some() {
                out.push(format!(
                    "{} declares workspaces, whose manifests live in other directories",
                    join("package.json")
                ));
            }
            for deps in ["dependencies", "devDependencies", "optionalDependencies"] {
                if let Some(map) = v[deps].as_object() {
                    for (name, spec) in map {
                        let s = spec.as_str().unwrap_or("");
                        if s.starts_with("file:")
                            || s.starts_with("link:")
                            || s.starts_with("workspace:")
                            || s.starts_with('.')
                            || s.starts_with('/')
                        {
                            out.push(format!(
                                "dependency `{name}` in {} is a local path (`{s}`)",
                                join("package.json")
                            ));
                        }
                    }
                }
            }
        }
        ManifestCheck::ComposerScripts => {
            let Some(v) = read_json(ctx, &join("composer.json"), &mut out) else {
                return out;
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
            for key in ["classmap", "files"] {
                if v["autoload"].get(key).is_some() || v["autoload-dev"].get(key).is_some() {
                    out.push(format!(
                        "{} autoloads a `{key}`, which composer reads from the sources",
                        join("composer.json")
                    ));
                }
            }
            if v["repositories"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["type"] == "path"))
            {
                out.push(format!("{} has a path repository", join("composer.json")));
            }
        }
        ManifestCheck::Requirements(files) => {
            for f in files {
                let rel = join(f.trim_start_matches("./"));
                let Some(text) = ctx.read(&rel) else { continue };
                for line in text.lines() {
                    let l = line.split(" #").next().unwrap_or("").trim();
                    if l.is_empty() || l.starts_with('#') {
                        continue;
                    }
                    let first = l.split_whitespace().next().unwrap_or("");
                    if matches!(first, "-r" | "--requirement" | "-c" | "--constraint")
                        || first.starts_with("-r") && first.len() > 2
                        || first.starts_with("--requirement=")
                        || first.starts_with("--constraint=")
                    {
                        out.push(format!("{rel} includes another file (`{l}`)"));
                    } else if matches!(first, "-e" | "--editable")
                        || first.starts_with('.')
                        || first.starts_with('/')
                        || l.contains("file:")
                        || l.contains(" @ file")
                    {
                        out.push(format!("{rel} installs a local path (`{l}`)"));
                    }
                }
            }
        }
        ManifestCheck::Pipfile => {
            if let Some(text) = ctx.read(&join("Pipfile"))
                && (text.contains("path =") || text.contains("path="))
            {
                out.push(format!("{} has a `path =` dependency", join("Pipfile")));
            }
        }
        ManifestCheck::GoMod => {
            if let Some(text) = ctx.read(&join("go.mod"))
                && text
                    .lines()
                    .any(|l| l.contains("=> ./") || l.contains("=> ../") || l.contains("=> /"))
            {
                out.push(format!(
                    "{} replaces a module with a local directory",
                    join("go.mod")
                ));
            }
            if ctx.ships(&join("go.work")) {
                out.push(format!("{} uses a Go workspace", join("go.work")));
            }
        }
        ManifestCheck::Gemfile => {
            if let Some(text) = ctx.read(&join("Gemfile")) {
                for needle in [
                    "gemspec",
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
            }
        }
        ManifestCheck::Maven => {
            if let Some(text) = ctx.read(&join("pom.xml"))
                && (text.contains("<modules>") || text.contains("<relativePath>"))
            {
                out.push(format!(
                    "{} names modules or a parent POM in other directories",
                    join("pom.xml")
                ));
            }
        }
        ManifestCheck::Gradle => {
            for f in ["settings.gradle", "settings.gradle.kts"] {
                if ctx.read(&join(f)).is_some_and(|t| t.contains("include")) {
                    out.push(format!(
                        "{} includes subprojects, whose build files live in other directories",
                        join(f)
                    ));
                }
            }
        }
        ManifestCheck::Cargo => {
            // `cargo fetch` parses the whole manifest, and a package
            // without a target (src/main.rs, src/lib.rs, [[bin]]) does not
            // parse; a workspace needs every member's manifest too.
            out.push(format!(
                "cargo loads {} only with its targets (src/main.rs, src/lib.rs) and workspace members, which the manifests alone do not provide",
                join("Cargo.toml")
            ));
        }
        ManifestCheck::Yarn => {
            if ctx.ships(&join(".yarnrc.yml")) {
                out.push(format!(
                    "{} selects Yarn Berry, whose install reads `.yarn/` and writes `.pnp.cjs`",
                    join(".yarnrc.yml")
                ));
            }
        }
    }
    out
}

/// Hoist pass for one stage. Returns the new order when something moved.
#[allow(clippy::too_many_arguments)]
pub fn plan_hoist(
    parse: &Parse,
    text: &str,
    stage_idx: usize,
    stage: &Stage,
    eff: &[Effects],
    state: &StageState,
    ctx: Option<&Context>,
    opts: Options,
    changes: &mut Vec<Change>,
) -> Option<StageOrder> {
    let n = stage.units.len();
    for b in 0..n {
        let Some(bi) = instruction(parse, stage.units[b].item) else {
            continue;
        };
        let Some((dest, flags)) = broad_copy(bi) else {
            continue;
        };
        if stage.units[b].keep {
            continue;
        }
        let b_line = parse.items[stage.units[b].item].lines.start;
        let b_text = first_line(text, parse, stage.units[b].item);
        let Some(ctx) = ctx else { continue };
        let Some(files) = ctx.files() else { continue };
        let wd = &state.workdirs[b];
        // `ADD . $HOME`: the destination as BuildKit expands it.
        let Some(dest_expanded) = state.env.get(b).and_then(|env| effects::expand(&dest, env))
        else {
            continue;
        };
        let dest_abs = effects::resolve(wd, &dest_expanded);
        let mut shipped: Vec<(String, String)> = files
            .keys()
            .map(|f| (effects::resolve(&dest_abs, f), f.clone()))
            .collect();
        // A submodule's contents are unknown here: anything may be below.
        for d in ctx.unknown_dirs() {
            shipped.push((
                format!("{}/**", effects::resolve(&dest_abs, d)),
                format!("{d}/**"),
            ));
        }
        // B without its path writes: what else it reads and writes.
        let mut b_rest = eff[b].clone();
        // The inserted COPY has B's flags, so it creates B's directories
        // with the same owner: those writes move with it.
        b_rest
            .writes
            .retain(|w| !matches!(w, Loc::Path(_) | Loc::Dir { .. }));
        let mut stays: Vec<usize> = vec![b];
        let mut moved: Vec<(usize, Vec<String>)> = Vec::new();
        let mut copied: BTreeSet<String> = BTreeSet::new();
        for x in b + 1..n {
            let ex = &eff[x];
            let is_run =
                instruction(parse, stage.units[x].item).is_some_and(|i| i.node.kind == Kind::Run);
            let worth = ex.cost_class.is_some_and(|c| c >= CostClass::Run);
            if !is_run || ex.opaque.is_some() || !worth || ex.keep {
                stays.push(x);
                continue;
            }
            if conflict(&b_rest, ex).is_some() {
                stays.push(x);
                continue;
            }
            // The state it needs (`WORKDIR /code` after `ADD . /code`) may
            // come along: ENV, ARG and WORKDIR units that move above the
            // broad copy with it, when they pass everything they move past.
            let Some(companions) = companions(parse, stage, eff, &stays, b, &b_rest, ex, &shipped)
            else {
                stays.push(x);
                continue;
            };
            let overlaps = |locs: &[Loc], p: &str| {
                locs.iter()
                    .any(|l| matches!(l, Loc::Path(w) if effects::paths_overlap(w, p)))
            };
            let mut needed: Vec<&(String, String)> = shipped
                .iter()
                .filter(|(p, _)| overlaps(&ex.reads, p))
                .collect();
            // In the order the knowledge base names them (package.json first).
            needed.sort_by_key(|(p, _)| {
                ex.manifests
                    .iter()
                    .position(|m| m == p)
                    .unwrap_or(usize::MAX)
            });
            if !ex.manifests.is_empty() && needed.is_empty() {
                // Its manifests are not in this build context: the context
                // is not the one this Dockerfile is built with (or the
                // install reads files made earlier). Nothing is proven.
                stays.push(x);
                continue;
            }
            if needed.iter().any(|(p, _)| !ex.manifests.contains(p)) {
                // It reads sources, not just manifests: not a dependency install.
                stays.push(x);
                continue;
            }
            if shipped
                .iter()
                .any(|(p, _)| effects::ships_into_lookup(ex, p))
            {
                // The broad copy puts files where the install's programs,
                // libraries or settings are looked up (a bin or lib
                // directory, a search path, a dotfile in the home).
                stays.push(x);
                continue;
            }
            let x_line = parse.items[stage.units[x].item].lines.start;
            let x_text = first_line(text, parse, stage.units[x].item);
            let mut problems = Vec::new();
            // A file written only when missing is not written once it is
            // copied in first.
            let clobbered: Vec<&(String, String)> = shipped
                .iter()
                .filter(|(p, _)| overlaps(&ex.writes, p))
                .filter(|(p, _)| {
                    !(ex.writes_if_missing.contains(p) && needed.iter().any(|(n, _)| n == p))
                })
                .collect();
            if ex.declared_only {
                problems.push(format!(
                    "only what `{}` reads is declared (by a pragma); what it writes is not known, so the broad copy might overwrite its results",
                    short(&x_text)
                ));
            } else if let Some((_, rel)) = clobbered
                .iter()
                .find(|(p, _)| needed.iter().any(|(n, _)| n == p))
            {
                // The install rewrites a manifest the inserted COPY needs:
                // ignoring it would break the install, so say what would.
                problems.push(format!(
                    "`{}` may rewrite `{rel}`, which it reads and the broad copy ships, so moving the install above the copy would let the copy put back the old `{rel}`; an install that keeps it as it is (`npm ci`, `--frozen-lockfile`, `--locked`) would make it safe",
                    short(&x_text)
                ));
            } else if let Some((_, rel)) = clobbered.first() {
                let top = rel.split('/').next().unwrap_or(rel);
                problems.push(format!(
                    "`{}` ships `{rel}`{}, which `{}` writes, so moving the install above the copy would let the copy overwrite its result; adding `{top}` to .dockerignore would make it safe",
                    short(&b_text),
                    if clobbered.len() > 1 { format!(" and {} more", clobbered.len() - 1) } else { String::new() },
                    short(&x_text)
                ));
            }
            for (chk, dir) in &ex.checks {
                let rel = if *dir == dest_abs {
                    Some(String::new())
                } else {
                    dir.strip_prefix(&format!("{}/", dest_abs.trim_end_matches('/')))
                        .map(str::to_string)
                };
                if let Some(rel) = rel {
                    problems.extend(manifest_problems(chk, ctx, &rel));
                }
            }
            // The inserted COPY stands where the broad copy stood, with its
            // flags: it creates the destination (and the directories of
            // the manifests) as the broad copy would have, and the broad
            // copy then gives every directory it ships its own mode and
            // owner again (checked with BuildKit: mode and owner of a
            // directory copied over an existing one are the source's).
            let mut inserts = Vec::new();
            let new_files: Vec<&String> = needed
                .iter()
                .map(|(_, rel)| rel)
                .filter(|r| !copied.contains(*r))
                .collect();
            let quoted: Option<Vec<String>> = new_files.iter().map(|f| quote_path(f)).collect();
            if quoted.is_none() {
                problems.push("a manifest name needs quoting".into());
            }
            // One COPY per directory, in the order the files are named.
            let mut by_dir: Vec<(String, Vec<String>)> = Vec::new();
            for f in quoted.clone().unwrap_or_default() {
                let dir = f
                    .rsplit_once('/')
                    .map_or(String::new(), |(d, _)| d.to_string());
                match by_dir.iter_mut().find(|(d, _)| *d == dir) {
                    Some((_, v)) => v.push(f),
                    None => by_dir.push((dir, vec![f])),
                }
            }
            for (dir, files) in by_dir {
                let kw = &bi.node.keyword;
                let kw = if kw.chars().all(|c| c.is_ascii_lowercase()) {
                    "copy"
                } else {
                    "COPY"
                };
                let mut parts = vec![kw.to_string()];
                parts.extend(flags.iter().cloned());
                parts.extend(files);
                let base = if dest == "." {
                    ".".to_string()
                } else {
                    dest.trim_end_matches('/').to_string()
                };
                let d = if dir.is_empty() {
                    format!("{base}/")
                } else {
                    format!("{base}/{dir}/")
                };
                parts.push(d);
                inserts.push(parts.join(" "));
            }
            // A companion that finds a directory the broad copy creates
            // (WORKDIR /code) needs the inserted COPY before it, which
            // creates it as the broad copy would have.
            let needs_copy_first = companions.iter().any(|&c| {
                let dirs = Effects {
                    writes: eff[b]
                        .writes
                        .iter()
                        .filter(|w| matches!(w, Loc::Dir { .. }))
                        .cloned()
                        .collect(),
                    ..Effects::default()
                };
                conflict(&dirs, &eff[c]).is_some()
            });
            if needs_copy_first && inserts.is_empty() {
                stays.push(x);
                continue;
            }
            let with_texts: Vec<String> = companions
                .iter()
                .filter_map(|&c| instruction(parse, stage.units[c].item))
                .map(|i| i.original.trim().to_string())
                .collect();
            let applicability = if problems.is_empty() {
                Applicability::Safe
            } else {
                Applicability::Unsafe
            };
            let applied = applicability >= opts.threshold;
            let manifests: Vec<String> = needed.iter().map(|(_, r)| format!("`{r}`")).collect();
            changes.push(Change {
                kind: ChangeKind::Hoist,
                applicability,
                line: x_line,
                summary: {
                    let with = if with_texts.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (with {})",
                            with_texts
                                .iter()
                                .map(|t| format!("`{}`", short(t)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    if manifests.is_empty() {
                        format!(
                            "moved `{}`{with} above `{}` (line {b_line})",
                            short(&x_text),
                            short(&b_text)
                        )
                    } else {
                        format!(
                            "moved `{}`{with} above `{}` (line {b_line}), copying {} first",
                            short(&x_text),
                            short(&b_text),
                            manifests.join(", ")
                        )
                    }
                },
                reason: if problems.is_empty() {
                    format!(
                        "it reads {} from the build context, so it no longer reruns when other files change; every command is in the knowledge base and it writes nothing the broad copy ships",
                        if manifests.is_empty() { "nothing".to_string() } else { manifests.join(", ") }
                    )
                } else {
                    problems.join("; ")
                },
                applied,
                inserted: inserts.len(),
                moved_with: with_texts.clone(),
                stage: stage_idx,
                subject: instruction(parse, stage.units[x].item)
                    .map(|i| i.original.trim().to_string())
                    .unwrap_or_default(),
                anchor: Some((bi.original.trim().to_string(), b_line)),
            });
            if !applied {
                stays.push(x);
                continue;
            }
            for f in new_files {
                copied.insert(f.clone());
            }
            stays.retain(|s| !companions.contains(s));
            let mut inserts = Some(inserts);
            for &c in &companions {
                moved.push((c, inserts.take().unwrap_or_default()));
            }
            moved.push((x, inserts.take().unwrap_or_default()));
        }
        if moved.is_empty() {
            continue;
        }
        let mut groups: Vec<Group> = (0..b)
            .map(|u| Group {
                inserts: vec![],
                unit: u,
            })
            .collect();
        for (x, inserts) in moved {
            groups.push(Group { inserts, unit: x });
        }
        for s in stays {
            groups.push(Group {
                inserts: vec![],
                unit: s,
            });
        }
        return Some(StageOrder {
            stage: stage_idx,
            groups,
        });
    }
    None
}

/// The units among `stays` (after the broad copy `b`) that `x` depends on
/// and that may move above `b` with it: `ENV`, `ARG` and `WORKDIR` units,
/// and understood `RUN`s that touch nothing the broad copy ships (the
/// condition of a hoist without manifests), that pass every unit they
/// would move past (the other stays before them, and `b` except for the
/// writes the inserted COPY repeats). `None` when a dependency cannot move.
#[allow(clippy::too_many_arguments)]
fn companions(
    parse: &Parse,
    stage: &Stage,
    eff: &[Effects],
    stays: &[usize],
    b: usize,
    b_rest: &Effects,
    ex: &Effects,
    shipped: &[(String, String)],
) -> Option<Vec<usize>> {
    let mut take: Vec<usize> = Vec::new();
    // From the nearest back: a companion's own dependencies come along too.
    for &s in stays.iter().rev() {
        if s == b {
            continue;
        }
        let needed = conflict(&eff[s], ex).is_some()
            || take.iter().any(|&t| conflict(&eff[s], &eff[t]).is_some());
        if !needed {
            continue;
        }
        let kind = instruction(parse, stage.units[s].item).map(|i| i.node.kind);
        let state = matches!(kind, Some(Kind::Env | Kind::Arg | Kind::Workdir));
        let touches = |locs: &[Loc], p: &str| {
            locs.iter()
                .any(|l| matches!(l, Loc::Path(w) if effects::paths_overlap(w, p)))
        };
        let free_run = kind == Some(Kind::Run)
            && eff[s].opaque.is_none()
            && !eff[s].declared_only
            && !shipped.iter().any(|(p, _)| {
                touches(&eff[s].reads, p)
                    || touches(&eff[s].writes, p)
                    || effects::ships_into_lookup(&eff[s], p)
            });
        if !(state || free_run) || eff[s].keep {
            return None;
        }
        take.push(s);
    }
    take.sort_unstable();
    // The broad copy's directories are created by the inserted COPY, which
    // stands first (with its flags, so with its owner); its files are not.
    let b_dirs: Vec<&str> = eff[b]
        .writes
        .iter()
        .filter_map(|w| match w {
            Loc::Dir { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    let mut b_files = b_rest.clone();
    b_files.writes.extend(
        eff[b]
            .writes
            .iter()
            .filter(|w| matches!(w, Loc::Path(_)))
            .cloned(),
    );
    for &c in &take {
        // It passes the broad copy and every stay before it.
        let mut ce = eff[c].clone();
        ce.writes
            .retain(|w| !matches!(w, Loc::Dir { path, .. } if b_dirs.contains(&path.as_str())));
        if conflict(&b_files, &ce).is_some() {
            return None;
        }
        if stays
            .iter()
            .any(|&s| s != b && s < c && !take.contains(&s) && conflict(&eff[s], &eff[c]).is_some())
        {
            return None;
        }
    }
    Some(take)
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
        "global.json",
    ];
    NAMES.contains(&name)
        || (name.starts_with("requirements") && name.ends_with(".txt"))
        || name.ends_with(".csproj")
        || name.ends_with(".fsproj")
        || name.ends_with(".sln")
}

/// Static estimate of how often a unit's inputs change (per build): only
/// `COPY`/`ADD` read inputs from outside the Dockerfile.
pub fn change_probability(ins: &Instruction, e: &Effects, manifests: &[String]) -> f64 {
    if !matches!(ins.node.kind, Kind::Copy | Kind::Add) {
        return 0.0;
    }
    if let Some(from) = ins
        .node
        .flags
        .iter()
        .find_map(|f| f.strip_prefix("--from="))
    {
        // An image (`--from=ghcr.io/x/uv:0.5`) is as stable as its tag; a
        // stage changes when the stage is rebuilt.
        return if from.contains([':', '/', '@']) {
            0.0
        } else {
            0.3
        };
    }
    if e.context_reads.iter().any(|s| s.contains("://")) {
        return 0.1;
    }
    if e.context_reads.is_empty() {
        return 0.0;
    }
    let is_manifest = |s: &String| {
        let name = s.trim_end_matches('/').rsplit('/').next().unwrap_or(s);
        is_manifest_name(s) || manifests.iter().any(|m| m.rsplit('/').next() == Some(name))
    };
    if e.context_reads.iter().all(is_manifest) {
        0.05
    } else {
        0.5
    }
}

/// Static change probabilities of a stage's units. A file that an
/// install of the stage reads as its manifest (`--lock deps.lock`) counts
/// as a manifest too.
pub fn static_probabilities(parse: &Parse, stage: &Stage, eff: &[Effects]) -> Vec<f64> {
    let manifests: Vec<String> = eff
        .iter()
        .flat_map(|e| e.manifests.iter().cloned())
        .collect();
    stage
        .units
        .iter()
        .zip(eff)
        .map(|(u, e)| {
            instruction(parse, u.item).map_or(0.0, |i| change_probability(i, e, &manifests))
        })
        .collect()
}

/// Reorder pass for one stage: by the history when one is given (`hist`),
/// else by the static estimate.
#[allow(clippy::too_many_arguments)]
pub fn plan_reorder(
    parse: &Parse,
    text: &str,
    stage_idx: usize,
    stage: &Stage,
    eff: &[Effects],
    state: &StageState,
    ctx: Option<&Context>,
    hist: Option<&crate::simulate::StageHistory>,
    opts: Options,
    floor: f64,
    changes: &mut Vec<Change>,
) -> Option<StageOrder> {
    let n = stage.units.len();
    if n < 2 || Applicability::Safe < opts.threshold {
        return None;
    }
    if n > crate::order::MAX_UNITS {
        return None;
    }
    let graph = crate::analysis::graph::DepGraph::build(eff);
    let mut preds = graph.preds(n);
    let p = static_probabilities(parse, stage, eff);
    let c: Vec<f64> = eff.iter().map(|e| e.cost).collect();
    // An install whose manifests declare scripts or local paths may read
    // more than the knowledge base says: it does not move.
    let movable: Vec<bool> = eff
        .iter()
        .enumerate()
        .map(|(k, e)| {
            e.checks.is_empty()
                || ctx.is_some_and(|ctx| {
                    e.checks.iter().all(|(chk, dir)| {
                        *dir == state.workdirs[k] && manifest_problems(chk, ctx, "").is_empty()
                    })
                })
        })
        .collect();
    // An install that may read more than it declares stays below every
    // copy from the context that precedes it.
    for (u, m) in movable.iter().enumerate() {
        if !m {
            for (j, ej) in eff.iter().enumerate().take(u) {
                if !ej.context_reads.is_empty() && !preds[u].contains(&j) {
                    preds[u].push(j);
                }
            }
        }
    }
    let (hits, basis) = match hist {
        Some(h) if !h.masks.is_empty() => (
            h.hits(),
            format!("over {} commits of history", h.masks.len()),
        ),
        _ => (crate::order::Hits::Static(p), "static estimate".to_string()),
    };
    // Only expensive steps (installs, builds) are worth moving for: a cheap
    // step rerun costs seconds, and moving for it makes diffs nobody merges.
    let c: Vec<f64> = c
        .iter()
        .zip(eff)
        .map(|(c, e)| if is_expensive(e) { *c } else { 0.0 })
        .collect();
    let order = crate::order::best_order(n, &preds, &c, &hits);
    if order.iter().enumerate().all(|(i, &u)| i == u) {
        return None;
    }
    let before = crate::order::expected_cost(&(0..n).collect::<Vec<_>>(), &c, &hits);
    let after = crate::order::expected_cost(&order, &c, &hits);
    if before - after <= 1e-6 * before.max(1.0) || before - after < floor {
        return None;
    }
    // One change per stage; the report lists the net moves of the file.
    let first_moved = order
        .iter()
        .enumerate()
        .find(|(i, u)| *i != **u)
        .map_or(0, |(_, &u)| u);
    changes.push(Change {
        kind: ChangeKind::Reorder,
        applicability: Applicability::Safe,
        line: parse.items[stage.units[first_moved].item].lines.start,
        summary: format!(
            "reordered the stage so that `{}` runs earlier",
            short(&first_line(text, parse, stage.units[first_moved].item))
        ),
        reason: format!(
            "{basis}: no instruction it moves past reads or writes anything it reads or writes"
        ),
        applied: true,
        stage: stage_idx,
        subject: instruction(parse, stage.units[first_moved].item)
            .map(|i| i.original.trim().to_string())
            .unwrap_or_default(),
        anchor: None,
        inserted: 0,
        moved_with: Vec::new(),
    });
    Some(StageOrder {
        stage: stage_idx,
        groups: order
            .into_iter()
            .map(|u| Group {
                inserts: vec![],
                unit: u,
            })
            .collect(),
    })
}

/// An expensive step: an install or a build (the knowledge base's cost
/// classes, or the configured costs), or a step nobody could follow.
pub fn is_expensive(e: &Effects) -> bool {
    e.cost_class.is_some_and(|c| c >= CostClass::Build)
}

/// Advice without a fix (`DisplayOnly`): a broad copy with no
/// `.dockerignore`, and `ADD` of a URL.
pub fn plan_advice(parse: &Parse, text: &str, model: &Model, ctx: Option<&Context>) -> Vec<Change> {
    let mut out = Vec::new();
    for (si, stage) in model.stages.iter().enumerate() {
        for u in &stage.units {
            let Some(ins) = instruction(parse, u.item) else {
                continue;
            };
            let line = parse.items[u.item].lines.start;
            let first = short(&first_line(text, parse, u.item));
            // Once per file: the first broad copy stands for all of them.
            let advised = out
                .iter()
                .any(|c: &Change| c.summary.ends_with("and there is no .dockerignore"));
            if !advised
                && broad_copy(ins).is_some()
                && ctx.is_some_and(|c| c.ignore.source.is_none())
            {
                out.push(Change {
                    kind: ChangeKind::Advice,
                    applicability: Applicability::DisplayOnly,
                    line,
                    summary: format!("`{first}` copies the whole context and there is no .dockerignore"),
                    reason: "without a .dockerignore, files such as .git/, node_modules/ or build output enter the image and change its cache key on every commit".into(),
                    applied: false,
                    stage: si,
                    subject: ins.original.trim().to_string(),
                    anchor: None,
                    inserted: 0,
                    moved_with: Vec::new(),
                });
            }
            // A git URL pinned to a ref, or any URL with `--checksum`, is
            // as stable as its pin (BuildKit keys the cache on them).
            let pinned = |a: &str| {
                ins.node.flags.iter().any(|f| f.starts_with("--checksum="))
                    || ((a.starts_with("git@") || a.contains(".git"))
                        && (a.contains("#") || a.contains("?ref=")))
            };
            if ins.node.kind == Kind::Add
                && ins
                    .node
                    .str_args()
                    .any(|a| (a.contains("://") || a.starts_with("git@")) && !pinned(a))
            {
                out.push(Change {
                    kind: ChangeKind::Advice,
                    applicability: Applicability::DisplayOnly,
                    line,
                    summary: format!("`{first}` adds a URL"),
                    reason: "a remote file is fetched again on every build; `ADD --checksum=…` or a RUN with a pinned download keeps the cache honest".into(),
                    applied: false,
                    stage: si,
                    subject: ins.original.trim().to_string(),
                    anchor: None,
                    inserted: 0,
                    moved_with: Vec::new(),
                });
            }
        }
    }
    out
}
