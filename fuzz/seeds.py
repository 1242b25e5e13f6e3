#!/usr/bin/env python3
"""Extracts one protocol's messages from pcap files into a fuzz corpus directory, as seeds.

    python3 fuzz/seeds.py OUT_DIR PROTO CAPTURE...

PROTO is a fuzz target prefix: capture (each capture file up to 64 KiB, pcapng included, as it is),
decode (runs of up to 8 consecutive frames of a capture in `dmvpn::fuzzing::decode_frames`'s input format),
keys (the `*esp_sa*` files next to the captures), gre (IP protocol 47), nhrp (GRE protocol type 0x2001, or IP protocol 54),
eigrp (IP protocol 88), esp (IP protocol 50, or UDP 4500 without the non-ESP marker), isakmp (UDP 500, or
UDP 4500 after the four-zero-byte marker), ip (frames, IP packets and UDP datagrams behind the selector byte of
`dmvpn_ip::fuzzing::parse`). IPv4 and IPv6 are followed through Ethernet (with 802.1Q tags),
Linux cooked v1/v2, BSD loopback and raw-IP links, and through GRE (IPv4/IPv6 payloads), so EIGRP in a DMVPN
tunnel is found too. Each distinct message becomes OUT_DIR/pcap-<sha1 prefix>. Only the Python standard
library is used; pcapng files are skipped with a note. tools/fuzz.sh runs this on testdata/**/*.pcap.
"""
import hashlib
import pathlib
import struct
import sys

LINK_ETHERNET, LINK_RAW, LINK_NULL, LINK_LOOP, LINK_SLL, LINK_SLL2 = 1, 101, 0, 108, 113, 276


def packets(path):
    """Yields (linktype, bytes) for each record of a classic pcap file."""
    data = path.read_bytes()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        print(f"seeds.py: {path}: not a classic pcap (pcapng?), skipped", file=sys.stderr)
        return
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    pos = 24
    while pos + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[pos + 8 : pos + 12])[0]
        yield linktype, data[pos + 16 : pos + 16 + caplen]
        pos += 16 + caplen


def network(linktype, frame):
    """Returns (ethertype, packet) of the network layer of a link-layer frame, or None."""
    if linktype == LINK_ETHERNET:
        ethertype, rest = int.from_bytes(frame[12:14], "big"), frame[14:]
        while ethertype in (0x8100, 0x88A8) and len(rest) >= 4:
            ethertype, rest = int.from_bytes(rest[2:4], "big"), rest[4:]
        return ethertype, rest
    if linktype == LINK_SLL:
        return int.from_bytes(frame[14:16], "big"), frame[16:]
    if linktype == LINK_SLL2:
        return int.from_bytes(frame[0:2], "big"), frame[20:]
    if linktype in (LINK_NULL, LINK_LOOP):
        family = frame[:4]
        return (0x86DD if family[0] in (24, 28, 30) or family[3] in (24, 28, 30) else 0x0800), frame[4:]
    if linktype == LINK_RAW and frame:
        return (0x0800 if frame[0] >> 4 == 4 else 0x86DD), frame
    return None


def transport(ethertype, packet):
    """Yields (ip protocol, payload) for an IP packet, following GRE into its IP payloads."""
    if ethertype == 0x0800 and len(packet) >= 20:
        ihl, total = (packet[0] & 0x0F) * 4, int.from_bytes(packet[2:4], "big")
        if int.from_bytes(packet[6:8], "big") & 0x3FFF:
            return  # a fragment
        proto, payload = packet[9], packet[ihl:total]
    elif ethertype == 0x86DD and len(packet) >= 40:
        proto, payload = packet[6], packet[40 : 40 + int.from_bytes(packet[4:6], "big")]
    else:
        return
    if proto == 4:
        yield from transport(0x0800, payload)
        return
    if proto == 41:
        yield from transport(0x86DD, payload)
        return
    yield proto, payload
    if proto == 47 and len(payload) >= 4:
        flags, gre_proto = int.from_bytes(payload[0:2], "big"), int.from_bytes(payload[2:4], "big")
        header = 4 + 4 * sum(bool(flags & bit) for bit in (0xC000, 0x2000, 0x1000))
        if flags & 0x0007 == 1 and flags & 0x0080:
            header += 4
        if gre_proto in (0x0800, 0x86DD):
            yield from transport(gre_proto, payload[header:])
        elif gre_proto == 0x2001:
            yield 0x2001, payload[header:]  # NHRP, tagged with its GRE protocol type


