//! The task behind a [`WebSocket`](super::WebSocket): one future that reads frames into the
//! inbound channel, writes the outbound channel's messages as frames, answers pings, sends
//! heartbeats and runs the closing handshake.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use async_io::Timer;
use bytes::{Buf, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};

use crate::Error;
use crate::stream::Channel;

use super::close::CloseFrame;
use super::codec::{Decoder, Encoder, Incoming, ProtocolError, Role};
use super::message::Message;
use super::options::Common;
use super::socket::{Outgoing, State};

/// Writes wait once this many bytes of frames are queued for the socket.
const HIGH_WATER: usize = 256 * 1024;
/// The most messages taken from the outbound channel before they are written.
const MAX_GATHER: usize = 64;
/// The largest single read.
const READ_SIZE: usize = 64 * 1024;

thread_local! {
    /// Reads land here first and are copied into the connection's buffer: no per-read
    /// zero-fill and no read buffer held by a quiet connection.
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_SIZE].into_boxed_slice());
}

/// Where the read side is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    /// Frames are read and decoded.
    Frames,
    /// The closing handshake is done (or failed) on a client: read and discard until the
    /// server closes the TCP connection (RFC 6455 7.1.1), within the close timeout.
    AwaitEof,
    /// Nothing more is read.
    Done,
}

pub(crate) struct Driver<IO> {
    io: IO,
    role: Role,
    decoder: Decoder,
    encoder: Encoder,
    read_buf: BytesMut,
    reading: Reading,
    /// A decoded message waiting for room in the inbound channel: nothing is read meanwhile.
    held: Option<Message>,
    /// How the inbound side ends once `held` is delivered.
    inbound_end: Option<Result<(), Error>>,
    /// The inbound side was ended (closed, with its cause).
    inbound_ended: bool,
    inbound: Channel<Message>,
    outbound: Channel<Outgoing>,
    outbound_done: bool,
    write_buf: BytesMut,
    acks: Vec<crate::Deferred<(), Error>>,
    needs_flush: bool,
    close_sent: bool,
    close_received: bool,
    /// `close(code, reason)` was asked for: sent once what was put before is written.
    requested_close: Option<(u16, String)>,
    /// Set once the connection must end: the close handshake is over, or failed.
    finishing: bool,
    shut_down: bool,
    close_deadline: Option<Timer>,
    state: Arc<State>,
    options: Common,
    /// When a frame last arrived or was written (heartbeats).
    last_activity: Instant,
    heartbeat: Option<Timer>,
    pong_deadline: Option<Timer>,
    failure: Option<Error>,
    /// Realized when the server this socket came from starts closing.
    draining: Option<crate::Deferred<(), Error>>,
}

