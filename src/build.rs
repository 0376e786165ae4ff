//! The build pipeline: a straight sequence of the stages, each a function from the previous value.
//!
//! ```text
//! site.yaml -> config -> discover -> parse pages (parallel) -> markdown (parallel) -> graph -> views
//!           -> templates -> render + write (parallel) -> search index, static files, sitemap, 404,
//!              graph.json -> swap
//! ```
//!
//! [`load`] runs everything up to the views and is all `check` needs; [`write_site`] renders into any
//! [`Sink`]: the staging folder of `build`, or memory for `serve`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::config::SiteConfig;
use crate::content::{self, slugify, Page};
use crate::diagnostics::{self, Diagnostic, Source};
use crate::graph::{self, LinkGraph};
use crate::markdown::{self, MarkdownOptions, Rendered};
use crate::output::{self, page_file};
use crate::render::{self, Context, Templates};
use crate::search;
use crate::views::{self, Views};

/// What to build and how.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The site's folder (the one with site.yaml).
    pub root: PathBuf,
    /// Output folder; `public/` under the root by default.
    pub output: Option<PathBuf>,
    /// Overrides `base_url` from site.yaml.
    pub base_url: Option<String>,
    /// Include pages marked `draft: true`.
    pub drafts: bool,
}

/// A site loaded and checked: every stage up to the template data.
pub struct Site {
    pub root: PathBuf,
    pub config: SiteConfig,
    pub pages: Vec<Page>,
    pub rendered: Vec<Rendered>,
    pub titles: Vec<String>,
    pub graph: LinkGraph,
    pub views: Views,
    /// Content files that are not Markdown, relative to content/.
    pub assets: Vec<PathBuf>,
    pub warnings: Vec<Diagnostic>,
}

/// What a finished build reports.
#[derive(Debug)]
pub struct BuildReport {
    pub pages: usize,
    pub files: usize,
    pub output: PathBuf,
    pub elapsed: Duration,
    pub warnings: Vec<Diagnostic>,
}

/// Where rendered files go.
pub trait Sink: Sync {
    fn put(&self, rel: &str, bytes: Vec<u8>) -> Result<(), Diagnostic>;
    fn copy(&self, from: &Path, rel: &str) -> Result<(), Diagnostic>;
}

impl Sink for output::Staging {
    fn put(&self, rel: &str, bytes: Vec<u8>) -> Result<(), Diagnostic> {
        self.write(rel, &bytes)
    }
    fn copy(&self, from: &Path, rel: &str) -> Result<(), Diagnostic> {
        output::Staging::copy(self, from, rel)
    }
}

/// Read and parse `site.yaml`, applying command-line overrides.
pub fn load_config(root: &Path, base_url: Option<&str>) -> Result<SiteConfig, Vec<Diagnostic>> {
    let path = root.join("site.yaml");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        vec![Diagnostic::error("no-config", format!("cannot read site.yaml in {}: {e}", root.display()))
            .in_file("site.yaml")
            .with_help("run fieldbook in a site's folder (the one with site.yaml), pass --root DIR, or create a site with `fieldbook init DIR`")]
    })?;
    let mut config = SiteConfig::parse(&Source::new("site.yaml", text))?;
    if let Some(b) = base_url {
        config.base_url = b.to_string();
    }
    Ok(config)
}

