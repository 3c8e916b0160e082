//! Source formatting for `strata fmt`.
//!
//! This module owns exactly one job: turning HCL source text into its canonical
//! layout, in the style of `terraform fmt`. It must never evaluate, resolve or
//! validate configuration beyond "does this parse as HCL"; it only changes
//! whitespace between tokens.
//!
//! The rules (mirroring Terraform's `hclwrite` formatter):
//!
//! * two spaces of indentation per open bracket level (`{`, `[`, `(`, `${`);
//! * exactly one space around `=`, with the `=` of consecutive single-line
//!   attributes aligned (a blank line, a comment-only line, a block or a
//!   multi-line value ends the run); trailing comments on consecutive lines are
//!   aligned the same way;
//! * canonical spacing between tokens (`a + b`, `f(x, y)`, `[1, 2]`,
//!   `{ a = 1 }`, `a.b[0]`, `-1`, `!x`, `"${a}"`, block headers
//!   `type "label" "label" {`);
//! * line breaks, comments and heredoc bodies are kept exactly as written
//!   (only the indentation of a line and the spaces between its tokens change);
//! * no trailing whitespace (outside heredoc bodies, whose content is data), no
//!   blank lines at the start or end, and the file ends with exactly one newline.
//!
//! The input is first parsed with [`hcl::edit::parser::parse_body`], so invalid
//! HCL is reported as an error and the tokenizer below only ever sees valid HCL.
//! As a safety net the formatted text is parsed again and compared, ignoring
//! whitespace and comments, with the original; if they would differ the source
//! is returned unchanged rather than risk altering a configuration's meaning.
//!
//! Unlike `terraform fmt`, no Terraform-specific rewrites are performed
//! (`"${var.x}"` stays a template, `type = "string"` stays quoted): those change
//! expressions, not layout.

use hcl::edit::expr::{Array, FuncArgs, Object};
use hcl::edit::parser::{parse_body, Error};
use hcl::edit::structure::BlockLabel;
use hcl::edit::structure::Body;
use hcl::edit::template::{ElseTemplateExpr, EndforTemplateExpr, EndifTemplateExpr};
use hcl::edit::template::{ForTemplateExpr, HeredocTemplate, IfTemplateExpr};
use hcl::edit::visit::{self, Visit};
use hcl::edit::visit_mut::{self, VisitMut};
use hcl::edit::Decorated;
use hcl::edit::Span;
use std::collections::{HashMap, HashSet};

/// Formats HCL source text in the canonical `terraform fmt` style.
///
/// The result is idempotent: formatting already formatted text returns it
/// unchanged.
///
/// # Errors
///
/// Returns the parser error if `source` is not valid HCL.
pub fn format_source(source: &str) -> Result<String, Error> {
    let original = parse_body(source)?;
    let formatted = layout(source, &Landmarks::of(&original));
    if same_meaning(&original, &formatted) {
        Ok(formatted)
    } else {
        // The re-layout would change what the file means (this should not
        // happen for valid HCL; it guards against tokenizer corner cases).
        Ok(source.to_owned())
    }
}

/// Whether `formatted` parses to the same structure as `original`, ignoring
/// whitespace and comments.
fn same_meaning(original: &Body, formatted: &str) -> bool {
    let Ok(mut reparsed) = parse_body(formatted) else {
        return false;
    };
    let mut original = original.clone();
    StripLayout.visit_body_mut(&mut original);
    StripLayout.visit_body_mut(&mut reparsed);
    original == reparsed
}

/// Facts taken from the parsed syntax tree (by byte offset into the source)
/// that the tokenizer cannot reliably work out on its own.
#[derive(Default)]
struct Landmarks {
    /// Start -> end of every heredoc, so each one ends exactly where the
    /// parser ended it.
    heredocs: HashMap<usize, usize>,
    /// Starts of bare-identifier block labels (`foo bar {`), which are
    /// written quoted (`foo "bar" {`) as terraform fmt does.
    ident_labels: HashSet<usize>,
}

impl Landmarks {
    fn of(body: &Body) -> Landmarks {
        let mut landmarks = Landmarks::default();
        landmarks.visit_body(body);
        landmarks
    }
}

impl Visit for Landmarks {
    fn visit_heredoc_template(&mut self, node: &HeredocTemplate) {
        if let Some(span) = node.span() {
            self.heredocs.insert(span.start, span.end);
        }
        visit::visit_heredoc_template(self, node);
    }

