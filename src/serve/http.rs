//! Serve, HTTP: a small HTTP/1.1 server on `std::net` that answers requests from the in-memory site.
//!
//! One thread per connection, at most [`MAX_CONNECTIONS`] at once (more get a 503). Every connection
//! carries one request and is closed after its response, as the `Connection: close` header says: the
//! server shuts its side down, so a client that reads to the end gets the end. The request head must
//! arrive within [`HEAD_TIMEOUT`] and fit in [`MAX_HEAD`] bytes; a malformed one gets a 400. Only GET
//! and HEAD are answered; the Host header must name this server (see [`super::path::host_allowed`]);
//! request paths go through [`super::path::resolve`]; files read from disk are served only while
//! their real path (symlinks followed) is inside the site's folder. HTML gets the reload script on
//! the way out. No CORS header is ever sent. Each request sees one whole version of the site: a
//! rebuild publishes a new map, it never changes the one being read.
//!
//! **Why not tiny_http.** `serve` was first built on tiny_http 0.12, and kept it until the load and
//! hostile-request tests showed what it cannot be made to do from outside: it has no read timeout,
//! no limit on a request head and no cap on connections; its thread pool can queue a new
//! connection behind connections that send nothing (the browser test saw a page wait a minute for
//! one of its files, and `connections_that_send_nothing_do_not_hold_up_the_others` failed on it
//! under load); it drops a `Connection` header given to a response, so it cannot close; it aborts
//! the process when a request declares a body larger than memory (it drains bodies into one buffer
//! of the declared size); and it never answers a request line naming HTTP/2.0. What `serve` needs
//! of HTTP is small (GET and HEAD of whole files, one stream of events), so it is done here, in the
//! one module, with every limit above tested (`tests/it/serve/http.rs`, `tests/it/serve/load.rs`).

use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::path::{self, Resolved};
use super::rebuild::{Entry, Files};
use super::reload::{self, Hub};

/// Connections open at once (live-reload streams included, which the hub caps at
/// [`reload::MAX_LISTENERS`]); one more is answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 256;
/// The most bytes a request head (request line and headers) may take.
pub const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long writing a response may block on a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After its response, how long a connection is drained of what the client still sends (a request
/// body, a pipelined request), so that closing it does not reset the response away.
const LINGER: Duration = Duration::from_millis(500);
/// The most bytes read while draining.
const LINGER_BYTES: usize = 1 << 20;

/// What the HTTP threads share with the rebuild loop.
pub struct Shared {
    files: RwLock<Arc<Files>>,
    /// Open pages listen here.
    pub hub: Hub,
    /// The site's folder, canonical: files from disk must resolve inside it.
    pub root: PathBuf,
    /// The address the server listens on, for the Host check.
    pub bind: IpAddr,
    /// The port it listens on, for the Host check.
    pub port: u16,
}

impl Shared {
    /// Nothing to serve yet.
    pub fn new(root: PathBuf, bind: IpAddr, port: u16) -> Shared {
        Shared {
            files: RwLock::new(Arc::new(Files::new())),
            hub: Hub::default(),
            root,
            bind,
            port,
        }
    }

    /// The site as it is now.
    pub fn snapshot(&self) -> Arc<Files> {
        match self.files.read() {
            Ok(f) => f.clone(),
            Err(e) => e.into_inner().clone(),
        }
    }

    /// Serve a new version of the site.
    pub fn publish(&self, files: Arc<Files>) {
        match self.files.write() {
            Ok(mut f) => *f = files,
            Err(e) => *e.into_inner() = files,
        }
    }
}

/// The HTTP method of a request, as far as this server cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: the same headers as GET, no body.
    Head,
    /// Anything else, answered 405.
    Other,
}

/// One request on its connection: the parsed head and the stream to answer on.
struct Request {
    method: Method,
    target: String,
    host: Option<String>,
    stream: TcpStream,
}

