//! weir runs unchanged under async-std's, smol's and tokio's executors, and from plain threads.

mod support;
#[path = "support/executor_workload.rs"]
mod workload;

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
    let rt = workload::tokio_runtime();
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

/// Without touching the process-wide executor (other tests here use weir's pool), a task
/// spawned through a tokio-backed `Executor` keeps everything weir spawns from it on tokio:
/// a connect, a buffer, a deferred's `then` and timeout, and a TCP echo.
#[test]
fn a_tokio_executor_in_scope_gets_every_task() {
    let rt = workload::tokio_runtime();
    let counts = workload::Counts::default();
    let executor = counts.tokio_executor(&rt);
    let task_counts = counts.clone();
    let done = executor.enter(|| {
        Deferred::spawn(async move {
            workload::workload(
                &task_counts,
                weir::tcp::ServerOptions::new(),
                weir::tcp::ClientOptions::new(),
            )
            .await
        })
    });
    done.wait_timeout(support::BOUND).expect("bounded").unwrap();
    assert!(counts.spawned() >= 10, "spawned {}", counts.spawned());
    assert_eq!(counts.polled_elsewhere(), 0, "every task polled on tokio");
}

/// A server's and a client's `executor` option: their tasks run there, though the caller runs
/// on weir's pool and the process-wide executor is weir's.
#[test]
fn tcp_options_take_an_executor() {
    let rt = workload::tokio_runtime();
    let (server_counts, client_counts) = (workload::Counts::default(), workload::Counts::default());
    let on_server = server_counts.tokio_executor(&rt);
    let on_client = client_counts.tokio_executor(&rt);
    support::run(async {
        let echo = |c: weir::tcp::TcpConnection| {
            weir::stream::connect(c.clone(), c, weir::stream::ConnectOptions::new());
        };
        let options = weir::tcp::ServerOptions::new()
            .address(([127, 0, 0, 1], 0))
            .executor(on_server);
        let server = weir::tcp::start_server(echo, options).await.unwrap();
        let options = weir::tcp::ClientOptions::new()
            .remote_address(server.local_addr())
            .executor(on_client);
        let client = weir::tcp::client(options).await.unwrap();
        client.put("ping").await.unwrap();
        let mut got = Vec::new();
        while got.len() < 4 {
            got.extend_from_slice(&client.take_next().await.expect("echoed"));
        }
        assert_eq!(got, b"ping");
        weir::stream::Source::close(&client);
        server.close().await.unwrap();
    });
    // The accept loop, and the accepted connection's read, write and echo tasks.
    assert!(
        server_counts.spawned() >= 4,
        "server spawned {}",
        server_counts.spawned()
    );
    // The connect, and the connection's read and write tasks.
    assert!(
        client_counts.spawned() >= 3,
        "client spawned {}",
        client_counts.spawned()
    );
    assert_eq!(
        server_counts.polled_elsewhere() + client_counts.polled_elsewhere(),
        0
    );
}