/// Load, parse, render Markdown and resolve links. Errors from every page are returned together.
pub fn load(opts: &BuildOptions) -> Result<Site, Vec<Diagnostic>> {
    let root = &opts.root;
    let config = load_config(root, opts.base_url.as_deref())?;
    let content_dir = root.join("content");
    let found = content::discover(&content_dir, Path::new("content"));
    let mut diags = found.diags;

    // Read and parse every page, in parallel.
    type Parsed = Result<(Page, Vec<Diagnostic>), Vec<Diagnostic>>;
    let parsed: Vec<Parsed> = found
        .pages
        .par_iter()
        .map(|rel| {
            let shown = Path::new("content").join(rel);
            let bytes = std::fs::read(content_dir.join(rel)).map_err(|e| {
                vec![Diagnostic::error("io", format!("cannot read: {e}"))
                    .in_file(&shown)
                    .with_help("check the file's permissions")]
            })?;
            let text = String::from_utf8(bytes).map_err(|e| {
                let at = e.utf8_error().valid_up_to();
                let good = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
                let src = Source::new(&shown, good);
                vec![Diagnostic::error("encoding", "file is not valid UTF-8")
                    .at(&src, at..at)
                    .with_help("save the file as UTF-8")]
            })?;
            Ok(Page::parse(&config, rel, Source::new(shown, text)))
        })
        .collect();
    let mut pages = Vec::with_capacity(parsed.len());
    for p in parsed {
        match p {
            Ok((p, mut d)) => {
                diags.append(&mut d);
                if !p.draft || opts.drafts {
                    pages.push(p);
                }
            }
            Err(mut d) => diags.append(&mut d),
        }
    }

    let base_path = config.base_path();
    let rendered: Vec<Rendered> = pages
        .par_iter()
        .map(|p| {
            let opts = MarkdownOptions {
                raw_html: config.markdown.raw_html,
                highlight: config.markdown.highlight,
                take_title: p.title.is_none(),
                base_path: &base_path,
                folder: &p.section,
            };
            markdown::render(p.body_text(), &opts)
        })
        .collect();
    let titles = views::titles(&pages, &rendered);
    let (graph, mut graph_diags) = graph::build(&pages, &rendered, &titles, &base_path);
    diags.append(&mut graph_diags);

    // Files the pages point at must exist (beside the pages, or in static/).
    let asset_outputs: HashSet<String> =
        found.assets.iter().map(|a| asset_output_path(a)).collect();
    for (p, r) in pages.iter().zip(&rendered) {
        for (asset, span) in &r.assets {
            let decoded = percent_decode(asset);
            let in_static = root.join("static").join(&decoded).is_file();
            if !asset_outputs.contains(&decoded) && !in_static {
                let at = p.body.start + span.start..p.body.start + span.end;
                diags.push(
                    Diagnostic::error("missing-file", format!("links to `{asset}`, which is neither beside the page in content/ nor in static/"))
                        .at(&p.source, at)
                        .with_help("check the file name, or put the file next to the page"),
                );
            }
        }
    }

    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        diags.into_iter().partition(Diagnostic::is_error);
    if !errors.is_empty() {
        let mut all = errors;
        all.extend(warnings);
        diagnostics::sort(&mut all);
        return Err(all);
    }
    let views = views::build(&config, &pages, &rendered, &titles, &graph);
    Ok(Site {
        root: root.clone(),
        config,
        pages,
        rendered,
        titles,
        graph,
        views,
        assets: found.assets,
        warnings,
    })
}

