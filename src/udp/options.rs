//! `SocketOptions`: how [`socket`](super::socket) binds and configures a UDP socket.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::datagram::MAX_PAYLOAD_V4;

/// How a UDP socket is bound and configured; a builder passed to [`socket`](super::socket).
///
/// | option | default | what it does |
/// |---|---|---|
/// | [`address`](SocketOptions::address), [`ip`](SocketOptions::ip), [`port`](SocketOptions::port) | `0.0.0.0:0` | the local address to bind: every IPv4 interface and an ephemeral port, as Aleph does; the socket reports the port it got through [`local_addr`](super::UdpSocket::local_addr) |
/// | [`broadcast`](SocketOptions::broadcast) | off | `SO_BROADCAST`: allows sending to broadcast addresses |
/// | [`multicast_v4`](SocketOptions::multicast_v4) | none | joins an IPv4 multicast group on an interface |
/// | [`send_only`](SocketOptions::send_only) | off | nothing is read, the inbound side is drained at once |
/// | [`receive_buffer_size`](SocketOptions::receive_buffer_size) | the system's | `SO_RCVBUF`: the kernel's buffer of received datagrams nobody has taken yet |
/// | [`send_buffer_size`](SocketOptions::send_buffer_size) | the system's | `SO_SNDBUF`: the kernel's buffer of datagrams on their way out |
/// | [`outbound_buffer`](SocketOptions::outbound_buffer) | 128 | datagrams put but not yet sent; when full, puts wait |
/// | [`max_datagram_size`](SocketOptions::max_datagram_size) | 65 507 | the receive buffer: longer inbound datagrams are truncated to it by the kernel |
///
/// # Examples
///
/// ```
/// use weir::udp::{self, SocketOptions};
///
/// # weir::runtime::block_on(async {
/// let options = SocketOptions::new()
///     .address(([127, 0, 0, 1], 0))
///     .receive_buffer_size(1 << 20)
///     .max_datagram_size(1500);
/// let socket = udp::socket(options).await.unwrap();
/// assert!(socket.local_addr().ip().is_loopback());
/// assert_ne!(socket.local_addr().port(), 0);
/// # });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    pub(crate) address: SocketAddr,
    pub(crate) broadcast: bool,
    pub(crate) multicast_v4: Option<(Ipv4Addr, Ipv4Addr)>,
    pub(crate) send_only: bool,
    pub(crate) receive_buffer_size: Option<usize>,
    pub(crate) send_buffer_size: Option<usize>,
    pub(crate) outbound_buffer: usize,
    pub(crate) max_datagram_size: usize,
}

impl SocketOptions {
    /// The default options; see the [table](SocketOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::SocketOptions;
    ///
    /// assert_eq!(SocketOptions::new(), SocketOptions::default());
    /// ```
    pub fn new() -> Self {
        SocketOptions {
            address: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            broadcast: false,
            multicast_v4: None,
            send_only: false,
            receive_buffer_size: None,
            send_buffer_size: None,
            outbound_buffer: 128,
            max_datagram_size: MAX_PAYLOAD_V4,
        }
    }

    /// The local address and port to bind (port 0: an ephemeral port). Anything convertible to
    /// a [`SocketAddr`], such as `([127, 0, 0, 1], 0)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// assert_eq!(socket.local_addr().ip().to_string(), "127.0.0.1");
    /// # });
    /// ```
    pub fn address(mut self, address: impl Into<SocketAddr>) -> Self {
        self.address = address.into();
        self
    }

