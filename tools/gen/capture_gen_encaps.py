#!/usr/bin/env python3
"""Generate small captures of the encapsulations public captures show beside DMVPN.

    python3 tools/gen/capture_gen_encaps.py testdata/capture/encap

One pcap per case (issue #15, point 5), each checked against tshark 4.0.17 by
crates/dmvpn/tests/tshark_diff.rs and field by field by crates/dmvpn/tests/encapsulations.rs:

- nhrp_ip.pcap: NHRP directly over IP protocol 54 (RFC 2332 §3), over IPv4 and IPv6.
- gre_v1.pcap: enhanced GRE, version 1 (RFC 2637 §4.1, the PPTP data channel) carrying PPP.
- gre_udp.pcap: GRE-in-UDP (RFC 8086, destination port 4754).
- mpls.pcap, mpls_sll.pcap, mpls_sll2.pcap: MPLS label stacks (RFC 3032; 0x8847 and 0x8848)
  over Ethernet, Linux cooked v1 and v2, an Ethernet pseudowire (RFC 4448), and in GRE (RFC 4023).
- isakmp_trailer.pcap: ISAKMP messages with bytes after the last payload or after `length`.
- eigrp_checksum.pcap: EIGRP packets whose checksum is wrong.
- eigrp_wide.pcap: EIGRP named-mode Updates: multi-protocol TLVs 0x0602/0x0603 (RFC 7868 §6.9),
  IPv4 and IPv6 AFI.
- nesting.pcap: tunnels nested deeper than the decoder follows (IP-in-IP, GRE), and IPv6 in
  tunnels (6in4, GRE, IPv6-in-IPv6).
- chdlc.pcap, ppp.pcap, ppp_hdlc.pcap, ppp_ether.pcap, frelay.pcap, nflog.pcap, enc.pcap,
  pflog.pcap, raw12.pcap, raw14.pcap: the link types of router serial, PPPoE, Frame Relay,
  netfilter and OpenBSD IPsec and pf captures (104, 9, 50, 51, 107, 239, 109, 117, and DLT_RAW
  as 12 and 14), each
  carrying ESP, DMVPN GRE/NHRP, ISAKMP, EIGRP and IPv6 (with SLARP, CDP, LCP as named data).
- eth_more.pcap: PPPoE session and discovery over Ethernet, 802.1ad and 0x9100 tag stacks,
  IEEE 802.3 LLC/SNAP, and short packets in frames padded to 60 bytes with non-zero bytes.
- gre_eth.pcap: Ethernet in GRE (TEB 0x6558; ERSPAN type I, II and III, with and without the
  platform subheader), MPLS in GRE, GRE over IPv6, and IPv6 extension headers (hop-by-hop,
  destination options, routing, fragment) before GRE, ESP and UDP.
- malformed_links.pcap: bad ERSPAN headers and a short bridged frame, which must give
  an error naming the field and offset (decoded only by link_types.rs).
- malformed.pcap: what must give a clear error (truncated NHRP over IP, a cut or too deep MPLS
  stack, an MPLS payload that is neither IP nor a pseudowire, a PPTP payload length past the
  end, MPLS in GRE cut short) —
  decoded only by encapsulations.rs, not compared with tshark.

Packets are built with scapy (Ethernet, IPv4/IPv6, UDP, GRE, ICMP) and struct (NHRP, EIGRP,
ISAKMP, MPLS, enhanced GRE, Linux cooked headers); pcap files are written with struct.
Deterministic: no randomness, fixed timestamps.
"""

import struct
import sys
from pathlib import Path

from scapy.all import GRE, ICMP, IP, UDP, Dot1Q, Ether, IPv6, Raw

T0 = 1_700_100_000
MAC = dict(src="00:1b:21:3c:4d:5e", dst="00:0c:29:01:02:03")


def pcap(path, linktype, frames):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, data in enumerate(frames):
        out += struct.pack("<IIII", T0 + i, 1000 * i, len(data), len(data)) + data
    Path(path).write_bytes(out)


def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(payload, ethertype=0x0800):
    return bytes(Ether(type=ethertype, **MAC) / Raw(payload))


def sll(data, ethertype):
    return struct.pack(">HHH8sH", 0, 1, 6, b"\x00\x0c\x29\x01\x02\x03\x00\x00", ethertype) + data


def sll2(data, ethertype):
    return struct.pack(">HHIHBB8s", ethertype, 0, 2, 1, 4, 6, b"\x00\x0c\x29\x0a\x0b\x0c\x00\x00") + data


