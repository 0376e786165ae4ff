//! Stage 1: content/ -> [`Page`]s. Discovery (walkdir), front-matter split, built-in and kind fields.
//!
//! Pure functions on text ([`split_front_matter`], [`Page::parse`]) sit beside the thin I/O wrapper
//! [`discover`], so every rule here is testable without a disk.

use std::ops::Range;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::config::SiteConfig;
use crate::diagnostics::{Diagnostic, Source};
use crate::schema::{builtin_fields, Validator, Value};

/// Files found under content/.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Markdown files, relative to content/, sorted.
    pub pages: Vec<PathBuf>,
    /// Other files (images...), relative to content/, sorted: copied beside the pages.
    pub assets: Vec<PathBuf>,
    pub diags: Vec<Diagnostic>,
    /// The links under content/, relative to it: through one, a change under one path shows under
    /// another.
    pub links: Vec<PathBuf>,
}

/// Walk content/ and sort what is there into pages and assets, by the rules of [`crate::sitefs`]:
/// hidden files and editors' leftovers are left out, links are followed only inside the site, and
/// a link out of it, a loop or an unreadable entry is reported, never followed.
pub fn discover(content_dir: &Path, shown_prefix: &Path) -> Discovered {
    let mut found = Discovered::default();
    if !content_dir.is_dir() && content_dir.symlink_metadata().is_err() {
        return found;
    }
    let root = content_dir.parent().unwrap_or(Path::new("."));
    let walked = crate::sitefs::walk(root, content_dir, &shown_prefix.to_string_lossy());
    found.diags = walked.diags;
    found.links = walked.links.into_iter().map(PathBuf::from).collect();
    for f in walked.files {
        let rel = PathBuf::from(&f.rel);
        let is_md = rel
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("md"));
        if is_md {
            found.pages.push(rel);
        } else {
            found.assets.push(rel);
        }
    }
    found
}

/// Where the front matter and the body sit in a file.
#[derive(Debug, PartialEq)]
pub struct Split {
    /// The YAML between the `---` lines, if any.
    pub yaml: Option<Range<usize>>,
    pub body: Range<usize>,
}

/// Split `---` front matter from the body. A BOM is skipped; CRLF line endings work. A front matter
/// that is opened but never closed is an error (returned as the range of the opening line).
pub fn split_front_matter(text: &str) -> Result<Split, Range<usize>> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let rest = &text[start..];
    let first_line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
    if rest[..first_line_end].trim_end() != "---" {
        return Ok(Split {
            yaml: None,
            body: start..text.len(),
        });
    }
    let yaml_start = start + first_line_end;
    let mut pos = yaml_start;
    while pos < text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
        let line = text[pos..line_end].trim_end();
        if line == "---" || line == "..." {
            return Ok(Split {
                yaml: Some(yaml_start..pos),
                body: line_end..text.len(),
            });
        }
        pos = line_end;
    }
    Err(start..start + 3)
}

/// Turn a name into a URL segment: lowercase, letters and digits kept (any script), everything else
/// folded into single `-`.
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            // A few letters lowercase to more than one character, not all of them letters (`İ` is
            // `i` and a combining dot): keep the letters and digits only, so that a slug is its own
            // slug.
            out.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
        } else if c == '_' && out.is_empty() {
            // keep leading underscores out of slugs
        } else {
            dash = true;
        }
    }
    out
}

/// A page after its front matter is parsed and checked, before its Markdown is rendered.
#[derive(Debug, Clone)]
pub struct Page {
    pub source: Source,
    /// Path under content/ with `/` separators, e.g. `tools/doudian.md`.
    pub rel_path: String,
    /// `_index.md` or `index.md`: the page of its folder (a section).
    pub is_section: bool,
    /// The folder's path under content/ (`tools`, `` for the root), slugified.
    pub section: String,
    pub slug: String,
    /// The page's kind, from `kind:` or its folder.
    pub kind: Option<String>,
    /// Unique id: `kind/slug` for typed pages, else the URL path without slashes at the ends.
    pub id: String,
    /// URL path under the base, e.g. `tools/doudian/` (`` for the home page).
    pub url: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub date: Option<String>,
    pub updated: Option<String>,
    /// When the page last changed (`YYYY-MM-DD`): `updated`, else its file's last git commit (filled in
    /// by [`crate::build::load`]), else none.
    pub last_updated: Option<String>,
    pub tags: Vec<String>,
    pub weight: Option<i64>,
    pub draft: bool,
    /// False for `publish: false`: the page is left out of the build, even with `--drafts`.
    pub publish: bool,
    /// Old URL paths of the page (aliases with a `/`), each made a redirect to it.
    pub aliases: Vec<String>,
    /// Other names of the page that links may use (Obsidian's `aliases` that are names, not paths).
    pub names: Vec<String>,
    /// Classes for the page's article element (`cssclasses`, `cssclass`), class-safe.
    pub cssclasses: Vec<String>,
    pub template: Option<String>,
    /// The kind's fields (typed), or any extra fields of an untyped page.
    pub fields: IndexMap<String, Value>,
    /// The Markdown body's range in the source.
    pub body: Range<usize>,
}

