//! Stage 4: the page graph. Resolves reference fields, wikilinks and `.md` links to pages (and
//! anchors to headings), reports what resolves to nothing with the closest candidates, and computes
//! every page's backlinks and the edge list for `graph.json`.
//!
//! All three link forms go through one resolver ([`Lookup::resolve`]), so they agree on what an id is:
//! `kind/slug`, a path under content/ (`tools/doudian`), or a bare slug when it is unique.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::BrokenLinks;
use crate::content::{slugify, Page};
use crate::diagnostics::Diagnostic;
use crate::markdown::{Embed, Fill, LinkKind, Part, Rendered};
use crate::schema::RefValue;

/// Why a link target did not resolve.
#[derive(Debug, PartialEq)]
pub enum Unresolved {
    NotFound {
        suggestions: Vec<String>,
    },
    Ambiguous(Vec<String>),
    WrongKind {
        id: String,
        found: Option<String>,
        want: String,
    },
}

/// Every way to name a page, built once per build and kept up to date by a serve session's patches.
#[derive(Debug, Default, PartialEq)]
pub struct Lookup {
    by_id: HashMap<String, usize>,
    by_path: HashMap<String, usize>,
    by_slug: HashMap<String, Vec<usize>>,
    /// File names without `.md`, lowercased (Obsidian's names are case-insensitive).
    by_stem: HashMap<String, Vec<usize>>,
    /// Other names (`aliases` that are names), lowercased.
    by_name: HashMap<String, Vec<usize>>,
    /// Titles, lowercased.
    by_title: HashMap<String, Vec<usize>>,
    /// Paths under content/ without `.md`, lowercased, for `[[Folder/Note]]` and path suffixes.
    lower_paths: Vec<String>,
    ids: Vec<String>,
    kinds: Vec<Option<String>>,
}

/// What one page is filed under in a [`Lookup`].
struct Keys {
    /// The file name without `.md`, lowercased (none for a section's index page).
    stem: Option<String>,
    /// Other names, lowercased.
    names: Vec<String>,
    /// The title, lowercased.
    title: Option<String>,
    slug: Option<String>,
    /// Path without `.md`, URL path, and a section's folder: in the order they are filed.
    paths: Vec<String>,
    lower_path: String,
}

impl Keys {
    fn of(p: &Page) -> Keys {
        let no_ext = p.rel_path.trim_end_matches(".md").trim_end_matches(".MD");
        let stem = no_ext.rsplit('/').next().unwrap_or(no_ext);
        let mut paths = vec![no_ext.to_string()];
        let url = p.url.trim_end_matches('/');
        if url != no_ext {
            paths.push(url.to_string());
        }
        if p.is_section && p.section != no_ext && p.section != url {
            paths.push(p.section.clone());
        }
        Keys {
            stem: (!p.is_section).then(|| stem.to_lowercase()),
            names: p.names.iter().map(|n| n.trim().to_lowercase()).collect(),
            title: p.title.as_ref().map(|t| t.trim().to_lowercase()),
            slug: (!p.slug.is_empty()).then(|| p.slug.clone()),
            paths,
            lower_path: no_ext.to_lowercase(),
        }
    }
}

/// A page found for a link, and the other pages its short name could also mean.
#[derive(Debug, PartialEq)]
pub struct Found {
    pub page: usize,
    pub also: Vec<String>,
}

impl Lookup {
    /// Index pages by id, path and slug. Returns diagnostics for two pages with the same id or URL.
    pub fn new(pages: &[Page]) -> (Lookup, Vec<Diagnostic>) {
        let mut l = Lookup::default();
        let mut diags = Vec::new();
        let mut urls: HashMap<&str, usize> = HashMap::new();
        for (i, p) in pages.iter().enumerate() {
            let keys = Keys::of(p);
            l.ids.push(p.id.clone());
            l.kinds.push(p.kind.clone());
            l.lower_paths.push(keys.lower_path.clone());
            l.file_names(i, &keys);
            if let Some(&j) = urls.get(p.url.as_str()) {
                diags.push(
                    Diagnostic::error(
                        "duplicate-url",
                        format!(
                            "`{}` and `{}` both make the page at /{}",
                            pages[j].rel_path, p.rel_path, p.url
                        ),
                    )
                    .in_file(&p.source.path)
                    .with_help("rename one of the files, or give one a different `slug:`"),
                );
                continue;
            }
            urls.insert(&p.url, i);
            if let Some(&j) = l.by_id.get(&p.id) {
                diags.push(
                    Diagnostic::error(
                        "duplicate-id",
                        format!(
                            "`{}` and `{}` have the same id `{}`",
                            pages[j].rel_path, p.rel_path, p.id
                        ),
                    )
                    .in_file(&p.source.path)
                    .with_help("give one of them a different file name or `slug:`"),
                );
                continue;
            }
            l.by_id.insert(p.id.clone(), i);
            for k in &keys.paths {
                l.by_path.insert(k.clone(), i);
            }
            if let Some(s) = &keys.slug {
                l.by_slug.entry(s.clone()).or_default().push(i);
            }
        }
        (l, diags)
    }

    /// File page `i`'s names (file name, other names, title) in the lists they share with others.
    fn file_names(&mut self, i: usize, keys: &Keys) {
        let lists = [
            (&mut self.by_stem, keys.stem.as_slice()),
            (&mut self.by_name, keys.names.as_slice()),
            (&mut self.by_title, keys.title.as_slice()),
        ];
        for (map, names) in lists {
            for n in names {
                let list = map.entry(n.clone()).or_default();
                let at = list.partition_point(|&x| x < i);
                list.insert(at, i);
            }
        }
    }