def ip4(src, dst, proto, payload, **kw):
    return bytes(IP(src=src, dst=dst, proto=proto, **kw) / Raw(payload))


def ip6(src, dst, nh, payload):
    return bytes(IPv6(src=src, dst=dst, nh=nh, hlim=64) / Raw(payload))


def icmp_echo(src, dst, seq):
    return bytes(IP(src=src, dst=dst, id=seq) / ICMP(id=0x42, seq=seq) / Raw(b"dmvpn" * 4))


# --- NHRP (RFC 2332 §5) -------------------------------------------------------------------------

def nhrp(op, src_nbma, src_proto, dst_proto, request_id, cies=b"", flags=0x8000, ext=True, hop=255):
    addr = lambda a: bytes(int(x) for x in a.split("."))  # noqa: E731
    mandatory = struct.pack(">BBHI", 4, 4, flags, request_id) + addr(src_nbma) + addr(src_proto) + addr(dst_proto) + cies
    extensions = struct.pack(">HH", 0x8000, 0) if ext else b""  # End of Extensions, compulsory
    extoff = 20 + len(mandatory) if ext else 0
    size = 20 + len(mandatory) + len(extensions)
    fixed = struct.pack(">HH5sBHHHBBBB", 1, 0x0800, b"\x00" * 5, hop, size, 0, extoff, 1, op, 4, 0)
    packet = bytearray(fixed + mandatory + extensions)
    packet[12:14] = struct.pack(">H", checksum(bytes(packet)))
    return bytes(packet)


def cie(code, prefix, holding, nbma="", proto=""):
    addr = lambda a: bytes(int(x) for x in a.split(".")) if a else b""  # noqa: E731
    n, p = addr(nbma), addr(proto)
    return struct.pack(">BBHHHBBBB", code, prefix, 0, 1514, holding, len(n), 0, len(p), 0) + n + p


def nhrp_ip():
    request = nhrp(3, "192.0.2.1", "10.0.0.1", "10.0.0.254", 7, cie(0, 32, 7200))
    reply = nhrp(4, "192.0.2.1", "10.0.0.1", "10.0.0.254", 7, cie(0, 32, 7200, "192.0.2.1", "10.0.0.1"))
    resolution = nhrp(1, "192.0.2.1", "10.0.0.1", "10.0.0.2", 8, cie(0, 32, 7200), flags=0)
    return [
        eth(ip4("192.0.2.1", "198.51.100.254", 54, request, id=1)),
        eth(ip4("198.51.100.254", "192.0.2.1", 54, reply, id=2)),
        eth(ip6("2001:db8::1", "2001:db8::fe", 54, resolution), 0x86DD),
    ]


# --- enhanced GRE (RFC 2637 §4.1) ---------------------------------------------------------------

def gre_v1(call_id, payload, seq=None, ack=None):
    flags = 0x2001 | (0x1000 if seq is not None else 0) | (0x0080 if ack is not None else 0)
    header = struct.pack(">HHHH", flags, 0x880B, len(payload), call_id)
    if seq is not None:
        header += struct.pack(">I", seq)
    if ack is not None:
        header += struct.pack(">I", ack)
    return header + payload


def ppp(protocol, payload):
    return b"\xff\x03" + struct.pack(">H", protocol) + payload


def gre_v1_frames():
    inner = icmp_echo("172.16.1.2", "172.16.1.1", 1)
    lcp = ppp(0xC021, bytes([9, 1, 0, 8]) + b"\x12\x34\x56\x78")  # LCP Echo-Request
    return [
        eth(ip4("192.0.2.10", "198.51.100.1", 47, gre_v1(0x1780, ppp(0x0021, inner), seq=430001, ack=539254), id=1)),
        eth(ip4("198.51.100.1", "192.0.2.10", 47, gre_v1(17, lcp, seq=539320), id=2)),
        eth(ip4("192.0.2.10", "198.51.100.1", 47, gre_v1(0x1780, b"", ack=539321), id=3)),
        # PPP carrying IPv6 (protocol 0x0057).
        eth(ip4("192.0.2.10", "198.51.100.1", 47, gre_v1(17, ppp(0x0057, udp6("2001:db8:e::1", "2001:db8:e::2", 5, 6)), seq=6), id=5)),
        # As in packetlife gre_and_4over6.cap: VLAN, IPv6, then IPv4 carrying the PPTP GRE.
        bytes(Ether(**MAC) / Dot1Q(vlan=100, type=0x86DD) / Raw(ip6(
            "2001:db8:1::1", "2001:db8:2::1", 4,
            ip4("16.0.0.200", "192.52.166.154", 47, gre_v1(17, ppp(0x0021, inner), seq=5), id=4)))),
    ]


