//! Search: the index builder. Documents in, a sharded index out (see [`super`] for the file layout).
//!
//! Ranking is BM25F-style and mostly done here, at build time: each (term, document) pair gets one
//! small integer weight that already holds the term's frequency in each field (title, headings,
//! fields and tags, description, body, each with its own boost), the saturation and the length
//! normalization of BM25, and a bonus for a title or heading match. The browser only multiplies
//! weights by the terms' IDF (from the posting lists' lengths) and adds them up, so it needs no
//! per-document statistics, and a posting is just (document, weight).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;

use super::tokenize::{self, cmp_utf16};
use super::{SearchDoc, ShardedFiles};

/// Field boosts: how much one occurrence of a term counts in each part of a page.
pub const TITLE_BOOST: f32 = 5.0;
/// One occurrence in a heading.
pub const HEADING_BOOST: f32 = 2.0;
/// One occurrence in a searchable field (e.g. `zh`) or a tag.
pub const FIELD_BOOST: f32 = 3.0;
/// One occurrence in the page's description.
pub const DESCRIPTION_BOOST: f32 = 1.5;
/// BM25 term-frequency saturation.
pub const K1: f32 = 1.2;
/// BM25 length normalization.
pub const B: f32 = 0.75;
/// Added when the term is in the title (on top of its boosted frequency), so that the page named by
/// a query comes before the pages that talk about it.
pub const TITLE_BONUS: f32 = 1.2;
/// Added when the term is in a heading.
pub const HEADING_BONUS: f32 = 0.3;
/// Weights are stored as `round(weight * SCALE)`, between 1 and 255.
pub const SCALE: f32 = 20.0;
/// A term shard is closed once its JSON reaches this many bytes (before compression).
pub const SHARD_BYTES: usize = 48 * 1024;

/// A kind as the index lists it: documents of one kind have consecutive ids, so a kind filter is a
/// range check and costs nothing per document.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KindRange {
    /// The kind's name in site.yaml.
    pub name: String,
    /// Singular display name, for the badge.
    pub label: String,
    /// First document id of the kind.
    pub start: u32,
    /// One past the last.
    pub end: u32,
}

/// Term shards: the sorted terms with their postings, and where each shard starts.
#[derive(Debug, Clone)]
pub struct Index {
    /// Documents in id order (by kind as declared, then untyped pages; then by URL).
    pub docs: Vec<SearchDoc>,
    /// The id range of each kind that has documents, in declared order.
    pub kinds: Vec<KindRange>,
    /// Every term (UTF-16 order) with its postings: (document id, weight), by id.
    pub terms: Vec<(String, Vec<(u32, u8)>)>,
    /// Lower bound of each shard; `bounds[0]` is `""`.
    pub bounds: Vec<String>,
    /// Index into `terms` of each shard's first term.
    pub shard_starts: Vec<usize>,
}

/// A fast, non-cryptographic hasher for the term maps (the keys are our own terms, not an attacker's
/// choice of many colliding keys worth defending against): multiply-rotate over 8-byte words.
#[derive(Default, Clone, Copy)]
pub(crate) struct TermHasher(pub(crate) u64);

impl Hasher for TermHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type TermMap<V> = HashMap<String, V, BuildHasherDefault<TermHasher>>;

#[derive(Default, Clone, Copy)]
struct Acc {
    tf: f32,
    title: bool,
    heading: bool,
}

const NONE: u32 = u32::MAX;

/// One document's terms: (term id in its worker's vocabulary, frequency).
struct DocEntry {
    id: u32,
    body_len: usize,
    terms: Vec<(u32, Acc)>,
}

/// What one worker tokenizes: its own vocabulary (so terms are allocated once per worker, not once
/// per document) and its documents' terms as ids into it.
#[derive(Default)]
struct Part {
    ids: TermMap<u32>,
    terms: Vec<String>,
    docs: Vec<DocEntry>,
    /// Per term id: where it is in the current document's list, or [`NONE`].
    slot: Vec<u32>,
    buf: String,
}

