//! The theme's script in a real browser: headless Chromium driven over the DevTools protocol (a minimal
//! WebSocket client below), against the built site served over HTTP. Checks what a reader relies on:
//! the theme choice and ticked checklist items survive a reload, path progress is remembered, and
//! sidebar groups load from nav.json. Everything is done with the keyboard.
//!
//! Skipped, with a message, when no Chromium is installed; with `FIELDBOOK_REQUIRE_BROWSER=1` (as
//! `.ci/run` sets) it fails instead, and `FIELDBOOK_CHROMIUM` picks the binary
//! (`crate::support::chromium_or_skip`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{chromium_or_skip, TestSite};

const TIMEOUT: Duration = Duration::from_secs(45);

/// A static file server for a built site, on a free local port, for as long as it lives.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(conn) = conn {
                    let root = root.clone();
                    std::thread::spawn(move || serve_one(conn, &root));
                }
            }
        });
        Server { port, stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve_one(mut conn: TcpStream, root: &Path) {
    let _ = conn.set_read_timeout(Some(TIMEOUT));
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let mut file = root.join(path.trim_start_matches('/'));
    if path.ends_with('/') {
        file.push("index.html");
    }
    let (status, body, kind) = match std::fs::read(&file) {
        Ok(bytes) if !path.contains("..") => {
            let kind = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("css") => "text/css",
                Some("js") => "text/javascript",
                Some("json") => "application/json",
                Some("svg") => "image/svg+xml",
                _ => "application/octet-stream",
            };
            ("200 OK", bytes, kind)
        }
        _ => ("404 Not Found", b"not found".to_vec(), "text/plain"),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
}

/// Headless Chromium with one page, driven over the DevTools protocol.
struct Browser {
    child: Child,
    ws: TcpStream,
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
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // Chromium prints where its DevTools endpoint listens.
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("ws://") {
                    let _ = tx.send(line[i..].trim().to_string());
                }
            }
        });
        let endpoint = match rx.recv_timeout(TIMEOUT) {
            Ok(e) => e,
            Err(_) => {
                let _ = child.kill();
                panic!("chromium did not report its DevTools address");
            }
        };
        let hostport = endpoint
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .expect("host:port")
            .to_string();
        let list: Value =
            serde_json::from_str(&http_get(&hostport, "/json/list")).expect("targets");
        let page_ws = list
            .as_array()
            .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_string();
        let ws = websocket_connect(&page_ws);
        Browser {
            child,
            ws,
            next_id: 0,
            _profile: profile,
        }
    }

    /// Call a DevTools method and return its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        ws_send(&mut self.ws, msg.as_bytes());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            assert!(Instant::now() < deadline, "no answer to {method}");
            let reply: Value =
                serde_json::from_slice(&ws_receive(&mut self.ws)).expect("json message");
            if reply["id"] == id {
                if let Some(err) = reply.get("error") {
                    panic!("{method} failed: {err}");
                }
                return reply["result"].clone();
            }
        }
    }

    /// Evaluate JavaScript in the page (awaiting promises) and return its value.
    fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expression}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Wait until `expression` is true in the page.
    fn wait_for(&mut self, expression: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while self.eval(&format!("!!({expression})")) != json!(true) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {expression}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for(&format!(
            "location.href === {} && document.readyState === 'complete'",
            json!(url)
        ));
    }

    fn reload(&mut self) {
        self.eval("window.__beforeReload = true");
        self.call("Page.reload", json!({}));
        self.wait_for("!window.__beforeReload && document.readyState === 'complete'");
    }

    /// Focus an element and press a key on it, as a keyboard user would.
    fn press(&mut self, selector: &str, key: &str) {
        let focused = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; e.focus(); return document.activeElement === e; }})()",
            json!(selector)
        ));
        assert_eq!(focused, json!(true), "cannot focus {selector}");
        let (code, key_code, text) = match key {
            "Enter" => ("Enter", 13, "\r"),
            " " => ("Space", 32, " "),
            other => panic!("unsupported key {other}"),
        };
        for kind in ["keyDown", "keyUp"] {
            let mut event = json!({ "type": kind, "key": key, "code": code, "windowsVirtualKeyCode": key_code });
            if kind == "keyDown" {
                event["text"] = json!(text);
            }
            self.call("Input.dispatchKeyEvent", event);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get(hostport: &str, path: &str) -> String {
    let mut s = TcpStream::connect(hostport).expect("connect to devtools");
    s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    // The DevTools server may keep the connection open: read exactly Content-Length bytes.
    let mut reader = BufReader::new(s);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("response header");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().expect("content length");
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).expect("response body");
    String::from_utf8_lossy(&body).into_owned()
}

