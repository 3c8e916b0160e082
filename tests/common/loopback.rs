//! The one check between the tests and a real AWS account: every AWS endpoint a test uses must be
//! on this machine. Shared with providers/aws/tests (included there by path), so it uses std only.

/// `url` when its host is a loopback address; else panics saying how to run the tests.
pub fn assert_loopback(what: &str, url: &str) -> String {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")).unwrap_or("");
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    assert!(
        loopback,
        "\n\n{what}={url} is not a loopback address: the tests only ever talk to a local moto, never to AWS.\n\
         Run them with `scripts/test.sh`, or `source scripts/services.sh && ensure_moto` first \
         (it starts moto on 127.0.0.1 and exports STRATA_MOTO_URL).\n\n"
    );
    url.to_owned()
}
