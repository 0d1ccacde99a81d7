//! `WebSocket`: an open WebSocket as a weir duplex stream, a splice of an outbound channel
//! (drained by the connection's task) and an inbound channel (filled by it).

use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};

use bytes::Bytes;
use http::HeaderMap;

use crate::stream::{self, Channel, Description, Edge, Edges, Node, Sink, Splice, Vertex};
use crate::{Deferred, Error};

use super::close::CloseFrame;
use super::codec::{Agreement, Role};
use super::message::Message;

/// A message on its way out and its acknowledgement, realized once it is written. Of a run
/// sent together only the last carries one: they are written in order, and `poll_flush` waits
/// for the last.
pub(crate) struct Outgoing {
    pub(crate) message: Message,
    pub(crate) written: Option<Deferred<(), Error>>,
}

/// What the handles, the connection's task and the graph node share.
pub(crate) struct State {
    inner: Mutex<Inner>,
    pub(crate) role: Role,
    pub(crate) local_addr: Option<SocketAddr>,
    pub(crate) remote_addr: Option<SocketAddr>,
    pub(crate) subprotocol: Option<String>,
    pub(crate) agreement: Option<Agreement>,
    pub(crate) headers: HeaderMap,
    /// The server's 101 headers, for the handler's response.
    pub(crate) response_headers: Option<HeaderMap>,
    /// The server's 101 was made (the handler answered with the socket).
    pub(crate) responded: std::sync::atomic::AtomicBool,
    /// Realized once the connection's task is done and the connection closed.
    pub(crate) closed: Deferred<(), Error>,
}

#[derive(Default)]
struct Inner {
    waker: Option<Waker>,
    phase: Phase,
    /// A ping asked for and not yet written.
    ping_request: Option<Bytes>,
    /// A ping was written and its pong has not arrived.
    ping_outstanding: bool,
    ping_waiters: Vec<Deferred<bool, Error>>,
    close_request: Option<(u16, String)>,
    close_waiters: Vec<(Deferred<bool, Error>, bool)>,
    /// What the peer's close frame said, or 1006.
    received: Option<CloseFrame>,
    /// What this end closed with because of the peer (a protocol error, a heartbeat timeout).
    local_failure: Option<CloseFrame>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    /// The server's socket before the 101 was sent and the connection handed over.
    #[default]
    Connecting,
    Open,
    Closing,
    Closed,
}

