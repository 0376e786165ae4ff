//! Measures edit-to-reload latency of `fieldbook serve`: the time from writing a page to the `reload`
//! event arriving on the live-reload stream, on a site made by `bench/gen.py` (`bench/build.py` runs
//! it on the 10,000-page site).
//!
//! ```text
//! python3 bench/gen.py 10000 /tmp/fb-10k
//! cargo run --release --example serve_latency -- target/release/fieldbook /tmp/fb-10k/fieldbook 30 \
//!     content/playbooks/playbook-00042.md
//! ```
//!
//! Two kinds of edit, each repeated: a new last paragraph in one page (the page alone changes), and a
//! new title for it (the pages that show it change too). Prints min, median, p90 and max.

#[path = "serve_client.rs"]
mod serve_client;

use std::path::Path;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(bin), Some(site)) = (args.first(), args.get(1)) else {
        eprintln!("usage: serve_latency FIELDBOOK_BINARY SITE_DIR [EDITS] [PAGE]");
        std::process::exit(2);
    };
    let edits: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(20);
    let site = Path::new(site);
    let page = args
        .get(3)
        .map_or("content/playbooks/playbook-00042.md", String::as_str);
    let note = site.join(page);
    let original = std::fs::read_to_string(&note).expect("the page to edit must exist");
    let title_line = original
        .lines()
        .find(|l| l.starts_with("title:"))
        .expect("the page must have a title: line")
        .to_string();

    let start = Instant::now();
    let serve_client::Serving {
        mut child,
        port,
        lines: rx,
    } = serve_client::start(bin, site);
    println!("ready after {} ms", start.elapsed().as_millis());
    let erx = serve_client::events(port);
    std::thread::sleep(Duration::from_millis(300));

    let measure = |label: &str, make: &dyn Fn(usize) -> String| {
        let mut times = Vec::new();
        for k in 0..edits {
            while erx.try_recv().is_ok() {}
            let t0 = Instant::now();
            std::fs::write(&note, make(k)).expect("edit");
            loop {
                let (at, name) = erx
                    .recv_timeout(Duration::from_secs(120))
                    .expect("no reload event");
                if name == "reload" {
                    times.push(at.duration_since(t0));
                    break;
                }
                assert!(name != "problems", "the edit broke the site");
            }
            std::thread::sleep(Duration::from_millis(150));
            while let Ok(line) = rx.try_recv() {
                if k == 0 {
                    println!("serve: {line}");
                }
            }
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{label}: {} edits, min {:.1} ms, median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
            times.len(),
            ms(times[0]),
            ms(times[times.len() / 2]),
            ms(times[(times.len() * 9 / 10).min(times.len() - 1)]),
            ms(times[times.len() - 1]),
        );
    };
    measure("body edit (page only)", &|k| {
        format!("{original}\nEdit number {k}: one more sentence.\n")
    });
    measure("title edit (page and the pages showing it)", &|k| {
        original.replacen(&title_line, &format!("title: Edited title {k}"), 1)
    });
    std::fs::write(&note, &original).expect("restore");
    let _ = child.kill();
    let _ = child.wait();
}
