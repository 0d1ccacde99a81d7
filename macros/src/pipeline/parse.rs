//! Parsing: the input split at its top-level `=>` arrows into a source, stages and sinks.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{AngleBracketedGenericArguments, Expr, Ident, LitStr, Token, braced, bracketed};

/// A whole pipeline: `source => stage(..) => ... => sinks`.
pub(super) struct Pipeline {
    pub(super) source: Expr,
    pub(super) stages: Vec<Stage>,
    pub(super) sinks: Vec<SinkSpec>,
    /// True when the sinks were written as a bracketed list (a fan-out, even of one sink).
    pub(super) fan_out: bool,
}

/// One combinator: `method::<..>(args) as "label"`.
pub(super) struct Stage {
    pub(super) method: Ident,
    pub(super) turbofish: Option<AngleBracketedGenericArguments>,
    pub(super) args: Punctuated<Expr, Token![,]>,
    pub(super) label: Option<LitStr>,
}

/// One sink with its connect options: `sink { upstream: true, .. }`.
pub(super) struct SinkSpec {
    pub(super) expr: Expr,
    pub(super) options: Vec<ConnectOption>,
}

/// One `key: value` connect option.
pub(super) struct ConnectOption {
    pub(super) key: Ident,
    pub(super) value: Expr,
}

/// The connect options a sink may have, as `ConnectOptions` builder methods.
const OPTIONS: [&str; 4] = ["downstream", "upstream", "timeout", "description"];

/// `SourceExt` methods that are not stages: the ones that consume the source and return
/// something that is not a source, and `named`, which `as "label"` writes.
const NOT_STAGES: [&str; 7] = [
    "reduce",
    "consume",
    "consume_async",
    "drain_into",
    "into_blocking_iter",
    "into_blocking_iter_timeout",
    "named",
];

/// One stretch of tokens between arrows, with the arrow that precedes it (if any).
struct Segment {
    arrow: Option<TokenStream>,
    tokens: TokenStream,
}

pub(super) fn parse(input: TokenStream) -> syn::Result<Pipeline> {
    if input.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "empty pipeline: write `pipeline!(source => stage(..) => sink)`",
        ));
    }
    let segments = split(input);
    for (index, segment) in segments.iter().enumerate() {
        if segment.tokens.is_empty() {
            let message = if index == 0 {
                "expected a source before `=>`: write `pipeline!(source => sink)`"
            } else if index + 1 == segments.len() {
                "expected a sink after the last `=>`: end the pipeline with a sink, as in \
                 `=> sink` or `=> [sink_a, sink_b]`"
            } else {
                "expected a stage between these arrows, such as `=> map_each(|x| x + 1) =>`; \
                 remove the extra `=>`"
            };
            // The arrow after an empty source, the arrow before any other empty segment.
            let arrow = segments[index.max(1)].arrow.clone().unwrap_or_default();
            return Err(syn::Error::new_spanned(arrow, message));
        }
    }
    let mut segments = segments.into_iter();
    let first = segments.next().expect("split yields at least one segment");
    let source: Expr = syn::parse2(first.tokens.clone())?;
    let mut rest: Vec<Segment> = segments.collect();
    let Some(last) = rest.pop() else {
        return Err(syn::Error::new_spanned(
            &source,
            "a pipeline needs a sink: write `pipeline!(source => sink)`, or \
             `pipeline!(source => map_each(f) => sink)` with stages between",
        ));
    };
    let stages = rest
        .into_iter()
        .map(|segment| parse_stage.parse2(segment.tokens))
        .collect::<syn::Result<Vec<_>>>()?;
    let (sinks, fan_out) = parse_sinks.parse2(last.tokens)?;
    Ok(Pipeline {
        source,
        stages,
        sinks,
        fan_out,
    })
}

/// Splits the tokens at every `=>` outside brackets. Arrows inside groups (a `match` in a
/// closure, say) stay where they are.
fn split(input: TokenStream) -> Vec<Segment> {
    let mut segments = vec![Segment {
        arrow: None,
        tokens: TokenStream::new(),
    }];
    let mut tokens = input.into_iter().peekable();
    while let Some(token) = tokens.next() {
        if let TokenTree::Punct(eq) = &token {
            if eq.as_char() == '=' && eq.spacing() == proc_macro2::Spacing::Joint {
                if let Some(TokenTree::Punct(gt)) = tokens.peek() {
                    if gt.as_char() == '>' {
                        let arrow =
                            TokenStream::from_iter([token.clone(), tokens.next().expect("peeked")]);
                        segments.push(Segment {
                            arrow: Some(arrow),
                            tokens: TokenStream::new(),
                        });
                        continue;
                    }
                }
            }
        }
        let current = segments.last_mut().expect("never empty");
        current.tokens.extend([token]);
    }
    segments
}

/// Manifold's names of `SourceExt` methods that weir renamed, with their weir names.
const RENAMED: &[(&str, &str)] = &[
    ("map", "map_each"),
    ("filter", "filter_each"),
    ("zip", "zip_each"),
    ("concat", "flatten_each"),
    ("buffer", "read_ahead"),
    ("buffer_by", "read_ahead_by"),
];

const STAGE_HELP: &str = "a stage is a `SourceExt` method call without its receiver, such as \
                          `map_each(|x| x + 1)` or `batch(10)`";

