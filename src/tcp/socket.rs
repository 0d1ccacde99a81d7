//! `TcpSocket`: async-net's TCP stream, with reads that skip the `recv` bound to fail.
//!
//! async-io tries every read first and waits for readiness only after `EAGAIN`. A protocol
//! that reads until it has a whole message and then polls again before answering (hyper does,
//! at each request) pays a failed `recv` there: measured 2.98 `recv` per request on the
//! HTTP/1.1 hello-world bench. A read that returns fewer bytes than asked for has emptied the
//! socket's receive queue, so the read right after it waits for readiness first (2.16 `recv` per
//! request on the same bench, and a third fewer `epoll_ctl` calls). Only that one:
//! waiting before every read would send bytes that arrive while the task is busy (the next
//! request, once the answer is written) through a reactor turn, which costs more than the
//! failed `recv` (measured: 20 % fewer requests per second with 8 and with 256 connections).
//! A request-response protocol can also ask for a second rule
//! ([`TcpSocket::set_waits_within_run`]; weir's HTTP server does): within one run of a task on
//! a weir worker, a read polled again after it found the socket empty keeps waiting rather than
//! trying the `recv` again. hyper polls its read again after each answer and HTTP/2 once per
//! request taken, and the client cannot have sent more before it read the answer. A stream
//! protocol with messages in flight (WebSocket) leaves it off: after its writes, the peer's next
//! message is often there already, and a wait would send it through a reactor turn (measured:
//! `ws_echo_64kib` 0.84-0.90 -> 0.99-1.24). A client that sends a request and then reads its
//! answer can ask for a third ([`TcpSocket::set_waits_while_empty`]; weir's HTTP/1.1 client
//! does): once a read found the socket empty, every read waits for readiness before its `recv`,
//! whichever task run it is in, until the wait reports bytes. The server's answer never comes
//! while the client is busy, and hyper polls the client connection's read at every wake-up of
//! its task (a request to send, the answer's body taken or dropped): measured 6 `recv` per
//! request on `client_h1_c64`, 5 of them failing. The wait is async-io's one-shot,
//! level-triggered registration, so bytes that arrived in between are reported at once and
//! nothing is missed.

use std::io::{self, Read};
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use async_io::{Async, ReadableOwned};
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::FutureExt;

/// A TCP stream whose reads skip the `recv` that would fail right after a short read.
///
/// Each handle (clone) keeps its own hint; any number of handles can wait on the socket. The
/// rest of async-net's `TcpStream` (addresses, options, shutdown) is reached through `Deref`.
pub(crate) struct TcpSocket {
    stream: async_net::TcpStream,
    io: Arc<Async<std::net::TcpStream>>,
    /// Waiting for the socket to become readable, once a read found it empty.
    readable: Option<ReadableOwned<std::net::TcpStream>>,
    /// The last read emptied the receive queue: the next read waits for readiness before its
    /// `recv`.
    drained: bool,
    /// Whether a read polled again in the task run that found the socket empty waits on.
    waits_within_run: bool,
    /// The worker task run in which `readable` started waiting.
    waiting_since: Option<u64>,
    /// Whether a read that found the socket empty makes every later read wait for readiness
    /// first, until the wait reports it.
    waits_while_empty: bool,
    /// The last read found the socket empty (`EAGAIN`, or fewer bytes than asked for), and no
    /// wait has reported readiness since.
    empty: bool,
    /// The `recv` calls made (for the tests).
    #[cfg(test)]
    recvs: usize,
}

impl TcpSocket {
    pub(crate) fn new(stream: async_net::TcpStream) -> TcpSocket {
        let io = Arc::<Async<std::net::TcpStream>>::from(stream.clone());
        TcpSocket {
            stream,
            io,
            readable: None,
            drained: false,
            waits_within_run: false,
            waiting_since: None,
            waits_while_empty: false,
            empty: false,
            #[cfg(test)]
            recvs: 0,
        }
    }

