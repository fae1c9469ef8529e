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

impl SourceFile {
    /// Decodes `bytes` as UTF-8. Invalid UTF-8 is an error located at the
    /// first bad byte (BuildKit would read it, but nothing we rewrite can
    /// safely carry undecodable bytes around).
    pub fn from_bytes(path: impl Into<String>, bytes: Vec<u8>) -> Result<Self, Diagnostic> {
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
        let crlf = self.text.matches("\r\n").count();
        let lf = self.text.matches('\n').count() - crlf;
        if crlf > lf { "\r\n" } else { "\n" }
    }
}
