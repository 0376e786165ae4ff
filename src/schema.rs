//! Stage 2: typed front matter. A kind's schema is a set of [`FieldDef`]s; [`Validator`] checks a
//! parsed YAML mapping against one and returns typed [`Value`]s plus diagnostics pointing into the YAML.
//!
//! The built-in page fields (title, date, tags...) are a schema too ([`builtin_fields`]), so one
//! validator serves both.

use std::ops::Range;
use std::sync::OnceLock;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_yaml::Value as Yaml;

use crate::diagnostics::{Diagnostic, Source};
use crate::yaml;

/// The type of a front-matter field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    /// Markdown, rendered to HTML for templates.
    Text,
    Int,
    Number,
    Bool,
    /// `YYYY-MM-DD` that is a day of the calendar, optionally followed by a time ([`check_date`]).
    Date,
    /// An http(s) or mailto address, or a path of the site; no other scheme ([`check_url`]).
    Url,
    Enum,
    List,
    Object,
    /// One page id, optionally restricted to a kind with `to:`.
    Ref,
    /// A list of page ids.
    Refs,
}

/// One field of a kind's schema, as written in site.yaml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// Allowed values of an `enum`.
    #[serde(default)]
    pub values: Vec<String>,
    /// Item type of a `list`.
    #[serde(default, deserialize_with = "de_of")]
    pub of: Option<Box<FieldDef>>,
    /// Target kind of a `ref`/`refs`.
    #[serde(default)]
    pub to: Option<String>,
    /// Fields of an `object`.
    #[serde(default)]
    pub fields: IndexMap<String, FieldDef>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<Yaml>,
    /// One line that says what the field is for (errors, `fieldbook new`).
    #[serde(default)]
    pub description: String,
    /// How the field is named on pages (the facts box); by default its key, capitalized.
    #[serde(default)]
    pub label: Option<String>,
    /// Index this field's text for search.
    #[serde(default)]
    pub searchable: bool,
}

impl FieldDef {
    fn simple(ty: FieldType) -> Self {
        FieldDef {
            ty,
            values: vec![],
            of: None,
            to: None,
            fields: IndexMap::new(),
            required: false,
            default: None,
            description: String::new(),
            label: None,
            searchable: false,
        }
    }

    /// Call `f` with every kind this field (or a nested one) points to.
    pub fn check_targets(&self, f: &mut dyn FnMut(&str)) {
        if let Some(to) = &self.to {
            f(to);
        }
        if let Some(of) = &self.of {
            of.check_targets(f);
        }
        for sub in self.fields.values() {
            sub.check_targets(f);
        }
    }

    /// The declaration makes sense on its own (an enum has values, a list an item type...).
    pub fn check_shape(&self) -> Result<(), String> {
        match self.ty {
            FieldType::Enum if self.values.is_empty() => {
                Err("an `enum` needs `values: [...]`".into())
            }
            FieldType::List if self.of.is_none() => {
                Err("a `list` needs `of:` (e.g. `of: string`)".into())
            }
            FieldType::Object if self.fields.is_empty() => {
                Err("an `object` needs `fields:`".into())
            }
            _ if self.to.is_some() && !matches!(self.ty, FieldType::Ref | FieldType::Refs) => {
                Err("only `ref` and `refs` take `to:`".into())
            }
            _ => {
                if let Some(of) = &self.of {
                    of.check_shape()?;
                }
                self.fields.values().try_for_each(FieldDef::check_shape)
            }
        }
    }

    /// True if this field can order a sequence: `refs`, or a list of objects with a `page` ref.
    pub fn is_sequence(&self) -> bool {
        match self.ty {
            FieldType::Refs => true,
            FieldType::List => self.of.as_ref().is_some_and(|o| {
                o.ty == FieldType::Object
                    && o.fields.get("page").is_some_and(|p| p.ty == FieldType::Ref)
            }),
            _ => false,
        }
    }

    /// A short human name of the type, e.g. `list of ref to tool`.
    pub fn type_name(&self) -> String {
        match self.ty {
            FieldType::Enum => format!("one of {}", self.values.join(", ")),
            FieldType::List => format!(
                "list of {}",
                self.of.as_ref().map_or("values".into(), |o| o.type_name())
            ),
            FieldType::Ref => format!(
                "page id{}",
                self.to
                    .as_ref()
                    .map_or(String::new(), |k| format!(" of kind `{k}`"))
            ),
            FieldType::Refs => format!(
                "list of page ids{}",
                self.to
                    .as_ref()
                    .map_or(String::new(), |k| format!(" of kind `{k}`"))
            ),
            other => format!("{other:?}").to_lowercase(),
        }
    }
}

