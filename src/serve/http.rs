//! Serve, HTTP: answers requests from the in-memory site with tiny_http.
//!
//! tiny_http accepts connections (a thread of its own for each), reads and parses requests (a
//! malformed one gets its 400 and the connection is closed) and hands them to [`WORKERS`] threads,
//! which answer from the site. Only GET and HEAD are answered; the Host header must name this
//! server, once (see [`super::path::host_allowed`]); request paths go through
//! [`super::path::resolve`]; files read from disk are served only while their real path (symlinks
//! followed) is inside the site's folder. HTML gets the reload script on the way out. No CORS header
//! is ever sent. Each request sees one whole version of the site: a rebuild publishes a new map, it
//! never changes the one being read.
//!
//! **How connections end.** tiny_http decides from the request alone. After the response to a
//! request that says `Connection: close`, or is HTTP/1.0 without `keep-alive`, it closes the
//! connection at once; it also closes it after a malformed request and when the client closes or a
//! read fails. It drops a `Connection` header given to a [`Response`] (tiny-http issue #244), so a
//! response cannot ask for the close. Any other connection is kept open for the client's next
//! request, as HTTP/1.1 allows: browsers reuse it, and a client that wants the end of the stream
//! after one response must send `Connection: close`. An idle kept connection holds one of
//! tiny_http's connection threads, never a worker.
//!
//! **Limits that hold**: [`WORKERS`] threads answer requests; a live-reload stream gets a thread of
//! its own, at most [`reload::MAX_LISTENERS`] of them; a write to a client that does not read blocks
//! for at most [`WRITE_TIMEOUT`] (an option of the listening socket that the accepted sockets
//! inherit); tiny_http stops accepting at its first accept error (out of file descriptors, say),
//! and then a new [`Server`] takes over the listening socket.
//!
//! **Limits tiny_http 0.12 does not offer**: no read timeout (a connection that sends nothing, or a
//! byte now and then, keeps its thread until the client goes; a read timeout inherited from the
//! listening socket would also time out tiny_http's `accept`, which then stops for good); no closing
//! of a kept-alive connection by the server; no cap on open connections (nothing runs between its
//! accept and the connection's thread); no limit on the size of a request head; a request line
//! naming HTTP/2.0 or later gets a 505 and then its connection thread waits forever on its own
//! response writer, holding a thread and the socket. Its own 400 and 505 carry only its headers.

use std::io::{self, Write};
use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use tiny_http::{Header, Method, Request, Response, Server};

use super::path::{self, Resolved};
use super::rebuild::{Entry, Files};
use super::reload::{self, Hub};

/// Threads answering requests (live-reload streams get their own).
pub const WORKERS: usize = 8;
/// How long writing a response may block on a client that does not read.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

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

/// Answer requests on the listening socket with tiny_http until the process ends.
pub fn spawn(listener: TcpListener, shared: Arc<Shared>) -> io::Result<JoinHandle<()>> {
    inherit_options(&listener)?;
    let mut server = start(&listener)?;
    std::thread::Builder::new()
        .name("fieldbook-http".into())
        .spawn(move || loop {
            answer(&server, &shared);
            // tiny_http's accept thread has stopped (it does at its first accept error): once a
            // new server can be made on the same socket, it takes over.
            loop {
                std::thread::sleep(Duration::from_millis(100));
                if let Ok(s) = start(&listener) {
                    server = s;
                    break;
                }
            }
        })
}

fn start(listener: &TcpListener) -> io::Result<Arc<Server>> {
    let server = Server::from_listener(listener.try_clone()?, None).map_err(io::Error::other)?;
    Ok(Arc::new(server))
}

/// Answer requests on [`WORKERS`] threads until `server` fails, then let the workers go.
fn answer(server: &Arc<Server>, shared: &Arc<Shared>) {
    let (done, failed) = mpsc::channel();
    for _ in 0..WORKERS {
        let (server, shared, done) = (server.clone(), shared.clone(), done.clone());
        let _ = std::thread::Builder::new()
            .name("fieldbook-http-worker".into())
            .spawn(move || {
                while let Ok(req) = server.recv() {
                    handle(req, &shared);
                }
                let _ = done.send(());
            });
    }
    drop(done);
    let _ = failed.recv();
    for _ in 1..WORKERS {
        server.unblock();
    }
}

