//! ```` ```mermaid ```` blocks drawn at build time as inline SVG by mermaid-rs-renderer: no script
//! in the page and nothing fetched.
//!
//! The renderer is another crate's layout code run on an author's text, so it is kept at arm's
//! length: the source is bounded in size, the drawing runs on its own thread under a time limit
//! and with its panics caught, and its SVG goes through [`super::sanitize`] before it is used. A
//! diagram that fails for any of these reasons is shown as its code and reported (see
//! [`super::Rendered::bad_markup`]).

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Once};
use std::time::Duration;

use mermaid_rs_renderer::RenderOptions;

use super::sanitize::{clean, decode_entities, SVG};

/// The longest diagram source drawn, in bytes.
const MAX_SOURCE: usize = 50_000;
/// The most lines of source drawn: each line is about one node or edge, and layout grows faster
/// than the count.
const MAX_LINES: usize = 1_500;
/// How long one diagram may take to draw. A diagram past it is an error; the thread drawing it is
/// left to finish on its own, as a thread cannot be stopped from outside.
const TIME_LIMIT: Duration = Duration::from_secs(10);
/// How many drawings may go on past their time limit before no new diagram is tried. A drawing
/// cannot be stopped, and in `serve` every save of a page would start another one.
const MAX_OVERDUE: usize = 1;
/// Drawings past their time limit that are still running.
static OVERDUE: AtomicUsize = AtomicUsize::new(0);

/// The name of the drawing threads: their panics are reported as errors of the diagram, not
/// printed.
const THREAD_NAME: &str = "fieldbook-diagram";
/// The font the renderer is told to measure with. No font has this name, so it measures text by its
/// built-in estimate: without it, the renderer scans the system's fonts and copies one into
/// `~/.cache/mmdr/`, and the drawing would depend on the fonts of the machine that built the site.
/// The attribute is removed from the SVG, so that the text takes the page's font.
const MEASURE_FONT: &str = "fieldbook-estimate";

/// Pie slices: the renderer's own are pale tints of one blue that a slice and its legend swatch
/// vanish in. These are mid-tones that differ in hue and keep the slice labels (dark text) legible.
const PIE_COLORS: [&str; 12] = [
    "#7fa7e0", "#f0a35e", "#86c48f", "#e88a8f", "#b59ae0", "#6cc3c8", "#e6c65a", "#d493b6",
    "#a3b1c2", "#b8d46a", "#f2a7c6", "#9fc2f0",
];

/// A drawn diagram: the HTML (a `<figure class="diagram">` with inline SVG) and the text of its
/// labels, for search.
#[derive(Debug)]
pub(super) struct Diagram {
    pub html: String,
    pub labels: String,
}

/// Draw a Mermaid diagram, or say why it cannot be drawn.
pub(super) fn render(source: &str) -> Result<Diagram, String> {
    if source.len() > MAX_SOURCE {
        return Err(format!(
            "this diagram is {} bytes long; diagrams are limited to {MAX_SOURCE}",
            source.len()
        ));
    }
    let lines = source.lines().count();
    if lines > MAX_LINES {
        return Err(format!(
            "this diagram has {lines} lines; diagrams are limited to {MAX_LINES}"
        ));
    }
    if source.trim().is_empty() {
        return Err("the diagram is empty".into());
    }
    let svg = draw(source)?;
    let svg = svg.replace(&format!(" font-family=\"{MEASURE_FONT}\""), "");
    let prefix = format!("mmd{:08x}-", fnv1a(source) as u32);
    let svg = clean(&svg, &SVG, &prefix)
        .map_err(|e| format!("the renderer wrote SVG that cannot be used: {e}"))?;
    if !svg.starts_with("<svg") {
        return Err("the renderer wrote no SVG".into());
    }
    let labels = text_of(&svg);
    Ok(Diagram {
        html: format!("<figure class=\"diagram\">{svg}</figure>\n"),
        labels,
    })
}

