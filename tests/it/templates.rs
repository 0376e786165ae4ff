//! Site templates cannot read the machine or crash the build: `get_env()`, recursive macros and
//! includes, runaway loops and deeply nested template text are located errors in `build` and
//! `check` alike, nothing is written, and `serve` keeps the last good site.

use crate::serve::{write, Server};
use crate::support::{Run, TestSite};

/// A variable the tests put in fieldbook's environment; its value must never come out.
const SECRET_VAR: &str = "FIELDBOOK_TEST_CI_TOKEN";
const SECRET: &str = "s3cr3t-token-8d1f0c";

/// A site with one page and the given site templates (`templates/...`).
fn site_with(templates: &[(&str, &str)]) -> TestSite {
    let site = TestSite::new("title: Templates\n");
    site.write("content/_index.md", "---\ntitle: Home\n---\n\nHome.\n");
    site.write("content/notes/one.md", "---\ntitle: One\n---\n\nOne.\n");
    for (path, text) in templates {
        site.write(path, text);
    }
    site
}

/// Run fieldbook with the secret in its environment.
fn run(site: &TestSite, args: &[&str]) -> Run {
    site.run_with_env(args, &[(SECRET_VAR, SECRET)])
}

/// `build` and `check` both fail with exit code 1 and the same errors, print no secret, and write
/// nothing. Returns the errors (stderr of `check`).
#[track_caller]
fn both_fail(site: &TestSite) -> String {
    let build = run(site, &["build"]);
    let check = run(site, &["check"]);
    for r in [&build, &check] {
        assert_eq!(r.code, 1, "expected exit code 1: {r:?}");
        assert!(
            !r.stdout.contains(SECRET) && !r.stderr.contains(SECRET),
            "{r:?}"
        );
    }
    // The same diagnostics; only the summary line differs ("nothing was written").
    let body = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("1 error"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&build.stderr), body(&check.stderr));
    assert!(!site.path("public").exists(), "something was written");
    check.stderr
}

#[test]
fn get_env_in_a_template_is_a_located_error_and_prints_nothing() {
    let page = format!(
        "{{% extends \"base.html\" %}}\n{{% block content %}}\n<p>{{{{ get_env(name=\"{SECRET_VAR}\") }}}}</p>\n{{% endblock content %}}\n"
    );
    let site = site_with(&[("templates/page.html", &page)]);
    let err = both_fail(&site);
    assert!(err.contains("templates/page.html:3:7"), "{err}");
    assert!(
        err.contains("`get_env()` is not available in templates"),
        "{err}"
    );
    assert!(err.contains("`extra:` in site.yaml"), "{err}");
    assert!(err.contains("site.extra.NAME"), "{err}");

    // With a default, in a macro file no page uses, in a filter argument: refused all the same.
    let macros = format!(
        "{{% macro token() %}}\n{{{{ \"x\" | replace(from=\"x\", to=get_env(name=\"{SECRET_VAR}\", default=\"\")) }}}}\n{{% endmacro token %}}\n"
    );
    let site = site_with(&[("templates/unused.html", &macros)]);
    let err = both_fail(&site);
    assert!(err.contains("templates/unused.html:2:31"), "{err}");
}

#[test]
fn a_recursive_macro_is_a_located_error_not_a_crash() {
    let page = "{% extends \"base.html\" %}\n{% macro countdown(n) %}{{ n }} {{ self::countdown(n=n - 1) }}{% endmacro countdown %}\n{% block content %}{{ self::countdown(n=3) }}{% endblock content %}\n";
    let site = site_with(&[("templates/page.html", page)]);
    let err = both_fail(&site);
    assert!(err.contains("templates/page.html:2:10"), "{err}");
    assert!(err.contains("macro `countdown` calls itself"), "{err}");
    assert!(err.contains("recursion can crash the build"), "{err}");
}

#[test]
fn mutually_recursive_macros_across_files_are_an_error() {
    let site = site_with(&[
        (
            "templates/ping.html",
            "{# pong:: is the namespace of the page that imports both #}\n\n{% macro ping(n) %}ping {{ pong::pong(n=n) }}{% endmacro ping %}\n",
        ),
        (
            "templates/pong.html",
            "{% macro pong(n) %}pong {{ ping::ping(n=n) }}{% endmacro pong %}\n",
        ),
        (
            "templates/page.html",
            "{% extends \"base.html\" %}\n{% import \"ping.html\" as ping %}\n{% import \"pong.html\" as pong %}\n{% block content %}{{ ping::ping(n=1) }}{% endblock content %}\n",
        ),
    ]);
    let err = both_fail(&site);
    assert!(err.contains("templates/ping.html:3:10"), "{err}");
    assert!(
        err.contains("macro `ping` calls itself (ping (in ping.html) -> pong (in pong.html) -> ping (in ping.html))"),
        "{err}"
    );
    assert_eq!(
        err.matches("error[").count(),
        1,
        "one cycle, one error: {err}"
    );
}

