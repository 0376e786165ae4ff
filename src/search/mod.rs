//! Stage 7 (with the output): the search index, written into every site so that the default theme's
//! `search.js` can search it in the browser, with no server and no external service.
//!
//! [`documents`] turns the pages into [`SearchDoc`]s (title, URL, kind, tags, searchable fields, and
//! the body split by section, each with its heading and anchor); [`index::Index::build`] tokenizes
//! them ([`tokenize`], which handles CJK) and weighs every term; [`index::Index::files`] writes:
//!
//! ```text
//! search/manifest.json       small, plain JSON: document count, kind ranges, shard bounds, stop words
//! search/t/<n>.json.gz       term shard n: {"term": [doc, weight, doc-delta, weight, ...], ...}
//! search/d/<n>.json.gz       documents n*per .. n*per+per-1 (`per` is in the manifest), as an array:
//!                            title, URL, kind, tags, fields, sections (what a result shows)
//! ```
//!
//! A query fetches the manifest, the shards its terms fall in ([`shards`]), and then only the
//! document files of the results it shows. Documents go [`DOCS_PER_FILE`] to a file: neighbours
//! (same kind, nearby URLs) share words and structure, so compressed together they take about a
//! quarter less room than one by one, for more bytes per results page: 117 kB for the first query
//! on a 10,000-page site instead of 59 kB (BENCHMARKS.md, "Search").
//! Shards and documents are gzip-compressed (the browser inflates them with `DecompressionStream`); `search.js` checks the gzip magic bytes, so a server that sends them with
//! `Content-Encoding: gzip` works too. Output is deterministic: the same pages give the same bytes.

#![warn(missing_docs)]

pub mod index;
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

/// The folder of the index in the output.
pub const DIR: &str = "search";
/// Format version, bumped when the files change shape (the script checks it).
pub const VERSION: u32 = 2;
/// Documents per document file.
pub const DOCS_PER_FILE: usize = 8;

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
            document(config, p, r, &sections, title, fills)
        })
        .collect()
}

/// One page's search document.
fn document(
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

/// Index a site's pages (see [`documents`] for the arguments).
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
fn kind_labels(config: &SiteConfig) -> Vec<(String, String)> {
    config
        .kinds
        .keys()
        .map(|k| (k.clone(), config.singular(k).to_string()))
        .collect()
}

/// Build the index of a site's pages and return its files (paths relative to the output root).
pub fn build_files(
    config: &SiteConfig,
    pages: &[Page],
    rendered: &[Rendered],
    titles: &[String],
    fills: &[Vec<Option<Fill>>],
) -> Vec<(String, Vec<u8>)> {
    index(config, pages, rendered, titles, fills).files().files
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
    Index::build(&kind_labels(config), docs).files().files
}

/// A document's file: what a result shows. Short keys, since every byte is fetched.
#[derive(Serialize)]
struct DocJson<'a> {
    /// Title.
    t: &'a str,
    /// URL under the base.
    u: &'a str,
    /// Index of the kind in the manifest's list.
    #[serde(skip_serializing_if = "Option::is_none")]
    k: Option<usize>,
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

impl<'a> DocJson<'a> {
    fn new(d: &'a SearchDoc, index: &Index) -> DocJson<'a> {
        DocJson {
            t: &d.title,
            u: &d.url,
            k: d.kind
                .as_ref()
                .and_then(|k| index.kinds.iter().position(|r| &r.name == k)),
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
        }
    }
}

#[derive(Serialize)]
struct Manifest<'a> {
    version: u32,
    /// Changes whenever any file of the index does; the script adds it to URLs to defeat stale caches.
    id: String,
    docs: usize,
    /// Documents per file of `d/`.
    per: usize,
    kinds: &'a [index::KindRange],
    shards: &'a [String],
    stop: &'a [&'a str],
}

/// The files of an index, ready to write.
pub struct ShardedFiles {
    /// (path under the output root, bytes), sorted by path.
    pub files: Vec<(String, Vec<u8>)>,
}

impl ShardedFiles {
    fn new(
        index: &Index,
        shards: impl IndexedParallelIterator<Item = Vec<u8>>,
        docs: impl IndexedParallelIterator<Item = Vec<u8>>,
    ) -> ShardedFiles {
        // Each file is hashed and compressed on its own thread; the id hashes the hashes.
        let pack = |path: String, raw: Vec<u8>| {
            let mut h = index::TermHasher::default();
            std::hash::Hasher::write(&mut h, &raw);
            (path, h.0, gzip(&raw))
        };
        let mut packed: Vec<(String, u64, Vec<u8>)> = shards
            .enumerate()
            .map(|(i, raw)| pack(format!("{DIR}/t/{i}.json.gz"), raw))
            .chain(
                docs.enumerate()
                    .map(|(i, raw)| pack(format!("{DIR}/d/{i}.json.gz"), raw)),
            )
            .collect();
        packed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut id = Fnv::default();
        for (_, h, _) in &packed {
            id.write(&h.to_le_bytes());
        }
        let manifest = Manifest {
            version: VERSION,
            id: format!("{:016x}", id.0),
            docs: index.docs.len(),
            per: DOCS_PER_FILE,
            kinds: &index.kinds,
            shards: &index.bounds,
            stop: tokenize::STOP_WORDS,
        };
        let mut files: Vec<(String, Vec<u8>)> =
            packed.into_iter().map(|(p, _, bytes)| (p, bytes)).collect();
        files.push((
            format!("{DIR}/manifest.json"),
            serde_json::to_vec(&manifest).unwrap_or_default(),
        ));
        files.sort_by(|a, b| a.0.cmp(&b.0));
        ShardedFiles { files }
    }
}

/// Compression level of the index files (zlib's scale, 1-9).
const GZIP_LEVEL: u32 = 4;

/// gzip, with zlib's fixed header (no name, no time) so output is reproducible, and a window no
/// larger than the input: most files are a few kB, and a full 32 kB window per file would spend more
/// time clearing memory than compressing.
fn gzip(bytes: &[u8]) -> Vec<u8> {
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
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
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
        let files = Index::build(&[("tool".into(), "Tool".into())], docs)
            .files()
            .files;
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
        let group: serde_json::Value =
            serde_json::from_str(&gunzip(&files[0].1)).unwrap_or_default();
        assert_eq!(group.as_array().map(Vec::len), Some(1));
        let doc = &group[0];
        assert_eq!(manifest["per"], DOCS_PER_FILE);
        assert_eq!(doc["t"], "Juliang Qianchuan");
        assert_eq!(doc["k"], 0);
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
