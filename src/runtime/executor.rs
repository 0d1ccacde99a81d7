//! `Spawn`, `Executor` and `set_executor`: where the tasks weir spawns run.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_lite::FutureExt;
use pin_project_lite::pin_project;

use super::pool;

/// A boxed task, as weir hands it to a [`Spawn`] implementation.
pub type BoxedTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Something that runs tasks: the spawner behind an [`Executor`], like hyper's `rt::Executor`.
///
/// `spawn` must run the task to completion (or until the runtime shuts down) on some thread,
/// without blocking the caller. Weir never needs the task's output and never joins it; a task
/// that panics has its panic caught and logged by weir before it reaches the spawner.
/// Closures `Fn(BoxedTask)` implement `Spawn`.
///
/// # Examples
///
/// ```
/// use weir::runtime::{BoxedTask, Executor, Spawn};
///
/// /// Runs every task on a new thread (a toy: use a real runtime).
/// struct ThreadPerTask;
///
/// impl Spawn for ThreadPerTask {
///     fn spawn(&self, task: BoxedTask) {
///         std::thread::spawn(move || weir::runtime::block_on(task));
///     }
/// }
///
/// let executor = Executor::new(ThreadPerTask);
/// let (tx, rx) = std::sync::mpsc::channel();
/// executor.spawn(async move { tx.send(7).unwrap() });
/// assert_eq!(rx.recv().unwrap(), 7);
/// ```
pub trait Spawn: Send + Sync + 'static {
    /// Runs `task` in the background.
    fn spawn(&self, task: BoxedTask);
}

impl<F> Spawn for F
where
    F: Fn(BoxedTask) + Send + Sync + 'static,
{
    fn spawn(&self, task: BoxedTask) {
        self(task)
    }
}

/// A handle to where tasks run: weir's own pool ([`Executor::pool`], the default) or a
/// [`Spawn`] implementation, such as a tokio or smol runtime's spawner ([`Executor::new`]).
/// Cheap to clone; two handles are equal when they are the same executor.
///
/// Install one for the whole process with [`set_executor`], give one to a single server or
/// client through its options (`ServerOptions::executor` in [`tcp`](crate::tcp)), or make one
/// the current executor for a block of code with [`enter`](Executor::enter). A task spawned on
/// an executor through a handle keeps that executor as the current one while it runs, so the
/// tasks weir spawns from inside it go there too. See the [module docs](super) for what runs
/// where.
///
/// # Examples
///
/// ```
/// use weir::runtime::Executor;
///
/// // A tokio program hands weir its runtime's spawner.
/// let tokio = tokio::runtime::Runtime::new().unwrap();
/// let handle = tokio.handle().clone();
/// let executor = Executor::new(move |task| {
///     handle.spawn(task);
/// });
/// assert!(!executor.is_pool());
/// assert_eq!(executor, executor.clone());
/// assert_ne!(executor, Executor::pool());
///
/// let answer: weir::Deferred<i32> = executor.enter(|| weir::Deferred::from_future(async { 6 * 7 }));
/// assert_eq!(answer.wait().unwrap(), 42); // it ran on tokio
/// ```
#[derive(Clone)]
pub struct Executor {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Pool,
    Custom(Arc<dyn Spawn>),
}

/// The process-wide executor, fixed by [`set_executor`] or by weir's first spawn.
struct Global {
    executor: Executor,
    /// Whether [`set_executor`] installed it (rather than weir's first spawn choosing the pool).
    installed: bool,
}

static GLOBAL: OnceLock<Global> = OnceLock::new();

thread_local! {
    /// The executor in scope on this thread: set by [`Executor::enter`] and while a task
    /// spawned through a handle is polled.
    static CURRENT: RefCell<Option<Executor>> = const { RefCell::new(None) };
}

impl Executor {
    /// An executor that hands weir's tasks to `spawner`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::runtime::Executor;
    ///
    /// let smol = std::sync::Arc::new(smol::Executor::new());
    /// let spawner = smol.clone();
    /// let executor = Executor::new(move |task| spawner.spawn(task).detach());
    /// let d: weir::Deferred<&str> = executor.enter(|| weir::Deferred::from_future(async { "on smol" }));
    /// assert_eq!(smol::block_on(smol.run(d)).unwrap(), "on smol");
    /// ```
    pub fn new(spawner: impl Spawn) -> Self {
        Executor {
            kind: Kind::Custom(Arc::new(spawner)),
        }
    }