#[test]
fn macro_files_that_import_each_other_are_an_error() {
    let site = site_with(&[
        (
            "templates/page.html",
            "{% extends \"base.html\" %}\n{% import \"b.html\" as b %}\n{% block content %}{{ b::x() }}{% endblock content %}\n",
        ),
        ("templates/b.html", "{% import \"c.html\" as c %}\n{% macro x() %}x{% endmacro x %}\n"),
        ("templates/c.html", "\n{% import \"b.html\" as b %}\n{% macro y() %}y{% endmacro y %}\n"),
    ]);
    let err = both_fail(&site);
    assert!(
        err.contains("`b.html` imports itself (b.html -> c.html -> b.html)"),
        "{err}"
    );
    assert!(err.contains("templates/c.html:2:12"), "{err}");
}

#[test]
fn a_template_that_includes_itself_is_an_error() {
    let site = site_with(&[
        (
            "templates/a.html",
            "<div>\n  {% include \"b.html\" %}\n</div>\n",
        ),
        (
            "templates/b.html",
            "{% if true %}{% include \"a.html\" %}{% endif %}\n",
        ),
    ]);
    let err = both_fail(&site);
    assert!(
        err.contains("template `a.html` includes itself (a.html -> b.html -> a.html)"),
        "{err}"
    );
    assert!(err.contains("templates/b.html:1:26"), "{err}");
}

#[test]
fn a_runaway_range_is_an_error() {
    for (template, message) in [
        ("{% for i in range(end=10000000) %}.{% endfor %}", "`range` would make 10000000 numbers"),
        ("{% for i in range(end=5, step_by=0) %}.{% endfor %}", "`range` got step_by=0"),
        (
            "{% for i in range(end=100000) %}{% for j in range(end=100000) %}{% endfor %}{% endfor %}",
            "more than 1000000 numbers in one output",
        ),
    ] {
        let page = format!("{{% extends \"base.html\" %}}\n{{% block content %}}\n  {template}\n{{% endblock content %}}\n");
        let site = site_with(&[("templates/page.html", &page)]);
        let err = both_fail(&site);
        assert!(err.contains("templates/page.html:3:15"), "{template}: {err}");
        assert!(err.contains(message), "{template}: {err}");
        assert!(err.contains("one `range` may make 100,000 numbers"), "{err}");
    }
}

#[test]
fn a_runaway_loop_stops_at_the_output_cap() {
    // 100,000 x 8 x 100 bytes = 80 MB of output, past the 64 MiB cap.
    let line = "x".repeat(100);
    let page = format!(
        "{{% for i in range(end=100000) %}}{{% for j in range(end=8) %}}{line}{{% endfor %}}{{% endfor %}}\n"
    );
    let site = site_with(&[("templates/page.html", &page)]);
    let err = both_fail(&site);
    assert!(
        err.contains("`page.html` wrote more than 64 MiB for one output"),
        "{err}"
    );
    assert!(err.contains("templates/page.html"), "{err}");
}

#[test]
fn deeply_nested_template_text_is_a_located_error_not_a_crash() {
    let n = 100_000;
    let ifs = format!("{}x{}", "{% if true %}".repeat(n), "{% endif %}".repeat(n));
    let site = site_with(&[("templates/page.html", &format!("\n{ifs}\n"))]);
    let err = both_fail(&site);
    // The 101st `{% if %}` of line 2.
    assert!(
        err.contains(&format!("templates/page.html:2:{}", 100 * 13 + 1)),
        "{err}"
    );
    assert!(err.contains("tags nest more than 100 deep"), "{err}");

    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(n), ")".repeat(n));
    let site = site_with(&[("templates/page.html", &parens)]);
    let err = both_fail(&site);
    assert!(err.contains("templates/page.html:1:1"), "{err}");
    assert!(err.contains("brackets nest more than 64 deep"), "{err}");

    let sum = format!("{{{{ 1{} }}}}", " + 1".repeat(n));
    let site = site_with(&[("templates/page.html", &sum)]);
    let err = both_fail(&site);
    assert!(
        err.contains("this tag has more than 200 operators"),
        "{err}"
    );
}

