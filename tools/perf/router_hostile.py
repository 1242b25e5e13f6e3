#!/usr/bin/env python3
"""Hostile NBMA input for the router soak (tools/perf/router_soak.sh), sent with scapy from a namespace
on the lab's NBMA bridge. Only the lab's addresses (192.0.2.0/24) are ever used.

  router_hostile.py --src ADDR --esp-sa FILE [--replay PCAP] [--count N] TARGET...

For each TARGET (a router's NBMA address), N packets of each class:
  gre_garbage    IPv4 proto 47, random bytes (0..200)                 -> CleartextGre / MalformedGre
  gre_nhrp       GRE 0x2001 + an NHRP fixed header, random rest        -> CleartextGre
  gre_eigrp      GRE 0x0800 + IPv4 proto 88 + random EIGRP             -> CleartextGre
  esp_no_sa      ESP with a random SPI no SA has, random body          -> NoInboundSa
  esp_bad_icv    ESP with the SPI of the target's inbound SA from its real peer (source spoofed to
                 that peer), a sequence number past the window, random body -> EspIntegrity
  esp_wrong_peer ESP with that SPI from the attacker's own address     -> EspWrongPeer (or EspIntegrity)
  ike_garbage    UDP 500, random bytes                                 -> IKE error (log), no state
  ike_mm1        UDP 500, an IKEv1 Main Mode first message with fresh cookies (hub only) -> a
                 half-open responder SA each: memory must stay bounded
and, with --replay, every ESP packet of PCAP sent again unchanged (to whom it was sent) -> EspReplay.
Prints one JSON line: {class: {target: sent}}.
"""
import argparse
import json
import os
import random
import sys

from scapy.all import IP, UDP, Raw, conf, rdpcap, send  # noqa: E402
from scapy.layers.inet import IP as IPLayer
from scapy.layers.l2 import GRE
from scapy.layers.isakmp import ISAKMP, ISAKMP_payload_SA, ISAKMP_payload_Proposal, ISAKMP_payload_Transform

conf.verb = 0


def rnd(lo, hi):
    return os.urandom(random.randint(lo, hi))


def inbound_sas(path):
    """{(src, dst): spi} from a Wireshark esp_sa key log."""
    sas = {}
    try:
        for line in open(path):
            fields = [f.strip('"') for f in line.strip().split(",")]
            if len(fields) >= 4:
                sas[(fields[1], fields[2])] = int(fields[3], 16)
    except OSError:
        pass
    return sas


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--src", required=True)
    p.add_argument("--esp-sa", default="")
    p.add_argument("--replay", default="")
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--hub", default="192.0.2.1")
    p.add_argument("targets", nargs="+")
    a = p.parse_args()
    for t in a.targets + [a.src, a.hub]:
        if not t.startswith("192.0.2."):
            sys.exit("router_hostile.py: lab addresses (192.0.2.0/24) only")
    sas = inbound_sas(a.esp_sa)
    sent = {}

    def out(cls, target, pkts):
        send(pkts)
        sent.setdefault(cls, {})
        sent[cls][target] = sent[cls].get(target, 0) + len(pkts)

    n = a.count
    for t in a.targets:
        out("gre_garbage", t, [IP(src=a.src, dst=t, proto=47) / Raw(rnd(0, 200)) for _ in range(n)])
        nhrp = [GRE(proto=0x2001) / Raw(bytes([0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 1, random.randint(1, 10)]) + rnd(0, 200))
                for _ in range(n)]
        out("gre_nhrp", t, [IP(src=a.src, dst=t) / g for g in nhrp])
        eigrp = [GRE(proto=0x0800) / IPLayer(src="10.99.200.66", dst="224.0.0.10", proto=88) /
                 Raw(bytes([2, random.randint(1, 10)]) + rnd(0, 120)) for _ in range(n)]
        out("gre_eigrp", t, [IP(src=a.src, dst=t) / g for g in eigrp])
        out("esp_no_sa", t, [IP(src=a.src, dst=t, proto=50) /
                             Raw(random.randint(0x10000000, 0xffffffff).to_bytes(4, "big") + rnd(4, 300))
                             for _ in range(n)])
        peers = [(src, spi) for (src, dst), spi in sas.items() if dst == t]
        if peers:
            # the latest SA of the first peer (the key log appends: the last line is the newest)
            peer, spi = peers[-1]
            far = random.randint(1 << 30, (1 << 31))
            out("esp_bad_icv", t, [IP(src=peer, dst=t, proto=50) /
                                   Raw(spi.to_bytes(4, "big") + (far + i).to_bytes(4, "big") + rnd(16, 16) + rnd(32, 32) + rnd(12, 12))
                                   for i in range(n)])
            out("esp_wrong_peer", t, [IP(src=a.src, dst=t, proto=50) /
                                      Raw(spi.to_bytes(4, "big") + (far + n + i).to_bytes(4, "big") + rnd(60, 60))
                                      for i in range(n)])
        out("ike_garbage", t, [IP(src=a.src, dst=t) / UDP(sport=500, dport=500) / Raw(rnd(0, 300)) for _ in range(n)])
    if a.hub in a.targets:
        transform = ISAKMP_payload_Transform(transform_count=1, transforms=[
            ("Encryption", "3DES-CBC"), ("Hash", "MD5"), ("Authentication", "PSK"),
            ("GroupDesc", "1024MODPgr"), ("LifeType", "Seconds"), ("LifeDuration", 86400)])
        mm1 = [IP(src=a.src, dst=a.hub) / UDP(sport=500, dport=500) /
               ISAKMP(init_cookie=os.urandom(8), next_payload=1, exch_type=2) /
               ISAKMP_payload_SA(prop=ISAKMP_payload_Proposal(trans_nb=1, trans=transform))
               for _ in range(n)]
        out("ike_mm1", a.hub, mm1)
    if a.replay and os.path.exists(a.replay):
        esp = [pkt[IP] for pkt in rdpcap(a.replay) if IP in pkt and pkt[IP].proto == 50
               and pkt[IP].dst in a.targets]
        by_dst = {}
        for pkt in esp:
            by_dst.setdefault(pkt[IP].dst, []).append(pkt)
        for dst, pkts in by_dst.items():
            out("esp_replay", dst, pkts)
    print(json.dumps(sent))


if __name__ == "__main__":
    main()
