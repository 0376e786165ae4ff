//! Session, planning: pure decisions about how much to rebuild for a set of changes.
//!
//! Two questions, each answered without touching the disk:
//!
//! 1. [`tier`]: can the edited pages be re-rendered on their own? Only if what the rest of the site
//!    sees of each of them (its [`Surface`]: front matter, title, summary, headings, links, files it
//!    points at) is unchanged; then no other output can differ. Otherwise the graph and the views are
//!    rebuilt from the parsed pages (unchanged files are not parsed again).
//! 2. [`stale`]: after a rebuild of the graph and views, which outputs must be rendered again? Those
//!    whose template context changed: every output's context is fingerprinted (see
//!    [`crate::build::Prepared::fingerprint`]), so an edit re-renders the page, the pages that show it
//!    (backlinks, references, siblings, sequences), its kind index, tags and matrices, and nothing else.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use crate::content::Page;
use crate::markdown::{LinkKind, Rendered};

/// What one changed path means to the site.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// site.yaml.
    Config,
    /// A template of the site or of its theme.
    Template,
    /// A static file (the site's static/ or the theme's), by its output path.
    Static(String),
    /// Something under content/ (a page, an asset or a folder), relative to content/.
    Content(PathBuf),
}

/// Everything that changed since the last good build.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    /// site.yaml changed: reload it, parse the pages again when what they read of it changed
    /// ([`crate::config::SiteConfig::reads_pages_like`]), render everything.
    pub config: bool,
    /// A template changed: reload them and render everything.
    pub templates: bool,
    /// Paths under content/ (pages, assets or folders).
    pub content: BTreeSet<PathBuf>,
    /// Output paths of static files.
    pub statics: BTreeSet<String>,
    /// Events were lost: look at every file again.
    pub rescan: bool,
}

impl ChangeSet {
    /// A change set that rebuilds everything (the first build).
    pub fn everything() -> ChangeSet {
        ChangeSet {
            config: true,
            templates: true,
            rescan: true,
            ..ChangeSet::default()
        }
    }

    /// Add one classified change.
    pub fn add(&mut self, change: Change) {
        match change {
            Change::Config => self.config = true,
            Change::Template => self.templates = true,
            Change::Static(p) => {
                self.statics.insert(p);
            }
            Change::Content(p) => {
                self.content.insert(p);
            }
        }
    }

    /// Fold another change set into this one.
    pub fn merge(&mut self, other: &ChangeSet) {
        self.config |= other.config;
        self.templates |= other.templates;
        self.rescan |= other.rescan;
        self.content.extend(other.content.iter().cloned());
        self.statics.extend(other.statics.iter().cloned());
    }

    pub fn is_empty(&self) -> bool {
        *self == ChangeSet::default()
    }

    /// Only stylesheets changed: the browser can swap them without reloading the page.
    pub fn css_only(&self) -> bool {
        !self.config
            && !self.templates
            && !self.rescan
            && self.content.is_empty()
            && !self.statics.is_empty()
            && self
                .statics
                .iter()
                .all(|p| p.to_ascii_lowercase().ends_with(".css"))
    }
}

/// What the rest of the site can see of one page. Two pages with equal surfaces differ only in what
/// their own output shows.
#[derive(Debug, PartialEq)]
pub struct Surface<'a> {
    /// The YAML between the `---` lines: every field, the title, tags, dates, weight, draft, aliases.
    pub front_matter: &'a str,
    /// A title taken from a leading H1.
    pub h1_title: Option<&'a str>,
    /// The first paragraph (index pages and link previews show it).
    pub summary: &'a str,
    /// Headings: anchors other pages link to, and a section's table of contents.
    pub headings: Vec<(u8, &'a str, &'a str)>,
    /// Links to other pages (backlinks follow them).
    pub links: Vec<(&'a LinkKind, &'a str, Option<&'a str>)>,
    /// Inline `#tags` (their tag pages list the page).
    pub tags: Vec<&'a str>,
}

/// The surface of a parsed page.
pub fn surface<'a>(page: &'a Page, rendered: &'a Rendered) -> Surface<'a> {
    let text: &str = &page.source.text;
    let front_matter = text.get(..page.body.start).unwrap_or("");
    Surface {
        front_matter,
        h1_title: rendered.title.as_deref(),
        summary: &rendered.summary,
        headings: rendered
            .headings
            .iter()
            .map(|h| (h.level, h.id.as_str(), h.title.as_str()))
            .collect(),
        links: rendered
            .links
            .iter()
            .map(|l| (&l.kind, l.target.as_str(), l.fragment.as_deref()))
            .collect(),
        tags: rendered.tags.iter().map(|(t, _)| t.as_str()).collect(),
    }
}

