//! Review 15: the build context as BuildKit sends it (`.dockerignore`
//! read as moby/patternmatcher reads it, symlinks) and the paths BuildKit
//! expands (`WORKDIR` words, variables). Each case once had a move
//! labelled safe whose rewritten Dockerfile built a different image, or
//! failed to build, with BuildKit (Docker 20.10.24).

use std::path::Path;

use dockreorder::analysis::context::Context;
use dockreorder::plan::{Applicability, Options};
use dockreorder::rewrite;

use crate::support::project;

/// The rewrite with the safe changes only.
fn rewrite_safe(dir: &Path, df: &str) -> String {
    let ctx = Context::new(dir.to_path_buf(), Some(&dir.join("Dockerfile")));
    rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
        .expect("rewrite")
        .new_text
}

const NODE_APP: &[(&str, &str)] = &[
    (
        "package.json",
        "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
    ),
    ("index.js", "console.log(1)\n"),
    ("node_modules/ms/index.js", "stray\n"),
];

/// `{a,b}` is no alternation to BuildKit: patternmatcher escapes braces
/// (and Docker 20.10 read them as regular-expression syntax), so
/// `{node_modules,dist}` excludes nothing and the stray `node_modules/`
/// is shipped. The tool read it as a glob alternation, took
/// `node_modules/` as excluded and moved `npm install` above `COPY . .`
/// as safe: the copy then overwrote the installed package with the
/// stray file (/app/node_modules/ms/index.js only in the rewritten image).
#[test]
fn brace_patterns_in_dockerignore_are_not_alternations() {
    for ignore in [
        "{node_modules,dist}\n.git\n",
        "node_modules|dist\n.git\n",
        "(node_modules)\n.git\n",
        "node_module+\n.git\n",
    ] {
        let mut files = NODE_APP.to_vec();
        files.push((".dockerignore", ignore));
        let dir = project(&files);
        let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\n";
        assert_eq!(rewrite_safe(dir.path(), df), df, "{ignore:?}");
    }
}

/// Go's `filepath.Clean` keeps a leading `..`: `../node_modules` matches
/// no context path, so `node_modules/` is shipped.
#[test]
fn a_pattern_above_the_context_excludes_nothing() {
    let mut files = NODE_APP.to_vec();
    files.push((".dockerignore", "../node_modules\n.git\n"));
    let dir = project(&files);
    let ctx = Context::new(dir.path().to_path_buf(), None);
    assert!(ctx.ships("node_modules/ms/index.js"), "{:?}", ctx.files());
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\n";
    assert_eq!(rewrite_safe(dir.path(), df), df);
}

/// `[!x]` is a class of `!` and `x` to Go (its negation is `[^x]`).
#[test]
fn a_class_starting_with_a_bang_is_not_negated() {
    let dir = project(&[
        ("package-lock.json", "{}"),
        ("xackage-lock.json", "{}"),
        (".dockerignore", "[!x]ackage-lock.json\n"),
    ]);
    let ctx = Context::new(dir.path().to_path_buf(), None);
    assert!(ctx.ships("package-lock.json"), "{:?}", ctx.files());
    assert!(!ctx.ships("xackage-lock.json"), "{:?}", ctx.files());
}

/// Where BuildKit versions ship different files, what the context ships is
/// not known. Measured with Docker 20.10.24: `d` / `!**/package.json`
/// does not ship `d/package.json` (its walker enters an excluded directory
/// only for an exception that names a path below it; fsutil's filter
/// enters for any exception with a pattern character), and
/// `**/node_modules` / `!a/b/node_modules/keep` ships
/// `a/b/node_modules/x.js` (its `Matches` tries one parent only).
#[test]
fn walks_that_differ_between_buildkit_versions_leave_the_context_unknown() {
    for (ignore, files) in [
        (
            "d\n!**/package.json\n",
            &[("d/package.json", "{}"), ("top.txt", "t")][..],
        ),
        (
            "**/node_modules\n!a/b/node_modules/keep\n",
            &[
                ("a/b/node_modules/x.js", "x"),
                ("a/b/node_modules/keep", "k"),
            ][..],
        ),
    ] {
        let mut all = files.to_vec();
        all.push((".dockerignore", ignore));
        let dir = project(&all);
        let ctx = Context::new(dir.path().to_path_buf(), None);
        assert!(ctx.files().is_none(), "{ignore:?}: {:?}", ctx.files());
    }
    // The usual allow-list reads the same everywhere.
    let dir = project(&[
        ("src/a.js", "a"),
        ("src/lib/b.js", "b"),
        ("package.json", "{}"),
        ("node_modules/x/i.js", "x"),
        ("notes.md", "n"),
        (".dockerignore", "*\n!src/**\n!package.json\n"),
    ]);
    let ctx = Context::new(dir.path().to_path_buf(), None);
    let files: Vec<&str> = ctx
        .files()
        .expect("known")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(files, ["package.json", "src/a.js", "src/lib/b.js"]);
}

