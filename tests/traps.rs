//! Traps: Dockerfiles where a naive reorder would change the image. Each
//! must be left alone (or only offered as `Unsafe`), and the bytes of
//! CRLF and backtick-escape files must survive.

use std::path::Path;

use dockreorder::analysis::context::Context;
use dockreorder::plan::{Applicability, ChangeKind, Options};
use dockreorder::rewrite::{self, Outcome};

use crate::support::project;

fn run(dir: &Path, dockerfile: &str, threshold: Applicability) -> Outcome {
    let ctx = Context::new(dir.to_path_buf(), Some(&dir.join("Dockerfile")));
    rewrite::rewrite(dockerfile, Some(&ctx), Options::new(threshold)).expect("rewrite")
}

const PY: &[(&str, &str)] = &[
    ("requirements.txt", "flask\n"),
    ("app.py", "print(1)\n"),
    ("config/app.conf", "x=1\n"),
    ("entrypoint.sh", "#!/bin/sh\n"),
];

#[test]
fn run_reading_a_copied_file_through_an_unknown_path_stays() {
    let dir = project(PY);
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN cp config/app.conf /etc/app.conf\n";
    let out = run(dir.path(), df, Applicability::Unsafe);
    assert_eq!(out.new_text, df);
    // An unknown command reads everything: it stays below the copy. Only
    // the install before it is split off and hoisted.
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt && python setup.py build\n";
    let out = run(dir.path(), df, Applicability::Unsafe);
    assert_eq!(
        out.new_text,
        "FROM base\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nRUN python setup.py build\n"
    );
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN python setup.py build && pip install -r requirements.txt\n";
    let out = run(dir.path(), df, Applicability::Unsafe);
    assert_eq!(out.new_text, df, "nothing runs before the unknown command");
}

#[test]
fn run_overwriting_a_shipped_file_is_unsafe() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"x\":\"1\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("index.js", ""),
    ]);
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm install\n";
    let out = run(dir.path(), df, Applicability::Safe);
    assert_eq!(out.new_text, df);
    let c = hoist(&out);
    assert_eq!(c.applicability, Applicability::Unsafe);
    assert!(!c.applied);
    assert!(c.reason.contains("package-lock.json"), "{}", c.reason);
}

#[test]
fn chmod_of_a_copied_file_stays_after_the_copy() {
    let dir = project(PY);
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN chmod +x entrypoint.sh\nRUN pip install -r requirements.txt\n";
    let out = run(dir.path(), df, Applicability::Unsafe);
    let text = &out.new_text;
    let copy = text.find("COPY . .").expect("copy");
    let chmod = text.find("RUN chmod").expect("chmod");
    assert!(copy < chmod, "chmod must stay after the copy:\n{text}");
    // The install itself may move: it does not touch entrypoint.sh.
    assert!(text.find("RUN pip").expect("pip") < copy, "{text}");
}

