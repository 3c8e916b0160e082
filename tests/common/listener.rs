//! A loopback HTTP listener that takes one request, answers 200 and hands back its body: the
//! webhook end of drift tests. It gives up after a minute (the test then fails, it never hangs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the listener waits for the request, and then for each of its reads.
const PATIENCE: Duration = Duration::from_secs(60);

/// A URL on loopback (its path looks like a Slack webhook's secret) and the thread that answers
/// one request there; joining it gives the request's body.
pub fn listen_once() -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}/services/T000/B000/secret", listener.local_addr().expect("address"));
    listener.set_nonblocking(true).expect("a non-blocking listener");
    let handle = std::thread::spawn(move || {
        let started = Instant::now();
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock && started.elapsed() < PATIENCE => std::thread::sleep(Duration::from_millis(20)),
                Err(err) => panic!("no request reached the listener within {PATIENCE:?}: {err}"),
            }
        };
        stream.set_nonblocking(false).expect("a blocking stream");
        stream.set_read_timeout(Some(PATIENCE)).expect("a read timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header line");
            if line.trim().is_empty() {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().expect("content length");
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("body");
        let mut stream = stream;
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").expect("answer");
        String::from_utf8(body).expect("UTF-8 body")
    });
    (url, handle)
}
