//! `nav.json`: every kind's pages, for the sidebar beyond its first window.

use super::*;

/// One page in `nav.json`.
#[derive(Debug, Serialize)]
pub(super) struct NavPage<'a> {
    title: &'a str,
    url: &'a str,
}

/// One kind in `nav.json`, with all its pages in order.
#[derive(Debug, Serialize)]
pub(super) struct NavKindPages<'a> {
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
