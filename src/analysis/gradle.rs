//! What a Gradle build reads before it builds anything (`gradle
//! dependencies` and other resolve-only tasks): the settings, the build
//! scripts of the root project and of every project the settings include,
//! `gradle.properties` files, `gradle/` (wrapper, version catalogs), the
//! `gradlew` script and `buildSrc/` (code, compiled before configuration).
//!
//! Guarantee: when [`GradleBuild::problems`] is empty, [`GradleBuild::files`]
//! holds every context file the configuration phase reads: every `include`
//! names its projects with string literals (`include 'a', ':b:c'`,
//! `include("a")`), no project directory or build file is moved, no other
//! build is included, and no script applies another script, opens a file,
//! walks a directory or starts a process. Anything else is a problem (a
//! reason the hoist is not `Safe`).

use super::context::Context;

/// The inputs of a Gradle build whose root is a context directory.
#[derive(Debug, Default, Clone)]
pub(crate) struct GradleBuild {
    /// Every context file it reads (sorted, no duplicates).
    pub files: Vec<String>,
    pub problems: Vec<String>,
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn parent(p: &str) -> Option<String> {
    if p.is_empty() {
        return None;
    }
    Some(
        p.rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string()),
    )
}

/// Script text without `//` and `/* */` comments (string contents are
/// kept; a `//` inside a string literal is rare in settings and build
/// scripts, and cutting it only hides a literal, never a call).
fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(k) = rest.find("/*") {
        out.push_str(&rest[..k]);
        match rest[k..].find("*/") {
            Some(e) => rest = &rest[k + e + 2..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.lines()
        .map(|l| match l.find("//") {
            Some(k) if !l[..k].ends_with(':') => &l[..k],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// Positions just after each use of the identifier `name` as a whole word.
fn word_uses<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(name).filter_map(move |(k, _)| {
        let before = text[..k].chars().next_back();
        let after = text[k + name.len()..].chars().next();
        let whole =
            !before.is_some_and(|c| is_ident(c) || c == '.') && !after.is_some_and(is_ident);
        whole.then_some(k + name.len())
    })
}

/// The projects of one `include` (the text after the word): string
/// literals separated by commas, in parentheses or not, up to the end of
/// the line or the closing parenthesis. `None` when anything else is there.
fn include_args(rest: &str) -> Option<Vec<String>> {
    let t = rest.trim_start_matches([' ', '\t']);
    let (body, _) = if let Some(inner) = t.strip_prefix('(') {
        let close = inner.find(')')?;
        (&inner[..close], ())
    } else {
        (t.split('\n').next().unwrap_or(""), ())
    };
    let mut out = Vec::new();
    for part in body.split(',') {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        let q = p.chars().next()?;
        if !(q == '"' || q == '\'') || p.len() < 2 || !p.ends_with(q) {
            return None;
        }
        let s = &p[1..p.len() - 1];
        if s.contains(['$', '"', '\'']) || s.is_empty() {
            return None;
        }
        out.push(s.to_string());
    }
    (!out.is_empty()).then_some(out)
}

/// Calls that make a settings or build script read beyond the files
/// listed, or start a process.
const READING_CALLS: &[&str] = &[
    "file",
    "files",
    "fileTree",
    "File",
    "FileInputStream",
    "FileReader",
    "readText",
    "readLines",
    "readBytes",
    "listFiles",
    "eachFile",
    "eachDir",
    "exec",
    "javaexec",
    "ProcessBuilder",
    "execute",
    "includeBuild",
    "includeFlat",
    "project",
    // Gradle's provider and file APIs and the JDK's, qualified or not
    // (`project.file('VERSION').text`,
    // `providers.fileContents(layout.projectDirectory.file("VERSION"))`,
    // `java.nio.file.Files.readString(Path.of("VERSION"))`,
    // `resources.text.fromFile("VERSION")`): measured with Gradle 4.4.1,
    // `version = project.file('VERSION').text` made the hoisted `gradle
    // dependencies` fail (no VERSION).
    "fileContents",
    "fromFile",
    "readString",
    "readAllLines",
    "readAllBytes",
    "newInputStream",
    "newBufferedReader",
    "withReader",
    "withInputStream",
    "eachLine",
    "uri",
    "toFile",
];

/// Words that hand a script a file or a directory to read without a call
/// named above (`layout.projectDirectory`, `java.nio.file.Files`,
/// `Paths.get`, `.asFile`).
const READING_WORDS: &[&str] = &[
    "layout",
    "projectDirectory",
    "settingsDirectory",
    "rootDirectory",
    "asFile",
    "Files",
    "Paths",
    "Path",
];

/// Positions just after each use of the identifier `name` as a whole
/// word, qualified (`project.file`) or not.
fn qualified_uses<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(name).filter_map(move |(k, _)| {
        let before = text[..k].chars().next_back();
        let after = text[k + name.len()..].chars().next();
        let whole = !before.is_some_and(is_ident) && !after.is_some_and(is_ident);
        whole.then_some(k + name.len())
    })
}

/// The body of each `plugins { … }` block of a script (braces counted;
/// a brace inside a string literal is rare there).
fn plugins_blocks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for k in word_uses(text, "plugins") {
        let rest = text[k..].trim_start();
        let Some(body) = rest.strip_prefix('{') else {
            continue;
        };
        let mut depth = 1usize;
        let mut end = body.len();
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push(&body[..end]);
    }
    out
}

/// A string literal at the start of `t` (after blanks and an opening
/// parenthesis), quoted with `'` or `"`.
fn leading_literal(t: &str) -> Option<&str> {
    let t = t.trim_start_matches([' ', '\t', '(']);
    let q = t.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &t[1..];
    body.find(q).map(|e| &body[..e])
}

/// Whether a plugin id is one of Gradle's own (`java`, `application`,
/// `org.gradle.jacoco`): core plugin ids have no dot, or are in the
/// `org.gradle` namespace.
fn gradle_own_plugin(id: &str) -> bool {
    !id.contains('.') || id.starts_with("org.gradle.")
}

/// The plugins from outside Gradle's distribution a script applies: ids
/// with a namespace in a `plugins` block (`id 'com.palantir.git-version'`,
/// `id("…") version "…"`), `kotlin("jvm")`, a version catalog `alias(…)`,
/// `apply plugin: 'x.y'` (or `apply(plugin = "x.y")`), and a
/// `buildscript` classpath. Their code runs while Gradle configures the
/// build.
fn external_plugins(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for block in plugins_blocks(text) {
        for k in word_uses(block, "id") {
            if let Some(id) = leading_literal(&block[k..])
                && !gradle_own_plugin(id)
            {
                out.push(id.to_string());
            }
        }
        for k in word_uses(block, "kotlin") {
            if let Some(x) = leading_literal(&block[k..]) {
                out.push(format!("org.jetbrains.kotlin.{x}"));
            }
        }
        for k in word_uses(block, "alias") {
            let arg = block[k..].trim_start();
            if arg.starts_with('(') {
                let close = arg.find(')').unwrap_or(arg.len());
                out.push(format!("alias{}", &arg[..(close + 1).min(arg.len())]));
            }
        }
    }
    for k in word_uses(text, "apply") {
        let t = text[k..].trim_start_matches([' ', '\t', '(']);
        if let Some(after) = t.strip_prefix("plugin") {
            let after = after.trim_start_matches([' ', '\t', ':', '=']);
            if let Some(id) = leading_literal(after)
                && !gradle_own_plugin(id)
            {
                out.push(id.to_string());
            }
        }
    }
    if word_uses(text, "buildscript").next().is_some()
        && word_uses(text, "classpath").next().is_some()
    {
        out.push("a `buildscript` classpath".to_string());
    }
    out
}

/// What in a script makes configuration read beyond the listed files.
fn script_problems(file: &str, text: &str, problems: &mut Vec<String>) {
    if text.contains("apply from") || text.contains("apply(from") {
        problems.push(format!(
            "{file} applies another script, which is not followed"
        ));
    }
    for call in READING_CALLS {
        // `project(":x")` names a project; a qualified `x.project(…)` is
        // left to the unqualified check as before.
        let uses: Vec<usize> = if *call == "project" {
            word_uses(text, call).collect()
        } else {
            qualified_uses(text, call).collect()
        };
        let used = uses.into_iter().any(|k| {
            let after = text[k..].trim_start_matches([' ', '\t']);
            after.starts_with('(') || after.starts_with('{') || after.starts_with(['"', '\''])
        });
        if used && !(*call == "project" && file_is_build_script(file)) {
            problems.push(format!(
                "{file} calls `{call}`, which may read other files or change where projects are"
            ));
        }
    }
    for prop in [
        "projectDir",
        "buildFileName",
        "buildFile",
        "rootDir",
        "settingsDir",
    ]
    .iter()
    .chain(READING_WORDS)
    {
        if qualified_uses(text, prop).next().is_some() {
            problems.push(format!(
                "{file} uses `{prop}`, which may move projects or read other files"
            ));
        }
    }
}

/// What a build or init script named by an option (`-b`, `-I`) reads
/// beyond itself, as [`script_problems`] finds it.
pub(crate) fn named_script_problems(file: &str, raw: &str) -> Vec<String> {
    let mut problems = Vec::new();
    script_problems(file, &strip_comments(raw), &mut problems);
    problems
}

/// Build scripts name other projects with `project(":x")` for
/// dependencies: no file is read by that.
fn file_is_build_script(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.starts_with("build.gradle")
}

/// The git repository (`.git`, a directory or a gitfile) the context
/// ships in directory `dir` or one above it, where git and JGit look for
/// it from `dir`.
fn shipped_repository(all: &std::collections::BTreeMap<String, u64>, dir: &str) -> Option<String> {
    let mut d = Some(dir.to_string());
    while let Some(cur) = d {
        let git = join(&cur, ".git");
        let below = format!("{git}/");
        if all.contains_key(&git)
            || all
                .range(below.clone()..)
                .next()
                .is_some_and(|(k, _)| k.starts_with(&below))
        {
            return Some(git);
        }
        d = parent(&cur);
    }
    None
}

/// The inputs of the Gradle build run in context directory `dir`.
pub(crate) fn gradle_build(ctx: &Context, dir: &str) -> GradleBuild {
    let mut b = GradleBuild::default();
    let Some(all) = ctx.files() else {
        b.problems.push("the build context cannot be listed".into());
        return b;
    };
    let settings: Vec<String> = ["settings.gradle", "settings.gradle.kts"]
        .iter()
        .map(|n| join(dir, n))
        .filter(|p| all.contains_key(p))
        .collect();
    if settings.is_empty() {
        // Gradle looks for the settings in the parent directories.
        let mut up = parent(dir);
        while let Some(u) = up {
            for n in ["settings.gradle", "settings.gradle.kts"] {
                if all.contains_key(&join(&u, n)) {
                    b.problems.push(format!(
                        "there is no settings file in `{dir}`, so Gradle may use `{}`, whose build is not followed",
                        join(&u, n)
                    ));
                }
            }
            up = parent(&u);
        }
    }
    // The plugins from outside Gradle the scripts apply, with their file.
    let mut external: Vec<(String, String)> = Vec::new();
    let mut project_dirs = vec![dir.to_string()];
    for s in &settings {
        let Some(raw) = ctx.read(s) else {
            b.problems.push(format!("{s} cannot be read"));
            continue;
        };
        let text = strip_comments(&raw);
        script_problems(s, &text, &mut b.problems);
        external.extend(external_plugins(&text).into_iter().map(|p| (s.clone(), p)));
        for k in word_uses(&text, "include") {
            match include_args(&text[k..]) {
                Some(projects) => {
                    for p in projects {
                        let rel = p.trim_start_matches(':').replace(':', "/");
                        if rel.is_empty() || rel.split('/').any(|c| c == ".." || c == ".") {
                            b.problems
                                .push(format!("{s} includes `{p}`, which is not understood"));
                        } else {
                            project_dirs.push(join(dir, &rel));
                        }
                    }
                }
                None => b.problems.push(format!(
                    "{s} includes projects whose names are computed, so their build files are not known"
                )),
            }
        }
        b.files.push(s.clone());
    }
    for pd in &project_dirs {
        for n in ["build.gradle", "build.gradle.kts", "gradle.properties"] {
            let f = join(pd, n);
            if !all.contains_key(&f) {
                continue;
            }
            match (n, ctx.read(&f)) {
                ("gradle.properties", Some(raw)) => properties_problems(&f, &raw, &mut b.problems),
                (_, Some(raw)) => {
                    let text = strip_comments(&raw);
                    script_problems(&f, &text, &mut b.problems);
                    external.extend(external_plugins(&text).into_iter().map(|p| (f.clone(), p)));
                }
                (_, None) => b.problems.push(format!("{f} cannot be read")),
            }
            b.files.push(f);
        }
    }
    // The wrapper, version catalogs and buildSrc: every file.
    for sub in ["gradle", "buildSrc"] {
        let prefix = format!("{}/", join(dir, sub));
        b.files
            .extend(all.keys().filter(|f| f.starts_with(&prefix)).cloned());
    }
    // buildSrc/ is a build of its own that Gradle compiles and whose
    // plugins run while it configures the project: its scripts (build and
    // settings scripts, precompiled script plugins) are read as the
    // project's are; plugin classes (Java, Groovy, Kotlin, Scala) may read
    // any file. Measured with Gradle 4.4.1: a buildSrc plugin setting
    // `project.version` from `project.file('VERSION').text` made the
    // hoisted `gradle dependencies` fail.
    let build_src = format!("{}/", join(dir, "buildSrc"));
    for f in all.keys().filter(|f| f.starts_with(&build_src)) {
        let name = f.rsplit('/').next().unwrap_or(f);
        if name.ends_with(".gradle") || name.ends_with(".gradle.kts") {
            match ctx.read(f) {
                Some(raw) => {
                    let text = strip_comments(&raw);
                    script_problems(f, &text, &mut b.problems);
                    external.extend(external_plugins(&text).into_iter().map(|p| (f.clone(), p)));
                }
                None => b.problems.push(format!("{f} cannot be read")),
            }
        } else if name == "gradle.properties" {
            match ctx.read(f) {
                Some(raw) => properties_problems(f, &raw, &mut b.problems),
                None => b.problems.push(format!("{f} cannot be read")),
            }
        } else if [".java", ".groovy", ".kt", ".kts", ".scala"]
            .iter()
            .any(|x| name.ends_with(x))
        {
            b.problems.push(format!(
                "{f} is plugin code Gradle runs while it configures the build, which may read any file"
            ));
        }
    }
    // A plugin from outside Gradle runs its code while Gradle configures
    // the build, and the plugins that version a project from git
    // (com.palantir.git-version, axion-release, grgit, jgitver) read the
    // repository found from the project directory upward, axion-release
    // and grgit with JGit, so a base image without git does not help:
    // above the copy that ships it, `version = gitVersion()` finds no
    // `.git` and the build fails (scout71; by the plugins' documented
    // behaviour, not measured: no Gradle plugin portal here).
    if let Some((f, id)) = external.first()
        && let Some(git) = shipped_repository(all, dir)
    {
        b.problems.push(format!(
            "{f} applies `{id}`, a plugin from outside Gradle whose code runs while it configures the build and may read the git repository the copy ships (`{git}`: plugins that version a project from git read it, some with JGit and no git program; adding `.git` to {} would make it safe)",
            ctx.ignore_file_name()
        ));
    }
    let wrapper = join(dir, "gradlew");
    if all.contains_key(&wrapper) {
        b.files.push(wrapper);
    }
    wrapper_url_problems(
        ctx,
        &join(dir, "gradle/wrapper/gradle-wrapper.properties"),
        &mut b.problems,
    );
    if ctx.unknown_dirs().iter().any(|u| {
        project_dirs
            .iter()
            .any(|d| d == u || d.starts_with(&format!("{u}/")))
    }) {
        b.problems
            .push("a Gradle project lies in a submodule, whose contents are not known".into());
    }
    b.files.sort();
    b.files.dedup();
    b
}

/// Gradle's own settings in a `gradle.properties` that may name a file
/// the hoist does not copy (Gradle docs, "Build Environment"): the JVM
/// arguments of the daemon (`org.gradle.jvmargs`), system properties
/// (`systemProp.javax.net.ssl.trustStore=certs/t.jks`) and `org.gradle.*`
/// settings other than switches (`org.gradle.java.home`,
/// `org.gradle.projectcachedir`). Only values known to name no file pass
/// (the same words as Maven's `.mvn/jvm.config`); project properties
/// (`version=1.0`) are the scripts', which open no file.
fn properties_problems(file: &str, raw: &str, problems: &mut Vec<String>) {
    const SWITCHES: &[&str] = &[
        "org.gradle.caching",
        "org.gradle.caching.debug",
        "org.gradle.parallel",
        "org.gradle.daemon",
        "org.gradle.configureondemand",
        "org.gradle.configuration-cache",
        "org.gradle.configuration-cache.problems",
        "org.gradle.unsafe.configuration-cache",
        "org.gradle.unsafe.configuration-cache-problems",
        "org.gradle.console",
        "org.gradle.logging.level",
        "org.gradle.logging.stacktrace",
        "org.gradle.warning.mode",
        "org.gradle.workers.max",
        "org.gradle.vfs.watch",
        "org.gradle.vfs.verbose",
        "org.gradle.priority",
        "org.gradle.welcome",
        "org.gradle.daemon.idletimeout",
        "org.gradle.dependency.verification",
    ];
    let plain = |v: &str| {
        v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:+".contains(c))
    };
    // Logical lines: a line ending in a backslash continues.
    let mut lines: Vec<String> = Vec::new();
    let mut pending = String::new();
    for line in raw.lines() {
        let t = line.trim_start();
        if pending.is_empty() && (t.starts_with('#') || t.starts_with('!')) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(t);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    if !pending.is_empty() {
        lines.push(pending);
    }
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let cut = line.find(['=', ':']).unwrap_or(line.len());
        let key = line[..cut].trim();
        let value = line.get(cut + 1..).unwrap_or("").trim();
        let known = if key == "org.gradle.jvmargs" {
            super::manifests::maven_config_unknown_word(value, true).is_none()
        } else if let Some(prop) = key.strip_prefix("systemProp.") {
            super::manifests::maven_config_unknown_word(&format!("-D{prop}={value}"), true)
                .is_none()
        } else if key.starts_with("org.gradle.") {
            SWITCHES.contains(&key) && plain(value)
        } else {
            true
        };
        if !known {
            problems.push(format!("{file} sets `{key}`, which may name a file"));
        }
    }
}

/// A wrapper's properties file (`gradle/wrapper/gradle-wrapper.properties`,
/// `.mvn/wrapper/maven-wrapper.properties`) naming its distribution or
/// its own jar by anything but an `http(s)` URL: one with no scheme is a
/// file beside the properties file, a `file:` URL any file (both
/// wrappers' `prepareDistributionUri`), neither copied with the
/// manifests when it lies elsewhere. A problem for each, and for a file
/// that cannot be read.
pub(crate) fn wrapper_url_problems(ctx: &Context, props: &str, out: &mut Vec<String>) {
    if !ctx.ships(props) {
        return;
    }
    let Some(text) = ctx.read(props) else {
        out.push(format!("{props} cannot be read"));
        return;
    };
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with(['#', '!']) {
            continue;
        }
        let Some(k) = line.find(['=', ':', ' ', '\t']) else {
            continue;
        };
        let key = &line[..k];
        if !matches!(key, "distributionUrl" | "wrapperUrl") {
            continue;
        }
        let value = line[k..]
            .trim_start_matches([' ', '\t'])
            .trim_start_matches(['=', ':'])
            .trim()
            .replace("\\:", ":")
            .replace("\\=", "=");
        let lower = value.to_ascii_lowercase();
        let remote = (lower.starts_with("https://") || lower.starts_with("http://"))
            && !value.ends_with('\\');
        if !remote {
            out.push(format!(
                "{props} names `{value}` for `{key}`, which may be a file the wrapper reads from the image"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_includes_are_read() {
        assert_eq!(
            include_args(" 'core', ':web:api'\nrootProject.name = 'x'"),
            Some(vec!["core".to_string(), ":web:api".to_string()])
        );
        assert_eq!(
            include_args("(\"app\", \"lib\")"),
            Some(vec!["app".to_string(), "lib".to_string()])
        );
        assert_eq!(include_args("(modules)"), None);
        assert_eq!(include_args(" \"mod-$name\""), None);
    }

    #[test]
    fn reading_calls_are_problems() {
        let mut p = Vec::new();
        script_problems(
            "settings.gradle",
            "rootDir.eachDir { include it.name }",
            &mut p,
        );
        assert!(!p.is_empty());
        let mut p = Vec::new();
        script_problems(
            "build.gradle",
            "dependencies { implementation project(':core')\n implementation 'a:b:1' }",
            &mut p,
        );
        assert!(p.is_empty(), "{p:?}");
        let mut p = Vec::new();
        script_problems("build.gradle", "version = file('VERSION').text", &mut p);
        assert_eq!(p.len(), 1, "{p:?}");
    }
}
