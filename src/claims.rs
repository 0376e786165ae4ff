//! Every output path is claimed once. Before anything is written (and in `check`, which writes
//! nothing), each file of the site to be is listed with what makes it: a page, an alias, a
//! generated index, a static file, an asset beside a page. Two claims on one path, a claim inside
//! the search index's folder, or a file where another claim needs a folder is an error that names
//! both sources, so that no file silently overwrites another and no build depends on which thread
//! wrote last.
//!
//! The one overlay that is meant: a file in the site's `static/` replaces the theme's file of the
//! same name (that is how a site restyles its theme).

use std::collections::HashMap;

use crate::build::{self, Output, Site, StaticSource};
use crate::diagnostics::Diagnostic;
use crate::render::Templates;
use crate::search;

/// What claims an output path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum By {
    /// A file fieldbook makes from the whole site (`sitemap.xml`...).
    Generated(&'static str),
    /// The search index, which owns the whole `search/` folder but for the search page.
    SearchIndex,
    /// A template output other than a content page.
    View(String),
    /// A content page, by index.
    Page(usize),
    /// Alias `n` of page `i`.
    Alias(usize, usize),
    /// The redirect of name `n` of page `i`.
    Name(usize, usize),
    /// A file copied from content/ (path relative to content/).
    Asset(String),
    /// A static file, as shown in errors (`static/x.css`, `themes/t/static/x.css`).
    Static(String),
}

impl By {
    fn describe(&self, site: &Site) -> String {
        match self {
            By::Generated(what) => format!("fieldbook's generated {what}"),
            By::SearchIndex => format!("the search index (the `{}/` folder)", search::DIR),
            By::View(what) => what.clone(),
            By::Page(i) => format!("the page content/{}", site.pages[*i].rel_path),
            By::Alias(i, n) => format!(
                "the alias `{}` of content/{}",
                site.pages[*i].aliases[*n], site.pages[*i].rel_path
            ),
            By::Name(i, n) => format!(
                "the alias `{}` of content/{}",
                site.pages[*i].names[*n], site.pages[*i].rel_path
            ),
            By::Asset(rel) => format!("the file content/{rel}"),
            By::Static(shown) => format!("the file {shown}"),
        }
    }

    /// The collision's error, placed on this (the later) claim where it has a place.
    fn error(&self, site: &Site, msg: String) -> Diagnostic {
        let d = Diagnostic::error("output-collision", msg);
        match self {
            By::Page(i) => d
                .in_file(format!("content/{}", site.pages[*i].rel_path))
                .with_help(
                    "give one of the two another `slug:` or move it, so that each has its own URL",
                ),
            By::Alias(i, n) => {
                let p = &site.pages[*i];
                let yaml = crate::content::split_front_matter(&p.source.text)
                    .ok()
                    .and_then(|s| s.yaml)
                    .unwrap_or(0..0);
                let text = p.source.text.get(yaml.clone()).unwrap_or("");
                let span = crate::yaml::locate(text, &["aliases", &n.to_string()]);
                d.at(&p.source, yaml.start + span.start..yaml.start + span.end)
                    .with_help(
                        "remove this alias or change it to an old URL that nothing else uses",
                    )
            }
            By::Name(i, _) => d
                .in_file(format!("content/{}", site.pages[*i].rel_path))
                .with_help("remove this alias, or rename the file that takes its URL"),
            By::Asset(rel) => d
                .in_file(format!("content/{rel}"))
                .with_help("rename or move one of the two files"),
            By::Static(shown) => d
                .in_file(shown.clone())
                .with_help("rename or move one of the two files"),
            By::Generated(_) | By::SearchIndex | By::View(_) => d.with_help(
                "rename the page, file or alias that takes this path: fieldbook needs it",
            ),
        }
    }
}

