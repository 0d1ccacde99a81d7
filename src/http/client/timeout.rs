//! `PhaseTimeout`: which phase of a client request ran out of time, and for which host.

use std::fmt;
use std::time::Duration;

use crate::Error;

/// The phase of a client request that ran out of time; see [`Error::is_pool_timeout`] and
/// its siblings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Waiting for a pooled connection (Aleph's `:pool-timeout`).
    PoolAcquire,
    /// Connecting, the TLS handshake included (Aleph's `:connection-timeout`).
    Connect,
    /// From sending the request until the response head (Aleph's `:request-timeout`).
    Request,
    /// Reading the response body until its end (Aleph's `:read-timeout`).
    Read,
    /// The whole request, end to end.
    Total,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::PoolAcquire => "pool acquire",
            Phase::Connect => "connect",
            Phase::Request => "request",
            Phase::Read => "read",
            Phase::Total => "total",
        }
    }
}

/// The source of a client timeout error: the phase, the host and the limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseTimeout {
    pub(crate) phase: Phase,
    pub(crate) host: String,
    pub(crate) after: Duration,
}

impl PhaseTimeout {
    /// The phase that ran out of time.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::client::{Phase, PhaseTimeout};
    /// # fn check(timeout: &PhaseTimeout) {
    /// assert_eq!(timeout.phase(), Phase::Connect);
    /// # }
    /// ```
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The host (`host:port`) the request was for.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn check(timeout: &weir::http::client::PhaseTimeout) {
    /// assert!(timeout.host().contains(':'));
    /// # }
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for PhaseTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} timeout for {} after {:?}",
            self.phase.name(),
            self.host,
            self.after
        )
    }
}

impl std::error::Error for PhaseTimeout {}

/// A timeout error of `phase` for `host`.
pub(crate) fn error(phase: Phase, host: &str, after: Duration) -> Error {
    Error::timed_out_because(PhaseTimeout {
        phase,
        host: host.to_string(),
        after,
    })
}

/// The phase of a client timeout error.
pub(crate) fn phase_of(error: &Error) -> Option<Phase> {
    error
        .downcast_ref::<PhaseTimeout>()
        .map(PhaseTimeout::phase)
}
