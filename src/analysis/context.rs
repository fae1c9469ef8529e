//! The build context on disk: which files a `COPY . .` ships, after
//! `.dockerignore` (matched with BuildKit's rules), and small reads of
//! manifests (`package.json`, requirement files, ...).
//!
//! `.dockerignore` rules (moby/patternmatcher): each line is a pattern,
//! `#` lines are comments, patterns are cleaned (`./a/` is `a`, a leading
//! `/` is dropped), `**` matches any number of directories, `!` makes an
//! exception, the last matching pattern wins, and a pattern that matches a
//! parent directory matches everything below it. `<Dockerfile>.dockerignore`
//! next to the Dockerfile takes precedence over `.dockerignore`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use globset::{Candidate, GlobBuilder, GlobMatcher};

#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    exclusion: bool,
    components: usize,
    matcher: Option<GlobMatcher>,
}

/// A parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
    /// Where it came from (for messages).
    pub source: Option<PathBuf>,
}

/// A context-relative path with `.`, `..` and empty components resolved.
pub(crate) fn clean(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Self {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if line.starts_with('#') {
                continue;
            }
            let mut p = line.trim();
            if p.is_empty() {
                continue;
            }
            let exclusion = p.starts_with('!');
            if exclusion {
                p = p[1..].trim();
                if p.is_empty() {
                    continue;
                }
            }
            let cleaned = clean(p);
            let matcher = GlobBuilder::new(&cleaned)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .ok()
                .map(|g| g.compile_matcher());
            patterns.push(Pattern {
                components: cleaned.split('/').count(),
                text: cleaned,
                exclusion,
                matcher,
            });
        }
        DockerIgnore {
            patterns,
            source: None,
        }
    }

    /// Reads `<dockerfile name>.dockerignore` or `.dockerignore` in `context`.
    pub fn load(context: &Path, dockerfile: Option<&Path>) -> Self {
        let mut candidates = Vec::new();
        if let Some(df) = dockerfile
            && let (Some(dir), Some(name)) = (df.parent(), df.file_name())
        {
            candidates.push(dir.join(format!("{}.dockerignore", name.to_string_lossy())));
        }
        candidates.push(context.join(".dockerignore"));
        for c in candidates {
            if let Ok(text) = std::fs::read_to_string(&c) {
                let mut d = Self::parse(&text);
                d.source = Some(c);
                return d;
            }
        }
        DockerIgnore::default()
    }

    /// Whether the context-relative path `rel` (with `/` separators) is
    /// excluded from the context.
    pub fn excludes(&self, rel: &str) -> bool {
        let rel = clean(rel);
        // The path and its parents (`a`, `a/b`, ...: prefixes of the cleaned
        // path), prepared for matching once rather than once per pattern.
        let whole = Candidate::new(&rel);
        let parents: Vec<Candidate> = rel
            .match_indices('/')
            .map(|(k, _)| Candidate::new(&rel[..k]))
            .collect();
        let depth = parents.len() + 1;
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                // Only a pattern that can change the outcome matters.
                continue;
            }
            let Some(m) = &p.matcher else { continue };
            let mut hit = m.is_match_candidate(&whole);
            if !hit && depth > 1 && p.components <= depth {
                // A pattern matching a parent directory covers its files.
                hit = parents.iter().any(|c| m.is_match_candidate(c));
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// [`DockerIgnore::excludes`], with the parents' matches taken from
    /// (and kept in) `memo`: the files of a directory share their parents,
    /// so a walk matches each directory against each pattern once, not
    /// once per file below it (a `.dockerignore` with an exception makes
    /// the walk enter every directory and ask for every file).
    pub fn excludes_in(&self, rel: &str, memo: &mut ParentHits) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let rel = clean(rel);
        let whole = Candidate::new(&rel);
        let depth = rel.matches('/').count() + 1;
        let hits = match rel.rfind('/') {
            Some(k) => self.dir_hits(&rel[..k], memo),
            None => &[],
        };
        let mut matched = false;
        for (i, p) in self.patterns.iter().enumerate() {
            if p.exclusion != matched {
                continue;
            }
            let Some(m) = &p.matcher else { continue };
            let mut hit = m.is_match_candidate(&whole);
            if !hit && depth > 1 && p.components <= depth {
                hit = hits.get(i).copied().unwrap_or(false);
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Per pattern, whether it matches the cleaned directory `dir` or one
    /// of its parents.
    fn dir_hits<'m>(&self, dir: &str, memo: &'m mut ParentHits) -> &'m [bool] {
        if !memo.0.contains_key(dir) {
            let above = match dir.rfind('/') {
                Some(k) => self.dir_hits(&dir[..k], memo).to_vec(),
                None => vec![false; self.patterns.len()],
            };
            let c = Candidate::new(dir);
            let hits = self
                .patterns
                .iter()
                .zip(above)
                .map(|(p, up)| up || p.matcher.as_ref().is_some_and(|m| m.is_match_candidate(&c)))
                .collect();
            memo.0.insert(dir.to_string(), hits);
        }
        memo.0.get(dir).map_or(&[], Vec::as_slice)
    }

    /// Whether some pattern is an exception (`!...`): one may bring back
    /// files below an excluded directory.
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// The patterns, for messages.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(|p| p.text.as_str())
    }
}