# --- GRE-in-UDP (RFC 8086) ----------------------------------------------------------------------

def gre_udp_frames():
    icmp = icmp_echo("10.1.0.1", "10.2.0.1", 9)
    nhrp_reg = nhrp(3, "192.0.2.1", "10.0.0.1", "10.0.0.254", 11, cie(0, 32, 7200))
    inner6 = bytes(IPv6(src="2001:db8:a::1", dst="2001:db8:b::1") / UDP(sport=1234, dport=5678) / Raw(b"x" * 8))
    return [
        eth(bytes(IP(src="192.0.2.1", dst="192.0.2.2", id=1) / UDP(sport=49152, dport=4754) / GRE(proto=0x0800) / Raw(icmp))),
        eth(bytes(IP(src="192.0.2.1", dst="198.51.100.254", id=2) / UDP(sport=50001, dport=4754)
                  / GRE(key_present=1, key=1000, proto=0x2001) / Raw(nhrp_reg))),
        eth(bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=50002, dport=4754) / GRE(proto=0x86DD) / Raw(inner6)), 0x86DD),
    ]


# --- MPLS (RFC 3032) ----------------------------------------------------------------------------

def mpls(*labels):
    """labels: (label, tc, ttl); the last gets the bottom-of-stack bit."""
    out = b""
    for i, (label, tc, ttl) in enumerate(labels):
        out += struct.pack(">I", label << 12 | tc << 9 | (i == len(labels) - 1) << 8 | ttl)
    return out


def udp4(src, dst, sport, dport, payload=b"mpls"):
    return bytes(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload))


def udp6(src, dst, sport, dport, payload=b"mpls"):
    return bytes(IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload))


def mpls_frames(link):
    nhrp_reg = nhrp(3, "192.0.2.1", "10.0.0.1", "10.0.0.254", 21, cie(0, 32, 7200))
    dmvpn = bytes(IP(src="192.0.2.1", dst="198.51.100.254") / GRE(key_present=1, key=7, proto=0x2001) / Raw(nhrp_reg))
    frames = [
        (0x8847, mpls((100, 0, 64)) + icmp_echo("10.10.0.1", "10.20.0.1", 1)),
        (0x8847, mpls((16, 5, 255), (17, 0, 64)) + udp6("2001:db8:10::1", "2001:db8:20::1", 1000, 2000)),
        (0x8848, mpls((200, 0, 32)) + udp4("10.10.0.1", "239.1.1.1", 3000, 3001)),
        # DMVPN over an MPLS core: the spoke's NHRP registration in GRE under a transport label.
        (0x8847, mpls((3000, 0, 60), (24001, 0, 60)) + dmvpn),
        # IPv4 explicit null.
        (0x8847, mpls((0, 0, 64)) + icmp_echo("10.10.0.2", "10.20.0.2", 2)),
        # An Ethernet pseudowire (RFC 4448) with its control word. (Untagged: capture_files.rs
        # compares the frame's VLAN tags with tshark's vlan.id, which would list the inner tag.)
        (0x8847, mpls((3000, 0, 60), (600, 0, 255)) + b"\x00\x00\x00\x07"
         + bytes(Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02", type=0x0800)
                 / Raw(icmp_echo("10.30.0.1", "10.30.0.2", 4)))),
        # MPLS in GRE (RFC 4023), between two provider edges.
        (0x0800, bytes(IP(src="192.0.2.1", dst="192.0.2.2") / GRE(proto=0x8847)
                       / Raw(mpls((500, 0, 63)) + icmp_echo("10.10.0.3", "10.20.0.3", 3)))),
    ]
    return [link(data, ethertype) for ethertype, data in frames]


# --- ISAKMP (RFC 2408) --------------------------------------------------------------------------

def isakmp_mm1(trailer_inside=b"", exchange=2, flags=0):
    attrs = struct.pack(">HHHHHHHHHHHH", 0x8001, 7, 0x800E, 128, 0x8002, 2, 0x8004, 2, 0x8003, 1, 0x800B, 1)
    attrs += struct.pack(">HHI", 0x000C, 4, 86400)
    transform = struct.pack(">BBHBBH", 0, 0, 8 + len(attrs), 1, 1, 0) + attrs
    proposal = struct.pack(">BBHBBBB", 0, 0, 8 + len(transform), 1, 1, 0, 1) + transform
    sa = struct.pack(">BBHII", 13, 0, 12 + len(proposal), 1, 1) + proposal
    vid = bytes.fromhex("4a131c81070358455c5728f20e95452f")
    vid = struct.pack(">BBH", 0, 0, 4 + len(vid)) + vid
    body = sa + vid + trailer_inside
    header = bytes.fromhex("0011223344556677") + b"\x00" * 8
    header += struct.pack(">BBBBII", 1, 0x10, exchange, flags, 0, 28 + len(body))
    return header + body