/// `list` items may be written `of: string` as well as `of: { type: string }`.
fn de_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<FieldDef>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OfDef {
        Type(FieldType),
        Def(Box<FieldDef>),
    }
    Ok(Some(match OfDef::deserialize(d)? {
        OfDef::Type(t) => Box::new(FieldDef::simple(t)),
        OfDef::Def(f) => f,
    }))
}

/// The fields every page may have, whatever its kind.
pub fn builtin_fields() -> &'static IndexMap<String, FieldDef> {
    static FIELDS: OnceLock<IndexMap<String, FieldDef>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let list_of_strings = FieldDef {
            of: Some(Box::new(FieldDef::simple(FieldType::String))),
            ..FieldDef::simple(FieldType::List)
        };
        [
            ("title", FieldDef::simple(FieldType::String)),
            ("description", FieldDef::simple(FieldType::String)),
            ("date", FieldDef::simple(FieldType::Date)),
            ("updated", FieldDef::simple(FieldType::Date)),
            ("tags", list_of_strings.clone()),
            ("weight", FieldDef::simple(FieldType::Int)),
            ("draft", FieldDef::simple(FieldType::Bool)),
            ("tag", list_of_strings.clone()),
            ("aliases", list_of_strings.clone()),
            ("alias", list_of_strings.clone()),
            ("kind", FieldDef::simple(FieldType::String)),
            ("slug", FieldDef::simple(FieldType::String)),
            ("permalink", FieldDef::simple(FieldType::String)),
            ("publish", FieldDef::simple(FieldType::Bool)),
            ("cssclasses", list_of_strings.clone()),
            ("cssclass", list_of_strings),
            ("template", FieldDef::simple(FieldType::String)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    })
}

/// True for a value that says nothing: nothing after the colon, `""`, `[]`, or a list of such. Obsidian
/// writes built-in fields this way when they are unset, so such a built-in field is taken as absent.
pub fn is_unset(v: &Yaml) -> bool {
    match v {
        Yaml::Null => true,
        Yaml::String(s) => s.trim().is_empty(),
        Yaml::Sequence(items) => items.iter().all(is_unset),
        _ => false,
    }
}

/// The built-in fields that Obsidian leaves in a note with no value when they are unset.
const MAY_BE_UNSET: &[&str] = &[
    "title",
    "description",
    "date",
    "updated",
    "tags",
    "tag",
    "aliases",
    "alias",
    "cssclasses",
    "cssclass",
    "permalink",
];

/// The built-in fields of a front matter as [`builtin_fields`] checks them, written the ways
/// Obsidian writes them: an unset field ([`is_unset`]) of those Obsidian leaves empty (title,
/// description, dates, tags, aliases, CSS classes, permalink) is left out; an empty item of a list becomes
/// `""` (so the others keep their positions; the caller drops it); and tags lose their leading `#`,
/// a text of tags being split at commas and spaces (`tags: "#a, #b"` is `[a, b]`).
pub fn builtin_view(map: &serde_yaml::Mapping) -> serde_yaml::Mapping {
    let builtins = builtin_fields();
    let mut out = serde_yaml::Mapping::new();
    for (k, v) in map {
        let Some(key) = k.as_str().filter(|k| builtins.contains_key(*k)) else {
            continue;
        };
        if is_unset(v) && MAY_BE_UNSET.contains(&key) {
            continue;
        }
        let is_tags = key == "tags" || key == "tag";
        let item = |x: &Yaml| match x {
            Yaml::Null => Yaml::String(String::new()),
            Yaml::String(s) if is_tags => Yaml::String(strip_hashes(s).to_string()),
            other => other.clone(),
        };
        let v = match v {
            Yaml::Sequence(items) => Yaml::Sequence(items.iter().map(item).collect()),
            Yaml::String(s) if is_tags => Yaml::Sequence(
                s.split(|c: char| c == ',' || c.is_whitespace())
                    .map(strip_hashes)
                    .filter(|t| !t.is_empty())
                    .map(|t| Yaml::String(t.to_string()))
                    .collect(),
            ),
            other => other.clone(),
        };
        out.insert(k.clone(), v);
    }
    out
}

