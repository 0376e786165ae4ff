//! What the serve benchmarks share (`serve_latency`, `serve_soak`, `serve_edits`): start `fieldbook serve` on a site
//! and follow its live-reload events.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// A running `fieldbook serve`.
pub struct Serving {
    pub child: Child,
    pub port: u16,
    /// What the server prints, line by line.
    pub lines: Receiver<String>,
}

/// Start `bin serve --port 0` on `site` and wait (up to 10 minutes, for large sites) until it serves.
pub fn start(bin: &str, site: &Path) -> Serving {
    let mut child = Command::new(bin)
        .arg("--root")
        .arg(site)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start fieldbook serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let port = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(600))
            .expect("serve did not start");
        println!("serve: {line}");
        if let Some(rest) = line.split("at http://127.0.0.1:").nth(1) {
            break rest
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .expect("port");
        }
    };
    Serving { child, port, lines }
}

/// Open the live-reload stream: each event's name, with when it arrived.
pub fn events(port: u16) -> Receiver<(Instant, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET /__fieldbook/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .expect("send");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(s).lines().map_while(Result::ok) {
            if let Some(name) = line.strip_prefix("event: ") {
                let _ = tx.send((Instant::now(), name.to_string()));
            }
        }
    });
    rx
}

/// GET `path` from the server on `port`: the status and the body (the server closes every
/// connection after its response, so the body is what follows the head).
#[allow(dead_code)] // not every benchmark that shares this file asks for pages
pub fn get(port: u16, path: &str) -> (u16, Vec<u8>) {
    try_get(port, path).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// [`get`], with the error when the connection failed or was reset.
#[allow(dead_code)] // not every benchmark that shares this file asks for pages
pub fn try_get(port: u16, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    use std::io::Read;
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of the reply's head");
    let status = String::from_utf8_lossy(&raw[..end])
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    Ok((status, raw[end + 4..].to_vec()))
}

/// `/__fieldbook/status`: how many change sets the server has applied, and whether nothing is
/// pending (the search index included).
#[allow(dead_code)] // not every benchmark that shares this file waits on it
pub fn status(port: u16) -> (u64, bool) {
    // A reset connection (a server with too many open answers 503 and closes) is asked again.
    let mut tries = 0;
    let (code, body) = loop {
        match try_get(port, "/__fieldbook/status") {
            Ok(reply) => break reply,
            Err(e) if tries < 100 => {
                tries += 1;
                if tries == 1 {
                    eprintln!("status: {e}; asking again");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("status: {e}"),
        }
    };
    assert_eq!(code, 200, "status answered {code}");
    let text = String::from_utf8_lossy(&body);
    let number = |key: &str| {
        text.split(&format!("\"{key}\":"))
            .nth(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
            })
            .unwrap_or_else(|| panic!("no {key} in {text}"))
    };
    let generation = number("generation").parse().expect("generation");
    (generation, number("settled") == "true")
}
