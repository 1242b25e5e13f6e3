//! Fragments an IPv4/UDP datagram for a smaller MTU, delivers the fragments out of order to a
//! [`Reassembler`], and checks that the datagram comes back whole: what a DMVPN tunnel does to
//! a packet bigger than the path MTU, and what a decoder does to get it back.
//!
//! ```sh
//! cargo run -p dmvpn-ip --example fragment_reassemble -- [PAYLOAD_BYTES [MTU]]   # 3000 1400
//! ```

use std::error::Error;
use std::net::Ipv4Addr;

use dmvpn_ip::ipv4::{self, ChecksumMode, Packet, Protocol};
use dmvpn_ip::{Reassembler, Reassembly, Timestamp, udp};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().map_or(Ok(3000), |a| a.parse())?;
    let mtu: usize = args.next().map_or(Ok(1400), |a| a.parse())?;

    // The datagram: UDP from 10.0.1.10 to 10.0.2.20, `size` bytes of payload.
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let datagram = udp::Repr {
        src_port: 5000,
        dst_port: 6000,
        checksum: 0,
        payload: &data,
    };
    let (src, dst) = (Ipv4Addr::new(10, 0, 1, 10), Ipv4Addr::new(10, 0, 2, 20));
    let mut segment = vec![0; datagram.buffer_len()];
    datagram.emit(&mut udp::Packet::new_unchecked(&mut segment[..]), src, dst);
    let whole = ipv4::Repr::new(src, dst, Protocol::UDP, 0x1234).emit_vec(&segment);
    println!("datagram: {} bytes, MTU {mtu}", whole.len());

    let fragments = ipv4::fragment(&Packet::new_checked(&whole[..])?, mtu)
        .ok_or("cannot fragment (Don't Fragment set, or an MTU below 28 bytes)")?;
    let mut reassembler = Reassembler::default();
    // Last fragment first, as a network may deliver them.
    for (n, fragment) in fragments.iter().enumerate().rev() {
        let packet = Packet::new_checked(&fragment[..])?;
        let header = ipv4::Repr::parse(&packet, ChecksumMode::Verify)?;
        print!(
            "fragment {}: {} bytes at offset {}, more fragments {}: ",
            n + 1,
            fragment.len(),
            packet.frag_offset(),
            packet.more_frags()
        );
        let at = Timestamp::new(1, 0);
        match reassembler.push(at, n as u64 + 1, &header, packet.payload()) {
            Reassembly::Complete { payload, .. } => {
                let udp = udp::Packet::new_checked(payload)?;
                println!("datagram complete");
                println!(
                    "  UDP {} -> {}, {} bytes, checksum {}",
                    udp.src_port(),
                    udp.dst_port(),
                    udp.payload().len(),
                    if udp.verify_checksum(src, dst) {
                        "correct"
                    } else {
                        "WRONG"
                    }
                );
                assert_eq!(udp.payload(), &data[..]);
            }
            other => println!("{other}"),
        }
    }
    Ok(())
}
