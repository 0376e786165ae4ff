//! Fuzz target `page`: one content file end to end, as `build` reads it: front-matter split, YAML,
//! built-in fields and a kind's schema (every field type), the Markdown body, and the diagnostics.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use fieldbook::config::SiteConfig;
use fieldbook::content::{slugify, Page};
use fieldbook::diagnostics::{self, Source};
use fieldbook::markdown::{render, MarkdownOptions};
use libfuzzer_sys::fuzz_target;

const SITE_YAML: &str = "\
title: Fuzz
kinds:
  tool:
    folder: tools
    title: Tools
    fields:
      category: { type: enum, values: [store, ads], required: true }
      positions: { type: refs, to: position }
      owner: { type: ref, to: position }
      rating: { type: number }
      count: { type: int, default: 3 }
      site: { type: url }
      since: { type: date }
      flag: { type: bool }
      notes: { type: text }
      meta: { type: object, fields: { a: { type: int }, b: { type: list, of: int } } }
      steps:
        type: list
        of: { type: object, fields: { page: { type: ref }, why: { type: string } } }
  position:
    folder: positions
    title: Positions
";

fn config() -> &'static SiteConfig {
    static CONFIG: OnceLock<SiteConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        SiteConfig::parse(&Source::new("site.yaml", SITE_YAML)).expect("the fuzz config parses")
    })
}

const PATHS: [&str; 4] = [
    "tools/x.md",
    "tools/_index.md",
    "misc/deep/y.md",
    "index.md",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let rel = PATHS[usize::from(first) % PATHS.len()];
    let (page, diags) = Page::parse(config(), Path::new(rel), Source::new(rel, &*text));
    assert!(text.get(page.body.clone()).is_some(), "body out of bounds");
    assert_eq!(slugify(&page.slug), page.slug, "slug not idempotent");
    for d in &diags {
        if let Some((t, r)) = &d.span {
            assert!(t.get(r.clone()).is_some(), "span out of bounds");
        }
    }
    let _ = diagnostics::render_terminal(&diags, false);
    let _ = diagnostics::render_json(&diags);
    let opts = MarkdownOptions {
        raw_html: first & 0x10 != 0,
        highlight: first & 0x20 != 0,
        take_title: page.title.is_none(),
        base_path: "/",
        folder: &page.section,
    };
    let _ = render(page.body_text(), &opts);
});
