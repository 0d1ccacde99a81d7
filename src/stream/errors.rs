//! The errors of stream operations; a failed put hands its message back.

use std::fmt;
use std::time::Duration;

/// Why a put was refused, with the message that was not delivered
/// ([`into_inner`](PutError::into_inner)).
///
/// # Examples
///
/// ```
/// use weir::stream::Channel;
///
/// # weir::runtime::block_on(async {
/// let s = Channel::<u32>::new(1);
/// s.close();
/// let refused = s.put(7).await.unwrap_err();
/// assert!(refused.is_closed());
/// assert_eq!(refused.into_inner(), 7);
/// # });
/// ```
pub struct PutError<T> {
    message: T,
    reason: PutFailure,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PutFailure {
    Closed,
    Timeout(Duration),
    TooManyPending(usize),
}

impl<T> PutError<T> {
    pub(crate) fn closed(message: T) -> Self {
        PutError {
            message,
            reason: PutFailure::Closed,
        }
    }

    pub(crate) fn timeout(message: T, after: Duration) -> Self {
        PutError {
            message,
            reason: PutFailure::Timeout(after),
        }
    }

    pub(crate) fn too_many_pending(message: T, limit: usize) -> Self {
        PutError {
            message,
            reason: PutFailure::TooManyPending(limit),
        }
    }

    /// The message that was not delivered.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// True when the stream was closed (Manifold's `false` from `put!`).
    pub fn is_closed(&self) -> bool {
        self.reason == PutFailure::Closed
    }

    /// True when a [`try_put`](super::Channel::try_put) ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self.reason, PutFailure::Timeout(_))
    }

    /// True when the stream already had its limit of pending puts
    /// ([`MAX_PENDING_PUTS`](super::MAX_PENDING_PUTS)): the producer outran the consumer.
    pub fn is_too_many_pending(&self) -> bool {
        matches!(self.reason, PutFailure::TooManyPending(_))
    }

    /// The same failure as a [`weir::Error`](crate::Error), dropping the message.
    pub fn to_error(&self) -> crate::Error {
        match self.reason {
            PutFailure::Closed => crate::Error::closed("stream"),
            PutFailure::Timeout(after) => crate::Error::timed_out(after),
            PutFailure::TooManyPending(_) => crate::Error::msg(self.to_string()),
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            PutFailure::Closed => f.write_str("put into a closed stream"),
            PutFailure::Timeout(after) => write!(f, "put timed out after {after:?}"),
            PutFailure::TooManyPending(limit) => {
                write!(
                    f,
                    "put refused: the stream already has {limit} pending puts"
                )
            }
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

impl<T> From<PutError<T>> for crate::Error {
    fn from(error: PutError<T>) -> Self {
        error.to_error()
    }
}

/// Why a [`try_take`](super::Channel::try_take) returned no message.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::stream::{Channel, TakeError};
///
/// # weir::runtime::block_on(async {
/// let s = Channel::<u32>::new(1);
/// assert_eq!(s.try_take(Duration::ZERO).await, Err(TakeError::Timeout));
/// s.close();
/// assert_eq!(s.try_take(Duration::ZERO).await, Err(TakeError::Drained));
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TakeError {
    /// Nothing arrived in time; the stream is still open.
    Timeout,
    /// The stream is closed and empty: nothing will ever arrive.
    Drained,
    /// [`MAX_PENDING_TAKES`](super::MAX_PENDING_TAKES) other takes already wait: this one is
    /// refused; the stream stays open for them.
    TooManyPending,
}

impl fmt::Display for TakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TakeError::Timeout => f.write_str("take timed out"),
            TakeError::Drained => f.write_str("stream drained"),
            TakeError::TooManyPending => write!(
                f,
                "take refused: {} takes already wait",
                super::MAX_PENDING_TAKES
            ),
        }
    }
}

impl std::error::Error for TakeError {}
