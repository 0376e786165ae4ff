//! Edit latency of `fieldbook serve` beside `hugo server`, for nine kinds of edit, on a site made by
//! `bench/gen.py`. One command (it generates the site first when GEN_DIR does not exist yet):
//!
//! ```text
//! cargo build --release --bins --examples && \
//!     target/release/examples/serve_edits target/release/fieldbook /tmp/fb-10k --pages 10000
//! ```
//!
//! Options: `--repeats N` (10), `--hugo-repeats N` (as many: Hugo rebuilds the 10,000-page site in
//! about 20 s on each edit with `--disableFastRender`, so 3 keeps the run under an hour), `--pages N` (run `python3 bench/gen.py N GEN_DIR` when GEN_DIR is
//! missing), `--edits 8,9` (only these of the nine below; 4, 5 and 6 go together), `--no-hugo`,
//! `--no-fieldbook`, `--hugo-modes full,fast` (`full` is `hugo server --disableFastRender`,
//! `fast` its default fast render; both by default).
//!
//! The edits, each repeated: (1) a new last paragraph in a playbook; (2) a new title for the page
//! that the number of linking pages closest to 500 link to (counted from the sources: wikilinks and
//! reference fields; printed); (3) a field (`level`) of a playbook; (4) a new page; (5) a deleted
//! page; (6) a renamed page; (7) a tag added in a page's front matter; (8) an edit of a template
//! override (`templates/page.html`, copied from the theme once before the timed edits; for Hugo,
//! `layouts/_default/single.html`); (9) the site's title in site.yaml (Hugo: hugo.toml). The new pages
//! are renamed, then deleted, so the site is as it was after (5); every changed file is put back at
//! the end.
//!
//! For fieldbook it times, from the moment before the file is written: the `reload` event on
//! `/__fieldbook/events`, and the new bytes being served (the affected URL is polled until its
//! bytes change; for a new or renamed page until it answers 200, for a deleted one until 404). After
//! each edit it waits until `/__fieldbook/status` says settled, so that edits do not overlap. For
//! Hugo it times the `reload` message of its live-reload WebSocket (`/livereload`, the LiveReload
//! protocol, read with tungstenite), and also reports the `Total in N ms` Hugo prints for each
//! rebuild. Hugo's pages have no typed fields and its generated config has no taxonomies: the field
//! and tag edits change its front matter all the same, and the title edit changes no other page
//! there (its links are plain Markdown links, not titles).
//!
//! Memory: the resident memory (`VmRSS`) of `fieldbook serve` at rest after the edits, and the peak
//! RSS of a cold `fieldbook build` of the same site into an empty folder (`wait4`'s `ru_maxrss`),
//! measured first, in the same run.

#[path = "serve_client.rs"]
mod serve_client;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How long one edit may take before the benchmark gives up.
const EDIT_LIMIT: Duration = Duration::from_secs(300);

/// The nine edits, in the order they run.
const EDITS: [&str; 9] = [
    "body edit",
    "title edit (page linked from ~500 pages)",
    "field edit",
    "new page",
    "deleted page",
    "renamed page",
    "tag added",
    "template edit",
    "site config edit",
];

/// The order the edits run in (indices into [`EDITS`]): the new pages are renamed before they are
/// deleted.
const RUN_ORDER: [usize; 9] = [0, 1, 2, 3, 5, 4, 6, 7, 8];

/// Which engine an edit is written for: a few files differ (templates, config, front matter).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Engine {
    Fieldbook,
    Hugo,
}

/// A file operation.
enum Op {
    Write(PathBuf, String),
    Remove(PathBuf),
    Rename(PathBuf, PathBuf),
}

impl Op {
    fn apply(&self) {
        match self {
            Op::Write(p, text) => std::fs::write(p, text),
            Op::Remove(p) => std::fs::remove_file(p),
            Op::Rename(a, b) => std::fs::rename(a, b),
        }
        .unwrap_or_else(|e| panic!("edit failed: {e}"));
    }
}

/// What the affected URL must show once the edit is served.
enum Expect {
    /// Bytes other than these.
    Changed(Vec<u8>),
    /// Status 200.
    Present,
    /// Status 404.
    Gone,
}

