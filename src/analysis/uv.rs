//! Whether `uv sync` without `--no-install-project` installs the project
//! itself. uv builds and installs a project only when its `pyproject.toml`
//! has a `[build-system]` or sets `tool.uv.package = true`; otherwise the
//! project is *virtual* and uv installs its dependencies alone (uv docs,
//! `concepts/projects/config.md`, "Build systems" and "Project
//! packaging"), reading `pyproject.toml`, `uv.lock`, `.python-version`
//! and `uv.toml` as with the flag.
//!
//! Guarantee: [`virtual_problems`] is empty only when the manifests are
//! readable and say, by a conservative reading of their text (no TOML
//! parser: a word that might start a table, a key or a local source is a
//! problem wherever it stands), that the project is virtual, is no
//! workspace or member of one the context holds, and depends on no local
//! path. Anything else is a reason, and the `RUN` stays as opaque as it
//! was before this check existed.

use super::context::Context;

/// Why `uv sync` in the context directory `dir` may install more than the
/// dependencies its manifests name; empty when the project is virtual.
/// `find` gives the context path of each manifest the command sees
/// (`pyproject.toml`, `uv.lock`, `uv.toml`), `None` for one it does not.
pub(crate) fn virtual_problems(
    ctx: &Context,
    dir: &str,
    find: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let Some(pyproject) = find("pyproject.toml") else {
        out.push("no pyproject.toml, so whether uv installs the project is not known".into());
        return out;
    };
    let Some(text) = ctx.read(&pyproject) else {
        out.push(format!(
            "{pyproject} cannot be read, so whether uv installs the project is not known"
        ));
        return out;
    };
    if text.contains("build-system") {
        out.push(format!(
            "{pyproject} has a build system: uv builds and installs the project, which reads its sources"
        ));
    }
    if assignments(&text, "package").any(|v| !v.starts_with("false")) {
        out.push(format!(
            "{pyproject} may set `tool.uv.package`: uv then installs the project"
        ));
    }
    // Metadata uv would have to build the project to know.
    if assignments(&text, "dynamic").next().is_some() {
        out.push(format!("{pyproject} sets `dynamic`"));
    }
    out.extend(source_problems(ctx, dir, find));
    // The project itself locked as a package (`source = { editable = "."
    // }`): installed without the flag.
    if let Some(rel) = find("uv.lock")
        && let Some(t) = ctx.read(&rel)
        && ["path", "editable", "directory"]
            .iter()
            .any(|k| assignments(&t, k).any(|v| v.starts_with("\".\"")))
    {
        out.push(format!("{rel} locks the project itself as a package"));
    }
    out
}

/// Why `uv sync` without `--frozen` may build the project to check the
/// lock against it, with `--no-install-project` too: metadata the
/// `pyproject.toml` declares `dynamic` is known only by running the build
/// backend on the project's files (measured with uv 0.13.9: `uv sync
/// --locked --no-install-project` of a setuptools project with dynamic
/// dependencies and version failed with "ModuleNotFoundError: app" when
/// only the manifests were copied). Read conservatively: any `dynamic`.
pub(crate) fn built_metadata(ctx: &Context, find: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let Some(rel) = find("pyproject.toml") else {
        return Vec::new();
    };
    match ctx.read(&rel) {
        Some(t) if assignments(&t, "dynamic").next().is_some() => vec![format!(
            "{rel} sets `dynamic`: without --frozen, uv builds the project from its files to check the lock"
        )],
        _ => Vec::new(),
    }
}