/// Why a request head was refused.
#[derive(Debug, PartialEq, Eq)]
enum HeadError {
    /// Not HTTP: 400.
    Malformed(&'static str),
    /// Longer than [`MAX_HEAD`]: 431.
    TooLarge,
    /// The client went away or was too slow: nothing to answer.
    Gone,
}

/// Parse a request head (everything before the blank line). Strict: one space between the three
/// parts of the request line, HTTP/1.0 or 1.1, `name: value` headers with no folded lines, at most
/// one Host.
fn parse_head(head: &[u8]) -> Result<(Method, String, Option<String>), HeadError> {
    let head = std::str::from_utf8(head).map_err(|_| HeadError::Malformed("not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed("bad request line"));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(HeadError::Malformed("bad method"));
    }
    if target.is_empty() || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(HeadError::Malformed("bad request target"));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(HeadError::Malformed("unsupported HTTP version"));
    }
    let mut host = None;
    for line in lines {
        if line.starts_with([' ', '\t']) {
            return Err(HeadError::Malformed("folded header line"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(HeadError::Malformed("header line without a colon"));
        };
        if name.is_empty() || name.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(HeadError::Malformed("bad header name"));
        }
        if name.eq_ignore_ascii_case("host") {
            if host.is_some() {
                return Err(HeadError::Malformed("more than one Host header"));
            }
            host = Some(value.trim().to_string());
        }
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => Method::Other,
    };
    Ok((method, target.to_string(), host))
}

/// Read a request head, up to the blank line, within [`HEAD_TIMEOUT`] and [`MAX_HEAD`].
fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, HeadError> {
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(HeadError::Gone);
        }
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(HeadError::Gone),
            Ok(n) => n,
        };
        let searched_from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf[searched_from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        {
            buf.truncate(searched_from + end);
            return Ok(buf);
        }
        if buf.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
    }
}

/// Counts open connections; the count goes down when the guard is dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Accept connections on `listener` and answer each on a thread of its own, until the process ends.
pub fn spawn(listener: TcpListener, shared: Arc<Shared>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let open = Arc::new(AtomicUsize::new(0));
        for stream in listener.incoming() {
            let Ok(stream) = stream else {
                // A connection that failed before it was accepted (reset, out of descriptors):
                // give the system a moment and go on.
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            let slot = Slot(open.clone());
            if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                // Answered here, without reading the request and without a thread, so a flood
                // of connections cannot grow the number of threads.
                busy(stream);
                continue;
            }
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name("fieldbook-http".into())
                .spawn(move || {
                    connection(stream, &shared);
                    drop(slot);
                });
            if spawned.is_err() {
                // No thread to answer it: the connection is dropped, and its slot with it.
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    })
}

/// The answer to a connection beyond [`MAX_CONNECTIONS`]: a 503 that fits in the socket's buffer,
/// written with a short timeout, then the connection is closed.
fn busy(mut stream: TcpStream) {
    let body = "too many connections; try again\n";
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nRetry-After: 1\r\n{COMMON}\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    let _ = stream.shutdown(Shutdown::Write);
}

/// One connection: read the head, answer, close.
fn connection(mut stream: TcpStream, shared: &Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let head = read_head(&mut stream);
    let method = match &head {
        Ok(h) if h.starts_with(b"HEAD ") => Method::Head,
        _ => Method::Get,
    };
    let bare = |stream: TcpStream, status: u16, body: &str| {
        let req = Request {
            method,
            target: String::new(),
            host: None,
            stream,
        };
        text(req, status, body);
    };
    match head.and_then(|h| parse_head(&h)) {
        Ok((method, target, host)) => handle(
            Request {
                method,
                target,
                host,
                stream,
            },
            shared,
        ),
        Err(HeadError::Malformed(why)) => bare(stream, 400, &format!("bad request: {why}\n")),
        Err(HeadError::TooLarge) => bare(
            stream,
            431,
            &format!("the request head is larger than {MAX_HEAD} bytes\n"),
        ),
        Err(HeadError::Gone) => {}
    }
}

