//! Session against a fresh build: a tiny site on disk, edits applied through [`Session::apply`]
//! and the follow-up steps `serve` runs, and every served file compared with what a new session
//! (a full build) makes of the same folder.

use std::path::Path;

use super::{ChangeSet, Outcome, Session};
use crate::output::Entry;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A site at `root` with two kinds of page and these files under content/, built by a new session.
fn site(root: &Path, pages: &[(&str, &str)]) -> Session {
    write(
        root,
        "site.yaml",
        "title: T\nkinds:\n  tool: { folder: tools, title: Tools }\n",
    );
    for (rel, text) in pages {
        write(root, &format!("content/{rel}"), text);
    }
    let mut s = Session::new(root, false);
    let outcome = s.apply(&ChangeSet::everything());
    assert!(!matches!(outcome, Outcome::Failed(_)), "{outcome:?}");
    s
}

/// Apply an edit of these content files, then what `serve` does before it counts as settled.
fn edit(s: &mut Session, content: &[&str]) {
    let mut changes = ChangeSet::default();
    changes.content.extend(content.iter().map(Into::into));
    let outcome = s.apply(&changes);
    assert!(!matches!(outcome, Outcome::Failed(_)), "{outcome:?}");
    if s.lists_pending() {
        let outcome = s.finish_lists();
        assert!(!matches!(outcome, Outcome::Failed(_)), "{outcome:?}");
    }
    s.refresh_search();
    assert!(s.settled());
}

/// The files served by `s` that differ from those a fresh build of `root` makes.
fn differences(s: &Session, root: &Path) -> Vec<String> {
    let mut fresh = Session::new(root, false);
    let outcome = fresh.apply(&ChangeSet::everything());
    assert!(!matches!(outcome, Outcome::Failed(_)), "{outcome:?}");
    fresh.refresh_search();
    assert!(fresh.settled());
    let (got, want) = (s.files(), fresh.files());
    let same = |a: &Entry, b: &Entry| match (a, b) {
        (Entry::Bytes(a), Entry::Bytes(b)) => a == b,
        (Entry::Disk(a), Entry::Disk(b)) => a == b,
        _ => false,
    };
    let mut wrong: Vec<String> = want
        .iter()
        .filter(|(p, w)| got.get(*p).is_none_or(|g| !same(g, w)))
        .map(|(p, _)| p.clone())
        .collect();
    wrong.extend(got.keys().filter(|p| !want.contains_key(*p)).cloned());
    wrong.sort();
    wrong
}

fn text(s: &Session, path: &str) -> String {
    match s.files().get(path) {
        Some(Entry::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("{path}: {other:?}"),
    }
}

/// A page embeds a tool whose body links to a guide. Retitling the guide changes the label of the
/// tool's link, and so the tool as it is shown inside the page that embeds it.
#[test]
fn a_retitled_page_reaches_the_pages_that_embed_a_page_linking_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut s = site(
        root,
        &[
            ("notes/guide.md", "---\ntitle: Guide\n---\n\nA guide.\n"),
            (
                "tools/lamp.md",
                "---\ntitle: Lamp\n---\n\nLamp, see [[guide]].\n",
            ),
            (
                "notes/board.md",
                "---\ntitle: Board\n---\n\nThe board.\n\n![[lamp]]\n",
            ),
        ],
    );
    assert!(text(&s, "notes/board/index.html").contains(">Guide</a>"));

    write(
        root,
        "content/notes/guide.md",
        "---\ntitle: Handbook\n---\n\nA guide.\n",
    );
    edit(&mut s, &["notes/guide.md"]);
    assert!(text(&s, "tools/lamp/index.html").contains(">Handbook</a>"));
    let board = text(&s, "notes/board/index.html");
    assert!(
        board.contains(">Handbook</a>") && !board.contains(">Guide</a>"),
        "the embedded tool keeps the old label:\n{board}"
    );
    assert_eq!(differences(&s, root), Vec::<String>::new());
}

/// What the graph of `s` says each page's links become, embeds included.
fn fills(s: &Session) -> String {
    format!("{:?}", s.good.as_ref().unwrap().site.graph.fills)
}

/// Pages that come and go move the pages after them: the embeds among the fills, which name the
/// embedded page by its index, move with them.
#[test]
fn pages_that_come_and_go_move_the_embeds_of_a_patched_site() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut s = site(
        root,
        &[
            ("tools/lamp.md", "---\ntitle: Lamp\n---\n\nA lamp.\n"),
            (
                "notes/board.md",
                "---\ntitle: Board\n---\n\nThe board.\n\n![[lamp]]\n",
            ),
        ],
    );
    let fresh = |root: &Path| {
        let mut f = Session::new(root, false);
        f.apply(&ChangeSet::everything());
        fills(&f)
    };
    // A tool that comes before the lamp, then goes again.
    write(
        root,
        "content/tools/anvil.md",
        "---\ntitle: Anvil\n---\n\nAn anvil.\n",
    );
    edit(&mut s, &["tools/anvil.md"]);
    assert_eq!(fills(&s), fresh(root));
    std::fs::remove_file(root.join("content/tools/anvil.md")).unwrap();
    edit(&mut s, &["tools/anvil.md"]);
    assert_eq!(fills(&s), fresh(root));
    assert_eq!(differences(&s, root), Vec::<String>::new());
}

