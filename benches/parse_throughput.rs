//! In-process parsing throughput over the real-world corpus.
//!
//! Reads every file listed in `../shared/corpus/real-world/MANIFEST.tsv`
//! (relative to the crate; override the corpus directory with
//! `DOCKREORDER_CORPUS`), then parses the whole set `BENCH_PASSES` times
//! (default 50) and prints total bytes, files, best and median time per
//! full pass, and MB/s (1 MB = 10^6 bytes). A second measurement does
//! `parse` + `dump_buildkit`, which is what `dockreorder parse --format
//! buildkit` does per file.
//!
//! Run with `cargo bench --bench parse_throughput`. Exits 0 with a skip
//! message when the corpus is missing.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dockreorder::syntax::{dump_buildkit, parse};

fn corpus_dir() -> PathBuf {
    match std::env::var_os("DOCKREORDER_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real-world"),
    }
}

fn load() -> Result<Vec<(String, String)>, String> {
    let dir = corpus_dir();
    let manifest = dir.join("MANIFEST.tsv");
    let list = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let mut files = Vec::new();
    for line in list.lines().skip(1) {
        let Some(stored) = line.split('\t').next().filter(|s| !s.is_empty()) else {
            continue;
        };
        let path = dir.join(stored);
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // Same decoding as the binary: lossy would change the byte count, so
        // a non-UTF-8 file is an error here rather than silently skipped.
        let text = String::from_utf8(bytes)
            .map_err(|e| format!("{} is not UTF-8: {e}", path.display()))?;
        files.push((stored.to_string(), text));
    }
    if files.is_empty() {
        return Err(format!("{} lists no files", manifest.display()));
    }
    Ok(files)
}

fn passes() -> usize {
    std::env::var("BENCH_PASSES")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(50)
}

fn measure(label: &str, files: &[(String, String)], total: usize, n: usize, f: impl Fn(&str)) {
    // One warm-up pass (page cache, allocator, branch predictors).
    for (_, text) in files {
        f(text);
    }
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            for (_, text) in files {
                f(black_box(text));
            }
            start.elapsed()
        })
        .collect();
    times.sort();
    let best = times[0];
    let median = if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2
    };
    let mbs = |d: Duration| total as f64 / 1e6 / d.as_secs_f64();
    println!("{label}:");
    println!(
        "  best   {:>9.3} ms/pass  {:>8.1} MB/s",
        best.as_secs_f64() * 1e3,
        mbs(best)
    );
    println!(
        "  median {:>9.3} ms/pass  {:>8.1} MB/s",
        median.as_secs_f64() * 1e3,
        mbs(median)
    );
    println!("  worst  {:>9.3} ms/pass", times[n - 1].as_secs_f64() * 1e3);
}

fn main() {
    let files = match load() {
        Ok(files) => files,
        Err(msg) => {
            println!("parse_throughput: SKIPPED, real-world corpus not available ({msg})");
            return;
        }
    };
    let total: usize = files.iter().map(|(_, t)| t.len()).sum();
    let n = passes();
    let errors: usize = files.iter().map(|(_, t)| parse(t).errors.len()).sum();
    println!(
        "parse_throughput: {} files, {} bytes ({:.3} MB), {} passes, {} parse errors in corpus",
        files.len(),
        total,
        total as f64 / 1e6,
        n,
        errors
    );
    measure("parse", &files, total, n, |t| {
        black_box(parse(t));
    });
    measure("parse + dump_buildkit", &files, total, n, |t| {
        let p = parse(t);
        black_box(dump_buildkit(&p));
    });
    slowest(&files, 5);
}

/// The files of at least 1 KiB with the lowest parse throughput (best of 5
/// parses each), to spot inputs where the parser is slower than linear
/// (smaller files are dominated by the fixed cost of a parse).
fn slowest(files: &[(String, String)], top: usize) {
    let mut per_file: Vec<(f64, &str, usize, Duration)> = files
        .iter()
        .filter(|(_, text)| text.len() >= 1024)
        .map(|(name, text)| {
            let best = (0..5)
                .map(|_| {
                    let start = Instant::now();
                    black_box(parse(black_box(text)));
                    start.elapsed()
                })
                .min()
                .unwrap_or_default();
            let mbs = text.len() as f64 / 1e6 / best.as_secs_f64().max(1e-9);
            (mbs, name.as_str(), text.len(), best)
        })
        .collect();
    per_file.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!("slowest files >= 1 KiB (parse only, best of 5):");
    for (mbs, name, len, best) in per_file.iter().take(top) {
        println!(
            "  {:>7.1} MB/s {:>8.1} us {:>6} B  {name}",
            mbs,
            best.as_secs_f64() * 1e6,
            len
        );
    }
}
