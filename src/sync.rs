//! The synchronisation primitives behind the deferred cell, swapped for loom's under
//! `--cfg weir_loom` so that `tests/loom_deferred.rs` and `tests/loom_queue.rs` can model-check
//! the deferred cell's and the channel queue's races.

#[cfg(not(weir_loom))]
pub(crate) use std::{
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread_local,
};

#[cfg(weir_loom)]
pub(crate) use loom::{
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread_local,
};
