//! The typed model: kinds and schemas, references, wikilinks, Markdown links, backlinks, matrices,
//! learning paths and `fieldbook check`.

use crate::support::TestSite;

/// A small typed site that checks clean.
fn typed_site() -> TestSite {
    let s = TestSite::with_kinds();
    s.write("content/positions/field.md", "---\ntitle: Field self-broadcast\nletter: F\nweight: 1\n---\n## How to run it\n\nDaily.\n")
        .write("content/positions/alliance.md", "---\ntitle: Alliance\nletter: A\nweight: 2\n---\nInfluencers.\n")
        .write("content/tools/doudian.md", "---\ntitle: Doudian\nzh: 抖店\ncategory: store\npositions: [field]\n---\n## After-sales\n\nRefunds.\n")
        .write("content/tools/qianchuan.md", "---\ntitle: Juliang Qianchuan\ncategory: ads\npositions: [field, alliance]\n---\nAds. See [[doudian#after-sales]] and [the store](doudian.md).\n")
        .write(
            "content/playbooks/launch.md",
            "---\ntitle: Launch self-broadcast\npositions: [field]\ntools: [doudian, tool/qianchuan]\nowner: alliance\n---\nOpen [[doudian|the store]] first, then [[qianchuan]].\n",
        );
    s
}

#[test]
fn a_clean_site_checks_clean_and_writes_nothing() {
    let s = typed_site();
    let run = s.run(&["check"]).ok();
    assert!(
        run.stdout.contains("Checked 5 pages: no problems"),
        "{}",
        run.stdout
    );
    assert!(!s.path("public").exists());
}

#[test]
fn refs_and_wikilinks_and_md_links_resolve_to_pages() {
    let s = typed_site();
    s.build();
    let html = s.output("playbooks/launch/index.html");
    assert!(
        html.contains("<a class=\"wikilink\" href=\"/tools/doudian/\">the store</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a class=\"wikilink\" href=\"/tools/qianchuan/\">Juliang Qianchuan</a>"),
        "default label is the title: {html}"
    );
    let q = s.output("tools/qianchuan/index.html");
    assert!(
        q.contains("href=\"/tools/doudian/#after-sales\">Doudian › After-sales</a>"),
        "{q}"
    );
    assert!(
        q.contains("<a href=\"/tools/doudian/\">the store</a>"),
        "md link rewritten: {q}"
    );
}

#[test]
fn facts_box_shows_typed_fields_with_refs_as_links() {
    let s = typed_site();
    s.build();
    let html = s.output("playbooks/launch/index.html");
    let facts = &html[html.find("<dl class=\"facts\">").expect("facts box")..];
    let facts = &facts[..facts.find("</dl>").unwrap()];
    assert!(
        facts.contains("<a href=\"/positions/field/\">Field self-broadcast</a>"),
        "{facts}"
    );
    assert!(
        facts.contains("<a href=\"/tools/qianchuan/\">Juliang Qianchuan</a>"),
        "{facts}"
    );
    assert!(facts.contains(">Owner</dt>"), "{facts}");
}

#[test]
fn backlinks_are_grouped_by_kind_and_field() {
    let s = typed_site();
    s.build();
    let html = s.output("positions/field/index.html");
    let back = &html[html.find("class=\"backlinks\"").expect("backlinks section")..];
    assert!(back.contains("<h3>Playbooks · positions</h3>"), "{back}");
    assert!(back.contains("<h3>Tools · positions</h3>"), "{back}");
    assert!(back.contains("href=\"/playbooks/launch/\""), "{back}");
    let doudian = s.output("tools/doudian/index.html");
    let back = &doudian[doudian.find("class=\"backlinks\"").expect("backlinks")..];
    // Linked by a field and in the body: listed once, under the field.
    assert!(back.contains("<h3>Playbooks · tools</h3>"), "{back}");
    assert!(
        back.contains("<h3>Mentioned in</h3>"),
        "qianchuan mentions it in its body: {back}"
    );
    assert_eq!(
        back.matches("href=\"/playbooks/launch/\"").count(),
        1,
        "{back}"
    );
}

#[test]
fn kind_index_groups_by_the_declared_field() {
    let s = TestSite::new(&crate::support::KINDS_YAML.replace(
        "    title: Tools\n",
        "    title: Tools\n    index: { group_by: category }\n",
    ));
    s.write(
        "content/tools/a.md",
        "---\ntitle: A\ncategory: ads\n---\nx\n",
    )
    .write(
        "content/tools/b.md",
        "---\ntitle: B\ncategory: store\n---\ny\n",
    );
    s.build();
    let html = s.output("tools/index.html");
    // Enum values read as words, with the group's size.
    let store = html
        .find(">Store <span class=\"count\">1</span></h2>")
        .expect("store group");
    let ads = html
        .find(">Ads <span class=\"count\">1</span></h2>")
        .expect("ads group");
    assert!(store < ads, "enum groups follow the declared order");
    assert!(html[store..].find("href=\"/tools/b/\"").unwrap() < ads - store);
}