def isakmp_frames():
    ike = lambda payload, sport=500, dport=500: eth(bytes(  # noqa: E731
        IP(src="192.0.2.1", dst="198.51.100.254") / UDP(sport=sport, dport=dport) / Raw(payload)))
    return [
        ike(isakmp_mm1()),
        # Four zero bytes after the VID, counted in the header's length.
        ike(isakmp_mm1(trailer_inside=b"\x00" * 4)),
        # Six bytes after the header's length, inside the UDP datagram.
        ike(isakmp_mm1() + b"\xde\xad\xbe\xef\x00\x01"),
        # Both, on port 4500 behind the non-ESP marker, in an Aggressive Mode message.
        ike(b"\x00" * 4 + isakmp_mm1(trailer_inside=b"\x01\x02", exchange=4) + b"\x03", 4500, 4500),
    ]


# --- EIGRP (RFC 7868) ---------------------------------------------------------------------------

def eigrp(opcode, tlvs, flags=0, seq=0, ack=0, asn=100, bad_checksum=False):
    packet = bytearray(struct.pack(">BBHIIIHH", 2, opcode, 0, flags, seq, ack, 0, asn) + tlvs)
    value = checksum(bytes(packet))
    if bad_checksum:
        value ^= 0x5A5A
    packet[2:4] = struct.pack(">H", value)
    return bytes(packet)


def tlv(ty, value):
    return struct.pack(">HH", ty, 4 + len(value)) + value


HELLO_TLVS = tlv(1, bytes([1, 0, 1, 0, 0, 0]) + struct.pack(">H", 15)) + tlv(4, bytes([12, 4, 1, 2]))


def classic_route():
    # Next hop 0 (the sender); classic metric: delay, bandwidth, MTU 1500, hop count 0, reliability
    # 255, load 1, internal tag 0, flags 0; then 192.168.1.0/24.
    metric = struct.pack(">II", 25600, 2560000) + bytes([0x00, 0x05, 0xDC, 0, 255, 1, 0, 0])
    return tlv(0x0102, b"\x00" * 4 + metric + bytes([24, 192, 168, 1]))


def wide_metric(delay_ps, bandwidth_kbps, hops=0, mtu=1500):
    return (bytes([0, 0, 255, 1]) + mtu.to_bytes(3, "big") + bytes([hops])
            + delay_ps.to_bytes(6, "big") + bandwidth_kbps.to_bytes(6, "big") + struct.pack(">HH", 0, 0))


def external_data(protocol, tag=77, metric=20):
    """RFC 7868 §6.9.3; protocol 3 is static, 9 BGP, 11 connected."""
    return struct.pack(">IIIIHBB", 0x02020202, 65000, tag, metric, 0, protocol, 0x01)


def mp_route(ty, afi, router_id, metric, next_hop, dests, external=None):
    """dests: bytes already encoded (prefix length then the octets that carry it)."""
    value = struct.pack(">HHI", 0, afi, router_id) + metric + next_hop
    if external is not None:
        value += external
    return tlv(ty, value + dests)


def eigrp_checksum_frames():
    hello = eigrp(5, HELLO_TLVS, bad_checksum=True)
    update = eigrp(1, classic_route(), flags=0, seq=5, bad_checksum=True)
    good = eigrp(5, HELLO_TLVS)
    mcast = lambda src, payload: eth(ip4(src, "224.0.0.10", 88, payload, ttl=2))  # noqa: E731
    return [mcast("10.0.0.1", hello), mcast("10.0.0.2", update), mcast("10.0.0.1", good)]


