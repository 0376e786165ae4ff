//! Time the search index on its own: load a site (every stage up to the views), then build the
//! index files several times and report the fastest run, the file count and the bytes.
//!
//! `cargo run --release --example search_index -- SITE_DIR [RUNS]`

use std::time::{Duration, Instant};

use fieldbook::build::{load, BuildOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let root = args.next().unwrap_or_else(|| ".".into());
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let opts = BuildOptions {
        root: root.into(),
        ..BuildOptions::default()
    };
    let site = match load(&opts) {
        Ok(s) => s,
        Err(diags) => {
            for d in diags {
                eprintln!("{}", d.message);
            }
            std::process::exit(1);
        }
    };
    let mut best = Duration::MAX;
    let mut best_cpu = u64::MAX;
    let mut files = Vec::new();
    for _ in 0..runs.max(1) {
        let (start, cpu) = (Instant::now(), cpu_ms());
        files = fieldbook::search::build_files(
            &site.config,
            &site.pages,
            &site.rendered,
            &site.titles,
            &site.graph.fills,
        );
        best = best.min(start.elapsed());
        best_cpu = best_cpu.min(cpu_ms().saturating_sub(cpu));
    }
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    println!(
        "{} pages: search index in {:.0} ms wall, {} ms CPU (best of {}), {} files, {} bytes",
        site.pages.len(),
        best.as_secs_f64() * 1000.0,
        best_cpu,
        runs.max(1),
        files.len(),
        bytes
    );
}

/// CPU time used by this process so far (user + system), in ms; 0 where /proc is missing. With the
/// machine shared, CPU time says more than wall time about the index's own cost.
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    // Clock ticks are 100 per second on Linux.
    f.iter().sum::<u64>() * 10
}