#[test]
fn state_changes_between_copy_and_install_block_the_move() {
    let dir = project(PY);
    for between in ["WORKDIR /srv", "SHELL [\"/bin/sh\", \"-ec\"]"] {
        let df = format!(
            "FROM base\nWORKDIR /app\nCOPY . .\n{between}\nRUN pip install -r requirements.txt\n"
        );
        let out = run(dir.path(), &df, Applicability::Unsafe);
        assert_eq!(out.new_text, df, "moved across `{between}`");
    }
    // The install is never moved across the ENV or ARG it sees; since
    // issue 11 they move above the copy with it, still before it (and the
    // inserted COPY stands right before the install).
    for between in [
        "ENV PIP_INDEX_URL=https://example.invalid/simple",
        "ARG PIP_EXTRA",
    ] {
        let df = format!(
            "FROM base\nWORKDIR /app\nCOPY . .\n{between}\nRUN pip install -r requirements.txt\n"
        );
        let out = run(dir.path(), &df, Applicability::Unsafe);
        assert_eq!(
            out.new_text,
            format!(
                "FROM base\nWORKDIR /app\n{between}\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
            ),
            "`{between}` moves with the install"
        );
    }
    // Since issue 11 a USER moves with it too (a COPY takes its owner
    // from `--chown` only), still before it, when its home is known: a
    // user a parsed `useradd` made on an official image. The inserted COPY
    // stands where the broad copy stood. Not past an instruction that runs
    // as the user, and not a user of an unknown base (`nobody` here), whose
    // home may be where the copy ships the tool's settings.
    let df = "FROM python:3.12\nRUN useradd -m web\nWORKDIR /app\nCOPY . .\nUSER web\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        run(dir.path(), df, Applicability::Unsafe).new_text,
        "FROM python:3.12\nRUN useradd -m web\nWORKDIR /app\nCOPY requirements.txt ./\nUSER web\nRUN pip install -r requirements.txt\nCOPY . .\n"
    );
    for df in [
        "FROM python:3.12\nRUN useradd -m web\nWORKDIR /app\nCOPY . .\nRUN chmod +x entrypoint.sh\nUSER web\nRUN pip install -r requirements.txt\n",
        "FROM base\nWORKDIR /app\nCOPY . .\nUSER nobody\nRUN pip install -r requirements.txt\n",
    ] {
        assert_eq!(run(dir.path(), df, Applicability::Unsafe).new_text, df);
    }
}

#[test]
fn tracked_node_modules_without_dockerignore_is_unsafe_and_says_how_to_fix() {
    let dir = project(&[
        ("package.json", "{\"name\":\"a\"}"),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("node_modules/x/index.js", ""),
        ("index.js", ""),
    ]);
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let out = run(dir.path(), df, Applicability::Safe);
    assert_eq!(out.new_text, df);
    let c = hoist(&out);
    assert_eq!(c.applicability, Applicability::Unsafe);
    assert!(
        c.reason.contains("`node_modules` to .dockerignore"),
        "{}",
        c.reason
    );
    // With the suggested .dockerignore line it becomes safe.
    std::fs::write(dir.path().join(".dockerignore"), "node_modules\n").expect("write");
    let out = run(dir.path(), df, Applicability::Safe);
    assert_ne!(out.new_text, df);
}

#[test]
fn npm_postinstall_script_is_unsafe() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"scripts\":{\"postinstall\":\"node build.js\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("build.js", ""),
        (".dockerignore", "node_modules\n"),
    ]);
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let out = run(dir.path(), df, Applicability::Safe);
    assert_eq!(out.new_text, df);
    let c = hoist(&out);
    assert_eq!(c.applicability, Applicability::Unsafe);
    assert!(c.reason.contains("postinstall"), "{}", c.reason);
}

/// A `binding.gyp` beside package.json makes the package's install
/// script `node-gyp rebuild` when it has none (npm's run-script; measured
/// with npm 11: `npm install` in a project with only package.json and
/// binding.gyp ran `node-gyp rebuild`), which compiles the sources the
/// broad copy brings. Not Safe, for npm, yarn and pnpm alike.
#[test]
fn a_binding_gyp_makes_the_install_build_the_sources() {
    let dir = project(&[
        ("package.json", "{\"name\":\"a\",\"version\":\"1.0.0\"}"),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("yarn.lock", ""),
        ("pnpm-lock.yaml", ""),
        (
            "binding.gyp",
            "{'targets':[{'target_name':'a','sources':['src/a.cc']}]}",
        ),
        ("src/a.cc", ""),
        (".dockerignore", "node_modules\n.git\n"),
    ]);
    for install in [
        "RUN npm ci",
        "RUN yarn install --frozen-lockfile",
        "RUN pnpm install --frozen-lockfile",
    ] {
        let df = format!("FROM base\nWORKDIR /app\nCOPY . .\n{install}\n");
        let out = run(dir.path(), &df, Applicability::Safe);
        assert_eq!(out.new_text, df, "{install}");
        let c = hoist(&out);
        assert_eq!(c.applicability, Applicability::Unsafe, "{install}");
        assert!(c.reason.contains("binding.gyp"), "{install}: {}", c.reason);
    }
}

