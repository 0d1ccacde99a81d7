//! Handler errors, `HttpError`, panics, custom error handlers, and the continue handler.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use support::http::{ALL, Counter, Fixture, Raw, localhost, run_tokio, start};
use weir::http::{Body, Continue, HttpError, Request, Response, Server, ServerOptions, StatusCode};
use weir::{Deferred, Error};

/// Routes that fail in each way a handler can.
async fn failing(request: Request<Body>) -> Result<Response<Body>, Error> {
    match request.uri().path() {
        "/error" => Err(Error::msg("boom")),
        "/http-error" => Err(HttpError::new(StatusCode::NOT_FOUND, "no such page").into()),
        "/panic" => panic!("handler panicked"),
        "/panic-later" => {
            weir::runtime::sleep(std::time::Duration::from_millis(1)).await;
            panic!("async handler panicked")
        }
        _ => Ok(Response::new(Body::from("ok"))),
    }
}

fn sync_panicking(request: Request<Body>) -> Response<Body> {
    if request.uri().path() == "/panic" {
        panic!("sync handler panicked");
    }
    Response::new(Body::from("ok"))
}

fn get(raw: &mut Raw, path: &str) -> (u16, String) {
    raw.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
    let response = raw.response().expect("a response");
    (response.status, String::from_utf8(response.body).unwrap())
}

#[test]
fn handler_errors_are_500_and_http_errors_their_status() {
    let server = start(failing, localhost());
    let mut raw = Raw::connect(server.local_addr());
    assert_eq!(
        get(&mut raw, "/error"),
        (500, "500 Internal Server Error".into())
    );
    assert_eq!(get(&mut raw, "/http-error"), (404, "no such page".into()));
    // The same connection keeps working.
    assert_eq!(get(&mut raw, "/"), (200, "ok".into()));
}

#[test]
fn a_panicking_handler_is_500_and_the_connection_and_server_keep_working() {
    let async_server = start(failing, localhost());
    let sync_server = start(sync_panicking, localhost());
    for (server, paths) in [
        (&async_server, &["/panic", "/panic-later"][..]),
        (&sync_server, &["/panic"][..]),
    ] {
        let mut raw = Raw::connect(server.local_addr());
        for path in paths {
            assert_eq!(get(&mut raw, path).0, 500, "{path}");
            assert_eq!(get(&mut raw, "/"), (200, "ok".into()), "after {path}");
        }
        let mut other = Raw::connect(server.local_addr());
        assert_eq!(get(&mut other, "/"), (200, "ok".into()));
    }
}

#[test]
fn errors_and_panics_over_each_protocol() {
    for proto in ALL {
        let fixture = Fixture::start(proto, failing, ServerOptions::new());
        run_tokio(async {
            let mut client = fixture.client().await;
            assert_eq!(client.get_text("/error").await.0, 500, "{proto:?}");
            assert_eq!(
                client.get_text("/http-error").await,
                (StatusCode::NOT_FOUND, "no such page".into()),
                "{proto:?}"
            );
            assert_eq!(client.get_text("/panic").await.0, 500, "{proto:?}");
            assert_eq!(client.get_text("/panic-later").await.0, 500, "{proto:?}");
            assert_eq!(client.get_text("/").await.1, "ok", "{proto:?}");
        });
        // A new connection is served too.
        run_tokio(async {
            let mut client = fixture.client().await;
            assert_eq!(client.get_text("/").await.1, "ok", "{proto:?}");
        });
    }
}

#[test]
fn a_custom_error_handler_answers_errors_and_panics() {
    let options = localhost().error_handler(|error: Error| {
        let status = HttpError::status_of(&error).unwrap_or(StatusCode::IM_A_TEAPOT);
        Response::builder()
            .status(status)
            .body(Body::from(format!("custom: panic={}", error.is_panic())))
            .unwrap()
    });
    let server = start(failing, options);
    let mut raw = Raw::connect(server.local_addr());
    assert_eq!(get(&mut raw, "/error"), (418, "custom: panic=false".into()));
    assert_eq!(get(&mut raw, "/panic"), (418, "custom: panic=true".into()));
    assert_eq!(
        get(&mut raw, "/http-error"),
        (404, "custom: panic=false".into())
    );
}

