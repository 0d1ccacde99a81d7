//! TCP: servers and clients whose connections are duplex streams of bytes, Aleph's
//! `aleph.tcp`.
//!
//! [`start_server`] listens and hands each accepted connection to a handler; [`client`]
//! connects. Either way a connection is a [`TcpConnection`]: a weir [`Source`] of the
//! [`Bytes`] chunks read from the socket and a [`Sink`] of anything [`IntoBytes`] to write,
//! with its [`ConnectionInfo`] (addresses, and what TLS negotiated once TLS is on). Like every
//! weir connection it is a [`splice`] of two channels, so it composes with [`connect`], the
//! combinators of [`SourceExt`], the framing codecs and `futures::{StreamExt, SinkExt}`.
//!
//! ```
//! use weir::stream::{self, ConnectOptions, Source};
//! use weir::tcp::{self, ClientOptions, ServerOptions, TcpConnection};
//!
//! # weir::runtime::block_on(async {
//! // An echo server: each connection is connected to itself.
//! let echo = |c: TcpConnection| {
//!     stream::connect(c.clone(), c, ConnectOptions::new());
//! };
//! let server = tcp::start_server(echo, ServerOptions::new().address(([127, 0, 0, 1], 0)))
//!     .await
//!     .unwrap();
//!
//! let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
//!     .await
//!     .unwrap();
//! client.put("marco").await.unwrap();
//! assert_eq!(client.take_next().await.unwrap(), "marco");
//!
//! client.close();
//! server.close().await.unwrap();
//! # });
//! ```
//!
//! The TCP server and the HTTP server share one accept core: the listener, TLS as a layer over
//! it, the registry of open connections with its cap, the idle timeout and the graceful
//! shutdown.
//!
//! Backpressure runs end to end: a slow consumer of a connection stops weir reading its
//! socket (so the peer's writes stop once the kernel's buffers fill, and memory per connection
//! stays bounded), and a put completes only once its bytes were written. Closing a
//! connection's write side is a TCP half-close; see [`TcpConnection`] for how each side ends.
//!
//! # From Aleph
//!
//! | Aleph (`aleph.tcp`) | weir |
//! |---|---|
//! | `start-server` with `handler` `(fn [stream info])` | [`start_server`] with a handler `Fn(TcpConnection)`; the info is [`TcpConnection::info`] |
//! | `:port`, `:socket-address` | [`ServerOptions::port`], [`ServerOptions::address`] (port 0: [`Server::local_addr`] tells) |
//! | `:listen-socket` | [`ServerOptions::listener`] (weir closes it with the server) |
//! | `:shutdown-timeout` (15 s) | [`ServerOptions::shutdown_timeout`] (15 s), used by [`Server::close`] |
//! | `AlephServer`: `.close`, `wait-for-close`, `port` | [`Server::close`], [`Server::wait_for_close`], [`Server::local_addr`] |
//! | info `:remote-addr`, `:server-name`, `:server-port`, `:ssl-session` | [`ConnectionInfo::remote_addr`], [`ConnectionInfo::local_addr`], TLS fields (`None` for plain TCP) |
//! | `client` with `:host`, `:port`, `:remote-address`, `:local-address` | [`client`] with [`ClientOptions::host`], [`ClientOptions::port`], [`ClientOptions::remote_address`], [`ClientOptions::local_address`] (not supported yet) |
//! | `:connect-timeout` (30 s) | [`ClientOptions::connect_timeout`] (30 s) |
//! | `:ssl-context`, `:ssl?`, `:insecure?` | `weir::tls` (arriving separately) |
//! | inbound `byte[]` per read | [`Bytes`] per read, at most [`ServerOptions::read_chunk_size`] |
//! | outbound: anything `to-byte-buf` converts | anything [`IntoBytes`] |
//! | (none) | [`ServerOptions::nodelay`] (on), [`ServerOptions::inbound_buffer`], [`Server::connection_count`] |
//! | `:idle-timeout` (HTTP server option in Aleph) | [`ServerOptions::idle_timeout`] (off): no bytes either way for that long closes the connection |
//! | (none) | [`ServerOptions::max_connections`]: past it, accepting waits for a connection to close |
//! | `:raw-stream?`, `:bootstrap-transform`, `:pipeline-transform`, `:transport` | not needed: chunks are already [`Bytes`]; the reactor is async-io's |
//!
//! [`Source`]: crate::stream::Source
//! [`Sink`]: crate::stream::Sink
//! [`splice`]: crate::stream::splice
//! [`connect`]: crate::stream::connect
//! [`SourceExt`]: crate::stream::SourceExt
//! [`IntoBytes`]: crate::bytes::IntoBytes
//! [`Bytes`]: bytes::Bytes

#[allow(dead_code, reason = "parts of the accept core only some servers use")]
pub(crate) mod accept;
mod client;
mod connection;
mod info;
mod options;
mod server;
mod socket;

pub use client::client;
pub use connection::TcpConnection;
pub use info::ConnectionInfo;
pub use options::{ClientOptions, ServerOptions};
pub use server::{Server, start_server};
pub(crate) use socket::TcpSocket;

#[allow(
    unused_imports,
    reason = "the entry point weir::tls wraps its streams with"
)]
pub(crate) use connection::connection;
#[allow(
    unused_imports,
    reason = "the buffering options weir::tls passes to `connection`"
)]
pub(crate) use options::Buffers;
