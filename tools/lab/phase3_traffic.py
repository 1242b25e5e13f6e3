#!/usr/bin/env python3
"""Traffic for the Phase 3 lab and its throughput run (standard library only; no iputils or iperf3
on the lab machine), run inside a lab namespace:

    phase3_traffic.py ping --src 2.2.2.2 --count 40 --interval 0.25 3.3.3.3
    phase3_traffic.py sink --bind 3.3.3.3 --port 5201 [--udp]
    phase3_traffic.py send --src 2.2.2.2 --port 5201 --seconds 8 [--udp] 3.3.3.3

ping: ICMP echo from the source address (a loopback: the router's Loopback0 on lo) over a raw
      socket; one line a reply ("seq N time X ms"), then "N packets transmitted, M received";
      exits 0 when a reply came back.
sink: accepts one TCP connection (or reads UDP datagrams until 2 s pass without one after the
      first), counts what arrives and prints one JSON line: bytes, seconds from the first to
      the last byte, bits per second.
send: TCP (or UDP datagrams of 1300 bytes) to the sink for the given time, then prints one JSON
      line of what it sent.
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

from router_ping import checksum  # tools/lab/router_ping.py, beside this file


def ping(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.bind((args.src, 0))
    ident = os.getpid() & 0xFFFF
    received = 0
    for seq in range(1, args.count + 1):
        sent = time.time()
        body = struct.pack("!d", sent) + b"phase3 lab" * 4
        header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        packet = struct.pack("!BBHHH", 8, 0, checksum(header + body), ident, seq) + body
        sock.sendto(packet, (args.destination, 0))
        deadline = sent + args.timeout
        while (left := deadline - time.time()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            reply, addr = sock.recvfrom(2048)
            ihl = (reply[0] & 15) * 4
            kind, _, _, rid, rseq = struct.unpack("!BBHHH", reply[ihl:ihl + 8])
            if kind == 0 and rid == ident and rseq == seq and addr[0] == args.destination:
                received += 1
                print(f"seq {seq} time {(time.time() - sent) * 1000:.2f} ms", flush=True)
                break
        time.sleep(max(0.0, args.interval - (time.time() - sent)))
    print(f"{args.count} packets transmitted, {received} received", flush=True)
    return 0 if received else 1


def sink(args):
    kind = socket.SOCK_DGRAM if args.udp else socket.SOCK_STREAM
    server = socket.socket(socket.AF_INET, kind)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    server.bind((args.bind, args.port))
    total, first, last = 0, None, None
    if args.udp:
        print("ready", flush=True)
        server.settimeout(args.wait)
        while True:
            try:
                data = server.recv(65536)
            except socket.timeout:
                if first is not None:
                    break
                continue
            now = time.monotonic()
            first = first if first is not None else now
            last, total = now, total + len(data)
            server.settimeout(2.0)
    else:
        server.listen(1)
        print("ready", flush=True)
        conn, _ = server.accept()
        while data := conn.recv(1 << 16):
            now = time.monotonic()
            first = first if first is not None else now
            last, total = now, total + len(data)
        conn.close()
    seconds = (last - first) if first is not None else 0.0
    bps = total * 8 / seconds if seconds > 0 else 0.0
    print(json.dumps({"bytes": total, "seconds": round(seconds, 3), "bits_per_second": round(bps)}), flush=True)
    return 0 if total else 1


def send(args):
    end = time.monotonic() + args.seconds
    total = 0
    if args.udp:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((args.src, 0))
        block = bytes(range(256)) * 5 + bytes(20)
        while time.monotonic() < end:
            for _ in range(64):
                try:
                    total += sock.sendto(block, (args.destination, args.port))
                except OSError:  # a full queue (ENOBUFS): the path is the bottleneck
                    time.sleep(0.0005)
    else:
        sock = socket.create_connection((args.destination, args.port), timeout=30, source_address=(args.src, 0))
        block = bytes(range(256)) * 256
        while time.monotonic() < end:
            sock.sendall(block)
            total += len(block)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)
    print(json.dumps({"sent_bytes": total, "seconds": args.seconds}), flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ping")
    p.add_argument("--src", required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--interval", type=float, default=0.25)
    p.add_argument("--timeout", type=float, default=1.0)
    p.add_argument("destination")
    s = sub.add_parser("sink")
    s.add_argument("--bind", required=True)
    s.add_argument("--port", type=int, default=5201)
    s.add_argument("--udp", action="store_true")
    s.add_argument("--wait", type=float, default=30.0, help="UDP: seconds to wait for the first datagram")
    t = sub.add_parser("send")
    t.add_argument("--src", required=True)
    t.add_argument("--port", type=int, default=5201)
    t.add_argument("--seconds", type=float, default=8.0)
    t.add_argument("--udp", action="store_true")
    t.add_argument("destination")
    args = parser.parse_args()
    return {"ping": ping, "sink": sink, "send": send}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
