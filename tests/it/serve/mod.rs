//! `fieldbook serve` end to end: a fixture site in a temp folder, the real binary on an ephemeral
//! loopback port, a raw HTTP client and a server-sent-events reader. Every wait is bounded.

mod browser;
mod consistency;
mod http;
mod live;
mod load;
mod memory;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any single wait may take before a test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// A small site: two tools, a playbook that references one and links the other, a note nothing links
/// to, an image beside a page, a stylesheet in static/.
pub fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: &[(&str, &str)] = &[
        (
            "site.yaml",
            "title: Serve fixture\nbase_url: /\nkinds:\n  tool: { folder: tools, title: Tools }\n  playbook:\n    folder: playbooks\n    title: Playbooks\n    fields:\n      tools: { type: refs, to: tool, required: true }\n",
        ),
        ("content/_index.md", "---\ntitle: Home\n---\n\nWelcome home.\n"),
        (
            "content/tools/alpha.md",
            "---\ntitle: Alpha\ntags: [red]\n---\n\nAlpha is the first tool.\n\n![pic](pic.png)\n",
        ),
        ("content/tools/beta.md", "---\ntitle: Beta\n---\n\nBeta is the second tool.\n"),
        (
            "content/playbooks/run.md",
            "---\ntitle: Run\ntools: [alpha]\n---\n\nRun it with [[beta]].\n",
        ),
        ("content/notes/solo.md", "---\ntitle: Solo\n---\n\nA lonely note.\n"),
        ("static/extra.css", "body { color: rgb(1, 2, 3); }\n"),
        ("static/notes.txt", "plain text\n"),
    ];
    for (p, t) in files {
        write(dir.path(), p, t);
    }
    // A PNG signature is enough for a Content-Type check.
    std::fs::write(
        dir.path().join("content/tools/pic.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\0",
    )
    .expect("write png");
    dir
}

/// Write a file of the site, making folders as needed.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, text).expect("write");
}

