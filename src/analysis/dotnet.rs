//! What `dotnet restore` reads from the build context: the projects it
//! restores and everything MSBuild and NuGet load while restoring them.
//!
//! Guarantee: when [`Restore::problems`] is empty, [`Restore::files`] holds
//! every context file a restore in that directory reads (the solution or
//! project named or found there, every project reached by
//! `<ProjectReference>`, the `Directory.Build.*`, `Directory.Packages.props`,
//! `Directory.Build.rsp`, NuGet configuration and `global.json` files of
//! their directories and every parent up to the context root, lock files,
//! `packages.config` and `.user` files), and nothing in those files makes it
//! read more: no `<Import>` other than an SDK's, no file test (`Exists`), no
//! property function that looks at the file system (`System.IO`,
//! `Get…OfFileAbove`), no reference whose path needs a property or a
//! wildcard, no property that moves restore's outputs or adds local package
//! sources, no local package source in a NuGet configuration. Anything
//! else is a problem (a reason the hoist is not `Safe`); files are then an
//! over-approximation where they could be listed.

use super::context::Context;
use super::manifests::{ctx_join, strip_xml_comments};

/// The inputs of one `dotnet restore`, as context paths.
#[derive(Debug, Default, Clone)]
pub(crate) struct Restore {
    /// Every context file it reads (sorted, no duplicates).
    pub files: Vec<String>,
    /// The context directories of the projects it restores (their `obj/`
    /// is written, their `packages.lock.json` may be).
    pub project_dirs: Vec<String>,
    /// Directories whose MSBuild and NuGet files it looks up (the project,
    /// solution and working directories and all their parents).
    pub lookup_dirs: Vec<String>,
    pub problems: Vec<String>,
}

/// File names MSBuild and NuGet look up in a project's directory and each
/// of its parents (NuGet's configuration in any case: see [`is_nuget_config`]).
pub(crate) const LOOKUP_NAMES: &[&str] = &[
    "Directory.Build.props",
    "Directory.Build.targets",
    "Directory.Packages.props",
    "Directory.Build.rsp",
    "Directory.Solution.props",
    "Directory.Solution.targets",
    "global.json",
    "NuGet.config",
    "nuget.config",
    "NuGet.Config",
];

const PROJECT_EXTS: &[&str] = &[".csproj", ".fsproj", ".vbproj", ".proj"];
const SOLUTION_EXTS: &[&str] = &[".sln", ".slnx", ".slnf"];

/// NuGet reads `nuget.config` in any letter case on Linux.
pub(crate) fn is_nuget_config(name: &str) -> bool {
    name.eq_ignore_ascii_case("nuget.config")
}

fn is_project(p: &str) -> bool {
    PROJECT_EXTS.iter().any(|e| p.ends_with(e))
}

fn is_solution(p: &str) -> bool {
    SOLUTION_EXTS.iter().any(|e| p.ends_with(e))
}

/// `dir/rel` normalised, with MSBuild's backslashes (an absolute `rel`
/// from the context root); `None` when it leaves the context.
fn join(dir: &str, rel: &str) -> Option<String> {
    let rel = rel.replace('\\', "/");
    let dir = if rel.starts_with('/') { "" } else { dir };
    ctx_join(dir, &rel)
}

fn parent(p: &str) -> String {
    p.rsplit_once('/')
        .map_or(String::new(), |(d, _)| d.to_string())
}

