//! The incremental engine: keeps every content file parsed, the last good site and the files made
//! from it, and turns a change set into the smallest rebuild that is still exact. `serve` drives
//! it: it watches, calls [`Session::apply`], publishes [`Session::files`] and reloads.
//!
//! Three ways to apply a change set, cheapest first:
//!
//! 1. **Pages only** ([`plan::tier`]): the edited pages show the rest of the site what they showed
//!    before (same front matter, title, summary, headings, links, tags): only they are rendered.
//! 2. **Patch** ([`patch`]): what other pages see of a page changed, or pages came or went, but not
//!    site.yaml, the templates, the files beside pages or an embed. The last good site is patched in
//!    place: the lookup, the link index and the index by path patched for the pages that came, went
//!    or were renamed, the links of the pages that can see the change resolved again, edges and
//!    backlinks patched, the views made from the pages' cards, and only the outputs that can show
//!    the change (the candidates) prepared and compared by fingerprint. A page that comes or goes
//!    beside others joins the page list where a walk of content/ would put it, without the walk.
//!    The pages go out first; the indexes, tags and matrices among the candidates follow
//!    ([`Session::finish_lists`]), then the whole-site files and the search index
//!    ([`Session::refresh_search`]).
//! 3. **Site** (everything else): graph and views from the cached pages, every output's context
//!    fingerprinted, and the outputs whose print moved rendered. An edit of site.yaml keeps the
//!    parsed pages unless what they read of it changed ([`SiteConfig::reads_pages_like`]); an edit
//!    of templates alone renders the site it has.
//!
//! Whatever the way, the served files end as `fieldbook build` would write them: the consistency
//! test (`tests/it/serve/consistency.rs`) compares them byte for byte after 200 random edits.
//!
//! Nothing here writes to disk: the site is a map of output paths to bytes (or to files read when
//! asked for), so `serve` never touches a `public/` made by `build`. A rebuild that finds errors
//! changes nothing that is served; the changes stay pending until a rebuild succeeds.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::build::{self, BuildOptions, Output, Site, StaticSource};
use crate::config::SiteConfig;
use crate::content::{self, Page};
use crate::diagnostics::{self, Diagnostic};
use crate::graph;
use crate::markdown::{Fill, Rendered};
use crate::output::{Entry, Files};
use crate::render::Templates;

mod patch;
pub mod plan;
#[cfg(test)]
mod tests;

pub use plan::{Change, ChangeSet};
use plan::{PageEdit, Tier};

/// The files one template output makes: its own and its alias redirects.
type OutputFiles = Vec<(String, Arc<[u8]>)>;

/// Files as [`build::render_owned`] makes them.
type RenderedFiles = Vec<(String, Vec<u8>)>;

/// One content file as last read.
struct Cached {
    parsed: build::Parsed,
    rendered: Option<Rendered>,
}

/// The last site that built without errors, and what was made from it.
struct Good {
    site: Site,
    /// Template outputs by path: the fingerprint of what made them, and their files.
    prints: HashMap<String, u64>,
    outputs: HashMap<String, OutputFiles>,
    /// graph.json, nav.json, the sitemap.
    generated: Vec<(String, Arc<[u8]>)>,
    /// The search index's files.
    search_files: Vec<(String, Arc<[u8]>)>,
    statics: Vec<(String, Entry)>,
    /// Page index by path under content/ (`tools/doudian.md`).
    index: HashMap<String, usize>,
}

impl Good {
    /// The files of the outputs that `prints` (a new site's) no longer has.
    fn files_gone(&self, prints: &HashMap<String, u64>) -> Vec<String> {
        plan::gone(&self.prints, prints)
            .iter()
            .filter_map(|o| self.outputs.get(o))
            .flat_map(|files| files.iter().map(|(p, _)| p.clone()))
            .collect()
    }
}

/// What a rebuild did, for the terminal.
#[derive(Debug, Clone)]
pub struct Report {
    pub pages: usize,
    /// Template outputs rendered.
    pub rendered: usize,
    /// Whether only the edited pages were looked at (see [`plan::tier`]).
    pub incremental: bool,
    pub elapsed: Duration,
    pub warnings: Vec<Diagnostic>,
}

