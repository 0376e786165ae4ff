//! Search: which term shard holds a term. The index's terms are sorted (UTF-16 order) and cut into
//! shards of roughly equal size; the manifest lists each shard's lower bound, so a query fetches only
//! the shards its terms fall in. `search.js` implements the same two lookups.

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
}
