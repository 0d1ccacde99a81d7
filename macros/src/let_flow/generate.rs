//! Writes the flow out: one task, one `async` block per binding, one slot per bound name.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::analyse::{Plan, Read};
use super::parse::Flow;

/// The expansion of a checked and analysed flow.
pub(crate) fn generate(flow: &Flow, plan: &Plan) -> TokenStream {
    let slot = |index: usize| format_ident!("__weir_slot_{}", index, span = Span::mixed_site());
    let slots = plan.readers.iter().enumerate().map(|(index, readers)| {
        let name = slot(index);
        quote!(let #name = ::weir::__private::Slot::new(#readers);)
    });

    let mut futures = Vec::new();
    let mut dones = Vec::new();
    for (index, (binding, binding_plan)) in flow.bindings.iter().zip(&plan.bindings).enumerate() {
        let future = format_ident!("__weir_binding_{}", index, span = Span::mixed_site());
        let done = format_ident!("__weir_done_{}", index, span = Span::mixed_site());
        let waits = binding_plan.reads.iter().map(|read| {
            let name = slot(read.slot);
            quote!(#name.ready().await;)
        });
        let reads = binding_plan
            .reads
            .iter()
            .map(|read| read_value(read, &slot(read.slot), plan.readers[read.slot]));
        let expr = &binding.expr;
        let ty = binding.ty.as_ref().map(|ty| quote!(: #ty));
        let pat = &binding.pat;
        let value = quote_spanned!(Span::mixed_site()=> __weir_value);
        let wrap = quote_spanned!(Span::mixed_site()=> __weir_wrap);
        let lift = quote_spanned!(expr.span()=> (&&#wrap).__weir_kind().lift(#wrap));
        let puts = binding
            .names
            .iter()
            .zip(&binding_plan.writes)
            .map(|(name, &index)| {
                let slot = slot(index);
                let ident = &name.ident;
                quote!(#slot.put(#ident);)
            });
        futures.push(quote! {
            let mut #future = ::core::pin::pin!(async {
                #(#waits)*
                #(#reads)*
                let #value #ty = {
                    let #wrap = ::weir::__private::Wrap(#expr);
                    #lift
                }
                .await?;
                #[allow(unused_mut)]
                let #pat = #value;
                #(#puts)*
                ::core::result::Result::Ok::<(), ::weir::__private::Error>(())
            });
            let mut #done = false;
        });
        dones.push((future, done));
    }

    let drive = if dones.is_empty() {
        quote!()
    } else {
        let cx = quote_spanned!(Span::mixed_site()=> __weir_cx);
        let steps = dones.iter().map(
            |(future, done)| quote!(::weir::__private::step(#future.as_mut(), &mut #done, #cx)?;),
        );
        let all = dones.iter().map(|(_, done)| done);
        quote! {
            {
                #(#futures)*
                ::weir::__private::poll_fn(|#cx| {
                    #(#steps)*
                    if #(#all)&&* {
                        ::core::task::Poll::Ready(
                            ::core::result::Result::Ok::<(), ::weir::__private::Error>(()),
                        )
                    } else {
                        ::core::task::Poll::Pending
                    }
                })
                .await?;
            }
        }
    };

    let body_reads = plan
        .body
        .iter()
        .map(|read| read_value(read, &slot(read.slot), plan.readers[read.slot]));
    let body = &flow.body;
    quote! {
        ::weir::__private::Deferred::<_, ::weir::__private::Error>::spawn(async move {
            #[allow(unused_imports)]
            use ::weir::__private::{FutureKind as _, TryFutureKind as _, ValueKind as _};
            #(#slots)*
            #drive
            #(#body_reads)*
            ::core::result::Result::Ok::<_, ::weir::__private::Error>(#body)
        })
    }
}

/// `let name = slot.take();` for a slot with one reader, `slot.share()` (a clone for all but the
/// last reader) for more; errors about `Clone` point at the reader's mention.
fn read_value(read: &Read, slot: &syn::Ident, readers: usize) -> TokenStream {
    let ident = &read.ident;
    let mutability = read.mutable.then(|| quote!(mut));
    let get = if readers > 1 {
        // The argument carries the mention's span, so a missing `Clone` is reported there.
        let reader = format_ident!("__weir_reader_{}", ident, span = read.mention.span());
        quote_spanned! {read.mention.span()=> {
            let #reader = &#slot;
            ::weir::__private::share(#reader)
        }}
    } else {
        quote!(#slot.take())
    };
    quote! {
        #[allow(unused_variables, unused_mut)]
        let #mutability #ident = #get;
    }
}
