//! `ip mtu 1400` on the tunnel, as the seed configures it: what a host behind a spoke sees when
//! it sends more than that. IOS fragments a packet without Don't Fragment before encapsulation
//! (so the outer packets need no fragmenting), and answers one with DF set with ICMP
//! "fragmentation needed", next-hop MTU 1400 (RFC 1191), which path MTU discovery acts on.

#[path = "util/cloud.rs"]
mod cloud_util;

use cloud_util::{converged_cloud, host, spoke_tunnel};
use dmvpn_proto::Duration;
use dmvpn_proto::node::DropReason;
use dmvpn_proto::node::sim::{Cloud, ipv4_packet, parse_ipv4};
use dmvpn_wire::checksum;

/// A UDP datagram of `len` payload bytes from host 10 of spoke 1 to host 20 of spoke 2.
fn datagram(len: usize, df: bool) -> Vec<u8> {
    let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let mut packet = ipv4_packet(host(1, 10), host(2, 20), 17, &payload);
    if df {
        packet[6] |= 0x40;
        packet[10..12].copy_from_slice(&[0, 0]);
        let sum = checksum::compute(&packet[..20]);
        packet[10..12].copy_from_slice(&sum.to_be_bytes());
    }
    packet
}

/// The converged cloud once host 10 of spoke 1 has sent a datagram of 2000 bytes (with Don't
/// Fragment if `df`) to spoke 2's host; the datagram; how many packets member `watch` had
/// delivered before it.
fn send_big(df: bool, watch: usize) -> (Cloud, Vec<u8>, usize) {
    let mut cloud = converged_cloud(2, 11);
    let packet = datagram(1980, df);
    let before = cloud.members[watch].delivered.len();
    cloud.inject(1, &packet);
    (cloud, packet, before)
}

#[test]
fn a_big_packet_without_df_arrives_in_fragments() {
    let (mut cloud, packet, before) = send_big(false, 2);
    cloud.run_for(Duration::from_secs(1));
    let arrived: Vec<&Vec<u8>> = cloud.members[2].delivered[before..]
        .iter()
        .map(|(_, p)| p)
        .filter(|p| parse_ipv4(p).is_some_and(|(s, _, _, _)| s == host(1, 10)))
        .collect();
    // 2000 bytes through 1400: 1396 + 624 (each fragment's own 20-byte header).
    let lens: Vec<usize> = arrived.iter().map(|p| p.len()).collect();
    assert_eq!(lens, [1396, 624]);
    let mut payload = Vec::new();
    for fragment in &arrived {
        let (_, _, ttl, body) = parse_ipv4(fragment).unwrap();
        assert_eq!(ttl, 63, "through the hub");
        payload.extend_from_slice(body);
    }
    assert_eq!(payload, &packet[20..]);
    assert_eq!(cloud.members[1].node.counters().fragmented, 1);
}

#[test]
fn a_big_packet_with_df_gets_fragmentation_needed() {
    let (cloud, packet, before) = send_big(true, 1);
    let spoke = &cloud.members[1];
    assert_eq!(spoke.node.counters().drops(DropReason::TooBig), 1);
    assert_eq!(spoke.node.counters().frag_needed_sent, 1);
    let icmp: Vec<&Vec<u8>> = spoke.delivered[before..].iter().map(|(_, p)| p).collect();
    assert_eq!(
        icmp.len(),
        1,
        "the ICMP goes back to the host, towards the sender"
    );
    let (src, dst, _, body) = parse_ipv4(icmp[0]).unwrap();
    assert_eq!((src, dst), (spoke_tunnel(1), host(1, 10)));
    assert_eq!(
        (body[0], body[1]),
        (3, 4),
        "fragmentation needed and DF set"
    );
    assert_eq!(u16::from_be_bytes([body[6], body[7]]), 1400, "next-hop MTU");
    assert_eq!(
        &body[8..],
        &packet[..28],
        "the header and 8 bytes of the packet"
    );
    assert!(checksum::verify(body));
}
