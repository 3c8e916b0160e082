//! Diagnostics: every error and warning a user sees, with where it comes from and what to do.
//!
//! Owns the [`Diagnostic`] type, source locations (file:line:column) and how they are printed,
//! with the offending source line. It must not decide what is an error: callers do.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A place in a configuration file; line and column count from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<Path>,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `source` (scans it: for one location; a file that needs
    /// many indexes its lines once with `LineIndex`).
    pub fn from_offset(file: &Arc<Path>, source: &str, offset: usize) -> Location {
        LineIndex::new(source).location(file, source, offset)
    }
}

/// Where each line of a source starts, found in one pass, so that each location after that costs
/// a binary search and a walk along one line instead of a scan from the start of the file.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(source: &str) -> LineIndex {
        let newlines = source.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1);
        LineIndex { starts: std::iter::once(0).chain(newlines).collect() }
    }

    /// The location of byte `offset` in `source`, the text this index was made from.
    pub fn location(&self, file: &Arc<Path>, source: &str, offset: usize) -> Location {
        let offset = floor_char_boundary(source, offset);
        let line = self.starts.partition_point(|start| *start <= offset);
        let line_start = self.starts[line - 1];
        let column = source[line_start..offset].chars().count() + 1;
        Location { file: Arc::clone(file), line, column }
    }
}

fn floor_char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One error or warning.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub location: Option<Location>,
    pub detail: Option<String>,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, summary: summary.into(), location: None, detail: None, hint: None }
    }

    pub fn warning(summary: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(summary) }
    }

    pub fn at(mut self, location: Option<&Location>) -> Diagnostic {
        if self.location.is_none() {
            self.location = location.cloned();
        }
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Diagnostic {
        self.detail = Some(detail.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// One or more diagnostics: the error type of everything user-facing in the engine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err(self)` when any diagnostic is an error; the warnings alone otherwise.
    pub fn into_result(self) -> std::result::Result<Diagnostics, Diagnostics> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok(self)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Diagnostics {
        Diagnostics(vec![diagnostic])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.0 {
            writeln!(f, "{}", diagnostic.summary)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

pub type Result<T> = std::result::Result<T, Diagnostics>;

/// The text of every configuration file read (for the configuration's digest).
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: BTreeMap<PathBuf, Arc<str>>,
}

impl Sources {
    pub fn insert(&mut self, path: &Path, text: Arc<str>) {
        self.files.insert(path.to_path_buf(), text);
    }

    pub fn extend(&mut self, other: Sources) {
        self.files.extend(other.files);
    }

    pub fn texts(&self) -> impl Iterator<Item = (&PathBuf, &Arc<str>)> {
        self.files.iter()
    }
}

/// Prints diagnostics the way a compiler does: severity and summary, `--> file:line:column`, the
/// source line with a caret, then detail and hint.
pub fn render(diagnostic: &Diagnostic, style: &crate::ui::Style) -> String {
    let mut out = String::new();
    let label = match diagnostic.severity {
        Severity::Error => style.error("Error"),
        Severity::Warning => style.warning("Warning"),
    };
    out.push_str(&format!("{label}: {}\n", style.bold(&diagnostic.summary)));
    if let Some(location) = &diagnostic.location {
        out.push_str(&format!("  --> {location}\n"));
        if let Some(line) = source_line(location) {
            let number = location.line.to_string();
            let pad = " ".repeat(number.len());
            let caret_pad: String = line.chars().take(location.column.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            out.push_str(&format!("{pad} |\n{number} | {line}\n{pad} | {caret_pad}^\n"));
        }
    }
    if let Some(detail) = &diagnostic.detail {
        for line in detail.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if let Some(hint) = &diagnostic.hint {
        out.push_str(&format!("  = hint: {hint}\n"));
    }
    out
}

/// The offending line, read again from the file (diagnostics are printed once, on the way out).
fn source_line(location: &Location) -> Option<String> {
    let text = std::fs::read_to_string(&*location.file).ok()?;
    text.lines().nth(location.line.checked_sub(1)?).map(str::to_owned)
}

/// The candidate closest to `name`, if any is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// "did you mean X?" when a close candidate exists, else the list of valid names.
pub fn suggestion<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str> + Clone) -> String {
    match closest(name, candidates.clone()) {
        Some(best) => format!("did you mean \"{best}\"?"),
        None => {
            let all: Vec<&str> = candidates.into_iter().collect();
            if all.is_empty() {
                "nothing is accepted here".to_owned()
            } else {
                format!("valid names are: {}", all.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_lines_and_columns_from_one() {
        let file: Arc<Path> = Arc::from(Path::new("main.tf"));
        let location = Location::from_offset(&file, "a = 1\n  bb = 2\n", 8);
        assert_eq!((location.line, location.column), (2, 3));
    }

    #[test]
    fn an_index_gives_the_same_locations_as_a_scan() {
        let file: Arc<Path> = Arc::from(Path::new("main.tf"));
        let source = "a = 1\n\n  é = \"ü\"\nlast";
        let index = LineIndex::new(source);
        for offset in 0..=source.len() + 3 {
            let before = &source[..floor_char_boundary(source, offset)];
            let line = before.matches('\n').count() + 1;
            let column = before[before.rfind('\n').map_or(0, |i| i + 1)..].chars().count() + 1;
            let found = index.location(&file, source, offset);
            assert_eq!((found.line, found.column), (line, column), "offset {offset}");
        }
    }

    #[test]
    fn closest_finds_typos_only() {
        assert_eq!(closest("nmae", ["name", "type"]), Some("name"));
        assert_eq!(closest("zzz", ["name", "type"]), None);
    }
}