/// What a rebuild changed.
#[derive(Debug)]
pub enum Outcome {
    /// Output paths that are new, different or gone; `all` when any page may have changed.
    Updated {
        paths: Vec<String>,
        all: bool,
        report: Report,
    },
    /// Only these stylesheets changed.
    Css(Vec<String>),
    /// Nothing that is served changed.
    Unchanged(Report),
    /// The site has errors; the last good one is still served.
    Failed(Vec<Diagnostic>),
}

/// The incremental engine: the site as last built, and what it takes to bring it up to date.
pub struct Session {
    opts: BuildOptions,
    content_dir: PathBuf,
    config: Option<SiteConfig>,
    templates: Option<Templates>,
    cache: HashMap<PathBuf, Cached>,
    /// Pages under content/ in discovery order (the order `build` uses).
    order: Vec<PathBuf>,
    assets: Vec<PathBuf>,
    discover_diags: Vec<Diagnostic>,
    /// The links the last walk of content/ went through.
    content_links: Vec<PathBuf>,
    pending: ChangeSet,
    good: Option<Good>,
    files: Arc<Files>,
    /// A page-only update changed page text without rebuilding the search index; see
    /// [`Session::refresh_search`].
    search_stale: bool,
    /// The search index, kept between changes (see [`crate::search::Live`]).
    search: Option<crate::search::Live>,
    /// URLs whose search documents changed since the index was last brought up to date.
    search_dirty: std::collections::BTreeSet<String>,
    /// A patch left graph.json, nav.json and the sitemap behind (see [`Session::refresh_search`]).
    generated_stale: bool,
    /// Which pages link under which name, made on the first patch (see [`patch::LinkIndex`]).
    links: Option<patch::LinkIndex>,
    /// A patch that moved pages failed half-way: the site model no longer matches the files served,
    /// and the next change rebuilds it.
    site_dirty: bool,
    /// Lists a patch left to render after its reload (see [`Session::finish_lists`]).
    lists_pending: Option<Vec<build::Output>>,
}

pub(crate) fn rel_key(rel: &Path) -> String {
    rel.to_string_lossy().replace('\\', "/")
}

fn is_markdown(rel: &Path) -> bool {
    rel.extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("md"))
}

impl Session {
    /// A builder for the site at `root`. The site is served at `/`, whatever its `base_url`.
    pub fn new(root: &Path, drafts: bool) -> Session {
        Session {
            opts: BuildOptions {
                root: root.to_path_buf(),
                output: None,
                base_url: Some("/".into()),
                drafts,
            },
            content_dir: root.join("content"),
            config: None,
            templates: None,
            cache: HashMap::new(),
            order: Vec::new(),
            assets: Vec::new(),
            discover_diags: Vec::new(),
            content_links: Vec::new(),
            pending: ChangeSet::everything(),
            good: None,
            files: Arc::new(Files::new()),
            search_stale: false,
            search: None,
            search_dirty: Default::default(),
            generated_stale: false,
            links: None,
            site_dirty: false,
            lists_pending: None,
        }
    }

    /// Whether page-only updates have left the search index behind (see [`Session::refresh_search`]).
    pub fn search_stale(&self) -> bool {
        self.search_stale || self.generated_stale
    }

