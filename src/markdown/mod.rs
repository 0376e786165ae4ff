//! Stage 3: Markdown -> HTML with pulldown-cmark, plus everything later stages need from the body.
//!
//! One pass over the events does all transforms: heading ids and anchors (unique per page), the table
//! of contents, GitHub-style callouts, syntect highlighting (CSS classes), raw-HTML policy, relative URL
//! rewriting, and plain text for search. Links to other pages (wikilinks and `.md` links) cannot be
//! written yet, because the page graph is not built: they are left as numbered holes that
//! [`fill_holes`] replaces once [`crate::graph`] has resolved them. That keeps this stage a pure
//! function of one page, run in parallel.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use serde::Serialize;

use crate::content::slugify;

mod blocks;
mod callouts;
mod comments;
mod diagram;
mod highlight;
mod inline;
mod math;
mod obsidian;
mod sanitize;
use highlight::highlight;
pub use highlight::{highlight_css, syntax_set, syntax_set_loaded};

/// What the Markdown stage needs to know beyond the text.
#[derive(Debug, Clone, Copy)]
pub struct MarkdownOptions<'a> {
    /// Pass raw HTML through (`markdown.raw_html: allow`); when false, it is shown as text.
    pub raw_html: bool,
    /// Highlight fenced code.
    pub highlight: bool,
    /// Take a leading `# H1` as the page title (pages with no `title:`).
    pub take_title: bool,
    /// The site's base path (`/` or `/kb/`), for root-relative links and images.
    pub base_path: &'a str,
    /// The page's folder under content/ (`tools`), for relative asset links.
    pub folder: &'a str,
}

/// One heading of a page.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub title: String,
}

/// What kind of link a hole stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkKind {
    /// `[[target]]` or `[[target|label]]`.
    Wiki { has_label: bool },
    /// `[text](other.md)`: the target is a path relative to the page's folder.
    Markdown,
    /// `[text](#anchor)`: a heading of this page.
    SelfAnchor,
    /// `![[Note]]`, `![[Note#Heading]]`, `![[Note#^block]]`: the note, its section or its block,
    /// shown in place (the hole is an `E` hole, filled once every page is rendered).
    Embed,
    /// A file that is not a page: `![](img.png)`, `[a](file.pdf)`, `![[img.png|300]]`. `target` is
    /// the path joined onto the page's folder (`tools/img.png`); a file that is not there is looked
    /// for by its name anywhere in content/, as Obsidian does.
    File,
}

/// A link to another page found in the body, to be resolved by the graph stage.
#[derive(Debug, Clone)]
pub struct PageLink {
    pub kind: LinkKind,
    pub target: String,
    pub fragment: Option<String>,
    /// Byte range of the link in the body.
    pub span: Range<usize>,
}

/// A page's rendered body.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// HTML with holes for page links (see [`fill_holes`]).
    pub html: String,
    pub headings: Vec<Heading>,
    pub links: Vec<PageLink>,
    /// Relative links and images whose path climbs out of content/ (`../../etc/passwd`), as
    /// written: each is an error of the build.
    pub outside: Vec<(String, Range<usize>)>,
    /// Title from a leading H1, when asked for.
    pub title: Option<String>,
    /// Plain text, split by section: (heading id or "" for the intro, text). The labels of
    /// wikilinks without one are holes here too, filled by [`fill_text_holes`].
    pub sections: Vec<(String, String)>,
    /// The first paragraph as plain text.
    pub summary: String,
    /// Block ids (`^id` at the end of a paragraph or list item), without the `^`. The element
    /// carries `id="^id"`, so that `#^id` reaches it.
    pub blocks: Vec<String>,
    /// Inline `#tags` of the body (without the `#`), with their byte ranges in the body.
    pub tags: Vec<(String, Range<usize>)>,
    pub words: usize,
    /// Formulas and diagrams that could not be drawn (each is shown as its source), with what is
    /// wrong and the byte range in the body: each is an error of the build.
    pub bad_markup: Vec<(Markup, String, Range<usize>)>,
}

pub use math::Markup;

const HOLE_OPEN: char = '\u{FDD0}';
const HOLE_CLOSE: char = '\u{FDD1}';

fn hole(out: &mut String, which: char, i: usize) {
    let _ = write!(out, "{HOLE_OPEN}{which}{i}{HOLE_CLOSE}");
}

/// The hole at the start of `s` (just after a [`HOLE_OPEN`]): its letter, its link index (`None` when
/// too large) and its length up to and with the [`HOLE_CLOSE`]. Anything else is not a hole: a marker
/// that reached the text another way (a `&#xFDD0;` reference) must not swallow what follows it.
fn parse_hole(s: &str) -> Option<(char, Option<usize>, usize)> {
    let which = s
        .chars()
        .next()
        .filter(|c| matches!(c, 'H' | 'L' | 'C' | 'A' | 'E'))?;
    let digits = s[1..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !s[1 + digits..].starts_with(HOLE_CLOSE) {
        return None;
    }
    let index = s[1..1 + digits].parse().ok();
    Some((which, index, 1 + digits + HOLE_CLOSE.len_utf8()))
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_GFM
        | Options::ENABLE_WIKILINKS
        | Options::ENABLE_MATH
}

/// With raw HTML escaped, a link may not run script either: a `javascript:`, `vbscript:` or `data:`
/// link (and an image from anything but `data:image/`) becomes `#`. Browsers ignore tabs, newlines
/// and leading spaces in a scheme, so this does too.
fn scripted_url(url: &str, image: bool) -> bool {
    let scheme: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .take(11)
        .collect::<String>()
        .to_ascii_lowercase();
    scheme.starts_with("javascript:")
        || scheme.starts_with("vbscript:")
        || (scheme.starts_with("data:") && !(image && scheme.starts_with("data:image/")))
}

fn is_external(url: &str) -> bool {
    url.starts_with("//")
        || url.find(':').is_some_and(|i| {
            let scheme = &url[..i];
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !url[..i].contains('/')
        })
}

/// Join a relative path onto a folder, resolving `.` and `..`. `None` if it climbs out of the root.
pub fn join_path(folder: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        folder.split('/').filter(|s| !s.is_empty()).collect()
    };
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Decode `%XX` escapes in a URL path (`My%20Guide` -> `My Guide`); a `%` that starts no escape is
/// kept, and bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let _ = pulldown_cmark_escape::escape_html(&mut out, s);
    out
}

