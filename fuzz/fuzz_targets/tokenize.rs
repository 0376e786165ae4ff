//! Fuzz target `tokenize`: the search tokenizer (pieces, terms) and the query parser. Terms are
//! non-empty, lowercase and at most `MAX_WORD_BYTES` long.

#![no_main]

use fieldbook::search::query;
use fieldbook::search::tokenize::{self, MAX_WORD_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for t in tokenize::terms(&text) {
        assert!(!t.is_empty(), "empty term");
        assert_eq!(t.to_lowercase(), t, "term not lowercase");
        assert!(t.len() <= MAX_WORD_BYTES, "term too long: {t:?}");
    }
    let _ = tokenize::pieces(&text);
    let _ = query::parse(&text, true);
    let _ = query::parse(&text, false);
    let _ = query::normalize_phrase(&text);
    let (a, b) = text.split_at(
        text.char_indices()
            .nth(text.chars().count() / 2)
            .map_or(0, |(i, _)| i),
    );
    assert_eq!(
        tokenize::cmp_utf16(a, b),
        a.encode_utf16().cmp(b.encode_utf16()),
        "UTF-16 order"
    );
});
