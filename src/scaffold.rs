//! Authoring commands: `fieldbook init DIR` writes a small site that builds and checks clean, and
//! `fieldbook new KIND "Title"` writes a page whose front matter lists its kind's fields to fill in.
//!
//! The text of both is made by pure functions ([`starter_site`], [`page_text`]); [`init`] and
//! [`new_page`] only add the file-system checks (never overwrite, never write into a non-empty folder).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::build::load_config;
use crate::config::SiteConfig;
use crate::content::slugify;
use crate::diagnostics::Diagnostic;
use crate::schema::{FieldDef, FieldType};

/// Create a new site in `dir`, which must not exist yet or be empty. Returns the files written,
/// relative to `dir`.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let shown = dir.display().to_string();
    if dir.exists() {
        if !dir.is_dir() {
            return Err(Diagnostic::error(
                "init-not-a-folder",
                format!("{shown} exists and is not a folder"),
            )
            .with_help("pass the path of a new folder, e.g. `fieldbook init my-kb`"));
        }
        let mut entries = std::fs::read_dir(dir).map_err(|e| io_error(&shown, &e))?;
        if entries.next().is_some() {
            return Err(Diagnostic::error(
                "init-not-empty",
                format!("{shown} is not empty; refusing to write a new site into it"),
            )
            .with_help("pass the path of a new or empty folder, e.g. `fieldbook init my-kb`"));
        }
    }
    let name = dir
        .canonicalize()
        .unwrap_or_else(|_| dir.to_path_buf())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let files = starter_site(&site_title(&name));
    let mut written = Vec::with_capacity(files.len());
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(&shown, &e))?;
        }
        std::fs::write(&path, text).map_err(|e| io_error(&path.display().to_string(), &e))?;
        written.push(PathBuf::from(rel));
    }
    Ok(written)
}

/// Create a page of `kind` titled `title` in the site at `root`. Returns its path relative to `root`.
/// `kind` is a kind's name (`playbook`) or its folder (`playbooks`).
pub fn new_page(root: &Path, kind: &str, title: &str) -> Result<PathBuf, Vec<Diagnostic>> {
    let config = load_config(root, None)?;
    let (rel, text) = page_text(&config, kind, title).map_err(|d| vec![d])?;
    let path = root.join(&rel);
    if path.exists() {
        return Err(vec![Diagnostic::error(
            "new-exists",
            format!("{} already exists; not overwriting it", rel.display()),
        )
        .in_file(&rel)
        .with_help("edit the existing page, or choose another title")]);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| vec![io_error(&parent.display().to_string(), &e)])?;
    }
    // `create_new` refuses a file that appeared since the check above.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| vec![io_error(&rel.display().to_string(), &e)])?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .map_err(|e| vec![io_error(&rel.display().to_string(), &e)])?;
    Ok(rel)
}

fn io_error(shown: &str, e: &std::io::Error) -> Diagnostic {
    Diagnostic::setup("io", format!("cannot write {shown}: {e}"))
        .with_help("check that the folder is writable")
}