pub(crate) fn escape_attr(s: &str) -> String {
    escape_html(s)
}

/// [`render`] with raw HTML escaped, no highlighting and no title taken: the unit tests' renderer.
#[cfg(test)]
pub(super) fn render_escaped(body: &str, base_path: &str) -> Rendered {
    render(
        body,
        &MarkdownOptions {
            raw_html: false,
            highlight: false,
            take_title: false,
            base_path,
            folder: "",
        },
    )
}

/// A heading whose inline events are being read.
struct OpenHeading {
    level: HeadingLevel,
    id: Option<String>,
    classes: Vec<String>,
    attrs: Vec<(String, String)>,
    /// Where its inline events start in the event list.
    first: usize,
    text: String,
    /// A leading `# H1` that becomes the page's title when it has none.
    title_candidate: bool,
}

/// Render one page's Markdown body.
pub fn render(body: &str, opts: &MarkdownOptions) -> Rendered {
    // The hole markers are noncharacters no text needs; written in the body they would open holes of
    // their own. U+FFFD has the same UTF-8 length, so every span into the body stays right.
    let cleaned;
    let body = if body.contains([HOLE_OPEN, HOLE_CLOSE, obsidian::OURS]) {
        cleaned = body.replace([HOLE_OPEN, HOLE_CLOSE, obsidian::OURS], "\u{FFFD}");
        cleaned.as_str()
    } else {
        body
    };
    // `%%comments%%` are blanked out, byte for byte (see `comments`).
    let blanked;
    let (body, comment_ranges) = match comments::strip(body, options()) {
        Some((b, ranges)) => {
            blanked = b;
            (blanked.as_str(), ranges)
        }
        None => (body, Vec::new()),
    };
    let mut r = Rendered::default();
    let mut events: Vec<Event> = Vec::new();
    let mut used_ids: HashMap<String, usize> = HashMap::new();
    let mut section_text = String::new();
    let mut section_id = String::new();
    let mut in_first_para = None::<bool>;
    // Per open blockquote: the closing tag of a callout, `None` for a plain quote.
    let mut callouts: Vec<Option<&'static str>> = Vec::new();
    // How the open paragraph closes when it is not a plain `</p>` (a callout title, a dropped one).
    let mut para_close: Option<&'static str> = None;
    let mut tops = blocks::Tops::default();
    let mut parser = obsidian::Events::new(
        Parser::new_ext(body, options()).into_offset_iter(),
        body,
        opts.base_path,
        comment_ranges,
    );
    let mut seen_block = false;
    let mut heading: Option<OpenHeading> = None;

    while let Some((event, range)) = parser.next() {
        tops.see(&event, events.len());
        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                // The heading's inline events go through the arms below like any others (links in
                // headings are resolved and checked); its opening tag waits for its text, for the id.
                flush_section(&mut r, &mut section_id, &mut section_text);
                heading = Some(OpenHeading {
                    level,
                    id: id.map(|i| i.to_string()),
                    classes: classes.iter().map(|c| c.to_string()).collect(),
                    attrs: attrs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.as_deref().unwrap_or("").to_string()))
                        .collect(),
                    first: events.len(),
                    text: String::new(),
                    title_candidate: opts.take_title
                        && !seen_block
                        && level == HeadingLevel::H1
                        && r.title.is_none(),
                });
                seen_block = true;
            }
            Event::End(TagEnd::Heading(_)) => {
                let Some(h) = heading.take() else {
                    continue;
                };
                let text = h.text.trim().to_string();
                if h.title_candidate {
                    events.truncate(h.first);
                    section_text.clear();
                    r.title = Some(text);
                    continue;
                }
                let base = h.id.unwrap_or_else(|| {
                    let s = slugify(&text);
                    if s.is_empty() {
                        "section".into()
                    } else {
                        s
                    }
                });
                let id = unique_id(&mut used_ids, base);
                section_id = id.clone();
                section_text.push('\n');
                let lvl = h.level as u8;
                let mut open = format!("<h{lvl} id=\"{}\"", escape_attr(&id));
                let class_list: Vec<String> = h.classes.iter().map(|c| escape_attr(c)).collect();
                if !class_list.is_empty() {
                    let _ = write!(open, " class=\"{}\"", class_list.join(" "));
                }
                // `{key=value}` writes any attribute (`onclick=...`): raw HTML, passed only when
                // raw HTML is. The id and classes cannot run anything.
                for (k, v) in h.attrs.iter().filter(|_| opts.raw_html) {
                    let _ = write!(open, " {}=\"{}\"", escape_attr(k), escape_attr(v));
                }
                open.push('>');
                events.insert(h.first, Event::Html(open.into()));
                events.push(Event::Html(
                    format!("<a class=\"anchor\" href=\"#{}\" aria-label=\"Link to this section\">#</a></h{lvl}>\n", escape_attr(&id)).into(),
                ));
                r.headings.push(Heading {
                    level: lvl,
                    id,
                    title: text,
                });
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                seen_block = true;
                let mut code = String::new();
                for (e, _) in parser.by_ref() {
                    match e {
                        Event::End(TagEnd::CodeBlock) => break,
                        Event::Text(t) => code.push_str(&t),
                        _ => {}
                    }
                }
                let lang = match &kind {
                    CodeBlockKind::Fenced(info) => info
                        .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                if lang == "mermaid" {
                    // Its labels are searched, not its source; a diagram that fails is its code.
                    match diagram::render(&code) {
                        Ok(d) => {
                            section_text.push_str(&d.labels);
                            section_text.push('\n');
                            events.push(Event::Html(d.html.into()));
                            continue;
                        }
                        Err(e) => {
                            r.bad_markup
                                .push((Markup::Diagram, e, math::first_line(body, &range)))
                        }
                    }
                } else {
                    section_text.push_str(&code);
                    section_text.push('\n');
                }
                events.push(Event::Html(highlight(&code, &lang, opts.highlight).into()));
            }
            Event::Start(Tag::BlockQuote(_)) => {
                seen_block = true;
                let callout = parser.callout(range.start);
                match &callout {
                    Some(c) => {
                        events.push(Event::Html(c.open().into()));
                        if let Some(title) = &c.default_title {
                            section_text.push_str(title);
                            section_text.push('\n');
                        }
                    }
                    None => events.push(Event::Start(Tag::BlockQuote(None))),
                }
                callouts.push(callout.map(|c| c.close()));
            }
            Event::End(TagEnd::BlockQuote(_)) => match callouts.pop().flatten() {
                Some(close) => events.push(Event::Html(close.into())),
                None => events.push(Event::End(TagEnd::BlockQuote(None))),
            },
            Event::Start(Tag::Link {
                link_type: LinkType::WikiLink { has_pothole },
                dest_url,
                ..
            }) => {
                let defined = parser
                    .inner()
                    .reference_definitions()
                    .get(&dest_url)
                    .filter(|_| !has_pothole)
                    .map(|d| {
                        (
                            d.dest.to_string(),
                            d.title.as_deref().unwrap_or("").to_string(),
                        )
                    });
                if let Some((dest, title)) = defined {
                    // `[[x]]` where `[x]: /url` is defined: CommonMark's `[`, the reference link
                    // `[x]`, `]`. The author who wrote the definition meant it.
                    let dest = if !opts.raw_html && scripted_url(&dest, false) {
                        CowStr::from("#")
                    } else {
                        rewrite_local(&dest, opts, &mut r, &range)
                    };
                    events.push(Event::Text("[".into()));
                    events.push(Event::Start(Tag::Link {
                        link_type: LinkType::Shortcut,
                        dest_url: dest,
                        title: title.into(),
                        id: CowStr::from(""),
                    }));
                    skip_to_end(&mut parser);
                    // The label is inline Markdown of its own (`[[*foo* bar]]`).
                    let label = body
                        .get(range.start + 2..range.end.saturating_sub(2))
                        .unwrap_or("");
                    for e in Parser::new_ext(label, options() - Options::ENABLE_WIKILINKS) {
                        match e {
                            Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {}
                            Event::Text(ref t) | Event::Code(ref t) => {
                                section_text.push_str(t);
                                events.push(e);
                            }
                            other => events.push(raw_policy(other, opts.raw_html)),
                        }
                    }
                    events.push(Event::End(TagEnd::Link));
                    events.push(Event::Text("]".into()));
                    continue;
                }
                let (target, fragment) = split_fragment(unescape_pipe(&dest_url));
                let kind = if file_extension(&target).is_some() {
                    LinkKind::File
                } else {
                    LinkKind::Wiki {
                        has_label: has_pothole,
                    }
                };
                let i = push_link(&mut r, kind, target, fragment, &range);
                let mut open = String::from("<a class=\"wikilink");
                hole(&mut open, 'C', i);
                open.push_str("\" href=\"");
                hole(&mut open, 'H', i);
                open.push_str("\">");
                events.push(Event::InlineHtml(open.into()));
                if !has_pothole {
                    // Label comes from the target's title; drop the raw target text.
                    skip_to_end(&mut parser);
                    let mut label = String::new();
                    hole(&mut label, 'L', i);
                    label.push_str("</a>");
                    events.push(Event::InlineHtml(label.into()));
                    // The plain text gets the same hole (see `fill_text_holes`).
                    hole(&mut section_text, 'L', i);
                }
            }
            Event::Start(Tag::Image {
                link_type: LinkType::WikiLink { has_pothole },
                dest_url,
                ..
            }) => {
                let written = inner_text(&mut parser);
                let (target, fragment) = split_fragment(unescape_pipe(&dest_url));
                let i = r.links.len();
                if let Some(ext) = file_extension(&target) {
                    // `![[img.png|300]]`, `![[img.png|300x200]]`, `![[img.png|alt text]]`.
                    let name = target.rsplit('/').next().unwrap_or(&target).to_string();
                    let label = if has_pothole { written } else { String::new() };
                    let (alt, size) = match label.rsplit_once('|') {
                        Some((alt, size)) if parse_size(size).is_some() => (alt, parse_size(size)),
                        _ if parse_size(&label).is_some() => ("", parse_size(&label)),
                        _ => (label.as_str(), None),
                    };
                    let alt = if alt.is_empty() { name.as_str() } else { alt };
                    let html = embed_html(Media::of(&ext), i, alt, size);
                    section_text.push_str(alt);
                    push_link(&mut r, LinkKind::File, target, fragment, &range);
                    events.push(Event::InlineHtml(html.into()));
                } else {
                    push_link(&mut r, LinkKind::Embed, target, fragment, &range);
                    let mut out = String::new();
                    hole(&mut out, 'E', i);
                    events.push(Event::InlineHtml(out.into()));
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let url: &str = &dest_url;
                let (path, frag) = split_fragment(url);
                if url.starts_with('#') {
                    push_link(&mut r, LinkKind::SelfAnchor, String::new(), frag, &range);
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                } else if link_type == LinkType::Email {
                    // `<someone@example.com>`: an address, never a file; the renderer writes the
                    // `mailto:` itself.
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                } else if let Some((kind, target, suffix)) = local_target(url, opts) {
                    let target = match target {
                        Some(t) => t,
                        None => {
                            r.outside.push((path.clone(), range.clone()));
                            events.push(Event::Start(Tag::Link {
                                link_type,
                                dest_url,
                                title,
                                id,
                            }));
                            continue;
                        }
                    };
                    let fragment = if kind == LinkKind::File { suffix } else { frag };
                    let i = push_link(&mut r, kind, target, fragment, &range);
                    let mut open = String::from("<a href=\"");
                    hole(&mut open, 'H', i);
                    open.push('"');
                    hole(&mut open, 'A', i);
                    if !title.is_empty() {
                        let _ = write!(open, " title=\"{}\"", escape_attr(&title));
                    }
                    open.push('>');
                    events.push(Event::InlineHtml(open.into()));
                    // Inner events render as usual; the closing tag is a plain `</a>`.
                } else {
                    let dest = if !opts.raw_html && scripted_url(url, false) {
                        CowStr::from("#")
                    } else {
                        rewrite_local(url, opts, &mut r, &range)
                    };
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url: dest,
                        title,
                        id,
                    }));
                }
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                if let Some((LinkKind::File, target, suffix)) = local_target(&dest_url, opts) {
                    let written = inner_text(&mut parser);
                    let Some(target) = target else {
                        r.outside.push((dest_url.to_string(), range.clone()));
                        continue;
                    };
                    // `![alt|300](img.png)`: Obsidian's size after the alt text.
                    let (alt, size) = match written.rsplit_once('|') {
                        Some((alt, size)) if parse_size(size).is_some() => (alt, parse_size(size)),
                        _ => (written.as_str(), None),
                    };
                    let i = push_link(&mut r, LinkKind::File, target, suffix, &range);
                    let mut html = embed_html(Media::Image, i, alt, size);
                    if !title.is_empty() {
                        html.insert_str(
                            html.len() - 1,
                            &format!(" title=\"{}\"", escape_attr(&title)),
                        );
                    }
                    section_text.push_str(alt);
                    events.push(Event::InlineHtml(html.into()));
                    continue;
                }
                let dest = if !opts.raw_html && scripted_url(&dest_url, true) {
                    CowStr::from("#")
                } else {
                    rewrite_local(&dest_url, opts, &mut r, &range)
                };
                events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::Paragraph) => {
                if let Some(m) = parser.markup(range.start) {
                    match m {
                        blocks::Markup::Title(open, close) => {
                            events.push(Event::Html(open.into()));
                            para_close = Some(close);
                            continue;
                        }
                        blocks::Markup::Wrap(id) => {
                            tops.wrap(&mut events, &id);
                            para_close = Some("");
                            continue;
                        }
                        blocks::Markup::Skip => {
                            para_close = Some("");
                            continue;
                        }
                        blocks::Markup::Id(id) => {
                            events.push(Event::Html(format!("<p id=\"^{id}\">").into()));
                            para_close = Some("</p>\n");
                        }
                    }
                } else {
                    events.push(Event::Start(Tag::Paragraph));
                }
                if in_first_para.is_none() && callouts.iter().all(Option::is_none) {
                    in_first_para = Some(true);
                }
                seen_block = true;
            }
            Event::End(TagEnd::Paragraph) => {
                if in_first_para == Some(true) {
                    in_first_para = Some(false);
                }
                section_text.push('\n');
                match para_close.take() {
                    Some("") => {}
                    Some(close) => events.push(Event::Html(close.into())),
                    None => events.push(Event::End(TagEnd::Paragraph)),
                }
            }
            Event::Start(Tag::Item) => {
                seen_block = true;
                match parser.markup(range.start) {
                    Some(blocks::Markup::Id(id)) => {
                        events.push(Event::Html(format!("<li id=\"^{id}\">").into()))
                    }
                    _ => events.push(Event::Start(Tag::Item)),
                }
            }
            Event::Text(ref t) | Event::Code(ref t) => {
                section_text.push_str(t);
                if let Some(h) = heading.as_mut() {
                    h.text.push_str(t);
                }
                if in_first_para == Some(true) {
                    r.summary.push_str(t);
                }
                events.push(event);
            }
            Event::SoftBreak | Event::HardBreak => {
                section_text.push(' ');
                if in_first_para == Some(true) {
                    r.summary.push(' ');
                }
                events.push(event);
            }
            Event::End(TagEnd::Item) | Event::End(TagEnd::TableCell) => {
                section_text.push(' ');
                events.push(event);
            }
            Event::Start(Tag::Table(alignments)) => {
                // A wrapper lets a wide table scroll on its own instead of widening the page.
                seen_block = true;
                events.push(Event::Html("<div class=\"table-wrap\">\n".into()));
                events.push(Event::Start(Tag::Table(alignments)));
            }
            Event::End(TagEnd::Table) => {
                events.push(Event::End(TagEnd::Table));
                events.push(Event::Html("</div>\n".into()));
            }
            Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) if !opts.raw_html => {
                // An escaped HTML block reads as a paragraph of text.
                seen_block = true;
                events.push(match event {
                    Event::Start(_) => Event::Start(Tag::Paragraph),
                    _ => Event::End(TagEnd::Paragraph),
                });
            }
            Event::InlineMath(ref tex) | Event::DisplayMath(ref tex) => {
                let display = matches!(event, Event::DisplayMath(_));
                let m = math::render(tex, display);
                if let Some((message, at)) = m.error {
                    let at = math::locate(body, &range, tex, at);
                    r.bad_markup.push((Markup::Math, message, at));
                }
                section_text.push_str(tex);
                section_text.push(' ');
                if in_first_para == Some(true) {
                    r.summary.push_str(tex);
                }
                events.push(Event::InlineHtml(m.html.into()));
            }
            Event::Html(_) | Event::InlineHtml(_) => {
                seen_block = seen_block || matches!(event, Event::Html(_));
                events.push(raw_policy(event, opts.raw_html));
            }
            other => {
                if matches!(other, Event::Start(_)) {
                    seen_block = true;
                }
                events.push(other);
            }
        }
    }
    flush_section(&mut r, &mut section_id, &mut section_text);
    (r.blocks, r.tags) = parser.finish();
    let mut events = tops.finish(events);
    r.words = r
        .sections
        .iter()
        .map(|(_, t)| t.split_whitespace().count())
        .sum();
    r.summary = r.summary.split_whitespace().collect::<Vec<_>>().join(" ");
    r.html.reserve(body.len() * 3 / 2);
    // An embed alone in its paragraph is a block of its own, not inside a `<p>`.
    for k in 1..events.len().saturating_sub(1) {
        let alone = matches!(
            (&events[k - 1], &events[k], &events[k + 1]),
            (Event::Start(Tag::Paragraph), Event::InlineHtml(h), Event::End(TagEnd::Paragraph))
                if h.starts_with(HOLE_OPEN) && h[HOLE_OPEN.len_utf8()..].starts_with('E')
        );
        if alone {
            events[k - 1] = Event::Html("".into());
            events[k + 1] = Event::Html("\n".into());
        }
    }
    // Markdown links to pages close with a plain `</a>`: rewrite their End(Link) events.
    let mut md_link_depth = Vec::new();
    let events = events.into_iter().map(|e| match e {
        Event::InlineHtml(ref h) if h.starts_with("<a href=\"\u{FDD0}") => {
            md_link_depth.push(true);
            e
        }
        Event::Start(Tag::Link { .. }) => {
            md_link_depth.push(false);
            e
        }
        Event::End(TagEnd::Link) => {
            if md_link_depth.pop() == Some(true) {
                Event::InlineHtml("</a>".into())
            } else {
                e
            }
        }
        // Math that the loop above did not see: in headings.
        Event::InlineMath(ref tex) | Event::DisplayMath(ref tex) => {
            let m = math::render(tex, matches!(e, Event::DisplayMath(_)));
            if let Some((message, at)) = m.error {
                let at = math::locate_anywhere(body, tex, at);
                r.bad_markup.push((Markup::Math, message, at));
            }
            Event::InlineHtml(m.html.into())
        }
        other => other,
    });
    pulldown_cmark::html::push_html(&mut r.html, events);
    // Every page's HTML stays in memory until its output is written: keep no spare capacity.
    r.html.shrink_to_fit();
    r
}