/// Where a content asset is published: its folders slugified like page URLs, its file name kept.
fn asset_output_path(rel: &Path) -> String {
    let mut parts: Vec<String> = rel
        .parent()
        .map(|p| {
            p.iter()
                .map(|c| slugify(&c.to_string_lossy()))
                .filter(|c| !c.is_empty())
                .collect()
        })
        .unwrap_or_default();
    parts.push(
        rel.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    parts.join("/")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Build the site into its output folder (atomically).
pub fn build(opts: &BuildOptions) -> Result<BuildReport, Vec<Diagnostic>> {
    let start = Instant::now();
    let site = load(opts)?;
    let templates = Templates::load(&site.root, &site.config.theme)?;
    let out = opts
        .output
        .clone()
        .unwrap_or_else(|| site.root.join("public"));
    let staging = output::prepare(&site.root, &out).map_err(|d| vec![d])?;
    let files = match write_site(&site, &templates, &staging) {
        Ok(n) => n,
        Err(d) => {
            staging.abandon();
            return Err(d);
        }
    };
    let output = staging.commit().map_err(|d| vec![d])?;
    Ok(BuildReport {
        pages: site.pages.len(),
        files,
        output,
        elapsed: start.elapsed(),
        warnings: site.warnings,
    })
}

/// Check the site: everything `build` validates, writing nothing.
pub fn check(opts: &BuildOptions) -> Result<Site, Vec<Diagnostic>> {
    let site = load(opts)?;
    let templates = Templates::load(&site.root, &site.config.theme)?;
    // Render every page into nothing, so template errors are found too.
    struct Null;
    impl Sink for Null {
        fn put(&self, _: &str, _: Vec<u8>) -> Result<(), Diagnostic> {
            Ok(())
        }
        fn copy(&self, _: &Path, _: &str) -> Result<(), Diagnostic> {
            Ok(())
        }
    }
    write_site(&site, &templates, &Null)?;
    Ok(site)
}

fn base_context(site: &Site) -> Context {
    let mut ctx = Context::new();
    ctx.insert("site", &site.views.site);
    ctx
}

fn render_one(
    templates: &Templates,
    name: &str,
    base: &Context,
    values: &[(&str, &dyn erased_serde_json::Ser)],
) -> Result<Vec<u8>, Diagnostic> {
    let mut ctx = base.clone();
    for (k, v) in values {
        ctx.insert(*k, &v.json());
    }
    templates.render(name, &ctx).map(String::into_bytes)
}

mod erased_serde_json {
    /// Serialize through a JSON value, so different context structs fit one slice.
    pub trait Ser {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

/// Render every page and generated view into `sink`; copy static files and assets. Returns the number
/// of files written.
pub fn write_site(
    site: &Site,
    templates: &Templates,
    sink: &dyn Sink,
) -> Result<usize, Vec<Diagnostic>> {
    let base = base_context(site);
    let config = &site.config;
    let views = &site.views;

    // Content pages, in parallel.
    let results: Vec<Result<usize, Diagnostic>> = (0..site.pages.len())
        .into_par_iter()
        .map(|i| {
            let p = &site.pages[i];
            let html = markdown::fill_holes(&site.rendered[i].html, &site.graph.fills[i]);
            let page = views::page_ctx(config, views, &site.pages, &site.titles, i, &site.rendered[i], html, &site.graph);
            if p.is_section {
                let Some((_, section)) = views.sections.iter().find(|(f, _)| *f == p.section) else { return Ok(0) };
                let mut section = section.clone();
                section.content = page.content.clone();
                let name = if p.section.is_empty() { "index.html" } else { "section.html" };
                let bytes = render_one(templates, name, &base, &[("section", &section), ("page", &page), ("recent", &views.recent)])?;
                sink.put(&page_file(&p.url), bytes)?;
            } else {
                let name = match &p.template {
                    Some(t) => t.clone(),
                    None => p.kind.as_ref().map(|k| format!("{k}.html")).filter(|t| templates.has(t)).unwrap_or_else(|| "page.html".into()),
                };
                let bytes = render_one(templates, &name, &base, &[("page", &page)])?;
                sink.put(&page_file(&p.url), bytes)?;
            }
            for alias in &p.aliases {
                let url = alias.trim_matches('/');
                let to = &views.page_refs[i].url;
                let html = format!(
                    "<!doctype html><meta charset=\"utf-8\"><title>Redirect</title><link rel=\"canonical\" href=\"{to}\"><meta http-equiv=\"refresh\" content=\"0; url={to}\"><a href=\"{to}\">{to}</a>\n"
                );
                sink.put(&format!("{url}/index.html"), html.into_bytes())?;
            }
            Ok(1 + p.aliases.len())
        })
        .collect();
    let mut diags = Vec::new();
    let mut files = 0;
    for r in results {
        match r {
            Ok(n) => files += n,
            Err(d) => diags.push(d),
        }
    }

    // Sections without an _index.md page.
    let with_page: HashSet<&str> = site
        .pages
        .iter()
        .filter(|p| p.is_section)
        .map(|p| p.section.as_str())
        .collect();
    let mut generated: Vec<(String, Result<Vec<u8>, Diagnostic>)> = Vec::new();
    for (folder, section) in &views.sections {
        if with_page.contains(folder.as_str()) {
            continue;
        }
        let name = if folder.is_empty() {
            "index.html"
        } else {
            "section.html"
        };
        let url = if folder.is_empty() {
            String::new()
        } else {
            format!("{folder}/")
        };
        generated.push((
            page_file(&url),
            render_one(
                templates,
                name,
                &base,
                &[("section", section), ("recent", &views.recent)],
            ),
        ));
    }
    if !views.tags.is_empty() {
        generated.push((
            "tags/index.html".into(),
            render_one(templates, "tags.html", &base, &[("tags", &views.tags)]),
        ));
        for t in &views.tags {
            generated.push((
                format!("tags/{}/index.html", t.slug),
                render_one(templates, "tag.html", &base, &[("tag", t)]),
            ));
        }
    }
    for m in &views.matrices {
        generated.push((
            format!("matrices/{}/index.html", slugify(&m.slug)),
            render_one(templates, "matrix.html", &base, &[("matrix", m)]),
        ));
    }
    generated.push((
        "404.html".into(),
        render_one(templates, "404.html", &base, &[]),
    ));
    if templates.has("search.html") {
        generated.push((
            format!("{}/index.html", search::DIR),
            render_one(templates, "search.html", &base, &[]),
        ));
    }
    for (path, r) in generated {
        match r.and_then(|bytes| sink.put(&path, bytes)) {
            Ok(()) => files += 1,
            Err(d) => diags.push(d),
        }
    }
    let mut extra: Vec<(String, Vec<u8>)> = vec![
        ("sitemap.xml".into(), sitemap(site).into_bytes()),
        ("graph.json".into(), graph_json(site).into_bytes()),
        (
            "highlight.css".into(),
            markdown::highlight_css().into_bytes(),
        ),
    ];
    extra.extend(search::build_files(
        config,
        &site.pages,
        &site.rendered,
        &site.titles,
        &site.graph.fills,
    ));
    // Static files: the theme's, then the site's (the site wins), then assets beside pages.
    for (dir, shown) in [(None, ""), (Some(site.root.join("static")), "static")] {
        let list = match dir {
            None => render::theme_files(&site.root, &config.theme, "static"),
            Some(d) => render::read_tree(&d, shown),
        };
        match list {
            Ok(list) => extra.extend(list.into_iter().map(|f| (f.path, f.bytes))),
            Err(d) => diags.push(d),
        }
    }
    for (path, bytes) in extra {
        match sink.put(&path, bytes) {
            Ok(()) => files += 1,
            Err(d) => diags.push(d),
        }
    }
    let content_dir = site.root.join("content");
    for a in &site.assets {
        match sink.copy(&content_dir.join(a), &asset_output_path(a)) {
            Ok(()) => files += 1,
            Err(d) => diags.push(d),
        }
    }
    if diags.is_empty() {
        Ok(files)
    } else {
        diagnostics::sort(&mut diags);
        diags.dedup_by(|a, b| a.message == b.message && a.file == b.file);
        Err(diags)
    }
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
        .map(|(p, r)| (r.url.clone(), p.updated.as_deref().or(p.date.as_deref())))
        .collect();
    let with_page: HashSet<&str> = site
        .pages
        .iter()
        .filter(|p| p.is_section)
        .map(|p| p.section.as_str())
        .collect();
    for (folder, s) in &site.views.sections {
        if !with_page.contains(folder.as_str()) {
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
}

/// graph.json: every page as a node and every resolved link as an edge, for other tools.
fn graph_json(site: &Site) -> String {
    let nodes: Vec<GraphNode> = site
        .pages
        .iter()
        .zip(&site.views.page_refs)
        .map(|(p, r)| GraphNode {
            id: &p.id,
            kind: p.kind.as_deref(),
            title: &r.title,
            url: &r.url,
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "nodes": nodes, "edges": site.graph.edges }))
        .unwrap_or_default()
}
