#!/usr/bin/env python3
"""Print the NHRP packets of a capture as Rust `#[rustfmt::skip]` byte arrays, for unit tests.

Usage: tools/gen/nhrp_vectors.py CAPTURE [FRAME...]
NHRP is found in GRE (protocol 0x2001) or directly in IPv4 (protocol 54); frames are 1-based.
"""
import sys

from scapy.all import GRE, IP, rdpcap


def nhrp_payload(pkt):
    if GRE in pkt and pkt[GRE].proto == 0x2001:
        return bytes(pkt[GRE].payload)
    if IP in pkt and pkt[IP].proto == 54:
        return bytes(pkt[IP].payload)
    return None


def main():
    path = sys.argv[1]
    wanted = {int(f) for f in sys.argv[2:]}
    for number, pkt in enumerate(rdpcap(path), start=1):
        if wanted and number not in wanted:
            continue
        data = nhrp_payload(pkt)
        if data is None:
            continue
        print(f"// {path.split('/')[-2]}/{path.split('/')[-1]} frame {number}: {len(data)} bytes")
        print("#[rustfmt::skip]")
        print(f"const FRAME_{number}: [u8; {len(data)}] = [")
        for i in range(0, len(data), 16):
            print("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + 16]) + ",")
        print("];")


if __name__ == "__main__":
    main()
