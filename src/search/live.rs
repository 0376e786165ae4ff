//! Search: the index as a long-lived value. [`Live`] holds every document's tokenized terms and the
//! bytes of every file it last wrote, so that after one page changes ([`Live::set`]) only that page
//! is tokenized again and only the files that hold it are written again ([`Live::changes`]).
//! `fieldbook build` goes through the same code ([`Live::build`], then [`Live::into_files`]), so the
//! two cannot disagree: the files depend on the set of documents alone, never on the order of the
//! calls that made it (the unit tests below check this byte for byte).
//!
//! What keeps a change local (see [`super`] for the trade-offs):
//!
//! - Weights use coarse lengths ([`index::coarse`]): an edit that keeps a page's coarse length
//!   changes the postings of the terms it adds, drops or changes, not all of the page's terms.
//! - Document files are cut where the documents are ([`group_starts`]), not every eighth document,
//!   so a new page changes its own file and seldom its neighbours', not every file after it.
//! - Term shards are cut where the terms are ([`shards::cuts`]), so a posting more or less seldom
//!   moves a cut.
//! - A file is written again only when what it holds may have changed: it is known by its first
//!   and last term or document and how many it holds, and kept while none of those changed.
//!
//! Document ids are still positions: a new or removed page shifts the ids after it, which changes
//! every posting list that reaches past it (most shards, not the document files).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rayon::prelude::*;

use super::index::{self, Acc, DocEntry, KindRange, Part, TermHasher, TermMap};
use super::{shards, Fnv, SearchDoc};
use crate::config::SiteConfig;

/// A document file holds at least this many documents (but the last).
pub const GROUP_MIN: usize = 5;
/// A document file holds at most this many documents.
pub const GROUP_MAX: usize = 12;
/// Past [`GROUP_MIN`], one document in this many (by the hash of its URL) starts a new file: files
/// hold 6.9 documents on average, and the file of a random result 7.5.
pub const GROUP_ODDS: u64 = 3;

/// Files of the index: (path under the output root, bytes), sorted by path.
pub type Files = Vec<(String, Arc<[u8]>)>;

/// One document.
struct Slot {
    /// The caller's key (the URL, for pages).
    key: String,
    url: String,
    /// Kind rank: the kind's position in the site's list, untyped pages last.
    rank: u32,
    /// The document as its file holds it.
    json: Box<[u8]>,
    /// Its terms (ids into [`Live::terms`]) and what it holds of each.
    terms: Vec<(u32, Acc)>,
    /// Body length in terms.
    len: u32,
    /// Hash of the URL, which says whether the document starts a file.
    hash: u64,
}

/// One term of the vocabulary (terms stay when their last posting goes; their id is never reused).
struct Term {
    text: Box<str>,
    hash: u64,
    /// (document handle, what the document holds of the term), in document order.
    postings: Vec<(u32, Acc)>,
    /// Whether it is in [`Live::term_order`].
    listed: bool,
}

/// A file as last written.
#[derive(Clone)]
struct Chunk {
    /// Hash of the uncompressed bytes (for the manifest's id).
    hash: u64,
    bytes: Arc<[u8]>,
}

/// What a term shard or document file holds: its first and last term (or document handle), and how
/// many. With no term (document) in it changed since, the same key means the same bytes.
type ChunkKey = (u32, u32, u32);

/// What the last call of [`Live::files`] or [`Live::changes`] wrote.
#[derive(Default)]
struct Out {
    /// Document handles in id order.
    order: Vec<u32>,
    pivot: u32,
    shards: HashMap<ChunkKey, Chunk>,
    groups: HashMap<ChunkKey, Chunk>,
    /// Every file, by path.
    files: Files,
}

/// Where every document and term goes, as of now.
struct Layout {
    /// Document handles in id order.
    order: Vec<u32>,
    /// Per handle: its id.
    pos: Vec<u32>,
    /// Per handle: its coarse body length.
    clen: Vec<u32>,
    pivot: u32,
    /// Indices into `term_order` where each shard starts.
    cuts: Vec<usize>,
    /// Lower bound of each shard.
    bounds: Vec<String>,
    kinds: Vec<KindRange>,
}

/// Counters for the tests and benchmarks: how much work the index did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Work {
    /// Documents tokenized, ever.
    pub tokenized: usize,
    /// Paths of the shards and document files the last [`Live::files`] or [`Live::changes`]
    /// serialized and compressed (the others it kept).
    pub written: Vec<String>,
}

/// The search index of a site, kept up to date one document at a time. See the module docs.
pub struct Live {
    kinds: Vec<(String, String)>,
    shard_bytes: usize,
    /// Documents by handle; `None` for a free handle.
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    by_key: HashMap<String, u32>,
    /// Handles in id order, by (rank, URL, key).
    order: BTreeMap<(u32, String, String), u32>,
    vocab: TermMap<u32>,
    terms: Vec<Term>,
    /// Terms with postings, in UTF-16 order (brought up to date by [`Live::layout`]).
    term_order: Vec<u32>,
    /// Terms that got their first posting since the last layout.
    new_terms: Vec<u32>,
    /// Sum of the documents' body lengths.
    total_len: u64,
    /// Terms and documents changed since the last write (with repeats).
    dirty_terms: Vec<u32>,
    dirty_docs: Vec<u32>,
    out: Out,
    work: Work,
}

