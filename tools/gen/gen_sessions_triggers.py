#!/usr/bin/env python3
"""Trigger captures for the `dmvpn sessions` diagnosis rules (crates/dmvpn/src/session/diagnose.rs).

Each capture shows one DMVPN fault and nothing else wrong, on top of a healthy baseline (spokes that
register with the hub and hold an EIGRP adjacency), so each rule can be tested to fire on its own
capture and on no other. `healthy.pcap` is the baseline alone: no rule may fire on it.

Usage: python3 tools/gen/gen_sessions_triggers.py --out testdata/sessions

Addresses: hub 192.0.2.1 (tunnel 172.16.1.1, LAN 192.168.1.0/24), spoke A 192.0.2.11 (172.16.1.11,
192.168.11.0/24), spoke B 192.0.2.12 (172.16.1.12, 192.168.12.0/24). Plain GRE unless the fault
needs IPsec; captures with ESP come with a Wireshark `esp_sa` key file of the same name.
The NHRP, ESP and key-file helpers come from tools/gen/gen_testdata.py (the bundled Phase 1 capture).
"""

import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_testdata as base  # noqa: E402
import isakmp_vectors as ikev  # noqa: E402

from scapy.all import Ether, IP, UDP, TCP, ICMP, GRE, Raw, fragment, wrpcap  # noqa: E402
from scapy.layers.isakmp import (  # noqa: E402
    ISAKMP,
    ISAKMP_payload_SA,
    ISAKMP_payload_Proposal,
    ISAKMP_payload_Transform,
    ISAKMP_payload_VendorID,
)
from scapy.contrib.eigrp import EIGRP, EIGRPParam, EIGRPSwVer, EIGRPIntRoute  # noqa: E402

HUB = base.HUB
HUB_TUNNEL = "172.16.1.1"
A = ("192.0.2.11", "172.16.1.11", "192.168.11.0")
B = ("192.0.2.12", "172.16.1.12", "192.168.12.0")
NHRP_PROTO = 0x2001
AUTH = 7  # NHRP Authentication extension
LAB_PSK = b"lab-psk-secret"  # the hub's pre-shared key (and the spokes', except in ike-psk-mismatch)
SPOKE_B_WRONG_PSK = b"lab-psk-secret-old"  # spoke B's stale key in ike-psk-mismatch


class Capture:
    """Frames with timestamps, each a step of `dt` seconds after the previous one."""

    def __init__(self):
        self.frames = []
        self.t = base.T0

    def add(self, pkt, dt=0.25):
        self.t += dt
        pkt.time = self.t
        self.frames.append(pkt)

    def gre(self, src, dst, proto, payload, dt=0.25):
        """Plain GRE between NBMA addresses (hub or spoke MACs by direction)."""
        to_hub = dst == HUB
        eth = Ether(src=base.ROUTER_MAC if to_hub else base.HUB_MAC, dst=base.HUB_MAC if to_hub else base.ROUTER_MAC)
        self.add(eth / IP(src=src, dst=dst, ttl=254) / GRE(proto=proto) / payload, dt)

    def write(self, path):
        wrpcap(path, self.frames, linktype=1)


def nhrp_packet(op, mandatory, extensions):
    """An NHRP packet (RFC 2332 §5): fixed header, `mandatory` bytes, extensions, checksum."""
    ext = b""
    for ty, compulsory, value in extensions:
        ext += struct.pack("!HH", (0x8000 if compulsory else 0) | ty, len(value)) + value
    if extensions:
        ext += struct.pack("!HH", 0x8000, 0)
    size = 20 + len(mandatory) + len(ext)
    extoff = 20 + len(mandatory) if extensions else 0
    header = struct.pack("!HH5sBHHHBBBB", 1, 0x0800, b"\0" * 5, 255, size, 0, extoff, 1, op, 4, 0)
    packet = bytearray(header + mandatory + ext)
    struct.pack_into("!H", packet, 12, base.checksum(bytes(packet)))
    return bytes(packet)


