//! History: real repositories built in temporary directories with git2,
//! with exact expected counts; agreement with `git log`; and a history
//! that overrules the static estimate.

use std::path::Path;
use std::process::Command;

use dockreorder::analysis::context::Context;
use dockreorder::analysis::history::{Query, Repo, WalkEnd, WalkOptions};
use dockreorder::plan::{Applicability, Options};
use dockreorder::{replay, rewrite};
use git2::{Repository, Signature, Time};

use crate::support;

struct TestRepo {
    dir: tempfile::TempDir,
    repo: Repository,
    time: i64,
}

impl TestRepo {
    fn new() -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(dir.path()).expect("init");
        TestRepo {
            dir,
            repo,
            time: 1_700_000_000,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) {
        let p = self.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }

    fn remove(&self, name: &str) {
        std::fs::remove_file(self.path().join(name)).expect("rm");
    }

    /// Commits the whole work tree on the current branch (HEAD), with the
    /// given extra parents.
    fn commit_with(&mut self, msg: &str, extra_parents: &[git2::Oid]) -> git2::Oid {
        let mut index = self.repo.index().expect("index");
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .expect("add");
        index.update_all(["*"].iter(), None).expect("update");
        index.write().expect("write index");
        let tree_id = index.write_tree().expect("tree");
        let tree = self.repo.find_tree(tree_id).expect("find tree");
        self.time += 60;
        let sig = Signature::new("t", "t@example.com", &Time::new(self.time, 0)).expect("sig");
        let mut parents = Vec::new();
        if let Ok(h) = self.repo.head() {
            parents.push(h.peel_to_commit().expect("head commit"));
        }
        for p in extra_parents {
            parents.push(self.repo.find_commit(*p).expect("parent"));
        }
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, msg, &tree, &refs)
            .expect("commit")
    }

    fn commit(&mut self, msg: &str) -> git2::Oid {
        self.commit_with(msg, &[])
    }
}

fn walk(
    r: &TestRepo,
    df: &str,
    ctx: &str,
    opts: &WalkOptions,
) -> dockreorder::analysis::history::History {
    let repo = Repo::discover(&r.path().join(df)).expect("discover");
    repo.walk(&r.path().join(df), &r.path().join(ctx), opts)
        .expect("walk")
}

const DF: &str = "FROM base\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY src/ ./src/\nCMD [\"node\", \"src/index.js\"]\n";

fn figures_by_text(f: &replay::FileFigures) -> Vec<(String, u64, u64)> {
    f.units
        .iter()
        .map(|u| (u.instruction.clone(), u.source_changes, u.rebuilds))
        .collect()
}

#[test]
fn counts_on_a_known_sequence_with_a_root_commit_and_dockerignore_changes() {
    let mut r = TestRepo::new();
    r.write("Dockerfile", DF);
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    r.write("src/index.js", "1");
    r.write("notes/todo.md", "x");
    r.commit("root"); // 1: everything is new
    r.write("src/index.js", "2");
    r.commit("src"); // 2
    r.write("notes/todo.md", "y");
    r.commit("notes only"); // 3: COPY src/ does not see it
    r.write("package.json", "{\"v\":1}");
    r.commit("dependency"); // 4
    r.write(".dockerignore", "src/generated\n");
    r.commit("ignore generated"); // 5: .dockerignore itself changed
    r.write("src/generated/x.js", "g");
    r.commit("generated only"); // 6: ignored by the .dockerignore of that commit
    r.write("src/index.js", "3");
    r.commit("src again"); // 7
    r.write(
        "Dockerfile",
        &DF.replace("RUN npm ci", "RUN npm ci --omit=dev"),
    );
    r.commit("edit RUN"); // 8: edits the RUN text
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    assert_eq!(h.commits.len(), 8);
    assert_eq!(h.end, WalkEnd::ReachedRoot);
    assert!(!h.truncated());
    let text = std::fs::read_to_string(r.path().join("Dockerfile")).expect("read");
    let f = replay::figures(&text, None, &h);
    let got = figures_by_text(&f);
    // (instruction, commits that changed its sources, commits that rebuild it)
    assert_eq!(
        got,
        vec![
            ("WORKDIR /app".to_string(), 0, 1),
            ("COPY package.json package-lock.json ./".to_string(), 2, 2),
            ("RUN npm ci --omit=dev".to_string(), 0, 3),
            ("COPY src/ ./src/".to_string(), 3, 5),
            ("CMD [\"node\", \"src/index.js\"]".to_string(), 0, 5),
        ],
        "root commit + dependency change; RUN edited in commit 8; src changed in 1, 2, 7"
    );
}

#[test]
fn merges_first_parent_and_all_parents() {
    let mut r = TestRepo::new();
    r.write("Dockerfile", DF);
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    r.write("src/index.js", "1");
    let root = r.commit("root");
    // A side branch with two commits touching src/.
    let head_ref = r
        .repo
        .head()
        .expect("head")
        .name()
        .expect("name")
        .to_string();
    r.write("src/index.js", "side1");
    let s1 = r.commit("side 1");
    r.write("src/index.js", "side2");
    let s2 = r.commit("side 2");
    // Back to main at root, one commit, then merge the side branch.
    r.repo
        .reference(&head_ref, root, true, "reset")
        .expect("reset");
    r.repo
        .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .expect("checkout");
    r.write("package.json", "{\"main\":1}");
    r.commit("main 1");
    r.write("src/index.js", "side2");
    r.commit_with("merge side", &[s2]);
    let _ = s1;
    let fp = walk(&r, "Dockerfile", ".", &paths());
    assert_eq!(fp.commits.len(), 3, "root, main 1, merge");
    assert!(fp.first_parent);
    let all = walk(
        &r,
        "Dockerfile",
        ".",
        &WalkOptions {
            all_parents: true,
            ..WalkOptions::default()
        },
    );
    assert_eq!(all.commits.len(), 5, "root, side 1, side 2, main 1, merge");
    // The merge, against its first parent, changed src/index.js only.
    let merge = &fp.commits[0];
    assert_eq!(merge.files, vec!["src/index.js".to_string()]);
    let limited = walk(
        &r,
        "Dockerfile",
        ".",
        &WalkOptions {
            max_commits: Some(2),
            ..WalkOptions::default()
        },
    );
    assert_eq!(limited.commits.len(), 2);
    assert_eq!(limited.end, WalkEnd::Limit);
    assert!(limited.truncated());
}

#[test]
fn context_subdirectory_and_dockerfile_outside_it() {
    let mut r = TestRepo::new();
    r.write(
        "docker/api.Dockerfile",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
    );
    r.write("api/package.json", "{}");
    r.write("api/package-lock.json", "{}");
    r.write("api/index.js", "1");
    r.write("web/index.js", "1");
    r.commit("root");
    r.write("web/index.js", "2");
    r.commit("web only");
    r.write("api/index.js", "2");
    r.commit("api");
    let h = walk(&r, "docker/api.Dockerfile", "api", &paths());
    assert_eq!(h.commits.len(), 3);
    // Without the path lists, the same answer per commit for `COPY . .`.
    let q = walk(&r, "docker/api.Dockerfile", "api", &WalkOptions::default());
    let all: Vec<bool> = q.changed(&["."])[0].to_vec();
    assert_eq!(all, vec![true, false, true]);
    let touched: Vec<usize> = h.commits.iter().map(|c| c.files.len()).collect();
    // Newest first: api (1 file), web only (0), root (3 files in api/).
    assert_eq!(touched, vec![1, 0, 3]);
    assert_eq!(h.commits[0].files, vec!["index.js".to_string()]);
    // A deletion counts as a change of the deleted file.
    r.remove("api/index.js");
    r.commit("delete");
    let h = walk(&r, "docker/api.Dockerfile", "api", &paths());
    assert_eq!(h.commits[0].files, vec!["index.js".to_string()]);
}

#[test]
fn shallow_clone_is_walked_as_far_as_it_goes() {
    let mut r = TestRepo::new();
    r.write("Dockerfile", DF);
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    for i in 0..6 {
        r.write("src/index.js", &i.to_string());
        r.commit(&format!("c{i}"));
    }
    let clone = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", r.path().display());
    let st = Command::new("git")
        .args(["clone", "-q", "--depth", "3", &url])
        .arg(clone.path().join("c"))
        .status()
        .expect("git clone");
    assert!(st.success());
    let c = clone.path().join("c");
    let repo = Repo::discover(&c.join("Dockerfile")).expect("discover");
    let h = repo
        .walk(&c.join("Dockerfile"), &c, &WalkOptions::default())
        .expect("walk");
    // Three commits in the clone; the boundary one, whose parent is
    // missing, is not walked (it was, as if it added every file).
    assert_eq!(h.commits.len(), 2);
    assert_eq!(h.end, WalkEnd::Shallow);
    assert!(h.truncated());
    assert!(h.notes.iter().any(|n| n.contains("shallow")));
}

#[test]
fn no_repository_empty_repository_and_detached_head() {
    let plain = tempfile::tempdir().expect("tempdir");
    std::fs::write(plain.path().join("Dockerfile"), DF).expect("write");
    // Not in a repository (the temp dir is outside any checkout).
    let out = Command::new(support::bin())
        .current_dir(plain.path())
        .arg("Dockerfile")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in a git repository"));
    // Empty repository.
    let r = TestRepo::new();
    r.write("Dockerfile", DF);
    let out = Command::new(support::bin())
        .current_dir(r.path())
        .arg("Dockerfile")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no commits yet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Detached HEAD.
    let mut r = TestRepo::new();
    r.write("Dockerfile", DF);
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    r.write("src/index.js", "1");
    let first = r.commit("one");
    r.write("src/index.js", "2");
    r.commit("two");
    r.repo.set_head_detached(first).expect("detach");
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    assert_eq!(h.commits.len(), 1);
}

