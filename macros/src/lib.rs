//! Procedural macros for [weir](https://docs.rs/weir).
//!
//! This crate is re-exported by `weir` (feature `macros`, on by default); depend on `weir`, not on
//! this crate. `let_flow!` and `pipeline!` arrive here; generated code reaches weir only through
//! the hidden `weir::__private` module.
