//! Stage 6, the guard around tera: what a site's templates may not do. Site authors are trusted to
//! write the site, not to reach the machine or to crash the build (SECURITY.md), and a template is
//! one pull request away from anyone. So, beside tera:
//!
//! - **Nothing from the machine.** tera's `get_env()` prints any environment variable (a CI token).
//!   A template that calls it is refused when the templates load, at the call, and the function is
//!   replaced by one that refuses too. With tera's `builtins` feature off (Cargo.toml), `get_env` is
//!   its only function or filter that reads the machine: `now()` and `get_random()` are not compiled
//!   in, the filters and tests work on values only, and `include`, `import` and `extends` name
//!   templates already loaded, never files.
//! - **No recursion.** tera renders every macro call, include and nested tag on the thread's stack
//!   (a page renders on a rayon thread with 2 MiB), so a macro that calls itself, directly or through
//!   others, or a template that includes itself, aborts the whole process. tera offers no hook at a
//!   macro's entry, so a depth count while rendering would mean rewriting its syntax tree; instead the
//!   call graph of every macro and template body is walked once, when the templates load, and every
//!   cycle is an error at the macro's definition (or the include). That finds the recursion even in
//!   a macro no page calls yet, so `check` and `build` agree whatever the content, and it costs
//!   nothing per page. The price: recursive macros with a base case (a tree menu) are refused too;
//!   the help says how to do without. How tera picks a macro for `ns::name` depends on where it is
//!   rendered (inside a block, `self::` means the block's template), so the graph takes every macro
//!   the call could mean.
//! - **Bounded depth.** Without cycles, the deepest chain of calls and nested tags is still counted
//!   ([`MAX_RENDER_DEPTH`]), and before tera parses a file (its parser recurses too) the nesting of
//!   its tags, of the brackets in one tag and the number of operators in one tag are bounded, and so
//!   is the length of a chain of `{% extends %}` ([`MAX_EXTENDS_CHAIN`]: tera copies every block down
//!   the chain, and a chain of 3,000 templates took 3 GB). Measured
//!   on a debug build: a 2 MiB stack overflows at about 2,000 nested `{% if %}`, 2,000 chained macros
//!   or 2,500 `+` in one expression; the bounds below stay ten times under that, far above what a
//!   theme needs.
//! - **Bounded work.** `range()` is replaced by one that makes at most [`MAX_RANGE`] numbers per call
//!   and [`MAX_RANGE_PER_RENDER`] per output, and refuses `step_by=0` (tera's loops for ever), and
//!   every output is written into a [`CappedOutput`] that stops at [`MAX_OUTPUT`] bytes, so a runaway
//!   loop is an error, not a hang or a full memory.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use tera::ast::{Expr, ExprVal, Node};
use tera::{Tera, Value};

use super::{find_use, Use};
use crate::diagnostics::{Diagnostic, Source};

/// Deepest nesting of block tags (`if`, `for`, `block`, `macro`, `filter`) in one template file.
pub const MAX_TAG_NESTING: usize = 100;
/// Deepest nesting of `(` and `[` inside one tag.
pub const MAX_BRACKET_NESTING: usize = 64;
/// Most operators (`+`, `~`, `==`, `and`, `not`...) in one tag: tera nests each one deeper.
pub const MAX_OPERATORS: usize = 200;
/// Longest chain of `{% extends %}`: tera copies every block down the chain, so memory grows with
/// the square of its length (3,000 templates took 3 GB).
pub const MAX_EXTENDS_CHAIN: usize = 32;
/// Deepest chain of nested tags, macro calls, includes and parent templates one output can render.
pub const MAX_RENDER_DEPTH: usize = 150;
/// Most numbers one call of `range()` may make.
pub const MAX_RANGE: usize = 100_000;
/// Most numbers all the calls of `range()` in one output may make together.
pub const MAX_RANGE_PER_RENDER: usize = 1_000_000;
/// Largest output one template may write.
pub const MAX_OUTPUT: usize = 64 * 1024 * 1024;

/// Functions a template may not call: tera's name and the help to give instead.
const REFUSED_FUNCTIONS: &[(&str, &str)] = &[(
    "get_env",
    "environment variables are not readable from templates (a build in CI would print its secrets); put the value under `extra:` in site.yaml and use `{{ site.extra.NAME }}`",
)];

