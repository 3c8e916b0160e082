//! The grammar of a column's `type`, checked at validate: strata pastes the type into DDL as
//! written (PostgreSQL has no way to quote a type with its modifiers), so the text must be a type
//! name and nothing more.
//!
//! A type is a (possibly schema-qualified, possibly quoted) name, the keywords of PostgreSQL's
//! multi-word types (`double precision`, `character varying`, `with time zone`, `day to second`),
//! at most one list of modifiers in parentheses (numbers or names: `numeric(10, 2)`,
//! `geometry(Point, 4326)`) and array brackets at the end (`text[]`, `int[3][3]`). Anything else
//! (a quote, a semicolon, a comment, an operator, a word such as `DEFAULT` or `NOT`) is refused.

use strata_provider_sdk::Syntax;

pub const TYPE_NAME: Syntax = Syntax { what: "a PostgreSQL type name", check };

/// The words that may follow a type's name, from PostgreSQL's multi-word type names.
const TYPE_KEYWORDS: &[&str] = &["precision", "varying", "with", "without", "time", "zone", "character", "char", "year", "month", "day", "hour", "minute", "second", "to"];

#[derive(Debug, PartialEq)]
enum Token {
    /// An unquoted word, lowercased.
    Word(String),
    Quoted,
    Number,
    Dot,
    Open,
    Close,
    Comma,
    OpenBracket,
    CloseBracket,
}

fn check(text: &str) -> Result<(), String> {
    let tokens = tokens(text)?;
    let mut position = name(&tokens)?;
    let mut modifiers_seen = false;
    while let Some(token) = tokens.get(position) {
        position += 1;
        match token {
            Token::Word(word) if TYPE_KEYWORDS.contains(&word.as_str()) => {}
            Token::Open if !modifiers_seen => {
                modifiers_seen = true;
                position = modifiers(&tokens, position)?;
            }
            Token::OpenBracket => return brackets(&tokens, position - 1),
            Token::Open => return Err("a type takes one list of modifiers in parentheses".into()),
            Token::Word(word) => return Err(format!("\"{word}\" is not part of a type's name (a default, a constraint or a collation has its own attribute)")),
            _ => return Err("expected the rest of the type's name, modifiers in parentheses or array brackets".into()),
        }
    }
    Ok(())
}

/// The type's (possibly schema-qualified) name at the start; gives the position after it.
fn name(tokens: &[Token]) -> Result<usize, String> {
    let mut position = 0;
    loop {
        if !matches!(tokens.get(position), Some(Token::Word(_) | Token::Quoted)) {
            return Err("expected a type's name".into());
        }
        if tokens.get(position + 1) != Some(&Token::Dot) {
            return Ok(position + 1);
        }
        position += 2;
    }
}

/// The modifiers after `(` at `position`: numbers or words separated by commas, then `)`; gives
/// the position after it.
fn modifiers(tokens: &[Token], mut position: usize) -> Result<usize, String> {
    loop {
        match (tokens.get(position), tokens.get(position + 1)) {
            (Some(Token::Number | Token::Word(_) | Token::Quoted), Some(Token::Comma)) => position += 2,
            (Some(Token::Number | Token::Word(_) | Token::Quoted), Some(Token::Close)) => return Ok(position + 2),
            _ => return Err("modifiers are numbers or names separated by commas, in parentheses".into()),
        }
    }
}

/// Array brackets from `position` to the end: `[]` or `[N]`, repeated.
fn brackets(tokens: &[Token], mut position: usize) -> Result<(), String> {
    while position < tokens.len() {
        match tokens[position..] {
            [Token::OpenBracket, Token::CloseBracket, ..] => position += 2,
            [Token::OpenBracket, Token::Number, Token::CloseBracket, ..] => position += 3,
            _ => return Err("only array brackets, [] or [N], may follow them".into()),
        }
    }
    Ok(())
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            c if c.is_ascii_digit() => {
                while chars.next_if(char::is_ascii_digit).is_some() {}
                Token::Number
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut word = c.to_lowercase().collect::<String>();
                while let Some(c) = chars.next_if(|c| c.is_alphanumeric() || *c == '_' || *c == '$') {
                    word.extend(c.to_lowercase());
                }
                Token::Word(word)
            }
            '"' => {
                quoted(&mut chars)?;
                Token::Quoted
            }
            '.' => Token::Dot,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '[' => Token::OpenBracket,
            ']' => Token::CloseBracket,
            other => return Err(format!("'{other}' cannot appear in a type name")),
        };
        tokens.push(token);
    }
    Ok(tokens)
}

/// The rest of a quoted name, `""` standing for a quote inside it.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<(), String> {
    let mut empty = true;
    loop {
        match chars.next() {
            Some('"') if chars.next_if_eq(&'"').is_some() => empty = false,
            Some('"') if empty => return Err("a quoted name cannot be empty".into()),
            Some('"') => return Ok(()),
            Some('\0') => return Err("a name cannot hold a NUL character".into()),
            Some(_) => empty = false,
            None => return Err("a quoted name is not closed".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn type_names_of_real_schemas_are_accepted() {
        for name in [
            "bigint",
            "double precision",
            "character varying(255)",
            "numeric(10, 2)",
            "timestamp(3) with time zone",
            "timestamptz",
            "interval",
            "bit varying(8)",
            "text[]",
            "int[3][3]",
            "public.model_status",
            "\"Model Status\"",
            "\"my\"\"type\"",
            "vector(1536)",
            "geometry(Point, 4326)",
            "ml.\"Embedding\"[]",
            "bigserial",
            "interval day to second(3)",
            "TIMESTAMP WITHOUT TIME ZONE",
        ] {
            assert_eq!(check(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn anything_that_is_not_a_type_name_is_refused() {
        for text in [
            "",
            "bigint; DROP TABLE users",
            "text DEFAULT 'x'",
            "int -- comment",
            "int /* c */",
            "numeric(10,",
            "numeric(10)(2)",
            "text[",
            "text[] x",
            "\"unclosed",
            "\"\"",
            ".int",
            "public..t",
            "int, text",
            "varchar(n + 1)",
            "text DEFAULT now",
            "int NOT NULL",
            "text COLLATE C",
            "int PRIMARY KEY",
        ] {
            assert!(check(text).is_err(), "{text:?} must be refused");
        }
    }
}
