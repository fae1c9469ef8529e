//! Issue 11: `npm install` with a lock that agrees with package.json. npm
//! 9 and later write such a lock back byte for byte (measured with npm
//! 9.9.4, 10.9.9 and 11.21.2 on real locks), so the install moves above
//! the broad copy as `Safe` only where everything that proof rests on is
//! checked: the image's npm, its settings, the command, the lock's text
//! and agreement. Each trap below breaks one of them and keeps the
//! install `Unsafe`.

use dockreorder::analysis::context::Context;
use dockreorder::plan::{Applicability, Options};
use dockreorder::rewrite;

use crate::support::project;

const PACKAGE: &str = "{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"private\": true,\n  \"dependencies\": {\n    \"ms\": \"2.1.3\"\n  }\n}\n";

/// The lock npm 10 writes for [`PACKAGE`] (key order, indent, final
/// newline).
const LOCK: &str = "{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"app\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {\n        \"ms\": \"2.1.3\"\n      }\n    },\n    \"node_modules/ms\": {\n      \"version\": \"2.1.3\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"license\": \"MIT\"\n    }\n  }\n}\n";

const DF: &str =
    "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD [\"node\", \"index.js\"]\n";

const HOISTED: &str = "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm install\nCOPY . .\nCMD [\"node\", \"index.js\"]\n";

/// The hoist proposed for `df` in a context of `files` (the agreeing
/// package.json and lock unless replaced, `.git` ignored): its
/// applicability, reason and the text rewritten with `Safe` changes.
fn hoist(df: &str, files: &[(&str, &str)]) -> (Applicability, String, String) {
    let (c, text) = proposal(df, files);
    let c = c.expect("the hoist is proposed");
    (c.0, c.1, text)
}

/// The hoist proposed, if any (applicability and reason), and the text
/// rewritten with `Safe` changes.
fn proposal(df: &str, files: &[(&str, &str)]) -> (Option<(Applicability, String)>, String) {
    let defaults = [
        ("package.json", PACKAGE),
        ("package-lock.json", LOCK),
        (".dockerignore", ".git\n"),
        ("index.js", "x\n"),
    ];
    crate::support::hoist_proposal(&defaults, df, files)
}

/// Whether `df` is left as it is, any hoist proposed for it not Safe.
fn not_moved(df: &str, what: &str) {
    let (c, text) = proposal(df, &[]);
    if let Some((app, reason)) = c {
        assert_ne!(app, Applicability::Safe, "{what}: {reason}");
    }
    assert_eq!(text, df, "{what}: nothing moves");
}

fn unsafe_with(df: &str, files: &[(&str, &str)], what: &str) {
    unsafe_rewriting(df, files, what, "package-lock.json");
}

/// As [`unsafe_with`], the install said to rewrite the lock `lock`.
fn unsafe_rewriting(df: &str, files: &[(&str, &str)], what: &str, lock: &str) {
    let (app, reason, text) = hoist(df, files);
    assert_eq!(app, Applicability::Unsafe, "{what}: {reason}");
    assert!(
        reason.contains(&format!("may rewrite `{lock}`")),
        "{what}: {reason}"
    );
    assert_eq!(text, df, "{what}: nothing moves");
}

#[test]
fn npm_install_keeps_an_agreeing_lock_on_a_current_node_image() {
    let (app, reason, text) = hoist(DF, &[]);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(text, HOISTED);
    assert!(
        reason.contains("leaves it as it is")
            && reason.contains("the npm of `node:20` is 9 or later"),
        "{reason}"
    );
    // A project directory `mkdir` made holds no `.npmrc` of its making.
    let (app, reason, _) = hoist(
        &DF.replace("WORKDIR /app", "RUN mkdir -p /app\nWORKDIR /app"),
        &[],
    );
    assert_eq!(app, Applicability::Safe, "after mkdir: {reason}");
    // Every tag that names npm 9 or later, with options that leave the
    // lock alone, a lock indented by tabs beside a package.json indented
    // so, a harmless .npmrc.
    for base in [
        "node",
        "node:22-alpine",
        "node:lts-slim",
        "node:18",
        "node:20.11.1-bookworm",
        "node:18.19-alpine",
        "docker.io/library/node:iron",
    ] {
        let df = DF.replace("node:20", base);
        let (app, reason, _) = hoist(&df, &[]);
        assert_eq!(app, Applicability::Safe, "{base}: {reason}");
    }
    let df = DF.replace(
        "npm install",
        "npm install --omit=dev --no-audit --loglevel error",
    );
    assert_eq!(hoist(&df, &[]).0, Applicability::Safe);
    // A range the locked version satisfies.
    let caret = |t: &str| t.replace("\"ms\": \"2.1.3\"", "\"ms\": \"^2.1.0\"");
    let (app, reason, _) = hoist(
        DF,
        &[
            ("package.json", &caret(PACKAGE)),
            ("package-lock.json", &caret(LOCK)),
        ],
    );
    assert_eq!(app, Applicability::Safe, "{reason}");
    let tabs = |t: &str| t.replace("  ", "\t");
    let files = [
        ("package.json", tabs(PACKAGE)),
        ("package-lock.json", tabs(LOCK)),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    assert_eq!(hoist(DF, &files).0, Applicability::Safe);
    // Review: npm writes the lock with package.json's indent and LF
    // newlines, so a CRLF lock indented by tabs beside this package.json
    // comes back changed (measured: npm 9.0.0, 9.9.4, 10.9.9, 11.21.2), as
    // does a CRLF lock beside a CRLF package.json.
    let crlf = tabs(LOCK).replace('\n', "\r\n");
    assert_eq!(
        hoist(DF, &[("package-lock.json", &crlf)]).0,
        Applicability::Unsafe
    );
    let files = [
        ("package.json", PACKAGE.replace('\n', "\r\n")),
        ("package-lock.json", LOCK.replace('\n', "\r\n")),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    assert_eq!(hoist(DF, &files).0, Applicability::Unsafe);
    let npmrc = "fund=false\naudit=false\n//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n";
    let (app, reason, _) = hoist(DF, &[(".npmrc", npmrc)]);
    assert_eq!(app, Applicability::Safe, "{reason}");
}

#[test]
fn npm_install_stays_unsafe_when_the_images_npm_is_not_known() {
    for base in [
        "node:16",
        "node:18.12.0",
        "node:18.13",
        "node:19",
        "node:14-alpine",
        "mynode:20",
        "node:${NODE}",
        "node@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "node:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "debian:12",
    ] {
        let df = DF.replace("node:20", base);
        let df = if base.contains('$') {
            format!("ARG NODE=20\n{df}")
        } else {
            df
        };
        unsafe_with(&df, &[], base);
    }
}

#[test]
fn npm_install_stays_unsafe_when_npm_settings_change() {
    let cases = [
        "ENV npm_config_legacy_peer_deps=true\n",
        "ENV NPM_CONFIG_LOCKFILE_VERSION=2\n",
        "ENV NODE_OPTIONS=--require=/x.js\n",
        "RUN npm config set legacy-peer-deps true\n",
        "RUN npm install -g npm@8\n",
        "COPY index.js /root/.npmrc\n",
        "USER app\n",
        "ENV HOME=/srv\nCOPY index.js /srv/.npmrc\n",
        // Global settings read from `$PREFIX/etc/npmrc`, not the image's.
        "ENV PREFIX=/opt/npm\nRUN mkdir -p /opt/npm/etc && echo lockfile-version=2 > /opt/npm/etc/npmrc\n",
        "ENV DESTDIR=/opt/d\nRUN mkdir -p /opt/d/usr/local/etc && echo lockfile-version=2 > /opt/d/usr/local/etc/npmrc\n",
    ];
    for extra in cases {
        let df = DF.replace("WORKDIR /app\n", &format!("{extra}WORKDIR /app\n"));
        unsafe_with(&df, &[], extra);
    }
    for npmrc in [
        "legacy-peer-deps=true\n",
        "registry=https://npm.example.com/\n",
        "omit-lockfile-registry-resolved=true\n",
        "lockfile-version=2\n",
    ] {
        unsafe_with(DF, &[(".npmrc", npmrc)], npmrc);
    }
}

#[test]
fn npm_install_stays_unsafe_for_commands_that_may_write_the_lock() {
    for run in [
        "npm install ms@2.1.2",
        "npm install --legacy-peer-deps",
        "npm install --force",
        "npm install; npm audit fix",
        "npm_config_save_exact=true npm install",
        "npm install && cp index.js package-lock.json",
    ] {
        let df = DF.replace("npm install", run);
        not_moved(&df, run);
    }
}

#[test]
fn npm_install_stays_unsafe_when_the_lock_may_not_come_back_the_same() {
    let pkg_with = |field: &str| {
        PACKAGE.replace(
            "  \"private\": true,",
            &format!("  \"private\": true,\n  {field},"),
        )
    };
    let cases: Vec<(&str, String, String)> = vec![
        ("no final newline", PACKAGE.into(), LOCK.trim_end().into()),
        ("mixed indent", PACKAGE.into(), LOCK.replace("      \"version\": \"2.1.3\"", "        \"version\": \"2.1.3\"")),
        ("compact", PACKAGE.into(), LOCK.replace(": ", ":")),
        ("escaped slash", PACKAGE.into(), LOCK.replace("https://registry", "https:\\/\\/registry")),
        ("repeated key", PACKAGE.into(), LOCK.replace("\"license\": \"MIT\"", "\"license\": \"MIT\",\n      \"license\": \"ISC\"")),
        ("version 1", PACKAGE.into(), LOCK.replace("\"lockfileVersion\": 3", "\"lockfileVersion\": 1")),
        // npm sorts every object it writes: entries' keys, packages.
        ("resolved after integrity", PACKAGE.into(), LOCK.replace("      \"version\": \"2.1.3\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",", "      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\n      \"version\": \"2.1.3\",")),
        ("object before string", PACKAGE.into(), LOCK.replace("      \"license\": \"MIT\"\n", "      \"engines\": {\n        \"node\": \">=0\"\n      },\n      \"license\": \"MIT\"\n")),
        // A version 2 lock without the legacy tree npm derives.
        ("version 2", PACKAGE.into(), LOCK.replace("\"lockfileVersion\": 3", "\"lockfileVersion\": 2")),
        // The tree itself (found by review): npm adds, replaces, flags or
        // prunes entries so.
        ("missing package", PACKAGE.into(), LOCK.replace(",\n    \"node_modules/ms\": {\n      \"version\": \"2.1.3\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"license\": \"MIT\"\n    }", "")),
        ("version outside the range", PACKAGE.replace("\"ms\": \"2.1.3\"", "\"ms\": \"2.1.2\""), LOCK.replace("\"ms\": \"2.1.3\"", "\"ms\": \"2.1.2\"")),
        ("dev flag on a production dependency", PACKAGE.into(), LOCK.replace("      \"license\": \"MIT\"", "      \"dev\": true,\n      \"license\": \"MIT\"")),
        ("unreached package", PACKAGE.into(), LOCK.replace("\n    }\n  }\n}\n", "\n    },\n    \"node_modules/zz/node_modules/ms\": {\n      \"version\": \"2.1.3\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"license\": \"MIT\"\n    }\n  }\n}\n")),
        ("a tag for a range", PACKAGE.replace("\"ms\": \"2.1.3\"", "\"ms\": \"latest\""), LOCK.replace("\"ms\": \"2.1.3\"", "\"ms\": \"latest\"")),
        ("other range", PACKAGE.replace("\"2.1.3\"", "\"^2.1.3\""), LOCK.into()),
        ("other version", PACKAGE.replace("1.0.0", "1.0.1"), LOCK.into()),
        ("no integrity", PACKAGE.into(), LOCK.replace(",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\"", "")),
        ("extraneous", PACKAGE.into(), LOCK.replace("\"license\": \"MIT\"", "\"extraneous\": true,\n      \"license\": \"MIT\"")),
        ("git dependency", PACKAGE.into(), LOCK.replace("https://registry.npmjs.org/ms/-/ms-2.1.3.tgz", "git+ssh://git@github.com/vercel/ms.git#1304f150b38027e0f8d2ca6adc8a62c8fe8bb33c")),
        ("optional dependencies", pkg_with("\"optionalDependencies\": {}"), LOCK.into()),
        ("overrides", pkg_with("\"overrides\": {\"ms\": \"2.1.3\"}"), LOCK.into()),
        ("workspaces", pkg_with("\"workspaces\": []"), LOCK.into()),
        ("bin string", pkg_with("\"bin\": \"index.js\""), LOCK.into()),
    ];
    for (what, pkg, lock) in &cases {
        unsafe_with(
            DF,
            &[("package.json", pkg), ("package-lock.json", lock)],
            what,
        );
    }
    // npm takes the shrinkwrap over package-lock.json and writes it back
    // (h-real62 measured npm 10.8.2 rewriting one).
    unsafe_rewriting(
        DF,
        &[("npm-shrinkwrap.json", LOCK)],
        "shrinkwrap",
        "npm-shrinkwrap.json",
    );
    unsafe_with(DF, &[("binding.gyp", "{}\n")], "binding.gyp");
}

/// A lock in which a package is both a dependency and another's peer
/// (`@redis/client` beside `@redis/bloom` in real locks): npm 11.6.1 and
/// 11.6.2, which Node 24 images shipped for a while, write it back with
/// `"peer": true` on that package (npm/cli#8690; reverted in 11.6.3).
/// Measured (scout55): npm 9.0.0, 9.9.4, 10.8.2, 11.3.0, 11.6.0, 11.6.4
/// and 11.7.0 kept such a lock byte for byte, 11.6.1 and 11.6.2 rewrote
/// it, and the hoist made `Safe` for `FROM node:24.11.1` built with a
/// different `/app/package-lock.json` (an image with npm 11.6.2 standing
/// in). A peer edge the tree resolves is not proven on an image whose npm
/// may be 11 (Node 24, `lts`, `latest`); an optional peer the tree leaves
/// out is no edge, and keeps the proof. On Node 18.14 to 22 (npm 9 and
/// 10) the peer edge is proven (scout73).
#[test]
fn npm_install_stays_unsafe_when_a_peer_edge_resolves_in_the_tree() {
    let pkg = PACKAGE.replace(
        "\"ms\": \"2.1.3\"\n",
        "\"ms\": \"2.1.3\",\n    \"peerer\": \"1.0.0\"\n",
    );
    let peerer = |peer: &str| {
        format!(
            ",\n    \"node_modules/peerer\": {{\n      \"version\": \"1.0.0\",\n      \"resolved\": \"https://registry.npmjs.org/peerer/-/peerer-1.0.0.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"license\": \"MIT\",\n{peer}\n    }}\n  }}\n}}\n"
        )
    };
    let lock_with = |peer: &str| {
        LOCK.replace(
            "\"ms\": \"2.1.3\"\n      }\n    },",
            "\"ms\": \"2.1.3\",\n        \"peerer\": \"1.0.0\"\n      }\n    },",
        )
        .replace("\n    }\n  }\n}\n", &format!("\n    }}{}", peerer(peer)))
    };
    let resolved = lock_with("      \"peerDependencies\": {\n        \"ms\": \"^2.0.0\"\n      }");
    for from in [
        "node:24.11.1",
        "node:lts-slim",
        "node:latest",
        "node:current",
    ] {
        unsafe_with(
            &DF.replace("node:20", from),
            &[("package.json", &pkg), ("package-lock.json", &resolved)],
            &format!("a peer edge to a dependency of the root, {from}"),
        );
    }
    // Control: an optional peer the tree leaves out (`ws`'s `bufferutil`).
    let optional = lock_with(
        "      \"peerDependencies\": {\n        \"zz\": \"^1.0.0\"\n      },\n      \"peerDependenciesMeta\": {\n        \"zz\": {\n          \"optional\": true\n        }\n      }",
    );
    let (app, reason, text) = hoist(
        DF,
        &[("package.json", &pkg), ("package-lock.json", &optional)],
    );
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(text, HOISTED);
}

/// A plain `COPY . /app` (or `ADD . /app`: a directory is copied, not
/// unpacked) into a directory written without a slash was not read as
/// placing the context's files, so the rewrite check could not see that
/// `npm ci` with a plain lock runs no git, and refused the planner's own
/// safe hoist ("refusing to write", exit 2).
#[test]
fn a_whole_context_copied_to_a_directory_without_slash_is_placed() {
    let dir = project(&[
        ("package.json", PACKAGE),
        ("package-lock.json", LOCK),
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("index.js", "x\n"),
    ]);
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    for copy in ["COPY", "ADD"] {
        let df = format!("FROM node:20\n{copy} . /app\nWORKDIR /app\nRUN npm ci\n");
        let out = rewrite::rewrite(&df, Some(&ctx), Options::new(Applicability::Safe))
            .unwrap_or_else(|e| panic!("{copy}: {e:?}"));
        assert_eq!(
            out.new_text,
            format!(
                "FROM node:20\nCOPY package.json package-lock.json /app/\nWORKDIR /app\nRUN npm ci\n{copy} . /app\n"
            )
        );
    }
}

/// The rewrite check keeps the edge between a broad copy and an install
/// that writes a file the copy ships, even when a COPY of that file is
/// inserted before the install: the copy puts back what the install
/// wrote. Only a lock the install keeps is discharged.
#[test]
fn the_check_keeps_a_write_the_inserted_copy_does_not_undo() {
    let lock_v1 = LOCK.replace("\"lockfileVersion\": 3", "\"lockfileVersion\": 1");
    for (lock, broken) in [(LOCK, false), (lock_v1.as_str(), true)] {
        let dir = project(&[
            ("package.json", PACKAGE),
            ("package-lock.json", lock),
            ("index.js", "x\n"),
        ]);
        let ctx = Context::new(
            dir.path().to_path_buf(),
            Some(&dir.path().join("Dockerfile")),
        );
        assert_eq!(
            rewrite::broken_edge(DF, HOISTED, Some(&ctx), &[]).is_some(),
            broken,
            "{lock}"
        );
    }
}

/// The official Node.js guide's shape: the app directory made and handed
/// to `node` (`chown -R`, which makes no file), the manifests copied by a
/// pattern, then the whole context as `node`. What the install reads is
/// what the broad copy ships: a pattern copy places only the files it
/// matches, and a file the broad copy places overrides one copied before
/// it.
#[test]
fn an_owner_change_and_an_earlier_manifest_copy_put_no_other_file() {
    let df = "FROM node:20\nRUN mkdir -p /home/node/app/node_modules && chown -R node:node /home/node/app\nWORKDIR /home/node/app\nUSER node\nCOPY package*.json ./\nCOPY --chown=node:node . .\nRUN npm install\n";
    let (app, reason, text) = hoist(df, &[]);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(
        text,
        "FROM node:20\nRUN mkdir -p /home/node/app/node_modules && chown -R node:node /home/node/app\nWORKDIR /home/node/app\nUSER node\nCOPY package*.json ./\nCOPY --chown=node:node package.json package-lock.json ./\nRUN npm install\nCOPY --chown=node:node . .\n"
    );
    // A command that may make the file, even when another only changes
    // its mode, leaves npm's settings unknown.
    for made in [
        "RUN cp /etc/hostname /home/node/app/.npmrc && chmod 600 /home/node/app/.npmrc\n",
        "RUN chmod 600 /home/node/app/x > /home/node/app/.npmrc\n",
        "COPY index.js /home/node/app/.npmrc\n",
    ] {
        let df = df.replace(
            "WORKDIR /home/node/app\n",
            &format!("{made}WORKDIR /home/node/app\n"),
        );
        let (app, reason, text) = hoist(&df, &[]);
        assert_eq!(app, Applicability::Unsafe, "{made}: {reason}");
        assert_eq!(text, df, "{made}");
    }
}

/// A version 2 lock (npm 7 and 8 wrote them; npm 9 and later keep the
/// version) and its package.json, as npm 10.9.9 writes them: a nested
/// package, a dev flag, a legacy `dependencies` tree with `requires`.
const PACKAGE_V2: &str = "{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"private\": true,\n  \"dependencies\": {\n    \"debug\": \"2.6.9\"\n  },\n  \"devDependencies\": {\n    \"ms\": \"2.1.3\"\n  }\n}\n";
const LOCK_V2: &str = "{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 2,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"app\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {\n        \"debug\": \"2.6.9\"\n      },\n      \"devDependencies\": {\n        \"ms\": \"2.1.3\"\n      }\n    },\n    \"node_modules/debug\": {\n      \"version\": \"2.6.9\",\n      \"resolved\": \"https://registry.npmjs.org/debug/-/debug-2.6.9.tgz\",\n      \"integrity\": \"sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==\",\n      \"license\": \"MIT\",\n      \"dependencies\": {\n        \"ms\": \"2.0.0\"\n      }\n    },\n    \"node_modules/debug/node_modules/ms\": {\n      \"version\": \"2.0.0\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.0.0.tgz\",\n      \"integrity\": \"sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==\",\n      \"license\": \"MIT\"\n    },\n    \"node_modules/ms\": {\n      \"version\": \"2.1.3\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"dev\": true,\n      \"license\": \"MIT\"\n    }\n  },\n  \"dependencies\": {\n    \"debug\": {\n      \"version\": \"2.6.9\",\n      \"resolved\": \"https://registry.npmjs.org/debug/-/debug-2.6.9.tgz\",\n      \"integrity\": \"sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==\",\n      \"requires\": {\n        \"ms\": \"2.0.0\"\n      },\n      \"dependencies\": {\n        \"ms\": {\n          \"version\": \"2.0.0\",\n          \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.0.0.tgz\",\n          \"integrity\": \"sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==\"\n        }\n      }\n    },\n    \"ms\": {\n      \"version\": \"2.1.3\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"dev\": true\n    }\n  }\n}\n";

/// Issue 11: a version 2 lock is kept when its legacy `dependencies`
/// tree is the one npm derives from `packages` (measured: npm 9.0.0,
/// 9.9.4, 10.9.9 and 11.21.2 wrote this lock, and 18 of the 24 real
/// version 2 locks of the real histories that pass the same checks,
/// back byte for byte). Each trap is a lock npm 10.9.9 wrote back
/// changed (measured): a stale or incomplete legacy tree, a legacy tree
/// in a version 3 lock, a top-level key npm drops.
#[test]
fn a_version_2_lock_is_kept_only_with_the_legacy_tree_npm_derives() {
    let v2 = |lock: &str| {
        [
            ("package.json", PACKAGE_V2.to_string()),
            ("package-lock.json", lock.to_string()),
        ]
    };
    let files = v2(LOCK_V2);
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let (app, reason, text) = hoist(DF, &files);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(text, HOISTED);
    let legacy_debug = "    \"debug\": {\n      \"version\": \"2.6.9\",";
    assert!(LOCK_V2.contains(legacy_debug));
    let traps: Vec<(&str, String)> = vec![
        ("stale nested version", LOCK_V2.replace("\"ms\": {\n          \"version\": \"2.0.0\"", "\"ms\": {\n          \"version\": \"2.0.1\"")),
        ("no requires", LOCK_V2.replace(",\n      \"requires\": {\n        \"ms\": \"2.0.0\"\n      }", "")),
        ("requires another range", LOCK_V2.replace("      \"requires\": {\n        \"ms\": \"2.0.0\"", "      \"requires\": {\n        \"ms\": \"^2.0.0\"")),
        ("no dev flag in the legacy tree", LOCK_V2.replace(",\n      \"dev\": true\n    }\n  }\n}\n", "\n    }\n  }\n}\n")),
        ("legacy entry npm does not derive", LOCK_V2.replace("\n      \"dev\": true\n    }\n  }\n}\n", "\n      \"dev\": true\n    },\n    \"zz\": {\n      \"version\": \"1.0.0\"\n    }\n  }\n}\n")),
        ("legacy tree in a version 3 lock", LOCK_V2.replace("\"lockfileVersion\": 2", "\"lockfileVersion\": 3")),
        ("top-level key npm drops", LOCK_V2.replace("  \"requires\": true,\n", "  \"requires\": true,\n  \"foo\": 1,\n")),
    ];
    for (what, lock) in &traps {
        assert_ne!(lock, LOCK_V2, "{what}: the trap changes the lock");
        let files = v2(lock);
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        unsafe_with(DF, &files, what);
    }
}

/// Issue 11 (review of the version 2 change): npm does not write a lock
/// entry back as it reads it, but as arborist's `metaFromNode` writes
/// the package it loaded (read-package-json-fast's `normalize`, then
/// `metaFieldFromPkg`), and with `package.json`'s indent. Each trap below
/// was judged kept, and npm 10.9.9 wrote it back changed (measured,
/// `install --package-lock-only`; the indent also with 9.0.0 and
/// 11.21.2): an empty `dependencies` or `engines` map and an empty
/// `license` dropped, a license object cut to its type, a `funding`
/// string made an object, `hasShrinkwrap: false` and a key npm does not
/// know dropped; in the root entry an empty map or list dropped, a `bin`
/// string made an object, a `bin` path cleaned; a manifest's
/// `deprecated`, `acceptDependencies` or `directories.bin` recorded; a
/// `resolved` on github.com rewritten to `git+ssh://` (and the legacy
/// entry's version to it); the lock indented as a `package.json`
/// indented by four spaces.
#[test]
fn a_lock_is_kept_only_with_entries_as_npm_writes_them() {
    // `text` with `add` put after `anchor` (found once).
    let after = |text: &str, anchor: &str, add: &str| {
        assert_eq!(text.matches(anchor).count(), 1, "{anchor}");
        text.replacen(anchor, &format!("{anchor}{add}"), 1)
    };
    // debug's ms: strings sort first (by name after `version`,
    // `resolved`, `integrity`), then objects; it holds no object.
    let ms_integrity = "\"sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==\",\n      \"license\": \"MIT\"";
    let ms_license = "      \"license\": \"MIT\"\n    },\n    \"node_modules/ms\": {";
    let string_field = |f: &str| {
        let with = ms_integrity.replace(
            "\n      \"license\"",
            &format!("\n      {f},\n      \"license\""),
        );
        LOCK_V2.replacen(ms_integrity, &with, 1)
    };
    let object_field = |f: &str| {
        LOCK_V2.replacen(
            ms_license,
            &ms_license.replace("\"MIT\"\n", &format!("\"MIT\",\n      {f}\n")),
            1,
        )
    };
    let mut traps: Vec<(&str, String, String)> = vec![
        (
            "empty dependencies in an entry",
            PACKAGE_V2.into(),
            object_field("\"dependencies\": {}"),
        ),
        (
            "empty engines in an entry",
            PACKAGE_V2.into(),
            object_field("\"engines\": {}"),
        ),
        (
            "devDependencies in an entry",
            PACKAGE_V2.into(),
            object_field("\"devDependencies\": {\n        \"ms\": \"1\"\n      }"),
        ),
        (
            "funding string in an entry",
            PACKAGE_V2.into(),
            string_field("\"funding\": \"https://x.org\""),
        ),
        (
            "hasShrinkwrap false",
            PACKAGE_V2.into(),
            string_field("\"hasShrinkwrap\": false"),
        ),
        (
            "key npm does not write",
            PACKAGE_V2.into(),
            string_field("\"foo\": 1"),
        ),
        (
            "empty license in an entry",
            PACKAGE_V2.into(),
            LOCK_V2.replacen(ms_license, &ms_license.replace("\"MIT\"", "\"\""), 1),
        ),
    ];
    // The root entry: a field in package.json and, as npm sorts it, in the
    // lock's root entry.
    let manifest_with = |f: &str| after(PACKAGE_V2, "  \"private\": true,\n", &format!("  {f},\n"));
    let root_version = "      \"name\": \"app\",\n      \"version\": \"1.0.0\",\n";
    let root_dev = "      \"devDependencies\": {\n        \"ms\": \"2.1.3\"\n      }";
    for (what, f, in_lock) in [
        (
            "bin string in the root",
            "\"bin\": \"cli.js\"",
            after(LOCK_V2, root_version, "      \"bin\": \"cli.js\",\n"),
        ),
        (
            "empty os in the root",
            "\"os\": []",
            after(LOCK_V2, root_version, "      \"os\": [],\n"),
        ),
        (
            "empty engines in the root",
            "\"engines\": {}",
            after(LOCK_V2, root_dev, ",\n      \"engines\": {}"),
        ),
        (
            "bin path npm cleans",
            "\"bin\": {\n    \"x\": \"./cli.js\"\n  }",
            LOCK_V2.replacen(
                root_dev,
                &format!("      \"bin\": {{\n        \"x\": \"./cli.js\"\n      }},\n{root_dev}"),
                1,
            ),
        ),
        (
            "license object in the root",
            "\"license\": {\n    \"type\": \"MIT\"\n  }",
            after(
                LOCK_V2,
                root_dev,
                ",\n      \"license\": {\n        \"type\": \"MIT\"\n      }",
            ),
        ),
    ] {
        traps.push((what, manifest_with(f), in_lock));
    }
    for (what, f) in [
        ("deprecated in the manifest", "\"deprecated\": \"old\""),
        (
            "acceptDependencies in the manifest",
            "\"acceptDependencies\": {\n    \"ms\": \"1\"\n  }",
        ),
        (
            "directories.bin in the manifest",
            "\"directories\": {\n    \"bin\": \"./bin\"\n  }",
        ),
    ] {
        traps.push((what, manifest_with(f), LOCK_V2.into()));
    }
    traps.push((
        "resolved on github.com",
        PACKAGE_V2.into(),
        LOCK_V2.replace(
            "https://registry.npmjs.org/ms/-/ms-2.0.0.tgz",
            "https://github.com/vercel/ms.git#8b5b4fd7a0a14b0a2e5d33b8e5e5a1b0b2f0e8f1",
        ),
    ));
    let four = PACKAGE_V2
        .replace("\n    ", "\n        ")
        .replace("\n  ", "\n    ");
    traps.push((
        "package.json indented by four spaces",
        four.clone(),
        LOCK_V2.into(),
    ));
    for (what, manifest, lock) in &traps {
        assert!(
            lock != LOCK_V2 || manifest != PACKAGE_V2,
            "{what}: the trap changes a file"
        );
        serde_json::from_str::<serde_json::Value>(lock).expect(what);
        serde_json::from_str::<serde_json::Value>(manifest).expect(what);
        unsafe_with(
            DF,
            &[("package.json", manifest), ("package-lock.json", lock)],
            what,
        );
    }
    // The lock indented as package.json is (four spaces) is kept, and so
    // is a lock beside a minified package.json, which leaves the lock its
    // own indent (measured, npm 10.9.9).
    let lock_four = LOCK_V2
        .replace("\n", "\n  ")
        .replace("\n  }\n  ", "\n}\n")
        .replace("\n  ", "\n");
    let lock_four: String = lock_four
        .lines()
        .map(|l| {
            let n = l.len() - l.trim_start().len();
            format!("{}{}\n", " ".repeat(n * 2), l.trim_start())
        })
        .collect();
    for (what, manifest, lock) in [
        ("four spaces", four.clone(), lock_four),
        (
            "minified",
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(PACKAGE_V2).unwrap())
                .unwrap(),
            LOCK_V2.to_string(),
        ),
    ] {
        let (app, reason, _) = hoist(
            DF,
            &[("package.json", &manifest), ("package-lock.json", &lock)],
        );
        assert_eq!(app, Applicability::Safe, "{what}: {reason}");
    }
}

/// express 4's tree holds ranges with a blank between the operator and
/// the version (iconv-lite's `safer-buffer: ">= 2.1.2 < 3"`), which
/// node-semver reads as `>=2.1.2 <3.0.0-0`. They were not read, so
/// every project on express kept `npm install` Unsafe. The lock is the
/// one npm 10.8.2 (node:20-slim) wrote; built for real, the two orders
/// gave identical images (scout 33, n02/n08 with express 4.19.2).
#[test]
fn npm_install_reads_spaced_and_partial_ranges_as_node_semver() {
    const PKG: &str = "{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"private\": true,\n  \"dependencies\": {\n    \"iconv-lite\": \"0.4.24\"\n  }\n}\n";
    const ICONV_LOCK: &str = "{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"app\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {\n        \"iconv-lite\": \"0.4.24\"\n      }\n    },\n    \"node_modules/iconv-lite\": {\n      \"version\": \"0.4.24\",\n      \"resolved\": \"https://registry.npmjs.org/iconv-lite/-/iconv-lite-0.4.24.tgz\",\n      \"integrity\": \"sha512-v3MXnZAcvnywkTUEZomIActle7RXXeedOR31wwl7VlyoXO4Qi9arvSenNQWne1TcRwhCL1HwLI21bEqdpj8/rA==\",\n      \"license\": \"MIT\",\n      \"dependencies\": {\n        \"safer-buffer\": \">= 2.1.2 < 3\"\n      },\n      \"engines\": {\n        \"node\": \">=0.10.0\"\n      }\n    },\n    \"node_modules/safer-buffer\": {\n      \"version\": \"2.1.2\",\n      \"resolved\": \"https://registry.npmjs.org/safer-buffer/-/safer-buffer-2.1.2.tgz\",\n      \"integrity\": \"sha512-YZo3K82SD7Riyi0E1EQPojLz7kpepnSQI9IyPbHHg1XXXevb5dJI7tpyN2ADxGcQbHG7vcyRHk0cbwqcQriUtg==\",\n      \"license\": \"MIT\"\n    }\n  }\n}\n";
    let (app, reason, text) = hoist(
        DF,
        &[("package.json", PKG), ("package-lock.json", ICONV_LOCK)],
    );
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(text, HOISTED);
    // Trap: a range the locked version does not satisfy (npm resolves
    // that edge anew and rewrites the lock).
    for range in [">= 2.1.3 < 3", "> 2.1", "< 2", ">= 2.1.2 <= 2.0"] {
        let lock = ICONV_LOCK.replace(">= 2.1.2 < 3", range);
        unsafe_with(
            DF,
            &[("package.json", PKG), ("package-lock.json", &lock)],
            range,
        );
    }
}

/// `npm cache clean --force` after the install (the common `npm install
/// --production && npm cache clean --force`) works on npm's cache folder
/// only and writes no npm setting: the install keeps its agreeing lock
/// and the `RUN` moves (measured with BuildKit, node:20-slim: identical
/// images, also as `USER node`). `npm config set` in the `RUN` still
/// keeps it `Unsafe`.
#[test]
fn npm_install_then_cache_clean_keeps_an_agreeing_lock() {
    for run in [
        "npm install && npm cache clean --force",
        "npm install --production && npm cache clean --force",
    ] {
        let df = DF.replace("RUN npm install\n", &format!("RUN {run}\n"));
        let (app, reason, text) = hoist(&df, &[]);
        assert_eq!(app, Applicability::Safe, "{run}: {reason}");
        assert_eq!(
            text,
            HOISTED.replace("RUN npm install\n", &format!("RUN {run}\n")),
            "{run}"
        );
    }
    let df = DF.replace(
        "RUN npm install\n",
        "RUN npm config set fund false && npm install\n",
    );
    unsafe_with(&df, &[], "npm config set");
}

/// System packages installed from the Debian archive before the install
/// (a common shape: `apt-get install` of build tools, then `npm
/// install`): Debian's packages put nothing in `/usr/local` (where the
/// image's npm, node and npm's global settings are), so npm still keeps
/// the lock.
const APT: &str = "RUN apt-get update && apt-get install -y --no-install-recommends jq python3 && rm -rf /var/lib/apt/lists/*\n";

#[test]
fn npm_install_keeps_its_lock_after_debian_archive_installs() {
    let df = DF.replace("WORKDIR /app\n", &format!("{APT}WORKDIR /app\n"));
    let (app, reason, text) = hoist(&df, &[]);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(
        text,
        HOISTED.replace("WORKDIR /app\n", &format!("{APT}WORKDIR /app\n"))
    );
    // The apt install after the broad copy moves too; so does the
    // install, with its lock.
    let df = DF.replace("COPY . .\n", &format!("COPY . .\n{APT}"));
    let (app, reason, text) = hoist(&df, &[]);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(
        text,
        HOISTED.replace("WORKDIR /app\n", &format!("WORKDIR /app\n{APT}"))
    );
    // `node_modules/.bin` on PATH, as many Dockerfiles set it: the
    // install's own writes there come after npm started.
    let df = DF.replace(
        "WORKDIR /app\n",
        "WORKDIR /app\nENV PATH=/app/node_modules/.bin:$PATH\n",
    );
    let (app, reason, _) = hoist(&df, &[]);
    assert_eq!(app, Applicability::Safe, "{reason}");
}

#[test]
fn npm_install_stays_unsafe_after_packages_from_other_sources() {
    let cases = [
        // A third-party source (its packages may put files anywhere).
        "RUN echo 'deb https://deb.nodesource.com/node_20.x nodistro main' > /etc/apt/sources.list.d/nodesource.list && apt-get update && apt-get install -y nodejs\n",
        "COPY index.js /etc/apt/sources.list.d/extra.list\nRUN apt-get update && apt-get install -y jq\n",
        "RUN apt-get update && apt-get install -y mobian-archive-keyring\nRUN apt-get update && apt-get install -y jq\n",
        "RUN apt-get -o Dir::Etc::SourceList=/srv/extra.list update && apt-get install -y jq\n",
        "RUN --mount=type=bind,source=index.js,target=/etc/apt/sources.list apt-get update && apt-get install -y jq\n",
        "ENV APT_CONFIG=/srv/apt.conf\nRUN apt-get update && apt-get install -y jq\n",
        // A package file, not the archive's.
        "RUN apt-get install -y /tmp/tool.deb\n",
        "RUN dpkg -i /tmp/tool.deb\n",
        // Programs found before the image's npm and node.
        "ENV PATH=/opt/bin:$PATH\nRUN mkdir -p /opt/bin && ln -s /usr/bin/true /opt/bin/npm\n",
        "ENV PATH=/usr/bin:$PATH\nRUN apt-get update && apt-get install -y nodejs npm\n",
        "ENV PATH=/srv/bin\n",
        "ENV PATH=$TOOLS:$PATH\n",
    ];
    for extra in cases {
        let df = DF.replace("WORKDIR /app\n", &format!("{extra}WORKDIR /app\n"));
        not_moved(&df, extra);
    }
}

/// scout73 knex-notes-node: `pg-pool` peer-depends on `pg`, both
/// dependencies of the project, and `npm install --omit=dev` on
/// node:20-slim stayed Unsafe ("may rewrite `package-lock.json`"), though
/// npm 9 and 10 flag such a package as arborist computes. Measured: npm
/// 9.3.1, 9.9.4, 10.1.0, 10.5.1, 10.8.2, 10.9.2 and 10.9.4 wrote back a
/// lock of pg, pg-pool, react, react-dom and knex byte for byte, 11.6.2
/// rewrote it. On the official images of Node.js 18.14 to 22 (npm 9 and
/// 10) the install moves; an image whose npm is not known stays Unsafe.
#[test]
fn npm_install_keeps_a_lock_with_peer_edges_on_node_18_to_22() {
    let pkg = PACKAGE.replace(
        "\"ms\": \"2.1.3\"\n",
        "\"ms\": \"2.1.3\",\n    \"peerer\": \"1.0.0\"\n",
    );
    let lock = LOCK
        .replace(
            "\"ms\": \"2.1.3\"\n      }\n    },",
            "\"ms\": \"2.1.3\",\n        \"peerer\": \"1.0.0\"\n      }\n    },",
        )
        .replace(
            "\n    }\n  }\n}\n",
            "\n    },\n    \"node_modules/peerer\": {\n      \"version\": \"1.0.0\",\n      \"resolved\": \"https://registry.npmjs.org/peerer/-/peerer-1.0.0.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"license\": \"MIT\",\n      \"peerDependencies\": {\n        \"ms\": \"^2.0.0\"\n      }\n    }\n  }\n}\n",
        );
    let files = [
        ("package.json", pkg.as_str()),
        ("package-lock.json", lock.as_str()),
    ];
    for from in [
        "node:20",
        "node:20-slim",
        "node:22-bookworm-slim",
        "node:18.20.4-alpine",
        "node:18",
        "node:iron-slim",
        "node:jod",
    ] {
        let df = DF.replace("node:20", from);
        let (app, reason, text) = hoist(&df, &files);
        assert_eq!(app, Applicability::Safe, "{from}: {reason}");
        assert_eq!(text, HOISTED.replace("node:20", from), "{from}");
    }
    // npm 8 (Node 18 before 18.14) rewrites version 3 locks; Node 24 and
    // the moving word tags may run npm 11.6.1 or 11.6.2.
    for from in [
        "node:18.12",
        "node:24-slim",
        "node:lts",
        "node:krypton",
        "node:slim",
    ] {
        let (app, reason, _) = hoist(&DF.replace("node:20", from), &files);
        assert_eq!(app, Applicability::Unsafe, "{from}: {reason}");
    }
}

/// scout73 sts-creds-node: `RUN useradd -m appuser` (the knowledge base:
/// it writes `/home/**`) before the copy kept `npm install` Unsafe,
/// though the install runs as root and reads root's `.npmrc`, not
/// node's. The user's own settings are those of the user the install
/// runs as; as `node`, `/home/node/.npmrc` still counts.
#[test]
fn npm_install_as_root_is_not_held_by_a_write_of_another_users_home() {
    let df = "FROM node:20-slim\nWORKDIR /app\nRUN useradd -m appuser\nCOPY --chown=appuser:appuser . .\nRUN npm install --omit=dev\nUSER appuser\nCMD [\"node\", \"index.js\"]\n";
    let (app, reason, text) = hoist(df, &[]);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(
        text,
        "FROM node:20-slim\nWORKDIR /app\nRUN useradd -m appuser\nCOPY --chown=appuser:appuser package.json package-lock.json ./\nRUN npm install --omit=dev\nCOPY --chown=appuser:appuser . .\nUSER appuser\nCMD [\"node\", \"index.js\"]\n"
    );
    // Controls: root's own settings file written before; the install run
    // as `node`, whose home the `useradd` may write.
    for df in [
        "FROM node:20-slim\nWORKDIR /app\nRUN echo omit=dev > /root/.npmrc\nCOPY . .\nRUN npm install\n",
        "FROM node:20-slim\nRUN useradd -m appuser\nUSER node\nWORKDIR /home/node/app\nCOPY --chown=node:node . .\nRUN npm install\n",
    ] {
        let (app, reason, text) = hoist(df, &[]);
        assert_eq!(app, Applicability::Unsafe, "{df}: {reason}");
        assert_eq!(text, df);
    }
}

/// scout73 trap-md-render-npmrc: a project `.npmrc` with
/// `install-strategy=nested` kept `npm install` Unsafe ("may rewrite
/// `package-lock.json`"), though the strategy lays out `node_modules`
/// and leaves an agreeing lock as it is (measured, npm 9.9.4, 10.8.2 and
/// 11.7.0). The install moves with the `.npmrc` copied first; a strategy
/// not measured on every lock layout (`linked`) keeps it Unsafe.
#[test]
fn npm_install_keeps_its_lock_under_an_install_strategy() {
    for strategy in ["nested", "shallow", "hoisted"] {
        let rc = format!("install-strategy={strategy}\n");
        let (app, reason, text) = hoist(DF, &[(".npmrc", rc.as_str())]);
        assert_eq!(app, Applicability::Safe, "{strategy}: {reason}");
        assert_eq!(
            text,
            HOISTED.replace(
                "COPY package.json package-lock.json ./",
                "COPY package.json package-lock.json .npmrc ./"
            ),
            "{strategy}"
        );
    }
    unsafe_with(
        DF,
        &[(".npmrc", "install-strategy=linked\n")],
        "install-strategy=linked",
    );
}

/// scout74: npm writes the lock with the newline that follows
/// `package.json`'s opening brace (json-parse-even-better-errors keeps
/// the whole run of newlines there as the manifest's newline, and
/// arborist writes the lock with it). A two-space LF lock that agrees
/// with a `package.json` whose newlines are CRLF was moved as Safe, but
/// `npm install` rewrites it with CRLF newlines, and the broad copy then
/// put the LF lock back: `compare.sh` (node:20-slim, npm 10.8.2) found
/// `/usr/src/app/package-lock.json` different (25868 -> 25068 bytes).
/// Measured with npm 11.19.1 as well: CRLF on the first line only gives
/// a CRLF lock, and a blank line after the brace a double-spaced one.
#[test]
fn npm_install_rewrites_an_lf_lock_beside_a_crlf_package_json() {
    let crlf = PACKAGE.replace('\n', "\r\n");
    unsafe_with(
        DF,
        &[("package.json", crlf.as_str())],
        "package.json with CRLF newlines",
    );
    let first = PACKAGE.replacen('\n', "\r\n", 1);
    unsafe_with(
        DF,
        &[("package.json", first.as_str())],
        "package.json with CRLF after the brace",
    );
    let blank = PACKAGE.replacen('\n', "\n\n", 1);
    unsafe_with(
        DF,
        &[("package.json", blank.as_str())],
        "package.json with a blank line after the brace",
    );
    // An LF package.json with CRLF further down (after the brace's
    // newline) leaves the lock as it is: only the first run counts.
    let later = PACKAGE.replace("\"private\": true,\n", "\"private\": true,\r\n");
    let (app, reason, _) = hoist(DF, &[("package.json", later.as_str())]);
    assert_eq!(app, Applicability::Safe, "{reason}");
}

/// The reason for a lock npm would rewrite names the root-entry fields that
/// differ from package.json (scout76 trap-lock-stale-engines: "may rewrite
/// `package-lock.json`" did not say why); an empty field npm leaves out is
/// not named.
#[test]
fn a_stale_lock_reason_names_the_fields_that_differ() {
    use crate::support::hoist_proposal;
    let lock = "{\n  \"name\": \"w\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"w\",\n      \"version\": \"1.0.0\"\n    }\n  }\n}\n";
    let manifest = "{\n  \"name\": \"w\",\n  \"version\": \"1.0.0\",\n  \"engines\": {\n    \"node\": \">=18\"\n  },\n  \"dependencies\": {}\n}\n";
    let files = [
        ("package.json", manifest),
        ("package-lock.json", lock),
        ("index.js", "console.log(1)\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ];
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm install --omit=dev\n";
    let (change, out) = hoist_proposal(&[], df, &files);
    let (applicability, reason) = change.expect("a hoist is reported");
    assert_eq!(applicability, dockreorder::plan::Applicability::Unsafe);
    assert_eq!(out, df);
    assert!(
        reason.contains(
            "may rewrite `package-lock.json` (its root entry differs from package.json in `engines`), which"
        ),
        "{reason}"
    );
}

/// scout80 trap-endpoints-npmrc-node: a shipped `.npmrc` with `omit=dev`
/// (the setting of `--omit=dev`, which changes what is installed, not an
/// agreeing lock) kept `npm install` Unsafe, and the reason did not say
/// the `.npmrc` was why. `omit` and `include` are admitted now (measured
/// with npm 11.19.1: the lock came back byte for byte; built in
/// node:20-slim, npm 10: the image as the original's, the install CACHED);
/// a setting that may change what npm writes is named in the reason.
#[test]
fn an_npmrc_that_omits_dev_keeps_the_lock_and_others_are_named() {
    use crate::support::{NO_RESOLVED_LOCK, NO_RESOLVED_PACKAGE, hoist_proposal};
    let files = [
        ("package.json", NO_RESOLVED_PACKAGE),
        ("package-lock.json", NO_RESOLVED_LOCK),
        ("index.js", "require('debug')('app')\n"),
        (".dockerignore", "node_modules\n.git\n"),
    ];
    let df = "FROM node:20-slim\nADD . /app\nWORKDIR /app\nRUN npm install\n";
    let (change, out) = hoist_proposal(&files, df, &[(".npmrc", "omit=dev\nfund=false\n")]);
    let (app, reason) = change.expect("the hoist is proposed");
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert!(
        out.contains("COPY package.json package-lock.json .npmrc /app/\n"),
        "{out}"
    );
    let (change, out) = hoist_proposal(&files, df, &[(".npmrc", "omit=dev\nlockfile-version=2\n")]);
    let (app, reason) = change.expect("the hoist is proposed");
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    assert_eq!(out, df);
    assert!(
        reason.contains(
            "(the project's `.npmrc` sets `lockfile-version`, which may change what npm writes)"
        ),
        "{reason}"
    );
}