/// The file of a new page (relative to the site root) and its text: front matter with the title and
/// the kind's fields, required ones first and uncommented so that `check` asks for them, optional ones
/// commented out; each with its description and type as a comment.
pub fn page_text(
    config: &SiteConfig,
    kind: &str,
    title: &str,
) -> Result<(PathBuf, String), Diagnostic> {
    let name = config
        .kinds
        .iter()
        .find(|(name, k)| *name == kind || k.folder.trim_matches('/') == kind.trim_matches('/'))
        .map(|(name, _)| name.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = config.kinds.keys().map(String::as_str).collect();
            let help = match crate::suggest::closest(kind, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? Kinds: {}", names.join(", ")),
                None if names.is_empty() => {
                    "site.yaml declares no kinds; add one under `kinds:`".to_string()
                }
                None => format!("kinds of this site: {}", names.join(", ")),
            };
            Diagnostic::error("new-unknown-kind", format!("unknown kind `{kind}`"))
                .in_file("site.yaml")
                .with_help(help)
        })?;
    let kind_config = &config.kinds[&name];
    let title = title.trim();
    let slug = slugify(title);
    if slug.is_empty() {
        return Err(Diagnostic::error(
            "new-title",
            format!("the title `{title}` has no letters or digits to name the file after"),
        )
        .with_help("give the page a title with words in it, e.g. \"Launch day checklist\""));
    }
    let rel = Path::new("content")
        .join(kind_config.folder.trim_matches('/'))
        .join(format!("{slug}.md"));

    let singular = config.singular(&name);
    let mut fm = String::from("---\n");
    let _ = writeln!(fm, "title: {}", yaml_string(title));
    fm.push_str("# description: \"\"   # one line shown under the title and in lists\n");
    let (required, optional): (Vec<_>, Vec<_>) = kind_config
        .fields
        .iter()
        .partition(|(_, def)| def.required && def.default.is_none());
    if !required.is_empty() {
        let _ = writeln!(
            fm,
            "\n# Required fields of a {singular}: fill them in (`fieldbook check` says what is missing)."
        );
        for (field, def) in &required {
            field_lines(&mut fm, field, def, true);
        }
    }
    if !optional.is_empty() {
        fm.push_str("\n# Optional fields: uncomment the ones you need.\n");
        for (field, def) in &optional {
            field_lines(&mut fm, field, def, false);
        }
    }
    fm.push_str("---\n\n");
    fm.push_str(
        "Start with a sentence that says what this page is for: it becomes the page's summary in lists.\n",
    );
    Ok((rel, fm))
}

/// Width the `key: value` part is padded to, so comments line up.
const COMMENT_COLUMN: usize = 24;

fn field_lines(out: &mut String, name: &str, def: &FieldDef, required: bool) {
    let prefix = if required { "" } else { "# " };
    let value = if required {
        String::new()
    } else {
        example_value(def)
    };
    let head = format!("{prefix}{name}: {value}");
    let _ = writeln!(
        out,
        "{head:<width$}  # {}",
        describe(def),
        width = COMMENT_COLUMN
    );
    // A list of objects gets one example item, so its shape is visible.
    if let Some(item) = def
        .of
        .as_deref()
        .filter(|_| def.ty == FieldType::List)
        .filter(|o| o.ty == FieldType::Object)
    {
        for (n, (sub, sub_def)) in item.fields.iter().enumerate() {
            let lead = if n == 0 { "  - " } else { "    " };
            let head = format!("{prefix}{lead}{sub}:");
            let _ = writeln!(
                out,
                "{head:<width$}  # {}",
                describe(sub_def),
                width = COMMENT_COLUMN
            );
        }
    }
}

/// "Description (type)", with the default when there is one.
fn describe(def: &FieldDef) -> String {
    let mut s = if def.description.is_empty() {
        def.type_name()
    } else {
        format!("{} ({})", def.description, def.type_name())
    };
    if let Some(d) = &def.default {
        if let Some(text) = yaml_inline(d) {
            let _ = write!(s, "; default {text}");
        }
    }
    s
}

/// A placeholder an author can uncomment and edit.
fn example_value(def: &FieldDef) -> String {
    if let Some(text) = def.default.as_ref().and_then(yaml_inline) {
        return text;
    }
    match def.ty {
        FieldType::List | FieldType::Refs => {
            if def.of.as_deref().is_some_and(|o| o.ty == FieldType::Object) {
                String::new()
            } else {
                "[]".into()
            }
        }
        FieldType::String | FieldType::Text | FieldType::Ref => "\"\"".into(),
        FieldType::Int | FieldType::Number => "0".into(),
        FieldType::Bool => "false".into(),
        FieldType::Date => "YYYY-MM-DD".into(),
        FieldType::Url => "https://".into(),
        FieldType::Enum => def.values.first().cloned().unwrap_or_default(),
        FieldType::Object => "{}".into(),
    }
}

/// A YAML value on one line (flow style), or `None` if it does not fit on one.
fn yaml_inline(v: &serde_yaml::Value) -> Option<String> {
    let json = crate::schema::yaml_to_json(v);
    match json {
        serde_json::Value::String(s) => Some(yaml_string(&s)),
        other => serde_json::to_string(&other).ok(),
    }
}

