//! `Realizer`: the write side of a deferred, for producers that must not read it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::sync::Arc;
use crate::{Error, runtime};

use super::cell::{Cell, NO_WAKER, release};
use super::{AlreadyRealized, Deferred};

/// The write side of a [`Deferred`]: it can realize the deferred and watch for it being
/// realized, but never reads the value, so it exists for any `T`, `Clone` or not.
///
/// Get one with [`Deferred::realizer`]. Realizers are always `Clone`.
///
/// # Examples
///
/// ```
/// let d: weir::Deferred<String> = weir::Deferred::new();
/// let realizer = d.realizer();
/// assert!(realizer.success("done".to_string()));
/// assert!(realizer.is_realized());
/// assert_eq!(d.wait().unwrap(), "done");
/// ```
pub struct Realizer<T, E = Error> {
    /// `None` only while it is dropped (see `Drop`).
    cell: Option<Arc<Cell<T, E>>>,
}

impl<T, E> Realizer<T, E> {
    pub(crate) fn from_cell(cell: Arc<Cell<T, E>>) -> Self {
        Realizer { cell: Some(cell) }
    }

    pub(super) fn cell(&self) -> &Arc<Cell<T, E>> {
        match &self.cell {
            Some(cell) => cell,
            None => unreachable!("a realizer is used while it is dropped"),
        }
    }

    /// Realizes with a value; true if this call realized it.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<u8> = weir::Deferred::new();
    /// assert!(d.realizer().success(1));
    /// assert!(!d.realizer().success(2));
    /// ```
    pub fn success(&self, value: T) -> bool {
        self.cell().realize(Ok(value)).is_ok()
    }

    /// Realizes with an error; true if this call realized it.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<u8> = weir::Deferred::new();
    /// assert!(d.realizer().error(weir::Error::cancelled()));
    /// assert!(d.wait().is_err());
    /// ```
    pub fn error(&self, error: E) -> bool {
        self.cell().realize(Err(error)).is_ok()
    }

    /// Realizes with a result, handing it back if the deferred was already realized.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<u8> = weir::Deferred::succeeded(1);
    /// let back = d.realizer().try_realize(Ok(2)).unwrap_err();
    /// assert_eq!(back.into_inner().unwrap(), 2);
    /// ```
    pub fn try_realize(&self, result: Result<T, E>) -> Result<(), AlreadyRealized<T, E>> {
        self.cell().realize(result).map_err(AlreadyRealized)
    }

    /// True once the deferred is realized, by anyone.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<u8> = weir::Deferred::new();
    /// let realizer = d.realizer();
    /// d.success(1);
    /// assert!(realizer.is_realized());
    /// ```
    pub fn is_realized(&self) -> bool {
        self.cell().is_realized()
    }

    /// Completes when the deferred is realized, by anyone. Work that produces a deferred's value
    /// races its work against this to notice cancellation (someone realizing the deferred with an
    /// error first). Waiting here does not count as observing an error.
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let d: weir::Deferred<u8> = weir::Deferred::new();
    /// let realizer = d.realizer();
    /// let watcher = weir::runtime::spawn(async move { realizer.realized().await });
    /// d.error(weir::Error::cancelled()); // the consumer gives up
    /// watcher.await;
    /// # d.wait().unwrap_err();
    /// # });
    /// ```
    pub fn realized(&self) -> Realized<'_, T, E> {
        Realized {
            cell: self.cell(),
            waker_key: NO_WAKER,
        }
    }

    /// Realizes with whatever `source` yields, without a task: a deferred follows another.
    pub(crate) fn follow(self, source: Deferred<T, E>)
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        source.on_realized(move |outcome| {
            let _ = self.cell().realize(outcome);
        });
    }
}

impl<T, E> Realizer<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// Drives `work` on weir's executor and realizes with its output. If the deferred is realized
    /// by someone else first (cancellation), the work is dropped; a panic becomes an error.
    pub(crate) fn drive<F>(self, work: F)
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        if self.is_realized() {
            return;
        }
        runtime::spawn_detached(super::drive::Drive::new(self, work));
    }
}

impl<T, E> Clone for Realizer<T, E> {
    fn clone(&self) -> Self {
        Realizer::from_cell(self.cell().clone())
    }
}

impl<T, E> Drop for Realizer<T, E> {
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            release(cell);
        }
    }
}

impl<T, E> fmt::Debug for Realizer<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Realizer")
            .field("realized", &self.is_realized())
            .finish()
    }
}

/// The future returned by [`Realizer::realized`].
pub struct Realized<'a, T, E> {
    cell: &'a Arc<Cell<T, E>>,
    waker_key: usize,
}

impl<T, E> Future for Realized<'_, T, E> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.cell.poll_realized(cx, &mut this.waker_key)
    }
}

impl<T, E> Drop for Realized<'_, T, E> {
    fn drop(&mut self) {
        self.cell.forget_waker(self.waker_key);
    }
}

impl<T, E> fmt::Debug for Realized<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Realized(..)")
    }
}