/// In a table, a wikilink's `|` is written `\\|` (`[[Note\\|label]]`): the target then ends with
/// the backslash.
fn unescape_pipe(target: &str) -> &str {
    target.strip_suffix('\\').unwrap_or(target)
}

/// Record a link to be resolved by the graph stage; its index names its holes.
fn push_link(
    r: &mut Rendered,
    kind: LinkKind,
    target: String,
    fragment: Option<String>,
    span: &Range<usize>,
) -> usize {
    r.links.push(PageLink {
        kind,
        target,
        fragment,
        span: span.clone(),
    });
    r.links.len() - 1
}

/// Read the events inside a link or image up to its end, keeping their text.
fn inner_text<'a>(parser: &mut impl Iterator<Item = (Event<'a>, Range<usize>)>) -> String {
    let mut text = String::new();
    let mut depth = 0usize;
    for (e, _) in parser.by_ref() {
        match e {
            Event::Start(_) => depth += 1,
            Event::End(_) if depth == 0 => break,
            Event::End(_) => depth -= 1,
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            _ => {}
        }
    }
    text
}

fn skip_to_end<'a>(parser: &mut impl Iterator<Item = (Event<'a>, Range<usize>)>) {
    inner_text(parser);
}

/// The extension of a file name that is not a page (`png` in `img.png`): a short run of ASCII
/// letters and digits, with a letter, after the last dot; `.md` is a page's. `Version 1.2` and
/// `Dr. Who` have none, so they stay names of pages.
fn file_extension(target: &str) -> Option<String> {
    let name = target.rsplit('/').next().unwrap_or(target);
    let (stem, ext) = name.rsplit_once('.')?;
    let ok = !stem.is_empty()
        && (1..=5).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        && ext.bytes().any(|b| b.is_ascii_alphabetic())
        && !ext.eq_ignore_ascii_case("md");
    ok.then(|| ext.to_ascii_lowercase())
}