    fn visit_block_label(&mut self, node: &BlockLabel) {
        if let BlockLabel::Ident(ident) = node {
            if let Some(span) = ident.span() {
                self.ident_labels.insert(span.start);
            }
        }
    }
}

/// Clears the raw whitespace/comment strings that `hcl-edit` keeps outside of
/// decor (and therefore includes in equality checks).
struct StripLayout;

impl VisitMut for StripLayout {
    fn visit_block_label_mut(&mut self, node: &mut BlockLabel) {
        // `foo bar {` and `foo "bar" {` mean the same.
        if let BlockLabel::Ident(ident) = node {
            *node = BlockLabel::String(Decorated::new(ident.as_str().to_owned()));
        }
    }

    fn visit_array_mut(&mut self, node: &mut Array) {
        node.set_trailing("");
        visit_mut::visit_array_mut(self, node);
    }

    fn visit_object_mut(&mut self, node: &mut Object) {
        node.set_trailing("");
        visit_mut::visit_object_mut(self, node);
    }

    fn visit_func_args_mut(&mut self, node: &mut FuncArgs) {
        node.set_trailing("");
        visit_mut::visit_func_args_mut(self, node);
    }

    fn visit_heredoc_template_mut(&mut self, node: &mut HeredocTemplate) {
        node.set_trailing("");
        visit_mut::visit_heredoc_template_mut(self, node);
    }

    fn visit_if_template_expr_mut(&mut self, node: &mut IfTemplateExpr) {
        node.set_preamble("");
        visit_mut::visit_if_template_expr_mut(self, node);
    }

    fn visit_else_template_expr_mut(&mut self, node: &mut ElseTemplateExpr) {
        node.set_preamble("");
        node.set_trailing("");
        visit_mut::visit_else_template_expr_mut(self, node);
    }

    fn visit_endif_template_expr_mut(&mut self, node: &mut EndifTemplateExpr) {
        node.set_preamble("");
        node.set_trailing("");
    }

    fn visit_for_template_expr_mut(&mut self, node: &mut ForTemplateExpr) {
        node.set_preamble("");
        // The stock walker does not descend into the collection expression.
        self.visit_expr_mut(&mut node.collection_expr);
        visit_mut::visit_for_template_expr_mut(self, node);
    }

    fn visit_endfor_template_expr_mut(&mut self, node: &mut EndforTemplateExpr) {
        node.set_preamble("");
        node.set_trailing("");
    }
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Number,
    /// Opening `"` of a quoted template.
    OQuote,
    /// Literal text inside a quoted template.
    QuotedLit,
    /// Closing `"` of a quoted template.
    CQuote,
    /// `${` or `${~`.
    TemplateInterp,
    /// `%{` or `%{~`.
    TemplateControl,
    /// `}` or `~}` closing an interpolation or directive.
    TemplateSeqEnd,
    /// A whole heredoc, from `<<EOT` through the closing delimiter (opaque).
    Heredoc,
    /// `# ...` or `// ...` (without its newline).
    LineComment,
    /// `/* ... */`, possibly spanning lines.
    BlockComment,
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    Comma,
    Dot,
    Ellipsis,
    Equal,
    FatArrow,
    Colon,
    DoubleColon,
    Question,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    EqualOp,
    NotEqual,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Bang,
    /// Anything else (cannot occur in valid HCL outside templates).
    Other,
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    text: String,
}

impl Token {
    fn new(kind: Kind, text: &str) -> Token {
        Token {
            kind,
            text: text.to_owned(),
        }
    }

    fn bracket_change(&self) -> i32 {
        match self.kind {
            Kind::OBrace
            | Kind::OBrack
            | Kind::OParen
            | Kind::TemplateInterp
            | Kind::TemplateControl => 1,
            Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
            _ => 0,
        }
    }

    fn columns(&self) -> usize {
        self.text.chars().count()
    }

    fn is_keyword(&self, word: &str) -> bool {
        self.kind == Kind::Ident && self.text == word
    }
}

fn is_id_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_id_continue(c: char) -> bool {
    c == '_' || c == '-' || c.is_alphanumeric()
}

/// Lexer modes, kept on a stack so that templates can nest expressions which
/// can nest templates again.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Expression/structure tokens. `braces` counts `{` opened in this mode;
    /// `in_template` is set when this mode was entered by `${` or `%{`.
    Expr { braces: usize, in_template: bool },
    /// Inside a quoted template `"..."`.
    Quoted,
}

