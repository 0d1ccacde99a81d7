//! UDP: a socket as a duplex stream of datagrams, Aleph's `aleph.udp`.
//!
//! [`socket`] binds a UDP socket and hands back a [`UdpSocket`]: a weir [`Source`] of the
//! [`Datagram`]s it receives and a [`Sink`] of those it sends, each a payload of [`Bytes`] and
//! a peer address (the sender of an inbound datagram, the destination of an outbound one).
//! Like every weir connection it is a [`splice`] of a sink and a source, so it composes with
//! [`connect`], the combinators of [`SourceExt`] and `futures::{StreamExt, SinkExt}`.
//!
//! ```
//! use weir::udp::{self, Datagram, SocketOptions};
//!
//! # weir::runtime::block_on(async {
//! let echo = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
//! let server = echo.clone();
//! weir::runtime::spawn(async move {
//!     while let Some(datagram) = server.take_next().await {
//!         // The sender becomes the destination: an echo.
//!         if server.put(datagram).await.is_err() {
//!             break;
//!         }
//!     }
//! })
//! .detach();
//!
//! let client = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
//! client.put(Datagram::new(echo.local_addr(), "marco")).await.unwrap();
//! let reply = client.take_next().await.unwrap();
//! assert_eq!((reply.peer, &reply.payload[..]), (echo.local_addr(), &b"marco"[..]));
//! # weir::stream::Source::close(&echo);
//! # });
//! ```
//!
//! UDP is unreliable and so is this adapter, in the same ways: datagrams can be lost, repeated
//! or reordered. weir reads the socket only when its source is taken from, so backpressure
//! reaches the socket but not the peer: datagrams arriving while nobody takes queue in the
//! kernel, which drops what does not fit in its buffer
//! ([`SocketOptions::receive_buffer_size`]).
//!
//! # From Aleph
//!
//! | Aleph (`aleph.udp`) | weir |
//! |---|---|
//! | `socket` with `:port`, `:socket-address` | [`socket`] with [`SocketOptions::port`], [`SocketOptions::address`] |
//! | `:broadcast?` | [`SocketOptions::broadcast`] |
//! | (none) | [`SocketOptions::multicast_v4`], [`SocketOptions::send_only`], buffer sizes |
//! | inbound `{:sender :message}` | [`Datagram`] with `peer` (the sender) and `payload` |
//! | outbound `{:socket-address :message}` | [`Datagram`] with `peer` (the destination) and `payload` |
//! | outbound `{:host :port :message}` | [`UdpSocket::put_to`], or [`UdpSocket::resolve`] once and then [`Datagram`]s |
//! | an oversized datagram errors the put | [`DatagramTooLarge`] from [`UdpSocket::put`] or `start_send` |
//! | `:raw-stream?`, `:bootstrap-transform`, `:epoll?` | not needed: payloads are already [`Bytes`]; the reactor is async-io's |
//!
//! [`Source`]: crate::stream::Source
//! [`Sink`]: crate::stream::Sink
//! [`splice`]: crate::stream::splice
//! [`connect`]: crate::stream::connect
//! [`SourceExt`]: crate::stream::SourceExt
//! [`Bytes`]: bytes::Bytes

mod datagram;
mod host;
mod inbound;
mod options;
mod outbound;
mod owner;
mod socket;

pub use datagram::{Datagram, DatagramTooLarge, MAX_PAYLOAD_V4, MAX_PAYLOAD_V6};
pub use options::SocketOptions;
pub use socket::{UdpSocket, socket};
