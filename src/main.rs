//! The `dockreorder` binary: argument parsing and exit codes only; the work
//! is done by the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dockreorder::analysis::context::Context;
use dockreorder::analysis::history::{self, NoHistory, Repo, WalkOptions};
use dockreorder::plan::{Applicability, Options};
use dockreorder::simulate;
use dockreorder::source::SourceFile;
use dockreorder::{discover, explain, report, rewrite, syntax};
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
}

/// `YYYY-MM-DD` (UTC midnight) or Unix seconds.
fn parse_since(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let mut it = s.splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.get(..2)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunFormat {
    Text,
    Json,
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
        None => run_main(&cli.run),
    }
}

fn read_source(path: &std::path::Path) -> Result<SourceFile, String> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}:1:1: cannot read file: {e}"))?;
    SourceFile::from_bytes(shown.clone(), bytes).map_err(|d| d.with_path(&shown))
}

fn context_for(path: &std::path::Path, context: Option<&std::path::Path>) -> Context {
    let dir = match context {
        Some(c) => c.to_path_buf(),
        None => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), |p| p.to_path_buf()),
    };
    Context::new(dir, Some(path))
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

fn run_main(args: &RunArgs) -> ExitCode {
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    let mut failed = false;
    for r in &roots {
        if r.is_dir() {
            files.extend(discover::find(r));
        } else if r.exists() {
            files.push(r.clone());
        } else {
            eprintln!("{}:1:1: no such file or directory", r.display());
            failed = true;
        }
    }
    let opts = Options {
        threshold: if args.allow_unsafe {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
    };
    let note = if args.no_history {
        "static estimate, --no-history: dependency manifests and lock files change rarely, other sources often"
    } else {
        "static estimate: dependency manifests and lock files change rarely, other sources often"
    };
    let since = match args.since.as_deref().map(|s| (s, parse_since(s))) {
        Some((raw, None)) => {
            eprintln!("--since: `{raw}` is not a date (YYYY-MM-DD) or Unix time");
            return ExitCode::from(2);
        }
        Some((_, Some(t))) => Some(t),
        None => None,
    };
    let walk_opts = WalkOptions {
        max_commits: args.max_commits,
        since,
        all_parents: args.all_parents,
        progress: std::io::stderr().is_terminal(),
    };
    let mut would_change = false;
    let mut json_files = Vec::new();
    let mut stdout_open = true;
    for path in &files {
        let shown = path.display().to_string();
        let source = match read_source(path) {
            Ok(s) => s,
            Err(msg) => {
                eprintln!("{msg}");
                failed = true;
                json_files.push(report::file_json(&shown, "", "", &[], Some(msg)));
                continue;
            }
        };
        let repo = if args.no_history {
            None
        } else {
            match Repo::discover(path) {
                Ok(r) => Some(r),
                Err(NoHistory(msg)) => {
                    eprintln!("{shown}: {msg}");
                    None
                }
            }
        };
        let compose_ctx = match (&args.context, &repo) {
            (None, Some(r)) => history::context_from_compose(r.root(), path),
            _ => None,
        };
        let ctx = context_for(path, args.context.as_deref().or(compose_ctx.as_deref()));
        let hist = repo
            .as_ref()
            .and_then(|r| match r.walk(path, &ctx.dir, &walk_opts) {
                Ok(h) => Some(h),
                Err(NoHistory(msg)) => {
                    eprintln!("{shown}: {msg}");
                    None
                }
            });
        let hist = hist.filter(|h| !h.commits.is_empty());
        let outcome = match rewrite::rewrite_with(&source.text, Some(&ctx), hist.as_ref(), opts) {
            Ok(o) => o,
            Err(e) => {
                let msg = format!("{shown}:{}:{}: {}", e.line, e.column, e.message);
                eprintln!("{msg}");
                failed = true;
                json_files.push(report::file_json(
                    &shown,
                    &source.text,
                    &source.text,
                    &[],
                    Some(msg),
                ));
                continue;
            }
        };
        let changed = outcome.changed(&source.text);
        would_change |= changed;
        match args.format {
            RunFormat::Text => {
                if changed && stdout_open && !args.write {
                    stdout_open = emit(&report::unified_diff(
                        &shown,
                        &source.text,
                        &outcome.new_text,
                    ));
                }
                let basis = if hist.is_some() {
                    "ordered by the walked history"
                } else {
                    note
                };
                eprint!("{}", report::summary(&shown, &outcome.changes, basis));
                if let Some(h) = &hist {
                    let before = simulate::figures(&source.text, Some(&ctx), h);
                    let after = simulate::figures(&outcome.new_text, Some(&ctx), h);
                    eprint!("{}", report::history_text(&shown, &before, &after, h));
                }
            }
            RunFormat::Json => {
                let mut v = report::file_json(
                    &shown,
                    &source.text,
                    &outcome.new_text,
                    &outcome.changes,
                    None,
                );
                if let Some(h) = &hist {
                    let before = simulate::figures(&source.text, Some(&ctx), h);
                    let after = simulate::figures(&outcome.new_text, Some(&ctx), h);
                    if let (Some(obj), serde_json::Value::Object(extra)) =
                        (v.as_object_mut(), report::history_json(&before, &after, h))
                    {
                        obj.extend(extra);
                    }
                } else if let Some(obj) = v.as_object_mut() {
                    obj.insert("history".into(), serde_json::Value::Null);
                }
                json_files.push(v);
            }
        }
        if args.write && changed {
            if let Err(e) = write_atomic(path, &outcome.new_text) {
                eprintln!("{shown}:1:1: cannot write: {e}");
                failed = true;
            } else if args.format == RunFormat::Text {
                eprintln!("{shown}: rewritten");
            }
        }
    }
    if args.format == RunFormat::Json {
        let text =
            serde_json::to_string_pretty(&serde_json::Value::Array(json_files)).unwrap_or_default();
        emit(&(text + "\n"));
    }
    if failed {
        ExitCode::from(2)
    } else if args.check && would_change {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
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
    let repo = match Repo::discover(path) {
        Ok(r) => Some(r),
        Err(NoHistory(msg)) => {
            eprintln!("{}: {msg}", source.path);
            None
        }
    };
    let compose_ctx = match (context, &repo) {
        (None, Some(r)) => history::context_from_compose(r.root(), path),
        _ => None,
    };
    let ctx = context_for(path, context.or(compose_ctx.as_deref()));
    let walk_opts = WalkOptions {
        progress: std::io::stderr().is_terminal(),
        ..WalkOptions::default()
    };
    let hist = repo
        .as_ref()
        .and_then(|r| match r.walk(path, &ctx.dir, &walk_opts) {
            Ok(h) => Some(h).filter(|h| !h.commits.is_empty()),
            Err(NoHistory(msg)) => {
                eprintln!("{}: {msg}", source.path);
                None
            }
        });
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
