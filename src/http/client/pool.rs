//! The connection pool: connections keyed by scheme, host and port; HTTP/1.1 connections
//! leased one request at a time and returned once their response body was read to its end,
//! HTTP/2 connections shared; limits per host and in total, a bounded queue of waiting
//! requests, idle connections reaped by one timer per pool.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

#[cfg(feature = "http2")]
use bytes::Bytes;

use crate::http::Body;
use crate::runtime;
use crate::{Deferred, Error};

use super::options::ClientOptions;
use super::timeout::{self, Phase};

/// Which pool a request's connection comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Connect to this Unix domain socket instead of resolving the host.
    pub(crate) unix_socket: Option<std::path::PathBuf>,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)?;
        if let Some(path) = &self.unix_socket {
            write!(f, " via {}", path.display())?;
        }
        Ok(())
    }
}

/// A live connection's sender.
pub(crate) enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Body>),
    #[cfg(feature = "http2")]
    Http2(h2::client::SendRequest<Bytes>),
}

/// What a connection's task watches: realized to drop the connection at once.
#[derive(Clone)]
pub(crate) struct Kill {
    #[cfg_attr(
        not(feature = "http2"),
        allow(dead_code, reason = "tells shared connections apart")
    )]
    id: u64,
    signal: Deferred<(), Error>,
    /// Why the connection's task closed it, when it did (a keep-alive PING unanswered): what
    /// its requests' errors then say.
    #[cfg_attr(
        not(feature = "http2"),
        allow(dead_code, reason = "HTTP/2 keep-alive only")
    )]
    why: Arc<std::sync::OnceLock<String>>,
}

impl Kill {
    pub(crate) fn new() -> Kill {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Kill {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            signal: Deferred::new().quiet(),
            why: Arc::default(),
        }
    }

    /// Records why the connection was closed; the first reason stays.
    #[cfg(feature = "http2")]
    pub(crate) fn closed_because(&self, why: String) {
        let _ = self.why.set(why);
    }

    /// Why the connection was closed, if its task said.
    #[cfg(feature = "http2")]
    pub(crate) fn why(&self) -> Option<&str> {
        self.why.get().map(String::as_str)
    }

    pub(crate) fn kill(&self) {
        self.signal.success(());
    }

    pub(crate) fn signal(&self) -> Deferred<(), Error> {
        self.signal.clone()
    }
}

/// One request's hold on a connection. Dropped without [`Pool::release`] (a request
/// cancelled, a body not read to its end), an HTTP/1.1 connection is closed.
pub(crate) struct Lease {
    pub(crate) sender: Option<Sender>,
    pub(crate) kill: Kill,
    pub(crate) key: Key,
    pub(crate) reused: bool,
    /// An HTTP/1.1 lease (its sender is taken out while the request runs).
    http1: bool,
    /// An HTTP/2 lease's count in its connection's streams in flight, held until the
    /// response body ends.
    #[cfg(feature = "http2")]
    pub(crate) stream: Option<StreamSlot>,
    released: bool,
    pool: Weak<PoolInner>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        if self.http1 {
            // Cancelled or failed mid-request: the connection's state is unknown.
            self.kill.kill();
        }
        if let Some(pool) = self.pool.upgrade() {
            let pool = Pool { inner: pool };
            let mut state = pool.state();
            if let Some(host) = state.hosts.get_mut(&self.key) {
                host.in_use = host.in_use.saturating_sub(1);
            }
        }
    }
}

struct Idle {
    sender: hyper::client::conn::http1::SendRequest<Body>,
    kill: Kill,
    since: Instant,
}

#[derive(Default)]
struct Host {
    idle: Vec<Idle>,
    #[cfg(feature = "http2")]
    shared: Vec<Shared>,
    /// Connections open or being made.
    open: usize,
    in_use: usize,
    waiters: VecDeque<Waiter>,
    /// A connection that may turn out HTTP/2 is being made: other requests wait to share it
    /// instead of opening connections of their own.
    h2_connecting: bool,
    /// The host answered ALPN with HTTP/1.1: connections may be made side by side.
    http1_only: bool,
    stats: Counters,
    /// The latest acquire latencies, in microseconds.
    acquire_latencies: VecDeque<u32>,
}

