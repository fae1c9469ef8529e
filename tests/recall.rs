//! Issue 11: hoists experts make on real Dockerfiles (static shapes; the
//! samples build the main ones with the real engine).

use dockreorder::analysis::context::Context;
use dockreorder::plan::{Applicability, Options};
use dockreorder::rewrite;

fn hoisted(files: &[(&str, &str)], df: &str) -> String {
    rewrite_at(files, df, Applicability::Safe).new_text
}

/// The text rewritten with `Safe` changes, and the hoist it proposes: its
/// applicability and reason.
fn proposed_hoist(files: &[(&str, &str)], df: &str) -> (String, Applicability, String) {
    let out = rewrite_at(files, df, Applicability::Safe);
    let c = out
        .changes
        .iter()
        .find(|c| c.kind == dockreorder::plan::ChangeKind::Hoist)
        .cloned()
        .expect("the hoist is proposed");
    (out.new_text, c.applicability, c.reason)
}

const PNPM: &[(&str, &str)] = &[
    (
        "package.json",
        "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
    ),
    ("pnpm-lock.yaml", "lockfileVersion: 9\n"),
    ("yarn.lock", "\n"),
    ("index.js", "x\n"),
];

#[test]
fn issue_11_knowledge_base_breadth() {
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN corepack enable && pnpm install --ignore-scripts --frozen-lockfile\nRUN pnpm run build\n";
    assert_eq!(
        hoisted(PNPM, df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\nRUN corepack enable && pnpm install --ignore-scripts --frozen-lockfile\nCOPY . .\nRUN pnpm run build\n"
    );
    // `yarn global add` with the packages' scripts off writes the global
    // folder only: it moves too. It reads the project's package.json (yarn
    // 1.22.20 and corepack check its `packageManager`), so that comes
    // first. (With the scripts on, they see the working directory:
    // soundness::global_installs_run_their_packages_scripts_in_the_working_directory.)
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn global add --ignore-scripts @vue/cli@5.0.8\nRUN yarn install --ignore-scripts --frozen-lockfile\n";
    assert_eq!(
        hoisted(PNPM, df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json ./\nRUN yarn global add --ignore-scripts @vue/cli@5.0.8\nCOPY yarn.lock ./\nRUN yarn install --ignore-scripts --frozen-lockfile\nCOPY . .\n"
    );
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --ignore-scripts --frozen-lockfile && yarn cache clean\nRUN make -j$(nproc)\n";
    assert_eq!(
        hoisted(PNPM, df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json yarn.lock ./\nRUN yarn install --ignore-scripts --frozen-lockfile && yarn cache clean\nCOPY . .\nRUN make -j$(nproc)\n"
    );
}

#[test]
fn issue_11_absolute_manifests_outside_the_working_directory() {
    let files = &[
        ("requirements/base.txt", "flask==3.0.0\n"),
        ("app.py", "x\n"),
    ];
    let df = "FROM python:3.12\nCOPY . /usr/src/service\nRUN pip install -r /usr/src/service/requirements/base.txt\nCMD [\"python\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12\nCOPY requirements/base.txt /usr/src/service/requirements/\nRUN pip install -r /usr/src/service/requirements/base.txt\nCOPY . /usr/src/service\nCMD [\"python\"]\n"
    );
    // Shipping into a program directory blocks it: the copy could put a
    // program the install runs.
    let df = "FROM python:3.12\nWORKDIR /usr/local/bin\nCOPY . .\nRUN pip install -r requirements/base.txt\n";
    assert_eq!(hoisted(files, df), df);
}

#[test]
fn issue_11_working_directory_set_after_the_broad_copy() {
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
    ];
    // WORKDIR (and ENV) move with the install, after the inserted COPY that
    // creates /code as the broad copy would have.
    let df = "FROM node:20\nADD . /code\nENV NODE_ENV=production\nWORKDIR /code\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nCOPY package.json package-lock.json /code/\nENV NODE_ENV=production\nWORKDIR /code\nRUN npm ci\nADD . /code\nCMD [\"node\", \"index.js\"]\n"
    );
    // A relative broad copy reads the working directory: WORKDIR cannot
    // pass it, nothing moves.
    let df = "FROM node:20\nWORKDIR /srv\nCOPY . .\nWORKDIR /srv/web\nRUN npm ci\n";
    assert_eq!(hoisted(files, df), df);
    // A WORKDIR whose path is not known may be the copy's destination: it
    // does not come along (found by the build fuzzer, seed 777).
    let df = "FROM node:20\nCOPY . /app\nWORKDIR $APP_HOME\nRUN cd /app && npm ci\n";
    assert_eq!(hoisted(files, df), df);
    // An install without manifests that runs in the working directory
    // would need WORKDIR to create /code first (no inserted COPY to create
    // it as root): it stays.
    let df = "FROM node:20\nADD . /code\nWORKDIR /code\nRUN pip install flask\n";
    assert_eq!(hoisted(files, df), df);
    // A system package manager does not depend on the working directory
    // (its scripts run in `/`, it names no relative path): it moves above
    // the copy alone, and WORKDIR stays where it was.
    let df =
        "FROM node:20\nADD . /code\nWORKDIR /code\nRUN apt-get update && apt-get install -y curl\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nRUN apt-get update && apt-get install -y curl\nADD . /code\nWORKDIR /code\n"
    );
    // A relative path argument makes it read the working directory again.
    let df = "FROM node:20\nADD . /code\nWORKDIR /code\nRUN apt-get install -y ./vendor/x.deb\n";
    assert_eq!(hoisted(files, df), df);
}

/// The inserted COPY stands right before its install, after the
/// instructions that move with the install and do not depend on it (a
/// manifest edit then reruns the install alone); before them when one
/// does (the `WORKDIR /code` case above).
#[test]
fn the_inserted_copy_stands_right_before_its_install() {
    let files = &[("requirements.txt", "flask==3.0.0\n"), ("app.py", "x\n")];
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nENV PIP_NO_CACHE_DIR=1\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12\nWORKDIR /app\nENV PIP_NO_CACHE_DIR=1\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
    );
    // A RUN that moves along may create the directory the COPY creates
    // with its owner: the COPY stays first (after `mkdir -p /app/cache`,
    // /app would be root's).
    let df = "FROM python:3.12\nCOPY --chown=app:app . /app\nRUN mkdir -p /app/cache\nRUN pip install --cache-dir /app/cache -r /app/requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12\nCOPY --chown=app:app requirements.txt /app/\nRUN mkdir -p /app/cache\nRUN pip install --cache-dir /app/cache -r /app/requirements.txt\nCOPY --chown=app:app . /app\n"
    );
}

/// A `RUN` carried along (the install does not need it) that makes a
/// directory above the copy's destination makes it before the inserted
/// COPY would, as root: measured, `/code` was uid 1000 after `COPY
/// --chown=app . /code/app` and root's once `RUN mkdir -p /code/data`
/// stood before the inserted COPY. The COPY stays first.
#[test]
fn a_carried_run_making_a_parent_of_the_destination_keeps_the_copy_first() {
    let files = &[("requirements.txt", "flask==3.0.0\n"), ("app.py", "x\n")];
    // Since the root `mkdir` may make `/code` before the copy makes it
    // app's (`effects::makes_owned_dir_first`), it is not carried at all:
    // it stays below the copy, and the inserted COPY still comes first.
    let df = "FROM python:3.12\nRUN useradd -m app\nCOPY --chown=app . /code/app\nRUN mkdir -p /code/data\nRUN pip install -r /code/app/requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12\nRUN useradd -m app\nCOPY --chown=app requirements.txt /code/app/\nRUN pip install -r /code/app/requirements.txt\nCOPY --chown=app . /code/app\nRUN mkdir -p /code/data\n"
    );
    // A mount's target is made in the image, with its parents: measured
    // the same, `/code` root's after a `RUN --mount=type=cache,target=/code/cache`.
    // Such a `RUN` is not carried either (`Effects::mount_targets`).
    for mount in [
        "type=cache,target=/code/cache",
        "type=tmpfs,target=/code/tmp",
    ] {
        let df = format!(
            "FROM python:3.12\nRUN useradd -m app\nCOPY --chown=app . /code/app\nRUN --mount={mount} mkdir -p /tmp/x\nRUN pip install -r /code/app/requirements.txt\n"
        );
        assert_eq!(
            hoisted(files, &df),
            format!(
                "FROM python:3.12\nRUN useradd -m app\nCOPY --chown=app requirements.txt /code/app/\nRUN pip install -r /code/app/requirements.txt\nCOPY --chown=app . /code/app\nRUN --mount={mount} mkdir -p /tmp/x\n"
            ),
            "{mount}"
        );
    }
    // A carried `EXPOSE` or `LABEL` makes nothing: the COPY stays by the install.
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nEXPOSE 80\nLABEL a=b\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12\nWORKDIR /app\nEXPOSE 80\nLABEL a=b\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
    );
}

#[test]
fn cd_inside_a_run_is_followed() {
    let files = &[
        (
            "web/package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "web/package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("web/index.js", "x\n"),
    ];
    // Before the fix every `cd` made the RUN opaque.
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nWORKDIR /app\nCOPY web/package.json web/package-lock.json ./web/\nRUN cd web && npm ci\nCOPY . .\n"
    );
    // A cd to a computed directory is still not followed.
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN cd $DIR && npm ci\n";
    assert_eq!(hoisted(files, df), df);
}

#[test]
fn dotnet_tool_install_hoists_with_global_json_and_submodules_stay_unknown() {
    let files = &[
        ("global.json", "{\"sdk\":{\"version\":\"8.0.100\"}}"),
        ("src/App/App.csproj", "<Project/>\n"),
        ("src/App/Program.cs", "x\n"),
    ];
    // sed -i of a project file does not touch what the tool install reads.
    let df = "FROM sdk\nWORKDIR /app\nCOPY . ./\nRUN sed -i 's/a/b/' src/App/App.csproj\nRUN dotnet tool install --global dotnet-ef --version 5.0.0\nENV PATH=\"${PATH}:/root/.dotnet/tools\"\nRUN dotnet restore\n";
    assert_eq!(
        hoisted(files, df),
        "FROM sdk\nWORKDIR /app\nCOPY global.json ./\nRUN dotnet tool install --global dotnet-ef --version 5.0.0\nCOPY . ./\nRUN sed -i 's/a/b/' src/App/App.csproj\nENV PATH=\"${PATH}:/root/.dotnet/tools\"\nRUN dotnet restore\n"
    );
    // A RUN reading a submodule's files (not checked out here) never comes
    // along with a hoist, as if they were shipped.
    let files = &[
        (
            ".gitmodules",
            "[submodule \"plugins/a\"]\n\tpath = plugins/a\n\turl = x\n",
        ),
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "x\n"),
    ];
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN cp plugins/a/x.sh plugins/a/y.sh\nRUN pip install -r requirements.txt\n";
    let out = hoisted(files, df);
    let cp = out.find("RUN cp").expect("cp");
    assert!(out.find("COPY . .").expect("copy") < cp, "{out}");
}

const TZ_APP: &[(&str, &str)] = &[
    ("requirements.txt", "flask==3.0.0\n"),
    ("tools/a.sh", "echo a\n"),
    ("app.py", "x\n"),
];

#[test]
fn a_known_run_reads_only_the_variables_its_commands_honour() {
    // caldera's shape: `ARG TZ` comes along with the timezone link the
    // install needs (it reads /etc), past a RUN of base utilities that
    // stays (it edits shipped files) and never reads TZ.
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN cd /app/tools && cp ./a.sh ./b.sh && tr -d x < ./b.sh > ./a.sh\nARG TZ=UTC\nRUN ln -snf /usr/share/zoneinfo/$TZ /etc/localtime\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(TZ_APP, df),
        "FROM base\nWORKDIR /app\nARG TZ=UTC\nRUN ln -snf /usr/share/zoneinfo/$TZ /etc/localtime\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nRUN cd /app/tools && cp ./a.sh ./b.sh && tr -d x < ./b.sh > ./a.sh\n"
    );
    // The RUN that stays names $TZ: the ARG cannot pass it, nothing that
    // needs it moves.
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN cp tools/a.sh \"tools/$TZ.sh\"\nARG TZ=UTC\nRUN ln -snf /usr/share/zoneinfo/$TZ /etc/localtime\nRUN pip install -r requirements.txt\n";
    assert_eq!(hoisted(TZ_APP, df), df);
    // Every program reads the locale, the search paths and the shell's
    // variables.
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN cp tools/a.sh tools/b.sh\nENV LC_ALL=C.UTF-8\nRUN pip install -r requirements.txt\n";
    assert_eq!(hoisted(TZ_APP, df), df);
    // A command whose variables the knowledge base does not list reads all
    // of them (`go build` may read any).
    let df = "FROM base\nWORKDIR /app\nCOPY . .\nRUN go build -o /bin/app ./...\nARG TZ=UTC\nRUN ln -snf /usr/share/zoneinfo/$TZ /etc/localtime\nRUN pip install -r requirements.txt\n";
    assert_eq!(hoisted(TZ_APP, df), df);
}

const CARGO_APP: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        "[package]\nname = \"a\"\nversion = \"0.1.0\"\n",
    ),
    ("Cargo.lock", "version = 3\n"),
    ("src/main.rs", "fn main() {}\n"),
];

#[test]
fn a_system_install_passes_a_download_only_fetch() {
    // typst's shape: xx-apk (with the platform ARG it reads) moves above
    // the copy, past `cargo fetch`, which stays (its hoist is Unsafe).
    let df = "FROM rust\nRUN apk add --no-cache clang\nCOPY . /app\nWORKDIR /app\nRUN cargo fetch\nARG TARGETPLATFORM\nRUN xx-apk add --no-cache musl-dev\nRUN cargo build --release\n";
    assert_eq!(
        hoisted(CARGO_APP, df),
        "FROM rust\nRUN apk add --no-cache clang\nARG TARGETPLATFORM\nRUN xx-apk add --no-cache musl-dev\nCOPY . /app\nWORKDIR /app\nRUN cargo fetch\nRUN cargo build --release\n"
    );
    // A build loads what the system install puts in /usr: it stays before.
    let df = "FROM rust\nCOPY . /app\nWORKDIR /app\nRUN cargo build --release\nRUN apk add --no-cache musl-dev\n";
    assert_eq!(hoisted(CARGO_APP, df), df);
}

fn pom(modules: &[&str], extra: &str) -> String {
    let m: String = modules
        .iter()
        .map(|m| format!("<module>{m}</module>"))
        .collect();
    format!("<project><modules>{m}</modules>{extra}</project>\n")
}

#[test]
fn maven_reactor_hoists_with_every_module_pom() {
    let root = pom(&["api", "web"], "<!-- <module>gone</module> -->");
    let web = pom(&["en"], "<parent><artifactId>p</artifactId></parent>");
    let files: Vec<(&str, &str)> = vec![
        ("pom.xml", &root),
        ("api/pom.xml", "<project/>\n"),
        ("api/src/A.java", "x\n"),
        ("web/pom.xml", &web),
        ("web/en/pom.xml", "<project/>\n"),
    ];
    let df =
        "FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn -B dependency:go-offline\nRUN mvn package\n";
    assert_eq!(
        hoisted(&files, df),
        "FROM maven\nWORKDIR /src\nCOPY pom.xml ./\nCOPY api/pom.xml ./api/\nCOPY web/en/pom.xml ./web/en/\nCOPY web/pom.xml ./web/\nRUN mvn -B dependency:go-offline\nCOPY . .\nRUN mvn package\n"
    );
    // A module the context does not hold, or a POM that reads the
    // environment: not Safe, nothing moves.
    let mut missing = files.clone();
    missing.retain(|(p, _)| *p != "api/pom.xml");
    assert_eq!(hoisted(&missing, df), df);
    let env_root = pom(
        &["api", "web"],
        "<properties><x>${env.HOME}</x></properties>",
    );
    let mut env = files.clone();
    env[0] = ("pom.xml", &env_root);
    assert_eq!(hoisted(&env, df), df);
    // `.mvn/` and the files a profile's activation tests for (in every
    // module: profiles are inherited) are copied too.
    let web = pom(
        &["en"],
        "<profiles><profile><activation><file><exists>../assembly/zip.xml</exists></file></activation></profile></profiles>",
    );
    let mut more = files.clone();
    more[3] = ("web/pom.xml", &web);
    more.push(("web/assembly/zip.xml", "<assembly/>\n"));
    more.push((".mvn/maven.config", "-B\n"));
    let dir = crate::support::project(&more);
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rewrite");
    let hoist = out
        .changes
        .iter()
        .find(|c| c.summary.contains("dependency:go-offline"))
        .expect("the install is examined");
    assert_eq!(hoist.applicability, Applicability::Safe, "{}", hoist.reason);
    for f in [
        "`.mvn/maven.config`",
        "`web/assembly/zip.xml`",
        "`web/en/pom.xml`",
    ] {
        assert!(hoist.summary.contains(f), "{f} in {}", hoist.summary);
    }
}

#[test]
fn bind_mounted_manifests_need_no_copy() {
    let files = &[("requirements.txt", "flask==3.0.0\n"), ("app.py", "x\n")];
    let run = "RUN --mount=type=bind,source=requirements.txt,target=requirements.txt pip install -r requirements.txt\n";
    let df = format!("FROM python\nWORKDIR /app\nCOPY . .\n{run}CMD [\"python\", \"app.py\"]\n");
    assert_eq!(
        hoisted(files, &df),
        format!("FROM python\nWORKDIR /app\n{run}COPY . .\nCMD [\"python\", \"app.py\"]\n")
    );
    // A mounted directory, another stage's file, a variable: not followed,
    // nothing moves. (A mounted file the context excludes fails the build
    // in any order.)
    for flag in [
        "--mount=type=bind,source=deps,target=deps",
        "--mount=type=bind,from=build,source=requirements.txt,target=requirements.txt",
        "--mount=type=bind,source=$REQ,target=requirements.txt",
    ] {
        let df = format!(
            "FROM python\nWORKDIR /app\nCOPY . .\nRUN {flag} pip install -r requirements.txt\n"
        );
        assert_eq!(hoisted(files, &df), df, "{flag}");
    }
    // A file mounted elsewhere than the copy would put it: the manifest
    // checks (which read the shipped file) do not cover it, so not Safe.
    let df = "FROM python\nWORKDIR /app\nCOPY . .\nRUN --mount=type=bind,source=requirements.txt,target=/tmp/r.txt pip install -r requirements.txt\n";
    assert_eq!(hoisted(files, df), df);
}

#[test]
fn go_mod_download_with_bind_mounted_manifests_moves_above_the_copy() {
    // Docker's Go template (`docker init`; scout41 g07): go.mod and
    // go.sum bind-mounted, a cache mount, after the broad copy. The
    // download also reads `go.work` and `go.work.sum`, which the context
    // does not ship: nothing to copy first. Measured with BuildKit on the
    // golang:1.22 stand-in: identical build stage but for go's build
    // cache (which differs between two builds of one file too), the
    // download CACHED after a source edit.
    let files = &[
        ("go.mod", "module example.com/app\n\ngo 1.22\n"),
        ("go.sum", ""),
        ("main.go", "package main\n\nfunc main() {}\n"),
        (".dockerignore", ".git\n"),
    ];
    let run = "RUN --mount=type=cache,target=/go/pkg/mod/ \\\n    --mount=type=bind,source=go.sum,target=go.sum \\\n    --mount=type=bind,source=go.mod,target=go.mod \\\n    go mod download -x\n";
    let build =
        "RUN --mount=type=cache,target=/go/pkg/mod/ CGO_ENABLED=0 go build -o /bin/server .\n";
    let df = format!("FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\n{run}{build}");
    assert_eq!(
        hoisted(files, &df),
        format!("FROM golang:1.22 AS build\nWORKDIR /src\n{run}COPY . .\n{build}")
    );
    // A `go.work` the copy ships is read too (a workspace, whose module
    // files are not followed): nothing moves.
    let mut with_work = files.to_vec();
    with_work.push(("go.work", "go 1.22\n\nuse .\n"));
    assert_eq!(hoisted(&with_work, &df), df);
    // A bound go.sum the context does not ship: not Safe.
    let mut ignored = files.to_vec();
    ignored.retain(|(n, _)| *n != ".dockerignore");
    ignored.push((".dockerignore", ".git\ngo.sum\n"));
    assert_eq!(hoisted(&ignored, &df), df);
}

#[test]
fn go_mod_download_after_its_manifests_were_copied_to_a_gopath_directory_moves() {
    // `COPY go.mod go.sum $GOPATH/src/app/` already stands first: the
    // download moves above the broad copy with nothing inserted. The
    // rewrite check took the download's write of go.sum (which it keeps)
    // for a conflict with the broad copy's and refused the file (exit 2).
    // Measured with BuildKit on the golang:1.22 stand-in: identical but
    // for go's build cache (which differs between two builds of one file
    // too).
    let files = &[
        ("go.mod", "module example.com/app\n\ngo 1.22\n"),
        ("go.sum", ""),
        ("main.go", "package main\n\nfunc main() {}\n"),
        (".dockerignore", ".git\n"),
    ];
    let head = "FROM golang:1.22\nCOPY go.mod go.sum $GOPATH/src/app/\nWORKDIR $GOPATH/src/app\n";
    let (copy, run) = ("COPY . $GOPATH/src/app\n", "RUN go mod download\n");
    let tail = "RUN go build -o /app .\n";
    assert_eq!(
        hoisted(files, &format!("{head}{copy}{run}{tail}")),
        format!("{head}{run}{copy}{tail}")
    );
}

#[test]
fn a_source_directory_is_a_broad_copy_of_its_subtree() {
    let files = &[
        (
            "server/package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "server/package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("server/lib/index.js", "x\n"),
        ("web/index.html", "x\n"),
    ];
    let df = "FROM node:20\nWORKDIR /app/server\nCOPY ./server /app/server/\nRUN npm ci\nCMD [\"node\", \"lib/index.js\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nWORKDIR /app/server\nCOPY server/package.json server/package-lock.json /app/server/\nRUN npm ci\nCOPY ./server /app/server/\nCMD [\"node\", \"lib/index.js\"]\n"
    );
    let df = "FROM node:20\nWORKDIR /srv\nCOPY server ./\nRUN npm ci\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nWORKDIR /srv\nCOPY server/package.json server/package-lock.json ./\nRUN npm ci\nCOPY server ./\n"
    );
    // A file, a glob or a directory the context does not have is not a
    // broad copy; nothing moves.
    for src in ["server/package.json", "serv*", "api"] {
        let df = format!("FROM node:20\nWORKDIR /srv\nCOPY {src} ./\nRUN npm ci\n");
        assert_eq!(hoisted(files, &df), df, "{src}");
    }
}

#[test]
fn a_maven_reactor_under_a_source_directory_copies_every_module_or_is_not_safe() {
    // The analysis adds a reactor's module POMs to the install's reads for
    // copies of the whole context; under `COPY backend ./` it does not, so
    // the hoist must not claim safety with the root POM alone.
    let root = pom(&["api"], "");
    let files: Vec<(&str, &str)> = vec![
        ("backend/pom.xml", &root),
        ("backend/api/pom.xml", "<project/>\n"),
        ("backend/api/src/A.java", "x\n"),
    ];
    let df = "FROM maven\nWORKDIR /src\nCOPY backend ./\nRUN mvn -B dependency:go-offline\nRUN mvn package\n";
    let out = hoisted(&files, df);
    assert!(
        out == df || out.contains("COPY backend/api/pom.xml ./api/"),
        "{out}"
    );
}

