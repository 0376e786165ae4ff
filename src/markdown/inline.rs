//! Obsidian's inline additions, on one run of inline events (a paragraph, a heading, a table cell, a
//! list item's own text):
//!
//! - `==highlight==` becomes `<mark>`. The opening `==` is followed by a non-blank and the closing
//!   one preceded by one; a closing `==` pairs with the nearest opening one inside the same element
//!   (so a highlight may hold emphasis and links, and an emphasis may hold a highlight); one that
//!   pairs with nothing stays text. Code spans are events of their own, so never looked into.
//! - `#tag` becomes a link to the tag's page, when the `#` starts the text or follows a blank and
//!   is not escaped, outside links: letters (any script), digits, `_`, `-` and `/` (nested tags),
//!   with at least one that is not a digit (`#123` is not a tag).
//!
//! The tags written here are the renderer's own markup: they are [`ours`] events, which the raw-HTML
//! policy lets through.

use std::collections::HashMap;
use std::ops::Range;

use pulldown_cmark::{CowStr, Event, LinkType, Tag, TagEnd};

use super::obsidian::{ours, Spanned};

/// Where the text of an event sits in the body, when it is the body's text byte for byte.
pub(super) fn exact(body: &str, text: &str, range: &Range<usize>) -> Option<usize> {
    let same = match body.get(range.clone()) {
        // Most text is borrowed from the body itself: the same bytes at the same place.
        Some(b) if std::ptr::eq(b.as_ptr(), text.as_ptr()) => b.len() == text.len(),
        Some(b) => b.len() == text.len() && b == text,
        None => false,
    };
    same.then_some(range.start)
}

/// A piece of a text event: its own range when the event is exact, else the event's.
fn piece<'a>(
    text: &CowStr<'a>,
    at: Option<usize>,
    span: &Range<usize>,
    r: Range<usize>,
) -> Spanned<'a> {
    let t: CowStr<'a> = match text {
        CowStr::Borrowed(s) => CowStr::Borrowed(&s[r.clone()]),
        other => CowStr::from(other[r.clone()].to_string()),
    };
    let range = match at {
        Some(a) => a + r.start..a + r.end,
        None => span.clone(),
    };
    (Event::Text(t), range)
}

/// What the last (or first) character of an event reads as, for the blank-before rules: `None` when
/// the event is markup only and the text around it touches through it.
fn edge(e: &Event, last: bool) -> Option<Option<char>> {
    match e {
        Event::Text(t) => {
            let c = if last {
                t.chars().next_back()
            } else {
                t.chars().next()
            };
            c.map(Some)
        }
        Event::SoftBreak | Event::HardBreak | Event::TaskListMarker(_) => Some(Some(' ')),
        Event::Code(_)
        | Event::InlineMath(_)
        | Event::DisplayMath(_)
        | Event::FootnoteReference(_) => Some(Some('a')),
        _ => None,
    }
}

/// The character just before byte `at` of event `i` (`None`: the start of the run).
fn char_before(run: &[Spanned], i: usize, at: usize) -> Option<char> {
    if let Event::Text(t) = &run[i].0 {
        if let Some(c) = t[..at].chars().next_back() {
            return Some(c);
        }
    }
    run[..i]
        .iter()
        .rev()
        .find_map(|(e, _)| edge(e, true))
        .flatten()
}

/// The character just after byte `at` of event `i` (`None`: the end of the run).
fn char_after(run: &[Spanned], i: usize, at: usize) -> Option<char> {
    if let Event::Text(t) = &run[i].0 {
        if let Some(c) = t[at..].chars().next() {
            return Some(c);
        }
    }
    run[i + 1..]
        .iter()
        .find_map(|(e, _)| edge(e, false))
        .flatten()
}

/// Inline tags that open an element of their own; a wikilink without a label holds its target, not
/// text.
fn opens(e: &Event) -> bool {
    matches!(
        e,
        Event::Start(
            Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript
                | Tag::Link { .. }
                | Tag::Image { .. }
        )
    )
}