/// The inputs of `dotnet restore` run in context directory `dir` with the
/// project, solution or directory arguments `args` (relative to `dir`);
/// `properties`: MSBuild properties were given on the command line.
pub(crate) fn restore_inputs(
    ctx: &Context,
    dir: &str,
    args: &[String],
    properties: bool,
) -> Restore {
    let mut r = Restore::default();
    if properties {
        r.problems.push(
            "`dotnet restore` is given MSBuild properties, which may change what it reads and where it writes"
                .into(),
        );
    }
    let Some(all) = ctx.files() else {
        r.problems.push("the build context cannot be listed".into());
        return r;
    };
    let mut queue = entry_points(all, dir, args, &mut r.problems);
    r.lookup_dirs.push(dir.to_string());
    let mut seen: Vec<String> = Vec::new();
    while let Some(f) = queue.pop() {
        if seen.contains(&f) {
            continue;
        }
        seen.push(f.clone());
        if !all.contains_key(&f) {
            r.problems
                .push(format!("the project `{f}` is not in the build context"));
            continue;
        }
        let Some(text) = ctx.read(&f) else {
            r.problems.push(format!("{f} cannot be read"));
            continue;
        };
        r.files.push(f.clone());
        let fdir = parent(&f);
        r.lookup_dirs.push(fdir.clone());
        if is_solution(&f) {
            queue.extend(solution_projects(&f, &text, &mut r.problems));
        } else {
            r.project_dirs.push(fdir.clone());
            queue.extend(msbuild_problems(&f, &text, &mut r.problems));
            for extra in [
                format!("{f}.user"),
                join(&fdir, "packages.lock.json").unwrap_or_default(),
                join(&fdir, "packages.config").unwrap_or_default(),
            ] {
                if all.contains_key(&extra) {
                    r.files.push(extra);
                }
            }
        }
    }
    lookup_files(ctx, &mut r, &mut queue);
    if ctx.unknown_dirs().iter().any(|u| {
        r.lookup_dirs
            .iter()
            .any(|d| d == u || d.starts_with(&format!("{u}/")))
    }) {
        r.problems
            .push("a project lies in a submodule, whose contents are not known".into());
    }
    r.files.sort();
    r.files.dedup();
    r.project_dirs.sort();
    r.project_dirs.dedup();
    r
}

/// The projects and solutions restore starts from: the arguments (a file,
/// or a directory holding one), or what the working directory holds. Every
/// candidate is taken when there are several (MSBuild would pick one or
/// fail; reading more is safe).
fn entry_points(
    all: &std::collections::BTreeMap<String, u64>,
    dir: &str,
    args: &[String],
    problems: &mut Vec<String>,
) -> Vec<String> {
    let in_dir = |d: &str| -> Vec<String> {
        let prefix = if d.is_empty() {
            String::new()
        } else {
            format!("{d}/")
        };
        all.keys()
            .filter_map(|k| {
                let name = k.strip_prefix(&prefix)?;
                (!name.contains('/') && (is_project(name) || is_solution(name))).then(|| k.clone())
            })
            .collect()
    };
    let mut out = Vec::new();
    if args.is_empty() {
        out = in_dir(dir);
        if out.is_empty() {
            problems.push(format!(
                "no project or solution file in `{}` is shipped",
                if dir.is_empty() { "." } else { dir }
            ));
        }
        return out;
    }
    for a in args {
        if a.contains(['$', '*', '?', '%']) {
            problems.push(format!("the restore argument `{a}` cannot be resolved"));
            continue;
        }
        let Some(p) = join(dir, a) else {
            problems.push(format!(
                "the restore argument `{a}` leaves the build context"
            ));
            continue;
        };
        if is_project(&p) || is_solution(&p) {
            out.push(p);
        } else {
            let found = in_dir(&p);
            if found.is_empty() {
                problems.push(format!("no project or solution file in `{a}` is shipped"));
            }
            out.extend(found);
        }
    }
    out
}

/// The projects a solution lists (`.sln` lines `Project(...) = "Name",
/// "path", ...`, `.slnx` and `.slnf` project paths), as context paths.
fn solution_projects(sln: &str, text: &str, problems: &mut Vec<String>) -> Vec<String> {
    let dir = parent(sln);
    let mut out = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    if sln.ends_with(".sln") {
        for line in text.lines() {
            let l = line.trim();
            if !l.starts_with("Project(") {
                continue;
            }
            let fields: Vec<&str> = l.split('"').collect();
            // Project("{type}") = "Name", "path", "{guid}"
            if let Some(p) = fields.get(5) {
                paths.push(p.to_string());
            }
        }
    } else {
        // slnx: <Project Path="..."/>; slnf: "projects": ["..."].
        for (k, _) in text.match_indices("Path=\"") {
            if let Some(v) = text[k + 6..].split('"').next() {
                paths.push(v.to_string());
            }
        }
        if sln.ends_with(".slnf") {
            problems.push(format!("{sln} is a solution filter, which is not followed"));
        }
    }
    for p in paths {
        if !is_project(&p.replace('\\', "/")) {
            // A solution folder or solution item: not restored.
            continue;
        }
        if p.contains(['$', '*', '%']) {
            problems.push(format!(
                "{sln} lists the project `{p}`, which cannot be resolved"
            ));
            continue;
        }
        match join(&dir, &p) {
            Some(t) => out.push(t),
            None => problems.push(format!(
                "{sln} lists the project `{p}`, which is outside the build context"
            )),
        }
    }
    out
}