def eigrp_wide_frames():
    rid = 0x01010101
    v4_internal = mp_route(0x0602, 1, rid, wide_metric(10_000_000, 100_000, hops=1), b"\x00" * 4,
                           bytes([24, 10, 1, 1]))
    v4_external = mp_route(0x0603, 1, rid, wide_metric(20_000_000, 1_000_000), b"\x00" * 4,
                           bytes([16, 172, 16]), external=external_data(protocol=3))
    v4_unreachable = mp_route(0x0602, 1, rid, wide_metric(0xFFFF_FFFF_FFFF, 100_000), b"\x00" * 4,
                              bytes([30, 10, 9, 9, 4]))
    v6_internal = mp_route(0x0602, 2, rid, wide_metric(10_000_000, 100_000), b"\x00" * 16,
                           bytes([64]) + bytes.fromhex("20010db800010000") + b"\x00")
    v6_external = mp_route(0x0603, 2, rid, wide_metric(30_000_000, 10_000), b"\x00" * 16,
                           bytes([48]) + bytes.fromhex("20010db80099") + b"\x00",
                           external=external_data(protocol=11))
    v4 = eigrp(1, v4_internal + v4_external + v4_unreachable, seq=10, asn=200)
    v6 = eigrp(1, v6_internal + v6_external, seq=11, asn=200)
    return [
        eth(ip4("10.0.0.1", "224.0.0.10", 88, v4, ttl=2)),
        eth(ip6("fe80::1", "ff02::a", 88, v6), 0x86DD),
    ]


# --- nesting ------------------------------------------------------------------------------------

def nesting_frames():
    icmp = icmp_echo("10.99.0.1", "10.99.0.2", 1)
    ipip = icmp
    for depth in range(6):
        ipip = ip4(f"10.{depth}.0.1", f"10.{depth}.0.2", 4, ipip, id=depth)
    gre = icmp
    for depth in range(6):
        gre = ip4(f"172.16.{depth}.1", f"172.16.{depth}.2", 47, struct.pack(">HH", 0, 0x0800) + gre, id=depth)
    udp6 = bytes(IPv6(src="2001:db8:c::1", dst="2001:db8:d::1") / UDP(sport=4000, dport=4001) / Raw(b"v6"))
    return [
        eth(ipip),
        eth(gre),
        # IPv6 in IPv4 (6in4, protocol 41), in keyed GRE (a DMVPN IPv6 overlay), in IPv6.
        eth(ip4("192.0.2.1", "192.0.2.2", 41, udp6, id=7)),
        eth(bytes(IP(src="192.0.2.1", dst="192.0.2.2", id=8) / GRE(key_present=1, key=100, proto=0x86DD) / Raw(udp6))),
        eth(ip6("2001:db8::1", "2001:db8::2", 41, udp6), 0x86DD),
    ]


# --- malformed ----------------------------------------------------------------------------------

def malformed_frames():
    request = nhrp(3, "192.0.2.1", "10.0.0.1", "10.0.0.254", 7, cie(0, 32, 7200))
    pw = mpls((500, 0, 64)) + b"\x00\x00\x00\x00" + bytes(Ether(**MAC))[:10]
    deep = b"".join(struct.pack(">I", (100 + i) << 12 | 64) for i in range(17))
    return [
        # NHRP over IP cut after 30 of its bytes: the packet length says more.
        eth(ip4("192.0.2.1", "198.51.100.254", 54, request[:30], id=1)),
        # An MPLS stack cut inside its second entry.
        eth(mpls((16, 0, 64), (17, 0, 64))[:6], 0x8847),
        # Seventeen entries and no bottom of stack.
        eth(deep + icmp_echo("10.0.0.1", "10.0.0.2", 3), 0x8847),
        # A control word, then less than an Ethernet header: neither IPv4, IPv6 nor a pseudowire.
        eth(pw, 0x8847),
        # Enhanced GRE whose payload length claims more than there is.
        eth(ip4("192.0.2.10", "198.51.100.1", 47, gre_v1(5, b"\xff\x03\x00\x21")[:-2], id=9)),
        # MPLS in GRE whose one label stack entry is cut after two bytes.
        eth(ip4("192.0.2.1", "192.0.2.2", 47, struct.pack(">HH", 0, 0x8847) + b"\x00\x01", id=10)),
    ]

# --- link types and tunnel payloads other projects' captures hold (issue #15) --------------------

def esp_payload(spi, seq, n=48):
    """An ESP packet no key opens: SPI, sequence number, then fixed filler."""
    return struct.pack(">II", spi, seq) + bytes((seq * 7 + i) & 0xFF for i in range(n))


