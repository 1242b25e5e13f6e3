//! Prints an ISAKMP (IKEv1) message payload by payload: its one-line summary, then each
//! payload decoded (SA proposals and transforms, vendor IDs by name, notifications, NAT-D …).
//!
//! ```sh
//! cargo run -p dmvpn-isakmp --example isakmp_dump -- FILE
//! ```
//!
//! FILE holds one message as raw bytes: a UDP/500 payload, or a UDP/4500 payload with its
//! four-byte non-ESP marker (Wireshark: select the UDP payload, "Export Packet Bytes"). Without
//! FILE, a message is built with [`Chain`] and [`Builder`] and printed.

use std::error::Error;

use dmvpn_isakmp::builder::{Builder, Chain};
use dmvpn_isakmp::consts::ExchangeType;
use dmvpn_isakmp::header::NON_ESP_MARKER;
use dmvpn_isakmp::{Body, Flags, Message, PayloadType};

fn main() -> Result<(), Box<dyn Error>> {
    let bytes = match std::env::args_os().nth(1) {
        Some(path) => std::fs::read(path)?,
        None => {
            let mut chain = Chain::new();
            chain
                .push(PayloadType::NONCE, &Body::Nonce(&[0x5a; 16]))
                .push(
                    PayloadType::VENDOR_ID,
                    &Body::VendorId(b"an example vendor ID"),
                );
            let header = Builder::new([1; 8], [2; 8], ExchangeType::INFORMATIONAL, Flags(0), 7);
            header.to_vec(&chain)?
        }
    };
    let message = bytes.strip_prefix(&NON_ESP_MARKER[..]).unwrap_or(&bytes);
    let message = Message::parse(message)?;
    println!("{}", message.summary(None));
    let context = message.context(None);
    let Some(payloads) = message.payloads() else {
        println!("  (encrypted: the payloads need the IKE SA's keys, see dmvpn_isakmp::crypto)");
        return Ok(());
    };
    for payload in payloads {
        let payload = payload?;
        match payload.decode(context) {
            Ok(body) => println!("  {:?}: {body}", payload.ty),
            Err(e) => println!("  {:?}: {e}", payload.ty),
        }
    }
    Ok(())
}