fn closes(e: &Event) -> bool {
    matches!(
        e,
        Event::End(
            TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link
                | TagEnd::Image
        )
    )
}

fn is_link(e: &Event) -> bool {
    matches!(e, Event::Start(Tag::Link { .. } | Tag::Image { .. }))
}

fn is_target(e: &Event) -> bool {
    matches!(
        e,
        Event::Start(Tag::Link {
            link_type: LinkType::WikiLink { has_pothole: false },
            ..
        })
    )
}

/// Replace each marked byte range of the text events with the given markup: `cuts[i]` lists, for
/// event `i`, `(start, end, html)` in order; the bytes `start..end` are dropped and `html` (when
/// there is one) takes their place, followed by the text from `end` on.
fn apply<'a>(
    run: Vec<Spanned<'a>>,
    body: &str,
    cuts: &[Vec<(usize, usize, Option<String>)>],
) -> Vec<Spanned<'a>> {
    let mut out = Vec::with_capacity(run.len() + 4);
    for (i, (e, span)) in run.into_iter().enumerate() {
        let list = cuts.get(i).filter(|l| !l.is_empty());
        match (e, list) {
            (Event::Text(t), Some(list)) => {
                let at = exact(body, &t, &span);
                let mut from = 0;
                for (start, end, html) in list {
                    if *start > from {
                        out.push(piece(&t, at, &span, from..*start));
                    }
                    if let Some(h) = html {
                        let r = at.map_or(span.clone(), |a| a + start..a + end);
                        out.push((ours(h), r));
                    }
                    from = *end;
                }
                if from < t.len() {
                    out.push(piece(&t, at, &span, from..t.len()));
                }
            }
            (e, _) => out.push((e, span)),
        }
    }
    out
}

/// Turn `==highlights==` into `<mark>`.
pub(super) fn highlights<'a>(run: Vec<Spanned<'a>>, body: &str) -> Vec<Spanned<'a>> {
    if !run
        .iter()
        .any(|(e, _)| matches!(e, Event::Text(t) if t.contains("==")))
    {
        return run;
    }
    // Delimiters: (event, byte, element) that can open and that can close.
    struct Delim {
        event: usize,
        at: usize,
        element: usize,
        open: bool,
        close: bool,
    }
    let mut delims = Vec::new();
    let mut elements: Vec<usize> = Vec::new();
    let mut targets = 0usize;
    for (i, (e, _)) in run.iter().enumerate() {
        if opens(e) {
            elements.push(i);
            targets += usize::from(is_target(e));
            continue;
        }
        if closes(e) {
            if let Some(o) = elements.pop() {
                targets -= usize::from(is_target(&run[o].0));
            }
            continue;
        }
        let Event::Text(t) = e else { continue };
        if targets > 0 {
            continue;
        }
        let b = t.as_bytes();
        let mut j = 0;
        while j < b.len() {
            if b[j] != b'=' {
                j += 1;
                continue;
            }
            let n = b[j..].iter().take_while(|&&c| c == b'=').count();
            if n == 2 {
                let before = char_before(&run, i, j);
                let after = char_after(&run, i, j + 2);
                delims.push(Delim {
                    event: i,
                    at: j,
                    element: elements.last().map_or(usize::MAX, |&o| o),
                    open: after.is_some_and(|c| !c.is_whitespace()),
                    close: before.is_some_and(|c| !c.is_whitespace()),
                });
            }
            j += n;
        }
    }
    // Pair each closer with the nearest opener of the same element.
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut openers: HashMap<usize, usize> = HashMap::new();
    for (k, d) in delims.iter().enumerate() {
        match (d.close, openers.get(&d.element)) {
            (true, Some(&o)) => {
                openers.remove(&d.element);
                pairs.push((o, k));
            }
            _ if d.open => {
                openers.insert(d.element, k);
            }
            _ => {}
        }
    }
    if pairs.is_empty() {
        return run;
    }
    let mut cuts: Vec<Vec<(usize, usize, Option<String>)>> = vec![Vec::new(); run.len()];
    for (o, c) in pairs {
        for (k, html) in [(o, "<mark>"), (c, "</mark>")] {
            let d = &delims[k];
            cuts[d.event].push((d.at, d.at + 2, Some(html.to_string())));
        }
    }
    for list in &mut cuts {
        list.sort_by_key(|c| c.0);
    }
    apply(run, body, &cuts)
}