/// Replace tera's functions that reach the machine or can run away with fieldbook's own.
pub fn install(tera: &mut Tera) {
    for (name, _) in REFUSED_FUNCTIONS {
        let name = *name;
        tera.register_function(name, move |_: &HashMap<String, Value>| {
            Err(tera::Error::msg(format!(
                "`{name}` is not available in fieldbook templates"
            )))
        });
    }
    tera.register_function("range", range);
}

thread_local! {
    /// How many more numbers `range()` may make in the output being rendered on this thread. A
    /// render runs on one thread from start to end (tera calls back into no thread pool).
    static RANGE_LEFT: Cell<usize> = const { Cell::new(MAX_RANGE_PER_RENDER) };
}

/// Reset the per-output budgets before rendering one output on this thread.
pub fn start_render() {
    RANGE_LEFT.with(|left| left.set(MAX_RANGE_PER_RENDER));
}

/// `range(end=N)`, `range(start=A, end=N)`, `range(end=N, step_by=S)`: the numbers from start
/// (0) up to end, excluded, by step (1), like tera's, but bounded.
fn range(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let number = |key: &str| -> tera::Result<Option<usize>> {
        match args.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    tera::Error::msg(format!(
                        "`range` got {key}={v}, but {key} must be a whole number, 0 or more"
                    ))
                }),
        }
    };
    let start = number("start")?.unwrap_or(0);
    let step = number("step_by")?.unwrap_or(1);
    let end = number("end")?
        .ok_or_else(|| tera::Error::msg("`range` needs an `end`, e.g. range(end=10)"))?;
    if step == 0 {
        return Err(tera::Error::msg(
            "`range` got step_by=0, which never reaches `end`",
        ));
    }
    if start > end {
        return Err(tera::Error::msg(format!(
            "`range` got start={start} after end={end}"
        )));
    }
    let count = (end - start).div_ceil(step);
    if count > MAX_RANGE {
        return Err(tera::Error::msg(format!(
            "`range` would make {count} numbers, more than the {MAX_RANGE} one call may make"
        )));
    }
    let left = RANGE_LEFT.with(Cell::get);
    if count > left {
        return Err(tera::Error::msg(format!(
            "`range` would make more than {MAX_RANGE_PER_RENDER} numbers in one output, counting every call"
        )));
    }
    RANGE_LEFT.with(|l| l.set(left - count));
    Ok(Value::Array(
        (start..end).step_by(step).map(Value::from).collect(),
    ))
}

/// The help for an error of the `range` function.
pub const RANGE_HELP: &str = "one `range` may make 100,000 numbers and one output 1,000,000; loop over the site's data (`site.kinds`, `page.backlinks`...) instead of counting";

/// What a template renders into: a buffer that refuses to grow past [`MAX_OUTPUT`].
#[derive(Default)]
pub struct CappedOutput {
    pub bytes: Vec<u8>,
    /// Set when a write was refused.
    pub over: bool,
}

impl CappedOutput {
    pub fn new() -> CappedOutput {
        CappedOutput {
            bytes: Vec::with_capacity(2000),
            over: false,
        }
    }
}

impl std::io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT {
            self.over = true;
            return Err(std::io::Error::other("output too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    // tera writes through `write_all` and `write!`: one check and one copy, like a `Vec`'s.
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.write(buf).map(|_| ())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The error for an output that passed [`MAX_OUTPUT`].
pub fn output_too_large(shown: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        "template-output",
        format!(
            "template error: `{name}` wrote more than {} MiB for one output",
            MAX_OUTPUT / (1024 * 1024)
        ),
    )
    .in_file(shown)
    .with_help("a loop in this template (or a macro or template it uses) runs away; one output may be at most 64 MiB")
}

/// A `{{ }}`, `{% %}` or `{# #}` of a template's text: `{`, `%` or `#`, and its byte range with the
/// delimiters (to the end of the text when it is never closed).
struct Tag {
    kind: u8,
    range: Range<usize>,
}

impl Tag {
    /// The text between the delimiters, without whitespace control (`-`) and spaces.
    fn inner<'t>(&self, text: &'t str) -> &'t str {
        let end = self.range.end.max(self.range.start + 2);
        let inner = text.get(self.range.start + 2..end).unwrap_or_default();
        let inner = inner
            .strip_suffix("}}")
            .or_else(|| inner.strip_suffix("%}"))
            .or_else(|| inner.strip_suffix("#}"))
            .unwrap_or(inner);
        inner.trim().trim_matches('-').trim()
    }

