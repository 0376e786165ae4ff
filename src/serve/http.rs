//! Serve, HTTP: answers requests from the in-memory site with tiny_http.
//!
//! Only GET and HEAD; the Host header must name this server (see [`super::path::host_allowed`]);
//! request paths go through [`super::path::resolve`]; files read from disk are served only while
//! their real path (symlinks followed) is inside the site's folder. HTML gets the reload script on
//! the way out. No CORS header is ever sent. tiny_http parses requests; responses are written whole,
//! with `Connection: close` (see [`COMMON`]). Each request sees one whole version of the site: a
//! rebuild publishes a new map, it never changes the one being read.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use tiny_http::{Method, Request, Server};

use super::path::{self, Resolved};
use super::rebuild::{Entry, Files};
use super::reload::{self, Hub};

/// What the HTTP threads share with the rebuild loop.
pub struct Shared {
    files: RwLock<Arc<Files>>,
    /// Open pages listen here.
    pub hub: Hub,
    /// The site's folder, canonical: files from disk must resolve inside it.
    pub root: PathBuf,
    pub bind: IpAddr,
    pub port: u16,
}

impl Shared {
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

/// Start `count` threads answering requests.
pub fn spawn_workers(
    server: Arc<Server>,
    shared: Arc<Shared>,
    count: usize,
) -> Vec<JoinHandle<()>> {
    (0..count)
        .map(|_| {
            let server = server.clone();
            let shared = shared.clone();
            std::thread::spawn(move || {
                while let Ok(req) = server.recv() {
                    handle(req, &shared);
                }
            })
        })
        .collect()
}

/// Headers every response carries: no caching (a preview changes under the reader), no sniffing, no
/// reading by other origins, and the end of the connection. tiny_http keeps connections open and
/// serves each from one thread of a small pool; browsers open several at once and keep them idle, and
/// a connection that has to wait for a free thread could wait for minutes. Closing after every
/// response keeps the pool free (on loopback a new connection costs next to nothing).
const COMMON: &str = "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nCross-Origin-Resource-Policy: same-origin\r\nConnection: close\r\n";

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Write a whole response (head and body in one write) and close. `extra` holds further header lines.
fn send_with(req: Request, status: u16, content_type: &str, extra: &str, body: &[u8]) {
    let head_only = req.method() == &Method::Head;
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{COMMON}{extra}\r\n",
        reason(status),
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    let mut w = req.into_writer();
    // The client going away is not our problem.
    let _ = w.write_all(&out).and_then(|_| w.flush());
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
pub fn handle(req: Request, shared: &Arc<Shared>) {
    if !matches!(req.method(), Method::Get | Method::Head) {
        send_with(
            req,
            405,
            "text/plain; charset=utf-8",
            "Allow: GET, HEAD\r\n",
            b"only GET and HEAD\n",
        );
        return;
    }
    let host = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_string());
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

/// The live-reload stream: one thread per open page, which writes events as they come and a comment
/// every 15 s (so a closed page is noticed), until the page goes away.
fn events(req: Request, shared: &Arc<Shared>) {
    if req.method() == &Method::Head {
        send(req, 200, "text/event-stream", Vec::new());
        return;
    }
    let Some(rx) = shared.hub.subscribe() else {
        text(req, 503, "too many pages are listening for reloads\n");
        return;
    };
    std::thread::spawn(move || {
        let mut w = req.into_writer();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n{COMMON}\r\nretry: 1000\n\n"
        );
        if w.write_all(head.as_bytes())
            .and_then(|_| w.flush())
            .is_err()
        {
            return;
        }
        loop {
            let chunk = match rx.recv_timeout(Duration::from_secs(15)) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => Arc::from(": keep-alive\n\n"),
                Err(RecvTimeoutError::Disconnected) => return,
            };
            if w.write_all(chunk.as_bytes())
                .and_then(|_| w.flush())
                .is_err()
            {
                return;
            }
        }
    });
}
