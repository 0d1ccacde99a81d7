//! The framing adapters: `decode` (bytes to frames), `encode` (frames to bytes) and `framed`
//! (both, over a duplex stream).

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use pin_project_lite::pin_project;

use crate::stream::{self, Description, Edge, Edges, Node, Sink, Source, Splice, Vertex};
use crate::{Deferred, Error};

use super::traits::{Decoder, Encoder, truncated};

/// How many bytes of an upstream chunk [`Decode`] hands its decoder at a time, so that a huge
/// chunk is never copied into the frame buffer whole.
const READ_STEP: usize = 8 * 1024;

pin_project! {
    /// The source of frames returned by [`decode`].
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use weir::codec::{self, Decode, LinesCodec};
    /// use weir::stream::{self, Channel, Source};
    ///
    /// let lines: Decode<Channel<Bytes>, LinesCodec> =
    ///     codec::decode(Channel::new(1), LinesCodec::new());
    /// assert!(!lines.is_drained());
    /// ```
    #[must_use = "sources do nothing unless polled"]
    pub struct Decode<S, D> {
        #[pin]
        upstream: S,
        decoder: D,
        // Bytes handed to the decoder and not yet taken as frames.
        buf: BytesMut,
        // The rest of the upstream chunk being read.
        pending: Bytes,
        eof: bool,
        done: bool,
        vertex: Arc<CodecVertex>,
    }
}

/// The frames `decoder` finds in `source`, a source of byte chunks (anything `Into<Bytes>`):
/// a lazy [`Source`] with a graph node of kind `decode`.
///
/// Frames may be split across chunks in any way, and a chunk may hold many frames. A chunk
/// that arrives while nothing is buffered becomes the decoder's buffer as it is, without a
/// copy, when nothing else holds its bytes (a TCP connection's chunks, say); otherwise chunks
/// are copied to the decoder 8 KiB at a time, so the buffer holds at most one frame the
/// decoder accepts (its maximum frame size and prefix) plus 8 KiB beyond the chunk itself.
///
/// The source ends:
/// - cleanly, when `source` ends cleanly right after a whole frame;
/// - with a [protocol error](Error::is_protocol) as its drain cause ([`Source::drained`]) when
///   the decoder refuses the input (malformed, oversized), or when `source` ends in the middle
///   of a frame ("truncated frame"); `source` is then closed, since nobody will read it;
/// - with `source`'s own error when `source` fails;
/// - cleanly, at once, when it is [closed](Source::close) (which closes `source`).
///
/// A panic in the decoder ends the source with a [panic error](Error::is_panic).
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use futures_lite::StreamExt;
/// use weir::codec::{self, LinesCodec};
/// use weir::stream::{self, Source};
///
/// # weir::runtime::block_on(async {
/// let chunks = stream::iter([&b"hel"[..], b"lo\nwor", b"ld\n"].map(Bytes::from_static));
/// let lines = codec::decode(chunks, LinesCodec::new());
/// assert_eq!(lines.description().kind, "decode");
/// assert_eq!(lines.collect::<Vec<_>>().await, ["hello", "world"]);
///
/// let cut = codec::decode(stream::iter([Bytes::from_static(b"no newline")]), LinesCodec::new());
/// let cause = cut.drained();
/// assert_eq!(cut.count().await, 0);
/// assert!(cause.await.unwrap_err().to_string().contains("truncated frame"));
/// # });
/// ```
pub fn decode<S, D>(source: S, decoder: D) -> Decode<S, D>
where
    S: Source,
    S::Item: Into<Bytes>,
    D: Decoder,
{
    let vertex = Arc::new(CodecVertex::new(
        "decode",
        Some(Deferred::new().quiet()),
        None,
    ));
    source
        .node()
        .link(Some("decode".to_string()), &Node::new(vertex.clone()));
    Decode {
        upstream: source,
        decoder,
        buf: BytesMut::new(),
        pending: Bytes::new(),
        eof: false,
        done: false,
        vertex,
    }
}

