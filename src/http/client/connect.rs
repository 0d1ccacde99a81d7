//! Making a client connection: TCP (the system resolver, each address in turn), TLS with
//! ALPN, then an HTTP/1.1 or HTTP/2 handshake.

use std::future::Future;
use std::pin::Pin;

use crate::Error;
use crate::http::HttpVersion;
use crate::http::io::HyperIo;
use crate::tcp::accept::Transport;

use super::options::ClientOptions;
use super::pool::{Key, Kill, Sender};
use super::timeout::{self, Phase};

/// The connection's task: drives it until it closes.
pub(crate) type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Connects to `key` within the connect timeout.
pub(crate) async fn connect(
    key: &Key,
    options: &ClientOptions,
) -> Result<(Sender, Kill, Task), Error> {
    let limit = options.connect_timeout;
    match crate::runtime::timeout(limit, connect_now(key, options)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(timeout::error(
            Phase::Connect,
            &format!("{}:{}", key.host, key.port),
            limit,
        )),
    }
}

async fn connect_now(key: &Key, options: &ClientOptions) -> Result<(Sender, Kill, Task), Error> {
    #[cfg(unix)]
    if let Some(path) = &key.unix_socket {
        let stream = async_net::unix::UnixStream::connect(path)
            .await
            .map_err(|error| {
                Error::from(std::io::Error::new(
                    error.kind(),
                    format!("could not connect to {}: {error}", path.display()),
                ))
            })?;
        if key.https {
            return Err(Error::msg(
                "https over a Unix domain socket is not supported",
            ));
        }
        let h2c = options.force_h2c && options.versions.contains(&HttpVersion::Http2);
        return handshake(Transport::Unix(stream), h2c, options).await;
    }
    let route = Route {
        resolver: &options.resolver,
        proxy: options.proxy.as_ref(),
        #[cfg(feature = "tls")]
        tls: options.tls.as_ref(),
        alpn: options
            .versions
            .iter()
            .map(|version| version.alpn_id().to_vec())
            .collect(),
        tunnel_plain: options
            .proxy
            .as_ref()
            .is_some_and(super::Proxy::tunnels_plain),
    };
    let transport = open(key, &route).await?;
    let http2 = match &transport {
        #[cfg(feature = "tls")]
        Transport::Tls(stream) => stream.session_info().alpn_protocol() == Some(b"h2"),
        _ => options.force_h2c && options.versions.contains(&HttpVersion::Http2),
    };
    handshake(transport, http2, options).await
}

/// How a client reaches a host: the resolver, the proxy if any, TLS and its ALPN list.
pub(crate) struct Route<'a> {
    pub(crate) resolver: &'a std::sync::Arc<dyn super::Resolve>,
    pub(crate) proxy: Option<&'a super::Proxy>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<&'a crate::tls::ClientConfig>,
    #[cfg_attr(
        not(feature = "tls"),
        allow(dead_code, reason = "ALPN is offered over TLS")
    )]
    pub(crate) alpn: Vec<Vec<u8>>,
    /// Ask an HTTP proxy to `CONNECT` for plain targets too (a WebSocket, which a
    /// forwarding proxy would not upgrade).
    pub(crate) tunnel_plain: bool,
}

/// TCP to `key` (through the route's proxy if any, happy eyeballs across the addresses),
/// then TLS with the route's ALPN list for https/wss.
pub(crate) async fn open(key: &Key, route: &Route<'_>) -> Result<Transport, Error> {
    let host = key.host.trim_start_matches('[').trim_end_matches(']');
    let tcp = match route.proxy {
        Some(proxy) => {
            proxy
                .connect_through(route.resolver, key, route.tunnel_plain)
                .await?
        }
        None => super::resolve::connect(route.resolver, host, key.port).await?,
    };
    let _ = tcp.set_nodelay(true);
    let tcp = crate::tcp::TcpSocket::new(tcp);
    if !key.https {
        return Ok(Transport::Tcp(tcp));
    }
    #[cfg(feature = "tls")]
    {
        let config = route
            .tls
            .cloned()
            .unwrap_or_default()
            .with_alpn_protocols(route.alpn.iter().cloned());
        let stream = crate::tls::connect(&config, host, tcp).await?;
        Ok(Transport::Tls(Box::new(stream)))
    }
    #[cfg(not(feature = "tls"))]
    {
        drop(tcp);
        Err(Error::msg("https needs weir's `tls` feature"))
    }
}

/// The HTTP handshake on a connected transport.
async fn handshake(
    mut transport: Transport,
    http2: bool,
    #[cfg_attr(not(feature = "http2"), allow(unused_variables))] options: &ClientOptions,
) -> Result<(Sender, Kill, Task), Error> {
    let kill = Kill::new();
    if http2 {
        #[cfg(feature = "http2")]
        {
            use tokio_util::compat::FuturesAsyncReadCompatExt as _;
            let (sender, mut connection) = h2::client::Builder::new()
                .initial_window_size(1024 * 1024)
                .initial_connection_window_size(2 * 1024 * 1024)
                .handshake::<_, bytes::Bytes>(transport.compat())
                .await
                .map_err(crate::http::error::from_h2)?;
            let timeout = options.http2_keep_alive_timeout;
            let mut keep_alive = options.http2_keep_alive_interval.and_then(|interval| {
                connection
                    .ping_pong()
                    .map(|pong| crate::http::keep_alive::KeepAlive::new(pong, interval, timeout))
            });
            let closing = kill.clone();
            let task: Task = Box::pin(async move {
                let mut yielded = false;
                let outcome = futures_lite::future::poll_fn(|cx| {
                    // Woken (by a request, or by the socket): first let the tasks that are ready
                    // to run go, so the requests they queue go out in one write rather than one
                    // or two at a time (a yield puts this task at the back of the queue).
                    yielded = !yielded;
                    if yielded {
                        cx.waker().wake_by_ref();
                        return std::task::Poll::Pending;
                    }
                    if let std::task::Poll::Ready(outcome) =
                        std::pin::Pin::new(&mut connection).poll(cx)
                    {
                        return std::task::Poll::Ready(Some(outcome));
                    }
                    if let Some(keep_alive) = &mut keep_alive {
                        if keep_alive.poll(cx) == std::task::Poll::Ready(false) {
                            return std::task::Poll::Ready(None);
                        }
                    }
                    std::task::Poll::Pending
                })
                .await;
                match outcome {
                    Some(Ok(())) => {}
                    Some(Err(error)) => log::debug!("weir: http/2 client connection: {error}"),
                    // Dropping the connection closes the socket: its streams fail, and their
                    // errors say why.
                    None => {
                        let why = format!("no PONG to a keep-alive PING within {timeout:?}");
                        log::debug!("weir: http/2 client connection: {why}, closed");
                        closing.closed_because(why);
                    }
                }
            });
            return Ok((Sender::Http2(sender), kill, task));
        }
        #[cfg(not(feature = "http2"))]
        return Err(Error::msg("HTTP/2 needs weir's `http2` feature"));
    }
    let vectored = transport.is_write_vectored();
    // hyper polls the connection's read at every wake-up of its task; the server sends only
    // answers, which the wait reports.
    transport.set_waits_while_empty(true);
    let (sender, connection) = hyper::client::conn::http1::Builder::new()
        .writev(vectored)
        .handshake::<_, crate::http::Body>(HyperIo::new(transport, vectored))
        .await
        .map_err(crate::http::error::from_hyper)?;
    let task: Task = Box::pin(async move {
        if let Err(error) = connection.await {
            log::debug!("weir: http/1 client connection: {error}");
        }
    });
    Ok((Sender::Http1(sender), kill, task))
}
