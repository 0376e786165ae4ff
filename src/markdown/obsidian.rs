//! The Obsidian layer between pulldown-cmark and [`super::render`]: it reads the events one run of
//! inline events at a time (a paragraph, a heading, a table cell, a list item's own text) and hands
//! them on with comments cut out ([`super::comments`]), callout titles split off ([`super::callouts`]),
//! block ids taken off ([`super::blocks`]), and highlights and tags written ([`super::inline`]).
//!
//! What `render` must write differently (a callout's tags, a paragraph's id) it asks for by the byte
//! where the element starts: [`Events::callout`] and [`Events::markup`]. An element's start event is
//! held back until its first run has been read, so the answer is known when `render` sees it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};

use super::blocks::{self, Markup};
use super::callouts::{self, Callout, Marker};
use super::inline::{self, exact};

/// An event with its byte range in the body.
pub(super) type Spanned<'a> = (Event<'a>, Range<usize>);

/// The first character of the renderer's own inline markup, which the raw-HTML policy lets through
/// (see [`take_ours`]). A body holding it has it replaced before parsing, like the hole markers.
pub(super) const OURS: char = '\u{FDD2}';

/// The renderer's own inline markup, as an event.
pub(super) fn ours<'a>(html: &str) -> Event<'a> {
    Event::InlineHtml(format!("{OURS}{html}").into())
}

/// The HTML of an event made by [`ours`], as a plain inline HTML event.
pub(super) fn take_ours<'a>(e: &Event<'a>) -> Option<Event<'a>> {
    match e {
        Event::InlineHtml(h) => h
            .strip_prefix(OURS)
            .map(|h| Event::InlineHtml(h.to_string().into())),
        _ => None,
    }
}

fn is_inline(e: &Event) -> bool {
    match e {
        Event::Start(t) => matches!(
            t,
            Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript
                | Tag::Link { .. }
                | Tag::Image { .. }
        ),
        Event::End(t) => matches!(
            t,
            TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link
                | TagEnd::Image
        ),
        Event::Html(_) | Event::Rule => false,
        _ => true,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Paragraph,
    Item,
    Code,
    Other,
}

/// An open block.
#[derive(Debug)]
struct Open {
    kind: Kind,
    start: usize,
    top: bool,
    /// Inline runs read in it so far.
    runs: usize,
    /// A paragraph that opens a callout: its quote's start and the marker.
    callout: Option<(usize, Marker)>,
}

pub(super) struct Events<'a, I> {
    inner: I,
    done: bool,
    body: &'a str,
    base_path: &'a str,
    comments: Vec<Range<usize>>,
    out: VecDeque<Spanned<'a>>,
    run: Vec<Spanned<'a>>,
    /// Hold `out` back: an element's start is waiting for its first run.
    hold: bool,
    open: Vec<Open>,
    /// The start of a plain quote whose first child has not been read yet.
    fresh_quote: Option<usize>,
    tops: usize,
    callouts: HashMap<usize, Callout>,
    markup: HashMap<usize, Markup>,
    ids: HashSet<String>,
    blocks: Vec<String>,
    tags: Vec<(String, Range<usize>)>,
}