#[test]
fn history_overrules_the_static_estimate() {
    // Two installs; requirements.txt changes in every commit, package.json
    // never after the first. Static: both manifests "change rarely", so
    // nothing moves. History: the npm pair goes first.
    let df = "FROM base\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY package.json package-lock.json ./\nRUN npm ci\n";
    let mut r = TestRepo::new();
    r.write("Dockerfile", df);
    r.write(".dockerignore", "node_modules\n");
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    for i in 0..24 {
        r.write("requirements.txt", &format!("flask=={i}\n"));
        r.commit(&format!("bump {i}"));
    }
    let ctx = Context::new(r.path().to_path_buf(), Some(&r.path().join("Dockerfile")));
    let opts = Options::new(Applicability::Safe);
    let static_out = rewrite::rewrite(df, Some(&ctx), opts).expect("static");
    assert_eq!(static_out.new_text, df, "static estimate: no change");
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    let hist_out = rewrite::rewrite_with(df, Some(&ctx), Some(&h), opts).expect("history");
    assert_eq!(
        hist_out.new_text,
        "FROM base\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\n"
    );
    let before = replay::figures(df, Some(&ctx), &h);
    let after = replay::figures(&hist_out.new_text, Some(&ctx), &h);
    assert!(after.mean_cost < before.mean_cost);
    let npm_before = before
        .units
        .iter()
        .find(|u| u.instruction == "RUN npm ci")
        .expect("npm")
        .rebuilds;
    let npm_after = after
        .units
        .iter()
        .find(|u| u.instruction == "RUN npm ci")
        .expect("npm")
        .rebuilds;
    assert_eq!((npm_before, npm_after), (24, 1));
}

#[test]
fn per_build_args_count_as_changed_in_every_commit() {
    // Only app.sh changes, and the install comes before the copy: by the
    // history alone it never reruns. But every commit is a build, and
    // every build passes a new BUILD_DATE, which BuildKit puts in the
    // install's environment: it reruns in every commit, and the rewrite
    // moves it above the ARG.
    let df = "FROM base\nARG BUILD_DATE\nRUN apt-get update && apt-get install -y curl\nWORKDIR /app\nCOPY . .\nLABEL built=$BUILD_DATE\n";
    let mut r = TestRepo::new();
    r.write("Dockerfile", df);
    r.write(".dockerignore", "Dockerfile\n");
    for i in 0..24 {
        r.write("app.sh", &format!("echo {i}\n"));
        r.commit(&format!("change {i}"));
    }
    let ctx = Context::new(r.path().to_path_buf(), Some(&r.path().join("Dockerfile")));
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    assert!(rewrite::usable_history(Some(&h)).is_some());
    let out = rewrite::rewrite_with(df, Some(&ctx), Some(&h), Options::new(Applicability::Safe))
        .expect("history");
    assert_eq!(
        out.new_text,
        "FROM base\nRUN apt-get update && apt-get install -y curl\nARG BUILD_DATE\nWORKDIR /app\nCOPY . .\nLABEL built=$BUILD_DATE\n"
    );
    let reason = &out
        .changes
        .iter()
        .find(|c| c.applied)
        .expect("a change")
        .reason;
    assert!(reason.starts_with("over 24 commits of history"), "{reason}");
    assert!(
        reason.contains("`ARG BUILD_DATE` is assumed to take a new value on every build"),
        "{reason}"
    );
    let before = replay::figures(df, Some(&ctx), &h);
    let after = replay::figures(&out.new_text, Some(&ctx), &h);
    assert_eq!(before.per_build, vec!["BUILD_DATE".to_string()]);
    let runs = |f: &replay::FileFigures| {
        f.units
            .iter()
            .find(|u| u.instruction.starts_with("RUN apt-get"))
            .expect("install")
            .rebuilds
    };
    // After: only the first commit, which adds the Dockerfile.
    assert_eq!((runs(&before), runs(&after)), (24, 1));
    let text = dockreorder::report::history_text("Dockerfile", &before, &after, &h);
    assert!(
        text.contains("note: `ARG BUILD_DATE` is counted as changed in every commit"),
        "{text}"
    );
}

#[test]
fn a_short_history_defers_to_the_static_estimate() {
    // The same shape with 12 commits: too few to overrule the static
    // estimate (fewer than 20 commits touch the context), so nothing moves.
    let df = "FROM base\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY package.json package-lock.json ./\nRUN npm ci\n";
    let mut r = TestRepo::new();
    r.write("Dockerfile", df);
    r.write(".dockerignore", "node_modules\n");
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    for i in 0..12 {
        r.write("requirements.txt", &format!("flask=={i}\n"));
        r.commit(&format!("bump {i}"));
    }
    let ctx = Context::new(r.path().to_path_buf(), Some(&r.path().join("Dockerfile")));
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    assert!(rewrite::usable_history(Some(&h)).is_none());
    let out = rewrite::rewrite_with(df, Some(&ctx), Some(&h), Options::new(Applicability::Safe))
        .expect("history");
    assert_eq!(out.new_text, df);
}

/// A generated repository of a few thousand commits (git fast-import),
/// compared with `git log --first-parent --no-renames --name-only`.
#[test]
fn counts_agree_with_git_log_on_a_generated_repository() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    let st = Command::new("git")
        .args(["init", "-q"])
        .arg(path)
        .status()
        .expect("git init");
    assert!(st.success());
    let stream = generate_fast_import(3_000, 7);
    support::fast_import(path, &stream);
    let st = Command::new("git")
        .args(["checkout", "-q", "-f", "main"])
        .current_dir(path)
        .status()
        .expect("checkout");
    assert!(st.success());
    let repo = Repo::discover(&path.join("svc/Dockerfile")).expect("discover");
    let h = repo
        .walk(&path.join("svc/Dockerfile"), &path.join("svc"), &paths())
        .expect("walk");
    let log = Command::new("git")
        .args([
            "log",
            "--first-parent",
            "--no-renames",
            "--name-only",
            "--format=%H",
            "--",
            "svc",
        ])
        .current_dir(path)
        .output()
        .expect("git log");
    let text = String::from_utf8_lossy(&log.stdout);
    let mut git_commits: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if line.len() == 40 && line.chars().all(|c| c.is_ascii_hexdigit()) {
            git_commits.push((line.to_string(), Vec::new()));
        } else if !line.is_empty()
            && let Some(last) = git_commits.last_mut()
        {
            last.1.push(line.trim_start_matches("svc/").to_string());
        }
    }
    let ours: Vec<(String, Vec<String>)> = h
        .commits
        .iter()
        .filter(|c| !c.files.is_empty())
        .map(|c| {
            let mut f = c.files.clone();
            f.sort();
            (c.id.clone(), f)
        })
        .collect();
    let mut theirs = git_commits;
    for t in &mut theirs {
        t.1.sort();
    }
    assert_eq!(ours.len(), theirs.len(), "commits touching the context");
    assert_eq!(ours, theirs);
    // Per-COPY counts from git log equal ours.
    let df = std::fs::read_to_string(path.join("svc/Dockerfile")).expect("read");
    let f = replay::figures(&df, None, &h);
    let count = |pred: &dyn Fn(&str) -> bool| {
        theirs
            .iter()
            .filter(|(_, files)| files.iter().any(|f| pred(f)))
            .count() as u64
    };
    let deps = f
        .units
        .iter()
        .find(|u| u.instruction.starts_with("COPY requirements.txt"))
        .expect("deps");
    assert_eq!(deps.source_changes, count(&|f| f == "requirements.txt"));
    let src = f
        .units
        .iter()
        .find(|u| u.instruction.starts_with("COPY app/"))
        .expect("src");
    assert_eq!(src.source_changes, count(&|f| f.starts_with("app/")));
    assert!(h.commits.len() >= 3_000);
    // The walk without path lists answers the same, commit by commit.
    let fast = repo
        .walk(
            &path.join("svc/Dockerfile"),
            &path.join("svc"),
            &WalkOptions::default(),
        )
        .expect("walk");
    let answers = fast.changed(&[".", "app/", "requirements.txt", "app/m1*.py"]);
    for (q, bits) in [".", "app/", "requirements.txt", "app/m1*.py"]
        .iter()
        .zip(&answers)
    {
        let query = Query::parse(q).expect("query");
        let expected: Vec<bool> = h
            .commits
            .iter()
            .map(|c| c.files.iter().any(|f| query.matches(f)))
            .collect();
        assert_eq!(bits.as_slice(), expected.as_slice(), "{q}");
    }
}

fn paths() -> WalkOptions {
    WalkOptions {
        paths: true,
        ..WalkOptions::default()
    }
}

/// A fast-import stream: `n` commits on main, touching files inside and
/// outside `svc/`, with a merge every 50 commits from a side branch.
pub fn generate_fast_import(n: usize, seed: u64) -> String {
    let mut s = String::with_capacity(n * 200);
    let mut rng = seed;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let df = "FROM base\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY app/ ./app/\nCMD [\"python\", \"-m\", \"app\"]\n";
    let mut mark = 0usize;
    let mut last_main = 0usize;
    let mut t = 1_600_000_000u64;
    for i in 0..n {
        mark += 1;
        t += 60;
        let this = mark;
        s.push_str(&format!("commit refs/heads/main\nmark :{this}\ncommitter t <t@example.com> {t} +0000\ndata 4\nc{:02}\n", i % 100));
        if last_main > 0 {
            s.push_str(&format!("from :{last_main}\n"));
        }
        if i == 0 {
            s.push_str(&format!(
                "M 100644 inline svc/Dockerfile\ndata {}\n{df}\n",
                df.len()
            ));
            s.push_str("M 100644 inline svc/requirements.txt\ndata 6\nflask\n\n");
        }
        let r = next();
        let body = format!("{i}-{r}\n");
        match r % 10 {
            0 => s.push_str(&format!(
                "M 100644 inline svc/requirements.txt\ndata {}\n{body}\n",
                body.len()
            )),
            1..=5 => s.push_str(&format!(
                "M 100644 inline svc/app/m{}.py\ndata {}\n{body}\n",
                r % 40,
                body.len()
            )),
            6 => s.push_str(&format!("D svc/app/m{}.py\n", r % 40)),
            _ => s.push_str(&format!(
                "M 100644 inline other/f{}.txt\ndata {}\n{body}\n",
                r % 20,
                body.len()
            )),
        }
        if i > 0 && i % 50 == 0 {
            // A side commit merged as the second parent.
            mark += 1;
            let side = mark;
            s.push_str(&format!(
                "commit refs/heads/side\nmark :{side}\ncommitter t <t@example.com> {t} +0000\ndata 4\nside\nfrom :{this}\nM 100644 inline svc/app/side{i}.py\ndata 2\nx\n\n"
            ));
            mark += 1;
            let merge = mark;
            t += 1;
            s.push_str(&format!(
                "commit refs/heads/main\nmark :{merge}\ncommitter t <t@example.com> {t} +0000\ndata 5\nmerge\nfrom :{this}\nmerge :{side}\n\n"
            ));
            last_main = merge;
        } else {
            last_main = this;
        }
    }
    s
}