/// Why `uv pip install -r pyproject.toml` (the context file `rel`) may
/// read more than that file. uv takes the requirements of a
/// `pyproject.toml` without building the project when its `[project]`
/// table declares them statically (uv's `SourceTreeResolver` asks
/// `requires_dist` first, which parses the table and gives up only when
/// `dynamic` names `dependencies` or `optional-dependencies`; since uv
/// 0.1.25, astral-sh/uv#2676); otherwise it runs the build backend on the
/// project's files. Measured with uv 0.13.9: only `pyproject.toml` in the
/// directory, a `readme` it names missing, `--extra web`: "Found static
/// `requires-dist`", both packages installed. Read conservatively: the
/// file must parse, name the project and its version, list its
/// `dependencies`, declare no `dynamic` field at all and no Poetry table (whose dependencies uv does
/// not read statically), and every requirement (dependencies, optional
/// dependencies, dependency groups) must be a registry package or an
/// `https` URL: a `file:` URL, a `{root}` placeholder or a variable names
/// a local file. Its `[tool.uv]` sources, indexes and workspace, and a
/// `pyproject.toml` or `uv.toml` in a parent directory, are
/// [`source_problems`]'.
pub(crate) fn static_requirements_problems(ctx: &Context, rel: &str) -> Vec<String> {
    let Some(text) = ctx.read(rel) else {
        return vec![format!("{rel} cannot be read")];
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return vec![format!("{rel} is not valid TOML")];
    };
    let mut out = Vec::new();
    let project = table.get("project").and_then(toml::Value::as_table);
    let Some(project) = project else {
        return vec![format!(
            "{rel} has no `[project]` table: uv builds the project to know its requirements"
        )];
    };
    for key in ["name", "version"] {
        if !project.get(key).is_some_and(toml::Value::is_str) {
            out.push(format!(
                "{rel} does not give the project's `{key}` in `[project]`"
            ));
        }
    }
    // No `dependencies` at all: uv takes the project to have none (or,
    // beside a Poetry table, builds it), while the project may well
    // declare them elsewhere (`setup.cfg`, `setup.py`); not read as static.
    if !project.contains_key("dependencies") {
        out.push(format!(
            "{rel} declares no `dependencies` in `[project]`, so they may come from elsewhere"
        ));
    }
    if project.contains_key("dynamic") {
        out.push(format!(
            "{rel} declares `dynamic` metadata, which uv may build the project to know"
        ));
    }
    if table
        .get("tool")
        .and_then(toml::Value::as_table)
        .is_some_and(|t| t.contains_key("poetry"))
    {
        out.push(format!("{rel} has a `[tool.poetry]` table"));
    }
    let mut requirements: Vec<&toml::Value> = Vec::new();
    requirements.extend(project.get("dependencies"));
    if let Some(v) = project.get("optional-dependencies") {
        match v.as_table() {
            Some(t) => requirements.extend(t.values()),
            None => requirements.push(v),
        }
    }
    if let Some(v) = table.get("dependency-groups") {
        match v.as_table() {
            Some(t) => requirements.extend(t.values()),
            None => requirements.push(v),
        }
    }
    for list in requirements {
        let Some(items) = list.as_array() else {
            out.push(format!("{rel} has a requirement list that is not a list"));
            continue;
        };
        for item in items {
            match item {
                toml::Value::String(r) if !remote_or_registry(r) => {
                    out.push(format!("{rel} requires `{r}`, which may name a local file"))
                }
                toml::Value::String(_) => {}
                // `{ include-group = "…" }` (PEP 735) names another group
                // of the same table.
                toml::Value::Table(t)
                    if t.len() == 1 && t.get("include-group").is_some_and(toml::Value::is_str) => {}
                _ => out.push(format!("{rel} has a requirement that is not a string")),
            }
        }
    }
    let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
    let join = |f: &str| {
        if dir.is_empty() {
            f.to_string()
        } else {
            format!("{dir}/{f}")
        }
    };
    out.extend(source_problems(ctx, dir, &|f| Some(join(f))));
    out
}

/// A PEP 508 requirement that names a registry package, or a direct
/// `https` URL: no `file:` URL, no path after `@`, no `{root}` or
/// variable.
fn remote_or_registry(r: &str) -> bool {
    if r.contains(['{', '$', '\\']) || r.contains("file:") {
        return false;
    }
    match r.split_once('@') {
        None => true,
        Some((_, url)) => {
            let url = url.trim_start();
            url.starts_with("https://") && !url.contains(char::is_whitespace)
        }
    }
}

