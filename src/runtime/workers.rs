//! weir's worker threads and how tasks move between them.
//!
//! async-executor, which weir used before, puts every woken task on one shared queue, so a
//! connection's task runs on whichever worker pops it next: a task hops between threads at
//! almost every wake-up, and its state with it. Here, as in tokio's scheduler:
//!
//! - a task woken on a worker thread (by the reactor or a timer while the worker waits, or by
//!   the task running there) goes to the worker's *next* slot and runs as soon as the worker is
//!   free: a request hands over to its connection's task, a message to its consumer, without
//!   waking another thread. The task that was in the slot moves to the worker's queue, where
//!   idle workers can take it, and one of them is woken: two tasks woken at once spread;
//! - a task spawned on a worker joins that worker's queue, and wakes an idle worker;
//! - a task spawned or woken off the worker threads joins the shared queue;
//! - a worker with nothing of its own takes the shared queue's tasks, then other workers'
//!   queued ones. Queuing a task wakes one idle worker, unless one woken earlier has not looked
//!   for work yet: a burst of tasks costs one wake-up;
//! - a task that wakes itself (a yield) goes to the back of the queue, and the next slot runs at
//!   most [`NEXT_SLOT_STREAK`] times in a row, so no pair of tasks can starve the queue;
//! - a task that blocks its worker (which async code should not do: `spawn_blocking` is for
//!   that) does not strand the task in its next slot: a watchdog thread that looks every
//!   [`WATCHDOG_TICK`] while any worker is busy moves it to the shared queue, and wakes an idle
//!   worker to run it. Once every worker has been idle for a while, the watchdog sleeps until a
//!   worker starts again.
//!
//! Idle workers wait in async-io's `block_on`, which drives async-io's reactor.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::Duration;

use async_task::{Builder, Runnable, ScheduleInfo, Task, WithInfo};

/// Tasks a worker runs before it lets async-io's `block_on` look at the reactor.
const TASKS_PER_REACTOR_TURN: u32 = 61;

/// How many times in a row the next slot may run before the queue gets a turn.
const NEXT_SLOT_STREAK: u32 = 3;

/// How often the watchdog looks for a worker stuck in one task with a task in its next slot.
const WATCHDOG_TICK: Duration = Duration::from_millis(10);

/// How many ticks with every worker idle before the watchdog sleeps until one starts again.
const WATCHDOG_IDLE_TICKS: u32 = 10;

/// The worker threads.
pub(crate) struct Workers {
    workers: Box<[Worker]>,
    /// Tasks spawned or woken off the worker threads.
    shared: Queue,
    /// Workers woken to look for work that have not looked yet: while there is one, queuing a
    /// task wakes nobody else (it will find the task), so a burst of tasks costs one wake-up.
    searching: AtomicUsize,
    /// The watchdog thread, and whether it sleeps until a worker starts.
    watchdog: OnceLock<Thread>,
    watchdog_asleep: AtomicBool,
}