/// Open a WebSocket (RFC 6455) to a `ws://host:port/path` URL. No Origin header is sent, which
/// Chromium accepts from local clients.
fn websocket_connect(url: &str) -> TcpStream {
    let rest = url.trim_start_matches("ws://");
    let (hostport, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(hostport).expect("connect websocket");
    s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ZmllbGRib29rLXRlc3RzIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .expect("handshake");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).expect("handshake reply");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(
        head.starts_with("HTTP/1.1 101"),
        "websocket refused: {head}"
    );
    s
}

/// Send one masked text frame (clients must mask).
fn ws_send(s: &mut TcpStream, payload: &[u8]) {
    let mask = [0x5a, 0x17, 0xc3, 0x81];
    let mut frame = vec![0x81];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n <= 0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    s.write_all(&frame).expect("send frame");
}

/// Receive one whole message (joining continuation frames, answering pings).
fn ws_receive(s: &mut TcpStream) -> Vec<u8> {
    let mut message = Vec::new();
    loop {
        let mut head = [0u8; 2];
        s.read_exact(&mut head).expect("frame header");
        let fin = head[0] & 0x80 != 0;
        let opcode = head[0] & 0x0f;
        let mut len = u64::from(head[1] & 0x7f);
        if len == 126 {
            let mut b = [0u8; 2];
            s.read_exact(&mut b).expect("length");
            len = u64::from(u16::from_be_bytes(b));
        } else if len == 127 {
            let mut b = [0u8; 8];
            s.read_exact(&mut b).expect("length");
            len = u64::from_be_bytes(b);
        }
        let mut payload = vec![0u8; usize::try_from(len).expect("frame size")];
        s.read_exact(&mut payload).expect("payload");
        match opcode {
            0x8 => panic!("the browser closed the connection"),
            0x9 => {
                // Ping: answer with a masked pong carrying the same data.
                let mask = [1, 2, 3, 4];
                let mut pong = vec![0x8a, 0x80 | payload.len() as u8];
                pong.extend_from_slice(&mask);
                pong.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
                s.write_all(&pong).expect("pong");
            }
            0xa => {}
            _ => {
                message.extend_from_slice(&payload);
                if fin {
                    return message;
                }
            }
        }
    }
}

fn site() -> TestSite {
    let s = TestSite::new(
        "title: Browser Book\nkinds:\n  playbook: { folder: playbooks, title: Playbooks }\n  tool: { folder: tools, title: Tools }\n  path:\n    folder: paths\n    title: Paths\n    sequence: steps\n    fields:\n      steps: { type: refs }\n",
    );
    s.write(
        "content/playbooks/launch.md",
        "---\ntitle: Launch\n---\nIntro.\n\n- [ ] Open the store\n- [ ] Hire an anchor\n- [x] Read the guide\n",
    )
    .write("content/tools/doudian.md", "---\ntitle: Doudian\n---\nThe store.\n")
    .write("content/tools/feige.md", "---\ntitle: Feige\n---\nChat.\n")
    .write(
        "content/paths/start.md",
        "---\ntitle: Start\nsteps: [launch, doudian]\n---\nRead these.\n",
    );
    s.build();
    s
}