/// Why `uv sync` in the context directory `dir` may read files besides its
/// manifests, with `--no-install-project` too (which skips the project
/// alone: path, directory and editable sources and workspace members are
/// still installed; measured with uv 0.5.11, a hoisted install failed
/// without `libs/mylib`): local sources, workspaces and indexes in
/// `pyproject.toml`, `uv.lock` and `uv.toml`, and such files in a parent
/// directory.
pub(crate) fn source_problems(
    ctx: &Context,
    dir: &str,
    find: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    // Settings that point uv at local files.
    for key in ["find-links", "cache-dir"] {
        for f in ["pyproject.toml", "uv.toml"] {
            if let Some(rel) = find(f)
                && let Some(t) = ctx.read(&rel)
                && assignments(&t, key).next().is_some()
            {
                out.push(format!("{rel} sets `{key}`"));
            }
        }
    }
    if let Some(rel) = find("pyproject.toml")
        && let Some(t) = ctx.read(&rel)
    {
        local_sources(&rel, &t, &mut out);
    }
    for other in ["uv.lock", "uv.toml"] {
        let Some(rel) = find(other) else {
            continue;
        };
        if let Some(t) = ctx.read(&rel) {
            local_sources(&rel, &t, &mut out);
            if other == "uv.lock" && assignments(&t, "virtual").any(|v| !v.starts_with("\".\"")) {
                out.push(format!("{rel} locks a virtual workspace member"));
            }
        }
    }
    // uv looks for the workspace root (and its configuration) in the
    // parent directories: one the context puts there decides too.
    let comps: Vec<&str> = dir.split('/').filter(|c| !c.is_empty()).collect();
    for n in 0..comps.len() {
        let parent = comps[..n].join("/");
        for f in ["pyproject.toml", "uv.toml"] {
            let rel = if parent.is_empty() {
                f.to_string()
            } else {
                format!("{parent}/{f}")
            };
            if ctx.ships(&rel) {
                out.push(format!(
                    "{rel} lies in a parent directory, where uv looks for a workspace and its configuration"
                ));
            }
        }
    }
    out
}

/// Why uv's settings in `text` (a `uv.toml` or `pyproject.toml`, context
/// path `rel`) may make `uv pip install` or `uv venv` read or write files
/// besides its manifests: a `find-links`, cache, target or prefix
/// directory, a local index (`url = "./wheels"`, `index-url =
/// "file:///app/wheels"`), an interpreter given by its path, a `file:`
/// URL (measured with uv 0.13.9: a hoisted install failed without the
/// `find-links` directory).
pub(crate) fn settings_problems(rel: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in [
        "find-links",
        "cache-dir",
        "target",
        "prefix",
        "python-install-dir",
        "python-bin-dir",
    ] {
        if assignments(text, key).next().is_some() {
            out.push(format!("{rel} sets `{key}`, a directory uv uses"));
        }
    }
    for key in ["url", "index-url", "extra-index-url", "default-index"] {
        let remote = |v: &str| {
            let v = v.trim_start_matches(['[', ' ', '"', '\'']);
            v.starts_with("https://") || v.starts_with("http://")
        };
        if assignments(text, key).any(|v| !remote(v)) {
            out.push(format!(
                "{rel} sets an index `{key}` that may be a local directory"
            ));
        }
    }
    if assignments(text, "python").any(|v| v.contains('/')) {
        out.push(format!("{rel} names an interpreter by its path"));
    }
    if text.contains("file:") {
        out.push(format!("{rel} mentions `file:`, a local file"));
    }
    out
}

