//! Bad input: every problem is reported in one run with file:line:column, the source line and a hint;
//! the exit code says what kind of failure it was; nothing is written.

use crate::support::TestSite;

#[track_caller]
fn fails(s: &TestSite, args: &[&str]) -> String {
    let run = s.run(args);
    assert_eq!(
        run.code, 1,
        "expected content errors\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(!s.path("public").exists(), "no partial site");
    run.stderr
}

#[test]
fn unknown_key_in_site_yaml_points_at_it_with_a_suggestion() {
    let s = TestSite::new("title: T\nbase_ulr: /kb/\n");
    let err = fails(&s, &["build"]);
    assert!(err.contains("unknown field `base_ulr`"), "{err}");
    assert!(err.contains("site.yaml:2:1"), "{err}");
    assert!(err.contains("base_ulr: /kb/"), "shows the line: {err}");
    assert!(err.contains("did you mean `base_url`?"), "{err}");
}

#[test]
fn wrong_type_in_site_yaml() {
    let s = TestSite::new("title: T\nmarkdown:\n  highlight: sometimes\n");
    let err = fails(&s, &["build"]);
    assert!(err.contains("site.yaml:3:14"), "{err}");
    assert!(
        err.contains("invalid type") || err.contains("expected a boolean"),
        "{err}"
    );
}

#[test]
fn yaml_syntax_error_in_front_matter_points_into_the_markdown_file() {
    let s = TestSite::new("title: T\n");
    s.write("content/a.md", "---\ntitle: A\ntags: [x, y\n---\nbody\n");
    let err = fails(&s, &["build"]);
    assert!(err.contains("content/a.md:"), "{err}");
    assert!(err.contains("front matter:"), "{err}");
    // The position is a line of the .md file, past the opening `---`.
    let line: usize = err
        .split("content/a.md:")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3..=4).contains(&line), "line {line}: {err}");
}

#[test]
fn wrong_type_for_a_built_in_field() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/a.md",
        "---\ntitle: A\nweight: heavy\ndraft: maybe\n---\n",
    );
    let err = fails(&s, &["build"]);
    assert!(
        err.contains("field `weight` should be a whole number, found the text \"heavy\""),
        "{err}"
    );
    assert!(err.contains("content/a.md:3:9"), "{err}");
    assert!(
        err.contains("field `draft` should be true or false"),
        "{err}"
    );
    assert!(err.contains("content/a.md:4:8"), "{err}");
}

#[test]
fn unclosed_front_matter() {
    let s = TestSite::new("title: T\n");
    s.write("content/a.md", "---\ntitle: A\nno end\n");
    let err = fails(&s, &["build"]);
    assert!(
        err.contains("front matter is opened with `---` but never closed"),
        "{err}"
    );
    assert!(err.contains("content/a.md:1:1"), "{err}");
    assert!(err.contains("add a line with just `---`"), "{err}");
}

#[test]
fn all_problems_of_a_build_are_reported_together() {
    let s = TestSite::new("title: T\n");
    s.write("content/a.md", "---\nweight: x\n---\n")
        .write("content/b.md", "---\ntitle: [\n---\n")
        .write("content/c.md", "[[nowhere]]\n");
    let err = fails(&s, &["build"]);
    assert!(err.contains("content/a.md:2:9"), "{err}");
    assert!(err.contains("content/b.md:"), "{err}");
    assert!(err.contains("content/c.md:1:1"), "{err}");
    assert!(err.contains("3 errors; nothing was written"), "{err}");
}

#[test]
fn a_missing_site_yaml_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("build")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read site.yaml"), "{err}");
    assert!(err.contains("--root"), "{err}");
}

#[test]
fn error_in_a_user_template_names_the_template() {
    let s = TestSite::new("title: T\n");
    s.write("content/a.md", "x\n")
        .write("templates/page.html", "<p>{{ page.title </p>\n");
    let err = fails(&s, &["build"]);
    assert!(err.contains("templates/page.html"), "{err}");
    assert!(err.contains("template error"), "{err}");
}

#[test]
fn diagnostics_snapshot() {
    let s = TestSite::with_kinds();
    s.write("content/positions/field.md", "---\ntitle: Field\nletter: F\n---\n## How to run it\n")
        .write("content/tools/doudian.md", "---\ntitle: Doudian\ncategory: shop\npostions: [field]\n---\nSee [[field#how-to-rn-it]].\n");
    let err = fails(&s, &["check"]);
    insta::assert_snapshot!(err);
}

#[test]
fn broken_yaml_in_front_matter_reports_only_the_yaml_error_not_missing_fields() {
    let s = TestSite::with_kinds();
    s.write(
        "content/tools/a.md",
        "---\ntitle: [broken\ncategory: store\n---\nx\n",
    )
    .write("content/positions/p.md", "---\n- just\n- a list\n---\nx\n");
    let err = fails(&s, &["build"]);
    assert!(err.contains("content/tools/a.md:3:"), "{err}");
    assert!(err.contains("front matter: did not find expected"), "{err}");
    assert!(err.contains("content/positions/p.md:2:1"), "{err}");
    assert!(err.contains("front matter must be a mapping"), "{err}");
    assert!(!err.contains("missing required field"), "{err}");
    assert!(err.contains("2 errors;"), "{err}");
}
