//! Both ends of one ESP security association, as a DMVPN spoke protects its GRE packets: the
//! sender encrypts with AES-128-CBC and HMAC-SHA-1-96, the receiver's [`Inbound`] checks the
//! sequence number against the anti-replay window, verifies the ICV and decrypts in place. A
//! replayed packet, one from before the window and a tampered one are refused, each with its
//! typed error.
//!
//! ```sh
//! cargo run -p dmvpn-esp --example esp_anti_replay
//! ```

use std::error::Error;

use dmvpn_esp::{Encryption, Inbound, Integrity, NextHeader, Packet, Sa};

fn main() -> Result<(), Box<dyn Error>> {
    // The keys are examples; in a capture they come from `ip xfrm state` or a key log.
    let (spi, key, auth) = (0x1000_a001, [0x11; 16], [0x22; 20]);
    let sender = Sa::new(spi, Encryption::AesCbc, &key, Integrity::HmacSha1_96, &auth)?;
    let mut receiver = Inbound::<1>::new(Sa::new(
        spi,
        Encryption::AesCbc,
        &key,
        Integrity::HmacSha1_96,
        &auth,
    )?);

    // GRE (protocol type 0x2001, NHRP) as the payload, sequence numbers 1 to 100.
    let gre = [0x00, 0x00, 0x20, 0x01, 0x00, 0x01, 0x08, 0x00];
    let mut sent = Vec::new();
    for seq in 1..=100u64 {
        let iv = [seq as u8; 16]; // a real sender draws a random IV per packet
        let mut packet = Vec::new();
        sender.encrypt(seq, &iv, NextHeader::GRE, &gre, &mut packet)?;
        sent.push(packet);
    }
    let header = Packet::new_checked(&sent[0][..])?;
    println!(
        "SPI {:#010x}: {} packets of {} bytes",
        header.spi(),
        sent.len(),
        sent[0].len()
    );

    // Packets 1..=80 arrive, then 100, then 90 (late but inside the 64-packet window).
    let order = (0..80).chain([99, 89]);
    for i in order {
        let mut packet = sent[i].clone();
        let decrypted = receiver.decrypt_in_place(&mut packet)?;
        assert_eq!(
            (decrypted.next_header, decrypted.payload),
            (NextHeader::GRE, &gre[..])
        );
    }
    println!("82 packets decrypted, out of order included");

    let refused = [
        ("packet 90 again", sent[89].clone()),
        ("packet 20, before the window", sent[19].clone()),
        ("packet 95 with a flipped bit", {
            let mut packet = sent[94].clone();
            packet[30] ^= 1;
            packet
        }),
    ];
    for (what, mut packet) in refused {
        match receiver.decrypt_in_place(&mut packet) {
            Ok(_) => return Err(format!("{what} was accepted").into()),
            Err(error) => println!("{what}: {error}"),
        }
    }
    let decrypted = receiver.decrypt_in_place(&mut sent[94]).is_ok();
    println!("packet 95 as sent: decrypted {decrypted}");
    Ok(())
}
