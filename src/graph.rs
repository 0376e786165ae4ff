//! Stage 4: the page graph. Resolves reference fields, wikilinks and `.md` links to pages (and
//! anchors to headings), reports what resolves to nothing with the closest candidates, and computes
//! every page's backlinks and the edge list for `graph.json`.
//!
//! All three link forms go through one resolver ([`Lookup::resolve`]), so they agree on what an id is:
//! `kind/slug`, a path under content/ (`tools/doudian`), or a bare slug when it is unique.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use crate::content::{slugify, Page};
use crate::diagnostics::Diagnostic;
use crate::markdown::{Fill, LinkKind, Rendered};
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

/// Every way to name a page, built once per build.
#[derive(Debug, Default)]
pub struct Lookup {
    by_id: HashMap<String, usize>,
    by_path: HashMap<String, usize>,
    by_slug: HashMap<String, Vec<usize>>,
    ids: Vec<String>,
    kinds: Vec<Option<String>>,
}

impl Lookup {
    /// Index pages by id, path and slug. Returns diagnostics for two pages with the same id or URL.
    pub fn new(pages: &[Page]) -> (Lookup, Vec<Diagnostic>) {
        let mut l = Lookup::default();
        let mut diags = Vec::new();
        let mut urls: HashMap<&str, usize> = HashMap::new();
        for (i, p) in pages.iter().enumerate() {
            l.ids.push(p.id.clone());
            l.kinds.push(p.kind.clone());
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
            let no_ext = p.rel_path.trim_end_matches(".md").trim_end_matches(".MD");
            l.by_path.insert(no_ext.to_string(), i);
            l.by_path.insert(p.url.trim_end_matches('/').to_string(), i);
            if p.is_section {
                l.by_path.insert(p.section.clone(), i);
            }
            if !p.slug.is_empty() {
                l.by_slug.entry(p.slug.clone()).or_default().push(i);
            }
        }
        (l, diags)
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

    fn find(&self, t: &str, want: Option<&str>) -> Result<Option<usize>, Unresolved> {
        if let Some(&i) = self.by_id.get(t).or_else(|| self.by_path.get(t)) {
            return Ok(Some(i));
        }
        if t.contains('/') {
            let slugged: Vec<String> = t.split('/').map(slugify).collect();
            let s = slugged.join("/");
            return Ok(self.by_id.get(&s).or_else(|| self.by_path.get(&s)).copied());
        }
        let slug = slugify(t);
        let Some(candidates) = self.by_slug.get(&slug) else {
            return Ok(None);
        };
        let narrowed: Vec<usize> = match want {
            Some(w) => candidates
                .iter()
                .copied()
                .filter(|&i| self.kinds[i].as_deref() == Some(w))
                .collect(),
            None => candidates.clone(),
        };
        match (narrowed.as_slice(), candidates.as_slice()) {
            ([one], _) => Ok(Some(*one)),
            ([], [one]) => Ok(Some(*one)),
            ([], _) | (_, _) => {
                let pool = if narrowed.is_empty() {
                    candidates
                } else {
                    &narrowed
                };
                let mut ids: Vec<String> = pool.iter().map(|&i| self.ids[i].clone()).collect();
                ids.sort();
                Err(Unresolved::Ambiguous(ids))
            }
        }
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
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
) -> (LinkGraph, Vec<Diagnostic>) {
    let (lookup, mut diags) = Lookup::new(pages);
    // Body links resolve page by page, in parallel; what they add to the graph merges in page order.
    let bodies: Vec<BodyLinks> = (0..pages.len())
        .into_par_iter()
        .map(|i| resolve_body_links(&lookup, pages, rendered, titles, i, base_path))
        .collect();
    let mut relations: HashMap<&str, Arc<str>> = HashMap::new();
    let mentions: Arc<str> = Arc::from(MENTIONS);
    let mut backlinks: Vec<HashSet<Backlink>> = vec![HashSet::new(); pages.len()];
    let mut edges = Vec::new();
    let mut fills = Vec::with_capacity(pages.len());
    for ((i, page), body) in pages.iter().enumerate().zip(bodies) {
        // Reference fields.
        for (field, value) in &page.fields {
            for r in value.refs() {
                match lookup.resolve(&r.target, r.to.as_deref()) {
                    Ok(t) => {
                        let relation = relations
                            .entry(field.as_str())
                            .or_insert_with(|| Arc::from(field.as_str()))
                            .clone();
                        backlinks[t].insert(Backlink {
                            relation: relation.clone(),
                            from: i,
                        });
                        edges.push(Edge {
                            from: i,
                            to: t,
                            relation,
                        });
                    }
                    Err(u) => diags.push(ref_error(page, r, field, &u)),
                }
            }
        }
        // Body links.
        diags.extend(body.diags);
        let mut seen = HashSet::new();
        for t in body.mentions {
            if !seen.insert(t) {
                continue;
            }
            backlinks[t].insert(Backlink {
                relation: mentions.clone(),
                from: i,
            });
            edges.push(Edge {
                from: i,
                to: t,
                relation: mentions.clone(),
            });
        }
        fills.push(body.fills);
    }

    // A page linked by a field and also mentioned in the body is listed once, under the field.
    let backlinks = backlinks
        .into_iter()
        .map(|set| {
            let by_field: HashSet<usize> = set
                .iter()
                .filter(|b| &*b.relation != MENTIONS)
                .map(|b| b.from)
                .collect();
            let mut v: Vec<Backlink> = set
                .into_iter()
                .filter(|b| &*b.relation != MENTIONS || !by_field.contains(&b.from))
                .collect();
            v.sort_by(|a, b| {
                (&*a.relation == MENTIONS, &a.relation, &titles[a.from]).cmp(&(
                    &*b.relation == MENTIONS,
                    &b.relation,
                    &titles[b.from],
                ))
            });
            v
        })
        .collect();
    edges.sort();
    edges.dedup();
    (
        LinkGraph {
            lookup,
            fills,
            backlinks,
            edges,
        },
        diags,
    )
}

/// What the body links of one page resolve to.
#[derive(Debug, Default)]
pub struct BodyLinks {
    /// What each of the page's link holes becomes (`None` for a link that resolves to nothing).
    pub fills: Vec<Option<Fill>>,
    /// Other pages the body links to, in link order (repeats kept).
    pub mentions: Vec<usize>,
    pub diags: Vec<Diagnostic>,
}

/// Resolve the body links of page `i` (wikilinks, `.md` links, anchors) against the other pages.
/// [`build`] calls it for every page; `serve` calls it for one edited page whose links to the rest
/// of the site did not change.
pub fn resolve_body_links(
    lookup: &Lookup,
    pages: &[Page],
    rendered: &[Rendered],
    titles: &[String],
    i: usize,
    base_path: &str,
) -> BodyLinks {
    let page = &pages[i];
    let mut out = BodyLinks::default();
    let body_start = page.body.start;
    for link in &rendered[i].links {
        let span = body_start + link.span.start..body_start + link.span.end;
        let what = match link.kind {
            LinkKind::Wiki { .. } => "wikilink",
            LinkKind::Markdown => "link",
            LinkKind::SelfAnchor => "anchor link",
            LinkKind::Embed => "embed",
            LinkKind::File => "file link",
        };
        let target = if link.kind == LinkKind::SelfAnchor
            || (link.target.is_empty() && link.fragment.is_some())
        {
            Ok(i)
        } else {
            lookup.resolve(&link.target, None)
        };
        match target {
            Ok(t) => {
                if let Some(frag) = &link.fragment {
                    let headings = &rendered[t].headings;
                    if !headings.iter().any(|h| h.id == *frag) {
                        let near = crate::suggest::nearest(
                            frag,
                            headings.iter().map(|h| h.id.as_str()),
                            3,
                        );
                        let help = if near.is_empty() {
                            format!("`{}` has no heading with that id", pages[t].rel_path)
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
                            Diagnostic::error(
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
                }
                if link.kind != LinkKind::SelfAnchor && t != i {
                    out.mentions.push(t);
                }
                let mut href = format!("{base_path}{}", pages[t].url);
                if let Some(f) = &link.fragment {
                    href.push('#');
                    href.push_str(f);
                }
                let label = match (
                    &link.fragment,
                    rendered[t]
                        .headings
                        .iter()
                        .find(|h| Some(&h.id) == link.fragment.as_ref()),
                ) {
                    (Some(_), Some(h)) if t != i => format!("{} › {}", titles[t], h.title),
                    (Some(_), Some(h)) => h.title.clone(),
                    _ => titles[t].clone(),
                };
                out.fills.push(Some(Fill { href, label }));
            }
            Err(u) => {
                let (msg, help) = explain(&u, &link.target, what);
                out.diags.push(
                    Diagnostic::error("unknown-link", msg)
                        .at(&page.source, span)
                        .with_help(help),
                );
                out.fills.push(None);
            }
        }
    }
    out
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
