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
fn kind_folders_that_leave_content_or_are_not_plain_paths_are_errors_at_the_value() {
    let s = TestSite::new(
        "title: T\nkinds:\n  a: { folder: ../../x, title: A }\n  b: { folder: /etc, title: B }\n  c: { folder: 'a\\b', title: C }\n  d: { folder: '', title: D }\n  e: { folder: .hidden, title: E }\n  f: { folder: tools/../../y, title: F }\n  g: { folder: My Tools, title: G }\n  ok: { folder: guides/tools/, title: OK }\n",
    );
    s.write("content/x.md", "x\n");
    let err = fails(&s, &["build"]);
    for (at, why) in [
        (
            "site.yaml:3:16",
            "the folder `../../x` of kind `a` is not a plain path inside content/",
        ),
        (
            "site.yaml:4:16",
            "the folder `/etc` of kind `b` starts at the root",
        ),
        ("site.yaml:5:16", "holds a backslash"),
        ("site.yaml:6:16", "of kind `d` is empty"),
        ("site.yaml:7:16", "of kind `e` is hidden"),
        (
            "site.yaml:8:16",
            "the folder `tools/../../y` of kind `f` is not a plain path",
        ),
        ("site.yaml:9:16", "pages in it get URLs under `my-tools/`"),
    ] {
        assert!(err.contains(at), "{at} in {err}");
        assert!(err.contains(why), "{why} in {err}");
    }
    assert!(err.contains("write `folder: my-tools`"), "{err}");
    assert!(err.contains("no `..`, no leading `/`"), "{err}");
    assert!(err.contains("7 errors"), "all in one run: {err}");
}

#[test]
fn a_theme_that_is_a_path_is_an_error_at_the_value() {
    for theme in ["../../etc", "/tmp", "a/b", ".hidden", "\"\""] {
        let s = TestSite::new(&format!("title: T\ntheme: {theme}\n"));
        let err = fails(&s, &["build"]);
        assert!(err.contains("site.yaml:2:8"), "{theme}: {err}");
        assert!(
            err.contains("a theme is the name of a folder under themes/"),
            "{err}"
        );
    }
}

#[test]
fn every_problem_of_site_yaml_is_reported_in_one_run() {
    let s = TestSite::new(
        "\
title: T
base_ulr: /
kinds:
  tool:
    folder: tools
    title: Tools
    sequenc: steps
    fields:
      zh: { type: strin }
      owner: { type: ref, to: role, requird: true }
      meta: { type: object, fields: { a: { type: int, lable: A } } }
      n: { type: int, required: maybe }
    index: { group_by: zh, sort: x }
  role: { folder: roles, titel: Roles }
  place: { folder: places, title: 3 }
views:
  - matrix: { slug: tools-by-role, title: M, rows: tool, cols: rol }
  - matrx: { slug: x }
  - matrix: { slug: \"---\", title: N, rows: tool, cols: role }
markdown:
  highlight: sometimes
  raw: 1
edit_url: \"javascript:alert(1)\"
",
    );
    let err = fails(&s, &["check"]);
    for (at, what) in [
        ("site.yaml:2:1", "unknown field `base_ulr`"),
        ("site.yaml:7:5", "unknown field `sequenc`"),
        ("site.yaml:9:19", "unknown variant `strin`"),
        ("site.yaml:10:37", "unknown field `requird`"),
        ("site.yaml:11:55", "unknown field `lable`"),
        (
            "site.yaml:12:33",
            "invalid type: string \"maybe\", expected a boolean",
        ),
        ("site.yaml:13:28", "unknown field `sort`"),
        ("site.yaml:14:26", "unknown field `titel`"),
        ("site.yaml:14:9", "missing field `title`"),
        (
            "site.yaml:15:35",
            "invalid type: integer `3`, expected a string",
        ),
        (
            "site.yaml:17:64",
            "names kind `rol`, which site.yaml does not declare",
        ),
        ("site.yaml:18:5", "unknown field `matrx`"),
        ("site.yaml:18:5", "missing field `matrix`"),
        (
            "site.yaml:19:21",
            "the slug \"---\" of a matrix makes an empty URL",
        ),
        (
            "site.yaml:21:14",
            "invalid type: string \"sometimes\", expected a boolean",
        ),
        ("site.yaml:22:3", "unknown field `raw`"),
        (
            "site.yaml:23:11",
            "edit_url `javascript:alert(1)` uses the scheme `javascript:`",
        ),
    ] {
        assert!(err.contains(at), "{at} ({what}) in:\n{err}");
        assert!(err.contains(what), "{what} in:\n{err}");
    }
    for hint in [
        "did you mean `base_url`?",
        "did you mean `sequence`?",
        "did you mean `string`?",
        "did you mean `required`?",
        "did you mean `label`?",
        "did you mean `title`?",
        "did you mean `role`?",
        "did you mean `matrix`?",
        "did you mean `raw_html`?",
        "remove `sort`; allowed keys here: `group_by`",
    ] {
        assert!(err.contains(hint), "{hint} in:\n{err}");
    }
    assert!(err.contains("17 errors"), "{err}");
    // What did not parse is not reported again as missing: `role` is declared (with an error), and
    // `zh` is a field of `tool` (with an error).
    assert!(!err.contains("names kind `role`"), "{err}");
    assert!(!err.contains("groups its index by `zh`"), "{err}");
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