#[test]
fn theme_choice_checklists_and_path_progress_survive_a_reload() {
    let Some(binary) =
        chromium_or_skip("theme_choice_checklists_and_path_progress_survive_a_reload")
    else {
        return;
    };
    let s = site();
    let server = Server::start(s.path("public"));
    let mut b = Browser::launch(&binary);
    b.call(
        "Emulation.setEmulatedMedia",
        json!({ "features": [{ "name": "prefers-color-scheme", "value": "light" }] }),
    );
    let page = server.url("/playbooks/launch/");
    b.open(&page);

    // The theme toggle: light by the system, dark by choice, and still dark after a reload.
    let theme = "document.documentElement.getAttribute('data-theme')";
    assert_eq!(b.eval(theme), Value::Null);
    assert_eq!(
        b.eval("document.querySelector('.theme-toggle').getAttribute('aria-pressed')"),
        json!("false")
    );
    b.press(".theme-toggle", "Enter");
    assert_eq!(b.eval(theme), json!("dark"));
    assert_eq!(
        b.eval("document.querySelector('.theme-toggle').getAttribute('aria-pressed')"),
        json!("true")
    );
    assert_eq!(
        b.eval("getComputedStyle(document.body).backgroundColor"),
        json!("rgb(15, 19, 24)"),
        "the dark palette applies"
    );

    // Checklist: the boxes are live; tick the second with the keyboard and untick the author's tick.
    let boxes = ".prose li > input[type=checkbox]";
    assert_eq!(
        b.eval(&format!(
            "[...document.querySelectorAll('{boxes}')].every(x => !x.disabled)"
        )),
        json!(true)
    );
    b.press(".prose li:nth-child(2) > input", " ");
    b.press(".prose li:nth-child(3) > input", " ");
    let state = format!("[...document.querySelectorAll('{boxes}')].map(x => x.checked)");
    assert_eq!(b.eval(&state), json!([false, true, false]));
    assert_eq!(
        b.eval("document.querySelector('.checklist-done').textContent"),
        json!("1")
    );

    b.reload();
    assert_eq!(b.eval(theme), json!("dark"), "the theme choice persists");
    assert_eq!(
        b.eval("document.querySelector('.theme-toggle').getAttribute('aria-pressed')"),
        json!("true")
    );
    assert_eq!(
        b.eval(&state),
        json!([false, true, false]),
        "ticks survive the reload"
    );
    assert_eq!(
        b.eval("document.querySelector('.checklist-done').textContent"),
        json!("1")
    );

    // Back to light, which persists too.
    b.press(".theme-toggle", "Enter");
    b.reload();
    assert_eq!(b.eval(theme), json!("light"));

    // Path progress: the playbook was step 1 of "Start"; the path page shows it as read.
    b.open(&server.url("/paths/start/"));
    b.wait_for("!document.querySelector('.path-progress').hidden");
    assert_eq!(
        b.eval("document.querySelector('.path-progress-count').textContent"),
        json!("1")
    );
    assert_eq!(
        b.eval("[...document.querySelectorAll('.step')].map(s => s.classList.contains('is-read'))"),
        json!([true, false])
    );
    assert_eq!(
        b.eval("document.querySelector('.path-continue').textContent"),
        json!("Continue with step 2")
    );
    b.press(".path-reset", "Enter");
    assert_eq!(
        b.eval("document.querySelector('.path-progress-count').textContent"),
        json!("0")
    );

    // Sidebar: a closed kind opens and lists its pages from nav.json.
    b.open(&page);
    let tools = "#nav-kind-tool";
    assert_eq!(
        b.eval(&format!("document.querySelector('{tools}').hidden")),
        json!(true)
    );
    b.press("button[aria-controls='nav-kind-tool']", "Enter");
    b.wait_for(&format!(
        "document.querySelectorAll('{tools} a').length === 2"
    ));
    assert_eq!(
        b.eval(&format!(
            "[...document.querySelectorAll('{tools} a')].map(a => a.getAttribute('href'))"
        )),
        json!(["/tools/doudian/", "/tools/feige/"])
    );
    assert_eq!(
        b.eval("document.querySelector(\"button[aria-controls='nav-kind-tool']\").getAttribute('aria-expanded')"),
        json!("true")
    );
}
