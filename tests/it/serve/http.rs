//! What the server answers: pages, Content-Types, redirects, the 404 page, every traversal attempt,
//! the Host check, methods, malformed and oversized request heads, silent connections, the port rules,
//! and readers during rebuilds.

use std::collections::HashSet;
use std::time::Duration;

use super::{fixture, request, write, Server};

#[test]
fn serves_pages_with_the_reload_script_and_content_types() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let home = s.get("/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert!(home.text().contains("Welcome home."));
    let page = s.get("/tools/alpha/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Alpha is the first tool."));
    assert!(page
        .text()
        .contains("<script src=\"/__fieldbook/reload.js\"></script></body>"));
    assert_eq!(page.header("Cache-Control"), Some("no-store"));
    assert_eq!(page.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(page.header("Access-Control-Allow-Origin"), None);
    for (path, ct) in [
        ("/extra.css", "text/css; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/fieldbook.js", "text/javascript; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
        ("/graph.json", "application/json"),
        ("/sitemap.xml", "application/xml"),
        ("/notes.txt", "text/plain; charset=utf-8"),
        ("/tools/pic.png", "image/png"),
        ("/__fieldbook/reload.js", "text/javascript; charset=utf-8"),
    ] {
        let r = s.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("Content-Type"), Some(ct), "{path}");
        assert_eq!(r.header("Access-Control-Allow-Origin"), None, "{path}");
    }
    // The script only goes into HTML.
    assert!(!s.get("/extra.css").text().contains("reload.js"));
    // A folder without its slash is redirected.
    let r = s.get("/tools/alpha");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("Location"), Some("/tools/alpha/"));
    // HEAD: headers, no body.
    let h = request(
        s.port,
        "HEAD",
        "/tools/alpha/",
        &format!("127.0.0.1:{}", s.port),
    );
    assert_eq!(h.status, 200);
    assert!(h.body.is_empty());
}

#[test]
fn missing_pages_get_the_sites_404_page() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let r = s.get("/no/such/page/");
    assert_eq!(r.status, 404);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert!(r.text().contains("Page not found"), "{}", r.text());
    assert!(r.text().contains("data-status=\"404\""));
}

#[test]
fn no_request_path_leaves_the_site() {
    let site = fixture();
    // A secret beside the site, and a symlink in static/ that points at it.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "TOP SECRET").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        site.path().join("static/leak.txt"),
    )
    .unwrap();
    write(site.path(), "private.txt", "SITE ROOT FILE");
    let s = Server::start(site.path(), &[]);
    for target in [
        "/../private.txt",
        "/../../../../etc/passwd",
        "/tools/../../private.txt",
        "/%2e%2e/private.txt",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/.%2e/private.txt",
        "/tools%2f..%2f..%2fprivate.txt",
        "/tools/alpha%2Findex.html",
        "/..%5cprivate.txt",
        "/tools\\..\\..\\private.txt",
        "//etc/passwd",
        "/%2fetc/passwd",
        "/%00",
        "/%c0%ae%c0%ae/private.txt",
        "/site.yaml",
        "/content/tools/alpha.md",
        "/leak.txt",
    ] {
        let r = s.get(target);
        assert_eq!(r.status, 404, "{target}");
        let body = r.text();
        assert!(
            !body.contains("SECRET") && !body.contains("SITE ROOT") && !body.contains("root:"),
            "{target} leaked: {body}"
        );
    }
    // An absolute-form target is not a path of this site either.
    let r = request(
        s.port,
        "GET",
        "http://127.0.0.1/etc/passwd",
        &format!("127.0.0.1:{}", s.port),
    );
    assert_ne!(r.status, 200);
}

#[test]
fn only_get_and_head_and_only_for_this_host() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let host = format!("127.0.0.1:{}", s.port);
    for m in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let r = request(s.port, m, "/", &host);
        assert_eq!(r.status, 405, "{m}");
        assert_eq!(r.header("Allow"), Some("GET, HEAD"));
    }
    assert_eq!(
        request(s.port, "GET", "/", &format!("localhost:{}", s.port)).status,
        200
    );
    assert_eq!(
        request(s.port, "GET", "/", &format!("[::1]:{}", s.port)).status,
        200
    );
    for bad in [
        format!("evil.example:{}", s.port),
        format!("127.0.0.1.nip.io:{}", s.port),
        "127.0.0.1:1".to_string(),
        "127.0.0.1".to_string(),
    ] {
        let r = request(s.port, "GET", "/", &bad);
        assert_eq!(r.status, 403, "{bad}");
        assert!(!r.text().contains("Welcome home"));
    }
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let site = fixture();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("--root")
        .arg(site.path())
        .args(["serve", "--port", &port])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{err}"
    );
    assert!(err.contains("--port 0"), "{err}");
}

