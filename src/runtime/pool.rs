//! weir's own pool, `spawn`, `spawn_blocking` and `block_on`.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use super::workers::Workers;

/// A handle to a spawned task: await it for the task's output. Dropping it cancels the task;
/// [`detach`](Task::detach) lets the task run on unobserved. A panic in the task is re-raised
/// where the handle is awaited, never on weir's worker threads.
pub use async_task::Task;

/// Tasks spawned on weir's pool since the process started.
static POOL_TASKS: AtomicU64 = AtomicU64::new(0);

/// How many tasks have been spawned on weir's own pool since the process started (by weir or
/// through [`spawn`]): a test hook, to check that an installed
/// [`Executor`](super::Executor) got all of weir's tasks.
#[doc(hidden)]
pub fn pool_tasks_spawned() -> u64 {
    POOL_TASKS.load(Ordering::Relaxed)
}

/// Spawns `future` on weir's pool.
pub(crate) fn spawn_on_pool<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    POOL_TASKS.fetch_add(1, Ordering::Relaxed);
    Workers::get(worker_threads).spawn(future)
}

fn worker_threads() -> usize {
    std::env::var("WEIR_WORKER_THREADS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| thread::available_parallelism().map_or(2, |n| n.get()))
}

/// Spawns `future` onto weir's own pool, starting it on first use, and returns a handle to
/// the task.
///
/// This is for your own tasks when your program has no runtime of its own: it always uses
/// weir's pool, whatever [`set_executor`](super::set_executor) installed. The tasks weir
/// spawns itself go to the installed [`Executor`](super::Executor) instead; to spawn there too,
/// use [`Executor::current`](super::Executor::current) or
/// [`Deferred::spawn`](crate::Deferred::spawn).
///
/// # Examples
///
/// ```
/// let task = weir::runtime::spawn(async { 1 + 1 });
/// assert_eq!(weir::runtime::block_on(task), 2);
/// ```
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_on_pool(future)
}

/// Runs the blocking closure `f` on a thread pool meant for blocking work (file I/O, DNS,
/// CPU-heavy code), returning a task of its result.
///
/// # Examples
///
/// ```
/// let task = weir::runtime::spawn_blocking(|| std::fs::metadata(".").is_ok());
/// assert!(weir::runtime::block_on(task));
/// ```
pub fn spawn_blocking<F, T>(f: F) -> Task<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    blocking::unblock(f)
}

/// Blocks the current thread until `future` completes. Meant for `main` functions, tests and
/// synchronous code, never for use inside async tasks.
///
/// The thread only parks while it waits: weir's idle workers (or async-io's own thread) drive
/// the reactor, as in tokio's multi-thread runtime. A blocked thread that took the reactor would
/// receive the readiness of sockets whose tasks run on the workers, and hand each event over to
/// them and back (measured: weir's side of `tcp_echo_small` 553-571 -> 291-317 ms; the main
/// thread's `epoll_ctl` calls over a `client_download_64mib` run 3 716 -> 4).
///
/// # Examples
///
/// ```
/// let n = weir::runtime::block_on(async { 40 + 2 });
/// assert_eq!(n, 42);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    futures_lite::future::block_on(future)
}
