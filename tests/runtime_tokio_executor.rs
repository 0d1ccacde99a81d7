//! A tokio program keeps every one of weir's tasks on its own runtime: with tokio's spawner
//! installed by `runtime::set_executor`, a connect, a buffer, a deferred's `then` and timeout
//! and a TCP echo all run on tokio, and weir's own pool never gets a task. In a binary of its
//! own, since the executor is set once per process.

mod support;
#[path = "support/executor_workload.rs"]
mod workload;

use weir::runtime::{self, Executor};
use weir::tcp::{ClientOptions, ServerOptions};

#[test]
fn every_task_runs_on_tokio() {
    let rt = workload::tokio_runtime();
    let counts = workload::Counts::default();
    let executor = counts.tokio_executor(&rt);
    runtime::set_executor(executor.clone()).expect("nothing spawned yet");
    assert_eq!(Executor::current(), executor);
    assert!(
        runtime::set_executor(Executor::pool())
            .unwrap_err()
            .is_already_set()
    );

    let outcome = rt.block_on(async {
        tokio::time::timeout(
            support::BOUND,
            tokio::spawn(async move {
                workload::workload(&counts, ServerOptions::new(), ClientOptions::new())
                    .await
                    .map(|()| counts)
            }),
        )
        .await
    });
    let counts = outcome.expect("bounded").expect("joined").unwrap();
    assert!(counts.spawned() >= 10, "spawned {}", counts.spawned());
    assert_eq!(counts.polled_elsewhere(), 0, "every task polled on tokio");
    assert_eq!(runtime::pool_tasks_spawned(), 0, "weir's pool got no task");
}
