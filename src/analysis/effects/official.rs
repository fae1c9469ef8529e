//! What the official base images hold, as their Dockerfiles build them:
//! their `/opt` and `/usr/local` entries, working directories, users and
//! `PATH`, and the application directories (`/opt/NAME`, `/usr/local/NAME`)
//! a stage may own. Anything not an official image, or an image the tables
//! do not name, is unknown: the callers then keep every path.

use super::*;

/// The system tree where toolchains are installed (`/opt/conda`,
/// `/opt/java/openjdk`, the Node.js image's `/opt/yarn-v…`).
pub(super) const OPT_TREE: &str = "/opt/**";

/// The system tree that holds `/usr/local`.
pub(super) const USR_TREE: &str = "/usr/**";

/// Whether `pattern` is the implicit read of the system tree that holds
/// the application directory `app` (`/opt/**` for `/opt/NAME`, `/usr/**`
/// for `/usr/local/NAME`), which writes below `app` do not meet (see
/// [`stage_app_dir`]).
pub(super) fn app_tree_read(pattern: &str, app: Option<&str>) -> bool {
    match app {
        Some(a) if a.starts_with("/opt/") => pattern == OPT_TREE,
        Some(a) if a.starts_with("/usr/local/") => pattern == USR_TREE,
        _ => false,
    }
}

/// Whether the path pattern `p` lies strictly below the application
/// directory `app`: every component of `app` literally, then at least one
/// more (`/opt/app/**` is below `/opt/app`; `/opt/**`, `/opt/a*/x` and
/// `/opt/app` itself are not).
pub(super) fn below_app_dir(p: &str, app: Option<&str>) -> bool {
    let Some(app) = app else {
        return false;
    };
    if !p.starts_with('/') {
        return false;
    }
    let mut comps = Components(p);
    for a in Components(app) {
        if comps.next() != Some(a) {
            return false;
        }
    }
    let rest: Vec<&str> = comps.collect();
    !rest.is_empty() && !rest.iter().any(|c| *c == ".." || *c == ".")
}

/// The `/opt` entries of official images (Docker Hub's `library/`
/// repositories), from their Dockerfiles: an application directory must
/// not be one of them. Debian and Ubuntu ship `/opt` empty (Debian Policy
/// 9.1.1: packages do not install there), Alpine's is empty, and the
/// language images install into `/usr/local`, except the Node.js image's
/// Yarn in `/opt/yarn-v$YARN_VERSION`. An image not listed may have
/// anything there.
pub(super) const OFFICIAL_OPT: &[(&str, &[&str])] = &[
    ("node", &["yarn-v*"]),
    ("python", &[]),
    ("ruby", &[]),
    ("golang", &[]),
    ("debian", &[]),
    ("ubuntu", &[]),
    ("alpine", &[]),
    ("buildpack-deps", &[]),
];

/// The `/usr/local` entries of the official images of [`OFFICIAL_OPT`]
/// beside the local hierarchy every one has (`bin`, `etc`, `games`,
/// `include`, `lib`, `libexec`, `man`, `sbin`, `share`, `src`: Debian's
/// and Alpine's, and what the language images install there), from their
/// Dockerfiles: the Node.js tarball's top-level files (extracted into
/// `/usr/local`), Ruby's `GEM_HOME` `/usr/local/bundle`, Go's
/// `/usr/local/go`. An application directory must not be one of them.
pub(super) const OFFICIAL_USR_LOCAL: &[(&str, &[&str])] = &[
    ("node", &["CHANGELOG.md", "LICENSE", "README.md"]),
    ("python", &[]),
    ("ruby", &["bundle"]),
    ("golang", &["go"]),
    ("debian", &[]),
    ("ubuntu", &[]),
    ("alpine", &[]),
    ("buildpack-deps", &[]),
];

/// The local hierarchy of `/usr/local` (the FHS's, with the library
/// variants).
pub(super) const USR_LOCAL_HIERARCHY: &[&str] = &[
    "bin", "etc", "games", "include", "lib", "lib32", "lib64", "libx32", "libexec", "man", "sbin",
    "share", "src",
];

/// What the official image `image` has in `/usr/local` besides
/// [`USR_LOCAL_HIERARCHY`]; `None` when it is not a listed one.
pub(super) fn official_usr_local_entries(image: &str) -> Option<&'static [&'static str]> {
    official_entries(OFFICIAL_USR_LOCAL, image)
}

