//! What every combinator shares: a derived deferred fed by a callback, and panic capture.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::Error;

use super::{Deferred, Realizer};

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// A new deferred that `stage` realizes from this one's outcome. The stage is skipped when the
    /// new deferred was realized first (cancelled or timed out).
    pub(crate) fn derive<U, E2>(
        self,
        stage: impl FnOnce(Result<T, E>, Realizer<U, E2>) + Send + 'static,
    ) -> Deferred<U, E2>
    where
        U: Send + 'static,
        E2: Send + 'static,
    {
        let out = Deferred::new();
        let realizer = out.realizer();
        self.on_realized(move |outcome| {
            if !realizer.is_realized() {
                stage(outcome, realizer);
            }
        });
        out
    }
}

/// Runs user code, turning a panic into an error.
pub(crate) fn guarded<R, E: From<Error>>(f: impl FnOnce() -> R) -> Result<R, E> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| E::from(Error::panicked(panic)))
}
