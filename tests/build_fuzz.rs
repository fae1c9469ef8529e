//! Differential build fuzzing (issue #8, the test oracle): random small
//! Dockerfiles over a fixed build context, biased toward shapes the tool
//! rewrites (a broad `COPY . .` before an install whose manifests are in the
//! context), each run through `dockreorder --write`, with or without a
//! generated git history (source files change often, manifests rarely). When
//! the file changed, the original and the rewritten Dockerfile are built with
//! the real engine and the images compared with `tests/docker/compare-images.sh`
//! (files, bytes, modes, owners, config), the last stage and every named
//! earlier stage (`--target`); the rewritten image's total layer size may
//! grow by at most the bytes of the manifest copies the rewrite inserted.
//!
//! Outcomes per case: the tool failed (exit 2 on a file it parsed: a finding),
//! unchanged, rewritten; of the rewritten: discarded (the ORIGINAL does not
//! build, e.g. a heredoc the engine's old frontend rejects or a missing file:
//! the generator may produce those, they say nothing about the tool), same
//! image, or a difference (the rewrite does not build, the images differ, the
//! image grew, or a second run would change the file again).
//!
//! Everything is deterministic from `DOCKREORDER_FUZZ_SEED` (default 8); the
//! number of cases is `DOCKREORDER_FUZZ_CASES` (default 120, about 2 minutes
//! here), `DOCKREORDER_FUZZ_JOBS` cases build in parallel (default 2),
//! `DOCKREORDER_FUZZ_ONLY=N` runs case N alone, `DOCKREORDER_FUZZ_SKIP=x,y`
//! drops generated instructions containing `x` or `y` (exploring past a known
//! finding), `DOCKREORDER_FUZZ_KEEP=1` keeps every case, not only findings. Every difference is kept under
//! `target/tmp/fuzz-findings/case-N/` (context, both Dockerfiles, the tool's
//! output, the comparison) for minimizing by hand.
//!
//! Without a Docker engine the generator and the tool still run (exit codes,
//! second-run stability) and the build part prints `SKIPPED`; with
//! `DOCKREORDER_STRICT=1` that is a failure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use git2::{Repository, Signature, Time};

use crate::support;

// ---------------------------------------------------------------- PRNG

/// splitmix64: small, fast, and the same sequence everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// true with probability `percent`/100
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

// ---------------------------------------------------------------- context

/// Files that change often in the generated history.
const SOURCES: &[&str] = &[
    "app.py",
    "server.js",
    "src/index.js",
    "src/util.py",
    "main.go",
    "README.md",
    "conf/app.conf",
];
/// Files that change rarely (dependency manifests and local packages).
const MANIFESTS: &[&str] = &[
    "requirements.txt",
    "requirements-dev.txt",
    "package.json",
    "package-lock.json",
    "Gemfile",
    "Gemfile.lock",
    "go.mod",
    "go.sum",
    "pkg/setup.py",
    "packages/sdk/package.json",
    "requirements-local.txt",
    "constraints.txt",
];
/// Files that never change.
const FIXED: &[&str] = &[
    // A user's npm settings: in a home, where `npm config set` reads and
    // writes them, and where the broad copy may ship them (issue 11: the
    // home is the user's, `/home/NAME` or `/root`).
    ".npmrc",
    "scripts/build.sh",
    "vendor/cache/x-1.0.gem",
    "pkg/mypkg/__init__.py",
];

/// The content of a context file at revision `rev` (0 = first commit).
pub fn file_content(path: &str, rev: u32, npm_lifecycle: bool) -> String {
    match path {
        "package.json" if npm_lifecycle => format!(
            "{{\n  \"name\": \"app\",\n  \"version\": \"1.0.{rev}\",\n  \"scripts\": {{ \"build\": \"tsc -p .\", \"postinstall\": \"node scripts/post.js\" }},\n  \"dependencies\": {{ \"express\": \"4.18.{rev}\" }}\n}}\n"
        ),
        "app.py" => format!("import os\nprint('app', {rev})\n"),
        "server.js" => format!("require('express')\nconsole.log('server {rev}')\n"),
        "src/index.js" => format!("module.exports = {rev};\n"),
        "src/util.py" => format!("def util():\n    return {rev}\n"),
        "main.go" => format!("package main\n\nfunc main() {{ println({rev}) }}\n"),
        "README.md" => format!("# app\n\nrevision {rev}\n"),
        "conf/app.conf" => format!("level=info\nrev={rev}\n"),
        "requirements.txt" => format!("requests==2.31.{rev}\nclick==8.1.7\n"),
        "requirements-dev.txt" => format!("-r requirements.txt\npytest==8.0.{rev}\n"),
        "package.json" => format!(
            "{{\n  \"name\": \"app\",\n  \"version\": \"1.0.{rev}\",\n  \"scripts\": {{ \"build\": \"tsc -p .\", \"start\": \"node server.js\" }},\n  \"dependencies\": {{ \"express\": \"4.18.{rev}\" }},\n  \"devDependencies\": {{ \"jest\": \"29.7.0\" }}\n}}\n"
        ),
        "package-lock.json" => format!(
            "{{\n  \"name\": \"app\",\n  \"version\": \"1.0.{rev}\",\n  \"lockfileVersion\": 3,\n  \"packages\": {{ \"node_modules/express\": {{ \"version\": \"4.18.{rev}\" }} }}\n}}\n"
        ),
        "Gemfile" => format!(
            "source 'https://rubygems.org'\ngem 'rack', '3.0.{rev}'\ngroup :development do\n  gem 'pry'\nend\n"
        ),
        "Gemfile.lock" => format!("GEM\n  specs:\n    rack (3.0.{rev})\n"),
        "go.mod" => {
            format!("module example.com/app\n\ngo 1.22\n\nrequire golang.org/x/text v0.14.{rev}\n")
        }
        "go.sum" => format!("golang.org/x/text v0.14.{rev} h1:fake=\n"),
        "requirements-local.txt" => format!("# rev {rev}\n./pkg\n"),
        "constraints.txt" => format!("click<9.{rev}\n"),
        "pkg/setup.py" => {
            format!("from setuptools import setup\nsetup(name=\"mypkg\", version=\"0.{rev}\")\n")
        }
        "packages/sdk/package.json" => {
            format!("{{\"name\": \"@app/sdk\", \"version\": \"0.1.{rev}\"}}\n")
        }
        "scripts/build.sh" => {
            "#!/bin/sh\nmkdir -p out\ncat *.py > out/bundle.txt 2>/dev/null\nexit 0\n".into()
        }
        "vendor/cache/x-1.0.gem" => "fake gem x 1.0\n".into(),
        ".npmrc" => "fund=false\n".into(),
        "pkg/mypkg/__init__.py" => "VALUE = 1\n".into(),
        _ => panic!("no content for {path}"),
    }
}

