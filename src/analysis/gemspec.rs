//! What `bundle install` reads through a Gemfile's `gemspec` line: the
//! gemspec (Ruby, evaluated by Bundler) and the files it requires; the
//! file a `ruby file: "…"` or `ruby File.read("…").strip` line reads
//! (`.ruby-version`); and the file an `eval_gemfile "…"` line evaluates
//! (copied; the Gemfile's checks keep such an install `Unsafe`).
//!
//! Guarantee: when [`GemspecInputs::problems`] is empty, `files` holds every
//! context file the evaluation reads, and the gemspec holds only what is
//! understood line by line: comments, `require`/`require_relative` of files
//! the context holds (followed, with the same rules) or does not hold (then
//! loaded from the image), `lib` put on the load path, `Gem::Specification.new
//! do |s|` … `end`, attributes set to literals or constants, dependencies
//! with literal arguments, and `files`/`test_files` computed by `Dir[...]`
//! or `git ls-files` (Bundler does not use them to install). Executables are
//! copied when listed literally (Bundler writes a binstub for each one whose
//! file exists); computed executables, extensions and anything else is a
//! problem. A gemspec that is not understood is still listed, with the
//! version file gems conventionally require (`lib/NAME/version.rb`), so an
//! `Unsafe` hoist copies what it most likely needs.

use super::context::Context;
use super::manifests::ctx_join;

/// The inputs of the gemspecs a Gemfile loads (context paths).
#[derive(Debug, Default, Clone)]
pub(crate) struct GemspecInputs {
    pub files: Vec<String>,
    pub problems: Vec<String>,
}

/// The first string literal in `s` (single or double quotes, no
/// interpolation).
fn literal(s: &str) -> Option<&str> {
    let k = s.find(['"', '\''])?;
    let q = s[k..].chars().next()?;
    let rest = &s[k + 1..];
    let e = rest.find(q)?;
    let v = &rest[..e];
    (!v.contains("#{")).then_some(v)
}

/// The value of a `key: "v"` or `:key => "v"` option in a Gemfile line.
fn option<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    for form in [format!("{key}:"), format!(":{key} =>"), format!(":{key}=>")] {
        if let Some(k) = line.find(&form) {
            return literal(&line[k + form.len()..]);
        }
    }
    None
}

/// The gemspecs and required files a Gemfile (context path `gemfile`,
/// text `text`) makes Bundler read, with the problems found in them.
pub(crate) fn gemfile_gemspecs(ctx: &Context, gemfile: &str, text: &str) -> GemspecInputs {
    let mut g = GemspecInputs::default();
    let dir = gemfile.rsplit_once('/').map_or("", |(d, _)| d);
    let Some(all) = ctx.files() else {
        g.problems.push("the build context cannot be listed".into());
        return g;
    };
    let mut specs: Vec<String> = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        let is_gemspec = l == "gemspec"
            || l.starts_with("gemspec ")
            || l.starts_with("gemspec(")
            || l.starts_with("gemspec\t");
        if is_gemspec {
            if l.contains("glob") || l.contains('#') && l.contains("#{") {
                g.problems
                    .push(format!("{gemfile}: `{l}` is not understood"));
            }
            let Some(sdir) = ctx_join(dir, option(l, "path").unwrap_or(".")) else {
                g.problems.push(format!(
                    "{gemfile}: `{l}` names a directory outside the build context"
                ));
                continue;
            };
            let prefix = if sdir.is_empty() {
                String::new()
            } else {
                format!("{sdir}/")
            };
            let found: Vec<String> = match option(l, "name") {
                Some(n) => vec![format!("{prefix}{n}.gemspec")],
                None => all
                    .keys()
                    .filter(|k| {
                        k.strip_prefix(&prefix)
                            .is_some_and(|n| !n.contains('/') && n.ends_with(".gemspec"))
                    })
                    .cloned()
                    .collect(),
            };
            if found.is_empty() || found.iter().any(|f| !all.contains_key(f)) {
                g.problems.push(format!(
                    "{gemfile}: the gemspec `{l}` loads is not in the build context"
                ));
            }
            specs.extend(found.into_iter().filter(|f| all.contains_key(f)));
        } else if l.starts_with("eval_gemfile") {
            // `eval_gemfile "Gemfile.common"`: Bundler evaluates that file
            // too (relative to the Gemfile's directory). The Gemfile's own
            // checks keep the install `Unsafe` (its code is not followed);
            // a literal name is copied with it.
            match literal(l).and_then(|f| ctx_join(dir, f)) {
                Some(f) if all.contains_key(&f) => g.files.push(f),
                _ => g.problems.push(format!(
                    "{gemfile}: `{l}` evaluates a file that is not understood or not in the build context"
                )),
            }
        } else if l.starts_with("ruby ") || l.starts_with("ruby(") {
            // `ruby file: ".ruby-version"` (Bundler 2.4.20+) reads the file.
            ruby_version_file(all, dir, gemfile, l, &mut g);
        } else if l.contains(".gemspec") {
            // `Bundler.load_gemspec(File.expand_path("x.gemspec", __dir__))`:
            // the Gemfile's own checks report the code; the file is copied.
            if let Some(name) = l
                .split(['"', '\''])
                .find(|p| p.ends_with(".gemspec") && !p.contains('/'))
                && let Some(f) = ctx_join(dir, name)
                && all.contains_key(&f)
            {
                specs.push(f);
            }
        }
    }
    for s in specs {
        gemspec_inputs(ctx, &s, &mut g);
    }
    g.files.sort();
    g.files.dedup();
    g
}

