//! Byte positions of fixed-offset header fields.
//!
//! Views declare their layout as constants, smoltcp-style:
//!
//! ```
//! use dmvpn_wire::field::{Field, Rest};
//!
//! const SPI: Field = 0..4;
//! const SEQUENCE: Field = 4..8;
//! const PAYLOAD: Rest = 8..;
//! assert_eq!(SPI.end, SEQUENCE.start);
//! assert_eq!(PAYLOAD.start, SEQUENCE.end);
//! ```

/// A field at a fixed byte range.
pub type Field = core::ops::Range<usize>;

/// Everything from a fixed offset to the end of the buffer.
pub type Rest = core::ops::RangeFrom<usize>;
