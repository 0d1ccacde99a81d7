//! What every combinator shares: a derived deferred fed by a callback, the recovery stage behind
//! `catch`, `catch_if`, `catch_as`, `or_else` and `map_err`, and panic capture.

use std::future::{Future, Ready};
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

    /// The one stage behind every error handler: a value passes through, an error goes to
    /// `handle`, whose answer is the new outcome, now or from a future driven on weir's executor.
    /// A panic in `handle` becomes a panic error.
    pub(crate) fn recover<E2, W>(
        self,
        handle: impl FnOnce(E) -> Recovery<T, E2, W> + Send + 'static,
    ) -> Deferred<T, E2>
    where
        E2: From<Error> + Send + 'static,
        W: Future<Output = Result<T, E2>> + Send + 'static,
    {
        self.derive(move |outcome, out| match outcome {
            Ok(value) => {
                out.success(value);
            }
            Err(error) => match guarded(|| handle(error)) {
                Ok(Recovery::Now(outcome)) => {
                    let _ = out.try_realize(outcome);
                }
                Ok(Recovery::Later(work)) => out.drive(work),
                Err(panic) => {
                    out.error(panic);
                }
            },
        })
    }

    /// [`recover`](Deferred::recover) with a handler that answers at once.
    pub(crate) fn recover_now<E2>(
        self,
        handle: impl FnOnce(E) -> Result<T, E2> + Send + 'static,
    ) -> Deferred<T, E2>
    where
        E2: From<Error> + Send + 'static,
    {
        self.recover(move |error| Recovery::<T, E2, Ready<Result<T, E2>>>::Now(handle(error)))
    }
}

/// What an error handler answers.
pub(crate) enum Recovery<T, E, W> {
    /// The new outcome.
    Now(Result<T, E>),
    /// A future of the new outcome.
    Later(W),
}

/// Runs user code, turning a panic into an error.
pub(crate) fn guarded<R, E: From<Error>>(f: impl FnOnce() -> R) -> Result<R, E> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| E::from(Error::panicked(panic)))
}