    /// Take page `i` out of the lists of the names in `keys` (a list left empty goes).
    fn unfile(&mut self, i: usize, keys: &Keys, id: &str) {
        let lists = [
            (&mut self.by_stem, keys.stem.as_slice()),
            (&mut self.by_name, keys.names.as_slice()),
            (&mut self.by_title, keys.title.as_slice()),
            (&mut self.by_slug, keys.slug.as_slice()),
        ];
        for (map, names) in lists {
            for n in names {
                if let Some(list) = map.get_mut(n) {
                    list.retain(|&x| x != i);
                    if list.is_empty() {
                        map.remove(n);
                    }
                }
            }
        }
        if self.by_id.get(id) == Some(&i) {
            self.by_id.remove(id);
        }
        for k in &keys.paths {
            if self.by_path.get(k) == Some(&i) {
                self.by_path.remove(k);
            }
        }
    }

    /// File page `i` under its id, paths and slug; false when another page holds one of them (only
    /// a lookup made whole says which page wins, and reports a duplicate).
    fn file_unique(&mut self, pages: &[Page], i: usize, keys: &Keys) -> bool {
        let p = &pages[i];
        if self.by_id.contains_key(&p.id)
            || keys.paths.iter().any(|k| self.by_path.contains_key(k))
            || pages
                .iter()
                .enumerate()
                .any(|(j, q)| j != i && q.url == p.url)
        {
            return false;
        }
        self.by_id.insert(p.id.clone(), i);
        for k in &keys.paths {
            self.by_path.insert(k.clone(), i);
        }
        if let Some(s) = &keys.slug {
            let list = self.by_slug.entry(s.clone()).or_default();
            let at = list.partition_point(|&x| x < i);
            list.insert(at, i);
        }
        true
    }

    /// Whether a page other than `i` of `pages` is filed under one of the paths in `keys` (then
    /// taking `i` out would have to bring that page back: only a lookup made whole does).
    fn paths_shared(pages: &[Page], i: Option<usize>, keys: &Keys) -> bool {
        pages.iter().enumerate().any(|(j, q)| {
            Some(j) != i && {
                let no_ext = q.rel_path.trim_end_matches(".md").trim_end_matches(".MD");
                let url = q.url.trim_end_matches('/');
                keys.paths
                    .iter()
                    .any(|k| k == no_ext || k == url || (q.is_section && *k == q.section))
            }
        })
    }

    /// Move every page index through `f`.
    fn shift(&mut self, f: impl Fn(usize) -> usize) {
        for v in self.by_id.values_mut().chain(self.by_path.values_mut()) {
            *v = f(*v);
        }
        for map in [
            &mut self.by_slug,
            &mut self.by_stem,
            &mut self.by_name,
            &mut self.by_title,
        ] {
            for list in map.values_mut() {
                for v in list.iter_mut() {
                    *v = f(*v);
                }
            }
        }
    }

    /// Page `pos` of `pages` is new (later pages moved up by one): file it. False when the lookup
    /// must be made whole instead ([`Lookup::new`]); it is then left half-changed.
    pub fn insert(&mut self, pages: &[Page], pos: usize) -> bool {
        self.shift(|x| if x >= pos { x + 1 } else { x });
        let p = &pages[pos];
        let keys = Keys::of(p);
        self.ids.insert(pos, p.id.clone());
        self.kinds.insert(pos, p.kind.clone());
        self.lower_paths.insert(pos, keys.lower_path.clone());
        self.file_names(pos, &keys);
        self.file_unique(pages, pos, &keys)
    }

    /// Page `i`, `old`, went from `pages` (later pages moved down by one). False as for
    /// [`Lookup::insert`].
    pub fn remove(&mut self, pages: &[Page], i: usize, old: &Page) -> bool {
        let keys = Keys::of(old);
        if Lookup::paths_shared(pages, None, &keys) {
            return false;
        }
        self.unfile(i, &keys, &old.id);
        self.ids.remove(i);
        self.kinds.remove(i);
        self.lower_paths.remove(i);
        self.shift(|x| if x > i { x - 1 } else { x });
        true
    }

    /// Page `i` of `pages` was `old`. False as for [`Lookup::insert`].
    pub fn update(&mut self, pages: &[Page], i: usize, old: &Page) -> bool {
        let before = Keys::of(old);
        if Lookup::paths_shared(pages, Some(i), &before) {
            return false;
        }
        self.unfile(i, &before, &old.id);
        let p = &pages[i];
        let keys = Keys::of(p);
        self.ids[i] = p.id.clone();
        self.kinds[i] = p.kind.clone();
        self.lower_paths[i] = keys.lower_path.clone();
        self.file_names(i, &keys);
        self.file_unique(pages, i, &keys)
    }

    /// The page `target` names, of kind `want` if given.
    pub fn resolve(&self, target: &str, want: Option<&str>) -> Result<usize, Unresolved> {
        let t = target.trim().trim_matches('/');
        let t = t.strip_suffix(".md").unwrap_or(t);
        let found = self.find(t, want)?;
        match (found, want) {
            (Some(i), Some(w)) if self.kinds[i].as_deref() != Some(w) => {
                Err(Unresolved::WrongKind {
                    id: self.ids[i].clone(),
                    found: self.kinds[i].clone(),
                    want: w.to_string(),
                })
            }
            (Some(i), _) => Ok(i),
            (None, _) => Err(Unresolved::NotFound {
                suggestions: self.suggest(t, want),
            }),
        }
    }