impl<'a, I: Iterator<Item = Spanned<'a>>> Events<'a, I> {
    /// `comments` are the byte ranges [`super::comments::strip`] blanked in `body`.
    pub fn new(inner: I, body: &'a str, base_path: &'a str, comments: Vec<Range<usize>>) -> Self {
        Events {
            inner,
            done: false,
            body,
            base_path,
            comments,
            out: VecDeque::new(),
            run: Vec::new(),
            hold: false,
            open: Vec::new(),
            fresh_quote: None,
            tops: 0,
            callouts: HashMap::new(),
            markup: HashMap::new(),
            ids: HashSet::new(),
            blocks: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// The events being read, for what the parser knows beyond them (reference definitions).
    pub fn inner(&self) -> &I {
        &self.inner
    }

    /// The callout a blockquote starting at `start` is, if it is one.
    pub fn callout(&mut self, start: usize) -> Option<Callout> {
        self.callouts.remove(&start)
    }

    /// How the paragraph or list item starting at `start` is written, if not plainly.
    pub fn markup(&mut self, start: usize) -> Option<Markup> {
        self.markup.remove(&start)
    }

    /// The block ids and the tags of the page, once every event is read.
    pub fn finish(self) -> (Vec<String>, Vec<(String, Range<usize>)>) {
        (self.blocks, self.tags)
    }

    fn feed(&mut self, event: Event<'a>, range: Range<usize>) {
        if self.open.last().is_some_and(|o| o.kind == Kind::Code) {
            if matches!(event, Event::End(_)) {
                self.open.pop();
            }
            self.out.push_back((event, range));
            return;
        }
        if is_inline(&event) {
            self.run.push((event, range));
            return;
        }
        self.flush();
        let fresh = self.fresh_quote.take();
        let top = self.open.is_empty();
        let event = match event {
            Event::Start(tag) => {
                if top {
                    self.tops += 1;
                }
                let kind = match tag {
                    Tag::Paragraph => Kind::Paragraph,
                    Tag::Item => Kind::Item,
                    Tag::CodeBlock(_) => Kind::Code,
                    _ => Kind::Other,
                };
                let mut open = Open {
                    kind,
                    start: range.start,
                    top,
                    runs: 0,
                    callout: None,
                };
                match &tag {
                    Tag::BlockQuote(Some(k)) => {
                        self.callouts.insert(range.start, Callout::github(*k));
                    }
                    Tag::BlockQuote(None) => {
                        self.fresh_quote = Some(range.start);
                        self.hold = true;
                    }
                    Tag::Paragraph => {
                        open.callout = fresh.and_then(|q| {
                            callouts::marker(&self.body[range.start..]).map(|m| (q, m))
                        });
                        self.hold = true;
                    }
                    Tag::Item => self.hold = true,
                    _ => {}
                }
                self.open.push(open);
                Event::Start(tag)
            }
            Event::End(tag) => {
                self.open.pop();
                Event::End(tag)
            }
            Event::Html(h) => {
                if top {
                    self.tops += 1;
                }
                match self.cut(&h, &range) {
                    Some(pieces) => Event::Html(pieces.into()),
                    None => Event::Html(h),
                }
            }
            other => {
                if top {
                    self.tops += 1;
                }
                other
            }
        };
        self.out.push_back((event, range));
    }

    /// The comments that overlap `range` (they are sorted and disjoint).
    fn overlapping(&self, range: &Range<usize>) -> &[Range<usize>] {
        let first = self.comments.partition_point(|c| c.end <= range.start);
        let rest = &self.comments[first..];
        &rest[..rest.partition_point(|c| c.start < range.end)]
    }

    /// The text of an event with the comments in it left out, when it has any.
    fn cut(&self, text: &str, range: &Range<usize>) -> Option<String> {
        let overlapping = self.overlapping(range);
        if overlapping.is_empty() {
            return None;
        }
        let at = exact(self.body, text, range)?;
        let mut out = String::with_capacity(text.len());
        let mut from = at;
        for c in overlapping {
            out.push_str(&self.body[from.min(c.start.max(at))..c.start.max(at)]);
            from = c.end;
        }
        out.push_str(&self.body[from.min(range.end)..range.end]);
        Some(out)
    }

    /// Adjacent text events that are the body's text next to each other become one (pulldown-cmark
    /// splits text at every character that might have been markup), and the comments are cut out.
    fn merge_and_cut(&self, run: Vec<Spanned<'a>>) -> (Vec<Spanned<'a>>, bool) {
        let mut out: Vec<Spanned<'a>> = Vec::with_capacity(run.len());
        // Whether the last event of `out` is the body's text byte for byte.
        let mut last_exact = false;
        for (e, range) in run {
            let is_exact = matches!(&e, Event::Text(t) if exact(self.body, t, &range).is_some());
            if let (true, true, Some((Event::Text(prev), prange))) =
                (is_exact, last_exact, out.last_mut())
            {
                if prange.end == range.start {
                    *prev = CowStr::Borrowed(&self.body[prange.start..range.end]);
                    prange.end = range.end;
                    continue;
                }
            }
            last_exact = is_exact;
            out.push((e, range));
        }
        if self.comments.is_empty() {
            return (out, false);
        }
        let mut cut = false;
        let mut pieces = Vec::with_capacity(out.len());
        for (e, range) in out {
            let overlapping = self.overlapping(&range);
            if overlapping.is_empty() {
                pieces.push((e, range));
                continue;
            }
            cut = true;
            match e {
                Event::Text(t) => {
                    if exact(self.body, &t, &range).is_none() {
                        // Not the body's text byte for byte: keep it unless it is all comment.
                        if !overlapping
                            .iter()
                            .any(|c| c.start <= range.start && range.end <= c.end)
                        {
                            pieces.push((Event::Text(t), range));
                        }
                        continue;
                    }
                    // The bytes between comments, each a text event of its own.
                    let mut from = range.start;
                    for c in overlapping {
                        if c.start > from {
                            pieces.push((
                                Event::Text(CowStr::Borrowed(&self.body[from..c.start])),
                                from..c.start,
                            ));
                        }
                        from = from.max(c.end);
                    }
                    if from < range.end {
                        pieces.push((
                            Event::Text(CowStr::Borrowed(&self.body[from..range.end])),
                            from..range.end,
                        ));
                    }
                }
                Event::InlineHtml(h) => match self.cut(&h, &range) {
                    Some(s) if s.is_empty() => {}
                    Some(s) => pieces.push((Event::InlineHtml(s.into()), range)),
                    None => pieces.push((Event::InlineHtml(h), range)),
                },
                e => pieces.push((e, range)),
            }
        }
        (pieces, cut)
    }

    /// Hand the run read so far on, done.
    fn flush(&mut self) {
        self.hold = false;
        if self.run.is_empty() {
            return;
        }
        let run = std::mem::take(&mut self.run);
        let (mut run, cut) = self.merge_and_cut(run);
        let Some(open) = self.open.last_mut() else {
            self.emit(run);
            return;
        };
        open.runs += 1;
        let (kind, start, top, first) = (open.kind, open.start, open.top, open.runs == 1);
        let callout = open.callout.take();
        match kind {
            Kind::Paragraph => {
                let mut key = start;
                if let Some((quote, marker)) = callout {
                    match split_title(run, start, start + marker.len, self.body) {
                        Ok((title, rest)) => {
                            let titled = !title.is_empty();
                            let c = Callout::obsidian(&marker, titled);
                            if titled {
                                let (o, cl) = c.title_tags();
                                self.markup.insert(start, Markup::Title(o, cl));
                                let title = self.decorate(title);
                                self.emit(title);
                                if let Some(r) = rest.first().map(|(_, r)| r.start) {
                                    self.out.push_back((Event::End(TagEnd::Paragraph), r..r));
                                    self.out.push_back((Event::Start(Tag::Paragraph), r..r));
                                    key = r;
                                }
                            }
                            self.callouts.insert(quote, c);
                            run = rest;
                            if run.is_empty() && !titled {
                                self.markup.insert(start, Markup::Skip);
                            }
                        }
                        Err(back) => run = back,
                    }
                }
                if cut && !has_text(&run) && !self.markup.contains_key(&key) {
                    // Nothing but comment.
                    self.markup.insert(key, Markup::Skip);
                    run.clear();
                }
                if !run.is_empty() {
                    if top && key == start && self.tops > 1 {
                        if let Some(id) = lone_id(&run) {
                            let fresh = self.ids.insert(id.clone());
                            if fresh {
                                self.blocks.push(id.clone());
                            }
                            self.markup.insert(
                                key,
                                if fresh {
                                    Markup::Wrap(id)
                                } else {
                                    Markup::Skip
                                },
                            );
                            run.clear();
                        }
                    }
                    if let Some(id) = self.take_id(&mut run, false) {
                        self.markup.insert(key, Markup::Id(id));
                    }
                }
            }
            Kind::Item if first => {
                if let Some(id) = self.take_id(&mut run, true) {
                    self.markup.insert(start, Markup::Id(id));
                }
            }
            _ => {}
        }
        let run = self.decorate(run);
        self.emit(run);
    }

    fn emit(&mut self, run: Vec<Spanned<'a>>) {
        self.out.extend(run);
    }

    fn decorate(&mut self, run: Vec<Spanned<'a>>) -> Vec<Spanned<'a>> {
        let run = inline::highlights(run, self.body);
        inline::tags(run, self.body, self.base_path, &mut self.tags)
    }

    /// Take a trailing `^id` off the run: the id, when it is the first use of it on the page.
    /// `bare`: the run may be the marker alone (a list item's; a paragraph that is only `^id` is
    /// text, or the lone form).
    fn take_id(&mut self, run: &mut Vec<Spanned<'a>>, bare: bool) -> Option<String> {
        let last = run.iter().rposition(|(e, _)| !is_break(e))?;
        let Event::Text(t) = &run[last].0 else {
            return None;
        };
        let at_start = if last == 0 {
            bare
        } else {
            is_break(&run[last - 1].0)
        };
        let (id, cut) = blocks::trailing_id(t, at_start)?;
        let id = id.to_string();
        let range = run[last].1.clone();
        let kept: CowStr<'a> = match &run[last].0 {
            Event::Text(CowStr::Borrowed(s)) => CowStr::Borrowed(&s[..cut]),
            Event::Text(other) => CowStr::from(other[..cut].to_string()),
            _ => return None,
        };
        let end = match exact(self.body, t, &range) {
            Some(a) => a + cut,
            None => range.end,
        };
        run.truncate(last + 1);
        if kept.is_empty() {
            run.pop();
            // A marker on its own line: the break before it goes too.
            while run.last().is_some_and(|(e, _)| is_break(e)) {
                run.pop();
            }
        } else {
            run[last] = (Event::Text(kept), range.start..end);
        }
        self.ids.insert(id.clone()).then(|| {
            self.blocks.push(id.clone());
            id
        })
    }
}

fn is_break(e: &Event) -> bool {
    matches!(e, Event::SoftBreak | Event::HardBreak)
}

/// Whether anything but blanks is left in a run.
fn has_text(run: &[Spanned]) -> bool {
    run.iter().any(|(e, _)| match e {
        Event::Text(t) => !t.trim().is_empty(),
        Event::SoftBreak | Event::HardBreak => false,
        _ => true,
    })
}

/// A run that is `^id` and nothing else.
fn lone_id(run: &[Spanned]) -> Option<String> {
    match run {
        [(Event::Text(t), _)] => {
            blocks::trailing_id(t, true).and_then(|(id, at)| (at == 0).then(|| id.to_string()))
        }
        _ => None,
    }
}

/// Split a callout's first paragraph at the end of its first line: the title (without the marker,
/// which ends at byte `title_at` of the body) and the rest. The run comes back as it was when the
/// marker is not plain text (a reference link of that name, say).
#[allow(clippy::type_complexity)]
fn split_title<'a>(
    mut run: Vec<Spanned<'a>>,
    start: usize,
    title_at: usize,
    body: &'a str,
) -> Result<(Vec<Spanned<'a>>, Vec<Spanned<'a>>), Vec<Spanned<'a>>> {
    let Some((Event::Text(t), range)) = run.first() else {
        return Err(run);
    };
    // `> [!info] ` with a space before the line's end: the text stops before the space.
    let title_at = match body.get(range.end..title_at) {
        Some(gap) if range.end < title_at && gap.trim().is_empty() => range.end,
        _ => title_at,
    };
    if exact(body, t, range).is_none() || range.start > start || range.end < title_at {
        return Err(run);
    }
    let range = range.clone();
    if range.end == title_at {
        run.remove(0);
    } else {
        run[0] = (
            Event::Text(CowStr::Borrowed(&body[title_at..range.end])),
            title_at..range.end,
        );
    }
    let mut depth = 0usize;
    let split = run.iter().position(|(e, _)| {
        match e {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        depth == 0 && is_break(e)
    });
    let (mut title, rest) = match split {
        Some(i) => {
            let rest = run.split_off(i + 1);
            run.pop();
            (run, rest)
        }
        None => (run, Vec::new()),
    };
    if !has_text(&title) {
        title.clear();
    }
    Ok((title, rest))
}

