//! Search: the index's arithmetic. How a document becomes terms with frequencies ([`Part`]), what
//! one posting weighs ([`weight`]), and [`Index`], the whole index in memory as the browser sees it
//! (see [`super`] for the file layout), which [`super::query`] searches for the tests.
//!
//! Ranking is BM25F-style and mostly done at build time: each (term, document) pair gets one small
//! integer weight that already holds the term's frequency in each field (title, headings, fields
//! and tags, description, body, each with its own boost), the saturation and the length
//! normalization of BM25, and a bonus for a title or heading match. The browser only multiplies
//! weights by the terms' IDF (from the posting lists' lengths) and adds them up, so it needs no
//! per-document statistics, and a posting is just (document, weight).
//!
//! Length normalization uses coarse lengths ([`coarse`]: four significant bits, so within 6 % of
//! the real one) for both the document and the pivot (the average length), so that a small edit
//! leaves the weights of a page's other terms, and the pivot leaves every weight, as they were: see
//! [`super::live`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::tokenize;
use super::SearchDoc;

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
/// A term shard may end once its JSON reaches this many bytes (before compression): it ends after
/// the first term that is a cut point (see [`super::shards::cuts`]).
pub const SHARD_BYTES: usize = 32 * 1024;

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

/// A hash map keyed by terms, with [`TermHasher`].
pub(crate) type TermMap<V> = HashMap<String, V, BuildHasherDefault<TermHasher>>;

/// What a document holds of one term, packed in 32 bits: its boosted frequency in half units (every
/// boost is a multiple of 0.5, so the sum is exact), and whether it is in the title and in a heading.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Acc(u32);

impl Acc {
    const TITLE: u32 = 1;
    const HEADING: u32 = 2;

    fn add(&mut self, half_units: u32, title: bool, heading: bool) {
        let tf = (self.0 >> 2).saturating_add(half_units).min(u32::MAX >> 2);
        self.0 = (tf << 2)
            | (self.0 & (Self::TITLE | Self::HEADING))
            | if title { Self::TITLE } else { 0 }
            | if heading { Self::HEADING } else { 0 };
    }

    /// The boosted frequency.
    fn tf(self) -> f32 {
        (self.0 >> 2) as f32 * 0.5
    }
}

/// A boost in the half units of [`Acc`].
const fn half_units(boost: f32) -> u32 {
    (boost * 2.0) as u32
}

const NONE: u32 = u32::MAX;

/// One document's terms: (term id in its [`Part`]'s vocabulary, frequency), in order of first
/// occurrence, and the length of its body (description and section text) in terms.
pub(crate) struct DocEntry {
    pub(crate) body_len: u32,
    pub(crate) terms: Vec<(u32, Acc)>,
}

/// What one worker tokenizes: its own vocabulary (so terms are allocated once per worker, not once
/// per document) and its documents' terms as ids into it.
#[derive(Default)]
pub(crate) struct Part {
    ids: TermMap<u32>,
    /// The vocabulary, by id.
    pub(crate) terms: Vec<String>,
    /// Per term id: where it is in the current document's list, or [`NONE`].
    slot: Vec<u32>,
    buf: String,
}

impl Part {
    /// Tokenize one document into this part's vocabulary.
    pub(crate) fn tokenize(&mut self, doc: &SearchDoc) -> DocEntry {
        let mut entries: Vec<(u32, Acc)> = Vec::with_capacity(256);
        let mut body_len = 0u32;
        let Part {
            ids,
            terms,
            slot,
            buf,
        } = self;
        let mut add = |text: &str, boost: u32, title: bool, heading: bool, body: bool| {
            tokenize::for_each_term(text, buf, |t| {
                if body {
                    body_len = body_len.saturating_add(1);
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
                entries[*at as usize].1.add(boost, title, heading);
            });
        };
        add(&doc.title, half_units(TITLE_BOOST), true, false, false);
        if let Some(d) = &doc.description {
            add(d, half_units(DESCRIPTION_BOOST), false, false, true);
        }
        for t in &doc.tags {
            add(t, half_units(FIELD_BOOST), false, false, false);
        }
        for (_, v) in &doc.fields {
            add(v, half_units(FIELD_BOOST), false, false, false);
        }
        for s in &doc.sections {
            if !s.heading.is_empty() {
                add(&s.heading, half_units(HEADING_BOOST), false, true, false);
            }
            add(&s.text, half_units(1.0), false, false, true);
        }
        for (tid, _) in &entries {
            self.slot[*tid as usize] = NONE;
        }
        DocEntry {
            body_len,
            terms: entries,
        }
    }
}

/// Append a number in decimal (the shards hold millions of them; `write!` is slow for that).
pub(crate) fn push_int(out: &mut Vec<u8>, mut n: u32) {
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
    out.extend_from_slice(&digits[i..]);
}

/// A length rounded to four significant bits (the middle of its bucket): 1 to 15 stay as they are,
/// larger lengths move by at most 1/16. Length normalization works on these, so that most edits
/// leave a page's coarse length, and one page leaves the site's coarse average, unchanged.
pub fn coarse(n: u32) -> u32 {
    if n < 16 {
        return n;
    }
    let shift = 28 - n.leading_zeros();
    ((n >> shift) << shift) + (1 << (shift - 1))
}

/// The pivot of length normalization for documents whose body lengths add up to `total`.
pub(crate) fn pivot(total: u64, docs: usize) -> u32 {
    let avg = total / docs.max(1) as u64;
    coarse(u32::try_from(avg).unwrap_or(u32::MAX)).max(1)
}

/// The stored weight of a term in a document of (coarse) body length `len`, given the pivot.
pub(crate) fn weight(acc: Acc, len: u32, pivot: u32) -> u8 {
    let norm = 1.0 - B + B * (len as f32 / pivot.max(1) as f32);
    let tf = acc.tf();
    let mut w = tf * (K1 + 1.0) / (tf + K1 * norm);
    if acc.0 & Acc::TITLE != 0 {
        w += TITLE_BONUS;
    }
    if acc.0 & Acc::HEADING != 0 {
        w += HEADING_BONUS;
    }
    (w * SCALE).round().clamp(1.0, 255.0) as u8
}

impl Index {
    /// Build the index. `kinds` are (name, singular label) in the site's declared order.
    pub fn build(kinds: &[(String, String)], docs: Vec<SearchDoc>) -> Index {
        Index::build_with(kinds, docs, SHARD_BYTES)
    }

