//! Encoding functions: base64 (of UTF-8 and of other character encodings), gzip, CSV, JSON, YAML
//! and URL query encoding.

use std::collections::BTreeMap;
use std::io::Write;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use strata_provider_sdk::Value;
use yaml_rust2::Yaml;

use super::{Args, Category::Encoding as Enc, FnResult, Function};
use crate::eval::float_value;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new("base64decode", Enc, &["str"], base64decode),
    Function::new("base64encode", Enc, &["str"], |a| Ok(Value::String(STANDARD.encode(a.string(0)?)))),
    Function::new("base64gzip", Enc, &["str"], base64gzip),
    Function::new("csvdecode", Enc, &["str"], csvdecode),
    Function::new("jsondecode", Enc, &["str"], jsondecode),
    Function::new("jsonencode", Enc, &["val"], |a| Ok(Value::String(json_encode(a.value(0))))),
    Function::new("textdecodebase64", Enc, &["source", "encoding"], textdecodebase64),
    Function::new("textencodebase64", Enc, &["string", "encoding"], textencodebase64),
    Function::new("urlencode", Enc, &["str"], urlencode),
    Function::new("yamldecode", Enc, &["src"], yamldecode),
    Function::new("yamlencode", Enc, &["value"], |a| Ok(Value::String(yaml_encode(a.value(0))))),
];

fn decode_base64(args: &Args, index: usize) -> Result<Vec<u8>, crate::diag::Diagnostic> {
    let text = args.string(index)?;
    STANDARD.decode(text.as_bytes()).map_err(|err| args.fail(format!("failed to decode base64 data {text:?}: {err}")))
}

fn base64decode(args: &Args) -> FnResult {
    let bytes = decode_base64(args, 0)?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| args.fail("the result of decoding the provided string is not valid UTF-8"))
}

fn base64gzip(args: &Args) -> FnResult {
    let text = args.string(0)?;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = encoder.write_all(text.as_bytes()).and_then(|()| encoder.finish());
    compressed.map(|bytes| Value::String(STANDARD.encode(bytes))).map_err(|err| args.fail(format!("failed to compress: {err}")))
}

/// The first line names the columns; each later line is one object of strings.
fn csvdecode(args: &Args) -> FnResult {
    let text = args.string(0)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|err| args.fail(err))?.clone();
    if headers.is_empty() {
        return Err(args.fail("missing header line"));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| args.fail(err))?;
        let row: BTreeMap<String, Value> = headers.iter().zip(record.iter()).map(|(h, v)| (h.to_owned(), Value::from(v))).collect();
        rows.push(Value::Object(row));
    }
    Ok(Value::List(rows))
}

fn jsondecode(args: &Args) -> FnResult {
    let text = args.string(0)?;
    let parsed: serde_json::Value = serde_json::from_str(&text).map_err(|err| args.fail(err))?;
    Ok(Value::from_json(&parsed))
}

/// JSON as Go's encoder writes it (Terraform's jsonencode): keys sorted, and `<`, `>`, `&`, U+2028
/// and U+2029 escaped so the text is safe inside HTML. Outside strings JSON has none of them.
pub(super) fn json_encode(value: &Value) -> String {
    value.to_json().to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026").replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029")
}

/// Go's url.QueryEscape: letters, digits and `-_.~` kept, a space as `+`, the rest as `%XX`.
fn urlencode(args: &Args) -> FnResult {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    let text = args.string(0)?;
    let words: Vec<String> = text.split(' ').map(|word| percent_encoding::utf8_percent_encode(word, KEEP).to_string()).collect();
    Ok(Value::String(words.join("+")))
}

/// The character encoding named `label` (an IANA name or alias); UTF-16 is written by hand, as
/// the WHATWG encoder set has no UTF-16 encoder.
enum TextEncoding {
    Utf16 { big_endian: bool },
    Other(&'static encoding_rs::Encoding),
}

fn text_encoding(args: &Args, index: usize) -> Result<TextEncoding, crate::diag::Diagnostic> {
    let label = args.string(index)?;
    let normalized = label.to_ascii_uppercase().replace('_', "-");
    match normalized.as_str() {
        "UTF-16LE" | "UTF-16" => return Ok(TextEncoding::Utf16 { big_endian: false }),
        "UTF-16BE" => return Ok(TextEncoding::Utf16 { big_endian: true }),
        _ => {}
    }
    encoding_rs::Encoding::for_label(label.as_bytes())
        .map(TextEncoding::Other)
        .ok_or_else(|| args.invalid(index, format!("{label:?} is not a supported IANA encoding name or alias in this Terraform version")))
}

fn textencodebase64(args: &Args) -> FnResult {
    let text = args.string(0)?;
    let bytes = match text_encoding(args, 1)? {
        TextEncoding::Utf16 { big_endian } => {
            text.encode_utf16().flat_map(|unit| if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() }).collect()
        }
        TextEncoding::Other(encoding) => {
            let (bytes, _, unmappable) = encoding.encode(&text);
            if unmappable {
                return Err(args.invalid(0, format!("the given string contains characters that cannot be represented in {}", encoding.name())));
            }
            bytes.into_owned()
        }
    };
    Ok(Value::String(STANDARD.encode(bytes)))
}

