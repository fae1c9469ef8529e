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
        let at = |line: usize, column: usize, message: String| ConfigError {
            path: shown.clone(),
            line,
            column,
            message,
        };
        if let Some(since) = &config.since
            && let Err(why) = parse_date(since)
        {
            let (line, column) = locate(text, "since", None);
            return Err(at(line, column, format!("since: `{since}` {why}")));
        }
        if config.max_commits == Some(0) {
            let (line, column) = locate(text, "max_commits", None);
            return Err(at(
                line,
                column,
                "max_commits: must be at least 1 (to read no history, pass --no-history)".into(),
            ));
        }
        if let Some(v) = config.min_saving
            && !(v.is_finite() && (0.0..=100.0).contains(&v))
        {
            let (line, column) = locate(text, "min_saving", None);
            return Err(at(
                line,
                column,
                format!("min_saving: `{v}` is not a percentage between 0 and 100"),
            ));
        }
        let c = &config.costs;
        for (key, value) in [
            ("install", c.install),
            ("build", c.build),
            ("run", c.run),
            ("cheap", c.cheap),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                let (line, column) = locate(text, key, None);
                return Err(at(
                    line,
                    column,
                    format!("costs.{key}: `{v}` is not a cost (a finite number, 0 or more)"),
                ));
            }
        }
        for (file, entry) in &config.dockerfiles {
            let Some(ctx) = &entry.context else { continue };
            let dir = base.join(ctx);
            let why = match std::fs::metadata(&dir) {
                Ok(m) if m.is_dir() => continue,
                Ok(_) => "is not a directory",
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist",
                Err(_) => "cannot be read",
            };
            let (line, column) = locate(text, "context", Some(ctx));
            return Err(at(
                line,
                column,
                format!(
                    "dockerfiles.{file}.context: `{ctx}` {why} ({})",
                    dir.display()
                ),
            ));
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
        // Only a regular file is read: a FIFO would block forever.
        if let Ok(m) = std::fs::metadata(&file)
            && !m.is_file()
        {
            return Err(ConfigError {
                path: file.display().to_string(),
                line: 1,
                column: 1,
                message: "not a regular file: not read as the config".into(),
            });
        }
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

/// Where `key:` is written in the YAML text (the first line that holds
/// `value` too, when given): 1-based line and column of the key. serde_yaml
/// locates syntax errors but not values, so semantic errors are located by
/// their key.
fn locate(text: &str, key: &str, value: Option<&str>) -> (usize, usize) {
    let pattern = format!("{key}:");
    let key_at = |l: &str| {
        l.match_indices(&pattern)
            .map(|(i, _)| i)
            .find(|&i| i == 0 || l[..i].ends_with([' ', '{', ',', '\t', '-']))
    };
    let found = text
        .lines()
        .enumerate()
        .filter_map(|(n, l)| key_at(l).map(|c| (n, c, l)))
        .find(|(_, c, l)| value.is_none_or(|v| l[*c..].contains(v)))
        .or_else(|| {
            text.lines()
                .enumerate()
                .find_map(|(n, l)| key_at(l).map(|c| (n, c, l)))
        });
    found.map_or((1, 1), |(n, c, l)| (n + 1, l[..c].chars().count() + 1))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` (UTC midnight) or Unix seconds. The error says what is
/// wrong, to follow the quoted input (``since: `x` is not a date``). A
/// time of day is refused rather than guessed at (which time zone?), and a
/// date in the future is refused because the walk could find nothing.
pub fn parse_date(s: &str) -> Result<i64, String> {
    const FORMAT: &str = "is not a date: expected YYYY-MM-DD or Unix seconds";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(i64::MAX, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let future = |t: i64| {
        if t > now {
            Err("is in the future: no commit could be walked".to_string())
        } else {
            Ok(t)
        }
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<i64>()
            .map_err(|_| FORMAT.to_string())
            .and_then(future);
    }
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(FORMAT.into());
    };
    if let Some((_, time)) = d.split_once(['T', ' ']) {
        return Err(format!(
            "has a time of day (`{time}`): only a date (YYYY-MM-DD, UTC) or Unix seconds"
        ));
    }
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return Err(FORMAT.into());
    }
    let (y, m, d): (i64, i64, i64) = match (y.parse(), m.parse(), d.parse()) {
        (Ok(y), Ok(m), Ok(d)) => (y, m, d),
        _ => return Err(FORMAT.into()),
    };
    if !(1..=12).contains(&m) {
        return Err(format!("is not a date: there is no month {m}"));
    }
    if !(1..=days_in_month(y, m)).contains(&d) {
        return Err(format!(
            "is not a date: month {m} of {y} has {} days",
            days_in_month(y, m)
        ));
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    future((era * 146_097 + doe - 719_468) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(parse_date("2024-03-01"), Ok(1_709_251_200));
        assert_eq!(parse_date("2024-02-29"), Ok(1_709_164_800));
        assert_eq!(parse_date("1700000000"), Ok(1_700_000_000));
        for bad in [
            "2024-13-01",
            "yesterday",
            "2024-02-30",
            "2023-02-29",
            "2024-04-31",
            "2024-01-01garbage",
            "2024-01-01T10:00",
            "2024-1-1",
            "2099-01-01",
            "4102444800",
            "",
            "-1",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert!(
            parse_date("2024-01-01T10:00")
                .unwrap_err()
                .contains("time of day")
        );
    }

    #[test]
    fn semantic_errors_are_located() {
        let base = Path::new(".");
        let p = Path::new("c.yaml");
        let e = Loaded::parse("min_saving: 150\n", p, base).unwrap_err();
        assert_eq!((e.line, e.column), (1, 1), "{}", e.message);
        let e = Loaded::parse("costs: { build: 1, run: -1 }\n", p, base).unwrap_err();
        assert_eq!((e.line, e.column), (1, 20), "{e}");
        let e = Loaded::parse("unsafe: true\ncosts:\n  cheap: .nan\n", p, base).unwrap_err();
        assert_eq!((e.line, e.column), (3, 3), "{e}");
        let e = Loaded::parse("max_commits: 0\n", p, base).unwrap_err();
        assert_eq!((e.line, e.column), (1, 1), "{e}");
        let text = "dockerfiles:\n  a/Dockerfile: { context: . }\n  b/Dockerfile:\n    context: /nonexistent\n";
        let e = Loaded::parse(text, p, base).unwrap_err();
        assert_eq!((e.line, e.column), (4, 5), "{e}");
        assert!(e.message.contains("does not exist"), "{e}");
    }
}