#[test]
fn workspaces_hoist_with_every_member_manifest() {
    let files = &[
        (
            "package.json",
            "{\"name\":\"root\",\"dependencies\":{\"a\":\"workspace:*\",\"b\":\"link:packages/b\"}}",
        ),
        ("pnpm-lock.yaml", "lockfileVersion: 9\n"),
        ("pnpm-workspace.yaml", "packages:\n  - packages/*\n"),
        ("packages/a/package.json", "{\"name\":\"a\"}"),
        ("packages/a/index.js", "x\n"),
        (
            "packages/b/package.json",
            "{\"name\":\"b\",\"dependencies\":{\"a\":\"workspace:^\"}}",
        ),
        ("packages/b/index.js", "x\n"),
    ];
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN pnpm install --ignore-scripts --frozen-lockfile\nRUN pnpm run build\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./\nCOPY packages/a/package.json ./packages/a/\nCOPY packages/b/package.json ./packages/b/\nRUN pnpm install --ignore-scripts --frozen-lockfile\nCOPY . .\nRUN pnpm run build\n"
    );
    // A member's install script may read anything: nothing moves.
    let mut scripted = files.to_vec();
    scripted[3] = (
        "packages/a/package.json",
        "{\"name\":\"a\",\"scripts\":{\"postinstall\":\"node gen.js\"}}",
    );
    assert_eq!(hoisted(&scripted, df), df);
    // npm's `workspaces` field, with a pattern it cannot list: not Safe.
    let npm = &[
        (
            "package.json",
            "{\"name\":\"root\",\"workspaces\":[\"packages/{a,b}\"]}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("packages/a/package.json", "{\"name\":\"a\"}"),
        ("packages/a/index.js", "x\n"),
    ];
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    assert_eq!(hoisted(npm, df), df);
    let npm_ok = &[
        (
            "package.json",
            "{\"name\":\"root\",\"workspaces\":[\"packages/*\"]}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("packages/a/package.json", "{\"name\":\"a\"}"),
        ("packages/a/index.js", "x\n"),
    ];
    assert_eq!(
        hoisted(npm_ok, df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nCOPY packages/a/package.json ./packages/a/\nRUN npm ci\nCOPY . .\n"
    );
}

#[test]
fn runs_that_can_read_any_variable_still_read_them_all() {
    // The control: a RUN of base utilities that names no variable lets the
    // ARG pass.
    let tail =
        "ARG MODE=prod\nRUN echo $MODE > /etc/app-mode\nRUN pip install -r requirements.txt\n";
    let df = format!("FROM base\nWORKDIR /app\nCOPY . .\nRUN cp tools/a.sh tools/b.sh\n{tail}");
    assert_ne!(hoisted(TZ_APP, &df), df);
    // The length of $MODE, a listing of every variable and an indirect
    // reference all read MODE: the ARG does not pass them.
    for run in [
        "RUN cp tools/a.sh \"tools/${#MODE}.sh\"",
        "RUN cp tools/a.sh tools/b.sh && set > tools/vars.txt",
        "RUN cp tools/a.sh tools/b.sh && export -p > tools/vars.txt",
        "RUN cp tools/a.sh \"tools/${!V}.sh\"",
    ] {
        let df = format!("FROM base\nWORKDIR /app\nCOPY . .\n{run}\n{tail}");
        assert_eq!(hoisted(TZ_APP, &df), df, "{run}");
    }
}

#[test]
fn a_download_only_fetch_does_not_pass_the_install_of_its_toolchain() {
    // typst's shape, but the system install may provide cargo (or git,
    // which fetches use): the fetch's program is what the install writes,
    // so they keep their order and nothing that needs them moves.
    for pkg in ["cargo", "git", "$PKGS"] {
        let df = format!(
            "FROM rust\nCOPY . /app\nWORKDIR /app\nRUN cargo fetch\nRUN apk add --no-cache {pkg}\n"
        );
        assert_eq!(hoisted(CARGO_APP, &df), df, "{pkg}");
    }
}

const NPM: &[(&str, &str)] = &[
    (
        "package.json",
        "{\"name\":\"a\",\"scripts\":{\"build\":\"tsc\"},\"dependencies\":{\"ms\":\"2.1.3\"}}",
    ),
    (
        "package-lock.json",
        "{\"lockfileVersion\":3,\"packages\":{}}\n",
    ),
    ("requirements.txt", "flask==3.0.0\n"),
    ("manage.py", "x\n"),
    ("src/index.ts", "x\n"),
];

fn rewrite_at(files: &[(&str, &str)], df: &str, threshold: Applicability) -> rewrite::Outcome {
    let dir = crate::support::project(files);
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    rewrite::rewrite(df, Some(&ctx), Options::new(threshold)).expect("rewrite")
}

#[test]
fn issue_11_compound_runs_are_split_at_the_install() {
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n";
    let out = rewrite_at(NPM, df, Applicability::Safe);
    assert_eq!(
        out.new_text,
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n"
    );
    let c = out.changes.iter().find(|c| c.applied).expect("a change");
    assert_eq!(c.line, 4, "reported at the RUN's original line");
    assert_eq!(c.split_from.as_deref(), Some("RUN npm ci && npm run build"));
    assert!(
        c.summary.starts_with(
            "split the `RUN` at its `&&` and moved `RUN npm ci` above `COPY . .` (line 3)"
        ) && c.summary.ends_with("; `RUN npm run build` stays below"),
        "{}",
        c.summary
    );
    assert!(c.reason.contains("no shell state"), "{}", c.reason);
    // `npm run build` runs the project's script, which the tool does not
    // read: the reason does not claim it deletes nothing (h-rev50), it
    // says what it checked and what an unseen deletion would cost.
    assert!(
        !c.reason.contains("the rest deletes nothing")
            && c.reason.contains(
                "no command of the rest that the knowledge base knows deletes what the install wrote, and what `npm run build` (code not read here) might delete"
            ),
        "{}",
        c.reason
    );
    let known = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && chmod +x index.js\n";
    let out_known = rewrite_at(NPM, known, Applicability::Safe);
    let k = out_known
        .changes
        .iter()
        .find(|c| c.applied)
        .expect("a change");
    assert!(
        k.reason
            .contains("the rest deletes nothing the install wrote"),
        "{}",
        k.reason
    );
    // The fix of the change alone gives the output.
    let fixed = rewrite::edit::apply(df, &c.edits).expect("edits apply");
    assert_eq!(fixed, out.new_text);

    // Two installs: the project's own stays below the copy when it
    // installs nothing else (`--no-deps`); one that may replace what the
    // first installed (a dependency upgraded) would leave the old files in
    // the first layer: no split.
    let df = "FROM python:3.12\nWORKDIR /srv\nCOPY . .\nRUN pip install -r requirements.txt && python -m pip install --no-deps -e .\n";
    assert_eq!(
        rewrite_at(NPM, df, Applicability::Safe).new_text,
        "FROM python:3.12\nWORKDIR /srv\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nRUN python -m pip install --no-deps -e .\n"
    );
    let df = "FROM python:3.12\nWORKDIR /srv\nCOPY . .\nRUN pip install -r requirements.txt && pip install -e .\n";
    assert_eq!(rewrite_at(NPM, df, Applicability::Safe).new_text, df);
    // `pip` by name again: the original shell runs the `pip` it found
    // first, a new shell may find one the requirements installed earlier
    // in PATH (the `hash -r` problem) where where the base image has it
    // is not known.
    let df = "FROM example.org/python:3.12\nWORKDIR /srv\nCOPY . .\nRUN pip install -r requirements.txt && pip install --no-deps -e .\n";
    assert_eq!(rewrite_at(NPM, df, Applicability::Safe).new_text, df);
    // The official python images have pip in /usr/local/bin, searched
    // before any directory pip installs scripts into.
    let df = "FROM python:3.12\nWORKDIR /srv\nCOPY . .\nRUN pip install -r requirements.txt && pip install --no-deps -e .\n";
    assert_eq!(
        rewrite_at(NPM, df, Applicability::Safe).new_text,
        "FROM python:3.12\nWORKDIR /srv\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nRUN pip install --no-deps -e .\n"
    );
    // A leading `cd` is repeated in the rest.
    let df = "FROM node:20\nCOPY . /app\nRUN cd /app && npm ci && npm run build\n";
    assert_eq!(
        rewrite_at(NPM, df, Applicability::Safe).new_text,
        "FROM node:20\nCOPY package.json package-lock.json /app/\nRUN cd /app && npm ci\nCOPY . /app\nRUN cd /app && npm run build\n"
    );
    let df = "FROM python:3.12\nWORKDIR /srv\nCOPY . .\nRUN pip install -r requirements.txt && \\\n    python manage.py collectstatic --noinput\n";
    assert_eq!(
        rewrite_at(NPM, df, Applicability::Safe).new_text,
        "FROM python:3.12\nWORKDIR /srv\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nRUN python manage.py collectstatic --noinput\n"
    );
}

/// A hoist that cannot write its inserted COPY says why, naming what
/// would need quoting: the destination (`COPY [".", "/srv/my app/"]`),
/// not a manifest (h-rev50: the advice blamed a manifest name).
#[test]
fn a_hoist_it_cannot_write_names_what_would_need_quoting() {
    let df = "FROM node:20\nCOPY [\".\", \"/srv/my app/\"]\nWORKDIR \"/srv/my app\"\nRUN npm ci\n";
    let out = rewrite_at(NPM, df, Applicability::Safe);
    assert_eq!(out.new_text, df);
    let c = out
        .changes
        .iter()
        .find(|c| c.kind == dockreorder::plan::ChangeKind::Hoist)
        .expect("the hoist is reported");
    assert_eq!(c.applicability, Applicability::DisplayOnly);
    assert!(
        c.reason
            .contains("the broad copy's destination `/srv/my app/` would need quoting"),
        "{}",
        c.reason
    );
}

/// A Python project whose dependencies the requirements pin.
const PINNED_PROJECT: &[(&str, &str)] = &[
    (
        "requirements.txt",
        "flask==3.0.0 --hash=sha256:1f\nrequests==2.31.0 \\\n    --hash=sha256:94  # pinned\n",
    ),
    (
        "pyproject.toml",
        "[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"app\"\nversion = \"0.1\"\ndependencies = [\n  \"Flask>=2.2,<4\",\n  \"requests~=2.31\",\n]\n",
    ),
    ("app.py", "x\n"),
    (".dockerignore", ".git\n"),
];

#[test]
fn issue_11_pip_install_of_a_project_whose_dependencies_are_pinned_is_split() {
    // Measured with BuildKit and pip 23.0.1: the split image has the same
    // files, and the project's layer adds only the project's own files
    // (the dist-info, the editable finder, the egg-info in the project)
    // besides directory entries: nothing the requirements' layer holds.
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt && pip install --no-cache-dir -e .\n";
    let out = rewrite_at(PINNED_PROJECT, df, Applicability::Safe);
    assert_eq!(
        out.new_text,
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nRUN pip install --no-cache-dir -e .\n"
    );
    let c = out.changes.iter().find(|c| c.applied).expect("a change");
    assert!(c.reason.contains("adds only the project"), "{}", c.reason);
    let df2 = "FROM python:3.12\nWORKDIR /app\nENV PIP_NO_CACHE_DIR=1\nCOPY . .\nRUN python -m pip install -r requirements.txt && python -m pip install -e .\n";
    assert_ne!(hoisted(PINNED_PROJECT, df2), df2);
    // A regular install copies the project's modules where a pinned
    // package's files may be (a top-level `tests`), and with the cache on
    // the project's build may refresh an entry the first part wrote.
    for rest in ["python -m pip install .", "python -m pip install -e ."] {
        let df = df2
            .replace("ENV PIP_NO_CACHE_DIR=1\n", "")
            .replace("python -m pip install -e .", rest);
        assert_eq!(hoisted(PINNED_PROJECT, &df), df, "{rest}");
    }
    // An earlier pip upgrade leaves pip where the image has it.
    let df3 = df.replace(
        "WORKDIR /app\n",
        "RUN pip install --upgrade pip\nWORKDIR /app\n",
    );
    assert_ne!(hoisted(PINNED_PROJECT, &df3), df3);

    // Each of these may make the project's install replace an installed
    // package (or installs files a dependency may have), or pip may run
    // with other settings or be another pip: no split.
    let pyproject = PINNED_PROJECT[1].1;
    let with = |name: &str, text: &str| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = PINNED_PROJECT
            .iter()
            .filter(|(n, _)| *n != name)
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        v.push((name.to_string(), text.to_string()));
        v
    };
    let cases: Vec<(Vec<(String, String)>, String)> = vec![
        (
            with(
                "pyproject.toml",
                &pyproject.replace("Flask>=2.2", "Flask>=3.1"),
            ),
            df.into(),
        ),
        (
            with(
                "pyproject.toml",
                &pyproject.replace("\"requests~=2.31\",", "\"gunicorn\","),
            ),
            df.into(),
        ),
        (
            with(
                "pyproject.toml",
                &pyproject.replace("Flask>=2.2,<4", "Flask[async]>=2.2"),
            ),
            df.into(),
        ),
        (
            with(
                "pyproject.toml",
                &pyproject.replace("Flask>=2.2,<4", "Flask>=2.2; python_version>'3.8'"),
            ),
            df.into(),
        ),
        (
            with(
                "pyproject.toml",
                &format!("{pyproject}\n[project.scripts]\nflask = \"app:main\"\n"),
            ),
            df.into(),
        ),
        (
            with(
                "pyproject.toml",
                &pyproject.replace(
                    "version = \"0.1\"",
                    "dynamic = [\"dependencies\", \"version\"]",
                ),
            ),
            df.into(),
        ),
        (
            with(
                "pyproject.toml",
                &pyproject.replace("setuptools.build_meta", "poetry.core.masonry.api"),
            ),
            df.into(),
        ),
        (
            with(
                "pyproject.toml",
                &pyproject.replace("name = \"app\"", "name = \"Flask\""),
            ),
            df.into(),
        ),
        (
            with("requirements.txt", "flask>=3\nrequests==2.31.0\n"),
            df.into(),
        ),
        (
            with("requirements.txt", "-r base.txt\nrequests==2.31.0\n"),
            df.into(),
        ),
        (
            with(
                "setup.py",
                "from setuptools import setup\nsetup(install_requires=['x'])\n",
            ),
            df.into(),
        ),
        (with("pdm_build.py", "x\n"), df.into()),
        (with("app.py", "x\n"), df.replace("-e .", "-U -e .")),
        (
            with("app.py", "x\n"),
            df.replace(
                "WORKDIR /app\n",
                "WORKDIR /app\nENV PIP_UPGRADE_STRATEGY=eager\n",
            ),
        ),
        (
            with("app.py", "x\n"),
            df.replace(
                "WORKDIR /app\n",
                "WORKDIR /app\nRUN pip config set global.upgrade true\n",
            ),
        ),
        (
            with("app.py", "x\n"),
            df.replace("WORKDIR /app\n", "WORKDIR /app\nUSER 1000\n"),
        ),
        (
            with("app.py", "x\n"),
            df.replace("python:3.12-slim", "example.org/python:3.12-slim"),
        ),
        // pyproject.toml written after the copy: not what the context has.
        (
            with("app.py", "x\n"),
            df.replace("COPY . .\n", "COPY . .\nRUN sed -i s/a/b/ pyproject.toml\n"),
        ),
        // Where pip is found is no longer the image's.
        (
            with("app.py", "x\n"),
            df.replace(
                "WORKDIR /app\n",
                "RUN rm /usr/local/bin/pip\nWORKDIR /app\n",
            ),
        ),
        (
            with("app.py", "x\n"),
            df.replace("WORKDIR /app\n", "RUN ./install.sh\nWORKDIR /app\n"),
        ),
        // A pip named by its path reads its own prefix's pip.conf.
        (
            with("app.py", "x\n"),
            df.replace(
                "pip install --no-cache-dir",
                "/usr/local/bin/pip install --no-cache-dir",
            ),
        ),
        // Something after the pinned installs may change a version.
        (
            with("app.py", "x\n"),
            df.replace(
                "-r requirements.txt &&",
                "-r requirements.txt && pip install flask==2.3.3 &&",
            ),
        ),
    ];
    for (files, df) in &cases {
        assert_eq!(hoisted_owned(files, df), *df, "{files:?}\n{df}");
    }
}

#[test]
fn issue_11_splits_that_would_change_the_build_are_not_made() {
    for run in [
        // The rest removes what the install wrote: the image would grow.
        "RUN npm ci && npm run build && npm prune --omit=dev",
        "RUN npm ci && npm run build && rm -rf node_modules/.cache",
        // Shell state crosses the split.
        "RUN cd /app && cd . && npm ci && npm run build",
        "RUN export NODE_ENV=production && npm ci && npm run build",
        // A failure of the install would not stop the original.
        "RUN npm ci && npm run build || echo failed",
        // The rest reads the install's exit status.
        "RUN npm ci && test $? = 0 && npm run build",
    ] {
        let df = format!("FROM node:20\nWORKDIR /app\nCOPY . .\n{run}\n");
        let out = rewrite_at(NPM, &df, Applicability::Unsafe);
        assert_eq!(out.new_text, df, "{run}");
    }
}

#[test]
fn issue_11_an_unsafe_split_is_reported_and_applied_only_with_unsafe() {
    // `npm install` may rewrite the lock file the broad copy ships.
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install && npm run build\n";
    let out = rewrite_at(NPM, df, Applicability::Safe);
    assert_eq!(out.new_text, df);
    let c = out
        .changes
        .iter()
        .find(|c| c.split_from.is_some())
        .expect("the split hoist is reported");
    assert_eq!(c.applicability, Applicability::Unsafe);
    assert!(!c.applied);
    assert_eq!(c.line, 4);
    let out = rewrite_at(NPM, df, Applicability::Unsafe);
    assert_eq!(
        out.new_text,
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm install\nCOPY . .\nRUN npm run build\n"
    );
}

#[test]
fn issue_11_a_stage_arg_takes_the_global_default() {
    let files = &[("requirements.txt", "flask==3.0.0\n"), ("app.py", "x\n")];
    let df = "ARG APP=/srv/app\nFROM python:3.12\nARG APP\nWORKDIR $APP\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "ARG APP=/srv/app\nFROM python:3.12\nARG APP\nWORKDIR $APP\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
    );
    // Without the stage's `ARG APP` the global one is not in scope: the
    // working directory is not known, and nothing is proven.
    let df = "ARG APP=/srv/app\nFROM python:3.12\nWORKDIR $APP\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_eq!(hoisted(files, df), df);
}

#[test]
fn issue_11_a_stage_built_on_another_inherits_its_workdir_and_env() {
    let files = &[("requirements.txt", "flask==3.0.0\n"), ("app.py", "x\n")];
    let df = "FROM python:3.12 AS base\nENV HOME_DIR=/srv\nWORKDIR $HOME_DIR/app\n\nFROM base AS dev\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12 AS base\nENV HOME_DIR=/srv\nWORKDIR $HOME_DIR/app\n\nFROM base AS dev\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
    );
    // The base stage's ARGs do not carry over: its working directory from
    // an ARG is resolved there, but a later `WORKDIR $V` in the child is not.
    let df = "FROM python:3.12 AS base\nARG V=/srv\nWORKDIR /x\n\nFROM base\nWORKDIR $V\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_eq!(hoisted(files, df), df);
    // A stage from an image is not a stage of the file: it starts in the
    // image's working directory (not known for this one, so nothing moves).
    let df = "FROM python:3.12 AS base\nWORKDIR /app\n\nFROM registry.example.com/python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_eq!(hoisted(files, df), df);
}

#[test]
fn a_large_reactor_hoists_by_the_static_estimate_too() {
    // 40 module POMs change together, rarely: the static estimate used to
    // count each inserted COPY as an independent change and saw no saving.
    let names: Vec<String> = (0..40).map(|k| format!("m{k:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let root = pom(&refs, "");
    let module_poms: Vec<String> = names.iter().map(|n| format!("{n}/pom.xml")).collect();
    let mut files: Vec<(&str, &str)> = vec![("pom.xml", &root), ("m00/src/A.java", "x\n")];
    files.extend(module_poms.iter().map(|p| (p.as_str(), "<project/>\n")));
    let df =
        "FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn -B dependency:go-offline\nRUN mvn package\n";
    let out = hoisted(&files, df);
    assert!(
        out.contains("COPY m39/pom.xml ./m39/\nRUN mvn -B dependency:go-offline\nCOPY . .\n"),
        "{out}"
    );
}

const WEB_CSPROJ: &str = "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><ItemGroup><PackageReference Include=\"Serilog\" Version=\"3.1.1\" /><ProjectReference Include=\"..\\Core\\Core.csproj\" /></ItemGroup></Project>\n";

fn dotnet_files(web: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "App.sln",
            "Project(\"{FAE04EC0}\") = \"Web\", \"src\\Web\\Web.csproj\", \"{1}\"\nEndProject\nProject(\"{2150E333}\") = \"items\", \"items\", \"{2}\"\nEndProject\n",
        ),
        (
            "Directory.Build.props",
            "<Project><PropertyGroup><Nullable>enable</Nullable></PropertyGroup></Project>\n",
        ),
        (
            "nuget.config",
            "<configuration><packageSources><add key=\"org\" value=\"https://api.nuget.org/v3/index.json\" /></packageSources></configuration>\n",
        ),
        ("src/Web/Web.csproj", web),
        ("src/Web/Program.cs", "x\n"),
        (
            "src/Core/Core.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk\"></Project>\n",
        ),
        ("src/Core/Order.cs", "x\n"),
        (
            "tests/T/T.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk\"><ItemGroup><ProjectReference Include=\"..\\..\\src\\Web\\Web.csproj\" /></ItemGroup></Project>\n",
        ),
    ]
}

const DOTNET_DF: &str = "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /src\nCOPY . .\nRUN dotnet restore\nRUN dotnet publish -c Release -o /app --no-restore\n";

#[test]
fn dotnet_restore_hoists_with_the_projects_it_reaches() {
    // The solution in the working directory, its project, the project that
    // one references (backslashes), the MSBuild and NuGet files of their
    // directories and parents; not the test project nobody references.
    assert_eq!(
        hoisted(&dotnet_files(WEB_CSPROJ), DOTNET_DF),
        "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /src\nCOPY App.sln Directory.Build.props nuget.config ./\nCOPY src/Core/Core.csproj ./src/Core/\nCOPY src/Web/Web.csproj ./src/Web/\nRUN dotnet restore\nCOPY . .\nRUN dotnet publish -c Release -o /app --no-restore\n"
    );
    let df = "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /src\nCOPY . .\nRUN dotnet restore \"src/Web/Web.csproj\"\n";
    assert_eq!(
        hoisted(&dotnet_files(WEB_CSPROJ), df),
        "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /src\nCOPY Directory.Build.props nuget.config ./\nCOPY src/Core/Core.csproj ./src/Core/\nCOPY src/Web/Web.csproj ./src/Web/\nRUN dotnet restore \"src/Web/Web.csproj\"\nCOPY . .\n"
    );
}

#[test]
fn requirement_files_are_followed_through_their_includes() {
    // Django layout: prod.txt includes base.txt relative to itself, and a
    // constraint file one directory up; all three are copied first.
    let files = &[
        ("requirements/base.txt", "flask==3.0.0\n"),
        (
            "requirements/prod.txt",
            "# production\n-r base.txt\n--constraint=../constraints.txt \\\n  # trailing\ngunicorn==21.2.0  # pinned\n",
        ),
        ("constraints.txt", "werkzeug<4\n"),
        ("app.py", "x\n"),
    ];
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements/prod.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements/prod.txt requirements/base.txt ./requirements/\nCOPY constraints.txt ./\nRUN pip install -r requirements/prod.txt\nCOPY . .\n"
    );
}

#[test]
fn a_file_as_long_as_nuget_config_does_not_block_a_restore() {
    // Real-world (microservices-demo cartservice): restore reads
    // `[Nn][Uu][Gg][Ee][Tt].[Cc][Oo][Nn][Ff][Ii][Gg]` in every directory up
    // to the root; the classes were taken as any character, so
    // `build.gradle` (12 characters, a dot in sixth place) was a source the
    // restore read, and the hoist was dropped without a word.
    let mut files = dotnet_files(WEB_CSPROJ);
    files.push(("build.gradle", "x\n"));
    files.push(("src/Web/wwwroot.json", "x\n"));
    let df = "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /src\nCOPY . .\nRUN dotnet restore \"src/Web/Web.csproj\"\n";
    assert_eq!(
        hoisted(&files, df),
        "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /src\nCOPY Directory.Build.props nuget.config ./\nCOPY src/Core/Core.csproj ./src/Core/\nCOPY src/Web/Web.csproj ./src/Web/\nRUN dotnet restore \"src/Web/Web.csproj\"\nCOPY . .\n"
    );
    // A differently cased NuGet.Config is still one it reads, and copied.
    let mut files = dotnet_files(WEB_CSPROJ);
    files.push(("src/Web/NUGET.CONFIG", "<configuration></configuration>\n"));
    assert!(
        hoisted(&files, df).contains("COPY src/Web/NUGET.CONFIG src/Web/Web.csproj ./src/Web/\n"),
        "{}",
        hoisted(&files, df)
    );
}

#[test]
fn dotnet_restore_stays_when_its_projects_read_more_than_the_model_follows() {
    // Each of these makes restore read files the hoist would not copy: a
    // reference outside the context's projects, a reference through a
    // property, an import, a file test, a local package source.
    let cases: &[(&str, &str)] = &[
        (
            "src/Web/Web.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><ItemGroup><ProjectReference Include=\"..\\Missing\\Missing.csproj\" /></ItemGroup></Project>\n",
        ),
        (
            "src/Web/Web.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><ItemGroup><ProjectReference Include=\"$(SrcRoot)Core\\Core.csproj\" /></ItemGroup></Project>\n",
        ),
        (
            "src/Web/Web.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><Import Project=\"..\\..\\build\\common.props\" /></Project>\n",
        ),
        (
            "Directory.Build.props",
            "<Project><Import Project=\"build/versions.props\" /></Project>\n",
        ),
        (
            "Directory.Build.props",
            "<Project><PropertyGroup Condition=\"Exists('local.props')\"><X>1</X></PropertyGroup></Project>\n",
        ),
        (
            "nuget.config",
            "<configuration><packageSources><add key=\"local\" value=\"./packages\" /></packageSources></configuration>\n",
        ),
        (
            "Directory.Build.props",
            "<Project><PropertyGroup><V>$([System.IO.File]::ReadAllText('version.txt'))</V></PropertyGroup></Project>\n",
        ),
        (
            "src/Web/Web.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><PropertyGroup><BaseIntermediateOutputPath>../../artifacts/obj/</BaseIntermediateOutputPath></PropertyGroup></Project>\n",
        ),
    ];
    for (path, text) in cases {
        let mut files = dotnet_files(WEB_CSPROJ);
        files.retain(|(p, _)| p != path);
        files.push((path, text));
        files.push(("build/common.props", "<Project/>\n"));
        files.push(("build/versions.props", "<Project/>\n"));
        assert_eq!(hoisted(&files, DOTNET_DF), DOTNET_DF, "{path}: {text}");
    }
    // Built output shipped with the sources (restore reads obj/), and a
    // project edited between the copy and the restore: nothing moves.
    let mut files = dotnet_files(WEB_CSPROJ);
    files.push(("src/Web/obj/project.assets.json", "{}\n"));
    assert_eq!(hoisted(&files, DOTNET_DF), DOTNET_DF);
    let df = "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /src\nCOPY . .\nRUN sed -i 's/net6.0/net8.0/' src/Core/Core.csproj\nRUN dotnet restore\n";
    assert_eq!(hoisted(&dotnet_files(WEB_CSPROJ), df), df);
}

#[test]
fn dotnet_restore_hoists_past_pure_property_functions() {
    // `$([MSBuild]::IsOSPlatform(...))` reads no file (simplcommerce's
    // modules use it): the hoist stays Safe.
    let mut files = dotnet_files(WEB_CSPROJ);
    files.retain(|(p, _)| *p != "src/Core/Core.csproj");
    files.push((
        "src/Core/Core.csproj",
        "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><F Condition=\"$([MSBuild]::IsOSPlatform('Linux'))\">x.so</F></PropertyGroup></Project>\n",
    ));
    assert!(hoisted(&files, DOTNET_DF).contains("RUN dotnet restore\nCOPY . ."));
}

#[test]
fn dotnet_restore_with_a_lock_file_is_safe_only_in_locked_mode() {
    let mut files = dotnet_files(WEB_CSPROJ);
    files.push(("src/Web/packages.lock.json", "{}\n"));
    // Restore may rewrite the lock file, which the copy would then put back.
    assert_eq!(hoisted(&files, DOTNET_DF), DOTNET_DF);
    let df = DOTNET_DF.replace("dotnet restore", "dotnet restore --locked-mode");
    let out = hoisted(&files, &df);
    assert!(
        out.contains("COPY src/Web/Web.csproj src/Web/packages.lock.json ./src/Web/\nRUN dotnet restore --locked-mode\nCOPY . ."),
        "{out}"
    );
}

fn gradle_files(settings: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("settings.gradle", settings),
        ("build.gradle", "plugins { id 'java' }\n"),
        ("gradle.properties", "v=1\n"),
        ("gradle/libs.versions.toml", "[versions]\n"),
        ("gradlew", "#!/bin/sh\n"),
        (
            "buildSrc/build.gradle",
            "plugins { id 'groovy-gradle-plugin' }\n",
        ),
        (
            "buildSrc/src/main/groovy/conv.gradle",
            "plugins { id 'java' }\n",
        ),
        (
            "app/build.gradle",
            "dependencies { implementation project(':lib:core') }\n",
        ),
        ("app/src/A.java", "x\n"),
        (
            "lib/core/build.gradle.kts",
            "dependencies { api(\"a:b:1\") }\n",
        ),
        ("lib/core/gradle.properties", "w=2\n"),
        ("lib/core/src/B.java", "x\n"),
    ]
}

const GRADLE_DF: &str = "FROM gradle:8-jdk21\nWORKDIR /app\nCOPY . .\nRUN ./gradlew dependencies --no-daemon\nRUN ./gradlew build --no-daemon\n";

#[test]
fn gradle_hoists_with_every_included_project_and_the_build_logic() {
    // Literal includes (`:lib:core` is lib/core), each project's build file
    // and gradle.properties, gradle/ (version catalog), the wrapper script
    // and buildSrc/ (code Gradle compiles before it configures).
    let files = gradle_files(
        "rootProject.name = 'x'\ninclude 'app'\ninclude(\":lib:core\") // the library\n",
    );
    assert_eq!(
        hoisted(&files, GRADLE_DF),
        "FROM gradle:8-jdk21\nWORKDIR /app\nCOPY build.gradle settings.gradle gradle.properties gradlew ./\nCOPY app/build.gradle ./app/\nCOPY buildSrc/build.gradle ./buildSrc/\nCOPY buildSrc/src/main/groovy/conv.gradle ./buildSrc/src/main/groovy/\nCOPY gradle/libs.versions.toml ./gradle/\nCOPY lib/core/build.gradle.kts lib/core/gradle.properties ./lib/core/\nRUN ./gradlew dependencies --no-daemon\nCOPY . .\nRUN ./gradlew build --no-daemon\n"
    );
}

#[test]
fn gradle_stays_when_the_projects_cannot_be_listed() {
    // Computed includes, another build, a moved project, a script applied
    // from a file, a file read at configuration: the build files the hoist
    // would copy are not known, so nothing moves.
    for settings in [
        "file('modules').eachDir { include it.name }\n",
        "['app', 'lib:core'].each { include it }\n",
        "include modules\n",
        "include 'app'\nincludeBuild 'plugins'\n",
        "include 'app'\nproject(':app').projectDir = file('application')\n",
        "include 'app'\napply from: 'gradle/more.gradle'\n",
    ] {
        let files = gradle_files(settings);
        assert_eq!(hoisted(&files, GRADLE_DF), GRADLE_DF, "{settings}");
    }
    let mut files = gradle_files("include 'app'\n");
    files.retain(|(p, _)| *p != "app/build.gradle");
    files.push((
        "app/build.gradle",
        "version = file('VERSION').text.trim()\n",
    ));
    assert_eq!(hoisted(&files, GRADLE_DF), GRADLE_DF);
}

const GEMSPEC: &str = "# frozen_string_literal: true\n\nrequire_relative \"lib/shop/version\"\n\nGem::Specification.new do |spec|\n  spec.name = \"shop\"\n  spec.version = Shop::VERSION\n  spec.authors = [\"A\", \"B\"] # the team\n  spec.files = Dir[\"lib/**/*.rb\"]\n  spec.metadata = {\n    \"rubygems_mfa_required\" => \"true\"\n  }\n  spec.add_dependency \"rack\", \"~> 3.0\"\nend\n";

fn gem_files(gemspec: &str) -> Vec<(&str, &str)> {
    vec![
        (
            "Gemfile",
            "source \"https://rubygems.org\"\ngemspec\ngem \"rake\"\n",
        ),
        (
            "Gemfile.lock",
            "PATH\n  remote: .\n  specs:\n    shop (1.0.0)\n",
        ),
        ("shop.gemspec", gemspec),
        (
            "lib/shop/version.rb",
            "module Shop\n  VERSION = \"1.0.0\"\nend\n",
        ),
        ("lib/shop.rb", "x\n"),
        ("exe/shop", "x\n"),
        ("VERSION", "1.0.0\n"),
    ]
}

const GEM_DF: &str =
    "FROM ruby:3.3\nENV BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY . .\nRUN bundle install\n";

/// The hoist of the install in `df` with `--unsafe`: its applicability and
/// summary.
fn bundle_hoist(files: &[(&str, &str)], df: &str) -> (Applicability, String) {
    let dir = crate::support::project(files);
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    let out =
        rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Unsafe)).expect("rewrite");
    let c = out
        .changes
        .iter()
        .find(|c| c.summary.contains("bundle install"))
        .expect("the install is examined");
    (c.applicability, c.summary.clone())
}

#[test]
fn a_gemspec_the_model_understands_hoists_with_the_files_it_requires() {
    assert_eq!(
        hoisted(&gem_files(GEMSPEC), GEM_DF),
        "FROM ruby:3.3\nENV BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY Gemfile Gemfile.lock shop.gemspec ./\nCOPY lib/shop/version.rb ./lib/shop/\nRUN bundle install\nCOPY . .\n"
    );
    // `$LOAD_PATH` with lib, then `require "shop/version"`, and executables
    // listed literally (Bundler writes a binstub for each existing one):
    // their files are copied too.
    let spec = "lib = File.expand_path(\"lib\", __dir__)\n$LOAD_PATH.unshift(lib) unless $LOAD_PATH.include?(lib)\nrequire \"shop/version\"\nGem::Specification.new do |s|\n  s.name = \"shop\"\n  s.version = Shop::VERSION\n  s.bindir = \"exe\"\n  s.executables = [\"shop\"]\nend\n";
    let (app, summary) = bundle_hoist(&gem_files(spec), GEM_DF);
    assert_eq!(app, Applicability::Safe, "{summary}");
    for f in ["`lib/shop/version.rb`", "`exe/shop`", "`shop.gemspec`"] {
        assert!(summary.contains(f), "{f} in {summary}");
    }
}

#[test]
fn a_gemspec_that_reads_other_files_is_not_safe_but_copies_what_it_likely_needs() {
    // Each gemspec makes bundle install read or write beyond what the model
    // follows: a file read, executables computed from the sources, a
    // required file the context does not hold, a native extension.
    for spec in [
        GEMSPEC.replace("Shop::VERSION", "File.read(\"VERSION\").strip"),
        GEMSPEC.replace(
            "  spec.files",
            "  spec.executables = spec.files.grep(%r{^exe/}) { |f| File.basename(f) }\n  spec.files",
        ),
        GEMSPEC.replace("lib/shop/version", "lib/shop/missing"),
        GEMSPEC.replace("  spec.files", "  spec.extensions = [\"ext/shop/extconf.rb\"]\n  spec.files"),
    ] {
        let files = gem_files(&spec);
        assert_eq!(hoisted(&files, GEM_DF), GEM_DF, "{spec}");
        let (app, summary) = bundle_hoist(&files, GEM_DF);
        assert_eq!(app, Applicability::Unsafe, "{spec}");
        assert!(summary.contains("`shop.gemspec`"), "{summary}");
    }
    // A Gemfile that loads the gemspec itself (fat_free_crm's shape) and a
    // gemspec that is not Ruby the model reads: Unsafe, with the gemspec and
    // the version file gems conventionally require.
    let mut files = gem_files("opaque bytes\n");
    files[0] = (
        "Gemfile",
        "source 'https://rubygems.org'\nspec = Bundler.load_gemspec(File.expand_path('shop.gemspec', __dir__))\ngem 'rake'\n",
    );
    let (app, summary) = bundle_hoist(&files, GEM_DF);
    assert_eq!(app, Applicability::Unsafe);
    for f in [
        "`Gemfile`",
        "`Gemfile.lock`",
        "`shop.gemspec`",
        "`lib/shop/version.rb`",
    ] {
        assert!(summary.contains(f), "{f} in {summary}");
    }
}

#[test]
fn issue_11_the_same_compound_run_twice_is_rewritten_without_error() {
    // Two candidate splits with the same install in a stage, or the same
    // `RUN` in two stages of which only one is hoisted: the rewrite used
    // to be refused ("the rewritten file has 8 instructions", "a split
    // `RUN` is not one the planner would split").
    let npm = [
        NPM[1],
        (
            "package.json",
            "{\"name\":\"a\",\"scripts\":{\"build\":\"tsc\",\"test\":\"jest\"},\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
    ];
    for df in [
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nRUN npm ci && npm test\n",
        "FROM node:20 AS a\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n\nFROM node:20 AS b\nWORKDIR /app\nCOPY . .\nRUN sed -i s/a/b/ package.json\nRUN npm ci && npm run build\n",
    ] {
        let dir = crate::support::project(&npm);
        let ctx = Context::new(
            dir.path().to_path_buf(),
            Some(&dir.path().join("Dockerfile")),
        );
        let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe));
        assert!(out.is_ok(), "{df}: {:?}", out.err());
    }
}

