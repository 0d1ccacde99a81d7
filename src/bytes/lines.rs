//! `lines`: a source of chunks as a source of text lines.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::bytes::{Buf, Bytes, BytesMut};
use pin_project_lite::pin_project;

use crate::stream::{Node, Source};
use crate::{Deferred, Error};

use super::{IntoBytes, invalid_utf8};
use crate::stream::Stage;

pin_project! {
    /// A source of the lines of a source of chunks; see [`lines`].
    #[must_use = "sources do nothing unless polled"]
    pub struct Lines<S> {
        #[pin]
        upstream: S,
        // The start of the current line, from earlier chunks.
        line: BytesMut,
        // The unread rest of the current chunk.
        chunk: Bytes,
        max_line: usize,
        // Bytes of the stream before `line`, for error messages.
        offset: usize,
        done: bool,
        stage: Stage,
    }
}

/// A source of the lines of a source of chunks (for an `AsyncRead`, of
/// [`from_reader`](super::from_reader)), with a graph node of kind `lines`: byte-streams'
/// `to-line-seq`.
///
/// Lines are split as [`str::lines`] splits them: at `\n`, with a `\r` just before it removed; a
/// last line without a final `\n` counts, an empty end does not. Lines may span chunks.
///
/// A line longer than `max_line` bytes (not counting its `\n` or `\r\n`) ends the source with a
/// [protocol error](Error::is_protocol) as its drain cause, as does a line of invalid UTF-8; the
/// upstream is then closed. At most `max_line + 1` bytes of a line are ever buffered. If the
/// upstream ends with an error, so does this source, and an unfinished last line is dropped.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::{bytes, stream};
/// use weir::stream::Source;
///
/// # weir::runtime::block_on(async {
/// let text = stream::iter(vec!["one\r\ntw", "o\nthree"]);
/// let all: Vec<String> = bytes::lines(text, 80).collect().await;
/// assert_eq!(all, ["one", "two", "three"]);
///
/// let long = bytes::lines(stream::iter(vec!["short\nmuch too long\n"]), 8);
/// let drained = long.drained();
/// let all: Vec<String> = long.collect().await;
/// assert_eq!(all, ["short"]);
/// let error = drained.await.unwrap_err();
/// assert!(error.is_protocol());
/// assert_eq!(error.to_string(), "protocol error: line longer than 8 bytes at byte 6");
/// # });
/// ```
pub fn lines<S>(mut upstream: S, max_line: usize) -> Lines<S>
where
    S: Source,
    S::Item: IntoBytes,
{
    let stage = Stage::reading("lines", &mut upstream);
    Lines {
        upstream,
        line: BytesMut::new(),
        chunk: Bytes::new(),
        max_line,
        offset: 0,
        done: false,
        stage,
    }
}

impl<S> futures_core::Stream for Lines<S>
where
    S: Source,
    S::Item: IntoBytes,
{
    type Item = String;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        let mut this = self.project();
        loop {
            if *this.done || this.stage.is_finished() {
                *this.done = true;
                return Poll::Ready(None);
            }
            if !this.chunk.is_empty() {
                let newline = this.chunk.iter().position(|&b| b == b'\n');
                let end = newline.unwrap_or(this.chunk.len());
                // The line's length so far, a `\r` that may yet be stripped included.
                let len = this.line.len() + end;
                let content = match newline {
                    Some(_) if len > 0 && last_byte(this.line, &this.chunk[..end]) == b'\r' => {
                        len - 1
                    }
                    Some(_) => len,
                    // Unfinished: one more byte may be a `\r` that goes with the next `\n`.
                    None => len.saturating_sub(1),
                };
                if content > *this.max_line {
                    let error = Error::protocol(format!(
                        "line longer than {} bytes at byte {}",
                        this.max_line, this.offset
                    ));
                    *this.done = true;
                    this.stage.fail(error, &*this.upstream);
                    return Poll::Ready(None);
                }
                let Some(newline) = newline else {
                    this.line.extend_from_slice(this.chunk);
                    this.chunk.clear();
                    continue;
                };
                let line = if this.line.is_empty() {
                    this.chunk.split_to(content)
                } else {
                    this.line.extend_from_slice(&this.chunk[..newline]);
                    this.line.truncate(content);
                    this.line.split().freeze()
                };
                // Skip the terminator: what is left of `\r\n` or `\n`.
                let skip = this
                    .chunk
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                this.chunk.advance(skip);
                let start = *this.offset;
                *this.offset += len + 1;
                return match std::str::from_utf8(&line) {
                    Ok(text) => Poll::Ready(Some(text.to_owned())),
                    Err(error) => {
                        *this.done = true;
                        this.stage.fail(invalid_utf8(error, start), &*this.upstream);
                        Poll::Ready(None)
                    }
                };
            }
            match ready!(this.upstream.as_mut().poll_next(cx)) {
                Some(item) => *this.chunk = item.into_bytes(),
                None => {
                    *this.done = true;
                    let outcome = this.upstream.drained().peek().unwrap_or(Ok(()));
                    if outcome.is_err() || this.line.is_empty() {
                        this.stage.finish(outcome);
                        return Poll::Ready(None);
                    }
                    // The last line, without a final `\n`: nothing is stripped.
                    let line = this.line.split().freeze();
                    if line.len() > *this.max_line {
                        let error = Error::protocol(format!(
                            "line longer than {} bytes at byte {}",
                            this.max_line, this.offset
                        ));
                        this.stage.finish(Err(error));
                        return Poll::Ready(None);
                    }
                    return match std::str::from_utf8(&line) {
                        Ok(text) => {
                            this.stage.finish(Ok(()));
                            Poll::Ready(Some(text.to_owned()))
                        }
                        Err(error) => {
                            this.stage.finish(Err(invalid_utf8(error, *this.offset)));
                            Poll::Ready(None)
                        }
                    };
                }
            }
        }
    }
}

/// The last byte of `head` followed by `tail`; both may not be empty together.
fn last_byte(head: &[u8], tail: &[u8]) -> u8 {
    match tail.last().or(head.last()) {
        Some(&byte) => byte,
        None => 0,
    }
}

impl<S> Source for Lines<S>
where
    S: Source,
    S::Item: IntoBytes,
{
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.mark_closed();
        self.upstream.close();
        self.stage.finish(Ok(()));
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<S: fmt::Debug> fmt::Debug for Lines<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lines")
            .field("upstream", &self.upstream)
            .field("max_line", &self.max_line)
            .field("buffered", &self.line.len())
            .field("done", &self.done)
            .finish()
    }
}
