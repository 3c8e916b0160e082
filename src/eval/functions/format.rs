//! `format` and `formatlist`: Go's fmt verbs as Terraform takes them (`%s %d %f %v %#v %q %t %b %o
//! %x %X %e %E %g %G %%`), with the flags `+ - # 0` and space, width, precision and `%[n]`.

use strata_provider_sdk::Value;

use super::args::{number_of, primitive_string, whole};
use super::{Args, FnResult};

/// The widest padding and longest precision `format` writes: more is a typo, and would exhaust memory.
const MAX_FORMAT_WIDTH: usize = 4096;

pub(super) fn format(args: &Args) -> FnResult {
    let spec = args.string(0)?;
    render(&spec, args.rest()).map(Value::String).map_err(|message| args.fail(message))
}

/// `formatlist`: list arguments are iterated in step (all of one length), the others repeated.
pub(super) fn formatlist(args: &Args) -> FnResult {
    let spec = args.string(0)?;
    let rest = args.rest();
    let mut length: Option<(usize, usize)> = None;
    for (i, value) in rest.iter().enumerate() {
        if let Value::List(items) = value {
            match length {
                Some((len, first)) if len != items.len() => {
                    return Err(args.fail(format!(
                        "argument {} has length {}, which is inconsistent with argument {} of length {len}",
                        i + 1,
                        items.len(),
                        first + 1
                    )))
                }
                None => length = Some((items.len(), i)),
                _ => {}
            }
        }
    }
    let rows = length.map_or(1, |(len, _)| len);
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        let row_args: Vec<Value> = rest.iter().map(|v| match v {
            Value::List(items) => items[row].clone(),
            other => other.clone(),
        }).collect();
        out.push(Value::String(render(&spec, &row_args).map_err(|message| args.fail(message))?));
    }
    Ok(Value::List(out))
}

/// One `%...` sequence, parsed.
#[derive(Default)]
struct Verb {
    plus: bool,
    minus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    precision: Option<usize>,
    verb: char,
}

fn render(spec: &str, values: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut next_arg = 0;
    let mut used_max = 0;
    let mut chars = spec.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut verb = Verb::default();
        while let Some(&(_, flag)) = chars.peek() {
            match flag {
                '+' => verb.plus = true,
                '-' => verb.minus = true,
                '#' => verb.sharp = true,
                '0' => verb.zero = true,
                ' ' => verb.space = true,
                _ => break,
            }
            chars.next();
        }
        if chars.peek().map(|&(_, c)| c) == Some('[') {
            chars.next();
            let index = read_number(&mut chars).ok_or_else(|| format!("invalid argument index at offset {offset}"))?;
            if chars.next().map(|(_, c)| c) != Some(']') || index == 0 {
                return Err(format!("invalid argument index at offset {offset}"));
            }
            next_arg = index - 1;
        }
        verb.width = read_number(&mut chars);
        if chars.peek().map(|&(_, c)| c) == Some('.') {
            chars.next();
            verb.precision = Some(read_number(&mut chars).unwrap_or(0));
        }
        if verb.width.unwrap_or(0) > MAX_FORMAT_WIDTH || verb.precision.unwrap_or(0) > MAX_FORMAT_WIDTH {
            return Err(format!("the width or precision at offset {offset} is larger than {MAX_FORMAT_WIDTH}"));
        }
        let (_, letter) = chars.next().ok_or_else(|| format!("the format string ends with an unfinished sequence at offset {offset}"))?;
        verb.verb = letter;
        if letter == '%' {
            out.push('%');
            continue;
        }
        let value = values.get(next_arg).ok_or_else(|| {
            format!("not enough arguments for \"%{letter}\" at {offset}: need index {} but have {} total", next_arg + 1, values.len())
        })?;
        out.push_str(&pad(&verb, format_value(&verb, value).map_err(|why| format!("unsupported value for \"%{letter}\" at {offset}: {why}"))?));
        next_arg += 1;
        used_max = used_max.max(next_arg);
    }
    if used_max < values.len() {
        return Err(format!("too many arguments; only {used_max} used by format string"));
    }
    Ok(out)
}

fn read_number(chars: &mut std::iter::Peekable<std::str::CharIndices>) -> Option<usize> {
    let mut number: Option<usize> = None;
    while let Some(&(_, c)) = chars.peek() {
        let Some(digit) = c.to_digit(10) else { break };
        number = Some(number.unwrap_or(0).saturating_mul(10).saturating_add(digit as usize));
        chars.next();
    }
    number
}

