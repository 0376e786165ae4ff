//! Fuzz target `markdown`: the Markdown pipeline (wikilinks, callouts, headings, code, raw-HTML
//! policy, link rewriting) and hole filling, with options taken from the first byte.

#![no_main]

use fieldbook::markdown::{fill_holes, fill_text_holes, render, Fill, MarkdownOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let body = String::from_utf8_lossy(rest);
    let raw_html = first & 1 != 0;
    let opts = MarkdownOptions {
        raw_html,
        highlight: first & 2 != 0,
        take_title: first & 4 != 0,
        base_path: if first & 8 != 0 { "/kb/" } else { "/" },
        folder: if first & 16 != 0 { "tools/deep" } else { "" },
    };
    let r = render(&body, &opts);
    for l in &r.links {
        assert!(
            body.get(l.span.clone()).is_some(),
            "link span out of bounds"
        );
    }
    let mut ids = std::collections::HashSet::new();
    for h in &r.headings {
        assert!(!h.id.is_empty(), "empty heading id");
        assert!(ids.insert(&h.id), "duplicate heading id {:?}", h.id);
    }
    let fills: Vec<Option<Fill>> = (0..r.links.len())
        .map(|i| {
            (i % 3 != 2).then(|| Fill {
                href: format!("/p{i}/"),
                label: format!("<P{i}>"),
            })
        })
        .collect();
    let html = fill_holes(&r.html, &fills);
    if !raw_html {
        assert!(
            !html.to_ascii_lowercase().contains("<script"),
            "a <script> tag in escaped mode"
        );
    }
    for (_, t) in &r.sections {
        let _ = fill_text_holes(t, &fills);
    }
});
