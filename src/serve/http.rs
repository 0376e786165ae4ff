//! Serve, HTTP: a small HTTP/1.1 server on `std::net` that answers requests from the in-memory site.
//!
//! One thread per connection, at most [`MAX_CONNECTIONS`] at once (more get a 503). Every connection
//! carries one request and is closed after its response, as the `Connection: close` header says: the
//! server shuts its side down, so a client that reads to the end gets the end. The request head must
//! arrive within [`HEAD_TIMEOUT`] and fit in [`MAX_HEAD`] bytes and [`MAX_HEADERS`] lines (else 431);
//! it is parsed by `httparse` ([`parse_request_head`], lines may end in CRLF or a bare LF), and a
//! malformed one, or one with a control character in a header value, gets a 400. Only GET and HEAD
//! are answered; the Host header must name this server (see [`super::path::host_allowed`]); request
//! paths go through [`super::path::resolve`]; files read from disk are served only while their real
//! path (symlinks followed) is inside the site's folder, and are streamed from the file to the
//! socket with Content-Length from the open file, so a large file costs no memory for its size.
//! HTML gets the reload script on the way out. No CORS header is ever sent. Each request sees one
//! whole version of the site: a rebuild publishes a new map, it never changes the one being read.
//!
//! **Why not tiny_http.** `serve` was first built on tiny_http 0.12, and kept it until the load and
//! hostile-request tests showed what it cannot be made to do from outside: it has no read timeout,
//! no limit on a request head and no cap on connections; its thread pool can queue a new
//! connection behind connections that send nothing (the browser test saw a page wait a minute for
//! one of its files, and `connections_that_send_nothing_do_not_hold_up_the_others` failed on it
//! under load); it drops a `Connection` header given to a response, so it cannot close; it aborts
//! the process when a request declares a body larger than memory (it drains bodies into one buffer
//! of the declared size); and it never answers a request line naming HTTP/2.0. What `serve` needs
//! of HTTP is small (GET and HEAD of whole files, one stream of events), so the connection handling
//! is done here, in the one module, around `httparse` for the request head, with every limit above
//! tested (`tests/it/serve/http.rs`, `tests/it/serve/load.rs`).

use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::path::{self, Resolved};
use super::reload::{self, Hub};
use crate::output::{Entry, Files};

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
    /// How many change sets have been applied, and whether anything is pending (see
    /// [`path::STATUS_PATH`]).
    status: Mutex<(u64, bool)>,
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
            status: Mutex::new((0, false)),
        }
    }

    /// Record that a change set was applied; `settled` when nothing is left to do.
    pub fn applied(&self, settled: bool) {
        let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        *s = (s.0 + 1, settled);
    }

    /// Record whether anything is pending, without a new change set.
    pub fn settled(&self, settled: bool) {
        self.status.lock().unwrap_or_else(|e| e.into_inner()).1 = settled;
    }

    fn status_json(&self) -> String {
        let (generation, settled) = *self.status.lock().unwrap_or_else(|e| e.into_inner());
        format!("{{\"generation\":{generation},\"settled\":{settled}}}\n")
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
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: the same headers as GET, no body.
    Head,
    /// Anything else, answered 405.
    Other,
}

/// A request head as [`parse_request_head`] reads it: what the server needs of it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method.
    pub method: Method,
    /// The request target as sent (`/a/?q=1`): UTF-8, without control characters or spaces.
    pub target: String,
    /// The Host header's value, without the spaces around it: visible ASCII only. `None` when
    /// the request has none.
    pub host: Option<String>,
    /// How many bytes of the input the head took, its blank line included.
    pub len: usize,
}

/// One request on its connection: the parsed head and the stream to answer on.
struct Request {
    method: Method,
    target: String,
    host: Option<String>,
    stream: TcpStream,
}

/// Why a request head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Not HTTP as this server takes it: 400, with the reason.
    Malformed(&'static str),
    /// Longer than [`MAX_HEAD`], or more than [`MAX_HEADERS`] header lines: 431.
    TooLarge,
    /// The client went away or was too slow: nothing to answer.
    Gone,
}

/// The most header lines a request head may have (a browser sends about twenty).
pub const MAX_HEADERS: usize = 100;

