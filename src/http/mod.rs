//! HTTP: Aleph's `aleph.http` server over HTTP/1.1 and HTTP/2, with bodies as weir streams.
//!
//! [`start_server`] serves a handler: a closure from [`Request<Body>`] to anything that
//! becomes a response ([`IntoResponse`]: a [`Response`], a [`StatusCode`], `()`, a `Result` of
//! one), or to a future of one (an `async` block, a [`Deferred`](crate::Deferred)). A tower
//! service (an axum `Router`) is served through [`service`]. The same handler answers
//! HTTP/1.1 (hyper 1.x over weir's own I/O adapter and timer) and HTTP/2 (the h2 crate, driven
//! directly), chosen by ALPN over TLS, or in cleartext by prior knowledge or an HTTP/1.1
//! `Upgrade: h2c` ([`ServerOptions::use_h2c`]).
//!
//! A [`Body`] is a weir [`Source`](crate::stream::Source) of [`Bytes`](bytes::Bytes) chunks,
//! an [`http_body::Body`] and a `futures_core::Stream`: request bodies arrive as they are read
//! (a slow reader slows the client: HTTP/1.1 stops reading the socket, HTTP/2 withholds
//! WINDOW_UPDATE), and response bodies stream from any source, `futures` stream or deferred,
//! each chunk sent as it comes.
//!
//! ```
//! use weir::http::{self, Body, Request, Response, ServerOptions};
//!
//! # weir::runtime::block_on(async {
//! let handler = |request: Request<Body>| async move {
//!     match request.uri().path() {
//!         "/" => Ok::<_, weir::Error>(Response::new(Body::from("hello!"))),
//!         "/echo" => Ok(Response::new(Body::from(request.into_body().to_bytes(1 << 20).await?))),
//!         _ => Err(http::HttpError::new(http::StatusCode::NOT_FOUND, "no such page").into()),
//!     }
//! };
//! let server = http::start_server(handler, ServerOptions::new().address(([127, 0, 0, 1], 0)))
//!     .await
//!     .unwrap();
//! server.close().await.unwrap();
//! # });
//! ```
//!
//! # From Aleph
//!
//! | Aleph (`aleph.http`) | weir |
//! |---|---|
//! | `start-server [handler options]` | [`start_server`]`(handler, `[`ServerOptions`]`)` |
//! | `:port`, `:socket-address`, `:listen-socket` | [`ServerOptions::port`], [`ServerOptions::address`], [`ServerOptions::listener`]; also [`ServerOptions::unix_socket`] (aleph#465) |
//! | `:ssl-context`, `:http-versions`, `:use-h2c?` | [`ServerOptions::tls`] (ALPN set from the versions, in order), [`ServerOptions::http_versions`], [`ServerOptions::use_h2c`] |
//! | `:executor`, `:rejected-handler` | [`ServerOptions::executor`]; [`ServerOptions::max_concurrent_handlers`] with [`ServerOptions::rejected_handler`] (503) |
//! | `:max-request-body-size` | [`ServerOptions::max_request_body_size`] (413 before the handler, by `Content-Length`, else when crossed), and [`Body::to_bytes`]'s limit |
//! | `:max-initial-line-length`, `:max-header-size` | [`ServerOptions::max_header_size`] (414/431), [`ServerOptions::max_headers`] |
//! | `:idle-timeout` | [`ServerOptions::idle_timeout`] (both protocols), plus [`ServerOptions::header_read_timeout`] |
//! | `:continue-handler` | [`ServerOptions::continue_handler`] (`true`, `false`, a response, a deferred) |
//! | `:error-handler` | [`ServerOptions::error_handler`]; [`HttpError`] is `:aleph/response-status` |
//! | `:shutdown-timeout` (15 s), `.close`, `wait-for-close`, `port` | [`ServerOptions::shutdown_timeout`] (15 s), [`Server::close`], [`Server::wait_for_close`], [`Server::port`] |
//! | `:http2-settings` | [`ServerOptions::http2`] with [`Http2Settings`] (windows, frame size, streams, header list, PINGs) |
//! | Ring request map: `:request-method`, `:uri`, `:query-string`, `:headers`, `:scheme`, `:protocol` | [`Request`]'s method, `uri().path()`, `uri().query()`, headers, version |
//! | `:remote-addr`, `:server-name`, `:server-port`, `:aleph/request-arrived` | [`RequestInfo`] in the request's extensions |
//! | `:body` as an InputStream or a Manifold stream (`:raw-stream?`) | [`Body`]: always a stream of `Bytes`, with [`Body::to_bytes`], [`Body::to_string`], [`Body::form`], `Body::json` |
//! | `nil` response → 204; deferred responses | `()` → 204; any future or deferred of a response |
//! | response body: String, byte[], File, seq, Manifold stream, InputStream | `&str`, `String`, `Vec<u8>`, `Bytes`, [`Body::from_source`], [`Body::from_stream`], [`Body::from_deferred`]; a file: [`Body::file`] (streamed, `Content-Length`) |
//! | File responses (Netty's `ChunkedFile`/`FileRegion`; no range support) | [`serve_file`]: `Content-Type` from the extension, `Accept-Ranges`, single `Range` requests answered with 206 (416 when unsatisfiable), HEAD; `ETag` and `Last-Modified` with conditional requests (304, 412, `If-Range`) |
//! | `:compression?`, `:compression-options` (Netty's `HttpContentCompressor`) | [`ServerOptions::compression`] with `Compression` (feature `compression`): gzip, deflate, br, zstd by `Accept-Encoding` q-values, off by default; small, encoded, ranged and event-stream bodies left alone; streamed bodies flushed per chunk |
//! | server-sent events (a Manifold stream of formatted strings) | [`sse::response`] of a source of [`sse::Event`]s (`id`, `event`, multi-line `data`, `retry`, comments), keep-alive comments while quiet |
//! | `aleph.http.multipart/decode-request` (refused over HTTP/2) | `multipart::parts` (feature `multipart`): a source of parts, each a source of its bytes, with part count and size limits; works over HTTP/1.1 and HTTP/2 |
//! | `Server: Aleph/…`, cached `Date` | [`ServerOptions::server_header`] (`weir`), `Date` cached per second |
//! | (no trailers) | trailers both ways: [`Body::trailers`], [`Body::with_trailers`] |
//! | (no window tuning) | [`Http2Settings`]; window given back as the handler takes the body |
//! | HTTP/1 upgrades (`:aleph/channel`) | [`on_upgrade`] hands back the raw connection |
//! | `wrap-ring-async-handler` | not needed: handlers return futures |
//! | (HTTP/1.1 `Upgrade: h2c`) | with [`ServerOptions::use_h2c`], a bodiless request asking for it gets `101` and its answer on HTTP/2's stream 1; one with a body is answered over HTTP/1.1 (RFC 9110 lets a server ignore an upgrade) |
//! | `:bootstrap-transform`, `:pipeline-transform`, `:initial-pipeline-transform`, `:http1-pipeline-transform`, `:http2-conn-pipeline-transform`, `:http2-stream-pipeline-transform` | do not apply: there is no Netty pipeline; wrap the handler (or use tower layers through [`service`]) instead |
//! | `:raw-stream?`, `:request-buffer-size` | do not apply: bodies are always streams of reference-counted `Bytes`, nothing to release |
//! | `:transport` (`:epoll`, `:kqueue`, `:io-uring`), `:validate-headers`, `:allow-duplicate-content-lengths` | do not apply: the reactor is async-io's; headers are always validated and duplicate lengths refused (hyper) |
//! | `:shutdown-executor?` | does not apply: weir does not own the executor |
//! | `:conn-go-away-handler`, `:reset-stream-handler`, `:stream-go-away-handler` | a reset or GOAWAY ends the request body with an error (its drain cause) and makes the response's puts fail |

