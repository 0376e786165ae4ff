//! Diagnostics: every problem a stage finds, with a position in a source file, a message and a hint.
//!
//! Stages never print; they return `Diagnostic`s. One renderer turns them into terminal text (with the
//! source line and a caret, via codespan-reporting), JSON for editors and CI, or plain text for the
//! browser overlay of `serve`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};
use serde::Serialize;

/// How bad a problem is. Errors fail a build; warnings are printed and the build goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A source file's text shared between the diagnostics that point into it.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path shown to the user, relative to the site root where possible.
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl Source {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        Source {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// One problem found in the site.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Whose problem it is: the site's content, or the setup around it (decides the exit code).
    pub kind: ErrorKind,
    /// A short stable name for the kind of problem, e.g. `unknown-ref`.
    pub code: &'static str,
    pub message: String,
    /// The file the problem is in, if any.
    pub file: Option<PathBuf>,
    /// Where in the file: the text and a byte range into it.
    pub span: Option<(Arc<str>, Range<usize>)>,
    /// How to fix it.
    pub help: Option<String>,
}

/// Whose problem a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Something in the site: a page, a template, site.yaml's contents.
    Content,
    /// Something around it: the disk, the command line, the output folder.
    Setup,
}

impl Diagnostic {
    /// An error with no file attached (I/O on the output folder, a bad command line value...).
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            kind: ErrorKind::Content,
            code,
            message: message.into(),
            file: None,
            span: None,
            help: None,
        }
    }

    /// An error of the setup rather than of the site's content: a file that cannot be read or
    /// written, no site.yaml, an output folder that is refused or busy. `fieldbook` exits with 2
    /// when every error is one of these, with 1 when the content has errors.
    pub fn setup(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            kind: ErrorKind::Setup,
            ..Diagnostic::error(code, message)
        }
    }

    /// A warning with no file attached.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Attach a file without a position (the whole file is concerned).
    pub fn in_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Attach a position: a byte range into a source.
    pub fn at(mut self, source: &Source, range: Range<usize>) -> Self {
        let len = source.text.len();
        let start = floor_char_boundary(&source.text, range.start.min(len));
        let end = floor_char_boundary(&source.text, range.end.clamp(start, len));
        self.file = Some(source.path.clone());
        self.span = Some((source.text.clone(), start..end));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column (in characters) of the start of the span.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let (text, range) = self.span.as_ref()?;
        Some(line_col(text, range.start))
    }

    /// `file:line:column`, or as much of it as is known.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        Some(match self.line_col() {
            Some((l, c)) => format!("{}:{l}:{c}", display_path(file)),
            None => display_path(file),
        })
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// 1-based line and column (counted in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Byte offset of a 1-based line and column; clamps to the text.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for _ in 1..line {
        match text[offset..].find('\n') {
            Some(i) => offset += i + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[offset..];
    let line_end = line_text.find('\n').unwrap_or(line_text.len());
    offset
        + line_text[..line_end]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line_end, |(i, _)| i)
}

fn display_path(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// Sort diagnostics by file and position so that output is stable whatever the thread order.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (
            &a.file,
            a.span.as_ref().map(|s| s.1.start),
            a.severity,
            &a.message,
        )
            .cmp(&(
                &b.file,
                b.span.as_ref().map(|s| s.1.start),
                b.severity,
                &b.message,
            ))
    });
}

/// Render diagnostics for a terminal: the message, `--> file:line:col`, the source line with a caret,
/// and the hint. `color` turns ANSI colours on.
pub fn render_terminal(diags: &[Diagnostic], color: bool) -> String {
    let bytes = if color {
        let mut w = termcolor::Ansi::new(Vec::new());
        emit_all(&mut w, diags);
        w.into_inner()
    } else {
        let mut w = termcolor::NoColor::new(Vec::new());
        emit_all(&mut w, diags);
        w.into_inner()
    };
    String::from_utf8_lossy(&bytes).into_owned()
}

fn emit_all<W: termcolor::WriteColor>(out: &mut W, diags: &[Diagnostic]) {
    let config = term::Config::default();
    for d in diags {
        let name = d.file.as_deref().map(display_path).unwrap_or_default();
        let text: &str = d.span.as_ref().map(|(t, _)| &**t).unwrap_or("");
        let file = SimpleFile::new(name, text);
        let mut cs = match d.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        }
        .with_code(d.code)
        .with_message(&d.message);
        if let Some((_, range)) = &d.span {
            cs = cs.with_labels(vec![Label::primary((), range.clone())]);
        } else if let Some(f) = &d.file {
            cs = cs.with_notes(vec![format!("in {}", display_path(f))]);
        }
        if let Some(help) = &d.help {
            cs = cs.with_notes(vec![format!("help: {help}")]);
        }
        // Writing into a Vec cannot fail; if rendering does, fall back to one plain line.
        if term::emit_to_write_style(out, &config, &file, &cs).is_err() {
            let _ = writeln!(out, "error[{}]: {}", d.code, d.message);
        }
    }
}

/// The JSON shape of one diagnostic, for `check --format json`.
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub severity: Severity,
    pub code: &'a str,
    pub message: &'a str,
    pub help: Option<&'a str>,
}

impl<'a> From<&'a Diagnostic> for JsonDiagnostic<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        let lc = d.line_col();
        JsonDiagnostic {
            file: d.file.as_deref().map(display_path),
            line: lc.map(|x| x.0),
            column: lc.map(|x| x.1),
            severity: d.severity,
            code: d.code,
            message: &d.message,
            help: d.help.as_deref(),
        }
    }
}

/// Render diagnostics as a JSON array.
pub fn render_json(diags: &[Diagnostic]) -> String {
    let items: Vec<JsonDiagnostic> = diags.iter().map(JsonDiagnostic::from).collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let t = "ab\ncdé f\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, t.find('f').unwrap()), (2, 5));
        assert_eq!(offset_of(t, 2, 5), t.find('f').unwrap());
    }

    #[test]
    fn terminal_output_names_file_line_and_hint() {
        let src = Source::new("content/a.md", "---\ntitle: [\n---\n");
        let d = Diagnostic::error("yaml", "bad yaml")
            .at(&src, 11..12)
            .with_help("close the bracket");
        let out = render_terminal(&[d], false);
        assert!(out.contains("content/a.md:2:8"), "{out}");
        assert!(out.contains("help: close the bracket"), "{out}");
        assert!(out.contains("title: ["), "{out}");
    }
}
