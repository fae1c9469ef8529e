//! Whether Bundler leaves a shipped `Gemfile.lock` as it is: a Gemfile
//! the checks can read (plain `gem`, `source`, `ruby` lines) whose
//! dependencies are exactly the lock's, and a lock written as the
//! measured Bundler versions write it. Anything else may be rewritten.

use super::*;

/// Whether `bundle install`, run by a Bundler of release line `line`
/// (`"2.3"`, `"2.6"`: see `effects::lock_kept`), leaves `Gemfile.lock` of a
/// directory as it is. Bundler writes the lock only when the text it
/// generates differs from it (`Definition#lock`), and with every
/// dependency locked and the platform it runs on among the lock's it
/// takes the lock's specs as the resolution (`nothing_changed?`), so the
/// text it generates is the lock's own, written in its format. That holds
/// when:
/// - there is no `gems.rb` or `gems.locked` (another Gemfile) and no
///   `.bundle/config` (settings);
/// - the Gemfile is only `source` rubygems.org, `gem` lines with literal
///   names, requirements and `require:`/`group:` options, `group ... do`
///   blocks and comments ([`simple_gemfile`]): nothing it runs (`gemspec`,
///   `path:`, `git:`, `platforms:`, `eval_gemfile`) is taken; a `ruby`
///   line only with Bundler 2.3, naming a plain version or reading one
///   from a file of the directory by its literal name
///   ([`gemfile_ruby_file_read`]), with the lock's `RUBY VERSION` that
///   very version;
/// - the lock is one rubygems.org `GEM` section, `PLATFORMS`,
///   `DEPENDENCIES` and an optional `BUNDLED WITH` of release line `line`,
///   in Bundler's format (specs by full name, each dependency and
///   requirement list in Bundler's order, a final newline), its specs all
///   for every platform (no `-PLATFORM` version), each reached from the
///   Gemfile's gems and each dependency locked, its `DEPENDENCIES` the
///   Gemfile's gems;
/// - `PLATFORMS` lists `x86_64-linux` and `aarch64-linux` (the platform of
///   an amd64 or arm64 build host: one Bundler does not find is added, and
///   whether the platform needs other specs is the gem index's to say),
///   and only platform names measured to be kept.
///
/// Measured (Bundler 2.3.7, 2.3.15, 2.6.7; the gems installed, and with
/// 2.3.15 and 2.6.7 downloaded too, from a local mirror of rubygems.org
/// holding newer versions and a platform variant): such locks were left
/// as they are, with `--jobs`, `--retry`, `--without`, `--local`, `--quiet`,
/// `BUNDLE_WITHOUT` or `bundle config set without` too, whatever their
/// `BUNDLED WITH` of those lines; one without a final newline, with its
/// platforms, dependencies or specs out of order, an unused spec, a
/// dependency written `(>= 0)`, a remote without its final `/`, a `BUNDLED
/// WITH` of Bundler 1 or (2.3) a `x86_64-linux-gnu` platform was written
/// anew, and one whose dependencies differ from the Gemfile's was resolved
/// again (from the index, which would rewrite it).
pub fn bundler_lock_kept(
    name: &str,
    file: impl Fn(&str) -> Option<Option<String>>,
    line: &str,
) -> bool {
    if name != "Gemfile.lock"
        || ["gems.rb", "gems.locked", ".bundle/config"]
            .iter()
            .any(|f| file(f) != Some(None))
    {
        return false;
    }
    let (Some(Some(lock)), Some(Some(gemfile))) = (file(name), file("Gemfile")) else {
        return false;
    };
    let Some((deps, ruby)) = simple_gemfile(&gemfile) else {
        return false;
    };
    let version = match ruby {
        None => None,
        Some(RubyRequirement::Version(v)) => Some(v),
        // The file's text, stripped: only a plain version and a final
        // newline (`.strip` and `.chomp` give the same).
        Some(RubyRequirement::File(f)) => {
            let Some(Some(t)) = file(&f) else {
                return false;
            };
            let v = t.strip_suffix('\n').unwrap_or(&t);
            if !plain_ruby_version(v) {
                return false;
            }
            Some(v.to_string())
        }
    };
    bundler_lock_canonical(&lock, &deps, line, version.as_deref())
}