/// `300` or `300x200`: a width, and maybe a height, in pixels.
fn parse_size(s: &str) -> Option<(u32, Option<u32>)> {
    let s = s.trim();
    let (w, h) = match s.split_once('x') {
        Some((w, h)) => (w, Some(h)),
        None => (s, None),
    };
    let num = |v: &str| {
        (!v.is_empty() && v.len() <= 5 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse().ok())
            .flatten()
    };
    Some((
        num(w)?,
        match h {
            Some(h) => Some(num(h)?),
            None => None,
        },
    ))
}

/// What an embedded file is shown as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Media {
    Image,
    Audio,
    Video,
    Pdf,
    Other,
}

impl Media {
    fn of(ext: &str) -> Media {
        match ext {
            "png" | "jpg" | "jpeg" | "gif" | "bmp" | "svg" | "webp" | "avif" | "ico" => {
                Media::Image
            }
            "mp3" | "wav" | "m4a" | "ogg" | "oga" | "3gp" | "flac" | "opus" => Media::Audio,
            "mp4" | "webm" | "ogv" | "mov" | "mkv" | "m4v" => Media::Video,
            "pdf" => Media::Pdf,
            _ => Media::Other,
        }
    }
}

/// The markup of an embedded file, with the holes of link `i` for its URL (`H`) and a broken mark
/// (`A`).
fn embed_html(media: Media, i: usize, alt: &str, size: Option<(u32, Option<u32>)>) -> String {
    let mut src = String::new();
    hole(&mut src, 'H', i);
    src.push('"');
    hole(&mut src, 'A', i);
    let mut dims = String::new();
    if let Some((w, h)) = size {
        let _ = write!(dims, " width=\"{w}\"");
        if let Some(h) = h {
            let _ = write!(dims, " height=\"{h}\"");
        }
    }
    let alt = escape_attr(alt);
    match media {
        Media::Image => format!("<img src=\"{src} alt=\"{alt}\"{dims} loading=\"lazy\">"),
        Media::Audio => format!("<audio class=\"embed-audio\" controls preload=\"metadata\" src=\"{src} title=\"{alt}\"></audio>"),
        Media::Video => format!("<video class=\"embed-video\" controls preload=\"metadata\" src=\"{src} title=\"{alt}\"{dims}></video>"),
        Media::Pdf => format!("<iframe class=\"embed-pdf\" src=\"{src} title=\"{alt}\"{dims} loading=\"lazy\"></iframe>"),
        Media::Other => format!("<a class=\"embed-file\" href=\"{src}>{alt}</a>"),
    }
}

