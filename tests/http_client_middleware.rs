//! The client's clj-http middleware: redirects (method rules, credentials across origins, the
//! trace, the limit), query parameters, auth, and decompression.

mod support;

use futures::AsyncReadExt;
use support::run;
use weir::http::client::RedirectTrace;
use weir::http::{
    self, Body, Client, ClientOptions, ClientRequest, HeaderValue, Method, Request, Response,
    Server, ServerOptions, StatusCode, header,
};

fn redirect(status: StatusCode, to: &str) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(to).unwrap());
    response
}

/// Answers with what it saw: "METHOD path body auth=<authorization>".
async fn routes(request: Request<Body>) -> Result<Response<Body>, weir::Error> {
    let path = request.uri().path().to_string();
    let code = |c: u16| StatusCode::from_u16(c).unwrap();
    Ok(match path.as_str() {
        "/a" => redirect(code(302), "/b"),
        "/b" => redirect(code(301), "c"),
        "/see-other" => redirect(code(303), "/echo"),
        "/temporary" => redirect(code(307), "/echo"),
        "/permanent" => redirect(code(308), "/echo"),
        "/loop" => redirect(code(302), "/loop"),
        _ => {
            let method = request.method().clone();
            let auth = request
                .headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let query = request.uri().query().unwrap_or("").to_string();
            let body = request.into_body().to_string(1 << 20).await?;
            Response::new(Body::from(format!(
                "{method} {path}?{query} {body} auth={auth}"
            )))
        }
    })
}