/// The files the edits touch, for one engine's copy of the site.
struct Sources {
    engine: Engine,
    root: PathBuf,
    /// Pages by path under the root: the body, title, field, tag and template/config edits.
    body: String,
    title: String,
    field: String,
    tag: String,
    shown: String,
    /// Originals of every file the edits change (None: the file did not exist).
    saved: HashMap<PathBuf, Option<String>>,
}

impl Sources {
    fn read(&mut self, rel: &str) -> String {
        let p = self.root.join(rel);
        let text = std::fs::read_to_string(&p).ok();
        self.saved.entry(p).or_insert_with(|| text.clone());
        text.unwrap_or_else(|| panic!("{} is missing", self.root.join(rel).display()))
    }

    fn note(&mut self, rel: &str) {
        let p = self.root.join(rel);
        let text = std::fs::read_to_string(&p).ok();
        self.saved.entry(p).or_insert(text);
    }

    /// Put back every file an edit changed.
    fn restore(&mut self) {
        for (p, text) in self.saved.drain() {
            match text {
                Some(t) => std::fs::write(&p, t).expect("restore"),
                None => {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
        if self.engine == Engine::Fieldbook {
            let _ = std::fs::remove_dir(self.root.join("templates"));
        }
    }

    /// The template file edited, and its text with mark `k`.
    fn template(&self, k: usize) -> (PathBuf, String) {
        match self.engine {
            Engine::Fieldbook => {
                let theme = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("themes/default/templates/page.html");
                let text = std::fs::read_to_string(&theme).expect("the theme's page.html");
                let anchor = "{% block content %}";
                let at = text.find(anchor).expect("page.html has a content block") + anchor.len();
                let out = format!(
                    "{}<p class=\"bench-edit\">edit {k}</p>{}",
                    &text[..at],
                    &text[at..]
                );
                (self.root.join("templates/page.html"), out)
            }
            Engine::Hugo => {
                let p = self.root.join("layouts/_default/single.html");
                let text = self
                    .saved
                    .get(&p)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| std::fs::read_to_string(&p).expect("single.html"));
                let anchor = "{{ define \"main\" }}";
                let at = text.find(anchor).expect("single.html defines main") + anchor.len();
                let out = format!(
                    "{}<p class=\"bench-edit\">edit {k}</p>{}",
                    &text[..at],
                    &text[at..]
                );
                (p, out)
            }
        }
    }

    /// The timed edit number `k` of kind `edit` (an index into [`EDITS`]), and the URL to watch.
    fn edit(&mut self, edit: usize, k: usize) -> (Op, String) {
        let url_of = |rel: &str| {
            let stem = rel
                .strip_prefix("content/")
                .and_then(|r| r.strip_suffix(".md"))
                .expect("a page under content/");
            format!("/{stem}/")
        };
        match edit {
            0 => {
                let rel = self.body.clone();
                let text = self.read(&rel);
                let new = format!("{text}\nEdit number {k}: one more sentence at the end.\n");
                (Op::Write(self.root.join(&rel), new), url_of(&rel))
            }
            1 => {
                let rel = self.title.clone();
                let text = self.read(&rel);
                let line = text
                    .lines()
                    .find(|l| l.starts_with("title:"))
                    .expect("a title line")
                    .to_string();
                let new = text.replacen(&line, &format!("title: \"Edited title {k}\""), 1);
                (Op::Write(self.root.join(&rel), new), url_of(&rel))
            }
            2 => {
                let rel = self.field.clone();
                let text = self.read(&rel);
                let level = ["beginner", "intermediate", "advanced"][k % 3];
                let new = match text.lines().find(|l| l.starts_with("level:")) {
                    Some(line) => text.replacen(line, &format!("level: {level}"), 1),
                    // Hugo's copy has no fields: the edit adds one to the front matter.
                    None => text.replacen("---\n", &format!("---\nlevel: {level}\n"), 1),
                };
                // Changing to the value it has would be no edit.
                let new = if new == text {
                    new.replacen(
                        &format!("level: {level}"),
                        &format!("level: {}", ["intermediate", "advanced", "beginner"][k % 3]),
                        1,
                    )
                } else {
                    new
                };
                (Op::Write(self.root.join(&rel), new), url_of(&rel))
            }
            3 => {
                let rel = format!("content/concepts/bench-new-{k}.md");
                self.note(&rel);
                let text = format!(
                    "---\ntitle: \"Bench new page {k}\"\n---\n\nA page made by the benchmark.\n"
                );
                (Op::Write(self.root.join(&rel), text), url_of(&rel))
            }
            4 => {
                let rel = format!("content/concepts/bench-renamed-{k}.md");
                (Op::Remove(self.root.join(&rel)), url_of(&rel))
            }
            5 => {
                let from = format!("content/concepts/bench-new-{k}.md");
                let to = format!("content/concepts/bench-renamed-{k}.md");
                self.note(&to);
                (
                    Op::Rename(self.root.join(&from), self.root.join(&to)),
                    url_of(&to),
                )
            }
            6 => {
                let rel = self.tag.clone();
                let text = self.read(&rel);
                let line = text
                    .lines()
                    .find(|l| l.starts_with("tags: ["))
                    .expect("a tags line")
                    .to_string();
                let new_line = line.replacen("]", &format!(", benchtag{k}]"), 1);
                let new = text.replacen(&line, &new_line, 1);
                (Op::Write(self.root.join(&rel), new), url_of(&rel))
            }
            7 => {
                self.note(match self.engine {
                    Engine::Fieldbook => "templates/page.html",
                    Engine::Hugo => "layouts/_default/single.html",
                });
                let (p, text) = self.template(k + 1);
                (Op::Write(p, text), url_of(&self.shown.clone()))
            }
            8 => {
                let (rel, key) = match self.engine {
                    Engine::Fieldbook => ("site.yaml", "title: "),
                    Engine::Hugo => ("hugo.toml", "title = "),
                };
                let text = self.read(rel);
                let line = text
                    .lines()
                    .find(|l| l.starts_with(key))
                    .expect("a title in the config")
                    .to_string();
                let new = text.replacen(&line, &format!("{key}\"Synthetic field book {k}\""), 1);
                (
                    Op::Write(self.root.join(rel), new),
                    url_of(&self.shown.clone()),
                )
            }
            _ => unreachable!("nine edits"),
        }
    }
}

/// Median and 90th percentile of a list of durations, in milliseconds.
fn stats(times: &[Duration]) -> Option<(f64, f64)> {
    if times.is_empty() {
        return None;
    }
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let median = if ms.len() % 2 == 1 {
        ms[ms.len() / 2]
    } else {
        (ms[ms.len() / 2 - 1] + ms[ms.len() / 2]) / 2.0
    };
    let p90 = ms[((ms.len() * 9).div_ceil(10)).saturating_sub(1)];
    Some((median, p90))
}

fn show(s: Option<(f64, f64)>) -> String {
    match s {
        Some((m, p)) => format!("{} / {}", ms(m), ms(p)),
        None => "-".into(),
    }
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

/// Every page under `dir/content` (paths relative to `dir`), section pages left out.
fn pages(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if p.extension().is_some_and(|x| x == "md")
                && p.file_name().is_some_and(|n| n != "_index.md")
            {
                let rel = p.strip_prefix(base).expect("under base");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &dir.join("content"), &mut out);
    out.sort();
    out
}

/// For each page id, the pages that link to it or reference it: wikilinks in the body and the
/// reference fields of the front matter. Returns the page (path under the site) whose count of
/// linking pages is closest to `want`, with that count.
fn most_linked(site: &Path, want: usize) -> (String, usize) {
    const REF_FIELDS: [&str; 5] = ["positions", "tools", "roles", "related", "owner"];
    let all = pages(site);
    let by_id: HashMap<String, String> = all
        .iter()
        .map(|rel| {
            let id = Path::new(rel)
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            (id, rel.clone())
        })
        .collect();
    let mut linking: HashMap<String, HashSet<String>> = HashMap::new();
    for rel in &all {
        let text = std::fs::read_to_string(site.join(rel)).expect("read page");
        let me = Path::new(rel).file_stem().expect("stem").to_string_lossy();
        let mut targets: Vec<String> = Vec::new();
        let (front, body) = text
            .strip_prefix("---\n")
            .and_then(|t| t.split_once("\n---\n"))
            .unwrap_or(("", &text));
        for line in front.lines() {
            if let Some((key, value)) = line.split_once(':') {
                if REF_FIELDS.contains(&key.trim()) {
                    let v = value.trim().trim_start_matches('[').trim_end_matches(']');
                    targets.extend(v.split(',').map(|t| t.trim().to_string()));
                }
            }
        }
        let mut rest = body;
        while let Some(start) = rest.find("[[") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("]]") else { break };
            let inner = &after[..end];
            let target = inner.split(['|', '#']).next().unwrap_or("").trim();
            targets.push(target.to_string());
            rest = &after[end + 2..];
        }
        for t in targets {
            if by_id.contains_key(&t) && t != me {
                linking.entry(t).or_default().insert(rel.clone());
            }
        }
    }
    let (id, from) = linking
        .iter()
        .min_by_key(|(id, from)| (from.len().abs_diff(want), (*id).clone()))
        .expect("some page is linked");
    (by_id[id].clone(), from.len())
}

/// Resident memory (`VmRSS`) and its peak (`VmHWM`) of a process, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Run a command to its end: wall time and peak resident memory (KiB, from `wait4`).
fn run_measured(cmd: &mut Command) -> (Duration, u64) {
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the command");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill; `pid` is our own child, which
    // nothing else waits for (the `Child` is dropped without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(got, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the command failed"
    );
    drop(child);
    (start.elapsed(), usage.ru_maxrss as u64)
}

/// Poll `url` until `expect` holds; the moment it did.
fn wait_served(port: u16, url: &str, expect: &Expect, since: Instant) -> Instant {
    loop {
        // A connection the server resets (it answers 503 and closes when it has too many open)
        // is one more poll, counted.
        let (code, body) = match serve_client::try_get(port, url) {
            Ok(reply) => reply,
            Err(e) => {
                let n = RESETS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n < 3 {
                    println!("poll of {url} failed ({e}); polling on");
                }
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let done = match expect {
            Expect::Changed(before) => code == 200 && body != *before,
            Expect::Present => code == 200,
            Expect::Gone => code == 404,
        };
        if done {
            return Instant::now();
        }
        assert!(
            since.elapsed() < EDIT_LIMIT,
            "{url} was not updated within {EDIT_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Polls that failed (reset or refused connections), reported at the end.
static RESETS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Wait until fieldbook serve is settled, with nothing new for a moment.
fn settle(port: u16) {
    let start = Instant::now();
    loop {
        let (g, settled) = serve_client::status(port);
        if settled {
            std::thread::sleep(Duration::from_millis(200));
            if serve_client::status(port) == (g, true) {
                return;
            }
        }
        assert!(start.elapsed() < EDIT_LIMIT, "serve never settled");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Times (reload, bytes served) of each fieldbook edit, by edit.
type FieldbookTimes = Vec<(Vec<Duration>, Vec<Duration>)>;
/// Times (live-reload message, Hugo's own `Total in`) of each Hugo edit, and how many edits got no
/// live-reload message, by edit.
type HugoTimes = Vec<(Vec<Duration>, Vec<Duration>, usize)>;
/// How long Hugo may take to send a reload before an edit counts as one it sent none for.
const HUGO_LIMIT: Duration = Duration::from_secs(60);

fn bench_fieldbook(
    bin: &str,
    src: &mut Sources,
    repeats: usize,
    only: &[usize],
) -> (FieldbookTimes, (u64, u64)) {
    let serving = serve_client::start(bin, &src.root);
    let port = serving.port;
    let pid = serving.child.id();
    let mut child = serving.child;
    settle(port);
    let events = serve_client::events(port);
    std::thread::sleep(Duration::from_millis(300));
    // The template override exists before its timed edits (an untimed first copy).
    let (p, text) = src.template(0);
    src.note("templates/page.html");
    let mut times: FieldbookTimes = vec![(Vec::new(), Vec::new()); EDITS.len()];
    for e in RUN_ORDER.into_iter().filter(|e| only.contains(e)) {
        let name = EDITS[e];
        if e == 7 {
            let g = serve_client::status(port).0;
            std::fs::create_dir_all(p.parent().expect("templates/")).expect("mkdir templates");
            std::fs::write(&p, &text).expect("copy the template");
            while serve_client::status(port).0 == g {
                std::thread::sleep(Duration::from_millis(10));
            }
            settle(port);
        }
        let mut reload = Vec::new();
        let mut served = Vec::new();
        for k in 0..repeats {
            let (op, url) = src.edit(e, k);
            let expect = match (e, serve_client::get(port, &url)) {
                (3 | 5, _) => Expect::Present,
                (4, _) => Expect::Gone,
                (_, (200, before)) => Expect::Changed(before),
                (_, (code, _)) => panic!("{url} answers {code} before the edit"),
            };
            while events.try_recv().is_ok() {}
            let t0 = Instant::now();
            op.apply();
            let at = wait_served(port, &url, &expect, t0);
            let event = loop {
                let left = EDIT_LIMIT.saturating_sub(t0.elapsed());
                let (when, name) = events
                    .recv_timeout(left)
                    .unwrap_or_else(|_| panic!("no reload event for {url}"));
                assert!(name != "problems", "the edit broke the site ({url})");
                if name == "reload" {
                    break when;
                }
            };
            reload.push(event.duration_since(t0));
            served.push(at.duration_since(t0));
            settle(port);
            while let Ok(line) = serving.lines.try_recv() {
                if k == 0 {
                    println!("serve: {line}");
                }
            }
        }
        println!(
            "fieldbook {name}: reload {}, served {}",
            show(stats(&reload)),
            show(stats(&served))
        );
        times[e] = (reload, served);
    }
    std::thread::sleep(Duration::from_secs(1));
    let mem = memory(pid);
    let _ = child.kill();
    let _ = child.wait();
    (times, mem)
}

/// A free port on the loopback interface (bound, then let go).
fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `hugo server`: its process, port and printed lines.
struct Hugo {
    child: Child,
    port: u16,
    lines: Receiver<(Instant, String)>,
}

impl Drop for Hugo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_hugo(dir: &Path, fast: bool) -> Hugo {
    let port = free_port();
    let mut cmd = Command::new("hugo");
    cmd.arg("server")
        .arg("--source")
        .arg(dir)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    if !fast {
        cmd.arg("--disableFastRender");
    }
    let mut child = cmd.spawn().expect("start hugo server");
    let (tx, lines) = mpsc::channel();
    for out in [
        Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().expect("stderr")) as Box<dyn std::io::Read + Send>,
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send((Instant::now(), line));
            }
        });
    }
    let hugo = Hugo { child, port, lines };
    let start = Instant::now();
    loop {
        let (_, line) = hugo
            .lines
            .recv_timeout(Duration::from_secs(600))
            .expect("hugo server did not start");
        println!("hugo: {line}");
        if line.contains("Web Server is available") {
            break;
        }
    }
    println!("hugo ready after {:.1} s", start.elapsed().as_secs_f64());
    hugo
}

/// Connect to Hugo's live-reload WebSocket, say hello, and read its messages on a thread.
fn livereload(port: u16) -> Receiver<(Instant, String)> {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to hugo");
    let url = format!("ws://127.0.0.1:{port}/livereload");
    let (mut ws, _) = tungstenite::client(url.as_str(), stream).expect("WebSocket handshake");
    ws.send(tungstenite::Message::text(
        r#"{"command":"hello","protocols":["http://livereload.com/protocols/official-7"]}"#,
    ))
    .expect("send hello");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        while let Ok(msg) = ws.read() {
            if let tungstenite::Message::Text(t) = msg {
                if tx.send((Instant::now(), t.as_str().to_string())).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Times of each Hugo edit to its live-reload message, and the `Total in N ms` it printed.
fn bench_hugo(src: &mut Sources, repeats: usize, fast: bool, only: &[usize]) -> HugoTimes {
    let hugo = start_hugo(&src.root, fast);
    let ws = livereload(hugo.port);
    // The hello answer.
    if let Ok((_, m)) = ws.recv_timeout(Duration::from_secs(5)) {
        println!("hugo livereload: {m}");
    }
    let mut out = vec![(Vec::new(), Vec::new(), 0); EDITS.len()];
    for e in RUN_ORDER.into_iter().filter(|e| only.contains(e)) {
        let name = EDITS[e];
        let mut times = Vec::new();
        let mut totals = Vec::new();
        let mut missed = 0;
        for k in 0..repeats {
            let (op, _) = src.edit(e, k);
            while ws.try_recv().is_ok() {}
            while hugo.lines.try_recv().is_ok() {}
            let t0 = Instant::now();
            op.apply();
            let at = loop {
                let left = HUGO_LIMIT.saturating_sub(t0.elapsed());
                match ws.recv_timeout(left) {
                    Ok((when, msg)) if msg.contains("\"reload\"") => break Some(when),
                    Ok(_) => continue,
                    Err(_) => break None,
                }
            };
            match at {
                Some(at) => times.push(at.duration_since(t0)),
                None => {
                    println!("hugo sent no reload within {HUGO_LIMIT:?} for {name} #{k}");
                    missed += 1;
                }
            }
            // Hugo prints its rebuild's time; then let it be quiet before the next edit.
            let quiet = Instant::now() + Duration::from_millis(1500);
            while let Ok((_, line)) = hugo
                .lines
                .recv_timeout(quiet.saturating_duration_since(Instant::now()))
            {
                if k == 0 {
                    println!("hugo: {line}");
                }
                if let Some(n) = line
                    .split("Total in ")
                    .nth(1)
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    totals.push(Duration::from_millis(n));
                }
                if line.contains("ERROR") {
                    panic!("hugo: {line}");
                }
            }
            while ws.try_recv().is_ok() {}
        }
        println!(
            "hugo{} {name}: livereload {}, its own Total {}",
            if fast { "" } else { " --disableFastRender" },
            show(stats(&times)),
            show(stats(&totals))
        );
        out[e] = (times, totals, missed);
    }
    out
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut flag = |name: &str| -> Option<String> {
        let i = args.iter().position(|a| a == name)?;
        args.remove(i);
        (i < args.len()).then(|| args.remove(i))
    };
    let repeats: usize = flag("--repeats").map_or(10, |n| n.parse().expect("--repeats N"));
    let hugo_repeats: usize =
        flag("--hugo-repeats").map_or(repeats, |n| n.parse().expect("--hugo-repeats N"));
    let pages_wanted: Option<usize> = flag("--pages").map(|n| n.parse().expect("--pages N"));
    let modes = flag("--hugo-modes").unwrap_or_else(|| "full,fast".into());
    let only: Vec<usize> = flag("--edits").map_or((0..EDITS.len()).collect(), |list| {
        list.split(',')
            .map(|n| {
                n.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=EDITS.len()).contains(n))
            })
            .map(|n| n.expect("--edits takes numbers 1 to 9, e.g. 8,9") - 1)
            .collect()
    });
    let mut switch = |name: &str| match args.iter().position(|a| a == name) {
        Some(i) => {
            args.remove(i);
            true
        }
        None => false,
    };
    let no_hugo = switch("--no-hugo");
    let no_fieldbook = switch("--no-fieldbook");
    let (Some(bin), Some(gen)) = (args.first().cloned(), args.get(1).cloned()) else {
        eprintln!(
            "usage: serve_edits FIELDBOOK_BINARY GEN_DIR [--pages N] [--repeats N] [--hugo-repeats N] [--edits 1,2,..] [--no-hugo] [--no-fieldbook] [--hugo-modes full,fast]"
        );
        std::process::exit(2);
    };
    let gen = PathBuf::from(gen);
    if !gen.join("fieldbook/site.yaml").is_file() {
        let Some(n) = pages_wanted else {
            eprintln!(
                "{} has no site of bench/gen.py: pass --pages N to make one",
                gen.display()
            );
            std::process::exit(2);
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen.py");
        let ok = Command::new("python3")
            .arg(script)
            .arg(n.to_string())
            .arg(&gen)
            .status()
            .expect("run python3 bench/gen.py")
            .success();
        assert!(ok, "bench/gen.py failed");
    }
    let fb = gen.join("fieldbook");
    let hugo_dir = gen.join("hugo");
    let page_count = pages(&fb).len();
    let (linked, count) = most_linked(&fb, 500);
    println!("site: {page_count} pages in {}", fb.display());
    println!("title edit on {linked}: {count} pages link to it or reference it (closest to 500)");

    // A cold build first, alone on the machine.
    let mut build_peak = 0;
    if !no_fieldbook {
        let out = std::env::temp_dir().join(format!("serve-edits-build-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let (build_time, peak) = run_measured(
            Command::new(&bin)
                .arg("--root")
                .arg(&fb)
                .arg("build")
                .arg("-o")
                .arg(&out),
        );
        let _ = std::fs::remove_dir_all(&out);
        println!(
            "cold fieldbook build: {:.1} s, peak RSS {:.1} MiB",
            build_time.as_secs_f64(),
            peak as f64 / 1024.0
        );
        build_peak = peak;
    }
    let sources = |engine: Engine, root: &Path| Sources {
        engine,
        root: root.to_path_buf(),
        body: "content/playbooks/playbook-00042.md".into(),
        title: linked.clone(),
        field: "content/playbooks/playbook-00043.md".into(),
        tag: "content/playbooks/playbook-00044.md".into(),
        shown: "content/playbooks/playbook-00045.md".into(),
        saved: HashMap::new(),
    };
    let mut src = sources(Engine::Fieldbook, &fb);
    let (fieldbook, (rss, hwm)) = if no_fieldbook {
        (vec![(Vec::new(), Vec::new()); EDITS.len()], (0, 0))
    } else {
        let got = bench_fieldbook(&bin, &mut src, repeats, &only);
        src.restore();
        got
    };

    let mut hugo: Vec<(&str, HugoTimes)> = Vec::new();
    if !no_hugo {
        for mode in modes.split(',') {
            let fast = match mode.trim() {
                "full" => false,
                "fast" => true,
                other => panic!("unknown Hugo mode {other}: full or fast"),
            };
            let mut src = sources(Engine::Hugo, &hugo_dir);
            let times = bench_hugo(&mut src, hugo_repeats, fast, &only);
            src.restore();
            hugo.push((
                if fast {
                    "hugo server (fast render)"
                } else {
                    "hugo server --disableFastRender"
                },
                times,
            ));
        }
    }

    println!();
    println!(
        "{page_count} pages, {repeats} edits of each kind for fieldbook, {hugo_repeats} for Hugo; median / p90; fieldbook's times are to the `reload` event and to the new bytes served, Hugo's to its live-reload message"
    );
    println!();
    let mut head = "| edit | fieldbook reload | fieldbook bytes served |".to_string();
    let mut rule = "|---|---|---|".to_string();
    for (name, _) in &hugo {
        head += &format!(" {name} | fieldbook/hugo |");
        rule += "---|---|";
    }
    println!("{head}");
    println!("{rule}");
    for (e, name) in EDITS.iter().enumerate() {
        let (reload, served) = &fieldbook[e];
        let r = stats(reload);
        let mut row = format!("| {name} | {} | {} |", show(r), show(stats(served)));
        for (_, times) in &hugo {
            let h = stats(&times[e].0);
            let ratio = match (r, h) {
                (Some((a, _)), Some((b, _))) if b > 0.0 => format!("{:.2}", a / b),
                _ => "-".into(),
            };
            let missed = match times[e].2 {
                0 => String::new(),
                n => format!(" ({n} without reload)"),
            };
            row += &format!(" {}{missed} | {ratio} |", show(h));
        }
        println!("{row}");
    }
    if !hugo.is_empty() {
        println!();
        println!("Hugo's own `Total in N ms` per rebuild (median / p90):");
        println!();
        let mut head = "| edit |".to_string();
        let mut rule = "|---|".to_string();
        for (name, _) in &hugo {
            head += &format!(" {name} |");
            rule += "---|";
        }
        println!("{head}");
        println!("{rule}");
        for (e, name) in EDITS.iter().enumerate() {
            let mut row = format!("| {name} |");
            for (_, times) in &hugo {
                row += &format!(" {} |", show(stats(&times[e].1)));
            }
            println!("{row}");
        }
    }
    println!();
    if no_fieldbook {
        return;
    }
    let resets = RESETS.load(std::sync::atomic::Ordering::Relaxed);
    if resets > 0 {
        println!("{resets} polls of fieldbook serve failed (connection reset or refused) and were retried");
    }
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "memory: fieldbook serve at rest after the edits: VmRSS {:.1} MiB (peak VmHWM {:.1} MiB); cold fieldbook build: peak RSS {:.1} MiB; serve/build {:.2}",
        mib(rss),
        mib(hwm),
        mib(build_peak),
        rss as f64 / build_peak as f64
    );
}