def ip_set():
    """The IPv4 and IPv6 packets each link type below carries: ESP, DMVPN GRE with NHRP,
    ISAKMP, EIGRP, ESP over IPv6 and GRE over IPv6."""
    nhrp_reg = nhrp(3, "192.0.2.1", "10.0.0.1", "10.0.0.254", 31, cie(0, 32, 7200))
    return [
        (4, ip4("192.0.2.1", "198.51.100.254", 50, esp_payload(0x0000C0DE, 5), id=1)),
        (4, bytes(IP(src="192.0.2.1", dst="198.51.100.254", id=2) / GRE(key_present=1, key=100, proto=0x2001) / Raw(nhrp_reg))),
        (4, bytes(IP(src="192.0.2.1", dst="198.51.100.254", id=3) / UDP(sport=500, dport=500) / Raw(isakmp_mm1()))),
        (4, ip4("10.0.0.1", "224.0.0.10", 88, eigrp(5, HELLO_TLVS, asn=7), ttl=2, id=4)),
        (6, ip6("2001:db8::1", "2001:db8::2", 50, esp_payload(0x0000BEEF, 9))),
        (6, bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / GRE(proto=0x0800) / Raw(icmp_echo("10.5.0.1", "10.5.0.2", 5)))),
    ]


SLARP_KEEPALIVE = struct.pack(">IIIH", 2, 41, 40, 0xFFFF)  # code 2, my seq, your seq, reliability
CDP = struct.pack(">BBH", 2, 180, 0) + struct.pack(">HH", 1, 4 + 6) + b"router"


def chdlc_frames():
    frames = [bytes([0x0F, 0]) + struct.pack(">H", 0x0800 if v == 4 else 0x86DD) + pkt for v, pkt in ip_set()]
    frames.append(bytes([0x8F, 0, 0x80, 0x35]) + SLARP_KEEPALIVE)
    frames.append(bytes([0x8F, 0, 0x20, 0x00]) + CDP)
    return frames


def ppp_frames():
    frames = [ppp(0x0021 if v == 4 else 0x0057, pkt) for v, pkt in ip_set()]
    # Address and control compressed away, and the protocol compressed to one byte.
    frames.append(b"\x00\x21" + icmp_echo("10.6.0.1", "10.6.0.2", 6))
    frames.append(b"\x21" + icmp_echo("10.6.0.1", "10.6.0.2", 7))
    frames.append(ppp(0xC021, bytes([9, 1, 0, 8]) + b"\x12\x34\x56\x78"))  # LCP Echo-Request
    return frames


def ppp_hdlc_frames():
    # What tcpdump's PPP_SERIAL captures hold: PPP in HDLC framing, and Cisco HDLC under the same
    # link type.
    frames = [ppp(0x0021 if v == 4 else 0x0057, pkt) for v, pkt in ip_set()[:3]]
    frames += [bytes([0x0F, 0, 0x08, 0x00]) + pkt for v, pkt in ip_set()[:2]]
    return frames


def pppoe(session, protocol, payload, code=0):
    body = struct.pack(">H", protocol) + payload if code == 0 else payload
    return struct.pack(">BBHH", 0x11, code, session, len(body)) + body


def ppp_ether_frames():
    return [pppoe(0x0011, 0x0021 if v == 4 else 0x0057, pkt) for v, pkt in ip_set()]


def frelay_frames():
    dlci = lambda n: struct.pack(">BB", (n >> 4) << 2, ((n & 0xF) << 4) | 1)  # noqa: E731
    v4, v6 = ip_set()[0][1], ip_set()[4][1]
    gre4 = ip_set()[1][1]
    return [
        dlci(102) + b"\x03\xcc" + v4,                 # RFC 2427 NLPID IPv4
        dlci(102) + b"\x03\xcc" + gre4,
        dlci(103) + b"\x03\x8e" + v6,                 # NLPID IPv6
        dlci(104) + b"\x03\x00\x80\x00\x00\x00\x08\x00" + gre4,  # pad, SNAP, ethertype IPv4
        dlci(105) + b"\x08\x00" + v4,                 # Cisco encapsulation: an ethertype
        dlci(105) + b"\x86\xdd" + v6,
    ]


def nflog(family, packet, group=5, prefix=b"ipsec"):
    def tlv_le(ty, value):
        out = struct.pack("<HH", 4 + len(value), ty) + value
        return out + b"\x00" * (-len(out) % 4)
    return (struct.pack(">BBH", family, 0, group)
            + tlv_le(1, struct.pack(">HBB", 0x0800 if family == 2 else 0x86DD, 3, 0))  # packet header
            + tlv_le(10, prefix + b"\x00")                                              # prefix
            + tlv_le(9, packet))                                                        # payload


def nflog_frames():
    return [nflog(2 if v == 4 else 10, pkt) for v, pkt in ip_set()]


def enc_frames():
    # OpenBSD enc0: family and flags in host (little-endian) order, SPI in network order; the
    # clear-side packet of the SA: DMVPN GRE with NHRP, EIGRP, IPv6 GRE.
    sets = ip_set()
    return [struct.pack("<I", 2 if v == 4 else 24) + struct.pack(">I", 0xC0DE) + struct.pack("<I", 0x0003) + pkt
            for v, pkt in (sets[1], sets[3], sets[5])]