async fn server() -> Server {
    http::start_server(routes, ServerOptions::new().address(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

#[test]
fn redirects_are_followed_and_traced() {
    run(async {
        let server = server().await;
        let base = format!("http://{}", server.local_addr());
        let response = http::get(format!("{base}/a")).await.unwrap();
        assert_eq!(response.status(), 200);
        let trace = response
            .extensions()
            .get::<RedirectTrace>()
            .unwrap()
            .clone();
        let urls: Vec<String> = trace.urls().iter().map(|u| u.path().to_string()).collect();
        assert_eq!(urls, vec!["/a", "/b"]);
        let body = response.into_body().to_string(1024).await.unwrap();
        assert_eq!(body, "GET /c?  auth=");
        server.close().await.unwrap();
    });
}

#[test]
fn see_other_becomes_a_get_without_body_and_307_308_keep_method_and_body() {
    run(async {
        let server = server().await;
        let base = format!("http://{}", server.local_addr());
        let client = Client::new();
        let post = |path: &str| {
            client
                .request(ClientRequest::new(Method::POST, format!("{base}{path}")).body("payload"))
        };
        let see_other = post("/see-other").await.unwrap();
        assert_eq!(
            see_other.into_body().to_string(1024).await.unwrap(),
            "GET /echo?  auth="
        );
        for path in ["/temporary", "/permanent"] {
            let kept = post(path).await.unwrap();
            assert_eq!(
                kept.into_body().to_string(1024).await.unwrap(),
                "POST /echo? payload auth="
            );
        }
        // A streamed body cannot be sent again: the 307 comes back as it is.
        let streamed = client
            .request(
                ClientRequest::new(Method::POST, format!("{base}/temporary"))
                    .body(Body::from_source(weir::stream::iter(vec!["a", "b"]))),
            )
            .await
            .unwrap();
        assert_eq!(streamed.status(), 307);
        server.close().await.unwrap();
    });
}

#[test]
fn credentials_are_dropped_on_a_redirect_to_another_origin_and_kept_on_the_same() {
    run(async {
        let first = server().await;
        let second = server().await;
        let elsewhere = format!("http://{}/echo", second.local_addr());
        let hop = move |_: Request<Body>| redirect(StatusCode::FOUND, &elsewhere);
        let hopper = http::start_server(hop, ServerOptions::new().address(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let client = Client::new();
        let cross = client
            .request(
                ClientRequest::new(Method::GET, format!("http://{}/", hopper.local_addr()))
                    .basic_auth("ada", "secret"),
            )
            .await
            .unwrap();
        assert_eq!(
            cross.into_body().to_string(1024).await.unwrap(),
            "GET /echo?  auth="
        );
        let same = client
            .request(
                ClientRequest::new(Method::GET, format!("http://{}/a", first.local_addr()))
                    .bearer_auth("t0k3n"),
            )
            .await
            .unwrap();
        assert_eq!(
            same.into_body().to_string(1024).await.unwrap(),
            "GET /c?  auth=Bearer t0k3n"
        );
        for server in [first, second, hopper] {
            server.close().await.unwrap();
        }
    });
}

#[test]
fn the_redirect_limit_returns_the_last_response_and_following_can_be_turned_off() {
    run(async {
        let server = server().await;
        let base = format!("http://{}", server.local_addr());
        let limited = Client::with_options(ClientOptions::new().max_redirects(3));
        let response = limited.get(format!("{base}/loop")).await.unwrap();
        assert_eq!(response.status(), 302);
        assert_eq!(
            response
                .extensions()
                .get::<RedirectTrace>()
                .unwrap()
                .urls()
                .len(),
            3
        );
        let off = Client::new()
            .request(ClientRequest::new(Method::GET, format!("{base}/a")).follow_redirects(false))
            .await
            .unwrap();
        assert_eq!(off.status(), 302);
        assert!(off.extensions().get::<RedirectTrace>().is_none());
        server.close().await.unwrap();
    });
}

#[test]
fn query_parameters_are_encoded_and_appended() {
    run(async {
        let server = server().await;
        let url = format!("http://{}/echo?x=1", server.local_addr());
        let response = http::request(ClientRequest::new(Method::GET, url).query([("q", "a b&c")]))
            .await
            .unwrap();
        assert_eq!(
            response.into_body().to_string(1024).await.unwrap(),
            "GET /echo?x=1&q=a+b%26c  auth="
        );
        server.close().await.unwrap();
    });
}

#[test]
fn gzip_and_brotli_responses_are_decompressed_and_accept_encoding_is_sent() {
    run(async {
        let text = "compressible text ".repeat(1000);
        let served = text.clone();
        let handler = move |request: Request<Body>| {
            let text = served.clone();
            async move {
                let accepted = request
                    .headers()
                    .get(header::ACCEPT_ENCODING)
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                let (encoding, bytes) = if request.uri().path() == "/br" {
                    let mut out = Vec::new();
                    async_compression::futures::bufread::BrotliEncoder::new(text.as_bytes())
                        .read_to_end(&mut out)
                        .await
                        .unwrap();
                    ("br", out)
                } else {
                    let mut out = Vec::new();
                    async_compression::futures::bufread::GzipEncoder::new(text.as_bytes())
                        .read_to_end(&mut out)
                        .await
                        .unwrap();
                    ("gzip", out)
                };
                let mut response = Response::new(Body::from(bytes));
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
                response
                    .headers_mut()
                    .insert("x-accepted", HeaderValue::from_str(&accepted).unwrap());
                response
            }
        };
        let server = http::start_server(handler, ServerOptions::new().address(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        for path in ["/gzip", "/br"] {
            let response = http::get(format!("http://{}{path}", server.local_addr()))
                .await
                .unwrap();
            assert_eq!(response.headers()["x-accepted"], "gzip, deflate, br, zstd");
            assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
            assert_eq!(response.into_body().to_string(1 << 20).await.unwrap(), text);
        }
        // Off: the body comes as sent.
        let raw = Client::with_options(ClientOptions::new().decompress(false))
            .get(format!("http://{}/gzip", server.local_addr()))
            .await
            .unwrap();
        assert_eq!(raw.headers()[header::CONTENT_ENCODING], "gzip");
        assert!(raw.into_body().to_bytes(1 << 20).await.unwrap().len() < text.len());
        server.close().await.unwrap();
    });
}

#[test]
fn cookies_set_by_a_redirect_are_sent_on_the_next_hop_and_later_requests() {
    run(async {
        let handler = |request: Request<Body>| {
            let mut response = match request.uri().path() {
                "/login" => {
                    let mut r = redirect(StatusCode::FOUND, "/home");
                    r.headers_mut().insert(
                        header::SET_COOKIE,
                        HeaderValue::from_static("session=s3cr3t; Path=/; HttpOnly"),
                    );
                    r
                }
                _ => Response::new(Body::empty()),
            };
            let cookie = request
                .headers()
                .get(header::COOKIE)
                .cloned()
                .unwrap_or(HeaderValue::from_static("none"));
            response.headers_mut().insert("x-cookie", cookie);
            response
        };
        let server = http::start_server(handler, ServerOptions::new().address(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let jar = std::sync::Arc::new(weir::http::client::CookieJar::new());
        let client = Client::with_options(ClientOptions::new().cookie_store(jar));
        let base = format!("http://{}", server.local_addr());
        let home = client.get(format!("{base}/login")).await.unwrap();
        assert_eq!(home.headers()["x-cookie"], "session=s3cr3t");
        let again = client.get(format!("{base}/other")).await.unwrap();
        assert_eq!(again.headers()["x-cookie"], "session=s3cr3t");
        // Without a store, no cookies.
        let plain = http::get(format!("{base}/login")).await.unwrap();
        assert_eq!(plain.headers()["x-cookie"], "none");
        server.close().await.unwrap();
    });
}

#[test]
fn expect_continue_holds_the_body_until_the_server_says_100_and_never_sends_a_refused_one() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    // Over HTTP/1.1 and h2c: HTTP/2's 100 is an informational HEADERS frame.
    for h2c in [false, true] {
        run(async {
            let options = ServerOptions::new()
                .address(([127, 0, 0, 1], 0))
                .use_h2c(h2c)
                .continue_handler(|request: &Request<Body>| request.uri().path() != "/refuse");
            let echo =
                |request: Request<Body>| async move { request.into_body().to_bytes(1 << 20).await };
            let server = http::start_server(echo, options).await.unwrap();
            let base = format!("http://{}", server.local_addr());
            let client = match h2c {
                false => Client::new(),
                true => Client::with_options(
                    ClientOptions::new()
                        .force_h2c(true)
                        .http_versions([weir::http::HttpVersion::Http2]),
                ),
            };
            // Accepted: the 100 releases the body (an hour-long wait would fail the test's bound).
            let accepted = client
                .request(
                    ClientRequest::new(Method::PUT, format!("{base}/upload"))
                        .body("the upload")
                        .expect_continue(Duration::from_secs(3600)),
                )
                .await
                .unwrap();
            assert_eq!(accepted.status(), 200);
            let expected = if h2c {
                weir::http::Version::HTTP_2
            } else {
                weir::http::Version::HTTP_11
            };
            assert_eq!(accepted.version(), expected);
            assert_eq!(
                accepted.into_body().to_string(64).await.unwrap(),
                "the upload"
            );
            // Refused: 417 comes back and the body was never polled.
            let polled = Arc::new(AtomicBool::new(false));
            let seen = polled.clone();
            let body = Body::from_stream(futures::stream::poll_fn(move |_| {
                seen.store(true, Ordering::SeqCst);
                std::task::Poll::Ready(Some(Ok::<_, std::io::Error>("never sent")))
            }));
            let refused = client
                .request(
                    ClientRequest::new(Method::PUT, format!("{base}/refuse"))
                        .body(body)
                        .expect_continue(Duration::from_secs(3600))
                        .throw_on_status(false),
                )
                .await
                .unwrap();
            assert_eq!(refused.status(), StatusCode::EXPECTATION_FAILED);
            assert!(!polled.load(Ordering::SeqCst), "the refused body was sent");
            server.close().await.unwrap();
        });
    }
}

#[test]
fn error_statuses_fail_the_deferred_with_the_response_and_can_be_turned_off() {
    run(async {
        let handler = |request: Request<Body>| {
            let code: u16 = request.uri().path()[1..].parse().unwrap();
            let mut response = Response::new(Body::from(format!("status {code}")));
            *response.status_mut() = StatusCode::from_u16(code).unwrap();
            response
        };
        let server = http::start_server(handler, ServerOptions::new().address(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let base = format!("http://{}", server.local_addr());
        for code in [200u16, 204, 304] {
            assert_eq!(
                http::get(format!("{base}/{code}")).await.unwrap().status(),
                code
            );
        }
        for code in [400u16, 404, 418, 500, 503] {
            let error = http::get(format!("{base}/{code}")).await.unwrap_err();
            let failed = error
                .downcast_ref::<weir::http::client::ResponseError>()
                .expect("a response error");
            assert_eq!(failed.status(), code);
            assert!(error.to_string().contains(&code.to_string()), "{error}");
            let body = failed.take_response().unwrap().into_body();
            assert_eq!(body.to_string(64).await.unwrap(), format!("status {code}"));
            assert!(failed.take_response().is_none());
            let off = http::request(
                ClientRequest::new(Method::GET, format!("{base}/{code}")).throw_on_status(false),
            )
            .await
            .unwrap();
            assert_eq!(off.status(), code);
        }
        let lenient = Client::with_options(ClientOptions::new().throw_on_status(false));
        assert_eq!(
            lenient.get(format!("{base}/404")).await.unwrap().status(),
            404
        );
        server.close().await.unwrap();
    });
}

#[test]
fn multipart_uploads_stream_text_bytes_and_files_over_http1_and_http2() {
    use futures::StreamExt;
    use weir::http::HttpVersion;
    use weir::http::client::Multipart;
    run(async {
        let parse = |request: Request<Body>| async move {
            let content_type = request.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_string();
            let boundary = multer::parse_boundary(&content_type).unwrap();
            let stream = request.into_body().map(Ok::<_, std::convert::Infallible>);
            let mut form = multer::Multipart::new(stream, boundary);
            let mut seen = Vec::new();
            while let Some(field) = form.next_field().await.unwrap() {
                let name = field.name().unwrap_or("").to_string();
                let file = field.file_name().unwrap_or("-").to_string();
                let kind = field
                    .content_type()
                    .map(|m| m.to_string())
                    .unwrap_or("-".into());
                let bytes = field.bytes().await.unwrap();
                seen.push(format!("{name}|{file}|{kind}|{}", bytes.len()));
            }
            seen.join("\n")
        };
        let options = ServerOptions::new()
            .address(([127, 0, 0, 1], 0))
            .use_h2c(true);
        let server = http::start_server(parse, options).await.unwrap();
        let path = std::env::temp_dir().join(format!("weir-multipart-{}.bin", std::process::id()));
        std::fs::write(&path, vec![9u8; 300_000]).unwrap();
        let url = format!("http://{}/upload", server.local_addr());
        let h2 = Client::with_options(
            ClientOptions::new()
                .http_versions([HttpVersion::Http2])
                .force_h2c(true),
        );
        for client in [Client::new(), h2] {
            let form = Multipart::new()
                .text("title", "holiday")
                .bytes("photo", "beach.jpg", "image/jpeg", vec![1u8; 1000])
                .file("archive", &path, Some("application/zip"))
                .source(
                    "log",
                    "app.log",
                    "text/plain",
                    weir::stream::iter(vec!["a\n", "b\n"]),
                );
            let response = client
                .request(ClientRequest::new(Method::POST, &url).multipart(form))
                .await
                .unwrap();
            let file_name = path.file_name().unwrap().to_str().unwrap().to_string();
            assert_eq!(
                response.into_body().to_string(4096).await.unwrap(),
                format!(
                    "title|-|-|7\nphoto|beach.jpg|image/jpeg|1000\narchive|{file_name}|application/zip|300000\nlog|app.log|text/plain|4"
                )
            );
        }
        // A file that cannot be opened fails the request with the path in the error.
        let missing = Multipart::new().file("x", "/no/such/file.bin", None);
        let error = http::request(ClientRequest::new(Method::POST, &url).multipart(missing))
            .await
            .unwrap_err();
        assert!(!error.to_string().is_empty());
        let _ = std::fs::remove_file(&path);
        server.close().await.unwrap();
    });
}

#[test]
fn upload_and_download_progress_count_every_byte_against_the_known_total() {
    use std::sync::{Arc, Mutex};
    run(async {
        let echo =
            |request: Request<Body>| async move { request.into_body().to_bytes(1 << 22).await };
        let server = http::start_server(echo, ServerOptions::new().address(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (s, g) = (sent.clone(), got.clone());
        let request = ClientRequest::new(Method::PUT, format!("http://{}/", server.local_addr()))
            .body(vec![5u8; 1 << 20])
            .on_upload_progress(move |so_far, total| s.lock().unwrap().push((so_far, total)))
            .on_download_progress(move |so_far, total| g.lock().unwrap().push((so_far, total)));
        let response = http::request(request).await.unwrap();
        assert_eq!(
            response.into_body().to_bytes(1 << 22).await.unwrap().len(),
            1 << 20
        );
        for reports in [sent, got] {
            let reports = reports.lock().unwrap();
            assert!(!reports.is_empty());
            assert!(
                reports.windows(2).all(|w| w[0].0 < w[1].0),
                "not increasing"
            );
            assert_eq!(*reports.last().unwrap(), (1 << 20, Some(1 << 20)));
        }
        server.close().await.unwrap();
    });
}
