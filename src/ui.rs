//! Terminal styling: colours (via `console`) that honour `NO_COLOR`, `-no-color` and non-TTY output.
//!
//! Owns how text looks, not what it says.

use console::Style as ConsoleStyle;

#[derive(Clone, Debug)]
pub struct Style {
    colors: bool,
}

impl Style {
    /// Colours when stdout is a terminal, `NO_COLOR` is unset and `-no-color` was not given.
    pub fn detect(no_color_flag: bool) -> Style {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style { colors: !no_color_flag && !no_color_env && console::Term::stdout().features().colors_supported() }
    }

    fn paint(&self, style: ConsoleStyle, text: &str) -> String {
        if self.colors {
            style.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_owned()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(ConsoleStyle::new().bold(), text)
    }

    pub fn error(&self, text: &str) -> String {
        self.paint(ConsoleStyle::new().red().bold(), text)
    }

    pub fn warning(&self, text: &str) -> String {
        self.paint(ConsoleStyle::new().yellow().bold(), text)
    }

    pub fn added(&self, text: &str) -> String {
        self.paint(ConsoleStyle::new().green(), text)
    }

    pub fn removed(&self, text: &str) -> String {
        self.paint(ConsoleStyle::new().red(), text)
    }

    pub fn changed(&self, text: &str) -> String {
        self.paint(ConsoleStyle::new().yellow(), text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint(ConsoleStyle::new().dim(), text)
    }
}
