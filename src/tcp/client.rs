//! `client`: connecting to a TCP server.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures_lite::future;

use crate::runtime;
use crate::{Deferred, Error};

use super::connection::{TcpConnection, connection};
use super::info::ConnectionInfo;
use super::options::{ClientOptions, Remote};

/// Connects to a TCP server: Aleph's `tcp/client`. The deferred is realized with the
/// connection, or with the error that prevented it:
///
/// - a refused connection (or an unreachable host…) is an [I/O error](Error::is_io) whose
///   message names the address tried, and whose source is the `io::Error`;
/// - a host name that does not resolve is an I/O error naming it;
/// - past [`ClientOptions::connect_timeout`] (30 s by default), a
///   [timeout error](Error::is_timeout) naming the target.
///
/// A host name is resolved on weir's blocking pool; its addresses are tried in turn, and the
/// error for the last one is reported.
///
/// # Cancel safety
///
/// Connecting runs on weir's executor. Realizing the returned deferred yourself (say with
/// `deferred.error(weir::Error::cancelled())`) aborts the attempt: the socket being connected
/// is dropped, and a connection that completes anyway is closed at once. Dropping the deferred
/// does not abort the attempt; a connection made then is closed as nobody holds it.
///
/// # Examples
///
/// ```
/// use weir::tcp::{self, ClientOptions, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
/// let address = server.local_addr();
/// let connection = tcp::client(ClientOptions::new().remote_address(address)).await.unwrap();
/// assert_eq!(connection.remote_addr(), address);
///
/// // Once the server is closed, connecting is refused, with the address in the message.
/// drop(connection);
/// server.close().await.unwrap();
/// let refused = tcp::client(ClientOptions::new().remote_address(address)).await.unwrap_err();
/// assert!(refused.is_io());
/// assert!(refused.to_string().contains(&address.to_string()));
/// # });
/// ```
pub fn client(options: ClientOptions) -> Deferred<TcpConnection, Error> {
    let result = Deferred::new();
    let cancelled: Deferred<(), Error> = Deferred::new();
    let on_realized = cancelled.clone();
    result.clone().on_realized(move |_| {
        on_realized.success(());
    });
    let realizer = result.clone();
    let executor = options.executor.clone();
    runtime::spawn_detached_on(executor.as_ref(), async move {
        let attempt = future::or(async { Some(connect(options).await) }, async {
            let _ = cancelled.await;
            None
        })
        .await;
        if let Some(outcome) = attempt {
            // Already realized (cancelled): the connection, if any, is dropped and closes.
            let _ = realizer.try_realize(outcome);
        }
    });
    result
}

/// Resolves and connects within the timeout, then wraps the socket.
async fn connect(options: ClientOptions) -> Result<TcpConnection, Error> {
    let target = match &options.remote {
        Remote::Unset => {
            return Err(Error::from(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no remote address: set ClientOptions::host and port, or remote_address",
            )));
        }
        Remote::Host(host, port) => format!("{host}:{port}"),
        Remote::Address(address) => address.to_string(),
    };
    let timeout = options.connect_timeout;
    // The timer is polled first, so that a zero timeout fails deterministically.
    let stream = future::or(
        async {
            runtime::sleep(timeout).await;
            Err(timed_out(&target, timeout))
        },
        open(&options.remote, options.local_address),
    )
    .await?;
    if options.nodelay {
        if let Err(error) = stream.set_nodelay(true) {
            log::debug!("weir: tcp client: setting TCP_NODELAY failed: {error}");
        }
    }
    let (local, remote) = (stream.local_addr()?, stream.peer_addr()?);
    let stream = super::TcpSocket::new(stream);
    #[cfg(feature = "tls")]
    if let Some(tls) = &options.tls {
        let name = match (&options.tls_server_name, &options.remote) {
            (Some(name), _) => name.clone(),
            (None, Remote::Host(host, _)) => host.clone(),
            (None, _) => remote.ip().to_string(),
        };
        let handshake = crate::tls::connect(&tls.config, &name, stream);
        let stream = future::or(
            async {
                runtime::sleep(timeout).await;
                Err(timed_out(&target, timeout))
            },
            handshake,
        )
        .await?;
        let info = ConnectionInfo::tls(local, remote, stream.session_info());
        return Ok(connection(stream, info, options.buffers));
    }
    Ok(connection(
        stream,
        ConnectionInfo::tcp(local, remote),
        options.buffers,
    ))
}

/// Resolves the remote and tries each of its addresses in turn, from `local` if given.
async fn open(remote: &Remote, local: Option<SocketAddr>) -> Result<async_net::TcpStream, Error> {
    let addresses: Vec<SocketAddr> = match remote {
        Remote::Unset => Vec::new(),
        Remote::Address(address) => vec![*address],
        Remote::Host(host, port) => {
            async_net::resolve((host.as_str(), *port))
                .await
                .map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("could not resolve {host}:{port}: {error}"),
                    )
                })?
        }
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
    for address in addresses {
        let connected = match local {
            None => async_net::TcpStream::connect(address).await,
            Some(local) => connect_from(local, address).await,
        };
        match connected {
            Ok(stream) => return Ok(stream),
            Err(error) => {
                last = io::Error::new(
                    error.kind(),
                    format!("could not connect to {address}: {error}"),
                );
            }
        }
    }
    Err(Error::from(last))
}

/// Connects to `address` from a socket bound to `local` first (the standard library cannot
/// bind before connecting; socket2 can).
async fn connect_from(local: SocketAddr, address: SocketAddr) -> io::Result<async_net::TcpStream> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.bind(&local.into()).map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("could not bind the local address {local}: {error}"),
        )
    })?;
    socket.set_nonblocking(true)?;
    // A non-blocking connect usually reports "in progress": the outcome is known once the
    // socket is writable. An immediate failure is returned if the socket never connects.
    let started = socket.connect(&address.into());
    let stream = async_io::Async::new(std::net::TcpStream::from(socket))?;
    if started.is_err() {
        stream.writable().await?;
        if let Some(error) = stream.get_ref().take_error()? {
            return Err(error);
        }
        if stream.get_ref().peer_addr().is_err() {
            return Err(started
                .err()
                .unwrap_or_else(|| io::ErrorKind::NotConnected.into()));
        }
    }
    Ok(async_net::TcpStream::from(stream))
}

fn timed_out(target: &str, after: Duration) -> Error {
    Error::from(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("connecting to {target} timed out after {after:?}"),
    ))
}
