//! Integration tests: each builds a tiny site in a temp dir with the real binary and checks what a
//! user would see (files, HTML, error text, exit codes).

mod build;
mod errors;
mod model;
mod search;
mod search_browser;
mod support;