/// One content page that changed: what the last good site had of it and what the file holds now.
#[derive(Debug)]
pub struct PageEdit<'a> {
    /// The page's index in the last good site and its surface there; `None` for a new page.
    pub old: Option<(usize, Surface<'a>)>,
    /// Its surface now; `None` when it is gone or cannot be parsed.
    pub new: Option<Surface<'a>>,
}

/// How much to rebuild.
#[derive(Debug, PartialEq, Eq)]
pub enum Tier {
    /// Re-render these pages (indices into the last good site) and nothing else.
    Pages(Vec<usize>),
    /// Rebuild the graph and views, then render the outputs whose context changed.
    Site,
}

/// Decide the tier for a batch of page edits (with no change to site.yaml, templates or the set of
/// files, which always take [`Tier::Site`]).
pub fn tier(edits: &[PageEdit]) -> Tier {
    let mut pages = Vec::with_capacity(edits.len());
    for e in edits {
        match (&e.old, &e.new) {
            (Some((i, old)), Some(new)) if old == new => pages.push(*i),
            _ => return Tier::Site,
        }
    }
    pages.sort_unstable();
    pages.dedup();
    Tier::Pages(pages)
}

/// Whether an output at `path` with fingerprint `print` is rendered again: when it is new, when its
/// fingerprint changed, or when `everything` is.
pub fn needs_render(old: &HashMap<String, u64>, path: &str, print: u64, everything: bool) -> bool {
    everything || old.get(path) != Some(&print)
}

/// The outputs of `old` that `new` no longer has, sorted.
pub fn gone(old: &HashMap<String, u64>, new: &HashMap<String, u64>) -> Vec<String> {
    let mut gone: Vec<String> = old
        .keys()
        .filter(|path| !new.contains_key(*path))
        .cloned()
        .collect();
    gone.sort();
    gone
}