/// Splits `source` into lines of tokens. Newlines are not tokens: they
/// separate the returned lines (except inside heredocs, block comments and
/// quoted literals, which stay single tokens).
fn tokenize(source: &str, landmarks: &Landmarks) -> Vec<Vec<Token>> {
    let mut lines: Vec<Vec<Token>> = vec![Vec::new()];
    let mut modes: Vec<Mode> = vec![Mode::Expr {
        braces: 0,
        in_template: false,
    }];
    let mut pos = 0usize;

    macro_rules! push {
        ($kind:expr, $text:expr) => {{
            let tok = Token::new($kind, $text);
            if let Some(line) = lines.last_mut() {
                line.push(tok);
            }
        }};
    }

    while pos < source.len() {
        let rest = &source[pos..];
        let mode = modes.last().copied().unwrap_or(Mode::Expr {
            braces: 0,
            in_template: false,
        });
        match mode {
            Mode::Quoted => {
                let lit_len = quoted_literal_len(rest);
                if lit_len > 0 {
                    push!(Kind::QuotedLit, &rest[..lit_len]);
                    pos += lit_len;
                    continue;
                }
                if rest.starts_with('"') {
                    push!(Kind::CQuote, "\"");
                    modes.pop();
                    pos += 1;
                } else if rest.starts_with("${") || rest.starts_with("%{") {
                    let kind = if rest.starts_with('$') {
                        Kind::TemplateInterp
                    } else {
                        Kind::TemplateControl
                    };
                    let len = if rest[2..].starts_with('~') { 3 } else { 2 };
                    push!(kind, &rest[..len]);
                    modes.push(Mode::Expr {
                        braces: 0,
                        in_template: true,
                    });
                    pos += len;
                } else {
                    // Unreachable for valid input: quoted_literal_len stops
                    // only at the cases above. Consume a char to make progress.
                    let len = rest.chars().next().map_or(1, char::len_utf8);
                    push!(Kind::QuotedLit, &rest[..len]);
                    pos += len;
                }
            }
            Mode::Expr {
                braces,
                in_template,
            } => {
                let Some(c) = rest.chars().next() else { break };
                match c {
                    ' ' | '\t' | '\r' => pos += 1,
                    '\n' => {
                        lines.push(Vec::new());
                        pos += 1;
                    }
                    '#' => {
                        let len = rest.find('\n').unwrap_or(rest.len());
                        push!(Kind::LineComment, rest[..len].trim_end());
                        pos += len;
                    }
                    '/' if rest.starts_with("//") => {
                        let len = rest.find('\n').unwrap_or(rest.len());
                        push!(Kind::LineComment, rest[..len].trim_end());
                        pos += len;
                    }
                    '/' if rest.starts_with("/*") => {
                        let len = rest[2..].find("*/").map_or(rest.len(), |i| i + 4);
                        let text: Vec<&str> = rest[..len].split('\n').map(str::trim_end).collect();
                        push!(Kind::BlockComment, &text.join("\n"));
                        pos += len;
                    }
                    '"' => {
                        push!(Kind::OQuote, "\"");
                        modes.push(Mode::Quoted);
                        pos += 1;
                    }
                    '<' if rest.starts_with("<<") => {
                        let parsed = landmarks
                            .heredocs
                            .get(&pos)
                            .filter(|&&end| end > pos && source.is_char_boundary(end))
                            .map(|&end| end - pos);
                        if let Some(len) = parsed.or_else(|| heredoc_len(rest)) {
                            push!(Kind::Heredoc, &rest[..len]);
                            pos += len;
                        } else {
                            push!(Kind::Lt, "<");
                            pos += 1;
                        }
                    }
                    '{' => {
                        push!(Kind::OBrace, "{");
                        set_braces(&mut modes, braces + 1);
                        pos += 1;
                    }
                    '}' if in_template && braces == 0 => {
                        push!(Kind::TemplateSeqEnd, "}");
                        modes.pop();
                        pos += 1;
                    }
                    '~' if in_template && braces == 0 && rest.starts_with("~}") => {
                        push!(Kind::TemplateSeqEnd, "~}");
                        modes.pop();
                        pos += 2;
                    }
                    '}' => {
                        push!(Kind::CBrace, "}");
                        set_braces(&mut modes, braces.saturating_sub(1));
                        pos += 1;
                    }
                    '0'..='9' => {
                        let len = number_len(rest);
                        push!(Kind::Number, &rest[..len]);
                        pos += len;
                    }
                    c if is_id_start(c) => {
                        let len = rest
                            .char_indices()
                            .find(|&(_, ch)| !is_id_continue(ch))
                            .map_or(rest.len(), |(i, _)| i);
                        if landmarks.ident_labels.contains(&pos) {
                            push!(Kind::OQuote, "\"");
                            push!(Kind::QuotedLit, &rest[..len]);
                            push!(Kind::CQuote, "\"");
                        } else {
                            push!(Kind::Ident, &rest[..len]);
                        }
                        pos += len;
                    }
                    _ => {
                        let (kind, len) = punctuation(rest);
                        push!(kind, &rest[..len]);
                        pos += len;
                    }
                }
            }
        }
    }
    lines
}