/// Workspaces and sources that read local files: `[tool.uv.workspace]`
/// and `workspace = true`, `path`, `editable` and `directory` sources,
/// `file:` URLs, a `members` list.
fn local_sources(rel: &str, text: &str, out: &mut Vec<String>) {
    for word in ["workspace", "members", "file:"] {
        if text.contains(word) {
            out.push(format!(
                "{rel} mentions `{word}`: a workspace or a local dependency, read from other files"
            ));
        }
    }
    // An index may be a local directory (`url = "./wheels"`, a flat
    // index), resolved against the project (review 3, F4).
    for key in ["url", "index-url", "extra-index-url"] {
        let remote = |v: &str| {
            let v = v.trim_start_matches(['"', '\'']);
            v.starts_with("https://") || v.starts_with("http://")
        };
        if assignments(text, key).any(|v| !remote(v)) {
            out.push(format!(
                "{rel} sets an index `{key}` that may be a local directory"
            ));
        }
    }
    // The project itself (`source = { editable = "." }` in uv.lock) is
    // what `--no-install-project` skips, and a package project without
    // the flag is refused by `virtual_problems`.
    let parsed = rel
        .ends_with("pyproject.toml")
        .then(|| text.parse::<toml::Table>().ok())
        .flatten();
    for key in ["path", "editable", "directory"] {
        // In a `pyproject.toml` that parses, only uv's own tables count:
        // another tool's `path` (`[tool.hatch.version] path = …`, hatch's
        // template) is nothing uv reads (scout77 probe uv-hatchpath: `uv
        // sync --frozen --no-install-project` was Unsafe for it).
        let local = match &parsed {
            Some(table) => uv_values(table, key, true)
                .iter()
                .any(|v| v.as_str() != Some(".")),
            None => assignments(text, key).any(|v| !v.starts_with("\".\"")),
        };
        if local {
            out.push(format!(
                "{rel} has {} `{key}` source: a local dependency, read from other files",
                crate::analysis::manifests::article(key)
            ));
        }
    }
}

/// The values of every key `key` in a parsed `pyproject.toml`, at any
/// depth, but for the tables of tools other than uv (`[tool.hatch]`,
/// `[tool.pytest]`): `top` is set for the document itself.
fn uv_values<'t>(table: &'t toml::Table, key: &str, top: bool) -> Vec<&'t toml::Value> {
    let mut out = Vec::new();
    for (k, v) in table {
        if k == key {
            out.push(v);
        }
        let nested: Vec<&toml::Table> = match v {
            toml::Value::Table(t) => vec![t],
            toml::Value::Array(a) => a.iter().filter_map(toml::Value::as_table).collect(),
            _ => Vec::new(),
        };
        for t in nested {
            if top && k == "tool" {
                // Only `[tool.uv]` of the tools' tables.
                if let Some(toml::Value::Table(uv)) = t.get("uv") {
                    out.extend(uv_values(uv, key, false));
                }
                continue;
            }
            out.extend(uv_values(t, key, false));
        }
    }
    out
}

/// The values (the text after `=` and blanks) of every assignment to
/// `key` in TOML text: `key = v`, `"key" = v`, `a.key = v`, `{ key = v }`.
/// `key` must not continue a longer word (`pythonpath = …` is not `path`),
/// and `==` (a version specifier such as `"package==1.0"`) is no
/// assignment.
pub(crate) fn assignments<'t>(text: &'t str, key: &'t str) -> impl Iterator<Item = &'t str> + 't {
    text.match_indices(key).filter_map(move |(at, _)| {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return None;
        }
        let rest = text[at + key.len()..]
            .strip_prefix(['"', '\''])
            .unwrap_or(&text[at + key.len()..]);
        let rest = rest.trim_start_matches([' ', '\t']);
        let value = rest.strip_prefix('=')?;
        if value.starts_with('=') {
            return None;
        }
        Some(value.trim_start_matches([' ', '\t']))
    })
}

#[cfg(test)]
mod tests {
    use super::assignments;

    #[test]
    fn assignments_are_keys_not_parts_of_words_or_specifiers() {
        let t = "[tool.uv]\npackage = false\n[tool.pytest.ini_options]\npythonpath = [\"src\"]\ndependencies = [\"package==1.0\"]\nuv = { package = true }\n\"path\"= \"x\"\n";
        let v: Vec<&str> = assignments(t, "package").collect();
        assert_eq!(v.len(), 2);
        assert!(v[0].starts_with("false") && v[1].starts_with("true"));
        let p: Vec<&str> = assignments(t, "path").collect();
        assert_eq!(p, vec!["\"x\"\n"]);
    }
}