fn format_value(verb: &Verb, value: &Value) -> Result<String, String> {
    if value.is_null() && verb.verb != 'v' {
        return Err("null value cannot be formatted".to_owned());
    }
    match verb.verb {
        'v' if verb.sharp => Ok(value.to_json().to_string()),
        'v' => Ok(match value {
            Value::Null => "null".to_owned(),
            Value::List(_) | Value::Object(_) => value.to_json().to_string(),
            other => primitive_string(other).unwrap_or_default(),
        }),
        's' => primitive_string(value).ok_or_else(|| "string required".to_owned()),
        'q' => primitive_string(value).map(|s| serde_json::Value::String(s).to_string()).ok_or_else(|| "string required".to_owned()),
        't' => match value {
            Value::Bool(b) => Ok(b.to_string()),
            Value::String(s) if s == "true" || s == "false" => Ok(s.clone()),
            _ => Err("bool required".to_owned()),
        },
        'd' | 'b' | 'o' | 'x' | 'X' => integer_verb(verb, value),
        'e' | 'E' | 'f' | 'g' | 'G' => float_verb(verb, number_of(value)?),
        other => Err(format!("unrecognized format character {other:?}")),
    }
}

fn sign(verb: &Verb, negative: bool) -> &'static str {
    match (negative, verb.plus, verb.space) {
        (true, _, _) => "-",
        (false, true, _) => "+",
        (false, false, true) => " ",
        _ => "",
    }
}

fn integer_verb(verb: &Verb, value: &Value) -> Result<String, String> {
    if let (Value::String(s), 'x' | 'X') = (value, verb.verb) {
        // Go formats a string with %x as the hex of its bytes.
        let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
        return Ok(if verb.verb == 'X' { hex.to_uppercase() } else { hex });
    }
    let number = number_of(value)?;
    let n = whole(number).ok_or_else(|| "an integer is required".to_owned())?;
    let magnitude = n.unsigned_abs();
    let digits = match verb.verb {
        'b' => format!("{magnitude:b}"),
        'o' => format!("{}{magnitude:o}", if verb.sharp { "0" } else { "" }),
        'x' => format!("{}{magnitude:x}", if verb.sharp { "0x" } else { "" }),
        'X' => format!("{}{magnitude:X}", if verb.sharp { "0X" } else { "" }),
        _ => magnitude.to_string(),
    };
    let digits = match verb.precision {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    };
    Ok(format!("{}{digits}", sign(verb, n < 0)))
}

fn float_verb(verb: &Verb, number: f64) -> Result<String, String> {
    let precision = verb.precision;
    let magnitude = number.abs();
    let body = match verb.verb {
        'f' => format!("{magnitude:.*}", precision.unwrap_or(6)),
        'e' | 'E' => go_exponent(&format!("{magnitude:.*e}", precision.unwrap_or(6)), verb.verb == 'E'),
        _ => shortest(magnitude, precision, verb.verb == 'G'),
    };
    Ok(format!("{}{body}", sign(verb, number.is_sign_negative() && number != 0.0)))
}

/// Rust writes `1.5e3`; Go writes `1.5e+03`.
fn go_exponent(rust: &str, upper: bool) -> String {
    let (mantissa, exponent) = rust.split_once('e').unwrap_or((rust, "0"));
    let (exp_sign, digits) = match exponent.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exponent),
    };
    let e = if upper { 'E' } else { 'e' };
    format!("{mantissa}{e}{exp_sign}{digits:0>2}")
}

/// `%g`: the shortest of %e and %f, as Go chooses it.
fn shortest(magnitude: f64, precision: Option<usize>, upper: bool) -> String {
    let exponent = if magnitude == 0.0 { 0 } else { magnitude.log10().floor() as i64 };
    let limit = precision.map_or(21, |p| p.max(1) as i64);
    if exponent < -4 || exponent >= limit {
        let text = match precision {
            Some(p) => format!("{magnitude:.*e}", p.saturating_sub(1)),
            None => format!("{magnitude:e}"),
        };
        return go_exponent(&text, upper);
    }
    match precision {
        Some(p) => {
            let decimals = (p as i64 - 1 - exponent).max(0) as usize;
            let text = format!("{magnitude:.decimals$}");
            if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
        }
        None => magnitude.to_string(),
    }
}

fn pad(verb: &Verb, body: String) -> String {
    let width = verb.width.unwrap_or(0);
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    let numeric = matches!(verb.verb, 'd' | 'b' | 'o' | 'x' | 'X' | 'e' | 'E' | 'f' | 'g' | 'G');
    if verb.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if verb.zero && numeric {
        let sign_len = body.chars().take_while(|c| matches!(c, '-' | '+' | ' ')).count();
        format!("{}{}{}", &body[..sign_len], "0".repeat(fill), &body[sign_len..])
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}
