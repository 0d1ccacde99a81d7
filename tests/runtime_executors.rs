//! weir runs unchanged under async-std's, smol's and tokio's executors, and from plain threads.

mod support;

use std::time::Duration;

use weir::deferred::{Loop, loop_fn};
use weir::{Deferred, Error, deferred, runtime};

/// The same work under every executor: deferreds realized from another thread, combinators,
/// a stage future, a timeout, a loop, and weir's timers.
async fn workload() -> Result<u64, Error> {
    let d: Deferred<u64> = Deferred::new();
    let realizer = d.realizer();
    std::thread::spawn(move || realizer.success(20));
    let doubled = d.clone().map(|x| x * 2);
    let plus = d.then(|x| async move { Ok::<_, Error>(x + 2) });
    let (a, b) = deferred::zip((doubled, plus)).await?;
    let timed_out = Deferred::<u64>::new()
        .timeout(Duration::from_millis(5))
        .await;
    assert!(timed_out.unwrap_err().is_timeout());
    let looped = loop_fn(0u64, |n| async move {
        Ok::<_, Error>(if n < 10 {
            Loop::Recur(n + 1)
        } else {
            Loop::Done(n)
        })
    })
    .await?;
    runtime::sleep(Duration::from_millis(1)).await;
    Ok(a + b - looped - 30 + 42 - 22)
}

#[test]
fn smoke() {
    assert_eq!(support::run(workload()).unwrap(), 42);
}

#[test]
fn under_async_std() {
    let out = async_std::task::block_on(async_std::future::timeout(support::BOUND, workload()));
    assert_eq!(out.expect("bounded").unwrap(), 42);
}

#[test]
fn under_smol() {
    let out = smol::block_on(async {
        smol::future::or(async { Some(workload().await) }, async {
            smol::Timer::after(support::BOUND).await;
            None
        })
        .await
    });
    assert_eq!(out.expect("bounded").unwrap(), 42);
}

#[test]
fn under_a_tokio_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let out =
        rt.block_on(async { tokio::time::timeout(support::BOUND, tokio::spawn(workload())).await });
    assert_eq!(out.expect("bounded").expect("joined").unwrap(), 42);
}

#[test]
fn under_a_tokio_current_thread_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt.block_on(async { tokio::time::timeout(support::BOUND, workload()).await });
    assert_eq!(out.expect("bounded").unwrap(), 42);
}

#[test]
fn from_a_plain_thread() {
    let d = Deferred::spawn(workload());
    assert_eq!(
        d.wait_timeout(support::BOUND).expect("bounded").unwrap(),
        42
    );
}
