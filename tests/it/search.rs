//! Search: the index files a build writes (manifest, term shards, documents), the search page, and
//! the header box, on a small site with English, Chinese and hostile titles.

use std::io::Read as _;

use serde_json::Value;

use crate::support::TestSite;

/// A small site for search: a tool named in English with a Chinese name, a playbook that mentions it
/// often, a Chinese-only note, and a page whose title is an HTML tag.
pub fn search_site() -> TestSite {
    let s = TestSite::with_kinds();
    s.write(
        "content/tools/juliang-qianchuan.md",
        "---\ntitle: Juliang Qianchuan\ndescription: Juliang Qianchuan (巨量千川) is Douyin's advertising platform.\nzh: 巨量千川\ncategory: ads\ntags: [advertising]\n---\n\
         Qianchuan is where a store buys traffic for its live rooms.\n\n## Three versions\n\nMobile, PC quick and PC professional.\n",
    )
    .write(
        "content/tools/doudian.md",
        "---\ntitle: Doudian\nzh: 抖店\ncategory: store\n---\nThe store backend: products, orders and after-sales.\n\n## After-sales\n\nRefunds and returns are handled here.\n",
    )
    .write(
        "content/tools/escape.md",
        "---\ntitle: \"<img src=x onerror=alert(1)>\"\ncategory: store\n---\nA page to check escaping: xsscheck <b>bold</b>.\n",
    )
    .write("content/positions/field.md", "---\ntitle: Field\nletter: F\n---\nDaily sales.\n")
    .write(
        "content/playbooks/paid-traffic.md",
        "---\ntitle: Paid and free traffic\npositions: [field]\ntools: [juliang-qianchuan]\n---\n\
         Buy traffic with Qianchuan; Qianchuan campaigns need Qianchuan budgets. 用千川投放。 Compare with [[doudian]].\n\n## Launch a campaign\n\nStart small.\n",
    )
    .write(
        "content/notes/chinese.md",
        "---\ntitle: 直播笔记\n---\n直播间的流量来自推荐。千川是付费流量的来源之一。\n",
    );
    s
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut s)
        .expect("gzip");
    s
}

fn read_json(s: &TestSite, rel: &str) -> Value {
    let bytes = std::fs::read(s.path("public").join(rel)).expect(rel);
    let text = if rel.ends_with(".gz") {
        gunzip(&bytes)
    } else {
        String::from_utf8(bytes).expect("utf-8")
    };
    serde_json::from_str(&text).expect("json")
}

/// Every term shard of the built site, merged.
fn all_terms(s: &TestSite, manifest: &Value) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let n = manifest["shards"].as_array().expect("shards").len();
    for i in 0..n {
        if let Value::Object(m) = read_json(s, &format!("search/t/{i}.json.gz")) {
            out.extend(m);
        }
    }
    out
}

/// Document ids of a posting list `[id, w, id-delta, w, ...]`.
fn doc_ids(list: &Value) -> Vec<u64> {
    let nums: Vec<u64> = list
        .as_array()
        .expect("postings")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let mut id = 0;
    nums.chunks(2)
        .map(|c| {
            id += c[0];
            id
        })
        .collect()
}

fn doc_id_of(s: &TestSite, manifest: &Value, url: &str) -> u64 {
    let n = manifest["docs"].as_u64().expect("docs");
    (0..n)
        .find(|&i| read_doc(s, manifest, i)["u"] == url)
        .unwrap_or_else(|| panic!("no document for {url}"))
}

/// Document `id`: the manifest's `groups` has the size of each document file, one base-36 digit
/// each, and the files hold the documents in id order.
fn read_doc(s: &TestSite, manifest: &Value, id: u64) -> Value {
    let mut start = 0;
    for (file, c) in manifest["groups"]
        .as_str()
        .expect("groups")
        .chars()
        .enumerate()
    {
        let n = u64::from(c.to_digit(36).expect("base-36 digit"));
        if id < start + n {
            return read_json(s, &format!("search/d/{file}.json.gz"))[(id - start) as usize]
                .clone();
        }
        start += n;
    }
    panic!("no document {id}")
}