impl State {
    pub(crate) fn new(
        role: Role,
        addresses: (Option<SocketAddr>, Option<SocketAddr>),
        subprotocol: Option<String>,
        agreement: Option<Agreement>,
        headers: HeaderMap,
    ) -> State {
        State {
            inner: Mutex::new(Inner::default()),
            role,
            local_addr: addresses.0,
            remote_addr: addresses.1,
            subprotocol,
            agreement,
            headers,
            response_headers: None,
            responded: std::sync::atomic::AtomicBool::new(false),
            closed: Deferred::new().quiet(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wake(&self, inner: std::sync::MutexGuard<'_, Inner>) {
        let waker = inner.waker.clone();
        drop(inner);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn register(&self, waker: &Waker) {
        let mut inner = self.lock();
        match &inner.waker {
            Some(known) if known.will_wake(waker) => {}
            _ => inner.waker = Some(waker.clone()),
        }
    }

    pub(crate) fn set_open(&self) {
        let mut inner = self.lock();
        if inner.phase == Phase::Connecting {
            inner.phase = Phase::Open;
        }
    }

    pub(crate) fn set_closing(&self) {
        let mut inner = self.lock();
        if matches!(inner.phase, Phase::Connecting | Phase::Open) {
            inner.phase = Phase::Closing;
        }
    }

    pub(crate) fn set_received(&self, status: CloseFrame) {
        let mut inner = self.lock();
        if inner.received.is_none() {
            inner.received = Some(status);
        }
    }

    pub(crate) fn set_local_failure(&self, status: CloseFrame) {
        let mut inner = self.lock();
        if inner.local_failure.is_none() {
            inner.local_failure = Some(status);
        }
    }

    pub(crate) fn has_status(&self) -> bool {
        self.lock().received.is_some()
    }

    pub(crate) fn take_ping_request(&self) -> Option<Bytes> {
        let mut inner = self.lock();
        let payload = inner.ping_request.take()?;
        inner.ping_outstanding = true;
        Some(payload)
    }

    /// The heartbeat's ping, unless one is outstanding already.
    pub(crate) fn request_heartbeat(&self, payload: Bytes) {
        let mut inner = self.lock();
        if !inner.ping_outstanding && inner.ping_request.is_none() {
            inner.ping_request = Some(payload);
        }
    }

    pub(crate) fn ponged(&self) {
        let waiters = {
            let mut inner = self.lock();
            inner.ping_outstanding = false;
            std::mem::take(&mut inner.ping_waiters)
        };
        for waiter in waiters {
            waiter.success(true);
        }
    }

    pub(crate) fn take_close_request(&self) -> Option<(u16, String)> {
        self.lock().close_request.take()
    }

    /// The connection is closed: pings and closes waiting are answered.
    pub(crate) fn finished(&self) {
        let (pings, closes) = {
            let mut inner = self.lock();
            inner.phase = Phase::Closed;
            inner.ping_request = None;
            (
                std::mem::take(&mut inner.ping_waiters),
                std::mem::take(&mut inner.close_waiters),
            )
        };
        for waiter in pings {
            waiter.success(false);
        }
        for (waiter, initiated) in closes {
            waiter.success(initiated);
        }
        self.closed.success(());
    }

    fn ping(&self, payload: Bytes) -> Deferred<bool, Error> {
        let answer = Deferred::new();
        let mut inner = self.lock();
        if matches!(inner.phase, Phase::Closing | Phase::Closed) {
            answer.success(false);
            return answer;
        }
        inner.ping_waiters.push(answer.clone());
        if !inner.ping_outstanding && inner.ping_request.is_none() {
            inner.ping_request = Some(payload);
        }
        self.wake(inner);
        answer
    }

    fn close(&self, code: u16, reason: String) -> Deferred<bool, Error> {
        let answer = Deferred::new();
        let mut inner = self.lock();
        match inner.phase {
            Phase::Closed => {
                answer.success(false);
                return answer;
            }
            Phase::Closing => inner.close_waiters.push((answer.clone(), false)),
            Phase::Connecting | Phase::Open => {
                inner.phase = Phase::Closing;
                inner.close_request = Some((code, reason));
                inner.close_waiters.push((answer.clone(), true));
            }
        }
        self.wake(inner);
        answer
    }

    fn phase_name(&self) -> &'static str {
        match self.lock().phase {
            Phase::Connecting => "connecting",
            Phase::Open => "open",
            Phase::Closing => "closing",
            Phase::Closed => "closed",
        }
    }
}

/// Builds the channels and the handle of a new socket; the caller starts the connection's
/// task with the returned channels.
pub(crate) fn socket(
    state: State,
    inbound_buffer: usize,
) -> (WebSocket, Channel<Message>, Channel<Outgoing>) {
    let label = match (state.role, state.remote_addr) {
        (Role::Server, Some(remote)) => format!("websocket from {remote}"),
        (Role::Client, Some(remote)) => format!("websocket to {remote}"),
        _ => "websocket".to_owned(),
    };
    let inbound = Channel::builder()
        .capacity(inbound_buffer)
        .description(format!("{label} inbound"))
        .build();
    let outbound = Channel::builder()
        .capacity(64)
        .description(format!("{label} outbound"))
        .build();
    let state = Arc::new(state);
    let vertex = Arc::new(SocketVertex {
        state: state.clone(),
        sink: outbound.node(),
        source: inbound.node(),
        edges: Edges::default(),
    });
    let shared = Arc::new(Shared {
        state,
        inbound: inbound.clone(),
        outbound: outbound.clone(),
        vertex,
    });
    let splice = stream::splice::<Message, _, _>(
        Outbound {
            channel: outbound.clone(),
            written: None,
            batch: std::collections::VecDeque::new(),
        },
        inbound.clone(),
    );
    let driver_inbound = inbound.into_put_only();
    let driver_outbound = outbound.into_take_only();
    (
        WebSocket { splice, shared },
        driver_inbound,
        driver_outbound,
    )
}

/// An open WebSocket as a weir duplex stream: a [`Source`](crate::stream::Source) of the inbound [`Message`]s and a
/// [`Sink`] of anything that converts into one (`String`/`&str` send text, byte types send
/// binary). Returned by [`websocket_connection`](super::websocket_connection) (the server's
/// end) and [`websocket_client`](super::websocket_client) (the client's). An echo server is
/// `connect(socket.clone(), socket)`, as in Aleph.
///
/// One task on weir's executor runs the connection:
///
/// - It reads frames, joins fragments, checks UTF-8 and sizes, inflates compressed messages,
///   and puts each message into the inbound channel (16 messages by default,
///   [`inbound_buffer`](super::WebSocketOptions::inbound_buffer)). While a message waits for
///   room nothing more is read, so a slow consumer stops the peer (backpressure end to end).
/// - It writes what is put, as one frame a message, and gathers what waits into one write; a
///   put (`SinkExt::send`, `poll_flush`) completes once the frame was
///   written to the socket.
/// - Pings are answered with pongs; [`ping`](WebSocket::ping) and heartbeats send pings.
///
/// Closing:
///
/// - [`close`](WebSocket::close) sends a close frame with a code and reason, after what was
///   already put; closing the sink (`SinkExt::close`, [`Sink::close_now`]), closing the source
///   ([`Source::close`](crate::stream::Source::close)) or dropping every handle sends one with 1000. Inbound messages that
///   arrive before the peer's answer can still be taken.
/// - A close frame from the peer is answered with one with the same code. The inbound source
///   then drains: cleanly (`drained` is `Ok`) for 1000, 1001 and a close frame without a code
///   ([`CloseFrame::is_normal`]); otherwise with an error whose source is the [`CloseFrame`].
/// - The server closes the TCP connection once both close frames are through; the client
///   waits for it to do so (RFC 6455 7.1.1; aleph#478), at most the close timeout.
/// - A connection that ends without a close frame, or a closing handshake that times out,
///   reports 1006. A peer that breaks the protocol gets a close frame with 1002, 1007 (text
///   not UTF-8) or 1009 (too big), and the inbound source drains with a
///   [protocol error](Error::is_protocol) whose source is that `CloseFrame`.
///
/// The graph node has kind `websocket`, edges to the two channels, and extras: `role`,
/// `state` (`connecting`, `open`, `closing`, `closed`), `local`, `remote`, `subprotocol`,
/// `compression` (the agreed permessage-deflate parameters) and `close` (the status
/// received, as `1000 reason`).
///
/// Handles are cheap to clone and share the socket.
///
/// # Examples
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use weir::http::{self, Body, Request, ServerOptions};
/// use weir::stream::{self, ConnectOptions};
/// use weir::ws::{self, Message, WebSocketClientOptions, WebSocketOptions};
///
/// # weir::runtime::block_on(async {
/// // An echo server: each socket is connected to itself.
/// let echo = |mut request: Request<Body>| async move {
///     let socket = ws::websocket_connection(&mut request, WebSocketOptions::new()).await?;
///     stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
///     Ok::<_, weir::Error>(socket) // the 101 that completes the upgrade
/// };
/// let server = http::start_server(echo, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
///
/// let url = format!("ws://127.0.0.1:{}/", server.port());
/// let mut client = ws::websocket_client(&url, WebSocketClientOptions::new()).await.unwrap();
/// client.send("hello").await.unwrap();
/// assert_eq!(client.next().await, Some(Message::from("hello")));
/// assert!(client.close(1000, "done").await.unwrap());
/// assert_eq!(client.close_status().unwrap().code(), 1000);
/// # server.close().await.unwrap();
/// # });
/// ```
pub struct WebSocket {
    splice: Splice<Outbound, Channel<Message>>,
    shared: Arc<Shared>,
}

/// What every handle shares; dropping the last one closes the socket (a close frame with
/// 1000).
struct Shared {
    state: Arc<State>,
    inbound: Channel<Message>,
    outbound: Channel<Outgoing>,
    vertex: Arc<SocketVertex>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.inbound.close();
        self.outbound.close();
    }
}

impl WebSocket {
    pub(crate) fn state(&self) -> &Arc<State> {
        &self.shared.state
    }

    /// Sends a ping: the deferred is `true` when a pong arrives, `false` when the socket
    /// closes first. While a ping waits for its pong, another one is not sent: it waits for
    /// the same pong (as Aleph's `websocket-ping`). At most 125 bytes of `payload` are sent.
    ///
    /// # Cancel safety
    ///
    /// Dropping the deferred does not withdraw the ping.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::http::{self, Body, Request, ServerOptions};
    /// # use weir::ws::{self, WebSocketClientOptions, WebSocketOptions};
    /// # weir::runtime::block_on(async {
    /// # let handler = |mut request: Request<Body>| async move {
    /// #     let socket = ws::websocket_connection(&mut request, WebSocketOptions::new()).await?;
    /// #     weir::stream::connect(socket.clone(), socket.clone(), Default::default());
    /// #     Ok::<_, weir::Error>(socket)
    /// # };
    /// # let server = http::start_server(handler, ServerOptions::new().address(([127, 0, 0, 1], 0)))
    /// #     .await
    /// #     .unwrap();
    /// # let url = format!("ws://127.0.0.1:{}/", server.port());
    /// let client = ws::websocket_client(&url, WebSocketClientOptions::new()).await.unwrap();
    /// assert!(client.ping("are you there?").await.unwrap());
    /// # server.close().await.unwrap();
    /// # });
    /// ```
    pub fn ping(&self, payload: impl Into<Bytes>) -> Deferred<bool, Error> {
        self.shared.state.ping(payload.into())
    }

    /// Starts the closing handshake with `code` and `reason`, after what was already put. The
    /// deferred is realized once the handshake is over (both close frames through and the
    /// connection closed) or the close timeout passed: `true` if this call started it,
    /// `false` if the socket was already closing or closed. A code that may not be sent
    /// (outside 1000-1003, 1007-1014 and 3000-4999) or a reason longer than 123 bytes fails
    /// the deferred at once and sends nothing.
    ///
    /// # Cancel safety
    ///
    /// Dropping the deferred does not stop the handshake.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::http::{self, Body, Request, ServerOptions};
    /// # use weir::ws::{self, WebSocketClientOptions, WebSocketOptions};
    /// # weir::runtime::block_on(async {
    /// # let handler = |mut request: Request<Body>| async move {
    /// #     let socket = ws::websocket_connection(&mut request, WebSocketOptions::new()).await?;
    /// #     weir::stream::connect(socket.clone(), socket.clone(), Default::default());
    /// #     Ok::<_, weir::Error>(socket)
    /// # };
    /// # let server = http::start_server(handler, ServerOptions::new().address(([127, 0, 0, 1], 0)))
    /// #     .await
    /// #     .unwrap();
    /// # let url = format!("ws://127.0.0.1:{}/", server.port());
    /// let client = ws::websocket_client(&url, WebSocketClientOptions::new()).await.unwrap();
    /// assert!(client.close(1005, "").await.is_err(), "1005 may not be sent");
    /// assert!(client.close(4001, "bye").await.unwrap());
    /// assert!(!client.close(1000, "").await.unwrap(), "already closed");
    /// # server.close().await.unwrap();
    /// # });
    /// ```
    pub fn close(&self, code: u16, reason: &str) -> Deferred<bool, Error> {
        if !super::codec::is_valid_close_code(code) {
            return Deferred::failed(Error::msg(format!(
                "websocket close code {code} may not be sent"
            )));
        }
        if reason.len() > 123 {
            return Deferred::failed(Error::msg(format!(
                "websocket close reason of {} bytes (at most 123)",
                reason.len()
            )));
        }
        self.shared.state.close(code, reason.to_owned())
    }

    /// The close status received: the peer's close frame (1005 when it had no code), or 1006
    /// when the connection ended without one or the closing handshake timed out. `None` while
    /// the socket is open.
    ///
    /// ```
    /// # use weir::http::{self, Body, Request, ServerOptions};
    /// # use weir::ws::{self, WebSocketClientOptions, WebSocketOptions};
    /// # weir::runtime::block_on(async {
    /// # let handler = |mut request: Request<Body>| async move {
    /// #     let socket = ws::websocket_connection(&mut request, WebSocketOptions::new()).await?;
    /// #     weir::stream::connect(socket.clone(), socket.clone(), Default::default());
    /// #     Ok::<_, weir::Error>(socket)
    /// # };
    /// # let server = http::start_server(handler, ServerOptions::new().address(([127, 0, 0, 1], 0)))
    /// #     .await
    /// #     .unwrap();
    /// # let url = format!("ws://127.0.0.1:{}/", server.port());
    /// let client = ws::websocket_client(&url, WebSocketClientOptions::new()).await.unwrap();
    /// assert!(client.close_status().is_none());
    /// client.close(3000, "done").await.unwrap();
    /// assert_eq!(client.close_status().unwrap().code(), 3000, "the server echoes the code");
    /// # server.close().await.unwrap();
    /// # });
    /// ```
    pub fn close_status(&self) -> Option<CloseFrame> {
        let inner = self.shared.state.lock();
        inner.received.clone()
    }

    /// The subprotocol both sides agreed on, if any.
    ///
    /// ```no_run
    /// # weir::runtime::block_on(async {
    /// let options = weir::ws::WebSocketClientOptions::new().subprotocols(["chat"]);
    /// let socket = weir::ws::websocket_client("ws://127.0.0.1:9000/", options).await.unwrap();
    /// println!("{:?}", socket.subprotocol());
    /// # });
    /// ```
    pub fn subprotocol(&self) -> Option<&str> {
        self.shared.state.subprotocol.as_deref()
    }

    /// True when permessage-deflate was agreed.
    ///
    /// ```no_run
    /// # weir::runtime::block_on(async {
    /// let options = weir::ws::WebSocketClientOptions::new()
    ///     .compression(weir::ws::DeflateOptions::new());
    /// let socket = weir::ws::websocket_client("ws://127.0.0.1:9000/", options).await.unwrap();
    /// println!("compressed: {}", socket.is_compressed());
    /// # });
    /// ```
    pub fn is_compressed(&self) -> bool {
        self.shared.state.agreement.is_some()
    }

    /// The other side's handshake headers: the upgrade request's on the server, the 101
    /// response's on the client (Aleph's `:websocket-handshake-headers`).
    ///
    /// ```no_run
    /// # weir::runtime::block_on(async {
    /// let socket = weir::ws::websocket_client("ws://127.0.0.1:9000/", Default::default())
    ///     .await
    ///     .unwrap();
    /// assert!(socket.handshake_headers().contains_key("sec-websocket-accept"));
    /// # });
    /// ```
    pub fn handshake_headers(&self) -> &HeaderMap {
        &self.shared.state.headers
    }

    /// This end's address, when known.
    ///
    /// ```no_run
    /// # weir::runtime::block_on(async {
    /// let socket = weir::ws::websocket_client("ws://127.0.0.1:9000/", Default::default())
    ///     .await
    ///     .unwrap();
    /// println!("{:?}", socket.local_addr());
    /// # });
    /// ```
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.shared.state.local_addr
    }

    /// The other end's address, when known.
    ///
    /// ```no_run
    /// # weir::runtime::block_on(async {
    /// let socket = weir::ws::websocket_client("ws://127.0.0.1:9000/", Default::default())
    ///     .await
    ///     .unwrap();
    /// assert_eq!(socket.remote_addr().unwrap().port(), 9000);
    /// # });
    /// ```
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.shared.state.remote_addr
    }

