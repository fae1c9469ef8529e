//! Fuzzes the lossless parser: it must never panic, its items must cover
//! the input byte for byte, and the BuildKit dump must not panic either.
//! `SourceFile::from_bytes` must turn any bytes into a value or an error.

#![no_main]

use dockreorder::source::SourceFile;
use dockreorder::syntax::{dump_buildkit, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // Arbitrary bytes, valid UTF-8 or not: an Ok or an Err, never a panic.
    if let Ok(source) = SourceFile::from_bytes("f", bytes.to_vec()) {
        assert_eq!(source.text.as_bytes(), bytes);
        let _ = source.newline();
    }

    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let parse = parse(text);

    // The items' spans, in order, concatenate to the input.
    let mut rebuilt = String::with_capacity(text.len());
    let mut pos = 0;
    for item in &parse.items {
        assert_eq!(
            item.span.start, pos,
            "item does not start where the previous one ended: {item:?}"
        );
        assert!(item.span.end >= item.span.start, "backwards span: {item:?}");
        assert!(
            text.get(item.span.start..item.span.end).is_some(),
            "span not on char boundaries or out of range: {item:?}"
        );
        rebuilt.push_str(item.span.text(text));
        pos = item.span.end;
    }
    assert_eq!(rebuilt, text, "items do not concatenate to the input");

    let _ = dump_buildkit(&parse);
});