/// An HTTP/2 connection requests share, up to the server's limit of concurrent streams.
#[cfg(feature = "http2")]
struct Shared {
    sender: h2::client::SendRequest<Bytes>,
    kill: Kill,
    streams: Arc<std::sync::atomic::AtomicUsize>,
}

/// One stream in flight on a shared HTTP/2 connection; dropped, it frees its place and lets
/// a waiting request have it.
#[cfg(feature = "http2")]
pub(crate) struct StreamSlot {
    streams: Arc<std::sync::atomic::AtomicUsize>,
    pool: Weak<PoolInner>,
    key: Key,
}

#[cfg(feature = "http2")]
impl Drop for StreamSlot {
    fn drop(&mut self) {
        match self.pool.upgrade() {
            Some(inner) => {
                let pool = Pool { inner };
                let mut state = pool.state();
                self.streams.fetch_sub(1, Ordering::Relaxed);
                if let Some(host) = state.hosts.get_mut(&self.key) {
                    host.wake_one();
                }
            }
            None => {
                self.streams.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// A request waiting for a connection.
struct Waiter {
    id: u64,
    wake: Deferred<(), Error>,
}

impl Host {
    /// Lets the longest-waiting request try again.
    fn wake_one(&mut self) {
        if let Some(waiter) = self.waiters.pop_front() {
            waiter.wake.success(());
        }
    }

    /// Lets every waiting request try again.
    fn wake_all(&mut self) {
        for waiter in self.waiters.drain(..) {
            waiter.wake.success(());
        }
    }
}

/// Takes a waiting request out of the queue when it stops waiting (pool timeout, cancelled);
/// a wake-up it got but will not use is passed on.
struct WaitGuard<'a> {
    pool: &'a Pool,
    key: &'a Key,
    id: u64,
    woken: bool,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.state();
        if let Some(host) = state.hosts.get_mut(self.key) {
            let before = host.waiters.len();
            host.waiters.retain(|waiter| waiter.id != self.id);
            if host.waiters.len() == before && !self.woken {
                host.wake_one();
            }
        }
    }
}

/// Counters kept per host.
/// How many recent acquire latencies a host keeps for its percentiles.
const LATENCY_SAMPLES: usize = 1024;

#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    connects: u64,
    connect_failures: u64,
    requests: u64,
    reused: u64,
}

#[derive(Default)]
struct State {
    hosts: HashMap<Key, Host>,
    total: usize,
    reaper_running: bool,
}

pub(crate) struct PoolInner {
    pub(crate) options: ClientOptions,
    state: Mutex<State>,
}

/// The pool of one [`Client`](super::Client).
#[derive(Clone)]
pub(crate) struct Pool {
    inner: Arc<PoolInner>,
}

/// A snapshot of one host's connections, from [`Client::stats`](super::Client::stats).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostStats {
    /// `scheme://host:port`.
    pub host: String,
    /// Connections open (or being made).
    pub open: usize,
    /// Requests holding a connection now.
    pub in_use: usize,
    /// HTTP/1.1 connections idle in the pool.
    pub idle: usize,
    /// Requests waiting for a connection.
    pub queued: usize,
    /// Connections made since the client was created.
    pub connects: u64,
    /// Connection attempts that failed.
    pub connect_failures: u64,
    /// Requests sent.
    pub requests: u64,
    /// Requests sent on a reused connection.
    pub reused: u64,
    /// Percentiles (50th, 90th, 99th) of the time requests waited for a connection, over
    /// the latest 1 024 (connecting included); zero before any.
    pub acquire_latency: [Duration; 3],
}

fn percentiles(samples: &VecDeque<u32>) -> [Duration; 3] {
    if samples.is_empty() {
        return [Duration::ZERO; 3];
    }
    let mut sorted: Vec<u32> = samples.iter().copied().collect();
    sorted.sort_unstable();
    let at = |q: f64| {
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        Duration::from_micros(u64::from(sorted[index]))
    };
    [at(0.5), at(0.9), at(0.99)]
}