def registration(spoke, request_id, hold=7200, code=0, auth=None):
    """Registration Request and Reply (unique flag, one CIE); `auth` adds a cleartext auth extension."""
    nbma, tunnel, _ = spoke
    ext = [(AUTH, True, struct.pack("!I", 1) + auth)] if auth else []
    cie = [(0, 32, 1400, hold, None, None)]
    request = base.nhrp(3, nbma, tunnel, HUB_TUNNEL, request_id, 0x8002, cie, ext + [(3, True, b"")])
    reply_cie = [(code, 32, 1400, hold, None, None)]
    reply = base.nhrp(4, nbma, tunnel, HUB_TUNNEL, request_id, 0x8002, reply_cie,
                      ext + [(3, True, base.cie_bytes(0, 32, 1400, hold, HUB, HUB_TUNNEL))])
    return request, reply


def error_indication(code, errored, auth=None):
    """An Error Indication from the hub quoting `errored` (RFC 2332 §5.2.7)."""
    mandatory = struct.pack("!BBHHH", 4, 4, 0, code, 0) + base.ip4(HUB) + base.ip4(HUB_TUNNEL) + \
        base.ip4(HUB_TUNNEL) + errored
    ext = [(AUTH, True, struct.pack("!I", 1) + auth)] if auth else []
    return nhrp_packet(7, mandatory, ext)


def hello(src_tunnel, asn=100, k=(1, 0, 1, 0, 0)):
    k1, k2, k3, k4, k5 = k
    return IP(src=src_tunnel, dst="224.0.0.10", ttl=2, proto=88) / EIGRP(
        opcode=5, asn=asn, tlvlist=[EIGRPParam(k1=k1, k2=k2, k3=k3, k4=k4, k5=k5, holdtime=15), EIGRPSwVer()])


def update(src_tunnel, dst_tunnel, prefixes, asn=100):
    """An EIGRP Update (EOT) with one internal route per prefix (/24)."""
    routes = [EIGRPIntRoute(nexthop="0.0.0.0", delay=6400, bandwidth=2560000, mtu=1400, hopcount=1,
                            reliability=255, load=1, prefixlen=24, dst=prefix) for prefix in prefixes]
    return IP(src=src_tunnel, dst=dst_tunnel, ttl=2, proto=88) / EIGRP(
        opcode=1, flags=0x8, asn=asn, seq=1, ack=0, tlvlist=routes)


def baseline(c, spokes=(A, B), skip_hellos=(), split_horizon=False):
    """Each spoke registers, exchanges hellos with the hub and advertises its LAN; the hub then
    advertises its own LAN and (split horizon off, as DMVPN needs) the other spokes' LANs."""
    for n, spoke in enumerate(spokes, start=1):
        request, reply = registration(spoke, n)
        c.gre(spoke[0], HUB, NHRP_PROTO, Raw(request))
        c.gre(HUB, spoke[0], NHRP_PROTO, Raw(reply))
    for spoke in spokes:
        if spoke in skip_hellos:
            continue
        c.gre(spoke[0], HUB, 0x0800, hello(spoke[1]))
        c.gre(HUB, spoke[0], 0x0800, hello(HUB_TUNNEL))
        c.gre(spoke[0], HUB, 0x0800, update(spoke[1], HUB_TUNNEL, [spoke[2]]))
    for spoke in spokes:
        if spoke in skip_hellos:
            continue
        others = [] if split_horizon else [o[2] for o in spokes if o != spoke and o not in skip_hellos]
        c.gre(HUB, spoke[0], 0x0800, update(HUB_TUNNEL, spoke[1], ["192.168.1.0"] + others))


def ike_mm1_mm2(c, spoke_nbma, icookie, offer, answer=True):
    """Main Mode messages 1 and 2 in the clear: the spoke's offer and the hub's choice."""
    enc, hsh, group = offer
    transform = ISAKMP_payload_Transform(transform_count=1, transform_id=1, transforms=[
        ("Encryption", enc), ("Hash", hsh), ("Authentication", "PSK"), ("GroupDesc", group),
        ("LifeType", "Seconds"), ("LifeDuration", 86400)])
    sa = ISAKMP_payload_SA(prop=ISAKMP_payload_Proposal(proposal=1, proto=1, trans_nb=1, trans=transform))
    dpd = ISAKMP_payload_VendorID(VendorID=bytes.fromhex("afcad71368a1f1c96b8696fc77570100"))
    mm1 = IP(src=spoke_nbma, dst=HUB) / UDP(sport=500, dport=500) / ISAKMP(init_cookie=icookie, exch_type=2) / sa / dpd
    c.add(Ether(src=base.ROUTER_MAC, dst=base.HUB_MAC) / IP(bytes(mm1)))
    if answer:
        mm2 = IP(src=HUB, dst=spoke_nbma) / UDP(sport=500, dport=500) / ISAKMP(
            init_cookie=icookie, resp_cookie=bytes.fromhex("5555666677778888"), exch_type=2) / sa / dpd
        c.add(Ether(src=base.HUB_MAC, dst=base.ROUTER_MAC) / IP(bytes(mm2)))