impl Part {
    fn add_doc(mut self, id: u32, doc: &SearchDoc) -> Part {
        let mut entries: Vec<(u32, Acc)> = Vec::with_capacity(256);
        let mut body_len = 0usize;
        let Part {
            ids,
            terms,
            slot,
            buf,
            ..
        } = &mut self;
        let mut add = |text: &str, boost: f32, title: bool, heading: bool, body: bool| {
            tokenize::for_each_term(text, buf, |t| {
                if body {
                    body_len += 1;
                }
                let tid = match ids.get(t) {
                    Some(&i) => i,
                    None => {
                        let i = terms.len() as u32;
                        ids.insert(t.to_string(), i);
                        terms.push(t.to_string());
                        slot.push(NONE);
                        i
                    }
                };
                let at = &mut slot[tid as usize];
                if *at == NONE {
                    *at = entries.len() as u32;
                    entries.push((tid, Acc::default()));
                }
                let acc = &mut entries[*at as usize].1;
                acc.tf += boost;
                acc.title |= title;
                acc.heading |= heading;
            });
        };
        add(&doc.title, TITLE_BOOST, true, false, false);
        if let Some(d) = &doc.description {
            add(d, DESCRIPTION_BOOST, false, false, true);
        }
        for t in &doc.tags {
            add(t, FIELD_BOOST, false, false, false);
        }
        for (_, v) in &doc.fields {
            add(v, FIELD_BOOST, false, false, false);
        }
        for s in &doc.sections {
            if !s.heading.is_empty() {
                add(&s.heading, HEADING_BOOST, false, true, false);
            }
            add(&s.text, 1.0, false, false, true);
        }
        for (tid, _) in &entries {
            self.slot[*tid as usize] = NONE;
        }
        self.docs.push(DocEntry {
            id,
            body_len,
            terms: entries,
        });
        self
    }
}

/// Tokenize every document (in parallel) and gather the postings of every term, by document id.
fn postings(docs: &[SearchDoc]) -> Vec<(String, Vec<(u32, u8)>)> {
    let mut parts: Vec<Part> = docs
        .par_iter()
        .enumerate()
        .with_min_len(64)
        .fold(Part::default, |part, (i, d)| part.add_doc(i as u32, d))
        .collect();
    // Workers took contiguous runs of documents: in order of their first one, ids ascend.
    parts.sort_by_key(|p| p.docs.first().map_or(0, |d| d.id));
    let total: usize = parts
        .iter()
        .flat_map(|p| p.docs.iter().map(|d| d.body_len))
        .sum();
    let avg_len = total as f32 / docs.len().max(1) as f32;
    let mut global: TermMap<u32> = TermMap::default();
    let mut terms: Vec<(String, Vec<(u32, u8)>)> = Vec::new();
    for part in parts {
        let remap: Vec<u32> = part
            .terms
            .into_iter()
            .map(|t| match global.get(t.as_str()) {
                Some(&g) => g,
                None => {
                    let g = terms.len() as u32;
                    global.insert(t.clone(), g);
                    terms.push((t, Vec::new()));
                    g
                }
            })
            .collect();
        for d in part.docs {
            for (tid, acc) in d.terms {
                terms[remap[tid as usize] as usize]
                    .1
                    .push((d.id, weight(acc, d.body_len, avg_len)));
            }
        }
    }
    terms
}

