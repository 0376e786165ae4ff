//! Stage 7 (with the output): the search index, written into every site so that the default theme's
//! `search.js` can search it in the browser, with no server and no external service.
//!
//! [`documents`] turns the pages into [`SearchDoc`]s (title, URL, kind, tags, searchable fields, and
//! the body split by section, each with its heading and anchor; [`document`] does one page);
//! [`Live`] tokenizes them ([`tokenize`], which handles CJK), weighs every term ([`index`]) and
//! writes:
//!
//! ```text
//! search/manifest.json       small, plain JSON: document count, kind ranges, shard bounds, the size
//!                            of every document file (one base-36 digit each), stop words
//! search/t/<n>.json.gz       term shard n: {"term": [doc, weight, doc-delta, weight, ...], ...}
//! search/d/<n>.json.gz       document file n: the next 5 to 12 documents in id order (the manifest
//!                            says how many), as an array of title, URL, tags, fields, sections
//!                            (what a result shows; the kind comes from the id's kind range)
//! ```
//!
//! A query fetches the manifest, the shards its terms fall in ([`shards`]), and then only the
//! document files of the results it shows. Neighbouring documents (same kind, nearby URLs) share
//! words and structure, so compressed together they take about a quarter less room than one by one,
//! for more bytes per results page (BENCHMARKS.md, "Search"). Shards and documents are
//! gzip-compressed (the browser inflates them with `DecompressionStream`); `search.js` checks the
//! gzip magic bytes, so a server that sends them with `Content-Encoding: gzip` works too. Output is
//! deterministic: the same pages give the same bytes.
//!
//! # One page at a time
//!
//! `fieldbook build` writes the index once; `fieldbook serve` keeps a [`Live`] index and changes one
//! page at a time, and must give the bytes a fresh build of the same pages gives. Both go through
//! [`Live`] ([`build_files`] is [`Live::build`] then [`Live::into_files`]), which caches every
//! document's terms and every file's bytes. The format (version 3) was changed where version 2 made
//! one page's change rewrite everything, at these costs:
//!
//! - BM25 normalizes by the page's length against the site's average, so one page's edit moved every
//!   weight of the site (the average) and every weight of the page (its length). Both lengths are
//!   now coarse ([`index::coarse`], four significant bits: within 1/16 of the real one): most edits
//!   keep both, and then only the postings of the terms the edit touches change. The weights are
//!   as good as before to a few percent in the length term, and still baked in at build time, so the
//!   browser needs no per-document lengths and the first query fetches nothing more for them. An
//!   edit that does move a page to another length bucket rewrites the shards of all its terms; one
//!   that moves the average (rare on a large site) rewrites every shard.
//! - Document files held eight documents each by position, so a new page shifted every later file.
//!   They are now cut where the documents are (by a hash of the URL, 5 to 12 per file, 6.9 on
//!   average, 7.5 for the file of a random result, against 8), so a new page changes its own file
//!   and on average one more. The price is the list of file sizes in the manifest: one character
//!   per file (1.4 kB for 10,000 pages, before HTTP compression), which the first query fetches.
//! - Term shards closed at the first term past 48 kB, so one posting more could move every later cut.
//!   They are now cut where the terms are too ([`shards::cuts`]), at 32 kB plus a term-size-weighted
//!   chance per term (about 16 kB more on average, like before).
//! - Document ids stay positions in id order (by kind, then URL): that keeps posting lists short
//!   (small deltas) and a kind filter a range check. So a new or removed page still shifts the ids
//!   after it and rewrites the shards whose lists reach past it (most of them); it is the edit of a
//!   page, far more common while writing, that stays local.

#![warn(missing_docs)]

pub mod index;
pub mod live;
pub mod query;
pub mod shards;
pub mod tokenize;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write as _;

use rayon::iter::IndexedParallelIterator;
use rayon::prelude::*;
use serde::Serialize;

use crate::config::SiteConfig;
use crate::content::Page;
use crate::markdown::{self, Fill, Rendered};
use crate::schema::Value;

