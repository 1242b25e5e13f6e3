#!/usr/bin/env python3
"""Captures of DMVPN Phase 3 for `dmvpn sessions` (crates/dmvpn/src/session/spoke_to_spoke.rs and the
Phase 3 rules in crates/dmvpn/src/session/diagnose/phase3.rs): one healthy run and one per fault.

Usage: python3 tools/gen/gen_phase3_sessions.py --out testdata/sessions

The capture point is the NBMA segment all three routers share, so it sees spoke <-> hub and
spoke <-> spoke traffic. Addresses as in gen_sessions_triggers.py: hub 192.0.2.1 (tunnel 172.16.1.1),
spoke A 192.0.2.11 (172.16.1.11, LAN 192.168.11.0/24), spoke B 192.0.2.12 (172.16.1.12, 192.168.12.0/24).
Every capture starts with the healthy baseline of that generator (both spokes register with NHRP and
hold an EIGRP adjacency with the hub; plain GRE to the hub). What follows is what IOS does with
`ip nhrp redirect` on the hub and `ip nhrp shortcut` on the spokes:

  1. a packet from A's LAN to B's LAN hair-pins: A -> hub, hub -> B (GRE);
  2. the hub sends A a Traffic Indication (NHRP type 8) quoting that packet's IP header;
  3. A sends a Resolution Request for the destination to the hub, which forwards it to B;
  4. B brings up IKE with A (Main Mode 1-4 in the clear, 5-6 and Quick Mode encrypted) and answers A
     directly, over the new ESP SA, with a Resolution Reply for 192.168.12.0/24 (hold 600 s);
  5. the flow's next packets go straight from A to B in ESP (AES-CBC / HMAC-SHA-1-96, transport mode,
     GRE inside), and B's answers straight back.

The spoke-to-spoke ESP SAs are in the `.esp_sa` file beside each capture that has them (Wireshark's
esp_sa format, as gen_testdata.py writes it). Deterministic: fixed timestamps, cookies, IVs.
"""

import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_testdata as base  # noqa: E402
import gen_sessions_triggers as trig  # noqa: E402

from scapy.all import Ether, IP, UDP, ICMP, GRE, Raw, wrpcap  # noqa: E402
from scapy.layers.ipsec import SecurityAssociation, ESP  # noqa: E402
from scapy.layers.isakmp import ISAKMP, ISAKMP_payload_KE, ISAKMP_payload_Nonce  # noqa: E402

HUB, HUB_TUNNEL = trig.HUB, trig.HUB_TUNNEL
A, B = trig.A, trig.B
NHRP = trig.NHRP_PROTO
HOST_A, HOST_B = "192.168.11.10", "192.168.12.10"
HOLD = 600


def mac(addr):
    return "02:00:00:00:00:%02x" % int(addr.split(".")[-1])


class Run(trig.Capture):
    """A Phase 3 capture: frames between any two of the three routers, and the spoke-to-spoke SAs."""

    def __init__(self):
        super().__init__()
        self.sas = {}  # (src, dst) -> [SecurityAssociation, next sequence number]
        self.iv_counter = 0

    def ip(self, src, dst, payload, dt=0.25):
        self.add(Ether(src=mac(src), dst=mac(dst)) / IP(bytes(IP(src=src, dst=dst, ttl=254) / payload)), dt)

    def gre(self, src, dst, proto, payload, dt=0.25):
        self.ip(src, dst, GRE(proto=proto) / payload, dt)

    def esp(self, src, dst, proto, payload, dt=0.25):
        """GRE in ESP transport mode straight between two spokes, on the SA for that direction."""
        if (src, dst) not in self.sas:
            spi = 0x30000000 | (int(src.split(".")[-1]) << 8) | int(dst.split(".")[-1])
            key = bytes((spi + i) & 0xFF for i in range(16))
            auth = bytes((spi * 3 + i) & 0xFF for i in range(20))
            self.sas[(src, dst)] = [SecurityAssociation(ESP, spi=spi, crypt_algo="AES-CBC", crypt_key=key,
                                                        auth_algo="HMAC-SHA1-96", auth_key=auth), 0]
        sa = self.sas[(src, dst)]
        sa[1] += 1
        self.iv_counter += 1
        plain = IP(bytes(IP(src=src, dst=dst, id=sa[1], ttl=254) / GRE(proto=proto) / payload))
        enc = sa[0].encrypt(plain, seq_num=sa[1], iv=(self.iv_counter.to_bytes(4, "big") * 4))
        self.add(Ether(src=mac(src), dst=mac(dst)) / IP(bytes(enc)), dt)

    def write(self, path):
        wrpcap(path, self.frames, linktype=1)
        keys = path.replace(".pcap", ".esp_sa")
        if self.sas:
            with open(keys, "w") as out:
                out.write("# Wireshark esp_sa for %s, written by tools/gen/gen_phase3_sessions.py\n"
                          % os.path.basename(path))
                for (src, dst), (sa, _) in sorted(self.sas.items()):
                    out.write(base.esp_sa_line(sa, src, dst) + "\n")
        elif os.path.exists(keys):
            os.remove(keys)