/// The file a Gemfile's `ruby file: "…"` (or `:file =>`) line reads, or
/// its `ruby File.read("…").strip`
/// ([`super::manifests::gemfile_ruby_file_read`]).
fn ruby_version_file(
    all: &std::collections::BTreeMap<String, u64>,
    dir: &str,
    gemfile: &str,
    line: &str,
    g: &mut GemspecInputs,
) {
    // `ruby File.read(".ruby-version").strip` and its `__dir__` forms.
    if let Some(name) = super::manifests::gemfile_ruby_file_read(line) {
        match ctx_join(dir, name) {
            Some(f) if all.contains_key(&f) => g.files.push(f),
            _ => g.problems.push(format!(
                "{gemfile}: `{line}` reads a file that is not in the build context"
            )),
        }
        return;
    }
    if !line.contains("file") {
        return;
    }
    match option(line, "file").and_then(|f| ctx_join(dir, f)) {
        Some(f) if all.contains_key(&f) => g.files.push(f),
        _ => g.problems.push(format!(
            "{gemfile}: `{line}` reads a file that is not understood or not in the build context"
        )),
    }
}

/// One gemspec: it, what it requires, and what in it is not understood.
fn gemspec_inputs(ctx: &Context, spec: &str, g: &mut GemspecInputs) {
    let sdir = spec.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    g.files.push(spec.to_string());
    let Some(text) = ctx.read(spec) else {
        g.problems.push(format!("{spec} cannot be read"));
        return;
    };
    let before = g.problems.len();
    ruby_inputs(ctx, spec, &sdir, &text, g, 0);
    if g.problems.len() > before {
        // Not understood: still copy the version file gems conventionally
        // require, for the Unsafe hoist.
        let name = spec
            .rsplit('/')
            .next()
            .unwrap_or(spec)
            .trim_end_matches(".gemspec");
        if let Some(v) = ctx_join(&sdir, &format!("lib/{name}/version.rb"))
            && ctx.ships(&v)
        {
            g.files.push(v);
        }
    }
}

/// Ruby statements a gemspec may hold (the rest are problems).
fn ruby_inputs(
    ctx: &Context,
    file: &str,
    sdir: &str,
    text: &str,
    g: &mut GemspecInputs,
    depth: usize,
) {
    if depth > 4 {
        g.problems.push(format!("{file} requires too deeply"));
        return;
    }
    let mut lib_on_path = false;
    let mut open: i32 = 0;
    let mut pending = String::new();
    for raw in text.lines() {
        let l = strip_comment(raw.trim());
        if l.is_empty() {
            continue;
        }
        // Join the lines of a bracketed literal (`%w[` … `]`).
        pending.push_str(l);
        pending.push(' ');
        open +=
            l.matches(['[', '(', '{']).count() as i32 - l.matches([']', ')', '}']).count() as i32;
        if open > 0 {
            continue;
        }
        open = 0;
        let stmt = std::mem::take(&mut pending);
        let stmt = stmt.trim();
        match statement(stmt, &mut lib_on_path) {
            Stmt::Plain => {}
            Stmt::Require(name, relative) => {
                let target = if relative {
                    ctx_join(sdir_of(file), &format!("{name}.rb"))
                } else if lib_on_path {
                    ctx_join(sdir, &format!("lib/{name}.rb"))
                } else {
                    None
                };
                match target {
                    Some(t) if ctx.ships(&t) => {
                        if !g.files.contains(&t) {
                            g.files.push(t.clone());
                            match ctx.read(&t) {
                                Some(rt) => ruby_inputs(ctx, &t, sdir, &rt, g, depth + 1),
                                None => g.problems.push(format!("{t} cannot be read")),
                            }
                        }
                    }
                    // Loaded from the image's Ruby, not the context.
                    _ if !relative => {}
                    _ => g.problems.push(format!(
                        "{file} requires `{name}`, which is not in the build context"
                    )),
                }
            }
            Stmt::Executables(list) => {
                for e in list {
                    if let Some(f) = ctx_join(sdir, &format!("{}/{e}", bindir(text)))
                        && ctx.ships(&f)
                    {
                        g.files.push(f);
                    }
                }
            }
            Stmt::Unknown(why) => g.problems.push(format!("{file}: {why}")),
        }
    }
}