    /// The first word of a `{% %}` tag (`if`, `endfor`, `macro`...).
    fn word<'t>(&self, text: &'t str) -> &'t str {
        let inner = self.inner(text);
        let end = inner
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        &inner[..end]
    }
}

/// The tags of a template, in order; the text of `{% raw %}` sections is skipped like tera does.
fn tags(text: &str) -> Vec<Tag> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'{' || !matches!(b[i + 1], b'{' | b'%' | b'#') {
            i += 1;
            continue;
        }
        let kind = b[i + 1];
        let start = i;
        let mut j = i + 2;
        let mut quote: Option<u8> = None;
        let close = if kind == b'{' { b'}' } else { kind };
        let end = loop {
            if j + 1 >= b.len() {
                break b.len();
            }
            match quote {
                Some(q) if b[j] == q => quote = None,
                Some(_) => {}
                None if kind != b'#' && matches!(b[j], b'"' | b'\'' | b'`') => quote = Some(b[j]),
                None if b[j] == close && b[j + 1] == b'}' => break j + 2,
                None => {}
            }
            j += 1;
        };
        let tag = Tag {
            kind,
            range: start..end,
        };
        i = end;
        if kind == b'%' && tag.word(text) == "raw" {
            // Skip to the `{% endraw %}`.
            let mut k = end;
            i = b.len();
            while let Some(at) = text[k..].find("{%").map(|p| k + p) {
                let rest = text[at + 2..].trim_start_matches('-').trim_start();
                if rest.starts_with("endraw") {
                    i = at;
                    break;
                }
                k = at + 2;
            }
        }
        out.push(tag);
    }
    out
}

/// Block tags that open a level of nesting, and those that close one.
const OPENERS: &[&str] = &["if", "for", "block", "macro", "filter"];
const CLOSERS: &[&str] = &["endif", "endfor", "endblock", "endmacro", "endfilter"];
/// Operator words inside a tag.
const OPERATOR_WORDS: &[&str] = &["and", "or", "not", "in", "is"];

/// Check one template's text before tera parses it: nesting of tags, brackets and operators (tera's
/// parser and renderer recurse on each). At most one error per file.
pub fn preflight(shown: &str, text: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for tag in tags(text) {
        let at = |message: String, help: &str| {
            let end = (tag.range.start + 2).min(text.len());
            Diagnostic::error("template-depth", format!("template error: {message}"))
                .at(&Source::new(shown, text), tag.range.start..end)
                .with_help(help)
        };
        if tag.kind == b'#' {
            continue;
        }
        if tag.kind == b'%' {
            let word = tag.word(text);
            if OPENERS.contains(&word) {
                depth += 1;
                if depth > MAX_TAG_NESTING {
                    return Some(at(
                        format!("tags nest more than {MAX_TAG_NESTING} deep here"),
                        "close some `{% if %}`/`{% for %}` blocks before opening more, or move the inner part into a macro",
                    ));
                }
            } else if CLOSERS.contains(&word) {
                depth = depth.saturating_sub(1);
            }
        }
        let (brackets, operators) = expression_size(tag.inner(text));
        if brackets > MAX_BRACKET_NESTING {
            return Some(at(
                format!("brackets nest more than {MAX_BRACKET_NESTING} deep in this tag"),
                "split the expression with `{% set %}`",
            ));
        }
        if operators > MAX_OPERATORS {
            return Some(at(
                format!("this tag has more than {MAX_OPERATORS} operators"),
                "split the expression with `{% set %}`",
            ));
        }
    }
    None
}

/// The template a text extends, and where it names it.
fn extends_of(text: &str) -> Option<(String, Range<usize>)> {
    let tag = tags(text)
        .into_iter()
        .find(|t| t.kind == b'%' && t.word(text) == "extends")?;
    let inner = tag.inner(text);
    let rest = inner["extends".len()..].trim();
    let q = rest.chars().next()?;
    let name = rest.get(1..)?.split(q).next()?;
    let at = tag.range.start + text[tag.range.clone()].find(name)?;
    Some((name.to_string(), at..at + name.len()))
}

