//! Byte arrays written as hex digits, for constant vectors and tables: [`array()`] and the
//! [`hex_consts!`](crate::hex_consts) macro.
//!
//! A captured frame reads as one line of hex, as `tshark -x` and the RFCs print it, instead of
//! rows of `0x..` literals that every other vector repeats in shape.

/// The bytes the hex digits of `text` spell, two digits a byte, most significant first; spaces
/// between digits are skipped, so `"0800 4500"` is `[0x08, 0x00, 0x45, 0x00]`.
///
/// # Panics
///
/// If `text` holds anything but hex digits and spaces, or not exactly `2 * N` digits. It is meant
/// for constants, where that panic is a compile error.
///
/// ```
/// const PREFIX: [u8; 4] = dmvpn_wire::hex::array("0800 45c0");
/// assert_eq!(PREFIX, [0x08, 0x00, 0x45, 0xc0]);
/// ```
#[must_use]
pub const fn array<const N: usize>(text: &str) -> [u8; N] {
    let text = text.as_bytes();
    let mut out = [0; N];
    let mut digits = 0;
    let mut i = 0;
    while i < text.len() {
        let value = match text[i] {
            b' ' => {
                i += 1;
                continue;
            }
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("not a hex digit"),
        };
        assert!(digits < 2 * N, "more hex digits than the array holds");
        out[digits / 2] |= value << (4 * (1 - digits % 2));
        digits += 1;
        i += 1;
    }
    assert!(digits == 2 * N, "fewer hex digits than the array holds");
    out
}

/// Declares byte-array constants from hex strings, one line each, through [`hex::array`](array()).
///
/// rustfmt leaves the inside of the macro alone, so a long vector stays on its one line.
///
/// ```
/// dmvpn_wire::hex_consts! {
///     /// An IPv4 EtherType and the first byte of an IPv4 header.
///     pub const ETHER_IPV4: [u8; 3] = "0800 45";
///     const EMPTY: [u8; 0] = "";
/// }
/// assert_eq!(ETHER_IPV4, [0x08, 0x00, 0x45]);
/// assert_eq!(EMPTY, []);
/// ```
#[macro_export]
macro_rules! hex_consts {
    ($($(#[$meta:meta])* $vis:vis const $name:ident: [u8; $len:expr] = $hex:literal;)*) => {
        $(
            $(#[$meta])*
            $vis const $name: [u8; $len] = $crate::hex::array::<{ $len }>($hex);
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::array;

    #[test]
    fn digits_spaces_and_case() {
        assert_eq!(array::<0>(""), []);
        assert_eq!(array::<3>("00ff7E"), [0x00, 0xff, 0x7e]);
        assert_eq!(array::<4>(" 0a0B 0c 0D "), [0x0a, 0x0b, 0x0c, 0x0d]);
    }

    #[test]
    fn wrong_digit_counts_and_characters_panic() {
        for (text, len) in [("abc", 2), ("abcdef", 2), ("0x00", 2), ("zz", 1)] {
            let result = std::panic::catch_unwind(|| match len {
                1 => array::<1>(text).to_vec(),
                _ => array::<2>(text).to_vec(),
            });
            assert!(result.is_err(), "{text:?} into {len} bytes");
        }
    }
}
