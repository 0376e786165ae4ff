//! `fieldbook init` and `fieldbook new`, end to end: a new site checks and builds clean, and a new page
//! lists its kind's fields for the author to fill in.

use std::process::Command;

use crate::support::{Run, TestSite};

fn fieldbook(dir: &std::path::Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run fieldbook");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn init_then_check_then_build_then_new() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = fieldbook(tmp.path(), &["init", "team-kb"]).ok();
    assert!(run.stdout.contains("site.yaml"), "{}", run.stdout);
    let site = tmp.path().join("team-kb");
    let yaml = std::fs::read_to_string(site.join("site.yaml")).expect("site.yaml");
    assert!(yaml.contains("title: Team Kb"), "{yaml}");
    assert!(
        yaml.contains("theme: default"),
        "the theme is referenced: {yaml}"
    );
    assert!(!site.join("themes").exists(), "the theme is not copied");
    assert!(!site.join("templates").exists());

    let check = fieldbook(&site, &["check"]).ok();
    assert!(check.stdout.contains("no problems"), "{}", check.stdout);
    assert!(
        check.stderr.is_empty(),
        "no warnings either: {}",
        check.stderr
    );
    fieldbook(&site, &["build"]).ok();
    let home = std::fs::read_to_string(site.join("public/index.html")).expect("home");
    assert!(home.contains("Team Kb"));
    assert!(site.join("public/guides/add-a-page/index.html").is_file());
    assert!(site
        .join("public/matrices/guides-by-topic/index.html")
        .is_file());

    // A new page from the guide kind's schema: required field first, uncommented.
    let run = fieldbook(&site, &["new", "guide", "Roll back a release"]).ok();
    assert!(
        run.stdout.contains("content/guides/roll-back-a-release.md"),
        "{}",
        run.stdout
    );
    let rel = "content/guides/roll-back-a-release.md";
    let page = std::fs::read_to_string(site.join(rel)).expect("new page");
    assert!(
        page.starts_with("---\ntitle: Roll back a release\n"),
        "{page}"
    );
    let topics = page.find("\ntopics:").expect("required field");
    let level = page
        .find("\n# level: beginner")
        .expect("optional field, commented");
    assert!(topics < level, "{page}");
    assert!(
        page.contains("# Topics this guide puts into practice"),
        "{page}"
    );
    assert!(
        page.contains("# How long it takes, e.g. 30 minutes"),
        "{page}"
    );

    // check asks for the required field, at its line.
    let check = fieldbook(&site, &["check"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert!(
        check.stderr.contains("roll-back-a-release.md:6:") && check.stderr.contains("`topics`"),
        "{}",
        check.stderr
    );
    // Filled in, the page checks clean.
    let filled = page.replacen("\ntopics:", "\ntopics: [pages-and-links]", 1);
    std::fs::write(site.join(rel), &filled).expect("write");
    fieldbook(&site, &["check"]).ok();

    // `new` never overwrites.
    let again = fieldbook(&site, &["new", "guide", "Roll back a release"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(site.join(rel)).expect("page"),
        filled
    );
}

#[test]
fn init_refuses_a_folder_that_is_not_empty() {
    let s = TestSite::new("title: Mine\n");
    let run = s.run(&["init", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not empty"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(s.path("site.yaml")).expect("site.yaml"),
        "title: Mine\n"
    );
    assert!(!s.path("content").exists());
}

#[test]
fn init_accepts_an_empty_folder() {
    let tmp = tempfile::tempdir().expect("temp dir");
    fieldbook(tmp.path(), &["init", "."]).ok();
    fieldbook(tmp.path(), &["check"]).ok();
}

#[test]
fn new_with_an_unknown_kind_suggests_one() {
    let s = TestSite::with_kinds();
    let run = s.run(&["new", "tol", "Doudian"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown kind `tol`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `tool`?"),
        "{}",
        run.stderr
    );
    assert!(!s.path("content").exists());
}

#[test]
fn new_lists_enum_values_and_works_by_folder_name() {
    let s = TestSite::with_kinds();
    s.run(&["new", "tools", "Juliang Qianchuan"]).ok();
    let page = std::fs::read_to_string(s.path("content/tools/juliang-qianchuan.md")).expect("page");
    assert!(
        page.contains("category:") && page.contains("one of store, ads"),
        "{page}"
    );
    assert!(page.contains("# zh: \"\""), "{page}");
}