#[test]
fn explain_shows_change_frequency_bars_and_text_summary_shows_evidence() {
    let r = npm_repo(9);
    let out = Command::new(support::bin())
        .current_dir(r.path())
        .args(["explain", "Dockerfile"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("history: 9 commits walked (first parent)"),
        "{text}"
    );
    assert!(
        text.contains("████████████████████      9 of 9 commits"),
        "{text}"
    );
    let out = Command::new(support::bin())
        .current_dir(r.path())
        .arg("Dockerfile")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("history: 9 commits walked (first parent, the whole history)"),
        "{err}"
    );
    assert!(
        err.contains("`RUN npm ci` ran in 9 of them before, 1 after"),
        "{err}"
    );
}

#[test]
fn partial_clone_without_blobs_does_not_crash() {
    let mut r = TestRepo::new();
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    // `.git` stays out of the context: npm may run git (`git ls-remote`)
    // where a shipped repository would be found, which makes the hoist
    // Unsafe and leaves nothing to report.
    r.write(".dockerignore", "node_modules\n.git\n");
    for i in 0..5 {
        r.write(
            "Dockerfile",
            &format!("FROM base:{i}\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"),
        );
        r.write("index.js", &i.to_string());
        r.commit(&format!("c{i}"));
    }
    r.repo
        .config()
        .and_then(|mut c| c.set_bool("uploadpack.allowFilter", true))
        .expect("config");
    let clone = tempfile::tempdir().expect("tempdir");
    let c = clone.path().join("c");
    let url = format!("file://{}", r.path().display());
    let out = Command::new("git")
        .args(["clone", "-q", "--filter=blob:none", &url])
        .arg(&c)
        .output()
        .expect("git clone");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(support::bin())
        .current_dir(&c)
        .arg("Dockerfile")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("history: 5 commits walked"), "{err}");
    // Old Dockerfile versions are not in the clone: said, not fatal.
    assert!(err.contains("missing (partial clone?)"), "{err}");
}

#[test]
fn since_and_json_history_fields() {
    let r = npm_repo(6);
    // Commits are one minute apart from 1_700_000_060 on: --since the
    // fourth keeps the last three.
    let h = walk(
        &r,
        "Dockerfile",
        ".",
        &WalkOptions {
            since: Some(1_700_000_240),
            ..WalkOptions::default()
        },
    );
    assert_eq!(h.commits.len(), 3);
    assert_eq!(h.end, WalkEnd::Since);
    let out = Command::new(support::bin())
        .current_dir(r.path())
        .args(["--format", "json", "--max-commits", "4", "Dockerfile"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = &v[0];
    assert_eq!(f["history"]["commits_walked"], 4);
    assert_eq!(f["history"]["first_parent"], true);
    assert_eq!(f["history"]["truncated"], true);
    let npm = f["instructions_history"]
        .as_array()
        .expect("instructions")
        .iter()
        .find(|u| u["instruction"] == "RUN npm ci")
        .expect("npm");
    assert_eq!(npm["rebuilds"]["before"], 4);
    assert_eq!(npm["rebuilds"]["after"], 0);
    assert_eq!(npm["source_changes"], 0);
    let copy_all = f["instructions_history"]
        .as_array()
        .expect("instructions")
        .iter()
        .find(|u| u["instruction"] == "COPY . .")
        .expect("copy");
    assert_eq!(copy_all["source_changes"], 4);
    assert!(f["expected_cost"]["after"].as_f64() < f["expected_cost"]["before"].as_f64());
}

/// `COPY . .` then `RUN npm ci`, with `commits` commits that each change
/// `index.js` only.
fn npm_repo(commits: usize) -> TestRepo {
    let mut r = TestRepo::new();
    r.write(
        "Dockerfile",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
    );
    r.write(".dockerignore", "node_modules\n.git\n");
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    for i in 0..commits {
        r.write("index.js", &i.to_string());
        r.commit(&format!("c{i}"));
    }
    r
}

/// The walk's shortcuts (subtrees a `.dockerignore` certainly excludes are
/// skipped, a broad copy stops at the first kept file) give the answers of
/// the full diff, with an allow-list `.dockerignore` (exceptions) that
/// changes over time.
#[test]
fn answers_equal_the_full_diff_with_allow_list_dockerignore() {
    let mut r = TestRepo::new();
    r.write("Dockerfile", "FROM base\nCOPY go.mod ./\nCOPY . .\n");
    r.write(
        ".dockerignore",
        "*\n!src\n!go.mod\nsrc/gen\n!src/gen/keep.go\n",
    );
    r.write("go.mod", "module x\n");
    r.write("src/a.go", "1");
    r.write("src/gen/x.go", "1");
    r.write("src/gen/keep.go", "1");
    r.write("docs/deep/a/b.md", "1");
    r.commit("root"); // 0
    r.write("docs/deep/a/b.md", "2");
    r.commit("docs only: excluded"); // 1
    r.write("src/gen/x.go", "2");
    r.commit("generated: excluded"); // 2
    r.write("src/gen/keep.go", "2");
    r.commit("kept by an exception"); // 3
    r.write("vendor/m/n.go", "1");
    r.write("src/a.go", "2");
    r.commit("vendor and src"); // 4
    r.write(".dockerignore", "docs/deep\n");
    r.commit("ignore rules change"); // 5: .dockerignore itself is kept now
    r.write("docs/deep/a/b.md", "3");
    r.write("docs/top.md", "1");
    r.commit("docs, one excluded, one kept"); // 6
    r.write("docs/deep/a/b.md", "4");
    r.commit("excluded again"); // 7
    let slow = walk(&r, "Dockerfile", ".", &paths());
    let fast = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    let queries = [
        ".", "src", "src/*.go", "src/gen/", "go.mod", "docs", "vendor/m",
    ];
    let answers = fast.changed(&queries);
    for (q, bits) in queries.iter().zip(&answers) {
        let query = Query::parse(q).expect("query");
        let expected: Vec<bool> = slow
            .commits
            .iter()
            .map(|c| c.files.iter().any(|f| query.matches(f)))
            .collect();
        assert_eq!(bits.as_slice(), expected.as_slice(), "{q}");
    }
    // Newest first: commits 7..0.
    assert_eq!(
        answers[0].as_slice(),
        &[false, true, true, true, true, false, false, true],
        "COPY . ."
    );
}

/// A `.dockerignore` that starts with a byte-order mark (BuildKit drops
/// it): the walk's shortcuts read the first pattern as the rules do. They
/// took the mark as part of it, so `docs` was "certainly kept" and a
/// commit changing only `docs/` counted as changing `COPY . .`.
#[test]
fn a_byte_order_mark_in_the_dockerignore_is_dropped_by_the_shortcuts_too() {
    let mut r = TestRepo::new();
    r.write("Dockerfile", "FROM base\nCOPY . .\n");
    r.write(".dockerignore", "\u{feff}docs\n");
    r.write("docs/a/b.md", "1");
    r.write("src/a.go", "1");
    r.commit("root"); // 0
    r.write("docs/a/b.md", "2");
    r.commit("docs only: excluded"); // 1
    r.write("src/a.go", "2");
    r.commit("src"); // 2
    let slow = walk(&r, "Dockerfile", ".", &paths());
    let fast = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    let queries = [".", "docs", "src"];
    let answers = fast.changed(&queries);
    for (q, bits) in queries.iter().zip(&answers) {
        let query = Query::parse(q).expect("query");
        let expected: Vec<bool> = slow
            .commits
            .iter()
            .map(|c| c.files.iter().any(|f| query.matches(f)))
            .collect();
        assert_eq!(bits.as_slice(), expected.as_slice(), "{q}");
    }
    // Newest first: commits 2..0.
    assert_eq!(answers[0].as_slice(), &[true, false, true], "COPY . .");
}

/// Issue 12: an empty commit object in a full clone is damage, not a
/// shallow boundary.
#[test]
fn issue_12_empty_commit_object_is_reported_as_corrupt() {
    let mut r = TestRepo::new();
    r.write("Dockerfile", DF);
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    for i in 0..4 {
        r.write("src/index.js", &i.to_string());
        r.commit(&format!("c{i}"));
    }
    let head = r
        .repo
        .head()
        .expect("head")
        .peel_to_commit()
        .expect("commit");
    let bad = head.parent_id(0).expect("parent");
    loose_object_bytes(&r, bad, |_| Vec::new());
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    assert_eq!(h.end, WalkEnd::Corrupt);
    // HEAD's parent is damaged, so what HEAD changed is not known: it is
    // not counted (it was, as a commit that rebuilt everything, before
    // stop 30; a shallow boundary is not counted either).
    assert_eq!(h.commits.len(), 0);
    assert!(h.truncated());
    assert!(
        h.notes.iter().any(|n| n.contains("damaged repository")),
        "{:?}",
        h.notes
    );
}

/// Issue 12: a truncated loose tree on the walked chain makes libgit2's
/// inflate loop spin; the walk gives up with an error within seconds.
#[test]
fn issue_12_truncated_loose_object_is_an_error_not_a_hang() {
    let mut r = TestRepo::new();
    r.write("Dockerfile", DF);
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    for i in 0..4 {
        r.write("src/index.js", &i.to_string());
        r.write(&format!("d{i}/x"), "x");
        r.commit(&format!("c{i}"));
    }
    let head = r
        .repo
        .head()
        .expect("head")
        .peel_to_commit()
        .expect("commit");
    let tree = head
        .parent(0)
        .and_then(|p| p.parent(0))
        .expect("grandparent")
        .tree_id();
    loose_object_bytes(&r, tree, |b| b[..b.len() / 2].to_vec());
    let path = r.path().to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let repo = Repo::discover(&path.join("Dockerfile")).expect("discover");
        let opts = WalkOptions {
            stall: Some(std::time::Duration::from_secs(2)),
            ..WalkOptions::default()
        };
        let _ = tx.send(repo.walk(&path.join("Dockerfile"), &path, &opts));
    });
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the walk must end within seconds");
    match got {
        Err(e) => assert!(e.to_string().contains("no progress"), "{e:?}"),
        Ok(h) => assert!(!h.notes.is_empty(), "a damaged tree must be said"),
    }
}