/// Which outputs to render again ([`needs_render`]) and which to drop ([`gone`]), both sorted.
#[cfg(test)]
fn stale(
    old: &HashMap<String, u64>,
    new: &HashMap<String, u64>,
    everything: bool,
) -> (Vec<String>, Vec<String>) {
    let mut render: Vec<String> = new
        .iter()
        .filter(|(path, print)| needs_render(old, path, **print, everything))
        .map(|(path, _)| path.clone())
        .collect();
    render.sort();
    (render, gone(old, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{self, BuildOptions, Output};
    use crate::render::Templates;

    fn prints(map: &[(&str, u64)]) -> HashMap<String, u64> {
        map.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn stale_outputs_are_new_or_changed() {
        let old = prints(&[("a", 1), ("b", 2), ("c", 3)]);
        let new = prints(&[("a", 1), ("b", 9), ("d", 4)]);
        assert_eq!(
            stale(&old, &new, false),
            (vec!["b".into(), "d".into()], vec!["c".into()])
        );
        assert_eq!(
            stale(&old, &new, true).0,
            vec!["a".to_string(), "b".into(), "d".into()]
        );
        assert_eq!(stale(&old, &old, false), (vec![], vec![]));
    }

    #[test]
    fn change_sets_merge_and_spot_css() {
        let mut a = ChangeSet::default();
        assert!(a.is_empty());
        a.add(Change::Static("css/site.css".into()));
        assert!(a.css_only());
        let mut b = ChangeSet::default();
        b.add(Change::Static("logo.svg".into()));
        a.merge(&b);
        assert!(!a.css_only());
        let mut c = ChangeSet::default();
        c.add(Change::Static("x.css".into()));
        c.add(Change::Content("a.md".into()));
        assert!(!c.css_only());
        assert!(ChangeSet::everything().config);
    }

    /// A small site on disk: two tools, a playbook that references one and links the other in its
    /// body, and an unrelated note.
    struct Fixture {
        dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let w = |p: &str, t: &str| {
                let path = dir.path().join(p);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, t).unwrap();
            };
            w(
                "site.yaml",
                "title: T\nkinds:\n  tool: { folder: tools, title: Tools }\n  playbook: { folder: playbooks, title: Playbooks, fields: { tools: { type: refs, to: tool } } }\n",
            );
            w(
                "content/tools/alpha.md",
                "---\ntitle: Alpha\ntags: [red]\n---\n\nAlpha body.\n\n## Use\n\nText.\n",
            );
            w(
                "content/tools/beta.md",
                "---\ntitle: Beta\n---\n\nBeta body.\n",
            );
            w(
                "content/playbooks/run.md",
                "---\ntitle: Run\ntools: [alpha]\n---\n\nRun with [[beta]].\n",
            );
            w(
                "content/notes/other.md",
                "---\ntitle: Other\n---\n\nUnrelated.\n",
            );
            Fixture { dir }
        }
        fn write(&self, p: &str, t: &str) {
            std::fs::write(self.dir.path().join(p), t).unwrap();
        }
        fn load(&self) -> (build::Site, HashMap<String, u64>) {
            let opts = BuildOptions {
                root: self.dir.path().to_path_buf(),
                ..Default::default()
            };
            let site = build::load(&opts).unwrap();
            let templates = Templates::load(&site.root, &site.config.theme).unwrap();
            let prints = build::outputs(&site)
                .into_iter()
                .filter_map(|o: Output| build::prepare(&site, &templates, o))
                .map(|p| {
                    let f = p.fingerprint();
                    (p.path, f)
                })
                .collect();
            (site, prints)
        }
    }

    fn edit_of<'a>(old: &'a build::Site, new: &'a build::Site, rel: &str) -> PageEdit<'a> {
        let i = old.pages.iter().position(|p| p.rel_path == rel).unwrap();
        let j = new.pages.iter().position(|p| p.rel_path == rel).unwrap();
        PageEdit {
            old: Some((i, surface(&old.pages[i], &old.rendered[i]))),
            new: Some(surface(&new.pages[j], &new.rendered[j])),
        }
    }

    #[test]
    fn a_body_edit_re_renders_only_that_page() {
        let f = Fixture::new();
        let (old, old_prints) = f.load();
        f.write(
            "content/tools/alpha.md",
            "---\ntitle: Alpha\ntags: [red]\n---\n\nAlpha body.\n\n## Use\n\nText, now longer.\n",
        );
        let (new, new_prints) = f.load();
        let i = old
            .pages
            .iter()
            .position(|p| p.rel_path == "tools/alpha.md")
            .unwrap();
        assert_eq!(
            tier(&[edit_of(&old, &new, "tools/alpha.md")]),
            Tier::Pages(vec![i])
        );
        // The fingerprints agree: only the page's own output changed.
        assert_eq!(
            stale(&old_prints, &new_prints, false),
            (vec!["tools/alpha/index.html".to_string()], vec![])
        );
    }

    #[test]
    fn a_title_edit_re_renders_the_pages_that_show_it() {
        let f = Fixture::new();
        let (old, old_prints) = f.load();
        f.write(
            "content/tools/alpha.md",
            "---\ntitle: Alpha Prime\ntags: [red]\n---\n\nAlpha body.\n\n## Use\n\nText.\n",
        );
        let (new, new_prints) = f.load();
        assert_eq!(tier(&[edit_of(&old, &new, "tools/alpha.md")]), Tier::Site);
        let (render, gone) = stale(&old_prints, &new_prints, false);
        assert!(gone.is_empty());
        for must in [
            "tools/alpha/index.html",   // the page itself
            "playbooks/run/index.html", // references it in a field
            "tools/beta/index.html",    // lists it among its siblings
            "tools/index.html",         // its kind index
            "tags/red/index.html",      // its tag
            "playbooks/index.html",     // shows the playbook's tools by title
        ] {
            assert!(
                render.contains(&must.to_string()),
                "{must} not in {render:?}"
            );
        }
        for not in ["notes/other/index.html", "404.html"] {
            assert!(!render.contains(&not.to_string()), "{not} in {render:?}");
        }
    }

    #[test]
    fn a_new_body_link_re_renders_its_target() {
        let f = Fixture::new();
        let (old, old_prints) = f.load();
        f.write(
            "content/notes/other.md",
            "---\ntitle: Other\n---\n\nUnrelated, but see [[alpha]].\n",
        );
        let (new, new_prints) = f.load();
        assert_eq!(tier(&[edit_of(&old, &new, "notes/other.md")]), Tier::Site);
        let (render, _) = stale(&old_prints, &new_prints, false);
        assert!(render.contains(&"notes/other/index.html".to_string()));
        // alpha now has a backlink from the note.
        assert!(render.contains(&"tools/alpha/index.html".to_string()));
        assert!(
            !render.contains(&"tools/beta/index.html".to_string()),
            "{render:?}"
        );
    }

    #[test]
    fn added_or_removed_pages_rebuild_the_site() {
        let f = Fixture::new();
        let (old, _) = f.load();
        let i = old
            .pages
            .iter()
            .position(|p| p.rel_path == "tools/beta.md")
            .unwrap();
        let gone = PageEdit {
            old: Some((i, surface(&old.pages[i], &old.rendered[i]))),
            new: None,
        };
        assert_eq!(tier(&[gone]), Tier::Site);
        let added = PageEdit {
            old: None,
            new: Some(surface(&old.pages[i], &old.rendered[i])),
        };
        assert_eq!(tier(&[added]), Tier::Site);
        assert_eq!(tier(&[]), Tier::Pages(vec![]));
    }
}