    /// Makes a read polled again in the worker task run that found the socket empty wait on,
    /// instead of trying a `recv` bound to fail (for request-response protocols; off by
    /// default).
    pub(crate) fn set_waits_within_run(&mut self, on: bool) {
        self.waits_within_run = on;
        self.waiting_since = None;
    }

    /// Makes every read after one that found the socket empty wait for readiness before its
    /// `recv`, until the wait reports it (for a client that reads only answers to what it
    /// sent; off by default).
    #[cfg(any(feature = "http1", test))]
    pub(crate) fn set_waits_while_empty(&mut self, on: bool) {
        self.waits_while_empty = on;
        self.empty = false;
    }
}

impl From<async_net::TcpStream> for TcpSocket {
    fn from(stream: async_net::TcpStream) -> TcpSocket {
        TcpSocket::new(stream)
    }
}

impl Clone for TcpSocket {
    fn clone(&self) -> TcpSocket {
        TcpSocket {
            stream: self.stream.clone(),
            io: self.io.clone(),
            readable: None,
            drained: false,
            waits_within_run: self.waits_within_run,
            waiting_since: None,
            waits_while_empty: self.waits_while_empty,
            empty: false,
            #[cfg(test)]
            recvs: 0,
        }
    }
}

impl Deref for TcpSocket {
    type Target = async_net::TcpStream;

    fn deref(&self) -> &async_net::TcpStream {
        &self.stream
    }
}

impl std::fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpSocket")
            .field("stream", &self.stream)
            .field("drained", &self.drained)
            .finish()
    }
}

