//! The last check on markup made from an author's text by another crate (MathML from TeX, SVG from
//! Mermaid) before it goes into a page as it is.
//!
//! Those crates escape labels and write only their own elements, but a formula or a diagram can
//! still ask for a link (`click A "javascript:..."`) or a style, and a future version may write
//! something new. So their output is read again here, tag by tag, and only what is listed is kept:
//! known elements, known attributes, no `on...` handler, no link or `url()` that runs script or
//! fetches anything, no comments, processing instructions or CDATA. Elements that are not listed
//! are dropped with everything inside them.

use std::fmt::Write as _;

/// What one kind of markup may keep.
pub(super) struct Policy {
    /// Elements kept (case-sensitive, as SVG writes `linearGradient`).
    pub elements: &'static [&'static str],
    /// Attributes kept on any kept element.
    pub attributes: &'static [&'static str],
    /// Elements on which `href` (or `xlink:href`) may point outside the page (`http:`, `https:`,
    /// `mailto:`, a relative path); on all others it may only name a fragment (`#id`).
    pub links_on: &'static [&'static str],
}

/// MathML Core, as math-core writes it.
pub(super) const MATHML: Policy = Policy {
    elements: &[
        "math",
        "semantics",
        "annotation",
        "mrow",
        "mi",
        "mn",
        "mo",
        "ms",
        "mspace",
        "mtext",
        "mfrac",
        "msqrt",
        "mroot",
        "mstyle",
        "merror",
        "mpadded",
        "mphantom",
        "msub",
        "msup",
        "msubsup",
        "munder",
        "mover",
        "munderover",
        "mmultiscripts",
        "mprescripts",
        "none",
        "mtable",
        "mtr",
        "mtd",
        "menclose",
    ],
    attributes: &[
        "display",
        "displaystyle",
        "scriptlevel",
        "mathvariant",
        "mathsize",
        "mathcolor",
        "mathbackground",
        "lspace",
        "rspace",
        "stretchy",
        "symmetric",
        "largeop",
        "movablelimits",
        "accent",
        "accentunder",
        "form",
        "minsize",
        "maxsize",
        "linethickness",
        "width",
        "height",
        "depth",
        "voffset",
        "notation",
        "columnalign",
        "columnspan",
        "rowspan",
        "rowalign",
        "columnspacing",
        "rowspacing",
        "columnlines",
        "rowlines",
        "frame",
        "framespacing",
        "class",
        "style",
        "dir",
        "encoding",
        "xmlns",
    ],
    links_on: &[],
};

/// SVG as mermaid-rs-renderer writes it: shapes, text, markers and gradients; links from `click`.
pub(super) const SVG: Policy = Policy {
    elements: &[
        "svg",
        "g",
        "defs",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "textPath",
        "title",
        "desc",
        "marker",
        "clipPath",
        "mask",
        "pattern",
        "linearGradient",
        "radialGradient",
        "stop",
        "symbol",
        "use",
        "a",
    ],
    attributes: &[
        "xmlns",
        "xmlns:xlink",
        "width",
        "height",
        "viewBox",
        "preserveAspectRatio",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "dx",
        "dy",
        "d",
        "points",
        "transform",
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "opacity",
        "clip-path",
        "clip-rule",
        "mask",
        "marker-start",
        "marker-mid",
        "marker-end",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "alignment-baseline",
        "baseline-shift",
        "letter-spacing",
        "text-decoration",
        "textLength",
        "lengthAdjust",
        "startOffset",
        "id",
        "class",
        "style",
        "role",
        "aria-label",
        "aria-hidden",
        "refX",
        "refY",
        "markerWidth",
        "markerHeight",
        "markerUnits",
        "orient",
        "gradientUnits",
        "gradientTransform",
        "patternUnits",
        "patternTransform",
        "clipPathUnits",
        "maskUnits",
        "offset",
        "stop-color",
        "stop-opacity",
        "fx",
        "fy",
        "visibility",
        "display",
        "data-edge-id",
        "data-id",
        "href",
        "xlink:href",
        "target",
        "vector-effect",
        "shape-rendering",
        "pathLength",
    ],
    links_on: &["a"],
};

