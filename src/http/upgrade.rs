//! `on_upgrade`: the raw connection of an HTTP/1.1 request answered with `101 Switching
//! Protocols`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use http::Request;

use crate::tcp::accept::Transport;
use crate::{Deferred, Error};

use super::body::Body;
use super::introspection::Counted;
use super::io::{HyperIo, Prefixed};

/// An upgraded connection: the socket (or TLS stream) after a `101 Switching Protocols`, as
/// futures-io, with whatever the client sent after its request replayed first. What the
/// WebSocket adapter builds on.
pub struct Upgraded {
    io: Prefixed<Counted<Prefixed<Transport>>>,
}

impl std::fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgraded").finish_non_exhaustive()
    }
}

/// The connection of `request` once the handler's `101 Switching Protocols` response has been
/// sent: take it before answering, return the 101, and the deferred is realized with the raw
/// connection (HTTP/1.1 only). It fails if the response was not a 101, if the client went
/// away, or over HTTP/2.
///
/// # Cancel safety
///
/// Dropping the deferred drops the upgraded connection when it arrives (the socket closes).
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use weir::http::{self, Body, Request, Response, ServerOptions, StatusCode};
///
/// # weir::runtime::block_on(async {
/// // Upgrades to an echo of whatever the client sends next.
/// let handler = |mut request: Request<Body>| {
///     let upgraded = http::on_upgrade(&mut request);
///     weir::runtime::spawn(async move {
///         let mut io = upgraded.await.unwrap();
///         let mut buf = [0u8; 5];
///         io.read_exact(&mut buf).await.unwrap();
///         io.write_all(&buf).await.unwrap();
///     })
///     .detach();
///     let mut response = Response::new(Body::empty());
///     *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
///     response.headers_mut().insert("upgrade", "echo".parse().unwrap());
///     response.headers_mut().insert("connection", "upgrade".parse().unwrap());
///     response
/// };
/// let server = http::start_server(handler, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
/// let mut client = async_net::TcpStream::connect(server.local_addr()).await.unwrap();
/// client
///     .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\nhello")
///     .await
///     .unwrap();
/// let mut reply = vec![0u8; 0];
/// let mut buf = [0u8; 256];
/// while !reply.ends_with(b"hello") {
///     let n = client.read(&mut buf).await.unwrap();
///     assert!(n > 0);
///     reply.extend_from_slice(&buf[..n]);
/// }
/// assert!(reply.starts_with(b"HTTP/1.1 101"));
/// server.close().await.unwrap();
/// # });
/// ```
pub fn on_upgrade(request: &mut Request<Body>) -> Deferred<Upgraded, Error> {
    on_any_upgrade(request)
}

/// [`on_upgrade`] for a request with any body type (a tower or axum service's request, say).
pub(crate) fn on_any_upgrade<B>(request: &mut Request<B>) -> Deferred<Upgraded, Error> {
    let on_upgrade = hyper::upgrade::on(request);
    let upgraded = Deferred::new();
    let realizer = upgraded.realizer();
    crate::runtime::spawn_detached(async move {
        let outcome = match on_upgrade.await {
            Ok(upgraded) => match upgraded.downcast::<HyperIo<Counted<Prefixed<Transport>>>>() {
                Ok(parts) => {
                    let mut io = parts.io.io;
                    // An upgraded connection is a stream protocol (WebSocket): its reads try
                    // the `recv` again after its writes.
                    io.io.io.set_waits_within_run(false);
                    Ok(Upgraded {
                        io: Prefixed::new(parts.read_buf, io),
                    })
                }
                Err(_) => Err(Error::msg("http upgrade: not a weir connection")),
            },
            Err(error) => Err(super::error::from_hyper(error)),
        };
        let _ = realizer.try_realize(outcome);
    });
    upgraded
}

impl AsyncRead for Upgraded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Upgraded {
    super::io::write_through!(io);
}