/// Parse the request head at the start of `buf` with `httparse` (lines may end in CRLF or a bare
/// LF). `Ok(None)`: the head is not complete yet, read more. On top of what httparse checks
/// (tokens, one space between the parts of the request line, HTTP/1.0 or 1.1, no control
/// characters but tabs in header values, no folded lines), the method must be letters only, there
/// is at most one Host header, and its value is visible ASCII only, so that no control byte ever
/// reaches the Host check. The head, its blank line included, must fit in [`MAX_HEAD`] bytes.
pub fn parse_request_head(buf: &[u8]) -> Result<Option<RequestHead>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(e) => return Err(HeadError::Malformed(refusal(e))),
    };
    if len > MAX_HEAD {
        return Err(HeadError::TooLarge);
    }
    let (Some(method), Some(target), Some(_version)) = (req.method, req.path, req.version) else {
        return Err(HeadError::Malformed("bad request line"));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(HeadError::Malformed("bad method"));
    }
    if target.is_empty() || target.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(HeadError::Malformed("bad request target"));
    }
    let mut host = None;
    for h in req.headers.iter() {
        // httparse refuses these already; the server must not depend on its configuration.
        if h.value.iter().any(|&b| b.is_ascii_control() && b != b'\t') {
            return Err(HeadError::Malformed(
                "a header value holds a control character",
            ));
        }
        if h.name.eq_ignore_ascii_case("host") {
            if host.is_some() {
                return Err(HeadError::Malformed("more than one Host header"));
            }
            let value = trim_spaces(h.value);
            if !value.iter().all(u8::is_ascii_graphic) {
                return Err(HeadError::Malformed("bad Host header"));
            }
            // Visible ASCII is UTF-8.
            host = Some(String::from_utf8_lossy(value).into_owned());
        }
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => Method::Other,
    };
    Ok(Some(RequestHead {
        method,
        target: target.to_string(),
        host,
        len,
    }))
}

/// A header value without the spaces and tabs around it (RFC 9110's optional whitespace).
fn trim_spaces(value: &[u8]) -> &[u8] {
    let space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !space(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |e| e + 1);
    &value[start..end]
}

/// What a 400 says for each of httparse's refusals.
fn refusal(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "bad header name (or a folded header line)",
        httparse::Error::HeaderValue => "a header value holds a control character",
        httparse::Error::NewLine => "bad line end",
        httparse::Error::Token => "bad request line",
        httparse::Error::Version => "bad request line or unsupported HTTP version",
        _ => "not an HTTP/1.x request",
    }
}