def packet(src, dst, ident, kind="ping"):
    """A data packet between the LANs: an ICMP echo (or reply), or a one-way UDP datagram."""
    if kind == "udp":
        return IP(src=src, dst=dst, ttl=63, id=ident) / UDP(sport=5004, dport=5004) / Raw(b"rtp" * 20)
    icmp = ICMP(id=ident & 0xFF, seq=ident >> 8) if kind == "ping" else ICMP(type=0, id=ident & 0xFF, seq=ident >> 8)
    return IP(src=src, dst=dst, ttl=63, id=ident) / icmp


def hairpin(c, spoke_in, spoke_out, pkt, dt=0.25):
    """`pkt` enters the hub from one spoke and leaves it to the other (the hub's copy one hop older)."""
    c.gre(spoke_in[0], HUB, 0x0800, pkt, dt)
    c.gre(HUB, spoke_out[0], 0x0800, base.forwarded(pkt), 0.001)


def traffic_indication(spoke, pkt):
    """The hub's redirect to `spoke` (NHRP type 8, traffic code 0): its own addresses, the packet's
    source as destination protocol address, then the packet's IP header and the first 8 bytes after."""
    quoted = bytes(pkt)[:28]
    mandatory = struct.pack("!BBHHH", 4, 4, 0, 0, 0) + base.ip4(HUB) + base.ip4(HUB_TUNNEL) + \
        base.ip4(pkt[IP].src) + quoted
    return trig.nhrp_packet(8, mandatory, [])


def resolution_request(spoke, target, request_id):
    return base.nhrp(1, spoke[0], spoke[1], target, request_id, 0x0002, [(0, 32, 1400, HOLD, None, None)],
                     [(3, True, b"")])


def resolution_reply(requester, target, request_id, answerer, code=0, prefix=24):
    """The answer to `requester`'s request: the answering spoke's NBMA and tunnel address in the CIE
    (none in a refusal), the prefix it covers and the holding time."""
    cie = (code, prefix, 1400, HOLD, answerer[0], answerer[1]) if code == 0 else (code, 32, 1400, 0, None, None)
    nbma, tunnel = answerer[:2] if answerer else (HUB, HUB_TUNNEL)
    responder = base.cie_bytes(0, 32, 1400, HOLD, nbma, tunnel)
    return base.nhrp(2, requester[0], requester[1], target, request_id, 0x4002, [cie], [(3, True, responder)])


def purge(spoke, prefix, request_id):
    """A Purge Request withdrawing `prefix`/24."""
    return base.nhrp(5, spoke[0], spoke[1], prefix, request_id, 0x0000, [(0, 24, 1400, 0, None, prefix)], [])