fn write_file(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, text).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if rel.ends_with(".sh") { 0o755 } else { 0o644 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
}

/// `.dockerignore` variants (None: no file).
const IGNORES: &[Option<&str>] = &[
    None,
    Some(".git\n"),
    Some(".git\n"),
    Some("*\n!requirements*.txt\n!app.py\n!package*.json\n!src\n!pkg\n!go.*\n!main.go\n"),
    Some("**/*.md\n.git\n"),
    Some(".git\npackage-lock.json\n"),
    Some(".git\n*.md\n"),
    Some(".git\nnode_modules\n"),
    Some(".git\nDockerfile\n"),
    Some(".git\nrequirements-dev.txt\n"),
];

// ---------------------------------------------------------------- generator

/// One generated case.
pub struct Case {
    pub index: usize,
    pub dockerfile: String,
    pub dockerignore: Option<&'static str>,
    /// commits after the first: (files changed)
    pub history: Option<Vec<Vec<&'static str>>>,
    /// a tracked `node_modules/` in the context (what `npm ci` would write)
    pub stray_node_modules: bool,
    /// package.json has a `postinstall` script (npm runs it; it may read anything)
    pub npm_lifecycle: bool,
}

const BASE: &str = "dockreorder-test-base";

const META: &[&str] = &[
    "ENV NODE_ENV=production",
    "ENV PIP_NO_CACHE_DIR=1",
    "ENV APP_HOME=/app",
    "ARG APP_HOME=/srv/app",
    "ARG VERSION=1.0",
    "ENV PATH=/opt/bin:$PATH",
    "ENV GEM_HOME=/gems",
    "ENV BUNDLE_WITHOUT=development",
    "ENV HOME=/home/app",
    "ENV npm_config_cache=/tmp/npm-cache",
    "ARG REQS=requirements.txt",
    "ENV REQS=requirements-dev.txt",
    "LABEL version=$VERSION",
    // Cache busters (issue 11): assumed to change on every build, they
    // move below the installs that do not read them.
    "ARG CACHEBUST=1",
    "ARG BUILD_DATE=2024-05-01",
    "ARG VCS_REF",
    "LABEL build-date=$BUILD_DATE",
    "EXPOSE 8080",
    "SHELL [\"/bin/sh\", \"-ec\"]",
];

const WORKDIRS: &[&str] = &[
    "WORKDIR /app",
    "WORKDIR /app",
    "WORKDIR /srv",
    "WORKDIR sub",
    "WORKDIR $APP_HOME",
    "WORKDIR /usr/src/app",
    "WORKDIR /home/node/app",
    "WORKDIR /root",
    "WORKDIR /home/app",
];

const BROAD: &[&str] = &[
    "COPY . .",
    "COPY . .",
    "COPY . .",
    "ADD . .",
    "COPY --chown=1000:1000 . .",
    "COPY . ./",
    "COPY . $WD",
    "COPY --chmod=755 . .",
    "COPY ./ $WD/",
];

const NARROW: &[&str] = &[
    "COPY requirements.txt ./",
    "COPY requirements*.txt ./",
    "COPY package.json package-lock.json ./",
    "COPY package*.json ./",
    "COPY Gemfile Gemfile.lock ./",
    "COPY go.mod go.sum ./",
    "COPY src/ ./src/",
    "COPY src /app/src",
    "COPY app.py .",
    "COPY conf/app.conf /etc/app.conf",
    "COPY --chown=1000:1000 app.py ./",
    "COPY --chmod=600 conf/app.conf ./conf/",
    "COPY scripts/build.sh /usr/local/bin/build.sh",
    "ADD conf /etc/conf",
    "COPY pkg ./pkg",
    "COPY packages ./packages",
    "COPY vendor ./vendor",
    "COPY requirements.txt /tmp/requirements.txt",
    "RUN apt-get install -y curl",
];

