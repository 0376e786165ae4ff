//! Search: query evaluation. The reference for what `search.js` does in the browser (same parsing,
//! same scores), used by the tests to pin down ranking without a browser.
//!
//! A query is words, CJK runs and `"quoted phrases"`. Every word must match (AND; when nothing
//! matches them all, pages matching the most words come first). A CJK run must match all its
//! bigrams. While typing, the last word also matches as a prefix (`qian` finds `qianchuan`). A phrase
//! keeps only pages whose text contains it as written. A page's score is the sum, over the query's
//! words, of the term's IDF times its stored weight (see [`mod@super::index`]).

use std::cmp::Ordering;
use std::collections::HashMap;

use super::index::{Index, SCALE};
use super::tokenize::{self, cmp_utf16, Piece};

/// How much a prefix match counts, against an exact one.
pub const PREFIX_FACTOR: f32 = 0.8;
/// At most this many terms stand in for a prefix (the most frequent ones).
pub const MAX_EXPANSIONS: usize = 64;
/// A prefix must be at least this many characters (fewer would match half the index).
pub const MIN_PREFIX_CHARS: usize = 2;
/// A prefix is looked up in at most this many shards (the first ones it spans).
pub const MAX_PREFIX_SHARDS: usize = 3;

/// One word of a query: the terms that satisfy it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// The word's own term (or a CJK bigram).
    pub exact: Option<String>,
    /// For the word being typed: its lowercase text, matched as a prefix of terms.
    pub prefix: Option<String>,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// The words, each of which a result must match.
    pub groups: Vec<Group>,
    /// Quoted phrases, normalized by [`normalize_phrase`].
    pub phrases: Vec<String>,
}

/// Lowercase words and CJK runs joined by single spaces: what phrases are matched against.
pub fn normalize_phrase(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    tokenize::for_each_piece(text, |p| {
        let s = match p {
            Piece::Word(w) | Piece::Cjk(w) => w,
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&s.to_lowercase());
    });
    out
}

/// Parse a query. `typing` makes the last word a prefix too (unless the query ends in a space).
pub fn parse(text: &str, typing: bool) -> Query {
    let mut q = Query::default();
    // Split at quotes; odd segments are phrases when their quote is closed.
    let segments: Vec<&str> = text.split(['"', '\u{201C}', '\u{201D}']).collect();
    let closed = segments.len() % 2 == 1;
    let last_segment = segments.len() - 1;
    let mut buf = String::new();
    for (i, seg) in segments.iter().enumerate() {
        let phrase = i % 2 == 1 && (closed || i < last_segment);
        if phrase {
            let p = normalize_phrase(seg);
            if !p.is_empty() {
                q.phrases.push(p);
            }
        }
        let pieces = tokenize::pieces(seg);
        for (n, piece) in pieces.iter().enumerate() {
            match *piece {
                Piece::Word(w) => {
                    let exact = tokenize::normalize_word(w, &mut buf).then(|| buf.clone());
                    let is_last = i == last_segment && n + 1 == pieces.len();
                    let prefix =
                        (typing && !phrase && is_last && !text.ends_with(char::is_whitespace))
                            .then(|| w.to_lowercase().replace(['\'', '\u{2019}'], ""))
                            .filter(|p| p.chars().count() >= MIN_PREFIX_CHARS);
                    if exact.is_some() || prefix.is_some() {
                        q.groups.push(Group { exact, prefix });
                    }
                }
                Piece::Cjk(run) => {
                    for t in tokenize::cjk_query_terms(run) {
                        q.groups.push(Group {
                            exact: Some(t),
                            prefix: None,
                        });
                    }
                }
            }
        }
    }
    q
}

/// One result: a document id and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Document id (index into [`Index::docs`]).
    pub doc: u32,
    /// Sum over the query's words of IDF times stored weight.
    pub score: f32,
}