fn set_braces(modes: &mut [Mode], value: usize) {
    if let Some(Mode::Expr { braces, .. }) = modes.last_mut() {
        *braces = value;
    }
}

/// Length of the literal text at the start of a quoted template, stopping at
/// the closing quote or an unescaped `${` / `%{`.
fn quoted_literal_len(rest: &str) -> usize {
    let mut iter = rest.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        match c {
            '"' => return i,
            '\\' => {
                // Skip the escaped character (whatever it is).
                iter.next();
            }
            '$' | '%' => {
                let tail = &rest[i..];
                if tail.starts_with("$${") || tail.starts_with("%%{") {
                    // Escaped template sequence: literal `${` / `%{`.
                    iter.next();
                    iter.next();
                } else if tail[1..].starts_with('{') {
                    return i;
                }
            }
            _ => {}
        }
    }
    rest.len()
}

/// If `rest` starts a heredoc (`<<ID` or `<<-ID` then a line break), returns
/// the length of the whole heredoc through its closing delimiter.
fn heredoc_len(rest: &str) -> Option<usize> {
    let after_marker = if rest.starts_with("<<-") { 3 } else { 2 };
    let tail = &rest[after_marker..];
    let first = tail.chars().next()?;
    if !is_id_start(first) {
        return None;
    }
    let id_len = tail
        .char_indices()
        .find(|&(_, ch)| !is_id_continue(ch))
        .map_or(tail.len(), |(i, _)| i);
    let delim = &tail[..id_len];
    let after_id = &tail[id_len..];
    let newline_len = if after_id.starts_with("\r\n") {
        2
    } else if after_id.starts_with('\n') {
        1
    } else {
        return None;
    };
    let mut line_start = after_marker + id_len + newline_len;
    loop {
        let line = &rest[line_start..];
        let trimmed = line.trim_start_matches([' ', '\t']);
        if let Some(after_delim) = trimmed.strip_prefix(delim) {
            if !after_delim.chars().next().is_some_and(is_id_continue) {
                return Some(rest.len() - after_delim.len());
            }
        }
        match line.find('\n') {
            Some(i) => line_start += i + 1,
            // Unterminated heredoc (invalid input): take everything.
            None => return Some(rest.len()),
        }
    }
}

/// Length of a numeric literal: digits, optional fraction, optional exponent.
fn number_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut len = digits(0);
    if bytes.get(len) == Some(&b'.') && bytes.get(len + 1).is_some_and(u8::is_ascii_digit) {
        len += 1 + digits(len + 1);
    }
    if matches!(bytes.get(len), Some(b'e' | b'E')) {
        let mut exp = len + 1;
        if matches!(bytes.get(exp), Some(b'+' | b'-')) {
            exp += 1;
        }
        if bytes.get(exp).is_some_and(u8::is_ascii_digit) {
            len = exp + digits(exp);
        }
    }
    len
}

fn punctuation(rest: &str) -> (Kind, usize) {
    const TABLE: &[(&str, Kind)] = &[
        ("...", Kind::Ellipsis),
        ("=>", Kind::FatArrow),
        ("==", Kind::EqualOp),
        ("!=", Kind::NotEqual),
        ("<=", Kind::Le),
        (">=", Kind::Ge),
        ("&&", Kind::And),
        ("||", Kind::Or),
        ("::", Kind::DoubleColon),
        ("=", Kind::Equal),
        ("!", Kind::Bang),
        ("<", Kind::Lt),
        (">", Kind::Gt),
        (":", Kind::Colon),
        ("?", Kind::Question),
        (".", Kind::Dot),
        (",", Kind::Comma),
        ("[", Kind::OBrack),
        ("]", Kind::CBrack),
        ("(", Kind::OParen),
        (")", Kind::CParen),
        ("+", Kind::Plus),
        ("-", Kind::Minus),
        ("*", Kind::Star),
        ("/", Kind::Slash),
        ("%", Kind::Percent),
    ];
    for (text, kind) in TABLE {
        if rest.starts_with(text) {
            return (*kind, text.len());
        }
    }
    (Kind::Other, rest.chars().next().map_or(1, char::len_utf8))
}