def pflog_frames():
    # OpenBSD pflog0 (struct pfloghdr since 3.8: 61 bytes, the packet at 64): pass, rule 3,
    # then one header of the 3.4 layout (48 bytes); families 2 (IPv4) and 24 (IPv6).
    def hdr(family, length=61, rule=3):
        body = struct.pack(">BBBB16s16sII", length, family, 0, 0, b"enc0", b"", rule, 0xFFFFFFFF)
        body += b"\x00" * (length - len(body))
        return body + b"\x00" * (-length % 4)
    sets = ip_set()
    return ([hdr(2 if v == 4 else 24) + pkt for v, pkt in sets]
            + [hdr(2, length=45, rule=9) + sets[1][1]])


def raw_frames():
    return [pkt for _, pkt in ip_set()]


def eth_more_frames():
    sets = ip_set()
    v4 = sets[0][1]
    small = ip4("192.0.2.1", "198.51.100.254", 50, esp_payload(0x0000C0DE, 6, n=12), id=9)  # 40 bytes
    small6 = ip6("2001:db8::1", "2001:db8::2", 59, b"")  # 40 bytes, no next header
    snap = b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + v4
    padi = pppoe(0, 0, struct.pack(">HH", 0x0101, 0), code=0x09)  # PADI, Service-Name empty
    return [
        eth(pppoe(0x0011, 0x0021, v4), 0x8864),
        eth(pppoe(0x0011, 0x0057, sets[5][1]), 0x8864),
        eth(pppoe(0x0011, 0x0021, sets[2][1]), 0x8864),
        eth(padi, 0x8863),
        # 802.1ad then 802.1Q, and the pre-standard 0x9100 tag, carrying DMVPN.
        bytes(Ether(type=0x88A8, **MAC) / Raw(struct.pack(">HHHH", 10, 0x8100, 20, 0x0800) + sets[1][1])),
        bytes(Ether(type=0x9100, **MAC) / Raw(struct.pack(">HH", 30, 0x86DD) + sets[4][1])),
        # IEEE 802.3 with LLC/SNAP, then padded to 60 bytes with non-zero bytes.
        bytes(Ether(type=len(snap), **MAC) / Raw(snap)),
        eth(small) + b"\xee" * 6,
        eth(small6, 0x86DD) + b"\xee" * 6,
        # PPPoE carrying a small packet, padded too.
        eth(pppoe(0x0012, 0x0021, small), 0x8864) + b"\xee" * 4,
    ]


def erspan2(session, index, frame, vlan=0):
    return struct.pack(">HHI", 0x1000 | vlan, session & 0x3FF, index & 0xFFFFF) + frame


def erspan3(session, frame, subheader=False, vlan=0):
    flags = 0x0001 if subheader else 0
    out = struct.pack(">HHIHH", 0x2000 | vlan, session & 0x3FF, 123456, 0, flags)
    return out + (b"\x00" * 8 if subheader else b"") + frame


