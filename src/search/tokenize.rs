//! Search: the tokenizer. Text becomes terms the same way at build time (here) and in the browser
//! (`themes/default/static/search.js` mirrors every rule below, so a change here needs one there).
//!
//! - Words are runs of letters and digits (Unicode), lowercased. An apostrophe inside a word joins it
//!   (`don't` -> `dont`) and a possessive `'s` is dropped. English plurals are folded by a light
//!   stemmer ([`stem`]); prefix matching on the word being typed covers the other endings.
//! - CJK text has no spaces, so a run of CJK characters is indexed as every character (unigram) and
//!   every pair of neighbours (bigram): `巨量千川` gives `巨 量 千 川 巨量 量千 千川`. A query is cut into
//!   bigrams (or one unigram), so `千川` finds `巨量千川`, and mixed text splits at the script change
//!   (`Qianchuan千川` is `qianchuan` + `千川`).
//! - A few very common English words are not indexed ([`STOP_WORDS`]); the list travels to the
//!   browser in the manifest so both sides drop the same ones.
//!
//! Terms are compared in UTF-16 code-unit order ([`cmp_utf16`]), which is the order JavaScript's `<`
//! uses, so shard boundaries mean the same thing on both sides.

use std::cmp::Ordering;
use std::sync::OnceLock;

/// Words too common to be worth indexing.
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "if",
    "in", "into", "is", "it", "its", "of", "on", "or", "so", "that", "the", "their", "then",
    "there", "these", "they", "this", "to", "was", "were", "which", "will", "with",
];

/// Longest word that is indexed, in bytes; longer runs are identifiers, hashes or URLs.
pub const MAX_WORD_BYTES: usize = 40;

/// True for characters of scripts written without spaces between words: Han (with its extensions
/// and compatibility forms), Hiragana, Katakana, and Hangul syllables.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3005..=0x3007        // 々 〆 〇
        | 0x3040..=0x30FF      // Hiragana, Katakana
        | 0x31F0..=0x31FF      // Katakana phonetic extensions
        | 0x3400..=0x4DBF      // Han extension A
        | 0x4E00..=0x9FFF      // Han
        | 0xAC00..=0xD7AF      // Hangul syllables
        | 0xF900..=0xFAFF      // Han compatibility
        | 0x20000..=0x323AF    // Han extensions B..H
    )
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// A piece of text as the tokenizer splits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A run of letters and digits, as written (not yet normalized).
    Word(&'a str),
    /// A run of CJK characters.
    Cjk(&'a str),
}

/// Split text into words and CJK runs, in order; everything else separates them.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    for_each_piece(text, |p| out.push(p));
    out
}

/// [`pieces`] without the allocation.
pub fn for_each_piece<'a>(text: &'a str, mut f: impl FnMut(Piece<'a>)) {
    #[derive(PartialEq, Clone, Copy)]
    enum State {
        None,
        Word,
        Cjk,
    }
    fn finish<'a>(
        text: &'a str,
        state: State,
        start: usize,
        end: usize,
        f: &mut impl FnMut(Piece<'a>),
    ) {
        match state {
            State::Word => {
                let w = text[start..end].trim_end_matches(is_apostrophe);
                if !w.is_empty() {
                    f(Piece::Word(w));
                }
            }
            State::Cjk => f(Piece::Cjk(&text[start..end])),
            State::None => {}
        }
    }
    let bytes = text.as_bytes();
    let mut state = State::None;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // ASCII needs no decoding; everything else is classified by its char.
        let (next, len) = if b < 0x80 {
            let next = if b.is_ascii_alphanumeric() || (b == b'\'' && state == State::Word) {
                State::Word
            } else {
                State::None
            };
            (next, 1)
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            let next = if is_cjk(c) {
                State::Cjk
            } else if is_word_char(c) || (state == State::Word && is_apostrophe(c)) {
                State::Word
            } else {
                State::None
            };
            (next, c.len_utf8())
        };
        if next != state {
            finish(text, state, start, i, &mut f);
            start = i;
            state = next;
        }
        i += len;
    }
    finish(text, state, start, text.len(), &mut f);
}

