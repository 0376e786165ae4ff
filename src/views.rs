//! Stage 5: what templates see. Turns pages, their rendered bodies and the graph into explicit,
//! serializable context structs: one per page, per section or kind index, per tag, per matrix.
//!
//! Templates get exactly these values and no function that queries the whole site, so what a page's
//! output depends on is visible here (which is what makes incremental rebuilds possible).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::diagnostics::Diagnostic;

use rayon::prelude::*;
use serde::Serialize;

use crate::config::{SiteConfig, View};
use crate::content::{slugify, Page};
use crate::graph::{self, LinkGraph};
use crate::markdown::{Heading, Rendered};
use crate::schema::{FieldType, Value};

/// A link to a page, as templates see it. Shared: the lists, matrices and paths that show a page
/// hold the one card made for it, so that making the views copies no strings.
#[derive(Debug, Clone)]
pub struct PageRef(Arc<Card>);

impl Serialize for PageRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl std::ops::Deref for PageRef {
    type Target = Card;
    fn deref(&self) -> &Card {
        &self.0
    }
}

/// What a [`PageRef`] shows.
#[derive(Debug, Serialize)]
pub struct Card {
    pub id: String,
    pub kind: Option<String>,
    /// The kind's singular name, for badges.
    pub kind_name: Option<String>,
    pub title: String,
    pub url: String,
    pub summary: String,
}

/// A labelled link.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub title: String,
    pub url: String,
}

/// One kind in the site navigation.
#[derive(Debug, Clone, Serialize)]
pub struct KindNav {
    pub name: String,
    pub title: String,
    pub singular: String,
    pub description: String,
    pub url: String,
}

/// Site-wide values, the same for every page. Kept small: no page lists, and nothing that changes
/// when a page is added or removed (counts live in [`Stats`], which only the home and search pages
/// see), so that a new page does not change every page of the site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteCtx {
    pub title: String,
    pub description: String,
    /// The base path, `/` or `/kb/`: prefix for every internal URL.
    pub base_url: String,
    pub language: String,
    pub kinds: Vec<KindNav>,
    /// Top-level sections that are not kinds.
    pub sections: Vec<Link>,
    pub matrices: Vec<Link>,
    pub tags_url: Option<String>,
    pub extra: serde_json::Value,
}

/// How many pages the site has, in all and per kind: for the home page and the search page only.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Pages that are not section indexes.
    pub pages: usize,
    /// Per kind name: its pages.
    pub kinds: BTreeMap<String, usize>,
}

/// One item of a field in the facts box: text, with a URL when it is a page.
#[derive(Debug, Clone, Serialize)]
pub struct FactItem {
    pub text: String,
    pub url: Option<String>,
}

/// One field shown in a page's facts box.
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub name: String,
    pub label: String,
    pub description: String,
    pub items: Vec<FactItem>,
}

/// Pages linking to this one through one relation.
#[derive(Debug, Clone, Serialize)]
pub struct BacklinkGroup {
    pub relation: String,
    pub label: String,
    pub pages: Vec<PageRef>,
}

/// Where this page sits in a sequence (a learning path).
#[derive(Debug, Clone, Serialize)]
pub struct SequenceNav {
    pub path: PageRef,
    /// 1-based position.
    pub index: usize,
    pub total: usize,
    pub prev: Option<PageRef>,
    pub next: Option<PageRef>,
}

/// One step of a sequence page.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub index: usize,
    pub page: PageRef,
    pub why: String,
}

/// A page as its template sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PageCtx {
    pub id: String,
    pub kind: Option<String>,
    pub kind_title: Option<String>,
    pub kind_name: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub summary: String,
    pub url: String,
    pub content: String,
    pub toc: Vec<Heading>,
    pub tags: Vec<Link>,
    pub date: Option<String>,
    pub updated: Option<String>,
    /// When the page last changed (`YYYY-MM-DD`): `updated`, else its file's last git commit date.
    pub last_updated: Option<String>,
    /// All fields, refs resolved to `{id, kind, title, url}`.
    pub fields: serde_json::Value,
    pub facts: Vec<Fact>,
    pub backlinks: Vec<BacklinkGroup>,
    pub sequences: Vec<SequenceNav>,
    pub steps: Vec<Step>,
    pub prev: Option<PageRef>,
    pub next: Option<PageRef>,
    pub breadcrumbs: Vec<Link>,
    /// Neighbours in the same kind or section, at most a few dozen, for the sidebar.
    pub siblings: Vec<PageRef>,
    /// The kind or section has more pages than `siblings` lists (the rest load from `nav.json`).
    pub siblings_partial: bool,
    pub edit_url: Option<String>,
    pub words: usize,
    pub reading_minutes: usize,
    pub source_path: String,
    /// Classes for the page's article element (`cssclasses:`), class-safe.
    pub cssclasses: Vec<String>,
}

/// A learning path as the home page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PathCard {
    #[serde(flatten)]
    pub page: PageRef,
    /// How many steps it has.
    pub steps: usize,
    /// Its first step.
    pub first: Option<PageRef>,
}

/// A page with the date it last changed, for "recently updated" lists.
#[derive(Debug, Clone, Serialize)]
pub struct Dated {
    #[serde(flatten)]
    pub page: PageRef,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// A group of entries on an index page.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    pub pages: Vec<Entry>,
}

/// One page listed on an index page, with its key facts.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub page: PageRef,
    pub facts: Vec<Fact>,
}

/// A section (folder) or kind index page.
#[derive(Debug, Clone, Serialize)]
pub struct SectionCtx {
    pub title: String,
    pub description: Option<String>,
    pub url: String,
    pub content: String,
    pub toc: Vec<Heading>,
    pub kind: Option<String>,
    pub group_by: Option<String>,
    pub groups: Vec<Group>,
    pub subsections: Vec<Link>,
    pub breadcrumbs: Vec<Link>,
    pub count: usize,
}

/// One matrix view.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixCtx {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub url: String,
    pub row_kind: String,
    pub col_kind: String,
    pub via: Option<String>,
    /// Small enough to show as a table. A larger matrix would put rows x columns cells on one page,
    /// so it is shown as a list: each row with the columns it connects to.
    pub table: bool,
    /// The columns (only for a table).
    pub cols: Vec<PageRef>,
    pub rows: Vec<MatrixRow>,
}

/// Matrices up to this many cells render as tables.
pub const MAX_TABLE_CELLS: usize = 10_000;

/// One row of a matrix: every cell for a table, or only the connected columns for a list.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub page: PageRef,
    pub cells: Vec<MatrixCell>,
    pub links: Vec<MatrixLink>,
}