// ---------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------

/// One source line split into the cells that get aligned with neighbours.
struct Line {
    tokens: Vec<Token>,
    /// Spaces before each token (index-aligned with `tokens`).
    spaces: Vec<usize>,
    /// Index of the `=` starting the "assign" cell, if this line is a
    /// single-line attribute assignment.
    assign: Option<usize>,
    /// Index of a trailing line comment, if any (never the first token).
    comment: Option<usize>,
}

impl Line {
    fn new(tokens: Vec<Token>) -> Line {
        let comment = match tokens.last() {
            Some(tok) if tokens.len() > 1 && tok.kind == Kind::LineComment => {
                Some(tokens.len() - 1)
            }
            _ => None,
        };
        let lead_end = comment.unwrap_or(tokens.len());
        let assign = tokens[..lead_end]
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, tok)| tok.kind == Kind::Equal)
            .and_then(|(i, _)| {
                let net: i32 = tokens[i..lead_end].iter().map(Token::bracket_change).sum();
                (net == 0).then_some(i)
            });
        let spaces = vec![0; tokens.len()];
        Line {
            tokens,
            spaces,
            assign,
            comment,
        }
    }

    fn lead_end(&self) -> usize {
        self.assign.or(self.comment).unwrap_or(self.tokens.len())
    }

    fn code_end(&self) -> usize {
        self.comment.unwrap_or(self.tokens.len())
    }

    /// Display width of tokens `[0, end)` including their leading spaces.
    fn columns(&self, end: usize) -> usize {
        (0..end)
            .map(|i| self.spaces[i] + self.tokens[i].columns())
            .sum()
    }
}

/// Re-lays out `source` (assumed to be valid HCL), guided by `landmarks`
/// from its syntax tree.
fn layout(source: &str, landmarks: &Landmarks) -> String {
    let mut lines: Vec<Line> = tokenize(source, landmarks)
        .into_iter()
        .map(Line::new)
        .collect();

    // No blank lines at the start or end of the file.
    while lines.last().is_some_and(|l| l.tokens.is_empty()) {
        lines.pop();
    }
    let first = lines
        .iter()
        .position(|l| !l.tokens.is_empty())
        .unwrap_or(lines.len());
    lines.drain(..first);

    indent(&mut lines);
    for line in &mut lines {
        space(line);
    }
    align(&mut lines);

    let mut out = String::with_capacity(source.len() + source.len() / 8);
    for line in &lines {
        for (tok, spaces) in line.tokens.iter().zip(&line.spaces) {
            out.push_str(&" ".repeat(*spaces));
            out.push_str(&tok.text);
        }
        out.push('\n');
    }
    out
}

/// Sets each line's indentation from the bracket nesting, like `hclwrite`: a
/// line with a net increase of open brackets indents the following lines by
/// one level; a line with a net decrease dedents itself and what follows.
fn indent(lines: &mut [Line]) {
    let mut stack: Vec<i32> = Vec::new();
    for line in lines.iter_mut() {
        if line.tokens.is_empty() {
            continue;
        }
        let net: i32 = line.tokens[..line.code_end()]
            .iter()
            .map(Token::bracket_change)
            .sum();
        if net > 0 {
            line.spaces[0] = 2 * stack.len();
            stack.push(net);
        } else {
            let mut closed = -net;
            while closed > 0 {
                let Some(top) = stack.last_mut() else { break };
                if closed >= *top {
                    closed -= *top;
                    stack.pop();
                } else {
                    *top -= closed;
                    closed = 0;
                }
            }
            line.spaces[0] = 2 * stack.len();
        }
    }
}

/// Sets the spaces between neighbouring tokens within each cell.
fn space(line: &mut Line) {
    let lead_end = line.lead_end();
    let code_end = line.code_end();
    for range in [(0, lead_end), (lead_end, code_end)] {
        let (start, end) = range;
        for i in start..end.saturating_sub(1) {
            let before = if i > start {
                Some(&line.tokens[i - 1])
            } else {
                None
            };
            let spaced = space_after(&line.tokens[i], before, &line.tokens[i + 1]);
            line.spaces[i + 1] = usize::from(spaced);
        }
    }
    if let Some(assign) = line.assign {
        line.spaces[assign] = 1;
    }
    if let Some(comment) = line.comment {
        line.spaces[comment] = 1;
    }
}