def spoke_ike(c, initiator, responder, icookie, answered=True, tries=1):
    """IKE Main Mode between two spokes: 1-4 in the clear (SA, then KE and nonce), 5-6 encrypted, then
    an encrypted Quick Mode. Unanswered, the initiator sends message 1 `tries` times, 5 s apart."""
    rcookie = bytes(reversed(icookie))

    def send(src, dst, payload, dt=0.05):
        c.ip(src, dst, UDP(sport=500, dport=500) / payload, dt)

    def isakmp(exch, **kw):
        return ISAKMP(init_cookie=icookie, resp_cookie=rcookie if answered else bytes(8), exch_type=exch, **kw)

    transform = trig.ISAKMP_payload_Transform(transform_count=1, transform_id=1, transforms=[
        ("Encryption", "AES-CBC"), ("KeyLength", 128), ("Hash", "SHA"), ("Authentication", "PSK"),
        ("GroupDesc", "1024MODPgr"), ("LifeType", "Seconds"), ("LifeDuration", 86400)])
    sa = trig.ISAKMP_payload_SA(prop=trig.ISAKMP_payload_Proposal(proposal=1, proto=1, trans_nb=1, trans=transform))
    for n in range(tries):
        mm1 = ISAKMP(init_cookie=icookie, exch_type=2) / sa
        send(initiator[0], responder[0], mm1, dt=5 if n else 0.05)
    if not answered:
        return
    send(responder[0], initiator[0], isakmp(2) / sa)
    for src, dst, seed in ((initiator, responder, 3), (responder, initiator, 5)):
        ke = bytes((i * seed + 1) & 0xFF for i in range(128))
        send(src[0], dst[0], isakmp(2) / ISAKMP_payload_KE(load=ke) / ISAKMP_payload_Nonce(load=bytes(range(seed, seed + 20))))
    for src, dst, exch, mid, seed in ((initiator, responder, 2, 0, 7), (responder, initiator, 2, 0, 9),
                                      (initiator, responder, 32, 0x0A0B0C0D, 11),
                                      (responder, initiator, 32, 0x0A0B0C0D, 13),
                                      (initiator, responder, 32, 0x0A0B0C0D, 15)):
        body = bytes((i * seed) & 0xFF for i in range(64))
        send(src[0], dst[0], isakmp(exch, flags=1, id=mid, next_payload=5 if exch == 2 else 8) / Raw(body))


def shortcut(c, request_id, icookie, ike=True):
    """Steps 2-4: redirect for A's last packet, A's resolution through the hub, B's IKE and direct answer."""
    c.gre(HUB, A[0], NHRP, Raw(traffic_indication(A, c.last_packet)), dt=0.01)
    request = resolution_request(A, HOST_B, request_id)
    c.gre(A[0], HUB, NHRP, Raw(request), dt=0.05)
    c.gre(HUB, B[0], NHRP, Raw(request), dt=0.01)
    if ike:
        spoke_ike(c, B, A, icookie)
    c.esp(B[0], A[0], NHRP, Raw(resolution_reply(A, HOST_B, request_id, B)), dt=0.05)


def start(kind="ping"):
    """The baseline, then the first packet from A's LAN to B's hair-pinning (and B's answer)."""
    c = Run()
    trig.baseline(c)
    c.last_packet = packet(HOST_A, HOST_B, 0x0101, kind)
    hairpin(c, A, B, c.last_packet)
    if kind == "ping":
        hairpin(c, B, A, packet(HOST_B, HOST_A, 0x0101, "pong"))
    return c


def direct(c, first_seq, count, kind="ping"):
    """`count` packets of the flow straight between the spokes (and the answers)."""
    for seq in range(first_seq, first_seq + count):
        c.esp(A[0], B[0], 0x0800, packet(HOST_A, HOST_B, (seq << 8) | 1, kind), dt=1)
        if kind == "ping":
            c.esp(B[0], A[0], 0x0800, packet(HOST_B, HOST_A, (seq << 8) | 1, "pong"), dt=0.01)