pub use index::Index;
pub use live::Live;

/// The folder of the index in the output.
pub const DIR: &str = "search";
/// Format version, bumped when the files change shape.
pub const VERSION: u32 = 3;

/// One page, as search sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    /// URL path under the site's base, e.g. `tools/doudian/`.
    pub url: String,
    /// Display title.
    pub title: String,
    /// Kind name, for typed pages.
    pub kind: Option<String>,
    /// The `description:` of the front matter.
    pub description: Option<String>,
    /// The page's tags.
    pub tags: Vec<String>,
    /// Searchable fields: (name, text).
    pub fields: Vec<(String, String)>,
    /// The body by section; the intro has an empty anchor and heading.
    pub sections: Vec<SearchSection>,
}

/// One section of a page's body.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSection {
    /// The heading's id (the URL fragment), `""` for the text before the first heading.
    pub anchor: String,
    /// The heading's text, `""` for the intro.
    pub heading: String,
    /// The section's plain text, without its heading.
    pub text: String,
}

/// The search documents of a site's pages, in page order. `fills` are the graph's resolved links
/// of each page (they give wikilinks their titles in the text).
pub fn documents(
    config: &SiteConfig,
    pages: &[Page],
    rendered: &[Rendered],
    titles: &[String],
    fills: &[Vec<Option<Fill>>],
) -> Vec<SearchDoc> {
    let per_page = rendered
        .par_iter()
        .map(|r| (r, Cow::Borrowed(r.sections.as_slice())));
    documents_of(config, pages, per_page, titles, fills)
}

/// [`documents`], moving each page's section text out of `rendered` as it goes, so that a build holds
/// the text of a page once rather than twice while it indexes.
pub fn take_documents(
    config: &SiteConfig,
    pages: &[Page],
    rendered: &mut [Rendered],
    titles: &[String],
    fills: &[Vec<Option<Fill>>],
) -> Vec<SearchDoc> {
    let per_page = rendered.par_iter_mut().map(|r| {
        let sections = std::mem::take(&mut r.sections);
        (&*r, Cow::Owned(sections))
    });
    documents_of(config, pages, per_page, titles, fills)
}

/// The documents of `pages`, given each page's rendering and section text.
fn documents_of<'a>(
    config: &SiteConfig,
    pages: &[Page],
    per_page: impl IndexedParallelIterator<Item = (&'a Rendered, Cow<'a, [(String, String)]>)>,
    titles: &[String],
    fills: &[Vec<Option<Fill>>],
) -> Vec<SearchDoc> {
    pages
        .par_iter()
        .zip(per_page)
        .zip(titles)
        .enumerate()
        .map(|(i, ((p, (r, sections)), title))| {
            let fills = fills.get(i).map(Vec::as_slice).unwrap_or(&[]);
            document_with(config, p, r, &sections, title, fills)
        })
        .collect()
}

/// One page's search document (what [`documents`] gives for it), for updating a [`Live`] index
/// when the page changes. `fills` are the graph's resolved links of the page.
pub fn document(
    config: &SiteConfig,
    page: &Page,
    rendered: &Rendered,
    title: &str,
    fills: &[Option<Fill>],
) -> SearchDoc {
    document_with(config, page, rendered, &rendered.sections, title, fills)
}

