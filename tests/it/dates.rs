//! Last-updated dates: the `updated:` field, else the file's last git commit, else nothing.

use std::process::Command;

use crate::support::TestSite;

/// Run git in the site's folder with a fixed identity and commit date.
fn git(s: &TestSite, date: &str, args: &[&str]) -> bool {
    Command::new("git")
        .current_dir(s.root())
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn git_commit_dates_fill_in_last_updated() {
    let s = TestSite::new("title: T\n");
    s.write("content/old.md", "---\ntitle: Old\n---\nx\n");
    s.write("content/new.md", "---\ntitle: New\n---\nx\n");
    s.write(
        "content/pinned.md",
        "---\ntitle: Pinned\nupdated: 2020-01-01\n---\nx\n",
    );
    if !git(&s, "2023-01-01T12:00:00Z", &["init", "-q"]) {
        eprintln!("skipping: git is not available");
        return;
    }
    assert!(git(&s, "2023-01-01T12:00:00Z", &["add", "content"]));
    assert!(git(
        &s,
        "2023-01-01T12:00:00Z",
        &["commit", "-q", "-m", "one"]
    ));
    s.write("content/new.md", "---\ntitle: New\n---\nchanged\n");
    s.write(
        "content/pinned.md",
        "---\ntitle: Pinned\nupdated: 2020-01-01\n---\nchanged\n",
    );
    assert!(git(
        &s,
        "2024-06-15T09:30:00Z",
        &["commit", "-q", "-am", "two"]
    ));
    s.write("content/uncommitted.md", "---\ntitle: Fresh\n---\nx\n");
    s.build();

    let sitemap = s.output("sitemap.xml");
    assert!(
        sitemap.contains("<loc>/old/</loc><lastmod>2023-01-01</lastmod>"),
        "{sitemap}"
    );
    assert!(sitemap.contains("<loc>/new/</loc><lastmod>2024-06-15</lastmod>"));
    // The front-matter field wins over git.
    assert!(sitemap.contains("<loc>/pinned/</loc><lastmod>2020-01-01</lastmod>"));
    // A file git does not know has no date.
    assert!(
        sitemap.contains("<loc>/uncommitted/</loc></url>"),
        "{sitemap}"
    );

    let new = s.output("new/index.html");
    assert!(
        new.contains("<time datetime=\"2024-06-15\">"),
        "the page shows its date: {new}"
    );
    assert!(!s.output("uncommitted/index.html").contains("Last updated"));
    // The home page lists recent changes, newest first.
    let home = s.output("index.html");
    let (a, b) = (home.find("/new/"), home.find("/old/"));
    assert!(a.is_some() && a < b, "{home}");
}

#[test]
fn outside_git_there_is_no_date() {
    let s = TestSite::new("title: T\n");
    s.write("content/a.md", "---\ntitle: A\n---\nx\n");
    s.build();
    assert!(s.output("sitemap.xml").contains("<loc>/a/</loc></url>"));
    assert!(!s.output("a/index.html").contains("Last updated"));
}
