//! The default theme's HTML: landmarks, navigation, breadcrumbs, table of contents, facts, backlinks,
//! learning-path navigation, matrices and the home page, on a small typed site.

use crate::support::TestSite;

/// Kinds with a learning path and a matrix; pages link to each other every way the theme shows.
const CONFIG: &str = "\
title: Theme Book
description: A book to test the theme.
edit_url: https://git.example.com/kb/edit/main/{path}
kinds:
  tool:
    folder: tools
    title: Tools
    singular: Tool
    description: The tools we use.
    index: { group_by: category }
    fields:
      zh: { type: string, label: Chinese, description: Chinese name }
      category: { type: enum, values: [store, daily-ads], required: true }
  playbook:
    folder: playbooks
    title: Playbooks
    singular: Playbook
    fields:
      tools: { type: refs, to: tool, description: Tools it uses }
  path:
    folder: paths
    title: Learning paths
    singular: Learning path
    sequence: steps
    fields:
      steps:
        type: list
        of: { type: object, fields: { page: { type: ref, required: true }, why: { type: string } } }
views:
  - matrix: { slug: tools-by-playbook, title: Tools by playbook, rows: tool, cols: playbook }
";

fn site() -> TestSite {
    let s = TestSite::new(CONFIG);
    s.write(
        "content/_index.md",
        "---\ntitle: Theme Book\ndescription: Start here.\n---\nWelcome to the book.\n",
    )
    .write(
        "content/tools/doudian.md",
        "---\ntitle: Doudian\nzh: 抖店\ncategory: store\nupdated: 2024-05-06\n---\nThe store.\n\n## Setup\n\nText.\n\n### Accounts\n\nMore.\n\n## After-sales\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    )
    .write(
        "content/tools/qianchuan.md",
        "---\ntitle: Qianchuan\ncategory: daily-ads\n---\nAds.\n",
    )
    .write(
        "content/playbooks/launch.md",
        "---\ntitle: Launch\ntools: [doudian]\n---\nUse [[qianchuan]].\n\n- [ ] Open the store\n- [x] Hire an anchor\n\n> [!WARNING]\n> Careful.\n",
    )
    .write(
        "content/paths/first-week.md",
        "---\ntitle: First week\nsteps:\n  - page: doudian\n    why: Where sales happen.\n  - page: launch\n    why: Put it to work.\n  - page: qianchuan\n---\nRead in order.\n",
    );
    s.build();
    s
}

/// The opening tags of landmarks and headings in order, with the attributes that name them: the page's
/// outline as assistive technology sees it.
fn outline(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if [
            "header", "nav", "main", "footer", "aside", "section", "article", "h1", "h2",
        ]
        .contains(&name.as_str())
        {
            let attrs: Vec<String> = ["id", "class", "aria-label", "aria-labelledby"]
                .iter()
                .filter_map(|a| {
                    let key = format!(" {a}=\"");
                    let at = tag.find(&key)? + key.len();
                    let len = tag[at..].find('"')?;
                    Some(format!("{a}={}", &tag[at..at + len]))
                })
                .collect();
            out.push_str(&format!("{name} {}\n", attrs.join(" ")));
        }
    }
    out
}

#[test]
fn page_landmarks_and_outline() {
    let s = site();
    let html = s.output("tools/doudian/index.html");
    insta::assert_snapshot!(outline(&html));
    let body = &html[html.find("<body").expect("body")..];
    let first_link = body.find("<a ").expect("a link");
    assert!(
        body[first_link..].starts_with("<a class=\"skip-link\" href=\"#main\">"),
        "the skip link comes first"
    );
    assert!(html.contains("<main id=\"main\""));
    assert!(html.contains("<html lang=\"en\">"));
}

#[test]
fn header_has_keyboard_controls_and_room_for_tools() {
    let html = site().output("tools/doudian/index.html");
    assert!(
        html.contains(
            "<button class=\"theme-toggle icon-button\" type=\"button\" aria-pressed=\"false\""
        ),
        "{html}"
    );
    assert!(html.contains("aria-controls=\"site-nav\""), "menu button");
    assert!(html.contains("<div class=\"header-tools\">"));
    // The theme is applied before first paint, from the reader's stored choice.
    let head = &html[..html.find("</head>").expect("head")];
    assert!(head.contains("localStorage.getItem(\"fieldbook-theme\")"));
}

