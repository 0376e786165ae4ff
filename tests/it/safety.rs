//! HTML safety: hostile titles and front-matter values are escaped everywhere they appear (the page,
//! the kind index, tag pages, backlinks, breadcrumbs, matrices, nav.json, graph.json, the search
//! documents); `markdown.raw_html` passes HTML through or escapes it; the live-reload script is only
//! ever in what `serve` sends.

use std::path::Path;

use serde_json::Value;

use crate::support::{tree, TestSite};

/// Every way out of an attribute, a text node, a template or an inline script at once.
const HOSTILE: &str = "<img src=x onerror=alert(1)>\"><script>{{ }}</script>";
/// The same, escaped for HTML text and attributes.
const ESCAPED: &str =
    "&lt;img src=x onerror=alert(1)&gt;&quot;&gt;&lt;script&gt;{{ }}&lt;/script&gt;";

/// Bits of [`HOSTILE`] that must never appear raw in any HTML file.
const RAW_MARKERS: [&str; 3] = ["<img src=x", "\"><script>", "<script>{{"];

/// YAML for a double-quoted scalar holding `s`.
fn yaml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn hostile_site() -> TestSite {
    let s = TestSite::new(
        "title: Safety\nkinds:\n  tool:\n    folder: tools\n    title: Tools\n    fields:\n      zh: { type: string, searchable: true }\n  position:\n    folder: positions\n    title: Positions\n    fields:\n      letter: { type: string }\n  playbook:\n    folder: playbooks\n    title: Playbooks\n    fields:\n      tools: { type: refs, to: tool }\n      positions: { type: refs, to: position }\nviews:\n  - matrix: { slug: tools-by-position, title: Tools by position, rows: tool, cols: position, via: playbook }\n",
    );
    let h = yaml_str(HOSTILE);
    s.write(
        "content/tools/evil.md",
        &format!(
            "---\ntitle: {h}\ndescription: {h}\ntags: [{h}]\nzh: {h}\n---\n\n## A heading\n\nBody text of the evil tool.\n"
        ),
    )
    .write(
        "content/positions/pos.md",
        &format!("---\ntitle: {h}\nletter: {h}\n---\n\nA position.\n"),
    )
    .write(
        "content/playbooks/play.md",
        "---\ntitle: Play\ntools: [evil]\npositions: [pos]\n---\n\nUse [[evil]] and [[pos]].\n",
    )
    .write(
        "content/guides/_index.md",
        &format!("---\ntitle: {h}\n---\n\nThe guides.\n"),
    )
    .write("content/guides/first.md", "---\ntitle: First guide\n---\n\nHello.\n");
    s
}

/// The contents of every inline `<script>` (one without `src`) of an HTML page.
fn inline_scripts(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("<script") {
        let open = at + i;
        let Some(gt) = lower[open..].find('>') else {
            break;
        };
        let tag = &lower[open..open + gt];
        let body_start = open + gt + 1;
        let end = lower[body_start..]
            .find("</script")
            .map_or(html.len(), |e| body_start + e);
        if !tag.contains(" src=") {
            out.push(html[body_start..end].to_string());
        }
        at = end.max(body_start);
    }
    out
}

fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .expect("gzip");
    out
}

/// Every string anywhere in a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings(x, out)
        }),
        _ => {}
    }
}

