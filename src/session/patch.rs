//! Session, patching: an edit that changes what other pages see of a page (its title, fields, tags,
//! links or headings) but not which pages the site has, applied to the last good site in place.
//!
//! ```text
//! edited pages ─> lookup again (only if a name changed) ─> links of the pages that can see the
//!   change resolved again ─> edges and backlinks patched ─> views from the pages' cards
//!   ─> the outputs that can show the change (candidates) ─> prepared and fingerprinted
//!   ─> rendered where the fingerprint moved: the edited pages (and up to 64 outputs) first,
//!   the lists and the rest after the reload
//! ```
//!
//! The candidates are a superset of the outputs that can differ, found from the graph (who links to
//! the page, whom it links to), the page's neighbours in its lists, its sections, tags, matrices and
//! sequences. Each candidate's context is compared by fingerprint with the last one, so an output is
//! rendered only when what it shows changed. What is read from the whole site (graph.json, nav.json,
//! the sitemap, the search index) is brought up to date after the reload (see
//! [`super::Session::refresh_search`]).
//!
//! Nothing is committed until every check has passed: on an error the site is put back as it was.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::build::{self, Output, Prepared};
use crate::content::{slugify, Page};
use crate::diagnostics::{self, Diagnostic};
use crate::graph::{self, Edge, LinkContext, Lookup, Relations};
use crate::markdown::{LinkKind, Rendered};
use crate::views::{self, PageRef};

use super::{rel_key, Outcome, Session};

/// What naming a page depends on: an edit that changes none of these keeps the lookup.
fn names_of(p: &Page) -> impl PartialEq + '_ {
    (
        &p.id, &p.kind, &p.names, &p.title, &p.url, &p.slug, &p.aliases,
    )
}

/// What a link to a page reads of it (see `graph::resolve_body_links`): the page that links to it
/// needs its links resolved again only when this changes.
fn seen_by_links<'a>(p: &'a Page, r: &'a Rendered, title: &'a str) -> impl PartialEq + 'a {
    (&p.url, &p.id, &p.rel_path, title, &r.headings, &r.blocks)
}

/// The key a link target or a page name is filed under in [`LinkIndex`]: its last path segment,
/// without `.md`, slugified. Two spellings that can name the same page share their key.
fn key(name: &str) -> String {
    let last = name
        .trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    let last = last
        .strip_suffix(".md")
        .or_else(|| last.strip_suffix(".MD"))
        .unwrap_or(last);
    slugify(last)
}

/// Every key a page can be named by.
fn page_keys(p: &Page, title: &str) -> Vec<String> {
    let mut keys = vec![
        key(&p.id),
        key(&p.slug),
        key(&p.rel_path),
        key(&p.url),
        key(title),
    ];
    keys.extend(p.names.iter().map(|n| key(n)));
    keys.extend(p.aliases.iter().map(|n| key(n)));
    keys.sort();
    keys.dedup();
    keys.retain(|k| !k.is_empty());
    keys
}

