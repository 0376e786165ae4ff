//! Stage 6: templates. Loads the theme's templates once (the default theme is embedded in the binary;
//! a site may select its own under `themes/<name>/`), lets the site's `templates/` override any of them,
//! and renders the context structs of [`crate::views`] with tera (autoescape on). [`guard`] keeps
//! the templates from reading the machine or crashing the build: checked once as they load, and a
//! byte counter and a bounded `range()` while they render.

mod guard;

use std::path::Path;

use include_dir::{include_dir, Dir};
pub use tera::Context;
use tera::Tera;

use crate::diagnostics::{Diagnostic, Source};

/// The default theme, built into the binary.
pub static DEFAULT_THEME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/themes/default");

/// A file of a theme: its path under the theme folder and its bytes.
pub struct ThemeFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The theme's files under `sub` (`templates` or `static`): from the site's `themes/<name>/` if it
/// exists, else the embedded default theme.
pub fn theme_files(root: &Path, theme: &str, sub: &str) -> Result<Vec<ThemeFile>, Vec<Diagnostic>> {
    let on_disk = root.join("themes").join(theme);
    if on_disk.is_dir() {
        return read_tree(root, &on_disk.join(sub), &format!("themes/{theme}/{sub}"));
    }
    if theme != "default" {
        return Err(vec![Diagnostic::error(
            "unknown-theme",
            format!("theme `{theme}` not found"),
        )
        .in_file("site.yaml")
        .with_help(format!(
            "create themes/{theme}/ with templates/ and static/, or set `theme: default`"
        ))]);
    }
    let mut out = Vec::new();
    if let Some(dir) = DEFAULT_THEME.get_dir(sub) {
        collect_embedded(dir, sub, &mut out);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn collect_embedded(dir: &Dir<'static>, strip: &str, out: &mut Vec<ThemeFile>) {
    for f in dir.files() {
        let p = f.path().to_string_lossy().replace('\\', "/");
        let rel = p
            .strip_prefix(strip)
            .unwrap_or(&p)
            .trim_start_matches('/')
            .to_string();
        out.push(ThemeFile {
            path: rel,
            bytes: f.contents().to_vec(),
        });
    }
    for d in dir.dirs() {
        collect_embedded(d, strip, out);
    }
}

/// Every file under `dir` (a folder of the site at `root`), relative to it, sorted, with its bytes.
/// A missing folder is empty.
pub fn read_tree(root: &Path, dir: &Path, shown: &str) -> Result<Vec<ThemeFile>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut out = Vec::new();
    for (rel, path) in list_tree(root, dir, shown)? {
        match std::fs::read(&path) {
            Ok(bytes) => out.push(ThemeFile { path: rel, bytes }),
            Err(e) => diags.push(
                Diagnostic::setup("io", format!("cannot read: {e}"))
                    .in_file(format!("{shown}/{rel}"))
                    .with_help("check the file's permissions"),
            ),
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

/// Every file under `dir` (a folder of the site at `root`) as (path relative to it with `/`
/// separators, path on disk), sorted, by the rules of [`crate::sitefs`]: hidden files and editors'
/// leftovers are left out, and a link that leads out of the site is an error. A missing folder is
/// empty.
pub fn list_tree(
    root: &Path,
    dir: &Path,
    shown: &str,
) -> Result<Vec<(String, std::path::PathBuf)>, Vec<Diagnostic>> {
    let walked = crate::sitefs::walk(root, dir, shown);
    if !walked.diags.is_empty() {
        return Err(walked.diags);
    }
    Ok(walked.files.into_iter().map(|f| (f.rel, f.path)).collect())
}

/// The loaded templates.
pub struct Templates {
    tera: Tera,
    /// (name, path as shown in errors, text) of every template, for locating render errors.
    sources: Vec<(String, String, String)>,
}

impl Templates {
    /// Load the theme's templates, then the site's `templates/` over them.
    pub fn load(root: &Path, theme: &str) -> Result<Templates, Vec<Diagnostic>> {
        let mut files: Vec<(String, String, String)> = Vec::new(); // (name, shown path, text)
        let mut diags = Vec::new();
        let theme_shown = if root.join("themes").join(theme).is_dir() {
            format!("themes/{theme}/templates")
        } else {
            format!("(built-in theme `{theme}`)")
        };
        let mut add =
            |list: Vec<ThemeFile>, shown: &str, files: &mut Vec<(String, String, String)>| {
                for f in list {
                    match String::from_utf8(f.bytes) {
                        Ok(text) => {
                            files.retain(|(n, _, _)| *n != f.path);
                            files.push((f.path.clone(), format!("{shown}/{}", f.path), text));
                        }
                        Err(_) => diags.push(
                            Diagnostic::error("template-encoding", "template is not valid UTF-8")
                                .in_file(format!("{shown}/{}", f.path)),
                        ),
                    }
                }
            };
        match theme_files(root, theme, "templates") {
            Ok(list) => add(list, &theme_shown, &mut files),
            Err(d) => return Err(d),
        }
        match read_tree(root, &root.join("templates"), "templates") {
            Ok(list) => add(list, "templates", &mut files),
            Err(d) => return Err(d),
        }
        diags.extend(
            files
                .iter()
                .filter_map(|(_, shown, text)| guard::preflight(shown, text)),
        );
        if diags.is_empty() {
            diags.extend(guard::extends_chains(&files));
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html", ".xml"]);
        tera.set_escape_fn(escape_html);
        guard::install(&mut tera);
        let shown_of = |name: &str| {
            files
                .iter()
                .find(|f| f.0 == name)
                .map(|f| f.1.clone())
                .unwrap_or_else(|| name.to_string())
        };
        if let Err(e) =
            tera.add_raw_templates(files.iter().map(|(n, _, t)| (n.as_str(), t.as_str())))
        {
            let name = error_template_name(&e).unwrap_or_default();
            let located = files
                .iter()
                .find(|f| f.0 == name)
                .and_then(|(_, shown, text)| locate_parse_error(&e, shown, text));
            return Err(vec![
                located.unwrap_or_else(|| template_error(&shown_of(&name), &e))
            ]);
        }
        let texts: Vec<guard::Text> = files
            .iter()
            .map(|(name, shown, text)| guard::Text { name, shown, text })
            .collect();
        let problems = guard::check(&tera, &texts);
        drop(texts);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Templates {
            tera,
            sources: files,
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.tera.get_template_names().any(|n| n == name)
    }

    /// Render a template. Build the context from [`crate::views`] structs with `Context::insert`.
    /// The output is capped at [`guard::MAX_OUTPUT`] bytes.
    pub fn render(&self, name: &str, ctx: &Context) -> Result<String, Diagnostic> {
        guard::start_render();
        let mut out = guard::CappedOutput::new();
        match self.tera.render_to(name, ctx, &mut out) {
            Ok(()) => String::from_utf8(out.bytes).map_err(|_| {
                Diagnostic::error("template", "template error: the output is not valid UTF-8")
                    .in_file(self.shown(name))
            }),
            Err(_) if out.over => Err(guard::output_too_large(&self.shown(name), name)),
            Err(e) => Err(self.render_error(name, &e)),
        }
    }

    /// The path of a template as errors show it.
    fn shown(&self, name: &str) -> String {
        self.sources
            .iter()
            .find(|s| s.0 == name)
            .map_or_else(|| format!("templates/{name}"), |s| s.1.clone())
    }

    /// A render error on the line of the template that caused it. tera names the template and the
    /// variable, filter, function or test at fault, but not the line: find the name in the template's
    /// text (the one being rendered, or the one tera says it was in, e.g. a parent or a macro file).
    fn render_error(&self, name: &str, e: &tera::Error) -> Diagnostic {
        let msg = error_chain(e);
        let in_template = msg
            .rsplit("while rendering '")
            .next()
            .filter(|_| msg.contains("while rendering '"))
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or(name);
        let Some((_, shown, text)) = self
            .sources
            .iter()
            .find(|s| s.0 == in_template)
            .or_else(|| self.sources.iter().find(|s| s.0 == name))
        else {
            return template_error(&format!("templates/{name}"), e);
        };
        let found = culprit(&msg).and_then(|(needle, pattern)| find_use(text, &needle, pattern));
        let d = Diagnostic::error("template", format!("template error: {}", one_line(&msg)))
            .with_help(render_help(&msg));
        match found {
            Some(range) => d.at(&Source::new(shown.as_str(), text.as_str()), range),
            None => d.in_file(shown.as_str()),
        }
    }
}

/// How a culprit appears in template text.
#[derive(Clone, Copy)]
enum Use {
    /// `{{ name }}`, `name.field`: the bare name.
    Variable,
    /// `| name`.
    Filter,
    /// `name(`.
    Function,
    /// `is name`.
    Test,
}

/// What a render error is about, from tera's message.
fn culprit(msg: &str) -> Option<(String, Use)> {
    let quoted = |after: &str, open: char, close: char| {
        msg.split(after)
            .nth(1)
            .and_then(|r| r.strip_prefix(open))
            .and_then(|r| r.split(close).next())
            .map(str::to_string)
    };
    if let Some(f) = quoted("Filter ", '\'', '\'') {
        return Some((f, Use::Filter));
    }
    if let Some(f) = quoted("Function call ", '\'', '\'') {
        return Some((f, Use::Function));
    }
    if let Some(f) = quoted("Function ", '\'', '\'') {
        return Some((f, Use::Function));
    }
    if let Some(t) = quoted("Test ", '\'', '\'') {
        return Some((t, Use::Test));
    }
    if let Some(v) = quoted("Variable ", '`', '`') {
        return Some((v, Use::Variable));
    }
    // Anything else that names a value in backticks (a loop over a non-list, a bad operand).
    let v = msg.split('`').nth(1)?;
    (!v.is_empty()).then(|| (v.to_string(), Use::Variable))
}

/// The byte range of the first use of `needle` inside a `{{ }}` or `{% %}` tag of `text`.
fn find_use(text: &str, needle: &str, how: Use) -> Option<std::ops::Range<usize>> {
    let mut at = 0;
    while let Some(open) = text[at..].find(['{']).map(|i| at + i) {
        let kind = text[open + 1..].chars().next();
        if !matches!(kind, Some('{') | Some('%')) {
            at = open + 1;
            continue;
        }
        let close_tag = if kind == Some('{') { "}}" } else { "%}" };
        let end = text[open..]
            .find(close_tag)
            .map_or(text.len(), |i| open + i);
        let tag = &text[open..end];
        let mut from = 0;
        while let Some(i) = tag[from..].find(needle).map(|i| from + i) {
            let before = tag[..i].trim_end();
            let next = tag[i + needle.len()..].chars().next();
            let word_start = !tag[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            let word_end = !next.is_some_and(|c| c.is_alphanumeric() || c == '_');
            let fits = match how {
                Use::Variable => word_start && word_end,
                Use::Filter => before.ends_with('|') && word_end,
                Use::Function => {
                    word_start && tag[i + needle.len()..].trim_start().starts_with('(')
                }
                Use::Test => before.ends_with(" is") || before.ends_with(" not"),
            };
            if fits {
                return Some(open + i..open + i + needle.len());
            }
            from = i + needle.len();
        }
        at = end.max(open + 2);
    }
    None
}

fn render_help(msg: &str) -> String {
    if msg.contains("Filter '") {
        "this filter does not exist in tera; see the filters in tera's documentation".into()
    } else if msg.contains("Function call 'range'") {
        guard::RANGE_HELP.into()
    } else if msg.contains("Variable `") {
        "this variable is not in the template's context; the README lists what each template gets (`site`, `page`, ...); use `| default(value=...)` for optional values".into()
    } else {
        "fix the template; variables available to templates are listed in the README".into()
    }
}

/// A tera parse error (`--> line:col` in its message) on the line of the template.
fn locate_parse_error(e: &tera::Error, shown: &str, text: &str) -> Option<Diagnostic> {
    let msg = error_chain(e);
    let (line, col) = parse_position(&msg)?;
    let start = crate::diagnostics::offset_of(text, line, col);
    let end = (start + 1).min(text.len()).max(start);
    let end = if text.is_char_boundary(end) {
        end
    } else {
        start
    };
    Some(
        Diagnostic::error("template", format!("template error: {}", one_line(&msg)))
            .at(&Source::new(shown, text), start..end)
            .with_help("fix the template's syntax at this point: every `{{` needs its `}}` and every `{%` its `%}`"),
    )
}

/// A tera error and its causes, as one string.
fn error_chain(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `--> 3:19` in a tera parse error.
fn parse_position(msg: &str) -> Option<(usize, usize)> {
    let rest = msg.split("--> ").nth(1)?;
    let mut it = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// HTML escaping for templates: the five characters that matter, and nothing else (tera's default
/// also escapes `/`, which makes every URL unreadable in the output).
fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn error_template_name(e: &tera::Error) -> Option<String> {
    let msg = e.to_string();
    msg.split('\'').nth(1).map(str::to_string)
}

/// A tera error, with its whole chain of causes, as a diagnostic on the template file (when the line
/// cannot be found; see [`Templates::render`] for the usual case).
pub fn template_error(shown: &str, e: &tera::Error) -> Diagnostic {
    let msg = error_chain(e);
    // tera reports parse positions as `--> line:col`; surface them in the location.
    let shown_loc = match parse_position(&msg) {
        Some((l, c)) => format!("{shown}:{l}:{c}"),
        None => shown.to_string(),
    };
    Diagnostic::error("template", format!("template error: {}", one_line(&msg)))
        .in_file(shown_loc)
        .with_help("fix the template; variables available to templates are listed in the README")
}