    /// weir's own pool: one thread per core, started on first use (see the [module
    /// docs](super)).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::runtime::Executor::pool().is_pool());
    /// ```
    pub fn pool() -> Self {
        Executor { kind: Kind::Pool }
    }

    /// The executor weir spawns on from here: the one in scope on this thread (see
    /// [`enter`](Executor::enter)), else the one installed with [`set_executor`], else weir's
    /// pool.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::runtime::Executor;
    ///
    /// let custom = Executor::new(|task| {
    ///     std::thread::spawn(move || weir::runtime::block_on(task));
    /// });
    /// assert_eq!(custom.enter(Executor::current), custom);
    /// ```
    pub fn current() -> Self {
        CURRENT
            .with(|current| current.borrow().clone())
            .or_else(|| GLOBAL.get().map(|global| global.executor.clone()))
            .unwrap_or_else(Executor::pool)
    }

    /// True for weir's own pool.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::runtime::Executor;
    ///
    /// assert!(Executor::pool().is_pool());
    /// assert!(!Executor::new(|_task| {}).is_pool());
    /// ```
    pub fn is_pool(&self) -> bool {
        matches!(self.kind, Kind::Pool)
    }

    /// Runs `task` on this executor, in the background. While it runs, this executor is the
    /// current one, so what weir spawns from inside it runs here too.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// weir::runtime::Executor::pool().spawn(async move { tx.send(1).unwrap() });
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)), Ok(1));
    /// ```
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.spawn_raw(Scoped {
            executor: self.clone(),
            future: task,
        });
    }

    /// Runs `f` with this executor as the current one on this thread: the tasks weir spawns
    /// during `f` (a connect, a buffer, a deferred's `then`, a timeout) run on it, and so do the
    /// tasks they spawn in turn.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use weir::runtime::Executor;
    ///
    /// let spawned = Arc::new(AtomicUsize::new(0));
    /// let count = spawned.clone();
    /// let executor = Executor::new(move |task| {
    ///     count.fetch_add(1, Ordering::SeqCst);
    ///     std::thread::spawn(move || weir::runtime::block_on(task));
    /// });
    /// let d = executor.enter(|| weir::Deferred::<u32>::new().timeout_with(
    ///     std::time::Duration::from_millis(1),
    ///     5,
    /// ));
    /// assert_eq!(d.wait().unwrap(), 5);
    /// assert_eq!(spawned.load(Ordering::SeqCst), 1, "the timeout's task");
    /// ```
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let _scope = Scope::enter(self.clone());
        f()
    }

    /// Hands a task over as it is: no scope, panics caught for custom spawners.
    fn spawn_raw<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match &self.kind {
            Kind::Pool => pool::spawn_on_pool(future).detach(),
            Kind::Custom(spawner) => spawner.spawn(Box::pin(async move {
                if AssertUnwindSafe(future).catch_unwind().await.is_err() {
                    log::error!("weir: a task panicked");
                }
            })),
        }
    }
}

/// The one place weir spawns its background tasks (connect, buffer, I/O, deferred stages and
/// timeouts): on the executor in scope on this thread, else the process-wide one. The first
/// such spawn outside any scope fixes the process-wide executor (weir's pool unless
/// [`set_executor`] came first).
pub(crate) fn spawn_detached<F>(future: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    match CURRENT.with(|current| current.borrow().clone()) {
        Some(scoped) => scoped.spawn(future),
        None => global().spawn_raw(future),
    }
}

/// Spawns on `executor` if one is given (a server's or client's option), else as
/// [`spawn_detached`].
#[cfg(feature = "tcp")]
pub(crate) fn spawn_detached_on<F>(executor: Option<&Executor>, future: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    match executor {
        Some(executor) => executor.spawn(future),
        None => spawn_detached(future),
    }
}

fn global() -> &'static Executor {
    &GLOBAL
        .get_or_init(|| Global {
            executor: Executor::pool(),
            installed: false,
        })
        .executor
}