    /// Realized once the connection is closed and its task done.
    ///
    /// ```no_run
    /// # weir::runtime::block_on(async {
    /// let socket = weir::ws::websocket_client("ws://127.0.0.1:9000/", Default::default())
    ///     .await
    ///     .unwrap();
    /// socket.close(1000, "");
    /// socket.socket_closed().await.unwrap();
    /// # });
    /// ```
    pub fn socket_closed(&self) -> Deferred<(), Error> {
        self.shared.state.closed.clone()
    }
}

stream::splice_duplex!(
    WebSocket,
    item: Message,
    accepts: Into<Message>,
    source_doc: "Taking yields inbound messages; the source is drained when the peer closed \
                 (with the close status as the cause unless it was a normal one). Closing \
                 closes both sides.",
    sink_doc: "Sending writes a message: `poll_flush` (so `SinkExt::send`) completes once every \
               message sent was written. `poll_close` starts the closing handshake (1000) after \
               what was sent: inbound messages can still be taken until the peer answers.",
    extra: {
        fn room(&self) -> usize {
            Sink::<T>::room(&self.splice)
        }

        fn start_send_all(
            mut self: Pin<&mut Self>,
            messages: &mut std::collections::VecDeque<T>,
        ) -> Result<(), Error> {
            Pin::new(&mut self.splice).start_send_all(messages)
        }
    }
);

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.shared.state.role)
            .field("remote_addr", &self.shared.state.remote_addr)
            .field("state", &self.shared.state.phase_name())
            .finish_non_exhaustive()
    }
}

