//! WebSocket server and client as weir duplex streams (RFC 6455), with permessage-deflate
//! (RFC 7692), heartbeats and close codes: Aleph's `aleph.http` WebSocket functions.
//!
//! - [`websocket_connection`] turns an upgrade request, inside any handler, into a
//!   [`WebSocket`]; answering with the socket sends the 101.
//! - [`websocket_client`] opens one to a `ws://` or `wss://` URL.
//! - A [`WebSocket`] is a [`Source`](crate::stream::Source) of inbound [`Message`]s and a
//!   [`Sink`](crate::stream::Sink) of outbound ones, so everything in [`stream`](crate::stream)
//!   composes with it: an echo server is `connect(socket.clone(), socket)`.
//!
//! weir writes its own frame codec and permessage-deflate (on flate2's pure-Rust zlib-rs
//! backend), over futures-io: tungstenite rejects the compression bit, so deflate cannot be
//! layered on it.
//!
//! # Aleph -> weir
//!
//! | Aleph | weir |
//! |---|---|
//! | `(http/websocket-connection req opts)` | [`websocket_connection(&mut req, WebSocketOptions)`](websocket_connection), then answer with the socket |
//! | `(http/websocket-client url opts)` | [`websocket_client(url, WebSocketClientOptions)`](websocket_client) |
//! | `(http/websocket-ping conn d payload)` | [`socket.ping(payload)`](WebSocket::ping) |
//! | `(http/websocket-close! conn code reason d)` | [`socket.close(code, reason)`](WebSocket::close) |
//! | text frame -> `String`, binary -> `byte[]` | [`Message::Text`], [`Message::Binary`] (`Bytes`) |
//! | `put!` of a `CharSequence` / anything else | `String`/`&str` send text, byte types binary ([`Message`]'s `From`s) |
//! | `:heartbeats {:send-after-idle :payload :timeout}` | [`Heartbeats`] |
//! | `:compression?` | [`compression(DeflateOptions)`](WebSocketOptions::compression), with every RFC 7692 parameter |
//! | `:max-frame-payload`, `:max-frame-size` | [`max_frame_payload`](WebSocketOptions::max_frame_payload), [`max_message_size`](WebSocketOptions::max_message_size) |
//! | `:sub-protocols`, `:headers` | [`subprotocols`](WebSocketClientOptions::subprotocols), [`header`](WebSocketClientOptions::header) |
//! | `:ssl-context`, `:insecure?`, `:connect-timeout` | [`tls`](WebSocketClientOptions::tls), [`connect_timeout`](WebSocketClientOptions::connect_timeout) |
//! | `:websocket-close-code`, `:websocket-close-msg` in the description | [`close_status`](WebSocket::close_status), the `close` extra of the graph node, the drain cause |
//! | `:websocket-handshake-headers`, `:websocket-selected-subprotocol` | [`handshake_headers`](WebSocket::handshake_headers), [`subprotocol`](WebSocket::subprotocol) |
//! | `:raw-stream?` | none needed: `Bytes` are reference counted, nothing to release |
//! | `:pipeline-transform`, `:bootstrap-transform`, `:allow-extensions?` | none: no Netty pipeline; the one extension is permessage-deflate |
//! | (none) | proxies ([`proxy`](WebSocketClientOptions::proxy)), a resolver, a close timeout, a fragment limit |

mod client;
mod close;
#[allow(dead_code)] // parts of the codec only its tests use
pub(crate) mod codec;
mod driver;
mod handshake;
mod message;
mod options;
mod server;
mod socket;

pub use client::websocket_client;
pub use close::CloseFrame;
pub use codec::DeflateOptions;
pub use message::Message;
pub use options::{Heartbeats, WebSocketClientOptions, WebSocketOptions};
pub use server::websocket_connection;
pub use socket::WebSocket;
