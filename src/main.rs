//! The `dockreorder` binary: argument parsing and exit codes only; the work
//! is done by the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dockreorder::analysis::context::Context;
use dockreorder::analysis::file::FileAnalysis;
use dockreorder::analysis::history::{self, NoHistory, Repo, WalkOptions};
use dockreorder::analysis::kb::{CostWeights, Knowledge};
use dockreorder::bot::{Bot, CommitOutcome};
use dockreorder::plan::{Applicability, Options};
use dockreorder::replay;
use dockreorder::report::explain;
use dockreorder::rewrite::Rewriter;
use dockreorder::source::SourceFile;
use dockreorder::{config, discover, report, rewrite, syntax, verify};
use std::io::IsTerminal;
use std::sync::OnceLock;

/// mimalloc instead of glibc's malloc: the history walk allocates on worker
/// threads, whose glibc arenas grow and shrink with an `mprotect` call each
/// time (3,500 system calls, a third of the run on etherpad-lite).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc asks for transparent huge pages on its arenas: on a kernel in
/// `madvise` mode, memory then becomes resident 2 MiB at a time, and the
/// peak resident set of a 60,000-commit walk was 186–192 MiB instead of
/// 160–164 MiB, at the same speed. Set before anything large is allocated;
/// it concerns this process only.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments and touches no
    // memory of ours; a failure (an old kernel) leaves the default.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// A line on stderr. Unlike `eprintln!`, a stderr that cannot be written
/// to is not a panic: there is nowhere left to report it, and the exit code
/// still tells.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Like [`say!`], without the newline.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

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
    #[command(flatten)]
    history: HistoryArgs,
    /// Propose a reorder only when it saves at least this share (percent)
    /// of the file's expected rebuild cost (default 10).
    #[arg(long, value_name = "PERCENT")]
    min_saving: Option<f64>,
    /// Config file (default: .dockreorder.yaml at the repository root).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Bot mode: commit the rewritten files onto --branch (work tree untouched).
    #[arg(long, conflicts_with = "check")]
    commit: bool,
    /// Branch for --commit: created from HEAD, or updated when it holds
    /// only an earlier dockreorder commit (see --force-branch).
    #[arg(long, default_value = "dockreorder/reorder", requires = "commit")]
    branch: String,
    /// Let --commit reset a branch that holds commits of its own.
    #[arg(long, requires = "commit")]
    force_branch: bool,
    /// Commit message for --commit (not empty).
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

/// How much history to walk; shared by the run, `explain` and `verify`.
#[derive(Args)]
struct HistoryArgs {
    /// Do not read git history; use the static estimate.
    #[arg(long)]
    no_history: bool,
    /// Walk at most this many commits (1 or more).
    #[arg(long, value_name = "N", value_parser = parse_max_commits)]
    max_commits: Option<usize>,
    /// Walk only commits since this date (YYYY-MM-DD, UTC) or Unix time.
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Follow every parent (merged branches too), not only the first.
    #[arg(long)]
    all_parents: bool,
}

fn parse_max_commits(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1 (to read no history, pass --no-history)".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

impl HistoryArgs {
    /// The walk to make, with the config's values as defaults, or `None`
    /// for `--no-history`; a bad `--since` is an error message.
    fn walk_options(&self, config: Option<&config::Config>) -> Result<Option<WalkOptions>, String> {
        if self.no_history {
            return Ok(None);
        }
        let since = match self.since.as_deref() {
            Some(raw) => {
                Some(config::parse_date(raw).map_err(|why| format!("--since: `{raw}` {why}"))?)
            }
            // The config's `since` was checked when it was loaded.
            None => config
                .and_then(|c| c.since.as_deref())
                .and_then(|raw| config::parse_date(raw).ok()),
        };
        Ok(Some(WalkOptions {
            max_commits: self.max_commits.or(config.and_then(|c| c.max_commits)),
            since,
            all_parents: self.all_parents,
            ..WalkOptions::default()
        }))
    }
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
        #[command(flatten)]
        history: HistoryArgs,
    },
    /// Show, per stage and instruction, what it reads and writes and which
    /// instructions it must follow, and why.
    Explain {
        file: PathBuf,
        /// Build context directory (default: the Dockerfile's directory).
        #[arg(long)]
        context: Option<PathBuf>,
        #[command(flatten)]
        history: HistoryArgs,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ParseFormat {
    Buildkit,
    Json,
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = Cli::parse();
    history::tune_libgit2();
    let code = match cli.command {
        Some(Command::Parse { format, files }) => run_parse(format, &files),
        Some(Command::Explain {
            file,
            context,
            history,
        }) => run_explain(&file, context.as_deref(), &history),
        Some(Command::Verify {
            file,
            context,
            allow_unsafe,
            history,
        }) => run_verify(&file, context.as_deref(), allow_unsafe, &history),
        None => run_main(&cli.run),
    };
    match STDOUT_ERROR.get() {
        Some(e) => {
            say!("cannot write to standard output: {e}");
            ExitCode::from(2)
        }
        None => code,
    }
}

/// Reads a Dockerfile. Only regular files are read (after following
/// symlinks): a FIFO or a device would block or never end.
fn read_source(path: &std::path::Path) -> Result<SourceFile, String> {
    let shown = path.display().to_string();
    regular_file(path).map_err(|why| format!("{shown}:1:1: {why}"))?;
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}:1:1: cannot read file: {e}"))?;
    SourceFile::from_bytes(shown.clone(), bytes).map_err(|d| d.with_path(&shown))
}

/// `Ok` when `path` is (a symlink to) a regular file, else why not.
fn regular_file(path: &std::path::Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) if m.is_dir() => Err("is a directory, not a Dockerfile".into()),
        Ok(_) => Err("not a regular file (a FIFO, socket or device): not read".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // `dockreorder --no-history explain FILE`: after an option the
            // word is a path (the run's options are not the subcommand's).
            match path.to_str() {
                Some(sub @ ("explain" | "verify" | "parse")) => Err(format!(
                    "no such file or directory (to run `{sub}`, name it first: `dockreorder {sub} [OPTIONS] FILE`)"
                )),
                _ => Err("no such file or directory".into()),
            }
        }
        Err(e) => Err(format!("cannot read file: {e}")),
    }
}

/// `Ok` when `--context` names an existing directory.
fn check_context(dir: &std::path::Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(format!(
            "--context: `{}` is not a directory (the build context is the directory docker build is given)",
            dir.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("--context: `{}` does not exist", dir.display()))
        }
        Err(e) => Err(format!("--context: `{}`: {e}", dir.display())),
    }
}