/// One page's search document, given its section text.
fn document_with(
    config: &SiteConfig,
    p: &Page,
    r: &Rendered,
    sections: &[(String, String)],
    title: &str,
    fills: &[Option<Fill>],
) -> SearchDoc {
    let kind = p.kind.as_deref().and_then(|k| config.kinds.get(k));
    let mut fields = Vec::new();
    if let Some(kind) = kind {
        for (name, def) in &kind.fields {
            if !def.searchable {
                continue;
            }
            let text = match p.fields.get(name) {
                Some(Value::Str(s)) => s.clone(),
                Some(Value::List(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => continue,
            };
            if !text.trim().is_empty() {
                fields.push((name.clone(), text));
            }
        }
    }
    // One pass over the headings, then a lookup per section: finding each section's heading by
    // scanning the list made a page of n headings cost n² (minutes for 100,000 headings).
    let mut heading_of: HashMap<&str, &str> = HashMap::with_capacity(r.headings.len());
    for h in &r.headings {
        heading_of.entry(h.id.as_str()).or_insert(h.title.as_str());
    }
    let sections = sections
        .iter()
        .map(|(id, text)| {
            let heading = heading_of
                .get(id.as_str())
                .map(|t| t.to_string())
                .unwrap_or_default();
            // The Markdown stage starts a section's text with its heading; keep it apart.
            let body = text
                .strip_prefix(heading.as_str())
                .filter(|_| !heading.is_empty())
                .unwrap_or(text)
                .trim();
            let body = markdown::fill_text_holes(body, fills);
            SearchSection {
                anchor: id.clone(),
                heading,
                text: body,
            }
        })
        .collect();
    SearchDoc {
        url: p.url.clone(),
        title: title.to_string(),
        kind: p.kind.clone(),
        description: p.description.clone(),
        tags: crate::views::page_tags(p, r),
        fields,
        sections,
    }
}

/// Index a site's pages (see [`documents`] for the arguments): the whole index in memory, for
/// [`query`].
pub fn index(
    config: &SiteConfig,
    pages: &[Page],
    rendered: &[Rendered],
    titles: &[String],
    fills: &[Vec<Option<Fill>>],
) -> Index {
    Index::build(
        &kind_labels(config),
        documents(config, pages, rendered, titles, fills),
    )
}

/// The site's kinds as (name, singular label), in declared order.
pub(crate) fn kind_labels(config: &SiteConfig) -> Vec<(String, String)> {
    config
        .kinds
        .keys()
        .map(|k| (k.clone(), config.singular(k).to_string()))
        .collect()
}

/// Build the index of a site's pages and return its files (paths relative to the output root,
/// sorted).
pub fn build_files(
    config: &SiteConfig,
    pages: &[Page],
    rendered: &[Rendered],
    titles: &[String],
    fills: &[Vec<Option<Fill>>],
) -> Vec<(String, Vec<u8>)> {
    files_of(
        &kind_labels(config),
        documents(config, pages, rendered, titles, fills),
    )
}

/// [`build_files`] for a build that is done with the pages' section text: it moves the text out of
/// `rendered` (see [`take_documents`]).
pub fn take_files(
    config: &SiteConfig,
    pages: &[Page],
    rendered: &mut [Rendered],
    titles: &[String],
    fills: &[Vec<Option<Fill>>],
) -> Vec<(String, Vec<u8>)> {
    let docs = take_documents(config, pages, rendered, titles, fills);
    files_of(&kind_labels(config), docs)
}

/// The files of the index of `docs`; `kinds` are (name, singular label) in declared order. What a
/// [`Live`] index of the same documents gives, by the same code.
pub fn files_of(kinds: &[(String, String)], docs: Vec<SearchDoc>) -> Vec<(String, Vec<u8>)> {
    Live::build(kinds, live::keyed(kinds, docs), index::SHARD_BYTES).into_files()
}

/// A document as its file holds it: what a result shows. Short keys, since every byte is fetched.
#[derive(Serialize)]
struct DocJson<'a> {
    /// Title.
    t: &'a str,
    /// URL under the base.
    u: &'a str,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    d: Option<&'a str>,
    /// Tags.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    g: &'a [String],
    /// Searchable fields: [name, text].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    f: Vec<[&'a str; 2]>,
    /// Sections: [anchor, heading, text].
    s: Vec<[&'a str; 3]>,
}

/// A document's JSON in its file (it depends on the document alone).
pub(crate) fn doc_json(d: &SearchDoc) -> Vec<u8> {
    let json = DocJson {
        t: &d.title,
        u: &d.url,
        d: d.description.as_deref(),
        g: &d.tags,
        f: d.fields
            .iter()
            .map(|(n, v)| [n.as_str(), v.as_str()])
            .collect(),
        s: d.sections
            .iter()
            .map(|s| [s.anchor.as_str(), s.heading.as_str(), s.text.as_str()])
            .collect(),
    };
    serde_json::to_vec(&json).unwrap_or_default()
}

/// search/manifest.json.
#[derive(Serialize)]
pub(crate) struct Manifest<'a> {
    pub(crate) version: u32,
    /// Changes whenever any file of the index does; the script adds it to URLs to defeat stale caches.
    pub(crate) id: String,
    pub(crate) docs: usize,
    pub(crate) kinds: &'a [index::KindRange],
    pub(crate) shards: &'a [String],
    /// The number of documents in each document file, one base-36 digit per file.
    pub(crate) groups: String,
    pub(crate) stop: &'a [&'a str],
}