mod activity;
mod body;
pub mod client;
#[cfg(feature = "compression")]
mod compression;
mod conditional;
mod continue_handler;
mod date;
mod error;
mod file;
mod form;
mod h1;
#[cfg(feature = "http2")]
mod h2;
#[cfg(feature = "http2")]
mod h2c;
mod handler;
mod introspection;
mod io;
#[cfg(feature = "http2")]
mod keep_alive;
#[cfg(feature = "multipart")]
pub mod multipart;
mod options;
mod range;
pub(crate) mod server;
mod service;
pub mod sse;
mod timer;
pub(crate) mod upgrade;
mod uri_limit;

pub use ::http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri, Version, header,
};
pub use body::Body;
pub use client::{
    Client, ClientOptions, ClientRequest, HostStats, delete, get, head, options, patch, post, put,
    request, trace,
};
#[cfg(feature = "compression")]
pub use compression::{Compression, CompressionLevel};
pub use continue_handler::{Continue, IntoContinue};
pub use error::HttpError;
pub use file::serve_file;
pub use handler::{Eventual, Handler, Immediate, IntoResponse, Responding};
pub use options::{Http2Settings, HttpVersion, ServerOptions};
pub use server::{RequestInfo, Server, start_server};
pub use service::{ServiceHandler, TowerService, service};
pub use upgrade::{Upgraded, on_upgrade};
