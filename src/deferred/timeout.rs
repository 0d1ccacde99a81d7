//! `Deferred::timeout`: realize with an error (or a default) if nothing else did in time.

use std::time::Duration;

use futures_lite::FutureExt;

use crate::{Error, runtime};

use super::{Deferred, Realizer};

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// Realizes this deferred with a [timeout error](Error::is_timeout) if it is not realized
    /// within `after`, and returns it. Like Manifold's `timeout!`, this acts on the deferred itself:
    /// work started for this very deferred ([`Deferred::spawn`], a [`then`](Deferred::then)
    /// stage's future, a [`loop_fn`](super::loop_fn)) sees the timeout as a cancellation and stops,
    /// and stages that would have realized it are skipped. Cancellation does not travel further
    /// upstream: on `spawn(work).map(f).timeout(t)` the `map` result times out but `work` runs on,
    /// so put the timeout on the deferred whose work should stop. The timer is cancelled as soon as
    /// the deferred is realized. An already-realized deferred is returned unchanged; a zero
    /// duration times out at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let never = weir::Deferred::<u8>::new().timeout(Duration::from_millis(10));
    /// assert!(never.wait().unwrap_err().is_timeout());
    ///
    /// let quick = weir::Deferred::<u8>::succeeded(1).timeout(Duration::from_millis(10));
    /// assert_eq!(quick.wait().unwrap(), 1);
    /// ```
    pub fn timeout(self, after: Duration) -> Self {
        arm(
            self.realizer(),
            after,
            Err(E::from(Error::timed_out(after))),
        );
        self
    }

    /// Realizes this deferred with `default` if it is not realized within `after`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let d = weir::Deferred::<&str>::new().timeout_with(Duration::from_millis(10), "default");
    /// assert_eq!(d.wait().unwrap(), "default");
    /// ```
    pub fn timeout_with(self, after: Duration, default: T) -> Self {
        arm(self.realizer(), after, Ok(default));
        self
    }
}

/// Realizes with `on_timeout` after `after`, unless something else realizes it first.
fn arm<T, E>(realizer: Realizer<T, E>, after: Duration, on_timeout: Result<T, E>)
where
    T: Send + 'static,
    E: Send + 'static,
{
    if realizer.is_realized() {
        return;
    }
    if after.is_zero() {
        let _ = realizer.try_realize(on_timeout);
        return;
    }
    runtime::spawn_detached(async move {
        let fired = async {
            runtime::sleep(after).await;
            true
        };
        let realized = async {
            realizer.realized().await;
            false
        };
        if fired.or(realized).await {
            let _ = realizer.try_realize(on_timeout);
        }
    });
}
