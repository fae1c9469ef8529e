//! Dependency manifests: which file names are manifests, and what the
//! manifests of a hoisted install say about what it reads beyond them
//! (install scripts, local paths, workspaces, modules). Every finding is a
//! reason a hoist is not `Safe`; a manifest that cannot be read proves
//! nothing either way and is reported by the caller's other checks.

use super::context::Context;
use super::kb::ManifestCheck;

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
pub(crate) fn manifest_problems(
    check: &ManifestCheck,
    ctx: &Context,
    dir: &str,
    dest: &str,
) -> Vec<String> {
    let join = |f: &str| {
        if dir.is_empty() {
            f.to_string()
        } else {
            format!("{dir}/{f}")
        }
    };
    let mut out = Vec::new();
    match check {
        ManifestCheck::NpmScripts => npm_problems(ctx, &join, &mut out),
        ManifestCheck::ComposerScripts => composer_problems(ctx, &join, &mut out),
        ManifestCheck::Requirements(files) => requirements_problems(ctx, dest, files, &mut out),
        ManifestCheck::Pipfile => pipfile_problems(ctx, &join, &mut out),
        ManifestCheck::GoMod => gomod_problems(ctx, &join, &mut out),
        ManifestCheck::Gemfile => gemfile_problems(ctx, &join, &mut out),
        ManifestCheck::Maven => maven_problems(ctx, dir, &mut out),
        ManifestCheck::Gradle => gradle_problems(ctx, &join, &mut out),
        ManifestCheck::Cargo => cargo_problems(ctx, &join, &mut out),
        ManifestCheck::Yarn => yarn_problems(ctx, &join, &mut out),
    }
    out
}