/// Rewrites the loose object file of `id` with `f(bytes)`.
fn loose_object_bytes(r: &TestRepo, id: git2::Oid, f: impl Fn(&[u8]) -> Vec<u8>) {
    let hex = id.to_string();
    let p = r
        .repo
        .path()
        .join("objects")
        .join(&hex[..2])
        .join(&hex[2..]);
    let bytes = std::fs::read(&p).expect("loose object");
    let mut perms = std::fs::metadata(&p).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&p, perms).expect("chmod");
    std::fs::write(&p, f(&bytes)).expect("write object");
}

/// The shortcuts of the walk (globs that prune directories, paths answered
/// in batches, decisions remembered per `.dockerignore` version, answers
/// given during the walk or by a later pass) give the answers of the full
/// diff, on a history with nested directories, a file that becomes a
/// directory and back, and `.dockerignore` versions with exceptions.
#[test]
fn answers_equal_the_full_diff_for_globs_nested_paths_and_type_changes() {
    let mut r = TestRepo::new();
    r.write(
        "Dockerfile",
        "FROM base\nCOPY package.json ./\nCOPY a/*/c.txt ./\nCOPY . .\n",
    );
    let pool = [
        "a/b/c.txt",
        "a/b/d/e.go",
        "a/x.go",
        "a/bb/c.txt",
        "ab/c",
        "b/c/d.txt",
        "b/c/e.txt",
        "package.json",
        "pkg/package.json",
        "pkg/deep/er/go.mod",
        "local_plugins/p/index.js",
        "vendor/v/w/x.go",
        "t",
        "t/u",
    ];
    let ignores = [
        "",
        "a/b\n!a/b/d\n",
        "*\n!a\n!t\n!package.json\n",
        "**/*.txt\n",
        "b\n!b/c/d.txt\nvendor\n",
    ];
    let mut rng: u64 = 99;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for f in &pool[..12] {
        r.write(f, "0");
    }
    r.write("t", "0");
    r.commit("root");
    for i in 0..80 {
        let ops = 1 + next() % 3;
        for _ in 0..ops {
            let k = (next() % (pool.len() as u64 + 2)) as usize;
            if k == pool.len() {
                r.write(".dockerignore", ignores[(next() % 5) as usize]);
                continue;
            }
            if k == pool.len() + 1 {
                let victim = pool[(next() % 12) as usize];
                if r.path().join(victim).is_file() {
                    r.remove(victim);
                }
                continue;
            }
            let f = pool[k];
            // `t` is a file or a directory holding `u`.
            if f == "t" && r.path().join("t").is_dir() {
                std::fs::remove_dir_all(r.path().join("t")).expect("rm t/");
            }
            if f == "t/u" && r.path().join("t").is_file() {
                r.remove("t");
            }
            r.write(f, &format!("{i}-{}", next()));
        }
        r.commit(&format!("c{i}"));
    }
    let slow = walk(&r, "Dockerfile", ".", &paths());
    let fast = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    let queries = [
        ".",
        "./",
        "a",
        "a/",
        "a/*",
        "a/*/c.txt",
        "a/b*",
        "[ab]/c",
        "*/c/*.txt",
        "a/**/e.go",
        "*.go",
        "t",
        "t/*",
        "t/u",
        "package.json",
        "./package.json",
        "pkg/package.json",
        "pkg/deep/er/go.mod",
        "local_plugin[s]",
        "{a,b}/c",
        "vendor",
        "missing/file",
    ];
    let answers = fast.changed(&queries);
    let mut some = 0;
    for (q, bits) in queries.iter().zip(&answers) {
        let query = Query::parse(q).expect("query");
        let expected: Vec<bool> = slow
            .commits
            .iter()
            .map(|c| c.files.iter().any(|f| query.matches(f)))
            .collect();
        assert_eq!(bits.as_slice(), expected.as_slice(), "{q}");
        some += usize::from(expected.iter().any(|&b| b));
    }
    assert!(some >= 18, "most queries see changes ({some})");
    // Asked one at a time (each its own pass or answer), the same.
    for q in ["a/*/c.txt", "t/*", "pkg/package.json"] {
        let one = fast.changed(&[q]);
        let both = fast.changed(&queries);
        let k = queries.iter().position(|x| x == &q).expect("q");
        assert_eq!(one[0], both[k], "{q}");
    }
}

/// Every object the pack reader returns is byte for byte what libgit2
/// reads, for packs whose deltas name their base by offset (what `git gc`
/// writes) and by id (`repack.useDeltaBaseOffset=false`), with deep delta
/// chains; a commit's prefix is the start of the commit.
#[test]
fn the_pack_reader_reads_what_libgit2_reads() {
    use dockreorder::analysis::packs::{Kind, Packs, Reader};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    support::git(path, &["init", "-q"]);
    support::fast_import(path, &generate_fast_import(400, 11));
    let repo = Repository::open(path).expect("open");
    let odb = repo.odb().expect("odb");
    let repacks: [&[&str]; 2] = [
        &[
            "-c",
            "repack.useDeltaBaseOffset=false",
            "repack",
            "-q",
            "-a",
            "-d",
            "-f",
        ],
        &[
            "repack",
            "-q",
            "-a",
            "-d",
            "-f",
            "--depth=250",
            "--window=250",
        ],
    ];
    for args in repacks {
        support::git(path, args);
        let list = support::git(
            path,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objectname) %(deltabase)",
            ],
        );
        let mut reader = Reader::new(std::sync::Arc::new(
            Packs::open(&path.join(".git/objects")).expect("packs"),
        ));
        let (mut deltas, mut commits) = (0, 0);
        // Several rounds: more reads than the reader makes between two
        // releases of its mapped pages, so reads after a release are
        // compared too.
        for round in 0..6 {
            for line in list.lines() {
                let (id, base) = line.split_once(' ').expect("two fields");
                let oid = git2::Oid::from_str(id).expect("oid");
                let raw: &[u8; 20] = oid.as_bytes().try_into().expect("sha1");
                let want = odb.read(oid).expect("libgit2 reads it");
                let (kind, got) = reader.read(raw).expect("the pack reader reads it");
                assert_eq!(&*got, want.data(), "{id} ({args:?}, round {round})");
                if round > 0 {
                    continue;
                }
                deltas += usize::from(!base.starts_with("0000"));
                if kind == Kind::Commit {
                    commits += 1;
                    let (_, start) = reader.read_prefix(raw, |b| b.len() > 60).expect("prefix");
                    assert!(start.len() > 60 && want.data().starts_with(&start), "{id}");
                }
            }
        }
        assert!(
            list.lines().count() * 6 > 1 << 13,
            "too few reads for a release"
        );
        assert!(
            deltas > 100 && commits >= 400,
            "{deltas} deltas, {commits} commits"
        );
    }
}

/// Issue 13: the first-parent chain is read from the commit-graph file
/// where it lists the commits (git gc writes one), and from the commit
/// objects for those made after it: the walk is the same as without it,
/// merges, a root and a damaged graph included.
#[test]
fn a_commit_graph_gives_the_same_walk_as_the_commit_objects() {
    let mut r = TestRepo::new();
    r.write("Dockerfile", DF);
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    r.write("src/index.js", "0");
    let root = r.commit("root");
    let head_ref = r
        .repo
        .head()
        .expect("head")
        .name()
        .expect("name")
        .to_string();
    r.write("src/index.js", "side");
    let side = r.commit("side");
    r.repo
        .reference(&head_ref, root, true, "reset")
        .expect("reset");
    r.repo
        .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .expect("checkout");
    for i in 1..6 {
        r.write("src/index.js", &i.to_string());
        if i == 3 {
            r.write("package.json", "{\"v\":3}");
            r.commit_with("merge side", &[side]);
        } else {
            r.commit(&format!("c{i}"));
        }
    }
    let summary = |h: &dockreorder::analysis::history::History| {
        let changed = h.changed(&[".", "src", "package.json"]);
        (
            h.commits
                .iter()
                .map(|c| (c.id.clone(), c.files.clone()))
                .collect::<Vec<_>>(),
            h.end,
            changed.iter().map(|a| a.to_vec()).collect::<Vec<_>>(),
        )
    };
    let plain = summary(&walk(&r, "Dockerfile", ".", &paths()));
    let graph = r.path().join(".git/objects/info/commit-graph");
    let st = Command::new("git")
        .args(["commit-graph", "write", "--reachable"])
        .current_dir(r.path())
        .status()
        .expect("git commit-graph");
    assert!(st.success() && graph.exists());
    assert_eq!(summary(&walk(&r, "Dockerfile", ".", &paths())), plain);
    // Two commits the graph does not list, on top of those it does.
    for i in 6..8 {
        r.write("src/index.js", &i.to_string());
        r.commit(&format!("c{i}"));
    }
    let after = summary(&walk(&r, "Dockerfile", ".", &paths()));
    std::fs::rename(&graph, r.path().join("graph.bak")).expect("move graph");
    assert_eq!(summary(&walk(&r, "Dockerfile", ".", &paths())), after);
    assert_eq!(after.0.len(), plain.0.len() + 2);
    // A damaged graph (cut short) is no graph.
    let bytes = std::fs::read(r.path().join("graph.bak")).expect("read graph");
    std::fs::write(&graph, &bytes[..bytes.len() / 2]).expect("write graph");
    assert_eq!(summary(&walk(&r, "Dockerfile", ".", &paths())), after);
}

/// The CDAT chunk's offset and the commit count of a commit-graph file.
fn graph_cdat(b: &[u8]) -> (usize, usize) {
    let chunks = usize::from(b[6]);
    let mut cdat = 0;
    let mut fanout = 0;
    for k in 0..chunks {
        let at = 8 + k * 12;
        let off = u64::from_be_bytes(b[at + 4..at + 12].try_into().expect("offset")) as usize;
        match &b[at..at + 4] {
            b"CDAT" => cdat = off,
            b"OIDF" => fanout = off,
            _ => {}
        }
    }
    let count = u32::from_be_bytes(
        b[fanout + 255 * 4..fanout + 256 * 4]
            .try_into()
            .expect("count"),
    );
    (cdat, count as usize)
}