/// Read a request head, up to its blank line, within [`HEAD_TIMEOUT`] and [`MAX_HEAD`]. The bytes
/// read stay in `buf` (for an error's answer to see whether it was a HEAD request).
fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<RequestHead, HeadError> {
    let deadline = Instant::now() + HEAD_TIMEOUT;
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
        buf.extend_from_slice(&chunk[..n]);
        // A head can only end with a line feed: parse again only when one arrived (or when the
        // buffer is over the limit), so a client sending a byte at a time costs no more than that.
        if chunk[..n].contains(&b'\n') || buf.len() > MAX_HEAD {
            if let Some(head) = parse_request_head(buf)? {
                return Ok(head);
            }
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
    let mut raw = Vec::with_capacity(1024);
    let head = read_head(&mut stream, &mut raw);
    // An error's answer to a HEAD request has no body either.
    let method = if raw.starts_with(b"HEAD ") {
        Method::Head
    } else {
        Method::Get
    };
    drop(raw);
    let bare = |stream: TcpStream, status: u16, body: &str| {
        let req = Request {
            method,
            target: String::new(),
            host: None,
            stream,
        };
        text(req, status, body);
    };
    match head {
        Ok(RequestHead {
            method,
            target,
            host,
            ..
        }) => handle(
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
            &format!(
                "the request head is larger than {MAX_HEAD} bytes or has more than {MAX_HEADERS} header lines\n"
            ),
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

/// What a response carries after its head.
enum Body {
    /// A file of the in-memory site (shared, not copied).
    Shared(Arc<[u8]>),
    /// Bytes made for this response (a page with the reload script, a message).
    Owned(Vec<u8>),
    /// A file from disk, opened, with its length when it was opened: sent in chunks straight from
    /// the file to the socket, so serving it takes no memory for its size.
    File(File, u64),
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Shared(b) => b.len() as u64,
            Body::Owned(b) => b.len() as u64,
            Body::File(_, len) => *len,
        }
    }

    /// The bytes, for HTML that gets the reload script. A file from disk is read whole only up
    /// to [`MAX_INJECT`] bytes; a larger one stays a file (and is sent without the script).
    fn into_bytes(self) -> Result<Vec<u8>, Body> {
        match self {
            Body::Shared(b) => Ok(b.to_vec()),
            Body::Owned(b) => Ok(b),
            Body::File(file, len) if len <= MAX_INJECT => {
                let mut bytes = Vec::with_capacity(len as usize);
                // A read error midway (the file went away) leaves what was read.
                let _ = file.take(len).read_to_end(&mut bytes);
                Ok(bytes)
            }
            file => Err(file),
        }
    }
}

/// The largest HTML file from disk that gets the reload script (it is read whole for that).
const MAX_INJECT: u64 = 8 << 20;

/// Write a response and close: the head, then the body unless the request was HEAD. `extra` holds
/// further header lines. Content-Length is the body's length; a file from disk that changes while
/// it is sent is cut at that length, and one that shrinks ends the connection short, so the client
/// sees that the body is incomplete.
fn respond(req: Request, status: u16, content_type: &str, extra: &str, body: Body) {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{COMMON}{extra}\r\n",
        reason(status),
        body.len()
    );
    let mut stream = req.stream;
    let sent = if req.method == Method::Head {
        stream.write_all(head.as_bytes()).is_ok()
    } else {
        match body {
            // Small bodies go out with their head in one write.
            Body::Shared(b) => write_both(&mut stream, head.as_bytes(), &b),
            Body::Owned(b) => write_both(&mut stream, head.as_bytes(), &b),
            Body::File(file, len) => {
                stream.write_all(head.as_bytes()).is_ok()
                    && std::io::copy(&mut file.take(len), &mut stream).is_ok_and(|n| n == len)
            }
        }
    };
    // The client going away is not our problem.
    if sent {
        finish(stream);
    }
}

/// Write a head and a body: in one write when the body is small, else one after the other.
fn write_both(stream: &mut TcpStream, head: &[u8], body: &[u8]) -> bool {
    if body.len() <= 64 * 1024 {
        let mut out = Vec::with_capacity(head.len() + body.len());
        out.extend_from_slice(head);
        out.extend_from_slice(body);
        stream.write_all(&out).is_ok()
    } else {
        stream.write_all(head).is_ok() && stream.write_all(body).is_ok()
    }
}

fn send(req: Request, status: u16, content_type: &str, body: Vec<u8>) {
    respond(req, status, content_type, "", Body::Owned(body));
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
        respond(
            req,
            405,
            "text/plain; charset=utf-8",
            "Allow: GET, HEAD\r\n",
            Body::Owned(b"only GET and HEAD\n".to_vec()),
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
            Some(body) => {
                let ct = path::content_type(&p);
                let body = if ct.starts_with("text/html") {
                    match body.into_bytes() {
                        Ok(bytes) => Body::Owned(reload::inject(&bytes, false)),
                        Err(large) => large,
                    }
                } else {
                    body
                };
                respond(req, 200, ct, "", body);
            }
            None => not_found(req, &files, &shared.root),
        },
        Resolved::Redirect(location) => respond(
            req,
            301,
            "text/plain; charset=utf-8",
            // The location is built from percent-encoded segments: no CR or LF can be in it.
            &format!("Location: {location}\r\n"),
            Body::Owned(Vec::new()),
        ),
        Resolved::Script => send(
            req,
            200,
            "text/javascript; charset=utf-8",
            reload::SCRIPT.as_bytes().to_vec(),
        ),
        Resolved::Events => {
            // The stream stays open as long as the page: holding this version of the site for
            // that long would keep every file of it alive after the next rebuild.
            drop(files);
            events(req, shared)
        }
        Resolved::Status => {
            let body = shared.status_json().into_bytes();
            respond(
                req,
                200,
                "application/json",
                "Cache-Control: no-store\r\n",
                Body::Owned(body),
            )
        }
        Resolved::NotFound => not_found(req, &files, &shared.root),
    }
}

/// A file of the site, ready to send: the shared bytes of a file made in memory, or a file from
/// disk opened for reading. `None` when it cannot be opened, is not a regular file, or resolves
/// (symlinks followed) outside the site's folder `root`.
fn read(entry: &Entry, root: &Path) -> Option<Body> {
    match entry {
        Entry::Bytes(b) => Some(Body::Shared(b.clone())),
        Entry::Disk(p) => {
            // The one rule of build and serve: nothing outside the site or in its hidden folders.
            // A FIFO or a device would block or never end: only regular files are sent.
            if !std::fs::metadata(p).ok()?.is_file() {
                return None;
            }
            let file = crate::sitefs::open_inside(root, p).ok()?;
            let meta = file.metadata().ok()?;
            meta.is_file().then(|| Body::File(file, meta.len()))
        }
    }
}