#[test]
fn hostile_titles_and_fields_are_escaped_everywhere_they_appear() {
    let s = hostile_site();
    s.build();
    let public = s.path("public");
    let files = tree(&public);
    let mut html_files = 0;
    for (rel, bytes) in &files {
        if !rel.ends_with(".html") {
            continue;
        }
        html_files += 1;
        let html = String::from_utf8_lossy(bytes);
        for m in RAW_MARKERS {
            assert!(!html.contains(m), "{rel} has a raw {m:?}:\n{html}");
        }
        for script in inline_scripts(&html) {
            assert!(
                !script.contains("onerror") && !script.contains("{{"),
                "{rel}: the value reached an inline script: {script}"
            );
        }
    }
    assert!(html_files >= 10, "{html_files} HTML files");

    // Where the value shows, it shows escaped, exactly once per place.
    let page = s.output("tools/evil/index.html");
    assert!(page.contains(&format!("<h1>{ESCAPED}</h1>")), "{page}");
    assert!(page.contains(&format!("<title>{ESCAPED}")), "{page}");
    assert!(
        page.contains(&format!("content=\"{ESCAPED}\"")),
        "description meta: {page}"
    );
    let index = s.output("tools/index.html");
    assert!(index.contains(ESCAPED), "kind index: {index}");
    let tags = s.output("tags/index.html");
    assert!(tags.contains(ESCAPED), "tag list: {tags}");
    let tag_pages: Vec<&(String, Vec<u8>)> = files
        .iter()
        .filter(|(r, _)| r.starts_with("tags/") && r != "tags/index.html")
        .collect();
    assert_eq!(tag_pages.len(), 1, "one tag page");
    let tag_page = String::from_utf8_lossy(&tag_pages[0].1);
    assert!(tag_page.contains(ESCAPED), "tag page: {tag_page}");
    let play = s.output("playbooks/play/index.html");
    assert!(
        play.contains(&format!("href=\"/tools/evil/\">{ESCAPED}</a>")),
        "the wikilink and the facts show the title: {play}"
    );
    let pos = s.output("positions/pos/index.html");
    assert!(pos.contains("Linked from"), "backlinks: {pos}");
    assert!(
        page.contains("href=\"/playbooks/play/\""),
        "backlink on the tool: {page}"
    );
    let guide = s.output("guides/first/index.html");
    assert!(
        guide.contains(&format!("<a href=\"/guides/\">{ESCAPED}</a>")),
        "breadcrumbs: {guide}"
    );
    let matrix = files
        .iter()
        .find(|(r, _)| r.contains("tools-by-position") && r.ends_with(".html"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .expect("the matrix page");
    assert!(matrix.matches(ESCAPED).count() >= 2, "matrix: {matrix}");

    // JSON outputs are valid and carry the value exactly, as data.
    for name in ["nav.json", "graph.json"] {
        let v: Value = serde_json::from_str(&s.output(name))
            .unwrap_or_else(|e| panic!("{name} is not valid JSON: {e}"));
        let mut all = Vec::new();
        strings(&v, &mut all);
        assert!(all.iter().any(|x| x == HOSTILE), "{name}: {v}");
    }
    // The search documents too.
    let mut found = false;
    for (rel, bytes) in &files {
        if rel.starts_with("search/d/") {
            let v: Value = serde_json::from_str(&gunzip(bytes)).expect("search doc JSON");
            let mut all = Vec::new();
            strings(&v, &mut all);
            found |= all.iter().any(|x| x == HOSTILE);
        }
    }
    assert!(found, "no search document carries the title");
    let manifest: Value =
        serde_json::from_str(&s.output("search/manifest.json")).expect("manifest JSON");
    assert!(manifest.is_object());
}

fn raw_html_site(setting: &str) -> TestSite {
    let s = TestSite::new(&format!("title: T\n{setting}"));
    s.write(
        "content/x.md",
        "---\ntitle: X\n---\n\n<div class=\"box\" onclick=\"steal()\">A block</div>\n\nInline <b>bold</b> and <img src=y onerror=alert(2)>.\n\n# Heading <em>em</em>\n",
    );
    s
}

#[test]
fn raw_html_allow_passes_html_through_and_is_the_default() {
    for setting in ["", "markdown: { raw_html: allow }\n"] {
        let s = raw_html_site(setting);
        s.build();
        let html = s.output("x/index.html");
        assert!(
            html.contains("<div class=\"box\" onclick=\"steal()\">A block</div>"),
            "{setting:?}: {html}"
        );
        assert!(html.contains("Inline <b>bold</b>"), "{html}");
        assert!(html.contains("<img src=y onerror=alert(2)>"), "{html}");
    }
}

#[test]
fn raw_html_escape_shows_html_as_text() {
    let s = raw_html_site("markdown:\n  raw_html: escape\n");
    s.build();
    let html = s.output("x/index.html");
    let body = &html[html.find("<div class=\"prose\">").expect("prose")..];
    assert!(!body.contains("<div class=\"box\""), "{body}");
    assert!(!body.contains("<b>"), "{body}");
    assert!(!body.contains("<img src=y"), "{body}");
    assert!(!body.contains("<em>"), "{body}");
    assert!(
        body.contains("<p>&lt;div class=\"box\" onclick=\"steal()\"&gt;A block&lt;/div&gt;"),
        "{body}"
    );
    assert!(body.contains("Inline &lt;b&gt;bold&lt;/b&gt;"), "{body}");
    assert!(
        body.contains("&lt;img src=y onerror=alert(2)&gt;"),
        "{body}"
    );
    assert!(body.contains("Heading &lt;em&gt;em&lt;/em&gt;"), "{body}");
    // The old boolean spelling still works.
    let s = raw_html_site("markdown: { raw_html: false }\n");
    s.build();
    assert!(s.output("x/index.html").contains("Inline &lt;b&gt;bold"));
}

#[test]
fn a_wrong_raw_html_value_is_a_located_error_with_the_choices() {
    let s = TestSite::new("title: T\nmarkdown:\n  raw_html: strip\n");
    s.write("content/x.md", "x\n");
    let run = s.run(&["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("site.yaml:3:13"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("\"strip\", expected `allow` or `escape`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`escape` shows it as text"),
        "{}",
        run.stderr
    );
    assert!(!s.path("public").exists());
}

/// Every HTML file of a folder, relative path and text.
fn html_of(dir: &Path) -> Vec<(String, String)> {
    tree(dir)
        .into_iter()
        .filter(|(r, _)| r.ends_with(".html"))
        .map(|(r, b)| (r, String::from_utf8_lossy(&b).into_owned()))
        .collect()
}

#[test]
fn the_reload_script_is_in_what_serve_sends_and_never_in_what_build_writes() {
    let site = hostile_site();
    site.build();
    let built = html_of(&site.path("public"));
    assert!(built.len() >= 10);
    for (rel, html) in &built {
        assert!(
            !html.contains("__fieldbook") && !html.contains("reload.js"),
            "{rel} has the reload script"
        );
    }
    assert!(!tree(&site.path("public"))
        .iter()
        .any(|(r, _)| r.contains("__fieldbook") || r.contains("reload")));
    // The same pages from serve: each is the built page with the script tag, and nothing else.
    let server = crate::serve::Server::start(site.root(), &[]);
    let tag = "<script src=\"/__fieldbook/reload.js\"></script>";
    for (rel, html) in &built {
        if rel == "404.html" {
            continue;
        }
        let url = format!("/{}", rel.strip_suffix("index.html").unwrap_or(rel));
        let served = server.get(&url);
        assert_eq!(served.status, 200, "{url}");
        let text = served.text();
        assert_eq!(text.matches(tag).count(), 1, "{url}");
        assert_eq!(
            text.replacen(tag, "", 1),
            *html,
            "{url} differs from the build"
        );
    }
}
