//! The synchronisation primitives behind the deferred cell, swapped for loom's under
//! `--cfg weir_loom` so that `tests/loom_deferred.rs` can model-check the realize/listen race.

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