/// Warnings for `# dockreorder:` comments that are not a known pragma.
/// `parsed`: the parse of `text` when one was made already (the file's
/// analysis made beside the history walk); `None` parses it here.
fn pragma_warnings(shown: &str, text: &str, parsed: Option<&syntax::Parse>) {
    let own;
    let parsed = match parsed {
        Some(p) => p,
        None => {
            own = syntax::parse(text);
            &own
        }
    };
    for d in dockreorder::model::unknown_pragmas(parsed, text) {
        say!("{shown}:{}:{}: warning: {}", d.line, d.column, d.message);
    }
}

/// The context directory named for `path`: `explicit`, else `configured`,
/// else the compose file's (when the repository is known).
fn context_choice(
    path: &std::path::Path,
    explicit: Option<&std::path::Path>,
    configured: Option<&std::path::Path>,
    repo: Option<&Repo>,
) -> Option<PathBuf> {
    match (explicit.or(configured), repo) {
        (Some(dir), _) => Some(dir.to_path_buf()),
        (None, Some(r)) => history::context_from_compose(r.root(), path),
        (None, None) => None,
    }
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
    /// When the walk ended (its result may be collected later).
    ended: Option<std::time::Instant>,
}

impl history::Progress for WalkBar {
    fn begin(&mut self, repo: &std::path::Path) {
        // Until the commit chain is read the total is unknown: a counter of
        // the commits examined so far, which `start` turns into the bar.
        self.repo = repo.display().to_string();
        if self.terminal && !self.quiet {
            let style = indicatif::ProgressStyle::with_template(
                "{prefix} history {spinner} {pos} commits examined, counting the rest",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
            let bar = indicatif::ProgressBar::new_spinner().with_style(style);
            bar.set_prefix(self.repo.clone());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            self.bar = Some(bar);
        }
    }
    fn start(&mut self, repo: &std::path::Path, total: u64) {
        // The total is known once the commit chain is read, which runs
        // beside the walk: the time counts from the walk's start.
        self.repo = repo.display().to_string();
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
            // The counter becomes the bar, keeping its position and clock.
            let bar = self
                .bar
                .take()
                .unwrap_or_else(|| indicatif::ProgressBar::new(total));
            bar.disable_steady_tick();
            bar.set_length(total);
            bar.set_style(style);
            bar.set_prefix(self.repo.clone());
            self.bar = Some(bar);
        }
    }
    fn advance(&mut self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
    }
    fn ended(&mut self, at: std::time::Instant) {
        self.ended = Some(at);
    }
    fn finish(&mut self, done: u64) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if !self.quiet && !self.terminal && !self.repo.is_empty() {
            let end = self.ended.unwrap_or_else(std::time::Instant::now);
            eprintln!(
                "{}: history: {done} commit{} walked in {:.3} s",
                self.repo,
                if done == 1 { "" } else { "s" },
                end.saturating_duration_since(self.started).as_secs_f64()
            );
        }
    }
}

/// The repositories of a run, each opened once: every Dockerfile of a
/// repository is walked from one open repository, and its context is
/// looked up in the same one.
#[derive(Default)]
struct Repos {
    /// (canonical work-tree root, repository).
    open: Vec<(PathBuf, std::rc::Rc<Repo>)>,
}

impl Repos {
    /// The repository `path` is in (as `git` would discover it).
    fn for_path(&mut self, path: &std::path::Path) -> Result<std::rc::Rc<Repo>, NoHistory> {
        let dir = if path.is_dir() {
            Some(path)
        } else {
            path.parent()
        };
        let dir = dir
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| std::path::Path::new("."));
        // The nearest directory holding `.git` is the one discovery finds.
        if let Ok(dir) = std::fs::canonicalize(dir)
            && let Some(top) = dir.ancestors().find(|a| a.join(".git").exists())
            && let Some((_, r)) = self.open.iter().find(|(root, _)| root == top)
        {
            return Ok(r.clone());
        }
        let r = std::rc::Rc::new(Repo::discover(path)?);
        let root = std::fs::canonicalize(r.root()).unwrap_or_else(|_| r.root().to_path_buf());
        self.open.push((root, r.clone()));
        Ok(r)
    }
}

/// The history walks of a run, one per repository for all its
/// Dockerfiles: the first runs from [`start_walks`] on, beside the rest of
/// the run's preparation; each next one starts when the one before it has
/// been collected (one repository's threads at a time).
struct Walks {
    groups: Vec<WalkGroup>,
    /// The first group's walk, already running.
    first: Option<(history::PendingWalk, std::time::Instant)>,
    opts: WalkOptions,
    quiet: bool,
}

/// The Dockerfiles of one repository.
struct WalkGroup {
    repo: std::rc::Rc<Repo>,
    paths: Vec<PathBuf>,
    targets: Vec<history::Target>,
}