    /// Bring the search index up to date after page-only updates. Indexing reads every page, so the
    /// page-only path leaves it to this call, made once the reload has been sent: the author sees
    /// the edit at once, and search catches up a moment later. Returns whether anything changed.
    pub fn refresh_search(&mut self) -> bool {
        let generated = std::mem::take(&mut self.generated_stale);
        if !std::mem::take(&mut self.search_stale) && !generated {
            return false;
        }
        let Some(good) = &mut self.good else {
            return false;
        };
        let mut changed = false;
        if generated {
            for (path, bytes) in build::site_files(&good.site) {
                match good.generated.iter_mut().find(|(p, _)| *p == path) {
                    Some((_, old)) if **old == *bytes => {}
                    Some((_, old)) => {
                        *old = Arc::from(bytes);
                        changed = true;
                    }
                    None => {
                        good.generated.push((path, Arc::from(bytes)));
                        changed = true;
                    }
                }
            }
        }
        let site = &good.site;
        // What the first patch would otherwise make before its reload.
        if self.links.is_none() {
            self.links = Some(patch::LinkIndex::new(&site.pages, &site.rendered));
        }
        let Some(live) = self.search.as_mut() else {
            // After a rebuild: the index of every page, at once.
            let mut live = build::search_index(site);
            good.search_files = live.files();
            self.search = Some(live);
            self.search_dirty.clear();
            self.compose();
            return true;
        };
        // The documents of the pages that changed, and only those, go into the index.
        let dirty = std::mem::take(&mut self.search_dirty);
        if !dirty.is_empty() {
            let by_url: HashMap<&str, usize> = site
                .pages
                .iter()
                .enumerate()
                .map(|(i, p)| (p.url.as_str(), i))
                .collect();
            for url in &dirty {
                let doc = by_url.get(url.as_str()).map(|&i| {
                    crate::search::document(
                        &site.config,
                        &site.pages[i],
                        &site.rendered[i],
                        &site.titles[i],
                        &site.graph.fills[i],
                    )
                });
                live.set(url, doc);
            }
        }
        let (fresh, gone) = live.changes();
        if fresh.is_empty() && gone.is_empty() {
            if changed {
                self.compose();
            }
            return changed;
        }
        let gone: HashSet<String> = gone.into_iter().collect();
        good.search_files.retain(|(p, _)| !gone.contains(p));
        for (path, bytes) in fresh {
            match good.search_files.iter_mut().find(|(p, _)| *p == path) {
                Some((_, old)) => *old = bytes,
                None => good.search_files.push((path, bytes)),
            }
        }
        self.compose();
        true
    }

    /// Whether nothing is left to do after the last change: no lists (see
    /// [`Session::finish_lists`]), search index or whole-site file behind.
    pub fn settled(&self) -> bool {
        !self.search_stale() && !self.lists_pending()
    }

    /// The files of the last good site.
    pub fn files(&self) -> Arc<Files> {
        self.files.clone()
    }

    /// The theme the site uses (for classifying changes).
    pub fn theme(&self) -> &str {
        self.config.as_ref().map_or("default", |c| c.theme.as_str())
    }

    /// Whether a good site exists yet.
    pub fn has_site(&self) -> bool {
        self.good.is_some()
    }

    /// Bring the site up to date with `changes` (and whatever earlier failed rebuilds left pending).
    pub fn apply(&mut self, changes: &ChangeSet) -> Outcome {
        if self.lists_pending() {
            // What the last patch left must be done before the site changes again.
            let _ = self.finish_lists();
        }
        let start = Instant::now();
        self.pending.merge(changes);
        let outcome = self.run(start);
        if !matches!(outcome, Outcome::Failed(_)) {
            self.pending = ChangeSet::default();
        }
        outcome
    }