#[test]
fn binding_beyond_loopback_warns() {
    let site = fixture();
    let s = Server::start(site.path(), &["--bind", "0.0.0.0"]);
    s.wait_printed("warning: listening on 0.0.0.0", 1);
    assert_eq!(s.get("/").status, 200);
}

#[test]
fn no_site_here_is_a_setup_error() {
    let empty = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("--root")
        .arg(empty.path())
        .args(["serve", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no site.yaml"));
}

#[test]
fn serve_leaves_public_alone_and_build_gets_no_reload_script() {
    let site = fixture();
    write(site.path(), "public/.fieldbook-output", "marker");
    write(site.path(), "public/old.html", "from an earlier build");
    {
        let s = Server::start(site.path(), &[]);
        write(
            site.path(),
            "content/notes/solo.md",
            "---\ntitle: Solo\n---\n\nEdited.\n",
        );
        s.wait_body("/notes/solo/", "Edited.");
    }
    let names: HashSet<String> = std::fs::read_dir(site.path().join("public"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        HashSet::from([".fieldbook-output".to_string(), "old.html".to_string()])
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("--root")
        .arg(site.path())
        .arg("build")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for entry in walk(&site.path().join("public")) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(
            !text.contains("__fieldbook"),
            "{} has the reload script",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn concurrent_readers_never_see_a_failure_or_half_a_page() {
    let site = fixture();
    for n in 0..40 {
        write(
            site.path(),
            &format!("content/notes/n{n:02}.md"),
            &format!("---\ntitle: Note {n}\n---\n\nNote body {n}.\n"),
        );
    }
    let s = Server::start(site.path(), &[]);
    let port = s.port;
    let paths: Vec<String> = (0..40).map(|n| format!("/notes/n{n:02}/")).collect();
    let readers: Vec<_> = (0..6)
        .map(|t| {
            let paths = paths.clone();
            std::thread::spawn(move || {
                let host = format!("127.0.0.1:{port}");
                // Bounded: 6 threads x 60 requests, loopback only.
                for k in 0..60 {
                    let path = &paths[(t * 7 + k) % paths.len()];
                    let r = request(port, "GET", path, &host);
                    assert_eq!(r.status, 200, "{path}");
                    let text = r.text();
                    assert!(text.trim_end().ends_with("</html>"), "{path} cut short");
                    assert!(text.contains("Note body"), "{path}");
                }
            })
        })
        .collect();
    // Meanwhile: rebuilds, both page-only and whole-site ones.
    for round in 0..6 {
        let n = round * 5;
        write(
            site.path(),
            &format!("content/notes/n{n:02}.md"),
            &format!("---\ntitle: Note {n} v{round}\n---\n\nNote body {n}, round {round}.\n"),
        );
        std::thread::sleep(Duration::from_millis(60));
    }
    for r in readers {
        r.join().expect("a reader failed");
    }
    s.wait_body("/notes/n25/", "round 5");
}

/// Send raw bytes and read everything until the server closes the connection.
fn raw_exchange(port: u16, bytes: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(super::WAIT)).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out)
        .expect("the server closes the connection");
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn malformed_and_oversized_requests_get_a_status_and_the_connection_closes() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let host = format!("127.0.0.1:{}", s.port);
    // A well-formed request without `Connection: close` still ends with the end of the response.
    let r = raw_exchange(
        s.port,
        format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    );
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.contains("Welcome home."), "{r}");
    for bad in [
        "GET / HTTP/2.0\r\n\r\n".to_string(),
        "GET  / HTTP/1.1\r\n\r\n".to_string(),
        "NOT HTTP AT ALL\r\n\r\n".to_string(),
        format!("GET / HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\n\r\n"),
        format!("GET / HTTP/1.1\r\nHost: {host}\r\n folded\r\n\r\n"),
    ] {
        let r = raw_exchange(s.port, bad.as_bytes());
        assert!(
            r.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{bad:?}: {r}"
        );
    }
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let r = raw_exchange(s.port, huge.as_bytes());
    assert!(r.starts_with("HTTP/1.1 431 "), "{}", &r[..r.len().min(200)]);
    // A POST with a body gets its 405 whole, not a reset.
    let post = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100000\r\n\r\n{}",
        "x".repeat(100_000)
    );
    let r = raw_exchange(s.port, post.as_bytes());
    assert!(r.starts_with("HTTP/1.1 405 "), "{}", &r[..r.len().min(200)]);
    assert!(r.ends_with("only GET and HEAD\n"), "{r}");
}

#[test]
fn a_huge_declared_body_does_not_bring_the_server_down() {
    use std::io::Write;
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    // A body larger than memory is declared and never sent; nothing may try to hold it.
    for method in ["GET", "POST"] {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        write!(
            c,
            "{method} / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 100000000000000\r\n\r\nabc",
            s.port
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        drop(c);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        s.get("/tools/alpha/").status,
        200,
        "the server must still answer"
    );
}

#[test]
fn connections_that_send_nothing_do_not_hold_up_the_others() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let silent: Vec<std::net::TcpStream> = (0..20)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap())
        .collect();
    let start = std::time::Instant::now();
    for _ in 0..10 {
        assert_eq!(s.get("/tools/alpha/").status, 200);
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    drop(silent);
}

#[test]
fn beyond_the_connection_limit_a_request_gets_a_503_and_service_resumes_after() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    // 256 connections that send nothing hold every slot (each waits for its request head).
    let silent: Vec<std::net::TcpStream> = (0..256)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap())
        .collect();
    let deadline = std::time::Instant::now() + super::WAIT;
    loop {
        let r = s.get("/");
        if r.status == 503 {
            assert_eq!(r.header("Retry-After"), Some("1"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never refused: {}",
            r.status
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(silent);
    s.wait_body("/", "Welcome home.");
}

#[test]
fn a_request_with_bare_lf_line_ends_is_answered() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let start = std::time::Instant::now();
    let r = raw_exchange(
        s.port,
        format!("GET /tools/alpha/ HTTP/1.1\nHost: 127.0.0.1:{}\n\n", s.port).as_bytes(),
    );
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r:?}");
    assert!(r.contains("Alpha is the first tool."), "{r}");
    // Answered at once, not when the head's time is up.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // Mixed line ends, and a HEAD request, too.
    let r = raw_exchange(
        s.port,
        format!("HEAD / HTTP/1.1\r\nHost: 127.0.0.1:{}\n\r\n", s.port).as_bytes(),
    );
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r:?}");
    assert!(r.ends_with("\r\n\r\n"), "HEAD sent a body: {r:?}");
}

#[test]
fn nul_and_control_bytes_in_header_values_get_a_400() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let host = format!("127.0.0.1:{}", s.port);
    for (header, value) in [
        ("Host", format!("{host}\0")),
        ("Host", format!("{host}\0evil.example")),
        // Form feed and vertical tab are whitespace to `str::trim`: once they reached the Host
        // check and were trimmed away, so the request was answered.
        ("Host", format!("{host}\x0c")),
        ("Host", format!("\x0b{host}")),
        ("Host", format!("{host}\x1b[2J")),
        ("Host", format!("127.0.0.1\t:{}", s.port)),
        ("X-Note", "a\0b".to_string()),
        ("X-Note", "a\x01b".to_string()),
        ("X-Note", "a\x7fb".to_string()),
    ] {
        let head = if header == "Host" {
            format!("GET / HTTP/1.1\r\nHost: {value}\r\n\r\n")
        } else {
            format!("GET / HTTP/1.1\r\nHost: {host}\r\n{header}: {value}\r\n\r\n")
        };
        let r = raw_exchange(s.port, head.as_bytes());
        assert!(
            r.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{header}: {value:?} got {r:?}"
        );
        assert!(!r.contains("Welcome home"), "{value:?}");
    }
    // A tab inside another header's value is allowed (HTTP allows it), and spaces and tabs around
    // the Host value are not part of it.
    let r = raw_exchange(
        s.port,
        format!("GET / HTTP/1.1\r\nHost: \t{host} \r\nX-Note: a\tb\r\n\r\n").as_bytes(),
    );
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r:?}");
}

#[test]
fn files_from_static_are_sent_whole_from_disk_and_html_gets_the_script() {
    let site = fixture();
    write(
        site.path(),
        "static/plain.html",
        "<!doctype html><title>P</title><body><p>from static</p></body>",
    );
    // 300 KB that is not one byte repeated, so a chunk out of place would show.
    let data: Vec<u8> = (0..300_000u32).map(|n| (n * 7 % 251) as u8).collect();
    std::fs::write(site.path().join("static/data.bin"), &data).unwrap();
    let s = Server::start(site.path(), &[]);
    let r = s.get("/data.bin");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Length"), Some("300000"));
    assert!(r.body == data, "the body differs from the file");
    let h = request(
        s.port,
        "HEAD",
        "/data.bin",
        &format!("127.0.0.1:{}", s.port),
    );
    assert_eq!(h.header("Content-Length"), Some("300000"));
    assert!(h.body.is_empty());
    let page = s.get("/plain.html");
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.text()
            .contains("<p>from static</p><script src=\"/__fieldbook/reload.js\"></script></body>"),
        "{}",
        page.text()
    );
    assert_eq!(
        page.header("Content-Length"),
        Some(page.body.len().to_string().as_str())
    );
}
