//! Integration tests of the `guanxi` binary (one test binary for the crate; DESIGN.md section 9).

mod analytics;
