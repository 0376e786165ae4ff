//! Serve against build: a small site is changed by a seeded random sequence of edits while
//! `fieldbook serve` follows it, and at checkpoints every file of `fieldbook build` on the same folder
//! must be served at its URL with the same bytes (the injected reload script taken out exactly), and
//! every file serve had before that the build no longer makes must be a 404.
//!
//! The site has typed kinds with `ref` and `refs` fields, a learning path (`sequence`), two matrix
//! views (with and without `via`), tags in front matter and inline, wikilinks of every form (plain,
//! labelled, to a heading, embeds), aliases (names and old URLs), section `_index.md` pages, pages
//! outside any kind and a static file. The edits are kept valid by a model of the site held here
//! (no link or reference to a page that is gone, no link to a heading that was renamed), so every
//! rebuild succeeds; each edit changes exactly one file, with one write, removal or rename.
//!
//! After each edit the test waits until `/__fieldbook/status` counts one more applied change set,
//! then checks what that edit must show at once (see [`sees`]: the new text, title or heading, the
//! backlinks of the pages it points at, new and gone URLs, alias redirects, tag pages, a template's
//! mark, the stylesheet), so that a stale page that a later rebuild would repair is caught at its
//! step. Every 25 edits and after the last it waits until serve is settled, runs `fieldbook build -o`
//! and compares every file; half of these checkpoints come right after a page-only edit, so that
//! the search index's catching up is compared too.
//!
//! The seed is fixed (`DEFAULT_SEED`) and printed; `FIELDBOOK_CONSISTENCY_SEED=N` runs or replays
//! another. A failure names the seed, the step, the edits that led there, the file and the first
//! difference. `FIELDBOOK_CONSISTENCY_EDITS` and `FIELDBOOK_CONSISTENCY_EVERY` make longer or
//! denser runs by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::Server;
use crate::support::tree;

/// Edits in one run (`FIELDBOOK_CONSISTENCY_EDITS` changes it, for longer runs by hand).
const EDITS: usize = 200;
/// A full comparison after this many edits, and always after the last
/// (`FIELDBOOK_CONSISTENCY_EVERY` changes it: 1 compares after every edit).
const CHECK_EVERY: usize = 25;
/// How long serve may take to apply one edit.
const EDIT_WAIT: Duration = Duration::from_secs(30);
/// What `serve` adds to HTML pages (src/serve/reload.rs), and to its 404 page.
const RELOAD_TAG: &str = "<script src=\"/__fieldbook/reload.js\"></script>";
const RELOAD_TAG_404: &str = "<script src=\"/__fieldbook/reload.js\" data-status=\"404\"></script>";
/// Tags, in front matter and inline.
const TAGS: [&str; 8] = [
    "amber", "teal", "coral", "slate", "olive", "ivory", "plum", "sand",
];
/// Words for text, titles and headings.
const WORDS: [&str; 24] = [
    "river", "stone", "market", "signal", "harbor", "lantern", "meadow", "orbit", "ledger",
    "canvas", "pivot", "summit", "beacon", "copper", "willow", "thread", "anchor", "prism",
    "quarry", "velvet", "ember", "glacier", "tundra", "mosaic",
];
/// The theme templates an edit may override in the site's templates/.
const TEMPLATES: [&str; 3] = ["page.html", "section.html", "base.html"];

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn word(&mut self) -> &'static str {
        WORDS[self.below(WORDS.len())]
    }

    /// A sentence of `n` words.
    fn sentence(&mut self, n: usize) -> String {
        let words: Vec<&str> = (0..n).map(|_| self.word()).collect();
        let s = words.join(" ");
        let mut c = s.chars();
        let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or('X');
        format!("{first}{}.", c.as_str())
    }

    /// Up to `max` distinct items of `from`.
    fn subset(&mut self, from: &[String], min: usize, max: usize) -> Vec<String> {
        let mut pool = from.to_vec();
        let want = (min + self.below(max - min + 1)).min(pool.len());
        let mut out = Vec::new();
        while out.len() < want {
            out.push(pool.remove(self.below(pool.len())));
        }
        out
    }
}

/// The kinds of page of the site (notes are outside any kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Tool,
    Position,
    Playbook,
    Path,
    Note,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Tool,
        Kind::Position,
        Kind::Playbook,
        Kind::Path,
        Kind::Note,
    ];

    /// The start of the ids of its pages.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Tool => "tool",
            Kind::Position => "pos",
            Kind::Playbook => "play",
            Kind::Path => "path",
            Kind::Note => "note",
        }
    }

    /// Its folder under content/.
    fn folder(self) -> &'static str {
        match self {
            Kind::Tool => "tools",
            Kind::Position => "positions",
            Kind::Playbook => "playbooks",
            Kind::Path => "paths",
            Kind::Note => "notes",
        }
    }
}

/// A wikilink in a page's body.
#[derive(Clone, Debug, PartialEq)]
enum Link {
    /// `[[id]]`
    Plain(String),
    /// `[[id|label]]`
    Label(String, String),
    /// `[[id#Heading text]]`
    Heading(String, String),
    /// `![[id]]`
    Embed(String),
}

impl Link {
    fn target(&self) -> &str {
        match self {
            Link::Plain(t) | Link::Label(t, _) | Link::Heading(t, _) | Link::Embed(t) => t,
        }
    }

    fn markdown(&self) -> String {
        match self {
            Link::Plain(t) => format!("[[{t}]]"),
            Link::Label(t, l) => format!("[[{t}|{l}]]"),
            Link::Heading(t, h) => format!("[[{t}#{h}]]"),
            Link::Embed(t) => format!("![[{t}]]"),
        }
    }
}

/// One page of the model.
#[derive(Clone, Debug)]
struct Page {
    kind: Kind,
    id: String,
    /// Its folder under content/ (empty for the top).
    folder: String,
    title: String,
    description: Option<String>,
    tags: Vec<String>,
    aliases: Vec<String>,
    /// Tool: `category` (enum), `vendor` (string), `positions` (refs).
    category: &'static str,
    vendor: String,
    /// Position: `letter` (string).
    letter: String,
    /// Tool and playbook: `positions` (refs; required for playbooks).
    positions: Vec<String>,
    /// Playbook: `tools` (refs), `owner` (ref), `level` (enum).
    tools: Vec<String>,
    owner: Option<String>,
    level: &'static str,
    /// Path: `audience` (string) and `steps` (its sequence: page and why).
    audience: String,
    steps: Vec<(String, String)>,
    /// The first paragraph (the page's summary).
    intro: String,
    /// `## heading` and its text.
    sections: Vec<(String, String)>,
    links: Vec<Link>,
    inline_tags: Vec<String>,
}

impl Page {
    /// Its file, relative to the site's folder.
    fn file(&self) -> String {
        if self.folder.is_empty() {
            format!("content/{}.md", self.id)
        } else {
            format!("content/{}/{}.md", self.folder, self.id)
        }
    }