    fn run(&mut self, start: Instant) -> Outcome {
        let pending = self.pending.clone();
        let mut everything = self.good.is_none();
        let mut rescan = pending.rescan || self.good.is_none();
        // Pages came or went (and nothing else forced a rescan): a patch can still take it.
        let mut set_changed = false;
        if pending.config || self.config.is_none() {
            match build::load_config(&self.opts.root, self.opts.base_url.as_deref()) {
                Ok(c) => {
                    // Pages read as before are kept (a new title or view changes no page's parse).
                    if !self
                        .config
                        .as_ref()
                        .is_some_and(|old| old.reads_pages_like(&c))
                    {
                        self.cache.clear();
                    }
                    self.config = Some(c);
                }
                Err(d) => return Outcome::Failed(d),
            }
            rescan = true;
            everything = true;
        }
        if pending.rescan {
            // Events were lost: no cached file can be trusted.
            self.cache.clear();
        }
        let Some(config) = self.config.clone() else {
            return Outcome::Failed(Vec::new());
        };
        // Only templates changed: the site stays as it is, its outputs are rendered again.
        let templates_only = pending.templates
            && !everything
            && !rescan
            && pending.content.is_empty()
            && pending.statics.is_empty()
            && !self.site_dirty;
        if pending.templates || everything || self.templates.is_none() {
            match Templates::load(&self.opts.root, &config.theme) {
                Ok(t) => self.templates = Some(t),
                Err(d) => return Outcome::Failed(d),
            }
            everything = true;
        }

        if templates_only {
            return self.rerender_all(start);
        }

        // Read what changed under content/.
        let mut edited = Vec::new();
        let mut asset_touched = false;
        // A page read through a link shows a file of another name, whose events name that file:
        // on any change under content/, such pages are read again.
        if !pending.content.is_empty() && !self.content_links.is_empty() {
            let links = &self.content_links;
            let before = self.cache.len();
            self.cache
                .retain(|rel, _| !links.iter().any(|l| rel.starts_with(l)));
            rescan |= self.cache.len() != before;
        }
        // Pages that came or went, when the walk of content/ would find just that.
        let mut came: Vec<PathBuf> = Vec::new();
        let mut went: Vec<PathBuf> = Vec::new();
        for rel in &pending.content {
            let abs = self.content_dir.join(rel);
            if is_markdown(rel) && abs.is_file() {
                let known = self.cache.contains_key(rel);
                self.cache
                    .insert(rel.clone(), parse(&config, &self.content_dir, rel));
                if known {
                    edited.push(rel.clone());
                } else {
                    set_changed = true;
                    if self.walk_would_find(rel) {
                        came.push(rel.clone());
                    } else {
                        rescan = true;
                    }
                }
            } else if abs.is_file() {
                if self.assets.contains(rel) {
                    asset_touched = true;
                } else {
                    rescan = true;
                }
            } else {
                let known = self.cache.remove(rel).is_some();
                set_changed |= known;
                if known && is_markdown(rel) && self.walk_would_lose(rel) {
                    went.push(rel.clone());
                } else {
                    // A folder, a link, or never seen: look at everything again.
                    rescan = true;
                }
            }
        }
        if !rescan && (!came.is_empty() || !went.is_empty()) {
            self.order.retain(|rel| !went.contains(rel));
            for rel in came.iter().cloned() {
                // The walk's order: by path, a folder's entries by name.
                if let Err(at) = self.order.binary_search(&rel) {
                    self.order.insert(at, rel);
                }
            }
        }
        let patchable_set =
            set_changed && !everything && !pending.rescan && pending.statics.is_empty();
        let assets_before = self.assets.clone();
        if rescan {
            self.rescan(&config);
        }
        // What the walk could not read (a dangling link...) fails the build: only a whole one
        // reports it.
        if self.discover_diags.iter().any(Diagnostic::is_error) {
            return self.rebuild_site(config, everything, start);
        }
        if patchable_set && self.assets == assets_before {
            let set = if rescan {
                patch::PageSet::Walked
            } else {
                patch::PageSet::Moved {
                    came: &came,
                    went: &went,
                }
            };
            if let Some(outcome) = self.patch(&edited, set, start) {
                return outcome;
            }
        }

        // Pages came or went and no patch took them: the site is made again below.
        let set_moved = set_changed && !rescan;
        let only_static = !everything && !rescan && !set_moved && edited.is_empty();
        if only_static {
            if !pending.statics.is_empty() {
                if let Err(d) = self.relist_statics() {
                    return Outcome::Failed(d);
                }
                self.compose();
                if pending.css_only() {
                    return Outcome::Css(pending.statics.iter().cloned().collect());
                }
            }
            let report = self.report(start, 0, true);
            return if asset_touched || !pending.statics.is_empty() {
                Outcome::Updated {
                    paths: Vec::new(),
                    all: true,
                    report,
                }
            } else {
                Outcome::Unchanged(report)
            };
        }

        let tier = if everything || rescan || set_moved {
            Tier::Site
        } else {
            self.plan(&edited)
        };
        let statics_changed = !pending.statics.is_empty();
        match tier {
            Tier::Pages(_) if !statics_changed => self.rerender_pages(&edited, start),
            Tier::Site if !statics_changed && !everything && !rescan && !set_moved => {
                match self.patch(&edited, patch::PageSet::Same, start) {
                    Some(outcome) => outcome,
                    None => self.rebuild_site(config, everything, start),
                }
            }
            _ => self.rebuild_site(config, everything, start),
        }
    }

