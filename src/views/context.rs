//! The context structs templates see: cards, navigation, page, section, tag and matrix contexts.

use super::*;

/// A link to a page, as templates see it. Shared: the lists, matrices and paths that show a page
/// hold the one card made for it, so that making the views copies no strings.
#[derive(Debug, Clone)]
pub struct PageRef(Arc<Card>);

impl Serialize for PageRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl std::ops::Deref for PageRef {
    type Target = Card;
    fn deref(&self) -> &Card {
        &self.0
    }
}

/// What a [`PageRef`] shows.
#[derive(Debug, Serialize)]
pub struct Card {
    pub id: String,
    pub kind: Option<String>,
    /// The kind's singular name, for badges.
    pub kind_name: Option<String>,
    pub title: String,
    pub url: String,
    pub summary: String,
}

/// A labelled link.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub title: String,
    pub url: String,
}

/// One kind in the site navigation.
#[derive(Debug, Clone, Serialize)]
pub struct KindNav {
    pub name: String,
    pub title: String,
    pub singular: String,
    pub description: String,
    pub url: String,
}

/// Site-wide values, the same for every page. Kept small: no page lists, and nothing that changes
/// when a page is added or removed (counts live in [`Stats`], which only the home and search pages
/// see), so that a new page does not change every page of the site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteCtx {
    pub title: String,
    pub description: String,
    /// The base path, `/` or `/kb/`: prefix for every internal URL.
    pub base_url: String,
    pub language: String,
    pub kinds: Vec<KindNav>,
    /// Top-level sections that are not kinds.
    pub sections: Vec<Link>,
    pub matrices: Vec<Link>,
    pub tags_url: Option<String>,
    pub extra: serde_json::Value,
}

/// How many pages the site has, in all and per kind: for the home page and the search page only.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Pages that are not section indexes.
    pub pages: usize,
    /// Per kind name: its pages.
    pub kinds: BTreeMap<String, usize>,
}

/// One item of a field in the facts box: text, with a URL when it is a page.
#[derive(Debug, Clone, Serialize)]
pub struct FactItem {
    pub text: String,
    pub url: Option<String>,
}

/// One field shown in a page's facts box.
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub name: String,
    pub label: String,
    pub description: String,
    pub items: Vec<FactItem>,
}

/// Pages linking to this one through one relation.
#[derive(Debug, Clone, Serialize)]
pub struct BacklinkGroup {
    pub relation: String,
    pub label: String,
    pub pages: Vec<PageRef>,
}

/// Where this page sits in a sequence (a learning path).
#[derive(Debug, Clone, Serialize)]
pub struct SequenceNav {
    pub path: PageRef,
    /// 1-based position.
    pub index: usize,
    pub total: usize,
    pub prev: Option<PageRef>,
    pub next: Option<PageRef>,
}

/// One step of a sequence page.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub index: usize,
    pub page: PageRef,
    pub why: String,
}

/// A page as its template sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PageCtx {
    pub id: String,
    pub kind: Option<String>,
    pub kind_title: Option<String>,
    pub kind_name: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub summary: String,
    pub url: String,
    pub content: String,
    pub toc: Vec<Heading>,
    pub tags: Vec<Link>,
    pub date: Option<String>,
    pub updated: Option<String>,
    /// When the page last changed (`YYYY-MM-DD`): `updated`, else its file's last git commit date.
    pub last_updated: Option<String>,
    /// All fields, refs resolved to `{id, kind, title, url}`.
    pub fields: serde_json::Value,
    pub facts: Vec<Fact>,
    pub backlinks: Vec<BacklinkGroup>,
    pub sequences: Vec<SequenceNav>,
    pub steps: Vec<Step>,
    pub prev: Option<PageRef>,
    pub next: Option<PageRef>,
    pub breadcrumbs: Vec<Link>,
    /// Neighbours in the same kind or section, at most a few dozen, for the sidebar.
    pub siblings: Vec<PageRef>,
    /// The kind or section has more pages than `siblings` lists (the rest load from `nav.json`).
    pub siblings_partial: bool,
    pub edit_url: Option<String>,
    pub words: usize,
    pub reading_minutes: usize,
    pub source_path: String,
    /// Classes for the page's article element (`cssclasses:`), class-safe.
    pub cssclasses: Vec<String>,
}

/// A learning path as the home page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PathCard {
    #[serde(flatten)]
    pub page: PageRef,
    /// How many steps it has.
    pub steps: usize,
    /// Its first step.
    pub first: Option<PageRef>,
}

/// A page with the date it last changed, for "recently updated" lists.
#[derive(Debug, Clone, Serialize)]
pub struct Dated {
    #[serde(flatten)]
    pub page: PageRef,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// A group of entries on an index page.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    pub pages: Vec<Entry>,
}

/// One page listed on an index page, with its key facts.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub page: PageRef,
    pub facts: Vec<Fact>,
}

/// A section (folder) or kind index page.
#[derive(Debug, Clone, Serialize)]
pub struct SectionCtx {
    pub title: String,
    pub description: Option<String>,
    pub url: String,
    pub content: String,
    pub toc: Vec<Heading>,
    pub kind: Option<String>,
    pub group_by: Option<String>,
    pub groups: Vec<Group>,
    pub subsections: Vec<Link>,
    pub breadcrumbs: Vec<Link>,
    pub count: usize,
}

/// One matrix view.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixCtx {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub url: String,
    pub row_kind: String,
    pub col_kind: String,
    pub via: Option<String>,
    /// Small enough to show as a table. A larger matrix would put rows x columns cells on one page,
    /// so it is shown as a list: each row with the columns it connects to.
    pub table: bool,
    /// The columns (only for a table).
    pub cols: Vec<PageRef>,
    pub rows: Vec<MatrixRow>,
}

/// Matrices up to this many cells render as tables.
pub const MAX_TABLE_CELLS: usize = 10_000;

/// One row of a matrix: every cell for a table, or only the connected columns for a list.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub page: PageRef,
    pub cells: Vec<MatrixCell>,
    pub links: Vec<MatrixLink>,
}

/// A connected column of a row, in the list form of a large matrix.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixLink {
    pub col: PageRef,
    pub cell: MatrixCell,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatrixCell {
    /// Pages that connect the row and the column (the `via` pages).
    pub pages: Vec<PageRef>,
    /// Without `via`: the row and column reference each other directly.
    pub direct: bool,
}

/// A tag and its pages.
#[derive(Debug, Clone, Serialize)]
pub struct TagCtx {
    pub name: String,
    pub slug: String,
    pub url: String,
    pub pages: Vec<PageRef>,
}

/// A tag as the list of tags shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TagSummary<'a> {
    pub name: &'a str,
    pub slug: &'a str,
    pub url: &'a str,
    /// How many pages have it.
    pub count: usize,
}

impl<'a> TagSummary<'a> {
    pub fn of(t: &'a TagCtx) -> TagSummary<'a> {
        TagSummary {
            name: &t.name,
            slug: &t.slug,
            url: &t.url,
            count: t.pages.len(),
        }
    }
}

/// How templates show a link to one page.
pub fn page_ref(config: &SiteConfig, p: &Page, r: &Rendered, title: &str) -> PageRef {
    PageRef(Arc::new(Card {
        id: p.id.clone(),
        kind: p.kind.clone(),
        kind_name: p.kind.as_deref().map(|k| config.singular(k).to_string()),
        title: title.to_string(),
        url: format!("{}{}", config.base_path(), p.url),
        summary: p
            .description
            .clone()
            .unwrap_or_else(|| truncate_words(&r.summary, 40)),
    }))
}