/// Check the chains of `{% extends %}` before tera builds them: none longer than
/// [`MAX_EXTENDS_CHAIN`]. `files` are (name, shown path, text); one error for each template at the
/// end of a chain too long (or for the first one of a long cycle). Shorter cycles are left to tera,
/// which reports them.
pub fn extends_chains(files: &[(String, String, String)]) -> Vec<Diagnostic> {
    let parent: HashMap<&str, (String, Range<usize>)> = files
        .iter()
        .filter_map(|(name, _, text)| extends_of(text).map(|p| (name.as_str(), p)))
        .collect();
    let extended: BTreeSet<&str> = parent.values().map(|(p, _)| p.as_str()).collect();
    let too_long = |name: &str| {
        let mut at = name;
        for _ in 0..=MAX_EXTENDS_CHAIN {
            match parent.get(at) {
                Some((next, _)) => at = next,
                None => return false,
            }
        }
        true
    };
    let long: Vec<&(String, String, String)> =
        files.iter().filter(|(name, _, _)| too_long(name)).collect();
    let leaves: Vec<&(String, String, String)> = long
        .iter()
        .copied()
        .filter(|(name, _, _)| !extended.contains(name.as_str()))
        .collect();
    let report = if leaves.is_empty() {
        long.into_iter().take(1).collect()
    } else {
        leaves
    };
    report
        .into_iter()
        .filter_map(|(name, shown, text)| {
            let (_, range) = parent.get(name.as_str())?;
            Some(
                Diagnostic::error(
                        "template-depth",
                        format!(
                            "template error: `{name}` extends a chain of more than {MAX_EXTENDS_CHAIN} templates"
                        ),
                    )
                .at(&Source::new(shown.as_str(), text.as_str()), range.clone())
                .with_help("extend a template nearer the base; a chain may be 32 templates long"),
            )
        })
        .collect()
}

/// The deepest nesting of brackets and the number of operators in the text of one tag (strings
/// left out).
fn expression_size(inner: &str) -> (usize, usize) {
    let (mut depth, mut deepest, mut operators) = (0usize, 0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut word = String::new();
    let end_word = |word: &mut String, operators: &mut usize| {
        if OPERATOR_WORDS.contains(&word.as_str()) {
            *operators += 1;
        }
        word.clear();
    };
    for c in inner.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        end_word(&mut word, &mut operators);
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            '+' | '-' | '*' | '/' | '%' | '~' | '<' | '>' | '=' | '!' => operators += 1,
            _ => {}
        }
    }
    end_word(&mut word, &mut operators);
    (deepest, operators)
}

/// A place templates render from: the body of a template (with its blocks) or one macro.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Part {
    Body(String),
    Macro(String, String),
}

/// Something a part renders: a macro (`ns::name`) or a template (`include`, or its parent).
#[derive(Debug, Clone)]
enum Step {
    Macro(String, String),
    Include(String),
    Parent(String),
}

/// What the walk of one part found: each step with the tag nesting it sits in, the functions called,
/// and the deepest nesting.
#[derive(Default)]
struct Uses {
    steps: Vec<(usize, Step)>,
    functions: BTreeSet<String>,
    deepest: usize,
}

fn walk_nodes(nodes: &[Node], depth: usize, out: &mut Uses) {
    out.deepest = out.deepest.max(depth);
    for node in nodes {
        match node {
            Node::VariableBlock(_, e) => walk_expr(e, depth, out),
            Node::Include(_, names, _) => {
                for n in names {
                    out.steps.push((depth, Step::Include(n.clone())));
                }
            }
            Node::Set(_, s) => walk_expr(&s.value, depth, out),
            Node::FilterSection(_, f, _) => {
                for e in f.filter.args.values() {
                    walk_expr(e, depth, out);
                }
                walk_nodes(&f.body, depth + 1, out);
            }
            Node::Block(_, b, _) => walk_nodes(&b.body, depth + 1, out),
            Node::Forloop(_, f, _) => {
                walk_expr(&f.container, depth, out);
                walk_nodes(&f.body, depth + 1, out);
                if let Some(empty) = &f.empty_body {
                    walk_nodes(empty, depth + 1, out);
                }
            }
            Node::If(i, _) => {
                for (_, cond, body) in &i.conditions {
                    walk_expr(cond, depth, out);
                    walk_nodes(body, depth + 1, out);
                }
                if let Some((_, body)) = &i.otherwise {
                    walk_nodes(body, depth + 1, out);
                }
            }
            // A macro's body is a part of its own; the rest renders nothing that calls.
            Node::MacroDefinition(..)
            | Node::Super
            | Node::Text(_)
            | Node::Extends(..)
            | Node::ImportMacro(..)
            | Node::Raw(..)
            | Node::Break(_)
            | Node::Continue(_)
            | Node::Comment(..) => {}
        }
    }
}