/// What a Gemfile's `ruby` line asks for: a version written in it, or the
/// text of a file of its directory.
pub(super) enum RubyRequirement {
    Version(String),
    File(String),
}

/// A Ruby version as Bundler compares it exactly (`3.1.2`: digits and
/// dots, at most three numbers).
pub(super) fn plain_ruby_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// The file a Gemfile's `ruby` line reads with `File.read` (the text of a
/// file of the Gemfile's directory, stripped: `File.read(".ruby-version")`,
/// `File.read(File.join(__dir__, ".ruby-version"))`,
/// `File.read(File.expand_path(".ruby-version", __dir__))`, then
/// `.strip` or `.chomp`), a plain name; `None` for any other line.
pub(crate) fn gemfile_ruby_file_read(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("ruby ")?.trim_start();
    let rest = rest
        .strip_suffix(".strip")
        .or_else(|| rest.strip_suffix(".chomp"))?;
    let inner = rest.strip_prefix("File.read(")?.strip_suffix(')')?.trim();
    let name_lit = if let Some(a) = inner
        .strip_prefix("File.join(__dir__,")
        .and_then(|a| a.strip_suffix(')'))
    {
        a.trim()
    } else if let Some(a) = inner
        .strip_prefix("File.expand_path(")
        .and_then(|a| a.strip_suffix(", __dir__)"))
    {
        a.trim()
    } else {
        inner
    };
    let name = name_lit
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .or_else(|| {
            name_lit
                .strip_prefix('\'')
                .and_then(|n| n.strip_suffix('\''))
        })?;
    (!name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
    .then_some(name)
}

/// A Gemfile's gems (name, requirements as the lock writes them) and its
/// `ruby` line.
pub(super) type SimpleGemfile = (BTreeMap<String, Vec<String>>, Option<RubyRequirement>);

/// The gems of a Gemfile that is only a rubygems.org `source`, one `ruby`
/// line at the top (a plain version, or the text of a file,
/// [`gemfile_ruby_file_read`]), `gem` lines
/// (a quoted name, quoted requirements, then `require:`/`group:`/`groups:`
/// options), `group ... do` / `end` blocks, blank lines and whole-line
/// comments: each gem's name and requirements as Bundler writes them in
/// the lock (`op version`, sorted then reversed), by name, and its `ruby`
/// line. `None` for anything else, and for a gem named twice.
pub(super) fn simple_gemfile(text: &str) -> Option<SimpleGemfile> {
    let mut gems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut source = false;
    let mut depth = 0usize;
    let mut ruby: Option<RubyRequirement> = None;
    for raw in text.lines() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        // One `ruby` line at the top level: a plain version, or the text
        // of a file.
        if l.starts_with("ruby ") && depth == 0 {
            if ruby.is_some() {
                return None;
            }
            if let Some(f) = gemfile_ruby_file_read(l) {
                ruby = Some(RubyRequirement::File(f.to_string()));
                continue;
            }
            let v = ruby_string(l.strip_prefix("ruby ")?.trim())?;
            let v = v.strip_prefix("= ").unwrap_or(&v);
            if !plain_ruby_version(v) {
                return None;
            }
            ruby = Some(RubyRequirement::Version(v.to_string()));
            continue;
        }
        // A comment after code, or an interpolation, is not read.
        if l.contains(['#', '\\', '(', ')', '{', '}', ';']) {
            return None;
        }
        if let Some(rest) = l.strip_prefix("source ") {
            let url = ruby_string(rest.trim())?;
            if source
                || depth > 0
                || !gems.is_empty()
                || !matches!(
                    url.as_str(),
                    "https://rubygems.org" | "https://rubygems.org/"
                )
            {
                return None;
            }
            source = true;
        } else if l == "end" {
            depth = depth.checked_sub(1)?;
        } else if let Some(rest) = l.strip_prefix("group ") {
            let groups = rest.strip_suffix(" do")?;
            if !groups.split(',').all(|g| ruby_symbol(g.trim())) {
                return None;
            }
            depth += 1;
        } else if let Some(rest) = l.strip_prefix("gem ") {
            if !source {
                return None;
            }
            let mut args = split_args(rest)?.into_iter();
            let name = ruby_string(args.next()?)?;
            if !is_gem_name(&name) || gems.contains_key(&name) {
                return None;
            }
            let mut reqs: Vec<String> = Vec::new();
            let mut options = false;
            for a in args {
                if let Some(r) = ruby_string(a) {
                    if options {
                        return None;
                    }
                    reqs.push(requirement_to_lock(&r)?);
                } else {
                    options = true;
                    let (key, value) = a.split_once(':')?;
                    let value = value.trim();
                    let ok = match key.trim() {
                        "require" => {
                            matches!(value, "false" | "true") || ruby_string(value).is_some()
                        }
                        "group" | "groups" => {
                            ruby_symbol(value)
                                || value
                                    .strip_prefix('[')
                                    .and_then(|v| v.strip_suffix(']'))
                                    .is_some_and(|v| v.split(',').all(|g| ruby_symbol(g.trim())))
                        }
                        _ => false,
                    };
                    if !ok {
                        return None;
                    }
                }
            }
            let n = reqs.len();
            reqs.sort();
            reqs.dedup();
            if reqs.len() != n {
                return None;
            }
            reqs.reverse();
            gems.insert(name, reqs);
        } else {
            return None;
        }
    }
    (source && depth == 0 && !gems.is_empty()).then_some((gems, ruby))
}

