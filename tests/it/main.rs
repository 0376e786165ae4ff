//! Integration tests: each builds a tiny site in a temp dir with the real binary and checks what a
//! user would see (files, HTML, error text, exit codes).

mod bad_input;
mod browser;
mod build;
mod commonmark;
mod dates;
mod errors;
mod hardening;
mod math;
mod model;
mod obsidian_links;
mod obsidian_pages;
mod obsidian_syntax;
mod props;
mod safety;
mod scaffold;
mod search;
mod search_browser;
mod serve;
mod support;
mod templates;
mod theme;
mod vault;
