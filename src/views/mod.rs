//! Stage 5: what templates see. Turns pages, their rendered bodies and the graph into explicit,
//! serializable context structs: one per page, per section or kind index, per tag, per matrix.
//!
//! Templates get exactly these values and no function that queries the whole site, so what a page's
//! output depends on is visible here (which is what makes incremental rebuilds possible).
//!
//! Here: [`Views`] and how it is made from the whole site ([`build`], [`build_with_refs`]) and
//! given its lists ([`fill_lists`]). Beside it: `context` (the structs templates see, and a page's
//! card), `page` (one page's context: facts, fields, breadcrumbs, steps; a section's entries),
//! `matrix` (matrix views), `redirects` (the redirects names make) and `nav` (`nav.json`).

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

mod context;
mod matrix;
mod nav;
mod page;
mod redirects;

pub use context::*;
use matrix::matrix_ctx;
pub use nav::nav_json;
use page::{breadcrumbs, folder_title, group_entries};
pub use page::{facts, fields_json, page_ctx};
use redirects::name_redirects;

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

impl Views {
    /// Whether `folder` has an index page of its own (`_index.md`): then that page is the
    /// folder's section, and no separate section output is made.
    pub fn has_index_page(&self, folder: &str) -> bool {
        matches!(self.section_index.get(folder), Some(Some(_)))
    }
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
    for (i, p) in pages.iter().enumerate() {
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
        // A folder's index page: the last in discovery order, when two claim it.
        if p.is_section {
            section_pages.insert(p.section.clone(), Some(i));
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
    for &i in &order {
        let p = &pages[i];
        if p.is_section {
            continue;
        }
        if let Some(list) = members.get_mut(&p.section) {
            list.push(i);
        } else {
            members.insert(p.section.clone(), vec![i]);
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

fn truncate_words(s: &str, n: usize) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.len() <= n {
        s.to_string()
    } else {
        format!("{}…", words[..n].join(" "))
    }
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
