//! Obsidian's front matter, built as it is: `permalink`, `publish: false`, `cssclasses`, empty
//! built-in fields, tags written the Obsidian ways, aliases that are names, and titles kept as the
//! file and folder names are written.

use crate::support::TestSite;

fn site() -> TestSite {
    TestSite::new("title: Vault\n")
}

/// The `class` attribute of the page's article element.
fn article_class(html: &str) -> &str {
    let at = html
        .find("<article class=\"")
        .expect("an article with classes")
        + 16;
    let end = html[at..].find('"').expect("end of class") + at;
    &html[at..end]
}

/// The text of the page's `<title>`.
fn title_of(html: &str) -> &str {
    let at = html.find("<title>").expect("a title") + 7;
    let end = html[at..].find("</title>").expect("end of title") + at;
    &html[at..end]
}

#[test]
fn a_permalink_sets_the_url_in_both_spellings() {
    let s = site();
    s.write(
        "content/Sync/Set up Sync.md",
        "---\npermalink: sync/setup\n---\nSet it up.\n",
    )
    .write(
        "content/Other.md",
        "---\npermalink: /a/b/\n---\nElsewhere. See [[Set up Sync]].\n",
    );
    s.build();
    assert!(s.output("sync/setup/index.html").contains("Set it up."));
    assert!(!s.output_exists("sync/set-up-sync/index.html"));
    let other = s.output("a/b/index.html");
    assert!(other.contains("Elsewhere."), "{other}");
    assert!(other.contains("href=\"/sync/setup/\""), "{other}");
    assert!(!s.output_exists("other/index.html"));
    assert!(s.output("sitemap.xml").contains("<loc>/sync/setup/</loc>"));
}