/// Run the renderer on a thread of its own, within [`TIME_LIMIT`].
fn draw(source: &str) -> Result<String, String> {
    if OVERDUE.load(Ordering::SeqCst) >= MAX_OVERDUE {
        return Err(format!(
            "not drawn: an earlier diagram is still being drawn past its limit of {} seconds",
            TIME_LIMIT.as_secs()
        ));
    }
    quiet_panics();
    let (send, receive) = mpsc::channel();
    let owned = source.to_string();
    // RUNNING, then DONE when the thread ends in time, or LATE when the wait gave up first: whichever
    // side comes second sees the other's mark, so [`OVERDUE`] is right either way.
    const RUNNING: u8 = 0;
    const DONE: u8 = 1;
    const LATE: u8 = 2;
    let state = Arc::new(AtomicU8::new(RUNNING));
    let thread_state = Arc::clone(&state);
    let spawned = std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            struct End(Arc<AtomicU8>);
            impl Drop for End {
                // Runs on a panic too.
                fn drop(&mut self) {
                    let swapped =
                        self.0
                            .compare_exchange(RUNNING, DONE, Ordering::SeqCst, Ordering::SeqCst);
                    if swapped.is_err() {
                        OVERDUE.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            }
            let _end = End(thread_state);
            let mut options = RenderOptions::default();
            options.layout.fast_text_metrics = true;
            options.theme.font_family = MEASURE_FONT.into();
            options.theme.pie_colors = PIE_COLORS.map(String::from);
            let drawn = mermaid_rs_renderer::render_with_options(&owned, options)
                .map_err(|e| first_line(&e.to_string()));
            let _ = send.send(drawn);
        });
    if spawned.is_err() {
        return Err("no thread could be started to draw the diagram".into());
    }
    match receive.recv_timeout(TIME_LIMIT) {
        Ok(drawn) => drawn,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // Counted before the mark, so that the thread never takes away what is not there yet.
            OVERDUE.fetch_add(1, Ordering::SeqCst);
            if state
                .compare_exchange(RUNNING, LATE, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                OVERDUE.fetch_sub(1, Ordering::SeqCst); // it ended just now after all
            }
            Err(format!(
                "the diagram took more than {} seconds to draw; make it smaller or split it",
                TIME_LIMIT.as_secs()
            ))
        }
        // The thread ended without sending: the renderer panicked.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err("the renderer failed on this diagram (it is likely malformed)".into())
        }
    }
}