/// The outbound half of the splice: converts messages, and remembers the acknowledgement of
/// the last one for `poll_flush`.
struct Outbound {
    channel: Channel<Outgoing>,
    written: Option<Deferred<(), Error>>,
    /// `start_send_all`'s run of messages, kept to be reused: no allocation per run.
    batch: std::collections::VecDeque<Outgoing>,
}

impl Clone for Outbound {
    fn clone(&self) -> Self {
        Outbound {
            channel: self.channel.clone(),
            written: None,
            batch: std::collections::VecDeque::new(),
        }
    }
}

impl fmt::Debug for Outbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbound")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

fn refused(error: Error) -> Error {
    if error.is_closed() {
        Error::closed("websocket")
    } else {
        error
    }
}

impl<T: Into<Message>> futures_sink::Sink<T> for Outbound {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let ready = ready!(futures_sink::Sink::<Outgoing>::poll_ready(
            Pin::new(&mut self.channel),
            cx
        ));
        Poll::Ready(ready.map_err(refused))
    }

    fn start_send(mut self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        let written = Deferred::new().quiet();
        let outgoing = Outgoing {
            message: message.into(),
            written: Some(written.clone()),
        };
        futures_sink::Sink::start_send(Pin::new(&mut self.channel), outgoing).map_err(refused)?;
        self.written = Some(written);
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let flushed = ready!(futures_sink::Sink::<Outgoing>::poll_flush(
            Pin::new(&mut self.channel),
            cx
        ));
        if let Err(error) = flushed {
            self.written = None;
            return Poll::Ready(Err(refused(error)));
        }
        if let Some(written) = self.written.as_mut() {
            let outcome = ready!(Pin::new(written).poll(cx));
            self.written = None;
            outcome?;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(futures_sink::Sink::<T>::poll_flush(self.as_mut(), cx))?;
        futures_sink::Sink::<Outgoing>::poll_close(Pin::new(&mut self.channel), cx)
    }
}

