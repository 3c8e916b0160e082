//! Numeric functions. Numbers are f64 (Terraform's are arbitrary-precision); a result that is not
//! finite is an error rather than a silent infinity.

use strata_provider_sdk::Value;

use super::args::finite;
use super::{Args, Category::Numeric, FnResult, Function};

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new("abs", Numeric, &["num"], |a| finite(a, a.number(0)?.abs())),
    Function::new("ceil", Numeric, &["num"], |a| finite(a, a.number(0)?.ceil())),
    Function::new("floor", Numeric, &["num"], |a| finite(a, a.number(0)?.floor())),
    Function::new("log", Numeric, &["num", "base"], log),
    Function::new("max", Numeric, &[], |a| extreme(a, f64::max)).variadic("numbers"),
    Function::new("min", Numeric, &[], |a| extreme(a, f64::min)).variadic("numbers"),
    Function::new("parseint", Numeric, &["number", "base"], parseint),
    Function::new("pow", Numeric, &["num", "power"], |a| finite(a, a.number(0)?.powf(a.number(1)?))),
    Function::new("signum", Numeric, &["num"], signum),
];

fn log(args: &Args) -> FnResult {
    let (num, base) = (args.number(0)?, args.number(1)?);
    finite(args, num.ln() / base.ln())
}

fn extreme(args: &Args, pick: fn(f64, f64) -> f64) -> FnResult {
    let mut numbers = Vec::with_capacity(args.values.len());
    for index in 0..args.values.len() {
        numbers.push(args.number(index)?);
    }
    let best = numbers.into_iter().reduce(pick).ok_or_else(|| args.fail("must pass at least one number"))?;
    finite(args, best)
}

fn signum(args: &Args) -> FnResult {
    let num = args.number(0)?;
    Ok(Value::int(if num > 0.0 { 1 } else if num < 0.0 { -1 } else { 0 }))
}

/// `parseint("FF", 16)`: digits 0-9, then a-z, then (above base 36) A-Z, as Go's big.Int reads them.
fn parseint(args: &Args) -> FnResult {
    let text = args.string(0)?;
    let base = args.integer(1)?;
    if !(2..=62).contains(&base) {
        return Err(args.invalid(1, "base must be a whole number between 2 and 62 inclusive"));
    }
    let cannot = || args.invalid(0, format!("cannot parse {text:?} as a base {base} integer"));
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    if digits.is_empty() {
        return Err(cannot());
    }
    let mut total: i128 = 0;
    for c in digits.chars() {
        let digit = digit_value(c, base as u32).ok_or_else(cannot)?;
        total = total.checked_mul(i128::from(base)).and_then(|t| t.checked_add(i128::from(digit))).ok_or_else(|| args.fail("the number is too large"))?;
    }
    let signed = if negative { -total } else { total };
    Ok(match i64::try_from(signed) {
        Ok(small) => Value::int(small),
        Err(_) => finite(args, signed as f64)?,
    })
}

fn digit_value(c: char, base: u32) -> Option<u32> {
    let value = match c {
        '0'..='9' => c as u32 - '0' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 10,
        'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
        'A'..='Z' => c as u32 - 'A' as u32 + 36,
        _ => return None,
    };
    (value < base).then_some(value)
}