/// Compression level of the index files (zlib's scale, 1-9).
const GZIP_LEVEL: u32 = 4;

/// gzip, with zlib's fixed header (no name, no time) so output is reproducible, and a window no
/// larger than the input: most files are a few kB, and a full 32 kB window per file would spend more
/// time clearing memory than compressing.
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress, Status};
    let bits = (9..=15u8)
        .find(|b| (1usize << b) >= bytes.len())
        .unwrap_or(15);
    let mut c = Compress::new_gzip(Compression::new(GZIP_LEVEL), bits);
    let mut out = Vec::with_capacity(bytes.len() / 2 + 64);
    loop {
        let done = (c.total_in() as usize).min(bytes.len());
        match c.compress_vec(&bytes[done..], &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return out,
            Ok(_) => out.reserve(out.capacity().max(64)),
            // Compressing into memory does not fail; fall back to the streaming encoder if it does.
            Err(_) => break,
        }
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), Compression::new(GZIP_LEVEL));
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// FNV-1a, 64 bits: a stable hash for the manifest's id (std's hasher may change between releases).
#[derive(Clone, Copy)]
pub(crate) struct Fnv(pub(crate) u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn gunzip(bytes: &[u8]) -> String {
        let mut s = String::new();
        let _ = flate2::read::GzDecoder::new(bytes).read_to_string(&mut s);
        s
    }

    #[test]
    fn files_are_a_manifest_term_shards_and_documents() {
        let docs = vec![SearchDoc {
            url: "tools/qianchuan/".into(),
            title: "Juliang Qianchuan".into(),
            kind: Some("tool".into()),
            description: None,
            tags: vec!["ads".into()],
            fields: vec![("zh".into(), "巨量千川".into())],
            sections: vec![SearchSection {
                anchor: "functions".into(),
                heading: "Functions".into(),
                text: "Buys traffic.".into(),
            }],
        }];
        let files = files_of(&[("tool".into(), "Tool".into())], docs);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "search/d/0.json.gz",
                "search/manifest.json",
                "search/t/0.json.gz"
            ]
        );
        let manifest: serde_json::Value = serde_json::from_slice(&files[1].1).unwrap_or_default();
        assert_eq!(manifest["docs"], 1);
        assert_eq!(manifest["shards"], serde_json::json!([""]));
        assert_eq!(manifest["kinds"][0]["label"], "Tool");
        assert_eq!(manifest["groups"], "1");
        let group: serde_json::Value =
            serde_json::from_str(&gunzip(&files[0].1)).unwrap_or_default();
        assert_eq!(group.as_array().map(Vec::len), Some(1));
        let doc = &group[0];
        assert_eq!(doc["t"], "Juliang Qianchuan");
        assert!(doc.get("k").is_none());
        assert_eq!(doc["f"], serde_json::json!([["zh", "巨量千川"]]));
        assert_eq!(
            doc["s"],
            serde_json::json!([["functions", "Functions", "Buys traffic."]])
        );
        let terms: serde_json::Value =
            serde_json::from_str(&gunzip(&files[2].1)).unwrap_or_default();
        assert!(terms.get("千川").is_some());
        assert!(terms.get("qianchuan").is_some());
        assert!(terms.get("ad").is_none() && terms.get("ads").is_some());
    }
}