impl Page {
    /// Parse one file. `rel` is its path under content/; `source.path` is what errors show.
    ///
    /// The page comes back even when its front matter has problems (with the bad fields left out), so
    /// that one typo does not also break every link to the page.
    pub fn parse(config: &SiteConfig, rel: &Path, source: Source) -> (Page, Vec<Diagnostic>) {
        let text = source.text.clone();
        let mut diags = Vec::new();
        let split = match split_front_matter(&text) {
            Ok(s) => s,
            Err(r) => {
                diags.push(
                    Diagnostic::error(
                        "front-matter-unclosed",
                        "front matter is opened with `---` but never closed",
                    )
                    .at(&source, r)
                    .with_help("add a line with just `---` after the last front-matter field"),
                );
                Split {
                    yaml: None,
                    body: 0..0,
                }
            }
        };
        let rel_str = rel.to_string_lossy().replace('\\', "/");
        let stem = rel
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_section = stem == "_index" || stem == "index";
        let folder: Vec<String> = rel
            .parent()
            .map(|p| {
                p.iter()
                    .map(|c| slugify(&c.to_string_lossy()))
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let section = folder.join("/");

        let mut map = serde_yaml::Mapping::new();
        // When the front matter does not parse, its YAML error is the one problem reported: the
        // fields it holds are unknown, so "missing field" errors would be false.
        let mut yaml_broken = false;
        let (yaml_text, offset) = match &split.yaml {
            Some(r) => (&text[r.clone()], r.start),
            None => ("", 0),
        };
        if !yaml_text.trim().is_empty() {
            match serde_yaml::from_str::<serde_yaml::Value>(yaml_text) {
                Ok(serde_yaml::Value::Mapping(m)) => map = m,
                Ok(serde_yaml::Value::Null) => {}
                Ok(other) => {
                    yaml_broken = true;
                    diags.push(
                        Diagnostic::error(
                            "front-matter",
                            format!(
                                "front matter must be a mapping of `key: value` lines, found {}",
                                kind_of(&other)
                            ),
                        )
                        .at(
                            &source,
                            offset..offset + yaml_text.find('\n').unwrap_or(yaml_text.len()),
                        )
                        .with_help("write fields as `title: My page`, one per line"),
                    )
                }
                Err(e) => {
                    yaml_broken = true;
                    diags.push(crate::yaml::error_diagnostic(
                        &e,
                        &source,
                        offset,
                        "front matter",
                    ))
                }
            }
        }
        let mut v = Validator::new(&source, offset, yaml_text);
        let builtin = v.fields(
            builtin_fields(),
            &crate::schema::builtin_view(&map),
            &[],
            None,
            &|k| !builtin_fields().contains_key(k),
        );
        let get = |k: &str| builtin.get(k).and_then(Value::as_str).map(str::to_string);
        // The items of a list field with their positions in it (for errors), empty ones left out.
        let items = |k: &str| -> Vec<(usize, String)> {
            match builtin.get(k) {
                Some(Value::List(items)) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, x)| x.as_str().map(|s| (i, s.trim().to_string())))
                    .filter(|(_, s)| !s.is_empty())
                    .collect(),
                _ => Vec::new(),
            }
        };
        let span_of = |path: &[&str]| {
            let span = crate::yaml::locate(yaml_text, path);
            offset + span.start..offset + span.end
        };

        // Aliases (and Obsidian's `alias`): one that starts with `/` is an old URL path of this site
        // and becomes a folder of the output, so it must be a plain path inside the site (and a
        // collision is an error); any other is another name of the page, or with a `/` Obsidian's
        // path of it in the vault, and redirects only where nothing else is.
        let mut aliases: Vec<String> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for key in ["aliases", "alias"] {
            for (i, alias) in items(key) {
                if !alias.contains('/') {
                    if !names.contains(&alias) {
                        names.push(alias);
                    }
                    continue;
                }
                if let Err(why) = check_alias(&alias) {
                    diags.push(
                        Diagnostic::error("bad-alias", format!("alias `{alias}` {why}"))
                            .at(&source, span_of(&[key, &i.to_string()]))
                            .with_help(
                                "an alias with a `/` is an old URL path of this site, such as `/old-name/`; one without is another name of the page",
                            ),
                    );
                }
                if alias.starts_with('/') {
                    aliases.push(alias);
                } else if !names.contains(&alias) {
                    // `Folder/Old name`: Obsidian's path alias, relative to the vault. It redirects
                    // when its URL is free, like a name (see `views::name_redirects`).
                    names.push(alias);
                }
            }
        }
        // `permalink:` sets the URL; like an alias it must stay inside the site.
        let permalink = get("permalink").and_then(|link| match check_permalink(&link) {
            Ok(url) => Some(url),
            Err(why) => {
                diags.push(
                    Diagnostic::error("bad-permalink", format!("permalink `{link}` {why}"))
                        .at(&source, span_of(&["permalink"]))
                        .with_help(
                            "a permalink is a path of this site, such as `guides/setup` or `/guides/setup/`",
                        ),
                );
                None
            }
        });
        // A permalink onto the page's own folder or a folder above it (`/` is the root) makes the page
        // that folder's index page, as an `index.md` there would be: Obsidian Publish shows the note
        // at that URL, and a folder has no page of its own there.
        let promoted = permalink.as_deref().and_then(|url| {
            let url = url.trim_end_matches('/');
            (0..=folder.len())
                .map(|n| folder[..n].join("/"))
                .find(|f| f == url)
        });
        let is_section = is_section || promoted.is_some();
        let section = promoted.clone().unwrap_or(section);
        // Classes for the page's article element: only names a class attribute takes as they are.
        let mut cssclasses: Vec<String> = Vec::new();
        for key in ["cssclasses", "cssclass"] {
            for (i, text) in items(key) {
                for class in text.split(|c: char| c == ',' || c.is_whitespace()) {
                    if class.is_empty() || cssclasses.iter().any(|c| c == class) {
                        continue;
                    }
                    if is_class_name(class) {
                        cssclasses.push(class.to_string());
                    } else {
                        diags.push(
                            Diagnostic::warning(
                                "bad-cssclass",
                                format!("the CSS class {class:?} is left out: a class here is made of letters, digits, `-` and `_`"),
                            )
                            .at(&source, span_of(&[key, &i.to_string()]))
                            .with_help("write classes such as `wide-page` or `cards`"),
                        );
                    }
                }
            }
        }
        // The kind: explicit, else from the folder.
        let kind = match get("kind") {
            Some(k) if config.kinds.contains_key(&k) => Some(k),
            Some(k) => {
                let names: Vec<&str> = config.kinds.keys().map(String::as_str).collect();
                let help = match crate::suggest::closest(&k, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if names.is_empty() => {
                        "declare kinds in site.yaml under `kinds:`".to_string()
                    }
                    None => format!("declared kinds: {}", names.join(", ")),
                };
                let span = crate::yaml::locate(yaml_text, &["kind"]);
                v.diags.push(
                    Diagnostic::error("unknown-kind", format!("unknown kind `{k}`"))
                        .at(&source, offset + span.start..offset + span.end)
                        .with_help(help),
                );
                None
            }
            None if is_section => None,
            None => kind_for_folder(config, &section),
        };

        let schema = kind
            .as_deref()
            .and_then(|k| config.kinds.get(k))
            .filter(|k| !k.fields.is_empty());
        let fields = match (&kind, schema) {
            (Some(k), Some(kc)) => v.fields(&kc.fields, &map, &[], Some(k), &|key| {
                builtin_fields().contains_key(key)
            }),
            _ => v.fields(&IndexMap::new(), &map, &[], None, &|key| {
                builtin_fields().contains_key(key)
            }),
        };
        if !yaml_broken {
            diags.append(&mut v.diags);
        }

        // Every part of the URL must have a slug: a name made only of punctuation has none.
        if let Some(parent) = rel.parent() {
            for name in parent.iter().map(|c| c.to_string_lossy()) {
                if slugify(&name).is_empty() {
                    diags.push(
                        Diagnostic::error(
                            "empty-slug",
                            format!("the folder name `{name}` makes an empty URL segment: it has no letter or digit"),
                        )
                        .in_file(&source.path)
                        .with_help("rename the folder with at least one letter or digit, e.g. `notes`"),
                    );
                }
            }
        }
        let explicit = get("slug");
        let slug = match &explicit {
            Some(s) => slugify(s),
            None if is_section && promoted.is_none() => folder.last().cloned().unwrap_or_default(),
            None => slugify(&stem),
        };
        // The home page's section slug is empty by design; any other empty slug is an error.
        let slug = if !slug.is_empty() || (explicit.is_none() && is_section) {
            slug
        } else {
            diags.push(match &explicit {
                Some(s) => {
                    let span = crate::yaml::locate(yaml_text, &["slug"]);
                    Diagnostic::error(
                        "empty-slug",
                        format!("`slug: {s:?}` makes an empty URL: a slug needs a letter or digit"),
                    )
                    .at(&source, offset + span.start..offset + span.end)
                    .with_help("write a slug with letters or digits, e.g. `slug: my-page`, or remove `slug:` to take the file's name")
                }
                None => Diagnostic::error(
                    "empty-slug",
                    format!("the file name `{stem}.md` makes an empty URL: it has no letter or digit"),
                )
                .in_file(&source.path)
                .with_help("rename the file with at least one letter or digit, or set `slug: my-page` in its front matter"),
            });
            unslugged(&stem)
        };
        // A tag is a page of its own (`tags/<slug>/`): a tag without a slug would have no URL.
        let mut tags: Vec<String> = Vec::new();
        for (key, i, tag) in ["tags", "tag"]
            .into_iter()
            .flat_map(|k| items(k).into_iter().map(move |(i, t)| (k, i, t)))
        {
            if !slugify(&tag).is_empty() {
                if !tags.iter().any(|t| slugify(t) == slugify(&tag)) {
                    tags.push(tag);
                }
            } else {
                let span = crate::yaml::locate(yaml_text, &[key, &i.to_string()]);
                diags.push(
                    Diagnostic::error(
                        "empty-tag",
                        format!("the tag {tag:?} has no letter or digit, so its page would have an empty URL"),
                    )
                    .at(&source, offset + span.start..offset + span.end)
                    .with_help("write tags with at least one letter or digit (e.g. `tags: [launch]`), or remove this one"),
                );
            }
        }
        let url = match (permalink, is_section, section.is_empty()) {
            (Some(url), ..) => url,
            (None, true, true) => String::new(),
            (None, true, false) => format!("{section}/"),
            (None, false, true) => format!("{slug}/"),
            (None, false, false) => format!("{section}/{slug}/"),
        };
        // A page left out of Obsidian Publish is left out of the build, and so are its problems.
        let publish = !matches!(builtin.get("publish"), Some(Value::Bool(false)));
        if !publish {
            diags.clear();
        }
        let id = match &kind {
            Some(k) if !is_section => format!("{k}/{slug}"),
            _ if url.is_empty() => "index".to_string(),
            _ => url.trim_end_matches('/').to_string(),
        };
        let page = Page {
            rel_path: rel_str,
            is_section,
            section,
            slug,
            kind,
            id,
            url,
            title: get("title"),
            description: get("description"),
            date: get("date"),
            updated: get("updated"),
            last_updated: get("updated").map(|d| d.chars().take(10).collect()),
            tags,
            weight: builtin.get("weight").and_then(|w| {
                if let Value::Int(i) = w {
                    Some(*i)
                } else {
                    None
                }
            }),
            draft: matches!(builtin.get("draft"), Some(Value::Bool(true))),
            publish,
            aliases,
            names,
            cssclasses,
            template: get("template"),
            fields,
            body: split.body,
            source,
        };
        (page, diags)
    }