#[test]
fn an_application_below_a_home_directory_is_hoisted() {
    // `/home/node/app` is below a home, not one of its dot entries: the
    // installs read a home's settings (`~/.npmrc`, `~/.config/pip`), not
    // an application there. Shipping into the dot entries, `~/go` or the
    // home itself still blocks.
    let df = "FROM node:20\nWORKDIR /home/node/app\nCOPY . .\nRUN npm ci\n";
    assert_eq!(
        rewrite_at(NPM, df, Applicability::Safe).new_text,
        "FROM node:20\nWORKDIR /home/node/app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n"
    );
    let files = &[
        ("requirements.txt", "flask\n"),
        (
            ".config/pip/pip.conf",
            "[global]\nindex-url = http://mirror\n",
        ),
    ];
    // The home is the user's, from /etc/passwd: `/root` for root (no
    // `USER` on an official image), `/home/NAME` for `USER NAME`, any
    // `/home/*` for a numeric user.
    for (user, wd) in [
        ("", "/root"),
        ("USER root\n", "/root"),
        ("RUN useradd -m app\nUSER app\n", "/home/app"),
        ("USER app\n", "/home/app"),
        ("USER web\n", "/home/app"),
        ("USER 1000\n", "/home/app"),
        ("USER $U\n", "/home/app"),
    ] {
        let df = format!(
            "FROM python:3.12\n{user}WORKDIR {wd}\nCOPY . .\nRUN pip install -r requirements.txt\n"
        );
        assert_eq!(hoisted(files, &df), df, "{user}{wd}");
    }
    // Another user's home is not read: root's is `/root`, that of a user
    // a parsed `useradd` made is the one it gave. (A user of the base
    // image, `web` above, may have any `/home/*`.)
    for (from, user) in [
        ("FROM python:3.12\n", ""),
        ("FROM python:3.12\n", "USER 0:0\n"),
        ("FROM python:3.12\n", "RUN useradd -m web\nUSER web\n"),
        (
            "FROM python:3.12\n",
            "RUN groupadd -r web && useradd -r -g web -d /srv/web web\nUSER web\n",
        ),
        ("FROM python:3.12 AS base\nUSER root\nFROM base\n", ""),
    ] {
        let df = format!(
            "{from}{user}WORKDIR /home/app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        );
        assert_eq!(
            hoisted(files, &df),
            format!(
                "{from}{user}WORKDIR /home/app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
            ),
            "{from}{user}"
        );
    }
    // A base that is not an official image may set any user; so may a
    // stage built on one.
    for from in [
        "FROM example/python\n",
        "FROM example/python AS base\nFROM base\n",
    ] {
        let df =
            format!("{from}WORKDIR /home/app\nCOPY . .\nRUN pip install -r requirements.txt\n");
        assert_eq!(hoisted(files, &df), df, "{from}");
    }
    let files = &[
        ("go.mod", "module x\n"),
        ("go.sum", "\n"),
        ("go/pkg/mod/x", "y\n"),
    ];
    let df = "FROM golang:1.22\nWORKDIR /root\nCOPY . .\nRUN go mod download\n";
    assert_eq!(hoisted(files, df), df);
}

const LABELLED: &[(&str, &str)] = &[
    ("go.mod", "module shop\n"),
    ("go.sum", "\n"),
    ("main.go", "package main\n"),
];

#[test]
fn issue_11_per_build_args_move_below_the_installs() {
    // The label-schema shape: build date and commit declared on top, used
    // by a LABEL at the end. Every build passes new values, and BuildKit
    // puts every declared ARG in the environment of the RUNs after it: the
    // install reran on every build. It does not read them (apt-get honours
    // its own variables only), so it moves above them.
    let df = "FROM debian\n# Set by CI.\nARG BUILD_DATE\nARG VCS_REF\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\nLABEL org.opencontainers.image.created=$BUILD_DATE org.opencontainers.image.revision=$VCS_REF\n";
    let out = rewrite_at(LABELLED, df, Applicability::Safe);
    assert_eq!(
        out.new_text,
        "FROM debian\nRUN apt-get update && apt-get install -y curl\n# Set by CI.\nARG BUILD_DATE\nARG VCS_REF\nCOPY . /app\nLABEL org.opencontainers.image.created=$BUILD_DATE org.opencontainers.image.revision=$VCS_REF\n"
    );
    let c = out.changes.iter().find(|c| c.applied).expect("a change");
    assert!(
        c.reason.contains(
            "`ARG BUILD_DATE`, `ARG VCS_REF` are assumed to take a new value on every build"
        ),
        "{}",
        c.reason
    );
    // A cache buster with a default, a global default taken over by the
    // stage, a download-only fetch: the same. A RUN that reads the
    // variable (by name, or because it may read any) stays after it.
    let cases = [
        (
            "FROM debian\nARG CACHEBUST=1\nRUN apt-get install -y curl\nRUN echo $CACHEBUST > /etc/build\n",
            "FROM debian\nRUN apt-get install -y curl\nARG CACHEBUST=1\nRUN echo $CACHEBUST > /etc/build\n",
        ),
        (
            "ARG GIT_SHA=dev\nFROM debian\nARG GIT_SHA\nRUN apt-get install -y curl\nLABEL revision=$GIT_SHA\n",
            "ARG GIT_SHA=dev\nFROM debian\nRUN apt-get install -y curl\nARG GIT_SHA\nLABEL revision=$GIT_SHA\n",
        ),
        (
            "FROM golang\nARG BUILD_DATE\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nLABEL built=$BUILD_DATE\n",
            "FROM golang\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nARG BUILD_DATE\nLABEL built=$BUILD_DATE\n",
        ),
        // apk honours BUILD* (abuild's variables), not VCS_REF.
        (
            "FROM alpine\nARG VCS_REF\nRUN apk add --no-cache curl\nLABEL revision=$VCS_REF\n",
            "FROM alpine\nRUN apk add --no-cache curl\nARG VCS_REF\nLABEL revision=$VCS_REF\n",
        ),
    ];
    for (df, want) in cases {
        assert_eq!(hoisted(LABELLED, df), want, "{df}");
    }
}

#[test]
fn issue_11_a_per_build_arg_does_not_cancel_other_hoists() {
    // pip may read BUILD_DATE: the ARG stays above it, and with the ARG
    // changing on every build the install reruns anyway. The hoist is
    // still made (it is weighed without that assumption: a build that
    // passes no new value gains from it), as before the assumption was
    // made.
    let files = &[("requirements.txt", "flask==3.0.0\n"), ("app.py", "x\n")];
    let df = "FROM python\nARG BUILD_DATE\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nLABEL built=$BUILD_DATE\n";
    let out = rewrite_at(files, df, Applicability::Safe);
    assert_eq!(
        out.new_text,
        "FROM python\nARG BUILD_DATE\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nLABEL built=$BUILD_DATE\n"
    );
    assert!(!out.per_build_assumed);
    // Both: the system install passes the ARG, the pip install is hoisted.
    let df = "FROM python\nARG BUILD_DATE\nRUN apt-get update && apt-get install -y gcc\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nLABEL built=$BUILD_DATE\n";
    let out = rewrite_at(files, df, Applicability::Safe);
    assert_eq!(
        out.new_text,
        "FROM python\nRUN apt-get update && apt-get install -y gcc\nARG BUILD_DATE\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nLABEL built=$BUILD_DATE\n"
    );
    assert!(out.per_build_assumed);
}

/// A Ruby application shipped into its home with the project's dotfiles
/// (`ENV HOME /home/app`, `WORKDIR $HOME`, `ADD . $HOME`: fat_free_crm's
/// layout).
const RUBY_HOME: &[(&str, &str)] = &[
    ("Gemfile", "source \"https://rubygems.org\"\ngem \"rack\"\n"),
    (
        "Gemfile.lock",
        "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (3.0.9)\n\nDEPENDENCIES\n  rack\n",
    ),
    ("app.rb", "puts 1\n"),
    ("config/database.docker.yml", "production: {}\n"),
    (".rspec", "--require spec_helper\n"),
    (".rubocop.yml", "AllCops: {}\n"),
    (".ruby-version", "3.3.0\n"),
    (".github/workflows/ci.yml", "on: push\n"),
    (".devcontainer/devcontainer.json", "{}\n"),
];

const RUBY_HOME_DF: &str = "FROM ruby:3.3\nENV HOME /home/app\nWORKDIR $HOME\nADD . $HOME\nRUN cp config/database.docker.yml config/database.yml\nRUN gem install bundler && bundle config set --local deployment 'true' && bundle install\n";

#[test]
fn issue_11_an_install_in_a_home_with_project_dotfiles_is_hoisted() {
    // The project's dotfiles (.rspec, .rubocop.yml, .github/) land in the
    // home, where bundler and RubyGems read only their own entries
    // (~/.bundle, ~/.gemrc, ~/.gem and the XDG folders): they no longer
    // block. `bundle config set --local deployment true` makes the install
    // keep Gemfile.lock as it is.
    assert_eq!(
        hoisted(RUBY_HOME, RUBY_HOME_DF),
        "FROM ruby:3.3\nENV HOME /home/app\nWORKDIR $HOME\nCOPY Gemfile Gemfile.lock $HOME/\nRUN gem install bundler && bundle config set --local deployment 'true' && bundle install\nADD . $HOME\nRUN cp config/database.docker.yml config/database.yml\n"
    );
    // Without deployment mode the install may rewrite Gemfile.lock.
    let df = RUBY_HOME_DF.replace("bundle config set --local deployment 'true' && ", "");
    let out = rewrite_at(RUBY_HOME, &df, Applicability::Safe);
    assert_eq!(out.new_text, df);
    assert!(
        out.changes
            .iter()
            .any(|c| c.reason.contains("may rewrite `Gemfile.lock`")),
        "{:?}",
        out.changes
    );
    // Gradle in the Gradle image's home, npm in node's.
    let mut files = gradle_files("include 'app'\n");
    files.extend([
        (".editorconfig", "root = true\n"),
        (".gitattributes", "* text\n"),
    ]);
    let df = GRADLE_DF.replace("WORKDIR /app", "WORKDIR /home/gradle");
    assert!(
        hoisted(&files, &df).contains("RUN ./gradlew dependencies --no-daemon\nCOPY . .\n"),
        "{}",
        hoisted(&files, &df)
    );
    let mut files = NPM.to_vec();
    files.push((".eslintrc.json", "{}\n"));
    let df = "FROM node:20\nWORKDIR /home/node\nCOPY . .\nRUN npm ci\n";
    assert_eq!(
        hoisted(&files, df),
        "FROM node:20\nWORKDIR /home/node\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n"
    );
}

#[test]
fn issue_11_a_shipped_repository_makes_the_home_install_unsafe() {
    // fat_free_crm has no .dockerignore: `.git` lands in the home, which is
    // the working directory, and git run by bundler (git sources, a
    // gemspec's `git ls-files`) finds it there. The hoist is proposed as
    // Unsafe, with the .dockerignore line that makes it safe.
    let mut files = RUBY_HOME.to_vec();
    files.push((".git/HEAD", "ref: refs/heads/main\n"));
    let out = rewrite_at(&files, RUBY_HOME_DF, Applicability::Safe);
    assert_eq!(out.new_text, RUBY_HOME_DF);
    let c = out
        .changes
        .iter()
        .find(|c| c.subject.starts_with("RUN gem install bundler"))
        .expect("an Unsafe proposal");
    assert_eq!(c.applicability, Applicability::Unsafe);
    assert!(
        c.reason
            .contains("adding `.git` to .dockerignore would make it safe"),
        "{}",
        c.reason
    );
    assert_eq!(
        rewrite_at(&files, RUBY_HOME_DF, Applicability::Unsafe).new_text,
        hoisted(RUBY_HOME, RUBY_HOME_DF)
    );
    files.push((".dockerignore", ".git\n"));
    assert_eq!(
        hoisted(&files, RUBY_HOME_DF),
        hoisted(RUBY_HOME, RUBY_HOME_DF)
    );
}

#[test]
fn issue_11_a_gemfile_ruby_file_line_copies_the_version_file() {
    // `ruby file: ".ruby-version"` (Bundler 2.4.20+) reads the file: the
    // hoist copies it with the Gemfile, or the install fails.
    let files = &[
        (
            "Gemfile",
            "source \"https://rubygems.org\"\nruby file: \".ruby-version\"\ngem \"rack\"\n",
        ),
        ("Gemfile.lock", "GEM\n"),
        (".ruby-version", "3.3.0\n"),
        ("app.rb", "x\n"),
    ];
    let df = "FROM ruby:3.3\nENV BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY . .\nRUN bundle install\n";
    assert_eq!(
        hoisted(files, df),
        "FROM ruby:3.3\nENV BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY Gemfile Gemfile.lock .ruby-version ./\nRUN bundle install\nCOPY . .\n"
    );
}

#[test]
fn the_unsafe_reason_names_the_flag_of_the_tool_that_keeps_the_lock_file() {
    // Each hint is checked: following it makes the same hoist Safe.
    let files = &[
        ("Gemfile", "source 'https://rubygems.org'\ngem 'rack'\n"),
        ("Gemfile.lock", "GEM\n  specs:\n"),
        ("package.json", "{\"name\":\"a\",\"version\":\"1.0.0\"}"),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("yarn.lock", "\n"),
        ("app.rb", "x\n"),
    ];
    for (install, hint, fixed) in [
        (
            "RUN bundle install",
            "`ENV BUNDLE_FROZEN=true`, `bundle config set frozen true` or `bundle install --deployment`",
            "ENV BUNDLE_FROZEN=true\nRUN bundle install",
        ),
        (
            "RUN bundle install",
            "`ENV BUNDLE_FROZEN=true`, `bundle config set frozen true` or `bundle install --deployment`",
            "RUN bundle config set frozen true && bundle install",
        ),
        (
            "RUN bundle install",
            "`ENV BUNDLE_FROZEN=true`, `bundle config set frozen true` or `bundle install --deployment`",
            "RUN bundle install --deployment",
        ),
        (
            "RUN npm install",
            "`npm ci` instead of `npm install`",
            "RUN npm ci",
        ),
        (
            "RUN yarn install",
            "`yarn install --frozen-lockfile`",
            "RUN yarn install --frozen-lockfile",
        ),
    ] {
        // npm rewrites a yarn.lock beside its own lock: none for npm.
        let files: Vec<(&str, &str)> = files
            .iter()
            .copied()
            .filter(|(n, _)| !(install.contains("npm") && *n == "yarn.lock"))
            .collect();
        let files = files.as_slice();
        let df = format!("FROM base\nWORKDIR /app\nCOPY . .\n{install}\n");
        let out = rewrite_at(files, &df, Applicability::Safe);
        assert_eq!(out.new_text, df);
        let c = out
            .changes
            .iter()
            .find(|c| c.kind == dockreorder::plan::ChangeKind::Hoist)
            .expect("reported");
        assert!(c.reason.contains(hint), "{}", c.reason);
        let df = format!("FROM base\nWORKDIR /app\nCOPY . .\n{fixed}\n");
        let out = rewrite_at(files, &df, Applicability::Safe);
        assert_ne!(
            out.new_text, df,
            "following the hint for {install} makes it safe"
        );
    }
}

/// The manifests are already copied (`COPY requirements.txt .`), but the
/// install comes after the broad copy: it moves above the broad copy and no
/// second COPY of the same files is inserted (the earlier one put the same
/// context file at the same place with the same flags).
#[test]
fn an_install_whose_manifests_are_already_copied_moves_without_a_second_copy() {
    let files = &[
        ("requirements.txt", "flask==3.0.0\n"),
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("app.py", "x\n"),
    ];
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
    );
    // A glob that matches the manifests counts (BuildKit matches it
    // against the context).
    let df = "FROM node:20\nWORKDIR /usr/src/app\nCOPY package*.json ./\nCOPY . .\nRUN npm ci --omit=dev\nCMD [\"node\", \"app.py\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nWORKDIR /usr/src/app\nCOPY package*.json ./\nRUN npm ci --omit=dev\nCOPY . .\nCMD [\"node\", \"app.py\"]\n"
    );
    // Only some of them copied: the others are inserted.
    let df = "FROM node:20\nWORKDIR /usr/src/app\nCOPY package.json ./\nCOPY . .\nRUN npm ci --omit=dev\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nWORKDIR /usr/src/app\nCOPY package.json ./\nCOPY package-lock.json ./\nRUN npm ci --omit=dev\nCOPY . .\n"
    );
    // An earlier broad copy is not such a COPY: it is a broad copy of its
    // own, and the rewrite stays one a second round cannot move further
    // (found by the build fuzzer, seed 8: the rewrite was refused).
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY ./ /app/\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12\nWORKDIR /app\nCOPY ./ /app/\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
    );
    // Different flags (owner), a rewrite in between, or another place: the
    // earlier COPY does not stand for the inserted one.
    for df in [
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nCOPY --chown=1000:1000 . .\nRUN pip install -r requirements.txt\n",
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nRUN sed -i s/flask/django/ requirements.txt\nCOPY . .\nRUN pip install -r requirements.txt\n",
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt /tmp/\nCOPY . .\nRUN pip install -r requirements.txt\n",
    ] {
        let out = hoisted(files, df);
        let copies = out.matches("COPY requirements.txt").count()
            + out
                .matches("COPY --chown=1000:1000 requirements.txt")
                .count();
        assert!(
            out == df || copies == 2,
            "the earlier COPY does not make the inserted one redundant:\n{out}"
        );
        assert!(
            !out.contains("COPY requirements.txt .\nRUN pip install") || out == df,
            "{out}"
        );
    }
}

/// `go mod verify` reads the module graph and the module cache, no source:
/// `go mod download && go mod verify` moves whole (before, only the
/// download was split off and the verify stayed below the copy).
#[test]
fn go_mod_download_and_verify_move_together() {
    let files = &[
        ("go.mod", "module example.com/x\n\ngo 1.22\n"),
        ("go.sum", ""),
        ("main.go", "package main\n"),
    ];
    let df = "FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go mod download && go mod verify\nRUN go build -o app .\n";
    assert_eq!(
        hoisted(files, df),
        "FROM golang:1.22\nWORKDIR /app\nCOPY go.mod go.sum ./\nRUN go mod download && go mod verify\nCOPY . .\nRUN go build -o app .\n"
    );
}

/// Issue 11, capability 9: what the install writes over files the broad
/// copy ships does not block the hoist when a later `RUN` of the stage,
/// as root, deletes them before any instruction reads or writes them:
/// both versions are gone from the stage's filesystem.
#[test]
fn issue_11_writes_deleted_later_in_the_stage_do_not_block_the_hoist() {
    let files = &[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("node_modules/ms/index.js", "x\n"),
        ("index.js", "x\n"),
    ];
    let safe = |df: &str| rewrite_at(files, df, Applicability::Safe);
    // The shipped node_modules is what npm ci rewrites; the build's
    // output is copied out and node_modules deleted right after.
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN rm -rf node_modules /tmp/x\nCMD [\"node\", \"index.js\"]\n";
    let out = safe(df);
    assert_eq!(
        out.new_text,
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN rm -rf node_modules /tmp/x\nCMD [\"node\", \"index.js\"]\n"
    );
    let c = out
        .changes
        .iter()
        .find(|c| c.applied)
        .expect("the hoist is applied");
    assert!(
        c.reason.contains("deleted by") && c.reason.contains("line 5"),
        "the reason says why the overwritten files do not matter: {}",
        c.reason
    );
    // Each of these keeps it from being Safe: a reader before the delete,
    // a delete that may not run (`||`), a partial delete (a file inside),
    // a delete as another user (permissions may differ), a delete through
    // a variable, an unknown base image (its user may not be root).
    for df in [
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nRUN rm -rf node_modules\n",
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN test -d x || rm -rf node_modules\n",
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN rm -rf node_modules/ms/index.js\n",
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nRUN rm -rf node_modules\n",
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN rm -rf $NM\n",
        "FROM example.com/node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN rm -rf node_modules\n",
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN cat node_modules/ms/index.js && rm -rf node_modules\n",
    ] {
        assert_eq!(safe(df).new_text, df, "not Safe:\n{df}");
    }
    // `USER root` before the delete is root again; `cd` is followed.
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nUSER root\nRUN cd /app && rm -rf ./node_modules\n";
    assert_ne!(safe(df).new_text, df);
}

/// Issue 11, capability 9, second part: a builder stage whose overwritten
/// files no later instruction uses and no later stage takes. DESIGN.md
/// section 4 asks every stage to stay the same (`--target` builds one), so
/// the hoist stays Unsafe, and its reason says that only such a build
/// would differ. A stage that a later one copies the files from, or the
/// last stage, gets no such words.
#[test]
fn issue_11_a_builder_stage_whose_overwritten_files_are_not_taken_says_so() {
    let files = &[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("node_modules/ms/index.js", "x\n"),
        ("index.js", "x\n"),
    ];
    let unsafe_reason = |df: &str| {
        let out = rewrite_at(files, df, Applicability::Safe);
        assert_eq!(out.new_text, df, "not applied without --unsafe");
        out.changes
            .iter()
            .find(|c| c.kind == dockreorder::plan::ChangeKind::Hoist)
            .map(|c| (c.applicability, c.reason.clone()))
            .expect("the hoist is proposed")
    };
    let df = "FROM node:20 AS deps\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN echo built > /out.txt\nFROM node:20\nCOPY --from=deps /out.txt /out.txt\n";
    let (a, why) = unsafe_reason(df);
    assert_eq!(a, Applicability::Unsafe);
    assert!(
        why.contains("only a build of stage `deps` on its own"),
        "{why}"
    );
    for df in [
        // a later stage takes node_modules
        "FROM node:20 AS deps\nWORKDIR /app\nCOPY . .\nRUN npm ci\nFROM node:20\nCOPY --from=deps /app/node_modules /app/node_modules\n",
        // a later stage is built on it
        "FROM node:20 AS deps\nWORKDIR /app\nCOPY . .\nRUN npm ci\nFROM deps\nRUN true\n",
        // the last stage
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        // a later instruction of the stage reads it
        "FROM node:20 AS deps\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nFROM node:20\nCOPY --from=deps /app/dist /dist\n",
    ] {
        let (a, why) = unsafe_reason(df);
        assert_eq!(a, Applicability::Unsafe, "{df}");
        assert!(!why.contains("only a build of stage"), "{df}\n{why}");
    }
}

/// A shipped `.git` does not matter to `npm ci` when its lock file names
/// no git dependency and no package with an install script: npm then runs
/// no git and no code of a package (husky 4's install script, say, writes
/// hooks into the repository it finds). The hoist is Safe; with either in
/// the lock (or a lock without that information, version 1) it stays
/// Unsafe and says why.
#[test]
fn npm_ci_with_a_plain_lock_does_not_care_about_a_shipped_repository() {
    let lock = |extra: &str| {
        format!(
            "{{\"name\":\"a\",\"lockfileVersion\":3,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"ms\":\"2.1.3\"}}}},\"node_modules/ms\":{{\"version\":\"2.1.3\",\"resolved\":\"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\"{extra}}}}}}}"
        )
    };
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n";
    let run = |lock_text: &str| {
        let files = [
            (
                "package.json",
                "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
            ),
            ("package-lock.json", lock_text),
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("index.js", "x\n"),
        ];
        proposed_hoist(&files, df)
    };
    let (text, a, why) = run(&lock(""));
    assert_eq!(a, Applicability::Safe, "{why}");
    assert_eq!(
        text,
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"index.js\"]\n"
    );
    for bad in [
        lock(",\"hasInstallScript\":true"),
        lock("").replace(
            "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
            "git+ssh://git@github.com/vercel/ms.git#1304f150b38027e0f8e9ea85ef3c0a0b0b3b4d4a",
        ),
        lock("").replace("\"lockfileVersion\":3", "\"lockfileVersion\":1"),
        "{not json".to_string(),
    ] {
        let (text, a, why) = run(&bad);
        assert_eq!(a, Applicability::Unsafe, "{bad}");
        assert_eq!(text, df);
        assert!(why.contains("`.git`"), "{why}");
    }
}

#[test]
fn a_user_between_the_copy_and_the_install_moves_with_it() {
    // `COPY --chown=node:node . .` / `USER node` / `RUN npm ci`: a COPY
    // takes its owner from `--chown`, never from `USER`, so the user moves
    // above the broad copy with the install; the manifests' COPY stands
    // where the broad copy stood, above the user's comment.
    let df = "FROM node:20\nWORKDIR /home/node/app\nCOPY --chown=node:node . .\n# run as node\nUSER node\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n";
    assert_eq!(
        hoisted(NPM, df),
        "FROM node:20\nWORKDIR /home/node/app\nCOPY --chown=node:node package.json package-lock.json ./\n# run as node\nUSER node\nRUN npm ci\nCOPY --chown=node:node . .\nCMD [\"node\", \"index.js\"]\n"
    );
    // An instruction in between that runs as the user before it (a RUN, a
    // WORKDIR, which creates its directory as the user) keeps it in place.
    for between in [
        "RUN chown -R node /home/node/app\n",
        "WORKDIR /home/node/app/src\n",
    ] {
        let df = format!(
            "FROM node:20\nWORKDIR /home/node/app\nCOPY --chown=node:node . .\n{between}USER node\nRUN npm ci\n"
        );
        assert_eq!(hoisted(NPM, &df), df, "{between}");
    }
}

#[test]
fn a_virtualenv_in_the_application_directory_of_another_users_home() {
    // awesome-compose's flask shape: the application and its dotfiles in
    // /home/app, run as `nonroot`, whose home is /home/nonroot: the venv
    // (a tool without a home list, so every dot entry of the home) reads
    // nothing the copy ships.
    let files = &[
        ("requirements.txt", "flask\n"),
        ("app.py", "x\n"),
        (".flaskenv", "FLASK_APP=app.py\n"),
    ];
    let head = "FROM python:3.9-alpine\nRUN adduser -D nonroot\nRUN mkdir /home/app/ && chown -R nonroot:nonroot /home/app\nWORKDIR /home/app\n";
    let tail = "COPY --chown=nonroot:nonroot . .\nENV VIRTUAL_ENV=/home/app/venv\nRUN python -m venv $VIRTUAL_ENV\nENV PATH=\"$VIRTUAL_ENV/bin:$PATH\"\nRUN pip install -r requirements.txt\n";
    let df = format!("{head}USER nonroot\n{tail}");
    assert_eq!(
        hoisted(files, &df),
        format!(
            "{head}USER nonroot\nENV VIRTUAL_ENV=/home/app/venv\nRUN python -m venv $VIRTUAL_ENV\nENV PATH=\"$VIRTUAL_ENV/bin:$PATH\"\nCOPY --chown=nonroot:nonroot requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY --chown=nonroot:nonroot . .\n"
        )
    );
    // Run as `app`, or as a user known by number only, /home/app may be
    // the home: `.flaskenv` is a dot entry there.
    for user in ["USER app\n", "USER 1000\n"] {
        let df = format!("{head}{user}{tail}");
        assert_eq!(hoisted(files, &df), df, "{user}");
    }
}

#[test]
fn mount_flags_are_read_as_buildkit_reads_them() {
    // BuildKit lower-cases a mount's keys and type: `TYPE=cache` is a cache
    // mount, which adds nothing to the image, so the install hoists.
    let df =
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN --mount=Type=Cache,Target=/root/.npm npm ci\n";
    assert_eq!(
        hoisted(NPM, df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN --mount=Type=Cache,Target=/root/.npm npm ci\nCOPY . .\n"
    );
    // A repeated key or an unknown type is not followed: the RUN is not
    // understood. (Quotes in a flag are the parser's: BuildKit's
    // `extractBuilderFlags` removes them before the mount is read.)
    for flag in [
        "--mount=type=cache,type=bind,target=/root/.npm",
        "--mount=type=npm,target=/root/.npm",
    ] {
        let df = format!("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {flag} npm ci\n");
        assert_eq!(hoisted(NPM, &df), df, "{flag}");
    }
}

#[test]
fn what_stands_between_the_copy_and_the_install_stays_in_place_when_it_can() {
    let files = &[
        ("requirements.txt", "flask==3.0.0\n"),
        ("app.py", "x\n"),
        ("entrypoint.sh", "x\n"),
    ];
    // A person moves the copy down: the shell-state `RUN`, the `EXPOSE`
    // and the `ENV` between keep their places (awesome-compose's
    // nginx-wsgi-flask: `RUN export FLASK_APP=app.py`). `export` is a
    // special builtin, so a copy into a search-path directory cannot
    // change what it runs.
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nENV PATH=\"/app/venv/bin:$PATH\"\nEXPOSE 5000\nRUN export FLASK_APP=app.py\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12\nWORKDIR /app\nENV PATH=\"/app/venv/bin:$PATH\"\nEXPOSE 5000\nRUN export FLASK_APP=app.py\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
    );
    // What reads a shipped file stays below the copy, and so does what
    // comes after it and depends on it.
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN chmod +x entrypoint.sh\nENV X=1\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12\nWORKDIR /app\nENV X=1\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nRUN chmod +x entrypoint.sh\n"
    );
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN ./configure\nENV X=1\nRUN pip install -r requirements.txt\n";
    let out = hoisted(files, df);
    assert!(
        out.contains("COPY . .\nRUN ./configure\nENV X=1\n") || out == df,
        "{out}"
    );
    // `cd DIR` needs the directory the copy ships (review 3, F1: built,
    // `cd: can't cd to src`).
    let files_src = &[("requirements.txt", "flask==3.0.0\n"), ("src/a.py", "x\n")];
    for run in ["RUN cd src", "RUN cd /app/src && export A=1"] {
        let df = format!(
            "FROM python:3.12\nWORKDIR /app\nCOPY . .\n{run}\nRUN pip install -r requirements.txt\n"
        );
        let out = hoisted(files_src, &df);
        assert!(out.find("COPY . .") < out.find(run), "{run}: {out}");
    }
    // A program looked up on the search path may be one the copy ships.
    let files = &[("requirements.txt", "flask==3.0.0\n"), ("bin/tool", "x\n")];
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nENV PATH=\"/app/bin:$PATH\"\nRUN tool --version\nRUN pip install -r requirements.txt\n";
    let out = hoisted(files, df);
    assert!(
        out.contains("COPY . .\nENV PATH=\"/app/bin:$PATH\"\nRUN tool --version\n")
            || out.find("COPY . .") < out.find("RUN tool"),
        "{out}"
    );
}

#[test]
fn a_subtree_source_is_resolved_against_the_context_root_as_buildkit_does() {
    let files = &[
        ("frontend/package.json", "{\"name\":\"a\"}"),
        ("frontend/package-lock.json", "{}"),
        ("frontend/index.js", "x\n"),
    ];
    // Held-out review, case c30 (a Dockerfile under docker/ copying
    // `../frontend`): BuildKit cannot leave the context, so the source is
    // `frontend` (built with this engine: the images are the same). The
    // inserted COPY names it as BuildKit reads it.
    for src in ["../frontend", "/frontend/", "./frontend"] {
        let df = format!("FROM node:20\nCOPY {src} /app\nWORKDIR /app\nRUN npm ci\n");
        assert_eq!(
            hoisted(files, &df),
            format!(
                "FROM node:20\nCOPY frontend/package.json frontend/package-lock.json /app/\nWORKDIR /app\nRUN npm ci\nCOPY {src} /app\n"
            ),
            "{src}"
        );
    }
}

/// The go, pip and npm projects of the base-image working directory tests.
const GO: &[(&str, &str)] = &[
    ("go.mod", "module example.com/a\n\ngo 1.22\n"),
    ("go.sum", "\n"),
    ("main.go", "package main\n"),
];
const PIP: &[(&str, &str)] = &[("requirements.txt", "flask==3.0.0\n"), ("app.py", "x\n")];

#[test]
fn the_working_directory_of_an_official_base_image_is_known() {
    // golang's WORKDIR is $GOPATH (/go); python's and node's is `/`.
    let df = "FROM golang\nCOPY . .\nRUN go mod download\n";
    assert_eq!(
        hoisted(GO, df),
        "FROM golang\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n"
    );
    let df = "FROM python:3\nCOPY . /\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(PIP, df),
        "FROM python:3\nCOPY requirements.txt /\nRUN pip install -r requirements.txt\nCOPY . /\n"
    );
    let df = "FROM node:18\nCOPY . .\nRUN npm ci\n";
    assert_eq!(
        hoisted(NPM, df),
        "FROM node:18\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n"
    );
    // A relative WORKDIR resolves against it (/go/src).
    let df = "FROM golang:1.22-alpine AS build\nWORKDIR src\nCOPY . .\nRUN go mod download\n";
    assert_eq!(
        hoisted(GO, df),
        "FROM golang:1.22-alpine AS build\nWORKDIR src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n"
    );
    // A later stage built on that one starts there too.
    let df =
        "FROM python:3.12-slim AS base\nFROM base\nCOPY . .\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(PIP, df),
        "FROM python:3.12-slim AS base\nFROM base\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
    );
}

#[test]
fn the_working_directory_of_other_base_images_stays_unknown() {
    for from in [
        // Windows and onbuild variants, a private registry, a variable
        // without a default, a stage named like an official image, a php
        // variant not read.
        "golang:1.22-windowsservercore-ltsc2022",
        "node:8-onbuild",
        "registry.example.com/golang:1.22",
        "golang:$GO_VERSION",
        "scratch AS golang\nFROM golang",
        "php:8.2-unit",
        // A global ARG's default that names a Windows tag, or a stage.
        "scratch AS base\nFROM ${BASE}",
    ] {
        for arg in ["", "ARG GO_VERSION=1.22-nanoserver\nARG BASE=base\n"] {
            let df = format!("{arg}FROM {from}\nCOPY . .\nRUN go mod download\n");
            assert_eq!(hoisted(GO, &df), df, "{from}");
        }
    }
    let df = "ARG GO_VERSION=1.22-windowsservercore\nFROM golang:${GO_VERSION}\nCOPY . .\nRUN go mod download\n";
    assert_eq!(hoisted(GO, df), df);
    // A global ARG without a default (after one with a default) is not
    // known.
    let df = "ARG GO_VERSION=1.22\nARG GO_VERSION\nFROM golang:${GO_VERSION}\nCOPY . .\nRUN go mod download\n";
    assert_eq!(hoisted(GO, df), df);
}

const COMPOSER: &[(&str, &str)] = &[
    (
        "composer.json",
        "{\"require\":{\"monolog/monolog\":\"^3\"}}",
    ),
    ("composer.lock", "{}"),
    ("index.php", "x\n"),
];