/// Per directory (cleaned, context-relative), which patterns of a
/// `.dockerignore` match it or one of its parents (see
/// [`DockerIgnore::excludes_in`]); only valid with the one it was filled by.
#[derive(Debug, Default)]
pub struct ParentHits(HashMap<String, Vec<bool>>);

/// The build context: a directory and its `.dockerignore`.
#[derive(Debug, Clone)]
pub struct Context {
    pub dir: PathBuf,
    pub ignore: DockerIgnore,
    /// Shipped files (context-relative) with their sizes; `None` when the
    /// context could not be read.
    files: Option<BTreeMap<String, u64>>,
    /// Directories whose contents this checkout may not show: git
    /// submodules (`.gitmodules`), checked out in CI but perhaps not here.
    unknown: Vec<String>,
    /// The Maven reactors read so far, by directory.
    reactors: ReactorMemo,
    /// The files read as text so far (see [`TextMemo`]).
    texts: TextMemo,
}

/// The context files read as text so far, by context-relative path
/// (`None`: not readable as text): the planner and the rewrite check ask
/// for the same manifests and locks many times while one file is planned
/// (markdownlint-cli's 1 MB lock was read twice, its package.json five
/// times). Read once, so the answer is the one a new read would give
/// while the context does not change under the run, as for
/// [`ReactorMemo`]. A mutex, as contexts are shared between threads.
#[derive(Debug, Default)]
struct TextMemo(Mutex<HashMap<String, Option<String>>>);

impl Clone for TextMemo {
    fn clone(&self) -> Self {
        let memo = self.0.lock().map(|m| m.clone()).unwrap_or_default();
        TextMemo(Mutex::new(memo))
    }
}

/// A Maven reactor (its POMs, and the problems found in them) by the
/// directory of its root POM ([`crate::analysis::manifests::maven_reactor`]):
/// hoisting, reordering and splitting ask for the same reactor many times
/// while one file is planned, and each answer reads and scans every module
/// POM again. The files are read once, so the answer is the one a new read
/// would give while the context does not change under the run. A mutex, as
/// contexts are shared between threads.
#[derive(Debug, Default)]
struct ReactorMemo(Mutex<HashMap<String, Reactor>>);

/// The POM files of a reactor and its problems.
pub(crate) type Reactor = (Vec<String>, Vec<String>);

impl Clone for ReactorMemo {
    fn clone(&self) -> Self {
        let memo = self.0.lock().map(|m| m.clone()).unwrap_or_default();
        ReactorMemo(Mutex::new(memo))
    }
}

/// Stop walking huge contexts: past this many entries the context is
/// treated as unknown (nothing is hoisted).
const MAX_FILES: usize = 200_000;