/// The comma-separated arguments of a call without parentheses; `None`
/// when a bracket is left open.
pub(super) fn split_args(s: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0usize, None::<char>);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || quote.is_some() {
        return None;
    }
    out.push(s[start..].trim());
    Some(out)
}

/// The text of a Ruby string literal that holds only plain characters.
pub(super) fn ruby_string(s: &str) -> Option<String> {
    let inner = s
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|r| r.strip_suffix('"')))?;
    inner
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " ._-~=<>!:/".contains(c))
        .then(|| inner.to_string())
}

/// Whether `s` is a plain symbol (`:development`).
pub(super) fn ruby_symbol(s: &str) -> bool {
    s.strip_prefix(':')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Whether `s` is a gem name as Bundler writes it unchanged.
pub(super) fn is_gem_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A version as RubyGems keeps its text (digits first, no `-`, which
/// RubyGems turns into `.pre.`, nor a platform).
pub(super) fn is_plain_version(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
        && !s.ends_with('.')
        && !s.contains("..")
}

/// One requirement (`~> 5.15`, `>=1.0`, `2.1`) as the lock writes it
/// (`~> 5.15`, `>= 1.0`, `= 2.1`); `None` for another form and for
/// `>= 0`, which the lock leaves out.
pub(super) fn requirement_to_lock(r: &str) -> Option<String> {
    let r = r.trim();
    let ops = ["~>", ">=", "<=", "!=", ">", "<", "="];
    let (op, version) = match ops.iter().find(|o| r.starts_with(**o)) {
        Some(op) => (*op, r[op.len()..].trim()),
        None => ("=", r),
    };
    if !is_plain_version(version) || (op == ">=" && version.split('.').all(|p| p == "0")) {
        return None;
    }
    Some(format!("{op} {version}"))
}

/// A dependency of a lock: its name and requirements (as the lock writes
/// them).
pub(super) type LockDependency = (String, Vec<String>);

/// A dependency line of the lock (`name` or `name (reqs)`) split into its
/// name and requirements, or `None` when it is not written as Bundler
/// writes one (requirements in its order, none `>= 0`, no `!`).
pub(super) fn lock_dependency(s: &str) -> Option<LockDependency> {
    let (name, reqs) = match s.split_once(" (") {
        None => (s, Vec::new()),
        Some((n, r)) => {
            let r = r.strip_suffix(')')?;
            let reqs: Vec<String> = r.split(", ").map(|x| x.to_string()).collect();
            (n, reqs)
        }
    };
    if !is_gem_name(name) {
        return None;
    }
    let mut canonical: Vec<String> = Vec::new();
    for q in &reqs {
        let c = requirement_to_lock(q)?;
        if &c != q {
            return None;
        }
        canonical.push(c);
    }
    let mut sorted = canonical.clone();
    sorted.sort();
    sorted.dedup();
    sorted.reverse();
    (sorted == canonical).then(|| (name.to_string(), canonical))
}

/// A dependency as the lock writes it.
pub(super) fn dependency_to_lock(name: &str, reqs: &[String]) -> String {
    if reqs.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({})", reqs.join(", "))
    }
}

/// Whether `lock` is the lock Bundler of release `line` writes for a
/// Gemfile of gems `deps` when it takes the lock's specs: see
/// [`bundler_lock_kept`]. The lock is parsed, its text generated as
/// Bundler's `LockfileGenerator` does and compared byte for byte.
pub(super) fn bundler_lock_canonical(
    lock: &str,
    deps: &BTreeMap<String, Vec<String>>,
    line: &str,
    ruby: Option<&str>,
) -> bool {
    const PLATFORMS: &[&str] = &[
        "aarch64-linux",
        "arm64-darwin",
        "java",
        "ruby",
        "x64-mingw-ucrt",
        "x86_64-darwin",
        "x86_64-linux",
        "x86_64-linux-musl",
    ];
    if !lock.ends_with('\n') || lock.contains('\r') {
        return false;
    }
    let mut sections: Vec<&str> = lock.trim_end_matches('\n').split("\n\n").collect();
    // A Gemfile's `ruby VERSION`: Bundler (2.3) keeps the lock's `RUBY
    // VERSION` when the Gemfile's version matches it (`Definition`:
    // `@unlock[:ruby]` is `RubyVersion#diff`, nil then), and writes it
    // back as it is; without one, or with another version, it resolves
    // again (measured with Bundler 2.3.15: kept; without the section, or
    // with 3.1.1 locked for a Gemfile's 3.1.2, it went to the index). The
    // section stands after DEPENDENCIES (`LockfileGenerator`).
    match ruby {
        None => {}
        Some(v) => {
            if line != "2.3" || sections.len() < 4 {
                return false;
            }
            let k = sections.len() - if sections.len() == 5 { 2 } else { 1 };
            let Some(locked) = sections[k].strip_prefix("RUBY VERSION\n   ruby ") else {
                return false;
            };
            let Some((version, patch)) = locked.split_once('p') else {
                return false;
            };
            if version != v || patch.is_empty() || !patch.chars().all(|c| c.is_ascii_digit()) {
                return false;
            }
            sections.remove(k);
        }
    }
    // DEPENDENCIES is compared as a whole with the text generated below.
    let (gem, platforms, bundled) = match sections.as_slice() {
        [g, p, _] => (*g, *p, None),
        [g, p, _, b] => (*g, *p, Some(*b)),
        _ => return false,
    };
    // Specs, by name: version and dependencies.
    let Some(spec_lines) = gem.strip_prefix("GEM\n  remote: https://rubygems.org/\n  specs:\n")
    else {
        return false;
    };
    let mut specs: BTreeMap<String, (String, Vec<LockDependency>)> = BTreeMap::new();
    let mut current: Option<String> = None;
    for l in spec_lines.lines() {
        if let Some(dep) = l.strip_prefix("      ") {
            let (Some(spec), Some((n, r))) = (current.as_ref(), lock_dependency(dep)) else {
                return false;
            };
            if let Some(s) = specs.get_mut(spec) {
                s.1.push((n, r));
            }
        } else if let Some(spec) = l.strip_prefix("    ") {
            let Some((n, v)) = spec.strip_suffix(')').and_then(|s| s.split_once(" (")) else {
                return false;
            };
            if !is_gem_name(n) || !is_plain_version(v) || n == "bundler" || specs.contains_key(n) {
                return false;
            }
            specs.insert(n.to_string(), (v.to_string(), Vec::new()));
            current = Some(n.to_string());
        } else {
            return false;
        }
    }
    let Some(platform_lines) = platforms.strip_prefix("PLATFORMS\n") else {
        return false;
    };
    let mut listed: Vec<&str> = Vec::new();
    for l in platform_lines.lines() {
        match l.strip_prefix("  ") {
            Some(p) if PLATFORMS.contains(&p) => listed.push(p),
            _ => return false,
        }
    }
    if !["x86_64-linux", "aarch64-linux"]
        .iter()
        .all(|p| listed.contains(p))
    {
        return false;
    }
    listed.sort_unstable();
    listed.dedup();
    if let Some(b) = bundled {
        let Some(version) = b.strip_prefix("BUNDLED WITH\n   ") else {
            return false;
        };
        let in_line = version
            .strip_prefix(line)
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|patch| !patch.is_empty() && patch.chars().all(|c| c.is_ascii_digit()));
        if !in_line {
            return false;
        }
    }
    // Every spec is reached from the Gemfile's gems, and every dependency
    // of one is locked.
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = deps.keys().map(|k| k.as_str()).collect();
    // (each with a locked version its requirements take: another makes
    // Bundler resolve again).
    let mut required: Vec<(&str, &[String])> = deps
        .iter()
        .map(|(n, r)| (n.as_str(), r.as_slice()))
        .collect();
    required.extend(
        specs
            .values()
            .flat_map(|(_, d)| d.iter().map(|(n, r)| (n.as_str(), r.as_slice()))),
    );
    for (n, reqs) in required {
        match specs.get(n) {
            Some((v, _)) if reqs.iter().all(|r| version_satisfies(v, r)) => {}
            _ => return false,
        }
    }
    while let Some(n) = todo.pop() {
        let Some((_, spec_deps)) = specs.get(n) else {
            return false;
        };
        if reached.insert(n) {
            todo.extend(spec_deps.iter().map(|(d, _)| d.as_str()));
        }
    }
    if reached.len() != specs.len() {
        return false;
    }
    // The text Bundler writes for it.
    let mut order: Vec<(String, &String)> = specs
        .iter()
        .map(|(n, (v, _))| (format!("{n}-{v}"), n))
        .collect();
    order.sort();
    let mut out = String::from("GEM\n  remote: https://rubygems.org/\n  specs:\n");
    for (_, n) in &order {
        let (v, spec_deps) = &specs[*n];
        out.push_str(&format!("    {n} ({v})\n"));
        let mut sorted: Vec<&LockDependency> = spec_deps.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        sorted.dedup_by(|a, b| a.0 == b.0);
        for (d, r) in sorted {
            out.push_str(&format!("      {}\n", dependency_to_lock(d, r)));
        }
    }
    out.push_str("\nPLATFORMS\n");
    for p in &listed {
        out.push_str(&format!("  {p}\n"));
    }
    out.push_str("\nDEPENDENCIES\n");
    for (n, r) in deps {
        out.push_str(&format!("  {}\n", dependency_to_lock(n, r)));
    }
    if let Some(v) = ruby {
        let locked = lock
            .split("\n\n")
            .find(|s| s.starts_with("RUBY VERSION\n"))
            .unwrap_or_default();
        // Checked above to be `ruby {v}p…`.
        debug_assert!(locked.contains(v));
        out.push_str(&format!("\n{}\n", locked.trim_end_matches('\n')));
    }
    if let Some(b) = bundled {
        out.push_str(&format!("\n{b}\n"));
    }
    out == lock
}

