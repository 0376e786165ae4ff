//! Fuzz target `slug`: slugs and heading anchors. Slugs hold only letters, digits and single inner
//! dashes and are idempotent; the anchors of a page's headings are unique.

#![no_main]

use fieldbook::content::slugify;
use fieldbook::markdown::{render, MarkdownOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let s = slugify(&text);
    assert!(
        s.chars().all(|c| c == '-' || c.is_alphanumeric()),
        "bad character in slug {s:?}"
    );
    assert!(
        !s.starts_with('-') && !s.ends_with('-') && !s.contains("--"),
        "{s:?}"
    );
    assert_eq!(slugify(&s), s, "slugify not idempotent");
    // Every line a heading: the anchors must come out unique.
    let body: String = text.lines().map(|l| format!("## {l}\n\n")).collect();
    let opts = MarkdownOptions {
        raw_html: false,
        highlight: false,
        take_title: false,
        base_path: "/",
        folder: "",
    };
    let r = render(&body, &opts);
    let mut ids = std::collections::HashSet::new();
    for h in &r.headings {
        assert!(!h.id.is_empty(), "empty heading id");
        assert!(ids.insert(&h.id), "duplicate heading id {:?}", h.id);
    }
});