/// `markup` with only what `policy` allows, or why it cannot be read (it is not well-formed). Each
/// `id`, and each reference to one (`url(#id)`, `href="#id"` off links), gets `id_prefix` in front,
/// so that two drawings on a page do not share ids.
pub(super) fn clean(markup: &str, policy: &Policy, id_prefix: &str) -> Result<String, String> {
    let mut out = String::with_capacity(markup.len());
    let mut rest = markup;
    // Open elements: (name, kept). Inside an element that is not kept, nothing is.
    let mut open: Vec<(&str, bool)> = Vec::new();
    let mut dropping = 0usize;
    while let Some(lt) = rest.find('<') {
        if dropping == 0 {
            out.push_str(&rest[..lt]);
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').ok_or("an end tag is not closed")?;
            let name = after[..end].trim();
            match open.pop() {
                Some((n, kept)) if n == name => {
                    if !kept {
                        dropping -= 1;
                    } else if dropping == 0 {
                        let _ = write!(out, "</{name}>");
                    }
                }
                _ => return Err(format!("`</{name}>` closes no open element")),
            }
            rest = &after[end + 1..];
            continue;
        }
        if rest.starts_with("<!--") {
            let end = rest.find("-->").ok_or("a comment is not closed")?;
            rest = &rest[end + 3..];
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            // A doctype, CDATA or processing instruction: never needed inline.
            return Err("markup declarations are not allowed".into());
        }
        let (tag, len) = read_tag(&rest[1..])?;
        rest = &rest[1 + len..];
        let kept = dropping == 0 && policy.elements.contains(&tag.name);
        if kept {
            let _ = write!(out, "<{}", tag.name);
            for (name, value) in &tag.attributes {
                if let Some(value) = allowed_attribute(policy, tag.name, name, value, id_prefix) {
                    let _ = write!(out, " {name}=\"{value}\"");
                }
            }
            out.push_str(if tag.self_closing { "/>" } else { ">" });
        }
        if !tag.self_closing {
            if !kept {
                dropping += 1;
            }
            open.push((tag.name, kept));
        }
    }
    if dropping == 0 {
        out.push_str(rest);
    }
    if let Some((name, _)) = open.last() {
        return Err(format!("`<{name}>` is not closed"));
    }
    Ok(out)
}

struct Tag<'a> {
    name: &'a str,
    attributes: Vec<(&'a str, &'a str)>,
    self_closing: bool,
}

/// Read a start tag after its `<`: the tag and its length up to and with the `>`.
fn read_tag(s: &str) -> Result<(Tag<'_>, usize), String> {
    let name_len = s
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .ok_or("a tag is not closed")?;
    let name = &s[..name_len];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == ':') {
        return Err(format!("`<{name}` is not an element name"));
    }
    let mut tag = Tag {
        name,
        attributes: Vec::new(),
        self_closing: false,
    };
    let mut i = name_len;
    loop {
        let rest = &s[i..];
        let trimmed = rest.trim_start();
        if let Some(after) = trimmed.strip_prefix("/>") {
            tag.self_closing = true;
            return Ok((tag, s.len() - after.len()));
        }
        if let Some(after) = trimmed.strip_prefix('>') {
            return Ok((tag, s.len() - after.len()));
        }
        let eq = trimmed
            .find('=')
            .ok_or_else(|| format!("an attribute of `<{name}>` has no value"))?;
        let attr = trimmed[..eq].trim_end();
        if attr.is_empty()
            || !attr
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '_'))
        {
            return Err(format!("`{attr}` is not an attribute name"));
        }
        let after_eq = trimmed[eq + 1..].trim_start();
        let quote = after_eq
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\''))
            .ok_or_else(|| format!("the value of `{attr}` is not quoted"))?;
        let value_start = &after_eq[1..];
        let close = value_start
            .find(quote)
            .ok_or_else(|| format!("the value of `{attr}` is not closed"))?;
        let value = &value_start[..close];
        if value.contains('<') {
            return Err(format!("the value of `{attr}` holds a `<`"));
        }
        tag.attributes.push((attr, value));
        i = s.len() - value_start[close + 1..].len();
    }
}

