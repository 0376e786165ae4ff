//! Search in a real browser: builds the search fixture under `/kb/`, serves it on loopback, drives
//! headless Chromium over the DevTools protocol, types into the header box and reads the results.
//!
//! Skipped, with a message, when no Chromium is installed (CI installs Debian's `chromium`; with
//! `FIELDBOOK_REQUIRE_BROWSER` or `CI` set a missing browser fails instead, so the test cannot go
//! quietly missing there). `FIELDBOOK_CHROMIUM` names another binary
//! (`crate::support::chromium_or_skip`).

use std::io::{BufRead, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

use crate::search::search_site;
use crate::support::chromium_or_skip;

/// What the server sent: (URL path, body bytes), in order.
type Served = Arc<Mutex<Vec<(String, usize)>>>;

/// Serve `root` under the URL path `prefix` on a loopback port, one thread per connection. Returns
/// the port and the log of what was sent.
fn serve(root: PathBuf, prefix: &'static str) -> (u16, Served) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    let served: Served = Arc::default();
    let log = served.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (root, log) = (root.clone(), log.clone());
            thread::spawn(move || {
                let _ = handle(stream, &root, prefix, &log);
            });
        }
    });
    (port, served)
}

fn handle(mut stream: TcpStream, root: &Path, prefix: &str, log: &Served) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        // Skip the headers.
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
        }
        let path = percent_decode(target.split(['?', '#']).next().unwrap_or("/"));
        let file = path
            .strip_prefix(prefix)
            .filter(|rel| !rel.split('/').any(|c| c == ".."))
            .map(|rel| {
                let p = root.join(rel);
                if p.is_dir() {
                    p.join("index.html")
                } else {
                    p
                }
            });
        let (status, ty, body) = match file.and_then(|f| std::fs::read(&f).ok().map(|b| (f, b))) {
            Some((f, body)) => {
                let ty = match f.extension().and_then(|e| e.to_str()) {
                    Some("html") => "text/html; charset=utf-8",
                    Some("js") => "text/javascript",
                    Some("css") => "text/css",
                    Some("json") => "application/json",
                    Some("svg") => "image/svg+xml",
                    _ => "application/octet-stream",
                };
                ("200 OK", ty, body)
            }
            None => ("404 Not Found", "text/plain", b"not found".to_vec()),
        };
        if let Ok(mut log) = log.lock() {
            log.push((path.clone(), body.len()));
        }
        // One write per response, sent at once (no Nagle delay waiting for an ACK).
        let mut response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ty}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(&body);
        stream.write_all(&response)?;
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A headless Chromium and one page of it, driven over the DevTools protocol.
struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch(binary: &Path) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--window-size=1200,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // Chromium prints the browser's WebSocket URL on stderr; keep draining it afterwards.
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url.trim().to_string());
                    }
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                panic!("chromium did not print its DevTools address within 30 s");
            }
        };
        let host = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .expect("host")
            .to_string();
        let stream = TcpStream::connect(&host).expect("connect to DevTools");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let (ws, _) = tungstenite::client(url.as_str(), stream).expect("DevTools handshake");
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            _profile: profile,
        };
        let target = b.call("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = b.call(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        b.session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        b.call("Page.enable", json!({}));
        b.call("Runtime.enable", json!({}));
        b
    }

    /// Send a command (to the page once attached) and wait for its answer; events are skipped.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to DevTools");
        loop {
            let reply = self.ws.read().expect("read from DevTools");
            let Ok(text) = reply.to_text() else { continue };
            let Ok(v) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    panic!("{method} failed: {e}");
                }
                return v["result"].clone();
            }
            if v["method"] == "Page.javascriptDialogOpening" {
                panic!("the page opened a dialog: {}", v["params"]);
            }
        }
    }

    /// Evaluate an expression in the page and return its value (promises are awaited).
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("`{expr}` threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Poll `expr` until it is truthy; its value.
    #[track_caller]
    fn wait_for(&mut self, expr: &str, what: &str) -> Value {
        let start = Instant::now();
        loop {
            let v = self.eval(expr);
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) {
                return v;
            }
            if start.elapsed() > Duration::from_secs(15) {
                panic!("timed out waiting for {what} (`{expr}`)");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for(
            &format!(
                "document.readyState === 'complete' && location.href === {}",
                json!(url)
            ),
            &format!("{url} to load"),
        );
    }

    fn key(&mut self, key: &str, code: &str, vk: u32, text: Option<&str>) {
        let mut down =
            json!({ "type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk });
        if let Some(t) = text {
            down["text"] = json!(t);
        }
        self.call("Input.dispatchKeyEvent", down);
        self.call(
            "Input.dispatchKeyEvent",
            json!({ "type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": vk }),
        );
    }

    /// Press `/` to focus the header box, clear it, type `text`, and wait for its results.
    fn type_query(&mut self, text: &str) -> Value {
        self.key("/", "Slash", 191, Some("/"));
        let focused = self.eval(
            "document.activeElement && document.activeElement.closest('form.site-search') !== null",
        );
        assert_eq!(focused, json!(true), "`/` focuses the search box");
        self.eval("document.activeElement.value = ''");
        self.call("Input.insertText", json!({ "text": text }));
        self.wait_for(
            &format!(
                "document.getElementById('search-results').dataset.query === {}",
                json!(text)
            ),
            &format!("results for {text}"),
        );
        self.results("#search-results")
    }

    /// The results shown in a list: [{title, kind, href, section, snippet, marks}].
    fn results(&mut self, list: &str) -> Value {
        self.eval(&format!(
            "Array.from(document.querySelectorAll('{list} > li')).map(li => ({{
                title: li.querySelector('.search-result-title').textContent,
                kind: (li.querySelector('.badge') || {{}}).textContent || null,
                href: li.querySelector('a').getAttribute('href'),
                section: (li.querySelector('.search-result-section') || {{}}).textContent || null,
                snippet: (li.querySelector('.search-result-snippet') || {{}}).textContent || null,
                marks: Array.from(li.querySelectorAll('mark')).map(m => m.textContent)
            }}))"
        ))
    }

    fn screenshot(&mut self, path: &Path) {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        let data = decode_base64(shot["data"].as_str().expect("png data"));
        std::fs::write(path, data).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.session.clear();
        let _ = self.ws.send(Message::text(
            json!({ "id": 0, "method": "Browser.close" }).to_string(),
        ));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn typing_in_the_header_box_finds_english_chinese_and_mixed_queries() {
    let Some(binary) =
        chromium_or_skip("typing_in_the_header_box_finds_english_chinese_and_mixed_queries")
    else {
        return;
    };
    let site = search_site();
    site.run(&["build", "--base-url", "/kb/"]).ok();
    let (port, _) = serve(site.path("public"), "/kb/");
    let base = format!("http://127.0.0.1:{port}/kb/");
    let mut b = Browser::launch(&binary);
    b.open(&base);

    // English, while typing: a prefix of the last word is enough.
    let r = b.type_query("qianch");
    assert_eq!(r[0]["title"], "Juliang Qianchuan", "{r:#}");
    let r = b.type_query("qianchuan");
    assert_eq!(r[0]["title"], "Juliang Qianchuan", "{r:#}");
    assert_eq!(r[0]["kind"], "tool");
    assert_eq!(r[0]["href"], "/kb/tools/juliang-qianchuan/");
    assert_eq!(r[1]["title"], "Paid and free traffic", "{r:#}");
    assert!(
        r[1]["marks"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x == "Qianchuan")),
        "matches are highlighted: {r:#}"
    );
    // Arrow keys and Enter open a result.
    b.key("ArrowDown", "ArrowDown", 40, None);
    b.key("ArrowDown", "ArrowDown", 40, None);
    let selected = b.eval("document.querySelector('#search-results [aria-selected=true] .search-result-title').textContent");
    assert_eq!(selected, "Paid and free traffic");
    b.key("Enter", "Enter", 13, Some("\r"));
    b.wait_for(
        "location.pathname === '/kb/playbooks/paid-traffic/' && document.readyState === 'complete'",
        "Enter to open the selected result",
    );

    // Chinese: a part of a longer run, and a query mixing both scripts.
    let r = b.type_query("千川");
    assert_eq!(r[0]["title"], "Juliang Qianchuan", "{r:#}");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    b.screenshot(&shots.join("search-dropdown.png"));
    assert!(
        r.as_array()
            .is_some_and(|a| a.iter().any(|x| x["title"] == "直播笔记")),
        "{r:#}"
    );
    let r = b.type_query("Qianchuan 千川");
    assert_eq!(r[0]["title"], "Juliang Qianchuan", "{r:#}");
    let r = b.type_query("抖店");
    assert_eq!(r[0]["title"], "Doudian", "{r:#}");

    // A section match links to its anchor.
    let r = b.type_query("refunds");
    assert_eq!(r[0]["href"], "/kb/tools/doudian/#after-sales", "{r:#}");
    assert_eq!(r[0]["section"], "After-sales");

    // Content is text, never markup.
    let r = b.type_query("xsscheck");
    assert_eq!(r[0]["title"], "<img src=x onerror=alert(1)>", "{r:#}");
    assert_eq!(
        b.eval("document.querySelectorAll('.search-panel img, .search-panel b').length"),
        0
    );

    // The kind filter.
    b.type_query("traffic");
    b.eval("document.querySelector('.search-panel .search-kind[data-kind=playbook]').click()");
    b.wait_for(
        "Array.from(document.querySelectorAll('#search-results .badge')).every(x => x.textContent === 'playbook') && document.querySelectorAll('#search-results li').length === 1",
        "the playbook filter",
    );

    // Enter with no result selected opens the search page for the query (and the kind chosen).
    b.type_query("doudian");
    b.key("Enter", "Enter", 13, Some("\r"));
    b.wait_for(
        "location.pathname === '/kb/search/' && location.search === '?q=doudian&kind=playbook'",
        "Enter to open the search page",
    );
    b.wait_for(
        "document.querySelector('#search-page .search-results')?.dataset.query === 'doudian'",
        "the search page's results",
    );
    let r = b.results("#search-page .search-results");
    assert_eq!(r[0]["title"], "Paid and free traffic", "{r:#}");

    // The search page shows results for ?q= on load.
    b.open(&format!("{base}search/?q=%E5%8D%83%E5%B7%9D"));
    b.wait_for(
        "document.querySelector('#search-page .search-results')?.dataset.query === '千川'",
        "results on the search page",
    );
    let r = b.results("#search-page .search-results");
    assert_eq!(r[0]["title"], "Juliang Qianchuan", "{r:#}");
    assert_eq!(
        b.eval("document.getElementById('search-page-input').value"),
        "千川"
    );
    b.open(&format!("{base}search/?q=qianchuan&kind=playbook"));
    b.wait_for(
        "document.querySelector('#search-page .search-results')?.dataset.query === 'qianchuan'",
        "filtered results on the search page",
    );
    let r = b.results("#search-page .search-results");
    assert_eq!(r.as_array().map(Vec::len), Some(1), "{r:#}");
    assert_eq!(r[0]["title"], "Paid and free traffic");
    // An exact phrase.
    b.open(&format!("{base}search/?q=%22live%20rooms%22"));
    b.wait_for(
        "document.querySelector('#search-page .search-results')?.dataset.query === '\"live rooms\"'",
        "phrase results",
    );
    let r = b.results("#search-page .search-results");
    assert_eq!(r.as_array().map(Vec::len), Some(1), "{r:#}");
    assert_eq!(
        r[0]["marks"],
        json!(["live rooms"]),
        "a phrase is highlighted whole: {r:#}"
    );

    b.open(&format!("{base}search/?q=qianchuan"));
    b.wait_for(
        "document.querySelector('#search-page .search-results')?.dataset.query === 'qianchuan'",
        "results for the screenshot",
    );
    b.screenshot(&shots.join("search-page.png"));
    eprintln!("screenshots of search: {}/search-*.png", shots.display());
}

