//! A Dockerfile's text and the byte-level facts a rewrite must keep: the
//! line ending style, the UTF-8 byte-order mark and the final newline.
//! They are detected once, here; every rewrite reproduces them.

use crate::diagnostic::Diagnostic;
use serde::Serialize;

/// The line ending style of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    Lf,
    Crlf,
    /// Both occur; new lines are written with the more frequent one.
    Mixed,
}

/// The text of a Dockerfile plus its byte-level style.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    /// The whole file, BOM included, as UTF-8.
    pub text: String,
    pub line_ending: LineEnding,
    pub bom: bool,
    pub final_newline: bool,
}

pub const BOM: &str = "\u{FEFF}";

/// The encoding, when `bytes` are UTF-16 or UTF-32: by the byte-order mark,
/// or (without one) by NUL bytes next to ASCII in the first line, which
/// UTF-8 text never has.
fn utf16_or_32(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xff, 0xfe, 0, 0, ..] => return Some("UTF-32 (little-endian)"),
        [0, 0, 0xfe, 0xff, ..] => return Some("UTF-32 (big-endian)"),
        [0xff, 0xfe, ..] => return Some("UTF-16 (little-endian)"),
        [0xfe, 0xff, ..] => return Some("UTF-16 (big-endian)"),
        _ => {}
    }
    match bytes {
        [a, 0, b, 0, ..] if a.is_ascii() && *a != 0 && b.is_ascii() => {
            Some("UTF-16 (little-endian)")
        }
        [0, a, 0, b, ..] if a.is_ascii() && *a != 0 && b.is_ascii() => Some("UTF-16 (big-endian)"),
        _ => None,
    }
}

impl SourceFile {
    /// Decodes `bytes` as UTF-8. Invalid UTF-8 is an error located at the
    /// first bad byte (BuildKit would read it, but nothing we rewrite can
    /// safely carry undecodable bytes around).
    pub fn from_bytes(path: impl Into<String>, bytes: Vec<u8>) -> Result<Self, Diagnostic> {
        if let Some(enc) = utf16_or_32(&bytes) {
            return Err(Diagnostic::new(
                1,
                1,
                format!(
                    "the file is {enc}, not UTF-8: save it as UTF-8 (BuildKit reads UTF-8 too)"
                ),
            ));
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Self::from_text(path, text)),
            Err(err) => {
                let bytes = err.as_bytes();
                let bad = err.utf8_error().valid_up_to();
                let before = &bytes[..bad];
                let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                let line_start = before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let column = String::from_utf8_lossy(&before[line_start..])
                    .chars()
                    .count()
                    + 1;
                Err(Diagnostic::new(
                    line,
                    column,
                    format!(
                        "invalid UTF-8 (byte 0x{:02x}); is this a Dockerfile?",
                        bytes[bad]
                    ),
                ))
            }
        }
    }

    pub fn from_text(path: impl Into<String>, text: String) -> Self {
        let bom = text.starts_with(BOM);
        let crlf = text.matches("\r\n").count();
        let lf = text.matches('\n').count() - crlf;
        let line_ending = match (lf, crlf) {
            (_, 0) => LineEnding::Lf,
            (0, _) => LineEnding::Crlf,
            _ => LineEnding::Mixed,
        };
        let final_newline = text.ends_with('\n');
        SourceFile {
            path: path.into(),
            text,
            line_ending,
            bom,
            final_newline,
        }
    }

    /// The newline to use for inserted lines.
    pub fn newline(&self) -> &'static str {
        newline_for(&self.text)
    }
}

/// The newline for lines inserted into `text`: its majority line ending.
pub fn newline_for(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    if crlf > lf { "\r\n" } else { "\n" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xff, 0xfe] } else { Vec::new() };
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    #[test]
    fn utf16_is_named() {
        for bytes in [utf16le("FROM x\n", true), utf16le("FROM x\n", false)] {
            let e = SourceFile::from_bytes("D", bytes).unwrap_err();
            assert!(e.message.contains("UTF-16 (little-endian)"), "{e}");
        }
        let be: Vec<u8> = [0xfe, 0xff, 0, b'F'].to_vec();
        assert!(
            SourceFile::from_bytes("D", be)
                .unwrap_err()
                .message
                .contains("UTF-16 (big-endian)")
        );
        // Other invalid UTF-8 keeps its located message.
        let e = SourceFile::from_bytes("D", b"FROM x\n\xffy".to_vec()).unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("invalid UTF-8"), "{e}");
        assert!(SourceFile::from_bytes("D", b"FROM x\n".to_vec()).is_ok());
    }
}
