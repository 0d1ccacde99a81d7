//! `CloseFrame`: the status a WebSocket closed with.

use std::fmt;

/// The status of a closing handshake: the code and reason of a close frame, or one of the
/// codes RFC 6455 reserves for what no frame carries (1005: a close frame without a status,
/// 1006: the connection ended without a close frame).
///
/// It is what [`WebSocket::close_status`](super::WebSocket::close_status) reports, and the
/// source of the inbound side's drain cause when the close was not a normal one
/// (`error.downcast_ref::<CloseFrame>()`).
///
/// # Examples
///
/// ```
/// use weir::ws::CloseFrame;
///
/// let status = CloseFrame::new(1008, "policy");
/// assert_eq!(status.code(), 1008);
/// assert_eq!(status.reason(), "policy");
/// assert!(!status.is_normal());
/// assert!(CloseFrame::new(1000, "").is_normal());
/// assert_eq!(status.to_string(), "websocket closed with 1008 (policy)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    code: u16,
    reason: String,
}

impl CloseFrame {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// The endpoint is going away (a server shutting down, a page left).
    pub const GOING_AWAY: u16 = 1001;
    /// The peer broke the protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A kind of data the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// Reserved: a close frame without a status code.
    pub const NO_STATUS: u16 = 1005;
    /// Reserved: the connection ended without a close frame.
    pub const ABNORMAL: u16 = 1006;
    /// A text message that was not UTF-8, or similar inconsistent data.
    pub const INVALID_DATA: u16 = 1007;
    /// A message that violates the endpoint's policy.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A frame or message larger than the endpoint accepts.
    pub const TOO_BIG: u16 = 1009;
    /// The client expected an extension the server did not agree to.
    pub const MISSING_EXTENSION: u16 = 1010;
    /// An unexpected condition on the endpoint (weir sends it when a heartbeat goes
    /// unanswered).
    pub const INTERNAL_ERROR: u16 = 1011;

    /// A status with `code` and `reason`.
    ///
    /// ```
    /// assert_eq!(weir::ws::CloseFrame::new(4000, "bye").code(), 4000);
    /// ```
    pub fn new(code: u16, reason: impl Into<String>) -> CloseFrame {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }

    /// The status code.
    ///
    /// ```
    /// assert_eq!(weir::ws::CloseFrame::new(1000, "").code(), 1000);
    /// ```
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The reason (empty when none was given).
    ///
    /// ```
    /// assert_eq!(weir::ws::CloseFrame::new(1000, "done").reason(), "done");
    /// ```
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// True for a clean closure: 1000 (normal), 1001 (going away: a browser leaving the page,
    /// a server shutting down) or a close frame without a status (1005). A socket closed so
    /// drains without an error.
    ///
    /// ```
    /// assert!(weir::ws::CloseFrame::new(1005, "").is_normal());
    /// assert!(weir::ws::CloseFrame::new(1001, "").is_normal());
    /// assert!(!weir::ws::CloseFrame::new(1006, "").is_normal());
    /// assert!(!weir::ws::CloseFrame::new(4000, "").is_normal());
    /// ```
    pub fn is_normal(&self) -> bool {
        matches!(self.code, Self::NORMAL | Self::GOING_AWAY | Self::NO_STATUS)
    }
}

impl fmt::Display for CloseFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "websocket closed with {}", self.code)
        } else {
            write!(f, "websocket closed with {} ({})", self.code, self.reason)
        }
    }
}

impl std::error::Error for CloseFrame {}