impl<T: Into<Message>> Sink<T> for Outbound {
    fn node(&self) -> Node {
        self.channel.node()
    }

    fn poll_closed(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Sink::<Outgoing>::poll_closed(Pin::new(&mut self.channel), cx)
    }

    fn is_closed(&self) -> bool {
        self.channel.is_closed()
    }

    fn close_now(&self) {
        self.channel.close();
    }

    fn close_with_cause(&self, cause: Error) {
        self.channel.close_with_error(cause);
    }

    /// The outbound channel's free room: `connect` hands over runs of messages, which the
    /// connection's task writes together.
    fn room(&self) -> usize {
        Sink::<Outgoing>::room(&self.channel)
    }

    /// Every message into the outbound channel under one lock; `poll_flush` then waits for
    /// the last one's acknowledgement (they are written in order).
    fn start_send_all(
        mut self: Pin<&mut Self>,
        messages: &mut std::collections::VecDeque<T>,
    ) -> Result<(), Error> {
        let this = &mut *self;
        let batch = &mut this.batch;
        batch.extend(messages.drain(..).map(|message| Outgoing {
            message: message.into(),
            written: None,
        }));
        let last = batch.back_mut().map(|outgoing| {
            let written = Deferred::new().quiet();
            outgoing.written = Some(written.clone());
            written
        });
        let sent = Pin::new(&mut this.channel).start_send_all(batch);
        // What was not offered is dropped (its acknowledgement with it).
        batch.clear();
        if let Err(error) = sent {
            return Err(refused(error));
        }
        if last.is_some() {
            self.written = last;
        }
        Ok(())
    }
}