impl<S, D> Decode<S, D> {
    /// The decoder.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use weir::codec::{self, DelimiterCodec};
    /// use weir::stream;
    ///
    /// let frames = codec::decode(stream::iter([Bytes::new()]), DelimiterCodec::new(b";"));
    /// assert_eq!(&frames.decoder().delimiter()[..], b";");
    /// ```
    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    /// How many bytes are buffered: read from upstream but not yet part of a returned frame.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use futures_lite::StreamExt;
    /// use weir::codec::{self, LinesCodec};
    /// use weir::stream;
    ///
    /// # weir::runtime::block_on(async {
    /// let chunks = stream::iter([Bytes::from_static(b"a\nbc")]);
    /// let mut lines = codec::decode(chunks, LinesCodec::new());
    /// assert_eq!(lines.next().await.as_deref(), Some("a"));
    /// assert_eq!(lines.buffered_bytes(), 2);
    /// # });
    /// ```
    pub fn buffered_bytes(&self) -> usize {
        self.buf.len() + self.pending.len()
    }
}

/// Runs a decoder call, turning a panic into a [panic error](Error::is_panic).
fn guarded<R>(f: impl FnOnce() -> Result<R, Error>) -> Result<R, Error> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(Error::panicked(payload)))
}

impl<S, D> futures_core::Stream for Decode<S, D>
where
    S: Source,
    S::Item: Into<Bytes>,
    D: Decoder,
{
    type Item = D::Frame;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<D::Frame>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            if this.vertex.is_finished() {
                // Closed by the consumer.
                *this.done = true;
                return Poll::Ready(None);
            }
            let at_end = *this.eof && this.pending.is_empty();
            let decoder = &mut *this.decoder;
            let buf = &mut *this.buf;
            let decoded = if at_end {
                guarded(|| decoder.decode_eof(buf))
            } else {
                guarded(|| decoder.decode(buf))
            };
            match decoded {
                Ok(Some(frame)) => return Poll::Ready(Some(frame)),
                Ok(None) if at_end => {
                    *this.done = true;
                    let outcome = this.upstream.drained().peek().unwrap_or(Ok(()));
                    let outcome = match outcome {
                        Ok(()) if !this.buf.is_empty() => Err(truncated(this.buf.len())),
                        outcome => outcome,
                    };
                    this.vertex.finish(outcome);
                    return Poll::Ready(None);
                }
                Ok(None) => {}
                Err(error) => {
                    *this.done = true;
                    // A failed upstream explains a truncated frame better than the decoder.
                    let error = match this.upstream.drained().peek() {
                        Some(Err(cause)) if at_end => cause,
                        _ => error,
                    };
                    this.vertex.finish(Err(error));
                    this.upstream.close();
                    return Poll::Ready(None);
                }
            }
            if !this.pending.is_empty() {
                let step = this.pending.len().min(READ_STEP);
                this.buf.extend_from_slice(&this.pending[..step]);
                this.pending.advance(step);
                continue;
            }
            match ready!(this.upstream.as_mut().poll_next(cx)) {
                Some(chunk) => {
                    let chunk: Bytes = chunk.into();
                    if this.buf.is_empty() {
                        // Nothing buffered: the chunk becomes the buffer, without a copy, when
                        // it is the only handle on its bytes (as a connection's chunks are).
                        match chunk.try_into_mut() {
                            Ok(whole) => *this.buf = whole,
                            Err(shared) => *this.pending = shared,
                        }
                    } else {
                        *this.pending = chunk;
                    }
                }
                None => *this.eof = true,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done { (0, Some(0)) } else { (0, None) }
    }
}

impl<S, D> Source for Decode<S, D>
where
    S: Source,
    S::Item: Into<Bytes>,
    D: Decoder + Send,
{
    fn node(&self) -> Node {
        Node::new(self.vertex.clone())
    }

    /// Ends the source cleanly at once, dropping any partial frame, and closes the upstream.
    fn close(&self) {
        self.vertex.closed.store(true, Ordering::Relaxed);
        self.vertex.finish(Ok(()));
        self.upstream.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.vertex.drained()
    }
}