    /// Whether the page is part of a build (`drafts`: one that includes drafts).
    pub fn is_built(&self, drafts: bool) -> bool {
        self.publish && (!self.draft || drafts)
    }

    /// The Markdown body.
    pub fn body_text(&self) -> &str {
        &self.source.text[self.body.clone()]
    }

    /// Let go of the page's source text (its body reads as empty from now on). `build` does this once
    /// every check has run, so a large site does not hold its Markdown while writing its HTML.
    pub fn release_source(&mut self) {
        self.source.text = std::sync::Arc::from("");
        self.body = 0..0;
    }
}

/// The stand-in slug of a page whose slug came out empty (an error already reported): the file's
/// own slug if it has one, else the hex bytes of its name. It keeps such pages apart, so that the error
/// is not followed by false "two files for one URL" ones.
fn unslugged(stem: &str) -> String {
    match slugify(stem) {
        s if s.is_empty() => stem.bytes().map(|b| format!("{b:02x}")).collect(),
        s => s,
    }
}

fn kind_of(v: &serde_yaml::Value) -> &'static str {
    match v {
        serde_yaml::Value::Sequence(_) => "a list",
        serde_yaml::Value::String(_) => "plain text",
        _ => "a single value",
    }
}

/// The kind whose folder contains `section` (the longest match wins for nested folders).
pub fn kind_for_folder(config: &SiteConfig, section: &str) -> Option<String> {
    config
        .kinds
        .iter()
        .filter(|(_, k)| {
            let f = k.folder.trim_matches('/');
            section == f || section.starts_with(&format!("{f}/"))
        })
        .max_by_key(|(_, k)| k.folder.len())
        .map(|(name, _)| name.clone())
}

