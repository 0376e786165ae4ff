//! Stage 0: `site.yaml` -> [`SiteConfig`]. Strict: unknown keys are errors with a position and a hint.
//!
//! The config declares the site and its kinds of page with their field schemas (see [`crate::schema`]).
//! Nothing about any particular domain lives in the engine; it all comes from here.

use indexmap::IndexMap;
use serde::Deserialize;

use crate::diagnostics::{Diagnostic, Source};
use crate::schema::FieldDef;
use crate::yaml;

/// The whole `site.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Where the site is served: `/`, `/kb/`, or a full URL such as `https://docs.example.com/kb/`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default = "default_theme")]
    pub theme: String,
    #[serde(default)]
    pub kinds: IndexMap<String, KindConfig>,
    #[serde(default)]
    pub views: Vec<View>,
    #[serde(default)]
    pub markdown: MarkdownConfig,
    /// Link pattern for "Edit this page", with `{path}` standing for the file's path from the site root,
    /// e.g. `https://git.example.com/team/kb/edit/main/{path}`.
    #[serde(default)]
    pub edit_url: Option<String>,
    /// Free values for templates (`config.extra.*`).
    #[serde(default)]
    pub extra: serde_yaml::Mapping,
}

fn default_base_url() -> String {
    "/".into()
}
fn default_language() -> String {
    "en".into()
}
fn default_theme() -> String {
    "default".into()
}

/// One kind of page: a folder, a title and a field schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindConfig {
    /// Folder under content/ whose pages are of this kind.
    pub folder: String,
    /// Plural title, used for the kind's index page.
    pub title: String,
    /// Singular name for one page of the kind (badges, "new" command). Defaults to the kind's name.
    #[serde(default)]
    pub singular: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub fields: IndexMap<String, FieldDef>,
    #[serde(default)]
    pub index: IndexConfig,
    /// A field that makes pages of this kind ordered sequences (learning paths): a `refs` field, or a
    /// `list` of objects whose `page` field is a `ref`.
    #[serde(default)]
    pub sequence: Option<String>,
}

/// How a kind's index page lists its pages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    /// Group entries by this field (an enum, ref or refs field).
    #[serde(default)]
    pub group_by: Option<String>,
}

/// A generated view declared in site.yaml (`- matrix: {...}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    pub matrix: MatrixConfig,
}

/// Rows of one kind by columns of another; a cell lists the pages that connect them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub rows: String,
    pub cols: String,
    /// Pages of this kind that reference both a row and a column connect them. Without it, a row and a
    /// column connect when either references the other.
    #[serde(default)]
    pub via: Option<String>,
}

/// Markdown options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkdownConfig {
    /// What to do with HTML written in Markdown: pass it through (trusted authors) or escape it.
    #[serde(default)]
    pub raw_html: RawHtml,
    /// Highlight fenced code with syntect.
    #[serde(default = "yes")]
    pub highlight: bool,
}

impl Default for MarkdownConfig {
    fn default() -> Self {
        MarkdownConfig {
            raw_html: RawHtml::Allow,
            highlight: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// `markdown.raw_html`: what happens to raw HTML blocks and inline HTML in a page's Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RawHtml {
    /// `allow`: the HTML passes through as written. The authors of a site are trusted.
    #[default]
    Allow,
    /// `escape`: the HTML is shown as text, so no page can carry markup or scripts of its own.
    Escape,
}

/// The values `raw_html` takes, as the error for a wrong one lists them.
const RAW_HTML_VALUES: &str = "`allow` or `escape`";

impl<'de> Deserialize<'de> for RawHtml {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = RawHtml;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(RAW_HTML_VALUES)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawHtml, E> {
                match v {
                    "allow" => Ok(RawHtml::Allow),
                    "escape" => Ok(RawHtml::Escape),
                    other => Err(E::invalid_value(serde::de::Unexpected::Str(other), &self)),
                }
            }
            // Earlier versions took a boolean: `true` passed HTML through, `false` escaped it.
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawHtml, E> {
                Ok(if v { RawHtml::Allow } else { RawHtml::Escape })
            }
        }
        d.deserialize_any(Visit)
    }
}

impl SiteConfig {
    /// Parse and validate `site.yaml`. All problems are returned at once.
    pub fn parse(source: &Source) -> Result<SiteConfig, Vec<Diagnostic>> {
        let config: SiteConfig = match serde_yaml::from_str(&source.text) {
            Ok(c) => c,
            Err(e) => return Err(vec![yaml::error_diagnostic(&e, source, 0, "site.yaml")]),
        };
        let diags = config.validate(source);
        if diags.is_empty() {
            Ok(config)
        } else {
            Err(diags)
        }
    }

    /// The path part of `base_url`, always starting and ending with `/`: what internal links start with.
    pub fn base_path(&self) -> String {
        normalize_base_path(&self.base_url)
    }

    /// The singular name of a kind.
    pub fn singular<'a>(&'a self, kind: &'a str) -> &'a str {
        self.kinds
            .get(kind)
            .and_then(|k| k.singular.as_deref())
            .unwrap_or(kind)
    }

