//! The client pool's statistics: the snapshot, the acquire latency percentiles, and the
//! periodic callback.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use support::{BOUND, run};
use weir::http::{self, Body, Client, ClientOptions, HostStats, Request, ServerOptions};

#[test]
fn the_snapshot_counts_and_the_callback_reports_every_interval() {
    let (tx, rx) = mpsc::channel::<Vec<HostStats>>();
    let tx = std::sync::Mutex::new(tx);
    let options = ClientOptions::new().stats_callback(Duration::from_millis(50), move |hosts| {
        let _ = tx.lock().unwrap().send(hosts.to_vec());
    });
    let client = Client::with_options(options);
    let server = run(async {
        let server = http::start_server(
            |_: Request<Body>| "hi",
            ServerOptions::new().address(([127, 0, 0, 1], 0)),
        )
        .await
        .unwrap();
        for _ in 0..10 {
            let response = client
                .get(format!("http://{}/", server.local_addr()))
                .await
                .unwrap();
            response.into_body().to_bytes(64).await.unwrap();
        }
        server
    });
    let snapshot = client.stats();
    assert_eq!(snapshot.len(), 1);
    let host = &snapshot[0];
    assert_eq!((host.requests, host.connects, host.reused), (10, 1, 9));
    assert_eq!(
        (host.open, host.in_use, host.idle, host.queued),
        (1, 0, 1, 0)
    );
    let [p50, p90, p99] = host.acquire_latency;
    assert!(p50 <= p90 && p90 <= p99 && p99 > Duration::ZERO);
    // The callback runs on its own and sees the same host.
    let reported = loop {
        let hosts = rx.recv_timeout(BOUND).expect("the callback ran");
        if hosts.first().is_some_and(|h| h.requests == 10) {
            break hosts;
        }
    };
    assert_eq!(reported[0].host, host.host);
    run(server.close()).unwrap();
}
