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
//! The files made from the whole site ([`site_files`]: sitemap.xml, graph.json, nav.json) live in
//! `site_files.rs`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::config::SiteConfig;
use crate::content::{self, slugify, Page};
use crate::diagnostics::{self, Diagnostic, Source};
use crate::graph::{self, LinkGraph};
use crate::markdown::{self, MarkdownOptions, Markup, Rendered};
use crate::output::{self, page_file};
use crate::render::{self, Context, Templates};
use crate::search;
use crate::timings::Stopwatch;
use crate::views::{self, Views};

mod site_files;
pub use site_files::site_files;

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
    if path.is_symlink() {
        if let Err(why) = crate::sitefs::resolve_inside(&crate::sitefs::canonical_root(root), &path)
        {
            return Err(vec![crate::sitefs::outside_error(&path, "site.yaml", &why)]);
        }
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        vec![Diagnostic::setup("no-config", format!("cannot read site.yaml in {}: {e}", root.display()))
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
    load_timed(opts, &mut Stopwatch::off())
}

/// [`load`], marking its stages on `watch`.
pub fn load_timed(opts: &BuildOptions, watch: &mut Stopwatch) -> Result<Site, Vec<Diagnostic>> {
    let root = &opts.root;
    let config = load_config(root, opts.base_url.as_deref())?;
    let content_dir = root.join("content");
    let found = content::discover(&content_dir, Path::new("content"));
    let mut diags = found.diags;

    // Read and parse every page, in parallel.
    let parsed: Vec<Parsed> = found
        .pages
        .par_iter()
        .map(|rel| read_page(&config, &content_dir, rel))
        .collect();
    watch.mark("read and parse pages");
    let mut pages = Vec::with_capacity(parsed.len());
    for p in parsed {
        match p {
            Ok((p, mut d)) => {
                diags.append(&mut d);
                if p.is_built(opts.drafts) {
                    pages.push(p);
                }
            }
            Err(mut d) => diags.append(&mut d),
        }
    }
    let rendered: Vec<Rendered> = pages.par_iter().map(|p| render_page(&config, p)).collect();
    watch.mark("markdown");
    if markdown::syntax_set_loaded() {
        watch.count("syntax set loaded");
    }
    assemble(root, config, pages, rendered, found.assets, diags, watch)
}

/// Files a browser runs script from when they are opened on the site's own origin: HTML in any
/// dress, SVG, XML (with a stylesheet it becomes HTML). `markdown.raw_html: escape` promises pages
/// that carry no script, so it does not publish these from content/ either.
const SCRIPTABLE: &[&str] = &[
    "html", "htm", "xhtml", "xht", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "xslt",
];

/// Take the scriptable files out of `assets`, with an error for each (see [`SCRIPTABLE`]).
pub fn refuse_scriptable(assets: &mut Vec<PathBuf>) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    assets.retain(|a| {
        let ext = a
            .extension()
            .map(|x| x.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if !SCRIPTABLE.contains(&ext.as_str()) {
            return true;
        }
        diags.push(
            Diagnostic::error(
                "scriptable-file",
                format!("a .{ext} file can run script on the site's own origin, and `markdown.raw_html: escape` in site.yaml publishes no such file from content/"),
            )
            .in_file(Path::new("content").join(a))
            .with_help("convert it (an SVG to PNG, a page to Markdown), or, if it comes from a trusted author, put it in static/ or set `raw_html: allow`"),
        );
        false
    });
    diags
}

/// A page with the problems found in it, or the reason it could not be read.
pub type Parsed = Result<(Page, Vec<Diagnostic>), Vec<Diagnostic>>;

/// Read one file under content/ and parse it into a [`Page`] (front matter checked, body not yet
/// rendered). An unreadable or non-UTF-8 file is an error; problems in the page come back beside it.
pub fn read_page(config: &SiteConfig, content_dir: &Path, rel: &Path) -> Parsed {
    let shown = Path::new("content").join(rel);
    let bytes = std::fs::read(content_dir.join(rel)).map_err(|e| {
        vec![Diagnostic::setup("io", format!("cannot read: {e}"))
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
    Ok(Page::parse(config, rel, Source::new(shown, text)))
}

/// Render one page's Markdown body with the site's options.
pub fn render_page(config: &SiteConfig, page: &Page) -> Rendered {
    let base_path = config.base_path();
    let opts = MarkdownOptions {
        raw_html: config.markdown.raw_html == crate::config::RawHtml::Allow,
        highlight: config.markdown.highlight,
        take_title: page.title.is_none(),
        base_path: &base_path,
        folder: &page.section,
    };
    markdown::render(page.body_text(), &opts)
}

/// The stages after parsing: titles, the link graph, file checks and the views. `diags` holds what
/// earlier stages found; any error among them or found here fails the whole site.
pub fn assemble(
    root: &Path,
    config: SiteConfig,
    mut pages: Vec<Page>,
    mut rendered: Vec<Rendered>,
    mut assets: Vec<PathBuf>,
    mut diags: Vec<Diagnostic>,
    watch: &mut Stopwatch,
) -> Result<Site, Vec<Diagnostic>> {
    if config.markdown.raw_html == crate::config::RawHtml::Escape {
        diags.extend(refuse_scriptable(&mut assets));
    }
    fill_last_updated(root, &mut pages);
    watch.mark("git dates");
    let base_path = config.base_path();
    let titles = views::titles(&pages, &rendered);
    let files = graph::Files::new(Some(root), &assets);
    let (graph, mut graph_diags) = graph::build(
        &pages,
        &rendered,
        &titles,
        &base_path,
        config.broken_links,
        files,
    );
    diags.append(&mut graph_diags);
    watch.mark("link graph");
    for (p, r) in pages.iter().zip(&rendered) {
        diags.extend(check_outside(p, r));
        diags.extend(check_markup(p, r));
    }

    let (errors, mut warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        diags.into_iter().partition(Diagnostic::is_error);
    if !errors.is_empty() {
        let mut all = errors;
        all.extend(warnings);
        diagnostics::sort(&mut all);
        return Err(all);
    }
    graph::expand_embeds(&mut rendered, &graph, &titles);
    let views = views::build(&config, &pages, &rendered, &titles, &graph);
    warnings.extend(views.warnings.iter().cloned());
    watch.mark("views");
    Ok(Site {
        root: root.to_path_buf(),
        config,
        pages,
        rendered,
        titles,
        graph,
        views,
        assets,
        warnings,
    })
}

/// Pages without an `updated:` field take their file's last git commit date (one git call for all).
fn fill_last_updated(root: &Path, pages: &mut [Page]) {
    let path_of = |p: &Page| format!("content/{}", p.rel_path);
    let wanted: HashSet<String> = pages
        .iter()
        .filter(|p| p.last_updated.is_none())
        .map(path_of)
        .collect();
    let dates = crate::dates::last_commit_dates(root, &wanted);
    for p in pages.iter_mut().filter(|p| p.last_updated.is_none()) {
        p.last_updated = dates.get(&path_of(p)).cloned();
    }
}

/// A page's links that climb out of the site (`../../etc/passwd`): an error each, whatever the
/// link policy (files the body points at are resolved with its other links, in [`graph`]).
pub fn check_outside(page: &Page, rendered: &Rendered) -> Vec<Diagnostic> {
    rendered
        .outside
        .iter()
        .map(|(path, span)| {
            let at = page.body.start + span.start..page.body.start + span.end;
            Diagnostic::error(
                "link-outside",
                format!("links to `{path}`, which climbs out of the site"),
            )
            .at(&page.source, at)
            .with_help("link to files beside the page or in static/, and to pages by id: [[id]]")
        })
        .collect()
}

/// Formulas and diagrams of a page that could not be drawn: each is an error at its place.
pub fn check_markup(page: &Page, rendered: &Rendered) -> Vec<Diagnostic> {
    rendered
        .bad_markup
        .iter()
        .map(|(kind, message, span)| {
            let what = match kind {
                Markup::Math => "this formula cannot be drawn",
                Markup::Diagram => "this Mermaid diagram cannot be drawn",
            };
            let at = page.body.start + span.start..page.body.start + span.end;
            Diagnostic::error(kind.code(), format!("{what}: {message}"))
                .at(&page.source, at)
                .with_help(kind.help())
        })
        .collect()
}

/// Where a content asset is published: its folders slugified like page URLs, its file name kept.
pub fn asset_output_path(rel: &Path) -> String {
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

/// Build the site into its output folder (atomically).
pub fn build(opts: &BuildOptions) -> Result<BuildReport, Vec<Diagnostic>> {
    build_timed(opts, &mut Stopwatch::off())
}

/// [`build`], marking its stages on `watch` (`fieldbook build --timings`).
pub fn build_timed(
    opts: &BuildOptions,
    watch: &mut Stopwatch,
) -> Result<BuildReport, Vec<Diagnostic>> {
    let start = Instant::now();
    let mut site = load_timed(opts, watch)?;
    watch.count("templates parsed");
    let templates = Templates::load(&site.root, &site.config.theme)?;
    watch.mark("templates");
    let mut collisions = crate::claims::check(&site, &templates);
    if !collisions.is_empty() {
        diagnostics::sort(&mut collisions);
        return Err(collisions);
    }
    watch.mark("output paths claimed");
    let out = opts
        .output
        .clone()
        .unwrap_or_else(|| site.root.join("public"));
    let staging = output::prepare(&site.root, &out).map_err(|d| vec![d])?;
    watch.mark("staging folder");
    let pages = site.pages.len();
    let warnings = std::mem::take(&mut site.warnings);
    let files = match write_site(site, &templates, &staging, watch) {
        Ok(n) => n,
        Err(d) => {
            staging.abandon();
            return Err(d);
        }
    };
    let output = staging.commit().map_err(|d| vec![d])?;
    watch.mark("swap in, delete old output");
    Ok(BuildReport {
        pages,
        files,
        output,
        elapsed: start.elapsed(),
        warnings,
    })
}

/// Check the site: everything `build` validates, writing nothing.
pub fn check(opts: &BuildOptions) -> Result<Site, Vec<Diagnostic>> {
    let site = load(opts)?;
    let templates = Templates::load(&site.root, &site.config.theme)?;
    // Render every template output and throw it away, so template errors are found too. Files that
    // come from no template (search index, sitemap, static files) cannot fail and are skipped.
    let mut diags: Vec<Diagnostic> = outputs(&site)
        .into_par_iter()
        .filter_map(|o| prepare(&site, &templates, o))
        .filter_map(|p| render_prepared(&templates, &p).err())
        .collect();
    diags.extend(crate::claims::check(&site, &templates));
    if diags.is_empty() {
        Ok(site)
    } else {
        diagnostics::sort(&mut diags);
        Err(diags)
    }
}

/// One output made from a template. [`outputs`] lists them all; [`prepare`] gathers what one of them
/// sees, so that `serve` can tell which outputs an edit changes before rendering any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Output {
    /// A content page (a section's `_index.md` included), with the redirects of its aliases.
    Page(usize),
    /// A section that has no `_index.md`: an index into `views.sections`.
    Section(usize),
    /// The list of tags.
    Tags,
    /// One tag: an index into `views.tags`.
    Tag(usize),
    /// One matrix view: an index into `views.matrices`.
    Matrix(usize),
    /// The site's 404 page.
    NotFound,
    /// The search page (`search/?q=...`), when the theme has a `search.html`.
    Search,
}

/// An output ready to render: where it goes, its template and its whole context.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Path under the site's root, e.g. `tools/doudian/index.html`.
    pub path: String,
    pub template: String,
    /// Everything the template sees (`site`, `page`, `section`...), as a JSON object.
    pub context: serde_json::Value,
    /// Redirect pages for a page's aliases: (path, HTML).
    pub aliases: Vec<(String, String)>,
}

impl Prepared {
    /// A hash of what the output depends on (template name, context, aliases): two equal prints
    /// render the same bytes with the same templates.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        // xxh3: a page's print hashes its whole context (its HTML, the navigation), some 50 kB;
        // SipHash took a tenth of the time to render the site.
        let mut h = xxhash_rust::xxh3::Xxh3Default::new();
        self.path.hash(&mut h);
        self.template.hash(&mut h);
        self.aliases.hash(&mut h);
        hash_json(&self.context, &mut h);
        h.finish()
    }
}

/// Hash a JSON tree as it is, each string in one piece (writing it out as JSON into the hasher
/// escaped every string and fed the hasher in small pieces).
/// Every node starts with its own tag and every string and list with its length, so that two
/// different trees do not feed the same bytes.
fn hash_json(v: &serde_json::Value, h: &mut impl std::hash::Hasher) {
    use serde_json::Value;
    match v {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => h.write_u8(if *b { 1 } else { 2 }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                h.write_u8(3);
                h.write_u64(u);
            } else if let Some(i) = n.as_i64() {
                h.write_u8(4);
                h.write_i64(i);
            } else {
                h.write_u8(5);
                h.write_u64(n.as_f64().map_or(0, f64::to_bits));
            }
        }
        Value::String(s) => {
            h.write_u8(6);
            h.write_usize(s.len());
            h.write(s.as_bytes());
        }
        Value::Array(a) => {
            h.write_u8(7);
            h.write_usize(a.len());
            for x in a {
                hash_json(x, h);
            }
        }
        Value::Object(m) => {
            h.write_u8(8);
            h.write_usize(m.len());
            for (k, x) in m {
                h.write_usize(k.len());
                h.write(k.as_bytes());
                hash_json(x, h);
            }
        }
    }
}

/// Every template output of the site, in a stable order.
pub fn outputs(site: &Site) -> Vec<Output> {
    let views = &site.views;
    let mut out: Vec<Output> = (0..site.pages.len()).map(Output::Page).collect();
    out.extend(
        views
            .sections
            .iter()
            .enumerate()
            .filter(|(_, (folder, _))| !views.has_index_page(folder))
            .map(|(i, _)| Output::Section(i)),
    );
    if !views.tags.is_empty() {
        // A page of the site's own at `/tags/` (Obsidian's help vault has one) is the list of tags.
        if !site.pages.iter().any(|p| p.url == "tags/") {
            out.push(Output::Tags);
        }
        out.extend((0..views.tags.len()).map(Output::Tag));
    }
    out.extend((0..views.matrices.len()).map(Output::Matrix));
    out.push(Output::NotFound);
    out.push(Output::Search);
    out
}

fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Gather the template and context of one output. `None` for a section page whose folder has no
/// section (which cannot happen for a site from [`load`]).
pub fn prepare(site: &Site, templates: &Templates, output: Output) -> Option<Prepared> {
    prepare_with(site, templates, output, &|i| {
        Cow::Borrowed(site.rendered[i].html.as_str())
    })
}

/// [`prepare`], with the Markdown HTML (still with its link holes) of page `i` given by `html(i)`.
pub fn prepare_with<'a>(
    site: &'a Site,
    templates: &Templates,
    output: Output,
    html: &(dyn Fn(usize) -> Cow<'a, str> + Sync),
) -> Option<Prepared> {
    let config = &site.config;
    let views = &site.views;
    let (path, template) = output_target(site, templates, output)?;
    let mut ctx = serde_json::Map::new();
    ctx.insert("site".into(), json(&views.site));
    let mut aliases = Vec::new();
    match output {
        Output::Page(i) => {
            let p = site.pages.get(i)?;
            let html = markdown::fill_holes(&html(i), &site.graph.fills[i]);
            let page = views::page_ctx(
                config,
                views,
                &site.pages,
                &site.titles,
                i,
                &site.rendered[i],
                html,
                &site.graph,
            );
            if p.is_section && p.section.is_empty() {
                ctx.insert("stats".into(), json(&views.stats));
            }
            if p.is_section {
                let (_, section) = views.sections.iter().find(|(f, _)| *f == p.section)?;
                let mut section = section.clone();
                section.content = page.content.clone();
                ctx.insert("section".into(), json(&section));
                ctx.insert("recent".into(), json(&views.recent));
                ctx.insert("paths".into(), json(&views.paths));
            }
            ctx.insert("page".into(), json(&page));
            let to = &views.page_refs[i].url;
            for (_, path) in alias_files(p).chain(views.name_redirects[i].iter().cloned()) {
                let html = format!(
                    "<!doctype html><meta charset=\"utf-8\"><title>Redirect</title><link rel=\"canonical\" href=\"{to}\"><meta http-equiv=\"refresh\" content=\"0; url={to}\"><a href=\"{to}\">{to}</a>\n"
                );
                aliases.push((path, html));
            }
        }
        Output::Section(i) => {
            let (folder, section) = views.sections.get(i)?;
            if folder.is_empty() {
                ctx.insert("stats".into(), json(&views.stats));
            }
            ctx.insert("section".into(), json(section));
            ctx.insert("recent".into(), json(&views.recent));
            ctx.insert("paths".into(), json(&views.paths));
        }
        Output::Tags => {
            // Each tag with its count, not its pages: a retitled page does not change the list.
            let tags: Vec<views::TagSummary> =
                views.tags.iter().map(views::TagSummary::of).collect();
            ctx.insert("tags".into(), json(&tags));
        }
        Output::Tag(i) => {
            ctx.insert("tag".into(), json(views.tags.get(i)?));
        }
        Output::Matrix(i) => {
            ctx.insert("matrix".into(), json(views.matrices.get(i)?));
        }
        Output::Search => {
            ctx.insert("stats".into(), json(&views.stats));
        }
        Output::NotFound => {}
    }
    Some(Prepared {
        path,
        template,
        context: serde_json::Value::Object(ctx),
        aliases,
    })
}

/// Where an output is written and the template it is made with, without gathering its context.
/// `None` for the search page of a theme without `search.html`, or an index out of range.
pub fn output_target(
    site: &Site,
    templates: &Templates,
    output: Output,
) -> Option<(String, String)> {
    let views = &site.views;
    Some(match output {
        Output::Page(i) => {
            let p = site.pages.get(i)?;
            let template = if p.is_section {
                if p.section.is_empty() {
                    "index.html"
                } else {
                    "section.html"
                }
                .to_string()
            } else {
                match &p.template {
                    Some(t) => t.clone(),
                    None => p
                        .kind
                        .as_ref()
                        .map(|k| format!("{k}.html"))
                        .filter(|t| templates.has(t))
                        .unwrap_or_else(|| "page.html".into()),
                }
            };
            (page_file(&p.url), template)
        }
        Output::Section(i) => {
            let (folder, _) = views.sections.get(i)?;
            if folder.is_empty() {
                (page_file(""), "index.html".to_string())
            } else {
                (page_file(&format!("{folder}/")), "section.html".to_string())
            }
        }
        Output::Tags => ("tags/index.html".into(), "tags.html".into()),
        Output::Tag(i) => (
            format!("tags/{}/index.html", views.tags.get(i)?.slug),
            "tag.html".into(),
        ),
        Output::Matrix(i) => (
            format!(
                "matrices/{}/index.html",
                slugify(&views.matrices.get(i)?.slug)
            ),
            "matrix.html".into(),
        ),
        Output::NotFound => ("404.html".into(), "404.html".into()),
        Output::Search if templates.has("search.html") => {
            (format!("{}/index.html", search::DIR), "search.html".into())
        }
        Output::Search => return None,
    })
}

/// The redirect files of a page's aliases: (the alias's index in `page.aliases`, output path). An
/// alias that names the page's own URL is no alias (it would replace the page with a redirect to
/// itself) and is left out.
pub fn alias_files(page: &Page) -> impl Iterator<Item = (usize, String)> + '_ {
    let own = page.url.trim_end_matches('/');
    page.aliases
        .iter()
        .enumerate()
        .filter_map(move |(n, alias)| {
            let url = alias.trim_matches('/');
            (url != own).then(|| (n, format!("{url}/index.html")))
        })
}

/// Render a prepared output: its file, then its alias redirects.
pub fn render_prepared(
    templates: &Templates,
    prepared: &Prepared,
) -> Result<Vec<(String, Vec<u8>)>, Diagnostic> {
    render_owned(templates, prepared.clone())
}

/// [`render_prepared`], consuming the context instead of copying it.
pub fn render_owned(
    templates: &Templates,
    prepared: Prepared,
) -> Result<Vec<(String, Vec<u8>)>, Diagnostic> {
    let template = prepared.template;
    let ctx = Context::from_value(prepared.context)
        .map_err(|e| render::template_error(&format!("templates/{template}"), &e))?;
    let html = templates.render(&template, &ctx)?;
    drop(ctx);
    let mut files = vec![(prepared.path, html.into_bytes())];
    files.extend(
        prepared
            .aliases
            .into_iter()
            .map(|(p, h)| (p, h.into_bytes())),
    );
    Ok(files)
}

/// The search index of the whole site, kept by `serve` between changes.
pub fn search_index(site: &Site) -> search::Live {
    search::Live::with_documents(
        &site.config,
        search::documents(
            &site.config,
            &site.pages,
            &site.rendered,
            &site.titles,
            &site.graph.fills,
        ),
    )
}

/// Split results into what was made and the errors met.
pub fn split_results<T>(results: Vec<Result<T, Diagnostic>>) -> (Vec<T>, Vec<Diagnostic>) {
    let mut done = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(x) => done.push(x),
            Err(d) => errors.push(d),
        }
    }
    (done, errors)
}