const INSTALLS: &[&str] = &[
    "RUN pip install -r requirements.txt",
    "RUN pip install --no-cache-dir -r requirements.txt",
    "RUN pip install -r requirements-dev.txt",
    "RUN pip install ./pkg",
    "RUN pip install -e ./pkg",
    "RUN pip install flask==3.0.0",
    "RUN pip install -U pip==24.0",
    "RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt",
    "RUN npm ci",
    "RUN npm ci --omit=dev",
    "RUN npm install",
    "RUN npm install ./packages/sdk",
    "RUN npm run build",
    "RUN npm install -g npm@10.9.0",
    "RUN bundle install",
    "RUN bundle config set --local path vendor/bundle && bundle install",
    "RUN gem install vendor/cache/x-1.0.gem",
    "RUN go mod download",
    "RUN go build -o /out/app .",
    "RUN apt-get update",
    "RUN apt-get update\nRUN apt-get install -y curl",
    "RUN apt-get update && apt-get install -y git",
    "COPY requirements.txt /tmp/requirements.txt\nRUN pip install -r /tmp/requirements.txt",
    "RUN pip install -r $REQS",
    "RUN pip install -r ${REQS:-requirements.txt}",
    "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt",
    "RUN --mount=type=bind,source=requirements.txt,target=/tmp/r.txt pip install -r /tmp/r.txt",
    "RUN pip install -r requirements-local.txt",
    "RUN pip install -r requirements.txt -c constraints.txt",
    "RUN cd /app && npm ci",
    "RUN npm ci --ignore-scripts",
    "RUN npm ci && npm run build",
    "RUN pip install -r requirements.txt && python app.py",
    "RUN apt-get update && \\\n    apt-get install -y --no-install-recommends curl",
    "RUN pip install \\\n    -r requirements.txt",
    "RUN npm install --omit=dev",
    "RUN bundle install --without development",
    // Compound RUNs a split may cut at a `&&` (and the ones it must not).
    "RUN npm ci \\\n    && npm run build && ls node_modules > /tmp/nm",
    "RUN npm ci && npm run build && npm prune --omit=dev",
    "RUN pip install -r requirements.txt && rm -rf /root/.cache/pip && sh scripts/build.sh",
    "RUN pip install -r requirements.txt && cat /tmp/* > /tmp/all 2>/dev/null || true",
    "RUN export PIP_NO_CACHE_DIR=1 && pip install -r requirements.txt && python app.py",
    "RUN --mount=type=cache,target=/root/.npm npm ci && npm run build",
    "RUN go mod download && go build -o /out/app .",
    // The user's settings in its home (`~/.npmrc`), then the install.
    "RUN npm config set loglevel=warn && npm ci",
    "RUN python -m venv venv && venv/bin/pip install -r requirements.txt",
];

const SHELL: &[&str] = &[
    "RUN echo \"$APP_HOME $VERSION\" > /tmp/vars",
    "RUN cat requirements.txt > /tmp/req",
    "RUN ls > /tmp/listing",
    "RUN mkdir -p out && cp app.py out/",
    "RUN sed -i 's/app/APP/' app.py",
    "RUN rm -f README.md",
    "RUN chmod 700 scripts/build.sh",
    "RUN chown -R 1000:1000 .",
    "RUN touch marker",
    "RUN find . -xdev -type f ! -path './tmp/*' | sort > /tmp/files",
    "RUN wc -c requirements.txt > /tmp/size",
    "RUN echo \"$HOME\" > home.txt",
    "RUN cd src && cat index.js > /tmp/idx",
    "RUN sh scripts/build.sh",
    "RUN cp package.json /tmp/pj 2>/dev/null || true",
    "RUN ls node_modules > /tmp/nm 2>/dev/null || true",
    "RUN id -u > /tmp/uid",
    "RUN pwd > /tmp/pwd",
    "RUN echo step >> /tmp/log",
    "RUN cat /usr/local/lib/python3/site-packages/*/REQUESTED > /tmp/pip-state 2>/dev/null || true",
    "RUN mkdir -p /data && echo x > /data/x",
    "RUN rm -rf node_modules",
    // Deletes a hoist may rely on (or must not: partial, after a reader,
    // as another user, conditional).
    "RUN rm -rf node_modules/express",
    "RUN cd /app && rm -rf ./node_modules /tmp/nm",
    "USER root\nRUN rm -rf node_modules vendor",
    "USER 1000\nRUN rm -rf node_modules",
    "RUN test -d src || rm -rf node_modules",
    "RUN rm -rf vendor",
    "RUN echo 'six==1.16.0' >> requirements.txt",
    "RUN printf 'flask\\n' > requirements.txt",
    "RUN echo hi > ../up.txt",
    "RUN ln -s /app/app.py /usr/local/bin/app",
    "RUN test -f package-lock.json",
    "RUN echo \"$CACHEBUST $BUILD_DATE\" > /etc/stamp",
];

const HEREDOCS: &[&str] = &[
    "COPY <<EOF /etc/motd\nhello\nEOF",
    "RUN <<EOF\necho heredoc > /tmp/h\nEOF",
    "COPY <<-EOF requirements.txt\n\tflask==3.0.0\n\tEOF",
];

const TAILS: &[&str] = &[
    "CMD [\"python\", \"app.py\"]",
    "CMD [\"node\", \"server.js\"]",
    "ENTRYPOINT [\"/bin/sh\", \"-c\"]",
    "HEALTHCHECK CMD true",
    "STOPSIGNAL SIGTERM",
    "USER 1000",
    "VOLUME /data",
];

/// What an earlier stage offers to `COPY --from`.
#[derive(Clone, Copy, PartialEq)]
enum StageKind {
    Main,
    Go,
    Tools,
}

fn random_item(rng: &mut Rng, prev: &[(String, StageKind)]) -> String {
    let r = rng.below(100);
    match r {
        0..=14 => rng.pick(META).to_string(),
        15..=21 => rng.pick(WORKDIRS).to_string(),
        22..=33 => rng.pick(NARROW).to_string(),
        34..=39 => rng.pick(BROAD).replace("$WD", "/app"),
        40..=59 => rng.pick(INSTALLS).to_string(),
        60..=85 => rng.pick(SHELL).to_string(),
        86..=87 => rng.pick(HEREDOCS).to_string(),
        88..=90 => match rng.below(3) {
            0 => "USER 1000".into(),
            1 => "USER root".into(),
            // made by the stage's prelude, when it has one (else the
            // build fails in both orders and the case is discarded)
            _ => "USER app".into(),
        },
        _ => {
            if let Some(from) = copy_from(rng, prev) {
                from
            } else {
                rng.pick(SHELL).to_string()
            }
        }
    }
}

