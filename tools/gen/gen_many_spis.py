#!/usr/bin/env python3
"""A capture with many distinct ESP SPIs on one peer pair, for timing `dmvpn sessions`.

    tools/gen/gen_many_spis.py COUNT OUT.pcap [--pairs N]

Writes COUNT ESP packets (Ethernet, IPv4, ESP with 32 bytes of opaque payload), each with its own
SPI, spread round-robin over N hub <-> spoke pairs (192.0.2.1 <-> 198.18.0.1, 198.18.0.2, ...; default one pair),
one millisecond apart. Plain struct packing (no scapy), so a million frames take seconds. The
files are big and made on demand: none is kept in testdata/.
"""

import argparse
import struct


def checksum(header):
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out")
    parser.add_argument("--pairs", type=int, default=1)
    args = parser.parse_args()
    hub = bytes([192, 0, 2, 1])
    ether = bytes.fromhex("020000000002" "020000000001" "0800")
    payload = bytes(range(32))
    with open(args.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(args.count):
            pair = i % args.pairs + 1
            spoke = bytes([198, 18 + (pair >> 16 & 1), pair >> 8 & 0xFF, pair & 0xFF])
            spi = 0x1000_0000 + i
            esp = struct.pack("!II", spi, 1) + payload
            total = 20 + len(esp)
            header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, i & 0xFFFF, 0, 255, 50, 0, spoke, hub)
            header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
            frame = ether + header + esp
            ts = 1_700_000_000_000 + i  # milliseconds
            out.write(struct.pack("<IIII", ts // 1000, (ts % 1000) * 1000, len(frame), len(frame)))
            out.write(frame)


if __name__ == "__main__":
    main()
