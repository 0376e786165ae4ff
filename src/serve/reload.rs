//! Serve, live reload: the event hub that open pages listen to (server-sent events), the messages it
//! sends, and the small script `serve` injects into every HTML response (never into `build`'s output).
//!
//! Messages: `reload` (with the output paths that changed, or `all`), `css` (stylesheets to swap
//! without reloading), `problems` (diagnostics for the error overlay, also sent to every page that
//! connects while the site is broken) and `ok` (the problems are fixed).

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::diagnostics::{render_terminal, Diagnostic};

/// At most this many pages listen at once; more get a 503 (each listener holds a thread).
pub const MAX_LISTENERS: usize = 64;
/// Messages queued for one listener before it is dropped as too slow.
const QUEUE: usize = 32;

/// One message to open pages.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Reload pages whose output path is in `paths`, or every page when `all`.
    Reload { paths: Vec<String>, all: bool },
    /// Swap these stylesheets (output paths) in place.
    Css(Vec<String>),
    /// The last rebuild failed: show these problems over the page.
    Problems(Vec<Problem>),
    /// The problems are gone.
    Ok,
}

/// A diagnostic as the overlay shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// `file:line:column`, as far as known.
    pub location: Option<String>,
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    /// The same text as the terminal shows: the source line with a caret, and the hint.
    pub text: String,
}

impl Problem {
    /// The overlay's view of diagnostics.
    pub fn from_diagnostics(diags: &[Diagnostic]) -> Vec<Problem> {
        diags
            .iter()
            .map(|d| Problem {
                location: d.location(),
                severity: if d.is_error() { "error" } else { "warning" },
                code: d.code,
                message: d.message.clone(),
                help: d.help.clone(),
                text: render_terminal(std::slice::from_ref(d), false),
            })
            .collect()
    }
}

impl Message {
    /// The message as one server-sent event.
    pub fn to_event(&self) -> String {
        let (name, data) = match self {
            Message::Reload { paths, all } => (
                "reload",
                serde_json::json!({ "paths": paths, "all": all }).to_string(),
            ),
            Message::Css(paths) => ("css", serde_json::json!({ "paths": paths }).to_string()),
            Message::Problems(p) => (
                "problems",
                serde_json::to_string(p).unwrap_or_else(|_| "[]".into()),
            ),
            Message::Ok => ("ok", "{}".to_string()),
        };
        // serde_json writes no raw newline, so `data` is one line.
        format!("event: {name}\ndata: {data}\n\n")
    }
}

#[derive(Default)]
struct HubState {
    listeners: Vec<SyncSender<Arc<str>>>,
    /// The `problems` event while the site is broken, for pages that connect meanwhile.
    problems: Option<Arc<str>>,
}

/// Where rebuilds announce themselves and open pages listen.
#[derive(Default)]
pub struct Hub {
    state: Mutex<HubState>,
}

impl Hub {
    fn state(&self) -> MutexGuard<'_, HubState> {
        // A listener thread that panicked cannot leave the list half-updated; go on with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start listening. `None` when too many pages listen already. A page that connects while the
    /// site is broken gets the problems at once.
    pub fn subscribe(&self) -> Option<Receiver<Arc<str>>> {
        let mut state = self.state();
        state
            .listeners
            .retain(|l| l.try_send(Arc::from(": ping\n\n")).is_ok());
        if state.listeners.len() >= MAX_LISTENERS {
            return None;
        }
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        if let Some(p) = &state.problems {
            let _ = tx.try_send(p.clone());
        }
        state.listeners.push(tx);
        Some(rx)
    }

    /// Send a message to every listener; the ones that are gone or too slow are dropped.
    pub fn send(&self, message: &Message) {
        let event: Arc<str> = Arc::from(message.to_event());
        let mut state = self.state();
        match message {
            Message::Problems(_) => state.problems = Some(event.clone()),
            Message::Ok | Message::Reload { .. } => state.problems = None,
            Message::Css(_) => {}
        }
        state.listeners.retain(|l| {
            !matches!(
                l.try_send(event.clone()),
                Err(TrySendError::Disconnected(_) | TrySendError::Full(_))
            )
        });
    }

    /// How many pages listen.
    pub fn listeners(&self) -> usize {
        self.state().listeners.len()
    }
}

/// The script served at [`super::path::SCRIPT_PATH`].
pub const SCRIPT: &str = include_str!("reload.js");

/// Add the reload script to an HTML page, just before `</body>` (or at the end). `not_found` marks the
/// 404 page, which reloads on any change (the page asked for may exist now).
pub fn inject(html: &[u8], not_found: bool) -> Vec<u8> {
    let tag = format!(
        "<script src=\"{}\"{}></script>",
        super::path::SCRIPT_PATH,
        if not_found {
            " data-status=\"404\""
        } else {
            ""
        }
    );
    let at = find_last_ci(html, b"</body>").unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + tag.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

fn find_last_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Source;

    #[test]
    fn events_are_one_line_of_data() {
        let m = Message::Reload {
            paths: vec!["a/index.html".into()],
            all: false,
        };
        let e = m.to_event();
        let data = e
            .strip_prefix("event: reload\ndata: ")
            .and_then(|d| d.strip_suffix("\n\n"))
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(
            v,
            serde_json::json!({ "paths": ["a/index.html"], "all": false })
        );
        let src = Source::new("content/a.md", "---\ntitle: [\n---\n");
        let d = Diagnostic::error("yaml", "bad\nyaml").at(&src, 11..12);
        let p = Message::Problems(Problem::from_diagnostics(&[d])).to_event();
        assert_eq!(p.matches('\n').count(), 3, "{p}");
        assert!(p.contains("content/a.md:2:8"), "{p}");
    }

    #[test]
    fn late_listeners_get_the_problems_and_ok_clears_them() {
        let hub = Hub::default();
        hub.send(&Message::Problems(vec![]));
        let rx = hub.subscribe().unwrap();
        assert!(rx.try_recv().unwrap().starts_with("event: problems"));
        hub.send(&Message::Ok);
        assert!(rx.try_recv().unwrap().starts_with("event: ok"));
        let rx2 = hub.subscribe().unwrap();
        assert!(rx2.try_recv().is_err());
        drop(rx);
        hub.send(&Message::Css(vec!["style.css".into()]));
        assert_eq!(hub.listeners(), 1);
    }

    #[test]
    fn the_script_goes_before_the_body_closes() {
        let out = inject(b"<html><body><p>x</p></BODY></html>", false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<html><body><p>x</p><script src=\"/__fieldbook/reload.js\"></script></BODY></html>"
        );
        let out = inject(b"<p>no body", true);
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("<script src=\"/__fieldbook/reload.js\" data-status=\"404\"></script>"));
    }
}
