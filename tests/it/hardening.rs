//! Hardening: what a site's files cannot make a build do, whoever wrote them. Symbolic links never
//! publish a byte from outside the site, `raw_html: escape` publishes no file that runs script, every
//! output path is claimed once, two builds into one folder cannot mix, editors' leftovers are never
//! published. Each test is named after the case it pins.

use std::os::unix::fs::symlink;
use std::process::{Command, Stdio};

use crate::support::{tree, TestSite};

/// A secret outside the site, as a CI machine's environment or a token file would be.
struct Secret {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

const SECRET: &str = "ghp_secret_token_1234567890";

fn secret() -> Secret {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.txt");
    std::fs::write(&path, format!("TOKEN={SECRET}\n")).unwrap();
    Secret { _dir: dir, path }
}

fn site() -> TestSite {
    let s = TestSite::new("title: T\n");
    s.write("content/index.md", "---\ntitle: Home\n---\nWelcome.\n");
    s
}

/// `build` and `check` both fail with exit 1, name the file and the rule, print no secret, and
/// write nothing.
#[track_caller]
fn refused(s: &TestSite, needles: &[&str]) -> String {
    let check = s.run(&["check"]);
    let run = s.run(&["build"]);
    for r in [&check, &run] {
        assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
        for n in needles {
            assert!(r.stderr.contains(n), "missing {n:?} in:\n{}", r.stderr);
        }
        assert!(!r.stderr.contains(SECRET) && !r.stdout.contains(SECRET));
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    assert!(!s.path("public").exists(), "nothing may be written");
    run.stderr
}

#[test]
fn a_symlink_to_the_environment_in_static_is_an_error_and_publishes_nothing() {
    let s = site();
    let secret = secret();
    std::fs::create_dir_all(s.path("static")).unwrap();
    symlink(&secret.path, s.path("static/env.txt")).unwrap();
    // The attack as reported: the build machine's own environment.
    symlink("/proc/self/environ", s.path("static/environ.txt")).unwrap();
    refused(
        &s,
        &[
            "static/env.txt",
            "static/environ.txt",
            "leads out of the site's folder",
            "copy the file into the site, or remove the link",
        ],
    );
}

#[test]
fn a_markdown_symlink_to_a_file_outside_is_an_error() {
    let s = site();
    let secret = secret();
    let page = secret.path.with_extension("md");
    std::fs::write(&page, format!("---\ntitle: Leak\n---\n{SECRET}\n")).unwrap();
    symlink(&page, s.path("content/passwd.md")).unwrap();
    refused(&s, &["content/passwd.md", "leads out of the site's folder"]);
}

#[test]
fn a_template_symlink_to_a_file_outside_is_an_error() {
    let s = site();
    let secret = secret();
    std::fs::create_dir_all(s.path("templates")).unwrap();
    symlink(&secret.path, s.path("templates/page.html")).unwrap();
    refused(
        &s,
        &["templates/page.html", "leads out of the site's folder"],
    );
}

#[test]
fn a_theme_folder_linked_from_outside_is_an_error() {
    let s = TestSite::new("title: T\ntheme: mine\n");
    s.write("content/index.md", "Home\n");
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join("templates")).unwrap();
    std::fs::write(outside.path().join("templates/page.html"), SECRET).unwrap();
    std::fs::create_dir_all(s.path("themes")).unwrap();
    symlink(outside.path(), s.path("themes/mine")).unwrap();
    refused(
        &s,
        &["themes/mine/templates", "leads out of the site's folder"],
    );
}

#[test]
fn a_linked_folder_outside_the_site_is_not_walked() {
    let s = site();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("leak.md"), SECRET).unwrap();
    symlink(outside.path(), s.path("content/elsewhere")).unwrap();
    let err = refused(&s, &["content/elsewhere", "leads out of the site's folder"]);
    assert!(!err.contains("leak.md"), "{err}");
}

#[test]
fn a_symlink_into_the_git_folder_is_an_error() {
    // On CI machines .git/config can hold the token the checkout used.
    let s = site();
    s.write(
        ".git/config",
        &format!("[http]\n\textraheader = {SECRET}\n"),
    );
    std::fs::create_dir_all(s.path("static")).unwrap();
    symlink("../.git/config", s.path("static/config.txt")).unwrap();
    refused(&s, &["static/config.txt", "hidden folder of the site"]);
}

#[test]
fn a_site_yaml_linked_from_outside_is_an_error() {
    let s = site();
    let secret = secret();
    std::fs::remove_file(s.path("site.yaml")).unwrap();
    symlink(&secret.path, s.path("site.yaml")).unwrap();
    refused(&s, &["site.yaml", "leads out of the site's folder"]);
}

