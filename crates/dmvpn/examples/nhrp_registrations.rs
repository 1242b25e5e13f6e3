//! Prints every NHRP registration in a capture: who registered which tunnel address at which
//! NBMA address, for how long, and what the hub answered. NHRP inside ESP is read when the
//! key file holds the SA.
//!
//! ```sh
//! cargo run -p dmvpn --example nhrp_registrations -- \
//!     testdata/dmvpn/phase1.pcap testdata/dmvpn/phase1.esp_sa
//! ```
//!
//! Arguments: a pcap or pcapng capture (gzip-compressed or not) and, optionally, a Wireshark
//! `esp_sa` key file.

use std::error::Error;
use std::path::PathBuf;

use dmvpn::capture::{CaptureReader, Frame, Timestamp};
use dmvpn::decode::{Decoder, Layer, Sink};
use dmvpn::keys::EspKeys;
use dmvpn_nhrp::{Address, Message};

/// A [`Sink`] that prints one line per Registration Request or Reply.
#[derive(Default)]
struct Registrations {
    frame: u64,
    time: Option<Timestamp>,
    requests: usize,
    replies: usize,
}

impl Sink for Registrations {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        self.frame = frame.number;
        self.time = Some(frame.timestamp);
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        let Layer::Nhrp(nhrp) = layer else { return };
        let (what, control) = match &nhrp.message {
            Message::RegistrationRequest(control) => {
                self.requests += 1;
                ("request", control)
            }
            Message::RegistrationReply(control) => {
                self.replies += 1;
                ("reply  ", control)
            }
            _ => return,
        };
        let time = self.time.map(|t| t.to_string()).unwrap_or_default();
        print!(
            "{:>5} {time} {what} id {:<6} tunnel {} nbma {} -> {}",
            self.frame,
            control.request_id,
            Address(nhrp.src_proto),
            nhrp.src_nbma.display(),
            Address(nhrp.dst_proto),
        );
        for cie in control.cies.iter() {
            print!(
                "  [code {}, holding time {} s, mtu {}]",
                cie.code.0, cie.holding_time, cie.mtu
            );
        }
        println!();
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let capture = args
        .next()
        .ok_or("usage: nhrp_registrations CAPTURE [ESP_SA_FILE]")?;
    let keys = match args.next() {
        Some(path) => EspKeys::from_file(path)?,
        None => EspKeys::default(),
    };
    let mut decoder = Decoder::new(keys);
    let mut reader = CaptureReader::open(&capture)?;
    let mut sink = Registrations::default();
    while let Some(frame) = reader.next_frame()? {
        decoder.decode(&frame, &mut sink);
    }
    println!(
        "{} registration requests, {} replies in {}",
        sink.requests,
        sink.replies,
        capture.display()
    );
    Ok(())
}