/// End a connection after its response: shut the sending side (the client sees the end of the
/// response at once), then read and drop what the client may still send, for a short while, so that
/// the close does not reset the connection before the client has read the response.
fn finish(mut stream: TcpStream) {
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let mut drained = 0;
    let mut buf = [0u8; 4096];
    while drained < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// Headers every response carries: no caching (a preview changes under the reader), no sniffing, no
/// reading by other origins, and the end of the connection: every connection carries one request
/// (on loopback a new connection costs next to nothing), so no idle connection holds a thread.
const COMMON: &str = "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nCross-Origin-Resource-Policy: same-origin\r\nConnection: close\r\n";

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        403 => "Forbidden",
        404 => "Not Found",
        400 => "Bad Request",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Write a whole response (head and body in one write) and close. `extra` holds further header lines.
fn send_with(req: Request, status: u16, content_type: &str, extra: &str, body: &[u8]) {
    let head_only = req.method == Method::Head;
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{COMMON}{extra}\r\n",
        reason(status),
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    let mut stream = req.stream;
    // The client going away is not our problem.
    if stream.write_all(&out).is_ok() {
        finish(stream);
    }
}

fn send(req: Request, status: u16, content_type: &str, body: Vec<u8>) {
    send_with(req, status, content_type, "", &body);
}

fn text(req: Request, status: u16, body: &str) {
    send(
        req,
        status,
        "text/plain; charset=utf-8",
        body.as_bytes().to_vec(),
    );
}

/// Answer one request.
fn handle(req: Request, shared: &Arc<Shared>) {
    if !matches!(req.method, Method::Get | Method::Head) {
        send_with(
            req,
            405,
            "text/plain; charset=utf-8",
            "Allow: GET, HEAD\r\n",
            b"only GET and HEAD\n",
        );
        return;
    }
    if !path::host_allowed(req.host.as_deref(), shared.bind, shared.port) {
        text(
            req,
            403,
            "fieldbook serve answers only requests addressed to it (Host: 127.0.0.1, localhost or the --bind address, with the port)\n",
        );
        return;
    }
    let files = shared.snapshot();
    match path::resolve(&req.target, |p| files.contains_key(p)) {
        Resolved::File(p) => match files.get(&p).and_then(|e| read(e, &shared.root)) {
            Some(bytes) => {
                let ct = path::content_type(&p);
                let body = if ct.starts_with("text/html") {
                    reload::inject(&bytes, false)
                } else {
                    bytes
                };
                send(req, 200, ct, body);
            }
            None => not_found(req, &files, &shared.root),
        },
        Resolved::Redirect(location) => send_with(
            req,
            301,
            "text/plain; charset=utf-8",
            // The location is built from percent-encoded segments: no CR or LF can be in it.
            &format!("Location: {location}\r\n"),
            b"",
        ),
        Resolved::Script => send(
            req,
            200,
            "text/javascript; charset=utf-8",
            reload::SCRIPT.as_bytes().to_vec(),
        ),
        Resolved::Events => events(req, shared),
        Resolved::NotFound => not_found(req, &files, &shared.root),
    }
}

/// A file's bytes; `None` when it cannot be read or a file from disk resolves outside the site.
fn read(entry: &Entry, root: &Path) -> Option<Vec<u8>> {
    match entry {
        Entry::Bytes(b) => Some(b.to_vec()),
        Entry::Disk(p) => {
            let real = std::fs::canonicalize(p).ok()?;
            if !real.starts_with(root) {
                return None;
            }
            std::fs::read(real).ok()
        }
    }
}

/// The site's 404.html with status 404, or a bare page when there is no site yet (it still carries
/// the reload script, so the error overlay shows).
fn not_found(req: Request, files: &Files, root: &Path) {
    let page = files
        .get("404.html")
        .and_then(|e| read(e, root))
        .unwrap_or_else(|| {
            b"<!doctype html><meta charset=\"utf-8\"><title>Not found</title><body><h1>Not found</h1><p>fieldbook serve has no page here (yet).</p></body>".to_vec()
        });
    send(
        req,
        404,
        "text/html; charset=utf-8",
        reload::inject(&page, true),
    );
}

/// The live-reload stream: the connection's thread writes events as they come and a comment every
/// 15 s (so a closed page is noticed), until the page goes away.
fn events(req: Request, shared: &Arc<Shared>) {
    if req.method == Method::Head {
        send(req, 200, "text/event-stream", Vec::new());
        return;
    }
    let Some(rx) = shared.hub.subscribe() else {
        text(req, 503, "too many pages are listening for reloads\n");
        return;
    };
    let mut w = req.stream;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n{COMMON}\r\nretry: 1000\n\n"
    );
    if w.write_all(head.as_bytes()).is_err() {
        return;
    }
    loop {
        let chunk = match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => Arc::from(": keep-alive\n\n"),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if w.write_all(chunk.as_bytes()).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads_parse_strictly() {
        let ok = parse_head(b"GET /a/?q=1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\nAccept: */*").unwrap();
        assert_eq!(
            ok,
            (
                Method::Get,
                "/a/".to_string() + "?q=1",
                Some("127.0.0.1:1".into())
            )
        );
        assert_eq!(parse_head(b"HEAD / HTTP/1.0").unwrap().0, Method::Head);
        assert_eq!(
            parse_head(b"DELETE / HTTP/1.1\r\nHost: x").unwrap().0,
            Method::Other
        );
        for bad in [
            &b"GET /  HTTP/1.1"[..],
            b"GET / HTTP/2.0",
            b"GET /",
            b"GET / HTTP/1.1 extra",
            b" / HTTP/1.1",
            b"G3T / HTTP/1.1",
            b"GET /a\x01b HTTP/1.1",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b",
            b"GET / HTTP/1.1\r\nno colon here",
            b"GET / HTTP/1.1\r\nHost : a",
            b"GET / HTTP/1.1\r\nX: a\r\n folded",
            b"GET /\xff HTTP/1.1",
        ] {
            assert!(
                matches!(parse_head(bad), Err(HeadError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
