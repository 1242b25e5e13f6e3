#!/usr/bin/env python3
"""Cross-check of our EIGRP emitter with scapy's independent dissector (scapy.contrib.eigrp).

Usage: python3 tools/gen/eigrp_scapy_check.py testdata/eigrp/emitted.pcap

For every EIGRP frame scapy can dissect completely, prints
    <frame> <opcode> <as> <seq> <ack> <flags> <tlv types|-> <route prefixes|-> <checksum ok>
where "checksum ok" is scapy's own recomputation of the EIGRP checksum compared with the one on the
wire. crates/dmvpn-eigrp/tests/tshark.rs compares each line with our decoder.
Frames are skipped (with a note on stderr) when they hold a TLV scapy has no class for (it would treat
it as generic bytes, which is fine, but it also cannot give route prefixes for it) or a classic route
TLV with several destinations (scapy's route classes hold exactly one). Exits 1 if scapy finds a
dissection problem (leftover bytes, a TLV length that disagrees with what scapy consumed).
"""
import sys

from scapy.all import Padding, Raw, rdpcap, raw
from scapy.contrib import eigrp as E

ROUTE_CLASSES = (E.EIGRPIntRoute, E.EIGRPExtRoute, E.EIGRPv6IntRoute, E.EIGRPv6ExtRoute)


def main(path: str) -> int:
    bad = 0
    for number, pkt in enumerate(rdpcap(path), start=1):
        if E.EIGRP not in pkt:
            continue
        wire = raw(pkt[E.EIGRP])
        e = E.EIGRP(wire)
        types, routes, skip = [], [], None
        for tlv in e.tlvlist:
            types.append("0x%04x" % tlv.type)
            if type(tlv) is E.EIGRPGeneric and tlv.type not in (0x0007, 0x0008, 0x0602, 0x0603):
                skip = "generic TLV 0x%04x" % tlv.type
            elif tlv.type in (0x0007, 0x0008, 0x0602, 0x0603):
                skip = skip or "TLV 0x%04x has no scapy class" % tlv.type
            if isinstance(tlv, ROUTE_CLASSES):
                consumed = len(raw(tlv))
                if consumed != tlv.len:
                    skip = "route TLV of %d bytes, scapy read %d (several destinations)" % (tlv.len, consumed)
                routes.append("%s/%d" % (tlv.dst, tlv.prefixlen))
        if Raw in e or Padding in e:
            print("frame %d: scapy left undissected bytes" % number, file=sys.stderr)
            bad += 1
            continue
        if skip:
            print("frame %d skipped: %s" % (number, skip), file=sys.stderr)
            continue
        rebuilt = e.copy()
        rebuilt.chksum = None
        checksum_ok = raw(rebuilt)[2:4] == wire[2:4]
        print("%d %d %d %d %d %d %s %s %s" % (
            number, e.opcode, e.asn & 0xffff, e.seq, e.ack, int(e.flags),
            ",".join(types) or "-", ",".join(routes) or "-", "true" if checksum_ok else "false"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