#[test]
fn sidebar_marks_the_current_page_and_lists_only_its_kind() {
    let s = site();
    let html = s.output("tools/doudian/index.html");
    let nav = &html
        [html.find("id=\"site-nav\"").expect("nav")..html.find("</nav>\n<main").expect("nav end")];
    assert!(
        nav.contains("<a href=\"/tools/doudian/\" aria-current=\"page\">Doudian</a>"),
        "{nav}"
    );
    assert!(nav.contains("<a href=\"/tools/\" aria-current=\"true\">Tools</a>"));
    assert!(
        nav.contains("href=\"/tools/qianchuan/\""),
        "the kind's neighbours"
    );
    assert!(
        !nav.contains("href=\"/playbooks/launch/\""),
        "other kinds are not inlined: {nav}"
    );
    assert!(nav.contains("<ul class=\"nav-pages\" id=\"nav-kind-playbook\" hidden></ul>"));
    assert!(nav.contains("href=\"/matrices/tools-by-playbook/\""));
    // The kind index marks itself as the current page.
    let index = s.output("tools/index.html");
    assert!(index.contains("<a href=\"/tools/\" aria-current=\"page\">Tools</a>"));
}

#[test]
fn nav_json_holds_every_page_and_pages_stay_small_as_the_site_grows() {
    let s = site();
    let nav: serde_json::Value = serde_json::from_str(&s.output("nav.json")).expect("json");
    let kinds = nav["kinds"].as_array().expect("kinds");
    assert_eq!(kinds[0]["name"], "tool");
    assert_eq!(kinds[0]["pages"][0]["url"], "/tools/doudian/");
    assert_eq!(kinds[0]["pages"].as_array().map(Vec::len), Some(2));
    let small = s.output("tools/doudian/index.html").len();

    // Two hundred more playbooks: a tool page does not carry them.
    for n in 0..200 {
        s.write(
            &format!("content/playbooks/p{n:03}.md"),
            &format!("---\ntitle: Playbook {n}\n---\nx\n"),
        );
    }
    s.build();
    let grown = s.output("tools/doudian/index.html").len();
    assert!(grown < small + 100, "{small} -> {grown}");
    // A playbook lists a window of its neighbours and links to the rest.
    let p = s.output("playbooks/p100/index.html");
    let nav = &p[p.find("id=\"nav-kind-playbook\"").expect("list")..];
    let nav = &nav[..nav.find("</ul>").expect("end")];
    assert_eq!(nav.matches("<li>").count(), 30, "{nav}");
    assert!(nav.contains("All of Playbooks"), "{nav}");
    // No page but the home and search pages carries a count that a new page would change.
    assert!(!p.contains("201"), "a page shows the site's page count");
    assert!(nav.contains("aria-current=\"page\">Playbook 100<"), "{nav}");
    let nav: serde_json::Value = serde_json::from_str(&s.output("nav.json")).expect("json");
    assert_eq!(nav["kinds"][1]["pages"].as_array().map(Vec::len), Some(201));
}

#[test]
fn breadcrumbs_toc_facts_and_tables() {
    let html = site().output("tools/doudian/index.html");
    assert!(html.contains(
        "<nav class=\"breadcrumbs\" aria-label=\"Breadcrumbs\"><ol><li><a href=\"/\">Home</a></li><li><a href=\"/tools/\">Tools</a></li></ol></nav>"
    ));
    assert!(html.contains("<article class=\"page kind-tool has-toc\""));
    let toc = &html[html
        .find("<nav class=\"toc\" aria-label=\"On this page\">")
        .expect("toc")..];
    let toc = &toc[..toc.find("</nav>").expect("toc end")];
    for id in ["setup", "accounts", "after-sales"] {
        assert!(toc.contains(&format!("href=\"#{id}\"")), "{toc}");
    }
    assert!(toc.contains("class=\"toc-l3\""));
    // Facts: labels from the schema, enum values as words.
    assert!(
        html.contains("<dt title=\"Chinese name\">Chinese</dt><dd><span>抖店</span></dd>"),
        "{html}"
    );
    assert!(
        html.contains("<dt>Category</dt><dd><span>Store</span></dd>"),
        "{html}"
    );
    assert!(html.contains("<div class=\"table-wrap\">\n<table>"));
    // Last updated and the edit link.
    assert!(html.contains("Last updated <time datetime=\"2024-05-06\">2024-05-06</time>"));
    assert!(html.contains(
        "<a class=\"edit-link\" href=\"https://git.example.com/kb/edit/main/content/tools/doudian.md\">Edit this page</a>"
    ));
}

#[test]
fn backlinks_and_prev_next() {
    let s = site();
    let html = s.output("tools/doudian/index.html");
    let back = &html[html
        .find("<section class=\"backlinks\" aria-labelledby=\"backlinks-title\">")
        .expect("backlinks")..];
    let back = &back[..back.find("</section>").expect("end")];
    assert!(back.contains("<h2 id=\"backlinks-title\">Linked from</h2>"));
    assert!(back.contains("<h3>Playbooks · tools</h3>"), "{back}");
    assert!(back.contains("href=\"/playbooks/launch/\""), "{back}");
    assert!(html.contains("<nav class=\"prevnext\" aria-label=\"Previous and next in Tools\">"));
    assert!(html.contains("<a class=\"next\" rel=\"next\" href=\"/tools/qianchuan/\">"));
    let mention = s.output("tools/qianchuan/index.html");
    assert!(mention.contains("<h3>Mentioned in</h3>"), "{mention}");
}