#[test]
fn a_panicking_error_handler_is_a_plain_500() {
    let options = localhost().error_handler(|_| panic!("the error handler panicked"));
    let server = start(failing, options);
    let mut raw = Raw::connect(server.local_addr());
    assert_eq!(get(&mut raw, "/error").0, 500);
    assert_eq!(get(&mut raw, "/"), (200, "ok".into()));
}

/// A server echoing the body, counting handler calls, with `decide` as its continue handler.
fn continue_server<R>(
    decide: impl Fn(&Request<Body>) -> R + Send + Sync + 'static,
) -> (Server, Counter)
where
    R: weir::http::IntoContinue,
{
    let calls = Counter::default();
    let handler = {
        let calls = calls.clone();
        move |request: Request<Body>| {
            calls.hit();
            async move {
                let body = request.into_body().to_bytes(1024).await?;
                Ok::<_, Error>(Response::new(Body::from(body)))
            }
        }
    };
    (start(handler, localhost().continue_handler(decide)), calls)
}

const EXPECTING: &str =
    "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";

#[test]
fn continue_handler_true_sends_100_then_the_handler_runs() {
    let (server, calls) = continue_server(|_| true);
    let mut raw = Raw::connect(server.local_addr());
    raw.send(EXPECTING);
    assert_eq!(raw.response().unwrap().status, 100);
    raw.send("hello");
    let response = raw.response().unwrap();
    assert_eq!((response.status, response.body), (200, b"hello".to_vec()));
    assert_eq!(calls.get(), 1);
}

#[test]
fn continue_handler_false_is_417_and_the_handler_is_not_called() {
    let (server, calls) = continue_server(|_| false);
    let mut raw = Raw::connect(server.local_addr());
    raw.send(EXPECTING);
    let response = raw.response().unwrap();
    assert_eq!(response.status, 417);
    assert_eq!(calls.get(), 0);
    // The body the client sends anyway is never read as a request: the server reads it as
    // that request's body and serves the next request on its own, or closes the connection.
    raw.send("hello");
    raw.send("POST /next HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nnext");
    match raw.response() {
        Some(response) => {
            assert_eq!((response.status, response.body), (200, b"next".to_vec()));
            assert_eq!(calls.get(), 1);
        }
        None => assert_eq!(calls.get(), 0),
    }
}

