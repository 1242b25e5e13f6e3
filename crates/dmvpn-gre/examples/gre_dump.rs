//! Decodes a GRE packet from a file of raw bytes (Wireshark's "Export Packet Bytes" of the GRE
//! layer, or one of `testdata/gre/*.bin`) and prints its header, the checksum result and the
//! payload's size.
//!
//! ```sh
//! cargo run -p dmvpn-gre --example gre_dump -- testdata/gre/checksum_key_sequence_nhrp.bin
//! ```

use std::error::Error;

use dmvpn_gre::{Packet, Repr};

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args_os()
        .nth(1)
        .ok_or("usage: gre_dump FILE (the GRE header and what follows, raw)")?;
    let bytes = std::fs::read(&path)?;
    let packet = Packet::new_checked(&bytes[..])?;
    if packet.version() == 1 {
        let repr = dmvpn_gre::enhanced::Repr::parse(&packet)?;
        println!("enhanced GRE (PPTP): {repr:?}");
        return Ok(());
    }
    let repr = Repr::parse(&packet)?;
    println!("GRE, protocol type {:?}", repr.protocol);
    if let Some(key) = repr.key {
        println!("  key       {key} ({key:#x})");
    }
    if let Some(sequence) = repr.sequence {
        println!("  sequence  {sequence}");
    }
    if repr.checksum {
        let ok = if packet.verify_checksum() {
            "correct"
        } else {
            "WRONG"
        };
        println!("  checksum  {:#06x}, {ok}", packet.checksum().unwrap_or(0));
    }
    println!(
        "  header {} bytes, payload {} bytes",
        repr.buffer_len(),
        packet.payload().len()
    );
    Ok(())
}
