//! Stage 0: `site.yaml` -> [`SiteConfig`]. Strict: unknown keys are errors with a position and a hint.
//! Every problem of the file comes back in one run: it is read as a YAML tree, each mapping's keys
//! are checked against its struct's (read from the struct's own `Deserialize`), and each kind, field,
//! view and section is deserialized apart, located by `serde_path_to_error`. Values that become paths
//! (kind folders, the theme, matrix slugs) must be plain paths inside the site.
//!
//! The config declares the site and its kinds of page with their field schemas (see [`crate::schema`]).
//! Nothing about any particular domain lives in the engine; it all comes from here.

use std::collections::HashSet;

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_yaml::Value as Yaml;

use crate::diagnostics::{Diagnostic, Source};
use crate::schema::FieldDef;
use crate::yaml;

/// The whole `site.yaml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
    /// What a link to a page, heading or file that does not exist does to the build.
    #[serde(default)]
    pub broken_links: BrokenLinks,
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
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    /// Group entries by this field (an enum, ref or refs field).
    #[serde(default)]
    pub group_by: Option<String>,
}

/// A generated view declared in site.yaml (`- matrix: {...}`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    pub matrix: MatrixConfig,
}

/// Rows of one kind by columns of another; a cell lists the pages that connect them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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

/// `broken_links`: whether a link to nothing stops the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokenLinks {
    /// `error`: nothing is written until every link lands.
    #[default]
    Error,
    /// `warn`: each broken link is a located warning, the site is written, and the link is marked
    /// broken on the page (class `broken-link`).
    Warn,
}

