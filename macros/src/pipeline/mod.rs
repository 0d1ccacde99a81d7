//! `pipeline!`: a dataflow graph written as `source => stage(..) => sink`.
//!
//! [`parse`] reads the input into a [`parse::Pipeline`] (checking everything that can be checked
//! without types), [`generate`] turns it into ordinary weir calls.

mod generate;
mod parse;

use proc_macro2::TokenStream;

/// Expands one `pipeline!(..)` invocation.
pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let pipeline = parse::parse(input)?;
    Ok(generate::generate(&pipeline))
}
