//! `--timings`: how long each stage of a build took, and the process's peak memory after it.
//!
//! A process-wide recorder, off by default: [`mark`] costs one atomic load when it is off. The build
//! marks the end of each stage; `fieldbook build --timings` prints the table at the end, and how many
//! times the expensive one-off work ran ([`count`]: parsing the templates, loading the syntax set),
//! which a test holds at once per build.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ON: AtomicBool = AtomicBool::new(false);
static MARKS: Mutex<Vec<Mark>> = Mutex::new(Vec::new());
static COUNTS: Mutex<Vec<(&'static str, usize)>> = Mutex::new(Vec::new());

/// Count one more of `what` (always on: it is for work done once or twice a build).
pub fn count(what: &'static str) {
    if let Ok(mut counts) = COUNTS.lock() {
        match counts.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => counts.push((what, 1)),
        }
    }
}

/// Everything [`count`]ed so far, in first-counted order.
pub fn counts() -> Vec<(&'static str, usize)> {
    COUNTS.lock().map(|c| c.clone()).unwrap_or_default()
}

/// The end of one stage.
#[derive(Debug, Clone)]
pub struct Mark {
    pub stage: &'static str,
    pub at: Instant,
    /// Peak resident memory of the process so far, in bytes (Linux only).
    pub peak_rss: Option<u64>,
}

/// Start recording; the start of the first stage is now.
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
    record("start");
}

/// Mark the end of `stage` (nothing when recording is off).
pub fn mark(stage: &'static str) {
    if ON.load(Ordering::Relaxed) {
        record(stage);
    }
}

fn record(stage: &'static str) {
    let m = Mark {
        stage,
        at: Instant::now(),
        peak_rss: peak_rss(),
    };
    if let Ok(mut marks) = MARKS.lock() {
        marks.push(m);
    }
}

/// The stages recorded so far: name, duration, peak memory after it.
pub fn stages() -> Vec<(&'static str, Duration, Option<u64>)> {
    let marks = MARKS.lock().map(|m| m.clone()).unwrap_or_default();
    marks
        .windows(2)
        .map(|w| (w[1].stage, w[1].at - w[0].at, w[1].peak_rss))
        .collect()
}

/// `VmHWM` of /proc/self/status: the peak resident set size.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
