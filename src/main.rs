//! The `dockreorder` binary: argument parsing and exit codes only; the work
//! is done by the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dockreorder::analysis::context::Context;
use dockreorder::analysis::history::{self, NoHistory, Repo, WalkOptions};
use dockreorder::bot::{Bot, CommitOutcome};
use dockreorder::plan::{Applicability, Options};
use dockreorder::simulate;
use dockreorder::source::SourceFile;
use dockreorder::{config, discover, explain, report, rewrite, syntax, verify};
use std::io::IsTerminal;

#[derive(Parser)]
#[command(
    name = "dockreorder",
    version,
    about = "Reorder Dockerfile instructions so that rarely changing layers come first, without changing the image",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct RunArgs {
    /// Dockerfiles or directories to search (default: the current directory).
    paths: Vec<PathBuf>,
    /// Rewrite the files in place.
    #[arg(long, conflicts_with = "check")]
    write: bool,
    /// Write nothing; exit 1 when a file would change.
    #[arg(long)]
    check: bool,
    /// Also apply changes marked Unsafe.
    #[arg(long = "unsafe")]
    allow_unsafe: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RunFormat::Text)]
    format: RunFormat,
    /// Build context directory (default: the Dockerfile's directory).
    #[arg(long)]
    context: Option<PathBuf>,
    /// Do not read git history; use the static estimate.
    #[arg(long)]
    no_history: bool,
    /// Walk at most this many commits.
    #[arg(long, value_name = "N")]
    max_commits: Option<usize>,
    /// Walk only commits since this date (YYYY-MM-DD) or Unix time.
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Follow every parent (merged branches too), not only the first.
    #[arg(long)]
    all_parents: bool,
    /// Config file (default: .dockreorder.yaml at the repository root).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Bot mode: commit the rewritten files onto --branch (work tree untouched).
    #[arg(long)]
    commit: bool,
    /// Branch for --commit (created or reset from HEAD).
    #[arg(long, default_value = "dockreorder/reorder", requires = "commit")]
    branch: String,
    /// Commit message for --commit.
    #[arg(long, requires = "commit")]
    message: Option<String>,
    /// Author and committer for --commit, `Name <email>` (default: git config).
    #[arg(long, requires = "commit")]
    author: Option<String>,
    /// Write the pull-request body (Markdown) to this file.
    #[arg(long, value_name = "FILE")]
    pr_body: Option<PathBuf>,
    /// Only errors.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Also list files without changes and history notes.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunFormat {
    Text,
    Json,
    Sarif,
    Markdown,
}

#[derive(Subcommand)]
enum Command {
    /// Parse Dockerfiles and print what the parser sees.
    Parse {
        /// Output format: BuildKit's AST dump, or JSON with every item.
        #[arg(long, value_enum, default_value_t = ParseFormat::Buildkit)]
        format: ParseFormat,
        /// Dockerfiles to parse.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Build the original and the rewritten Dockerfile with the local Docker
    /// engine, compare the images, then change a source file and compare
    /// the cache hits. Exit 0 identical, 1 different, 2 could not build.
    Verify {
        file: PathBuf,
        /// Build context directory (default: the Dockerfile's directory).
        #[arg(long)]
        context: Option<PathBuf>,
        /// Also apply changes marked Unsafe.
        #[arg(long = "unsafe")]
        allow_unsafe: bool,
    },
    /// Show, per stage and instruction, what it reads and writes and which
    /// instructions it must follow, and why.
    Explain {
        file: PathBuf,
        /// Build context directory (default: the Dockerfile's directory).
        #[arg(long)]
        context: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ParseFormat {
    Buildkit,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Parse { format, files }) => run_parse(format, &files),
        Some(Command::Explain { file, context }) => run_explain(&file, context.as_deref()),
        Some(Command::Verify {
            file,
            context,
            allow_unsafe,
        }) => run_verify(&file, context.as_deref(), allow_unsafe),
        None => run_main(&cli.run),
    }
}

fn read_source(path: &std::path::Path) -> Result<SourceFile, String> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}:1:1: cannot read file: {e}"))?;
    SourceFile::from_bytes(shown.clone(), bytes).map_err(|d| d.with_path(&shown))
}