    /// Every page `t` could name, by the first rule that finds any: id or path; a path by its
    /// slugs or as the end of a page's path (`Folder/Note`); a bare name by file name or slug;
    /// then by another name (alias); then by title. Names are case-insensitive, as in Obsidian.
    fn candidates(&self, t: &str) -> Vec<usize> {
        let exact = self.by_id.get(t).or_else(|| self.by_path.get(t)).copied();
        let lower = t.to_lowercase();
        if t.contains('/') {
            if let Some(i) = exact {
                return vec![i];
            }
            let slugged: Vec<String> = t.split('/').map(slugify).collect();
            let s = slugged.join("/");
            if let Some(&i) = self.by_id.get(&s).or_else(|| self.by_path.get(&s)) {
                return vec![i];
            }
            let suffix = format!("/{lower}");
            return (0..self.lower_paths.len())
                .filter(|&i| self.lower_paths[i] == lower || self.lower_paths[i].ends_with(&suffix))
                .collect();
        }
        // A bare name: every page of that id, file name or slug, for the caller to choose from
        // (the closest, for a link).
        let mut found: Vec<usize> = exact.into_iter().collect();
        found.extend(self.by_stem.get(&lower).into_iter().flatten());
        if let Some(by_slug) = self.by_slug.get(&slugify(t)) {
            for &i in by_slug {
                if !found.contains(&i) {
                    found.push(i);
                }
            }
        }
        for names in [&self.by_name, &self.by_title] {
            if found.is_empty() {
                found = names.get(lower.trim()).cloned().unwrap_or_default();
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    fn find(&self, t: &str, want: Option<&str>) -> Result<Option<usize>, Unresolved> {
        let candidates = self.candidates(t);
        let narrowed: Vec<usize> = match want {
            Some(w) => candidates
                .iter()
                .copied()
                .filter(|&i| self.kinds[i].as_deref() == Some(w))
                .collect(),
            None => candidates.clone(),
        };
        match (narrowed.as_slice(), candidates.as_slice()) {
            (_, []) => Ok(None),
            ([one], _) => Ok(Some(*one)),
            ([], [one]) => Ok(Some(*one)),
            ([], _) | (_, _) => {
                let pool = if narrowed.is_empty() {
                    &candidates
                } else {
                    &narrowed
                };
                let mut ids: Vec<String> = pool.iter().map(|&i| self.ids[i].clone()).collect();
                ids.sort();
                Err(Unresolved::Ambiguous(ids))
            }
        }
    }

    /// The page a link in the body of page `from` names. A short name that several pages share
    /// resolves as Obsidian does: to the page closest to `from` in the folder tree, then the one
    /// with the shortest path; the others come back in [`Found::also`].
    pub fn resolve_link(&self, target: &str, from: usize) -> Result<Found, Unresolved> {
        let t = target.trim();
        let t = t.strip_suffix(".md").unwrap_or(t);
        let joined;
        let t = if t.starts_with("./") || t.starts_with("../") {
            let folder = self.lower_paths[from]
                .rsplit_once('/')
                .map_or("", |(f, _)| f);
            match crate::markdown::join_path(folder, t) {
                Some(j) => {
                    joined = j;
                    joined.as_str()
                }
                None => {
                    return Err(Unresolved::NotFound {
                        suggestions: Vec::new(),
                    })
                }
            }
        } else {
            t.trim_matches('/')
        };
        let mut candidates = self.candidates(t);
        if candidates.is_empty() {
            return Err(Unresolved::NotFound {
                suggestions: self.suggest(t, None),
            });
        }
        if let [page] = candidates[..] {
            return Ok(Found {
                page,
                also: Vec::new(),
            });
        }
        let here: Vec<&str> = self.lower_paths[from].split('/').collect();
        let here = &here[..here.len() - 1];
        let shared = |i: usize| {
            let there: Vec<&str> = self.lower_paths[i].split('/').collect();
            let there = &there[..there.len() - 1];
            here.iter().zip(there).take_while(|(a, b)| a == b).count()
        };
        candidates.sort_by_key(|&i| {
            (
                std::cmp::Reverse(shared(i)),
                self.lower_paths[i].len(),
                self.ids[i].clone(),
            )
        });
        let page = candidates[0];
        let also = candidates[1..]
            .iter()
            .map(|&i| self.ids[i].clone())
            .collect();
        Ok(Found { page, also })
    }

    fn suggest(&self, t: &str, want: Option<&str>) -> Vec<String> {
        let short = t.rsplit('/').next().unwrap_or(t);
        let pool: Vec<&str> = self
            .ids
            .iter()
            .enumerate()
            .filter(|(i, _)| want.is_none() || self.kinds[*i].as_deref() == want)
            .map(|(_, id)| id.as_str())
            .collect();
        let by_slug = crate::suggest::nearest(
            short,
            pool.iter().map(|id| id.rsplit('/').next().unwrap_or(id)),
            3,
        );
        let mut out: Vec<String> = Vec::new();
        for s in by_slug {
            for id in pool.iter().filter(|id| id.rsplit('/').next() == Some(s)) {
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_string());
                }
            }
        }
        out.truncate(3);
        out
    }
}

/// The relation of a link in the body (fields name their own).
pub const MENTIONS: &str = "mentions";

/// One incoming link of a page.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Backlink {
    /// The field that links (`tools`), or [`MENTIONS`] for links in the body. Shared: a site has a
    /// handful of relations and hundreds of thousands of links.
    pub relation: Arc<str>,
    pub from: usize,
}

/// An edge of the page graph, for graph.json: page indices and the relation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub relation: Arc<str>,
}

