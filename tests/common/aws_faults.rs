//! A fault-injecting HTTP proxy between strata's AWS SDK clients and moto, for tests of retries:
//! it answers chosen requests as AWS does when it throttles (HTTP 400, code `Throttling`) or fails
//! on its side (HTTP 500, code `InternalFailure`), in the XML of the query protocols RDS and EC2
//! speak, and forwards everything else to moto unchanged. It counts what it saw per API action.
//!
//! Plain std threads, one per connection; each connection carries one request and is closed
//! (`Connection: close`), so the SDK never reuses a socket the proxy is about to drop. The threads
//! end with the test process. Owns nothing else; it never changes a forwarded body.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// How an injected fault answers.
#[derive(Clone, Copy, Debug)]
pub enum FaultKind {
    /// HTTP 400, `Throttling`: the SDK retries it with its throttling backoff.
    Throttling,
    /// HTTP 500, `InternalFailure`: the SDK retries it as a transient error.
    InternalFailure,
}

impl FaultKind {
    fn status_line(self) -> &'static str {
        match self {
            FaultKind::Throttling => "HTTP/1.1 400 Bad Request",
            FaultKind::InternalFailure => "HTTP/1.1 500 Internal Server Error",
        }
    }

    fn code(self) -> &'static str {
        match self {
            FaultKind::Throttling => "Throttling",
            FaultKind::InternalFailure => "InternalFailure",
        }
    }
}

/// Requests to fault: after `skip` are let through, the next `remaining` ones for `action`
/// (every action when `None`).
struct Fault {
    action: Option<String>,
    kind: FaultKind,
    skip: usize,
    remaining: usize,
}

/// What the proxy saw of one API action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub requests: u64,
    pub faulted: u64,
}

#[derive(Default)]
struct Shared {
    faults: Mutex<Vec<Fault>>,
    seen: Mutex<BTreeMap<String, Seen>>,
}

pub struct FaultProxy {
    url: String,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Listens on a free 127.0.0.1 port and forwards to `upstream` (`http://host:port`).
    pub fn start(upstream: &str) -> FaultProxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let shared = Arc::new(Shared::default());
        let serving = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (shared, upstream) = (Arc::clone(&serving), upstream.clone());
                std::thread::spawn(move || serve(client, &upstream, &shared));
            }
        });
        FaultProxy { url, shared }
    }

    /// The URL to give the SDK as its endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answers the next `count` requests for `action` (all actions when `None`) with `kind`.
    pub fn inject(&self, action: Option<&str>, kind: FaultKind, count: usize) {
        self.inject_after(action, kind, 0, count);
    }

    /// Lets the next `skip` requests for `action` through, then answers `count` with `kind`: to
    /// fail the second of two calls (a rename's ModifyDBInstance passes, the next one fails).
    pub fn inject_after(&self, action: Option<&str>, kind: FaultKind, skip: usize, count: usize) {
        let fault = Fault { action: action.map(str::to_owned), kind, skip, remaining: count };
        lock(&self.shared.faults).push(fault);
    }

    /// Stops every fault: from now on everything is forwarded.
    pub fn heal(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every API action the proxy forwarded or faulted so far.
    pub fn actions(&self) -> Vec<String> {
        lock(&self.shared.seen).keys().cloned().collect()
    }

    /// What the proxy saw of `action` so far.
    pub fn seen(&self, action: &str) -> Seen {
        lock(&self.shared.seen).get(action).copied().unwrap_or_default()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One request: fault it or forward it, then close the connection.
fn serve(mut client: TcpStream, upstream: &str, shared: &Shared) {
    let Some((head, body)) = read_message(&mut client) else { return };
    let action = form_value(&body, "Action").unwrap_or_default();
    let fault = take_fault(shared, &action);
    {
        let mut seen = lock(&shared.seen);
        let entry = seen.entry(action).or_default();
        entry.requests += 1;
        entry.faulted += u64::from(fault.is_some());
    }
    let answer = match fault {
        Some(kind) => fault_response(kind, service_of(&head)),
        None => match forward(upstream, &head, &body) {
            Some(answer) => answer,
            None => return,
        },
    };
    let _ = client.write_all(&answer);
}

fn take_fault(shared: &Shared, action: &str) -> Option<FaultKind> {
    let mut faults = lock(&shared.faults);
    let fault = faults.iter_mut().find(|f| f.remaining > 0 && f.action.as_deref().is_none_or(|a| a == action))?;
    if fault.skip > 0 {
        fault.skip -= 1;
        return None;
    }
    fault.remaining -= 1;
    Some(fault.kind)
}

/// Sends the request to moto with `Connection: close` and answers its response, marked the same.
fn forward(upstream: &str, head: &str, body: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).ok()?;
    let mut request = with_connection_close(head).into_bytes();
    request.extend_from_slice(body);
    server.write_all(&request).ok()?;
    let (head, body) = read_message(&mut server)?;
    let mut answer = with_connection_close(&head).into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

/// A message's head (request or status line and headers, up to the blank line) and its body:
/// `Content-Length` bytes, or everything up to the end of the stream without one.
fn read_message(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut body = buffer.split_off(head_end);
    match header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        Some(length) => {
            while body.len() < length {
                let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
                body.extend_from_slice(&chunk[..n]);
            }
        }
        None => {
            let _ = stream.read_to_end(&mut body);
        }
    }
    Some((head, body))
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// `head` with its `Connection` header replaced by `Connection: close`.
fn with_connection_close(head: &str) -> String {
    let mut lines: Vec<&str> = head.trim_end_matches("\r\n").split("\r\n").collect();
    lines.retain(|line| !line.split_once(':').is_some_and(|(key, _)| key.trim().eq_ignore_ascii_case("connection")));
    lines.push("Connection: close");
    format!("{}\r\n\r\n", lines.join("\r\n"))
}

/// A field of a form-encoded (query protocol) body.
fn form_value(body: &[u8], key: &str) -> Option<String> {
    String::from_utf8_lossy(body).split('&').find_map(|pair| pair.strip_prefix(key)?.strip_prefix('=').map(str::to_owned))
}

/// The AWS service a signed request is for: the SigV4 credential scope's service (`rds`, `ec2`).
fn service_of(head: &str) -> String {
    let credential = header(head, "authorization").and_then(|auth| auth.split("Credential=").nth(1)).unwrap_or_default();
    let scope: Vec<&str> = credential.split([',', ' ']).next().unwrap_or_default().split('/').collect();
    scope.iter().rev().nth(1).copied().unwrap_or_default().to_owned()
}

/// The error as the service's query protocol spells it: RDS wraps it in `ErrorResponse`, EC2 in
/// `Response/Errors`.
fn fault_response(kind: FaultKind, service: String) -> Vec<u8> {
    let (code, message) = (kind.code(), "injected by the strata test proxy");
    let body = if service == "ec2" {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>strata-fault</RequestID></Response>")
    } else {
        format!("<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>strata-fault</RequestId></ErrorResponse>")
    };
    let head = format!("{}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", kind.status_line(), body.len());
    [head.into_bytes(), body.into_bytes()].concat()
}