/// The kind rank of a document: its kind's position in `kinds`, untyped pages (and unknown kinds)
/// after all of them.
fn rank(kinds: &[(String, String)], kind: Option<&str>) -> u32 {
    let at = kind.and_then(|k| kinds.iter().position(|(n, _)| n == k));
    at.unwrap_or(kinds.len()) as u32
}

/// A stable 64-bit hash (FNV-1a) of a string: it decides where files are cut, so it must not change
/// between runs or releases.
fn stable_hash(s: &str) -> u64 {
    let mut h = Fnv::default();
    h.write(s.as_bytes());
    // FNV leaves the high bits of short strings poorly mixed; murmur3's finalizer mixes them.
    let mut z = h.0;
    z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    z = (z ^ (z >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    z ^ (z >> 33)
}

/// The documents of a full build with their keys (their URLs; a second document with a URL already
/// taken gets `URL\0n`), in id order. What [`Live::build`] takes.
pub fn keyed(kinds: &[(String, String)], docs: Vec<SearchDoc>) -> Vec<(String, SearchDoc)> {
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(docs.len());
    let mut out: Vec<(u32, String, SearchDoc)> = docs
        .into_iter()
        .map(|d| {
            let n = seen.entry(d.url.clone()).or_insert(0);
            let key = if *n == 0 {
                d.url.clone()
            } else {
                format!("{}\0{n}", d.url)
            };
            *n += 1;
            (rank(kinds, d.kind.as_deref()), key, d)
        })
        .collect();
    out.par_sort_unstable_by(|a, b| (a.0, &a.2.url, &a.1).cmp(&(b.0, &b.2.url, &b.1)));
    out.into_iter().map(|(_, k, d)| (k, d)).collect()
}

/// Where document files start, given the documents' URL hashes in id order: indices of each file's
/// first document. A file ends before a document whose hash picks it once it holds [`GROUP_MIN`],
/// and before any once it holds [`GROUP_MAX`]. A new or removed document moves the cuts after it
/// only until one falls where it fell before (two files on average).
fn group_starts(hashes: impl Iterator<Item = u64>) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut start = 0;
    for (i, h) in hashes.enumerate() {
        let held = i - start;
        if i == 0 || held >= GROUP_MAX || (held >= GROUP_MIN && (h >> 32) % GROUP_ODDS == 0) {
            starts.push(i);
            start = i;
        }
    }
    starts
}

/// The manifest's list of file sizes: one base-36 digit per document file.
fn group_sizes(starts: &[usize], docs: usize) -> String {
    starts
        .iter()
        .enumerate()
        .map(|(g, &s)| {
            let end = starts.get(g + 1).copied().unwrap_or(docs);
            char::from_digit((end - s) as u32, 36).unwrap_or('0')
        })
        .collect()
}

/// Hash and compress a file's bytes.
fn pack(raw: Vec<u8>) -> Chunk {
    let mut h = TermHasher::default();
    std::hash::Hasher::write(&mut h, &raw);
    Chunk {
        hash: h.0,
        bytes: Arc::from(super::gzip(&raw)),
    }
}

impl Live {
    /// An empty index for a site: its kinds (names and badges) come from the config.
    pub fn new(config: &SiteConfig) -> Live {
        Live::with_kinds(&super::kind_labels(config))
    }

    /// The index of a site's documents (as [`super::documents`] gives them), built at once and in
    /// parallel: what [`Live::set`] of each would give, faster.
    pub fn with_documents(config: &SiteConfig, docs: Vec<SearchDoc>) -> Live {
        let kinds = super::kind_labels(config);
        Live::build(&kinds, keyed(&kinds, docs), index::SHARD_BYTES)
    }

    /// An empty index; `kinds` are (name, singular label) in the site's declared order.
    pub fn with_kinds(kinds: &[(String, String)]) -> Live {
        Live::build(kinds, Vec::new(), index::SHARD_BYTES)
    }

    /// The index of many documents at once, tokenized in parallel: `docs` as [`keyed`] gives them
    /// (in id order, keys unique). `shard_bytes` is the size at which a shard may end
    /// ([`index::SHARD_BYTES`] but in tests).
    pub fn build(
        kinds: &[(String, String)],
        docs: Vec<(String, SearchDoc)>,
        shard_bytes: usize,
    ) -> Live {
        let mut live = Live {
            kinds: kinds.to_vec(),
            shard_bytes,
            slots: Vec::with_capacity(docs.len()),
            free: Vec::new(),
            by_key: HashMap::with_capacity(docs.len()),
            order: BTreeMap::new(),
            vocab: TermMap::default(),
            terms: Vec::new(),
            term_order: Vec::new(),
            new_terms: Vec::new(),
            total_len: 0,
            dirty_terms: Vec::new(),
            dirty_docs: Vec::new(),
            out: Out::default(),
            work: Work::default(),
        };
        live.work.tokenized = docs.len();
        // Workers take contiguous runs of documents; each tokenizes into its own vocabulary and
        // drops a document once it has its terms and its JSON.
        let kinds = &live.kinds;
        type Done = (String, String, u32, DocEntry, Box<[u8]>);
        let mut parts: Vec<(usize, Part, Vec<Done>)> = docs
            .into_par_iter()
            .enumerate()
            .with_min_len(64)
            .fold(
                || (usize::MAX, Part::default(), Vec::new()),
                |(first, mut part, mut list), (i, (key, doc))| {
                    let entry = part.tokenize(&doc);
                    let json = super::doc_json(&doc).into_boxed_slice();
                    let rank = rank(kinds, doc.kind.as_deref());
                    list.push((key, doc.url, rank, entry, json));
                    (first.min(i), part, list)
                },
            )
            .collect();
        parts.sort_by_key(|p| p.0);
        for (_, part, list) in parts {
            let remap: Vec<u32> = part.terms.into_iter().map(|t| live.term_id(t)).collect();
            for (key, url, rank, entry, json) in list {
                let mut terms = entry.terms;
                for t in &mut terms {
                    t.0 = remap[t.0 as usize];
                }
                let h = live.slots.len() as u32;
                for &(t, acc) in &terms {
                    live.add_first_posting(t);
                    live.terms[t as usize].postings.push((h, acc));
                }
                live.put_slot(h, key, url, rank, terms, entry.body_len, json);
            }
        }
        live
    }

    /// Put, replace (same key) or remove (`None`) the document of one page. `key` is the page's URL.
    pub fn set(&mut self, key: &str, doc: Option<SearchDoc>) {
        let old = self.by_key.get(key).copied();
        let Some(doc) = doc else {
            if let Some(h) = old {
                self.remove(h);
            }
            return;
        };
        let (len, terms) = self.tokenize(&doc);
        let json = super::doc_json(&doc).into_boxed_slice();
        let rank = rank(&self.kinds, doc.kind.as_deref());
        if let Some(h) = old {
            let same_place = self
                .slot(h)
                .is_some_and(|s| s.rank == rank && s.url == doc.url);
            if same_place {
                self.replace(h, len, terms, json);
                return;
            }
            self.remove(h);
        }
        self.insert(key, doc, len, terms, json);
    }

    /// Every file of the index as it is now: exactly the bytes [`super::build_files`] gives for the
    /// same documents. Paths are relative to the output root, sorted.
    pub fn files(&mut self) -> Files {
        self.write();
        self.out.files.clone()
    }

    /// What changed since the last call of [`Live::files`] or [`Live::changes`]: the files that are
    /// new or have other bytes, and the paths that are gone. Applied to the files of that call, they
    /// give [`Live::files`].
    pub fn changes(&mut self) -> (Files, Vec<String>) {
        let before = std::mem::take(&mut self.out.files);
        self.write();
        let after = &self.out.files;
        let (mut changed, mut gone) = (Vec::new(), Vec::new());
        let (mut i, mut j) = (0, 0);
        while i < before.len() || j < after.len() {
            let order = match (before.get(i), after.get(j)) {
                (Some(a), Some(b)) => a.0.cmp(&b.0),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match order {
                Ordering::Less => {
                    gone.push(before[i].0.clone());
                    i += 1;
                }
                Ordering::Greater => {
                    changed.push(after[j].clone());
                    j += 1;
                }
                Ordering::Equal => {
                    let (a, b) = (&before[i].1, &after[j].1);
                    if !Arc::ptr_eq(a, b) && a[..] != b[..] {
                        changed.push(after[j].clone());
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        (changed, gone)
    }

    /// Every file, for a build that is done with the index: [`Live::files`] as owned bytes.
    pub fn into_files(mut self) -> Vec<(String, Vec<u8>)> {
        self.write();
        let files = std::mem::take(&mut self.out.files);
        // Drop the rest first, so that each file is held once while it is copied out.
        drop(self);
        files
            .into_iter()
            .map(|(p, b)| {
                let bytes = b.to_vec();
                drop(b);
                (p, bytes)
            })
            .collect()
    }

    /// How many documents the index holds.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the index holds no document.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// How much work the index has done (for tests and benchmarks).
    pub fn work(&self) -> &Work {
        &self.work
    }

    /// The index as [`index::Index`] shows it: kind ranges, terms with their postings (document id,
    /// weight) in UTF-16 order, shard bounds and where each shard starts in the terms.
    #[allow(clippy::type_complexity)]
    pub(crate) fn reference(
        &mut self,
    ) -> (
        Vec<KindRange>,
        Vec<(String, Vec<(u32, u8)>)>,
        Vec<String>,
        Vec<usize>,
    ) {
        let layout = self.layout();
        let terms = self
            .term_order
            .iter()
            .map(|&t| {
                let term = &self.terms[t as usize];
                let list = term
                    .postings
                    .iter()
                    .map(|&(h, acc)| {
                        let h = h as usize;
                        (
                            layout.pos[h],
                            index::weight(acc, layout.clen[h], layout.pivot),
                        )
                    })
                    .collect();
                (term.text.to_string(), list)
            })
            .collect();
        (layout.kinds, terms, layout.bounds, layout.cuts)
    }

    fn slot(&self, h: u32) -> Option<&Slot> {
        self.slots.get(h as usize).and_then(Option::as_ref)
    }

    /// The id of a term, added to the vocabulary if new.
    fn term_id(&mut self, text: String) -> u32 {
        if let Some(&id) = self.vocab.get(text.as_str()) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.terms.push(Term {
            hash: stable_hash(&text),
            text: text.clone().into_boxed_str(),
            postings: Vec::new(),
            listed: false,
        });
        self.vocab.insert(text, id);
        id
    }

    /// Note a term about to get a posting: if it has none, it joins the term order at the next
    /// layout.
    fn add_first_posting(&mut self, t: u32) {
        let term = &mut self.terms[t as usize];
        if term.postings.is_empty() && !term.listed {
            self.new_terms.push(t);
        }
    }

    /// Tokenize one document: its body length and its terms (ids, sorted) with what it holds of each.
    fn tokenize(&mut self, doc: &SearchDoc) -> (u32, Vec<(u32, Acc)>) {
        self.work.tokenized += 1;
        let mut part = Part::default();
        let entry = part.tokenize(doc);
        let remap: Vec<u32> = part.terms.into_iter().map(|t| self.term_id(t)).collect();
        let mut terms = entry.terms;
        for t in &mut terms {
            t.0 = remap[t.0 as usize];
        }
        terms.sort_unstable_by_key(|t| t.0);
        (entry.body_len, terms)
    }

    #[allow(clippy::too_many_arguments)]
    fn put_slot(
        &mut self,
        h: u32,
        key: String,
        url: String,
        rank: u32,
        terms: Vec<(u32, Acc)>,
        len: u32,
        json: Box<[u8]>,
    ) {
        let slot = Slot {
            hash: stable_hash(&url),
            key: key.clone(),
            url,
            rank,
            json,
            terms,
            len,
        };
        self.order.insert((rank, slot.url.clone(), key.clone()), h);
        self.by_key.insert(key, h);
        self.total_len += u64::from(len);
        let at = h as usize;
        if at == self.slots.len() {
            self.slots.push(Some(slot));
        } else {
            self.slots[at] = Some(slot);
        }
        self.dirty_docs.push(h);
    }

    fn insert(
        &mut self,
        key: &str,
        doc: SearchDoc,
        len: u32,
        terms: Vec<(u32, Acc)>,
        json: Box<[u8]>,
    ) {
        let h = self.free.pop().unwrap_or(self.slots.len() as u32);
        let rank = rank(&self.kinds, doc.kind.as_deref());
        self.put_slot(h, key.to_string(), doc.url, rank, terms, len, json);
        let terms = self.slot(h).map(|s| s.terms.clone()).unwrap_or_default();
        for (t, acc) in terms {
            self.add_posting(t, h, acc);
        }
    }

    fn remove(&mut self, h: u32) {
        let terms = self.slot(h).map(|s| s.terms.clone()).unwrap_or_default();
        for (t, _) in terms {
            self.remove_posting(t, h);
        }
        if let Some(slot) = self.slots.get_mut(h as usize).and_then(Option::take) {
            self.order.remove(&(slot.rank, slot.url, slot.key.clone()));
            self.by_key.remove(&slot.key);
            self.total_len -= u64::from(slot.len);
            self.free.push(h);
        }
    }

    /// A new version of the document in slot `h`, at the same place in the order.
    fn replace(&mut self, h: u32, len: u32, new: Vec<(u32, Acc)>, json: Box<[u8]>) {
        let Some(slot) = self.slots.get_mut(h as usize).and_then(Option::as_mut) else {
            return;
        };
        let mut old = std::mem::take(&mut slot.terms);
        // A full build leaves terms in order of first occurrence.
        old.sort_unstable_by_key(|t| t.0);
        let moved = index::coarse(slot.len) != index::coarse(len);
        self.total_len = self.total_len - u64::from(slot.len) + u64::from(len);
        slot.len = len;
        if slot.json != json {
            slot.json = json;
            self.dirty_docs.push(h);
        }
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < new.len() {
            let order = match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) => a.0.cmp(&b.0),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match order {
                Ordering::Less => {
                    self.remove_posting(old[i].0, h);
                    i += 1;
                }
                Ordering::Greater => {
                    self.add_posting(new[j].0, h, new[j].1);
                    j += 1;
                }
                Ordering::Equal => {
                    let (t, acc) = new[j];
                    if old[i].1 != acc {
                        self.add_posting(t, h, acc);
                    } else if moved {
                        self.dirty_terms.push(t);
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        if let Some(slot) = self.slots.get_mut(h as usize).and_then(Option::as_mut) {
            slot.terms = new;
        }
    }

    /// Where document `h` goes in a posting list: `Ok` where it is, `Err` where it would be.
    fn find(slots: &[Option<Slot>], list: &[(u32, Acc)], h: u32) -> Result<usize, usize> {
        let key = |h: u32| {
            slots
                .get(h as usize)
                .and_then(Option::as_ref)
                .map(|s| (s.rank, s.url.as_str(), s.key.as_str()))
        };
        let target = key(h);
        list.binary_search_by(|&(g, _)| key(g).cmp(&target))
    }

    /// Add (or update) the posting of document `h` in term `t`.
    fn add_posting(&mut self, t: u32, h: u32, acc: Acc) {
        self.add_first_posting(t);
        let list = &mut self.terms[t as usize].postings;
        match Live::find(&self.slots, list, h) {
            Ok(i) => list[i].1 = acc,
            Err(i) => list.insert(i, (h, acc)),
        }
        self.dirty_terms.push(t);
    }

    /// Remove the posting of document `h` (still in its slot) from term `t`.
    fn remove_posting(&mut self, t: u32, h: u32) {
        let list = &mut self.terms[t as usize].postings;
        if let Ok(i) = Live::find(&self.slots, list, h) {
            list.remove(i);
        }
        self.dirty_terms.push(t);
    }

    /// Bring the term order up to date and place every document and term.
    fn layout(&mut self) -> Layout {
        let order: Vec<u32> = self.order.values().copied().collect();
        let mut pos = vec![0u32; self.slots.len()];
        let mut clen = vec![0u32; self.slots.len()];
        for (i, &h) in order.iter().enumerate() {
            pos[h as usize] = i as u32;
            clen[h as usize] = self.slot(h).map_or(0, |s| index::coarse(s.len));
        }

        // Terms whose last posting went leave the order; terms with a first one join it.
        let terms = &mut self.terms;
        self.term_order.retain(|&t| {
            let term = &mut terms[t as usize];
            term.listed = !term.postings.is_empty();
            term.listed
        });
        let mut fresh: Vec<u32> = std::mem::take(&mut self.new_terms)
            .into_iter()
            .filter(|&t| {
                let term = &mut terms[t as usize];
                let joins = !term.listed && !term.postings.is_empty();
                term.listed |= joins;
                joins
            })
            .collect();
        if !fresh.is_empty() {
            let by_text = |a: &u32, b: &u32| {
                super::tokenize::cmp_utf16(&terms[*a as usize].text, &terms[*b as usize].text)
            };
            fresh.sort_unstable_by(by_text);
            let old = std::mem::take(&mut self.term_order);
            let mut merged = Vec::with_capacity(old.len() + fresh.len());
            let (mut i, mut j) = (0, 0);
            while i < old.len() && j < fresh.len() {
                if by_text(&old[i], &fresh[j]) == Ordering::Less {
                    merged.push(old[i]);
                    i += 1;
                } else {
                    merged.push(fresh[j]);
                    j += 1;
                }
            }
            merged.extend_from_slice(&old[i..]);
            merged.extend_from_slice(&fresh[j..]);
            self.term_order = merged;
        }

        let terms = &self.terms;
        let sizes = self.term_order.iter().map(|&t| {
            let term = &terms[t as usize];
            (
                shards::term_size(&term.text, term.postings.len()),
                term.hash,
            )
        });
        let cuts = shards::cuts(sizes, self.shard_bytes);
        let mut bounds = vec![String::new()];
        for &c in &cuts[1..] {
            let prev = &terms[self.term_order[c - 1] as usize].text;
            let next = &terms[self.term_order[c] as usize].text;
            bounds.push(shards::boundary(prev, next));
        }

        let mut kinds = Vec::new();
        let mut start = 0;
        for (i, (name, label)) in self.kinds.iter().enumerate() {
            let end = start
                + order[start..]
                    .iter()
                    .take_while(|&&h| self.slot(h).is_some_and(|s| s.rank as usize == i))
                    .count();
            if end > start {
                kinds.push(KindRange {
                    name: name.clone(),
                    label: label.clone(),
                    start: start as u32,
                    end: end as u32,
                });
            }
            start = end;
        }

        Layout {
            pivot: index::pivot(self.total_len, order.len()),
            order,
            pos,
            clen,
            cuts,
            bounds,
            kinds,
        }
    }

    /// The JSON of the shard holding `terms`.
    fn shard_raw(&self, terms: &[u32], layout: &Layout) -> Vec<u8> {
        let postings: usize = terms
            .iter()
            .map(|&t| self.terms[t as usize].postings.len())
            .sum();
        let mut out = Vec::with_capacity(postings * 6 + terms.len() * 16 + 2);
        shards::write_open(&mut out);
        for (n, &t) in terms.iter().enumerate() {
            let term = &self.terms[t as usize];
            let list = term.postings.iter().map(|&(h, acc)| {
                let h = h as usize;
                (
                    layout.pos[h],
                    index::weight(acc, layout.clen[h], layout.pivot),
                )
            });
            shards::write_term(&mut out, n, &term.text, list);
        }
        shards::write_close(&mut out);
        out
    }

    /// The JSON of the document file holding `docs` (handles, in id order).
    fn group_raw(&self, docs: &[u32]) -> Vec<u8> {
        let jsons: Vec<&[u8]> = docs
            .iter()
            .filter_map(|&h| self.slot(h).map(|s| &s.json[..]))
            .collect();
        let mut out = Vec::with_capacity(jsons.iter().map(|j| j.len() + 1).sum::<usize>() + 2);
        out.push(b'[');
        for (n, j) in jsons.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(j);
        }
        out.push(b']');
        out
    }

    /// Bring [`Out`] up to date: write the files that may have changed, keep the others.
    fn write(&mut self) {
        let layout = self.layout();
        let old_order = std::mem::take(&mut self.out.order);
        // From the first id whose document changed, every posting list that reaches that far has
        // other ids (or other deltas).
        let shifted = old_order
            .iter()
            .zip(&layout.order)
            .position(|(a, b)| a != b)
            .or_else(|| {
                (old_order.len() != layout.order.len())
                    .then(|| old_order.len().min(layout.order.len()))
            });
        let mut dirty_term = vec![layout.pivot != self.out.pivot; self.terms.len()];
        for &t in &self.dirty_terms {
            dirty_term[t as usize] = true;
        }
        if let Some(p) = shifted {
            for &t in &self.term_order {
                let last = self.terms[t as usize].postings.last();
                if last.is_some_and(|&(h, _)| layout.pos[h as usize] as usize >= p) {
                    dirty_term[t as usize] = true;
                }
            }
        }
        let mut dirty_doc = vec![false; self.slots.len()];
        for &h in &self.dirty_docs {
            if let Some(d) = dirty_doc.get_mut(h as usize) {
                *d = true;
            }
        }

        // Term shards: keep those whose terms did not change.
        let shard_ranges: Vec<&[u32]> = layout
            .cuts
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let end = layout
                    .cuts
                    .get(i + 1)
                    .copied()
                    .unwrap_or(self.term_order.len());
                &self.term_order[s..end]
            })
            .collect();
        let key_of = |range: &[u32]| -> ChunkKey {
            match (range.first(), range.last()) {
                (Some(&a), Some(&b)) => (a, b, range.len() as u32),
                _ => (u32::MAX, u32::MAX, 0),
            }
        };
        let shard_keys: Vec<ChunkKey> = shard_ranges.iter().map(|r| key_of(r)).collect();
        let mut shards: Vec<Option<Chunk>> = shard_ranges
            .iter()
            .zip(&shard_keys)
            .map(|(range, key)| {
                if range.iter().any(|&t| dirty_term[t as usize]) {
                    return None;
                }
                self.out.shards.get(key).cloned()
            })
            .collect();
        let todo: Vec<usize> = (0..shards.len()).filter(|&i| shards[i].is_none()).collect();
        let made: Vec<Chunk> = todo
            .par_iter()
            .map(|&i| pack(self.shard_raw(shard_ranges[i], &layout)))
            .collect();
        let mut written = Vec::with_capacity(todo.len());
        for (&i, chunk) in todo.iter().zip(made) {
            shards[i] = Some(chunk);
            written.push(format!("{}/t/{i}.json.gz", super::DIR));
        }

        // Document files: keep those whose documents did not change.
        let starts = group_starts(
            layout
                .order
                .iter()
                .map(|&h| self.slot(h).map_or(0, |s| s.hash)),
        );
        let group_ranges: Vec<&[u32]> = starts
            .iter()
            .enumerate()
            .map(|(g, &s)| {
                let end = starts.get(g + 1).copied().unwrap_or(layout.order.len());
                &layout.order[s..end]
            })
            .collect();
        let group_keys: Vec<ChunkKey> = group_ranges.iter().map(|r| key_of(r)).collect();
        let mut groups: Vec<Option<Chunk>> = group_ranges
            .iter()
            .zip(&group_keys)
            .map(|(range, key)| {
                if range.iter().any(|&h| dirty_doc[h as usize]) {
                    return None;
                }
                self.out.groups.get(key).cloned()
            })
            .collect();
        let todo: Vec<usize> = (0..groups.len()).filter(|&g| groups[g].is_none()).collect();
        let made: Vec<Chunk> = todo
            .par_iter()
            .map(|&g| pack(self.group_raw(group_ranges[g])))
            .collect();
        for (&g, chunk) in todo.iter().zip(made) {
            groups[g] = Some(chunk);
            written.push(format!("{}/d/{g}.json.gz", super::DIR));
        }
        let shards: Vec<Chunk> = shards.into_iter().flatten().collect();
        let groups: Vec<Chunk> = groups.into_iter().flatten().collect();

        // The manifest's id changes whenever any file does.
        let mut id = Fnv::default();
        for c in shards.iter().chain(&groups) {
            id.write(&c.hash.to_le_bytes());
        }
        let manifest = super::Manifest {
            version: super::VERSION,
            id: format!("{:016x}", id.0),
            docs: layout.order.len(),
            kinds: &layout.kinds,
            shards: &layout.bounds,
            groups: group_sizes(&starts, layout.order.len()),
            stop: super::tokenize::STOP_WORDS,
        };
        let mut files: Files = Vec::with_capacity(shards.len() + groups.len() + 1);
        for (i, c) in shards.iter().enumerate() {
            files.push((format!("{}/t/{i}.json.gz", super::DIR), c.bytes.clone()));
        }
        for (g, c) in groups.iter().enumerate() {
            files.push((format!("{}/d/{g}.json.gz", super::DIR), c.bytes.clone()));
        }
        files.push((
            format!("{}/manifest.json", super::DIR),
            Arc::from(serde_json::to_vec(&manifest).unwrap_or_default()),
        ));
        files.sort_by(|a, b| a.0.cmp(&b.0));

        self.out = Out {
            order: layout.order,
            pivot: layout.pivot,
            shards: shard_keys.into_iter().zip(shards).collect(),
            groups: group_keys.into_iter().zip(groups).collect(),
            files,
        };
        self.dirty_terms.clear();
        self.dirty_docs.clear();
        written.sort();
        self.work.written = written;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::SearchSection;
    use std::collections::BTreeMap;

    /// splitmix64: a seeded generator, so that a failure can be replayed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
        fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
            list[self.below(list.len())]
        }
    }

    const WORDS: &[&str] = &[
        "live",
        "room",
        "anchor",
        "traffic",
        "conversion",
        "audience",
        "video",
        "stores",
        "brand",
        "campaigns",
        "budget",
        "coupon",
        "the",
        "of",
        "refund",
        "logistics",
        "funnel",
        "studies",
        "boxes",
        "don't",
        "Qianchuan",
        "巨量千川",
        "抖店",
        "直播",
        "zh",
        "a1",
        "x2y",
        "café",
    ];

    fn kinds() -> Vec<(String, String)> {
        vec![
            ("tool".into(), "Tool".into()),
            ("concept".into(), "Concept".into()),
            ("empty".into(), "Empty".into()),
        ]
    }

    fn text(rng: &mut Rng, words: usize) -> String {
        (0..words)
            .map(|_| rng.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A random document at `url`.
    fn random_doc(rng: &mut Rng, url: &str) -> SearchDoc {
        let kind = match rng.below(4) {
            0 => None,
            1 => Some("concept".to_string()),
            _ => Some("tool".to_string()),
        };
        let sections = (0..1 + rng.below(3))
            .map(|i| {
                let heading = if i == 0 {
                    String::new()
                } else {
                    let n = 1 + rng.below(3);
                    text(rng, n)
                };
                let len = [3, 20, 60, 150][rng.below(4)] + rng.below(10);
                SearchSection {
                    anchor: format!("s{i}"),
                    heading,
                    text: text(rng, len),
                }
            })
            .collect();
        let words = 1 + rng.below(3);
        SearchDoc {
            url: url.to_string(),
            title: text(rng, words),
            kind,
            description: (rng.below(3) == 0).then(|| text(rng, 5)),
            tags: (0..rng.below(3))
                .map(|_| rng.pick(WORDS).to_string())
                .collect(),
            fields: (0..rng.below(2))
                .map(|_| ("zh".to_string(), text(rng, 2)))
                .collect(),
            sections,
        }
    }

    /// A small edit: a word more or less at the end of one section, or a new title.
    fn edited(rng: &mut Rng, doc: &SearchDoc) -> SearchDoc {
        let mut d = doc.clone();
        match rng.below(3) {
            0 => d.title = text(rng, 2),
            1 => {
                let s = rng.below(d.sections.len());
                if let Some((rest, _)) = d.sections[s].text.rsplit_once(' ') {
                    d.sections[s].text = rest.to_string();
                }
            }
            _ => {
                let s = rng.below(d.sections.len());
                let w = rng.pick(WORDS);
                d.sections[s].text.push(' ');
                d.sections[s].text.push_str(w);
            }
        }
        d
    }

    const SHARD: usize = 300;

    /// What a fresh full build of these documents writes.
    fn fresh(docs: &BTreeMap<String, SearchDoc>) -> BTreeMap<String, Vec<u8>> {
        let kinds = kinds();
        let list = docs.values().cloned().collect();
        Live::build(&kinds, keyed(&kinds, list), SHARD)
            .into_files()
            .into_iter()
            .collect()
    }

    fn owned(files: Files) -> BTreeMap<String, Vec<u8>> {
        files.into_iter().map(|(p, b)| (p, b.to_vec())).collect()
    }

    #[test]
    fn any_sequence_of_changes_gives_the_files_of_a_fresh_build() {
        for seed in [1, 2, 3] {
            let mut rng = Rng(seed);
            let urls: Vec<String> = (0..40).map(|i| format!("p/{:02}/", i * 7 % 40)).collect();
            let mut docs: BTreeMap<String, SearchDoc> = BTreeMap::new();
            let mut live = Live::build(&kinds(), Vec::new(), SHARD);
            let mut state = owned(live.files());
            assert_eq!(state, fresh(&docs));
            let mut several_shards = false;
            for step in 0..250 {
                let url = &urls[rng.below(urls.len())];
                let roll = rng.below(10);
                let doc = match docs.get(url) {
                    Some(_) if roll < 2 => None,
                    Some(d) if roll < 7 => Some(edited(&mut rng, d)),
                    _ => Some(random_doc(&mut rng, url)),
                };
                match &doc {
                    Some(d) => docs.insert(url.clone(), d.clone()),
                    None => docs.remove(url),
                };
                live.set(url, doc);
                if step % 5 == 4 {
                    // Several changes at once, and files() as the new baseline.
                    let files = owned(live.files());
                    assert_eq!(files, fresh(&docs), "seed {seed}, step {step}");
                    state = files;
                } else {
                    let (changed, gone) = live.changes();
                    for path in gone {
                        assert!(state.remove(&path).is_some(), "{path} was not there");
                    }
                    for (path, bytes) in changed {
                        let old = state.insert(path.clone(), bytes.to_vec());
                        assert!(old.as_deref() != Some(&bytes[..]), "{path} did not change");
                    }
                    assert_eq!(state, fresh(&docs), "seed {seed}, step {step}");
                }
                several_shards |= state.contains_key("search/t/2.json.gz");
            }
            assert!(several_shards);
        }
    }

    /// Thirty documents of 97 body terms each: a word more keeps every coarse length.
    fn site() -> Vec<SearchDoc> {
        let mut rng = Rng(7);
        (0..30)
            .map(|i| SearchDoc {
                url: format!("notes/{i:02}/"),
                title: format!("Note {i}"),
                kind: None,
                description: None,
                tags: Vec::new(),
                fields: Vec::new(),
                sections: vec![SearchSection {
                    anchor: String::new(),
                    heading: String::new(),
                    text: (0..97)
                        .map(|_| {
                            WORDS[..12]
                                .iter()
                                .filter(|w| **w != "the")
                                .nth(rng.below(11))
                        })
                        .map(|w| w.copied().unwrap_or("live"))
                        .collect::<Vec<_>>()
                        .join(" "),
                }],
            })
            .collect()
    }

    #[test]
    fn one_changed_document_is_tokenized_again_and_only_the_files_that_differ_are_written() {
        let docs = site();
        let kinds = kinds();
        let mut live = Live::build(&kinds, keyed(&kinds, docs.clone()), SHARD);
        let before = owned(live.files());
        assert!(before.keys().filter(|p| p.contains("/t/")).count() > 5);
        assert_eq!(live.work().tokenized, 30);

        let mut doc = docs[12].clone();
        doc.sections[0].text.push_str(" zebra");
        live.set(&doc.url, Some(doc.clone()));
        assert_eq!(live.work().tokenized, 31);
        let (changed, gone) = live.changes();
        assert!(gone.is_empty(), "{gone:?}");
        let changed: Vec<&str> = changed.iter().map(|(p, _)| p.as_str()).collect();
        // The manifest (its id), the file of the document, and the shard of `zebra`.
        assert_eq!(changed.len(), 3, "{changed:?}");
        assert!(changed.contains(&"search/manifest.json"));
        let written: Vec<&str> = live.work().written.iter().map(String::as_str).collect();
        let files: Vec<&str> = changed
            .iter()
            .copied()
            .filter(|p| *p != "search/manifest.json")
            .collect();
        assert_eq!(written, files);

        let mut all = docs.clone();
        all[12] = doc.clone();
        let now: BTreeMap<String, Vec<u8>> = files_of_at(&all);
        assert_eq!(owned(live.files()), now);

        // The same document again: tokenized, but nothing to write.
        live.set(&doc.url.clone(), Some(doc));
        let (changed, gone) = live.changes();
        assert!(
            changed.is_empty() && gone.is_empty(),
            "{changed:?} {gone:?}"
        );
        assert!(live.work().written.is_empty());
    }

    fn files_of_at(docs: &[SearchDoc]) -> BTreeMap<String, Vec<u8>> {
        let kinds = kinds();
        Live::build(&kinds, keyed(&kinds, docs.to_vec()), SHARD)
            .into_files()
            .into_iter()
            .collect()
    }

    #[test]
    fn a_new_page_rewrites_its_document_file_not_the_ones_after_it() {
        let mut docs: Vec<SearchDoc> = site();
        for i in 30..200 {
            let mut d = docs[i % 30].clone();
            d.url = format!("notes/{i:03}/");
            docs.push(d);
        }
        let kinds = kinds();
        let mut live = Live::build(&kinds, keyed(&kinds, docs.clone()), SHARD);
        live.files();
        let mut new = docs[3].clone();
        new.url = "notes/050a/".into();
        live.set(&new.url.clone(), Some(new));
        live.changes();
        let groups = live
            .work()
            .written
            .iter()
            .filter(|p| p.contains("/d/"))
            .count();
        assert!((1..=4).contains(&groups), "{:?}", live.work().written);
    }

    #[test]
    fn duplicate_urls_in_a_full_build_are_all_kept() {
        let docs = site();
        let mut twice = docs[..3].to_vec();
        twice.push(docs[0].clone());
        let kinds = kinds();
        let keyed = keyed(&kinds, twice);
        assert_eq!(keyed.len(), 4);
        assert_eq!(Live::build(&kinds, keyed, SHARD).len(), 4);
    }
}
