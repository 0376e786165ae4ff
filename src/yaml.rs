//! YAML helpers shared by the config and front-matter stages: turning serde_yaml errors into
//! diagnostics, and finding where a key or list item sits in the text.
//!
//! serde_yaml gives positions for syntax errors but not for values, so [`locate`] walks the text by
//! indentation to find a path such as `kinds > tool > fields > owner` or `tools > 2`. It understands block
//! mappings and lists and one-line flow mappings and lists, which covers hand-written front matter; when
//! it cannot find the exact spot it falls back to the nearest parent it found.

use std::ops::Range;

use crate::diagnostics::{offset_of, Diagnostic, Source};

/// Turn a serde_yaml error into a diagnostic. `offset` is where the YAML starts inside `source`
/// (front matter sits after the opening `---` line); `what` names the document in the message.
pub fn error_diagnostic(
    err: &serde_yaml::Error,
    source: &Source,
    offset: usize,
    what: &str,
) -> Diagnostic {
    let full = err.to_string();
    // serde_yaml appends " at line L column C"; the position is shown separately.
    let message = match full.find(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full.clone(),
    };
    let message = message.trim_start_matches(": ").to_string();
    let yaml_text = &source.text[offset.min(source.text.len())..];
    let range = match err.location() {
        Some(loc) => {
            let start = offset + offset_of(yaml_text, loc.line(), loc.column());
            start..token_end(&source.text, start)
        }
        None => offset..offset,
    };
    let help = help_for(&message, yaml_text);
    let mut d = Diagnostic::error("yaml", format!("{what}: {message}")).at(source, range);
    if let Some(h) = help {
        d = d.with_help(h);
    }
    d
}

fn token_end(text: &str, start: usize) -> usize {
    let rest = &text[start.min(text.len())..];
    let len = rest.find([':', '\n', ',', ']', '}']).unwrap_or(rest.len());
    start + len.max(1).min(rest.len())
}

/// A hint for a serde_yaml error message (`yaml_text` is the document, to spot tabs), if there is one.
pub fn help_for(message: &str, yaml_text: &str) -> Option<String> {
    if let Some(rest) = message
        .split("unknown field `")
        .nth(1)
        .or_else(|| message.split("unknown variant `").nth(1))
    {
        let name = rest.split('`').next()?;
        let expected: Vec<&str> = rest
            .split("expected ")
            .nth(1)?
            .split('`')
            .skip(1)
            .step_by(2)
            .collect();
        return Some(
            match crate::suggest::closest(name, expected.iter().copied()) {
                Some(s) if message.contains("unknown variant") => {
                    format!("did you mean `{s}`? Allowed: {}", expected.join(", "))
                }
                Some(s) => format!(
                    "did you mean `{s}`? Allowed keys here: {}",
                    expected.join(", ")
                ),
                None if message.contains("unknown variant") => {
                    format!("use one of: {}", expected.join(", "))
                }
                None => format!(
                    "remove `{name}`; allowed keys here: {}",
                    expected.join(", ")
                ),
            },
        );
    }
    if message.contains("expected `allow` or `escape`") {
        return Some(
            "`allow` passes HTML in Markdown through (trusted authors); `escape` shows it as text"
                .into(),
        );
    }
    if message.contains("missing field") {
        return Some("add the missing key".into());
    }
    if message.contains("tab character")
        || (message.contains("cannot start any token") && yaml_text.contains('\t'))
    {
        return Some("YAML does not allow tabs for indentation: indent with spaces".into());
    }
    if message.contains("did not find expected")
        || message.contains("while parsing")
        || message.contains("mapping values are not allowed")
    {
        return Some(
            "check indentation, and quote values that contain `: `, `#`, `[` or `{`".into(),
        );
    }
    if message.contains("invalid type") {
        return Some(
            "check the value's type: quote text, write lists as [a, b], numbers without quotes"
                .into(),
        );
    }
    None
}

/// One segment of a path into a YAML document.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

struct Line<'a> {
    start: usize,
    indent: usize,
    text: &'a str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let t = raw.trim_end_matches(['\n', '\r']);
        let content = t.trim_start_matches(' ');
        if !content.is_empty() && !content.starts_with('#') {
            out.push(Line {
                start,
                indent: t.len() - content.len(),
                text: content,
            });
        }
        start += raw.len();
    }
    out
}

/// Where a value sits: the byte range of the value at `path` if it has one on its line, else of its key.
/// Path segments that parse as numbers are list indexes. Falls back to the deepest parent found, then to
/// the start of the text.
pub fn locate(text: &str, path: &[&str]) -> Range<usize> {
    locate_inner(text, path, false)
}

/// Like [`locate`], but the range of the key itself (for "unknown field" errors).
pub fn locate_key(text: &str, path: &[&str]) -> Range<usize> {
    locate_inner(text, path, true)
}

