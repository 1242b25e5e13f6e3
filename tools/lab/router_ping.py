#!/usr/bin/env python3
"""ICMP echo over a raw socket (standard library only; the lab machine has no iputils ping).

    python3 tools/lab/router_ping.py [-c COUNT] [-i INTERVAL] [-W TIMEOUT] [-s SIZE] DESTINATION

Prints one line per reply and a ping-like summary ("N packets transmitted, M received"); exits 0
when at least one reply came back. Used by tools/lab/router_lab.sh inside the lab's namespaces.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-c", type=int, default=1, dest="count")
    parser.add_argument("-i", type=float, default=1.0, dest="interval")
    parser.add_argument("-W", type=float, default=1.0, dest="timeout")
    parser.add_argument("-s", type=int, default=56, dest="size")
    parser.add_argument("destination")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    received = 0
    for seq in range(1, args.count + 1):
        payload = struct.pack("!d", time.time()) + bytes(range(args.size - 8 if args.size > 8 else 0))
        header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        packet = struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, seq) + payload
        sent = time.time()
        sock.sendto(packet, (args.destination, 0))
        deadline = sent + args.timeout
        while True:
            left = deadline - time.time()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            data, (src, _) = sock.recvfrom(65535)
            ihl = (data[0] & 0x0F) * 4
            kind, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl : ihl + 8])
            if kind == 0 and rid == ident and rseq == seq and src == args.destination:
                received += 1
                print(f"{len(data) - ihl} bytes from {src}: icmp_seq={seq} ttl={data[8]} "
                      f"time={(time.time() - sent) * 1000:.2f} ms", flush=True)
                break
        if seq < args.count:
            time.sleep(max(0.0, args.interval - (time.time() - sent)))
    loss = 100 * (args.count - received) // args.count
    print(f"{args.count} packets transmitted, {received} received, {loss}% packet loss")
    return 0 if received else 1


if __name__ == "__main__":
    sys.exit(main())
