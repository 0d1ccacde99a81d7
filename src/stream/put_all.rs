//! `put_all`: put a sequence of messages into a sink, one after the other.

use std::pin::pin;

use crate::{Deferred, Error};

use super::drain_into::{Sent, send};
use super::sink::Sink;

/// Puts every item of `messages` into `sink`, in order, each only once the previous one was
/// accepted (backpressure): Manifold's `put-all!`. The sink is not closed afterwards.
///
/// The returned deferred is `Ok(())` once all were accepted. If the sink closes first, it is a
/// [closed error](Error::is_closed) saying how many messages were put (the rest of the iterator
/// is dropped); another failure of the sink is returned as it is. Only accepted messages are
/// counted: one that was still waiting when a channel closed is not, although the channel
/// keeps it takeable. The puts run as a task on
/// weir's executor; realizing the deferred with an error cancels them.
///
/// # Examples
///
/// ```
/// use weir::stream::{self, Channel};
///
/// # weir::runtime::block_on(async {
/// let sink = Channel::new(3);
/// stream::put_all(sink.clone(), vec![1, 2, 3]).await.unwrap();
/// assert_eq!(sink.take_next().await, Some(1));
///
/// sink.close();
/// let refused = stream::put_all(sink.clone(), vec![4]).await.unwrap_err();
/// assert!(refused.is_closed());
/// assert_eq!(refused.to_string(), "put_all: 0 messages were put, then the sink closed");
/// # });
/// ```
pub fn put_all<K, I>(sink: K, messages: I) -> Deferred<(), Error>
where
    I: IntoIterator,
    I::IntoIter: Send + 'static,
    I::Item: Send + 'static,
    K: Sink<I::Item> + 'static,
{
    let messages = messages.into_iter();
    Deferred::spawn(async move {
        let mut sink = pin!(sink);
        let mut put = 0usize;
        for message in messages {
            match send(sink.as_mut(), message).await {
                Sent::Accepted => put += 1,
                Sent::Closed => {
                    let counted = if put == 1 {
                        "1 message was".to_string()
                    } else {
                        format!("{put} messages were")
                    };
                    return Err(Error::closed(format!(
                        "put_all: {counted} put, then the sink"
                    )));
                }
                Sent::Failed(error) => return Err(error),
            }
        }
        Ok(())
    })
}