/// A running `fieldbook serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Every line the server printed (stdout and stderr), in order of arrival.
    pub output: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Start the server on an ephemeral port and wait until it says where it listens.
    pub fn start(root: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .arg("--root")
            .arg(root)
            .args(["serve", "--port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("NO_COLOR", "1")
            .spawn()
            .expect("start fieldbook serve");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("stderr")) as Box<dyn Read + Send>,
        ] {
            let output = output.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    output.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        let deadline = Instant::now() + WAIT;
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split("at http://127.0.0.1:").nth(1) {
                        let digits: String =
                            rest.chars().take_while(char::is_ascii_digit).collect();
                        break digits.parse().expect("port");
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "serve did not start; it printed:\n{}",
                        output.lock().unwrap().join("\n")
                    );
                }
            }
        };
        Server {
            child,
            port,
            output,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the server is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything printed so far.
    pub fn printed(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// Wait until the server has printed a line containing `needle` at least `count` times.
    pub fn wait_printed(&self, needle: &str, count: usize) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            let n = self
                .output
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains(needle))
                .count();
            if n >= count {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "never printed {needle:?} {count} times:\n{}",
            self.printed()
        );
    }

    /// GET a path with the right Host header.
    pub fn get(&self, path: &str) -> Reply {
        request(self.port, "GET", path, &format!("127.0.0.1:{}", self.port))
    }

    /// The server's `/__fieldbook/status`: how many change sets it has applied, and whether nothing
    /// is pending (the search index included).
    pub fn status(&self) -> (u64, bool) {
        let r = self.get("/__fieldbook/status");
        assert_eq!(r.status, 200, "status: {} {}", r.status, r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("status is not JSON ({e}): {}", r.text()));
        let generation = v["generation"]
            .as_u64()
            .unwrap_or_else(|| panic!("no generation in {v}"));
        let settled = v["settled"]
            .as_bool()
            .unwrap_or_else(|| panic!("no settled in {v}"));
        (generation, settled)
    }

    /// Wait until the status's generation has grown past `past` and return it; after `within`, fail
    /// with `context` (what the caller was waiting for) and what the server printed.
    pub fn wait_generation_past(&self, past: u64, within: Duration, context: &str) -> u64 {
        let deadline = Instant::now() + within;
        loop {
            let (generation, _) = self.status();
            if generation > past {
                return generation;
            }
            if Instant::now() > deadline {
                panic!(
                    "{context}: serve's generation stayed at {generation} (waiting for more than {past}) for {within:?}\nserver:\n{}",
                    self.printed()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Wait until the status says settled, and return its generation; after `within`, fail with
    /// `context` and what the server printed.
    pub fn wait_settled(&self, within: Duration, context: &str) -> u64 {
        let deadline = Instant::now() + within;
        loop {
            let (generation, settled) = self.status();
            if settled {
                return generation;
            }
            if Instant::now() > deadline {
                panic!(
                    "{context}: serve was not settled after {within:?} (generation {generation})\nserver:\n{}",
                    self.printed()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Open the live-reload stream.
    pub fn events(&self) -> Events {
        Events::open(self.port)
    }

    /// Poll until `path` answers 404.
    pub fn wait_gone(&self, path: &str) {
        let deadline = Instant::now() + WAIT;
        while self.get(path).status != 404 {
            if Instant::now() > deadline {
                panic!("{path} is still served\nserver:\n{}", self.printed());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Poll until `path` answers 200 with a body containing `needle`.
    pub fn wait_body(&self, path: &str, needle: &str) -> Reply {
        let deadline = Instant::now() + WAIT;
        loop {
            let r = self.get(path);
            if r.status == 200 && r.text().contains(needle) {
                return r;
            }
            if Instant::now() > deadline {
                panic!(
                    "{path} never contained {needle:?}; last: {} {}\nserver:\n{}",
                    r.status,
                    r.text(),
                    self.printed()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Send one raw request (the target is written as given, nothing is normalized) and read the reply.
pub fn request(port: u16, method: &str, target: &str, host: &str) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    // A server that answers before reading (the 503 of a full server) may have closed already:
    // the reply can still be read, so a failed send is not the end.
    let _ = write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    );
    // Read the head, then as much body as Content-Length says (or up to the end).
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match s.read(&mut buf) {
            Ok(n) => n,
            // Reset before any reply: no answer at all, status 0.
            Err(e) if raw.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Reply {
                    status: 0,
                    headers: Vec::new(),
                    body: Vec::new(),
                };
            }
            Err(e) => panic!("read reply: {e}"),
        };
        raw.extend_from_slice(&buf[..n]);
        if n == 0 {
            break;
        }
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse_reply(&raw[..end + 4]);
            let want = match (method, head.header("Content-Length")) {
                ("HEAD", _) => Some(0),
                (_, Some(l)) => l.parse::<usize>().ok(),
                _ => None,
            };
            if let Some(len) = want {
                while raw.len() < end + 4 + len {
                    let n = s.read(&mut buf).expect("read body");
                    if n == 0 {
                        break;
                    }
                    raw.extend_from_slice(&buf[..n]);
                }
                break;
            }
        }
    }
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// The server-sent events of `/__fieldbook/events`, read on a thread.
pub struct Events {
    rx: Receiver<(String, String)>,
    _stream: TcpStream,
}

impl Events {
    fn open(port: u16) -> Events {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        write!(
            s,
            "GET /__fieldbook/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .expect("send");
        let reader = s.try_clone().expect("clone");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut name = String::new();
            for line in BufReader::new(reader).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    if tx.send((std::mem::take(&mut name), d.to_string())).is_err() {
                        return;
                    }
                }
            }
        });
        let ev = Events { rx, _stream: s };
        // Let the server register the listener before the test changes anything.
        std::thread::sleep(Duration::from_millis(100));
        ev
    }

    /// The next event named `name` (others are skipped), or a panic after [`WAIT`].
    pub fn next(&self, name: &str) -> serde_json::Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok((n, data)) if n == name => {
                    return serde_json::from_str(&data).expect("event data is JSON")
                }
                Ok(_) => continue,
                Err(_) => panic!("no `{name}` event within {WAIT:?}"),
            }
        }
    }

    /// Every event that arrives within `window`.
    pub fn drain(&self, window: Duration) -> Vec<String> {
        let deadline = Instant::now() + window;
        let mut out = Vec::new();
        while let Ok((n, _)) = self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            out.push(n);
        }
        out
    }
}
