//! Serve, requests: the pure rules that turn a request target into a file of the in-memory site, a
//! redirect or a 404, the Content-Type of each file, and the Host check against DNS rebinding.
//!
//! The site lives in a map keyed by output path, so a request can only ever name a key of that map;
//! these rules still refuse every spelling of a way out (`..`, `%2e%2e`, `%2f`, backslashes, absolute
//! and protocol-relative paths, NUL) outright, so nothing downstream has to think about them.

use std::net::IpAddr;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};

/// Where the live-reload event stream is served. Never a path of a site: ids and slugs cannot start
/// with an underscore.
pub const EVENTS_PATH: &str = "/__fieldbook/events";
/// Where the live-reload script is served.
pub const SCRIPT_PATH: &str = "/__fieldbook/reload.js";
/// Where `serve` says how far it is: `{"generation":N,"settled":true}`, where `generation` counts the
/// change sets it has applied and `settled` says that nothing is pending (the search index
/// included). Tests and benchmarks wait on it instead of guessing with sleeps.
pub const STATUS_PATH: &str = "/__fieldbook/status";

/// What a request target resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A file of the site, by output path (`tools/doudian/index.html`).
    File(String),
    /// A folder asked for without its trailing slash: where to send the browser.
    Redirect(String),
    /// The live-reload event stream.
    Events,
    /// The live-reload script.
    Script,
    /// The server's status (see [`STATUS_PATH`]).
    Status,
    /// Nothing there, or a path that tries to leave the site.
    NotFound,
}

/// Resolve a request target (`/tools/doudian/?q=1`). `exists` tells whether the site has a file at an
/// output path.
pub fn resolve(target: &str, exists: impl Fn(&str) -> bool) -> Resolved {
    let end = target.find(['?', '#']).unwrap_or(target.len());
    let (raw, query) = (&target[..end], &target[end..]);
    if raw == EVENTS_PATH {
        return Resolved::Events;
    }
    if raw == SCRIPT_PATH {
        return Resolved::Script;
    }
    if raw == STATUS_PATH {
        return Resolved::Status;
    }
    let Some(segments) = decode_segments(raw) else {
        return Resolved::NotFound;
    };
    let is_dir = raw.ends_with('/');
    let mut rel = segments.join("/");
    if is_dir {
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str("index.html");
        return if exists(&rel) {
            Resolved::File(rel)
        } else {
            Resolved::NotFound
        };
    }
    if exists(&rel) {
        return Resolved::File(rel);
    }
    if exists(&format!("{rel}/index.html")) {
        let mut location: String = segments.iter().map(|s| format!("/{}", encode(s))).collect();
        location.push('/');
        if query.starts_with('?') {
            location.push_str(&encode_query(
                &query[..query.find('#').unwrap_or(query.len())],
            ));
        }
        return Resolved::Redirect(location);
    }
    Resolved::NotFound
}

/// Split an absolute request path into decoded segments; `None` for any path that is not a plain
/// path below the site's root.
fn decode_segments(raw: &str) -> Option<Vec<String>> {
    let rest = raw.strip_prefix('/')?;
    if rest.starts_with('/') || raw.contains('\\') {
        return None;
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let last = parts.len() - 1;
    let mut out = Vec::with_capacity(parts.len());
    for (n, part) in parts.iter().enumerate() {
        if part.is_empty() {
            // Only the trailing slash may leave an empty segment.
            if n == last {
                continue;
            }
            return None;
        }
        let decoded = percent_decode(part)?;
        let bad_char = |c: char| c == '/' || c == '\\' || c.is_control();
        if decoded == "." || decoded == ".." || decoded.chars().any(bad_char) {
            return None;
        }
        out.push(decoded);
    }
    Some(out)
}

/// Strict percent-decoding: every `%` must start two hex digits (`percent-encoding` would keep a
/// stray `%` as it is, and `%zz` is no name a browser sends), and the result must be UTF-8, which
/// also refuses overlong forms such as `%c0%ae`.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|d| d.into_owned())
}

/// What a path segment of a `Location` header keeps as it is: letters, digits and `-._~` (RFC 3986's
/// unreserved characters); every other byte is `%XX`.
const SEGMENT_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What a query may not carry into a `Location` header: control characters (a bare CR or LF would
/// end the header and start another) and spaces; non-ASCII bytes are always encoded. The rest is kept
/// as the browser sent it.
const QUERY_ESCAPED: &AsciiSet = &CONTROLS.add(b' ');

/// Percent-encode a path segment for a `Location` header.
fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT_ESCAPED).to_string()
}