/// Corepack's shims (yarn, pnpm; npm when enabled) read `.corepack.env`
/// beside package.json (review 11, measured with corepack 0.34.6 for
/// yarn: `COREPACK_HOME` inside the project put yarn there only where the
/// file was). The inserted COPY does not bring it: not Safe, for pnpm too.
#[test]
fn a_corepack_env_keeps_corepack_installs_in_place() {
    let dir = project(&[
        (
            "package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"packageManager\":\"pnpm@9.12.0\"}",
        ),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        (".corepack.env", "COREPACK_HOME=/app/.corepack\n"),
        (".dockerignore", "node_modules\n.git\n"),
    ]);
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN corepack enable && pnpm install --frozen-lockfile\n";
    let out = run(dir.path(), df, Applicability::Safe);
    assert_eq!(out.new_text, df);
    let c = hoist(&out);
    assert_eq!(c.applicability, Applicability::Unsafe);
    assert!(c.reason.contains(".corepack.env"), "{}", c.reason);
}

#[test]
fn unknown_run_between_blocks_everything_after_it() {
    let dir = project(PY);
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN ./configure --prefix=/usr\nRUN pip install -r requirements.txt\n";
    let out = run(dir.path(), df, Applicability::Unsafe);
    assert_eq!(out.new_text, df);
}

#[test]
fn crlf_file_keeps_its_bytes() {
    let dir = project(PY);
    let df = "FROM base\r\nWORKDIR /app\r\n# all of it\r\nCOPY . .\r\nRUN pip install \\\r\n    -r requirements.txt\r\nCMD [\"python\"]";
    let out = run(dir.path(), df, Applicability::Safe);
    assert_eq!(
        out.new_text,
        "FROM base\r\nWORKDIR /app\r\nCOPY requirements.txt ./\r\nRUN pip install \\\r\n    -r requirements.txt\r\n# all of it\r\nCOPY . .\r\nCMD [\"python\"]"
    );
    // An unchanged CRLF file comes out byte for byte.
    let out2 = run(dir.path(), &out.new_text, Applicability::Safe);
    assert_eq!(out2.new_text, out.new_text);
}

#[test]
fn backtick_escape_file_keeps_its_bytes() {
    let dir = project(PY);
    let df = "# escape=`\nFROM base\nWORKDIR /app\nCOPY . .\nRUN pip install `\n    -r requirements.txt\n";
    let out = run(dir.path(), df, Applicability::Safe);
    assert_eq!(
        out.new_text,
        "# escape=`\nFROM base\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install `\n    -r requirements.txt\nCOPY . .\n"
    );
}

#[test]
fn keep_pragma_and_ignore_file() {
    let dir = project(PY);
    let df = "FROM base\nWORKDIR /app\n# dockreorder: keep\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_eq!(run(dir.path(), df, Applicability::Unsafe).new_text, df);
    let df = "# dockreorder: ignore-file\nFROM base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_eq!(run(dir.path(), df, Applicability::Unsafe).new_text, df);
}

#[test]
fn well_ordered_file_gives_no_diff() {
    let dir = project(PY);
    let df = "FROM base\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n";
    let out = run(dir.path(), df, Applicability::Unsafe);
    assert_eq!(out.new_text, df);
    assert!(
        out.changes
            .iter()
            .all(|c| c.kind == ChangeKind::Advice && !c.applied),
        "{:?}",
        out.changes
    );
}

