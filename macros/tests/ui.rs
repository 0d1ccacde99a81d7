//! Compile-time behaviour of the macros: what compiles, and the errors for what does not.
//!
//! Each failing case has its expected compiler output beside it (`.stderr`); regenerate them with
//! `TRYBUILD=overwrite cargo test -p weir-macros --test ui` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
