//! Server-sent events: [`Event`] and [`response`], a `text/event-stream` response of a weir
//! source of events, each sent as it arrives, with keep-alive comments while it is quiet.
//!
//! ```
//! use weir::http::sse::{self, Event};
//! use weir::http::header;
//!
//! # weir::runtime::block_on(async {
//! let events = weir::stream::iter(vec![Event::new().id("1").data("hello"), Event::from("bye")]);
//! let response = sse::response(events);
//! assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
//! let text = response.into_body().to_string(1024).await.unwrap();
//! assert_eq!(text, "id: 1\ndata: hello\n\ndata: bye\n\n");
//! # });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderValue, Response, header};

use crate::runtime::Sleep;
use crate::stream::Source;
use crate::{Deferred, Error};

use super::body::Body;

/// The keep-alive interval [`response`] uses: a comment line after 15 s without an event.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One server-sent event: optional `id`, `event` (its type), `retry` (the client's reconnect
/// delay) and comments, and its data, sent as one `data:` line per line (a multi-line data
/// field becomes several). An event with neither data nor anything else is sent as a bare
/// comment-free blank line.
///
/// Line breaks (`\n`, `\r`, `\r\n`) split data and comments into lines; in `id` and `event`,
/// which must be single lines, they are replaced by spaces (and NUL is dropped from the id),
/// so no field can inject another.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::http::sse::Event;
///
/// let event = Event::new()
///     .event("update")
///     .id("42")
///     .retry(Duration::from_secs(3))
///     .comment("a comment")
///     .data("line one\nline two");
/// assert_eq!(
///     event.to_bytes(),
///     ": a comment\nevent: update\nid: 42\nretry: 3000\ndata: line one\ndata: line two\n\n"
/// );
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Event {
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
    retry: Option<Duration>,
    comments: Vec<String>,
}

impl Event {
    /// An empty event; add fields with the builder methods.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weir::http::sse::Event::new().data("x").to_bytes(), "data: x\n\n");
    /// ```
    pub fn new() -> Event {
        Event::default()
    }

    /// Sets the event's id (the client's `Last-Event-ID` on reconnection).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::sse::Event;
    /// assert_eq!(Event::new().id("7\nx").to_bytes(), "id: 7 x\n\n");
    /// ```
    pub fn id(mut self, id: impl Into<String>) -> Event {
        let id: String = id.into();
        self.id = Some(single_line(&id.replace('\0', "")));
        self
    }

    /// Sets the event's type (the `event:` field; browsers dispatch it by this name).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::sse::Event;
    /// assert_eq!(Event::new().event("ping").to_bytes(), "event: ping\n\n");
    /// ```
    pub fn event(mut self, event: impl Into<String>) -> Event {
        self.event = Some(single_line(&event.into()));
        self
    }

    /// Sets the event's data; each of its lines becomes a `data:` line.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::sse::Event;
    /// assert_eq!(Event::new().data("a\r\nb").to_bytes(), "data: a\ndata: b\n\n");
    /// ```
    pub fn data(mut self, data: impl Into<String>) -> Event {
        self.data = Some(data.into());
        self
    }

    /// Sets the reconnection delay the client should use (`retry:`, in milliseconds).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::http::sse::Event;
    /// assert_eq!(Event::new().retry(Duration::from_millis(1500)).to_bytes(), "retry: 1500\n\n");
    /// ```
    pub fn retry(mut self, retry: Duration) -> Event {
        self.retry = Some(retry);
        self
    }

    /// Adds a comment (a `:` line, ignored by clients); each of its lines becomes one.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::sse::Event;
    /// assert_eq!(Event::new().comment("hi").to_bytes(), ": hi\n\n");
    /// ```
    pub fn comment(mut self, comment: impl Into<String>) -> Event {
        self.comments.push(comment.into());
        self
    }

    /// The event as sent on the wire, blank line included.
    ///
    /// # Examples
    ///
    /// See [`Event`].
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        for comment in &self.comments {
            for line in lines(comment) {
                field(&mut out, "", line);
            }
        }
        if let Some(event) = &self.event {
            field(&mut out, "event", event);
        }
        if let Some(id) = &self.id {
            field(&mut out, "id", id);
        }
        if let Some(retry) = self.retry {
            field(&mut out, "retry", &retry.as_millis().to_string());
        }
        if let Some(data) = &self.data {
            for line in lines(data) {
                field(&mut out, "data", line);
            }
        }
        out.put_u8(b'\n');
        out.freeze()
    }
}

impl From<String> for Event {
    /// An event with this data.
    fn from(data: String) -> Event {
        Event::new().data(data)
    }
}

impl From<&str> for Event {
    /// An event with this data.
    fn from(data: &str) -> Event {
        Event::new().data(data)
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("id", &self.id)
            .field("event", &self.event)
            .field("data", &self.data)
            .field("retry", &self.retry)
            .field("comments", &self.comments)
            .finish()
    }
}

fn field(out: &mut BytesMut, name: &str, value: &str) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_u8(b'\n');
}

/// Lines split at `\r\n`, `\n` or `\r`; the empty string is one empty line.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            Some(at) => {
                let skip = if text[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[at + skip..]);
                Some(&text[..at])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

