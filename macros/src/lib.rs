//! Procedural macros for [weir](https://docs.rs/weir).
//!
//! This crate is re-exported by `weir` (feature `macros`, on by default); depend on `weir`, not on
//! this crate. `let_flow!` and `pipeline!` arrive here; generated code reaches weir only through
//! the hidden `weir::__private` module.

// pipeline!
mod pipeline;

/// Builds a dataflow graph from a weir source, combinators and sinks, and connects it.
///
/// ```text
/// pipeline!( SOURCE => STAGE => ... => SINKS )
///
/// SOURCE  := an expression whose value is a weir `Source` (a channel, `stream::iter(..)`, ...)
/// STAGE   := METHOD ( ARGS ) [ as "label" ]      a `SourceExt` method, without its receiver
///          | METHOD ::<TYPES> ( ARGS ) [ as "label" ]
/// SINKS   := SINK                                 one sink
///          | [ SINK, SINK, ... ]                  fan-out: every message goes to every sink
/// SINK    := EXPR [ { OPTION, ... } ]             a weir `Sink`, with per-edge connect options
/// OPTION  := downstream: BOOL | upstream: BOOL | timeout: DURATION | description: STRING
/// ```
///
/// The pipeline expands to ordinary weir calls, in order:
///
/// - each stage `m(args)` becomes `weir::stream::SourceExt::m(previous, args)` (through the
///   trait path, so a `futures::StreamExt` in scope cannot clash), and a stage written with
///   `as "label"` is followed by [`SourceExt::named`], so the stream graph shows the label;
///   stages without a label show their kind (`map`, `filter`, ...);
/// - one sink: `weir::stream::connect(chain, sink, options)`;
/// - several sinks: the chain is connected into a fan-out `Channel` (unbuffered, described as
///   `pipeline fan-out`), which is connected to each sink with that sink's options. As with
///   `connect`, the next message is taken only when every sink accepted the last one (use a
///   `timeout` to cut off a sink that stalls).
///
/// Each `OPTION` is the [`ConnectOptions`] builder method of that name; options not written keep
/// `ConnectOptions`' defaults (downstream on, upstream off, no timeout).
///
/// The value of `pipeline!` is a `Deferred<(), weir::Error>`, realized once the source has
/// drained and every sink accepted every message (`Ok(())`; a sink that closed early also
/// counts as done), or with the first error: the error that ended the source, a panic in a
/// stage, or a sink that timed out. Nothing runs in the background but `connect`'s own tasks,
/// which run whether or not the deferred is kept.
///
/// A sink written as a struct literal must be put in parentheses (`=> (Sink { .. })`), since
/// braces after a sink hold its options. Stages that consume the source (`reduce`, `consume`,
/// `drain_into`, ...) are not stages: end the pipeline with a channel and call them on it.
///
/// # Examples
///
/// A linear pipeline, with a named stage:
///
/// ```
/// use weir::pipeline;
/// use weir::stream::{self, Channel, Source};
///
/// # weir::runtime::block_on(async {
/// let source = Channel::new(16);
/// let out = Channel::new(16);
/// let done = pipeline!(
///     source.clone()
///         => map_each(|x: u32| x * 2) as "double"
///         => filter_each(|x| *x > 3)
///         => batch(2)
///         => out.clone()
/// );
/// let graph = source.node().render_text();
/// assert!(graph.contains("named \"double\""), "{graph}");
///
/// stream::put_all(source.clone(), [1, 2, 3, 4, 5]).await.unwrap();
/// source.close();
/// done.await.unwrap();
/// assert_eq!(out.take_next().await, Some(vec![4, 6]));
/// assert_eq!(out.take_next().await, Some(vec![8, 10]));
/// assert_eq!(out.take_next().await, None, "out was closed when the source drained");
/// # });
/// ```
///
/// Fan-out with per-edge options: the audit sink stays open after the source drains, and a
/// sink that takes longer than a second per message is cut off.
///
/// ```
/// use std::time::Duration;
/// use weir::pipeline;
/// use weir::stream::{self, Channel};
///
/// # weir::runtime::block_on(async {
/// let (main, audit) = (Channel::new(8), Channel::new(8));
/// let done = pipeline!(
///     stream::iter(1..=3)
///         => map_each(|n: i32| n * 10)
///         => [
///             main.clone() { timeout: Duration::from_secs(1) },
///             audit.clone() { downstream: false, description: "audit" },
///         ]
/// );
/// done.await.unwrap();
/// for sink in [&main, &audit] {
///     assert_eq!(sink.take_next().await, Some(10));
///     assert_eq!(sink.take_next().await, Some(20));
///     assert_eq!(sink.take_next().await, Some(30));
/// }
/// assert!(main.is_closed());
/// assert!(!audit.is_closed(), "downstream: false keeps the sink open");
/// # });
/// ```
///
/// [`SourceExt::named`]: https://docs.rs/weir/latest/weir/stream/trait.SourceExt.html#method.named
/// [`ConnectOptions`]: https://docs.rs/weir/latest/weir/stream/struct.ConnectOptions.html
#[proc_macro]
pub fn pipeline(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    pipeline::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

// let_flow!
mod let_flow;

/// Runs `let` bindings concurrently, each as soon as the bindings it mentions are realized, and
/// evaluates to a [`Deferred`] of the body: Manifold's `let-flow`.
///
/// ```text
/// let_flow! { let PAT = EXPR; let PAT = EXPR; ... BODY }
/// ```
///
/// - Each right-hand side may be a deferred or a future of a `Result` (its value is bound, its
///   error ends the flow; the error must convert into `weir::Error`), any other future (its
///   output is bound), or a plain value. A plain `Result` is bound as it is: write `expr?` to
///   propagate its error.
/// - Inside later bindings and the body, a bound name is the realized value. Dependencies are
///   read from the tokens: a binding starts as soon as the bindings it mentions are realized, and
///   bindings that mention none start at once, concurrently. Shadowing works as in `let`
///   (`let a = f(a);` reads the previous `a`); a name after `.` (a field or a method) or next to
///   `::` (a path) is not a mention; names in closures, nested macros and `{name}` format
///   arguments are.
/// - The body waits for every binding, even those bound only for their effect, then runs inside
///   a `Result<_, weir::Error>` context: `?` works there, and in right-hand sides too.
/// - The first error realizes the result with that error; the bindings still in flight are
///   dropped, which cancels them.
/// - A value read by more than one later binding or the body is cloned for each reader but the
///   last, so it must be `Clone` (wrap it in an `Arc` otherwise).
/// - Patterns: names, `mut` names, `_`, and tuple, tuple-struct, struct and slice patterns of
///   those, with an optional type (`let (a, b): (u8, u8) = pair;`). The type is that of the
///   realized value; it does not guide inference inside the right-hand side (write
///   `s.parse::<u32>()`, not `let n: u32 = s.parse()`).
/// - Unlike Manifold, outer variables that hold futures or deferreds are **not** awaited: only
///   what a binding's right-hand side evaluates to is. Bind it (`let x = outer;`) to wait for it.
///
/// The flow runs as one task on weir's executor, so, like [`Deferred::spawn`], it is `Send` and
/// `'static`: outer variables are moved into it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::{Deferred, Error, let_flow};
///
/// async fn fetch(id: u32) -> Result<u32, Error> {
///     Ok(id * 10)
/// }
///
/// let price: Deferred<u32> = Deferred::new();
/// let listener = price.clone(); // moved into the flow
/// let total = let_flow! {
///     let a = fetch(1);                 // a future of a Result: binds 10
///     let b = listener;                 // a deferred: binds what `price` is realized with
///     let c = a + b;                    // a plain value, computed once `a` and `b` are realized
///     c * 2
/// };
/// price.success(11);
/// assert_eq!(total.timeout(Duration::from_secs(5)).wait().unwrap(), 42);
/// ```
///
/// The first error wins, and `?` works in the body:
///
/// ```
/// use std::time::Duration;
/// use weir::{Deferred, Error, let_flow};
///
/// let failed = let_flow! {
///     let a = Deferred::<u32>::failed(Error::msg("no route"));
///     let b = std::future::pending::<Result<u32, Error>>(); // dropped when `a` fails
///     a + b
/// };
/// let err = failed.timeout(Duration::from_secs(5)).wait().unwrap_err();
/// assert_eq!(err.to_string(), "no route");
///
/// let parsed = let_flow! {
///     let text = async { "42" };
///     text.parse::<u32>().map_err(Error::other)?
/// };
/// assert_eq!(parsed.timeout(Duration::from_secs(5)).wait().unwrap(), 42);
/// ```
///
/// [`Deferred`]: https://docs.rs/weir/latest/weir/deferred/struct.Deferred.html
/// [`Deferred::spawn`]: https://docs.rs/weir/latest/weir/deferred/struct.Deferred.html#method.spawn
#[proc_macro]
pub fn let_flow(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let_flow::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
