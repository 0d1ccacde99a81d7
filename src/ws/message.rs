//! `Message`: what a WebSocket carries, text or binary.

use std::fmt;

use bytes::Bytes;

/// One WebSocket message: text arrives as a `String`, binary as [`Bytes`]; fragments are
/// joined and control frames (ping, pong, close) are handled by the socket, never seen here.
///
/// Outbound, anything that converts into a `Message` can be put: `String` and `&str` send
/// text, `Bytes`, `Vec<u8>` and `&'static [u8]` send binary.
///
/// # Examples
///
/// ```
/// use weir::ws::Message;
///
/// let text = Message::from("hello");
/// assert!(text.is_text());
/// assert_eq!(text.as_text(), Some("hello"));
/// let binary = Message::from(vec![1u8, 2, 3]);
/// assert!(binary.is_binary());
/// assert_eq!(binary.len(), 3);
/// assert_eq!(binary.into_bytes(), &[1u8, 2, 3][..]);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (valid UTF-8, checked on arrival).
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// True for a text message.
    ///
    /// ```
    /// assert!(weir::ws::Message::from("hi").is_text());
    /// ```
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// True for a binary message.
    ///
    /// ```
    /// assert!(weir::ws::Message::from(&b"hi"[..]).is_binary());
    /// ```
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// The text of a text message; `None` for binary.
    ///
    /// ```
    /// assert_eq!(weir::ws::Message::from("hi").as_text(), Some("hi"));
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The payload's bytes, whichever the kind.
    ///
    /// ```
    /// assert_eq!(weir::ws::Message::from("hi").as_bytes(), b"hi");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// The payload's length in bytes.
    ///
    /// ```
    /// assert_eq!(weir::ws::Message::from("héllo").len(), 6);
    /// ```
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// True when the payload is empty.
    ///
    /// ```
    /// assert!(weir::ws::Message::from("").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload as bytes (no copy for binary; text gives up its buffer).
    ///
    /// ```
    /// assert_eq!(weir::ws::Message::from("hi").into_bytes(), "hi");
    /// ```
    pub fn into_bytes(self) -> Bytes {
        match self {
            Message::Text(text) => Bytes::from(text),
            Message::Binary(bytes) => bytes,
        }
    }

    /// The text of a text message, or the message back when it is binary.
    ///
    /// ```
    /// assert_eq!(weir::ws::Message::from("hi").into_text().unwrap(), "hi");
    /// assert!(weir::ws::Message::from(vec![0u8]).into_text().is_err());
    /// ```
    pub fn into_text(self) -> Result<String, Message> {
        match self {
            Message::Text(text) => Ok(text),
            binary => Err(binary),
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Text(text) if text.len() <= 64 => f.debug_tuple("Text").field(text).finish(),
            Message::Text(text) => write!(f, "Text({} bytes)", text.len()),
            Message::Binary(bytes) if bytes.len() <= 64 => {
                f.debug_tuple("Binary").field(bytes).finish()
            }
            Message::Binary(bytes) => write!(f, "Binary({} bytes)", bytes.len()),
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::Text(text.to_owned())
    }
}

impl From<&String> for Message {
    fn from(text: &String) -> Message {
        Message::Text(text.clone())
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Message {
        Message::Binary(bytes)
    }
}

impl From<bytes::BytesMut> for Message {
    fn from(bytes: bytes::BytesMut) -> Message {
        Message::Binary(bytes.freeze())
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Message {
        Message::Binary(Bytes::from(bytes))
    }
}

impl From<&'static [u8]> for Message {
    fn from(bytes: &'static [u8]) -> Message {
        Message::Binary(Bytes::from_static(bytes))
    }
}

impl<const N: usize> From<&'static [u8; N]> for Message {
    fn from(bytes: &'static [u8; N]) -> Message {
        Message::Binary(Bytes::from_static(bytes))
    }
}