#[test]
fn decode_base64_round_trips_a_known_value() {
    assert_eq!(decode_base64("aGVsbG8="), b"hello");
    assert_eq!(decode_base64("AAEC/w=="), [0, 1, 2, 255]);
}

/// Benchmark (run by `bench/search.sh`, ignored otherwise): on a built site holding both our index
/// and Pagefind's (`FIELDBOOK_BENCH_SITE`), the bytes and time of typical queries in a fresh browser,
/// for each engine. Prints one line per engine and query.
#[test]
#[ignore]
fn bench_queries_against_pagefind() {
    let (Some(binary), Some(dir)) = (
        crate::support::look_for_chromium(|name| std::env::var_os(name)).found(),
        std::env::var_os("FIELDBOOK_BENCH_SITE"),
    ) else {
        eprintln!("SKIPPED: set FIELDBOOK_BENCH_SITE to a built site with pagefind/ in it, and install chromium");
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::write(
        dir.join("pf-bench.html"),
        "<!doctype html><meta charset=\"utf-8\"><title>pagefind bench</title>\
         <script type=\"module\">window.pf = await import('/pagefind/pagefind.js'); window.pfReady = true;</script>",
    )
    .expect("write pf-bench.html");
    let (port, served) = serve(dir, "/");
    let base = format!("http://127.0.0.1:{port}/");
    let queries = ["qianchuan", "千川", "live stream", "budget"];
    // Bytes and requests the server has sent so far for paths containing `part`.
    let sent = |part: &str| {
        let log = served.lock().map(|l| l.clone()).unwrap_or_default();
        let hits: Vec<usize> = log
            .iter()
            .filter(|(p, _)| p.contains(part))
            .map(|(_, n)| *n)
            .collect();
        (hits.iter().sum::<usize>(), hits.len())
    };

    // fieldbook: the header box of the home page, as a reader uses it (8 results shown).
    let mut b = Browser::launch(&binary);
    b.open(&base);
    for q in queries {
        let r = b.eval(&format!(
            "(async () => {{
                const input = document.querySelector('form.site-search input');
                const list = () => document.getElementById('search-results');
                const t0 = performance.now();
                input.value = {q};
                input.dispatchEvent(new Event('input'));
                while (!list() || list().dataset.query !== {q}) await new Promise(r => setTimeout(r, 1));
                // From the query's start, leaving out the box's pause for more typing.
                const ms = performance.now() - Math.max(t0, Number(list().dataset.started));
                const top = list().querySelector('.search-result-title');
                return {{ ms, shown: list().children.length, top: top ? top.textContent : null }};
            }})()",
            q = json!(q)
        ));
        let (bytes, requests) = sent("/search");
        println!(
            "BENCH fieldbook query={q:?} ms={:.1} shown={} top={} cumulative_bytes={bytes} requests={requests}",
            r["ms"].as_f64().unwrap_or(0.0),
            r["shown"],
            r["top"],
        );
    }
    drop(b);

    // Pagefind: its JS API, loading the data of as many results as our box shows.
    let mut b = Browser::launch(&binary);
    b.open(&format!("{base}pf-bench.html"));
    b.wait_for("window.pfReady === true", "pagefind to load");
    for q in queries {
        let r = b.eval(&format!(
            "(async () => {{
                const t0 = performance.now();
                const res = await window.pf.search({q});
                const data = await Promise.all(res.results.slice(0, 8).map(x => x.data()));
                const ms = performance.now() - t0;
                return {{ ms, shown: data.length, top: data.length ? data[0].meta.title : null }};
            }})()",
            q = json!(q)
        ));
        let (bytes, requests) = sent("/pagefind/");
        println!(
            "BENCH pagefind query={q:?} ms={:.1} shown={} top={} cumulative_bytes={bytes} requests={requests}",
            r["ms"].as_f64().unwrap_or(0.0),
            r["shown"],
            r["top"],
        );
    }
}