/// Groups the files by repository and starts the first walk. Files whose
/// repository cannot be found are left out (`context_and_history` says
/// why).
fn start_walks(
    files: &[(PathBuf, Option<PathBuf>)],
    opts: &WalkOptions,
    quiet: bool,
    repos: &mut Repos,
) -> Walks {
    let mut groups: Vec<WalkGroup> = Vec::new();
    for (path, explicit) in files {
        let Ok(repo) = repos.for_path(path) else {
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
        match groups.iter_mut().find(|g| g.repo.root() == repo.root()) {
            Some(g) => {
                g.paths.push(path.clone());
                g.targets.push(target);
            }
            None => groups.push(WalkGroup {
                repo,
                paths: vec![path.clone()],
                targets: vec![target],
            }),
        }
    }
    let first = groups.first().map(|g| {
        (
            g.repo.start_walk(&g.targets, opts),
            std::time::Instant::now(),
        )
    });
    Walks {
        groups,
        first,
        opts: opts.clone(),
        quiet,
    }
}

impl Walks {
    /// Waits for every walk, showing each one's progress.
    fn wait(self) -> std::collections::HashMap<PathBuf, Result<history::History, NoHistory>> {
        let mut out = std::collections::HashMap::new();
        let mut first = self.first;
        for g in self.groups {
            let (pending, started) = first.take().unwrap_or_else(|| {
                (
                    g.repo.start_walk(&g.targets, &self.opts),
                    std::time::Instant::now(),
                )
            });
            let mut bar = WalkBar {
                terminal: std::io::stderr().is_terminal(),
                quiet: self.quiet,
                bar: None,
                repo: String::new(),
                started,
                ended: None,
            };
            for (p, h) in g.paths.into_iter().zip(pending.wait(&mut bar)) {
                out.insert(p, h);
            }
        }
        out
    }
}

/// The build context and the history of one Dockerfile. The context is
/// `explicit` (`--context`), else `configured` (the config file), else the
/// compose file that names the Dockerfile, else its directory. The history
/// is walked when `walk` is given; why there is none is said on stderr
/// unless `quiet`. An empty history counts as none.
#[allow(clippy::too_many_arguments)]
fn context_and_history(
    repos: &mut Repos,
    path: &std::path::Path,
    explicit: Option<&std::path::Path>,
    configured: Option<PathBuf>,
    walk: Option<&WalkOptions>,
    quiet: bool,
    walked: Option<Result<history::History, NoHistory>>,
    ready: Option<Context>,
) -> (Context, Option<history::History>) {
    let say = |msg: &str| {
        if !quiet {
            say!("{}: {msg}", path.display());
        }
    };
    // The repository names the compose context with or without a walk
    // (`--no-history` must not change the context: a rewrite checked
    // against the Dockerfile's own directory may not build from the one
    // the compose file names). Without a walk, no repository is no news.
    let repo = match repos.for_path(path) {
        Ok(r) => Some(r),
        Err(e) => {
            if walk.is_some() {
                say(&e.to_string());
            }
            None
        }
    };
    let ctx = ready.unwrap_or_else(|| {
        let dir = context_choice(path, explicit, configured.as_deref(), repo.as_deref());
        context_for(path, dir.as_deref())
    });
    let hist = match (&repo, walk) {
        (Some(r), Some(opts)) => {
            match walked.unwrap_or_else(|| r.walk(path, &ctx.dir, opts)) {
                Ok(h) if h.commits.is_empty() => {
                    say(&match (opts.since, opts.max_commits) {
                    (Some(_), _) => "the history walk found no commit since --since: using the static estimate".to_string(),
                    _ => "the history walk found no commit: using the static estimate".to_string(),
                });
                    None
                }
                Ok(h) => Some(h),
                Err(e) => {
                    say(&e.to_string());
                    None
                }
            }
        }
        _ => None,
    };
    (ctx, hist)
}

/// What a file's processing can start from (see [`Run::ready_files`]);
/// what is missing is made when the file is processed.
#[derive(Default)]
struct Ready {
    /// The build context.
    context: Option<Context>,
    /// The Dockerfile's text, or why it cannot be read.
    text: Option<Result<String, String>>,
    /// The analysis of `text` with `context` and the run's knowledge.
    analysis: Option<std::rc::Rc<FileAnalysis>>,
}

/// The thread making the files' [`Ready`] and the run's knowledge base
/// (see [`Run::start_ready`]).
struct PendingReady {
    #[allow(clippy::type_complexity)]
    thread: Option<
        std::thread::JoinHandle<(
            Knowledge,
            Vec<(
                PathBuf,
                Context,
                Option<Result<String, String>>,
                Option<FileAnalysis>,
            )>,
        )>,
    >,
}

/// One file's result in a run.
struct Processed {
    path: PathBuf,
    shown: String,
    /// The path relative to the repository root, for SARIF.
    uri: String,
    old: String,
    new: String,
    changes: Vec<dockreorder::plan::Change>,
    /// The install steps left below a broad copy, and why (`-v` only).
    kept: Vec<dockreorder::plan::Kept>,
    original: std::rc::Rc<FileAnalysis>,
    before: Option<replay::FileFigures>,
    after: Option<replay::FileFigures>,
    history: Option<history::History>,
}

/// One file of `--format json`: a file that failed (its shown path and the
/// error), or one of [`RunOutput::processed`], by index (its report borrows
/// from it, and is serialised straight from it at the end).
enum JsonFile {
    Failed { shown: String, error: String },
    Processed(usize),
}

/// What a run has produced so far.
#[derive(Default)]
struct RunOutput {
    processed: Vec<Processed>,
    /// The files of `--format json`, in order, serialised at the end.
    json_files: Vec<JsonFile>,
    /// (shown path, file to write, text), written after every file was
    /// processed.
    writes: Vec<(String, PathBuf, String)>,
    /// Stdout was closed by its reader (`| head`): stop printing diffs.
    stdout_closed: bool,
    failed: bool,
}

impl RunOutput {
    /// Reports the error `msg` for the file shown as `shown`: said now,
    /// and the file's JSON object, and the run fails.
    fn fail(&mut self, shown: String, msg: String) {
        say!("{msg}");
        self.failed = true;
        self.json_files.push(JsonFile::Failed { shown, error: msg });
    }
}

/// Colours diff lines when stdout is a terminal and NO_COLOR is unset.
fn colour_diff(diff: &str) -> String {
    let on = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if on {
        report::text::paint_diff(diff)
    } else {
        diff.to_string()
    }
}

fn run_main(args: &RunArgs) -> ExitCode {
    match prepare(args) {
        Ok(prepared) => process(args, prepared),
        Err(msg) => {
            say!("{msg}");
            ExitCode::from(2)
        }
    }
}

/// What a run works on, resolved and checked before any work is done.
struct Prepared {
    cfg: config::Loaded,
    files: Vec<PathBuf>,
    /// Some of the named paths could not be used (already reported).
    failed: bool,
    walk: Option<WalkOptions>,
    bot: Option<Bot>,
    /// Where `--write` may write through symlinks.
    root: PathBuf,
    /// The repository of the current directory, opened once.
    repos: Repos,
}

/// Checks the arguments and the configuration, opens the repository for
/// bot mode, and finds the Dockerfiles. Every usage error surfaces here,
/// before the history walk and before anything is written.
fn prepare(args: &RunArgs) -> Result<Prepared, String> {
    if args.commit {
        if args.message.as_deref().is_some_and(|m| m.trim().is_empty()) {
            return Err("--message: a commit message cannot be empty".into());
        }
        dockreorder::bot::check_branch_name(&args.branch)?;
    }
    if let Some(c) = &args.context {
        check_context(c)?;
    }
    // Configuration: --config, else .dockreorder.yaml at the repository root
    // (or the current directory outside a repository).
    let mut repos = Repos::default();
    let root = repos
        .for_path(std::path::Path::new("."))
        .map_or_else(|_| PathBuf::from("."), |r| r.root().to_path_buf());
    let cfg = config::Loaded::load(args.config.as_deref(), &root).map_err(|e| e.to_string())?;
    let walk = args.history.walk_options(Some(&cfg.config))?;
    let bot = if args.commit {
        let bot = Bot::open(std::path::Path::new("."))?;
        bot.check_branch(&args.branch, args.force_branch)?;
        Some(bot)
    } else {
        None
    };
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    let mut failed = false;
    let mut searched = Vec::new();
    let mut excluded = 0;
    for r in &roots {
        if r.is_dir() {
            let found = discover::find(r);
            let n = found.len();
            let selected: Vec<PathBuf> = found.into_iter().filter(|f| cfg.selects(f)).collect();
            excluded += n - selected.len();
            files.extend(selected);
            searched.push(r.display().to_string());
        } else {
            match regular_file(r) {
                Ok(()) => files.push(r.clone()),
                Err(why) => {
                    say!("{}:1:1: {why}", r.display());
                    failed = true;
                }
            }
        }
    }
    if files.is_empty() && !failed {
        return Err(format!(
            "no Dockerfile found under {} (looked for Dockerfile, Containerfile, *.Dockerfile, *.dockerfile, Dockerfile.*, skipping what .gitignore ignores{})",
            searched.join(", "),
            if excluded > 0 {
                format!("; {excluded} excluded by the config's include/exclude")
            } else {
                String::new()
            }
        ));
    }
    Ok(Prepared {
        cfg,
        files,
        failed,
        walk,
        bot,
        root,
        repos,
    })
}

/// The knowledge base of a run, made while the history is walked (with
/// the files' analyses, see [`Run::start_ready`]; on a thread of its own
/// without a walk). Building the embedded entries costs
/// about 0.2 M instructions now that `build.rs` writes them as code;
/// reading them from YAML cost 7 M, a tenth of a run on a short history.
struct PendingKnowledge {
    ready: std::cell::OnceCell<Knowledge>,
    thread: std::cell::RefCell<Option<std::thread::JoinHandle<Knowledge>>>,
    /// The inputs, to read it here when the thread could not start or
    /// failed.
    commands: Vec<dockreorder::analysis::kb::Entry>,
    weights: CostWeights,
}

impl PendingKnowledge {
    fn new(commands: Vec<dockreorder::analysis::kb::Entry>, weights: CostWeights) -> Self {
        PendingKnowledge {
            ready: std::cell::OnceCell::new(),
            thread: std::cell::RefCell::new(None),
            commands,
            weights,
        }
    }

    /// Starts reading it on a thread of its own (after the history walk's
    /// threads, which are the longer path).
    fn start(&self) {
        if self.ready.get().is_some() || self.thread.borrow().is_some() {
            return;
        }
        let (c, weights) = (self.commands.clone(), self.weights);
        let thread = std::thread::Builder::new()
            .name("knowledge".into())
            .spawn(move || Knowledge::configured(c, weights))
            .ok();
        *self.thread.borrow_mut() = thread;
    }

    /// The inputs, to build the knowledge on another thread.
    fn inputs(&self) -> (Vec<dockreorder::analysis::kb::Entry>, CostWeights) {
        (self.commands.clone(), self.weights)
    }

    /// Takes `k`, built from [`PendingKnowledge::inputs`], as the
    /// knowledge (unless it is made already).
    fn set(&self, k: Knowledge) {
        let _ = self.ready.set(k);
    }

    /// The knowledge, waiting for the thread the first time.
    fn get(&self) -> &Knowledge {
        self.ready.get_or_init(|| {
            let thread = self.thread.borrow_mut().take();
            thread
                .and_then(|h| h.join().ok())
                .unwrap_or_else(|| Knowledge::configured(self.commands.clone(), self.weights))
        })
    }
}

/// A run resolved from the flags and the configuration: the knowledge in
/// force, the options, the history walk, the bot. The steps below read
/// these, never the raw flags they came from.
struct Run<'a> {
    args: &'a RunArgs,
    cfg: config::Loaded,
    knowledge: PendingKnowledge,
    opts: Options,
    walk: Option<WalkOptions>,
    bot: Option<Bot>,
    /// Where `--write` may write through symlinks; SARIF paths are relative
    /// to it.
    root: PathBuf,
    /// The repositories opened so far (each once per run).
    repos: std::cell::RefCell<Repos>,
}