impl<'a, I: Iterator<Item = Spanned<'a>>> Iterator for Events<'a, I> {
    type Item = Spanned<'a>;

    fn next(&mut self) -> Option<Spanned<'a>> {
        loop {
            if !self.hold {
                if let Some(e) = self.out.pop_front() {
                    return Some(e);
                }
                if self.done {
                    return None;
                }
            }
            match self.inner.next() {
                Some((e, r)) => self.feed(e, r),
                None => {
                    self.done = true;
                    self.flush();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{render_escaped, Rendered};

    fn md(body: &str) -> Rendered {
        render_escaped(body, "/")
    }

    #[test]
    fn callouts_with_titles_folds_and_bodies() {
        let r = md("> [!tip] Use *this* `x`\n> Body text.\n");
        assert_eq!(
            r.html,
            "<aside class=\"callout callout-tip\" role=\"note\" data-callout=\"tip\"><p class=\"callout-title\">Use <em>this</em> <code>x</code></p>\n<p>Body text.</p>\n</aside>\n"
        );
        let r = md("> [!FAQ]- Can it fold?\n> Yes.\n");
        assert_eq!(
            r.html,
            "<details class=\"callout callout-question\" data-callout=\"faq\"><summary class=\"callout-title\">Can it fold?</summary>\n<p>Yes.</p>\n</details>\n"
        );
        let r = md("> [!example]+\n> Open.\n");
        assert!(
            r.html.starts_with("<details class=\"callout callout-example\" data-callout=\"example\" open><summary class=\"callout-title\">Example</summary>\n<p>Open.</p>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn title_only_and_unknown_callouts() {
        let r = md("> [!warning] Just this\n");
        assert_eq!(
            r.html,
            "<aside class=\"callout callout-warning\" role=\"note\" data-callout=\"warning\"><p class=\"callout-title\">Just this</p>\n</aside>\n"
        );
        let r = md("> [!Recipe]\n");
        assert_eq!(
            r.html,
            "<aside class=\"callout callout-note\" role=\"note\" data-callout=\"recipe\"><p class=\"callout-title\">Recipe</p>\n</aside>\n"
        );
        let r = md("> [!tldr]\n>\n> - a\n");
        assert!(
            r.html.starts_with("<aside class=\"callout callout-abstract\" role=\"note\" data-callout=\"tldr\"><p class=\"callout-title\">Tldr</p>\n<ul>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn callouts_nest_and_plain_quotes_stay_quotes() {
        let r = md("> [!question] Outer\n> > [!bug] Inner\n> > Deep.\n> Back.\n");
        assert!(r.html.contains("data-callout=\"question\"><p class=\"callout-title\">Outer</p>\n<aside class=\"callout callout-bug\" role=\"note\" data-callout=\"bug\"><p class=\"callout-title\">Inner</p>\n<p>Deep.\nBack.</p>"), "{}", r.html);
        assert_eq!(r.html.matches("</aside>").count(), 2);
        let r = md("> > [!cite] In a quote\n");
        assert!(
            r.html
                .starts_with("<blockquote>\n<aside class=\"callout callout-quote\""),
            "{}",
            r.html
        );
        let r = md("> Just a quote with [!tip] inside.\n");
        assert_eq!(
            r.html,
            "<blockquote>\n<p>Just a quote with [!tip] inside.</p>\n</blockquote>\n"
        );
        let r = md("> [!tip]x\n");
        assert_eq!(r.html, "<blockquote>\n<p>[!tip]x</p>\n</blockquote>\n");
    }

    #[test]
    fn a_marker_with_a_space_before_the_line_end_is_a_callout() {
        let r = md("> [!info] \n> Body.\n");
        assert!(
            r.html.starts_with("<aside class=\"callout callout-info\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("<p>Body.</p>"), "{}", r.html);
    }

    #[test]
    fn callout_titles_are_searchable_and_not_the_summary() {
        let r = md("> [!info] Heads up\n> Inside.\n\nFirst.\n");
        assert_eq!(r.sections[0].1, "Heads up Inside. First.");
        assert_eq!(r.summary, "First.");
        let r = md("> [!NOTE]\n> Inside.\n");
        assert_eq!(r.sections[0].1, "Note Inside.");
    }

    #[test]
    fn github_callouts_keep_their_markup() {
        let r = md("> [!CAUTION]\n> Hot.\n");
        assert_eq!(
            r.html,
            "<aside class=\"callout callout-caution\" role=\"note\" data-callout=\"caution\"><p class=\"callout-title\">Caution</p>\n<p>Hot.</p>\n</aside>\n"
        );
    }

    #[test]
    fn block_ids_on_paragraphs_and_items() {
        let r = md("A paragraph. ^para-1\n\n- one ^li1\n- two\n  - nested ^deep\n- ^x\n");
        assert!(
            r.html.starts_with("<p id=\"^para-1\">A paragraph.</p>\n"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<li id=\"^li1\">one</li>"), "{}", r.html);
        assert!(
            r.html.contains("<li id=\"^deep\">nested</li>"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<li id=\"^x\"></li>"), "{}", r.html);
        assert_eq!(r.blocks, ["para-1", "li1", "deep", "x"]);
        assert!(!r.sections[0].1.contains('^'), "{:?}", r.sections);
        assert_eq!(r.summary, "A paragraph.");
    }

    #[test]
    fn block_ids_on_items_with_sublists_and_loose_items() {
        let r = md("- top ^t\n  - sub\n\n1. loose ^l\n\n2. second\n");
        assert!(r.html.contains("<li id=\"^t\">top\n<ul>"), "{}", r.html);
        assert!(r.html.contains("<p id=\"^l\">loose</p>"), "{}", r.html);
    }

    #[test]
    fn lone_block_ids_wrap_the_block_before() {
        let r = md("| a |\n|---|\n| b |\n\n^table\n\n> [!tip]\n> T\n\n^call\n\n- x\n\n^list\n");
        assert!(
            r.html
                .starts_with("<div id=\"^table\">\n<div class=\"table-wrap\">"),
            "{}",
            r.html
        );
        assert!(r.html.contains("</table>\n</div>\n</div>\n"), "{}", r.html);
        assert!(
            r.html
                .contains("<div id=\"^call\">\n<aside class=\"callout callout-tip\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("</aside>\n</div>\n"), "{}", r.html);
        assert!(
            r.html
                .contains("<div id=\"^list\">\n<ul>\n<li>x</li>\n</ul>\n</div>\n"),
            "{}",
            r.html
        );
        assert_eq!(r.blocks, ["table", "call", "list"]);
        assert!(!r.html.contains("^table</p>"), "{}", r.html);
        // With no block before it, `^id` is just text.
        let r = md("^first\n");
        assert_eq!(r.html, "<p>^first</p>\n");
        assert!(r.blocks.is_empty());
    }

    #[test]
    fn repeated_block_ids_name_the_first_only() {
        let r = md("One ^same\n\nTwo ^same\n\n> q\n\n^same\n");
        assert!(
            r.html
                .starts_with("<p id=\"^same\">One</p>\n<p>Two</p>\n<blockquote>"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("<div id"), "{}", r.html);
        assert!(!r.html.contains("^same</"), "{}", r.html);
        assert_eq!(r.blocks, ["same"]);
    }

    #[test]
    fn block_id_on_the_line_after_a_paragraph() {
        let r = md("Text here\n^below\n");
        assert_eq!(r.html, "<p id=\"^below\">Text here</p>\n");
        let r = md("Not an id^glued\n");
        assert_eq!(r.html, "<p>Not an id^glued</p>\n");
    }

    #[test]
    fn comments_are_gone_from_everything() {
        let body = "%%top secret%% Intro %%inline%% text.\n\n## Head %%hidden head%%\n\n%%\nblock secret\nmore\n%%\n\nAfter `%%code%%` ok.\n\n```\n%% fenced %%\n```\n";
        let r = md(body);
        assert!(
            !r.html.contains("secret") && !r.html.contains("hidden"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("xxx"), "{}", r.html);
        assert!(
            r.html
                .starts_with("<p> Intro  text.</p>\n<h2 id=\"head\">Head <a"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<code>%%code%%</code>"), "{}", r.html);
        assert!(r.html.contains("%% fenced %%"), "{}", r.html);
        assert!(!r.html.contains("<p></p>"), "{}", r.html);
        assert_eq!(r.summary, "Intro text.");
        assert_eq!(r.headings[0].title, "Head");
        for (_, t) in &r.sections {
            assert!(
                !t.contains("secret") && !t.contains("hidden") && !t.contains("inline"),
                "{t}"
            );
        }
    }

    #[test]
    fn an_unclosed_comment_hides_the_rest() {
        let r = md("Shown. %%hidden\n\n# Not a heading\n\nNor this.\n");
        assert_eq!(r.html, "<p>Shown. </p>\n");
        assert!(r.headings.is_empty());
    }

    #[test]
    fn comments_hide_tags_ids_and_callout_titles() {
        let r = md("Text %%#secret%% #shown %%^no%%\n\n> [!tip] %%hidden title%%\n> Body.\n");
        let names: Vec<&str> = r.tags.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["shown"]);
        assert!(r.blocks.is_empty());
        assert!(
            r.html.contains("<p class=\"callout-title\">Tip</p>"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("hidden"), "{}", r.html);
        let r = md("- item\n- %%gone%%\n\n> %%only%%\n");
        assert!(
            !r.html.contains("gone") && !r.html.contains("only"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("<p></p>"), "{}", r.html);
    }

    #[test]
    fn large_bodies_take_linear_time() {
        // Each of these once took time that grew with the square of its size.
        let openers = "==a ".repeat(100_000);
        assert_eq!(md(&openers).html.matches("<mark>").count(), 0);
        let comments = "%%c%% [x ".repeat(50_000);
        let r = md(&comments);
        assert!(
            !r.html.contains("c") && r.html.contains("[x"),
            "{}",
            &r.html[..100]
        );
        let wraps: String = (0..10_000).map(|i| format!("> q\n\n^b{i}\n\n")).collect();
        assert_eq!(md(&wraps).blocks.len(), 10_000);
    }

    #[test]
    fn comments_keep_spans_right() {
        let body = "%%x%% [[Target]] #tag\n";
        let r = md(body);
        assert_eq!(&body[r.links[0].span.clone()], "[[Target]]");
        assert_eq!(&body[r.tags[0].1.clone()], "#tag");
    }
}