/// The keys of the targets of a page's links and references.
fn link_keys(p: &Page, r: &Rendered) -> Vec<String> {
    let mut keys: Vec<String> = r
        .links
        .iter()
        .filter(|l| !matches!(l.kind, LinkKind::SelfAnchor))
        .map(|l| key(&l.target))
        .collect();
    for v in p.fields.values() {
        keys.extend(v.refs().into_iter().map(|r| key(&r.target)));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Which pages have a link or reference under each key, so that when a page's names change, the
/// pages whose links may now land elsewhere are found without resolving every link of the site.
#[derive(Debug, Default)]
pub(super) struct LinkIndex {
    /// Per key, the pages, in order.
    by_key: HashMap<String, Vec<usize>>,
    /// Per page: its keys, to take them out again.
    keys: Vec<Vec<String>>,
}

impl LinkIndex {
    pub(super) fn new(pages: &[Page], rendered: &[Rendered]) -> LinkIndex {
        let mut index = LinkIndex::default();
        for (i, (p, r)) in pages.iter().zip(rendered).enumerate() {
            let keys = link_keys(p, r);
            for k in &keys {
                index.by_key.entry(k.clone()).or_default().push(i);
            }
            index.keys.push(keys);
        }
        index
    }

    /// Take page `i` out of the lists of `keys`.
    fn unlist(&mut self, i: usize, keys: &[String]) {
        for k in keys {
            if let Some(list) = self.by_key.get_mut(k) {
                if let Ok(at) = list.binary_search(&i) {
                    list.remove(at);
                }
            }
        }
    }

    fn update(&mut self, i: usize, p: &Page, r: &Rendered) {
        let old = std::mem::take(&mut self.keys[i]);
        self.unlist(i, &old);
        let keys = link_keys(p, r);
        for k in &keys {
            let list = self.by_key.entry(k.clone()).or_default();
            if let Err(at) = list.binary_search(&i) {
                list.insert(at, i);
            }
        }
        self.keys[i] = keys;
    }

    /// Page `i` went: later pages move down by one.
    fn remove(&mut self, i: usize) {
        let old = self.keys.remove(i);
        self.unlist(i, &old);
        for list in self.by_key.values_mut() {
            for x in list.iter_mut() {
                *x = shift_down(*x, i);
            }
        }
    }

    /// A page came at `pos`: pages from there move up by one.
    fn insert(&mut self, pos: usize, p: &Page, r: &Rendered) {
        for list in self.by_key.values_mut() {
            for x in list.iter_mut() {
                *x = shift_up(*x, pos);
            }
        }
        self.keys.insert(pos, Vec::new());
        self.update(pos, p, r);
    }

    fn pages_with(&self, key: &str) -> impl Iterator<Item = usize> + '_ {
        self.by_key.get(key).into_iter().flatten().copied()
    }
}

/// Whether an edit of these pages can be patched in: every page is in the site before and after,
/// keeps its kind and place, and neither it nor any page it is shown in takes part in an embed.
pub(super) fn patchable(site: &build::Site, edits: &[(usize, &Page, &Rendered)]) -> bool {
    edits.iter().all(|&(i, p, r)| {
        let old = &site.pages[i];
        old.kind == p.kind
            && old.is_section == p.is_section
            && old.section == p.section
            && site.graph.embeds[i].is_empty()
            && !site.graph.embeds.iter().any(|e| e.contains(&i))
            && !r.links.iter().any(|l| l.kind == LinkKind::Embed)
    })
}

/// At most this many outputs are rendered before the reload; when more can show the change, the
/// pages other than the edited ones follow with the lists.
const MAX_FIRST_OUTPUTS: usize = 64;

/// At most this many pages may come or go in one patch; more rebuild the site.
const MAX_SET_CHANGES: usize = 16;

fn shift_down(x: usize, removed: usize) -> usize {
    if x > removed {
        x - 1
    } else {
        x
    }
}

fn shift_up(x: usize, inserted: usize) -> usize {
    if x >= inserted {
        x + 1
    } else {
        x
    }
}

/// The embeds among the fills name the embedded page by index: move them with the pages, as
/// `graph.embeds` is, so that the patched graph stays the one a build makes.
fn shift_embed_fills(
    fills: &mut [Vec<Option<crate::markdown::Fill>>],
    shift: impl Fn(usize) -> usize,
) {
    for f in fills.iter_mut().flatten().flatten() {
        if let Some(e) = &mut f.embed {
            e.page = shift(e.page);
        }
    }
}

/// Take page `i` out of the site's vectors and its graph, moving every later index down by one.
/// Its edges go; the backlinks it gave go with them. The views are made again afterwards.
fn remove_page(site: &mut build::Site, i: usize) -> (Page, Rendered) {
    let page = site.pages.remove(i);
    let rendered = site.rendered.remove(i);
    site.titles.remove(i);
    site.views.page_refs.remove(i);
    let g = &mut site.graph;
    g.fills.remove(i);
    g.refs.remove(i);
    g.backlinks.remove(i);
    g.embeds.remove(i);
    g.edges.retain(|e| e.from != i && e.to != i);
    for e in &mut g.edges {
        e.from = shift_down(e.from, i);
        e.to = shift_down(e.to, i);
    }
    for list in &mut g.backlinks {
        list.retain(|b| b.from != i);
        for b in list.iter_mut() {
            b.from = shift_down(b.from, i);
        }
    }
    for list in g.embeds.iter_mut().chain(g.refs.iter_mut()) {
        for t in list.iter_mut() {
            *t = shift_down(*t, i);
        }
    }
    shift_embed_fills(&mut g.fills, |t| shift_down(t, i));
    (page, rendered)
}

/// Put a new page into the site at `pos`, moving every index from there up by one. Its links are
/// resolved with the others that are looked at again.
fn insert_page(
    site: &mut build::Site,
    pos: usize,
    page: Page,
    rendered: Rendered,
    title: String,
    card: PageRef,
) {
    let g = &mut site.graph;
    for e in &mut g.edges {
        e.from = shift_up(e.from, pos);
        e.to = shift_up(e.to, pos);
    }
    for list in &mut g.backlinks {
        for b in list.iter_mut() {
            b.from = shift_up(b.from, pos);
        }
    }
    for list in g.embeds.iter_mut().chain(g.refs.iter_mut()) {
        for t in list.iter_mut() {
            *t = shift_up(*t, pos);
        }
    }
    shift_embed_fills(&mut g.fills, |t| shift_up(t, pos));
    g.fills.insert(pos, Vec::new());
    g.refs.insert(pos, Vec::new());
    g.backlinks.insert(pos, Vec::new());
    g.embeds.insert(pos, Vec::new());
    site.pages.insert(pos, page);
    site.rendered.insert(pos, rendered);
    site.titles.insert(pos, title);
    site.views.page_refs.insert(pos, card);
}

/// What a patch knows of the files under content/ that came or went.
pub(super) enum PageSet<'a> {
    /// None did.
    Same,
    /// Just these (the page list took them without a walk).
    Moved {
        came: &'a [PathBuf],
        went: &'a [PathBuf],
    },
    /// content/ was walked again: the page set is compared with the site's whole.
    Walked,
}

/// One output rendered: its fingerprint, its path and its files.
type Made = (u64, String, Vec<(String, Vec<u8>)>);