#[test]
fn issue_11_php_variants_and_variable_tags_have_known_working_directories() {
    // php's apache and fpm variants end with `WORKDIR /var/www/html`; the
    // cli and zts ones (and bare versions) set none: `/`.
    for from in [
        "php:8.2-apache",
        "php:8.2-apache-bookworm",
        "php:fpm-alpine",
        "php:8-fpm-alpine3.20",
        "php:8.2",
        "php:8.2-cli",
        "php:8.3-zts-bookworm",
        "php",
    ] {
        let df = format!("FROM {from}\nCOPY . .\nRUN composer install --no-dev\n");
        assert_eq!(
            hoisted(COMPOSER, &df),
            format!(
                "FROM {from}\nCOPY composer.json composer.lock ./\nRUN composer install --no-dev\nCOPY . .\n"
            ),
            "{from}"
        );
    }
    let df = "FROM php:8.2-apache\nCOPY . /var/www/html\nRUN composer install --no-dev\n";
    assert_eq!(
        hoisted(COMPOSER, df),
        "FROM php:8.2-apache\nCOPY composer.json composer.lock /var/www/html/\nRUN composer install --no-dev\nCOPY . /var/www/html\n"
    );
    // A tag from a global ARG's default; erlang and elixir work in `/`.
    let df = "ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}-alpine AS build\nCOPY . .\nRUN go mod download\n";
    assert_eq!(
        hoisted(GO, df),
        "ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}-alpine AS build\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n"
    );
    let df = "ARG PHP_VERSION=8.2\nFROM php:${PHP_VERSION}-apache\nCOPY . .\nRUN composer install --no-dev\n";
    assert_eq!(
        hoisted(COMPOSER, df),
        "ARG PHP_VERSION=8.2\nFROM php:${PHP_VERSION}-apache\nCOPY composer.json composer.lock ./\nRUN composer install --no-dev\nCOPY . .\n"
    );
    // php's variant in a build argument, or the image itself: a build
    // may choose another.
    for df in [
        "ARG PHP_TAG=8.2-apache\nFROM php:${PHP_TAG}\nCOPY . .\nRUN composer install --no-dev\n",
        "ARG IMAGE=php:8.2-apache\nFROM ${IMAGE}\nCOPY . .\nRUN composer install --no-dev\n",
        "ARG REPO=php\nFROM ${REPO}:8.2-apache\nCOPY . .\nRUN composer install --no-dev\n",
    ] {
        assert_eq!(hoisted(COMPOSER, df), df);
    }
    let mix = &[
        (
            "mix.exs",
            "defmodule A.MixProject do\n  use Mix.Project\n  def project, do: [app: :a, version: \"0.1.0\", deps: [{:jason, \"~> 1.4\"}]]\nend\n",
        ),
        ("mix.lock", "%{}\n"),
        ("src/a.ex", "x\n"),
    ];
    let df = "FROM elixir:1.17-slim\nCOPY . .\nRUN mix deps.get --only prod\n";
    assert_eq!(
        hoisted(mix, df),
        "FROM elixir:1.17-slim\nCOPY mix.exs mix.lock ./\nRUN mix deps.get --only prod\nCOPY . .\n"
    );
}

#[test]
fn issue_11_a_tool_copied_from_another_image_moves_with_the_install() {
    let df = "FROM php:8.2-apache\nCOPY . .\nCOPY --from=composer:2 /usr/bin/composer /usr/bin/composer\nRUN composer install --no-dev\n";
    assert_eq!(
        hoisted(COMPOSER, df),
        "FROM php:8.2-apache\nCOPY composer.json composer.lock ./\nCOPY --from=composer:2 /usr/bin/composer /usr/bin/composer\nRUN composer install --no-dev\nCOPY . .\n"
    );
    // Traps: the copied tool lands among what the broad copy ships (its
    // order against the copy decides which file the image keeps), or the
    // copy reads this stage's context (`COPY --from` with other flags is
    // not read).
    let mut files = COMPOSER.to_vec();
    files.push(("bin/composer", "#!/bin/sh\n"));
    for df in [
        "FROM php:8.2-apache\nCOPY . .\nCOPY --from=composer:2 /usr/bin/composer ./bin/composer\nENV PATH=/var/www/html/bin:$PATH\nRUN composer install --no-dev\n",
        "FROM php:8.2-apache\nCOPY . .\nCOPY --from=composer:2 /usr/bin/composer ./bin/\nENV PATH=/var/www/html/bin:$PATH\nRUN composer install --no-dev\n",
        "FROM php:8.2-apache\nCOPY . .\nCOPY --from=composer:2 --exclude=x /usr/bin/composer /usr/bin/composer\nRUN composer install --no-dev\n",
    ] {
        assert_eq!(hoisted(&files, df), df);
    }
}

const UV_DF: &str = "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen --no-dev\n";

/// A uv project: `pyproject.toml` with `tail` appended to a `[project]`
/// table, a lock file, `.python-version`, sources, and `extra` files.
fn uv_project(tail: &str, extra: &[(&'static str, &'static str)]) -> Vec<(String, String)> {
    let mut files = vec![
        (
            "pyproject.toml".to_string(),
            format!(
                "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.12\"\ndependencies = [\"flask>=3\"]\n{tail}"
            ),
        ),
        (
            "uv.lock".to_string(),
            "version = 1\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\n".to_string(),
        ),
        (".python-version".to_string(), "3.12\n".to_string()),
        ("app/main.py".to_string(), "x\n".to_string()),
    ];
    for (k, v) in extra {
        files.retain(|(n, _)| n != k);
        files.push((k.to_string(), v.to_string()));
    }
    files
}

fn hoisted_owned(files: &[(String, String)], df: &str) -> String {
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    hoisted(&files, df)
}

#[test]
fn uv_sync_of_a_virtual_project_installs_the_dependencies_alone() {
    // No [build-system]: uv does not build or install the project, so
    // `uv sync` reads the manifests alone, as with --no-install-project.
    let out = hoisted_owned(&uv_project("", &[]), UV_DF);
    assert_eq!(
        out,
        "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\nWORKDIR /app\nCOPY pyproject.toml uv.lock .python-version ./\nRUN uv sync --frozen --no-dev\nCOPY . .\n"
    );
    // `tool.uv.package = false` and sources from an index keep it virtual.
    let tail =
        "\n[tool.uv]\npackage = false\n\n[tool.uv.sources]\ntorch = { index = \"pytorch\" }\n";
    assert_ne!(hoisted_owned(&uv_project(tail, &[]), UV_DF), UV_DF);
}

#[test]
fn uv_sync_of_a_package_a_workspace_or_local_sources_stays() {
    let traps: &[(&str, &[(&str, &str)])] = &[
        // A build system, or tool.uv.package = true: the project is built
        // from its sources.
        (
            "\n[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n",
            &[],
        ),
        ("\n[tool.uv]\npackage = true\n", &[]),
        ("\n[tool]\nuv = { package = true }\n", &[]),
        // A workspace installs its members; local sources are read.
        ("\n[tool.uv.workspace]\nmembers = [\"libs/*\"]\n", &[]),
        ("\n[tool.uv.sources]\nlib = { workspace = true }\n", &[]),
        ("\n[tool.uv.sources]\nlib = { path = \"libs/lib\" }\n", &[]),
        (
            "\n[tool.uv.sources]\nlib = { path = \"libs/lib\", editable = true }\n",
            &[],
        ),
        (
            "",
            &[(
                "uv.lock",
                "version = 1\n\n[[package]]\nname = \"app\"\nsource = { editable = \".\" }\n",
            )],
        ),
        // Dynamic metadata needs a build; local indexes are read.
        ("dynamic = [\"version\"]\n", &[]),
        ("\n[tool.uv]\nfind-links = [\"./wheels\"]\n", &[]),
        // Review 3, F4: an index that is a local directory.
        (
            "\n[[tool.uv.index]]\nname = \"local\"\nurl = \"./wheels\"\nformat = \"flat\"\n",
            &[],
        ),
        ("\n[tool.uv]\nindex-url = \"wheels\"\n", &[]),
    ];
    for (tail, extra) in traps {
        let files = uv_project(tail, extra);
        assert_eq!(hoisted_owned(&files, UV_DF), UV_DF, "{tail} {extra:?}");
    }
    // A pyproject.toml in a parent directory may be the workspace root.
    let files = uv_project(
        "",
        &[
            (
                "svc/pyproject.toml",
                "[project]\nname = \"svc\"\nversion = \"0.1.0\"\n",
            ),
            ("svc/uv.lock", "version = 1\n"),
        ],
    );
    let df = "FROM python:3.12-slim\nCOPY . /app\nWORKDIR /app/svc\nRUN uv sync --frozen\n";
    assert_eq!(hoisted_owned(&files, df), df);
    // The manifests rewritten after the broad copy are not the context's.
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN sed -i s/a/b/ pyproject.toml\nRUN uv sync --frozen\n";
    assert_eq!(hoisted_owned(&uv_project("", &[]), df), df);
}

const UV_PIP_DF: &str = "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\nWORKDIR /app\nCOPY . .\nRUN uv pip install --system --no-cache -r requirements.txt\n";

#[test]
fn issue_11_uv_pip_install_moves_with_its_requirements_and_settings() {
    // `uv pip install` was not in the knowledge base: nothing moved.
    let files = &[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    assert_eq!(
        hoisted(files, UV_PIP_DF),
        "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\nWORKDIR /app\nCOPY requirements.txt ./\nRUN uv pip install --system --no-cache -r requirements.txt\nCOPY . .\n"
    );
    // Its settings (`uv.toml`, a `pyproject.toml` with `[tool.uv]`) are
    // read where it runs and in the nearest parent: copied first too.
    let files = &[
        ("requirements.txt", "six==1.16.0\n"),
        (
            "pyproject.toml",
            "[tool.uv.pip]\nindex-url = \"https://pypi.org/simple\"\n",
        ),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    assert_eq!(
        hoisted(files, UV_PIP_DF),
        "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\nWORKDIR /app\nCOPY pyproject.toml requirements.txt ./\nRUN uv pip install --system --no-cache -r requirements.txt\nCOPY . .\n"
    );
    let files = &[
        ("svc/requirements.txt", "six==1.16.0\n"),
        ("uv.toml", "index-url = \"https://pypi.org/simple\"\n"),
        ("svc/app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nRUN pip install uv\nCOPY . /app\nWORKDIR /app/svc\nRUN uv pip install --system -r requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12-slim\nRUN pip install uv\nCOPY uv.toml /app/\nCOPY svc/requirements.txt /app/svc/\nWORKDIR /app/svc\nRUN uv pip install --system -r requirements.txt\nCOPY . /app\n"
    );
    // `uv venv` makes the environment it installs into (measured with
    // BuildKit: the same `.venv`, the install CACHED after a source edit).
    let files = &[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install uv && uv venv && uv pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install uv && uv venv && uv pip install -r requirements.txt\nCOPY . .\n"
    );
    // `uv pip sync FILE` reads its requirement files as arguments.
    let df = "FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\nCOPY . .\nRUN uv pip sync --system requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\nCOPY requirements.txt ./\nRUN uv pip sync --system requirements.txt\nCOPY . .\n"
    );
}

#[test]
fn uv_pip_install_of_project_metadata_or_into_a_shipped_environment_stays() {
    let base: &[(&str, &str)] = &[
        ("requirements.txt", "six==1.16.0\n"),
        (
            "pyproject.toml",
            "[project]\nname = \"app\"\nversion = \"0.1\"\n",
        ),
        ("setup.cfg", "[metadata]\nname = app\n"),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        let mut f: Vec<(&str, &str)> = base.to_vec();
        f.extend_from_slice(extra);
        f
    };
    let traps: Vec<(Vec<(&str, &str)>, String)> = vec![
        // The project's metadata, which uv may build the project to read,
        // named or included.
        (with(&[]), UV_PIP_DF.replace("-r requirements.txt", "-r pyproject.toml")),
        (with(&[]), UV_PIP_DF.replace("-r requirements.txt", "-r setup.cfg")),
        (
            with(&[]),
            UV_PIP_DF.replace("install --system --no-cache -r requirements.txt", "sync --system pyproject.toml"),
        ),
        (
            with(&[("reqs.txt", "-r pyproject.toml\n")]),
            UV_PIP_DF.replace("-r requirements.txt", "-r reqs.txt"),
        ),
        // The project itself.
        (with(&[]), UV_PIP_DF.replace("-r requirements.txt", ".")),
        (with(&[]), UV_PIP_DF.replace("-r requirements.txt", "-e .")),
        // An interpreter that picks an environment anywhere.
        (
            with(&[]),
            UV_PIP_DF.replace("--system", "--python /app/venv/bin/python"),
        ),
        (
            with(&[]),
            UV_PIP_DF.replace("RUN uv", "ENV UV_PYTHON=/app/venv/bin/python\nRUN uv"),
        ),
        // The environment it installs into is the `.venv` the copy ships,
        // where it runs or in a parent.
        (
            with(&[(".venv/pyvenv.cfg", "home = /usr/bin\n")]),
            UV_PIP_DF.replace("--system ", ""),
        ),
        (
            vec![
                ("svc/requirements.txt", "six==1.16.0\n"),
                (".venv/pyvenv.cfg", "home = /usr/bin\n"),
                (".dockerignore", ".git\n"),
            ],
            "FROM python:3.12-slim\nRUN pip install uv\nCOPY . /app\nWORKDIR /app/svc\nRUN uv pip install -r requirements.txt\n".to_string(),
        ),
    ];
    for (files, df) in &traps {
        assert_eq!(hoisted(files, df), *df, "{df}");
    }
}

#[test]
fn bundler_array_options_take_every_group() {
    let files = &[
        ("Gemfile", "source 'https://rubygems.org'\ngem 'rack'\n"),
        ("Gemfile.lock", "GEM\n"),
        ("app.rb", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    // Held-out review, case c42: `--without development test` named two
    // groups; `test` was read as an argument not described, so the RUN was
    // not understood and nothing moved.
    for flags in [
        "--without development test",
        "--without development test --jobs 4",
        "--with default --without development test",
    ] {
        let df = format!(
            "FROM ruby:3.3\nENV BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY . .\nRUN bundle install {flags}\n"
        );
        assert_eq!(
            hoisted(files, &df),
            format!(
                "FROM ruby:3.3\nENV BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY Gemfile Gemfile.lock ./\nRUN bundle install {flags}\nCOPY . .\n"
            ),
            "{flags}"
        );
    }
    // A word after the groups that is no group still makes it unknown.
    let df = "FROM ruby:3.3\nENV BUNDLE_FROZEN=true\nWORKDIR /app\nCOPY . .\nRUN bundle install --without development ./app.rb\n";
    let out = hoisted(files, df);
    assert!(out.find("COPY . .") < out.find("RUN bundle"), "{out}");
}

#[test]
fn mix_fetches_hoist_unless_mix_exs_reads_other_files() {
    let mix = "defmodule App.MixProject do\n  use Mix.Project\n  def project, do: [app: :app, version: \"0.1.0\", deps: deps()]\n  defp deps, do: [{:jason, \"~> 1.4\"}]\nend\n";
    let files = |mix_exs: &'static str| {
        vec![
            ("mix.exs", mix_exs),
            ("mix.lock", "%{}\n"),
            ("lib/app.ex", "x\n"),
            ("VERSION", "0.1.0\n"),
            (".dockerignore", ".git\n"),
        ]
    };
    // Held-out review, cases c25 and c26.
    let df = "FROM elixir:1.17\nWORKDIR /app\nCOPY . /app\nRUN mix local.hex --force && mix local.rebar --force\nRUN mix deps.get --only prod\nRUN mix compile\n";
    assert_eq!(
        hoisted(&files(mix), df),
        "FROM elixir:1.17\nWORKDIR /app\nCOPY mix.exs /app/\nRUN mix local.hex --force && mix local.rebar --force\nCOPY mix.lock /app/\nRUN mix deps.get --only prod\nCOPY . /app\nRUN mix compile\n"
    );
    // A mix.exs that reads a file (a common `version:` idiom) is code
    // reading beyond the manifests: nothing moves.
    let reads_version = "defmodule App.MixProject do\n  use Mix.Project\n  def project, do: [app: :app, version: File.read!(\"VERSION\") |> String.trim(), deps: []]\nend\n";
    let df = "FROM elixir:1.17\nWORKDIR /app\nCOPY . /app\nRUN mix deps.get --only prod\n";
    assert_eq!(hoisted(&files(reads_version), df), df);
    // A local rebar given by path is not described.
    let df = "FROM elixir:1.17\nWORKDIR /app\nCOPY . /app\nRUN mix local.rebar rebar3 ./rebar3\n";
    assert_eq!(hoisted(&files(mix), df), df);
}

#[test]
fn a_tool_copied_where_the_broad_copy_makes_a_directory_stays() {
    // The context holds an empty `conf/`: the broad copy makes /app/conf,
    // and `COPY --from` to `conf` puts the file into it. Copied first, the
    // file would be /app/conf itself, and the broad copy fails (`cannot
    // copy to non-directory`; checked with BuildKit).
    let files = &[("requirements.txt", "flask\n"), ("app.py", "x\n")];
    let dir = crate::support::project(files);
    std::fs::create_dir(dir.path().join("conf")).expect("mkdir");
    let at = |df: &str| {
        let ctx = Context::new(
            dir.path().to_path_buf(),
            Some(&dir.path().join("Dockerfile")),
        );
        rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
            .expect("rewrite")
            .new_text
    };
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCOPY --from=tools /pip.conf conf\nENV PIP_CONFIG_FILE=/app/conf/pip.conf\nRUN pip install -r requirements.txt\n";
    assert_eq!(at(df), df);
    // Elsewhere it moves (a file pip reads that names no path: a
    // configuration from another stage may, and keeps the install in
    // place, see soundness::configuration_written_before_…).
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCOPY --from=tools /netrc /root/.netrc\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        at(df),
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nCOPY --from=tools /netrc /root/.netrc\nRUN pip install -r requirements.txt\nCOPY . .\n"
    );
}

#[test]
fn a_linked_tool_copy_whose_directories_the_broad_copy_also_makes_stays() {
    // `COPY --link` puts every directory above its target into its own
    // layer, with its owner and mode: above the broad copy, /app/conf is
    // root's 0755; moved below it, the broad copy's (owned by 1000).
    let files = &[
        ("requirements.txt", "flask\n"),
        ("conf/app.ini", "x\n"),
        ("app.py", "x\n"),
    ];
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY --chown=1000:1000 . .\nCOPY --link --from=tools /ca.pem /app/conf/ca.pem\nENV PIP_CERT=/app/conf/ca.pem\nRUN pip install -r requirements.txt\n";
    assert_eq!(hoisted(files, df), df);
    // Without `--link` the broad copy sets the directory's owner and mode
    // either way; with it, a target outside the copy's destination moves.
    for flag in ["", "--link "] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY --chown=1000:1000 . .\nCOPY {flag}--from=tools /ca.pem /{}/ca.pem\nENV PIP_CERT=/{}/ca.pem\nRUN pip install -r requirements.txt\n",
            if flag.is_empty() {
                "app/conf"
            } else {
                "etc/pipconf"
            },
            if flag.is_empty() {
                "app/conf"
            } else {
                "etc/pipconf"
            }
        );
        assert_ne!(hoisted(files, &df), df, "{flag}");
    }
}

#[test]
fn issue_11_a_workdir_that_changes_nothing_does_not_hold_the_install() {
    // `WORKDIR .` (and the same path again) keeps the working directory.
    for wd in [".", "./", "/"] {
        let df =
            format!("FROM python:3\nCOPY . .\nWORKDIR {wd}\nRUN pip install -r requirements.txt\n");
        assert_eq!(
            hoisted(PIP, &df),
            format!(
                "FROM python:3\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nWORKDIR {wd}\n"
            ),
            "{wd}"
        );
    }
    // On an image whose working directory is not known, the model keeps
    // `WORKDIR .` as a change of directory (it does not compare unknowns).
    let df = "FROM example/unknown\nCOPY . .\nWORKDIR .\nRUN pip install -r requirements.txt\n";
    assert_eq!(hoisted(PIP, df), df);
}

#[test]
fn issue_11_npm_install_that_keeps_the_lock_and_follows_it_is_safe() {
    let lock = "{\"name\":\"a\",\"lockfileVersion\":3,\"packages\":{\"\":{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}},\"node_modules/ms\":{\"version\":\"2.1.3\",\"resolved\":\"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\"}}}";
    let run = |manifest: &str, cmd: &str| {
        let df = format!("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {cmd}\n");
        let files = [
            ("package.json", manifest),
            ("package-lock.json", lock),
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("index.js", "x\n"),
        ];
        proposed_hoist(&files, &df)
    };
    let agrees = "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}";
    // `--no-save` (or `--no-package-lock`) writes no lock, and a plain
    // lock that agrees with package.json is all npm installs.
    for cmd in [
        "npm install --no-save",
        "npm i --no-package-lock --omit=dev",
        "npm install --save=false",
    ] {
        let (text, a, why) = run(agrees, cmd);
        assert_eq!(a, Applicability::Safe, "{cmd}: {why}");
        assert_eq!(
            text,
            format!(
                "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN {cmd}\nCOPY . .\n"
            )
        );
    }
    // Traps: npm install may rewrite the lock; a package.json that the
    // lock does not follow (a dependency npm resolves anew, which may run
    // an install script that finds `.git`).
    let (_, a, why) = run(agrees, "npm install");
    assert_eq!(a, Applicability::Unsafe);
    assert!(why.contains("may rewrite `package-lock.json`"), "{why}");
    assert!(!why.contains("`.git`"), "{why}");
    for manifest in [
        "{\"name\":\"a\",\"dependencies\":{\"ms\":\"^2.1.3\"}}",
        "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\",\"husky\":\"4\"}}",
        "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"},\"devDependencies\":{\"husky\":\"4\"}}",
        "{not json",
    ] {
        let (_, a, why) = run(manifest, "npm install --no-save");
        assert_eq!(a, Applicability::Unsafe, "{manifest}");
        assert!(why.contains("`.git`"), "{why}");
    }
}

/// A directory option (`composer -d DIR`, `npm --prefix DIR`) runs the
/// install in DIR: its manifests are there.
/// Before, the option's value was read as a whole tree, and the install
/// never moved.
#[test]
fn directory_options_run_the_install_there() {
    let files = &[
        ("site/composer.json", "{\"require\":{}}\n"),
        ("site/composer.lock", "{}\n"),
        ("site/index.php", "<?php\n"),
        ("web/package.json", "{\"name\":\"w\",\"dependencies\":{}}\n"),
        (
            "web/package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}\n",
        ),
        ("web/pnpm-lock.yaml", "lockfileVersion: 9\n"),
        ("web/index.js", "x\n"),
    ];
    let df = "FROM php:8.2-cli\nCOPY ./site/ /app\nRUN composer install -d /app --no-dev\nCMD [\"php\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM php:8.2-cli\nCOPY site/composer.json site/composer.lock /app/\nRUN composer install -d /app --no-dev\nCOPY ./site/ /app\nCMD [\"php\"]\n"
    );
    for (run, manifests) in [
        (
            "composer --working-dir=/app install",
            "site/composer.json site/composer.lock",
        ),
        (
            "composer install -d/app",
            "site/composer.json site/composer.lock",
        ),
        (
            "npm --prefix /srv ci",
            "web/package.json web/package-lock.json",
        ),
        ("npm ci -C /srv", "web/package.json web/package-lock.json"),
    ] {
        let src = if run.starts_with("composer") {
            ("./site/", "/app")
        } else {
            ("./web/", "/srv")
        };
        let df = format!(
            "FROM node:20\nWORKDIR /opt\nCOPY {} {}\nRUN {run}\n",
            src.0, src.1
        );
        let out = hoisted(files, &df);
        let want = format!(
            "COPY {manifests} {}/\nRUN {run}\nCOPY {} {}\n",
            src.1, src.0, src.1
        );
        assert!(out.contains(&want), "{run}:\n{out}");
    }
    // A directory the analysis cannot follow keeps the install in place.
    for run in [
        "composer install -d $APP",
        "composer install -d ~/app",
        "npm --prefix /a --prefix /b ci",
        // yarn's `--cwd` and pnpm's `-C` also look in the parent
        // directories: not followed.
        "yarn --cwd /app install --frozen-lockfile",
        "pnpm -C /app install --frozen-lockfile",
    ] {
        let df = format!("FROM php:8.2-cli\nCOPY ./site/ /app\nRUN {run}\n");
        assert_eq!(hoisted(files, &df), df, "{run}");
    }
}

/// A shipped `.git` is looked at only by a git program or the code of the
/// packages an install runs: on an official image with no git (`php`,
/// the `slim` and `alpine` variants of `node`, `python`, `ruby`), with
/// nothing before the install that may install one, a `composer install`
/// whose lock lists no plugin moves, and the reason says why the
/// repository does not matter. (npm's packages run install scripts: see
/// the soundness test `without_git_package_code_may_still_read_the_repository`.)
#[test]
fn a_shipped_repository_is_not_looked_at_without_git() {
    let files = &[
        (".git/HEAD", "ref: refs/heads/main\n"),
        (".git/config", "[core]\n"),
        ("composer.json", "{\"require\":{}}\n"),
        ("composer.lock", "{\"packages\":[],\"packages-dev\":[]}\n"),
        ("index.php", "<?php\n"),
    ];
    let df = "FROM php:8.2-apache\nRUN docker-php-ext-install pdo_mysql && a2enmod rewrite\nCOPY . /var/www/html/\nCOPY --from=composer:2 /usr/bin/composer /usr/bin/composer\nRUN composer install --no-dev\n";
    let (out, app, reason) = proposed_hoist(files, df);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(
        out,
        "FROM php:8.2-apache\nRUN docker-php-ext-install pdo_mysql && a2enmod rewrite\nCOPY composer.json composer.lock /var/www/html/\nCOPY --from=composer:2 /usr/bin/composer /usr/bin/composer\nRUN composer install --no-dev\nCOPY . /var/www/html/\n"
    );
    assert!(reason.contains("has no git program"), "{reason}");
    // Composer's installer writes only its keys into Composer's home (no
    // plugin), and the PHAR run by php is Composer.
    let df = "FROM php:8.2-apache\nCOPY . /var/www/html/\nRUN curl -sS https://getcomposer.org/installer | php -- --install-dir=/usr/local/bin --filename=composer\nRUN composer install\n";
    assert_eq!(
        hoisted(files, df),
        "FROM php:8.2-apache\nRUN curl -sS https://getcomposer.org/installer | php -- --install-dir=/usr/local/bin --filename=composer\nCOPY composer.json composer.lock /var/www/html/\nRUN composer install\nCOPY . /var/www/html/\n"
    );
    let df = "FROM php:7.4-apache\nCOPY . /var/www/html/\nRUN php -r \"copy('https://getcomposer.org/installer', 'composer-setup.php');\" && php composer-setup.php && php composer.phar install\n";
    assert_eq!(
        hoisted(files, df),
        "FROM php:7.4-apache\nCOPY composer.json composer.lock /var/www/html/\nRUN php -r \"copy('https://getcomposer.org/installer', 'composer-setup.php');\" && php composer-setup.php && php composer.phar install\nCOPY . /var/www/html/\n"
    );
    // The rewrite's own check agrees (a destination without a slash).
    let df = "FROM php:8.2\nCOPY . /app\nWORKDIR /app\nRUN composer install --no-dev\n";
    assert_eq!(
        hoisted(files, df),
        "FROM php:8.2\nCOPY composer.json composer.lock /app/\nWORKDIR /app\nRUN composer install --no-dev\nCOPY . /app\n"
    );
}

/// Composer's installer as getcomposer.org documents it: piped into `php`,
/// or saved, checked and run, and the PHAR it makes. The install moves
/// with it where the PHAR is made in the same `RUN`.
#[test]
fn composer_installer_forms_are_followed() {
    let files = &[
        ("composer.json", "{\"require\":{}}\n"),
        ("composer.lock", "{}\n"),
        ("index.php", "<?php\n"),
    ];
    let df = "FROM php:8.2-apache\nCOPY . /var/www/html/\nRUN curl -sS https://getcomposer.org/installer | php -- --install-dir=/usr/local/bin --filename=composer\nRUN composer install\n";
    assert_eq!(
        hoisted(files, df),
        "FROM php:8.2-apache\nRUN curl -sS https://getcomposer.org/installer | php -- --install-dir=/usr/local/bin --filename=composer\nCOPY composer.json composer.lock /var/www/html/\nRUN composer install\nCOPY . /var/www/html/\n"
    );
    let df = "FROM php:7.4-apache\nCOPY . /var/www/html/\nRUN php -r \"copy('https://getcomposer.org/installer', 'composer-setup.php');\" \\\n    && php composer-setup.php \\\n    && php -r \"unlink('composer-setup.php');\" \\\n    && php composer.phar install --no-dev\nCMD [\"apache2-foreground\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM php:7.4-apache\nCOPY composer.json composer.lock /var/www/html/\nRUN php -r \"copy('https://getcomposer.org/installer', 'composer-setup.php');\" \\\n    && php composer-setup.php \\\n    && php -r \"unlink('composer-setup.php');\" \\\n    && php composer.phar install --no-dev\nCOPY . /var/www/html/\nCMD [\"apache2-foreground\"]\n"
    );
}

/// An archive a `RUN` downloads and unpacks itself is no manifest:
/// caldera's `curl -o go.tgz && tar -xzf go.tgz` moves on its own, above
/// the copy, as before bundled `tar` options were read (it had become a
/// companion of the next install, after that install's inserted COPY).
#[test]
fn a_file_the_run_makes_itself_is_no_manifest() {
    let files = &[("requirements.txt", "flask\n"), ("app.py", "x\n")];
    let df = "FROM debian:bookworm\nWORKDIR /usr/src/app\nADD . .\nRUN curl -k -L https://go.dev/dl/go.tar.gz -o go.tar.gz && tar -C /usr/local -xzf go.tar.gz && rm go.tar.gz\nCMD [\"go\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM debian:bookworm\nWORKDIR /usr/src/app\nRUN curl -k -L https://go.dev/dl/go.tar.gz -o go.tar.gz && tar -C /usr/local -xzf go.tar.gz && rm go.tar.gz\nADD . .\nCMD [\"go\"]\n"
    );
}

/// npm's older `--only=production` (`--omit=dev`) names no path: the
/// install moves (a value option, not an option the base does not know).
#[test]
fn npm_only_production_is_a_known_option() {
    let files = &[
        ("package.json", "{\"name\":\"a\",\"version\":\"1.0.0\"}"),
        (
            "package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{}}",
        ),
        ("index.js", "x\n"),
    ];
    let df = "FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nRUN npm ci --only=production\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nWORKDIR /usr/src/app\nCOPY package.json package-lock.json ./\nRUN npm ci --only=production\nCOPY . .\n"
    );
}

/// pnpm's `--reporter=ndjson` says how it reports: the install is still
/// examined (proposed, here Unsafe for its pnpm lock rules or the shipped
/// repository, never dropped as an unknown command).
#[test]
fn pnpm_reporter_is_a_known_option() {
    let out = rewrite_at(
        PNPM,
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN pnpm install --reporter=ndjson --frozen-lockfile\n",
        Applicability::Unsafe,
    );
    assert!(
        out.changes
            .iter()
            .any(|c| c.kind == dockreorder::plan::ChangeKind::Hoist),
        "{:?}",
        out.changes
    );
}

/// A `RUN` whose first line is only `RUN \` was quoted as "`RUN \`" in
/// the summary and the reason; the quote now shows the command.
#[test]
fn a_continued_run_is_quoted_by_its_command() {
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN \\\n# the install\n\n    npm ci\n";
    let out = rewrite_at(NPM, df, Applicability::Safe);
    let c = out
        .changes
        .iter()
        .find(|c| c.kind == dockreorder::plan::ChangeKind::Hoist)
        .expect("the hoist is proposed");
    assert!(c.summary.contains("`RUN npm ci`"), "{}", c.summary);
    assert!(!c.summary.contains('\\'), "{}", c.summary);
}

#[test]
fn uv_sync_without_the_project_of_a_package_still_hoists() {
    // uv's own Docker pattern: the project is a package, locked as
    // `editable = "."`; `--no-install-project` skips it, so the check for
    // local sources must not count the project itself.
    let files = uv_project(
        "\n[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n",
        &[(
            "uv.lock",
            "version = 1\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n",
        )],
    );
    let df = "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen --no-install-project\n";
    let out = hoisted_owned(&files, df);
    assert_ne!(out, df, "not hoisted");
}

