//! `let_flow!`: `let` bindings whose dependencies are read from the tokens, run concurrently.
//!
//! [`parse`] reads the bindings and the body and rejects what a flow cannot hold, [`analyse`]
//! works out which bindings each binding and the body read, [`generate`] writes the flow out.
//!
//! # Design
//!
//! The whole flow is one task: `Deferred::spawn(async move { .. })`. Inside it every binding is an
//! `async` block, and the blocks are polled side by side. A binding first waits for the *slots*
//! of the bindings it mentions, then evaluates its right-hand side (so it starts exactly when its
//! dependencies are realized, and a binding that mentions none starts on the first poll), awaits
//! it according to its kind (deferred or future of a `Result`, other future, plain value: chosen
//! by autoref specialization on `weir::__private::Wrap`) and leaves each name it binds in a slot
//! of its own. The first binding to fail ends the task with its error, dropping the blocks still
//! in flight. When every binding is done the body runs with the names it mentions bound to their
//! values, inside the task's `Result<_, weir::Error>` context, so `?` works there.
//!
//! A slot read by one reader hands its value over by move. A slot read by several readers (later
//! bindings and the body) hands a clone to each but the last, so such a value must be `Clone`:
//! the readers may run at the same time, which rules out lending the value out.
//!
//! One task rather than one deferred per binding: the flow needs no `'static` bound per binding,
//! values need no `Clone` unless they are shared, and cancelling the flow's deferred drops every
//! binding at once.

mod analyse;
mod generate;
mod parse;

use proc_macro2::TokenStream;

/// Expands one `let_flow! { .. }` invocation.
pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let flow = parse::parse(input)?;
    let plan = analyse::analyse(&flow)?;
    Ok(generate::generate(&flow, &plan))
}