impl TcpSocket {
    /// Waits for the socket to become readable (async-io's wait, any number of waiters).
    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let io = &self.io;
        let readable = self
            .readable
            .get_or_insert_with(|| io.clone().readable_owned());
        match readable.poll(cx) {
            Poll::Ready(ready) => {
                self.readable = None;
                self.waiting_since = None;
                self.empty = false;
                Poll::Ready(ready)
            }
            Poll::Pending => {
                if self.waits_within_run {
                    self.waiting_since = crate::runtime::current_run();
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncRead for TcpSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.readable.is_some()
            && this.waiting_since.is_some()
            && this.waiting_since == crate::runtime::current_run()
        {
            // Polled again in the task run that found the socket empty (a request-response
            // protocol that polls its reads more than once per turn): wait on, without a
            // `recv` that would most likely fail. Bytes that arrived meanwhile are reported by
            // the wait.
            ready!(this.poll_readable(cx))?;
        }
        if this.waits_while_empty && this.empty {
            // Nothing can have come since the socket was found empty but what the wait
            // reports: the peer answers only what was sent, and the wait is level-triggered.
            ready!(this.poll_readable(cx))?;
            // That wait was the one the short read asked for.
            this.drained = false;
        }
        if std::mem::take(&mut this.drained) {
            // The read right after a short one would fail: wait first, this once. Later polls
            // try the read again, so bytes that come while the task does other work (the
            // next request, once the answer is out) are read without a trip to the reactor.
            ready!(this.poll_readable(cx))?;
        }
        loop {
            #[cfg(test)]
            {
                this.recvs += 1;
            }
            match this.io.get_ref().read(buf) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    this.empty = true;
                    ready!(this.poll_readable(cx))?;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Ok(n) => {
                    // Fewer bytes than asked for: the receive queue is empty now. End of
                    // stream (0) stays readable, so it is not worth a wait either way.
                    this.drained = n > 0 && n < buf.len();
                    this.empty = this.drained;
                    if this.waits_within_run {
                        // The wait that led here has reported its readiness: the next wait
                        // must be a new one, or it would report the same readiness again and
                        // the `recv` after it would fail (measured: 2.0 `recv` per request).
                        this.readable = None;
                        this.waiting_since = None;
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
    }
}

impl AsyncWrite for TcpSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::{AsyncReadExt, AsyncWriteExt};

    /// A client stream and the server's `TcpSocket` for it, on loopback.
    async fn connected() -> (async_net::TcpStream, TcpSocket) {
        let listener = async_net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = async_net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (client, TcpSocket::new(server))
    }

    /// Bytes that arrive after a short read are still read: the wait for readiness reports
    /// them, whether they came before the wait began or after.
    #[test]
    fn reads_after_a_short_read_see_later_bytes() {
        crate::runtime::block_on(async {
            let (mut client, mut server) = connected().await;
            let mut buf = [0u8; 64];
            for round in 0..200u32 {
                let message = round.to_be_bytes();
                client.write_all(&message).await.unwrap();
                let mut got = 0;
                while got < 4 {
                    let n = server.read(&mut buf[got..]).await.unwrap();
                    assert!(n > 0, "early end of stream");
                    got += n;
                }
                assert_eq!(&buf[..4], &message);
                // The next message is written while the socket is marked drained, or once
                // a read has already waited.
                if round % 2 == 0 {
                    assert!(server.drained);
                    let mut cx = Context::from_waker(std::task::Waker::noop());
                    let polled = Pin::new(&mut server).poll_read(&mut cx, &mut buf);
                    assert!(polled.is_pending());
                    assert!(!server.drained);
                }
            }
            drop(client);
            assert_eq!(server.read(&mut buf).await.unwrap(), 0);
        });
    }

    /// Runs `work` as a task on weir's workers, and returns its output (a bounded wait).
    fn on_a_worker<T: Send + 'static>(
        work: impl std::future::Future<Output = T> + Send + 'static,
    ) -> T {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        crate::runtime::spawn(async move {
            let _ = done_tx.send(work.await);
        })
        .detach();
        done_rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the task finished in time: the bytes the peer wrote were read")
    }

    /// The peer writes `ping`, from another thread.
    fn ping_from(mut writer: async_net::TcpStream) {
        std::thread::spawn(move || {
            futures_lite::future::block_on(writer.write_all(b"ping")).unwrap();
        });
    }

    /// Polls a read with nothing to read: again in the same worker task run if `again_in_run`,
    /// then in `later_runs` later runs, then has the peer write. Returns how many `recv`s the
    /// polls after the first made, once the bytes were read.
    fn recvs_of_later_polls(
        configure: fn(&mut TcpSocket),
        again_in_run: bool,
        later_runs: usize,
    ) -> usize {
        on_a_worker(async move {
            let (client, mut server) = connected().await;
            configure(&mut server);
            let mut buf = [0u8; 64];
            let mut writer = Some(client.clone());
            let mut polls = 0;
            let mut later = 0;
            let got = std::future::poll_fn(|cx| {
                let before = server.recvs;
                if let Poll::Ready(n) = Pin::new(&mut server).poll_read(cx, &mut buf) {
                    return Poll::Ready(n);
                }
                if polls > 0 {
                    later += server.recvs - before;
                } else if again_in_run {
                    let before = server.recvs;
                    let again = Pin::new(&mut server).poll_read(cx, &mut buf);
                    assert!(again.is_pending(), "nothing was written yet");
                    later += server.recvs - before;
                }
                polls += 1;
                if polls <= later_runs {
                    // Woken by something else (a request to send, say): a new run.
                    cx.waker().wake_by_ref();
                } else if let Some(writer) = writer.take() {
                    // The peer writes now: the wait wakes the task, which reads the bytes.
                    ping_from(writer);
                }
                Poll::Pending
            })
            .await
            .unwrap();
            assert_eq!(&buf[..got], b"ping");
            drop(client);
            later
        })
    }

    /// With the switch on (HTTP), a read polled again in the run that found the socket empty
    /// waits on without a `recv`, and the peer's later bytes still wake the task.
    #[test]
    fn with_the_switch_a_second_poll_in_one_run_waits_without_a_recv() {
        assert_eq!(
            recvs_of_later_polls(|socket| socket.set_waits_within_run(true), true, 0),
            0
        );
    }

    /// With the switch on, the read after a short one waits for new readiness: the wait that
    /// reported the bytes just read does not report them again, so no `recv` fails.
    #[test]
    fn with_the_switch_the_read_after_a_short_one_waits_for_new_bytes() {
        let recvs = on_a_worker(async move {
            let (client, mut server) = connected().await;
            server.set_waits_within_run(true);
            let mut buf = [0u8; 64];
            let mut writer = Some(client.clone());
            // Wait for the socket (nothing there yet), then the peer writes.
            let got = std::future::poll_fn(|cx| {
                let read = Pin::new(&mut server).poll_read(cx, &mut buf);
                if read.is_pending() {
                    if let Some(writer) = writer.take() {
                        ping_from(writer);
                    }
                }
                read
            })
            .await
            .unwrap();
            assert_eq!(&buf[..got], b"ping");
            let before = server.recvs;
            let next = std::future::poll_fn(|cx| {
                Poll::Ready(Pin::new(&mut server).poll_read(cx, &mut buf).is_pending())
            })
            .await;
            assert!(next, "nothing more was written");
            drop(client);
            server.recvs - before
        });
        assert_eq!(recvs, 0, "no recv after the short read");
    }

    /// By default (a stream protocol such as WebSocket), the second poll tries the `recv`.
    #[test]
    fn by_default_a_second_poll_in_one_run_tries_the_recv() {
        assert_eq!(recvs_of_later_polls(|_| {}, true, 0), 1);
    }

    /// With the HTTP/1.1 client's switch on, reads polled in later runs after one found the
    /// socket empty wait without a `recv`, and the peer's later bytes still wake the task.
    #[test]
    fn waiting_while_empty_later_polls_make_no_recv() {
        assert_eq!(
            recvs_of_later_polls(|socket| socket.set_waits_while_empty(true), false, 3),
            0
        );
    }

    /// Without it, each later poll tries its `recv` (and fails).
    #[test]
    fn by_default_later_polls_try_the_recv() {
        assert_eq!(recvs_of_later_polls(|_| {}, false, 3), 3);
    }

    /// With the client's switch on, request-response rounds of any size lose no byte and
    /// never hang: the read after a short one, or after `EAGAIN`, is reported by its wait.
    #[test]
    fn waiting_while_empty_reads_every_answer() {
        crate::runtime::block_on(async {
            let (mut peer, mut client) = connected().await;
            client.set_waits_while_empty(true);
            let mut buf = vec![0u8; 256];
            for round in 0..300usize {
                let size = 1 + (round * 37) % 600;
                let message: Vec<u8> = (0..size).map(|i| (i + round) as u8).collect();
                peer.write_all(&message).await.unwrap();
                let mut got = Vec::new();
                while got.len() < size {
                    let n = client.read(&mut buf).await.unwrap();
                    assert!(n > 0, "early end of stream");
                    got.extend_from_slice(&buf[..n]);
                }
                assert_eq!(got, message);
            }
            drop(peer);
            assert_eq!(
                client.read(&mut buf).await.unwrap(),
                0,
                "the end is reported"
            );
        });
    }

    /// A full read leaves the hint off, and the rest is read without waiting.
    #[test]
    fn a_full_read_does_not_wait() {
        crate::runtime::block_on(async {
            let (mut client, mut server) = connected().await;
            client.write_all(&[7u8; 100]).await.unwrap();
            let mut all = Vec::new();
            let mut buf = [0u8; 10];
            while all.len() < 100 {
                let n = server.read(&mut buf).await.unwrap();
                all.extend_from_slice(&buf[..n]);
            }
            assert_eq!(all, vec![7u8; 100]);
        });
    }
}