impl<S: fmt::Debug, D: fmt::Debug> fmt::Debug for Decode<S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decode")
            .field("upstream", &self.upstream)
            .field("decoder", &self.decoder)
            .field("buffered", &self.buffered_bytes())
            .field("done", &self.done)
            .finish()
    }
}

pin_project! {
    /// The sink of items returned by [`encode`].
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use weir::codec::{self, Encode, LinesCodec};
    /// use weir::stream::{Channel, Sink};
    ///
    /// let lines: Encode<Channel<Bytes>, LinesCodec> =
    ///     codec::encode(Channel::new(1), LinesCodec::new());
    /// assert_eq!(Sink::<&str>::description(&lines).kind, "encode");
    /// ```
    #[must_use = "sinks do nothing unless messages are sent"]
    pub struct Encode<K, C> {
        #[pin]
        sink: K,
        encoder: C,
        buf: BytesMut,
        vertex: Arc<CodecVertex>,
    }
}

/// A [`Sink`] of items that `encoder` turns into bytes and puts into `sink`, a sink of
/// [`Bytes`], with a graph node of kind `encode` and an edge to `sink`.
///
/// Each item becomes one chunk, sent with `sink`'s backpressure: sending an item completes once
/// `sink` accepted its bytes. An item the encoder refuses fails that send with the encoder's
/// error (a [protocol error](Error::is_protocol) for weir's codecs), nothing of it is written,
/// and the sink stays usable. Closing the sink closes `sink`.
///
/// # Examples
///
/// ```
/// use futures::SinkExt;
/// use weir::codec::{self, LinesCodec};
/// use weir::stream::Channel;
///
/// # weir::runtime::block_on(async {
/// let bytes = Channel::new(4);
/// let mut lines = codec::encode(bytes.clone(), LinesCodec::new());
/// lines.send("hello").await.unwrap();
/// assert_eq!(bytes.take_next().await.as_deref(), Some(&b"hello\n"[..]));
///
/// assert!(lines.send("two\nlines").await.unwrap_err().is_protocol());
/// SinkExt::<&str>::close(&mut lines).await.unwrap();
/// assert!(bytes.is_closed());
/// # });
/// ```
pub fn encode<K, C>(sink: K, encoder: C) -> Encode<K, C>
where
    K: Sink<Bytes>,
{
    let vertex = Arc::new(CodecVertex::new("encode", None, Some(sink.node())));
    Encode {
        sink,
        encoder,
        buf: BytesMut::new(),
        vertex,
    }
}

impl<K, C> Encode<K, C> {
    /// The byte sink.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::codec::{self, LinesCodec};
    /// use weir::stream::Channel;
    ///
    /// let bytes = Channel::new(1);
    /// let lines = codec::encode(bytes.clone(), LinesCodec::new());
    /// assert!(lines.sink().same_channel(&bytes));
    /// ```
    pub fn sink(&self) -> &K {
        &self.sink
    }

    /// The encoder.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::codec::{self, DelimiterCodec};
    /// use weir::stream::Channel;
    ///
    /// let frames = codec::encode(Channel::new(1), DelimiterCodec::new(b"|"));
    /// assert_eq!(&frames.encoder().delimiter()[..], b"|");
    /// ```
    pub fn encoder(&self) -> &C {
        &self.encoder
    }
}

impl<T, K, C> futures_sink::Sink<T> for Encode<K, C>
where
    K: Sink<Bytes>,
    C: Encoder<T>,
{
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.project().sink.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Error> {
        let this = self.project();
        let encoder = this.encoder;
        let buf = &mut *this.buf;
        if let Err(error) = guarded(|| encoder.encode(item, buf)) {
            buf.clear();
            return Err(error);
        }
        let chunk = buf.split().freeze();
        this.sink.start_send(chunk)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.project().sink.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.project().sink.poll_close(cx)
    }
}

impl<T, K, C> Sink<T> for Encode<K, C>
where
    K: Sink<Bytes>,
    C: Encoder<T> + Send,
{
    fn node(&self) -> Node {
        Node::new(self.vertex.clone())
    }

    fn poll_closed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().sink.poll_closed(cx)
    }

    fn is_closed(&self) -> bool {
        self.sink.is_closed()
    }

    fn close_now(&self) {
        self.sink.close_now();
    }

    fn close_with_cause(&self, cause: Error) {
        self.sink.close_with_cause(cause);
    }
}

