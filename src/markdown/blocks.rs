//! Obsidian block ids: `text ^id` at the end of a paragraph or list item names that element
//! (`<p id="^id">`, `<li id="^id">`), and `^id` alone as the paragraph after a table, a quote, a
//! callout or a list names that block (wrapped in `<div id="^id">`). Only the first use of an id on a
//! page names anything, as in Obsidian; the marker is never shown.
//!
//! [`super::obsidian`] finds the markers in the event stream; this file reads them and keeps track,
//! for [`super::render`], of where the top-level blocks start in its output events.

use pulldown_cmark::{Event, Tag, TagEnd};

/// What a paragraph or list item is written as, when it is not plain (see [`super::obsidian`]).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Markup {
    /// A callout's title, written with these tags.
    Title(&'static str, &'static str),
    /// The element carries this block id.
    Id(String),
    /// `^id` alone: the previous top-level block carries the id.
    Wrap(String),
    /// Nothing is left to show (a repeated lone id, a line of comment, a title-only first line):
    /// the paragraph is not written.
    Skip,
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// The block id at the end of `text` (`... ^id`, trailing blanks allowed): the id and the byte where
/// the marker (with the blanks before it) starts. `at_start` says whether whatever comes before
/// `text` in its element is a break or nothing, so that a marker at the very start counts.
pub(super) fn trailing_id(text: &str, at_start: bool) -> Option<(&str, usize)> {
    let trimmed = text.trim_end();
    let caret = trimmed.rfind('^')?;
    let id = &trimmed[caret + 1..];
    if id.is_empty() || !id.chars().all(is_id_char) {
        return None;
    }
    let before = &trimmed[..caret];
    if before.is_empty() {
        return at_start.then_some((id, 0));
    }
    if !before.ends_with(char::is_whitespace) {
        return None;
    }
    Some((id, before.trim_end().len()))
}

/// Block-level tags whose start and end [`super::render`] both sees (headings and code blocks are
/// read whole by their arms).
pub(super) fn is_container(tag: &Tag) -> bool {
    matches!(
        tag,
        Tag::Paragraph
            | Tag::BlockQuote(_)
            | Tag::List(_)
            | Tag::Item
            | Tag::Table(_)
            | Tag::TableHead
            | Tag::TableRow
            | Tag::TableCell
            | Tag::FootnoteDefinition(_)
            | Tag::HtmlBlock
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_)
    )
}

fn is_container_end(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Paragraph
            | TagEnd::BlockQuote(_)
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::Table
            | TagEnd::TableHead
            | TagEnd::TableRow
            | TagEnd::TableCell
            | TagEnd::FootnoteDefinition
            | TagEnd::HtmlBlock
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_)
    )
}

/// Where the top-level blocks start in the output events, for a lone `^id` to wrap the one before.
#[derive(Debug, Default)]
pub(super) struct Tops {
    depth: usize,
    current: Option<usize>,
    previous: Option<usize>,
    /// Opening `<div id>` tags to put in at these places, once every event is written (putting them
    /// in at once would move every event after them, each time).
    opens: Vec<(usize, String)>,
}

impl Tops {
    /// See an input event before its arm runs; `at` is the number of output events so far.
    pub fn see(&mut self, event: &Event, at: usize) {
        let starts = match event {
            Event::Start(tag) => {
                let top = self.depth == 0;
                if is_container(tag) {
                    self.depth += 1;
                }
                top
            }
            Event::End(tag) => {
                if is_container_end(tag) {
                    self.depth = self.depth.saturating_sub(1);
                }
                false
            }
            Event::Rule | Event::Html(_) | Event::DisplayMath(_) => self.depth == 0,
            _ => false,
        };
        if starts {
            self.previous = self.current;
            self.current = Some(at);
        }
    }

    /// Wrap the block before the current one (the lone `^id` paragraph) in `<div id="^id">`: its
    /// closing tag goes in now, the opening one in [`Tops::finish`].
    pub fn wrap(&mut self, events: &mut Vec<Event>, id: &str) {
        let Some(at) = self.previous.filter(|&p| p <= events.len()) else {
            return;
        };
        self.opens.push((at, format!("<div id=\"^{id}\">\n")));
        events.push(Event::Html("</div>\n".into()));
        // The wrapped block is now the one before whatever comes next.
        self.current = Some(at);
        self.previous = None;
    }

    /// The events with the wraps' opening tags in place.
    pub fn finish<'a>(mut self, events: Vec<Event<'a>>) -> Vec<Event<'a>> {
        if self.opens.is_empty() {
            return events;
        }
        // Two wraps of one block: the later one is the outer one.
        self.opens.reverse();
        self.opens.sort_by_key(|(at, _)| *at);
        let mut opens = self.opens.into_iter().peekable();
        let mut out = Vec::with_capacity(events.len() + opens.len());
        for (i, e) in events.into_iter().enumerate() {
            while let Some((_, tag)) = opens.next_if(|(at, _)| *at == i) {
                out.push(Event::Html(tag.into()));
            }
            out.push(e);
        }
        out.extend(opens.map(|(_, tag)| Event::Html(tag.into())));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_end_the_text_after_a_blank() {
        assert_eq!(trailing_id("Some text ^abc-1", false), Some(("abc-1", 9)));
        assert_eq!(trailing_id("Some text   ^X9  \n", false), Some(("X9", 9)));
        assert_eq!(trailing_id("^alone", true), Some(("alone", 0)));
        assert_eq!(trailing_id("^alone", false), None);
        // Not ids: glued to a word, empty, other characters, not at the end.
        for t in ["word^id", "text ^", "text ^a_b", "text ^id more", "x ^é"] {
            assert_eq!(trailing_id(t, true), None, "{t}");
        }
    }

    #[test]
    fn a_wrap_takes_the_block_before() {
        let mut tops = Tops::default();
        let mut events: Vec<Event> = Vec::new();
        for e in [
            Event::Start(Tag::Paragraph),
            Event::Text("a".into()),
            Event::End(TagEnd::Paragraph),
        ] {
            tops.see(&e, events.len());
            events.push(e);
        }
        let quote = [
            Event::Start(Tag::BlockQuote(None)),
            Event::Start(Tag::Paragraph),
            Event::Text("q".into()),
            Event::End(TagEnd::Paragraph),
            Event::End(TagEnd::BlockQuote(None)),
        ];
        for e in quote {
            tops.see(&e, events.len());
            events.push(e);
        }
        tops.see(&Event::Start(Tag::Paragraph), events.len());
        tops.wrap(&mut events, "q1");
        tops.see(&Event::End(TagEnd::Paragraph), events.len());
        // A second lone id names the same block, around the first.
        tops.see(&Event::Start(Tag::Paragraph), events.len());
        tops.wrap(&mut events, "q2");
        let events = tops.finish(events);
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, events.into_iter());
        assert_eq!(
            html,
            "<p>a</p>\n<div id=\"^q2\">\n<div id=\"^q1\">\n<blockquote>\n<p>q</p>\n</blockquote>\n</div>\n</div>\n"
        );
    }
}
