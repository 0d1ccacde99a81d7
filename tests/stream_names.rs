//! weir's stream surface beside the ecosystem's extension traits: with `futures::StreamExt` and
//! `futures::SinkExt`, or `futures_lite::StreamExt`, in scope, every `SourceExt` method, the
//! channel's methods, `PutExt` and `connect` compile with method syntax and mean what they mean
//! without those traits (issue 9, item 7). The same body runs in each module, through `surface!`.
//! Also: boxed sources keep the weir API, the eager `put_now`, and `PutExt` on every sink.

mod support;

use std::time::Duration;

use futures_core::Stream;
use support::run;

/// Every message of `source`, without a `StreamExt` method (each module has its own).
async fn all<S: Stream + Unpin>(source: S) -> Vec<S::Item> {
    let mut source = source;
    let mut out = Vec::new();
    while let Some(item) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut source).poll_next(cx)).await
    {
        out.push(item);
    }
    out
}

/// The whole weir stream surface, called with method syntax; the traits in scope are those of
/// the module the macro is expanded in.
macro_rules! surface {
    () => {
        use std::ops::ControlFlow;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU32, Ordering};

        #[allow(unused_imports, reason = "for `poll_next` in `partition_by`'s loop")]
        use futures_core::Stream as _;
        use weir::stream::{
            self, BufferedChannel, Channel, ConnectOptions, FnTransducer, PutExt, Source,
            SourceExt, Transducer, xform,
        };
        use weir::{Deferred, Error};

        use super::{Duration, all, run};

        #[test]
        fn source_ext_methods() {
            run(async {
                assert_eq!(
                    all(stream::iter(1..=3).map_each(|n| n * 2)).await,
                    [2, 4, 6]
                );
                let parsed =
                    stream::iter(["1", "x"]).try_map(|s| s.parse::<u8>().map_err(Error::other));
                let drained = parsed.drained();
                assert_eq!(all(parsed).await, [1]);
                assert!(drained.await.is_err());
                assert_eq!(
                    all(stream::iter(1..=6).filter_each(|n| n % 2 == 0)).await,
                    [2, 4, 6]
                );
                assert_eq!(
                    all(stream::iter(1..=3usize).mapcat(|n| vec![n; n])).await,
                    [1, 2, 2, 3, 3, 3]
                );
                assert_eq!(
                    all(stream::iter(1..=3).reductions(0, |a, n| a + n)).await,
                    [0, 1, 3, 6]
                );
                assert_eq!(
                    all(stream::iter(1..=3).accumulate(|a, n| a + n)).await,
                    [1, 3, 6]
                );
                assert_eq!(all(stream::iter([1, 1, 2]).dedupe()).await, [1, 2]);
                assert_eq!(
                    stream::iter(1..=4).reduce(0, |a, n| a + n).await.unwrap(),
                    10
                );
                let pairs = stream::iter(1..=3).zip_each(stream::iter("ab".chars()));
                assert_eq!(all(pairs).await, [(1, 'a'), (2, 'b')]);
                let nested = stream::iter([stream::iter(1..3), stream::iter(3..5)]);
                assert_eq!(all(nested.flatten_each()).await, [1, 2, 3, 4]);
                let odd = FnTransducer::new(|n: u32| (n % 2 == 1).then_some(n));
                assert_eq!(all(stream::iter(1..=5).transform(odd)).await, [1, 3, 5]);
                let taken = stream::iter(1..=9).transform(xform::drop(1).then(xform::take(2)));
                assert_eq!(all(taken).await, [2, 3]);
                let tw = stream::iter([1, 2, 9, 1]).transform(xform::take_while(|n: &i32| *n < 5));
                assert_eq!(all(tw).await, [1, 2]);
                let rows = stream::iter(1..=3).transform(xform::partition_all(2));
                assert_eq!(all(rows).await, [vec![1, 2], vec![3]]);
                let deferreds = (1..=2).map(|n| Deferred::<i32, Error>::succeeded(n));
                assert_eq!(all(stream::iter(deferreds).realize_each()).await, [1, 2]);
                let mut runs = stream::iter([1, 3, 2]).partition_by(|n| n % 2);
                let mut lens = Vec::new();
                while let Some(run) =
                    std::future::poll_fn(|cx| std::pin::Pin::new(&mut runs).poll_next(cx)).await
                {
                    lens.push(all(run).await.len());
                }
                assert_eq!(lens, [2, 1]);
                assert_eq!(
                    all(stream::iter(1..=3).batch(2)).await,
                    [vec![1, 2], vec![3]]
                );
                let within = stream::iter(1..=3).batch_within(2, Duration::from_secs(5));
                assert_eq!(all(within).await, [vec![1, 2], vec![3]]);
                let by = stream::iter(["a", "bb", "ccc"]).batch_by(|w| w.len(), 3, None);
                assert_eq!(all(by).await, [vec!["a", "bb"], vec!["ccc"]]);
                assert_eq!(all(stream::iter(1..=3).throttle(1000.0)).await, [1, 2, 3]);
                assert_eq!(
                    all(stream::iter(1..=2).throttle_with_backlog(1000.0, 2.0)).await,
                    [1, 2]
                );
                assert_eq!(all(stream::iter(1..=3).read_ahead(2)).await, [1, 2, 3]);
                assert_eq!(
                    all(stream::iter([vec![1u8; 3]]).read_ahead_by(|v| v.len(), 8)).await,
                    [vec![1; 3]]
                );
                assert_eq!(all(stream::iter(1..=2).dropping(4)).await, [1, 2]);
                assert_eq!(all(stream::iter(1..=2).sliding(4)).await, [1, 2]);
                let sink = Channel::new(4);
                stream::iter([7, 8]).drain_into(sink.clone()).await.unwrap();
                assert_eq!(
                    (sink.take_next().await, sink.take_next().await),
                    (Some(7), Some(8))
                );
                let total = Arc::new(AtomicU32::new(0));
                let t = total.clone();
                stream::iter(1..=3)
                    .consume(move |n| {
                        t.fetch_add(n, Ordering::SeqCst);
                    })
                    .await
                    .unwrap();
                assert_eq!(total.load(Ordering::SeqCst), 6);
                let t = total.clone();
                stream::iter(1..=3)
                    .consume_async(move |n| {
                        let t = t.clone();
                        async move {
                            t.fetch_add(n, Ordering::SeqCst);
                            true
                        }
                    })
                    .await
                    .unwrap();
                assert_eq!(total.load(Ordering::SeqCst), 12);
                let named = stream::iter(1..=2).map_each(|n| n + 1).named("inc");
                assert_eq!(named.description().label.as_deref(), Some("inc"));
                assert_eq!(all(named).await, [2, 3]);
                let outputs = stream::iter(1..=3).fan_out(2);
                let reads = outputs
                    .into_iter()
                    .map(|o| Deferred::spawn(async move { Ok::<_, Error>(all(o).await) }));
                assert_eq!(
                    weir::deferred::zip_all(reads).await.unwrap(),
                    [vec![1, 2, 3], vec![1, 2, 3]]
                );
            });
            let blocking: Vec<i32> = stream::iter(1..=3)
                .map_each(|n| n * 10)
                .into_blocking_iter()
                .collect();
            assert_eq!(blocking, [10, 20, 30]);
            let channel = Channel::new(2);
            run(channel.put(1)).unwrap();
            let idle: Vec<i32> = channel
                .into_blocking_iter_timeout(Duration::from_millis(1))
                .collect();
            assert_eq!(idle, [1]);
        }

        #[test]
        fn channel_methods() {
            run(async {
                let channel = Channel::new(2);
                assert_eq!(channel.capacity(), 2);
                assert!(channel.same_channel(&channel.clone()));
                channel.put(1).await.unwrap();
                channel.try_put(2, Duration::ZERO).await.unwrap();
                assert!(
                    channel
                        .try_put(3, Duration::ZERO)
                        .await
                        .unwrap_err()
                        .is_timeout()
                );
                let eager = channel.put_now(3);
                assert_eq!(channel.take_next().await, Some(1));
                assert_eq!(channel.try_take(Duration::from_secs(5)).await, Ok(2));
                eager.await.unwrap();
                let closed = channel.closed();
                channel.on_closed(|| ());
                channel.on_drained(|_| ());
                channel.close();
                assert!(channel.is_closed());
                closed.await.unwrap();
                assert_eq!(channel.take_next().await, Some(3));
                assert_eq!(channel.take_next().await, None);
                assert!(channel.is_drained());
                assert_eq!(
                    channel.description().kind,
                    channel.node().description().kind
                );

                let buffered = BufferedChannel::new(4);
                buffered.put("x").await.unwrap();
                assert_eq!(buffered.take_next().await, Some("x"));
                let dropping = stream::dropping(1);
                dropping.put(5).unwrap();
                assert_eq!(dropping.take_next().await, Some(5));
                let view = stream::source_only(Channel::new(1));
                view.close();
                assert_eq!(view.take_next().await, None::<u8>);
            });
        }

        #[test]
        fn put_ext_and_connect() {
            run(async {
                let source = Channel::new(4);
                let out = Channel::new(4);
                let done = stream::connect(source.clone(), out.clone(), ConnectOptions::new());
                #[allow(
                    unused_mut,
                    reason = "`put` takes `&mut self` only where `PutExt` is used"
                )]
                let mut writer = stream::sink_only(source.clone());
                writer.put(1).await.unwrap();
                writer.try_put(2, Duration::from_secs(5)).await.unwrap();
                writer.put_now(3).await.unwrap();
                source.close();
                done.await.unwrap();
                assert_eq!(all(out).await, [1, 2, 3]);
                let flow = ControlFlow::<()>::Continue(());
                assert!(flow.is_continue());
            });
        }
    };
}

