//! Sending to a host name: Aleph's outbound `{:host :port :message}`.

use std::io;
use std::net::{SocketAddr, SocketAddrV6};

use bytes::Bytes;

use crate::Error;

use super::datagram::Datagram;
use super::socket::UdpSocket;

impl UdpSocket {
    /// Resolves `host` (a name, or an IP address as text) and `port` to an address this socket
    /// can send to: the first address of the socket's family, or for an IPv6 socket with only
    /// IPv4 addresses, the first one IPv4-mapped (`::ffff:a.b.c.d`). Names are resolved on the
    /// blocking pool by the system's resolver; resolve once and reuse the address to send many
    /// datagrams to one place.
    ///
    /// Fails with an [I/O](Error::is_io) error naming the host when it does not resolve, and
    /// with an error naming the families when it has no address this socket can reach.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the lookup: its result is discarded when it completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, Datagram, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let me = socket.resolve("localhost", socket.local_addr().port()).await.unwrap();
    /// assert_eq!(me, socket.local_addr());
    ///
    /// // An IPv4 socket cannot reach an IPv6-only host.
    /// let err = socket.resolve("::1", 9).await.unwrap_err();
    /// assert!(err.to_string().contains("no IPv4 address"), "{err}");
    /// # });
    /// ```
    pub async fn resolve(&self, host: &str, port: u16) -> Result<SocketAddr, Error> {
        let addresses = async_net::resolve((host, port)).await.map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("could not resolve {host}:{port}: {error}"),
            )
        })?;
        let ipv4_socket = self.local_addr().is_ipv4();
        let same_family = addresses
            .iter()
            .find(|address| address.is_ipv4() == ipv4_socket);
        match same_family {
            Some(address) => Ok(*address),
            None if !ipv4_socket => match addresses.first() {
                Some(SocketAddr::V4(v4)) => Ok(SocketAddr::V6(SocketAddrV6::new(
                    v4.ip().to_ipv6_mapped(),
                    port,
                    0,
                    0,
                ))),
                _ => Err(no_address(host, port, "IPv6 or IPv4")),
            },
            None => Err(no_address(host, port, "IPv4")),
        }
    }

    /// Sends `payload` to `host` and `port`, resolved by [`resolve`](UdpSocket::resolve), then
    /// put as [`put`](UdpSocket::put) does: Aleph's `{:host :port :message}`. Each call resolves
    /// the host again; to send many datagrams to one host, resolve it once and use `put`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it resolves sends nothing; afterwards, as for `put`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let localhost = || SocketOptions::new().address(([127, 0, 0, 1], 0));
    /// let server = udp::socket(localhost()).await.unwrap();
    /// let client = udp::socket(localhost()).await.unwrap();
    /// client.put_to("localhost", server.local_addr().port(), "hits:1|c").await.unwrap();
    /// assert_eq!(server.take_next().await.unwrap().payload, "hits:1|c");
    /// # });
    /// ```
    pub async fn put_to(
        &self,
        host: &str,
        port: u16,
        payload: impl Into<Bytes>,
    ) -> Result<(), Error> {
        let payload = payload.into();
        let peer = self.resolve(host, port).await?;
        self.put(Datagram::new(peer, payload)).await
    }
}

fn no_address(host: &str, port: u16, families: &str) -> Error {
    Error::msg(format!(
        "{host}:{port} has no {families} address this socket can send to"
    ))
}
