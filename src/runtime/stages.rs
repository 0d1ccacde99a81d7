//! A connection's future in two stages: choosing its protocol (which may read its first bytes),
//! then serving it. It holds one stage at a time, so an idle connection's task is as large as
//! the larger stage, not as both: what the choice needed (the transport, before it moves into
//! the protocol's I/O) is gone while the connection is served.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// What choosing the protocol ended with.
pub(crate) enum Chosen<S> {
    /// Serve with this future.
    Serve(S),
    /// Serve with a boxed future: a protocol whose state would make every task larger.
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    Boxed(Pin<Box<dyn Future<Output = ()> + Send>>),
    /// Nothing to serve: the connection failed or closed while the choice was made.
    Nothing,
}

pin_project_lite::pin_project! {
    /// Runs `C` to a [`Chosen`] serving future, then that future.
    #[project = StagesProj]
    pub(crate) enum Stages<C, S> {
        Choosing { #[pin] choose: C },
        Serving { #[pin] serve: S },
        ServingBoxed { serve: Pin<Box<dyn Future<Output = ()> + Send>> },
        Done,
    }
}

impl<C, S> Stages<C, S>
where
    C: Future<Output = Chosen<S>>,
    S: Future<Output = ()>,
{
    pub(crate) fn new(choose: C) -> Self {
        Stages::Choosing { choose }
    }
}

impl<C, S> Future for Stages<C, S>
where
    C: Future<Output = Chosen<S>>,
    S: Future<Output = ()>,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match self.as_mut().project() {
                StagesProj::Choosing { choose } => {
                    let next = match ready!(choose.poll(cx)) {
                        Chosen::Serve(serve) => Stages::Serving { serve },
                        Chosen::Boxed(serve) => Stages::ServingBoxed { serve },
                        Chosen::Nothing => Stages::Done,
                    };
                    // Drops the choosing stage (and what it held) before serving starts.
                    self.set(next);
                }
                StagesProj::Serving { serve } => {
                    ready!(serve.poll(cx));
                    self.set(Stages::Done);
                }
                StagesProj::ServingBoxed { serve } => {
                    ready!(serve.as_mut().poll(cx));
                    self.set(Stages::Done);
                }
                StagesProj::Done => return Poll::Ready(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stage_runs_once_and_in_order() {
        use std::sync::{Arc, Mutex};
        let log = Arc::new(Mutex::new(Vec::new()));
        let (a, b) = (log.clone(), log.clone());
        let stages = Stages::new(async move {
            a.lock().unwrap().push("choose");
            Chosen::Serve(async move { b.lock().unwrap().push("serve") })
        });
        futures_lite::future::block_on(stages);
        assert_eq!(*log.lock().unwrap(), ["choose", "serve"]);
    }

    /// A stage that keeps 2 KiB across an await.
    async fn large_stage() {
        let kept = [2u8; 2048];
        futures_lite::future::yield_now().await;
        assert_eq!(kept[2047], 2);
    }

    #[test]
    fn the_task_holds_one_stage_at_a_time() {
        let choose = async {
            large_stage().await;
            Chosen::Serve(large_stage())
        };
        let (choose_size, serve_size) = (
            std::mem::size_of_val(&choose),
            std::mem::size_of_val(&large_stage()),
        );
        let stages = Stages::new(choose);
        let size = std::mem::size_of_val(&stages);
        assert!(
            size < choose_size.max(serve_size) + 64,
            "{size} bytes for stages of {choose_size} and {serve_size}"
        );
        futures_lite::future::block_on(stages);
    }

    #[test]
    fn nothing_chosen_ends_without_serving() {
        let stages = Stages::new(async { Chosen::<std::future::Ready<()>>::Nothing });
        futures_lite::future::block_on(stages);
    }

    #[test]
    fn a_boxed_choice_is_served() {
        let served = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = served.clone();
        let stages = Stages::new(async move {
            Chosen::<std::future::Ready<()>>::Boxed(Box::pin(async move {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }))
        });
        futures_lite::future::block_on(stages);
        assert!(served.load(std::sync::atomic::Ordering::SeqCst));
    }
}