/// The kind range (index into the manifest's kinds) that holds document `id`.
fn kind_of(manifest: &Value, id: u64) -> Option<usize> {
    manifest["kinds"].as_array()?.iter().position(|k| {
        (k["start"].as_u64().unwrap_or(0)..k["end"].as_u64().unwrap_or(0)).contains(&id)
    })
}

#[test]
fn the_build_writes_a_manifest_shards_and_document_files() {
    let s = search_site();
    s.build();
    let m = read_json(&s, "search/manifest.json");
    assert_eq!(m["version"], 3);
    // One document per page (generated views such as tag pages are not searched).
    assert_eq!(m["docs"], 6);
    assert_eq!(m["shards"][0], "");
    let kinds: Vec<(&str, u64, u64)> = m["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap_or(""),
                k["start"].as_u64().unwrap_or(0),
                k["end"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    // Kinds in declared order, each a block of ids; the untyped note comes last.
    assert_eq!(
        kinds,
        [("tool", 0, 3), ("position", 3, 4), ("playbook", 4, 5)]
    );
    // Six documents, five to twelve to a file but the last (src/search/ tests the cutting): the
    // manifest has the size of each file.
    let sizes: Vec<u32> = m["groups"]
        .as_str()
        .expect("groups")
        .chars()
        .filter_map(|c| c.to_digit(36))
        .collect();
    assert_eq!(sizes.iter().sum::<u32>(), 6, "{sizes:?}");
    for (n, size) in sizes.iter().enumerate() {
        let file = read_json(&s, &format!("search/d/{n}.json.gz"));
        assert_eq!(file.as_array().map(Vec::len), Some(*size as usize));
    }
    assert!(!s.output_exists(&format!("search/d/{}.json.gz", sizes.len())));
    let urls: Vec<Value> = (0..6).map(|i| read_doc(&s, &m, i)["u"].clone()).collect();
    assert!(
        urls.iter()
            .all(|u| u.as_str().is_some_and(|u| !u.is_empty())),
        "{urls:?}"
    );
    assert!(s.output_exists("search/index.html"));
}

#[test]
fn documents_carry_title_kind_fields_and_sections_with_anchors() {
    let s = search_site();
    s.build();
    let m = read_json(&s, "search/manifest.json");
    let id = doc_id_of(&s, &m, "tools/juliang-qianchuan/");
    let d = read_doc(&s, &m, id);
    assert_eq!(d["t"], "Juliang Qianchuan");
    // The badge is the kind's singular name (its name, when the config gives none).
    assert_eq!(m["kinds"][kind_of(&m, id).expect("kind")]["label"], "tool");
    assert_eq!(d["f"], serde_json::json!([["zh", "巨量千川"]]));
    assert_eq!(d["g"], serde_json::json!(["advertising"]));
    assert_eq!(d["s"][1][0], "three-versions");
    assert_eq!(d["s"][1][1], "Three versions");
    assert_eq!(d["s"][1][2], "Mobile, PC quick and PC professional.");
    // A wikilink's text is its target's title, as on the page.
    let paid = doc_id_of(&s, &m, "playbooks/paid-traffic/");
    let paid = read_doc(&s, &m, paid);
    let intro = paid["s"][0][2].as_str().unwrap_or("");
    assert!(intro.ends_with("Compare with Doudian."), "{intro}");
    // A hostile title is stored as the text it is.
    let e = doc_id_of(&s, &m, "tools/escape/");
    let escaped = read_doc(&s, &m, e);
    assert_eq!(escaped["t"], "<img src=x onerror=alert(1)>");
}

#[test]
fn chinese_is_indexed_by_bigrams_so_a_part_finds_the_whole() {
    let s = search_site();
    s.build();
    let m = read_json(&s, "search/manifest.json");
    let terms = all_terms(&s, &m);
    let qianchuan = doc_id_of(&s, &m, "tools/juliang-qianchuan/");
    let note = doc_id_of(&s, &m, "notes/chinese/");
    let paid = doc_id_of(&s, &m, "playbooks/paid-traffic/");
    let ids = doc_ids(&terms["千川"]);
    for want in [qianchuan, note, paid] {
        assert!(ids.contains(&want), "千川 -> {ids:?} lacks {want}");
    }
    assert!(doc_ids(&terms["巨量"]).contains(&qianchuan));
    assert!(doc_ids(&terms["qianchuan"]).contains(&qianchuan));
    // Plurals fold into one term; stop words are not indexed.
    assert!(terms.contains_key("campaign") && !terms.contains_key("campaigns"));
    assert!(!terms.contains_key("the"));
}

#[test]
fn each_term_is_in_the_shard_the_manifest_points_to() {
    // Enough pages for several shards.
    let s = TestSite::new("title: Many\n");
    for i in 0..300 {
        let unique: Vec<String> = (0..20).map(|k| format!("u{i}w{k}")).collect();
        s.write(
            &format!("content/p{i:03}.md"),
            &format!(
                "---\ntitle: Page {i}\n---\n{} word{} term{} apple banana cherry.\n",
                unique.join(" "),
                i % 17,
                i % 29
            ),
        );
    }
    s.build();
    let m = read_json(&s, "search/manifest.json");
    let bounds: Vec<String> = m["shards"]
        .as_array()
        .expect("shards")
        .iter()
        .map(|b| b.as_str().unwrap_or("").to_string())
        .collect();
    assert!(bounds.len() > 1, "expected several shards, got {bounds:?}");
    for (i, _) in bounds.iter().enumerate() {
        let shard = read_json(&s, &format!("search/t/{i}.json.gz"));
        for term in shard.as_object().expect("object").keys() {
            // The last bound <= term (JavaScript order; these terms are ASCII).
            let owner = bounds.iter().rposition(|b| b.as_str() <= term.as_str());
            assert_eq!(owner, Some(i), "term {term}");
        }
    }
}

#[test]
fn the_header_box_and_search_page_honour_base_url() {
    let s = search_site();
    s.run(&["build", "--base-url", "/kb/"]).ok();
    let home = s.output("index.html");
    assert!(
        home.contains("<form class=\"site-search\" role=\"search\" action=\"/kb/search/\""),
        "{home}"
    );
    assert!(home.contains("data-base=\"/kb/\""));
    assert!(home.contains("<script src=\"/kb/search.js\" defer></script>"));
    let page = s.output("search/index.html");
    assert!(page.contains("id=\"search-page\""));
    assert!(page.contains("data-base=\"/kb/\""));
    assert!(s.output_exists("search.js"));
}

#[test]
fn the_index_is_the_same_byte_for_byte_on_every_build() {
    let s = search_site();
    s.build();
    let first = crate::support::tree(&s.path("public/search"));
    s.build();
    let second = crate::support::tree(&s.path("public/search"));
    assert_eq!(first, second);
}

#[test]
fn a_theme_without_a_search_template_still_builds_its_index() {
    let s = search_site();
    s.write(
        "themes/plain/templates/base.html",
        "<html><body>{% block content %}{% endblock content %}</body></html>",
    );
    for name in ["page", "section", "index", "404", "tag", "tags", "matrix"] {
        s.write(
            &format!("themes/plain/templates/{name}.html"),
            "{% extends \"base.html\" %}{% block content %}x{% endblock content %}",
        );
    }
    let config = std::fs::read_to_string(s.path("site.yaml")).expect("config");
    s.write("site.yaml", &format!("{config}theme: plain\n"));
    s.build();
    assert!(s.output_exists("search/manifest.json"));
    assert!(!s.output_exists("search/index.html"));
}

#[test]
fn on_the_bundled_book_qianchuan_and_its_chinese_name_find_juliang_qianchuan_first() {
    let opts = fieldbook::BuildOptions {
        root: env!("CARGO_MANIFEST_DIR").into(),
        ..Default::default()
    };
    let site = match fieldbook::build::load(&opts) {
        Ok(site) => site,
        Err(d) => panic!("the bundled book does not load: {d:?}"),
    };
    let index = fieldbook::search::index(
        &site.config,
        &site.pages,
        &site.rendered,
        &site.titles,
        &site.graph.fills,
    );
    // As typed (the last word a prefix), and as submitted.
    for (q, typing) in [
        ("qianchuan", true),
        ("qianch", true),
        ("千川", true),
        ("巨量千川", false),
        ("Qianchuan 千川", false),
    ] {
        let hits = fieldbook::search::query::search(&index, q, typing, None);
        let first = hits
            .first()
            .map(|h| index.docs[h.doc as usize].title.as_str());
        assert_eq!(first, Some("Juliang Qianchuan"), "query {q:?}");
    }
}
