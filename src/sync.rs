//! The synchronisation primitives behind the deferred cell, swapped for loom's under
//! `--cfg weir_loom` so that `tests/loom_deferred.rs` and `tests/loom_queue.rs` can model-check
//! the deferred cell's and the channel queue's races.

#[cfg(not(weir_loom))]
pub(crate) use std::{
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    thread_local,
};

#[cfg(weir_loom)]
pub(crate) use loom::{
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    thread_local,
};

/// `Arc::into_inner`, which loom's `Arc` lacks. Under loom the reference is simply dropped: what
/// the last one does with the value (a log line about an unobserved error) is not what the
/// models check, and an extra atomic operation per drop would multiply their interleavings.
#[cfg(not(weir_loom))]
pub(crate) fn arc_into_inner<T>(arc: Arc<T>) -> Option<T> {
    Arc::into_inner(arc)
}

#[cfg(weir_loom)]
pub(crate) fn arc_into_inner<T>(arc: Arc<T>) -> Option<T> {
    drop(arc);
    None
}