/// Lowercase a word, drop a possessive `'s` and other apostrophes, and stem it. Writes into `out`
/// (cleared first). Returns false when the word is not indexed (a stop word, or too long).
pub fn normalize_word(word: &str, out: &mut String) -> bool {
    out.clear();
    if word.is_ascii() {
        // The common case, byte by byte.
        out.push_str(word);
        out.make_ascii_lowercase();
        if out.as_bytes().contains(&b'\'') {
            if out.len() > 2 && out.ends_with("'s") {
                out.truncate(out.len() - 2);
            }
            out.retain(|c| c != '\'');
        }
    } else {
        // The whole word at once, like JavaScript's toLowerCase (a final sigma becomes ς).
        out.push_str(&word.to_lowercase());
        for suffix in ["'s", "\u{2019}s"] {
            if out.len() > suffix.len() && out.ends_with(suffix) {
                out.truncate(out.len() - suffix.len());
            }
        }
        if out.contains(is_apostrophe) {
            out.retain(|c| !is_apostrophe(c));
        }
    }
    if out.is_empty() || out.len() > MAX_WORD_BYTES || is_stop_word(out) {
        return false;
    }
    stem(out);
    true
}

/// True for a (lowercase) word in [`STOP_WORDS`].
pub fn is_stop_word(word: &str) -> bool {
    // Every stop word fits in a u64: compare packed integers, not strings (this runs for every word).
    static PACKED: OnceLock<Vec<u64>> = OnceLock::new();
    let Some(key) = pack(word) else { return false };
    PACKED
        .get_or_init(|| {
            let mut v: Vec<u64> = STOP_WORDS.iter().filter_map(|w| pack(w)).collect();
            v.sort_unstable();
            v
        })
        .binary_search(&key)
        .is_ok()
}

/// A word of at most 8 bytes as an integer (distinct words give distinct integers).
fn pack(word: &str) -> Option<u64> {
    let b = word.as_bytes();
    if b.is_empty() || b.len() > 8 {
        return None;
    }
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    // The length in the low byte keeps "a" and "a\0" apart.
    Some(u64::from_be_bytes(w) | b.len() as u64)
}

/// A light English stemmer for plurals, applied to lowercase ASCII words only:
/// `studies` -> `study`, `matches`/`boxes`/`classes` -> `match`/`box`/`class`, `tools` -> `tool`;
/// words ending in `ss`, `us` or `is` (`business`, `status`, `analysis`) and words of three letters or
/// fewer are kept as they are.
pub fn stem(word: &mut String) {
    if !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return;
    }
    let n = word.len();
    if n >= 5 && word.ends_with("ies") {
        word.truncate(n - 3);
        word.push('y');
    } else if n >= 5
        && ["sses", "ches", "shes", "xes", "zes"]
            .iter()
            .any(|s| word.ends_with(s))
    {
        word.truncate(n - 2);
    } else if n >= 4 && word.ends_with('s') && !["ss", "us", "is"].iter().any(|s| word.ends_with(s))
    {
        word.truncate(n - 1);
    }
}

/// Call `f` with every index term of `text`: normalized words, and the unigrams and bigrams of CJK
/// runs. `buf` is scratch space, reused across calls to avoid allocating per word.
pub fn for_each_term(text: &str, buf: &mut String, mut f: impl FnMut(&str)) {
    for_each_piece(text, |piece| match piece {
        Piece::Word(w) => {
            if normalize_word(w, buf) {
                f(buf);
            }
        }
        Piece::Cjk(run) => {
            let mut prev: Option<(usize, char)> = None;
            for (i, c) in run.char_indices() {
                let end = i + c.len_utf8();
                f(&run[i..end]);
                if let Some((pi, _)) = prev {
                    f(&run[pi..end]);
                }
                prev = Some((i, c));
            }
        }
    });
}

/// Every index term of `text`, in order (with repeats). See [`for_each_term`].
pub fn terms(text: &str) -> Vec<String> {
    let mut buf = String::new();
    let mut out = Vec::new();
    for_each_term(text, &mut buf, |t| out.push(t.to_string()));
    out
}