    /// Where `build` writes it.
    fn output(&self) -> String {
        if self.folder.is_empty() {
            format!("{}/index.html", self.id)
        } else {
            format!("{}/{}/index.html", self.folder, self.id)
        }
    }

    /// What `build` may write for it: the page, its alias redirects, its tags' pages.
    fn outputs(&self) -> Vec<String> {
        let mut out = vec![self.output()];
        for a in &self.aliases {
            out.push(match a.strip_prefix('/') {
                Some(path) => format!("{path}index.html"),
                None => {
                    let slug = a.to_lowercase().replace(' ', "-");
                    match self.folder.as_str() {
                        "" => format!("{slug}/index.html"),
                        f => format!("{f}/{slug}/index.html"),
                    }
                }
            });
        }
        for t in self.tags.iter().chain(&self.inline_tags) {
            out.push(format!("tags/{t}/index.html"));
        }
        out
    }

    /// Every page id this page points at: fields and links.
    fn refs(&self) -> impl Iterator<Item = &str> {
        self.positions
            .iter()
            .chain(&self.tools)
            .chain(&self.owner)
            .map(String::as_str)
            .chain(self.steps.iter().map(|(p, _)| p.as_str()))
            .chain(self.links.iter().map(Link::target))
    }

    fn markdown(&self) -> String {
        let list = |items: &[String]| format!("[{}]", items.join(", "));
        let mut fm = format!("title: \"{}\"\n", self.title);
        if let Some(d) = &self.description {
            fm += &format!("description: \"{d}\"\n");
        }
        if !self.tags.is_empty() {
            fm += &format!("tags: {}\n", list(&self.tags));
        }
        if !self.aliases.is_empty() {
            let quoted: Vec<String> = self.aliases.iter().map(|a| format!("\"{a}\"")).collect();
            fm += &format!("aliases: {}\n", list(&quoted));
        }
        match self.kind {
            Kind::Tool => {
                fm += &format!("category: {}\nvendor: \"{}\"\n", self.category, self.vendor);
                if !self.positions.is_empty() {
                    fm += &format!("positions: {}\n", list(&self.positions));
                }
            }
            Kind::Position => fm += &format!("letter: \"{}\"\n", self.letter),
            Kind::Playbook => {
                fm += &format!(
                    "positions: {}\nlevel: {}\n",
                    list(&self.positions),
                    self.level
                );
                if !self.tools.is_empty() {
                    fm += &format!("tools: {}\n", list(&self.tools));
                }
                if let Some(o) = &self.owner {
                    fm += &format!("owner: {o}\n");
                }
            }
            Kind::Path => {
                fm += &format!("audience: \"{}\"\nsteps:\n", self.audience);
                for (page, why) in &self.steps {
                    fm += &format!("  - page: {page}\n    why: \"{why}\"\n");
                }
            }
            Kind::Note => {}
        }
        let mut body = format!("{}\n", self.intro);
        for (heading, text) in &self.sections {
            body += &format!("\n## {heading}\n\n{text}\n");
        }
        let (embeds, links): (Vec<&Link>, Vec<&Link>) =
            self.links.iter().partition(|l| matches!(l, Link::Embed(_)));
        if !links.is_empty() {
            let md: Vec<String> = links.iter().map(|l| l.markdown()).collect();
            body += &format!("\nRelated: {}.\n", md.join(", "));
        }
        for e in embeds {
            body += &format!("\n{}\n", e.markdown());
        }
        if !self.inline_tags.is_empty() {
            let tags: Vec<String> = self.inline_tags.iter().map(|t| format!("#{t}")).collect();
            body += &format!("\nFiled under {}.\n", tags.join(" "));
        }
        format!("---\n{fm}---\n\n{body}")
    }
}

/// What an edit was, for the report of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum EditKind {
    Body,
    Title,
    Field,
    Tag,
    Link,
    Heading,
    NewPage,
    DeletePage,
    RenamePage,
    Alias,
    Template,
    SiteYaml,
    Static,
}

/// How often each kind of edit is drawn (out of the sum).
const WEIGHTS: [(EditKind, usize); 13] = [
    (EditKind::Body, 14),
    (EditKind::Title, 8),
    (EditKind::Field, 14),
    (EditKind::Tag, 9),
    (EditKind::Link, 14),
    (EditKind::Heading, 6),
    (EditKind::NewPage, 8),
    (EditKind::DeletePage, 6),
    (EditKind::RenamePage, 5),
    (EditKind::Alias, 5),
    (EditKind::Template, 4),
    (EditKind::SiteYaml, 4),
    (EditKind::Static, 3),
];

/// The whole site as the test knows it; [`Model::files`] is what must be on disk.
#[derive(Clone)]
struct Model {
    title: String,
    description: String,
    pages: Vec<Page>,
    /// Section pages by file: title and text.
    indexes: BTreeMap<String, (String, String)>,
    /// Overridden theme templates and the mark each carries.
    templates: BTreeMap<&'static str, u64>,
    /// What the static stylesheet says.
    css: u64,
    /// For fresh ids, headings, aliases.
    counter: u64,
    /// Pages deleted, which a new page may bring back under the same id.
    deleted: Vec<(Kind, String)>,
}

/// The theme's text of a template, with a mark in it: after the content block opens, or before the
/// footer closes in base.html.
fn template_text(name: &str, mark: u64) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("themes/default/templates")
        .join(name);
    let theme = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let stem = name.trim_end_matches(".html");
    let html = format!("<p class=\"consistency-edit-{stem}\">template edit {mark}</p>\n");
    let (anchor, before) = if name == "base.html" {
        ("</footer>", true)
    } else {
        ("{% block content %}", false)
    };
    let at = theme
        .find(anchor)
        .unwrap_or_else(|| panic!("{} has no `{anchor}` to mark", path.display()));
    let at = if before { at } else { at + anchor.len() };
    format!("{}\n{html}{}", &theme[..at], &theme[at..])
}

