//! Last-updated dates: a page's `updated:` field, else the date of the last git commit that touched its
//! file (when the site is in a git work tree), else nothing.
//!
//! One `git log` per build answers for every file at once; it is read as a stream and stopped as soon
//! as every file asked about has its date, so a long history costs only as much of it as is needed.
//! [`parse_log`] is the pure half, tested without git.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Marks the start of a commit in the log format below (ASCII record separator).
const COMMIT: u8 = 0x1e;

/// The date (`YYYY-MM-DD`) of the last commit that touched each of `wanted` (paths relative to `root`,
/// with `/` separators). Files git does not know are left out; so is everything when `root` is not in
/// a git work tree or git is not installed.
pub fn last_commit_dates(root: &Path, wanted: &HashSet<String>) -> HashMap<String, String> {
    if wanted.is_empty() {
        return HashMap::new();
    }
    let child = Command::new("git")
        .current_dir(root)
        .args([
            "-c",
            "log.showSignature=false",
            "log",
            "--format=%x1e%cI",
            "--name-only",
            "-z",
            "--relative",
            "--",
            "content",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return HashMap::new();
    };
    let dates = match child.stdout.take() {
        Some(out) => parse_log(BufReader::new(out), wanted),
        None => HashMap::new(),
    };
    // Stop git if it is still walking history we no longer need; it has nothing else to do.
    let _ = child.kill();
    let _ = child.wait();
    dates
}

/// Read `git log --format=%x1e%cI --name-only -z` output: each commit is a record-separator byte and an
/// ISO date, then the NUL-separated paths it touched, newest commit first. The first date seen for a
/// path is its last change. Reading stops once every wanted path has a date.
pub fn parse_log(log: impl BufRead, wanted: &HashSet<String>) -> HashMap<String, String> {
    let mut dates = HashMap::new();
    let mut current: Option<String> = None;
    for token in log.split(0) {
        let Ok(token) = token else { break };
        let token = token.strip_prefix(b"\n").unwrap_or(&token);
        if let Some(header) = token.strip_prefix(&[COMMIT]) {
            let text = String::from_utf8_lossy(header);
            current = text
                .get(..10)
                .filter(|d| crate::schema::is_date(d))
                .map(str::to_string);
            continue;
        }
        let (Some(date), false) = (&current, token.is_empty()) else {
            continue;
        };
        let path = String::from_utf8_lossy(token);
        if wanted.contains(path.as_ref()) && !dates.contains_key(path.as_ref()) {
            dates.insert(path.into_owned(), date.clone());
            if dates.len() == wanted.len() {
                break;
            }
        }
    }
    dates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(paths: &[&str]) -> HashSet<String> {
        paths.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn newest_commit_wins_and_unwanted_paths_are_ignored() {
        let log = b"\x1e2024-05-02T10:00:00+08:00\0\ncontent/a.md\0content/other.md\0\x1e2024-01-01T00:00:00Z\0\ncontent/a.md\0content/b.md\0";
        let d = parse_log(&log[..], &wanted(&["content/a.md", "content/b.md"]));
        assert_eq!(d["content/a.md"], "2024-05-02");
        assert_eq!(d["content/b.md"], "2024-01-01");
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn unknown_files_and_garbage_give_no_date() {
        let d = parse_log(&b"not a log\0"[..], &wanted(&["content/a.md"]));
        assert!(d.is_empty());
        let d = parse_log(
            &b"\x1egarbage\0\ncontent/a.md\0"[..],
            &wanted(&["content/a.md"]),
        );
        assert!(d.is_empty());
    }

    #[test]
    fn non_ascii_paths_match() {
        let log = "\x1e2024-02-03T00:00:00Z\0\ncontent/工具/抖店.md\0".as_bytes();
        let d = parse_log(log, &wanted(&["content/工具/抖店.md"]));
        assert_eq!(d["content/工具/抖店.md"], "2024-02-03");
    }
}
