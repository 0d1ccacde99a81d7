//! weir's runtime: a global executor, `block_on`, and timers, all on the smol family (async-io's
//! reactor and timers, async-executor's scheduler, blocking's thread pool).
//!
//! Nothing in weir's public API needs this executor to be the caller's: deferreds and (later)
//! streams and sockets work from tokio, async-std or smol tasks, or from plain threads with
//! [`Deferred::wait`](crate::Deferred::wait). The executor here runs the work weir drives itself
//! (the futures of combinator stages, timers, connection loops) and whatever you
//! [`spawn`] on it.
//!
//! The executor starts lazily on first use with one thread per core, named `weir-worker-N`; the
//! environment variable `WEIR_WORKER_THREADS` overrides the count. Its threads also drive
//! async-io's reactor when idle.

mod executor;
mod interval;
mod sleep;
mod timeout;

pub use executor::{Task, block_on, spawn, spawn_blocking};
pub use interval::{Interval, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Timeout, timeout};