impl<K: fmt::Debug, C: fmt::Debug> fmt::Debug for Encode<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encode")
            .field("sink", &self.sink)
            .field("encoder", &self.encoder)
            .finish_non_exhaustive()
    }
}

/// One of the two handles [`framed`] makes on a duplex stream of bytes: each half holds its
/// own clone of the stream (handles on the same connection), one reading it (as a [`Source`])
/// and the other writing it (as a [`Sink`]), with no lock between them: the halves of a
/// [`Splice`] are independent, so the reader and the writer never wait on each other.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use weir::codec::{self, LinesCodec};
/// use weir::stream::{self, Channel, Source};
///
/// let inbound = Channel::<Bytes>::new(1);
/// let duplex = stream::splice(Channel::new(1), inbound.clone());
/// let lines = codec::framed(duplex, LinesCodec::new());
/// // The reading half decodes from a `DuplexHalf` over the splice.
/// let (_encode, decode) = lines.into_parts();
/// assert_eq!(decode.description().kind, "decode");
/// decode.close();
/// assert!(inbound.is_closed());
/// ```
#[must_use = "streams do nothing unless used"]
pub struct DuplexHalf<D> {
    duplex: Pin<Box<D>>,
}

impl<D: Clone> DuplexHalf<D> {
    fn pair(duplex: D) -> (Self, Self) {
        (
            DuplexHalf {
                duplex: Box::pin(duplex.clone()),
            },
            DuplexHalf {
                duplex: Box::pin(duplex),
            },
        )
    }
}

impl<D: Source> futures_core::Stream for DuplexHalf<D> {
    type Item = D::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<D::Item>> {
        self.duplex.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.duplex.size_hint()
    }
}

impl<D: Source> Source for DuplexHalf<D> {
    fn node(&self) -> Node {
        self.duplex.node()
    }

    fn close(&self) {
        self.duplex.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.duplex.drained()
    }

    fn poll_next_batch(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<D::Item>,
    ) -> Poll<bool> {
        self.duplex.as_mut().poll_next_batch(cx, limit, out)
    }
}

impl<D: Sink<Bytes>> futures_sink::Sink<Bytes> for DuplexHalf<D> {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.duplex.as_mut().poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, chunk: Bytes) -> Result<(), Error> {
        self.duplex.as_mut().start_send(chunk)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.duplex.as_mut().poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.duplex.as_mut().poll_close(cx)
    }
}

impl<D: Sink<Bytes>> Sink<Bytes> for DuplexHalf<D> {
    fn node(&self) -> Node {
        Sink::node(&*self.duplex)
    }

    fn poll_closed(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.duplex.as_mut().poll_closed(cx)
    }

    fn is_closed(&self) -> bool {
        self.duplex.is_closed()
    }

    fn close_now(&self) {
        self.duplex.close_now();
    }

    fn close_with_cause(&self, cause: Error) {
        self.duplex.close_with_cause(cause);
    }

    fn room(&self) -> usize {
        self.duplex.room()
    }
}

impl<D> fmt::Debug for DuplexHalf<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DuplexHalf").finish_non_exhaustive()
    }
}

/// A duplex stream of frames over a duplex stream of bytes `D`: what [`framed`] returns.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use weir::codec::{self, Framed, LinesCodec};
/// use weir::stream::{self, Channel, Source, Splice};
///
/// type Connection = Splice<Channel<Bytes>, Channel<Bytes>>;
/// let duplex: Connection = stream::splice(Channel::new(1), Channel::new(1));
/// let lines: Framed<Connection, LinesCodec> = codec::framed(duplex, LinesCodec::new());
/// assert_eq!(lines.description().kind, "splice");
/// ```
pub type Framed<D, C> = Splice<Encode<DuplexHalf<D>, C>, Decode<DuplexHalf<D>, C>>;