/// poetry installs a dependency from the project's files only through its
/// dependency tables (`path`, `file`, `develop`, a local `url`) or a PEP
/// 621 direct reference: a `readme` or `license-files` is read only to
/// build the project, which `--no-root` skips, and no longer keeps the
/// install in place (review 16's check read any `file` key anywhere). A
/// `license = {file = …}` is read whenever poetry loads the project (see
/// `tests/soundness.rs`), so this project's license is an SPDX string.
#[test]
fn poetry_local_dependencies_are_read_from_the_dependency_tables() {
    let lock = include_str!("../samples/poetry/poetry.lock");
    let df =
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN poetry install --no-root --only main\n";
    let base = "[project]\nname = \"app\"\nversion = \"0.1.0\"\nlicense = \"MIT\"\nlicense-files = [\"LICENSE\"]\nreadme = \"README.md\"\nauthors = [{ name = \"A\", email = \"a@example.org\" }]\ndependencies = [\"requests (>=2.31,<3)\"]\n\n[tool.poetry]\npackages = [{ include = \"app\" }]\n";
    let files = |pyproject: &str| -> Vec<(String, String)> {
        [
            ("pyproject.toml", pyproject),
            ("poetry.lock", lock),
            ("LICENSE", "MIT\n"),
            ("README.md", "x\n"),
            ("app/__init__.py", "x\n"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    };
    assert_ne!(
        hoisted_owned(&files(base), df),
        df,
        "a readme or license files are not dependencies"
    );
    for local in [
        format!(
            "{base}\n[tool.poetry.group.dev.dependencies]\nmylib = {{ path = \"libs/mylib\" }}\n"
        ),
        format!(
            "{base}\n[tool.poetry.dependencies]\nmylib = [{{ version = \"1\", python = \"<3.9\" }}, {{ file = \"dist/mylib.whl\" }}]\n"
        ),
        format!("{base}\n[tool.poetry.dependencies]\nmylib = {{ url = \"libs/mylib.tar.gz\" }}\n"),
        format!("{base}\n[tool.poetry.dependencies]\nmylib = {{ git = \"vendor/mylib\" }}\n"),
        format!(
            "{base}\n[tool.poetry.group.dev.dependencies]\nmylib = {{ git = \"file:///app/vendor/mylib\", branch = \"main\" }}\n"
        ),
        base.replace(
            "\"requests (>=2.31,<3)\"",
            "\"requests (>=2.31,<3)\", \"mylib @ file:///app/libs/mylib\"",
        ),
        format!("{base}\n[[tool.poetry.source]]\nname = \"local\"\nurl = \"wheels/\"\n"),
    ] {
        assert_eq!(hoisted_owned(&files(&local), df), df, "{local}");
    }
}

#[test]
fn a_project_named_as_a_transitive_dependency_of_the_pins_is_not_split() {
    // Measured with BuildKit and pip 23.0.1: `requests==2.31.0` installs
    // `idna` as a dependency; `pip install .` of a project named `idna`
    // then uninstalls it, so the split leaves whiteouts of the first
    // layer's idna files in the project's layer (the image grows). Only a
    // file in pip's hash-checking mode (every line `--hash`) installs
    // nothing but what it pins.
    let files: &[(&str, &str)] = &[
        ("requirements.txt", "requests==2.31.0\n"),
        (
            "pyproject.toml",
            "[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"idna\"\nversion = \"3.99\"\ndependencies = []\n",
        ),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt && pip install --no-cache-dir .\n";
    assert_eq!(hoisted(files, df), df);
}

#[test]
fn issue_11_an_install_that_moves_its_output_above_the_project() {
    // `npm install && mv node_modules ../` (a common way to keep the
    // project's node_modules out of a bind-mounted source tree): `mv`
    // into `..` writes `../node_modules` only, not the whole parent,
    // which holds the application directory the copy fills.
    let files = &[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        ("yarn.lock", "\n"),
        ("server.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ];
    let df = "FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nRUN yarn install --ignore-scripts --frozen-lockfile && mv node_modules ../\nCMD [\"node\", \"server.js\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nWORKDIR /usr/src/app\nCOPY package.json yarn.lock ./\nRUN yarn install --ignore-scripts --frozen-lockfile && mv node_modules ../\nCOPY . .\nCMD [\"node\", \"server.js\"]\n"
    );
    // Moved into a directory the copy fills, it stays: above the copy,
    // `lib/` would not exist yet and node_modules would become it.
    let with_lib = &[files, &[("lib/x.js", "x\n")][..]].concat();
    let df = "FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nRUN yarn install --ignore-scripts --frozen-lockfile && mv node_modules lib/\n";
    assert_eq!(hoisted(with_lib, df), df);
    // A copy whose sources land next to the project's files: `..` is the
    // application directory when the install runs in a subdirectory.
    let df = "FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nRUN cd web && yarn install --ignore-scripts --frozen-lockfile && cp -r node_modules ..\n";
    assert_eq!(hoisted(files, df), df);
}

#[test]
fn issue_11_pnpm_patch_files_are_copied_with_the_manifests() {
    // `patchedDependencies` names the patches pnpm applies (and checks
    // against the lock's hashes): they come first with the manifests
    // (measured with pnpm 9.15.0 and BuildKit: identical images but for
    // pnpm's timestamps, which two builds of one file show too).
    let pkg = "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"},\"pnpm\":{\"patchedDependencies\":{\"ms@2.1.3\":\"patches/ms@2.1.3.patch\"}}}";
    let files = &[
        ("package.json", pkg),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        ("patches/ms@2.1.3.patch", "--- a/index.js\n"),
        ("index.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ];
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN corepack enable && pnpm install --ignore-scripts --frozen-lockfile\n";
    assert_eq!(
        hoisted(files, df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\nCOPY patches/ms@2.1.3.patch ./patches/\nRUN corepack enable && pnpm install --ignore-scripts --frozen-lockfile\nCOPY . .\n"
    );
    // pnpm 10 keeps them in pnpm-workspace.yaml.
    let files10 = &[
        (
            "package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        (
            "pnpm-workspace.yaml",
            "patchedDependencies:\n  ms@2.1.3: patches/ms.patch\n",
        ),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        ("patches/ms.patch", "--- a/index.js\n"),
        ("index.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ];
    assert!(hoisted(files10, df).contains("COPY patches/ms.patch ./patches/\nRUN corepack"));
    // A patch the context does not ship, or one outside the project, keeps
    // the install where it is.
    let mut unshipped = files.to_vec();
    unshipped[4] = (".dockerignore", ".git\nnode_modules\npatches\n");
    let (_, app, why) = proposed_hoist(&unshipped, df);
    assert_eq!(app, Applicability::Unsafe, "{why}");
    assert!(why.contains("does not ship"), "{why}");
    let outside = &[
        (
            "package.json",
            &*pkg.replace("patches/ms@2.1.3.patch", "../ms.patch"),
        ),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        ("index.js", "x\n"),
        (".dockerignore", ".git\nnode_modules\n"),
    ];
    let (_, app, why) = proposed_hoist(outside, df);
    assert_eq!(app, Applicability::Unsafe, "{why}");
}

#[test]
fn the_manifest_copy_stands_right_before_the_install_when_nothing_between_touches_its_destination()
{
    // caldera's shape: `RUN go version` and the timezone link move with
    // the install; the inserted COPY goes right before the install, as a
    // person writes it, so a manifest edit reruns the install alone.
    let df = "FROM base\nWORKDIR /usr/src/app\nCOPY . .\nRUN go version\nARG TZ=UTC\nRUN ln -snf /usr/share/zoneinfo/$TZ /etc/localtime\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(TZ_APP, df),
        "FROM base\nWORKDIR /usr/src/app\nRUN go version\nARG TZ=UTC\nRUN ln -snf /usr/share/zoneinfo/$TZ /etc/localtime\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
    );
    // A RUN that may create a directory above the copy's destination
    // (`/srv`, the parent of `/srv/cfg` and of `/srv/app`) keeps the COPY
    // first, where the broad copy stood: whoever creates `/srv` first gives
    // it its owner.
    let df = "FROM base\nWORKDIR /srv/app\nCOPY . .\nRUN mkdir -p /srv/cfg && touch /root/.netrc\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(TZ_APP, df),
        "FROM base\nWORKDIR /srv/app\nCOPY requirements.txt ./\nRUN mkdir -p /srv/cfg && touch /root/.netrc\nRUN pip install -r requirements.txt\nCOPY . .\n"
    );
}

#[test]
fn a_broad_copy_to_an_empty_json_destination_copies_the_manifests_into_the_working_directory() {
    // BuildKit reads `COPY [".", ""]` as a copy into the working directory
    // (measured: the files land in `/app`); the inserted COPY must name the
    // same place, not `/`.
    let df = "FROM base\nWORKDIR /app\nCOPY [\".\", \"\"]\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(TZ_APP, df),
        "FROM base\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY [\".\", \"\"]\n"
    );
}

#[test]
fn go_mod_verify_moves_with_the_download_when_go_sum_is_complete() {
    // Seen after review 22 made `go mod download`/`verify` write go.sum
    // (kept when complete): the planner moved both above the copy, but the
    // rewrite check took the download as a unit that may change go.sum
    // before the verify, and the run stopped with "refusing to write".
    let files: &[(&str, &str)] = &[
        (
            "go.mod",
            "module example.com/app\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n",
        ),
        (
            "go.sum",
            "github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\ngithub.com/google/uuid v1.6.0/go.mod h1:TkhGBeFgUSUEGUcsRhS5RXUbMsC0IgzVSlu9r8B8Ss0=\n",
        ),
        ("main.go", "package main\nfunc main() {}\n"),
    ];
    let df = "FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go mod download\nRUN go mod verify\nRUN go build -o /usr/local/bin/app ./...\n";
    assert_eq!(
        hoisted(files, df),
        "FROM golang:1.22\nWORKDIR /app\nCOPY go.mod go.sum ./\nRUN go mod download\nRUN go mod verify\nCOPY . .\nRUN go build -o /usr/local/bin/app ./...\n"
    );
}

#[test]
fn a_rewritten_file_that_is_not_a_lock_gets_no_lock_remedy() {
    // A shipped `.bundle/config` that `bundle install` may rewrite: the
    // reason offered npm's and yarn's lock flags as the way to make it
    // safe, which no Bundler flag does.
    let files: &[(&str, &str)] = &[
        ("Gemfile", "source \"https://rubygems.org\"\ngem \"rack\"\n"),
        (
            "Gemfile.lock",
            "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (3.0.0)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  rack\n",
        ),
        (".bundle/config", "---\nBUNDLE_WITHOUT: \"development\"\n"),
        ("app.rb", "puts 1\n"),
    ];
    let df = "FROM ruby:3.2\nWORKDIR /app\nENV BUNDLE_FROZEN=true\nCOPY . .\nRUN bundle install\n";
    let (_, applicability, reason) = proposed_hoist(files, df);
    assert_eq!(applicability, Applicability::Unsafe);
    assert!(
        reason.contains("put back the old `.bundle/config`"),
        "{reason}"
    );
    assert!(!reason.contains("npm ci"), "{reason}");
}

/// Corpus (python-docs-samples, people-and-planet-ai): `COPY
/// requirements.txt .` / `COPY *.py ./` / `RUN pip install -r
/// requirements.txt`. A glob that matches only plain files puts each at
/// its own name in the directory, so the install, which reads only
/// `requirements.txt`, moves above it; before, the glob counted as
/// writing the whole destination tree and nothing moved.
#[test]
fn a_glob_of_plain_files_writes_only_those_names() {
    let files = &[
        ("requirements.txt", "six==1.16.0\n"),
        ("main.py", "x\n"),
        ("util.py", "x\n"),
        ("README.md", "x\n"),
    ];
    let df = "FROM python:3.12-slim\nWORKDIR /pipeline\nCOPY requirements.txt .\nCOPY *.py ./\nRUN pip install --no-cache-dir -r requirements.txt\nENTRYPOINT [\"python\", \"main.py\"]\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12-slim\nWORKDIR /pipeline\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY *.py ./\nENTRYPOINT [\"python\", \"main.py\"]\n"
    );
    // The glob before the manifest's own copy.
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY *.py ./\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY *.py ./\n"
    );
    // A glob that may put the manifest there keeps its place: one
    // matching it (`*.txt`), a directory it matches (whose contents go
    // into the destination: `x.py/requirements.txt`), a symbolic link
    // (followed by BuildKit: `lib.py -> sub`).
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nCOPY *.txt ./\nRUN pip install -r requirements.txt\n";
    assert_eq!(hoisted(files, df), df);
    let with_dir = &[
        ("requirements.txt", "six==1.16.0\n"),
        ("main.py", "x\n"),
        ("x.py/requirements.txt", "flask\n"),
    ];
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nCOPY *.py ./\nRUN pip install -r requirements.txt\n";
    assert_eq!(hoisted(with_dir, df), df);
    let dir = crate::support::project(&[("requirements.txt", "six==1.16.0\n"), ("main.py", "x\n")]);
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    std::fs::write(dir.path().join("sub/requirements.txt"), "flask\n").expect("write");
    std::os::unix::fs::symlink("sub", dir.path().join("lib.py")).expect("symlink");
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    let out = rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe)).expect("rewrite");
    assert_eq!(out.new_text, df);
}

/// Issue 11, capability 3 with several sources: the install moves above
/// a copy of several sources or of globs (corpus: python-docs-samples'
/// cloud-trace-demo-app-opentelemetry, `COPY *.py *.txt ./` then `RUN
/// pip install -r requirements.txt`), the manifest copied from where the
/// copy takes it. Before, only a copy of one directory was a broad copy
/// and nothing moved.
#[test]
fn issue_11_a_copy_of_several_sources_or_globs_is_hoisted_past() {
    let files = &[
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "x\n"),
        ("util.py", "x\n"),
        ("notes.txt", "x\n"),
        ("config/settings.ini", "x\n"),
        ("src/requirements.txt", "six==1.16.0\n"),
        ("src/main.py", "x\n"),
    ];
    // The corpus file's shape.
    let df = "FROM python:3.12-slim\nENV APP_HOME /app\nWORKDIR $APP_HOME\nCOPY *.py *.txt ./\nRUN pip install -r requirements.txt\nCMD exec gunicorn app:app\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12-slim\nENV APP_HOME /app\nWORKDIR $APP_HOME\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY *.py *.txt ./\nCMD exec gunicorn app:app\n"
    );
    // Named files and a directory, whose contents go into the destination.
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt app.py config/ ./\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY requirements.txt app.py config/ ./\n"
    );
    // Globs below a directory, to an absolute destination; the flags are
    // repeated.
    let df = "FROM python:3.12-slim\nCOPY --chown=1000:1000 src/*.txt src/*.py /app/\nWORKDIR /app\nRUN pip install -r requirements.txt\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12-slim\nCOPY --chown=1000:1000 src/requirements.txt /app/\nWORKDIR /app\nRUN pip install -r requirements.txt\nCOPY --chown=1000:1000 src/*.txt src/*.py /app/\n"
    );
    // A copy of dependency manifests alone is no broad copy: the install
    // after it is where a person puts it.
    let mut with_dev = files.to_vec();
    with_dev.push(("requirements-dev.txt", "pytest\n"));
    with_dev.push(("reqs/requirements-test.txt", "pytest\n"));
    for src in [
        "requirements*.txt reqs/",
        "requirements.txt requirements-dev.txt",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY {src} ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
        );
        assert_eq!(hoisted(&with_dev, &df), df, "{src}");
    }
}

const WEB: &[(&str, &str)] = &[
    (
        "web/package.json",
        "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
    ),
    (
        "web/package-lock.json",
        "{\"lockfileVersion\":3,\"packages\":{}}",
    ),
    ("web/index.js", "x\n"),
    ("README.md", "x\n"),
];

/// Issue 11, capability 1: `COPY . .` then `WORKDIR web` (or an absolute
/// `WORKDIR /repo/web`) then the install. The copy reads the working
/// directory, so the `WORKDIR` cannot pass it: the install moves with a
/// `WORKDIR` of its own inserted before it (after the COPY of its
/// manifests, which makes the directory as the broad copy would), and the
/// copy's working directory is set again before the copy; the original
/// `WORKDIR` stays where it was.
#[test]
fn issue_11_working_directory_set_after_a_relative_broad_copy() {
    let df =
        "FROM node:20\nWORKDIR /repo\nCOPY . .\nWORKDIR /repo/web\nRUN npm ci\nRUN npm run build\n";
    let out = rewrite_at(WEB, df, Applicability::Safe);
    assert_eq!(
        out.new_text,
        "FROM node:20\nWORKDIR /repo\nCOPY web/package.json web/package-lock.json ./web/\nWORKDIR /repo/web\nRUN npm ci\nWORKDIR /repo\nCOPY . .\nWORKDIR /repo/web\nRUN npm run build\n"
    );
    let c = out
        .changes
        .iter()
        .find(|c| c.applied)
        .expect("the hoist is applied");
    assert_eq!(c.applicability, Applicability::Safe);
    assert!(c.reason.contains("`WORKDIR /repo/web`"), "{}", c.reason);
    // The change's own fix gives the whole rewrite, restored WORKDIR
    // included.
    let fixed = rewrite::edit::apply(df, &c.edits).expect("edits apply");
    assert_eq!(fixed, out.new_text);
    // A relative `WORKDIR` reads the same: the inserted ones are absolute.
    let df = "FROM node:20\nWORKDIR /repo\nCOPY . .\nWORKDIR web\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n";
    assert_eq!(
        hoisted(WEB, df),
        "FROM node:20\nWORKDIR /repo\nCOPY web/package.json web/package-lock.json ./web/\nWORKDIR /repo/web\nRUN npm ci\nWORKDIR /repo\nCOPY . .\nWORKDIR web\nCMD [\"node\", \"index.js\"]\n"
    );
    // A `USER` in between moves with the install; the copy's directory,
    // set again, is still paired with the `WORKDIR` that first set it (the
    // rewrite check refused this: it paired it with the one set again).
    let df = "FROM node:20\nWORKDIR /repo\nCOPY --chown=node:node . .\nUSER node\nWORKDIR web\nRUN npm ci\n";
    assert_eq!(
        hoisted(WEB, df),
        "FROM node:20\nWORKDIR /repo\nCOPY --chown=node:node web/package.json web/package-lock.json ./web/\nUSER node\nWORKDIR /repo/web\nRUN npm ci\nWORKDIR /repo\nCOPY --chown=node:node . .\nWORKDIR web\n"
    );
    // Two levels down, as .NET projects have it.
    let files = &[
        ("Svc.sln", "x\n"),
        (
            "src/Api/Api.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><ItemGroup><PackageReference Include=\"Serilog\" Version=\"3.1.1\" /></ItemGroup></Project>\n",
        ),
        ("src/Api/Program.cs", "x\n"),
    ];
    let df = "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build\nWORKDIR /src\nCOPY . .\nWORKDIR \"/src/src/Api\"\nRUN dotnet restore \"Api.csproj\"\nRUN dotnet build \"Api.csproj\" -c Release -o /app/build\n";
    assert_eq!(
        hoisted(files, df),
        "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build\nWORKDIR /src\nCOPY src/Api/Api.csproj ./src/Api/\nWORKDIR /src/src/Api\nRUN dotnet restore \"Api.csproj\"\nWORKDIR /src\nCOPY . .\nWORKDIR \"/src/src/Api\"\nRUN dotnet build \"Api.csproj\" -c Release -o /app/build\n"
    );
}

/// The inserted `WORKDIR`s write out the directories the model takes for
/// the default build: one a build argument may change (`--build-arg
/// APP=/x`) is not written out, or the rewritten build runs the install
/// in the default's directory (measured with BuildKit on node:20-slim:
/// `npm ci` then fails in `/repo/web`, the manifests being in `/x/web`).
#[test]
fn inserted_working_directories_do_not_write_out_a_build_arguments_default() {
    for df in [
        "FROM node:20\nARG APP=/repo\nWORKDIR $APP\nCOPY . .\nWORKDIR web\nRUN npm ci\n",
        "ARG APP=/repo\nFROM node:20\nARG APP\nWORKDIR $APP\nCOPY . .\nWORKDIR $APP/web\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /repo\nCOPY . .\nARG SUB=web\nWORKDIR $SUB\nRUN npm ci\n",
        "FROM node:20\nARG APP=/repo\nENV ROOT=$APP\nWORKDIR $ROOT\nCOPY . .\nWORKDIR web\nRUN npm ci\n",
    ] {
        assert_eq!(hoisted(WEB, df), df);
    }
}

/// A `WORKDIR` between the copy and the install that makes a directory
/// the install writes (`WORKDIR web/node_modules/foo`, which `npm ci`
/// empties) is not one the inserted `WORKDIR` stands for: the install
/// stays (it was planned, and the rewrite check refused the file: "puts
/// `RUN npm ci` before `WORKDIR web/node_modules/foo`"). One that makes
/// a directory the install does not touch still lets it move.
#[test]
fn a_workdir_in_between_that_makes_what_the_install_writes_keeps_it_below() {
    let df = "FROM node:20\nWORKDIR /repo\nCOPY . .\nWORKDIR web/node_modules/foo\nWORKDIR /repo/web\nRUN npm ci\n";
    assert_eq!(hoisted(WEB, df), df);
    let df = "FROM node:20\nWORKDIR /repo\nCOPY . .\nWORKDIR web/tmp\nWORKDIR ..\nRUN npm ci\n";
    assert_eq!(
        hoisted(WEB, df),
        "FROM node:20\nWORKDIR /repo\nCOPY web/package.json web/package-lock.json ./web/\nWORKDIR /repo/web\nRUN npm ci\nWORKDIR /repo\nCOPY . .\nWORKDIR web/tmp\nWORKDIR ..\n"
    );
}

/// What the inserted `WORKDIR`s may not do: make a directory the broad
/// copy would have made, or set a directory that is not known.
#[test]
fn inserted_working_directories_stay_within_what_is_known() {
    // The copy's own working directory comes from an image whose working
    // directory is not known: there is nothing known to set again.
    let df = "FROM registry.example/node-base\nCOPY . .\nWORKDIR web\nRUN npm ci\n";
    assert_eq!(hoisted(WEB, df), df);
    // The official image's is `/`, which every image has.
    let df = "FROM node:20\nCOPY . .\nWORKDIR web\nRUN npm ci\n";
    assert_eq!(
        hoisted(WEB, df),
        "FROM node:20\nCOPY web/package.json web/package-lock.json ./web/\nWORKDIR /web\nRUN npm ci\nWORKDIR /\nCOPY . .\nWORKDIR web\n"
    );
    // The install runs in a directory the inserted COPY does not make
    // (its manifests are elsewhere): the inserted WORKDIR would make it,
    // with the user's owner, before the broad copy.
    let files = &[
        ("web/requirements.txt", "flask==3.0.0\n"),
        ("web/app.py", "x\n"),
        ("tools/run.py", "x\n"),
    ];
    let df = "FROM python:3.12\nWORKDIR /repo\nCOPY . .\nWORKDIR /repo/tools\nRUN pip install -r ../web/requirements.txt\n";
    assert_eq!(hoisted(files, df), df);
    // A directory with a blank in its name: not written again.
    let files: Vec<(&str, &str)> = WEB
        .iter()
        .map(|(p, t)| (p.replacen("web/", "my web/", 1).leak() as &str, *t))
        .collect();
    let df = "FROM node:20\nWORKDIR /repo\nCOPY . .\nWORKDIR \"/repo/my web\"\nRUN npm ci\n";
    assert_eq!(hoisted(&files, df), df);
    // An instruction between the copy and the install that runs in the
    // copy's directory stays there, and sees it.
    let df = "FROM node:20\nWORKDIR /repo\nCOPY . .\nRUN mkdir -p logs\nWORKDIR web\nRUN npm ci\n";
    assert_eq!(
        hoisted(WEB, df),
        "FROM node:20\nWORKDIR /repo\nCOPY web/package.json web/package-lock.json ./web/\nWORKDIR /repo/web\nRUN npm ci\nWORKDIR /repo\nCOPY . .\nRUN mkdir -p logs\nWORKDIR web\n"
    );
}

/// pip run from the `bin` directory of a prefix (a venv made earlier in
/// the stage) is pip installing into that prefix: the corpus's
/// `/env/bin/pip install -r /app/requirements.txt` after `ADD . /app`
/// moves, as with `pip` found there through `PATH` (measured: both
/// shapes give identical images, python:3.12-slim).
#[test]
fn issue_11_pip_run_from_a_prefix_bin_directory_hoists() {
    let files = &[("requirements.txt", "six==1.16.0\n"), ("main.py", "x\n")];
    let df = "FROM python:3.12-slim\nRUN python -m venv /env\nENV PATH /env/bin:$PATH\nADD . /app\nRUN /env/bin/pip install --upgrade pip && /env/bin/pip install -r /app/requirements.txt\nCMD python /app/main.py\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12-slim\nRUN python -m venv /env\nENV PATH /env/bin:$PATH\nCOPY requirements.txt /app/\nRUN /env/bin/pip install --upgrade pip && /env/bin/pip install -r /app/requirements.txt\nADD . /app\nCMD python /app/main.py\n"
    );
    // A venv in the working directory that the context does not ship;
    // `python -m pip` of the venv too.
    for run in [
        ".venv-docker/bin/pip install --no-cache-dir -r requirements.txt",
        ".venv-docker/bin/python -m pip install -r requirements.txt",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /srv/app\nRUN python -m venv .venv-docker\nCOPY . .\nRUN {run}\n"
        );
        assert_eq!(
            hoisted(files, &df),
            format!(
                "FROM python:3.12-slim\nWORKDIR /srv/app\nRUN python -m venv .venv-docker\nCOPY requirements.txt ./\nRUN {run}\nCOPY . .\n"
            ),
            "{run}"
        );
    }
}

/// A compound install whose last command touches what the broad copy
/// ships (`&& chmod +x start.sh`, `&& rm -rf tests`) cannot move whole,
/// but its install, split off, can (measured: identical images,
/// python:3.12-slim). A last command elsewhere still moves with it.
#[test]
fn issue_11_an_install_then_a_command_on_the_copied_files_is_split() {
    let files = &[
        ("requirements.txt", "six==1.16.0\n"),
        ("start.sh", "echo hi\n"),
        ("tests/test_a.py", "x\n"),
        ("main.py", "x\n"),
    ];
    for tail in ["chmod +x start.sh", "rm -rf tests"] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt && {tail}\nCMD [\"python\", \"main.py\"]\n"
        );
        assert_eq!(
            hoisted(files, &df),
            format!(
                "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nRUN {tail}\nCMD [\"python\", \"main.py\"]\n"
            ),
            "{tail}"
        );
    }
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt && mkdir -p /var/log/app\n";
    assert_eq!(
        hoisted(files, df),
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt && mkdir -p /var/log/app\nCOPY . .\n"
    );
}

/// `bundle install` without `--frozen` on a lock Bundler keeps byte for
/// byte (measured with Bundler 2.3.7, 2.3.15 and 2.6.7: it writes the lock
/// only when the text it generates differs, and takes the lock's specs
/// when every gem is locked and the host's platform listed) moves above
/// the broad copy as `Safe`.
#[test]
fn bundle_install_keeps_a_lock_bundler_wrote() {
    use crate::support::{BUNDLER_GEMFILE, BUNDLER_LOCK, bundler_hoist};
    let df = "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle install --jobs 4 --retry 3\nCMD [\"ruby\", \"lib/app.rb\"]\n";
    let (app, reason, text) = bundler_hoist(df, &[]);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(
        text,
        "FROM ruby:3.1\nWORKDIR /app\nCOPY Gemfile Gemfile.lock ./\nRUN bundle install --jobs 4 --retry 3\nCOPY . .\nCMD [\"ruby\", \"lib/app.rb\"]\n"
    );
    assert!(
        reason.contains("the lock is the one Bundler writes for the Gemfile"),
        "{reason}"
    );
    // What Bundler measured left alone: no `BUNDLED WITH`, another version
    // of the line, other platforms beside the hosts', a Gemfile with
    // groups, options and double quotes; other listed options; Ruby 3.4
    // (Bundler 2.6) on Debian.
    let gemfile = "# frozen_string_literal: true\n\nsource \"https://rubygems.org\"\n\ngem \"rake\", require: false\ngem \"minitest\", \"~> 5.15\"\n\ngroup :development, :test do\n  gem \"test-unit\", group: :test\nend\n";
    let no_bundled = BUNDLER_LOCK.replace("\nBUNDLED WITH\n   2.3.15\n", "");
    let other_patch = BUNDLER_LOCK.replace("2.3.15", "2.3.7");
    let platforms = BUNDLER_LOCK.replace(
        "  aarch64-linux\n  x86_64-linux\n",
        "  aarch64-linux\n  arm64-darwin\n  ruby\n  x86_64-darwin\n  x86_64-linux\n",
    );
    let bundler_26 = BUNDLER_LOCK.replace("2.3.15", "2.6.7");
    // Requirements as Bundler orders them (sorted, then reversed).
    let two_reqs = "source 'https://rubygems.org/'\n\ngem 'rake'\ngem 'minitest', '>= 5.0', '< 6'\ngem 'test-unit', '>=3.0'\n";
    let two_reqs_lock = BUNDLER_LOCK
        .replace("  minitest (~> 5.15)\n", "  minitest (>= 5.0, < 6)\n")
        .replace("  test-unit\n\nBUNDLED", "  test-unit (>= 3.0)\n\nBUNDLED");
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (df, vec![("Gemfile.lock", &no_bundled)]),
        (df, vec![("Gemfile.lock", &other_patch)]),
        (df, vec![("Gemfile.lock", &platforms)]),
        (df, vec![("Gemfile", gemfile)]),
        (
            df,
            vec![("Gemfile", two_reqs), ("Gemfile.lock", &two_reqs_lock)],
        ),
        (
            "FROM ruby:3.1.6-slim-bookworm\nWORKDIR /app\nCOPY . .\nRUN bundle install --without development test --quiet\n",
            vec![],
        ),
        (
            "FROM ruby:3.1\nENV BUNDLE_WITHOUT=development:test\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
            vec![],
        ),
        (
            "FROM ruby:3.4-slim\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
            vec![("Gemfile.lock", &bundler_26)],
        ),
        (
            "FROM ruby:3.4\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
            vec![("Gemfile.lock", &no_bundled)],
        ),
    ];
    for (df, files) in cases {
        let (app, reason, _) = bundler_hoist(df, &files);
        assert_eq!(app, Applicability::Safe, "{df} {files:?}: {reason}");
    }
    let _ = BUNDLER_GEMFILE;
}

/// Issue 11, capability 8: `WORKDIR $GOPATH/src/…` on the official golang
/// image, which sets `ENV GOPATH /go`: the working directory is known
/// (`/go/src/…`), so the module download moves as with a literal path.
/// An `ARG GOPATH` of the stage leaves it unknown (the image's `ENV` and
/// the argument disagree), and so does another base image.
#[test]
fn gopath_in_a_workdir_is_the_golang_images_own() {
    let files = &[
        ("go.mod", "module example.com/svc\n\ngo 1.22\n"),
        ("go.sum", ""),
        ("main.go", "package main\n\nfunc main() {}\n"),
    ];
    let df = "FROM golang:1.22\nWORKDIR $GOPATH/src/example.com/svc\nCOPY . .\nRUN go mod download\nRUN go build -o /svc .\n";
    assert_eq!(
        hoisted(files, df),
        "FROM golang:1.22\nWORKDIR $GOPATH/src/example.com/svc\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build -o /svc .\n"
    );
    for df in [
        "FROM golang:1.22\nARG GOPATH=/x\nWORKDIR $GOPATH/src/example.com/svc\nCOPY . .\nRUN go mod download\n",
        "FROM registry.example/go-base\nWORKDIR $GOPATH/src/example.com/svc\nCOPY . .\nRUN go mod download\n",
    ] {
        let out = rewrite_at(files, df, Applicability::Safe);
        assert_eq!(out.new_text, df);
    }
}