impl Context {
    pub fn new(dir: PathBuf, dockerfile: Option<&Path>) -> Self {
        let ignore = DockerIgnore::load(&dir, dockerfile);
        let files = walk(&dir, &ignore);
        let unknown = submodule_paths(&dir);
        Context {
            dir,
            ignore,
            files,
            unknown,
            reactors: ReactorMemo::default(),
            texts: TextMemo::default(),
        }
    }

    /// The Maven reactor rooted in `dir`, as `read` gives it, read once
    /// per context (see [`ReactorMemo`]).
    pub(crate) fn reactor(&self, dir: &str, read: impl FnOnce() -> Reactor) -> Reactor {
        if let Some(r) = self
            .reactors
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(dir).cloned())
        {
            return r;
        }
        let r = read();
        if let Ok(mut m) = self.reactors.0.lock() {
            m.insert(dir.to_string(), r.clone());
        }
        r
    }

    /// Context-relative directories whose contents are not known here
    /// (git submodules): anything may be shipped below them.
    pub fn unknown_dirs(&self) -> &[String] {
        &self.unknown
    }

    /// Every file (and symlink) the context ships, context-relative, with
    /// its size in bytes, or `None` when the context could not be read.
    pub fn files(&self) -> Option<&BTreeMap<String, u64>> {
        self.files.as_ref()
    }

    /// Whether the context ships the file `rel`.
    pub fn ships(&self, rel: &str) -> bool {
        self.files
            .as_ref()
            .is_some_and(|f| f.contains_key(&clean(rel)))
    }

    /// Total size in bytes of the shipped files below (or equal to) `rel`
    /// (`.git/` is left out: it changes with every commit, but not what a
    /// build does).
    pub fn size_under(&self, rel: &str) -> u64 {
        let Some(files) = &self.files else { return 0 };
        let rel = clean(rel);
        if rel == "." {
            return files
                .iter()
                .filter(|(k, _)| !k.starts_with(".git/"))
                .map(|(_, v)| v)
                .sum();
        }
        let prefix = format!("{rel}/");
        files
            .range(rel.clone()..)
            .take_while(|(k, _)| {
                k.as_str() == rel || k.starts_with(&prefix) || k.as_str() < prefix.as_str()
            })
            .filter(|(k, _)| k.as_str() == rel || k.starts_with(&prefix))
            .map(|(_, v)| v)
            .sum()
    }

    /// Whether `ADD` would unpack the context file `rel` (BuildKit decides
    /// by content, not by name: a tar archive, plain or compressed with
    /// gzip, bzip2, xz or zstd). `true` unless the file can be read and is
    /// certainly none: it starts with no compression magic, and it is
    /// shorter than a tar header (512 bytes) or its first 512 bytes are
    /// not a tar header with a valid checksum.
    pub fn may_unpack(&self, rel: &str) -> bool {
        use std::io::Read;
        let Ok(mut f) = std::fs::File::open(self.dir.join(clean(rel))) else {
            return true;
        };
        let mut head = Vec::with_capacity(512);
        if f.by_ref().take(512).read_to_end(&mut head).is_err() {
            return true;
        }
        const MAGIC: &[&[u8]] = &[
            &[0x1f, 0x8b],
            b"BZh",
            &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
            &[0x28, 0xb5, 0x2f, 0xfd],
        ];
        if MAGIC.iter().any(|m| head.starts_with(m)) {
            return true;
        }
        head.len() == 512 && tar_checksum_ok(&head)
    }

    /// Reads a small context file as text, once per context (see
    /// [`TextMemo`]).
    pub fn read(&self, rel: &str) -> Option<String> {
        let key = clean(rel);
        if let Some(text) = self.texts.0.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return text;
        }
        let text = self.read_uncached(&key);
        if let Ok(mut m) = self.texts.0.lock() {
            m.insert(key, text.clone());
        }
        text
    }

    fn read_uncached(&self, rel: &str) -> Option<String> {
        let p = self.dir.join(rel);
        let meta = std::fs::metadata(&p).ok()?;
        if meta.len() > 4 * 1024 * 1024 {
            return None;
        }
        std::fs::read_to_string(p).ok()
    }
}