impl<'a> Run<'a> {
    fn resolve(
        args: &'a RunArgs,
        prepared: Prepared,
    ) -> Result<(Run<'a>, Vec<PathBuf>, bool), String> {
        let Prepared {
            cfg,
            files,
            failed,
            walk,
            bot,
            root,
            repos,
        } = prepared;
        let c = &cfg.config;
        let knowledge = PendingKnowledge::new(
            c.commands.clone(),
            CostWeights {
                cheap: c.costs.cheap.unwrap_or(CostWeights::default().cheap),
                run: c.costs.run.unwrap_or(CostWeights::default().run),
                build: c.costs.build.unwrap_or(CostWeights::default().build),
                install: c.costs.install.unwrap_or(CostWeights::default().install),
            },
        );
        let allow_unsafe = args.allow_unsafe || c.allow_unsafe.unwrap_or(false);
        let min_saving = args.min_saving.or(c.min_saving).unwrap_or(10.0);
        if !(0.0..=100.0).contains(&min_saving) {
            return Err(format!(
                "--min-saving: `{min_saving}` is not a percentage between 0 and 100"
            ));
        }
        let opts = Options {
            threshold: if allow_unsafe {
                Applicability::Unsafe
            } else {
                Applicability::Safe
            },
            min_saving: min_saving / 100.0,
        };
        let run = Run {
            args,
            cfg,
            knowledge,
            opts,
            walk,
            bot,
            root,
            repos: std::cell::RefCell::new(repos),
        };
        Ok((run, files, failed))
    }

    /// Starts walking the histories of all files (one walk per
    /// repository); `None` without a walk.
    fn start_walks(&self, files: &[PathBuf]) -> Option<Walks> {
        let walk_opts = self.walk.as_ref()?;
        let with_ctx: Vec<(PathBuf, Option<PathBuf>)> = files
            .iter()
            .map(|f| {
                (
                    f.clone(),
                    self.args
                        .context
                        .clone()
                        .or_else(|| self.cfg.context_for(f)),
                )
            })
            .collect();
        Some(start_walks(
            &with_ctx,
            walk_opts,
            self.args.quiet,
            &mut self.repos.borrow_mut(),
        ))
    }