/// A relative link or image to something in content/: a page (`.md`) or a file (with an
/// extension). The target is `None` when the path climbs out of content/. For a file, the
/// target is the path as written (decoded), and the query and fragment come back as a suffix.
fn local_target(
    url: &str,
    opts: &MarkdownOptions,
) -> Option<(LinkKind, Option<String>, Option<String>)> {
    if url.is_empty() || is_external(url) || url.starts_with('#') || url.starts_with('/') {
        return None;
    }
    if !opts.raw_html && scripted_url(url, true) {
        return None;
    }
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let (path, suffix) = url.split_at(end);
    let decoded = percent_decode(path);
    if path.ends_with(".md") || path.ends_with(".MD") {
        let target = join_path(opts.folder, &decoded).unwrap_or_else(|| format!("../{path}"));
        return Some((LinkKind::Markdown, Some(target), None));
    }
    file_extension(&decoded)?;
    let inside = join_path(opts.folder, &decoded).map(|_| decoded);
    let suffix = (!suffix.is_empty()).then(|| suffix.to_string());
    Some((LinkKind::File, inside, suffix))
}

fn flush_section(r: &mut Rendered, id: &mut String, text: &mut String) {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !t.is_empty() {
        r.sections.push((std::mem::take(id), t));
    }
    id.clear();
    text.clear();
}