def isakmp_payload(next_payload, body):
    """A generic payload header (RFC 2408 §3.2) and its body."""
    return struct.pack("!BBH", next_payload, 0, 4 + len(body)) + body


AES128_SHA = (12, ((1, 1), (2, 3600), (4, 2), (5, 2), (6, 128)))  # esp-aes esp-sha-hmac, transport, 3600 s
TDES_MD5 = (3, ((1, 1), (2, 3600), (4, 2), (5, 1)))  # esp-3des esp-md5-hmac, transport, 3600 s


def esp_sa_payload(next_payload, spi, transform_set=AES128_SHA):
    """An IPsec DOI SA payload with one ESP proposal and one transform (RFC 2407 §4.5 attributes
    in TV form)."""
    transform_id, attributes = transform_set
    attrs = b"".join(struct.pack("!HH", 0x8000 | ty, value) for ty, value in attributes)
    transform = struct.pack("!BBHBBH", 0, 0, 8 + len(attrs), 1, transform_id, 0) + attrs
    proposal = struct.pack("!BBHBBBB", 0, 0, 8 + 4 + len(transform), 1, 3, 4, 1) + struct.pack("!I", spi) + transform
    return isakmp_payload(next_payload, struct.pack("!II", 1, 1) + proposal)


def ike_session(c, spoke_nbma, icookie, rcookie, spi_initiator, spi_responder, keys, outcome="agreed",
                spoke_psk=LAB_PSK):
    """Main Mode (3des sha group 2 pre-share, DPD) with a real key schedule (RFC 2409 §5): MODP-1024
    Diffie-Hellman from deterministic exponents, SKEYID = prf(PSK, Ni_b | Nr_b), Ka from SKEYID_e
    (Appendix B), HASH_I / HASH_R over the real SAi_b and ID bodies, MM5 on encrypted with 3DES-CBC
    and the Appendix B IVs. The spoke (initiator) uses `spoke_psk`, the hub `LAB_PSK`; the spoke's
    Ka goes to `keys` (the ikev1_decryption_table lines: what the spoke's debug would show). Then:
    - "agreed": a Quick Mode whose two SA payloads carry each side's ESP SPI;
    - "transform-mismatch": the spoke's Quick Mode offers esp-3des esp-md5-hmac and the hub answers
      with an encrypted Informational NO-PROPOSAL-CHOSEN for ESP;
    - "psk-mismatch": the spoke sends MM5 three times and the hub never answers (with its own PSK it
      derives another Ka, so MM5 does not decrypt)."""
    import hashlib
    to_hub = lambda src: Ether(src=base.ROUTER_MAC, dst=base.HUB_MAC) if src != HUB else \
        Ether(src=base.HUB_MAC, dst=base.ROUTER_MAC)  # noqa: E731

    def send(src, dst, isakmp_bytes, dt=0.25):
        c.add(to_hub(src) / IP(bytes(IP(src=src, dst=dst) / UDP(sport=500, dport=500) / Raw(isakmp_bytes))), dt)

    def header(exch, flags, message_id, first, body):
        return icookie + rcookie + struct.pack("!BBBBII", first, 0x10, exch, flags, message_id, 28 + len(body)) + body

    transform = ISAKMP_payload_Transform(transform_count=1, transform_id=1, transforms=[
        ("Encryption", "3DES-CBC"), ("Hash", "SHA"), ("Authentication", "PSK"), ("GroupDesc", "1024MODPgr"),
        ("LifeType", "Seconds"), ("LifeDuration", 86400)])
    sa = ISAKMP_payload_SA(prop=ISAKMP_payload_Proposal(proposal=1, proto=1, trans_nb=1, trans=transform))
    dpd = ISAKMP_payload_VendorID(VendorID=bytes.fromhex("afcad71368a1f1c96b8696fc77570100"))
    mm1 = bytes(ISAKMP(init_cookie=icookie, exch_type=2) / sa / dpd)
    sai_b = mm1[32:28 + struct.unpack("!H", mm1[30:32])[0]]  # the SA body, after its generic header
    send(spoke_nbma, HUB, mm1)
    send(HUB, spoke_nbma, bytes(ISAKMP(init_cookie=icookie, resp_cookie=rcookie, exch_type=2) / sa / dpd))
    x_i, ke_i = ikev.dh(2, f"{icookie.hex()}/initiator")
    x_r, ke_r = ikev.dh(2, f"{icookie.hex()}/responder")
    ni, nr = bytes(range(20)), bytes(range(40, 60))
    for src, dst, ke, nonce in ((spoke_nbma, HUB, ke_i, ni), (HUB, spoke_nbma, ke_r, nr)):
        body = isakmp_payload(10, ke) + isakmp_payload(0, nonce)
        send(src, dst, header(2, 0, 0, 4, body))
    g_xy = ikev.shared(2, x_i, ke_r)
    skeyid = {}
    for side, psk in (("initiator", spoke_psk), ("responder", LAB_PSK)):
        s = ikev.prf("sha1", psk, ni, nr)
        d = ikev.prf("sha1", s, g_xy, icookie, rcookie, b"\x00")
        a = ikev.prf("sha1", s, d, g_xy, icookie, rcookie, b"\x01")
        e = ikev.prf("sha1", s, a, g_xy, icookie, rcookie, b"\x02")
        skeyid[side] = (s, ikev.ka("sha1", e, 24))
    ka = skeyid["initiator"][1]
    iv = hashlib.sha1(ke_i + ke_r).digest()[:8]  # the negotiated hash, SHA-1
    last = iv
    senders = ((spoke_nbma, HUB, spoke_nbma, "initiator"),) if outcome == "psk-mismatch" else \
        ((spoke_nbma, HUB, spoke_nbma, "initiator"), (HUB, spoke_nbma, HUB, "responder"))
    for src, dst, ident, side in senders:
        id_b = struct.pack("!BBH", 1, 17, 500) + base.ip4(ident)
        s = skeyid[side][0]
        if side == "initiator":
            auth = ikev.prf("sha1", s, ke_i, ke_r, icookie, rcookie, sai_b, id_b)  # HASH_I
        else:
            auth = ikev.prf("sha1", s, ke_r, ke_i, rcookie, icookie, sai_b, id_b)  # HASH_R
        plain = isakmp_payload(8, id_b) + isakmp_payload(0, auth)
        ct = base.tdes_cbc(ka, last, plain)
        send(src, dst, header(2, 1, 0, 5, ct))
        last = ct[-8:]
    keys.append(f"{icookie.hex()},{ka.hex()}")
    if outcome == "psk-mismatch":
        for _ in range(2):  # retransmissions of the same MM5
            c.add(c.frames[-1].copy(), dt=5)
        return
    message_id = 0x51525354
    iv = hashlib.sha1(last + message_id.to_bytes(4, "big")).digest()[:8]
    quick = ((spoke_nbma, HUB, spi_initiator),) if outcome == "transform-mismatch" else \
        ((spoke_nbma, HUB, spi_initiator), (HUB, spoke_nbma, spi_responder))
    transform_set = TDES_MD5 if outcome == "transform-mismatch" else AES128_SHA
    for src, dst, spi in quick:
        plain = isakmp_payload(1, bytes(20)) + esp_sa_payload(10, spi, transform_set) + \
            isakmp_payload(0, bytes(range(16)))
        ct = base.tdes_cbc(ka, iv, plain)
        send(src, dst, header(32, 1, message_id, 8, ct))
        iv = ct[-8:]
    if outcome == "transform-mismatch":
        # Informational (RFC 2409 §5.7): HASH(1), then N(NO-PROPOSAL-CHOSEN) for the ESP SPI.
        info_id = 0x61626364
        iv = hashlib.sha1(last + info_id.to_bytes(4, "big")).digest()[:8]
        notify = struct.pack("!IBBH", 1, 3, 4, 14) + struct.pack("!I", spi_initiator)
        plain = isakmp_payload(11, bytes(20)) + isakmp_payload(0, notify)
        send(HUB, spoke_nbma, header(5, 1, info_id, 8, base.tdes_cbc(ka, iv, plain)))


