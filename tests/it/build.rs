//! `fieldbook build`: pages and URLs, Markdown features, templates, static files, base_url, the atomic
//! swap and the refusal to touch folders fieldbook did not make.

use crate::support::{tree, TestSite};

fn plain_site() -> TestSite {
    let s = TestSite::new("title: Plain\n");
    s.write(
        "content/_index.md",
        "---\ntitle: Welcome\n---\nHello home.\n",
    )
    .write(
        "content/guide/_index.md",
        "---\ntitle: The guide\n---\nAll about it.\n",
    )
    .write(
        "content/guide/setup.md",
        "---\ntitle: Setup\nweight: 1\n---\nInstall it.\n",
    )
    .write("content/guide/usage.md", "# Using it\n\nRun it.\n")
    .write("content/guide/no_heading.md", "Just text.\n")
    .write(
        "content/about.md",
        "---\ntitle: About us\ndescription: Who we are.\n---\nWe write docs.\n",
    );
    s
}

#[test]
fn pages_get_pretty_urls_and_sections_list_them() {
    let s = plain_site();
    let run = s.build();
    assert!(
        run.stdout.starts_with("Built 6 pages in "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.trim_end().ends_with(" ms"), "{}", run.stdout);
    let setup = s.output("guide/setup/index.html");
    assert!(setup.contains("<h1>Setup</h1>"), "{setup}");
    assert!(s.output("about/index.html").contains("We write docs."));
    let guide = s.output("guide/index.html");
    assert!(guide.contains("All about it."));
    // Listed by weight, then title.
    let setup_at = guide.find("href=\"/guide/setup/\"").expect("setup listed");
    let usage_at = guide.find("href=\"/guide/usage/\"").expect("usage listed");
    assert!(setup_at < usage_at);
    let home = s.output("index.html");
    assert!(home.contains("Hello home."));
    assert!(
        home.contains("href=\"/guide/\""),
        "home lists sections: {home}"
    );
}

#[test]
fn titles_come_from_front_matter_then_first_heading_then_file_name() {
    let s = plain_site();
    s.build();
    let usage = s.output("guide/usage/index.html");
    assert!(usage.contains("<title>Using it · Plain</title>"), "{usage}");
    assert_eq!(
        usage.matches("Using it</h1>").count(),
        1,
        "the H1 becomes the title, not a second heading"
    );
    assert!(s
        .output("guide/no-heading/index.html")
        .contains("<h1>no_heading</h1>"));
}

#[test]
fn quiet_prints_nothing() {
    let s = plain_site();
    let run = s.run(&["build", "-q"]).ok();
    assert_eq!(run.stdout, "");
}

#[test]
fn drafts_are_left_out_unless_asked_for() {
    let s = plain_site();
    s.write(
        "content/guide/wip.md",
        "---\ntitle: WIP\ndraft: true\n---\nNot yet.\n",
    );
    s.build();
    assert!(!s.output_exists("guide/wip/index.html"));
    assert!(!s.output("guide/index.html").contains("WIP"));
    s.run(&["build", "--drafts"]).ok();
    assert!(s.output("guide/wip/index.html").contains("Not yet."));
}

#[test]
fn markdown_extensions_render() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/md.md",
        "---\ntitle: Md\n---\n\
| a | b |\n|---|---|\n| 1 | 2 |\n\n\
Text with a note.[^1]\n\n[^1]: The note.\n\n\
~~gone~~\n\n\
- [ ] todo\n- [x] done\n\n\
## Custom {#my-id .wide}\n",
    );
    s.build();
    let html = s.output("md/index.html");
    assert!(
        html.contains("<table>") && html.contains("<td>2</td>"),
        "{html}"
    );
    assert!(html.contains("footnote-definition"), "{html}");
    assert!(html.contains("<del>gone</del>"));
    assert!(html.contains("type=\"checkbox\""));
    assert!(html.contains("checked"));
    assert!(html.contains("<h2 id=\"my-id\" class=\"wide\">"), "{html}");
}

#[test]
fn callouts_become_styled_asides() {
    let s = TestSite::new("title: T\n");
    let mut body = String::from("---\ntitle: C\n---\n");
    for kind in ["NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"] {
        body.push_str(&format!("> [!{kind}]\n> About {kind}.\n\n"));
    }
    s.write("content/c.md", &body);
    s.build();
    let html = s.output("c/index.html");
    for kind in ["note", "tip", "important", "warning", "caution"] {
        assert!(
            html.contains(&format!(
                "<aside class=\"callout callout-{kind}\" role=\"note\" data-callout=\"{kind}\">"
            )),
            "{kind}: {html}"
        );
    }
    assert!(html.contains("<p class=\"callout-title\">Warning</p>"));
}