/// A string as YAML: plain when that is unambiguous, else double-quoted (JSON escapes are valid YAML).
fn yaml_string(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '/'))
        && !s.starts_with([' ', '-', '.'])
        && !s.ends_with(' ')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~"
        )
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
    }
}

/// A site title from a folder name: `team-handbook` -> `Team Handbook`.
fn site_title(folder: &str) -> String {
    let words: Vec<String> = folder
        .split(['-', '_', ' ', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    if words.is_empty() {
        "My Field Book".into()
    } else {
        words.join(" ")
    }
}

/// The files of a new site: `site.yaml` with two kinds (topics, and guides that put them into
/// practice), a home page, two pages of each kind, and a `.gitignore` for the output.
pub fn starter_site(title: &str) -> Vec<(&'static str, String)> {
    let site_yaml = format!(
        r#"# The site and the kinds of page it has. `fieldbook check` validates every page against this file.
title: {title}
description: What this knowledge base is for, in one or two sentences.
base_url: /             # or /kb/ when served under a sub-path
theme: default          # built into fieldbook: nothing to copy; override templates in templates/
# edit_url: https://git.example.com/team/kb/edit/main/{{path}}   # adds "Edit this page" links

kinds:
  topic:
    folder: topics
    title: Topics
    singular: Topic
    description: The ideas and terms the team shares.
    fields:
      owner: {{ type: string, description: "Who keeps this page up to date" }}
      related: {{ type: refs, to: topic, description: "Topics to read next" }}

  guide:
    folder: guides
    title: Guides
    singular: Guide
    description: Step-by-step procedures with checklists.
    index: {{ group_by: level }}
    fields:
      topics: {{ type: refs, to: topic, required: true, description: "Topics this guide puts into practice" }}
      level:
        type: enum
        values: [beginner, intermediate, advanced]
        default: beginner
        description: "How much experience it assumes"
      time: {{ type: string, description: "How long it takes, e.g. 30 minutes" }}

views:
  - matrix:
      slug: guides-by-topic
      title: Guides by topic
      description: Which guides put each topic into practice.
      rows: topic
      cols: guide
"#,
        title = yaml_string(title)
    );
    vec![
        (".gitignore", "/public\n".to_string()),
        ("site.yaml", site_yaml),
        (
            "content/_index.md",
            format!(
                r#"---
title: {title}
description: Start here. This page is content/_index.md; edit it to say what the site is for and who it helps.
---

This knowledge base is built with fieldbook from the Markdown files in `content/`. Every page has a
kind, declared in `site.yaml`, and the fields that kind asks for. `fieldbook check` catches a missing
field or a broken link before a reader does.

- [[pages-and-links]] explains how pages link to each other.
- [[add-a-page]] walks through writing your first page.
"#,
                title = yaml_string(title)
            ),
        ),
        (
            "content/topics/pages-and-links.md",
            r#"---
title: Pages and links
owner: Docs team
related: [kinds-and-fields]
---

A page is a Markdown file with front matter between `---` lines. Its kind comes from its folder: this
page is in `content/topics/`, so it is a topic.

## Linking

Link to another page by its file name in double brackets, like [[kinds-and-fields]], or with your own
words, like [[add-a-page|the first guide]]. Reference fields such as `related:` link pages too. Every page
lists the pages that link to it at the bottom.

> [!TIP]
> A link to a page that does not exist is an error in `fieldbook check`, with the closest names as a hint.
"#
            .to_string(),
        ),
        (
            "content/topics/kinds-and-fields.md",
            r#"---
title: Kinds and fields
owner: Docs team
related: [pages-and-links]
---

`site.yaml` declares the kinds of page this site has (here: topics and guides) and the fields each kind
carries. A field has a type, such as `string`, `enum`, `date` or `refs` (links to other pages), and may be
required.

| Field type | Example |
|---|---|
| `string` | `owner: Docs team` |
| `enum` | `level: beginner` |
| `refs` | `topics: [pages-and-links]` |

Run `fieldbook new guide "My guide"` to start a page with its kind's fields listed, each with its
description.
"#
            .to_string(),
        ),
        (
            "content/guides/add-a-page.md",
            r#"---
title: Add a page
topics: [pages-and-links, kinds-and-fields]
level: beginner
time: 10 minutes
---

Write a new guide and publish it. Tick the boxes as you go: the site remembers them in your browser.

## Steps

- [ ] Run `fieldbook new guide "Title of the guide"` in the site's folder.
- [ ] Open the new file in `content/guides/` and fill in the required fields.
- [ ] Write the steps as a checklist, like this one.
- [ ] Run `fieldbook check` and fix what it reports.
- [ ] Run `fieldbook build` and open `public/index.html` through a web server.

> [!NOTE]
> Next, read [[publish-the-site]].
"#
            .to_string(),
        ),
        (
            "content/guides/publish-the-site.md",
            r#"---
title: Publish the site
topics: [pages-and-links]
level: intermediate
time: 30 minutes
---

The built site in `public/` is plain files: any web server or static host can serve it.

## Steps

- [ ] Run `fieldbook build`. It replaces `public/` only when everything succeeded.
- [ ] Copy `public/` to your web server, or let CI publish it.
- [ ] Set `base_url` in `site.yaml` if the site lives under a sub-path such as `/kb/`.

```sh
fieldbook build --base-url /kb/
```
"#
            .to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Source;

    fn config(yaml: &str) -> SiteConfig {
        SiteConfig::parse(&Source::new("site.yaml", yaml.to_string())).expect("valid config")
    }

    #[test]
    fn starter_site_config_parses() {
        for (rel, text) in starter_site("A \"quoted\": title") {
            if rel == "site.yaml" {
                let c = config(&text);
                assert_eq!(c.title, "A \"quoted\": title");
                assert_eq!(c.kinds.len(), 2);
            }
        }
    }

    #[test]
    fn required_fields_come_first_with_descriptions() {
        let c = config(
            "title: T\nkinds:\n  play:\n    folder: plays/\n    title: Plays\n    fields:\n      tools: { type: refs, description: Tools it uses }\n      owner: { type: string, required: true, description: Who runs it }\n      level: { type: enum, values: [a, b], default: b, required: true }\n      steps: { type: list, of: { type: object, fields: { page: { type: ref, required: true, description: The page } } } }\n",
        );
        let (rel, text) = page_text(&c, "play", "Launch: day one!").expect("page");
        assert_eq!(rel, Path::new("content/plays/launch-day-one.md"));
        assert!(
            text.starts_with("---\ntitle: \"Launch: day one!\"\n"),
            "{text}"
        );
        let owner = text.find("\nowner: ").expect("owner uncommented");
        let tools = text.find("\n# tools: []").expect("tools commented");
        assert!(owner < tools, "{text}");
        assert!(text.contains("# Who runs it (string)"), "{text}");
        assert!(
            text.contains("# level: b"),
            "a default makes a field optional: {text}"
        );
        assert!(text.contains("#   - page:"), "{text}");
        // The result is valid YAML front matter.
        let yaml = &text[4..text.rfind("---").expect("end")];
        assert!(
            serde_yaml::from_str::<serde_yaml::Value>(yaml).is_ok(),
            "{yaml}"
        );
    }

    #[test]
    fn kinds_are_found_by_folder_and_typos_get_a_hint() {
        let c = config("title: T\nkinds:\n  tool: { folder: tools, title: Tools }\n");
        assert!(page_text(&c, "tools", "Doudian").is_ok());
        let err = page_text(&c, "tol", "Doudian").unwrap_err();
        assert!(err.help.as_deref().unwrap_or("").contains("`tool`"));
        assert!(page_text(&c, "tool", "!!!").is_err());
    }

    #[test]
    fn strings_are_quoted_only_when_needed() {
        assert_eq!(yaml_string("Launch day"), "Launch day");
        assert_eq!(yaml_string("yes"), "\"yes\"");
        assert_eq!(yaml_string("2024"), "\"2024\"");
        assert_eq!(yaml_string("a: b"), "\"a: b\"");
        assert_eq!(yaml_string("抖店 后台"), "抖店 后台");
        assert_eq!(site_title("team-handbook"), "Team Handbook");
    }
}
