//! One page's context: its facts, fields, breadcrumbs, steps, and a section index's entries.

use super::*;

pub(super) fn group_entries(
    config: &SiteConfig,
    pages: &[Page],
    list: &[usize],
    refs: &[PageRef],
    group_by: Option<&str>,
    graph: &LinkGraph,
    kind: Option<&str>,
) -> Vec<Group> {
    let entry = |i: usize| Entry {
        page: refs[i].clone(),
        facts: facts(config, &pages[i], refs, graph, true),
    };
    let Some(field) = group_by else {
        return vec![Group {
            name: String::new(),
            pages: list.iter().map(|&i| entry(i)).collect(),
        }];
    };
    let def = kind.and_then(|k| config.kinds[k].fields.get(field));
    // Group names in a stable order: enum values as declared, refs by the target's order.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    if let Some(d) = def.filter(|d| d.ty == FieldType::Enum) {
        groups = d.values.iter().map(|v| (v.clone(), Vec::new())).collect();
    }
    let mut other = Vec::new();
    for &i in list {
        let names: Vec<String> = match pages[i].fields.get(field) {
            Some(v) if !v.refs().is_empty() => v
                .refs()
                .iter()
                .filter_map(|r| graph.lookup.resolve(&r.target, r.to.as_deref()).ok())
                .map(|t| refs[t].title.clone())
                .collect(),
            Some(Value::Str(s)) => vec![s.clone()],
            Some(Value::List(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        if names.is_empty() {
            other.push(i);
        }
        for n in names {
            match groups.iter_mut().find(|(g, _)| *g == n) {
                Some((_, v)) => v.push(i),
                None => groups.push((n, vec![i])),
            }
        }
    }
    let enum_values = def.is_some_and(|d| {
        d.ty == FieldType::Enum || d.of.as_deref().is_some_and(|o| o.ty == FieldType::Enum)
    });
    if enum_values {
        for (name, _) in &mut groups {
            *name = humanize(name);
        }
    }
    if !other.is_empty() {
        groups.push(("Other".into(), other));
    }
    groups
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, v)| Group {
            name,
            pages: v.into_iter().map(entry).collect(),
        })
        .collect()
}

/// The facts box of a page: its schema fields in declared order, as text or links.
/// `brief` keeps only short fields (enums, refs, strings), for index entries.
pub fn facts(
    config: &SiteConfig,
    page: &Page,
    refs: &[PageRef],
    graph: &LinkGraph,
    brief: bool,
) -> Vec<Fact> {
    let Some(kind) = page.kind.as_deref().and_then(|k| config.kinds.get(k)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, def) in &kind.fields {
        if kind.sequence.as_deref() == Some(name.as_str())
            || def.ty == FieldType::Object
            || def.ty == FieldType::Text
        {
            continue;
        }
        if brief && def.ty == FieldType::String && !def.searchable {
            continue;
        }
        let Some(value) = page.fields.get(name) else {
            continue;
        };
        let item_def = match def.ty {
            FieldType::List => def.of.as_deref().unwrap_or(def),
            _ => def,
        };
        let is_enum = item_def.ty == FieldType::Enum;
        let mut items = Vec::new();
        let mut push = |v: &Value| match v {
            Value::Ref(r) => match graph.lookup.resolve(&r.target, r.to.as_deref()) {
                Ok(t) => items.push(FactItem {
                    text: refs[t].title.clone(),
                    url: Some(refs[t].url.clone()),
                }),
                Err(_) => items.push(FactItem {
                    text: r.target.clone(),
                    url: None,
                }),
            },
            Value::Str(s) if def.ty == FieldType::Url => items.push(FactItem {
                text: s.clone(),
                url: Some(s.clone()),
            }),
            Value::Str(s) if is_enum => items.push(FactItem {
                text: humanize(s),
                url: None,
            }),
            Value::Str(s) => items.push(FactItem {
                text: s.clone(),
                url: None,
            }),
            Value::Int(i) => items.push(FactItem {
                text: i.to_string(),
                url: None,
            }),
            Value::Number(f) => items.push(FactItem {
                text: f.to_string(),
                url: None,
            }),
            Value::Bool(b) => items.push(FactItem {
                text: if *b { "yes".into() } else { "no".into() },
                url: None,
            }),
            _ => {}
        };
        match value {
            Value::List(vs) => vs.iter().for_each(&mut push),
            v => push(v),
        }
        if items.is_empty() {
            continue;
        }
        out.push(Fact {
            name: name.clone(),
            label: def.label.clone().unwrap_or_else(|| title_case(name)),
            description: def.description.clone(),
            items,
        });
    }
    out
}