/// What the official image `image` (`node:lts-alpine`,
/// `docker.io/library/python:3.12@sha256:…`) has in `/opt`; `None` when
/// the image is not a listed official one (or its name is not literal).
pub(super) fn official_opt_entries(image: &str) -> Option<&'static [&'static str]> {
    official_entries(OFFICIAL_OPT, image)
}

/// The entries `table` lists for the official repository of `image`.
pub(super) fn official_entries(
    table: &'static [(&str, &'static [&'static str])],
    image: &str,
) -> Option<&'static [&'static str]> {
    let repo = official_repo(image)?;
    table
        .iter()
        .find(|(n, _)| *n == repo)
        .map(|(_, entries)| *entries)
}

/// The repository of `image` without registry `docker.io/`, `library/`,
/// tag and digest (`node` for `docker.io/library/node:20@sha256:…`).
pub(super) fn official_repo(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    // The tag follows the last `:` after the last `/` (a registry may have
    // a port).
    let slash = name.rfind('/').map_or(0, |k| k + 1);
    let repo = match name[slash..].find(':') {
        Some(k) => &name[..slash + k],
        None => name,
    };
    let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
    Some(repo.strip_prefix("library/").unwrap_or(repo))
}

/// The default working directory (`WorkingDir` of the image config) of
/// official images, checked against each image's Dockerfile and those of
/// the images it is built `FROM`; BuildKit runs in `/` when an image sets
/// none. Listed only when every Linux variant of the repository agrees:
/// - `golang`: `ENV GOPATH /go`, `WORKDIR $GOPATH` in
///   docker-library/golang `Dockerfile-linux.template` (Debian and Alpine
///   variants alike);
/// - `python`, `ruby`: no `WORKDIR` in docker-library/python
///   `Dockerfile-linux.template` (Debian, slim and Alpine variants) nor in
///   docker-library/ruby's generated Dockerfiles (`3.3/slim-bookworm`, one
///   template for every variant);
/// - `node`: no `WORKDIR` in nodejs/docker-node `Dockerfile-debian`,
///   `-alpine` and `-slim.template`;
/// - `buildpack-deps`: none in docker-library/buildpack-deps
///   `Dockerfile.template`; `debian` and `alpine` are a root file system
///   added to `scratch` and a `CMD` (docker-library/repo-info, e.g.
///   `repos/alpine/remote/3.21.md`);
/// - `erlang`, `elixir`: none in erlang/docker-erlang-otp's `27`,
///   `27/slim` and `27/alpine` Dockerfiles (built on buildpack-deps,
///   debian and alpine) nor in erlef/docker-elixir's `1.18` and
///   `1.18/alpine`, built on them.
///
/// `php` is not listed: its `apache` and `fpm` variants set `WORKDIR
/// /var/www/html`, its `cli` and `zts` ones (and the bare version tags)
/// none (see [`php_workdir`]). Windows and `onbuild` tags are not covered
/// (see [`official_workdir`]).
/// Variables an official image's config sets that Dockerfiles use in a
/// `WORKDIR`, for the variants whose working directory is known
/// ([`official_workdir`]): `golang` sets `ENV GOPATH /go` before its
/// `WORKDIR $GOPATH` (docker-library/golang `Dockerfile-linux.template`,
/// Debian and Alpine variants alike), so `WORKDIR $GOPATH/src/app` is
/// `/go/src/app`. Only a `WORKDIR` expands with them ([`workdir_env`]):
/// the commands' model already takes the image's layout (go's module
/// cache in `/go/pkg`).
pub(super) const OFFICIAL_PATH_VARS: &[(&str, &str, &str)] = &[("golang", "GOPATH", "/go")];

/// The variables a `WORKDIR` expands with: the stage's, and the base
/// image's own ([`OFFICIAL_PATH_VARS`]) where the stage sets none of that
/// name. One an `ARG` of the stage names (not an `ENV`: `config` holds
/// those) is not known: the image's `ENV` and the argument disagree, and
/// the builders differ on which wins.
pub(super) fn workdir_env(
    env: &BTreeMap<String, String>,
    config: &BTreeMap<String, String>,
    image_vars: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = env.clone();
    for (k, v) in image_vars {
        match (env.contains_key(k), config.contains_key(k)) {
            (false, _) => {
                out.insert(k.clone(), v.clone());
            }
            (true, false) => {
                out.insert(k.clone(), UNKNOWN_VALUE.to_string());
            }
            (true, true) => {}
        }
    }
    out
}