/// The values of attribute `attr` in every `<tag ...>` element.
fn attr_values<'a>(text: &'a str, tag: &str, attr: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    let mut out = Vec::new();
    for (k, _) in text.match_indices(&open) {
        let rest = &text[k + open.len()..];
        if !rest.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
            continue;
        }
        let elem = rest.split('>').next().unwrap_or("");
        for quote in ['"', '\''] {
            let key = format!("{attr}={quote}");
            if let Some(s) = elem.find(&key) {
                let v = &elem[s + key.len()..];
                if let Some(e) = v.find(quote) {
                    out.push(&v[..e]);
                }
            }
        }
    }
    out
}

/// Properties that move restore's outputs or add inputs (local package
/// sources, other configuration files, other lock file paths).
const REDIRECTING: &[&str] = &[
    "BaseIntermediateOutputPath",
    "MSBuildProjectExtensionsPath",
    "RestoreOutputPath",
    "RestorePackagesPath",
    "RestoreConfigFile",
    "RestoreSources",
    "RestoreAdditionalProjectSources",
    "RestoreFallbackFolders",
    "RestoreAdditionalProjectFallbackFolders",
    "NuGetLockFilePath",
    "RestoreRootConfigDirectory",
    "DirectoryBuildPropsPath",
    "DirectoryBuildTargetsPath",
    "DirectoryPackagesPropsPath",
    "CustomBeforeMicrosoftCommonProps",
    "CustomAfterMicrosoftCommonProps",
    "CustomBeforeMicrosoftCommonTargets",
    "CustomAfterMicrosoftCommonTargets",
];

/// What in an MSBuild file (`file`, text `raw`) makes restore read beyond
/// the files [`restore_inputs`] lists (pushed to `problems`); returns the
/// projects it references (context paths).
fn msbuild_problems(file: &str, raw: &str, problems: &mut Vec<String>) -> Vec<String> {
    let text = strip_xml_comments(raw);
    let dir = parent(file);
    let mut refs = Vec::new();
    for (k, _) in text.match_indices("<Import") {
        let elem = text[k..].split('>').next().unwrap_or("");
        let is_group = text[k + 7..].starts_with("Group");
        if is_group {
            continue;
        }
        if !elem.contains("Sdk=") {
            let what = attr_values(elem, "Import", "Project")
                .first()
                .map_or(String::new(), |p| format!(" `{p}`"));
            problems.push(format!(
                "{file} imports{what}, which restore reads and which is not followed"
            ));
        }
    }
    // Property functions are pure (`$([MSBuild]::IsOSPlatform(...))`)
    // except those that look at the file system.
    for needle in [
        "Exists(",
        "[System.IO.",
        "$(MSBuildThisFileDirectory)..",
        "GetPathOfFileAbove",
        "GetDirectoryNameOfFileAbove",
    ] {
        if text.contains(needle) {
            problems.push(format!(
                "{file} uses `{needle}`, which makes MSBuild look at other files"
            ));
        }
    }
    for p in REDIRECTING {
        if text.contains(&format!("<{p}")) {
            problems.push(format!(
                "{file} sets `{p}`, which changes what restore reads or where it writes"
            ));
        }
    }
    for inc in attr_values(&text, "ProjectReference", "Include") {
        for one in inc.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            if one.contains(['$', '*', '?', '%', '@']) {
                problems.push(format!(
                    "{file} references the project `{one}`, whose path cannot be resolved"
                ));
                continue;
            }
            match join(&dir, one) {
                Some(t) => refs.push(t),
                None => problems.push(format!(
                    "{file} references the project `{one}`, which is outside the build context"
                )),
            }
        }
    }
    if text.contains("<ProjectReference")
        && attr_values(&text, "ProjectReference", "Include").is_empty()
    {
        problems.push(format!(
            "{file} has a project reference that is not understood"
        ));
    }
    refs
}