#[test]
fn a_long_chain_of_macros_is_an_error_not_a_crash() {
    let mut macros = String::new();
    for i in 0..3000 {
        macros.push_str(&format!(
            "{{% macro m{i}() %}}{{{{ self::m{}() }}}}{{% endmacro m{i} %}}\n",
            i + 1
        ));
    }
    macros.push_str("{% macro m3000() %}end{% endmacro m3000 %}\n");
    let site = site_with(&[(
        "templates/page.html",
        &format!("{macros}{{{{ self::m0() }}}}\n"),
    )]);
    let err = both_fail(&site);
    assert!(err.contains("more than 150"), "{err}");
    assert!(err.contains("templates/page.html:3002:4"), "{err}");
}

#[test]
fn a_long_chain_of_extends_is_an_error_not_a_memory_blowup() {
    let mut files: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("templates/t{i}.html"),
                format!("{{% extends \"t{}.html\" %}}{{% block b %}}{{{{ super() }}}}{i}{{% endblock b %}}", i + 1),
            )
        })
        .collect();
    files.push((
        "templates/t40.html".into(),
        "{% block b %}root{% endblock b %}".into(),
    ));
    files.push((
        "templates/page.html".into(),
        "\n{% extends \"t0.html\" %}{% block b %}page{% endblock b %}".into(),
    ));
    let list: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let site = site_with(&list);
    let err = both_fail(&site);
    assert!(err.contains("templates/page.html:2:13"), "{err}");
    assert!(
        err.contains("`page.html` extends a chain of more than 32 templates"),
        "{err}"
    );
    assert_eq!(err.matches("error[").count(), 1, "{err}");
}

#[test]
fn legitimate_and_imported_macros_keep_working() {
    let site = site_with(&[
        (
            "templates/parts/links.html",
            "{% macro link(url, text) %}<a href=\"{{ url }}\">{{ text }}</a>{% endmacro link %}\n",
        ),
        (
            "templates/parts/cards.html",
            "{% import \"parts/links.html\" as links %}\n{% macro item(p) %}<li class=\"card\">{{ links::link(url=p.url, text=p.title) }}</li>{% endmacro item %}\n{% macro list(ps) %}<ul>{% for p in ps %}{{ self::item(p=p) }}{% endfor %}</ul>{% endmacro list %}\n",
        ),
        // A macro named like another file's, calling that one: not recursion.
        (
            "templates/parts/wrap.html",
            "{% import \"parts/cards.html\" as cards %}\n{% macro item(p) %}<div class=\"wrap\">{{ cards::item(p=p) }}</div>{% endmacro item %}\n",
        ),
        (
            "templates/page.html",
            "{% extends \"base.html\" %}\n{% import \"parts/cards.html\" as cards %}\n{% import \"parts/wrap.html\" as wrap %}\n{% block content %}{{ cards::list(ps=[page]) }}{{ wrap::item(p=page) }}<p>{% for i in range(end=3) %}{{ i }}{% endfor %}</p>{% endblock content %}\n",
        ),
    ]);
    let r = run(&site, &["build"]);
    assert_eq!(r.code, 0, "{r:?}");
    let html = site.output("notes/one/index.html");
    assert!(
        html.contains("<ul><li class=\"card\"><a href=\"/notes/one/\">One</a></li></ul>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<div class=\"wrap\"><li class=\"card\"><a href=\"/notes/one/\">One</a></li></div>"
        ),
        "{html}"
    );
    assert!(html.contains("<p>012</p>"), "{html}");
    assert_eq!(run(&site, &["check"]).code, 0);
}

#[test]
fn serve_keeps_the_last_good_site_when_a_template_recurses() {
    let site = site_with(&[]);
    let s = Server::start(site.root(), &[]);
    let events = s.events();
    s.wait_body("/notes/one/", "One.");
    write(
        site.root(),
        "templates/page.html",
        "{% extends \"base.html\" %}\n{% macro r() %}{{ self::r() }}{% endmacro r %}\n{% block content %}{{ self::r() }}{% endblock content %}\n",
    );
    let problems = events.next("problems");
    assert_eq!(
        problems[0]["location"], "templates/page.html:2:10",
        "{problems}"
    );
    let mut s = s;
    assert!(s.alive(), "serve died:\n{}", s.printed());
    let r = s.get("/notes/one/");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("One."));
    // A fixed template is picked up again.
    write(
        site.root(),
        "templates/page.html",
        "{% extends \"base.html\" %}\n{% block content %}<p class=\"fixed\">fixed</p>{% endblock content %}\n",
    );
    events.next("reload");
    s.wait_body("/notes/one/", "class=\"fixed\"");
    assert!(s.alive());
}
