//! The pull-request body (Markdown): what changed, why it is safe (or what
//! it risks), and the history figures.

use super::{FileReport, cost_words, end_words, thousands, unified_diff};
use crate::plan::{Applicability, Change};

/// The hidden marker the bot looks for in its pull requests.
pub const PR_MARKER: &str = "<!-- dockreorder:pull-request -->";

/// The pull-request body (Markdown).
pub fn markdown(files: &[FileReport<'_>]) -> String {
    let mut out = String::new();
    out.push_str(PR_MARKER);
    out.push_str("\n## dockreorder: cache-friendly instruction order\n\n");
    let changed: Vec<&FileReport<'_>> = files.iter().filter(|f| f.old != f.new).collect();
    let unsafe_applied = changed.iter().any(|f| {
        f.changes
            .iter()
            .any(|c| c.applied && c.applicability == Applicability::Unsafe)
    });
    // Only what was checked: the effects model, not a build.
    out.push_str(&format!(
        "This reorders {} Dockerfile{} so that rarely changing layers come first. {}\n\n",
        changed.len(),
        if changed.len() == 1 { "" } else { "s" },
        if unsafe_applied {
            "Moves marked **Unsafe** were applied because `--unsafe` was given: they are not proven to keep the image, and each says what it risks. The others are proven safe under dockreorder's effects model. The images were not built."
        } else {
            "Every move below is proven safe under dockreorder's effects model (what each instruction reads and writes); the images were not built."
        }
    ));
    out.push_str("### Changes\n\n| File | Line | What moved | Why |\n|---|---|---|---|\n");
    for f in &changed {
        for c in f.changes.iter().filter(|c| c.applied) {
            let unsafe_mark = if c.applicability == Applicability::Unsafe {
                "**Unsafe** "
            } else {
                ""
            };
            let risk = if c.applicability == Applicability::Unsafe {
                "risk: "
            } else {
                ""
            };
            out.push_str(&format!(
                "| `{}` | {} | {unsafe_mark}{} | {risk}{} |\n",
                f.path.trim_start_matches("./"),
                c.line,
                c.summary.replace('|', "\\|"),
                c.reason.replace('|', "\\|")
            ));
        }
    }
    out.push_str("\n### Evidence from the history\n\n");
    let mut any = false;
    for f in &changed {
        let (Some(b), Some(a), Some(h)) = (f.before, f.after, f.history) else {
            out.push_str(&format!(
                "- `{}`: no git history was read; the order follows the static estimate (dependency manifests change rarely, other sources often).\n",
                f.path.trim_start_matches("./")
            ));
            continue;
        };
        any = true;
        out.push_str(&format!(
            "- `{}`: {} commits walked ({}, {}). Mean rebuilt cost per commit: {} before, {} after.\n",
            f.path.trim_start_matches("./"),
            thousands(b.commits),
            if h.first_parent { "first parent" } else { "all parents" },
            end_words(h),
            cost_words(b),
            cost_words(a)
        ));
        if crate::rewrite::usable_history(Some(h)).is_none() {
            out.push_str("  - Note: too few commits to weigh the order by; it follows the static estimate, and these figures are only what the walked commits give.\n");
        }
        for pair in b.pair_with(a) {
            if let (Some(u), Some(x)) = pair
                && let Some((name, was, now, target)) = super::unit_change(u, x)
            {
                out.push_str(&format!(
                    "  - {name} would have run in {was} of {} commits before, {now} after{target}.\n",
                    thousands(b.commits),
                ));
            }
        }
        for note in super::figure_notes(b, a) {
            out.push_str(&format!("  - Note: {note}.\n"));
        }
        if let Some(note) = super::per_build_words(b) {
            out.push_str(&format!("  - Note: {note}.\n"));
        }
    }
    if !any && changed.is_empty() {
        out.push_str("Nothing to change.\n");
    }
    out.push_str("\n### Safety\n\n");
    out.push_str("- Each rewritten file was parsed again: the same instructions (plus the inserted manifest `COPY`s), every dependency between them kept, and a second run changes nothing.\n");
    out.push_str("- A move is `Safe` only when every command involved is described by dockreorder's command knowledge base; a `RUN` it does not understand never moves unless `--unsafe` is given.\n");
    let left_out: Vec<(&str, &Change)> = files
        .iter()
        .flat_map(|f| {
            f.changes
                .iter()
                .filter(|c| !c.applied && c.applicability == Applicability::Unsafe)
                .map(move |c| (f.path, c))
        })
        .collect();
    if left_out.is_empty() {
        out.push_str("- No Unsafe change was left out.\n");
    } else {
        out.push_str("- Left out as Unsafe (apply with `--unsafe` after checking):\n");
        for (p, c) in left_out {
            out.push_str(&format!(
                "  - `{}` line {}: {} — {}\n",
                p.trim_start_matches("./"),
                c.line,
                c.summary,
                c.reason
            ));
        }
    }
    out.push_str("\n<details><summary>Diff</summary>\n\n```diff\n");
    for f in &changed {
        out.push_str(&unified_diff(f.path, f.old, f.new));
    }
    out.push_str("```\n\n</details>\n\n");
    out.push_str("### Opting out\n\n- Put `# dockreorder: keep` on the line above an instruction to pin it, or `# dockreorder: ignore-file` anywhere in a Dockerfile to leave it alone.\n- Exclude files in `.dockreorder.yaml` (`exclude: [\"path/**\"]`).\n");
    out
}
