//! Serve, watching: notify events -> debounced batches of classified changes.
//!
//! [`classify`] is the pure rule that says what a changed path means to the site (content, a template,
//! a static file, site.yaml) or that it means nothing (the output folder, hidden files, editors' temp
//! files). [`Watcher`] watches only what the site is made of, never the output, and hands changes over
//! in batches: a batch closes once no event has come for a short quiet time, so an editor's
//! write-temp-then-rename save, a `git checkout` or a script touching hundreds of files gives one
//! rebuild, not hundreds.
//!
//! **Why not notify-debouncer-full.** Its debouncer releases each path's events once *that path*
//! has been quiet for its timeout, on every tick (a quarter of the timeout), while other paths are
//! still changing; a batch here closes only once *no* path has changed for [`QUIET`]. So a `git
//! checkout` or a script writing files over longer than the timeout would come out in many
//! pieces, each a rebuild (`a_burst_of_changes_is_one_rebuild` pins one or two). Covering an
//! editor's delete-then-recreate with it would take a timeout of at least [`VANISH_GRACE`] on
//! every event, where here only a batch in which a page vanished waits that long; and it has no
//! [`MAX_BATCH`]. Its rename stitching would add nothing: a rename is two paths to look at again,
//! which [`changes_of`] takes as they come.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::session::{Change, ChangeSet};

/// A batch closes after this long without a new event.
pub const QUIET: Duration = Duration::from_millis(20);
/// A batch closes after this long even if events keep coming.
pub const MAX_BATCH: Duration = Duration::from_millis(1000);

/// When a page vanishes in a batch, events are gathered up to this much longer (until it is back):
/// an editor that saves by renaming the old file away and the new one into place may be about to
/// put it back. Most do so within the [`QUIET`] time; this covers slower ones.
pub const VANISH_GRACE: Duration = Duration::from_millis(30);

/// The folders of a site that are watched (recursively), besides site.yaml.
pub const WATCHED_DIRS: [&str; 4] = ["content", "templates", "static", "themes"];

/// Classify a path relative to the site's root. `None` for anything that does not make the site.
pub fn classify(rel: &Path, theme: &str) -> Option<Change> {
    let parts: Vec<&str> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let (first, rest) = parts.split_first()?;
    if parts.iter().any(|p| p.starts_with('.'))
        || parts.last().is_some_and(|n| crate::sitefs::is_leftover(n))
    {
        return None;
    }
    match (*first, rest) {
        ("site.yaml", []) => Some(Change::Config),
        ("content", rest) => Some(Change::Content(rest.iter().collect())),
        ("templates", [_, ..]) => Some(Change::Template),
        ("templates", []) => Some(Change::Template),
        ("static", []) => Some(Change::Static(String::new())),
        ("static", rest) => Some(Change::Static(rest.join("/"))),
        ("themes", [name, sub, rest @ ..]) if *name == theme => match *sub {
            "templates" => Some(Change::Template),
            "static" => Some(Change::Static(rest.join("/"))),
            _ => None,
        },
        ("themes", [name]) if *name == theme => Some(Change::Template),
        ("themes", []) => Some(Change::Template),
        _ => None,
    }
}

/// Whether a notify event kind can mean a change of content (reads and opens cannot).
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Turn raw paths (absolute, as notify reports them) into a change set.
pub fn changes_of(root: &Path, theme: &str, paths: &[PathBuf]) -> ChangeSet {
    let mut set = ChangeSet::default();
    for p in paths {
        let Ok(rel) = p.strip_prefix(root) else {
            continue;
        };
        if let Some(c) = classify(rel, theme) {
            set.add(c);
        }
    }
    set
}

/// One batch of events: the paths they touched, and whether the watcher lost events (so everything
/// must be looked at again).
#[derive(Debug, Default)]
pub struct Batch {
    pub paths: BTreeSet<PathBuf>,
    pub rescan: bool,
    /// When the first event of the batch arrived.
    pub first: Option<Instant>,
}

/// Watches a site's sources and hands out batches of changed paths.
pub struct Watcher {
    root: PathBuf,
    watcher: RecommendedWatcher,
    rx: Receiver<notify::Result<notify::Event>>,
    watched: BTreeSet<PathBuf>,
}

impl Watcher {
    /// Watch the site at `root` (an absolute, canonical path).
    pub fn new(root: &Path) -> notify::Result<Watcher> {
        let (tx, rx) = mpsc::channel();
        let watcher = notify::recommended_watcher(move |ev| {
            // The receiver is gone only when serve is shutting down.
            let _ = tx.send(ev);
        })?;
        let mut w = Watcher {
            root: root.to_path_buf(),
            watcher,
            rx,
            watched: BTreeSet::new(),
        };
        // The root itself, not recursively: site.yaml, and folders appearing or going.
        w.watcher.watch(root, RecursiveMode::NonRecursive)?;
        w.refresh();
        Ok(w)
    }

    /// Watch the site's folders that exist and are not watched yet (one may have been created, or
    /// deleted and made again).
    pub fn refresh(&mut self) {
        for dir in WATCHED_DIRS {
            let path = self.root.join(dir);
            if path.is_dir() {
                if !self.watched.contains(&path)
                    && self.watcher.watch(&path, RecursiveMode::Recursive).is_ok()
                {
                    self.watched.insert(path);
                }
            } else if self.watched.remove(&path) {
                let _ = self.watcher.unwatch(&path);
            }
        }
    }

    /// Wait for the next batch: block until an event comes, then gather events until `QUIET` passes
    /// without one (or `MAX_BATCH` in all). `None` when the watcher has stopped.
    pub fn next_batch(&mut self) -> Option<Batch> {
        let first = self.rx.recv().ok()?;
        self.gather(first)
    }

