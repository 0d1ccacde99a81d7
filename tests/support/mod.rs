//! Helpers shared by the integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::sync::mpsc;
use std::time::Duration;

/// The bound on every wait in the tests: generous, so that a slow CI machine passes, while a
/// hang still fails instead of blocking forever.
pub const BOUND: Duration = Duration::from_secs(10);

/// Counts calls (of a handler, say).
#[derive(Clone, Default)]
pub struct Counter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Counter {
    pub fn hit(&self) -> usize {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
    }
    pub fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A value that reports its drop on a channel.
pub struct DropSignal(pub mpsc::Sender<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// A value that cannot be cloned, as a connection cannot.
#[derive(Debug, PartialEq, Eq)]
pub struct Connection(pub u32);

#[cfg(feature = "tcp")]
pub mod tcp;

/// HTTP and SOCKS5 proxies on loopback.
#[cfg(feature = "tcp")]
pub mod proxy;

// HTTP/2 and TLS too: the client helpers cover all three protocols.
#[cfg(all(feature = "http1", feature = "http2", feature = "tls"))]
pub mod http_client;

/// Runs a future to completion on the current thread, failing the test after [`BOUND`].
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    weir::runtime::block_on(weir::runtime::timeout(BOUND, future)).expect("test timed out")
}

#[cfg(all(feature = "http2", feature = "tls"))]
pub mod http;

/// The Python HTTP peers (h2, httpx).
#[cfg(feature = "http1")]
pub mod http_peer;

#[cfg(feature = "ws")]
pub mod ws_interop;

/// Interop peers run as child processes that report JSON events.
#[cfg(feature = "ws")]
pub mod peer_process;