/// Whether a 512-byte block is a tar header by its checksum (the field at
/// 148..156, octal, is the sum of the header's bytes with that field read
/// as spaces; unsigned or signed sums, as readers accept both). A field
/// that is not octal (a text file) is no header.
fn tar_checksum_ok(h: &[u8]) -> bool {
    let field = &h[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|c| *c == b' ')
        .take_while(|c| (b'0'..=b'7').contains(c))
        .collect();
    if digits.is_empty() {
        return false;
    }
    let Some(want) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| i64::from_str_radix(d, 8).ok())
    else {
        return false;
    };
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (k, b) in h.iter().enumerate() {
        let b = if (148..156).contains(&k) { b' ' } else { *b };
        unsigned += i64::from(b);
        signed += i64::from(b as i8);
    }
    want == unsigned || want == signed
}

fn walk(dir: &Path, ignore: &DockerIgnore) -> Option<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    let mut seen = 0usize;
    let mut memo = ParentHits::default();
    while let Some((abs, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&abs).ok()?;
        for e in entries.flatten() {
            seen += 1;
            if seen > MAX_FILES {
                return None;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                // An excluded directory is not entered unless an exception
                // (`!dir/keep`) may bring files back below it: BuildKit's
                // context walk (fsutil) skips it the same way.
                if ignore.has_exceptions() || !ignore.excludes_in(&r, &mut memo) {
                    stack.push((e.path(), r));
                }
            } else if !ignore.excludes_in(&r, &mut memo) {
                out.insert(r, e.metadata().map_or(0, |m| m.len()));
            }
        }
    }
    Some(out)
}

/// The `path = …` entries of the context's `.gitmodules`.
fn submodule_paths(dir: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(dir.join(".gitmodules")) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.trim().split_once('=')?;
            (k.trim() == "path")
                .then(|| v.trim().trim_matches('"').trim_end_matches('/').to_string())
        })
        .filter(|p| !p.is_empty() && !p.starts_with('/') && !p.contains(".."))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BuildKit does not enter a directory the `.dockerignore` excludes
    /// (when no exception could bring a file back): nothing below it is
    /// shipped, even where the per-file rule alone would keep a file (a
    /// pattern of more components than the file's path, which matches its
    /// directory through `**`).
    #[test]
    fn an_excluded_directory_is_not_entered_without_exceptions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("x")).expect("mkdir");
        std::fs::write(root.join("x/y"), "y").expect("write");
        std::fs::write(root.join("keep"), "k").expect("write");
        std::fs::write(root.join(".dockerignore"), "**/**/x\n").expect("write");
        let ctx = Context::new(root.to_path_buf(), None);
        assert!(ctx.ignore.excludes("x"));
        assert!(!ctx.ships("x/y"), "{:?}", ctx.files());
        assert!(ctx.ships("keep"));
        // With an exception the directory is entered, and the file rule
        // decides.
        std::fs::write(root.join(".dockerignore"), "**/**/x\n!keep\n").expect("write");
        let ctx = Context::new(root.to_path_buf(), None);
        assert_eq!(ctx.ships("x/y"), !ctx.ignore.excludes("x/y"));
    }

    #[test]
    fn dockerignore_rules() {
        let d = DockerIgnore::parse("# c\nnode_modules\n*.md\n!README.md\n**/*.pyc\n/build/\n");
        assert!(d.excludes("node_modules/a/b.js"));
        assert!(d.excludes("CHANGES.md"));
        assert!(!d.excludes("README.md"));
        assert!(!d.excludes("docs/x.md"), "* does not cross /");
        assert!(d.excludes("a/b/c.pyc"));
        assert!(d.excludes("c.pyc"));
        assert!(d.excludes("build/out"));
        assert!(!d.excludes("src/main.py"));
        let d = DockerIgnore::parse("*\n!src\n");
        assert!(d.excludes("Dockerfile"));
        assert!(!d.excludes("src/app.py"));
    }
}