fn raw_policy(e: Event, raw_html: bool) -> Event {
    // The renderer's own inline markup (highlights, tags) passes whatever the policy.
    if let Some(ours) = obsidian::take_ours(&e) {
        return ours;
    }
    if raw_html {
        return e;
    }
    match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        other => other,
    }
}

fn split_fragment(url: &str) -> (String, Option<String>) {
    match url.split_once('#') {
        Some((p, f)) => (
            p.trim().to_string(),
            Some(f.trim().to_string()).filter(|f| !f.is_empty()),
        ),
        None => (url.trim().to_string(), None),
    }
}

fn unique_id(used: &mut HashMap<String, usize>, base: String) -> String {
    let n = used.entry(base.clone()).or_insert(0);
    *n += 1;
    if *n == 1 {
        base
    } else {
        let mut candidate = format!("{base}-{}", *n - 1);
        while used.contains_key(&candidate) {
            *used.get_mut(&base).unwrap_or(&mut 0) += 1;
            candidate = format!("{base}-{}", used[&base] - 1);
        }
        used.insert(candidate.clone(), 1);
        candidate
    }
}

/// Root-relative URLs get the base path; relative ones (images beside the page) are made root-relative
/// from the page's folder, since the page itself is served one folder deeper (`tools/doudian/`).
fn rewrite_local<'a>(
    url: &str,
    opts: &MarkdownOptions,
    r: &mut Rendered,
    range: &Range<usize>,
) -> CowStr<'a> {
    if url.is_empty() || is_external(url) || url.starts_with('#') {
        return CowStr::from(url.to_string());
    }
    let (path, frag) = match url.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (url, None),
    };
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let joined = if path.starts_with('/') {
        if join_path("", path).is_none() {
            r.outside.push((path.to_string(), range.clone()));
        }
        path.trim_start_matches('/').to_string()
    } else {
        match join_path(opts.folder, path) {
            Some(j) => j,
            None => {
                r.outside.push((path.to_string(), range.clone()));
                return CowStr::from(url.to_string());
            }
        }
    };
    let mut out = format!("{}{}", opts.base_path, joined);
    if path.ends_with('/') && !out.ends_with('/') {
        out.push('/');
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = frag {
        out.push('#');
        out.push_str(f);
    }
    CowStr::from(out)
}

/// What a hole is filled with: the link's URL and, for wikilinks without a label, the label.
#[derive(Debug, Clone, Default)]
pub struct Fill {
    pub href: String,
    pub label: String,
    /// The link lands nowhere (kept under `broken_links: warn`): it is marked `broken-link`.
    pub broken: bool,
    /// For an embed: the page and the part of it shown in place.
    pub embed: Option<Embed>,
}

/// What an embed (`![[Note#Part]]`) shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Embed {
    pub page: usize,
    pub part: Part,
}

/// The part of a page an embed shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Part {
    Whole,
    /// The section under the heading with this id, the heading included.
    Heading(String),
    /// The block with this id (`^id`, without the `^`).
    Block(String),
}