/// The numeric segments of a version (`None` for a prerelease or any
/// other form: not compared).
pub(super) fn version_segments(v: &str) -> Option<Vec<u64>> {
    v.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

// RubyGems' order of two numeric versions (missing segments are zeros,
// as in PEP 440).
use crate::analysis::pyproject::cmp as version_cmp;

/// Whether version `v` meets requirement `req` (`op version`, as
/// [`requirement_to_lock`] writes it). A prerelease on either side is not
/// taken.
pub(super) fn version_satisfies(v: &str, req: &str) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some((op, r)) = req.split_once(' ') else {
        return false;
    };
    let (Some(v), Some(r)) = (version_segments(v), version_segments(r)) else {
        return false;
    };
    let o = version_cmp(&v, &r);
    match op {
        "=" => o == Equal,
        "!=" => o != Equal,
        ">" => o == Greater,
        "<" => o == Less,
        ">=" => o != Less,
        "<=" => o != Greater,
        "~>" => {
            // `~> 5.15` is `>= 5.15, < 6`; `~> 5` is `>= 5, < 6`.
            let mut bump = r.clone();
            if bump.len() > 1 {
                bump.pop();
            }
            if let Some(last) = bump.last_mut() {
                *last += 1;
            }
            o != Less && version_cmp(&v, &bump) == Less
        }
        _ => false,
    }
}