/// A manifest that is a symbolic link: `COPY . .` ships the link, and
/// the install reads what it points to in the image; an inserted `COPY
/// requirements.txt ./` copies what it points to in the context (BuildKit
/// resolves the link inside the context). Measured: with
/// `requirements.txt -> /tmp/x/reqs.txt`, the image's file naming flask
/// and the context's `tmp/x/reqs.txt` naming django, the rewritten image
/// had django where the original had flask.
#[test]
fn a_symlinked_manifest_is_not_copied_first() {
    let outside = tempfile::tempdir().expect("tempdir");
    let target = outside.path().join("reqs.txt");
    std::fs::write(&target, "requests==2.0\n").expect("write");
    let dir = project(&[
        ("app.py", "print(1)\n"),
        ("reqs/base.txt", "flask==3.0.0\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    std::os::unix::fs::symlink(&target, dir.path().join("requirements.txt")).expect("symlink");
    assert_eq!(rewrite_safe(dir.path(), df), df);
    // A directory above the manifest is a link.
    std::fs::remove_file(dir.path().join("requirements.txt")).expect("rm");
    std::os::unix::fs::symlink("reqs", dir.path().join("deps")).expect("symlink");
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r deps/base.txt\n";
    assert_eq!(rewrite_safe(dir.path(), df), df);
    // Without links it moves.
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r reqs/base.txt\n";
    assert_ne!(rewrite_safe(dir.path(), df), df);
}

const PY_APP: &[(&str, &str)] = &[
    ("requirements.txt", "flask==3.0.0\n"),
    ("app.py", "print(1)\n"),
    (".dockerignore", ".git\n"),
];

/// BuildKit removes quotes from a `WORKDIR` (`WORKDIR "/myapp"` is
/// `/myapp`) and escapes from a destination (`/my\app/` is `/myapp/`).
/// The tool read them literally, so the install seemed to read nothing the
/// broad copy ships, and the copy was moved below it as safe: the
/// rewritten build failed (`Could not open requirements file`).
#[test]
fn quoted_workdirs_and_escaped_destinations_are_read_as_buildkit_reads_them() {
    let dir = project(PY_APP);
    let df = "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . /myapp/\nWORKDIR \"/myapp\"\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        rewrite_safe(dir.path(), df),
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY requirements.txt /myapp/\nWORKDIR \"/myapp\"\nRUN pip install -r requirements.txt\nCOPY . /myapp/\n"
    );
    for df in [
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . /my\\app/\nWORKDIR /myapp\nRUN pip install -r requirements.txt\n",
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . /myapp/\nWORKDIR /my\\app\nRUN pip install -r requirements.txt\n",
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . /myapp/\nWORKDIR '/myapp'\nRUN pip install -r requirements.txt\n",
        // A JSON destination with a blank cannot be written as one word.
        "FROM python:3.12-slim\nWORKDIR \"/my app\"\nCOPY [\".\", \"/my app/\"]\nRUN pip install -r requirements.txt\n",
    ] {
        let out = rewrite_safe(dir.path(), df);
        let copy = out.find("COPY requirements.txt");
        let run = out.find("RUN pip").expect("run");
        let broad = out.find("COPY .").or(out.find("COPY [")).expect("copy");
        assert!(
            out == df || (copy.is_some_and(|c| c < run) && run < broad),
            "{df}\n=>\n{out}"
        );
        assert!(!out.contains("COPY requirements.txt /my app"), "{out}");
    }
}

/// A variable whose value is not known here (an `ENV` naming a variable
/// of the base image, a build argument without a default) was taken as
/// empty, so `WORKDIR $D` seemed to stay in `/srv` and the broad copy into
/// `/app/` was moved below the install as safe. BuildKit expands
/// `${NOPE}/app` to `/app` (and `--build-arg D=/app` makes `$D` `/app`):
/// the rewritten build failed (`Could not open requirements file`).
#[test]
fn a_variable_not_known_is_not_empty() {
    let dir = project(PY_APP);
    for set in ["ENV D=${NOPE}/app", "ARG D", "ENV D=$NOPE/app\nARG D"] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /srv\n{set}\nCOPY . /app/\nWORKDIR $D\nRUN pip install -r requirements.txt\n"
        );
        assert_eq!(rewrite_safe(dir.path(), &df), df);
    }
    // Known values: the install is hoisted with its manifest.
    for set in ["ENV D=/app", "ARG D=/app", "ARG B=/app\nARG D=$B"] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /srv\n{set}\nCOPY . /app/\nWORKDIR $D\nRUN pip install -r requirements.txt\n"
        );
        assert_eq!(
            rewrite_safe(dir.path(), &df),
            format!(
                "FROM python:3.12-slim\nWORKDIR /srv\n{set}\nCOPY requirements.txt /app/\nWORKDIR $D\nRUN pip install -r requirements.txt\nCOPY . /app/\n"
            )
        );
    }
}

/// A `.dockerignore` that is not UTF-8 (a Latin-1 `é` in a comment) is
/// used by BuildKit; the tool took it as missing and everything as
/// shipped (`.git`, an excluded lock file a COPY would then name).
#[test]
fn a_dockerignore_that_is_not_utf8_is_not_ignored() {
    let dir = project(&[
        ("package.json", "{\"name\":\"a\",\"version\":\"1.0.0\"}"),
        ("package-lock.json", "{}"),
    ]);
    std::fs::write(
        dir.path().join(".dockerignore"),
        b"# caf\xe9\n.git\npackage-lock.json\n",
    )
    .expect("write");
    let ctx = Context::new(dir.path().to_path_buf(), None);
    assert!(ctx.ignore.source.is_some());
    assert!(ctx.files().is_none(), "{:?}", ctx.files());
}