#[test]
fn headings_get_unique_ids_anchors_and_a_toc() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/h.md",
        "---\ntitle: H\n---\n## Setup\n\ntext\n\n## Setup\n\n### Deep dive\n\n## 安装 步骤\n",
    );
    s.build();
    let html = s.output("h/index.html");
    assert!(html.contains("<h2 id=\"setup\">"));
    assert!(html.contains("<h2 id=\"setup-1\">"));
    assert!(html.contains("<h3 id=\"deep-dive\">"));
    assert!(html.contains("<h2 id=\"安装-步骤\">"), "{html}");
    assert!(html.contains("<a class=\"anchor\" href=\"#setup-1\""));
    let toc_start = html.find("class=\"toc\"").expect("toc");
    let toc = &html[toc_start..toc_start + html[toc_start..].find("</nav>").expect("toc end")];
    assert!(
        toc.contains("href=\"#setup\"")
            && toc.contains("href=\"#setup-1\"")
            && toc.contains("href=\"#deep-dive\""),
        "{toc}"
    );
}

#[test]
fn code_is_highlighted_with_classes_and_unknown_languages_stay_plain() {
    let s = TestSite::new("title: T\n");
    s.write("content/code.md", "---\ntitle: Code\n---\n```rust\nfn main() { let x = 1; }\n```\n\n```klingon\n<b>qapla</b>\n```\n");
    s.build();
    let html = s.output("code/index.html");
    assert!(
        html.contains("<pre class=\"code\" data-lang=\"rust\">"),
        "{html}"
    );
    assert!(
        html.contains("class=\"hl-"),
        "classes, not inline styles: {html}"
    );
    assert!(!html.contains("style=\"color"), "{html}");
    assert!(html.contains("&lt;b&gt;qapla&lt;/b&gt;"), "{html}");
    let css = s.output("highlight.css");
    assert!(
        css.contains(".hl-") && css.contains("data-theme=\"dark\""),
        "light and dark styles"
    );
}

#[test]
fn a_site_template_overrides_the_theme() {
    let s = plain_site();
    s.write(
        "templates/page.html",
        "<p>custom {{ page.title }}</p>{{ page.content | safe }}",
    );
    s.build();
    let about = s.output("about/index.html");
    assert!(about.starts_with("<p>custom About us</p>"), "{about}");
    // Other templates still come from the theme.
    assert!(s.output("index.html").contains("<!doctype html>"));
}

#[test]
fn site_static_files_win_over_the_theme() {
    let s = plain_site();
    s.write("static/style.css", "body { color: red }\n")
        .write("static/extra/file.txt", "hi\n");
    s.build();
    assert_eq!(s.output("style.css"), "body { color: red }\n");
    assert_eq!(s.output("extra/file.txt"), "hi\n");
    assert!(
        s.output("fieldbook.js").contains("fieldbook"),
        "theme files still copied"
    );
}

#[test]
fn a_site_anywhere_builds_with_the_built_in_theme() {
    let s = plain_site();
    assert!(!s.path("themes").exists());
    s.build();
    assert!(s
        .output("about/index.html")
        .contains("<link rel=\"stylesheet\" href=\"/style.css\">"));
}

#[test]
fn base_url_sub_path_prefixes_every_internal_url() {
    let s = plain_site();
    s.write(
        "content/links.md",
        "---\ntitle: Links\n---\n[about](about.md) [abs](/guide/) ![img](pic.png)\n",
    )
    .write("content/pic.png", "png");
    s.run(&["build", "--base-url", "/kb/"]).ok();
    let html = s.output("links/index.html");
    assert!(html.contains("href=\"/kb/style.css\""), "{html}");
    assert!(html.contains("href=\"/kb/about/\""), "{html}");
    assert!(html.contains("href=\"/kb/guide/\""), "{html}");
    assert!(html.contains("src=\"/kb/pic.png\""), "{html}");
    for (path, bytes) in tree(&s.path("public")) {
        if !path.ends_with(".html") {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        for attr in ["href=\"/", "src=\"/"] {
            for (i, _) in text.match_indices(attr) {
                assert!(
                    text[i + attr.len() - 1..].starts_with("/kb/"),
                    "{path}: unprefixed URL at {}",
                    &text[i..(i + 40).min(text.len())]
                );
            }
        }
    }
    assert!(s.output("sitemap.xml").contains("<loc>/kb/about/</loc>"));
}

#[test]
fn assets_beside_pages_are_copied() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/guide/setup.md",
        "---\ntitle: S\n---\n![diagram](img/flow.svg)\n",
    )
    .write("content/guide/img/flow.svg", "<svg/>");
    s.build();
    assert_eq!(s.output("guide/img/flow.svg"), "<svg/>");
    assert!(s
        .output("guide/setup/index.html")
        .contains("src=\"/guide/img/flow.svg\""));
}

