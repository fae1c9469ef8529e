//! `.dockreorder.yaml`: the repository's settings. Unknown keys are errors
//! (with `path:line:column`), so a typo never silently does nothing.
//!
//! ```yaml
//! include: ["services/**"]        # globs, relative to the config's directory
//! exclude: ["services/legacy/**"]
//! max_commits: 5000
//! since: 2024-01-01
//! unsafe: false
//! min_saving: 10                   # percent of the expected rebuild cost
//! dockerfiles:
//!   services/api/Dockerfile: { context: . }
//! costs: { install: 120, build: 40, run: 5, cheap: 1 }
//! commands:                        # same shape as the embedded knowledge base
//!   - command: [make]
//!     sub: [deps]
//!     reads: [Makefile, deps.lock]
//!     writes: [vendor/**]
//!     positional: ignore
//!     cost: install
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::analysis::kb::Entry;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerDockerfile {
    /// Build context, relative to the config's directory.
    pub context: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Costs {
    pub install: Option<f64>,
    pub build: Option<f64>,
    pub run: Option<f64>,
    pub cheap: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub max_commits: Option<usize>,
    pub since: Option<String>,
    #[serde(rename = "unsafe")]
    pub allow_unsafe: Option<bool>,
    /// Smallest saving worth a change, in percent of the file's expected
    /// rebuild cost (default 10).
    pub min_saving: Option<f64>,
    #[serde(default)]
    pub dockerfiles: BTreeMap<String, PerDockerfile>,
    #[serde(default)]
    pub costs: Costs,
    #[serde(default)]
    pub commands: Vec<Entry>,
}

/// A loaded config and where it lives.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub config: Config,
    /// The directory relative paths in the config are resolved against.
    pub base: PathBuf,
    pub path: Option<PathBuf>,
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

/// A config error, located in the YAML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

fn globset(patterns: &[String], path: &str) -> Result<Option<GlobSet>, ConfigError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = Glob::new(p).map_err(|e| ConfigError {
            path: path.to_string(),
            line: 1,
            column: 1,
            message: format!("bad glob `{p}`: {e}"),
        })?;
        b.add(g);
    }
    b.build().map(Some).map_err(|e| ConfigError {
        path: path.to_string(),
        line: 1,
        column: 1,
        message: e.to_string(),
    })
}

impl Loaded {
    /// Parses config text (`path` is for messages; `base` resolves paths).
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Loaded, ConfigError> {
        let shown = path.display().to_string();
        let config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            serde_yaml::from_str(text).map_err(|e| {
                let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
                ConfigError {
                    path: shown.clone(),
                    line,
                    column,
                    message: e
                        .to_string()
                        .split(" at line ")
                        .next()
                        .unwrap_or("")
                        .to_string(),
                }
            })?
        };
        if let Some(since) = &config.since
            && parse_date(since).is_none()
        {
            return Err(ConfigError {
                path: shown,
                line: line_of(text, "since"),
                column: 1,
                message: format!("since: `{since}` is not a date (YYYY-MM-DD)"),
            });
        }
        Ok(Loaded {
            include: globset(&config.include, &shown)?,
            exclude: globset(&config.exclude, &shown)?,
            config,
            base: base.to_path_buf(),
            path: Some(path.to_path_buf()),
        })
    }

    /// Reads `path`, or `.dockreorder.yaml` in `default_dir` if it exists.
    pub fn load(path: Option<&Path>, default_dir: &Path) -> Result<Loaded, ConfigError> {
        let (file, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (default_dir.join(".dockreorder.yaml"), false),
        };
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                let base = file
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                Loaded::parse(&text, &file, &base)
            }
            Err(e) if required => Err(ConfigError {
                path: file.display().to_string(),
                line: 1,
                column: 1,
                message: format!("cannot read config: {e}"),
            }),
            Err(_) => Ok(Loaded {
                base: default_dir.to_path_buf(),
                ..Loaded::default()
            }),
        }
    }

    fn rel(&self, file: &Path) -> Option<String> {
        let f = std::fs::canonicalize(file).ok()?;
        let b = std::fs::canonicalize(&self.base).ok()?;
        Some(f.strip_prefix(b).ok()?.to_string_lossy().replace('\\', "/"))
    }

    /// Whether a discovered Dockerfile is selected by `include`/`exclude`.
    pub fn selects(&self, file: &Path) -> bool {
        let Some(rel) = self.rel(file) else {
            return true;
        };
        if self.include.as_ref().is_some_and(|g| !g.is_match(&rel)) {
            return false;
        }
        !self.exclude.as_ref().is_some_and(|g| g.is_match(&rel))
    }

    /// The configured build context of a Dockerfile, if any.
    pub fn context_for(&self, file: &Path) -> Option<PathBuf> {
        let rel = self.rel(file)?;
        let entry = self.config.dockerfiles.get(&rel)?;
        entry.context.as_ref().map(|c| self.base.join(c))
    }
}

fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(&format!("{key}:")))
        .map_or(1, |i| i + 1)
}

/// `YYYY-MM-DD` (UTC midnight) or Unix seconds.
pub fn parse_date(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let mut it = s.splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.get(..2)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-03-01"), Some(1_709_251_200));
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
    }
}
