//! Name resolution: a resolver trait with the system resolver as the default, and the
//! happy-eyeballs connect across the addresses it gives.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future;

use crate::{Deferred, Error};

/// Turns a host name into addresses, for the [`Client`](super::Client)'s connections
/// (Aleph's `:name-resolver`). Set one with
/// [`ClientOptions::resolver`](super::ClientOptions::resolver); the default is
/// [`SystemResolver`].
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use weir::Deferred;
/// use weir::http::client::Resolve;
///
/// /// Every name is this machine.
/// struct Loopback;
///
/// impl Resolve for Loopback {
///     fn resolve(&self, _host: &str, port: u16) -> Deferred<Vec<SocketAddr>, weir::Error> {
///         Deferred::succeeded(vec![SocketAddr::from(([127, 0, 0, 1], port))])
///     }
/// }
///
/// let addresses = Loopback.resolve("anything.test", 80).wait().unwrap();
/// assert_eq!(addresses, vec![SocketAddr::from(([127, 0, 0, 1], 80))]);
/// ```
pub trait Resolve: Send + Sync {
    /// The addresses of `host` (never an IP literal: those are not resolved), with `port`.
    fn resolve(&self, host: &str, port: u16) -> Deferred<Vec<SocketAddr>, Error>;
}

/// Which address family to try first when a name has both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressFamily {
    /// The order the system gives (default).
    #[default]
    Any,
    /// IPv4 addresses first.
    Ipv4First,
    /// IPv6 addresses first.
    Ipv6First,
    /// IPv4 only.
    Ipv4Only,
    /// IPv6 only.
    Ipv6Only,
}

/// The system resolver (`getaddrinfo`) on weir's blocking pool, with a timeout and an
/// address-family preference.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::http::client::{AddressFamily, Resolve, SystemResolver};
///
/// let resolver = SystemResolver::new()
///     .timeout(Duration::from_secs(2))
///     .family(AddressFamily::Ipv4Only);
/// let addresses = resolver.resolve("localhost", 8080).wait().unwrap();
/// assert!(addresses.iter().all(|a| a.is_ipv4() && a.port() == 8080));
/// ```
#[derive(Clone, Debug)]
pub struct SystemResolver {
    timeout: Duration,
    family: AddressFamily,
}

impl SystemResolver {
    /// A 5 s timeout, the system's order.
    ///
    /// # Examples
    ///
    /// See [`SystemResolver`].
    pub fn new() -> SystemResolver {
        SystemResolver {
            timeout: Duration::from_secs(5),
            family: AddressFamily::Any,
        }
    }

    /// How long a lookup may take (default 5 s).
    ///
    /// # Examples
    ///
    /// See [`SystemResolver`].
    pub fn timeout(mut self, timeout: Duration) -> SystemResolver {
        self.timeout = timeout;
        self
    }

    /// Which addresses to try first, or only.
    ///
    /// # Examples
    ///
    /// See [`SystemResolver`].
    pub fn family(mut self, family: AddressFamily) -> SystemResolver {
        self.family = family;
        self
    }
}

impl Default for SystemResolver {
    fn default() -> SystemResolver {
        SystemResolver::new()
    }
}

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> Deferred<Vec<SocketAddr>, Error> {
        let name = host.to_string();
        let (timeout, family) = (self.timeout, self.family);
        Deferred::spawn(async move {
            let lookup = blocking::unblock({
                let name = name.clone();
                move || {
                    (name.as_str(), port)
                        .to_socket_addrs()
                        .map(Iterator::collect::<Vec<_>>)
                }
            });
            let found = crate::runtime::timeout(timeout, lookup)
                .await
                .map_err(|_| Error::timed_out(timeout))?
                .map_err(|error| {
                    Error::from(std::io::Error::new(
                        error.kind(),
                        format!("could not resolve {name}: {error}"),
                    ))
                })?;
            let ordered = order(found, family);
            if ordered.is_empty() {
                return Err(Error::msg(format!(
                    "{name} has no address of the family asked for"
                )));
            }
            Ok(ordered)
        })
    }
}

fn order(addresses: Vec<SocketAddr>, family: AddressFamily) -> Vec<SocketAddr> {
    let (v4, v6): (Vec<_>, Vec<_>) = addresses.into_iter().partition(SocketAddr::is_ipv4);
    match family {
        AddressFamily::Any => interleave(v6, v4),
        AddressFamily::Ipv4First => [v4, v6].concat(),
        AddressFamily::Ipv6First => [v6, v4].concat(),
        AddressFamily::Ipv4Only => v4,
        AddressFamily::Ipv6Only => v6,
    }
}

/// Alternates the families, as RFC 8305 suggests (IPv6 first).
fn interleave(first: Vec<SocketAddr>, second: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let mut out = Vec::with_capacity(first.len() + second.len());
    let (mut a, mut b) = (first.into_iter(), second.into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return out,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
}

/// How long one address gets before the next one is tried alongside (RFC 8305's 250 ms).
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Connects to `host:port`: an IP literal directly, a name through `resolver`, then the
/// addresses raced happy-eyeballs style (the next started when the previous has not connected
/// within 250 ms or failed); the first to connect wins.
pub(crate) async fn connect(
    resolver: &Arc<dyn Resolve>,
    host: &str,
    port: u16,
) -> Result<async_net::TcpStream, Error> {
    let addresses = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => resolver.resolve(host, port).await?,
    };
    if addresses.is_empty() {
        return Err(Error::msg(format!("{host} resolved to no address")));
    }
    race(addresses, host, port).await
}

async fn race(
    addresses: Vec<SocketAddr>,
    host: &str,
    port: u16,
) -> Result<async_net::TcpStream, Error> {
    let mut last_error = None;
    let mut pending: Vec<
        std::pin::Pin<
            Box<dyn std::future::Future<Output = std::io::Result<async_net::TcpStream>> + Send>,
        >,
    > = Vec::new();
    let mut next = addresses.into_iter();
    loop {
        if let Some(address) = next.next() {
            pending.push(Box::pin(async_net::TcpStream::connect(address)));
        }
        if pending.is_empty() {
            let error = last_error.unwrap_or_else(|| std::io::Error::other("no address"));
            return Err(Error::from(std::io::Error::new(
                error.kind(),
                format!("could not connect to {host}:{port}: {error}"),
            )));
        }
        let more = next.len() > 0;
        // The first attempt to finish, or the delay before starting the next address.
        let outcome = future::or(
            async {
                let (index, outcome) = future::poll_fn(|cx| {
                    for (index, attempt) in pending.iter_mut().enumerate() {
                        if let std::task::Poll::Ready(outcome) = attempt.as_mut().poll(cx) {
                            return std::task::Poll::Ready((index, outcome));
                        }
                    }
                    std::task::Poll::Pending
                })
                .await;
                Some((index, outcome))
            },
            async {
                if more {
                    crate::runtime::sleep(ATTEMPT_DELAY).await;
                    None
                } else {
                    future::pending().await
                }
            },
        )
        .await;
        match outcome {
            None => continue,
            Some((_, Ok(stream))) => return Ok(stream),
            Some((index, Err(error))) => {
                drop(pending.swap_remove(index));
                last_error = Some(error);
            }
        }
    }
}

impl fmt::Debug for dyn Resolve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("dyn Resolve")
    }
}
