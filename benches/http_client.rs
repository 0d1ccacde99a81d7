//! weir's HTTP client against reqwest on tokio, on the same work against the same local server
//! (hyper 1 on tokio, in this process), alternating, 5 rounds, medians:
//!
//! - `client_h1_sequential`: 10 000 GETs one after another on a kept-alive connection;
//! - `client_h1_c64`: 64 requests in flight, 100 000 in all, HTTP/1.1;
//! - `client_h2_c64`: the same over one HTTP/2 connection (h2c, prior knowledge);
//! - `client_download_64mib`: one 64 MiB response body, read to its end.
//!
//! Prints `ratio <scenario> <x>`, x = weir's median time / reqwest's.
//!
//! ```text
//! cargo bench --bench http_client [-- FILTER]
//! ```

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use weir::http::{Client, ClientOptions, HttpVersion};

const SEQUENTIAL: usize = 10_000;
const CONCURRENT_TOTAL: usize = 100_000;
const IN_FLIGHT: usize = 64;
const DOWNLOAD: usize = 64 << 20;
const ROUNDS: usize = 5;

fn main() {
    let filters = support::filters();
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let address = server_runtime.block_on(serve());
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "# server: hyper 1 on tokio (1 worker); reqwest on tokio (1 worker); weir on its pool"
    );

    let hello = format!("http://{address}/");
    let big = format!("http://{address}/big");

    // HTTP/1.1: one client each, kept alive.
    let weir_h1 = Client::with_options(ClientOptions::new().connections_per_host(IN_FLIGHT));
    let reqwest_h1 = reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(IN_FLIGHT)
        .build()
        .unwrap();
    support::compare(
        &filters,
        "client_h1_sequential",
        ROUNDS,
        SEQUENTIAL as u64,
        "reqwest",
        || weir::runtime::block_on(weir_sequential(&weir_h1, &hello)),
        || client_runtime.block_on(reqwest_sequential(&reqwest_h1, &hello)),
    );
    support::compare(
        &filters,
        "client_h1_c64",
        ROUNDS,
        CONCURRENT_TOTAL as u64,
        "reqwest",
        || weir::runtime::block_on(weir_concurrent(&weir_h1, &hello)),
        || client_runtime.block_on(reqwest_concurrent(&reqwest_h1, &hello)),
    );

    // HTTP/2 with prior knowledge: one connection, multiplexed.
    let weir_h2 = Client::with_options(
        ClientOptions::new()
            .http_versions([HttpVersion::Http2])
            .force_h2c(true),
    );
    let reqwest_h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    support::compare(
        &filters,
        "client_h2_c64",
        ROUNDS,
        CONCURRENT_TOTAL as u64,
        "reqwest",
        || weir::runtime::block_on(weir_concurrent(&weir_h2, &hello)),
        || client_runtime.block_on(reqwest_concurrent(&reqwest_h2, &hello)),
    );

    support::compare(
        &filters,
        "client_download_64mib",
        ROUNDS,
        DOWNLOAD as u64,
        "reqwest",
        || weir::runtime::block_on(weir_download(&weir_h1, &big)),
        || client_runtime.block_on(reqwest_download(&reqwest_h1, &big)),
    );
}

async fn weir_sequential(client: &Client, url: &str) -> u64 {
    let mut ok = 0;
    for _ in 0..SEQUENTIAL {
        let response = client.get(url).await.unwrap();
        let body = response.into_body().to_bytes(1024).await.unwrap();
        ok += u64::from(body.len() == 6);
    }
    ok
}

async fn reqwest_sequential(client: &reqwest::Client, url: &str) -> u64 {
    let mut ok = 0;
    for _ in 0..SEQUENTIAL {
        let response = client.get(url).send().await.unwrap();
        let body = response.bytes().await.unwrap();
        ok += u64::from(body.len() == 6);
    }
    ok
}

async fn weir_concurrent(client: &Client, url: &str) -> u64 {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (client, url, next) = (client.clone(), url.to_string(), next.clone());
        workers.push(weir::runtime::spawn(async move {
            let mut ok = 0u64;
            while next.fetch_add(1, Ordering::Relaxed) < CONCURRENT_TOTAL {
                let response = client.get(&url).await.unwrap();
                let body = response.into_body().to_bytes(1024).await.unwrap();
                ok += u64::from(body.len() == 6);
            }
            ok
        }));
    }
    let mut ok = 0;
    for worker in workers {
        ok += worker.await;
    }
    ok
}

async fn reqwest_concurrent(client: &reqwest::Client, url: &str) -> u64 {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (client, url, next) = (client.clone(), url.to_string(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut ok = 0u64;
            while next.fetch_add(1, Ordering::Relaxed) < CONCURRENT_TOTAL {
                let response = client.get(&url).send().await.unwrap();
                let body = response.bytes().await.unwrap();
                ok += u64::from(body.len() == 6);
            }
            ok
        }));
    }
    let mut ok = 0;
    for worker in workers {
        ok += worker.await.unwrap();
    }
    ok
}

async fn weir_download(client: &Client, url: &str) -> u64 {
    use futures::StreamExt;
    let response = client.get(url).await.unwrap();
    let mut body = response.into_body();
    let mut total = 0u64;
    while let Some(chunk) = body.next().await {
        total += chunk.len() as u64;
    }
    total
}

async fn reqwest_download(client: &reqwest::Client, url: &str) -> u64 {
    let mut response = client.get(url).send().await.unwrap();
    let mut total = 0u64;
    while let Some(chunk) = response.chunk().await.unwrap() {
        total += chunk.len() as u64;
    }
    total
}

/// hyper 1 on tokio: `/` answers `hello!`, `/big` streams 64 MiB in 64 KiB chunks.
async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |request: hyper::Request<hyper::body::Incoming>| async move {
                        let body = if request.uri().path() == "/big" {
                            let chunk = Bytes::from(vec![7u8; 64 * 1024]);
                            let chunks = futures::stream::iter(
                                (0..DOWNLOAD / chunk.len())
                                    .map(move |_| Ok::<_, Infallible>(Frame::data(chunk.clone()))),
                            );
                            StreamBody::new(chunks).boxed()
                        } else {
                            Full::new(Bytes::from_static(b"hello!")).boxed()
                        };
                        Ok::<_, Infallible>(hyper::Response::new(body))
                    },
                );
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            });
        }
    });
    address
}
