//! Generation: the parsed pipeline as ordinary weir calls through `::weir::__private`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::parse::{Pipeline, SinkSpec, Stage};

pub(super) fn generate(pipeline: &Pipeline) -> TokenStream {
    // Mixed-site hygiene: the user's expressions cannot see (or shadow) these bindings.
    let chain = format_ident!("chain", span = Span::mixed_site());
    let fan_out = format_ident!("fan_out", span = Span::mixed_site());
    let sinks = format_ident!("sinks", span = Span::mixed_site());
    let into_fan_out = format_ident!("into_fan_out", span = Span::mixed_site());
    let source = &pipeline.source;
    let stages = pipeline
        .stages
        .iter()
        .map(|stage| stage_call(stage, &chain));
    let connects = if pipeline.fan_out {
        let connects = pipeline.sinks.iter().map(|sink| {
            let from = quote!(::core::clone::Clone::clone(&#fan_out));
            connect_call(&from, sink, true)
        });
        // The sinks are connected before the chain, so that every sink is in place before the
        // first message reaches the fan-out channel.
        quote! {
            let #fan_out = ::weir::__private::Channel::builder()
                .description("pipeline fan-out")
                .build();
            let #sinks = [#(#connects),*];
            let #into_fan_out = ::weir::__private::connect(
                #chain,
                ::core::clone::Clone::clone(&#fan_out),
                ::weir::__private::ConnectOptions::new(),
            );
            ::weir::__private::zip_all(
                ::core::iter::Iterator::chain(::core::iter::once(#into_fan_out), #sinks),
            )
            .map(|_| ())
        }
    } else {
        connect_call(&quote!(#chain), &pipeline.sinks[0], false)
    };
    quote! {
        {
            let #chain = #source;
            #(#stages)*
            #connects
        }
    }
}

/// `let chain = SourceExt::method(chain, args);`, then `named` when the stage has a label.
fn stage_call(stage: &Stage, chain: &syn::Ident) -> TokenStream {
    let Stage {
        method,
        turbofish,
        args,
        label,
    } = stage;
    // The call is spanned at the method name, so that "cannot find method `frobnicate` in trait
    // `SourceExt`" and argument type errors point at what the user wrote. The `<_ as ..>` form
    // makes rustc name the trait in that error.
    let path = quote_spanned!(method.span()=> <_ as ::weir::__private::SourceExt>::#method);
    let args = args.iter();
    let call = quote_spanned! {method.span()=>
        let #chain = #path #turbofish (#chain #(, #args)*);
    };
    match label {
        Some(label) => quote! {
            #call
            let #chain = ::weir::__private::SourceExt::named(#chain, #label);
        },
        None => call,
    }
}

/// `connect(from, sink, ConnectOptions::new().key(value)...)`, or `connect_fan_out` for one of
/// several sinks of the same source.
fn connect_call(from: &TokenStream, sink: &SinkSpec, fan_out: bool) -> TokenStream {
    let connect = if fan_out {
        quote!(connect_fan_out)
    } else {
        quote!(connect)
    };
    let expr = &sink.expr;
    let options = sink.options.iter().map(|option| {
        let (key, value) = (&option.key, &option.value);
        quote_spanned!(value.span()=> .#key(#value))
    });
    quote_spanned! {expr.span()=>
        ::weir::__private::#connect(
            #from,
            #expr,
            ::weir::__private::ConnectOptions::new() #(#options)*,
        )
    }
}
