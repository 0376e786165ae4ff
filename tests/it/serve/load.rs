//! Serve under load and time: the real binary on a loopback port, 50 client threads for 20 s (and at
//! most [`PER_CLIENT`] requests each) asking for pages, assets, the search index, missing pages and
//! hostile paths, while another thread edits, creates, renames and deletes content every ~100 ms.
//! Every request must get a whole, well-formed HTTP response with the status its path calls for;
//! a refused or reset connection, a timeout or a short body is a failure. The counts are printed
//! (`cargo test --test it serve::load -- --nocapture`).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{fixture, write, Server};

/// Client threads.
const CLIENTS: usize = 50;
/// How long the clients run.
const DURATION: Duration = Duration::from_secs(20);
/// The most requests one client sends (so the test is bounded by count as well as time).
const PER_CLIENT: usize = 600;
/// A pause between two requests of one client: 50 clients keep the server busy without taking
/// every core of a CI machine from the other tests.
const PAUSE: Duration = Duration::from_millis(30);
/// Time between two edits of the editing thread.
const EDIT_EVERY: Duration = Duration::from_millis(100);
/// A single request may take this long before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a path is and what it must answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Page,
    Asset,
    Search,
    Missing,
    Hostile,
    Redirect,
}

const CLASSES: [Class; 6] = [
    Class::Page,
    Class::Asset,
    Class::Search,
    Class::Missing,
    Class::Hostile,
    Class::Redirect,
];

impl Class {
    fn status(self) -> u16 {
        match self {
            Class::Page | Class::Asset | Class::Search => 200,
            Class::Missing | Class::Hostile => 404,
            Class::Redirect => 301,
        }
    }
}

fn targets() -> Vec<(Class, &'static str)> {
    let mut t = Vec::new();
    for p in [
        "/",
        "/tools/alpha/",
        "/tools/beta/",
        "/playbooks/run/",
        "/notes/solo/",
        "/tools/",
        "/playbooks/",
        "/tags/",
        "/tags/red/",
        "/search/",
        "/404.html",
    ] {
        t.push((Class::Page, p));
    }
    for p in [
        "/style.css",
        "/extra.css",
        "/fieldbook.js",
        "/favicon.svg",
        "/tools/pic.png",
        "/notes.txt",
        "/nav.json",
        "/graph.json",
        "/sitemap.xml",
        "/__fieldbook/reload.js",
    ] {
        t.push((Class::Asset, p));
    }
    for p in [
        "/search/manifest.json",
        "/search/t/0.json.gz",
        "/search/d/0.json.gz",
        "/search.js",
    ] {
        t.push((Class::Search, p));
    }
    for p in [
        "/no/such/page/",
        "/tools/gamma/",
        "/missing.css",
        "/search/d/999999.json.gz",
        "/notes/churn/",
    ] {
        t.push((Class::Missing, p));
    }
    for p in [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/tools/..%2f..%2fsite.yaml",
        "/.%2e/site.yaml",
        "/..%5c..%5cetc%5cpasswd",
        "/tools\\..\\..\\site.yaml",
        "//etc/passwd",
        "/%00",
        "/style.css%00.html",
        "/%c0%ae%c0%ae/site.yaml",
        "/%ff/",
        "/site.yaml",
        "/content/tools/alpha.md",
        "/__fieldbook/../site.yaml",
    ] {
        t.push((Class::Hostile, p));
    }
    for p in ["/tools/alpha", "/notes/solo?x=1"] {
        t.push((Class::Redirect, p));
    }
    t
}

/// One response as read off the wire.
struct Response {
    status: u16,
    content_length: Option<usize>,
    body: Vec<u8>,
}

/// Send one request and read the whole response (the server closes every connection). Any I/O error,
/// a timeout, a malformed head or a body shorter or longer than its Content-Length is an `Err`.
fn fetch(addr: SocketAddr, method: &str, target: &str, host: &str) -> Result<Response, String> {
    let mut s =
        TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(REQUEST_TIMEOUT))
        .and_then(|_| s.set_write_timeout(Some(REQUEST_TIMEOUT)))
        .map_err(|e| format!("set timeout: {e}"))?;
    s.write_all(
        format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: load\r\n\r\n")
            .as_bytes(),
    )
    .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("read after {} bytes: {e}", raw.len()))?;
    let _ = s.shutdown(Shutdown::Both);
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no end of headers in {} bytes", raw.len()))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "head is not UTF-8".to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut content_length = None;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length {value:?}"))?,
            );
        }
    }
    let body = raw[end + 4..].to_vec();
    let want = if method == "HEAD" {
        0
    } else {
        content_length.ok_or("no Content-Length")?
    };
    if body.len() != want {
        return Err(format!(
            "body of {} bytes, Content-Length says {want}",
            body.len()
        ));
    }
    Ok(Response {
        status,
        content_length,
        body,
    })
}

