//! Whether `pip install .` of a Python project installs anything besides
//! the project itself, after pinned requirement files were installed.
//!
//! Guarantee: [`nothing_new_to_install`] answers `Ok` only when the
//! project's `pyproject.toml` declares its metadata statically (PEP 621,
//! with a build backend that takes it from there as the standard requires),
//! installs no script or data file (which could land on a file a
//! dependency installed), and every dependency it declares is named, with
//! a plain release its specifiers take, by a requirement file made only of
//! `NAME==VERSION` lines ([`pins`]). pip's default upgrade strategy
//! (`only-if-needed`) then keeps every installed dependency: the project's
//! own files are all it writes. Anything outside that subset (extras,
//! markers, URLs, pre-releases, a `setup.py`, a dynamic field, an unknown
//! backend) is refused with the reason.

use std::collections::BTreeMap;

/// A release version (`1.2.3`) as its numbers.
type Release = Vec<u64>;

/// The packages a requirement file pins, by normalised name, when every
/// requirement line is `NAME==VERSION` (a plain release), optionally with
/// `--hash` options, and nothing else (no include, option, marker or
/// extra). `None` otherwise, or when a name is pinned twice.
pub fn pins(text: &str) -> Option<BTreeMap<String, Release>> {
    let mut out = BTreeMap::new();
    for line in super::manifests::requirement_lines(text) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (req, opts): (Vec<&str>, Vec<&str>) =
            words.iter().partition(|w| !w.starts_with("--hash"));
        if opts.iter().any(|o| !o.starts_with("--hash=")) {
            return None;
        }
        let req = req.concat();
        let (name, version) = req.split_once("==")?;
        if !is_name(name) {
            return None;
        }
        let release = release(version)?;
        if out.insert(normalize(name), release).is_some() {
            return None;
        }
    }
    Some(out)
}

/// A distribution name as PEP 508 allows it.
fn is_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
}

/// Whether every requirement line of a file carries a `--hash=` option:
/// pip then runs in hash-checking mode, which refuses to install any
/// distribution the files do not pin (a dependency of a pinned one
/// included), so the install puts exactly the pinned distributions.
/// Without it, a dependency pulled in may be named as the project, which
/// `pip install .` would then uninstall.
pub fn hash_checked(text: &str) -> bool {
    let lines = super::manifests::requirement_lines(text);
    !lines.is_empty()
        && lines
            .iter()
            .all(|l| l.split_whitespace().any(|w| w.starts_with("--hash=")))
}

/// A name normalised as PEP 503 does: lower case, each run of `-`, `_`
/// and `.` one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A plain release (`1`, `2.0.1`): numbers joined by dots, nothing else
/// (no epoch, pre-, post-, dev- or local part).
fn release(v: &str) -> Option<Release> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    v.split('.')
        .map(|n| {
            (!n.is_empty() && n.len() < 19 && n.bytes().all(|c| c.is_ascii_digit()))
                .then(|| n.parse().ok())
                .flatten()
        })
        .collect()
}

/// Compares two releases as PEP 440 does (missing numbers are zeros), as
/// RubyGems compares numeric versions too.
pub(crate) fn cmp(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            a.get(i)
                .copied()
                .unwrap_or(0)
                .cmp(&b.get(i).copied().unwrap_or(0))
        })
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// Whether `pin` starts with `prefix` (zeros padding `pin`).
fn has_prefix(pin: &[u64], prefix: &[u64]) -> bool {
    prefix
        .iter()
        .enumerate()
        .all(|(i, p)| pin.get(i).copied().unwrap_or(0) == *p)
}

/// Whether the release `pin` satisfies one specifier (`>=1.2`, `~=2.0`,
/// `==3.*`); `None` when the specifier is outside the forms read.
fn satisfies(pin: &[u64], spec: &str) -> Option<bool> {
    let spec = spec.trim();
    let ops = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"];
    let op = ops.iter().find(|o| spec.starts_with(**o))?;
    let v = spec[op.len()..].trim();
    if *op == "===" {
        return None;
    }
    if let Some(prefix) = v.strip_suffix(".*") {
        let prefix = release(prefix)?;
        return match *op {
            "==" => Some(has_prefix(pin, &prefix)),
            "!=" => Some(!has_prefix(pin, &prefix)),
            _ => None,
        };
    }
    let v = release(v)?;
    use std::cmp::Ordering::*;
    let o = cmp(pin, &v);
    Some(match *op {
        "==" => o == Equal,
        "!=" => o != Equal,
        "<=" => o != Greater,
        ">=" => o != Less,
        "<" => o == Less,
        ">" => o == Greater,
        "~=" => {
            if v.len() < 2 {
                return None;
            }
            o != Less && has_prefix(pin, &v[..v.len() - 1])
        }
        _ => return None,
    })
}