fn locate_inner(text: &str, path: &[&str], want_key: bool) -> Range<usize> {
    let segs: Vec<Seg> = path
        .iter()
        .map(|s| match s.parse::<usize>() {
            Ok(i) => Seg::Index(i),
            Err(_) => Seg::Key(s),
        })
        .collect();
    let mut region: Vec<Line> = lines(text);
    let mut found: Range<usize> = 0..0;
    // The value text after `key:` or `- ` on the line found so far, with its offset.
    let mut inline: Option<(usize, &str)> = None;
    for (n, seg) in segs.iter().enumerate() {
        let last = n + 1 == segs.len();
        if let Some((at, value)) = inline.filter(|(_, v)| v.starts_with(['[', '{'])) {
            let Some((r_key, r_val)) = flow_item(value, *seg) else {
                return found;
            };
            let pick = if want_key && last {
                r_key
            } else {
                r_val.clone()
            };
            found = at + pick.start..at + pick.end;
            inline = Some((at + r_val.start, &value[r_val]));
            region.clear();
            continue;
        }
        let Some(indent) = region.first().map(|l| l.indent) else {
            return found;
        };
        let mut count = 0;
        let hit = region
            .iter()
            .take_while(|l| l.indent >= indent)
            .position(|line| {
                line.indent == indent
                    && match seg {
                        Seg::Key(k) => {
                            let bare = line.text.trim_start_matches(['"', '\'']);
                            bare.starts_with(k)
                                && bare[k.len()..]
                                    .trim_start_matches(['"', '\''])
                                    .trim_start()
                                    .starts_with(':')
                        }
                        Seg::Index(want) => {
                            let item = line.text == "-" || line.text.starts_with("- ");
                            let is = item && count == *want;
                            count += usize::from(item);
                            is
                        }
                    }
            });
        let Some(i) = hit else { return found };
        let line = &region[i];
        let rest_at = match seg {
            Seg::Key(_) => line.text.find(':').map_or(0, |c| c + 1),
            Seg::Index(_) => 1,
        };
        let rest = &line.text[rest_at..];
        let value = strip_comment(rest.trim_start());
        let value_col = line.indent + rest_at + (rest.len() - rest.trim_start().len());
        let value_at = line.start + value_col;
        let key_range =
            line.start + line.indent..line.start + line.indent + rest_at.saturating_sub(1).max(1);
        found = if (want_key && last) || value.is_empty() {
            key_range
        } else {
            value_at..value_at + value.len()
        };
        inline = Some((value_at, value));
        let end = region[i + 1..]
            .iter()
            .position(|l| l.indent <= indent)
            .map_or(region.len(), |p| i + 1 + p);
        let mut children: Vec<Line> = Vec::new();
        // `- page: a` opens a block mapping whose first key sits on the item's own line.
        if matches!(seg, Seg::Index(_))
            && !value.is_empty()
            && !value.starts_with(['[', '{'])
            && value.contains(':')
        {
            children.push(Line {
                start: line.start,
                indent: value_col,
                text: value,
            });
            inline = None;
        }
        children.extend(region.drain(i + 1..end));
        region = children;
    }
    found
}

fn strip_comment(v: &str) -> &str {
    let v = v.trim_end();
    if v.starts_with('#') {
        return "";
    }
    match v.find(" #") {
        Some(i) if !v.starts_with(['"', '\'']) => v[..i].trim_end(),
        _ => v,
    }
}

/// Inside a one-line flow value, the key and value ranges of a mapping key or the range of a list item.
fn flow_item(value: &str, seg: Seg) -> Option<(Range<usize>, Range<usize>)> {
    let open = value.chars().next()?;
    let inner_start = 1;
    let close = match open {
        '{' => '}',
        '[' => ']',
        _ => return None,
    };
    let inner_end = value.rfind(close).unwrap_or(value.len());
    if inner_end < inner_start {
        return None;
    }
    // Split at top-level commas.
    let mut items = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, inner_start, None);
    for (i, c) in value[inner_start..inner_end].char_indices() {
        let i = i + inner_start;
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                items.push(start..i);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(start..inner_end);
    let trim = |r: Range<usize>| {
        let s = &value[r.clone()];
        let lead = s.len() - s.trim_start().len();
        r.start + lead..r.start + lead + s.trim().len()
    };
    match (open, seg) {
        ('[', Seg::Index(i)) => items.get(i).cloned().map(trim).map(|r| (r.clone(), r)),
        ('{', Seg::Key(k)) => items.into_iter().map(trim).find_map(|r| {
            let s = &value[r.clone()];
            let colon = s.find(':')?;
            (s[..colon].trim().trim_matches(['"', '\'']) == k).then(|| {
                let after = &s[colon + 1..];
                let lead = after.len() - after.trim_start().len();
                (r.start..r.start + colon, r.start + colon + 1 + lead..r.end)
            })
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<'a>(text: &'a str, path: &[&str]) -> &'a str {
        &text[locate(text, path)]
    }

    #[test]
    fn block_mapping_and_flow_mapping() {
        let t = "title: T\nkinds:\n  tool:\n    folder: tools\n    fields:\n      owner: { type: ref, to: rol }\n";
        assert_eq!(at(t, &["title"]), "T");
        assert_eq!(at(t, &["kinds", "tool", "folder"]), "tools");
        assert_eq!(at(t, &["kinds", "tool", "fields", "owner", "to"]), "rol");
        assert_eq!(
            &t[locate_key(t, &["kinds", "tool", "fields", "owner"])],
            "owner"
        );
    }

    #[test]
    fn lists_block_and_flow() {
        let t = "tools: [doudian, qianchaun]\nroles:\n  - anchor\n  - opertor # typo\nsteps:\n  - page: a\n    why: because\n  - page: b\n    why: so\n";
        assert_eq!(at(t, &["tools", "1"]), "qianchaun");
        assert_eq!(at(t, &["roles", "1"]), "opertor");
        assert_eq!(at(t, &["steps", "1", "page"]), "b");
        assert_eq!(at(t, &["steps", "1", "why"]), "so");
        assert_eq!(at(t, &["steps", "0", "why"]), "because");
    }

    #[test]
    fn a_value_that_is_only_a_comment_points_at_the_key() {
        let t = "title: T\ntopics:      # fill me in\n";
        assert_eq!(at(t, &["topics"]), "topics");
    }

    #[test]
    fn missing_paths_fall_back_to_parent() {
        let t = "a:\n  b: 1\n";
        assert_eq!(at(t, &["a", "zz"]), "a");
        assert_eq!(locate(t, &["nope"]), 0..0);
    }
}