/// Markdown options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
    /// Whether a page is read and rendered the same under `other` (a serve session keeps its parsed
    /// pages across an edit of site.yaml then): reading a page looks at the kinds, where the site is
    /// served and the Markdown options, and at nothing else of the config.
    pub fn reads_pages_like(&self, other: &SiteConfig) -> bool {
        self.kinds == other.kinds
            && self.base_url == other.base_url
            && self.markdown == other.markdown
    }

    /// Parse and validate `site.yaml`. All problems are returned at once, each at its line and column:
    /// the text is read into a YAML tree, every mapping's keys are checked against the keys its struct
    /// takes, and each kind, field, view and section is deserialized on its own, so that one wrong
    /// value does not hide the next.
    pub fn parse(source: &Source) -> Result<SiteConfig, Vec<Diagnostic>> {
        let tree: Yaml = match serde_yaml::from_str(&source.text) {
            Ok(t) => t,
            Err(e) => return Err(vec![yaml::error_diagnostic(&e, source, 0, "site.yaml")]),
        };
        let mut reader = Reader {
            source,
            diags: Vec::new(),
            broken: Broken::default(),
        };
        let config = reader.site(tree);
        let Reader {
            mut diags, broken, ..
        } = reader;
        if let Some(config) = &config {
            diags.extend(config.validate(source, &broken));
        }
        match config {
            Some(c) if diags.is_empty() => Ok(c),
            _ => {
                diags.sort_by_key(|d| d.span.as_ref().map(|s| s.1.start));
                Err(diags)
            }
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

    /// The checks across sections: names of kinds and fields that must exist, folders and names that
    /// become paths. `broken` names what did not parse (already reported), so that it is not reported
    /// again as missing.
    fn validate(&self, source: &Source, broken: &Broken) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let locate = |path: &[&str]| yaml::locate(&source.text, path);
        let mut unparsed: Vec<&str> = broken.kinds.iter().map(String::as_str).collect();
        unparsed.sort_unstable();
        let kind_names: Vec<&str> = self
            .kinds
            .keys()
            .map(String::as_str)
            .chain(unparsed)
            .collect();
        let declared = |name: &str| self.kinds.contains_key(name) || broken.kinds.contains(name);
        if let Err(why) = check_theme_name(&self.theme) {
            diags.push(
                Diagnostic::error("config-theme", format!("theme `{}` {why}", self.theme))
                    .at(source, locate(&["theme"]))
                    .with_help("a theme is the name of a folder under themes/ (e.g. `theme: mine` for themes/mine/), or `default`"),
            );
        }
        if let Some(url) = &self.edit_url {
            if let Err(why) = crate::schema::check_url(url) {
                diags.push(
                    Diagnostic::error("config-edit-url", format!("edit_url `{url}` {why}"))
                        .at(source, locate(&["edit_url"]))
                        .with_help("write an https:// address with `{path}` where the file's path goes, e.g. https://git.example.com/team/kb/edit/main/{path}"),
                );
            }
        }
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
            if let Err((why, help)) = check_kind_folder(&kind.folder) {
                diags.push(
                    Diagnostic::error(
                        "config-folder",
                        format!("the folder `{}` of kind `{name}` {why}", kind.folder),
                    )
                    .at(source, locate(&["kinds", name, "folder"]))
                    .with_help(help),
                );
            } else if let Some(other) = folders.insert(kind.folder.trim_matches('/'), name) {
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
                    if !declared(target) {
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
            let has_field = |f: &str| {
                kind.fields.contains_key(f)
                    || broken.fields.contains(&(name.clone(), f.to_string()))
            };
            if let Some(g) = &kind.index.group_by {
                if !has_field(g) {
                    diags.push(
                        Diagnostic::error("config-group-by", format!("kind `{name}` groups its index by `{g}`, which is not one of its fields"))
                            .at(source, locate(&["kinds", name, "index", "group_by"]))
                            .with_help(format!("use one of: {}", kind.fields.keys().cloned().collect::<Vec<_>>().join(", "))),
                    );
                }
            }
            if let Some(s) = &kind.sequence {
                let unparsed = broken.fields.contains(&(name.clone(), s.clone()));
                if !unparsed && !kind.fields.get(s).is_some_and(FieldDef::is_sequence) {
                    diags.push(
                        Diagnostic::error("config-sequence", format!("kind `{name}` takes its sequence from `{s}`, which is not a refs field or a list of objects with a `page` ref"))
                            .at(source, locate(&["kinds", name, "sequence"]))
                            .with_help("declare the field as `{ type: refs }` or as a list of objects with a `page: { type: ref }` field"),
                    );
                }
            }
        }
        for (view, &i) in self.views.iter().zip(&broken.view_index) {
            let m = &view.matrix;
            let idx = i.to_string();
            if crate::content::slugify(&m.slug).is_empty() {
                diags.push(
                    Diagnostic::error(
                        "config-slug",
                        format!("the slug {:?} of a matrix makes an empty URL: it has no letter or digit", m.slug),
                    )
                    .at(source, locate(&["views", &idx, "matrix", "slug"]))
                    .with_help("write a slug with letters or digits, e.g. `slug: positions-by-role`"),
                );
            }
            for (key, value) in [
                ("rows", Some(&m.rows)),
                ("cols", Some(&m.cols)),
                ("via", m.via.as_ref()),
            ] {
                if let Some(v) = value {
                    if !declared(v) {
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

/// What did not parse in site.yaml (and was reported), so that later checks do not report it again.
#[derive(Debug, Default)]
struct Broken {
    /// Kinds whose declaration had an error.
    kinds: HashSet<String>,
    /// (kind, field) pairs whose declaration had an error.
    fields: HashSet<(String, String)>,
    /// For each view that parsed, its position in `views:` (views that did not are left out).
    view_index: Vec<usize>,
}

/// Reads the YAML tree of site.yaml piece by piece, collecting every problem.
struct Reader<'a> {
    source: &'a Source,
    diags: Vec<Diagnostic>,
    broken: Broken,
}

impl Reader<'_> {
    /// The whole config, or `None` if its top level did not parse (the problems are in `diags`).
    fn site(&mut self, tree: Yaml) -> Option<SiteConfig> {
        let mut top = match tree {
            Yaml::Mapping(m) => m,
            Yaml::Null => serde_yaml::Mapping::new(),
            _ => {
                self.diags.push(
                    Diagnostic::error("yaml", "site.yaml must be a mapping of `key: value` lines")
                        .at(self.source, 0..0)
                        .with_help("start with `title: My site`, one key per line"),
                );
                return None;
            }
        };
        self.strip_unknown::<SiteConfig>(&mut top, &[]);
        let kinds = top.remove("kinds").map(|v| self.kinds(v));
        let views = top.remove("views").map(|v| self.views(v));
        let markdown = top.remove("markdown").and_then(|mut v| {
            if let Yaml::Mapping(m) = &mut v {
                self.strip_unknown::<MarkdownConfig>(m, &["markdown"]);
            }
            self.de::<MarkdownConfig>(v, &["markdown"])
        });
        let mut config = self.de::<SiteConfig>(Yaml::Mapping(top), &[])?;
        config.kinds = kinds.unwrap_or_default();
        config.views = views.unwrap_or_default();
        if let Some(m) = markdown {
            config.markdown = m;
        }
        if config.views.len() != self.broken.view_index.len() {
            self.broken.view_index = (0..config.views.len()).collect();
        }
        Some(config)
    }

    /// `kinds:`, each kind and each of its fields read on its own.
    fn kinds(&mut self, value: Yaml) -> IndexMap<String, KindConfig> {
        let Yaml::Mapping(map) = value else {
            return self
                .de::<IndexMap<String, KindConfig>>(value, &["kinds"])
                .unwrap_or_default();
        };
        let mut kinds = IndexMap::new();
        for (key, value) in map {
            let Some(name) = key.as_str().map(str::to_string) else {
                self.diags.push(
                    Diagnostic::error("yaml", "site.yaml: a kind's name must be text")
                        .at(self.source, yaml::locate(&self.source.text, &["kinds"]))
                        .with_help("name kinds with plain words, e.g. `tool:`"),
                );
                continue;
            };
            let at = ["kinds", name.as_str()];
            let Yaml::Mapping(mut kind) = value else {
                if self.de::<KindConfig>(value, &at).is_none() {
                    self.broken.kinds.insert(name);
                }
                continue;
            };
            self.strip_unknown::<KindConfig>(&mut kind, &at);
            if let Some(Yaml::Mapping(index)) = kind.get_mut("index") {
                self.strip_unknown::<IndexConfig>(index, &["kinds", &name, "index"]);
            }
            let fields = kind.remove("fields").map(|v| self.fields(v, &name));
            match self.de::<KindConfig>(Yaml::Mapping(kind), &at) {
                Some(mut k) => {
                    k.fields = fields.unwrap_or_default();
                    kinds.insert(name, k);
                }
                None => {
                    self.broken.kinds.insert(name);
                }
            }
        }
        kinds
    }

    /// A kind's `fields:`, each declaration read on its own.
    fn fields(&mut self, value: Yaml, kind: &str) -> IndexMap<String, FieldDef> {
        let at = ["kinds", kind, "fields"];
        let Yaml::Mapping(map) = value else {
            return self
                .de::<IndexMap<String, FieldDef>>(value, &at)
                .unwrap_or_default();
        };
        let mut fields = IndexMap::new();
        for (key, mut value) in map {
            let Some(name) = key.as_str().map(str::to_string) else {
                self.diags.push(
                    Diagnostic::error("yaml", "site.yaml: a field's name must be text")
                        .at(self.source, yaml::locate(&self.source.text, &at))
                        .with_help("name fields with plain words, e.g. `owner:`"),
                );
                continue;
            };
            let path: Vec<String> = at
                .iter()
                .map(|s| s.to_string())
                .chain([name.clone()])
                .collect();
            self.strip_field_keys(&mut value, &path);
            let p: Vec<&str> = path.iter().map(String::as_str).collect();
            match self.de::<FieldDef>(value, &p) {
                Some(f) => {
                    fields.insert(name, f);
                }
                None => {
                    self.broken.fields.insert((kind.to_string(), name));
                }
            }
        }
        fields
    }

    /// Unknown keys of a field declaration and of the declarations inside it (`fields:`, `of:`).
    fn strip_field_keys(&mut self, value: &mut Yaml, path: &[String]) {
        let Yaml::Mapping(map) = value else { return };
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        self.strip_unknown::<FieldDef>(map, &p);
        if let Some(of) = map.get_mut("of") {
            let mut sub = path.to_vec();
            sub.push("of".into());
            self.strip_field_keys(of, &sub);
        }
        if let Some(Yaml::Mapping(fields)) = map.get_mut("fields") {
            for (key, v) in fields.iter_mut() {
                if let Some(k) = key.as_str() {
                    let mut sub = path.to_vec();
                    sub.extend(["fields".to_string(), k.to_string()]);
                    self.strip_field_keys(v, &sub);
                }
            }
        }
    }

    /// `views:`, each view read on its own.
    fn views(&mut self, value: Yaml) -> Vec<View> {
        let Yaml::Sequence(items) = value else {
            return self.de::<Vec<View>>(value, &["views"]).unwrap_or_default();
        };
        let mut views = Vec::new();
        for (i, mut item) in items.into_iter().enumerate() {
            let idx = i.to_string();
            if let Yaml::Mapping(m) = &mut item {
                self.strip_unknown::<View>(m, &["views", &idx]);
                if let Some(Yaml::Mapping(matrix)) = m.get_mut("matrix") {
                    self.strip_unknown::<MatrixConfig>(matrix, &["views", &idx, "matrix"]);
                }
            }
            if let Some(v) = self.de::<View>(item, &["views", &idx]) {
                views.push(v);
                self.broken.view_index.push(i);
            }
        }
        views
    }

    /// Report and remove the keys of `map` that `T` does not take (`path` is where `map` sits).
    fn strip_unknown<T: DeserializeOwned>(&mut self, map: &mut serde_yaml::Mapping, path: &[&str]) {
        let known = keys_of::<T>();
        let unknown: Vec<Yaml> = map
            .keys()
            .filter(|k| !k.as_str().is_some_and(|k| known.contains(&k)))
            .cloned()
            .collect();
        for key in unknown {
            map.remove(&key);
            let name = match key.as_str() {
                Some(k) => k.to_string(),
                None => serde_yaml::to_string(&key)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            let mut p = path.to_vec();
            p.push(&name);
            let allowed = known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let help = match crate::suggest::closest(&name, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? Allowed keys here: {allowed}"),
                None => format!("remove `{name}`; allowed keys here: {allowed}"),
            };
            self.diags.push(
                Diagnostic::error("yaml", format!("site.yaml: unknown field `{name}`"))
                    .at(self.source, yaml::locate_key(&self.source.text, &p))
                    .with_help(help),
            );
        }
    }

    /// Deserialize one piece of the tree; on failure, report it at the spot serde stopped.
    fn de<T: DeserializeOwned>(&mut self, value: Yaml, path: &[&str]) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let mut full: Vec<String> = path.iter().map(|s| s.to_string()).collect();
                for seg in e.path().iter() {
                    match seg {
                        serde_path_to_error::Segment::Seq { index } => full.push(index.to_string()),
                        serde_path_to_error::Segment::Map { key } => full.push(key.clone()),
                        serde_path_to_error::Segment::Enum { variant } => {
                            full.push(variant.clone())
                        }
                        serde_path_to_error::Segment::Unknown => {}
                    }
                }
                let p: Vec<&str> = full.iter().map(String::as_str).collect();
                let message = e.inner().to_string();
                let mut d = Diagnostic::error("yaml", format!("site.yaml: {message}"))
                    .at(self.source, yaml::locate(&self.source.text, &p));
                if let Some(help) = yaml::help_for(&message, &self.source.text) {
                    d = d.with_help(help);
                }
                self.diags.push(d);
                None
            }
        }
    }
}

/// The keys a struct of site.yaml takes, as its `Deserialize` declares them (so this list cannot drift
/// from the struct): serde's derive hands them to `deserialize_struct`, which is all this deserializer
/// implements.
fn keys_of<T: DeserializeOwned>() -> &'static [&'static str] {
    struct KeysOf<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for KeysOf<'_> {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(serde::de::Error::custom("keys read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut keys: &'static [&'static str] = &[];
    let _ = T::deserialize(KeysOf(&mut keys));
    keys
}

/// Why a theme name cannot be a folder under themes/, if it cannot: it must be one plain name.
fn check_theme_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err("is a path; a theme is the name of one folder under themes/");
    }
    if name.starts_with('.') || name.chars().any(char::is_control) {
        return Err("is hidden or holds a control character");
    }
    Ok(())
}

/// Why a kind's folder is not a plain relative path inside content/ whose pages can be of the kind, if
/// it is not: no root, `.` or `..`, empty or hidden segment, backslash, colon or control character,
/// and every segment already a slug (pages' folders are matched by their slugs). A trailing `/` is
/// allowed. Returns the reason and the help.
fn check_kind_folder(folder: &str) -> Result<(), (String, String)> {
    let plain_help = || {
        "write a folder under content/, such as `tools` or `guides/tools`: no `..`, no leading `/`, no backslash, not hidden".to_string()
    };
    let trimmed = folder.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(("is empty or the root of content/".into(), plain_help()));
    }
    if trimmed.starts_with('/') {
        return Err(("starts at the root (`/`)".into(), plain_help()));
    }
    if trimmed.contains(['\\', ':']) || trimmed.chars().any(char::is_control) {
        return Err((
            "holds a backslash, a colon or a control character".into(),
            plain_help(),
        ));
    }
    for seg in trimmed.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err((
                "is not a plain path inside content/ (an empty, `.` or `..` segment)".into(),
                plain_help(),
            ));
        }
        if seg.starts_with('.') {
            return Err((
                "is hidden (it starts with `.`), and hidden folders are skipped".into(),
                plain_help(),
            ));
        }
    }
    let slugged: Vec<String> = trimmed.split('/').map(crate::content::slugify).collect();
    if slugged.iter().any(String::is_empty) {
        return Err((
            "has a segment with no letter or digit, which makes an empty URL".into(),
            plain_help(),
        ));
    }
    let slugged = slugged.join("/");
    if slugged != trimmed {
        return Err((
            format!("is not how pages' URLs name it: pages in it get URLs under `{slugged}/`, so none would be of this kind"),
            format!("write `folder: {slugged}` (the folder on disk may keep its name)"),
        ));
    }
    Ok(())
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
    fn keys_come_from_the_structs_themselves() {
        assert!(keys_of::<FieldDef>().contains(&"type"));
        assert!(keys_of::<SiteConfig>().contains(&"base_url"));
        assert_eq!(keys_of::<IndexConfig>(), &["group_by"]);
    }

    #[test]
    fn kind_folders_are_plain_slugged_paths_inside_content() {
        for good in ["tools", "tools/", "guides/tools", "工具"] {
            assert!(check_kind_folder(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/",
            "/etc",
            "../x",
            "a/../../b",
            "./a",
            "a//b",
            ".git",
            "a\\b",
            "c:",
            "a\u{0}b",
            "My Tools",
            "-",
        ] {
            assert!(check_kind_folder(bad).is_err(), "{bad:?}");
        }
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
