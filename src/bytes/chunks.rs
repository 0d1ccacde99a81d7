//! `chunks`: one buffer as a source of slices of a given size.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::bytes::Bytes;

use crate::stream::{Node, Source};
use crate::{Deferred, Error};

use super::IntoBytes;
use crate::stream::Stage;

/// A source of the slices of one buffer; see [`chunks`].
#[must_use = "sources do nothing unless polled"]
pub struct Chunks {
    bytes: Bytes,
    size: usize,
    stage: Stage,
}

/// A source of `bytes` in slices of `size` bytes (the last may be shorter), with a graph node of
/// kind `chunks`: byte-streams' conversion of a buffer to a sequence of buffers with
/// `:chunk-size`. The slices share `bytes`' memory: nothing is copied (beyond the conversion to
/// [`Bytes`] itself, see [`IntoBytes`]). An empty buffer gives an empty source.
///
/// # Panics
///
/// If `size` is 0.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::bytes;
///
/// # weir::runtime::block_on(async {
/// let parts: Vec<_> = bytes::chunks("abcdefg", 3).collect().await;
/// assert_eq!(parts, ["abc", "def", "g"]);
/// # });
/// ```
pub fn chunks(bytes: impl IntoBytes, size: usize) -> Chunks {
    assert!(
        size > 0,
        "weir::bytes::chunks: the chunk size must be at least 1"
    );
    Chunks {
        bytes: bytes.into_bytes(),
        size,
        stage: Stage::root("chunks"),
    }
}

impl futures_core::Stream for Chunks {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = self.get_mut();
        if this.stage.is_finished() {
            return Poll::Ready(None);
        }
        if this.bytes.is_empty() {
            this.stage.finish(Ok(()));
            return Poll::Ready(None);
        }
        let at = this.size.min(this.bytes.len());
        Poll::Ready(Some(this.bytes.split_to(at)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.stage.is_finished() {
            return (0, Some(0));
        }
        let n = self.bytes.len().div_ceil(self.size);
        (n, Some(n))
    }
}

impl Source for Chunks {
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl fmt::Debug for Chunks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chunks")
            .field("remaining", &self.bytes.len())
            .field("size", &self.size)
            .finish()
    }
}
