//! WebSocket server and client as weir duplex streams (RFC 6455), with permessage-deflate
//! (RFC 7692), heartbeats and close codes.

#[allow(dead_code)] // the connection driver arrives next
pub(crate) mod codec;

pub use codec::DeflateOptions;