/// The site's 404.html with status 404, or a bare page when there is no site yet (it still carries
/// the reload script, so the error overlay shows).
fn not_found(req: Request, files: &Files, root: &Path) {
    let page = files
        .get("404.html")
        .and_then(|e| read(e, root))
        .and_then(|body| body.into_bytes().ok())
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

    /// An open page's live-reload stream lasts as long as the page: it must not keep the version
    /// of the site it was opened on (every file of it) alive once a newer one is published.
    #[test]
    fn the_event_stream_holds_no_version_of_the_site() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::new(
            std::env::temp_dir(),
            IpAddr::from([127, 0, 0, 1]),
            port,
        ));
        let first = Arc::new(Files::new());
        shared.publish(first.clone());
        spawn(listener, shared.clone());
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "GET /__fieldbook/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        )
        .unwrap();
        let mut head = [0u8; 64];
        let n = stream.read(&mut head).unwrap();
        assert!(
            head[..n].starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&head[..n])
        );
        shared.publish(Arc::new(Files::new()));
        // Only this test holds the first version now.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&first) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(Arc::strong_count(&first), 1);
    }

    fn parse(head: &[u8]) -> Result<RequestHead, HeadError> {
        parse_request_head(head).map(|h| h.expect("a whole head"))
    }

    #[test]
    fn request_heads_parse_strictly() {
        let head = b"GET /a/?q=1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\nAccept: */*\r\n\r\nbody";
        let ok = parse(head).unwrap();
        assert_eq!(
            ok,
            RequestHead {
                method: Method::Get,
                target: "/a/".to_string() + "?q=1",
                host: Some("127.0.0.1:1".into()),
                len: head.len() - 4,
            }
        );
        assert_eq!(
            parse(b"HEAD / HTTP/1.0\r\n\r\n").unwrap().method,
            Method::Head
        );
        assert_eq!(
            parse(b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap()
                .method,
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
            let mut head = bad.to_vec();
            head.extend_from_slice(b"\r\n\r\n");
            assert!(
                matches!(parse_request_head(&head), Err(HeadError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn bare_line_feeds_end_lines_too() {
        let ok = parse(b"GET /x HTTP/1.1\nHost: localhost:1\n\n").unwrap();
        assert_eq!(ok.target, "/x");
        assert_eq!(ok.host.as_deref(), Some("localhost:1"));
        // Not complete until the blank line.
        assert_eq!(parse_request_head(b"GET /x HTTP/1.1\nHost: a\n"), Ok(None));
    }

    #[test]
    fn control_bytes_in_header_values_are_refused() {
        for value in [
            &b"127.0.0.1:1\x00evil"[..],
            b"127.0.0.1:1\x0c",
            b"127.0.0.1:1\x0b",
            b"127.0.0.1:1\x1f",
            b"127.0.0.1:1\x7f",
            b"127.0.0.1\t:1",
            b"127.0.0.1:1\r",
        ] {
            for name in ["Host", "X-Other"] {
                let mut head = format!("GET / HTTP/1.1\r\n{name}: ").into_bytes();
                head.extend_from_slice(value);
                head.extend_from_slice(b"\r\n\r\n");
                let r = parse_request_head(&head);
                // A tab is allowed in other headers' values, never in Host.
                if name != "Host" && value.contains(&b'\t') {
                    assert!(matches!(r, Ok(Some(_))), "{r:?}");
                } else {
                    assert!(
                        matches!(r, Err(HeadError::Malformed(_))),
                        "{name}: {:?} gave {r:?}",
                        String::from_utf8_lossy(value)
                    );
                }
            }
        }
        // Spaces and tabs around the value are not part of it.
        let ok = parse(b"GET / HTTP/1.1\r\nHost: \t localhost:1 \t\r\n\r\n").unwrap();
        assert_eq!(ok.host.as_deref(), Some("localhost:1"));
    }

    #[test]
    fn head_size_and_header_count_are_limited() {
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD + 10, b'a');
        assert_eq!(parse_request_head(&big), Err(HeadError::TooLarge));
        big.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse_request_head(&big), Err(HeadError::TooLarge));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for n in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{n}: a\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse_request_head(&many), Err(HeadError::TooLarge));
    }
}