    /// Whether a walk of content/ would list the new Markdown file `rel` beside the pages it has,
    /// and nothing else new (so the page set can take it without walking again): the last walk was
    /// plain ([`Session::walk_is_plain`]; through a link, a file shows under two paths, or a page
    /// depends on another file), the file is no link, its name is not one the walk skips,
    /// its folder lists it under this very name (not so on a file system that folds case or
    /// Unicode forms, when an event spells it otherwise), no page has the same path but for case
    /// (a case-only rename), and its folder holds a page already.
    fn walk_would_find(&self, rel: &Path) -> bool {
        let abs = self.content_dir.join(rel);
        let plain = abs
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_file());
        let Some(name) = rel.file_name() else {
            return false;
        };
        let shown = !crate::sitefs::is_skipped(&name.to_string_lossy());
        let listed = || {
            abs.parent()
                .and_then(|dir| std::fs::read_dir(dir).ok())
                .is_some_and(|mut entries| entries.any(|e| e.is_ok_and(|e| e.file_name() == name)))
        };
        let lower = rel.to_string_lossy().to_lowercase();
        let twin = || {
            self.order.iter().any(|o| {
                o.as_os_str().len() == rel.as_os_str().len()
                    && o != rel
                    && o.to_string_lossy().to_lowercase() == lower
            })
        };
        let folder = rel.parent();
        self.walk_is_plain()
            && plain
            && shown
            && self.order.iter().any(|o| o.parent() == folder)
            && !twin()
            && listed()
    }

    /// Whether a walk of content/ would now miss the known page `rel` and nothing else: the last
    /// walk was plain and the file is gone (not left as a dangling link).
    fn walk_would_lose(&self, rel: &Path) -> bool {
        self.walk_is_plain() && self.content_dir.join(rel).symlink_metadata().is_err()
    }

    /// Whether the last walk of content/ went through no link and found nothing to report: then
    /// a page that comes or goes changes the page list by itself alone.
    fn walk_is_plain(&self) -> bool {
        self.content_links.is_empty() && self.discover_diags.is_empty()
    }

    /// Walk content/ again: pick up new files, forget deleted ones.
    fn rescan(&mut self, config: &SiteConfig) {
        let found = content::discover(&self.content_dir, Path::new("content"));
        let keep: HashSet<&PathBuf> = found.pages.iter().collect();
        self.cache.retain(|rel, _| keep.contains(rel));
        let missing: Vec<&PathBuf> = found
            .pages
            .iter()
            .filter(|rel| !self.cache.contains_key(*rel))
            .collect();
        let parsed: Vec<(PathBuf, Cached)> = missing
            .par_iter()
            .map(|rel| ((*rel).clone(), parse(config, &self.content_dir, rel)))
            .collect();
        self.cache.extend(parsed);
        self.order = found.pages;
        self.assets = found.assets;
        self.discover_diags = found.diags;
        self.content_links = found.links;
    }

    /// Decide between re-rendering the edited pages alone and rebuilding the site.
    fn plan(&self, edited: &[PathBuf]) -> Tier {
        let Some(good) = &self.good else {
            return Tier::Site;
        };
        let mut edits = Vec::new();
        for rel in edited {
            let Some(cached) = self.cache.get(rel) else {
                return Tier::Site;
            };
            let old = good.index.get(&rel_key(rel)).map(|&i| {
                (
                    i,
                    plan::surface(&good.site.pages[i], &good.site.rendered[i]),
                )
            });
            // Embeds show other pages' HTML: an edit that touches one rebuilds the site.
            let embeds = |r: &Rendered| {
                r.links
                    .iter()
                    .any(|l| l.kind == crate::markdown::LinkKind::Embed)
            };
            if let Some((i, _)) = &old {
                let graph = &good.site.graph;
                if !graph.embeds[*i].is_empty() || graph.embeds.iter().any(|e| e.contains(i)) {
                    return Tier::Site;
                }
            }
            if cached.rendered.as_ref().is_some_and(embeds) {
                return Tier::Site;
            }
            let new = match (&cached.parsed, &cached.rendered) {
                (Ok((p, _)), Some(r)) if p.is_built(self.opts.drafts) => Some(plan::surface(p, r)),
                // A draft (or an unpublished page) that stays out of the site.
                (Ok((p, _)), _) if !p.is_built(self.opts.drafts) && old.is_none() => continue,
                _ => None,
            };
            edits.push(PageEdit { old, new });
        }
        plan::tier(&edits)
    }

    /// Re-render edited pages whose surface did not change, against the last good site.
    fn rerender_pages(&mut self, edited: &[PathBuf], start: Instant) -> Outcome {
        let Some(good) = self.good.as_mut() else {
            return Outcome::Failed(Vec::new());
        };
        let Some(templates) = self.templates.as_ref() else {
            return Outcome::Failed(Vec::new());
        };
        let base_path = good.site.config.base_path();
        // Swap the new pages in; remember the old ones to put back if anything fails.
        type Saved = (usize, Page, Rendered, Vec<Option<Fill>>);
        let mut saved: Vec<Saved> = Vec::new();
        let mut diags: Vec<Diagnostic> = Vec::new();
        for rel in edited {
            let (Some(&i), Some(cached)) = (good.index.get(&rel_key(rel)), self.cache.get(rel))
            else {
                continue;
            };
            let (Ok((page, page_diags)), Some(rendered)) = (&cached.parsed, &cached.rendered)
            else {
                continue;
            };
            if page.source.text == good.site.pages[i].source.text {
                continue; // saved without a change
            }
            let site = &mut good.site;
            let old_page = std::mem::replace(&mut site.pages[i], page.clone());
            let old_rendered = std::mem::replace(&mut site.rendered[i], rendered.clone());
            let body = graph::resolve_body_links(
                &site.graph.lookup,
                &site.pages,
                &site.rendered,
                &site.titles,
                i,
                graph::LinkContext {
                    base_path: &base_path,
                    policy: site.config.broken_links,
                    files: &site.graph.files,
                },
            );
            let old_fills = std::mem::replace(&mut site.graph.fills[i], body.fills);
            diags.extend(page_diags.iter().cloned());
            diags.extend(body.diags);
            diags.extend(build::check_outside(&site.pages[i], &site.rendered[i]));
            diags.extend(build::check_markup(&site.pages[i], &site.rendered[i]));
            saved.push((i, old_page, old_rendered, old_fills));
        }
        let restore = |site: &mut Site, saved: Vec<Saved>| {
            for (i, p, r, f) in saved {
                site.pages[i] = p;
                site.rendered[i] = r;
                site.graph.fills[i] = f;
            }
        };
        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
            diags.into_iter().partition(Diagnostic::is_error);
        if !errors.is_empty() {
            restore(&mut good.site, saved);
            let mut all = errors;
            diagnostics::sort(&mut all);
            return Outcome::Failed(all);
        }
        let rendered: Vec<Result<(String, u64, RenderedFiles), Diagnostic>> = saved
            .par_iter()
            .filter_map(|(i, ..)| build::prepare(&good.site, templates, Output::Page(*i)))
            .map(|p| {
                let (path, print) = (p.path.clone(), p.fingerprint());
                build::render_owned(templates, p).map(|files| (path, print, files))
            })
            .collect();
        let (done, errors) = build::split_results(rendered);
        if !errors.is_empty() {
            restore(&mut good.site, saved);
            return Outcome::Failed(errors);
        }
        // Commit.
        let touched: HashSet<PathBuf> = saved
            .iter()
            .map(|(i, ..)| good.site.pages[*i].source.path.clone())
            .collect();
        self.search_dirty
            .extend(saved.iter().map(|(i, ..)| good.site.pages[*i].url.clone()));
        good.site
            .warnings
            .retain(|w| w.file.as_ref().is_none_or(|f| !touched.contains(f)));
        good.site.warnings.extend(warnings);
        diagnostics::sort(&mut good.site.warnings);
        let mut paths = Vec::new();
        for (path, print, files) in done {
            good.prints.insert(path.clone(), print);
            paths.extend(files.iter().map(|(p, _)| p.clone()));
            good.outputs.insert(
                path,
                files.into_iter().map(|(p, b)| (p, Arc::from(b))).collect(),
            );
        }
        let count = paths.len();
        self.compose();
        self.search_stale |= count > 0;
        let report = self.report(start, count, true);
        if paths.is_empty() {
            return Outcome::Unchanged(report);
        }
        paths.sort();
        Outcome::Updated {
            paths,
            all: false,
            report,
        }
    }

    /// Render every output of the last good site again, with templates that changed. The site,
    /// whole-site files and search index are as they were: templates change none of them.
    fn rerender_all(&mut self, start: Instant) -> Outcome {
        let (Some(good), Some(templates)) = (self.good.as_mut(), self.templates.as_ref()) else {
            return Outcome::Failed(Vec::new());
        };
        let collisions = crate::claims::check(&good.site, templates);
        if !collisions.is_empty() {
            return Outcome::Failed(collisions);
        }
        let (prints, outputs, mut paths) =
            match render_outputs(&good.site, templates, &good.prints, true) {
                Ok(m) => m,
                Err(errors) => return Outcome::Failed(errors),
            };
        let rendered = outputs.len();
        paths.extend(good.files_gone(&prints));
        good.prints = prints;
        drop_later(std::mem::replace(&mut good.outputs, outputs));
        self.compose();
        paths.sort();
        paths.dedup();
        Outcome::Updated {
            paths,
            all: true,
            report: self.report(start, rendered, false),
        }
    }

    /// Rebuild the graph and views from the parsed pages, and render the outputs whose context
    /// changed (all of them when `everything`).
    fn rebuild_site(&mut self, config: SiteConfig, everything: bool, start: Instant) -> Outcome {
        let Some(templates) = self.templates.as_ref() else {
            return Outcome::Failed(Vec::new());
        };
        let mut diags = self.discover_diags.clone();
        let mut pages = Vec::with_capacity(self.order.len());
        let mut rendered = Vec::with_capacity(self.order.len());
        for rel in &self.order {
            let Some(cached) = self.cache.get(rel) else {
                continue;
            };
            match (&cached.parsed, &cached.rendered) {
                (Ok((p, d)), Some(r)) => {
                    diags.extend(d.iter().cloned());
                    if p.is_built(self.opts.drafts) {
                        pages.push(p.clone());
                        rendered.push(r.clone());
                    }
                }
                (Ok((_, d)), None) | (Err(d), _) => diags.extend(d.iter().cloned()),
            }
        }
        let site = match build::assemble(
            &self.opts.root,
            config,
            pages,
            rendered,
            self.assets.clone(),
            diags,
            &mut crate::timings::Stopwatch::off(),
        ) {
            Ok(s) => s,
            Err(d) => return Outcome::Failed(d),
        };
        let collisions = crate::claims::check(&site, templates);
        if !collisions.is_empty() {
            return Outcome::Failed(collisions);
        }
        let empty = HashMap::new();
        let old_prints = self.good.as_ref().map_or(&empty, |g| &g.prints);
        let made = render_outputs(&site, templates, old_prints, everything);
        let (prints, mut outputs, mut paths) = match made {
            Ok(m) => m,
            Err(errors) => return Outcome::Failed(errors),
        };
        let rendered_count = outputs.len();
        if let Some(old) = &self.good {
            for path in prints.keys() {
                if !outputs.contains_key(path) {
                    if let Some(files) = old.outputs.get(path) {
                        outputs.insert(path.clone(), files.clone());
                    }
                }
            }
            paths.extend(old.files_gone(&prints));
        }
        let generated: Vec<(String, Arc<[u8]>)> = build::site_files(&site)
            .into_iter()
            .map(|(p, b)| (p, Arc::from(b)))
            .collect();
        // The search index of a site that had one is made again after the reload (see
        // `refresh_search`), and until then the last one is served; the first site's is made now,
        // so that search works as soon as the site is served.
        // Either way, what is left (the index, or the link index) is made once the sources are quiet.
        self.search_dirty.clear();
        self.search_stale = true;
        let search_files = match self.good.as_mut() {
            Some(g) => {
                self.search = None;
                std::mem::take(&mut g.search_files)
            }
            None => {
                let mut live = build::search_index(&site);
                let files = live.files();
                self.search = Some(live);
                files
            }
        };
        if let Some(old) = &self.good {
            for (p, b) in &generated {
                if !old.generated.iter().any(|(op, ob)| op == p && ob == b) {
                    paths.push(p.clone());
                }
            }
        }
        let statics = match static_entries(&site) {
            Ok(s) => s,
            Err(d) => return Outcome::Failed(d),
        };
        let index = site
            .pages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.rel_path.clone(), i))
            .collect();
        self.links = None;
        self.generated_stale = false;
        self.site_dirty = false;
        self.lists_pending = None;
        let old = self.good.replace(Good {
            site,
            prints,
            outputs,
            generated,
            search_files,
            statics,
            index,
        });
        drop_later(old);
        self.compose();
        let report = self.report(start, rendered_count, false);
        paths.sort();
        paths.dedup();
        if paths.is_empty() && !everything {
            return Outcome::Unchanged(report);
        }
        Outcome::Updated {
            paths,
            all: everything,
            report,
        }
    }

    fn relist_statics(&mut self) -> Result<(), Vec<Diagnostic>> {
        if let Some(good) = self.good.as_mut() {
            good.statics = static_entries(&good.site)?;
        }
        Ok(())
    }

    /// Put the served map together: template outputs, generated files, static files (which win over
    /// the theme's and over generated files of the same name, as in `build`), then page assets.
    fn compose(&mut self) {
        let Some(good) = &self.good else {
            return;
        };
        let mut files = Files::with_capacity(good.prints.len() * 2 + good.statics.len());
        for out in good.outputs.values() {
            for (p, b) in out {
                files.insert(p.clone(), Entry::Bytes(b.clone()));
            }
        }
        for (p, b) in good.generated.iter().chain(&good.search_files) {
            files.insert(p.clone(), Entry::Bytes(b.clone()));
        }
        for (p, e) in &good.statics {
            files.insert(p.clone(), e.clone());
        }
        for a in &self.assets {
            files.insert(
                build::asset_output_path(a),
                Entry::Disk(Arc::from(self.content_dir.join(a))),
            );
        }
        self.files = Arc::new(files);
    }

    fn report(&self, start: Instant, rendered: usize, incremental: bool) -> Report {
        let (pages, warnings) = self.good.as_ref().map_or((0, Vec::new()), |g| {
            (g.site.pages.len(), g.site.warnings.clone())
        });
        Report {
            pages,
            rendered,
            incremental,
            elapsed: start.elapsed(),
            warnings,
        }
    }
}

