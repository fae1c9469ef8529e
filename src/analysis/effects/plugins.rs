//! Which commands may install a Poetry plugin: a package that registers
//! itself under Poetry's plugin entry points in the environment Poetry
//! runs from. Poetry loads every such plugin when it starts, for every
//! command (`poetry install --no-root` included), and a plugin may read
//! any file of the project (poetry-dynamic-versioning asks git for the
//! version). An install that runs one cannot move above the copy that
//! ships the files the plugin may read.
//!
//! Which package registers a plugin is not known without reading it, so
//! every Python package install counts, except a plain `pip install` (or
//! `python -m pip`, `uv pip install`) of Poetry itself and the packaging
//! tools; and so do `poetry self …`, `pipx inject` and a system package
//! named after Poetry. A `RUN` the analysis does not follow counts too,
//! unless the one command not known is Poetry's own installer; so does a
//! copy from another stage or image, or one into `site-packages` (see
//! `plan::hoist`).

use super::*;

/// The packages a `pip install` may name without adding a plugin: Poetry
/// (whose own dependencies, poetry-plugin-export in Poetry 1.2-1.8 among
/// them, come with it whichever way it is installed) and the packaging
/// tools.
/// PDM too: its own distribution registers no plugin of either tool
/// (PDM 2.29.4 installed with its dependencies: entry points of the
/// groups console_scripts, pytest11, pipx.run, virtualenv.* and
/// setuptools' only, none of `pdm` or `poetry.*`), and PDM's plugins
/// are found the same way (entry points of the `pdm` group in its
/// environment, loaded for every command), so this list serves both.
const NOT_PLUGINS: &[&str] = &["poetry", "poetry-core", "pdm", "pip", "setuptools", "wheel"];

/// The variables through which pip adds packages its command line does not
/// name (pip's configuration: every option has its `PIP_` variable).
fn adds_packages_through(env: &BTreeMap<String, String>, c: &shell::SimpleCommand) -> bool {
    let adds = |k: &str| {
        ["PIP_REQUIREMENT", "PIP_EDITABLE", "PIP_GROUP"]
            .iter()
            .any(|p| k.starts_with(p))
    };
    env.keys().any(|k| adds(k)) || c.assignments.iter().any(|(k, _)| adds(k))
}

/// Whether the simple command `c`, interpreted as `facts` with variables
/// `env`, may install a Poetry plugin (see the module's text).
pub(super) fn may_install_poetry_plugin(
    c: &shell::SimpleCommand,
    facts: &kb::CommandFacts,
    env: &BTreeMap<String, String>,
) -> bool {
    let base = |a: &String| a.rsplit('/').next().unwrap_or(a).to_ascii_lowercase();
    let words: Vec<String> = c.argv.iter().map(base).collect();
    let Some(first) = words.first() else {
        return false;
    };
    // A system package manager: only a package named after Poetry (its
    // plugins are packaged so) or one not known.
    if SYSTEM_INSTALLERS.contains(&first.as_str()) {
        return match &facts.packages {
            Some(names) => names
                .iter()
                .any(|n| n.to_ascii_lowercase().contains("poetry")),
            None => facts.cost == Some(CostClass::Install),
        };
    }
    let python_tool = |w: &str| {
        is_pip(w)
            || matches!(
                w,
                "pipx"
                    | "poetry"
                    | "uv"
                    | "pipenv"
                    | "pdm"
                    | "hatch"
                    | "easy_install"
                    | "conda"
                    | "mamba"
                    | "micromamba"
                    | "pip-sync"
            )
    };
    let python_install = facts.cost == Some(CostClass::Install)
        && (ecosystem_of(&c.argv[0]) == Some("python") || words.iter().any(|w| python_tool(w)));
    // `poetry self add`, `pdm self add`: a plugin into the tool's own
    // environment.
    let poetry_self = words
        .windows(2)
        .any(|w| matches!(w[0].as_str(), "poetry" | "pdm") && w[1] == "self");
    let pipx = words.iter().any(|w| w == "pipx");
    if !python_install && !poetry_self && !pipx {
        return false;
    }
    !installs_only_poetry_and_packaging_tools(&c.argv) || adds_packages_through(env, c)
}

/// For a `RUN` the analysis does not follow: whether its commands, read
/// one by one, install no Poetry plugin, the one command not known being
/// Poetry's installer (`curl -sSL https://install.python-poetry.org |
/// python3 -`). The installer (install-poetry.py, read 2026-12-06) makes
/// a virtual environment in `POETRY_HOME` (or the user's data directory)
/// and installs `poetry==VERSION` into it with pip, nothing else, unless
/// `--git` or `--path` names what to install instead, or pip's variables
/// add packages ([`adds_packages_through`]).
pub(super) fn run_installs_no_poetry_plugin(
    cmds: &[shell::SimpleCommand],
    kb: &kb::KnowledgeBase,
    env: &BTreeMap<String, String>,
) -> bool {
    (0..cmds.len()).all(|k| {
        let c = &cmds[k];
        if is_poetry_installer(cmds, k) {
            return !adds_packages_through(env, c);
        }
        let facts = kb::interpret_in(cmds, k, kb, env);
        facts.unknown.is_none() && !may_install_poetry_plugin(c, &facts, env)
    })
}