fn walk_expr(e: &Expr, depth: usize, out: &mut Uses) {
    for f in &e.filters {
        for a in f.args.values() {
            walk_expr(a, depth, out);
        }
    }
    walk_val(&e.val, depth, out);
}

fn walk_val(v: &ExprVal, depth: usize, out: &mut Uses) {
    match v {
        ExprVal::Math(m) => {
            walk_expr(&m.lhs, depth, out);
            walk_expr(&m.rhs, depth, out);
        }
        ExprVal::Logic(l) => {
            walk_expr(&l.lhs, depth, out);
            walk_expr(&l.rhs, depth, out);
        }
        ExprVal::In(i) => {
            walk_expr(&i.lhs, depth, out);
            walk_expr(&i.rhs, depth, out);
        }
        ExprVal::Test(t) => t.args.iter().for_each(|a| walk_expr(a, depth, out)),
        ExprVal::MacroCall(m) => {
            out.steps
                .push((depth, Step::Macro(m.namespace.clone(), m.name.clone())));
            m.args.values().for_each(|a| walk_expr(a, depth, out));
        }
        ExprVal::FunctionCall(f) => {
            out.functions.insert(f.name.clone());
            f.args.values().for_each(|a| walk_expr(a, depth, out));
        }
        ExprVal::Array(items) => items.iter().for_each(|a| walk_expr(a, depth, out)),
        ExprVal::StringConcat(c) => c.values.iter().for_each(|v| walk_val(v, depth, out)),
        ExprVal::String(_)
        | ExprVal::Int(_)
        | ExprVal::Float(_)
        | ExprVal::Bool(_)
        | ExprVal::Ident(_) => {}
    }
}

/// A template as [`check`] needs it: its name, the path shown in errors and its text.
pub struct Text<'a> {
    pub name: &'a str,
    pub shown: &'a str,
    pub text: &'a str,
}

