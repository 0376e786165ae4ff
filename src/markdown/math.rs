//! `$inline$` and `$$display$$` math, written at build time as MathML Core: the browser lays it
//! out with no script, no web font and nothing fetched.
//!
//! A formula that does not parse is shown as its TeX, in a `math-error` code span, and reported
//! (see [`super::Rendered::bad_markup`]).

use std::ops::Range;
use std::sync::OnceLock;

use math_core::{LatexToMathML, MathCoreConfig, MathDisplay};

use super::escape_html;
use super::sanitize::{clean, MATHML};

/// What kind of markup could not be drawn (see [`super::Rendered::bad_markup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    /// `$...$` or `$$...$$`.
    Math,
    /// A ```` ```mermaid ```` block.
    Diagram,
}

impl Markup {
    /// The code of its diagnostic.
    pub fn code(self) -> &'static str {
        match self {
            Markup::Math => "bad-math",
            Markup::Diagram => "bad-diagram",
        }
    }

    /// How to fix it.
    pub fn help(self) -> &'static str {
        match self {
            Markup::Math => {
                "fix the TeX (a LaTeX math formula); a `$` that is not math is written `\\$`"
            }
            Markup::Diagram => "fix the Mermaid source, or fence it as ```text to show it as code",
        }
    }
}

/// Where in the body a problem at `at` (a byte range of `tex`) is: within `range`, the formula's
/// range with its `$` signs, when the TeX is found there as written (in a list or a quote it may be
/// cut by line prefixes); else the whole formula.
pub(super) fn locate(
    body: &str,
    range: &Range<usize>,
    tex: &str,
    at: Range<usize>,
) -> Range<usize> {
    let written = body.get(range.clone()).unwrap_or("");
    match written.find(tex) {
        Some(i) if !tex.is_empty() => range.start + i + at.start..range.start + i + at.end,
        _ => range.clone(),
    }
}

/// [`locate`] for a formula whose range is not known: its first `$tex$` in the body.
pub(super) fn locate_anywhere(body: &str, tex: &str, at: Range<usize>) -> Range<usize> {
    match body.find(&format!("${tex}$")) {
        Some(i) => i + 1 + at.start..i + 1 + at.end,
        None => 0..0,
    }
}

/// The first line of `range` in the body (a code block's opening fence).
pub(super) fn first_line(body: &str, range: &Range<usize>) -> Range<usize> {
    let written = body.get(range.clone()).unwrap_or("");
    let len = written.find('\n').unwrap_or(written.len());
    range.start..range.start + len
}

/// The longest formula converted, in bytes; a longer one is an error. TeX this long is a paste gone
/// wrong, and it bounds the work of one formula.
const MAX_TEX: usize = 20_000;

fn converter() -> &'static LatexToMathML {
    static CONVERTER: OnceLock<LatexToMathML> = OnceLock::new();
    CONVERTER.get_or_init(|| {
        // No macros, so `new` cannot fail; the default converter is the same thing.
        LatexToMathML::new(MathCoreConfig::default()).unwrap_or_default()
    })
}

/// A formula's HTML, and the problem with it (message, byte range within `tex`) if it has one.
pub(super) struct Math {
    pub html: String,
    pub error: Option<(String, Range<usize>)>,
}

/// One formula: MathML, wrapped so that a wide display formula scrolls on its own; or, when the TeX
/// does not parse, the TeX as code.
pub(super) fn render(tex: &str, display: bool) -> Math {
    match to_mathml(tex, display) {
        Ok(mathml) if display => Math {
            html: format!("<div class=\"math-display\">{mathml}</div>"),
            error: None,
        },
        Ok(mathml) => Math {
            html: mathml,
            error: None,
        },
        Err((message, at)) => {
            let (open, close) = if display { ("$$", "$$") } else { ("$", "$") };
            let code = format!(
                "<code class=\"math-error\" title=\"{}\">{open}{}{close}</code>",
                escape_html(&message),
                escape_html(tex)
            );
            let html = if display {
                format!("<pre class=\"code math-error\">{code}</pre>")
            } else {
                code
            };
            Math {
                html,
                error: Some((message, at)),
            }
        }
    }
}

/// The stack for formulas that [`may_nest_deeply`]. It is reserved, not used: the pages it does not
/// reach are never touched.
const DEEP_STACK: usize = 512 << 20;

