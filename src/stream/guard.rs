//! Panic capture for user functions called by the combinators.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::Error;

/// Runs user code, turning a panic into a [panic error](Error::is_panic). Free when nothing
/// panics: the closure is inlined and unwinding costs only on the panic path.
#[inline(always)]
pub(crate) fn guard<R>(f: impl FnOnce() -> R) -> Result<R, Error> {
    catch_unwind(AssertUnwindSafe(f)).map_err(Error::panicked)
}