/// Check one answer against what its path calls for.
fn check(class: Class, method: &str, r: &Response) -> Result<(), String> {
    if r.status != class.status() {
        return Err(format!("status {}, expected {}", r.status, class.status()));
    }
    if r.content_length.is_none() {
        return Err("no Content-Length".into());
    }
    if method == "HEAD" {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&r.body);
    match class {
        Class::Page | Class::Missing | Class::Hostile => {
            // Every page is whole, and carries the reload script.
            if !text.trim_end().ends_with("</html>") {
                return Err("HTML cut short".into());
            }
            if !text.contains("/__fieldbook/reload.js") {
                return Err("no reload script".into());
            }
        }
        Class::Asset | Class::Search => {
            if r.body.is_empty() {
                return Err("empty body".into());
            }
        }
        Class::Redirect => {}
    }
    if text.contains("root:x:0:0") || text.contains("Serve fixture\nbase_url") {
        return Err("leaked a file from outside the site".into());
    }
    Ok(())
}

/// The editing thread's next step: body edits, title edits (which re-render the pages that show the
/// title), new files, renames and deletions. The pages the clients ask for always exist.
fn edit(root: &Path, k: usize, churn: &mut Vec<String>) {
    match k % 6 {
        0 => write(
            root,
            "content/notes/solo.md",
            &format!("---\ntitle: Solo\n---\n\nA lonely note, edit {k}.\n"),
        ),
        1 => {
            let name = format!("content/notes/churn-{k}.md");
            write(
                root,
                &name,
                &format!("---\ntitle: Churn {k}\ntags: [red]\n---\n\nSee [[alpha]].\n"),
            );
            churn.push(name);
        }
        2 => {
            if let Some(old) = churn.pop() {
                let new = format!("content/notes/churn-{k}-renamed.md");
                let _ = std::fs::rename(root.join(&old), root.join(&new));
                churn.push(new);
            }
        }
        3 => write(
            root,
            "content/tools/beta.md",
            &format!("---\ntitle: Beta v{k}\n---\n\nBeta is the second tool.\n"),
        ),
        4 => {
            if churn.len() > 3 {
                let old = churn.remove(0);
                let _ = std::fs::remove_file(root.join(old));
            }
        }
        _ => write(
            root,
            "content/playbooks/run.md",
            &format!("---\ntitle: Run\ntools: [alpha]\n---\n\nRun it with [[beta]], take {k}.\n"),
        ),
    }
}

#[test]
fn fifty_clients_for_twenty_seconds_while_the_site_changes_never_see_a_failure() {
    let site = fixture();
    let mut s = Server::start(site.path(), &[]);
    let addr: SocketAddr = ([127, 0, 0, 1], s.port).into();
    let targets = Arc::new(targets());
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<Vec<AtomicUsize>> =
        Arc::new(CLASSES.iter().map(|_| AtomicUsize::new(0)).collect());
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + DURATION;

    let editor = {
        let root = site.path().to_path_buf();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut churn = Vec::new();
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                edit(&root, k, &mut churn);
                k += 1;
                std::thread::sleep(EDIT_EVERY);
            }
            k
        })
    };

    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let targets = targets.clone();
            let counts = counts.clone();
            let failures = failures.clone();
            let failed = failed.clone();
            std::thread::spawn(move || {
                let hosts = [
                    format!("127.0.0.1:{}", addr.port()),
                    format!("localhost:{}", addr.port()),
                ];
                let mut sent = 0;
                while sent < PER_CLIENT && Instant::now() < deadline {
                    let (class, path) = targets[(c * 13 + sent * 7) % targets.len()];
                    let method = if sent % 5 == 4 { "HEAD" } else { "GET" };
                    let host = &hosts[(c + sent) % 2];
                    let outcome =
                        fetch(addr, method, path, host).and_then(|r| check(class, method, &r));
                    let i = CLASSES.iter().position(|x| *x == class).unwrap_or(0);
                    counts[i].fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = outcome {
                        failed.fetch_add(1, Ordering::Relaxed);
                        let mut f = failures.lock().unwrap_or_else(|e| e.into_inner());
                        if f.len() < 30 {
                            f.push(format!("{method} {path} ({class:?}): {e}"));
                        }
                    }
                    sent += 1;
                    std::thread::sleep(PAUSE);
                }
                sent
            })
        })
        .collect();

    let sent: usize = clients
        .into_iter()
        .map(|h| h.join().expect("a client thread panicked"))
        .sum();
    stop.store(true, Ordering::Relaxed);
    let edits = editor.join().expect("the editing thread panicked");
    let elapsed = started.elapsed();
    let updates = s.printed().matches("Updated").count();
    let by_class: Vec<String> = CLASSES
        .iter()
        .zip(counts.iter())
        .map(|(c, n)| format!("{c:?} {}", n.load(Ordering::Relaxed)))
        .collect();
    let failed = failed.load(Ordering::Relaxed);
    println!(
        "serve load: {sent} requests from {CLIENTS} clients in {:.1} s ({}), {failed} failed; {edits} edits, {updates} rebuilds",
        elapsed.as_secs_f64(),
        by_class.join(", ")
    );
    let failures = failures.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(
        failed,
        0,
        "failed requests (first {}):\n{}\nserver:\n{}",
        failures.len(),
        failures.join("\n"),
        s.printed()
    );
    assert!(s.alive(), "the server exited:\n{}", s.printed());
    // The load really ran across rebuilds, and the server is still current afterwards.
    assert!(sent >= CLIENTS * 100, "only {sent} requests were sent");
    assert!(
        updates >= 20,
        "only {updates} rebuilds during the run:\n{}",
        s.printed()
    );
    let last = (0..edits).rev().find(|k| k % 6 == 0).unwrap_or(0);
    s.wait_body("/notes/solo/", &format!("edit {last}."));
}