/// A dependency of `[project] dependencies` as (normalised name, its
/// specifiers), for the forms read: a name and a comma-separated
/// specifier list, maybe in parentheses. Extras, markers and URLs are not.
fn dependency(dep: &str) -> Result<(String, Vec<String>), String> {
    let d = dep.trim();
    let end = d
        .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
        .unwrap_or(d.len());
    let (name, rest) = d.split_at(end);
    if !is_name(name) {
        return Err(format!("dependency `{dep}` is not read"));
    }
    let rest = rest.trim();
    if rest.contains([';', '[', '@']) {
        return Err(format!(
            "dependency `{dep}` has an extra, a marker or a URL, which are not read"
        ));
    }
    let rest = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(rest);
    let specs = if rest.trim().is_empty() {
        Vec::new()
    } else {
        rest.split(',').map(|s| s.trim().to_string()).collect()
    };
    Ok((normalize(name), specs))
}

/// Whether a table, at any depth, has a key `pick` takes.
fn has_key(v: &toml::Value, pick: &dyn Fn(&str) -> bool) -> bool {
    match v {
        toml::Value::Table(t) => t.iter().any(|(k, v)| pick(k) || has_key(v, pick)),
        toml::Value::Array(a) => a.iter().any(|v| has_key(v, pick)),
        _ => false,
    }
}

/// Build backends that take a project's metadata from its `[project]`
/// table as PEP 621 requires (a field not listed in `dynamic` must not be
/// supplied any other way). poetry-core before 2 ignores the table.
const STANDARD_BACKENDS: &[&str] = &[
    "setuptools.build_meta",
    "hatchling.build",
    "flit_core.buildapi",
    "pdm.backend",
];

