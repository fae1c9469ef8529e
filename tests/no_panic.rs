//! No panic on any input: random text, and corpus-like text with random
//! mutations. The invariant is checked on every input too.

use dockreorder::syntax;
use proptest::prelude::*;

fn check(text: &str) {
    let p = syntax::parse(text);
    let joined: String = p.items.iter().map(|i| i.span.text(text)).collect();
    assert_eq!(joined, text);
    let _ = syntax::dump_buildkit(&p);
}

const PIECES: &[&str] = &[
    "FROM ",
    "RUN ",
    "COPY ",
    "ADD ",
    "ONBUILD ",
    "ENV ",
    "LABEL ",
    "ARG ",
    "CMD ",
    "HEALTHCHECK ",
    "# escape=`\n",
    "# syntax=x\n",
    "#",
    "\\",
    "`",
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "<<",
    "<<-",
    "EOF",
    "'",
    "\"",
    "[",
    "]",
    ",",
    "\"a\"",
    "--",
    "--mount=type=cache,target=/x ",
    "=",
    "$",
    "${",
    "}",
    ":-",
    "\u{FEFF}",
    "\u{A0}",
    "é",
    "1",
    "{",
    "null",
    "1e999",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text(s in "\\PC*") {
        check(&s);
    }

    #[test]
    fn dockerfile_like_pieces(v in proptest::collection::vec(0..PIECES.len(), 0..60)) {
        let text: String = v.into_iter().map(|i| PIECES[i]).collect();
        check(&text);
    }

    #[test]
    fn mutated_sample(cut in 0usize..400, insert in 0..PIECES.len(), seed in any::<u64>()) {
        let base = "# syntax=docker/dockerfile:1\nFROM alpine AS build\nRUN <<EOF\necho hi\nEOF\nCOPY --chown=1:1 [\"a b\", \"/c\"]\nENV A=1 B=\"2 3\"\nRUN apt-get update && \\\n    # comment\n\n    apt-get install -y x\nONBUILD RUN <<-X cat\n\tX\nHEALTHCHECK --interval=5s CMD [\"true\"]\n";
        let mut text = base.to_string();
        let mut at = cut.min(text.len());
        while !text.is_char_boundary(at) { at -= 1; }
        text.insert_str(at, PIECES[insert]);
        if seed % 3 == 0 {
            let end = (at + (seed as usize % 7)).min(text.len());
            let mut end2 = end;
            while !text.is_char_boundary(end2) { end2 -= 1; }
            text.replace_range(at..end2.max(at), "");
        }
        check(&text);
    }
}

#[test]
fn deep_json_nesting_does_not_overflow() {
    let deep = format!("CMD {}{}\n", "[".repeat(50_000), "]".repeat(50_000));
    check(&deep);
    let deep2 = format!("CMD {}\"a\"{}\n", "[".repeat(5_000), "]".repeat(5_000));
    let p = syntax::parse(&deep2);
    assert!(
        !p.errors.is_empty(),
        "valid nested JSON is BuildKit's hard error"
    );
}

#[test]
fn deep_substitution_nesting_does_not_overflow() {
    let text = format!("RUN <<{}\n", "${a:-".repeat(20_000));
    check(&text);
}

const LINES: &[&str] = &[
    "FROM base\n",
    "FROM base AS build\n",
    "WORKDIR /app\n",
    "WORKDIR $HOME\n",
    "COPY . .\n",
    "COPY package.json package-lock.json ./\n",
    "COPY --from=build /out /usr/bin/\n",
    "COPY src/ ./src/\n",
    "RUN npm ci\n",
    "RUN pip install -r requirements.txt\n",
    "RUN apt-get update\n",
    "RUN apt-get install -y curl\n",
    "RUN echo hi > /etc/motd\n",
    "RUN make\n",
    "RUN cd sub && npm ci\n",
    "ENV A=1\n",
    "ARG V\n",
    "USER app\n",
    "SHELL [\"/bin/sh\", \"-c\"]\n",
    "CMD [\"x\"]\n",
    "# dockreorder: keep\n",
    "# comment\n",
    "\n",
    "RUN <<EOF\necho x\nEOF\n",
    "RUN chmod +x ./*\n",
    "ADD https://example.com/x /x\n",
    "VOLUME /data\n",
    "RUN --mount=type=cache,target=/root/.npm npm ci\n",
    "# dockreorder: reads=a.txt,b/c\n",
    "RUN ./build.sh\n",
    "ONBUILD RUN x\n",
    "HEALTHCHECK CMD true\n",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    /// The whole pipeline (model, effects, plans, rewrite, verification)
    /// never panics, and whatever it outputs parses.
    #[test]
    fn rewrite_never_panics(v in proptest::collection::vec(0..LINES.len(), 0..24), crlf in any::<bool>()) {
        let mut text: String = v.into_iter().map(|i| LINES[i]).collect();
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        let opts = dockreorder::plan::Options::new(dockreorder::plan::Applicability::Unsafe);
        for ctx in [None, Some(context())] {
            if let Ok(out) = dockreorder::rewrite::rewrite(&text, ctx, opts) {
                prop_assert!(syntax::parse(&out.new_text).errors.is_empty() || out.new_text == text);
                let again = dockreorder::rewrite::rewrite(&out.new_text, ctx, opts).map(|o| o.new_text);
                prop_assert_eq!(again.as_deref().unwrap_or(out.new_text.as_str()), out.new_text.as_str());
            }
        }
    }
}

/// A build context shared by the property tests (created once).
fn context() -> &'static dockreorder::analysis::context::Context {
    static CTX: std::sync::OnceLock<(tempfile::TempDir, dockreorder::analysis::context::Context)> =
        std::sync::OnceLock::new();
    &CTX.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        for (f, t) in [
            ("package.json", "{}"),
            ("package-lock.json", "{}"),
            ("requirements.txt", "flask\n"),
            ("a.txt", "a"),
            ("b/c", "c"),
            ("src/x.js", "x"),
            (".dockerignore", "node_modules\n"),
        ] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, t).expect("write");
        }
        let ctx = dockreorder::analysis::context::Context::new(dir.path().to_path_buf(), None);
        (dir, ctx)
    })
    .1
}