/// A new title keeps the parsed pages; new Markdown options and kinds parse them again. Either way
/// the site is the one a fresh build makes.
#[test]
fn a_site_config_edit_reads_pages_again_only_when_they_read_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut s = site(
        root,
        &[
            (
                "tools/doudian.md",
                "---\ntitle: Doudian\n---\nSee [the guide](../guide.md).\n",
            ),
            ("guide.md", "# Guide\n\nUses [[doudian]], <b>bold</b>.\n"),
        ],
    );
    let config = |s: &mut Session, text: &str| {
        write(root, "site.yaml", text);
        let outcome = s.apply(&ChangeSet {
            config: true,
            ..ChangeSet::default()
        });
        assert!(!matches!(outcome, Outcome::Failed(_)), "{outcome:?}");
        s.refresh_search();
    };
    config(
        &mut s,
        "title: New title\nkinds:\n  tool: { folder: tools, title: Tools }\n",
    );
    assert!(text(&s, "index.html").contains("New title"));
    assert_eq!(differences(&s, root), Vec::<String>::new());
    config(
        &mut s,
        "title: New title\nmarkdown: { raw_html: escape }\nkinds:\n  tool: { folder: tools, title: Tools }\n",
    );
    assert!(text(&s, "guide/index.html").contains("&lt;b&gt;bold&lt;/b&gt;"));
    assert_eq!(differences(&s, root), Vec::<String>::new());
    config(&mut s, "title: New title\nkinds: {}\n");
    assert_eq!(differences(&s, root), Vec::<String>::new());
}

/// Pages that come and go beside others are taken in without walking content/ again; one in a new
/// folder, with a walk. Each time the site is the one a fresh build makes.
#[test]
fn pages_that_come_and_go_keep_the_order_a_walk_gives() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut s = site(
        root,
        &[
            ("tools/b.md", "---\ntitle: B\n---\nSee [[d]].\n"),
            ("tools/d.md", "---\ntitle: D\n---\n"),
            ("guide.md", "# Guide\n"),
        ],
    );
    for (rel, body) in [
        ("tools/c.md", "---\ntitle: C\n---\nBack to [[b]].\n"),
        ("tools/a.md", "---\ntitle: A\n---\n"),
        ("tools/e.md", "---\ntitle: E\n---\n"),
        ("more/f.md", "---\ntitle: F\n---\nSee [[a]].\n"),
    ] {
        write(root, &format!("content/{rel}"), body);
        edit(&mut s, &[rel]);
        assert_eq!(
            differences(&s, root),
            Vec::<String>::new(),
            "after adding {rel}"
        );
    }
    assert!(text(&s, "tools/c/index.html").contains("href=\"/tools/b/\""));
    for rel in ["more/f.md", "tools/a.md", "tools/c.md"] {
        std::fs::remove_file(root.join("content").join(rel)).unwrap();
        edit(&mut s, &[rel]);
        assert_eq!(
            differences(&s, root),
            Vec::<String>::new(),
            "after deleting {rel}"
        );
    }
}

/// Through a link, one file is two pages, or a page depends on a file of another name: pages that
/// come or go there make the walk of content/ look again, so the site is still a fresh build's.
#[cfg(unix)]
#[test]
fn pages_that_come_and_go_through_links_walk_content_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut s = site(
        root,
        &[
            ("tools/a.md", "---\ntitle: A\n---\n"),
            ("real/c.md", "---\ntitle: C\n---\n"),
        ],
    );
    std::os::unix::fs::symlink("real", root.join("content/shared")).unwrap();
    edit(&mut s, &["shared"]);
    assert_eq!(differences(&s, root), Vec::<String>::new());
    // A new page in a folder that a link shows elsewhere too.
    write(root, "content/real/d.md", "---\ntitle: D\n---\n");
    edit(&mut s, &["real/d.md"]);
    assert!(s.files().contains_key("shared/d/index.html"));
    assert_eq!(differences(&s, root), Vec::<String>::new());
    // The file a linked page points to goes: so does the linked page, and the build fails as a
    // fresh one does.
    std::os::unix::fs::symlink("a.md", root.join("content/tools/b.md")).unwrap();
    edit(&mut s, &["tools/b.md"]);
    std::fs::remove_file(root.join("content/tools/a.md")).unwrap();
    let mut changes = ChangeSet::default();
    changes.content.insert("tools/a.md".into());
    let outcome = s.apply(&changes);
    let mut fresh = Session::new(root, false);
    let fresh_outcome = fresh.apply(&ChangeSet::everything());
    assert!(
        matches!(outcome, Outcome::Failed(_)),
        "{outcome:?}\nfresh: {fresh_outcome:?}"
    );
}

/// A new index page titles the breadcrumbs of the folders under it that have none of their own.
#[test]
fn a_new_section_page_reaches_the_folders_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut s = site(
        root,
        &[
            ("guide/a.md", "---\ntitle: A\n---\n"),
            ("guide/deep/b.md", "---\ntitle: B\n---\n"),
        ],
    );
    write(
        root,
        "content/guide/_index.md",
        "---\ntitle: The guide\n---\n",
    );
    edit(&mut s, &["guide/_index.md"]);
    assert!(text(&s, "guide/deep/index.html").contains("The guide"));
    assert_eq!(differences(&s, root), Vec::<String>::new());
}
