#!/usr/bin/env python3
"""Generate small captures covering every link type and file variant dmvpn::capture reads.

    python3 tools/gen/capture_gen_linktypes.py testdata/capture

Packets are built with scapy (IPv4/IPv6/UDP/GRE/ESP headers, fragmentation); the pcap and
pcapng containers are written by hand with struct, so that byte order, timestamp resolution,
link type and pcapng interface options are exactly as chosen. Deterministic: no randomness,
fixed timestamps. tshark is the oracle in crates/dmvpn/tests/capture_files.rs.
"""

import struct
import sys
from pathlib import Path

from scapy.all import ARP, Dot1AD, Dot1Q, Ether, GRE, IP, IPv6, Raw, UDP, fragment

T0 = 1_700_000_000


def esp(spi, seq, n):
    return struct.pack(">II", spi, seq) + bytes((i * 7) & 0xFF for i in range(n))


def ipv4_udp_esp(seq, n=64):
    return bytes(IP(src="192.0.2.1", dst="198.51.100.7", id=seq) / UDP(sport=4500, dport=4500) / Raw(esp(0x12345678, seq, n)))


def ipv4_gre():
    inner = IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=53, dport=53) / Raw(b"inner")
    return bytes(IP(src="192.0.2.1", dst="192.0.2.2", id=7) / GRE(proto=0x0800) / inner)


def ipv4_ike():
    return bytes(IP(src="192.0.2.1", dst="198.51.100.7", id=9) / UDP(sport=500, dport=500) / Raw(b"\x11" * 28))


def ipv6_udp():
    return bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=4500, dport=4500) / Raw(esp(0xABCD, 1, 32)))


def pcap(path, linktype, records, big_endian=False, nanosecond=False):
    """records: list of (seconds, fraction, bytes); fraction in micro- or nanoseconds."""
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for sec, frac, data in records:
        out += struct.pack(e + "IIII", sec, frac, len(data), len(data)) + data
    Path(path).write_bytes(out)


def sll(data, ethertype, pkttype=0):
    return struct.pack(">HHH8sH", pkttype, 1, 6, b"\x00\x0c\x29\x01\x02\x03\x00\x00", ethertype) + data


def sll2(data, ethertype, ifindex=3, pkttype=4):
    return struct.pack(">HHIHBB8s", ethertype, 0, ifindex, 1, pkttype, 6, b"\x00\x0c\x29\x0a\x0b\x0c\x00\x00") + data