/// Why an alias cannot be a folder of the output: it must be a path of this site with at least one
/// segment, and no segment may be `.` or `..` or hold a backslash or a control character.
pub fn check_alias(alias: &str) -> Result<(), &'static str> {
    if alias.contains("://") || alias.starts_with("//") {
        return Err("is a full URL; aliases are paths of this site");
    }
    let segments: Vec<&str> = alias.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        return Err("is the site's root, which is the home page");
    }
    if segments
        .iter()
        .any(|s| *s == "." || *s == ".." || s.contains('\\') || s.chars().any(char::is_control))
    {
        return Err("leaves the site (`.`, `..`, a backslash or a control character)");
    }
    Ok(())
}

/// The URL path a `permalink:` gives (`/a/b/` and `a/b` give `a/b/`; `/` gives ``, the home page), or
/// why it is refused: the rules of [`check_alias`], and no `?` or `#`, which would end the URL's path.
pub fn check_permalink(link: &str) -> Result<String, &'static str> {
    if link.trim() == "/" {
        return Ok(String::new());
    }
    check_alias(link)?;
    if link.contains(['?', '#']) {
        return Err("contains `?` or `#`, which end the path of a URL");
    }
    let segments: Vec<&str> = link.split('/').filter(|s| !s.is_empty()).collect();
    Ok(format!("{}/", segments.join("/")))
}

