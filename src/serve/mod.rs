//! `fieldbook serve`: build the site in memory, serve it on this machine, watch its sources, rebuild
//! what an edit changes and reload the open pages.
//!
//! ```text
//! notify ─> watch (classify, debounce) ─> session.apply(change set) (the library's incremental
//!        engine, in memory) ─> publish the new map ─> reload hub (server-sent events)
//!        ─> open pages reload or swap CSS
//! ```
//!
//! `serve` itself only watches, serves and reloads; what to rebuild is the [`crate::session`]'s
//! business, and what it serves is the session's [`crate::output::Files`] map.
//!
//! - [`path`]: request path -> file of the site, Content-Type, Host check (pure).
//! - [`watch`]: notify events -> classified, debounced change sets.
//! - [`reload`]: the event hub, its messages, the injected script and the error overlay.
//! - [`http`]: the HTTP server (std::net, a thread per connection, one request per connection).
//!
//! A broken edit never stops the server: the last good site stays served, the terminal and an overlay
//! in the browser show the problems, and the next good rebuild clears them.

pub mod http;
pub mod path;
pub mod reload;
pub mod watch;

use std::net::{IpAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::diagnostics::Diagnostic;

use self::http::Shared;
use self::reload::{Message, Problem};
use crate::session::{ChangeSet, Outcome, Session};

/// The port `serve` tries first.
pub const DEFAULT_PORT: u16 = 1111;
/// How many further ports it tries when the default one is taken.
const PORT_TRIES: u16 = 10;
/// How long the sources must be quiet before the search index catches up with page-only edits.
const SEARCH_QUIET: Duration = Duration::from_millis(500);

/// What to serve and where.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The site's folder (the one with site.yaml).
    pub root: PathBuf,
    /// Address to listen on; 127.0.0.1 unless the user says otherwise.
    pub bind: IpAddr,
    /// Port to listen on; 0 for any free port.
    pub port: u16,
    /// The port was asked for: if it is taken, fail instead of trying the next ones.
    pub port_given: bool,
    /// Open the site in the default browser.
    pub open: bool,
    /// Include pages marked `draft: true`.
    pub drafts: bool,
}

/// Where `serve` tells the user what happens. The library never prints by itself.
pub trait Reporter {
    /// One line of news (the URL, a rebuild, a warning about the address).
    fn line(&self, text: &str);
    /// Problems found in the site.
    fn problems(&self, diags: &[Diagnostic]);
    /// The site is up to date and its sources have been quiet for a while: a moment to give memory
    /// back (the binary asks its allocator to, after a rebuild freed much of it).
    fn settled(&self) {}
}

