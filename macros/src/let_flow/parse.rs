//! Reads a `let_flow!` invocation: `let` bindings, then one body expression.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Block, Expr, Ident, Local, Pat, Stmt, Type};

/// A parsed `let_flow!`: its bindings in source order, then its body.
pub(crate) struct Flow {
    pub(crate) bindings: Vec<Binding>,
    pub(crate) body: Expr,
}

/// One `let PAT (: TYPE)? = EXPR;`.
pub(crate) struct Binding {
    /// The pattern without its type ascription.
    pub(crate) pat: Pat,
    /// The type ascription, if any: the type of the realized value.
    pub(crate) ty: Option<Type>,
    /// The right-hand side: a plain value, a future or a deferred.
    pub(crate) expr: Expr,
    /// The names the pattern binds, in the order they appear.
    pub(crate) names: Vec<Name>,
}

/// A name bound by a binding's pattern.
pub(crate) struct Name {
    pub(crate) ident: Ident,
    pub(crate) mutable: bool,
}

const SHAPE: &str = "let_flow! takes `let` bindings followed by one body expression, \
                     e.g. `let_flow! { let a = fetch(1); let b = fetch(2); a + b }`";

/// Parses the macro input.
pub(crate) fn parse(input: TokenStream) -> syn::Result<Flow> {
    syn::parse2(input)
}

impl Parse for Flow {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let stmts = Block::parse_within(input)?;
        let Some((last, init)) = stmts.split_last() else {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("let_flow! is empty: it needs a body expression. {SHAPE}"),
            ));
        };
        let bindings = init.iter().map(binding).collect::<syn::Result<Vec<_>>>()?;
        let body = match last {
            Stmt::Expr(expr, None) => expr.clone(),
            Stmt::Local(local) => {
                return Err(syn::Error::new_spanned(
                    local,
                    "let_flow! is missing its body: add the expression the flow evaluates to \
                     after the last binding, e.g. the bound name itself",
                ));
            }
            Stmt::Expr(_, Some(_)) | Stmt::Macro(_) => {
                return Err(syn::Error::new_spanned(
                    last,
                    "let_flow!'s body must be an expression without a trailing `;`: remove the \
                     `;` to make this the body, or wrap it with the value in a block: \
                     `{ foo(); value }`",
                ));
            }
            Stmt::Item(_) => return Err(item_error(last)),
        };
        Ok(Flow { bindings, body })
    }
}

/// Checks one statement before the body: it must be a `let` binding we can run.
fn binding(stmt: &Stmt) -> syn::Result<Binding> {
    let local = match stmt {
        Stmt::Local(local) => local,
        Stmt::Item(_) => return Err(item_error(stmt)),
        Stmt::Expr(..) | Stmt::Macro(_) => {
            return Err(syn::Error::new_spanned(
                stmt,
                "expected a `let` binding here: only the last item of a let_flow! is an \
                 expression. Bind this statement's value (`let _ = ...;`) to run it as a \
                 step of the flow, or move it into the body: `{ foo(); value }`",
            ));
        }
    };
    binding_of(local)
}

fn binding_of(local: &Local) -> syn::Result<Binding> {
    if let Some(attr) = local.attrs.first() {
        return Err(syn::Error::new_spanned(
            attr,
            "attributes on let_flow! bindings are not supported: remove this attribute",
        ));
    }
    let (pat, ty) = match &local.pat {
        Pat::Type(typed) => ((*typed.pat).clone(), Some((*typed.ty).clone())),
        pat => (pat.clone(), None),
    };
    let Some(init) = &local.init else {
        return Err(syn::Error::new_spanned(
            local,
            "a let_flow! binding needs a value: write `let x = <value, future or deferred>;`",
        ));
    };
    if let Some((else_token, _)) = &init.diverge {
        return Err(syn::Error::new(
            else_token.span(),
            "let-else is not supported in let_flow!: bind the whole value, then `match` on it \
             in a later binding or in the body",
        ));
    }
    let mut names = Vec::new();
    collect_names(&pat, &mut names)?;
    Ok(Binding {
        pat,
        ty,
        expr: (*init.expr).clone(),
        names,
    })
}

/// Collects the names `pat` binds, rejecting the patterns a binding cannot take.
fn collect_names(pat: &Pat, names: &mut Vec<Name>) -> syn::Result<()> {
    match pat {
        Pat::Ident(ident) => {
            if let Some(by_ref) = &ident.by_ref {
                return Err(syn::Error::new(
                    by_ref.span(),
                    "`ref` bindings are not supported in let_flow!: bind by value \
                     (`let x = ...;`) and borrow where the value is read (`&x`)",
                ));
            }
            if let Some((at, _)) = &ident.subpat {
                return Err(syn::Error::new(
                    at.span(),
                    "`@` patterns are not supported in let_flow!: bind the whole value \
                     (`let x = ...;`) and destructure it in a later binding or the body",
                ));
            }
            names.push(Name {
                ident: ident.ident.clone(),
                mutable: ident.mutability.is_some(),
            });
            Ok(())
        }
        Pat::Wild(_) | Pat::Rest(_) => Ok(()),
        Pat::Paren(paren) => collect_names(&paren.pat, names),
        Pat::Tuple(tuple) => tuple.elems.iter().try_for_each(|p| collect_names(p, names)),
        Pat::TupleStruct(tuple) => tuple.elems.iter().try_for_each(|p| collect_names(p, names)),
        Pat::Slice(slice) => slice.elems.iter().try_for_each(|p| collect_names(p, names)),
        Pat::Struct(strukt) => strukt
            .fields
            .iter()
            .try_for_each(|field| collect_names(&field.pat, names)),
        other => Err(syn::Error::new_spanned(
            other,
            "this pattern is not supported in a let_flow! binding: use a name, `_`, or a \
             tuple, tuple-struct, struct or slice pattern of names (`let (a, b) = pair;`); \
             to match on the value, bind it whole and `match` in a later binding or the body",
        )),
    }
}

fn item_error(stmt: &Stmt) -> syn::Error {
    syn::Error::new_spanned(
        stmt,
        "items are not supported inside let_flow!: define this item outside the macro",
    )
}