fn textdecodebase64(args: &Args) -> FnResult {
    let bytes = decode_base64(args, 0)?;
    let decoded = match text_encoding(args, 1)? {
        TextEncoding::Utf16 { big_endian } => {
            let units: Vec<u16> = bytes.chunks(2).map(|pair| {
                let pair = [pair[0], pair.get(1).copied().unwrap_or(0)];
                if big_endian { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) }
            }).collect();
            String::from_utf16(&units).ok()
        }
        TextEncoding::Other(encoding) => encoding.decode_without_bom_handling_and_without_replacement(&bytes).map(|text| text.into_owned()),
    };
    decoded.map(Value::String).ok_or_else(|| args.invalid(0, "the given value has invalid characters for the given encoding"))
}

fn yamldecode(args: &Args) -> FnResult {
    let text = args.string(0)?;
    let documents = yaml_rust2::YamlLoader::load_from_str(&text).map_err(|err| args.fail(format!("on line {}, column {}: {err}", err.marker().line(), err.marker().col() + 1)))?;
    match documents.as_slice() {
        [] => Ok(Value::Null),
        [document] => from_yaml(document).map_err(|message| args.fail(message)),
        _ => Err(args.fail("unexpected extra content after value")),
    }
}

fn from_yaml(yaml: &Yaml) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::int(*i),
        Yaml::Real(text) => float_value(text.parse::<f64>().map_err(|_| format!("cannot parse {text:?} as a number"))?),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::List(items.iter().map(from_yaml).collect::<Result<_, _>>()?),
        Yaml::Hash(hash) => {
            let mut map = BTreeMap::new();
            for (key, value) in hash {
                map.insert(yaml_key(key)?, from_yaml(value)?);
            }
            Value::Object(map)
        }
        Yaml::Alias(_) | Yaml::BadValue => return Err("the YAML contains a value that cannot be decoded".to_owned()),
    })
}

fn yaml_key(key: &Yaml) -> Result<String, String> {
    match key {
        Yaml::String(s) | Yaml::Real(s) => Ok(s.clone()),
        Yaml::Integer(i) => Ok(i.to_string()),
        Yaml::Boolean(b) => Ok(b.to_string()),
        Yaml::Null => Ok("null".to_owned()),
        _ => Err("only scalar values can be mapping keys".to_owned()),
    }
}

/// YAML in the block style Terraform's yamlencode writes: strings double-quoted, keys sorted, one
/// line per scalar, ending with a newline.
pub(super) fn yaml_encode(value: &Value) -> String {
    let mut out = String::new();
    write_yaml(value, 0, &mut out);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn yaml_scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::Unknown => Some("null".to_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(serde_json::Value::String(s.clone()).to_string()),
        Value::List(items) if items.is_empty() => Some("[]".to_owned()),
        Value::Object(map) if map.is_empty() => Some("{}".to_owned()),
        _ => None,
    }
}

fn write_yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::List(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                match yaml_scalar(item) {
                    Some(scalar) => out.push_str(&format!("{scalar}\n")),
                    None => {
                        let mut nested = String::new();
                        write_yaml(item, indent + 2, &mut nested);
                        out.push_str(nested.trim_start());
                    }
                }
            }
        }
        Value::Object(map) if !map.is_empty() => {
            for (key, item) in map {
                let key = serde_json::Value::String(key.clone()).to_string();
                match yaml_scalar(item) {
                    Some(scalar) => out.push_str(&format!("{pad}{key}: {scalar}\n")),
                    None => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        // Go's YAML encoder writes a list under a key at the key's own indentation.
                        let nested_indent = if matches!(item, Value::List(_)) { indent } else { indent + 2 };
                        write_yaml(item, nested_indent, out);
                    }
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", yaml_scalar(scalar).unwrap_or_default())),
    }
}