fn copy_from(rng: &mut Rng, prev: &[(String, StageKind)]) -> Option<String> {
    if prev.is_empty() {
        return None;
    }
    let (name, kind) = rng.pick(prev).clone();
    Some(match kind {
        StageKind::Go => format!("COPY --from={name} /out/app /usr/local/bin/app"),
        StageKind::Tools => {
            if rng.chance(70) {
                format!("COPY --from={name} /opt/bin /opt/bin")
            } else {
                format!("COPY --from={name} /opt/bin/ /usr/local/bin/")
            }
        }
        StageKind::Main => {
            if rng.chance(50) {
                format!("COPY --from={name} /tmp /tmp/prev")
            } else {
                format!(
                    "COPY --from={name} /usr/local/lib/python3/site-packages /usr/local/lib/python3/site-packages"
                )
            }
        }
    })
}

/// A stage whose last part is the shape the tool rewrites: a broad copy,
/// then installs, with random instructions in between.
fn rewritable_body(rng: &mut Rng, prev: &[(String, StageKind)], out: &mut Vec<String>) {
    for _ in 0..rng.below(3) {
        out.push(rng.pick(META).to_string());
    }
    if rng.chance(25) {
        // a named user, home /home/app (a stage built on an earlier one
        // may have it already)
        out.push("RUN id app || useradd -m app".into());
    }
    let wd = rng.pick(WORKDIRS).to_string();
    out.push(wd.clone());
    if rng.chance(30) {
        out.push(random_item(rng, prev));
    }
    if rng.chance(25) {
        // a tool wrapper or upgrade provided before the install
        if let Some(f) = prev
            .iter()
            .find(|(_, k)| *k == StageKind::Tools)
            .map(|(n, _)| format!("COPY --from={n} /opt/bin /opt/bin"))
        {
            out.push(f);
            if !out.iter().any(|l| l.starts_with("ENV PATH=")) {
                out.push("ENV PATH=/opt/bin:$PATH".into());
            }
        }
    }
    let wd = wd.trim_start_matches("WORKDIR ");
    let broad = rng.pick(BROAD).to_string();
    out.push(if wd.starts_with('/') {
        broad.replace("$WD", wd)
    } else {
        broad.replace("$WD", ".")
    });
    let n = 1 + rng.below(3);
    for _ in 0..n {
        if rng.chance(35) {
            out.push(random_item(rng, prev));
        }
        out.push(rng.pick(INSTALLS).to_string());
    }
    for _ in 0..rng.below(3) {
        out.push(random_item(rng, prev));
    }
}

pub fn generate(index: usize, base_seed: u64) -> Case {
    let case_seed = base_seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut rng = Rng::new(case_seed);
    let mut lines: Vec<String> = Vec::new();
    let mut prev: Vec<(String, StageKind)> = Vec::new();
    let stages = 1 + usize::from(rng.chance(40)) + usize::from(rng.chance(15));
    for s in 0..stages {
        let last = s + 1 == stages;
        let kind = if last {
            StageKind::Main
        } else {
            *rng.pick(&[StageKind::Go, StageKind::Tools, StageKind::Main])
        };
        let name = format!("s{s}");
        let from = if !prev.is_empty() && rng.chance(15) {
            rng.pick(&prev).0.clone()
        } else {
            BASE.to_string()
        };
        if last && rng.chance(50) {
            lines.push(format!("FROM {from}"));
        } else {
            lines.push(format!("FROM {from} AS {name}"));
        }
        let mut body = Vec::new();
        match kind {
            StageKind::Go => {
                body.push("WORKDIR /src".to_string());
                if rng.chance(50) {
                    body.push("COPY . .".into());
                    body.push("RUN go mod download".into());
                } else {
                    body.push("COPY go.mod go.sum ./".into());
                    body.push("RUN go mod download".into());
                    body.push("COPY . .".into());
                }
                body.push("RUN go build -o /out/app .".into());
            }
            StageKind::Tools => {
                body.push(
                    rng.pick(&[
                        "RUN mkdir -p /opt/bin && printf '#!/bin/sh\\necho wrapped >> /tmp/wrapped\\nexec /usr/local/bin/pip \"$@\"\\n' > /opt/bin/pip && chmod 755 /opt/bin/pip",
                        "RUN mkdir -p /opt/bin && cp /usr/local/bin/npm /opt/bin/npm && sed -i 's/fake npm/fake npm 2/' /opt/bin/npm",
                        "RUN mkdir -p /opt/bin && printf '#!/bin/sh\\necho bundle-wrapper > /tmp/bw\\nexec /usr/local/bin/bundle \"$@\"\\n' > /opt/bin/bundle && chmod 755 /opt/bin/bundle",
                    ])
                    .to_string(),
                );
            }
            StageKind::Main => {
                if rng.chance(75) {
                    rewritable_body(&mut rng, &prev, &mut body);
                } else {
                    for _ in 0..3 + rng.below(7) {
                        body.push(random_item(&mut rng, &prev));
                    }
                }
                if last && rng.chance(60) {
                    body.push(rng.pick(TAILS).to_string());
                }
            }
        }
        lines.extend(body);
        prev.push((name, kind));
    }
    // DOCKREORDER_FUZZ_SKIP=a,b: drop generated instructions containing a or b
    // (to look past a known finding in exploratory runs; CI sets nothing)
    if let Ok(skip) = std::env::var("DOCKREORDER_FUZZ_SKIP") {
        let skip: Vec<&str> = skip.split(',').filter(|x| !x.is_empty()).collect();
        lines.retain(|l| l.starts_with("FROM ") || !skip.iter().any(|x| l.contains(x)));
    }
    let mut dockerfile = String::new();
    for (i, l) in lines.iter().enumerate() {
        // now and then a comment above an instruction, a blank line between
        if rng.chance(8) {
            let _ = writeln!(dockerfile, "# step {i}");
        }
        if rng.chance(4) {
            // keywords are case-insensitive
            let (kw, rest) = l.split_once(' ').unwrap_or((l.as_str(), ""));
            let _ = writeln!(dockerfile, "{} {rest}", kw.to_lowercase());
        } else {
            let _ = writeln!(dockerfile, "{l}");
        }
        if rng.chance(5) {
            dockerfile.push('\n');
        }
    }
    let dockerignore = *rng.pick(IGNORES);
    let history = if rng.chance(60) {
        // At least 20 commits: with fewer the tool defers to the static
        // estimate, and history-driven plans would go untested.
        let n = 20 + rng.below(16);
        Some(
            (0..n)
                .map(|_| {
                    let mut files = Vec::new();
                    for _ in 0..1 + rng.below(2) {
                        // Manifests change rarely, as in real repositories.
                        if rng.chance(95) {
                            files.push(*rng.pick(SOURCES));
                        } else {
                            files.push(*rng.pick(MANIFESTS));
                        }
                    }
                    files
                })
                .collect(),
        )
    } else {
        None
    };
    let stray_node_modules = rng.chance(5);
    let npm_lifecycle = rng.chance(10);
    Case {
        index,
        npm_lifecycle,
        dockerfile,
        dockerignore,
        history,
        stray_node_modules,
    }
}