/// Turns `duplex`, a duplex stream of [`Bytes`] (a [`Splice`], a connection, or anything both a
/// [`Source`] and a [`Sink`] of `Bytes` whose clones are handles on the same stream), into a
/// duplex stream of frames: a [`Splice`] of [`encode`] and [`decode`] with a clone of `codec`
/// each, the encoder writing through one handle on `duplex` and the decoder reading through
/// another, with no lock between them.
///
/// Taking from it decodes what `duplex` yields; putting into it encodes into `duplex`. As with
/// any splice, `SinkExt::close` closes only the writing side, and [`Source::close`] closes
/// both. The frames put in are of the type the codec decodes (`String` for lines, `Bytes` for
/// the others); anything else the codec encodes can be sent too.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use futures::{SinkExt, StreamExt};
/// use weir::codec::{self, LengthPrefixedCodec, Prefix};
/// use weir::stream::{self, Channel};
///
/// # weir::runtime::block_on(async {
/// // A duplex of bytes, as a network connection would be.
/// let (outbound, inbound) = (Channel::<Bytes>::new(4), Channel::<Bytes>::new(4));
/// let mut frames = codec::framed(
///     stream::splice(outbound.clone(), inbound.clone()),
///     LengthPrefixedCodec::new(Prefix::U8),
/// );
///
/// frames.send(Bytes::from_static(b"ping")).await.unwrap();
/// assert_eq!(Channel::take_next(&outbound).await.as_deref(), Some(&b"\x04ping"[..]));
///
/// inbound.put(Bytes::from_static(b"\x04po")).await.unwrap();
/// inbound.put(Bytes::from_static(b"ng")).await.unwrap();
/// assert_eq!(frames.next().await.as_deref(), Some(&b"pong"[..]));
/// # });
/// ```
pub fn framed<D, C>(duplex: D, codec: C) -> Framed<D, C>
where
    D: Source<Item = Bytes> + Sink<Bytes> + Clone,
    C: Decoder + Encoder<<C as Decoder>::Frame> + Clone + Send,
{
    let (reader, writer) = DuplexHalf::pair(duplex);
    let encoder = codec.clone();
    stream::splice::<C::Frame, _, _>(encode(writer, encoder), decode(reader, codec))
}

/// The graph node of a [`Decode`] or an [`Encode`].
struct CodecVertex {
    kind: &'static str,
    /// A decoder's drain outcome; `None` for an encoder.
    drained: Option<Deferred<(), Error>>,
    /// Mirrors `drained.is_realized()`, for the check on every poll.
    finished: AtomicBool,
    closed: AtomicBool,
    /// An encoder's byte sink.
    sink: Option<Node>,
    /// Edges recorded by `connect` and by the combinators reading a decoder, held weakly.
    edges: Edges,
}

impl CodecVertex {
    fn new(kind: &'static str, drained: Option<Deferred<(), Error>>, sink: Option<Node>) -> Self {
        CodecVertex {
            kind,
            drained,
            finished: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            sink,
            edges: Edges::default(),
        }
    }

    fn finish(&self, outcome: Result<(), Error>) {
        if let Some(drained) = &self.drained {
            let _ = drained.try_realize(outcome);
        }
        self.finished.store(true, Ordering::Release);
    }

    fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.drained.clone().unwrap_or_default()
    }
}

impl Vertex for CodecVertex {
    fn description(&self) -> Description {
        let mut description = Description::new(self.kind);
        description.drained = self.drained.as_ref().is_some_and(Deferred::is_realized);
        description.closed = description.drained
            || self.closed.load(Ordering::Relaxed)
            || self.sink.as_ref().is_some_and(|s| s.description().closed);
        description
    }

    fn edges(&self) -> Vec<Edge> {
        let mut edges: Vec<Edge> = self
            .sink
            .iter()
            .map(|sink| Edge {
                description: None,
                target: sink.clone(),
            })
            .collect();
        edges.extend(self.edges.snapshot());
        edges
    }

    fn link(&self, description: Option<String>, target: &Node) {
        self.edges.add(description, target);
    }

    fn unlink(&self, target: &Node) {
        self.edges.remove(target);
    }
}
