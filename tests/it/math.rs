//! Math (`$...$`, `$$...$$`) built into MathML and Mermaid blocks built into inline SVG: what the
//! pages hold, what search holds, and the located error for a formula or diagram that cannot be
//! drawn.

use std::io::Read as _;

use crate::support::{tree, TestSite};

const MATH_PAGE: &str = "---\ntitle: Formulas\n---\n\
The roots are $x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}$ in $\\mathbb{R}$.\n\n\
$$\n\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}\n$$\n\n\
$$\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}$$\n\n\
It costs $5 and $10 at the shop.\n\n\
- in a list: $\\alpha_1$\n";

const DIAGRAM_PAGE: &str = "---\ntitle: Flow\n---\nBefore.\n\n\
```mermaid\nflowchart LR\n  A[Checkout] --> B{Paid?}\n  B -->|yes| C[Shipping]\n```\n\n\
```mermaid\nsequenceDiagram\n  Alice->>Bob: Hello\n```\n\nAfter.\n";

fn site(raw_html: &str) -> TestSite {
    let s = TestSite::new(&format!(
        "title: Maths\nmarkdown:\n  raw_html: {raw_html}\n"
    ));
    s.write("content/formulas.md", MATH_PAGE)
        .write("content/flow.md", DIAGRAM_PAGE);
    s
}

/// The text of every search file of the built site (documents and term shards, unzipped).
fn search_text(s: &TestSite) -> String {
    let mut all = String::new();
    for (rel, bytes) in tree(&s.path("public/search")) {
        if rel.ends_with(".gz") {
            let _ = flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut all);
        } else if rel.ends_with(".json") {
            all.push_str(&String::from_utf8_lossy(&bytes));
        }
        all.push('\n');
    }
    all
}

/// The `<main>` part of a page, where the body is.
fn main_of(html: &str) -> &str {
    let start = html.find("<main").unwrap_or(0);
    let end = html.rfind("</main>").unwrap_or(html.len());
    &html[start..end]
}

#[test]
fn math_becomes_mathml_in_both_raw_html_modes() {
    for raw_html in ["allow", "escape"] {
        let s = site(raw_html);
        s.build();
        let html = s.output("formulas/index.html");
        let body = main_of(&html);
        assert!(body.contains("<math><mi>x</mi>"), "{raw_html}: {body}");
        assert!(body.contains("<mfrac>"), "{raw_html}: {body}");
        assert!(body.contains("ℝ"), "{raw_html}: {body}");
        assert!(
            body.contains("<div class=\"math-display\"><math display=\"block\">"),
            "{raw_html}: {body}"
        );
        assert_eq!(
            body.matches("<math display=\"block\">").count(),
            2,
            "{body}"
        );
        assert!(body.contains("<mtable"), "{raw_html}: {body}");
        assert!(body.contains("<li>in a list: <math>"), "{raw_html}: {body}");
        assert!(
            !body.contains("&lt;math"),
            "{raw_html}: MathML escaped: {body}"
        );
        // No TeX is left: the only `$` are the prices.
        assert!(
            body.contains("It costs $5 and $10 at the shop."),
            "{raw_html}: {body}"
        );
        assert_eq!(body.matches('$').count(), 2, "{raw_html}: {body}");
        assert!(!body.contains("\\frac"), "{raw_html}: {body}");
        // Nothing is fetched or run for it.
        assert!(!html.contains("<script src=\"http"), "{html}");
        assert!(!html.to_ascii_lowercase().contains("katex"), "{html}");
        assert!(!html.to_ascii_lowercase().contains("mathjax"), "{html}");
    }
}

#[test]
fn the_tex_is_searched() {
    let s = site("allow");
    s.build();
    let text = search_text(&s);
    assert!(text.contains("frac"), "no TeX in the search files");
    assert!(text.contains("pmatrix"), "no TeX in the search files");
}

#[test]
fn mermaid_blocks_become_inline_svg_with_searchable_labels() {
    for raw_html in ["allow", "escape"] {
        let s = site(raw_html);
        s.build();
        let html = s.output("flow/index.html");
        let body = main_of(&html);
        assert_eq!(
            body.matches("<figure class=\"diagram\"><svg").count(),
            2,
            "{raw_html}: {body}"
        );
        assert!(body.contains(">Checkout<"), "{raw_html}: {body}");
        assert!(!body.contains("language-mermaid"), "{raw_html}: {body}");
        assert!(!body.contains("flowchart LR"), "{raw_html}: {body}");
        assert!(!body.contains("&lt;svg"), "{raw_html}: {body}");
        assert!(
            !html.contains("mermaid.js") && !html.contains("mermaid.min"),
            "{html}"
        );
    }
    let s = site("allow");
    s.build();
    let text = search_text(&s);
    assert!(text.contains("checkout"), "labels are searched");
    assert!(text.contains("shipping"), "labels are searched");
    assert!(!text.contains("flowchart"), "the source is not searched");
    assert!(
        !text.contains("sequencediagram"),
        "the source is not searched"
    );
}

