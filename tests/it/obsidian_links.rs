//! Links as Obsidian resolves them, embeds, files found anywhere, and the `broken_links` policy.

use crate::support::TestSite;

/// The `href`s of every `<a>` in `html`, in order.
fn hrefs(html: &str) -> Vec<String> {
    html.match_indices("<a ")
        .filter_map(|(i, _)| {
            let tag = &html[i..i + html[i..].find('>')?];
            let h = tag.find("href=\"")? + 6;
            Some(tag[h..h + tag[h..].find('"')?].to_string())
        })
        .collect()
}

/// The page's own content (the theme's `prose` block), so that the theme's links stay out.
fn main_of(html: &str) -> &str {
    let start = html.find("<div class=\"prose\">").expect("a prose block");
    let rest = &html[start..];
    // The theme closes the block at the start of an indented line.
    let end = rest.find("</div>\n  ").unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn links_resolve_by_name_path_title_and_case_as_in_obsidian() {
    let s = TestSite::new("title: Vault\n");
    s.write("content/Folder A/My Note.md", "Some text.\n")
        .write("content/Other/Guide.md", "---\ntitle: The Field Guide\n---\nGuide.\n")
        .write("content/Other/Sibling.md", "Sibling.\n")
        .write(
            "content/Other/Start.md",
            "[[my note]] [[Folder A/My Note]] [[MY NOTE.md]] [[The Field Guide]] [[./Sibling]] [[../Folder A/My Note]] [[Sibling|the other one]]\n",
        );
    let run = s.build();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let html = s.output("other/start/index.html");
    let links = hrefs(main_of(&html));
    assert_eq!(
        links,
        [
            "/folder-a/my-note/",
            "/folder-a/my-note/",
            "/folder-a/my-note/",
            "/other/guide/",
            "/other/sibling/",
            "/folder-a/my-note/",
            "/other/sibling/",
        ],
        "{html}"
    );
    assert!(html.contains(">the other one</a>"), "{html}");
    // Without a label, a wikilink shows its target's title, here the file name as written.
    assert!(html.contains(">My Note</a>"), "{html}");
}

#[test]
fn headings_are_found_by_their_text_nested_and_by_id() {
    let s = TestSite::new("title: Vault\n");
    s.write(
        "content/Setup.md",
        "## Install the tool\n\nA.\n\n## Windows\n\nW.\n\n## Linux\n\n### Windows\n\nUnder Linux, oddly.\n",
    )
    .write(
        "content/Start.md",
        "[[Setup#Install the tool]] [[Setup#install THE tool]] [[Setup#install-the-tool]] [[Setup#Linux#Windows]] [[Setup#Windows]] [see](Setup.md#Install%20the%20tool)\n",
    );
    s.build();
    let html = s.output("start/index.html");
    assert_eq!(
        hrefs(main_of(&html)),
        [
            "/setup/#install-the-tool",
            "/setup/#install-the-tool",
            "/setup/#install-the-tool",
            "/setup/#windows-1",
            "/setup/#windows",
            "/setup/#install-the-tool",
        ],
        "{html}"
    );
    assert!(html.contains(">Setup › Install the tool</a>"), "{html}");
}

#[test]
fn a_short_name_two_notes_share_goes_to_the_closer_one_with_a_warning() {
    let s = TestSite::new("title: Vault\n");
    s.write("content/Sync/Security.md", "Sync security.\n")
        .write("content/Publish/Security.md", "Publish security.\n")
        .write("content/Publish/Plans.md", "See [[Security]].\n")
        .write("content/Sync/Plans.md", "See [[Security]].\n");
    let run = s.build();
    assert!(
        run.stderr.contains("warning[ambiguous-link]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("content/Publish/Plans.md:1:5"),
        "{}",
        run.stderr
    );
    assert!(hrefs(main_of(&s.output("publish/plans/index.html")))
        .contains(&"/publish/security/".to_string()));
    assert!(
        hrefs(main_of(&s.output("sync/plans/index.html"))).contains(&"/sync/security/".to_string())
    );
}

#[test]
fn attachments_are_found_anywhere_by_name_and_embedded_by_type() {
    let s = TestSite::new("title: Vault\n");
    s.write("content/Attachments/Engelbart pic.png", "png")
        .write("content/Attachments/talk.mp3", "mp3")
        .write("content/Attachments/demo.mp4", "mp4")
        .write("content/Attachments/Manual.pdf", "pdf")
        .write("content/notes/here.png", "png")
        .write(
            "content/notes/Page.md",
            "![[Engelbart pic.png]]\n\n![[Engelbart pic.png|300]]\n\n![[Engelbart pic.png|300x200]]\n\n![[Engelbart pic.png|A portrait]]\n\n![[talk.mp3]]\n\n![[demo.mp4]]\n\n![[Manual.pdf]]\n\n![alt](<Engelbart pic.png>)\n\n![beside](here.png)\n\n| a | b |\n|---|---|\n| x | ![[Engelbart pic.png\\|100]] |\n\n[the manual](Manual.pdf) and [[Manual.pdf]]\n",
        );
    let run = s.build();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let html = s.output("notes/page/index.html");
    let src = "/attachments/Engelbart%20pic.png";
    assert!(
        html.contains(&format!(
            "<img src=\"{src}\" alt=\"Engelbart pic.png\" loading=\"lazy\">"
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "<img src=\"{src}\" alt=\"Engelbart pic.png\" width=\"300\" loading"
        )),
        "{html}"
    );
    assert!(html.contains("width=\"300\" height=\"200\""), "{html}");
    assert!(html.contains("alt=\"A portrait\""), "{html}");
    assert!(html.contains("width=\"100\""), "{html}");
    assert!(html.contains("<audio class=\"embed-audio\" controls preload=\"metadata\" src=\"/attachments/talk.mp3\""), "{html}");
    assert!(html.contains("<video class=\"embed-video\" controls preload=\"metadata\" src=\"/attachments/demo.mp4\""), "{html}");
    assert!(
        html.contains("<iframe class=\"embed-pdf\" src=\"/attachments/Manual.pdf\""),
        "{html}"
    );
    assert!(
        html.contains(&format!("<img src=\"{src}\" alt=\"alt\"")),
        "{html}"
    );
    assert!(
        html.contains("<img src=\"/notes/here.png\" alt=\"beside\""),
        "{html}"
    );
    assert_eq!(
        html.matches("href=\"/attachments/Manual.pdf\"").count(),
        2,
        "{html}"
    );
    assert!(s.output_exists("attachments/Engelbart pic.png"));
}

#[test]
fn embeds_show_the_note_its_section_or_nothing_that_loops() {
    let s = TestSite::new("title: Vault\n");
    s.write(
        "content/lists/Checklist.md",
        "Intro of the list.\n\n## Before the live\n\n- [ ] Test the light, see [[Sib]]\n\n## After the live\n\nReview.\n",
    )
    .write("content/lists/Sib.md", "Sibling.\n")
    .write("content/Sib.md", "Root sibling.\n")
    .write(
        "content/plays/Launch.md",
        "Before:\n\n![[Checklist#Before the live]]\n\nAll of it:\n\n![[Checklist]]\n",
    );
    s.build();
    let html = s.output("plays/launch/index.html");
    assert!(!html.contains('\u{FDD0}'), "{html}");
    // The section: its heading and list, not the next section.
    let first = &html[html.find("<div class=\"embed\">").expect(&html)..];
    let first = &first[..first.find("</div>").unwrap()];
    assert!(first.contains("Before the live"), "{first}");
    assert!(first.contains("Test the light"), "{first}");
    assert!(!first.contains("Review."), "{first}");
    assert!(
        first.contains("href=\"/lists/checklist/#before-the-live\""),
        "{first}"
    );
    // Links inside an embed resolve from the embedded page: its sibling, not the root one.
    assert!(first.contains("href=\"/lists/sib/\""), "{first}");
    assert!(
        html.contains("Intro of the list.") && html.contains("Review."),
        "{html}"
    );
    assert!(
        !html.contains("<p><div"),
        "an embed alone in a paragraph is a block: {html}"
    );

    // A note that embeds itself, and two sections that show each other, loop: a located error.
    s.write("content/plays/Self.md", "Me:\n\n![[Self]]\n")
        .write(
            "content/a.md",
            "## One\n\n![[b#Two]]\n\n## Other\n\nText.\n",
        )
        .write("content/b.md", "## Two\n\n![[a#One]]\n");
    let run = s.run(&["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error[embed-loop]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("content/plays/Self.md:3:1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("content/a.md:3:1") || run.stderr.contains("content/b.md:3:1"),
        "{}",
        run.stderr
    );
    // Sections of two pages that embed each other's other sections are fine.
    s.write("content/plays/Self.md", "Me.\n")
        .write("content/b.md", "## Two\n\n![[a#Other]]\n");
    let run = s.run(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let a = s.output("a/index.html");
    assert!(a.contains("Text."), "{a}");
}

#[test]
fn links_and_images_in_headings_are_resolved_and_checked() {
    let s = TestSite::new("title: Vault\n");
    s.write("content/pic.png", "png")
        .write("content/Other.md", "Other.\n")
        .write(
            "content/Page.md",
            "## See [[Other]] and ![a](pic.png)\n\nText.\n",
        );
    s.build();
    let html = s.output("page/index.html");
    assert!(
        html.contains("<h2 id=\"see-and\">See <a class=\"wikilink\" href=\"/other/\">Other</a>"),
        "{html}"
    );
    assert!(html.contains("<img src=\"/pic.png\" alt=\"a\""), "{html}");
    s.write(
        "content/Page.md",
        "## See [[Nowhere]]\n\n## ![a](gone.png)\n",
    );
    let run = s.run(&["build"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("content/Page.md:1:8"), "{}", run.stderr);
    assert!(run.stderr.contains("content/Page.md:3:4"), "{}", run.stderr);
}

#[test]
fn broken_links_warn_writes_the_site_and_marks_each_link() {
    let page = "[[Nowhere]] [[Real#No such heading]] [gone](gone.md) ![pic](gone.png) ![[Nowhere else]] [[Real]]\n";
    let s = TestSite::new("title: Vault\n");
    s.write("content/Real.md", "## A heading\n")
        .write("content/Page.md", page);
    // The default is `error`: nothing is written.
    let run = s.run(&["build"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error[unknown-link]"), "{}", run.stderr);
    assert!(!s.output_exists("page/index.html"));

    s.write("site.yaml", "title: Vault\nbroken_links: warn\n");
    let run = s.build();
    for (code, at) in [
        ("unknown-link", "content/Page.md:1:1"),
        ("unknown-anchor", "content/Page.md:1:13"),
        ("unknown-link", "content/Page.md:1:38"),
        ("missing-file", "content/Page.md:1:54"),
        ("unknown-link", "content/Page.md:1:71"),
    ] {
        assert!(
            run.stderr.contains(&format!("warning[{code}]")),
            "{code}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(at), "{at}: {}", run.stderr);
    }
    assert!(run.stderr.contains("5 warnings"), "{}", run.stderr);
    let html = s.output("page/index.html");
    assert!(
        html.contains("<a class=\"wikilink broken-link\" href=\"#\">Nowhere</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a class=\"wikilink broken-link\" href=\"/real/\">Real#No such heading</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"#\" class=\"broken-link\">gone</a>"),
        "{html}"
    );
    assert!(
        html.contains("<img src=\"#\" class=\"broken-link\" alt=\"pic\""),
        "{html}"
    );
    assert!(html.contains("<p class=\"embed broken-link\">"), "{html}");
    assert!(
        html.contains("<a class=\"wikilink\" href=\"/real/\">Real</a>"),
        "{html}"
    );
    // The theme styles the class.
    let css = s.output("style.css");
    assert!(
        css.contains(".broken-link"),
        "the theme styles broken links"
    );

    // `check --format json` reports them as warnings, and succeeds.
    let run = s.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect(&run.stdout);
    let all = json.as_array().expect("a list");
    assert_eq!(all.len(), 5, "{json}");
    assert!(all.iter().all(|d| d["severity"] == "warning"), "{json}");
    assert!(
        all.iter()
            .any(|d| d["code"] == "missing-file" && d["line"] == 1 && d["column"] == 54),
        "{json}"
    );
}

#[test]
fn a_bad_broken_links_value_is_located() {
    let s = TestSite::new("title: Vault\nbroken_links: maybe\n");
    s.write("content/a.md", "A.\n");
    let run = s.run(&["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert!(run.stderr.contains("site.yaml:2:15"), "{}", run.stderr);
    assert!(
        run.stderr.contains("`error`") && run.stderr.contains("`warn`"),
        "{}",
        run.stderr
    );
}