/// The scout's n08 files: a lock npm 10 writes back unchanged
/// (`license` fields and all).
const NPM_AT_ROOT: &[(&str, &str)] = &[
    (
        "package.json",
        "{\n  \"name\": \"n08\",\n  \"version\": \"1.0.0\",\n  \"private\": true,\n  \"dependencies\": { \"ms\": \"2.1.3\" }\n}\n",
    ),
    (
        "package-lock.json",
        "{\n  \"name\": \"n08\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"n08\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {\n        \"ms\": \"2.1.3\"\n      }\n    },\n    \"node_modules/ms\": {\n      \"version\": \"2.1.3\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"license\": \"MIT\"\n    }\n  }\n}\n",
    ),
    (".dockerignore", "node_modules\n.git\n"),
    ("src/index.js", "console.log(1)\n"),
];

/// Issue 11 (scout39 n08): `COPY . .` then `npm install` with no
/// `WORKDIR` installs at `/`. The copy's `/**` covered npm's settings
/// files (`/root/.npmrc`, `/usr/local/etc/npmrc`, npm and node
/// themselves), so the lock was never taken as kept, though the same
/// project in `/app` was. The copy puts there only what it ships.
#[test]
fn npm_install_at_the_root_keeps_its_lock() {
    let df =
        "FROM node:20-slim\nENV REDISPORT 6379\nCOPY . .\nRUN npm install\nCMD node src/index.js\n";
    let (text, a, why) = proposed_hoist(NPM_AT_ROOT, df);
    assert_eq!(a, Applicability::Safe, "{why}");
    assert_eq!(
        text,
        "FROM node:20-slim\nENV REDISPORT 6379\nCOPY package.json package-lock.json ./\nRUN npm install\nCOPY . .\nCMD node src/index.js\n"
    );
}

/// Issue 11, capability 8: a copy into `$GOPATH/src/…` on the official
/// golang image (`ENV GOPATH /go`) sees the image's variable as a
/// `WORKDIR` does: its destination is known, and absolute (a `WORKDIR`
/// after it may move above it with the install). An `ENV GOPATH` of the
/// stage wins; an `ARG GOPATH` leaves it unknown, and any `ARG` of the
/// stage leaves open whether the destination is absolute (a `WORKDIR`
/// then stays below the copy).
#[test]
fn gopath_in_a_copy_destination_is_the_golang_images_own() {
    let files = &[
        ("go.mod", "module example.com/svc\n\ngo 1.22\n"),
        ("go.sum", ""),
        ("main.go", "package main\n\nfunc main() {}\n"),
        (".dockerignore", ".git\n"),
    ];
    for (df, want) in [
        (
            "FROM golang:1.22\nCOPY . $GOPATH/src/example.com/svc\nWORKDIR $GOPATH/src/example.com/svc\nRUN go mod download\nRUN go build -o /svc .\n",
            "FROM golang:1.22\nCOPY go.mod go.sum $GOPATH/src/example.com/svc/\nWORKDIR $GOPATH/src/example.com/svc\nRUN go mod download\nCOPY . $GOPATH/src/example.com/svc\nRUN go build -o /svc .\n",
        ),
        (
            "FROM golang:1.22\nWORKDIR ${GOPATH}/src/example.com/svc\nCOPY . ${GOPATH}/src/example.com/svc\nRUN go mod download\nRUN go build -o /svc .\n",
            "FROM golang:1.22\nWORKDIR ${GOPATH}/src/example.com/svc\nCOPY go.mod go.sum ${GOPATH}/src/example.com/svc/\nRUN go mod download\nCOPY . ${GOPATH}/src/example.com/svc\nRUN go build -o /svc .\n",
        ),
    ] {
        assert_eq!(hoisted(files, df), want);
    }
    // The stage's `ENV GOPATH` wins (go then reads that whole tree, so
    // the download does not move).
    let df = "FROM golang:1.22\nENV GOPATH=/work\nCOPY . $GOPATH/src/svc\n";
    let parse = dockreorder::syntax::parse(df);
    let model = dockreorder::model::Model::build(&parse, df);
    let (eff, _) = dockreorder::analysis::effects::analyze_stage(&parse, &model.stages[0]);
    let writes = format!("{:?}", eff.iter().map(|e| &e.writes).collect::<Vec<_>>());
    assert!(writes.contains("\"/work/src/svc/**\""), "{writes}");
    assert!(!writes.contains("/go/src/svc"), "{writes}");
    for df in [
        "FROM golang:1.22\nARG GOPATH=/x\nWORKDIR $GOPATH/src/svc\nCOPY . $GOPATH/src/svc\nRUN go mod download\n",
        "FROM golang:1.22\nARG VERSION=1\nCOPY . $GOPATH/src/svc\nWORKDIR $GOPATH/src/svc\nRUN go mod download\n",
        "FROM registry.example/go-base\nCOPY . $GOPATH/src/svc\nWORKDIR $GOPATH/src/svc\nRUN go mod download\n",
    ] {
        let out = rewrite_at(files, df, Applicability::Safe);
        assert_eq!(out.new_text, df);
    }
}

#[test]
fn dotnet_restore_for_the_target_architecture_hoists() {
    // scout41 d03 (dotnet-docker samples, example-voting-app worker):
    // `-a $TARGETARCH` names an architecture, one word BuildKit sets from
    // the platform; it was read as a path through a variable, which made
    // the restore opaque.
    let files = &[
        (
            "Worker.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk\"><ItemGroup><PackageReference Include=\"Newtonsoft.Json\" /></ItemGroup></Project>\n",
        ),
        (
            "Directory.Packages.props",
            "<Project><ItemGroup><PackageVersion Include=\"Newtonsoft.Json\" Version=\"13.0.3\" /></ItemGroup></Project>\n",
        ),
        ("Program.cs", "x\n"),
    ];
    let df = "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build\nARG TARGETARCH\nWORKDIR /source\nCOPY . .\nRUN dotnet restore -a $TARGETARCH\nRUN dotnet publish -a $TARGETARCH --no-restore -o /app\n";
    assert_eq!(
        hoisted(files, df),
        "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build\nARG TARGETARCH\nWORKDIR /source\nCOPY Directory.Packages.props Worker.csproj ./\nRUN dotnet restore -a $TARGETARCH\nCOPY . .\nRUN dotnet publish -a $TARGETARCH --no-restore -o /app\n"
    );
    let df = "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build\nARG TARGETOS\nARG TARGETARCH\nWORKDIR /source\nCOPY . .\nRUN dotnet restore --os \"${TARGETOS}\" --arch ${TARGETARCH} Worker.csproj\n";
    assert_eq!(
        hoisted(files, df),
        "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build\nARG TARGETOS\nARG TARGETARCH\nWORKDIR /source\nCOPY Directory.Packages.props Worker.csproj ./\nRUN dotnet restore --os \"${TARGETOS}\" --arch ${TARGETARCH} Worker.csproj\nCOPY . .\n"
    );
}

#[test]
fn pnpm_install_with_pnpm_home_on_path_hoists() {
    // scout41 n05, pnpm's Docker guide: `ENV PNPM_HOME=/pnpm` and `ENV
    // PATH=$PNPM_HOME:$PATH`. The parent of a PATH directory counts as
    // written by a language installer (a virtualenv's `bin`); for `/pnpm`
    // that is `/`, everything, so the install seemed to rewrite
    // package.json. pnpm writes its home, not the home's parent.
    let df = "FROM node:20-slim AS base\nENV PNPM_HOME=\"/pnpm\"\nENV PATH=\"$PNPM_HOME:$PATH\"\nRUN corepack enable\nWORKDIR /app\nCOPY . .\nRUN pnpm install --ignore-scripts --prod --frozen-lockfile\nCMD [\"node\", \"index.js\"]\n";
    assert_eq!(
        hoisted(PNPM, df),
        "FROM node:20-slim AS base\nENV PNPM_HOME=\"/pnpm\"\nENV PATH=\"$PNPM_HOME:$PATH\"\nRUN corepack enable\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\nRUN pnpm install --ignore-scripts --prod --frozen-lockfile\nCOPY . .\nCMD [\"node\", \"index.js\"]\n"
    );
    let df = "FROM node:20-slim\nENV PNPM_HOME=/pnpm\nENV PATH=$PNPM_HOME:$PATH\nRUN corepack enable\nCOPY . /app\nWORKDIR /app\nRUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm install --ignore-scripts --prod --frozen-lockfile\n";
    assert_eq!(
        hoisted(PNPM, df),
        "FROM node:20-slim\nENV PNPM_HOME=/pnpm\nENV PATH=$PNPM_HOME:$PATH\nRUN corepack enable\nCOPY package.json pnpm-lock.yaml /app/\nWORKDIR /app\nRUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm install --ignore-scripts --prod --frozen-lockfile\nCOPY . /app\n"
    );
}

#[test]
fn dotnet_restore_after_a_copy_of_a_context_directory_hoists() {
    // scout41 d02, the dotnet-docker samples' aspnetapp: `COPY --link
    // aspnetapp/. .` puts the directory's contents in the working
    // directory; the restore was followed only below a copy of the whole
    // context, so it kept reading all of `/source`.
    let files = &[
        (
            "aspnetapp/aspnetapp.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><ItemGroup><PackageReference Include=\"Serilog\" Version=\"3.1.1\" /></ItemGroup></Project>\n",
        ),
        ("aspnetapp/Program.cs", "x\n"),
        ("README.md", "x\n"),
    ];
    let df = "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build\nARG TARGETARCH\nWORKDIR /source\nCOPY --link aspnetapp/. .\nRUN dotnet restore -a $TARGETARCH\nRUN dotnet publish -a $TARGETARCH --no-restore -o /app\n";
    assert_eq!(
        hoisted(files, df),
        "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build\nARG TARGETARCH\nWORKDIR /source\nCOPY --link aspnetapp/aspnetapp.csproj ./\nRUN dotnet restore -a $TARGETARCH\nCOPY --link aspnetapp/. .\nRUN dotnet publish -a $TARGETARCH --no-restore -o /app\n"
    );
    let df = "FROM mcr.microsoft.com/dotnet/sdk:8.0\nCOPY aspnetapp /src\nWORKDIR /src\nRUN dotnet restore aspnetapp.csproj\n";
    assert_eq!(
        hoisted(files, df),
        "FROM mcr.microsoft.com/dotnet/sdk:8.0\nCOPY aspnetapp/aspnetapp.csproj /src/\nWORKDIR /src\nRUN dotnet restore aspnetapp.csproj\nCOPY aspnetapp /src\n"
    );
}

#[test]
fn a_download_piped_into_tar_moves_above_the_copy() {
    // `curl … | tar -xz -C DIR` reads its archive from the pipe, not the
    // working directory the copy fills; it was taken to read all of it, so
    // neither it nor the install after it (both write /usr/local/bin)
    // moved. Measured with BuildKit (debian:bookworm-slim, a tarball of the
    // npm registry piped into `tar -xz -C /opt`): identical images, both
    // RUNs CACHED after a source edit.
    let files = &[
        ("requirements.txt", "flask==3.0.0\n"),
        ("app.py", "x = 1\n"),
        (".dockerignore", ".git\n"),
    ];
    let head = "FROM python:3.12-slim\nWORKDIR /app\n";
    let copy = "COPY . .\n";
    for tar in [
        "RUN curl -fsSL https://example.com/t.tgz | tar -xz -C /usr/local/bin\n",
        "RUN curl -fsSL https://example.com/t.tgz | tar -xzf - --strip-components 1 -C /usr/local/bin\n",
        "RUN wget -qO- https://example.com/t.tgz | tar xvz -C /usr/local/bin\n",
        "RUN curl -fsSL https://example.com/t.tgz | tar -vxzC /usr/local/bin\n",
    ] {
        let pip = "RUN pip install -r requirements.txt\n";
        let df = format!("{head}{copy}{tar}{pip}");
        assert_eq!(
            hoisted(files, &df),
            format!("{head}{tar}COPY requirements.txt ./\n{pip}{copy}"),
            "{tar}"
        );
    }
}

#[test]
fn poetry_export_then_pip_install_moves_with_the_project_and_lock() {
    // `poetry export -o FILE && pip install -r FILE` (the requirements
    // made from the lock) was not in the knowledge base, so the RUN read
    // and wrote everything. Measured with BuildKit (python:3.11-slim
    // stand-in, Poetry 1.8.5): identical images, the install CACHED after
    // a source edit (scout46 p09).
    let pyproject = "[tool.poetry]\nname = \"app\"\nversion = \"0.1.0\"\ndescription = \"\"\nauthors = [\"x <x@example.com>\"]\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nsix = \"1.16.0\"\n\n[build-system]\nrequires = [\"poetry-core\"]\nbuild-backend = \"poetry.core.masonry.api\"\n";
    let files = &[
        ("pyproject.toml", pyproject),
        (
            "poetry.lock",
            "[[package]]\nname = \"six\"\nversion = \"1.16.0\"\n\n[metadata]\nlock-version = \"2.0\"\n",
        ),
        ("main.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let head =
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir poetry==1.8.5\nWORKDIR /srv\n";
    let copy = "COPY . .\n";
    let run = "RUN poetry export --without-hashes -f requirements.txt -o /tmp/requirements.txt && pip install --no-cache-dir -r /tmp/requirements.txt\n";
    let tail = "CMD [\"python\", \"main.py\"]\n";
    assert_eq!(
        hoisted(files, &format!("{head}{copy}{run}{tail}")),
        format!("{head}COPY pyproject.toml poetry.lock ./\n{run}{copy}{tail}")
    );
    // A path dependency is read from the project's tree: not Safe.
    let local = pyproject.replace(
        "six = \"1.16.0\"\n",
        "six = \"1.16.0\"\ncommon = { path = \"libs/common\" }\n",
    );
    let mut with_path: Vec<(&str, &str)> = files.to_vec();
    with_path[0] = ("pyproject.toml", &local);
    with_path.push((
        "libs/common/pyproject.toml",
        "[tool.poetry]\nname = \"common\"\n",
    ));
    let df = format!("{head}{copy}{run}{tail}");
    assert_eq!(hoisted(&with_path, &df), df);
    // Exported over a file the copy ships: the copy would put it back.
    let mut shipped = files.to_vec();
    shipped.push(("requirements.txt", "six\n"));
    let into_cwd = run.replace("/tmp/requirements.txt", "requirements.txt");
    let df = format!("{head}{copy}{into_cwd}{tail}");
    assert_eq!(hoisted(&shipped, &df), df);
}

#[test]
fn pnpm_installs_run_the_install_scripts_of_their_packages() {
    // As yarn's (tests/yarn_lock.rs): pnpm's lock (version 9) does not say
    // which packages have an install script, so only `--ignore-scripts`
    // lets the install move.
    let df = "FROM node:20\nRUN npm install -g pnpm@9.15.9\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n";
    let (text, app, reason) = proposed_hoist(PNPM, df);
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    assert!(reason.contains("install scripts"), "{reason}");
    assert_eq!(text, df);
    let off = df.replace("--frozen-lockfile", "--frozen-lockfile --ignore-scripts");
    assert_ne!(hoisted(PNPM, &off), off);
}

#[test]
fn a_heredoc_script_install_moves_with_its_manifests() {
    // `RUN <<EOT` runs the heredoc's body as the shell's script (BuildKit's
    // `dispatchRun`: the body is the `-c` argument, not expanded): it is
    // read as a command line with one command per line, `\` continuing a
    // line, `<<-` stripping leading tabs (scout46 n08: every heredoc RUN
    // was opaque).
    let files = crate::support::HEREDOC_NPM;
    let head =
        "# syntax=docker/dockerfile:1\nFROM node:20-slim\nENV NODE_ENV=production\nWORKDIR /app\n";
    for run in [
        "RUN <<EOT\nset -e\nnpm ci --omit=dev\nnpm cache clean --force\nEOT\n",
        "RUN <<'EOT'\n# the dependencies\nnpm ci \\\n  --omit=dev\nEOT\n",
        "RUN <<-EOT\n\tnpm ci --omit=dev\n\tEOT\n",
        "RUN --mount=type=cache,target=/root/.npm <<EOT\nnpm ci --omit=dev\nEOT\n",
    ] {
        let df = format!("{head}COPY . .\n{run}USER node\n");
        assert_eq!(
            hoisted(files, &df),
            format!("{head}COPY package.json package-lock.json ./\n{run}COPY . .\nUSER node\n"),
            "{run}"
        );
    }
}

/// The report quotes a heredoc `RUN` with its script (`RUN <<EOT (set -e;
/// npm ci …)`): the marker alone says nothing of what moved. The summary
/// line is checked; the figures table takes the same text
/// (`Instruction::one_line`).
#[test]
fn a_heredoc_run_is_quoted_with_its_script() {
    let mut files = crate::support::HEREDOC_NPM.to_vec();
    files.push((
        "Dockerfile",
        "# syntax=docker/dockerfile:1\nFROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN <<EOT\nset -e\n\n# the dependencies\nnpm ci --omit=dev\nEOT\nCOPY <<EOF /etc/motd\nhello\nEOF\n",
    ));
    let dir = crate::support::project(&files);
    let out = std::process::Command::new(crate::support::bin())
        .args(["--no-history", "."])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("moved `RUN <<EOT (set -e; npm ci --omit=dev)` above `COPY . .` (line 4)"),
        "{text}"
    );
}

#[test]
fn a_heredoc_script_moves_as_its_commands_on_one_line_do() {
    // A heredoc script is read as the same commands joined on one line:
    // checks that look at the RUN's text (the lone-install rule of the
    // Bundler lock, composer's git) must see its body, not `<<EOT`.
    use crate::support::bundler_rewrite;
    for (head, cmds) in [
        (
            "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\n",
            ["bundle install --jobs 4", "bundle lock --add-platform ruby"],
        ),
        (
            "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\n",
            ["bundle install --jobs 4", "touch /tmp/x"],
        ),
    ] {
        let line = format!("{head}RUN {}\n", cmds.join("; "));
        let script = format!("{head}RUN <<EOT\n{}\nEOT\n", cmds.join("\n"));
        let one = bundler_rewrite(&line, &[]).0.map(|(app, _)| app);
        let doc = bundler_rewrite(&script, &[]).0.map(|(app, _)| app);
        assert_eq!(one, doc, "{cmds:?}");
    }
}

/// Scout 46's r01 (fat_free_crm's shape): `ENV HOME /home/app`, the
/// project added to the home, an apt install before, and `bundle config
/// set --local without …` in the install's `RUN`. Bundler's settings in
/// that home are files the copy does not ship (it lists its files), the
/// Debian archive puts nothing where Ruby keeps its settings, gems or
/// programs (/usr/local, /etc/gemrc: bookworm's Contents index), and the
/// `without` setting (like `BUNDLE_JOBS`) leaves the lock alone (measured
/// with Bundler 2.3.15): the install moves, `Safe`.
#[test]
fn bundle_install_with_home_set_and_its_settings_in_its_run_moves() {
    use crate::support::bundler_hoist;
    let files = &[
        (".rspec", "--require spec_helper\n"),
        ("config/app.yml", "a: 1\n"),
    ];
    let df = "FROM ruby:3.1\nENV HOME /home/app\nRUN mkdir -p $HOME\nWORKDIR $HOME\nADD . $HOME\nRUN apt-get update && apt-get install -y tzdata\nRUN bundle config set --local without 'development test' && \\\n    bundle install\nCMD [\"bundle\", \"exec\", \"rake\"]\n";
    let (app, reason, text) = bundler_hoist(df, files);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(
        text,
        "FROM ruby:3.1\nENV HOME /home/app\nRUN mkdir -p $HOME\nWORKDIR $HOME\nRUN apt-get update && apt-get install -y tzdata\nCOPY Gemfile Gemfile.lock $HOME/\nRUN bundle config set --local without 'development test' && \\\n    bundle install\nADD . $HOME\nCMD [\"bundle\", \"exec\", \"rake\"]\n"
    );
    // Settings the context holds but `.dockerignore` leaves out.
    let (app, reason, _) = bundler_hoist(
        "FROM ruby:3.1\nENV HOME /home/app\nWORKDIR $HOME\nADD . $HOME\nRUN bundle config set --local without test && bundle install\n",
        &[
            (".bundle/config", "---\nBUNDLE_WITHOUT: \"development\"\n"),
            (".dockerignore", ".git\n.bundle\n"),
        ],
    );
    assert_eq!(app, Applicability::Safe, "{reason}");
    for df in [
        "FROM ruby:3.1-slim\nENV BUNDLE_WITHOUT=development:test \\\n    BUNDLE_JOBS=4\nWORKDIR /app\nCOPY . /app\nRUN bundle install\n",
        "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle config without development:test && bundle config set jobs 4 && bundle install\n",
        "FROM ruby:3.1\nENV HOME=/home/app\nWORKDIR /home/app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN apt-get update && apt-get install -y --no-install-recommends libpq-dev\nRUN bundle install\n",
    ] {
        let (app, reason, _) = bundler_hoist(df, files);
        assert_eq!(app, Applicability::Safe, "{df}: {reason}");
    }
}

/// Scout 46's r02 (errbit's shape): the Gemfile's `ruby` line reads
/// `.ruby-version` by its literal name. The file is copied with the
/// Gemfile, and a lock whose `RUBY VERSION` is that version is kept
/// (Bundler 2.3.15 measured: kept; without the section, or with another
/// version locked, it resolved again).
#[test]
fn a_gemfile_ruby_line_reading_ruby_version_copies_it() {
    use crate::support::{BUNDLER_GEMFILE, BUNDLER_LOCK, bundler_hoist};
    let lock = BUNDLER_LOCK.replace(
        "\nBUNDLED WITH",
        "\nRUBY VERSION\n   ruby 3.1.2p20\n\nBUNDLED WITH",
    );
    let df = "FROM ruby:3.1-slim\nENV BUNDLE_WITHOUT=development:test \\\n    BUNDLE_JOBS=4\nWORKDIR /app\nCOPY . /app\nRUN bundle install\nCMD [\"bundle\", \"exec\", \"rake\"]\n";
    for line in [
        "ruby File.read(File.join(__dir__, \".ruby-version\")).strip",
        "ruby File.read(\".ruby-version\").strip",
        "ruby File.read(File.expand_path('.ruby-version', __dir__)).chomp",
    ] {
        let gemfile = BUNDLER_GEMFILE.replace(
            "source 'https://rubygems.org'\n",
            &format!("source 'https://rubygems.org'\n\n{line}\n"),
        );
        assert_ne!(gemfile, BUNDLER_GEMFILE);
        let files = [
            ("Gemfile", gemfile.as_str()),
            ("Gemfile.lock", lock.as_str()),
            (".ruby-version", "3.1.2\n"),
        ];
        let (app, reason, text) = bundler_hoist(df, &files);
        assert_eq!(app, Applicability::Safe, "{line}: {reason}");
        assert_eq!(
            text,
            "FROM ruby:3.1-slim\nENV BUNDLE_WITHOUT=development:test \\\n    BUNDLE_JOBS=4\nWORKDIR /app\nCOPY Gemfile Gemfile.lock .ruby-version /app/\nRUN bundle install\nCOPY . /app\nCMD [\"bundle\", \"exec\", \"rake\"]\n",
            "{line}"
        );
    }
    // A version written in the Gemfile: nothing else to copy.
    let gemfile = format!("{BUNDLER_GEMFILE}ruby '3.1.2'\n");
    let (app, reason, text) = bundler_hoist(
        df,
        &[
            ("Gemfile", gemfile.as_str()),
            ("Gemfile.lock", lock.as_str()),
        ],
    );
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert!(text.contains("COPY Gemfile Gemfile.lock /app/\n"), "{text}");
}

/// Scout 46's p13: `ENV PIP_CONFIG_FILE=/app/pip.conf` names a file the
/// broad copy ships, which pip reads (pip's user guide, "Configuration").
/// It is copied with the requirements when it sets only options that name
/// no file.
#[test]
fn pip_config_file_is_copied_with_the_requirements() {
    let files = &[
        ("requirements.txt", "six==1.16.0\nidna==3.10\n"),
        (
            "pip.conf",
            "[global]\ndisable-pip-version-check = true\nindex-url = https://pypi.org/simple\n[install]\nno-compile = true\n",
        ),
        ("main.py", "import six\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nENV PIP_CONFIG_FILE=/app/pip.conf\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"main.py\"]\n";
    let (text, app, reason) = proposed_hoist(files, df);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(
        text,
        "FROM python:3.12-slim\nENV PIP_CONFIG_FILE=/app/pip.conf\nWORKDIR /app\nCOPY requirements.txt pip.conf ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"main.py\"]\n"
    );
    // Named relative to where pip runs.
    let df = "FROM python:3.12-slim\nENV PIP_CONFIG_FILE=pip.conf\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n";
    let (text, app, reason) = proposed_hoist(files, df);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert!(
        text.contains("COPY requirements.txt pip.conf ./\n"),
        "{text}"
    );
}

/// A Gemfile's `eval_gemfile` with a literal name: Bundler evaluates that
/// file too, so the `Unsafe` hoist (the evaluated code is not followed)
/// copies it with the Gemfile, as `gemspec` and `ruby file:` do.
#[test]
fn an_eval_gemfile_of_a_literal_name_is_copied_with_the_gemfile() {
    use crate::support::{BUNDLER_GEMFILE, BUNDLER_LOCK};
    let gemfile = format!("{BUNDLER_GEMFILE}eval_gemfile \"Gemfile.common\"\n");
    let files = [
        ("Gemfile", gemfile.as_str()),
        ("Gemfile.lock", BUNDLER_LOCK),
        ("Gemfile.common", "gem 'rake'\n"),
        (".dockerignore", ".git\n"),
        ("lib/app.rb", "puts 1\n"),
    ];
    let df = "FROM ruby:3.1\nWORKDIR /app\nCOPY . .\nRUN bundle install\n";
    let (_, app, reason) = proposed_hoist(&files, df);
    assert_eq!(app, Applicability::Unsafe, "{reason}");
    let out = rewrite_at(&files, df, Applicability::Unsafe);
    assert_eq!(
        out.new_text,
        "FROM ruby:3.1\nWORKDIR /app\nCOPY Gemfile Gemfile.lock Gemfile.common ./\nRUN bundle install\nCOPY . .\n"
    );
}

#[test]
fn pnpm_ten_runs_no_dependency_scripts_so_its_install_moves() {
    // pnpm 10 runs no dependency's install script unless the project
    // allows it (`onlyBuiltDependencies`, …). With pnpm 10 put on PATH by
    // the stage and `packageManager` naming pnpm 10 (pnpm switches to the
    // release it names; corepack's shim runs it), the install moves.
    // Measured with BuildKit (node:20-slim, pnpm 10.12.1, msw 2.7.0 whose
    // postinstall writes into the project): identical images but pnpm's
    // own state files (which differ between two builds of the original),
    // the install CACHED after a source edit.
    let pm = |v: &str, extra: &str| {
        format!(
            "{{\"name\":\"a\",\"version\":\"1.0.0\",\"packageManager\":\"pnpm@{v}\",\"dependencies\":{{\"ms\":\"2.1.3\"}}{extra}}}"
        )
    };
    let files = |package: &str| -> Vec<(String, String)> {
        vec![
            ("package.json".into(), package.to_string()),
            ("pnpm-lock.yaml".into(), "lockfileVersion: '9.0'\n".into()),
            ("index.js".into(), "x\n".into()),
            (".dockerignore".into(), ".git\nnode_modules\n".into()),
        ]
    };
    let tail = "WORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n";
    let moved = |package: &str, launch: &str| {
        let df = format!("FROM node:20-slim\n{launch}{tail}");
        hoisted_owned(&files(package), &df) != df
    };
    for launch in [
        "RUN npm install -g pnpm@10.12.1\n",
        "RUN npm i -g pnpm@10\n",
        "RUN npm install --global pnpm@10.x && npm cache clean --force\n",
        "RUN corepack enable\n",
        "RUN corepack enable pnpm\n",
        "ENV PNPM_HOME=/pnpm\nENV PATH=/pnpm:/usr/local/bin:/usr/bin:/bin\nRUN corepack enable\n",
    ] {
        assert!(moved(&pm("10.12.1", ""), launch), "{launch}");
    }
    // pnpm 9 runs them: as launched, or as `packageManager` names it
    // (measured: pnpm 10.12.1 ran 9.15.9, which ran msw's postinstall).
    // So do a project that allows builds, and anything that may put
    // another pnpm first or set pnpm's configuration.
    // So does the registry's newest pnpm (no version, `latest`: 12.25.1
    // in December 2026, a major whose policy was not read), and a
    // `packageManager` of another major, which pnpm 10 switches to.
    let allow = ",\"pnpm\":{\"onlyBuiltDependencies\":[\"ms\"]}";
    for (package, launch) in [
        (pm("10.12.1", ""), "RUN npm install --global pnpm@latest\n"),
        (
            pm("10.12.1", ""),
            "RUN npm install -g pnpm && npm cache clean --force\n",
        ),
        (pm("12.25.1", ""), "RUN npm install -g pnpm@10.12.1\n"),
        (pm("11.29.0", ""), "RUN corepack enable\n"),
        (pm("9.15.9", ""), "RUN npm install -g pnpm@10.12.1\n"),
        (pm("10.12.1", ""), "RUN npm install -g pnpm@9.15.9\n"),
        (pm("10.12.1", ""), "RUN npm install -g pnpm@9\n"),
        (pm("10.12.1", ""), ""),
        (pm("10.12.1", allow), "RUN npm install -g pnpm@10.12.1\n"),
        (
            pm(
                "10.12.1",
                ",\"devEngines\":{\"packageManager\":{\"name\":\"pnpm\"}}",
            ),
            "RUN npm install -g pnpm@10.12.1\n",
        ),
        (
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}".to_string(),
            "RUN corepack enable\n",
        ),
        (pm("10.12.1", ""), "RUN npm install -g pnpm@10.12.1 serve\n"),
        (
            pm("10.12.1", ""),
            "RUN npm install -g pnpm@10.12.1\nRUN npm install -g serve\n",
        ),
        (
            pm("10.12.1", ""),
            "RUN npm install -g pnpm@10.12.1 && apt-get update\n",
        ),
        (
            pm("10.12.1", ""),
            "RUN npm install -g pnpm@10.12.1\nRUN pnpm config set dangerously-allow-all-builds true\n",
        ),
        (
            pm("10.12.1", ""),
            "RUN npm install -g pnpm@10.12.1\nENV npm_config_dangerously_allow_all_builds=true\n",
        ),
        (
            pm("10.12.1", ""),
            "RUN npm install -g pnpm@10.12.1\nENV COREPACK_ENABLE_PROJECT_SPEC=0\n",
        ),
        (
            pm("10.12.1", ""),
            "RUN npm install -g pnpm@10.12.1\nRUN if true; then true; fi\n",
        ),
        (
            pm("10.12.1", ""),
            "RUN corepack enable && corepack disable\n",
        ),
    ] {
        assert!(!moved(&package, launch), "{package} {launch}");
    }
    // The launch in the stage this one is built on.
    let staged = |base: &str, launch: &str| {
        let df = format!("FROM {base} AS base\n{launch}FROM base\n{tail}");
        hoisted_owned(&files(&pm("10.12.1", "")), &df) != df
    };
    assert!(staged("node:20-slim", "RUN corepack enable\n"));
    assert!(staged(
        "node:20-slim",
        "RUN npm install -g pnpm@10.12.1\nWORKDIR /app\n"
    ));
    assert!(!staged("mycorp/node:20", "RUN corepack enable\n"));
    let df = format!(
        "FROM node:20-slim AS base\nRUN corepack enable\nFROM base\nENV PATH=/opt/bin:$PATH\n{tail}"
    );
    assert_eq!(hoisted_owned(&files(&pm("10.12.1", "")), &df), df);
    assert!(!staged(
        "node:20-slim",
        "RUN corepack enable\nRUN npm install -g serve\n"
    ));
    assert!(!staged(
        "node:20-slim",
        "RUN corepack enable\nCOPY pnpm /opt/bin/pnpm\nENV PATH=/opt/bin:/usr/local/bin:/usr/bin:/bin\n"
    ));
    assert!(!staged(
        "node:20-slim",
        "RUN corepack enable\nRUN echo dangerously-allow-all-builds=true > /root/.npmrc\n"
    ));
    // A workspace file or an .npmrc allowing builds.
    let mut ws = files(&pm("10.12.1", ""));
    ws.push((
        "pnpm-workspace.yaml".into(),
        "onlyBuiltDependencies:\n  - ms\n".into(),
    ));
    let df = format!("FROM node:20-slim\nRUN npm install -g pnpm@10.12.1\n{tail}");
    assert_eq!(hoisted_owned(&ws, &df), df);
    let mut rc = files(&pm("10.12.1", ""));
    rc.push((
        ".npmrc".into(),
        "dangerously-allow-all-builds=true\n".into(),
    ));
    assert_eq!(hoisted_owned(&rc, &df), df);
}

#[test]
fn issue_11_exec_form_installs_move_like_their_shell_form() {
    // awesome-compose nginx-aspnet-mysql writes `RUN ["dotnet", "restore"]`:
    // an exec-form RUN is its argv with no shell and no expansion (the
    // Dockerfile reference, "Shell and exec form"), so the knowledge of
    // the command applies word for word (scout50 d03).
    let dotnet: &[(&str, &str)] = &[
        (
            "aspnetapp.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk.Web\"/>\n",
        ),
        ("Program.cs", "x\n"),
        (".dockerignore", "bin/\nobj/\n"),
    ];
    let df = "FROM mcr.microsoft.com/dotnet/sdk:6.0 AS base\nWORKDIR /src\nCOPY . .\nRUN [\"dotnet\", \"restore\"]\nFROM base AS publisher\nRUN [\"dotnet\", \"publish\", \"-c\", \"Release\", \"-o\", \"/build\"]\n";
    assert_eq!(
        hoisted(dotnet, df),
        "FROM mcr.microsoft.com/dotnet/sdk:6.0 AS base\nWORKDIR /src\nCOPY aspnetapp.csproj ./\nRUN [\"dotnet\", \"restore\"]\nCOPY . .\nFROM base AS publisher\nRUN [\"dotnet\", \"publish\", \"-c\", \"Release\", \"-o\", \"/build\"]\n"
    );
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN [\"npm\", \"ci\"]\nRUN [\"npm\", \"run\", \"build\"]\n";
    assert_eq!(
        hoisted(NPM, df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN [\"npm\", \"ci\"]\nCOPY . .\nRUN [\"npm\", \"run\", \"build\"]\n"
    );
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN [\"pip\", \"install\", \"--no-cache-dir\", \"-r\", \"requirements.txt\"]\n";
    assert_eq!(
        hoisted(PIP, df),
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nRUN [\"pip\", \"install\", \"--no-cache-dir\", \"-r\", \"requirements.txt\"]\nCOPY . .\n"
    );
}

/// Copies of requirement files move down to their installs at the root
/// working directory too (the python image starts in `/`): the check of
/// where each file came from took `/` for no directory and refused every
/// such reorder (corpus: a Cloud Composer test image lost its reorder).
#[test]
fn manifest_copies_move_to_their_installs_at_the_root_directory() {
    let files = [
        ("requirements.txt", "six==1.16.0\n"),
        ("requirements-test.txt", "idna==3.10\n"),
        ("requirements-composer.txt", "certifi==2024.8.30\n"),
        ("main.py", "x\n"),
    ];
    let df = "FROM python:3.12\nCOPY requirements.txt ./\nCOPY requirements-composer.txt ./\nCOPY requirements-test.txt ./\nRUN pip install -r requirements.txt\nRUN pip install -r requirements-test.txt\nRUN pip install -r requirements-composer.txt\nWORKDIR /dags\nCOPY . ./\n";
    assert_eq!(
        hoisted(&files, df),
        "FROM python:3.12\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY requirements-test.txt ./\nRUN pip install -r requirements-test.txt\nCOPY requirements-composer.txt ./\nRUN pip install -r requirements-composer.txt\nWORKDIR /dags\nCOPY . ./\n"
    );
}

/// A node project of `package` (package.json) and `lock`
/// (package-lock.json), its `node_modules` and `.git` ignored.
fn npm_project<'a>(package: &'a str, lock: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("package.json", package),
        ("package-lock.json", lock),
        (".dockerignore", "node_modules\n.git\n"),
        ("index.js", "x\n"),
    ]
}

/// `RUN {run}` after `COPY . .` on node:20-slim moves above the copy,
/// `Safe`, with package.json and its lock copied first.
fn assert_npm_hoisted(files: &[(&str, &str)], run: &str) {
    let df = format!(
        "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD [\"node\", \"index.js\"]\n"
    );
    let (text, a, why) = proposed_hoist(files, &df);
    assert_eq!(a, Applicability::Safe, "{why}");
    assert_eq!(
        text,
        format!(
            "FROM node:20-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN {run}\nCOPY . .\nCMD [\"node\", \"index.js\"]\n"
        )
    );
}

/// The lock of a project using sharp 0.33 or 0.34 marks sharp's install
/// check, read in every version of 0.33.0-0.34.5: it looks for a global
/// libvips with pkg-config and builds from source only when one is there
/// (or a setting asks) and node-gyp and node-addon-api are installed,
/// reading nothing of the project. Measured with BuildKit on
/// node:20-slim (npm 10.8.2): the hoisted `npm ci` built the same image
/// and was served from the cache after a source edit.
#[test]
fn npm_ci_hoists_over_sharps_install_check() {
    let entry = |name: &str, version: &str, extra: &str| {
        format!(
            ",\"node_modules/{name}\":{{\"version\":\"{version}\",\"integrity\":\"sha512-AAAA\"{extra}}}"
        )
    };
    let lock = format!(
        "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"sharp\":\"0.34.4\"}}}}{}{}{}{}{}{}}}}}",
        entry("@img/colour", "1.1.0", ""),
        entry(
            "@img/sharp-libvips-linux-x64",
            "1.2.3",
            ",\"optional\":true,\"os\":[\"linux\"],\"cpu\":[\"x64\"]"
        ),
        entry(
            "@img/sharp-linux-x64",
            "0.34.4",
            ",\"optional\":true,\"os\":[\"linux\"],\"cpu\":[\"x64\"]"
        ),
        entry("detect-libc", "2.1.2", ""),
        entry("semver", "7.7.3", ""),
        entry("sharp", "0.34.4", ",\"hasInstallScript\":true"),
    );
    let files = npm_project(
        "{\"name\":\"a\",\"dependencies\":{\"sharp\":\"0.34.4\"}}",
        &lock,
    );
    assert_npm_hoisted(&files, "npm ci");
}

/// The lock of a project using swc (Next.js plugins, jest, ts-node)
/// marks @swc/core's postinstall, read in every version of
/// 1.3.0-1.16.22: it reads the project's name in the package.json of the
/// directory npm runs in (which the hoist copies), checks its native
/// binding, and only when that fails installs @swc/wasm into the
/// project's node_modules. Measured with BuildKit on node:20-slim (npm
/// 10.8.2): the hoisted `npm ci` built the same image, with
/// `--omit=optional` too (the fallback), and was served from the cache
/// after a source edit.
#[test]
fn npm_ci_hoists_over_swcs_postinstall() {
    let entry = |name: &str, version: &str, extra: &str| {
        format!(
            ",\"node_modules/{name}\":{{\"version\":\"{version}\",\"integrity\":\"sha512-AAAA\"{extra}}}"
        )
    };
    let lock = format!(
        "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"@swc/core\":\"1.15.3\"}}}}{}{}{}{}{}}}}}",
        entry("@swc/core", "1.15.3", ",\"hasInstallScript\":true"),
        entry(
            "@swc/core-linux-x64-gnu",
            "1.15.3",
            ",\"optional\":true,\"os\":[\"linux\"],\"cpu\":[\"x64\"]"
        ),
        entry(
            "@swc/core-linux-x64-musl",
            "1.15.3",
            ",\"optional\":true,\"os\":[\"linux\"],\"cpu\":[\"x64\"]"
        ),
        entry("@swc/counter", "0.1.3", ""),
        entry("@swc/types", "0.1.28", ""),
    );
    let files = npm_project(
        "{\"name\":\"a\",\"dependencies\":{\"@swc/core\":\"1.15.3\"}}",
        &lock,
    );
    for run in ["npm ci", "npm ci --omit=optional"] {
        assert_npm_hoisted(&files, run);
    }
}

/// fsevents, an optional dependency for macOS (chokidar, jest, vite),
/// is marked with an install script in many locks, but npm does not
/// install it on Linux and runs none of its scripts there (npm 10.8.2
/// checks an optional package's `os` before it extracts it and runs no
/// script of one it skipped). Measured with BuildKit on node:20-slim:
/// fsevents 1.2.13 as an optional dependency, the hoisted `npm ci` built
/// the same image without `node_modules/fsevents`, and was served from
/// the cache after a source edit.
#[test]
fn npm_ci_hoists_over_an_install_script_npm_skips_on_linux() {
    let entry = |name: &str, version: &str, extra: &str| {
        format!(
            ",\"node_modules/{name}\":{{\"version\":\"{version}\",\"integrity\":\"sha512-AAAA\"{extra}}}"
        )
    };
    let lock = format!(
        "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"ms\":\"2.1.3\"}},\"optionalDependencies\":{{\"fsevents\":\"1.2.13\"}}}}{}{}{}}}}}",
        entry(
            "fsevents",
            "1.2.13",
            ",\"hasInstallScript\":true,\"optional\":true,\"os\":[\"darwin\"]"
        ),
        entry(
            "chokidar/node_modules/fsevents",
            "2.3.2",
            ",\"dev\":true,\"hasInstallScript\":true,\"optional\":true,\"os\":[\"darwin\"]"
        ),
        entry("ms", "2.1.3", ""),
    );
    let files = npm_project(
        "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"},\"optionalDependencies\":{\"fsevents\":\"1.2.13\"}}",
        &lock,
    );
    assert_npm_hoisted(&files, "npm ci");
}

/// The lock of a vite or tsx project marks esbuild's postinstall, and
/// one with a polyfill core-js's: both scripts were read in every
/// version of their ranges and touch nothing of the project (esbuild
/// finds or fetches its platform's binary and links it into its own
/// package; core-js prints a banner and notes it in the system's
/// temporary directory). Measured with BuildKit on node:20-slim (npm
/// 10): the hoisted `npm ci` built the same image, and was served from
/// the cache after a source edit. Experts hoist these installs (scout55
/// n03, n06).
#[test]
fn npm_ci_hoists_over_install_scripts_known_to_read_nothing_of_the_project() {
    let entry = |name: &str, version: &str, extra: &str| {
        let base = name.rsplit('/').next().unwrap();
        format!(
            ",\"node_modules/{name}\":{{\"version\":\"{version}\",\"resolved\":\"https://registry.npmjs.org/{name}/-/{base}-{version}.tgz\",\"integrity\":\"sha512-AAAA\"{extra}}}"
        )
    };
    let lock = format!(
        "{{\"name\":\"a\",\"lockfileVersion\":3,\"requires\":true,\"packages\":{{\"\":{{\"name\":\"a\",\"dependencies\":{{\"core-js\":\"3.38.1\",\"esbuild\":\"0.21.5\"}}}}{}{}{}}}}}",
        entry("core-js", "3.38.1", ",\"hasInstallScript\":true"),
        entry("esbuild", "0.21.5", ",\"hasInstallScript\":true"),
        entry(
            "@esbuild/linux-x64",
            "0.21.5",
            ",\"optional\":true,\"os\":[\"linux\"],\"cpu\":[\"x64\"]"
        ),
    );
    let files = npm_project(
        "{\"name\":\"a\",\"dependencies\":{\"core-js\":\"3.38.1\",\"esbuild\":\"0.21.5\"}}",
        &lock,
    );
    assert_npm_hoisted(&files, "npm ci");
    // core-js notes its banner in `core-js-banners` in the temporary
    // directory: a project shipping a file of that name (TMPDIR may be
    // the project) keeps the install in place.
    let df =
        "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n";
    let mut shipped = files.clone();
    shipped.push(("core-js-banners", "[]"));
    let (text, a, why) = proposed_hoist(&shipped, df);
    assert_eq!(a, Applicability::Unsafe, "{why}");
    assert_eq!(text, df);
    assert!(why.contains("core-js-banners"), "{why}");
}

/// `composer install --no-scripts` runs none of the root package's
/// scripts: Composer's install command sets its event dispatcher's
/// `runScripts` from the option, and the dispatcher then lists no script
/// listener, only the ones plugins register (Composer's docs: "Skips
/// execution of scripts defined in composer.json"). Laravel's Dockerfiles
/// pair it with `--no-autoloader` and run `composer dump-autoload` and
/// `artisan package:discover` after the broad copy (scout58 l01). The
/// scripts, an optimized class map of the sources and plugins still keep
/// the install in place without their options.
#[test]
fn composer_install_without_scripts_and_autoloader_hoists_over_declared_scripts() {
    let json = "{\"name\":\"acme/invoices\",\"require\":{\"monolog/monolog\":\"^3.8\"},\"autoload\":{\"psr-4\":{\"App\\\\\":\"app/\"}},\"scripts\":{\"post-autoload-dump\":[\"@php artisan package:discover --ansi\"]},\"config\":{\"optimize-autoloader\":true}}";
    let files = [
        ("composer.json", json),
        ("composer.lock", "{\"packages\":[],\"packages-dev\":[]}"),
        ("artisan", "<?php\n"),
        ("app/Http/Kernel.php", "<?php\n"),
        (".dockerignore", "/vendor\n.git\n"),
    ];
    let df = |run: &str| {
        format!(
            "FROM php:8.2-cli\nWORKDIR /var/www/html\nCOPY . .\nRUN {run}\nRUN composer dump-autoload --optimize\n"
        )
    };
    let run = "composer install --no-dev --no-scripts --no-autoloader --no-interaction";
    let (text, a, why) = proposed_hoist(&files, &df(run));
    assert_eq!(a, Applicability::Safe, "{why}");
    assert_eq!(
        text,
        format!(
            "FROM php:8.2-cli\nWORKDIR /var/www/html\nCOPY composer.json composer.lock ./\nRUN {run}\nCOPY . .\nRUN composer dump-autoload --optimize\n"
        )
    );
    // Without `--no-scripts` the post-autoload-dump script runs; without
    // `--no-autoloader` the configured optimized autoloader maps app/.
    for run in [
        "composer install --no-dev --no-autoloader --no-interaction",
        "composer install --no-dev --no-scripts --no-interaction",
    ] {
        let (text, a, why) = proposed_hoist(&files, &df(run));
        assert_eq!(a, Applicability::Unsafe, "{run}: {why}");
        assert_eq!(text, df(run), "{run}");
    }
}

/// A bind mount of a file of the directory a subtree copy ships (`COPY
/// web/ .`) at the place the copy puts it needs no COPY either: the
/// reason said the mount put it "not where `COPY web/ .` ships it" (the
/// source was resolved as if the whole context were copied) and the
/// install stayed. Measured with BuildKit on node:20-slim: identical
/// images, the install CACHED after a source edit (h-rev58).
#[test]
fn a_bind_mount_of_a_file_a_subtree_copy_ships_there_needs_no_copy() {
    let files = &[
        ("web/requirements.txt", "flask==3.0.0\n"),
        ("web/app.py", "x\n"),
        ("requirements.txt", "django==5.0\n"),
    ];
    let run = "RUN --mount=type=bind,source=web/requirements.txt,target=requirements.txt pip install -r requirements.txt\n";
    let df = format!("FROM python\nWORKDIR /app\nCOPY web/ .\n{run}");
    let (text, applicability, _) = proposed_hoist(files, &df);
    assert_eq!(applicability, Applicability::Safe);
    assert_eq!(
        text,
        format!("FROM python\nWORKDIR /app\n{run}COPY web/ .\n")
    );
    // The root's file mounted where the copy puts web's: the checks of
    // the shipped file do not cover it, so not Safe.
    let run = "RUN --mount=type=bind,source=requirements.txt,target=requirements.txt pip install -r requirements.txt\n";
    let df = format!("FROM python\nWORKDIR /app\nCOPY web/ .\n{run}");
    assert_eq!(hoisted(files, &df), df);
}

/// A lock Bundler would complete on an arm64 host (`PLATFORMS` lists
/// `x86_64-linux` only, as the scouts' locks do): kept only by a frozen
/// install.
fn x86_only_lock() -> String {
    let lock = crate::support::BUNDLER_LOCK;
    assert!(lock.contains("  aarch64-linux\n"));
    lock.replace("  aarch64-linux\n", "")
}

/// Scout 50's r02 (the old `ruby:onbuild` template): `RUN bundle config
/// --global frozen 1` in an earlier `RUN` than `bundle install`. Bundler
/// reads the global file (`~/.bundle/config`) under the environment and
/// the local file (`$BUNDLE_APP_CONFIG/config`, /usr/local/bundle on the
/// official image), which is where the scope-less and `--local` forms
/// write: with nothing between that may write either file, set the
/// variable or change the user, home or file locations, the install is
/// frozen and keeps the lock, so it moves `Safe` (real build on Bundler
/// 2.3.15: images identical). Also from a stage it is built on.
#[test]
fn bundle_install_frozen_by_an_earlier_bundle_config_moves() {
    use crate::support::bundler_hoist;
    let lock = x86_only_lock();
    let files = [("Gemfile.lock", lock.as_str())];
    let df = "FROM ruby:3.1\n\n# throw errors if Gemfile has been modified since Gemfile.lock\nRUN bundle config --global frozen 1\n\nWORKDIR /usr/src/app\n\nCOPY . .\nRUN bundle install\n\nCMD [\"ruby\", \"./app.rb\"]\n";
    let (app, reason, text) = bundler_hoist(df, &files);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert!(
        reason.contains("`RUN bundle config --global frozen 1` (line 4) set it frozen"),
        "{reason}"
    );
    assert_eq!(
        text,
        "FROM ruby:3.1\n\n# throw errors if Gemfile has been modified since Gemfile.lock\nRUN bundle config --global frozen 1\n\nWORKDIR /usr/src/app\n\nCOPY Gemfile Gemfile.lock ./\nRUN bundle install\nCOPY . .\n\nCMD [\"ruby\", \"./app.rb\"]\n"
    );
    for df in [
        "FROM ruby:3.2\nRUN bundle config set --local frozen true\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.2\nRUN bundle config frozen true\nWORKDIR /app\nCOPY . .\nRUN bundle install --jobs 4\n",
        "FROM ruby:3.2-slim\nRUN bundle config set --global deployment 1 && bundle config set without development:test\nENV RAILS_ENV=production\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.3 AS base\nRUN bundle config --global frozen 1\nFROM base\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
        "FROM ruby:3.3\nRUN bundle config --global frozen 1\nRUN apt-get update && apt-get install -y libpq-dev\nWORKDIR /app\nCOPY . .\nRUN bundle config set without development && bundle install\n",
    ] {
        let (app, reason, _) = bundler_hoist(df, &files);
        assert_eq!(app, Applicability::Safe, "{df}: {reason}");
    }
}

#[test]
fn pnpm_ten_hoists_over_allowed_install_scripts_known_to_read_nothing() {
    // pnpm 10 runs the install scripts of the packages its settings allow
    // (`onlyBuiltDependencies`, `allowBuilds`), and those of esbuild and
    // core-js at the versions read read nothing of the project
    // (manifests::KNOWN_SCRIPTS, as for npm's lock). pnpm 10.12.1 pinned
    // (npm's global install, or corepack and `packageManager`), the lock
    // giving esbuild 0.21.5 from the registry, esbuild allowed: the
    // install moves. Measured with BuildKit (node:20-slim, pnpm 10.12.1,
    // esbuild 0.21.5 allowed, msw 2.7.0 not): identical images, the
    // install CACHED after a source edit.
    let tail = "WORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n";
    let moved = |files: &[(String, String)], launch: &str| {
        let df = format!("FROM node:20-slim\n{launch}{tail}");
        hoisted_owned(files, &df).contains("RUN pnpm install --frozen-lockfile\nCOPY . .\n")
    };
    let npm = "RUN npm install -g pnpm@10.12.1\n";
    let corepack = "RUN corepack enable\n";
    for allow in [
        ",\"pnpm\":{\"onlyBuiltDependencies\":[\"esbuild\"]}",
        ",\"pnpm\":{\"onlyBuiltDependencies\":[\"esbuild@0.21.5\"]}",
        ",\"pnpm\":{\"allowBuilds\":{\"esbuild\":true}}",
        ",\"pnpm\":{\"onlyBuiltDependencies\":[\"esbuild\",\"core-js\"]}",
    ] {
        let files = crate::support::pnpm_ten_esbuild(allow);
        assert!(moved(&files, npm), "{allow}");
        assert!(moved(&files, corepack), "{allow}");
    }
    // pnpm 10 keeps its settings in pnpm-workspace.yaml too.
    for ws in [
        "onlyBuiltDependencies:\n  - esbuild\n",
        "allowBuilds:\n  esbuild: true\n",
    ] {
        let mut files = crate::support::pnpm_ten_esbuild("");
        files.push(("pnpm-workspace.yaml".into(), ws.into()));
        assert!(moved(&files, npm), "{ws}");
    }
    // npm's pnpm 10 with no `packageManager` runs itself.
    let mut files =
        crate::support::pnpm_ten_esbuild(",\"pnpm\":{\"onlyBuiltDependencies\":[\"esbuild\"]}");
    files[0].1 = files[0]
        .1
        .replace("\"packageManager\":\"pnpm@10.12.1\",", "");
    assert!(moved(&files, npm));
    assert!(moved(&files, "RUN npm install -g pnpm@^10.4.0\n"));
}

/// @parcel/watcher 2.5.0-2.6.0's install script does nothing unless npm's
/// `build-from-source` is set (manifests::KNOWN_SCRIPTS): `npm ci` moves
/// above the broad copy. Measured with BuildKit (node:20-slim, npm
/// 10.8.2, @parcel/watcher 2.5.1): identical images.
#[test]
fn npm_ci_hoists_over_parcel_watchers_install_script() {
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let files = crate::support::parcel_watcher_project("2.5.1");
    assert!(hoisted_owned(&files, df).contains("RUN npm ci\nCOPY . .\n"));
}

/// `COREPACK_INTEGRITY_KEYS=0` (the common workaround for corepack's
/// expired keys) only skips the signature check of the release corepack
/// downloads: the release, named exactly by `packageManager`, is the same,
/// so a pnpm 10 install still moves (h-scout58 found it kept in place).
/// A variable that may change the release still keeps it.
#[test]
fn corepacks_integrity_keys_do_not_change_which_pnpm_runs() {
    let files = crate::support::pnpm_ten_esbuild("");
    let df = |env: &str| {
        format!(
            "FROM node:20-slim\nENV PNPM_HOME=/pnpm\nENV PATH=$PNPM_HOME:$PATH\n{env}RUN corepack enable\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n"
        )
    };
    let moved = |df: &str| {
        hoisted_owned(&files, df).contains("RUN pnpm install --frozen-lockfile\nCOPY . .\n")
    };
    assert!(moved(&df("")));
    assert!(moved(&df("ENV COREPACK_INTEGRITY_KEYS=0\n")));
    assert!(moved(&df("ENV COREPACK_INTEGRITY_KEYS=\"\"\n")));
    assert!(!moved(&df("ENV COREPACK_ENABLE_PROJECT_SPEC=0\n")));
}

/// `npm install` keeps an `npm-shrinkwrap.json` that agrees with
/// `package.json`, as it keeps such a `package-lock.json`: the shrinkwrap
/// is that lock under another name (arborist reads it first and saves to
/// the file it read). h-real62 found npm rewriting a shrinkwrap that
/// lacked its top-level `version` (that one stays in place:
/// `soundness::npm_install_is_not_hoisted_over_a_shipped_shrinkwrap_it_rewrites`);
/// one written by npm itself moves. Measured with BuildKit (node:20-slim,
/// npm 10.8.2, scout46 n03: `ADD . /app` before `RUN npm install`, two
/// dependencies): images identical, the install CACHED after a source
/// edit.
#[test]
fn npm_install_hoists_over_a_shrinkwrap_it_keeps() {
    use crate::support::hoist_proposal;
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . ./\nRUN npm install\n";
    let package = "{\n  \"name\": \"a\",\n  \"version\": \"1.0.0\",\n  \"private\": true,\n  \"dependencies\": {\n    \"ms\": \"2.1.3\"\n  }\n}\n";
    let lock = "{\n  \"name\": \"a\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"a\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {\n        \"ms\": \"2.1.3\"\n      }\n    },\n    \"node_modules/ms\": {\n      \"version\": \"2.1.3\",\n      \"resolved\": \"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz\",\n      \"integrity\": \"sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==\",\n      \"license\": \"MIT\"\n    }\n  }\n}\n";
    let (change, _) = hoist_proposal(
        &[],
        df,
        &[
            ("package.json", package),
            ("npm-shrinkwrap.json", lock),
            ("index.js", "x\n"),
        ],
    );
    let (app, reason) = change.expect("a hoist is proposed");
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert!(reason.contains("npm-shrinkwrap.json"), "{reason}");
    // With a package-lock.json beside it as well, npm's choice between
    // the two is not followed: it stays in place.
    let (change, out) = hoist_proposal(
        &[],
        df,
        &[
            ("package.json", package),
            ("npm-shrinkwrap.json", lock),
            ("package-lock.json", lock),
            ("index.js", "x\n"),
        ],
    );
    let (app, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
    assert_ne!(app, Applicability::Safe, "{reason}");
    assert_eq!(out, df);
}

/// Next.js's `deps` stage picks the package manager by the lock file the
/// project has. After a broad copy, with the context's files deciding the
/// arm that runs (here `npm ci`: no `yarn.lock`), the `RUN` moves above
/// the copy with the manifests of that arm copied first; the files tested
/// on the way are absent at both places. Measured with BuildKit on
/// node:20-slim (scout46 n10): identical images, the install CACHED after
/// a source edit.
#[test]
fn a_lock_file_detecting_if_moves_with_the_arm_the_context_selects() {
    let run = "RUN \\\n  if [ -f yarn.lock ]; then yarn --frozen-lockfile; \\\n  elif [ -f package-lock.json ]; then npm ci; \\\n  elif [ -f pnpm-lock.yaml ]; then corepack enable pnpm && pnpm i --frozen-lockfile; \\\n  else echo \"Lockfile not found.\" && exit 1; \\\n  fi\n";
    let df = format!("FROM node:20-slim AS deps\nWORKDIR /app\nCOPY . .\n{run}");
    let out = rewrite_at(NPM, &df, Applicability::Safe);
    assert_eq!(
        out.new_text,
        format!(
            "FROM node:20-slim AS deps\nWORKDIR /app\nCOPY package.json package-lock.json ./\n{run}COPY . .\n"
        )
    );
    let (_, applicability, reason) = proposed_hoist(NPM, &df);
    assert_eq!(applicability, Applicability::Safe);
    assert!(
        reason.contains(
            "its `if` runs the arm `npm ci`: the build context and the stage decide each file test on the way (`yarn.lock` no file, `package-lock.json` a file)"
        ),
        "{reason}"
    );
    // `test -f` and a one-line `if` read the same.
    let df = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN if test -f yarn.lock; then yarn install --frozen-lockfile; else npm ci; fi\n";
    assert!(
        hoisted(NPM, df).contains("COPY package.json package-lock.json ./\nRUN if test"),
        "{}",
        hoisted(NPM, df)
    );
}

/// A Django-style `requirements/prod.txt` that includes `base.txt`, the
/// included file already placed by an earlier `COPY` that names the file
/// itself as its destination (`COPY requirements/base.txt
/// requirements/base.txt`, no trailing slash): that copy makes
/// `/app/requirements` as the inserted COPY would (owner root, 0755), so
/// the install moves above the broad copy. Before, only a copy into a
/// directory (`requirements/`) was recognised and the hoist was Unsafe
/// (scout62's miss). Measured with BuildKit (python:3.12-slim, pip
/// 23.0.1, `requirements/` of mode 0775 in the context): images
/// identical, the install CACHED after a source edit.
#[test]
fn pip_include_placed_by_an_earlier_copy_to_its_own_name_hoists() {
    use crate::support::hoist_proposal;
    let files: &[(&str, &str)] = &[
        ("requirements/base.txt", "six==1.16.0\n"),
        ("requirements/prod.txt", "-r base.txt\nidna==3.7\n"),
        ("app.py", "print(1)\n"),
    ];
    let df = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements/base.txt requirements/base.txt\nRUN pip install -r requirements/base.txt\nCOPY . .\nRUN pip install -r requirements/prod.txt\n";
    let (change, out) = hoist_proposal(&[], df, files);
    let (app, reason) = change.expect("a hoist is proposed");
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert!(
        out.contains("COPY requirements/prod.txt requirements/base.txt ./requirements/\nRUN pip install -r requirements/prod.txt\nCOPY . .\n"),
        "{out}"
    );
    // The earlier copy under another name, or with an owner of its own,
    // still keeps it in place.
    for earlier in [
        "COPY requirements/base.txt requirements/other.txt",
        "COPY --chown=1000 requirements/base.txt requirements/base.txt",
    ] {
        let df = df.replace("COPY requirements/base.txt requirements/base.txt", earlier);
        let (change, out) = hoist_proposal(&[], &df, files);
        let (app, reason) = change.unwrap_or((Applicability::DisplayOnly, String::new()));
        assert_ne!(app, Applicability::Safe, "{earlier}: {reason}");
        assert_eq!(out, df);
    }
}

/// Secret and ssh mounts: an ssh mount gives the commands an agent's
/// socket (it authenticates what they fetch, adds nothing to the image),
/// and a secret at its default target (`/run/secrets/ID`, which no command
/// of the `RUN` reads) or set as a variable no command honours (a token
/// the project's `.npmrc` names) changes nothing the install does: the
/// install moves with its mounts. Measured with BuildKit (node:20-slim,
/// npm 10.8.2, `--secret id=npmrc`, `--ssh default`, `npm ci && npm run
/// build` split): images identical but npm's logs and cache index.
#[test]
fn installs_with_secret_and_ssh_mounts_they_do_not_read_move() {
    for mounts in [
        "--mount=type=ssh",
        "--mount=type=secret,id=npmrc",
        "--mount=type=secret,id=npm_token,env=NPM_TOKEN,required=true",
        "--mount=type=secret,id=npmrc --mount=type=ssh,required",
    ] {
        let df = format!("FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {mounts} npm ci\n");
        let (_, applicability, reason) = proposed_hoist(NPM, &df);
        assert_eq!(applicability, Applicability::Safe, "{mounts}: {reason}");
        assert_eq!(
            hoisted(NPM, &df),
            format!(
                "FROM node:20-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN {mounts} npm ci\nCOPY . .\n"
            ),
            "{mounts}"
        );
    }
}

/// A PDM project that is not a distribution, with its lock (made by PDM
/// 2.29.4), for the pdm recall and soundness tests.
pub(crate) const PDM_APP: &[(&str, &str)] = &[
    (
        "pyproject.toml",
        "[project]\nname = \"demo\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"six==1.16.0\", \"idna==3.7\"]\n\n[tool.pdm]\ndistribution = false\n",
    ),
    (
        "pdm.lock",
        "# This file is @generated by PDM.\n[metadata]\ngroups = [\"default\"]\nstrategy = [\"inherit_metadata\"]\nlock_version = \"4.5.1\"\ncontent_hash = \"sha256:0\"\n\n[[metadata.targets]]\nrequires_python = \">=3.11\"\n\n[[package]]\nname = \"six\"\nversion = \"1.16.0\"\ngroups = [\"default\"]\nfiles = [\n    {file = \"six-1.16.0-py2.py3-none-any.whl\", hash = \"sha256:1\"},\n]\n",
    ),
    ("src/demo/app.py", "print(1)\n"),
    (".dockerignore", ".venv\n"),
];

/// `pdm install --frozen-lockfile` and `pdm sync` (which never lock) of a
/// project that is not a distribution, or with `--no-self`, move above
/// the broad copy with pyproject.toml and pdm.lock: PDM 2.29.4 reads
/// nothing else of the project there (its settings files, saved
/// interpreter and environments are absent) and writes `.venv` and
/// `.pdm-python`, which the copy does not ship. Measured with BuildKit
/// (python:3.12-slim stand-in, Python 3.11, PDM 2.29.4 from PyPI): images
/// identical, the install CACHED after a source edit.
#[test]
fn pdm_installs_of_the_lock_alone_hoist() {
    for run in [
        "pdm install --frozen-lockfile",
        "pdm install --check",
        "pdm sync",
        "pdm sync --no-self -G :all",
        "pdm install --prod --no-lock",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nRUN pip install pdm==2.29.4\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
        );
        let (text, app, reason) = proposed_hoist(PDM_APP, &df);
        assert_eq!(app, Applicability::Safe, "{run}: {reason}");
        assert_eq!(
            text,
            format!(
                "FROM python:3.12-slim\nRUN pip install pdm==2.29.4\nWORKDIR /app\nCOPY pyproject.toml pdm.lock ./\nRUN {run}\nCOPY . .\n"
            ),
            "{run}"
        );
    }
    // A distribution (a library built with pdm-backend) moves with
    // `--no-self`, which installs its dependencies alone.
    let library = "[project]\nname = \"demo\"\nversion = \"0.1.0\"\ndependencies = [\"six==1.16.0\"]\n\n[build-system]\nrequires = [\"pdm-backend\"]\nbuild-backend = \"pdm.backend\"\n";
    let mut files = PDM_APP.to_vec();
    files[0] = ("pyproject.toml", library);
    let df = "FROM python:3.12-slim\nRUN pip install pdm\nWORKDIR /app\nCOPY . .\nRUN pdm sync --no-self --prod\n";
    let (_, app, reason) = proposed_hoist(&files, df);
    assert_eq!(app, Applicability::Safe, "{reason}");
    // The `.python-version` beside pyproject.toml picks the interpreter
    // of the environment PDM makes (downloaded when the image lacks it):
    // it is copied with the manifests.
    let mut files = PDM_APP.to_vec();
    files.push((".python-version", "3.12\n"));
    let df = "FROM python:3.12-slim\nRUN pip install pdm\nWORKDIR /app\nCOPY . .\nRUN pdm sync\n";
    let (text, app, reason) = proposed_hoist(&files, df);
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert!(
        text.contains("COPY pyproject.toml pdm.lock .python-version ./\nRUN pdm sync\nCOPY . .\n"),
        "{text}"
    );
}

/// scout66 and scout67: `WORKDIR /opt/reports`, `COPY . .`, `RUN apt-get
/// install …` on an official image stayed below the copy, apt being taken
/// to write anywhere in `/opt`. Debian's archive (main) ships nothing
/// there, so an install from the image's own sources passes the copy of
/// the application there (measured with BuildKit, python:3.12-slim,
/// libpq5: identical images, the install cached after a source edit). Not
/// when the sources may be others (a base that is not official, a list
/// copied into `/etc/apt`), a package file, or another command of the
/// `RUN` writing in `/opt`.
#[test]
fn archive_installs_pass_an_application_copied_under_opt() {
    let files = [
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
        ("chrome.list", "deb http://x stable main\n"),
    ];
    let apt = "RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*\n";
    let df = |from: &str, before: &str, run: &str| {
        format!(
            "FROM {from}\n{before}WORKDIR /opt/reports\nCOPY . .\n{run}CMD [\"python\", \"app.py\"]\n"
        )
    };
    let moved = hoisted(&files, &df("python:3.12-slim", "", apt));
    assert_eq!(
        moved,
        format!(
            "FROM python:3.12-slim\nWORKDIR /opt/reports\n{apt}COPY . .\nCMD [\"python\", \"app.py\"]\n"
        )
    );
    // `apt-get clean` (or `autoremove`) after the install installs nothing
    // from elsewhere (scout67: it made the whole `RUN` foreign).
    let clean = "RUN apt-get update && apt-get install -y libpq5 && apt-get clean && apt-get -y autoremove\n";
    let moved = hoisted(&files, &df("python:3.12-slim", "", clean));
    assert!(
        moved.contains(&format!("WORKDIR /opt/reports\n{clean}COPY . .\n")),
        "{moved}"
    );
    for (from, before, run) in [
        ("mycorp/python:3.12", "", apt),
        ("ubuntu:24.04", "", apt),
        (
            "python:3.12-slim",
            "COPY chrome.list /etc/apt/sources.list.d/\n",
            apt,
        ),
        (
            "python:3.12-slim",
            "",
            "RUN apt-get update && apt-get install -y ./chrome.deb\n",
        ),
        (
            "python:3.12-slim",
            "",
            "RUN apt-get update && apt-get install -y libpq5 wget && wget -qO- https://example.com/t.tgz | tar -xz -C /opt\n",
        ),
    ] {
        let text = df(from, before, run);
        assert_eq!(hoisted(&files, &text), text, "{from} {before} {run}");
    }
}

/// h-eco68 (held-out scouts): system packages installed from a list file
/// of the repository (`xargs -a apt-packages.txt apt-get install -y`,
/// `apt-get install -y $(cat packages.txt)`, `apk add $(cat apk.txt)`)
/// stayed below the broad copy, and so did the pip install after them.
/// The list is copied first where the install reads it, and both move:
/// its words are package names of the archive (comment lines only where
/// `grep -v '^#'` drops them). Measured with BuildKit (python:3.12-slim,
/// debian:bookworm-slim): identical images, the installs CACHED after a
/// source edit.
#[test]
fn package_lists_read_from_files_are_copied_first() {
    let files = [
        ("apt-packages.txt", "libpq5\ncurl\n\nfonts-dejavu-core\n"),
        ("apt-commented.txt", "# runtime\nlibpq5\n# tools\ncurl\n"),
        ("requirements.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = |install: &str| {
        format!(
            "FROM python:3.12-slim\nCOPY . /app\nWORKDIR /app\nRUN apt-get update && {install} && rm -rf /var/lib/apt/lists/*\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    for (install, list) in [
        (
            "xargs -a apt-packages.txt apt-get install -y --no-install-recommends",
            "apt-packages.txt",
        ),
        (
            "xargs --arg-file=apt-packages.txt apt-get install -y",
            "apt-packages.txt",
        ),
        (
            "apt-get install -y $(cat apt-packages.txt)",
            "apt-packages.txt",
        ),
        (
            "apt-get install -y --no-install-recommends $(grep -v '^#' apt-commented.txt)",
            "apt-commented.txt",
        ),
        (
            "apt-get install -y $(cat apt-packages.txt | tr '\\n' ' ')",
            "apt-packages.txt",
        ),
        (
            "< apt-packages.txt xargs apt-get install -y",
            "apt-packages.txt",
        ),
        (
            "xargs -r apt-get install -y < apt-packages.txt",
            "apt-packages.txt",
        ),
        (
            "cat apt-packages.txt | xargs apt-get install -y",
            "apt-packages.txt",
        ),
    ] {
        let text = df(install);
        let out = hoisted(&files, &text);
        let run = format!("RUN apt-get update && {install} && rm -rf /var/lib/apt/lists/*\n");
        let list_at = out.find(&format!("COPY {list} ")).unwrap_or(usize::MAX);
        let run_at = out.find(&run).unwrap_or(usize::MAX);
        let pip_at = out
            .find("RUN pip install --no-cache-dir -r requirements.txt\n")
            .unwrap_or(usize::MAX);
        let broad_at = out.find("COPY . /app\n").unwrap_or(usize::MAX);
        assert!(
            list_at < run_at && run_at < pip_at && pip_at < broad_at,
            "{install}:\n{out}"
        );
    }
    // apk on Alpine, the same way.
    let files = [
        ("apk.txt", "libpq\ncurl\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-alpine\nCOPY . /app\nWORKDIR /app\nRUN apk add --no-cache $(cat apk.txt)\nCMD [\"python\", \"app.py\"]\n";
    let out = hoisted(&files, df);
    assert_eq!(
        out,
        "FROM python:3.12-alpine\nCOPY apk.txt /app/\nWORKDIR /app\nRUN apk add --no-cache $(cat apk.txt)\nCOPY . /app\nCMD [\"python\", \"app.py\"]\n"
    );
}

/// An `apt-get install` RUN that ends with `rm -rf /var/lib/apt/lists/*`
/// keeps the user database known: a user `useradd -m` makes after it has
/// its home in `/home/NAME`, so a copy into another directory of `/home`
/// ships nothing into it. Before, the `rm` made every `/home/*` a possible
/// home, and a venv and the pip install in it stayed below a copy into
/// `/home/app` (held-out scout: both moved when the same file copied into
/// `/srv/app`, or had no `rm`).
#[test]
fn an_apt_run_that_removes_its_lists_keeps_the_users_homes_known() {
    let files = [
        ("requirements.txt", "flask==3.0.3\n"),
        ("app.py", "print(1)\n"),
        (".github/workflows/ci.yml", "on: push\n"),
        (".dockerignore", ".git\nvenv/\n"),
    ];
    let df = "FROM python:3.12-slim\n\
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n\
RUN useradd -m nonroot\n\
RUN mkdir -p /home/app/ && chown -R nonroot:nonroot /home/app\n\
WORKDIR /home/app\n\
USER nonroot\n\
COPY --chown=nonroot:nonroot . .\n\
ENV VIRTUAL_ENV=/home/app/venv\n\
RUN python -m venv $VIRTUAL_ENV\n\
ENV PATH=\"$VIRTUAL_ENV/bin:$PATH\"\n\
RUN pip install -r requirements.txt\n\
CMD [\"python\", \"app.py\"]\n";
    let out = hoisted(&files, df);
    let venv = out.find("RUN python -m venv").unwrap_or(usize::MAX);
    let pip = out.find("RUN pip install").unwrap_or(usize::MAX);
    let broad = out
        .find("COPY --chown=nonroot:nonroot . .\n")
        .unwrap_or(usize::MAX);
    assert!(venv < broad && pip < broad, "{out}");
}

/// h-npm69 (scouts 66 and 68: node-idp-production, node-payment-stages,
/// node-system-package): `COPY . ./` then `npm install --production` (or
/// `--only=production`, `--omit=dev`, plain) where npm wrote the lock
/// with `omit-lockfile-registry-resolved`, so no entry has a `resolved`
/// URL. npm 9.3.1, 9.9.4, 10.8.2, 10.9.2, 11.6.2 and 11.21.3 wrote such a
/// lock back byte for byte (measured in node:20-slim), so the install
/// moves above the copy as `Safe`, as with a lock that has the URLs.
#[test]
fn npm_install_keeps_an_agreeing_lock_written_without_resolved_urls() {
    use crate::support::{NO_RESOLVED_LOCK, NO_RESOLVED_PACKAGE, hoist_proposal};
    let files = [
        ("package.json", NO_RESOLVED_PACKAGE),
        ("package-lock.json", NO_RESOLVED_LOCK),
        ("index.js", "require('debug')('app')\n"),
        (".dockerignore", "node_modules\n.git\n"),
    ];
    for install in [
        "npm install --production",
        "npm install --only=production",
        "npm install --omit=dev",
        "npm install",
    ] {
        let df = format!(
            "FROM node:20-slim\nWORKDIR /usr/src/app\nCOPY . ./\nRUN {install}\nCMD [ \"node\", \"index.js\" ]\n"
        );
        let (change, out) = hoist_proposal(&files, &df, &[]);
        let (app, reason) = change.expect("the hoist is proposed");
        assert_eq!(app, Applicability::Safe, "{install}: {reason}");
        assert!(
            reason.contains("leaves it as it is") && reason.contains("or not written"),
            "{install}: {reason}"
        );
        assert_eq!(
            out,
            format!(
                "FROM node:20-slim\nWORKDIR /usr/src/app\nCOPY package.json package-lock.json ./\nRUN {install}\nCOPY . ./\nCMD [ \"node\", \"index.js\" ]\n"
            ),
            "{install}"
        );
    }
    // One entry without its URL, the others with theirs (a lock edited
    // by hand, or merged): kept alike (measured, npm 9.3.1 to 11.21.3).
    let mut one = NO_RESOLVED_LOCK.to_string();
    for (name, version) in [
        ("debug", "2.6.9"),
        ("ms", "2.0.0"),
        ("is-number", "7.0.0"),
        ("ms", "2.1.3"),
    ] {
        let line = format!("      \"version\": \"{version}\",\n");
        assert_eq!(one.matches(&line).count(), 1, "{name}");
        one = one.replace(
            &line,
            &format!("{line}      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz\",\n"),
        );
    }
    let df = "FROM node:20-slim\nWORKDIR /usr/src/app\nCOPY . ./\nRUN npm install --production\n";
    let (change, _) = hoist_proposal(&files, df, &[("package-lock.json", &one)]);
    assert_eq!(change.map(|c| c.0), Some(Applicability::Safe));
    // The project's `.npmrc` sets what wrote the lock so: npm writes no
    // `resolved` where the lock has none (measured, npm 9.3.1 to 11.21.3).
    let npmrc = "omit-lockfile-registry-resolved=true\nfund=false\n";
    let (change, _) = hoist_proposal(&files, df, &[(".npmrc", npmrc)]);
    assert_eq!(change.map(|c| c.0), Some(Applicability::Safe));
}

/// scout69's py-apt-grep-list: `$(grep -vE '^\s*(#|$)' packages.txt)`
/// drops comment lines (after spaces too) and blank ones; the list is
/// copied first and the install, and the pip install that waited on it,
/// move above the broad copy (built: identical, both CACHED after a source
/// edit). With `grep -v '^#'` an indented comment's words reach apt
/// (`#` is no package name): that install stays.
#[test]
fn a_package_list_filtered_of_indented_comments_is_copied_first() {
    let files = [
        (
            "packages.txt",
            "# system libraries\nlibjpeg62-turbo\n\n  # compression\nzlib1g\n",
        ),
        ("requirements.txt", "six==1.16.0\n"),
        ("convert.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = |filter: &str| {
        format!(
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . /app\nRUN apt-get update \\\n    && apt-get install -y --no-install-recommends $(grep {filter} packages.txt) \\\n    && rm -rf /var/lib/apt/lists/*\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"convert.py\"]\n"
        )
    };
    for filter in ["-vE '^\\s*(#|$)'", "-Ev '^[[:space:]]*(#|$)'"] {
        let out = hoisted(&files, &df(filter));
        let list = out.find("COPY packages.txt /app/\n").unwrap_or(usize::MAX);
        let apt = out.find("RUN apt-get update").unwrap_or(usize::MAX);
        let broad = out.find("COPY . /app\n").unwrap_or(usize::MAX);
        assert!(list < apt && apt < broad, "{filter}:\n{out}");
    }
    let text = df("-v '^#'");
    let out = hoisted(&files, &text);
    let apt = out.find("RUN apt-get update").unwrap_or(usize::MAX);
    let broad = out.find("COPY . /app\n").unwrap_or(usize::MAX);
    assert!(broad < apt, "{out}");
}

/// scout69: a requirement file bind-mounted away from the broad copy
/// (`target=/tmp/requirements.txt`) and installed from there. The install
/// reads it from the context through the mount (no COPY needed) and
/// nothing the copy writes: it moves above the copy. Measured with
/// BuildKit on python:3.12-slim (pip 23): identical images, the install
/// CACHED after a source edit.
#[test]
fn a_requirement_file_mounted_outside_the_copy_moves_with_its_install() {
    let files = &[
        ("requirements.txt", "flask==3.0.0\n"),
        ("app.py", "x\n"),
        (".dockerignore", ".git\n"),
    ];
    let run = "RUN --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt pip install -r /tmp/requirements.txt\n";
    let df = format!(
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{run}CMD [\"python\", \"app.py\"]\n"
    );
    let (text, applicability, reason) = proposed_hoist(files, &df);
    assert_eq!(applicability, Applicability::Safe, "{reason}");
    assert_eq!(
        text,
        format!(
            "FROM python:3.12-slim\nWORKDIR /app\n{run}COPY . .\nCMD [\"python\", \"app.py\"]\n"
        )
    );
    assert!(reason.contains("through a bind mount"), "{reason}");
    // uv reads a mounted requirement file alike.
    let run = "RUN --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt uv pip install --system -r /tmp/requirements.txt\n";
    let df = format!("FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\nCOPY . .\n{run}");
    assert_eq!(
        hoisted(files, &df),
        format!("FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\n{run}COPY . .\n")
    );
}

/// scout69's py-uv-pyproject-req: `uv pip install -r pyproject.toml`
/// of a project whose requirements are static. uv reads them from the
/// `[project]` table without building the project (uv 0.13.9: "Found
/// static `requires-dist`", with the `readme` it names missing): only
/// pyproject.toml is copied first. Measured with BuildKit (uv from PyPI on
/// python:3.12-slim): identical images, the install CACHED after a source
/// edit.
#[test]
fn uv_pip_install_of_a_static_pyproject_moves_above_the_copy() {
    let files = &[
        ("pyproject.toml", STATIC_PYPROJECT),
        ("README.md", "# demo\n"),
        ("src/demo_app/__init__.py", "x = 1\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\nCOPY . .\nRUN uv pip install --system -r pyproject.toml --extra web\nCMD [\"python\", \"-m\", \"demo_app\"]\n";
    let (text, applicability, reason) = proposed_hoist(files, df);
    assert_eq!(applicability, Applicability::Safe, "{reason}");
    assert_eq!(
        text,
        "FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\nCOPY pyproject.toml ./\nRUN uv pip install --system -r pyproject.toml --extra web\nCOPY . .\nCMD [\"python\", \"-m\", \"demo_app\"]\n"
    );
}

/// A project whose requirements uv reads statically (see
/// `uv_pip_install_of_a_static_pyproject_moves_above_the_copy`).
pub(crate) const STATIC_PYPROJECT: &str = "[project]\nname = \"demo-app\"\nversion = \"0.1.0\"\nreadme = \"README.md\"\nrequires-python = \">=3.11\"\ndependencies = [\"six==1.16.0\"]\n\n[project.optional-dependencies]\nweb = [\"idna==3.7\"]\n\n[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n";

/// scout69's rust-cargo-install-tool: `cargo install` of a registry crate
/// reads no file of the working directory but the rustup proxy's
/// toolchain file (cargo reloads its configuration rooted at CARGO_HOME:
/// measured with cargo 1.95, a source replacement in the working
/// directory's `.cargo/config.toml` was not used, and the binary and the
/// install records were the same installed from an empty directory). It
/// moves above the broad copy (a shipped `rust-toolchain*` keeps it, see
/// `soundness::cargo_install_from_the_project_or_with_shipped_configuration_stays`).
#[test]
fn cargo_install_of_a_registry_crate_moves_above_the_copy() {
    let files = &[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("Cargo.lock", "version = 3\n"),
        ("src/main.rs", "fn main() {}\n"),
        (".cargo/config.toml", "[build]\njobs = 2\n"),
        (".dockerignore", ".git\ntarget\n"),
    ];
    let run = "RUN cargo install --locked --version 0.1.62 cargo-chef\n";
    let df = format!("FROM rust:1.83\nWORKDIR /app\nCOPY . .\n{run}RUN cargo build --release\n");
    let (text, applicability, reason) = proposed_hoist(files, &df);
    assert_eq!(applicability, Applicability::Safe, "{reason}");
    assert_eq!(
        text,
        format!("FROM rust:1.83\nWORKDIR /app\n{run}COPY . .\nRUN cargo build --release\n")
    );
}

/// Scouts 66-71 (7 misses): an `apt-get install` after a copy of the
/// application under `/srv` or `/usr/src/NAME` stayed below it, every
/// apt install being modelled as writing all of `/srv` and `/usr/src`
/// (maintainer scripts make homes in `/srv`; source packages ship
/// `/usr/src/NAME`). The packages of `site-free-packages.txt` were
/// measured (their closures in bullseye, bookworm and trixie: file lists,
/// maintainer scripts, tmpfiles.d) to write nothing there but `/srv`'s
/// mode and `/usr/src/python3.N`: an install of only those moves. One
/// not measured (`vsftpd` makes `/srv/ftp`), a list file, `autoremove`,
/// a private base or a copy into `/usr/src/python3.11` keeps it below.
#[test]
fn measured_archive_installs_pass_an_application_copied_under_srv_or_usr_src() {
    let files = [
        ("app.py", "print(1)\n"),
        ("requirements.txt", "six==1.16.0\n"),
        ("apt.txt", "libpq5\n"),
        (".dockerignore", ".git\n"),
    ];
    let apt = "RUN apt-get update && apt-get install -y --no-install-recommends libpq5 build-essential && rm -rf /var/lib/apt/lists/*\n";
    let df = |from: &str, dir: &str, run: &str| {
        format!("FROM {from}\nWORKDIR {dir}\nCOPY . .\n{run}CMD [\"python\", \"app.py\"]\n")
    };
    for dir in ["/srv/app", "/srv", "/usr/src/service"] {
        let moved = hoisted(&files, &df("python:3.12-slim", dir, apt));
        assert_eq!(
            moved,
            format!(
                "FROM python:3.12-slim\nWORKDIR {dir}\n{apt}COPY . .\nCMD [\"python\", \"app.py\"]\n"
            ),
            "{dir}"
        );
    }
    // Options before the subcommand.
    let opts = "RUN apt-get update && apt-get -y --no-install-recommends install libpq5\n";
    let moved = hoisted(&files, &df("python:3.12-slim", "/srv/app", opts));
    assert!(
        moved.contains(&format!("WORKDIR /srv/app\n{opts}COPY . .\n")),
        "{moved}"
    );
    // With the requirements in the same RUN (scout71 py-apt-compound).
    let both = "RUN apt-get update && apt-get install -y libpq5 && pip install --no-cache-dir -r requirements.txt\n";
    let moved = hoisted(
        &files,
        &format!(
            "FROM python:3.12-slim\nCOPY . /srv/app\nWORKDIR /srv/app\n{both}CMD [\"python\", \"app.py\"]\n"
        ),
    );
    assert!(
        moved.contains(&format!(
            "COPY requirements.txt /srv/app/\nWORKDIR /srv/app\n{both}COPY . /srv/app\n"
        )),
        "{moved}"
    );
    for (from, dir, run) in [
        (
            "python:3.12-slim",
            "/srv/ftp",
            "RUN apt-get update && apt-get install -y vsftpd\n",
        ),
        (
            "python:3.12-slim",
            "/srv/app",
            "RUN apt-get update && xargs -a apt.txt apt-get install -y\n",
        ),
        (
            "python:3.12-slim",
            "/srv/app",
            "RUN apt-get update && apt-get install -y libpq5 && apt-get -y autoremove\n",
        ),
        (
            "python:3.12-slim",
            "/srv/app",
            "RUN apt-get update && apt-get purge -y --auto-remove gcc\n",
        ),
        (
            "python:3.12-slim",
            "/srv/app",
            "RUN apt-get update && apt-get install -y libpq5:i386\n",
        ),
        (
            "python:3.12-slim",
            "/srv/app",
            "RUN apt-get update && apt-get dist-upgrade -y\n",
        ),
        // A package not measured installed earlier in the stage (its
        // trigger scripts run during later installs).
        (
            "python:3.12-slim\nRUN apt-get update && apt-get install -y vsftpd",
            "/srv/app",
            apt,
        ),
        ("mycorp/python:3.12", "/srv/app", apt),
        ("ubuntu:24.04", "/srv/app", apt),
        (
            "python:3.12-slim",
            "/usr/src/python3.11",
            "RUN apt-get update && apt-get install -y python3-dev\n",
        ),
        (
            "python:3.12-slim",
            "/srv/app",
            "RUN apt-get update && apt-get install -y libpq5 && echo 2 > /srv/app/app.py\n",
        ),
    ] {
        let text = df(from, dir, run);
        assert_eq!(hoisted(&files, &text), text, "{from} {dir} {run}");
    }
}

#[test]
fn apt_installs_measured_in_the_second_round_pass_an_application_under_srv() {
    // scout72 srv-apt-only: `python3-flask` was not measured, so the
    // install stayed below `COPY . /srv/app`. The second round measured
    // python3-*, php-*, nginx-light, uwsgi and media tools the same way.
    let files = [("app.py", "print(1)\n"), (".dockerignore", ".git\n")];
    for pkgs in [
        "python3-flask",
        "nginx-light uwsgi uwsgi-plugin-python3",
        "php-cli php-pgsql",
        "sox ffmpeg",
    ] {
        let run = format!(
            "RUN apt-get update && apt-get install -y --no-install-recommends {pkgs} && rm -rf /var/lib/apt/lists/*\n"
        );
        let text = format!(
            "FROM debian:bookworm-slim\nWORKDIR /srv/app\nCOPY . .\n{run}CMD [\"python3\", \"app.py\"]\n"
        );
        assert_eq!(
            hoisted(&files, &text),
            format!(
                "FROM debian:bookworm-slim\nWORKDIR /srv/app\n{run}COPY . .\nCMD [\"python3\", \"app.py\"]\n"
            ),
            "{pkgs}"
        );
    }
}

#[test]
fn an_absolute_requirement_file_brings_its_includes_wherever_the_install_runs() {
    // scout73: `pip install -r /app/requirements.txt` from `WORKDIR /srv`
    // with `-r base.txt` and `-c constraints.txt` inside was Unsafe
    // ("`base.txt` would not be copied first"): pip finds the includes
    // beside the file that names them (/app), wherever it runs.
    let files = [
        (
            "requirements.txt",
            "-r base.txt\n-c constraints.txt\nflask==3.0.3\n",
        ),
        ("base.txt", "six==1.16.0\n"),
        ("constraints.txt", "six==1.16.0\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    for wd in ["/app", "/srv", "/"] {
        let df = format!(
            "FROM python:3.12-slim\nWORKDIR {wd}\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nCMD [\"python\", \"/app/app.py\"]\n"
        );
        assert_eq!(
            hoisted(&files, &df),
            format!(
                "FROM python:3.12-slim\nWORKDIR {wd}\nCOPY requirements.txt base.txt constraints.txt /app/\nRUN pip install -r /app/requirements.txt\nCOPY . /app\nCMD [\"python\", \"/app/app.py\"]\n"
            ),
            "{wd}"
        );
    }
}

#[test]
fn a_pip_constraint_variable_is_copied_with_the_requirements() {
    // scout73 trap-ui-pip-constraint: `ENV PIP_CONSTRAINT=/app/constraints.txt`
    // kept the install below `COPY . .` ("it reads `constraints.txt`,
    // which … is not one of its manifests"): pip takes it as `-c`, so it
    // is copied first, and what it includes too.
    let files = [
        ("requirements.txt", "flask==3.0.3\n"),
        ("constraints.txt", "-c pins.txt\nwerkzeug==3.0.3\n"),
        ("pins.txt", "click==8.1.7\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = |var: &str| {
        format!(
            "FROM python:3.12-slim\nWORKDIR /app\nENV PIP_CONSTRAINT={var}\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    for var in ["/app/constraints.txt", "constraints.txt"] {
        assert_eq!(
            hoisted(&files, &df(var)),
            format!(
                "FROM python:3.12-slim\nWORKDIR /app\nENV PIP_CONSTRAINT={var}\nCOPY requirements.txt constraints.txt pins.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
            ),
            "{var}"
        );
    }
    // A constraint file naming a local path the copy ships, and a value
    // not known: not moved Safe.
    let local = [
        ("requirements.txt", "flask==3.0.3\n"),
        ("constraints.txt", "./libs/pinned\n"),
        ("libs/pinned/setup.py", "x\n"),
        ("app.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let text = df("/app/constraints.txt");
    assert_eq!(hoisted(&local, &text), text);
    let text = df("$CONSTRAINTS");
    assert_eq!(hoisted(&files, &text), text);
}

#[test]
fn an_install_logged_through_tee_moves_with_its_shell() {
    // scout76 shell-pipefail-py: `SHELL [bash -o pipefail]` between the
    // copy and `pip install … | tee LOG | tail -n 3` kept the install
    // below `COPY . ./` (tee and tail were unknown, and a SHELL could not
    // come along). Built with real pip: the image as a rebuild of the
    // original (only pip's own log differs, as between two builds of the
    // original), the install CACHED after a source edit.
    let files = [
        ("requirements.txt", "flask==3.0.3\n"),
        ("main.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . ./\n\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN pip install -r requirements.txt 2>&1 | tee /var/log/pip-install.log | tail -n 3\n\nCMD [\"python\", \"main.py\"]\n";
    assert_eq!(
        hoisted(&files, df),
        "FROM python:3.12\nWORKDIR /app\n\nCOPY requirements.txt ./\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN pip install -r requirements.txt 2>&1 | tee /var/log/pip-install.log | tail -n 3\nCOPY . ./\n\nCMD [\"python\", \"main.py\"]\n"
    );
    // A RUN between the copy and the SHELL runs with the shell it had:
    // the SHELL does not pass it, and the install stays.
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . ./\nRUN echo hi > /etc/motd\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN pip install -r requirements.txt | tee /var/log/pip.log\n";
    let out = hoisted(&files, df);
    assert!(
        out.contains(
            "RUN echo hi > /etc/motd\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n"
        ),
        "{out}"
    );
    // tee writes its file: a log written where the copy ships a file
    // keeps the install below.
    let df = "FROM python:3.12\nWORKDIR /app\nCOPY . ./\nRUN pip install -r requirements.txt | tee main.py\n";
    assert_eq!(hoisted(&files, df), df);
}

/// scout77 probe uv-user: `RUN pip install … uv && useradd --create-home
/// app`, then `COPY --chown=app:app . /app`, `WORKDIR /app`, `USER app`
/// and the install. The `pip` beside `useradd` made the user database
/// unknown, so `USER app` could not come along with the install (its home
/// unknown) and the install stayed below the copy. A command the knowledge
/// base describes that writes none of the database now keeps it known.
/// Built with real uv 0.13.10 (`uv sync --locked`): the image as a rebuild
/// of the original (only uv's cache ids differ, as between two builds of
/// the original), the install CACHED after a source edit.
#[test]
fn a_described_command_beside_useradd_keeps_the_user_known() {
    let files = [
        ("requirements.txt", "flask==3.0.3\n"),
        ("server.py", "print(1)\n"),
        (".dockerignore", ".git\n"),
    ];
    let df = "FROM python:3.12-slim\nRUN pip install --no-cache-dir gunicorn==22.0.0 && useradd --create-home app\nCOPY --chown=app:app . /app\nWORKDIR /app\nUSER app\nRUN pip install --user -r requirements.txt\nCMD [\"python\", \"server.py\"]\n";
    assert_eq!(
        hoisted(&files, df),
        "FROM python:3.12-slim\nRUN pip install --no-cache-dir gunicorn==22.0.0 && useradd --create-home app\nCOPY --chown=app:app requirements.txt /app/\nWORKDIR /app\nUSER app\nRUN pip install --user -r requirements.txt\nCOPY --chown=app:app . /app\nCMD [\"python\", \"server.py\"]\n"
    );
    // `chown` and `mkdir` beside it change no home.
    let df = "FROM python:3.12-slim\nRUN useradd --create-home app && mkdir -p /srv/data && chown -R app:app /srv/data /home/app\nCOPY --chown=app:app . /app\nWORKDIR /app\nUSER app\nRUN pip install --user -r requirements.txt\n";
    let out = hoisted(&files, df);
    assert!(
        out.find("RUN pip install --user") < out.find("COPY --chown=app:app . /app"),
        "{out}"
    );
    // A command that edits the database, or one not described, beside
    // it: the home is not known, and the install stays below the copy.
    for edit in [
        "echo 'app:x:1000:1000::/app:/bin/sh' >> /etc/passwd",
        "sed -i 's#/home/app#/app#' /etc/passwd",
        "usermod -d /app app",
        "./setup-user.sh",
        "cp /tmp/login.defs /etc/login.defs",
        "cd /etc > passwd",
    ] {
        let df = format!(
            "FROM python:3.12-slim\nRUN useradd --create-home app && {edit}\nCOPY --chown=app:app . /app\nWORKDIR /app\nUSER app\nRUN pip install --user -r requirements.txt\n"
        );
        assert_eq!(hoisted(&files, &df), df, "{edit}");
    }
}

/// scout77 probe uv-hatchpath: a packaged project with hatch's template
/// (`[tool.hatch.version] path = "src/app/__about__.py"`, here also
/// `[tool.coverage.run] path`), synced the way uv's Docker guide does
/// (`uv sync --frozen --no-install-project`). Any `path =` in the
/// pyproject.toml read as a local uv source, so the install was Unsafe;
/// only uv's own tables count now. A `path` source in `[tool.uv.sources]`
/// still does, in any form TOML allows.
#[test]
fn another_tools_path_in_pyproject_is_no_uv_source() {
    let build =
        "\n[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n";
    let lock = (
        "uv.lock",
        "version = 1\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n",
    );
    let df = "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen --no-install-project\n";
    let tail = format!(
        "{build}\n[tool.hatch.version]\npath = \"src/app/__about__.py\"\n\n[tool.coverage.run]\npath = \"src\"\n"
    );
    let (out, app, reason) = {
        let files = uv_project(&tail, &[lock]);
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        proposed_hoist(&files, df)
    };
    assert_eq!(app, Applicability::Safe, "{reason}");
    assert_eq!(
        out,
        "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\nWORKDIR /app\nCOPY pyproject.toml uv.lock .python-version ./\nRUN uv sync --frozen --no-install-project\nCOPY . .\n"
    );
    for sources in [
        "\n[tool.uv.sources]\nlib = { path = \"libs/lib\" }\n",
        "\n[tool.uv.sources.lib]\npath = \"libs/lib\"\n",
        "\n[tool.uv]\nsources = { lib = [{ path = \"libs/lib\", marker = \"sys_platform == 'linux'\" }] }\n",
        "\n[tool]\nuv.sources.lib.path = \"libs/lib\"\n",
    ] {
        let files = uv_project(&format!("{tail}{sources}"), &[lock]);
        assert_eq!(hoisted_owned(&files, df), df, "{sources}");
    }
}