struct Worker {
    /// The task to run next: the one woken last on this worker.
    next: Mutex<Option<Runnable>>,
    /// Tasks this worker started running: the watchdog sees a worker that is stuck.
    runs: AtomicU64,
    /// Tasks this worker will run, that idle workers may take.
    queue: Queue,
    /// Set while the worker waits for work; its waker, to wake it.
    parked: AtomicBool,
    /// Woken by [`Workers::unpark_other`], and counted in `searching` until it polls.
    searching: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Worker {
    fn next_slot(&self) -> MutexGuard<'_, Option<Runnable>> {
        self.next.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// If the worker waits for work: no longer, and the waker that wakes it.
    fn unpark(&self) -> Option<Waker> {
        if !self.parked.load(Ordering::SeqCst) {
            return None;
        }
        let waker = self
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        self.parked.store(false, Ordering::SeqCst);
        Some(waker)
    }
}

/// A queue of tasks, with its length readable without the lock.
struct Queue {
    tasks: Mutex<VecDeque<Runnable>>,
    len: AtomicUsize,
}

impl Queue {
    fn new() -> Queue {
        Queue {
            tasks: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Runnable>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, runnable: Runnable) {
        let mut tasks = self.lock();
        tasks.push_back(runnable);
        self.len.store(tasks.len(), Ordering::SeqCst);
    }

    fn pop(&self) -> Option<Runnable> {
        if self.len.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut tasks = self.lock();
        let runnable = tasks.pop_front();
        self.len.store(tasks.len(), Ordering::SeqCst);
        runnable
    }

    fn is_empty(&self) -> bool {
        self.len.load(Ordering::SeqCst) == 0
    }
}

/// What a worker thread knows about itself.
struct Local {
    index: usize,
    /// How many times in a row the next slot ran.
    streak: Cell<u32>,
}

thread_local! {
    /// Set on weir's worker threads.
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
    /// Counts the tasks this worker thread started running (0 off the workers).
    static RUN: Cell<u64> = const { Cell::new(0) };
}

/// Which task run this is on a weir worker thread (a new number each time a worker starts a
/// task), or `None` off the workers: code polled twice in one run can tell that nothing
/// outside the task moved in between.
#[cfg(feature = "tcp")]
pub(crate) fn current_run() -> Option<u64> {
    let run = RUN.with(Cell::get);
    (run != 0).then_some(run)
}

static WORKERS: OnceLock<&'static Workers> = OnceLock::new();

impl Workers {
    /// The workers, started on first use: `count` threads named `weir-worker-N`.
    pub(crate) fn get(count: impl FnOnce() -> usize) -> &'static Workers {
        WORKERS.get_or_init(|| {
            let count = count().max(1);
            let workers = (0..count)
                .map(|_| Worker {
                    next: Mutex::new(None),
                    runs: AtomicU64::new(0),
                    queue: Queue::new(),
                    parked: AtomicBool::new(false),
                    searching: AtomicBool::new(false),
                    waker: Mutex::new(None),
                })
                .collect();
            let workers: &'static Workers = Box::leak(Box::new(Workers {
                workers,
                shared: Queue::new(),
                searching: AtomicUsize::new(0),
                watchdog: OnceLock::new(),
                watchdog_asleep: AtomicBool::new(false),
            }));
            for index in 0..count {
                let spawned = std::thread::Builder::new()
                    .name(format!("weir-worker-{index}"))
                    .spawn(move || run_worker(workers, index));
                if let Err(error) = spawned {
                    // Its tasks still run: the other workers take them.
                    log::error!("weir: could not start worker thread {index}: {error}");
                }
            }
            let watchdog = std::thread::Builder::new()
                .name("weir-watchdog".to_owned())
                .spawn(move || watch(workers));
            match watchdog {
                Ok(handle) => {
                    let _ = workers.watchdog.set(handle.thread().clone());
                }
                Err(error) => log::error!("weir: could not start the watchdog thread: {error}"),
            }
            workers
        })
    }

    /// How many worker threads there are.
    #[cfg(test)]
    fn count(&self) -> usize {
        self.workers.len()
    }

    /// Spawns `future` as a task: on this worker's queue when called on a worker thread, else
    /// on the shared queue.
    pub(crate) fn spawn<F>(&'static self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, task) = Builder::new().propagate_panic(true).spawn(
            |()| future,
            WithInfo(move |runnable, info| self.schedule(runnable, info)),
        );
        match current_index() {
            Some(index) => self.push_queued(index, runnable),
            None => self.push_shared(runnable),
        }
        task
    }

    /// Where a woken task goes.
    fn schedule(&'static self, runnable: Runnable, info: ScheduleInfo) {
        let Some(index) = current_index() else {
            return self.push_shared(runnable);
        };
        if info.woken_while_running {
            // A yield: the others go first.
            return self.push_queued(index, runnable);
        }
        let worker = &self.workers[index];
        let displaced = worker.next_slot().replace(runnable);
        if let Some(displaced) = displaced {
            self.push_queued(index, displaced);
        }
        // Woken by the reactor or a timer while this worker waits in `block_on`: make it look
        // at its next slot. (Woken by the task running here, it runs when that one yields.)
        self.unpark(index);
    }

    fn push_queued(&self, index: usize, runnable: Runnable) {
        self.workers[index].queue.push(runnable);
        fence(Ordering::SeqCst);
        self.unpark(index);
        self.unpark_other(index);
    }

    fn push_shared(&self, runnable: Runnable) {
        self.shared.push(runnable);
        fence(Ordering::SeqCst);
        self.unpark_other(usize::MAX);
    }

    /// Wakes worker `index` if it waits for work.
    fn unpark(&self, index: usize) {
        if let Some(waker) = self.workers[index].unpark() {
            waker.wake();
        }
    }

    /// Wakes one waiting worker other than `index`, unless one is already on its way.
    fn unpark_other(&self, index: usize) {
        if self.searching.load(Ordering::SeqCst) > 0 {
            return;
        }
        for (other, worker) in self.workers.iter().enumerate() {
            if other == index {
                continue;
            }
            if let Some(waker) = worker.unpark() {
                if !worker.searching.swap(true, Ordering::SeqCst) {
                    self.searching.fetch_add(1, Ordering::SeqCst);
                }
                waker.wake();
                return;
            }
        }
    }

    /// The task worker `local.index` runs next: its next slot (within the streak limit), its
    /// queue, the shared queue, then another worker's queue.
    fn next_task(&self, local: &Local) -> Option<Runnable> {
        let index = local.index;
        let next = self.workers[index].next_slot().take();
        if let Some(runnable) = next {
            if local.streak.get() < NEXT_SLOT_STREAK {
                local.streak.set(local.streak.get() + 1);
                return Some(runnable);
            }
            self.push_queued(index, runnable);
        }
        local.streak.set(0);
        if let Some(runnable) = self.workers[index].queue.pop() {
            return Some(runnable);
        }
        if let Some(runnable) = self.shared.pop() {
            return Some(runnable);
        }
        let count = self.workers.len();
        (1..count).find_map(|offset| self.workers[(index + offset) % count].queue.pop())
    }

    /// A worker woken to look for work has looked: the next task queued may wake another
    /// worker. Whether it was searching.
    fn stop_searching(&self, worker: &Worker) -> bool {
        let searching = worker.searching.load(Ordering::Relaxed)
            && worker.searching.swap(false, Ordering::SeqCst);
        if searching {
            self.searching.fetch_sub(1, Ordering::SeqCst);
        }
        searching
    }

    /// Whether any queue another worker could take from has a task.
    fn has_queued(&self) -> bool {
        !self.shared.is_empty() || self.workers.iter().any(|worker| !worker.queue.is_empty())
    }

    /// Whether worker `index` has anything to run, or to take.
    fn has_work(&self, local: &Local) -> bool {
        self.workers[local.index].next_slot().is_some() || self.has_queued()
    }

    /// One poll of a worker's loop: runs tasks until it has none (then waits to be woken) or
    /// until its reactor turn.
    fn poll_work(&self, local: &Local, cx: &mut Context<'_>) -> Poll<()> {
        let worker = &self.workers[local.index];
        worker.parked.store(false, Ordering::SeqCst);
        self.wake_watchdog();
        for _ in 0..TASKS_PER_REACTOR_TURN {
            match self.next_task(local) {
                Some(runnable) => {
                    if self.stop_searching(worker) && self.has_queued() {
                        // Tasks queued while this worker was on its way woke nobody: another
                        // worker may take them while this one runs its task (which may block).
                        self.unpark_other(local.index);
                    }
                    worker.runs.fetch_add(1, Ordering::Relaxed);
                    RUN.with(|run| run.set(run.get().wrapping_add(1).max(1)));
                    runnable.run();
                }
                None => {
                    self.stop_searching(worker);
                    *worker.waker.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(cx.waker().clone());
                    worker.parked.store(true, Ordering::SeqCst);
                    fence(Ordering::SeqCst);
                    // A task queued between the look and the park would wait forever.
                    if !self.has_work(local) {
                        return Poll::Pending;
                    }
                    worker.parked.store(false, Ordering::SeqCst);
                    worker
                        .waker
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take();
                }
            }
        }
        // Pending but woken: `block_on` processes the ready I/O events, then polls again.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Workers {
    /// A worker starts running: the watchdog, if it sleeps, watches again. (`SeqCst`, as the
    /// watchdog's flag and look: the worker's `parked` store and this load must not pass each
    /// other, or the watchdog could sleep through a busy worker.)
    fn wake_watchdog(&self) {
        if self.watchdog_asleep.load(Ordering::SeqCst)
            && self.watchdog_asleep.swap(false, Ordering::SeqCst)
        {
            if let Some(watchdog) = self.watchdog.get() {
                watchdog.unpark();
            }
        }
    }

    /// One look of the watchdog: a busy worker that has not started a task since the last look
    /// (`runs` as it was) is stuck in one; its next slot moves to the shared queue, for an idle
    /// worker. Whether every worker was idle.
    fn watch_once(&self, runs_seen: &mut [u64]) -> bool {
        let mut all_idle = true;
        for (worker, seen) in self.workers.iter().zip(runs_seen.iter_mut()) {
            let runs = worker.runs.load(Ordering::Relaxed);
            let parked = worker.parked.load(Ordering::SeqCst);
            all_idle &= parked;
            if !parked && runs == *seen {
                let stranded = worker.next_slot().take();
                if let Some(stranded) = stranded {
                    self.push_shared(stranded);
                }
            }
            *seen = runs;
        }
        all_idle
    }
}