/// A tag as written in Obsidian, `#tag`, without its `#`.
fn strip_hashes(s: &str) -> &str {
    s.trim().trim_start_matches('#').trim()
}

/// A typed front-matter value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Str(String),
    Int(i64),
    Number(f64),
    Bool(bool),
    List(Vec<Value>),
    Object(IndexMap<String, Value>),
    /// A reference to a page, resolved by the graph stage.
    Ref(RefValue),
    /// A field of a kind without a schema, kept as written.
    Raw(serde_json::Value),
}

/// An unresolved reference to a page, with where it was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefValue {
    pub target: String,
    #[serde(skip)]
    pub to: Option<String>,
    #[serde(skip)]
    pub span: Range<usize>,
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Ref(r) => Some(&r.target),
            _ => None,
        }
    }

    /// Every reference inside this value, in order.
    pub fn refs(&self) -> Vec<&RefValue> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a RefValue>) {
        match self {
            Value::Ref(r) => out.push(r),
            Value::List(items) => items.iter().for_each(|v| v.collect_refs(out)),
            Value::Object(m) => m.values().for_each(|v| v.collect_refs(out)),
            _ => {}
        }
    }
}

/// Checks YAML mappings against schemas, collecting diagnostics that point into the source.
pub struct Validator<'a> {
    pub source: &'a Source,
    /// Where the YAML starts in the source.
    pub offset: usize,
    /// The YAML text itself (for locating keys).
    pub yaml: &'a str,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Validator<'a> {
    pub fn new(source: &'a Source, offset: usize, yaml: &'a str) -> Self {
        Validator {
            source,
            offset,
            yaml,
            diags: Vec::new(),
        }
    }

    fn span(&self, path: &[String], key: bool) -> Range<usize> {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let r = if key {
            yaml::locate_key(self.yaml, &p)
        } else {
            yaml::locate(self.yaml, &p)
        };
        if r.is_empty() && r.start == 0 {
            // Not found: point at the opening `---` line.
            let start = self.offset.saturating_sub(4);
            return start..start + 3;
        }
        self.offset + r.start..self.offset + r.end
    }

    fn error(
        &mut self,
        code: &'static str,
        path: &[String],
        key: bool,
        message: String,
        help: String,
    ) {
        let span = self.span(path, key);
        self.diags.push(
            Diagnostic::error(code, message)
                .at(self.source, span)
                .with_help(help),
        );
    }

    /// Validate `map` against `defs`. Keys not in `defs` are errors when `strict`, else returned raw.
    /// `skip` names keys handled elsewhere (the built-in fields when checking a kind's schema).
    pub fn fields(
        &mut self,
        defs: &IndexMap<String, FieldDef>,
        map: &serde_yaml::Mapping,
        path: &[String],
        strict: Option<&str>,
        skip: &dyn Fn(&str) -> bool,
    ) -> IndexMap<String, Value> {
        let mut out = IndexMap::new();
        for (k, v) in map {
            let Some(key) = k.as_str() else {
                self.error(
                    "field-key",
                    path,
                    false,
                    format!("a front-matter key must be text, found `{}`", yaml_short(k)),
                    "write keys as plain names, e.g. `title:`".into(),
                );
                continue;
            };
            if skip(key) {
                continue;
            }
            let mut p = path.to_vec();
            p.push(key.to_string());
            match defs.get(key) {
                Some(def) => {
                    if let Some(value) = self.value(def, v, &p, key) {
                        out.insert(key.to_string(), value);
                    }
                }
                None => match strict {
                    Some(kind) => {
                        let names = defs.keys().map(String::as_str);
                        let help = match crate::suggest::closest(key, names) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!(
                                "fields of `{kind}` are: {}; declare new ones in site.yaml under `kinds.{kind}.fields`",
                                defs.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        };
                        self.error(
                            "unknown-field",
                            &p,
                            true,
                            format!("unknown field `{key}` for a page of kind `{kind}`"),
                            help,
                        );
                    }
                    None => {
                        out.insert(key.to_string(), Value::Raw(yaml_to_json(v)));
                    }
                },
            }
        }
        for (name, def) in defs {
            if out.contains_key(name) || map.contains_key(name.as_str()) {
                continue;
            }
            if let Some(d) = &def.default {
                let mut p = path.to_vec();
                p.push(name.clone());
                if let Some(v) = self.value(def, d, &p, name) {
                    out.insert(name.clone(), v);
                }
            } else if def.required {
                let what = if def.description.is_empty() {
                    def.type_name()
                } else {
                    format!("{} ({})", def.description, def.type_name())
                };
                let where_ = if path.is_empty() {
                    "the front matter".to_string()
                } else {
                    format!("`{}`", path.join("."))
                };
                self.error(
                    "missing-field",
                    path,
                    true,
                    format!("missing required field `{name}`"),
                    format!("add `{name}:` to {where_}: {what}"),
                );
            }
        }
        out
    }

    fn value(&mut self, def: &FieldDef, v: &Yaml, path: &[String], name: &str) -> Option<Value> {
        let wrong = |this: &mut Self, expected: &str| {
            this.error(
                "field-type",
                path,
                false,
                format!(
                    "field `{name}` should be {expected}, found {}",
                    yaml_kind(v)
                ),
                if def.description.is_empty() {
                    format!("write {expected}")
                } else {
                    format!("`{name}`: {}", def.description)
                },
            );
            None
        };
        match def.ty {
            FieldType::String | FieldType::Text => match v {
                Yaml::String(s) => Some(Value::Str(s.clone())),
                Yaml::Number(n) => Some(Value::Str(n.to_string())),
                Yaml::Bool(b) => Some(Value::Str(b.to_string())),
                _ => wrong(self, "text"),
            },
            FieldType::Int => match v.as_i64() {
                Some(i) => Some(Value::Int(i)),
                None => wrong(self, "a whole number"),
            },
            FieldType::Number => match v.as_f64() {
                Some(f) => Some(Value::Number(f)),
                None => wrong(self, "a number"),
            },
            FieldType::Bool => match v {
                Yaml::Bool(b) => Some(Value::Bool(*b)),
                _ => wrong(self, "true or false"),
            },
            FieldType::Date => match v.as_str() {
                Some(s) => match check_date(s) {
                    Ok(()) => Some(Value::Str(s.to_string())),
                    Err(why) => {
                        self.error(
                            "field-date",
                            path,
                            false,
                            format!("field `{name}`: `{}` {why}", truncate(s, 40)),
                            DATE_HELP.into(),
                        );
                        None
                    }
                },
                _ => wrong(self, "a date like 2024-05-31"),
            },
            FieldType::Url => match v.as_str() {
                Some(s) => match check_url(s) {
                    Ok(()) => Some(Value::Str(s.to_string())),
                    Err(why) => {
                        self.error(
                            "field-url",
                            path,
                            false,
                            format!("field `{name}`: `{}` {why}", truncate(s, 60)),
                            URL_HELP.into(),
                        );
                        None
                    }
                },
                _ => wrong(self, URL_EXPECTED),
            },
            FieldType::Enum => {
                let Some(s) = v.as_str() else {
                    return wrong(self, &format!("one of {}", def.values.join(", ")));
                };
                if def.values.iter().any(|x| x == s) {
                    return Some(Value::Str(s.to_string()));
                }
                let help = match crate::suggest::closest(s, def.values.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean `{c}`? Allowed: {}", def.values.join(", ")),
                    None => format!("allowed values: {}", def.values.join(", ")),
                };
                self.error(
                    "enum-value",
                    path,
                    false,
                    format!("`{s}` is not an allowed value of `{name}`"),
                    help,
                );
                None
            }
            FieldType::Ref => match v.as_str() {
                Some(s) => Some(Value::Ref(RefValue {
                    target: s.trim().to_string(),
                    to: def.to.clone(),
                    span: self.span(path, false),
                })),
                None => wrong(self, "a page id"),
            },
            FieldType::Refs => {
                let item = FieldDef {
                    to: def.to.clone(),
                    ..FieldDef::simple(FieldType::Ref)
                };
                self.list(&item, v, path, name, "a list of page ids, e.g. [a, b]")
            }
            FieldType::List => {
                let item = def
                    .of
                    .as_deref()
                    .cloned()
                    .unwrap_or_else(|| FieldDef::simple(FieldType::String));
                self.list(&item, v, path, name, "a list, e.g. [a, b]")
            }
            FieldType::Object => match v {
                Yaml::Mapping(m) => Some(Value::Object(self.fields(
                    &def.fields,
                    m,
                    path,
                    Some(name),
                    &|_| false,
                ))),
                _ => wrong(self, "a mapping of keys to values"),
            },
        }
    }

    fn list(
        &mut self,
        item: &FieldDef,
        v: &Yaml,
        path: &[String],
        name: &str,
        expected: &str,
    ) -> Option<Value> {
        let Yaml::Sequence(items) = v else {
            // A single value where a list is expected is accepted as a list of one, as authors expect.
            if matches!(v, Yaml::String(_)) && item.ty != FieldType::Object {
                return self
                    .value(item, v, path, name)
                    .map(|x| Value::List(vec![x]));
            }
            self.error(
                "field-type",
                path,
                false,
                format!(
                    "field `{name}` should be {expected}, found {}",
                    yaml_kind(v)
                ),
                format!("write {expected}"),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, x) in items.iter().enumerate() {
            let mut p = path.to_vec();
            p.push(i.to_string());
            if let Some(val) = self.value(item, x, &p, name) {
                out.push(val);
            }
        }
        Some(Value::List(out))
    }
}

fn yaml_kind(v: &Yaml) -> String {
    match v {
        Yaml::Null => "nothing".into(),
        Yaml::Bool(b) => format!("`{b}`"),
        Yaml::Number(n) => format!("the number {n}"),
        Yaml::String(s) => format!("the text \"{}\"", truncate(s, 40)),
        Yaml::Sequence(_) => "a list".into(),
        Yaml::Mapping(_) => "a mapping".into(),
        Yaml::Tagged(_) => "a tagged value".into(),
    }
}

fn yaml_short(v: &Yaml) -> String {
    serde_yaml::to_string(v)
        .map(|s| truncate(s.trim(), 40))
        .unwrap_or_default()
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// YAML to JSON for template data; non-string keys become their YAML text.
pub fn yaml_to_json(v: &Yaml) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Yaml::Null => J::Null,
        Yaml::Bool(b) => J::Bool(*b),
        Yaml::Number(n) => n
            .as_i64()
            .map(J::from)
            .or_else(|| {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(J::Number)
            })
            .unwrap_or(J::Null),
        Yaml::String(s) => J::String(s.clone()),
        Yaml::Sequence(items) => J::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Mapping(m) => J::Object(
            m.iter()
                .map(|(k, v)| {
                    (
                        k.as_str().map_or_else(|| yaml_short(k), str::to_string),
                        yaml_to_json(v),
                    )
                })
                .collect(),
        ),
        Yaml::Tagged(t) => yaml_to_json(&t.value),
    }
}

