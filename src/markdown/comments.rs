//! Obsidian comments: `%%hidden%%`, inline or across lines, are left out of everything the page
//! shows (HTML, search text, summary, headings). A `%%` with no closing one hides the rest of the
//! note, as it does in Obsidian. `%%` in code (spans, fenced and indented blocks, math) is literal.
//!
//! The comment is blanked out of the body before the real parse, byte for byte, so that every byte
//! range into the body (links, tags, diagnostics by line and column) stays right. A line that holds
//! nothing but comment becomes blank (spaces): a block comment leaves no empty paragraph, and the
//! blank line ends a paragraph before it as a line of nothing would. On a line that keeps other text
//! the comment becomes letters, not spaces, so that the line is not indented into a code block and
//! does not end in a hard break; [`super::obsidian`] cuts those letters out of the text again by
//! their ranges, so they are never shown.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag};

/// What a comment's bytes become on a line that keeps other text.
const FILL: u8 = b'x';

/// The body with its comments blanked out, and the comments' byte ranges (sorted, disjoint); `None`
/// when it has none (the body is then used as it is).
pub(super) fn strip(body: &str, options: Options) -> Option<(String, Vec<Range<usize>>)> {
    if !body.contains("%%") {
        return None;
    }
    let code = code_ranges(body, options);
    let mut marks = Vec::new();
    let mut code_iter = code.iter().peekable();
    let bytes = body.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'%' && bytes[i + 1] == b'%' {
            while code_iter.peek().is_some_and(|c| c.end <= i) {
                code_iter.next();
            }
            if code_iter.peek().is_some_and(|c| c.start <= i) {
                i += 1;
                continue;
            }
            marks.push(i);
            i += 2;
        } else {
            i += 1;
        }
    }
    if marks.is_empty() {
        return None;
    }
    let comments: Vec<Range<usize>> = marks
        .chunks(2)
        .map(|pair| match pair {
            [open, close] => *open..*close + 2,
            [open] => *open..body.len(),
            _ => unreachable!("chunks of two"),
        })
        .collect();
    let mut inside = vec![false; bytes.len()];
    for c in &comments {
        inside[c.clone()].fill(true);
    }
    let mut out = bytes.to_vec();
    let mut start = 0;
    while start < bytes.len() {
        let end = body[start..]
            .find('\n')
            .map_or(bytes.len(), |n| start + n + 1);
        let line = start..end;
        start = end;
        if !inside[line.clone()].contains(&true) {
            continue;
        }
        // A line that keeps other text gets letters, one of nothing but comment gets blanks.
        let keeps_text = line
            .clone()
            .any(|p| !inside[p] && !bytes[p].is_ascii_whitespace());
        for p in line.filter(|&p| inside[p] && bytes[p] != b'\n' && bytes[p] != b'\r') {
            out[p] = if keeps_text { FILL } else { b' ' };
        }
    }
    // Only ASCII bytes were written, each over a whole character's bytes: still UTF-8.
    let out = String::from_utf8(out).ok()?;
    Some((out, comments))
}

/// Where code is, by a first parse: `%%` there is not a comment.
fn code_ranges(body: &str, options: Options) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Parser::new_ext(body, options)
        .into_offset_iter()
        .filter(|(e, _)| {
            matches!(
                e,
                Event::Code(_)
                    | Event::InlineMath(_)
                    | Event::DisplayMath(_)
                    | Event::Start(Tag::CodeBlock(_))
            )
        })
        .map(|(_, r)| r)
        .collect();
    out.sort_by_key(|r| r.start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(body: &str) -> Option<(String, Vec<Range<usize>>)> {
        super::strip(body, super::super::options())
    }

    #[test]
    fn plain_bodies_are_left_alone() {
        assert_eq!(strip("no comment here, 100% sure"), None);
        assert_eq!(strip("`%%` and\n\n```\n%% x %%\n```\n"), None);
        assert_eq!(strip("    %% indented code %%\n"), None);
    }

    #[test]
    fn inline_comments_become_letters_beside_text() {
        let (out, c) = strip("See %%secret%% this.").unwrap();
        assert_eq!(out, "See xxxxxxxxxx this.");
        assert_eq!(c, vec![4..14]);
    }

    #[test]
    fn whole_lines_become_blank_and_lengths_are_kept() {
        let body = "Before.\n\n%%\nsecret 巨量\n%%\n\nAfter.\n";
        let (out, c) = strip(body).unwrap();
        assert_eq!(out.len(), body.len());
        assert_eq!(c, vec![9..28]);
        assert!(!out.contains("secret"), "{out:?}");
        assert!(out.starts_with("Before.\n\n  \n"), "{out:?}");
        assert!(out.ends_with("\n  \n\nAfter.\n"), "{out:?}");
        // Lines are kept where they were.
        assert_eq!(out.lines().count(), body.lines().count());
    }

    #[test]
    fn a_comment_across_lines_keeps_the_text_around_it() {
        let (out, _) = strip("text %%start\nmiddle\nend%% more\n").unwrap();
        assert_eq!(out, "text xxxxxxx\n      \nxxxxx more\n");
    }

    #[test]
    fn an_unclosed_comment_runs_to_the_end() {
        let (out, c) = strip("Shown. %%hidden\n\nstill hidden\n").unwrap();
        assert_eq!(c, vec![7..30]);
        assert_eq!(out, "Shown. xxxxxxxx\n\n            \n");
    }

    #[test]
    fn percent_signs_in_code_are_literal() {
        let (out, c) = strip("`%%` is code; %%gone%% ok\n\n```\n%%\n```\n").unwrap();
        assert_eq!(c, vec![14..22]);
        assert!(out.starts_with("`%%` is code; xxxxxxxx ok\n"), "{out:?}");
        assert!(out.ends_with("```\n%%\n```\n"), "{out:?}");
        // A comment that holds code hides it too.
        let (out, _) = strip("%%\n```\ncode\n```\n%%\n").unwrap();
        assert!(out.trim().is_empty(), "{out:?}");
    }
}