/// Check the loaded templates: refused functions, recursion (macros and includes) and the depth
/// of the deepest render. Every problem is returned, sorted.
pub fn check(tera: &Tera, texts: &[Text]) -> Vec<Diagnostic> {
    let mut names: Vec<&str> = tera.get_template_names().collect();
    names.sort_unstable();
    let text_of = |name: &str| texts.iter().find(|t| t.name == name);
    let mut diags = Vec::new();

    // Walk every part once.
    let mut parts: BTreeMap<Part, Uses> = BTreeMap::new();
    for &name in &names {
        let Ok(t) = tera.get_template(name) else {
            continue;
        };
        let mut body = Uses::default();
        walk_nodes(&t.ast, 0, &mut body);
        if let Some(parent) = &t.parent {
            body.steps
                .push((body.deepest, Step::Parent(parent.clone())));
        }
        parts.insert(Part::Body(name.to_string()), body);
        for (m, def) in &t.macros {
            let mut uses = Uses::default();
            walk_nodes(&def.body, 0, &mut uses);
            parts.insert(Part::Macro(name.to_string(), m.clone()), uses);
        }
    }

    // Refused functions, at each file's first call.
    for (part, uses) in &parts {
        for (refused, help) in REFUSED_FUNCTIONS {
            if !uses.functions.contains(*refused) {
                continue;
            }
            let file = match part {
                Part::Body(f) | Part::Macro(f, _) => f,
            };
            let d = Diagnostic::error(
                "template-refused",
                format!("template error: `{refused}()` is not available in templates"),
            )
            .with_help(*help);
            diags.push(locate(d, text_of(file), |text| {
                find_use(text, refused, Use::Function)
            }));
        }
    }
    diags.sort_by_key(|d| d.location());
    diags.dedup_by_key(|d| d.location());

    // Imports that come back to their file: tera follows them for ever when it renders.
    let import_cycles = file_cycles(&names, |name| {
        tera.get_template(name)
            .map(|t| {
                t.imported_macro_files
                    .iter()
                    .map(|(f, _)| f.as_str())
                    .collect()
            })
            .unwrap_or_default()
    });
    for cycle in &import_cycles {
        let (Some(first), Some(last)) = (cycle.first(), cycle.last()) else {
            continue;
        };
        let mut chain = cycle.clone();
        chain.push(first);
        diags.push(locate(
            Diagnostic::error(
                "template-recursion",
                format!(
                    "template error: `{first}` imports itself ({})",
                    chain.join(" -> ")
                ),
            )
            .with_help("tera follows imports for ever when they come back to a file; move the macros both need into a file that imports neither"),
            text_of(last),
            |text| find_tag_naming(text, &["import"], first),
        ));
    }
    if !import_cycles.is_empty() {
        return diags;
    }

    // Where `ns::name` can lead. Inside a block tera looks macros up in the block's template, and
    // outside one in the root of the inheritance chain; so `self::` may mean the calling file or any
    // template with blocks or children, and another namespace any file imported under that name.
    let mut imported_as: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    let mut contexts: BTreeSet<&str> = BTreeSet::new();
    for &name in &names {
        let Ok(t) = tera.get_template(name) else {
            continue;
        };
        for (file, ns) in &t.imported_macro_files {
            imported_as.entry(ns).or_default().insert(file);
        }
        if !t.blocks.is_empty() {
            contexts.insert(name);
        }
        contexts.extend(t.parents.iter().map(String::as_str));
    }
    let has_macro = |file: &str, m: &str| {
        tera.get_template(file)
            .is_ok_and(|t| t.macros.contains_key(m))
    };
    let targets = |home: &str, step: &Step| -> Vec<Part> {
        match step {
            Step::Include(t) | Step::Parent(t) => {
                if tera.get_template(t).is_ok() {
                    vec![Part::Body(t.clone())]
                } else {
                    vec![]
                }
            }
            Step::Macro(ns, m) => {
                let files: BTreeSet<&str> = if ns == "self" {
                    contexts.iter().copied().chain([home]).collect()
                } else {
                    imported_as.get(ns.as_str()).cloned().unwrap_or_default()
                };
                files
                    .into_iter()
                    .filter(|f| has_macro(f, m))
                    .map(|f| Part::Macro(f.to_string(), m.clone()))
                    .collect()
            }
        }
    };
    let keys: Vec<Part> = parts.keys().cloned().collect();
    let index: HashMap<&Part, usize> = keys.iter().enumerate().map(|(i, p)| (p, i)).collect();
    // edges[i]: (nesting at the step, the step, the part it leads to).
    let edges: Vec<Vec<(usize, Step, usize)>> = keys
        .iter()
        .map(|p| {
            let home = match p {
                Part::Body(f) | Part::Macro(f, _) => f.as_str(),
            };
            let mut out = Vec::new();
            for (depth, step) in &parts[p].steps {
                for t in targets(home, step) {
                    if let Some(&j) = index.get(&t) {
                        out.push((*depth, step.clone(), j));
                    }
                }
            }
            out
        })
        .collect();

    let n = keys.len();
    let mut depth_of = vec![0usize; n];
    // For the deepest chain: the edge each part's depth came through.
    let mut via: Vec<Option<usize>> = vec![None; n];
    let mut cycles: Vec<(usize, Vec<usize>)> = Vec::new();
    depth_first(
        n,
        |node, k| edges[node].get(k).map(|e| e.2),
        |path| {
            if let Some(&entry) = path.first() {
                cycles.push((entry, path.to_vec()));
            }
        },
        |node| {
            // All of this part's steps are done: its depth is known.
            let mut d = parts[&keys[node]].deepest;
            for (k, (at, _, to)) in edges[node].iter().enumerate() {
                let through = at + 1 + depth_of[*to];
                if through > d {
                    d = through;
                    via[node] = Some(k);
                }
            }
            depth_of[node] = d;
        },
    );

    let label = |p: &Part| match p {
        Part::Body(f) => f.clone(),
        Part::Macro(f, m) => format!("{m} (in {f})"),
    };
    let mut seen = BTreeSet::new();
    for (entry, path) in &cycles {
        if !seen.insert(*entry) {
            continue;
        }
        let chain: Vec<String> = path
            .iter()
            .chain([entry])
            .map(|&p| label(&keys[p]))
            .collect();
        let chain = chain.join(" -> ");
        diags.push(match &keys[*entry] {
            Part::Macro(file, m) => locate(
                Diagnostic::error(
                    "template-recursion",
                    format!("template error: macro `{m}` calls itself ({chain})"),
                )
                .with_help("tera renders each macro call on the stack, so recursion can crash the build; fieldbook refuses it: loop over the data instead (`page.toc` and `site.kinds` are flat lists), or write one macro per level"),
                text_of(file),
                |text| find_macro(text, m),
            ),
            Part::Body(file) => {
                // The include (or `extends`) in the last part of the cycle that leads back here.
                let last = path.last().copied().unwrap_or(*entry);
                let in_file = match &keys[last] {
                    Part::Body(f) | Part::Macro(f, _) => f.clone(),
                };
                locate(
                    Diagnostic::error(
                        "template-recursion",
                        format!("template error: template `{file}` includes itself ({chain})"),
                    )
                    .with_help("a template cannot include itself, directly or through others; move the shared part into a template of its own"),
                    text_of(&in_file),
                    |text| find_include(text, file),
                )
            }
        });
    }

    if cycles.is_empty() {
        if let Some(deepest) = (0..n).max_by_key(|&i| (depth_of[i], std::cmp::Reverse(i))) {
            if depth_of[deepest] > MAX_RENDER_DEPTH {
                let mut chain = vec![label(&keys[deepest])];
                let mut at = deepest;
                while let Some(k) = via[at] {
                    at = edges[at][k].2;
                    chain.push(label(&keys[at]));
                }
                let (file, first) = match (&keys[deepest], via[deepest]) {
                    (Part::Body(f) | Part::Macro(f, _), k) => {
                        (f.clone(), k.map(|k| edges[deepest][k].1.clone()))
                    }
                };
                let d = Diagnostic::error(
                    "template-depth",
                    format!(
                        "template error: templates nest {} levels deep (tags, macro calls and includes), more than {MAX_RENDER_DEPTH}: {}",
                        depth_of[deepest],
                        chain.join(" -> ")
                    ),
                )
                .with_help("tera renders each level on the stack; flatten the chain of macros or includes");
                diags.push(locate(d, text_of(&file), |text| match &first {
                    Some(Step::Macro(ns, m)) => {
                        find_use(text, &format!("{ns}::{m}"), Use::Function)
                    }
                    Some(Step::Include(t)) => find_include(text, t),
                    _ => None,
                }));
            }
        }
    }
    diags
}

