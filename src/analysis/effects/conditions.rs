//! `RUN` scripts that are one `if` on file tests, resolved by the build
//! context: the lock-file detection of Next.js's `deps` stage, `if [ -f
//! yarn.lock ]; then yarn --frozen-lockfile; elif [ -f package-lock.json
//! ]; then npm ci; elif [ -f pnpm-lock.yaml ]; then corepack enable pnpm &&
//! pnpm i --frozen-lockfile; else echo "Lockfile not found." && exit 1; fi`.
//!
//! Which arm runs depends only on which tested paths are regular files when
//! the `RUN` runs. Where that is known from the context and the stage, the
//! `RUN` is analysed as the arm that runs ([`Resolved::script`]), reading
//! every path it tests on the way ([`Resolved::tested`], also taken as
//! manifests: one the broad copy ships is copied first when the `RUN` is
//! hoisted, so the tests see at the new place what they saw at the old).
//! A tested path is known to be a file when the last unit before the `RUN`
//! that may put anything there is a `COPY` from the context that places a
//! regular file (not a link) there, and known not to be one when no unit
//! of the stage or of the stages it is built on may put anything there but
//! context copies that place nothing there, and it is a manifest or lock
//! file name in a directory those copies place files in (the base image
//! taken not to hold it, as for the lock files the hoist reads:
//! `hoist::file_before`; elsewhere it may: `/etc/debian_version`).
//! Anything else (an earlier `RUN` that may write there, a copy whose
//! files are not known, a directory at the path, an unknown working
//! directory) leaves the `RUN` not followed, as before.

use std::collections::BTreeMap;

use super::copy::{context_placements, creates_path, writes_path};
use super::{Effects, StageState, resolve};
use crate::analysis::context::Context;
use crate::analysis::shell;
use crate::model::Stage;
use crate::syntax::{Kind, Parse};

/// A file-test `RUN` resolved: what runs and what it tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The commands of the arm that runs (`npm ci`).
    pub script: String,
    /// The image paths the conditions test, up to the arm that runs.
    pub tested: Vec<String>,
    /// Whether the arm that runs is the `else` (every test failed); the
    /// test of any other arm that runs is the last of `tested`.
    pub otherwise: bool,
}

/// The file-test `RUN`s of stage `si` that the context resolves, by item,
/// from the first analysis of every stage (`effects[s]`, `states[s]`).
pub fn resolve_file_tests(
    parse: &Parse,
    stages: &[Stage],
    effects: &[Vec<Effects>],
    states: &[StageState],
    si: usize,
    ctx: &Context,
) -> BTreeMap<usize, Resolved> {
    let mut out = BTreeMap::new();
    let stage = &stages[si];
    for (x, unit) in stage.units.iter().enumerate() {
        let Some(ins) = parse.items.get(unit.item).and_then(|i| i.instruction()) else {
            continue;
        };
        if ins.node.kind != Kind::Run || ins.node.json || !ins.heredocs.is_empty() {
            continue;
        }
        let Some(chain) = ins.run_script().and_then(|t| shell::file_test_chain(&t)) else {
            continue;
        };
        let wd = &states[si].workdirs[x];
        if !wd.starts_with('/') || wd.contains('?') {
            continue;
        }
        let mut known: BTreeMap<String, bool> = BTreeMap::new();
        for (path, _) in &chain.arms {
            let img = resolve(wd, path);
            match is_file_at(parse, stages, effects, states, si, x, &img, ctx) {
                Some(f) => {
                    known.insert(path.clone(), f);
                }
                None => break,
            }
        }
        let (script, tested) = chain.taken(|p| known.get(p).copied().unwrap_or(false));
        // Every test on the way to the arm that runs is known.
        if tested.iter().any(|p| !known.contains_key(*p)) {
            continue;
        }
        let Some(script) = script else {
            // No arm runs: nothing to analyse (`fi` alone is a no-op, not
            // followed either).
            continue;
        };
        out.insert(
            unit.item,
            Resolved {
                script: script.to_string(),
                otherwise: tested.iter().all(|p| known.get(*p) == Some(&false)),
                tested: tested.iter().map(|p| resolve(wd, p)).collect(),
            },
        );
    }
    out
}

/// Whether image path `img` holds a regular file before unit `x` of stage
/// `si`, when the units before it (and the stages it is built on) decide
/// it; `None` when not known.
#[allow(clippy::too_many_arguments)]
fn is_file_at(
    parse: &Parse,
    stages: &[Stage],
    effects: &[Vec<Effects>],
    states: &[StageState],
    si: usize,
    x: usize,
    img: &str,
    ctx: &Context,
) -> Option<bool> {
    let below = format!("{}/", img.trim_end_matches('/'));
    // The directories the walked context copies place files in (the app
    // directory): the base image is taken not to hold only a manifest or
    // lock file name there, as for the locks the hoist reads. Anywhere
    // else it may (`/etc/debian_version`, npm's own `package.json`).
    let parent = img.rsplit_once('/').map_or("", |(d, _)| d);
    let mut in_app_dir = false;
    let mut s = si;
    let mut upto = x;
    loop {
        let stage = &stages[s];
        for k in (0..upto).rev() {
            let unit = &stage.units[k];
            let ins = parse.items.get(unit.item).and_then(|i| i.instruction())?;
            let e = effects[s].get(k)?;
            if matches!(ins.node.kind, Kind::Copy | Kind::Add) {
                if let Some(p) =
                    context_placements(ins, &states[s].workdirs[k], states[s].placement_env(k), ctx)
                {
                    if let Some((_, rel)) = p.files.iter().find(|(i, _)| i == img) {
                        return (!ctx.is_link(rel)).then_some(true);
                    }
                    if p.files.iter().any(|(i, _)| i.starts_with(&below)) {
                        return None;
                    }
                    in_app_dir |= p
                        .files
                        .iter()
                        .any(|(i, _)| i.rsplit_once('/').map(|(d, _)| d) == Some(parent));
                    continue;
                }
                if writes_path(e, img) {
                    return None;
                }
                continue;
            }
            if ins.node.kind == Kind::Onbuild || creates_path(e, img) {
                return None;
            }
        }
        // The stage it is built on, when it is one of this file's.
        let base = parse
            .items
            .get(stage.from_item)
            .and_then(|i| i.instruction())?
            .node
            .str_args()
            .next()?
            .to_ascii_lowercase();
        if base.contains('$') {
            return None;
        }
        let from = stage.from_item;
        match stages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.from_item < from)
            .rev()
            .find(|(_, p)| p.name.as_deref().map(str::to_ascii_lowercase) == Some(base.clone()))
        {
            Some((p, parent)) => {
                s = p;
                upto = parent.units.len();
            }
            None => {
                let known = in_app_dir && crate::analysis::manifests::is_manifest_name(img);
                return known.then_some(false);
            }
        }
    }
}
