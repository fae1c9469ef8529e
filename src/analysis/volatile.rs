//! Build arguments assumed to take a new value on every build.
//!
//! What it guarantees: [`per_build_arg`] names an `ARG` instruction's first
//! variable that, by a widespread convention, CI systems set per build (a
//! build date, a commit, a build number, a cache buster), and nothing else.
//! It decides no move: the dependency graph alone says where an `ARG` may
//! go. It only tells the cost model that such an `ARG` invalidates the
//! build from the first `RUN` after it on every build, so that moving it
//! below the installs that do not read it is worth proposing.
//!
//! Why every build: BuildKit's `dispatchArg` adds every declared `ARG` that
//! has a value (a default, a global default or `--build-arg`) to the
//! environment of the stage's later `RUN`s (`d.state.AddEnv`), whether the
//! `RUN` uses it or not; the environment is part of the exec operation, so
//! a new value misses the cache at the first `RUN` after the `ARG`, and
//! everything after it rebuilds (Docker's "Impact on build caching").
//! These names are passed as `--build-arg BUILD_DATE=$(date …)`,
//! `--build-arg VCS_REF=$(git rev-parse HEAD)`, `--build-arg
//! CACHEBUST=$(date +%s)` in the build scripts that declare them.
//!
//! Not included, on purpose: `VERSION` and `*_VERSION` (usually a pinned
//! tool version with a default, changed per release), `SOURCE_DATE_EPOCH`
//! (BuildKit gives it a meaning of its own: the timestamps of every
//! layer), `TARGET*`/`BUILD*PLATFORM` (set by the engine, fixed per
//! platform).

use crate::syntax::{Instruction, Kind};

/// Names (compared without regard to case) that conventionally carry a
/// per-build value.
pub const PER_BUILD_NAMES: &[&str] = &[
    // When the build ran.
    "BUILD_DATE",
    "BUILDDATE",
    "BUILD_TIME",
    "BUILDTIME",
    "BUILD_TIMESTAMP",
    // Which commit it built (label-schema's `vcs-ref`, OCI's `revision`).
    "VCS_REF",
    "GIT_COMMIT",
    "GIT_SHA",
    "GIT_HASH",
    "COMMIT_SHA",
    "COMMIT_HASH",
    "SOURCE_COMMIT",
    // The CI run.
    "BUILD_NUMBER",
    "BUILD_ID",
    // Set on purpose to a new value to bust the cache.
    "CACHEBUST",
    "CACHE_BUST",
    "CACHEBUSTER",
    "CACHE_BUSTER",
    "CACHE_DATE",
];

/// Whether `name` is one of [`PER_BUILD_NAMES`].
pub fn is_per_build_name(name: &str) -> bool {
    PER_BUILD_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The variables of an `ARG` instruction assumed to change on every build
/// (see the module header); none for any other instruction.
pub fn per_build_args(ins: &Instruction) -> impl Iterator<Item = &str> {
    let is_arg = ins.node.kind == Kind::Arg;
    ins.node
        .str_args()
        .filter(move |_| is_arg)
        .map(|a| a.split_once('=').map_or(a, |(k, _)| k))
        .filter(|k| is_per_build_name(k))
}

/// The first of [`per_build_args`].
pub fn per_build_arg(ins: &Instruction) -> Option<String> {
    per_build_args(ins).next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> Option<String> {
        let parse = crate::syntax::parse(text);
        let ins = parse.instructions().map(|(_, i)| i).last()?;
        per_build_arg(ins)
    }

    #[test]
    fn names_by_convention_only() {
        assert_eq!(
            first("FROM a\nARG BUILD_DATE\n").as_deref(),
            Some("BUILD_DATE")
        );
        assert_eq!(
            first("FROM a\nARG X=1 vcs_ref=none\n").as_deref(),
            Some("vcs_ref")
        );
        assert_eq!(
            first("FROM a\nARG CACHEBUST=1\n").as_deref(),
            Some("CACHEBUST")
        );
        assert_eq!(first("FROM a\nARG VERSION=1.2\n"), None);
        assert_eq!(first("FROM a\nARG SOURCE_DATE_EPOCH\n"), None);
        assert_eq!(first("FROM a\nENV BUILD_DATE=x\n"), None);
        assert_eq!(first("FROM a\nARG BUILD_DATES\n"), None);
    }
}
