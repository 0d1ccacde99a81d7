//! An axum `Router` served through `weir::http::service`, under smol and under async-std (the
//! server's tasks on that runtime's executor), checked with hyper's client.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, Query};
use axum::routing::{get, post};
use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use support::BOUND;
use tokio_util::compat::FuturesAsyncReadCompatExt as _;
use weir::http::{self, Request, ServerOptions, StatusCode};
use weir::runtime::Executor;

fn router() -> Router {
    Router::new()
        .route("/", get(|| async { "hello from axum" }))
        .route(
            "/items/{id}",
            get(|Path(id): Path<u32>| async move { format!("item {id}") }),
        )
        .route(
            "/query",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                format!("q={}", q.get("q").cloned().unwrap_or_default())
            }),
        )
        .route(
            "/json",
            post(
                |axum::Json(value): axum::Json<serde_json::Value>| async move {
                    axum::Json(serde_json::json!({ "got": value }))
                },
            ),
        )
        .route("/echo", post(|body: Bytes| async move { body }))
}

/// One request on `send`: the status and the body as text.
async fn request(
    send: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    method: &str,
    path: &str,
    body: &'static str,
    content_type: Option<&str>,
) -> (StatusCode, String) {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    let request = builder
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    send.ready().await.unwrap();
    let response = send.send_request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Sends each check over one HTTP/1.1 connection on `io`, with `spawn` running the client's
/// connection task.
async fn check<IO>(
    io: IO,
    spawn: impl Fn(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>),
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut send, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io.compat()))
        .await
        .unwrap();
    spawn(Box::pin(async move {
        let _ = connection.await;
    }));
    assert_eq!(
        request(&mut send, "GET", "/", "", None).await,
        (StatusCode::OK, "hello from axum".into())
    );
    assert_eq!(
        request(&mut send, "GET", "/items/42", "", None).await.1,
        "item 42"
    );
    assert_eq!(
        request(&mut send, "GET", "/query?q=weir", "", None).await.1,
        "q=weir"
    );
    let (status, body) = request(
        &mut send,
        "POST",
        "/json",
        r#"{"a":1}"#,
        Some("application/json"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"got": {"a": 1}})
    );
    assert_eq!(
        request(&mut send, "POST", "/echo", "echoed", None).await.1,
        "echoed"
    );
    assert_eq!(
        request(&mut send, "GET", "/nowhere", "", None).await.0,
        StatusCode::NOT_FOUND
    );
    // axum refuses a bad path parameter itself.
    assert_eq!(
        request(&mut send, "GET", "/items/x", "", None).await.0,
        StatusCode::BAD_REQUEST
    );
}

fn options(executor: Executor) -> ServerOptions {
    ServerOptions::new()
        .address(([127, 0, 0, 1], 0))
        .executor(executor)
}

#[test]
fn an_axum_router_under_smol() {
    smol::block_on(async {
        weir::runtime::timeout(BOUND, async {
            let spawned = support::http::Counter::default();
            let counted = spawned.clone();
            let executor = Executor::new(move |task: weir::runtime::BoxedTask| {
                counted.hit();
                smol::spawn(task).detach();
            });
            let server = http::start_server(http::service(router()), options(executor))
                .await
                .unwrap();
            let addr: SocketAddr = server.local_addr();
            let tcp = smol::net::TcpStream::connect(addr).await.unwrap();
            check(tcp, |task| smol::spawn(task).detach()).await;
            assert!(server.request_count() >= 7);
            assert!(spawned.get() > 0, "nothing ran on smol's executor");
            server.close().await.unwrap();
        })
        .await
        .expect("timed out");
    });
}

#[async_std::test]
async fn an_axum_router_under_async_std() {
    weir::runtime::timeout(BOUND, async {
        let spawned = support::http::Counter::default();
        let counted = spawned.clone();
        let executor = Executor::new(move |task: weir::runtime::BoxedTask| {
            counted.hit();
            async_std::task::spawn(task);
        });
        let server = http::start_server(http::service(router()), options(executor))
            .await
            .unwrap();
        let tcp = async_std::net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        check(tcp, |task| {
            async_std::task::spawn(task);
        })
        .await;
        assert!(spawned.get() > 0, "nothing ran on async-std's executor");
        server.close().await.unwrap();
    })
    .await
    .expect("timed out");
}

#[test]
fn an_axum_router_over_http2() {
    let fixture = support::http::Fixture::start(
        support::http::Proto::H2c,
        http::service(router()),
        ServerOptions::new(),
    );
    support::http::run_tokio(async {
        let mut client = fixture.client().await;
        assert_eq!(client.get_text("/items/7").await.1, "item 7");
    });
}