impl Model {
    fn fresh(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn ids(&self, kind: Option<Kind>) -> Vec<String> {
        self.pages
            .iter()
            .filter(|p| kind.is_none_or(|k| p.kind == k))
            .map(|p| p.id.clone())
            .collect()
    }

    fn page(&self, id: &str) -> &Page {
        self.pages
            .iter()
            .find(|p| p.id == id)
            .expect("a page of the model")
    }

    /// Whether any other page points at `id`.
    fn referenced(&self, id: &str) -> bool {
        self.pages
            .iter()
            .any(|p| p.id != id && p.refs().any(|r| r == id))
    }

    /// Whether some page links to heading `heading` of page `id`.
    fn heading_linked(&self, id: &str, heading: &str) -> bool {
        self.pages.iter().any(|p| {
            p.links
                .iter()
                .any(|l| matches!(l, Link::Heading(t, h) if t == id && h == heading))
        })
    }

    fn site_yaml(&self) -> String {
        format!(
            "title: \"{}\"\ndescription: \"{}\"\nbase_url: /\n{}",
            self.title, self.description, KINDS
        )
    }

    /// Every source file of the site and its text.
    fn files(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert("site.yaml".to_string(), self.site_yaml());
        for p in &self.pages {
            out.insert(p.file(), p.markdown());
        }
        for (file, (title, text)) in &self.indexes {
            out.insert(
                file.clone(),
                format!("---\ntitle: {title}\n---\n\n{text}\n"),
            );
        }
        for (name, mark) in &self.templates {
            out.insert(format!("templates/{name}"), template_text(name, *mark));
        }
        out.insert(
            "static/extra.css".to_string(),
            format!(
                ".consistency {{ color: rgb({}, 40, 90); }}\n",
                self.css % 256
            ),
        );
        out
    }

    /// A new page of `kind` with id `id`, its fields and links drawn among the pages there are.
    fn new_page(&mut self, rng: &mut Rng, kind: Kind, id: String) -> Page {
        let n = self.fresh();
        let positions = self.ids(Some(Kind::Position));
        let tools = self.ids(Some(Kind::Tool));
        let others: Vec<String> = self
            .pages
            .iter()
            .filter(|p| p.kind != Kind::Path)
            .map(|p| p.id.clone())
            .collect();
        let sections = (0..1 + rng.below(2))
            .map(|_| {
                let h = format!("{} {}", capital(rng.word()), self.fresh());
                (h, rng.sentence(8))
            })
            .collect();
        let mut page = Page {
            kind,
            id,
            folder: kind.folder().to_string(),
            title: format!("{} {} {n}", capital(rng.word()), rng.word()),
            description: rng.chance(50).then(|| rng.sentence(5)),
            tags: rng.subset(&TAGS.map(String::from), 0, 2),
            aliases: Vec::new(),
            category: "store",
            vendor: String::new(),
            letter: String::new(),
            positions: Vec::new(),
            tools: Vec::new(),
            owner: None,
            level: "intermediate",
            audience: String::new(),
            steps: Vec::new(),
            intro: rng.sentence(10),
            sections,
            links: Vec::new(),
            inline_tags: Vec::new(),
        };
        match kind {
            Kind::Tool => {
                page.category = *rng.pick(&["store", "ads", "data"]);
                page.vendor = capital(rng.word());
                page.positions = rng.subset(&positions, 0, 2);
            }
            Kind::Position => page.letter = rng.pick(&["F", "A", "C", "T"]).to_string(),
            Kind::Playbook => {
                page.positions = rng.subset(&positions, 1, 2);
                page.tools = rng.subset(&tools, 0, 2);
                page.owner = rng.chance(60).then(|| rng.pick(&positions).clone());
                page.level = *rng.pick(&["beginner", "intermediate", "advanced"]);
            }
            Kind::Path => {
                page.audience = rng.sentence(3);
                page.steps = rng
                    .subset(&others, 1, 3)
                    .into_iter()
                    .map(|p| (p, rng.sentence(4)))
                    .collect();
            }
            Kind::Note => {}
        }
        let all = self.ids(None);
        for t in rng.subset(&all, 0, 2) {
            page.links.push(if rng.chance(50) {
                Link::Plain(t)
            } else {
                Link::Label(t, rng.sentence(2).trim_end_matches('.').to_string())
            });
        }
        page
    }

    /// The site every run starts from (the same whatever the seed): 20 pages and 3 section pages.
    fn initial() -> Model {
        let mut rng = Rng(7);
        let mut m = Model {
            title: "Consistency book".into(),
            description: "A site that changes under serve.".into(),
            pages: Vec::new(),
            indexes: BTreeMap::new(),
            templates: BTreeMap::new(),
            css: 1,
            counter: 0,
            deleted: Vec::new(),
        };
        for (kind, count) in [
            (Kind::Position, 4),
            (Kind::Tool, 5),
            (Kind::Playbook, 6),
            (Kind::Path, 2),
            (Kind::Note, 3),
        ] {
            for k in 1..=count {
                let id = format!("{}-{k}", kind.prefix());
                let page = m.new_page(&mut rng, kind, id);
                m.pages.push(page);
            }
        }
        // A note at the top of content/, outside any folder.
        let last = m.pages.len() - 1;
        m.pages[last].folder = String::new();
        // Every form of link, an alias of each sort and inline tags, from the start.
        let heading = m.page("tool-2").sections[0].0.clone();
        let note = m
            .pages
            .iter_mut()
            .find(|p| p.id == "note-1")
            .expect("note-1");
        note.links = vec![
            Link::Embed("tool-1".into()),
            Link::Heading("tool-2".into(), heading),
            Link::Label("play-1".into(), "the first playbook".into()),
            Link::Plain("pos-1".into()),
        ];
        note.inline_tags = vec!["amber".into()];
        let tool = m
            .pages
            .iter_mut()
            .find(|p| p.id == "tool-3")
            .expect("tool-3");
        tool.aliases = vec!["Also known as 1".into(), "/old/tool-three/".into()];
        tool.inline_tags = vec!["teal".into(), "amber".into()];
        m.indexes.insert(
            "content/_index.md".into(),
            ("Home".into(), "Welcome to the book.".into()),
        );
        m.indexes.insert(
            "content/playbooks/_index.md".into(),
            ("Playbooks".into(), "How things get done.".into()),
        );
        m.indexes.insert(
            "content/notes/_index.md".into(),
            ("Notes".into(), "Loose notes.".into()),
        );
        m
    }

    /// Apply one random edit to the model. Returns what it was, in words, and the rename it makes
    /// (from, to), if it is one.
    fn edit(&mut self, rng: &mut Rng) -> (EditKind, String, Option<(String, String)>) {
        let total: usize = WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut at = rng.below(total);
        let mut kind = EditKind::Body;
        for (k, w) in WEIGHTS {
            if at < w {
                kind = k;
                break;
            }
            at -= w;
        }
        let tried = match kind {
            EditKind::Body => Some(self.edit_body(rng)),
            EditKind::Title => Some(self.edit_title(rng)),
            EditKind::Field => Some(self.edit_field(rng)),
            EditKind::Tag => Some(self.edit_tag(rng)),
            EditKind::Link => Some(self.edit_link(rng)),
            EditKind::Heading => Some(self.edit_heading(rng)),
            EditKind::NewPage => Some(self.add_page(rng)),
            EditKind::DeletePage => self.delete_page(rng),
            EditKind::RenamePage => {
                return match self.rename_page(rng) {
                    Some((what, from, to)) => (kind, what, Some((from, to))),
                    None => (EditKind::Body, self.edit_body(rng), None),
                }
            }
            EditKind::Alias => Some(self.edit_alias(rng)),
            EditKind::Template => Some(self.edit_template(rng)),
            EditKind::SiteYaml => Some(self.edit_site(rng)),
            EditKind::Static => {
                self.css = self.fresh();
                Some("static/extra.css: new colour".to_string())
            }
        };
        match tried {
            Some(what) => (kind, what, None),
            // Nothing could be deleted: edit some text instead.
            None => (EditKind::Body, self.edit_body(rng), None),
        }
    }

    fn random_page(&mut self, rng: &mut Rng) -> usize {
        rng.below(self.pages.len())
    }

    fn edit_body(&mut self, rng: &mut Rng) -> String {
        if rng.chance(15) {
            let files: Vec<String> = self.indexes.keys().cloned().collect();
            let file = rng.pick(&files).clone();
            let text = rng.sentence(9);
            self.indexes.get_mut(&file).expect("index").1 = text;
            return format!("{file}: new text");
        }
        let i = self.random_page(rng);
        let p = &mut self.pages[i];
        if p.sections.is_empty() || rng.chance(40) {
            p.intro = rng.sentence(10);
            format!("{}: new first paragraph (the summary)", p.file())
        } else {
            let s = rng.below(p.sections.len());
            p.sections[s].1 = rng.sentence(9);
            format!("{}: new text under `{}`", p.file(), p.sections[s].0)
        }
    }

    /// New text under a heading of some page: what the rest of the site sees of the page stays the
    /// same (its summary, headings, links), so `serve` re-renders that page alone.
    fn edit_section_text(&mut self, rng: &mut Rng) -> String {
        let i = self.random_page(rng);
        let p = &mut self.pages[i];
        let s = rng.below(p.sections.len());
        p.sections[s].1 = rng.sentence(9);
        format!("{}: new text under `{}`", p.file(), p.sections[s].0)
    }

    fn edit_title(&mut self, rng: &mut Rng) -> String {
        let i = self.random_page(rng);
        let n = self.fresh();
        let p = &mut self.pages[i];
        p.title = format!("{} {} {n}", capital(rng.word()), rng.word());
        format!("{}: title `{}`", p.file(), p.title)
    }

    fn edit_field(&mut self, rng: &mut Rng) -> String {
        let i = self.random_page(rng);
        let positions = self.ids(Some(Kind::Position));
        let tools = self.ids(Some(Kind::Tool));
        let step_targets: Vec<String> = self
            .pages
            .iter()
            .filter(|p| p.kind != Kind::Path)
            .map(|p| p.id.clone())
            .collect();
        let p = &mut self.pages[i];
        let file = p.file();
        match p.kind {
            Kind::Tool => match rng.below(3) {
                0 => {
                    p.category = *rng.pick(&["store", "ads", "data"]);
                    format!("{file}: category {}", p.category)
                }
                1 => {
                    p.vendor = format!("{} {}", capital(rng.word()), rng.word());
                    format!("{file}: vendor `{}`", p.vendor)
                }
                _ => {
                    p.positions = rng.subset(&positions, 0, 3);
                    format!("{file}: positions {:?}", p.positions)
                }
            },
            Kind::Position => {
                p.letter = rng.pick(&["F", "A", "C", "T", "+"]).to_string();
                format!("{file}: letter {}", p.letter)
            }
            Kind::Playbook => match rng.below(4) {
                0 => {
                    p.owner = rng.chance(80).then(|| rng.pick(&positions).clone());
                    format!("{file}: owner {:?}", p.owner)
                }
                1 => {
                    p.tools = rng.subset(&tools, 0, 3);
                    format!("{file}: tools {:?}", p.tools)
                }
                2 => {
                    p.level = *rng.pick(&["beginner", "intermediate", "advanced"]);
                    format!("{file}: level {}", p.level)
                }
                _ => {
                    p.positions = rng.subset(&positions, 1, 3);
                    format!("{file}: positions {:?}", p.positions)
                }
            },
            Kind::Path => {
                let free: Vec<String> = step_targets
                    .iter()
                    .filter(|t| !p.steps.iter().any(|(s, _)| s == *t))
                    .cloned()
                    .collect();
                match rng.below(4) {
                    0 => {
                        p.audience = rng.sentence(3);
                        format!("{file}: audience `{}`", p.audience)
                    }
                    1 if p.steps.len() > 1 => {
                        let s = p.steps.remove(rng.below(p.steps.len()));
                        format!("{file}: step {} removed", s.0)
                    }
                    2 if !free.is_empty() => {
                        let t = rng.pick(&free).clone();
                        let at = rng.below(p.steps.len() + 1);
                        p.steps.insert(at, (t.clone(), rng.sentence(4)));
                        format!("{file}: step {t} added at {at}")
                    }
                    _ if !free.is_empty() => {
                        let t = rng.pick(&free).clone();
                        let s = rng.below(p.steps.len());
                        let old = std::mem::replace(&mut p.steps[s].0, t.clone());
                        format!("{file}: step {s} now {t} (was {old})")
                    }
                    _ => {
                        p.audience = rng.sentence(3);
                        format!("{file}: audience `{}`", p.audience)
                    }
                }
            }
            Kind::Note => {
                p.description = rng.chance(70).then(|| rng.sentence(5));
                format!("{file}: description {:?}", p.description)
            }
        }
    }

    fn edit_tag(&mut self, rng: &mut Rng) -> String {
        let i = self.random_page(rng);
        let p = &mut self.pages[i];
        let file = p.file();
        let inline = rng.chance(50);
        let list = if inline {
            &mut p.inline_tags
        } else {
            &mut p.tags
        };
        let free: Vec<&str> = TAGS
            .iter()
            .copied()
            .filter(|t| !list.iter().any(|x| x == t))
            .collect();
        let where_ = if inline { "inline" } else { "front matter" };
        if !list.is_empty() && (free.is_empty() || rng.chance(40)) {
            let t = list.remove(rng.below(list.len()));
            format!("{file}: {where_} tag {t} removed")
        } else {
            let t = rng.pick(&free).to_string();
            list.push(t.clone());
            format!("{file}: {where_} tag {t} added")
        }
    }

    fn edit_link(&mut self, rng: &mut Rng) -> String {
        let i = self.random_page(rng);
        if !self.pages[i].links.is_empty() && rng.chance(40) {
            let p = &mut self.pages[i];
            let l = p.links.remove(rng.below(p.links.len()));
            return format!("{}: link {} removed", p.file(), l.markdown());
        }
        let me = self.pages[i].id.clone();
        let targets: Vec<usize> = (0..self.pages.len())
            .filter(|&j| self.pages[j].id != me)
            .collect();
        let t = &self.pages[*rng.pick(&targets)];
        let r = rng.below(100);
        let link = if r < 15
            && self.pages[i].kind == Kind::Note
            && t.kind != Kind::Note
            && !self.pages[i].links.contains(&Link::Embed(t.id.clone()))
        {
            Link::Embed(t.id.clone())
        } else if r < 35 && !t.sections.is_empty() {
            Link::Heading(t.id.clone(), rng.pick(&t.sections).0.clone())
        } else if r < 60 {
            Link::Label(
                t.id.clone(),
                rng.sentence(2).trim_end_matches('.').to_string(),
            )
        } else {
            Link::Plain(t.id.clone())
        };
        let p = &mut self.pages[i];
        let md = link.markdown();
        p.links.push(link);
        format!("{}: link {md} added", p.file())
    }

    fn edit_heading(&mut self, rng: &mut Rng) -> String {
        let i = self.random_page(rng);
        let id = self.pages[i].id.clone();
        let free: Vec<usize> = (0..self.pages[i].sections.len())
            .filter(|&s| !self.heading_linked(&id, &self.pages[i].sections[s].0))
            .collect();
        let heading = format!("{} {}", capital(rng.word()), self.fresh());
        let r = rng.below(100);
        let p = &mut self.pages[i];
        let file = p.file();
        if r < 70 && !free.is_empty() {
            let s = *rng.pick(&free);
            let old = std::mem::replace(&mut p.sections[s].0, heading.clone());
            format!("{file}: heading `{old}` now `{heading}`")
        } else if r < 90 || free.is_empty() || p.sections.len() < 2 {
            let text = rng.sentence(7);
            let at = rng.below(p.sections.len() + 1);
            p.sections.insert(at, (heading.clone(), text));
            format!("{file}: section `{heading}` added")
        } else {
            let s = *rng.pick(&free);
            let (old, _) = p.sections.remove(s);
            format!("{file}: section `{old}` removed")
        }
    }

    fn add_page(&mut self, rng: &mut Rng) -> String {
        let kind = *rng.pick(&Kind::ALL);
        let reuse: Vec<usize> = (0..self.deleted.len())
            .filter(|&d| self.deleted[d].0 == kind)
            .collect();
        let id = if !reuse.is_empty() && rng.chance(40) {
            self.deleted.remove(*rng.pick(&reuse)).1
        } else {
            format!("{}-{}", kind.prefix(), self.fresh())
        };
        let page = self.new_page(rng, kind, id);
        let what = format!("{}: new page", page.file());
        self.pages.push(page);
        what
    }

    /// Pages that may go: nothing else points at them, and their kind keeps two pages.
    fn removable(&self) -> Vec<usize> {
        (0..self.pages.len())
            .filter(|&i| {
                let p = &self.pages[i];
                !self.referenced(&p.id)
                    && self.pages.iter().filter(|q| q.kind == p.kind).count() > 2
            })
            .collect()
    }

    fn delete_page(&mut self, rng: &mut Rng) -> Option<String> {
        let can = self.removable();
        if can.is_empty() {
            return None;
        }
        let p = self.pages.remove(*rng.pick(&can));
        self.deleted.push((p.kind, p.id.clone()));
        Some(format!("{}: deleted", p.file()))
    }

    fn rename_page(&mut self, rng: &mut Rng) -> Option<(String, String, String)> {
        let can = self.removable();
        if can.is_empty() {
            return None;
        }
        let i = *rng.pick(&can);
        let n = self.fresh();
        let p = &mut self.pages[i];
        let from = p.file();
        self.deleted.push((p.kind, p.id.clone()));
        p.id = format!("{}-{n}", p.kind.prefix());
        let to = p.file();
        Some((format!("{from}: renamed to {to}"), from, to))
    }

    fn edit_alias(&mut self, rng: &mut Rng) -> String {
        let i = self.random_page(rng);
        let n = self.fresh();
        let p = &mut self.pages[i];
        let file = p.file();
        if !p.aliases.is_empty() && rng.chance(25) {
            let a = p.aliases.remove(rng.below(p.aliases.len()));
            return format!("{file}: alias `{a}` removed");
        }
        let alias = if rng.chance(60) {
            format!("Also known as {n}")
        } else {
            format!("/old/{}-{n}/", p.id)
        };
        p.aliases.push(alias.clone());
        format!("{file}: alias `{alias}` added")
    }

    fn edit_template(&mut self, rng: &mut Rng) -> String {
        let name = *rng.pick(&TEMPLATES);
        if self.templates.contains_key(name) && rng.chance(25) {
            self.templates.remove(name);
            return format!("templates/{name}: override removed");
        }
        let mark = self.fresh();
        let new = self.templates.insert(name, mark).is_none();
        format!(
            "templates/{name}: {} with mark {mark}",
            if new {
                "copied from the theme"
            } else {
                "edited"
            }
        )
    }

    fn edit_site(&mut self, rng: &mut Rng) -> String {
        let n = self.fresh();
        if rng.chance(50) {
            self.title = format!("Consistency book {n}");
            format!("site.yaml: title `{}`", self.title)
        } else {
            self.description = rng.sentence(6);
            format!("site.yaml: description `{}`", self.description)
        }
    }
}

fn capital(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The kinds and views of site.yaml (after its title, description and base_url).
const KINDS: &str = "\
kinds:
  tool:
    folder: tools
    title: Tools
    index: { group_by: category }
    fields:
      category: { type: enum, values: [store, ads, data], required: true }
      vendor: { type: string, searchable: true }
      positions: { type: refs, to: position }
  position:
    folder: positions
    title: Positions
    fields:
      letter: { type: string, required: true }
  playbook:
    folder: playbooks
    title: Playbooks
    index: { group_by: level }
    fields:
      positions: { type: refs, to: position, required: true }
      tools: { type: refs, to: tool }
      owner: { type: ref, to: position }
      level: { type: enum, values: [beginner, intermediate, advanced], default: intermediate }
  path:
    folder: paths
    title: Learning paths
    sequence: steps
    fields:
      audience: { type: string, required: true }
      steps:
        type: list
        required: true
        of:
          type: object
          fields:
            page: { type: ref, required: true }
            why: { type: string, required: true }
views:
  - matrix: { slug: tools-by-positions, title: Tools by positions, rows: tool, cols: position }
  - matrix: { slug: positions-by-tools, title: Positions by tools, rows: position, cols: tool, via: playbook }
";

/// What serve must show as soon as it has applied an edit (before the search index catches up),
/// by output path.
#[derive(Debug)]
enum Sees {
    /// Served (200), with this text in it.
    Has(String, String),
    /// Served, without this text.
    Lacks(String, String),
    /// A 404.
    Gone(String),
    /// Served with exactly these bytes.
    Exact(String, String),
}

/// Where `build` writes a section page (`content/notes/_index.md` -> `notes/index.html`).
fn index_output(file: &str) -> String {
    let folder = file
        .strip_prefix("content/")
        .and_then(|f| f.strip_suffix("_index.md"))
        .expect("a section page under content/");
    format!("{folder}index.html")
}

/// What an edit from `before` to `after` must show at once: the new text and title on the page,
/// a new title in the backlinks of the pages it points at, a new link in its target's backlinks,
/// a new tag's page, the new or renamed page, the redirects of new aliases, 404s for what is gone,
/// the mark of an edited template, the site's new title or description on the home page, the new
/// stylesheet. The full comparison with `build` covers the rest.
fn sees(before: &Model, after: &Model) -> Vec<Sees> {
    let mut out = Vec::new();
    let old_of = |id: &str| before.pages.iter().find(|p| p.id == id);
    let page_of = |id: &str| after.pages.iter().find(|p| p.id == id);
    for p in &after.pages {
        let url = p.output();
        let Some(old) = old_of(&p.id) else {
            out.push(Sees::Has(url, p.title.clone()));
            continue;
        };
        if old.title != p.title {
            out.push(Sees::Has(url.clone(), p.title.clone()));
            for t in p.refs().filter(|t| *t != p.id) {
                if let Some(target) = page_of(t) {
                    out.push(Sees::Has(target.output(), p.title.clone()));
                }
            }
        }
        let old_text: Vec<&String> = std::iter::once(&old.intro)
            .chain(old.sections.iter().flat_map(|(h, t)| [h, t]))
            .collect();
        for text in std::iter::once(&p.intro).chain(p.sections.iter().flat_map(|(h, t)| [h, t])) {
            if !old_text.contains(&text) {
                out.push(Sees::Has(url.clone(), text.clone()));
            }
        }
        if old.vendor != p.vendor {
            out.push(Sees::Has(url.clone(), p.vendor.clone()));
        }
        for l in p.links.iter().filter(|l| !old.links.contains(l)) {
            if let Some(target) = page_of(l.target()) {
                out.push(Sees::Has(target.output(), p.title.clone()));
            }
        }
        for t in p.tags.iter().chain(&p.inline_tags) {
            if !old.tags.contains(t) && !old.inline_tags.contains(t) {
                out.push(Sees::Has(format!("tags/{t}/index.html"), p.title.clone()));
            }
        }
    }
    let outputs =
        |m: &Model| -> BTreeSet<String> { m.pages.iter().flat_map(Page::outputs).collect() };
    let (was, is) = (outputs(before), outputs(after));
    out.extend(was.difference(&is).map(|gone| Sees::Gone(gone.clone())));
    out.extend(
        is.difference(&was)
            .map(|new| Sees::Has(new.clone(), String::new())),
    );
    for (file, (_, text)) in &after.indexes {
        if before.indexes.get(file).map(|(_, t)| t) != Some(text) {
            out.push(Sees::Has(index_output(file), text.clone()));
        }
    }
    let shows = |name: &str| match name {
        "base.html" => "index.html".to_string(),
        "section.html" => "tools/index.html".to_string(),
        _ => after.pages[0].output(),
    };
    for name in TEMPLATES {
        match (before.templates.get(name), after.templates.get(name)) {
            (old, Some(mark)) if old != Some(mark) => {
                out.push(Sees::Has(shows(name), format!("template edit {mark}")));
            }
            (Some(_), None) => {
                let class = format!("consistency-edit-{}", name.trim_end_matches(".html"));
                out.push(Sees::Lacks(shows(name), class));
            }
            _ => {}
        }
    }
    if before.title != after.title {
        out.push(Sees::Has("index.html".into(), after.title.clone()));
    }
    if before.description != after.description {
        out.push(Sees::Has("index.html".into(), after.description.clone()));
    }
    if before.css != after.css {
        let css = after.files()["static/extra.css"].clone();
        out.push(Sees::Exact("extra.css".into(), css));
    }
    out
}

/// The expectations of [`sees`] that serve does not meet, in words.
fn unmet(s: &Server, expected: &[Sees]) -> Vec<String> {
    let mut out = Vec::new();
    for e in expected {
        let (path, problem) = match e {
            Sees::Has(path, text) | Sees::Lacks(path, text) | Sees::Exact(path, text) => {
                let r = s.get(&target_of(path));
                let body = String::from_utf8_lossy(&r.body);
                let problem = match e {
                    _ if r.status != 200 => Some(format!("answers {} instead of 200", r.status)),
                    Sees::Has(..) if !body.contains(text.as_str()) => {
                        Some(format!("does not show `{text}`"))
                    }
                    Sees::Lacks(..) if body.contains(text.as_str()) => {
                        Some(format!("still shows `{text}`"))
                    }
                    Sees::Exact(..) if r.body != text.as_bytes() => {
                        Some(format!("is not `{}`", text.trim_end()))
                    }
                    _ => None,
                };
                (path, problem)
            }
            Sees::Gone(path) => {
                let r = s.get(&target_of(path));
                let problem =
                    (r.status != 404).then(|| format!("answers {} instead of 404", r.status));
                (path, problem)
            }
        };
        if let Some(p) = problem {
            out.push(format!("{path} {p}"));
        }
    }
    out
}

/// The files on disk, kept equal to the model's, one operation per edit.
struct Disk<'a> {
    root: &'a Path,
    files: BTreeMap<String, String>,
}

impl Disk<'_> {
    /// Make the disk hold `want`: the rename first (if any), then removals and writes. Returns the
    /// operations done.
    fn sync(&mut self, want: BTreeMap<String, String>, rename: Option<(String, String)>) -> usize {
        let mut ops = 0;
        if let Some((from, to)) = rename {
            std::fs::rename(self.root.join(&from), self.root.join(&to))
                .unwrap_or_else(|e| panic!("rename {from} -> {to}: {e}"));
            let text = self.files.remove(&from).expect("renamed file was known");
            self.files.insert(to, text);
            ops += 1;
        }
        for gone in self
            .files
            .keys()
            .filter(|f| !want.contains_key(*f))
            .cloned()
            .collect::<Vec<_>>()
        {
            std::fs::remove_file(self.root.join(&gone))
                .unwrap_or_else(|e| panic!("remove {gone}: {e}"));
            self.files.remove(&gone);
            ops += 1;
        }
        for (file, text) in want {
            if self.files.get(&file) != Some(&text) {
                super::write(self.root, &file, &text);
                self.files.insert(file, text);
                ops += 1;
            }
        }
        ops
    }
}