/// The tag at the start of `s` (just after its `#`), if it is one.
fn tag_at(s: &str) -> Option<&str> {
    let len: usize = s
        .chars()
        .take_while(|&c| c.is_alphanumeric() || matches!(c, '_' | '-' | '/'))
        .map(char::len_utf8)
        .sum();
    let tag = &s[..len];
    (tag.chars().any(|c| !c.is_ascii_digit()) && !super::slugify(tag).is_empty()).then_some(tag)
}

/// Turn `#tags` into links to their pages, and note each one with its range in the body.
pub(super) fn tags<'a>(
    run: Vec<Spanned<'a>>,
    body: &str,
    base_path: &str,
    found: &mut Vec<(String, Range<usize>)>,
) -> Vec<Spanned<'a>> {
    if !run
        .iter()
        .any(|(e, _)| matches!(e, Event::Text(t) if t.contains('#')))
    {
        return run;
    }
    let mut cuts: Vec<Vec<(usize, usize, Option<String>)>> = vec![Vec::new(); run.len()];
    let mut links = 0usize;
    for (i, (e, span)) in run.iter().enumerate() {
        if is_link(e) {
            links += 1;
        } else if matches!(e, Event::End(TagEnd::Link | TagEnd::Image)) {
            links = links.saturating_sub(1);
        }
        let Event::Text(t) = e else { continue };
        // A tag needs its place in the body (for its range, and to see an escaping `\`).
        let Some(at) = exact(body, t, span).filter(|_| links == 0) else {
            continue;
        };
        for (j, _) in t.match_indices('#') {
            let blank = char_before(&run, i, j).is_none_or(char::is_whitespace);
            let escaped = body[..at + j].ends_with('\\');
            let Some(tag) = tag_at(&t[j + 1..]).filter(|_| blank && !escaped) else {
                continue;
            };
            let end = j + 1 + tag.len();
            let slug = super::slugify(tag);
            found.push((tag.to_string(), at + j..at + end));
            let href = super::escape_attr(&format!("{base_path}tags/{slug}/"));
            let list = &mut cuts[i];
            list.push((j, j, Some(format!("<a class=\"tag\" href=\"{href}\">"))));
            list.push((end, end, Some("</a>".to_string())));
        }
    }
    if cuts.iter().all(Vec::is_empty) {
        return run;
    }
    apply(run, body, &cuts)
}

#[cfg(test)]
mod tests {
    use super::super::{render_escaped, Rendered};

    fn md(body: &str) -> Rendered {
        render_escaped(body, "/kb/")
    }

    fn html(body: &str) -> String {
        md(body).html
    }

    #[test]
    fn highlights_become_marks() {
        assert_eq!(html("a ==b c== d"), "<p>a <mark>b c</mark> d</p>\n");
        assert_eq!(html("==x=="), "<p><mark>x</mark></p>\n");
        assert_eq!(html("in==word==s"), "<p>in<mark>word</mark>s</p>\n");
    }

    #[test]
    fn highlights_hold_emphasis_and_links() {
        assert_eq!(
            html("==a *b* [c](https://x.org) **d**=="),
            "<p><mark>a <em>b</em> <a href=\"https://x.org\">c</a> <strong>d</strong></mark></p>\n"
        );
        assert_eq!(html("*a ==b==*"), "<p><em>a <mark>b</mark></em></p>\n");
    }