/// The watchdog thread's loop.
fn watch(workers: &'static Workers) {
    let mut runs_seen = vec![0; workers.workers.len()];
    let mut idle_ticks = 0;
    loop {
        std::thread::sleep(WATCHDOG_TICK);
        if !workers.watch_once(&mut runs_seen) {
            idle_ticks = 0;
            continue;
        }
        idle_ticks += 1;
        if idle_ticks >= WATCHDOG_IDLE_TICKS {
            idle_ticks = 0;
            workers.watchdog_asleep.store(true, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            // A worker that started between the look and the flag would not wake us.
            if workers
                .workers
                .iter()
                .all(|w| w.parked.load(Ordering::SeqCst))
            {
                while workers.watchdog_asleep.load(Ordering::SeqCst) {
                    std::thread::park();
                }
            } else {
                workers.watchdog_asleep.store(false, Ordering::SeqCst);
            }
        }
    }
}

/// The index of the worker thread this is, if it is one.
fn current_index() -> Option<usize> {
    LOCAL.with(|local| local.borrow().as_ref().map(|local| local.index))
}

fn run_worker(workers: &'static Workers, index: usize) {
    LOCAL.with(|local| {
        *local.borrow_mut() = Some(Local {
            index,
            streak: Cell::new(0),
        });
    });
    loop {
        // Task panics are caught by the tasks themselves (and end up in their handles); this
        // guards the loop against anything else, so a worker is never lost.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            async_io::block_on(std::future::poll_fn(|cx| {
                LOCAL.with(|local| {
                    let local = local.borrow();
                    let local = local.as_ref().expect("set above");
                    workers.poll_work(local, cx)
                })
            }))
        }));
        if outcome.is_err() {
            log::error!("weir: a worker thread recovered from a panic");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, mpsc};
    use std::time::Duration;

    fn workers() -> &'static Workers {
        Workers::get(|| 2)
    }

    /// The tests that hold a worker take turns: two at once would hold both.
    fn holding_a_worker() -> MutexGuard<'static, ()> {
        static TURN: Mutex<()> = Mutex::new(());
        TURN.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A task that holds its worker does not hold up a task spawned from it: another worker
    /// takes it from the queue.
    #[test]
    fn a_blocked_worker_s_queued_task_is_taken_by_another() {
        let workers = workers();
        if workers.count() < 2 {
            return;
        }
        let _turn = holding_a_worker();
        let (tx, rx) = mpsc::channel();
        let blocker = workers.spawn(async move {
            let (inner_tx, inner_rx) = mpsc::channel();
            workers
                .spawn(async move { inner_tx.send(()).unwrap() })
                .detach();
            // Holds this worker until the task it spawned has run elsewhere.
            let ran = inner_rx.recv_timeout(Duration::from_secs(10)).is_ok();
            tx.send(ran).unwrap();
        });
        blocker.detach();
        assert_eq!(rx.recv_timeout(Duration::from_secs(20)), Ok(true));
    }

    /// A task woken by a task that then holds its worker (its next slot) is not stranded: the
    /// watchdog hands it to another worker.
    #[test]
    fn a_blocked_worker_s_woken_task_is_run_by_another() {
        let workers = workers();
        if workers.count() < 2 {
            return;
        }
        let _turn = holding_a_worker();
        // The waiter's waker, stored once it waits; the flag that lets it finish.
        let shared: Arc<(Mutex<Option<Waker>>, AtomicBool)> = Arc::default();
        let (waiting_tx, waiting_rx) = mpsc::channel();
        let (ran_tx, ran_rx) = mpsc::channel();
        let waiter_shared = shared.clone();
        workers
            .spawn(async move {
                std::future::poll_fn(|cx| {
                    if waiter_shared.1.load(Ordering::SeqCst) {
                        return Poll::Ready(());
                    }
                    *waiter_shared.0.lock().unwrap() = Some(cx.waker().clone());
                    let _ = waiting_tx.send(());
                    Poll::Pending
                })
                .await;
                ran_tx.send(()).unwrap();
            })
            .detach();
        waiting_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the waiter waits");
        let (tx, rx) = mpsc::channel();
        workers
            .spawn(async move {
                shared.1.store(true, Ordering::SeqCst);
                // Woken here, on a worker: the waiter goes to this worker's next slot...
                shared.0.lock().unwrap().take().unwrap().wake();
                // ...which this task then holds until the waiter has run elsewhere.
                let ran = ran_rx.recv_timeout(Duration::from_secs(10)).is_ok();
                tx.send(ran).unwrap();
            })
            .detach();
        assert_eq!(rx.recv_timeout(Duration::from_secs(20)), Ok(true));
    }

    /// Tasks woken from other threads and from tasks all run, many times over.
    #[test]
    fn woken_tasks_all_run() {
        let workers = workers();
        let (tx, rx) = mpsc::channel();
        for i in 0..200u32 {
            let tx = tx.clone();
            workers
                .spawn(async move {
                    for _ in 0..10 {
                        futures_lite::future::yield_now().await;
                    }
                    let (done_tx, done_rx) = async_channel::bounded(1);
                    workers
                        .spawn(async move { done_tx.send(i).await.unwrap() })
                        .detach();
                    tx.send(done_rx.recv().await.unwrap()).unwrap();
                })
                .detach();
        }
        let mut seen: Vec<u32> = (0..200)
            .map(|_| {
                rx.recv_timeout(Duration::from_secs(20))
                    .expect("a task never ran")
            })
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
    }

    /// A task's panic reaches its handle, and the worker goes on.
    #[test]
    fn a_panic_reaches_the_handle() {
        let workers = workers();
        let task = workers.spawn(async { panic!("task bug") });
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| async_io::block_on(task)));
        assert!(caught.is_err());
        assert_eq!(async_io::block_on(workers.spawn(async { 5 })), 5);
    }
}
