//! Obsidian's own Markdown, as a vault writes it: callouts (with folds, titles, aliases, nesting),
//! `==highlights==`, `%%comments%%`, inline `#tags` and `^block` ids, built into a site and read back
//! from the pages and the search index.

use std::io::Read as _;

use serde_json::Value;

use crate::support::{tree, TestSite};

/// Words that are only ever inside comments: no output file may hold them.
const SECRETS: &[&str] = &["zanzibarsecret", "quokkahidden", "unclosedmarmot"];

/// A vault-like site under `/kb/`: one note with every construct, another that ends in an unclosed
/// comment.
fn vault() -> TestSite {
    let s = TestSite::new("title: Vault\nbase_url: /kb/\n");
    s.write(
        "content/note.md",
        "---\ntitle: Field note\ntags: [Deep Work]\n---\n\
         %%zanzibarsecret at the top%% The ==launch checklist== is #Deep-Work for #ops/launch. ^intro\n\
         \n\
         > [!faq]- Why *fold* it?\n\
         > Because it is long.\n\
         \n\
         > [!tldr]\n\
         > Short version.\n\
         \n\
         > [!tip]+ Outer tip\n\
         > > [!bug] Inner bug\n\
         > > Squashed.\n\
         \n\
         ^nested\n\
         \n\
         > [!recipe] Pancakes\n\
         \n\
         > [!WARNING]\n\
         > GitHub style.\n\
         \n\
         > A plain quote.\n\
         \n\
         - first item ^item-one\n\
         - second %%quokkahidden%% item\n\
         \n\
         | a | b |\n\
         |---|---|\n\
         | 1 | 2 |\n\
         \n\
         ^table-id\n\
         \n\
         %%\n\
         zanzibarsecret block\n\
         %%\n\
         \n\
         Code keeps `%%literal%%` and `==marks==` and `#nottag`.\n\
         \n\
         ```\n\
         %% fenced stays %%\n\
         ```\n",
    )
    .write(
        "content/other.md",
        "---\ntitle: Other\n---\nVisible words. %%unclosedmarmot\n\nStill hidden, also unclosedmarmot.\n",
    );
    s
}