class PcapNg:
    def __init__(self, big_endian=False):
        self.e = ">" if big_endian else "<"
        self.out = b""

    def block(self, btype, body):
        body += b"\x00" * (-len(body) % 4)
        total = len(body) + 12
        self.out += struct.pack(self.e + "II", btype, total) + body + struct.pack(self.e + "I", total)

    def option(self, code, value):
        return struct.pack(self.e + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)

    def section(self):
        self.block(0x0A0D0D0A, struct.pack(self.e + "IHHq", 0x1A2B3C4D, 1, 0, -1))

    def interface(self, linktype, name, tsresol=None, tsoffset=None):
        opts = self.option(2, name.encode())
        if tsresol is not None:
            opts += self.option(9, bytes([tsresol]))
        if tsoffset is not None:
            opts += self.option(14, struct.pack(self.e + "q", tsoffset))
        opts += struct.pack(self.e + "HH", 0, 0)
        self.block(1, struct.pack(self.e + "HHI", linktype, 0, 0) + opts)

    def epb(self, interface, ts, data):
        self.block(6, struct.pack(self.e + "IIIII", interface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data)) + data)

    def spb(self, data):
        self.block(3, struct.pack(self.e + "I", len(data)) + data)

    def stats(self):
        self.block(5, struct.pack(self.e + "IIII", 0, 0, 0, 0))


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    eth = lambda payload, ethertype=0x0800: bytes(  # noqa: E731
        Ether(src="00:1b:21:3c:4d:5e", dst="00:0c:29:01:02:03", type=ethertype) / Raw(payload)
    )

    pcap(out / "sll.pcap", 113, [
        (T0, 1, sll(ipv4_udp_esp(1), 0x0800)),
        (T0, 2, sll(ipv4_gre(), 0x0800, pkttype=4)),
        (T0, 3, sll(bytes(ARP(psrc="192.0.2.1", pdst="192.0.2.2")), 0x0806, pkttype=1)),
    ])
    pcap(out / "sll2.pcap", 276, [
        (T0, 10, sll2(ipv4_ike(), 0x0800)),
        (T0, 11, sll2(ipv6_udp(), 0x86DD)),
    ])
    pcap(out / "raw.pcap", 101, [(T0, 20, ipv4_udp_esp(2)), (T0, 21, ipv6_udp()), (T0, 22, ipv4_gre())])
    pcap(out / "ipv4.pcap", 228, [(T0, 30, ipv4_udp_esp(3)), (T0, 31, ipv4_ike())])
    # OpenBSD loopback: family in network byte order (2 = AF_INET, 24 = AF_INET6).
    pcap(out / "loop.pcap", 108, [
        (T0, 40, struct.pack(">I", 2) + ipv4_gre()),
        (T0, 41, struct.pack(">I", 24) + ipv6_udp()),
    ])
    # BSD null written big-endian by a big-endian host, nanosecond timestamps.
    pcap(out / "null_be_nsec.pcap", 0, [
        (T0, 123_456_789, struct.pack(">I", 2) + ipv4_udp_esp(4)),
        (T0 + 1, 999_999_999, struct.pack(">I", 30) + ipv6_udp()),
    ], big_endian=True, nanosecond=True)
    # QinQ and plain 802.1Q, and a short frame with Ethernet padding after the IP datagram.
    qinq = bytes(
        Ether(src="00:1b:21:3c:4d:5e", dst="00:0c:29:01:02:03") / Dot1AD(vlan=10, prio=5) / Dot1Q(vlan=20, type=0x0800) / Raw(ipv4_ike())
    )
    dot1q = bytes(Ether(src="00:1b:21:3c:4d:5e", dst="00:0c:29:01:02:03") / Dot1Q(vlan=100, type=0x0800) / Raw(ipv4_gre()))
    tiny = bytes(IP(src="192.0.2.1", dst="192.0.2.2", id=11) / UDP(sport=4500, dport=4500) / Raw(b"\xff"))
    padded = eth(tiny) + b"\x00" * (60 - 14 - len(tiny))
    pcap(out / "vlan.pcap", 1, [(T0, 50, qinq), (T0, 51, dot1q), (T0, 52, padded)])
    # A 3000-byte UDP-encapsulated ESP datagram fragmented in order, another in reverse order.
    big = IP(src="192.0.2.1", dst="198.51.100.7", id=0x1234) / UDP(sport=4500, dport=4500) / Raw(esp(0x12345678, 5, 3000))
    big2 = IP(src="192.0.2.1", dst="198.51.100.7", id=0x1235) / UDP(sport=4500, dport=4500) / Raw(esp(0x12345678, 6, 3000))
    frags = [bytes(f) for f in fragment(big, fragsize=1480)]
    frags2 = [bytes(f) for f in fragment(big2, fragsize=1480)][::-1]
    pcap(out / "fragments.pcap", 1, [(T0 + 2, 1000 * i, eth(f)) for i, f in enumerate(frags + frags2)])

    # pcapng: three interfaces with their own link types and resolutions, a simple packet
    # block, a statistics block, then a second, big-endian section.
    ng = PcapNg()
    ng.section()
    ng.interface(1, "eth0")                               # microseconds (default)
    ng.interface(101, "tun0", tsresol=9, tsoffset=100)    # nanoseconds, +100 s
    ng.interface(113, "any", tsresol=0x80 | 20)           # 2^-20 s
    ng.epb(0, T0 * 1_000_000 + 250_000, eth(ipv4_udp_esp(7)))
    ng.epb(1, (T0 - 100) * 1_000_000_000 + 5, ipv6_udp())
    ng.epb(2, (T0 << 20) + (1 << 19), sll(ipv4_gre(), 0x0800))
    ng.spb(eth(ipv4_ike()))
    ng.stats()
    be = PcapNg(big_endian=True)
    be.section()
    be.interface(276, "any2", tsresol=3)                  # milliseconds
    be.epb(0, T0 * 1000 + 5, sll2(ipv4_udp_esp(8), 0x0800))
    Path(out / "multi.pcapng").write_bytes(ng.out + be.out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "testdata/capture")