/// Whether there is a space between `subject` and the token `after` it;
/// `before` is the token preceding `subject` within the same cell.
fn space_after(subject: &Token, before: Option<&Token>, after: &Token) -> bool {
    use Kind::*;
    let (s, a) = (subject.kind, after.kind);
    match () {
        // Function calls: `f(x)`, `provider::ns::f(x)`.
        _ if s == Ident && a == OParen => false,
        _ if (s == Ident && a == DoubleColon) || (s == DoubleColon && a == Ident) => false,
        // Attribute access: `a.b`, `a.*.b`.
        _ if s == Dot || a == Dot => false,
        _ if a == Comma || a == Ellipsis => false,
        _ if s == Comma => true,
        // Nothing is inserted inside template literal text.
        _ if matches!(s, OQuote | QuotedLit) || matches!(a, QuotedLit | CQuote) => false,
        // `for x in [a, b]`: `in` is a keyword, not something being indexed.
        _ if subject.is_keyword("in") && before.is_some_and(|b| b.kind == Ident) => true,
        // Indexing: `a[0]`, `f(x)[0]`, `"abc"[0]`.
        _ if a == OBrack
            && (matches!(s, Ident | Number | CQuote) || subject.bracket_change() < 0) =>
        {
            false
        }
        _ if s == Bang => false,
        _ if s == Minus => !is_negation(before),
        // Braces are padded: `{ a = 1 }`, but `{}`.
        _ if s == OBrace || a == CBrace => !(s == OBrace && a == CBrace),
        _ if matches!(s, TemplateInterp | TemplateControl) && a == OBrace => true,
        _ if s == CBrace && a == TemplateSeqEnd => true,
        _ if s == TemplateSeqEnd && matches!(a, TemplateInterp | TemplateControl) => false,
        _ if subject.bracket_change() > 0 => false,
        _ if after.bracket_change() < 0 => false,
        _ => true,
    }
}

/// Whether a `-` preceded by `before` is a unary negation (no space after it)
/// rather than a subtraction.
fn is_negation(before: Option<&Token>) -> bool {
    use Kind::*;
    let Some(before) = before else { return true };
    if before.is_keyword("in") || before.is_keyword("if") {
        return true;
    }
    matches!(
        before.kind,
        OParen
            | OBrace
            | OBrack
            | TemplateInterp
            | TemplateControl
            | Equal
            | FatArrow
            | Colon
            | Comma
            | Question
            | Plus
            | Minus
            | Star
            | Slash
            | Percent
            | EqualOp
            | NotEqual
            | Gt
            | Ge
            | Lt
            | Le
            | And
            | Or
            | Bang
    )
}

/// Aligns the `=` of consecutive assignment lines, then the trailing comments
/// of consecutive commented lines.
fn align(lines: &mut [Line]) {
    align_runs(lines, |line| line.assign, |line, cell| line.columns(cell));
    align_runs(lines, |line| line.comment, |line, cell| line.columns(cell));
}

