//! Integration tests: the real `fieldbook` binary against small sites written into temp folders.

mod serve;