/// How to write a date, for the help of a date that is not one.
pub const DATE_HELP: &str = "write a date as YYYY-MM-DD (e.g. 2024-05-31), optionally with a time after `T` or a space (2024-05-31T10:00, 2024-05-31 10:00:00+08:00, 2024-05-31T02:00:00Z)";

/// True if `s` is a date [`check_date`] accepts.
pub fn is_date(s: &str) -> bool {
    check_date(s).is_ok()
}

/// A `date` value: `YYYY-MM-DD` that is a day of the calendar (no February 30), optionally followed
/// by `T` or a space and a time of day with an optional offset (`Z`, `+08:00`). The calendar and the
/// time are checked by jiff. The error completes "`2024-02-30` ...".
pub fn check_date(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let digits = |r: Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shaped = digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-');
    if !shaped || !digits(8..10) {
        return Err("is not a date in the form YYYY-MM-DD".into());
    }
    let num = |r: Range<usize>| s[r].parse::<i16>().unwrap_or(0);
    let (year, month, day) = (num(0..4), num(5..7), num(8..10) as i8);
    if !(1..=12).contains(&month) {
        return Err(format!("has no month {month}: months go from 01 to 12"));
    }
    let first = jiff::civil::Date::new(year, month as i8, 1)
        .map_err(|_| "is not a date of the calendar".to_string())?;
    if jiff::civil::Date::new(year, month as i8, day).is_err() {
        return Err(format!(
            "is not a day of the calendar: {} {year} has {} days",
            first.strftime("%B"),
            first.days_in_month()
        ));
    }
    if b.len() == 10 {
        return Ok(());
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err(
            "has something after the date that is not a time (`T10:00` or ` 10:00`)".into(),
        );
    }
    // With an offset (`Z`, `+08:00`) it is an instant; without, a civil date and time.
    let text = s.replacen(' ', "T", 1);
    if text.parse::<jiff::Timestamp>().is_ok() || text.parse::<jiff::civil::DateTime>().is_ok() {
        Ok(())
    } else {
        Err("has a time that is not one (write HH:MM or HH:MM:SS, then an optional `Z` or `+08:00`)".into())
    }
}

