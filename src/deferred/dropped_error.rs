//! The switch for dropped-error detection.

use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the warning about unobserved errors on or off, for the whole process.
///
/// When a deferred holding an error is dropped and nobody ever observed that error (by awaiting
/// it, `wait`, `peek`, `on_realized` or a combinator such as `catch`), weir logs a warning through
/// the [`log`](https://docs.rs/log) facade, target `weir::deferred::cell`. It is on by default,
/// as in Manifold; switch it off where such errors are expected.
///
/// # Examples
///
/// ```
/// weir::deferred::set_dropped_error_logging(false);
/// assert!(!weir::deferred::dropped_error_logging());
/// weir::deferred::set_dropped_error_logging(true);
/// ```
pub fn set_dropped_error_logging(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether dropped-error detection is on; see [`set_dropped_error_logging`].
///
/// # Examples
///
/// ```
/// assert!(weir::deferred::dropped_error_logging());
/// ```
pub fn dropped_error_logging() -> bool {
    enabled()
}

pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}