/// Check that no two sources claim one output path. Returns every collision, each once.
pub fn check(site: &Site, templates: &Templates) -> Vec<Diagnostic> {
    let (claims, mut diags) = list(site, templates);
    let mut first: HashMap<&str, (usize, &By)> = HashMap::with_capacity(claims.len());
    for (at, (path, by)) in claims.iter().enumerate() {
        if let Some((_, earlier)) = first.get(path.as_str()) {
            diags.push(by.error(
                site,
                format!(
                    "`{path}` would be written twice: by {} and by {}",
                    earlier.describe(site),
                    by.describe(site)
                ),
            ));
            continue;
        }
        if *by != By::SearchIndex && !matches!(by, By::View(v) if v == SEARCH_PAGE) {
            if let Some(rest) = path.strip_prefix(search::DIR) {
                if rest.starts_with('/') {
                    diags.push(by.error(
                        site,
                        format!(
                            "`{path}` is inside `{}/`, which belongs to the search index; {} cannot be written there",
                            search::DIR,
                            by.describe(site)
                        ),
                    ));
                    continue;
                }
            }
        }
        first.insert(path, (at, by));
    }
    // A file where another output needs a folder (`guide` the file and `guide/index.html`). The
    // error goes to the later of the two claims, as above.
    for (at, (path, by)) in claims.iter().enumerate() {
        let mut from = 0;
        while let Some(i) = path[from..].find('/') {
            let folder = &path[..from + i];
            if let Some(&(file_at, file)) = first.get(folder) {
                let msg = format!(
                    "`{folder}` would be a file ({}) and a folder (for {})",
                    file.describe(site),
                    by.describe(site)
                );
                diags.push(if file_at > at {
                    file.error(site, msg)
                } else {
                    by.error(site, msg)
                });
            }
            from += i + 1;
        }
    }
    diags.dedup_by(|a, b| a.message == b.message);
    diags
}

const SEARCH_PAGE: &str = "the search page";

/// Every output path with what claims it, in the order of precedence: fieldbook's own files first,
/// then the pages and views, aliases, assets and static files; and the problems of listing the
/// static files (links out of the site...).
fn list(site: &Site, templates: &Templates) -> (Vec<(String, By)>, Vec<Diagnostic>) {
    let mut claims: Vec<(String, By)> = [
        ("sitemap.xml", "sitemap"),
        ("graph.json", "link graph"),
        ("nav.json", "navigation data"),
        ("highlight.css", "highlighting stylesheet"),
    ]
    .into_iter()
    .map(|(p, what)| (p.to_string(), By::Generated(what)))
    .collect();
    claims.push((format!("{}/manifest.json", search::DIR), By::SearchIndex));
    for o in build::outputs(site) {
        let Some((path, _)) = build::output_target(site, templates, o) else {
            continue;
        };
        let by = match o {
            Output::Page(i) => By::Page(i),
            Output::Section(i) => By::View(format!(
                "the index of section `{}`",
                site.views.sections[i].0
            )),
            Output::Tags => By::View("the list of tags".into()),
            Output::Tag(i) => By::View(format!("the page of tag `{}`", site.views.tags[i].name)),
            Output::Matrix(i) => By::View(format!("the matrix `{}`", site.views.matrices[i].slug)),
            Output::NotFound => By::View("the 404 page".into()),
            Output::Search => By::View(SEARCH_PAGE.into()),
        };
        claims.push((path, by));
    }
    for (i, p) in site.pages.iter().enumerate() {
        claims.extend(build::alias_files(p).map(|(n, path)| (path, By::Alias(i, n))));
        claims.extend(
            site.views.name_redirects[i]
                .iter()
                .map(|(n, path)| (path.clone(), By::Name(i, *n))),
        );
    }
    for a in &site.assets {
        claims.push((
            build::asset_output_path(a),
            By::Asset(a.to_string_lossy().replace('\\', "/")),
        ));
    }
    let mut diags = Vec::new();
    match build::static_files(site) {
        Err(mut d) => diags.append(&mut d),
        Ok(statics) => {
            // The site's static/ replaces the theme's file of the same name: keep the last of each.
            let mut last: HashMap<String, String> = HashMap::new();
            let mut order = Vec::new();
            let theme = &site.config.theme;
            for (path, from) in statics {
                let shown = match from {
                    StaticSource::Embedded(_) => {
                        format!("static/{path} of the built-in theme `{theme}`")
                    }
                    StaticSource::Disk(f) => f
                        .strip_prefix(&site.root)
                        .map(|r| r.to_string_lossy().replace('\\', "/"))
                        .unwrap_or_else(|_| f.to_string_lossy().into_owned()),
                };
                if last.insert(path.clone(), shown).is_none() {
                    order.push(path);
                }
            }
            for path in order {
                if let Some(shown) = last.remove(&path) {
                    claims.push((path, By::Static(shown)));
                }
            }
        }
    }
    (claims, diags)
}