/// Panics on the drawing threads are answered as errors of their diagram; the default hook would
/// print each one as a crash of fieldbook. Every other panic is printed as before.
fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(THREAD_NAME) {
                previous(info);
            }
        }));
    });
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// A stable hash of the source, so that ids in the SVG (markers, gradients) differ between the
/// diagrams of a page and stay the same from one build to the next.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The text of the SVG's elements (its labels), with references read, one space between pieces.
fn text_of(svg: &str) -> String {
    let mut out = String::new();
    let mut rest = svg;
    while let Some(lt) = rest.find('<') {
        let piece = rest[..lt].trim();
        if !piece.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&decode_entities(piece).unwrap_or_default());
        }
        rest = rest[lt..].find('>').map_or("", |gt| &rest[lt + gt + 1..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::sanitize::script_free;
    use super::*;

    #[test]
    fn flowcharts_become_inline_svg_with_their_labels() {
        let d = render("flowchart LR\n  A[Start here] --> B{Is it?}\n  B -->|Yes| C[Done]\n")
            .expect("drawn");
        assert!(
            d.html.starts_with("<figure class=\"diagram\"><svg"),
            "{}",
            d.html
        );
        assert!(d.html.ends_with("</svg></figure>\n"), "{}", d.html);
        for label in ["Start here", "Is it?", "Yes", "Done"] {
            assert!(d.labels.contains(label), "{label} in {:?}", d.labels);
        }
        assert!(!d.html.contains(MEASURE_FONT), "{}", d.html);
        assert!(!d.labels.contains("flowchart"), "{:?}", d.labels);
    }

    #[test]
    fn the_common_kinds_draw() {
        for source in [
            "flowchart TD\n  A --> B\n  subgraph S [Group]\n    B --> C\n  end\n",
            "sequenceDiagram\n  Alice->>Bob: Hi\n  Bob-->>Alice: Hello\n",
            "classDiagram\n  Animal <|-- Duck\n  Animal : +int age\n",
            "stateDiagram-v2\n  [*] --> Still\n  Still --> Moving\n  Moving --> [*]\n",
            "gantt\n  dateFormat YYYY-MM-DD\n  section A\n    Task :a1, 2024-01-01, 3d\n",
            "pie title Pets\n  \"Dogs\" : 386\n  \"Cats\" : 85\n",
            "erDiagram\n  CUSTOMER ||--o{ ORDER : places\n",
        ] {
            let d = render(source).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert!(d.html.contains("<svg"), "{source}");
        }
    }

    #[test]
    fn labels_and_clicks_cannot_run_script() {
        let source = "flowchart LR\n  A[\"<img src=x onerror=alert(1)>\"] --> B[\"<script>alert(2)</script>\"]\n  \
            click A \"javascript:alert(3)\" \"tip\"\n  click B href \"javascript:alert(4)\"\n  \
            C[\"</text><script>alert(5)</script>\"]\n  style C fill:#f9f,stroke:url(javascript:alert(6))\n  \
            D[\"x\"] --> E\n  click D \"https://example.org/\"\n  click E call alert(7)\n";
        let d = render(source).expect("drawn");
        if let Err(e) = script_free(&d.html) {
            panic!("{e} in {}", d.html);
        }
        assert!(d.html.contains("&lt;img src=x"), "{}", d.html);
        assert!(d.html.contains("&lt;script&gt;"), "{}", d.html);
        assert!(
            !d.html.to_ascii_lowercase().contains("javascript:"),
            "{}",
            d.html
        );
        assert!(d.labels.contains("<img src=x"), "{:?}", d.labels);
    }

    #[test]
    fn ids_are_prefixed_per_diagram() {
        let a = render("flowchart LR\n  A --> B\n").expect("drawn");
        let b = render("flowchart LR\n  C --> D\n").expect("drawn");
        let ids = |html: &str| -> Vec<String> {
            html.split(" id=\"")
                .skip(1)
                .map(|s| s[..s.find('"').unwrap_or(0)].to_string())
                .collect()
        };
        let (ia, ib) = (ids(&a.html), ids(&b.html));
        assert!(!ia.is_empty(), "{}", a.html);
        assert!(ia.iter().all(|i| !ib.contains(i)), "{ia:?} {ib:?}");
        for r in a.html.split("url(#").skip(1) {
            let id = &r[..r.find(')').unwrap_or(0)];
            assert!(
                ia.iter().any(|i| i == id),
                "url(#{id}) names no id of {ia:?}"
            );
        }
        assert_eq!(
            render("flowchart LR\n  A --> B\n").expect("drawn").html,
            a.html
        );
    }

    #[test]
    fn pages_draw_mermaid_blocks_and_show_failures_as_code() {
        let body = "Intro.\n\n```mermaid\nflowchart LR\n  A[Alpha] --> B[Beta]\n```\n\n\
                    ~~~mermaid\nnot a diagram\n~~~\n\n```rust\nfn main() {}\n```\n";
        let r = crate::markdown::render(
            body,
            &crate::markdown::MarkdownOptions {
                raw_html: false,
                highlight: false,
                take_title: false,
                base_path: "/",
                folder: "",
            },
        );
        assert_eq!(
            r.html.matches("<figure class=\"diagram\"><svg").count(),
            1,
            "{}",
            r.html
        );
        assert!(
            r.html
                .contains("<code class=\"language-mermaid\">not a diagram"),
            "{}",
            r.html
        );
        assert_eq!(r.bad_markup.len(), 1, "{:?}", r.bad_markup);
        let (kind, _, at) = &r.bad_markup[0];
        assert_eq!(*kind, super::super::Markup::Diagram);
        assert_eq!(&body[at.clone()], "~~~mermaid");
        let text = &r.sections[0].1;
        assert!(text.contains("Alpha") && text.contains("Beta"), "{text}");
        assert!(!text.contains("flowchart"), "{text}");
        assert!(!text.contains("not a diagram"), "{text}");
        assert!(text.contains("fn main"), "{text}");
    }

    #[test]
    fn garbage_and_huge_input_are_errors_not_crashes() {
        for source in [
            "",
            "garbage",
            "flowchart TD\nA-->",
            "sequenceDiagram\n->>",
            "graph TD\n[[[[",
            "pie\n\"x\": -5\n\"y\": NaN",
            "gantt\ndateFormat YYYY\nA :a, 99999-01-01, 999999999d",
            "classDiagram\nclass {",
            "\u{0}\u{ffff}",
            "flowchart TD\n  A --> B\n  B --> A\n  A --> A\n",
        ] {
            if let Ok(d) = render(source) {
                assert!(d.html.contains("<svg"), "{source:?}");
            }
        }
        assert!(render("").is_err());
        assert!(render("garbage").is_err());
        let long = format!("flowchart TD\n{}", "  A --> B\n".repeat(MAX_LINES));
        assert!(render(&long).unwrap_err().contains("limited to"));
        let wide = format!("flowchart TD\n  A[{}]\n", "x".repeat(MAX_SOURCE));
        assert!(render(&wide).unwrap_err().contains("limited to"));
    }
}