/// What a patch takes out of the site, to put back if it fails.
struct Saved {
    pages: Vec<(usize, Page, Rendered, String, PageRef)>,
    /// Whether the lookup was changed (a failed patch makes it again from the pages put back).
    lookup: bool,
    fills: Vec<(usize, Vec<Option<crate::markdown::Fill>>)>,
    refs: Vec<(usize, Vec<usize>)>,
    edges: Option<Vec<Edge>>,
    backlinks: Vec<(usize, Vec<graph::Backlink>)>,
    views: Option<views::Views>,
}

impl Session {
    /// Apply an edit of `edited` (see the module docs), with `set` saying what came or went under
    /// content/. `None` when the edit cannot be patched in (the caller rebuilds the site instead).
    pub(super) fn patch(
        &mut self,
        edited: &[PathBuf],
        set: PageSet,
        start: Instant,
    ) -> Option<Outcome> {
        let good = self.good.as_mut()?;
        let templates = self.templates.as_ref()?;
        if self.site_dirty {
            return None;
        }
        // The pages the site has now, in discovery order, against those it had.
        let built = |rel: &PathBuf| {
            self.cache
                .get(rel)
                .and_then(|c| match (&c.parsed, &c.rendered) {
                    (Ok((p, _)), Some(r)) if p.is_built(self.opts.drafts) => Some((p, r)),
                    _ => None,
                })
        };
        // When every edited page stays in the site and the files that came or went are known, the
        // pages that came and went are found without looking at the other ten thousand.
        let edits_stay = edited
            .iter()
            .all(|rel| built(rel).is_some() && good.index.contains_key(&rel_key(rel)));
        let known = match set {
            PageSet::Same => Some((&[][..], &[][..])),
            PageSet::Moved { came, went } => Some((came, went)),
            PageSet::Walked => None,
        };
        let (removed, added) = if let (true, Some((came, went))) = (edits_stay, known) {
            let mut removed: Vec<usize> = went
                .iter()
                .filter_map(|rel| good.index.get(&rel_key(rel)).copied())
                .collect();
            removed.sort_unstable();
            let mut came: Vec<&PathBuf> = came.iter().collect();
            came.sort();
            let mut added: Vec<(usize, &Page, &Rendered)> = Vec::new();
            for rel in came {
                if self.cache.get(rel).is_some_and(|c| c.parsed.is_err()) {
                    return None;
                }
                let Some((p, r)) = built(rel) else { continue };
                // Its place among the pages that stay and those that came before it.
                let pages = &good.site.pages;
                let before = pages.partition_point(|q| Path::new(&q.rel_path) < rel.as_path());
                let gone_before = removed.iter().filter(|&&i| i < before).count();
                added.push((before - gone_before + added.len(), p, r));
            }
            (removed, added)
        } else {
            let mut now: Vec<(&PathBuf, &Page, &Rendered)> = Vec::with_capacity(self.order.len());
            for rel in &self.order {
                if let Some((p, r)) = built(rel) {
                    now.push((rel, p, r));
                } else if self.cache.get(rel).is_some_and(|c| c.parsed.is_err()) {
                    // A file that cannot be read: the full path reports it.
                    return None;
                }
            }
            let now_keys: HashSet<String> = now.iter().map(|(rel, ..)| rel_key(rel)).collect();
            let mut removed: Vec<usize> = good
                .index
                .iter()
                .filter(|(k, _)| !now_keys.contains(*k))
                .map(|(_, &i)| i)
                .collect();
            removed.sort_unstable();
            let added: Vec<(usize, &Page, &Rendered)> = now
                .iter()
                .enumerate()
                .filter(|(_, (rel, ..))| !good.index.contains_key(&rel_key(rel)))
                .map(|(pos, &(_, p, r))| (pos, p, r))
                .collect();
            (removed, added)
        };
        if removed.len() + added.len() > MAX_SET_CHANGES {
            return None;
        }
        for &i in &removed {
            let graph = &good.site.graph;
            if !graph.embeds[i].is_empty() || graph.embeds.iter().any(|e| e.contains(&i)) {
                return None;
            }
        }
        if added
            .iter()
            .any(|(_, _, r)| r.links.iter().any(|l| l.kind == LinkKind::Embed))
        {
            return None;
        }
        let mut pre_edits: Vec<(usize, &Page, &Rendered)> = Vec::new();
        for rel in edited {
            let Some(&i) = good.index.get(&rel_key(rel)) else {
                continue;
            };
            if let Some((p, r)) = built(rel) {
                pre_edits.push((i, p, r));
            }
        }
        if !patchable(&good.site, &pre_edits) {
            return None;
        }
        let t0 = Instant::now();
        let site = &mut good.site;
        let config = site.config.clone();
        let base_path = config.base_path();

        // Pages that go or come: the site's vectors and the graph's page indices move with them.
        // From here on a failure leaves the site half-changed; the served files are not touched
        // until the end, and the next change rebuilds the site from scratch (`site_dirty`).
        let mut old_keys: Vec<String> = Vec::new();
        let mut relink_extra: BTreeSet<usize> = BTreeSet::new();
        let mut gone_ids: HashSet<String> = HashSet::new();
        let mut gone_pages: Vec<(usize, Page, Rendered)> = Vec::new();
        let structural = !removed.is_empty() || !added.is_empty();
        // The lookup follows the pages that come, go and are renamed, unless a name they take is
        // shared (then it is made whole: see `Lookup::insert`).
        let mut lookup_ok = true;
        if structural {
            self.site_dirty = true;
            let links = self
                .links
                .get_or_insert_with(|| LinkIndex::new(&site.pages, &site.rendered));
            for &i in removed.iter().rev() {
                old_keys.extend(page_keys(&site.pages[i], &site.titles[i]));
                gone_ids.insert(site.pages[i].id.clone());
                // Pages that linked to it (their links break or land elsewhere) and pages it
                // linked to (their backlinks lose it) are looked at again.
                let mut next: BTreeSet<usize> = relink_extra
                    .iter()
                    .filter(|&&x| x != i)
                    .map(|&x| shift_down(x, i))
                    .collect();
                for e in &site.graph.edges {
                    if e.to == i && e.from != i {
                        next.insert(shift_down(e.from, i));
                    } else if e.from == i && e.to != i {
                        next.insert(shift_down(e.to, i));
                    }
                }
                relink_extra = next;
                let (page, rendered) = remove_page(site, i);
                lookup_ok = lookup_ok && site.graph.lookup.remove(&site.pages, i, &page);
                gone_pages.push((i, page, rendered));
                links.remove(i);
            }
            for &(pos, p, r) in &added {
                let title = views::title(p, r);
                let card = views::page_ref(&config, p, r, &title);
                relink_extra = relink_extra.into_iter().map(|x| shift_up(x, pos)).collect();
                insert_page(site, pos, p.clone(), r.clone(), title, card);
                lookup_ok = lookup_ok && site.graph.lookup.insert(&site.pages, pos);
                links.insert(pos, p, &site.rendered[pos]);
            }
        }
        // Where a page of the site before is now (`None` for a page that went).
        let post = |i: usize| -> Option<usize> {
            if removed.binary_search(&i).is_ok() {
                return None;
            }
            let mut x = i - removed.iter().filter(|&&r| r < i).count();
            for &(pos, ..) in &added {
                if pos <= x {
                    x += 1;
                }
            }
            Some(x)
        };
        if structural {
            // The index by path moves with the pages.
            good.index.retain(|_, x| match post(*x) {
                Some(j) => {
                    *x = j;
                    true
                }
                None => false,
            });
            for &(pos, ..) in &added {
                good.index.insert(site.pages[pos].rel_path.clone(), pos);
            }
        }
        let edits: Vec<(usize, &Page, &Rendered)> = pre_edits
            .iter()
            .filter_map(|&(i, p, r)| post(i).map(|j| (j, p, r)))
            .collect();
        let mut edited_set: BTreeSet<usize> = edits.iter().map(|e| e.0).collect();
        edited_set.extend(added.iter().map(|a| a.0));

        // The edited pages go in; the old ones are kept to put back.
        let mut names_changed = structural;
        let mut saved = Saved {
            pages: Vec::new(),
            lookup: false,
            fills: Vec::new(),
            refs: Vec::new(),
            edges: None,
            backlinks: Vec::new(),
            views: None,
        };
        let mut old_cards: HashMap<usize, PageRef> = HashMap::new();
        // Edited pages whose linkers see something else of them.
        let mut seen_changed: BTreeSet<usize> = added.iter().map(|a| a.0).collect();
        for &(i, p, r) in &edits {
            let renamed = names_of(&site.pages[i]) != names_of(p);
            names_changed |= renamed;
            old_keys.extend(page_keys(&site.pages[i], &site.titles[i]));
            let title = views::title(p, r);
            if seen_by_links(&site.pages[i], &site.rendered[i], &site.titles[i])
                != seen_by_links(p, r, &title)
            {
                seen_changed.insert(i);
            }
            let card = views::page_ref(&config, p, r, &title);
            let old_page = std::mem::replace(&mut site.pages[i], p.clone());
            let old_rendered = std::mem::replace(&mut site.rendered[i], r.clone());
            let old_title = std::mem::replace(&mut site.titles[i], title);
            let old_card = std::mem::replace(&mut site.views.page_refs[i], card);
            old_cards.insert(i, old_card.clone());
            if renamed {
                saved.lookup = true;
                lookup_ok = lookup_ok && site.graph.lookup.update(&site.pages, i, &old_page);
            }
            saved
                .pages
                .push((i, old_page, old_rendered, old_title, old_card));
        }
        let links = self
            .links
            .get_or_insert_with(|| LinkIndex::new(&site.pages, &site.rendered));
        for &(i, p, r) in &edits {
            links.update(i, p, r);
        }
        for &(pos, ..) in &added {
            old_keys.extend(page_keys(&site.pages[pos], &site.titles[pos]));
        }

        let mut diags: Vec<Diagnostic> = Vec::new();
        if names_changed && !lookup_ok {
            let (lookup, mut d) = Lookup::new(&site.pages);
            diags.append(&mut d);
            saved.lookup = true;
            site.graph.lookup = lookup;
        }

        // Pages whose links can see the change: the edited pages, those that link to them when
        // what a link shows of them changed, and (when a name changed) those with a link under
        // one of the old or new names.
        let mut relink: BTreeSet<usize> = edited_set.clone();
        relink.extend(relink_extra.iter().copied());
        let mut linkers: BTreeSet<usize> = BTreeSet::new();
        for e in &site.graph.edges {
            if edited_set.contains(&e.to) {
                linkers.insert(e.from);
                if seen_changed.contains(&e.to) {
                    relink.insert(e.from);
                }
            }
        }
        if names_changed {
            let mut keys = old_keys;
            for &(i, ..) in &edits {
                keys.extend(page_keys(&site.pages[i], &site.titles[i]));
            }
            keys.sort();
            keys.dedup();
            for k in &keys {
                relink.extend(links.pages_with(k));
            }
        }
        let relink: Vec<usize> = relink.into_iter().collect();
        // A page shown inside another (`![[lamp]]`) is shown with its links filled: the embedding
        // page's HTML holds them, expanded once when the site was assembled. When such a page's
        // links are resolved again (it links to a page that was retitled or renamed), the pages
        // that embed it would keep the old labels and hrefs: rebuild the site instead.
        let embedded: HashSet<usize> = site.graph.embeds.iter().flatten().copied().collect();
        if relink.iter().any(|r| embedded.contains(r)) {
            restore(site, saved);
            return None;
        }
        let cx = LinkContext {
            base_path: &base_path,
            policy: config.broken_links,
            files: &site.graph.files,
        };
        let bodies: Vec<(usize, graph::BodyLinks)> = relink
            .par_iter()
            .map(|&r| {
                let body = graph::resolve_body_links(
                    &site.graph.lookup,
                    &site.pages,
                    &site.rendered,
                    &site.titles,
                    r,
                    cx,
                );
                (r, body)
            })
            .collect();
        if bodies.iter().any(|(_, b)| !b.embeds.is_empty()) {
            restore(site, saved);
            return None;
        }
        let relinked: HashSet<usize> = relink.iter().copied().collect();
        let mut relations = Relations::default();
        let mut new_edges: Vec<Edge> = Vec::new();
        for (r, body) in bodies {
            let mut own =
                graph::page_edges(&site.graph.lookup, &site.pages[r], r, &body, &mut relations);
            new_edges.append(&mut own.edges);
            diags.append(&mut own.diags);
            diags.extend(body.diags);
            let old = std::mem::replace(&mut site.graph.fills[r], body.fills);
            saved.fills.push((r, old));
            let old = std::mem::replace(&mut site.graph.refs[r], own.refs);
            saved.refs.push((r, old));
        }
        for &(i, ..) in &edits {
            diags.extend(build::check_outside(&site.pages[i], &site.rendered[i]));
            diags.extend(build::check_markup(&site.pages[i], &site.rendered[i]));
            if let Some(Ok((_, d))) = self
                .cache
                .get(&PathBuf::from(&site.pages[i].rel_path))
                .map(|c| &c.parsed)
            {
                diags.extend(d.iter().cloned());
            }
        }

        // Edges and backlinks: those out of the relinked pages are replaced; the backlinks of
        // every page they pointed at, before or after, are made again.
        // A target's backlinks change when an edge into it comes or goes, or when a page linking
        // to it is retitled (they are sorted by title): the edited pages' targets, before and after.
        let mut targets: BTreeSet<usize> = BTreeSet::new();
        let old_edges = std::mem::take(&mut site.graph.edges);
        let mut edges: Vec<Edge> = Vec::with_capacity(old_edges.len() + new_edges.len());
        let mut was: HashSet<&Edge> = HashSet::new();
        for e in &old_edges {
            if relinked.contains(&e.from) {
                was.insert(e);
                if edited_set.contains(&e.from) {
                    targets.insert(e.to);
                }
            } else {
                edges.push(e.clone());
            }
        }
        let now: HashSet<&Edge> = new_edges.iter().collect();
        for e in was.symmetric_difference(&now) {
            targets.insert(e.to);
        }
        for e in &new_edges {
            if edited_set.contains(&e.from) {
                targets.insert(e.to);
            }
        }
        drop(was);
        drop(now);
        edges.extend(new_edges);
        edges.sort();
        edges.dedup();
        saved.edges = Some(old_edges);
        site.graph.edges = edges;
        let mut incoming: HashMap<usize, Vec<&Edge>> = HashMap::new();
        for e in &site.graph.edges {
            if targets.contains(&e.to) {
                incoming.entry(e.to).or_default().push(e);
            }
        }
        let fresh: Vec<(usize, Vec<graph::Backlink>)> = targets
            .iter()
            .map(|&t| {
                let list = incoming.get(&t).map(Vec::as_slice).unwrap_or(&[]);
                (t, graph::backlinks_of(list, &site.titles))
            })
            .collect();
        drop(incoming);
        for (t, list) in fresh {
            let old = std::mem::replace(&mut site.graph.backlinks[t], list);
            saved.backlinks.push((t, old));
        }

        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
            diags.into_iter().partition(Diagnostic::is_error);
        if !errors.is_empty() {
            restore(site, saved);
            let mut all = errors;
            diagnostics::sort(&mut all);
            return Some(Outcome::Failed(all));
        }
        let t_graph = t0.elapsed();

        // Views, from the pages' cards.
        let refs = site.views.page_refs.clone();
        let views = views::build_with_refs(
            &config,
            &site.pages,
            &site.rendered,
            &site.titles,
            &site.graph,
            refs,
            false,
        );
        let old_views = std::mem::replace(&mut site.views, views);
        let t_views = t0.elapsed();
        if serde_json::to_value(&old_views.site).ok() != serde_json::to_value(&site.views.site).ok()
        {
            // Something every page shows changed (a section's title, the first tag...).
            site.views = old_views;
            restore(site, saved);
            return None;
        }

        // The outputs that can show the change.
        let mut ids: HashSet<String> = gone_ids;
        ids.extend(edits.iter().map(|e| e.1.id.clone()));
        ids.extend(added.iter().map(|a| a.1.id.clone()));
        ids.extend(old_cards.values().map(|c| c.id.clone()));
        let mut changed: Vec<(Option<usize>, Option<usize>, &Page)> = pre_edits
            .iter()
            .map(|&(i, p, _)| (Some(i), post(i), p))
            .collect();
        changed.extend(added.iter().map(|&(pos, p, _)| (None, Some(pos), p)));
        changed.extend(gone_pages.iter().map(|(i, p, _)| (Some(*i), None, p)));
        let lists = Lists {
            relink: &relink,
            linkers: &linkers,
            targets: &targets,
            ids: &ids,
            post: &post,
            structural,
        };
        let candidates = candidates(site, &old_views, &changed, &lists);
        saved.views = Some(old_views);
        // Lists (indexes, tags, matrices) come after the reload (see `Session::finish_lists`), and
        // so do the other pages when many show the change (a title that 500 pages link to): the
        // edited pages go out first, the pages that show them a moment later.
        let (mut heavy, mut light): (Vec<Output>, Vec<Output>) =
            candidates.iter().partition(|&&o| is_list(site, o));
        if light.len() > MAX_FIRST_OUTPUTS {
            let own: HashSet<usize> = changed.iter().filter_map(|c| c.1).collect();
            let (first, later): (Vec<Output>, Vec<Output>) = light
                .into_iter()
                .partition(|o| !matches!(o, Output::Page(j) if !own.contains(j)));
            light = first;
            heavy.extend(later);
        }
        let prepared: Vec<Prepared> = light
            .par_iter()
            .filter_map(|&o| build::prepare(site, templates, o))
            .collect();
        let stale: Vec<(u64, Prepared)> = prepared
            .into_par_iter()
            .map(|p| (p.fingerprint(), p))
            .filter(|(f, p)| good.prints.get(&p.path) != Some(f))
            .collect();
        let results: Vec<Result<Made, Diagnostic>> = stale
            .into_par_iter()
            .map(|(f, p)| {
                let path = p.path.clone();
                build::render_owned(templates, p).map(|files| (f, path, files))
            })
            .collect();
        let (done, mut errors) = build::split_results(results);
        if !errors.is_empty() {
            if let Some(v) = saved.views.take() {
                site.views = v;
            }
            restore(site, saved);
            diagnostics::sort(&mut errors);
            return Some(Outcome::Failed(errors));
        }
        let t_render = t0.elapsed();

        // Commit.
        let touched: HashSet<PathBuf> = relink
            .iter()
            .map(|&r| site.pages[r].source.path.clone())
            .collect();
        site.warnings.retain(|w| {
            w.code != "alias-taken" && w.file.as_ref().is_none_or(|f| !touched.contains(f))
        });
        site.warnings.extend(warnings);
        site.warnings.extend(site.views.warnings.iter().cloned());
        diagnostics::sort(&mut site.warnings);
        let mut paths = Vec::new();
        let mut gone = Vec::new();
        for (print, path, files) in done {
            good.prints.insert(path.clone(), print);
            if let Some(old) = good.outputs.get(&path) {
                gone.extend(
                    old.iter()
                        .filter(|(p, _)| !files.iter().any(|(n, _)| n == p))
                        .map(|(p, _)| p.clone()),
                );
            }
            paths.extend(files.iter().map(|(p, _)| p.clone()));
            good.outputs.insert(
                path,
                files.into_iter().map(|(p, b)| (p, Arc::from(b))).collect(),
            );
        }
        // Tags no page has any more.
        let live: HashSet<String> = build::outputs(site)
            .into_iter()
            .filter_map(|o| build::output_target(site, templates, o).map(|(p, _)| p))
            .collect();
        let dead: Vec<String> = good
            .outputs
            .keys()
            .filter(|p| !live.contains(*p))
            .cloned()
            .collect();
        for d in dead {
            good.prints.remove(&d);
            if let Some(files) = good.outputs.remove(&d) {
                gone.extend(files.into_iter().map(|(p, _)| p));
            }
        }
        let rendered = paths.len();
        // Search documents show titles of the pages they link to: the relinked pages' change too.
        self.search_dirty
            .extend(relink.iter().map(|&r| site.pages[r].url.clone()));
        self.search_dirty
            .extend(gone_pages.iter().map(|(_, p, _)| p.url.clone()));
        self.search_dirty
            .extend(saved.pages.iter().map(|(_, old, ..)| old.url.clone()));
        self.site_dirty = false;
        self.lists_pending = Some(heavy);
        self.search_stale = true;
        self.generated_stale = true;
        self.compose();
        if std::env::var_os("FIELDBOOK_TRACE_PATCH").is_some() {
            eprintln!(
                "patch: {} relinked, {} candidates, {} rendered; graph {:?}, views {:?}, render {:?}, all {:?}",
                relink.len(),
                candidates.len(),
                rendered,
                t_graph,
                t_views - t_graph,
                t_render - t_views,
                t0.elapsed()
            );
        }
        // What the patch replaced is freed off the path to the reload.
        super::drop_later(saved);
        let report = self.report(start, rendered, true);
        paths.extend(gone);
        paths.sort();
        paths.dedup();
        if paths.is_empty() {
            return Some(Outcome::Unchanged(report));
        }
        Some(Outcome::Updated {
            paths,
            all: false,
            report,
        })
    }
}

