//! `Datagram`: one UDP message and the address it came from or goes to; the errors of a
//! datagram the socket refuses to send.

use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;

use crate::Error;

/// The largest UDP payload over IPv4: 65 535 bytes less the 20-byte IPv4 header and the 8-byte
/// UDP header.
///
/// # Examples
///
/// ```
/// assert_eq!(weir::udp::MAX_PAYLOAD_V4, 65_535 - 20 - 8);
/// ```
pub const MAX_PAYLOAD_V4: usize = 65_507;

/// The largest UDP payload over IPv6 without jumbograms: 65 535 bytes less the 8-byte UDP
/// header (the IPv6 header is not counted in the payload length).
///
/// # Examples
///
/// ```
/// assert_eq!(weir::udp::MAX_PAYLOAD_V6, 65_535 - 8);
/// ```
pub const MAX_PAYLOAD_V6: usize = 65_527;

/// One UDP datagram: a payload and a peer address.
///
/// The same type goes both ways through a [`UdpSocket`](super::UdpSocket):
///
/// - inbound (taken from the socket), `peer` is the address the datagram came **from**;
/// - outbound (put into the socket), `peer` is the address it is sent **to**.
///
/// So an echo server is `socket.put(datagram)` of every datagram it takes, unchanged.
///
/// # Examples
///
/// ```
/// use weir::udp::Datagram;
///
/// let d = Datagram::new(([127, 0, 0, 1], 8125).into(), "hits:1|c");
/// assert_eq!(d.peer.port(), 8125);
/// assert_eq!(&d.payload[..], b"hits:1|c");
/// assert_eq!(d.len(), 8);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Datagram {
    /// The sender of an inbound datagram, the destination of an outbound one.
    pub peer: SocketAddr,
    /// The message, without any header.
    pub payload: Bytes,
}

impl Datagram {
    /// A datagram for (or from) `peer` carrying `payload`: anything convertible to [`Bytes`]
    /// (`Vec<u8>`, `String`, `&'static str`, `&'static [u8]`, `Bytes`).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::Datagram;
    ///
    /// let d = Datagram::new("127.0.0.1:9000".parse().unwrap(), vec![1, 2, 3]);
    /// assert_eq!(d.payload, bytes::Bytes::from_static(&[1, 2, 3]));
    /// ```
    pub fn new(peer: SocketAddr, payload: impl Into<Bytes>) -> Self {
        Datagram {
            peer,
            payload: payload.into(),
        }
    }

    /// The payload's length in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let d = weir::udp::Datagram::new("127.0.0.1:9".parse().unwrap(), "four");
    /// assert_eq!(d.len(), 4);
    /// ```
    pub fn len(&self) -> usize {
        self.payload.len()
    }

    /// True for an empty payload (an empty datagram is valid UDP).
    ///
    /// # Examples
    ///
    /// ```
    /// let d = weir::udp::Datagram::new("127.0.0.1:9".parse().unwrap(), "");
    /// assert!(d.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }

    /// The largest payload UDP can carry to `peer`: [`MAX_PAYLOAD_V4`] for an IPv4 address,
    /// [`MAX_PAYLOAD_V6`] for an IPv6 one.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{Datagram, MAX_PAYLOAD_V4, MAX_PAYLOAD_V6};
    ///
    /// let v4 = Datagram::new("127.0.0.1:9".parse().unwrap(), "");
    /// let v6 = Datagram::new("[::1]:9".parse().unwrap(), "");
    /// assert_eq!((v4.max_payload(), v6.max_payload()), (MAX_PAYLOAD_V4, MAX_PAYLOAD_V6));
    /// ```
    pub fn max_payload(&self) -> usize {
        match self.peer {
            SocketAddr::V4(_) => MAX_PAYLOAD_V4,
            SocketAddr::V6(_) => MAX_PAYLOAD_V6,
        }
    }

    /// Checks that a socket bound to `local` can send this datagram: a payload within
    /// [`max_payload`](Datagram::max_payload), a destination of the socket's address family and
    /// a non-zero port. Done before a datagram is queued, so a refusal is reported on its put.
    pub(crate) fn check_sendable(&self, local: SocketAddr) -> Result<(), Error> {
        if self.len() > self.max_payload() {
            return Err(Error::other(DatagramTooLarge {
                size: self.len(),
                limit: self.max_payload(),
                peer: self.peer,
            }));
        }
        if local.is_ipv4() && self.peer.is_ipv6() {
            return Err(Error::msg(format!(
                "cannot send a datagram to the IPv6 address {} from the IPv4 socket {local}",
                self.peer
            )));
        }
        if local.is_ipv6() && self.peer.is_ipv4() {
            return Err(Error::msg(format!(
                "cannot send a datagram to the IPv4 address {} from the IPv6 socket {local} \
                 (use the IPv4-mapped address ::ffff:{})",
                self.peer,
                self.peer.ip()
            )));
        }
        if self.peer.port() == 0 {
            return Err(Error::msg(format!(
                "cannot send a datagram to port 0 ({})",
                self.peer
            )));
        }
        Ok(())
    }
}

/// The error of a put whose datagram is larger than UDP can carry; reach it through
/// [`Error::downcast_ref`].
///
/// The datagram is refused before it is queued, so the socket stays usable.
///
/// # Examples
///
/// ```
/// use weir::udp::{self, Datagram, DatagramTooLarge, SocketOptions};
///
/// # weir::runtime::block_on(async {
/// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
/// let huge = Datagram::new(socket.local_addr(), vec![0; 70_000]);
/// let err = socket.put(huge).await.unwrap_err();
/// let too_large = err.downcast_ref::<DatagramTooLarge>().unwrap();
/// assert_eq!((too_large.size(), too_large.limit()), (70_000, 65_507));
/// assert_eq!(
///     err.to_string(),
///     format!("datagram of 70000 bytes to {} is larger than the maximum UDP payload of 65507 bytes",
///             socket.local_addr()),
/// );
/// # });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatagramTooLarge {
    size: usize,
    limit: usize,
    peer: SocketAddr,
}

impl DatagramTooLarge {
    /// The refused payload's size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The largest payload UDP carries to that destination.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The destination of the refused datagram.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }
}

impl fmt::Display for DatagramTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "datagram of {} bytes to {} is larger than the maximum UDP payload of {} bytes",
            self.size, self.peer, self.limit
        )
    }
}

impl std::error::Error for DatagramTooLarge {}