    /// Starts making what each file's processing can start from (see
    /// [`Ready`]) on a thread of its own, beside the history walk: its
    /// build context (the directory chosen as [`context_and_history`]
    /// chooses it), and outside bot mode its text and that text's analysis
    /// (the one [`Rewriter`] would make with the same context and
    /// knowledge), with the run's knowledge base. Listing the context is
    /// mostly system calls and the analysis is the longest step before the
    /// rewrite: on a short history they were most of the run, made after
    /// the walk's commit chain was read.
    fn start_ready(&self, files: &[PathBuf]) -> PendingReady {
        let jobs: Vec<(PathBuf, PathBuf, bool)> = files
            .iter()
            .map(|path| {
                let dir = {
                    let mut repos = self.repos.borrow_mut();
                    let repo = repos.for_path(path).ok();
                    let explicit = self.args.context.as_deref();
                    let configured = self.cfg.context_for(path);
                    context_choice(path, explicit, configured.as_deref(), repo.as_deref())
                };
                (
                    path.clone(),
                    context_dir(path, dir.as_deref()),
                    self.bot.is_none(),
                )
            })
            .collect();
        let (commands, weights) = self.knowledge.inputs();
        let thread = std::thread::Builder::new()
            .name("ready".into())
            .spawn(move || {
                let knowledge = Knowledge::configured(commands, weights);
                let made = jobs
                    .into_iter()
                    .map(|(path, dir, read)| {
                        let context = Context::new(dir, Some(&path));
                        let text = read.then(|| read_source(&path).map(|s| s.text));
                        let analysis = match &text {
                            Some(Ok(t)) => Some(FileAnalysis::new(t, Some(&context), &knowledge)),
                            _ => None,
                        };
                        (path, context, text, analysis)
                    })
                    .collect();
                (knowledge, made)
            })
            .ok();
        PendingReady { thread }
    }

    /// What [`Run::start_ready`] made, by file (nothing when its thread
    /// could not start or failed: each file's processing makes it then).
    fn ready_files(&self, pending: PendingReady) -> std::collections::HashMap<PathBuf, Ready> {
        let Some((knowledge, made)) = pending.thread.and_then(|h| h.join().ok()) else {
            return std::collections::HashMap::new();
        };
        self.knowledge.set(knowledge);
        made.into_iter()
            .map(|(path, context, text, analysis)| {
                let ready = Ready {
                    context: Some(context),
                    text,
                    analysis: analysis.map(std::rc::Rc::new),
                };
                (path, ready)
            })
            .collect()
    }

    /// Why `path` is not rewritten when no `--context` and no configured
    /// context names its build context and the compose files build it
    /// with several: a rewrite that is safe with one context may change
    /// the image built with another (a `requirements.txt` of one service
    /// includes a file the other's does not have), and which one a build
    /// uses is not known here.
    fn several_contexts(&self, path: &std::path::Path, shown: &str) -> Option<String> {
        if self.args.context.is_some() || self.cfg.context_for(path).is_some() {
            return None;
        }
        let repo = self.repos.borrow_mut().for_path(path).ok()?;
        several_compose_contexts(path, shown, repo.root())
    }

    /// In bot mode, why `path` is not rewritten when its build context
    /// (or its own `<name>.dockerignore`) is not as committed: the rewrite
    /// would be checked against files the commit is not built from. The
    /// Dockerfile itself and the pull-request body may differ.
    fn uncommitted_context(
        &self,
        path: &std::path::Path,
        shown: &str,
        ctx: &Context,
    ) -> Option<String> {
        let bot = self.bot.as_ref()?;
        let ignore_file = path
            .file_name()
            .map(|n| path.with_file_name(format!("{}.dockerignore", n.to_string_lossy())));
        let skip: Vec<PathBuf> = std::iter::once(path.to_path_buf())
            .chain(self.args.pr_body.clone())
            .collect();
        let extra: Vec<PathBuf> = ignore_file.into_iter().collect();
        let p = bot.uncommitted(&ctx.dir, &extra, &skip)?;
        Some(format!(
            "{shown}:1:1: --commit: `{p}` in the build context is not as committed (modified, staged, deleted, untracked or ignored): the rewrite would be checked against files the commit is not built from; run on a clean checkout of HEAD"
        ))
    }

    /// The text to rewrite: in bot mode the committed version, so
    /// uncommitted edits never reach the branch. `None`: skipped.
    fn text_of(&self, path: &std::path::Path, shown: &str) -> Option<Result<String, String>> {
        match &self.bot {
            Some(b) => match b.head_text(path) {
                Some(t) => Some(Ok(t)),
                None => {
                    if !self.args.quiet {
                        say!("{shown}: not committed: skipped by --commit");
                    }
                    None
                }
            },
            None => Some(read_source(path).map(|s| s.text)),
        }
    }

    /// Rewrites one file and records what the reports and writes need.
    fn process_file(
        &self,
        path: &std::path::Path,
        walked: Option<Result<history::History, NoHistory>>,
        ready: Ready,
        out: &mut RunOutput,
    ) {
        let shown = path.display().to_string();
        let Ready {
            context: ready,
            text,
            analysis,
        } = ready;
        if let Some(msg) = self.several_contexts(path, &shown) {
            out.fail(shown, msg);
            return;
        }
        let text = match text.or_else(|| self.text_of(path, &shown)) {
            None => return,
            Some(Ok(t)) => t,
            Some(Err(msg)) => {
                out.fail(shown, msg);
                return;
            }
        };
        if !self.args.quiet {
            // `analysis` is of this very text when there is one (both come
            // from `ready_files`).
            pragma_warnings(&shown, &text, analysis.as_deref().map(|a| &a.parse));
        }
        let (ctx, hist) = context_and_history(
            &mut self.repos.borrow_mut(),
            path,
            self.args.context.as_deref(),
            self.cfg.context_for(path),
            self.walk.as_ref(),
            self.args.quiet,
            walked,
            ready,
        );
        if let Some(msg) = self.uncommitted_context(path, &shown, &ctx) {
            out.fail(shown, msg);
            return;
        }
        let rewriter = Rewriter::new(self.knowledge.get(), Some(&ctx), hist.as_ref(), self.opts);
        if let Some(a) = analysis {
            rewriter.adopt(&text, a);
        }
        let outcome = match rewriter.rewrite(&text) {
            Ok(o) => o,
            Err(e) => {
                let msg = format!("{shown}:{}:{}: {}", e.line, e.column, e.message);
                out.fail(shown, msg);
                return;
            }
        };
        let analyze = |t: &str| {
            if outcome.per_build_assumed {
                rewriter.analyze_per_build(t)
            } else {
                rewriter.analyze(t)
            }
        };
        let original = analyze(&text);
        let before = rewriter.figures(&original);
        let mut after = rewriter.figures(&analyze(&outcome.new_text));
        if let Some(a) = after.as_mut() {
            // A split `RUN`'s figures before are its hoisted part's.
            a.splits = outcome
                .changes
                .iter()
                .filter(|c| c.applied)
                .filter_map(|c| Some((c.split_from.clone()?, c.subject.clone())))
                .collect();
        }
        // Without `-v` the text report names the kept installs in one line,
        // so that a file with nothing to change says that installs still
        // rerun on every change of the sources; `--format json` lists them
        // with their reasons.
        let kept = if (self.args.format == RunFormat::Text && !self.args.quiet)
            || self.args.format == RunFormat::Json
        {
            rewriter.kept(&text, &outcome)
        } else {
            Vec::new()
        };
        let p = Processed {
            path: path.to_path_buf(),
            uri: repo_relative(path, &self.root),
            shown,
            old: text,
            new: outcome.new_text,
            changes: outcome.changes,
            kept,
            original,
            before,
            after,
            history: hist,
        };
        self.report_file(&p, out);
        if self.args.write && p.old != p.new {
            self.plan_write(&p, &ctx, out);
        }
        out.processed.push(p);
    }