/// Writes the context (and its history) for `case` into `dir`.
pub fn materialize(case: &Case, dir: &Path) {
    let mut rev: BTreeMap<&str, u32> = BTreeMap::new();
    let write_all = |rev: &BTreeMap<&str, u32>| {
        for f in SOURCES.iter().chain(MANIFESTS).chain(FIXED) {
            write_file(
                dir,
                f,
                &file_content(f, rev.get(f).copied().unwrap_or(0), case.npm_lifecycle),
            );
        }
    };
    write_all(&rev);
    write_file(dir, "Dockerfile", &case.dockerfile);
    if let Some(ig) = case.dockerignore {
        write_file(dir, ".dockerignore", ig);
    }
    if case.stray_node_modules {
        write_file(
            dir,
            "node_modules/left-pad/index.js",
            "module.exports = 1;\n",
        );
    }
    let Some(history) = &case.history else {
        return;
    };
    let repo = Repository::init(dir).expect("git init");
    let mut time = 1_700_000_000;
    let mut commit = |msg: &str| {
        let mut index = repo.index().expect("index");
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .expect("add");
        index.update_all(["*"].iter(), None).expect("update");
        index.write().expect("write index");
        let tree = repo
            .find_tree(index.write_tree().expect("tree"))
            .expect("find tree");
        time += 3600;
        let sig = Signature::new("fuzz", "fuzz@example.com", &Time::new(time, 0)).expect("sig");
        let parents: Vec<git2::Commit<'_>> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &refs)
            .expect("commit");
    };
    commit("initial");
    for (i, files) in history.iter().enumerate() {
        for f in files {
            *rev.entry(f).or_insert(0) += 1;
        }
        write_all(&rev);
        commit(&format!("change {i}"));
    }
}

// ---------------------------------------------------------------- running

fn docker() -> String {
    std::env::var("DOCKER").unwrap_or_else(|_| {
        if Path::new("/usr/bin/docker").exists() {
            "/usr/bin/docker".into()
        } else {
            "docker".into()
        }
    })
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/docker")
}

const BUILD_TIMEOUT_S: u64 = 300;

/// `docker build` (BuildKit, no network); Err(the end of the log) on failure.
pub fn build(ctx: &Path, dockerfile: &Path, tag: &str) -> Result<(), String> {
    build_target(ctx, dockerfile, tag, None)
}

/// `build` of one stage (`--target`), or of the last stage.
pub fn build_target(
    ctx: &Path,
    dockerfile: &Path,
    tag: &str,
    target: Option<&str>,
) -> Result<(), String> {
    // a bound, so that a RUN that never ends costs one case, not the run
    let out = Command::new("timeout")
        .arg(BUILD_TIMEOUT_S.to_string())
        .arg(docker())
        .args(["build", "-q", "--network=none", "-f"])
        .arg(dockerfile)
        .args(["-t", tag])
        .args(target.map(|t| format!("--target={t}")))
        .arg(ctx)
        .env("DOCKER_BUILDKIT", "1")
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else if out.status.code() == Some(124) {
        Err(format!("timed out after {BUILD_TIMEOUT_S} s"))
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        Err(lines[lines.len().saturating_sub(12)..].join("\n"))
    }
}

/// compare-images.sh: Ok(None) equivalent, Ok(Some(listing)) different.
pub fn compare(a: &str, b: &str) -> Result<Option<String>, String> {
    let out = Command::new("bash")
        .arg(scripts().join("compare-images.sh"))
        .args([a, b])
        .env("DOCKER", docker())
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    match out.status.code() {
        Some(0) => Ok(None),
        Some(1) => Ok(Some(text)),
        _ => Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr))),
    }
}

/// Total layer size (`.Size`: the bytes of the files of every layer).
pub fn image_size(tag: &str) -> Result<u64, String> {
    let out = Command::new(docker())
        .args(["image", "inspect", "--format", "{{.Size}}", tag])
        .output()
        .map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("size of {tag}: {e}"))
}

pub fn rmi(tags: &[&str]) {
    let _ = Command::new(docker())
        .args(["rmi", "-f"])
        .args(tags)
        .output();
}

fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    match (pat.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_match(&pat[1..], s) || (!s.is_empty() && glob_match(pat, &s[1..])),
        (Some(b'?'), Some(_)) => glob_match(&pat[1..], &s[1..]),
        (Some(p), Some(c)) if p == c => glob_match(&pat[1..], &s[1..]),
        _ => false,
    }
}

fn tree_bytes(p: &Path) -> u64 {
    if p.is_dir() {
        std::fs::read_dir(p)
            .map(|rd| rd.flatten().map(|e| tree_bytes(&e.path())).sum())
            .unwrap_or(0)
    } else {
        std::fs::symlink_metadata(p).map(|m| m.len()).unwrap_or(0)
    }
}