/// The attribute as it may be written (double-quoted), or `None` to leave it out.
fn allowed_attribute(
    policy: &Policy,
    element: &str,
    name: &str,
    value: &str,
    id_prefix: &str,
) -> Option<String> {
    if !policy.attributes.contains(&name) || name.to_ascii_lowercase().starts_with("on") {
        return None;
    }
    let decoded = decode_entities(value)?;
    let lower = decoded.to_ascii_lowercase();
    let squeezed: String = lower
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    // CSS and presentation attributes may reference only this document's own ids.
    let mut urls = squeezed.match_indices("url(");
    if urls.any(|(i, _)| {
        let inner = squeezed[i + 4..].trim_start_matches(['"', '\'']);
        !inner.starts_with('#')
    }) {
        return None;
    }
    if name == "style"
        && (squeezed.contains("expression")
            || squeezed.contains("@import")
            || squeezed.contains('\\')
            || squeezed.contains("/*"))
    {
        return None;
    }
    if name == "href" || name == "xlink:href" {
        let local = squeezed.starts_with('#');
        let outward = policy.links_on.contains(&element)
            && (squeezed.starts_with("https://")
                || squeezed.starts_with("http://")
                || squeezed.starts_with("mailto:")
                || !squeezed.contains(':'));
        if !(local || outward) || squeezed.starts_with("//") {
            return None;
        }
    }
    let decoded = if id_prefix.is_empty() {
        decoded
    } else if name == "id" {
        format!("{id_prefix}{decoded}")
    } else if (name == "href" || name == "xlink:href") && !policy.links_on.contains(&element) {
        decoded.replacen('#', &format!("#{id_prefix}"), 1)
    } else {
        decoded
            .replace("url(#", &format!("url(#{id_prefix}"))
            .replace("url('#", &format!("url('#{id_prefix}"))
            .replace("url(\"#", &format!("url(\"#{id_prefix}"))
    };
    Some(
        decoded
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;"),
    )
}

