//! Aleph's `streaming-numbers-handler`, shared by the Aleph examples (`#[path]` modules, not an
//! example of its own).

use std::time::Duration;

use weir::http::{Body, Request, Response};
use weir::stream::{self, SourceExt};
use weir::{Deferred, Error};

/// `GET /numbers?count=N` (10 by default): the numbers 0 to N-1, one a line, one each `period`,
/// streamed as they are made (Manifold's `s/periodically` and `(take n)`).
pub fn numbers(request: &Request<Body>, period: Duration) -> Deferred<Response<Body>, Error> {
    let count = request
        .uri()
        .query()
        .and_then(|query| query.strip_prefix("count="))
        .and_then(|count| count.parse().ok())
        .unwrap_or(10);
    let mut next = 0u64;
    let numbers = stream::periodically(period, move || {
        let line = format!("{next}\n");
        next += 1;
        Ok::<_, Error>(line)
    })
    .transform(stream::xform::take(count));
    Deferred::succeeded(Response::new(Body::from_source(numbers)))
}
