//! `--timings`: how long each stage of a build took, and the process's peak memory after it.
//!
//! A [`Stopwatch`] belongs to one build: the build marks the end of each stage on the one it is
//! given, and `fieldbook build --timings` prints the table at the end, with how many times the
//! expensive one-off work ran ([`Stopwatch::count`]: parsing the templates, loading the syntax
//! set), which a test holds at once per build. A stopwatch that is off records nothing and costs a
//! branch per stage. Nothing here is process-wide.

use std::time::{Duration, Instant};

/// The end of one stage.
#[derive(Debug, Clone)]
struct Mark {
    stage: &'static str,
    at: Instant,
    /// Peak resident memory of the process so far, in bytes (Linux only).
    peak_rss: Option<u64>,
}

/// The stages of one build, when it is on.
#[derive(Debug, Default)]
pub struct Stopwatch {
    /// `None` when off.
    marks: Option<Vec<Mark>>,
    counts: Vec<(&'static str, usize)>,
}

impl Stopwatch {
    /// A stopwatch that records nothing.
    pub fn off() -> Stopwatch {
        Stopwatch::default()
    }

    /// A stopwatch that records; the start of the first stage is now.
    pub fn on() -> Stopwatch {
        let mut s = Stopwatch {
            marks: Some(Vec::new()),
            counts: Vec::new(),
        };
        s.mark("start");
        s
    }

    /// Mark the end of `stage` (nothing when off).
    pub fn mark(&mut self, stage: &'static str) {
        if let Some(marks) = &mut self.marks {
            marks.push(Mark {
                stage,
                at: Instant::now(),
                peak_rss: peak_rss(),
            });
        }
    }

    /// Count one more of `what` (whether on or off: it is for work done once or twice a build).
    pub fn count(&mut self, what: &'static str) {
        match self.counts.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((what, 1)),
        }
    }

    /// Everything [`count`](Self::count)ed, in first-counted order.
    pub fn counts(&self) -> &[(&'static str, usize)] {
        &self.counts
    }

    /// The stages recorded: name, duration, peak memory after it.
    pub fn stages(&self) -> Vec<(&'static str, Duration, Option<u64>)> {
        let marks = self.marks.as_deref().unwrap_or_default();
        marks
            .windows(2)
            .map(|w| (w[1].stage, w[1].at - w[0].at, w[1].peak_rss))
            .collect()
    }
}

/// `VmHWM` of /proc/self/status: the peak resident set size.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_off_stopwatch_records_no_stage_but_still_counts() {
        let mut off = Stopwatch::off();
        off.mark("one");
        off.count("templates parsed");
        assert!(off.stages().is_empty());
        assert_eq!(off.counts(), &[("templates parsed", 1)]);

        let mut on = Stopwatch::on();
        on.mark("one");
        on.mark("two");
        on.count("x");
        on.count("x");
        let names: Vec<_> = on.stages().iter().map(|s| s.0).collect();
        assert_eq!(names, ["one", "two"]);
        assert_eq!(on.counts(), &[("x", 2)]);
    }
}