    /// [`Index::build`] with another shard size. It builds the [`super::Live`] index of the same
    /// documents and reads it out, so that it is what the files hold.
    pub fn build_with(
        kinds: &[(String, String)],
        docs: Vec<SearchDoc>,
        shard_bytes: usize,
    ) -> Index {
        let keyed = super::live::keyed(kinds, docs);
        let mut live = super::Live::build(kinds, keyed.clone(), shard_bytes);
        let (kinds, terms, bounds, shard_starts) = live.reference();
        Index {
            docs: keyed.into_iter().map(|(_, d)| d).collect(),
            kinds,
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
            .binary_search_by(|(t, _)| tokenize::cmp_utf16(t, term))
            .ok()
            .map(|i| self.terms[i].1.as_slice())
    }

    /// Serialize a shard as JSON: `{"term":[id,weight,id-delta,weight,...],...}`.
    pub fn shard_json(&self, i: usize) -> String {
        let mut out = Vec::new();
        super::shards::write_open(&mut out);
        for (n, (term, list)) in self.shard(i).iter().enumerate() {
            super::shards::write_term(&mut out, n, term, list.iter().copied());
        }
        super::shards::write_close(&mut out);
        String::from_utf8(out).unwrap_or_default()
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
    fn documents_are_cut_into_files_of_five_to_twelve_in_id_order() {
        use crate::search::live::{GROUP_MAX, GROUP_MIN};
        let docs: Vec<SearchDoc> = (0..200)
            .map(|i| doc(&format!("notes/n{i:03}/"), None, &format!("N{i}"), "text"))
            .collect();
        let files = crate::search::files_of(&kinds(), docs);
        let read = |name: &str| -> serde_json::Value {
            let Some((_, bytes)) = files.iter().find(|(p, _)| p == name) else {
                return serde_json::Value::Null;
            };
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(bytes.as_slice()),
                &mut text,
            );
            serde_json::from_str(&text)
                .unwrap_or_else(|_| serde_json::from_slice(bytes).unwrap_or_default())
        };
        let manifest = read("search/manifest.json");
        let sizes: Vec<usize> = manifest["groups"]
            .as_str()
            .unwrap_or("")
            .chars()
            .filter_map(|c| c.to_digit(36))
            .map(|n| n as usize)
            .collect();
        assert_eq!(sizes.iter().sum::<usize>(), 200);
        let last = sizes.len() - 1;
        for (g, &n) in sizes.iter().enumerate() {
            assert!(n <= GROUP_MAX && (n >= GROUP_MIN || g == last), "{sizes:?}");
        }
        // Concatenated, the files are the documents in id order.
        let mut id = 0;
        for (g, &n) in sizes.iter().enumerate() {
            let group = read(&format!("search/d/{g}.json.gz"));
            assert_eq!(group.as_array().map(Vec::len), Some(n));
            for d in group.as_array().into_iter().flatten() {
                assert_eq!(d["u"], format!("notes/n{id:03}/"));
                id += 1;
            }
        }
        assert!(read(&format!("search/d/{}.json.gz", sizes.len())).is_null());
    }

    #[test]
    fn building_twice_gives_the_same_bytes() {
        let make = || {
            crate::search::files_of(
                &kinds(),
                vec![
                    doc("a/", Some("tool"), "巨量千川", "千川 ads"),
                    doc("b/", None, "Other", "ads"),
                ],
            )
        };
        assert_eq!(make(), make());
    }

    #[test]
    fn coarse_lengths_keep_four_significant_bits() {
        for n in 0..16 {
            assert_eq!(coarse(n), n);
        }
        assert_eq!(coarse(16), 17);
        assert_eq!(coarse(100), 100);
        assert_eq!(coarse(103), 100);
        assert_eq!(coarse(104), 108);
        for n in [17, 99, 1000, 12_345, 1 << 20, u32::MAX] {
            let c = f64::from(coarse(n));
            assert!(
                (c - f64::from(n)).abs() <= f64::from(n) / 16.0,
                "{n} -> {c}"
            );
        }
    }
}
