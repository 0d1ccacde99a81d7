//! Finds which bindings each binding and the body read, from the tokens.
//!
//! An identifier in a right-hand side (or the body) is a *mention* of a binding when it names one
//! and is not:
//! - right after a single `.` (a field or method: `x.a`, `x.a()`; `0..a` is still a mention),
//! - next to `::` (a path segment: `a::K`, `m::a`),
//! - followed by a single `:` (a struct field name or a typed closure parameter: `S { a: 1 }`),
//! - followed by `!` (a macro name: `a!(..)`; `a != b` is still a mention),
//! - after `'` (a lifetime or label).
//!
//! Groups are scanned recursively, so closures and nested macro calls count, and a string literal
//! counts for the `{name}` inline format arguments it holds. A false mention (a closure parameter
//! named like a binding) only adds a dependency: the binding waits a little longer, never wrongly.
//!
//! A mention resolves to the latest binding of that name *before* the mentioning binding, which is
//! what makes shadowing work; the body sees the latest binding of each name.

use proc_macro2::{Delimiter, Ident, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;

use super::parse::Flow;

/// What the generator needs: one slot per bound name, and who reads which slot.
pub(crate) struct Plan {
    /// Per slot: how many readers (bindings and the body) it has.
    pub(crate) readers: Vec<usize>,
    /// Per binding: the slots it reads, and the slot of each name it binds.
    pub(crate) bindings: Vec<BindingPlan>,
    /// The slots the body reads.
    pub(crate) body: Vec<Read>,
}

/// The reads and writes of one binding.
pub(crate) struct BindingPlan {
    pub(crate) reads: Vec<Read>,
    /// The slot of each name in `Binding::names`, in the same order.
    pub(crate) writes: Vec<usize>,
}

/// One read of a bound name, by a binding or the body.
pub(crate) struct Read {
    pub(crate) slot: usize,
    /// The name as bound (its span is the pattern's, so the reader's tokens resolve to it).
    pub(crate) ident: Ident,
    /// The first mention, where errors about this read (`Clone` missing) point.
    pub(crate) mention: Ident,
    pub(crate) mutable: bool,
}

/// Resolves every mention, or reports a name used before the binding that binds it.
pub(crate) fn analyse(flow: &Flow) -> syn::Result<Plan> {
    // Every slot: (name, binding index, mutable, pattern ident).
    let mut slots: Vec<(String, usize, bool, Ident)> = Vec::new();
    let mut bindings = Vec::new();
    for (index, binding) in flow.bindings.iter().enumerate() {
        let mut reads = Vec::new();
        for mention in mentions(binding.expr.to_token_stream()) {
            let name = key(&mention);
            match latest(&slots, &name) {
                Some(slot) => push_read(&mut reads, &slots, slot, mention),
                None => {
                    let later = flow.bindings[index + 1..]
                        .iter()
                        .any(|b| b.names.iter().any(|n| key(&n.ident) == name));
                    if later {
                        return Err(syn::Error::new(
                            mention.span(),
                            format!(
                                "`{name}` is bound later in this let_flow!; move its binding \
                                 above this one (a binding can only read the bindings before it)"
                            ),
                        ));
                    }
                }
            }
        }
        let writes = binding
            .names
            .iter()
            .map(|n| {
                slots.push((key(&n.ident), index, n.mutable, n.ident.clone()));
                slots.len() - 1
            })
            .collect();
        bindings.push(BindingPlan { reads, writes });
    }
    let mut body = Vec::new();
    for mention in mentions(flow.body.to_token_stream()) {
        if let Some(slot) = latest(&slots, &key(&mention)) {
            push_read(&mut body, &slots, slot, mention);
        }
    }
    let mut readers = vec![0; slots.len()];
    for read in bindings.iter().flat_map(|b| &b.reads).chain(&body) {
        readers[read.slot] += 1;
    }
    Ok(Plan {
        readers,
        bindings,
        body,
    })
}

fn key(ident: &Ident) -> String {
    ident.unraw().to_string()
}

fn latest(slots: &[(String, usize, bool, Ident)], name: &str) -> Option<usize> {
    slots.iter().rposition(|(slot_name, ..)| slot_name == name)
}

fn push_read(
    reads: &mut Vec<Read>,
    slots: &[(String, usize, bool, Ident)],
    slot: usize,
    mention: Ident,
) {
    if reads.iter().any(|r| r.slot == slot) {
        return;
    }
    let (_, _, mutable, ident) = &slots[slot];
    reads.push(Read {
        slot,
        ident: ident.clone(),
        mention,
        mutable: *mutable,
    });
}

/// Every identifier in `tokens` that may name a binding, in order (see the module docs).
pub(crate) fn mentions(tokens: TokenStream) -> Vec<Ident> {
    let mut out = Vec::new();
    scan(tokens, &mut out);
    out
}

fn scan(tokens: TokenStream, out: &mut Vec<Ident>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(group) => scan(group.stream(), out),
            TokenTree::Literal(literal) => format_args(literal, out),
            TokenTree::Ident(ident) => {
                let before = |n: usize| i.checked_sub(n).and_then(|j| trees.get(j));
                let after = |n: usize| trees.get(i + n);
                let field = is_punct(before(1), '.', None)
                    && !is_punct(before(2), '.', Some(Spacing::Joint));
                let lifetime = is_punct(before(1), '\'', None);
                let path_after = is_punct(before(1), ':', None)
                    && is_punct(before(2), ':', Some(Spacing::Joint));
                let path_before =
                    is_punct(after(1), ':', Some(Spacing::Joint)) && is_punct(after(2), ':', None);
                let field_name = is_punct(after(1), ':', Some(Spacing::Alone));
                let macro_name = is_punct(after(1), '!', Some(Spacing::Alone))
                    && matches!(after(2), Some(TokenTree::Group(g)) if g.delimiter() != Delimiter::None);
                if !(field || lifetime || path_after || path_before || field_name || macro_name) {
                    out.push(ident.clone());
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

fn is_punct(tree: Option<&TokenTree>, ch: char, spacing: Option<Spacing>) -> bool {
    matches!(tree, Some(TokenTree::Punct(p))
        if p.as_char() == ch && spacing.is_none_or(|s| p.spacing() == s))
}

/// The `{name}` and `{name:..}` inline format arguments of a string literal, as mentions.
fn format_args(literal: &proc_macro2::Literal, out: &mut Vec<Ident>) {
    let Ok(text) = syn::parse2::<syn::LitStr>(literal.to_token_stream()) else {
        return;
    };
    let text = text.value();
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(escaped) = rest.strip_prefix('{') {
            rest = escaped;
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let (name, tail) = rest.split_at(end);
        if tail.starts_with('}') || tail.starts_with(':') {
            if let Ok(ident) = syn::parse_str::<Ident>(name) {
                out.push(Ident::new(&ident.to_string(), literal.span()));
            }
        }
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;
    use quote::quote;

    fn names(tokens: proc_macro2::TokenStream) -> Vec<String> {
        mentions(tokens).iter().map(|i| i.to_string()).collect()
    }

    #[test]
    fn fields_paths_macros_and_lifetimes_are_not_mentions() {
        assert_eq!(names(quote!(x.a + x.b())), ["x", "x"]);
        assert_eq!(names(quote!(a::K + m::b)), Vec::<String>::new());
        assert_eq!(names(quote!(S { a: c, d })), ["S", "c", "d"]);
        assert_eq!(names(quote!(a!(b) + (c != d))), ["b", "c", "d"]);
        assert_eq!(names(quote!(0..a)), ["a"]);
        assert_eq!(names(quote!(&'a x)), ["x"]);
    }

    #[test]
    fn closures_macros_and_format_strings_are_scanned() {
        assert_eq!(names(quote!(move || vec![a])), ["move", "a"]);
        assert_eq!(names(quote!(format!("{a} {{b}} {c:?}"))), ["a", "c"]);
    }
}
