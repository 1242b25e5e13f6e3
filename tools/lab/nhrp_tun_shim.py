#!/usr/bin/env python3
"""nhrp_tun_shim.py -- carry FRR nhrpd's NHRP out of a TUN device as GRE, for kernels without GRE.

nhrpd sends NHRP as PF_PACKET frames of protocol 0x2001 on its tunnel interface. This shim creates
that interface as a TUN (with packet information, so the protocol is known), reads the frames, and
sends each one in GRE (protocol 0x2001, no key) over a raw IPPROTO_GRE socket to the NHS's NBMA
address; the kernel adds the outer IPv4 header. Nothing is carried back (nhrpd drops frames whose
link-layer source is not a 4-byte NBMA address, which a TUN cannot give).

    nhrp_tun_shim.py --ifname gre1 --addr 10.99.200.11/32 --nhs 192.0.2.1 [--log FILE]

Runs until SIGTERM.
"""
import argparse
import fcntl
import os
import select
import signal
import socket
import struct
import subprocess

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
ETH_P_NHRP = 0x2001


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ifname", default="gre1")
    ap.add_argument("--addr", required=True, help="tunnel address with prefix, e.g. 10.99.200.11/32")
    ap.add_argument("--nhs", required=True, help="NBMA address of the NHS")
    ap.add_argument("--mtu", type=int, default=1400)
    ap.add_argument("--log")
    args = ap.parse_args()
    log = open(args.log, "a", buffering=1) if args.log else None

    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", args.ifname.encode(), IFF_TUN))
    subprocess.run(["ip", "addr", "add", args.addr, "dev", args.ifname], check=True)
    subprocess.run(["ip", "link", "set", args.ifname, "mtu", str(args.mtu), "up"], check=True)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)

    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while running:
        ready, _, _ = select.select([tun], [], [], 0.2)
        if not ready:
            continue
        frame = os.read(tun, 65535)
        _flags, proto = struct.unpack("!HH", frame[:4])
        if proto != ETH_P_NHRP:
            continue
        raw.sendto(struct.pack("!HH", 0, ETH_P_NHRP) + frame[4:], (args.nhs, 0))
        if log:
            log.write(f"nhrp {len(frame) - 4} bytes -> {args.nhs}\n")


if __name__ == "__main__":
    main()