def via_hub(c, first_seq, count):
    """`count` one-way packets of the flow from A's LAN to B's, hair-pinning, one a second."""
    for seq in range(first_seq, first_seq + count):
        hairpin(c, A, B, packet(HOST_A, HOST_B, (seq << 8) | 1, "udp"), dt=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="directory")
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    path = lambda name: os.path.join(out, name)  # noqa: E731

    # phase3-healthy: hair-pin, redirect, resolution, IKE between the spokes, direct reply, then the
    # ping goes direct. B resolves A the same way (its redirect quoting B's answer), over the new SA.
    c = start()
    shortcut(c, 101, bytes.fromhex("5a5a000000000001"))
    c.gre(HUB, B[0], NHRP, Raw(traffic_indication(B, packet(HOST_B, HOST_A, 0x0101, "pong"))), dt=0.01)
    request = resolution_request(B, HOST_A, 201)
    c.gre(B[0], HUB, NHRP, Raw(request), dt=0.05)
    c.gre(HUB, A[0], NHRP, Raw(request), dt=0.01)
    c.esp(A[0], B[0], NHRP, Raw(resolution_reply(B, HOST_A, 201, A)), dt=0.05)
    direct(c, 2, 3)
    c.write(path("phase3-healthy.pcap"))

    # nhrp-redirect-no-shortcut: the hub redirects A (no `ip nhrp shortcut`): A never resolves, and its
    # one-way stream keeps hair-pinning.
    c = start("udp")
    c.gre(HUB, A[0], NHRP, Raw(traffic_indication(A, c.last_packet)), dt=0.01)
    via_hub(c, 2, 4)
    c.write(path("nhrp-redirect-no-shortcut.pcap"))

    # nhrp-resolution-unanswered: A resolves after the redirect, the hub forwards the request to B,
    # nobody answers; A retries twice.
    c = start("udp")
    c.gre(HUB, A[0], NHRP, Raw(traffic_indication(A, c.last_packet)), dt=0.01)
    request = resolution_request(A, HOST_B, 301)
    for _ in range(3):
        c.gre(A[0], HUB, NHRP, Raw(request), dt=1)
        c.gre(HUB, B[0], NHRP, Raw(request), dt=0.01)
    via_hub(c, 2, 2)
    c.write(path("nhrp-resolution-unanswered.pcap"))

    # nhrp-resolution-refused: the hub answers A's request itself with CIE code 12 (No Binding Exists).
    c = start("udp")
    c.gre(HUB, A[0], NHRP, Raw(traffic_indication(A, c.last_packet)), dt=0.01)
    c.gre(A[0], HUB, NHRP, Raw(resolution_request(A, HOST_B, 401)), dt=0.05)
    c.gre(HUB, A[0], NHRP, Raw(resolution_reply(A, HOST_B, 401, None, code=12)), dt=0.01)
    via_hub(c, 2, 3)
    c.write(path("nhrp-resolution-refused.pcap"))

    # spoke-to-spoke-ike-failed: B answers the forwarded request by starting IKE with A, whose UDP 500
    # is filtered: B sends Main Mode 1 three times, 5 s apart; the stream stays on the hub.
    c = start("udp")
    c.gre(HUB, A[0], NHRP, Raw(traffic_indication(A, c.last_packet)), dt=0.01)
    request = resolution_request(A, HOST_B, 501)
    c.gre(A[0], HUB, NHRP, Raw(request), dt=0.05)
    c.gre(HUB, B[0], NHRP, Raw(request), dt=0.01)
    spoke_ike(c, B, A, bytes.fromhex("5a5a000000000005"), answered=False, tries=3)
    via_hub(c, 2, 3)
    c.write(path("spoke-to-spoke-ike-failed.pcap"))

    # nhrp-shortcut-flapping: the healthy shortcut is purged (A to B, over the SA) and resolved again,
    # twice.
    c = start()
    shortcut(c, 601, bytes.fromhex("5a5a000000000006"))
    direct(c, 2, 1)
    for n, request_id in enumerate((602, 603)):
        c.esp(A[0], B[0], NHRP, Raw(purge(A, "192.168.12.0", 700 + n)), dt=1)
        request = resolution_request(A, HOST_B, request_id)
        c.gre(A[0], HUB, NHRP, Raw(request), dt=0.05)
        c.gre(HUB, B[0], NHRP, Raw(request), dt=0.01)
        c.esp(B[0], A[0], NHRP, Raw(resolution_reply(A, HOST_B, request_id, B)), dt=0.05)
        direct(c, 3 + n, 1)
    c.write(path("nhrp-shortcut-flapping.pcap"))

    # phase3-hairpin: the shortcut comes up (redirect, resolution, IKE, direct reply) but A's stream
    # keeps going through the hub (its routing does not use the NHRP route).
    c = start("udp")
    shortcut(c, 801, bytes.fromhex("5a5a000000000008"))
    via_hub(c, 2, 4)
    c.write(path("phase3-hairpin.pcap"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