/// `futures::StreamExt` and `futures::SinkExt` in scope.
mod with_futures {
    #[allow(
        unused_imports,
        reason = "in scope to prove that weir's calls do not resolve to them"
    )]
    use futures::{SinkExt, StreamExt};

    surface!();

    #[test]
    fn futures_methods_keep_their_meaning() {
        run(async {
            let mut channel = Channel::new(4);
            channel.send(1).await.unwrap(); // SinkExt::send
            channel.put(2).await.unwrap();
            channel.put(3).await.unwrap();
            assert_eq!(channel.next().await, Some(1)); // StreamExt::next
            assert_eq!(channel.take_next().await, Some(2)); // weir's take
            SinkExt::close(&mut channel).await.unwrap();
            let limited: Vec<i32> = channel.take(5).collect().await; // StreamExt::take(n)
            assert_eq!(limited, [3]);
            let mapped: Vec<i32> = stream::iter(1..=2).map(|n| n + 1).collect().await;
            assert_eq!(mapped, [2, 3]);
            let flat: Vec<i32> = stream::iter([vec![1], vec![2]]).concat().await; // collects
            assert_eq!(flat, [1, 2]);
        });
    }
}

/// `futures_lite::StreamExt` in scope.
mod with_futures_lite {
    #[allow(
        unused_imports,
        reason = "in scope to prove that weir's calls do not resolve to it"
    )]
    use futures_lite::StreamExt;

    surface!();

    #[test]
    fn futures_lite_methods_keep_their_meaning() {
        run(async {
            let channel = Channel::new(4);
            channel.put(1).await.unwrap();
            channel.put(2).await.unwrap();
            channel.close();
            assert_eq!(channel.take_next().await, Some(1));
            let rest: Vec<i32> = channel.take(5).collect().await; // StreamExt::take(n)
            assert_eq!(rest, [2]);
            let skipped: Vec<i32> = stream::iter(1..=3)
                .skip(1)
                .filter(|n| *n > 2)
                .collect()
                .await;
            assert_eq!(skipped, [3]);
        });
    }
}