impl Pool {
    pub(crate) fn new(options: ClientOptions) -> Pool {
        Pool {
            inner: Arc::new(PoolInner {
                options,
                state: Mutex::new(State::default()),
            }),
        }
    }

    pub(crate) fn downgrade(&self) -> Weak<PoolInner> {
        Arc::downgrade(&self.inner)
    }

    pub(crate) fn upgrade(weak: &Weak<PoolInner>) -> Option<Pool> {
        weak.upgrade().map(|inner| Pool { inner })
    }

    pub(crate) fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn stats(&self) -> Vec<HostStats> {
        let state = self.state();
        let mut stats: Vec<HostStats> = state
            .hosts
            .iter()
            .map(|(key, host)| HostStats {
                host: key.to_string(),
                open: host.open,
                in_use: host.in_use,
                idle: host.idle.len(),
                queued: host.waiters.len(),
                connects: host.stats.connects,
                connect_failures: host.stats.connect_failures,
                requests: host.stats.requests,
                reused: host.stats.reused,
                acquire_latency: percentiles(&host.acquire_latencies),
            })
            .collect();
        stats.sort_by(|a, b| a.host.cmp(&b.host));
        stats
    }

    /// A connection for `key`: an idle or shared one, a new one within the limits, or the
    /// next one to come free (bounded by the pool timeout and the queue limit).
    pub(crate) async fn acquire(&self, key: &Key) -> Result<Lease, Error> {
        let started = Instant::now();
        let lease = self.acquire_inner(key).await?;
        let took = started.elapsed();
        let mut state = self.state();
        if let Some(host) = state.hosts.get_mut(key) {
            if host.acquire_latencies.len() >= LATENCY_SAMPLES {
                host.acquire_latencies.pop_front();
            }
            host.acquire_latencies
                .push_back(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        }
        Ok(lease)
    }

    async fn acquire_inner(&self, key: &Key) -> Result<Lease, Error> {
        let deadline = self
            .inner
            .options
            .pool_timeout
            .map(|t| (Instant::now() + t, t));
        loop {
            let waiter = {
                let mut state = self.state();
                let total = state.total;
                let options = &self.inner.options;
                let host = state.hosts.entry(key.clone()).or_default();
                host.stats.requests += 1;
                let may_be_h2 = cfg!(feature = "http2")
                    && !host.http1_only
                    && options.versions.contains(&crate::http::HttpVersion::Http2)
                    && (key.https || options.force_h2c);
                #[cfg(feature = "http2")]
                {
                    host.shared
                        .retain(|shared| !shared.kill.signal().is_realized());
                    // The first shared connection with room for one more stream.
                    let free = host.shared.iter().find(|shared| {
                        shared.streams.load(Ordering::Relaxed)
                            < shared.sender.current_max_send_streams()
                    });
                    if let Some(shared) = free {
                        shared.streams.fetch_add(1, Ordering::Relaxed);
                        let (sender, kill) = (shared.sender.clone(), shared.kill.clone());
                        let streams = shared.streams.clone();
                        host.stats.reused += 1;
                        host.in_use += 1;
                        let mut lease = self.lease(Sender::Http2(sender), kill, key, true);
                        lease.stream = Some(self.slot(streams, key));
                        return Ok(lease);
                    }
                }
                let expiry = options.idle_timeout;
                while let Some(idle) = host.idle.pop() {
                    let expired = expiry.is_some_and(|t| idle.since.elapsed() >= t);
                    if idle.sender.is_closed() || expired {
                        idle.kill.kill();
                        continue;
                    }
                    host.stats.reused += 1;
                    host.in_use += 1;
                    return Ok(self.lease(Sender::Http1(idle.sender), idle.kill, key, true));
                }
                if !host.h2_connecting
                    && host.open < options.connections_per_host
                    && total < options.total_connections
                {
                    host.h2_connecting = may_be_h2;
                    host.open += 1;
                    host.in_use += 1;
                    host.stats.connects += 1;
                    state.total += 1;
                    None
                } else {
                    host.stats.requests -= 1;
                    if host.waiters.len() >= options.max_queue_size {
                        return Err(Error::msg(format!(
                            "http client: {} requests already wait for a connection to {key}",
                            options.max_queue_size
                        )));
                    }
                    static NEXT: std::sync::atomic::AtomicU64 =
                        std::sync::atomic::AtomicU64::new(0);
                    let waiter = Waiter {
                        id: NEXT.fetch_add(1, Ordering::Relaxed),
                        wake: Deferred::new().quiet(),
                    };
                    let wait = (waiter.id, waiter.wake.clone());
                    host.waiters.push_back(waiter);
                    Some(wait)
                }
            };
            match waiter {
                None => return self.connect(key).await,
                Some((id, waiter)) => {
                    let mut guard = WaitGuard {
                        pool: self,
                        key,
                        id,
                        woken: false,
                    };
                    match deadline {
                        None => {
                            let _ = waiter.await;
                        }
                        Some((at, limit)) => {
                            let left = at.saturating_duration_since(Instant::now());
                            if runtime::timeout(left, waiter).await.is_err() {
                                return Err(timeout::error(
                                    Phase::PoolAcquire,
                                    &key.to_string(),
                                    limit,
                                ));
                            }
                        }
                    }
                    guard.woken = true;
                }
            }
        }
    }

    fn lease(&self, sender: Sender, kill: Kill, key: &Key, reused: bool) -> Lease {
        Lease {
            http1: matches!(sender, Sender::Http1(_)),
            sender: Some(sender),
            kill,
            key: key.clone(),
            reused,
            #[cfg(feature = "http2")]
            stream: None,
            released: false,
            pool: Arc::downgrade(&self.inner),
        }
    }

    #[cfg(feature = "http2")]
    fn slot(&self, streams: Arc<std::sync::atomic::AtomicUsize>, key: &Key) -> StreamSlot {
        StreamSlot {
            streams,
            pool: Arc::downgrade(&self.inner),
            key: key.clone(),
        }
    }

    /// Makes a connection counted by `acquire`; on failure uncounts it.
    async fn connect(&self, key: &Key) -> Result<Lease, Error> {
        let outcome = super::connect::connect(key, &self.inner.options).await;
        match outcome {
            Ok((sender, kill, task)) => {
                let pool = Arc::downgrade(&self.inner);
                let key_for_task = key.clone();
                let kill_for_task = kill.clone();
                runtime::spawn_detached_on(self.inner.options.executor.as_ref(), async move {
                    let signal = kill_for_task.signal();
                    futures_lite::future::or(task, async {
                        let _ = signal.await;
                    })
                    .await;
                    if let Some(pool) = pool.upgrade() {
                        Pool { inner: pool }.connection_closed(&key_for_task, &kill_for_task);
                    }
                });
                #[cfg(feature = "http2")]
                let mut slot = None;
                {
                    let mut state = self.state();
                    let host = state.hosts.entry(key.clone()).or_default();
                    let was_h2_connecting = std::mem::take(&mut host.h2_connecting);
                    match &sender {
                        #[cfg(feature = "http2")]
                        Sender::Http2(shared) => {
                            // This request's stream is the first.
                            let streams = Arc::new(std::sync::atomic::AtomicUsize::new(1));
                            host.shared.push(Shared {
                                sender: shared.clone(),
                                kill: kill.clone(),
                                streams: streams.clone(),
                            });
                            slot = Some(streams);
                            // Requests waiting for this host can share it now.
                            host.wake_all();
                        }
                        Sender::Http1(_) => {
                            if was_h2_connecting {
                                // Not HTTP/2 after all: the waiting requests may connect.
                                host.http1_only = true;
                                host.wake_all();
                            }
                        }
                    }
                }
                #[allow(unused_mut, reason = "set only with HTTP/2")]
                let mut lease = self.lease(sender, kill, key, false);
                #[cfg(feature = "http2")]
                {
                    lease.stream = slot.map(|streams| self.slot(streams, key));
                }
                Ok(lease)
            }
            Err(error) => {
                let mut state = self.state();
                state.total -= 1;
                if let Some(host) = state.hosts.get_mut(key) {
                    host.open -= 1;
                    host.in_use -= 1;
                    host.stats.connect_failures += 1;
                    if std::mem::take(&mut host.h2_connecting) {
                        host.wake_all();
                    } else {
                        host.wake_one();
                    }
                }
                Err(error)
            }
        }
    }

    /// A connection's task ended: uncount it and let a waiting request try again.
    fn connection_closed(&self, key: &Key, kill: &Kill) {
        let mut state = self.state();
        state.total = state.total.saturating_sub(1);
        if let Some(host) = state.hosts.get_mut(key) {
            host.open = host.open.saturating_sub(1);
            #[cfg(feature = "http2")]
            host.shared.retain(|shared| shared.kill.id != kill.id);
            let _ = kill;
            host.wake_one();
        }
        // The host's entry stays: its counters are since the client was created.
    }
}

impl PoolInner {
    /// Ends a lease: an HTTP/1.1 connection whose response was read to its end goes back to
    /// the pool (`reusable`), any other is closed.
    pub(crate) fn release(self: &Arc<Self>, mut lease: Lease, reusable: bool) {
        lease.released = true;
        let sender = lease.sender.take();
        let pool = Pool {
            inner: self.clone(),
        };
        let mut state = pool.state();
        let Some(host) = state.hosts.get_mut(&lease.key) else {
            lease.kill.kill();
            return;
        };
        host.in_use = host.in_use.saturating_sub(1);
        match sender {
            Some(Sender::Http1(sender)) if reusable && self.options.keep_alive => {
                host.idle.push(Idle {
                    sender,
                    kill: lease.kill.clone(),
                    since: Instant::now(),
                });
                host.wake_one();
                let start_reaper = !state.reaper_running && self.options.idle_timeout.is_some();
                if start_reaper {
                    state.reaper_running = true;
                }
                drop(state);
                if start_reaper {
                    let weak = Arc::downgrade(self);
                    runtime::spawn_detached(reap(weak));
                }
            }
            Some(Sender::Http1(_)) => lease.kill.kill(),
            _ => {}
        }
    }
}

impl Lease {
    /// Stops handing out this lease's shared HTTP/2 connection (it is going away), leaving
    /// the streams in flight on it to finish.
    #[cfg(feature = "http2")]
    pub(crate) fn retire(&self) {
        if let Some(inner) = self.pool.upgrade() {
            let pool = Pool { inner };
            let mut state = pool.state();
            if let Some(host) = state.hosts.get_mut(&self.key) {
                host.shared.retain(|shared| shared.kill.id != self.kill.id);
            }
        }
    }