/// Percent-encode a query for a `Location` header (see [`QUERY_ESCAPED`]).
fn encode_query(query: &str) -> String {
    utf8_percent_encode(query, QUERY_ESCAPED).to_string()
}

/// The Content-Type of an output path, by its extension. The types fieldbook and its theme write
/// are fixed here (text types say UTF-8, since fieldbook writes UTF-8; fonts by their current
/// names); any other extension is looked up with `mime_guess`, and what it does not know is
/// `application/octet-stream`.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "xml" => "application/xml",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        // mime_guess 2.0 still says `application/font-woff` and `application/font-sfnt`.
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "" => "application/octet-stream",
        ext => mime_guess::from_ext(ext)
            .first_raw()
            .unwrap_or("application/octet-stream"),
    }
}

/// Whether a request's Host header names this server: `localhost` or the loopback address it listens
/// on, or the address it is bound to, with its port. A page on another site that points its own name
/// at 127.0.0.1 (DNS rebinding) sends its own name, and is refused. When bound to every interface,
/// any IP address is accepted (a rebinding attack needs a name, not an address).
pub fn host_allowed(host: Option<&str>, bind: IpAddr, port: u16) -> bool {
    let Some(host) = host.map(str::trim) else {
        return false;
    };
    let (name, host_port) = split_host(host);
    match host_port {
        Some(p) if p == port => {}
        None if port == 80 => {}
        _ => return false,
    }
    if name.eq_ignore_ascii_case("localhost") {
        return bind.is_loopback() || bind.is_unspecified();
    }
    let Ok(ip) = name.parse::<IpAddr>() else {
        return false;
    };
    ip == bind || (bind.is_loopback() && ip.is_loopback()) || bind.is_unspecified()
}