/// Outputs that list many pages: indexes, tags and matrices.
fn is_list(site: &build::Site, o: Output) -> bool {
    match o {
        Output::Section(_) | Output::Tags | Output::Tag(_) | Output::Matrix(_) => true,
        Output::Page(j) => site.pages.get(j).is_some_and(|p| p.is_section),
        Output::NotFound | Output::Search => false,
    }
}

impl Session {
    /// Whether a patch left lists to render (see [`Session::finish_lists`]).
    pub fn lists_pending(&self) -> bool {
        self.lists_pending.is_some()
    }

    /// Render the lists a patch left for after its reload: the section and kind indexes, tags and
    /// matrices among its candidates, once their entries are made again (they show every page of a
    /// kind, so they are the slowest outputs of an edit), and the pages that show the edit when
    /// there are more than [`MAX_FIRST_OUTPUTS`]. The edited pages do not wait for them.
    pub fn finish_lists(&mut self) -> Outcome {
        let start = Instant::now();
        let Some(heavy) = self.lists_pending.take() else {
            return Outcome::Unchanged(self.report(start, 0, true));
        };
        let (Some(good), Some(templates)) = (self.good.as_mut(), self.templates.as_ref()) else {
            return Outcome::Failed(Vec::new());
        };
        let site = &mut good.site;
        let config = site.config.clone();
        views::fill_lists(&mut site.views, &config, &site.pages, &site.graph);
        let site = &good.site;
        let prints = &good.prints;
        let results: Vec<Result<Made, Diagnostic>> = heavy
            .par_iter()
            .filter_map(|&o| build::prepare(site, templates, o))
            .map(|p| (p.fingerprint(), p))
            .filter(|(f, p)| prints.get(&p.path) != Some(f))
            .map(|(f, p)| {
                let path = p.path.clone();
                build::render_owned(templates, p).map(|files| (f, path, files))
            })
            .collect();
        let mut paths = Vec::new();
        let mut errors = Vec::new();
        for r in results {
            match r {
                Ok((print, path, files)) => {
                    good.prints.insert(path.clone(), print);
                    paths.extend(files.iter().map(|(p, _)| p.clone()));
                    good.outputs.insert(
                        path,
                        files.into_iter().map(|(p, b)| (p, Arc::from(b))).collect(),
                    );
                }
                Err(d) => errors.push(d),
            }
        }
        if !errors.is_empty() {
            diagnostics::sort(&mut errors);
            return Outcome::Failed(errors);
        }
        let rendered = paths.len();
        self.compose();
        let report = self.report(start, rendered, true);
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
}

/// Put back what a failed patch took out.
fn restore(site: &mut build::Site, saved: Saved) {
    for (i, p, r, t, card) in saved.pages {
        site.pages[i] = p;
        site.rendered[i] = r;
        site.titles[i] = t;
        site.views.page_refs[i] = card;
    }
    if saved.lookup {
        site.graph.lookup = Lookup::new(&site.pages).0;
    }
    for (r, f) in saved.fills {
        site.graph.fills[r] = f;
    }
    for (r, f) in saved.refs {
        site.graph.refs[r] = f;
    }
    if let Some(edges) = saved.edges {
        site.graph.edges = edges;
    }
    for (t, b) in saved.backlinks {
        site.graph.backlinks[t] = b;
    }
}

/// What [`candidates`] goes by besides the views.
struct Lists<'a> {
    /// Pages whose links were resolved again.
    relink: &'a [usize],
    /// Pages that link to the edited ones (their facts show them).
    linkers: &'a BTreeSet<usize>,
    /// Pages whose backlinks were made again.
    targets: &'a BTreeSet<usize>,
    /// The ids of the changed pages, before and after.
    ids: &'a HashSet<String>,
    /// Where a page of the site before the patch is now.
    post: &'a dyn Fn(usize) -> Option<usize>,
    /// Pages came or went.
    structural: bool,
}