/// A connected column of a row, in the list form of a large matrix.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixLink {
    pub col: PageRef,
    pub cell: MatrixCell,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatrixCell {
    /// Pages that connect the row and the column (the `via` pages).
    pub pages: Vec<PageRef>,
    /// Without `via`: the row and column reference each other directly.
    pub direct: bool,
}

/// A tag and its pages.
#[derive(Debug, Clone, Serialize)]
pub struct TagCtx {
    pub name: String,
    pub slug: String,
    pub url: String,
    pub pages: Vec<PageRef>,
}

/// A tag as the list of tags shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TagSummary<'a> {
    pub name: &'a str,
    pub slug: &'a str,
    pub url: &'a str,
    /// How many pages have it.
    pub count: usize,
}

impl<'a> TagSummary<'a> {
    pub fn of(t: &'a TagCtx) -> TagSummary<'a> {
        TagSummary {
            name: &t.name,
            slug: &t.slug,
            url: &t.url,
            count: t.pages.len(),
        }
    }
}

/// Everything templates need, computed once per build.
pub struct Views {
    pub site: SiteCtx,
    pub stats: Stats,
    pub page_refs: Vec<PageRef>,
    pub sections: Vec<(String, SectionCtx)>,
    pub tags: Vec<TagCtx>,
    pub matrices: Vec<MatrixCtx>,
    /// Per page: the sequences it is a step of.
    pub sequences: Vec<Vec<SequenceNav>>,
    /// Per page: prev/next inside its kind or section.
    pub neighbours: Vec<(Option<usize>, Option<usize>)>,
    /// Per section URL: its non-section pages, ordered.
    pub members: HashMap<String, Vec<usize>>,
    /// Per kind: its pages wherever they live, ordered.
    pub by_kind: HashMap<String, Vec<usize>>,
    /// Learning paths (pages of a kind with a `sequence`) for the home page's "where to start".
    pub paths: Vec<PathCard>,
    /// Recently updated pages, newest first.
    pub recent: Vec<Dated>,
    /// Every folder that is a section, with its `_index.md` page if it has one.
    pub section_index: BTreeMap<String, Option<usize>>,
    /// Per section folder (slugified path): the folder's name as written, for its title.
    pub folder_names: BTreeMap<String, String>,
    /// Per page: the redirects its names make, as (index in `page.names`, output file): one at the
    /// page's sibling URL `<folder>/<slug of the name>/` for each name whose URL nothing else takes.
    pub name_redirects: Vec<Vec<(usize, String)>>,
    /// What building the views found to warn about (a name whose redirect is left out...).
    pub warnings: Vec<Diagnostic>,
}

/// A page's tags: its front-matter tags, then the inline `#tags` of its body, one per slug (the first
/// spelling wins) and none without a slug.
pub fn page_tags(page: &Page, rendered: &Rendered) -> Vec<String> {
    tags_with_slugs(page, rendered)
        .into_iter()
        .map(|(t, _)| t.to_string())
        .collect()
}

/// [`page_tags`], each as written and with its slug.
fn tags_with_slugs<'a>(page: &'a Page, rendered: &'a Rendered) -> Vec<(&'a str, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    let all = page
        .tags
        .iter()
        .map(String::as_str)
        .chain(rendered.tags.iter().map(|(t, _)| t.trim_start_matches('#')));
    for t in all {
        let slug = slugify(t);
        if slug.is_empty() || out.iter().any(|(_, s)| *s == slug) {
            continue;
        }
        out.push((t, slug));
    }
    out
}

/// The file name of a page without `.md`, as written.
fn file_stem(p: &Page) -> &str {
    let name = p.rel_path.rsplit('/').next().unwrap_or(&p.rel_path);
    match name.len().checked_sub(3) {
        Some(n) if name.is_char_boundary(n) && name[n..].eq_ignore_ascii_case(".md") => &name[..n],
        _ => name,
    }
}

/// The folder a page's file is in, as written (`` at the root).
fn folder_as_written(p: &Page) -> &str {
    p.rel_path.rsplit_once('/').map_or("", |(f, _)| f)
}

/// The display title of every page: `title:`, else a leading H1, else the file name as written (the
/// folder's name for a section's index page).
pub fn titles(pages: &[Page], rendered: &[Rendered]) -> Vec<String> {
    pages
        .iter()
        .zip(rendered)
        .map(|(p, r)| title(p, r))
        .collect()
}

/// One page's display title (see [`titles`]).
pub fn title(p: &Page, r: &Rendered) -> String {
    p.title
        .clone()
        .or_else(|| r.title.clone())
        .unwrap_or_else(|| {
            let stem = file_stem(p);
            // An `index.md` is titled by its folder; any other file (a page that a permalink made its
            // folder's index) by its own name.
            if !(p.is_section && (stem == "index" || stem == "_index")) {
                return stem.to_string();
            }
            match folder_as_written(p).rsplit('/').next() {
                Some(name) if !name.is_empty() => name.to_string(),
                _ => "Home".into(),
            }
        })
}

