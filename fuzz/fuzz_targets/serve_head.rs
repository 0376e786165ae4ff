//! Fuzz target `serve_head`: the request-head parser of `serve` (`httparse` and the server's own
//! checks). No panic; a head it accepts has a method, a target and a Host value without control
//! characters, fits in the limit and ends inside the input.

#![no_main]

use fieldbook::serve::http::{parse_request_head, HeadError, MAX_HEAD};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_request_head(data) {
        Ok(Some(head)) => {
            assert!(head.len <= data.len() && head.len <= MAX_HEAD, "{head:?}");
            assert!(
                !head.target.is_empty()
                    && !head.target.bytes().any(|b| b.is_ascii_control() || b == b' '),
                "target {:?}",
                head.target
            );
            if let Some(host) = &head.host {
                assert!(host.bytes().all(|b| b.is_ascii_graphic()), "host {host:?}");
            }
            // The same head, whole, parses the same way however much follows it.
            let again = parse_request_head(&data[..head.len]);
            assert_eq!(again, Ok(Some(head.clone())));
            // What it names goes on to the resolver and the Host check.
            let _ = fieldbook::serve::path::resolve(&head.target, |p| p.ends_with("index.html"));
            let lo = std::net::IpAddr::from([127, 0, 0, 1]);
            let _ = fieldbook::serve::path::host_allowed(head.host.as_deref(), lo, 8080);
        }
        // Not complete yet: only while it is shorter than the limit.
        Ok(None) => assert!(data.len() < MAX_HEAD),
        Err(HeadError::Malformed(why)) => assert!(!why.is_empty()),
        Err(HeadError::TooLarge) => {}
        Err(HeadError::Gone) => panic!("the parser never says Gone"),
    }
});