/// npm, yarn, pnpm: lifecycle scripts, workspaces, local dependencies.
fn npm_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    let Some(v) = read_json(ctx, &join("package.json"), out) else {
        return;
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

/// composer: install and autoload scripts, classmap/files autoload, path repositories.
fn composer_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    let Some(v) = read_json(ctx, &join("composer.json"), out) else {
        return;
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

/// pip: requirement files that include others or install local paths
/// (`files` are image paths; those below `dest` come from the context).
fn requirements_problems(ctx: &Context, dest: &str, files: &[String], out: &mut Vec<String>) {
    // The files are image paths (variables expanded); those the copy to
    // `dest` ships are read from the context.
    let prefix = format!("{}/", dest.trim_end_matches('/'));
    for f in files {
        let Some(rel) = f.strip_prefix(&prefix).map(str::to_string) else {
            continue;
        };
        if !ctx.ships(&rel) {
            continue;
        }
        let Some(text) = ctx.read(&rel) else {
            out.push(format!("{rel} cannot be read to check what it includes"));
            continue;
        };
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

/// pipenv: `path =` dependencies.
fn pipfile_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    if let Some(text) = ctx.read(&join("Pipfile"))
        && (text.contains("path =") || text.contains("path="))
    {
        out.push(format!("{} has a `path =` dependency", join("Pipfile")));
    }
}

/// go: local `replace` directives and workspaces.
fn gomod_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
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

/// bundler: `gemspec`, `path:`, `eval_gemfile` and other file reads.
fn gemfile_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
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

/// maven: a reactor's module POMs are read too (see [`maven_reactor`]);
/// what cannot be followed is a problem.
fn maven_problems(ctx: &Context, dir: &str, out: &mut Vec<String>) {
    out.extend(maven_reactor(ctx, dir).1);
}

/// gradle: subprojects included by the settings.
fn gradle_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    for f in ["settings.gradle", "settings.gradle.kts"] {
        if ctx.read(&join(f)).is_some_and(|t| t.contains("include")) {
            out.push(format!(
                "{} includes subprojects, whose build files live in other directories",
                join(f)
            ));
        }
    }
}

/// cargo: a manifest loads only with its targets and workspace members.
fn cargo_problems(_ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    // `cargo fetch` parses the whole manifest, and a package
    // without a target (src/main.rs, src/lib.rs, [[bin]]) does not
    // parse; a workspace needs every member's manifest too.
    out.push(format!(
        "cargo loads {} only with its targets (src/main.rs, src/lib.rs) and workspace members, which the manifests alone do not provide",
        join("Cargo.toml")
    ));
}

/// yarn: Berry reads `.yarn/` and writes `.pnp.cjs`.
fn yarn_problems(ctx: &Context, join: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    if ctx.ships(&join(".yarnrc.yml")) {
        out.push(format!(
            "{} selects Yarn Berry, whose install reads `.yarn/` and writes `.pnp.cjs`",
            join(".yarnrc.yml")
        ));
    }
}

/// Extra files an install reads beside its own manifests, found in them
/// (context paths): a Maven reactor's module and parent POMs, `.mvn/`, the
/// files its profiles test for. Empty for other checks.
pub(crate) fn extra_manifests(check: &ManifestCheck, ctx: &Context, dir: &str) -> Vec<String> {
    match check {
        ManifestCheck::Maven => maven_reactor(ctx, dir).0,
        _ => Vec::new(),
    }
}

/// The text with XML comments removed.
fn strip_xml_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(k) = rest.find("<!--") {
        out.push_str(&rest[..k]);
        match rest[k..].find("-->") {
            Some(e) => rest = &rest[k + e + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The trimmed contents of every `<tag>…</tag>` element.
fn xml_values<'a>(text: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(k) = rest.find(&open) {
        let after = &rest[k + open.len()..];
        let Some(e) = after.find(&close) else { break };
        out.push(after[..e].trim());
        rest = &after[e + close.len()..];
    }
    out
}

/// `dir/rel` normalised (context-relative, `..` applied); `None` when it
/// leaves the context.
fn ctx_join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|c| !c.is_empty()).collect();
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// What `mvn dependency:go-offline` (or `resolve`) in `dir` reads before it
/// builds anything: the POM of every module of the reactor (`<module>`,
/// recursively, in profiles too), each parent POM found by
/// `<relativePath>` (default `../pom.xml`) that the context holds, the
/// files `<activation><file>` tests for (resolved against every module),
/// and `.mvn/`. Problems: a module or `.mvn` file the context does not
/// ship, a POM that reads the environment (`${env.…}`), a `systemPath`, a
/// `file:` repository, an activation path with a property other than
/// `basedir`.
pub(crate) fn maven_reactor(ctx: &Context, dir: &str) -> (Vec<String>, Vec<String>) {
    let mut files: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    let mut activation: Vec<String> = Vec::new();
    let mut pom_dirs: Vec<String> = Vec::new();
    let root = ctx_join(dir, "pom.xml").unwrap_or_else(|| "pom.xml".into());
    let mut queue = vec![(root, true)];
    while let Some((pom, follow_modules)) = queue.pop() {
        if files.contains(&pom) {
            continue;
        }
        if !ctx.ships(&pom) {
            if follow_modules {
                problems.push(format!(
                    "the Maven module POM {pom} is not in the build context"
                ));
            }
            continue;
        }
        let Some(raw) = ctx.read(&pom) else {
            problems.push(format!("{pom} cannot be read"));
            continue;
        };
        files.push(pom.clone());
        let text = strip_xml_comments(&raw);
        let pdir = pom
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string());
        pom_dirs.push(pdir.clone());
        for needle in ["${env.", "<systemPath>", "file:"] {
            if text.contains(needle) {
                problems.push(format!(
                    "{pom} uses `{needle}`, which reads outside the POMs"
                ));
            }
        }
        if follow_modules {
            for m in xml_values(&text, "module") {
                let target = if m.ends_with(".xml") {
                    ctx_join(&pdir, m)
                } else {
                    ctx_join(&pdir, &format!("{m}/pom.xml"))
                };
                match target {
                    Some(t) => queue.push((t, true)),
                    None => {
                        problems.push(format!("{pom} names a module outside the build context"))
                    }
                }
            }
        }
        for parent in xml_values(&text, "parent") {
            let rel = xml_values(parent, "relativePath")
                .first()
                .map_or("../pom.xml".to_string(), |r| r.to_string());
            if parent.contains("<relativePath/>") || rel.is_empty() {
                continue;
            }
            let rel = if rel.ends_with(".xml") {
                rel
            } else {
                format!("{}/pom.xml", rel.trim_end_matches('/'))
            };
            if let Some(t) = ctx_join(&pdir, &rel) {
                queue.push((t, false));
            }
        }
        for tag in ["exists", "missing"] {
            for v in xml_values(&text, tag) {
                let v = v
                    .trim_start_matches("${project.basedir}/")
                    .trim_start_matches("${basedir}/");
                if v.contains('$') || v.starts_with('/') {
                    problems.push(format!(
                        "{pom} activates a profile by the file `{v}`, which cannot be resolved"
                    ));
                } else {
                    activation.push(v.to_string());
                }
            }
        }
    }
    // Profiles are inherited: a file test applies in every module.
    for a in &activation {
        for d in &pom_dirs {
            if let Some(t) = ctx_join(d, a)
                && ctx.ships(&t)
                && !files.contains(&t)
            {
                files.push(t);
            }
        }
    }
    if let Some(all) = ctx.files() {
        let mvn = ctx_join(dir, ".mvn").unwrap_or_default();
        let prefix = format!("{mvn}/");
        files.extend(all.keys().filter(|f| f.starts_with(&prefix)).cloned());
    }
    if ctx.unknown_dirs().iter().any(|d| {
        pom_dirs
            .iter()
            .any(|p| p == d || p.starts_with(&format!("{d}/")))
    }) {
        problems.push("a Maven module lies in a submodule, whose contents are not known".into());
    }
    files.sort();
    files.dedup();
    (files, problems)
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
