//! The work a program hands weir, for the executor tests: a connect, a buffer, a deferred's
//! `then` and timeout, and a TCP echo, each checked to have spawned tasks on the executor
//! under test. Included with `#[path]` by the executor test binaries.
#![allow(
    dead_code,
    reason = "each executor test binary uses a different subset"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use weir::runtime::Executor;
use weir::stream::{self, Channel, ConnectOptions, Source, SourceExt};
use weir::tcp::{self, ClientOptions, ServerOptions, TcpConnection};
use weir::{Deferred, Error};

/// Counts the tasks handed to an executor, and those of them that were polled where `on_it`
/// says they should be.
#[derive(Clone, Default)]
pub struct Counts {
    pub spawned: Arc<AtomicUsize>,
    pub polled_elsewhere: Arc<AtomicUsize>,
}

impl Counts {
    pub fn spawned(&self) -> usize {
        self.spawned.load(Ordering::SeqCst)
    }

    pub fn polled_elsewhere(&self) -> usize {
        self.polled_elsewhere.load(Ordering::SeqCst)
    }

    /// Wraps `spawn` so that every task is counted, and checked with `on_it` each time it is
    /// polled.
    pub fn executor(
        &self,
        on_it: fn() -> bool,
        spawn: impl Fn(weir::runtime::BoxedTask) + Send + Sync + 'static,
    ) -> Executor {
        let counts = self.clone();
        Executor::new(move |task: weir::runtime::BoxedTask| {
            counts.spawned.fetch_add(1, Ordering::SeqCst);
            let elsewhere = counts.polled_elsewhere.clone();
            let mut task = task;
            spawn(Box::pin(std::future::poll_fn(move |cx| {
                if !on_it() {
                    elsewhere.fetch_add(1, Ordering::SeqCst);
                }
                task.as_mut().poll(cx)
            })));
        })
    }
}

/// A two-worker tokio runtime with its timers and I/O on.
pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// True on a tokio runtime's thread.
pub fn on_tokio() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

impl Counts {
    /// A counting executor that spawns onto `runtime`.
    pub fn tokio_executor(&self, runtime: &tokio::runtime::Runtime) -> Executor {
        let handle = runtime.handle().clone();
        self.executor(on_tokio, move |task| {
            handle.spawn(task);
        })
    }
}

/// Reads exactly `n` bytes from `connection`.
async fn read_exactly(connection: &TcpConnection, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < n {
        let chunk = connection.take_next().await.expect("more bytes");
        got.extend_from_slice(&chunk);
    }
    got
}

/// Runs each kind of work weir spawns tasks for, checking after each that `counts` grew.
/// `server` and `client` are the options the TCP part uses.
pub async fn workload(
    counts: &Counts,
    server: ServerOptions,
    client: ClientOptions,
) -> Result<(), Error> {
    // A connect.
    let before = counts.spawned();
    let (a, b) = (Channel::new(1), Channel::new(1));
    stream::connect(a.clone(), b.clone(), ConnectOptions::new());
    a.put(1u32).await.unwrap();
    assert_eq!(b.take_next().await, Some(1));
    assert!(counts.spawned() > before, "the connect ran on the executor");

    // A buffer.
    let before = counts.spawned();
    let upstream = Channel::new(0);
    let mut buffered = SourceExt::read_ahead(upstream.clone(), 4);
    upstream.put(2u32).await.unwrap();
    assert_eq!(futures::StreamExt::next(&mut buffered).await, Some(2));
    assert!(counts.spawned() > before, "the buffer ran on the executor");

    // A deferred's `then`, and a timeout.
    let before = counts.spawned();
    let then = Deferred::<u32>::succeeded(3).then(|x| async move { Ok::<_, Error>(x + 1) });
    assert_eq!(then.await?, 4);
    assert!(
        counts.spawned() > before,
        "the then stage ran on the executor"
    );
    let before = counts.spawned();
    let timed_out = Deferred::<u32>::new()
        .timeout(Duration::from_millis(5))
        .await;
    assert!(timed_out.unwrap_err().is_timeout());
    assert!(counts.spawned() > before, "the timeout ran on the executor");

    // A TCP echo.
    let before = counts.spawned();
    let echo = |c: TcpConnection| {
        stream::connect(c.clone(), c, ConnectOptions::new());
    };
    let server = tcp::start_server(echo, server.address(([127, 0, 0, 1], 0))).await?;
    let connection = tcp::client(client.remote_address(server.local_addr())).await?;
    connection.put("hello").await.unwrap();
    assert_eq!(read_exactly(&connection, 5).await, b"hello");
    Source::close(&connection);
    server.close().await?;
    // The accept loop, the server's side (read, write, echo connect), the client's connect and
    // its read and write tasks.
    assert!(
        counts.spawned() >= before + 6,
        "the TCP tasks ran on the executor"
    );
    Ok(())
}