/// The MSBuild and NuGet files of every looked-up directory and its
/// parents up to the context root; MSBuild files among them are checked
/// like projects (their references queued), NuGet configurations for
/// local sources.
fn lookup_files(ctx: &Context, r: &mut Restore, queue: &mut Vec<String>) {
    let mut dirs: Vec<String> = Vec::new();
    for d in &r.lookup_dirs {
        let mut cur = Some(d.clone());
        while let Some(c) = cur {
            if !dirs.contains(&c) {
                dirs.push(c.clone());
            }
            cur = if c.is_empty() { None } else { Some(parent(&c)) };
        }
    }
    let Some(all) = ctx.files() else { return };
    for d in &dirs {
        let prefix = if d.is_empty() {
            String::new()
        } else {
            format!("{d}/")
        };
        let found: Vec<String> = all
            .keys()
            .filter(|k| {
                k.strip_prefix(&prefix).is_some_and(|name| {
                    !name.contains('/')
                        && (LOOKUP_NAMES.contains(&name)
                            || is_nuget_config(name)
                            || name.starts_with("before.") && name.ends_with(".sln.targets")
                            || name.starts_with("after.") && name.ends_with(".sln.targets"))
                })
            })
            .cloned()
            .collect();
        for f in found {
            let name = f.rsplit('/').next().unwrap_or(&f).to_string();
            let text = ctx.read(&f);
            match (&text, name.as_str()) {
                (None, _) => r.problems.push(format!("{f} cannot be read")),
                (Some(t), n) if is_nuget_config(n) => nuget_config_problems(&f, t, &mut r.problems),
                (Some(_), "global.json" | "Directory.Build.rsp") => {}
                (Some(t), _) => {
                    let refs = msbuild_problems(&f, t, &mut r.problems);
                    if !refs.is_empty() {
                        r.problems.push(format!(
                            "{f} adds project references to every project below it"
                        ));
                    }
                    queue.extend(refs);
                }
            }
            r.files.push(f);
        }
    }
    r.lookup_dirs = dirs;
}

/// A NuGet configuration that adds a local package source, moves the
/// package folders or names other files.
fn nuget_config_problems(file: &str, raw: &str, problems: &mut Vec<String>) {
    let text = strip_xml_comments(raw);
    for (k, _) in text.match_indices("<add") {
        let elem = text[k..].split('>').next().unwrap_or("");
        let key = attr_values(elem, "add", "key")
            .first()
            .map(|s| s.to_string());
        let value = attr_values(elem, "add", "value")
            .first()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let key = key.unwrap_or_default();
        let remote = value.starts_with("https://") || value.starts_with("http://");
        let moves = ["globalPackagesFolder", "repositoryPath", "http_proxy"]
            .iter()
            .any(|m| key.eq_ignore_ascii_case(m));
        if moves
            || (!remote
                && text[..k].contains("<packageSources")
                && !text[..k].contains("</packageSources>"))
        {
            problems.push(format!(
                "{file} sets `{key}` to `{value}`, which restore reads or writes beyond the manifests"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_followed_with_backslashes() {
        let mut p = Vec::new();
        let refs = msbuild_problems(
            "src/Web/Web.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><ItemGroup><ProjectReference Include=\"..\\Core\\Core.csproj\" /></ItemGroup></Project>",
            &mut p,
        );
        assert_eq!(refs, vec!["src/Core/Core.csproj"]);
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn imports_and_computed_references_are_problems() {
        let mut p = Vec::new();
        msbuild_problems(
            "a/A.csproj",
            "<Project><Import Project=\"../build/common.props\" /><ItemGroup><ProjectReference Include=\"$(Root)/B.csproj\" /></ItemGroup></Project>",
            &mut p,
        );
        assert_eq!(p.len(), 2, "{p:?}");
        let mut p = Vec::new();
        msbuild_problems(
            "a/A.csproj",
            "<Project Sdk=\"X\"><Import Project=\"Sdk.props\" Sdk=\"Microsoft.NET.Sdk\" /><!-- <Import Project=\"x\" /> --></Project>",
            &mut p,
        );
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn solutions_list_their_projects() {
        let sln = "Project(\"{FAE04EC0}\") = \"Web\", \"src\\Web\\Web.csproj\", \"{1}\"\nEndProject\nProject(\"{2150E333}\") = \"docs\", \"docs\", \"{2}\"\nEndProject\n";
        let mut p = Vec::new();
        assert_eq!(
            solution_projects("App.sln", sln, &mut p),
            vec!["src/Web/Web.csproj"]
        );
        assert!(p.is_empty());
    }

    #[test]
    fn local_package_sources_are_problems() {
        let mut p = Vec::new();
        nuget_config_problems(
            "NuGet.config",
            "<configuration><packageSources><clear /><add key=\"nuget\" value=\"https://api.nuget.org/v3/index.json\" /><add key=\"local\" value=\"./packages\" /></packageSources></configuration>",
            &mut p,
        );
        assert_eq!(p.len(), 1, "{p:?}");
    }
}