/// Where a static file comes from.
#[derive(Debug, Clone)]
pub enum StaticSource {
    /// A file of the theme built into the binary.
    Embedded(Vec<u8>),
    /// A file on disk (the site's static/, a theme folder of the site).
    Disk(PathBuf),
}

/// The static files of the site, by output path: the theme's, then the site's static/ (which wins
/// when both have a file).
pub fn static_files(site: &Site) -> Result<Vec<(String, StaticSource)>, Vec<Diagnostic>> {
    let root = &site.root;
    let theme = &site.config.theme;
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let theme_dir = root.join("themes").join(theme);
    let theme_list = if theme_dir.is_dir() {
        render::list_tree(
            root,
            &theme_dir.join("static"),
            &format!("themes/{theme}/static"),
        )
        .map(|l| {
            l.into_iter()
                .map(|(p, f)| (p, StaticSource::Disk(f)))
                .collect()
        })
    } else {
        render::theme_files(root, theme, "static").map(|l| {
            l.into_iter()
                .map(|f| (f.path, StaticSource::Embedded(f.bytes)))
                .collect::<Vec<_>>()
        })
    };
    match theme_list {
        Ok(list) => out.extend(list),
        Err(mut d) => diags.append(&mut d),
    }
    match render::list_tree(root, &root.join("static"), "static") {
        Ok(list) => out.extend(list.into_iter().map(|(p, f)| (p, StaticSource::Disk(f)))),
        Err(mut d) => diags.append(&mut d),
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

/// Write the whole site into `sink`: every template output (in parallel), then the search index and
/// the other whole-site files, static files and assets. Returns the number of files written.
///
/// It takes the site by value to hold as little as possible at any time: the pages' sources go
/// first (every check has run by now), each page's HTML goes as its output is written, and the
/// search text of every page as the index is made, so the whole-site files are made in the memory
/// the pages gave back.
pub fn write_site(
    mut site: Site,
    templates: &Templates,
    sink: &dyn Sink,
    watch: &mut Stopwatch,
) -> Result<usize, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut files = 0;
    let put_all = |list: Vec<(String, Vec<u8>)>, files: &mut usize, diags: &mut Vec<Diagnostic>| {
        for (path, bytes) in list {
            match sink.put(&path, bytes) {
                Ok(()) => *files += 1,
                Err(d) => diags.push(d),
            }
        }
    };
    for p in &mut site.pages {
        p.release_source();
    }
    // Template outputs, in parallel. Each page's HTML moves out of the site as its output renders,
    // so memory falls as the pages are written.
    let htmls: Vec<Mutex<String>> = site
        .rendered
        .iter_mut()
        .map(|r| Mutex::new(std::mem::take(&mut r.html)))
        .collect();
    let take_html = |i: usize| {
        Cow::Owned(
            htmls
                .get(i)
                .map(|m| std::mem::take(&mut *m.lock().unwrap_or_else(|e| e.into_inner())))
                .unwrap_or_default(),
        )
    };
    let results: Vec<Result<usize, Diagnostic>> = outputs(&site)
        .into_par_iter()
        .map(|o| {
            let Some(prepared) = prepare_with(&site, templates, o, &take_html) else {
                return Ok(0);
            };
            let files = render_owned(templates, prepared)?;
            let n = files.len();
            for (path, bytes) in files {
                sink.put(&path, bytes)?;
            }
            Ok(n)
        })
        .collect();
    for r in results {
        match r {
            Ok(n) => files += n,
            Err(d) => diags.push(d),
        }
    }
    watch.mark("render and write pages");

    // The whole-site files last, when the pages' HTML is gone.
    let index = search::take_files(
        &site.config,
        &site.pages,
        &mut site.rendered,
        &site.titles,
        &site.graph.fills,
    );
    put_all(index, &mut files, &mut diags);
    watch.mark("search index");
    put_all(site_files(&site), &mut files, &mut diags);
    watch.mark("sitemap, graph.json, nav.json");
    match static_files(&site) {
        Ok(list) => {
            for (path, from) in list {
                let r = match from {
                    StaticSource::Embedded(bytes) => sink.put(&path, bytes),
                    StaticSource::Disk(f) => sink.copy(&f, &path),
                };
                match r {
                    Ok(()) => files += 1,
                    Err(d) => diags.push(d),
                }
            }
        }
        Err(mut d) => diags.append(&mut d),
    }
    let content_dir = site.root.join("content");
    for a in &site.assets {
        match sink.copy(&content_dir.join(a), &asset_output_path(a)) {
            Ok(()) => files += 1,
            Err(d) => diags.push(d),
        }
    }
    watch.mark("static files, assets");
    if diags.is_empty() {
        Ok(files)
    } else {
        diagnostics::sort(&mut diags);
        diags.dedup_by(|a, b| a.message == b.message && a.file == b.file);
        Err(diags)
    }
}