fn sdir_of(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The literal `bindir` of a gemspec (default `bin`).
fn bindir(text: &str) -> String {
    text.lines()
        .find(|l| l.contains(".bindir") && l.contains('='))
        .and_then(|l| literal(l.split_once('=').map_or("", |(_, v)| v)))
        .unwrap_or("bin")
        .to_string()
}

enum Stmt {
    Plain,
    Require(String, bool),
    Executables(Vec<String>),
    Unknown(String),
}

/// Whether `v` is a literal value: a string, a symbol, a number, true,
/// false, nil, a constant path, an array of those, `%w[]`/`%i[]`, a
/// `Gem::Requirement.new` or a hash of literals.
fn is_literal(v: &str) -> bool {
    let v = v.trim().trim_end_matches(".freeze").trim();
    if v.is_empty() {
        return false;
    }
    if v.starts_with("%w") || v.starts_with("%i") || v.starts_with("%W") && !v.contains("#{") {
        return !v.contains("#{");
    }
    if let Some(inner) = v.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return inner.trim().is_empty() || split_top(inner).iter().all(|p| is_literal(p));
    }
    if let Some(inner) = v.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
        return split_top(inner).iter().all(|p| {
            let (k, val) = p
                .split_once("=>")
                .or_else(|| p.split_once(": "))
                .unwrap_or(("", p));
            (k.is_empty()
                || is_literal(k)
                || k.trim().chars().all(|c| c.is_alphanumeric() || c == '_'))
                && is_literal(val)
        });
    }
    if let Some(args) = v
        .strip_prefix("Gem::Requirement.new(")
        .and_then(|x| x.strip_suffix(')'))
    {
        return split_top(args).iter().all(|p| is_literal(p));
    }
    let q = v.chars().next().unwrap_or(' ');
    if (q == '"' || q == '\'') && v.ends_with(q) && v.len() >= 2 {
        return !v.contains("#{") && v[1..v.len() - 1].find(q).is_none();
    }
    if let Some(sym) = v.strip_prefix(':') {
        return sym.chars().all(|c| c.is_alphanumeric() || c == '_');
    }
    matches!(v, "true" | "false" | "nil")
        || v.chars().all(|c| c.is_ascii_digit() || c == '.')
        || v.split("::").all(|c| {
            c.chars().next().is_some_and(|f| f.is_ascii_uppercase())
                && c.chars().all(|x| x.is_alphanumeric() || x == '_')
        })
}