    /// Hands the lease back to its pool.
    pub(crate) fn release(self, reusable: bool) {
        match self.pool.upgrade() {
            Some(pool) => pool.release(self, reusable),
            None => drop(self),
        }
    }
}

/// Closes idle connections past the idle timeout; stops once none is idle.
async fn reap(pool: Weak<PoolInner>) {
    loop {
        let Some(inner) = pool.upgrade() else { return };
        let Some(timeout) = inner.options.idle_timeout else {
            return;
        };
        let next = {
            let pool = Pool {
                inner: inner.clone(),
            };
            let mut state = pool.state();
            let mut earliest: Option<Instant> = None;
            for host in state.hosts.values_mut() {
                host.idle.retain(|idle| {
                    let expires = idle.since + timeout;
                    if expires <= Instant::now() || idle.sender.is_closed() {
                        idle.kill.kill();
                        false
                    } else {
                        earliest = Some(earliest.map_or(expires, |e| e.min(expires)));
                        true
                    }
                });
            }
            if earliest.is_none() {
                state.reaper_running = false;
            }
            earliest
        };
        drop(inner);
        match next {
            None => return,
            Some(at) => {
                let wait = at.saturating_duration_since(Instant::now()) + Duration::from_millis(1);
                runtime::sleep(wait).await;
            }
        }
    }
}
