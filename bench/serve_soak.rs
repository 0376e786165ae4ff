//! Soak test of `fieldbook serve`: many rebuilds in a row, with the server's resident memory sampled
//! as they go, to show that memory stays flat (no leak per rebuild).
//!
//! ```text
//! cargo build --release --bins --examples
//! python3 bench/gen.py 1000 /tmp/fb-1k
//! target/release/examples/serve_soak target/release/fieldbook /tmp/fb-1k/fieldbook 1000
//! ```
//!
//! Each step edits one page (`content/playbooks/playbook-00042.md`) and waits for its `reload` event on the live-reload stream
//! (`/__fieldbook/events`) before the next: nine in ten are a new last paragraph (the page alone is
//! re-rendered), one in ten a new title (the graph, the views and the pages that show the title are
//! rebuilt), and every 50th step also adds a new page or deletes the one added before. The server's
//! RSS (`VmRSS` in `/proc/PID/status`, Linux) is printed after the first build and every 100 rebuilds,
//! with the peak (`VmHWM`). The site's files are restored at the end.

#[path = "serve_client.rs"]
mod serve_client;

use std::path::Path;
use std::time::{Duration, Instant};

/// `VmRSS` and `VmHWM` of a process, in KiB.
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(bin), Some(site)) = (args.first(), args.get(1)) else {
        eprintln!("usage: serve_soak FIELDBOOK_BINARY SITE_DIR [REBUILDS]");
        std::process::exit(2);
    };
    let rebuilds: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let site = Path::new(site);
    let note = site.join("content/playbooks/playbook-00042.md");
    let extra = site.join("content/soak-extra.md");
    let original = std::fs::read_to_string(&note).expect("the site must come from bench/gen.py");
    let title_line = original
        .lines()
        .find(|l| l.starts_with("title:"))
        .expect("the page has a title: line")
        .to_string();
    let pages = walk_md(&site.join("content"));

    let serve_client::Serving {
        mut child,
        port,
        lines: rx,
    } = serve_client::start(bin, site);
    let pid = child.id();
    let erx = serve_client::events(port);
    std::thread::sleep(Duration::from_millis(500));

    println!("site: {pages} pages; {rebuilds} rebuilds");
    println!("| rebuilds | VmRSS (MiB) | VmHWM (MiB) | elapsed (s) |");
    println!("|---|---|---|---|");
    let start = Instant::now();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let report = |n: usize| {
        // Let the search refresh that follows a page-only update finish first.
        std::thread::sleep(Duration::from_millis(300));
        let (rss, hwm) = memory(pid);
        println!(
            "| {n} | {:.1} | {:.1} | {:.1} |",
            mib(rss),
            mib(hwm),
            start.elapsed().as_secs_f64()
        );
    };
    report(0);
    for k in 1..=rebuilds {
        while erx.try_recv().is_ok() {}
        let text = if k % 10 == 0 {
            original.replacen(&title_line, &format!("title: Edited title {k}"), 1)
        } else {
            format!("{original}\nEdit number {k}: one more sentence.\n")
        };
        std::fs::write(&note, text).expect("edit");
        if k % 50 == 0 {
            if k % 100 == 0 {
                let _ = std::fs::remove_file(&extra);
            } else {
                std::fs::write(
                    &extra,
                    "---\ntitle: Soak extra\n---\n\nA page that comes and goes.\n",
                )
                .expect("create");
            }
        }
        loop {
            let (_, name) = erx
                .recv_timeout(Duration::from_secs(120))
                .expect("no reload event");
            assert!(name != "problems", "the edit broke the site");
            if name == "reload" {
                break;
            }
        }
        while rx.try_recv().is_ok() {}
        if k % 100 == 0 {
            report(k);
        }
    }
    std::fs::write(&note, &original).expect("restore");
    let _ = std::fs::remove_file(&extra);
    let _ = child.kill();
    let _ = child.wait();
}

fn walk_md(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            n += walk_md(&p);
        } else if p.extension().is_some_and(|x| x == "md") {
            n += 1;
        }
    }
    n
}