fn parse_stage(input: ParseStream) -> syn::Result<Stage> {
    if !input.peek(Ident) {
        let found: TokenStream = input.parse()?;
        return Err(syn::Error::new_spanned(found, STAGE_HELP));
    }
    let method: Ident = input.parse()?;
    let name = method.to_string();
    if NOT_STAGES.contains(&name.as_str()) {
        let message = if name == "named" {
            "name a stage with `as`: write `map_each(f) as \"label\"` rather than a `named(..)` stage"
                .to_string()
        } else {
            format!(
                "`{name}` consumes the source and returns no source, so it cannot be a \
                 pipeline stage: end the pipeline with a sink, or call `{name}` on a channel \
                 the pipeline feeds"
            )
        };
        return Err(syn::Error::new(method.span(), message));
    }
    if let Some((_, renamed)) = RENAMED.iter().find(|(old, _)| *old == name) {
        return Err(syn::Error::new(
            method.span(),
            format!(
                "weir's `{name}` stage is `{renamed}` (renamed so that it does not collide with \
                 `futures::StreamExt`): write `{renamed}(..)`"
            ),
        ));
    }
    let turbofish = if input.peek(Token![::]) {
        Some(AngleBracketedGenericArguments::parse_turbofish(input)?)
    } else {
        None
    };
    if !input.peek(syn::token::Paren) {
        let message = if input.is_empty() {
            format!(
                "`{name}` needs its arguments in parentheses: write `{name}(..)`, or `{name}()` if it takes none"
            )
        } else {
            format!("{STAGE_HELP}: write `{name}(..)`")
        };
        return Err(syn::Error::new(method.span(), message));
    }
    let content;
    syn::parenthesized!(content in input);
    let args = Punctuated::parse_terminated(&content)?;
    let label = if input.peek(Token![as]) {
        let as_token: Token![as] = input.parse()?;
        if !input.peek(LitStr) {
            let span = if input.is_empty() {
                as_token.span
            } else {
                input.cursor().span()
            };
            return Err(syn::Error::new(
                span,
                "a stage name is a string literal: write `as \"label\"`",
            ));
        }
        Some(input.parse()?)
    } else {
        None
    };
    if !input.is_empty() {
        let extra: TokenStream = input.parse()?;
        return Err(syn::Error::new_spanned(
            extra,
            "unexpected tokens after the stage: separate stages with `=>`, and name one with \
             `as \"label\"`",
        ));
    }
    Ok(Stage {
        method,
        turbofish,
        args,
        label,
    })
}

fn parse_sinks(input: ParseStream) -> syn::Result<(Vec<SinkSpec>, bool)> {
    if input.peek(syn::token::Bracket) && is_single_group(input, Delimiter::Bracket) {
        let content;
        let bracket = bracketed!(content in input);
        let sinks = Punctuated::<SinkSpec, Token![,]>::parse_terminated_with(&content, parse_sink)?;
        if sinks.is_empty() {
            return Err(syn::Error::new(
                bracket.span.join(),
                "a fan-out lists at least one sink: write `=> [sink_a, sink_b]`",
            ));
        }
        return Ok((sinks.into_iter().collect(), true));
    }
    let sink = parse_sink(input)?;
    if !input.is_empty() {
        let extra: TokenStream = input.parse()?;
        return Err(syn::Error::new_spanned(
            extra,
            "unexpected tokens after the sink: the sink ends the pipeline; to feed several \
             sinks write `=> [sink_a, sink_b]`",
        ));
    }
    Ok((vec![sink], false))
}

/// True when the rest of `input` is exactly one group with `delimiter`.
fn is_single_group(input: ParseStream, delimiter: Delimiter) -> bool {
    input
        .cursor()
        .group(delimiter)
        .is_some_and(|(_, _, rest)| rest.eof())
}

fn parse_sink(input: ParseStream) -> syn::Result<SinkSpec> {
    let expr = Expr::parse_without_eager_brace(input)?;
    let mut options: Vec<ConnectOption> = Vec::new();
    if input.peek(syn::token::Brace) {
        let content;
        braced!(content in input);
        while !content.is_empty() {
            let key: Ident = content.parse().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "expected a connect option, such as `upstream: true` or \
                     `timeout: Duration::from_secs(1)`",
                )
            })?;
            let name = key.to_string();
            if !OPTIONS.contains(&name.as_str()) {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown connect option `{name}`: the options are `downstream`, \
                         `upstream`, `timeout` and `description`"
                    ),
                ));
            }
            if options.iter().any(|option| option.key == key) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{name}` is given twice: keep one"),
                ));
            }
            if !content.peek(Token![:]) {
                let example = match name.as_str() {
                    "timeout" => "timeout: Duration::from_secs(1)",
                    "description" => "description: \"to the audit log\"",
                    "downstream" => "downstream: false",
                    _ => "upstream: true",
                };
                return Err(syn::Error::new(
                    key.span(),
                    format!("a connect option is `key: value`: write `{example}`"),
                ));
            }
            content.parse::<Token![:]>()?;
            let value: Expr = content.parse()?;
            options.push(ConnectOption { key, value });
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
    }
    Ok(SinkSpec { expr, options })
}
