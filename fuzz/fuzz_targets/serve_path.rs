//! Fuzz target `serve_path`: the `serve` request-target resolver, Host check and Content-Type.
//! Nothing it looks up, serves or redirects to may leave the site.

#![no_main]

use std::cell::RefCell;
use std::path::{Component, Path};

use fieldbook::serve::path::{content_type, host_allowed, resolve, Resolved};
use libfuzzer_sys::fuzz_target;

fn inside(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.contains(char::is_control)
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
        && Path::new(p)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let target = String::from_utf8_lossy(rest);
    let asked = RefCell::new(Vec::new());
    let resolved = resolve(&target, |p: &str| {
        asked.borrow_mut().push(p.to_string());
        first & 1 != 0 || p.ends_with("index.html")
    });
    for p in asked.borrow().iter() {
        assert!(inside(p), "looked up {p:?}");
    }
    match resolved {
        Resolved::File(p) => assert!(inside(&p), "served {p:?}"),
        Resolved::Redirect(loc) => {
            assert!(
                loc.starts_with('/') && !loc.starts_with("//"),
                "redirect to {loc:?}"
            );
            assert!(
                !loc.contains(|c: char| c.is_control() || c.is_whitespace()),
                "redirect header carries {loc:?}"
            );
        }
        _ => {}
    }
    let lo = std::net::IpAddr::from([127, 0, 0, 1]);
    let _ = host_allowed(Some(&target), lo, 8080);
    let _ = content_type(&target);
});