#[test]
fn sitemap_and_404_are_written() {
    let s = plain_site();
    s.write(
        "content/dated.md",
        "---\ntitle: Dated\ndate: 2024-01-02\nupdated: 2024-03-04\n---\nx\n",
    );
    s.build();
    let sitemap = s.output("sitemap.xml");
    assert!(sitemap.starts_with("<?xml"));
    assert!(sitemap.contains("<loc>/about/</loc>"));
    assert!(
        sitemap.contains("<loc>/dated/</loc><lastmod>2024-03-04</lastmod>"),
        "{sitemap}"
    );
    assert!(s.output("404.html").contains("Page not found"));
}

#[test]
fn full_base_url_makes_sitemap_absolute() {
    let s = TestSite::new("title: T\nbase_url: https://docs.example.com/kb/\n");
    s.write("content/a.md", "a\n");
    s.build();
    assert!(s
        .output("sitemap.xml")
        .contains("<loc>https://docs.example.com/kb/a/</loc>"));
    assert!(s.output("a/index.html").contains("href=\"/kb/style.css\""));
}

#[test]
fn two_builds_are_byte_identical() {
    let s = plain_site();
    s.write("content/code.md", "```rust\nfn a() {}\n```\n");
    s.build();
    let first = tree(&s.path("public"));
    s.build();
    assert_eq!(first, tree(&s.path("public")));
}