#[test]
fn continue_handler_may_answer_with_a_response() {
    let (server, calls) = continue_server(|request: &Request<Body>| {
        let status = if request.headers().contains_key("authorization") {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        if status == StatusCode::OK {
            Continue::Accept
        } else {
            Continue::Respond(
                Response::builder()
                    .status(status)
                    .body(Body::from("log in first"))
                    .unwrap(),
            )
        }
    });
    let (response, _) = support::http::exchange(server.local_addr(), EXPECTING);
    let response = response.unwrap();
    assert_eq!(
        (response.status, response.body),
        (401, b"log in first".to_vec())
    );
    assert_eq!(calls.get(), 0);
    let mut raw = Raw::connect(server.local_addr());
    raw.send(EXPECTING.replace("Host: x\r\n", "Host: x\r\nAuthorization: yes\r\n"));
    assert_eq!(raw.response().unwrap().status, 100);
    raw.send("hello");
    assert_eq!(raw.response().unwrap().body, b"hello");
    assert_eq!(calls.get(), 1);
}

#[test]
fn continue_handler_may_decide_later_through_a_deferred() {
    let decisions: std::sync::Arc<std::sync::Mutex<Vec<Deferred<bool, Error>>>> =
        Default::default();
    let (server, calls) = {
        let decisions = decisions.clone();
        continue_server(move |_: &Request<Body>| {
            let decision = Deferred::new();
            decisions.lock().unwrap().push(decision.clone());
            decision
        })
    };
    let take_decision = || {
        let deadline = std::time::Instant::now() + support::BOUND;
        loop {
            if let Some(decision) = decisions.lock().unwrap().pop() {
                return decision;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no decision asked for"
            );
            std::thread::yield_now();
        }
    };
    // Accepted later.
    let mut raw = Raw::connect(server.local_addr());
    raw.send(EXPECTING);
    let decision = take_decision();
    decision.success(true);
    assert_eq!(raw.response().unwrap().status, 100);
    raw.send("hello");
    assert_eq!(raw.response().unwrap().body, b"hello");
    // Refused later.
    let mut raw = Raw::connect(server.local_addr());
    raw.send(EXPECTING);
    let decision = take_decision();
    decision.success(false);
    assert_eq!(raw.response().unwrap().status, 417);
    // Failed: the error handler answers.
    let mut raw = Raw::connect(server.local_addr());
    raw.send(EXPECTING);
    let decision = take_decision();
    decision.error(Error::msg("decider failed"));
    assert_eq!(raw.response().unwrap().status, 500);
    assert_eq!(calls.get(), 1);
}

#[test]
fn without_a_continue_handler_100_comes_when_the_body_is_read() {
    let calls = Counter::default();
    let handler = {
        let calls = calls.clone();
        move |request: Request<Body>| {
            calls.hit();
            async move {
                let body = request.into_body().to_bytes(1024).await?;
                Ok::<_, Error>(Response::new(Body::from(body)))
            }
        }
    };
    let server = start(handler, localhost());
    let mut raw = Raw::connect(server.local_addr());
    raw.send(EXPECTING);
    assert_eq!(raw.response().unwrap().status, 100);
    raw.send("hello");
    assert_eq!(raw.response().unwrap().body, b"hello");
}

#[test]
fn a_body_shorter_than_its_content_length_is_never_taken_for_a_whole_one() {
    let server = start(
        |_: Request<Body>| {
            Response::builder()
                .header("content-length", "100")
                .body(Body::from_source(weir::stream::iter(vec!["only 10 b."])))
                .unwrap()
        },
        localhost(),
    );
    let mut raw = Raw::connect(server.local_addr());
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // The connection ends before the 100 bytes: no complete response.
    assert!(raw.wait_closed());
    assert!(support::http::parse_response(raw.leftover()).is_none());
    // The server keeps serving (the same way).
    let mut raw = Raw::connect(server.local_addr());
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(raw.wait_closed());
    assert!(support::http::parse_response(raw.leftover()).is_none());
}

#[test]
fn a_failing_response_body_cuts_the_response_off() {
    for proto in ALL {
        let fixture = Fixture::start(
            proto,
            |_: Request<Body>| {
                let chunks = futures::stream::iter(vec![
                    Ok(bytes::Bytes::from_static(b"first part")),
                    Err(Error::msg("the source failed")),
                ]);
                Response::new(Body::from_stream(chunks))
            },
            ServerOptions::new(),
        );
        run_tokio(async {
            let mut client = fixture.client().await;
            // The client sees an error (before or after the head), never a clean end after
            // "first part".
            if let Ok(reply) = client.send(support::http::get("/")).await {
                assert_eq!(reply.status, 200);
                let outcome = support::http::bounded(reply.body.collect()).await;
                assert!(outcome.is_err(), "{proto:?}: {outcome:?}");
            }
        });
    }
}

#[test]
fn half_close_lets_the_response_out_after_the_client_shuts_its_side() {
    let server = start(
        |_: Request<Body>| Response::new(Body::from("after half-close")),
        localhost().half_close(true),
    );
    let mut raw = Raw::connect(server.local_addr());
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    raw.stream.shutdown(std::net::Shutdown::Write).unwrap();
    let response = raw.response().expect("a response after the half-close");
    assert_eq!(response.body, b"after half-close");
}

#[test]
fn a_failed_deferred_is_500_and_a_late_one_is_waited_for() {
    for proto in ALL {
        let fixture = Fixture::start(
            proto,
            |request: Request<Body>| -> Deferred<Response<Body>, Error> {
                match request.uri().path() {
                    "/failed" => Deferred::failed(Error::msg("no luck")),
                    "/teapot" => {
                        Deferred::failed(HttpError::new(StatusCode::IM_A_TEAPOT, "tea").into())
                    }
                    _ => Deferred::spawn(async {
                        weir::runtime::sleep(std::time::Duration::from_millis(20)).await;
                        Ok(Response::new(Body::from("late")))
                    }),
                }
            },
            ServerOptions::new(),
        );
        run_tokio(async {
            let mut client = fixture.client().await;
            assert_eq!(client.get_text("/failed").await.0, 500, "{proto:?}");
            assert_eq!(
                client.get_text("/teapot").await,
                (StatusCode::IM_A_TEAPOT, "tea".into()),
                "{proto:?}"
            );
            assert_eq!(client.get_text("/late").await.1, "late", "{proto:?}");
        });
    }
}

#[test]
fn connection_specific_headers_from_a_handler_do_not_break_http2() {
    for proto in ALL {
        let fixture = Fixture::start(
            proto,
            |_: Request<Body>| {
                Response::builder()
                    .header("connection", "keep-alive")
                    .header("keep-alive", "timeout=5")
                    .header("transfer-encoding", "chunked")
                    .header("upgrade", "foo")
                    .body(Body::from("fine"))
                    .unwrap()
            },
            ServerOptions::new(),
        );
        run_tokio(async {
            let mut client = fixture.client().await;
            let (status, body) = client.get_text("/").await;
            assert_eq!(
                (status, body.as_str()),
                (StatusCode::OK, "fine"),
                "{proto:?}"
            );
            assert_eq!(client.get_text("/").await.1, "fine", "{proto:?}");
        });
    }
}

#[test]
fn a_body_shorter_than_its_content_length_fails_on_every_protocol() {
    for proto in ALL {
        let fixture = Fixture::start(
            proto,
            |_: Request<Body>| {
                Response::builder()
                    .header("content-length", "100")
                    .body(Body::from_source(weir::stream::iter(vec!["only 10 b."])))
                    .unwrap()
            },
            ServerOptions::new(),
        );
        run_tokio(async {
            let mut client = fixture.client().await;
            if let Ok(reply) = client.send(support::http::get("/")).await {
                let outcome = support::http::bounded(reply.body.collect()).await;
                assert!(
                    outcome.is_err(),
                    "{proto:?}: a short body taken as whole: {outcome:?}"
                );
            }
        });
    }
}

#[test]
fn a_body_longer_than_its_content_length_never_desyncs_the_connection() {
    for proto in ALL {
        let fixture = Fixture::start(
            proto,
            |request: Request<Body>| {
                if request.uri().path() == "/ok" {
                    return Response::new(Body::from("ok"));
                }
                Response::builder()
                    .header("content-length", "3")
                    .body(Body::from_source(weir::stream::iter(vec![
                        "abc",
                        "HTTP/1.1 200 OK\r\n\r\n",
                    ])))
                    .unwrap()
            },
            ServerOptions::new(),
        );
        run_tokio(async {
            let mut client = fixture.client().await;
            if let Ok(reply) = client.send(support::http::get("/")).await {
                if let Ok((body, _)) = support::http::bounded(reply.body.collect()).await {
                    assert_eq!(body, "abc", "{proto:?}");
                }
            }
            // The same connection answers the next request correctly, or is gone.
            if let Ok(reply) = client.send(support::http::get("/ok")).await {
                assert_eq!(reply.text().await, "ok", "{proto:?}");
            }
        });
    }
}