/// No extension trait but weir's.
mod weir_only {
    surface!();
}

mod boxes {
    use std::pin::Pin;

    use weir::stream::{self, Channel, Source, SourceExt};

    use super::{all, run};

    #[test]
    fn boxed_sources_keep_the_weir_api() {
        let boxed: Box<dyn Source<Item = u32> + Unpin> = Box::new(stream::iter(1..=3));
        assert_eq!(boxed.description().kind, "iter");
        assert_eq!(boxed.into_blocking_iter().collect::<Vec<_>>(), [1, 2, 3]);

        let pinned: Pin<Box<dyn Source<Item = u32>>> =
            Box::pin(stream::iter(1..=3).map_each(|n| n + 1));
        assert_eq!(
            all(pinned.map_each(|n| n * 10)).await_blocking(),
            [20, 30, 40]
        );

        let channel = Channel::new(4);
        let boxed: Box<dyn Source<Item = u32> + Unpin> = Box::new(channel.clone());
        let out = Channel::new(4);
        let done = stream::connect(boxed, out.clone(), stream::ConnectOptions::new());
        run(async {
            channel.put(5).await.unwrap();
            channel.close();
            done.await.unwrap();
            assert_eq!(out.take_next().await, Some(5));
        });
    }

    #[test]
    fn a_receiver_source_is_unpin_and_boxes() {
        fn unpin<T: Unpin>(_: &T) {}
        let (tx, rx) = async_channel::bounded(4);
        let source = stream::from_receiver(rx);
        unpin(&source);
        let boxed: Box<dyn Source<Item = u8> + Unpin> = Box::new(source);
        run(async {
            tx.send(1).await.unwrap();
        });
        drop(tx);
        assert_eq!(boxed.into_blocking_iter().collect::<Vec<_>>(), [1]);
    }

