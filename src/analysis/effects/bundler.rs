//! Bundler's `frozen` and `deployment` settings written by an earlier
//! `RUN` (`RUN bundle config --global frozen 1`, the old `ruby:onbuild`
//! template's), carried to a later `bundle install` of the stage or of the
//! stages built on it while nothing may have changed or overridden them.
//!
//! From Bundler's source (2.3.15, the Ruby 3.1 image's; the same in the
//! later releases read): settings are looked up in the local config
//! (`$BUNDLE_APP_CONFIG/config`, else `.bundle/config` of the project),
//! then the environment (`BUNDLE_*`), then the global config
//! (`$BUNDLE_CONFIG`, else `$BUNDLE_USER_CONFIG`, else
//! `$BUNDLE_USER_HOME/config`, else `~/.bundle/config`), the first that
//! has the key winning (`Settings#[]`). `bundle config --global` writes
//! the global file, `--local` the local one, and neither the scope of the
//! file the Gemfile's directory decides (the local one when a Gemfile is
//! found, else the global one: `validate_scope!`); with
//! `BUNDLE_APP_CONFIG` an absolute path (the official `ruby` images set
//! `/usr/local/bundle`) the local file is that directory's `config`
//! wherever Bundler runs. A boolean setting is off for `false`, `f`,
//! `no`, `n`, `0` or empty and on otherwise (`to_bool`).

use super::*;

/// The variables that place Bundler's config files: the home, the global
/// file's and the local file's locations.
const LOCATION_VARS: [&str; 5] = [
    "HOME",
    "BUNDLE_CONFIG",
    "BUNDLE_USER_CONFIG",
    "BUNDLE_USER_HOME",
    "BUNDLE_APP_CONFIG",
];

/// The settings followed: the ones that keep `Gemfile.lock` as it is.
const KEYS: [&str; 2] = ["frozen", "deployment"];

/// Bundler's `frozen`/`deployment` settings an earlier `RUN` wrote and
/// nothing since may have changed, and where they live.
#[derive(Debug, Clone, Default)]
pub(super) struct BundleSettings {
    /// Whether the base image is known to set no Bundler variable but
    /// `BUNDLE_APP_CONFIG=/usr/local/bundle` (and `GEM_HOME`,
    /// `BUNDLE_SILENCE_ROOT_WARNING`), to run as root and to hold no
    /// Bundler config file: the official `ruby` image (docker-library's
    /// Dockerfiles set just these).
    pub known: bool,
    /// The settings, by variable (`BUNDLE_FROZEN`) → value as written.
    pub vars: BTreeMap<String, String>,
    /// The location variables when they were written (each `None` when
    /// unset).
    snapshot: Vec<Option<String>>,
    /// The config files Bundler reads there: the local and the global one.
    files: Vec<String>,
    /// The item of the (last) `RUN` that wrote them.
    pub item: Option<usize>,
}

impl BundleSettings {
    /// The state a stage on base image `image` (when known) starts in.
    pub(super) fn fresh(image: Option<&str>) -> Self {
        BundleSettings {
            known: image.and_then(official_repo) == Some("ruby"),
            ..Self::default()
        }
    }

    fn clear(&mut self) {
        self.vars.clear();
        self.snapshot.clear();
        self.files.clear();
        self.item = None;
    }

    /// The settings a `RUN` with variables `env`, as root when `as_root`,
    /// with mounts `mounts` (`None`: not known), starts with, as if the
    /// config files held them: none unless the location variables are
    /// those they were written with and no mount covers the files. A
    /// `deployment` setting is not carried when `BUNDLE_FROZEN` is set
    /// (Bundler 2.4 and later let `frozen`, when set, decide alone).
    pub(super) fn seed(
        &self,
        env: &BTreeMap<String, String>,
        as_root: bool,
        mounts: Option<&[String]>,
    ) -> BTreeMap<String, String> {
        if !self.known || self.vars.is_empty() || !as_root || snapshot(env) != self.snapshot {
            return BTreeMap::new();
        }
        let Some(mounts) = mounts else {
            return BTreeMap::new();
        };
        let covered = mounts.iter().any(|m| {
            let tree = format!("{}/**", m.trim_end_matches('/'));
            self.files.iter().any(|f| paths_overlap(&tree, f))
        });
        if covered {
            return BTreeMap::new();
        }
        let mut out = self.vars.clone();
        if env.contains_key("BUNDLE_FROZEN") {
            out.remove("BUNDLE_DEPLOYMENT");
        }
        out
    }