# dmvpn_ip::fuzzing::parse: selector 0 IPv4, 1 IPv6, 2 UDP, then 3 + an index into this list.
IP_LINK_TYPES = [0, 1, 101, 108, 113, 228, 229, 276, 9]


def ip_inputs(linktype, frame, net):
    """dmvpn_ip::fuzzing::parse inputs from one frame: the frame behind its link selector, and the
    IPv4 or IPv6 packet and a UDP datagram in it behind theirs."""
    if linktype in IP_LINK_TYPES:
        yield bytes([3 + IP_LINK_TYPES.index(linktype)]) + frame
    if net is None:
        return
    ethertype, packet = net
    if ethertype in (0x0800, 0x86DD):
        yield bytes([0 if ethertype == 0x0800 else 1]) + packet
    for ip_proto, payload in transport(ethertype, packet):
        if ip_proto == 17:
            yield b"\x02" + payload


def messages(proto, captures):
    for path in captures:
        for linktype, frame in packets(path):
            net = network(linktype, frame)
            if proto == "ip":
                yield from ip_inputs(linktype, frame, net)
                continue
            if net is None:
                continue
            for ip_proto, payload in transport(*net):
                if ip_proto == 17 and len(payload) >= 8:
                    sport, dport = int.from_bytes(payload[0:2], "big"), int.from_bytes(payload[2:4], "big")
                    body = payload[8:]
                    if proto == "isakmp" and 500 in (sport, dport):
                        yield body
                    elif 4500 in (sport, dport) and len(body) > 4:
                        nat_t_ike = body[:4] == b"\x00\x00\x00\x00"
                        if proto == "isakmp" and nat_t_ike:
                            yield body[4:]
                        elif proto == "esp" and not nat_t_ike:
                            yield body
                elif (proto, ip_proto) in (("gre", 47), ("nhrp", 54), ("nhrp", 0x2001), ("eigrp", 88), ("esp", 50)):
                    yield payload


# dmvpn::fuzzing::LINK_TYPES: the first byte of a decode_frames input is an index into it.
DECODE_LINK_TYPES = [0, 1, 101, 108, 113, 228, 229, 276, 9]
DECODE_RUN = 8


def decode_inputs(captures):
    """Runs of consecutive frames as decode_frames inputs: link selector, then per frame a 2-byte
    length, a time step (0) and the frame."""
    for path in captures:
        run, selector = [], None
        for linktype, frame in packets(path):
            if linktype not in DECODE_LINK_TYPES or len(frame) > 0xFFFF:
                continue
            selector = DECODE_LINK_TYPES.index(linktype)
            run.append(len(frame).to_bytes(2, "big") + b"\x00" + frame)
            if len(run) == DECODE_RUN:
                yield bytes([selector]) + b"".join(run)
                run = []
        if run:
            yield bytes([selector]) + b"".join(run)


def files(proto, captures):
    """Whole files: the captures themselves (capture), or the esp_sa files beside them (keys)."""
    if proto == "capture":
        paths = captures
    else:
        paths = sorted({p for c in captures for p in c.parent.iterdir() if "esp_sa" in p.name and p.is_file()})
    for path in paths:
        if path.stat().st_size <= 64 << 10:
            yield path.read_bytes()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, proto, captures = pathlib.Path(sys.argv[1]), sys.argv[2], [pathlib.Path(p) for p in sys.argv[3:]]
    out.mkdir(parents=True, exist_ok=True)
    written = set()
    if proto in ("capture", "keys"):
        inputs = files(proto, captures)
    elif proto == "decode":
        inputs = decode_inputs(captures)
    else:
        inputs = messages(proto, captures)
    for message in inputs:
        name = "pcap-" + hashlib.sha1(message).hexdigest()[:16]
        if name not in written:
            (out / name).write_bytes(message)
            written.add(name)
    print(f"seeds.py: {len(written)} {proto} seeds from {len(captures)} captures into {out}")


if __name__ == "__main__":
    main()