/// The text of an attribute value with its character references read, or `None` when it holds one
/// that is not plainly one of XML's five or a number: HTML knows two thousand names (`&colon;`), and
/// a value that hides a character behind one is not worth reading.
pub(super) fn decode_entities(value: &str) -> Option<String> {
    if !value.contains('&') {
        return Some(value.to_string());
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';')?;
        let name = &after[..semi];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = name.strip_prefix(['#']).and_then(|n| {
                    n.strip_prefix('x')
                        .or_else(|| n.strip_prefix('X'))
                        .map(|h| u32::from_str_radix(h, 16))
                }) {
                    hex.ok()?
                } else {
                    name.strip_prefix('#')?.parse().ok()?
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// For tests: every tag of `html` is one a browser runs no script from: no `<script>`, `<iframe>`,
/// `<object>`, `<embed>`, `<foreignObject>` or `<img>`, no `on...` attribute, and no attribute value
/// with `javascript:`, `data:` or a `url()` of anything but `#id`.
#[cfg(test)]
pub(crate) fn script_free(html: &str) -> Result<(), String> {
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        let after = &rest[lt + 1..];
        let end = after.find('>').ok_or("a tag is not closed")?;
        let tag = &after[..end];
        rest = &after[end..];
        if tag.starts_with('/') {
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect::<String>()
            .to_ascii_lowercase();
        if [
            "script",
            "iframe",
            "object",
            "embed",
            "foreignobject",
            "img",
            "style",
            "image",
        ]
        .contains(&name.as_str())
        {
            return Err(format!("a <{name}> element"));
        }
        let attrs = &tag[name.len()..];
        let mut parts = attrs.split('"');
        while let (Some(key), Some(value)) = (parts.next(), parts.next()) {
            let key = key.trim().trim_end_matches('=').to_ascii_lowercase();
            let value: String = value
                .to_ascii_lowercase()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if key.starts_with("on") {
                return Err(format!("an `{key}` attribute"));
            }
            if key == "title" || key == "aria-label" {
                continue; // text, never a URL or CSS
            }
            if value.contains("javascript:") || value.contains("data:") {
                return Err(format!("`{key}=\"{value}\"`"));
            }
            if value.contains("url(") && !value.contains("url(#") {
                return Err(format!("`{key}=\"{value}\"`"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_listed_markup_as_written() {
        let svg = "<svg viewBox=\"0 0 10 10\"><g class=\"n\"><rect x=\"1\" fill=\"url(#g)\"/><text>a &lt; b</text></g></svg>";
        assert_eq!(clean(svg, &SVG, "").unwrap(), svg);
        let math = "<math display=\"block\"><mfrac><mn>1</mn><mi>x</mi></mfrac></math>";
        assert_eq!(clean(math, &MATHML, "").unwrap(), math);
    }

    #[test]
    fn drops_scripts_handlers_and_outside_urls() {
        let svg = "<svg onload=\"alert(1)\"><script>alert(2)</script><foreignObject><div>x</div></foreignObject>\
                   <a href=\"javascript:alert(3)\" xlink:href=\"java&#x09;script:alert(4)\"><text>t</text></a>\
                   <a href=\"https://example.org/\"><text>ok</text></a>\
                   <rect fill=\"url(https://evil.example/x.svg#a)\" stroke=\"url( 'javascript:x')\" style=\"background:url(//x)\"/>\
                   <use href=\"https://evil.example/s.svg#a\"/><use href=\"#m\"/>\
                   <rect style=\"fill:red;\\75rl(x)\"/><rect fill=\"a&colon;b\"/><!-- c --></svg>";
        let out = clean(svg, &SVG, "").unwrap();
        assert_eq!(
            out,
            "<svg><a><text>t</text></a><a href=\"https://example.org/\"><text>ok</text></a>\
             <rect/><use/><use href=\"#m\"/><rect/><rect/></svg>"
        );
        let math = "<math><a href=\"javascript:x\"><mi>x</mi></a><mi id=\"x\" onclick=\"y\" href=\"#z\">y</mi></math>";
        assert_eq!(clean(math, &MATHML, "").unwrap(), "<math><mi>y</mi></math>");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "<svg><g></svg>",
            "<svg>",
            "</g>",
            "<svg x=1>",
            "<svg x=\"1>",
            "<svg x=\"<\">",
            "<!DOCTYPE svg><svg/>",
            "<![CDATA[x]]>",
            "<svg <g>",
            "<svg",
        ] {
            assert!(clean(bad, &SVG, "").is_err(), "{bad}");
        }
    }

    #[test]
    fn single_quoted_values_are_requoted() {
        assert_eq!(
            clean(
                "<svg><text font-family='\"Inter\", sans'>x</text></svg>",
                &SVG,
                ""
            )
            .unwrap(),
            "<svg><text font-family=\"&quot;Inter&quot;, sans\">x</text></svg>"
        );
    }

    #[test]
    fn ids_and_references_get_the_prefix() {
        let svg = "<svg><marker id=\"m\"/><path marker-end=\"url(#m)\" style=\"fill:url('#g')\"/>\
                   <use href=\"#m\"/><a href=\"#setup\"><text>t</text></a></svg>";
        assert_eq!(
            clean(svg, &SVG, "d1-").unwrap(),
            "<svg><marker id=\"d1-m\"/><path marker-end=\"url(#d1-m)\" style=\"fill:url('#d1-g')\"/>\
             <use href=\"#d1-m\"/><a href=\"#setup\"><text>t</text></a></svg>"
        );
    }
}