    /// The state after unit `ins` (item `item`) with effects `e`, run with
    /// variables `env` (before the unit), as root when `as_root`.
    pub(super) fn step(
        &mut self,
        item: usize,
        ins: &Instruction,
        e: &Effects,
        env: &BTreeMap<String, String>,
        as_root: bool,
    ) {
        if !self.known {
            return;
        }
        match ins.node.kind {
            // Another user has another home, another global file; a shell
            // that is not understood may be anything.
            Kind::User | Kind::Shell => {
                self.clear();
                return;
            }
            Kind::Run if e.opaque.is_none() => {
                if let Some(sets) = settings_only(ins) {
                    let files = config_files(env);
                    let snap = snapshot(env);
                    let (Some(files), true) = (files, as_root) else {
                        self.clear();
                        return;
                    };
                    if !self.vars.is_empty() && snap != self.snapshot {
                        self.clear();
                    }
                    let mut set_here = false;
                    for (key, value) in sets {
                        if !KEYS.contains(&key.as_str()) {
                            continue;
                        }
                        let var = format!("BUNDLE_{}", key.to_ascii_uppercase());
                        // Set again (maybe in the other file, which one
                        // wins depends on the scopes): not followed.
                        if self.vars.contains_key(&var) {
                            self.clear();
                            return;
                        }
                        self.vars.insert(var, value);
                        set_here = true;
                    }
                    if set_here {
                        self.snapshot = snap;
                        self.files = files;
                        self.item = Some(item);
                    }
                    return;
                }
            }
            _ => {}
        }
        if self.vars.is_empty() {
            return;
        }
        // A unit that may write either config file (another `bundle
        // config`, a copy into the home, a `RUN` not understood) may have
        // changed or overridden the settings.
        if e.opaque.is_some() || self.files.iter().any(|f| writes_path(e, f)) {
            self.clear();
        }
    }
}

/// The location variables' values in `env`.
fn snapshot(env: &BTreeMap<String, String>) -> Vec<Option<String>> {
    LOCATION_VARS.iter().map(|k| env.get(*k).cloned()).collect()
}

/// The local and the global config file Bundler reads and writes with
/// variables `env`, run as root on the official image: `None` when a
/// location variable is set to anything but a plain absolute path.
fn config_files(env: &BTreeMap<String, String>) -> Option<Vec<String>> {
    let var = |k: &str| -> Option<Option<&str>> {
        match env.get(k) {
            None => Some(None),
            Some(v) if plain_absolute(v) => Some(Some(v.trim_end_matches('/'))),
            Some(_) => None,
        }
    };
    let app = var("BUNDLE_APP_CONFIG")?.unwrap_or("/usr/local/bundle");
    let local = format!("{app}/config");
    let global = match (
        var("BUNDLE_CONFIG")?,
        var("BUNDLE_USER_CONFIG")?,
        var("BUNDLE_USER_HOME")?,
        var("HOME")?,
    ) {
        (Some(c), _, _, _) | (None, Some(c), _, _) => c.to_string(),
        (None, None, Some(h), _) => format!("{h}/config"),
        (None, None, None, h) => format!("{}/.bundle/config", h.unwrap_or("/root")),
    };
    Some(vec![local, global])
}

/// The settings of a `RUN` that is only `bundle config` settings
/// (`bundle config [set] [--global|--local] NAME VALUE`, plain words, no
/// assignment, redirection or `cd`), in order: `None` for any other.
fn settings_only(ins: &Instruction) -> Option<Vec<(String, String)>> {
    let script = ins.run_script()?;
    if ins
        .node
        .flags
        .iter()
        .any(|f| !f.to_ascii_lowercase().starts_with("--network"))
    {
        return None;
    }
    let Split::Commands(cmds) = shell::split(&script) else {
        return None;
    };
    if cmds.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for c in &cmds {
        if !c.assignments.is_empty()
            || !c.redirect_writes.is_empty()
            || !c.redirect_reads.is_empty()
            || c.cd.is_some()
            || !matches!(c.joined_by, None | Some(shell::Op::And))
        {
            return None;
        }
        let name = c.argv.first().map(|a| a.as_str());
        if !matches!(name, Some("bundle" | "bundler"))
            || c.argv.get(1).map(String::as_str) != Some("config")
        {
            return None;
        }
        let mut words: Vec<&str> = c.argv[2..].iter().map(String::as_str).collect();
        if words.first() == Some(&"set") {
            words.remove(0);
        }
        let scopes = words
            .iter()
            .filter(|w| matches!(**w, "--global" | "--local"))
            .count();
        if scopes > 1 {
            return None;
        }
        words.retain(|w| !matches!(*w, "--global" | "--local"));
        let [key, value] = words.as_slice() else {
            return None;
        };
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "._-:".contains(ch))
        };
        if !plain(key) || key.starts_with('-') || !plain(value) || value.starts_with('-') {
            return None;
        }
        if matches!(*key, "unset" | "get" | "list") {
            return None;
        }
        out.push((key.to_ascii_lowercase(), value.to_string()));
    }
    Some(out)
}
