//! Search: term shards. The index's terms are sorted (UTF-16 order) and cut into shards of roughly
//! equal size; the manifest lists each shard's lower bound, so a query fetches only the shards its
//! terms fall in. `search.js` implements the same two lookups ([`for_term`], [`for_prefix`]).
//!
//! Where the cuts fall ([`cuts`]) depends on the terms themselves, not on where the previous shard
//! happened to end: a shard may end after a term only once it holds [`super::index::SHARD_BYTES`],
//! and only after a term whose hash picks it (the larger the term's posting list, the likelier), or
//! once it holds four times that. So when a page adds a posting here and there, the cuts stay where
//! they were, and a cut that does move comes back in line at the next cut point.

use std::cmp::Ordering;

use super::tokenize::cmp_utf16;

/// The shortest prefix of `next` that sorts after `prev` (`prev < next`): the lower bound of a shard
/// that starts at `next` when the previous one ends at `prev`. Short bounds keep the manifest small.
pub fn boundary(prev: &str, next: &str) -> String {
    let mut end = 0;
    for (i, c) in next.char_indices() {
        end = i + c.len_utf8();
        if cmp_utf16(&next[..end], prev) == Ordering::Greater {
            break;
        }
    }
    next[..end].to_string()
}

/// The shard that holds `term`: the last one whose lower bound is not after it. `bounds[0]` is `""`.
pub fn for_term(bounds: &[String], term: &str) -> usize {
    // The number of bounds <= term, minus one.
    bounds
        .partition_point(|b| cmp_utf16(b, term) != Ordering::Greater)
        .saturating_sub(1)
}

/// The shards that may hold terms starting with `prefix`: the term's own shard, and every later one
/// whose lower bound itself starts with `prefix`.
pub fn for_prefix(bounds: &[String], prefix: &str) -> std::ops::RangeInclusive<usize> {
    let first = for_term(bounds, prefix);
    let mut last = first;
    while last + 1 < bounds.len() && bounds[last + 1].starts_with(prefix) {
        last += 1;
    }
    first..=last
}

/// The estimated JSON size of a term with `df` postings (what [`cuts`] adds up).
pub fn term_size(term: &str, df: usize) -> usize {
    term.len() + 6 + df * 6
}

/// Where shards start, given every term's (estimated size, hash) in order: indices of the first term
/// of each shard, starting with 0 (one empty shard when there are no terms). A shard ends after a
/// term once it holds `min` bytes if the term's hash picks it, with a chance of the term's size in
/// `min / 2`, and at the latest once it holds `4 * min`.
pub fn cuts(terms: impl Iterator<Item = (usize, u64)>, min: usize) -> Vec<usize> {
    let gap = (min / 2).max(1) as u128;
    let max = min.saturating_mul(4);
    let mut starts = vec![0];
    let mut size = 0usize;
    let mut pending = false;
    for (i, (s, hash)) in terms.enumerate() {
        if pending {
            starts.push(i);
            size = 0;
        }
        size = size.saturating_add(s);
        let picked = u128::from(hash >> 32) * gap < (s as u128) << 32;
        pending = size >= max || (size >= min && picked);
    }
    starts
}

/// Start a shard's JSON.
pub fn write_open(out: &mut Vec<u8>) {
    out.push(b'{');
}

/// Append the `n`th term of a shard with its postings (document id, weight), by id:
/// `"term":[id,weight,id-delta,weight,...]`.
pub fn write_term(
    out: &mut Vec<u8>,
    n: usize,
    term: &str,
    postings: impl Iterator<Item = (u32, u8)>,
) {
    if n > 0 {
        out.push(b',');
    }
    // Writing a string into memory does not fail.
    let _ = serde_json::to_writer(&mut *out, term);
    out.extend_from_slice(b":[");
    let mut prev = 0;
    for (k, (doc, w)) in postings.enumerate() {
        if k > 0 {
            out.push(b',');
        }
        super::index::push_int(out, doc.wrapping_sub(prev));
        out.push(b',');
        super::index::push_int(out, u32::from(w));
        prev = doc;
    }
    out.push(b']');
}