#[test]
fn reorder_puts_manifest_copy_and_install_before_sources() {
    let dir = project(&[
        ("package.json", "{\"name\":\"a\"}"),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("src/a.js", ""),
        (".dockerignore", "node_modules\n"),
    ]);
    let df = "FROM base\nWORKDIR /app\nCOPY src/ ./src/\nCOPY package.json package-lock.json ./\nRUN npm ci\nCMD [\"node\", \"src/a.js\"]\n";
    let out = run(dir.path(), df, Applicability::Safe);
    assert_eq!(
        out.new_text,
        "FROM base\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY src/ ./src/\nCMD [\"node\", \"src/a.js\"]\n"
    );
    assert!(
        out.changes
            .iter()
            .all(|c| c.kind == ChangeKind::Reorder && c.applied)
    );
    // With a postinstall script the install may read src/: nothing moves
    // past the source copy except the manifest copy.
    std::fs::write(
        dir.path().join("package.json"),
        "{\"name\":\"a\",\"scripts\":{\"postinstall\":\"node src/a.js\"}}",
    )
    .expect("write");
    let out = run(dir.path(), df, Applicability::Safe);
    assert!(
        out.new_text.find("RUN npm ci").expect("npm")
            > out.new_text.find("COPY src/").expect("src"),
        "{}",
        out.new_text
    );
}

#[test]
fn reorder_leaves_zero_cost_instructions_alone() {
    let dir = project(PY);
    let df = "FROM base\nLABEL a=b\nWORKDIR /app\nCOPY app.py ./\nEXPOSE 80\nENV X=1\nCMD [\"python\", \"app.py\"]\n";
    let out = run(dir.path(), df, Applicability::Safe);
    assert_eq!(out.new_text, df);
}

#[test]
fn installer_configuration_copied_earlier_stays_earlier() {
    let dir = project(&[
        ("requirements.txt", "flask\n"),
        (
            "pip.conf",
            "[global]\nindex-url = https://mirror.invalid/simple\n",
        ),
        ("src/app.py", ""),
    ]);
    let df = "FROM base\nWORKDIR /app\nCOPY src/ ./src/\nCOPY pip.conf /etc/pip.conf\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\n";
    let out = run(dir.path(), df, Applicability::Unsafe);
    let t = &out.new_text;
    assert!(
        t.find("COPY pip.conf").expect("conf") < t.find("RUN pip install").expect("pip"),
        "pip reads /etc/pip.conf:\n{t}"
    );
}

/// The (single) hoist change reported for a file.
fn hoist(out: &Outcome) -> &dockreorder::plan::Change {
    out.changes
        .iter()
        .find(|c| c.kind == ChangeKind::Hoist)
        .expect("a hoist is reported")
}

/// Review 3 (held-out scout): package-manager settings that name files the
/// inserted COPY would not bring. Each install stays in place under Safe,
/// and its Unsafe hoist says which setting.
fn settings_trap(files: &[(&str, &str)], df: &str, says: &str) {
    let dir = project(files);
    let out = run(dir.path(), df, Applicability::Safe);
    assert_eq!(out.new_text, df, "{says}");
    let c = hoist(&out);
    assert_eq!(c.applicability, Applicability::Unsafe, "{says}");
    assert!(c.reason.contains(says), "{says}: {}", c.reason);
}

