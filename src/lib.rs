//! fieldbook: a static site generator for playbooks and knowledge bases.
//!
//! A folder of typed Markdown (YAML front matter checked against kinds declared in `site.yaml`) becomes
//! a cross-linked static site. The stages, in the order data flows through them:
//!
//! 1. [`config`]: `site.yaml` -> [`config::SiteConfig`]
//! 2. [`content`] and [`schema`]: files -> [`content::Page`]s with typed fields
//! 3. [`markdown`]: each page's body -> HTML, headings, links, plain text (parallel)
//! 4. [`graph`]: links resolved, backlinks, edges
//! 5. [`views`]: template data (pages, kind indexes, tags, matrices, learning paths)
//! 6. [`render`]: tera templates (theme + site overrides)
//! 7. [`search`]: the search index (sharded, for the browser), and [`output`]: atomic write of the
//!    whole site
//!
//! [`build`] runs them in sequence. [`session`] keeps their results in memory and applies a change
//! set to them incrementally (see its docs for the three ways it does); [`serve`] only watches the
//! sources, asks the session to apply what changed, serves the session's [`output::Files`] and
//! reloads the open pages. [`dates`] adds last-updated dates from git, and [`scaffold`] writes new
//! sites and pages for `init` and `new`. Every stage reports problems as
//! [`diagnostics::Diagnostic`]s, all of a run's problems are reported together, and each
//! diagnostic's [`diagnostics::ErrorKind`] (the content's problem or the setup's) decides the exit
//! code.
//!
//! ```text
//!   serve (watch, http, reload)          build / check (once)
//!              │                                │
//!           session ── patch, plan ──┐          │
//!              │                     v          v
//!   config, content, schema -> markdown -> graph -> views -> render -> output, search
//! ```
//! Each layer uses only the layers below it: `serve` imports the session and the output map, never
//! the stages.

// Diagnostics are the error type of every stage; they travel only on the failure path, so their size
// (a message, a span and a hint) costs nothing where speed matters.
#![allow(clippy::result_large_err)]

pub mod build;
pub mod claims;
pub mod config;
pub mod content;
pub mod dates;
pub mod diagnostics;
pub mod graph;
pub mod markdown;
pub mod output;
pub mod render;
pub mod scaffold;
pub mod schema;
pub mod search;
pub mod serve;
pub mod session;
pub mod sitefs;
pub mod suggest;
pub mod timings;
pub mod views;
pub mod yaml;

pub use build::{build, check, BuildOptions, BuildReport};
pub use diagnostics::Diagnostic;
pub use serve::{serve, ServeOptions};