/// A run: its seed and what it has done, for the failure messages.
struct Trail {
    seed: u64,
    /// How many edits the run makes.
    edits: usize,
    log: Vec<String>,
}

impl Trail {
    /// Fail at `step` with `msg`, naming the seed and the edits so far.
    #[track_caller]
    fn fail(&self, step: usize, msg: &str) -> ! {
        let from = self.log.len().saturating_sub(12);
        let recent: Vec<String> = self.log[from..]
            .iter()
            .enumerate()
            .map(|(k, l)| format!("  {:>3}. {l}", from + k + 1))
            .collect();
        panic!(
            "serve and build disagree: seed {seed}, after step {step} of {edits} (replay with FIELDBOOK_CONSISTENCY_SEED={seed}; every edit is printed above)\n{msg}\nthe last edits:\n{}",
            recent.join("\n"),
            seed = self.seed,
            edits = self.edits,
        );
    }
}

/// The path of a file of the site as a request target, percent-encoded where needed.
fn target_of(rel: &str) -> String {
    let mut out = String::from("/");
    for b in rel.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rfind_ascii_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    (0..=hay.len().checked_sub(needle.len())?)
        .rev()
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// A served HTML page without the reload script: `tag` must stand right before the last `</body>`
/// (or at the very end when there is none), where `serve` puts it; anything else is an error.
fn strip_reload(served: &[u8], tag: &str) -> Result<Vec<u8>, String> {
    let end = rfind_ascii_ci(served, b"</body>").unwrap_or(served.len());
    let start = end
        .checked_sub(tag.len())
        .filter(|&s| &served[s..end] == tag.as_bytes())
        .ok_or_else(|| format!("the reload script `{tag}` is not right before the last </body>"))?;
    let mut out = served[..start].to_vec();
    out.extend_from_slice(&served[end..]);
    Ok(out)
}

/// Where two versions of the file `rel` first differ: for text, the line number and both lines
/// (cut around the difference); gzip files are compared decompressed; other binary files by byte.
fn first_difference(rel: &str, want: &[u8], got: &[u8]) -> String {
    if rel.ends_with(".gz") {
        let unzip = |b: &[u8]| {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(b), &mut out).map(|_| out)
        };
        return match (unzip(want), unzip(got)) {
            (Ok(w), Ok(g)) if w == g => "the same once decompressed, but other gzip bytes".into(),
            (Ok(w), Ok(g)) => format!("decompressed, {}", first_difference("", &w, &g)),
            (_, Err(e)) => format!("serve's bytes are no gzip: {e}"),
            (Err(e), _) => format!("the build's bytes are no gzip: {e}"),
        };
    }
    let (Ok(want), Ok(got)) = (std::str::from_utf8(want), std::str::from_utf8(got)) else {
        let at = want.iter().zip(got).position(|(a, b)| a != b);
        return format!(
            "binary: {} bytes built, {} served, first different byte at {}",
            want.len(),
            got.len(),
            at.unwrap_or(want.len().min(got.len()))
        );
    };
    let (mut wl, mut gl) = (want.split('\n'), got.split('\n'));
    let mut n = 0;
    loop {
        n += 1;
        match (wl.next(), gl.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => return "(no difference in the text)".into(),
            (a, b) => {
                let col = match (a, b) {
                    (Some(a), Some(b)) => a
                        .bytes()
                        .zip(b.bytes())
                        .position(|(x, y)| x != y)
                        .unwrap_or(a.len().min(b.len())),
                    _ => 0,
                };
                let cut = |l: Option<&str>| match l {
                    None => "(no such line)".to_string(),
                    Some(l) => {
                        let mut from = col.saturating_sub(100);
                        while !l.is_char_boundary(from) {
                            from -= 1;
                        }
                        let mut to = (col + 160).min(l.len());
                        while !l.is_char_boundary(to) {
                            to += 1;
                        }
                        format!(
                            "{}{}{}",
                            if from > 0 { "…" } else { "" },
                            &l[from..to],
                            if to < l.len() { "…" } else { "" }
                        )
                    }
                };
                return format!(
                    "first difference at line {n}, column {}:\n    build: {}\n    serve: {}",
                    col + 1,
                    cut(a),
                    cut(b)
                );
            }
        }
    }
}