#[test]
fn rc_files_and_settings_that_name_files_keep_the_install_in_place() {
    let yarn = |rc: &'static str| {
        vec![
            (
                "package.json",
                "{\"name\":\"a\",\"dependencies\":{\"tiny\":\"1.0.0\"}}",
            ),
            ("yarn.lock", "tiny@1.0.0:\n  version \"1.0.0\"\n"),
            (".yarnrc", rc),
            ("npm-packages-offline-cache/tiny-1.0.0.tgz", "x"),
            (".yarn/releases/yarn-1.22.19.cjs", "x"),
            (".dockerignore", ".git\nnode_modules\n"),
            ("index.js", "x\n"),
        ]
    };
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN yarn install --ignore-scripts --frozen-lockfile --offline\n";
    // Built with this engine: the rewrite that copied package.json,
    // yarn.lock and .yarnrc alone failed, the mirror missing.
    settings_trap(
        &yarn("yarn-offline-mirror \"./npm-packages-offline-cache\"\n"),
        df,
        "yarn-offline-mirror",
    );
    settings_trap(
        &yarn("yarn-path \".yarn/releases/yarn-1.22.19.cjs\"\n"),
        df,
        "yarn-path",
    );
    settings_trap(
        &yarn("--install.modules-folder ./deps\n"),
        df,
        "modules-folder",
    );
    // A registry and a timeout name no file: the install moves.
    let dir = project(&yarn(
        "registry \"https://registry.yarnpkg.com\"\nnetwork-timeout 600000\n--install.frozen-lockfile true\n",
    ));
    let out = run(dir.path(), df, Applicability::Safe);
    assert!(
        out.new_text
            .contains("COPY package.json yarn.lock .yarnrc ./"),
        "{}",
        out.new_text
    );

    let npm = |rc: &'static str| {
        vec![
            ("package.json", "{\"name\":\"a\",\"dependencies\":{}}"),
            (
                "package-lock.json",
                "{\"lockfileVersion\":3,\"packages\":{}}",
            ),
            (".npmrc", rc),
            ("certs/ca.pem", "x"),
            (".dockerignore", ".git\nnode_modules\n"),
        ]
    };
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    settings_trap(&npm("cafile=./certs/ca.pem\n"), df, "cafile");
    settings_trap(
        &npm("node-options=--require ./certs/ca.pem\n"),
        df,
        "node-options",
    );
    settings_trap(
        &npm("//npm.example.com/:certfile=./certs/ca.pem\n"),
        df,
        "certfile",
    );
    let dir = project(&npm(
        "registry=https://registry.npmjs.org/\n@acme:registry=https://npm.example.com/\n//npm.example.com/:_authToken=${NPM_TOKEN}\nsave-exact=true\n",
    ));
    let out = run(dir.path(), df, Applicability::Safe);
    assert!(
        out.new_text
            .contains("COPY package.json package-lock.json .npmrc ./"),
        "{}",
        out.new_text
    );

    // pnpm: patches named in package.json or pnpm-workspace.yaml, and the
    // .pnpmfile.cjs hooks (code).
    let pnpm = |pkg: &'static str, extra: (&'static str, &'static str)| {
        vec![
            ("package.json", pkg),
            ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
            ("patches/express@4.18.2.patch", "x"),
            (".dockerignore", ".git\nnode_modules\n"),
            extra,
        ]
    };
    let df = "FROM node:20-slim\nWORKDIR /app\nRUN corepack enable\nCOPY . .\nRUN pnpm install --ignore-scripts --frozen-lockfile\n";
    // The patches come first with the manifests when the context ships
    // them (see recall's pnpm patch test); a patch it does not ship keeps
    // the install in place.
    let without_patches = |mut files: Vec<(&'static str, &'static str)>| {
        files[3] = (".dockerignore", ".git\nnode_modules\npatches/\n");
        files
    };
    let in_package_json = pnpm(
        "{\"name\":\"a\",\"pnpm\":{\"patchedDependencies\":{\"express@4.18.2\":\"patches/express@4.18.2.patch\"}}}",
        ("index.js", "x\n"),
    );
    let in_workspace = pnpm(
        "{\"name\":\"a\"}",
        (
            "pnpm-workspace.yaml",
            "packages:\n  - .\npatchedDependencies:\n  express@4.18.2: patches/express@4.18.2.patch\n",
        ),
    );
    for files in [in_package_json, in_workspace] {
        let dir = project(&files);
        let out = run(dir.path(), df, Applicability::Safe);
        let t = &out.new_text;
        assert!(
            t.find("COPY patches/express@4.18.2.patch")
                .expect("the patch")
                < t.find("RUN pnpm install --ignore-scripts").expect("pnpm"),
            "{t}"
        );
        settings_trap(&without_patches(files), df, "patchedDependencies");
    }
    settings_trap(
        &pnpm(
            "{\"name\":\"a\"}",
            (".pnpmfile.cjs", "module.exports = {}\n"),
        ),
        df,
        ".pnpmfile.cjs",
    );
    settings_trap(
        &pnpm(
            "{\"name\":\"a\",\"pnpm\":{\"overrides\":{\"foo\":\"link:./vendor/foo\"}}}",
            ("vendor/foo/package.json", "{\"name\":\"foo\"}"),
        ),
        df,
        "local path",
    );
}

