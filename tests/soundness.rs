//! Issue 8: moves that once were labelled safe and changed the image. Each
//! class has a regression test on the rewrite (nothing moves) and, where
//! the shape is subtle, on the dependency it must keep.

use std::collections::BTreeMap;
use std::path::Path;

use dockreorder::analysis::context::Context;
use dockreorder::analysis::effects::{self, conflict};
use dockreorder::analysis::kb::Knowledge;
use dockreorder::model::Model;
use dockreorder::plan::{Applicability, Options};
use dockreorder::rewrite;

use crate::support::project;

fn rewrite_unsafe_too(dir: &Path, df: &str) -> String {
    let ctx = Context::new(dir.to_path_buf(), Some(&dir.join("Dockerfile")));
    rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
        .expect("rewrite")
        .new_text
}

/// Whether the unit at `a` (an index into the stage's units) must stay
/// before the unit at `b`, in the last stage of `df`.
fn ordered(dir: &Path, df: &str, a: usize, b: usize) -> bool {
    let ctx = Context::new(dir.to_path_buf(), Some(&dir.join("Dockerfile")));
    let parse = dockreorder::syntax::parse(df);
    let model = Model::build(&parse, df);
    let stage = model.stages.last().expect("a stage");
    let (eff, _) = effects::analyze_stage_with(&parse, stage, Some(&ctx), Knowledge::embedded());
    conflict(&eff[a], &eff[b]).is_some()
}

const SITE: &[(&str, &str)] = &[
    ("requirements.txt", "flask==3.0.0\n"),
    (
        "setup.py",
        "from setuptools import setup\nsetup(name='site')\n",
    ),
    ("site/__init__.py", "x = 1\n"),
    ("Gemfile", "source 'https://rubygems.org'\ngem 'rack'\n"),
    ("Gemfile.lock", "GEM\n"),
    ("vendor/cache/x.gem", "gem\n"),
    (
        "package.json",
        "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{}}",
    ),
    (
        "package-lock.json",
        "{\"lockfileVersion\":3,\"packages\":{}}",
    ),
    ("packages/sdk/package.json", "{\"name\":\"sdk\"}"),
];

#[test]
fn issue_8_path_arguments_are_reads() {
    let dir = project(SITE);
    for df in [
        "FROM base\nWORKDIR /opt\nCOPY . /opt/site\nRUN python -m pip install /opt/site\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt /app/site\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install --no-deps ./site\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt .[dev]\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install --editable=/app/site\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt --find-links ./site\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN gem install vendor/cache/x.gem\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt file:./site\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm install ./packages/sdk\n",
    ] {
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "moved:\n{df}");
    }
    // The dependency itself: the install reads the copied directory.
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt /app/site\n";
    assert!(ordered(dir.path(), df, 1, 2));
}

/// Every proposal, `Unsafe` ones included.
fn rewrite_any(dir: &Path, df: &str) -> String {
    let ctx = Context::new(dir.to_path_buf(), Some(&dir.join("Dockerfile")));
    rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Unsafe))
        .expect("rewrite")
        .new_text
}

/// A global npm install without package arguments installs the package of
/// its working directory (the shipped sources), and a path argument is read
/// whole: neither may move above the copy, not even as `Unsafe`
/// (markdownlint-cli's `RUN npm install --global` was moved so).
#[test]
fn global_installs_read_the_packages_they_install() {
    let dir = project(SITE);
    for df in [
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm install --global\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm install --production -g\n",
        "FROM base\nWORKDIR /app\nCOPY . /app\nRUN npm install -g .\n",
        "FROM base\nWORKDIR /app\nCOPY . /app\nRUN npm i -g ./packages/sdk\n",
        "FROM base\nWORKDIR /\nCOPY . /app\nRUN npm i -g /app\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm_config_global=true npm install\n",
    ] {
        assert_eq!(rewrite_any(dir.path(), df), df, "moved:\n{df}");
    }
}

#[test]
fn requirement_includes_that_cannot_be_copied_keep_the_install_in_place() {
    // Each prod.txt makes pip read something the hoist would not copy
    // first: an excluded or missing include, one outside the context, a
    // URL, a variable, a local path in an included file, a local
    // `--find-links`.
    for prod in [
        "-r excluded.txt\n",
        "-r missing.txt\n",
        "-r ../../outside.txt\n",
        "-r /etc/reqs.txt\n",
        "-r https://example.org/reqs.txt\n",
        "-r ${REQS}\n",
        "-r base.txt\n",
        "--find-links=wheels\nflask\n",
        "-f ./wheels\nflask\n",
        "--extra-index-url file:///app/wheels\nflask\n",
    ] {
        let dir = project(&[
            ("requirements/prod.txt", prod),
            ("requirements/base.txt", "-e ..\n"),
            ("requirements/excluded.txt", "flask\n"),
            (".dockerignore", "requirements/excluded.txt\n"),
            ("wheels/flask.whl", "x"),
            ("app.py", "x\n"),
        ]);
        let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements/prod.txt\n";
        assert_eq!(
            rewrite_unsafe_too(dir.path(), df),
            df,
            "moved with:\n{prod}"
        );
    }
}

#[test]
fn issue_8_heredoc_bodies_expand_variables() {
    let dir = project(SITE);
    let df = "FROM base\nARG RELEASE=1\nCOPY <<EOF /etc/app.conf\nrelease=${RELEASE}\nEOF\n";
    assert!(
        ordered(dir.path(), df, 0, 1),
        "the ARG stays before the heredoc"
    );
    // A quoted delimiter does not expand: no dependency.
    let df = "FROM base\nARG RELEASE=1\nCOPY <<'EOF' /etc/app.conf\nrelease=${RELEASE}\nEOF\n";
    assert!(!ordered(dir.path(), df, 0, 1));
}

#[test]
fn issue_8_programs_come_from_the_image() {
    let dir = project(SITE);
    let df = "FROM node:20 AS toolchain\nFROM debian:12\nCOPY --from=toolchain /opt/node /opt/node\nENV PATH=/opt/node/bin:$PATH\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    assert!(ordered(dir.path(), df, 0, 4), "npm ci reads /opt/node");
    // A tool copied into a system tree is found there even without PATH.
    let df = "FROM tools AS t\nFROM debian:12\nWORKDIR /app\nCOPY --from=t /usr/local/bin/uv /usr/local/bin/uv\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\n";
    assert!(ordered(dir.path(), df, 1, 3));
    // A library directory on LD_LIBRARY_PATH, outside the system trees.
    let df = "FROM base\nENV LD_LIBRARY_PATH=/srv/lib\nCOPY libs/ /srv/lib/\nRUN pip install -r requirements.txt\n";
    assert!(ordered(dir.path(), df, 1, 2));
}

#[test]
fn issue_8_directories_and_their_owners() {
    let dir = project(SITE);
    let df = "FROM ruby:3.2\nRUN useradd web\nCOPY . /srv/web/src\nUSER web\nWORKDIR /srv/web\nCOPY Gemfile Gemfile.lock /srv/web/\nRUN bundle install\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    // WORKDIR creates /srv/web as the active user; the copy creates it as
    // root: whichever comes first decides.
    assert!(ordered(dir.path(), df, 1, 3));
    // Two root-owned copies into the same new directory commute.
    let df = "FROM base\nCOPY Gemfile /srv/a/\nCOPY requirements.txt /srv/a/\n";
    assert!(!ordered(dir.path(), df, 0, 1));
    // ... but not when one of them sets the owner.
    let df = "FROM base\nCOPY --chown=1000 Gemfile /srv/a/\nCOPY requirements.txt /srv/a/\n";
    assert!(ordered(dir.path(), df, 0, 1));
    // WORKDIR reads USER.
    let df = "FROM base\nUSER web\nWORKDIR /srv/web\n";
    assert!(ordered(dir.path(), df, 0, 1));
}

#[test]
fn issue_8_variables_in_flags_and_stage_references() {
    let dir = project(SITE);
    for df in [
        "FROM base\nARG U=1000\nCOPY --chown=$U Gemfile /srv/\n",
        "FROM base\nARG STAGE=builder\nCOPY --from=$STAGE /out /out\n",
        "FROM base\nENV D=/srv\nWORKDIR $D\n",
    ] {
        assert!(ordered(dir.path(), df, 0, 1), "{df}");
    }
    // Named owners are looked up in /etc/passwd.
    let df = "FROM base\nRUN useradd web\nCOPY --chown=web Gemfile /srv/\n";
    assert!(ordered(dir.path(), df, 0, 1));
}

#[test]
fn issue_8_bind_and_secret_mounts_are_not_understood() {
    let dir = project(SITE);
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN --mount=type=bind,source=.,target=/src pip install -r requirements.txt\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    // A secret where pip reads its configuration: its content is not
    // seen. (One at `/run/secrets/ID`, which pip does not read, changes
    // nothing it does and moves:
    // `recall::installs_with_secret_and_ssh_mounts_they_do_not_read_move`.)
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN --mount=type=secret,id=pip,target=/etc/pip.conf pip install -r requirements.txt\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN --mount=type=secret,id=pip,target=/root/.pip/pip.conf pip install -r requirements.txt\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
}

#[test]
fn issue_8_variables_naming_paths_are_not_guessed() {
    let dir = project(SITE);
    // `$PKG` may name a path the copy ships: the install stays.
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt $PKG\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
}

#[test]
fn effects_of_known_paths_resolve_against_the_environment() {
    // A sanity check of the helpers the tests above rely on.
    let mut env = BTreeMap::new();
    env.insert("HOME".to_string(), "/home/app".to_string());
    assert_eq!(
        effects::expand("$HOME/x", &env).as_deref(),
        Some("/home/app/x")
    );
    assert_eq!(effects::expand("$NOPE", &env), None);
}

#[test]
fn the_graph_check_rejects_a_rewrite_that_breaks_an_edge() {
    let dir = project(SITE);
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    // The install reads the copied directory: putting it first breaks the
    // edge, and no inserted COPY provides what it reads.
    let old = "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install /app/site\n";
    let bad = "FROM base\nWORKDIR /app\nRUN pip install /app/site\nCOPY . .\n";
    assert!(rewrite::broken_edge(old, bad, Some(&ctx), &[]).is_some());
    // A hoist with its manifest COPY keeps every edge.
    let old = "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    let good = "FROM base\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n";
    assert!(rewrite::broken_edge(old, good, Some(&ctx), &[]).is_none());
    // Without the manifest COPY it is broken.
    let bad = "FROM base\nWORKDIR /app\nRUN pip install -r requirements.txt\nCOPY . .\n";
    assert!(rewrite::broken_edge(old, bad, Some(&ctx), &[]).is_some());
}

#[test]
fn package_maintainer_scripts_see_the_language_runtime_variables() {
    // Maintainer scripts start interpreters: python3's postinst
    // byte-compiles unless PYTHONDONTWRITEBYTECODE says otherwise, so the
    // ENV must stay before the install (the knowledge base's `env:` list
    // of the system package managers covers the usual runtimes).
    let p = project(&[("app.py", "print(1)\n")]);
    let df = "FROM debian:12\nENV PYTHONDONTWRITEBYTECODE=1\nRUN apt-get update && apt-get install -y --no-install-recommends python3-yaml && rm -rf /var/lib/apt/lists/*\n";
    assert!(
        ordered(p.path(), df, 0, 1),
        "PYTHON* is read by the install"
    );
    // An application variable the runtimes do not read still passes.
    let df = "FROM debian:12\nENV APP_GREETING=hello\nRUN apt-get update && apt-get install -y --no-install-recommends python3-yaml && rm -rf /var/lib/apt/lists/*\n";
    assert!(!ordered(p.path(), df, 0, 1));
}

#[test]
fn requirements_named_by_a_variable_are_checked_for_includes() {
    // Found by the build fuzzer (seed 2026, case 44): the requirement file
    // is named by `$REQS`; the check used to look for a file literally
    // called `$REQS`, found none, and hoisted with only
    // requirements-dev.txt, which includes requirements.txt.
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        (
            "requirements-dev.txt",
            "-r requirements.txt\npytest==8.0.0\n",
        ),
        ("app.py", "print(1)\n"),
    ]);
    let df = "FROM python:3.12-slim\nENV REQS=requirements-dev.txt\nWORKDIR /srv\nCOPY . .\nRUN pip install -r $REQS\n";
    // The includes are followed (and copied) through the variable.
    let ctx = Context::new(p.path().to_path_buf(), None);
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
    assert_eq!(
        out.new_text,
        "FROM python:3.12-slim\nENV REQS=requirements-dev.txt\nWORKDIR /srv\nCOPY requirements-dev.txt requirements.txt ./\nRUN pip install -r $REQS\nCOPY . .\n"
    );
    // An include the context does not ship keeps it in place, and says so.
    std::fs::write(p.path().join(".dockerignore"), "requirements.txt\n").expect("write");
    let ctx = Context::new(p.path().to_path_buf(), None);
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
    assert_eq!(out.new_text, df, "not safe: {:#?}", out.changes);
    let hoist = out
        .changes
        .iter()
        .find(|c| c.kind == dockreorder::plan::ChangeKind::Hoist)
        .expect("reported");
    assert!(
        hoist.reason.contains("includes another file"),
        "{}",
        hoist.reason
    );
}

#[test]
fn a_copy_into_a_tree_the_install_reads_implicitly_keeps_it_below() {
    // Build fuzz seed 2026, case 203: `ADD conf /etc/conf` is a broad copy
    // of the `conf` subtree; `pip install` names nothing in it but reads
    // `/etc` (pip.conf and friends), so it may not be hoisted above it. The
    // planner proposed it and only the final graph check refused the file.
    let p = project(&[("conf/app.conf", "x=1\n"), ("app.py", "print(1)\n")]);
    let df =
        "FROM python:3.12-slim\nWORKDIR /srv\nADD conf /etc/conf\nRUN pip install flask==3.0.0\n";
    let ctx = Context::new(p.path().to_path_buf(), None);
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
        .expect("no refusal: the planner must not propose it");
    assert_eq!(out.new_text, df);
}

#[test]
fn an_arg_does_not_override_an_env_of_the_same_name() {
    // The classic builder keeps the ENV (the working directory is then
    // /usr/local/bin, where the copy would put programs pip may run);
    // BuildKit takes the ARG's value. Either may build the file, so the
    // value is not known and nothing that depends on it moves.
    let dir = crate::support::project(&[("requirements.txt", "flask\n"), ("app.py", "x\n")]);
    let ctx = dockreorder::analysis::context::Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    let df = "FROM python:3.12\nENV APP=/usr/local/bin\nARG APP=/srv/app\nWORKDIR $APP\nCOPY . .\nRUN pip install -r requirements.txt\n";
    let out = dockreorder::rewrite::rewrite(
        df,
        Some(&ctx),
        dockreorder::plan::Options::new(dockreorder::plan::Applicability::Unsafe),
    )
    .expect("rewrite");
    assert_eq!(out.new_text, df);
}

const STAMPED: &[(&str, &str)] = &[
    ("requirements.txt", "flask==3.0.0\n"),
    ("go.mod", "module shop\n"),
    ("go.sum", "\n"),
    ("app.py", "x\n"),
];

/// Issue 11: an `ARG` assumed to change on every build moves below an
/// install only when the install provably does not read it. Each blocked
/// shape has a control beside it that differs only in what blocks it and
/// does move (so the test cannot pass by moving nothing at all).
#[test]
fn issue_11_per_build_args_pass_only_runs_that_do_not_read_them() {
    let dir = project(STAMPED);
    let moved = |df: &str| rewrite_unsafe_too(dir.path(), df) != df;
    let pairs = [
        // pip may run any package's build script, which may read any
        // variable; apt-get honours a known list.
        (
            "FROM b\nARG BUILD_DATE\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nLABEL d=$BUILD_DATE\n",
            "FROM b\nARG BUILD_DATE\nWORKDIR /app\nCOPY requirements.txt .\nRUN apt-get install -y python3\nLABEL d=$BUILD_DATE\n",
        ),
        // The working directory names the ARG, and the fetch reads the
        // working directory.
        (
            "FROM b\nARG BUILD_DATE\nWORKDIR /src/$BUILD_DATE\nCOPY go.mod go.sum ./\nRUN go mod download\nLABEL d=$BUILD_DATE\n",
            "FROM b\nARG BUILD_DATE\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nLABEL d=$BUILD_DATE\n",
        ),
        // The RUN's mount options expand it.
        (
            "FROM b\nARG CACHEBUST=1\nRUN --mount=type=cache,target=/var/cache/$CACHEBUST apt-get install -y curl\nLABEL d=$CACHEBUST\n",
            "FROM b\nARG CACHEBUST=1\nRUN --mount=type=cache,target=/var/cache/apt apt-get install -y curl\nLABEL d=$CACHEBUST\n",
        ),
        // apk honours BUILD* (abuild's variables).
        (
            "FROM b\nARG BUILD_DATE\nRUN apk add --no-cache curl\nLABEL d=$BUILD_DATE\n",
            "FROM b\nARG VCS_REF\nRUN apk add --no-cache curl\nLABEL d=$VCS_REF\n",
        ),
        // The RUN names it.
        (
            "FROM b\nARG BUILD_DATE\nRUN apt-get install -y curl && echo $BUILD_DATE > /etc/built\n",
            "FROM b\nARG BUILD_DATE\nRUN apt-get install -y curl && echo built > /etc/built\n",
        ),
        // An ENV of the same name set before: the ARG changes nothing
        // under the classic builder (the ENV is kept), so moving it is not
        // counted as saving anything.
        (
            "FROM b\nENV BUILD_DATE=never\nARG BUILD_DATE\nRUN apt-get install -y curl\n",
            "FROM b\nENV BUILT=never\nARG BUILD_DATE\nRUN apt-get install -y curl\n",
        ),
        // A RUN that may read every variable (`make` runs anything) stands
        // between the ARG and the install, and the install cannot pass it.
        (
            "FROM b\nARG CACHEBUST=1\nRUN make\nRUN apt-get install -y curl\n",
            "FROM b\nARG CACHEBUST=1\nRUN apt-get install -y curl\nRUN make\n",
        ),
    ];
    for (blocked, control) in pairs {
        assert!(!moved(blocked), "moved:\n{blocked}");
        assert!(moved(control), "control did not move:\n{control}");
    }
    // The dependency the graph keeps, for the pip shape: ARG (unit 0)
    // before the install (unit 3).
    assert!(ordered(dir.path(), pairs[0].0, 0, 3));
    // Only an expensive step is worth the move, and names that carry no
    // per-build value by convention do not move at all.
    for df in [
        "FROM b\nARG BUILD_DATE\nRUN mkdir /srv/x\nLABEL d=$BUILD_DATE\n",
        "FROM b\nARG VERSION=1.2\nRUN apt-get install -y curl\nLABEL v=$VERSION\n",
        "FROM b\nRUN apt-get install -y curl\nARG BUILD_DATE\nLABEL d=$BUILD_DATE\n",
    ] {
        assert!(!moved(df), "moved:\n{df}");
    }
}

/// `df` rewritten with Unsafe changes applied too.
fn rewrite_all(dir: &Path, df: &str) -> String {
    let ctx = Context::new(dir.to_path_buf(), Some(&dir.join("Dockerfile")));
    rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Unsafe))
        .expect("rewrite")
        .new_text
}

#[test]
fn a_tools_own_home_entries_shipped_into_the_home_still_block_it() {
    // The home lists of the knowledge base narrow what a tool reads in a
    // home to its own entries: shipping one of those there still keeps the
    // install below the copy, even as an Unsafe change.
    let ruby = |extra: (&'static str, &'static str)| {
        project(&[
            ("Gemfile", "source 'https://rubygems.org'\ngem 'rack'\n"),
            ("Gemfile.lock", "GEM\n"),
            ("app.rb", "x\n"),
            extra,
        ])
    };
    let df = "FROM ruby:3.3\nENV HOME /home/app\nENV BUNDLE_FROZEN=true\nWORKDIR $HOME\nADD . $HOME\nRUN bundle install\n";
    for extra in [
        (".gemrc", "gem: --no-document\n"),
        (".bundle/config", "---\nBUNDLE_WITHOUT: \"dev\"\n"),
        (".gem/credentials", "x\n"),
        (".local/share/gem/specs/x", "x\n"),
        (
            ".gitconfig",
            "[url \"https://mirror/\"]\n\tinsteadOf = https://github.com/\n",
        ),
        (".ssh/config", "Host *\n"),
    ] {
        let dir = ruby(extra);
        assert_eq!(rewrite_all(dir.path(), df), df, "{}", extra.0);
    }
    // Below the home: the home's global config is shipped there.
    let df = "FROM ruby:3.3\nENV HOME /home/app\nENV BUNDLE_FROZEN=true\nWORKDIR $HOME/src\nADD . $HOME\nRUN bundle install\n";
    let dir = ruby((".bundle/config", "---\n"));
    assert_eq!(rewrite_all(dir.path(), df), df);
    // Gradle under /home/gradle: its user home and the local Maven
    // repository it may resolve from.
    for extra in [
        (".gradle/gradle.properties", "org.gradle.jvmargs=-Xmx1g\n"),
        (".gradle/init.d/mirror.gradle", "x\n"),
        (".m2/settings.xml", "<settings/>\n"),
    ] {
        let dir = project(&[
            ("settings.gradle", "rootProject.name = 'x'\n"),
            ("build.gradle", "plugins { id 'java' }\n"),
            ("src/A.java", "x\n"),
            extra,
        ]);
        let df = "FROM gradle:8-jdk21\nWORKDIR /home/gradle\nCOPY . .\nRUN gradle dependencies\n";
        assert_eq!(rewrite_all(dir.path(), df), df, "{}", extra.0);
    }
    // npm in node's home (run as node; as root, npm's home is /root); go's
    // module cache and credentials in root's.
    let dir = project(&[
        ("package.json", "{\"name\":\"a\",\"dependencies\":{}}"),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        (".node-gyp/20.0.0/include/node/node.h", "x\n"),
    ]);
    for df in [
        "FROM node:20\nWORKDIR /home/node\nCOPY . .\nUSER node\nRUN npm ci\n",
        "FROM node:20\nUSER node\nWORKDIR /home/node\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nUSER 1000\nWORKDIR /home/node\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /root\nCOPY . .\nRUN npm ci\n",
    ] {
        assert_eq!(rewrite_all(dir.path(), df), df);
    }
    let dir = project(&[
        ("go.mod", "module x\n"),
        ("go.sum", "\n"),
        (".netrc", "machine proxy\n"),
    ]);
    let df = "FROM golang:1.22\nWORKDIR /root\nCOPY . .\nRUN go mod download\n";
    assert_eq!(rewrite_all(dir.path(), df), df);
}

#[test]
fn a_tool_without_home_entries_still_reads_every_dot_entry() {
    // pipenv has no home list in the knowledge base: any dotfile shipped
    // into the home blocks it, as before.
    let dir = project(&[
        ("Pipfile", "[packages]\nflask = \"*\"\n"),
        ("Pipfile.lock", "{}"),
        (".rspec", "x\n"),
    ]);
    let df = "FROM python:3.12\nWORKDIR /root\nCOPY . .\nRUN pipenv install --deploy --system\n";
    assert_eq!(rewrite_all(dir.path(), df), df);
}

#[test]
fn the_knowledge_bases_root_paths_follow_home() {
    // `bundle config set` (global) writes ~/.bundle/config: with HOME set
    // that is /home/app/.bundle/config, not /root's. A later reader of it
    // must stay after it.
    let dir = project(&[("app.rb", "x\n")]);
    let df = "FROM ruby:3.3\nENV HOME=/home/app\nWORKDIR /srv\nRUN bundle config set without dev\nRUN cat /home/app/.bundle/config\n";
    assert!(ordered(dir.path(), df, 2, 3));
}

#[test]
fn a_search_path_that_extends_the_base_images_still_names_its_directories() {
    // `ENV PATH=/app/bin:$PATH`: `$PATH` is the base image's, not known.
    // The whole value used to be dropped, so `/app/bin` was no lookup
    // directory and `pip install` moved above a copy that puts a `pip`
    // there (the original runs the shipped one).
    let p = project(&[
        ("requirements.txt", "flask==3.0.0\n"),
        ("bin/pip", "#!/bin/sh\n"),
        ("app.py", "print(1)\n"),
    ]);
    for env in [
        "ENV PATH=/app/bin:$PATH",
        "ENV PATH=\"${PATH}:/app/bin\"",
        // A part that names an unknown variable may be anywhere.
        "ENV PATH=$TOOLS/bin:$PATH",
    ] {
        let df = format!(
            "FROM python:3.12\nWORKDIR /app\n{env}\nCOPY . .\nRUN pip install -r requirements.txt\n"
        );
        assert_eq!(rewrite_all(p.path(), &df), df, "{env}");
    }
    // Control: a search path elsewhere does not stop the hoist.
    let df = "FROM python:3.12\nWORKDIR /app\nENV PATH=/venv/bin:$PATH\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert!(
        rewrite_all(p.path(), df).contains("COPY requirements.txt ./\nRUN pip install"),
        "the control moves"
    );
}

/// A node project with a file at `extra`.
fn node_app(extra: (&'static str, &'static str)) -> tempfile::TempDir {
    project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("server.js", "x\n"),
        extra,
    ])
}

const HOISTED_NPM: &str = "COPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n";

#[test]
fn issue_11_an_application_directory_under_opt_is_not_a_toolchain() {
    // Every RUN reads /opt/** implicitly (toolchains live there), so a copy
    // into /opt/etherpad-lite kept every install below it. The stage's own
    // application directory, which its base image does not have, is read
    // only when named, like /app.
    let dir = node_app(("bin/tool", "x\n"));
    let df = "FROM node:lts-alpine\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\n";
    assert_eq!(
        rewrite_all(dir.path(), df),
        format!("FROM node:lts-alpine\nWORKDIR /opt/app\n{HOISTED_NPM}")
    );
    // Also with the directory named by the copy, under every spelling of
    // an official image.
    for from in [
        "node:20",
        "docker.io/library/node:20-slim",
        "library/node@sha256:0123",
        "python:3.12",
    ] {
        let df = format!("FROM {from}\nWORKDIR /opt/app\nCOPY . /opt/app/\nRUN npm ci\n");
        assert!(
            rewrite_all(dir.path(), &df).contains(
                "COPY package.json package-lock.json /opt/app/\nRUN npm ci\nCOPY . /opt/app/\n"
            ),
            "{from}"
        );
    }
}

#[test]
fn issue_11_a_toolchain_under_opt_still_blocks_the_install() {
    // `bin/npm` would shadow npm on a search path, `.node-gyp` is node-gyp's
    // cache in a home.
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("server.js", "x\n"),
        ("bin/npm", "#!/bin/sh\n"),
        (".node-gyp/20.0.0/include/node/node.h", "x\n"),
    ]);
    let moved = |df: &str| rewrite_all(dir.path(), df) != df;
    let blocked = [
        // The base image's toolchain directory (node's Yarn), and images
        // whose /opt is not known (conda's, Red Hat's app-root, a private
        // base, an earlier stage of the file, a base in a variable).
        "FROM node:20\nWORKDIR /opt/yarn-v1.22.22\nCOPY . .\nRUN npm ci\n",
        "FROM continuumio/miniconda3\nWORKDIR /opt/conda\nCOPY . .\nRUN npm ci\n",
        "FROM registry.access.redhat.com/ubi9/nodejs-20\nWORKDIR /opt/app-root/src\nCOPY . .\nRUN npm ci\n",
        "FROM mycorp/node:20\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\n",
        "FROM node:20 AS base\nRUN npm install -g pnpm\nFROM base\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\n",
        "ARG BASE=node:20\nFROM $BASE\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\n",
        // The copy into /opt itself, and a copy elsewhere with the working
        // directory in /opt.
        "FROM node:20\nWORKDIR /opt\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /opt/app\nCOPY . /opt/\nRUN npm ci\n",
        // A working directory deeper in /opt (its parent may be a
        // toolchain).
        "FROM node:20\nWORKDIR /opt/tools/app\nCOPY . .\nRUN npm ci\n",
        // A search path names the directory or a part of it.
        "FROM node:20\nWORKDIR /opt/app\nENV PATH=/opt/app/bin:$PATH\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /opt/app\nENV PATH=bin:$PATH\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /opt/app\nENV NODE_PATH=/opt/app\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nENV APP=/opt/app\nWORKDIR $APP\nENV PATH=$APP/bin:$PATH\nCOPY . .\nRUN npm ci\n",
        // A search path that names a variable not known: it may be there.
        "FROM node:20\nWORKDIR /opt/app\nENV PATH=$TOOLS/bin:$PATH\nCOPY . .\nRUN npm ci\n",
        // The home is the directory: its dotfiles are settings.
        "FROM node:20\nENV HOME=/opt/app\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\n",
        // A toolchain put there before the copy, by a copy from elsewhere
        // or by a RUN not understood.
        "FROM node:20\nCOPY --from=node:22 /usr/local /opt/app\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /opt/app\nRUN curl -fsSL https://example.com/t.tgz | tar -xz\nCOPY . .\nRUN npm ci\n",
    ];
    for df in blocked {
        assert!(!moved(df), "moved:\n{df}");
    }
    // Controls: each moves once what blocks it is gone.
    let controls = [
        "FROM node:20\nWORKDIR /opt/yarn-app\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /opt/app\nENV PATH=/opt/tools/bin:$PATH\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nENV APP=/opt/app\nWORKDIR $APP\nENV PATH=/usr/local/x/bin:$PATH\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nENV HOME=/home/app\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nCOPY --from=node:22 /usr/local /opt/node\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\n",
    ];
    for df in controls {
        assert!(moved(df), "did not move:\n{df}");
    }
}

#[test]
fn issue_11_a_later_run_still_reads_what_it_names_in_the_application_directory() {
    // The narrowing is of the implicit /opt/** read only: a RUN that names
    // a shipped file, or runs one, stays below the copy.
    let dir = node_app(("tools/gen.sh", "#!/bin/sh\n"));
    for df in [
        "FROM node:20\nWORKDIR /opt/app\nCOPY . .\nRUN sh tools/gen.sh\n",
        "FROM node:20\nWORKDIR /opt/app\nCOPY . .\nRUN cat /opt/app/server.js\n",
        "FROM node:20\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\nRUN node server.js\n",
    ] {
        let out = rewrite_all(dir.path(), df);
        let copy = out.find("COPY . .").expect("the copy");
        let last = out.rfind("RUN ").expect("a RUN");
        assert!(copy < last, "{df}\n=>\n{out}");
    }
    // The edge between the copy and a reader of the directory stays.
    let df = "FROM node:20\nWORKDIR /opt/app\nCOPY . .\nRUN cat server.js\n";
    assert!(ordered(dir.path(), df, 1, 2));
    // And a system tree outside it is still read: a copy into /opt/other
    // keeps its order with an install.
    let df = "FROM node:20\nWORKDIR /opt/app\nCOPY . .\nCOPY . /opt/other\nRUN npm ci\n";
    assert!(ordered(dir.path(), df, 2, 3));
}

const NPM: &[(&str, &str)] = &[
    (
        "package.json",
        "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{}}",
    ),
    (
        "package-lock.json",
        "{\"lockfileVersion\":3,\"packages\":{}}",
    ),
    ("index.js", "x\n"),
];

/// A file of a test project: its path and its content.
type File<'a> = (&'a str, &'a str);

/// A project of `base` files and `extra` ones.
fn project_with(base: &[(&str, &str)], extra: &[(&str, &str)]) -> tempfile::TempDir {
    let files: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
    project(&files)
}

#[test]
fn variables_that_move_a_tools_cache_config_or_home_are_followed() {
    // npm reads `npm_config_*` in any case; the cache, the user config, a
    // Gradle user home, a Maven local repository in MAVEN_OPTS, uv's
    // project environment: the tool reads and writes there, so a broad
    // copy that ships there keeps the install below it.
    let cases: &[(&str, &[File], &str)] = &[
        (
            "ENV npm_config_cache=/app/.npm-cache\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
            &[(".npm-cache/_cacache/marker", "old\n")],
            "npm",
        ),
        (
            "ENV NPM_CONFIG_CACHE=.npm-cache\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
            &[(".npm-cache/_cacache/marker", "old\n")],
            "npm",
        ),
        (
            "WORKDIR /app\nCOPY . .\nRUN npm_config_cache=/app/.npm-cache npm ci\n",
            &[(".npm-cache/_cacache/marker", "old\n")],
            "npm",
        ),
        (
            "ENV npm_config_userconfig=/app/ci.npmrc\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
            &[("ci.npmrc", "registry=https://mirror/\n")],
            "npm",
        ),
        // npm's global prefix, where its global settings are read
        // (`$PREFIX/etc/npmrc`; measured, npm 10.8.2 in node:20-slim: an
        // `omit=dev` there, shipped by the copy, left the development
        // dependencies out, and the hoisted install put them in).
        (
            "ENV PREFIX=/app/tools\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
            &[("tools/etc/npmrc", "omit=dev\n")],
            "npm",
        ),
        (
            "ENV DESTDIR=/app/d\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
            &[("d/usr/local/etc/npmrc", "omit=dev\n")],
            "npm",
        ),
        (
            "ENV PREFIX=/app/tools\nWORKDIR /app\nCOPY . .\nRUN yarn install --frozen-lockfile\n",
            &[("tools/etc/npmrc", "registry=https://mirror/\n")],
            "yarn",
        ),
        (
            "ENV XDG_CACHE_HOME=/app/cache\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
            &[("cache/node-gyp/20/include/node.h", "x\n")],
            "npm",
        ),
        (
            "ENV GRADLE_USER_HOME=/app/gradle-home\nWORKDIR /app\nCOPY . .\nRUN gradle dependencies\n",
            &[("gradle-home/init.d/mirror.gradle", "x\n")],
            "gradle",
        ),
        (
            "ENV MAVEN_OPTS=\"-Xmx1g -Dmaven.repo.local=/app/repo\"\nWORKDIR /app\nCOPY . .\nRUN mvn dependency:go-offline\n",
            &[("repo/org/x/1/x-1.pom", "<project/>\n")],
            "maven",
        ),
        // A Java agent or a Ruby library attached to an option: the JVM
        // does not start without the agent's jar (the rewritten build
        // fails), Ruby loads the file first.
        (
            "ENV JAVA_TOOL_OPTIONS=-javaagent:/app/otel.jar\nWORKDIR /app\nCOPY . .\nRUN mvn dependency:go-offline\n",
            &[("otel.jar", "x\n")],
            "maven",
        ),
        (
            "ENV MAVEN_OPTS=\"-Xss1m -javaagent:otel.jar=service=x\"\nWORKDIR /app\nCOPY . .\nRUN mvn dependency:go-offline\n",
            &[("otel.jar", "x\n")],
            "maven",
        ),
        (
            "ENV RUBYOPT=-r/app/boot.rb BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
            &[("boot.rb", "x\n")],
            "ruby",
        ),
        (
            "ENV PIP_CACHE_DIR=/app/.pip-cache\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
            &[(".pip-cache/http/x", "x\n")],
            "pip",
        ),
        (
            "ENV UV_PROJECT_ENVIRONMENT=/app/env\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen --no-install-project\n",
            &[("env/pyvenv.cfg", "home = /usr\n")],
            "uv",
        ),
        (
            "ENV BUNDLE_USER_CONFIG=/app/bundle.yml BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
            &[("bundle.yml", "---\nBUNDLE_WITHOUT: \"dev\"\n")],
            "ruby",
        ),
    ];
    for (body, extra, eco) in cases {
        let base: &[(&str, &str)] = match *eco {
            "npm" => NPM,
            "yarn" => &[
                (
                    "package.json",
                    "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{}}",
                ),
                ("yarn.lock", "# yarn lockfile v1\n"),
                ("index.js", "x\n"),
            ],
            "gradle" => &[
                ("settings.gradle", "rootProject.name = 'x'\n"),
                ("build.gradle", "plugins { id 'java' }\n"),
                ("src/A.java", "x\n"),
            ],
            "maven" => &[("pom.xml", "<project/>\n"), ("src/A.java", "x\n")],
            "pip" => &[("requirements.txt", "flask==3.0.0\n"), ("app.py", "x\n")],
            "uv" => &[
                ("pyproject.toml", "[project]\nname = \"x\"\n"),
                ("uv.lock", "version = 1\n"),
                ("app.py", "x\n"),
            ],
            _ => &[
                ("Gemfile", "source 'https://rubygems.org'\ngem 'rack'\n"),
                ("Gemfile.lock", "GEM\n"),
                ("app.rb", "x\n"),
            ],
        };
        let df = format!("FROM base\n{body}");
        let dir = project_with(base, extra);
        assert_eq!(rewrite_all(dir.path(), &df), df, "moved:\n{df}");
        // The control: the same Dockerfile, nothing shipped there.
        let dir = project(base);
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "not moved:\n{df}");
    }
    // A value that is not known (a build argument without a default) may
    // point anywhere: nothing moves, whatever the context holds.
    let df =
        "FROM base\nARG CACHE\nENV npm_config_cache=$CACHE\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let dir = project(NPM);
    assert_eq!(rewrite_all(dir.path(), df), df);
    // A variable the knowledge base lists by prefix counts only when its
    // value looks like a path: `BUNDLE_WITHOUT="development test"` with a
    // shipped `test/` still hoists, and so does `PIP_NO_CACHE_DIR=1`.
    let dir = project(&[
        ("Gemfile", "source 'https://rubygems.org'\ngem 'rack'\n"),
        ("Gemfile.lock", "GEM\n"),
        ("test/app_test.rb", "x\n"),
        ("development/notes", "x\n"),
    ]);
    let df = "FROM base\nENV BUNDLE_WITHOUT=\"development test\" BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY . .\nRUN bundle install\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    let dir = project(&[("requirements.txt", "flask==3.0.0\n"), ("1/x", "x\n")]);
    let df = "FROM base\nENV PIP_NO_CACHE_DIR=1\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    // A file named by a variable is read: it stays after the copy that
    // puts it there (PIP_REQUIREMENT is `pip install -r`).
    let dir = project(SITE);
    let df = "FROM base\nENV PIP_REQUIREMENT=/srv/requirements.txt\nCOPY requirements.txt /srv/\nRUN pip install flask\n";
    assert!(ordered(dir.path(), df, 1, 2));
}

#[test]
fn a_users_home_from_etc_passwd_is_followed() {
    // Without `ENV HOME`, a RUN runs in its user's home from /etc/passwd.
    // A user made with its home in the working directory: npm writes its
    // cache there, so a broad copy that ships `.npm/` keeps it below.
    let shipped: &[(&str, &str)] = &[(".npm/_cacache/marker", "old\n")];
    for (adduser, workdir) in [
        ("useradd -m -d /app app", "/app"),
        ("useradd --home-dir=/app -m app", "/app"),
        ("useradd -md /app app", "/app"),
        ("adduser --disabled-password --home /app app", "/app"),
        ("adduser -D -h /app app", "/app"),
        ("useradd app && usermod -d /app app", "/app"),
        ("useradd -m -b /srv app", "/srv/app"),
    ] {
        let df = format!(
            "FROM base\nRUN {adduser}\nUSER app\nWORKDIR {workdir}\nCOPY --chown=app . .\nRUN npm ci\n"
        );
        let dir = project_with(NPM, shipped);
        assert_eq!(rewrite_all(dir.path(), &df), df, "moved:\n{df}");
        // The control: nothing of npm's in the home, the install moves.
        let dir = project(NPM);
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "not moved:\n{df}");
    }
    // A home that is not known may be the working directory.
    let df = "FROM base\nARG APP_HOME\nRUN useradd -m -d \"$APP_HOME\" app\nUSER app\nWORKDIR /app\nCOPY --chown=app . .\nRUN npm ci\n";
    let dir = project(NPM);
    assert_eq!(rewrite_all(dir.path(), df), df);
    // The home of a user from the base image (`node`) is in /home: the
    // application below it still moves, and npm's writes there keep a
    // later reader of its cache after it.
    let df = "FROM node:20\nUSER node\nWORKDIR /home/node/app\nCOPY --chown=node . .\nRUN npm ci\n";
    let dir = project_with(NPM, shipped);
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    let df = "FROM node:20\nUSER node\nWORKDIR /home/node/app\nCOPY package.json package-lock.json ./\nRUN npm ci\nRUN cat /home/node/.npm/_cacache/marker\n";
    let dir = project(NPM);
    assert!(ordered(dir.path(), df, 3, 4));
}

#[test]
fn a_users_home_is_narrowed_only_where_the_user_database_is_known() {
    // Review of the home narrowing (issue 11): each of these made a Safe
    // hoist that changed the image or broke the build, because the home
    // the install really used held the dotfiles the broad copy ships.
    let dir = project(&[
        (".bundle/config", "---\nBUNDLE_PATH: \"/srv/app/vendor\"\n"),
        (".npmrc", "omit=dev\n"),
        (
            "src/Gemfile",
            "source \"https://rubygems.org\"\ngem \"rack\"\n",
        ),
        ("src/Gemfile.lock", "GEM\n"),
        ("src/app.rb", "x\n"),
    ]);
    for df in [
        // HOME set on the command, by a variable assignment.
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nRUN adduser -D app\nCOPY --chown=app . /home/app/\nWORKDIR /home/app/src\nRUN HOME=/home/app bundle install\n",
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nCOPY . /home/app/\nWORKDIR /home/app/src\nRUN HOME=/home/app; export HOME; bundle install\n",
        // A base that is not official may set `ENV HOME` for root.
        "FROM example/jupyter\nUSER root\nENV BUNDLE_FROZEN=true\nCOPY . /home/jovyan/\nWORKDIR /home/jovyan/src\nRUN bundle install\n",
        // The user database edited by what the analysis does not read.
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nRUN adduser -D node && sed -i 's/^node:/app:/' /etc/passwd\nCOPY --chown=app . /home/node/\nWORKDIR /home/node/src\nUSER app\nRUN bundle install\n",
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nRUN mkdir -p /srv && sh -c \"adduser -D -h /srv/app app\"\nCOPY --chown=app . /srv/app/\nWORKDIR /srv/app/src\nUSER app\nRUN bundle install\n",
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nRUN adduser -D app && mkdir -p /srv && mv /home/app /srv/app && ln -s /srv/app /home/app\nCOPY --chown=app . /srv/app/\nWORKDIR /srv/app/src\nUSER app\nRUN bundle install\n",
        "FROM ruby:3.2 AS users\nRUN adduser -D -h /srv/app app\nFROM ruby:3.2\nENV BUNDLE_FROZEN=true\nCOPY --from=users /etc/passwd /etc/group /etc/\nCOPY --chown=app . /srv/app/\nWORKDIR /srv/app/src\nUSER app\nRUN bundle install\n",
        "FROM node:20-slim\nRUN usermod -l app node\nCOPY --chown=app . /home/node/\nWORKDIR /home/node/src\nUSER app\nRUN npm ci\n",
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nRUN useradd -m app && usermod -d /srv/app app\nCOPY --chown=app . /srv/app/\nWORKDIR /srv/app/src\nUSER app\nRUN bundle install\n",
    ] {
        assert_eq!(rewrite_all(dir.path(), df), df, "{df}");
    }
}

#[test]
fn the_user_database_is_known_only_when_every_edit_of_it_is_read() {
    // The second review of the home narrowing (issue 11): each made a Safe
    // change that broke the build or changed the image.
    let dir = project(&[
        (".bundle/config", "---\nBUNDLE_PATH: \"/srv/app/vendor\"\n"),
        (
            "fixhome.sh",
            "sed -i 's#:/home/app:#:/srv/app:#' /etc/passwd\n",
        ),
        ("adduser.conf", "DHOME=/srv\n"),
        (
            "skel/.bundle/config",
            "---\nBUNDLE_PATH: \"/srv/app/vendor\"\n",
        ),
        (
            "src/Gemfile",
            "source \"https://rubygems.org\"\ngem \"rack\"\n",
        ),
        ("src/Gemfile.lock", "GEM\n"),
        ("src/app.rb", "x\n"),
    ]);
    let head = "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\n";
    let tail = "COPY --chown=app . /srv/app/\nWORKDIR /srv/app/src\nUSER app\nRUN bundle install\n";
    for users in [
        // A script, an archive, a glob, a variable edit /etc/passwd.
        "COPY fixhome.sh /usr/local/bin/\nRUN adduser -D app && fixhome.sh\n",
        "RUN adduser -D app && tar -xf /tmp/users.tar -C /\n",
        "RUN adduser -D app && sed -i 's#:/hom[e]/app:#:/srv/app:#' /et[c]/pass[w]d\n",
        "ENV PW=/etc/passwd\nRUN adduser -D app && sed -i 's#:/home/app:#:/srv/app:#' $PW\n",
        // The home replaced by a symlink in a later RUN.
        "RUN adduser -D app\nRUN mkdir -p /srv/app && rm -rf /home/app && ln -s /srv/app /home/app\n",
        // An existing user added to a group; a system user; new defaults.
        "RUN addgroup app && adduser www-data app\n",
        "RUN adduser --system --group app\n",
        "RUN echo HOME=/srv >> /etc/default/useradd\nRUN useradd -m app\n",
        "COPY adduser.conf /etc/adduser.conf\nRUN adduser --disabled-password --gecos \"\" app\n",
        "RUN adduser --conf /srv/app/adduser.conf --disabled-password app\n",
        "RUN useradd -D -b /srv && useradd -m app\n",
    ] {
        let df = format!("{head}{users}{tail}");
        assert_eq!(rewrite_all(dir.path(), &df), df, "{users}");
    }
    // A SHELL that switches users, HOME set on the command or to a value
    // that is not known: the home may be anywhere.
    for df in [
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nRUN adduser -D app\nSHELL [\"su\", \"app\", \"-c\"]\nCOPY --chown=app . /srv/app/\nWORKDIR /srv/app/src\nRUN bundle install\n",
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nCOPY . /srv/app/\nWORKDIR /srv/app/src\nRUN HOME=/srv/app bundle install\n",
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nCOPY . /srv/app/\nWORKDIR /srv/app/src\nRUN cd /srv/app && export HOME=$PWD && cd src && bundle install\n",
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nENV HOME=${APP_HOME:-/srv/app}\nCOPY . /srv/app/\nWORKDIR /srv/app/src\nRUN bundle install\n",
        "FROM ruby:3.2\nENV BUNDLE_FROZEN=true\nARG HOME\nCOPY . /srv/app/\nWORKDIR /srv/app/src\nRUN bundle install\n",
    ] {
        assert_eq!(rewrite_all(dir.path(), df), df, "{df}");
    }
    // What user tools read (`-k`, `--conf`, /etc/skel) stays before them.
    for df in [
        "FROM python:3.12-slim\nCOPY skel/ /tmp/skel/\nRUN useradd -m -k /tmp/skel app\nCOPY --chown=app . /srv/app/\nWORKDIR /srv/app\nUSER app\nRUN pip install -r requirements.txt\n",
        "FROM python:3.12-slim\nCOPY adduser.conf /tmp/\nRUN adduser --conf /tmp/adduser.conf app\n",
        "FROM python:3.12-slim\nCOPY skel/ /etc/skel/\nRUN useradd -m app\n",
    ] {
        let out = rewrite_all(dir.path(), df);
        let copy = out
            .find("COPY skel/")
            .or_else(|| out.find("COPY adduser.conf"));
        let tool = out.find("RUN useradd").or_else(|| out.find("RUN adduser"));
        assert!(copy < tool, "{out}");
    }
}

#[test]
fn only_builtins_run_without_a_search_of_path() {
    // A copy that ships `/app/bin/echo` and `/app/bin/export` onto the
    // search path: `export` (a special builtin) is never looked up there,
    // `echo` and `eval` may be, and a builtin in the same RUN as a program
    // does not hide the program.
    let dir = project(&[("bin/echo", "x\n"), ("bin/export", "x\n"), ("a.txt", "x\n")]);
    let head = "FROM debian:12\nWORKDIR /app\nENV PATH=\"/app/bin:$PATH\"\nCOPY . .\n";
    // units: 0 WORKDIR, 1 ENV, 2 COPY, 3 RUN
    for (run, after_copy) in [
        ("RUN export A=1", false),
        ("RUN set -e; cd /tmp; export A=1", false),
        ("RUN echo hi", true),
        ("RUN export A=1 && echo hi", true),
        ("RUN eval export A=1", true),
        ("RUN . /etc/profile", true),
    ] {
        let df = format!("{head}{run}\n");
        assert_eq!(ordered(dir.path(), &df, 2, 3), after_copy, "{run}");
    }
}

/// Files of a project, the file added to them, the Dockerfile.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

/// With the base image's working directory known (`/` for python, node and
/// ruby, `/go` for golang), `COPY . .` ships each context file to a known
/// place: one that lands where the install reads, writes or looks up
/// programs and settings still keeps the install below the copy.
#[test]
fn a_copy_into_the_base_images_working_directory_still_blocks_what_it_reaches() {
    let pip = [("requirements.txt", "flask==3.0.0\n"), ("app.py", "x\n")];
    let npm = [
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("server.js", "x\n"),
    ];
    let go = [
        ("go.mod", "module example.com/a\n\ngo 1.22\n"),
        ("go.sum", "\n"),
        ("main.go", "package main\n"),
    ];
    let gems = [
        ("Gemfile", "source 'https://rubygems.org'\ngem 'rack'\n"),
        ("Gemfile.lock", "GEM\n"),
        ("app.rb", "x\n"),
    ];
    let cases: &[Case<'_>] = &[
        // pip reads /etc/pip.conf, ~/.config/pip, and runs from /usr/local.
        (
            &pip,
            "etc/pip.conf",
            "FROM python:3\nCOPY . /\nRUN pip install -r requirements.txt\n",
        ),
        (
            &pip,
            "root/.config/pip/pip.conf",
            "FROM python:3\nCOPY . .\nRUN pip install -r requirements.txt\n",
        ),
        (
            &pip,
            "usr/local/bin/pip",
            "FROM python:3-slim\nCOPY . .\nRUN pip install -r requirements.txt\n",
        ),
        (
            &pip,
            "usr/local/lib/python3.12/site-packages/x.py",
            "FROM python:3-alpine\nCOPY . /\nRUN pip install -r requirements.txt\n",
        ),
        // npm reads ~/.npmrc and the global npmrc, writes ./node_modules.
        (&npm, "root/.npmrc", "FROM node:18\nCOPY . .\nRUN npm ci\n"),
        (
            &npm,
            "usr/local/etc/npmrc",
            "FROM node:18-alpine\nCOPY . .\nRUN npm ci\n",
        ),
        (
            &npm,
            "node_modules/ms/index.js",
            "FROM node:18\nCOPY . .\nRUN npm ci\n",
        ),
        (&npm, "bin/sh", "FROM node:18\nCOPY . .\nRUN npm ci\n"),
        // go writes the module cache under $GOPATH (/go), runs /go/bin.
        (
            &go,
            "pkg/mod/cache/download/x",
            "FROM golang\nCOPY . .\nRUN go mod download\n",
        ),
        (
            &go,
            "bin/go",
            "FROM golang:1.22\nCOPY . .\nRUN go mod download\n",
        ),
        (
            &go,
            "go/pkg/mod/x",
            "FROM golang\nWORKDIR /\nCOPY . .\nRUN go mod download\n",
        ),
        (
            &go,
            "root/.config/go/env",
            "FROM golang\nWORKDIR /\nCOPY . .\nRUN go mod download\n",
        ),
        // bundler reads its config in $BUNDLE_APP_CONFIG (/usr/local/bundle).
        (
            &gems,
            "usr/local/bundle/config",
            "FROM ruby:3.3\nENV BUNDLE_FROZEN=true\nCOPY . .\nRUN bundle install\n",
        ),
    ];
    for (files, extra, df) in cases {
        let mut files = files.to_vec();
        files.push((extra, "x\n"));
        let dir = project(&files);
        assert_eq!(rewrite_unsafe_too(dir.path(), df), *df, "{extra}: {df}");
        // Without the file the install moves: the case is not blocked by
        // something else.
        let dir = project(&files[..files.len() - 1]);
        assert_ne!(
            rewrite_unsafe_too(dir.path(), df),
            *df,
            "without {extra}: {df}"
        );
    }
}

#[test]
fn a_run_writing_into_a_directory_the_broad_copy_makes_stays_below_it() {
    // The broad copy makes /app/conf; a `RUN` the install needs writes
    // into it. Moved above the copy, `echo … > conf/pip.conf` finds no
    // directory (the rewritten build failed), and `cp x conf` into an
    // empty `conf/` (shipped, but not a listed file) makes a file `conf`
    // that the broad copy cannot replace with the directory.
    let files = &[
        ("requirements.txt", "flask==3.0.0\n"),
        ("conf/app.ini", "x\n"),
        ("app.py", "x\n"),
    ];
    let dir = project(files);
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    for run in [
        "echo '[global]' > /app/conf/pip.conf",
        "echo '[global]' > /tmp/pip.conf && cp /tmp/pip.conf /app/empty",
    ] {
        let target = if run.contains("empty") {
            "/app/empty/pip.conf"
        } else {
            "/app/conf/pip.conf"
        };
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\nENV PIP_CONFIG_FILE={target}\nRUN pip install -r requirements.txt\n"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
    // Into a directory the broad copy does not make, it moves.
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /etc/pip && echo 'machine x' > /etc/pip/netrc\nENV NETRC=/etc/pip/netrc\nRUN pip install -r requirements.txt\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// A directory option moves what the command writes: `composer config -d
/// /app` edits /app/composer.json, which the copy ships, so it stays after
/// the copy (it was modelled as writing /composer.json, in the working
/// directory). A Gradle build run on another project directory (`-p`)
/// reads that directory: `RUN gradle build -p /app` was moved above `COPY
/// . /app` as Safe, as if it built the working directory.
#[test]
fn directory_options_move_what_commands_write() {
    let dir = project(&[
        ("composer.json", "{\"require\":{}}\n"),
        ("composer.lock", "{}\n"),
        ("build.gradle", "plugins { id 'java' }\n"),
        ("settings.gradle", "rootProject.name = 'a'\n"),
    ]);
    let df = "FROM base\nWORKDIR /\nCOPY . /app\nRUN composer config -d /app platform.php 8.2\n";
    assert!(ordered(dir.path(), df, 1, 2));
    let df = "FROM base\nWORKDIR /home\nCOPY . /app\nRUN gradle build -p /app\n";
    assert!(ordered(dir.path(), df, 1, 2));
    assert_eq!(rewrite_any(dir.path(), df), df);
    // The dependencies task moves, with the manifests of /app.
    let df = "FROM base\nWORKDIR /home\nCOPY . /app\nRUN gradle dependencies -p /app\n";
    assert_eq!(
        rewrite_any(dir.path(), df),
        "FROM base\nWORKDIR /home\nCOPY build.gradle settings.gradle /app/\nRUN gradle dependencies -p /app\nCOPY . /app\n"
    );
}

/// Where git may run, a shipped `.git` keeps the install from being Safe:
/// images with git (the full `node`, `python` variants, a stage of the
/// file), an earlier `RUN` that may install it (a system install, one the
/// analysis does not follow), the install's own `RUN` installing it first,
/// a `PATH` with a directory that is not known, a `git` the copy ships,
/// and a variant chosen by a build argument.
#[test]
fn a_shipped_repository_matters_wherever_git_may_run() {
    let dir = project(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        (".git/config", "[core]\n"),
        ("composer.json", "{\"require\":{}}\n"),
        ("composer.lock", "{}\n"),
        ("index.php", "<?php\n"),
    ]);
    let install = "COPY . /app\nWORKDIR /app\nRUN composer install --no-dev\n";
    for head in [
        "FROM node:20\n",
        "FROM python:3.12\n",
        "FROM php:8.2 AS base\nFROM base\n",
        "FROM php:8.2\nRUN apt-get update && apt-get install -y unzip\n",
        "FROM php:8.2\nRUN ./install-tools.sh\n",
        "FROM php:8.2\nENV PATH=/opt/$TOOLS/bin:$PATH\n",
        "FROM php:8.2\nCOPY --from=tools /bin/ /usr/local/bin/\n",
        "ARG V=alpine\nFROM node:20-${V}\n",
    ] {
        let df = format!("{head}{install}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
    let df = "FROM php:8.2\nCOPY . /app\nWORKDIR /app\nRUN apt-get update && apt-get install -y git && composer install\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    // A mount that may bring git for the time of the install (a cache
    // mount keeps what an earlier build left there).
    for mount in [
        "--mount=type=bind,from=tools,source=/usr/bin/git,target=/usr/bin/git",
        "--mount=type=cache,target=/usr/local/bin",
    ] {
        let df = format!(
            "FROM php:8.2\nCOPY . /app\nWORKDIR /app\nRUN {mount} composer install --no-dev\n"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{mount}");
    }
    // A program named git in the context.
    let with_git = project(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("composer.json", "{\"require\":{}}\n"),
        ("composer.lock", "{}\n"),
        ("bin/git", "#!/bin/sh\n"),
    ]);
    let df = "FROM php:8.2\nCOPY . /app\nENV PATH=/app/bin:$PATH\nWORKDIR /app\nRUN composer install --no-dev\n";
    assert_eq!(rewrite_unsafe_too(with_git.path(), df), df);
}

/// Without a git program the code of the packages an install runs may
/// still read a shipped `.git`: the `pre-commit` npm package's install
/// script finds it with `fs.existsSync` and writes `.git/hooks/pre-commit`
/// (a real build on node:20-slim: only in the original image), Composer's
/// plugin captainhook/hook-installer searches for it with `file_exists`
/// and fails without one. So only a `composer install` whose lock lists no
/// plugin, with no plugin installed globally before it, moves as Safe;
/// and a digest picks the image whatever the tag says.
#[test]
fn without_git_package_code_may_still_read_the_repository() {
    let npm = project(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("app.js", "x\n"),
        (
            "package.json",
            "{\"name\":\"app\",\"version\":\"1.0.0\",\"devDependencies\":{\"pre-commit\":\"1.2.2\"}}\n",
        ),
        (
            "package-lock.json",
            r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0","devDependencies":{"pre-commit":"1.2.2"}},"node_modules/pre-commit":{"version":"1.2.2","resolved":"https://registry.npmjs.org/pre-commit/-/pre-commit-1.2.2.tgz","dev":true,"hasInstallScript":true}}}"#,
        ),
    ]);
    for base in ["node:20-slim", "node:20-alpine"] {
        for run in ["npm ci", "npm install", "yarn install", "pnpm install"] {
            let df = format!("FROM {base}\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
            assert_eq!(rewrite_unsafe_too(npm.path(), &df), df, "{df}");
        }
    }
    let plugin = r#"{"packages":[],"packages-dev":[{"name":"captainhook/hook-installer","version":"1.0.0","type":"composer-plugin"}]}"#;
    let php = |lock: &'static str| {
        project(&[
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("composer.json", "{\"require\":{}}\n"),
            ("composer.lock", lock),
            ("index.php", "<?php\n"),
        ])
    };
    let install = "COPY --from=composer:2 /usr/bin/composer /usr/bin/composer\nWORKDIR /app\nCOPY . .\nRUN composer install\n";
    let with_plugin = php(plugin);
    for head in ["FROM php:8.2-cli\n", "FROM ruby:3.3-slim\n"] {
        let df = format!("{head}{install}");
        assert_eq!(rewrite_unsafe_too(with_plugin.path(), &df), df, "{df}");
    }
    let plain = php(r#"{"packages":[],"packages-dev":[]}"#);
    for head in [
        // A plugin installed globally, where Composer's home is.
        "FROM php:8.2-cli\nCOPY --from=tools /plugins/ /root/.composer/\n",
        "FROM php:8.2-cli\nENV COMPOSER_HOME=/tmp/composer\n",
        // The full variant, whatever the tag says.
        "FROM python:3.12-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
    ] {
        let df = format!("{head}{install}");
        assert_eq!(rewrite_unsafe_too(plain.path(), &df), df, "{df}");
    }
    // Without a plugin it moves.
    let df = format!("FROM php:8.2-cli\n{install}");
    assert_ne!(rewrite_unsafe_too(plain.path(), &df), df);
}

/// `php` runs code: only the Composer installer steps getcomposer.org
/// documents are followed. Another script, other `-r` code, another
/// address piped in, a PHAR that is not Composer's, or the installer
/// writing into the shipped directory keep their place.
#[test]
fn php_scripts_other_than_composers_installer_are_not_followed() {
    let dir = project(&[
        ("composer.json", "{\"require\":{}}\n"),
        ("composer.lock", "{}\n"),
        ("composer.phar", "phar\n"),
        ("artisan", "<?php\n"),
    ]);
    for run in [
        "php artisan key:generate",
        "php -r \"file_put_contents('x', 1);\"",
        "curl -sS https://example.com/installer | php -- --install-dir=/usr/local/bin",
        "curl -sS -o i.php https://getcomposer.org/installer | php --",
        "curl -sS https://getcomposer.org/installer | php -- --install-dir=$BIN",
        "curl -sS https://getcomposer.org/installer | php -- --evil",
        "curl -sS https://getcomposer.org/installer | php",
        "php composer.phar install",
        "curl -sS https://getcomposer.org/installer | php",
    ] {
        let df = format!("FROM php:8.2-apache\nCOPY . /var/www/html/\nRUN {run}\n");
        assert_eq!(rewrite_any(dir.path(), &df), df, "moved:\n{df}");
    }
}

/// A context with a project in its root and another in `sub/`, and the
/// files other options name (review 5).
const ELSEWHERE: &[(&str, &str)] = &[
    (
        "package.json",
        "{\"name\":\"root\",\"version\":\"1.0.0\",\"private\":true}",
    ),
    ("yarn.lock", ""),
    (
        "package-lock.json",
        "{\"lockfileVersion\":3,\"packages\":{}}",
    ),
    ("pnpm-lock.yaml", "lockfileVersion: '6.0'\n"),
    (
        "sub/package.json",
        "{\"name\":\"sub\",\"version\":\"1.0.0\",\"private\":true}",
    ),
    ("sub/yarn.lock", ""),
    (
        "sub/pyproject.toml",
        "[project]\nname = 'sub'\nversion = '1'\n",
    ),
    ("sub/uv.lock", ""),
    ("sub/poetry.lock", ""),
    ("sub/pom.xml", "<project/>\n"),
    ("sub/build.gradle", "\n"),
    (
        "sub/Cargo.toml",
        "[package]\nname = 'sub'\nversion = '0.1.0'\n",
    ),
    ("sub/src/main.rs", "fn main() {}\n"),
    ("sub/go.mod", "module sub\n\ngo 1.21\n"),
    (
        "pyproject.toml",
        "[project]\nname = 'root'\nversion = '1'\n",
    ),
    ("poetry.lock", ""),
    ("uv.lock", ""),
    ("uv-alt.toml", "\n"),
    ("script.py", "print(1)\n"),
    ("requirements.txt", "flask==3.0.0\n"),
    ("constraints.txt", "flask==3.0.0\n"),
    ("go.mod", "module root\n\ngo 1.21\n"),
    ("go.sum", ""),
    ("go.alt.mod", "module root\n\ngo 1.21\n"),
    (
        "Cargo.toml",
        "[package]\nname = 'root'\nversion = '0.1.0'\n",
    ),
    ("Cargo.lock", ""),
    ("src/main.rs", "fn main() {}\n"),
    ("cargo-alt.toml", "\n"),
    ("pom.xml", "<project/>\n"),
    ("settings.xml", "<settings/>\n"),
    ("build.gradle", "\n"),
    ("settings.gradle", "rootProject.name = 'root'\n"),
    ("init.gradle", "\n"),
    ("Gemfile", "source 'https://rubygems.org'\ngem 'rack'\n"),
    ("Gemfile.lock", "GEM\n"),
    ("app.js", "x\n"),
];

/// Options that name the directory an install runs in, or a file it
/// reads, given in a form the knowledge base did not follow: `--opt=value`
/// of an option it does not describe (the value was read only when it
/// looked like a path, and `sub` does not), a value option whose value is
/// a file name without `/`, or an option the entry does not list at all
/// whose value an `ignore` entry drops. Built, `yarn --cwd=sub` moved
/// above the copy installed the root's packages into /app/node_modules
/// instead of sub's into /app/sub/node_modules (yarn walks up from a
/// missing directory to the first package.json). Not even as `Unsafe`.
#[test]
fn options_naming_where_an_install_runs_or_what_it_reads_are_followed() {
    let dir = project(ELSEWHERE);
    for run in [
        "yarn --frozen-lockfile --cwd=sub",
        "yarn install --cwd=sub --frozen-lockfile",
        "pnpm install --dir=sub",
        "pnpm install -Csub",
        "npm ci --location=global",
        "npm install --location=global",
        "npm_config_location=global npm install",
        "npm install -gf",
        "npm i -dg",
        "poetry install --no-root --project=sub",
        "uv sync --no-install-project --project=sub",
        "uv sync --no-install-project --config-file=uv-alt.toml",
        "uv sync --no-install-project --script=script.py",
        "go mod download -modfile=go.alt.mod",
        "cargo fetch --config=cargo-alt.toml",
        "mvn -f sub dependency:go-offline",
        "mvn -fsub/pom.xml dependency:go-offline",
        "gem install -g",
        "gem install --file Gemfile",
    ] {
        let df = format!("FROM base\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_any(dir.path(), &df), df, "moved:\n{df}");
    }
    // Outside the broad copy's directory, an environment variable: the
    // same mode, so the same result.
    let df = "FROM base\nENV npm_config_location=global\nWORKDIR /app\nCOPY . .\nRUN npm install\n";
    assert_eq!(rewrite_any(dir.path(), df), df);
    // Directory options and the files Gradle's options name are followed:
    // a move copies what the install reads there first.
    for (run, file) in [
        ("npm ci --prefix=sub", "sub/package.json"),
        (
            "poetry install --no-root --directory=sub",
            "sub/pyproject.toml",
        ),
        (
            "uv sync --no-install-project --directory=sub",
            "sub/pyproject.toml",
        ),
        ("gradle dependencies -p sub", "sub/build.gradle"),
        ("gradle dependencies --project-dir sub", "sub/build.gradle"),
        (
            "gradle dependencies -b sub/build.gradle",
            "sub/build.gradle",
        ),
    ] {
        let df = format!("FROM base\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        let out = rewrite_any(dir.path(), &df);
        let before = &out[..out.find(&format!("RUN {run}")).expect("the RUN")];
        if out != df {
            assert!(
                before
                    .lines()
                    .any(|l| l.starts_with("COPY ") && l.contains(file)),
                "moved without {file}:\n{out}"
            );
        }
    }
}

/// Short options bundled with others or with their value (`pip install
/// -Ur requirements.txt`, `-qr`, `-rrequirements.txt`: optparse reads
/// each as `-r FILE`), and Maven's settings file (`-s settings.xml`: a
/// value without `/` was not read), name the file they read. Built, the
/// reordered `RUN pip install -qr requirements.txt` ran before the file
/// was there. A move, if any, copies the file first.
#[test]
fn bundled_short_options_name_the_files_they_read() {
    let dir = project(ELSEWHERE);
    for run in [
        "pip install -Ur requirements.txt",
        "pip install -qr requirements.txt",
        "pip install -rrequirements.txt",
        "pip install -qrrequirements.txt",
        "pip install -cconstraints.txt -r requirements.txt",
        "mvn -s settings.xml dependency:go-offline",
        "mvn -B -ssettings.xml dependency:go-offline",
    ] {
        let df = format!("FROM base\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        let out = rewrite_any(dir.path(), &df);
        if out == df {
            continue;
        }
        // Each file the command names is copied before it runs.
        let before = &out[..out.find(&format!("RUN {run}")).expect("the RUN")];
        for file in ["requirements.txt", "constraints.txt", "settings.xml"] {
            if run.contains(file) {
                assert!(
                    before
                        .lines()
                        .any(|l| l.starts_with("COPY ") && l.contains(file)),
                    "moved without {file}:\n{out}"
                );
            }
        }
    }
}

/// A global Composer plugin installed before the install may read the
/// shipped `.git` without git: `composer global require` writes Composer's
/// home (`composer.json`, `vendor/`), so the install stays Unsafe.
#[test]
fn a_global_composer_plugin_keeps_a_shipped_repository_relevant() {
    let dir = project(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("composer.json", "{\"require\":{}}\n"),
        ("composer.lock", "{\"packages\":[],\"packages-dev\":[]}\n"),
    ]);
    let df = "FROM php:8.2-apache\nRUN composer global require acme/hooks\nCOPY . /var/www/html/\nRUN composer install\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
}

/// A tar archive of one file, as `tar` writes it (ustar header, the data
/// padded to 512 bytes, two empty blocks); ASCII throughout.
fn tar_of(name: &str, data: &str) -> String {
    let mut h = vec![0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    let put =
        |h: &mut Vec<u8>, at: usize, s: &str| h[at..at + s.len()].copy_from_slice(s.as_bytes());
    put(&mut h, 100, "0000644\0");
    put(&mut h, 108, "0000000\0");
    put(&mut h, 116, "0000000\0");
    put(&mut h, 124, &format!("{:011o}\0", data.len()));
    put(&mut h, 136, "00000000000\0");
    put(&mut h, 148, "        ");
    h[156] = b'0';
    put(&mut h, 257, "ustar\0");
    put(&mut h, 263, "00");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    put(&mut h, 148, &format!("{sum:06o}\0 "));
    let mut out = h;
    out.extend_from_slice(data.as_bytes());
    out.resize(512 + data.len().div_ceil(512) * 512 + 1024, 0);
    String::from_utf8(out).expect("ASCII")
}

/// BuildKit's `ADD` unpacks a local tar archive whatever its name: one
/// named `vendor.bin` that holds a `package.json` writes it over the
/// copied one, which `npm ci` then reads. Read by name, the `ADD` wrote
/// only `/app/vendor.bin` and the install moved above it.
#[test]
fn add_unpacks_an_archive_by_content_not_by_name() {
    let archive = tar_of("package.json", "{\"name\":\"b\"}\n");
    let files: &[(&str, &str)] = &[
        ("package.json", "{\"name\":\"a\"}\n"),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}\n",
        ),
        ("vendor.bin", &archive),
        ("notes.txt", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let dir = project(files);
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nADD vendor.bin /app/\nRUN npm ci\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    // A text file is copied as it is: the install moves above it.
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nADD notes.txt /app/\nRUN npm ci\n";
    assert_eq!(
        rewrite_unsafe_too(dir.path(), df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nADD notes.txt /app/\n"
    );
}

/// `ADD` with a glob unpacks every matched tar archive into the
/// destination, whatever its name (measured: `ADD *.py ./` with a tar
/// `pkg.py` holding `requirements.txt` put `/d/requirements.txt`). Read as
/// a glob of plain files, it wrote only `/app/main.py` and `/app/pkg.py`,
/// and the install moved above it, before the manifest it reads was
/// replaced.
#[test]
fn add_of_a_glob_may_unpack_an_archive_over_the_manifest() {
    let archive = tar_of("requirements.txt", "flask\n");
    let files: &[(&str, &str)] = &[
        ("requirements.txt", "six==1.16.0\n"),
        ("main.py", "x\n"),
        ("pkg.py", &archive),
    ];
    let dir = project(files);
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nADD *.py ./\nRUN pip install -r requirements.txt\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
}

/// Requirement files read as pip 23 reads them (`req_file.py`); each of
/// these installs a local path that a hoist would not copy first, and was
/// labelled safe (the rewritten build failed: "Invalid requirement:
/// './pkg' ... File './pkg' does not exist", "./pkg is not a valid
/// editable requirement").
#[test]
fn requirement_lines_that_install_local_paths_as_pip_reads_them() {
    for reqs in [
        // A comment line never continues, even ending in `\`.
        "# the local package \\\n./pkg\nsix\n",
        // A path without a leading `.`, with extras and a marker.
        "libs/mylib\n",
        "libs/mylib[x] ; python_version > '3'\n",
        // Option values attached, after `=`, after a tab, abbreviated,
        // after another option.
        "-e./pkg\n",
        "--editable=./pkg\n",
        "--edit ./pkg\n",
        "-f./wheels\nsix\n",
        "--find-links\t./wheels\nsix\n",
        "--find-link=./wheels\nsix\n",
        "--pre -f ./wheels\nsix\n",
        "-i./index\nsix\n",
        // An archive in the working directory, named without a path.
        "mylib-1.0.tar.gz\n",
        "MyLib-1.0-py3-none-any.WHL\n",
        // Python's line breaks: `\r` alone, a form feed.
        "six\r./pkg\n",
        "six\x0c-e ./pkg\n",
    ] {
        let dir = project(&[
            ("requirements.txt", reqs),
            (
                "pkg/setup.py",
                "from setuptools import setup\nsetup(name='p')\n",
            ),
            (
                "libs/mylib/setup.py",
                "from setuptools import setup\nsetup(name='m')\n",
            ),
            ("wheels/six-1.16.0-py2.py3-none-any.whl", "x"),
            ("index/six/index.html", "x"),
            ("mylib-1.0.tar.gz", "x"),
            ("MyLib-1.0-py3-none-any.WHL", "x"),
            ("app.py", "x\n"),
        ]);
        let df =
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
        assert_eq!(
            rewrite_unsafe_too(dir.path(), df),
            df,
            "moved with:\n{reqs:?}"
        );
    }
}

/// Includes pip follows that a line-prefix reading missed: after another
/// option, abbreviated, behind a byte-order mark. The hoist must copy the
/// included file or stay in place (the copy it inserted lacked it).
#[test]
fn requirement_includes_are_found_as_pip_finds_them() {
    for reqs in [
        "--pre -r other.txt\n",
        "--requirem other.txt\n",
        "--cons other.txt\nsix\n",
        "\u{feff}-r other.txt\n",
    ] {
        let dir = project(&[
            ("requirements.txt", reqs),
            ("other.txt", "six==1.16.0\n"),
            ("app.py", "x\n"),
        ]);
        let df =
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
        let out = rewrite_unsafe_too(dir.path(), df);
        assert!(
            out == df
                || out
                    .lines()
                    .any(|l| l.starts_with("COPY") && l.contains("other.txt")),
            "with {reqs:?}:\n{out}"
        );
    }
}

/// `venv/bin/python -m pip` installs into that venv, which the broad copy
/// may ship files of (measured: a shipped `venv/.../six.py` replaced the
/// installed one after the hoist). Run by a path, the interpreter is not
/// the image's pip.
#[test]
fn pip_run_by_a_venv_interpreter_path_is_not_the_images_pip() {
    for run in [
        "venv/bin/python -m pip install -r requirements.txt",
        "./venv/bin/python -m pip install -r requirements.txt",
        "/app/venv/bin/python -m pip install -r requirements.txt",
        // pip of the venv, run from its `bin` directory (measured, the
        // hand-made hoist: the shipped `six.py` replaced the installed one).
        "venv/bin/pip install -r requirements.txt",
        "./venv/bin/pip3 install -r requirements.txt",
        "/app/venv/bin/pip install -r requirements.txt",
    ] {
        let dir = project(&[
            ("requirements.txt", "six==1.16.0\n"),
            ("venv/lib/python3.11/site-packages/six.py", "FAKE = 1\n"),
            ("app.py", "x\n"),
        ]);
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /app\nRUN python -m venv venv\nCOPY . .\nRUN {run}\n"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
}

/// pip takes every option from `PIP_<LONG_NAME>`; `PIP_EDITABLE=pkg` names
/// a project of the working directory without looking like a path, and
/// was hoisted as Safe (measured, pip 23.0.1: "pkg is not a valid editable
/// requirement" in the rewritten build).
#[test]
fn pip_option_variables_naming_a_project_keep_the_install_in_place() {
    for (env, run) in [
        ("ENV PIP_EDITABLE=pkg\n", "pip install -r requirements.txt"),
        ("ARG PIP_EDITABLE=pkg\n", "pip install -r requirements.txt"),
        ("", "PIP_EDITABLE=pkg pip install -r requirements.txt"),
        ("ENV PIP_REPORT=pkg\n", "pip install -r requirements.txt"),
    ] {
        let dir = project(&[
            ("requirements.txt", "six==1.16.0\n"),
            (
                "pkg/setup.py",
                "from setuptools import setup\nsetup(name='p')\n",
            ),
            ("app.py", "x\n"),
        ]);
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\n{env}COPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
}

/// `uv sync --no-install-project` and `poetry install --no-root` skip the
/// project alone: its path dependencies are installed from the project's
/// files, which the hoist did not copy (measured with uv 0.5.11 and poetry
/// 1.8.5: the rewritten builds failed). pipenv's `file` dependencies too.
#[test]
fn python_lock_installs_with_local_path_dependencies_keep_the_install_in_place() {
    let lib = (
        "libs/mylib/pyproject.toml",
        "[project]\nname = \"mylib\"\nversion = \"1.0\"\n",
    );
    let uv_pyproject = "[project]\nname = \"app\"\nversion = \"0.1\"\nrequires-python = \">=3.11\"\ndependencies = [\"mylib\"]\n\n[tool.uv.sources]\nmylib = { path = \"libs/mylib\" }\n";
    let uv_lock = "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1\"\nsource = { virtual = \".\" }\ndependencies = [\n    { name = \"mylib\" },\n]\n\n[[package]]\nname = \"mylib\"\nversion = \"1.0\"\nsource = { directory = \"libs/mylib\" }\n";
    let poetry_pyproject = "[tool.poetry]\nname = \"app\"\nversion = \"0.1\"\ndescription = \"\"\nauthors = []\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nmylib = {path = \"libs/mylib\"}\n";
    let poetry_lock = "[[package]]\nname = \"mylib\"\nversion = \"1.0\"\ndescription = \"\"\noptional = false\npython-versions = \"*\"\nfiles = []\ndevelop = false\n\n[package.source]\ntype = \"directory\"\nurl = \"libs/mylib\"\n\n[metadata]\nlock-version = \"2.0\"\npython-versions = \"^3.11\"\ncontent-hash = \"x\"\n";
    let pipfile = "[packages]\nmylib = {file = \"libs/mylib-1.0.tar.gz\"}\n";
    for (files, run) in [
        (
            vec![("pyproject.toml", uv_pyproject), ("uv.lock", uv_lock)],
            "uv sync --frozen --no-install-project",
        ),
        (
            vec![
                ("pyproject.toml", poetry_pyproject),
                ("poetry.lock", poetry_lock),
            ],
            "poetry install --no-root",
        ),
        (
            vec![("Pipfile", pipfile), ("Pipfile.lock", "{}\n")],
            "pipenv install --deploy --system",
        ),
    ] {
        let mut all = files.clone();
        all.push(lib);
        all.push(("libs/mylib-1.0.tar.gz", "x"));
        all.push(("app.py", "x\n"));
        let dir = project(&all);
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
}

/// pipenv loads the project's `.env` into its environment, and pip's
/// (measured with pipenv 2024.4.0: `PIP_TARGET=/opt/deps` there put the
/// packages in /opt/deps, and the hoist without `.env` did not).
#[test]
fn pipenv_reads_the_projects_dotenv() {
    let dir = project(&[
        ("Pipfile", "[packages]\nsix = \"==1.16.0\"\n"),
        ("Pipfile.lock", "{}\n"),
        (".env", "PIP_TARGET=/opt/deps\n"),
        ("app.py", "x\n"),
    ]);
    let df =
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pipenv install --deploy --system\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    // A .env that sets nothing is copied with the manifests.
    let dir = project(&[
        ("Pipfile", "[packages]\nsix = \"==1.16.0\"\n"),
        ("Pipfile.lock", "{}\n"),
        (".env", "# nothing\n"),
        ("app.py", "x\n"),
    ]);
    let out = rewrite_unsafe_too(dir.path(), df);
    assert!(
        out == df
            || out
                .lines()
                .any(|l| l.starts_with("COPY") && l.contains(".env")),
        "{out}"
    );
}

/// `pip download` and `pip wheel` read requirement files and path
/// arguments as `pip install` does; they were described as reading
/// nothing, so `RUN pip wheel -w /wheels -r requirements.txt` was moved
/// above the copy without the file (measured: the rewritten build failed)
/// and `pip download -d /deps .` above the project it downloads for.
#[test]
fn pip_download_and_wheel_read_what_install_reads() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        (
            "setup.py",
            "from setuptools import setup\nsetup(name='p')\n",
        ),
        ("app.py", "x\n"),
    ]);
    for run in [
        "pip wheel -w /wheels -r requirements.txt",
        "pip download -r requirements.txt -d /deps",
        "pip uninstall -y -r requirements.txt",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        let out = rewrite_unsafe_too(dir.path(), &df);
        assert!(
            out == df || out.contains("COPY requirements.txt ./\nRUN"),
            "moved without its requirements:\n{out}"
        );
    }
    for run in [
        "pip download -d /deps .",
        "pip wheel -w /wheels .",
        // Without -d/-w the archives go to the working directory, where
        // the copy may ship files of the same names.
        "pip download -r requirements.txt",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
}

/// `pip install -e git+https://…#egg=six` checks the project out into
/// `src/six` of the working directory (outside a virtualenv); a broad copy
/// that ships `src/` may hold the same directory, so the install stays
/// below it.
#[test]
fn an_editable_vcs_install_writes_the_working_directorys_src() {
    let dir = project(&[("src/six/six.py", "stale = 1\n"), ("app.py", "x\n")]);
    for run in [
        "pip install -e git+https://github.com/benjaminp/six.git#egg=six",
        "pip install --editable=git+https://github.com/benjaminp/six.git#egg=six",
        "pip install -qe git+https://github.com/benjaminp/six.git#egg=six",
    ] {
        let df = format!("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
}

/// pip opens `sub/../other.txt` through `sub`, which the hoist's copy of
/// `requirements.txt` and `other.txt` does not create (measured: the
/// rewritten build failed). `../base.txt` from `requirements/prod.txt`
/// passes through the including file's own directory and still hoists.
#[test]
fn a_requirement_include_through_a_directory_not_copied_keeps_it_in_place() {
    let dir = project(&[
        ("requirements.txt", "-r sub/../other.txt\n"),
        ("other.txt", "six==1.16.0\n"),
        ("sub/x", "x\n"),
        ("app.py", "x\n"),
    ]);
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    let dir = project(&[
        ("requirements/prod.txt", "-r ../base.txt\n"),
        ("base.txt", "six==1.16.0\n"),
        ("app.py", "x\n"),
    ]);
    let df =
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements/prod.txt\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// The same through a command-line path: `pip install -r
/// sub/../requirements.txt` (measured: the rewritten build failed).
#[test]
fn a_manifest_named_through_a_directory_not_copied_keeps_it_in_place() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("other.txt", "six\n"),
        ("sub/x", "x\n"),
        ("app.py", "x\n"),
    ]);
    for run in [
        "pip install -r sub/../requirements.txt",
        "pip install -r requirements.txt -c ./sub/../other.txt",
        "pip install -r /app/sub/../requirements.txt",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
    // Up from the working directory, which exists: still hoisted.
    let df = "FROM python:3.12-slim\nWORKDIR /app/sub\nCOPY . /app\nRUN pip install -r ../requirements.txt\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// Where `cp`, `mv` and `ln` put a file is not always their last
/// argument: `cp -t. FILE` and a one-argument `ln -sf FILE` write
/// `./FILE`, and `cp -r ~ .` or `cp -r $D .` land on a name the shell
/// computes (`root`, the last component of `$D`). Each, hoisted above the
/// copy that ships that name, let the copy overwrite what the install
/// made (measured with BuildKit on `node:20`: `index.js` a file instead
/// of npm's, or than the link; `root/.bashrc` and `docs/lib/index.js`
/// the context's).
#[test]
fn files_placed_in_the_working_directory_by_a_computed_target_stay_below() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        ("index.js", "ctx\n"),
        ("root/.bashrc", "ctx\n"),
        ("docs/lib/index.js", "ctx\n"),
        ("server.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ]);
    for run in [
        "npm install --ignore-scripts && cp -t. node_modules/ms/index.js",
        "npm install --ignore-scripts && ln -sft. node_modules/ms/index.js",
        "npm install --ignore-scripts && ln -sf node_modules/ms/index.js",
        "npm install --ignore-scripts && cp -r ~ .",
        "npm install --ignore-scripts && cp -r $D .",
    ] {
        let df = format!(
            "FROM node:20\nWORKDIR /usr/src/app\nENV D=/usr/local/lib/node_modules/npm/docs\nCOPY . .\nRUN {run}\n"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
    // The same with names the copy does not ship still hoists.
    let df = "FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nRUN npm install --ignore-scripts && ln -sf node_modules/ms/readme.md\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// Backups are new files beside their target: `cp -b`, `mv -b`, `ln -sb`,
/// `install -b` make `DEST~`, `sed -i.bak` makes `FILE.bak`. Hoisted
/// above a copy that ships that name, the copy's file won (measured with
/// BuildKit on `node:20`: `x.md~` the context's instead of npm's readme
/// or the link; `package-lock.json.bak` the context's instead of npm's
/// lock).
#[test]
fn backups_beside_a_target_keep_the_install_below_a_copy_shipping_them() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        ("x.md~", "ctx\n"),
        ("package-lock.json.bak", "ctx\n"),
        ("server.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ]);
    for run in [
        "npm install --ignore-scripts && cp -b node_modules/ms/readme.md x.md && cp -b node_modules/ms/license.md x.md",
        "npm install --ignore-scripts && mv -b node_modules/ms/readme.md x.md && mv -b node_modules/ms/license.md x.md",
        "npm install --ignore-scripts && ln -sb node_modules/ms/readme.md x.md && ln -sfb node_modules/ms/license.md x.md",
        "npm install --ignore-scripts && install -b node_modules/ms/readme.md x.md && install -b node_modules/ms/license.md x.md",
        "npm install --ignore-scripts && sed -i.bak s/a/b/ package-lock.json",
    ] {
        let df = format!("FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
    // In place, with nothing beside: still hoisted.
    let df = "FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nRUN npm install --ignore-scripts && sed -i s/a/b/ package-lock.json\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// A copy that ships an empty directory or a symbolic link changes what a
/// path inside it means, though no shipped file is there: hoisted above
/// `COPY . .` shipping an empty `uploads/`, `cp FILE uploads` made a file
/// the copy then could not copy a directory onto; above a shipped link
/// `out -> /tmp`, `cp FILE out/x` found no `out` (measured: both rewritten
/// builds failed with BuildKit).
#[test]
fn a_copy_shipping_an_empty_directory_or_a_link_keeps_what_writes_in_it_below() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        ("server.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ]);
    std::fs::create_dir(dir.path().join("uploads")).expect("mkdir");
    std::os::unix::fs::symlink("/tmp", dir.path().join("out")).expect("symlink");
    for run in [
        "npm install --ignore-scripts && cp node_modules/ms/readme.md uploads",
        "npm install --ignore-scripts && cp node_modules/ms/readme.md out/readme.md",
    ] {
        let df = format!("FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nRUN {run}\n");
        // The `cp` stays below the copy: the whole `RUN` in place, or the
        // install split off and hoisted alone (its rest, the `cp`, runs
        // after the copy as before).
        let out = rewrite_unsafe_too(dir.path(), &df);
        let (install, cp) = run.split_once(" && ").expect("two commands");
        let split = format!(
            "FROM node:20\nWORKDIR /usr/src/app\nCOPY package.json ./\nRUN {install}\nCOPY . .\nRUN {cp}\n"
        );
        assert!(out == df || out == split, "moved:\n{df}\ngave:\n{out}");
    }
    // Elsewhere: still hoisted.
    let df = "FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nRUN npm install --ignore-scripts && cp node_modules/ms/readme.md docs.md\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// The inserted COPY creates the manifests' directories below its
/// destination with mode 0755 (BuildKit's `MkdirAll`), where the broad
/// copy gives each the mode it has in the context. An install that runs
/// as another user than root and writes there (`npm ci` in a `web`
/// directory that is 0777 in the context) could do so before the move and
/// not after it (measured: the rewritten build failed with EACCES). A
/// setgid directory passes its group and the bit to what is made in it,
/// root or not (measured: `node_modules` lost the bit). A 0755
/// directory, or another mode under root, still hoists.
#[test]
#[cfg(unix)]
fn manifest_directories_keep_their_context_mode_for_the_install() {
    use std::os::unix::fs::PermissionsExt;
    let files: &[(&str, &str)] = &[
        (
            "web/package.json",
            "{\"name\":\"w\",\"version\":\"1.0.0\",\"private\":true,\"dependencies\":{}}",
        ),
        ("web/package-lock.json", "{\"lockfileVersion\":3}"),
        ("web/index.js", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let as_node = "FROM node:20-alpine\nWORKDIR /app\nRUN chown node /app\nUSER node\nCOPY . .\nRUN cd web && npm ci\n";
    let as_root = "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    let with_mode = |mode: u32| {
        let dir = project(files);
        std::fs::set_permissions(
            dir.path().join("web"),
            std::fs::Permissions::from_mode(mode),
        )
        .expect("chmod");
        dir
    };
    // The 0777 directory, for an install run as `node`: not moved.
    let dir = with_mode(0o777);
    assert_eq!(rewrite_unsafe_too(dir.path(), as_node), as_node);
    // As root the mode does not decide what it may write: moved.
    assert_ne!(rewrite_unsafe_too(dir.path(), as_root), as_root);
    // A setgid directory: not moved, root or not.
    let dir = with_mode(0o2755);
    assert_eq!(rewrite_unsafe_too(dir.path(), as_root), as_root);
    // The mode the inserted COPY gives it: moved (when no earlier
    // instruction may have made the directory: `chown node /app` is taken
    // as writing below `/app`).
    let dir = with_mode(0o755);
    let df = "FROM node:20-alpine\nUSER node\nWORKDIR /home/node/app\nCOPY --chown=node . .\nRUN cd web && npm ci\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    let dir = with_mode(0o777);
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    // A shipped directory the install writes in but reads nothing from is
    // not there before the copy: `lib` made in it lost the setgid bit
    // (measured: the images differed in the mode of `/app/web/lib`).
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("web/index.html", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt --target web/lib\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    std::fs::set_permissions(
        dir.path().join("web"),
        std::fs::Permissions::from_mode(0o2755),
    )
    .expect("chmod");
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
}

/// A shipped directory an earlier instruction made keeps, under the
/// inserted COPY, the owner and mode that instruction gave it, where the
/// broad copy resets them to the context's: `RUN mkdir -p /app/web &&
/// chmod g+s /app/web` before `COPY . .` gave the moved `npm ci`'s
/// `node_modules` the setgid bit (measured with BuildKit: the images
/// differed in its mode; the same through a stage it is built on).
/// Without the earlier `RUN` it still hoists.
#[test]
fn a_directory_made_before_the_broad_copy_keeps_the_install_in_place() {
    let dir = project(&[
        (
            "web/package.json",
            "{\"name\":\"w\",\"version\":\"1.0.0\",\"private\":true,\"dependencies\":{}}",
        ),
        ("web/package-lock.json", "{\"lockfileVersion\":3}"),
        ("web/index.js", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = "FROM node:20-alpine\nRUN mkdir -p /app/web && chmod g+s /app/web\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    // The same in a stage the install's stage is built on.
    let df = "FROM node:20-alpine AS base\nRUN mkdir -p /app/web && chmod g+s /app/web\nFROM base\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    let df = "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    let df = "FROM node:20-alpine AS base\nRUN mkdir -p /srv\nFROM base\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    // `mkdir -p /app` makes /app and nothing below it (fat_free_crm's
    // `RUN mkdir -p $HOME`): /app/web is still the broad copy's to make,
    // in either stage. A `chmod` of /app/web is not.
    let df =
        "FROM node:20-alpine\nRUN mkdir -p /app\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    let df = "FROM node:20-alpine AS base\nRUN mkdir -p /app\nFROM base\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    let df = "FROM node:20-alpine\nRUN mkdir -p /app && chmod 2775 /app/web\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    // An earlier COPY of the manifests with the broad copy's flags makes
    // the directory as the inserted one would: still moved.
    let df = "FROM node:20-alpine\nWORKDIR /app\nCOPY web/package.json web/package-lock.json web/\nCOPY . .\nRUN cd web && npm ci\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    // With another owner it does not.
    let df = "FROM node:20-alpine\nWORKDIR /app\nCOPY --chown=node web/package.json web/package-lock.json web/\nCOPY . .\nRUN cd web && npm ci\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
}

/// A `RUN` that moves with the install may make a user's home: `useradd
/// -m -d /app app` makes `/app` (owned by the user, with the skeleton
/// files) only when it is missing. Passed by the inserted `COPY … /app/`,
/// it made `/app` where the original found the broad copy's (measured with
/// BuildKit: `/app` owned by 1001 and `.bashrc` only in the rewrite). The
/// COPY stays first, where the broad copy stood.
#[test]
fn a_home_made_by_a_user_tool_keeps_the_manifest_copy_before_it() {
    let dir = project(&[
        ("package.json", "{\"name\":\"x\",\"version\":\"1.0.0\"}"),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("index.js", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN useradd -m -d /app app",
        "RUN useradd --create-home --home-dir /app app",
        "RUN adduser --disabled-password --home /app app",
        "RUN usermod -m -d /app node",
        "RUN useradd -m -b / app",
    ] {
        let df = format!(
            "FROM node:20-slim\nCOPY . /app/\n{run}\nRUN cd /app && npm ci\nCMD [\"node\",\"index.js\"]\n"
        );
        let out = rewrite_unsafe_too(dir.path(), &df);
        let (Some(copy), Some(user)) = (out.find("COPY package.json"), out.find(run)) else {
            continue;
        };
        assert!(copy < user, "{run}:\n{out}");
    }
}

/// A path that climbs out of a directory with `..` needs that directory:
/// `touch /app/../etc/marker` fails when `/app` is missing (the kernel
/// resolves `..` after `app`). Passed by the inserted `COPY … /app/`, the
/// rewritten build failed under BuildKit; moved above the broad copy that
/// ships `web/`, `> /app/web/../.npmrc` would fail the same way. Such a
/// `RUN` reads the directory before the `..`.
#[test]
fn a_path_through_a_copied_directory_with_dot_dot_reads_that_directory() {
    let dir = project(&[
        ("package.json", "{\"name\":\"x\",\"version\":\"1.0.0\"}"),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("web/index.js", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN touch /app/../etc/marker",
        "RUN echo hi > /app/../etc/marker",
        "RUN cd /tmp && cp /etc/hostname /app/../etc/h2",
    ] {
        let df = format!("FROM node:20-slim\nCOPY . /app/\n{run}\nRUN cd /app && npm ci\n");
        let out = rewrite_unsafe_too(dir.path(), &df);
        let (Some(copy), Some(user)) = (out.find("COPY package.json"), out.find(run)) else {
            continue;
        };
        assert!(copy < user, "{run}:\n{out}");
    }
    for run in [
        "RUN echo fund=false > /app/web/../.npmrc",
        "RUN echo fund=false > web/../.npmrc",
        "RUN echo fund=false > /app/web/../../root/.npmrc",
    ] {
        let df = format!("FROM node:20-slim\nWORKDIR /app\nCOPY . .\n{run}\nRUN npm ci\n");
        let out = rewrite_unsafe_too(dir.path(), &df);
        let (Some(copy), Some(echo)) = (out.find("COPY . ."), out.find(run)) else {
            panic!("{out}");
        };
        assert!(copy < echo, "{run}:\n{out}");
    }
}

/// The destination of the broad copy (or a directory above it) with a
/// setgid bit passes it to the directories the inserted COPY makes below
/// it, where the broad copy gives them the context's mode: `RUN mkdir -p
/// /app && chmod 2775 /app` before `WORKDIR /app` gave the moved `npm
/// ci`'s `node_modules` in `web/` the setgid bit (measured with BuildKit:
/// mode 040755 -> 042755). A plain `mkdir -p /app` still hoists.
#[test]
fn a_mode_set_on_the_copy_destination_keeps_the_install_in_place() {
    let dir = project(&[
        (
            "web/package.json",
            "{\"name\":\"w\",\"version\":\"1.0.0\",\"private\":true,\"dependencies\":{}}",
        ),
        ("web/package-lock.json", "{\"lockfileVersion\":3}"),
        ("web/index.js", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    for pre in [
        "RUN mkdir -p /app && chmod 2775 /app\nWORKDIR /app",
        "WORKDIR /app\nRUN chmod g+s /app",
        "RUN mkdir -p -m 2775 /app\nWORKDIR /app",
        "RUN install -d -m 2775 /srv\nWORKDIR /srv/app",
    ] {
        let df = format!("FROM node:20-alpine\n{pre}\nCOPY . .\nRUN cd web && npm ci\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{pre}");
    }
    let df = "FROM node:20-alpine AS base\nRUN install -d -m 2775 /app\nFROM base\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    let df =
        "FROM node:20-alpine\nRUN mkdir -p /app\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

#[test]
fn package_maintainer_scripts_see_source_date_epoch() {
    // Seen: `ENV SOURCE_DATE_EPOCH=0` before `apt-get install python3-six`
    // makes py3compile write hash-based .pyc files (py_compile's default
    // when the variable is set); the install moved above the ENV (held
    // below the copy by `DEST`) built 547 different .pyc files.
    let p = project(&[("main.py", "print(1)\n")]);
    let df = "FROM debian:bookworm-slim\nENV DEST=/app\nCOPY . $DEST\nENV SOURCE_DATE_EPOCH=0 DEST=/srv\nRUN apt-get update && apt-get install -y --no-install-recommends python3-six && rm -rf /var/lib/apt/lists/*\n";
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
    for install in [
        "apt-get install -y python3-six",
        "apk add py3-six",
        "dnf install -y python3-six",
    ] {
        let df = format!("FROM b\nENV SOURCE_DATE_EPOCH=0\nRUN {install}\n");
        assert!(ordered(p.path(), &df, 0, 1), "{install}");
    }
}

#[test]
fn apt_config_names_a_file_apt_reads() {
    // Seen: `APT_CONFIG=/app/apt.conf apt-get install -y curl` with the
    // broad copy shipping apt.conf (`APT::Install-Recommends "false";`):
    // moved above the copy, apt found no file and installed curl's
    // recommends (ca-certificates, openssl, publicsuffix).
    let p = project(&[
        ("main.py", "print(1)\n"),
        ("apt.conf", "APT::Install-Recommends \"false\";\n"),
    ]);
    for df in [
        "FROM debian:bookworm-slim\nCOPY . /app\nRUN apt-get update && APT_CONFIG=/app/apt.conf apt-get install -y curl\n",
        "FROM debian:bookworm-slim\nENV APT_CONFIG=/app/apt.conf\nCOPY . /app\nRUN apt-get update && apt-get install -y curl\n",
        "FROM debian:bookworm-slim\nWORKDIR /app\nCOPY . .\nRUN APT_CONFIG=apt.conf apt-get update\n",
    ] {
        assert_eq!(rewrite_any(p.path(), df), df, "moved:\n{df}");
    }
    // Without the variable the install still moves.
    let df =
        "FROM debian:bookworm-slim\nCOPY . /app\nRUN apt-get update && apt-get install -y curl\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

#[test]
fn gem_install_reads_the_gems_of_its_directory() {
    // Seen: `gem install hello-local` after `COPY . .` shipping
    // hello-local-1.0.0.gem installs the local gem (RubyGems looks at the
    // `*.gem` files of the working directory first, gem-install(1));
    // moved above the copy, the build failed (no such gem remotely).
    let p = project(&[("main.rb", "puts 1\n"), ("hello-local-1.0.0.gem", "gem\n")]);
    let df = "FROM ruby:3.3\nWORKDIR /app\nCOPY . .\nRUN gem install hello-local\n";
    let out = rewrite_any(p.path(), df);
    let copy = out.find("COPY . .").expect("the broad copy");
    let gems_before = out
        .find("hello-local-1.0.0.gem")
        .or_else(|| out.find("*.gem"))
        .is_some_and(|i| i < out.find("RUN gem install").unwrap_or(0));
    assert!(
        out.find("RUN gem install").is_some_and(|i| i > copy) || gems_before,
        "the gem is not there for the install:\n{out}"
    );
    // The dependency itself.
    assert!(ordered(p.path(), df, 1, 2));
    // With no gem in the context the install still moves.
    let p = project(&[("main.rb", "puts 1\n")]);
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

#[test]
fn package_users_homes_are_written_by_the_install() {
    // Seen: `COPY . /srv/ftp` then `apt-get install -y vsftpd`: the
    // package makes its `ftp` user with the home /srv/ftp and gives the
    // directory the group ftp; moved above the copy, the directory the copy
    // made was root's (`/srv/ftp: gid 0->101`). Maintainer scripts make
    // their users' homes under /srv (vsftpd, proftpd, tftpd-hpa).
    let p = project(&[("index.txt", "hello\n")]);
    for (dest, install) in [
        ("/srv/ftp", "apt-get update && apt-get install -y vsftpd"),
        ("/srv/tftp", "apk add tftp-hpa"),
        ("/srv/app", "dnf install -y app-server"),
    ] {
        let df = format!("FROM debian:bookworm-slim\nCOPY . {dest}\nRUN {install}\n");
        // Not Safe (Unsafe, naming the shipped files, may still be offered).
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "moved:\n{df}");
        assert!(ordered(p.path(), &df, 0, 1), "{df}");
    }
}

#[test]
fn variables_every_program_reads_as_paths_keep_the_install_below_what_they_name() {
    // `ENV LD_AUDIT=/app/audit.so` makes the dynamic loader load a library
    // the broad copy ships into every program the install starts (and
    // ignore it, with a warning, when it is not there yet); `TMPDIR` names
    // where tools leave files, and they fall back to `/tmp` when it is
    // missing; `BASH_ENV` is a file bash runs first. Each was taken as a
    // plain variable, so the install moved above the copy.
    for (var, value) in [
        ("LD_AUDIT", "/app/audit.so"),
        ("TMPDIR", "/app/tmp"),
        ("BASH_ENV", "/app/env.sh"),
        ("SSL_CERT_FILE", "/app/ca.pem"),
        ("RUBYLIB", "/app/lib"),
    ] {
        let dir = node_app(("audit.so", "x\n"));
        for f in ["tmp/.keep", "env.sh", "ca.pem", "lib/x.rb"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, "x\n").expect("write");
        }
        let df = format!("FROM node:20\nWORKDIR /app\nENV {var}={value}\nCOPY . .\nRUN npm ci\n");
        assert_eq!(rewrite_all(dir.path(), &df), df, "{var}");
        // A value outside what the copy ships still lets it move.
        let df = format!("FROM node:20\nWORKDIR /app\nENV {var}=/srv/x\nCOPY . .\nRUN npm ci\n");
        assert!(rewrite_all(dir.path(), &df).ends_with(HOISTED_NPM), "{var}");
    }
}

/// Bundler installs the gems it finds in the app's cache (`vendor/cache`)
/// from there, with or without `--local`: measured with bundler 2.3.15,
/// `COPY . .` / `ENV BUNDLE_FROZEN=true` / `RUN bundle install` built
/// offline from the cached gem, and the hoisted install, which had only
/// `Gemfile` and `Gemfile.lock`, went to rubygems.org (a different gem, or
/// none: the build failed).
#[test]
fn bundler_installs_from_the_shipped_gem_cache() {
    let lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n    hello (1.0.0)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  hello\n\nBUNDLED WITH\n   2.3.15\n";
    let gemfile = "source \"https://rubygems.org\"\ngem \"hello\"\n";
    let df = "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nENV BUNDLE_FROZEN=true\nRUN bundle install\n";
    let p = project(&[
        ("Gemfile", gemfile),
        ("Gemfile.lock", lock),
        ("vendor/cache/hello-1.0.0.gem", "gem\n"),
        ("app.rb", "puts 1\n"),
    ]);
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
    // Without a cache it still moves.
    let p = project(&[
        ("Gemfile", gemfile),
        ("Gemfile.lock", lock),
        ("app.rb", "puts 1\n"),
    ]);
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// A Gemfile is Ruby: a `path` block, a `git:` source in the context, or
/// code that reads files (`instance_eval(IO.read(…))`, `load`, `eval`, a
/// variable computed before) reads more than the Gemfile. Measured: a
/// hoisted `bundle install` with `path "gems" do gem "hello" end` failed
/// ("The path `/app/gems` does not exist"). A plain Gemfile still moves.
#[test]
fn gemfile_code_that_reads_files_keeps_the_install_in_place() {
    let lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n\nPLATFORMS\n  ruby\n\nBUNDLED WITH\n   2.3.15\n";
    let df = "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nENV BUNDLE_FROZEN=true\nRUN bundle install\n";
    for body in [
        "path \"gems\" do\n  gem \"hello\"\nend\n",
        "path(\"gems\") { gem \"hello\" }\n",
        "gem \"hello\", git: \"./repos/hello.git\"\n",
        "gem \"hello\", :git => \"repos/hello\", :branch => \"main\"\n",
        "git \"/app/repos/hello.git\" do\n  gem \"hello\"\nend\n",
        "instance_eval(IO.read(\"Gemfile.local\"))\n",
        "load \"Gemfile.extra\"\n",
        "eval(Bundler.read_file(\"Gemfile.local\"))\n",
        "version = Pathname(\"VERSION\").read\ngem \"hello\", version\n",
        "gem \"hello\", `cat VERSION`\n",
        "gem \"hello\", \"#{open('VERSION').read}\"\n",
        "gem \"hello\", <<~V.strip\n1.0\nV\n",
    ] {
        let gemfile = format!("source \"https://rubygems.org\"\n{body}");
        let p = project(&[
            ("Gemfile", &gemfile),
            ("Gemfile.lock", lock),
            ("app.rb", "puts 1\n"),
        ]);
        assert_eq!(
            rewrite_unsafe_too(p.path(), df),
            df,
            "moved with:\n{gemfile}"
        );
    }
    let rails = "source \"https://rubygems.org\"\ngit_source(:github) { |repo| \"https://github.com/#{repo}.git\" }\n\nruby \"3.1.2\"\n\ngem \"rails\", \"~> 7.0.4\" # the framework\ngem \"pg\", \"~> 1.1\"\ngem \"tzinfo-data\", platforms: %i[ mingw mswin x64_mingw jruby ]\ngem \"bootsnap\", require: false\ngem \"kaminari\", github: \"kaminari/kaminari\", branch: \"master\"\ngem \"x\", git: \"git@github.com:org/x.git\"\ngem \"y\", ENV.fetch(\"Y_VERSION\", \"1.0\")\n\ngroup :development, :test do\n  gem \"debug\", platforms: %i[ mri mingw x64_mingw ]\nend\n";
    let p = project(&[
        ("Gemfile", rails),
        ("Gemfile.lock", lock),
        ("app.rb", "puts 1\n"),
    ]);
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// go.mod's `replace M => DIR` reads DIR however it is spelled (a tab or no
/// blank around `=>`, a quoted path), and the go command finds a `go.work`
/// in any parent of the directory it runs in. Measured with Go 1.22.12:
/// `replace example.com/x => "./lib/x"` made the hoisted `go mod download`
/// fail ("reading lib/x/go.mod: no such file or directory").
#[test]
fn go_local_replacements_and_parent_workspaces_keep_the_download_in_place() {
    let df = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go mod download\n";
    for replace in [
        "replace example.com/x => \"./lib/x\"\n",
        "replace example.com/x =>\t./lib/x\n",
        "replace example.com/x=>./lib/x\n",
        "replace (\n\texample.com/x v0.0.0 => `../x`\n)\n",
        "replace example.com/x => .\n",
    ] {
        let gomod = format!(
            "module example.com/app\n\ngo 1.22\n\nrequire example.com/x v0.0.0\n\n{replace}"
        );
        let p = project(&[
            ("go.mod", &gomod),
            ("go.sum", ""),
            ("lib/x/go.mod", "module example.com/x\n\ngo 1.22\n"),
            ("main.go", "package main\nfunc main() {}\n"),
        ]);
        assert_eq!(rewrite_unsafe_too(p.path(), df), df, "moved with:\n{gomod}");
    }
    // A replacement by another module is fetched, not read from the context.
    let p = project(&[
        (
            "go.mod",
            "module example.com/app\n\ngo 1.22\n\nreplace example.com/x => example.com/y v1.0.0\n",
        ),
        ("go.sum", ""),
        ("main.go", "package main\nfunc main() {}\n"),
    ]);
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
    // The workspace is in the parent of the directory the download runs in.
    let p = project(&[
        ("go.work", "go 1.22\n\nuse ./svc\nuse ./lib/x\n"),
        ("svc/go.mod", "module example.com/svc\n\ngo 1.22\n"),
        ("svc/go.sum", ""),
        ("lib/x/go.mod", "module example.com/x\n\ngo 1.22\n"),
    ]);
    let df = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN cd svc && go mod download\n";
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
}

/// `go env -w K=V` writes the go command's settings file ($GOENV,
/// ~/.config/go/env) that every later go command reads, and a value may
/// name a file (`GOPROXY=file:///proxy`, `GOMODCACHE`, `GOFLAGS=-modfile=…`).
/// Measured with Go 1.22.12 (golang:1.22): the copy of /proxy moved below
/// `go mod download`, which failed ("reading file:///proxy/…: no such file
/// or directory"); and the download hoisted above the copy would run
/// before the setting.
#[test]
fn go_env_w_writes_settings_every_later_go_command_reads() {
    let files = [
        (
            "go.mod",
            "module example.com/app\n\ngo 1.22\n\nrequire example.com/dep v1.0.0\n",
        ),
        (
            "go.sum",
            "example.com/dep v1.0.0 h1:9iA7xglGQRKwkXeQlmECFKJOBfsbb+qG28Oz5NOE9F0=\nexample.com/dep v1.0.0/go.mod h1:GVuYl5mlKU1m3l6eht3FkiiPrlspGltN04dywxH42Fc=\n",
        ),
        ("main.go", "package main\nfunc main() {}\n"),
        ("proxy/example.com/dep/@v/list", "v1.0.0\n"),
        (".dockerignore", "Dockerfile\n"),
    ];
    let p = project(&files);
    for set in [
        "go env -w GOPROXY=file:///proxy",
        "go env -w GOMODCACHE=/app/mc",
        "go env -u GOPROXY",
        "go env --w GOFLAGS=-modfile=alt.mod",
    ] {
        let df = format!(
            "FROM golang:1.22\nENV GOSUMDB=off\nCOPY proxy /proxy\nWORKDIR /app\nCOPY . .\nRUN {set}\nRUN go mod download\nRUN go build -o /usr/local/bin/app .\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "moved with `{set}`");
    }
    // `go env` alone only prints: the hoist still happens.
    let df = "FROM golang:1.22\nENV GOSUMDB=off GOPROXY=file:///proxy\nCOPY proxy /proxy\nWORKDIR /app\nCOPY . .\nRUN go mod download\nRUN go env GOPROXY\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// Composer's `repositories` may be an object of named entries, and a
/// repository or a locked package may live in the file system (`path`,
/// `artifact`, a `vcs` or `package` URL that is a path or `file://`).
/// Measured with Composer 2.5.5: an object-form path repository and an
/// artifact repository each made the hoisted `composer install` fail
/// ("The `url` supplied for the path (./packages/foo) repository does not
/// exist", "RecursiveDirectoryIterator::__construct(./artifacts)").
#[test]
fn composer_repositories_in_the_file_system_keep_the_install_in_place() {
    let df = "FROM php:8.2-cli\nWORKDIR /app\nCOPY . .\nRUN composer install --no-interaction\n";
    let plain_lock = "{\"packages\":[{\"name\":\"a/b\",\"version\":\"1.0.0\",\"dist\":{\"type\":\"zip\",\"url\":\"https://api.github.com/repos/a/b/zipball/1\"},\"source\":{\"type\":\"git\",\"url\":\"git@github.com:a/b.git\"}}],\"packages-dev\":[]}";
    for (json, lock) in [
        (
            "{\"repositories\":{\"foo\":{\"type\":\"path\",\"url\":\"./packages/foo\"},\"packagist.org\":false},\"require\":{\"acme/foo\":\"1.0.0\"}}",
            plain_lock,
        ),
        (
            "{\"repositories\":[{\"type\":\"artifact\",\"url\":\"./artifacts\"}],\"require\":{\"acme/foo\":\"1.0.0\"}}",
            plain_lock,
        ),
        (
            "{\"repositories\":[{\"type\":\"vcs\",\"url\":\"repos/foo.git\"}],\"require\":{\"acme/foo\":\"1.0.0\"}}",
            plain_lock,
        ),
        (
            "{\"repositories\":[{\"type\":\"package\",\"package\":{\"name\":\"acme/foo\",\"version\":\"1.0.0\",\"dist\":{\"type\":\"zip\",\"url\":\"file:///app/foo.zip\"}}}],\"require\":{\"acme/foo\":\"1.0.0\"}}",
            plain_lock,
        ),
        (
            "{\"require\":{\"acme/foo\":\"1.0.0\"}}",
            "{\"packages\":[{\"name\":\"acme/foo\",\"version\":\"1.0.0\",\"dist\":{\"type\":\"path\",\"url\":\"./packages/foo\"}}]}",
        ),
    ] {
        let p = project(&[
            ("composer.json", json),
            ("composer.lock", lock),
            ("packages/foo/composer.json", "{\"name\":\"acme/foo\"}"),
            ("artifacts/foo-1.0.0.zip", "zip"),
            ("index.php", "<?php echo 1;\n"),
        ]);
        assert_eq!(
            rewrite_unsafe_too(p.path(), df),
            df,
            "moved with:\n{json}\n{lock}"
        );
    }
    // Packages fetched from other machines still move.
    let p = project(&[
        (
            "composer.json",
            "{\"repositories\":[{\"type\":\"vcs\",\"url\":\"https://github.com/a/b\"}],\"require\":{\"a/b\":\"1.0.0\"}}",
        ),
        ("composer.lock", plain_lock),
        ("index.php", "<?php echo 1;\n"),
    ]);
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// `go mod download` adds to go.sum the go.mod sums it lacks. Measured
/// with Go 1.22.12 and a file-system GOPROXY: with a shipped empty go.sum
/// the original image's `/src/go.sum` held `example.com/dep v1.0.0/go.mod
/// h1:…`, the hoisted one was empty (the broad copy put it back). A go.sum
/// with both sums of every requirement is left as it is (identical
/// images), so that install still moves.
#[test]
fn go_mod_download_completes_a_shipped_go_sum() {
    let df = "FROM golang:1.22\nENV GOPROXY=file:///proxy GOSUMDB=off\nWORKDIR /src\nCOPY . .\nRUN go mod download\n";
    let gomod = "module example.com/app\n\ngo 1.22\n\nrequire (\n\texample.com/dep v1.0.0 // indirect\n\texample.com/old v0.1.0\n)\n\nreplace example.com/old => example.com/new v0.2.0\n";
    let full = "example.com/dep v1.0.0 h1:35Rq=\nexample.com/dep v1.0.0/go.mod h1:+EcA=\nexample.com/new v0.2.0 h1:aa=\nexample.com/new v0.2.0/go.mod h1:bb=\n";
    for sum in [
        "",
        "example.com/dep v1.0.0 h1:35Rq=\n",
        "example.com/dep v1.0.0 h1:35Rq=\nexample.com/dep v1.0.0/go.mod h1:+EcA=\nexample.com/old v0.1.0 h1:aa=\nexample.com/old v0.1.0/go.mod h1:bb=\n",
    ] {
        let p = project(&[
            ("go.mod", gomod),
            ("go.sum", sum),
            ("main.go", "package main\nfunc main() {}\n"),
        ]);
        assert_eq!(rewrite_unsafe_too(p.path(), df), df, "moved with:\n{sum}");
    }
    let p = project(&[
        ("go.mod", gomod),
        ("go.sum", full),
        ("main.go", "package main\nfunc main() {}\n"),
    ]);
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// Composer writes its autoloader into `config.vendor-dir` (and links into
/// `bin-dir`), not `vendor/`, when composer.json says so. Measured with
/// Composer 2.5.5: with `"vendor-dir": "lib"` and a shipped
/// `lib/autoload.php`, the hoisted install's autoloader was overwritten by
/// the shipped one (`/app/lib/autoload.php: size 771->15`).
#[test]
fn composer_vendor_dir_the_copy_ships_keeps_the_install_in_place() {
    let df = "FROM php:8.2-cli\nWORKDIR /app\nCOPY . .\nRUN composer install --no-interaction\n";
    for config in [
        "{\"vendor-dir\":\"lib\"}",
        "{\"bin-dir\":\"lib\"}",
        "{\"bin-dir\":\"{$vendor-dir}/../lib\"}",
        "{\"vendor-dir\":\"/opt/vendor\"}",
        "{\"vendor-dir\":7}",
    ] {
        let json = format!("{{\"name\":\"acme/app\",\"config\":{config},\"require\":{{}}}}");
        let p = project(&[
            ("composer.json", &json),
            ("lib/autoload.php", "<?php // stale\n"),
            ("index.php", "<?php echo 1;\n"),
        ]);
        assert_eq!(rewrite_unsafe_too(p.path(), df), df, "moved with:\n{json}");
    }
    // Nothing shipped there: it still moves.
    let p = project(&[
        (
            "composer.json",
            "{\"name\":\"acme/app\",\"config\":{\"vendor-dir\":\"lib\"},\"require\":{}}",
        ),
        ("index.php", "<?php echo 1;\n"),
    ]);
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

#[test]
fn an_arg_after_an_env_of_the_same_name_is_not_known() {
    // Measured with Docker 20.10: BuildKit gives `$APP` the ARG's value
    // (`d.state.AddEnv` in dispatchArg), in expansions and in the RUN's
    // environment, the classic builder the ENV's. The model kept the ENV's
    // (`/srv`), so `npm ci` read /srv/package.json, nothing the copy into
    // /app ships, and moved above it: the build failed in /app.
    let p = project(NPM);
    let df =
        "FROM node:20-slim\nENV APP=/srv\nARG APP=/app\nWORKDIR $APP\nCOPY . /app/\nRUN npm ci\n";
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
    assert!(ordered(p.path(), df, 3, 4));
}

#[test]
fn onbuild_triggers_of_a_stage_run_in_the_stages_built_on_it() {
    // BuildKit runs an earlier stage's ONBUILD triggers at the start of a
    // stage `FROM` it (measured with Docker 20.10): here `WORKDIR /srv`,
    // so `npm ci` reads /srv/package.json, which the copy ships. The model
    // started the stage in /app and moved the install above the copy: the
    // build failed.
    let p = project(NPM);
    let df = "FROM node:20-slim AS base\nWORKDIR /app\nONBUILD WORKDIR /srv\nFROM base\nCOPY . /srv/\nRUN npm ci\n";
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
    assert!(ordered(p.path(), df, 0, 1));
    // A trigger may set the mode of the copy's destination before the
    // stage's own instructions: `chmod 2775 /app` gave the moved install's
    // `node_modules` the setgid bit (measured: mode 0o40755->0o42755), as
    // the same RUN in the stage does (see
    // `a_mode_set_on_the_copy_destination_keeps_the_install_in_place`).
    let p = project(&[
        ("web/package.json", NPM[0].1),
        ("web/package-lock.json", NPM[1].1),
        ("index.js", "x\n"),
    ]);
    let df = "FROM node:20-slim AS base\nRUN mkdir -p /app\nONBUILD RUN chmod 2775 /app\nFROM base\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
    // The control: without the trigger it moves.
    let df = "FROM node:20-slim AS base\nRUN mkdir -p /app\nFROM base\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

#[test]
fn each_value_of_one_env_or_arg_expands_with_the_variables_before_it() {
    // `ENV D=/app W=$D` gives W the D from before the instruction (the
    // Dockerfile reference; measured with BuildKit: W=/srv). The model
    // expanded W with the new D (/app), so `npm ci` read /app/package.json,
    // nothing the copy into /srv ships, and moved above it: the build
    // failed. For `ARG` the BuildKit releases disagree (Docker 20.10's
    // gives the value from before, today's the new one): not known.
    let p = project(NPM);
    for set in ["ENV D=/srv\nENV D=/app W=$D", "ARG D=/srv\nARG D=/app W=$D"] {
        let df = format!("FROM node:20-slim\n{set}\nWORKDIR $W\nCOPY . /srv/\nRUN npm ci\n");
        // In place, or hoisted with its manifests copied to /srv (ENV:
        // measured identical); never moved above the copy without them.
        let out = rewrite_unsafe_too(p.path(), &df);
        assert!(
            out == df || out.contains("COPY package.json package-lock.json /srv/\nRUN npm ci\n"),
            "{out}"
        );
        assert!(ordered(p.path(), &df, 3, 4), "{set}");
    }
}

#[test]
fn a_stages_args_reach_the_stages_built_on_it() {
    // BuildKit carries an earlier stage's ARGs into a stage built FROM it
    // (measured with Docker 20.10: `$D` and the RUN's environment hold the
    // parent's value; the classic builder drops them). The model dropped
    // them, so `npm ci` was taken as reading no user config and hoisted
    // above the copy that ships /app/ci.npmrc (`omit=dev`): the rewritten
    // image got the dev dependencies (compare.sh: node_modules/ms only in
    // B).
    let p = project(&[
        ("package.json", NPM[0].1),
        ("package-lock.json", NPM[1].1),
        ("ci.npmrc", "omit=dev\n"),
    ]);
    let df = "FROM node:20-slim AS base\nARG NPM_CONFIG_USERCONFIG=/app/ci.npmrc\nFROM base\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
    // An ENV carries over with its value: the control moves.
    let df = "FROM node:20-slim AS base\nENV NODE_VERSION_PIN=20\nFROM base\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// Bundler reads files through Gemfile forms the word check let pass: a
/// string key (`"path" => "gems/hello"`, taken as `path:` by
/// `Dsl#normalize_hash`), a `git_source` whose URL is a directory (what
/// `gem "x", NAME: "y"` clones), a `source` or `source:` in the file system
/// and a method called with arguments under the name of a block parameter
/// (`load "x"` calls `load` even where `|load|` is in scope), and a
/// `gemspec` that is not the first word of its line (only those are
/// followed, their gemspec copied). Measured
/// with bundler 2.3.15: `gem "hello", "path" => "gems/hello"` made the
/// hoisted `bundle install` fail (exit 13) where the original built.
#[test]
fn gemfile_string_keys_local_sources_and_shadowed_calls_keep_the_install_in_place() {
    let lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n\nPLATFORMS\n  ruby\n\nBUNDLED WITH\n   2.3.15\n";
    let df = "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nENV BUNDLE_FROZEN=true\nRUN bundle install\n";
    for body in [
        "gem \"hello\", \"path\" => \"gems/hello\"\n",
        "gem \"hello\", 'git' => './repos/hello'\n",
        "git_source(:loc) { |name| \"/app/repos/#{name}\" }\ngem \"hello\", loc: \"hello\"\n",
        "source \"file:///app/gems\" do\n  gem \"hello\"\nend\n",
        "gem \"hello\", source: \"file:///app/gems\"\n",
        "gem \"hello\", :source => \"/app/gems\"\n",
        "git_source(:gh) { |load| \"https://github.com/#{load}.git\" }\nload \"Gemfile.extra\"\n",
        "gem \"hello\", require: \"u@host:git:x\", git: \"./repos/hello\"\n",
        "group(:development) { gemspec }\n",
        "if true then gemspec end\n",
    ] {
        let gemfile = format!("source \"https://rubygems.org\"\n{body}");
        let p = project(&[
            ("Gemfile", &gemfile),
            ("Gemfile.lock", lock),
            ("app.rb", "puts 1\n"),
            (
                "hello.gemspec",
                "Gem::Specification.new do |s|\n  s.name = \"hello\"\nend\n",
            ),
        ]);
        assert_eq!(
            rewrite_unsafe_too(p.path(), df),
            df,
            "moved with:\n{gemfile}"
        );
    }
    // Remote sources, and block parameters read as values, still move.
    let plain = "source \"https://rubygems.org\"\ngit_source(:gh) { |repo| \"https://github.com/#{repo}.git\" }\nsource \"https://gems.example.com\" do\n  gem \"hello\", gh: \"org/hello\"\nend\ngem \"x\", source: \"https://gems.example.com\"\n";
    let p = project(&[
        ("Gemfile", plain),
        ("Gemfile.lock", lock),
        ("app.rb", "puts 1\n"),
    ]);
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// Ruby's `-r` loads a library with its suffix added: `RUBYOPT=-r./boot`
/// (or `-r ./boot`) reads `./boot.rb`, which a reading of `./boot` alone
/// missed. Measured with bundler 2.3.15: the hoisted `bundle install`
/// failed ("cannot load such file -- ./boot", exit 1) where the original
/// built.
#[test]
fn a_library_an_option_variable_names_without_its_suffix_keeps_the_install_below() {
    let lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n\nPLATFORMS\n  ruby\n\nBUNDLED WITH\n   2.3.15\n";
    for opt in ["-r./boot", "-r ./boot", "-w -r/app/boot"] {
        let df = format!(
            "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nENV RUBYOPT=\"{opt}\" BUNDLE_FROZEN=true\nRUN bundle install\n"
        );
        let p = project(&[
            ("Gemfile", "source \"https://rubygems.org\"\n"),
            ("Gemfile.lock", lock),
            ("boot.rb", "puts 1\n"),
        ]);
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "moved with {opt}");
    }
    // A library that is not shipped is not read from the context.
    let df = "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nENV RUBYOPT=-r./boot BUNDLE_FROZEN=true\nRUN bundle install\n";
    let p = project(&[
        ("Gemfile", "source \"https://rubygems.org\"\n"),
        ("Gemfile.lock", lock),
        ("app.rb", "puts 1\n"),
    ]);
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

#[test]
fn a_root_run_that_makes_a_parent_of_a_chowned_copy_stays_below_it() {
    // Review 25 (measured: `/code` uid 1000->0): `COPY --chown=app . /code/app`
    // makes `/code` app's; `RUN mkdir -p /code/data && pip install six`,
    // which needs nothing from the context, was moved above it, so mkdir
    // made `/code` root's first.
    let p = project(&[("app.py", "x\n")]);
    let df = "FROM python:3.12-slim\nRUN useradd -m app\nCOPY --chown=app . /code/app\nRUN mkdir -p /code/data && pip install six==1.16.0\n";
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
    assert!(ordered(p.path(), df, 1, 2));
    // The controls: a copy that makes its directories root's, and a write
    // outside them, let it move.
    let df = "FROM python:3.12-slim\nRUN useradd -m app\nCOPY . /code/app\nRUN mkdir -p /code/data && pip install six==1.16.0\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
    let df = "FROM python:3.12-slim\nRUN useradd -m app\nCOPY --chown=app . /code/app\nRUN mkdir -p /srv/data && pip install six==1.16.0\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
    // A mount's target is made with its parents, root's, whoever runs
    // the command (review 25, measured the same), a relative one in the
    // working directory.
    for (wd, mount) in [
        ("/", "type=cache,target=/code/cache"),
        ("/", "type=tmpfs,target=/code"),
        ("/srv", "type=cache,target=../code/cache"),
    ] {
        let df = format!(
            "FROM python:3.12-slim\nRUN useradd -m app\nWORKDIR {wd}\nCOPY --chown=app . /code/app\nRUN --mount={mount} pip install six==1.16.0\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{mount}");
        assert!(ordered(p.path(), &df, 2, 3), "{mount}");
    }
    // Another user may not make it at all (measured: `mkdir: cannot
    // create directory '/code': Permission denied` in the rewrite), with
    // any owner the copy gives it.
    for chown in ["--chown=app ", ""] {
        let df = format!(
            "FROM python:3.12-slim\nRUN useradd -m app\nCOPY {chown}. /code/app\nUSER app\nRUN mkdir -p /code/data && pip install --user six==1.16.0\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{chown}");
    }
    // Its writes elsewhere let it move.
    let df = "FROM python:3.12-slim\nRUN useradd -m app\nCOPY --chown=app . /code/app\nUSER app\nRUN pip install --user six==1.16.0\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
    // An owner from a variable may be anyone's.
    let df = "FROM python:3.12-slim\nRUN useradd -m app\nARG U=app\nCOPY --chown=${U} . /code/app\nRUN mkdir -p /code/data && pip install six==1.16.0\n";
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
    let df = "FROM python:3.12-slim\nRUN useradd -m app\nCOPY --chown=app . /code/app\nRUN --mount=type=cache,target=/root/.cache pip install six==1.16.0\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
    // A directory a `WORKDIR` made exists: the copy gives it no owner
    // (measured: `WORKDIR /usr/src/app` then `COPY --chown=1000:1000 . .`
    // leaves `/usr/src/app` root's), so making a sibling first is the same.
    let df = "FROM python:3.12-slim\nRUN useradd -m app\nWORKDIR /code\nCOPY --chown=app . /code/app\nRUN mkdir -p /code/data && pip install six==1.16.0\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

#[test]
fn an_install_after_a_chowned_copy_into_a_workdir_is_still_hoisted() {
    // The clean-clone CI of stop 29 (real npm): with the root-RUN rule
    // above, `COPY --chown=1000:1000 package*.json ./`, `COPY
    // --chown=1000:1000 . .`, `RUN npm ci` stopped with "refusing to
    // write" (exit 2), as if the copy made `/usr/src/app`, which `WORKDIR`
    // had made.
    let p = project(&[("server.js", "x\n")]);
    for (name, text) in crate::support::NPM_FILES {
        std::fs::write(p.path().join(name), text).expect("write");
    }
    for run in ["npm ci", "mkdir -p /usr/src/cache && npm ci"] {
        let df = format!(
            "FROM node:20-slim\nWORKDIR /usr/src/app\nCOPY --chown=1000:1000 package*.json ./\nCOPY --chown=1000:1000 . .\nRUN {run}\n"
        );
        assert_eq!(
            rewrite_unsafe_too(p.path(), &df),
            format!(
                "FROM node:20-slim\nWORKDIR /usr/src/app\nCOPY --chown=1000:1000 package*.json ./\nRUN {run}\nCOPY --chown=1000:1000 . .\n"
            )
        );
    }
}

#[test]
fn a_run_that_may_make_a_parent_of_a_copy_with_another_owner_stays_below_it() {
    // Review 27, each measured with BuildKit (original vs the rewrite
    // that moved the `RUN` above the copy): the copy makes `/code` (or
    // `/home/app/code`) with its `--chown` owner, the `RUN` made it first
    // with another one.
    let p = project(&[("app.py", "x\n")]);
    for (df, what) in [
        // An owner through a variable: `/code` uid 1000 -> 0.
        (
            "FROM python:3.12-slim\nARG UID=1000\nRUN useradd -m -u $UID app\nCOPY --chown=${UID}:${UID} . /code/app\nRUN mkdir -p /code/data && pip install six==1.16.0\n",
            "variable owner",
        ),
        // A user through a variable, which may be root: `/code` uid 1000 -> 0.
        (
            "FROM python:3.12-slim\nARG RUNAS=0\nRUN useradd -m app\nUSER $RUNAS\nCOPY --chown=app . /code/app\nRUN mkdir -p /code/data && pip install six==1.16.0\n",
            "variable user",
        ),
        // A non-root user makes a directory in its home with its own
        // primary group: `/home/app/code` gid 100 -> 1000.
        (
            "FROM python:3.12-slim\nRUN useradd -m app\nUSER app\nCOPY --chown=app:users . /home/app/code/src\nRUN mkdir -p /home/app/code/data && pip install --user six==1.16.0\n",
            "non-root user",
        ),
        // The directory a `WORKDIR` made was removed: the copy makes it
        // again, app's: `/code` uid 1000 -> 0.
        (
            "FROM python:3.12-slim\nRUN useradd -m app\nWORKDIR /code\nWORKDIR /\nRUN rm -rf /code\nCOPY --chown=app . /code/app\nRUN mkdir -p /code/data && pip install six==1.16.0\n",
            "removed workdir",
        ),
    ] {
        assert_eq!(rewrite_unsafe_too(p.path(), df), df, "{what}");
    }
    // The controls: the same user and owner in a directory a `WORKDIR`
    // made and nothing removed.
    let df = "FROM python:3.12-slim\nRUN useradd -m app\nWORKDIR /code\nWORKDIR /\nRUN rm -rf /srv/x\nCOPY --chown=app . /code/app\nRUN mkdir -p /code/data && pip install six==1.16.0\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

#[test]
fn a_root_run_with_another_group_does_not_make_a_copy_s_directory_first() {
    // Review 27 (measured: `/code` gid 0 -> 1000): under `USER 0:1000` a
    // `mkdir -p /code/data` makes `/code` root:1000, the copy root:root.
    let p = project(&[("app.py", "x\n")]);
    for user in ["0:1000", "root:app"] {
        let df = format!(
            "FROM python:3.12-slim\nRUN useradd -m app\nUSER {user}\nCOPY . /code/app\nRUN mkdir -p /code/data && pip install six==1.16.0\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{user}");
    }
    // The control: root's own group.
    let df = "FROM python:3.12-slim\nRUN useradd -m app\nUSER root:root\nCOPY . /code/app\nRUN mkdir -p /code/data && pip install six==1.16.0\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// poetry-core reads a PEP 621 `license = {file = …}` whenever it loads
/// the project, `install --no-root` too (measured with poetry 2.5.1: the
/// rewritten build failed with "license file '/app/LICENSE' not found"
/// when only `pyproject.toml` and `poetry.lock` were copied first).
#[test]
fn a_poetry_license_file_keeps_the_install_in_place() {
    let pyproject = "[project]\nname = \"app\"\nversion = \"0.1.0\"\nlicense = { file = \"LICENSE\" }\nrequires-python = \">=3.11\"\ndependencies = [\"six (==1.16.0)\"]\n\n[tool.poetry]\npackages = [{ include = \"app\" }]\n";
    let dir = project(&[
        ("pyproject.toml", pyproject),
        ("poetry.lock", include_str!("../samples/poetry/poetry.lock")),
        ("LICENSE", "MIT\n"),
        ("app/__init__.py", "x = 1\n"),
    ]);
    let df = "FROM python:3.12-slim\nWORKDIR /app\nRUN poetry config virtualenvs.create false\nCOPY . .\nRUN poetry install --no-root --only main\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
}

/// Poetry 2 installs the plugins a project declares in
/// `[tool.poetry.requires-plugins]` into the project's `.poetry/plugins`
/// and runs them with every command, `install --no-root` too (poetry docs,
/// plugins: "Project plugins"): a path plugin is read from the project's
/// files, and any plugin's code may read what it likes (measured with
/// poetry 2.1.3: with `myplug = {path = "myplug", develop = true}` the
/// rewritten build failed with "Path /app/myplug for myplug does not
/// exist").
#[test]
fn poetry_project_plugins_keep_the_install_in_place() {
    let base = "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"six (==1.16.0)\"]\n\n[tool.poetry]\npackage-mode = false\n";
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN poetry install --no-root\n";
    for plugins in [
        "\n[tool.poetry.requires-plugins]\nmyplug = {path = \"myplug\", develop = true}\n",
        "\n[tool.poetry.requires-plugins]\npoetry-plugin-dotenv = \">=2.0\"\n",
    ] {
        let pyproject = format!("{base}{plugins}");
        let dir = project(&[
            ("pyproject.toml", pyproject.as_str()),
            ("poetry.lock", include_str!("../samples/poetry/poetry.lock")),
            ("myplug/pyproject.toml", "[project]\nname = \"myplug\"\n"),
            (".env", "POETRY_VIRTUALENVS_CREATE=false\n"),
            (".dockerignore", ".git\n"),
        ]);
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{plugins}");
    }
    // The control: without project plugins the install moves.
    let dir = project(&[
        ("pyproject.toml", base),
        ("poetry.lock", include_str!("../samples/poetry/poetry.lock")),
        (".dockerignore", ".git\n"),
    ]);
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// Poetry 2 loads plugins from the project's plugin cache
/// (`.poetry/plugins`) for every command when it exists, and `install`
/// removes it when the project declares no `requires-plugins`
/// (PluginManager.add_project_plugin_path and ensure_project_plugins):
/// measured with BuildKit (python:3.12-slim, poetry 2.1.3), a context
/// shipping `.poetry/plugins/marker.txt`: the original's install removed
/// it, the hoisted one's image had it (the broad copy put it back). A
/// shipped `.poetry` keeps the install (and an export) in place; ignored,
/// the install moves.
#[test]
fn a_shipped_poetry_plugin_cache_keeps_the_install_in_place() {
    let base = "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"six (==1.16.0)\"]\n\n[tool.poetry]\npackage-mode = false\n";
    for run in [
        "poetry install --no-root",
        "poetry export -o requirements.txt && pip install -r requirements.txt",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nRUN pip install poetry==2.1.3\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
        );
        let files = |ignore: &str| {
            project(&[
                ("pyproject.toml", base),
                ("poetry.lock", include_str!("../samples/poetry/poetry.lock")),
                (".poetry/plugins/marker.txt", "x\n"),
                ("app.py", "print(1)\n"),
                (".dockerignore", ignore),
            ])
        };
        let shipped = files(".git\n");
        assert_eq!(rewrite_unsafe_too(shipped.path(), &df), df, "{run}");
        let ignored = files(".git\n.poetry\n");
        assert_ne!(rewrite_unsafe_too(ignored.path(), &df), df, "{run}");
    }
}

/// Composer runs the plugins it installs (a lock package of type
/// `composer-plugin`) inside the install, where their code may read and
/// write any file of the project (Composer docs, plugins and
/// `allow-plugins`; composer/installers' `installer-paths` put packages
/// outside vendor/). Measured with composer 2.5.5: a plugin whose
/// `activate` reads `settings.txt` of the working directory wrote
/// "from-context" in the original build and "none" in the rewritten one.
/// `--no-plugins` turns them off.
#[test]
fn composer_plugins_in_the_lock_keep_the_install_in_place() {
    let json = "{\"name\":\"a/b\",\"require\":{\"my/plug\":\"1.0.0\"},\"config\":{\"allow-plugins\":{\"my/plug\":true}}}\n";
    let lock = |kind: &str| {
        format!(
            "{{\"content-hash\":\"x\",\"packages\":[{{\"name\":\"my/plug\",\"version\":\"1.0.0\",\"type\":\"{kind}\",\"dist\":{{\"type\":\"tar\",\"url\":\"https://example.invalid/plug.tar\"}}}}],\"packages-dev\":[]}}\n"
        )
    };
    let df = |run: &str| format!("FROM php:8.2-cli\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
    for kind in ["composer-plugin", "composer-installer"] {
        let lock = lock(kind);
        let dir = project(&[
            ("composer.json", json),
            ("composer.lock", lock.as_str()),
            ("settings.txt", "from-context\n"),
            (".dockerignore", ".git\n"),
        ]);
        for run in [
            "composer install --no-dev --no-interaction",
            "composer install --no-dev --no-scripts",
        ] {
            let df = df(run);
            assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{kind}: {run}");
        }
        // `--no-plugins`: no plugin runs, and the install moves.
        let df = df("composer install --no-dev --no-plugins");
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "{kind}");
    }
    // The control: a library, no plugin.
    let lock = lock("library");
    let dir = project(&[
        ("composer.json", json),
        ("composer.lock", lock.as_str()),
        ("settings.txt", "from-context\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = df("composer install --no-dev --no-interaction");
    assert_ne!(rewrite_unsafe_too(dir.path(), &df), df);
}

/// `uv pip install --group [PATH:]GROUP` (and `uv pip sync`'s) installs a
/// dependency group of `PATH` or of the `pylock.toml` or `pyproject.toml`
/// of the working directory (`uv pip install --help`, uv 0.8.22): a file
/// the value does not name as such. Measured with uv 0.8.22: `uv pip
/// install --system -r requirements.txt --group sub/pyproject.toml:dev`
/// moved above the copy with requirements.txt alone failed with "No
/// pyproject.toml found at: sub/pyproject.toml".
#[test]
fn uv_pip_dependency_groups_keep_the_install_in_place() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        (
            "sub/pyproject.toml",
            "[project]\nname = \"x\"\nversion = \"0.1\"\n\n[dependency-groups]\ndev = [\"idna==3.7\"]\n",
        ),
        ("main.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "uv pip install --system -r requirements.txt --group sub/pyproject.toml:dev",
        "uv pip install --system -r requirements.txt --group=sub/pyproject.toml:dev",
        "uv pip install --system -r requirements.txt --group dev",
        "uv pip sync --system requirements.txt --group sub/pyproject.toml:dev",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
    // The control: the requirements alone.
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv pip install --system -r requirements.txt\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// The hoist copies `.mvn/**` with the POM, but `.mvn/maven.config`
/// holds command-line options and `.mvn/jvm.config` JVM options (Maven
/// docs, "Configuring Apache Maven"), which may name a file the hoist
/// does not copy (`--settings ./ci/settings.xml` moved `[safe]` copying
/// pom.xml and .mvn/maven.config alone), and `.mvn/extensions.xml` loads
/// core extensions, code that runs in the build. Not built here: no image
/// with Maven, and Maven Central is not reachable.
#[test]
fn maven_launcher_options_naming_files_keep_the_install_in_place() {
    let pom = "<project><modelVersion>4.0.0</modelVersion><groupId>a</groupId><artifactId>b</artifactId><version>1</version></project>\n";
    let df = "FROM maven:3-eclipse-temurin-17\nWORKDIR /app\nCOPY . .\nRUN mvn -B dependency:go-offline\n";
    let with = |file: &str, text: &str| {
        project(&[
            ("pom.xml", pom),
            (file, text),
            ("ci/settings.xml", "<settings/>\n"),
            ("certs/t.jks", "x\n"),
            ("src/main/java/A.java", "class A {}\n"),
            (".dockerignore", ".git\n"),
        ])
    };
    for (file, text) in [
        (".mvn/maven.config", "--settings ./ci/settings.xml\n"),
        (".mvn/maven.config", "-B\n-s\nci/settings.xml\n"),
        (".mvn/maven.config", "-Dmaven.repo.local=repo\n"),
        (".mvn/maven.config", "-f\nsub/pom.xml\n"),
        (
            ".mvn/jvm.config",
            "-Xmx1g -Djavax.net.ssl.trustStore=certs/t.jks\n",
        ),
        (
            ".mvn/jvm.config",
            "-Xmx1g -XX:ArchiveClassesAtExit=app.jsa\n",
        ),
        (
            ".mvn/extensions.xml",
            "<extensions><extension><groupId>g</groupId><artifactId>a</artifactId><version>1</version></extension></extensions>\n",
        ),
    ] {
        let dir = with(file, text);
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{file}: {text}");
    }
    // The control: options that name no file.
    for (file, text) in [
        (
            ".mvn/maven.config",
            "-B\n-T 4\n-Drevision=1.0.0\n-DskipTests\n--no-transfer-progress\n",
        ),
        (
            ".mvn/jvm.config",
            "-Xmx2g -XX:+UseG1GC --add-opens java.base/java.lang=ALL-UNNAMED -Dfile.encoding=UTF-8\n",
        ),
    ] {
        let dir = with(file, text);
        assert_ne!(rewrite_unsafe_too(dir.path(), df), df, "{file}: {text}");
    }
}

/// A `gradle.properties` is copied with the build files, but Gradle's own
/// settings in it may name a file the hoist does not copy (Gradle docs,
/// "Build Environment"): the daemon's JVM arguments, system properties
/// (`systemProp.javax.net.ssl.trustStore=certs/t.jks`: a resolve without
/// it fails the TLS handshake), `org.gradle.java.home`. Not built here:
/// the Gradle plugin portal and Maven Central are not reachable.
#[test]
fn gradle_properties_naming_files_keep_the_resolve_in_place() {
    let df = "FROM gradle:8-jdk21\nWORKDIR /app\nCOPY . .\nRUN gradle dependencies --no-daemon\n";
    let with = |props: &str| {
        project(&[
            ("settings.gradle", "rootProject.name = 'x'\n"),
            ("build.gradle", "plugins { id 'java' }\n"),
            ("gradle.properties", props),
            ("certs/t.jks", "x\n"),
            ("src/main/java/A.java", "class A {}\n"),
            (".dockerignore", ".git\n"),
        ])
    };
    for props in [
        "systemProp.javax.net.ssl.trustStore=certs/t.jks\n",
        "org.gradle.jvmargs=-Xmx2g -Djavax.net.ssl.trustStore=certs/t.jks\n",
        "org.gradle.jvmargs=-Xmx2g \\\n  -Djavax.net.ssl.trustStore=certs/t.jks\n",
        "org.gradle.java.home=/opt/jdk\n",
    ] {
        let dir = with(props);
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{props}");
    }
    // The control: switches, sizes and project properties.
    let dir = with(
        "# build\norg.gradle.jvmargs=-Xmx2g -XX:MaxMetaspaceSize=512m -Dfile.encoding=UTF-8\norg.gradle.caching=true\norg.gradle.parallel=true\nversion=1.0.0\nkotlin.code.style=official\n",
    );
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// Without `--frozen`, `uv sync` checks the lock against the project, and
/// metadata the project declares `dynamic` is known only by building it
/// from its files, `--no-install-project` or not (measured with uv
/// 0.13.9: `uv sync --locked --no-install-project` of a setuptools
/// project with dynamic dependencies and version failed in the rewritten
/// build with "ModuleNotFoundError: app"). `--frozen` never checks.
#[test]
fn uv_sync_checking_the_lock_of_dynamic_metadata_keeps_its_place() {
    let pyproject = "[project]\nname = \"app\"\nrequires-python = \">=3.11\"\ndynamic = [\"version\", \"dependencies\"]\n\n[tool.setuptools.dynamic]\nversion = {attr = \"app.__version__\"}\ndependencies = {file = [\"requirements.txt\"]}\n\n[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n";
    let lock = "version = 1\nrevision = 5\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nsource = { editable = \".\" }\n";
    let dir = project(&[
        ("pyproject.toml", pyproject),
        ("uv.lock", lock),
        ("requirements.txt", "six==1.16.0\n"),
        ("app/__init__.py", "__version__ = '1.0'\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "uv sync --locked --no-install-project",
        "uv sync --no-install-project --locked --no-dev",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
    // With --frozen uv installs the lock as it is (measured: identical).
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen --no-install-project\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// pip opens a `--find-links` or index location as a path whenever one of
/// that name exists where it runs, `wheels` as well as `./wheels`; and
/// optparse takes any unambiguous prefix of a long option, so
/// `--requirem FILE` is `--requirement FILE`. Read as a package name,
/// each was hoisted as Safe without what it reads (measured with pip
/// 23.0.1: every rewritten build failed, "No matching distribution found
/// for six==1.16.0", "Could not open requirements file").
#[test]
fn pip_locations_and_abbreviated_options_are_read_as_pip_reads_them() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("wheels/six-1.16.0-py2.py3-none-any.whl", "x"),
        ("index/six/index.html", "x"),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "pip install --no-index -f wheels -r requirements.txt",
        "pip install --no-index --find-links=wheels -r requirements.txt",
        "pip install --no-index -fwheels -r requirements.txt",
        "pip install --no-index --find-links file:wheels -r requirements.txt",
        "pip install -i index -r requirements.txt",
        "pip install --extra-index-url index -r requirements.txt",
        "pip wheel -w /wheels -f wheels -r requirements.txt",
        "pip install --requirem requirements.txt",
        "pip install --find wheels -r requirements.txt",
        "pip install --python /usr/bin/python3 -r requirements.txt",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
    // Remote locations and pip's own flags still hoist.
    for run in [
        "pip install -f https://download.pytorch.org/whl/torch_stable.html -r requirements.txt",
        "pip install --index-url https://pypi.org/simple -r requirements.txt",
        "pip install --pre --upgrade -r requirements.txt",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "kept:\n{df}");
    }
}

#[test]
fn a_package_index_variable_naming_a_directory_keeps_the_install_below_it() {
    // Review 29 (measured with pip 23: the rewrite failed, "No matching
    // distribution found"): pip opens `PIP_INDEX_URL=index` as the
    // directory `./index`, which the broad copy ships; the value does not
    // look like a path, so it was not read.
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("index/six/six-1.16.0.tar.gz", "x"),
        ("app.py", "x\n"),
    ]);
    for env in [
        "PIP_INDEX_URL=index",
        "PIP_EXTRA_INDEX_URL=\"https://pypi.org/simple index\"",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nENV {env}\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{env}");
    }
    // A remote index names no file: the install moves.
    let df = "FROM python:3.12-slim\nENV PIP_INDEX_URL=https://pypi.org/simple\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

#[test]
fn pip_certificate_and_editable_options_read_their_files() {
    // Review 29: `--cert ca.pem` took `ca.pem` as a package name, so the
    // install moved above the copy that ships the file pip opens (requests
    // fails on a CA bundle path that does not exist); `--editab pkg` (an
    // abbreviation of `--editable`) the same for the project `./pkg`.
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("ca.pem", "x\n"),
        ("pkg/setup.py", "x\n"),
        ("app.py", "x\n"),
    ]);
    for cmd in [
        "pip install --cert ca.pem -r requirements.txt",
        "pip install --client-cert ca.pem -r requirements.txt",
        "pip install --editab pkg -r requirements.txt",
        "pip download --cert ca.pem -d /wheels -r requirements.txt",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {cmd}\n");
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{cmd}");
    }
    // A certificate of the image and a VCS project name no context file.
    for cmd in [
        "pip install --cert /etc/ssl/certs/ca-certificates.crt -r requirements.txt",
        "pip install -e git+https://example.com/x/y#egg=y -r requirements.txt",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {cmd}\n");
        assert_ne!(rewrite_unsafe_too(p.path(), &df), df, "{cmd}");
    }
}

/// BuildKit matches a `COPY` glob's `?` with one character, as Go's
/// `filepath.Match` does (a rune): `?/*.txt` matches
/// `é/requirements.txt` (measured: the original image installs flask
/// from it, the rewrite six). The glob was compared byte by byte, `?`
/// taking one of `é`'s two bytes, so it was read as writing only
/// `/app/x.txt`, and the install moved above the copy that replaces its
/// requirements.
#[test]
fn a_glob_question_mark_matches_one_non_ascii_character() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("a/x.txt", "x\n"),
        ("é/requirements.txt", "flask==3.0.0\n"),
    ]);
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nCOPY ?/*.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    // ASCII names only: the glob writes `/app/x.txt`, and the install
    // still moves above it.
    let dir = project(&[("requirements.txt", "six==1.16.0\n"), ("a/x.txt", "x\n")]);
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

#[test]
fn pip_location_values_with_extras_and_file_urls_read_their_paths() {
    // Review 32: `-e .[dev]` read the glob `.[dev]` (`.d`, `.e`, `.v`),
    // not the project `.`, so the install moved above `COPY . .` [safe]
    // with nothing copied first (measured: the rewrite failed);
    // `file://localhost/app/wheels` was read as `./localhost/app/wheels`
    // and `git+file:///app/lib#egg=lib` as a remote URL.
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("setup.py", "x\n"),
        ("lib/setup.py", "x\n"),
        ("wheels/six-1.16.0-py2.py3-none-any.whl", "x"),
        ("app.py", "x\n"),
    ]);
    for cmd in [
        "pip install -e .[dev]",
        "pip install -e 'lib[dev]' -r requirements.txt",
        "pip install --editable=lib[dev] -r requirements.txt",
        "pip install -f file://localhost/app/wheels -r requirements.txt",
        "pip install -e git+file:///app/lib#egg=lib -r requirements.txt",
        "pip install -e git+file:///app/lib@v1#egg=lib -r requirements.txt",
    ] {
        let df = format!("FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN {cmd}\n");
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{cmd}");
    }
    // Remote locations name no context file: the install moves.
    for cmd in [
        "pip install -e git+https://example.com/x/y#egg=y -r requirements.txt",
        "pip install -f https://example.com/wheels -r requirements.txt",
    ] {
        let df = format!("FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN {cmd}\n");
        assert_ne!(rewrite_unsafe_too(p.path(), &df), df, "{cmd}");
    }
}

#[test]
fn a_package_index_variable_not_known_here_keeps_the_install_below_it() {
    // Review 32 (measured with pip: the rewrite failed, "No matching
    // distribution found"): `ENV PIP_INDEX_URL=${OTHER:-index}` is
    // `index` in the build, but the form does not expand here and the
    // value was taken as no path, so the install moved above the copy
    // that ships `./index` [safe].
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("index/six/index.html", "x"),
        ("app.py", "x\n"),
    ]);
    for env in [
        "ENV PIP_INDEX_URL=${OTHER:-index}",
        "ARG PIP_INDEX_URL=$OTHER",
    ] {
        let df = format!(
            "FROM python:3.12-slim\n{env}\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{env}");
    }
    // A build argument without a default is the build's: scout68 built
    // `--build-arg PIP_INDEX_URL=file:///app/simple` (an index the copy
    // ships); the install moved above the copy found no distribution
    // (this test said it moves until then). Before the copy or after it,
    // it stays.
    for arg in ["ARG PIP_INDEX_URL", "ARG PIP_EXTRA_INDEX_URL"] {
        for df in [
            format!(
                "FROM python:3.12-slim\n{arg}\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
            ),
            format!(
                "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{arg}\nRUN pip install -r requirements.txt\n"
            ),
        ] {
            assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{arg}");
        }
    }
}

#[test]
fn a_file_url_of_localhost_in_a_pip_variable_names_the_absolute_path() {
    // Review 32: `PIP_FIND_LINKS=file://localhost/app/wheels` was read as
    // `./localhost/app/wheels`, so `pip install --no-index` moved above
    // the copy that ships `/app/wheels` [safe].
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("wheels/six-1.16.0-py2.py3-none-any.whl", "x"),
        ("app.py", "x\n"),
    ]);
    for env in [
        "PIP_FIND_LINKS=file://localhost/app/wheels",
        "PIP_INDEX_URL=file://localhost/app/wheels",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nENV {env}\nWORKDIR /app\nCOPY . .\nRUN pip install --no-index -r requirements.txt\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{env}");
    }
}

#[test]
fn an_editable_project_with_extras_in_a_pip_variable_is_the_project() {
    // `ENV PIP_EDITABLE=.[dev]` makes `pip install -r requirements.txt`
    // install the project too; the value was read as the glob `.[dev]`,
    // so the install moved above the copy that ships the project [safe].
    // Measured with pip 23 and BuildKit: the rewritten build failed.
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        (
            "pyproject.toml",
            "[project]\nname = \"app\"\nversion = \"0.1\"\n",
        ),
        ("lib/setup.py", "x\n"),
        ("app.py", "x\n"),
    ]);
    for env in [
        "PIP_EDITABLE=.[dev]",
        "PIP_EDITABLE='.[dev,test]'",
        "PIP_EDITABLE=./lib[x]",
        "PIP_EDITABLE=git+file:///app/lib@v1#egg=lib",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nENV {env}\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{env}");
    }
    let df = "FROM python:3.12-slim\nENV UV_FIND_LINKS=file://localhost/app/lib\nWORKDIR /app\nCOPY . .\nRUN uv pip install --system -r requirements.txt\n";
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
    // A remote location is not a path: the install moves.
    let df = "FROM python:3.12-slim\nENV PIP_EDITABLE=git+https://example.org/lib.git#egg=lib\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// The rewrite of `df` with `Safe` changes, in a context of `files`
/// (`.dockerignore` among them when given).
fn rewritten_in(files: &[(&str, &str)], df: &str) -> String {
    let dir = project(files);
    rewrite_unsafe_too(dir.path(), df)
}

/// Issue 11 (a copy of several sources or globs): the inserted COPY takes
/// the manifest from the source that puts it there last, as BuildKit
/// copies the sources in turn: a directory's contents go into the
/// destination, a glob matches dotfiles and directories (whose contents
/// it copies), and `.dockerignore` removes files before anything
/// matches. Each expected text was built with BuildKit (compare.sh:
/// identical images).
#[test]
fn issue_11_a_copy_of_several_sources_takes_the_manifest_from_the_last_source() {
    let pip = "RUN pip install -r requirements.txt\n";
    let head = "FROM python:3.12-slim\nWORKDIR /app\n";
    // A later directory source holding a file of the manifest's name.
    let files = &[
        ("requirements.txt", "flask==3.0.0\n"),
        ("app.py", "x\n"),
        ("config/requirements.txt", "six==1.16.0\n"),
        ("config/a.ini", "x\n"),
    ];
    let df = format!("{head}COPY requirements.txt app.py config/ ./\n{pip}");
    assert_eq!(
        rewritten_in(files, &df),
        format!(
            "{head}COPY config/requirements.txt ./\n{pip}COPY requirements.txt app.py config/ ./\n"
        )
    );
    // A glob matching a directory that holds a file of the manifest's
    // name: the later source wins either way round.
    let files = &[
        ("requirements.txt", "flask==3.0.0\n"),
        ("app.py", "x\n"),
        ("x.py/requirements.txt", "six==1.16.0\n"),
    ];
    let df = format!("{head}COPY *.txt *.py ./\n{pip}");
    assert_eq!(
        rewritten_in(files, &df),
        format!("{head}COPY x.py/requirements.txt ./\n{pip}COPY *.txt *.py ./\n")
    );
    let df = format!("{head}COPY *.py *.txt ./\n{pip}");
    assert_eq!(
        rewritten_in(files, &df),
        format!("{head}COPY requirements.txt ./\n{pip}COPY *.py *.txt ./\n")
    );
    // One glob matching both: which file stays depends on the order
    // BuildKit copies its matches in; nothing moves.
    let df = format!("{head}COPY app.py * ./\n{pip}");
    assert_eq!(rewritten_in(files, &df), df);
    // A glob matches dotfiles (Go's `filepath.Match`): `.c*` copies the
    // contents of `.cfg`.
    let files = &[
        ("requirements.txt", "flask==3.0.0\n"),
        ("app.py", "x\n"),
        (".cfg/requirements.txt", "six==1.16.0\n"),
    ];
    let df = format!("{head}COPY requirements.txt app.py .c* ./\n{pip}");
    assert_eq!(
        rewritten_in(files, &df),
        format!("{head}COPY .cfg/requirements.txt ./\n{pip}COPY requirements.txt app.py .c* ./\n")
    );
    // `.dockerignore` excludes the manifest: the copy does not ship it,
    // nothing moves; excluding the top one, the directory's is copied.
    let files = &[
        ("requirements.txt", "flask==3.0.0\n"),
        ("app.py", "x\n"),
        ("config/requirements.txt", "six==1.16.0\n"),
        (".dockerignore", "/requirements.txt\n"),
    ];
    let df = format!("{head}COPY *.py *.txt ./\n{pip}");
    assert_eq!(rewritten_in(files, &df), df);
    let df = format!("{head}COPY *.py config/ ./\n{pip}");
    assert_eq!(
        rewritten_in(files, &df),
        format!("{head}COPY config/requirements.txt ./\n{pip}COPY *.py config/ ./\n")
    );
}

/// Issue 11 (a copy of several sources or globs): what is not certain
/// keeps the install in place: `ADD` of files (an archive is unpacked,
/// whatever its name), a glob that may match a symbolic link, a `[`
/// class, a requirement file that includes another (found beside it in
/// the context, not where the copy puts it), an npm project whose
/// directory the copy fills from several places (its checks read the
/// whole directory).
#[test]
fn issue_11_a_copy_of_several_sources_stays_when_unsure() {
    let pip = "RUN pip install -r requirements.txt\n";
    let head = "FROM python:3.12-slim\nWORKDIR /app\n";
    let files = &[
        ("requirements.txt", "flask==3.0.0\n"),
        ("app.py", "x\n"),
        ("config/a.ini", "x\n"),
    ];
    for copy in [
        "ADD *.py *.txt ./",
        "ADD requirements.txt app.py config/ ./",
        "COPY [a]pp.py requirements.txt ./",
        "COPY *.py *.txt /app",
    ] {
        let df = format!("{head}{copy}\n{pip}");
        assert_eq!(rewritten_in(files, &df), df, "{copy}");
    }
    let dir = project(files);
    std::os::unix::fs::symlink("config", dir.path().join("lib.py")).expect("symlink");
    let df = format!("{head}COPY *.py *.txt ./\n{pip}");
    assert_eq!(rewrite_unsafe_too(dir.path(), &df), df);
    let files = &[
        ("requirements.txt", "-r base.txt\n"),
        ("base.txt", "flask==3.0.0\n"),
        ("app.py", "x\n"),
        ("config/base.txt", "six==1.16.0\n"),
    ];
    let df = format!("{head}COPY *.txt app.py config/ ./\n{pip}");
    assert_eq!(rewritten_in(files, &df), df);
    let files = &[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("index.js", "x\n"),
        ("web/page.js", "x\n"),
    ];
    let df = "FROM node:20\nWORKDIR /app\nCOPY *.json *.js web/ ./\nRUN npm ci\n";
    assert_eq!(rewritten_in(files, df), df);
}

#[test]
fn package_managers_read_their_settings_in_the_home() {
    // Seen (debian:bookworm-slim): `WORKDIR /root`, `COPY . .` shipping
    // `.dpkg.cfg` (`path-exclude=/usr/share/doc/*`), then `apt-get install
    // hello`: dpkg reads `~/.dpkg.cfg` (dpkg.cfg(5)), so moved above the
    // copy the image kept /usr/share/doc/hello/copyright. And shipping
    // `.local/lib/python3.11/site-packages/usercustomize.py`: python3's
    // postinst runs Python, which imports it from the user site (moved
    // above the copy, the file it wrote was missing). debconf reads
    // `~/.debconfrc` (debconf.conf(5)), rpm `~/.rpmmacros`.
    for (file, install) in [
        (".dpkg.cfg", "apt-get update && apt-get install -y hello"),
        (".debconfrc", "apt-get update && apt-get install -y tzdata"),
        (
            ".local/lib/python3.11/site-packages/usercustomize.py",
            "apt-get update && apt-get install -y python3-six",
        ),
        (".rpmmacros", "dnf install -y hello"),
        (".config/rpm/macros", "dnf install -y hello"),
    ] {
        let p = project(&[("app.py", "print(1)\n"), (file, "x\n")]);
        for df in [
            format!("FROM debian:bookworm-slim\nWORKDIR /root\nCOPY . .\nRUN {install}\n"),
            format!(
                "FROM debian:bookworm-slim\nENV HOME=/home/app\nCOPY . /home/app\nRUN {install}\n"
            ),
        ] {
            assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "moved:\n{df}");
            assert!(ordered(p.path(), &df, 1, 2), "{df}");
        }
    }
    // Other dot files in the home (fat_free_crm's `ADD . $HOME` ships
    // `.rspec`, `.rubocop.yml`) do not keep it there.
    let p = project(&[
        ("app.py", "print(1)\n"),
        (".rspec", "x\n"),
        (".config/dotnet-tools.json", "{}\n"),
    ]);
    let df = "FROM debian:bookworm-slim\nWORKDIR /root\nCOPY . .\nRUN apt-get update && apt-get install -y hello\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

#[test]
fn package_maintainer_scripts_see_accept_eula() {
    // Measured (debian:bookworm-slim, a local repository): a package whose
    // preinst refuses to install unless `ACCEPT_EULA=Y`, as Microsoft's
    // msodbcsql18 and mssql-tools18 do, installed after `ENV ACCEPT_EULA=Y
    // DEST=/srv/www` (held below the copy by `DEST`); the install moved
    // above the copy and the ENV, and the build failed.
    let p = project(&[("app.py", "print(1)\n")]);
    let df = "FROM debian:bookworm-slim\nENV DEST=/app\nCOPY . $DEST\nENV ACCEPT_EULA=Y DEST=/srv/www\nRUN apt-get update && apt-get install -y msodbcsql18\n";
    assert_eq!(rewrite_any(p.path(), df), df);
    for install in [
        "apt-get install -y msodbcsql18",
        "apk add --allow-untrusted msodbcsql18.apk",
        "dnf install -y msodbcsql18",
        "yum install -y mssql-tools18",
    ] {
        for decl in ["ENV ACCEPT_EULA=Y", "ARG ACCEPT_EULA=Y"] {
            let df = format!("FROM b\n{decl}\nRUN {install}\n");
            assert!(ordered(p.path(), &df, 0, 1), "{decl} {install}");
        }
    }
}

#[test]
fn package_manager_settings_may_name_paths() {
    // Measured (debian:bookworm-slim): `apt-get update && apt-get -o
    // Dir::Etc::SourceList=/app/sources.list install -y hello` after `COPY
    // . /app` shipping that sources.list; moved above the copy, apt had no
    // list of sources and the build failed. The value of a setting option
    // (apt's `-o`, dnf's `--setopt`) was read as one relative path
    // (`Dir::Etc::SourceList=/app/sources.list`).
    let p = project(&[
        ("app.py", "print(1)\n"),
        (
            "sources.list",
            "deb http://deb.debian.org/debian bookworm main\n",
        ),
        ("repos/local.repo", "[local]\n"),
        ("rootfs/etc/apk/repositories", "/x\n"),
    ]);
    for run in [
        "apt-get update && apt-get -o Dir::Etc::SourceList=/app/sources.list install -y hello",
        "apt-get update && apt-get install -y -oDir::Etc::SourceList=/app/sources.list hello",
        "apt-get update && apt-get install --option=Dir::Etc::SourceParts=/app/repos -y hello",
        "apt-get update && apt-get install -o RootDir=/app/rootfs -y hello",
        "dnf install -y --setopt=reposdir=/app/repos hello",
        "dnf install -y --setopt reposdir=/app/repos hello",
        "apk add --root /app/rootfs --initdb busybox",
        "dnf install -y --installroot=/app/rootfs bash",
    ] {
        let df = format!("FROM debian:bookworm-slim\nCOPY . /app\nRUN {run}\n");
        assert_eq!(rewrite_any(p.path(), &df), df, "moved:\n{df}");
    }
    // A setting that names no path still lets the install move.
    let df = "FROM debian:bookworm-slim\nCOPY . /app\nRUN apt-get update && apt-get install -y -o Dpkg::Options::=--force-confold -o Acquire::http::Proxy=http://proxy:3128/ hello\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
    // An install into another root writes there: a RUN that reads it stays
    // after it.
    let df = "FROM b\nRUN apk add --root /rootfs --initdb busybox\nRUN tar -C /rootfs -cf /rootfs.tar .\n";
    assert!(ordered(p.path(), df, 0, 1));
}

#[test]
fn a_fetch_does_not_move_above_a_system_install_that_preceded_it() {
    // A system install may bring what a download-only fetch needs though
    // no package it names is the toolchain or a transport: on
    // debian:bookworm-slim `apt-get install -y python3` installs
    // ca-certificates (python3.11 recommends it; measured with `apt-get
    // -s`), which `golang-go` installed with `--no-install-recommends`
    // does not. `go mod download` moved above it (the install stays below
    // the copy, as it reads `extra.conf`) would reach the module proxy
    // with no trust store and fail. A fetch that ran before a system
    // install may still run after it (typst's `xx-apk add`): it then only
    // finds more there.
    let p = project(&[
        ("go.mod", "module example.com/x\n\ngo 1.19\n"),
        ("go.sum", ""),
        ("main.go", "package main\nfunc main() {}\n"),
        ("extra.conf", "x\n"),
    ]);
    let df = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends golang-go\nWORKDIR /src\nCOPY . .\nRUN apt-get install -y python3 && cp extra.conf /etc/extra.conf\nRUN go mod download\n";
    assert_eq!(rewrite_any(p.path(), df), df);
    let df = "FROM golang\nRUN apt-get install -y python3\nRUN go mod download\n";
    assert!(ordered(p.path(), df, 0, 1));
    let df = "FROM golang\nRUN go mod download\nRUN apt-get install -y python3\n";
    assert!(!ordered(p.path(), df, 0, 1));
}

#[test]
fn package_maintainer_scripts_see_the_service_configuration_variables() {
    // Measured (debian:bookworm-slim): `ENV PG_CLUSTER_CONF_ROOT=/etc/pgconf`
    // before `apt-get install postgresql-15`: the postinst's
    // pg_createcluster put the main cluster's configuration in
    // /etc/pgconf/15/main; the install moved above the ENV put it in
    // /etc/postgresql/15/main. (PGPORT, PGDATA, PGUSER, PGHOST changed
    // nothing.) apache2's postinst runs a2enmod, which reads
    // APACHE_CONFDIR and APACHE_ENVVARS; MariaDB's tools read my.cnf in
    // MYSQL_HOME.
    let p = project(&[("app.py", "print(1)\n")]);
    for var in [
        "PG_CLUSTER_CONF_ROOT=/etc/pgconf",
        "PGSYSCONFDIR=/etc/pgcommon",
        "APACHE_CONFDIR=/etc/apache2",
        "APACHE_ENVVARS=/etc/apache2/envvars",
        "MYSQL_HOME=/etc/mysql",
    ] {
        let df = format!(
            "FROM debian:bookworm-slim\nENV {var}\nRUN apt-get update && apt-get install -y postgresql-15\n"
        );
        assert!(ordered(p.path(), &df, 0, 1), "{var}");
    }
    // A value the broad copy ships into keeps the install below it.
    let p = project(&[("app.py", "print(1)\n"), ("pgconf/x", "x\n")]);
    let df = "FROM debian:bookworm-slim\nENV PG_CLUSTER_CONF_ROOT=/app/pgconf\nCOPY . /app\nRUN apt-get update && apt-get install -y postgresql-15\n";
    assert_eq!(rewrite_any(p.path(), df), df);
}

/// uv's settings (`uv.toml`, or `[tool.uv]` in `pyproject.toml`, of the
/// directory `uv pip install` or `uv venv` runs in or of a parent) may
/// point it at files the copy ships: `find-links = ["wheels"]`, an index
/// `url = "./wheels"`. Copying the settings first is not enough: measured
/// with uv 0.13.9 and BuildKit, the hoisted install failed with
/// "Failed to read `--find-links` directory: /app/wheels".
#[test]
fn uv_settings_that_name_local_files_keep_the_install_below_the_copy() {
    let base: &[(&str, &str)] = &[
        ("requirements.txt", "six==1.16.0\n"),
        ("wheels/six-1.16.0-py2.py3-none-any.whl", "x\n"),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let here = "FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\nCOPY . .\nRUN uv pip install --system -r requirements.txt\n";
    let venv = "FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\nCOPY . .\nRUN uv venv && uv pip install -r requirements.txt\n";
    for (name, text) in [
        ("uv.toml", "no-index = true\nfind-links = [\"wheels\"]\n"),
        (
            "uv.toml",
            "[pip]\nno-index = true\nfind-links = [\"wheels\"]\n",
        ),
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\nversion = \"0\"\n[tool.uv]\nfind-links = [\"wheels\"]\n",
        ),
        (
            "uv.toml",
            "[[index]]\nurl = \"./wheels\"\nformat = \"flat\"\ndefault = true\n",
        ),
        ("uv.toml", "index-url = \"file:///app/wheels\"\n"),
        (
            "pyproject.toml",
            "[tool.uv.pip]\nextra-index-url = [\"/app/wheels\"]\n",
        ),
    ] {
        let mut files = base.to_vec();
        files.push((name, text));
        for df in [here, venv] {
            assert_eq!(rewritten_in(&files, df), df, "{name}: {text}");
        }
    }
    // In a parent directory of the one it runs in.
    let files = &[
        ("svc/requirements.txt", "six==1.16.0\n"),
        (
            "uv.toml",
            "no-index = true\nfind-links = [\"/app/wheels\"]\n",
        ),
        ("wheels/six-1.16.0-py2.py3-none-any.whl", "x\n"),
        ("svc/app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nRUN pip install uv\nCOPY . /app\nWORKDIR /app/svc\nRUN uv pip install --system -r requirements.txt\n";
    assert_eq!(rewritten_in(files, df), df);
    // A remote index is no file: the install still moves.
    let mut files = base.to_vec();
    files.push(("uv.toml", "index-url = \"https://pypi.org/simple\"\n"));
    assert_ne!(rewritten_in(&files, here), here);
}

/// pip's and uv's configuration files (`/etc/pip.conf`,
/// `~/.config/pip/pip.conf`, `/etc/uv/uv.toml`, ...) that an earlier
/// instruction writes may point the install at files the broad copy
/// ships (`find-links = /app/wheels`). Measured with pip 23, uv 0.13.9
/// and BuildKit: each hoisted install failed to find its wheels. One
/// copied from the context is read; one naming only remote locations
/// lets the install move.
#[test]
fn configuration_written_before_the_install_keeps_it_below_the_copy() {
    let files = &[
        ("requirements.txt", "six==1.16.0\n"),
        ("wheels/six-1.16.0-py2.py3-none-any.whl", "x\n"),
        (
            "pip.conf",
            "[global]\nno-index = true\nfind-links = /app/wheels\n",
        ),
        (
            "uv.toml",
            "no-index = true\nfind-links = [\"/app/wheels\"]\n",
        ),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let pip = "WORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    let uv = "WORKDIR /app\nCOPY . .\nRUN uv pip install --system -r requirements.txt\n";
    for df in [
        format!("FROM python:3.12-slim\nCOPY pip.conf /etc/pip.conf\n{pip}"),
        format!("FROM python:3.12-slim\nCOPY pip.conf /etc/xdg/pip/\n{pip}"),
        format!("FROM python:3.12-slim\nCOPY pip.conf /root/.config/pip/pip.conf\n{pip}"),
        format!("FROM python:3.12-slim\nCOPY pip.conf /opt/venv/pip.conf\n{pip}"),
        format!("FROM python:3.12-slim\nRUN pip install uv\nCOPY uv.toml /etc/uv/uv.toml\n{uv}"),
        format!("FROM python:3.12-slim\nRUN pip install uv\nCOPY uv.toml /root/.config/uv/\n{uv}"),
    ] {
        assert_eq!(rewritten_in(files, &df), df);
    }
    let remote = &[
        ("requirements.txt", "six==1.16.0\n"),
        (
            "pip.conf",
            "[global]\nindex-url = https://pypi.org/simple\ntimeout = 60\n",
        ),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = format!("FROM python:3.12-slim\nCOPY pip.conf /etc/pip.conf\n{pip}");
    assert_ne!(rewritten_in(remote, &df), df);
}

#[test]
fn configuration_whose_content_is_not_seen_keeps_the_install_below_the_copy() {
    // Review 36, F3 (measured with pip 23 and BuildKit: the hoisted
    // install found no wheels): a pip or uv configuration written by a
    // `RUN` or copied from another stage may name what the broad copy
    // ships (`find-links = /app/wheels`); its content is not read here.
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("wheels/six-1.16.0-py2.py3-none-any.whl", "x"),
        ("app.py", "x\n"),
    ]);
    for write in [
        "RUN mkdir -p /root/.config/pip && printf '[global]\\nfind-links = /app/wheels\\n' > /root/.config/pip/pip.conf",
        "COPY --from=tools /pip.conf /etc/pip.conf",
        "COPY --from=tools /pip.conf /opt/pip.conf\nENV PIP_CONFIG_FILE=/opt/pip.conf",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /app\n{write}\nCOPY . .\nRUN pip install --no-index -r requirements.txt\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{write}");
    }
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=tools /uv.toml /etc/uv/uv.toml\nCOPY . .\nRUN uv pip install --system -r requirements.txt\n";
    assert_eq!(rewrite_unsafe_too(p.path(), df), df);
}

/// Issue 11: `bundle install` without `--frozen` rewrites a lock that is
/// not the text it generates for the Gemfile, or resolves it again (from
/// the gem index, which rewrites it), or runs another Bundler: each keeps
/// the install below the broad copy. The rewrites were measured with
/// Bundler 2.3.15 and 2.6.7 (`cmp` of the lock before and after; the
/// rebuilt hoist of the platforms one gave a different image).
#[test]
fn bundle_install_lock_traps_stay_unsafe() {
    use crate::support::{BUNDLER_GEMFILE, BUNDLER_LOCK, bundler_hoist};
    let df = "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle install\n";
    let lock = |from: &str, to: &str| {
        assert!(BUNDLER_LOCK.contains(from), "{from}");
        BUNDLER_LOCK.replacen(from, to, 1)
    };
    let gemfile = |extra: &str| format!("{BUNDLER_GEMFILE}{extra}");
    let locks: Vec<(&str, String)> = vec![
        ("no final newline", BUNDLER_LOCK.trim_end().to_string()),
        (
            "platforms out of order",
            lock(
                "  aarch64-linux\n  x86_64-linux\n",
                "  x86_64-linux\n  aarch64-linux\n",
            ),
        ),
        (
            "dependencies out of order",
            lock(
                "  minitest (~> 5.15)\n  rake\n",
                "  rake\n  minitest (~> 5.15)\n",
            ),
        ),
        (
            "specs out of order",
            lock(
                "    minitest (5.15.0)\n    power_assert (2.0.1)\n",
                "    power_assert (2.0.1)\n    minitest (5.15.0)\n",
            ),
        ),
        (
            "an unused spec",
            lock(
                "    minitest (5.15.0)\n",
                "    json (2.6.1)\n    minitest (5.15.0)\n",
            ),
        ),
        (
            "a dependency written (>= 0)",
            lock("      power_assert\n", "      power_assert (>= 0)\n"),
        ),
        (
            "a remote without its final slash",
            lock("rubygems.org/\n", "rubygems.org\n"),
        ),
        ("BUNDLED WITH Bundler 1", lock("2.3.15", "1.17.3")),
        (
            "BUNDLED WITH another line (installed and run)",
            lock("2.3.15", "2.4.10"),
        ),
        ("no arm64 host platform", lock("  aarch64-linux\n", "")),
        (
            "only ruby (the index says which platforms)",
            lock("  aarch64-linux\n  x86_64-linux\n", "  ruby\n"),
        ),
        (
            "x86_64-linux-gnu (2.3 writes x86_64-linux)",
            lock("  x86_64-linux\n", "  x86_64-linux\n  x86_64-linux-gnu\n"),
        ),
        ("a gem of the Gemfile not locked", lock("  rake\n", "")),
        (
            "a locked gem not in the Gemfile",
            lock("  rake\n", "  rake\n  rdoc\n"),
        ),
        (
            "a requirement the locked version misses",
            lock("    minitest (5.15.0)\n", "    minitest (4.7.5)\n"),
        ),
        (
            "a dependency not locked",
            lock("      power_assert\n", "      power_assert\n      rexml\n"),
        ),
        (
            "a platform-specific spec",
            lock("    rake (13.0.6)\n", "    rake (13.0.6-x86_64-linux)\n"),
        ),
        (
            "CHECKSUMS",
            lock(
                "\nBUNDLED WITH",
                "\nCHECKSUMS\n  rake (13.0.6)\n\nBUNDLED WITH",
            ),
        ),
        (
            "RUBY VERSION",
            lock(
                "\nBUNDLED WITH",
                "\nRUBY VERSION\n   ruby 3.1.2p20\n\nBUNDLED WITH",
            ),
        ),
        (
            "a PATH source",
            format!("PATH\n  remote: .\n  specs:\n    app (0.1.0)\n\n{BUNDLER_LOCK}"),
        ),
        ("CRLF", BUNDLER_LOCK.replace('\n', "\r\n")),
    ];
    for (what, text) in &locks {
        let (app, reason, out) = bundler_hoist(df, &[("Gemfile.lock", text)]);
        assert_eq!(app, Applicability::Unsafe, "{what}: {reason}");
        assert!(
            reason.contains("may rewrite `Gemfile.lock`"),
            "{what}: {reason}"
        );
        assert_eq!(out, df, "{what}: nothing moves");
    }
    let gemfiles: Vec<(&str, String)> = vec![
        ("gemspec", gemfile("gemspec\n")),
        ("a path gem", gemfile("gem 'app', path: 'vendor/app'\n")),
        (
            "a git gem",
            gemfile("gem 'app', git: 'https://example.org/app.git'\n"),
        ),
        (
            "platforms:",
            gemfile("gem 'tzinfo-data', platforms: %i[ windows jruby ]\n"),
        ),
        ("ruby", gemfile("ruby '3.1.2'\n")),
        ("eval_gemfile", gemfile("eval_gemfile 'Gemfile.local'\n")),
        (
            "another source",
            BUNDLER_GEMFILE.replace("https://rubygems.org", "https://gems.example.org"),
        ),
        (
            "a comment after code",
            BUNDLER_GEMFILE.replace("gem 'rake'", "gem 'rake' # tasks"),
        ),
        ("a gem twice", gemfile("gem 'rake'\n")),
    ];
    // Requirements out of Bundler's order (measured rewritten).
    let two_reqs = gemfile("").replace("'~> 5.15'", "'>= 5.0', '< 6'");
    let (app, reason, _) = bundler_hoist(
        df,
        &[
            ("Gemfile", &two_reqs),
            ("Gemfile.lock", &lock("(~> 5.15)", "(< 6, >= 5.0)")),
        ],
    );
    assert_eq!(
        app,
        Applicability::Unsafe,
        "requirements out of order: {reason}"
    );
    for (what, text) in &gemfiles {
        let (app, reason, _) = bundler_hoist(df, &[("Gemfile", text)]);
        assert_eq!(app, Applicability::Unsafe, "{what}: {reason}");
    }
    // Other Bundlers (ruby 3.2 ships 2.4, 3.3 2.5, the current Ruby 4.0),
    // Alpine (its platform is x86_64-linux-musl), settings, another user,
    // a replaced Bundler, other commands in the RUN, unmeasured options.
    let dockerfiles = [
        "FROM ruby:3.2\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.3-slim\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:slim\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.1-alpine\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.1\nENV BUNDLE_FORCE_RUBY_PLATFORM=true\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.1\nENV BUNDLER_VERSION=2.3.7\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.1\nRUN useradd app\nUSER app\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.1\nRUN gem install bundler\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.1\nRUN bundle config set force_ruby_platform true\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN gem install bundler && bundle install --jobs 4 --retry 3\n",
        "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle config set force_ruby_platform true && bundle install\n",
        "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle install --with tools\n",
        "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle install --no-cache\n",
    ];
    for df in dockerfiles {
        let (app, reason, out) = bundler_hoist(df, &[]);
        assert_eq!(app, Applicability::Unsafe, "{df}: {reason}");
        assert_eq!(out, df, "{df}: nothing moves");
    }
    // A cache the context ships, which an install that is not frozen
    // updates (measured, Bundler 2.3.15: "Updating files in vendor/cache";
    // the broad copy would put it back): kept in place as a frozen one is
    // (bundler_installs_from_the_shipped_gem_cache).
    let (hoist, text) =
        crate::support::bundler_rewrite(df, &[("vendor/cache/rake-13.0.6.gem", "gem\n")]);
    assert!(
        hoist
            .as_ref()
            .is_none_or(|(app, _)| *app == Applicability::Unsafe),
        "vendor/cache: {hoist:?}"
    );
    assert_eq!(text, df, "vendor/cache: nothing moves");
    // Bundler settings the context ships.
    let (app, reason, _) = bundler_hoist(
        df,
        &[(
            ".bundle/config",
            "---\nBUNDLE_FORCE_RUBY_PLATFORM: \"true\"\n",
        )],
    );
    assert_eq!(app, Applicability::Unsafe, ".bundle/config: {reason}");
}

/// The scout's n07/n08 files (real locks npm 10 and yarn 1.22 keep).
fn node_project_at(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let manifest = "{\n  \"name\": \"n\",\n  \"version\": \"1.0.0\",\n  \"private\": true,\n  \"dependencies\": { \"ms\": \"2.1.3\" }\n}\n";
    let lock = "{\n  \"name\": \"n\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"n\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {\n        \"ms\": \"2.1.3\"\n      }\n    },\n    \"node_modules/ms\": {\n      \"version\": \"2.1.3\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"license\": \"MIT\"\n    }\n  }\n}\n";
    let yarn_lock = "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\nms@2.1.3:\n  version \"2.1.3\"\n  resolved \"https://registry.yarnpkg.com/ms/-/ms-2.1.3.tgz#574c8138ce1d2b5861f0b44579dbadd60c6615b2\"\n  integrity sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\n";
    let mut files = vec![
        ("package.json", manifest),
        ("package-lock.json", lock),
        ("yarn.lock", yarn_lock),
        (".dockerignore", "node_modules\n.git\n"),
        ("src/index.js", "console.log(1)\n"),
    ];
    files.extend_from_slice(extra);
    project(&files)
}

/// As [`node_project_at`], for npm's installs: its yarn.lock left out of
/// the context by `.dockerignore`, since npm rewrites a yarn.lock it finds
/// beside its own lock, which keeps any npm install in place
/// (`npm_install_is_not_hoisted_over_a_shipped_yarn_lock_it_rewrites`).
fn npm_project_at(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let mut files = vec![(".dockerignore", "node_modules\n.git\nyarn.lock\n")];
    files.extend_from_slice(extra);
    node_project_at(&files)
}

#[test]
fn npm_settings_a_copy_into_the_root_ships_keep_the_install_below() {
    // With no `WORKDIR` the copy of the context into `/` puts a shipped
    // `usr/local/etc/npmrc` (or `root/.npmrc`, `etc/npmrc`) where npm
    // reads its settings: `omit-lockfile-registry-resolved=true` there
    // makes `npm install` rewrite the lock.
    let df = "FROM node:20-slim\nCOPY . .\nRUN npm install\n";
    for path in [
        "usr/local/etc/npmrc",
        "root/.npmrc",
        "etc/npmrc",
        "usr/local/lib/node_modules/npm/npmrc",
    ] {
        let p = npm_project_at(&[(path, "omit-lockfile-registry-resolved=true\n")]);
        assert_eq!(rewrite_unsafe_too(p.path(), df), df, "{path}");
    }
}

#[test]
fn a_yarn_global_add_may_replace_yarn() {
    // `yarn global add` links each added package's binaries into
    // /usr/local/bin, replacing what is there (measured, yarn 1.22.22:
    // `yarn global add yarn@1.22.19` made /usr/local/bin/yarn that
    // yarn, `yarn --version` 1.22.19). Which binaries a package has is
    // the registry's to say: yarn 1.22.22's lock model does not hold
    // for the `yarn install --ignore-scripts` after it, whatever the package.
    let p = node_project_at(&[]);
    for pkg in ["yarn@1.22.19", "rimraf@5.0.10"] {
        let df = format!(
            "FROM node:20-slim\nWORKDIR /project\nCOPY . .\nRUN yarn global add --ignore-scripts {pkg}\nRUN yarn install --ignore-scripts\n"
        );
        let out = rewrite_unsafe_too(p.path(), &df);
        assert!(
            out.ends_with("COPY . .\nRUN yarn install --ignore-scripts\n"),
            "{pkg}: {out}"
        );
    }
    // Without it the same install moves.
    let df = "FROM node:20-slim\nWORKDIR /project\nCOPY . .\nRUN yarn install --ignore-scripts\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// `dotnet restore -a $TARGETARCH` hoists only when the value is one word
/// BuildKit sets (scout41): undeclared in the stage, `$TARGETARCH` is
/// empty and `-a` takes the next argument (the project); another build
/// argument without a default may be anything, several words included.
#[test]
fn dotnet_architecture_options_take_only_platform_words() {
    let dir = project(&[
        (
            "Worker.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk\"><ItemGroup><PackageReference Include=\"Newtonsoft.Json\" Version=\"13.0.3\" /></ItemGroup></Project>\n",
        ),
        ("Program.cs", "x\n"),
    ]);
    for df in [
        // not declared: empty, so `-a` takes `Worker.csproj`
        "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /source\nCOPY . .\nRUN dotnet restore -a $TARGETARCH Worker.csproj\n",
        // a build argument of the file's own, without a default
        "FROM mcr.microsoft.com/dotnet/sdk:8.0\nARG ARCH\nWORKDIR /source\nCOPY . .\nRUN dotnet restore -a $ARCH\n",
        // an ENV of the same name: the builders disagree on the value
        "FROM mcr.microsoft.com/dotnet/sdk:8.0\nENV TARGETARCH=x64\nARG TARGETARCH\nWORKDIR /source\nCOPY . .\nRUN dotnet restore -a $TARGETARCH\n",
        // the whole platform (`linux/amd64`) is no word
        "FROM mcr.microsoft.com/dotnet/sdk:8.0\nARG TARGETPLATFORM\nWORKDIR /source\nCOPY . .\nRUN dotnet restore -r $TARGETPLATFORM\n",
    ] {
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{df}");
    }
}

/// pnpm writes the `PNPM_HOME` on its `PATH` (scout41): a home inside the
/// project, which the broad copy ships files into, keeps the install after
/// the copy; so does another command's `PATH` directory under `/` (npm
/// with `/pnpm` on `PATH`: the parent rule stands for everything but
/// pnpm's own home).
#[test]
fn pnpm_home_on_path_is_written() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        ("pnpm-lock.yaml", "lockfileVersion: 9\n"),
        ("bin/tool", "x\n"),
        ("index.js", "x\n"),
    ]);
    for df in [
        "FROM node:20-slim\nENV PNPM_HOME=/app/bin\nENV PATH=$PNPM_HOME:$PATH\nRUN corepack enable\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n",
        "FROM node:20-slim\nENV PNPM_HOME=/pnpm\nENV PATH=/app/bin:$PATH\nRUN corepack enable\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n",
    ] {
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{df}");
    }
}

/// A restore after a copy of one context directory (scout41): what it
/// reads in the context outside that directory is not where the restore
/// looks in the image, so a project reference leaving the directory, or an
/// MSBuild file above it, keeps the restore in place; so does a copy with
/// `--exclude` (it may leave a project out).
#[test]
fn dotnet_restore_below_a_directory_copy_reads_only_that_directory() {
    let proj = "<Project Sdk=\"Microsoft.NET.Sdk\"><ItemGroup><PackageReference Include=\"Serilog\" Version=\"3.1.1\" /></ItemGroup></Project>\n";
    let with_ref = "<Project Sdk=\"Microsoft.NET.Sdk\"><ItemGroup><ProjectReference Include=\"..\\lib\\lib.csproj\" /></ItemGroup></Project>\n";
    let df = "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /source\nCOPY app/. .\nRUN dotnet restore\n";
    let reference = project(&[
        ("app/app.csproj", with_ref),
        ("lib/lib.csproj", proj),
        ("app/Program.cs", "x\n"),
    ]);
    assert_eq!(rewrite_unsafe_too(reference.path(), df), df);
    let above = project(&[
        ("app/app.csproj", proj),
        (
            "Directory.Build.props",
            "<Project><PropertyGroup><Nullable>enable</Nullable></PropertyGroup></Project>\n",
        ),
        ("app/Program.cs", "x\n"),
    ]);
    assert_eq!(rewrite_unsafe_too(above.path(), df), df);
    let plain = project(&[("app/app.csproj", proj), ("app/Program.cs", "x\n")]);
    let df = "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /source\nCOPY --exclude=*.props app/. .\nRUN dotnet restore\n";
    assert_eq!(rewrite_unsafe_too(plain.path(), df), df);
}

#[test]
fn a_shell_that_reads_startup_files_keeps_its_runs_in_place() {
    // A login or interactive shell (or zsh, which always reads .zshenv)
    // runs startup files before each RUN's command: `~/.profile` (here
    // shipped by the broad copy into /root) exported PIP_TARGET, and the
    // hoisted install wrote /usr/local instead of /opt/t (measured with
    // BuildKit, python:3.12-slim, `SHELL ["/bin/bash", "-l", "-c"]`). What
    // such files source is not known: the RUN stays where it is.
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        (".profile", "export PIP_TARGET=/opt/t\n"),
        (".bashrc", "export PIP_TARGET=/opt/t\n"),
        (".zshenv", "export PIP_TARGET=/opt/t\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    for shell in [
        r#"["/bin/bash", "-l", "-c"]"#,
        r#"["/bin/bash", "--login", "-c"]"#,
        r#"["/bin/bash", "-i", "-c"]"#,
        r#"["/bin/bash", "-e", "-l", "-c"]"#,
        r#"["/bin/bash", "--rcfile", "/root/.bashrc", "-c"]"#,
        r#"["/bin/sh", "-l", "-c"]"#,
        r#"["/bin/zsh", "-c"]"#,
        r#"["/usr/bin/env", "bash", "-l", "-c"]"#,
        r#"["/bin/bash", "-lc"]"#,
    ] {
        for wd in ["/root", "/app"] {
            let df = format!(
                "FROM python:3.12-slim\nWORKDIR {wd}\nSHELL {shell}\nCOPY . .\nRUN pip install -r requirements.txt\n"
            );
            assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{df}");
        }
    }
    // Shell options that read no startup file still let the install move.
    for shell in [
        r#"["/bin/bash", "-c"]"#,
        r#"["/bin/bash", "-o", "pipefail", "-c"]"#,
        r#"["/bin/bash", "-e", "-c"]"#,
    ] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /root\nSHELL {shell}\nCOPY . .\nRUN pip install -r requirements.txt\n"
        );
        let out = rewrite_unsafe_too(dir.path(), &df);
        assert!(
            out.contains("COPY requirements.txt ./\nRUN pip install"),
            "{out}"
        );
    }
}

#[test]
fn a_gems_rb_beside_the_gemfile_keeps_bundle_install_in_place() {
    // Bundler 2 looks for `gems.rb` before `Gemfile` in each directory
    // (SharedHelpers#gemfile_names) and then reads `gems.locked`: after
    // the broad copy the install read a `gems.rb` the inserted COPY did
    // not bring (measured with BuildKit, ruby:3.1, Bundler 2.3.15:
    // `bundle install --frozen` installed the binstub of a path gem of
    // gems.rb only in the original order).
    use crate::support::bundler_rewrite;
    let gems_rb = "source 'https://rubygems.org'\ngem 'foo', path: 'foo'\n";
    for df in [
        "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle install --frozen\n",
        "FROM ruby:3.1\nENV BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
    ] {
        let (hoist, text) = bundler_rewrite(df, &[("gems.rb", gems_rb)]);
        assert_eq!(text, df, "{df}");
        assert!(
            hoist
                .as_ref()
                .is_none_or(|(app, _)| *app != Applicability::Safe),
            "{df}: {hoist:?}"
        );
    }
}

#[test]
fn python_m_pip_reads_a_pip_module_where_it_runs() {
    // `python -m pip` looks the module up in the working directory first
    // (sys.path[0]; pip drops that entry only once its own __main__ runs):
    // a `pip.py` the broad copy ships is what runs (checked with
    // python:3.12-slim: the module's code ran instead of pip).
    for (name, text) in [
        ("pip.py", "print('not pip')\n"),
        ("pip/__init__.py", "\n"),
        ("pip.cpython-311-x86_64-linux-gnu.so", "\x7fELF"),
    ] {
        let dir = project(&[
            ("requirements.txt", "six==1.16.0\n"),
            (name, text),
            ("app.py", "print(1)\n"),
            (".dockerignore", ".git\n"),
        ]);
        for run in [
            "RUN python -m pip install -r requirements.txt",
            "RUN python3 -m pip install -r requirements.txt",
            "RUN venv/bin/python -m pip install -r requirements.txt",
        ] {
            let df = format!(
                "FROM python:3.12-slim\nWORKDIR /app\nRUN python -m venv venv\nCOPY . .\n{run}\n"
            );
            assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{name}: {run}");
        }
    }
    // Without one, the install still moves (a `pip.conf` is no module).
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("pip.conf", "[global]\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\nvenv\n"),
    ]);
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN python -m pip install -r requirements.txt\n";
    let out = rewrite_unsafe_too(dir.path(), df);
    assert!(
        out.contains("COPY requirements.txt ./\nRUN python -m pip"),
        "{out}"
    );
}

#[test]
fn a_copy_destination_through_a_build_argument_is_not_already_copied() {
    // review 44: `COPY package.json $APP/` with `ARG APP=/app` put
    // package.json in `/app` only with the default; the hoist took it as
    // already copied and inserted `COPY package-lock.json ./` alone.
    // Measured with BuildKit (node:20-slim, `--build-arg APP=/srv`): the
    // original built, the rewrite's `npm install` found no
    // /app/package.json and failed.
    let p = npm_project_at(&[]);
    for df in [
        "FROM node:20-slim\nARG APP=/app\nWORKDIR /app\nCOPY package.json $APP/\nCOPY . .\nRUN npm install\n",
        "FROM node:20-slim\nARG BASE=/app\nENV APP=$BASE\nWORKDIR /app\nCOPY package.json ${APP}/\nCOPY . .\nRUN npm install\n",
        "FROM node:20-slim AS base\nARG BASE=/app\nENV APP=$BASE\nFROM base\nWORKDIR /app\nCOPY package.json $APP/\nCOPY . .\nRUN npm install\n",
    ] {
        let out = rewrite_unsafe_too(p.path(), df);
        assert!(
            out == df || out.contains("COPY package.json package-lock.json ./\n"),
            "{df}\n=>\n{out}"
        );
    }
    // With the variable an `ENV` sets to a literal, it is where it says.
    let df = "FROM node:20-slim\nENV APP=/app\nWORKDIR /app\nCOPY package.json $APP/\nCOPY . .\nRUN npm install\n";
    assert_eq!(
        rewrite_unsafe_too(p.path(), df),
        "FROM node:20-slim\nENV APP=/app\nWORKDIR /app\nCOPY package.json $APP/\nCOPY package-lock.json ./\nRUN npm install\nCOPY . .\n"
    );
}

#[test]
fn paths_through_a_symbolic_link_a_run_made_reach_its_target() {
    // `ln -s /app/venv /env` makes /env/bin/pip write into /app/venv,
    // where the broad copy ships `venv/…/six.py`: hoisted, the copy put
    // the shipped six.py over pip's (measured with BuildKit,
    // python:3.12-slim: /app/venv/lib/python3.11/site-packages/six.py
    // 34549 bytes in the original's image, 4 in the hoisted one's).
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        ("venv/lib/python3.11/site-packages/six.py", "X=1\n"),
        (".dockerignore", ".git\n"),
    ]);
    for head in [
        "RUN python -m venv /app/venv && ln -s /app/venv /env\n",
        "RUN python -m venv /app/venv\nRUN ln -sf /app/venv /env\n",
        "RUN python -m venv /app/venv && cd / && ln -s app/venv env\n",
        "RUN mkdir /app && ln -s /app /env\nRUN python -m venv /env/venv\n",
        "RUN mkdir /app && ln -s /app /opt\nRUN python -m venv /opt/app/venv\n",
        "RUN python -m venv /app/venv && ln -s /app/venv /e1 && ln -s /e1 /env\n",
        "RUN mkdir -p /app/venv && ln -s /app/venv /env && python -m venv /env\n",
    ] {
        let bin = if head.contains("/env/venv") {
            "/env/venv/bin/pip"
        } else if head.contains("/opt/app") {
            "/opt/app/venv/bin/pip"
        } else {
            "/env/bin/pip"
        };
        let df = format!(
            "FROM python:3.12-slim\n{head}COPY . /app\nRUN {bin} install -r /app/requirements.txt\n"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{df}");
    }
    // A link made in the install's own `RUN`.
    let df = "FROM python:3.12-slim\nRUN python -m venv /app/venv\nCOPY . /app\nRUN ln -s /app/venv /env && /env/bin/pip install -r /app/requirements.txt\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{df}");
    // The copy ships nothing there: the install still moves.
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = "FROM python:3.12-slim\nRUN python -m venv /app/venv && ln -s /app/venv /env\nCOPY . /app\nRUN /env/bin/pip install -r /app/requirements.txt\n";
    let out = rewrite_unsafe_too(dir.path(), df);
    assert!(
        out.contains("COPY requirements.txt /app/\nRUN /env/bin/pip"),
        "{out}"
    );
}

#[test]
fn an_apt_commands_own_redirection_is_not_the_archives() {
    // review 44: the writes of an `apt-get`/`apt` install from the
    // archive may land in `/usr/local` and `/etc/npmrc` without counting
    // (no Debian package puts a file there), but its own redirection
    // (`apt-get install -y jq > /usr/local/etc/npmrc`) is the shell's:
    // it was taken as the archive's, so npm's global settings file
    // written by it left the install's lock kept and the hoist `[safe]`.
    let p = npm_project_at(&[]);
    for cmd in [
        "apt-get update && apt-get install -y jq >> /usr/local/etc/npmrc",
        "apt-get update > /usr/local/etc/npmrc && apt-get install -y jq",
        "apt-get update && apt-get install -y jq 2> /etc/npmrc",
        "apt-get update && apt-get install -y jq > /usr/local/sbin/npm",
        "apt-get update && apt-get install -y jq > /etc/apt/sources.list.d/x.list",
    ] {
        let df = format!("FROM node:20-slim\nWORKDIR /app\nRUN {cmd}\nCOPY . .\nRUN npm install\n");
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{cmd}");
    }
    // Output thrown away is no write: the install still moves.
    let df = "FROM node:20-slim\nWORKDIR /app\nRUN apt-get update > /dev/null && apt-get install -y jq > /dev/null 2>&1\nCOPY . .\nRUN npm install\n";
    assert_eq!(
        rewrite_unsafe_too(p.path(), df),
        "FROM node:20-slim\nWORKDIR /app\nRUN apt-get update > /dev/null && apt-get install -y jq > /dev/null 2>&1\nCOPY package.json package-lock.json ./\nRUN npm install\nCOPY . .\n"
    );
}

#[test]
fn a_shell_reading_startup_files_keeps_npm_install_below_the_copy() {
    // review 44: a login shell reads /etc/profile and /etc/profile.d/*.sh
    // before each `RUN`, bash the file `BASH_ENV` names: a variable set
    // there (`npm_config_lockfile_version=2`) makes `npm install`
    // rewrite the lock. Measured with BuildKit (node:20-slim, npm
    // 10.8.2), `SHELL ["/bin/bash", "-l", "-c"]`: the original's
    // package-lock.json had lockfileVersion 2, the rewrite's the
    // context's 3.
    let p = npm_project_at(&[]);
    for (setup, write) in [
        (
            "SHELL [\"/bin/bash\", \"-l\", \"-c\"]\n",
            "/etc/profile.d/npm.sh",
        ),
        (
            "SHELL [\"/bin/bash\", \"--login\", \"-c\"]\n",
            "/etc/profile.d/npm.sh",
        ),
        ("SHELL [\"/bin/bash\", \"-i\", \"-c\"]\n", "/root/.bashrc"),
        ("SHELL [\"/bin/zsh\", \"-c\"]\n", "/etc/zsh/zshenv"),
        (
            "SHELL [\"/bin/bash\", \"-c\"]\nENV BASH_ENV=/etc/npmenv\n",
            "/etc/npmenv",
        ),
    ] {
        let df = format!(
            "FROM node:20-slim\n{setup}WORKDIR /app\nRUN echo 'export npm_config_lockfile_version=2' > {write}\nCOPY . .\nRUN npm install\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{setup}");
    }
    // bash with options that read nothing still moves it.
    let df = "FROM node:20-slim\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-eux\", \"-c\"]\nWORKDIR /app\nCOPY . .\nRUN npm install\n";
    assert_eq!(
        rewrite_unsafe_too(p.path(), df),
        "FROM node:20-slim\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-eux\", \"-c\"]\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm install\nCOPY . .\n"
    );
}

#[test]
fn a_tar_extraction_reading_a_shipped_member_list_stays_below_the_copy() {
    // `-T`/`--files-from`, `-X`/`--exclude-from` and `-g` name files tar
    // reads besides the archive: a shipped one must be there first. They
    // were taken as the member names tar ignores, and the extraction moved
    // (with the apt install after it) above the copy, where tar finds no
    // list and the build fails.
    let dir = project(&[("members.txt", "a/b\n"), ("app.py", "x = 1\n")]);
    let apt = "RUN apt-get update && apt-get install -y curl\n";
    for tar in [
        "RUN tar -xzf /opt/a.tgz -T members.txt -C /usr/local\n",
        "RUN tar -xzf /opt/a.tgz -X members.txt -C /usr/local\n",
        "RUN tar -xzf /opt/a.tgz --exclude-from members.txt -C /usr/local\n",
        "RUN tar -xzf /opt/a.tgz --files-from=/app/members.txt -C /usr/local\n",
        "RUN tar -xz -g members.txt -f /opt/a.tgz -C /usr/local\n",
        "RUN curl -fsSL https://example.com/a.tgz | tar -xzT members.txt -C /usr/local\n",
    ] {
        let df = format!("FROM debian:bookworm-slim\nWORKDIR /app\nCOPY . .\n{tar}{apt}");
        let out = rewrite_unsafe_too(dir.path(), &df);
        let (t, c) = (out.find(tar.trim_end()), out.find("COPY . ."));
        assert!(t > c, "moved above the copy:\n{out}");
    }
}

/// npm runs the install scripts of the packages it installs with the
/// project's directory in `INIT_CWD`, and such a script may read and
/// write any file there: msw 2.7.0's postinstall copies its worker into
/// the project's `msw.workerDirectory`. Measured with BuildKit on
/// node:20-slim (npm 10.8.2): hoisted above `COPY . .`, the copy put back
/// the project's older `public/mockServiceWorker.js`, which the original's
/// install had replaced. A package the lock marks `hasInstallScript` keeps
/// the install below the copy, unless `--ignore-scripts` turns the
/// scripts off.
#[test]
fn dependency_install_scripts_keep_the_install_below_the_copy() {
    let package = "{\"name\":\"app\",\"version\":\"1.0.0\",\"dependencies\":{\"msw\":\"2.7.0\"},\"msw\":{\"workerDirectory\":[\"public\"]}}\n";
    let lock = |extra: &str| {
        format!(
            "{{\"name\":\"app\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"app\",\"version\":\"1.0.0\",\"dependencies\":{{\"msw\":\"2.7.0\"}}}},\"node_modules/msw\":{{\"version\":\"2.7.0\",\"resolved\":\"https://registry.npmjs.org/msw/-/msw-2.7.0.tgz\"{extra}}}}}}}\n"
        )
    };
    let with_script = lock(",\"hasInstallScript\":true");
    let without = lock("");
    let defaults = [
        ("package.json", package),
        ("public/mockServiceWorker.js", "/* msw 2.2.0 */\n"),
        ("index.js", "x\n"),
        (".dockerignore", "node_modules\n.git\n"),
    ];
    let df = |run: &str| {
        format!(
            "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD [\"node\", \"index.js\"]\n"
        )
    };
    for (files, run) in [
        (&[("package-lock.json", with_script.as_str())][..], "npm ci"),
        (
            &[("package-lock.json", with_script.as_str())][..],
            "npm install",
        ),
        (
            &[
                ("npm-shrinkwrap.json", with_script.as_str()),
                ("package-lock.json", without.as_str()),
            ][..],
            "npm ci",
        ),
    ] {
        let df = df(run);
        let (hoist, text) = crate::support::hoist_proposal(&defaults, &df, files);
        assert_eq!(text, df, "{run} {files:?}");
        let (a, why) = hoist.expect("a hoist");
        assert_ne!(a, Applicability::Safe, "{run}: {why}");
        assert!(
            why.contains("`node_modules/msw` with an install script"),
            "{why}"
        );
    }
    // The lock marks no install script, or the scripts are off: it moves.
    for (lock, run) in [
        (&without, "npm ci"),
        (&with_script, "npm ci --ignore-scripts"),
    ] {
        let files = [("package-lock.json", lock.as_str())];
        let (hoist, text) = crate::support::hoist_proposal(&defaults, &df(run), &files);
        let (a, why) = hoist.expect("a hoist");
        assert_eq!(a, Applicability::Safe, "{run}: {why}");
        assert_ne!(text, df(run));
    }
}

/// `python -m pip` and `python -m venv` put the working directory first
/// on `sys.path` before runpy imports `types` and `importlib.util` (and
/// venv `logging`, `shutil`, `subprocess`...): a shipped module named as
/// one of the standard library's is what runs (measured with BuildKit on
/// the python:3.12-slim stand-in, Python 3.11: a project's `types.py` ran
/// in `python3 -m venv /venv && /venv/bin/pip install -r
/// requirements.txt` after `COPY . .`, and its `__pycache__` and what it
/// wrote were in the original image only). A module of another name does
/// not count.
#[test]
fn python_m_reads_modules_named_as_the_standard_librarys_where_it_runs() {
    for (name, text) in [
        ("types.py", "print('the project types')\n"),
        ("operator.py", "from _operator import *\n"),
        ("logging/__init__.py", "\n"),
        ("shutil.cpython-311-x86_64-linux-gnu.so", "\x7fELF"),
        ("keyword.pyc", "\x00"),
    ] {
        let dir = project(&[
            ("requirements.txt", "six==1.16.0\n"),
            (name, text),
            ("app.py", "print(1)\n"),
            (".dockerignore", ".git\n"),
        ]);
        for run in [
            "RUN python3 -m venv /venv && /venv/bin/pip install -r requirements.txt",
            "RUN python -m pip install -r requirements.txt",
            "RUN python3 -m pip install -r requirements.txt",
        ] {
            let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{run}\n");
            assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{name}: {run}");
        }
    }
    // Modules of other names, and a directory that is no package.
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        ("typesafe.py", "x = 1\n"),
        ("logging/app.yaml", "x: 1\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN python3 -m venv /venv && /venv/bin/pip install -r requirements.txt",
        "RUN python -m pip install -r requirements.txt",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{run}\n");
        let out = rewrite_unsafe_too(dir.path(), &df);
        assert!(
            out.contains("COPY requirements.txt ./\nRUN python"),
            "{out}"
        );
    }
}

/// npm 7 and later run the project's `dependencies` script once an
/// install changed `node_modules`, and pnpm its `pnpm:devPreinstall`:
/// each may read and write any file. Measured with BuildKit
/// (node:20-slim, npm 10.8.2): with `"dependencies": "echo DEPSCRIPT >
/// dep-ran.txt"` and a shipped `dep-ran.txt`, `RUN npm ci` hoisted above
/// `COPY . .` let the copy put the old file back over the one the
/// original's install wrote.
#[test]
fn dependencies_and_dev_preinstall_scripts_keep_the_install_below_the_copy() {
    let lock = r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0","dependencies":{"ms":"2.1.3"}},"node_modules/ms":{"version":"2.1.3","resolved":"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz"}}}"#;
    for (script, run) in [
        ("dependencies", "npm ci"),
        ("dependencies", "npm install"),
        ("pnpm:devPreinstall", "pnpm install"),
    ] {
        let package = format!(
            "{{\"name\":\"app\",\"version\":\"1.0.0\",\"dependencies\":{{\"ms\":\"2.1.3\"}},\"scripts\":{{\"{script}\":\"echo DEPSCRIPT > dep-ran.txt\"}}}}\n"
        );
        let dir = project(&[
            ("package.json", &package),
            ("package-lock.json", lock),
            ("dep-ran.txt", "old\n"),
            ("index.js", "x\n"),
            (".dockerignore", "node_modules\n.git\n"),
        ]);
        let df = format!("FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{script}: {run}");
    }
}

/// npm runs the `dependencies` script's `pre` and `post` hooks with it:
/// `predependencies` and `postdependencies` (npm's arborist test "runs
/// dependencies script if tree changes"; measured, node:20-slim, npm
/// 10.8.2: `npm ci` and `npm install` ran both). Each may read and write
/// any file: hoisted above `COPY . .`, `RUN npm ci` let the copy put a
/// shipped `dep-ran.txt` back over the one the script wrote (BuildKit,
/// compare.sh: `/app/dep-ran.txt` differs).
#[test]
fn pre_and_post_dependencies_scripts_keep_the_install_below_the_copy() {
    let lock = r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0","dependencies":{"ms":"2.1.3"}},"node_modules/ms":{"version":"2.1.3","resolved":"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz"}}}"#;
    for script in ["predependencies", "postdependencies"] {
        for run in ["npm ci", "npm install", "npm ci --omit=dev"] {
            let package = format!(
                "{{\"name\":\"app\",\"version\":\"1.0.0\",\"dependencies\":{{\"ms\":\"2.1.3\"}},\"scripts\":{{\"{script}\":\"echo DEPSCRIPT > dep-ran.txt\"}}}}\n"
            );
            let dir = project(&[
                ("package.json", &package),
                ("package-lock.json", lock),
                ("dep-ran.txt", "old\n"),
                ("index.js", "x\n"),
                (".dockerignore", "node_modules\n.git\n"),
            ]);
            let df = format!("FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
            assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{script}: {run}");
        }
    }
}

/// A workspace member's `bin` is linked into `node_modules/.bin` and its
/// file made executable by the install (npm's bin-links; measured: npm
/// 10.8.2 `npm ci`, pnpm 9.15.9 and yarn 1.22.22 with `--ignore-scripts`
/// all made a shipped 0644 `packages/cli/bin/cli.js` 0755). Hoisted above
/// `COPY . .` with the member's package.json only, `RUN npm ci` found no
/// file to link (BuildKit, compare.sh: `/app/node_modules/.bin/mycli`
/// only in the original, `packages/cli/bin/cli.js` mode 0755 -> 0644).
#[test]
fn workspace_member_bins_keep_the_install_below_the_copy() {
    let lock = r#"{"name":"root","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"root","version":"1.0.0","workspaces":["packages/*"]},"node_modules/mycli":{"resolved":"packages/cli","link":true},"packages/cli":{"name":"mycli","version":"1.0.0","bin":{"mycli":"bin/cli.js"}}}}"#;
    for bin in [
        r#""bin": {"mycli": "bin/cli.js"}"#,
        r#""bin": "bin/cli.js""#,
        r#""directories": {"bin": "bin"}"#,
    ] {
        let member = format!("{{\"name\": \"mycli\", \"version\": \"1.0.0\", {bin}}}\n");
        let files = [
            (
                "package.json",
                "{\"name\":\"root\",\"version\":\"1.0.0\",\"workspaces\":[\"packages/*\"]}\n",
            ),
            ("package-lock.json", lock),
            ("packages/cli/package.json", member.as_str()),
            ("packages/cli/bin/cli.js", "#!/usr/bin/env node\n"),
            ("index.js", "x\n"),
            (".dockerignore", "node_modules\n.git\n"),
        ];
        let dir = project(&files);
        for run in ["npm ci", "npm install"] {
            let df = format!("FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
            assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{bin}: {run}");
        }
        let mut pnpm = files.to_vec();
        pnpm[0] = (
            "package.json",
            "{\"name\":\"root\",\"version\":\"1.0.0\",\"dependencies\":{\"mycli\":\"workspace:*\"}}\n",
        );
        pnpm[1] = ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
        pnpm.push(("pnpm-workspace.yaml", "packages:\n  - packages/*\n"));
        let dir = project(&pnpm);
        let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN pnpm install --ignore-scripts --frozen-lockfile\n";
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{bin}: pnpm");
    }
    // The same workspaces with a member that has no bin: both hoisted.
    let lock = r#"{"name":"root","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"root","version":"1.0.0","workspaces":["packages/*"]},"node_modules/mycli":{"resolved":"packages/cli","link":true},"packages/cli":{"name":"mycli","version":"1.0.0"}}}"#;
    let files = [
        (
            "package.json",
            "{\"name\":\"root\",\"version\":\"1.0.0\",\"workspaces\":[\"packages/*\"]}\n",
        ),
        ("package-lock.json", lock),
        (
            "packages/cli/package.json",
            "{\"name\": \"mycli\", \"version\": \"1.0.0\"}\n",
        ),
        ("packages/cli/bin/cli.js", "#!/usr/bin/env node\n"),
        ("index.js", "x\n"),
        (".dockerignore", "node_modules\n.git\n"),
    ];
    let dir = project(&files);
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    let mut pnpm = files.to_vec();
    pnpm[0] = (
        "package.json",
        "{\"name\":\"root\",\"version\":\"1.0.0\",\"dependencies\":{\"mycli\":\"workspace:*\"}}\n",
    );
    pnpm[1] = ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
    pnpm.push(("pnpm-workspace.yaml", "packages:\n  - packages/*\n"));
    let dir = project(&pnpm);
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN pnpm install --ignore-scripts --frozen-lockfile\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// A workspace install also writes each member's own `node_modules`
/// (npm and yarn nest a version the root cannot take there, pnpm links a
/// member's dependencies there), which a `.dockerignore` naming only
/// `node_modules` (the context's root one) ships from the developer's
/// tree. Measured with BuildKit (node:20-slim, npm 10.8.2, a member
/// needing ms 2.1.2 beside the root's 2.1.3, a stale file in the shipped
/// `packages/web/node_modules/ms`): the original's `npm ci` replaced the
/// nested package, the hoisted one's was overwritten by the copy
/// (`stale.txt` only in the rewritten image); with pnpm the copy failed
/// ("cannot copy to non-directory").
#[test]
fn shipped_member_node_modules_keep_a_workspace_install_below_the_copy() {
    let lock = r#"{"name":"root","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"root","version":"1.0.0","workspaces":["packages/*"],"dependencies":{"ms":"2.1.3"}},"node_modules/ms":{"version":"2.1.3","resolved":"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz"},"node_modules/web":{"resolved":"packages/web","link":true},"packages/web":{"name":"web","version":"1.0.0","dependencies":{"ms":"2.1.2"}},"packages/web/node_modules/ms":{"version":"2.1.2","resolved":"https://registry.npmjs.org/ms/-/ms-2.1.2.tgz"}}}"#;
    let files = |ignore: &'static str| {
        vec![
            (
                "package.json",
                "{\"name\":\"root\",\"version\":\"1.0.0\",\"workspaces\":[\"packages/*\"],\"dependencies\":{\"ms\":\"2.1.3\"}}\n",
            ),
            ("package-lock.json", lock),
            (
                "packages/web/package.json",
                "{\"name\":\"web\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.2\"}}\n",
            ),
            ("packages/web/index.js", "x\n"),
            ("packages/web/node_modules/ms/stale.txt", "stale\n"),
            (".dockerignore", ignore),
        ]
    };
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let dir = project(&files("node_modules\n.git\n"));
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    // pnpm, with scripts off.
    let mut pnpm = files("node_modules\n.git\n");
    pnpm[0] = (
        "package.json",
        "{\"name\":\"root\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}}\n",
    );
    pnpm[1] = ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
    pnpm.push(("pnpm-workspace.yaml", "packages:\n  - packages/*\n"));
    let dir = project(&pnpm);
    let pdf = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN pnpm install --ignore-scripts --frozen-lockfile\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), pdf), pdf);
    // Every node_modules left out of the context: hoisted.
    let dir = project(&files("**/node_modules\n.git\n"));
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// A repository whose compose file builds one Dockerfile for two services,
/// each from its own directory: `a`'s requirements pin a package, `b`'s
/// include `base.txt`.
fn two_service_repo() -> tempfile::TempDir {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
        ),
        (
            "compose.yaml",
            "services:\n  a:\n    build:\n      context: ./a\n      dockerfile: ../Dockerfile\n  b:\n    build:\n      context: ./b\n      dockerfile: ../Dockerfile\n",
        ),
        ("a/requirements.txt", "six==1.16.0\n"),
        ("a/app.py", "print(1)\n"),
        ("b/requirements.txt", "-r base.txt\n"),
        ("b/base.txt", "six==1.16.0\n"),
        ("b/app.py", "print(2)\n"),
    ]);
    let d = dir.path();
    crate::support::git(d, &["init", "-q", "-b", "main"]);
    crate::support::git(d, &["config", "user.name", "Dev"]);
    crate::support::git(d, &["config", "user.email", "dev@example.com"]);
    crate::support::git(d, &["add", "-A"]);
    crate::support::git(d, &["commit", "-q", "-m", "init"]);
    dir
}

#[test]
fn a_dockerfile_compose_builds_from_several_contexts_is_not_rewritten() {
    // The hoist is safe with `a` (inserting `COPY requirements.txt ./`)
    // but not with `b`, whose requirements include `base.txt`: measured,
    // the rewrite made for `a` failed to build from `b` ("Could not open
    // requirements file: base.txt") while the original built. Which
    // context a build uses is not known, so the file is left alone, with
    // an error that says how to name it.
    let dir = two_service_repo();
    let d = dir.path();
    let run = |args: &[&str]| {
        std::process::Command::new(crate::support::bin())
            .args(args)
            .current_dir(d)
            .output()
            .expect("run dockreorder")
    };
    let original = std::fs::read_to_string(d.join("Dockerfile")).expect("read");
    let out = run(&["--write", "Dockerfile"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("several contexts (`a`, `b`)"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(d.join("Dockerfile")).expect("read"),
        original,
        "nothing written"
    );
    let out = run(&["--check", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(2));
    // `verify` would build with one of them: it says so before building.
    let out = run(&["verify", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("several contexts"));
    // Naming the context decides it: with `b` the requirement include is
    // copied too, with `a` only the requirements.
    let out = run(&["--context", "b", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("+COPY requirements.txt base.txt ./"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // One service, or two with the same context: the compose file names it.
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  a:\n    build:\n      context: ./a\n      dockerfile: ../Dockerfile\n  c:\n    build:\n      context: a/\n      dockerfile: ../Dockerfile\n",
    )
    .expect("write");
    let out = run(&["Dockerfile"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("+COPY requirements.txt ./"));
}

#[test]
fn the_compose_context_is_used_without_history_too() {
    // With `--no-history` the compose file's context was not looked up:
    // the Dockerfile's own directory was taken as the context. Here the
    // compose file builds it from `b`, whose requirements include
    // `base.txt`, while the root holds a `requirements.txt` of its own.
    // Measured (scout55): the rewrite made without history
    // (`COPY requirements.txt ./` alone) failed to build from `b`
    // ("Could not open requirements file: base.txt") while the original
    // built; with history the include was copied too.
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
        ),
        (
            "compose.yaml",
            "services:\n  b:\n    build:\n      context: ./b\n      dockerfile: ../Dockerfile\n",
        ),
        ("requirements.txt", "six==1.16.0\n"),
        ("b/requirements.txt", "-r base.txt\n"),
        ("b/base.txt", "six==1.16.0\n"),
        ("b/app.py", "print(2)\n"),
    ]);
    let d = dir.path();
    let git = |args: &[&str]| crate::support::git(d, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.name", "Dev"]);
    git(&["config", "user.email", "dev@example.com"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "init"]);
    for args in [
        &["--no-history", "Dockerfile"][..],
        &["--no-history", "."][..],
        &["Dockerfile"][..],
    ] {
        let out = std::process::Command::new(crate::support::bin())
            .args(args)
            .current_dir(d)
            .output()
            .expect("run dockreorder");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("+COPY requirements.txt base.txt ./"),
            "{args:?}: {stdout}"
        );
    }
}

#[test]
fn the_bot_does_not_commit_a_rewrite_checked_against_uncommitted_files() {
    // The bot rewrites the committed Dockerfile, but the context it
    // checked the rewrite against was the work tree: with the committed
    // `requirements.txt` including `base.txt` and a local edit dropping
    // the include, it committed `COPY requirements.txt ./` alone, and the
    // commit failed to build ("Could not open requirements file:
    // base.txt"; measured, the original built).
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        ),
        ("requirements.txt", "-r base.txt\n"),
        ("base.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
    ]);
    let d = dir.path();
    let git = |args: &[&str]| crate::support::git(d, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.name", "Dev"]);
    git(&["config", "user.email", "dev@example.com"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "init"]);
    let bot = || {
        std::process::Command::new(crate::support::bin())
            .args([
                "--commit",
                "--branch",
                "dockreorder/reorder",
                "--pr-body",
                "pr.md",
            ])
            .current_dir(d)
            .output()
            .expect("run dockreorder")
    };
    let branch = || {
        std::process::Command::new("git")
            .args([
                "rev-parse",
                "--verify",
                "-q",
                "refs/heads/dockreorder/reorder",
            ])
            .current_dir(d)
            .output()
            .expect("git")
            .status
            .success()
    };
    // Modified, untracked or ignored: each is refused, nothing committed.
    for (file, text, ignore) in [
        ("requirements.txt", "six==1.16.0\n", None),
        ("local.txt", "x\n", None),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}\n",
            Some("package-lock.json\n"),
        ),
    ] {
        if let Some(rule) = ignore {
            std::fs::write(d.join(".git/info/exclude"), rule).expect("write");
        }
        std::fs::write(d.join(file), text).expect("write");
        let out = bot();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "`{file}` in the build context is not as committed"
            )),
            "{stderr}"
        );
        assert!(!branch(), "{file}: nothing committed");
        std::fs::remove_file(d.join(file)).expect("remove");
        git(&["checkout", "-q", "--", "."]);
    }
    // A clean checkout: the include is copied too; a local edit of the
    // Dockerfile itself (the committed one is rewritten) and the PR body
    // of the last run do not count.
    let out = bot();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = git(&["show", "dockreorder/reorder:Dockerfile"]);
    assert!(
        committed.contains("COPY requirements.txt base.txt ./"),
        "{committed}"
    );
    std::fs::write(d.join("Dockerfile"), "FROM python:3.12-slim\n").expect("write");
    let out = bot();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn system_packages_write_their_own_directories_in_usr_src() {
    // Debian packages ship source trees in /usr/src besides kernel headers
    // (googletest's /usr/src/googletest, binutils-source's
    // /usr/src/binutils/): with the context copied there, the install
    // hoisted above the copy let the copy put back the CMakeLists.txt the
    // package replaced (measured with BuildKit, bookworm's googletest
    // 1.12.1: /usr/src/googletest/CMakeLists.txt 860 -> 54 bytes).
    let files = [
        (
            "CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.13)\nproject(mytests)\n",
        ),
        ("notes.txt", "x\n"),
    ];
    let install = "RUN apt-get update && apt-get install -y --no-install-recommends googletest && rm -rf /var/lib/apt/lists/*\n";
    for (dir, from) in [
        ("/usr/src/googletest", "debian:bookworm-slim"),
        ("/usr/src/binutils", "debian:bookworm-slim"),
        ("/usr/src", "debian:bookworm-slim"),
        ("/usr/src/a", "alpine:3.20"),
        ("/usr/src/apps", "fedora:40"),
        ("/usr/src/ap", "debian:bookworm-slim"),
        ("/usr/src/linux-headers-6.1", "debian:bookworm-slim"),
    ] {
        let install = if from.starts_with("alpine") {
            "RUN apk add --no-cache googletest\n".to_string()
        } else if from.starts_with("fedora") {
            "RUN dnf install -y gtest-devel\n".to_string()
        } else {
            install.to_string()
        };
        let df = format!("FROM {from}\nWORKDIR {dir}\nCOPY . .\n{install}");
        assert_eq!(rewritten_in(&files, &df), df, "{dir}");
    }
    // `/usr/src/app`, where applications are copied, is none of theirs:
    // the install still moves above the copy.
    let df = format!("FROM debian:bookworm-slim\nWORKDIR /usr/src/app\nCOPY . .\n{install}");
    assert_eq!(
        rewritten_in(&files, &df),
        format!("FROM debian:bookworm-slim\nWORKDIR /usr/src/app\n{install}COPY . .\n")
    );
}

#[test]
fn download_and_archive_options_that_read_write_or_run_files_keep_their_place() {
    // curl, wget and tar have many options that read, write or run files;
    // only the ones the knowledge base names are understood. Measured
    // with BuildKit (python:3.12, GNU tar 1.34, curl 7.88): `curl -K cfg`
    // and `tar -T list` hoisted above the copy shipping `cfg`/`list`
    // failed ("error encountered when reading a file", "list: Cannot
    // stat"), and `tar -xzPf` (absolute member `/app/app.txt`) hoisted
    // above `COPY . .` left the copied app.txt where the archive's had
    // been.
    let files = [
        ("app.txt", "hello\n"),
        ("cfg", "url = \"http://127.0.0.1:8765/t.tgz\"\n"),
        ("list", "bin/x\n"),
        ("ca.pem", "x\n"),
        ("data", "x\n"),
        ("unz", "x\n"),
    ];
    let get = "curl -fsSL https://example.com/t.tgz -o /tmp/t.tgz";
    let unpack = "tar -xzf /tmp/t.tgz -C /usr/local";
    for run in [
        format!("curl -fsS -K cfg -o /tmp/t.tgz && {unpack}"),
        format!("curl --cacert ca.pem -fsSL https://example.com/t.tgz -o /tmp/t.tgz && {unpack}"),
        format!("curl -d @data -fsSL https://example.com/t.tgz -o /tmp/t.tgz && {unpack}"),
        format!("curl -fsSL -H @data https://example.com/t.tgz -o /tmp/t.tgz && {unpack}"),
        format!("curl $CURL_OPTS -fsSL https://example.com/t.tgz -o /tmp/t.tgz && {unpack}"),
        format!("wget --ca-certificate ca.pem -O /tmp/t.tgz https://example.com/t.tgz && {unpack}"),
        format!("wget -e robots=off -O /tmp/t.tgz https://example.com/t.tgz && {unpack}"),
        format!("{get} && {unpack} -T list"),
        format!("{get} && {unpack} -X list"),
        format!("{get} && {unpack} -I ./unz"),
        format!("{get} && {unpack} -g list"),
        format!("{get} && {unpack} -P"),
        format!("{get} && tar -xzPf /tmp/t.tgz -C /usr/local"),
        format!("{get} && tar xzPf /tmp/t.tgz -C /usr/local"),
        format!("{get} && {unpack} --keep-directory-symlink"),
    ] {
        let df = format!(
            "FROM python:3.12\nARG CURL_OPTS=\"-K cfg\"\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
        );
        assert_eq!(rewritten_in(&files, &df), df, "{run}");
    }
    // What they name is understood: the download still moves.
    for run in [
        format!("{get} && {unpack}"),
        format!(
            "curl -fsSL --retry 3 -H 'Accept: */*' https://example.com/t.tgz -o /tmp/t.tgz && {unpack} --strip-components=1"
        ),
        "wget -nv -O /tmp/t.tgz https://example.com/t.tgz && tar xzf /tmp/t.tgz -C /usr/local"
            .to_string(),
    ] {
        let df = format!("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(
            rewritten_in(&files, &df),
            format!("FROM python:3.12\nWORKDIR /app\nRUN {run}\nCOPY . .\n"),
            "{run}"
        );
    }
}

#[test]
fn a_file_built_by_another_frontend_is_left_as_it_is() {
    // `# syntax=` picks the frontend that reads the file: one other than
    // Docker's own gives each instruction its own meaning, which the model
    // does not know (h-rev47). Docker's own, from Docker Hub with any tag
    // or digest, is the model's.
    let dir = project(&[
        ("requirements.txt", "flask==3.0.0\n"),
        ("app.py", "x = 1\n"),
        (".dockerignore", ".git\n"),
    ]);
    let body =
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    for syn in [
        "tonistiigi/dockerfile:runmount20180618",
        "ghcr.io/acme/dockerfile:1",
        "docker/dockerfile-custom:1",
    ] {
        let df = format!("# syntax={syn}\n{body}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{syn}");
    }
    for syn in [
        "docker/dockerfile:1",
        "docker.io/docker/dockerfile:1.7-labs",
        "docker/dockerfile-upstream:master",
        " docker/dockerfile@sha256:0123",
    ] {
        let df = format!("# syntax={syn}\n{body}");
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "{syn}");
    }
}

#[test]
fn a_link_made_where_its_commands_cannot_be_read_aliases_every_later_path() {
    // `RUN if …; then ln -s /srv /app; fi` (shell the splitter does not
    // follow) made a link the model did not see, so `COPY . /srv` moved
    // below `RUN cat /app/config`: measured with BuildKit, the rewritten
    // file failed (`cat: /app/config: No such file`). A link made in a
    // shebang heredoc script or by `cp -s` is not read either.
    let dir = project(&[
        ("config", "x\n"),
        ("requirements.txt", "flask==3.0.0\n"),
        (".dockerignore", ".git\n"),
    ]);
    let tail = "COPY . /srv\nRUN cat /app/config > /etc/x\nRUN pip install flask==3.0.0\n";
    for link in [
        "RUN if [ -d /usr ]; then ln -s /srv /app; fi\n",
        "RUN for d in app; do ln -s /srv /$d; done\n",
        "RUN <<EOT\n#!/bin/sh\nln -s /srv /app\nEOT\n",
        "RUN <<EOT bash\nln -s /srv /app\nEOT\n",
        "RUN cp -rs /srv /app\n",
        "RUN python3 -c 'import os; os.symlink(\"/srv\", \"/app\")'\n",
        "RUN busybox ln -s /srv /app\n",
        "RUN [\"ln\", \"-s\", \"/srv\", \"/app\"]\n",
        "RUN [\"/bin/sh\", \"-c\", \"ln -s /srv /app\"]\n",
        "RUN find /srv -maxdepth 0 -exec ln -s {} /app \\;\n",
    ] {
        let df = format!("FROM python:3.12-slim\n{link}{tail}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{link}");
    }
    // A plain heredoc script is read: its link is followed like one on the
    // command line, and a script without links lets the copy move.
    let df = format!("FROM python:3.12-slim\nRUN <<EOT\nset -e\nln -s /srv /app\nEOT\n{tail}");
    assert!(rewrite_unsafe_too(dir.path(), &df).contains("COPY . /srv\nRUN cat /app/config"));
    let df = format!("FROM python:3.12-slim\nRUN <<EOT\nset -e\nmkdir -p /opt/x\nEOT\n{tail}");
    assert_ne!(rewrite_unsafe_too(dir.path(), &df), df);
}

#[test]
fn a_heredoc_script_that_reads_the_tree_stays_below_the_copy() {
    // A `RUN <<EOF` script is the RUN's command line: an install followed
    // by a build of the shipped sources, a script run from a file (`#!`),
    // or a heredoc fed to a command keep their place.
    let dir = project(crate::support::HEREDOC_NPM);
    for run in [
        "RUN <<EOT\nnpm ci\nnpm run build\nEOT\n",
        "RUN <<EOT\nnpm ci\nnode src/index.js > /out\nEOT\n",
        "RUN <<EOT\n#!/bin/sh\nnpm ci\nEOT\n",
        "RUN <<EOT sh\nnpm ci\nEOT\n",
        "RUN <<EOT\r\nnpm ci\r\nEOT\r\n",
        "RUN <<A <<B\nnpm ci\nA\nnpm ci\nB\n",
    ] {
        let df = format!("FROM node:20-slim\nWORKDIR /app\nCOPY . .\n{run}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
}

#[test]
fn an_application_directory_under_usr_local_is_not_a_toolchain() {
    // `WORKDIR /usr/local/app` (dockersamples' example-voting-app; h-scout48
    // n05, p09): every RUN reads /usr/** implicitly, so the copy there kept
    // every install below it. A directory of /usr/local that the official
    // base image does not have, outside the local hierarchy, is read only
    // when named, as under /opt. Measured with BuildKit (python:3.12-slim,
    // pip): identical images, the install CACHED after a source edit.
    let dir = node_app(("bin/tool", "x\n"));
    for from in ["node:20", "python:3.12-slim", "ruby:3.3", "golang:1.22"] {
        let df = format!("FROM {from}\nWORKDIR /usr/local/app\nCOPY . .\nRUN npm ci\n");
        assert_eq!(
            rewrite_all(dir.path(), &df),
            format!("FROM {from}\nWORKDIR /usr/local/app\n{HOISTED_NPM}"),
            "{from}"
        );
    }
    // The local hierarchy, what the image keeps there (Ruby's GEM_HOME,
    // Go's toolchain, Node.js's tarball files), an image whose /usr/local
    // is not known, a deeper directory, /usr/local itself, and a search
    // path naming it stay.
    for df in [
        "FROM node:20\nWORKDIR /usr/local/lib\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /usr/local/share\nCOPY . .\nRUN npm ci\n",
        "FROM ruby:3.3\nWORKDIR /usr/local/bundle\nCOPY . .\nRUN npm ci\n",
        "FROM golang:1.22\nWORKDIR /usr/local/go\nCOPY . .\nRUN npm ci\n",
        "FROM mycorp/node:20\nWORKDIR /usr/local/app\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /usr/local/tools/app\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /usr/local\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /usr/local/app\nENV PATH=/usr/local/app/bin:$PATH\nCOPY . .\nRUN npm ci\n",
    ] {
        assert_eq!(rewrite_all(dir.path(), df), df, "{df}");
    }
}

#[test]
fn a_run_reading_its_own_environment_through_proc_keeps_a_per_build_arg_above() {
    // h-rev48: `cat /proc/self/environ > /etc/env` prints the environment
    // of `cat`, which holds every variable in scope, but `cat` was taken to
    // read none: `ARG CACHEBUST=1` moved below the install [safe].
    // Measured with BuildKit (debian:bookworm-slim): /etc/env held
    // `CACHEBUST=1` in the original's image only (95 bytes against 83).
    let dir = project(STAMPED);
    let moved = |df: &str| rewrite_unsafe_too(dir.path(), df) != df;
    for tail in [
        "cat /proc/self/environ > /etc/env",
        "cp /proc/self/environ /etc/env",
        "sed -n p /proc/self/environ > /etc/env",
        "tr '\\0' '\\n' < /proc/self/environ > /etc/env",
        "cat /proc/thread-self/environ > /etc/env",
        "cd /proc/self && cat environ > /etc/env",
    ] {
        let df = format!(
            "FROM debian:bookworm-slim\nARG CACHEBUST=1\nRUN apt-get update && apt-get install -y tzdata && {tail}\nLABEL x=$CACHEBUST\n"
        );
        assert!(!moved(&df), "moved:\n{df}");
    }
    // Control: a file that is no process's state.
    let df = "FROM debian:bookworm-slim\nARG CACHEBUST=1\nRUN apt-get update && apt-get install -y tzdata && cat /etc/hostname > /etc/env\nLABEL x=$CACHEBUST\n";
    assert!(moved(df), "control did not move:\n{df}");
}

#[test]
fn maven_reads_any_variable_through_the_poms() {
    // h-rev48: a profile activated by `<property><name>env.BUILD_NUMBER`
    // (Jenkins' idiom) changes what `mvn dependency:go-offline` fetches,
    // but Maven was taken to honour its own variables only: `ARG
    // BUILD_NUMBER=0` moved below it [safe], and the rewritten build
    // fetched without the profile. Measured with Maven 3.8.7: the reactor
    // differs with BUILD_NUMBER set (the profile's module is required).
    // A parent POM from a repository may hold such a profile too, so
    // every variable counts.
    let pom = "<project>\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>x</groupId><artifactId>y</artifactId><version>1</version>\n  <profiles><profile><id>jenkins</id>\n    <activation><property><name>env.BUILD_NUMBER</name></property></activation>\n    <dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version></dependency></dependencies>\n  </profile></profiles>\n</project>\n";
    let dir = project(&[("pom.xml", pom), ("src/A.java", "class A {}\n")]);
    let moved = |df: &str| rewrite_unsafe_too(dir.path(), df) != df;
    for mvn in ["mvn dependency:go-offline", "mvn -B dependency:resolve"] {
        let df = format!(
            "FROM maven:3-eclipse-temurin-17\nARG BUILD_NUMBER=0\nWORKDIR /app\nCOPY pom.xml .\nRUN {mvn}\nCOPY . .\nLABEL build=$BUILD_NUMBER\n"
        );
        assert!(!moved(&df), "moved:\n{df}");
        // The install still moves above the broad copy, with what it reads.
        let df = format!(
            "FROM maven:3-eclipse-temurin-17\nWORKDIR /app\nCOPY . .\nENV CI=true\nRUN {mvn}\n"
        );
        assert!(moved(&df), "not hoisted:\n{df}");
    }
}

#[test]
fn a_per_build_arg_moved_down_is_the_instruction_reported_as_moved() {
    // h-rev48: the report said "moved `WORKDIR /app` above `RUN apt-get
    // …` (line 5)" for a WORKDIR that stood above that RUN already: the
    // net edit moved `ARG BUILD_DATE` (the reason's subject), and the
    // fewest moves could name either.
    let dir = project(STAMPED);
    let df = "FROM debian:bookworm-slim\nARG BUILD_DATE\nWORKDIR /app\nCOPY . .\nRUN apt-get update && apt-get install -y curl\nLABEL d=$BUILD_DATE\n";
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rewrite");
    assert_eq!(
        out.new_text,
        "FROM debian:bookworm-slim\nWORKDIR /app\nRUN apt-get update && apt-get install -y curl\nARG BUILD_DATE\nCOPY . .\nLABEL d=$BUILD_DATE\n"
    );
    let summaries: Vec<&str> = out
        .changes
        .iter()
        .filter(|c| c.applied)
        .map(|c| c.summary.as_str())
        .collect();
    assert!(
        summaries.contains(
            &"moved `ARG BUILD_DATE` below `RUN apt-get update && apt-get install -y curl` (line 5)"
        ),
        "{summaries:?}"
    );
    assert!(
        !summaries.iter().any(|s| s.contains("moved `WORKDIR")),
        "{summaries:?}"
    );
    // The place is one it crossed: the ARG stood above the split install
    // already ("moved `ARG VCS_REF` above `RUN pip install -r
    // requirements.txt` (line 7)" said before), and now follows the
    // merged system install of line 5.
    let df = "FROM debian:bookworm-slim\nARG VCS_REF\nWORKDIR /app\nRUN apt-get update\nRUN apt-get install -y curl\nCOPY . .\nRUN pip install -r requirements.txt && python app.py\nLABEL r=$VCS_REF\n";
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rewrite");
    assert!(
        out.new_text.contains(
            "RUN apt-get update && apt-get install -y curl\nARG VCS_REF\nCOPY requirements.txt ./\n"
        ),
        "{}",
        out.new_text
    );
    let moved: Vec<&str> = out
        .changes
        .iter()
        .filter(|c| c.applied && c.summary.starts_with("moved `ARG"))
        .map(|c| c.summary.as_str())
        .collect();
    assert_eq!(
        moved,
        ["moved `ARG VCS_REF` below `RUN apt-get update && apt-get install -y curl` (line 5)"]
    );
}

#[test]
fn global_installs_run_their_packages_scripts_in_the_working_directory() {
    // h-rev48: `npm install -g msw@2.7.0` and `yarn global add msw@2.7.0`
    // moved above `COPY . .` [safe], but the packages' install scripts run
    // with the working directory in `INIT_CWD`: msw's postinstall copies
    // its worker into the `msw.workerDirectory` that `$INIT_CWD/package.json`
    // names. Measured with BuildKit (node:20-slim, npm 10.8.2, yarn
    // 1.22.22): /project/public/mockServiceWorker.js was msw's (8144
    // bytes) in the original's image and the shipped one (17 bytes) in
    // the rewrite's, with either tool.
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"site\",\"version\":\"1.0.0\",\"private\":true,\"msw\":{\"workerDirectory\":[\"public\"]}}\n",
        ),
        ("public/mockServiceWorker.js", "/* old worker */\n"),
        ("index.html", "x\n"),
    ]);
    for run in [
        "npm install -g msw@2.7.0",
        "npm i --global msw@2.7.0",
        "npm_config_global=true npm install msw@2.7.0",
        "yarn global add msw@2.7.0",
    ] {
        let df = format!("FROM node:20-slim\nWORKDIR /project\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_all(dir.path(), &df), df, "{run}");
    }
    // With the scripts off, only the global folders are written.
    for run in [
        "npm install -g --ignore-scripts msw@2.7.0",
        "yarn global add --ignore-scripts msw@2.7.0",
    ] {
        let df = format!("FROM node:20-slim\nWORKDIR /project\nCOPY . .\nRUN {run}\n");
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
}

/// The Bundler settings admitted with `HOME` and in the install's own
/// `RUN` are only those measured to leave the lock alone, and the home's
/// settings are only the absent ones: another setting in the `RUN`
/// (`path`), a command after the install, a setting from a variable, a
/// `HOME` not known, a home only the broad copy makes (Bundler would use
/// a temporary home in the hoisted order), a home the context ships
/// settings, gems or XDG
/// folders into, one an earlier copy or `RUN` writes, or an earlier
/// install outside the Debian archive, each keeps the install below the
/// broad copy.
#[test]
fn bundler_settings_beside_the_install_and_in_the_home_keep_it_in_place() {
    use crate::support::{BUNDLER_LOCK, bundler_rewrite};
    let home =
        "FROM ruby:3.1\nENV HOME /home/app\nWORKDIR $HOME\nADD . $HOME\nRUN bundle install\n";
    type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "another setting in the RUN",
            "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle config set --local path vendor/bundle && bundle install\n".into(),
            vec![],
        ),
        (
            "a command after the install",
            "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle config set without test && bundle install && rm -rf /tmp/x\n".into(),
            vec![],
        ),
        (
            "a setting from a variable",
            "FROM ruby:3.1\nARG G=test\nWORKDIR /app\nCOPY . .\nRUN bundle config set without $G && bundle install\n".into(),
            vec![],
        ),
        (
            "a HOME not known",
            "FROM ruby:3.1\nARG H\nENV HOME=$H\nWORKDIR /app\nCOPY . .\nRUN bundle install\n".into(),
            vec![],
        ),
        (
            "the home's Bundler settings shipped",
            home.into(),
            vec![(".bundle/config", "---\nBUNDLE_FROZEN: \"false\"\n")],
        ),
        ("the home's gemrc shipped", home.into(), vec![(".gemrc", "gem: --no-document\n")]),
        (
            "user gems shipped into the home",
            home.into(),
            vec![(".gem/ruby/3.1.0/specifications/rake-13.0.6.gemspec", "x\n")],
        ),
        (
            "an XDG gemrc shipped into the home",
            home.into(),
            vec![(".config/gem/gemrc", "gem: --no-document\n")],
        ),
        (
            "an earlier copy into the home",
            "FROM ruby:3.1\nENV HOME /home/app\nCOPY conf/gemrc /home/app/.gemrc\nWORKDIR /srv\nCOPY . .\nRUN bundle install\n".into(),
            vec![("conf/gemrc", "gem: --no-document\n")],
        ),
        (
            "an earlier RUN writing the home's settings",
            "FROM ruby:3.1\nENV HOME /home/app\nRUN mkdir -p /home/app/.bundle && printf 'x' > /home/app/.bundle/config\nWORKDIR /srv\nCOPY . .\nRUN bundle install\n".into(),
            vec![],
        ),
        (
            "a home only the broad copy makes",
            "FROM ruby:3.1\nENV HOME=/app/home\nWORKDIR /app\nCOPY . .\nRUN bundle install\n".into(),
            vec![("home/.keep", "")],
        ),
        (
            "an earlier install from outside the archive",
            "FROM ruby:3.1\nRUN curl -fsSL https://example.org/x.tgz | tar -xz -C /usr/local\nWORKDIR /app\nCOPY . .\nRUN bundle install\n".into(),
            vec![],
        ),
    ];
    for (what, df, files) in &cases {
        let (hoist, text) = bundler_rewrite(df, files);
        if let Some((app, reason)) = hoist {
            assert_ne!(app, Applicability::Safe, "{what}: {reason}");
        }
        assert_eq!(&text, df, "{what}: nothing moves");
    }
    let _ = BUNDLER_LOCK;
}

/// A Gemfile's `ruby` line keeps the lock only with a `RUBY VERSION` of
/// that very version (Bundler 2.3.15 measured: without the section, or
/// with 3.1.1 locked for 3.1.2, it resolved again, from the index), and
/// a file it reads only by a literal name in the Gemfile's directory, whose
/// text is a plain version; Bundler 2.6 (Ruby 3.4) was not measured with
/// one.
#[test]
fn a_gemfile_ruby_line_keeps_the_lock_only_with_its_version_locked() {
    use crate::support::{BUNDLER_GEMFILE, BUNDLER_LOCK, bundler_rewrite};
    let locked = |v: &str| {
        BUNDLER_LOCK.replace(
            "\nBUNDLED WITH",
            &format!("\nRUBY VERSION\n   ruby {v}\n\nBUNDLED WITH"),
        )
    };
    let gemfile = |line: &str| {
        BUNDLER_GEMFILE.replace(
            "source 'https://rubygems.org'\n",
            &format!("source 'https://rubygems.org'\n{line}\n"),
        )
    };
    let read = "ruby File.read(\".ruby-version\").strip";
    let df = "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle install\n";
    let cases: Vec<(&str, &str, String, String, &str)> = vec![
        (
            "no RUBY VERSION",
            df,
            gemfile(read),
            BUNDLER_LOCK.into(),
            "3.1.2\n",
        ),
        (
            "another version locked",
            df,
            gemfile(read),
            locked("3.1.1p18"),
            "3.1.2\n",
        ),
        (
            "a version prefixed",
            df,
            gemfile(read),
            locked("3.1.2p20"),
            "ruby-3.1.2\n",
        ),
        (
            "two lines in the file",
            df,
            gemfile(read),
            locked("3.1.2p20"),
            "3.1.2\n3.1.3\n",
        ),
        (
            "a file above the Gemfile",
            df,
            gemfile("ruby File.read(\"../.ruby-version\").strip"),
            locked("3.1.2p20"),
            "3.1.2\n",
        ),
        (
            "a name from the environment",
            df,
            gemfile("ruby File.read(ENV.fetch(\"RV\")).strip"),
            locked("3.1.2p20"),
            "3.1.2\n",
        ),
        (
            "not stripped",
            df,
            gemfile("ruby File.read(\".ruby-version\")"),
            locked("3.1.2p20"),
            "3.1.2\n",
        ),
        (
            "a requirement",
            df,
            gemfile("ruby '~> 3.1'"),
            locked("3.1.2p20"),
            "3.1.2\n",
        ),
        (
            "Bundler 2.6",
            "FROM ruby:3.4\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
            gemfile("ruby '3.4.1'"),
            locked("3.4.1p0").replace("2.3.15", "2.6.7"),
            "3.4.1\n",
        ),
    ];
    for (what, df, gemfile, lock, version) in &cases {
        let (hoist, text) = bundler_rewrite(
            df,
            &[
                ("Gemfile", gemfile),
                ("Gemfile.lock", lock),
                (".ruby-version", version),
            ],
        );
        if let Some((app, reason)) = hoist {
            assert_ne!(app, Applicability::Safe, "{what}: {reason}");
        }
        assert_eq!(&text, df, "{what}: nothing moves");
    }
}

/// A pip configuration file `PIP_CONFIG_FILE` names in the broad copy's
/// destination is copied with the requirements only when its options name
/// no file: `find-links`, a `file:` index, `target`, `constraint`, an
/// option not known, or a line not understood keep the install in place
/// (the hoisted install would read a path only the broad copy brings).
#[test]
fn a_pip_config_file_naming_files_keeps_the_install_in_place() {
    let df = "FROM python:3.12-slim\nENV PIP_CONFIG_FILE=/app/pip.conf\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n";
    for conf in [
        "[global]\nfind-links = wheels\n",
        "[global]\nindex-url = file:///app/wheels\n",
        "[install]\ntarget = lib\n",
        "[install]\nconstraint = constraints.txt\n",
        "[global]\nextra-index-url =\n    https://pypi.org/simple\n    ./wheels\n",
        "[install]\nsrc = src\n",
        "[global]\nno-index\n",
    ] {
        let dir = project(&[
            ("requirements.txt", "six==1.16.0\n"),
            ("pip.conf", conf),
            ("constraints.txt", "six==1.16.0\n"),
            ("wheels/six-1.16.0-py2.py3-none-any.whl", "x"),
            ("main.py", "x\n"),
            (".dockerignore", ".git\n"),
        ]);
        let ctx = Context::new(
            dir.path().to_path_buf(),
            Some(&dir.path().join("Dockerfile")),
        );
        let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).unwrap();
        assert_eq!(out.new_text, df, "{conf}");
        assert!(
            out.changes
                .iter()
                .all(|c| c.applicability != Applicability::Safe),
            "{conf}"
        );
    }
}

/// pip's requirement files are checked wherever pip runs: `WORKDIR /srv`,
/// `COPY . /app`, `pip install -r /app/requirements.txt` with `--no-index
/// --find-links /app/wheels` in it was hoisted `Safe` with the
/// requirements alone, as the checks ran only for an install in the
/// copy's destination (measured with BuildKit: the original built, the
/// rewrite failed, "No matching distribution found for six==1.16.0").
/// The same holds for a pip configuration file named by
/// `PIP_CONFIG_FILE`.
#[test]
fn pip_checks_hold_for_an_install_outside_the_copys_destination() {
    let files: &[(&str, &str)] = &[
        (
            "requirements.txt",
            "--no-index\n--find-links /app/wheels\nsix==1.16.0\n",
        ),
        ("wheels/six-1.16.0-py2.py3-none-any.whl", "x"),
        ("main.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . /app\nRUN pip install --no-cache-dir -r /app/requirements.txt\n";
    let conf_df = "FROM python:3.12-slim\nENV PIP_CONFIG_FILE=/app/pip.conf\nWORKDIR /srv\nCOPY . /app\nRUN pip install --no-cache-dir -r /app/requirements.txt\n";
    let conf_files: &[(&str, &str)] = &[
        ("requirements.txt", "six==1.16.0\n"),
        (
            "pip.conf",
            "[global]\nno-index = true\nfind-links = /app/wheels\n",
        ),
        ("wheels/six-1.16.0-py2.py3-none-any.whl", "x"),
        (".dockerignore", ".git\n"),
    ];
    for (df, files) in [(df, files), (conf_df, conf_files)] {
        let dir = project(files);
        let ctx = Context::new(
            dir.path().to_path_buf(),
            Some(&dir.path().join("Dockerfile")),
        );
        let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).unwrap();
        assert_eq!(out.new_text, df, "{df}");
        assert!(
            out.changes
                .iter()
                .all(|c| c.applicability != Applicability::Safe),
            "{df}"
        );
    }
}

#[test]
fn a_cd_that_may_fail_before_a_newline_or_semicolon_is_not_followed() {
    // h-rev49: in a heredoc script (`sh -c BODY`, no `set -e`) or after
    // `;`, a failing `cd` does not stop the script: the next command runs
    // where the shell was. `cd /nonexistent` / `cat config > /etc/x` was
    // taken to read `/nonexistent/config`, so `COPY . .` (WORKDIR /srv)
    // moved below it [safe]. Measured with BuildKit (python:3.12-slim,
    // the one-line `RUN cd /nonexistent; cat config > /etc/x`): the
    // original built (`can't cd`, then `cat` read /srv/config), the
    // rewritten failed (`cat: config: No such file or directory`).
    let dir = project(&[
        ("config", "x\n"),
        ("requirements.txt", "flask==3.0.0\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN cd /nonexistent; cat config > /etc/x\n",
        "RUN <<EOT\ncd /nonexistent\ncat config > /etc/x\nEOT\n",
        // A cd in an and-or list: when it fails, `||` and the next list
        // run where the shell was, with `set -e` too.
        "RUN cd /nonexistent && true || cat config > /etc/x\n",
        "RUN <<EOT\nset -e\ncd /nonexistent && true\ncat config > /etc/x\nEOT\n",
        "RUN <<EOT\nset -e\ntrue && cd /nonexistent\ncat config > /etc/x\nEOT\n",
        "RUN <<EOT\nset -e\nset +e\ncd /nonexistent\ncat config > /etc/x\nEOT\n",
        "RUN cd /nonexistent && true & cat config > /etc/x\n",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\n{run}RUN pip install flask==3.0.0\n"
        );
        assert!(
            rewrite_unsafe_too(dir.path(), &df).contains(&format!("COPY . .\n{run}")),
            "{run}"
        );
    }
    // With `set -e` a failing `cd` alone on its line ends the script, and
    // a `cd` joined by `&&` holds for the rest of its list: followed.
    for run in [
        "RUN <<EOT\nset -eux\ncd /nonexistent\ncat config > /etc/x\nEOT\n",
        "RUN cd /nonexistent && cat config > /etc/x\n",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\n{run}RUN pip install flask==3.0.0\n"
        );
        assert!(
            !rewrite_unsafe_too(dir.path(), &df).contains(&format!("COPY . .\n{run}")),
            "{run}"
        );
    }
}

#[test]
fn a_frozen_setting_that_is_off_does_not_keep_the_lock() {
    // h-rev49: `RUN BUNDLE_FROZEN=false bundle install` was taken to be a
    // frozen install (the variable was set, whatever its value), so it
    // moved above `COPY . .` [safe] with a lock Bundler rewrites (its
    // DEPENDENCIES out of order). Measured with BuildKit (ruby:3.1
    // stand-in, Bundler 2.3.15, compare.sh): `/app/Gemfile.lock` differs,
    // the copy put the old lock back over the one Bundler wrote. Bundler
    // reads `false`, `f`, `no`, `n` and `0` (any case) and an empty value
    // as off; the command's own assignment overrides `ENV`.
    use crate::support::{BUNDLER_LOCK, bundler_rewrite};
    let lock = BUNDLER_LOCK.replace(
        "  minitest (~> 5.15)\n  rake\n",
        "  rake\n  minitest (~> 5.15)\n",
    );
    assert_ne!(lock, BUNDLER_LOCK);
    for (env, run) in [
        ("", "RUN BUNDLE_FROZEN=false bundle install\n"),
        ("", "RUN BUNDLE_DEPLOYMENT=0 bundle install\n"),
        ("", "RUN BUNDLE_FROZEN= bundle install\n"),
        (
            "ENV BUNDLE_FROZEN=true\n",
            "RUN BUNDLE_FROZEN=false bundle install\n",
        ),
        ("ENV BUNDLE_FROZEN=no\n", "RUN bundle install\n"),
        ("ENV BUNDLE_DEPLOYMENT=False\n", "RUN bundle install\n"),
    ] {
        let df = format!("FROM ruby:3.1\n{env}WORKDIR /app\nCOPY . .\n{run}");
        let (hoist, _) = bundler_rewrite(&df, &[("Gemfile.lock", &lock)]);
        assert!(
            hoist.is_none_or(|(app, _)| app != Applicability::Safe),
            "{df}"
        );
    }
    // On: the lock is left alone, the install moves.
    for df in [
        "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN BUNDLE_FROZEN=true bundle install\n",
        "FROM ruby:3.1\nENV BUNDLE_FROZEN=1\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
    ] {
        let (hoist, _) = bundler_rewrite(df, &[("Gemfile.lock", &lock)]);
        assert!(
            hoist.is_some_and(|(app, _)| app == Applicability::Safe),
            "{df}"
        );
    }
}

#[test]
fn a_link_an_unread_run_may_extract_or_move_aliases_every_later_path() {
    // h-rev49: a `RUN` whose commands are not read counted as making a
    // link only when its text named `ln`, a `symlink` call or `cp -s`;
    // one extracting an archive that holds `app -> /srv` did not, so
    // `COPY . /srv` moved below `RUN cat /app/config` [safe]. Measured
    // with BuildKit (python:3.12-slim, `RUN if [ -f /tmp/links.tar ];
    // then tar -xf /tmp/links.tar -C /; fi`): the original built, the
    // rewritten failed (`cat /app/config`, exit 1).
    let dir = project(&[
        ("config", "x\n"),
        ("links.tar", "not read\n"),
        ("requirements.txt", "flask==3.0.0\n"),
        (".dockerignore", ".git\n"),
    ]);
    let tail = "COPY . /srv\nRUN cat /app/config > /etc/x\nRUN pip install flask==3.0.0\n";
    for link in [
        "RUN if [ -f /tmp/links.tar ]; then tar -xf /tmp/links.tar -C /; fi\n",
        "RUN if [ -f /tmp/l.zip ]; then unzip /tmp/l.zip -d /; fi\n",
        "RUN for l in /tmp/l; do mv $l /app; done\n",
        "RUN if [ -d /tmp/d ]; then cp -a /tmp/d/app /app; fi\n",
    ] {
        let df = format!("FROM python:3.12-slim\nCOPY links.tar /tmp/\n{link}{tail}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{link}");
    }
}

#[test]
fn a_local_archive_add_unpacks_may_hold_links_below_its_destination() {
    // `ADD links.tar /` unpacks the archive, whose entries may be
    // symbolic links (`app -> /srv`): measured with BuildKit, moving
    // `COPY . /srv` below `RUN cat /app/config` made the rewrite fail to
    // build (h-rev49). A path below the destination may be any path.
    let dir = project(&[
        ("links.tar", "not read\n"),
        ("config", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    let tail = "COPY . /srv\nRUN cat /app/config > /etc/x\nRUN pip install flask==3.0.0\n";
    for add in ["ADD links.tar /\n", "WORKDIR /\nADD links.tar .\n"] {
        let df = format!("FROM python:3.12-slim\n{add}{tail}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{add}");
    }
    // Below another destination, paths elsewhere are as written.
    let df = format!("FROM python:3.12-slim\nADD links.tar /opt/tool/\n{tail}");
    assert_ne!(rewrite_unsafe_too(dir.path(), &df), df);
}

#[test]
fn exec_form_runs_that_read_the_tree_stay_below_the_copy() {
    // An exec-form RUN is now read as its argv (scout50): what it runs
    // must still keep it below the copy when it reads the shipped tree, a
    // root lifecycle script runs, or a shell it starts runs more.
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"scripts\":{\"prepare\":\"cp src/a.js dist.js\"},\"dependencies\":{}}",
        ),
        (
            "package-lock.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{\"\":{\"name\":\"a\",\"version\":\"1.0.0\"}}}\n",
        ),
        ("src/a.js", "x\n"),
        ("requirements.txt", "six==1.16.0\n"),
        ("manage.py", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ]);
    for (base, run) in [
        ("node:20-slim", "RUN [\"npm\", \"ci\"]\n"),
        ("node:20-slim", "RUN [\"npm\", \"run\", \"build\"]\n"),
        ("node:20-slim", "RUN [\"node\", \"src/a.js\"]\n"),
        (
            "node:20-slim",
            "RUN [\"sh\", \"-c\", \"npm ci --ignore-scripts && node src/a.js\"]\n",
        ),
        (
            "python:3.12-slim",
            "RUN [\"python\", \"manage.py\", \"collectstatic\"]\n",
        ),
        (
            "python:3.12-slim",
            "RUN [\"pip\", \"install\", \"-r\", \"$REQS\"]\n",
        ),
        (
            "python:3.12-slim",
            "RUN [\"/bin/sh\", \"-c\", \"pip install -r requirements.txt && python -m compileall .\"]\n",
        ),
        ("python:3.12-slim", "RUN [\"pip\", \"install\", \".\"]\n"),
        (
            "python:3.12-slim",
            "RUN [\"sh\", \"-c\", \"cat 'manage.py' > /x\"]\n",
        ),
    ] {
        let df = format!("FROM {base}\nWORKDIR /app\nCOPY . .\n{run}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
}

#[test]
fn a_dollar_or_tilde_the_shell_keeps_as_written_is_not_expanded() {
    // `pip install -r '$REQS'` with `ENV REQS=requirements.txt` reads the
    // file named `$REQS`: the single quotes keep the `$`, as a backslash
    // does, and an exec-form RUN expands nothing. The analysis read it as
    // `requirements.txt` and moved the install above the copy with that
    // file only: measured with BuildKit (python:3.12-slim, scout50
    // x-quoted-dollar), the original built and the rewritten failed
    // (`Could not open requirements file: … '$REQS'`). A quoted leading
    // `~` is no home either (`'~/requirements.txt'` is below the working
    // directory; x-tilde).
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("$REQS", "six==1.16.0\n"),
        ("~/requirements.txt", "six==1.16.0\n"),
        ("main.py", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN pip install -r '$REQS'\n",
        "RUN pip install -r '${REQS}'\n",
        "RUN pip install -r \\$REQS\n",
        "RUN pip install -r \"\\$REQS\"\n",
        "RUN [\"pip\", \"install\", \"-r\", \"$REQS\"]\n",
        "RUN [\"pip\", \"install\", \"-r\", \"${REQS}\"]\n",
        "RUN pip install -r '~/requirements.txt'\n",
        "RUN pip install -r \"~/requirements.txt\"\n",
        "RUN pip install -r \\~/requirements.txt\n",
        "RUN [\"pip\", \"install\", \"-r\", \"~/requirements.txt\"]\n",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nENV REQS=requirements.txt\nWORKDIR /app\nCOPY . .\n{run}"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
    // The variable itself, unquoted or in double quotes, is still read.
    for run in [
        "RUN pip install -r $REQS\n",
        "RUN pip install -r \"${REQS}\"\n",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nENV REQS=requirements.txt\nWORKDIR /app\nCOPY . .\n{run}"
        );
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
}

/// A line of the knowledge base audit (issue 11, capability 6): what a
/// base utility reads or writes besides its path arguments. Each shape
/// below was moved above `COPY . .` as Safe (with the install behind it)
/// and, built with BuildKit on debian:bookworm-slim, the rewrite made
/// another image or failed: sed's `r` read the copied file before it was
/// there (/etc/issue differed), `w` wrote a file the copy then replaced,
/// `e` ran `cat` on a missing file, `-f fix.sed` named a copied script
/// (the rewrite failed), `chmod --reference=run.sh` a copied file (the
/// rewrite failed).
#[test]
fn what_a_sed_script_or_a_reference_file_names_is_read() {
    let dir = project(&[
        ("extra.conf", "x\n"),
        ("fix.sed", "s/a/b/\n"),
        ("run.sh", "#!/bin/sh\n"),
        ("issue.txt", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    let install = "RUN apt-get update && apt-get install -y --no-install-recommends file\n";
    for run in [
        "RUN sed -i '$r /app/extra.conf' /etc/issue\n",
        "RUN sed -i '/^Debian/r extra.conf' /etc/issue\n",
        "RUN sed -i -e 's/a/b/' -e '$R extra.conf' /etc/issue\n",
        "RUN sed -n '1w /app/issue.txt' /etc/issue\n",
        "RUN sed -n 's/Debian/x/w issue.txt' /etc/issue\n",
        "RUN sed -i '1e cat /app/issue.txt' /etc/issue\n",
        "RUN sed -i 's/^/cat issue.txt/e' /etc/issue\n",
        "RUN sed -i --expression='$W issue.txt' /etc/issue\n",
        "RUN sed -i -f fix.sed /etc/issue\n",
        "RUN sed -i -nf fix.sed /etc/issue\n",
        "RUN sed -i --file=fix.sed /etc/issue\n",
        "RUN sed -i \"s/a/$V/\" /etc/issue\n",
        "RUN chmod --reference=run.sh /etc/issue\n",
        "RUN chmod --reference run.sh /etc/issue\n",
        "RUN chown --reference=run.sh /etc/issue\n",
        "RUN touch --reference=run.sh /etc/issue\n",
    ] {
        let df =
            format!("FROM debian:bookworm-slim\nARG V\nWORKDIR /app\nCOPY . .\n{run}{install}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
    // Scripts that only edit the files they are given still move with
    // the install (nothing else is read).
    for run in [
        "RUN sed -i 's#:/home/app:#:/srv/app:#' /etc/passwd\n",
        "RUN sed -i -e '2a export X=1' -e '/^#/d' /etc/bash.bashrc\n",
        "RUN sed -ri 's/^(DSHELL)=.*/\\1=\\/bin\\/bash/; 2,/x/{s/y/z/g}' /etc/adduser.conf\n",
    ] {
        let df = format!("FROM debian:bookworm-slim\nWORKDIR /app\nCOPY . .\n{run}{install}");
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
}

/// Options that name a file a package manager or downloader reads,
/// relative to where it runs: apt-get's `-c FILE` (apt-get(8)) and a
/// `file:` URL given to curl. Measured with BuildKit: `apt-get install
/// -c apt.conf` and `curl -o /etc/app.conf file:///app/app.conf` moved
/// above `COPY . .` as Safe; both rewrites failed to build.
#[test]
fn a_configuration_file_or_file_url_an_option_names_is_read() {
    let dir = project(&[
        ("apt.conf", "APT::Install-Recommends \"false\";\n"),
        ("app.conf", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN apt-get update && apt-get install -c apt.conf -y curl\n",
        "RUN apt-get update && apt-get install --config-file=apt.conf -y curl\n",
        "RUN apt-get update -capt.conf && apt-get install -y curl\n",
        "RUN curl -fsS -o /etc/app.conf file:///app/app.conf\n",
        "RUN curl -fsS -o /etc/app.conf --url FILE:///app/app.conf\n",
        "RUN curl -fsS -o /etc/app.conf --url=file:app.conf\n",
    ] {
        let df = format!("FROM debian:bookworm-slim\nWORKDIR /app\nCOPY . .\n{run}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
    // A download over HTTPS still moves.
    let df = "FROM debian:bookworm-slim\nWORKDIR /app\nCOPY . .\nRUN curl -fsS -o /etc/app.conf https://example.org/app.conf\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    // With URL globbing, `#1` in the output name stands for what the glob
    // matched (curl docs, "URL globbing"): `-o 'app_#1'` writes
    // app_a.conf, which the copy ships too.
    let dir = project(&[("app_a.conf", "x\n"), (".dockerignore", ".git\n")]);
    let df = "FROM debian:bookworm-slim\nWORKDIR /app\nCOPY . .\nRUN curl -fsS -o 'app_#1' 'https://example.org/{a.conf,b.conf}'\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
}

/// More of the audit: options that name a configuration file, a
/// repository or the place a tool writes, relative to where it runs. The
/// gem, npm and corepack shapes were measured with BuildKit (ruby:3.1
/// stand-in, node:20-slim): with `install: --no-document` in the shipped
/// gemrc, the rewrite's `gem install --config-file gemrc` wrote the ri
/// documentation; `npm config set --location project` made /app/.npmrc
/// before the copy replaced it; `corepack enable --install-directory
/// /app/bin` failed before the copy made /app/bin. The apk and dnf
/// shapes come from their documentation (no such image here); the pnpm
/// and pip ones were not moved before either and stay as guards.
#[test]
fn options_naming_a_tool_configuration_or_target_are_not_passed_over() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{}}",
        ),
        (
            "package-lock.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{\"\":{\"name\":\"a\",\"version\":\"1.0.0\"}}}",
        ),
        (".npmrc", "audit=false\n"),
        ("gemrc", "install: --no-document\n"),
        ("repos", "x\n"),
        ("repo/x.apk", "x\n"),
        ("dnf.conf", "x\n"),
        ("bin/pnpm", "x\n"),
        (".dockerignore", "node_modules\n"),
    ]);
    for (base, runs) in [
        (
            "node:20-slim",
            &[
                "RUN npm config set --location project fund false\nRUN npm ci --ignore-scripts\n",
                "RUN npm config set -g fund false && npm config set --userconfig x y\nRUN npm ci --ignore-scripts\n",
                "RUN corepack enable --install-directory /app/bin\nRUN npm ci --ignore-scripts\n",
                "RUN pnpm config set --location project x y\nRUN npm ci --ignore-scripts\n",
            ][..],
        ),
        (
            "ruby:3.2",
            &["RUN gem install --local --config-file gemrc /g/hi-1.0.gem\n"][..],
        ),
        (
            "alpine:3.20",
            &[
                "RUN apk add --repositories-file repos curl\n",
                "RUN apk add --keys-dir keys --allow-untrusted curl\n",
                "RUN apk add -X repo --allow-untrusted curl\n",
            ][..],
        ),
        (
            "fedora:40",
            &[
                "RUN dnf install -c dnf.conf -y curl\n",
                "RUN dnf makecache -c dnf.conf\n",
            ][..],
        ),
    ] {
        for run in runs {
            let df = format!("FROM {base}\nWORKDIR /app\nCOPY . .\n{run}");
            let got = rewrite_unsafe_too(dir.path(), &df);
            let copy_first = got.find("COPY . .").expect("the copy");
            let first_run = got.find("\nRUN ").expect("a RUN");
            assert!(copy_first < first_run, "{run}moved:\n{got}");
        }
    }
    // pip under another interpreter installs into its environment.
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --python /opt/venv/bin/python six\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
}

/// `export X` of a shell variable assigned earlier in the `RUN`, a new
/// value for a variable of the environment (`ENV PIP_TARGET` then
/// `PIP_TARGET=/app/lib;`), and `set -a` (every later assignment
/// exported) give the commands after them variables the entry's
/// `path_env` names. Measured with BuildKit (python:3.12-slim, pip
/// --upgrade, a shipped lib/six.py): moved above `COPY . .` as Safe,
/// pip installed into /app/lib, where the copy then replaced six.py.
#[test]
fn variables_exported_inside_a_run_are_seen_by_its_commands() {
    let dir = project(&[
        ("requirements.txt", "six\n"),
        ("lib/six.py", "x = 1\n"),
        (".dockerignore", ".git\n"),
    ]);
    let pip = "pip install --upgrade -r requirements.txt";
    for (env, run) in [
        (
            "",
            format!("RUN PIP_TARGET=/app/lib; export PIP_TARGET; {pip}\n"),
        ),
        (
            "",
            format!("RUN PIP_TARGET=/app/lib && export PIP_TARGET && {pip}\n"),
        ),
        (
            "ENV PIP_TARGET=/opt/x\n",
            format!("RUN PIP_TARGET=/app/lib; {pip}\n"),
        ),
        (
            "",
            format!("RUN export PIP_TARGET=/opt/x && PIP_TARGET=/app/lib && {pip}\n"),
        ),
        ("", format!("RUN set -a && PIP_TARGET=/app/lib && {pip}\n")),
        ("", format!("RUN set -ea; PIP_TARGET=/app/lib; {pip}\n")),
        (
            "",
            format!("RUN set -eo allexport; PIP_TARGET=/app/lib; {pip}\n"),
        ),
    ] {
        let df = format!("FROM python:3.12-slim\n{env}WORKDIR /app\nCOPY . .\n{run}");
        let got = rewrite_unsafe_too(dir.path(), &df);
        assert_eq!(got, df, "{run}");
    }
    // A shell variable that is not exported reaches no command, and
    // `set -euo pipefail` exports nothing: these still move.
    for run in [
        format!("RUN PIP_TARGET=/app/lib; {pip}\n"),
        format!("RUN set -euo pipefail; {pip}\n"),
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{run}");
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
}

/// pip's newer options that read a file the value does not name, or that
/// it names without looking like a path: `--group dev` (pip 25.1,
/// ./pyproject.toml's dependency group), `--build-constraint FILE`,
/// `--requirements-from-script FILE` (`pip install --help`, pip 26.3).
/// Measured with BuildKit (python:3.12-slim, pip upgraded to 26.3):
/// `pip install --group dev` moved above `COPY . .` as Safe, and the
/// rewrite failed ("pyproject.toml not found").
#[test]
fn pip_options_reading_project_files_keep_the_install_in_place() {
    let dir = project(&[
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\nversion = \"0\"\n[dependency-groups]\ndev = [\"six\"]\n",
        ),
        ("bc.txt", "setuptools<70\n"),
        (
            "tool.py",
            "# /// script\n# dependencies = [\"six\"]\n# ///\n",
        ),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN pip install --group dev\n",
        "RUN pip install --group=dev\n",
        "RUN pip install --gro dev\n",
        "RUN pip install --build-constraint bc.txt six\n",
        "RUN pip install --requirements-from-script tool.py\n",
        "RUN pip download --group dev -d /wheels\n",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{run}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
}

/// .NET options whose value names a file or folder relative to where the
/// command runs, whatever it looks like (dotnet restore and dotnet tool
/// install docs): a local feed (`-s packages`, `--add-source packages`),
/// a NuGet configuration (`--configfile nuget.config`), the tool path it
/// installs into, another tool manifest. Each moved above `COPY . .` as
/// Safe before (no .NET image here to build them).
#[test]
fn dotnet_options_naming_local_feeds_and_files_are_reads() {
    let dir = project(&[
        ("nuget.config", "<configuration/>\n"),
        ("packages/a.1.0.0.nupkg", "x\n"),
        ("m.json", "{}\n"),
        ("tools/x", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN dotnet tool install --global --configfile nuget.config dotnet-ef\n",
        "RUN dotnet tool install --global --add-source packages dotnet-ef\n",
        "RUN dotnet tool install --tool-path tools dotnet-ef\n",
        "RUN dotnet tool install --global --tool-manifest m.json dotnet-ef\n",
    ] {
        let df = format!("FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /app\nCOPY . .\n{run}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
    let dir = project(&[
        ("nuget.config", "<configuration/>\n"),
        ("packages/a.1.0.0.nupkg", "x\n"),
        (
            "app.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>\n",
        ),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN dotnet restore -s packages\n",
        "RUN dotnet restore --source packages app.csproj\n",
    ] {
        let df = format!("FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /app\nCOPY . .\n{run}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
}

/// `pnpm fetch` reads pnpm's settings besides the lock: pnpm 10 keeps
/// them in pnpm-workspace.yaml too, where `storeDir` moves the store.
/// Measured with BuildKit (node:20-slim, pnpm 10.12.1, `storeDir:
/// ./store`): hoisted with the lock alone as Safe, the rewrite put the
/// packages in /root/.local/share/pnpm/store instead of /app/store. A
/// workspace file is now copied with the lock, and one whose settings
/// may name files (or move the store) keeps the fetch in place.
#[test]
fn pnpm_fetch_reads_the_workspace_settings() {
    let lock = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      is-number:\n        specifier: 7.0.0\n        version: 7.0.0\n";
    let df = "FROM node:20-slim\nRUN npm install -g pnpm@10.12.1\nWORKDIR /app\nCOPY . .\nRUN pnpm fetch\n";
    let dir = project(&[
        ("pnpm-lock.yaml", lock),
        ("package.json", "{\"name\":\"a\",\"version\":\"1.0.0\"}"),
        ("pnpm-workspace.yaml", "storeDir: ./store\n"),
        (".dockerignore", "node_modules\n"),
    ]);
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
    let dir = project(&[
        ("pnpm-lock.yaml", lock),
        ("package.json", "{\"name\":\"a\",\"version\":\"1.0.0\"}"),
        ("pnpm-workspace.yaml", "packages:\n  - \".\"\n"),
        (".dockerignore", "node_modules\n"),
    ]);
    let got = rewrite_unsafe_too(dir.path(), df);
    assert!(
        got.contains("COPY pnpm-lock.yaml pnpm-workspace.yaml ./\nRUN pnpm fetch\n"),
        "{got}"
    );
}

/// A lone update is merged by prefixing its text and ` && ` to the
/// install: only when that text is one command with nothing after it. A
/// trailing comment turned the install into part of the comment (measured
/// with BuildKit: curl was missing from the merged image), a trailing `;`
/// or `&` made `; &&`, a syntax error (the rewritten build failed).
#[test]
fn a_lone_update_ending_in_a_comment_or_an_operator_is_not_merged() {
    let dir = project(&[("app.py", "x\n")]);
    for update in [
        "apt-get update # refresh",
        "apt-get update\t# refresh",
        "apt-get update;",
        "apt-get update &",
        "apk update ;",
    ] {
        let install = if update.starts_with("apk") {
            "apk add curl"
        } else {
            "apt-get install -y curl"
        };
        let df = format!("FROM debian:bookworm-slim\nRUN {update}\nRUN {install}\n");
        assert_eq!(rewrite_any(dir.path(), &df), df, "{update}");
    }
    // A plain update still merges, a redirection kept.
    let df = "FROM debian:bookworm-slim\nRUN apt-get update > /dev/null 2>&1\nRUN apt-get install -y curl\n";
    assert_eq!(
        rewrite_any(dir.path(), df),
        "FROM debian:bookworm-slim\nRUN apt-get update > /dev/null 2>&1 && apt-get install -y curl\n"
    );
}

/// A `cd DIR` (or `composer -d DIR`) needs DIR to exist: when only the
/// broad copy makes it and no manifest below it is copied first, the
/// install may not move above the copy. `RUN cd tools && pip install
/// six==1.16.0 && python run.py` was split and its install moved above
/// `COPY . .` [safe]; measured with BuildKit (python:3.12-slim): the
/// rewritten build failed (`cd: can't cd to tools`).
#[test]
fn a_directory_only_the_broad_copy_makes_keeps_a_cd_into_it_below_the_copy() {
    let dir = project(&[
        ("tools/run.py", "x\n"),
        (
            "web/package.json",
            "{\"name\":\"w\",\"version\":\"1.0.0\",\"private\":true,\"dependencies\":{}}",
        ),
        (
            "web/package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN cd tools && pip install six==1.16.0 && python run.py\n",
        "RUN cd tools && pip install six==1.16.0\n",
        "RUN cd /app/tools && apt-get update && apt-get install -y curl && python run.py\n",
    ] {
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{run}");
        assert_eq!(rewrite_any(dir.path(), &df), df, "{run}");
    }
    // Into the destination of a copy no WORKDIR made.
    let df = "FROM python:3.12-slim\nCOPY . /srv/app\nRUN cd /srv/app && pip install six==1.16.0\n";
    assert_eq!(rewrite_any(dir.path(), df), df);
    // The copy writes in its destination: a `cd` into it stays below
    // (this one was moved, and the rewrite then refused: exit 2).
    let df =
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN cd /app && pip install six==1.16.0\n";
    assert_eq!(rewrite_any(dir.path(), df), df);
    // A manifest copied first makes its directory.
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci && npm run build\n";
    assert_eq!(
        rewrite_any(dir.path(), df),
        "FROM node:20-slim\nWORKDIR /app\nCOPY web/package.json web/package-lock.json ./web/\nRUN cd web && npm ci\nCOPY . .\nRUN cd web && npm run build\n"
    );
}

/// Each applied change's fix (SARIF) may be applied alone. With a merge
/// and a split in one file, the inserted lines were one block given to
/// the merge, and the split's fix only deleted `RUN npm ci && npm run
/// build`: applied alone it removed the install and the build, the
/// merge's alone ran both twice. Such fixes are now one, carried by the
/// first change.
#[test]
fn each_changes_fix_applied_alone_runs_every_command_once() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"private\":true,\"dependencies\":{}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("index.js", "x\n"),
        (".dockerignore", "node_modules\n"),
    ]);
    let df = "FROM node:20-slim\nWORKDIR /app\n\n# build it\nCOPY . .\nRUN apt-get update\nRUN apt-get install -y curl\nRUN npm ci && npm run build\n";
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rewrite");
    assert!(out.new_text.contains("RUN npm ci\n"), "{}", out.new_text);
    let count = |t: &str, s: &str| t.matches(s).count();
    let mut fixes = 0;
    for c in out.changes.iter().filter(|c| !c.edits.is_empty()) {
        fixes += 1;
        let alone = rewrite::edit::apply(df, &c.edits).expect("edits apply");
        for cmd in [
            "npm ci",
            "npm run build",
            "apt-get update",
            "apt-get install -y curl",
        ] {
            assert_eq!(
                count(&alone, cmd),
                1,
                "{cmd} in the fix of {}:\n{alone}",
                c.summary
            );
        }
    }
    assert!(fixes >= 1);
}

/// An expansion that assigns (`${NAME:=word}`, `${NAME=word}`, arithmetic)
/// sets a shell variable for the rest of the `RUN`: the first part of a
/// split may not hold one. `RUN : ${MSG:=hello} && npm ci && echo $MSG >
/// msg.txt` was split after `npm ci` [safe]; measured with BuildKit
/// (node:20-slim), `/app/msg.txt` held `hello` in the original and an
/// empty line in the rewrite.
#[test]
fn an_expansion_that_assigns_in_the_install_part_keeps_the_run_whole() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"private\":true,\"dependencies\":{}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("index.js", "x\n"),
        (".dockerignore", "node_modules\n"),
    ]);
    for run in [
        "RUN : ${MSG:=hello} && npm ci && echo $MSG > msg.txt\n",
        "RUN echo ${MSG:=hello} && npm ci && echo $MSG > msg.txt\n",
        "RUN true ${MSG=hello} && npm ci && echo $MSG > msg.txt\n",
        "RUN printf \"%s\" \"${MSG:=hi}\" && npm ci && echo $MSG > msg.txt\n",
        "RUN npm ci --loglevel=${LEVEL:=warn} && echo $LEVEL > level.txt\n",
    ] {
        // Left whole (moved whole, the shell intact, or not at all).
        let df = format!("FROM node:20-slim\nWORKDIR /app\nCOPY . .\n{run}");
        let out = rewrite_any(dir.path(), &df);
        assert!(out.contains(run), "{run}:\n{out}");
    }
    // A default that assigns nothing still splits.
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN echo ${MSG:-hello} && npm ci && npm run build\n";
    assert_ne!(rewrite_any(dir.path(), df), df);
}

#[test]
fn an_assignment_that_may_not_happen_keeps_the_install_in_place() {
    // Review 51: the value of a variable a command of the RUN assigns was
    // taken as certain. In a pipeline or the background the assignment
    // runs in a subshell, after `||` (or a `&&` whose left side fails,
    // with commands after its list) it does not run, and `dash` keeps an
    // assignment written before a special built-in (`X=v :`). Measured
    // with python:3.12-slim: the rewrites copied other.txt (or
    // requirements.txt) above the install while pip read the other file
    // ("Could not open requirements file", build failed).
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("other.txt", "idna==3.7\n"),
        ("app.py", "print(1)\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), None);
    for run in [
        "true || REQ=other.txt; pip install -r $REQ",
        "REQ=other.txt | cat; pip install -r $REQ",
        "REQ=other.txt & pip install -r $REQ",
        "export REQ=other.txt | true; pip install -r $REQ",
        "false && REQ=other.txt; pip install -r $REQ",
        "true && export REQ=other.txt; pip install -r $REQ",
        "REQ=other.txt :; pip install -r $REQ",
        "REQ=other.txt export A=1; pip install -r $REQ",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nENV REQ=requirements.txt\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
        );
        let out = rewrite::rewrite(&df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
        assert_eq!(out.new_text, df, "{run}: {:#?}", out.changes);
    }
    // Certain assignments are still followed.
    for run in [
        "REQ=other.txt; pip install -r $REQ",
        "true && REQ=other.txt && pip install -r $REQ",
        "export REQ=other.txt && pip install -r $REQ",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nENV REQ=requirements.txt\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
        );
        let out = rewrite::rewrite(&df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
        assert_eq!(
            out.new_text,
            format!(
                "FROM python:3.12-slim\nENV REQ=requirements.txt\nWORKDIR /app\nCOPY other.txt ./\nRUN {run}\nCOPY . .\n"
            ),
            "{run}"
        );
    }
}

#[test]
fn a_path_in_a_named_home_is_not_taken_as_relative() {
    // Review 51: `pip install --target ~root/lib` writes /root/lib (the
    // shell expands `~root`; bash also expands `~+`, the working
    // directory), which the model read as the relative path `~root/lib`
    // and moved the install above `COPY . /root/lib`. Measured with
    // python:3.12-slim: the images differed
    // (/root/lib/__pycache__/six.cpython-311.pyc).
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("six.py", "print('mine')\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), None);
    for target in ["~root/lib", "~+/lib"] {
        for opt in ["--target", "--prefix", "--root"] {
            let df = format!(
                "FROM python:3.12-slim\nWORKDIR /root\nCOPY requirements.txt /tmp/\nCOPY . /root/lib\nRUN pip install {opt} {target} -r /tmp/requirements.txt\n"
            );
            let out =
                rewrite::rewrite(&df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
            assert_eq!(out.new_text, df, "{opt} {target}: {:#?}", out.changes);
        }
    }
}

#[test]
fn export_before_the_assignment_exports_the_value() {
    // Review 51: `export X` of an unset X marks it, and a later `X=v`
    // exports v (POSIX). The model kept such an assignment a shell
    // variable: `RUN export PIP_TARGET; PIP_TARGET=/root/lib; pip
    // install …` moved above `COPY . /root/lib` `[safe]`, and the image
    // differed (measured with BuildKit, python:3.12-slim:
    // /root/lib/__pycache__/six.cpython-311.pyc).
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("six.py", "print('mine')\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), None);
    for run in [
        "export PIP_TARGET; PIP_TARGET=/root/lib; pip install -r /tmp/requirements.txt",
        "export PIP_TARGET && PIP_TARGET=/root/lib && pip install -r /tmp/requirements.txt",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nCOPY requirements.txt /tmp/\nCOPY . /root/lib\nRUN {run}\n"
        );
        let out = rewrite::rewrite(&df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
        assert_eq!(out.new_text, df, "{run}: {:#?}", out.changes);
    }
}

#[test]
fn an_empty_search_path_entry_is_the_working_directory() {
    // Review 51: an empty entry of `PATH` is the working directory
    // (POSIX), and the analysis dropped it: with `ENV
    // PATH=:/usr/local/bin:/usr/bin:/bin`, `RUN pip install -r
    // requirements.txt` moved above the `COPY . .` that ships `./pip`.
    // Measured with BuildKit (python:3.12-slim): shell form, the original
    // ran the shipped `pip` and the rewrite the real one (images
    // differed); exec form, the original failed ("cannot run executable
    // found relative to current directory") and the rewrite built.
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("pip", "#!/bin/sh\necho fake > /app/fake.txt\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), None);
    for path in [
        ":/usr/local/bin:/usr/bin:/bin",
        "/usr/local/sbin::/usr/local/bin:/usr/bin:/bin",
    ] {
        for run in [
            "pip install -r requirements.txt",
            "[\"pip\", \"install\", \"-r\", \"requirements.txt\"]",
        ] {
            let df = format!(
                "FROM python:3.12-slim\nENV PATH={path}\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
            );
            let out =
                rewrite::rewrite(&df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
            assert_eq!(out.new_text, df, "{path} {run}: {:#?}", out.changes);
        }
    }
}

/// Review 51 noticed, not built: `ENV LD_LIBRARY_PATH=/opt/lib:$LD_LIBRARY_PATH`
/// on a base that does not set the variable is `/opt/lib:`, whose empty
/// entry the loader takes for the working directory (ld.so(8): "a
/// zero-length directory name indicates the current working directory";
/// Python's and Java's paths likewise): a library the copy ships there
/// may be loaded by the install. The inherited value was dropped as if it
/// held system directories only. `PATH` stays as it was: BuildKit gives
/// every `RUN` one.
#[test]
fn an_inherited_search_path_that_may_be_unset_leaves_the_working_directory_in_it() {
    let p = project(&[("requirements.txt", "six==1.16.0\n"), ("app.py", "x\n")]);
    let ctx = Context::new(p.path().to_path_buf(), None);
    for env in [
        "LD_LIBRARY_PATH=/opt/lib:$LD_LIBRARY_PATH",
        "PYTHONPATH=${PYTHONPATH}:/opt/lib",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nENV {env}\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        );
        let out = rewrite::rewrite(&df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
        assert_eq!(out.new_text, df, "{env}: {:#?}", out.changes);
    }
    let df = "FROM python:3.12-slim\nENV PATH=/opt/bin:$PATH\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
    assert_ne!(out.new_text, df, "PATH is always set");
}

#[test]
fn a_variable_name_split_by_quotes_is_not_joined() {
    // Review 51: quote removal joined a `$NAME` across a quote or a
    // backslash: `'$'REQ` (a literal `$REQ`), `$RE\Q` and `"$RE"Q` (`$RE`
    // then `Q`) were each expanded as `$REQ`. Measured with BuildKit
    // (python:3.12-slim, a context with files `$REQ` and `otherQ`,
    // `ENV RE=other`): the originals built, the rewrites (copying
    // `requirements.txt` only) failed.
    let p = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("$REQ", "idna==3.7\n"),
        ("otherQ", "idna==3.7\n"),
    ]);
    let ctx = Context::new(p.path().to_path_buf(), None);
    for word in [
        "'$'REQ",
        "$RE\\Q",
        "\"$RE\"Q",
        "$'REQ'",
        "$\"REQ\"",
        "\"$\"{REQ}",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nENV REQ=requirements.txt\nENV RE=other\nWORKDIR /app\nCOPY . .\nRUN pip install -r {word}\n"
        );
        let out = rewrite::rewrite(&df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
        assert_eq!(out.new_text, df, "{word}: {:#?}", out.changes);
    }
    // A name that quotes enclose whole is still followed.
    let df = "FROM python:3.12-slim\nENV REQ=requirements.txt\nWORKDIR /app\nCOPY . .\nRUN pip install -r \"$REQ\"\n";
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rw");
    assert_ne!(out.new_text, df);
}

/// Review 51: pnpm loads `.pnpmfile.cjs` (code) for `pnpm fetch` too.
/// Measured with BuildKit (node:20-slim, pnpm 9.15.4): a pnpmfile writing
/// /app/hooked.txt ran in the original's fetch and not in the fetch
/// hoisted with the lock alone; the images differed (/app/hooked.txt only
/// in the original).
#[test]
fn pnpm_fetch_runs_the_pnpmfile() {
    let lock = "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n  .: {}\n";
    let df = "FROM node:20-slim\nRUN npm install -g pnpm@9.15.4\nWORKDIR /app\nCOPY . .\nRUN pnpm fetch --frozen-lockfile\n";
    for name in [".pnpmfile.cjs", ".pnpmfile.mjs"] {
        let dir = project(&[
            ("pnpm-lock.yaml", lock),
            ("package.json", "{\"name\":\"x\",\"version\":\"1.0.0\"}"),
            (
                name,
                "require('fs').writeFileSync('/app/hooked.txt','1')\nmodule.exports={hooks:{}}\n",
            ),
        ]);
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{name}");
    }
}

/// pnpm hard-links `node_modules` to its store: in one `RUN`, a build
/// that appends to an installed file changes the store's file too; split
/// in two `RUN`s, the build's layer gets a copy and the store keeps the
/// install's text (measured with BuildKit, pnpm 9.15.9 on `node:20-slim`:
/// the store's `ms/index.js` unpatched in the rewrite). An install that
/// may link files is split off only from a rest whose code is read.
#[test]
fn a_linking_install_is_not_split_from_code_that_may_write_in_place() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"},\"scripts\":{\"build\":\"node build.js\"}}",
        ),
        (
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n  .:\n    dependencies:\n      ms:\n        specifier: 2.1.3\n        version: 2.1.3\n\npackages:\n\n  ms@2.1.3:\n    resolution: {integrity: sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==}\n\nsnapshots:\n\n  ms@2.1.3: {}\n",
        ),
        (
            "build.js",
            "require('fs').appendFileSync('node_modules/ms/index.js', '//patched')\n",
        ),
        (".dockerignore", ".git\nnode_modules\n"),
    ]);
    for run in [
        "pnpm install --frozen-lockfile --ignore-scripts && pnpm build",
        "pnpm install --frozen-lockfile --ignore-scripts && node build.js",
    ] {
        let df = format!(
            "FROM node:20-slim\nRUN npm install -g pnpm@9.15.9\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "split:\n{df}");
    }
    // A rest the knowledge base reads is still split off.
    let df = "FROM node:20-slim\nRUN npm install -g pnpm@9.15.9\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile --ignore-scripts && chmod +x build.js\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// esbuild's postinstall makes its `bin/esbuild` a hard link to the
/// platform package's binary: in one `RUN`, a build appending to one name
/// changes both; split in two, the build's layer gets a copy and the
/// other name keeps the install's file (measured with BuildKit, npm
/// 10.8.2 on `node:20-slim`, esbuild 0.21.5: `RUN npm ci && ./build.sh`
/// split, `node_modules/esbuild/bin/esbuild` differed). An npm install
/// whose lock lists such a package (or one whose script is not known, or
/// that cannot be read) is split off only from a rest whose code is read.
#[test]
fn an_npm_install_whose_scripts_link_is_not_split_from_code_that_may_write_in_place() {
    let esbuild = "\"node_modules/esbuild\":{\"version\":\"0.21.5\",\"resolved\":\"https://registry.npmjs.org/esbuild/-/esbuild-0.21.5.tgz\",\"integrity\":\"sha512-AAAA\",\"hasInstallScript\":true},\"node_modules/@esbuild/linux-x64\":{\"version\":\"0.21.5\",\"resolved\":\"https://registry.npmjs.org/@esbuild/linux-x64/-/linux-x64-0.21.5.tgz\",\"integrity\":\"sha512-AAAA\",\"optional\":true,\"os\":[\"linux\"],\"cpu\":[\"x64\"]}";
    let ms = "\"node_modules/ms\":{\"version\":\"2.1.3\",\"resolved\":\"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\"integrity\":\"sha512-AAAA\"}";
    let lock = |entries: &str| {
        format!(
            "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"esbuild\":\"0.21.5\",\"ms\":\"2.1.3\"}}}},{entries}}}}}"
        )
    };
    let files = |entries: &str| {
        project(&[
            (
                "package.json",
                "{\"name\":\"a\",\"dependencies\":{\"esbuild\":\"0.21.5\",\"ms\":\"2.1.3\"}}",
            ),
            ("package-lock.json", &lock(entries)),
            (
                "build.sh",
                "#!/bin/sh\nprintf '#x\\n' >> node_modules/@esbuild/linux-x64/bin/esbuild\n",
            ),
            (".dockerignore", ".git\nnode_modules\n"),
            ("index.js", "x\n"),
        ])
    };
    let df = |run: &str| {
        format!(
            "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD [\"node\", \"index.js\"]\n"
        )
    };
    let linking = files(&format!("{esbuild},{ms}"));
    for run in [
        "npm ci && ./build.sh",
        "npm ci --omit dev && npm run build",
        "npm install && ./build.sh",
    ] {
        let df = df(run);
        assert_eq!(rewrite_unsafe_too(linking.path(), &df), df, "split:\n{df}");
    }
    // Without scripts, or with a lock whose packages run none, the split
    // is made.
    let quiet = df("npm ci --ignore-scripts && ./build.sh");
    assert_ne!(rewrite_unsafe_too(linking.path(), &quiet), quiet);
    let plain = files(ms);
    let split = df("npm ci && ./build.sh");
    assert_ne!(rewrite_unsafe_too(plain.path(), &split), split);
}

/// A hard link the rest of a split makes to a file a linking install
/// wrote (`ln` without `-s`, `cp -l`) copies that file up into the rest's
/// layer, which breaks the install's own link (esbuild's `bin/esbuild` to
/// its platform package's binary): measured with BuildKit (node:20-slim,
/// npm 10.8.2, esbuild 0.21.5), `RUN npm ci && ln
/// node_modules/esbuild/bin/esbuild /usr/local/bin/esbuild` split in two
/// left `node_modules/esbuild/bin/esbuild` a file of its own (also with
/// `cp -al node_modules /opt/nm`). Such a rest is not split off (the
/// whole `RUN` may still move, as measured: identical).
#[test]
fn a_linking_install_is_not_split_from_a_rest_that_hard_links() {
    let esbuild = "\"node_modules/esbuild\":{\"version\":\"0.21.5\",\"resolved\":\"https://registry.npmjs.org/esbuild/-/esbuild-0.21.5.tgz\",\"integrity\":\"sha512-AAAA\",\"hasInstallScript\":true},\"node_modules/@esbuild/linux-x64\":{\"version\":\"0.21.5\",\"resolved\":\"https://registry.npmjs.org/@esbuild/linux-x64/-/linux-x64-0.21.5.tgz\",\"integrity\":\"sha512-AAAA\",\"optional\":true,\"os\":[\"linux\"],\"cpu\":[\"x64\"]}";
    let ms = "\"node_modules/ms\":{\"version\":\"2.1.3\",\"resolved\":\"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\"integrity\":\"sha512-AAAA\"}";
    let files = |entries: &str| {
        let lock = format!(
            "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"esbuild\":\"0.21.5\",\"ms\":\"2.1.3\"}}}},{entries}}}}}"
        );
        project(&[
            (
                "package.json",
                "{\"name\":\"a\",\"dependencies\":{\"esbuild\":\"0.21.5\",\"ms\":\"2.1.3\"}}",
            ),
            ("package-lock.json", &lock),
            (".dockerignore", ".git\nnode_modules\n"),
            ("index.js", "x\n"),
        ])
    };
    let df = |run: &str| format!("FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
    let linking = files(&format!("{esbuild},{ms}"));
    for run in [
        "npm ci && ln node_modules/esbuild/bin/esbuild /usr/local/bin/esbuild",
        "npm ci && cp -al node_modules /opt/nm",
        "npm ci && cp --link -r node_modules /opt/nm",
    ] {
        let df = df(run);
        let out = rewrite_unsafe_too(linking.path(), &df);
        assert!(!out.contains("\nRUN npm ci\n"), "split:\n{out}");
    }
    // A symbolic link breaks none; a lock whose packages link nothing
    // keeps no link to break.
    let symbolic =
        df("npm ci && ln -s /app/node_modules/esbuild/bin/esbuild /usr/local/bin/esbuild");
    assert!(rewrite_unsafe_too(linking.path(), &symbolic).contains("\nRUN npm ci\n"));
    let plain = files(ms);
    let hard = df("npm ci && ln node_modules/ms/index.js /opt/ms.js");
    assert!(rewrite_unsafe_too(plain.path(), &hard).contains("\nRUN npm ci\n"));
}

/// With `CDPATH` set, `cd web` goes to the first of its directories that
/// holds `web`: after the broad copy `/app/packages/web`, before it (the
/// move inserting `web/`'s manifests) `/app/web` (measured with BuildKit
/// on `node:20-slim`: `node_modules` only in `/app/web` in the rewrite).
/// `export -n X` (bash) unexports X: the commands after it do not see it.
#[test]
fn a_cd_under_cdpath_and_an_export_with_options_are_not_followed() {
    let lock = "{\"name\":\"a\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{\"\":{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}},\"node_modules/ms\":{\"version\":\"2.1.3\",\"resolved\":\"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\"integrity\":\"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\"license\":\"MIT\"}}}\n";
    let manifest = "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}}";
    let dir = project(&[
        ("web/package.json", manifest),
        ("web/package-lock.json", lock),
        ("packages/web/package.json", manifest),
        ("packages/web/package-lock.json", lock),
        ("requirements.txt", "six==1.16.0\n"),
        ("server.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ]);
    for (env, run) in [
        ("ENV CDPATH=/app/packages\n", "cd web && npm ci"),
        ("", "CDPATH=/app/packages; cd web && npm ci"),
        ("", "export CDPATH=/app/packages && cd web && npm ci"),
        (
            "",
            "PIP_TARGET=/opt/lib; export PIP_TARGET; export -n PIP_TARGET; pip install -r requirements.txt",
        ),
    ] {
        let df = format!("FROM node:20-slim\nWORKDIR /app\n{env}COPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "moved:\n{df}");
    }
    // Without `CDPATH` the same `cd` is followed, and moves.
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// A manifest named through a variable after an `ARG` is the default's
/// file only: `--build-arg REQ=dev.txt` makes `pip install -r $REQ` read
/// `dev.txt`, which the inserted `COPY requirements.txt ./` does not
/// bring (measured with BuildKit: the rewrite failed, the original
/// built). The hoist stays `Unsafe` and says why; a variable no build
/// argument reaches (`ENV` alone) still moves.
#[test]
fn a_manifest_named_by_a_build_argument_keeps_the_install_in_place() {
    let defaults = [
        ("requirements.txt", "six==1.16.0\n"),
        ("dev.txt", "idna==3.10\n"),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    for decl in [
        "ARG REQ=requirements.txt",
        "ARG BASE=requirements\nENV REQ=$BASE.txt",
    ] {
        let df = format!(
            "FROM python:3.12-slim\n{decl}\nWORKDIR /app\nCOPY . .\nRUN pip install -r $REQ\n"
        );
        let (hoist, text) = crate::support::hoist_proposal(&defaults, &df, &[]);
        assert_eq!(text, df, "moved:\n{df}");
        let (app, reason) = hoist.expect("the hoist is proposed");
        assert_eq!(app, Applicability::Unsafe);
        assert!(
            reason.contains("through a variable a build argument may set"),
            "{reason}"
        );
    }
    let df = "FROM python:3.12-slim\nENV REQ=requirements.txt\nWORKDIR /app\nCOPY . .\nRUN pip install -r $REQ\n";
    let (_, text) = crate::support::hoist_proposal(&defaults, df, &[]);
    assert_ne!(text, df);
}

/// Review 56: a program run by its path in the working directory
/// (`./mvnw`) is a file the broad copy ships, read where the shell runs
/// it. Measured with BuildKit (debian:bookworm-slim, a wrapper script):
/// `RUN ./mvnw dependency:go-offline` moved above `COPY . .` with only
/// `pom.xml` and `.mvn/wrapper/maven-wrapper.properties` copied first
/// failed (`./mvnw: not found`); so did `RUN ./gradlew -p sub
/// dependencies`, which copied `sub/`'s build files but not the wrapper,
/// whose own files lie beside it, not in the project directory `-p`
/// names.
#[test]
fn a_program_run_from_the_working_directory_is_read_there() {
    let pom = "<project><modelVersion>4.0.0</modelVersion><groupId>a</groupId><artifactId>a</artifactId><version>1</version></project>\n";
    let dir = project(&[
        ("pom.xml", pom),
        ("mvnw", "#!/bin/sh\n"),
        (
            ".mvn/wrapper/maven-wrapper.properties",
            "distributionUrl=https://repo.maven.apache.org/maven2/x.zip\n",
        ),
        ("src/main/java/A.java", "class A {}\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = "FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN ./mvnw dependency:go-offline\n";
    let out = rewrite_unsafe_too(dir.path(), df);
    let run = out.find("RUN ./mvnw").expect("the RUN");
    assert!(
        out.find("COPY . .").is_some_and(|c| c < run) || out.find("mvnw ").is_some_and(|c| c < run),
        "the wrapper is not there for the RUN:\n{out}"
    );
    // The wrapper's own files are beside it, where `-p` does not look.
    let dir = project(&[
        ("gradlew", "#!/bin/sh\n"),
        (
            "gradle/wrapper/gradle-wrapper.properties",
            "distributionUrl=https\\://services.gradle.org/x.zip\n",
        ),
        ("gradle/wrapper/gradle-wrapper.jar", "jar\n"),
        ("sub/settings.gradle", "rootProject.name = 'a'\n"),
        ("sub/build.gradle", "plugins { id 'java' }\n"),
        ("sub/src/A.java", "class A {}\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "RUN ./gradlew -p sub dependencies",
        "RUN ./gradlew --project-dir=sub dependencies",
    ] {
        let df = format!("FROM debian:12\nWORKDIR /app\nCOPY . .\n{run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
}

/// Review 56: the Gradle and Maven wrappers download the distribution
/// that `distributionUrl` names in their properties file, and one with no
/// scheme is a file beside that file (`../../dist/gradle.zip`), a
/// `file:` URL any file (both wrappers' `prepareDistributionUri`): a
/// file the hoist does not copy first when it lies outside `gradle/` or
/// `.mvn/`. An `https` URL still hoists.
#[test]
fn a_wrapper_distribution_in_the_file_system_keeps_the_install_in_place() {
    let gradle = |url: &str| {
        project(&[
            ("gradlew", "#!/bin/sh\n"),
            (
                "gradle/wrapper/gradle-wrapper.properties",
                &format!("distributionBase=GRADLE_USER_HOME\ndistributionUrl={url}\n"),
            ),
            ("gradle/wrapper/gradle-wrapper.jar", "jar\n"),
            ("dist/gradle-8.5-bin.zip", "zip\n"),
            ("settings.gradle", "rootProject.name = 'a'\n"),
            ("build.gradle", "plugins { id 'java' }\n"),
            ("src/A.java", "class A {}\n"),
            (".dockerignore", ".git\n"),
        ])
    };
    let df = "FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN ./gradlew dependencies\n";
    for url in [
        "../../dist/gradle-8.5-bin.zip",
        "file\\:///app/dist/gradle-8.5-bin.zip",
        "file:../../dist/gradle-8.5-bin.zip",
    ] {
        let dir = gradle(url);
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{url}");
    }
    let dir = gradle("https\\://services.gradle.org/distributions/gradle-8.5-bin.zip");
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    let pom = "<project><modelVersion>4.0.0</modelVersion><groupId>a</groupId><artifactId>a</artifactId><version>1</version></project>\n";
    let maven = |url: &str| {
        project(&[
            ("pom.xml", pom),
            ("mvnw", "#!/bin/sh\n"),
            (
                ".mvn/wrapper/maven-wrapper.properties",
                &format!("distributionUrl={url}\n"),
            ),
            ("dist/apache-maven-3.9.6-bin.zip", "zip\n"),
            ("src/main/java/A.java", "class A {}\n"),
            (".dockerignore", ".git\n"),
        ])
    };
    let df = "FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN ./mvnw dependency:go-offline\n";
    for url in [
        "../../dist/apache-maven-3.9.6-bin.zip",
        "file:///app/dist/apache-maven-3.9.6-bin.zip",
    ] {
        let dir = maven(url);
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{url}");
    }
    let dir = maven(
        "https://repo.maven.apache.org/maven2/org/apache/maven/apache-maven/3.9.6/apache-maven-3.9.6-bin.zip",
    );
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// Review 55: a COPY source that is a symbolic link is followed (BuildKit
/// copies what the link names): `COPY ln ./` with `ln -> src` puts the
/// contents of `src/` into the working directory, not a file `ln`.
/// Measured with BuildKit (python:3.12-slim): `COPY ln ./` moved below
/// `COPY requirements.txt ./` and the pip install, `src/requirements.txt`
/// replaced the root one (/app/requirements.txt differed). A path through
/// such a link (`ln/requirements.txt`) is no empty directory either.
#[test]
fn a_linked_directory_named_as_a_copy_source_copies_its_contents() {
    let files = &[
        ("src/main.py", "print(1)\n"),
        ("src/requirements.txt", "# from src\n"),
        ("requirements.txt", "# root\n"),
    ];
    let dir = project(files);
    std::os::unix::fs::symlink("src", dir.path().join("ln")).expect("symlink");
    for df in [
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY ln ./\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\n",
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY l? ./\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\n",
    ] {
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
        let ctx = Context::new(
            dir.path().to_path_buf(),
            Some(&dir.path().join("Dockerfile")),
        );
        let parse = dockreorder::syntax::parse(df);
        let model = Model::build(&parse, df);
        let stage = model.stages.last().expect("a stage");
        let ins = parse.items[stage.units[1].item]
            .instruction()
            .expect("COPY");
        let env = BTreeMap::new();
        assert!(
            effects::exact_copy_writes(ins, "/app", &env, &ctx).is_none(),
            "{df}"
        );
    }
    // Through the link: not a directory with nothing in it.
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY ln/requirements.txt ./\n";
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    let parse = dockreorder::syntax::parse(df);
    let model = Model::build(&parse, df);
    let ins = parse.items[model.stages[0].units[1].item]
        .instruction()
        .expect("COPY");
    assert!(effects::exact_copy_writes(ins, "/app", &BTreeMap::new(), &ctx).is_none());
}

/// Review 55: the reorder checked an install's manifests as the context's
/// files at the working directory's relative paths (`/app/requirements.txt`
/// read as the root `requirements.txt`). `COPY deps/requirements.txt
/// ./requirements.txt` naming `./lib`: the install moved above `COPY lib/
/// ./lib/` (with history and without); measured with BuildKit
/// (python:3.12-slim): the rewrite failed to build (`File './lib' does not
/// exist`). The same from a copy into the directory of another context
/// directory, a `RUN` making the manifest, or a parent stage.
#[test]
fn a_reordered_install_checks_the_manifests_it_reads() {
    let files = &[
        ("lib/mylib/__init__.py", "x = 1\n"),
        (
            "lib/pyproject.toml",
            "[project]\nname = \"mylib\"\nversion = \"0.1\"\n",
        ),
        ("deps/requirements.txt", "./lib\n"),
        ("requirements.txt", "six==1.16.0\n"),
    ];
    let pip = "RUN pip install --no-cache-dir -r requirements.txt\n";
    for body in [
        "WORKDIR /app\nCOPY lib/ ./lib/\nCOPY deps/requirements.txt ./requirements.txt\n",
        "WORKDIR /app\nCOPY lib/ ./lib/\nCOPY deps/ ./\n",
        "WORKDIR /app\nCOPY lib/ ./lib/\nCOPY deps/requirements.txt ./deps/\nRUN cp deps/requirements.txt requirements.txt\n",
    ] {
        let df = format!("FROM python:3.12-slim\n{body}{pip}");
        assert_eq!(rewritten_in(files, &df), df, "{body}");
    }
    let df = format!(
        "FROM python:3.12-slim AS base\nWORKDIR /app\nCOPY deps/requirements.txt ./requirements.txt\n\nFROM base\nCOPY lib/ ./lib/\n{pip}"
    );
    assert_eq!(rewritten_in(files, &df), df);
    // The root's own manifest, copied to its place, still moves.
    let files = &[
        ("lib/mylib/__init__.py", "x = 1\n"),
        ("requirements.txt", "six==1.16.0\n"),
    ];
    let df = format!(
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY lib/ ./lib/\nCOPY requirements.txt ./\n{pip}"
    );
    assert_ne!(rewritten_in(files, &df), df);
}

/// Review 55: a symbolic link the context ships below a copied directory
/// is copied as a link, and a later write below it lands where it points.
/// `etc -> /etc` shipped by `COPY . /app`, then `COPY conf/pip.conf
/// /app/etc/` writes `/etc/pip.conf`, which pip reads. Measured with
/// BuildKit (python:3.12-slim, `no-binary = six`): the pip install
/// hoisted above both copies built six from its wheel instead of its
/// sdist (the `.dist-info` only in the rewrite, the `.egg-info` only in
/// the original). The same through a relative link, and through a link a
/// directory copy ships that is not the whole context.
#[test]
fn a_write_through_a_copied_link_lands_where_it_points() {
    let files = &[
        ("src/app.py", "x = 1\n"),
        ("requirements.txt", "six==1.16.0\n"),
        ("conf/pip.conf", "[install]\nno-binary = six\n"),
        ("root/etc/.keep", ""),
    ];
    let pip = "RUN pip install -r requirements.txt\n";
    for (link, target, body) in [
        ("etc", "/etc", "COPY . /app\nCOPY conf/pip.conf /app/etc/\n"),
        (
            "etc",
            "../etc",
            "COPY . /app\nCOPY conf/pip.conf /app/etc/\n",
        ),
        (
            "root/cfg",
            "/etc",
            "COPY root/ /\nCOPY . /app\nCOPY conf/pip.conf /cfg/\n",
        ),
    ] {
        let dir = project(files);
        std::os::unix::fs::symlink(target, dir.path().join(link)).expect("symlink");
        let df = format!("FROM python:3.12-slim\nWORKDIR /app\n{body}{pip}");
        assert_eq!(
            rewrite_unsafe_too(dir.path(), &df),
            df,
            "{link} -> {target}"
        );
    }
}

/// Review 55: a `COPY --from` of a stage that makes a symbolic link puts
/// the link in the image, and a later write below it lands where it
/// points: stage `b` makes `/out/etc -> /etc`, `COPY --from=b /out /app`,
/// then `COPY conf/pip.conf /app/etc/` writes `/etc/pip.conf`. Measured
/// with BuildKit (python:3.12-slim, `no-binary = six`): the pip install
/// hoisted above `COPY . /app` and the configuration's copy built six from
/// its wheel (the images differed). A stage that makes no link, or an
/// image from outside the file (trusted as a base image is), still lets
/// the install move.
#[test]
fn a_link_a_stage_made_is_written_through_after_its_copy() {
    let dir = project(&[
        ("src/app.py", "x = 1\n"),
        ("requirements.txt", "six==1.16.0\n"),
        ("conf/pip.conf", "[install]\nno-binary = six\n"),
    ]);
    let tail = "\nFROM python:3.12-slim\nWORKDIR /app\nCOPY --from=b /out /app\nCOPY . /app\nCOPY conf/pip.conf /app/etc/\nRUN pip install -r requirements.txt\n";
    let df = format!("FROM python:3.12-slim AS b\nRUN mkdir /out && ln -s /etc /out/etc\n{tail}");
    assert_eq!(rewrite_unsafe_too(dir.path(), &df), df);
    let df = format!("FROM python:3.12-slim AS b\nRUN mkdir -p /out/etc\n{tail}");
    assert_ne!(rewrite_unsafe_too(dir.path(), &df), df);
    let df = tail.replace("--from=b", "--from=example/tools:1");
    assert_ne!(rewrite_unsafe_too(dir.path(), &df), df);
}

/// Only the install scripts read (manifests::KNOWN_SCRIPTS) let an npm
/// install move above the broad copy: another version, a package of
/// another name under the known one's (an alias), one from elsewhere
/// than the registry, a bundled or linked one, keep it in place; so do
/// the files esbuild's script may take from the project: the binary
/// ESBUILD_BINARY_PATH names, packages in NODE_PATH or in a
/// `node_modules` above the project that the copy ships.
#[test]
fn only_install_scripts_known_to_read_nothing_keep_the_hoist() {
    let entry = |key: &str, fields: &str| {
        format!(
            ",\"node_modules/{key}\":{{{fields},\"integrity\":\"sha512-AAAA\",\"hasInstallScript\":true}}"
        )
    };
    let reg = |name: &str, version: &str| {
        let base = name.rsplit('/').next().unwrap();
        format!(
            "\"version\":\"{version}\",\"resolved\":\"https://registry.npmjs.org/{name}/-/{base}-{version}.tgz\""
        )
    };
    let lock = |entries: &str| {
        format!(
            "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"esbuild\":\"*\"}}}}{entries}}}}}"
        )
    };
    let package = "{\"name\":\"a\",\"dependencies\":{\"esbuild\":\"*\"}}";
    let df = |dir: &str, env: &str, run: &str| {
        format!(
            "FROM node:20-slim\nWORKDIR /app\n{env}COPY . .\nRUN {dir}{run}\nCMD [\"node\", \"index.js\"]\n"
        )
    };
    let good = lock(&entry("esbuild", &reg("esbuild", "0.21.5")));
    let defaults = [
        ("package.json", package),
        ("package-lock.json", good.as_str()),
        (".dockerignore", "node_modules\n.git\n"),
        ("index.js", "x\n"),
        ("tools/esbuild", "#!/bin/sh\n"),
        ("vendor/@esbuild/linux-x64/bin/esbuild", "#!/bin/sh\n"),
    ];
    let safe = |files: &[(&str, &str)], df: &str| {
        let (hoist, _) = crate::support::hoist_proposal(&defaults, df, files);
        hoist.is_some_and(|(a, _)| a == Applicability::Safe)
    };
    // The known script, in a project without its traps: it moves.
    assert!(safe(&[], &df("", "", "npm ci")));
    let old_resolved = lock(&entry("esbuild", "\"version\":\"0.21.5\""));
    assert!(safe(
        &[("package-lock.json", &old_resolved)],
        &df("", "", "npm ci")
    ));
    for (bad, what) in [
        (lock(&entry("esbuild", &reg("esbuild", "0.16.17"))), "older"),
        (lock(&entry("esbuild", &reg("esbuild", "0.29.0"))), "newer"),
        (
            lock(&entry("esbuild", &reg("esbuild", "0.21.5-beta.1"))),
            "prerelease",
        ),
        (
            lock(&entry(
                "esbuild",
                &format!("\"name\":\"evil\",{}", reg("evil", "0.21.5")),
            )),
            "an alias of another package",
        ),
        (
            lock(&entry(
                "esbuild",
                "\"version\":\"0.21.5\",\"resolved\":\"git+ssh://git@github.com/evanw/esbuild.git#0123456789abcdef0123456789abcdef01234567\"",
            )),
            "from git",
        ),
        (
            lock(&entry(
                "esbuild",
                "\"version\":\"0.21.5\",\"resolved\":\"https://example.com/esbuild-0.21.5.tgz\"",
            )),
            "from another host",
        ),
        (
            lock(&entry(
                "esbuild",
                &format!("{},\"inBundle\":true", reg("esbuild", "0.21.5")),
            )),
            "bundled",
        ),
        (
            lock(&entry(
                "esbuild",
                "\"resolved\":\"tools/esbuild\",\"link\":true",
            )),
            "linked",
        ),
        (
            lock(&format!(
                "{}{}",
                entry("esbuild", &reg("esbuild", "0.21.5")),
                entry("msw", &reg("msw", "2.7.0"))
            )),
            "with an unknown script beside it",
        ),
    ] {
        assert!(
            !safe(&[("package-lock.json", &bad)], &df("", "", "npm ci")),
            "{what}"
        );
    }
    // esbuild's script takes the binary ESBUILD_BINARY_PATH names when the
    // file is there, and resolves its platform package in NODE_PATH too.
    for env in [
        "ENV ESBUILD_BINARY_PATH=/app/tools/esbuild\n",
        "ENV NODE_PATH=/app/vendor\n",
    ] {
        assert!(!safe(&[], &df("", env, "npm ci")), "{env}");
    }
    assert!(!safe(
        &[],
        &df("", "", "ESBUILD_BINARY_PATH=/app/tools/esbuild npm ci")
    ));
    // The project in web/, the context's root node_modules above it.
    let web = [
        ("web/package.json", package),
        ("web/package-lock.json", good.as_str()),
        (".dockerignore", ".git\nweb/node_modules\n"),
    ];
    assert!(safe(&web, &df("cd web && ", "", "npm ci")));
    let mut shipped = web.to_vec();
    shipped.push(("node_modules/@esbuild/linux-x64/bin/esbuild", "x"));
    assert!(!safe(&shipped, &df("cd web && ", "", "npm ci")));
}

/// npm runs a package's install script with `NODE_OPTIONS` from its
/// `node-options` setting and in its `script-shell`: a user's or the
/// global npmrc an earlier unit writes may make a known script (esbuild's)
/// load a file of the project (`--require /app/pre.js`), which the broad
/// copy brings only in the original order. Measured with BuildKit on
/// node:20-slim (npm 10.8.2, esbuild 0.21.5): `RUN npm config set
/// node-options=--require=/app/pre.js` before `COPY . .` and `RUN npm
/// ci`: the hoisted install failed (the preload missing).
#[test]
fn a_written_npm_configuration_keeps_a_known_script_install_in_place() {
    let lock = "{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{\"\":{\"name\":\"a\",\"dependencies\":{\"esbuild\":\"0.21.5\"}},\"node_modules/esbuild\":{\"version\":\"0.21.5\",\"resolved\":\"https://registry.npmjs.org/esbuild/-/esbuild-0.21.5.tgz\",\"integrity\":\"sha512-AAAA\",\"hasInstallScript\":true}}}";
    let defaults = [
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"esbuild\":\"0.21.5\"}}",
        ),
        ("package-lock.json", lock),
        (".dockerignore", "node_modules\n.git\n"),
        ("pre.js", "require('fs').writeFileSync('/app/x', '1')\n"),
        ("npmrc", "node-options=--require=/app/pre.js\n"),
        ("index.js", "x\n"),
    ];
    let df =
        |before: &str| format!("FROM node:20-slim\n{before}WORKDIR /app\nCOPY . .\nRUN npm ci\n");
    let safe = |df: &str| {
        let (hoist, _) = crate::support::hoist_proposal(&defaults, df, &[]);
        hoist.is_some_and(|(a, _)| a == Applicability::Safe)
    };
    // Without a written configuration it moves.
    assert!(safe(&df("")));
    assert!(safe(&df("RUN npm install -g npm@10.9.2\n")));
    for before in [
        "RUN npm config set node-options=--require=/app/pre.js\n",
        "RUN npm config set script-shell=/app/sh\n",
        "RUN echo node-options=--require=/app/pre.js >> /usr/local/etc/npmrc\n",
        "COPY npmrc /root/.npmrc\n",
    ] {
        assert!(!safe(&df(before)), "{before}");
    }
}

/// sharp's install check (0.33.0-0.34.5 read) builds from source when a
/// global libvips or a setting asks for it: with node-gyp and
/// node-addon-api in the lock, or compiler and pkg-config variables
/// naming the project, that build may read it; so may the packages it
/// loads when the lock gives another package or version under their
/// names. Each keeps the install in place; so does esbuild's platform
/// package under another name.
#[test]
fn sharps_install_check_moves_only_where_it_reads_nothing_of_the_project() {
    let entry = |key: &str, version: &str, extra: &str| {
        let name = key.rsplit("node_modules/").next().unwrap();
        let base = name.rsplit('/').next().unwrap();
        format!(
            ",\"node_modules/{key}\":{{\"version\":\"{version}\",\"resolved\":\"https://registry.npmjs.org/{name}/-/{base}-{version}.tgz\",\"integrity\":\"sha512-AAAA\"{extra}}}"
        )
    };
    let script = ",\"hasInstallScript\":true";
    let lock = |sharp: &str, more: &str| {
        format!(
            "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"sharp\":\"*\"}}}}{}{}{}{more}}}}}",
            entry("sharp", sharp, script),
            entry("detect-libc", "2.1.2", ""),
            entry("semver", "7.7.3", ""),
        )
    };
    let good = lock("0.34.4", "");
    let defaults = [
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"sharp\":\"*\"}}",
        ),
        ("package-lock.json", good.as_str()),
        (".dockerignore", "node_modules\n.git\n"),
        ("index.js", "x\n"),
        ("pkgconfig/vips-cpp.pc", "Version: 9.0.0\n"),
        ("include/vips/vips8", "x\n"),
    ];
    let df = |env: &str, run: &str| {
        format!(
            "FROM node:20-slim\nWORKDIR /app\n{env}COPY . .\nRUN {run}\nCMD [\"node\", \"index.js\"]\n"
        )
    };
    let safe = |files: &[(&str, &str)], df: &str| {
        let (hoist, _) = crate::support::hoist_proposal(&defaults, df, files);
        hoist.is_some_and(|(a, _)| a == Applicability::Safe)
    };
    assert!(safe(&[], &df("", "npm ci")));
    assert!(safe(
        &[("package-lock.json", &lock("0.33.0", ""))],
        &df("", "npm ci")
    ));
    let alias = ",\"node_modules/detect-libc\":{\"name\":\"evil\",\"version\":\"2.1.2\",\"resolved\":\"https://registry.npmjs.org/evil/-/evil-2.1.2.tgz\",\"integrity\":\"sha512-AAAA\"}";
    for (bad, what) in [
        (lock("0.34.6", ""), "a version not read"),
        (lock("0.32.6", ""), "0.32 runs prebuild-install"),
        (lock("0.34.4", &entry("node-gyp", "10.2.0", "")), "node-gyp"),
        (
            lock("0.34.4", &entry("node-addon-api", "8.3.0", "")),
            "node-addon-api",
        ),
        (
            lock(
                "0.34.4",
                &entry("sharp/node_modules/detect-libc", "2.1.3", ""),
            ),
            "a detect-libc not read",
        ),
        (
            lock(
                "0.34.4",
                &alias.replace("detect-libc", "sharp/node_modules/detect-libc"),
            ),
            "another package as detect-libc",
        ),
        (
            lock("0.34.4", &entry("sharp/node_modules/semver", "6.3.1", "")),
            "a semver not read",
        ),
    ] {
        assert!(
            !safe(&[("package-lock.json", &bad)], &df("", "npm ci")),
            "{what}"
        );
    }
    // semver and detect-libc as node finds them from sharp: its own
    // nested copy first, then the project's.
    let root_six = lock("0.34.4", &entry("sharp/node_modules/semver", "7.7.3", "")).replace(
        "\"node_modules/semver\":{\"version\":\"7.7.3\",\"resolved\":\"https://registry.npmjs.org/semver/-/semver-7.7.3.tgz\"",
        "\"node_modules/semver\":{\"version\":\"6.3.1\",\"resolved\":\"https://registry.npmjs.org/semver/-/semver-6.3.1.tgz\"",
    );
    assert!(root_six.contains("6.3.1") && root_six.contains("sharp/node_modules/semver"));
    assert!(safe(&[("package-lock.json", &root_six)], &df("", "npm ci")));
    let only_six = lock("0.34.4", "").replace(
        "\"node_modules/semver\":{\"version\":\"7.7.3\",\"resolved\":\"https://registry.npmjs.org/semver/-/semver-7.7.3.tgz\"",
        "\"node_modules/semver\":{\"version\":\"6.3.1\",\"resolved\":\"https://registry.npmjs.org/semver/-/semver-6.3.1.tgz\"",
    );
    assert!(only_six.contains("6.3.1"));
    assert!(!safe(
        &[("package-lock.json", &only_six)],
        &df("", "npm ci")
    ));
    let no_libc =
        lock("0.34.4", "").replace("\"node_modules/detect-libc\"", "\"node_modules/other\"");
    assert!(!safe(&[("package-lock.json", &no_libc)], &df("", "npm ci")));
    // Variables naming the project's files that the check's pkg-config or
    // the build from source reads.
    for env in [
        "ENV PKG_CONFIG_PATH=/app/pkgconfig\n",
        "ENV CFLAGS=\"-O2 -I/app/include\"\n",
        "ENV CPATH=/app/include\n",
    ] {
        assert!(!safe(&[], &df(env, "npm ci")), "{env}");
    }
    // The project in web/, the context's root node_modules above it (the
    // check loads detect-libc and semver upward).
    let web = [
        (
            "web/package.json",
            "{\"name\":\"a\",\"dependencies\":{\"sharp\":\"*\"}}",
        ),
        ("web/package-lock.json", good.as_str()),
        (".dockerignore", ".git\nweb/node_modules\n"),
    ];
    assert!(safe(&web, &df("", "cd web && npm ci")));
    let mut shipped = web.to_vec();
    shipped.push(("node_modules/detect-libc/index.js", "x"));
    assert!(!safe(&shipped, &df("", "cd web && npm ci")));
    // esbuild runs its platform package's binary: another package under
    // that name keeps the install in place.
    let esbuild = format!(
        "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"esbuild\":\"*\"}}}}{}{}}}}}",
        entry("esbuild", "0.21.5", script),
        ",\"node_modules/@esbuild/linux-x64\":{\"name\":\"evil\",\"version\":\"0.21.5\",\"resolved\":\"https://registry.npmjs.org/evil/-/evil-0.21.5.tgz\",\"integrity\":\"sha512-AAAA\"}",
    );
    assert!(!safe(&[("package-lock.json", &esbuild)], &df("", "npm ci")));
    let esbuild = esbuild
        .replace("\"name\":\"evil\",", "")
        .replace("evil/-/evil", "@esbuild/linux-x64/-/linux-x64");
    assert!(safe(&[("package-lock.json", &esbuild)], &df("", "npm ci")));
}

/// @swc/core's postinstall reads package.json in INIT_CWD, the directory
/// npm runs in, and may install @swc/wasm in its node_modules: with
/// `--prefix` that is not the directory the hoist copies the manifests
/// to. Its binding loads the platform package (another package under
/// that name, or the WASI one, not read) and INIT_CWD, when the stage
/// sets it, names where it reads. Each keeps the install in place.
#[test]
fn swcs_postinstall_moves_only_where_it_reads_what_the_hoist_copies() {
    let entry = |key: &str, version: &str, extra: &str| {
        let base = key.rsplit('/').next().unwrap();
        format!(
            ",\"node_modules/{key}\":{{\"version\":\"{version}\",\"resolved\":\"https://registry.npmjs.org/{key}/-/{base}-{version}.tgz\",\"integrity\":\"sha512-AAAA\"{extra}}}"
        )
    };
    let lock = |more: &str| {
        format!(
            "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"@swc/core\":\"*\"}}}}{}{}{more}}}}}",
            entry("@swc/core", "1.15.3", ",\"hasInstallScript\":true"),
            entry("@swc/core-linux-x64-gnu", "1.15.3", ",\"optional\":true"),
        )
    };
    let good = lock("");
    let package = "{\"name\":\"a\",\"dependencies\":{\"@swc/core\":\"*\"}}";
    let defaults = [
        ("package.json", package),
        ("package-lock.json", good.as_str()),
        ("web/package.json", package),
        ("web/package-lock.json", good.as_str()),
        (".dockerignore", "node_modules\n.git\nweb/node_modules\n"),
        ("index.js", "x\n"),
        ("other/package.json", "{\"name\":\"@swc/core\"}"),
    ];
    let df = |env: &str, run: &str| {
        format!(
            "FROM node:20-slim\nWORKDIR /app\n{env}COPY . .\nRUN {run}\nCMD [\"node\", \"index.js\"]\n"
        )
    };
    let safe = |files: &[(&str, &str)], df: &str| {
        let (hoist, _) = crate::support::hoist_proposal(&defaults, df, files);
        hoist.is_some_and(|(a, _)| a == Applicability::Safe)
    };
    assert!(safe(&[], &df("", "npm ci")));
    assert!(safe(&[], &df("", "cd web && npm ci")));
    for run in [
        "npm ci --prefix web",
        "npm ci -C web",
        "npm ci --prefix=web",
    ] {
        assert!(!safe(&[], &df("", run)), "{run}");
    }
    assert!(!safe(&[], &df("ENV INIT_CWD=/app/other\n", "npm ci")));
    let alias = ",\"node_modules/@swc/core-linux-x64-musl\":{\"name\":\"evil\",\"version\":\"1.15.3\",\"resolved\":\"https://registry.npmjs.org/evil/-/evil-1.15.3.tgz\",\"integrity\":\"sha512-AAAA\"}";
    for (bad, what) in [
        (lock(alias), "another package as a platform package"),
        (
            lock(&entry("@swc/core-wasm32-wasi", "1.15.3", "")),
            "the WASI binding",
        ),
        (
            lock(&entry("@swc/core-linux-x64-musl", "1.17.0", "")),
            "a platform package not read",
        ),
    ] {
        assert!(
            !safe(&[("package-lock.json", &bad)], &df("", "npm ci")),
            "{what}"
        );
    }
}

/// A package's install script npm skips on Linux only while it is an
/// optional package whose `os` names other systems, and npm's `os`,
/// `cpu` and `libc` settings do not make it install for another
/// platform: a required one, one for Linux too (or for all but another
/// system), a setting in the project's `.npmrc`, on the line, in the
/// environment, or in a user's npmrc an earlier `RUN` may write, keep the
/// install in place.
#[test]
fn an_install_script_for_another_system_is_skipped_only_where_npm_skips_it() {
    let lock = |fields: &str| {
        format!(
            "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"optionalDependencies\":{{\"fsevents\":\"1.2.13\"}}}},\"node_modules/fsevents\":{{\"version\":\"1.2.13\",\"integrity\":\"sha512-AAAA\",\"hasInstallScript\":true{fields}}}}}}}"
        )
    };
    let good = lock(",\"optional\":true,\"os\":[\"darwin\"]");
    let defaults = [
        (
            "package.json",
            "{\"name\":\"a\",\"optionalDependencies\":{\"fsevents\":\"1.2.13\"}}",
        ),
        ("package-lock.json", good.as_str()),
        (".dockerignore", "node_modules\n.git\n"),
        ("index.js", "x\n"),
    ];
    let df = |before: &str, run: &str| {
        format!(
            "FROM node:20-slim\nWORKDIR /app\n{before}COPY . .\nRUN {run}\nCMD [\"node\", \"index.js\"]\n"
        )
    };
    let safe = |files: &[(&str, &str)], df: &str| {
        let (hoist, _) = crate::support::hoist_proposal(&defaults, df, files);
        hoist.is_some_and(|(a, _)| a == Applicability::Safe)
    };
    assert!(safe(&[], &df("", "npm ci")));
    assert!(safe(&[], &df("RUN mkdir -p /srv/data\n", "npm ci")));
    for (fields, what) in [
        (",\"os\":[\"darwin\"]", "not optional"),
        (",\"optional\":true", "for every system"),
        (
            ",\"optional\":true,\"os\":[\"darwin\",\"linux\"]",
            "for Linux too",
        ),
        (
            ",\"optional\":true,\"os\":[\"!win32\"]",
            "for all but Windows",
        ),
        (",\"optional\":true,\"os\":[]", "an empty list"),
    ] {
        assert!(
            !safe(&[("package-lock.json", &lock(fields))], &df("", "npm ci")),
            "{what}"
        );
    }
    for (before, run, rc) in [
        ("", "npm ci", Some("os=darwin\n")),
        ("", "npm ci", Some("cpu[]=arm64\n")),
        ("", "npm ci --os=darwin", None),
        ("", "npm_config_os=darwin npm ci", None),
        ("ENV NPM_CONFIG_OS=darwin\n", "npm ci", None),
        ("RUN npm config set os darwin\n", "npm ci", None),
        ("RUN echo os=darwin >> /root/.npmrc\n", "npm ci", None),
        ("RUN ./configure-npm.sh\n", "npm ci", None),
    ] {
        let mut files = vec![("configure-npm.sh", "#!/bin/sh\n")];
        if let Some(rc) = rc {
            files.push((".npmrc", rc));
        }
        assert!(!safe(&files, &df(before, run)), "{before}{run} {rc:?}");
    }
}

/// Composer loads the plugins of its home in every project's install: a
/// plugin an earlier `RUN` installed globally runs in the hoisted install
/// and may read the project (h-kb55 measured: `composer global require`
/// of a plugin writing `/plugin-out.txt` from the project's
/// `settings.txt`, then the install hoisted above `COPY . .`: the file
/// differed). An earlier unit that may write Composer's home keeps the
/// install in place; `--no-plugins` runs none.
#[test]
fn a_global_composer_plugin_keeps_the_install_in_place() {
    let json = "{\"name\":\"a/b\",\"require\":{\"my/lib\":\"1.0.0\"}}\n";
    let lock = "{\"content-hash\":\"x\",\"packages\":[{\"name\":\"my/lib\",\"version\":\"1.0.0\",\"type\":\"library\",\"dist\":{\"type\":\"tar\",\"url\":\"https://example.invalid/lib.tar\"}}],\"packages-dev\":[]}\n";
    let dir = project(&[
        ("composer.json", json),
        ("composer.lock", lock),
        ("settings.txt", "from-context\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = |before: &str, run: &str| {
        format!("FROM php:8.2-cli\n{before}WORKDIR /app\nCOPY . .\nRUN {run}\n")
    };
    for before in [
        "RUN composer global require my/plug:1.0.0\n",
        "ENV COMPOSER_HOME=/opt/composer\nRUN mkdir -p /opt/composer && cp -r /usr/share/plug /opt/composer/vendor\n",
        "FROM php:8.2-cli AS base\nRUN composer global require my/plug:1.0.0\nFROM base\n",
    ] {
        let text = df(before, "composer install --no-dev --no-interaction");
        let text = text.replacen(
            "FROM php:8.2-cli\nFROM php:8.2-cli AS base",
            "FROM php:8.2-cli AS base",
            1,
        );
        assert_eq!(
            rewrite_unsafe_too(dir.path(), &text),
            text,
            "moved:\n{text}"
        );
    }
    // No plugin runs with `--no-plugins`, and none without a global one.
    let text = df(
        "RUN composer global require my/plug:1.0.0\n",
        "composer install --no-dev --no-plugins",
    );
    assert_ne!(rewrite_unsafe_too(dir.path(), &text), text);
    let text = df("", "composer install --no-dev --no-interaction");
    assert_ne!(rewrite_unsafe_too(dir.path(), &text), text);
}

/// A Poetry plugin, which Poetry loads for every command, may read any
/// file of the project: a `poetry install` after an earlier unit that
/// may have installed one stays below the broad copy. Measured with
/// BuildKit: a plugin installed with Poetry (`pip install poetry /plug`)
/// that records whether the project's `VERSION` exists made the image
/// differ when the install moved above `COPY . .` (`/peek.txt`).
#[test]
fn an_earlier_poetry_plugin_install_keeps_the_poetry_install_in_place() {
    let pyproject = "[tool.poetry]\nname = \"demo\"\nversion = \"0.1.0\"\ndescription = \"\"\nauthors = [\"x <x@example.com>\"]\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nsix = \"1.16.0\"\n";
    let dir = project(&[
        ("pyproject.toml", pyproject),
        ("poetry.lock", "# lock\n"),
        ("VERSION", "1.0\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = |before: &str| {
        format!(
            "FROM python:3.12-slim\n{before}WORKDIR /app\nCOPY . .\nRUN poetry install --no-root --only main\n"
        )
    };
    for before in [
        "RUN pip install --no-cache-dir poetry==1.8.5 /plug\n",
        "RUN pip install poetry poetry-dynamic-versioning\n",
        "RUN pip install poetry && pip install -r /tmp/requirements.txt\n",
        "RUN pip install poetry && poetry self add poetry-plugin-up\n",
        "RUN pipx install poetry && pipx inject poetry poetry-plugin-up\n",
        "RUN pip install poetry\nRUN ./install-plugins.sh\n",
        "RUN curl -sSL https://install.python-poetry.org | python3 - --git https://example.com/p.git\n",
        "RUN curl -sSL https://install.python-poetry.org | python3 - && ./add-plugins.sh\n",
        "ENV PIP_REQUIREMENT=/plugins.txt\nRUN pip install poetry\n",
        "COPY --from=builder /opt/poetry /opt/poetry\n",
        "COPY plugin/ /usr/local/lib/python3.12/site-packages/\n",
        "FROM python:3.12-slim AS base\nRUN pip install poetry poetry-dynamic-versioning\nFROM base\n",
    ] {
        let text = df(before).replacen(
            "FROM python:3.12-slim\nFROM python:3.12-slim AS base",
            "FROM python:3.12-slim AS base",
            1,
        );
        assert_eq!(
            rewrite_unsafe_too(dir.path(), &text),
            text,
            "moved:\n{text}"
        );
    }
    // In the install's own `RUN`, before it.
    let text = "FROM python:3.12-slim\nRUN pip install poetry\nWORKDIR /app\nCOPY . .\nRUN pip install poetry-dynamic-versioning && poetry install --no-root\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), text), text);
    // Poetry alone, however pinned, and the packaging tools add none.
    for before in [
        "RUN pip install --no-cache-dir poetry==1.8.5\n",
        "RUN python -m pip install --upgrade pip setuptools wheel && pip install \"poetry>=1.8,<2\"\n",
        "ENV POETRY_HOME=/opt/poetry\nRUN curl -sSL https://install.python-poetry.org | POETRY_VERSION=1.8.5 python3 - --yes\n",
    ] {
        let text = df(before);
        assert_ne!(rewrite_unsafe_too(dir.path(), &text), text, "{text}");
    }
}

/// BuildKit gives every `RUN` a fresh `/dev` (a tmpfs), `/proc` and
/// `/sys`: what the first part of a split writes there is gone when the
/// rest runs. Measured with BuildKit on `node:20-slim`: `mkdir -p
/// /dev/shm/build && npm ci && npm run build`, the build recording
/// whether `/dev/shm/build` exists, wrote `with-dir` in the original and
/// `without-dir` in the split rewrite.
#[test]
fn a_split_keeps_together_what_writes_and_reads_the_per_run_mounts() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"},\"scripts\":{\"build\":\"node build.js\"}}",
        ),
        (
            "package-lock.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{\"\":{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}},\"node_modules/ms\":{\"version\":\"2.1.3\",\"resolved\":\"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\"integrity\":\"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\"}}}\n",
        ),
        ("build.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ]);
    for first in [
        "mkdir -p /dev/shm/build",
        "touch /dev/shm/ready",
        "cp package.json /dev/shm/package.json",
        "echo 1 > /dev/shm/flag",
    ] {
        let df = format!(
            "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {first} && npm ci && npm run build\n"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "split:\n{df}");
    }
    // A redirection to `/dev/null` writes nothing: still split.
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci > /dev/null && npm run build\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// A Bundler `frozen`/`deployment` setting an earlier `RUN` wrote keeps
/// the lock only while it stands: a higher-precedence source (the
/// environment, the local file `$BUNDLE_APP_CONFIG/config`) may turn it
/// off, a unit between may rewrite either file or move them (another
/// `bundle config`, a `RUN` not understood, a copy into the home, a user,
/// a home or a location variable of its own), a cache mount may hide them,
/// and an image not known may set anything. Each keeps the install
/// Unsafe (without the setting Bundler may rewrite the lock: on an arm64
/// host it adds `aarch64-linux`).
#[test]
fn an_earlier_bundler_setting_keeps_the_lock_only_while_it_stands() {
    let lock = crate::support::BUNDLER_LOCK.replace("  aarch64-linux\n", "");
    let set = "RUN bundle config --global frozen 1\n";
    let tail = "WORKDIR /app\nCOPY . .\nRUN bundle install\n";
    let cases: Vec<String> = vec![
        format!("FROM ruby:3.1\n{set}ENV BUNDLE_FROZEN=false\n{tail}"),
        format!("FROM ruby:3.1\n{set}RUN bundle config --global frozen 0\n{tail}"),
        format!("FROM ruby:3.1\n{set}RUN bundle config unset frozen\n{tail}"),
        format!("FROM ruby:3.1\nRUN bundle config --local frozen 0\n{set}{tail}"),
        format!("FROM ruby:3.1\n{set}RUN eval \"$SETUP\"\n{tail}"),
        format!(
            "FROM ruby:3.1\n{set}RUN printf -- '---\\nBUNDLE_FROZEN: \"false\"\\n' > /usr/local/bundle/config\n{tail}"
        ),
        format!("FROM ruby:3.1\n{set}COPY bundle-config /root/.bundle/config\n{tail}"),
        format!("FROM ruby:3.1\n{set}RUN useradd -m app\nUSER app\n{tail}"),
        format!("FROM ruby:3.1\n{set}ENV HOME=/home/app\n{tail}"),
        format!("FROM ruby:3.1\n{set}ENV BUNDLE_USER_CONFIG=/etc/bundle\n{tail}"),
        format!("FROM ruby:3.1\n{set}ENV BUNDLE_APP_CONFIG=/app/.bundle\n{tail}"),
        format!(
            "FROM ruby:3.1\nRUN --mount=type=cache,target=/root/.bundle bundle config --global frozen 1\n{tail}"
        ),
        format!(
            "FROM ruby:3.1\n{set}WORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/root/.bundle bundle install\n"
        ),
        format!("FROM ruby:3.1\n{set}WORKDIR /app\nCOPY . .\nRUN HOME=/tmp bundle install\n"),
        format!("FROM example/ruby:3.1\n{set}{tail}"),
        format!("FROM ruby:3.1 AS base\n{set}ONBUILD RUN true\nFROM base\n{tail}"),
        format!("FROM ruby:3.1 AS base\n{set}FROM base\nUSER nobody\n{tail}"),
        format!(
            "FROM ruby:3.1\n{set}WORKDIR /app\nCOPY . .\nRUN bundle config set frozen false && bundle install\n"
        ),
    ];
    for df in &cases {
        let (hoist, text) = crate::support::bundler_rewrite(
            df,
            &[
                ("Gemfile.lock", lock.as_str()),
                ("bundle-config", "---\nBUNDLE_FROZEN: \"false\"\n"),
            ],
        );
        assert!(
            hoist
                .as_ref()
                .is_none_or(|(app, _)| *app != Applicability::Safe),
            "{df}: {hoist:?}"
        );
        assert_eq!(&text, df, "nothing moves");
    }
    // The local file the project ships when `BUNDLE_APP_CONFIG` names its
    // directory: it comes with the broad copy, after the setting.
    let df = format!("FROM ruby:3.1\nENV BUNDLE_APP_CONFIG=/app/.bundle\n{set}{tail}");
    let (hoist, text) = crate::support::bundler_rewrite(
        &df,
        &[
            ("Gemfile.lock", lock.as_str()),
            (".bundle/config", "---\nBUNDLE_FROZEN: \"false\"\n"),
        ],
    );
    assert!(
        hoist
            .as_ref()
            .is_none_or(|(app, _)| *app != Applicability::Safe),
        "{df}: {hoist:?}"
    );
    assert_eq!(text, df, "nothing moves");
}

/// A `bundle config` setting that may name a file (`gemfile`, `path`,
/// `local.GEM`, a `build.GEM` flag with a path, a key not known) written
/// before the broad copy, in a stage the install's is built on or in the
/// install's own `RUN`, moves what the install reads: `gemfile` makes
/// Bundler read another Gemfile and its lock (bundle-config(1); measured
/// with BuildKit on ruby 3.1: the hoisted `RUN bundle install` with only
/// Gemfile and Gemfile.lock copied failed, "The deployment setting
/// requires a Gemfile.prod.lock"). It keeps the install in place, the
/// frozen setting beside it or not. A setting known to name no file
/// (`without`, `jobs`, `path vendor/bundle`) still lets it move.
#[test]
fn an_earlier_bundler_setting_naming_a_file_keeps_the_install_in_place() {
    let lock = crate::support::BUNDLER_LOCK.replace("  aarch64-linux\n", "");
    let frozen = "RUN bundle config --global frozen 1\n";
    let tail = "WORKDIR /app\nCOPY . .\nRUN bundle install\n";
    let files = [
        ("Gemfile.lock", lock.as_str()),
        ("Gemfile.prod", crate::support::BUNDLER_GEMFILE),
        ("Gemfile.prod.lock", lock.as_str()),
    ];
    let cases: Vec<String> = vec![
        format!("FROM ruby:3.1\n{frozen}RUN bundle config --global gemfile Gemfile.prod\n{tail}"),
        format!(
            "FROM ruby:3.1\nRUN bundle config --global frozen 1 && bundle config set gemfile Gemfile.prod\n{tail}"
        ),
        format!("FROM ruby:3.1\nRUN bundle config set --local path .gems\n{frozen}{tail}"),
        format!("FROM ruby:3.1\n{frozen}RUN bundle config local.rack /app/vendor/rack\n{tail}"),
        format!(
            "FROM ruby:3.1\n{frozen}RUN bundle config --global BUNDLE_GEMFILE Gemfile.prod\n{tail}"
        ),
        format!(
            "FROM ruby:3.1\nENV BUNDLE_FROZEN=1\nRUN if true; then bundle config gemfile Gemfile.prod; fi\n{tail}"
        ),
        format!(
            "FROM ruby:3.1\nRUN bundle config --global gemfile Gemfile.prod\nWORKDIR /app\nCOPY . .\nRUN bundle install --deployment\n"
        ),
        format!(
            "FROM ruby:3.1\nENV BUNDLE_FROZEN=1\nRUN bundle config --global gemfile Gemfile.prod\n{tail}"
        ),
        format!(
            "FROM ruby:3.1 AS base\n{frozen}RUN bundle config --global gemfile Gemfile.prod\nFROM base\n{tail}"
        ),
        format!(
            "FROM ruby:3.1\n{frozen}WORKDIR /app\nCOPY . .\nRUN bundle config --global gemfile Gemfile.prod && bundle install\n"
        ),
        format!(
            "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle config --global gemfile Gemfile.prod && bundle install --frozen\n"
        ),
    ];
    for df in &cases {
        let (hoist, text) = crate::support::bundler_rewrite(df, &files);
        assert!(
            hoist
                .as_ref()
                .is_none_or(|(app, _)| *app != Applicability::Safe),
            "{df}: {hoist:?}"
        );
        assert_eq!(&text, df, "nothing moves");
    }
    for set in [
        "RUN bundle config set without 'test development'\n",
        "RUN bundle config --global jobs 4\n",
        "RUN bundle config set --local path vendor/bundle\n",
        "RUN bundle config build.nokogiri --use-system-libraries\n",
    ] {
        let df = format!("FROM ruby:3.1\n{set}{frozen}{tail}");
        let (app, reason, _) = crate::support::bundler_hoist(&df, &files);
        assert_eq!(app, Applicability::Safe, "{df}: {reason}");
    }
}

#[test]
fn pnpm_ten_keeps_the_install_in_place_where_scripts_may_run() {
    // pnpm 10 runs a dependency's install script where a setting allows
    // it (every 10.x: `onlyBuiltDependencies`, its file,
    // `neverBuiltDependencies` (10.0.0 builds everything when it is
    // empty), `dangerouslyAllowAllBuilds`, `allowBuilds`), from
    // package.json, pnpm-workspace.yaml, an .npmrc, the environment or
    // an option; before 10.26 it ran a git-hosted package's `prepare`
    // whatever the settings (pnpm/pnpm#10288). Only a pnpm proven to be
    // of major 10 counts: npm's `pnpm` or `pnpm@latest` is the
    // registry's newest (12.25.1, another program), and pnpm 10 switches
    // to the release `packageManager` names. Measured with BuildKit
    // (node:20-slim, pnpm 10.12.1): msw 2.7.0 allowed, its postinstall
    // wrote the project's worker in the original only (images differed).
    let tail = "WORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n";
    let npm = "RUN npm install -g pnpm@10.12.1\n";
    let safe = |files: &[(String, String)], launch: &str, run: &str| {
        let df = format!("FROM node:20-slim\n{launch}{tail}").replace(
            "RUN pnpm install --frozen-lockfile\n",
            &format!("RUN {run}\n"),
        );
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (hoist, _) = crate::support::hoist_proposal(&files, &df, &[]);
        hoist.is_some_and(|(a, _)| a == Applicability::Safe)
    };
    let install = "pnpm install --frozen-lockfile";
    let esbuild = ",\"pnpm\":{\"onlyBuiltDependencies\":[\"esbuild\"]}";
    let good = crate::support::pnpm_ten_esbuild(esbuild);
    // The project the cases below change moves.
    assert!(safe(&good, npm, install));
    assert!(safe(&crate::support::pnpm_ten_esbuild(""), npm, install));
    let with = |allow: &str, extra: &[(&str, &str)]| {
        let mut f = crate::support::pnpm_ten_esbuild(allow);
        for (k, v) in extra {
            f.retain(|(n, _)| n != k);
            f.push((k.to_string(), v.to_string()));
        }
        f
    };
    // Settings that let a package not known run its script.
    for allow in [
        ",\"pnpm\":{\"onlyBuiltDependencies\":[\"msw\"]}",
        ",\"pnpm\":{\"onlyBuiltDependencies\":[\"esbuild\",\"sharp\"]}",
        ",\"pnpm\":{\"onlyBuiltDependencies\":[\"@esbuild/*\"]}",
        ",\"pnpm\":{\"allowBuilds\":{\"msw\":true}}",
        ",\"pnpm\":{\"onlyBuiltDependenciesFile\":\"allowed.json\"}",
        ",\"pnpm\":{\"neverBuiltDependencies\":[]}",
        ",\"pnpm\":{\"dangerouslyAllowAllBuilds\":true}",
        ",\"pnpm\":{\"onlyBuiltDependencies\":[\"esbuild\"],\"patchedDependencies\":{\"esbuild@0.21.5\":\"patches/esbuild.patch\"}}",
    ] {
        let f = with(
            allow,
            &[
                ("allowed.json", "[\"msw\"]\n"),
                ("patches/esbuild.patch", "x\n"),
            ],
        );
        assert!(!safe(&f, npm, install), "{allow}");
    }
    for (name, text) in [
        ("pnpm-workspace.yaml", "onlyBuiltDependencies:\n  - msw\n"),
        ("pnpm-workspace.yaml", "allowBuilds:\n  msw: true\n"),
        ("pnpm-workspace.yaml", "neverBuiltDependencies: []\n"),
        ("pnpm-workspace.yaml", "dangerouslyAllowAllBuilds: true\n"),
        (
            "pnpm-workspace.yaml",
            "onlyBuiltDependenciesFile: allowed.json\n",
        ),
        (".npmrc", "only-built-dependencies[]=msw\n"),
        (".npmrc", "dangerously-allow-all-builds=true\n"),
        (".npmrc", "never-built-dependencies[]=ms\n"),
    ] {
        let f = with("", &[(name, text), ("allowed.json", "[\"msw\"]\n")]);
        assert!(!safe(&f, npm, install), "{name}: {text}");
    }
    // The environment, an option, pnpm's or npm's user settings.
    for (launch, run) in [
        (
            "RUN npm install -g pnpm@10.12.1\nENV npm_config_dangerously_allow_all_builds=true\n",
            install,
        ),
        (
            "RUN npm install -g pnpm@10.12.1\nENV pnpm_config_dangerously_allow_all_builds=true\n",
            install,
        ),
        (
            "RUN npm install -g pnpm@10.12.1\nRUN pnpm config set dangerously-allow-all-builds true\n",
            install,
        ),
        (
            "RUN npm install -g pnpm@10.12.1\nRUN echo 'only-built-dependencies[]=msw' >> /usr/local/etc/npmrc\n",
            install,
        ),
        (
            npm,
            "pnpm install --frozen-lockfile --config.dangerously-allow-all-builds=true",
        ),
        (
            npm,
            "pnpm install --frozen-lockfile --dangerously-allow-all-builds",
        ),
        (
            npm,
            "npm_config_dangerously_allow_all_builds=true pnpm install --frozen-lockfile",
        ),
    ] {
        assert!(!safe(&good, launch, run), "{launch} {run}");
    }
    // The lock: a package from elsewhere than the registry (a git-hosted
    // one is prepared by pnpm before 10.26), esbuild out of the range
    // read, no lock, an older lock, an install not bound to it.
    let git = "\n  foo@https://codeload.github.com/a/foo/tar.gz/0123456789abcdef0123456789abcdef01234567:\n    resolution: {tarball: https://codeload.github.com/a/foo/tar.gz/0123456789abcdef0123456789abcdef01234567}\n    version: 1.0.0\n";
    let repo = "\n  foo@git+https://github.com/a/foo.git#0123456789abcdef0123456789abcdef01234567:\n    resolution: {commit: 0123456789abcdef0123456789abcdef01234567, repo: https://github.com/a/foo.git, type: git}\n    version: 1.0.0\n";
    for lock in [
        crate::support::pnpm_ten_lock("0.21.5", git),
        crate::support::pnpm_ten_lock("0.21.5", repo),
        crate::support::pnpm_ten_lock("0.29.0", ""),
        crate::support::pnpm_ten_lock("0.16.17", ""),
        crate::support::pnpm_ten_lock("0.21.5", "").replace("'9.0'", "'6.0'"),
        crate::support::pnpm_ten_lock("0.21.5", "").replace(
            "resolution: {integrity: sha512-mg3",
            "resolution: {tarball: https://example.com/esbuild-0.21.5.tgz, integrity: sha512-mg3",
        ),
    ] {
        let f = with(esbuild, &[("pnpm-lock.yaml", &lock)]);
        assert!(!safe(&f, npm, install), "{lock}");
    }
    // A git-hosted package runs its `prepare` even with nothing allowed.
    let f = with(
        "",
        &[(
            "pnpm-lock.yaml",
            &crate::support::pnpm_ten_lock("0.21.5", repo),
        )],
    );
    assert!(!safe(&f, npm, install));
    let mut f = good.clone();
    f.retain(|(n, _)| n != "pnpm-lock.yaml");
    assert!(!safe(&f, npm, "pnpm install"));
    assert!(!safe(&good, npm, "pnpm install"));
    assert!(!safe(
        &crate::support::pnpm_ten_esbuild(""),
        npm,
        "pnpm install"
    ));
    // A pnpm not proven to be of major 10.
    for launch in [
        "RUN npm install -g pnpm\n",
        "RUN npm install -g pnpm@latest\n",
        "RUN npm install -g pnpm@11.29.0\n",
        "RUN npm install -g pnpm@12\n",
        "RUN npm install -g pnpm@>=10\n",
        "RUN npm install -g pnpm@9.15.9\n",
    ] {
        assert!(!safe(&good, launch, install), "{launch}");
    }
    // `packageManager`: pnpm 10 and corepack run the release it names.
    for (pm, launch) in [
        ("pnpm@11.29.0", npm),
        ("pnpm@12.25.1", npm),
        ("pnpm@9.15.9", npm),
        ("pnpm@11.29.0", "RUN corepack enable\n"),
        ("pnpm@10", "RUN corepack enable\n"),
        ("pnpm@10.12", "RUN corepack enable\n"),
        ("pnpm@10.12.1-rc.1", "RUN corepack enable\n"),
        ("yarn@1.22.22", npm),
    ] {
        let mut f = good.clone();
        f[0].1 = f[0].1.replace("pnpm@10.12.1", pm);
        assert!(!safe(&f, launch, install), "{pm} {launch}");
    }
    let mut f = good.clone();
    f[0].1 = f[0].1.replace("\"packageManager\":\"pnpm@10.12.1\",", "");
    assert!(safe(&f, npm, install));
    assert!(!safe(&f, "RUN corepack enable\n", install));
}

/// An explicit `frozen` setting that is off may win over `deployment`
/// (Bundler's later `frozen_bundle?` takes `frozen` first when it is
/// given, as h-bundle58 remembered; 2.3.15, the one measured here, takes
/// either): `BUNDLE_DEPLOYMENT=1` beside `BUNDLE_FROZEN=false` no longer
/// proves the lock kept. Only the command's own `--frozen` does then.
#[test]
fn a_frozen_setting_given_as_off_is_not_overridden_by_deployment() {
    use crate::support::{BUNDLER_LOCK, bundler_hoist};
    // A lock Bundler would complete on an arm64 host: only a frozen
    // install keeps it.
    let lock = BUNDLER_LOCK.replace("  aarch64-linux\n", "");
    let files = [("Gemfile.lock", lock.as_str())];
    let df = |env: &str, run: &str| {
        format!("FROM ruby:3.1\n{env}WORKDIR /usr/src/app\nCOPY . .\nRUN {run}\n")
    };
    for (env, run) in [
        (
            "ENV BUNDLE_DEPLOYMENT=1 BUNDLE_FROZEN=false\n",
            "bundle install",
        ),
        (
            "ENV BUNDLE_DEPLOYMENT=true\n",
            "BUNDLE_FROZEN=0 bundle install",
        ),
        ("ENV BUNDLE_FROZEN=no\n", "bundle install --deployment"),
    ] {
        let df = df(env, run);
        let (app, reason, _) = bundler_hoist(&df, &files);
        assert_eq!(app, Applicability::Unsafe, "{df}: {reason}");
    }
    for (env, run) in [
        ("ENV BUNDLE_FROZEN=false\n", "bundle install --frozen"),
        ("ENV BUNDLE_DEPLOYMENT=1\n", "bundle install"),
    ] {
        let df = df(env, run);
        let (app, reason, _) = bundler_hoist(&df, &files);
        assert_eq!(app, Applicability::Safe, "{df}: {reason}");
    }
}

/// The known scripts sharp's and @swc/core's entries describe were read
/// against npm's lock and layout (what they load by name from where node
/// finds it, packages whose presence changes their path, the project in
/// `INIT_CWD`): allowed by pnpm 10, they keep the install in place. So
/// does a platform package esbuild's script loads at a version not read,
/// and a lock with overrides (which may give a loaded name another
/// package). Found merging h-pnpm58 (pnpm's allow-list) with h-scripts58
/// (sharp, @swc/core): the allow-list took every known name.
#[test]
fn pnpm_allowed_scripts_read_under_npm_only_keep_the_install_in_place() {
    let df = "FROM node:20-slim\nRUN npm install -g pnpm@10.12.1\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n";
    let safe = |files: &[(String, String)]| {
        let dir = crate::support::project_owned(files);
        rewrite_unsafe_too(dir.path(), df) != df
    };
    // The control: esbuild allowed moves.
    let esbuild =
        crate::support::pnpm_ten_esbuild(",\"pnpm\":{\"onlyBuiltDependencies\":[\"esbuild\"]}");
    assert!(safe(&esbuild));
    for allowed in ["sharp", "@swc/core"] {
        let files = crate::support::pnpm_ten_esbuild(&format!(
            ",\"pnpm\":{{\"onlyBuiltDependencies\":[\"esbuild\",\"{allowed}\"]}}"
        ));
        assert!(!safe(&files), "{allowed}");
    }
    // esbuild's platform package at a version not read.
    let mut files = esbuild.clone();
    files[1].1 = files[1].1.replace(
        "'@esbuild/linux-x64@0.21.5':\n    resolution",
        "'@esbuild/linux-x64@0.16.0':\n    resolution",
    );
    assert!(!safe(&files));
    // Overrides.
    let mut files = esbuild;
    files[1].1 = files[1].1.replace(
        "settings:\n",
        "overrides:\n  '@esbuild/linux-x64': npm:other@1.0.0\n\nsettings:\n",
    );
    assert!(!safe(&files));
}

/// @parcel/watcher's known script builds from source (what was not read)
/// under `build-from-source`: set on the line, in the environment, in the
/// project's `.npmrc` or in a user's configuration an earlier `RUN`
/// writes, the install stays below the broad copy; so does a version
/// whose script was not read.
#[test]
fn parcel_watchers_script_moves_only_without_build_from_source() {
    let safe = |files: &[(String, String)], df: &str| {
        let dir = crate::support::project_owned(files);
        rewrite_unsafe_too(dir.path(), df) != df
    };
    let files = crate::support::parcel_watcher_project("2.5.1");
    let df = |before: &str, run: &str| {
        format!("FROM node:20-slim\n{before}WORKDIR /app\nCOPY . .\nRUN {run}\n")
    };
    assert!(safe(&files, &df("", "npm ci")));
    for (before, run) in [
        ("ENV npm_config_build_from_source=true\n", "npm ci"),
        ("ARG NPM_CONFIG_BUILD_FROM_SOURCE=true\n", "npm ci"),
        ("", "npm ci --build-from-source"),
        ("", "npm_config_build_from_source=true npm ci"),
        (
            "RUN npm config set build-from-source true --location user\n",
            "npm ci",
        ),
    ] {
        let text = df(before, run);
        assert!(!safe(&files, &text), "{text}");
    }
    let mut with_rc = files.clone();
    with_rc.push((".npmrc".into(), "build_from_source=true\n".into()));
    assert!(!safe(&with_rc, &df("", "npm ci")));
    // 2.1.0 ran node-gyp-build: not read.
    let old = crate::support::parcel_watcher_project("2.1.0");
    assert!(!safe(&old, &df("", "npm ci")));
}

/// `npm install` writes the project's lock back, and where the project has
/// an `npm-shrinkwrap.json` that lock is the shrinkwrap (npm writes no
/// package-lock.json then). Moved above a broad copy that ships the
/// shrinkwrap, the copy would put back the old bytes over what the install
/// wrote. Measured (h-real62, real BuildKit on node:20-slim, npm 10.8.2):
/// the corpus Dockerfile real-world/267 (`COPY . ./` then `RUN npm
/// install`) on a project with no dependency and a shrinkwrap lacking its
/// top-level `version` gave `/app/npm-shrinkwrap.json` of 191 bytes
/// (rewritten) before the move and 122 bytes (the context's) after it.
#[test]
fn npm_install_is_not_hoisted_over_a_shipped_shrinkwrap_it_rewrites() {
    use crate::support::hoist_proposal;
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . ./\nRUN npm install\n";
    let package = "{\"name\":\"a\",\"version\":\"1.0.0\",\"private\":true,\"dependencies\":{}}";
    let shrinkwrap = "{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{\"\":{\"name\":\"a\",\"version\":\"1.0.0\"}}}";
    // Without the shrinkwrap the hoist stays Safe (measured identical).
    let (plain, _) = hoist_proposal(&[], df, &[("package.json", package), ("index.js", "x\n")]);
    assert_eq!(
        plain.map(|(a, _)| a),
        Some(Applicability::Safe),
        "the control case"
    );
    for (name, dockerfile) in [
        ("top", df.to_string()),
        (
            "--no-audit",
            df.replace("npm install", "npm install --no-audit"),
        ),
    ] {
        let (change, out) = hoist_proposal(
            &[],
            &dockerfile,
            &[
                ("package.json", package),
                ("npm-shrinkwrap.json", shrinkwrap),
                ("index.js", "x\n"),
            ],
        );
        let (app, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
        assert_ne!(app, Applicability::Safe, "{name}: {reason}");
        assert_eq!(out, dockerfile, "{name}: nothing moves");
    }
}

/// h-real62: the reorder knew that `pip install -r F` reads F but not the
/// requirement files F includes (`-r`, `-c`), so it moved the copy of an
/// included file below the install (the corpus Dockerfile real-world/217:
/// three requirement files copied, then three installs). With
/// requirements-test.txt starting `-r requirements-composer.txt`, measured
/// with BuildKit (python:3.12-slim): the original built, the rewrite failed
/// (`Could not open requirements file`). Each file an install reads,
/// includes too, stays below the copy that puts it and above a later
/// write of it.
#[test]
fn a_reorder_keeps_the_copies_of_included_requirement_files_above_the_install() {
    let df = "FROM python:3.12\nCOPY requirements.txt ./\nCOPY requirements-composer.txt ./\nCOPY requirements-test.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nRUN pip install --no-cache-dir -r requirements-test.txt\nRUN pip install --no-cache-dir -r requirements-composer.txt\nWORKDIR /dags\nCOPY . ./\n";
    let before = |text: &str, a: &str, b: &str| {
        let (ia, ib) = (text.find(a), text.find(b));
        assert!(ia.is_some() && ib.is_some(), "{a} / {b}:\n{text}");
        ia < ib
    };
    let plain = [
        ("requirements.txt", "requests==2.32.3\n"),
        ("requirements-test.txt", "pytest==8.2.2\n"),
        ("requirements-composer.txt", "six==1.16.0\n"),
        ("dags/test_dag.py", "x = 1\n"),
    ];
    // The control case: without includes the copies interleave with the
    // installs (measured identical).
    let out = rewritten_in(&plain, df);
    assert_ne!(out, df, "the control case moves");
    for (what, file, text, copy, install) in [
        (
            "-r in requirements-test.txt",
            "requirements-test.txt",
            "-r requirements-composer.txt\npytest==8.2.2\n",
            "COPY requirements-composer.txt",
            "RUN pip install --no-cache-dir -r requirements-test.txt",
        ),
        (
            "-r in requirements.txt",
            "requirements.txt",
            "-r requirements-test.txt\nrequests==2.32.3\n",
            "COPY requirements-test.txt",
            "RUN pip install --no-cache-dir -r requirements.txt",
        ),
        (
            "-c in requirements.txt",
            "requirements.txt",
            "--constraint requirements-composer.txt\nrequests\n",
            "COPY requirements-composer.txt",
            "RUN pip install --no-cache-dir -r requirements.txt",
        ),
    ] {
        let mut files = plain.to_vec();
        files.retain(|(n, _)| *n != file);
        files.push((file, text));
        let out = rewritten_in(&files, df);
        assert!(before(&out, copy, install), "{what}:\n{out}");
    }
    // A later write of an included file stays after the install that
    // reads it.
    let df = "FROM python:3.12\nCOPY requirements.txt requirements-base.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY other/requirements-base.txt ./\nRUN pip install --no-cache-dir -r requirements-base.txt\n";
    let files = [
        (
            "requirements.txt",
            "-r requirements-base.txt\nrequests==2.32.3\n",
        ),
        ("requirements-base.txt", "six==1.16.0\n"),
        ("other/requirements-base.txt", "pytest==8.2.2\n"),
    ];
    let out = rewritten_in(&files, df);
    assert!(
        before(
            &out,
            "RUN pip install --no-cache-dir -r requirements.txt",
            "COPY other/requirements-base.txt"
        ),
        "{out}"
    );
}

/// h-real62: Maven activates a profile by `<file><exists>` or `<missing>`
/// on whatever is at the path, a directory too (resolved against the
/// module's directory). The hoist copied the tested path when it was a
/// shipped file, and ignored it otherwise: `<missing>src/main/java</missing>`
/// with the sources there (a directory the broad copy makes) is true only
/// above the copy, so `mvn dependency:go-offline` moved there resolves
/// that profile's dependencies too. Measured with BuildKit (Debian's
/// maven 3.8.7 on debian:bookworm-slim, `mvn -o validate` in place of the
/// go-offline no Maven Central here serves): a profile so activated that
/// adds a plugin made the rewrite fail where the original built. A
/// directory there, an empty one, or a path below a shipped link keeps the
/// install in place.
#[test]
fn maven_install_stays_below_a_copy_that_makes_a_profile_s_tested_directory() {
    let df = "FROM maven:3.9-eclipse-temurin-21\nWORKDIR /app\nCOPY . .\nRUN mvn -B dependency:go-offline\nRUN mvn -B package\n";
    let pom = |tag: &str, path: &str| {
        format!(
            "<project><modelVersion>4.0.0</modelVersion><groupId>x</groupId><artifactId>a</artifactId><version>1</version><profiles><profile><id>p</id><activation><file><{tag}>{path}</{tag}></file></activation><dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version></dependency></dependencies></profile></profiles></project>\n"
        )
    };
    let src = ("src/main/java/A.java", "class A {}\n");
    // The control case: a tested path that is nowhere in the context, as
    // absent above the copy as below it.
    let control = pom("missing", "no/such/dir");
    let (change, _) = crate::support::hoist_proposal(&[], df, &[("pom.xml", &control), src]);
    assert_eq!(
        change.map(|(a, _)| a),
        Some(Applicability::Safe),
        "the control case"
    );
    for (tag, path) in [
        ("missing", "src/main/java"),
        ("exists", "src/main/java"),
        ("missing", "${basedir}/src"),
        ("exists", "${project.basedir}/src/main"),
    ] {
        let text = pom(tag, path);
        let (change, out) = crate::support::hoist_proposal(&[], df, &[("pom.xml", &text), src]);
        let (app, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
        assert_ne!(app, Applicability::Safe, "{tag} {path}: {reason}");
        assert_eq!(out, df, "{tag} {path}: nothing moves");
    }
    // An empty directory the copy makes.
    let text = pom("exists", "generated");
    let dir = crate::support::project(&[("pom.xml", &text), src]);
    std::fs::create_dir(dir.path().join("generated")).expect("mkdir");
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rewrite");
    assert_eq!(out.new_text, df, "an empty directory");
}

/// A `RUN` that is one `if` on file tests (Next.js's lock-file detection)
/// is followed only where the context and the stage decide every test on
/// the way to the arm that runs; it then reads the tested paths, and one
/// the copy ships is copied first. Kept in place: an earlier `RUN` (in the
/// stage or a stage it is built on) that may write a tested path, a tested
/// path that is a directory or a link in the context, a condition with a
/// variable or other than `-f`, commands around the `if`, a nested `if`.
/// With `yarn.lock` shipped the `yarn` arm runs, not `npm ci`: its lock is
/// read (and copied first if the `RUN` moves).
#[test]
fn a_file_test_if_is_followed_only_where_the_context_decides_its_arm() {
    let npm: &[(&str, &str)] = &[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}\n",
        ),
        ("src/index.js", "x\n"),
    ];
    let chain = "if [ -f yarn.lock ]; then yarn --frozen-lockfile; elif [ -f package-lock.json ]; then npm ci; else exit 1; fi";
    let df = |before: &str, between: &str, run: &str| {
        format!("FROM node:20-slim\n{before}WORKDIR /app\nCOPY . .\n{between}RUN {run}\n")
    };
    let dir = project(npm);
    let moved = |dir: &Path, text: &str| rewrite_all(dir, text) != text;
    assert!(moved(dir.path(), &df("", "", chain)));
    for (before, between, run) in [
        ("", "RUN touch yarn.lock\n", chain.to_string()),
        (
            "RUN mkdir -p /app && echo > /app/yarn.lock\n",
            "",
            chain.to_string(),
        ),
        ("", "", chain.replace("[ -f yarn.lock ]", "[ -f $LOCK ]")),
        (
            "",
            "",
            chain.replace("[ -f yarn.lock ]", "[ -e yarn.lock ]"),
        ),
        (
            "",
            "",
            chain.replace("[ -f yarn.lock ]", "[ ! -f yarn.lock ]"),
        ),
        ("", "", format!("rm -f yarn.lock; {chain}")),
        ("", "", format!("{chain} && npm run build")),
        (
            "",
            "",
            chain.replace("then npm ci;", "then if [ -f .npmrc ]; then npm ci; fi;"),
        ),
    ] {
        let text = df(before, between, &run);
        assert!(!moved(dir.path(), &text), "{text}");
    }
    // A stage it is built on that may write a tested path.
    let staged = format!(
        "FROM node:20-slim AS base\nRUN mkdir -p /app && touch /app/yarn.lock\nFROM base\nWORKDIR /app\nCOPY . .\nRUN {chain}\n"
    );
    assert_eq!(rewrite_all(dir.path(), &staged), staged);
    // A directory at a tested path.
    let mut with_dir = npm.to_vec();
    with_dir.push(("yarn.lock/x", "x\n"));
    let dir2 = project(&with_dir);
    assert!(!moved(dir2.path(), &df("", "", chain)));
    // A link at a tested path.
    let dir3 = project(npm);
    std::os::unix::fs::symlink("package.json", dir3.path().join("yarn.lock")).expect("link");
    assert!(!moved(dir3.path(), &df("", "", chain)));
    // With `yarn.lock` shipped, the `yarn` arm runs: the `RUN` reads the
    // yarn lock and never is taken for `npm ci`.
    let mut with_yarn = npm.to_vec();
    with_yarn.push(("yarn.lock", "# yarn lockfile v1\n"));
    let dir4 = project(&with_yarn);
    let text = df("", "", chain);
    let ctx = Context::new(
        dir4.path().to_path_buf(),
        Some(&dir4.path().join("Dockerfile")),
    );
    let fa =
        dockreorder::analysis::file::FileAnalysis::new(&text, Some(&ctx), Knowledge::embedded());
    let e = fa.stages[0].effects.last().expect("the RUN");
    assert!(e.opaque.is_none(), "{:?}", e.opaque);
    assert!(
        e.manifests.iter().any(|m| m == "/app/yarn.lock"),
        "{:?}",
        e.manifests
    );
    assert!(
        !e.manifests.iter().any(|m| m == "/app/package-lock.json"),
        "{:?}",
        e.manifests
    );
    let out = rewrite_all(dir4.path(), &text);
    assert!(
        !out.contains("COPY package.json package-lock.json ./"),
        "{out}"
    );
}

/// h-rev62b: a file test whose path the base image holds (`[ -f
/// /etc/debian_version ]` on a Debian image) was taken as no file, as if
/// the base image held nothing there: the `else` arm (`npm ci`) was
/// hoisted above `COPY . .`. Measured (BuildKit, node:20-slim): the `then`
/// arm ran in both, and the rewrite's `cp -r /app /copyofapp` lost every
/// file but the manifests. The base image is taken not to hold only a
/// manifest or lock file name in a directory the stage copies context
/// files to (the app directory), as for the locks the hoist reads.
#[test]
fn a_file_test_of_what_the_base_image_may_hold_is_not_decided() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}\n",
        ),
        ("app.js", "x\n"),
    ]);
    let df =
        |wd: &str, run: &str| format!("FROM node:20-slim\nWORKDIR {wd}\nCOPY . .\nRUN {run}\n");
    // The app directory's lock, absent from the context: decided (moves).
    let chain = "if [ -f yarn.lock ]; then cp -r /app /copyofapp; else npm ci; fi";
    let text = df("/app", chain);
    assert_ne!(rewrite_all(dir.path(), &text), text);
    for (wd, run) in [
        // An absolute path the base image holds.
        (
            "/app",
            "if [ -f /etc/debian_version ]; then cp -r /app /copyofapp; else npm ci; fi",
        ),
        // A manifest name the base image holds, outside the app directory.
        (
            "/app",
            "if [ -f /usr/local/lib/node_modules/npm/package.json ]; then cp -r /app /copyofapp; else npm ci; fi",
        ),
        // A relative path the base image holds, below the working
        // directory.
        (
            "/",
            "if [ -f etc/debian_version ]; then cp -r /app /copyofapp; else npm ci; fi",
        ),
    ] {
        let text = df(wd, run);
        assert_eq!(rewrite_all(dir.path(), &text), text, "{text}");
    }
}

/// h-scout62: a compose file in a subdirectory (`deploy/docker-compose.yml`
/// with `context: ..`) names the build context of the Dockerfile beside
/// it; taking the Dockerfile's directory made a Safe hoist copy the wrong
/// `requirements.txt` alone (measured: the rewrite failed to build from
/// the root, as compose builds it).
#[test]
fn a_compose_file_below_the_root_names_the_context() {
    // `deploy/docker-compose.yml` builds `deploy/Dockerfile` with
    // `context: ..` (the repository root); `deploy/` holds requirements of
    // its own. Only compose files at the root were read, so the
    // Dockerfile's directory was taken as the context and the hoist copied
    // `requirements.txt` alone. Measured (scout62, BuildKit, the root as
    // context, as the compose file builds it): the original built, the
    // rewrite failed ("Could not open requirements file: ... 'base.txt'").
    let dir = project(&[
        (
            "deploy/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
        ),
        (
            "deploy/docker-compose.yml",
            "services:\n  app:\n    build:\n      context: ..\n      dockerfile: deploy/Dockerfile\n",
        ),
        ("deploy/requirements.txt", "six==1.16.0\n"),
        ("requirements.txt", "-r base.txt\n"),
        ("base.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
    ]);
    let d = dir.path();
    let git = |args: &[&str]| crate::support::git(d, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.name", "Dev"]);
    git(&["config", "user.email", "dev@example.com"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "init"]);
    let run = |args: &[&str], cwd: &std::path::Path| {
        let out = std::process::Command::new(crate::support::bin())
            .args(args)
            .current_dir(cwd)
            .output()
            .expect("run dockreorder");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for args in [
        &["--no-history", "."][..],
        &["--no-history", "deploy/Dockerfile"][..],
        &["."][..],
    ] {
        let stdout = run(args, d);
        assert!(
            stdout.contains("+COPY requirements.txt base.txt ./"),
            "{args:?}: {stdout}"
        );
    }
    // Run from the compose file's directory, too.
    let stdout = run(&["--no-history", "Dockerfile"], &d.join("deploy"));
    assert!(
        stdout.contains("+COPY requirements.txt base.txt ./"),
        "{stdout}"
    );
    // Two compose files naming two contexts: which one builds is not known.
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  app:\n    build:\n      context: deploy\n",
    )
    .expect("write");
    let out = std::process::Command::new(crate::support::bin())
        .args(["--no-history", "deploy/Dockerfile"])
        .current_dir(d)
        .output()
        .expect("run dockreorder");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("several contexts"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// h-rev62b: the compose files read name one context, but a file they
/// `include` (its paths resolved from its own directory), a service's
/// `extends` or an override file beside them may build the Dockerfile from
/// another. Measured (BuildKit, the root as context, as
/// `deploy/compose.yaml` included from the root builds `app/Dockerfile`):
/// the original built, the Safe rewrite (`COPY requirements.txt ./` first,
/// taken from `app/`) failed (`-r base.txt` not copied).
#[test]
fn compose_files_not_followed_keep_the_context_unknown() {
    let files: &[(&str, &str)] = &[
        (
            "app/Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        ),
        ("app/requirements.txt", "six==1.16.0\n"),
        ("app/app.py", "print(1)\n"),
        ("requirements.txt", "-r base.txt\n"),
        ("base.txt", "six==1.16.0\n"),
    ];
    let worker =
        "services:\n  worker:\n    build:\n      context: ..\n      dockerfile: app/Dockerfile\n";
    for (name, text, extra) in [
        (
            "compose.yaml",
            "include:\n  - deploy/compose.yaml\nservices:\n  web:\n    build: ./app\n",
            Some(("deploy/compose.yaml", worker)),
        ),
        (
            "compose.yaml",
            "services:\n  web:\n    build: ./app\n  worker:\n    extends:\n      file: deploy/compose.yaml\n      service: worker\n",
            Some(("deploy/compose.yaml", worker)),
        ),
        (
            "compose.yaml",
            "services:\n  web:\n    build: ./app\n",
            Some((
                "compose.override.yaml",
                "services:\n  web:\n    build:\n      context: .\n      dockerfile: app/Dockerfile\n",
            )),
        ),
    ] {
        let mut all = files.to_vec();
        all.push((name, text));
        all.extend(extra);
        let dir = project(&all);
        let d = dir.path();
        let git = |args: &[&str]| crate::support::git(d, args);
        git(&["init", "-q", "-b", "main"]);
        git(&["config", "user.name", "Dev"]);
        git(&["config", "user.email", "dev@example.com"]);
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "init"]);
        let out = std::process::Command::new(crate::support::bin())
            .args(["--no-history", "app/Dockerfile"])
            .current_dir(d)
            .output()
            .expect("run dockreorder");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !stdout.contains("+COPY requirements.txt ./"),
            "{text}: {stdout}"
        );
        assert_eq!(out.status.code(), Some(2), "{text}");
    }
    // The compose file alone names `app/`: the hoist is made there; an
    // override that sets no `build` (ports, volumes) changes no context.
    let mut all = files.to_vec();
    all.push(("compose.yaml", "services:\n  web:\n    build: ./app\n"));
    all.push((
        "compose.override.yaml",
        "services:\n  web:\n    ports:\n      - \"8000:8000\"\n    volumes:\n      - ./app:/app\n",
    ));
    let dir = project(&all);
    let d = dir.path();
    let git = |args: &[&str]| crate::support::git(d, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.name", "Dev"]);
    git(&["config", "user.email", "dev@example.com"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "init"]);
    let out = std::process::Command::new(crate::support::bin())
        .args(["--no-history", "app/Dockerfile"])
        .current_dir(d)
        .output()
        .expect("run dockreorder");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("+COPY requirements.txt ./"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Gradle runs buildSrc's plugins and the build scripts while it
/// configures, before `gradle dependencies` resolves anything: a plugin
/// class in buildSrc may read any file, and a script reads files through
/// qualified calls and Gradle's and the JDK's file APIs as well as through
/// `file(…)`. Measured with Debian's Gradle 4.4.1: a buildSrc plugin
/// setting `project.version = project.file('VERSION').text.trim()` (and
/// the same line in build.gradle) made the hoisted resolve fail (no
/// VERSION). Stale buildSrc outputs the broad copy ships are put back over
/// what the resolve compiled.
#[test]
fn gradle_build_logic_reading_files_keeps_the_resolve_in_place() {
    let df = "FROM gradle:8-jdk21\nWORKDIR /app\nCOPY . .\nRUN gradle dependencies --offline\nRUN gradle build --offline\n";
    let with = |extra: &[(&str, &str)]| {
        let mut files = vec![
            ("settings.gradle", "rootProject.name = 'app'\n"),
            ("build.gradle", "plugins { id 'java' }\n"),
            ("VERSION", "1.2.3\n"),
            ("src/main/java/A.java", "class A {}\n"),
            (".dockerignore", ".git\n"),
        ];
        files.retain(|(n, _)| !extra.iter().any(|(e, _)| e == n));
        files.extend_from_slice(extra);
        project(&files)
    };
    let plugin = "import org.gradle.api.*\nclass V implements Plugin<Project> {\n    void apply(Project p) { p.version = p.file('VERSION').text.trim() }\n}\n";
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("build.gradle", "apply plugin: V\n"),
            ("buildSrc/src/main/groovy/V.groovy", plugin),
        ],
        vec![
            ("build.gradle", "apply plugin: V\n"),
            ("buildSrc/src/main/java/V.java", "class V {}\n"),
        ],
        vec![
            ("build.gradle", "plugins { id 'conv' }\n"),
            (
                "buildSrc/src/main/groovy/conv.gradle",
                "version = project.file('VERSION').text\n",
            ),
        ],
        vec![(
            "build.gradle",
            "version = project.file('VERSION').text.trim()\n",
        )],
        vec![(
            "build.gradle",
            "version = rootProject.file(\"VERSION\").text\n",
        )],
        vec![(
            "build.gradle",
            "version = layout.projectDirectory.file(\"VERSION\").asFile.text\n",
        )],
        vec![(
            "build.gradle.kts",
            "version = providers.fileContents(layout.projectDirectory.file(\"VERSION\")).asText.get()\n",
        )],
        vec![(
            "build.gradle.kts",
            "version = java.nio.file.Files.readString(java.nio.file.Path.of(\"VERSION\"))\n",
        )],
        vec![(
            "build.gradle",
            "version = resources.text.fromFile('VERSION').asString()\n",
        )],
        vec![(
            "build.gradle",
            "version = new File(project.rootDir, 'VERSION').text\n",
        )],
        // Outputs of buildSrc shipped by the copy.
        vec![
            ("buildSrc/build.gradle", "plugins { id 'groovy' }\n"),
            ("buildSrc/build/libs/buildSrc.jar", "stale\n"),
        ],
    ];
    for extra in &cases {
        let dir = with(extra);
        assert_eq!(
            rewrite_unsafe_too(dir.path(), df),
            df,
            "moved with {extra:?}"
        );
    }
    // The control: a build whose scripts read nothing else.
    let dir = with(&[("buildSrc/build.gradle", "plugins { id 'groovy' }\n")]);
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// The settings file `mvn -s FILE` names is copied with the POMs, but
/// what it names is not: a local repository (`<localRepository>`), a
/// mirror or repository in the file system (`file:` URLs), a property
/// (`${user.dir}/repo`). A build with a repository shipped in the context
/// (`<localRepository>/app/repo</localRepository>`, offline) resolves from
/// it where it stands; above the copy the repository is not there yet.
#[test]
fn maven_settings_naming_files_keep_the_resolve_in_place() {
    let df = "FROM maven:3\nWORKDIR /app\nCOPY . .\nRUN mvn -s settings.xml -o dependency:go-offline\nRUN mvn -s settings.xml -o package\n";
    let with = |settings: &str| {
        project(&[
            (
                "pom.xml",
                "<project><modelVersion>4.0.0</modelVersion><groupId>a</groupId><artifactId>b</artifactId><version>1</version></project>\n",
            ),
            ("settings.xml", settings),
            ("repo/a/b/1/b-1.pom", "x\n"),
            ("src/main/java/A.java", "class A {}\n"),
            (".dockerignore", ".git\n"),
        ])
    };
    for settings in [
        "<settings><localRepository>/app/repo</localRepository></settings>\n",
        "<settings><mirrors><mirror><id>m</id><mirrorOf>*</mirrorOf><url>file:///app/repo</url></mirror></mirrors></settings>\n",
        "<settings><localRepository>${user.dir}/repo</localRepository></settings>\n",
    ] {
        let dir = with(settings);
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{settings}");
        let gs = df.replace(
            "-s settings.xml -o dependency",
            "-gs settings.xml -o dependency",
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &gs), gs, "{settings}");
    }
    // The control: a settings file with a remote mirror only.
    let dir = with(
        "<settings><!-- <localRepository>/x</localRepository> --><mirrors><mirror><id>m</id><mirrorOf>*</mirrorOf><url>https://nexus.example.com/repo</url></mirror></mirrors></settings>\n",
    );
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// composer.json's `config.cafile` (or `capath`) is a file Composer opens
/// when it sets up its HTTP downloader, for every command: above the copy
/// that ships it, the install fails ("The configured cafile was not valid
/// or could not be read", Composer's StreamContextFactory). Measured with
/// BuildKit (php:8.2-cli, Debian's composer 2.5.5): the rewrite failed so.
#[test]
fn composer_certificates_the_copy_ships_keep_the_install_in_place() {
    let df = "FROM php:8.2-cli\nWORKDIR /app\nCOPY . .\nRUN composer install --no-interaction\n";
    for config in ["{\"cafile\":\"certs/ca.pem\"}", "{\"capath\":\"certs\"}"] {
        let json = format!("{{\"name\":\"acme/app\",\"config\":{config},\"require\":{{}}}}");
        let p = project(&[
            ("composer.json", &json),
            ("certs/ca.pem", "-----BEGIN CERTIFICATE-----\n"),
            ("index.php", "<?php echo 1;\n"),
        ]);
        assert_eq!(rewrite_unsafe_too(p.path(), df), df, "moved with:\n{json}");
    }
}

/// The build and init scripts Gradle's options name (`-b`, `-I`) were
/// copied first but not read as the project's scripts are, and another
/// settings file (`-c`) includes projects that were not followed.
/// Measured with Debian's Gradle 4.4.1: `gradle -b ci.gradle
/// dependencies --offline` whose script reads VERSION failed above the
/// copy.
#[test]
fn gradle_scripts_named_by_options_are_read_as_the_projects() {
    let p = project(&[
        ("settings.gradle", "rootProject.name = 'app'\n"),
        ("build.gradle", "plugins { id 'java' }\n"),
        ("ci.gradle", "version = file('VERSION').text\n"),
        ("plain.gradle", "repositories { mavenCentral() }\n"),
        (
            "ci-settings.gradle",
            "rootProject.name = 'app'\ninclude 'lib'\n",
        ),
        ("lib/build.gradle", "version = '1'\n"),
        ("VERSION", "1.0\n"),
        (".dockerignore", ".git\n"),
    ]);
    for run in [
        "gradle -b ci.gradle dependencies --offline",
        "gradle --build-file=ci.gradle dependencies --offline",
        "gradle -I ci.gradle dependencies --offline",
        "gradle --init-script ci.gradle dependencies --offline",
        "gradle -c ci-settings.gradle dependencies --offline",
        "gradle --settings-file=ci-settings.gradle dependencies --offline",
    ] {
        let df = format!("FROM gradle:8-jdk21\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "moved: {run}");
    }
    // The control: an init script that reads nothing.
    let df = "FROM gradle:8-jdk21\nWORKDIR /app\nCOPY . .\nRUN gradle -I plain.gradle dependencies --offline\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// A plugin a POM loads as an extension (`<extensions>true</extensions>`)
/// and a build extension are code Maven runs with the project, before any
/// goal: Tycho's lifecycle participant reads each bundle's
/// META-INF/MANIFEST.MF, which the copy of the POMs does not bring. Not
/// built here (Maven Central is not reachable); Tycho's documentation.
#[test]
fn maven_extensions_keep_the_resolve_in_place() {
    let df =
        "FROM maven:3\nWORKDIR /app\nCOPY . .\nRUN mvn dependency:go-offline\nRUN mvn package\n";
    let with = |build: &str| {
        let pom = format!(
            "<project><modelVersion>4.0.0</modelVersion><groupId>a</groupId><artifactId>b</artifactId><version>1</version><build>{build}</build></project>\n"
        );
        crate::support::project_owned(&[
            ("pom.xml".to_string(), pom),
            (
                "META-INF/MANIFEST.MF".to_string(),
                "Manifest-Version: 1.0\n".to_string(),
            ),
            (
                "src/main/java/A.java".to_string(),
                "class A {}\n".to_string(),
            ),
            (".dockerignore".to_string(), ".git\n".to_string()),
        ])
    };
    for build in [
        "<plugins><plugin><groupId>org.eclipse.tycho</groupId><artifactId>tycho-maven-plugin</artifactId><version>4.0.4</version><extensions>true</extensions></plugin></plugins>",
        "<extensions><extension><groupId>x</groupId><artifactId>reads-files</artifactId><version>1</version></extension></extensions>",
    ] {
        let dir = with(build);
        assert_eq!(rewrite_unsafe_too(dir.path(), df), df, "{build}");
    }
    // The control: os-maven-plugin reads the OS only.
    let dir = with(
        "<extensions><extension><groupId>kr.motd.maven</groupId><artifactId>os-maven-plugin</artifactId><version>1.7.1</version></extension></extensions>",
    );
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// apt resolves a relative `Dir::…` value against its parent setting
/// (`Dir::Etc=etc` is /etc), but `Dir` and `RootDir` have no parent: a
/// bare word names a directory where apt runs (Configuration::FindFile in
/// apt's source, read), so `-o Dir=root` reads ./root, which the broad
/// copy ships. Not built: an install from such a root fails either way
/// without a whole tree there.
#[test]
fn apt_root_settings_naming_a_bare_directory_are_reads_where_it_runs() {
    let p = project(&[
        (
            "root/etc/apt/sources.list",
            "deb http://deb.debian.org/debian bookworm main\n",
        ),
        ("app.sh", "echo\n"),
        (".dockerignore", ".git\n"),
    ]);
    for opt in ["-o Dir=root", "-o RootDir=root", "--option=rootdir=root"] {
        let df = format!(
            "FROM debian:bookworm\nWORKDIR /app\nCOPY . .\nRUN apt-get install -y {opt} curl\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "moved with {opt}");
    }
}

/// npm reads a `yarn.lock` beside its own lock and writes it back in its
/// own form (registry.npmjs.org URLs, no `#sha1` suffix), `npm ci` and
/// `npm install --no-save` too. With a project shipping both locks, `RUN
/// npm ci` (or `npm install`) after `COPY . .` was hoisted `[safe]` with
/// package.json and package-lock.json alone; measured with BuildKit
/// (node:20-slim, npm 10.8.2, a yarn 1.22.22 lock of ms and depd): the
/// original's `/app/yarn.lock` was npm's (567 bytes), the rewrite's the
/// context's (481 bytes). The install now writes `yarn.lock`, so a
/// shipped one keeps it in place; one left out by `.dockerignore` does
/// not.
#[test]
fn npm_install_is_not_hoisted_over_a_shipped_yarn_lock_it_rewrites() {
    use crate::support::hoist_proposal;
    let package = "{\n  \"name\": \"a\",\n  \"version\": \"1.0.0\",\n  \"private\": true,\n  \"dependencies\": {\n    \"ms\": \"2.1.3\"\n  }\n}\n";
    let lock = "{\n  \"name\": \"a\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"a\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {\n        \"ms\": \"2.1.3\"\n      }\n    },\n    \"node_modules/ms\": {\n      \"version\": \"2.1.3\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"license\": \"MIT\"\n    }\n  }\n}\n";
    let yarn_lock = "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\nms@2.1.3:\n  version \"2.1.3\"\n  resolved \"https://registry.yarnpkg.com/ms/-/ms-2.1.3.tgz#574c8138ce1d2b5861f0b44579dbadd60c6615b2\"\n  integrity sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\n";
    for run in ["npm ci", "npm install", "npm install --no-save"] {
        let df = format!("FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        let files = |ignore: &'static str| {
            vec![
                ("package.json", package),
                ("package-lock.json", lock),
                ("yarn.lock", yarn_lock),
                ("index.js", "x\n"),
                (".dockerignore", ignore),
            ]
        };
        let (change, out) = hoist_proposal(&[], &df, &files(".git\nnode_modules\n"));
        let (app, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
        assert_ne!(app, Applicability::Safe, "{run}: {reason}");
        assert!(reason.contains("(.dockerignore)"), "{run}: {reason}");
        assert_eq!(out, df, "{run}");
        // The control: yarn.lock left out of the context.
        let (change, _) = hoist_proposal(&[], &df, &files(".git\nnode_modules\nyarn.lock\n"));
        let (app, reason) = change.expect("a hoist is proposed");
        assert_eq!(app, Applicability::Safe, "{run}: {reason}");
    }
}

/// A secret's content is never seen here: mounted where a command of the
/// `RUN` reads (npm's user or global npmrc, the project's `.npmrc`, pip's
/// `/etc/pip.conf` or its user file, a file a variable or option names),
/// or set as a variable a command honours (`NODE_OPTIONS`, `PIP_INDEX_URL`:
/// it may name a project file), it may make the install read anything the
/// broad copy ships. Such a `RUN` is not followed and stays in place; so
/// is a mount whose fields name variables (BuildKit expands them).
#[test]
fn a_secret_the_install_may_read_keeps_it_in_place() {
    use crate::support::project;
    let npm = [
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}\n",
        ),
        ("index.js", "x\n"),
    ];
    let pip = [("requirements.txt", "six==1.16.0\n"), ("app.py", "x\n")];
    type Files<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Files, &str, &str)] = &[
        (
            &npm,
            "",
            "--mount=type=secret,id=npmrc,target=/root/.npmrc npm ci",
        ),
        (
            &npm,
            "",
            "--mount=type=secret,id=npmrc,target=/usr/local/etc/npmrc npm ci",
        ),
        (
            &npm,
            "",
            "--mount=type=secret,id=npmrc,target=.npmrc npm ci",
        ),
        (
            &npm,
            "",
            "--mount=type=secret,id=npmrc,dst=/app/.npmrc npm ci",
        ),
        (&npm, "", "--mount=type=secret,id=o,env=NODE_OPTIONS npm ci"),
        (&npm, "", "--mount=type=secret,id=p,env=PATH npm ci"),
        (&npm, "", "--mount=type=secret,id=p,env=LD_PRELOAD npm ci"),
        (&npm, "", "--mount=type=secret,id=p,env=HOME npm ci"),
        (
            &npm,
            "",
            "--mount=type=secret,id=c,env=npm_config_cafile npm ci",
        ),
        (
            &npm,
            "",
            "--mount=type=secret,id=npmrc npm ci --userconfig /run/secrets/npmrc",
        ),
        (
            &npm,
            "",
            "--mount=type=secret,id=npmrc NPM_CONFIG_USERCONFIG=/run/secrets/npmrc npm ci",
        ),
        (
            &npm,
            "ENV NPM_CONFIG_USERCONFIG=/run/secrets/npmrc\n",
            "--mount=type=secret,id=npmrc npm ci",
        ),
        (
            &npm,
            "ARG T=/root/.npmrc\n",
            "--mount=type=secret,id=npmrc,target=$T npm ci",
        ),
        (
            &npm,
            "",
            "--mount=type=secret,id=npmrc cp /run/secrets/npmrc .npmrc && npm ci",
        ),
        (
            &pip,
            "",
            "--mount=type=secret,id=pip,target=/etc/pip.conf pip install -r requirements.txt",
        ),
        (
            &pip,
            "",
            "--mount=type=secret,id=pip,target=/root/.config/pip/pip.conf pip install -r requirements.txt",
        ),
        (
            &pip,
            "",
            "--mount=type=secret,id=i,env=PIP_INDEX_URL pip install -r requirements.txt",
        ),
        (
            &pip,
            "ENV PIP_CONFIG_FILE=/run/secrets/pip\n",
            "--mount=type=secret,id=pip pip install -r requirements.txt",
        ),
    ];
    for (files, before, run) in cases {
        let image = if files.len() == 3 {
            "node:20-slim"
        } else {
            "python:3.12-slim"
        };
        let df = format!("FROM {image}\n{before}WORKDIR /app\nCOPY . .\nRUN {run}\n");
        let dir = project(files);
        std::fs::write(dir.path().join("Dockerfile"), &df).expect("write");
        let out = std::process::Command::new(crate::support::bin())
            .current_dir(dir.path())
            .args(["--no-history", "--unsafe", "--write", "Dockerfile"])
            .output()
            .expect("run");
        assert!(out.status.success(), "{run}: {out:?}");
        let after = std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read");
        assert_eq!(after, df, "{run}: moved");
    }
}

/// The remedy an Unsafe hoist offers is one that works: adding entries to
/// .dockerignore is offered only when they cover every file the install
/// would write over and leave something to ship. An `apt-get install`
/// (which may write below `/opt`) after `COPY . .` into `/opt/backup`
/// writes over everything the copy ships: scout66 found the reason
/// proposing "adding `.dockerignore` to .dockerignore", which would not.
/// (Below `/opt` such an install from Debian's archive now moves `Safe`,
/// `recall::archive_installs_pass_an_application_copied_under_opt`; below
/// `/srv`, where maintainer scripts make homes, a package not measured,
/// here vsftpd, still may write:
/// `recall::measured_archive_installs_pass_an_application_copied_under_srv_or_usr_src`.)
/// A pnpm 9 `packageManager` is named as what keeps pnpm's install in
/// place (before pnpm 10 every dependency's install script runs), not as
/// "not an exact release of pnpm 10".
#[test]
fn unsafe_hoists_name_a_remedy_only_where_it_works() {
    use crate::support::hoist_proposal;
    let df = "FROM debian:bookworm-slim\nWORKDIR /srv/backup\nCOPY . .\nRUN apt-get update && apt-get install -y vsftpd\n";
    let files = [
        (".dockerignore", ".git\n"),
        ("backup.sh", "x\n"),
        ("scripts/install.sh", "x\n"),
    ];
    let (change, out) = hoist_proposal(&[], df, &files);
    let (app, reason) = change.expect("a hoist is reported");
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    assert!(
        !reason.contains("to .dockerignore would make it safe"),
        "{reason}"
    );
    assert_eq!(out, df);
    // Where a few shipped files are in the way, the remedy names each of
    // their entries.
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let files = [
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}\n",
        ),
        ("node_modules/ms/index.js", "x\n"),
        ("index.js", "x\n"),
    ];
    let (change, _) = hoist_proposal(&[], df, &files);
    let (app, reason) = change.expect("a hoist is reported");
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    assert!(
        reason.contains("adding `node_modules` to .dockerignore would make it safe"),
        "{reason}"
    );
    // pnpm 9 named by packageManager.
    let df = "FROM node:20-slim\nRUN corepack enable\nWORKDIR /repo\nCOPY . .\nRUN pnpm install --frozen-lockfile\n";
    let files = [
        (
            "package.json",
            "{\"name\":\"a\",\"packageManager\":\"pnpm@9.4.0\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        ("index.js", "x\n"),
    ];
    let (change, _) = hoist_proposal(&[], df, &files);
    let (app, reason) = change.expect("a hoist is reported");
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    assert!(
        reason.contains("names `pnpm@9.4.0` as its `packageManager`, which corepack runs: before pnpm 10 it runs every dependency's install scripts"),
        "{reason}"
    );
}

/// review 66: a stage built `FROM` an earlier stage that has `ONBUILD`
/// triggers was taken to start with no variable set, so the earlier
/// stage's own `ENV` was dropped: beside `ONBUILD LABEL`, `ENV
/// PIP_CONFIG_FILE=/app/pip.conf` was not seen and `pip install` moved
/// `[safe]` above the copy shipping that file (measured with BuildKit,
/// python:3.12-slim: the original installed into the file's `target`
/// /opt/t, the rewrite into /usr/local). A variable a trigger sets
/// (`ONBUILD ENV`, `ONBUILD ARG`) is not known. And an `ONBUILD SHELL`
/// sets the shell of that stage: a login shell reads the `~/.profile`
/// the copy ships into /root (measured: `export PIP_TARGET=/opt/t` there
/// sent the original's install to /opt/t, the rewrite's to /usr/local).
#[test]
fn a_stage_built_on_triggers_keeps_its_parents_variables_and_shell() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("pip.conf", "[global]\ntarget = /opt/t\n"),
        (".profile", "export PIP_TARGET=/opt/t\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let stage = "\nFROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    for parent in [
        "ENV PIP_CONFIG_FILE=/app/pip.conf\nONBUILD LABEL stage=app",
        "ENV PIP_CONFIG_FILE=/app/pip.conf\nONBUILD RUN true",
        "ONBUILD ENV PIP_CONFIG_FILE=/app/pip.conf",
        "ONBUILD ARG PIP_CONFIG_FILE=/app/pip.conf",
    ] {
        let df = format!("FROM python:3.12-slim AS base\n{parent}\n{stage}");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{parent}");
    }
    for run in [
        "pip install -r requirements.txt",
        "pip install -r requirements.txt && python app.py",
    ] {
        let df = format!(
            "FROM python:3.12-slim AS base\nONBUILD SHELL [\"/bin/bash\", \"-l\", \"-c\"]\n\nFROM base\nWORKDIR /root\nCOPY . .\nRUN {run}\n"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
    // `FROM ${BASE}` whose default names the stage (or a build argument
    // another earlier stage): its variables are there too (measured as
    // above: /opt/t in the original, /usr/local in the rewrite).
    for from in ["${BASE}", "$BASE", "${BASE:-base}"] {
        let df = format!(
            "ARG BASE=base\nFROM python:3.12-slim AS base\nENV PIP_CONFIG_FILE=/app/pip.conf\n\nFROM {from}\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{from}");
    }
    let df = "ARG BASE=python:3.12-slim\nFROM python:3.12-slim AS base\nRUN true\n\nFROM ${BASE}\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
    // The controls: a trigger that sets nothing the install reads, and a
    // shell that reads no startup file, still let it move.
    for parent in [
        "ONBUILD LABEL stage=app",
        "ONBUILD SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
    ] {
        let df = format!("FROM python:3.12-slim AS base\n{parent}\n{stage}");
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "{parent}");
    }
}

/// review 66: `FROM ${BASE}` whose default names an earlier stage builds
/// on that stage, but the search of the stages built on stopped there as
/// at an image from outside the file: `RUN mkdir -p /app && chmod 2775
/// /app` in it was not seen, and `cd web && npm ci` moved `[safe]` above
/// `COPY . .` (measured with BuildKit, node:20-slim, ms 2.1.3: the
/// rewrite's `node_modules` had the setgid bit, 0o42755 for 0o40755). A
/// stage named by a variable may be any earlier one.
#[test]
fn a_stage_built_from_a_variable_may_be_built_on_any_earlier_stage() {
    let p = project(&[
        ("web/package.json", NPM[0].1),
        ("web/package-lock.json", NPM[1].1),
        ("index.js", "x\n"),
    ]);
    for from in ["${BASE}", "$BASE", "${BASE:-base}"] {
        let df = format!(
            "ARG BASE=base\nFROM node:20-slim AS base\nRUN mkdir -p /app && chmod 2775 /app\nFROM {from}\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n"
        );
        assert_eq!(rewrite_unsafe_too(p.path(), &df), df, "{from}");
    }
    // The control: with no earlier stage the variable names an image.
    let df = "ARG BASE=node:20-slim\nFROM ${BASE}\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_ne!(rewrite_unsafe_too(p.path(), df), df);
}

/// review 66: a symbolic link a stage built on made was not followed:
/// `ln -s /app/venv /env` there, then `COPY . /app` and `/env/bin/pip
/// install` in the stage built on it, moved `[safe]` above the copy,
/// whose `venv/…/six.py` then replaced pip's (measured with BuildKit,
/// python:3.12-slim: 34549 bytes in the original's image, 4 in the
/// rewrite's), as in the same stage
/// (`paths_through_a_symbolic_link_a_run_made_reach_its_target`).
#[test]
fn a_link_a_stage_built_on_made_is_written_through() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        ("venv/lib/python3.11/site-packages/six.py", "X=1\n"),
        (".dockerignore", ".git\n"),
    ]);
    let tail = "COPY . /app\nRUN /env/bin/pip install -r /app/requirements.txt\n";
    for (head, from) in [
        ("", "base"),
        ("", "${BASE}"),
        ("FROM base AS mid\nRUN true\n", "mid"),
    ] {
        let df = format!(
            "ARG BASE=base\nFROM python:3.12-slim AS base\nRUN python -m venv /app/venv && ln -s /app/venv /env\n{head}FROM {from}\n{tail}"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{from}");
    }
    // The control: a link elsewhere lets the install move.
    let df = format!(
        "FROM python:3.12-slim AS base\nRUN python -m venv /env && ln -s /usr/share/zoneinfo/UTC /etc/localtime\nFROM base\n{tail}"
    );
    assert_ne!(rewrite_unsafe_too(dir.path(), &df), df);
    // `COPY --from=${B}`: newer BuildKit expands global build arguments
    // there, so the stage `b` (making `/out/etc -> /etc`) is copied, and
    // `COPY conf/pip.conf /app/etc/` writes /etc/pip.conf (as in
    // `a_link_a_stage_made_is_written_through_after_its_copy`; not built
    // here: Docker 20.10's frontend refuses a variable in `--from`).
    let dir = project(&[
        ("src/app.py", "x = 1\n"),
        ("requirements.txt", "six==1.16.0\n"),
        ("conf/pip.conf", "[install]\nno-binary = six\n"),
    ]);
    let df = "ARG B=b\nFROM python:3.12-slim AS b\nRUN mkdir /out && ln -s /etc /out/etc\n\nFROM python:3.12-slim\nWORKDIR /app\nCOPY --from=${B} /out /app\nCOPY . /app\nCOPY conf/pip.conf /app/etc/\nRUN pip install -r requirements.txt\n";
    assert_eq!(rewrite_unsafe_too(dir.path(), df), df);
}

/// A search-path variable declared as a build argument without a default
/// (`ARG PATH`, `ARG PYTHONPATH`) may be given anything with
/// `--build-arg` (`PATH=/app/bin:/usr/local/bin:…` runs the `pip` the
/// broad copy ships): its value is not known, so it stands for every
/// directory, as an unknown part of an `ENV PATH=…` does. Before, the
/// unknown value was dropped from the lookups and the install moved
/// `[safe]` above the copy.
#[test]
fn a_search_path_build_argument_without_a_default_is_not_known() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        ("bin/pip", "#!/bin/sh\necho shipped\n"),
        (".dockerignore", ".git\n"),
    ]);
    for var in ["PATH", "PYTHONPATH", "LD_LIBRARY_PATH", "LD_PRELOAD"] {
        for decl in [format!("ARG {var}"), format!("ARG X=1 {var}")] {
            let df = format!(
                "FROM python:3.12-slim\nWORKDIR /app\n{decl}\nCOPY . .\nRUN pip install -r requirements.txt\n"
            );
            assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{decl}");
        }
    }
    // The controls: a default that is known, or another argument.
    for decl in ["ARG PATH=/usr/local/bin:/usr/bin:/bin", "ARG VERSION"] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /app\n{decl}\nCOPY . .\nRUN pip install -r requirements.txt\n"
        );
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "{decl}");
    }
}

/// A search-path variable assigned before the install's command
/// (`PATH=/app/bin:$PATH pip install …`, `PYTHONPATH=/app/lib pip …`) is
/// where that command and what it runs look up programs and modules: the
/// `pip` or the `pip` package the broad copy ships there ran in the
/// original order. Before, such assignments were not counted and the
/// install moved `[safe]` above the copy. So is an exported part that is
/// not known (`export PATH=$FOO:$PATH`): it may be any directory.
#[test]
fn a_search_path_assigned_before_the_install_is_where_it_looks_up() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        ("bin/pip", "#!/bin/sh\necho shipped\n"),
        ("lib/pip/__init__.py", "raise SystemExit(0)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = |run: &str| {
        format!(
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    for run in [
        "PATH=/app/bin:$PATH pip install -r requirements.txt",
        "PATH=$PATH:/app/bin pip install -r requirements.txt",
        "PATH=bin:$PATH pip install -r requirements.txt",
        "PYTHONPATH=/app/lib pip install -r requirements.txt",
        "PYTHONPATH=lib pip install -r requirements.txt",
        "export PATH=$FOO:$PATH && pip install -r requirements.txt",
        "P=/app/bin:$PATH; export PATH=$P && pip install -r requirements.txt",
    ] {
        let text = df(run);
        assert_eq!(rewrite_unsafe_too(dir.path(), &text), text, "{run}");
    }
    // The controls: an assignment of another variable, and search paths
    // the copy puts nothing in, through the base image's own `$PATH`.
    for run in [
        "X=1 pip install -r requirements.txt",
        "PATH=/opt/venv/bin:$PATH pip install -r requirements.txt",
        "export PATH=/opt/venv/bin:$PATH && pip install -r requirements.txt",
        "PYTHONPATH=/opt/lib pip install -r requirements.txt",
    ] {
        let text = df(run);
        assert_ne!(rewrite_unsafe_too(dir.path(), &text), text, "{run}");
    }
}

/// `ARG PATH` without a default, then `PATH=/opt/venv/bin:$PATH` (in an
/// `ENV` or exported in the `RUN`): the `$PATH` there is the argument's
/// value, which may be anything, not the base image's.
#[test]
fn a_search_path_extended_from_an_unknown_argument_is_not_known() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        ("bin/pip", "#!/bin/sh\necho shipped\n"),
        (".dockerignore", ".git\n"),
    ]);
    for (mid, run) in [
        (
            "ENV PATH=/opt/venv/bin:$PATH\n",
            "pip install -r requirements.txt",
        ),
        (
            "",
            "export PATH=/opt/venv/bin:$PATH && pip install -r requirements.txt",
        ),
        (
            "",
            "PATH=/opt/venv/bin:$PATH pip install -r requirements.txt",
        ),
    ] {
        let df =
            format!("FROM python:3.12-slim\nWORKDIR /app\nARG PATH\n{mid}COPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
        // The control: without the argument the base image's `$PATH`.
        let df = df.replace("ARG PATH\n", "");
        assert_ne!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
}

/// review 67: BuildKit makes a `RUN`'s mount target, and the directories
/// above it, when they are missing, through the links on the way. Below
/// a link the broad copy ships (`conf -> /etc/foo`), the original made
/// `/etc/foo/s`; the install moved `[safe]` above the copy made a real
/// `/app/conf` first, and the copy then failed ("cannot replace to
/// directory …/app/conf with file"; measured with BuildKit,
/// python:3.12-slim, for a secret and for a cache mount). The target
/// counts as written where it is, so the copy's link keeps the install
/// below it; the same link shipped where no mount goes lets it move.
#[test]
fn a_mount_below_a_shipped_link_keeps_the_run_below_the_copy() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    std::os::unix::fs::symlink("/etc/foo", dir.path().join("conf")).expect("symlink");
    for mount in [
        "--mount=type=secret,id=s,target=/app/conf/s",
        "--mount=type=secret,id=s,target=conf/s",
        "--mount=type=secret,id=s,target=/app/conf",
        "--mount=type=cache,target=/app/conf/cache",
        "--mount=type=tmpfs,target=/app/conf/tmp",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {mount} pip install -r requirements.txt\n"
        );
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{mount}");
    }
    // The control: a mount elsewhere moves with the install.
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN --mount=type=secret,id=s,target=/app/other/s pip install -r requirements.txt\n";
    assert_ne!(rewrite_unsafe_too(dir.path(), df), df);
}

/// review 67: a secret set as a variable (`env=`, Dockerfile 1.10) that a
/// command takes paths from only by a prefix of its `path_env`
/// (`GIT_CONFIG_PARAMETERS` by `GIT_*`, `npm_config_script_shell` by
/// `npm_config_*`, `PIP_CONFIG_SETTINGS` by `PIP_*`) was taken as naming
/// no path, as a build argument without a default is, and the install
/// moved `[safe]`. A secret is given a value, never seen here: git's
/// `url.file:///app/vendor/.insteadOf`, npm's script shell at a shipped
/// file. Not built: this machine's frontend refuses `env=`
/// (BuildKit's `convert_secrets.go` sets the variable for the `RUN`).
#[test]
fn a_secret_variable_a_command_may_take_a_path_from_keeps_it_in_place() {
    let npm = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}\n",
        ),
        ("index.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ]);
    let pip = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ]);
    for (dir, image, run) in [
        (
            &npm,
            "node:20-slim",
            "--mount=type=secret,id=s,env=npm_config_script_shell npm ci",
        ),
        (
            &npm,
            "node:20-slim",
            "--mount=type=secret,id=s,env=NPM_CONFIG_GIT npm ci",
        ),
        (
            &npm,
            "node:20-slim",
            "--mount=type=secret,id=s,env=GIT_CONFIG_PARAMETERS npm ci",
        ),
        (
            &pip,
            "python:3.12-slim",
            "--mount=type=secret,id=s,env=GIT_CONFIG_PARAMETERS pip install -r requirements.txt",
        ),
        (
            &pip,
            "python:3.12-slim",
            "--mount=type=secret,id=s,env=PIP_CONFIG_SETTINGS pip install -r requirements.txt",
        ),
    ] {
        let df = format!("FROM {image}\nWORKDIR /app\nCOPY . .\nRUN {run}\n");
        assert_eq!(rewrite_unsafe_too(dir.path(), &df), df, "{run}");
    }
    // The control: a variable no command takes a path from (a token the
    // project's `.npmrc` may name) lets the install move.
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN --mount=type=secret,id=s,env=NPM_TOKEN npm ci\n";
    assert_ne!(rewrite_unsafe_too(npm.path(), df), df);
}

/// pdm's installs stay in place (or are `Unsafe`) wherever PDM 2.29.4 may
/// read or write more of the project than pyproject.toml and pdm.lock
/// (project/core.py, cli/commands/install.py, cli/actions.py, read): a
/// distribution installed with it (the project is built from its files),
/// a lock `pdm install` may write again, hook scripts, local
/// dependencies, sources and locked paths, `[tool.pdm.options]`, the
/// project's settings file, a saved interpreter or an environment the
/// copy ships, a project found in a parent directory, another lock or
/// project named by an option, and a plugin an earlier install may have
/// added (PDM loads every `pdm` entry point of its environment). The
/// control (`pdm_installs_of_the_lock_alone_hoist` in recall.rs) moves.
/// Measured with BuildKit (python:3.12-slim stand-in, PDM 2.29.4), the
/// hoist built with `--unsafe` failed for a pdm-backend library's `pdm
/// sync --prod` ("Readme file not found") and for a `post_install`
/// script copying a file of `src/`, where the originals built.
#[test]
fn pdm_installs_that_read_more_of_the_project_stay() {
    use crate::support::hoist_proposal;
    let app: &[(&str, &str)] = &[
        (
            "pyproject.toml",
            "[project]\nname = \"demo\"\nversion = \"0.1.0\"\ndependencies = [\"six==1.16.0\"]\n\n[tool.pdm]\ndistribution = false\n",
        ),
        (
            "pdm.lock",
            "[metadata]\nlock_version = \"4.5.1\"\ncontent_hash = \"sha256:0\"\n\n[[package]]\nname = \"six\"\nversion = \"1.16.0\"\nfiles = [\n    {file = \"six-1.16.0-py2.py3-none-any.whl\", hash = \"sha256:1\"},\n]\n",
        ),
        ("src/demo/app.py", "print(1)\n"),
    ];
    let df = |run: &str, pre: &str| {
        format!("FROM python:3.12-slim\nRUN pip install {pre}\nWORKDIR /app\nCOPY . .\nRUN {run}\n")
    };
    let not_safe = |files: &[(&str, &str)], df: &str, what: &str| {
        let (change, out) = hoist_proposal(app, df, files);
        let (a, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
        assert_ne!(a, Applicability::Safe, "{what}: {reason}");
        assert_eq!(out, df, "{what}");
    };
    let frozen = "pdm install --frozen-lockfile";
    // The control.
    let (change, _) = hoist_proposal(app, &df(frozen, "pdm"), &[]);
    assert_eq!(change.map(|c| c.0), Some(Applicability::Safe));
    // The lock, which `pdm install` writes again when it does not match.
    not_safe(&[], &df("pdm install", "pdm"), "pdm install");
    // PDM takes only `1` and `true` (and PDM_FROZEN_LOCKFILE before
    // PDM_NO_LOCK): the variables are not followed.
    for run in [
        "PDM_FROZEN_LOCKFILE=0 pdm install",
        "PDM_FROZEN_LOCKFILE=yes pdm install",
        "PDM_FROZEN_LOCKFILE=0 PDM_NO_LOCK=1 pdm install",
    ] {
        not_safe(&[], &df(run, "pdm"), run);
    }
    not_safe(
        &[],
        &df("pdm install --frozen-lockfile=false", "pdm"),
        "=false",
    );
    // A distribution without `--no-self`.
    for pyproject in [
        "[project]\nname = \"demo\"\nversion = \"0.1.0\"\n",
        "[project]\nname = \"demo\"\nversion = \"0.1.0\"\n[tool.pdm]\ndistribution = true\n",
        "[project]\nname = \"demo\"\nversion = \"0.1.0\"\n[tool.pdm]\npackage-type = \"library\"\ndistribution = false\n",
    ] {
        not_safe(
            &[("pyproject.toml", pyproject)],
            &df(frozen, "pdm"),
            pyproject,
        );
        not_safe(
            &[("pyproject.toml", pyproject)],
            &df("pdm sync", "pdm"),
            pyproject,
        );
    }
    // Hooks, local dependencies and sources, options.
    let with = |extra: &str| {
        format!(
            "[project]\nname = \"demo\"\nversion = \"0.1.0\"\ndependencies = [\"six==1.16.0\"]\n\n[tool.pdm]\ndistribution = false\n{extra}"
        )
    };
    for extra in [
        "[tool.pdm.scripts]\npost_install = \"python gen.py\"\n",
        "[tool.pdm.scripts]\npre_invoke = {cmd = \"cat x\"}\n",
        "[tool.pdm.dev-dependencies]\ndev = [\"-e file:///${PROJECT_ROOT}/libs/a#egg=a\"]\n",
        "[dependency-groups]\ndev = [\"a @ file:///${PROJECT_ROOT}/libs/a\"]\n",
        "[[tool.pdm.source]]\nname = \"wheels\"\nurl = \"./wheels\"\ntype = \"find_links\"\n",
        "[tool.pdm.resolution.overrides]\nsix = \"file:///wheels/six-1.16.0-py2.py3-none-any.whl\"\n",
        "[tool.pdm.options]\ninstall = [\"--override\", \"constraints.txt\"]\n",
    ] {
        not_safe(
            &[("pyproject.toml", &with(extra))],
            &df(frozen, "pdm"),
            extra,
        );
    }
    let local_dep = "[project]\nname = \"demo\"\nversion = \"0.1.0\"\ndependencies = [\"a @ file:///${PROJECT_ROOT}/libs/a\"]\n[tool.pdm]\ndistribution = false\n";
    not_safe(
        &[("pyproject.toml", local_dep)],
        &df(frozen, "pdm"),
        "dependency",
    );
    for lock in [
        "[[package]]\nname = \"a\"\nversion = \"0.1.0\"\npath = \"./libs/a\"\n",
        "[[package]]\nname = \"a\"\nversion = \"0.1.0\"\nurl = \"file:///${PROJECT_ROOT}/a.whl\"\n",
        "[[package]]\nname = \"a\"\nversion = \"0.1.0\"\neditable = true\n",
        "not toml [\n",
    ] {
        not_safe(&[("pdm.lock", lock)], &df(frozen, "pdm"), lock);
    }
    // Settings, a saved interpreter, environments the copy ships.
    for (file, text) in [
        ("pdm.toml", "[pypi]\nurl = \"file:///app/index\"\n"),
        (".pdm.toml", "[python]\npath = \"/usr/bin/python3\"\n"),
        (".pdm-python", "/app/.venv/bin/python\n"),
        ("venv/pyvenv.cfg", "home = /usr/local/bin\n"),
        (".venv/pyvenv.cfg", "home = /usr/local/bin\n"),
        ("__pypackages__/3.11/lib/x.py", "x\n"),
    ] {
        not_safe(&[(file, text)], &df(frozen, "pdm"), file);
    }
    // A project of the parent directory.
    let nested = "FROM python:3.12-slim\nRUN pip install pdm\nWORKDIR /app/src\nCOPY . /app\nRUN pdm install --frozen-lockfile\n";
    not_safe(&[], nested, "parent");
    // Another lock, project or interpreter.
    for run in [
        "pdm install --frozen-lockfile -L other.lock",
        "pdm install --frozen-lockfile --lockfile=other.lock",
        "pdm install --frozen-lockfile -p sub",
        "pdm install --frozen-lockfile --override constraints.txt",
        "PDM_LOCKFILE=other.lock pdm sync",
        "PDM_OVERRIDE=constraints.txt pdm sync",
        "PDM_USE_UV=1 pdm sync",
        "pdm install --plugins",
    ] {
        not_safe(&[], &df(run, "pdm"), run);
    }
    // A plugin an earlier install may have added.
    for pre in ["pdm pdm-dotenv", "pdm && pdm self add pdm-dotenv"] {
        not_safe(&[], &df(frozen, pre), pre);
    }
}

/// h-eco68: a package list is hoisted with the install only when the file
/// the install reads is the context's, copied first, and its words are
/// package names alone. Each control keeps the install where it is (or
/// never `Safe`): the list shipped as a link (the image resolves it, not
/// the context), written by an earlier `RUN`, made in the same `RUN`
/// under /tmp, outside the context, holding a `./local.deb` line, a `#`
/// comment that plain xargs passes to apt as a word, a glob the shell
/// would expand against the copied directory, a path or an option; and
/// the words of a file given to a command that is no package install.
#[test]
fn package_lists_that_are_not_plain_names_from_the_context_stay() {
    let base: &[(&str, &str)] = &[
        ("apt.txt", "libpq5\ncurl\n"),
        ("lists/apt.txt", "libpq5\ncurl\n"),
        ("apt.in", "# runtime\nlibpq5\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = |before: &str, install: &str| {
        format!(
            "FROM python:3.12-slim\nCOPY . /app\nWORKDIR /app\n{before}RUN apt-get update && {install} && rm -rf /var/lib/apt/lists/*\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    let not_safe = |files: &[(&str, &str)], df: &str, what: &str| {
        let (change, out) = crate::support::hoist_proposal(base, df, files);
        let (a, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
        assert_ne!(a, Applicability::Safe, "{what}: {reason}");
        assert_eq!(out, df, "{what}");
    };
    // The control: a plain list moves.
    let plain = df("", "xargs -a apt.txt apt-get install -y");
    let (change, _) = crate::support::hoist_proposal(base, &plain, &[]);
    assert_eq!(change.map(|c| c.0), Some(Applicability::Safe));
    // Written by an earlier RUN, or in the same RUN under /tmp.
    not_safe(
        &[],
        &df(
            "RUN grep -v '^#' apt.in > apt.txt\n",
            "xargs -a apt.txt apt-get install -y",
        ),
        "an earlier RUN",
    );
    not_safe(
        &[],
        &df(
            "",
            "grep -v '^#' apt.in > /tmp/pkgs.txt && xargs -a /tmp/pkgs.txt apt-get install -y",
        ),
        "made under /tmp",
    );
    // Outside the context (the copy does not put it there).
    not_safe(
        &[],
        &df("", "xargs -a /etc/apt-packages.txt apt-get install -y"),
        "outside",
    );
    not_safe(
        &[],
        &df("", "xargs -a ../apt.txt apt-get install -y"),
        "parent",
    );
    // Its content: a package file, a comment plain xargs passes on, a glob,
    // a path, an option, a quote.
    for text in [
        "libpq5\n./local.deb\n",
        "# runtime\nlibpq5\n",
        "libpq*\n",
        "/tmp/x.deb\n",
        "local.deb\n",
        "-o\nDir::Etc::SourceList=/app/sources.list\nlibpq5\n",
        "'libpq5'\n",
        "libpq5\r\n",
    ] {
        for install in [
            "xargs -a apt.txt apt-get install -y",
            "apt-get install -y $(cat apt.txt)",
        ] {
            not_safe(
                &[("apt.txt", text)],
                &df("", install),
                &format!("{install}: {text:?}"),
            );
        }
    }
    // `grep -v '^#'` drops comments at the line's start only.
    not_safe(
        &[("apt.txt", "libpq5 # runtime\n")],
        &df("", "apt-get install -y $(grep -v '^#' apt.txt)"),
        "a trailing comment",
    );
    // Not a package install by names.
    for install in [
        "xargs -a apt.txt apt-get remove -y",
        "xargs -a apt.txt pip install",
        "apt-get install -y \"$(cat apt.txt)\"",
        "IFS=, && apt-get install -y $(cat apt.txt)",
        "xargs -n1 -a apt.txt apt-get install -y",
    ] {
        not_safe(&[], &df("", install), install);
    }
    // A link in the context: the copy ships the link, the image resolves
    // it where it points, the inserted COPY would follow it in the context.
    let dir = project(base);
    std::fs::remove_file(dir.path().join("apt.txt")).expect("rm");
    std::os::unix::fs::symlink("lists/apt.txt", dir.path().join("apt.txt")).expect("link");
    let out = rewrite_unsafe_too(dir.path(), &plain);
    assert_eq!(out, plain, "a link");
}

/// review 68: a search path assigned alone (`PATH=/app/bin:$PATH; pip
/// install …`) is where the shell looks the next commands up: BuildKit
/// gives every `RUN` a `PATH`, exported, and the shell searches its own
/// `PATH` exported or not. Only variables an `ENV` or `export` had set
/// were followed, so the install moved `[safe]` above the copy that
/// ships `bin/pip` (measured with BuildKit, python:3.12-slim: the
/// original ran the shipped `pip`, the reordered image had `six` in
/// dist-packages). And a `~` starting a part of an assignment is the
/// home (`PATH=~/bin:$PATH pip …` with `WORKDIR /root`; measured the
/// same): it was taken for a directory named `~`.
#[test]
fn a_search_path_assigned_alone_or_from_the_home_is_where_it_looks_up() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        ("bin/pip", "#!/bin/sh\necho shipped\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = |workdir: &str, run: &str| {
        format!(
            "FROM python:3.12-slim\nWORKDIR {workdir}\nCOPY . .\nRUN {run}\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    for (workdir, run) in [
        (
            "/app",
            "PATH=/app/bin:$PATH; pip install -r requirements.txt",
        ),
        (
            "/app",
            "PATH=/app/bin:$PATH && pip install -r requirements.txt",
        ),
        ("/app", "PATH=/app/bin; pip install -r requirements.txt"),
        (
            "/app",
            "x=/app/bin; PATH=$x:$PATH; pip install -r requirements.txt",
        ),
        ("/root", "PATH=~/bin:$PATH pip install -r requirements.txt"),
        (
            "/root",
            "PATH=/usr/bin:~/bin:$PATH pip install -r requirements.txt",
        ),
        (
            "/root",
            "export PATH=~/bin:$PATH && pip install -r requirements.txt",
        ),
    ] {
        let text = df(workdir, run);
        assert_eq!(rewrite_unsafe_too(dir.path(), &text), text, "{run}");
    }
    // The controls: a directory the copy puts nothing in.
    for run in [
        "PATH=/opt/venv/bin:$PATH; pip install -r requirements.txt",
        "pip install -r requirements.txt",
    ] {
        let text = df("/app", run);
        assert_ne!(rewrite_unsafe_too(dir.path(), &text), text, "{run}");
    }
}

/// review 68: PDM releases before the project plugins moved to its cache
/// load them from the project's `.pdm-plugins` at every start
/// (`site.addsitedir`, so a `.pth` file there runs). With `pip install
/// "pdm==2.15.4"`, a copy shipping `.pdm-plugins/lib/python3.11/
/// site-packages/hook.pth` ran it in the original order; the install
/// moved `[safe]` above the copy and the hook no longer ran (measured
/// with BuildKit, python:3.12-slim stand-in: `/hooked` only in the
/// original image). The directory is read, so the install stays.
#[test]
fn pdm_project_plugins_the_copy_ships_keep_the_install_in_place() {
    use crate::support::hoist_proposal;
    let app: &[(&str, &str)] = &[
        (
            "pyproject.toml",
            "[project]\nname = \"demo\"\nversion = \"0.1.0\"\ndependencies = []\n\n[tool.pdm]\ndistribution = false\n",
        ),
        (
            "pdm.lock",
            "[metadata]\ngroups = [\"default\"]\nlock_version = \"4.5.1\"\ncontent_hash = \"sha256:0\"\n",
        ),
        ("src/demo/app.py", "print(1)\n"),
    ];
    let df = "FROM python:3.12-slim\nRUN pip install \"pdm==2.15.4\"\nWORKDIR /app\nCOPY . .\nRUN pdm install --frozen-lockfile\n";
    // The control: nothing under `.pdm-plugins`.
    let (change, _) = hoist_proposal(app, df, &[]);
    assert_eq!(change.map(|c| c.0), Some(Applicability::Safe));
    let hook = [(
        ".pdm-plugins/lib/python3.11/site-packages/hook.pth",
        "import os; os.makedirs('/hooked', exist_ok=True)\n",
    )];
    let (change, out) = hoist_proposal(app, df, &hook);
    let (a, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
    assert_ne!(a, Applicability::Safe, "{reason}");
    assert_eq!(out, df);
}

/// review 68: `${NAME:=word}` (and `${NAME=word}`) assigns the variable
/// where it expands; `: ${PYTHONPATH:=/app/lib}; export PYTHONPATH; pip
/// install …` ran the `pip` package the broad copy ships in `/app/lib`
/// (measured with BuildKit, python:3.12-slim: the original installed
/// nothing, the reordered image had `six`). Such an assignment was not
/// seen, so the install moved `[safe]` above the copy; it is not
/// followed now.
#[test]
fn an_assignment_inside_an_expansion_keeps_the_install_in_place() {
    let dir = project(&[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        ("lib/pip/__init__.py", "raise SystemExit(0)\n"),
        (".dockerignore", ".git\n"),
    ]);
    let df = |run: &str| {
        format!(
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    for run in [
        ": ${PYTHONPATH:=/app/lib}; export PYTHONPATH; pip install -r requirements.txt",
        ": \"${PYTHONPATH:=lib}\" && export PYTHONPATH && pip install -r requirements.txt",
        "export PYTHONPATH; echo ${PYTHONPATH=/app/lib}; pip install -r requirements.txt",
    ] {
        let text = df(run);
        assert_eq!(rewrite_unsafe_too(dir.path(), &text), text, "{run}");
    }
    // The controls: a default that assigns nothing.
    for run in [
        "echo ${PYTHONPATH:-/app/lib}; pip install -r requirements.txt",
        "pip install -r requirements.txt",
    ] {
        let text = df(run);
        assert_ne!(rewrite_unsafe_too(dir.path(), &text), text, "{run}");
    }
}

/// A manifest named through a variable that the stage sets with a literal
/// `ENV` is that file whatever the build's arguments, even after an
/// unrelated `ARG` (held-out scout69: `ARG WORKDIR=/template`, `ENV
/// FLEX_TEMPLATE_PYTHON_REQUIREMENTS_FILE="/template/requirements.txt"`,
/// proposed Unsafe, built identical). Not when an `ARG` of the same name
/// comes after the `ENV` (measured with BuildKit: `ARG REQ=dev.txt`, `ENV
/// REQ=requirements.txt`, `ARG REQ`, `--build-arg REQ=other.txt` gives
/// `other.txt` after the second `ARG`, `requirements.txt` before it), nor
/// when the `ENV`'s value expands a variable, nor when another stage sets
/// it.
#[test]
fn a_manifest_variable_a_literal_env_sets_is_no_build_argument() {
    let files = [
        ("requirements.txt", "six==1.16.0\n"),
        ("dev.txt", "idna==3.10\n"),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let moved = |decl: &str| {
        let df = format!(
            "FROM python:3.12-slim\n{decl}\nWORKDIR /app\nCOPY . .\nRUN pip install -r $REQ\n"
        );
        let (hoist, text) = crate::support::hoist_proposal(&files, &df, &[]);
        let app = hoist.map(|(a, _)| a);
        (text != df, app)
    };
    for decl in [
        "ARG OTHER=1\nENV REQ=requirements.txt",
        "ARG REQ=dev.txt\nENV REQ=requirements.txt",
        "ARG OTHER=1\nENV REQ=\"/app/requirements.txt\"",
    ] {
        assert_eq!(moved(decl), (true, Some(Applicability::Safe)), "{decl}");
    }
    for decl in [
        "ARG REQ=dev.txt\nENV REQ=requirements.txt\nARG REQ",
        "ARG BASE=requirements\nENV REQ=${BASE}.txt",
        "ARG OTHER=1\nENV REQ=requirements.txt\nARG OTHER2 REQ",
    ] {
        // Proposed Unsafe, or not at all where the value is not known.
        let (moved, app) = moved(decl);
        assert!(
            !moved && app != Some(Applicability::Safe),
            "{decl}: {app:?}"
        );
    }
    // Set by the stage it is built on: not followed there.
    let df = "FROM python:3.12-slim AS base\nENV REQ=requirements.txt\nFROM base\nARG OTHER=1\nWORKDIR /app\nCOPY . .\nRUN pip install -r $REQ\n";
    let (hoist, text) = crate::support::hoist_proposal(&files, df, &[]);
    assert_eq!(text, df);
    assert_eq!(hoist.map(|(a, _)| a), Some(Applicability::Unsafe));
}

/// review 69: pip takes every option from its `PIP_` variable, and
/// `--group dev` (pip 25.1) installs a dependency group of
/// ./pyproject.toml, a file the value does not name. `ENV PIP_GROUP=dev`
/// looked like no path, so `pip install -r requirements.txt` moved
/// `[safe]` above the copy that ships pyproject.toml (measured with
/// BuildKit, python:3.12-slim with pip 25.1.1: the reordered build failed,
/// "pyproject.toml not found. Cannot resolve '--group' option"). The
/// variable set any way (ENV, a build argument, the command's own
/// assignment) keeps the install in place.
#[test]
fn a_pip_group_variable_keeps_the_install_below_the_copy() {
    let files: &[(&str, &str)] = &[
        ("requirements.txt", "six==1.16.0\n"),
        (
            "pyproject.toml",
            "[project]\nname = \"demo\"\nversion = \"0.1.0\"\n\n[dependency-groups]\ndev = [\"idna==3.7\"]\n",
        ),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = |before: &str, run: &str| {
        format!(
            "FROM python:3.12-slim\nRUN pip install pip==25.1.1\n{before}WORKDIR /app\nCOPY . .\nRUN {run}\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    let install = "pip install --no-cache-dir -r requirements.txt";
    for (before, run) in [
        ("ENV PIP_GROUP=dev\n", install.to_string()),
        ("ARG PIP_GROUP\n", install.to_string()),
        ("", format!("PIP_GROUP=dev {install}")),
        (
            "ENV PIP_REQUIREMENTS_FROM_SCRIPT=app.py\n",
            install.to_string(),
        ),
    ] {
        let text = df(before, &run);
        let (change, out) = crate::support::hoist_proposal(files, &text, &[]);
        let (a, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
        assert_ne!(a, Applicability::Safe, "{before}{run}: {reason}");
        assert_eq!(out, text, "{before}{run}");
    }
    // The control: without it the install moves.
    let text = df("", install);
    let (change, _) = crate::support::hoist_proposal(files, &text, &[]);
    assert_eq!(change.map(|c| c.0), Some(Applicability::Safe));
}

/// review 69: uv takes `--project` from `UV_PROJECT` and `--directory`
/// from `UV_WORKING_DIR` (`[env: …]` in `uv sync --help`). Neither was
/// followed for `uv sync`, and a relative value looks like no path, so
/// `uv sync --frozen --no-install-project` moved `[safe]` above the copy
/// that ships `backend/` (measured with BuildKit, python:3.12-slim: with
/// `ENV UV_PROJECT=backend` and uv 0.8.4 the reordered image synced the
/// root project into /app/.venv instead of backend's into
/// /app/backend/.venv; with `ENV UV_WORKING_DIR=backend` and uv 0.13.9
/// the reordered build failed). Either variable keeps the sync in place.
#[test]
fn uv_project_and_working_dir_variables_keep_the_sync_below_the_copy() {
    let pyproject = |name: &str, dep: &str| {
        format!(
            "[project]\nname = \"{name}\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"{dep}\"]\n"
        )
    };
    let root = pyproject("rootapp", "six==1.16.0");
    let backend = pyproject("backend", "idna==3.7");
    let files: &[(&str, &str)] = &[
        ("pyproject.toml", &root),
        ("uv.lock", "version = 1\nrequires-python = \">=3.11\"\n"),
        ("backend/pyproject.toml", &backend),
        (
            "backend/uv.lock",
            "version = 1\nrequires-python = \">=3.11\"\n",
        ),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n.venv\n"),
    ];
    let df = |env: &str| {
        format!(
            "FROM python:3.12-slim\nRUN pip install uv==0.13.9\nWORKDIR /app\n{env}COPY . .\nRUN uv sync --frozen --no-install-project\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    for env in [
        "ENV UV_PROJECT=backend\n",
        "ENV UV_WORKING_DIR=backend\n",
        "ARG UV_WORKING_DIR\n",
    ] {
        let text = df(env);
        let (change, out) = crate::support::hoist_proposal(files, &text, &[]);
        let (a, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
        assert_ne!(a, Applicability::Safe, "{env}: {reason}");
        assert_eq!(out, text, "{env}");
    }
    // The control: without them the sync moves.
    let text = df("");
    let (change, _) = crate::support::hoist_proposal(files, &text, &[]);
    assert_eq!(change.map(|c| c.0), Some(Applicability::Safe));
}

/// review 69: `-v` named as staying below the copy what the rewrite had
/// moved above it: an install whose lone `apt-get update` was merged into
/// it before the hoist (the hoist's subject is the merged text, which no
/// unit of the original reads as), and the `WORKDIR` and `ENV` that moved
/// with a hoisted install. An identical second install was left out of
/// the list as if a change were about it. Each claim is now checked with
/// those units gone from between, found by their original lines.
#[test]
fn verbose_kept_reasons_do_not_name_moved_units_as_staying() {
    let dir = project(&[
        (
            "Dockerfile",
            "FROM python:3.12-slim\nCOPY . /app\nWORKDIR /app\nENV PIP_NO_CACHE_DIR=1\nRUN apt-get update\nRUN xargs -a apt.txt apt-get install -y\nRUN pip install -r requirements.txt\nRUN ./build.sh\nRUN pip install -r requirements.txt\nRUN pip install -r requirements-dev.txt\n",
        ),
        ("requirements.txt", "six==1.16.0\n"),
        ("requirements-dev.txt", "idna==3.7\n"),
        ("apt.txt", "jq\n"),
        ("build.sh", "#!/bin/sh\necho hi\n"),
        (".dockerignore", ".git\n"),
    ]);
    let out = std::process::Command::new(crate::support::bin())
        .args(["-v", "--no-history"])
        .arg(dir.path().join("Dockerfile"))
        .output()
        .expect("run dockreorder");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    // What moved: the merged install and the first pip install.
    assert!(
        err.contains("line 6: [safe] moved `RUN apt-get update && xargs"),
        "{err}"
    );
    assert!(
        err.contains("line 7: [safe] moved `RUN pip install -r requirements.txt`"),
        "{err}"
    );
    assert!(
        err.contains(":8: kept below `COPY . /app` (line 2): not followed: `./build.sh`"),
        "{err}"
    );
    // The second identical install is listed, and no reason names a
    // moved unit as staying.
    assert!(err.contains(":9: kept below `COPY . /app` (line 2): it depends on `RUN ./build.sh` (line 8), between the copy and it, which stays below the copy"), "{err}");
    assert!(
        err.contains(
            ":10: kept below `COPY . /app` (line 2): it depends on `RUN ./build.sh` (line 8), "
        ),
        "{err}"
    );
    for line in err.lines().filter(|l| l.contains("kept below")) {
        for moved in ["(line 3)", "(line 4)", "(line 5)", "(line 6)", "(line 7)"] {
            assert!(!line.contains(moved), "{line}");
        }
    }
}

/// review 69: apk add takes any word holding `.apk` anywhere as a package
/// file, named relative to where it runs (apk-tools' add applet tests
/// `strstr(arg, ".apk")`), not only one ending in `.apk`. A list word
/// `local.apk1` passed as a package name, so `apk add $(cat apk.txt)`
/// moved `[safe]` above the copy that ships the file apk would open (not
/// measured: no Alpine image here; from apk-tools' source).
#[test]
fn an_apk_list_word_holding_dot_apk_is_a_package_file() {
    let files: &[(&str, &str)] = &[
        ("apk.txt", "jq\n"),
        ("local.apk1", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let text = "FROM alpine:3.20\nCOPY . /app\nWORKDIR /app\nRUN apk add --no-cache $(cat apk.txt)\nCMD [\"sh\"]\n";
    // The control: plain names move.
    let (change, _) = crate::support::hoist_proposal(files, text, &[]);
    assert_eq!(change.map(|c| c.0), Some(Applicability::Safe));
    for list in ["jq\nlocal.apk1\n", "tool.apk.bak\n"] {
        let (change, out) = crate::support::hoist_proposal(files, text, &[("apk.txt", list)]);
        let (a, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
        assert_ne!(a, Applicability::Safe, "{list:?}: {reason}");
        assert_eq!(out, text, "{list:?}");
    }
}

/// review 69: a package list's words follow the command's last argument;
/// when that is an option taking a value (`apt-get install -y -o`, `apk
/// add -p`), the option takes the list's first word: `dir=.` passed as
/// a package name (and version), and `-o dir=.` makes apt read its whole
/// tree below the working directory the copy fills. Both spellings moved
/// `[safe]`; such an install is not followed now (not measured: the
/// words are apt's and apk's documented option syntax).
#[test]
fn a_package_list_after_an_option_taking_a_value_is_not_followed() {
    let files: &[(&str, &str)] = &[
        ("apt.txt", "dir=.\njq\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = |install: &str| {
        format!(
            "FROM python:3.12-slim\nCOPY . /app\nWORKDIR /app\nRUN apt-get update && {install} && rm -rf /var/lib/apt/lists/*\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    for install in [
        "xargs -a apt.txt apt-get install -y -o",
        "apt-get install -y -o $(cat apt.txt)",
        "apt-get install -y --option $(cat apt.txt)",
    ] {
        let text = df(install);
        let (change, out) = crate::support::hoist_proposal(files, &text, &[]);
        let (a, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
        assert_ne!(a, Applicability::Safe, "{install}: {reason}");
        assert_eq!(out, text, "{install}");
    }
    // The controls: after a flag, or an option given its value, the words
    // are names.
    for install in [
        "xargs -a apt.txt apt-get install -y",
        "apt-get install -y -t bookworm $(cat apt.txt)",
    ] {
        let text = df(install);
        let (change, _) = crate::support::hoist_proposal(files, &text, &[("apt.txt", "jq\n")]);
        assert_eq!(change.map(|c| c.0), Some(Applicability::Safe), "{install}");
    }
}

/// h-npm69: an agreeing lock written without `resolved` URLs
/// (`omit-lockfile-registry-resolved`) moves `Safe`, but only where every
/// other condition of the proof holds. Each trap keeps the install
/// `Unsafe`; the ones marked so were measured (npm 10.8.2 in
/// node:20-slim) to make npm write the lock back otherwise, the others
/// are forms the proof does not read.
#[test]
fn npm_install_with_a_lock_without_resolved_urls_stays_unsafe_when_not_proven() {
    use crate::support::{NO_RESOLVED_LOCK, NO_RESOLVED_PACKAGE, hoist_proposal};
    let df = "FROM node:20-slim\nWORKDIR /usr/src/app\nCOPY . ./\nRUN npm install --production\nCMD [ \"node\", \"index.js\" ]\n";
    let defaults = [
        ("package.json", NO_RESOLVED_PACKAGE),
        ("package-lock.json", NO_RESOLVED_LOCK),
        ("index.js", "require('debug')('app')\n"),
        (".dockerignore", "node_modules\n.git\n"),
    ];
    let (change, _) = hoist_proposal(&defaults, df, &[]);
    assert_eq!(change.map(|c| c.0), Some(Applicability::Safe));
    let with_urls = NO_RESOLVED_LOCK.replace(
        "      \"version\": \"7.8.6\",\n",
        "      \"version\": \"7.8.6\",\n      \"resolved\": \"https://registry.npmjs.org/semver/-/semver-7.8.6.tgz\",\n",
    );
    let tabs = NO_RESOLVED_LOCK.replace("  ", "\t");
    let nested_ms =
        "    \"node_modules/debug/node_modules/ms\": {\n      \"version\": \"2.0.0\",\n";
    // What each trap is, the files it writes over the defaults, the Dockerfile.
    type Trap<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Trap> = vec![
        // Measured: npm wrote package.json's range into the root entry.
        (
            "a range the lock's root does not hold",
            vec![(
                "package.json",
                NO_RESOLVED_PACKAGE.replace("^7.6.0", "^7.5.0"),
            )],
            df,
        ),
        // Measured: npm renamed the lock's root.
        (
            "another name in package.json",
            vec![(
                "package.json",
                NO_RESOLVED_PACKAGE.replace("parcel-tracker", "parcel-api"),
            )],
            df,
        ),
        // Measured (a lock with URLs): written back with package.json's indent.
        (
            "a lock indented by tabs",
            vec![("package-lock.json", tabs)],
            df,
        ),
        // Measured: npm dropped every `resolved` of a lock that had them.
        (
            "omit-lockfile-registry-resolved beside a lock with URLs",
            vec![
                ("package-lock.json", with_urls),
                (".npmrc", "omit-lockfile-registry-resolved=true\n".into()),
            ],
            df,
        ),
        // The same setting beside a lock without URLs, and another one
        // that is not read.
        (
            "omit-lockfile-registry-resolved beside a setting not read",
            vec![(
                ".npmrc",
                "omit-lockfile-registry-resolved=true\nlockfile-version=2\n".into(),
            )],
            df,
        ),
        (
            "omit-lockfile-registry-resolved set to something else",
            vec![(".npmrc", "omit-lockfile-registry-resolved=${OMIT}\n".into())],
            df,
        ),
        // Not read: what another registry serves for NAME@VERSION.
        (
            "another registry",
            vec![(".npmrc", "registry=https://npm.example.com/\n".into())],
            df,
        ),
        // Not read: a pre-release fetched by its version alone.
        (
            "a pre-release version without a URL",
            vec![(
                "package-lock.json",
                NO_RESOLVED_LOCK.replace(nested_ms, &nested_ms.replace("2.0.0", "2.0.0-rc.1")),
            )],
            df,
        ),
        // Not read: an alias (`name` in the entry) fetched by its version.
        (
            "an alias entry without a URL",
            vec![(
                "package-lock.json",
                NO_RESOLVED_LOCK
                    .replace(nested_ms, &format!("{nested_ms}      \"name\": \"ms\",\n")),
            )],
            df,
        ),
        // npm 8 (Node 16) rewrites a version 3 lock.
        (
            "an npm 8 image",
            vec![],
            "FROM node:16-slim\nWORKDIR /usr/src/app\nCOPY . ./\nRUN npm install --production\nCMD [ \"node\", \"index.js\" ]\n",
        ),
        // `--no-save` keeps the lock, but a package argument resolves anew.
        (
            "a package argument",
            vec![],
            "FROM node:20-slim\nWORKDIR /usr/src/app\nCOPY . ./\nRUN npm install --production ms@2.1.3\nCMD [ \"node\", \"index.js\" ]\n",
        ),
    ];
    for (what, files, df) in &cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let (change, out) = hoist_proposal(&defaults, df, &files);
        if let Some((app, reason)) = change {
            assert_ne!(app, Applicability::Safe, "{what}: {reason}");
        }
        assert_eq!(&out, df, "{what}: nothing moves");
    }
}

/// Review 70: a lock is kept only with the settings npm runs with, and a
/// variable the `RUN` itself exports before the install is one of them.
/// `RUN export npm_config_lockfile_version=2 && npm install --production`
/// was proposed `Safe` ("nothing sets npm's configuration"); measured
/// with compare.sh (npm 10.8.2, node:20-slim): npm wrote the lock back as
/// version 2 in the original, the broad copy put the version 3 lock back
/// over it in the rewrite (`/usr/src/app/package-lock.json` differed,
/// 2662 bytes against 1677). The same setting in the stage's `ENV`, or as
/// the command's own assignment, kept it `Unsafe` already.
#[test]
fn a_variable_exported_before_npm_install_counts_as_npm_configuration() {
    use crate::support::{NO_RESOLVED_LOCK, NO_RESOLVED_PACKAGE, hoist_proposal};
    let defaults = [
        ("package.json", NO_RESOLVED_PACKAGE),
        ("package-lock.json", NO_RESOLVED_LOCK),
        ("index.js", "require('debug')('app')\n"),
        (".dockerignore", "node_modules\n.git\n"),
    ];
    let df = |run: &str| {
        format!(
            "FROM node:20-slim\nWORKDIR /usr/src/app\nCOPY . ./\nRUN {run}\nCMD [ \"node\", \"index.js\" ]\n"
        )
    };
    // Without the export the lock is proven kept: the test reads the export.
    let (plain, _) = hoist_proposal(&defaults, &df("npm install --production"), &[]);
    assert_eq!(plain.map(|c| c.0), Some(Applicability::Safe));
    let with_urls = NO_RESOLVED_LOCK.replace(
        "      \"version\": \"7.8.6\",\n",
        "      \"version\": \"7.8.6\",\n      \"resolved\": \"https://registry.npmjs.org/semver/-/semver-7.8.6.tgz\",\n",
    );
    let (urls, _) = hoist_proposal(
        &defaults,
        &df("npm install --production"),
        &[("package-lock.json", &with_urls)],
    );
    assert_eq!(urls.map(|c| c.0), Some(Applicability::Safe));
    let cases: [(&str, &[(&str, &str)]); 4] = [
        // Measured: the lock came out as version 2.
        (
            "export npm_config_lockfile_version=2 && npm install --production",
            &[],
        ),
        (
            "npm_config_lockfile_version=2; export npm_config_lockfile_version; npm install",
            &[],
        ),
        // npm drops the lock's `resolved` URLs (measured by h-npm69 with
        // the setting in `.npmrc`).
        (
            "export NPM_CONFIG_OMIT_LOCKFILE_REGISTRY_RESOLVED=true && npm install --production",
            &[("package-lock.json", &with_urls)],
        ),
        // What `NODE_OPTIONS` makes node do is not read.
        (
            "export NODE_OPTIONS=--max-old-space-size=4096 && npm install --production",
            &[],
        ),
    ];
    for (run, files) in cases {
        let text = df(run);
        let (change, out) = hoist_proposal(&defaults, &text, files);
        if let Some((app, reason)) = change {
            assert_ne!(app, Applicability::Safe, "{run}: {reason}");
        }
        assert_eq!(out, text, "{run}: nothing moves");
    }
}

/// Review 70: an `rm` beside a system package manager keeps the user
/// database known only when none of its operands is a user database
/// file; `/etc/./passwd` is `/etc/passwd`, which the path comparison
/// (component by component) did not see, so the venv and pip install of
/// a user `useradd` made after it moved `Safe` above a copy into
/// `/home/app` as if the database were intact (model level: with the file
/// gone, `useradd` fails in either order).
#[test]
fn an_rm_of_a_user_database_file_spelled_with_a_dot_forgets_the_users() {
    use crate::support::hoist_proposal;
    let files = [
        ("requirements.txt", "flask==3.0.3\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\nvenv/\n"),
    ];
    let df = |rm: &str| {
        format!(
            "FROM python:3.12-slim\n\
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf {rm}\n\
RUN useradd -m nonroot\n\
RUN mkdir -p /home/app/ && chown -R nonroot:nonroot /home/app\n\
WORKDIR /home/app\n\
USER nonroot\n\
COPY --chown=nonroot:nonroot . .\n\
ENV VIRTUAL_ENV=/home/app/venv\n\
RUN python -m venv $VIRTUAL_ENV\n\
ENV PATH=\"$VIRTUAL_ENV/bin:$PATH\"\n\
RUN pip install -r requirements.txt\n\
CMD [\"python\", \"app.py\"]\n"
        )
    };
    // The lists alone: the users stay known and both move.
    let (_, out) = hoist_proposal(&files, &df("/var/lib/apt/lists/*"), &[]);
    assert_ne!(out, df("/var/lib/apt/lists/*"));
    for rm in [
        "/var/lib/apt/lists/* /etc/./passwd",
        "/var/lib/apt/lists/* /etc/default/./useradd",
        "/var/lib/apt/lists/* /./etc/login.defs",
    ] {
        let text = df(rm);
        let (_, out) = hoist_proposal(&files, &text, &[]);
        assert_eq!(out, text, "{rm}: nothing moves");
    }
}

/// Review 70: a pip configuration file named by `PIP_CONFIG_FILE` that an
/// earlier `RUN` wrote (content not read here) may name what the broad
/// copy ships; with `ENV PIP_CONFIG_FILE=…` the install stayed, but the
/// same variable exported by the install's own `RUN`, or given to the
/// command, was not read, and the install moved `Safe`. Measured with
/// compare.sh (python:3.12-slim, pip 23.0.1): the original installed six
/// from `/app/wheels` (`no-index`, `find-links`), the rewrite failed ("No
/// matching distribution found for six==1.16.0").
#[test]
fn a_pip_config_file_named_by_the_runs_own_variable_keeps_the_install() {
    use crate::support::hoist_proposal;
    let files = [
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        (
            "wheels/six-1.16.0-py2.py3-none-any.whl",
            "not a real wheel\n",
        ),
        (".dockerignore", ".git\n"),
    ];
    let df = |run: &str| {
        format!(
            "FROM python:3.12-slim\nRUN printf '[global]\\nno-index = true\\nfind-links = /app/wheels\\n' > /srv/pipconf.ini\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    // Without the variable the install moves: the test reads the variable.
    let plain = df("pip install -r requirements.txt");
    assert_ne!(hoist_proposal(&files, &plain, &[]).1, plain);
    for run in [
        "export PIP_CONFIG_FILE=/srv/pipconf.ini && pip install -r requirements.txt",
        "PIP_CONFIG_FILE=/srv/pipconf.ini pip install -r requirements.txt",
        "PIP_CONFIG_FILE=/srv/pipconf.ini; export PIP_CONFIG_FILE; pip install -r requirements.txt",
        "export HOME=/srv PIP_CONFIG_FILE=$HOME/pipconf.ini && pip install -r requirements.txt",
    ] {
        let text = df(run);
        let (change, out) = hoist_proposal(&files, &text, &[]);
        if let Some((app, reason)) = change {
            assert_ne!(app, Applicability::Safe, "{run}: {reason}");
        }
        assert_eq!(out, text, "{run}: nothing moves");
    }
}

/// The traps around a requirement file bind-mounted away from the broad
/// copy: pip opens its `-r`/`-c` includes beside the mount, in the image
/// (measured with pip 23: `-r other.txt` in `/tmp/requirements.txt`
/// opened `/tmp/other.txt`), and a local path relative to the working
/// directory the copy fills (`./pkg` from `/tmp/local.txt` was looked for
/// in `/app`); a mount inside the copy's destination at another place; an
/// npm manifest mounted where npm does not read it. None is `Safe`.
#[test]
fn a_requirement_file_mounted_outside_the_copy_is_followed_or_kept() {
    let defaults: &[(&str, &str)] = &[
        ("requirements.txt", "flask==3.0.0\n"),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let mounted = |target: &str, read: &str| {
        format!(
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN --mount=type=bind,source=requirements.txt,target={target} pip install -r {read}\n"
        )
    };
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, String);
    let cases: Vec<Case> = vec![
        (
            "an include read beside the mount",
            vec![
                ("requirements.txt", "-r base.txt\nflask==3.0.0\n"),
                ("base.txt", "six\n"),
            ],
            mounted("/tmp/requirements.txt", "/tmp/requirements.txt"),
        ),
        (
            "a constraint read beside the mount",
            vec![
                ("requirements.txt", "-c constraints.txt\nflask\n"),
                ("constraints.txt", "flask==3.0.0\n"),
            ],
            mounted("/tmp/requirements.txt", "/tmp/requirements.txt"),
        ),
        (
            "a local path of the working directory",
            vec![("requirements.txt", "-e .\n")],
            mounted("/tmp/requirements.txt", "/tmp/requirements.txt"),
        ),
        (
            "the mount is not what pip reads",
            vec![],
            mounted("/tmp/requirements.txt", "requirements.txt"),
        ),
        (
            "a mount inside the copy's destination",
            vec![],
            mounted("/app/deps/requirements.txt", "/app/deps/requirements.txt"),
        ),
        (
            "a source the context does not ship",
            vec![(".dockerignore", ".git\nrequirements.txt\n")],
            mounted("/tmp/requirements.txt", "/tmp/requirements.txt"),
        ),
    ];
    for (what, files, df) in &cases {
        let (change, out) = crate::support::hoist_proposal(defaults, df, files);
        if let Some((app, reason)) = change {
            assert_ne!(app, Applicability::Safe, "{what}: {reason}");
        }
        assert_eq!(&out, df, "{what}: nothing moves");
    }
    // npm reads the manifests of the directory it runs in, not a mount
    // elsewhere.
    let npm: &[(&str, &str)] = &[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("index.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ];
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN --mount=type=bind,source=package.json,target=/tmp/package.json --mount=type=bind,source=package-lock.json,target=/tmp/package-lock.json cd /tmp && npm ci\n";
    let (change, out) = crate::support::hoist_proposal(npm, df, &[]);
    if let Some((app, reason)) = change {
        assert_ne!(app, Applicability::Safe, "npm in /tmp: {reason}");
    }
    assert_eq!(out, df);
}

/// The traps around `uv pip install -r pyproject.toml`: uv builds the
/// project to know requirements declared `dynamic`, reads `[tool.uv]`
/// sources and local `file:` requirements from other files, and a
/// project without a static name and version or with Poetry's table is
/// not read statically by every uv. None is `Safe`.
#[test]
fn uv_pip_install_of_a_pyproject_it_may_build_stays() {
    let base = crate::recall::STATIC_PYPROJECT;
    let defaults: &[(&str, &str)] = &[
        ("pyproject.toml", base),
        ("README.md", "# demo\n"),
        ("src/demo_app/__init__.py", "x = 1\n"),
        (
            "libs/core/pyproject.toml",
            "[project]\nname = \"core\"\nversion = \"1\"\n",
        ),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\nCOPY . .\nRUN uv pip install --system -r pyproject.toml --extra web\n";
    let dynamic_deps = base.replace(
        "dependencies = [\"six==1.16.0\"]\n",
        "dynamic = [\"dependencies\"]\n",
    );
    let dynamic_version = base.replace("version = \"0.1.0\"\n", "dynamic = [\"version\"]\n");
    let no_version = base.replace("version = \"0.1.0\"\n", "");
    let sources = format!("{base}\n[tool.uv.sources]\nsix = {{ path = \"libs/core\" }}\n");
    let file_url = base.replace("\"six==1.16.0\"", "\"core @ file:///app/libs/core\"");
    let root = base.replace("\"six==1.16.0\"", "\"core @ {root:uri}/libs/core\"");
    let poetry = format!("{base}\n[tool.poetry]\nname = \"demo-app\"\n");
    let workspace = format!("{base}\n[tool.uv.workspace]\nmembers = [\"libs/*\"]\n");
    let cases: Vec<(&str, &str)> = vec![
        ("dynamic dependencies", &dynamic_deps),
        ("a dynamic version", &dynamic_version),
        ("no version", &no_version),
        ("a path source", &sources),
        ("a file: requirement", &file_url),
        ("a {root} requirement", &root),
        ("a Poetry table", &poetry),
        ("a workspace", &workspace),
        ("not TOML", "[project\nname = 1\n"),
    ];
    for (what, text) in cases {
        let (change, out) =
            crate::support::hoist_proposal(defaults, df, &[("pyproject.toml", text)]);
        if let Some((app, reason)) = change {
            assert_ne!(app, Applicability::Safe, "{what}: {reason}");
        }
        assert_eq!(out, df, "{what}: nothing moves");
    }
    // setup.py is run to know the requirements.
    let df = "FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\nCOPY . .\nRUN uv pip install --system -r setup.py\n";
    let (change, out) = crate::support::hoist_proposal(
        defaults,
        df,
        &[(
            "setup.py",
            "from setuptools import setup\nsetup(name='x')\n",
        )],
    );
    if let Some((app, reason)) = change {
        assert_ne!(app, Applicability::Safe, "setup.py: {reason}");
    }
    assert_eq!(out, df);
}

/// The traps around `cargo install`: a crate from the working directory
/// (`--path .`, no name) or from a git repository, another install root;
/// a `.cargo/config.toml` the copy puts above CARGO_HOME (`COPY . /`:
/// cargo reads `/.cargo/config.toml` when it looks for its configuration
/// from CARGO_HOME up); a toolchain file the copy ships in a parent of
/// the working directory is copied first or the install stays.
#[test]
fn cargo_install_from_the_project_or_with_shipped_configuration_stays() {
    let defaults: &[(&str, &str)] = &[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("Cargo.lock", "version = 3\n"),
        ("src/main.rs", "fn main() {}\n"),
        (
            ".cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"vendored\"\n",
        ),
        (".dockerignore", ".git\ntarget\n"),
    ];
    let at = |workdir: &str, copy: &str, run: &str| {
        format!("FROM rust:1.83\nWORKDIR {workdir}\n{copy}\nRUN {run}\n")
    };
    for df in [
        at("/app", "COPY . .", "cargo install --path ."),
        at("/app", "COPY . .", "cargo install --locked --path . app"),
        at("/app", "COPY . .", "cargo install"),
        at("/app", "COPY . .", "cargo install --locked --version 0.1.0"),
        at("/app", "COPY . .", "cargo install -F full --locked"),
        at(
            "/app",
            "COPY . .",
            "cargo install --git https://github.com/example/tool tool",
        ),
        at("/app", "COPY . .", "cargo install --root . cargo-chef"),
        at(
            "/app",
            "COPY . .",
            "cargo install --target-dir=target cargo-chef",
        ),
        at("/", "COPY . .", "cargo install cargo-chef"),
    ] {
        let (change, out) = crate::support::hoist_proposal(defaults, &df, &[]);
        if let Some((app, reason)) = change {
            assert_ne!(app, Applicability::Safe, "{df}: {reason}");
        }
        assert_eq!(out, df, "nothing moves");
    }
    // A toolchain file the copy ships where the install runs: the proxy
    // reads it, and a pattern is not copied first.
    let df = at("/app", "COPY . .", "cargo install cargo-chef");
    for name in ["rust-toolchain.toml", "rust-toolchain"] {
        let (change, out) = crate::support::hoist_proposal(
            defaults,
            &df,
            &[(name, "[toolchain]\nchannel = \"1.80\"\n")],
        );
        if let Some((app, reason)) = change {
            assert_ne!(app, Applicability::Safe, "{name}: {reason}");
        }
        assert_eq!(out, df, "{name}: nothing moves");
    }
    // A toolchain file in the parent directory the copy fills: the proxy
    // finds it there, so it is copied first (or nothing moves).
    let df = at("/app/svc", "COPY . /app", "cargo install cargo-chef");
    let (_, out) = crate::support::hoist_proposal(
        defaults,
        &df,
        &[("rust-toolchain.toml", "[toolchain]\nchannel = \"1.80\"\n")],
    );
    let install = out.find("RUN cargo install").expect("the install");
    let broad = out.find("COPY . /app\n").expect("the copy");
    if install < broad {
        let toolchain = out
            .find("rust-toolchain.toml")
            .expect("the toolchain file copied first");
        assert!(toolchain < install, "{out}");
    }
}

/// A Gradle plugin from outside Gradle's distribution runs while Gradle
/// configures the build, so `gradle dependencies` runs its code too, and
/// the plugins that version a project from git (com.palantir.git-version,
/// axion-release, grgit, jgitver …) read the repository (axion-release
/// and grgit with JGit, no git program needed): `version = gitVersion()`
/// above the copy finds no `.git` and fails the build, where the
/// original, after a copy that ships `.git`, worked (scout71). With
/// `.git` left out of the context, or only Gradle's own plugins, the
/// resolve still moves.
#[test]
fn gradle_external_plugins_with_a_shipped_repository_keep_the_resolve_in_place() {
    let df =
        "FROM gradle:8-jdk21\nWORKDIR /app\nCOPY . .\nRUN gradle dependencies\nRUN gradle build\n";
    let defaults: &[(&str, &str)] = &[
        ("settings.gradle", "rootProject.name = 'app'\n"),
        ("build.gradle", "plugins { id 'java' }\n"),
        ("src/main/java/A.java", "class A {}\n"),
        (".git/HEAD", "ref: refs/heads/main\n"),
        (".git/config", "[core]\n\tbare = false\n"),
        (".dockerignore", "build\n"),
    ];
    let cases: &[&[(&str, &str)]] = &[
        &[(
            "build.gradle",
            "plugins {\n    id 'java'\n    id 'com.palantir.git-version' version '3.1.0'\n}\nversion = gitVersion()\n",
        )],
        &[
            (
                "build.gradle.kts",
                "plugins {\n    java\n    id(\"pl.allegro.tech.build.axion-release\") version \"1.18.2\"\n}\nversion = scmVersion.version\n",
            ),
            ("build.gradle", ""),
        ],
        &[(
            "build.gradle",
            "buildscript {\n    repositories { gradlePluginPortal() }\n    dependencies { classpath 'com.palantir.gradle.gitversion:gradle-git-version:3.1.0' }\n}\napply plugin: 'java'\napply plugin: 'com.palantir.git-version'\nversion = gitVersion()\n",
        )],
        &[
            (
                "build.gradle",
                "plugins {\n    id 'java'\n    alias(libs.plugins.git.version)\n}\nversion = gitVersion()\n",
            ),
            (
                "gradle/libs.versions.toml",
                "[plugins]\ngit-version = { id = \"com.palantir.git-version\", version = \"3.1.0\" }\n",
            ),
        ],
        &[(
            "settings.gradle",
            "plugins {\n    id 'org.ajoberstar.grgit' version '5.2.2'\n}\nrootProject.name = 'app'\n",
        )],
    ];
    for extra in cases {
        let mut files: Vec<(&str, &str)> = extra.to_vec();
        // "build.gradle" set to "" stands for no such file.
        let drop_groovy = files
            .iter()
            .any(|(n, t)| *n == "build.gradle" && t.is_empty());
        files.retain(|(_, t)| !t.is_empty());
        let mut defaults: Vec<(&str, &str)> = defaults.to_vec();
        if drop_groovy {
            defaults.retain(|(n, _)| *n != "build.gradle");
        }
        let (change, out) = crate::support::hoist_proposal(&defaults, df, &files);
        if let Some((app, reason)) = change {
            assert_ne!(app, Applicability::Safe, "{extra:?}: {reason}");
        }
        assert_eq!(out, df, "{extra:?}: nothing moves");
        // Without the repository in the context, it moves.
        files.push((".dockerignore", "build\n.git\n"));
        let (change, out) = crate::support::hoist_proposal(&defaults, df, &files);
        assert_eq!(
            change.map(|c| c.0),
            Some(Applicability::Safe),
            "{extra:?}: {out}"
        );
    }
    // Gradle's own plugins with the repository shipped: it moves.
    for build in [
        "plugins {\n    id 'java'\n    id 'application'\n    id 'org.gradle.jacoco'\n}\n",
        "apply plugin: 'java'\napply plugin: \"maven-publish\"\n",
    ] {
        let (change, out) =
            crate::support::hoist_proposal(defaults, df, &[("build.gradle", build)]);
        assert_eq!(
            change.map(|c| c.0),
            Some(Applicability::Safe),
            "{build}: {out}"
        );
    }
}
