//! Obsidian callouts: `> [!type]` with an optional fold marker (`-` closed, `+` open) and an optional
//! title on the same line, as well as GitHub's five `> [!NOTE]` kinds, which pulldown-cmark
//! recognises itself.
//!
//! What this file decides is only the shape: which family a type belongs to (its class, and so its
//! colour in the theme), its default title, and the tags around it. Finding the marker in the event
//! stream and splitting the title off the first paragraph is done in [`super::obsidian`].

use pulldown_cmark::BlockQuoteKind;

/// Every type Obsidian knows, with its aliases, and the family (the class) it is drawn with.
/// GitHub's `important` and `caution` are aliases of `tip` and `warning` in Obsidian, but they have
/// kept their own classes (and colours) here since before Obsidian callouts were read.
const FAMILIES: &[(&str, &[&str])] = &[
    ("note", &[]),
    ("abstract", &["summary", "tldr"]),
    ("info", &[]),
    ("todo", &[]),
    ("tip", &["hint"]),
    ("important", &[]),
    ("success", &["check", "done"]),
    ("question", &["help", "faq"]),
    ("warning", &["attention"]),
    ("caution", &[]),
    ("failure", &["fail", "missing"]),
    ("danger", &["error"]),
    ("bug", &[]),
    ("example", &[]),
    ("quote", &["cite"]),
];

/// The class of a callout type (lowercase): its family, or `note` for a type Obsidian does not know.
pub(super) fn family(kind: &str) -> &'static str {
    FAMILIES
        .iter()
        .find(|(name, aliases)| *name == kind || aliases.contains(&kind))
        .map_or("note", |(name, _)| name)
}

/// The title Obsidian shows when none is written: the type in title case (`tldr` -> `Tldr`).
pub(super) fn default_title(kind: &str) -> String {
    let mut chars = kind.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The `[!type]` marker at the start of a blockquote's first line.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Marker {
    /// The type as written, lowercased.
    pub kind: String,
    /// `Some(false)` for `-` (shown closed), `Some(true)` for `+` (shown open), `None` when it does
    /// not fold.
    pub fold: Option<bool>,
    /// Bytes from the start of the line to where the title starts (spaces after the marker
    /// included).
    pub len: usize,
}

/// Read a callout marker at the start of `line` (the first line of a blockquote's first paragraph):
/// `[!type]`, then `+` or `-` or nothing, then the end of the line or a space and the title.
pub(super) fn marker(line: &str) -> Option<Marker> {
    let line = &line[..line.find(['\n', '\r']).unwrap_or(line.len())];
    let rest = line.strip_prefix("[!")?;
    let close = rest.find(']')?;
    let kind = &rest[..close];
    if kind.is_empty() || kind.contains(char::is_whitespace) {
        return None;
    }
    let mut after = &rest[close + 1..];
    let fold = match after.as_bytes().first() {
        Some(b'-') => Some(false),
        Some(b'+') => Some(true),
        _ => None,
    };
    if fold.is_some() {
        after = &after[1..];
    }
    // Any space, a no-break space too (Obsidian's pattern is JavaScript's `\s`).
    if !after.is_empty() && !after.starts_with(char::is_whitespace) {
        return None;
    }
    let title = after.trim_start_matches(char::is_whitespace);
    Some(Marker {
        kind: kind.to_lowercase(),
        fold,
        len: line.len() - title.len(),
    })
}

/// A callout to write: the tags around it and, when the author wrote none, its title.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Callout {
    /// The type as written, lowercased (`data-callout`).
    pub kind: String,
    pub fold: Option<bool>,
    /// The default title, when the first line has no title of its own.
    pub default_title: Option<String>,
}

impl Callout {
    /// One of GitHub's five kinds, as pulldown-cmark reads them (never with a title).
    pub fn github(kind: BlockQuoteKind) -> Callout {
        let kind = match kind {
            BlockQuoteKind::Note => "note",
            BlockQuoteKind::Tip => "tip",
            BlockQuoteKind::Important => "important",
            BlockQuoteKind::Warning => "warning",
            BlockQuoteKind::Caution => "caution",
        };
        Callout {
            kind: kind.to_string(),
            fold: None,
            default_title: Some(default_title(kind)),
        }
    }