/// Serve the site until the process is stopped. Returns an error only for problems of the setup (no
/// site here, the port is taken, the folder cannot be watched); problems in the site are reported
/// and served as an overlay, and the server goes on.
pub fn serve(opts: &ServeOptions, out: &dyn Reporter) -> Result<(), Diagnostic> {
    let root = std::fs::canonicalize(&opts.root)
        .ok()
        .filter(|r| r.join("site.yaml").is_file())
        .ok_or_else(|| {
            Diagnostic::setup(
                "no-config",
                format!("no site.yaml in {}", opts.root.display()),
            )
            .with_help("run fieldbook in a site's folder (the one with site.yaml), pass --root DIR, or create a site with `fieldbook init DIR`")
        })?;
    let listener = listen(opts, out)?;
    let port = listener
        .local_addr()
        .map_err(|e| io_error(&format!("cannot read the listening address: {e}")))?
        .port();
    let shared = Arc::new(Shared::new(root.clone(), opts.bind, port));

    // Watch before the first build, so that no edit made during it is missed.
    let mut watcher = watch::Watcher::new(&root).map_err(|e| {
        io_error(&format!("cannot watch {}: {e}", root.display())).with_help(
            "on Linux, raise fs.inotify.max_user_watches if the limit of watched folders is reached",
        )
    })?;
    let mut session = Session::new(&root, opts.drafts);
    let mut broken = false;
    let first = session.apply(&ChangeSet::everything());
    shared.publish(session.files());
    shared.applied(session.settled());
    let _server = http::spawn(listener, shared.clone());

    let host = match opts.bind {
        IpAddr::V4(a) if a.is_unspecified() => "127.0.0.1".to_string(),
        IpAddr::V6(a) if a.is_unspecified() => "[::1]".to_string(),
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    let url = format!("http://{host}:{port}/");
    match &first {
        Outcome::Updated { report, .. } | Outcome::Unchanged(report) => {
            if !report.warnings.is_empty() {
                out.problems(&report.warnings);
            }
            out.line(&format!(
                "Built {} pages in {} ms",
                report.pages,
                report.elapsed.as_millis()
            ));
        }
        Outcome::Failed(diags) => {
            broken = true;
            report_failure(out, &shared, diags);
        }
        Outcome::Css(_) => {}
    }
    out.line(&format!(
        "Serving {} at {url} (press Ctrl+C to stop)",
        root.display()
    ));
    if !opts.bind.is_loopback() {
        out.line(&format!(
            "warning: listening on {}: anyone who can reach this machine on port {port} can read the site; drop --bind to serve on 127.0.0.1 only",
            opts.bind
        ));
    }
    if opts.open {
        if let Err(e) = open_browser(&url) {
            out.line(&format!(
                "could not open a browser ({e}); open {url} yourself"
            ));
        }
    }

    let mut last_warnings = String::new();
    // Memory is given back one quiet time after the site settled, once what the last change
    // replaced has been freed (old sites and indexes go on other threads).
    let mut give_back = false;
    loop {
        // A page-only edit leaves the search index behind; it is brought up to date once the
        // sources have been quiet for SEARCH_QUIET, so that indexing the whole site never stands
        // between an author's next save and its reload.
        let next = if session.search_stale() || give_back {
            watcher.next_batch_within(SEARCH_QUIET)
        } else {
            watcher.next_batch().map(Some)
        };
        let mut batch = match next {
            None => break,
            Some(None) if session.search_stale() => {
                if session.refresh_search() {
                    shared.publish(session.files());
                }
                shared.settled(true);
                give_back = true;
                continue;
            }
            Some(None) => {
                give_back = false;
                out.settled();
                continue;
            }
            Some(Some(batch)) => batch,
        };
        if watch::Watcher::page_vanished(&batch) {
            watcher.extend(&mut batch, watch::VANISH_GRACE);
        }
        let mut changes = watch::changes_of(
            &root,
            session.theme(),
            &batch.paths.iter().cloned().collect::<Vec<_>>(),
        );
        changes.rescan |= batch.rescan;
        if changes.is_empty() {
            continue;
        }
        let since = batch.first.unwrap_or_else(Instant::now);
        let outcome = session.apply(&changes);
        // Publish before counting the change set as applied (below), so that whoever waits on the
        // status sees the new files.
        if !matches!(outcome, Outcome::Failed(_) | Outcome::Unchanged(_)) {
            shared.publish(session.files());
        }
        let lists = session.lists_pending();
        if !lists {
            shared.applied(session.settled());
        }
        match outcome {
            Outcome::Updated { paths, all, report } => {
                shared.hub.send(&Message::Reload {
                    paths: if all { Vec::new() } else { paths.clone() },
                    all,
                });
                broken = false;
                let what = if all {
                    "the whole site".to_string()
                } else if paths.len() == 1 {
                    paths[0].clone()
                } else {
                    format!("{} files", paths.len())
                };
                out.line(&format!(
                    "Updated {what} in {} ms ({} rendered{})",
                    since.elapsed().as_millis(),
                    report.rendered,
                    if report.incremental {
                        ", page only"
                    } else {
                        ""
                    }
                ));
                let shown = crate::diagnostics::render_terminal(&report.warnings, false);
                if shown != last_warnings {
                    out.problems(&report.warnings);
                    last_warnings = shown;
                }
            }
            Outcome::Css(paths) => {
                shared.hub.send(&Message::Css(paths.clone()));
                out.line(&format!("Swapped {}", paths.join(", ")));
            }
            Outcome::Unchanged(_) => {
                if broken {
                    shared.hub.send(&Message::Ok);
                    out.line("Fixed; the site is as it was");
                    broken = false;
                }
            }
            Outcome::Failed(diags) => {
                broken = true;
                report_failure(out, &shared, &diags);
            }
        }
        // The indexes and lists an edit changed follow its pages (see `Session::finish_lists`).
        if session.lists_pending() {
            let t = Instant::now();
            match session.finish_lists() {
                Outcome::Updated { paths, .. } => {
                    shared.publish(session.files());
                    shared.hub.send(&Message::Reload {
                        paths: paths.clone(),
                        all: false,
                    });
                    out.line(&format!(
                        "Lists updated: {} in {} ms",
                        if paths.len() == 1 {
                            paths[0].clone()
                        } else {
                            format!("{} files", paths.len())
                        },
                        t.elapsed().as_millis()
                    ));
                }
                Outcome::Failed(diags) => {
                    broken = true;
                    report_failure(out, &shared, &diags);
                }
                Outcome::Css(_) | Outcome::Unchanged(_) => {}
            }
        }
        if lists {
            // The change set counts as applied once its lists are out too.
            shared.applied(session.settled());
        }
    }
    Ok(())
}

fn report_failure(out: &dyn Reporter, shared: &Shared, diags: &[Diagnostic]) {
    out.problems(diags);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    out.line(&format!(
        "{errors} error{}; still serving the last good site",
        if errors == 1 { "" } else { "s" }
    ));
    shared
        .hub
        .send(&Message::Problems(Problem::from_diagnostics(diags)));
}

fn io_error(msg: &str) -> Diagnostic {
    Diagnostic::setup("io", msg.to_string())
}

/// Listen on the asked address and port; without an explicit port, try the next few when the default
/// one is taken (and say so).
fn listen(opts: &ServeOptions, out: &dyn Reporter) -> Result<TcpListener, Diagnostic> {
    let tries = if opts.port_given || opts.port == 0 {
        1
    } else {
        PORT_TRIES
    };
    for k in 0..tries {
        let Some(port) = opts.port.checked_add(k) else {
            break;
        };
        match TcpListener::bind((opts.bind, port)) {
            Ok(l) => {
                if k > 0 {
                    out.line(&format!("Port {} is in use; using {port}", opts.port));
                }
                return Ok(l);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && k + 1 < tries => continue,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                let which = if tries == 1 {
                    format!("port {port} on {} is already in use", opts.bind)
                } else {
                    format!("ports {}-{port} on {} are all in use", opts.port, opts.bind)
                };
                return Err(Diagnostic::error("port-in-use", which).with_help(
                    "stop the other server, pass another port with --port, or --port 0 for any free port",
                ));
            }
            Err(e) => {
                return Err(Diagnostic::setup(
                    "io",
                    format!("cannot listen on {}:{port}: {e}", opts.bind),
                )
                .with_help("check the --bind address: it must be an address of this machine"))
            }
        }
    }
    Err(Diagnostic::error("port-in-use", "no free port found")
        .with_help("pass a port with --port, or --port 0 for any free port"))
}

/// Open a URL in the default browser, without waiting for it.
fn open_browser(url: &str) -> std::io::Result<()> {
    use std::process::{Command, Stdio};
    let mut cmd = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        Command::new("xdg-open")
    };
    let mut child = cmd
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // Reap it when it exits, so it does not linger.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}