/// The inverse document frequency of a term found in `df` of `n` documents (BM25's, never negative).
pub fn idf(n: usize, df: usize) -> f32 {
    let (n, df) = (n as f32, df as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// The terms that satisfy a group, each with its factor.
fn alternatives<'a>(index: &'a Index, g: &Group) -> Vec<(&'a [(u32, u8)], f32)> {
    let mut out = Vec::new();
    if let Some(list) = g.exact.as_deref().and_then(|t| index.postings(t)) {
        out.push((list, 1.0));
    }
    if let Some(p) = &g.prefix {
        let shards = super::shards::for_prefix(&index.bounds, p);
        let last = (*shards.end()).min(shards.start() + MAX_PREFIX_SHARDS - 1);
        let end = index
            .shard_starts
            .get(last + 1)
            .copied()
            .unwrap_or(index.terms.len());
        let terms = &index.terms[..end];
        let start = terms.partition_point(|(t, _)| cmp_utf16(t, p) == Ordering::Less);
        let mut found: Vec<&(String, Vec<(u32, u8)>)> = terms[start..]
            .iter()
            .take_while(|(t, _)| t.starts_with(p.as_str()))
            .filter(|(t, _)| Some(t) != g.exact.as_ref())
            .collect();
        // The most frequent terms, ties in term order (a stable sort keeps it).
        found.sort_by_key(|(_, list)| std::cmp::Reverse(list.len()));
        out.extend(
            found
                .into_iter()
                .take(MAX_EXPANSIONS)
                .map(|(_, l)| (l.as_slice(), PREFIX_FACTOR)),
        );
    }
    out
}

/// Run a query: hits best first (ties by document id). `kind` keeps one kind's documents.
pub fn search(index: &Index, text: &str, typing: bool, kind: Option<&str>) -> Vec<Hit> {
    let q = parse(text, typing);
    if q.groups.is_empty() {
        return Vec::new();
    }
    let n = index.docs.len();
    let range = kind.and_then(|k| index.kinds.iter().find(|r| r.name == k));
    // Per document: (groups matched, score).
    let mut scores: HashMap<u32, (usize, f32)> = HashMap::new();
    for g in &q.groups {
        let mut best: HashMap<u32, f32> = HashMap::new();
        for (list, factor) in alternatives(index, g) {
            let idf = idf(n, list.len());
            for &(doc, w) in list {
                let s = idf * f32::from(w) / SCALE * factor;
                let e = best.entry(doc).or_insert(0.0);
                if s > *e {
                    *e = s;
                }
            }
        }
        for (doc, s) in best {
            let e = scores.entry(doc).or_insert((0, 0.0));
            e.0 += 1;
            e.1 += s;
        }
    }
    let mut hits: Vec<(usize, Hit)> = scores
        .into_iter()
        .filter(|(doc, _)| range.is_none_or(|r| (r.start..r.end).contains(doc)))
        .filter(|(doc, _)| {
            q.phrases.is_empty() || {
                let text = doc_text(index, *doc);
                q.phrases.iter().all(|p| text.contains(p.as_str()))
            }
        })
        .map(|(doc, (m, score))| (m, Hit { doc, score }))
        .collect();
    let all = q.groups.len();
    if hits.iter().any(|(m, _)| *m == all) {
        hits.retain(|(m, _)| *m == all);
    }
    hits.sort_by(|(ma, a), (mb, b)| {
        mb.cmp(ma)
            .then(b.score.total_cmp(&a.score))
            .then(a.doc.cmp(&b.doc))
    });
    hits.into_iter().map(|(_, h)| h).collect()
}

/// A document's searchable text, normalized for phrase matching.
fn doc_text(index: &Index, doc: u32) -> String {
    let Some(d) = index.docs.get(doc as usize) else {
        return String::new();
    };
    let mut parts: Vec<&str> = vec![&d.title];
    parts.extend(d.description.as_deref());
    parts.extend(d.fields.iter().map(|(_, v)| v.as_str()));
    parts.extend(d.tags.iter().map(String::as_str));
    for s in &d.sections {
        parts.push(&s.heading);
        parts.push(&s.text);
    }
    normalize_phrase(&parts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{SearchDoc, SearchSection};

    fn doc(url: &str, kind: Option<&str>, title: &str, sections: &[(&str, &str)]) -> SearchDoc {
        SearchDoc {
            url: url.into(),
            title: title.into(),
            kind: kind.map(str::to_string),
            description: None,
            tags: Vec::new(),
            fields: Vec::new(),
            sections: sections
                .iter()
                .map(|(h, t)| SearchSection {
                    anchor: content_slug(h),
                    heading: h.to_string(),
                    text: t.to_string(),
                })
                .collect(),
        }
    }

    fn content_slug(s: &str) -> String {
        crate::content::slugify(s)
    }

    fn fixture() -> Index {
        let mut qianchuan = doc(
            "tools/juliang-qianchuan/",
            Some("tool"),
            "Juliang Qianchuan",
            &[
                ("", "The advertising platform of Douyin e-commerce."),
                ("Three versions", "Mobile and PC."),
            ],
        );
        qianchuan.fields.push(("zh".into(), "巨量千川".into()));
        Index::build(
            &[("tool".into(), "Tool".into()), ("playbook".into(), "Playbook".into())],
            vec![
                qianchuan,
                doc(
                    "playbooks/paid-traffic/",
                    Some("playbook"),
                    "Paid and free traffic",
                    &[("", "Buy traffic with Qianchuan; Qianchuan campaigns and more Qianchuan spend. 千川投放.")],
                ),
                doc(
                    "tools/doudian/",
                    Some("tool"),
                    "Doudian",
                    &[("", "The store backend."), ("Launch a store", "Launch brand self-broadcast live streams.")],
                ),
                doc(
                    "concepts/live/",
                    None,
                    "Live streaming",
                    &[("", "Brand live rooms launch products. Self broadcast by the brand.")],
                ),
            ],
        )
    }

    fn urls(index: &Index, hits: &[Hit]) -> Vec<String> {
        hits.iter()
            .map(|h| index.docs[h.doc as usize].url.clone())
            .collect()
    }

    #[test]
    fn the_page_named_by_the_query_comes_first() {
        let idx = fixture();
        let hits = search(&idx, "qianchuan", false, None);
        assert_eq!(
            urls(&idx, &hits),
            ["tools/juliang-qianchuan/", "playbooks/paid-traffic/"]
        );
        assert!(hits[0].score > hits[1].score);
    }

    #[test]
    fn chinese_finds_a_longer_run_and_mixed_queries_work() {
        let idx = fixture();
        let first = |q: &str| urls(&idx, &search(&idx, q, false, None)).first().cloned();
        assert_eq!(first("千川").as_deref(), Some("tools/juliang-qianchuan/"));
        assert_eq!(
            first("巨量千川").as_deref(),
            Some("tools/juliang-qianchuan/")
        );
        assert_eq!(
            first("Qianchuan 千川").as_deref(),
            Some("tools/juliang-qianchuan/")
        );
        assert_eq!(
            urls(&idx, &search(&idx, "千川投放", false, None)),
            ["playbooks/paid-traffic/"]
        );
    }

    #[test]
    fn the_last_word_matches_as_a_prefix_while_typing() {
        let idx = fixture();
        assert!(search(&idx, "qianch", false, None).is_empty());
        let hits = search(&idx, "qianch", true, None);
        assert_eq!(urls(&idx, &hits)[0], "tools/juliang-qianchuan/");
        // A trailing space ends the word: no prefix any more.
        assert!(search(&idx, "qianch ", true, None).is_empty());
    }

    #[test]
    fn plurals_match_singulars() {
        let idx = fixture();
        assert_eq!(
            urls(&idx, &search(&idx, "stores", false, None))[0],
            "tools/doudian/"
        );
        assert_eq!(
            urls(&idx, &search(&idx, "campaign", false, None)),
            ["playbooks/paid-traffic/"]
        );
    }

    #[test]
    fn all_words_must_match_unless_none_match_all() {
        let idx = fixture();
        assert_eq!(
            urls(&idx, &search(&idx, "brand launch", false, None)).len(),
            2
        );
        let partial = search(&idx, "qianchuan zebra", false, None);
        assert_eq!(urls(&idx, &partial)[0], "tools/juliang-qianchuan/");
    }

    #[test]
    fn quoted_phrases_must_appear_as_written() {
        let idx = fixture();
        assert_eq!(
            urls(&idx, &search(&idx, "brand self broadcast", false, None)).len(),
            2
        );
        assert_eq!(
            urls(&idx, &search(&idx, "\"brand self-broadcast\"", false, None)),
            ["tools/doudian/"]
        );
        assert_eq!(
            urls(&idx, &search(&idx, "\"self broadcast by\"", false, None)),
            ["concepts/live/"]
        );
    }

    #[test]
    fn headings_count_more_than_body_text() {
        let idx = fixture();
        let hits = search(&idx, "launch", false, None);
        assert_eq!(urls(&idx, &hits)[0], "tools/doudian/");
    }

    #[test]
    fn a_kind_filter_keeps_that_kind() {
        let idx = fixture();
        let hits = search(&idx, "qianchuan", false, Some("playbook"));
        assert_eq!(urls(&idx, &hits), ["playbooks/paid-traffic/"]);
    }

    #[test]
    fn parsing_keeps_words_phrases_and_the_prefix_apart() {
        let q = parse("Live \"brand rooms\" qian", true);
        assert_eq!(q.phrases, ["brand rooms"]);
        let exact: Vec<_> = q.groups.iter().map(|g| g.exact.clone()).collect();
        assert_eq!(
            exact,
            [
                Some("live".into()),
                Some("brand".into()),
                Some("room".into()),
                Some("qian".into())
            ]
        );
        assert_eq!(q.groups[3].prefix.as_deref(), Some("qian"));
        assert!(q.groups[..3].iter().all(|g| g.prefix.is_none()));
        // An unclosed quote is plain words (the user is still typing it).
        assert!(parse("\"brand roo", true).phrases.is_empty());
        // Stop words drop out, but one being typed is still a prefix (`the` -> `theme`).
        let q = parse("the", true);
        assert_eq!(
            q.groups,
            [Group {
                exact: None,
                prefix: Some("the".into())
            }]
        );
    }

    #[test]
    fn idf_favours_rare_terms_and_stays_positive() {
        assert!(idf(100, 1) > idf(100, 50));
        assert!(idf(100, 100) > 0.0);
    }
}
