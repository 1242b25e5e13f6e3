//! Walks a type-length-value list with the bounds-checked [`Reader`] and checks an Internet
//! checksum, the two things every `dmvpn-*` codec does: give it bytes as hex and see either the
//! records or the error naming the field and offset where they stop making sense.
//!
//! ```sh
//! cargo run -p dmvpn-wire --example tlv_walk -- 00010006123400020008ab   # the second value is cut short
//! ```
//!
//! Each record: a 2-byte type, a 2-byte length counting the whole record (as in NHRP
//! extensions and EIGRP TLVs), then the value.

use std::error::Error;

use dmvpn_wire::{Layer, Reader, checksum};

fn main() -> Result<(), Box<dyn Error>> {
    let hex = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "0001000612340002000500".to_string());
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("x"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| format!("not an even number of hex digits: {hex}"))?;
    println!(
        "{} bytes, Internet checksum {:#06x}",
        bytes.len(),
        checksum::compute(&bytes)
    );

    let mut reader = Reader::new(Layer::Nhrp, &bytes);
    while !reader.is_empty() {
        let at = reader.offset();
        let walked = (|| {
            let ty = reader.u16("type")?;
            let len = reader.u16("length")?;
            let value = reader.take(usize::from(len).saturating_sub(4), "value")?;
            Ok::<_, dmvpn_wire::Error>((ty, value))
        })();
        match walked {
            Ok((ty, value)) => println!("  offset {at}: type {ty}, value {value:02x?}"),
            Err(e) => {
                println!("  {e}");
                break;
            }
        }
    }
    Ok(())
}
