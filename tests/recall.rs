//! Issue 11: hoists experts make on real Dockerfiles (static shapes; the
//! samples build the main ones with the real engine).

use dockreorder::analysis::context::Context;
use dockreorder::plan::{Applicability, Options};
use dockreorder::rewrite;

fn hoisted(files: &[(&str, &str)], df: &str) -> String {
    let dir = crate::support::project(files);
    let ctx = Context::new(
        dir.path().to_path_buf(),
        Some(&dir.path().join("Dockerfile")),
    );
    rewrite::rewrite(df, Some(&ctx), Options::new(Applicability::Safe))
        .expect("rewrite")
        .new_text
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
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN corepack enable && pnpm install --frozen-lockfile\nRUN pnpm run build\n";
    assert_eq!(
        hoisted(PNPM, df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\nRUN corepack enable && pnpm install --frozen-lockfile\nCOPY . .\nRUN pnpm run build\n"
    );
    let df = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --frozen-lockfile && yarn cache clean\nRUN make -j$(nproc)\n";
    assert_eq!(
        hoisted(PNPM, df),
        "FROM node:20\nWORKDIR /app\nCOPY package.json yarn.lock ./\nRUN yarn install --frozen-lockfile && yarn cache clean\nCOPY . .\nRUN make -j$(nproc)\n"
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
        ("package-lock.json", "{}"),
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
    // A system install that would need WORKDIR to create /code first (no
    // inserted COPY to create it as root) stays.
    let df =
        "FROM node:20\nADD . /code\nWORKDIR /code\nRUN apt-get update && apt-get install -y curl\n";
    assert_eq!(hoisted(files, df), df);
}

#[test]
fn cd_inside_a_run_is_followed() {
    let files = &[
        (
            "web/package.json",
            "{\"name\":\"a\",\"dependencies\":{\"ms\":\"2.1.3\"}}",
        ),
        ("web/package-lock.json", "{}"),
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
