//! Upload and download progress: a body that reports the bytes it has passed on.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::Error;
use crate::http::Body;

/// A progress callback: bytes so far, and the total when known.
pub(crate) type Callback = Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

/// `body`, calling `callback` after each chunk with the bytes so far and the total.
pub(crate) fn track(body: Body, callback: Callback) -> Body {
    let total = http_body::Body::size_hint(&body).exact();
    Body::from_http_body(Tracked {
        body,
        callback,
        so_far: 0,
        total,
    })
}

struct Tracked {
    body: Body,
    callback: Callback,
    so_far: u64,
    total: Option<u64>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        if let Some(Ok(frame)) = &frame {
            if let Some(data) = frame.data_ref() {
                self.so_far += data.len() as u64;
                (self.callback)(self.so_far, self.total);
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