fn context_for(path: &std::path::Path, context: Option<&std::path::Path>) -> Context {
    Context::new(context_dir(path, context), Some(path))
}

fn context_dir(path: &std::path::Path, context: Option<&std::path::Path>) -> PathBuf {
    match context {
        Some(c) => c.to_path_buf(),
        None => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), |p| p.to_path_buf()),
    }
}

/// Shows a walk's progress: a bar on a terminal, else one line at the end.
struct WalkBar {
    terminal: bool,
    quiet: bool,
    bar: Option<indicatif::ProgressBar>,
    repo: String,
    started: std::time::Instant,
}

impl history::Progress for WalkBar {
    fn start(&mut self, repo: &std::path::Path, total: u64) {
        self.repo = repo.display().to_string();
        self.started = std::time::Instant::now();
        if self.terminal && !self.quiet {
            let style = indicatif::ProgressStyle::with_template(
                "{prefix} history [{bar:30}] {pos}/{len} commits, {rate}/s, ETA {eta}",
            )
            .map(|s| {
                s.with_key(
                    "rate",
                    |st: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{}", st.per_sec() as u64);
                    },
                )
            })
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            let bar = indicatif::ProgressBar::new(total).with_style(style);
            bar.set_prefix(self.repo.clone());
            self.bar = Some(bar);
        }
    }
    fn advance(&mut self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
    }
    fn finish(&mut self, done: u64) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if !self.quiet && !self.terminal && !self.repo.is_empty() {
            eprintln!(
                "{}: history: {done} commits walked in {:.1} s",
                self.repo,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

/// Walks the history of every file's build context: one walk per
/// repository for all its Dockerfiles. Files whose repository cannot be
/// found are left out (`context_and_history` says why).
fn walk_histories(
    files: &[(PathBuf, Option<PathBuf>)],
    opts: &WalkOptions,
    quiet: bool,
) -> std::collections::HashMap<PathBuf, Result<history::History, NoHistory>> {
    let mut groups: Vec<(Repo, Vec<PathBuf>, Vec<history::Target>)> = Vec::new();
    for (path, explicit) in files {
        let Ok(repo) = Repo::discover(path) else {
            continue;
        };
        let compose = match explicit {
            None => history::context_from_compose(repo.root(), path),
            Some(_) => None,
        };
        let target = history::Target {
            dockerfile: path.clone(),
            context: context_dir(path, explicit.as_deref().or(compose.as_deref())),
        };
        match groups.iter_mut().find(|g| g.0.root() == repo.root()) {
            Some(g) => {
                g.1.push(path.clone());
                g.2.push(target);
            }
            None => groups.push((repo, vec![path.clone()], vec![target])),
        }
    }
    let mut out = std::collections::HashMap::new();
    for (repo, paths, targets) in groups {
        let mut bar = WalkBar {
            terminal: std::io::stderr().is_terminal(),
            quiet,
            bar: None,
            repo: String::new(),
            started: std::time::Instant::now(),
        };
        for (p, h) in paths
            .into_iter()
            .zip(repo.walk_all(&targets, opts, &mut bar))
        {
            out.insert(p, h);
        }
    }
    out
}

/// The build context and the history of one Dockerfile. The context is
/// `explicit` (`--context`), else `configured` (the config file), else the
/// compose file that names the Dockerfile, else its directory. The history
/// is walked when `walk` is given; why there is none is said on stderr
/// unless `quiet`. An empty history counts as none.
fn context_and_history(
    path: &std::path::Path,
    explicit: Option<&std::path::Path>,
    configured: Option<PathBuf>,
    walk: Option<&WalkOptions>,
    quiet: bool,
    walked: Option<Result<history::History, NoHistory>>,
) -> (Context, Option<history::History>) {
    let say = |msg: &str| {
        if !quiet {
            eprintln!("{}: {msg}", path.display());
        }
    };
    let repo = walk.and_then(|_| match Repo::discover(path) {
        Ok(r) => Some(r),
        Err(NoHistory(msg)) => {
            say(&msg);
            None
        }
    });
    let compose = match (explicit, &configured, &repo) {
        (None, None, Some(r)) => history::context_from_compose(r.root(), path),
        _ => None,
    };
    let ctx = context_for(
        path,
        explicit.or(configured.as_deref()).or(compose.as_deref()),
    );
    let hist = match (&repo, walk) {
        (Some(r), Some(opts)) => match walked.unwrap_or_else(|| r.walk(path, &ctx.dir, opts)) {
            Ok(h) => Some(h).filter(|h| !h.commits.is_empty()),
            Err(NoHistory(msg)) => {
                say(&msg);
                None
            }
        },
        _ => None,
    };
    (ctx, hist)
}

/// Writes `text` to `path` atomically (temporary file in the same
/// directory, then rename), keeping the file's permissions.
fn write_atomic(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::Path::new("."));
    let perms = std::fs::metadata(path)?.permissions();
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), perms)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// One file's result in a run.
struct Processed {
    path: PathBuf,
    shown: String,
    old: String,
    new: String,
    changes: Vec<dockreorder::plan::Change>,
    before: Option<simulate::FileFigures>,
    after: Option<simulate::FileFigures>,
    history: Option<history::History>,
}

