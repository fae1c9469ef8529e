//! Errors and warnings as values, each with a 1-based line and column.
//! Rendering as `path:line:column: message` is the caller's job, because the
//! parser does not know (or need) the path.

use serde::Serialize;
use std::fmt;

/// A problem found in a Dockerfile, located at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Diagnostic {
    pub fn new(line: usize, column: usize, message: impl Into<String>) -> Self {
        Diagnostic {
            line: line.max(1),
            column: column.max(1),
            message: message.into(),
        }
    }

    /// `path:line:column: message`, the format every error is shown in.
    pub fn with_path(&self, path: &str) -> String {
        format!("{path}:{}:{}: {}", self.line, self.column, self.message)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}