    /// An Obsidian callout from its marker; `titled` when the first line has a title after it.
    pub fn obsidian(marker: &Marker, titled: bool) -> Callout {
        Callout {
            kind: marker.kind.clone(),
            fold: marker.fold,
            default_title: (!titled).then(|| default_title(&marker.kind)),
        }
    }

    /// The opening tag, with the default title when there is one.
    pub fn open(&self) -> String {
        let class = family(&self.kind);
        let data = super::escape_attr(&self.kind);
        let mut out = match self.fold {
            None => format!(
                "<aside class=\"callout callout-{class}\" role=\"note\" data-callout=\"{data}\">"
            ),
            Some(open) => format!(
                "<details class=\"callout callout-{class}\" data-callout=\"{data}\"{}>",
                if open { " open" } else { "" }
            ),
        };
        if let Some(title) = &self.default_title {
            let (o, c) = self.title_tags();
            out.push_str(o);
            out.push_str(&super::escape_html(title));
            out.push_str(c);
        }
        out
    }

    /// The tags around the title: a paragraph in an aside, the summary of a details.
    pub fn title_tags(&self) -> (&'static str, &'static str) {
        match self.fold {
            None => ("<p class=\"callout-title\">", "</p>\n"),
            Some(_) => ("<summary class=\"callout-title\">", "</summary>\n"),
        }
    }

    pub fn close(&self) -> &'static str {
        match self.fold {
            None => "</aside>\n",
            Some(_) => "</details>\n",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_fall_into_their_family_and_unknown_types_are_notes() {
        for (kind, fam) in [
            ("summary", "abstract"),
            ("tldr", "abstract"),
            ("hint", "tip"),
            ("check", "success"),
            ("done", "success"),
            ("help", "question"),
            ("faq", "question"),
            ("attention", "warning"),
            ("fail", "failure"),
            ("missing", "failure"),
            ("error", "danger"),
            ("cite", "quote"),
            ("bug", "bug"),
            ("example", "example"),
            ("todo", "todo"),
            ("info", "info"),
            ("important", "important"),
            ("caution", "caution"),
            ("recipe", "note"),
        ] {
            assert_eq!(family(kind), fam, "{kind}");
        }
    }

    #[test]
    fn default_titles_are_the_type_in_title_case() {
        assert_eq!(default_title("tldr"), "Tldr");
        assert_eq!(default_title("my-type"), "My-type");
        assert_eq!(default_title("été"), "Été");
    }

    #[test]
    fn markers_with_folds_and_titles() {
        let m = marker("[!FAQ]- Is it *so*?\n> body").unwrap();
        assert_eq!(
            m,
            Marker {
                kind: "faq".into(),
                fold: Some(false),
                len: 8
            }
        );
        assert_eq!(marker("[!tip]+").unwrap().fold, Some(true));
        assert_eq!(marker("[!tip]").unwrap().len, 6);
        assert_eq!(marker("[!tip]   T").unwrap().len, 9);
        assert_eq!(marker("[!tip]\r\nx").unwrap().len, 6);
        assert_eq!(marker("[!tip]\u{a0}T").unwrap().len, 8);
        // Not markers: no type, a space in it, text glued to it, not at the start.
        for line in [
            "[!] x", "[!a b] x", "[!tip]x", "[!tip]-x", "x [!tip]", "[tip]",
        ] {
            assert_eq!(marker(line), None, "{line}");
        }
    }

    #[test]
    fn tags_for_asides_and_folds() {
        let m = marker("[!Hint]").unwrap();
        let c = Callout::obsidian(&m, false);
        assert_eq!(
            c.open(),
            "<aside class=\"callout callout-tip\" role=\"note\" data-callout=\"hint\"><p class=\"callout-title\">Hint</p>\n"
        );
        assert_eq!(c.close(), "</aside>\n");
        let m = marker("[!x\"<y]+ T").unwrap();
        let c = Callout::obsidian(&m, true);
        assert_eq!(
            c.open(),
            "<details class=\"callout callout-note\" data-callout=\"x&quot;&lt;y\" open>"
        );
        assert_eq!(c.close(), "</details>\n");
    }
}