/// Colours diff lines when stdout is a terminal and NO_COLOR is unset.
fn colour_diff(diff: &str) -> String {
    let on = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if !on {
        return diff.to_string();
    }
    let paint = |code: &str, line: &str| {
        let body = line.trim_end_matches('\n');
        let nl = if line.ends_with('\n') { "\n" } else { "" };
        format!("\x1b[{code}m{body}\x1b[0m{nl}")
    };
    diff.split_inclusive('\n')
        .map(|l| {
            if l.starts_with("+++") || l.starts_with("---") {
                paint("1", l)
            } else if l.starts_with('+') {
                paint("32", l)
            } else if l.starts_with('-') {
                paint("31", l)
            } else if l.starts_with("@@") {
                paint("36", l)
            } else {
                l.to_string()
            }
        })
        .collect()
}

fn run_main(args: &RunArgs) -> ExitCode {
    // Configuration: --config, else .dockreorder.yaml at the repository root
    // (or the current directory outside a repository).
    let cwd_repo = Repo::discover(std::path::Path::new(".")).ok();
    let default_dir = cwd_repo
        .as_ref()
        .map_or_else(|| PathBuf::from("."), |r| r.root().to_path_buf());
    let cfg = match config::Loaded::load(args.config.as_deref(), &default_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let c = &cfg.config;
    dockreorder::analysis::kb::configure(
        c.commands.clone(),
        c.costs.cheap,
        c.costs.run,
        c.costs.build,
        c.costs.install,
    );
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    let mut failed = false;
    for r in &roots {
        if r.is_dir() {
            files.extend(discover::find(r).into_iter().filter(|f| cfg.selects(f)));
        } else if r.exists() {
            files.push(r.clone());
        } else {
            eprintln!("{}:1:1: no such file or directory", r.display());
            failed = true;
        }
    }
    let allow_unsafe = args.allow_unsafe || c.allow_unsafe.unwrap_or(false);
    let opts = Options {
        threshold: if allow_unsafe {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
    };
    let since_raw = args.since.clone().or_else(|| c.since.clone());
    let since = match since_raw.as_deref().map(|s| (s, config::parse_date(s))) {
        Some((raw, None)) => {
            eprintln!("--since: `{raw}` is not a date (YYYY-MM-DD) or Unix time");
            return ExitCode::from(2);
        }
        Some((_, Some(t))) => Some(t),
        None => None,
    };
    let walk_opts = WalkOptions {
        max_commits: args.max_commits.or(c.max_commits),
        since,
        all_parents: args.all_parents,
        ..WalkOptions::default()
    };
    let bot = if args.commit {
        match Bot::open(std::path::Path::new(".")) {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    let note =
        "static estimate: dependency manifests and lock files change rarely, other sources often";
    let mut walked = if args.no_history {
        Default::default()
    } else {
        let with_ctx: Vec<(PathBuf, Option<PathBuf>)> = files
            .iter()
            .map(|f| {
                (
                    f.clone(),
                    args.context.clone().or_else(|| cfg.context_for(f)),
                )
            })
            .collect();
        walk_histories(&with_ctx, &walk_opts, args.quiet)
    };
    let mut processed: Vec<Processed> = Vec::new();
    let mut json_files = Vec::new();
    let mut stdout_open = true;
    for path in &files {
        let shown = path.display().to_string();
        // In bot mode the committed version is rewritten, so uncommitted
        // edits never reach the branch.
        let text = match &bot {
            Some(b) => match b.head_text(path) {
                Some(t) => Ok(t),
                None => {
                    if !args.quiet {
                        eprintln!("{shown}: not committed: skipped by --commit");
                    }
                    continue;
                }
            },
            None => read_source(path).map(|s| s.text),
        };
        let text = match text {
            Ok(t) => t,
            Err(msg) => {
                eprintln!("{msg}");
                failed = true;
                json_files.push(report::file_json(&shown, "", "", &[], Some(msg)));
                continue;
            }
        };
        let (ctx, hist) = context_and_history(
            path,
            args.context.as_deref(),
            cfg.context_for(path),
            (!args.no_history).then_some(&walk_opts),
            args.quiet,
            walked.remove(path),
        );
        let outcome = match rewrite::rewrite_with(&text, Some(&ctx), hist.as_ref(), opts) {
            Ok(o) => o,
            Err(e) => {
                let msg = format!("{shown}:{}:{}: {}", e.line, e.column, e.message);
                eprintln!("{msg}");
                failed = true;
                json_files.push(report::file_json(&shown, &text, &text, &[], Some(msg)));
                continue;
            }
        };
        let changed = outcome.new_text != text;
        let (before, after) = match &hist {
            Some(h) => (
                Some(simulate::figures(&text, Some(&ctx), h)),
                Some(simulate::figures(&outcome.new_text, Some(&ctx), h)),
            ),
            None => (None, None),
        };
        match args.format {
            RunFormat::Text if !args.quiet => {
                if changed && stdout_open && !args.write && !args.commit {
                    stdout_open = emit(&colour_diff(&report::unified_diff(
                        &shown,
                        &text,
                        &outcome.new_text,
                    )));
                }
                if changed || args.verbose || outcome.changes.iter().any(|c| !c.applied) {
                    let basis = if hist.is_some() {
                        "ordered by the walked history"
                    } else {
                        note
                    };
                    eprint!("{}", report::summary(&shown, &outcome.changes, basis));
                }
                if let (Some(h), Some(b), Some(a)) = (&hist, &before, &after)
                    && (changed || args.verbose)
                {
                    eprint!("{}", report::history_text(&shown, b, a, h));
                }
                if !changed && args.verbose {
                    eprintln!("{shown}: nothing to change");
                }
            }
            RunFormat::Json => {
                let mut v =
                    report::file_json(&shown, &text, &outcome.new_text, &outcome.changes, None);
                match (&hist, &before, &after) {
                    (Some(h), Some(b), Some(a)) => {
                        if let (Some(obj), serde_json::Value::Object(extra)) =
                            (v.as_object_mut(), report::history_json(b, a, h))
                        {
                            obj.extend(extra);
                        }
                    }
                    _ => {
                        if let Some(obj) = v.as_object_mut() {
                            obj.insert("history".into(), serde_json::Value::Null);
                        }
                    }
                }
                json_files.push(v);
            }
            _ => {}
        }
        if args.write && changed {
            // In bot mode the work tree gets the rewrite of its own text.
            let target = if bot.is_some() {
                read_source(path)
                    .ok()
                    .and_then(|s| {
                        rewrite::rewrite_with(&s.text, Some(&ctx), hist.as_ref(), opts).ok()
                    })
                    .map(|o| o.new_text)
            } else {
                Some(outcome.new_text.clone())
            };
            match target.map(|t| write_atomic(path, &t)) {
                Some(Ok(())) => {
                    if !args.quiet && args.format == RunFormat::Text {
                        eprintln!("{shown}: rewritten");
                    }
                }
                Some(Err(e)) => {
                    eprintln!("{shown}:1:1: cannot write: {e}");
                    failed = true;
                }
                None => {
                    eprintln!("{shown}:1:1: cannot rewrite the work tree copy");
                    failed = true;
                }
            }
        }
        processed.push(Processed {
            path: path.clone(),
            shown,
            old: text,
            new: outcome.new_text,
            changes: outcome.changes,
            before,
            after,
            history: hist,
        });
    }
    let reports: Vec<report::FileReport<'_>> = processed
        .iter()
        .map(|p| report::FileReport {
            path: &p.shown,
            old: &p.old,
            new: &p.new,
            changes: &p.changes,
            before: p.before.as_ref(),
            after: p.after.as_ref(),
            history: p.history.as_ref(),
        })
        .collect();
    let would_change = processed.iter().any(|p| p.old != p.new);
    match args.format {
        RunFormat::Json => {
            let text = serde_json::to_string_pretty(&serde_json::Value::Array(json_files))
                .unwrap_or_default();
            emit(&(text + "\n"));
        }
        RunFormat::Sarif => {
            let text = serde_json::to_string_pretty(&report::sarif(&reports)).unwrap_or_default();
            emit(&(text + "\n"));
        }
        RunFormat::Markdown => {
            emit(&report::markdown(&reports));
        }
        RunFormat::Text => {}
    }
    if let Some(body) = &args.pr_body
        && would_change
        && let Err(e) = std::fs::write(body, report::markdown(&reports))
    {
        eprintln!(
            "{}:1:1: cannot write the pull-request body: {e}",
            body.display()
        );
        failed = true;
    }
    if let Some(bot) = &bot {
        if failed {
            eprintln!("--commit: not committing because of the errors above");
        } else {
            let changed: Vec<(PathBuf, String)> = processed
                .iter()
                .filter(|p| p.old != p.new)
                .map(|p| (p.path.clone(), p.new.clone()))
                .collect();
            let message = args.message.clone().unwrap_or_else(|| {
                let n = changed.len();
                format!(
                    "Reorder Dockerfile instructions for the build cache\n\nRewritten by dockreorder: {n} file{}. The images are unchanged; see the pull request for the evidence.",
                    if n == 1 { "" } else { "s" }
                )
            });
            match bot.commit(&args.branch, &message, args.author.as_deref(), &changed) {
                Ok(CommitOutcome::NothingToCommit) => {
                    if !args.quiet {
                        eprintln!("nothing to change: no branch, no commit");
                    }
                }
                Ok(CommitOutcome::Unchanged { branch, commit }) => {
                    if !args.quiet {
                        eprintln!("{branch} already holds this change ({commit}): left as it is");
                    }
                }
                Ok(CommitOutcome::Committed { branch, commit }) => {
                    if !args.quiet {
                        eprintln!("committed {commit} onto {branch}");
                    }
                }
                Err(e) => {
                    eprintln!("--commit: {e}");
                    failed = true;
                }
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else if args.check && would_change {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_verify(
    path: &std::path::Path,
    context: Option<&std::path::Path>,
    allow_unsafe: bool,
) -> ExitCode {
    let source = match read_source(path) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    // The most often changed file is picked from the changed paths.
    let walk_opts = WalkOptions {
        paths: true,
        ..WalkOptions::default()
    };
    let (ctx, hist) = context_and_history(path, context, None, Some(&walk_opts), true, None);
    let opts = Options {
        threshold: if allow_unsafe {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
    };
    let outcome = match rewrite::rewrite_with(&source.text, Some(&ctx), hist.as_ref(), opts) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{}:{}:{}: {}", source.path, e.line, e.column, e.message);
            return ExitCode::from(2);
        }
    };
    if outcome.new_text == source.text {
        println!(
            "{}: nothing to verify: dockreorder would not change it",
            source.path
        );
        return ExitCode::SUCCESS;
    }
    // The source file to change: the one the history changed most often,
    // else the first shipped file that is not a manifest.
    let shipped = ctx.files();
    let candidate = |f: &String| {
        !dockreorder::plan::is_manifest_name(f)
            && !f.starts_with(".git/")
            && !f.contains("Dockerfile")
            && !f.ends_with(".dockerignore")
    };
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    if let Some(h) = &hist {
        for c in &h.commits {
            for f in &c.files {
                if shipped.is_some_and(|s| s.contains_key(f)) && candidate(f) {
                    *counts.entry(f.as_str()).or_insert(0) += 1;
                }
            }
        }
    }
    let changed = counts
        .iter()
        .max_by_key(|(f, n)| (**n, std::cmp::Reverse(**f)))
        .map(|(f, _)| f.to_string())
        .or_else(|| shipped.and_then(|s| s.keys().find(|f| candidate(f)).cloned()));
    println!(
        "{}: building the original and the rewritten Dockerfile…",
        source.path
    );
    let report = match verify::verify(
        &verify::default_cli(),
        &ctx.dir,
        &source.text,
        &outcome.new_text,
        changed.as_deref(),
    ) {
        Ok(r) => r,
        Err(verify::VerifyError(msg)) => {
            eprintln!("{}:1:1: {msg}", source.path);
            return ExitCode::from(2);
        }
    };
    if !report.differences.is_empty() {
        println!("images differ:");
        for d in &report.differences {
            println!("  {d}");
        }
        return ExitCode::from(1);
    }
    println!("images: identical (files, contents, modes, owners, config)");
    if let (Some(f), Some(a), Some(b)) = (&report.changed_file, &report.original, &report.rewritten)
    {
        println!("after changing {f}:");
        for (name, build) in [("original", a), ("rewritten", b)] {
            let cached = build.steps.iter().filter(|s| s.1).count();
            let rebuilt: Vec<&str> = build
                .steps
                .iter()
                .filter(|s| !s.1)
                .map(|s| s.0.as_str())
                .collect();
            println!(
                "  {name:<9} {cached} of {} steps from cache in {:.1} s; rebuilt: {}",
                build.steps.len(),
                build.took.as_secs_f64(),
                if rebuilt.is_empty() {
                    "nothing".to_string()
                } else {
                    rebuilt.join(" | ")
                }
            );
        }
    }
    ExitCode::SUCCESS
}

fn run_explain(path: &std::path::Path, context: Option<&std::path::Path>) -> ExitCode {
    let source = match read_source(path) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let parsed = syntax::parse_source(&source);
    if let Some(d) = parsed.errors.first() {
        eprintln!("{}", d.with_path(&source.path));
        return ExitCode::from(2);
    }
    let walk_opts = WalkOptions::default();
    let with_ctx = [(path.to_path_buf(), context.map(|c| c.to_path_buf()))];
    let walked = walk_histories(&with_ctx, &walk_opts, false).remove(path);
    let (ctx, hist) = context_and_history(path, context, None, Some(&walk_opts), false, walked);
    emit(&explain::explain(
        &source.text,
        &parsed,
        Some(&ctx),
        hist.as_ref(),
    ));
    ExitCode::SUCCESS
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(_) => false,
    }
}

fn run_parse(format: ParseFormat, files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    let mut json_out = Vec::new();
    for path in files {
        let shown = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{shown}:1:1: cannot read file: {e}");
                failed = true;
                continue;
            }
        };
        let source = match SourceFile::from_bytes(shown.clone(), bytes) {
            Ok(s) => s,
            Err(d) => {
                eprintln!("{}", d.with_path(&shown));
                failed = true;
                continue;
            }
        };
        let parsed = syntax::parse_source(&source);
        for w in &parsed.warnings {
            eprintln!("{}: warning: {}", shown, w);
        }
        if !parsed.errors.is_empty() {
            for d in &parsed.errors {
                eprintln!("{}", d.with_path(&shown));
            }
            failed = true;
            continue;
        }
        match format {
            ParseFormat::Buildkit => {
                let dump = syntax::dump_buildkit(&parsed).unwrap_or_default();
                if !emit(&dump) {
                    return ExitCode::SUCCESS;
                }
            }
            ParseFormat::Json => {
                json_out.push(syntax::parse_to_json(&source, &parsed));
            }
        }
    }
    if matches!(format, ParseFormat::Json) && !json_out.is_empty() {
        let value = if json_out.len() == 1 {
            json_out.remove(0)
        } else {
            serde_json::Value::Array(json_out)
        };
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        emit(&(text + "\n"));
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
