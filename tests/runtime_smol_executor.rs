//! A smol program keeps every one of weir's tasks on its own executor: with a `smol::Executor`
//! installed by `runtime::set_executor`, a connect, a buffer, a deferred's `then` and timeout
//! and a TCP echo all run on it, and weir's own pool never gets a task. In a binary of its own,
//! since the executor is set once per process.

mod support;
#[path = "support/executor_workload.rs"]
mod workload;

use std::cell::Cell;
use std::sync::Arc;

use weir::runtime;
use weir::tcp::{ClientOptions, ServerOptions};

thread_local! {
    /// Set on the threads that run the smol executor.
    static ON_SMOL: Cell<bool> = const { Cell::new(false) };
}

fn on_smol() -> bool {
    ON_SMOL.with(Cell::get)
}

#[test]
fn every_task_runs_on_smol() {
    let smol = Arc::new(smol::Executor::<'static>::new());
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (smol, stopped) = (smol.clone(), stopped.clone());
            std::thread::spawn(move || {
                ON_SMOL.with(|on| on.set(true));
                smol::block_on(smol.run(stopped.recv()))
            })
        })
        .collect();
    let counts = workload::Counts::default();
    let spawner = smol.clone();
    let executor = counts.executor(on_smol, move |task| spawner.spawn(task).detach());
    runtime::set_executor(executor).expect("nothing spawned yet");

    let task_counts = counts.clone();
    let outcome = smol::block_on(smol.spawn(async move {
        let work = async {
            Some(workload::workload(&task_counts, ServerOptions::new(), ClientOptions::new()).await)
        };
        smol::future::or(work, async {
            smol::Timer::after(support::BOUND).await;
            None
        })
        .await
    }));
    outcome.expect("bounded").unwrap();
    assert!(counts.spawned() >= 10, "spawned {}", counts.spawned());
    assert_eq!(counts.polled_elsewhere(), 0, "every task polled on smol");
    assert_eq!(runtime::pool_tasks_spawned(), 0, "weir's pool got no task");
    drop(stop);
    for thread in threads {
        let _ = thread.join();
    }
}
