//! Deferreds: one-shot asynchronous values with many listeners, Manifold's `manifold.deferred`.
//!
//! A [`Deferred`] is created unrealized, realized once with a value or an error, and read by any
//! number of listeners: tasks that await it, threads that [`wait`](Deferred::wait) on it and
//! callbacks registered with [`on_realized`](Deferred::on_realized). Combinators build new
//! deferreds from old ones without blocking: [`map`](Deferred::map), [`then`](Deferred::then),
//! [`catch`](Deferred::catch), [`zip`], [`alt`], [`timeout`](Deferred::timeout), [`loop_fn`].
//!
//! A deferred is a [`Future`], so it also composes with everything in the
//! futures ecosystem, and any future becomes a deferred with [`Deferred::from_future`]. Nothing
//! here needs a particular executor: deferreds can be awaited from tokio, async-std or smol tasks,
//! or waited on from plain threads. Work that weir itself drives (the future of a
//! [`then`](Deferred::then) stage, a timeout's timer, a [`loop_fn`]) runs on weir's own executor,
//! see [`runtime`](crate::runtime).
//!
//! # Errors and cancellation
//!
//! The error type defaults to [`weir::Error`](crate::Error); any type works. Combinators that can
//! create errors themselves (a timeout, a panic in a user stage) need `E: From<weir::Error>`.
//! Realizing a deferred with an error is how work is cancelled; see [`Deferred`].
//!
//! # From Manifold
//!
//! | Manifold | weir |
//! |---|---|
//! | `deferred` | [`Deferred::new`] |
//! | `success-deferred`, `error-deferred` | [`Deferred::succeeded`], [`Deferred::failed`], `From<Result>` |
//! | `success!`, `error!` | [`Deferred::success`], [`Deferred::error`] (also on [`Realizer`]); [`Deferred::try_realize`] hands the value back |
//! | `claim!` | not needed: realization is atomic, and a [`Realizer`] gives write access without read access |
//! | `realized?` | [`Deferred::is_realized`], [`Deferred::is_success`], [`Deferred::is_error`] |
//! | `on-realized`, `add-listener!` | [`Deferred::on_realized`] |
//! | `deref` (blocking, with timeout) | [`Deferred::wait`], [`Deferred::wait_timeout`]; `.await` in async code |
//! | `success-value`, `error-value` | [`Deferred::peek`] |
//! | `->deferred`, `future` | [`Deferred::from_future`], [`Deferred::spawn`], [`Deferred::spawn_blocking`] |
//! | `chain` | [`Deferred::map`] (value), [`Deferred::try_map`] (`Result`), [`Deferred::then`] (future), [`Deferred::chain`] (deferred) |
//! | `catch` | [`Deferred::catch`], [`Deferred::catch_if`] (predicate), [`Deferred::catch_as`] (error type), [`Deferred::or_else`] (future) |
//! | `finally` | [`Deferred::finally`] |
//! | `zip` | [`zip`] (tuples), [`zip_all`] (iterators), [`Deferred::zip`] |
//! | `alt` | [`alt`], [`Deferred::or`] |
//! | `timeout!` | [`Deferred::timeout`], [`Deferred::timeout_with`] |
//! | `loop`, `recur` | [`loop_fn`] with [`Loop::Recur`] / [`Loop::Done`] |
//! | `connect` (deferreds) | [`Deferred::chain`] with an identity stage |
//! | dropped-error detection | on by default, [`set_dropped_error_logging`] |
//! | `let-flow` | [`let_flow!`](crate::let_flow) (feature `macros`) |

mod alt;
mod catch;
mod catch_as;
mod catch_if;
mod cell;
mod chain;
pub(crate) mod drive;
mod dropped_error;
mod errors;
mod finally;
mod handle;
mod loop_fn;
mod map;
mod map_err;
mod or_else;
mod realizer;
mod spawn;
mod stage;
mod then;
mod timeout;
mod trampoline;
mod try_map;
mod zip;

pub use alt::alt;
pub use dropped_error::{dropped_error_logging, set_dropped_error_logging};
pub use errors::{AlreadyRealized, WaitTimeout};
pub use handle::Deferred;
pub use loop_fn::{Loop, loop_fn};
pub use realizer::{Realized, Realizer};
pub use zip::{Zip, zip, zip_all};