fn single_line(text: &str) -> String {
    lines(text).collect::<Vec<_>>().join(" ")
}

/// A `text/event-stream` response (`Cache-Control: no-cache`) of the events of `events`:
/// each event is sent as it arrives (never held back: a chunk over HTTP/1.1, a DATA frame over
/// HTTP/2), and after [`DEFAULT_KEEP_ALIVE`] without one a keep-alive comment (`:` and a blank
/// line) is sent so proxies and clients keep the connection. The response ends when the
/// source does; if it drains with an error, the response is cut off (so the client sees an
/// error and reconnects). If the client goes away, the source is closed.
///
/// # Examples
///
/// ```
/// use weir::http::sse;
/// use weir::stream::Channel;
///
/// # weir::runtime::block_on(async {
/// let events = Channel::new(4);
/// let response = sse::response(events.clone());
/// events.put(sse::Event::new().event("tick").data("1")).await.unwrap();
/// drop(events);
/// let text = response.into_body().to_string(1024).await.unwrap();
/// assert_eq!(text, "event: tick\ndata: 1\n\n");
/// # });
/// ```
pub fn response<S>(events: S) -> Response<Body>
where
    S: Source + 'static,
    S::Item: Into<Event>,
{
    response_with_keep_alive(events, Some(DEFAULT_KEEP_ALIVE))
}

/// [`response`] with another keep-alive interval, or none (`None`). One timer serves the
/// whole response: it is moved forward by each event, not created per event.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::http::sse;
/// use weir::stream::Channel;
///
/// # weir::runtime::block_on(async {
/// let events: Channel<sse::Event> = Channel::new(1);
/// let response = sse::response_with_keep_alive(events.clone(), Some(Duration::from_millis(10)));
/// let mut body = response.into_body();
/// // Nothing happens: a keep-alive comment comes.
/// let first = futures::StreamExt::next(&mut body).await.unwrap();
/// assert_eq!(first, ":\n\n");
/// # });
/// ```
pub fn response_with_keep_alive<S>(mut events: S, keep_alive: Option<Duration>) -> Response<Body>
where
    S: Source + 'static,
    S::Item: Into<Event>,
{
    // The response only takes: once every other handle that can put is gone, it ends.
    events.release_put_role();
    let drained = events.drained();
    let stream = EventStream {
        events: Box::pin(events),
        drained: Some(drained),
        keep_alive: keep_alive.map(|interval| (interval, crate::runtime::sleep(interval))),
    };
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The encoded events, with keep-alive comments between them when they are slow.
struct EventStream<S: Source> {
    events: Pin<Box<S>>,
    /// Taken at the end.
    drained: Option<Deferred<(), Error>>,
    keep_alive: Option<(Duration, Sleep)>,
}

impl<S> futures_core::Stream for EventStream<S>
where
    S: Source,
    S::Item: Into<Event>,
{
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.drained.is_none() {
            return Poll::Ready(None);
        }
        match this.events.as_mut().poll_next(cx) {
            Poll::Ready(Some(event)) => {
                if let Some((interval, sleep)) = &mut this.keep_alive {
                    sleep.reset(Instant::now() + *interval);
                }
                Poll::Ready(Some(Ok(event.into().to_bytes())))
            }
            Poll::Ready(None) => {
                let drained = this.drained.take().expect("checked above");
                match drained.peek() {
                    Some(Err(error)) => Poll::Ready(Some(Err(error))),
                    _ => Poll::Ready(None),
                }
            }
            Poll::Pending => {
                if let Some((interval, sleep)) = &mut this.keep_alive {
                    if Pin::new(&mut *sleep).poll(cx).is_ready() {
                        sleep.reset(Instant::now() + *interval);
                        // Registers the moved timer with this task.
                        let _ = Pin::new(&mut *sleep).poll(cx);
                        return Poll::Ready(Some(Ok(Bytes::from_static(b":\n\n"))));
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl<S: Source> Drop for EventStream<S> {
    fn drop(&mut self) {
        if self.drained.is_some() {
            // The client went away (or the body was dropped): stop the producer. Puts pending
            // at the close would stay pending (they stay takeable), so take and discard them:
            // the producer's waiting put completes and its next one fails.
            self.events.close();
            let mut cx = Context::from_waker(std::task::Waker::noop());
            while let Poll::Ready(Some(_)) = self.events.as_mut().poll_next(&mut cx) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Event, lines};

    #[test]
    fn lines_split_at_every_break() {
        assert_eq!(
            lines("a\nb\r\nc\rd").collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
        assert_eq!(lines("").collect::<Vec<_>>(), [""]);
        assert_eq!(lines("a\n").collect::<Vec<_>>(), ["a", ""]);
    }

    #[test]
    fn fields_cannot_inject_others() {
        let event = Event::new().event("a\ndata: x").id("1\r\nid: 2");
        assert_eq!(event.to_bytes(), "event: a data: x\nid: 1 id: 2\n\n");
    }

    #[test]
    fn empty_data_is_one_empty_line() {
        assert_eq!(Event::new().data("").to_bytes(), "data: \n\n");
        assert_eq!(Event::new().to_bytes(), "\n");
    }
}