/// Set, on the listening socket, options every accepted socket inherits (Linux copies them on
/// accept; tiny_http sets none of its own): [`WRITE_TIMEOUT`] for writes, no Nagle delay. Not a read
/// timeout: `accept` would time out with it, and tiny_http's accept thread ends at its first error.
#[cfg(unix)]
fn inherit_options(listener: &TcpListener) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    fn set<T>(fd: libc::c_int, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
        // SAFETY: `value` points at a live `T` of the size passed, for the whole call.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (value as *const T).cast(),
                std::mem::size_of::<T>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
    let timeout = libc::timeval {
        tv_sec: WRITE_TIMEOUT.as_secs() as libc::time_t,
        tv_usec: 0,
    };
    let fd = listener.as_raw_fd();
    set(fd, libc::SOL_SOCKET, libc::SO_SNDTIMEO, &timeout)?;
    set(
        fd,
        libc::IPPROTO_TCP,
        libc::TCP_NODELAY,
        &(1 as libc::c_int),
    )
}

/// Elsewhere nothing is set: writes to a client that does not read may block for longer.
#[cfg(not(unix))]
fn inherit_options(_: &TcpListener) -> io::Result<()> {
    Ok(())
}

/// Headers every response carries: no caching (a preview changes under the reader), no sniffing, no
/// reading by other origins.
const COMMON: [(&str, &str); 3] = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
];

/// Answer with a whole body (none for HEAD: tiny_http leaves it out) and its Content-Length.
/// `extra` holds further headers.
fn send_with(req: Request, status: u16, content_type: &str, extra: &[(&str, &str)], body: Vec<u8>) {
    // Never chunked: every response says how long it is.
    let mut response = Response::from_data(body)
        .with_status_code(status)
        .with_chunked_threshold(usize::MAX);
    let headers = [("Content-Type", content_type)].into_iter();
    for (name, value) in headers.chain(COMMON).chain(extra.iter().copied()) {
        if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    // The client going away is not our problem.
    let _ = req.respond(response);
}

fn send(req: Request, status: u16, content_type: &str, body: Vec<u8>) {
    send_with(req, status, content_type, &[], body);
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
    if !matches!(req.method(), Method::Get | Method::Head) {
        send_with(
            req,
            405,
            "text/plain; charset=utf-8",
            &[("Allow", "GET, HEAD")],
            b"only GET and HEAD\n".to_vec(),
        );
        return;
    }
    let mut hosts = req.headers().iter().filter(|h| h.field.equiv("Host"));
    let host = hosts.next().map(|h| h.value.as_str().to_string());
    if hosts.next().is_some() {
        text(req, 400, "bad request: more than one Host header\n");
        return;
    }
    if !path::host_allowed(host.as_deref(), shared.bind, shared.port) {
        text(
            req,
            403,
            "fieldbook serve answers only requests addressed to it (Host: 127.0.0.1, localhost or the --bind address, with the port)\n",
        );
        return;
    }
    let files = shared.snapshot();
    match path::resolve(req.url(), |p| files.contains_key(p)) {
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
            &[("Location", &location)],
            Vec::new(),
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

/// The live-reload stream, on a thread of its own: it writes events as they come and a comment every
/// 15 s (so a closed page is noticed), until the page goes away. A [`Response`] cannot stream (its
/// chunked body is sent 8 KiB at a time), so the stream is written on tiny_http's writer for this
/// request: a head that says `Connection: close`, then events until the page goes away. tiny_http
/// closes its reading side when the page closes the connection; dropping the writer closes the rest.
fn events(req: Request, shared: &Arc<Shared>) {
    if req.method() == &Method::Head {
        send(req, 200, "text/event-stream", Vec::new());
        return;
    }
    let Some(rx) = shared.hub.subscribe() else {
        text(req, 503, "too many pages are listening for reloads\n");
        return;
    };
    // If no thread can be had, the request is dropped, and tiny_http answers it with a 500.
    let _ = std::thread::Builder::new()
        .name("fieldbook-reload".into())
        .spawn(move || {
            let mut w = req.into_writer();
            let common: String = COMMON.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n{common}Connection: close\r\n\r\nretry: 1000\n\n"
            );
            let mut chunk: Arc<str> = Arc::from(head);
            loop {
                if w.write_all(chunk.as_bytes()).and_then(|_| w.flush()).is_err() {
                    return;
                }
                chunk = match rx.recv_timeout(Duration::from_secs(15)) {
                    Ok(event) => event,
                    Err(RecvTimeoutError::Timeout) => Arc::from(": keep-alive\n\n"),
                    Err(RecvTimeoutError::Disconnected) => return,
                };
            }
        });
}
