//! The sans-I/O frame codec: frames, masking, fragmentation, UTF-8, close codes and
//! permessage-deflate.
//!
//! Nothing here touches a socket. The connection driver appends the bytes it reads to a
//! `BytesMut` and asks a [`Decoder`] for the next [`Incoming`] event; it hands outbound messages
//! to an [`Encoder`], which appends whole frames to the write buffer. The handshake uses
//! [`accept_key`]/[`new_key`] and the permessage-deflate negotiation ([`offer`], [`accept`],
//! [`confirm`]), whose [`Agreement`] builds the [`Deflater`]/[`Inflater`] pair.

mod decoder;
mod deflate;
mod encoder;
mod frame;
mod key;
mod negotiate;
mod utf8;

pub use deflate::DeflateOptions;

// The allows go once the connection driver and the handshake use every name.
#[allow(unused_imports)]
pub(crate) use decoder::{Decoder, Incoming};
#[allow(unused_imports)]
pub(crate) use deflate::{Deflater, Inflater};
#[allow(unused_imports)]
pub(crate) use encoder::Encoder;
#[allow(unused_imports)]
pub(crate) use frame::{Limits, ProtocolError, Role, is_valid_close_code};
#[allow(unused_imports)]
pub(crate) use key::{accept_key, new_key};
#[allow(unused_imports)]
pub(crate) use negotiate::{Agreement, accept, confirm, offer};