/// The resolved graph.
#[derive(Debug, Default)]
pub struct LinkGraph {
    pub lookup: Lookup,
    /// Per page: what each of its body-link holes becomes.
    pub fills: Vec<Vec<Option<Fill>>>,
    /// Per page: incoming links, sorted, one per (relation, page).
    pub backlinks: Vec<Vec<Backlink>>,
    pub edges: Vec<Edge>,
    /// Per page: the pages its fields reference, resolved, in field order (repeats kept). Views
    /// read references here; nothing resolves them again.
    pub refs: Vec<Vec<usize>>,
    /// Per page: the pages it embeds (`![[Note]]`), so that an edit of one reaches the others.
    pub embeds: Vec<Vec<usize>>,
    /// The files links to files resolve against.
    pub files: Files,
}

/// Human words for an unresolved target, and a hint.
fn explain(u: &Unresolved, target: &str, what: &str) -> (String, String) {
    match u {
        Unresolved::NotFound { suggestions }
            if target.starts_with("..") || target.contains("/../") =>
        {
            (
                format!("{what} `{target}` points outside content/"),
                "link to pages inside the site by id, e.g. [[doudian]] or [[tool/doudian]]".into(),
            )
        }
        Unresolved::NotFound { suggestions } => (
            format!("{what} `{target}` does not match any page"),
            if suggestions.is_empty() {
                "check the spelling; a page's id is its file name without .md, or kind/name".into()
            } else {
                format!(
                    "did you mean {}?",
                    suggestions
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            },
        ),
        Unresolved::Ambiguous(ids) => (
            format!("{what} `{target}` could mean {} pages", ids.len()),
            format!(
                "write the full id: {}",
                ids.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Unresolved::WrongKind { id, found, want } => (
            format!(
                "{what} `{target}` is `{id}`, a page of kind `{}`, but `{want}` is expected here",
                found.as_deref().unwrap_or("none")
            ),
            format!("point it to a page of kind `{want}`"),
        ),
    }
}

/// Build the graph: resolve every link of every page. `titles` are the pages' display titles.
pub fn build(
    pages: &[Page],
    rendered: &[Rendered],
    titles: &[String],
    base_path: &str,
    policy: BrokenLinks,
    files: Files,
) -> (LinkGraph, Vec<Diagnostic>) {
    let (lookup, mut diags) = Lookup::new(pages);
    let cx = LinkContext {
        base_path,
        policy,
        files: &files,
    };
    // Body links resolve page by page, in parallel; what they add to the graph merges in page order.
    let bodies: Vec<BodyLinks> = (0..pages.len())
        .into_par_iter()
        .map(|i| resolve_body_links(&lookup, pages, rendered, titles, i, cx))
        .collect();
    let mut embeds: Vec<Vec<(usize, usize)>> = bodies.iter().map(|b| b.embeds.clone()).collect();
    let mut relations = Relations::default();
    let mut edges = Vec::new();
    let mut fills = Vec::with_capacity(pages.len());
    let mut refs = Vec::with_capacity(pages.len());
    for ((i, page), body) in pages.iter().enumerate().zip(bodies) {
        let mut own = page_edges(&lookup, page, i, &body, &mut relations);
        edges.append(&mut own.edges);
        diags.append(&mut own.diags);
        diags.extend(body.diags);
        fills.push(body.fills);
        refs.push(own.refs);
    }
    edges.sort();
    edges.dedup();
    let backlinks = backlinks_from_edges(&edges, pages.len(), titles);
    diags.extend(check_embeds(pages, rendered, &mut embeds, &mut fills));
    let embeds = embeds
        .into_iter()
        .map(|e| e.into_iter().map(|(t, _)| t).collect())
        .collect();
    (
        LinkGraph {
            lookup,
            fills,
            backlinks,
            edges,
            refs,
            embeds,
            files,
        },
        diags,
    )
}

/// The relation names of a site's fields, each shared by all the edges of its field.
#[derive(Debug, Default)]
pub struct Relations(HashMap<String, Arc<str>>);

impl Relations {
    fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(r) = self.0.get(name) {
            return r.clone();
        }
        let r: Arc<str> = Arc::from(name);
        self.0.insert(name.to_string(), r.clone());
        r
    }
}

/// What page `i` points at, resolved: see [`page_edges`].
#[derive(Debug, Default)]
pub struct PageEdges {
    /// One per reference of its fields, then one per other page its body mentions, repeats dropped.
    pub edges: Vec<Edge>,
    /// The pages its fields reference, in field order (repeats kept): [`LinkGraph::refs`].
    pub refs: Vec<usize>,
    /// One error for each reference that names no page.
    pub diags: Vec<Diagnostic>,
}

/// The edges out of page `i`: one per reference of its fields (an error for each that names no
/// page), then one per other page its body mentions (`body`, resolved already), repeats dropped.
pub fn page_edges(
    lookup: &Lookup,
    page: &Page,
    i: usize,
    body: &BodyLinks,
    relations: &mut Relations,
) -> PageEdges {
    let mut out = PageEdges::default();
    for (field, value) in &page.fields {
        for r in value.refs() {
            match lookup.resolve(&r.target, r.to.as_deref()) {
                Ok(t) => {
                    out.refs.push(t);
                    out.edges.push(Edge {
                        from: i,
                        to: t,
                        relation: relations.get(field),
                    });
                }
                Err(u) => out.diags.push(ref_error(page, r, field, &u)),
            }
        }
    }
    let mentions = relations.get(MENTIONS);
    let mut seen = HashSet::new();
    for &t in &body.mentions {
        if seen.insert(t) {
            out.edges.push(Edge {
                from: i,
                to: t,
                relation: mentions.clone(),
            });
        }
    }
    out
}

/// Every page's backlinks, from the site's edges (sorted).
pub fn backlinks_from_edges(edges: &[Edge], pages: usize, titles: &[String]) -> Vec<Vec<Backlink>> {
    let mut incoming: Vec<Vec<&Edge>> = vec![Vec::new(); pages];
    for e in edges {
        incoming[e.to].push(e);
    }
    incoming
        .into_iter()
        .map(|list| backlinks_of(&list, titles))
        .collect()
}

/// One page's backlinks from the edges into it: a page linked by a field and also mentioned in the
/// body is listed once, under the field; fields first, then mentions, each by the linking page's
/// title (and its index, for pages of the same title).
pub fn backlinks_of(incoming: &[&Edge], titles: &[String]) -> Vec<Backlink> {
    let by_field: HashSet<usize> = incoming
        .iter()
        .filter(|e| &*e.relation != MENTIONS)
        .map(|e| e.from)
        .collect();
    let mut v: Vec<Backlink> = incoming
        .iter()
        .filter(|e| &*e.relation != MENTIONS || !by_field.contains(&e.from))
        .map(|e| Backlink {
            relation: e.relation.clone(),
            from: e.from,
        })
        .collect();
    v.sort_by(|a, b| {
        (
            &*a.relation == MENTIONS,
            &a.relation,
            &titles[a.from],
            a.from,
        )
            .cmp(&(
                &*b.relation == MENTIONS,
                &b.relation,
                &titles[b.from],
                b.from,
            ))
    });
    v.dedup();
    v
}

/// How deep embeds may nest (a note embedding a note embedding a note...).
pub const MAX_EMBED_DEPTH: usize = 8;

/// Embeds must not loop (a note that shows itself, two sections that show each other) nor nest
/// deeper than [`MAX_EMBED_DEPTH`]: each such embed is an error at the embed that closes the loop
/// or goes too deep, and shows as broken. What an embed shows is a part of a page (the whole, a
/// section, a block), so two pages may embed sections of each other as long as no part shows
/// itself.
fn check_embeds(
    pages: &[Page],
    rendered: &[Rendered],
    embeds: &mut [Vec<(usize, usize)>],
    fills: &mut [Vec<Option<Fill>>],
) -> Vec<Diagnostic> {
    let mut bad: Vec<(usize, usize, bool)> = Vec::new();
    let mut done: HashSet<(usize, Part)> = HashSet::new();
    #[allow(clippy::too_many_arguments)]
    fn walk(
        page: usize,
        part: Part,
        rendered: &[Rendered],
        fills: &[Vec<Option<Fill>>],
        stack: &mut Vec<(usize, Part)>,
        bad: &mut Vec<(usize, usize, bool)>,
        done: &mut HashSet<(usize, Part)>,
    ) {
        if done.contains(&(page, part.clone())) {
            return;
        }
        let Some(raw) = crate::markdown::part_of(&rendered[page].html, &part) else {
            return;
        };
        stack.push((page, part.clone()));
        for k in crate::markdown::embed_holes(&raw) {
            let Some(Some(Fill { embed: Some(e), .. })) = fills[page].get(k) else {
                continue;
            };
            let next = (e.page, e.part.clone());
            if stack.contains(&next) {
                bad.push((page, k, true));
            } else if stack.len() >= MAX_EMBED_DEPTH {
                bad.push((page, k, false));
            } else {
                walk(next.0, next.1, rendered, fills, stack, bad, done);
            }
        }
        stack.pop();
        done.insert((page, part));
    }
    for (i, e) in embeds.iter().enumerate() {
        if !e.is_empty() {
            walk(
                i,
                Part::Whole,
                rendered,
                fills,
                &mut Vec::new(),
                &mut bad,
                &mut done,
            );
        }
    }
    bad.sort_unstable();
    bad.dedup();
    let mut diags = Vec::new();
    for (i, k, looped) in bad {
        let link = &rendered[i].links[k];
        let Some(Some(fill)) = fills[i].get_mut(k) else {
            continue;
        };
        let t = fill.embed.as_ref().map_or(i, |e| e.page);
        let message = if looped {
            format!(
                "embeds `{}`, which leads back to this embed: the embeds loop",
                pages[t].id
            )
        } else {
            format!(
                "embeds `{}` more than {MAX_EMBED_DEPTH} embeds deep",
                pages[t].id
            )
        };
        let start = pages[i].body.start;
        diags.push(
            Diagnostic::error("embed-loop", message)
                .at(
                    &pages[i].source,
                    start + link.span.start..start + link.span.end,
                )
                .with_help(
                    "link to the page instead of embedding it: [[Note]] rather than ![[Note]]",
                ),
        );
        fill.broken = true;
        fill.embed = None;
        embeds[i].retain(|e| e.1 != k);
    }
    diags
}

/// Show every page's embeds in place: each embed hole becomes the part of the embedded page it
/// names, with that page's own links filled and its own embeds shown. Run once the graph is built;
/// loops were cut by [`check_embeds`], and depth is bounded here too.
pub fn expand_embeds(rendered: &mut [Rendered], graph: &LinkGraph, titles: &[String]) {
    fn show(
        f: &Fill,
        e: &Embed,
        rendered: &[Rendered],
        graph: &LinkGraph,
        titles: &[String],
        stack: &mut Vec<(usize, Part)>,
    ) -> Option<String> {
        let node = (e.page, e.part.clone());
        if stack.len() > MAX_EMBED_DEPTH || stack.contains(&node) {
            return None;
        }
        let raw = crate::markdown::part_of(&rendered[e.page].html, &e.part)?;
        stack.push(node);
        let inner = crate::markdown::expand_embeds(&raw, &graph.fills[e.page], |f, e| {
            show(f, e, rendered, graph, titles, stack)
        });
        stack.pop();
        let html = crate::markdown::fill_holes(&inner, &graph.fills[e.page]);
        Some(format!(
            "<div class=\"embed\"><a class=\"embed-source\" href=\"{}\">{}</a>\n{}</div>\n",
            crate::markdown::escape_attr(&f.href),
            crate::markdown::escape_html(&titles[e.page]),
            html
        ))
    }
    let expanded: Vec<(usize, String)> = (0..rendered.len())
        .filter(|&i| !graph.embeds[i].is_empty())
        .map(|i| {
            let mut stack = vec![(i, Part::Whole)];
            let html =
                crate::markdown::expand_embeds(&rendered[i].html, &graph.fills[i], |f, e| {
                    show(f, e, rendered, graph, titles, &mut stack)
                });
            (i, html)
        })
        .collect();
    for (i, html) in expanded {
        rendered[i].html = html;
    }
}

/// What the body links of one page resolve to.
#[derive(Debug, Default)]
pub struct BodyLinks {
    /// What each of the page's link holes becomes (`None` for a link that resolves to nothing).
    pub fills: Vec<Option<Fill>>,
    /// Other pages the body links to, in link order (repeats kept).
    pub mentions: Vec<usize>,
    /// Pages the body embeds (`![[Note]]`), with the index of the embedding link.
    pub embeds: Vec<(usize, usize)>,
    pub diags: Vec<Diagnostic>,
}

/// What resolving body links needs besides the pages.
#[derive(Debug, Clone, Copy)]
pub struct LinkContext<'a> {
    pub base_path: &'a str,
    pub policy: BrokenLinks,
    pub files: &'a Files,
}

/// A link that lands nowhere: an error, or under `broken_links: warn` a warning.
fn broken(policy: BrokenLinks, code: &'static str, message: String) -> Diagnostic {
    match policy {
        BrokenLinks::Error => Diagnostic::error(code, message),
        BrokenLinks::Warn => Diagnostic::warning(code, message),
    }
}

/// The id of the heading or block `fragment` names on a page: a heading id (`#setup`), a
/// heading's text (`#First steps`, matched case-insensitively and by slug), nested headings
/// (`#Setup#Install`: `Install` under `Setup`), or a block (`#^id`).
pub fn find_anchor(rendered: &Rendered, fragment: &str) -> Option<String> {
    let fragment = fragment.trim();
    if let Some(block) = fragment.strip_prefix('^') {
        return rendered
            .blocks
            .iter()
            .any(|b| b == block)
            .then(|| fragment.to_string());
    }
    let headings = &rendered.headings;
    if let Some(h) = headings.iter().find(|h| h.id == fragment) {
        return Some(h.id.clone());
    }
    let matches = |h: &crate::markdown::Heading, lower: &str, slug: &str| {
        h.title.trim().to_lowercase() == lower || (!slug.is_empty() && slugify(&h.title) == slug)
    };
    let mut from = 0;
    let mut within = u8::MAX;
    let mut found = None;
    for part in fragment.split('#').filter(|p| !p.trim().is_empty()) {
        let (lower, slug) = (part.trim().to_lowercase(), slugify(part));
        let mut hit = None;
        for (k, h) in headings.iter().enumerate().skip(from) {
            if found.is_some() && h.level <= within {
                break;
            }
            if matches(h, &lower, &slug) {
                hit = Some(k);
                break;
            }
        }
        let k = hit?;
        found = Some(k);
        within = headings[k].level;
        from = k + 1;
    }
    found.map(|k| headings[k].id.clone())
}

/// Resolve the body links of page `i` (wikilinks, `.md` links, anchors, embeds, files) against the
/// other pages and the site's files. [`build`] calls it for every page; `serve` calls it for one
/// edited page whose links to the rest of the site did not change.
pub fn resolve_body_links(
    lookup: &Lookup,
    pages: &[Page],
    rendered: &[Rendered],
    titles: &[String],
    i: usize,
    cx: LinkContext,
) -> BodyLinks {
    let page = &pages[i];
    let mut out = BodyLinks::default();
    let body_start = page.body.start;
    for (k, link) in rendered[i].links.iter().enumerate() {
        let span = body_start + link.span.start..body_start + link.span.end;
        let what = match link.kind {
            LinkKind::Wiki { .. } => "wikilink",
            LinkKind::Markdown => "link",
            LinkKind::SelfAnchor => "anchor link",
            LinkKind::Embed => "embed",
            LinkKind::File => "link",
        };
        if link.kind == LinkKind::File {
            let fill = match cx.files.find(&page.section, &link.target) {
                Some(path) => Fill {
                    href: format!(
                        "{}{}{}",
                        cx.base_path,
                        encode_path(&path),
                        link.fragment.as_deref().map_or(String::new(), |f| {
                            if f.starts_with(['?', '#']) {
                                f.to_string()
                            } else {
                                format!("#{f}")
                            }
                        })
                    ),
                    label: link.target.clone(),
                    ..Fill::default()
                },
                None => match lookup.resolve_link(&link.target, i) {
                    // `[[Node.js]]`: a page whose name looks like a file's.
                    Ok(found) => {
                        out.mentions.push(found.page);
                        Fill {
                            href: format!("{}{}", cx.base_path, pages[found.page].url),
                            label: titles[found.page].clone(),
                            ..Fill::default()
                        }
                    }
                    _ => {
                        out.diags.push(
                            broken(
                                cx.policy,
                                "missing-file",
                                format!("links to `{}`, which is no file in content/ or static/", link.target),
                            )
                            .at(&page.source, span)
                            .with_help("check the file name; a file is found beside the page, by its path from content/, or by its name anywhere in content/"),
                        );
                        Fill {
                            href: "#".into(),
                            label: link.target.clone(),
                            broken: true,
                            embed: None,
                        }
                    }
                },
            };
            out.fills.push(Some(fill));
            continue;
        }
        let target = if link.kind == LinkKind::SelfAnchor
            || (link.target.is_empty() && link.fragment.is_some())
        {
            Ok(Found {
                page: i,
                also: Vec::new(),
            })
        } else {
            lookup.resolve_link(&link.target, i)
        };
        let written = match &link.fragment {
            Some(f) => format!("{}#{f}", link.target),
            None => link.target.clone(),
        };
        match target {
            Ok(Found { page: t, also }) => {
                if !also.is_empty() {
                    out.diags.push(
                        Diagnostic::warning(
                            "ambiguous-link",
                            format!(
                                "{what} `{}` could mean {} pages; it goes to `{}`, the closest",
                                link.target,
                                also.len() + 1,
                                pages[t].id
                            ),
                        )
                        .at(&page.source, span.clone())
                        .with_help(format!(
                            "write the path to choose: {}",
                            std::iter::once(&pages[t].id)
                                .chain(&also)
                                .map(|s| format!("`{s}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    );
                }
                let fragment = link
                    .fragment
                    .as_deref()
                    .map(crate::markdown::percent_decode);
                let anchor = fragment
                    .as_deref()
                    .map(|f| (f, find_anchor(&rendered[t], f)));
                let mut is_broken = false;
                if let Some((frag, None)) = &anchor {
                    is_broken = true;
                    let headings = &rendered[t].headings;
                    // Written as an id (`#after-sales`), ids are suggested; written as text
                    // (`#After sales`), headings' texts.
                    let as_id = slugify(frag) == *frag;
                    let near = crate::suggest::nearest(
                        frag,
                        headings.iter().map(|h| {
                            if as_id {
                                h.id.as_str()
                            } else {
                                h.title.as_str()
                            }
                        }),
                        3,
                    );
                    let help = if near.is_empty() {
                        format!(
                            "`{}` has no heading or block with that name",
                            pages[t].rel_path
                        )
                    } else {
                        format!(
                            "did you mean {}?",
                            near.iter()
                                .map(|s| format!("`#{s}`"))
                                .collect::<Vec<_>>()
                                .join(" or ")
                        )
                    };
                    out.diags.push(
                        broken(
                            cx.policy,
                            "unknown-anchor",
                            format!(
                                "{what} points to `#{frag}`, which is not a heading of `{}`",
                                pages[t].id
                            ),
                        )
                        .at(&page.source, span.clone())
                        .with_help(help),
                    );
                }
                let id = anchor.and_then(|(_, id)| id);
                if link.kind != LinkKind::SelfAnchor && t != i {
                    out.mentions.push(t);
                }
                let mut href = format!("{}{}", cx.base_path, pages[t].url);
                if let Some(id) = &id {
                    href.push('#');
                    href.push_str(id);
                }
                let heading = id
                    .as_ref()
                    .and_then(|id| rendered[t].headings.iter().find(|h| &h.id == id));
                let label = match heading {
                    _ if is_broken => written.clone(),
                    Some(h) if t != i => format!("{} › {}", titles[t], h.title),
                    Some(h) => h.title.clone(),
                    None => titles[t].clone(),
                };
                let embed = (link.kind == LinkKind::Embed).then(|| {
                    out.embeds.push((t, k));
                    Embed {
                        page: t,
                        part: match &id {
                            None => Part::Whole,
                            Some(id) => match id.strip_prefix('^') {
                                Some(block) => Part::Block(block.to_string()),
                                None => Part::Heading(id.clone()),
                            },
                        },
                    }
                });
                out.fills.push(Some(Fill {
                    href,
                    label,
                    broken: is_broken,
                    embed,
                }));
            }
            Err(u) => {
                let (msg, help) = explain(&u, &link.target, what);
                out.diags.push(
                    broken(cx.policy, "unknown-link", msg)
                        .at(&page.source, span)
                        .with_help(help),
                );
                out.fills.push(Some(Fill {
                    href: "#".into(),
                    label: written,
                    broken: true,
                    embed: None,
                }));
            }
        }
    }
    out
}

/// A path of the output as a URL path: spaces and the few characters a URL cannot carry as they
/// are written are percent-encoded.
fn encode_path(path: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const PATH: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}');
    utf8_percent_encode(path, PATH).to_string()
}

/// The files of content/ that are not pages, and the site's static/ folder: what links to files
/// resolve against.
#[derive(Debug, Default)]
pub struct Files {
    /// Where each content file is published (see [`crate::build::asset_output_path`]), by that
    /// path lowercased.
    outputs: HashMap<String, String>,
    /// Published paths by file name, lowercased.
    by_name: HashMap<String, Vec<String>>,
    static_dir: Option<std::path::PathBuf>,
}

impl Files {
    /// `assets` are paths under content/.
    pub fn new(root: Option<&std::path::Path>, assets: &[std::path::PathBuf]) -> Files {
        let mut f = Files {
            static_dir: root.map(|r| r.join("static")),
            ..Files::default()
        };
        for a in assets {
            let out = crate::build::asset_output_path(a);
            let name = out.rsplit('/').next().unwrap_or(&out).to_lowercase();
            f.by_name.entry(name).or_default().push(out.clone());
            f.outputs.insert(out.to_lowercase(), out);
        }
        for v in f.by_name.values_mut() {
            v.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
        }
        f
    }

    /// Where the file `written` (as a page in folder `folder` wrote it) is published: beside the
    /// page, by its path from content/, in static/, or, as Obsidian finds attachments, by its
    /// name anywhere (the one closest to the page, then the shortest path).
    pub fn find(&self, folder: &str, written: &str) -> Option<String> {
        let published = |rel: &str| {
            let out = crate::build::asset_output_path(std::path::Path::new(rel));
            self.outputs.get(&out.to_lowercase()).cloned()
        };
        let beside = crate::markdown::join_path(folder, written);
        if let Some(found) = beside.as_deref().and_then(published) {
            return Some(found);
        }
        if let Some(found) = crate::markdown::join_path("", written)
            .as_deref()
            .and_then(published)
        {
            return Some(found);
        }
        if let (Some(dir), Some(rel)) = (&self.static_dir, &beside) {
            if dir.join(rel).is_file() {
                return Some(rel.clone());
            }
        }
        let tail =
            crate::build::asset_output_path(std::path::Path::new(written.trim_start_matches("./")));
        let name = tail.rsplit('/').next()?.to_lowercase();
        let suffix = format!("/{}", tail.to_lowercase());
        let here: Vec<&str> = folder.split('/').filter(|s| !s.is_empty()).collect();
        self.by_name
            .get(&name)?
            .iter()
            .filter(|p| {
                !tail.contains('/')
                    || p.to_lowercase().ends_with(&suffix)
                    || p.to_lowercase() == tail.to_lowercase()
            })
            .max_by_key(|p| {
                let shared = p.split('/').zip(&here).take_while(|(a, b)| a == *b).count();
                (shared, std::cmp::Reverse(p.len()))
            })
            .cloned()
    }
}

fn ref_error(page: &Page, r: &RefValue, field: &str, u: &Unresolved) -> Diagnostic {
    let (msg, help) = explain(u, &r.target, &format!("field `{field}`:"));
    Diagnostic::error("unknown-ref", msg)
        .at(&page.source, r.span.clone())
        .with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SiteConfig;
    use crate::diagnostics::Source;

    fn pages(files: &[(&str, &str)]) -> Vec<Page> {
        let cfg = SiteConfig::parse(&Source::new(
            "site.yaml",
            "title: T\nkinds:\n  tool: { folder: tools, title: Tools }\n  role: { folder: roles, title: Roles }\n",
        ))
        .unwrap();
        files
            .iter()
            .map(|(path, text)| {
                Page::parse(&cfg, std::path::Path::new(path), Source::new(*path, *text)).0
            })
            .collect()
    }

    /// The lookup a patch keeps up to date is the one made from the pages afterwards.
    #[test]
    fn lookup_follows_pages_that_come_go_and_are_renamed() {
        let files = [
            (
                "tools/doudian.md",
                "---\ntitle: Doudian\naliases: [Shop]\n---\n",
            ),
            ("roles/anchor.md", "---\ntitle: Anchor\n---\n"),
            ("tools/anchor.md", ""),
            ("guide/_index.md", "---\ntitle: Guide\n---\n"),
            ("guide/intro.md", "---\ntitle: Start here\n---\n"),
        ];
        let all = pages(&files);
        let whole = |p: &[Page]| Lookup::new(p).0;
        // Each page taken out, then put back.
        for i in 0..all.len() {
            let mut p = all.clone();
            let mut l = whole(&p);
            let old = p.remove(i);
            assert!(l.remove(&p, i, &old), "remove {i}");
            assert_eq!(l, whole(&p), "after removing {i}");
            p.insert(i, old);
            assert!(l.insert(&p, i), "insert {i}");
            assert_eq!(l, whole(&p), "after putting back {i}");
        }
        // A new title and other names.
        let mut p = all.clone();
        let mut l = whole(&p);
        let old = std::mem::replace(
            &mut p[4],
            pages(&[(
                "guide/intro.md",
                "---\ntitle: First steps\naliases: [Intro, Onboarding]\n---\n",
            )])
            .remove(0),
        );
        assert!(l.update(&p, 4, &old));
        assert_eq!(l, whole(&p));
        assert_eq!(l.resolve("first steps", None), Ok(4));
        assert!(l.resolve("start here", None).is_err());
        // A page that takes an id another has: only a whole lookup reports it.
        let mut p = all.clone();
        let mut l = whole(&p);
        p.insert(0, pages(&[("tools/doudian.md", "")]).remove(0));
        assert!(!l.insert(&p, 0));
    }

    #[test]
    fn resolves_ids_paths_and_slugs() {
        let p = pages(&[
            ("tools/doudian.md", ""),
            ("roles/anchor.md", ""),
            ("tools/anchor.md", ""),
            ("guide/intro.md", ""),
        ]);
        let (l, d) = Lookup::new(&p);
        assert!(d.is_empty());
        assert_eq!(l.resolve("doudian", None), Ok(0));
        assert_eq!(l.resolve("tool/doudian", None), Ok(0));
        assert_eq!(l.resolve("tools/doudian.md", None), Ok(0));
        assert_eq!(l.resolve("Doudian", Some("tool")), Ok(0));
        assert_eq!(l.resolve("anchor", Some("role")), Ok(1));
        assert_eq!(
            l.resolve("anchor", None),
            Err(Unresolved::Ambiguous(vec![
                "role/anchor".into(),
                "tool/anchor".into()
            ]))
        );
        assert!(matches!(
            l.resolve("doudian", Some("role")),
            Err(Unresolved::WrongKind { .. })
        ));
        assert_eq!(
            l.resolve("doudain", None),
            Err(Unresolved::NotFound {
                suggestions: vec!["tool/doudian".into()]
            })
        );
        assert_eq!(l.resolve("intro", None), Ok(3));
        assert_eq!(l.resolve("guide/intro", None), Ok(3));
    }
}
