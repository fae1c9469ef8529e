//! The `dockreorder` binary: argument parsing and exit codes only; the work
//! is done by the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use dockreorder::source::SourceFile;
use dockreorder::syntax;

#[derive(Parser)]
#[command(
    name = "dockreorder",
    version,
    about = "Reorder Dockerfile instructions so that rarely changing layers come first, without changing the image"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
}

#[derive(Clone, Copy, ValueEnum)]
enum ParseFormat {
    Buildkit,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Parse { format, files } => run_parse(format, &files),
    }
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
