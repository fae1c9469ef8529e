//! BuildKit's parser conformance suite (`../shared/corpus/buildkit-parser`):
//! positive cases dump byte-identically, negative cases are rejected with a
//! line number and exit 2, line ranges and the derived heredoc
//! expectations hold.

use std::process::Command;

use dockreorder::syntax::{self, ItemKind};
use serde_json::Value;

use crate::support;

fn read(path: &std::path::Path) -> String {
    String::from_utf8(std::fs::read(path).expect("read corpus file")).expect("utf-8 corpus file")
}

#[test]
fn positive_cases_dump_like_buildkit() {
    let Some(corpus) = support::corpus() else {
        return;
    };
    let dir = corpus.join("buildkit-parser/positive");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("positive dir")
        .flatten()
        .collect();
    cases.sort_by_key(|e| e.path());
    assert_eq!(cases.len(), 33, "expected 33 positive cases");
    let mut failures = Vec::new();
    for case in &cases {
        let path = case.path();
        // Through the binary, exactly as a user would run it.
        let out = Command::new(support::bin())
            .args(["parse", "--format", "buildkit"])
            .arg(path.join("Dockerfile"))
            .output()
            .expect("run dockreorder");
        let expected = std::fs::read(path.join("result")).expect("result file");
        if !out.status.success() || out.stdout != expected {
            failures.push(format!(
                "{}: status {:?}\n--- expected\n{}--- got\n{}{}",
                path.display(),
                out.status.code(),
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn negative_cases_are_rejected_with_a_line_number() {
    let Some(corpus) = support::corpus() else {
        return;
    };
    let dir = corpus.join("buildkit-parser/negative");
    let mut n = 0;
    for case in std::fs::read_dir(&dir).expect("negative dir").flatten() {
        n += 1;
        let file = case.path().join("Dockerfile");
        let out = Command::new(support::bin())
            .args(["parse", "--format", "buildkit"])
            .arg(&file)
            .output()
            .expect("run dockreorder");
        assert_eq!(out.status.code(), Some(2), "{}", file.display());
        assert!(out.stdout.is_empty(), "{}: printed a dump", file.display());
        let err = String::from_utf8_lossy(&out.stderr);
        let prefix = format!("{}:", file.display());
        let rest = err
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("no path in {err:?}"));
        let mut parts = rest.splitn(3, ':');
        let line: usize = parts
            .next()
            .and_then(|l| l.parse().ok())
            .expect("line number");
        let col: usize = parts.next().and_then(|c| c.parse().ok()).expect("column");
        assert!(line >= 1 && col >= 1, "{err}");
    }
    assert_eq!(n, 4);
}

#[test]
fn negative_case_messages() {
    let cases = [
        ("", "file with no instructions"),
        ("# only\n\n# comments\n", "file with no instructions"),
        ("FROM a\nENV PATH\n", "ENV must have two arguments"),
        (
            "FROM a\nCMD [ \"echo\", [ \"nested json\" ] ]\n",
            "array of strings",
        ),
        ("FROM a\nRUN <<EOF\nnever closed\n", "unterminated heredoc"),
        ("# escape=x\nFROM a\n", "invalid escape token"),
        (
            "# escape=\\\n# ESCAPE=`\nFROM a\n",
            "only one escape parser directive",
        ),
        ("FROM a\nLABEL a=b c\n", "can't find = in \"c\""),
    ];
    for (text, message) in cases {
        let p = syntax::parse(text);
        assert!(
            p.errors.iter().any(|e| e.message.contains(message)),
            "{text:?}: {:?}",
            p.errors
        );
        let joined: String = p.items.iter().map(|i| i.span.text(text)).collect();
        assert_eq!(joined, text, "errors must not lose bytes");
    }
}

#[test]
fn testfile_line_numbers() {
    let Some(corpus) = support::corpus() else {
        return;
    };
    let text = read(&corpus.join("buildkit-parser/testfile-line/Dockerfile"));
    let p = syntax::parse(&text);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let ranges: Vec<(usize, usize)> = p
        .instructions()
        .map(|(item, _)| (item.lines.start, item.lines.end))
        .collect();
    assert_eq!(ranges, vec![(5, 5), (11, 12), (17, 31)]);
    assert_eq!(ranges.first().map(|r| r.0), Some(5), "root start");
    assert_eq!(ranges.last().map(|r| r.1), Some(31), "root end");
}

fn check_heredoc_expectations(case: &str) {
    let Some(corpus) = support::corpus() else {
        return;
    };
    let dir = corpus.join("buildkit-parser/derived").join(case);
    let text = read(&dir.join("Dockerfile"));
    let expected: Value = serde_json::from_str(&read(&dir.join("expected.json"))).expect("json");
    let p = syntax::parse(&text);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let instructions: Vec<_> = p.instructions().collect();
    let children = expected["children"].as_array().expect("children");
    assert!(!children.is_empty());
    for child in children {
        let idx = child["child"].as_u64().expect("child index") as usize;
        let (item, ins) = instructions[idx];
        let first_line = item.span.text(&text).lines().next().unwrap_or("");
        assert_eq!(
            first_line,
            child["instruction_first_line"]
                .as_str()
                .expect("first line"),
            "child {idx}"
        );
        match &child["heredocs"] {
            Value::Null => assert!(ins.heredocs.is_empty(), "child {idx}: {:?}", ins.heredocs),
            Value::Array(docs) => {
                assert_eq!(docs.len(), ins.heredocs.len(), "child {idx}");
                for (want, got) in docs.iter().zip(&ins.heredocs) {
                    assert_eq!(
                        want["name"].as_str(),
                        Some(got.name.as_str()),
                        "child {idx}"
                    );
                    assert_eq!(want["file_descriptor"].as_u64(), Some(got.file_descriptor));
                    assert_eq!(want["expand"].as_bool(), Some(got.expand), "child {idx}");
                    assert_eq!(want["chomp"].as_bool(), Some(got.chomp), "child {idx}");
                    assert_eq!(
                        want["content"].as_str(),
                        Some(got.content.as_str()),
                        "child {idx}"
                    );
                }
            }
            other => panic!("unexpected heredocs value {other}"),
        }
    }
}

#[test]
fn derived_heredoc_extract() {
    check_heredoc_expectations("heredoc-extract");
}

#[test]
fn derived_json_heredoc() {
    check_heredoc_expectations("json-heredoc");
}

#[test]
fn derived_empty_continuation_warnings() {
    let Some(corpus) = support::corpus() else {
        return;
    };
    let dir = corpus.join("buildkit-parser/derived/empty-continuation-warnings");
    let text = read(&dir.join("Dockerfile"));
    let expected: Value = serde_json::from_str(&read(&dir.join("expected.json"))).expect("json");
    let p = syntax::parse(&text);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(
        p.warnings.len() as u64,
        expected["warning_count"].as_u64().expect("count")
    );
    for (want, got) in expected["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .zip(&p.warnings)
    {
        for s in want["short_contains"].as_array().expect("short") {
            let s = s.as_str().expect("str");
            assert!(got.message.contains(s), "{:?} lacks {s:?}", got.message);
        }
    }
}

#[test]
fn derived_unit_vectors() {
    let Some(corpus) = support::corpus() else {
        return;
    };
    let v: Value = serde_json::from_str(&read(
        &corpus.join("buildkit-parser/derived/unit-vectors.json"),
    ))
    .expect("json");
    // Heredoc names found in whole lines (the vacuous upstream case is
    // checked as BuildKit's lexer really behaves: no heredoc).
    for case in v["heredocs_from_line"]["cases"].as_array().expect("cases") {
        let line = case["line"].as_str().expect("line");
        let terminators: Vec<&str> = case["names"]
            .as_array()
            .expect("names")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let text = format!("FROM a\n{line}\n{}\n", terminators.join("\n"));
        let p = syntax::parse(&text);
        let (_, ins) = p.instructions().nth(1).expect("second instruction");
        let names: Vec<&str> = ins.heredocs.iter().map(|h| h.name.as_str()).collect();
        if case["vacuous_in_upstream_test"].as_bool() == Some(true) {
            assert!(names.is_empty(), "{line}: {names:?}");
            continue;
        }
        let want: Vec<&str> = case["names"]
            .as_array()
            .expect("names")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        // A heredoc that is found swallows the following lines; only the
        // names matter here, and the test body has none to swallow.
        assert_eq!(names, want, "{line}");
    }
    // JSON arrays.
    for case in v["json_arrays"]["valid"].as_array().expect("valid") {
        let input = case["input"].as_str().expect("input");
        let p = syntax::parse(&format!("CMD {input}\n"));
        let (_, ins) = p.instructions().next().expect("instruction");
        assert!(ins.node.json || input.trim() == "[]", "{input}");
        let want: Vec<&str> = case["expect"]
            .as_array()
            .expect("expect")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let got: Vec<&str> = ins.node.str_args().collect();
        assert_eq!(got, want, "{input}");
    }
    for input in v["json_arrays"]["invalid_not_string_array"]
        .as_array()
        .expect("invalid")
    {
        let input = input.as_str().expect("input");
        let p = syntax::parse(&format!("CMD {input}\n"));
        assert!(!p.errors.is_empty(), "{input} must be an error");
    }
    // Directives.
    for case in v["directives"]["parse_all"].as_array().expect("parse_all") {
        let input = case["input"].as_str().expect("input");
        let p = syntax::parse(&format!("{input}FROM a\n"));
        let want: Vec<(String, String)> = case["expect"]
            .as_array()
            .expect("expect")
            .iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap_or_default().to_string(),
                    d["value"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let got: Vec<(String, String)> = p
            .directives
            .iter()
            .map(|d| (d.name.clone(), d.value.clone()))
            .collect();
        assert_eq!(got, want, "{input:?}");
    }
    // Word splitting (ARG keeps quotes and escapes in its words).
    for case in v["parse_words"]["cases"].as_array().expect("cases") {
        let input = case["input"].as_str().expect("input");
        let p = syntax::parse(&format!("ARG {input}\n"));
        let (_, ins) = p.instructions().next().expect("instruction");
        let want: Vec<&str> = case["expect"]
            .as_array()
            .expect("expect")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let got: Vec<&str> = ins.node.str_args().collect();
        assert_eq!(got, want, "{input}");
    }
}

#[test]
fn scanner_line_limit() {
    let ok = format!("FROM a\nLABEL x={}\n", "a".repeat(65_526));
    assert!(
        syntax::parse(&ok).errors.is_empty(),
        "a 65,536-byte line fits"
    );
    let long = format!("FROM a\nLABEL x={}\n", "a".repeat(65_536));
    let p = syntax::parse(&long);
    assert!(
        p.errors.iter().any(|e| e.message
            == "dockerfile line greater than max allowed size of 65535"
            && e.line == 2),
        "{:?}",
        p.errors
    );
}

#[test]
fn bom_is_stripped_from_the_first_line_only() {
    let text = "\u{FEFF}# syntax = myfrontend\nFROM busybox\n";
    let p = syntax::parse(text);
    assert!(p.errors.is_empty());
    assert_eq!(p.directives.len(), 1);
    assert_eq!(p.directives[0].value, "myfrontend");
    assert!(matches!(p.items[0].kind, ItemKind::Bom));
}
