//! The files made from the whole site rather than from a template (the search index aside):
//! sitemap.xml, graph.json, nav.json and the highlighting stylesheet.

use super::*;

/// Files generated from the whole site rather than from a template, but the search index
/// ([`search_index`]): sitemap.xml, graph.json, nav.json and the highlighting stylesheet.
pub fn site_files(site: &Site) -> Vec<(String, Vec<u8>)> {
    vec![
        ("sitemap.xml".into(), sitemap(site).into_bytes()),
        ("graph.json".into(), graph_json(site)),
        ("nav.json".into(), views::nav_json(&site.views).into_bytes()),
        (
            "highlight.css".into(),
            markdown::highlight_css().into_bytes(),
        ),
    ]
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// sitemap.xml: every page and section, with its last change when known. URLs are absolute when
/// `base_url` is a full URL.
fn sitemap(site: &Site) -> String {
    let origin = match site.config.base_url.find("://") {
        Some(i) => {
            let rest = &site.config.base_url[i + 3..];
            let host_end = rest.find('/').unwrap_or(rest.len());
            site.config.base_url[..i + 3 + host_end].to_string()
        }
        None => String::new(),
    };
    let mut urls: Vec<(String, Option<&str>)> = site
        .pages
        .iter()
        .zip(&site.views.page_refs)
        .map(|(p, r)| {
            let lastmod = p.last_updated.as_deref().or(p.date.as_deref());
            (r.url.clone(), lastmod)
        })
        .collect();
    for (folder, s) in &site.views.sections {
        if !site.views.has_index_page(folder) {
            urls.push((s.url.clone(), None));
        }
    }
    urls.sort();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (url, lastmod) in urls {
        out.push_str("  <url><loc>");
        out.push_str(&xml_escape(&format!("{origin}{url}")));
        out.push_str("</loc>");
        if let Some(d) = lastmod {
            out.push_str("<lastmod>");
            out.push_str(&xml_escape(&d[..d.len().min(10)]));
            out.push_str("</lastmod>");
        }
        out.push_str("</url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

#[derive(Serialize)]
struct GraphNode<'a> {
    id: &'a str,
    kind: Option<&'a str>,
    title: &'a str,
    url: &'a str,
    /// The page's file, relative to content/ (`tools/doudian.md`), so that editors and other tools
    /// can map files to URLs.
    source: &'a str,
}

#[derive(Serialize)]
struct GraphJson<'a> {
    nodes: Vec<GraphNode<'a>>,
    edges: Vec<GraphEdge<'a>>,
}

#[derive(Serialize)]
struct GraphEdge<'a> {
    from: &'a str,
    to: &'a str,
    relation: &'a str,
}

/// graph.json: every page as a node and every resolved link as an edge, for other tools. Compact
/// JSON, serialized straight from the graph (no intermediate `Value` tree of every edge).
fn graph_json(site: &Site) -> Vec<u8> {
    let nodes: Vec<GraphNode> = site
        .pages
        .iter()
        .zip(&site.views.page_refs)
        .map(|(p, r)| GraphNode {
            id: &p.id,
            kind: p.kind.as_deref(),
            title: &r.title,
            url: &r.url,
            source: &p.rel_path,
        })
        .collect();
    serde_json::to_vec(&GraphJson {
        nodes,
        edges: site
            .graph
            .edges
            .iter()
            .map(|e| GraphEdge {
                from: &site.pages[e.from].id,
                to: &site.pages[e.to].id,
                relation: &e.relation,
            })
            .collect(),
    })
    .unwrap_or_default()
}