pub(super) const OFFICIAL_WORKDIR: &[(&str, &str)] = &[
    ("golang", "/go"),
    ("python", "/"),
    ("ruby", "/"),
    ("node", "/"),
    ("buildpack-deps", "/"),
    ("debian", "/"),
    ("alpine", "/"),
    ("erlang", "/"),
    ("elixir", "/"),
];

/// The directories of the `PATH` every official image sets (and
/// BuildKit's default), in order.
pub(crate) const DEFAULT_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// The tag of an image reference, lower-cased: what follows the first `:`
/// after the last `/` (as in [`official_repo`]), without a digest.
pub(super) fn image_tag(image: &str) -> String {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rfind('/').map_or(0, |k| k + 1);
    name[last..]
        .split_once(':')
        .map_or("", |(_, t)| t)
        .to_ascii_lowercase()
}

/// The default working directory of the official image `image`
/// ([`OFFICIAL_WORKDIR`]); `None` for an image not listed, a name with a
/// variable, and the Windows (`windowsservercore`, `nanoserver`: another
/// file system) and `onbuild` tags (their `ONBUILD` triggers copy the
/// context into `/usr/src/app`, their working directory).
pub(super) fn official_workdir(image: &str) -> Option<&'static str> {
    if image.contains('$') {
        return None;
    }
    let repo = official_repo(image)?;
    let tag = image_tag(image);
    if ["windows", "nanoserver", "onbuild"]
        .iter()
        .any(|v| tag.contains(v))
    {
        return None;
    }
    if repo == "php" {
        return php_workdir(&tag);
    }
    OFFICIAL_WORKDIR
        .iter()
        .find(|(n, _)| *n == repo)
        .map(|(_, wd)| *wd)
}

/// The working directory of the official `php` image with tag `tag`,
/// which depends on the variant (docker-library/php's generated
/// Dockerfiles, e.g. `8.2/bookworm/{apache,fpm,cli,zts}/Dockerfile`):
/// `apache` and `fpm` end with `WORKDIR /var/www/html`; `cli` (the
/// default, a tag of versions and distributions only: `8.2`,
/// `8.2-alpine`, `8-bookworm`) and `zts` set none. Any other word in the
/// tag (a variant not read) leaves it unknown.
pub(super) fn php_workdir(tag: &str) -> Option<&'static str> {
    let words: Vec<&str> = if tag.is_empty() {
        Vec::new()
    } else {
        tag.split('-').collect()
    };
    let version = |w: &str| {
        w == "latest"
            || (w.starts_with(|c: char| c.is_ascii_digit())
                && w.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    let distro = |w: &str| {
        matches!(
            w,
            "bookworm" | "bullseye" | "buster" | "stretch" | "jessie" | "trixie"
        ) || w
            .strip_prefix("alpine")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    let mut server = false;
    for w in words {
        match w {
            "apache" | "fpm" => server = true,
            "cli" | "zts" => {}
            w if version(w) || distro(w) => {}
            _ => return None,
        }
    }
    Some(if server { "/var/www/html" } else { "/" })
}

/// Whether the stage's base image is a listed official one
/// ([`OFFICIAL_OPT`]): none of their Dockerfiles has a `USER`, so a stage
/// built on one runs as root until a `USER` of its own. `false` for
/// anything else (another stage, a variable, an unlisted image).
pub(crate) fn base_runs_as_root(parse: &Parse, stage: &Stage) -> bool {
    base_runs_as_root_at(parse, stage.from_item)
}

/// [`base_runs_as_root`] for the stage whose `FROM` is item `from_item`.
pub(super) fn base_runs_as_root_at(parse: &Parse, from_item: usize) -> bool {
    base_image(parse, from_item).is_some_and(|image| official_opt_entries(&image).is_some())
}

/// The image a `FROM` names when it is an image, not an earlier stage:
/// its text, with the variables of global `ARG`s replaced by their
/// defaults (`FROM golang:${GO_VERSION}-alpine` after
/// `ARG GO_VERSION=1.22`), the values the rest of the model takes for
/// build arguments. `None` for a variable without a default, a form
/// [`expand`] does not understand, or a stage's name.
/// Where the official `python` images have `python`, `python3`, `pip`
/// and `pip3`: `/usr/local/bin` (they build Python into `/usr/local`; the
/// Dockerfiles of docker-library/python, every variant). `None` for any
/// other base, or one a variable names.
pub fn python_tools_dir(parse: &Parse, from_item: usize) -> Option<&'static str> {
    let image = base_image(parse, from_item)?;
    (official_repo(&image)? == "python").then_some("/usr/local/bin")
}

pub(super) fn base_image(parse: &Parse, from_item: usize) -> Option<String> {
    let raw = from_text(parse, from_item)?;
    let image = if raw.contains('$') {
        // The repository itself in a variable is the base a build
        // argument chooses: not known.
        if official_repo(raw)?.contains('$') {
            return None;
        }
        expand(raw, &global_arg_defaults(parse))?
    } else {
        raw.to_string()
    };
    (!image.is_empty() && !stage_named(parse, from_item, &image)).then_some(image)
}

/// The working directory of the stage's base image (see
/// [`official_workdir`]), from [`base_image`]. A php tag with variables
/// must name its variant outside them (`php:${PHP_VERSION}-apache`): the
/// working directory does not rest on a default a build argument changes.
pub(super) fn base_workdir(parse: &Parse, from_item: usize, image: &str) -> Option<&'static str> {
    let wd = official_workdir(image)?;
    let raw = from_text(parse, from_item)?;
    if raw.contains('$') && official_repo(image) == Some("php") {
        let tag = raw.rsplit_once(':').map_or("", |(_, t)| t);
        let literal: Vec<&str> = tag.split('-').filter(|w| !w.contains('$')).collect();
        let named = |ws: &[&str]| {
            ws.iter()
                .any(|w| ["apache", "fpm", "cli", "zts"].contains(w))
        };
        if !named(&literal) || php_workdir(&literal.join("-")) != Some(wd) {
            return None;
        }
    }
    Some(wd)
}

