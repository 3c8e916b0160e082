//! A loopback TCP proxy in front of the test PostgreSQL server, for fault tests: strata connects to
//! it (PGPORT = `proxy.port`) and the test drops connections at chosen moments. It only forwards
//! and cuts bytes; it must not parse or change what flows through it.
//!
//! Patterns are matched within one read of the client's bytes; PostgreSQL clients send each
//! simple query in one write, so a whole query message (see [`simple_query`]) is a reliable match.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

use super::server;

/// When a rule cuts, relative to the client's bytes that matched it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cut {
    /// The server never sees them (a query cut on its way: its transaction rolls back).
    BeforeForwarding,
    /// The server gets them, the client never hears back (a COMMIT cut in flight: ambiguous).
    AfterForwarding,
}

/// Cut every open connection on the `nth` occurrence (1-based, counted over all connections).
struct OneShot {
    pattern: Vec<u8>,
    nth: usize,
    seen: usize,
    when: Cut,
}

#[derive(Default)]
struct Faults {
    one_shots: Vec<OneShot>,
    /// Connections sending any of these are cut before forwarding, every time, until healed.
    poisons: Vec<Vec<u8>>,
    open: Vec<TcpStream>,
    cuts: usize,
    /// Every chunk of client bytes the server got, in order.
    forwarded: Vec<Vec<u8>>,
}

pub struct PgProxy {
    pub port: u16,
    faults: Arc<Mutex<Faults>>,
}

/// The bytes of a simple-protocol query message carrying exactly `sql` ('Q', length, text, NUL).
pub fn simple_query(sql: &str) -> Vec<u8> {
    let length = u32::try_from(sql.len() + 5).expect("a short query");
    [&b"Q"[..], &length.to_be_bytes(), sql.as_bytes(), b"\0"].concat()
}

impl PgProxy {
    /// Listens on a free loopback port, forwarding to the test server.
    pub fn start() -> PgProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let faults = Arc::new(Mutex::new(Faults::default()));
        let shared = faults.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let faults = shared.clone();
                thread::spawn(move || serve(client, &faults));
            }
        });
        PgProxy { port, faults }
    }

    /// Cuts every open connection the `nth` time the client sends `pattern`.
    pub fn cut_on(&self, pattern: &[u8], nth: usize, when: Cut) {
        self.lock().one_shots.push(OneShot { pattern: pattern.to_vec(), nth, seen: 0, when });
    }

    /// Cuts, before forwarding, any connection that sends `pattern`, until [`PgProxy::heal`].
    pub fn poison(&self, pattern: &[u8]) {
        self.lock().poisons.push(pattern.to_vec());
    }

    pub fn heal(&self) {
        let mut faults = self.lock();
        faults.poisons.clear();
        faults.one_shots.clear();
    }

    /// Cuts every connection open now.
    pub fn cut_all(&self) {
        cut_all(&mut self.lock());
    }

    /// How many times connections were cut.
    pub fn cuts(&self) -> usize {
        self.lock().cuts
    }

    /// How many messages the server got that contain every one of `patterns`: what ran, and how
    /// often.
    pub fn forwarded(&self, patterns: &[&[u8]]) -> usize {
        self.lock().forwarded.iter().filter(|chunk| patterns.iter().all(|p| contains(chunk, p))).count()
    }

    fn lock(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }
}

fn lock(faults: &Mutex<Faults>) -> MutexGuard<'_, Faults> {
    faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn cut_all(faults: &mut Faults) {
    for stream in faults.open.drain(..) {
        let _ = stream.shutdown(Shutdown::Both);
    }
    faults.cuts += 1;
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn serve(client: TcpStream, faults: &Arc<Mutex<Faults>>) {
    let (host, port, _) = server();
    let Ok(upstream) = TcpStream::connect(format!("{host}:{port}")) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (Ok(client_read), Ok(upstream_write), Ok(upstream_read), Ok(client_write)) =
        (client.try_clone(), upstream.try_clone(), upstream.try_clone(), client.try_clone())
    else {
        return;
    };
    {
        let mut shared = lock(faults);
        shared.open.push(client);
        shared.open.push(upstream);
    }
    thread::spawn(move || pump(upstream_read, client_write));
    forward_client(client_read, upstream_write, faults);
}

/// Server to client: plain copying until either side goes.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0u8; 16 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buffer) {
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// Client to server, applying the faults to every chunk.
fn forward_client(mut client: TcpStream, mut upstream: TcpStream, faults: &Arc<Mutex<Faults>>) {
    let mut buffer = [0u8; 16 * 1024];
    while let Ok(n @ 1..) = client.read(&mut buffer) {
        let chunk = &buffer[..n];
        let mut shared = lock(faults);
        if shared.poisons.iter().any(|p| contains(chunk, p)) {
            shared.cuts += 1;
            break;
        }
        let mut fired = None;
        for shot in shared.one_shots.iter_mut().filter(|s| s.seen < s.nth && contains(chunk, &s.pattern)) {
            shot.seen += 1;
            if shot.seen == shot.nth {
                fired = Some(shot.when);
            }
        }
        if fired == Some(Cut::AfterForwarding) {
            // The client must never hear the answer: it goes first, then the server gets the message
            // and a moment to act on it before its connection goes too.
            let _ = client.shutdown(Shutdown::Both);
            if upstream.write_all(chunk).is_ok() {
                shared.forwarded.push(chunk.to_vec());
            }
            drop(shared);
            thread::sleep(std::time::Duration::from_millis(200));
            shared = lock(faults);
        } else if fired.is_none() {
            if upstream.write_all(chunk).is_err() {
                break;
            }
            shared.forwarded.push(chunk.to_vec());
        }
        if fired.is_some() {
            cut_all(&mut shared);
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
}