#[test]
fn a_permalink_that_leaves_the_site_is_an_error() {
    let s = site();
    s.write("content/x.md", "---\npermalink: ../../etc/\n---\nx\n");
    let run = s.run(&["build"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("error[bad-permalink]")
            && run
                .stderr
                .contains("permalink `../../etc/` leaves the site"),
        "{}",
        run.stderr
    );
}

#[test]
fn two_pages_on_one_permalink_are_a_duplicate_url() {
    let s = site();
    s.write("content/a.md", "---\npermalink: same\n---\na\n")
        .write("content/b.md", "---\npermalink: /same/\n---\nb\n");
    let run = s.run(&["build"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("error[duplicate-url]"),
        "{}",
        run.stderr
    );
}

#[test]
fn publish_false_leaves_the_page_out_even_with_drafts() {
    let s = site();
    s.write("content/Shown.md", "---\npublish: true\n---\nShown.\n")
        .write(
            "content/Hidden.md",
            "---\npublish: false\ntags: [secret]\ndate: not a date\n---\nHidden text.\n",
        );
    let run = s.run(&["build", "--drafts"]).ok();
    assert!(run.stdout.starts_with("Built 1 pages"), "{}", run.stdout);
    assert!(s.output("shown/index.html").contains("Shown."));
    assert!(!s.output_exists("hidden/index.html"));
    assert!(!s.output_exists("tags/secret/index.html"));
    assert!(!s.output("sitemap.xml").contains("hidden"));
}

#[test]
fn cssclasses_go_on_the_article_and_only_class_safe_ones() {
    let s = site();
    s.write(
        "content/cards.md",
        "---\ncssclasses:\n  - list-cards\n  - wide_page\n  - 'x\" onmouseover=\"alert(1)'\n---\nx\n",
    )
    .write("content/old.md", "---\ncssclass: soft-embed\n---\ny\n")
    .write("content/plain.md", "---\ncssclasses:\n---\nz\n")
    .write("content/Deck/Index note.md", "---\npermalink: deck\ncssclasses: [list-cards]\n---\nw\n")
    .write("content/Home.md", "---\npermalink: /\ncssclass: home-cards\n---\nv\n");
    let run = s.build();
    let class = article_class(&s.output("cards/index.html")).to_string();
    let words: Vec<&str> = class.split(' ').collect();
    assert!(
        words.contains(&"list-cards") && words.contains(&"wide_page"),
        "{class}"
    );
    assert!(!class.contains("onmouseover"), "{class}");
    assert!(
        run.stderr.contains("warning[bad-cssclass]"),
        "{}",
        run.stderr
    );
    let old = s.output("old/index.html");
    assert!(
        article_class(&old).split(' ').any(|w| w == "soft-embed"),
        "{old}"
    );
    assert_eq!(article_class(&s.output("plain/index.html")), "page");
    // Notes that are a folder's index or the home page carry theirs too.
    assert_eq!(
        article_class(&s.output("deck/index.html")),
        "section-page list-cards"
    );
    assert_eq!(article_class(&s.output("index.html")), "home home-cards");
}

#[test]
fn empty_built_in_fields_are_absent() {
    let s = site();
    s.write(
        "content/Empty fields.md",
        "---\ntags:\naliases: []\ntitle:\ndate:\ndescription:\nalias: ''\ncssclasses: []\npermalink:\n---\nBody.\n",
    );
    let run = s.build();
    assert!(!run.stderr.contains("error"), "{}", run.stderr);
    let html = s.output("empty-fields/index.html");
    assert_eq!(title_of(&html), "Empty fields · Vault");
    assert!(!s.output_exists("tags/index.html"));
}

#[test]
fn tags_written_the_obsidian_ways_share_tag_pages() {
    let s = site();
    s.write("content/one.md", "---\ntags: foo\n---\n1\n")
        .write("content/two.md", "---\ntags: [foo, bar]\n---\n2\n")
        .write("content/three.md", "---\ntags: \"#foo\"\n---\n3\n")
        .write(
            "content/four.md",
            "---\ntags:\n  - \"#bar\"\n  - Foo\n---\n4\n",
        );
    s.build();
    let foo = s.output("tags/foo/index.html");
    for page in ["/one/", "/two/", "/three/", "/four/"] {
        assert!(foo.contains(&format!("href=\"{page}\"")), "{page}: {foo}");
    }
    let bar = s.output("tags/bar/index.html");
    assert!(bar.contains("href=\"/four/\"") && bar.contains("href=\"/two/\""));
    assert!(!s.output_exists("tags/-foo/index.html"));
    // The page's own tag list links to the tag pages, without the `#`.
    let four = s.output("four/index.html");
    assert!(four.contains("href=\"/tags/bar/\""), "{four}");
    assert!(
        four.contains(">#bar</a>") && !four.contains("##bar"),
        "{four}"
    );
}

#[test]
fn a_name_alias_is_a_redirect_at_the_sibling_url() {
    let s = site();
    s.write(
        "content/Plugins/Quick switcher.md",
        "---\naliases: [Switcher, QS, Quick switcher]\n---\nSwitch.\n",
    )
    .write(
        "content/Plugins/Backlinks.md",
        "---\nalias: Linked mentions\n---\nB.\n",
    );
    let run = s.build();
    assert!(!run.stderr.contains("alias-taken"), "{}", run.stderr);
    for from in ["plugins/switcher", "plugins/qs"] {
        let r = s.output(&format!("{from}/index.html"));
        assert!(
            r.contains("http-equiv=\"refresh\" content=\"0; url=/plugins/quick-switcher/\""),
            "{from}: {r}"
        );
    }
    // The alias that is the page's own URL is the page itself.
    assert!(s
        .output("plugins/quick-switcher/index.html")
        .contains("Switch."));
    assert!(s
        .output("plugins/linked-mentions/index.html")
        .contains("url=/plugins/backlinks/"));
}

#[test]
fn a_name_alias_onto_a_taken_url_warns_and_makes_no_redirect() {
    let s = site();
    s.write("content/Notes/Graph view.md", "Graph.\n")
        .write(
            "content/Notes/Graph.md",
            "---\naliases: [Graph view, Tags, Local graph]\ntags: [x]\n---\nAbout graphs.\n",
        )
        .write("content/Top.md", "---\naliases: [Tags]\n---\nTop.\n");
    let run = s.build();
    // The page keeps its URL; the alias does not replace it.
    assert!(s.output("notes/graph-view/index.html").contains("Graph."));
    assert!(
        run.stderr.contains("warning[alias-taken]")
            && run
                .stderr
                .contains("the alias `Graph view` makes no redirect: its URL /notes/graph-view/ is taken by the page content/Notes/Graph view.md"),
        "{}",
        run.stderr
    );
    // `Tags` at the root would land on the list of tags.
    assert!(
        run.stderr
            .contains("its URL /tags/ is taken by the list of tags"),
        "{}",
        run.stderr
    );
    assert!(!s.output("tags/index.html").contains("http-equiv"));
    // A name beside a page that is free still makes its redirect.
    assert!(s
        .output("notes/local-graph/index.html")
        .contains("url=/notes/graph/"));
    assert!(s
        .output("notes/tags/index.html")
        .contains("url=/notes/graph/"));
}

#[test]
fn a_path_alias_onto_a_taken_url_stays_an_error() {
    let s = site();
    s.write("content/a.md", "a\n")
        .write("content/b.md", "---\naliases: [/a/]\n---\nb\n");
    let run = s.run(&["build"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("error[output-collision]"),
        "{}",
        run.stderr
    );
}

#[test]
fn titles_keep_file_and_folder_names_as_written() {
    let s = site();
    s.write("content/Tools/obsidian cli.md", "Run it.\n")
        .write("content/Tools/CLI.md", "Commands.\n")
        .write("content/Tools/With heading.md", "# A heading\n\nText.\n")
        .write("content/Tools/my_notes-2.md", "Notes.\n");
    s.build();
    assert_eq!(
        title_of(&s.output("tools/obsidian-cli/index.html")),
        "obsidian cli · Vault"
    );
    assert_eq!(title_of(&s.output("tools/cli/index.html")), "CLI · Vault");
    assert_eq!(
        title_of(&s.output("tools/my-notes-2/index.html")),
        "my_notes-2 · Vault"
    );
    assert_eq!(
        title_of(&s.output("tools/with-heading/index.html")),
        "A heading · Vault"
    );
    // The folder without an index page is titled by its name as written, in its index and crumbs.
    let section = s.output("tools/index.html");
    assert_eq!(title_of(&section), "Tools · Vault");
    let s2 = site();
    s2.write("content/user interface/Sidebar.md", "Side.\n");
    s2.build();
    let section = s2.output("user-interface/index.html");
    assert_eq!(title_of(&section), "user interface · Vault");
    let page = s2.output("user-interface/sidebar/index.html");
    assert!(page.contains(">user interface</a>"), "{page}");
}

#[test]
fn front_matter_tags_are_listed_once_by_slug() {
    let s = site();
    s.write(
        "content/p.md",
        "---\ntags: [Launch, launch, '#launch']\n---\nx\n",
    );
    s.build();
    let page = s.output("p/index.html");
    assert_eq!(page.matches("href=\"/tags/launch/\"").count(), 1, "{page}");
    let tag = s.output("tags/launch/index.html");
    assert_eq!(tag.matches("href=\"/p/\"").count(), 1, "{tag}");
}

#[test]
fn a_permalink_of_slash_makes_the_home_page() {
    let s = site();
    s.write("content/Home.md", "---\npermalink: /\n---\nWelcome home.\n")
        .write("content/Notes/One.md", "See [[Home]].\n");
    s.build();
    let home = s.output("index.html");
    assert!(home.contains("Welcome home."), "{home}");
    assert!(!s.output_exists("home/index.html"));
    assert!(s.output("notes/one/index.html").contains("href=\"/\""));
}

#[test]
fn a_permalink_onto_its_folder_makes_the_folder_index() {
    let s = site();
    s.write(
        "content/Bases/Introduction to Bases.md",
        "---\npermalink: bases\n---\nAll about bases.\n",
    )
    .write("content/Bases/Views.md", "Views.\n");
    s.build();
    let index = s.output("bases/index.html");
    assert!(index.contains("All about bases."), "{index}");
    assert_eq!(title_of(&index), "Introduction to Bases · Vault");
    // It is the folder's index: it lists the folder's pages.
    assert!(index.contains("href=\"/bases/views/\""), "{index}");
    assert!(!s.output_exists("bases/introduction-to-bases/index.html"));
}
