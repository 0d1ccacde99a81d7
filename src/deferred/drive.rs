//! The task behind [`Realizer::drive`](super::Realizer): runs a piece of work until it
//! finishes or the deferred is realized by someone else (a cancellation), then realizes the
//! deferred with the work's output; a panic becomes an error.
//!
//! A future of its own rather than an `async` block racing two others: a block would hold the
//! work twice for as long as it runs (once as what it captured, once inside the race it
//! awaits), and the work is often the largest part of its task (a TLS handshake's was 1 696 of
//! 5 144 bytes, stored twice).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::FutureExt;
use futures_lite::future::CatchUnwind;

use crate::Error;

use super::Realizer;
use super::cell::NO_WAKER;

pin_project_lite::pin_project! {
    /// Runs `work` for `realizer`; see the module docs.
    pub(crate) struct Drive<F, T, E> {
        #[pin]
        work: CatchUnwind<AssertUnwindSafe<F>>,
        realizer: Realizer<T, E>,
        waker_key: usize,
    }

    impl<F, T, E> PinnedDrop for Drive<F, T, E> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.realizer.cell().forget_waker(*this.waker_key);
        }
    }
}

impl<F, T, E> Drive<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    pub(crate) fn new(realizer: Realizer<T, E>, work: F) -> Self {
        Drive {
            work: AssertUnwindSafe(work).catch_unwind(),
            realizer,
            waker_key: NO_WAKER,
        }
    }
}

impl<F, T, E> Future for Drive<F, T, E>
where
    F: Future<Output = Result<T, E>>,
    E: From<Error>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        // The work first, then the cancellation: a realization racing the work's end loses.
        if let Poll::Ready(finished) = this.work.poll(cx) {
            match finished {
                Ok(outcome) => {
                    let _ = this.realizer.cell().realize(outcome);
                }
                Err(panic) => {
                    this.realizer.error(E::from(Error::panicked(panic)));
                }
            }
            return Poll::Ready(());
        }
        let cell = this.realizer.cell();
        if cell.poll_realized(cx, this.waker_key).is_ready() {
            // Someone else realized it: the work reacted by stopping.
            cell.mark_observed();
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

#[cfg(all(test, not(weir_loom)))]
mod tests {
    use super::*;
    use crate::Deferred;

    /// A future that keeps 4 KiB across an await.
    async fn large() -> Result<u8, Error> {
        let buffer = [7u8; 4096];
        futures_lite::future::yield_now().await;
        Ok(buffer[4095])
    }

    #[test]
    fn the_task_holds_its_work_once() {
        let work = large();
        let work_size = std::mem::size_of_val(&work);
        let drive = Drive::new(Deferred::<u8>::new().realizer(), work);
        assert!(
            std::mem::size_of_val(&drive) < work_size + 128,
            "{} bytes for {work_size} bytes of work",
            std::mem::size_of_val(&drive)
        );
    }

    #[test]
    fn it_realizes_with_the_output_or_stops_once_realized() {
        let done = Deferred::<u8>::new();
        futures_lite::future::block_on(Drive::new(done.realizer(), large()));
        assert_eq!(done.wait().unwrap(), 7);

        let cancelled = Deferred::<u8>::new();
        let mut drive = Box::pin(Drive::new(
            cancelled.realizer(),
            futures_lite::future::pending::<Result<u8, Error>>(),
        ));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(drive.as_mut().poll(&mut cx).is_pending());
        cancelled.error(Error::cancelled());
        assert!(drive.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let done = Deferred::<u8>::new();
        let work = async { panic!("boom") };
        futures_lite::future::block_on(Drive::new(done.realizer(), work));
        assert!(done.wait().unwrap_err().to_string().contains("boom"));
    }
}