/// An enum value as a reader sees it: `daily-sales` -> `Daily sales`.
pub fn humanize(value: &str) -> String {
    let spaced = value.replace(['-', '_'], " ");
    let mut c = spaced.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn title_case(s: &str) -> String {
    let words: Vec<String> = s
        .split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    words.join(" ")
}

/// Order pages by weight, then title.
fn sort_pages(idx: &mut [usize], pages: &[Page], titles: &[String]) {
    // Each key once (a title lowercased per comparison costs more than the sort).
    idx.sort_by_cached_key(|&a| {
        (
            pages[a].weight.unwrap_or(i64::MAX),
            titles[a].to_lowercase(),
            pages[a].id.clone(),
        )
    });
}

/// Every page's index in list order (see [`sort_pages`]): lists made by walking the pages in this
/// order come out sorted, with one sort for the site instead of one per list.
fn list_order(pages: &[Page], titles: &[String]) -> Vec<usize> {
    let mut all: Vec<usize> = (0..pages.len()).collect();
    sort_pages(&mut all, pages, titles);
    all
}

/// At most this many learning paths are offered on the home page.
const MAX_HOME_PATHS: usize = 6;

/// How many neighbours of the current page the sidebar lists (the rest load from `nav.json`).
pub const SIDEBAR_WINDOW: usize = 30;

/// Build all template data.
pub fn build(
    config: &SiteConfig,
    pages: &[Page],
    rendered: &[Rendered],
    titles: &[String],
    graph: &LinkGraph,
) -> Views {
    let page_refs: Vec<PageRef> = pages
        .iter()
        .zip(rendered)
        .zip(titles)
        .map(|((p, r), t)| page_ref(config, p, r, t))
        .collect();
    build_with_refs(config, pages, rendered, titles, graph, page_refs, true)
}

/// Fill in what [`build_with_refs`] leaves out without `lists`: the entries of every section and
/// kind index, and the cells of every matrix. They show every page of a kind with its facts, so
/// `serve` makes them after the pages an edit changed have been sent.
pub fn fill_lists(views: &mut Views, config: &SiteConfig, pages: &[Page], graph: &LinkGraph) {
    let base = config.base_path();
    let groups: Vec<Vec<Group>> = views
        .sections
        .par_iter()
        .map(|(folder, section)| {
            let list: Vec<usize> = match &section.kind {
                Some(k) => views.by_kind.get(k).cloned().unwrap_or_default(),
                None => views.members.get(folder).cloned().unwrap_or_default(),
            };
            group_entries(
                config,
                pages,
                &list,
                &views.page_refs,
                section.group_by.as_deref(),
                graph,
                section.kind.as_deref(),
            )
        })
        .collect();
    for ((_, section), g) in views.sections.iter_mut().zip(groups) {
        section.groups = g;
    }
    views.matrices = config
        .views
        .iter()
        .map(|View { matrix: m }| {
            matrix_ctx(
                m,
                &views.by_kind,
                &graph.refs,
                &views.page_refs,
                &base,
                true,
            )
        })
        .collect();
}

/// How templates show a link to one page.
pub fn page_ref(config: &SiteConfig, p: &Page, r: &Rendered, title: &str) -> PageRef {
    PageRef(Arc::new(Card {
        id: p.id.clone(),
        kind: p.kind.clone(),
        kind_name: p.kind.as_deref().map(|k| config.singular(k).to_string()),
        title: title.to_string(),
        url: format!("{}{}", config.base_path(), p.url),
        summary: p
            .description
            .clone()
            .unwrap_or_else(|| truncate_words(&r.summary, 40)),
    }))
}

/// [`build`], with every page's [`PageRef`] made already (`serve` keeps those of unchanged pages).
pub fn build_with_refs(
    config: &SiteConfig,
    pages: &[Page],
    rendered: &[Rendered],
    titles: &[String],
    graph: &LinkGraph,
    page_refs: Vec<PageRef>,
    lists: bool,
) -> Views {
    let base = config.base_path();
    // Walked in list order, so that every list below comes out sorted.
    let order = list_order(pages, titles);
    // Sections: every folder that holds pages, with or without an _index.md.
    let mut section_pages: BTreeMap<String, Option<usize>> = BTreeMap::new();
    let mut members: HashMap<String, Vec<usize>> = HashMap::new();
    let mut folder_names: BTreeMap<String, String> = BTreeMap::new();
    // Pages share folders: each folder as written, and each section, is looked at once.
    let mut folders_seen: HashSet<&str> = HashSet::new();
    let mut sections_seen: HashSet<&str> = HashSet::new();
    for p in pages {
        // The name as written of each folder on the way to the page, by its slugified path (the
        // first page's spelling wins).
        if folders_seen.insert(folder_as_written(p)) {
            let mut path = String::new();
            for name in folder_as_written(p).split('/') {
                let slug = slugify(name);
                if slug.is_empty() {
                    continue;
                }
                if !path.is_empty() {
                    path.push('/');
                }
                path.push_str(&slug);
                folder_names
                    .entry(path.clone())
                    .or_insert_with(|| name.to_string());
            }
        }
    }
    for &i in &order {
        let p = &pages[i];
        if p.is_section {
            section_pages.insert(p.section.clone(), Some(i));
        } else if let Some(list) = members.get_mut(&p.section) {
            list.push(i);
        } else {
            members.insert(p.section.clone(), vec![i]);
        }
        // Every ancestor folder is a section too.
        if sections_seen.insert(&p.section) {
            let mut folder = p.section.as_str();
            loop {
                section_pages.entry(folder.to_string()).or_insert(None);
                match folder.rfind('/') {
                    Some(j) => folder = &folder[..j],
                    None if !folder.is_empty() => folder = "",
                    None => break,
                }
            }
        }
    }
    let kind_of_folder = |section: &str| -> Option<String> {
        config
            .kinds
            .iter()
            .find(|(_, k)| k.folder.trim_matches('/') == section)
            .map(|(n, _)| n.clone())
    };

    // Kinds: their pages wherever they live.
    let mut by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
    for &i in &order {
        let p = &pages[i];
        if let (Some(k), false) = (&p.kind, p.is_section) {
            by_kind.entry(k.as_str()).or_default().push(i);
        }
    }

    let kinds: Vec<KindNav> = config
        .kinds
        .iter()
        .map(|(name, k)| KindNav {
            name: name.clone(),
            title: k.title.clone(),
            singular: config.singular(name).to_string(),
            description: k.description.clone(),
            url: format!("{base}{}/", k.folder.trim_matches('/')),
        })
        .collect();

    // Tags.
    // The tag that names the first page in discovery order (the first spelling wins), its pages in
    // list order.
    let mut tag_map: BTreeMap<String, (String, usize, Vec<usize>)> = BTreeMap::new();
    for &i in &order {
        for (t, slug) in tags_with_slugs(&pages[i], &rendered[i]) {
            match tag_map.get_mut(&slug) {
                Some(entry) => {
                    if i < entry.1 {
                        (entry.0, entry.1) = (t.to_string(), i);
                    }
                    entry.2.push(i);
                }
                None => {
                    tag_map.insert(slug, (t.to_string(), i, vec![i]));
                }
            }
        }
    }
    let tags: Vec<TagCtx> = tag_map
        .into_iter()
        .map(|(slug, (name, _, idx))| TagCtx {
            url: format!("{base}tags/{slug}/"),
            name,
            slug,
            pages: idx.iter().map(|&i| page_refs[i].clone()).collect(),
        })
        .collect();

    // Matrices: the cells only with the lists (see [`fill_lists`]).
    let matrices: Vec<MatrixCtx> = config
        .views
        .iter()
        .map(|View { matrix: m }| matrix_ctx(m, &by_kind, &graph.refs, &page_refs, &base, lists))
        .collect();

    // Sequences (learning paths).
    let mut sequences: Vec<Vec<SequenceNav>> = vec![Vec::new(); pages.len()];
    for (i, p) in pages.iter().enumerate() {
        let steps = sequence_steps(config, p, graph);
        let total = steps.len();
        for (n, (t, _)) in steps.iter().enumerate() {
            sequences[*t].push(SequenceNav {
                path: page_refs[i].clone(),
                index: n + 1,
                total,
                prev: n.checked_sub(1).map(|k| page_refs[steps[k].0].clone()),
                next: steps.get(n + 1).map(|s| page_refs[s.0].clone()),
            });
        }
    }

    // Prev/next: inside the kind for typed pages, else inside the folder.
    let mut neighbours = vec![(None, None); pages.len()];
    for list in by_kind.values().chain(
        members
            .values()
            .filter(|l| l.first().is_some_and(|&i| pages[i].kind.is_none())),
    ) {
        for (n, &i) in list.iter().enumerate() {
            if pages[i].kind.is_none() && list.first().is_some_and(|&f| pages[f].kind.is_some()) {
                continue;
            }
            neighbours[i] = (n.checked_sub(1).map(|k| list[k]), list.get(n + 1).copied());
        }
    }

    // Section contexts.
    // Each section on its own thread: a kind's index lists every page of the kind with its facts.
    let folders: Vec<(&String, &Option<usize>)> = section_pages.iter().collect();
    let sections: Vec<(String, SectionCtx)> = folders
        .par_iter()
        .map(|&(folder, index_page)| {
            let kind = kind_of_folder(folder);
            let title = match (index_page, &kind) {
                (Some(i), _) if pages[*i].title.is_some() || rendered[*i].title.is_some() => {
                    titles[*i].clone()
                }
                (_, Some(k)) => config.kinds[k].title.clone(),
                (Some(i), None) => titles[*i].clone(),
                (None, None) if folder.is_empty() => config.title.clone(),
                (None, None) => folder_title(&folder_names, folder),
            };
            let list: Vec<usize> = match &kind {
                Some(k) => by_kind.get(k.as_str()).cloned().unwrap_or_default(),
                None => members.get(folder).cloned().unwrap_or_default(),
            };
            let group_by = kind
                .as_deref()
                .and_then(|k| config.kinds[k].index.group_by.clone());
            let groups = if lists {
                group_entries(
                    config,
                    pages,
                    &list,
                    &page_refs,
                    group_by.as_deref(),
                    graph,
                    kind.as_deref(),
                )
            } else {
                Vec::new()
            };
            let subsections = section_pages
                .keys()
                .filter(|s| {
                    !s.is_empty()
                        && *s != folder
                        && match folder.is_empty() {
                            true => !s.contains('/'),
                            false => s
                                .strip_prefix(folder.as_str())
                                .and_then(|r| r.strip_prefix('/'))
                                .is_some_and(|r| !r.contains('/')),
                        }
                })
                .map(|s| Link {
                    title: match section_pages[s] {
                        Some(i) => titles[i].clone(),
                        None => kind_of_folder(s)
                            .map(|k| config.kinds[&k].title.clone())
                            .unwrap_or_else(|| folder_title(&folder_names, s)),
                    },
                    url: format!("{base}{s}/"),
                })
                .collect();
            let url = if folder.is_empty() {
                base.clone()
            } else {
                format!("{base}{folder}/")
            };
            (
                folder.clone(),
                SectionCtx {
                    title,
                    description: index_page
                        .and_then(|i| pages[i].description.clone())
                        .or_else(|| kind.as_deref().map(|k| config.kinds[k].description.clone())),
                    url,
                    content: String::new(),
                    toc: index_page
                        .map(|i| rendered[i].headings.clone())
                        .unwrap_or_default(),
                    kind: kind.clone(),
                    group_by,
                    count: list.len(),
                    groups,
                    subsections,
                    breadcrumbs: breadcrumbs(
                        config,
                        folder,
                        &section_pages,
                        &folder_names,
                        titles,
                        true,
                    ),
                },
            )
        })
        .collect();

    let changed = |i: usize| {
        pages[i]
            .last_updated
            .as_deref()
            .or(pages[i].date.as_deref())
            .map(|d| d.chars().take(10).collect::<String>())
    };
    let mut recent: Vec<(String, usize)> = (0..pages.len())
        .filter(|&i| !pages[i].is_section)
        .filter_map(|i| changed(i).map(|d| (d, i)))
        .collect();
    recent.sort_by(|(da, a), (db, b)| db.cmp(da).then_with(|| titles[*a].cmp(&titles[*b])));
    let recent = recent
        .into_iter()
        .take(8)
        .map(|(date, i)| Dated {
            page: page_refs[i].clone(),
            date,
        })
        .collect();

    let top_sections: Vec<Link> = sections
        .iter()
        .filter(|(f, s)| !f.is_empty() && !f.contains('/') && s.kind.is_none())
        .map(|(_, s)| Link {
            title: s.title.clone(),
            url: s.url.clone(),
        })
        .collect();
    let site = SiteCtx {
        title: config.title.clone(),
        description: config.description.clone(),
        base_url: base.clone(),
        language: config.language.clone(),
        kinds,
        sections: top_sections,
        matrices: matrices
            .iter()
            .map(|m| Link {
                title: m.title.clone(),
                url: m.url.clone(),
            })
            .collect(),
        tags_url: (!tags.is_empty()).then(|| format!("{base}tags/")),
        extra: crate::schema::yaml_to_json(&serde_yaml::Value::Mapping(config.extra.clone())),
    };
    let stats = Stats {
        pages: pages.iter().filter(|p| !p.is_section).count(),
        kinds: config
            .kinds
            .keys()
            .map(|k| (k.clone(), by_kind.get(k.as_str()).map_or(0, Vec::len)))
            .collect(),
    };
    let paths = config
        .kinds
        .iter()
        .filter(|(_, k)| k.sequence.is_some())
        .flat_map(|(name, _)| by_kind.get(name.as_str()).map(Vec::as_slice).unwrap_or(&[]))
        .filter_map(|&i| {
            let steps = sequence_steps(config, &pages[i], graph);
            let first = steps.first().map(|&(t, _)| page_refs[t].clone());
            (!steps.is_empty()).then(|| PathCard {
                page: page_refs[i].clone(),
                steps: steps.len(),
                first,
            })
        })
        .take(MAX_HOME_PATHS)
        .collect();
    let by_kind = by_kind
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let (name_redirects, warnings) = name_redirects(pages, &section_pages, &tags, &matrices);
    Views {
        site,
        stats,
        page_refs,
        sections,
        tags,
        matrices,
        sequences,
        neighbours,
        members,
        by_kind,
        paths,
        recent,
        section_index: section_pages,
        folder_names,
        name_redirects,
        warnings,
    }
}

/// One matrix view. Without `lists`, only what names it (its cells come with [`fill_lists`]).
fn matrix_ctx<K: std::borrow::Borrow<str> + std::hash::Hash + Eq>(
    m: &crate::config::MatrixConfig,
    by_kind: &HashMap<K, Vec<usize>>,
    outgoing: &[Vec<usize>],
    page_refs: &[PageRef],
    base: &str,
    lists: bool,
) -> MatrixCtx {
    let (rows, cols) = if lists {
        (
            by_kind.get(m.rows.as_str()).cloned().unwrap_or_default(),
            by_kind.get(m.cols.as_str()).cloned().unwrap_or_default(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let col_pos: HashMap<usize, usize> = cols.iter().enumerate().map(|(j, &c)| (c, j)).collect();
    let row_pos: HashMap<usize, usize> = rows.iter().enumerate().map(|(j, &r)| (r, j)).collect();
    // Sparse first: row -> column -> connecting pages (empty for a direct link).
    let mut sparse: Vec<BTreeMap<usize, Vec<usize>>> = vec![BTreeMap::new(); rows.len()];
    match &m.via {
        Some(via) => {
            for &v in by_kind.get(via.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                let mut rs: Vec<usize> = outgoing[v]
                    .iter()
                    .filter_map(|t| row_pos.get(t).copied())
                    .collect();
                let mut cs: Vec<usize> = outgoing[v]
                    .iter()
                    .filter_map(|t| col_pos.get(t).copied())
                    .collect();
                rs.sort_unstable();
                rs.dedup();
                cs.sort_unstable();
                cs.dedup();
                for &r in &rs {
                    for &c in &cs {
                        sparse[r].entry(c).or_default().push(v);
                    }
                }
            }
        }
        None => {
            for (ri, &r) in rows.iter().enumerate() {
                for t in &outgoing[r] {
                    if let Some(&c) = col_pos.get(t) {
                        sparse[ri].entry(c).or_default();
                    }
                }
            }
            for (ci, &c) in cols.iter().enumerate() {
                for t in &outgoing[c] {
                    if let Some(&r) = row_pos.get(t) {
                        sparse[r].entry(ci).or_default();
                    }
                }
            }
        }
    }
    let table = rows.len() * cols.len() <= MAX_TABLE_CELLS;
    let cell = |pages: Option<&Vec<usize>>| MatrixCell {
        direct: pages.is_some_and(Vec::is_empty),
        pages: pages
            .map(|p| p.iter().map(|&v| page_refs[v].clone()).collect())
            .unwrap_or_default(),
    };
    let matrix_rows = rows
        .iter()
        .zip(&sparse)
        .map(|(&r, row)| MatrixRow {
            page: page_refs[r].clone(),
            cells: if table {
                (0..cols.len()).map(|c| cell(row.get(&c))).collect()
            } else {
                Vec::new()
            },
            links: if table {
                Vec::new()
            } else {
                row.iter()
                    .map(|(&c, pages)| MatrixLink {
                        col: page_refs[cols[c]].clone(),
                        cell: cell(Some(pages)),
                    })
                    .collect()
            },
        })
        .collect();
    MatrixCtx {
        slug: m.slug.clone(),
        title: m.title.clone(),
        description: m.description.clone(),
        url: format!("{base}matrices/{}/", slugify(&m.slug)),
        row_kind: m.rows.clone(),
        col_kind: m.cols.clone(),
        via: m.via.clone(),
        table,
        cols: if table {
            cols.iter().map(|&c| page_refs[c].clone()).collect()
        } else {
            Vec::new()
        },
        rows: matrix_rows,
    }
}

/// The redirects the pages' names make (see [`Views::name_redirects`]), and a warning for each name
/// whose URL something else already takes: a page, a section or kind index, the tags, a matrix, the
/// search index, an alias or an earlier name. Such a name stays a name of the page (links by it
/// work); it only makes no redirect. A name whose URL is the page's own makes none either, silently.
fn name_redirects<'a>(
    pages: &'a [Page],
    sections: &'a BTreeMap<String, Option<usize>>,
    tags: &'a [TagCtx],
    matrices: &'a [MatrixCtx],
) -> (Vec<Vec<(usize, String)>>, Vec<Diagnostic>) {
    // Every URL path (no slash at the ends) with what takes it (and the page that redirects from it,
    // for an alias), first taker kept. What takes it is put in words only for a warning.
    enum Taker<'a> {
        Page(&'a Page),
        Section(&'a str),
        Tags,
        Tag(&'a str),
        Matrix(&'a str),
        Alias(&'a str, &'a Page),
        Name(String),
    }
    impl Taker<'_> {
        fn describe(&self) -> String {
            match self {
                Taker::Page(p) => format!("the page content/{}", p.rel_path),
                Taker::Section(f) => format!("the index of section `{f}`"),
                Taker::Tags => "the list of tags".into(),
                Taker::Tag(t) => format!("the page of tag `{t}`"),
                Taker::Matrix(m) => format!("the matrix `{m}`"),
                Taker::Alias(a, p) => format!("the alias `{a}` of content/{}", p.rel_path),
                Taker::Name(n) => n.clone(),
            }
        }
    }
    // Only the URLs that names would take are looked up: keep only those.
    let wanted: HashSet<String> = pages
        .iter()
        .flat_map(|p| p.names.iter().map(move |n| name_url(p, n)))
        .filter(|u| !u.is_empty())
        .collect();
    if wanted.is_empty() {
        return (vec![Vec::new(); pages.len()], Vec::new());
    }
    let mut taken: HashMap<String, (Option<usize>, Taker)> = HashMap::new();
    let mut take = |url: &str, page: Option<usize>, by: Taker<'a>| {
        let url = url.trim_matches('/');
        if wanted.contains(url) && !taken.contains_key(url) {
            taken.insert(url.to_string(), (page, by));
        }
    };
    for p in pages {
        take(&p.url, None, Taker::Page(p));
    }
    for folder in sections.keys() {
        take(folder, None, Taker::Section(folder));
    }
    if !tags.is_empty() {
        take("tags", None, Taker::Tags);
    }
    for t in tags {
        take(&format!("tags/{}", t.slug), None, Taker::Tag(&t.name));
    }
    for m in matrices {
        take(
            &format!("matrices/{}", slugify(&m.slug)),
            None,
            Taker::Matrix(&m.slug),
        );
    }
    for (i, p) in pages.iter().enumerate() {
        for a in &p.aliases {
            take(a, Some(i), Taker::Alias(a, p));
        }
    }
    let mut redirects = vec![Vec::new(); pages.len()];
    let mut warnings = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        for (n, name) in p.names.iter().enumerate() {
            let url = name_url(p, name);
            if url.is_empty() {
                continue;
            }
            if url == p.url.trim_end_matches('/') {
                continue;
            }
            let search_dir =
                url == crate::search::DIR || url.starts_with(&format!("{}/", crate::search::DIR));
            let holder = match taken.get(&url) {
                // The page redirects from there already (another of its aliases).
                Some((Some(j), _)) if *j == i => continue,
                Some((_, by)) => Some(by.describe()),
                None if search_dir => Some("the search index".to_string()),
                None => None,
            };
            if let Some(by) = holder {
                warnings.push(
                    Diagnostic::warning(
                        "alias-taken",
                        format!("the alias `{name}` makes no redirect: its URL /{url}/ is taken by {by}"),
                    )
                    .at(&p.source, alias_span(p, name))
                    .with_help("links by this name still reach the page; to redirect an old URL, write it as a path alias, such as `/old-name/`"),
                );
                continue;
            }
            let by = Taker::Name(format!("the alias `{name}` of content/{}", p.rel_path));
            taken.insert(url.clone(), (Some(i), by));
            redirects[i].push((n, format!("{url}/index.html")));
        }
    }
    (redirects, warnings)
}

/// The URL path a page's name redirects from (empty when the name has no slug): beside the page (in
/// its folder, or beside its folder for a section's index page) for a name, from the top for a path
/// (`Folder/Old name`).
fn name_url(p: &Page, name: &str) -> String {
    if name.contains('/') {
        let parts: Vec<String> = name
            .split('/')
            .map(slugify)
            .filter(|s| !s.is_empty())
            .collect();
        return parts.join("/");
    }
    let folder = match (p.is_section, p.section.rsplit_once('/')) {
        (false, _) => p.section.as_str(),
        (true, Some((parent, _))) => parent,
        (true, None) => "",
    };
    match (folder, slugify(name)) {
        (_, s) if s.is_empty() => s,
        ("", s) => s,
        (f, s) => format!("{f}/{s}"),
    }
}

/// Where `name` is written in a page's front matter (the front matter's start if it is not found).
fn alias_span(p: &Page, name: &str) -> std::ops::Range<usize> {
    let yaml = crate::content::split_front_matter(&p.source.text)
        .ok()
        .and_then(|s| s.yaml)
        .unwrap_or(0..0);
    let text = p.source.text.get(yaml.clone()).unwrap_or("");
    let from = text.find("alias").unwrap_or(0);
    match text[from..].find(name) {
        Some(at) => yaml.start + from + at..yaml.start + from + at + name.len(),
        None => yaml.start..yaml.start,
    }
}

/// The (target page, why) steps of a sequence page; empty for other pages.
fn sequence_steps(config: &SiteConfig, p: &Page, graph: &LinkGraph) -> Vec<(usize, String)> {
    let Some(field) = p
        .kind
        .as_deref()
        .and_then(|k| config.kinds[k].sequence.as_deref())
    else {
        return Vec::new();
    };
    let Some(Value::List(items)) = p.fields.get(field) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let (r, why) = match item {
                Value::Ref(r) => (r, String::new()),
                Value::Object(m) => match m.get("page") {
                    Some(Value::Ref(r)) => (
                        r,
                        m.get("why")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    ),
                    _ => return None,
                },
                _ => return None,
            };
            graph
                .lookup
                .resolve(&r.target, r.to.as_deref())
                .ok()
                .map(|t| (t, why))
        })
        .collect()
}

fn group_entries(
    config: &SiteConfig,
    pages: &[Page],
    list: &[usize],
    refs: &[PageRef],
    group_by: Option<&str>,
    graph: &LinkGraph,
    kind: Option<&str>,
) -> Vec<Group> {
    let entry = |i: usize| Entry {
        page: refs[i].clone(),
        facts: facts(config, &pages[i], refs, graph, true),
    };
    let Some(field) = group_by else {
        return vec![Group {
            name: String::new(),
            pages: list.iter().map(|&i| entry(i)).collect(),
        }];
    };
    let def = kind.and_then(|k| config.kinds[k].fields.get(field));
    // Group names in a stable order: enum values as declared, refs by the target's order.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    if let Some(d) = def.filter(|d| d.ty == FieldType::Enum) {
        groups = d.values.iter().map(|v| (v.clone(), Vec::new())).collect();
    }
    let mut other = Vec::new();
    for &i in list {
        let names: Vec<String> = match pages[i].fields.get(field) {
            Some(v) if !v.refs().is_empty() => v
                .refs()
                .iter()
                .filter_map(|r| graph.lookup.resolve(&r.target, r.to.as_deref()).ok())
                .map(|t| refs[t].title.clone())
                .collect(),
            Some(Value::Str(s)) => vec![s.clone()],
            Some(Value::List(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        if names.is_empty() {
            other.push(i);
        }
        for n in names {
            match groups.iter_mut().find(|(g, _)| *g == n) {
                Some((_, v)) => v.push(i),
                None => groups.push((n, vec![i])),
            }
        }
    }
    let enum_values = def.is_some_and(|d| {
        d.ty == FieldType::Enum || d.of.as_deref().is_some_and(|o| o.ty == FieldType::Enum)
    });
    if enum_values {
        for (name, _) in &mut groups {
            *name = humanize(name);
        }
    }
    if !other.is_empty() {
        groups.push(("Other".into(), other));
    }
    groups
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, v)| Group {
            name,
            pages: v.into_iter().map(entry).collect(),
        })
        .collect()
}

/// The facts box of a page: its schema fields in declared order, as text or links.
/// `brief` keeps only short fields (enums, refs, strings), for index entries.
pub fn facts(
    config: &SiteConfig,
    page: &Page,
    refs: &[PageRef],
    graph: &LinkGraph,
    brief: bool,
) -> Vec<Fact> {
    let Some(kind) = page.kind.as_deref().and_then(|k| config.kinds.get(k)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, def) in &kind.fields {
        if kind.sequence.as_deref() == Some(name.as_str())
            || def.ty == FieldType::Object
            || def.ty == FieldType::Text
        {
            continue;
        }
        if brief && def.ty == FieldType::String && !def.searchable {
            continue;
        }
        let Some(value) = page.fields.get(name) else {
            continue;
        };
        let item_def = match def.ty {
            FieldType::List => def.of.as_deref().unwrap_or(def),
            _ => def,
        };
        let is_enum = item_def.ty == FieldType::Enum;
        let mut items = Vec::new();
        let mut push = |v: &Value| match v {
            Value::Ref(r) => match graph.lookup.resolve(&r.target, r.to.as_deref()) {
                Ok(t) => items.push(FactItem {
                    text: refs[t].title.clone(),
                    url: Some(refs[t].url.clone()),
                }),
                Err(_) => items.push(FactItem {
                    text: r.target.clone(),
                    url: None,
                }),
            },
            Value::Str(s) if def.ty == FieldType::Url => items.push(FactItem {
                text: s.clone(),
                url: Some(s.clone()),
            }),
            Value::Str(s) if is_enum => items.push(FactItem {
                text: humanize(s),
                url: None,
            }),
            Value::Str(s) => items.push(FactItem {
                text: s.clone(),
                url: None,
            }),
            Value::Int(i) => items.push(FactItem {
                text: i.to_string(),
                url: None,
            }),
            Value::Number(f) => items.push(FactItem {
                text: f.to_string(),
                url: None,
            }),
            Value::Bool(b) => items.push(FactItem {
                text: if *b { "yes".into() } else { "no".into() },
                url: None,
            }),
            _ => {}
        };
        match value {
            Value::List(vs) => vs.iter().for_each(&mut push),
            v => push(v),
        }
        if items.is_empty() {
            continue;
        }
        out.push(Fact {
            name: name.clone(),
            label: def.label.clone().unwrap_or_else(|| title_case(name)),
            description: def.description.clone(),
            items,
        });
    }
    out
}

/// Field values for templates: JSON with references replaced by `{id, kind, title, url}`.
pub fn fields_json(page: &Page, refs: &[PageRef], graph: &LinkGraph) -> serde_json::Value {
    fn conv(v: &Value, refs: &[PageRef], graph: &LinkGraph) -> serde_json::Value {
        match v {
            Value::Ref(r) => match graph.lookup.resolve(&r.target, r.to.as_deref()) {
                Ok(t) => {
                    serde_json::json!({ "id": refs[t].id, "kind": refs[t].kind, "title": refs[t].title, "url": refs[t].url })
                }
                Err(_) => serde_json::Value::Null,
            },
            Value::List(items) => items.iter().map(|x| conv(x, refs, graph)).collect(),
            Value::Object(m) => m
                .iter()
                .map(|(k, x)| (k.clone(), conv(x, refs, graph)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            Value::Str(s) => s.clone().into(),
            Value::Int(i) => (*i).into(),
            Value::Number(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Bool(b) => (*b).into(),
            Value::Raw(j) => j.clone(),
        }
    }
    page.fields
        .iter()
        .map(|(k, v)| (k.clone(), conv(v, refs, graph)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Home > Section > Subsection links for a folder.
fn breadcrumbs(
    config: &SiteConfig,
    folder: &str,
    sections: &BTreeMap<String, Option<usize>>,
    folder_names: &BTreeMap<String, String>,
    titles: &[String],
    include_self: bool,
) -> Vec<Link> {
    let base = config.base_path();
    let mut out = vec![Link {
        title: "Home".into(),
        url: base.clone(),
    }];
    if folder.is_empty() {
        return if include_self { out } else { Vec::new() };
    }
    let parts: Vec<&str> = folder.split('/').collect();
    let upto = if include_self {
        parts.len()
    } else {
        parts.len() - 1
    };
    for n in 1..=upto {
        let path = parts[..n].join("/");
        let title = match sections.get(&path).copied().flatten() {
            Some(i) => titles[i].clone(),
            None => config
                .kinds
                .values()
                .find(|k| k.folder.trim_matches('/') == path)
                .map(|k| k.title.clone())
                .unwrap_or_else(|| folder_title(folder_names, &path)),
        };
        out.push(Link {
            title,
            url: format!("{base}{path}/"),
        });
    }
    out
}

/// Build one page's template context.
#[allow(clippy::too_many_arguments)]
pub fn page_ctx(
    config: &SiteConfig,
    views: &Views,
    pages: &[Page],
    titles: &[String],
    i: usize,
    rendered: &Rendered,
    html: String,
    graph: &LinkGraph,
) -> PageCtx {
    let p = &pages[i];
    let refs = &views.page_refs;
    let kind = p.kind.as_deref().and_then(|k| config.kinds.get(k));
    let base = config.base_path();
    let mut groups: Vec<BacklinkGroup> = Vec::new();
    for b in &graph.backlinks[i] {
        let from_kind = pages[b.from].kind.as_deref();
        let label = if &*b.relation == graph::MENTIONS {
            "Mentioned in".to_string()
        } else {
            let kt = from_kind
                .and_then(|k| config.kinds.get(k))
                .map_or("Pages".to_string(), |k| k.title.clone());
            format!("{kt} · {}", b.relation.replace('_', " "))
        };
        match groups.iter_mut().find(|g| g.label == label) {
            Some(g) => g.pages.push(refs[b.from].clone()),
            None => groups.push(BacklinkGroup {
                relation: b.relation.to_string(),
                label,
                pages: vec![refs[b.from].clone()],
            }),
        }
    }
    let steps = own_steps(config, p, refs, graph);
    let (prev, next) = views.neighbours[i];
    let siblings = {
        let list: &[usize] = match &p.kind {
            Some(k) => views.by_kind.get(k).map(Vec::as_slice).unwrap_or(&[]),
            None => views
                .members
                .get(&p.section)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        };
        // A window around the page, so a page's size does not grow with its kind.
        let pos = list.iter().position(|&x| x == i).unwrap_or(0);
        let start = pos
            .saturating_sub(SIDEBAR_WINDOW / 2)
            .min(list.len().saturating_sub(SIDEBAR_WINDOW));
        let shown: Vec<PageRef> = list[start..(start + SIDEBAR_WINDOW).min(list.len())]
            .iter()
            .map(|&x| refs[x].clone())
            .collect();
        (list.len() > shown.len(), shown)
    };
    let (siblings_partial, siblings) = siblings;
    let mut crumbs = breadcrumbs(
        config,
        &p.section,
        &views.section_index,
        &views.folder_names,
        titles,
        true,
    );
    if p.is_section {
        crumbs.pop();
    }
    PageCtx {
        id: p.id.clone(),
        kind: p.kind.clone(),
        kind_title: kind.map(|k| k.title.clone()),
        kind_name: p.kind.as_deref().map(|k| config.singular(k).to_string()),
        title: refs[i].title.clone(),
        description: p.description.clone(),
        summary: refs[i].summary.clone(),
        url: refs[i].url.clone(),
        content: html,
        toc: rendered
            .headings
            .iter()
            .filter(|h| h.level <= 3)
            .cloned()
            .collect(),
        // A tag without a slug has no page (parsing reports it): never link to `tags//`.
        tags: page_tags(p, rendered)
            .into_iter()
            .map(|t| Link {
                url: format!("{base}tags/{}/", slugify(&t)),
                title: t,
            })
            .collect(),
        date: p.date.clone(),
        updated: p.updated.clone(),
        last_updated: p.last_updated.clone(),
        fields: fields_json(p, refs, graph),
        facts: facts(config, p, refs, graph, false),
        backlinks: groups,
        sequences: views.sequences[i].clone(),
        steps,
        prev: prev.map(|x| refs[x].clone()),
        next: next.map(|x| refs[x].clone()),
        breadcrumbs: crumbs,
        siblings,
        siblings_partial,
        edit_url: config
            .edit_url
            .as_ref()
            .map(|u| u.replace("{path}", &format!("content/{}", p.rel_path))),
        words: rendered.words,
        reading_minutes: rendered.words.div_ceil(200).max(1),
        source_path: format!("content/{}", p.rel_path),
        cssclasses: p.cssclasses.clone(),
    }
}

/// The title of a folder without an index page: its name as written.
fn folder_title(folder_names: &BTreeMap<String, String>, folder: &str) -> String {
    folder_names
        .get(folder)
        .cloned()
        .unwrap_or_else(|| folder.rsplit('/').next().unwrap_or(folder).to_string())
}

fn own_steps(config: &SiteConfig, p: &Page, refs: &[PageRef], graph: &LinkGraph) -> Vec<Step> {
    sequence_steps(config, p, graph)
        .into_iter()
        .enumerate()
        .map(|(n, (t, why))| Step {
            index: n + 1,
            page: refs[t].clone(),
            why,
        })
        .collect()
}

fn truncate_words(s: &str, n: usize) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.len() <= n {
        s.to_string()
    } else {
        format!("{}…", words[..n].join(" "))
    }
}

/// One page in `nav.json`.
#[derive(Debug, Serialize)]
struct NavPage<'a> {
    title: &'a str,
    url: &'a str,
}

/// One kind in `nav.json`, with all its pages in order.
#[derive(Debug, Serialize)]
struct NavKindPages<'a> {
    name: &'a str,
    title: &'a str,
    url: &'a str,
    pages: Vec<NavPage<'a>>,
}

/// `nav.json`: every kind with all its pages, written once per build. The theme loads it when a reader
/// opens a kind in the sidebar, so each page's HTML carries only its own neighbourhood and the output
/// grows linearly with the site, not quadratically.
pub fn nav_json(views: &Views) -> String {
    let kinds: Vec<NavKindPages> = views
        .site
        .kinds
        .iter()
        .map(|k| NavKindPages {
            name: &k.name,
            title: &k.title,
            url: &k.url,
            pages: views
                .by_kind
                .get(&k.name)
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|&i| NavPage {
                    title: &views.page_refs[i].title,
                    url: &views.page_refs[i].url,
                })
                .collect(),
        })
        .collect();
    serde_json::to_string(&serde_json::json!({ "kinds": kinds })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SiteConfig;
    use crate::diagnostics::Source;

    fn page(rel: &str, text: &str) -> Page {
        let config =
            SiteConfig::parse(&Source::new("site.yaml", "title: T\n".to_string())).expect("config");
        Page::parse(
            &config,
            std::path::Path::new(rel),
            Source::new(format!("content/{rel}"), text.to_string()),
        )
        .0
    }

    fn rendered(tags: &[&str]) -> Rendered {
        Rendered {
            tags: tags.iter().map(|t| (t.to_string(), 0..t.len())).collect(),
            ..Rendered::default()
        }
    }

    #[test]
    fn inline_tags_follow_front_matter_tags_once_per_slug() {
        let p = page("a.md", "---\ntags: [Launch, ads]\n---\n");
        let r = rendered(&["launch", "new-idea", "#ads", "New idea", "!!", "x/y"]);
        assert_eq!(page_tags(&p, &r), ["Launch", "ads", "new-idea", "x/y"]);
        assert_eq!(
            page_tags(&page("b.md", "x\n"), &rendered(&[])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn titles_keep_names_as_written() {
        let pages = [
            page("Tools/obsidian cli.md", "x\n"),
            page("Tools/CLI.MD", "x\n"),
            page("User interface/index.md", "x\n"),
            page("index.md", "x\n"),
            page("Bases/Intro to Bases.md", "---\npermalink: bases\n---\n"),
            page("Tools/t.md", "---\ntitle: Given\n---\n"),
        ];
        let rs: Vec<Rendered> = pages.iter().map(|_| Rendered::default()).collect();
        assert_eq!(
            titles(&pages, &rs),
            [
                "obsidian cli",
                "CLI",
                "User interface",
                "Home",
                "Intro to Bases",
                "Given"
            ]
        );
    }

    #[test]
    fn inline_tags_make_tag_pages_and_names_make_redirects() {
        let config =
            SiteConfig::parse(&Source::new("site.yaml", "title: T\n".to_string())).expect("config");
        let pages = vec![
            page(
                "Notes/A.md",
                "---\ntags: [x]\naliases: [Other name, B, A, a b, A-B, notes/c2, C2]\n---\n",
            ),
            page("Notes/B.md", "---\naliases: [Other name]\n---\n"),
        ];
        let rs = vec![rendered(&["inline", "X"]), rendered(&["inline"])];
        let titles = titles(&pages, &rs);
        let (graph, _) = graph::build(
            &pages,
            &rs,
            &titles,
            "/",
            crate::config::BrokenLinks::Error,
            graph::Files::default(),
        );
        let v = build(&config, &pages, &rs, &titles, &graph);
        let tags: Vec<(&str, usize)> = v
            .tags
            .iter()
            .map(|t| (t.name.as_str(), t.pages.len()))
            .collect();
        assert_eq!(tags, [("inline", 2), ("x", 1)]);
        // `B` is the other page, `A` the page itself; `Other name` goes to the first page that has
        // it; `A-B` lands where the page's own `a b` redirects already, and `C2` where its path alias
        // `notes/c2` (a path from the top) does: both silently.
        assert_eq!(
            v.name_redirects,
            [
                vec![
                    (0, "notes/other-name/index.html".to_string()),
                    (3, "notes/a-b/index.html".to_string()),
                    (5, "notes/c2/index.html".to_string())
                ],
                vec![]
            ]
        );
        assert_eq!(v.warnings.len(), 2, "{:?}", v.warnings);
        assert!(v
            .warnings
            .iter()
            .all(|w| !w.is_error() && w.code == "alias-taken"));
        let section = &v
            .sections
            .iter()
            .find(|(f, _)| f == "notes")
            .expect("notes")
            .1;
        assert_eq!(section.title, "Notes");
    }
}