/// Bytes of the context sources of a COPY/ADD line (without `--from`).
fn copy_source_bytes(ctx: &Path, line: &str) -> u64 {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some(kw) = words.first() else { return 0 };
    if !(kw.eq_ignore_ascii_case("COPY") || kw.eq_ignore_ascii_case("ADD")) {
        return 0;
    }
    if words.iter().any(|w| w.starts_with("--from")) {
        return 0;
    }
    let args: Vec<&str> = words[1..]
        .iter()
        .copied()
        .filter(|w| !w.starts_with("--"))
        .collect();
    let Some((_, sources)) = args.split_last() else {
        return 0;
    };
    let mut total = 0;
    for src in sources {
        let src = src.trim_start_matches("./");
        if src.contains('*') || src.contains('?') {
            let (dir, pat) = match src.rsplit_once('/') {
                Some((d, p)) => (ctx.join(d), p),
                None => (ctx.to_path_buf(), src),
            };
            if let Ok(rd) = std::fs::read_dir(&dir) {
                for e in rd.flatten() {
                    if glob_match(pat.as_bytes(), e.file_name().to_string_lossy().as_bytes()) {
                        total += tree_bytes(&e.path());
                    }
                }
            }
        } else {
            total += tree_bytes(&ctx.join(src));
        }
    }
    total
}

/// Bytes the rewrite may add to the image: the context sources of every
/// COPY/ADD instruction it inserted (a manifest copied before the broad copy
/// is shipped twice, once in each layer).
pub fn inserted_copy_bytes(old: &str, new: &str, ctx: &Path) -> u64 {
    added_instructions(old, new)
        .iter()
        .map(|l| copy_source_bytes(ctx, l))
        .sum()
}

/// Instruction lines of the rewritten text not in the original (multiset
/// difference, continuation lines joined).
fn added_instructions(old: &str, new: &str) -> Vec<String> {
    fn instrs(t: &str) -> Vec<String> {
        dockreorder::syntax::parse(t)
            .instructions()
            .map(|(_, i)| i.original.trim().to_string())
            .collect()
    }
    let mut have: BTreeMap<String, usize> = BTreeMap::new();
    for i in instrs(old) {
        *have.entry(i).or_insert(0) += 1;
    }
    let mut out = Vec::new();
    for i in instrs(new) {
        match have.get_mut(&i) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(i),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    ToolError,
    Unchanged,
    NotIdempotent,
    Discarded,
    Same,
    NotBuilt,
    RewriteFailed,
    Differs,
    Grew,
    Infra,
}

pub struct Result1 {
    pub outcome: Outcome,
    pub detail: String,
    /// the tool ordered by a walked git history (not the static estimate)
    pub by_history: bool,
}

fn run_tool(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(support::bin())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run dockreorder");
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs one case; `build_images` false: only the tool checks.
pub fn run_case(case: &Case, work: &Path, build_images: bool, token: &str) -> Result1 {
    let dir = work.join(format!("case-{}", case.index));
    let _ = std::fs::remove_dir_all(&dir);
    let ctx = dir.join("ctx");
    std::fs::create_dir_all(&ctx).expect("mkdir");
    materialize(case, &ctx);
    let (code, tool_out) = run_tool(&ctx, &["--write", "Dockerfile"]);
    std::fs::write(dir.join("tool-output.txt"), &tool_out).expect("write");
    let new = std::fs::read_to_string(ctx.join("Dockerfile")).expect("read");
    let heredoc = case.dockerfile.contains("<<");
    let by_history = tool_out.contains("ordered by the walked history");
    let res = |outcome, detail: String| Result1 {
        outcome,
        detail,
        by_history,
    };
    if code != Some(0) {
        return res(Outcome::ToolError, format!("exit {code:?}\n{tool_out}"));
    }
    if new == case.dockerfile {
        return res(Outcome::Unchanged, String::new());
    }
    let (code2, out2) = run_tool(&ctx, &["--check", "Dockerfile"]);
    let second_run = if code2 == Some(0) {
        None
    } else {
        Some(format!("second run: --check exit {code2:?}\n{out2}"))
    };
    std::fs::write(dir.join("A.Dockerfile"), &case.dockerfile).expect("write");
    std::fs::write(dir.join("B.Dockerfile"), &new).expect("write");
    std::fs::write(dir.join("tool-output.txt"), &tool_out).expect("write");
    // Both builds see the same context: the original Dockerfile in it.
    std::fs::write(ctx.join("Dockerfile"), &case.dockerfile).expect("write");
    if !build_images {
        return match second_run {
            Some(d) => res(Outcome::NotIdempotent, d),
            None => res(Outcome::NotBuilt, String::new()),
        };
    }
    let ta = format!("dockreorder-fuzz/c{}-a:{token}", case.index);
    let tb = format!("dockreorder-fuzz/c{}-b:{token}", case.index);
    // built FROM this checkout's pinned base, the same substitution in both
    std::fs::write(
        dir.join("A.pinned"),
        crate::docker_build::pin_base(&case.dockerfile),
    )
    .expect("write");
    std::fs::write(dir.join("B.pinned"), crate::docker_build::pin_base(&new)).expect("write");
    if let Err(e) = build(&ctx, &dir.join("A.pinned"), &ta) {
        let reason = if heredoc {
            "heredoc (not supported by the engine's frontend)".to_string()
        } else {
            e.lines()
                .rev()
                .find(|l| l.contains("error") || l.contains("ERROR") || l.contains("failed"))
                .or_else(|| e.lines().last())
                .unwrap_or("")
                .chars()
                .take(160)
                .collect()
        };
        rmi(&[&ta]);
        return res(Outcome::Discarded, reason);
    }
    let result = match build(&ctx, &dir.join("B.pinned"), &tb) {
        Err(e) => res(
            Outcome::RewriteFailed,
            format!("the original builds, the rewrite does not:\n{e}"),
        ),
        Ok(()) => match compare(&ta, &tb) {
            Err(e) => res(Outcome::Infra, e),
            Ok(Some(d)) => res(Outcome::Differs, d),
            Ok(None) => {
                let allowance = inserted_copy_bytes(&case.dockerfile, &new, &ctx);
                match (image_size(&ta), image_size(&tb)) {
                    (Ok(sa), Ok(sb)) if sb > sa + allowance => res(
                        Outcome::Grew,
                        format!(
                            "image grew from {sa} to {sb} bytes; the inserted copies account for {allowance}"
                        ),
                    ),
                    (Ok(_), Ok(_)) => match (
                        second_run,
                        earlier_stages(&dir, &ctx, &case.dockerfile, &ta, &tb),
                    ) {
                        (_, Some((outcome, d))) => res(outcome, d),
                        (Some(d), None) => res(Outcome::NotIdempotent, d),
                        (None, None) => res(Outcome::Same, String::new()),
                    },
                    (Err(e), _) | (_, Err(e)) => res(Outcome::Infra, e),
                }
            }
        },
    };
    rmi(&[&ta, &tb]);
    result
}

/// DESIGN.md section 4: every stage, not only the last, must yield the same
/// filesystem and config. The named stages before the last are built with
/// `--target` from both files and compared; None when all are the same.
fn earlier_stages(
    dir: &Path,
    ctx: &Path,
    dockerfile: &str,
    ta: &str,
    tb: &str,
) -> Option<(Outcome, String)> {
    let names: Vec<String> = dockerfile
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 4 && w[0].eq_ignore_ascii_case("FROM") && w[2].eq_ignore_ascii_case("AS"))
                .then(|| w[3].to_string())
        })
        .collect();
    let last = names.len().saturating_sub(1);
    let unnamed_last = dockerfile
        .lines()
        .rev()
        .find(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
        })
        .is_some_and(|l| l.split_whitespace().count() == 2);
    for (i, name) in names.iter().enumerate() {
        if i == last && !unnamed_last {
            continue; // the last stage: compared already
        }
        let (sa, sb) = (format!("{ta}-{name}"), format!("{tb}-{name}"));
        let r = match build_target(ctx, &dir.join("A.pinned"), &sa, Some(name)) {
            // the original's stage alone does not build: nothing to compare
            Err(_) => None,
            Ok(()) => match build_target(ctx, &dir.join("B.pinned"), &sb, Some(name)) {
                Err(e) => Some((
                    Outcome::RewriteFailed,
                    format!("stage {name}: the original builds, the rewrite does not:\n{e}"),
                )),
                Ok(()) => match compare(&sa, &sb) {
                    Err(e) => Some((Outcome::Infra, e)),
                    Ok(Some(d)) => Some((Outcome::Differs, format!("stage {name}: {d}"))),
                    Ok(None) => None,
                },
            },
        };
        rmi(&[&sa, &sb]);
        if r.is_some() {
            return r;
        }
    }
    None
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn findings_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-findings")
}