#[test]
fn tag_pages_list_tagged_pages() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/a.md",
        "---\ntitle: A\ntags: [Live Streaming]\n---\nx\n",
    )
    .write(
        "content/b.md",
        "---\ntitle: B\ntags: [live streaming, data]\n---\nx\n",
    );
    s.build();
    let tag = s.output("tags/live-streaming/index.html");
    assert!(
        tag.contains("href=\"/a/\"") && tag.contains("href=\"/b/\""),
        "{tag}"
    );
    assert!(s.output("tags/index.html").contains("href=\"/tags/data/\""));
    assert!(s
        .output("a/index.html")
        .contains("href=\"/tags/live-streaming/\""));
}

#[test]
fn matrix_cells_list_the_connecting_pages() {
    let config = format!(
        "{}views:\n  - matrix: {{ slug: pos-by-tool, title: Positions by tools, rows: position, cols: tool, via: playbook }}\n  - matrix: {{ slug: tools-by-pos, title: Tools by positions, rows: tool, cols: position }}\n",
        crate::support::KINDS_YAML
    );
    let s = TestSite::new(&config);
    for (path, text) in [
        (
            "content/positions/field.md",
            "---\ntitle: Field\nletter: F\nweight: 1\n---\n",
        ),
        (
            "content/positions/alliance.md",
            "---\ntitle: Alliance\nletter: A\nweight: 2\n---\n",
        ),
        (
            "content/tools/doudian.md",
            "---\ntitle: Doudian\ncategory: store\npositions: [alliance]\n---\n",
        ),
        (
            "content/playbooks/launch.md",
            "---\ntitle: Launch\npositions: [field]\ntools: [doudian]\n---\n",
        ),
    ] {
        s.write(path, text);
    }
    s.build();
    let m = s.output("matrices/pos-by-tool/index.html");
    let rows: Vec<&str> = m.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 2, "{m}");
    assert!(
        rows[0].contains(">Field</a></th>") && rows[0].contains("href=\"/playbooks/launch/\""),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].contains(">Alliance</a></th>") && rows[1].contains("class=\"empty\""),
        "{}",
        rows[1]
    );
    let d = s.output("matrices/tools-by-pos/index.html");
    let row = d.split("<tr>").nth(2).unwrap();
    let cells: Vec<&str> = row.split("<td").skip(1).collect();
    assert!(
        cells[0].contains("empty") && cells[1].contains("direct"),
        "{row}"
    );
    assert!(
        s.output("index.html")
            .contains("href=\"/matrices/pos-by-tool/\""),
        "matrices are in the navigation"
    );
}

#[test]
fn learning_paths_number_their_steps() {
    let config = format!(
        "{}  path:\n    folder: paths\n    title: Paths\n    sequence: steps\n    fields:\n      steps:\n        type: list\n        of: {{ type: object, fields: {{ page: {{ type: ref, required: true }}, why: {{ type: string }} }} }}\n",
        crate::support::KINDS_YAML
    );
    let s = TestSite::new(&config);
    s.write("content/positions/field.md", "---\ntitle: Field\nletter: F\n---\n")
        .write("content/tools/doudian.md", "---\ntitle: Doudian\ncategory: store\n---\n")
        .write("content/positions/alliance.md", "---\ntitle: Alliance\nletter: A\n---\n")
        .write(
            "content/paths/first-week.md",
            "---\ntitle: First week\nsteps:\n  - page: field\n    why: Start with the basics.\n  - page: doudian\n    why: The store.\n  - page: alliance\n---\n",
        );
    s.build();
    let path = s.output("paths/first-week/index.html");
    assert!(path.contains("<ol class=\"steps\">"), "{path}");
    assert!(
        path.find("href=\"/positions/field/\"").unwrap()
            < path.find("href=\"/tools/doudian/\"").unwrap()
    );
    assert!(path.contains("Start with the basics."));
    let step = s.output("tools/doudian/index.html");
    assert!(
        step.contains("Step 2 of 3 in <a href=\"/paths/first-week/\">First week</a>"),
        "{step}"
    );
    assert!(
        step.contains("rel=\"prev\" href=\"/positions/field/\""),
        "{step}"
    );
    assert!(
        step.contains("rel=\"next\" href=\"/positions/alliance/\""),
        "{step}"
    );
}

