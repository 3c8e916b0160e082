//! Apply's progress lines, one per resource event, in Terraform's wording.
//!
//! Owns how progress is shown: with a terminal on stdout, one spinner per running change with its
//! elapsed time (indicatif), finished lines printed above the spinners; without one (CI logs,
//! pipes, tests), plain lines, a "Still creating..." line every few seconds included. It must not
//! decide anything about the apply: it only watches the executor's events.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use strata_provider_sdk::Action;

use crate::addrs::ResourceInstance;
use crate::apply::Event;
use crate::ui::Style;

/// How often a spinner redraws.
const SPINNER_TICK: Duration = Duration::from_millis(120);

pub struct Progress<'s> {
    style: &'s Style,
    /// Present when stdout is a terminal.
    live: Option<Spinners>,
}

struct Spinners {
    bars: MultiProgress,
    running: RefCell<BTreeMap<ResourceInstance, ProgressBar>>,
}

impl<'s> Progress<'s> {
    /// Spinners when stdout is a terminal, plain lines otherwise.
    pub fn detect(style: &'s Style) -> Progress<'s> {
        let live = std::io::stdout().is_terminal().then(|| Spinners { bars: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()), running: RefCell::default() });
        Progress { style, live }
    }

    pub fn observe(&self, event: &Event<'_>) {
        match &self.live {
            Some(spinners) => spinners.observe(event, self.style),
            None => println!("{}", event_line(event, self.style)),
        }
    }
}

impl Spinners {
    fn observe(&self, event: &Event<'_>, style: &Style) {
        match event {
            Event::Started { address, .. } => {
                let spinner = self.bars.add(ProgressBar::new_spinner());
                spinner.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| ProgressStyle::default_spinner()));
                spinner.set_message(event_line(event, style));
                spinner.enable_steady_tick(SPINNER_TICK);
                self.running.borrow_mut().insert((*address).clone(), spinner);
            }
            // The spinner shows the elapsed time already; a change's own progress goes beside it.
            Event::StillRunning { address, action, detail: Some(detail), .. } => {
                if let Some(spinner) = self.running.borrow().get(*address) {
                    spinner.set_message(format!("{} {detail}", event_line(&Event::Started { address, action: *action }, style)));
                }
            }
            Event::StillRunning { .. } => {}
            Event::Finished { address, .. } | Event::Failed { address, .. } => {
                if let Some(spinner) = self.running.borrow_mut().remove(*address) {
                    spinner.finish_and_clear();
                    self.bars.remove(&spinner);
                }
                // Printing fails only when stdout is gone, and then there is no one to tell.
                let _ = self.bars.println(event_line(event, style));
            }
        }
    }
}

/// The line for one event: `postgres_table.users: Creation complete after 0.1s [id=public.users]`.
fn event_line(event: &Event<'_>, style: &Style) -> String {
    let action = match event {
        Event::Started { action, .. } | Event::Finished { action, .. } | Event::StillRunning { action, .. } | Event::Failed { action, .. } => *action,
    };
    let (doing, done, still) = match action {
        Action::Create => ("Creating...", "Creation complete", "Still creating..."),
        Action::Update => ("Modifying...", "Modifications complete", "Still modifying..."),
        Action::Replace => ("Replacing...", "Replacement complete", "Still replacing..."),
        Action::Delete => ("Destroying...", "Destruction complete", "Still destroying..."),
        Action::NoOp => ("Reading...", "Read complete", "Still reading..."),
    };
    match event {
        Event::Started { address, .. } => format!("{}: {doing}", style.bold(&address.to_string())),
        Event::Finished { address, elapsed, id, .. } => {
            let id = id.as_ref().map(|id| format!(" [id={id}]")).unwrap_or_default();
            format!("{}: {done} after {:.1}s{id}", style.bold(&address.to_string()), elapsed.as_secs_f64())
        }
        Event::StillRunning { address, elapsed, detail, .. } => {
            let detail = detail.as_ref().map(|d| format!(" {d}")).unwrap_or_default();
            format!("{}: {still} [{}s elapsed]{detail}", style.bold(&address.to_string()), elapsed.as_secs())
        }
        Event::Failed { address, .. } => format!("{}: {}", style.bold(&address.to_string()), style.error("failed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_still_running_line_carries_the_changes_own_progress() {
        let style = Style::detect(true);
        let address = crate::addrs::ConfigResource::managed("postgres_backup_policy", "nightly").single_instance();
        let still = |detail: Option<&str>| event_line(&Event::StillRunning { address: &address, action: Action::Update, elapsed: Duration::from_secs(20), detail: detail.map(str::to_owned) }, &style);
        assert_eq!(still(Some("(pg_dump: 412 table(s) done, 38.2 MB written)")), "postgres_backup_policy.nightly: Still modifying... [20s elapsed] (pg_dump: 412 table(s) done, 38.2 MB written)");
        assert_eq!(still(None), "postgres_backup_policy.nightly: Still modifying... [20s elapsed]");
    }
}