/// Every output that can show something of the changed pages (a superset: fingerprints decide).
/// `changed` holds each page's index before and after (`None` where it was not or is not) and the
/// page as it is (or was, for a page that went).
fn candidates(
    site: &build::Site,
    old: &views::Views,
    changed: &[(Option<usize>, Option<usize>, &Page)],
    l: &Lists,
) -> Vec<Output> {
    let new = &site.views;
    let by_id: HashMap<&str, usize> = site
        .pages
        .iter()
        .enumerate()
        .map(|(j, q)| (q.id.as_str(), j))
        .collect();
    // Pages that link to them or that they link to (backlinks, facts, link labels).
    let mut pages: BTreeSet<usize> = l.relink.iter().copied().collect();
    pages.extend(l.linkers.iter().copied());
    pages.extend(l.targets.iter().copied());
    let mut sections: BTreeSet<String> = BTreeSet::new();
    let mut tags: BTreeSet<String> = BTreeSet::new();
    let window = views::SIDEBAR_WINDOW;
    let list_of = |v: &'_ views::Views, p: &Page| -> Vec<usize> {
        match &p.kind {
            Some(k) => v.by_kind.get(k).cloned().unwrap_or_default(),
            None => v.members.get(&p.section).cloned().unwrap_or_default(),
        }
    };
    for &(pre, now, p) in changed {
        // Its neighbours in the sidebar and prev/next, where it was and where it is.
        if let Some(i) = pre {
            let list = list_of(old, p);
            if let Some(pos) = list.iter().position(|&x| x == i) {
                let near = &list[pos.saturating_sub(window)..(pos + window + 1).min(list.len())];
                pages.extend(near.iter().filter_map(|&x| (l.post)(x)));
            }
            for s in &old.sequences[i] {
                pages.extend(by_id.get(s.path.id.as_str()));
            }
        }
        if let Some(i) = now {
            pages.insert(i);
            let list = list_of(new, p);
            if let Some(pos) = list.iter().position(|&x| x == i) {
                pages.extend(&list[pos.saturating_sub(window)..(pos + window + 1).min(list.len())]);
            }
            for s in &new.sequences[i] {
                pages.extend(by_id.get(s.path.id.as_str()));
            }
            for t in views::page_tags(&site.pages[i], &site.rendered[i]) {
                tags.insert(slugify(&t));
            }
        }
        // A section's index page titles the breadcrumbs of every page under it.
        if p.is_section {
            let prefix = format!("{}/", p.section);
            for (j, q) in site.pages.iter().enumerate() {
                if p.section.is_empty() || q.section == p.section || q.section.starts_with(&prefix)
                {
                    pages.insert(j);
                }
            }
            // And of the folders under it that have no index page of their own.
            for folder in new.section_index.keys().chain(old.section_index.keys()) {
                if p.section.is_empty() || folder.starts_with(&prefix) {
                    sections.insert(folder.clone());
                }
            }
        }
        // Its folder and every folder above it (their subsections list it), and its kind's index.
        let mut folder = p.section.clone();
        loop {
            sections.insert(folder.clone());
            match folder.rfind('/') {
                Some(k) => folder.truncate(k),
                None if !folder.is_empty() => folder.clear(),
                None => break,
            }
        }
        if let Some(kind) = p.kind.as_ref().and_then(|k| site.config.kinds.get(k)) {
            sections.insert(kind.folder.trim_matches('/').to_string());
        }
    }
    // Every step of a path that changed or that has a changed step shows it.
    let shows = |s: &views::SequenceNav| {
        l.ids.contains(&s.path.id)
            || s.prev.as_ref().is_some_and(|x| l.ids.contains(&x.id))
            || s.next.as_ref().is_some_and(|x| l.ids.contains(&x.id))
    };
    for (j, seqs) in old.sequences.iter().enumerate() {
        if seqs.iter().any(shows) {
            pages.extend((l.post)(j));
        }
    }
    for (j, seqs) in new.sequences.iter().enumerate() {
        if seqs.iter().any(shows) {
            pages.insert(j);
        }
    }
    // The tags the changed pages had before.
    for t in &old.tags {
        if t.pages.iter().any(|r| l.ids.contains(&r.id)) {
            tags.insert(t.slug.clone());
        }
    }
    // Index pages list their pages with facts that show the pages those reference.
    for &j in &pages {
        if let Some(kind) = site.pages[j]
            .kind
            .as_ref()
            .and_then(|k| site.config.kinds.get(k))
        {
            sections.insert(kind.folder.trim_matches('/').to_string());
        }
    }
    // The home page lists paths and recently updated pages.
    sections.insert(String::new());

    let mut out: Vec<Output> = pages.into_iter().map(Output::Page).collect();
    for (n, (folder, _)) in new.sections.iter().enumerate() {
        if sections.contains(folder) {
            match new.section_index.get(folder).copied().flatten() {
                Some(j) => out.push(Output::Page(j)),
                None => out.push(Output::Section(n)),
            }
        }
    }
    for (n, t) in new.tags.iter().enumerate() {
        if tags.contains(&t.slug) {
            out.push(Output::Tag(n));
        }
    }
    if !new.tags.is_empty() && !site.pages.iter().any(|p| p.url == "tags/") {
        out.push(Output::Tags);
    }
    out.extend((0..new.matrices.len()).map(Output::Matrix));
    if l.structural {
        // It counts the pages.
        out.push(Output::Search);
    }
    out.sort();
    out.dedup();
    out
}