fn is_broad(line: &str) -> bool {
    let w: Vec<&str> = line.split_whitespace().collect();
    matches!(w.first(), Some(&"COPY") | Some(&"ADD"))
        && w.len() >= 3
        && matches!(w[w.len() - 2], "." | "./")
}

#[test]
fn generator_is_deterministic_and_biased_toward_rewrites() {
    let a: Vec<String> = (0..50).map(|i| generate(i, 8).dockerfile).collect();
    let b: Vec<String> = (0..50).map(|i| generate(i, 8).dockerfile).collect();
    assert_eq!(a, b, "same seed, same cases");
    let c: Vec<String> = (0..50).map(|i| generate(i, 9).dockerfile).collect();
    assert_ne!(a, c, "another seed, other cases");
    let broad_then_install = a
        .iter()
        .filter(|d| {
            let lines: Vec<&str> = d.lines().collect();
            lines.iter().enumerate().any(|(i, l)| {
                is_broad(l)
                    && lines[i..]
                        .iter()
                        .any(|m| INSTALLS.iter().any(|x| x.ends_with(m)))
            })
        })
        .count();
    assert!(
        broad_then_install >= 30,
        "only {broad_then_install} of 50 cases have a broad copy before an install"
    );
    // every context file has content, and a history changes sources more
    // often than manifests
    let mut src = 0;
    let mut man = 0;
    for i in 0..200 {
        for files in generate(i, 8).history.unwrap_or_default() {
            for f in files {
                if SOURCES.contains(&f) {
                    src += 1;
                } else {
                    man += 1;
                }
            }
        }
    }
    assert!(src > 3 * man && man > 0, "sources {src}, manifests {man}");
    let tmp = tempfile::tempdir().expect("tempdir");
    let case = (0..50)
        .map(|i| generate(i, 8))
        .find(|c| c.history.is_some())
        .expect("a case with history");
    materialize(&case, tmp.path());
    let repo = Repository::open(tmp.path()).expect("a repository");
    let mut walk = repo.revwalk().expect("revwalk");
    walk.push_head().expect("head");
    assert_eq!(
        walk.count(),
        case.history.as_ref().map_or(0, |h| h.len()) + 1
    );
    assert!(
        repo.statuses(None).expect("status").is_empty(),
        "work tree is committed"
    );
}

#[test]
fn size_allowance_counts_the_inserted_copies() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let case = generate(0, 8);
    materialize(&case, tmp.path());
    let old = "FROM x\nCOPY . .\nRUN npm ci\n";
    let new = "FROM x\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n";
    let added = added_instructions(old, new);
    assert_eq!(added, vec!["COPY package*.json ./".to_string()]);
    let want = (file_content("package.json", 0, case.npm_lifecycle).len()
        + file_content("package-lock.json", 0, false).len()) as u64;
    assert_eq!(copy_source_bytes(tmp.path(), &added[0]), want);
    assert_eq!(
        copy_source_bytes(tmp.path(), "COPY --chown=1:1 go.mod go.sum ./"),
        (file_content("go.mod", 0, false).len() + file_content("go.sum", 0, false).len()) as u64
    );
    assert_eq!(copy_source_bytes(tmp.path(), "COPY --from=a /x /y"), 0);
}