#[test]
fn a_formula_that_does_not_parse_is_a_located_error() {
    let s = TestSite::new("title: T\n");
    let line = "Broken: $\\frac{1}$ and $\\nosuch{x}$.";
    s.write(
        "content/bad.md",
        &format!("---\ntitle: Bad\n---\nFine $x$ here.\n\n{line}\n"),
    );
    let run = s.run(&["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("bad-math"), "{}", run.stderr);
    // Both are on line 6: `\frac{1}` lacks its second argument (reported at its end), `\nosuch`
    // is unknown (reported where it starts).
    let frac_end = line.find("}$").unwrap() + 2;
    let nosuch = line.find("\\nosuch").unwrap() + 1;
    assert!(
        run.stderr.contains(&format!("content/bad.md:6:{frac_end}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("content/bad.md:6:{nosuch}")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nosuch"), "{}", run.stderr);
    assert!(run.stderr.contains("fix the TeX"), "{}", run.stderr);
    assert!(run.stderr.contains("2 errors"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn a_diagram_that_does_not_parse_is_a_located_error() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/flow.md",
        "---\ntitle: Flow\n---\nText.\n\n```mermaid\nthis is not a diagram\n```\n\n```mermaid\nflowchart LR\n  A --> B\n```\n",
    );
    let run = s.run(&["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("bad-diagram"), "{}", run.stderr);
    assert!(run.stderr.contains("content/flow.md:6:1"), "{}", run.stderr);
    assert!(run.stderr.contains("Mermaid"), "{}", run.stderr);
    assert!(run.stderr.contains("1 error"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn nothing_script_like_comes_out_of_formulas_or_diagrams() {
    let s = TestSite::new("title: T\nmarkdown:\n  raw_html: escape\n");
    s.write(
        "content/evil.md",
        "---\ntitle: Evil\n---\n\
         $\\text{<script>alert(1)</script>}$ and $\\text{\" onmouseover=\"alert(2)}$\n\n\
         $$\\mathrm{x} \\text{<img src=x onerror=alert(3)>}$$\n\n\
         ```mermaid\nflowchart LR\n  A[\"<img src=x onerror=alert(4)>\"] --> B[\"<script>alert(5)</script>\"]\n  \
         click A \"javascript:alert(6)\" \"tip\"\n  click B href \"javascript:alert(7)\"\n  \
         style B fill:#f9f,stroke:url(javascript:alert(8))\n  C --> D\n  click C \"https://example.org/\"\n```\n",
    );
    s.build();
    let html = s.output("evil/index.html");
    let body = main_of(&html);
    let lower = body.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{body}");
    assert!(!lower.contains("<img"), "{body}");
    assert!(!lower.contains("javascript:"), "{body}");
    assert!(!lower.contains(" onmouseover=\""), "{body}");
    assert!(!lower.contains(" onerror="), "{body}");
    assert!(!lower.contains("url(j"), "{body}");
    assert!(
        body.contains("&lt;img src=x onerror=alert(4)&gt;") || body.contains("&lt;img src=x"),
        "{body}"
    );
    assert!(body.contains("<figure class=\"diagram\"><svg"), "{body}");
    assert!(body.contains("href=\"https://example.org/\""), "{body}");
}

#[test]
fn markup_the_math_crate_leaves_unescaped_is_an_error_not_a_tag() {
    // math-core 0.7 writes the argument of `\operatorname` as it is: `/` separates attributes in
    // HTML, so this would be an `<img>` with an `onerror` on the page.
    let s = TestSite::new("title: T\nmarkdown:\n  raw_html: escape\n");
    s.write(
        "content/evil.md",
        "---\ntitle: Evil\n---\nText.\n\n$\\operatorname{<img/src=x/onerror=alert(1)>}$\n",
    );
    let run = s.run(&["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("bad-math"), "{}", run.stderr);
    assert!(run.stderr.contains("content/evil.md:6:"), "{}", run.stderr);
    assert!(!s.output_exists("evil/index.html"));
}

#[test]
fn a_dollar_in_prose_is_text() {
    let s = TestSite::new("title: T\n");
    s.write(
        "content/prices.md",
        "---\ntitle: Prices\n---\nIt costs $5 and $10.\n\nBetween $ 5 $ signs. A lone $ sign.\n\nEscaped \\$x\\$ stays.\n",
    );
    s.build();
    let body = s.output("prices/index.html");
    let body = main_of(&body);
    assert!(body.contains("It costs $5 and $10."), "{body}");
    assert!(body.contains("A lone $ sign."), "{body}");
    assert!(body.contains("Escaped $x$ stays."), "{body}");
    assert!(!body.contains("<math"), "{body}");
}

#[test]
fn a_diagram_too_big_to_draw_in_time_is_an_error_not_a_hang() {
    // A dense random graph: 200 nodes, 400 edges, which the renderer takes far longer than its limit
    // of 10 seconds to lay out.
    let mut source = String::from("flowchart TD\n");
    let mut x: u64 = 7;
    for _ in 0..400 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let (a, b) = ((x >> 33) % 200, (x >> 13) % 200);
        source.push_str(&format!("  n{a} --> n{b}\n"));
    }
    let s = TestSite::new("title: T\n");
    s.write(
        "content/big.md",
        &format!("---\ntitle: Big\n---\nText.\n\n```mermaid\n{source}```\n"),
    );
    let start = std::time::Instant::now();
    let run = s.run(&["build"]);
    let took = start.elapsed();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("bad-diagram"), "{}", run.stderr);
    assert!(run.stderr.contains("content/big.md:6:1"), "{}", run.stderr);
    assert!(
        run.stderr.contains("more than 10 seconds"),
        "{}",
        run.stderr
    );
    assert!(took.as_secs() < 60, "the build took {took:?}");
}