    fn validate(&self, source: &Source) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let locate = |path: &[&str]| yaml::locate(&source.text, path);
        let kind_names: Vec<&str> = self.kinds.keys().map(String::as_str).collect();
        let unknown_kind = |name: &str, path: &[&str], what: &str| {
            let range = locate(path);
            let mut d = Diagnostic::error(
                "config-unknown-kind",
                format!("{what} names kind `{name}`, which site.yaml does not declare"),
            )
            .at(source, range);
            d = d.with_help(
                match crate::suggest::closest(name, kind_names.iter().copied()) {
                    Some(s) => format!(
                        "did you mean `{s}`? Declared kinds: {}",
                        kind_names.join(", ")
                    ),
                    None => format!(
                        "declare it under `kinds:`, or use one of: {}",
                        kind_names.join(", ")
                    ),
                },
            );
            d
        };
        let mut folders: IndexMap<&str, &str> = IndexMap::new();
        for (name, kind) in &self.kinds {
            if let Some(other) = folders.insert(kind.folder.trim_matches('/'), name) {
                diags.push(
                    Diagnostic::error(
                        "config-duplicate-folder",
                        format!(
                            "kinds `{other}` and `{name}` share the folder `{}`",
                            kind.folder
                        ),
                    )
                    .at(source, locate(&["kinds", name, "folder"]))
                    .with_help("give each kind its own folder under content/"),
                );
            }
            for (fname, field) in &kind.fields {
                field.check_targets(&mut |target: &str| {
                    if !self.kinds.contains_key(target) {
                        diags.push(unknown_kind(
                            target,
                            &["kinds", name, "fields", fname],
                            &format!("field `{fname}` of kind `{name}`"),
                        ));
                    }
                });
                if let Err(msg) = field.check_shape() {
                    diags.push(
                        Diagnostic::error("config-field", format!("field `{fname}` of kind `{name}`: {msg}"))
                            .at(source, locate(&["kinds", name, "fields", fname]))
                            .with_help("see the field types in the README: string, text, int, number, bool, date, url, enum, list, object, ref, refs"),
                    );
                }
            }
            if let Some(g) = &kind.index.group_by {
                if !kind.fields.contains_key(g) {
                    diags.push(
                        Diagnostic::error("config-group-by", format!("kind `{name}` groups its index by `{g}`, which is not one of its fields"))
                            .at(source, locate(&["kinds", name, "index", "group_by"]))
                            .with_help(format!("use one of: {}", kind.fields.keys().cloned().collect::<Vec<_>>().join(", "))),
                    );
                }
            }
            if let Some(s) = &kind.sequence {
                if !kind.fields.get(s).is_some_and(FieldDef::is_sequence) {
                    diags.push(
                        Diagnostic::error("config-sequence", format!("kind `{name}` takes its sequence from `{s}`, which is not a refs field or a list of objects with a `page` ref"))
                            .at(source, locate(&["kinds", name, "sequence"]))
                            .with_help("declare the field as `{ type: refs }` or as a list of objects with a `page: { type: ref }` field"),
                    );
                }
            }
        }
        for (i, view) in self.views.iter().enumerate() {
            let m = &view.matrix;
            let idx = i.to_string();
            for (key, value) in [
                ("rows", Some(&m.rows)),
                ("cols", Some(&m.cols)),
                ("via", m.via.as_ref()),
            ] {
                if let Some(v) = value {
                    if !self.kinds.contains_key(v) {
                        diags.push(unknown_kind(
                            v,
                            &["views", &idx, "matrix", key],
                            &format!("matrix `{}`", m.slug),
                        ));
                    }
                }
            }
        }
        diags
    }
}

/// `/kb` -> `/kb/`, `https://x.org/kb` -> `/kb/`, `` -> `/`.
pub fn normalize_base_path(base_url: &str) -> String {
    let path = match base_url.find("://") {
        Some(i) => {
            let rest = &base_url[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => base_url,
    };
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        format!("/{trimmed}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths() {
        assert_eq!(normalize_base_path("/"), "/");
        assert_eq!(normalize_base_path(""), "/");
        assert_eq!(normalize_base_path("/kb"), "/kb/");
        assert_eq!(normalize_base_path("kb/docs/"), "/kb/docs/");
        assert_eq!(normalize_base_path("https://x.org"), "/");
        assert_eq!(normalize_base_path("https://x.org/kb/"), "/kb/");
    }

    #[test]
    fn unknown_key_is_located() {
        let src = Source::new("site.yaml", "title: T\nbase_ur: /\n");
        let diags = SiteConfig::parse(&src).unwrap_err();
        assert_eq!(diags[0].line_col(), Some((2, 1)));
        assert!(
            diags[0].help.as_deref().unwrap().contains("base_url"),
            "{:?}",
            diags[0].help
        );
    }

    #[test]
    fn ref_to_undeclared_kind_is_an_error() {
        let src = Source::new(
            "site.yaml",
            "title: T\nkinds:\n  tool:\n    folder: tools\n    title: Tools\n    fields:\n      owner: { type: ref, to: rol }\n  role: { folder: roles, title: Roles }\n",
        );
        let diags = SiteConfig::parse(&src).unwrap_err();
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line_col().unwrap().0, 7);
        assert!(diags[0].help.as_deref().unwrap().contains("`role`"));
    }
}