def no_proposal_notify(icookie):
    """An Informational exchange in the clear with NO-PROPOSAL-CHOSEN (RFC 2408 §3.14, type 14)."""
    notify = struct.pack("!BBHIBBH", 0, 0, 12, 1, 1, 0, 14)
    header = icookie + bytes(8) + struct.pack("!BBBBII", 11, 0x10, 5, 0, 0, 28 + len(notify))
    return header + notify


def esp_spoke(name, spoke, spi_out, spi_in):
    nbma, tunnel, lan = spoke
    return base.Spoke(name, nbma, tunnel, lan, "AES-CBC", bytes.fromhex("00112233445566778899aabbccddeeff"),
                      "HMAC-SHA1-96", bytes.fromhex("0102030405060708090a0b0c0d0e0f1011121314"), spi_out, spi_in)


class EspCapture(base.Writer):
    """The Phase 1 generator's writer: GRE in ESP transport mode, deterministic IVs."""

    def gre_esp(self, spoke, proto, payload, to_hub):
        self.esp(spoke, GRE(proto=proto) / payload, to_hub=to_hub)

    def write(self, path, spokes):
        wrpcap(path, self.frames, linktype=1)
        with open(path.replace(".pcap", ".esp_sa"), "w") as keys:
            keys.write("# Wireshark esp_sa for %s, written by tools/gen/gen_sessions_triggers.py\n" % os.path.basename(path))
            for s in spokes:
                for sa, src, dst in ((s.sa_out, s.public_nbma, HUB), (s.sa_in, HUB, s.public_nbma)):
                    keys.write(base.esp_sa_line(sa, src, dst) + "\n")