/// End a shard's JSON.
pub fn write_close(out: &mut Vec<u8>) {
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn boundaries_are_the_shortest_separating_prefix() {
        assert_eq!(boundary("apple", "banana"), "b");
        assert_eq!(boundary("live", "livestream"), "lives");
        assert_eq!(boundary("qian", "qianchuan"), "qianc");
        assert_eq!(boundary("千川", "千手"), "千手");
        assert_eq!(boundary("zoo", "千"), "千");
    }

    #[test]
    fn a_term_goes_to_the_last_shard_starting_at_or_before_it() {
        let b = bounds(&["", "d", "live", "q", "千"]);
        assert_eq!(for_term(&b, "apple"), 0);
        assert_eq!(for_term(&b, "d"), 1);
        assert_eq!(for_term(&b, "douyin"), 1);
        assert_eq!(for_term(&b, "li"), 1);
        assert_eq!(for_term(&b, "livestream"), 2);
        assert_eq!(for_term(&b, "qianchuan"), 3);
        assert_eq!(for_term(&b, "zzz"), 3);
        assert_eq!(for_term(&b, "千川"), 4);
        assert_eq!(for_term(&bounds(&[""]), "anything"), 0);
    }

    #[test]
    fn a_prefix_spans_every_shard_whose_bound_it_starts() {
        let b = bounds(&["", "d", "li", "liv", "lo", "q"]);
        assert_eq!(for_prefix(&b, "l"), 1..=4);
        assert_eq!(for_prefix(&b, "li"), 2..=3);
        assert_eq!(for_prefix(&b, "live"), 3..=3);
        assert_eq!(for_prefix(&b, "qi"), 5..=5);
        assert_eq!(for_prefix(&b, "a"), 0..=0);
    }

    #[test]
    fn every_term_lands_in_its_shard_after_cutting() {
        // Cut a sorted list every three terms and check the lookups agree with the cut.
        let mut terms = vec![
            "ad",
            "advertising",
            "brand",
            "千川",
            "douyin",
            "doudian",
            "live",
            "livestream",
            "qianchuan",
            "quality",
            "巨量",
            "zh",
            "store",
            "stores",
        ];
        terms.sort_by(|a, b| cmp_utf16(a, b));
        let mut b = vec![String::new()];
        let mut owner = Vec::new();
        for (i, t) in terms.iter().enumerate() {
            if i > 0 && i % 3 == 0 {
                b.push(boundary(terms[i - 1], t));
            }
            owner.push(b.len() - 1);
        }
        for (t, &o) in terms.iter().zip(&owner) {
            assert_eq!(for_term(&b, t), o, "term {t}");
            let first = t.chars().next().map_or(0, char::len_utf8);
            assert!(for_prefix(&b, &t[..first]).contains(&o), "prefix of {t}");
        }
    }

    #[test]
    fn cuts_need_the_minimum_and_come_back_in_line_after_a_change() {
        let hash = |i: usize| (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let sizes: Vec<(usize, u64)> = (0..2000).map(|i| (10 + i % 90, hash(i))).collect();
        let starts = cuts(sizes.iter().copied(), 1000);
        assert_eq!(starts[0], 0);
        assert!(starts.len() > 10, "{starts:?}");
        for w in starts.windows(2) {
            let held: usize = sizes[w[0]..w[1]].iter().map(|s| s.0).sum();
            assert!((1000..4000 + 100).contains(&held), "{held}");
        }
        // One term grows: the cuts after the next few are where they were.
        let mut grown = sizes.clone();
        grown[500].0 += 6;
        let again = cuts(grown.into_iter(), 1000);
        let moved = starts.iter().filter(|s| !again.contains(s)).count();
        assert!(moved <= 2, "{starts:?} / {again:?}");
        assert_eq!(cuts(std::iter::empty(), 1000), [0]);
    }
}