/// For each run of consecutive lines where `cell` is present, pads the cell's
/// first token so that all of them start in the same column.
fn align_runs(
    lines: &mut [Line],
    cell: impl Fn(&Line) -> Option<usize>,
    width_before: impl Fn(&Line, usize) -> usize,
) {
    let mut start = 0;
    while start < lines.len() {
        if cell(&lines[start]).is_none() {
            start += 1;
            continue;
        }
        let end = lines[start..]
            .iter()
            .position(|l| cell(l).is_none())
            .map_or(lines.len(), |n| start + n);
        let widest = lines[start..end]
            .iter()
            .filter_map(|l| cell(l).map(|c| width_before(l, c)))
            .max()
            .unwrap_or(0);
        for line in &mut lines[start..end] {
            if let Some(c) = cell(line) {
                let width = width_before(line, c);
                line.spaces[c] = widest - width + 1;
            }
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(src: &str) -> String {
        let out = format_source(src).expect("valid HCL");
        // Every test also checks idempotence and that the safety net was not
        // needed (the layout pass alone produced the result).
        let body = parse_body(src).expect("valid HCL");
        assert_eq!(
            layout(src, &Landmarks::of(&body)),
            out,
            "safety net kicked in for:\n{src}"
        );
        assert_eq!(format_source(&out).expect("reparse"), out, "not idempotent");
        out
    }

    #[test]
    fn indents_and_aligns_attributes() {
        let src = "variable \"x\" {\ndefault = \"a\"\n  type=string\n    description =   \"long description\"\n}\n";
        let want = "variable \"x\" {\n  default     = \"a\"\n  type        = string\n  description = \"long description\"\n}\n";
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn block_headers_are_normalised() {
        let src = "resource   \"postgres_table\"    \"users\"   {\nname=\"users\"\n}";
        let want = "resource \"postgres_table\" \"users\" {\n  name = \"users\"\n}\n";
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn alignment_runs_break_on_blank_comment_and_block() {
        let src = "\
a = 1
bbb = 2

cc = 3
# note
dddd = 4
e = 5
blk {
x = 1
}
ffffff = 6
";
        let want = "\
a   = 1
bbb = 2

cc = 3
# note
dddd = 4
e    = 5
blk {
  x = 1
}
ffffff = 6
";
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn comments_are_preserved_and_trailing_ones_aligned() {
        let src = "\
# top comment
// another
/* block */
locals {
  z = 1 // slash comment
  zzz = 22 # c2
  # inside
  k = 1   # trailing spaces after   \t
  /* multi
       line
  comment */
}
";
        let want = "\
# top comment
// another
/* block */
locals {
  z   = 1  // slash comment
  zzz = 22 # c2
  # inside
  k = 1 # trailing spaces after
  /* multi
       line
  comment */
}
";
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn expression_spacing_matches_terraform() {
        // Expected output taken from `terraform fmt` (v1.11) on the same input.
        let src = r#"a = {x: 1, y : 2}
b = [for x in y: x]
c = {for k,v in m: k=>v...}
d = a?b:c
e = "${a}${b}"
f = "x ${ a+b } y"
g = foo(a...)
h = a.*.b
i = a[*]
j = [ ]
k = { }
l = (a+b)*c
m = -a
n = a - -b
o = x[ 0 ]
p = "%{ if a }x%{ endif }"
q = provider::foo::bar(1)
r = a==b&&c||!d
t = 1.5e3
u = tolist( [1,2] )
"#;
        let want = r#"a = { x : 1, y : 2 }
b = [for x in y : x]
c = { for k, v in m : k => v... }
d = a ? b : c
e = "${a}${b}"
f = "x ${a + b} y"
g = foo(a...)
h = a.*.b
i = a[*]
j = []
k = {}
l = (a + b) * c
m = -a
n = a - -b
o = x[0]
p = "%{if a}x%{endif}"
q = provider::foo::bar(1)
r = a == b && c || !d
t = 1.5e3
u = tolist([1, 2])
"#;
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn negation_after_arrow_and_in() {
        let src = "a = { for k, v in m : k => -v }\nb = [for x in -a : x]\nc = \"${-1}\"\nd = a.b[0].c\ne = \"abc\"[0]\n";
        assert_eq!(fmt(src), src);
    }

    #[test]
    fn multi_line_values_are_reindented() {
        let src = "\
locals {
x = foo(
a,
b
)
short = 1
  longer_name = {
    a = 1 # c
    bbb = 2   // d
  }
  after = 2
  list = [
  1,
      2,
  ]
  z = [{
  a = 1
  }, {
  b = 2
  }]
}
";
        let want = "\
locals {
  x = foo(
    a,
    b
  )
  short = 1
  longer_name = {
    a   = 1 # c
    bbb = 2 // d
  }
  after = 2
  list = [
    1,
    2,
  ]
  z = [{
    a = 1
    }, {
    b = 2
  }]
}
";
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn heredocs_are_kept_verbatim() {
        let src = "\
locals {
a = 1
  h = <<EOT
  hello ${name}  
    world
EOT
  yy = 2
  hi = <<-EOT
    indented
    EOT
  empty = <<EOT
EOT
}
";
        // As in terraform fmt, a heredoc attribute takes part in `=` alignment.
        let want = "\
locals {
  a     = 1
  h     = <<EOT
  hello ${name}  
    world
EOT
  yy    = 2
  hi    = <<-EOT
    indented
    EOT
  empty = <<EOT
EOT
}
";
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn nested_blocks_and_one_line_blocks() {
        let src = "resource \"a\" \"b\" {\nnested {\na = 1\ninner {\nb=2\n}\n}\nempty {}\noneline { a = 1 }\n  lifecycle {   }\n}\n";
        let want = "resource \"a\" \"b\" {\n  nested {\n    a = 1\n    inner {\n      b = 2\n    }\n  }\n  empty {}\n  oneline { a = 1 }\n  lifecycle {}\n}\n";
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn blank_lines_and_final_newline() {
        assert_eq!(fmt("\n\n# c\na = 1   \n\n\n"), "# c\na = 1\n");
        assert_eq!(fmt("a = 1"), "a = 1\n");
        assert_eq!(fmt("a = 1\n\n\nb = 2\n"), "a = 1\n\n\nb = 2\n");
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("\n \n\t\n"), "");
    }

    #[test]
    fn windows_line_endings_and_tabs() {
        assert_eq!(
            fmt("a {\r\n\tb = 1\r\n\tcc = \"x\"\r\n}\r\n"),
            "a {\n  b  = 1\n  cc = \"x\"\n}\n"
        );
    }

    #[test]
    fn strings_with_escapes_and_template_markers() {
        let src = r##"a = "say \"hi\" $${literal} %%{x} ${ b }"
c = "${~ d ~}"
e = "%{ for x in xs }${x},%{ endfor ~}"
f = "#not a comment // nor this"
g = "${ {a = 1} }"
"##;
        let want = r##"a = "say \"hi\" $${literal} %%{x} ${b}"
c = "${~d~}"
e = "%{for x in xs}${x},%{endfor~}"
f = "#not a comment // nor this"
g = "${ { a = 1 } }"
"##;
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn strata_example_shape() {
        let src = r#"resource "postgres_table" "users" {
  schema = "public"
  name = "users"
  column {
    name = "id"
    type = "bigint"
    null = false
    identity = "always"
  }
  primary_key = ["id"]
  unique { columns = ["email"] }
  foreign_key {
    columns = ["user_id"]
    references = postgres_table.users.id
    ref_columns = ["id"]
    on_delete = "CASCADE"
  }
  depends_on = [postgres_enum.model_status]
}
"#;
        let want = r#"resource "postgres_table" "users" {
  schema = "public"
  name   = "users"
  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "always"
  }
  primary_key = ["id"]
  unique { columns = ["email"] }
  foreign_key {
    columns     = ["user_id"]
    references  = postgres_table.users.id
    ref_columns = ["id"]
    on_delete   = "CASCADE"
  }
  depends_on = [postgres_enum.model_status]
}
"#;
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn bare_block_labels_are_quoted() {
        assert_eq!(
            fmt("foo bar  baz {\n}\nx \"y\" z {}\n"),
            "foo \"bar\" \"baz\" {\n}\nx \"y\" \"z\" {}\n"
        );
    }

    #[test]
    fn idempotent_on_formatted_output() {
        for src in [
            "a=1\nbb = {\nc=[1,2,\n3]\n}\n",
            "x {\n  y = <<EOT\n  keep   \nEOT\n}\n",
            "# c\n\n\nblock \"a\" {\n\n  k = \"v\" # t\n\n}\n",
        ] {
            let once = fmt(src);
            assert_eq!(fmt(&once), once);
        }
    }

    #[test]
    fn invalid_input_is_an_error() {
        assert!(format_source("a = ").is_err());
        assert!(format_source("resource \"x\" {").is_err());
        assert!(format_source("a = [1,\n").is_err());
        assert!(format_source("\"unterminated").is_err());
    }

    #[test]
    fn no_panic_on_odd_inputs() {
        let samples = [
            "a = <<",
            "a = <<EOT",
            "a = <<EOT\nx",
            "a = \"${",
            "a = \"\\",
            "/*",
            "a = 1 /* x",
            "~}",
            "a = \"é\" # ü\nb = 'x'",
            "ü = 1",
            "a = 1.",
            "a = 1e",
            "a = 1e+",
            "\u{feff}a = 1",
            "a = [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
            "}}}}",
            "a = x[\n]\n]\n",
        ];
        for s in samples {
            let _ = format_source(s);
            let _ = layout(s, &Landmarks::default());
        }
    }

    #[test]
    fn degenerate_closing_brackets_do_not_underflow() {
        // Not valid HCL, but the layout pass on its own must cope.
        let out = layout("}\n}\n  a = 1\n", &Landmarks::default());
        assert_eq!(out, "}\n}\na = 1\n");
    }
}