#[test]
fn a_damaged_commit_graph_neither_hangs_nor_changes_the_counts() {
    // Review 3: first parents patched into a circle made the walk endless
    // (memory growing without bound); every tree id flipped made it count
    // every commit as a change, with no note.
    let mut r = TestRepo::new();
    r.write("Dockerfile", DF);
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    for i in 0..4 {
        r.write("src/index.js", &i.to_string());
        r.commit(&format!("c{i}"));
    }
    let plain = walk(&r, "Dockerfile", ".", &paths());
    let graph = r.path().join(".git/objects/info/commit-graph");
    let st = Command::new("git")
        .args(["commit-graph", "write", "--reachable"])
        .current_dir(r.path())
        .status()
        .expect("git commit-graph");
    assert!(st.success() && graph.exists());
    let good = std::fs::read(&graph).expect("graph");
    let (cdat, count) = graph_cdat(&good);
    // Every tree id flipped: the graph disagrees with the head's object
    // and is not read.
    let mut b = good.clone();
    for i in 0..count {
        b[cdat + i * 36] ^= 0xff;
    }
    std::fs::write(&graph, &b).expect("write");
    let h = walk(&r, "Dockerfile", ".", &paths());
    assert_eq!(h.commits.len(), plain.commits.len());
    assert_eq!(h.changed(&["src"]), plain.changed(&["src"]));
    // The root's first parent patched to another commit of the chain: the
    // head agrees, the chain runs in a circle.
    let mut b = good.clone();
    let root = (0..count)
        .find(|i| b[cdat + i * 36 + 20..cdat + i * 36 + 24] == 0x7000_0000u32.to_be_bytes())
        .expect("a root");
    let at = cdat + root * 36 + 20;
    b[at..at + 4].copy_from_slice(&(((root + 1) % count) as u32).to_be_bytes());
    std::fs::write(&graph, &b).expect("write");
    let (tx, rx) = std::sync::mpsc::channel();
    let r2 = r.path().to_path_buf();
    std::thread::spawn(move || {
        let repo = Repo::discover(&r2.join("Dockerfile")).expect("discover");
        let h = repo
            .walk(&r2.join("Dockerfile"), &r2, &paths())
            .expect("walk");
        let _ = tx.send((h.commits.len(), h.end));
    });
    let (len, end) = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the walk ends");
    assert!(len <= count + 1, "{len} commits from a graph of {count}");
    assert_ne!(end, plain.end, "a circle is no root: {end:?}");
}

