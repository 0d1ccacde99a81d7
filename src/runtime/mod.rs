//! weir's runtime: where weir's tasks run ([`Executor`], [`set_executor`]), weir's own pool
//! ([`spawn`], [`block_on`]), and timers, all on the smol family (async-io's reactor and timers,
//! async-task's tasks under weir's scheduler, blocking's thread pool).
//!
//! Nothing in weir's public API needs weir's executor to be the caller's: deferreds, streams and
//! sockets work from tokio, async-std or smol tasks, or from plain threads with
//! [`Deferred::wait`](crate::Deferred::wait).
//!
//! # What runs where
//!
//! weir spawns background tasks of its own: a [`connect`](crate::stream::connect)'s
//! propagation, a buffer's feeding task, a deferred's [`then`](crate::Deferred::then) stage,
//! [`timeout`](crate::Deferred::timeout) and [`Deferred::spawn`](crate::Deferred::spawn), the
//! task behind each stream function that returns a deferred ([`consume`](crate::stream::consume),
//! a reduce, a `put_all`), and on the network a TCP server's accept loop, each connection's read and write tasks (one task
//! for TLS), a client's connect, a UDP socket's send loop. Each goes, in this order, to:
//!
//! 1. the executor in scope on the spawning thread: one made current by
//!    [`Executor::enter`], or the executor of the weir task being polled there, for a task
//!    spawned through an [`Executor`] handle (a server's or client's own executor, given in its
//!    options) — so a task's own tasks stay with it;
//! 2. else the executor installed for the process with [`set_executor`] (once, before weir
//!    spawns anything);
//! 3. else weir's own pool.
//!
//! A tokio program that calls `set_executor` with its runtime's spawner first thing keeps every
//! one of weir's tasks on tokio, and no message crosses between runtimes.
//!
//! What never moves: timers ([`sleep`], [`interval`], [`timeout`] and the deadlines behind
//! deferred timeouts) and socket readiness are driven by async-io's reactor, which runs on an
//! idle worker of weir's pool (or a thread in `async_io::block_on`), else on async-io's own
//! `async-io` thread; it only wakes the waiting tasks, which then run on their own executor.
//! weir's [`block_on`] only parks its thread. Blocking work
//! ([`spawn_blocking`], [`Deferred::spawn_blocking`](crate::Deferred::spawn_blocking), file
//! reads) runs on blocking's thread pool. [`spawn`] always uses weir's pool: it is for your own
//! tasks in a program without a runtime.
//!
//! weir's pool starts lazily on first use with one thread per core, named `weir-worker-N`; the
//! environment variable `WEIR_WORKER_THREADS` overrides the count. Its threads also drive
//! async-io's reactor when idle. A program whose tasks all go to another executor never starts
//! it.
//!
//! The pool keeps a task near its data, as tokio's scheduler does: a task woken on a worker
//! (by socket readiness or a timer the worker processed, or by the task running there) runs next
//! on that worker, without waking another thread; a task spawned on a worker joins that worker's
//! queue; and a worker that runs out of work takes the queued tasks of the others. A task that
//! blocks its thread (which `spawn_blocking` is for) holds up at most the one woken task next in
//! line there, and only until a watchdog thread, which looks every 10 ms while the workers are
//! busy, hands that one to another worker. Against async-executor's single shared queue (what
//! weir used before), this placement took weir's HTTP/1.1 server from 135 000 to 162 000
//! requests per second with 64 connections on two workers (`wrk`, medians of 5 alternating
//! rounds), and a producer and a consumer on one channel run on one worker instead of
//! contending for it from two.

mod executor;
mod interval;
mod pool;
mod sleep;
#[cfg(feature = "http1")]
pub(crate) mod stages;
mod timeout;
mod workers;

pub(crate) use executor::spawn_detached;
#[cfg(feature = "tcp")]
pub(crate) use executor::spawn_detached_on;
pub use executor::{BoxedTask, Executor, SetExecutorError, Spawn, set_executor};
pub use interval::{Interval, interval, interval_at};
#[doc(hidden)]
pub use pool::pool_tasks_spawned;
pub use pool::{Task, block_on, spawn, spawn_blocking};
pub use sleep::{Sleep, sleep, sleep_until};
#[cfg(feature = "http1")]
pub(crate) use timeout::timeout_if;
pub use timeout::{Timeout, timeout};
#[cfg(feature = "tcp")]
pub(crate) use workers::current_run;