/// Whether command `k` is Poetry's installer read from the network: a
/// Python given the script on standard input (`python3 -`), with the
/// installer's own options only, fed by `curl` or `wget` of its address.
fn is_poetry_installer(cmds: &[shell::SimpleCommand], k: usize) -> bool {
    let c = &cmds[k];
    let base = |a: &String| a.rsplit('/').next().unwrap_or(a).to_string();
    let Some(prog) = c.argv.first().map(base) else {
        return false;
    };
    if !is_python(&prog) || c.argv.get(1).map(String::as_str) != Some("-") || k == 0 {
        return false;
    }
    let mut args = c.argv[2..].iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "-y" | "--yes" | "-f" | "--force" | "-p" | "--preview" => {}
            "--version" => {
                if args.next().is_none() {
                    return false;
                }
            }
            a if a.starts_with("--version=") => {}
            _ => return false,
        }
    }
    let feed = &cmds[k - 1];
    let fetch = feed
        .argv
        .first()
        .map(base)
        .is_some_and(|p| p == "curl" || p == "wget");
    c.joined_by == Some(shell::Op::Pipe)
        && fetch
        && feed.argv[1..].iter().any(|a| {
            matches!(
                a.as_str(),
                "https://install.python-poetry.org" | "https://install.python-poetry.org/"
            )
        })
        && !feed.argv[1..]
            .iter()
            .any(|a| a.starts_with("-o") || a.starts_with("-O") || a.starts_with("--output"))
}

/// `python`, `python3`, `python3.12`.
fn is_python(w: &str) -> bool {
    w.strip_prefix("python")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `pip`, `pip3`, `pip3.12`.
fn is_pip(w: &str) -> bool {
    w == "pip"
        || w.strip_prefix("pip3").is_some_and(|r| {
            r.is_empty()
                || r.strip_prefix('.')
                    .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit()))
        })
}

/// Whether `argv` is `pip install` (as `pip`, `python -m pip` or `uv
/// pip`) of named packages among [`NOT_PLUGINS`] only, with no option
/// that adds packages by other means (requirement files, editable
/// projects, dependency groups, a script's metadata).
fn installs_only_poetry_and_packaging_tools(argv: &[String]) -> bool {
    let base = |a: &String| a.rsplit('/').next().unwrap_or(a).to_ascii_lowercase();
    let words: Vec<String> = argv.iter().map(base).collect();
    // Where `install` follows the pip program.
    let install = (0..words.len()).find(|&k| {
        words[k] == "install"
            && k >= 1
            && (is_pip(&words[k - 1])
                || (words[k - 1] == "pip"
                    && k >= 2
                    && matches!(words[k - 2].as_str(), "-m" | "uv")))
    });
    let Some(install) = install else {
        return false;
    };
    // What comes before the program: the program itself, `python -m`,
    // `uv`, or wrappers that run it as it is.
    let head_ok = words[..install]
        .iter()
        .all(|w| is_pip(w) || matches!(w.as_str(), "-m" | "uv" | "sudo" | "env") || is_python(w));
    if !head_ok {
        return false;
    }
    let mut named = false;
    for a in &argv[install + 1..] {
        if let Some(long) = a.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or(long);
            // optparse (and uv) take an unambiguous prefix of a long
            // option: any prefix of these adds packages pip does not name.
            let adds = [
                "requirement",
                "requirements",
                "requirements-from-script",
                "editable",
                "group",
                "with-requirements",
            ]
            .iter()
            .any(|o| o.starts_with(name));
            if adds || name.is_empty() {
                return false;
            }
            continue;
        }
        if let Some(short) = a.strip_prefix('-') {
            // `-r FILE`, `-e DIR`, also clustered (`-qr FILE`).
            if short.contains(['r', 'e']) {
                return false;
            }
            continue;
        }
        // A word of its own: a requirement (or an option's value, which
        // then has to pass as one).
        if !requirement_is_not_a_plugin(a) {
            return false;
        }
        named = true;
    }
    named
}

/// Whether a requirement (`poetry==1.8.5`, `"poetry>=2,<3"`,
/// `poetry==$POETRY_VERSION`) names a package of [`NOT_PLUGINS`].
fn requirement_is_not_a_plugin(req: &str) -> bool {
    let end = req
        .find(|c: char| "<>=!~[;@ (".contains(c))
        .unwrap_or(req.len());
    let name = &req[..end];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return false;
    }
    let name = name.to_ascii_lowercase().replace(['_', '.'], "-");
    NOT_PLUGINS.contains(&name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn only_poetry_and_packaging_tools_named_alone_are_no_plugins() {
        for ok in [
            "pip install poetry",
            "pip install --no-cache-dir poetry==1.8.5",
            "pip3 install -U pip setuptools wheel",
            "python -m pip install --upgrade pip poetry>=2,<3",
            "/usr/local/bin/python3.12 -m pip install poetry==$POETRY_VERSION",
            "uv pip install --system poetry",
            "pip install --root-user-action=ignore Poetry_Core",
        ] {
            assert!(installs_only_poetry_and_packaging_tools(&args(ok)), "{ok}");
        }
        for may in [
            "pip install poetry poetry-dynamic-versioning",
            "pip install -r requirements.txt",
            "pip install -qr requirements.txt",
            "pip install --requirem requirements.txt poetry",
            "pip install -e .",
            "pip install --group dev poetry",
            "pip install ./wheels/poetry.whl",
            "pip install git+https://example.com/poetry.git",
            "pip install $PKGS",
            "pip install --index-url https://example.com/simple poetry",
            "pip install",
            "poetry self add poetry-plugin-bundle",
            "pipx inject poetry poetry-plugin-up",
            "bash -c pip install poetry",
        ] {
            assert!(
                !installs_only_poetry_and_packaging_tools(&args(may)),
                "{may}"
            );
        }
    }
}
