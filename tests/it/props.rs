//! Property tests: the text-handling parts of the library (front-matter split, front-matter
//! validation, Markdown, slugs and heading anchors, the search tokenizer, the serve path resolver
//! and request-head parser)
//! never panic on any input, and keep the invariants the rest of the site relies on.
//!
//! Each property runs a few hundred generated cases; `PROPTEST_CASES=10000 cargo test --test it props`
//! runs more. The fuzz targets in `fuzz/` drive the same functions with coverage guidance.

use std::cell::RefCell;
use std::path::{Component, Path};

use fieldbook::config::SiteConfig;
use fieldbook::content::{slugify, split_front_matter, Page};
use fieldbook::diagnostics::{self, Source};
use fieldbook::markdown::{fill_holes, fill_text_holes, render, Fill, LinkKind, MarkdownOptions};
use fieldbook::schema::Value;
use fieldbook::search::query;
use fieldbook::search::tokenize::{self, Piece, MAX_WORD_BYTES};
use fieldbook::serve::http::{parse_request_head, HeadError, Method, MAX_HEAD};
use fieldbook::serve::path::{content_type, host_allowed, resolve, Resolved};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;

/// Cases per property: enough to find the easy bugs on every `cargo test`, few enough that the whole
/// module stays within a few seconds in a debug build. `PROPTEST_CASES` overrides it.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        // A failure is kept as a named regression test here, not in a side file.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text built from pieces that mean something to the parser under test, mixed with arbitrary
/// characters, so that cases reach deep into the grammar instead of staying plain text.
fn soup(pieces: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => select(pieces).prop_map(str::to_string),
            1 => any::<char>().prop_map(String::from),
            1 => "[a-zA-Z0-9 ]{1,8}",
        ],
        0..max,
    )
    .prop_map(|v| v.concat())
}

// ---------------------------------------------------------------------------------------------
// Front matter: split, YAML, validation against a kind's schema

const BOM: char = '\u{feff}';

const FRONT_MATTER_PIECES: &[&str] = &[
    "---",
    "---\n",
    "...\n",
    "\n",
    "\r\n",
    "\u{feff}",
    "title: ",
    "kind: tool\n",
    "tool",
    "tags: ",
    "[a, b]",
    "- x\n",
    "  ",
    "weight: ",
    "12",
    "-3",
    "draft: ",
    "true",
    "date: ",
    "2024-05-31",
    "2024-13-99",
    "category: ",
    "store",
    "positions: ",
    "[p1, ' p2 ']",
    "owner: ",
    "steps:\n",
    "  - page: a\n",
    "    why: b\n",
    "rating: 4.5",
    "site: https://x.org",
    "meta: {a: 1, b: [2]}",
    ": ",
    "\"",
    "'",
    "{",
    "}",
    "[",
    "]",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "? ",
    "|\n",
    ">\n",
    "\t",
    "%",
    "slug: ",
    "aliases: ",
    "~",
    "null",
    "1e400",
    "0x1F",
    "<<: *a\n",
    "\u{0}",
    "é",
    "巨量",
];

/// A config with a kind that uses every field type, so validation walks every branch.
const KINDS_YAML: &str = "\
title: Props
kinds:
  tool:
    folder: tools
    title: Tools
    fields:
      category: { type: enum, values: [store, ads], required: true }
      positions: { type: refs, to: position }
      owner: { type: ref, to: position }
      rating: { type: number }
      count: { type: int, default: 3 }
      site: { type: url }
      since: { type: date }
      flag: { type: bool }
      notes: { type: text }
      meta: { type: object, fields: { a: { type: int }, b: { type: list, of: int } } }
      steps:
        type: list
        of: { type: object, fields: { page: { type: ref }, why: { type: string } } }
  position:
    folder: positions
    title: Positions
";

fn site_config() -> SiteConfig {
    let src = Source::new("site.yaml", KINDS_YAML);
    match SiteConfig::parse(&src) {
        Ok(c) => c,
        Err(d) => panic!("test config does not parse: {d:?}"),
    }
}

/// A slug as `slugify` promises it: letters and digits (any script, lowercase) in runs joined by
/// single dashes, or empty.
fn assert_slug(s: &str) {
    assert!(!s.starts_with('-') && !s.ends_with('-'), "{s:?}");
    assert!(!s.contains("--"), "{s:?}");
    assert!(
        s.chars().all(|c| c == '-' || c.is_alphanumeric()),
        "slug {s:?} has a character that is neither a letter, a digit nor `-`"
    );
    assert_eq!(slugify(s), s, "slugify is not idempotent on {s:?}");
}