/// What a `url` field takes, for the message of a value of the wrong type.
pub const URL_EXPECTED: &str =
    "a URL (https://..., mailto:..., a path starting with /, or a relative path)";

/// How to write a URL, for the help of a refused one.
pub const URL_HELP: &str = "a `url` field takes an http:// or https:// address, a mailto: address, a path of this site starting with `/` (e.g. /tools/doudian/), or a relative path (e.g. ../guide/); any other scheme (javascript:, data:, file:...) is refused";

/// A `url` value that may become a link: `http://` or `https://` with a host, `mailto:` with an
/// address, a root-relative path (`/tools/`) or a relative one (`../a/`, `b.html#x`). Refused, in both
/// `raw_html` modes: every other scheme (`javascript:`, `vbscript:`, `data:`, `file:`...), found the
/// way a browser finds it (ASCII case ignored, and the tabs, newlines and spaces it drops removed
/// first); protocol-relative `//host` (write the scheme); and any backslash or control character,
/// which browsers read in ways that differ from what the text seems to say. The error completes
/// "`javascript:alert(1)` ...".
pub fn check_url(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("is empty".into());
    }
    if s.chars().any(char::is_control) {
        return Err("contains a control character (a tab, a line break...)".into());
    }
    if s.contains('\\') {
        return Err("contains a backslash, which browsers read as `/`".into());
    }
    // What a browser's URL parser looks at: no ASCII whitespace, ASCII case folded.
    let squeezed: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if squeezed.starts_with("//") {
        return Err("is protocol-relative (`//host`)".into());
    }
    let first_segment = squeezed.split(['/', '?', '#']).next().unwrap_or("");
    let Some((scheme, rest)) = first_segment
        .split_once(':')
        .map(|(scheme, _)| (scheme, &squeezed[scheme.len() + 1..]))
    else {
        // No scheme: a path of this site, relative or from its root.
        return Ok(());
    };
    match scheme {
        "http" | "https" => match rest.strip_prefix("//") {
            Some(host) if !host.is_empty() && !host.starts_with(['/', '?', '#']) => Ok(()),
            _ => Err(format!("is not a full {scheme}:// address with a host")),
        },
        "mailto" if !rest.is_empty() => Ok(()),
        "mailto" => Err("has no address after `mailto:`".into()),
        _ => Err(format!(
            "uses the scheme `{scheme}:`, which a `url` field does not take"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(defs_yaml: &str, fm: &str) -> (IndexMap<String, Value>, Vec<Diagnostic>) {
        let defs: IndexMap<String, FieldDef> = serde_yaml::from_str(defs_yaml).unwrap();
        let src = Source::new("p.md", format!("---\n{fm}---\n"));
        let map: serde_yaml::Mapping = serde_yaml::from_str(fm).unwrap();
        let mut v = Validator::new(&src, 4, &src.text[4..4 + fm.len()]);
        let out = v.fields(&defs, &map, &[], Some("tool"), &|k| {
            builtin_fields().contains_key(k)
        });
        (out, v.diags)
    }

    #[test]
    fn wrong_type_and_enum_and_unknown() {
        let (_, d) = check(
            "n: {type: int}\ncat: {type: enum, values: [store, data]}\npositions: {type: refs, to: position}\n",
            "title: X\nn: lots\ncat: dat\npostions: [a]\n",
        );
        assert_eq!(d.len(), 3, "{d:?}");
        assert_eq!(d[0].line_col(), Some((3, 4)));
        assert!(d[0].message.contains("whole number"));
        assert!(d[1].help.as_deref().unwrap().contains("`data`"));
        assert_eq!(d[2].line_col(), Some((5, 1)));
        assert!(d[2].help.as_deref().unwrap().contains("`positions`"));
    }

    #[test]
    fn required_and_default() {
        let (out, d) = check(
            "a: {type: string, required: true, description: The A}\nb: {type: int, default: 3}\n",
            "title: X\n",
        );
        assert_eq!(d.len(), 1);
        assert!(d[0].help.as_deref().unwrap().contains("The A"));
        assert_eq!(out.get("b"), Some(&Value::Int(3)));
    }

    #[test]
    fn builtin_fields_take_obsidian_spellings() {
        let map: serde_yaml::Mapping = serde_yaml::from_str(
            "title:\ntags: \"#a, b #c\"\naliases: []\ndate: ''\ndescription: Hi\ncssclass: [x, ~]\nmine:\n",
        )
        .unwrap();
        let view = builtin_view(&map);
        let keys: Vec<&str> = view.keys().filter_map(Yaml::as_str).collect();
        assert_eq!(keys, ["tags", "description", "cssclass"]);
        let tags: Vec<String> = serde_yaml::from_value(view["tags"].clone()).unwrap();
        assert_eq!(tags, ["a", "b", "c"]);
        let list: Vec<String> = serde_yaml::from_value(view["cssclass"].clone()).unwrap();
        assert_eq!(list, ["x", ""]);
        let hashed: serde_yaml::Mapping = serde_yaml::from_str("tags: ['#x', y]\n").unwrap();
        let tags: Vec<String> =
            serde_yaml::from_value(builtin_view(&hashed)["tags"].clone()).unwrap();
        assert_eq!(tags, ["x", "y"]);
        assert!(!is_unset(&Yaml::Bool(false)));
        assert!(!is_unset(&Yaml::Number(0.into())));
    }

    #[test]
    fn refs_keep_their_spans() {
        let (out, d) = check("tools: {type: refs, to: tool}\n", "tools: [x, yy]\n");
        assert!(d.is_empty());
        let refs = out["tools"].refs();
        assert_eq!(refs[1].target, "yy");
        assert_eq!(refs[1].span, 15..17);
    }

    #[test]
    fn dates() {
        assert!(is_date("2024-05-31"));
        assert!(is_date("2024-05-31T10:00:00Z"));
        assert!(!is_date("2024-13-01"));
        assert!(!is_date("May 5"));
    }

    #[test]
    fn dates_are_days_of_the_calendar_with_an_optional_time() {
        for good in [
            "2024-02-29",
            "2023-12-31",
            "2024-05-31T10:00",
            "2024-05-31 10:00:00",
            "2024-05-31T10:00:00.5Z",
            "2024-05-31T10:00:00+08:00",
        ] {
            assert!(check_date(good).is_ok(), "{good}: {:?}", check_date(good));
        }
        assert!(check_date("2024-02-30")
            .unwrap_err()
            .contains("February 2024 has 29 days"));
        assert!(check_date("2023-02-29")
            .unwrap_err()
            .contains("February 2023 has 28 days"));
        assert!(check_date("2024-04-31").is_err());
        assert!(check_date("2024-00-10").unwrap_err().contains("month"));
        assert!(check_date("2024-01-00").is_err());
        for bad in [
            "2024-05-31Tnoon",
            "2024-05-31T25:00",
            "2024-05-31x",
            "24-05-31",
            "2024-5-31",
            "",
        ] {
            assert!(check_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_take_web_mail_and_site_paths_and_no_other_scheme() {
        for good in [
            "https://x.org",
            "http://x.org/a?b#c",
            "HTTPS://X.ORG/",
            "mailto:a@x.org",
            "/tools/doudian/",
            "../guide/",
            "guide.html#part",
            "#part",
            "?q=a:b",
            "a/b:c",
        ] {
            assert!(check_url(good).is_ok(), "{good}: {:?}", check_url(good));
        }
        for bad in [
            "javascript://%0aalert(1)",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "java script:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "\u{1}javascript:alert(1)",
            "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "ftp://x.org/",
            "//evil.org/",
            "/\\evil.org/",
            "https:x.org",
            "https://",
            "mailto:",
            "",
            "  ",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
        assert!(check_url("javascript:x")
            .unwrap_err()
            .contains("`javascript:`"));
    }
}