def esp_baseline(w, spokes):
    for n, s in enumerate(spokes, start=1):
        spoke = (s.nbma, s.tunnel, s.lan)
        request, reply = registration(spoke, n)
        w.gre_esp(s, NHRP_PROTO, Raw(request), True)
        w.gre_esp(s, NHRP_PROTO, Raw(reply), False)
        w.gre_esp(s, 0x0800, hello(s.tunnel), True)
        w.gre_esp(s, 0x0800, hello(HUB_TUNNEL), False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="directory")
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    path = lambda name: os.path.join(out, name)  # noqa: E731

    # healthy: IKE agreed, ESP-protected registrations and hellos, a ping to the hub's LAN, a SYN
    # with MSS 1360 (what adjust-mss allows).
    w = EspCapture()
    sa, sb = esp_spoke("A", A, 0x1000A001, 0x2000A001), esp_spoke("B", B, 0x1000B002, 0x2000B002)
    ike_keys = []
    ike_session(w, A[0], bytes.fromhex("a1a2a3a4a5a6a7a8"), bytes.fromhex("b1b2b3b4b5b6b7b8"),
                0x2000A001, 0x1000A001, ike_keys)
    with open(path("healthy.ikev1_decryption_table"), "w") as table:
        table.write("".join(line + "\n" for line in ike_keys))
    esp_baseline(w, [sa, sb])
    w.gre_esp(sa, 0x0800, IP(src="192.168.11.10", dst="192.168.1.10") / ICMP(id=1, seq=1), True)
    w.gre_esp(sa, 0x0800, IP(src="192.168.1.10", dst="192.168.11.10") / ICMP(type=0, id=1, seq=1), False)
    w.gre_esp(sa, 0x0800, IP(src="192.168.11.10", dst="192.168.1.20") / TCP(
        sport=40000, dport=443, flags="S", options=[("MSS", 1360)]), True)
    w.write(path("healthy.pcap"), [sa, sb])

    # nhrp-no-registration: spoke B's three requests go unanswered.
    c = Capture()
    baseline(c, (A,))
    for n in (2, 3, 4):
        request, _ = registration(B, n)
        c.gre(B[0], HUB, NHRP_PROTO, Raw(request), dt=5)
    c.write(path("nhrp-no-registration.pcap"))

    # nhrp-no-registration (silent): spoke B brings up IKE and sends hellos but never registers.
    c = Capture()
    baseline(c, (A,))
    ike_mm1_mm2(c, B[0], bytes.fromhex("b1b2b3b4b5b6b7b8"), ("3DES-CBC", "MD5", "1024MODPgr"))
    c.gre(B[0], HUB, 0x0800, hello(B[1]))
    c.gre(HUB, B[0], 0x0800, hello(HUB_TUNNEL))
    c.write(path("nhrp-no-registration-silent.pcap"))

    # nhrp-registration-refused: the hub answers spoke B with code 4 (Administratively Prohibited).
    c = Capture()
    baseline(c, (A,))
    request, reply = registration(B, 2, code=4)
    c.gre(B[0], HUB, NHRP_PROTO, Raw(request))
    c.gre(HUB, B[0], NHRP_PROTO, Raw(reply))
    c.write(path("nhrp-registration-refused.pcap"))

    # nhrp-auth-mismatch: spoke B authenticates with one string, the hub with another and answers
    # with an Error Indication, code 11 (Authentication Failure).
    c = Capture()
    baseline(c, (A,))
    request, _ = registration(B, 2, auth=b"spokepw1")
    c.gre(B[0], HUB, NHRP_PROTO, Raw(request))
    c.gre(HUB, B[0], NHRP_PROTO, Raw(error_indication(11, request, auth=b"hubpw123")))
    c.write(path("nhrp-auth-mismatch.pcap"))

    # nhrp-hold-expired: spoke A registers for 10 s, keeps its adjacency, and re-registers only
    # after 25 s.
    c = Capture()
    request, reply = registration(A, 1, hold=10)
    c.gre(A[0], HUB, NHRP_PROTO, Raw(request))
    c.gre(HUB, A[0], NHRP_PROTO, Raw(reply))
    for _ in range(5):
        c.gre(A[0], HUB, 0x0800, hello(A[1]), dt=5)
        c.gre(HUB, A[0], 0x0800, hello(HUB_TUNNEL))
    request, reply = registration(A, 2, hold=10)
    c.gre(A[0], HUB, NHRP_PROTO, Raw(request))
    c.gre(HUB, A[0], NHRP_PROTO, Raw(reply))
    c.write(path("nhrp-hold-expired.pcap"))

    # ike-no-proposal-chosen: spoke B offers DES/SHA/group 1, the hub refuses.
    c = Capture()
    baseline(c, (A,))
    icookie = bytes.fromhex("c1c2c3c4c5c6c7c8")
    ike_mm1_mm2(c, B[0], icookie, ("DES-CBC", "SHA", "768MODPgr"), answer=False)
    c.add(Ether(src=base.HUB_MAC, dst=base.ROUTER_MAC) / IP(src=HUB, dst=B[0]) / UDP(sport=500, dport=500) /
          Raw(no_proposal_notify(icookie)))
    c.write(path("ike-no-proposal-chosen.pcap"))

    # ike-transform-set-mismatch: phase 1 comes up (keys in the .ikev1_decryption_table), spoke B's
    # Quick Mode offers esp-3des esp-md5-hmac, the hub refuses it with an encrypted NO-PROPOSAL-CHOSEN.
    c = Capture()
    baseline(c, (A,))
    ike_keys = []
    ike_session(c, B[0], bytes.fromhex("d1d2d3d4d5d6d7d8"), bytes.fromhex("e1e2e3e4e5e6e7e8"),
                0x3000B002, 0x4000B002, ike_keys, outcome="transform-mismatch")
    c.write(path("ike-transform-set-mismatch.pcap"))
    with open(path("ike-transform-set-mismatch.ikev1_decryption_table"), "w") as table:
        table.write("".join(line + "\n" for line in ike_keys))

    # ike-psk-mismatch: spoke B's Main Mode stalls at message 5, sent three times, never answered.
    c = Capture()
    baseline(c, (A,))
    ike_keys = []
    ike_session(c, B[0], bytes.fromhex("f1f2f3f4f5f6f7f8"), bytes.fromhex("0102030405060708"), 0, 0, ike_keys,
                outcome="psk-mismatch", spoke_psk=SPOKE_B_WRONG_PSK)
    c.write(path("ike-psk-mismatch.pcap"))
    with open(path("ike-psk-mismatch.ikev1_decryption_table"), "w") as table:
        table.write("".join(line + "\n" for line in ike_keys))

    # esp-icv-failure: one of spoke A's ESP packets arrives with a damaged ICV.
    w = EspCapture()
    sa, sb = esp_spoke("A", A, 0x1000A001, 0x2000A001), esp_spoke("B", B, 0x1000B002, 0x2000B002)
    esp_baseline(w, [sa, sb])
    w.esp(sa, GRE(proto=0x0800) / IP(src="192.168.11.10", dst="192.168.1.10") / ICMP(id=2, seq=1), to_hub=True,
          corrupt=True)
    w.write(path("esp-icv-failure.pcap"), [sa, sb])

    # esp-replay: one of spoke A's ESP packets is seen twice (same sequence number).
    w = EspCapture()
    sa, sb = esp_spoke("A", A, 0x1000A001, 0x2000A001), esp_spoke("B", B, 0x1000B002, 0x2000B002)
    esp_baseline(w, [sa, sb])
    w.gre_esp(sa, 0x0800, IP(src="192.168.11.10", dst="192.168.1.10") / ICMP(id=3, seq=1), True)
    w.add(w.frames[-1].copy())
    w.write(path("esp-replay.pcap"), [sa, sb])

    # eigrp-k-mismatch: spoke B's hellos carry K2 = 1.
    c = Capture()
    baseline(c, skip_hellos=(B,))
    c.gre(B[0], HUB, 0x0800, hello(B[1], k=(1, 1, 1, 0, 0)))
    c.gre(HUB, B[0], 0x0800, hello(HUB_TUNNEL))
    c.write(path("eigrp-k-mismatch.pcap"))

    # eigrp-as-mismatch: spoke B runs EIGRP AS 200, the hub AS 100.
    c = Capture()
    baseline(c, skip_hellos=(B,))
    c.gre(B[0], HUB, 0x0800, hello(B[1], asn=200))
    c.gre(HUB, B[0], 0x0800, hello(HUB_TUNNEL))
    c.write(path("eigrp-as-mismatch.pcap"))

    # eigrp-adjacency-flap: spoke A's hellos stop for 23 s (hold time 15 s) while the hub's go on,
    # then spoke A says goodbye.
    c = Capture()
    baseline(c)
    for _ in range(4):
        c.gre(HUB, A[0], 0x0800, hello(HUB_TUNNEL), dt=5)
    c.gre(A[0], HUB, 0x0800, hello(A[1]), dt=3)
    c.gre(HUB, A[0], 0x0800, hello(HUB_TUNNEL), dt=1)
    c.gre(A[0], HUB, 0x0800, hello(A[1], k=(255, 255, 255, 255, 255)), dt=1)
    c.write(path("eigrp-adjacency-flap.pcap"))

    # eigrp-split-horizon: the hub advertises only its own LAN to each spoke.
    c = Capture()
    baseline(c, split_horizon=True)
    c.write(path("eigrp-split-horizon.pcap"))

    # tcp-mss-too-large: a SYN from spoke A's LAN with MSS 1460 inside the tunnel.
    c = Capture()
    baseline(c)
    c.gre(A[0], HUB, 0x0800, IP(src="192.168.11.10", dst="192.168.1.20") / TCP(
        sport=40001, dport=443, flags="S", options=[("MSS", 1460)]))
    c.write(path("tcp-mss-too-large.pcap"))

    # fragmented-after-encapsulation: a 1400-byte packet in GRE leaves spoke A as two fragments.
    c = Capture()
    baseline(c)
    big = IP(src=A[0], dst=HUB, ttl=254, id=0x4242) / GRE(proto=0x0800) / IP(
        src="192.168.11.10", dst="192.168.1.10") / ICMP(id=4, seq=1) / Raw(bytes(1372))
    for frag in fragment(IP(bytes(big)), fragsize=1000):
        c.add(Ether(src=base.ROUTER_MAC, dst=base.HUB_MAC) / frag, dt=0.001)
    c.write(path("fragmented-after-encapsulation.pcap"))

    # spoke-to-spoke-hairpin: A's LAN pings B's LAN through the hub (Phase 1, no resolution).
    c = Capture()
    baseline(c)
    ping = IP(src="192.168.11.10", dst="192.168.12.10", ttl=63, id=0x0501) / ICMP(id=5, seq=1)
    c.gre(A[0], HUB, 0x0800, ping)
    c.gre(HUB, B[0], 0x0800, base.forwarded(ping))
    pong = IP(src="192.168.12.10", dst="192.168.11.10", ttl=63, id=0x0601) / ICMP(type=0, id=5, seq=1)
    c.gre(B[0], HUB, 0x0800, pong)
    c.gre(HUB, A[0], 0x0800, base.forwarded(pong))
    c.write(path("spoke-to-spoke-hairpin.pcap"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
