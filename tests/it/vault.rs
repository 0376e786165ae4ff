//! The test vault in tests/vault/: a small team handbook written as an Obsidian vault, with a
//! `site.yaml` of one line. It builds as it is, under the default `broken_links: error`, and every
//! piece of Obsidian syntax it uses becomes what Obsidian shows.

use std::path::Path;

use crate::support::{tree, TestSite};

/// A copy of tests/vault/ in a temporary folder (a build writes `public/` beside `content/`).
fn vault() -> TestSite {
    let s = TestSite::new("");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vault");
    for (rel, bytes) in tree(&from) {
        let to = s.path(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, bytes).unwrap();
    }
    s
}

fn html_pages(s: &TestSite) -> Vec<(String, String)> {
    tree(&s.path("public"))
        .into_iter()
        .filter(|(p, _)| p.ends_with(".html"))
        .map(|(p, b)| (p, String::from_utf8(b).unwrap()))
        .collect()
}

#[test]
fn the_test_vault_builds_as_it_is() {
    let s = vault();
    let run = s.build();
    // The only warnings: a short name two notes share, used twice.
    assert_eq!(run.stderr.matches("warning[").count(), 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("warning[ambiguous-link]").count(),
        2,
        "{}",
        run.stderr
    );
    for (path, html) in html_pages(&s) {
        let prose = html.split("<div class=\"prose\">").nth(1).unwrap_or("");
        for marker in ["[!", "==", "%%", "![[", "[[", "\u{FDD0}"] {
            assert!(
                !prose.contains(marker),
                "{path} shows {marker:?} as text: {prose}"
            );
        }
    }
    // A comment is in no output file at all.
    for (path, bytes) in tree(&s.path("public")) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("shorten this intro"),
            "{path} publishes a comment"
        );
        assert!(!text.contains("lunch budget"), "{path} publishes a comment");
    }
}

#[test]
fn links_embeds_and_front_matter_of_the_test_vault() {
    let s = vault();
    s.build();
    let home = s.output("home/index.html");
    for href in [
        "/onboarding/first-week/",
        "/checklists/laptop-setup/",
        "/terms/",
        "/reference/formulas/",
        // From the root, `[[Security]]` means the shorter path.
        "/reference/security/",
        "/onboarding/first-week/#^week-goal",
    ] {
        assert!(home.contains(&format!("href=\"{href}\"")), "{href}: {home}");
    }
    assert!(
        home.contains(
            "<img src=\"/attachments/team%20photo.png\" alt=\"team photo.png\" width=\"320\""
        ),
        "{home}"
    );
    assert!(s.output_exists("attachments/team photo.png"));

    let week = s.output("onboarding/first-week/index.html");
    // From Onboarding/, `[[Security]]` is the note beside it.
    assert!(week.contains("href=\"/onboarding/security/\""), "{week}");
    assert!(
        week.contains("<mark>Read this page before your first stand-up.</mark>"),
        "{week}"
    );
    assert!(
        week.contains("<details class=\"callout callout-tip\""),
        "{week}"
    );
    assert!(week.contains("callout-warning"), "{week}");
    assert!(week.contains("id=\"^week-goal\""), "{week}");
    assert!(week.contains("wide-page"), "cssclasses: {week}");
    assert!(week.contains("href=\"/tags/pairing/\""), "{week}");
    // The embedded section, with its links resolved from the checklist.
    assert!(week.contains("Badge printed"), "{week}");
    assert!(
        !week.contains("Clone the main repository"),
        "only the section: {week}"
    );
    assert!(week.contains("href=\"/onboarding/accounts/\""), "{week}");

    let accounts = s.output("onboarding/accounts/index.html");
    assert!(
        accounts.contains("href=\"/reference/security/#passwords\""),
        "{accounts}"
    );
    assert!(
        accounts.contains("Read the "),
        "the embedded block: {accounts}"
    );

    // A name alias is a name links use, and a redirect; `permalink` is the URL.
    assert!(s.output_exists("terms/index.html"));
    assert!(!s.output_exists("reference/glossary/index.html"));
    let tags = s.output("tags/onboarding/index.html");
    assert!(tags.contains("/onboarding/first-week/"), "{tags}");
    assert!(s
        .output("tags/pairing/index.html")
        .contains("/onboarding/first-week/"));
    // `publish: false` is left out.
    assert!(!s.output_exists("drafts/idea/index.html"));
    for (path, bytes) in tree(&s.path("public")) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("half-written idea"),
            "{path}"
        );
    }

    let formulas = s.output("reference/formulas/index.html");
    assert!(formulas.contains("<math"), "{formulas}");
    assert!(!formulas.contains("$p ="), "{formulas}");
    assert!(formulas.contains("<svg"), "the diagram: {formulas}");
}
