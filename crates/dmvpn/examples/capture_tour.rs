//! The `dmvpn` library in one pass over a capture: what `dmvpn decode --format summary`,
//! `dmvpn sessions`, `dmvpn decrypt` and `dmvpn replay --into hub` do, each in a few lines.
//!
//! ```sh
//! cargo run -p dmvpn --example capture_tour -- testdata/dmvpn/phase1.pcap testdata/dmvpn/phase1.esp_sa
//! ```
//!
//! Arguments: a pcap or pcapng capture and, optionally, a Wireshark `esp_sa` key file. The
//! decrypted copy goes to the system's temporary directory.

use std::error::Error;
use std::path::PathBuf;

use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, IkeKeys, Summary};
use dmvpn::keys::EspKeys;
use dmvpn::replay::into::{self, IntoOptions, Role};
use dmvpn::session::SessionBuilder;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let capture = args
        .next()
        .ok_or("usage: capture_tour CAPTURE [ESP_SA_FILE]")?;
    let key_file = args.next();
    // Key sets are not `Clone` (each secret lives in one place): load one per consumer.
    let keys = || -> Result<EspKeys, Box<dyn Error>> {
        Ok(match &key_file {
            Some(path) => EspKeys::from_file(path)?,
            None => EspKeys::default(),
        })
    };

    // 1. Decode every frame into a counting sink (a `Sink` sees every layer of every frame).
    let mut reader = CaptureReader::open(&capture)?;
    let mut decoder = Decoder::new(keys()?);
    let mut summary = Summary::default();
    while let Some(frame) = reader.next_frame()? {
        decoder.decode(&frame, &mut summary);
    }
    println!("== what the capture holds\n{summary}");

    // 2. Sessions: one record per hub-spoke pair, and the diagnosis.
    let mut reader = CaptureReader::open(&capture)?;
    let report = SessionBuilder::run(&mut reader, &mut Decoder::new(keys()?))?;
    println!("== {} peer pairs", report.peers.len());
    for pair in &report.peers {
        println!(
            "{} <-> {}: {} frames, tunnel addresses {:?}",
            pair.a,
            pair.b,
            pair.frames,
            pair.tunnel.keys().collect::<Vec<_>>()
        );
    }
    for finding in &report.findings {
        println!(
            "{} {}: {} (frames {:?})",
            finding.severity.name(),
            finding.rule.id(),
            finding.message,
            finding.frames
        );
    }

    // 3. A decrypted copy: each ESP packet the keys open replaced by its plaintext.
    let out = std::env::temp_dir().join("capture_tour-decrypted.pcapng");
    let mut reader = CaptureReader::open(&capture)?;
    let stats = dmvpn::decrypt::decrypt(
        &mut reader,
        &mut Decoder::new(keys()?),
        std::fs::File::create(&out)?,
    )?;
    println!(
        "== {} of {} frames decrypted into {}",
        stats.replaced,
        stats.frames,
        out.display()
    );

    // 4. The capture's hub played by dmvpn-proto's node machine, on the capture's clock.
    let mut both = || (keys().unwrap_or_default(), IkeKeys::default());
    match into::run(&capture, &mut both, &IntoOptions::new(Role::Hub)) {
        Ok(timeline) => println!(
            "== the hub machine: {} registrations, {} EIGRP neighbours at the end",
            timeline.registrations.len(),
            timeline.neighbors.len()
        ),
        Err(error) => println!("== no hub to play: {error}"),
    }
    Ok(())
}