/// A history too short to weigh the order by: the change follows the
/// static estimate, and the walked commits' figures (which may show no
/// saving) are said to be only that, not the reason for the change; one
/// commit is "1 commit".
#[test]
fn figures_of_a_too_short_history_are_not_passed_off_as_the_reason() {
    let r = npm_repo(1);
    let out = Command::new(support::bin())
        .current_dir(r.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 change (static estimate: fewer than 20 commits"),
        "{err}"
    );
    assert!(err.contains("history: 1 commit walked"), "{err}");
    assert!(!err.contains("1 commits"), "{err}");
    assert!(
        err.contains("note: too few commits to weigh the order by; it follows the static estimate"),
        "{err}"
    );
    // A usable history carries no such note.
    let r = npm_repo(30);
    let out = Command::new(support::bin())
        .current_dir(r.path())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ordered by the walked history"), "{err}");
    assert!(!err.contains("too few commits"), "{err}");
}

/// A Dockerfile edit whose text no instruction of today's file has (an
/// old `FROM` edited to another old `FROM`) is placed by its position;
/// the rewritten file inserts a `COPY` in the first stage, which shifts
/// every position after it. The edit must still land on the same
/// instruction (the second stage's `FROM`), so that a stage the rewrite
/// does not touch keeps its figures: `after` equals `before`.
#[test]
fn an_edit_placed_by_position_lands_on_the_same_instruction_after_a_rewrite() {
    let mut r = TestRepo::new();
    let df = |from: &str| {
        format!(
            "FROM node AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci\n\n\
             FROM {from}\nRUN apk add --no-cache git\nCOPY --from=build /app /app\n"
        )
    };
    r.write(".dockerignore", "node_modules\n.git\n");
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    r.write("Dockerfile", &df("alpine:3.1"));
    r.commit("root");
    r.write("Dockerfile", &df("alpine:3.2"));
    r.commit("runtime base 3.2"); // its text is not today's: placed by position
    r.write("Dockerfile", &df("alpine:3.22"));
    r.commit("runtime base 3.22");
    for i in 0..24 {
        r.write("index.js", &i.to_string());
        r.commit(&format!("c{i}"));
    }
    let out = Command::new(support::bin())
        .current_dir(r.path())
        .args(["--format", "json", "Dockerfile"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = &v[0];
    assert_eq!(f["changed"], true, "npm ci is hoisted: {f}");
    let units = f["instructions_history"].as_array().expect("instructions");
    let apk = units
        .iter()
        .find(|u| u["instruction"] == "RUN apk add --no-cache git")
        .expect("apk");
    // Root, `3.2` (by position: the second FROM) and `3.22` (by text).
    assert_eq!(apk["rebuilds"]["before"], 3, "{apk}");
    assert_eq!(apk["rebuilds"]["after"], 3, "{apk}");
    let npm = units
        .iter()
        .find(|u| u["instruction"] == "RUN npm ci")
        .expect("npm");
    // Root only: the `3.2` edit reruns nothing of the first stage.
    assert_eq!(npm["rebuilds"]["after"], 1, "{npm}");
}

/// `--since` keeps the commits from a date on: the oldest one kept is
/// diffed against its parent (older than the date, not walked), as
/// `--max-commits` does, not against nothing as if it were the root.
#[test]
fn the_oldest_commit_since_a_date_is_diffed_against_its_parent() {
    let mut r = TestRepo::new();
    r.write("Dockerfile", DF);
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    r.write("src/index.js", "0");
    r.commit("root"); // 1_700_000_060
    for i in 1..6 {
        r.write("src/index.js", &i.to_string());
        r.commit(&format!("src {i}")); // 1_700_000_060 + 60 i
    }
    // The last three: src changes only.
    let since = walk(
        &r,
        "Dockerfile",
        ".",
        &WalkOptions {
            since: Some(1_700_000_240),
            ..WalkOptions::default()
        },
    );
    assert_eq!(since.commits.len(), 3);
    assert_eq!(since.end, WalkEnd::Since);
    let limit = walk(
        &r,
        "Dockerfile",
        ".",
        &WalkOptions {
            max_commits: Some(3),
            ..WalkOptions::default()
        },
    );
    let text = std::fs::read_to_string(r.path().join("Dockerfile")).expect("read");
    let by_since = figures_by_text(&replay::figures(&text, None, &since));
    assert_eq!(
        by_since,
        figures_by_text(&replay::figures(&text, None, &limit))
    );
    assert_eq!(
        by_since,
        vec![
            ("WORKDIR /app".to_string(), 0, 0),
            ("COPY package.json package-lock.json ./".to_string(), 0, 0),
            ("RUN npm ci".to_string(), 0, 0),
            ("COPY src/ ./src/".to_string(), 3, 3),
            ("CMD [\"node\", \"src/index.js\"]".to_string(), 0, 3),
        ]
    );
}

/// The pull-request body says, as the text report does, that a history
/// too short to weigh the order by did not decide it.
#[test]
fn the_pull_request_body_says_a_too_short_history_did_not_decide() {
    let md = |commits: usize| {
        let r = npm_repo(commits);
        let out = Command::new(support::bin())
            .current_dir(r.path())
            .args(["--format", "markdown"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let short = md(3);
    assert!(short.contains("3 commits walked"), "{short}");
    assert!(
        short.contains(
            "  - Note: too few commits to weigh the order by; it follows the static estimate"
        ),
        "{short}"
    );
    let long = md(30);
    assert!(long.contains("30 commits walked"), "{long}");
    assert!(!long.contains("too few commits"), "{long}");
}

/// JSON and SARIF say, as the text report and the pull-request body do,
/// whether the walked history decided the order or was too short to (the
/// static estimate did).
#[test]
fn json_and_sarif_say_whether_the_history_decided_the_order() {
    let run = |r: &TestRepo, format: &str| {
        let out = Command::new(support::bin())
            .current_dir(r.path())
            .args(["--format", format, "Dockerfile"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let short = npm_repo(3);
    let v = run(&short, "json");
    assert_eq!(v[0]["ordered_by"], "static_estimate", "{v}");
    assert_eq!(v[0]["history"]["decided_order"], false, "{v}");
    assert_eq!(v[0]["history"]["context_commits"], 3, "{v}");
    assert_eq!(v[0]["history"]["commits_walked"], 3, "{v}");
    let s = run(&short, "sarif");
    let result = &s["runs"][0]["results"][0];
    assert_eq!(result["properties"]["orderedBy"], "static_estimate", "{s}");
    let note = result["properties"]["historyNote"].as_str().unwrap_or("");
    assert!(note.contains("3 commits walked"), "{s}");
    assert!(note.contains("too few to weigh the order by"), "{s}");
    let long = npm_repo(30);
    let v = run(&long, "json");
    assert_eq!(v[0]["ordered_by"], "history", "{v}");
    assert_eq!(v[0]["history"]["decided_order"], true, "{v}");
    assert_eq!(v[0]["history"]["context_commits"], 30, "{v}");
    let s = run(&long, "sarif");
    let result = &s["runs"][0]["results"][0];
    assert_eq!(result["properties"]["orderedBy"], "history", "{s}");
    assert!(result["properties"].get("historyNote").is_none(), "{s}");
    // Without a repository, the static estimate orders, and says so.
    let dir = support::project(&[
        (
            "Dockerfile",
            "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        ),
        ("package.json", "{}"),
        ("package-lock.json", "{}"),
    ]);
    let out = Command::new(support::bin())
        .current_dir(dir.path())
        .args(["--format", "json", "Dockerfile"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v[0]["ordered_by"], "static_estimate", "{v}");
    assert!(v[0]["history"].is_null(), "{v}");
}

/// A shallow clone's boundary commit has no parent in the clone: what it
/// changed is not known, and diffing it against nothing counted every
/// instruction as rebuilt. It is not walked; the figures are those of the
/// commits below it, as `git diff-tree` gives them.
#[test]
fn a_shallow_boundary_commit_is_not_counted_as_a_full_rebuild() {
    let mut r = TestRepo::new();
    r.write("Dockerfile", DF);
    r.write("package.json", "{}");
    r.write("package-lock.json", "{}");
    for i in 0..8 {
        r.write("src/index.js", &i.to_string());
        r.commit(&format!("c{i}"));
    }
    let clone = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", r.path().display());
    let c = clone.path().join("c");
    let st = Command::new("git")
        .args(["clone", "-q", "--depth", "4", &url])
        .arg(&c)
        .status()
        .expect("git clone");
    assert!(st.success());
    // The recount: the clone's commits, and the ones git can diff (their
    // parent is in the clone).
    let listed = support::git(&c, &["rev-list", "HEAD"]);
    let listed: Vec<&str> = listed.lines().collect();
    assert_eq!(listed.len(), 4);
    let shallow = std::fs::read_to_string(c.join(".git/shallow")).expect("shallow file");
    let diffable: Vec<&str> = listed
        .iter()
        .copied()
        .filter(|id| !shallow.contains(id))
        .collect();
    assert_eq!(diffable.len(), 3);
    let mut src_changes = 0;
    for id in &diffable {
        let files = support::git(
            &c,
            &["diff-tree", "--no-commit-id", "--name-only", "-r", id],
        );
        if files.lines().any(|f| f.starts_with("src/")) {
            src_changes += 1;
        }
        assert!(
            !files
                .lines()
                .any(|f| f == "Dockerfile" || f.starts_with("package"))
        );
    }
    for all_parents in [false, true] {
        let repo = Repo::discover(&c.join("Dockerfile")).expect("discover");
        let h = repo
            .walk(
                &c.join("Dockerfile"),
                &c,
                &WalkOptions {
                    all_parents,
                    ..WalkOptions::default()
                },
            )
            .expect("walk");
        assert_eq!(
            h.commits.len(),
            diffable.len(),
            "all parents: {all_parents}"
        );
        assert_eq!(h.end, WalkEnd::Shallow);
        let text = std::fs::read_to_string(c.join("Dockerfile")).expect("read");
        let got = figures_by_text(&replay::figures(&text, None, &h));
        assert_eq!(
            got,
            vec![
                ("WORKDIR /app".to_string(), 0, 0),
                ("COPY package.json package-lock.json ./".to_string(), 0, 0),
                ("RUN npm ci".to_string(), 0, 0),
                ("COPY src/ ./src/".to_string(), src_changes, src_changes),
                (
                    "CMD [\"node\", \"src/index.js\"]".to_string(),
                    0,
                    src_changes
                ),
            ],
            "all parents: {all_parents}"
        );
    }
    // A clone deeper than the history has all of it: it reaches the root,
    // which is counted as in a full clone.
    let deep = clone.path().join("deep");
    let st = Command::new("git")
        .args(["clone", "-q", "--depth", "50", &url])
        .arg(&deep)
        .status()
        .expect("git clone");
    assert!(st.success());
    let repo = Repo::discover(&deep.join("Dockerfile")).expect("discover");
    let h = repo
        .walk(&deep.join("Dockerfile"), &deep, &WalkOptions::default())
        .expect("walk");
    assert_eq!(h.commits.len(), 8);
    let full = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    let text = std::fs::read_to_string(r.path().join("Dockerfile")).expect("read");
    assert_eq!(
        figures_by_text(&replay::figures(&text, None, &h)),
        figures_by_text(&replay::figures(&text, None, &full))
    );
}

/// An edit before the first `FROM` rebuilds what BuildKit rebuilds
/// (measured with BuildKit on busybox stages): a comment nothing; a global
/// `ARG`'s default the stages that declare it (or a global `ARG` whose
/// default uses it) from that `ARG` on, and the stages whose `FROM` uses
/// it; a `syntax` directive (a different frontend) is counted as
/// rebuilding every stage. It was counted as rebuilding every stage
/// (and a directive as rebuilding nothing).
#[test]
fn an_edit_before_the_first_from_rebuilds_only_the_stages_that_use_it() {
    let df = |directive: &str, comment: &str, tag: &str, env: &str| {
        format!(
            "{directive}# {comment}\nARG BASE_TAG={tag}\nARG NODE_ENV={env}\nARG DERIVED=${{NODE_ENV}}-x\n\
             FROM base:${{BASE_TAG}} AS build\nWORKDIR /app\nCOPY src/ ./src/\nRUN make\n\n\
             FROM base AS runtime\nARG NODE_ENV\nRUN echo hi\nCOPY --from=build /app /app\n\n\
             FROM base AS other\nARG DERIVED\nRUN other\n\n\
             FROM base AS plain\nRUN plain\n"
        )
    };
    let mut r = TestRepo::new();
    r.write("src/a", "1");
    r.write("Dockerfile", &df("", "one", "1", "production"));
    r.commit("root"); // 1: everything
    r.write("Dockerfile", &df("", "two", "1", "production"));
    r.commit("comment"); // 2: nothing
    r.write("Dockerfile", &df("", "two", "1", "development"));
    r.commit("NODE_ENV"); // 3: runtime from its ARG on; other (DERIVED)
    r.write("Dockerfile", &df("", "two", "2", "development"));
    r.commit("BASE_TAG"); // 4: build wholly, runtime's COPY --from=build
    r.write("src/a", "2");
    r.commit("src"); // 5: build's COPY and RUN, runtime's COPY --from=build
    r.write(
        "Dockerfile",
        &df(
            "# syntax=docker/dockerfile:1.7\n",
            "two",
            "2",
            "development",
        ),
    );
    r.commit("syntax"); // 6: every stage
    // The recount: the commits that touched the Dockerfile, and how.
    let log = support::git(
        r.path(),
        &["log", "--format=%s", "--name-only", "--", "Dockerfile"],
    );
    assert_eq!(
        log.lines().filter(|l| *l == "Dockerfile").count(),
        5,
        "{log}"
    );
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    assert_eq!(h.commits.len(), 6);
    let text = std::fs::read_to_string(r.path().join("Dockerfile")).expect("read");
    let got: Vec<(String, u64)> = figures_by_text(&replay::figures(&text, None, &h))
        .into_iter()
        .map(|(t, _, n)| (t, n))
        .collect();
    let want = |t: &str, n: u64| (t.to_string(), n);
    assert_eq!(
        got,
        vec![
            want("WORKDIR /app", 3),                // 1, 4, 6
            want("COPY src/ ./src/", 4),            // 1, 4, 5, 6
            want("RUN make", 4),                    // 1, 4, 5, 6
            want("ARG NODE_ENV", 3),                // 1, 3, 6
            want("RUN echo hi", 3),                 // 1, 3, 6
            want("COPY --from=build /app /app", 5), // 1, 3, 4, 5, 6
            want("ARG DERIVED", 3),                 // 1, 3, 6
            want("RUN other", 3),                   // 1, 3, 6
            want("RUN plain", 2),                   // 1, 6
        ]
    );
}

/// A stage's `ARG NAME=default` takes its own default, not the global
/// one: a change of the global `ARG`'s default rebuilds nothing there
/// (measured with BuildKit 20.10 on busybox stages: `ARG V=5` / `RUN`
/// CACHED after `ARG V=1` became `ARG V=2` before the first `FROM`; `ARG
/// V` / `RUN` ran again). Every such commit was counted as rebuilding the
/// stage from its `ARG` on.
#[test]
fn a_global_arg_default_does_not_reach_a_stage_arg_with_its_own() {
    let df = |v: &str| {
        format!(
            "ARG V={v}\nFROM base AS one\nRUN one\n\n\
             FROM base AS two\nARG V=5\nRUN two\n\n\
             FROM base AS three\nARG V\nRUN three\n\n\
             FROM base AS four\nARG W=1 V\nRUN four\n"
        )
    };
    let mut r = TestRepo::new();
    r.write("a", "1");
    r.write("Dockerfile", &df("1"));
    r.commit("root"); // everything
    for v in ["2", "3", "4"] {
        r.write("Dockerfile", &df(v));
        r.commit(v); // three and four from their ARG on
    }
    let log = support::git(r.path(), &["rev-list", "HEAD", "--", "Dockerfile"]);
    assert_eq!(log.lines().count(), 4, "{log}");
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    let text = std::fs::read_to_string(r.path().join("Dockerfile")).expect("read");
    let got: Vec<(String, u64)> = figures_by_text(&replay::figures(&text, None, &h))
        .into_iter()
        .map(|(t, _, n)| (t, n))
        .collect();
    let want = |t: &str, n: u64| (t.to_string(), n);
    assert_eq!(
        got,
        vec![
            want("RUN one", 1),
            want("ARG V=5", 1),
            want("RUN two", 1),
            want("ARG V", 4),
            want("RUN three", 4),
            want("ARG W=1 V", 4),
            want("RUN four", 4),
        ]
    );
}

/// BuildKit matches a `COPY` source with Go's `filepath.Match`, which has
/// no `**`: two stars are one, within one component. `COPY **/*.txt /d/`
/// copies `a/m.txt`, not `top.txt` nor `a/b/deep.txt` (measured with
/// BuildKit 20.10: after editing either of those the COPY was CACHED;
/// after editing `a/m.txt` it ran). globset read `**/` as any number of
/// directories, and every commit counted as changing the copy's sources.
#[test]
fn a_double_star_in_a_copy_source_is_one_component() {
    let mut r = TestRepo::new();
    r.write("top.txt", "0");
    r.write("a/m.txt", "0");
    r.write("a/b/deep.txt", "0");
    r.write("Dockerfile", "FROM base\nCOPY **/*.txt /d/\nRUN hi\n");
    r.commit("root");
    for (f, v) in [("top.txt", "1"), ("a/b/deep.txt", "1"), ("a/m.txt", "1")] {
        r.write(f, v);
        r.commit(f);
    }
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    let text = std::fs::read_to_string(r.path().join("Dockerfile")).expect("read");
    let got: Vec<(String, u64)> = figures_by_text(&replay::figures(&text, None, &h))
        .into_iter()
        .map(|(t, _, n)| (t, n))
        .collect();
    assert_eq!(
        got,
        vec![
            ("COPY **/*.txt /d/".to_string(), 2), // root, a/m.txt
            ("RUN hi".to_string(), 2),
        ]
    );
}

/// A commit that only deletes an instruction edits the Dockerfile: it
/// counts toward the commits that weigh the order, as one that adds or
/// changes one does (the Dockerfile here is not in the context).
#[test]
fn a_commit_deleting_an_instruction_touches_the_build() {
    let mut r = TestRepo::new();
    r.write(".dockerignore", "Dockerfile\n");
    r.write("Dockerfile", "FROM base\nRUN a\nRUN b\n");
    r.commit("root"); // 0
    r.write("Dockerfile", "FROM base\nRUN a\n");
    r.commit("delete RUN b"); // 1
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    assert_eq!(h.commits.len(), 2);
    assert_eq!(rewrite::context_commits(&h), 2);
}

/// `pip wheel -r requirements.txt` fetches (and builds) every
/// requirement as `pip install` does: it costs an install. Costed as a
/// plain run, a builder stage's wheel step under `COPY . .` followed by
/// the final stage's install saved under the threshold and nothing moved
/// (scout 33, p11: 68.0 before and after).
#[test]
fn a_builder_stage_pip_wheel_costs_an_install() {
    let df = "FROM python:3.12-slim AS builder\nWORKDIR /build\nCOPY . .\nRUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt\n\nFROM python:3.12-slim\nWORKDIR /app\nCOPY --from=builder /wheels /wheels\nCOPY . .\nRUN pip install --no-cache-dir /wheels/*\n";
    let mut r = TestRepo::new();
    r.write("Dockerfile", df);
    r.write(".dockerignore", ".git\n");
    r.write("requirements.txt", "flask==3.0.3\n");
    for i in 0..24 {
        r.write("app/main.py", &format!("x = {i}\n"));
        r.commit(&format!("edit {i}"));
    }
    let ctx = Context::new(r.path().to_path_buf(), Some(&r.path().join("Dockerfile")));
    let h = walk(&r, "Dockerfile", ".", &WalkOptions::default());
    let out = rewrite::rewrite_with(df, Some(&ctx), Some(&h), Options::new(Applicability::Safe))
        .expect("history");
    assert!(
        out.new_text.starts_with(
            "FROM python:3.12-slim AS builder\nWORKDIR /build\nCOPY requirements.txt ./\nRUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt\nCOPY . .\n"
        ),
        "{}",
        out.new_text
    );
}

/// A run of the binary in `r`, its stderr (where the figures go).
fn figures_text(r: &TestRepo, args: &[&str]) -> String {
    let out = Command::new(support::bin())
        .current_dir(r.path())
        .args(args)
        .output()
        .expect("run");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `--format json` of one Dockerfile in `r`: the file's object.
fn figures_json(r: &TestRepo, df: &str) -> serde_json::Value {
    let out = Command::new(support::bin())
        .current_dir(r.path())
        .args(["--format", "json", df])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v[0].clone()
}

/// The history figures of the instruction starting with `prefix`.
fn unit_json<'a>(file: &'a serde_json::Value, prefix: &str) -> &'a serde_json::Value {
    file["instructions_history"]
        .as_array()
        .expect("instructions_history")
        .iter()
        .find(|u| {
            u["instruction"]
                .as_str()
                .is_some_and(|i| i.starts_with(prefix))
        })
        .unwrap_or_else(|| panic!("no `{prefix}` in {file}"))
}

/// A builder stage makes wheels after `COPY . .`; the runtime stage copies
/// them (scout69 py-multi-wheels, measured with BuildKit: after a source
/// edit the runtime `COPY --from` and its `pip install` were CACHED in the
/// original, BuildKit keying the copy on the wheels' content). The
/// builder's `pip wheel` reran: whether it wrote the same bytes the model
/// cannot know (a wheel built from an sdist carries timestamps: measured,
/// the runtime steps then reran), so the runtime install's count before is
/// an upper bound and says so. After the hoist the builder reruns only
/// `COPY . .`, which writes nothing below /whl: the copy is cached (it was
/// counted as rerun in every commit, the builder stage being rebuilt).
#[test]
fn copy_from_stage_reruns_only_when_what_it_copies_may_change() {
    let mut r = TestRepo::new();
    r.write(
        "Dockerfile",
        "FROM python:3.12 AS build\nWORKDIR /src\nCOPY . .\nRUN pip wheel --no-cache-dir --wheel-dir /whl -r requirements.txt\n\nFROM python:3.12-slim\nWORKDIR /srv\nCOPY --from=build /whl /whl\nRUN pip install --no-cache-dir /whl/*\nCOPY . .\nCMD [\"python\", \"-m\", \"relay\"]\n",
    );
    // What the runtime stage copies was written before the step that
    // reruns: never rerun.
    r.write(
        "steady.Dockerfile",
        "FROM python:3.12 AS build\nRUN pip install --prefix=/inst attrs==23.2.0\nWORKDIR /src\nCOPY . .\nRUN pip wheel --no-cache-dir --wheel-dir /whl -r requirements.txt\n\nFROM python:3.12-slim\nCOPY --from=build /inst /usr/local\nRUN pip install --no-cache-dir attrs==23.2.0\n",
    );
    r.write(".dockerignore", ".git\n");
    r.write("requirements.txt", "attrs==23.2.0\n");
    r.write("relay/__main__.py", "0\n");
    r.commit("root");
    for i in 1..24 {
        r.write("relay/__main__.py", &format!("{i}\n"));
        r.commit(&format!("edit {i}"));
    }
    r.write("requirements.txt", "attrs==24.2.0\n");
    r.commit("bump");
    let err = figures_text(&r, &["Dockerfile"]);
    assert!(
        err.contains(
            "over 25 commits: `RUN pip install --no-cache-dir /whl/*` ran in at most 25 of them before, at most 2 after"
        ),
        "{err}"
    );
    assert!(
        err.contains("`COPY --from=build /whl /whl` (line 8) is counted as rerun whenever a `RUN` that writes what it copies reran"),
        "{err}"
    );
    assert!(
        err.contains("mean rebuilt cost per commit at most "),
        "{err}"
    );
    let f = figures_json(&r, "Dockerfile");
    let copy = unit_json(&f, "COPY --from");
    assert_eq!(copy["rebuilds"]["before"], 25, "{f}");
    assert_eq!(copy["rebuilds"]["after"], 2, "{f}");
    assert_eq!(copy["rebuilds_at_most"]["before"], true, "{f}");
    assert_eq!(f["expected_cost_at_most"]["before"], true, "{f}");
    let steady = figures_json(&r, "steady.Dockerfile");
    let run = unit_json(&steady, "RUN pip install --no-cache-dir attrs");
    assert_eq!(run["rebuilds"]["before"], 1, "{steady}");
    assert!(run.get("rebuilds_at_most").is_none(), "{steady}");
}

/// A `RUN` that mounts a stage reruns when what it mounts may change: the
/// replay did not follow `--mount=from=` and counted it as never rerun
/// (BuildKit keys a read-only mount on the content of its source, like a
/// copy).
#[test]
fn run_mounting_a_stage_reruns_with_it() {
    let mut r = TestRepo::new();
    let df = "FROM base AS build\nWORKDIR /src\nCOPY . .\nRUN ./build.sh\n\nFROM base\nRUN --mount=type=bind,from=build,source=/src/out,target=/mnt cp -r /mnt /opt/app\n";
    r.write("Dockerfile", df);
    r.write("build.sh", "0\n");
    r.commit("root");
    for i in 1..5 {
        r.write("build.sh", &format!("{i}\n"));
        r.commit(&format!("edit {i}"));
    }
    let f = figures_json(&r, "Dockerfile");
    let run = unit_json(&f, "RUN --mount");
    assert_eq!(run["rebuilds"]["before"], 5, "{f}");
    // `COPY . .` reran for `build.sh`, which it puts at /src/build.sh, not
    // below /src/out: only the rerun `RUN ./build.sh` may have written new
    // bytes there, so the count is an upper bound (review 71, measured
    // with BuildKit: after an edit of build.sh that left its output as it
    // was, the `RUN --mount=from=build` was CACHED).
    assert_eq!(run["rebuilds_at_most"]["before"], true, "{f}");
}

/// A stage the last stage neither is nor needs (`dev`) is built only with
/// `--target`: the mean is the default build's, and says what it leaves
/// out; the stage's own lines say how it is built.
#[test]
fn figures_are_the_default_targets_and_say_what_they_leave_out() {
    let mut r = TestRepo::new();
    let df = "FROM python:3.12-slim AS base\nWORKDIR /app\n\nFROM base AS dev\nCOPY . .\nRUN pip install --no-cache-dir -r requirements-dev.txt\n\nFROM base\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app.py\"]\n";
    r.write("Dockerfile", df);
    r.write(".dockerignore", ".git\n");
    r.write("requirements.txt", "attrs==23.2.0\n");
    r.write("requirements-dev.txt", "pytest==8.0.0\n");
    r.write("app.py", "0\n");
    r.commit("root");
    for i in 1..24 {
        r.write("app.py", &format!("{i}\n"));
        r.commit(&format!("edit {i}"));
    }
    let f = figures_json(&r, "Dockerfile");
    assert_eq!(f["history"]["target_only"][0], "`dev`", "{f}");
    let dev = unit_json(&f, "RUN pip install --no-cache-dir -r requirements-dev.txt");
    assert_eq!(dev["target_only"], "`dev`", "{f}");
    // The mean before is the default build's: the last stage's units
    // (and the base's) rebuilt in each commit, the dev stage's left out.
    let units = f["instructions_history"].as_array().expect("units");
    let built: f64 = units
        .iter()
        .filter(|u| u.get("target_only").is_none() && !u["inserted"].as_bool().unwrap_or(false))
        .map(|u| {
            u["cost"].as_f64().unwrap_or(0.0) * u["rebuilds"]["before"].as_f64().unwrap_or(0.0)
        })
        .sum();
    let mean = f["expected_cost"]["before"].as_f64().expect("mean");
    assert!((mean - built / 24.0).abs() < 1e-9, "{mean} {built} {f}");
    let err = figures_text(&r, &["Dockerfile"]);
    assert!(
        err.contains("note: the mean is for a default `docker build` (the last stage and the stages it needs); `dev` is built only with `--target` and left out of it"),
        "{err}"
    );
    assert!(
        err.contains("ran in 24 of them before, 1 after (stage `dev`, built only with `--target`)"),
        "{err}"
    );
}

/// A split move says how often its hoisted part ran, like a plain move
/// (scout69 py-seed-split): before, as part of the whole `RUN`.
#[test]
fn split_move_has_its_ran_in_line() {
    let mut r = TestRepo::new();
    r.write(
        "Dockerfile",
        "FROM python:3.12-slim\nWORKDIR /data\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt && python seed.py\n",
    );
    r.write(".dockerignore", ".git\n");
    r.write("requirements.txt", "attrs==23.2.0\n");
    r.write("seed.py", "0\n");
    r.commit("root");
    for i in 1..24 {
        r.write("seed.py", &format!("{i}\n"));
        r.commit(&format!("edit {i}"));
    }
    let err = figures_text(&r, &["Dockerfile"]);
    assert!(
        err.contains("split the `RUN` at its `&&` and moved `RUN pip install"),
        "{err}"
    );
    assert!(
        err.contains("over 24 commits: `RUN pip install --no-cache-dir -r requirements.txt` (split from the `RUN` on line 4)"),
        "{err}"
    );
    assert!(err.contains("ran in 24 of them before, 1 after\n"), "{err}");
    let f = figures_json(&r, "Dockerfile");
    let units = f["instructions_history"].as_array().expect("units");
    let split = units
        .iter()
        .find(|u| u["instruction_after"].is_string())
        .unwrap_or_else(|| panic!("no split pair in {f}"));
    assert_eq!(split["rebuilds"]["before"], 24, "{f}");
    assert_eq!(split["rebuilds"]["after"], 1, "{f}");
}

/// The planner's "drops from" figures weigh every stage (a move in a stage
/// built only with `--target` saves too): where a stage is left out of the
/// history figures' mean, the words say they count it.
#[test]
fn planner_saving_words_say_they_count_every_stage() {
    let mut r = TestRepo::new();
    r.write(
        "Dockerfile",
        "FROM node:20-slim AS build\nWORKDIR /app\nCOPY . .\nRUN npm run build\n\nFROM build AS test\nRUN npm test\n\nFROM node:20-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\nCOPY --from=build /app/dist ./dist\nRUN npm ci --omit=dev\nCMD [\"node\", \"dist/index.js\"]\n",
    );
    r.write(".dockerignore", ".git\nnode_modules\n");
    r.write(
        "package.json",
        "{\"name\": \"x\", \"version\": \"1.0.0\"}\n",
    );
    r.write(
        "package-lock.json",
        "{\"name\": \"x\", \"version\": \"1.0.0\", \"lockfileVersion\": 3, \"requires\": true, \"packages\": {\"\": {\"name\": \"x\", \"version\": \"1.0.0\"}}}\n",
    );
    r.write("src/index.ts", "0\n");
    r.commit("root");
    for i in 1..24 {
        r.write("src/index.ts", &format!("{i}\n"));
        r.commit(&format!("edit {i}"));
    }
    let err = figures_text(&r, &["Dockerfile"]);
    assert!(
        err.contains("moved `RUN npm ci --omit=dev` above `COPY --from=build /app/dist ./dist`"),
        "{err}"
    );
    // The build stage's `COPY . .` reran for src/index.ts, which lands
    // outside /app/dist: only the rerun `npm run build` may have written
    // new bytes there, so the figures are upper bounds (review 71).
    assert!(
        err.contains("% less; every stage counted, `test` too, which only `--target` builds; a copy from another stage counted as rerun whenever"),
        "{err}"
    );
}

/// scout70's py-snippets-runs: an install a lone `apt-get update` was
/// merged into, then moved above the broad copy, had no "ran in" line
/// (its text changed with the merge, so it was paired with nothing): it
/// is paired with the merged `RUN`.
#[test]
fn merged_and_moved_install_has_its_ran_in_line() {
    let mut r = TestRepo::new();
    r.write(
        "Dockerfile",
        "FROM python:3.12-slim\nWORKDIR /pipeline\nCOPY . ./\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends curl\nRUN pip install --no-cache-dir six==1.16.0\n",
    );
    r.write(".dockerignore", ".git\n");
    r.write("read.py", "0\n");
    r.commit("root");
    for i in 1..24 {
        r.write("read.py", &format!("{i}\n"));
        r.commit(&format!("edit {i}"));
    }
    let err = figures_text(&r, &["Dockerfile"]);
    assert!(err.contains("merged `apt-get update`"), "{err}");
    assert!(
        err.contains("over 24 commits: `RUN apt-get install -y --no-install-recommends curl` (the lone update before it merged in) ran in 24 of them before, 1 after\n"),
        "{err}"
    );
}

/// Review 71: a copy from a stage whose `COPY . .` reran for other files
/// was counted as rerun in every commit, without "at most": the broad
/// copy was taken to write new bytes everywhere below its destination.
/// Measured with BuildKit: after an edit of app.py, `COPY --from=build
/// /src/config.yaml` and the install after it were CACHED.
#[test]
fn copy_from_a_broad_copy_of_other_files_is_at_most() {
    let mut r = TestRepo::new();
    r.write(
        "Dockerfile",
        "FROM python:3.12-slim AS build\nWORKDIR /src\nCOPY . .\n\nFROM python:3.12-slim\nWORKDIR /app\nCOPY --from=build /src/config.yaml /etc/app.yaml\nRUN pip install --no-cache-dir six==1.16.0\nCMD [\"python\", \"app.py\"]\n",
    );
    // What the runtime stage copies is all the builder's copy writes: a
    // rerun of that copy surely changed it.
    r.write(
        "whole.Dockerfile",
        "FROM python:3.12-slim AS build\nCOPY . /src/\n\nFROM python:3.12-slim\nCOPY --from=build /src /src\nRUN pip install --no-cache-dir six==1.16.0\n",
    );
    r.write(".dockerignore", ".git\n");
    r.write("config.yaml", "a: 1\n");
    r.write("app.py", "0\n");
    r.commit("root");
    for i in 1..24 {
        r.write("app.py", &format!("{i}\n"));
        r.commit(&format!("edit {i}"));
    }
    let f = figures_json(&r, "Dockerfile");
    let run = unit_json(&f, "RUN pip install");
    assert_eq!(run["rebuilds"]["before"], 24, "{f}");
    assert_eq!(run["rebuilds_at_most"]["before"], true, "{f}");
    assert_eq!(f["expected_cost_at_most"]["before"], true, "{f}");
    let whole = figures_json(&r, "whole.Dockerfile");
    let run = unit_json(&whole, "RUN pip install");
    assert_eq!(run["rebuilds"]["before"], 24, "{whole}");
    assert!(run.get("rebuilds_at_most").is_none(), "{whole}");
}

/// Review 71: `FROM base-${VARIANT}` after `ARG VARIANT=slim` is built on
/// `base-slim` by a default `docker build` (measured: `docker build`
/// ran base-slim's install), but the figures took the stage for an image:
/// `base-slim` was "built only with `--target`", the mean 0.0, and the
/// last stage's install never rerun. A stage or mount named through a
/// variable takes the global default, as the rest of the model does.
#[test]
fn stages_named_through_a_global_arg_take_its_default() {
    let mut r = TestRepo::new();
    r.write(
        "Dockerfile",
        "ARG VARIANT=slim\nARG BUILDER=gen\nFROM python:3.12-slim AS base-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n\nFROM python:3.12 AS base-full\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt -r requirements-dev.txt\n\nFROM python:3.12-slim AS gen\nWORKDIR /src\nCOPY . .\n\nFROM base-${VARIANT}\nRUN pip install --no-cache-dir attrs==23.2.0\nRUN --mount=type=bind,from=${BUILDER},source=/src/app.py,target=/tmp/app.py pip install --no-cache-dir six==1.16.0\nCMD [\"python\", \"app.py\"]\n",
    );
    r.write(".dockerignore", ".git\n");
    r.write("requirements.txt", "six==1.16.0\n");
    r.write("requirements-dev.txt", "attrs\n");
    r.write("app.py", "0\n");
    r.commit("root");
    for i in 1..24 {
        r.write("app.py", &format!("{i}\n"));
        r.commit(&format!("edit {i}"));
    }
    let f = figures_json(&r, "Dockerfile");
    let slim = unit_json(&f, "RUN pip install --no-cache-dir -r requirements.txt");
    assert!(slim.get("target_only").is_none(), "{f}");
    let full = unit_json(&f, "RUN pip install --no-cache-dir -r requirements.txt -r");
    assert_eq!(full["target_only"], "`base-full`", "{f}");
    assert_eq!(
        f["history"]["target_only"],
        serde_json::json!(["`base-full`"]),
        "{f}"
    );
    // The last stage is built on base-slim, rebuilt in every commit.
    let last = unit_json(&f, "RUN pip install --no-cache-dir attrs");
    assert_eq!(last["rebuilds"]["before"], 24, "{f}");
    // The mount takes app.py from `gen`, which changed in every commit.
    let mount = unit_json(&f, "RUN --mount");
    assert_eq!(mount["rebuilds"]["before"], 24, "{f}");
    assert!(mount.get("target_only").is_none(), "{f}");
    // A stage's own `ARG` may give the variable another value: after it,
    // the copy may name any earlier stage (`gen` changes in every commit).
    r.write(
        "local.Dockerfile",
        "ARG SRC=python:3.12-slim\nFROM python:3.12-slim AS gen\nWORKDIR /src\nCOPY . .\n\nFROM python:3.12-slim\nARG SRC=gen\nCOPY --from=${SRC} /src/app.py /opt/app.py\nRUN pip install --no-cache-dir six==1.16.0\n",
    );
    r.commit("local");
    let f = figures_json(&r, "local.Dockerfile");
    let run = unit_json(&f, "RUN pip install");
    assert_eq!(run["rebuilds"]["before"], 25, "{f}");
}

/// scout78 review: a file whose one change merges a lone `apt-get update`
/// into the install said "1 change (ordered by the walked history)"; a
/// merge moves nothing, so no ordering basis is named. A file with a move
/// still names it.
#[test]
fn a_merge_alone_names_no_ordering_basis() {
    let mut r = TestRepo::new();
    r.write(
        "Dockerfile",
        "FROM python:3.12-slim\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends jq\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . ./\n",
    );
    r.write(".dockerignore", ".git\n");
    r.write("requirements.txt", "six==1.16.0\n");
    r.write("main.py", "0\n");
    r.commit("root");
    for i in 1..24 {
        r.write("main.py", &format!("{i}\n"));
        r.commit(&format!("edit {i}"));
    }
    let err = figures_text(&r, &["Dockerfile"]);
    assert!(err.contains("merged `apt-get update`"), "{err}");
    assert!(err.contains("Dockerfile: 1 change\n"), "{err}");
    assert!(!err.contains("ordered by"), "{err}");
}