/// The terms a CJK run stands for in a query: its bigrams, or the character itself when alone.
pub fn cjk_query_terms(run: &str) -> Vec<String> {
    let chars: Vec<char> = run.chars().collect();
    if chars.len() == 1 {
        return vec![run.to_string()];
    }
    chars.windows(2).map(|w| w.iter().collect()).collect()
}

/// Compare two strings by UTF-16 code units (JavaScript's string order).
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    // Byte order equals code point order, which differs from UTF-16 order only when one side has a
    // character above U+FFFF and the other a character in U+E000..=U+FFFF at the same place.
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search_and_short() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP_WORDS);
        assert!(STOP_WORDS.iter().all(|w| is_stop_word(w)));
        for w in ["", "ab", "thes", "these1", "into the", "wasn", "theirs"] {
            assert!(!is_stop_word(w), "{w}");
        }
    }

    #[test]
    fn english_words_are_lowercased_and_plurals_folded() {
        assert_eq!(
            terms("The Tools of Live-Streaming studies, boxes and Matches"),
            ["tool", "live", "streaming", "study", "box", "match"]
        );
        assert_eq!(
            terms("business status analysis"),
            ["business", "status", "analysis"]
        );
        assert_eq!(terms("ads KOLs GMV"), ["ads", "kol", "gmv"]);
    }

    #[test]
    fn apostrophes_join_words_and_possessives_drop() {
        assert_eq!(
            terms("the brand's don’t 'quoted'"),
            ["brand", "dont", "quoted"]
        );
    }

    #[test]
    fn numbers_and_accents_are_words() {
        assert_eq!(
            terms("April 2021, café Ökonomie"),
            ["april", "2021", "café", "ökonomie"]
        );
    }

    #[test]
    fn overlong_words_are_skipped() {
        let long = "x".repeat(MAX_WORD_BYTES + 1);
        assert_eq!(terms(&format!("{long} ok")), ["ok"]);
    }

    #[test]
    fn cjk_runs_give_unigrams_and_bigrams() {
        assert_eq!(
            terms("巨量千川"),
            ["巨", "量", "巨量", "千", "量千", "川", "千川"]
        );
    }

    #[test]
    fn mixed_scripts_split_at_the_change() {
        assert_eq!(
            pieces("Qianchuan千川 (巨量引擎), ok"),
            [
                Piece::Word("Qianchuan"),
                Piece::Cjk("千川"),
                Piece::Cjk("巨量引擎"),
                Piece::Word("ok")
            ]
        );
        assert_eq!(terms("Qianchuan千川")[..2], ["qianchuan", "千"]);
    }

    #[test]
    fn a_query_bigram_is_among_the_terms_of_a_longer_run() {
        let indexed = terms("关于巨量千川的介绍");
        for t in cjk_query_terms("千川") {
            assert!(indexed.contains(&t), "{t} not indexed");
        }
        assert_eq!(cjk_query_terms("千"), ["千"]);
        assert_eq!(cjk_query_terms("巨量千川"), ["巨量", "量千", "千川"]);
    }

    #[test]
    fn kana_and_hangul_are_cjk_but_fullwidth_punctuation_is_not() {
        assert_eq!(
            pieces("カタカナ、ひらがな"),
            [Piece::Cjk("カタカナ"), Piece::Cjk("ひらがな")]
        );
        assert_eq!(pieces("한국어"), [Piece::Cjk("한국어")]);
    }

    #[test]
    fn utf16_order_differs_from_byte_order_only_above_the_bmp() {
        assert_eq!(cmp_utf16("abc", "abd"), Ordering::Less);
        // U+FF21 (fullwidth A) sorts after U+20000 by code point, before it in UTF-16.
        assert_eq!("\u{FF21}".cmp("\u{20000}"), Ordering::Less);
        assert_eq!(cmp_utf16("\u{FF21}", "\u{20000}"), Ordering::Greater);
    }
}