#[test]
fn a_site_with_its_own_kinds_works() {
    let s = TestSite::new(
        "title: Kitchen\nkinds:\n  ingredient: { folder: ingredients, title: Ingredients, fields: { season: { type: enum, values: [summer, winter] } } }\n  recipe:\n    folder: recipes\n    title: Recipes\n    fields:\n      serves: { type: int, default: 2 }\n      ingredients: { type: refs, to: ingredient, required: true }\nviews:\n  - matrix: { slug: r-by-i, title: Recipes by ingredient, rows: recipe, cols: ingredient }\n",
    );
    s.write(
        "content/ingredients/tomato.md",
        "---\ntitle: Tomato\nseason: summer\n---\nRed.\n",
    )
    .write(
        "content/recipes/soup.md",
        "---\ntitle: Tomato soup\ningredients: [tomato]\n---\nUse [[tomato]].\n",
    );
    s.run(&["check"]).ok();
    s.build();
    let soup = s.output("recipes/soup/index.html");
    assert!(
        soup.contains(">Serves</dt><dd><span>2</span>"),
        "default applied: {soup}"
    );
    assert!(s
        .output("ingredients/tomato/index.html")
        .contains("Recipes · ingredients"));
    assert!(s
        .output("matrices/r-by-i/index.html")
        .contains("class=\"direct\""));
}

#[test]
fn schema_errors_each_point_at_the_value() {
    let s = typed_site();
    s.write(
        "content/tools/bad.md",
        "---\ntitle: Bad\ncategory: shop\npostions: [field]\nzh: [1, 2]\n---\n",
    )
    .write(
        "content/positions/noletter.md",
        "---\ntitle: No letter\n---\n",
    );
    let run = s.run(&["check"]);
    assert_eq!(run.code, 1);
    let err = run.stderr;
    assert!(
        err.contains("`shop` is not an allowed value of `category`"),
        "{err}"
    );
    assert!(err.contains("content/tools/bad.md:3:11"), "{err}");
    assert!(
        err.contains("allowed values: store, ads") || err.contains("Allowed: store, ads"),
        "{err}"
    );
    assert!(
        err.contains("unknown field `postions` for a page of kind `tool`"),
        "{err}"
    );
    assert!(err.contains("content/tools/bad.md:4:1"), "{err}");
    assert!(err.contains("did you mean `positions`?"), "{err}");
    assert!(
        err.contains("field `zh` should be text, found a list"),
        "{err}"
    );
    assert!(err.contains("missing required field `letter`"), "{err}");
    assert!(
        err.contains("Letter in FACT"),
        "the field's description is the hint: {err}"
    );
}

#[test]
fn broken_references_suggest_the_closest_pages() {
    let s = typed_site();
    s.write("content/playbooks/launch.md", "---\ntitle: L\npositions: [feild]\ntools: [field]\n---\nSee [[doudain]] and [[doudian#aftersales]] and [x](../tools/nope.md).\n");
    let run = s.run(&["check"]);
    assert_eq!(run.code, 1);
    let err = run.stderr;
    assert!(
        err.contains("field `positions`: `feild` does not match any page"),
        "{err}"
    );
    assert!(err.contains("did you mean `position/field`?"), "{err}");
    assert!(err.contains("field `tools`: `field` is `position/field`, a page of kind `position`, but `tool` is expected here"), "{err}");
    assert!(
        err.contains("wikilink `doudain` does not match any page"),
        "{err}"
    );
    assert!(err.contains("did you mean `tool/doudian`?"), "{err}");
    assert!(
        err.contains("points to `#aftersales`, which is not a heading of `tool/doudian`"),
        "{err}"
    );
    assert!(err.contains("did you mean `#after-sales`?"), "{err}");
    assert!(
        err.contains("link `tools/nope.md` does not match any page"),
        "{err}"
    );
}