/// Installs `executor` for the whole process: from now on, every task weir spawns outside a
/// narrower scope (a server's or client's own executor, [`Executor::enter`]) runs on it.
///
/// It can be set once, and only before weir spawned its first background task (which fixes
/// weir's pool as the executor): call it at the start of `main`, before using weir. Otherwise it
/// fails and changes nothing, so that the tasks of one process never end up split between two
/// executors by accident.
///
/// # Examples
///
/// ```
/// use weir::runtime::{self, Executor};
///
/// let tokio = tokio::runtime::Runtime::new().unwrap();
/// let handle = tokio.handle().clone();
/// runtime::set_executor(Executor::new(move |task| {
///     handle.spawn(task);
/// }))
/// .unwrap();
/// assert!(!Executor::current().is_pool());
///
/// let again = runtime::set_executor(Executor::pool()).unwrap_err();
/// assert!(again.is_already_set());
/// ```
pub fn set_executor(executor: Executor) -> Result<(), SetExecutorError> {
    let mut installed_now = false;
    let global = GLOBAL.get_or_init(|| {
        installed_now = true;
        Global {
            executor,
            installed: true,
        }
    });
    if installed_now {
        Ok(())
    } else {
        Err(SetExecutorError {
            already_set: global.installed,
        })
    }
}

/// The error of [`set_executor`]: an executor was already installed, or weir already spawned a
/// task on its pool.
///
/// # Examples
///
/// ```
/// use weir::runtime::{self, Executor};
///
/// // weir's first background task fixes its pool as the process's executor.
/// let d = weir::Deferred::<u8>::new().timeout_with(std::time::Duration::from_millis(1), 1);
/// assert_eq!(d.wait().unwrap(), 1);
/// let late = runtime::set_executor(Executor::pool()).unwrap_err();
/// assert!(late.is_too_late());
/// assert!(!late.is_already_set());
/// assert_eq!(late.to_string(), "weir already spawned tasks on its own pool");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetExecutorError {
    already_set: bool,
}

impl SetExecutorError {
    /// True if an executor was installed before.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::runtime::{self, Executor};
    ///
    /// runtime::set_executor(Executor::pool()).unwrap();
    /// assert!(runtime::set_executor(Executor::pool()).unwrap_err().is_already_set());
    /// ```
    pub fn is_already_set(&self) -> bool {
        self.already_set
    }

    /// True if weir had already spawned a task on its own pool, fixing it as the executor.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::runtime::{self, Executor};
    ///
    /// let d = weir::Deferred::<u8>::new().timeout_with(std::time::Duration::from_millis(1), 1);
    /// d.wait().unwrap();
    /// assert!(runtime::set_executor(Executor::pool()).unwrap_err().is_too_late());
    /// ```
    pub fn is_too_late(&self) -> bool {
        !self.already_set
    }
}

impl fmt::Display for SetExecutorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.already_set {
            f.write_str("an executor is already set")
        } else {
            f.write_str("weir already spawned tasks on its own pool")
        }
    }
}

impl std::error::Error for SetExecutorError {}

impl PartialEq for Executor {
    fn eq(&self, other: &Self) -> bool {
        match (&self.kind, &other.kind) {
            (Kind::Pool, Kind::Pool) => true,
            (Kind::Custom(a), Kind::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Executor {}

impl Default for Executor {
    /// [`Executor::pool`].
    fn default() -> Self {
        Executor::pool()
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Pool => f.write_str("Executor(weir pool)"),
            Kind::Custom(_) => f.write_str("Executor(custom)"),
        }
    }
}

/// Makes an executor the current one until dropped, restoring the previous one.
struct Scope {
    previous: Option<Executor>,
}

impl Scope {
    fn enter(executor: Executor) -> Self {
        let previous = CURRENT.with(|current| current.replace(Some(executor)));
        Scope { previous }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

pin_project! {
    /// A task that keeps its executor current while it is polled.
    struct Scoped<F> {
        executor: Executor,
        #[pin]
        future: F,
    }
}

impl<F: Future<Output = ()>> Future for Scoped<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let _scope = Scope::enter(this.executor.clone());
        this.future.poll(cx)
    }
}