    /// The per-file part of the output: the diff and summary (text), or the
    /// file's JSON object.
    fn report_file(&self, p: &Processed, out: &mut RunOutput) {
        let args = self.args;
        let changed = p.old != p.new;
        match args.format {
            RunFormat::Text if !args.quiet => {
                if changed && !out.stdout_closed && !args.write && !args.commit {
                    out.stdout_closed = !emit(&colour_diff(&report::unified_diff(
                        &p.shown, &p.old, &p.new,
                    )));
                }
                if changed || args.verbose || p.changes.iter().any(|c| !c.applied) {
                    let basis = if rewrite::usable_history(p.history.as_ref()).is_some() {
                        "ordered by the walked history"
                    } else if p.history.is_some() {
                        "static estimate: fewer than 20 commits touched the build context, too few for the history to decide"
                    } else {
                        "static estimate: dependency manifests and lock files change rarely, other sources often"
                    };
                    say_raw!("{}", report::summary(&p.shown, &p.changes, basis));
                }
                // Every file gets a line: without it, a run whose files
                // are all well ordered ends on the history walk's line
                // and says nothing of them (scout74 review). It is the
                // verdict, so it comes before the figures, as a changed
                // file's summary does (scout77 review).
                if !changed && !p.changes.iter().any(|c| !c.applied) {
                    say!("{}: nothing to change", p.shown);
                }
                if let (Some(h), Some(b), Some(a)) = (&p.history, &p.before, &p.after)
                    && (changed || args.verbose)
                {
                    say_raw!("{}", report::history_text(&p.shown, b, a, h));
                }
                if args.verbose {
                    for k in &p.kept {
                        say!(
                            "{}:{}: kept below `{}` (line {}): {}",
                            p.shown,
                            k.line,
                            k.below,
                            k.below_line,
                            k.reason
                        );
                    }
                } else if let Some(line) = kept_summary(&p.shown, &p.kept) {
                    say!("{line}");
                }
            }
            // Its object is made from `p` when the reports are emitted:
            // `p` is the next of `out.processed`.
            RunFormat::Json => out
                .json_files
                .push(JsonFile::Processed(out.processed.len())),
            _ => {}
        }
    }

    /// Queues the write of a changed file. In bot mode the work tree gets
    /// the rewrite of its own text.
    fn plan_write(&self, p: &Processed, ctx: &Context, out: &mut RunOutput) {
        let target = if self.bot.is_some() {
            read_source(&p.path)
                .ok()
                .and_then(|s| {
                    Rewriter::new(
                        self.knowledge.get(),
                        Some(ctx),
                        p.history.as_ref(),
                        self.opts,
                    )
                    .rewrite(&s.text)
                    .ok()
                })
                .map(|o| o.new_text)
        } else {
            Some(p.new.clone())
        };
        match target.map(|t| (dockreorder::write::write_target(&p.path, &self.root), t)) {
            Some((Ok(to), t)) => out.writes.push((p.shown.clone(), to, t)),
            Some((Err(why), _)) => {
                say!("{}:1:1: {why}", p.shown);
                out.failed = true;
            }
            None => {
                say!("{}:1:1: cannot rewrite the work tree copy", p.shown);
                out.failed = true;
            }
        }
    }

    /// Writes the queued files. A file that could not be processed does not
    /// stop the others from being written (the run still exits 2).
    fn write_all(&self, out: &mut RunOutput) {
        for (shown, to, text) in &out.writes {
            match dockreorder::write::write_atomic(to, text) {
                Ok(notes) => {
                    for n in notes {
                        say!("{shown}: {n}");
                    }
                    if !self.args.quiet && self.args.format == RunFormat::Text {
                        say!("{shown}: rewritten");
                    }
                }
                Err(e) => {
                    say!("{shown}:1:1: cannot write: {e}");
                    out.failed = true;
                }
            }
        }
    }

    /// The whole-run outputs: JSON, SARIF or Markdown on stdout.
    fn emit_reports(&self, out: &RunOutput) {
        match self.args.format {
            RunFormat::Json => {
                let files: Vec<_> = out
                    .json_files
                    .iter()
                    .filter_map(|f| match f {
                        JsonFile::Failed { shown, error } => Some(report::file_json(
                            shown,
                            "",
                            "",
                            &[],
                            Some(error.clone()),
                            None,
                        )),
                        JsonFile::Processed(i) => out.processed.get(*i).map(|p| {
                            let figures = match (&p.history, &p.before, &p.after) {
                                (Some(h), Some(b), Some(a)) => Some((b, a, h)),
                                _ => None,
                            };
                            report::file_json(
                                &p.shown,
                                &p.old,
                                &p.new,
                                &p.changes,
                                None,
                                Some(&p.original),
                            )
                            .with_history(figures)
                            .with_kept(&p.kept)
                        }),
                    })
                    .collect();
                let text = report::pretty_json(&files).unwrap_or_default();
                emit(&(text + "\n"));
            }
            RunFormat::Sarif => {
                let text =
                    report::pretty_json(&report::sarif(&file_reports(out), Some(&self.root)))
                        .unwrap_or_default();
                emit(&(text + "\n"));
            }
            RunFormat::Markdown => {
                emit(&report::markdown(&file_reports(out)));
            }
            RunFormat::Text => {}
        }
    }

