//! The server and its connections in the stream graph: addresses, protocol, requests in
//! flight, bytes in and out.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};

use crate::stream::{Description, Edge, Node, Vertex};
use crate::tcp::ConnectionInfo;

use super::activity::Activity;

/// The server's vertex: one edge per open connection.
pub(crate) struct ServerVertex {
    label: String,
    connections: Mutex<Connections>,
    closed: AtomicBool,
}

#[derive(Default)]
struct Connections {
    next_id: u64,
    open: HashMap<u64, Arc<ConnectionVertex>>,
}

impl ServerVertex {
    pub(crate) fn new(label: String) -> Arc<ServerVertex> {
        Arc::new(ServerVertex {
            label,
            connections: Mutex::new(Connections::default()),
            closed: AtomicBool::new(false),
        })
    }

    pub(crate) fn mark_closed(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Lists a connection until the returned registration is dropped.
    pub(crate) fn register(self: &Arc<Self>, info: &Arc<ConnectionInfo>) -> Registration {
        let vertex = Arc::new(ConnectionVertex {
            info: info.clone(),
            protocol: Mutex::new(None),
            activity: Mutex::new(None),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
        });
        let mut connections = self.lock();
        connections.next_id += 1;
        let id = connections.next_id;
        connections.open.insert(id, vertex.clone());
        Registration {
            server: self.clone(),
            id,
            vertex,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connections> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Vertex for ServerVertex {
    fn description(&self) -> Description {
        let mut description = Description::new("http-server");
        description.label = Some(self.label.clone());
        description.closed = self.closed.load(Ordering::Acquire);
        description
            .extra
            .push(("connections".into(), self.lock().open.len().to_string()));
        description
    }

    fn edges(&self) -> Vec<Edge> {
        self.lock()
            .open
            .values()
            .map(|connection| Edge {
                description: Some("connection".to_string()),
                target: Node::new(connection.clone()),
            })
            .collect()
    }
}

/// One connection's vertex.
pub(crate) struct ConnectionVertex {
    info: Arc<ConnectionInfo>,
    /// Set when the protocol is chosen, and again if an `Upgrade: h2c` switches it.
    protocol: Mutex<Option<&'static str>>,
    activity: Mutex<Option<Arc<Activity>>>,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl Vertex for ConnectionVertex {
    fn description(&self) -> Description {
        let mut description = Description::new("http-connection");
        description.label = Some(format!(
            "{} -> {}",
            self.info.remote_addr(),
            self.info.local_addr()
        ));
        let extra = &mut description.extra;
        extra.push((
            "protocol".into(),
            self.protocol
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .unwrap_or("unknown")
                .to_string(),
        ));
        if self.info.is_tls() {
            extra.push(("tls".into(), "true".to_string()));
        }
        let in_flight = self
            .activity
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, |activity| activity.in_flight());
        extra.push(("in_flight".into(), in_flight.to_string()));
        extra.push((
            "bytes_in".into(),
            self.bytes_in.load(Ordering::Relaxed).to_string(),
        ));
        extra.push((
            "bytes_out".into(),
            self.bytes_out.load(Ordering::Relaxed).to_string(),
        ));
        description
    }

    fn edges(&self) -> Vec<Edge> {
        Vec::new()
    }
}

/// A listed connection; dropping it takes the connection off the graph.
pub(crate) struct Registration {
    server: Arc<ServerVertex>,
    id: u64,
    vertex: Arc<ConnectionVertex>,
}

impl Registration {
    pub(crate) fn set_protocol(&self, protocol: &'static str) {
        *self
            .vertex
            .protocol
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(protocol);
    }

    pub(crate) fn set_activity(&self, activity: &Arc<Activity>) {
        *self
            .vertex
            .activity
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(activity.clone());
    }

    /// `io`, counting the bytes it moves into this connection's vertex.
    pub(crate) fn count<T>(&self, io: T) -> Counted<T> {
        Counted {
            io,
            vertex: self.vertex.clone(),
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.server.lock().open.remove(&self.id);
    }
}

/// An I/O that counts the bytes read and written.
#[derive(Debug)]
pub(crate) struct Counted<T> {
    pub(crate) io: T,
    vertex: Arc<ConnectionVertex>,
}

impl std::fmt::Debug for ConnectionVertex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionVertex").finish_non_exhaustive()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        this.vertex.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        Poll::Ready(Ok(n))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.io).poll_write(cx, buf))?;
        this.vertex.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.io).poll_write_vectored(cx, bufs))?;
        this.vertex.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_close(cx)
    }
}
