//! `compare_bytes`: byte-streams' `compare-bytes`.

use std::cmp::Ordering;

/// Compares two byte buffers lexicographically, as unsigned bytes: byte-streams'
/// `compare-bytes`. A prefix sorts before the longer buffer.
///
/// # Examples
///
/// ```
/// use std::cmp::Ordering;
/// use weir::bytes::compare_bytes;
///
/// assert_eq!(compare_bytes(b"abc", b"abd"), Ordering::Less);
/// assert_eq!(compare_bytes([0xff], [0x01]), Ordering::Greater); // unsigned
/// assert_eq!(compare_bytes(b"ab", b"abc"), Ordering::Less);
/// assert_eq!(compare_bytes("same", b"same"), Ordering::Equal);
/// ```
pub fn compare_bytes(a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> Ordering {
    a.as_ref().cmp(b.as_ref())
}