/// The directories `PATH` lists in the stage's base image when it is an
/// official image with no git program, as its Dockerfiles (and those of the
/// images it is built on) install none:
/// - `php`, every Linux variant: `$PHPIZE_DEPS` (autoconf, dpkg-dev, file,
///   g++, gcc, libc-dev, make, pkg-config, re2c), ca-certificates, curl,
///   xz-utils (`--no-install-recommends`), apache2 for `apache`
///   (docker-library/php `Dockerfile-linux.template`), on `debian` or
///   `alpine`;
/// - the `slim` and `alpine` variants of `node`, `python`, `ruby` and the
///   `alpine` ones of `golang` (their build dependencies are removed; the
///   full variants are built on buildpack-deps, which has git);
/// - `debian`, `ubuntu`, `alpine` (root file systems with no git).
///
/// The word that picks the variant must be written outside any variable
/// (`node:${V}-alpine`), as a build argument could pick another, and
/// there must be no digest, which picks the image whatever the tag says
/// (both only where some variant has git). `None`
/// for anything else (another stage, an unlisted image or variant).
pub(crate) fn base_path_without_git(parse: &Parse, from_item: usize) -> Option<Vec<&'static str>> {
    let image = base_image(parse, from_item)?;
    let raw = from_text(parse, from_item)?;
    let repo = official_repo(&image)?;
    let tag = image_tag(raw);
    if ["windows", "nanoserver"].iter().any(|v| tag.contains(v)) {
        return None;
    }
    let literal: Vec<&str> = tag.split('-').filter(|w| !w.contains('$')).collect();
    let slim_or_alpine = literal
        .iter()
        .any(|w| *w == "slim" || w.starts_with("alpine"));
    let alpine = literal.iter().any(|w| w.starts_with("alpine"));
    let extra: &[&str] = match repo {
        "php" | "debian" | "ubuntu" | "alpine" | "node" | "python" => &[],
        "ruby" => &["/usr/local/bundle/bin"],
        "golang" => &["/go/bin", "/usr/local/go/bin"],
        _ => return None,
    };
    // A digest picks the image whatever the tag says (`node:20-slim@sha256:`
    // of the full variant): only repositories none of whose variants has
    // git may be named so.
    let digest = raw.contains('@');
    let ok = match repo {
        "php" | "debian" | "ubuntu" | "alpine" => true,
        _ if digest => false,
        "golang" => alpine,
        _ => slim_or_alpine,
    };
    ok.then(|| extra.iter().chain(DEFAULT_PATH.iter()).copied().collect())
}