/// Replace each hole of `html` with what `fill(letter, index)` gives; `None` keeps the hole.
fn replace_holes(
    html: &str,
    mut fill: impl FnMut(char, Option<usize>) -> Option<String>,
) -> String {
    if !html.contains(HOLE_OPEN) {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(start) = rest.find(HOLE_OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + HOLE_OPEN.len_utf8()..];
        let Some((which, index, len)) = parse_hole(after) else {
            out.push(HOLE_OPEN);
            rest = after;
            continue;
        };
        match fill(which, index) {
            Some(s) => out.push_str(&s),
            None => out.push_str(&rest[start..start + HOLE_OPEN.len_utf8() + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Replace the holes left by [`render`] with resolved links. `fills[i]` answers link `i`; a missing
/// entry leaves a `#` link so that a page with a broken link still renders (for `serve`). Embeds
/// left unexpanded (see [`expand_embeds`]) show as broken.
pub fn fill_holes(html: &str, fills: &[Option<Fill>]) -> String {
    replace_holes(html, |which, index| {
        let fill = index.and_then(|i| fills.get(i)).and_then(Option::as_ref);
        Some(match (which, fill) {
            ('H', Some(f)) => escape_attr(&f.href),
            ('H', None) => "#".into(),
            ('C', Some(f)) if !f.broken => String::new(),
            ('C', _) => " broken-link".into(),
            ('A', Some(f)) if !f.broken => String::new(),
            ('A', _) => " class=\"broken-link\"".into(),
            ('E', f) => broken_embed(f.map_or("", |f| f.label.as_str())),
            (_, Some(f)) => escape_html(&f.label),
            (_, None) => "(broken link)".into(),
        })
    })
}

fn broken_embed(label: &str) -> String {
    format!(
        "<p class=\"embed broken-link\">{}</p>\n",
        escape_html(&format!("Cannot embed “{label}”"))
    )
}

/// Replace the embed holes of `html` with what `show` gives for each embed (`fills[i].embed`),
/// keeping every other hole for [`fill_holes`].
pub fn expand_embeds(
    html: &str,
    fills: &[Option<Fill>],
    mut show: impl FnMut(&Fill, &Embed) -> Option<String>,
) -> String {
    replace_holes(html, |which, index| {
        if which != 'E' {
            return None;
        }
        let fill = index.and_then(|i| fills.get(i)).and_then(Option::as_ref);
        Some(match fill {
            Some(f) => match f
                .embed
                .as_ref()
                .filter(|_| !f.broken)
                .and_then(|e| show(f, e))
            {
                Some(html) => html,
                None => broken_embed(&f.label),
            },
            None => broken_embed(""),
        })
    })
}

/// The part of a page's final HTML that an embed shows: all of it, the section under a heading
/// (up to the next heading of the same or a higher level), or the element of a block id.
pub fn part_of(html: &str, part: &Part) -> Option<String> {
    match part {
        Part::Whole => Some(html.to_string()),
        Part::Heading(id) => {
            let needle = format!(" id=\"{}\"", escape_attr(id));
            let mut at = 0;
            let (start, level) = loop {
                let i = at + html[at..].find(&needle)?;
                let open = html[..i].rfind('<')?;
                let tag = &html[open + 1..i];
                if tag.len() == 2 && tag.starts_with('h') {
                    break (open, tag.as_bytes()[1]);
                }
                at = i + needle.len();
            };
            let mut end = html.len();
            let mut from = start + 4;
            while let Some(j) = html[from..].find("<h") {
                let k = from + j;
                let b = html.as_bytes();
                if k + 3 < b.len() && (b'1'..=level).contains(&b[k + 2]) && b[k + 3] == b' ' {
                    end = k;
                    break;
                }
                from = k + 2;
            }
            Some(html[start..end].to_string())
        }
        Part::Block(id) => {
            let needle = format!(" id=\"^{}\"", escape_attr(id));
            let i = html.find(&needle)?;
            let open = html[..i].rfind('<')?;
            let tag = &html[open + 1..i];
            if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return None;
            }
            let (opener, closer) = (format!("<{tag}"), format!("</{tag}>"));
            let mut depth = 0usize;
            let mut at = open;
            loop {
                let next_open = html[at + 1..].find(&opener).map(|j| at + 1 + j);
                let next_close = html[at + 1..].find(&closer).map(|j| at + 1 + j)?;
                match next_open {
                    Some(o) if o < next_close => {
                        let after = html.as_bytes().get(o + opener.len());
                        if matches!(after, Some(b' ' | b'>')) {
                            depth += 1;
                        }
                        at = o;
                    }
                    _ if depth == 0 => {
                        return Some(html[open..next_close + closer.len()].to_string())
                    }
                    _ => {
                        depth -= 1;
                        at = next_close;
                    }
                }
            }
        }
    }
}

/// The link indices of the embed holes in `html`, in order.
pub fn embed_holes(html: &str) -> Vec<usize> {
    let mut found = Vec::new();
    replace_holes(html, |which, index| {
        if let (Some(i), 'E') = (index, which) {
            found.push(i);
        }
        None
    });
    found
}

/// Fill the holes of plain text ([`Rendered::sections`]): link labels become the targets' titles,
/// as text (no escaping); a broken link's label is left out.
pub fn fill_text_holes(text: &str, fills: &[Option<Fill>]) -> String {
    replace_holes(text, |which, index| {
        let fill = index.and_then(|i| fills.get(i)).and_then(Option::as_ref);
        Some(match (fill, which) {
            (Some(f), 'L') if !f.broken => f.label.clone(),
            _ => String::new(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`opts`] with raw HTML escaped.
    fn escaped() -> MarkdownOptions<'static> {
        MarkdownOptions {
            raw_html: false,
            ..opts()
        }
    }

    fn opts() -> MarkdownOptions<'static> {
        MarkdownOptions {
            raw_html: true,
            highlight: true,
            take_title: false,
            base_path: "/",
            folder: "tools",
        }
    }

    #[test]
    fn heading_ids_are_unique_and_anchored() {
        let r = render("## Setup\n\n## Setup\n\n## Setup-1\n", &opts());
        let ids: Vec<&str> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["setup", "setup-1", "setup-1-1"]);
        assert!(
            r.html
                .contains("<h2 id=\"setup-1\">Setup<a class=\"anchor\" href=\"#setup-1\""),
            "{}",
            r.html
        );
    }

    #[test]
    fn wikilinks_leave_holes_then_fill() {
        let r = render(
            "See [[doudian#after-sales]] and [[qianchuan|the ads tool]].",
            &opts(),
        );
        assert_eq!(r.links.len(), 2);
        assert_eq!(r.links[0].target, "doudian");
        assert_eq!(r.links[0].fragment.as_deref(), Some("after-sales"));
        let fills = vec![
            Some(Fill {
                href: "/tools/doudian/#after-sales".into(),
                label: "Doudian <store>".into(),
                ..Fill::default()
            }),
            Some(Fill {
                href: "/tools/qianchuan/".into(),
                label: "ignored".into(),
                ..Fill::default()
            }),
        ];
        let html = fill_holes(&r.html, &fills);
        assert!(html.contains("<a class=\"wikilink\" href=\"/tools/doudian/#after-sales\">Doudian &lt;store&gt;</a>"), "{html}");
        assert!(
            html.contains("href=\"/tools/qianchuan/\">the ads tool</a>"),
            "{html}"
        );
    }

    #[test]
    fn md_links_and_assets_are_rewritten() {
        let o = MarkdownOptions {
            base_path: "/kb/",
            ..opts()
        };
        let r = render(
            "[a](../roles/anchor.md#x) ![i](img/a.png) [ext](https://x.org) [abs](/tags/)",
            &o,
        );
        assert_eq!(r.links[0].target, "roles/anchor.md");
        assert_eq!(r.links[1].kind, LinkKind::File);
        assert_eq!(r.links[1].target, "img/a.png");
        assert!(r.html.contains("href=\"https://x.org\""));
        assert!(r.html.contains("href=\"/kb/tags/\""));
    }

    #[test]
    fn callouts_code_and_raw_html() {
        let r = render(
            "> [!WARNING]\n> Careful.\n\n```rust\nfn main() {}\n```\n\n```nosuchlang\n<x>\n```\n",
            &opts(),
        );
        assert!(
            r.html.contains("<aside class=\"callout callout-warning\""),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("hl-keyword") || r.html.contains("hl-storage"),
            "{}",
            r.html
        );
        assert!(r.html.contains("&lt;x&gt;"));
        let o = escaped();
        let r = render("<script>alert(1)</script>\n", &o);
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert_eq!(r.html, "<p>&lt;script&gt;alert(1)&lt;/script&gt;\n</p>\n");
        let r = render("Some <b onclick=\"x()\">bold</b>.\n", &o);
        assert_eq!(
            r.html,
            "<p>Some &lt;b onclick=\"x()\"&gt;bold&lt;/b&gt;.</p>\n"
        );
    }

    #[test]
    fn title_from_h1_and_summary() {
        let o = MarkdownOptions {
            take_title: true,
            ..opts()
        };
        let r = render("# Hello *world*\n\nFirst para\nhere.\n\nSecond.", &o);
        assert_eq!(r.title.as_deref(), Some("Hello world"));
        assert_eq!(r.summary, "First para here.");
        assert!(!r.html.contains("<h1"));
    }

    #[test]
    fn plain_text_gets_wikilink_titles_through_holes() {
        let r = render("See [[doudian]] and [[x|the label]].\n", &opts());
        let fills = vec![
            Some(Fill {
                href: "/tools/doudian/".into(),
                label: "Doudian & co".into(),
                ..Fill::default()
            }),
            Some(Fill {
                href: "/x/".into(),
                label: "X".into(),
                ..Fill::default()
            }),
        ];
        assert_eq!(
            fill_text_holes(&r.sections[0].1, &fills),
            "See Doudian & co and the label."
        );
        assert_eq!(
            fill_text_holes(&r.sections[0].1, &[]),
            "See  and the label."
        );
    }

    #[test]
    fn forged_hole_markers_cannot_inject_attributes() {
        // The hole markers written by an author, or as `&#xFDD0;` references, once made `fill_holes`
        // drop everything up to the next close marker: here the end of the `title` attribute, so
        // that the text after it became an `onmouseover` attribute, with raw HTML off.
        let o = escaped();
        for body in [
            "[x](u \"\u{FDD0}\") and \u{FDD1}\" onmouseover=\"alert(1)\n",
            "[x](u \"&#xFDD0;\") and &#xFDD1;\" onmouseover=\"alert(1)\n",
            "## T {#\u{FDD0}}\n\n\u{FDD1}\" onmouseover=\"alert(1)\n",
        ] {
            let r = render(body, &o);
            for html in [fill_holes(&r.html, &[]), fill_holes(&r.html, &[None])] {
                // The link closes before the text starts: nothing of the text is inside a tag.
                let closed = html.find("</a>").unwrap_or(usize::MAX);
                let text = html.find("onmouseover").unwrap_or(0);
                assert!(closed < text, "{body:?} gave {html}");
            }
            for (_, t) in &r.sections {
                assert!(fill_text_holes(t, &[]).contains("onmouseover"), "{t:?}");
            }
        }
        // Real holes still fill, beside forged ones.
        let r = render("[[a]] &#xFDD0;L0&#xFDD1; &#xFDD0;L0\n", &o);
        let fill = Fill {
            href: "/a/".into(),
            label: "A".into(),
            ..Fill::default()
        };
        let html = fill_holes(&r.html, &[Some(fill)]);
        assert!(html.contains("href=\"/a/\">A</a>"), "{html}");
        assert!(html.contains("\u{FDD0}L0"), "{html}");
    }

    #[test]
    fn heading_attributes_are_raw_html() {
        let body = "## Hi {#top .big onclick=alert(1)}\n";
        let r = render(body, &opts());
        assert!(
            r.html
                .contains("<h2 id=\"top\" class=\"big\" onclick=\"alert(1)\">"),
            "{}",
            r.html
        );
        let o = escaped();
        let r = render(body, &o);
        assert!(
            r.html.contains("<h2 id=\"top\" class=\"big\">"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("onclick"), "{}", r.html);
    }

    #[test]
    fn scripted_links_are_raw_html() {
        let body =
            "[a](javascript:alert(1)) [b](JavaScript:x) <javascript:y> [c](java%0Ascript:z) \
                    [d](data:text/html,x) ![e](data:image/png;base64,AA) ![f](data:text/html,x) \
                    [g](https://example.org/)\n";
        let r = render(body, &opts());
        assert!(
            r.html.contains("href=\"javascript:alert(1)\""),
            "{}",
            r.html
        );
        let o = escaped();
        let r = render(body, &o);
        let lower = r.html.to_ascii_lowercase();
        assert!(!lower.contains("=\"javascript:"), "{}", r.html);
        assert!(!lower.contains("=\"data:text"), "{}", r.html);
        assert!(
            r.html.contains("src=\"data:image/png;base64,AA\""),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("href=\"https://example.org/\""),
            "{}",
            r.html
        );
        assert_eq!(r.html.matches("href=\"#\"").count(), 4, "{}", r.html);
    }

    #[test]
    fn paths_cannot_climb_out() {
        assert_eq!(join_path("a/b", "../c.md").as_deref(), Some("a/c.md"));
        assert_eq!(join_path("a", "../../etc/passwd"), None);
    }
}