#[test]
fn composer_class_maps_built_from_the_sources_keep_the_install_in_place() {
    let files = |json: &'static str| {
        vec![
            ("composer.json", json),
            ("composer.lock", "{\"packages\":[]}"),
            ("src/Proxy.php", "<?php\n"),
            (".dockerignore", ".git\nvendor\n"),
        ]
    };
    let psr4 = "{\"autoload\":{\"psr-4\":{\"App\\\\\":\"src/\"}}}";
    let head = "FROM php:8.2-cli\nWORKDIR /app\nCOPY . .\n";
    // `-o` turns PSR-4 into a class map of src/: hoisted, App\Proxy would
    // be missing from vendor/composer/autoload_classmap.php.
    for flags in [
        "--optimize-autoloader",
        "-o",
        "--no-dev -o",
        "-no",
        "--classmap-authoritative",
        "-a",
    ] {
        settings_trap(
            &files(psr4),
            &format!("{head}RUN composer install {flags}\n"),
            "psr-4",
        );
    }
    settings_trap(
        &files(
            "{\"autoload\":{\"psr-4\":{\"App\\\\\":\"src/\"}},\"config\":{\"optimize-autoloader\":true}}",
        ),
        &format!("{head}RUN composer install --no-dev\n"),
        "psr-4",
    );
    // Without the optimization PSR-4 names directories only, and without
    // an autoloader even a class map is not built: both move.
    for (json, run_line) in [
        (psr4, "RUN composer install --no-dev\n"),
        (
            "{\"autoload\":{\"classmap\":[\"src/\"]}}",
            "RUN composer install --no-dev --no-autoloader -o\n",
        ),
    ] {
        let dir = project(&files(json));
        let df = format!("{head}{run_line}");
        let out = run(dir.path(), &df, Applicability::Safe);
        assert!(
            out.new_text.contains("COPY composer.json composer.lock ./"),
            "{run_line}: {}",
            out.new_text
        );
    }
}

#[test]
fn settings_in_the_directories_above_a_project_keep_its_install_in_place() {
    let front = |root: (&'static str, &'static str)| {
        vec![
            root,
            (
                "frontend/package.json",
                "{\"name\":\"f\",\"dependencies\":{\"is-number\":\"7.0.0\"},\"devDependencies\":{\"is-odd\":\"3.0.1\"}}",
            ),
            ("frontend/yarn.lock", "\n"),
            (
                "frontend/package-lock.json",
                "{\"lockfileVersion\":3,\"packages\":{}}",
            ),
            ("frontend/app.js", "x\n"),
            (".dockerignore", ".git\nnode_modules\n**/node_modules\n"),
        ]
    };
    // Review 3, F2 (built): yarn 1 reads /app/.yarnrc from /app/frontend;
    // the rewrite that copied frontend/package.json alone installed the
    // dev dependencies too.
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN cd frontend && yarn install --frozen-lockfile\n";
    settings_trap(
        &front((".yarnrc", "--install.production true\n")),
        df,
        ".yarnrc applies",
    );
    // A workspace root above: the install is the workspace's.
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN cd frontend && npm ci\n";
    settings_trap(
        &front((
            "package.json",
            "{\"name\":\"root\",\"workspaces\":[\"frontend\"]}",
        )),
        df,
        "workspace",
    );
    settings_trap(
        &front(("pnpm-workspace.yaml", "packages:\n  - frontend\n")),
        df,
        "pnpm-workspace.yaml applies",
    );
    // A root package.json that is no workspace root changes nothing
    // (the yarn.lock left out: npm rewrites one beside its own lock).
    let files: Vec<(&str, &str)> = front(("package.json", "{\"name\":\"root\"}"))
        .into_iter()
        .filter(|(n, _)| *n != "frontend/yarn.lock")
        .collect();
    let dir = project(&files);
    let out = run(dir.path(), df, Applicability::Safe);
    assert!(
        out.new_text
            .contains("COPY frontend/package.json frontend/package-lock.json ./frontend/"),
        "{}",
        out.new_text
    );
}