def gre_eth_frames():
    sets = ip_set()
    mirrored = bytes(Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02", type=0x0800) / Raw(sets[1][1]))
    mirrored6 = bytes(Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02", type=0x86DD) / Raw(sets[4][1]))
    # (Untagged: capture_files.rs compares the outer frame's VLAN tags with tshark's vlan.id,
    # which would list the mirrored frame's; the ERSPAN header names VLAN 7 instead.)
    tagged = bytes(Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02", type=0x0800) / Raw(sets[2][1]))
    gre = lambda proto, payload, **kw: bytes(IP(src="192.0.2.10", dst="192.0.2.20", id=kw.pop("id", 0)) / GRE(proto=proto, **kw) / Raw(payload))  # noqa: E731
    hbh = bytes([47, 0, 1, 4, 0, 0, 0, 0])        # hop-by-hop, PadN, next header GRE
    dst = lambda nh: bytes([nh, 0, 1, 4, 0, 0, 0, 0])  # noqa: E731
    rh = lambda nh: bytes([nh, 2, 0, 0, 0, 0, 0, 0]) + bytes.fromhex("20010db8000000000000000000000099")  # noqa: E731
    frag = lambda nh: bytes([nh, 0, 0, 0, 0, 0, 0, 0x2A])  # noqa: E731  offset 0, M clear (atomic)
    v6 = lambda nh, ext, payload: bytes(IPv6(src="2001:db8::1", dst="2001:db8::2", nh=nh) / Raw(ext + payload))  # noqa: E731
    gre_nhrp = bytes(GRE(key_present=1, key=100, proto=0x2001) / Raw(nhrp(3, "192.0.2.1", "10.0.0.1", "10.0.0.254", 41, cie(0, 32, 7200))))
    udp_isakmp = bytes(UDP(sport=500, dport=500, chksum=0) / Raw(isakmp_mm1()))
    return [
        eth(gre(0x6558, mirrored, id=1)),
        eth(gre(0x6558, mirrored6, id=2)),
        eth(gre(0x88BE, mirrored, id=3)),                                   # ERSPAN type I
        eth(gre(0x88BE, erspan2(1, 5, mirrored), seqnum_present=1, sequence_number=1, id=4)),
        eth(gre(0x88BE, erspan2(2, 6, tagged, vlan=7), seqnum_present=1, sequence_number=2, id=5)),
        eth(gre(0x22EB, erspan3(3, mirrored6), seqnum_present=1, sequence_number=3, id=6)),
        eth(gre(0x22EB, erspan3(4, mirrored, subheader=True), seqnum_present=1, sequence_number=4, id=7)),
        eth(gre(0x8847, mpls((300, 0, 64)) + sets[0][1], id=8)),
        # GRE over IPv6, and IPv6 extension headers before GRE, ESP and UDP.
        eth(v6(47, b"", gre_nhrp), 0x86DD),
        eth(v6(0, hbh, gre_nhrp), 0x86DD),
        eth(v6(60, dst(43) + rh(50), esp_payload(0x0000BEEF, 10)), 0x86DD),
        eth(v6(44, frag(17), udp_isakmp), 0x86DD),
        eth(v6(0, bytes([60, 0, 1, 4, 0, 0, 0, 0]) + dst(44) + frag(50), esp_payload(0x0000BEEF, 11)), 0x86DD),
    ]


def malformed_links_frames():
    gre = lambda proto, payload, flags=0: ip4("192.0.2.10", "192.0.2.20", 47, struct.pack(">HH", flags, proto) + payload)  # noqa: E731
    # (Frames whose link header fails, such as a bad PPPoE header, are in link.rs's unit tests:
    # capture_files.rs reads every link header of every capture under testdata/.)
    return [
        # ERSPAN type II (GRE sequence number present) cut inside its header.
        eth(gre(0x88BE, struct.pack(">I", 1) + b"\x10\x00\x00\x01", flags=0x1000)),
        # ERSPAN with version 5.
        eth(gre(0x22EB, b"\x50\x00\x00\x01" + b"\x00" * 8)),
        # Transparent Ethernet Bridging carrying ten bytes: less than an Ethernet header.
        eth(gre(0x6558, b"\x00" * 10)),
    ]


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pcap(out / "nhrp_ip.pcap", 1, nhrp_ip())
    pcap(out / "gre_v1.pcap", 1, gre_v1_frames())
    pcap(out / "gre_udp.pcap", 1, gre_udp_frames())
    pcap(out / "mpls.pcap", 1, mpls_frames(lambda data, ethertype: eth(data, ethertype)))
    pcap(out / "mpls_sll.pcap", 113, mpls_frames(sll))
    pcap(out / "mpls_sll2.pcap", 276, mpls_frames(sll2))
    pcap(out / "isakmp_trailer.pcap", 1, isakmp_frames())
    pcap(out / "eigrp_checksum.pcap", 1, eigrp_checksum_frames())
    pcap(out / "eigrp_wide.pcap", 1, eigrp_wide_frames())
    pcap(out / "nesting.pcap", 1, nesting_frames())
    pcap(out / "malformed.pcap", 1, malformed_frames())
    pcap(out / "chdlc.pcap", 104, chdlc_frames())
    pcap(out / "ppp.pcap", 9, ppp_frames())
    pcap(out / "ppp_hdlc.pcap", 50, ppp_hdlc_frames())
    pcap(out / "ppp_ether.pcap", 51, ppp_ether_frames())
    pcap(out / "frelay.pcap", 107, frelay_frames())
    pcap(out / "nflog.pcap", 239, nflog_frames())
    pcap(out / "enc.pcap", 109, enc_frames())
    pcap(out / "pflog.pcap", 117, pflog_frames())
    pcap(out / "raw12.pcap", 12, raw_frames())
    pcap(out / "raw14.pcap", 14, raw_frames())
    pcap(out / "eth_more.pcap", 1, eth_more_frames())
    pcap(out / "gre_eth.pcap", 1, gre_eth_frames())
    pcap(out / "malformed_links.pcap", 1, malformed_links_frames())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "testdata/capture/encap")