/// What serve sends for a file of the build, as bytes comparable with the build's: HTML without
/// the reload script. `Err` says what is wrong.
fn served_as_built(s: &Server, rel: &str) -> Result<Vec<u8>, String> {
    let r = s.get(&target_of(rel));
    if r.status != 200 {
        return Err(format!("served with status {} instead of 200", r.status));
    }
    if r.header("Content-Type")
        .is_some_and(|c| c.starts_with("text/html"))
    {
        strip_reload(&r.body, RELOAD_TAG)
    } else {
        Ok(r.body)
    }
}

/// Wait until serve is settled and its generation has stayed the same for a moment (no batch still
/// on its way), and return that generation.
fn wait_quiet(s: &Server, trail: &Trail, step: usize) -> u64 {
    let context = format!("seed {}, step {step}", trail.seed);
    loop {
        let g = s.wait_settled(EDIT_WAIT, &context);
        std::thread::sleep(Duration::from_millis(150));
        let (again, settled) = s.status();
        if again == g && settled {
            return g;
        }
    }
}

/// Build the site with `fieldbook build -o` and compare serve with it. `ever` holds every output
/// path serve may have had; those the build does not make must be 404s. A failure's message starts
/// with `note`. Returns the files compared.
fn compare(
    s: &Server,
    root: &Path,
    ever: &mut BTreeSet<String>,
    trail: &Trail,
    step: usize,
    note: &str,
) -> usize {
    let out = tempfile::tempdir().expect("temp dir");
    let dest = out.path().join("site");
    let built = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("--root")
        .arg(root)
        .arg("build")
        .arg("-o")
        .arg(&dest)
        .env("NO_COLOR", "1")
        .output()
        .expect("run fieldbook build");
    if !built.status.success() {
        trail.fail(
            step,
            &format!(
                "`fieldbook build` failed (the model should keep the site valid):\n{}{}",
                String::from_utf8_lossy(&built.stdout),
                String::from_utf8_lossy(&built.stderr)
            ),
        );
    }
    // The marker that tells a later build the folder is its own (src/output.rs) is no file of the
    // site.
    let files: Vec<(String, Vec<u8>)> = tree(&dest)
        .into_iter()
        .filter(|(rel, _)| rel != ".fieldbook-output")
        .collect();
    let mut wrong: Vec<(String, String)> = Vec::new();
    for (rel, want) in &files {
        let problem = match served_as_built(s, rel) {
            Ok(got) if got == *want => None,
            Ok(got) => Some(first_difference(rel, want, &got)),
            Err(e) => Some(e),
        };
        if let Some(p) = problem {
            wrong.push((rel.clone(), p));
        }
    }
    let now: BTreeSet<&String> = files.iter().map(|(r, _)| r).collect();
    let mut stale = Vec::new();
    for rel in ever.iter().filter(|r| !now.contains(r)) {
        let r = s.get(&target_of(rel));
        if r.status != 404 {
            stale.push(format!(
                "{rel}: the build no longer has it, but serve answers {} ({} bytes)",
                r.status,
                r.body.len()
            ));
        }
    }
    // The 404 page itself is the build's 404.html with the 404 flavour of the script.
    if let Some((_, want)) = files.iter().find(|(r, _)| r == "404.html") {
        let r = s.get("/no-such-page-of-the-consistency-test/");
        let p = match (r.status, strip_reload(&r.body, RELOAD_TAG_404)) {
            (404, Ok(got)) if got == *want => None,
            (404, Ok(got)) => Some(first_difference("404.html", want, &got)),
            (404, Err(e)) => Some(e),
            (status, _) => Some(format!("status {status} instead of 404")),
        };
        if let Some(p) = p {
            wrong.push(("404 page (for a missing URL)".into(), p));
        }
    }
    if !wrong.is_empty() || !stale.is_empty() {
        // Tell a late update from a wrong one: look again after a while.
        std::thread::sleep(Duration::from_secs(2));
        let still: Vec<&str> = wrong
            .iter()
            .filter(|(rel, _)| {
                files
                    .iter()
                    .find(|(r, _)| r == rel)
                    .is_none_or(|(_, want)| served_as_built(s, rel).ok().as_ref() != Some(want))
            })
            .map(|(rel, _)| rel.as_str())
            .collect();
        let mut msg = format!(
            "{note}{} of {} built files differ from what serve sends, {} files gone from the build are still served (serve's status: {:?})\n",
            wrong.len(),
            files.len(),
            stale.len(),
            s.status()
        );
        for (rel, p) in wrong.iter().take(8) {
            msg += &format!("- {rel}: {p}\n");
        }
        if wrong.len() > 8 {
            let rest: Vec<&str> = wrong[8..].iter().map(|(r, _)| r.as_str()).collect();
            msg += &format!("- and {}\n", rest.join(", "));
        }
        for line in stale.iter().take(8) {
            msg += &format!("- {line}\n");
        }
        msg += &format!(
            "2 s later, {} of the differing files still differ: {}\n",
            still.len(),
            still.join(", ")
        );
        trail.fail(step, &msg);
    }
    ever.extend(files.iter().map(|(r, _)| r.clone()));
    files.len()
}