/// Append a number in decimal (the shards hold millions of them; `write!` is slow for that).
fn push_int(out: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// The stored weight of a term in a document.
fn weight(acc: Acc, body_len: usize, avg_len: f32) -> u8 {
    let norm = 1.0 - B + B * (body_len as f32 / avg_len.max(1.0));
    let mut w = acc.tf * (K1 + 1.0) / (acc.tf + K1 * norm);
    if acc.title {
        w += TITLE_BONUS;
    }
    if acc.heading {
        w += HEADING_BONUS;
    }
    (w * SCALE).round().clamp(1.0, 255.0) as u8
}

impl Index {
    /// Build the index. `kinds` are (name, singular label) in the site's declared order.
    pub fn build(kinds: &[(String, String)], docs: Vec<SearchDoc>) -> Index {
        Index::build_with(kinds, docs, SHARD_BYTES)
    }

    /// [`Index::build`] with another shard size.
    pub fn build_with(
        kinds: &[(String, String)],
        mut docs: Vec<SearchDoc>,
        shard_bytes: usize,
    ) -> Index {
        let rank = |k: &Option<String>| {
            k.as_ref()
                .and_then(|k| kinds.iter().position(|(n, _)| n == k))
                .unwrap_or(kinds.len())
        };
        docs.sort_by(|a, b| {
            (rank(&a.kind), &a.url, &a.title).cmp(&(rank(&b.kind), &b.url, &b.title))
        });
        let mut ranges = Vec::new();
        for (i, (name, label)) in kinds.iter().enumerate() {
            let start = docs.partition_point(|d| rank(&d.kind) < i) as u32;
            let end = docs.partition_point(|d| rank(&d.kind) <= i) as u32;
            if end > start {
                ranges.push(KindRange {
                    name: name.clone(),
                    label: label.clone(),
                    start,
                    end,
                });
            }
        }

        let mut terms = postings(&docs);
        terms.par_sort_unstable_by(|a, b| cmp_utf16(&a.0, &b.0));

        // Cut into shards by their serialized size.
        let mut bounds = vec![String::new()];
        let mut shard_starts = vec![0];
        let mut size = 0;
        for (i, (term, list)) in terms.iter().enumerate() {
            if size >= shard_bytes {
                bounds.push(super::shards::boundary(&terms[i - 1].0, term));
                shard_starts.push(i);
                size = 0;
            }
            size += term.len() + 6 + list.len() * 6;
        }
        Index {
            docs,
            kinds: ranges,
            terms,
            bounds,
            shard_starts,
        }
    }

    /// The terms of shard `i`.
    pub fn shard(&self, i: usize) -> &[(String, Vec<(u32, u8)>)] {
        let start = self.shard_starts[i];
        let end = self
            .shard_starts
            .get(i + 1)
            .copied()
            .unwrap_or(self.terms.len());
        &self.terms[start..end]
    }

    /// The postings of one term.
    pub fn postings(&self, term: &str) -> Option<&[(u32, u8)]> {
        self.terms
            .binary_search_by(|(t, _)| cmp_utf16(t, term))
            .ok()
            .map(|i| self.terms[i].1.as_slice())
    }

    /// Serialize a shard as JSON: `{"term":[id,weight,id-delta,weight,...],...}`.
    pub fn shard_json(&self, i: usize) -> String {
        let terms = self.shard(i);
        let mut out = String::with_capacity(terms.len() * 24);
        out.push('{');
        for (n, (term, list)) in terms.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::Value::from(term.as_str()).to_string());
            out.push_str(":[");
            let mut prev = 0;
            for (k, (doc, w)) in list.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                push_int(&mut out, doc - prev);
                out.push(',');
                push_int(&mut out, u32::from(*w));
                prev = *doc;
            }
            out.push(']');
        }
        out.push('}');
        out
    }

    /// Every file of the index, compressed where it pays. See [`super`] for the layout.
    pub fn files(&self) -> ShardedFiles {
        let shards = (0..self.bounds.len())
            .into_par_iter()
            .map(|i| self.shard_json(i).into_bytes());
        let docs = self.docs.par_chunks(super::DOCS_PER_FILE).map(|chunk| {
            let group: Vec<super::DocJson> =
                chunk.iter().map(|d| super::DocJson::new(d, self)).collect();
            serde_json::to_vec(&group).unwrap_or_default()
        });
        ShardedFiles::new(self, shards, docs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::SearchSection;

    fn doc(url: &str, kind: Option<&str>, title: &str, body: &str) -> SearchDoc {
        SearchDoc {
            url: url.into(),
            title: title.into(),
            kind: kind.map(str::to_string),
            description: None,
            tags: Vec::new(),
            fields: Vec::new(),
            sections: vec![SearchSection {
                anchor: String::new(),
                heading: String::new(),
                text: body.into(),
            }],
        }
    }

    fn kinds() -> Vec<(String, String)> {
        vec![
            ("tool".into(), "Tool".into()),
            ("concept".into(), "Concept".into()),
        ]
    }

    #[test]
    fn documents_are_grouped_by_kind_in_declared_order() {
        let idx = Index::build(
            &kinds(),
            vec![
                doc("b/", None, "Untyped", "x"),
                doc("concepts/a/", Some("concept"), "A", "x"),
                doc("tools/z/", Some("tool"), "Z", "x"),
                doc("tools/b/", Some("tool"), "B", "x"),
            ],
        );
        let urls: Vec<&str> = idx.docs.iter().map(|d| d.url.as_str()).collect();
        assert_eq!(urls, ["tools/b/", "tools/z/", "concepts/a/", "b/"]);
        assert_eq!(
            idx.kinds,
            [
                KindRange {
                    name: "tool".into(),
                    label: "Tool".into(),
                    start: 0,
                    end: 2
                },
                KindRange {
                    name: "concept".into(),
                    label: "Concept".into(),
                    start: 2,
                    end: 3
                },
            ]
        );
    }

    #[test]
    fn title_matches_outweigh_body_mentions() {
        let idx = Index::build(
            &kinds(),
            vec![
                doc("a/", None, "Juliang Qianchuan", "An ad platform."),
                doc(
                    "b/",
                    None,
                    "Paid traffic",
                    "Qianchuan qianchuan qianchuan buys traffic.",
                ),
            ],
        );
        let list = idx.postings("qianchuan").unwrap_or_default();
        assert_eq!(list.len(), 2);
        assert!(list[0].1 > list[1].1, "{list:?}");
    }

    #[test]
    fn shards_cover_every_term_once_and_bounds_find_them() {
        let docs = (0..400)
            .map(|i| {
                doc(
                    &format!("p{i}/"),
                    None,
                    &format!("Page {i}"),
                    &format!("word{i} common text{}", i % 7),
                )
            })
            .collect();
        let idx = Index::build_with(&kinds(), docs, 512);
        assert!(idx.bounds.len() > 1, "expected several shards");
        let mut seen = 0;
        for s in 0..idx.bounds.len() {
            for (t, _) in idx.shard(s) {
                assert_eq!(
                    super::super::shards::for_term(&idx.bounds, t),
                    s,
                    "term {t}"
                );
                seen += 1;
            }
        }
        assert_eq!(seen, idx.terms.len());
    }

    #[test]
    fn shard_json_is_delta_encoded() {
        let idx = Index::build(
            &kinds(),
            vec![
                doc("a/", None, "x", "alpha"),
                doc("b/", None, "y", "beta"),
                doc("c/", None, "z", "alpha"),
            ],
        );
        let json: serde_json::Value = serde_json::from_str(&idx.shard_json(0)).unwrap_or_default();
        let alpha = json["alpha"].as_array().cloned().unwrap_or_default();
        assert_eq!(alpha.len(), 4);
        assert_eq!(alpha[0], 0);
        assert_eq!(alpha[2], 2);
    }

    #[test]
    fn documents_are_cut_into_files_of_docs_per_file_in_id_order() {
        let per = crate::search::DOCS_PER_FILE;
        let docs: Vec<SearchDoc> = (0..2 * per + 1)
            .map(|i| doc(&format!("notes/n{i:03}/"), None, &format!("N{i}"), "text"))
            .collect();
        let files = Index::build(&kinds(), docs).files().files;
        let groups: Vec<serde_json::Value> = (0..3)
            .map(|n| {
                let name = format!("search/d/{n}.json.gz");
                let (_, bytes) = files.iter().find(|(p, _)| *p == name).expect("file");
                let mut text = String::new();
                let _ = std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(bytes.as_slice()),
                    &mut text,
                );
                serde_json::from_str(&text).unwrap_or_default()
            })
            .collect();
        let sizes: Vec<usize> = groups
            .iter()
            .map(|g| g.as_array().map_or(0, Vec::len))
            .collect();
        assert_eq!(sizes, [per, per, 1]);
        assert_eq!(groups[1][0]["u"], format!("notes/n{per:03}/"));
        assert_eq!(groups[2][0]["u"], format!("notes/n{:03}/", 2 * per));
        assert!(!files.iter().any(|(p, _)| p == "search/d/3.json.gz"));
    }

    #[test]
    fn building_twice_gives_the_same_bytes() {
        let make = || {
            Index::build(
                &kinds(),
                vec![
                    doc("a/", Some("tool"), "巨量千川", "千川 ads"),
                    doc("b/", None, "Other", "ads"),
                ],
            )
        };
        let (a, b) = (make().files(), make().files());
        assert_eq!(a.files, b.files);
    }
}
