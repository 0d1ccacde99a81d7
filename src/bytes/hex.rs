//! `hex_dump`: byte-streams' `print-bytes`.

use std::fmt::Write;

/// The bytes as a hex and ASCII dump, 16 bytes per line, in the layout of `hexdump -C`:
/// the offset in hex, the bytes in hex (in two groups of eight), then the printable ASCII
/// characters between bars, with `.` for the others. Each line ends with `\n`; no bytes give an
/// empty string. byte-streams' `print-bytes`, returning the text instead of printing it.
///
/// # Examples
///
/// ```
/// let dump = weir::bytes::hex_dump(b"hello, world\n\x00\xff!");
/// assert_eq!(
///     dump,
///     "00000000  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 0a 00 ff 21  |hello, world...!|\n"
/// );
/// assert_eq!(
///     weir::bytes::hex_dump(b"0123456789abcdefXY"),
///     "00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n\
///      00000010  58 59                                             |XY|\n"
/// );
/// ```
pub fn hex_dump(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let mut out = String::with_capacity(bytes.len().div_ceil(16) * 78);
    for (line, row) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:08x}  ", line * 16);
        for i in 0..16 {
            match row.get(i) {
                Some(byte) => {
                    let _ = write!(out, "{byte:02x} ");
                }
                None => out.push_str("   "),
            }
            if i == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        out.extend(row.iter().map(|&byte| {
            if byte.is_ascii_graphic() || byte == b' ' {
                char::from(byte)
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
    out
}
