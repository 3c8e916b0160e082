//! Readable diffs of long string values (a changed JSON policy, a long default expression, a view
//! body) with `similar`: a line diff with context for multi-line text and JSON, a word diff for one
//! long line, instead of printing both whole values.
//!
//! Owns deciding when a value is long enough to diff and the diff itself; it must not decide
//! colours or layout, which `render` and `markdown` do.

use similar::{ChangeTag, TextDiff};

/// Strings at least this long (or with a line break) are shown as a diff.
const LONG: usize = 80;
/// Unchanged lines kept around each changed one.
const CONTEXT: usize = 3;

/// One line of a line diff.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    Same(String),
    Removed(String),
    Added(String),
    /// Unchanged lines left out between two changed groups.
    Gap,
}

/// How a long value changed.
#[derive(Clone, Debug, PartialEq)]
pub enum TextChange {
    Lines(Vec<Line>),
    /// One line's words: unchanged, removed or added, in order.
    Words(Vec<(ChangeTag, String)>),
}

/// The diff of `old` against `new` when either is long or multi-line (JSON is pretty-printed
/// first, so a one-line policy diffs by line); `None` for short values, which read best whole.
pub fn diff(old: &str, new: &str) -> Option<TextChange> {
    if let (Some(old), Some(new)) = (pretty_json(old), pretty_json(new)) {
        return Some(TextChange::Lines(line_diff(&old, &new)));
    }
    if old.contains('\n') || new.contains('\n') {
        return Some(TextChange::Lines(line_diff(old, new)));
    }
    if old.len().max(new.len()) < LONG {
        return None;
    }
    let words = TextDiff::from_words(old, new);
    Some(TextChange::Words(words.iter_all_changes().map(|c| (c.tag(), c.value().to_owned())).collect()))
}

/// A JSON object or array laid out one member per line; `None` for anything else.
fn pretty_json(text: &str) -> Option<String> {
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) || text.len() < LONG && !text.contains('\n') {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    serde_json::to_string_pretty(&value).ok()
}

fn line_diff(old: &str, new: &str) -> Vec<Line> {
    let diff = TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for (index, group) in diff.grouped_ops(CONTEXT).iter().enumerate() {
        if index > 0 {
            lines.push(Line::Gap);
        }
        for change in group.iter().flat_map(|op| diff.iter_changes(op)) {
            let text = change.value().trim_end_matches('\n').to_owned();
            lines.push(match change.tag() {
                ChangeTag::Equal => Line::Same(text),
                ChangeTag::Delete => Line::Removed(text),
                ChangeTag::Insert => Line::Added(text),
            });
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_not_diffed() {
        assert_eq!(diff("now()", "clock_timestamp()"), None);
    }

    #[test]
    fn json_is_diffed_by_line() {
        let old = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:Describe*","Resource":"*"}]}"#;
        let new = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"rds:Describe*","Resource":"*"}]}"#;
        let Some(TextChange::Lines(lines)) = diff(old, new) else { panic!("expected a line diff") };
        assert!(lines.contains(&Line::Removed("      \"Effect\": \"Allow\",".into())), "{lines:?}");
        assert!(lines.contains(&Line::Added("      \"Effect\": \"Deny\",".into())), "{lines:?}");
    }

    #[test]
    fn one_long_line_is_diffed_by_word() {
        let old = "coalesce(current_setting('app.tenant', true), 'default-tenant-name-that-is-long')::text";
        let new = "coalesce(current_setting('app.tenant', true), 'another-tenant-name-that-is-long')::text";
        let Some(TextChange::Words(words)) = diff(old, new) else { panic!("expected a word diff") };
        assert!(words.iter().any(|(tag, _)| *tag == ChangeTag::Equal));
        assert!(words.iter().any(|(tag, _)| *tag == ChangeTag::Insert));
    }
}