/// A class name that can go into a `class` attribute as it is: ASCII letters, digits, `-` and `_`.
fn is_class_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_variants() {
        assert_eq!(
            split_front_matter("# hi\n"),
            Ok(Split {
                yaml: None,
                body: 0..5
            })
        );
        let t = "---\ntitle: A\n---\nbody";
        let s = split_front_matter(t).unwrap();
        assert_eq!(&t[s.yaml.unwrap()], "title: A\n");
        assert_eq!(&t[s.body], "body");
        let crlf = "\u{feff}---\r\ntitle: A\r\n---\r\nbody";
        let s = split_front_matter(crlf).unwrap();
        assert_eq!(&crlf[s.yaml.unwrap()], "title: A\r\n");
        assert!(split_front_matter("---\ntitle: A\n").is_err());
        assert_eq!(
            split_front_matter("---\n---\n"),
            Ok(Split {
                yaml: Some(4..4),
                body: 8..8
            })
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Doudian After-sales"), "doudian-after-sales");
        assert_eq!(slugify("  What's new?  "), "what-s-new");
        assert_eq!(slugify("巨量千川 Qianchuan"), "巨量千川-qianchuan");
        assert_eq!(slugify("My File_Name"), "my-file-name");
    }

    #[test]
    fn aliases_must_stay_inside_the_site() {
        assert!(check_alias("/old-name/").is_ok());
        assert!(check_alias("guides/old").is_ok());
        for bad in [
            "/",
            "",
            "../x/",
            "/a/../../b/",
            "/./x",
            "a\\..\\b",
            "https://x.org/",
            "//x.org/a",
            "a/\u{0}/b",
        ] {
            assert!(check_alias(bad).is_err(), "{bad:?}");
        }
    }

    fn parse(rel: &str, text: &str) -> (Page, Vec<Diagnostic>) {
        let config =
            SiteConfig::parse(&Source::new("site.yaml", "title: T\n".to_string())).expect("config");
        Page::parse(
            &config,
            Path::new(rel),
            Source::new(format!("content/{rel}"), text.to_string()),
        )
    }

    #[test]
    fn aliases_with_a_slash_are_paths_and_the_others_names() {
        let (p, d) = parse(
            "plugins/qs.md",
            "---\naliases: [Quick switcher, /old/qs/, QS, QS]\nalias: Guides/Switching\n---\nx\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(p.names, ["Quick switcher", "QS", "Guides/Switching"]);
        assert_eq!(p.aliases, ["/old/qs/"]);
        let (_, d) = parse("a.md", "---\nalias: [ok, ../x/]\n---\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, "bad-alias");
        assert_eq!(d[0].line_col(), Some((2, 13)));
    }

    #[test]
    fn permalinks_set_the_url_and_id() {
        for link in ["a/b", "/a/b/", "a//b/"] {
            let (p, d) = parse("x/y.md", &format!("---\npermalink: {link}\n---\n"));
            assert!(d.is_empty(), "{d:?}");
            assert_eq!(p.url, "a/b/");
            assert_eq!(p.id, "a/b");
            assert_eq!(p.slug, "y");
        }
        let (p, d) = parse("Start/Home.md", "---\npermalink: /\n---\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!((p.url.as_str(), p.id.as_str()), ("", "index"));
        assert!(p.is_section && p.section.is_empty());
        assert_eq!(p.slug, "home");
        let (p, d) = parse("Bases/Deep/Intro.md", "---\npermalink: bases\n---\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!((p.url.as_str(), p.id.as_str()), ("bases/", "bases"));
        assert!(p.is_section && p.section == "bases" && p.slug == "intro");
        let (p, _) = parse("Bases/Intro.md", "---\npermalink: other\n---\n");
        assert!(!p.is_section && p.section == "bases");
        for bad in ["../up", "//", "a?b", "https://x.org/a"] {
            let (p, d) = parse("x/y.md", &format!("---\npermalink: '{bad}'\n---\n"));
            assert_eq!(d.len(), 1, "{bad}: {d:?}");
            assert_eq!(d[0].code, "bad-permalink");
            assert_eq!(p.url, "x/y/");
        }
    }

    #[test]
    fn publish_false_is_left_out_with_its_problems() {
        let (p, d) = parse("a.md", "---\npublish: false\nweight: heavy\n---\n");
        assert!(!p.is_built(true));
        assert!(d.is_empty(), "{d:?}");
        let (p, _) = parse("a.md", "---\npublish: true\ndraft: true\n---\n");
        assert!(p.is_built(true) && !p.is_built(false));
        let (p, _) = parse("a.md", "x\n");
        assert!(p.is_built(false));
    }

    #[test]
    fn css_classes_keep_only_class_safe_names() {
        let (p, d) = parse(
            "a.md",
            "---\ncssclasses: [wide, 'a b', \"x\\\"y\", wide]\ncssclass: old-one\n---\n",
        );
        assert_eq!(p.cssclasses, ["wide", "a", "b", "old-one"]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(!d[0].is_error());
        assert_eq!(d[0].code, "bad-cssclass");
    }

    #[test]
    fn empty_built_in_fields_are_absent() {
        let (p, d) = parse(
            "a.md",
            "---\ntitle:\ndescription: ''\ndate:\ntags: []\naliases:\n  -\n---\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!((p.title, p.description, p.date), (None, None, None));
        assert!(p.tags.is_empty() && p.aliases.is_empty() && p.names.is_empty());
        // A field Obsidian never leaves empty keeps its check.
        let (_, d) = parse("a.md", "---\nweight:\n---\n");
        assert_eq!(d.len(), 1, "{d:?}");
    }

    #[test]
    fn tags_lose_their_hash_and_repeat_once() {
        let (p, d) = parse("a.md", "---\ntags: [\"#a\", b, A, '#b/c']\ntag: d\n---\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(p.tags, ["a", "b", "b/c", "d"]);
    }

    #[test]
    fn slug_of_dotted_capital_i_is_its_own_slug() {
        // `İ` lowercases to `i` + U+0307 (a combining mark, neither letter nor digit); kept, it made
        // `İstanbul` and its own slug slugify differently.
        assert_eq!(slugify("İstanbul"), "istanbul");
        assert_eq!(slugify(&slugify("İİ")), slugify("İİ"));
    }
}