/// Why `pip install .` of the project whose `pyproject.toml` is `text` may
/// install, upgrade or replace more than the project, given the pinned
/// packages `pins` are installed; `Ok` when it cannot. `file(name)` tells
/// whether a file of the project exists (`Some(false)`: certainly not;
/// `setup.py`, `setup.cfg` and `pdm_build.py` must not: they are code or
/// metadata besides the table).
pub fn nothing_new_to_install(
    text: &str,
    pins: &BTreeMap<String, Release>,
    file: &dyn Fn(&str) -> Option<bool>,
) -> Result<(), String> {
    for f in ["setup.py", "setup.cfg", "pdm_build.py"] {
        if file(f) != Some(false) {
            return Err(format!("the project may have a `{f}`"));
        }
    }
    let table: toml::Table = text
        .parse()
        .map_err(|_| "pyproject.toml cannot be read".to_string())?;
    if let Some(bs) = table.get("build-system") {
        let bs = bs.as_table().ok_or("`build-system` is not a table")?;
        if bs.contains_key("backend-path") {
            return Err("the build backend is in the project".into());
        }
        match bs.get("build-backend") {
            // pip then builds with setuptools' legacy backend, which reads
            // the table too (setuptools 61 and later; older ones ignore
            // it, and the project then declares no dependency).
            None => {}
            Some(toml::Value::String(b)) if STANDARD_BACKENDS.contains(&b.as_str()) => {}
            Some(_) => return Err("the build backend is not one known to follow PEP 621".into()),
        }
    }
    if let Some(tool) = table.get("tool").and_then(toml::Value::as_table) {
        let hatch_hooks = tool
            .get("hatch")
            .and_then(|h| h.get("build"))
            .is_some_and(|b| has_key(b, &|k| k == "hooks" || k.starts_with("shared-")));
        let setuptools_data = tool
            .get("setuptools")
            .and_then(toml::Value::as_table)
            .is_some_and(|s| s.contains_key("data-files") || s.contains_key("script-files"));
        let flit_data = tool
            .get("flit")
            .and_then(toml::Value::as_table)
            .is_some_and(|f| f.contains_key("external-data"));
        let pdm_build = tool.get("pdm").and_then(|p| p.get("build")).is_some();
        if hatch_hooks || setuptools_data || flit_data || pdm_build {
            return Err(
                "the build backend is configured to run hooks or install data files".into(),
            );
        }
    }
    let project = table
        .get("project")
        .and_then(toml::Value::as_table)
        .ok_or("pyproject.toml has no `[project]` table")?;
    let name = project
        .get("name")
        .and_then(toml::Value::as_str)
        .filter(|n| is_name(n))
        .ok_or("the project's name is not read")?;
    if let Some(dynamic) = project.get("dynamic") {
        let dynamic = dynamic.as_array().ok_or("`dynamic` is not a list")?;
        for field in ["dependencies", "scripts", "gui-scripts", "entry-points"] {
            if dynamic.iter().any(|d| d.as_str() == Some(field)) {
                return Err(format!("the project's `{field}` is dynamic"));
            }
        }
        if dynamic.iter().any(|d| d.as_str().is_none()) {
            return Err("`dynamic` is not a list of names".into());
        }
    }
    for key in ["scripts", "gui-scripts", "entry-points"] {
        if project.contains_key(key) {
            return Err(format!(
                "the project declares `{key}`, which may replace a file a dependency installed"
            ));
        }
    }
    let own = normalize(name);
    if pins.contains_key(&own) {
        return Err(format!(
            "the requirement files also pin the project `{name}`"
        ));
    }
    let deps = match project.get("dependencies") {
        None => Vec::new(),
        Some(d) => d
            .as_array()
            .ok_or("`dependencies` is not a list")?
            .iter()
            .map(|v| v.as_str().ok_or("a dependency is not a string".to_string()))
            .collect::<Result<Vec<_>, _>>()?,
    };
    for dep in deps {
        let (dname, specs) = dependency(dep)?;
        if dname == own {
            return Err(format!("the project depends on itself (`{dep}`)"));
        }
        let pin = pins
            .get(&dname)
            .ok_or_else(|| format!("dependency `{dep}` is not pinned by the requirement files"))?;
        for s in &specs {
            match satisfies(pin, s) {
                Some(true) => {}
                Some(false) => {
                    return Err(format!("the pinned version does not satisfy `{dep}`"));
                }
                None => {
                    return Err(format!(
                        "dependency `{dep}` has a specifier that is not read"
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<bool> {
        Some(false)
    }

    #[test]
    fn pins_only_plain_exact_lines() {
        let p = pins("Flask==3.0.0\n# c\nzope.interface==6.1 --hash=sha256:ab\n").unwrap();
        assert_eq!(p.get("flask"), Some(&vec![3, 0, 0]));
        assert_eq!(p.get("zope-interface"), Some(&vec![6, 1]));
        assert!(!hash_checked(
            "Flask==3.0.0\nzope.interface==6.1 --hash=sha256:ab\n"
        ));
        assert!(hash_checked(
            "a==1 --hash=sha256:ab \\\n  --hash=sha256:cd\n# c\n"
        ));
        for bad in [
            "flask>=3\n",
            "-r other.txt\n",
            "flask==3.0.0rc1\n",
            "flask[async]==3.0.0\n",
            "flask==3.0.0 ; python_version<'3.9'\n",
            "flask==3\nFlask==3\n",
            "-e .\n",
            "flask==3.0.0 --no-binary=:all:\n",
        ] {
            assert!(pins(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn specifiers_as_pep_440_for_releases() {
        let v = [2, 31, 0];
        for (s, want) in [
            (">=2.0", true),
            (">=2.32", false),
            ("<3", true),
            ("<2.31", false),
            ("<=2.31", true),
            ("==2.31", true),
            ("==2.*", true),
            ("!=2.31.0", false),
            ("~=2.30", true),
            ("~=2.30.1", false),
            (">2.31", false),
        ] {
            assert_eq!(satisfies(&v, s), Some(want), "{s}");
        }
        assert_eq!(satisfies(&v, ">=2.0rc1"), None);
        assert_eq!(satisfies(&v, "~=2"), None);
        assert_eq!(satisfies(&v, "===2.31.0"), None);
    }

    #[test]
    fn a_project_whose_dependencies_are_pinned_installs_nothing_new() {
        let p = pins("flask==3.0.0\nrequests==2.31.0\nidna==3.6\n").unwrap();
        let ok = "[build-system]\nrequires=[\"hatchling\"]\nbuild-backend=\"hatchling.build\"\n[project]\nname=\"app\"\nversion=\"0.1\"\ndependencies=[\"Flask>=3\", \"requests (>=2.30,<3)\"]\n";
        assert_eq!(nothing_new_to_install(ok, &p, &none), Ok(()));
        let cases = [
            ok.replace("Flask>=3", "Flask>=3.1"),
            ok.replace("Flask>=3", "Flask[async]>=3"),
            ok.replace("Flask>=3", "Flask>=3; python_version>'3'"),
            ok.replace("Flask>=3", "gunicorn"),
            ok.replace("hatchling.build", "poetry.core.masonry.api"),
            ok.replace(
                "version=\"0.1\"",
                "version=\"0.1\"\ndynamic=[\"dependencies\"]",
            ),
            format!("{ok}[project.scripts]\napp=\"app:main\"\n"),
            ok.replace("name=\"app\"", "name=\"Requests\""),
            format!("{ok}[tool.hatch.build.hooks.custom]\n"),
            "[project\nname=1".to_string(),
        ];
        for c in &cases {
            assert!(nothing_new_to_install(c, &p, &none).is_err(), "{c}");
        }
        let setup_py = |f: &str| Some(f != "setup.py");
        assert!(nothing_new_to_install(ok, &p, &setup_py).is_err());
        let unknown = |_: &str| None;
        assert!(nothing_new_to_install(ok, &p, &unknown).is_err());
    }
}