    /// Bot mode: commits the rewritten files onto the branch.
    fn commit(&self, out: &mut RunOutput) {
        let Some(bot) = &self.bot else { return };
        let args = self.args;
        if out.failed {
            say!("--commit: not committing because of the errors above");
            return;
        }
        let changed: Vec<(PathBuf, String)> = out
            .processed
            .iter()
            .filter(|p| p.old != p.new)
            .map(|p| (p.path.clone(), p.new.clone()))
            .collect();
        let unsafe_applied = out.processed.iter().any(|p| {
            p.changes
                .iter()
                .any(|c| c.applied && c.applicability == Applicability::Unsafe)
        });
        let message = args
            .message
            .clone()
            .unwrap_or_else(|| bot_message(changed.len(), unsafe_applied));
        let said = match bot.commit(
            &args.branch,
            &message,
            args.author.as_deref(),
            &changed,
            args.force_branch,
        ) {
            Ok(CommitOutcome::NothingToCommit) => {
                "nothing to change: no branch, no commit".to_string()
            }
            Ok(CommitOutcome::Unchanged { branch, commit }) => {
                format!("{branch} already holds this change ({commit}): left as it is")
            }
            Ok(CommitOutcome::Committed { branch, commit }) => {
                format!("committed {commit} onto {branch}")
            }
            Err(e) => {
                say!("--commit: {e}");
                out.failed = true;
                return;
            }
        };
        if !args.quiet {
            say!("{said}");
        }
    }

    /// The pull-request body describes the commit: written only once it
    /// exists, and never after an error.
    fn write_pr_body(&self, out: &mut RunOutput) {
        let would_change = out.processed.iter().any(|p| p.old != p.new);
        if let Some(body) = &self.args.pr_body
            && would_change
            && !out.failed
            && let Err(e) = std::fs::write(body, report::markdown(&file_reports(out)))
        {
            say!(
                "{}:1:1: cannot write the pull-request body: {e}",
                body.display()
            );
            out.failed = true;
        }
    }
}

/// The bot's commit message: only what was checked (the effects model, not
/// a build).
fn bot_message(n: usize, unsafe_applied: bool) -> String {
    format!(
        "Reorder Dockerfile instructions for the build cache\n\nRewritten by dockreorder: {n} file{}. {} The images were not built; see the pull request for the evidence.",
        if n == 1 { "" } else { "s" },
        if unsafe_applied {
            "Some moves are Unsafe (applied with --unsafe): they are not proven to keep the image."
        } else {
            "Every move is proven safe under dockreorder's effects model."
        }
    )
}

/// The reports' view of the processed files.
fn file_reports(out: &RunOutput) -> Vec<report::FileReport<'_>> {
    out.processed
        .iter()
        .map(|p| report::FileReport {
            path: &p.shown,
            uri: &p.uri,
            original: Some(&p.original),
            old: &p.old,
            new: &p.new,
            changes: &p.changes,
            before: p.before.as_ref(),
            after: p.after.as_ref(),
            history: p.history.as_ref(),
        })
        .collect()
}

/// `path` relative to `root` (both resolved), else as given.
fn repo_relative(path: &std::path::Path, root: &std::path::Path) -> String {
    let abs = std::fs::canonicalize(path).ok();
    let root = std::fs::canonicalize(root).ok();
    match (abs, root) {
        (Some(a), Some(r)) => a
            .strip_prefix(&r)
            .map(|rel| rel.to_string_lossy().into_owned())
            .unwrap_or_else(|_| path.display().to_string()),
        _ => path.display().to_string(),
    }
}

/// The error for a Dockerfile the compose files at `root` build from
/// several contexts (see [`Run::several_contexts`]), if they do.
fn several_compose_contexts(
    path: &std::path::Path,
    shown: &str,
    root: &std::path::Path,
) -> Option<String> {
    if let Some(file) = history::compose_unfollowed(root, path) {
        return Some(format!(
            "{shown}:1:1: `{}` includes, extends or overrides compose files not read here, which may build it from another context; give --context DIR (or `dockerfiles:` in .dockreorder.yaml) to say which",
            repo_relative(&file, root)
        ));
    }
    let dirs = history::compose_contexts(root, path);
    if dirs.len() < 2 {
        return None;
    }
    let named: Vec<String> = dirs
        .iter()
        .map(|d| match repo_relative(d, root) {
            r if r.is_empty() => "`.`".to_string(),
            r => format!("`{r}`"),
        })
        .collect();
    Some(format!(
        "{shown}:1:1: the compose files build it from several contexts ({}): a change safe with one may change the image built from another; give --context DIR (or `dockerfiles:` in .dockreorder.yaml) to say which",
        named.join(", ")
    ))
}