    trait AwaitBlocking: std::future::Future + Sized {
        fn await_blocking(self) -> Self::Output {
            run(self)
        }
    }
    impl<F: std::future::Future> AwaitBlocking for F {}
}

mod put {
    use std::time::Duration;

    use weir::stream::{self, Channel, PutExt};

    use super::run;

    #[test]
    fn a_fire_and_forget_put_now_delivers() {
        run(async {
            let channel = Channel::unbuffered();
            // Nobody takes yet: the put waits, with no one awaiting its deferred.
            drop(channel.put_now("a"));
            drop(channel.put_now("b"));
            assert_eq!(channel.take_next().await, Some("a"));
            assert_eq!(channel.take_next().await, Some("b"));
            channel.close();
            let refused = channel.put_now("c").await.unwrap_err();
            assert!(refused.is_closed());
            assert_eq!(refused.into_inner(), "c");
        });
    }

    #[test]
    fn put_now_offers_before_it_returns() {
        let channel = Channel::new(1);
        let accepted = channel.put_now(1);
        // No executor has run: the message is in the buffer already.
        assert!(accepted.is_realized());
        assert_eq!(channel.description().buffer_size, Some(1));
    }

    #[test]
    fn every_sink_has_put_and_try_put() {
        run(async {
            // A sink-only view.
            let channel = Channel::new(1);
            let view = stream::sink_only(channel.clone());
            view.put(1).await.unwrap();
            assert!(
                view.try_put(2, Duration::ZERO)
                    .await
                    .unwrap_err()
                    .is_timeout()
            );
            assert_eq!(channel.take_next().await, Some(1));
            view.try_put(3, Duration::from_secs(5)).await.unwrap();
            assert_eq!(channel.take_next().await, Some(3));

            // A splice: puts go to its sink side.
            let (inbound, outbound) = (Channel::new(2), Channel::<u8>::new(2));
            let mut duplex = stream::splice(inbound.clone(), outbound.clone());
            PutExt::put(&mut duplex, "in").await.unwrap();
            assert_eq!(inbound.take_next().await, Some("in"));
            duplex.put_now("now").await.unwrap();
            assert_eq!(inbound.take_next().await, Some("now"));

            // Any futures sink, through `into_sink`.
            let (tx, rx) = futures::channel::mpsc::channel::<u8>(4);
            let mut sink =
                stream::into_sink(futures::SinkExt::sink_map_err(tx, weir::Error::other));
            sink.put(9).await.unwrap();
            sink.try_put(10, Duration::from_secs(5)).await.unwrap();
            drop(sink);
            let got: Vec<u8> = futures_lite::StreamExt::collect(rx).await;
            assert_eq!(got, [9, 10]);

            // A closed sink refuses.
            let channel = Channel::<u8>::new(1);
            let view = stream::sink_only(channel.clone());
            channel.close();
            assert!(view.put(1).await.unwrap_err().is_closed());
        });
    }
}

mod auto_traits {
    use weir::stream::{Channel, SinkOnly, SinkPut, xform};

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}

    #[test]
    fn the_new_types_are_send_and_sync() {
        send::<SinkPut<'static, SinkOnly<Channel<u8>>, u8>>();
        send_sync::<xform::TakeFirst>();
        send_sync::<xform::DropFirst>();
        send_sync::<xform::TakeWhile<fn(&u8) -> bool>>();
        send_sync::<xform::PartitionAll<u8>>();
        send_sync::<xform::Mapcat<fn(u8) -> Vec<u8>>>();
        send_sync::<xform::Dedupe<u8>>();
        send_sync::<xform::Reductions<u8, fn(u8, u8) -> u8>>();
        send_sync::<Vec<Channel<u8>>>(); // what `fan_out` returns
    }
}
