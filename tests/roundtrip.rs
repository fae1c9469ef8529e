//! Lossless round trip over every corpus Dockerfile, and over CRLF, BOM and
//! no-final-newline variants generated from each: the items concatenate to
//! the input byte for byte, and the variants parse to the same instructions.

use dockreorder::syntax::{self, Parse};

use crate::support;

fn concat(p: &Parse, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for item in &p.items {
        assert_eq!(item.span.start, pos, "items must be contiguous");
        out.push_str(item.span.text(text));
        pos = item.span.end;
    }
    assert_eq!(pos, text.len(), "items must reach the end");
    out
}

/// What a variant must keep: per instruction, BuildKit's view of it (the
/// node and heredoc names; heredoc bodies keep their own line endings, so
/// they are compared with CR removed).
fn shape(p: &Parse) -> Vec<String> {
    p.instructions()
        .map(|(item, i)| {
            let bodies: Vec<String> = i
                .heredocs
                .iter()
                .map(|h| h.content.replace('\r', ""))
                .collect();
            format!(
                "{:?} {:?} {:?} lines {}-{}",
                i.node, i.original, bodies, item.lines.start, item.lines.end
            )
        })
        .collect()
}

fn corpus_files() -> Vec<std::path::PathBuf> {
    let Some(corpus) = support::corpus() else {
        return Vec::new();
    };
    let mut files = Vec::new();
    let manifest =
        std::fs::read_to_string(corpus.join("real-world/MANIFEST.tsv")).expect("manifest");
    for line in manifest.lines().skip(1) {
        if let Some(stored) = line.split('\t').next() {
            files.push(corpus.join("real-world").join(stored));
        }
    }
    assert_eq!(
        files.len(),
        392,
        "the real-world corpus has 392 Dockerfiles"
    );
    for dir in [
        "buildkit-parser/positive",
        "buildkit-parser/derived",
        "buildkit-parser/testfile-line",
    ] {
        for f in support::dockerfiles_under(&corpus.join(dir)) {
            if f.file_name().is_some_and(|n| n == "Dockerfile") {
                files.push(f);
            }
        }
    }
    files
}

#[test]
fn every_corpus_file_round_trips_with_its_variants() {
    let files = corpus_files();
    if files.is_empty() {
        return;
    }
    let mut checked = 0;
    for path in &files {
        let bytes = std::fs::read(path).expect("read");
        let text = String::from_utf8(bytes).expect("corpus files are UTF-8");
        let p = syntax::parse(&text);
        assert!(p.errors.is_empty(), "{}: {:?}", path.display(), p.errors);
        assert_eq!(concat(&p, &text), text, "{}", path.display());
        let base = shape(&p);

        let lf = text.replace("\r\n", "\n");
        let crlf = lf.replace('\n', "\r\n");
        let bom = format!("\u{FEFF}{text}");
        let no_final = text.trim_end_matches(['\n', '\r']).to_string();
        for (name, variant) in [
            ("crlf", &crlf),
            ("bom", &bom),
            ("no-final-newline", &no_final),
        ] {
            let v = syntax::parse(variant);
            assert!(
                v.errors.is_empty(),
                "{} ({name}): {:?}",
                path.display(),
                v.errors
            );
            assert_eq!(&concat(&v, variant), variant, "{} ({name})", path.display());
            let vs = shape(&v);
            if name == "no-final-newline" {
                // Trailing blank lines go away, and with them nothing else.
                assert_eq!(vs.len(), base.len(), "{} ({name})", path.display());
                let same = vs.iter().zip(&base).filter(|(a, b)| a == b).count();
                assert!(same + 1 >= base.len(), "{} ({name})", path.display());
            } else {
                assert_eq!(vs, base, "{} ({name})", path.display());
            }
        }
        checked += 1;
    }
    eprintln!("round-tripped {checked} files with 3 variants each");
}

/// Parsing through a line cache shared by many texts (as the history walk
/// parses a Dockerfile's versions) gives exactly what a fresh parse gives,
/// errors and warnings included, whatever was parsed before.
#[test]
fn a_shared_line_cache_changes_no_parse() {
    let Some(corpus) = support::corpus() else {
        support::skip("a_shared_line_cache_changes_no_parse: ../shared/corpus is absent");
        return;
    };
    let mut files = corpus_files();
    files.extend(support::dockerfiles_under(&corpus.join("buildkit-parser")));
    let mut texts: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    // The same logical lines under the two escape characters read
    // differently.
    for line in ["ENV a=b\\ c=d\n", "ENV a=b` c=d\n"] {
        texts.push(line.to_string());
        texts.push(format!("# escape=`\n{line}"));
    }
    assert!(texts.len() > 400, "{} texts", texts.len());
    let mut cache = syntax::LineCache::default();
    let mut with_errors = 0;
    for text in texts.iter().chain(texts.iter().rev()) {
        let fresh = syntax::parse(text);
        with_errors += usize::from(!fresh.errors.is_empty());
        let cached = syntax::parse_with(text, &mut cache);
        assert_eq!(format!("{cached:?}"), format!("{fresh:?}"), "{text}");
    }
    assert!(with_errors > 0, "the corpus has invalid files too");
}
