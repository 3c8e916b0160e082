//! How far a pg_dump or pg_restore is, read from its `--verbose` lines: the tables it has done
//! and, for a dump, the bytes it has written, reported as the change's progress line.

use std::path::Path;
use std::time::Duration;

use strata_provider_sdk::Progress;

use super::artefacts;

/// How often the line is brought up to date while the tool runs (a size is a stat, or a
/// directory walk for a directory dump).
pub const REPORT_EVERY: Duration = Duration::from_millis(500);

pub struct Watch<'a> {
    progress: &'a Progress,
    /// What the line says is running: `pg_dump`, `pg_restore`.
    doing: &'static str,
    /// The dump being written, whose size is shown.
    output: Option<&'a Path>,
    /// The tables there are to do, when known.
    of: usize,
    tables: usize,
}

impl<'a> Watch<'a> {
    pub fn dump(progress: &'a Progress, output: &'a Path, of: usize) -> Watch<'a> {
        Watch { progress, doing: "pg_dump", output: Some(output), of, tables: 0 }
    }

    pub fn restore(progress: &'a Progress, of: usize) -> Watch<'a> {
        Watch { progress, doing: "pg_restore", output: None, of, tables: 0 }
    }

    /// Takes one line of the tool's error output.
    pub fn line(&mut self, line: &str) {
        if table_begun(line) {
            self.tables += 1;
        }
    }

    /// Brings the progress line up to date.
    pub fn report(&self) {
        let written = self.output.and_then(|path| artefacts::size_of(path).ok()).map(|bytes| format!(", {:.1} MB written", bytes as f64 / 1_000_000.0)).unwrap_or_default();
        self.progress.report(format!("({}: table {} of {}{written})", self.doing, self.tables.min(self.of), self.of));
    }
}

/// Whether a `--verbose` line says the tool has come to a table's rows: one at a time (`dumping
/// contents of table`, `processing data for table`) or by a parallel worker (`finished item ...
/// TABLE DATA`).
fn table_begun(line: &str) -> bool {
    line.contains("dumping contents of table") || line.contains("processing data for table") || (line.contains("finished item") && line.contains("TABLE DATA"))
}

/// Whether a line of a tool's error output says what went wrong, rather than how far it is.
pub fn tells_a_failure(line: &str) -> bool {
    let lower = line.to_lowercase();
    ["error", "warning", "fatal", "detail", "hint", "could not", "cannot"].iter().any(|word| lower.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_counted_from_serial_and_parallel_lines() {
        let progress = Progress::default();
        let mut watch = Watch::restore(&progress, 3);
        for line in ["pg_restore: creating TABLE \"public.runs\"", "pg_restore: processing data for table \"public.runs\"", "pg_restore: finished item 3401 TABLE DATA metrics"] {
            watch.line(line);
        }
        watch.report();
        assert_eq!(progress.latest().as_deref(), Some("(pg_restore: table 2 of 3)"));
        assert!(tells_a_failure("pg_dump: error: query failed: ERROR:  permission denied for table runs"));
        assert!(!tells_a_failure("pg_dump: dumping contents of table \"public.runs\""));
    }
}