/// The socket's graph node.
struct SocketVertex {
    state: Arc<State>,
    sink: Node,
    source: Node,
    edges: Edges,
}

impl Vertex for SocketVertex {
    fn description(&self) -> Description {
        let mut description = Description::new("websocket");
        description.closed = self.sink.description().closed;
        description.drained = self.source.description().drained;
        let state = &self.state;
        let role = match state.role {
            Role::Server => "server",
            Role::Client => "client",
        };
        description.extra = vec![
            ("role".into(), role.to_owned()),
            ("state".into(), state.phase_name().to_owned()),
        ];
        if let Some(local) = state.local_addr {
            description.extra.push(("local".into(), local.to_string()));
        }
        if let Some(remote) = state.remote_addr {
            description
                .extra
                .push(("remote".into(), remote.to_string()));
        }
        if let Some(protocol) = &state.subprotocol {
            description
                .extra
                .push(("subprotocol".into(), protocol.clone()));
        }
        if let Some(agreement) = &state.agreement {
            description
                .extra
                .push(("compression".into(), agreement.response_header()));
        }
        let inner = state.lock();
        if let Some(status) = &inner.received {
            let shown = if status.reason().is_empty() {
                status.code().to_string()
            } else {
                format!("{} {}", status.code(), status.reason())
            };
            description.extra.push(("close".into(), shown));
        }
        if let Some(status) = &inner.local_failure {
            description.extra.push((
                "failed".into(),
                format!("{} {}", status.code(), status.reason()),
            ));
        }
        description
    }

    fn edges(&self) -> Vec<Edge> {
        self.edges.with_halves(&self.sink, &self.source)
    }

    fn link(&self, description: Option<String>, target: &Node) {
        self.edges.add(description, target);
    }

    fn unlink(&self, target: &Node) {
        self.edges.remove(target);
    }
}