#[test]
fn differential_build_fuzz() {
    let cases = env_num("DOCKREORDER_FUZZ_CASES", 120) as usize;
    let seed = env_num("DOCKREORDER_FUZZ_SEED", 8);
    let jobs = env_num("DOCKREORDER_FUZZ_JOBS", 2).max(1) as usize;
    let only = std::env::var("DOCKREORDER_FUZZ_ONLY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    let build_images = crate::docker_build::engine_ready();
    // keep every case (not only the findings) under target/tmp/fuzz-findings
    let keep_all = std::env::var("DOCKREORDER_FUZZ_KEEP").is_ok_and(|v| v == "1");
    let indices: Vec<usize> = match only {
        Some(i) => vec![i],
        None => (0..cases).collect(),
    };
    let work = tempfile::tempdir().expect("tempdir");
    let token = format!("{}", std::process::id());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result1)>> = Mutex::new(Vec::new());
    let t0 = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&i) = indices.get(k) else { break };
                    let case = generate(i, seed);
                    let r = run_case(&case, work.path(), build_images, &token);
                    if keep_all
                        || !matches!(
                            r.outcome,
                            Outcome::Unchanged
                                | Outcome::Same
                                | Outcome::Discarded
                                | Outcome::NotBuilt
                        )
                    {
                        let keep = findings_dir().join(format!("seed-{seed}-case-{i}"));
                        let _ = std::fs::remove_dir_all(&keep);
                        let _ = copy_tree(&work.path().join(format!("case-{i}")), &keep);
                        let _ = std::fs::write(
                            keep.join("finding.txt"),
                            format!("{:?}\n{}", r.outcome, r.detail),
                        );
                        let _ = std::fs::write(keep.join("original.Dockerfile"), &case.dockerfile);
                    }
                    let _ = std::fs::remove_dir_all(work.path().join(format!("case-{i}")));
                    results.lock().expect("lock").push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("lock");
    results.sort_by_key(|(i, _)| *i);
    let count = |o: Outcome| results.iter().filter(|(_, r)| r.outcome == o).count();
    let rewritten = results.len() - count(Outcome::Unchanged) - count(Outcome::ToolError);
    let built = count(Outcome::Same)
        + count(Outcome::Differs)
        + count(Outcome::Grew)
        + count(Outcome::RewriteFailed)
        + count(Outcome::NotIdempotent);
    let by_history = results
        .iter()
        .filter(|(_, r)| r.by_history && r.outcome != Outcome::Unchanged)
        .count();
    let mut summary = format!(
        "build fuzz (seed {seed}, {jobs} jobs, {:.0} s): generated {}, tool errors {}, unchanged {}, rewritten {rewritten} ({by_history} ordered by a generated git history), discarded (original does not build) {}, built and compared {built}, same {}, differences {} (images differ {}, rewrite does not build {}, image grew {}, second run changes the file {}), infrastructure errors {}\n",
        t0.elapsed().as_secs_f64(),
        results.len(),
        count(Outcome::ToolError),
        count(Outcome::Unchanged),
        count(Outcome::Discarded),
        count(Outcome::Same),
        count(Outcome::Differs)
            + count(Outcome::RewriteFailed)
            + count(Outcome::Grew)
            + count(Outcome::NotIdempotent),
        count(Outcome::Differs),
        count(Outcome::RewriteFailed),
        count(Outcome::Grew),
        count(Outcome::NotIdempotent),
        count(Outcome::Infra),
    );
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, r) in results
        .iter()
        .filter(|(_, r)| r.outcome == Outcome::Discarded)
    {
        *reasons.entry(r.detail.as_str()).or_insert(0) += 1;
    }
    for (why, n) in &reasons {
        let _ = writeln!(summary, "  discarded {n}x: {why}");
    }
    let mut failures = String::new();
    for (i, r) in &results {
        if matches!(
            r.outcome,
            Outcome::Unchanged | Outcome::Same | Outcome::Discarded | Outcome::NotBuilt
        ) {
            continue;
        }
        let case = generate(*i, seed);
        let _ = writeln!(
            failures,
            "\n=== case {i} ({:?}; DOCKREORDER_FUZZ_SEED={seed} DOCKREORDER_FUZZ_ONLY={i}; kept in {})\n--- Dockerfile:\n{}--- {}\n",
            r.outcome,
            findings_dir()
                .join(format!("seed-{seed}-case-{i}"))
                .display(),
            case.dockerfile,
            r.detail.trim_end()
        );
    }
    eprintln!("{summary}");
    let _ = std::fs::create_dir_all(findings_dir());
    let _ = std::fs::write(
        findings_dir().join(format!("summary-seed-{seed}.txt")),
        format!("{summary}{failures}"),
    );
    if !build_images {
        // engine_ready() already printed SKIPPED (or failed in strict mode)
        assert!(failures.is_empty(), "{summary}{failures}");
        return;
    }
    assert!(failures.is_empty(), "{summary}{failures}");
    if only.is_none() {
        // A sanity check of the generator, not of the tool: over 600-case
        // runs 36-38% of the cases were rewritten; a 120-case sample varies
        // (seed 8 gave 31% once the histories grew to 20+ commits, and 24%,
        // 29 of 120, after stop 29's soundness fixes refused more of the
        // generated moves). At least a fifth must still be rewritten.
        assert!(
            rewritten * 5 >= results.len(),
            "the generator is not biased enough toward rewrites: {summary}"
        );
        assert!(
            built * 3 >= rewritten,
            "too many rewritten cases were discarded (the original did not build): {summary}"
        );
    }
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)?.flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        let ft = e.file_type()?;
        if ft.is_dir() {
            copy_tree(&p, &t)?;
        } else if ft.is_file() {
            std::fs::copy(&p, &t)?;
        }
    }
    Ok(())
}