/// `s` split at top-level commas.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0usize, None::<char>);
    for (k, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '(' | '{') => depth += 1,
            (None, ']' | ')' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(&s[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// How a gemspec (or required file) statement is understood.
fn statement(stmt: &str, lib_on_path: &mut bool) -> Stmt {
    let s = stmt.trim_end_matches(';').trim();
    let unknown = || Stmt::Unknown(format!("`{}` is not understood", short(s)));
    // Load path: `lib = File.expand_path("lib", __dir__)`, `$LOAD_PATH.unshift(lib)`, `$:.push ...`.
    let sets_lib = s.contains("expand_path")
        && (s.contains("\"lib\"") || s.contains("'lib'") || s.contains("../lib"));
    if s.starts_with("lib = ") && sets_lib {
        return Stmt::Plain;
    }
    if s.starts_with("$LOAD_PATH") || s.starts_with("$:") {
        let arg = s.trim_start_matches("$LOAD_PATH").trim_start_matches("$:");
        let arg = arg.split(" unless ").next().unwrap_or(arg);
        if sets_lib || arg.contains("(lib)") || arg.trim_end().ends_with(" lib") {
            *lib_on_path = true;
            return Stmt::Plain;
        }
        return unknown();
    }
    for (kw, rel) in [("require_relative", true), ("require", false)] {
        if let Some(rest) = s.strip_prefix(kw)
            && rest.starts_with([' ', '('])
        {
            return match literal(rest) {
                Some(name)
                    if rest.trim().trim_matches(['(', ')']).trim().len() == name.len() + 2 =>
                {
                    Stmt::Require(name.trim_end_matches(".rb").to_string(), rel)
                }
                _ => unknown(),
            };
        }
    }
    if s.starts_with("Gem::Specification.new do |") && s.ends_with('|') || s == "end" {
        return Stmt::Plain;
    }
    // module/class wrappers of a version file.
    if (s.starts_with("module ") || s.starts_with("class ")) && !s.contains('<') && !s.contains(';')
    {
        return Stmt::Plain;
    }
    // CONSTANT = literal (a version file).
    if let Some((k, v)) = s.split_once('=')
        && k.trim()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase())
        && k.trim().chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return if is_literal(v) {
            Stmt::Plain
        } else {
            unknown()
        };
    }
    // spec.attr = value, spec.add_dependency ...
    let Some((_, call)) = s.split_once('.') else {
        return unknown();
    };
    if let Some((attr, v)) = call.split_once('=')
        && is_attribute(attr.trim())
        && !v.starts_with(['=', '~'])
    {
        let attr = attr.trim();
        let computed_files =
            v.contains("Dir[") || v.contains("Dir.glob") || v.contains("git ls-files");
        return match attr {
            "executables" if is_literal(v) => Stmt::Executables(
                split_top(
                    v.trim()
                        .trim_start_matches("%w")
                        .trim_matches(['[', ']', '(', ')']),
                )
                .iter()
                .flat_map(|p| p.split_whitespace())
                .map(|p| p.trim_matches(['"', '\'']).to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            ),
            "executables" | "extensions" => Stmt::Unknown(format!(
                "`{}` makes bundle install write files that depend on the sources",
                short(s)
            )),
            "files" | "test_files" | "extra_rdoc_files" if computed_files => Stmt::Plain,
            _ if is_literal(v) => Stmt::Plain,
            _ => unknown(),
        };
    }
    for dep in [
        "add_dependency",
        "add_runtime_dependency",
        "add_development_dependency",
    ] {
        if let Some(args) = call.strip_prefix(dep) {
            let args = args.trim().trim_start_matches('(').trim_end_matches(')');
            return if split_top(args).iter().all(|a| is_literal(a)) {
                Stmt::Plain
            } else {
                unknown()
            };
        }
    }
    unknown()
}

/// `name` or `metadata["key"]`: an attribute a gemspec assigns.
fn is_attribute(a: &str) -> bool {
    let a = match a
        .strip_prefix("metadata[")
        .and_then(|x| x.strip_suffix(']'))
    {
        Some(k) => return is_literal(k),
        None => a,
    };
    !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The line without a trailing `# comment` (outside string literals).
fn strip_comment(l: &str) -> &str {
    let mut quote = None;
    for (k, c) in l.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') if !l[k..].starts_with("#{") => return l[..k].trim_end(),
            _ => {}
        }
    }
    l
}

fn short(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn understood(text: &str) -> bool {
        let mut lib = false;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .all(|l| !matches!(statement(l.trim(), &mut lib), Stmt::Unknown(_)))
    }

    #[test]
    fn plain_gemspecs_are_understood() {
        assert!(understood(
            "lib = File.expand_path(\"lib\", __dir__)\n$LOAD_PATH.unshift(lib) unless $LOAD_PATH.include?(lib)\nGem::Specification.new do |spec|\nspec.name = \"shop\"\nspec.version = Shop::VERSION\nspec.authors = [\"A\"]\nspec.files = Dir[\"lib/**/*.rb\"]\nspec.required_ruby_version = \">= 3.0\"\nspec.add_dependency \"rack\", \"~> 3.0\"\nspec.metadata = { \"rubygems_mfa_required\" => \"true\" }\nend"
        ));
        assert!(understood("module Shop\n  VERSION = \"1.2.0\".freeze\nend"));
    }

    #[test]
    fn code_is_not_understood() {
        assert!(!understood("spec.version = File.read(\"VERSION\").strip"));
        assert!(!understood(
            "spec.executables = spec.files.grep(%r{^exe/}) { |f| File.basename(f) }"
        ));
        assert!(!understood("spec.extensions = [\"ext/x/extconf.rb\"]"));
        assert!(!understood(
            "require File.expand_path(\"lib/x/version\", __dir__)"
        ));
    }
}