    /// The local IP address to bind, keeping the port.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().ip(Ipv4Addr::LOCALHOST.into())).await.unwrap();
    /// assert!(socket.local_addr().ip().is_loopback());
    /// # });
    /// ```
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.address.set_ip(ip);
        self
    }

    /// The local port to bind, keeping the IP address (0: an ephemeral port).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let first = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// // The same port again is taken: binding fails with the I/O error.
    /// let taken = SocketOptions::new()
    ///     .address(([127, 0, 0, 1], 0))
    ///     .port(first.local_addr().port());
    /// assert!(udp::socket(taken).await.unwrap_err().is_io());
    /// # });
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.address.set_port(port);
        self
    }

    /// Allows sending to broadcast addresses (`SO_BROADCAST`; default off).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let options = SocketOptions::new().address(([127, 0, 0, 1], 0)).broadcast(true);
    /// let socket = udp::socket(options).await.unwrap();
    /// assert!(socket.is_broadcast());
    /// # });
    /// ```
    pub fn broadcast(mut self, broadcast: bool) -> Self {
        self.broadcast = broadcast;
        self
    }

    /// Joins the IPv4 multicast `group` on the interface with address `interface`
    /// (`Ipv4Addr::UNSPECIFIED`: the system chooses). Bind to `0.0.0.0` and the group's port
    /// to receive the group's datagrams. A `group` that is not a multicast address makes
    /// [`socket`](super::socket) fail.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// // 127.0.0.1 is no multicast group: the join is refused.
    /// let options = SocketOptions::new()
    ///     .address(([127, 0, 0, 1], 0))
    ///     .multicast_v4(Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED);
    /// assert!(udp::socket(options).await.is_err());
    /// # });
    /// ```
    pub fn multicast_v4(mut self, group: Ipv4Addr, interface: Ipv4Addr) -> Self {
        self.multicast_v4 = Some((group, interface));
        self
    }

    /// A send-only socket (default off): nothing is read from the socket (datagrams sent to
    /// it are left to the kernel, which drops them once its buffer is full) and the socket's
    /// source is drained at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::Source;
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let options = SocketOptions::new().address(([127, 0, 0, 1], 0)).send_only(true);
    /// let socket = udp::socket(options).await.unwrap();
    /// assert!(socket.is_drained());
    /// assert_eq!(socket.take_next().await, None);
    /// # });
    /// ```
    pub fn send_only(mut self, send_only: bool) -> Self {
        self.send_only = send_only;
        self
    }

    /// The kernel's receive buffer, in bytes (`SO_RCVBUF`; default: the system's). weir reads
    /// the socket only when its source is taken from, so received datagrams nobody has taken
    /// yet wait in this buffer, and the kernel drops those that do not fit: raise it for bursty
    /// traffic. The system may round or cap the size (Linux doubles it and caps it at
    /// `net.core.rmem_max`); [`UdpSocket::receive_buffer_size`](super::UdpSocket::receive_buffer_size)
    /// reports what it chose.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let options = SocketOptions::new().address(([127, 0, 0, 1], 0)).receive_buffer_size(1 << 20);
    /// let socket = udp::socket(options).await.unwrap();
    /// assert!(socket.receive_buffer_size().unwrap() > 0);
    /// # });
    /// ```
    pub fn receive_buffer_size(mut self, bytes: usize) -> Self {
        self.receive_buffer_size = Some(bytes);
        self
    }

    /// The kernel's send buffer, in bytes (`SO_SNDBUF`; default: the system's). When it is
    /// full, datagrams wait in the outbound buffer ([`outbound_buffer`](Self::outbound_buffer)).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let options = SocketOptions::new().address(([127, 0, 0, 1], 0)).send_buffer_size(1 << 20);
    /// assert!(udp::socket(options).await.is_ok());
    /// # });
    /// ```
    pub fn send_buffer_size(mut self, bytes: usize) -> Self {
        self.send_buffer_size = Some(bytes);
        self
    }

    /// How many datagrams put into the socket wait to be sent (default 128; 0: each put waits
    /// until the send loop takes its datagram). When they are all waiting, puts wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0)).outbound_buffer(8))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(socket.outbound_capacity(), 8);
    /// # });
    /// ```
    pub fn outbound_buffer(mut self, datagrams: usize) -> Self {
        self.outbound_buffer = datagrams;
        self
    }

    /// The receive buffer's size in bytes (default [`MAX_PAYLOAD_V4`], 65 507, which fits any
    /// IPv4 datagram; at least 1, at most 65 535). A longer inbound datagram is truncated to
    /// this size by the kernel. Outbound datagrams are not limited by it, only by UDP's maximum
    /// payload.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, Datagram, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let small = SocketOptions::new().address(([127, 0, 0, 1], 0)).max_datagram_size(4);
    /// let socket = udp::socket(small).await.unwrap();
    /// socket.put(Datagram::new(socket.local_addr(), "truncated")).await.unwrap();
    /// let got = socket.take_next().await.unwrap();
    /// assert_eq!(&got.payload[..], b"trun");
    /// # });
    /// ```
    pub fn max_datagram_size(mut self, bytes: usize) -> Self {
        self.max_datagram_size = bytes.clamp(1, usize::from(u16::MAX));
        self
    }
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions::new()
    }
}