    #[test]
    fn unmatched_or_blank_flanked_delimiters_stay_text() {
        assert_eq!(html("a == b == c"), "<p>a == b == c</p>\n");
        assert_eq!(html("==open only"), "<p>==open only</p>\n");
        assert_eq!(html("x ==a ==b== c"), "<p>x ==a <mark>b</mark> c</p>\n");
        assert_eq!(html("a === b ===c==="), "<p>a === b ===c===</p>\n");
        // Not across elements: the emphasis ends between the two.
        assert_eq!(html("*==a* b=="), "<p><em>==a</em> b==</p>\n");
    }

    #[test]
    fn highlights_stay_out_of_code_and_in_their_block() {
        assert_eq!(html("`==a==` b"), "<p><code>==a==</code> b</p>\n");
        assert_eq!(
            html("```\n==a==\n```\n"),
            "<pre class=\"code\"><code>==a==\n</code></pre>\n"
        );
        assert_eq!(html("==a\n\nb=="), "<p>==a</p>\n<p>b==</p>\n");
        assert_eq!(
            html("| h | i |\n|---|---|\n| ==a | b== |\n"),
            "<div class=\"table-wrap\">\n<table><thead><tr><th>h</th><th>i</th></tr></thead><tbody>\n<tr><td>==a</td><td>b==</td></tr>\n</tbody></table>\n</div>\n"
        );
        assert_eq!(
            html("- ==a\n- b=="),
            "<ul>\n<li>==a</li>\n<li>b==</li>\n</ul>\n"
        );
    }

    #[test]
    fn highlighted_text_is_searchable_without_its_markers() {
        let r = md("## A ==big== deal\n\nSee ==this== here.\n");
        assert_eq!(r.headings[0].title, "A big deal");
        assert_eq!(r.headings[0].id, "a-big-deal");
        assert!(
            r.html
                .contains("<h2 id=\"a-big-deal\">A <mark>big</mark> deal"),
            "{}",
            r.html
        );
        assert_eq!(r.sections[0].1, "A big deal See this here.");
        assert_eq!(r.summary, "See this here.");
    }

    #[test]
    fn tags_link_to_their_pages() {
        let body = "A #tag, #a/b and #日本 but not #123 or C#sharp or \\#esc.\n";
        let r = md(body);
        let tags: Vec<(&str, &str)> = r
            .tags
            .iter()
            .map(|(t, span)| (t.as_str(), &body[span.clone()]))
            .collect();
        assert_eq!(tags, [("tag", "#tag"), ("a/b", "#a/b"), ("日本", "#日本")]);
        assert!(
            r.html
                .contains("A <a class=\"tag\" href=\"/kb/tags/tag/\">#tag</a>, "),
            "{}",
            r.html
        );
        assert!(
            r.html
                .contains("<a class=\"tag\" href=\"/kb/tags/a-b/\">#a/b</a>"),
            "{}",
            r.html
        );
        assert!(
            r.html
                .contains("<a class=\"tag\" href=\"/kb/tags/日本/\">#日本</a>"),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("not #123 or C#sharp or #esc."),
            "{}",
            r.html
        );
        assert!(r.sections[0].1.contains("A #tag, #a/b"), "{:?}", r.sections);
    }

    #[test]
    fn tags_need_a_letter_and_a_blank_before() {
        let r = md("#1a #2024 x#y (#z) *#em* #_ #-\n");
        let names: Vec<&str> = r.tags.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["1a", "em"]);
    }

    #[test]
    fn tags_stay_out_of_code_links_and_headings_markers() {
        let r = md("# Title\n\n`#code` [#link](https://x.org) [[Page#part]] [[P|#lab]]\n\n```\n#fence\n```\n\n## Head #t\n");
        let names: Vec<&str> = r.tags.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["t"]);
        assert_eq!(r.headings[0].title, "Title");
        assert!(r.html.contains("<code>#code</code>"), "{}", r.html);
    }

    #[test]
    fn tags_are_ours_even_with_raw_html_off_and_in_marks() {
        let r = md("==#hot== <b>\n");
        assert!(
            r.html.contains(
                "<mark><a class=\"tag\" href=\"/kb/tags/hot/\">#hot</a></mark> &lt;b&gt;"
            ),
            "{}",
            r.html
        );
    }
}