/// Whether a formula may nest deeper than a plain thread's stack takes: by its groups, or by a run of
/// commands that take arguments (`\sqrt\sqrt\sqrt x`). Formulas of everyday size are not.
fn may_nest_deeply(tex: &str) -> bool {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for b in tex.bytes() {
        match b {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        deepest = deepest.max(depth);
    }
    deepest > 16 || tex.bytes().filter(|&b| b == b'\\').count() > 64
}

fn to_mathml(tex: &str, display: bool) -> Result<String, (String, Range<usize>)> {
    if tex.len() > MAX_TEX {
        return Err((
            format!(
                "this formula is {} bytes long; formulas are limited to {MAX_TEX}",
                tex.len()
            ),
            0..tex.len(),
        ));
    }
    if tex.trim().is_empty() {
        return Err(("the formula is empty".into(), 0..tex.len()));
    }
    let mode = if display {
        MathDisplay::Block
    } else {
        MathDisplay::Inline
    };
    let convert = || std::panic::catch_unwind(|| converter().convert_with_local_state(tex, mode));
    // math-core parses by recursive descent with no bound on the depth, and a stack overflow
    // aborts the process: a formula that may nest deeply is converted on a thread with a stack
    // deep enough for the longest formula taken.
    let converted = if may_nest_deeply(tex) {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("fieldbook-math".into())
                .stack_size(DEEP_STACK)
                .spawn_scoped(scope, convert)
                .map_err(|_| ())
                .and_then(|thread| thread.join().map_err(|_| ()))
        })
        .unwrap_or(Err(Box::new(())))
    } else {
        convert()
    };
    match converted {
        Ok(Ok(result)) => clean(&result.mathml, &MATHML, "").map_err(|e| {
            (
                format!("the formula gave MathML that cannot be used: {e}"),
                0..tex.len(),
            )
        }),
        Ok(Err(e)) => {
            let start = e.0.start.min(tex.len());
            let end = e.0.end.clamp(start, tex.len());
            Err((e.error_message(), start..end))
        }
        Err(_) => Err(("the formula could not be converted".into(), 0..tex.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::sanitize::script_free;
    use super::*;

    #[test]
    fn formulas_become_mathml() {
        let m = render(r"\frac{a}{b} + \alpha", false);
        assert!(m.error.is_none());
        assert!(m.html.starts_with("<math>"), "{}", m.html);
        assert!(m.html.contains("<mfrac>"), "{}", m.html);
        assert!(m.html.contains('α'), "{}", m.html);
        let m = render(r"\sum_{i=1}^n i", true);
        assert!(
            m.html
                .starts_with("<div class=\"math-display\"><math display=\"block\">"),
            "{}",
            m.html
        );
        assert!(m.html.ends_with("</math></div>"), "{}", m.html);
    }

    #[test]
    fn environments_text_and_blackboard() {
        for tex in [
            r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
            r"\begin{aligned} x &= 1 \\ y &= 2 \end{aligned}",
            r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}",
            r"\mathbb{R}^n \text{ and } \mathcal{L}",
        ] {
            let m = render(tex, true);
            assert!(m.error.is_none(), "{tex}: {:?}", m.error);
        }
        assert!(render(r"\begin{pmatrix}a\end{pmatrix}", true)
            .html
            .contains("<mtable"));
        assert!(render(r"\mathbb{R}", false).html.contains('ℝ'));
    }

    #[test]
    fn bad_formulas_are_shown_as_code_and_located() {
        let m = render(r"x + \frac{1}{", false);
        let (message, at) = m.error.expect("an error");
        assert!(!message.is_empty());
        assert!(at.start <= 13 && at.end <= 13, "{at:?}");
        assert_eq!(
            m.html,
            format!(
                "<code class=\"math-error\" title=\"{}\">$x + \\frac{{1}}{{$</code>",
                escape_html(&message)
            )
        );
        let m = render(r"\nosuchcommand{<b>}", true);
        let (message, at) = m.error.expect("an error");
        assert!(message.contains("nosuchcommand"), "{message}");
        assert_eq!(at, 0..14);
        assert!(
            m.html.starts_with("<pre class=\"code math-error\"><code"),
            "{}",
            m.html
        );
        assert!(m.html.contains("&lt;b&gt;"), "{}", m.html);
        assert!(render("  ", false).error.is_some());
        assert!(render(&"x".repeat(MAX_TEX + 1), false).error.is_some());
    }

    #[test]
    fn nothing_in_a_formula_runs_script() {
        for tex in [
            r"\href{javascript:alert(1)}{x}",
            r"\url{javascript:alert(1)}",
            r"\text{<script>alert(1)</script>}",
            r#"\text{" onmouseover="alert(1)}"#,
            r"\class{x onclick=alert(1)}{y}",
            r"\style{background:url(https://x)}{y}",
            r"\color{red;background:url(https://x)}{y}",
            r"\operatorname{<img src=x onerror=alert(1)>}",
            r"\operatorname{<img/src=x/onerror=alert(1)>}",
            r"\operatorname{<svg/onload=alert(1)>}",
            r"\mathrm{<b/onclick=alert(1)>x</b>}",
        ] {
            for display in [false, true] {
                let html = render(tex, display).html;
                if let Err(e) = script_free(&html) {
                    panic!("{tex}: {e} in {html}");
                }
                assert!(!html.contains("<a"), "{tex}: {html}");
            }
        }
    }

    fn page(body: &str, raw_html: bool) -> crate::markdown::Rendered {
        crate::markdown::render(
            body,
            &crate::markdown::MarkdownOptions {
                raw_html,
                highlight: false,
                take_title: false,
                base_path: "/",
                folder: "",
            },
        )
    }

    #[test]
    fn pages_get_mathml_and_search_gets_the_tex() {
        for raw_html in [true, false] {
            let r = page(
                "Area $\\pi r^2$ here.\n\n$$\ne^{i\\pi} = -1\n$$\n\n## On $x_1$\n\n> quoted $y$\n",
                raw_html,
            );
            assert!(r.bad_markup.is_empty(), "{:?}", r.bad_markup);
            assert!(
                r.html.starts_with("<p>Area <math><mi>π</mi>"),
                "{raw_html}: {}",
                r.html
            );
            assert!(r
                .html
                .contains("<div class=\"math-display\"><math display=\"block\">"));
            assert!(r.html.contains("<h2 id=\"on\">On <math>"), "{}", r.html);
            assert!(
                r.html.contains("<blockquote>\n<p>quoted <math>"),
                "{}",
                r.html
            );
            assert!(!r.html.contains('$'), "{}", r.html);
            assert_eq!(r.sections[0].1, "Area \\pi r^2 here. e^{i\\pi} = -1");
            assert_eq!(r.summary, "Area \\pi r^2 here.");
        }
    }

    #[test]
    fn bad_formulas_are_located_in_the_body() {
        let body = "Line one.\n\nSee $a + \\nosuch{b}$ and\n\n$$\nx^\n$$\n\n- item $\\frac{1}$\n\n# T $\\bad$\n";
        let r = page(body, false);
        let found: Vec<&str> = r
            .bad_markup
            .iter()
            .map(|(_, _, at)| &body[at.clone()])
            .collect();
        assert_eq!(r.bad_markup.len(), 4, "{:?}", r.bad_markup);
        assert!(r.bad_markup.iter().all(|(k, _, _)| *k == Markup::Math));
        assert_eq!(found[0], "\\nosuch");
        let display = body.find("$$").unwrap();
        let at = &r.bad_markup[1].2;
        assert!(at.start >= display && at.end <= display + 10, "{at:?}");
        assert!(
            r.bad_markup[2].2.start > body.find("- item").unwrap(),
            "{:?}",
            r.bad_markup[2]
        );
        assert!(
            r.bad_markup[3].2.start > body.find("# T").unwrap(),
            "{:?}",
            r.bad_markup[3]
        );
        assert!(r.html.contains("<code class=\"math-error\""), "{}", r.html);
        assert!(r.html.contains("$a + \\nosuch{b}$</code>"), "{}", r.html);
        assert!(
            r.html.contains("<pre class=\"code math-error\">"),
            "{}",
            r.html
        );
    }

    #[test]
    fn dollars_in_prose_stay_text() {
        for body in [
            "It costs $5 and $10.",
            "Between $ 5 $ signs.",
            "A lone $ sign.",
            "Escaped \\$x\\$ stays.",
        ] {
            let r = page(body, true);
            assert!(!r.html.contains("<math"), "{body}: {}", r.html);
            assert!(r.bad_markup.is_empty(), "{body}");
        }
        let r = page("It costs $5 and $10.", true);
        assert_eq!(r.html, "<p>It costs $5 and $10.</p>\n");
    }

    #[test]
    fn deep_nesting_is_no_crash() {
        // Each as deep as the length limit allows (a stack overflow would abort the test run).
        let n = |unit: &str| MAX_TEX / unit.len() / 2;
        let cases = [
            format!("{}x{}", "{".repeat(n("{}")), "}".repeat(n("{}"))),
            format!("{}x", r"\sqrt".repeat(MAX_TEX / 6)),
            format!("{}x", r"\frac1".repeat(MAX_TEX / 7)),
            format!(
                "{}x{}",
                r"\left(".repeat(n(r"\left(\right)")),
                r"\right)".repeat(n(r"\left(\right)"))
            ),
            format!("{}x{}", "x^{".repeat(n("x^{}")), "}".repeat(n("x^{}"))),
            format!(
                "{}x{}",
                r"\text{".repeat(n(r"\text{}")),
                "}".repeat(n(r"\text{}"))
            ),
            format!(
                "{}x{}",
                r"\begin{matrix}".repeat(MAX_TEX / 30),
                r"\end{matrix}".repeat(MAX_TEX / 30)
            ),
            format!(
                "{}x{}",
                r"\frac{".repeat(n(r"\frac{}{2}")),
                "}{2}".repeat(n(r"\frac{}{2}"))
            ),
            format!("{}x", "x_".repeat((MAX_TEX - 1) / 2)),
        ];
        for tex in &cases {
            assert!(tex.len() <= MAX_TEX, "{}", tex.len());
            for display in [false, true] {
                let _ = render(tex, display);
            }
        }
        assert!(!may_nest_deeply(r"\sum_{i=1}^{n} \frac{a_i}{b_i}"));
    }
}