/// Parse a page and check what every page must satisfy, whatever its text.
fn check_page(config: &SiteConfig, rel: &str, text: &str) -> (Page, Vec<fieldbook::Diagnostic>) {
    let (page, diags) = Page::parse(config, Path::new(rel), Source::new(rel, text));
    assert!(
        text.get(page.body.clone()).is_some(),
        "body {:?}",
        page.body
    );
    assert_slug(&page.slug);
    assert!(
        page.url.is_empty() || page.url.ends_with('/'),
        "{}",
        page.url
    );
    assert!(!page.id.is_empty());
    if let Some(k) = &page.kind {
        assert!(config.kinds.contains_key(k), "{k}");
    }
    for d in &diags {
        if let Some((t, r)) = &d.span {
            assert!(t.get(r.clone()).is_some(), "span {r:?} of {}", d.message);
        }
    }
    // The reports themselves must render, whatever the spans.
    let _ = diagnostics::render_terminal(&diags, false);
    let _ = diagnostics::render_json(&diags);
    (page, diags)
}

proptest! {
    #![proptest_config(config(1000))]

    /// Any text splits into in-bounds ranges: optional YAML, then the body up to the end.
    #[test]
    fn split_ranges_are_in_bounds(text in prop_oneof![any::<String>(), soup(FRONT_MATTER_PIECES, 30)]) {
        match split_front_matter(&text) {
            Ok(s) => {
                prop_assert_eq!(s.body.end, text.len());
                prop_assert!(text.get(s.body.clone()).is_some());
                if let Some(y) = s.yaml {
                    prop_assert!(text.get(y.clone()).is_some());
                    prop_assert!(y.end <= s.body.start);
                    let opening = text[..y.start].trim_start_matches(BOM).trim_end();
                    prop_assert_eq!(opening, "---");
                } else {
                    prop_assert!(s.body.start == 0 || text.starts_with(BOM));
                }
            }
            Err(r) => prop_assert!(text.get(r).is_some()),
        }
    }

    /// Front matter written as `---`, YAML lines, `---`, body comes back exactly as written,
    /// with or without a BOM and CRLF line endings.
    #[test]
    fn split_returns_what_was_written(
        lines in prop::collection::vec("[^\n\r]{0,20}", 0..6)
            .prop_filter("no closing line inside", |ls| ls.iter().all(|l| !matches!(l.trim_end(), "---" | "..."))),
        body in any::<String>(),
        bom in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let yaml: String = lines.iter().map(|l| format!("{l}{nl}")).collect();
        let text = format!("{}---{nl}{yaml}---{nl}{body}", if bom { "\u{feff}" } else { "" });
        let s = split_front_matter(&text).map_err(|r| TestCaseError::fail(format!("{r:?}")))?;
        prop_assert_eq!(&text[s.yaml.unwrap_or(0..0)], yaml.as_str());
        prop_assert_eq!(&text[s.body], body.as_str());
    }

    /// Parsing a page (split, YAML, built-in fields, the kind's schema) never panics, in a kind's
    /// folder, in a section and outside any kind, and every diagnostic points inside the file.
    #[test]
    fn page_parse_never_panics(
        text in prop_oneof![any::<String>(), soup(FRONT_MATTER_PIECES, 40).prop_map(|t| format!("---\n{t}\n---\nbody"))],
        rel in select(&["tools/x.md", "tools/_index.md", "misc/deep/y.md", "index.md"][..]),
    ) {
        check_page(&site_config(), rel, &text);
    }

    /// Well-formed front matter, however odd its strings, reads back as written with no diagnostics.
    #[test]
    fn valid_front_matter_round_trips(
        title in any::<String>(),
        // However odd, a tag needs a letter or digit: without one it has no URL, and is an error.
        tags in prop::collection::vec((any::<String>(), "[a-z0-9]").prop_map(|(s, c)| format!("{s}{c}")), 0..4),
        weight in any::<i64>(),
        category in select(&["store", "ads"][..]),
        owner in "[a-z][a-z0-9-]{0,12}",
        body in any::<String>(),
    ) {
        let mut fm = serde_yaml::Mapping::new();
        fm.insert("title".into(), title.clone().into());
        fm.insert("tags".into(), tags.iter().cloned().map(serde_yaml::Value::from).collect());
        fm.insert("weight".into(), weight.into());
        fm.insert("category".into(), category.into());
        fm.insert("owner".into(), owner.clone().into());
        let yaml = serde_yaml::to_string(&fm).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = format!("---\n{yaml}---\n{body}");
        let (page, diags) = check_page(&site_config(), "tools/x.md", &text);
        prop_assert!(diags.is_empty(), "{:?}\n{}", diags, text);
        // A blank title is an unset one, as Obsidian writes it.
        let want_title = Some(title.as_str()).filter(|t| !t.trim().is_empty());
        prop_assert_eq!(page.title.as_deref(), want_title);
        // Tags lose a leading `#` (Obsidian's way of writing them) and repeat once per slug.
        let mut want_tags: Vec<String> = Vec::new();
        for t in &tags {
            let t = t.trim().trim_start_matches('#').trim();
            if !want_tags.iter().any(|w| slugify(w) == slugify(t)) {
                want_tags.push(t.to_string());
            }
        }
        prop_assert_eq!(&page.tags, &want_tags);
        prop_assert_eq!(page.weight, Some(weight));
        prop_assert_eq!(page.kind.as_deref(), Some("tool"));
        prop_assert_eq!(page.body_text(), body.as_str());
        prop_assert_eq!(page.fields.get("category"), Some(&Value::Str(category.into())));
        prop_assert_eq!(page.fields.get("count"), Some(&Value::Int(3)));
        let refs: Vec<&str> = page.fields.get("owner").map(|v| v.refs()).unwrap_or_default()
            .iter().map(|r| r.target.as_str()).collect();
        prop_assert_eq!(refs, vec![owner.as_str()]);
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown: wikilinks, callouts, headings, raw-HTML policy

const MARKDOWN_PIECES: &[&str] = &[
    "\n",
    "\n\n",
    "# ",
    "## ",
    "### ",
    "#",
    " {#id}",
    " {.cls}",
    " {#a .b c=d}",
    "Title",
    "> ",
    "> [!NOTE]\n",
    "> [!WARNING]\n> ",
    "> [!TIP]",
    ">>",
    "[[",
    "]]",
    "|",
    "[[page]]",
    "[[tools/x#frag|label]]",
    "[",
    "]",
    "(",
    ")",
    "](other.md)",
    "](../../up.md#x)",
    "](img/a.png)",
    "](/abs/)",
    "](https://x.org)",
    "](#top)",
    "![",
    "`",
    "```",
    "```rust\n",
    "```nosuch\n",
    "$",
    "$$",
    "$x^2$",
    "\\frac{",
    "\\text{<b>}",
    "\\operatorname{<img/src=x/onerror=alert(1)>}",
    "```mermaid\n",
    "flowchart LR\n",
    "A[\"<img src=x onerror=alert(1)>\"] --> B\n",
    "click A \"javascript:alert(1)\"\n",
    "~~~",
    "    ",
    "\t",
    "*",
    "_",
    "**",
    "~~",
    "- ",
    "1. ",
    "- [ ] ",
    "| a | b |\n",
    "|---|---|\n",
    "[^1]",
    "[^1]: note\n",
    "<",
    ">",
    "<script>",
    "</script>",
    "<SCRIPT src=x>",
    "<img src=x onerror=y>",
    "<div>",
    "</div>",
    "<!--",
    "-->",
    "&amp;",
    "&",
    "\"",
    "'",
    "\\",
    "---\n",
    "===\n",
    "%20",
    "é",
    "巨量千川",
    "\u{0}",
    "\r\n",
    "<a href=\"\u{FDD0}",
    "\u{FDD0}",
    "\u{FDD1}",
    "H0",
    "L1",
    "==",
    "%%",
    "#tag",
    "#a/b",
    " ^id",
    "^blk\n",
    "> [!tip]- ",
    "> [!faq]+ Title\n",
    "> [!bug] *t*\n> ",
    "[!x]",
];

const HEADING_ATTR_PIECES: &[&str] = &[
    " ",
    "#id",
    ".cls",
    "onclick=x",
    "ONload=\"y\"",
    "k=v",
    "=",
    "\"",
    "'",
    "<",
    ">",
    "&",
    "{",
    "}",
];

fn md_opts(raw_html: bool, highlight: bool, take_title: bool) -> MarkdownOptions<'static> {
    MarkdownOptions {
        raw_html,
        highlight,
        take_title,
        base_path: "/kb/",
        folder: "tools/deep",
    }
}

/// Tags the renderer itself writes. With raw HTML escaped, no other tag may appear in the output.
const RENDERER_TAGS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "span",
    "ul",
    "ol",
    "li",
    "input",
    "blockquote",
    "aside",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "hr",
    "br",
    "sup",
    "section",
    // Math (MathML).
    "math",
    "semantics",
    "annotation",
    "mrow",
    "mi",
    "mn",
    "mo",
    "ms",
    "mspace",
    "mtext",
    "mfrac",
    "msqrt",
    "mroot",
    "mstyle",
    "merror",
    "mpadded",
    "mphantom",
    "msub",
    "msup",
    "msubsup",
    "munder",
    "mover",
    "munderover",
    "mmultiscripts",
    "mprescripts",
    "none",
    "mtable",
    "mtr",
    "mtd",
    "menclose",
    // Diagrams (SVG in a figure).
    "figure",
    "svg",
    "g",
    "defs",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textpath",
    "title",
    "desc",
    "marker",
    "clippath",
    "mask",
    "pattern",
    "lineargradient",
    "radialgradient",
    "stop",
    "symbol",
    "use",
    // Obsidian: highlights, folds; embedded media.
    "mark",
    "details",
    "summary",
    "audio",
    "video",
    "iframe",
];

