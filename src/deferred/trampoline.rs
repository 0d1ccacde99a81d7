//! Stack-safe callbacks: a callback that realizes another deferred does not run that deferred's
//! callbacks inside its own frame, it queues them on this thread, and the outermost callback
//! running on the thread runs them in a loop once it returns. A chain of any depth therefore
//! realizes in constant stack.
//!
//! Order: callbacks of one deferred run in the order they were registered, and everything a
//! callback caused (the callbacks of the deferreds it realized, transitively) runs before the
//! next callback of the same deferred: the depth-first order of running them inline.
//!
//! A callback that blocks on a deferred only realized by queued work ([`drain`], from
//! `Deferred::wait`) runs that work first, so blocking in a callback does not deadlock.

use std::cell::{Cell, RefCell};

use crate::sync::thread_local;

type Job = Box<dyn FnOnce()>;

struct Trampoline {
    /// True while a callback runs on this thread (inside `run`).
    running: Cell<bool>,
    /// Queued work, a stack: the last job is the next to run.
    jobs: RefCell<Vec<Job>>,
}

thread_local! {
    static TRAMPOLINE: Trampoline = Trampoline {
        running: Cell::new(false),
        jobs: RefCell::new(Vec::new()),
    };
}

/// Runs `job` now if no callback is running on this thread, then everything it queued; queues it
/// otherwise (the running one runs it before returning to whoever realized the first deferred).
pub(crate) fn run(job: impl FnOnce() + 'static) {
    TRAMPOLINE.with(|t| {
        if t.running.get() {
            t.jobs.borrow_mut().push(Box::new(job));
            return;
        }
        t.running.set(true);
        // Reset the flag (and run what is left) even if `job` unwinds, so that a panic cannot
        // leave this thread queueing callbacks that nobody runs.
        let _running = Running(t);
        job();
    });
}

/// Runs `serve_all`, which serves one deferred's callbacks through [`run`], keeping them in the
/// order they were served when they are queued (the queue is a stack, so it reverses them).
pub(crate) fn batch(serve_all: impl FnOnce()) {
    TRAMPOLINE.with(|t| {
        if !t.running.get() {
            serve_all();
            return;
        }
        let start = t.jobs.borrow().len();
        serve_all();
        t.jobs.borrow_mut()[start..].reverse();
    });
}

/// If a callback is running on this thread, runs the work it queued so far: for a callback about
/// to block, whose wait may depend on that work.
pub(crate) fn drain() {
    TRAMPOLINE.with(|t| {
        if t.running.get() {
            drain_in(t);
        }
    });
}

fn drain_in(t: &Trampoline) {
    loop {
        // The borrow ends before the job runs: the job may queue more.
        let next = t.jobs.borrow_mut().pop();
        match next {
            Some(job) => job(),
            None => return,
        }
    }
}

struct Running<'a>(&'a Trampoline);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        // Normally empty by now; after an unwind, the queued callbacks still run (each one
        // catches its own panics), so no listener is forgotten.
        drain_in(self.0);
        self.0.running.set(false);
    }
}