    /// [`Self::next_batch`], giving up when `wait` passes without an event: `Some(None)` then.
    pub fn next_batch_within(&mut self, wait: Duration) -> Option<Option<Batch>> {
        match self.rx.recv_timeout(wait) {
            Ok(first) => self.gather(first).map(Some),
            Err(RecvTimeoutError::Timeout) => Some(None),
            Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    fn gather(&mut self, first: notify::Result<notify::Event>) -> Option<Batch> {
        let mut batch = Batch::default();
        let start = Instant::now();
        batch.first = Some(start);
        self.take(first, &mut batch);
        loop {
            let left = MAX_BATCH.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            match self.rx.recv_timeout(QUIET.min(left)) {
                Ok(ev) => self.take(ev, &mut batch),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
        if batch
            .paths
            .iter()
            .any(|p| p.parent() == Some(self.root.as_path()))
        {
            self.refresh();
        }
        Some(batch)
    }

    /// Gather events into `batch` for `wait` more, or, once no page of the batch is missing, until
    /// [`QUIET`] passes without one (the file put back may still be being written).
    pub fn extend(&mut self, batch: &mut Batch, wait: Duration) {
        let mut deadline = Instant::now() + wait;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(ev) => self.take(ev, batch),
                Err(_) => break,
            }
            if !Watcher::page_vanished(batch) {
                deadline = deadline.min(Instant::now() + QUIET);
            }
        }
    }

    /// Whether a page named in the batch is gone now while none of its pages is there: a page that
    /// is there beside one that went is most likely the new name of a rename, and nothing is coming
    /// back (were it an edit of another page, the one that went is only taken in two steps).
    pub fn page_vanished(batch: &Batch) -> bool {
        let pages = || {
            batch
                .paths
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("md")))
        };
        pages().any(|p| !p.exists()) && !pages().any(|p| p.exists())
    }

    fn take(&self, ev: notify::Result<notify::Event>, batch: &mut Batch) {
        match ev {
            Ok(ev) => {
                if ev.need_rescan() {
                    batch.rescan = true;
                }
                if is_change(&ev.kind) {
                    batch.paths.extend(ev.paths);
                }
            }
            // The watcher lost track (e.g. the kernel's queue overflowed): look at everything again.
            Err(_) => batch.rescan = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(p: &str) -> Option<Change> {
        classify(Path::new(p), "default")
    }

    /// A batch waits for a page that went to come back, unless another page came with it (a
    /// rename) or it is back already.
    #[test]
    fn only_a_page_gone_alone_waits_to_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let (gone, here) = (dir.path().join("gone.md"), dir.path().join("here.md"));
        std::fs::write(&here, "x").unwrap();
        let batch = |paths: &[&PathBuf]| Batch {
            paths: paths.iter().map(|p| p.to_path_buf()).collect(),
            rescan: false,
            first: None,
        };
        assert!(Watcher::page_vanished(&batch(&[&gone])));
        assert!(!Watcher::page_vanished(&batch(&[&gone, &here])));
        assert!(!Watcher::page_vanished(&batch(&[&here])));
        assert!(!Watcher::page_vanished(&batch(&[&dir
            .path()
            .join("gone.png")])));
    }

    #[test]
    fn sources_are_classified() {
        assert_eq!(c("site.yaml"), Some(Change::Config));
        assert_eq!(
            c("content/tools/doudian.md"),
            Some(Change::Content("tools/doudian.md".into()))
        );
        assert_eq!(
            c("content/tools/img/cat.png"),
            Some(Change::Content("tools/img/cat.png".into()))
        );
        assert_eq!(c("content/tools"), Some(Change::Content("tools".into())));
        assert_eq!(c("content"), Some(Change::Content("".into())));
        assert_eq!(c("templates/page.html"), Some(Change::Template));
        assert_eq!(c("templates/partials/nav.html"), Some(Change::Template));
        assert_eq!(
            c("static/css/site.css"),
            Some(Change::Static("css/site.css".into()))
        );
        assert_eq!(
            c("themes/default/templates/base.html"),
            Some(Change::Template)
        );
        assert_eq!(
            c("themes/default/static/style.css"),
            Some(Change::Static("style.css".into()))
        );
    }

    #[test]
    fn what_does_not_make_the_site_is_ignored() {
        for p in [
            "public/index.html",
            "public",
            "target/debug/x",
            ".git/index",
            "README.md",
            "site.yaml.bak/x",
            "themes/other/templates/base.html",
            "themes/default/README.md",
            "content/.hidden.md",
            "content/tools/.doudian.md.swp",
            "content/tools/doudian.md~",
            "content/tools/#doudian.md#",
            "content/tools/.#doudian.md",
            "content/tools/4913",
            "content/tools/doudian.md.tmp",
            "content/tools/doudian.md___jb_tmp___",
            "content/tools/doudian.md___jb_old___",
            "content/tools/sedAb12Cd",
            "content/.git/HEAD",
            "static/.DS_Store",
            "templates/page.html.swp",
            "../outside.md",
            "/etc/passwd",
        ] {
            assert_eq!(c(p), None, "{p}");
        }
    }

    #[test]
    fn only_writes_count_as_changes() {
        use notify::event::{CreateKind, ModifyKind};
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Any)));
        assert!(is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
    }

    #[test]
    fn absolute_paths_outside_the_root_are_dropped() {
        let root = Path::new("/site");
        let set = changes_of(
            root,
            "default",
            &[
                PathBuf::from("/site/content/a.md"),
                PathBuf::from("/elsewhere/content/b.md"),
                PathBuf::from("/site/public/index.html"),
            ],
        );
        assert_eq!(set.content.len(), 1);
        assert!(!set.config && !set.templates && set.statics.is_empty());
    }
}
