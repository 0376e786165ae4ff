//! A real browser: headless Chromium, driven over the DevTools protocol (a minimal client on a
//! websocket), opens a served page; edits to the file update it, a broken edit shows the overlay
//! with the file and line (a screenshot is saved for people to look at), the fix removes it, and a
//! stylesheet change is applied without reloading. Skipped, saying so, when Chromium is not installed;
//! with `FIELDBOOK_REQUIRE_BROWSER=1` (as `.ci/run` sets) that fails instead
//! (`crate::support::chromium_or_skip`).

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::{fixture, write, Server};

/// Browser steps get longer than the other tests: Chromium starts slowly on a busy 2-core machine.
const WAIT: Duration = Duration::from_secs(60);

struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn launch(exe: &Path) -> (Browser, u16) {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1100,800",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        // Chromium writes the port it chose into the profile.
        let file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + WAIT;
        let port = loop {
            if let Some(p) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
            {
                break p;
            }
            assert!(Instant::now() < deadline, "chromium did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        (
            Browser {
                child,
                _profile: profile,
            },
            port,
        )
    }
}

/// The smallest DevTools client: numbered commands, answers matched by id, events ignored.
struct Cdp {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next: u64,
}

impl Cdp {
    fn connect(devtools_port: u16) -> Cdp {
        let deadline = Instant::now() + WAIT;
        let url = loop {
            let list = super::request(
                devtools_port,
                "GET",
                "/json/list",
                &format!("127.0.0.1:{devtools_port}"),
            );
            let targets: Value = serde_json::from_slice(&list.body).unwrap_or(Value::Null);
            let page = targets.as_array().and_then(|t| {
                t.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_string))
            });
            if let Some(u) = page {
                break u;
            }
            assert!(Instant::now() < deadline, "no page target in chromium");
            std::thread::sleep(Duration::from_millis(100));
        };
        let (ws, _) = tungstenite::connect(url.as_str()).expect("devtools websocket");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(WAIT)).unwrap();
        }
        Cdp { ws, next: 1 }
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        let msg = json!({ "id": id, "method": method, "params": params });
        self.ws.send(Message::text(msg.to_string())).expect("send");
        loop {
            let m = self.ws.read().expect("devtools answer");
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluate an expression in the page; its value as JSON.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true }),
        );
        r["result"]["value"].clone()
    }

    /// Poll an expression until it is true; on time-out, say what the page and the server show.
    fn wait_for(&mut self, expr: &str, what: &str, server: &Server) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if self.eval(expr) == Value::Bool(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let seen = self.eval("location.href + ' | ' + document.readyState + ' | loaded: ' + performance.getEntriesByType('resource').map(e => e.name.split('/').pop() + ' ' + Math.round(e.duration) + 'ms').join(', ') + ' | ' + document.body.innerText.slice(0, 200)");
        panic!(
            "browser: {what} did not happen within {WAIT:?}; the page: {seen}\nserver:\n{}",
            server.printed()
        );
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = s
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n: u32 = 0;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(val(*c)) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

#[test]
fn an_open_page_follows_edits_errors_and_fixes() {
    let Some(exe) = crate::support::chromium_or_skip("an_open_page_follows_edits_errors_and_fixes")
    else {
        return;
    };
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let (_browser, devtools) = Browser::launch(&exe);
    let mut cdp = Cdp::connect(devtools);
    cdp.call("Page.enable", json!({}));
    cdp.call(
        "Page.navigate",
        json!({ "url": format!("http://127.0.0.1:{}/tools/alpha/", s.port) }),
    );
    cdp.wait_for(
        "document.readyState === 'complete' && document.body.innerText.includes('Alpha is the first tool.')",
        "the page to load", &s);
    // The reload stream is open before the edit.
    cdp.wait_for(
        "!!(window.__fieldbookReload && window.__fieldbookReload.connected)",
        "the event stream to open",
        &s,
    );

    // 1. An edit: the page updates by itself.
    write(
        site.path(),
        "content/tools/alpha.md",
        "---\ntitle: Alpha\ntags: [red]\n---\n\nAlpha, edited while open.\n\n![pic](pic.png)\n",
    );
    cdp.wait_for(
        "document.body.innerText.includes('Alpha, edited while open.')",
        "the page to show the edit",
        &s,
    );

    // 2. A broken edit: the overlay names the file and line; the old text stays underneath.
    write(
        site.path(),
        "content/tools/alpha.md",
        "---\ntitle: Alpha\ntags: [red\n---\n\nAlpha, broken.\n",
    );
    let overlay_text = "(() => { const o = document.getElementById('fieldbook-overlay'); return o && o.shadowRoot ? o.shadowRoot.textContent : ''; })()";
    cdp.wait_for(
        &format!("{overlay_text}.includes('content/tools/alpha.md:')"),
        "the error overlay to show the file",
        &s,
    );
    let text = cdp.eval(overlay_text);
    assert!(text.as_str().unwrap().contains("error"), "{text}");
    assert!(cdp
        .eval("document.body.innerText.includes('Alpha, edited while open.')")
        .as_bool()
        .unwrap());
    let shot = cdp.call("Page.captureScreenshot", json!({ "format": "png" }));
    let png = base64_decode(shot["data"].as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-error-overlay.png");
    std::fs::write(&out, &png).unwrap();
    eprintln!("error overlay screenshot: {}", out.display());

    // 3. The fix: the overlay goes and the new text shows.
    write(
        site.path(),
        "content/tools/alpha.md",
        "---\ntitle: Alpha\ntags: [red]\n---\n\nAlpha, fixed.\n\n![pic](pic.png)\n",
    );
    cdp.wait_for(
        "!document.getElementById('fieldbook-overlay') && document.body.innerText.includes('Alpha, fixed.')",
        "the overlay to go and the fix to show", &s);

    // Let any late rebuild of the fix settle (a busy machine can split a save into two batches,
    // and a second reload would drop the stylesheet this step adds).
    std::thread::sleep(Duration::from_millis(500));
    cdp.wait_for(
        "document.readyState === 'complete' && !!window.__fieldbookReload.connected",
        "the page to settle",
        &s,
    );

    // 4. A stylesheet change applies without a reload.
    cdp.eval("window.__notReloaded = true; document.head.insertAdjacentHTML('beforeend', '<link rel=\"stylesheet\" href=\"/extra.css\">'); true");
    cdp.wait_for(
        "getComputedStyle(document.body).color === 'rgb(1, 2, 3)'",
        "the test stylesheet to apply",
        &s,
    );
    write(
        site.path(),
        "static/extra.css",
        "body { color: rgb(4, 5, 6); }\n",
    );
    cdp.wait_for(
        "getComputedStyle(document.body).color === 'rgb(4, 5, 6)'",
        "the new stylesheet to apply",
        &s,
    );
    assert_eq!(cdp.eval("window.__notReloaded === true"), Value::Bool(true));
}

#[test]
fn a_required_browser_that_is_missing_fails_instead_of_skipping() {
    use crate::support::{look_for_chromium, BrowserLookup};
    use std::ffi::OsString;
    let empty = tempfile::tempdir().unwrap();
    let path = OsString::from(empty.path());
    let env = |vars: &'static [(&'static str, &'static str)]| {
        let path = path.clone();
        move |name: &str| {
            if name == "PATH" {
                return Some(path.clone());
            }
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    };
    // Nothing on PATH: a skip on a developer's machine, a failure where a browser is required.
    assert!(matches!(
        look_for_chromium(env(&[])),
        BrowserLookup::Skip(_)
    ));
    for required in [&[("FIELDBOOK_REQUIRE_BROWSER", "1")][..], &[("CI", "true")]] {
        match look_for_chromium(env(required)) {
            BrowserLookup::Missing(why) => {
                assert!(why.contains("apt-get install chromium"), "{why}")
            }
            other => panic!("{required:?}: {other:?}"),
        }
    }
    assert!(matches!(
        look_for_chromium(env(&[("FIELDBOOK_REQUIRE_BROWSER", "0")])),
        BrowserLookup::Skip(_)
    ));
    // A named binary that is not there is no browser either.
    match look_for_chromium(env(&[
        ("FIELDBOOK_CHROMIUM", "/no/such/chromium"),
        ("FIELDBOOK_REQUIRE_BROWSER", "1"),
    ])) {
        BrowserLookup::Missing(why) => assert!(why.contains("/no/such/chromium"), "{why}"),
        other => panic!("{other:?}"),
    }
    // One on PATH is found.
    let exe = empty.path().join("chromium");
    std::fs::write(&exe, "").unwrap();
    assert_eq!(
        look_for_chromium(env(&[("FIELDBOOK_REQUIRE_BROWSER", "1")])),
        BrowserLookup::Found(exe)
    );
}
