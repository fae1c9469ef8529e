//! What an install from Debian's archive writes under `/srv` and
//! `/usr/src`, the two trees where applications are copied
//! (`COPY . /srv/app`, `WORKDIR /usr/src/service`) and where packages may
//! also put files: the knowledge base has every `apt-get install` write
//! all of `/srv` (maintainer scripts make their users' homes there:
//! vsftpd's `/srv/ftp`) and all of `/usr/src` but `/usr/src/app`
//! (`googletest`, `binutils-source`, `linux-headers-*` ship sources
//! there).
//!
//! Guarantee: those writes are narrowed only for an install that names
//! each package it installs, every name among the measured ones of
//! `site-free-packages.txt` (its header says how they were measured), on
//! a stage whose apt sources are Debian's main alone and untouched (the
//! official Debian-based images, [`super::locks::archive_installs`]). Such
//! an install writes the directory `/srv` itself (systemd's tmpfiles set
//! its mode to 0755, root's) and `/usr/src/python3*/**` (libpython3.N-dev), nothing else
//! there. Anything else (a package not measured, a name with an
//! architecture, a list read from a file, `autoremove` or
//! `--auto-remove`, which remove packages the line does not name) keeps
//! the knowledge base's writes.

use super::paths::Loc;
use super::{Effects, locks, shell};
use crate::analysis::kb;

/// The measured names, one per line (`#` starts a comment line).
const MEASURED: &str = include_str!("site-free-packages.txt");

/// What a measured install writes under `/srv` and `/usr/src`: the
/// directory `/srv`, root's (systemd's tmpfiles make it, or set its mode
/// to 0755, as a copy makes a missing parent directory), and
/// libpython3.N-dev's sources.
fn measured_writes() -> [Loc; 2] {
    [
        Loc::Dir {
            path: "/srv".to_string(),
            owner: "0:0".to_string(),
        },
        Loc::Path("/usr/src/python3*/**".to_string()),
    ]
}

/// Whether `name` (a package name as given to apt, `=VERSION` allowed)
/// is among the measured packages.
fn measured_package(name: &str) -> bool {
    let name = name.split_once('=').map_or(name, |(n, _)| n);
    !name.is_empty()
        && MEASURED
            .lines()
            .filter(|l| !l.starts_with('#'))
            .any(|l| l.trim() == name)
}

/// Whether an `apt-get`/`apt` command of the archive (see
/// `archive_apt`) installs, removes or cleans only measured packages: it
/// installs, reinstalls, removes or purges packages it names, every one
/// measured, none from a list file, and it removes nothing it does not
/// name (`autoremove`, `--auto-remove`, `--autoremove`). `update`,
/// `clean` and `autoclean` run no maintainer script and count as
/// measured. `Err`: what keeps it from counting, for a reason to say.
pub(super) fn measured_apt(
    c: &shell::SimpleCommand,
    facts: &kb::CommandFacts,
) -> Result<(), String> {
    if c.list_file.is_some() {
        return Err("its packages come from a list file, not measured".to_string());
    }
    let args = c.argv.get(1..).unwrap_or_default();
    if let Some(a) = args
        .iter()
        .find(|a| *a == "autoremove" || *a == "--auto-remove" || *a == "--autoremove")
    {
        return Err(format!(
            "`{a}` removes packages it does not name, not measured"
        ));
    }
    // `upgrade`, `dist-upgrade`, `full-upgrade` name no package and may
    // install new ones; a word the first non-option is not (`-t RELEASE
    // install`) is not read.
    let words: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    match (&facts.packages, words.first()) {
        (Some(pkgs), Some(&("install" | "reinstall" | "remove" | "purge"))) if !pkgs.is_empty() => {
            let unknown: Vec<String> = pkgs
                .iter()
                .filter(|p| !measured_package(p))
                .map(|p| format!("`{p}`"))
                .collect();
            match unknown.len() {
                0 => Ok(()),
                1 => Err(format!(
                    "{} is not among the packages measured to write nothing there",
                    unknown[0]
                )),
                _ => Err(format!(
                    "{} are not among the packages measured to write nothing there",
                    unknown.join(", ")
                )),
            }
        }
        (None, _) if matches!(words.as_slice(), ["update" | "clean" | "autoclean"]) => Ok(()),
        _ => Err(format!(
            "`{}` may install packages it does not name, not measured",
            c.argv.join(" ")
        )),
    }
}

/// Whether `w` is one of the knowledge base's apt writes under `/srv` or
/// `/usr/src` (`/srv/**`, `/usr/src/[^a]*/**`, …).
fn site_write(w: &Loc) -> bool {
    matches!(w, Loc::Path(p) if p == "/srv/**" || p.starts_with("/usr/src/"))
}

/// Narrows the `/srv` and `/usr/src` writes of each unit whose archive
/// installs are all measured ([`Effects::archive_unmeasured`] `None`), as
/// are those of every unit before it (an installed package's trigger
/// scripts run during later installs), on a stage whose image's sources
/// are Debian's main alone (`debian`, the caller's check of the image)
/// and untouched ([`locks::archive_installs`]), to [`measured_writes`]. A
/// write there by another command of the same `RUN` stays. A unit whose
/// site writes stay gets [`Effects::site_note`]: why.
pub(super) fn narrow_archive_site_writes(effects: &mut [Effects], debian: bool) {
    let Some(last) = effects.len().checked_sub(1) else {
        return;
    };
    let archive = locks::archive_installs(effects, last);
    // Packages installed before run their trigger scripts during a later
    // install: once one not measured is in, nothing after is narrowed.
    let mut earlier: Option<String> = None;
    for (e, from_archive) in effects.iter_mut().zip(archive) {
        let unmeasured = e.archive_unmeasured.clone();
        if e.archive_writes.iter().any(site_write) {
            narrow_unit(
                e,
                from_archive.is_some(),
                debian,
                unmeasured.as_deref(),
                earlier.as_deref(),
            );
        }
        if let Some(why) = unmeasured {
            earlier.get_or_insert(why);
        }
    }
}

/// Narrows one unit's site writes, or says in its `site_note` why not.
fn narrow_unit(
    e: &mut Effects,
    from_archive: bool,
    debian: bool,
    unmeasured: Option<&str>,
    earlier: Option<&str>,
) {
    let why = if !debian {
        Some(
                "the base image is not one whose apt sources are known to be Debian's alone (the official python, node, ruby, golang and debian images)"
                    .to_string(),
            )
    } else if !from_archive {
        Some("the stage's apt sources may not be Debian's alone".to_string())
    } else if let Some(why) = unmeasured {
        Some(why.to_string())
    } else {
        earlier.map(|w| {
            format!(
                "an earlier install in the stage may run trigger scripts during this one, and {w}"
            )
        })
    };
    if why.is_some() {
        e.site_note = why;
        return;
    }
    super::take_archive_writes(e, site_write);
    for w in measured_writes() {
        e.archive_writes.push(w.clone());
        e.writes.push(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_common_packages_and_no_keyring() {
        for p in ["libpq5", "build-essential", "curl", "git", "libpq-dev=15.*"] {
            assert!(measured_package(p), "{p}");
        }
        for p in ["debian-archive-keyring", "vsftpd", "googletest", "", "#"] {
            assert!(!measured_package(p), "{p}");
        }
    }
}