#[test]
fn a_failed_build_leaves_the_previous_site_untouched() {
    let s = plain_site();
    s.build();
    let before = tree(&s.path("public"));
    s.write("content/about.md", "---\ntitle: [unclosed\n---\n");
    let run = s.run(&["build"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(before, tree(&s.path("public")));
    let leftovers: Vec<_> = std::fs::read_dir(s.root())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("fieldbook-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no staging folder left: {leftovers:?}"
    );
}

#[test]
fn a_successful_build_leaves_no_stale_file() {
    let s = plain_site();
    s.build();
    assert!(s.output_exists("about/index.html"));
    std::fs::remove_file(s.path("content/about.md")).unwrap();
    s.build();
    assert!(!s.output_exists("about/index.html"));
}

#[test]
fn leftover_staging_folders_are_cleaned() {
    let s = plain_site();
    let stale = s.path(".public.fieldbook-tmp-999999");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join(".fieldbook-output"), "").unwrap();
    s.build();
    assert!(!stale.exists());
}

#[test]
fn refuses_to_replace_a_folder_it_did_not_make() {
    let s = plain_site();
    s.write("mine/keep.txt", "precious");
    let run = s.run(&["build", "--output", "mine"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("not made by fieldbook"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(s.path("mine/keep.txt")).unwrap(),
        "precious"
    );
    // An empty folder is fine, and after that it is ours.
    std::fs::create_dir_all(s.path("empty")).unwrap();
    s.run(&["build", "--output", "empty"]).ok();
    s.run(&["build", "--output", "empty"]).ok();
}

#[test]
fn refuses_the_site_root_content_and_their_ancestors() {
    let s = plain_site();
    for out in [".", "content", "content/guide", ".."] {
        let run = s.run(&["build", "--output", out]);
        assert_eq!(run.code, 2, "{out}: {run:?}");
        assert!(
            run.stderr.contains("refusing to write the site into"),
            "{out}: {}",
            run.stderr
        );
    }
    assert!(s.path("content/about.md").exists());
    assert!(s.path("site.yaml").exists());
}

#[test]
fn graph_json_lists_nodes_and_edges() {
    let s = TestSite::with_kinds();
    s.write(
        "content/positions/field.md",
        "---\ntitle: Field\nletter: F\n---\nx\n",
    )
    .write(
        "content/tools/doudian.md",
        "---\ntitle: Doudian\ncategory: store\npositions: [field]\n---\nSee [[field]].\n",
    );
    s.build();
    let g: serde_json::Value = serde_json::from_str(&s.output("graph.json")).unwrap();
    let nodes = g["nodes"].as_array().unwrap();
    assert!(nodes.iter().any(|n| n["id"] == "tool/doudian"
        && n["kind"] == "tool"
        && n["url"] == "/tools/doudian/"
        && n["title"] == "Doudian"
        && n["source"] == "tools/doudian.md"));
    assert!(nodes
        .iter()
        .any(|n| n["id"] == "position/field" && n["source"] == "positions/field.md"));
    let edges = g["edges"].as_array().unwrap();
    assert!(edges.iter().any(|e| e["from"] == "tool/doudian"
        && e["to"] == "position/field"
        && e["relation"] == "positions"));
    assert!(edges.iter().any(|e| e["from"] == "tool/doudian"
        && e["to"] == "position/field"
        && e["relation"] == "mentions"));
}

#[test]
fn aliases_redirect_to_the_page() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/new.md",
        "---\ntitle: New\naliases: [/old-name/]\n---\nx\n",
    );
    s.build();
    let r = s.output("old-name/index.html");
    assert!(
        r.contains("http-equiv=\"refresh\" content=\"0; url=/new/\""),
        "{r}"
    );
}

#[test]
fn raw_html_can_be_escaped_by_config() {
    let s = TestSite::new("title: T\nmarkdown: { raw_html: escape }\n");
    s.write(
        "content/x.md",
        "---\ntitle: X\n---\n<script>alert(1)</script>\n\nInline <b>bold</b>.\n",
    );
    s.build();
    let html = s.output("x/index.html");
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"));
    let s = TestSite::new("title: T\n");
    s.write("content/x.md", "Inline <b>bold</b>.\n");
    s.build();
    assert!(s.output("x/index.html").contains("<b>bold</b>"));
}

#[test]
fn titles_are_escaped_in_templates() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/x.md",
        "---\ntitle: \"<img src=x onerror=alert(1)>\"\n---\nbody\n",
    );
    s.build();
    let html = s.output("x/index.html");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn a_build_killed_at_any_moment_leaves_the_previous_site_exactly_as_it_was() {
    let s = TestSite::new("title: Big\n");
    for i in 0..1500 {
        s.write(
            &format!("content/p{i:04}.md"),
            &format!(
                "---\ntitle: Page {i}\n---\n## Part\n\n{}\n\n```rust\nfn f() {{}}\n```\n",
                "word ".repeat(300)
            ),
        );
    }
    s.build();
    let before = tree(&s.path("public"));
    s.write("content/p0000.md", "---\ntitle: Changed\n---\nchanged\n");
    for delay_ms in [5, 40, 120, 300, 700] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .args(["build", "-q"])
            .current_dir(s.root())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().expect("wait").is_some();
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let after = tree(&s.path("public"));
        if finished {
            break; // the build won the race: nothing left to kill
        }
        assert!(
            after == before,
            "killed after {delay_ms} ms: the output changed"
        );
    }
    // The next build cleans what the killed ones left and publishes the change.
    s.build();
    assert!(s.output("p0000/index.html").contains("changed"));
    let leftovers: Vec<String> = std::fs::read_dir(s.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("fieldbook-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn templates_are_parsed_and_the_syntax_set_loaded_once_per_build() {
    let s = TestSite::new("title: T\n");
    for (i, lang) in ["rust", "python", "rust", "yaml"].iter().enumerate() {
        s.write(
            &format!("content/p{i}.md"),
            &format!("# Page {i}\n\n```{lang}\nx = 1\n```\n"),
        );
    }
    s.write("content/tags-page.md", "---\ntags: [a, b]\n---\nText.\n");
    let run = s.run(&["build", "--timings"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("templates parsed: 1\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("syntax set loaded: 1\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("render and write pages"),
        "{}",
        run.stderr
    );
}

#[test]
fn email_autolinks_are_mailto_links_not_missing_files() {
    // CommonMark: `<someone@example.com>` is an email autolink (spec 6.5), not a path.
    let s = TestSite::new("title: T\n");
    s.write(
        "content/contact.md",
        "---\ntitle: Contact\n---\nWrite to <someone@example.com> or <first.last+kb@example.org>.\n",
    );
    s.build();
    let html = s.output("contact/index.html");
    assert!(
        html.contains("<a href=\"mailto:someone@example.com\">someone@example.com</a>"),
        "{html}"
    );
    assert!(
        html.contains("href=\"mailto:first.last+kb@example.org\""),
        "{html}"
    );
}