/// Lines of serve's output from `from` on that report a failed rebuild.
fn failures_since(s: &Server, from: usize) -> (usize, Vec<String>) {
    let out = s.output.lock().unwrap();
    let failed = out[from.min(out.len())..]
        .iter()
        .filter(|l| l.contains("still serving the last good site"))
        .cloned()
        .collect();
    (out.len(), failed)
}

/// The seed of a run without `FIELDBOOK_CONSISTENCY_SEED`.
const DEFAULT_SEED: u64 = 1;

#[test]
fn serve_matches_build_through_200_random_edits() {
    let seed = std::env::var("FIELDBOOK_CONSISTENCY_SEED")
        .ok()
        .map(|s| {
            s.trim()
                .parse::<u64>()
                .expect("FIELDBOOK_CONSISTENCY_SEED must be a number")
        })
        // A fixed seed, so that CI runs the same edits each time; seeds 1 to 8 pass (4 and 5 found
        // that the pages embedding a relinked page kept its old link labels); replay others by hand.
        .unwrap_or(DEFAULT_SEED);
    let number = |name: &str, default: usize| {
        std::env::var(name).ok().map_or(default, |v| {
            v.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or_else(|| panic!("{name} must be a positive number"))
        })
    };
    let edits = number("FIELDBOOK_CONSISTENCY_EDITS", EDITS);
    let every = number("FIELDBOOK_CONSISTENCY_EVERY", CHECK_EVERY);
    println!(
        "consistency seed: {seed} (replay with FIELDBOOK_CONSISTENCY_SEED={seed}); {edits} edits, compared every {every}"
    );
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let mut model = Model::initial();
    let mut disk = Disk {
        root,
        files: BTreeMap::new(),
    };
    disk.sync(model.files(), None);
    let mut trail = Trail {
        seed,
        edits,
        log: Vec::new(),
    };
    let s = Server::start(root, &[]);
    let mut generation = wait_quiet(&s, &trail, 0);
    let mut ever = BTreeSet::new();
    let compared = compare(&s, root, &mut ever, &trail, 0, "");
    println!("step 0: {compared} files served as built");
    let mut rng = Rng(seed);
    let mut counts: BTreeMap<EditKind, usize> = BTreeMap::new();
    let mut seen_lines = 0;
    for step in 1..=edits {
        // Half of the checkpoints come right after a page-only edit, so that the search index's
        // catching up afterwards is compared too (any other edit rebuilds it at once).
        let checkpoint = step % every == 0 || step == edits;
        // An edit that draws the value a field already has changes nothing: draw again.
        let previous = model.clone();
        let before = model.files();
        let (kind, what, rename) = loop {
            let edit = if checkpoint && rng.chance(50) {
                (EditKind::Body, model.edit_section_text(&mut rng), None)
            } else {
                model.edit(&mut rng)
            };
            if edit.2.is_some() || model.files() != before {
                break edit;
            }
        };
        *counts.entry(kind).or_default() += 1;
        trail.log.push(format!("{kind:?}: {what}"));
        println!("step {step}: {kind:?}: {what}");
        // Everything a page ever was may be served stale later: remember its outputs.
        for p in &model.pages {
            ever.extend(p.outputs());
        }
        let ops = disk.sync(model.files(), rename);
        assert_eq!(ops, 1, "step {step} ({what}) should change one file");
        let context = format!("seed {seed}, step {step} ({kind:?}: {what})");
        generation = s.wait_generation_past(generation, EDIT_WAIT, &context);
        // What the edit must show at once; if serve does not show it, the full comparison says
        // whether serve or the test's expectation is wrong.
        let missing = unmet(&s, &sees(&previous, &model));
        if !missing.is_empty() {
            wait_quiet(&s, &trail, step);
            let note = format!(
                "right after serve applied step {step}, it did not show the edit: {missing:?}"
            );
            println!("{note}");
            compare(&s, root, &mut ever, &trail, step, &format!("{note}\n"));
            trail.fail(
                step,
                &format!("{note}\nyet serve now matches `fieldbook build`, so the test expected what the site does not show: its expectation is wrong"),
            );
        }
        let (seen, failed) = failures_since(&s, seen_lines);
        seen_lines = seen;
        if !failed.is_empty() {
            trail.fail(
                step,
                &format!(
                    "serve found errors in the site (by this step; the model keeps it valid, so serve or build is wrong): {failed:?}\nserver:\n{}",
                    s.printed()
                ),
            );
        }
        if checkpoint {
            let check = Instant::now();
            generation = wait_quiet(&s, &trail, step);
            let compared = compare(&s, root, &mut ever, &trail, step, "");
            println!(
                "step {step}: {compared} files served as built (the comparison took {:.1} s; {:.1} s in)",
                check.elapsed().as_secs_f64(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "{edits} edits in {:.1} s: {counts:?}",
        started.elapsed().as_secs_f64()
    );
}
