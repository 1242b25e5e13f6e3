//! Display helpers shared by the decoders.

use core::fmt;

/// Prints bytes as lowercase hex with no separators.
///
/// ```
/// use dmvpn_wire::fmt::Hex;
/// assert_eq!(Hex(&[0xde, 0xad, 0x01]).to_string(), "dead01");
/// ```
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
