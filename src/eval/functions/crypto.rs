//! Hash and crypto functions: digests of strings (their UTF-8 bytes) and of files, bcrypt, UUIDs.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use strata_provider_sdk::Value;

use super::filesystem::read_bytes;
use super::{Args, Category::Crypto, FnResult, Function};

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new("base64sha256", Crypto, &["str"], |a| string_digest(a, Digest::Sha256, Encoding::Base64)),
    Function::new("base64sha512", Crypto, &["str"], |a| string_digest(a, Digest::Sha512, Encoding::Base64)),
    Function::new("bcrypt", Crypto, &["str"], bcrypt).variadic("cost"),
    Function::new("filebase64sha256", Crypto, &["path"], |a| file_digest(a, Digest::Sha256, Encoding::Base64)),
    Function::new("filebase64sha512", Crypto, &["path"], |a| file_digest(a, Digest::Sha512, Encoding::Base64)),
    Function::new("filemd5", Crypto, &["path"], |a| file_digest(a, Digest::Md5, Encoding::Hex)),
    Function::new("filesha1", Crypto, &["path"], |a| file_digest(a, Digest::Sha1, Encoding::Hex)),
    Function::new("filesha256", Crypto, &["path"], |a| file_digest(a, Digest::Sha256, Encoding::Hex)),
    Function::new("filesha512", Crypto, &["path"], |a| file_digest(a, Digest::Sha512, Encoding::Hex)),
    Function::new("md5", Crypto, &["str"], |a| string_digest(a, Digest::Md5, Encoding::Hex)),
    Function::new("sha1", Crypto, &["str"], |a| string_digest(a, Digest::Sha1, Encoding::Hex)),
    Function::new("sha256", Crypto, &["str"], |a| string_digest(a, Digest::Sha256, Encoding::Hex)),
    Function::new("sha512", Crypto, &["str"], |a| string_digest(a, Digest::Sha512, Encoding::Hex)),
    Function::new("uuid", Crypto, &[], |_| Ok(Value::String(uuid::Uuid::new_v4().to_string()))),
    Function::new("uuidv5", Crypto, &["namespace", "name"], uuidv5),
];

#[derive(Clone, Copy)]
enum Digest {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Clone, Copy)]
enum Encoding {
    Hex,
    Base64,
}

fn digest(kind: Digest, bytes: &[u8]) -> Vec<u8> {
    match kind {
        Digest::Md5 => {
            use md5::Digest as _;
            md5::Md5::digest(bytes).to_vec()
        }
        Digest::Sha1 => {
            use sha1::Digest as _;
            sha1::Sha1::digest(bytes).to_vec()
        }
        Digest::Sha256 => {
            use sha2::Digest as _;
            sha2::Sha256::digest(bytes).to_vec()
        }
        Digest::Sha512 => {
            use sha2::Digest as _;
            sha2::Sha512::digest(bytes).to_vec()
        }
    }
}

fn encoded(kind: Digest, encoding: Encoding, bytes: &[u8]) -> Value {
    let sum = digest(kind, bytes);
    Value::String(match encoding {
        Encoding::Hex => hex::encode(sum),
        Encoding::Base64 => STANDARD.encode(sum),
    })
}

fn string_digest(args: &Args, kind: Digest, encoding: Encoding) -> FnResult {
    Ok(encoded(kind, encoding, args.string(0)?.as_bytes()))
}

fn file_digest(args: &Args, kind: Digest, encoding: Encoding) -> FnResult {
    Ok(encoded(kind, encoding, &read_bytes(args, 0)?))
}

/// bcrypt with a random salt (so, like Terraform's, not the same twice), in Go's `$2a$` form.
fn bcrypt(args: &Args) -> FnResult {
    let text = args.string(0)?;
    let cost = match args.rest() {
        [] => bcrypt::DEFAULT_COST,
        [_] => {
            let cost = args.integer(1)?;
            u32::try_from(cost).ok().filter(|c| (4..=31).contains(c)).ok_or_else(|| args.invalid(1, "cost must be between 4 and 31"))?
        }
        _ => return Err(args.fail("bcrypt() takes no more than two arguments")),
    };
    let hashed = bcrypt::hash_with_result(text.as_bytes(), cost).map_err(|err| args.fail(format!("error occurred generating password {err}")))?;
    Ok(Value::String(hashed.format_for_version(bcrypt::Version::TwoA)))
}

/// A name-based UUID: the namespace is `dns`, `url`, `oid`, `x500` or a UUID.
fn uuidv5(args: &Args) -> FnResult {
    let namespace = args.string(0)?;
    let name = args.string(1)?;
    let namespace_id = match namespace.as_str() {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|err| args.fail(format!("uuidv5() doesn't support namespace {other} ({err})")))?,
    };
    Ok(Value::String(uuid::Uuid::new_v5(&namespace_id, name.as_bytes()).to_string()))
}