/// Field values for templates: JSON with references replaced by `{id, kind, title, url}`.
pub fn fields_json(page: &Page, refs: &[PageRef], graph: &LinkGraph) -> serde_json::Value {
    fn conv(v: &Value, refs: &[PageRef], graph: &LinkGraph) -> serde_json::Value {
        match v {
            Value::Ref(r) => match graph.lookup.resolve(&r.target, r.to.as_deref()) {
                Ok(t) => {
                    serde_json::json!({ "id": refs[t].id, "kind": refs[t].kind, "title": refs[t].title, "url": refs[t].url })
                }
                Err(_) => serde_json::Value::Null,
            },
            Value::List(items) => items.iter().map(|x| conv(x, refs, graph)).collect(),
            Value::Object(m) => m
                .iter()
                .map(|(k, x)| (k.clone(), conv(x, refs, graph)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            Value::Str(s) => s.clone().into(),
            Value::Int(i) => (*i).into(),
            Value::Number(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Bool(b) => (*b).into(),
            Value::Raw(j) => j.clone(),
        }
    }
    page.fields
        .iter()
        .map(|(k, v)| (k.clone(), conv(v, refs, graph)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Home > Section > Subsection links for a folder.
pub(super) fn breadcrumbs(
    config: &SiteConfig,
    folder: &str,
    sections: &BTreeMap<String, Option<usize>>,
    folder_names: &BTreeMap<String, String>,
    titles: &[String],
    include_self: bool,
) -> Vec<Link> {
    let base = config.base_path();
    let mut out = vec![Link {
        title: "Home".into(),
        url: base.clone(),
    }];
    if folder.is_empty() {
        return if include_self { out } else { Vec::new() };
    }
    let parts: Vec<&str> = folder.split('/').collect();
    let upto = if include_self {
        parts.len()
    } else {
        parts.len() - 1
    };
    for n in 1..=upto {
        let path = parts[..n].join("/");
        let title = match sections.get(&path).copied().flatten() {
            Some(i) => titles[i].clone(),
            None => config
                .kinds
                .values()
                .find(|k| k.folder.trim_matches('/') == path)
                .map(|k| k.title.clone())
                .unwrap_or_else(|| folder_title(folder_names, &path)),
        };
        out.push(Link {
            title,
            url: format!("{base}{path}/"),
        });
    }
    out
}

/// Build one page's template context.
#[allow(clippy::too_many_arguments)]
pub fn page_ctx(
    config: &SiteConfig,
    views: &Views,
    pages: &[Page],
    titles: &[String],
    i: usize,
    rendered: &Rendered,
    html: String,
    graph: &LinkGraph,
) -> PageCtx {
    let p = &pages[i];
    let refs = &views.page_refs;
    let kind = p.kind.as_deref().and_then(|k| config.kinds.get(k));
    let base = config.base_path();
    let mut groups: Vec<BacklinkGroup> = Vec::new();
    for b in &graph.backlinks[i] {
        let from_kind = pages[b.from].kind.as_deref();
        let label = if &*b.relation == graph::MENTIONS {
            "Mentioned in".to_string()
        } else {
            let kt = from_kind
                .and_then(|k| config.kinds.get(k))
                .map_or("Pages".to_string(), |k| k.title.clone());
            format!("{kt} · {}", b.relation.replace('_', " "))
        };
        match groups.iter_mut().find(|g| g.label == label) {
            Some(g) => g.pages.push(refs[b.from].clone()),
            None => groups.push(BacklinkGroup {
                relation: b.relation.to_string(),
                label,
                pages: vec![refs[b.from].clone()],
            }),
        }
    }
    let steps = own_steps(config, p, refs, graph);
    let (prev, next) = views.neighbours[i];
    let siblings = {
        let list: &[usize] = match &p.kind {
            Some(k) => views.by_kind.get(k).map(Vec::as_slice).unwrap_or(&[]),
            None => views
                .members
                .get(&p.section)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        };
        // A window around the page, so a page's size does not grow with its kind.
        let pos = list.iter().position(|&x| x == i).unwrap_or(0);
        let start = pos
            .saturating_sub(SIDEBAR_WINDOW / 2)
            .min(list.len().saturating_sub(SIDEBAR_WINDOW));
        let shown: Vec<PageRef> = list[start..(start + SIDEBAR_WINDOW).min(list.len())]
            .iter()
            .map(|&x| refs[x].clone())
            .collect();
        (list.len() > shown.len(), shown)
    };
    let (siblings_partial, siblings) = siblings;
    let mut crumbs = breadcrumbs(
        config,
        &p.section,
        &views.section_index,
        &views.folder_names,
        titles,
        true,
    );
    if p.is_section {
        crumbs.pop();
    }
    PageCtx {
        id: p.id.clone(),
        kind: p.kind.clone(),
        kind_title: kind.map(|k| k.title.clone()),
        kind_name: p.kind.as_deref().map(|k| config.singular(k).to_string()),
        title: refs[i].title.clone(),
        description: p.description.clone(),
        summary: refs[i].summary.clone(),
        url: refs[i].url.clone(),
        content: html,
        toc: rendered
            .headings
            .iter()
            .filter(|h| h.level <= 3)
            .cloned()
            .collect(),
        // A tag without a slug has no page (parsing reports it): never link to `tags//`.
        tags: page_tags(p, rendered)
            .into_iter()
            .map(|t| Link {
                url: format!("{base}tags/{}/", slugify(&t)),
                title: t,
            })
            .collect(),
        date: p.date.clone(),
        updated: p.updated.clone(),
        last_updated: p.last_updated.clone(),
        fields: fields_json(p, refs, graph),
        facts: facts(config, p, refs, graph, false),
        backlinks: groups,
        sequences: views.sequences[i].clone(),
        steps,
        prev: prev.map(|x| refs[x].clone()),
        next: next.map(|x| refs[x].clone()),
        breadcrumbs: crumbs,
        siblings,
        siblings_partial,
        edit_url: config
            .edit_url
            .as_ref()
            .map(|u| u.replace("{path}", &format!("content/{}", p.rel_path))),
        words: rendered.words,
        reading_minutes: rendered.words.div_ceil(200).max(1),
        source_path: format!("content/{}", p.rel_path),
        cssclasses: p.cssclasses.clone(),
    }
}

/// The title of a folder without an index page: its name as written.
pub(super) fn folder_title(folder_names: &BTreeMap<String, String>, folder: &str) -> String {
    folder_names
        .get(folder)
        .cloned()
        .unwrap_or_else(|| folder.rsplit('/').next().unwrap_or(folder).to_string())
}

pub(super) fn own_steps(
    config: &SiteConfig,
    p: &Page,
    refs: &[PageRef],
    graph: &LinkGraph,
) -> Vec<Step> {
    sequence_steps(config, p, graph)
        .into_iter()
        .enumerate()
        .map(|(n, (t, why))| Step {
            index: n + 1,
            page: refs[t].clone(),
            why,
        })
        .collect()
}