#[test]
fn ambiguous_short_names_go_to_the_closest_page_with_a_warning() {
    let s = typed_site();
    s.write(
        "content/positions/doudian.md",
        "---\ntitle: D\nletter: D\n---\n",
    )
    .write(
        "content/positions/intro.md",
        "---\ntitle: I\nletter: I\n---\nSee [[doudian]].\n",
    )
    .write("content/misc.md", "[[doudian]]\n");
    let run = s.run(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let err = run.stderr;
    assert!(err.contains("warning[ambiguous-link]"), "{err}");
    assert!(
        err.contains("wikilink `doudian` could mean 2 pages"),
        "{err}"
    );
    assert!(
        err.contains("write the path to choose: `position/doudian`, `tool/doudian`"),
        "{err}"
    );
    // From positions/, the page beside it; from the root, the shorter path, then the id.
    let intro = s.output("positions/intro/index.html");
    assert!(intro.contains("href=\"/positions/doudian/\""), "{intro}");
    let misc = s.output("misc/index.html");
    assert!(misc.contains("href=\"/tools/doudian/\""), "{misc}");
}

#[test]
fn links_cannot_escape_the_site() {
    let s = typed_site();
    s.write(
        "content/misc.md",
        "[[../../etc/passwd]] and [p](../../../etc/passwd.md)\n",
    );
    let err = s.run(&["check"]).stderr;
    assert!(
        err.contains("`../../etc/passwd` points outside content/"),
        "{err}"
    );
    assert_eq!(err.matches("error[unknown-link]").count(), 2, "{err}");
}

#[test]
fn duplicate_urls_are_errors() {
    let s = TestSite::new("title: T\n");
    s.write("content/a.md", "x\n")
        .write("content/b.md", "---\nslug: a\n---\n");
    let err = s.run(&["check"]).stderr;
    assert!(err.contains("both make the page at /a/"), "{err}");
}

#[test]
fn kind_from_front_matter_and_unknown_kinds() {
    let s = typed_site();
    s.write(
        "content/elsewhere/shop.md",
        "---\ntitle: Shop\nkind: tool\ncategory: store\n---\n",
    );
    s.run(&["check"]).ok();
    s.write(
        "content/elsewhere/shop.md",
        "---\ntitle: Shop\nkind: tol\n---\n",
    );
    let err = s.run(&["check"]).stderr;
    assert!(err.contains("unknown kind `tol`"), "{err}");
    assert!(err.contains("did you mean `tool`?"), "{err}");
}

#[test]
fn config_errors_in_kinds() {
    let s = TestSite::new("title: T\nkinds:\n  tool:\n    folder: tools\n    title: Tools\n    fields:\n      owner: { type: ref, to: rol }\n      level: { type: enum }\n");
    let err = s.run(&["check"]).stderr;
    assert!(err.contains("site.yaml:7:"), "{err}");
    assert!(
        err.contains("names kind `rol`, which site.yaml does not declare"),
        "{err}"
    );
    assert!(err.contains("an `enum` needs `values: [...]`"), "{err}");
}

#[test]
fn check_json_lists_diagnostics_for_tools() {
    let s = typed_site();
    s.write(
        "content/tools/doudian.md",
        "---\ntitle: Doudian\ncategory: shop\n---\n",
    );
    let run = s.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect(&run.stdout);
    let d = &v.as_array().unwrap()[0];
    assert_eq!(d["file"], "content/tools/doudian.md");
    assert_eq!(d["line"], 3);
    assert_eq!(d["column"], 11);
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "enum-value");
    assert!(d["help"].as_str().unwrap().contains("store"));
    let clean = typed_site().run(&["check", "--format", "json"]).ok();
    assert_eq!(clean.stdout.trim(), "[]");
}

#[test]
fn templates_receive_typed_fields_with_resolved_refs() {
    let s = typed_site();
    s.write(
        "templates/playbook.html",
        "{% for p in page.fields.tools %}[{{ p.id }}|{{ p.kind }}|{{ p.title }}|{{ p.url }}]{% endfor %} owner={{ page.fields.owner.title }} back={{ page.backlinks | length }}",
    );
    s.build();
    assert_eq!(
        s.output("playbooks/launch/index.html"),
        "[tool/doudian|tool|Doudian|/tools/doudian/][tool/qianchuan|tool|Juliang Qianchuan|/tools/qianchuan/] owner=Alliance back=0"
    );
}

#[test]
fn a_matrix_too_large_for_a_table_lists_each_rows_connections() {
    let s = TestSite::new(
        "title: T\nkinds:\n  a: { folder: as, title: As, fields: { b: { type: refs, to: b } } }\n  b: { folder: bs, title: Bs }\nviews:\n  - matrix: { slug: big, title: Big, rows: a, cols: b }\n",
    );
    for i in 0..101 {
        s.write(
            &format!("content/as/a{i:03}.md"),
            &format!("---\nb: [b{:03}]\n---\n", i % 100),
        );
    }
    for i in 0..100 {
        s.write(&format!("content/bs/b{i:03}.md"), "x\n");
    }
    s.build();
    let html = s.output("matrices/big/index.html");
    assert!(
        !html.contains("<table"),
        "101 x 100 cells is past the table limit"
    );
    assert!(html.contains("<dl class=\"matrix-list\">"), "{html}");
    let row = &html[html.find("href=\"/as/a100/\"").expect("row a100")..];
    assert!(
        row[..row.find("</dd>").unwrap()].contains("href=\"/bs/b000/\""),
        "a100 connects to b000"
    );
    assert!(
        html.len() < 200_000,
        "the list grows with the links, not rows x columns: {}",
        html.len()
    );
}