#[test]
fn symlinks_inside_the_site_are_followed() {
    let s = site();
    s.write(
        "shared/checklist.md",
        "---\ntitle: Checklist\n---\nStep one.\n",
    );
    s.write("shared/logo.png", "png");
    symlink("../shared/checklist.md", s.path("content/checklist.md")).unwrap();
    std::fs::create_dir_all(s.path("static")).unwrap();
    symlink("../shared/logo.png", s.path("static/logo.png")).unwrap();
    s.build();
    assert!(s.output("checklist/index.html").contains("Step one."));
    assert_eq!(s.output("logo.png"), "png");
}

#[test]
fn serve_refuses_a_symlink_out_of_the_site_like_build() {
    let s = site();
    s.write("static/ok.txt", "fine");
    let secret = secret();
    let server = crate::serve::Server::start(s.root(), &[]);
    assert_eq!(server.get("/ok.txt").text(), "fine");
    // Added while serve runs: reported, and neither the link nor its target is ever served.
    symlink(&secret.path, s.path("static/env.txt")).unwrap();
    server.wait_printed("leads out of the site's folder", 1);
    let reply = server.get("/env.txt");
    assert_ne!(reply.status, 200, "{}", reply.text());
    assert!(!reply.text().contains(SECRET));
    // The last good site is still served.
    assert_eq!(server.get("/ok.txt").text(), "fine");
    assert!(!server.printed().contains(SECRET));
}

#[test]
fn editor_backups_of_a_draft_are_not_published() {
    let s = site();
    let draft = "---\ntitle: Plan\ndraft: true\n---\nSecret plan.\n";
    s.write("content/plan.md", draft);
    s.write("content/plan.md~", draft);
    s.write("content/#plan.md#", draft);
    s.write("content/.plan.md.swp", draft);
    s.write("static/site.css~", "old");
    s.build();
    let all = tree(&s.path("public"));
    for (path, bytes) in &all {
        assert!(!path.contains("plan"), "{path} was published");
        assert!(
            !String::from_utf8_lossy(bytes).contains("Secret plan"),
            "{path}"
        );
    }
    assert!(!all.iter().any(|(p, _)| p.ends_with('~')));
}

#[test]
fn scriptable_files_beside_pages_are_errors_under_raw_html_escape() {
    let s = TestSite::new("title: T\nmarkdown:\n  raw_html: escape\n");
    s.write("content/index.md", "See [the chart](chart.svg).\n");
    s.write(
        "content/chart.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(localStorage)</script></svg>",
    );
    s.write("content/old.html", "<script>alert(1)</script>");
    s.write("content/feed.XHTML", "<script>alert(1)</script>");
    s.write("content/photo.png", "png");
    let err = refused(
        &s,
        &[
            "content/chart.svg",
            "content/old.html",
            "content/feed.XHTML",
            "can run script on the site's own origin",
            "raw_html: escape",
        ],
    );
    assert!(!err.contains("photo.png"), "{err}");
}

#[test]
fn scriptable_files_are_published_under_raw_html_allow() {
    let s = site();
    s.write(
        "content/chart.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
    );
    s.build();
    assert!(s.output("chart.svg").starts_with("<svg"));
}

#[test]
fn an_asset_named_like_a_generated_file_is_a_collision() {
    for name in ["graph.json", "sitemap.xml", "index.html", "nav.json"] {
        let s = site();
        s.write(&format!("content/{name}"), "not what fieldbook writes");
        let err = refused(&s, &[&format!("content/{name}"), "would be written twice"]);
        assert!(err.contains("error[output-collision]"), "{err}");
    }
}

#[test]
fn a_static_file_in_the_search_index_folder_is_a_collision() {
    let s = site();
    s.write("static/search/manifest.json", "{}");
    refused(
        &s,
        &[
            "static/search/manifest.json",
            "would be written twice",
            "the search index",
        ],
    );
}

#[test]
fn a_static_file_named_like_a_page_is_a_collision() {
    let s = site();
    s.write("content/guide.md", "---\ntitle: Guide\n---\nText.\n");
    s.write("static/guide/index.html", "<p>other</p>");
    refused(
        &s,
        &[
            "static/guide/index.html",
            "content/guide.md",
            "would be written twice",
        ],
    );
}

#[test]
fn an_alias_equal_to_another_pages_url_is_a_collision_at_the_alias() {
    let s = site();
    s.write("content/new.md", "---\ntitle: New\n---\nNew.\n");
    s.write(
        "content/other.md",
        "---\ntitle: Other\naliases:\n  - /keep/\n  - /new/\n---\nOther.\n",
    );
    refused(
        &s,
        &[
            "content/other.md:5:5",
            "`new/index.html` would be written twice",
            "the page content/new.md",
            "the alias `/new/` of content/other.md",
            "remove this alias",
        ],
    );
}