/// Rewrites, reports, writes and commits, for the files `prepare` found.
fn process(args: &RunArgs, prepared: Prepared) -> ExitCode {
    let (run, files, failed) = match Run::resolve(args, prepared) {
        Ok(r) => r,
        Err(msg) => {
            say!("{msg}");
            return ExitCode::from(2);
        }
    };
    // The history walk starts first (it is the longest path); the
    // knowledge base, the build contexts and the Dockerfiles' analyses are
    // made beside it (none of them depends on it).
    let walks = run.start_walks(&files);
    let (mut walked, mut ready) = match walks {
        Some(w) => {
            let pending = run.start_ready(&files);
            let walked = w.wait();
            (walked, run.ready_files(pending))
        }
        None => {
            run.knowledge.start();
            Default::default()
        }
    };
    let mut out = RunOutput {
        failed,
        ..RunOutput::default()
    };
    for path in &files {
        let ready = ready.remove(path).unwrap_or_default();
        run.process_file(path, walked.remove(path), ready, &mut out);
    }
    run.write_all(&mut out);
    run.emit_reports(&out);
    run.commit(&mut out);
    run.write_pr_body(&mut out);
    let would_change = out.processed.iter().any(|p| p.old != p.new);
    let code = if out.failed {
        ExitCode::from(2)
    } else if args.check && would_change {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The run is over and the process ends: its texts, analyses and
    // figures, and the run's knowledge base and open repositories (memory
    // and file descriptors only; every write is done, the bot's commit
    // made) are left to the exit rather than freed one by one, a fixed
    // cost of every run (0.1 M instructions for the knowledge base alone).
    std::mem::forget(out);
    std::mem::forget(run);
    code
}

/// The checks and inputs `verify` and `explain` share: the context
/// directory, the history flags, and the file itself.
fn single_file(
    path: &std::path::Path,
    context: Option<&std::path::Path>,
    history: &HistoryArgs,
) -> Result<(SourceFile, Option<WalkOptions>), String> {
    context.map_or(Ok(()), check_context)?;
    let walk = history.walk_options(None)?;
    Ok((read_source(path)?, walk))
}

fn run_verify(
    path: &std::path::Path,
    context: Option<&std::path::Path>,
    allow_unsafe: bool,
    history: &HistoryArgs,
) -> ExitCode {
    let (source, walk) = match single_file(path, context, history) {
        Ok(r) => r,
        Err(msg) => {
            say!("{msg}");
            return ExitCode::from(2);
        }
    };
    // A rewrite checked against one of several contexts proves nothing
    // about the others.
    if context.is_none()
        && let Ok(repo) = Repos::default().for_path(path)
        && let Some(msg) = several_compose_contexts(path, &source.path, repo.root())
    {
        say!("{msg}");
        return ExitCode::from(2);
    }
    // Before any other work: without an engine nothing can be verified.
    let cli = verify::default_cli();
    if let Err(e) = verify::engine(&cli) {
        say!("{e}");
        return ExitCode::from(2);
    }
    // The most often changed file is picked from the changed paths.
    let walk = walk.map(|w| WalkOptions { paths: true, ..w });
    let (ctx, hist) = context_and_history(
        &mut Repos::default(),
        path,
        context,
        None,
        walk.as_ref(),
        true,
        None,
        None,
    );
    let opts = Options::new(if allow_unsafe {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    });
    let outcome = match rewrite::rewrite_with(&source.text, Some(&ctx), hist.as_ref(), opts) {
        Ok(o) => o,
        Err(e) => {
            say!("{}:{}:{}: {}", source.path, e.line, e.column, e.message);
            return ExitCode::from(2);
        }
    };
    if outcome.new_text == source.text {
        emit(&format!(
            "{}: nothing to verify: dockreorder would not change it\n",
            source.path
        ));
        return ExitCode::SUCCESS;
    }
    let changed = verify::file_to_change(&ctx, hist.as_ref());
    emit(&format!(
        "{}: building the original and the rewritten Dockerfile…\n",
        source.path
    ));
    let report = match verify::verify(
        &cli,
        &ctx.dir,
        &source.path,
        &source.text,
        &outcome.new_text,
        changed.as_deref(),
    ) {
        Ok(r) => r,
        Err(e) => {
            say!("{}:1:1: {e}", source.path);
            return ExitCode::from(2);
        }
    };
    let mut out = String::new();
    if !report.differences.is_empty() {
        out.push_str("images differ:\n");
        for d in &report.differences {
            out.push_str(&format!("  {d}\n"));
        }
        emit(&out);
        return ExitCode::from(1);
    }
    out.push_str("images: identical (files, contents, modes, owners, config)\n");
    if let (Some(a), Some(b)) = (&report.original, &report.rewritten) {
        let args: Vec<String> = report.new_values.iter().map(|v| format!("`{v}`")).collect();
        let what = match (&report.changed_file, args.is_empty()) {
            (Some(f), true) => format!("changing {f}"),
            (Some(f), false) => format!(
                "changing {f} and giving new values to {} (assumed to change on every build)",
                args.join(", ")
            ),
            (None, _) => format!(
                "giving new values to {} (assumed to change on every build)",
                args.join(", ")
            ),
        };
        out.push_str(&format!("after {what}:\n"));
        for (name, build) in [("original", a), ("rewritten", b)] {
            let cached = build.steps.iter().filter(|s| s.1).count();
            let rebuilt: Vec<&str> = build
                .steps
                .iter()
                .filter(|s| !s.1)
                .map(|s| s.0.as_str())
                .collect();
            out.push_str(&format!(
                "  {name:<9} {cached} of {} steps from cache in {:.1} s; rebuilt: {}\n",
                build.steps.len(),
                build.took.as_secs_f64(),
                if rebuilt.is_empty() {
                    "nothing".to_string()
                } else {
                    rebuilt.join(" | ")
                }
            ));
        }
    }
    emit(&out);
    ExitCode::SUCCESS
}

fn run_explain(
    path: &std::path::Path,
    context: Option<&std::path::Path>,
    history: &HistoryArgs,
) -> ExitCode {
    let (source, walk) = match single_file(path, context, history) {
        Ok(r) => r,
        Err(msg) => {
            say!("{msg}");
            return ExitCode::from(2);
        }
    };
    let parsed = syntax::parse_source(&source);
    if let Some(d) = parsed.errors.first() {
        say!("{}", d.with_path(&source.path));
        return ExitCode::from(2);
    }
    pragma_warnings(&source.path, &source.text, None);
    let mut repos = Repos::default();
    let walked = walk.as_ref().and_then(|w| {
        let with_ctx = [(path.to_path_buf(), context.map(|c| c.to_path_buf()))];
        start_walks(&with_ctx, w, false, &mut repos)
            .wait()
            .remove(path)
    });
    let (ctx, hist) = context_and_history(
        &mut repos,
        path,
        context,
        None,
        walk.as_ref(),
        false,
        walked,
        None,
    );
    let file = FileAnalysis::of_parse(&source.text, parsed, Some(&ctx), Knowledge::embedded());
    emit(&explain::explain(&file, Some(&ctx), hist.as_ref()));
    ExitCode::SUCCESS
}

/// The first error writing to stdout other than a closed pipe (`/dev/full`,
/// an I/O error): reported once, at the end, with exit 2.
static STDOUT_ERROR: OnceLock<String> = OnceLock::new();

/// Writes to stdout; false when it could not. A reader that went away
/// (`| head`, a pager closed early) is not an error; any other failure is
/// recorded for `main` to report.
fn emit(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(e) => {
            let _ = STDOUT_ERROR.set(e.to_string());
            false
        }
    }
}

fn run_parse(format: ParseFormat, files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    let mut json_out = Vec::new();
    for path in files {
        let shown = path.display().to_string();
        let source = match read_source(path) {
            Ok(s) => s,
            Err(msg) => {
                say!("{msg}");
                failed = true;
                continue;
            }
        };
        let parsed = syntax::parse_source(&source);
        for w in &parsed.warnings {
            say!("{}: warning: {}", shown, w);
        }
        if !parsed.errors.is_empty() {
            for d in &parsed.errors {
                say!("{}", d.with_path(&shown));
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
        let text = report::pretty_json(&value).unwrap_or_default();
        emit(&(text + "\n"));
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// One line for the dependency installs left below a broad copy, without
/// their reasons (`-v` gives them, and the other steps kept):
/// `./Dockerfile: 2 installs stay below a broad copy and rerun when any
/// copied file changes (lines 8, 9); -v says why`.
fn kept_summary(shown: &str, kept: &[dockreorder::plan::Kept]) -> Option<String> {
    let lines: Vec<String> = kept
        .iter()
        .filter(|k| k.install && k.broad)
        .map(|k| k.line.to_string())
        .collect();
    let (what, verb, s) = match lines.len() {
        0 => return None,
        1 => ("install stays", "reruns", ""),
        _ => ("installs stay", "rerun", "s"),
    };
    Some(format!(
        "{shown}: {} {what} below a broad copy and {verb} when any copied file changes (line{s} {}); -v says why",
        lines.len(),
        lines.join(", ")
    ))
}