#[test]
fn path_pages_list_steps_and_steps_link_inside_the_path() {
    let s = site();
    let path = s.output("paths/first-week/index.html");
    assert!(path.contains("<section class=\"path-steps\" aria-labelledby=\"path-steps-title\">"));
    assert!(path.contains("<h2 id=\"path-steps-title\">The 3 steps</h2>"));
    assert!(
        path.contains("<div class=\"path-progress\" hidden>"),
        "progress appears with the script"
    );
    assert!(path.contains("<li class=\"step\" data-url=\"/tools/doudian/\">"));
    assert!(path.contains("<p class=\"why\">Where sales happen.</p>"));
    assert!(path.contains("href=\"/tools/doudian/\">Start with step 1</a>"));

    let step = s.output("playbooks/launch/index.html");
    let nav = &step[step
        .find("<nav class=\"path-nav\" aria-label=\"Learning path: First week\">")
        .expect("path nav")..];
    let nav = &nav[..nav.find("</nav>").expect("end")];
    assert!(
        nav.contains("Step 2 of 3 in <a href=\"/paths/first-week/\">First week</a>"),
        "{nav}"
    );
    assert!(nav.contains("<progress class=\"path-bar\" max=\"3\" value=\"2\""));
    assert!(nav.contains("rel=\"prev\" href=\"/tools/doudian/\""));
    assert!(nav.contains("rel=\"next\" href=\"/tools/qianchuan/\""));
    assert!(
        step.contains("Step 3 of 3 in First week"),
        "the next step at the bottom"
    );

    let last = s.output("tools/qianchuan/index.html");
    assert!(last.contains("Last step: back to the path"));
}

#[test]
fn home_says_what_the_site_is_where_to_start_and_what_changed() {
    let html = site().output("index.html");
    assert!(html.contains("<h1>Theme Book</h1>"));
    assert!(html.contains("<p class=\"lead\">Start here.</p>"));
    assert!(html.contains("Welcome to the book."));
    assert!(html.contains("href=\"/paths/first-week/\">Start here: First week</a>"));
    let start = &html[html
        .find("<h2 id=\"start\">Where to start</h2>")
        .expect("start")..];
    assert!(start.contains("3 steps · begins with <a href=\"/tools/doudian/\">Doudian</a>"));
    assert!(html.contains(
        "<a class=\"card-title\" href=\"/tools/\">Tools</a> <span class=\"count\">2 pages</span>"
    ));
    let recent = &html[html.find("<h2 id=\"recent\">").expect("recent")..];
    assert!(recent.contains("<time class=\"entry-date\" datetime=\"2024-05-06\">2024-05-06</time>"));
}

#[test]
fn matrix_cells_link_and_empty_cells_show() {
    let html = site().output("matrices/tools-by-playbook/index.html");
    assert!(html.contains("<div class=\"matrix-scroll\" tabindex=\"0\" role=\"region\""));
    assert!(html.contains("<caption class=\"visually-hidden\">Tools by playbook: Tools in rows, Playbooks in columns</caption>"));
    assert!(html.contains("<th scope=\"col\"><a href=\"/playbooks/launch/\">Launch</a></th>"));
    assert!(html.contains("<th scope=\"row\"><a href=\"/tools/doudian/\">Doudian</a></th>"));
    assert!(html.contains("<td class=\"direct\">"));
    assert!(html.contains("<td class=\"empty\"><span aria-hidden=\"true\">·</span><span class=\"visually-hidden\">none</span></td>"));
    assert!(html.contains("aria-current=\"page\">Tools by playbook</a>"));
}

#[test]
fn kind_index_groups_with_a_jump_list() {
    let html = site().output("tools/index.html");
    assert!(html.contains("<nav class=\"group-jump\" aria-label=\"Groups on this page\">"));
    assert!(html.contains("<a href=\"#group-2\">Daily ads <span class=\"count\">1</span></a>"));
    // The grouping field is not repeated in each entry.
    assert!(!html.contains("<dt>Category</dt>"), "{html}");
}

#[test]
fn nothing_is_fetched_from_elsewhere() {
    let s = site();
    for page in ["index.html", "tools/doudian/index.html", "404.html"] {
        let html = s.output(page);
        for tag in ["<script", "<link", "<img"] {
            for part in html.split(tag).skip(1) {
                let part = &part[..part.find('>').unwrap_or(part.len())];
                assert!(!part.contains("://"), "{page}: {tag}{part}");
            }
        }
    }
    let css = s.output("style.css");
    assert!(!css.contains("@import") && !css.contains("@font-face") && !css.contains("url("));
    assert!(!s.output("fieldbook.js").contains("://"));
}