/// The cycles of a graph of files (`next` gives the files one file leads to), each as the files in
/// order; found depth-first without recursion, each closing edge once.
fn file_cycles<'a>(names: &[&'a str], next: impl Fn(&str) -> Vec<&'a str>) -> Vec<Vec<&'a str>> {
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges: Vec<Vec<usize>> = names
        .iter()
        .map(|n| {
            next(n)
                .iter()
                .filter_map(|t| index.get(t).copied())
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    depth_first(
        names.len(),
        |node, k| edges[node].get(k).copied(),
        |path| out.push(path.iter().map(|&p| names[p]).collect()),
        |_| {},
    );
    out
}

/// Depth-first over a graph of `n` nodes whose `k`-th edge from `node` is `edge(node, k)`, without
/// recursion (the graph may be long). `cycle` gets the path from the node an edge closes back to,
/// once per closing edge; `done` gets each node once all that it leads to is done (post-order).
fn depth_first(
    n: usize,
    edge: impl Fn(usize, usize) -> Option<usize>,
    mut cycle: impl FnMut(&[usize]),
    mut done: impl FnMut(usize),
) {
    // 0 unseen, 1 on the path, 2 done.
    let mut colour = vec![0u8; n];
    for root in 0..n {
        if colour[root] != 0 {
            continue;
        }
        colour[root] = 1;
        let mut stack = vec![(root, 0usize)];
        while let Some(top) = stack.len().checked_sub(1) {
            let (node, k) = stack[top];
            let Some(to) = edge(node, k) else {
                done(node);
                colour[node] = 2;
                stack.pop();
                continue;
            };
            stack[top].1 += 1;
            match colour[to] {
                0 => {
                    colour[to] = 1;
                    stack.push((to, 0));
                }
                1 => {
                    let from = stack.iter().position(|&(p, _)| p == to).unwrap_or(0);
                    let path: Vec<usize> = stack[from..].iter().map(|&(p, _)| p).collect();
                    cycle(&path);
                }
                _ => {}
            }
        }
    }
}

/// Put a diagnostic at the range `find` gives in the file's text, or on the file.
fn locate(
    d: Diagnostic,
    text: Option<&Text>,
    find: impl Fn(&str) -> Option<Range<usize>>,
) -> Diagnostic {
    match text {
        Some(t) => match find(t.text) {
            Some(range) => d.at(&Source::new(t.shown, t.text), range),
            None => d.in_file(t.shown),
        },
        None => d,
    }
}

/// Where `{% macro NAME(...) %}` is defined in a template's text: the name.
fn find_macro(text: &str, name: &str) -> Option<Range<usize>> {
    tags(text).into_iter().find_map(|tag| {
        if tag.kind != b'%' || tag.word(text) != "macro" {
            return None;
        }
        let inner = tag.inner(text);
        let rest = inner["macro".len()..].trim_start();
        let word_end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if &rest[..word_end] != name {
            return None;
        }
        let from = tag.range.start + text[tag.range.clone()].find(rest)?;
        Some(from..from + name.len())
    })
}

/// Where `{% include "NAME" %}` (or `extends`) names a template in a text.
fn find_include(text: &str, name: &str) -> Option<Range<usize>> {
    find_tag_naming(text, &["include", "extends"], name)
}

/// Where a `{% WORD ... "NAME" %}` tag names a template in a text: the name.
fn find_tag_naming(text: &str, words: &[&str], name: &str) -> Option<Range<usize>> {
    tags(text).into_iter().find_map(|tag| {
        if tag.kind != b'%' || !words.contains(&tag.word(text)) {
            return None;
        }
        let tag_text = &text[tag.range.clone()];
        ['"', '\'', '`'].iter().find_map(|q| {
            let quoted = format!("{q}{name}{q}");
            tag_text
                .find(&quoted)
                .map(|i| tag.range.start + i + 1..tag.range.start + i + 1 + name.len())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_skip_strings_comments_and_raw() {
        let text = "a {{ \"}}\" }} {# {% if %} #} {% raw %}{% if x %}{% endraw %} {% if y %}";
        let words: Vec<String> = tags(text)
            .iter()
            .map(|t| format!("{}{}", t.kind as char, t.word(text)))
            .collect();
        assert_eq!(words, ["{", "#", "%raw", "%endraw", "%if"]);
    }

    #[test]
    fn expression_size_counts_brackets_and_operators_outside_strings() {
        assert_eq!(expression_size("(a + [1, 2]) and not b"), (2, 3));
        assert_eq!(expression_size("\"((( + + +\" ~ x"), (0, 1));
    }

    #[test]
    fn range_is_bounded() {
        let args = |pairs: &[(&str, i64)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(*v)))
                .collect::<HashMap<_, _>>()
        };
        start_render();
        assert_eq!(
            range(&args(&[("end", 5), ("step_by", 2)])).ok(),
            Some(serde_json::json!([0, 2, 4]))
        );
        assert!(range(&args(&[("end", 5), ("step_by", 0)])).is_err());
        assert!(range(&args(&[("end", MAX_RANGE as i64 + 1)])).is_err());
        assert!(range(&args(&[("end", -1)])).is_err());
        start_render();
        for _ in 0..MAX_RANGE_PER_RENDER / MAX_RANGE {
            assert!(range(&args(&[("end", MAX_RANGE as i64)])).is_ok());
        }
        assert!(range(&args(&[("end", 1)])).is_err());
        start_render();
        assert!(range(&args(&[("end", 1)])).is_ok());
    }
}

/// A measurement, not a check: `cargo test --release --lib capped_output -- --ignored --nocapture`
/// renders one template (2,000 list items, about 57 kB) with tera's own `render` and through
/// [`CappedOutput`] as [`super::Templates::render`] does, and prints the time of each.
#[cfg(test)]
mod measure {
    use super::*;

    #[test]
    #[ignore]
    fn capped_output_against_plain_render() {
        let mut tera = Tera::default();
        tera.add_raw_template(
            "t.html",
            "{% for i in items %}<li class=\"x\">{{ i }}</li>{% if i is odd %}<b>{{ i * 2 }}</b>{% endif %}\n{% endfor %}",
        )
        .unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("items", &(0..2000).collect::<Vec<u32>>());
        let n = 2000;
        for round in 0..3 {
            let t = std::time::Instant::now();
            for _ in 0..n {
                assert!(!tera.render("t.html", &ctx).unwrap().is_empty());
            }
            let plain = t.elapsed();
            let t = std::time::Instant::now();
            for _ in 0..n {
                start_render();
                let mut out = CappedOutput::new();
                tera.render_to("t.html", &ctx, &mut out).unwrap();
                assert!(!String::from_utf8(out.bytes).unwrap().is_empty());
            }
            let capped = t.elapsed();
            eprintln!(
                "round {round}: tera render {:?}, capped {:?} per output",
                plain / n,
                capped / n
            );
        }
    }
}