#[test]
fn an_alias_equal_to_a_kind_index_is_a_collision() {
    let s = TestSite::new(crate::support::KINDS_YAML);
    s.write(
        "content/tools/doudian.md",
        "---\ntitle: Doudian\ncategory: store\naliases: [/tools/]\n---\nText.\n",
    );
    refused(
        &s,
        &[
            "content/tools/doudian.md:4:",
            "the index of section `tools`",
        ],
    );
}

#[test]
fn an_alias_onto_a_generated_file_is_a_located_error_not_an_io_error() {
    let s = site();
    s.write(
        "content/x.md",
        "---\ntitle: X\naliases: [/sitemap.xml]\n---\nText.\n",
    );
    s.write(
        "content/y.md",
        "---\ntitle: Y\naliases: [/search/]\n---\nText.\n",
    );
    refused(
        &s,
        &[
            "content/x.md:3:",
            "`sitemap.xml` would be a file (fieldbook's generated sitemap) and a folder",
            "content/y.md:3:",
            "the search page",
        ],
    );
}

#[test]
fn an_alias_equal_to_its_own_url_is_harmless() {
    let s = site();
    s.write(
        "content/guide.md",
        "---\ntitle: Guide\naliases: [/guide/, /old-guide/]\n---\nThe real page.\n",
    );
    s.build();
    assert!(s.output("guide/index.html").contains("The real page."));
    assert!(s
        .output("old-guide/index.html")
        .contains("http-equiv=\"refresh\""));
}

#[test]
fn two_assets_whose_folders_slugify_alike_are_a_collision() {
    let s = site();
    s.write("content/My Files/a.png", "one");
    s.write("content/my-files/a.png", "two");
    refused(&s, &["`my-files/a.png` would be written twice"]);
}

/// A site large enough that its build takes a while, so that a second build starts during it.
fn slow_site() -> TestSite {
    let s = site();
    for i in 0..400 {
        s.write(
            &format!("content/notes/n{i}.md"),
            &format!(
                "---\ntitle: Note {i}\ntags: [t{}]\n---\n## Part\n\nText [[n{}]].\n",
                i % 50,
                (i + 1) % 400
            ),
        );
    }
    s
}

#[test]
fn two_builds_into_one_folder_at_once_one_wins_whole_and_the_other_fails_clearly() {
    let s = slow_site();
    s.build();
    let before = tree(&s.path("public"));
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .args(["build", "-q"])
            .current_dir(s.root())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Start two builds at once until they overlap: then one holds the folder and the other
    // must fail at once, clearly, without breaking the first.
    let mut seen_busy = false;
    for _ in 0..20 {
        let (a, b) = (spawn(), spawn());
        let runs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let busy: Vec<_> = runs.iter().filter(|r| r.status.code() == Some(2)).collect();
        for r in &runs {
            let err = String::from_utf8_lossy(&r.stderr);
            assert!(r.status.success() || r.status.code() == Some(2), "{err}");
            if !r.status.success() {
                assert!(
                    err.contains("another fieldbook build is writing into"),
                    "{err}"
                );
                assert!(err.contains("wait for the other build to finish"), "{err}");
            }
        }
        assert!(busy.len() < 2, "one of the two must win");
        if busy.len() == 1 {
            seen_busy = true;
            break;
        }
    }
    assert!(seen_busy, "the two builds never overlapped");
    // The winner's site is whole: the same files as before, marker included.
    assert_eq!(tree(&s.path("public")), before);
    // And the next build accepts the folder.
    s.build();
}

#[test]
fn staging_folders_left_by_killed_builds_are_cleaned_by_the_next_build() {
    let s = site();
    s.build();
    // What builds killed at different moments leave: before and after writing their marker.
    s.write(".public.fieldbook-tmp-99999/half.html", "half");
    std::fs::create_dir_all(s.path(".public.fieldbook-tmp-12345")).unwrap();
    s.write(".public.fieldbook-tmp-77777/.fieldbook-output", "");
    // Not ours: kept.
    s.write(".public.fieldbook-notes/mine.txt", "keep");
    s.build();
    for left in ["99999", "12345", "77777"] {
        assert!(
            !s.path(&format!(".public.fieldbook-tmp-{left}")).exists(),
            "{left}"
        );
    }
    assert!(s.path(".public.fieldbook-notes/mine.txt").exists());
}