impl<IO> Driver<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        io: IO,
        prefix: BytesMut,
        role: Role,
        decoder: Decoder,
        encoder: Encoder,
        inbound: Channel<Message>,
        outbound: Channel<Outgoing>,
        state: Arc<State>,
        options: Common,
    ) -> Driver<IO> {
        let heartbeat = options
            .heartbeats
            .as_ref()
            .map(|h| Timer::after(h.send_after_idle));
        Driver {
            io,
            role,
            decoder,
            encoder,
            read_buf: prefix,
            reading: Reading::Frames,
            held: None,
            inbound_end: None,
            inbound_ended: false,
            inbound,
            outbound,
            outbound_done: false,
            write_buf: BytesMut::new(),
            acks: Vec::new(),
            needs_flush: false,
            close_sent: false,
            close_received: false,
            requested_close: None,
            finishing: false,
            shut_down: false,
            close_deadline: None,
            state,
            options,
            last_activity: Instant::now(),
            heartbeat,
            pong_deadline: None,
            failure: None,
            draining: None,
        }
    }

    /// Closes with 1001 (going away) when `draining` is realized: the server shutting down.
    pub(crate) fn on_drain(mut self, draining: Option<crate::Deferred<(), Error>>) -> Self {
        self.draining = draining;
        self
    }

    /// Queues our close frame (once) and starts the close timeout.
    fn send_close(&mut self, code: Option<u16>, reason: &str) {
        if self.close_sent {
            return;
        }
        self.close_sent = true;
        self.encoder.close(code, reason, &mut self.write_buf);
        self.close_deadline
            .get_or_insert_with(|| Timer::after(self.options.close_timeout));
        self.state.set_closing();
        // Nothing more goes out after the close frame: puts still waiting fail.
        self.outbound.close();
    }

    /// Ends the inbound side with `end`, after the held message if any.
    ///
    /// With nothing held it ends at once, before the close frame that goes with it closes the
    /// outbound side: a `connect(socket, socket)` that sees its sink close then closes the
    /// source, and must find it already ended with this cause.
    fn end_inbound(&mut self, end: Result<(), Error>) {
        if self.inbound_ended || self.inbound_end.is_some() {
            return;
        }
        if self.held.is_some() {
            self.inbound_end = Some(end);
        } else {
            self.apply_inbound_end(end);
        }
    }

    fn apply_inbound_end(&mut self, end: Result<(), Error>) {
        self.inbound_ended = true;
        match end {
            Ok(()) => self.inbound.close(),
            Err(error) => self.inbound.close_with_error(error),
        }
    }

    /// The peer broke the protocol: close with its code, then end.
    fn protocol_failure(&mut self, error: ProtocolError) {
        let status = CloseFrame::new(error.code, error.reason.clone());
        self.state.set_local_failure(status.clone());
        self.end_inbound(Err(Error::protocol_with_source(
            format!("websocket: {}", error.reason),
            status,
        )));
        self.send_close(Some(error.code), &error.reason);
        self.reading = match self.role {
            Role::Client => Reading::AwaitEof,
            Role::Server => Reading::Done,
        };
        self.finishing = true;
    }

    /// The connection broke (a read or write error, or an end of stream without a close
    /// frame): the status is 1006.
    fn abnormal(&mut self, cause: Option<io::Error>) {
        let reason = match &cause {
            Some(error) => format!("connection failed: {error}"),
            None => "connection closed without a close frame".to_owned(),
        };
        let status = CloseFrame::new(CloseFrame::ABNORMAL, reason.clone());
        self.state.set_received(status.clone());
        let error = Error::closed_with_source("websocket", status);
        self.failure.get_or_insert(error.clone());
        self.end_inbound(Err(error));
        self.reading = Reading::Done;
        self.finishing = true;
        self.shut_down = true; // nothing to say to a broken connection
        self.write_buf.clear();
    }

    /// Something arrived or was written: the idle time before a heartbeat counts from now.
    /// (Only heartbeats read it: without them, no clock is read per frame.)
    fn active(&mut self) {
        if self.heartbeat.is_some() {
            self.last_activity = Instant::now();
        }
    }

    fn handle(&mut self, event: Incoming) {
        self.active();
        self.pong_deadline = None;
        match event {
            Incoming::Text(text) => {
                if !self.close_received {
                    self.held = Some(Message::Text(text));
                }
            }
            Incoming::Binary(bytes) => {
                if !self.close_received {
                    self.held = Some(Message::Binary(bytes));
                }
            }
            Incoming::Ping(payload) => {
                if !self.close_sent {
                    self.encoder.pong(&payload, &mut self.write_buf);
                }
            }
            Incoming::Pong(_) => self.state.ponged(),
            Incoming::Close(frame) => {
                self.close_received = true;
                let status = match &frame {
                    Some((code, reason)) => CloseFrame::new(*code, reason.clone()),
                    None => CloseFrame::new(CloseFrame::NO_STATUS, ""),
                };
                self.state.set_received(status.clone());
                if status.is_normal() {
                    self.end_inbound(Ok(()));
                } else {
                    self.end_inbound(Err(Error::closed_with_source("websocket", status)));
                }
                // Echo the status code, as RFC 6455 5.5.1 suggests.
                match &frame {
                    Some((code, _)) => self.send_close(Some(*code), ""),
                    None => self.send_close(None, ""),
                }
                self.reading = match self.role {
                    Role::Client => Reading::AwaitEof,
                    Role::Server => Reading::Done,
                };
                self.finishing = true;
            }
        }
    }

    /// Delivers the held message and the inbound end; reads and decodes frames while there is
    /// room. True when anything moved.
    fn poll_read_side(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        loop {
            if let Some(message) = self.held.take() {
                match futures_sink::Sink::poll_ready(Pin::new(&mut self.inbound), cx) {
                    Poll::Ready(Ok(())) => {
                        let _ =
                            futures_sink::Sink::start_send(Pin::new(&mut self.inbound), message);
                        progress = true;
                    }
                    Poll::Ready(Err(_)) => {
                        // Nobody takes any more: drop what arrives from now on.
                        progress = true;
                    }
                    Poll::Pending => {
                        self.held = Some(message);
                        return progress;
                    }
                }
            }
            if let Some(end) = self.inbound_end.take() {
                self.apply_inbound_end(end);
                progress = true;
            }
            match self.reading {
                Reading::Done => return progress,
                Reading::Frames => match self.decoder.decode(&mut self.read_buf) {
                    Ok(Some(event)) => {
                        self.handle(event);
                        progress = true;
                        continue;
                    }
                    Ok(None) => {}
                    Err(error) => {
                        self.protocol_failure(error);
                        progress = true;
                        continue;
                    }
                },
                Reading::AwaitEof => self.read_buf.clear(),
            }
            match self.poll_fill(cx) {
                Poll::Pending => return progress,
                Poll::Ready(Ok(0)) => {
                    progress = true;
                    if self.reading == Reading::AwaitEof || self.close_received {
                        self.reading = Reading::Done;
                        self.finishing = true;
                    } else {
                        self.abnormal(None);
                    }
                }
                Poll::Ready(Ok(_)) => progress = true,
                Poll::Ready(Err(error)) => {
                    progress = true;
                    if self.reading == Reading::AwaitEof {
                        self.reading = Reading::Done;
                    } else {
                        self.abnormal(Some(error));
                    }
                }
            }
        }
    }

    /// One read, appended to the read buffer.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let io = &mut self.io;
        let read_buf = &mut self.read_buf;
        let want = self.decoder.needed(read_buf).clamp(4096, READ_SIZE);
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let window = &mut scratch[..want];
            loop {
                match Pin::new(&mut *io).poll_read(cx, window) {
                    Poll::Ready(Ok(n)) => {
                        read_buf.extend_from_slice(&window[..n]);
                        return Poll::Ready(Ok(n));
                    }
                    Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {
                        continue;
                    }
                    other => return other,
                }
            }
        })
    }

    /// Takes outbound messages and API requests into the write buffer.
    fn poll_outbound(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        if let Some(payload) = self.state.take_ping_request() {
            if !self.close_sent {
                self.encoder.ping(&payload, &mut self.write_buf);
                progress = true;
            }
        }
        let mut gathered = 0;
        while !self.outbound_done
            && !self.close_sent
            && self.write_buf.len() < HIGH_WATER
            && gathered < MAX_GATHER
        {
            match futures_core::Stream::poll_next(Pin::new(&mut self.outbound), cx) {
                Poll::Ready(Some(outgoing)) => {
                    let (text, payload) = match &outgoing.message {
                        Message::Text(text) => (true, text.as_bytes()),
                        Message::Binary(bytes) => (false, &bytes[..]),
                    };
                    self.encoder.message(text, payload, &mut self.write_buf);
                    if let Some(written) = outgoing.written {
                        self.acks.push(written);
                    }
                    gathered += 1;
                    progress = true;
                }
                Poll::Ready(None) => {
                    // Every handle that could send is gone, or the sink was closed: the
                    // closing handshake starts (Aleph sends an empty close frame here; weir
                    // says 1000).
                    self.outbound_done = true;
                    progress = true;
                }
                Poll::Pending => break,
            }
        }
        if let Some(request) = self.state.take_close_request() {
            // `close(code, reason)`: no more puts; what was put goes first, then the close
            // frame, once the outbound channel is drained.
            self.requested_close.get_or_insert(request);
            self.outbound.close();
            // The close timeout counts from the request: what was put before must go out
            // within it too.
            self.close_deadline
                .get_or_insert_with(|| Timer::after(self.options.close_timeout));
            progress = true;
        }
        if self.outbound_done && !self.close_sent && self.write_buf.len() < HIGH_WATER {
            match self.requested_close.take() {
                Some((code, reason)) => self.send_close(Some(code), &reason),
                None => self.send_close(Some(CloseFrame::NORMAL), ""),
            }
            progress = true;
        }
        progress
    }

    /// Writes the write buffer, flushes, and acknowledges what was written.
    fn poll_write_side(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while !self.write_buf.is_empty() {
            match Pin::new(&mut self.io).poll_write(cx, &self.write_buf) {
                Poll::Ready(Ok(0)) => {
                    self.abnormal(Some(io::ErrorKind::WriteZero.into()));
                    return true;
                }
                Poll::Ready(Ok(n)) => {
                    self.write_buf.advance(n);
                    self.needs_flush = true;
                    progress = true;
                }
                Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(error)) => {
                    self.abnormal(Some(error));
                    return true;
                }
                Poll::Pending => return progress,
            }
        }
        if self.needs_flush {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => {
                    self.needs_flush = false;
                    self.active();
                    for ack in self.acks.drain(..) {
                        ack.success(());
                    }
                    progress = true;
                }
                Poll::Ready(Err(error)) => {
                    self.abnormal(Some(error));
                    return true;
                }
                Poll::Pending => {}
            }
        }
        progress
    }

    /// Heartbeats, the close timeout and the server's drain.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        if let Some(draining) = self.draining.as_mut() {
            if Pin::new(draining).poll(cx).is_ready() {
                self.draining = None;
                if !self.close_sent && self.requested_close.is_none() {
                    self.requested_close =
                        Some((CloseFrame::GOING_AWAY, "server shutting down".to_owned()));
                    self.state.set_closing();
                    self.outbound.close();
                    self.close_deadline
                        .get_or_insert_with(|| Timer::after(self.options.close_timeout));
                }
                progress = true;
            }
        }
        if let Some(deadline) = self.close_deadline.as_mut() {
            if Pin::new(deadline).poll(cx).is_ready() {
                self.close_deadline = None;
                if !self.close_received {
                    let status =
                        CloseFrame::new(CloseFrame::ABNORMAL, "closing handshake timed out");
                    self.state.set_received(status.clone());
                    self.end_inbound(Err(Error::closed_with_source("websocket", status)));
                }
                // Past the close timeout nothing more is written either: a peer that stopped
                // reading cannot hold the connection open.
                self.reading = Reading::Done;
                self.finishing = true;
                if !self.write_buf.is_empty() || self.needs_flush {
                    self.write_buf.clear();
                    self.shut_down = true;
                }
                progress = true;
            }
        }
        let Some(heartbeats) = self.options.heartbeats.clone() else {
            return progress;
        };
        if self.close_sent {
            return progress;
        }
        if let Some(deadline) = self.pong_deadline.as_mut() {
            // While a message waits for room inbound nothing is read, so no pong can be
            // seen: the deadline does not count then.
            if self.held.is_none() && Pin::new(deadline).poll(cx).is_ready() {
                self.pong_deadline = None;
                let status = CloseFrame::new(CloseFrame::INTERNAL_ERROR, "heartbeat timeout");
                self.state.set_local_failure(status.clone());
                self.end_inbound(Err(Error::timed_out_because(status.clone())));
                self.send_close(Some(status.code()), status.reason());
                return true;
            }
        }
        if let Some(timer) = self.heartbeat.as_mut() {
            if Pin::new(&mut *timer).poll(cx).is_ready() {
                let due = self.last_activity + heartbeats.send_after_idle;
                let now = Instant::now();
                if due <= now {
                    if self.pong_deadline.is_none() {
                        self.state.request_heartbeat(heartbeats.payload.clone());
                        self.pong_deadline = Some(Timer::after(heartbeats.timeout));
                    }
                    timer.set_after(heartbeats.send_after_idle);
                } else {
                    timer.set_at(due);
                }
                progress = true;
            }
        }
        progress
    }

    /// Everything the connection still holds fails or ends.
    fn finish(&mut self) {
        let failure = self
            .failure
            .clone()
            .unwrap_or_else(|| Error::closed("websocket"));
        // (A held message is gone with its taker: `done` waits for it to be delivered.)
        self.held = None;
        match self.inbound_end.take() {
            Some(end) => self.apply_inbound_end(end),
            None if self.inbound_ended => {}
            None => {
                if !self.state.has_status() {
                    let status = CloseFrame::new(CloseFrame::ABNORMAL, "connection closed");
                    self.state.set_received(status.clone());
                    self.inbound
                        .close_with_error(Error::closed_with_source("websocket", status));
                } else {
                    self.inbound.close();
                }
            }
        }
        self.outbound.close_with_error(failure.clone());
        for ack in self.acks.drain(..) {
            ack.error(failure.clone());
        }
        // Messages put but never taken: their puts fail.
        while let Ok(Some(outgoing)) = self.outbound.queue().take_now() {
            if let Some(written) = outgoing.written {
                written.error(failure.clone());
            }
        }
        self.state.finished();
    }
}

impl<IO> Future for Driver<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.state.register(cx.waker());
        loop {
            let mut progress = this.poll_read_side(cx);
            progress |= this.poll_outbound(cx);
            progress |= this.poll_write_side(cx);
            progress |= this.poll_timers(cx);
            let written = this.write_buf.is_empty() && !this.needs_flush;
            let done = this.finishing
                && this.reading == Reading::Done
                && this.held.is_none()
                && (written || this.shut_down);
            if done {
                if !this.shut_down {
                    match Pin::new(&mut this.io).poll_close(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(_) => this.shut_down = true,
                    }
                }
                this.finish();
                return Poll::Ready(());
            }
            // The server closes the TCP connection once the handshake is over and its close
            // frame written (RFC 6455 7.1.1); a client waits for the server to do so.
            if this.finishing
                && this.role == Role::Server
                && this.reading == Reading::Done
                && written
            {
                continue;
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }
}