/// `[::1]:8080` -> (`::1`, 8080); `localhost:80` -> (`localhost`, 80); a bad port gives `Some(0)`.
fn split_host(host: &str) -> (&str, Option<u16>) {
    let parse_port = |p: &str| Some(p.parse::<u16>().unwrap_or(0));
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, "")) => (ip, None),
            Some((ip, tail)) => match tail.strip_prefix(':') {
                Some(p) => (ip, parse_port(p)),
                None => ("", Some(0)),
            },
            None => ("", Some(0)),
        };
    }
    match host.rsplit_once(':') {
        Some((name, p)) if !name.contains(':') => (name, parse_port(p)),
        Some(_) => ("", Some(0)),
        None => (host, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(path: &str) -> bool {
        [
            "index.html",
            "tools/doudian/index.html",
            "style.css",
            "a b/index.html",
            "404.html",
        ]
        .contains(&path)
    }

    #[test]
    fn pages_and_files_resolve() {
        assert_eq!(resolve("/", site), Resolved::File("index.html".into()));
        assert_eq!(
            resolve("/tools/doudian/", site),
            Resolved::File("tools/doudian/index.html".into())
        );
        assert_eq!(
            resolve("/style.css?v=3", site),
            Resolved::File("style.css".into())
        );
        assert_eq!(
            resolve("/a%20b/", site),
            Resolved::File("a b/index.html".into())
        );
        assert_eq!(resolve("/missing/", site), Resolved::NotFound);
        assert_eq!(resolve("/tools/", site), Resolved::NotFound);
    }

    #[test]
    fn folders_without_slash_redirect() {
        assert_eq!(
            resolve("/tools/doudian", site),
            Resolved::Redirect("/tools/doudian/".into())
        );
        assert_eq!(
            resolve("/tools/doudian?x=1#top", site),
            Resolved::Redirect("/tools/doudian/?x=1".into())
        );
        assert_eq!(
            resolve("/a%20b", site),
            Resolved::Redirect("/a%20b/".into())
        );
    }

    #[test]
    fn redirect_query_cannot_inject_headers() {
        // A bare LF or CR in a request target reaches the resolver; copied into `Location:` as it
        // was, it would start a header of the attacker's choosing.
        assert_eq!(
            resolve("/tools/doudian?x\nSet-Cookie:%20a=b\r\u{7f}é", site),
            Resolved::Redirect("/tools/doudian/?x%0ASet-Cookie:%20a=b%0D%7F%C3%A9".into())
        );
    }

    #[test]
    fn reserved_paths() {
        assert_eq!(resolve(EVENTS_PATH, site), Resolved::Events);
        assert_eq!(resolve(STATUS_PATH, site), Resolved::Status);
        assert_eq!(
            resolve("/__fieldbook/reload.js?v=1", site),
            Resolved::Script
        );
        assert_eq!(resolve("/__fieldbook/other", site), Resolved::NotFound);
    }

    #[test]
    fn every_way_out_is_refused() {
        let all = |_: &str| true;
        for target in [
            "/../etc/passwd",
            "/tools/../../etc/passwd",
            "/tools/..",
            "/./style.css",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/%2e%2e/etc/passwd",
            "/.%2e/etc/passwd",
            "/tools%2f..%2f..%2fetc/passwd",
            "/tools%2Fdoudian/",
            "/..%5c..%5cetc/passwd",
            "/tools\\..\\..\\etc\\passwd",
            "/%5c%5cserver/share",
            "//etc/passwd",
            "///etc/passwd",
            "/tools//doudian/",
            "/%00",
            "/style.css%00.html",
            "/%zz",
            "/%c0%ae%c0%ae/etc/passwd",
            "etc/passwd",
            "http://evil.example/etc/passwd",
            "*",
            "",
        ] {
            assert_eq!(resolve(target, all), Resolved::NotFound, "{target}");
        }
    }

    #[test]
    fn double_encoding_is_a_plain_name() {
        // `%252e%252e` decodes once, to the literal name `%2e%2e`, which the site does not have.
        assert_eq!(resolve("/%252e%252e/etc/passwd", site), Resolved::NotFound);
        let only = |p: &str| p == "%2e%2e/etc/passwd";
        assert_eq!(
            resolve("/%252e%252e/etc/passwd", only),
            Resolved::File("%2e%2e/etc/passwd".into())
        );
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("a/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("style.CSS"), "text/css; charset=utf-8");
        assert_eq!(
            content_type("fieldbook.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("graph.json"), "application/json");
        assert_eq!(content_type("sitemap.xml"), "application/xml");
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("img/cat.jpeg"), "image/jpeg");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
        // Beyond fieldbook's own types, `mime_guess` knows the extension.
        assert_eq!(content_type("img/cat.PNG"), "image/png");
        assert_eq!(content_type("fonts/a.woff"), "font/woff");
        assert_eq!(content_type("a.webp"), "image/webp");
        assert_eq!(content_type("doc/guide.pdf"), "application/pdf");
        assert_eq!(content_type("a.no-such-ext"), "application/octet-stream");
        assert_eq!(content_type("v1.2/file"), "application/octet-stream");
    }

    #[test]
    fn host_header_must_name_this_server() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(host_allowed(Some("127.0.0.1:1111"), lo, 1111));
        assert!(host_allowed(Some("localhost:1111"), lo, 1111));
        assert!(host_allowed(Some("LOCALHOST:1111"), lo, 1111));
        assert!(host_allowed(Some("[::1]:1111"), lo, 1111));
        assert!(!host_allowed(Some("127.0.0.1:2222"), lo, 1111));
        assert!(!host_allowed(Some("127.0.0.1"), lo, 1111));
        assert!(!host_allowed(Some("evil.example:1111"), lo, 1111));
        assert!(!host_allowed(Some("127.0.0.1.evil.example:1111"), lo, 1111));
        assert!(!host_allowed(Some("192.168.1.5:1111"), lo, 1111));
        assert!(!host_allowed(None, lo, 1111));
        assert!(!host_allowed(Some("[::1:1111"), lo, 1111));
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        assert!(host_allowed(Some("192.168.1.5:1111"), any, 1111));
        assert!(host_allowed(Some("localhost:1111"), any, 1111));
        assert!(!host_allowed(Some("evil.example:1111"), any, 1111));
        let lan: IpAddr = "192.168.1.5".parse().unwrap();
        assert!(host_allowed(Some("192.168.1.5:1111"), lan, 1111));
        assert!(!host_allowed(Some("localhost:1111"), lan, 1111));
        assert!(host_allowed(Some("192.168.1.5"), lan, 80));
    }
}
