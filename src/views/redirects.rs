//! The redirects pages' names make, and the warnings for names whose URL is taken.

use super::*;

/// The redirects the pages' names make (see [`Views::name_redirects`]), and a warning for each name
/// whose URL something else already takes: a page, a section or kind index, the tags, a matrix, the
/// search index, an alias or an earlier name. Such a name stays a name of the page (links by it
/// work); it only makes no redirect. A name whose URL is the page's own makes none either, silently.
pub(super) fn name_redirects<'a>(
    pages: &'a [Page],
    sections: &'a BTreeMap<String, Option<usize>>,
    tags: &'a [TagCtx],
    matrices: &'a [MatrixCtx],
) -> (Vec<Vec<(usize, String)>>, Vec<Diagnostic>) {
    // Every URL path (no slash at the ends) with what takes it (and the page that redirects from it,
    // for an alias), first taker kept. What takes it is put in words only for a warning.
    enum Taker<'a> {
        Page(&'a Page),
        Section(&'a str),
        Tags,
        Tag(&'a str),
        Matrix(&'a str),
        Alias(&'a str, &'a Page),
        Name(String),
    }
    impl Taker<'_> {
        fn describe(&self) -> String {
            match self {
                Taker::Page(p) => format!("the page content/{}", p.rel_path),
                Taker::Section(f) => format!("the index of section `{f}`"),
                Taker::Tags => "the list of tags".into(),
                Taker::Tag(t) => format!("the page of tag `{t}`"),
                Taker::Matrix(m) => format!("the matrix `{m}`"),
                Taker::Alias(a, p) => format!("the alias `{a}` of content/{}", p.rel_path),
                Taker::Name(n) => n.clone(),
            }
        }
    }
    // Only the URLs that names would take are looked up: keep only those.
    let wanted: HashSet<String> = pages
        .iter()
        .flat_map(|p| p.names.iter().map(move |n| name_url(p, n)))
        .filter(|u| !u.is_empty())
        .collect();
    if wanted.is_empty() {
        return (vec![Vec::new(); pages.len()], Vec::new());
    }
    let mut taken: HashMap<String, (Option<usize>, Taker)> = HashMap::new();
    let mut take = |url: &str, page: Option<usize>, by: Taker<'a>| {
        let url = url.trim_matches('/');
        if wanted.contains(url) && !taken.contains_key(url) {
            taken.insert(url.to_string(), (page, by));
        }
    };
    for p in pages {
        take(&p.url, None, Taker::Page(p));
    }
    for folder in sections.keys() {
        take(folder, None, Taker::Section(folder));
    }
    if !tags.is_empty() {
        take("tags", None, Taker::Tags);
    }
    for t in tags {
        take(&format!("tags/{}", t.slug), None, Taker::Tag(&t.name));
    }
    for m in matrices {
        take(
            &format!("matrices/{}", slugify(&m.slug)),
            None,
            Taker::Matrix(&m.slug),
        );
    }
    for (i, p) in pages.iter().enumerate() {
        for a in &p.aliases {
            take(a, Some(i), Taker::Alias(a, p));
        }
    }
    let mut redirects = vec![Vec::new(); pages.len()];
    let mut warnings = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        for (n, name) in p.names.iter().enumerate() {
            let url = name_url(p, name);
            if url.is_empty() {
                continue;
            }
            if url == p.url.trim_end_matches('/') {
                continue;
            }
            let search_dir =
                url == crate::search::DIR || url.starts_with(&format!("{}/", crate::search::DIR));
            let holder = match taken.get(&url) {
                // The page redirects from there already (another of its aliases).
                Some((Some(j), _)) if *j == i => continue,
                Some((_, by)) => Some(by.describe()),
                None if search_dir => Some("the search index".to_string()),
                None => None,
            };
            if let Some(by) = holder {
                warnings.push(
                    Diagnostic::warning(
                        "alias-taken",
                        format!("the alias `{name}` makes no redirect: its URL /{url}/ is taken by {by}"),
                    )
                    .at(&p.source, alias_span(p, name))
                    .with_help("links by this name still reach the page; to redirect an old URL, write it as a path alias, such as `/old-name/`"),
                );
                continue;
            }
            let by = Taker::Name(format!("the alias `{name}` of content/{}", p.rel_path));
            taken.insert(url.clone(), (Some(i), by));
            redirects[i].push((n, format!("{url}/index.html")));
        }
    }
    (redirects, warnings)
}

/// The URL path a page's name redirects from (empty when the name has no slug): beside the page (in
/// its folder, or beside its folder for a section's index page) for a name, from the top for a path
/// (`Folder/Old name`).
pub(super) fn name_url(p: &Page, name: &str) -> String {
    if name.contains('/') {
        let parts: Vec<String> = name
            .split('/')
            .map(slugify)
            .filter(|s| !s.is_empty())
            .collect();
        return parts.join("/");
    }
    let folder = match (p.is_section, p.section.rsplit_once('/')) {
        (false, _) => p.section.as_str(),
        (true, Some((parent, _))) => parent,
        (true, None) => "",
    };
    match (folder, slugify(name)) {
        (_, s) if s.is_empty() => s,
        ("", s) => s,
        (f, s) => format!("{f}/{s}"),
    }
}

/// Where `name` is written in a page's front matter (the front matter's start if it is not found).
pub(super) fn alias_span(p: &Page, name: &str) -> std::ops::Range<usize> {
    let yaml = crate::content::split_front_matter(&p.source.text)
        .ok()
        .and_then(|s| s.yaml)
        .unwrap_or(0..0);
    let text = p.source.text.get(yaml.clone()).unwrap_or("");
    let from = text.find("alias").unwrap_or(0);
    match text[from..].find(name) {
        Some(at) => yaml.start + from + at..yaml.start + from + at + name.len(),
        None => yaml.start..yaml.start,
    }
}
