//! The error shared by weir's adapters, timers and network layers.

use std::any::Any;
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// The error weir reports for network, timer and adapter failures.
///
/// It is cheap to clone (one reference count), so one failure can be handed to every listener of a
/// [`Deferred`](crate::Deferred). What went wrong is asked through predicates such as
/// [`is_timeout`](Error::is_timeout) and [`is_closed`](Error::is_closed); the underlying cause, if
/// any, is [`source`](std::error::Error::source).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let err = weir::Error::timed_out(Duration::from_millis(250));
/// assert!(err.is_timeout());
/// assert!(!err.is_closed());
/// assert_eq!(err.to_string(), "timed out after 250ms");
///
/// let io = weir::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
/// assert!(io.is_io());
/// assert!(std::error::Error::source(&io).is_some());
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

struct Inner {
    kind: Kind,
    message: Option<Cow<'static, str>>,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Timeout,
    Closed,
    Cancelled,
    Io,
    Protocol,
    Panic,
    Other,
}

impl Error {
    fn new(kind: Kind, message: Option<Cow<'static, str>>) -> Self {
        Error {
            inner: Arc::new(Inner {
                kind,
                message,
                source: None,
            }),
        }
    }

    fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.source = Some(Arc::new(source));
        }
        self
    }

    /// An operation that did not finish within `after`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::Error::timed_out(std::time::Duration::from_secs(2));
    /// assert!(err.is_timeout());
    /// ```
    pub fn timed_out(after: Duration) -> Self {
        Error::new(Kind::Timeout, Some(format!("after {after:?}").into()))
    }

    /// A timeout whose details are `source` (an HTTP client phase, say).
    #[allow(dead_code, reason = "used by the HTTP client only")]
    pub(crate) fn timed_out_because(source: impl StdError + Send + Sync + 'static) -> Self {
        Error::new(Kind::Timeout, None).with_source(source)
    }

    /// Something that was closed: a stream, a connection or a server.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::Error::closed("connection");
    /// assert!(err.is_closed());
    /// assert_eq!(err.to_string(), "connection closed");
    /// ```
    pub fn closed(what: impl Into<Cow<'static, str>>) -> Self {
        Error::new(Kind::Closed, Some(what.into()))
    }

    /// Work that was cancelled before it finished.
    ///
    /// Realizing a [`Deferred`](crate::Deferred) with this error is the usual way to cancel the
    /// work behind it.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::Error::cancelled();
    /// assert!(err.is_cancelled());
    /// assert_eq!(err.to_string(), "cancelled");
    /// ```
    pub fn cancelled() -> Self {
        Error::new(Kind::Cancelled, None)
    }

    /// A peer that broke the rules of its protocol.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::Error::protocol("frame longer than 1 MiB");
    /// assert!(err.is_protocol());
    /// assert_eq!(err.to_string(), "protocol error: frame longer than 1 MiB");
    /// ```
    pub fn protocol(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(Kind::Protocol, Some(message.into()))
    }

    /// A protocol error with its underlying cause (reachable through `source()`).
    #[cfg_attr(
        not(feature = "tls"),
        allow(dead_code, reason = "used by the TLS adapter")
    )]
    pub(crate) fn protocol_with_source(
        message: impl Into<Cow<'static, str>>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Error::new(Kind::Protocol, Some(message.into())).with_source(source)
    }

    /// Something that closed for a reason `source` describes (a WebSocket's close status).
    #[allow(dead_code, reason = "used by the WebSocket adapter")]
    pub(crate) fn closed_with_source(
        what: impl Into<Cow<'static, str>>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Error::new(Kind::Closed, Some(what.into())).with_source(source)
    }

    /// A panic caught in user code (a callback, a combinator stage or spawned work), with the
    /// panic's message when it carried one.
    ///
    /// # Examples
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
    /// let err = weir::Error::panicked(payload);
    /// assert!(err.is_panic());
    /// assert_eq!(err.to_string(), "panicked: boom");
    /// ```
    pub fn panicked(payload: Box<dyn Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Cow::Borrowed(*s)
        } else if let Some(s) = payload.downcast_ref::<String>() {
            Cow::Owned(s.clone())
        } else {
            Cow::Borrowed("a non-string payload")
        };
        Error::new(Kind::Panic, Some(message))
    }

    /// Any other failure, described by a message.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::Error::msg("no route to the moon");
    /// assert_eq!(err.to_string(), "no route to the moon");
    /// ```
    pub fn msg(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(Kind::Other, Some(message.into()))
    }

    /// Wraps any other error; it stays reachable through [`source`](StdError::source) and
    /// [`downcast_ref`](Error::downcast_ref).
    ///
    /// # Examples
    ///
    /// ```
    /// let parse = "x".parse::<u32>().unwrap_err();
    /// let err = weir::Error::other(parse);
    /// assert!(err.downcast_ref::<std::num::ParseIntError>().is_some());
    /// assert_eq!(err.to_string(), "invalid digit found in string");
    /// ```
    pub fn other(source: impl StdError + Send + Sync + 'static) -> Self {
        Error::new(Kind::Other, None).with_source(source)
    }

    /// Any boxed error (what hyper, h2 and tower hand back) as a weir error: a weir error
    /// inside comes back as itself, anything else is wrapped as [`Error::other`] does.
    #[allow(dead_code, reason = "used by the HTTP adapters only")]
    pub(crate) fn from_boxed(error: Box<dyn StdError + Send + Sync + 'static>) -> Self {
        match error.downcast::<Error>() {
            Ok(error) => *error,
            Err(error) => match error.downcast::<io::Error>() {
                Ok(io) => Error::from(*io),
                Err(other) => Error::other(Boxed(other)),
            },
        }
    }

    /// True for an HTTP client request that timed out waiting for a pooled connection.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!weir::Error::timed_out(std::time::Duration::ZERO).is_pool_timeout());
    /// ```
    #[cfg(feature = "http1")]
    pub fn is_pool_timeout(&self) -> bool {
        crate::http::client::phase_of(self) == Some(crate::http::client::Phase::PoolAcquire)
    }

    /// True for an HTTP client request that timed out connecting (TLS handshake included).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!weir::Error::msg("x").is_connect_timeout());
    /// ```
    #[cfg(feature = "http1")]
    pub fn is_connect_timeout(&self) -> bool {
        crate::http::client::phase_of(self) == Some(crate::http::client::Phase::Connect)
    }

    /// True for an HTTP client request whose response head did not arrive in time.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!weir::Error::msg("x").is_request_timeout());
    /// ```
    #[cfg(feature = "http1")]
    pub fn is_request_timeout(&self) -> bool {
        crate::http::client::phase_of(self) == Some(crate::http::client::Phase::Request)
    }

    /// True for an HTTP client response whose body did not end in time.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!weir::Error::msg("x").is_read_timeout());
    /// ```
    #[cfg(feature = "http1")]
    pub fn is_read_timeout(&self) -> bool {
        crate::http::client::phase_of(self) == Some(crate::http::client::Phase::Read)
    }

    /// True for an HTTP client request that passed its total deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!weir::Error::msg("x").is_total_timeout());
    /// ```
    #[cfg(feature = "http1")]
    pub fn is_total_timeout(&self) -> bool {
        crate::http::client::phase_of(self) == Some(crate::http::client::Phase::Total)
    }

    /// True for an operation that ran out of time.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == Kind::Timeout
            || self
                .downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::TimedOut)
    }

    /// True for something that was closed (a stream, a connection, a server).
    pub fn is_closed(&self) -> bool {
        self.inner.kind == Kind::Closed
    }

    /// True for cancelled work.
    pub fn is_cancelled(&self) -> bool {
        self.inner.kind == Kind::Cancelled
    }

    /// True for an I/O failure; the [`io::Error`] is the [`source`](StdError::source).
    pub fn is_io(&self) -> bool {
        self.inner.kind == Kind::Io
    }

    /// True for a peer that broke its protocol.
    pub fn is_protocol(&self) -> bool {
        self.inner.kind == Kind::Protocol
    }

    /// True for a panic caught in user code.
    pub fn is_panic(&self) -> bool {
        self.inner.kind == Kind::Panic
    }

    /// The underlying cause, if it is of type `X`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    ///
    /// let err = weir::Error::from(io::Error::from(io::ErrorKind::ConnectionRefused));
    /// let io = err.downcast_ref::<io::Error>().unwrap();
    /// assert_eq!(io.kind(), io::ErrorKind::ConnectionRefused);
    /// assert!(err.downcast_ref::<std::fmt::Error>().is_none());
    /// ```
    pub fn downcast_ref<X: StdError + 'static>(&self) -> Option<&X> {
        let source: &(dyn StdError + 'static) = self.inner.source.as_deref()?;
        source.downcast_ref::<X>()
    }

    /// True when `self` and `other` are the same error: one created once and then cloned (a
    /// clone is the same error), not two errors that merely look alike. It compares one pointer.
    /// Use it to check that the very error a deferred or stream was failed with comes back.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::{Deferred, Error};
    ///
    /// let cause = Error::msg("disk full");
    /// let d = Deferred::<u8>::failed(cause.clone()).map(|x| x + 1);
    /// let back = d.wait().unwrap_err();
    /// assert!(back.same(&cause), "the very error came back through the stage");
    /// assert!(!back.same(&Error::msg("disk full")), "an equal-looking error is another one");
    /// ```
    pub fn same(&self, other: &Error) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn description(&self) -> &'static str {
        match self.inner.kind {
            Kind::Timeout => "timed out",
            Kind::Closed => "closed",
            Kind::Cancelled => "cancelled",
            Kind::Io => "i/o error",
            Kind::Protocol => "protocol error",
            Kind::Panic => "panicked",
            Kind::Other => "error",
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("weir::Error");
        s.field("kind", &self.inner.kind);
        if let Some(message) = &self.inner.message {
            s.field("message", message);
        }
        if let Some(source) = &self.inner.source {
            s.field("source", source);
        }
        s.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.inner.message.as_deref();
        match (self.inner.kind, message) {
            (Kind::Closed, Some(what)) => write!(f, "{what} closed")?,
            (Kind::Timeout, Some(after)) => write!(f, "timed out {after}")?,
            (Kind::Other, Some(message)) => f.write_str(message)?,
            (_, Some(message)) => write!(f, "{}: {message}", self.description())?,
            // `Error::other`: the cause says it all.
            (Kind::Other, None) if self.inner.source.is_some() => {}
            (_, None) => f.write_str(self.description())?,
        }
        // The cause is also reachable through `source()`; printing it here keeps a plain
        // `{}` useful, as `io::Error` and hyper do for their wrapped causes.
        if let Some(source) = &self.inner.source {
            if self.inner.kind == Kind::Other && message.is_none() {
                write!(f, "{source}")?;
            } else {
                write!(f, ": {source}")?;
            }
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// A boxed error as an error type of its own (`Box<dyn Error>` is not one).
struct Boxed(Box<dyn StdError + Send + Sync + 'static>);

impl fmt::Debug for Boxed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Boxed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for Boxed {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::TimedOut {
            return Error::new(Kind::Timeout, None).with_source(error);
        }
        Error::new(Kind::Io, None).with_source(error)
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<Error> for io::Error {
    fn from(error: Error) -> Self {
        let kind = match error.inner.kind {
            Kind::Timeout => io::ErrorKind::TimedOut,
            Kind::Closed => io::ErrorKind::BrokenPipe,
            Kind::Io => error
                .downcast_ref::<io::Error>()
                .map_or(io::ErrorKind::Other, io::Error::kind),
            Kind::Protocol => io::ErrorKind::InvalidData,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}
