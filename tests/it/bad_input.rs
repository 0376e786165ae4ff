//! The bad-input corpus: odd files a real content folder ends up with. Each either builds correctly or
//! fails with a clear diagnostic and no output; none crashes.

use crate::support::TestSite;

#[track_caller]
fn fails_with(s: &TestSite, needles: &[&str]) -> String {
    let run = s.run(&["build"]);
    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(!s.path("public").exists(), "no partial site");
    for n in needles {
        assert!(run.stderr.contains(n), "missing {n:?} in:\n{}", run.stderr);
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run.stderr
}

#[test]
fn invalid_utf8_names_the_file_and_position() {
    let s = TestSite::new("title: T\n");
    s.write("content/ok.md", "fine\n");
    std::fs::write(
        s.path("content/bad.md"),
        b"---\ntitle: X\n---\nabc \xff\xfe def\n",
    )
    .unwrap();
    fails_with(
        &s,
        &[
            "content/bad.md:4:5",
            "file is not valid UTF-8",
            "save the file as UTF-8",
        ],
    );
}

#[test]
fn bom_and_crlf_line_endings_work() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/win.md",
        "\u{feff}---\r\ntitle: Windows page\r\ntags: [a]\r\n---\r\n## Part one\r\n\r\nText.\r\n",
    );
    s.build();
    let html = s.output("win/index.html");
    assert!(html.contains("<h1>Windows page</h1>"), "{html}");
    assert!(html.contains("<h2 id=\"part-one\">"), "{html}");
}

#[test]
fn crlf_front_matter_errors_still_point_at_the_right_line() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/win.md",
        "---\r\ntitle: W\r\nweight: heavy\r\n---\r\n",
    );
    fails_with(&s, &["content/win.md:3:9"]);
}

#[test]
fn an_empty_file_is_a_page_named_after_the_file() {
    let s = TestSite::new("title: T\n");
    s.write("content/empty.md", "")
        .write("content/only-fm.md", "---\n---\n");
    s.build();
    assert!(s.output("empty/index.html").contains("<h1>Empty</h1>"));
    assert!(s.output("only-fm/index.html").contains("<h1>Only Fm</h1>"));
}

#[test]
fn tabs_in_yaml_get_a_hint() {
    let s = TestSite::new("title: T\n");
    s.write("content/tabs.md", "---\ntitle: T\n\tweight: 1\n---\n");
    fails_with(&s, &["content/tabs.md:3:", "indent with spaces"]);
}

#[test]
fn a_ten_megabyte_page_builds() {
    let s = TestSite::new("title: T\n");
    let para = format!("{}\n\n", "lorem ipsum dolor sit amet ".repeat(40));
    s.write(
        "content/big.md",
        &format!("# Big\n\n{}", para.repeat(10 * 1024 * 1024 / para.len())),
    );
    s.build();
    assert!(s.output("big/index.html").len() > 10_000_000);
}

#[test]
fn deeply_nested_lists_and_quotes_do_not_crash() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/deep.md",
        &format!("{}x\n\n{}y\n", "- ".repeat(10_000), "> ".repeat(10_000)),
    );
    s.build();
    assert!(s.output("deep/index.html").contains("<ul>"));
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_reported_not_followed_forever() {
    let s = TestSite::new("title: T\n");
    s.write("content/a/page.md", "x\n");
    std::os::unix::fs::symlink("..", s.path("content/a/loop")).unwrap();
    fails_with(
        &s,
        &[
            "symlink-loop",
            "content/a/loop",
            "points back to a folder that contains it",
        ],
    );
}

#[test]
fn file_names_with_spaces_unicode_and_capitals_get_clean_urls() {
    let s = TestSite::new("title: T\n");
    s.write("content/My Guide/Getting Started.md", "x\n")
        .write("content/My Guide/直播 入门.md", "y\n")
        .write(
            "content/index-links.md",
            "[[getting-started]] and [[直播-入门]] and [s](My%20Guide/Getting%20Started.md)\n",
        );
    s.build();
    assert!(s
        .output("my-guide/getting-started/index.html")
        .contains("<h1>Getting Started</h1>"));
    assert!(s.output_exists("my-guide/直播-入门/index.html"));
    let links = s.output("index-links/index.html");
    assert!(
        links.contains("href=\"/my-guide/getting-started/\""),
        "{links}"
    );
}

#[test]
fn cyclic_references_are_fine() {
    let s = TestSite::new("title: T\nkinds:\n  note:\n    folder: notes\n    title: Notes\n    fields:\n      see: { type: refs, to: note }\n");
    s.write("content/notes/a.md", "---\nsee: [b]\n---\n[[b]]\n")
        .write("content/notes/b.md", "---\nsee: [a]\n---\n[[a]]\n");
    s.build();
    assert!(s
        .output("notes/a/index.html")
        .contains("href=\"/notes/b/\""));
    assert!(s
        .output("notes/b/index.html")
        .contains("href=\"/notes/a/\""));
}

#[test]
fn two_files_that_map_to_the_same_url() {
    let s = TestSite::new("title: T\n");
    s.write("content/Guide.md", "x\n")
        .write("content/guide.md", "y\n");
    // On a case-insensitive file system these are one file; elsewhere they collide.
    if s.path("content/Guide.md").exists()
        && std::fs::read_to_string(s.path("content/Guide.md")).unwrap() == "x\n"
    {
        fails_with(&s, &["both make the page at /guide/"]);
    }
}