/// Every tag in `html`, lowercase and without `/`.
fn tags(html: &str) -> Vec<String> {
    html.split('<')
        .skip(1)
        .map(|t| {
            t.trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .collect()
}

proptest! {
    #![proptest_config(config(1000))]

    /// Any text renders, whatever the options, and every link hole the HTML holds has a link.
    #[test]
    fn render_never_panics(
        body in prop_oneof![any::<String>(), soup(MARKDOWN_PIECES, 60)],
        raw_html in any::<bool>(),
        highlight in any::<bool>(),
        take_title in any::<bool>(),
    ) {
        let r = render(&body, &md_opts(raw_html, highlight, take_title));
        for l in &r.links {
            prop_assert!(body.get(l.span.clone()).is_some(), "{:?}", l.span);
        }
        for (_, span) in &r.outside {
            prop_assert!(body.get(span.clone()).is_some(), "{span:?}");
        }
        for (tag, span) in &r.tags {
            let written = format!("#{tag}");
            prop_assert_eq!(body.get(span.clone()), Some(written.as_str()));
        }
        let fills: Vec<Option<Fill>> = (0..r.links.len())
            .map(|i| Some(Fill { href: format!("/p{i}/"), label: format!("P{i}"), ..Fill::default() }))
            .collect();
        let html = fill_holes(&r.html, &fills);
        let _ = fill_holes(&r.html, &[]);
        for (_, text) in &r.sections {
            let _ = fill_text_holes(text, &fills);
        }
        if !body.contains(['\u{FDD0}', '\u{FDD1}']) {
            // Every hole is filled (no marker is left behind).
            prop_assert!(!html.contains(['\u{FDD0}', '\u{FDD1}']), "{html}");
        }
    }

    /// With raw HTML off, whatever the author writes, the output holds only the renderer's own tags:
    /// no `<script>`, no `<img onerror>`, no comment.
    #[test]
    fn escaped_mode_writes_only_the_renderers_tags(
        body in prop_oneof![
            soup(MARKDOWN_PIECES, 60),
            // A heading with `{...}` attributes, then more.
            (soup(MARKDOWN_PIECES, 8), soup(HEADING_ATTR_PIECES, 8), soup(MARKDOWN_PIECES, 20))
                .prop_map(|(h, a, rest)| format!("## {h} {{{a}}}\n\n{rest}")),
        ],
        highlight in any::<bool>(),
    ) {
        let r = render(&body, &md_opts(false, highlight, false));
        let html = fill_holes(&r.html, &[]);
        prop_assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
        prop_assert!(!html.contains("<!--"), "{html}");
        for t in tags(&html) {
            prop_assert!(RENDERER_TAGS.contains(&t.as_str()), "tag <{t}> in {html}");
        }
        // No event-handler attribute either (attribute values are quoted and escaped, so a name is
        // what follows a space inside a tag).
        for tag in html.split('<').skip(1) {
            let inside = &tag[..tag.find('>').unwrap_or(tag.len())];
            let mut in_value = false;
            for (i, c) in inside.char_indices() {
                if c == '"' {
                    in_value = !in_value;
                } else if c == ' ' && !in_value {
                    let name = inside[i + 1..].to_ascii_lowercase();
                    prop_assert!(!name.starts_with("on"), "handler in <{inside}>");
                }
            }
        }
        // Callouts open and close in pairs.
        prop_assert_eq!(html.matches("<aside ").count(), html.matches("</aside>").count());
        prop_assert_eq!(html.matches("<details ").count(), html.matches("</details>").count());
        prop_assert_eq!(html.matches("<mark>").count(), html.matches("</mark>").count());
    }

    /// Heading anchors are unique on a page, non-empty slugs (or the author's `{#id}`), and the HTML
    /// carries each one.
    #[test]
    fn heading_ids_are_unique(
        titles in prop::collection::vec(
            prop_oneof![select(&["Setup", "Setup-1", "setup 1", "", "!!", "巨量", "Step #2"][..]).prop_map(str::to_string), any::<String>()],
            1..12,
        ),
    ) {
        let body: String = titles
            .iter()
            .map(|t| format!("## {}\n\n", t.replace(['\n', '\r'], " ")))
            .collect();
        let r = render(&body, &md_opts(false, false, false));
        let mut seen = std::collections::HashSet::new();
        for h in &r.headings {
            prop_assert!(!h.id.is_empty());
            prop_assert!(seen.insert(h.id.clone()), "duplicate id {:?} in {:?}", h.id, r.headings);
            let mut escaped = String::new();
            pulldown_cmark_escape::escape_html(&mut escaped, &h.id).ok();
            prop_assert!(r.html.contains(&format!("id=\"{escaped}\"")), "{}", r.html);
        }
    }

    /// `[[target]]` and `[[target|label]]` become one link each, with the target as written and the
    /// label in the HTML once filled.
    #[test]
    fn wikilinks_keep_target_and_label(
        target in "[a-z0-9][a-z0-9 /-]{0,20}",
        frag in proptest::option::of("[a-z0-9-]{1,10}"),
        label in proptest::option::of("[A-Za-z0-9<>&\"]([A-Za-z0-9 <>&\"]{0,10}[A-Za-z0-9<>&\"])?"),
    ) {
        let target = target.trim_end().to_string();
        let full = match &frag { Some(f) => format!("{target}#{f}"), None => target.clone() };
        let body = match &label {
            Some(l) => format!("See [[{full}|{l}]] here.\n"),
            None => format!("See [[{full}]] here.\n"),
        };
        let r = render(&body, &md_opts(false, false, false));
        prop_assert_eq!(r.links.len(), 1, "{}", r.html);
        let link = &r.links[0];
        prop_assert_eq!(&link.target, &target);
        prop_assert_eq!(&link.fragment, &frag);
        prop_assert_eq!(&link.kind, &LinkKind::Wiki { has_label: label.is_some() });
        let html = fill_holes(&r.html, &[Some(Fill { href: "/t/".into(), label: "Title <T>".into(), ..Fill::default() })]);
        let shown = label.clone().unwrap_or_else(|| "Title <T>".into());
        let mut escaped = String::new();
        pulldown_cmark_escape::escape_html_body_text(&mut escaped, &shown).ok();
        prop_assert!(html.contains(&format!("href=\"/t/\">{escaped}</a>")), "{html}");
    }

    /// A callout wraps its text in an aside of its kind.
    #[test]
    fn callouts_wrap_their_text(
        kind in select(&["NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"][..]),
        text in "[A-Za-z0-9][A-Za-z0-9 ]{0,30}",
    ) {
        let r = render(&format!("> [!{kind}]\n> {text}\n"), &md_opts(false, false, false));
        let class = format!("<aside class=\"callout callout-{}\"", kind.to_lowercase());
        prop_assert!(r.html.contains(&class), "{}", r.html);
        let inner = &r.html[r.html.find(&class).unwrap_or(0)..];
        prop_assert!(inner.contains(text.trim_end()), "{}", r.html);
        prop_assert!(r.html.trim_end().ends_with("</aside>"), "{}", r.html);
    }
}

// ---------------------------------------------------------------------------------------------
// Slugs

/// Letters whose lowercase is special: several characters, a combining mark, a title case.
const SLUG_PIECES: &[&str] = &[
    "İ", "ǅ", "ß", "Σ", "ΑΣ", "ﬃ", "\u{301}", "Ⅻ", "①", "_", "-", " ", "a",
];

proptest! {
    #![proptest_config(config(2000))]

    /// Slugs hold only letters, digits and single inner dashes, and slugifying again changes nothing.
    #[test]
    fn slugs_are_clean_and_idempotent(name in prop_oneof![any::<String>(), "[A-Za-z0-9 _.'-]{0,30}", soup(SLUG_PIECES, 10)]) {
        assert_slug(&slugify(&name));
    }

    /// Lowercase ASCII words joined by dashes are their own slugs.
    #[test]
    fn clean_names_are_their_own_slugs(words in prop::collection::vec("[a-z0-9]{1,8}", 1..5)) {
        let name = words.join("-");
        prop_assert_eq!(slugify(&name), name);
    }
}

// ---------------------------------------------------------------------------------------------
// Search tokenizer and query parser

const SEARCH_PIECES: &[&str] = &[
    " ",
    "'",
    "\u{2019}",
    "'s",
    "don't",
    "The",
    "tools",
    "studies",
    "İ",
    "Σ",
    "ΑΣ",
    "ß",
    "ǅ",
    "巨量千川",
    "カタカナ",
    "한국어",
    "\u{20000}",
    "\u{FF21}",
    "\"",
    "\u{201C}",
    "\u{201D}",
    "123",
    "x",
    "-",
    "\u{0}",
    "\u{301}",
    "é",
];

proptest! {
    #![proptest_config(config(2000))]

    /// Every term is non-empty, lowercase, short enough to index, and free of spaces and apostrophes.
    #[test]
    fn terms_are_nonempty_lowercase_and_bounded(text in prop_oneof![any::<String>(), soup(SEARCH_PIECES, 40)]) {
        for t in tokenize::terms(&text) {
            prop_assert!(!t.is_empty());
            prop_assert_eq!(t.to_lowercase(), t.clone());
            prop_assert!(t.len() <= MAX_WORD_BYTES, "{t:?}");
            prop_assert!(!t.contains(char::is_whitespace) && !t.contains(['\'', '\u{2019}']), "{t:?}");
        }
    }

    /// Pieces are the text's own slices, in order and apart; words start with a letter or digit and
    /// hold only letters, digits and apostrophes; CJK runs only CJK; what lies between is neither.
    #[test]
    fn pieces_partition_the_text(text in prop_oneof![any::<String>(), soup(SEARCH_PIECES, 40)]) {
        let base = text.as_ptr() as usize;
        let mut at = 0;
        for p in tokenize::pieces(&text) {
            let s = match p { Piece::Word(s) | Piece::Cjk(s) => s };
            let start = s.as_ptr() as usize - base;
            prop_assert!(start >= at && start + s.len() <= text.len());
            for c in text[at..start].chars() {
                prop_assert!(!tokenize::is_cjk(c) && !c.is_alphanumeric(), "{c:?} between pieces");
            }
            prop_assert!(!s.is_empty());
            match p {
                Piece::Word(w) => {
                    prop_assert!(w.starts_with(char::is_alphanumeric), "{w:?}");
                    prop_assert!(!w.ends_with(['\'', '\u{2019}']), "{w:?}");
                    prop_assert!(w.chars().all(|c| (c.is_alphanumeric() && !tokenize::is_cjk(c)) || c == '\'' || c == '\u{2019}'), "{w:?}");
                }
                Piece::Cjk(r) => prop_assert!(r.chars().all(tokenize::is_cjk), "{r:?}"),
            }
            at = start + s.len();
        }
        for c in text[at..].chars() {
            prop_assert!(!tokenize::is_cjk(c) && !c.is_alphanumeric() || c == '\'' || c == '\u{2019}', "{c:?} after the last piece");
        }
    }

    /// Queries parse, and their exact terms are terms the indexer could have made.
    #[test]
    fn query_parse_never_panics(text in prop_oneof![any::<String>(), soup(SEARCH_PIECES, 40)], typing in any::<bool>()) {
        let q = query::parse(&text, typing);
        for g in &q.groups {
            if let Some(e) = &g.exact {
                prop_assert!(!e.is_empty() && e.to_lowercase() == *e, "{e:?}");
            }
        }
        let _ = query::normalize_phrase(&text);
    }

    /// The UTF-16 order is a total order that agrees with JavaScript's (code units).
    #[test]
    fn utf16_order_matches_code_units(a in any::<String>(), b in any::<String>()) {
        let want = a.encode_utf16().collect::<Vec<_>>().cmp(&b.encode_utf16().collect::<Vec<_>>());
        prop_assert_eq!(tokenize::cmp_utf16(&a, &b), want);
        prop_assert_eq!(tokenize::cmp_utf16(&b, &a), want.reverse());
    }
}

// ---------------------------------------------------------------------------------------------
// Serve: request path resolution

const PATH_PIECES: &[&str] = &[
    "/",
    "//",
    "..",
    ".",
    "%2e",
    "%2E",
    "%2e%2e",
    ".%2e",
    "%2f",
    "%2F",
    "\\",
    "%5c",
    "%5C",
    "%00",
    "\u{0}",
    "%0a",
    "\n",
    "%",
    "%z",
    "%c0%ae",
    "%25",
    "%252e",
    "?",
    "#",
    "?q=1",
    "index.html",
    "tools",
    "a b",
    "%20",
    "é",
    "%C3%A9",
    "%ff",
    "__fieldbook",
    "/__fieldbook/events",
    "/__fieldbook/reload.js",
    "http://evil.example",
    "C:",
    "~",
    "*",
];

/// A path a resolver may hand to the site map: relative, plain segments only.
fn assert_inside_site(p: &str) {
    assert!(!p.is_empty() && !p.starts_with('/'), "{p:?}");
    assert!(!p.contains('\\') && !p.contains(char::is_control), "{p:?}");
    assert!(
        p.split('/').all(|s| !s.is_empty() && s != "." && s != ".."),
        "{p:?}"
    );
    assert!(
        Path::new(p)
            .components()
            .all(|c| matches!(c, Component::Normal(_))),
        "{p:?} leaves the site root"
    );
}

proptest! {
    #![proptest_config(config(2000))]

    /// Whatever the request target, the resolver only ever looks up, serves or redirects to paths
    /// inside the site, and a redirect is never protocol-relative.
    #[test]
    fn resolve_never_leaves_the_site(
        target in prop_oneof![any::<String>(), soup(PATH_PIECES, 16), soup(PATH_PIECES, 16).prop_map(|t| format!("/{t}"))],
        all_exist in any::<bool>(),
    ) {
        let asked = RefCell::new(Vec::new());
        let resolved = resolve(&target, |p: &str| {
            asked.borrow_mut().push(p.to_string());
            all_exist || p.ends_with("index.html")
        });
        for p in asked.borrow().iter() {
            assert_inside_site(p);
        }
        match resolved {
            Resolved::File(p) => assert_inside_site(&p),
            Resolved::Redirect(loc) => {
                prop_assert!(loc.starts_with('/') && !loc.starts_with("//"), "{loc:?}");
                // Nothing that could end the header line or start another.
                prop_assert!(!loc.contains(|c: char| c.is_control() || c.is_whitespace()), "{loc:?}");
                let path = &loc[..loc.find('?').unwrap_or(loc.len())];
                prop_assert!(!path.contains('\\'), "{loc:?}");
                prop_assert!(path.split('/').all(|s| s != "." && s != ".."), "{loc:?}");
            }
            Resolved::Events | Resolved::Script | Resolved::Status | Resolved::NotFound => {}
        }
    }

    /// A plain path, percent-encoded or not, resolves to its folder's index.
    #[test]
    fn plain_paths_resolve(
        segs in prop::collection::vec("[a-z0-9_~-][a-z0-9._~-]{0,8}|[é巨 ]{1,3}", 0..5),
        encode in any::<bool>(),
    ) {
        let shown: Vec<String> = segs
            .iter()
            .map(|s| if encode {
                s.bytes().map(|b| format!("%{b:02x}")).collect()
            } else {
                s.clone()
            })
            .collect();
        let mut target = String::from("/");
        for s in &shown {
            target.push_str(s);
            target.push('/');
        }
        let want = if segs.is_empty() { "index.html".to_string() } else { format!("{}/index.html", segs.join("/")) };
        prop_assert_eq!(resolve(&target, |_: &str| true), Resolved::File(want));
    }

    /// A Host header is allowed only when it names the loopback server by `localhost` or an address.
    #[test]
    fn host_check_never_panics(host in prop_oneof![any::<String>(), "[a-z0-9.:\\[\\]]{0,24}"], port in any::<u16>()) {
        let lo = std::net::IpAddr::from([127, 0, 0, 1]);
        if host_allowed(Some(&host), lo, port) {
            let h = host.trim();
            let name = match h.strip_prefix('[') {
                Some(rest) => rest.split(']').next().unwrap_or(""),
                None => h.rsplit_once(':').map_or(h, |(n, _)| n),
            };
            prop_assert!(
                name.eq_ignore_ascii_case("localhost")
                    || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()),
                "{host:?} allowed"
            );
        }
        prop_assert!(!content_type(&host).is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Serve: the request-head parser

const HEAD_PIECES: &[&[u8]] = &[
    b"GET ",
    b"HEAD ",
    b"POST ",
    b"G3T ",
    b"/",
    b"/a/?q=1",
    b"%2e%2e",
    b" HTTP/1.1",
    b" HTTP/1.0",
    b" HTTP/2.0",
    b"\r\n",
    b"\n",
    b"\r",
    b"\r\n\r\n",
    b"\n\n",
    b"Host: ",
    b"host:",
    b"127.0.0.1:8080",
    b"localhost:1",
    b"[::1]:1",
    b"X-A: ",
    b": ",
    b" ",
    b"\t",
    b"\0",
    b"\x0b",
    b"\x0c",
    b"\x1b",
    b"\x7f",
    b"\xff",
    b"\xc3\xa9",
];

/// Bytes built from pieces of HTTP heads and arbitrary bytes.
fn head_soup(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => select(HEAD_PIECES).prop_map(<[u8]>::to_vec),
            1 => any::<u8>().prop_map(|b| vec![b]),
        ],
        0..max,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config(2000))]

    /// Whatever the bytes, the parser answers without a panic, and a head it accepts ends inside the
    /// input and carries no control character in its target or Host value.
    #[test]
    fn request_heads_never_panic_and_accepted_ones_hold_no_control_bytes(
        data in prop_oneof![prop::collection::vec(any::<u8>(), 0..200), head_soup(40)],
    ) {
        match parse_request_head(&data) {
            Ok(Some(head)) => {
                prop_assert!(head.len <= data.len() && head.len <= MAX_HEAD);
                prop_assert!(!head.target.is_empty());
                prop_assert!(!head.target.bytes().any(|b| b.is_ascii_control() || b == b' '), "{head:?}");
                if let Some(host) = &head.host {
                    prop_assert!(host.bytes().all(|b| b.is_ascii_graphic()), "{head:?}");
                }
            }
            Ok(None) => prop_assert!(data.len() < MAX_HEAD),
            Err(HeadError::Malformed(_) | HeadError::TooLarge) => {}
            Err(HeadError::Gone) => prop_assert!(false, "the parser said Gone"),
        }
    }

    /// A plain request parses the same with CRLF and bare LF line ends, and a control byte put into
    /// any header value makes it a 400.
    #[test]
    fn lf_and_crlf_heads_parse_alike_and_control_bytes_are_refused(
        head in any::<bool>(),
        target in "/[a-z0-9%._~/-]{0,20}(\\?[a-z0-9=&]{0,8})?",
        host in "(localhost|127\\.0\\.0\\.1|\\[::1\\]):[0-9]{1,5}",
        extra in prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,8}", "[ -~]{0,16}"), 0..4),
        bad in 0u8..0x20,
    ) {
        let method = if head { "HEAD" } else { "GET" };
        let mut lines = vec![format!("{method} {target} HTTP/1.1"), format!("Host: {host}")];
        lines.extend(extra.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("host")).map(|(n, v)| format!("{n}: {v}")));
        let crlf = format!("{}\r\n\r\n", lines.join("\r\n"));
        let lf = format!("{}\n\n", lines.join("\n"));
        let a = parse_request_head(crlf.as_bytes());
        let b = parse_request_head(lf.as_bytes());
        let Ok(Some(a)) = a else { panic!("{crlf:?}: {a:?}") };
        let Ok(Some(b)) = b else { panic!("{lf:?}: {b:?}") };
        prop_assert_eq!(a.method, if head { Method::Head } else { Method::Get });
        prop_assert_eq!((&a.target, &a.host), (&target, &Some(host.clone())));
        prop_assert_eq!((&a.method, &a.target, &a.host), (&b.method, &b.target, &b.host));
        if bad != b'\t' {
            for at in 1..lines.len() {
                let mut spoiled = lines.clone();
                spoiled[at].push(bad as char);
                spoiled[at].push('x');
                let text = format!("{}\r\n\r\n", spoiled.join("\r\n"));
                let r = parse_request_head(text.as_bytes());
                prop_assert!(matches!(r, Err(HeadError::Malformed(_))), "{text:?}: {r:?}");
            }
        }
    }
}