/// What [`render_outputs`] gives: every output's fingerprint, the files of those rendered, and
/// the paths of those files.
type Made = (
    HashMap<String, u64>,
    HashMap<String, OutputFiles>,
    Vec<String>,
);

/// Prepare every output of `site`, fingerprint it, and render it when `everything` or when its
/// print is not the one in `old`. Each context is dropped once used, so that no more than a
/// worker's worth of them is alive at once.
fn render_outputs(
    site: &Site,
    templates: &Templates,
    old: &HashMap<String, u64>,
    everything: bool,
) -> Result<Made, Vec<Diagnostic>> {
    type One = (String, u64, Option<Result<RenderedFiles, Diagnostic>>);
    let made: Vec<One> = build::outputs(site)
        .into_par_iter()
        .filter_map(|o| build::prepare(site, templates, o))
        .map(|p| {
            let print = p.fingerprint();
            let path = p.path.clone();
            let stale = plan::needs_render(old, &path, print, everything);
            let files = stale.then(|| build::render_owned(templates, p));
            (path, print, files)
        })
        .collect();
    let mut prints = HashMap::with_capacity(made.len());
    let mut outputs = HashMap::new();
    let mut paths = Vec::new();
    let mut errors = Vec::new();
    for (path, print, files) in made {
        match files {
            Some(Ok(files)) => {
                paths.extend(files.iter().map(|(p, _)| p.clone()));
                let files: OutputFiles =
                    files.into_iter().map(|(f, b)| (f, Arc::from(b))).collect();
                outputs.insert(path.clone(), files);
            }
            Some(Err(d)) => errors.push(d),
            None => {}
        }
        prints.insert(path, print);
    }
    if !errors.is_empty() {
        diagnostics::sort(&mut errors);
        errors.dedup_by(|a, b| a.message == b.message && a.file == b.file);
        return Err(errors);
    }
    Ok((prints, outputs, paths))
}

/// Free `value` on another thread: the old site of a rebuild holds every page, and freeing it
/// should not stand between an edit and its reload.
fn drop_later<T: Send + 'static>(value: T) {
    let spawned = std::thread::Builder::new()
        .name("fieldbook-free".into())
        .spawn(move || drop(value));
    // Without a thread, the value was handed back and dropped here: slower, never wrong.
    drop(spawned);
}

fn parse(config: &SiteConfig, content_dir: &Path, rel: &Path) -> Cached {
    let parsed = build::read_page(config, content_dir, rel);
    let rendered = parsed
        .as_ref()
        .ok()
        .map(|(p, _)| build::render_page(config, p));
    Cached { parsed, rendered }
}

fn static_entries(site: &Site) -> Result<Vec<(String, Entry)>, Vec<Diagnostic>> {
    Ok(build::static_files(site)?
        .into_iter()
        .map(|(p, s)| {
            let e = match s {
                StaticSource::Embedded(b) => Entry::Bytes(Arc::from(b)),
                StaticSource::Disk(f) => Entry::Disk(Arc::from(f)),
            };
            (p, e)
        })
        .collect())
}