fn gunzip_or_text(bytes: &[u8], gz: bool) -> String {
    if gz {
        let mut s = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut s)
            .expect("gzip");
        s
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

fn read_json(s: &TestSite, rel: &str) -> Value {
    let bytes = std::fs::read(s.path("public").join(rel)).expect(rel);
    serde_json::from_str(&gunzip_or_text(&bytes, rel.ends_with(".gz"))).expect("json")
}

/// The search document of the page at `url`.
fn search_doc(s: &TestSite, url: &str) -> Value {
    let m = read_json(s, "search/manifest.json");
    let files = m["groups"].as_str().expect("groups").len();
    (0..files)
        .flat_map(|f| {
            let group = read_json(s, &format!("search/d/{f}.json.gz"));
            group.as_array().cloned().unwrap_or_default()
        })
        .find(|d| d["u"] == url)
        .unwrap_or_else(|| panic!("no search document for {url}"))
}

/// All the text a page's search document holds (sections' headings and text).
fn search_text(doc: &Value) -> String {
    doc["s"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s.as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn callouts_fold_nest_and_take_their_titles() {
    let s = vault();
    s.build();
    let html = s.output("note/index.html");
    // A closed fold: a details with the title (and its Markdown) as the summary.
    assert!(
        html.contains("<details class=\"callout callout-question\" data-callout=\"faq\"><summary class=\"callout-title\">Why <em>fold</em> it?</summary>\n<p>Because it is long.</p>\n</details>"),
        "{html}"
    );
    // An alias without a title: its family's class, the type as written, the type as the title.
    assert!(
        html.contains("<aside class=\"callout callout-abstract\" role=\"note\" data-callout=\"tldr\"><p class=\"callout-title\">Tldr</p>"),
        "{html}"
    );
    // An open fold holding a callout.
    assert!(
        html.contains("<details class=\"callout callout-tip\" data-callout=\"tip\" open><summary class=\"callout-title\">Outer tip</summary>\n<aside class=\"callout callout-bug\" role=\"note\" data-callout=\"bug\"><p class=\"callout-title\">Inner bug</p>\n<p>Squashed.</p>\n</aside>\n</details>"),
        "{html}"
    );
    // An unknown type is a note, titled; a title-only callout has no body.
    assert!(
        html.contains("<aside class=\"callout callout-note\" role=\"note\" data-callout=\"recipe\"><p class=\"callout-title\">Pancakes</p>\n</aside>"),
        "{html}"
    );
    // GitHub's kinds render as before.
    assert!(
        html.contains("<aside class=\"callout callout-warning\" role=\"note\" data-callout=\"warning\"><p class=\"callout-title\">Warning</p>\n<p>GitHub style.</p>"),
        "{html}"
    );
    assert!(
        html.contains("<blockquote>\n<p>A plain quote.</p>\n</blockquote>"),
        "{html}"
    );
    assert!(!html.contains("[!"), "a marker is shown: {html}");
}

#[test]
fn highlights_tags_and_block_ids() {
    let s = vault();
    s.build();
    let html = s.output("note/index.html");
    assert!(
        html.contains("<p id=\"^intro\"> The <mark>launch checklist</mark> is <a class=\"tag\" href=\"/kb/tags/deep-work/\">#Deep-Work</a> for <a class=\"tag\" href=\"/kb/tags/ops-launch/\">#ops/launch</a>.</p>"),
        "{html}"
    );
    // The inline tag's link is the URL of the tag's page, which the front matter's `Deep Work` made.
    assert!(s.output_exists("tags/deep-work/index.html"));
    assert!(
        html.contains("<li id=\"^item-one\">first item</li>"),
        "{html}"
    );
    assert!(
        html.contains("<div id=\"^nested\">\n<details class=\"callout callout-tip\""),
        "{html}"
    );
    assert!(
        html.contains("<div id=\"^table-id\">\n<div class=\"table-wrap\">"),
        "{html}"
    );
    for marker in ["^intro</", "^item-one<", "^nested</p>", "^table-id</p>"] {
        assert!(!html.contains(marker), "{marker} shown: {html}");
    }
    // Code is code.
    assert!(
        html.contains(
            "<code>%%literal%%</code> and <code>==marks==</code> and <code>#nottag</code>"
        ),
        "{html}"
    );
    assert!(html.contains("%% fenced stays %%"), "{html}");
}

#[test]
fn the_search_index_has_titles_and_highlights_but_no_markers() {
    let s = vault();
    s.build();
    let text = search_text(&search_doc(&s, "note/"));
    for want in [
        "The launch checklist is #Deep-Work for #ops/launch.",
        "Why fold it?",
        "Tldr",
        "Outer tip",
        "Pancakes",
        "second item",
    ] {
        assert!(text.contains(want), "{want:?} not in {text:?}");
    }
    for gone in [
        "==launch",
        "checklist==",
        "^intro",
        "^table-id",
        "[!faq]",
        "zanzibarsecret",
        "quokkahidden",
    ] {
        assert!(!text.contains(gone), "{gone:?} in {text:?}");
    }
    let other = search_text(&search_doc(&s, "other/"));
    assert_eq!(other, "Visible words.");
}

#[test]
fn comments_reach_no_output_file() {
    let s = vault();
    s.build();
    let files = tree(&s.path("public"));
    assert!(files.len() > 5, "{files:?}");
    for (path, bytes) in &files {
        let text = gunzip_or_text(bytes, path.ends_with(".gz"));
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} in {path}");
        }
    }
    // What is around the comments is there.
    let other = s.output("other/index.html");
    assert!(other.contains("<p>Visible words. </p>"), "{other}");
    assert!(!other.contains("Still hidden"), "{other}");
    assert!(s.output("note/index.html").contains("second  item"));
}
