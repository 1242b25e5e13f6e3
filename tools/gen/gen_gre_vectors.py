#!/usr/bin/env python3
"""Writes GRE test vectors (raw GRE header + payload, no IP) into testdata/gre/ with scapy.

The public captures have no GRE checksum, so these give the codec checksummed packets built by an
independent implementation (scapy's GRE.post_build computes RFC 2784 §2.5 checksums).

Usage: python3 tools/gen/gen_gre_vectors.py [OUT_DIR]   (default: testdata/gre)
"""
import pathlib
import sys

from scapy.all import GRE, GRE_PPTP, ICMP, IP, IPv6, Raw, UDP, raw

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "testdata/gre")
out.mkdir(parents=True, exist_ok=True)

# A minimal NHRP fixed header (RFC 2332 §5.1): afn 1, pro-type 0x0800, hop count 255, op 3 (reg request).
nhrp = bytes.fromhex("0001080000000000000000ff00200000" "01030000")

vectors = {
    # C+K+S carrying NHRP: every optional version 0 field at once.
    "checksum_key_sequence_nhrp.bin": GRE(chksum_present=1, key_present=1, seqnum_present=1,
                                          key=1000, sequence_number=7, proto=0x2001) / Raw(nhrp),
    # C only, IPv4/ICMP inside (odd payload length: the checksum pads with a zero byte).
    "checksum_ipv4_icmp.bin": GRE(chksum_present=1, proto=0x0800)
    / IP(src="10.0.0.1", dst="10.0.0.2", id=1) / ICMP(id=1, seq=1) / Raw(b"abcde"),
    # K only, IPv6/UDP inside, key as DMVPN's `tunnel key 123456`.
    "key_ipv6_udp.bin": GRE(key_present=1, key=123456, proto=0x86DD)
    / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1234, dport=5678) / Raw(b"x"),
    # Enhanced GRE (version 1): acknowledgment only, no payload (RFC 2637 §4.1).
    "pptp_ack_only.bin": GRE_PPTP(seqnum_present=0, acknum_present=1, call_id=0x1234, ack_number=99,
                                  payload_len=0),
}

for name, pkt in vectors.items():
    (out / name).write_bytes(raw(pkt))
    print(name, raw(pkt).hex())
