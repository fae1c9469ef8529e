//! Advice without a fix (`DisplayOnly`): what only a human can decide.

use super::hoist::broad_copy;
use super::{Change, first_line, instruction, short};
use crate::analysis::context::Context;
use crate::model::Model;
use crate::syntax::{ItemKind, Kind, Parse};

/// Advice without a fix (`DisplayOnly`): a broad copy with no
/// `.dockerignore`, and `ADD` of a URL.
pub fn plan_advice(parse: &Parse, text: &str, model: &Model, ctx: Option<&Context>) -> Vec<Change> {
    let mut out = Vec::new();
    for (si, stage) in model.stages.iter().enumerate() {
        for u in &stage.units {
            let Some(ins) = instruction(parse, u.item) else {
                continue;
            };
            let line = parse.items[u.item].lines.start;
            let first = short(&first_line(text, parse, u.item));
            // Once per file: the first broad copy stands for all of them.
            let advised = out
                .iter()
                .any(|c: &Change| c.summary.ends_with("and there is no .dockerignore"));
            if !advised
                && broad_copy(ins).is_some()
                && ctx.is_some_and(|c| c.ignore.source.is_none())
            {
                out.push(Change::advice(
                    si,
                    line,
                    &ins.original,
                    format!("`{first}` copies the whole context and there is no .dockerignore"),
                    "without a .dockerignore, files such as .git/, node_modules/ or build output enter the image and change its cache key on every commit",
                ));
            }
            // A git URL pinned to a ref, or any URL with `--checksum`, is
            // as stable as its pin (BuildKit keys the cache on them).
            let pinned = |a: &str| {
                ins.node.flags.iter().any(|f| f.starts_with("--checksum="))
                    || ((a.starts_with("git@") || a.contains(".git"))
                        && (a.contains("#") || a.contains("?ref=")))
            };
            if ins.node.kind == Kind::Add
                && ins
                    .node
                    .str_args()
                    .any(|a| (a.contains("://") || a.starts_with("git@")) && !pinned(a))
            {
                out.push(Change::advice(
                    si,
                    line,
                    &ins.original,
                    format!("`{first}` adds a URL"),
                    "a remote file is fetched again on every build; `ADD --checksum=…` or a RUN with a pinned download keeps the cache honest",
                ));
            }
        }
    }
    out
}

/// The advice for a file whose `# syntax=` directive names a frontend
/// other than Docker's own (`docker/dockerfile` or
/// `docker/dockerfile-upstream`, on Docker Hub, any tag or digest): that
/// frontend decides what each instruction means, which the model does not
/// know, so nothing of the file is changed.
pub fn foreign_frontend(parse: &Parse) -> Option<Change> {
    parse.items.iter().find_map(|item| {
        let ItemKind::Directive(d) = &item.kind else {
            return None;
        };
        if d.name != "syntax" || docker_frontend(&d.value) {
            return None;
        }
        Some(Change::advice(
            0,
            item.lines.start,
            &format!("# syntax={}", d.value),
            format!("the `# syntax=` directive names the frontend `{}`", d.value.trim()),
            "a frontend other than Docker's own (docker/dockerfile) decides what each instruction reads and writes, which dockreorder does not know: nothing in this file is moved",
        ))
    })
}

/// Whether an image reference names Docker's Dockerfile frontend.
fn docker_frontend(value: &str) -> bool {
    let v = value.trim();
    let v = v.strip_prefix("docker.io/").unwrap_or(v);
    let name = v.split(['@', ':']).next().unwrap_or(v);
    matches!(name, "docker/dockerfile" | "docker/dockerfile-upstream")
}
