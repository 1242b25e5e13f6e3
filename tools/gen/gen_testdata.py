#!/usr/bin/env python3
"""Generate the project's bundled DMVPN Phase 1 capture and its keys.

An independent implementation (scapy 2.6.1 + cryptography) builds what a capture at the hub's NBMA interface shows
in a small DMVPN Phase 1 network, so our Rust decoder can be checked against something it did not write itself,
and tshark can be run on the same file as an oracle.

Topology (addresses from the documentation ranges of RFC 5737 and private tunnel space):
  hub     NBMA 192.0.2.1     tunnel 172.16.1.1   LAN 192.168.1.0/24
  spoke A NBMA 192.0.2.11    tunnel 172.16.1.11  LAN 192.168.11.0/24   ESP AES-128-CBC + HMAC-SHA1-96, GRE key 123
  spoke B NBMA 192.0.2.12    tunnel 172.16.1.12  LAN 192.168.12.0/24   ESP 3DES-CBC + HMAC-MD5-96, no GRE key
  spoke C NBMA 198.51.100.7  tunnel 172.16.1.13  LAN 192.168.13.0/24   behind NAT: IKE on UDP 4500, ESP in UDP,
                                                                       AES-256-CBC + HMAC-SHA-256-128
  spoke D NBMA 192.0.2.14    tunnel 172.16.1.14                        ESP AES-GCM-128 (16-byte ICV)
  spoke E NBMA 192.0.2.15    tunnel 172.16.1.15                        ESP NULL + HMAC-SHA1-96
What is in it: IKEv1 Main Mode (messages 1-4 in clear, 5-6 encrypted with 3DES, key in the ikev1 table) and
an encrypted Quick Mode message for spoke A; ESP transport
mode protecting GRE; NHRP Registration Request/Reply and a Resolution Request/Reply in GRE; EIGRP Hello and Update
(with an internal route) in GRE; ICMP and a TCP SYN between LANs hair-pinning through the hub; one large ESP packet
fragmented after encapsulation; a fragmented IKE datagram; NAT-T keepalive, IKE with the non-ESP marker and
ESP-in-UDP for spoke C; one 802.1Q-tagged frame; one unprotected GRE/NHRP packet; a frame with a corrupted ICV.

Usage: python3 tools/gen/gen_testdata.py --out testdata/dmvpn/phase1.pcap --keys-out testdata/dmvpn/phase1.esp_sa \\
           --ike-keys-out testdata/dmvpn/phase1.ikev1_decryption_table
Deterministic: fixed keys, IVs, cookies and timestamps give a byte-identical file for the same scapy version.
"""

import argparse
import hashlib
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, modes
try:  # cryptography >= 43 keeps TripleDES among the "decrepit" algorithms
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # older releases
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES

from scapy.all import Ether, Dot1Q, IP, UDP, TCP, ICMP, GRE, Raw, fragment, wrpcap, conf
from scapy.layers.ipsec import SecurityAssociation, ESP
from scapy.layers.isakmp import (
    ISAKMP,
    ISAKMP_payload_SA,
    ISAKMP_payload_Proposal,
    ISAKMP_payload_Transform,
    ISAKMP_payload_KE,
    ISAKMP_payload_Nonce,
    ISAKMP_payload_VendorID,
    ISAKMP_payload_ID,
    ISAKMP_payload_Hash,
)
from scapy.contrib.eigrp import EIGRP, EIGRPParam, EIGRPSwVer, EIGRPIntRoute

conf.verb = 0

HUB = "192.0.2.1"
HUB_MAC = "02:00:00:00:00:01"
ROUTER_MAC = "02:00:00:00:00:fe"
T0 = 1_764_000_000.0  # 2025-11-24T16:00:00Z


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip4(addr: str) -> bytes:
    return bytes(int(x) for x in addr.split("."))


def nhrp(op: int, src_nbma: str, src_proto: str, dst_proto: str, request_id: int, flags: int,
         cies: list, extensions: list) -> bytes:
    """An NHRP packet per RFC 2332 §5: fixed header, mandatory part, CIEs, then extensions, checksummed."""
    mandatory = struct.pack("!BBHI", 4, 4, flags, request_id) + ip4(src_nbma) + ip4(src_proto) + ip4(dst_proto)
    for cie in cies:
        mandatory += cie_bytes(*cie)
    ext = b""
    for ty, compulsory, value in extensions:
        ext += struct.pack("!HH", (0x8000 if compulsory else 0) | ty, len(value)) + value
    if extensions:
        ext += struct.pack("!HH", 0x8000, 0)  # End of Extensions (compulsory)
    size = 20 + len(mandatory) + len(ext)
    extoff = 20 + len(mandatory) if extensions else 0
    # afn 1 (IPv4), pro.type 0x0800, snap 0, hop count 255, size, checksum, extoff, version 1, type, shtl 4, sstl 0
    header = struct.pack("!HH5sBHHHBBBB", 1, 0x0800, b"\0" * 5, 255, size, 0, extoff, 1, op, 4, 0)
    packet = bytearray(header + mandatory + ext)
    struct.pack_into("!H", packet, 12, checksum(bytes(packet)))
    return bytes(packet)


def cie_bytes(code, prefix, mtu, hold, cli_nbma, cli_proto) -> bytes:
    nbma_len = 4 if cli_nbma else 0
    proto_len = 4 if cli_proto else 0
    # code, prefix length, unused, MTU, holding time, client NBMA/subaddress/protocol lengths, preference
    return (struct.pack("!BBHHHBBBB", code, prefix, 0, mtu, hold, nbma_len, 0, proto_len, 0)
            + (ip4(cli_nbma) if cli_nbma else b"") + (ip4(cli_proto) if cli_proto else b""))


class Spoke:
    def __init__(self, name, nbma, tunnel, lan, crypt, crypt_key, auth, auth_key, spi_out, spi_in,
                 gre_key=None, natt=False, public_nbma=None):
        self.name, self.nbma, self.tunnel, self.lan = name, nbma, tunnel, lan
        self.gre_key, self.natt = gre_key, natt
        self.public_nbma = public_nbma or nbma
        nat = UDP(sport=4500, dport=4500) if natt else None
        self.sa_out = SecurityAssociation(ESP, spi=spi_out, crypt_algo=crypt, crypt_key=crypt_key,
                                          auth_algo=auth, auth_key=auth_key, nat_t_header=nat)
        self.sa_in = SecurityAssociation(ESP, spi=spi_in, crypt_algo=crypt, crypt_key=crypt_key[::-1]
                                         if crypt != "NULL" and crypt != "AES-GCM" else crypt_key,
                                         auth_algo=auth, auth_key=auth_key[::-1] if auth_key else auth_key,
                                         nat_t_header=nat)
        self.crypt, self.auth = crypt, auth
        self.seq_out = 0
        self.seq_in = 0
        self.mac = "02:00:00:00:01:%02x" % (int(tunnel.split(".")[-1]))

    def gre(self, inner_proto: int):
        return GRE(key_present=1, key=self.gre_key, proto=inner_proto) if self.gre_key is not None \
            else GRE(proto=inner_proto)


class Writer:
    def __init__(self):
        self.frames = []
        self.t = T0
        self.iv_counter = 0
        self.ike_keys = []

    def add(self, pkt, dt=0.25):
        self.t += dt
        pkt.time = self.t
        self.frames.append(pkt)

    def iv(self, size: int) -> bytes:
        # Deterministic IVs: the counter spelled out over the block.
        self.iv_counter += 1
        return (self.iv_counter.to_bytes(4, "big") * 4)[:size]

    def esp(self, spoke: Spoke, inner_payload, to_hub: bool, fragment_at=None, vlan=None, corrupt=False):
        """GRE(inner) in ESP transport mode between the spoke's NBMA address and the hub."""
        src, dst = (spoke.public_nbma, HUB) if to_hub else (HUB, spoke.public_nbma)
        sa = spoke.sa_out if to_hub else spoke.sa_in
        if to_hub:
            spoke.seq_out += 1
            seq = spoke.seq_out
        else:
            spoke.seq_in += 1
            seq = spoke.seq_in
        plain = IP(src=src, dst=dst, id=seq, ttl=254) / inner_payload
        plain = IP(bytes(plain))
        iv_size = {"AES-CBC": 16, "3DES": 8, "AES-GCM": 8, "NULL": 0}[spoke.crypt]
        enc = sa.encrypt(plain, seq_num=seq, iv=self.iv(iv_size) if iv_size else None)
        enc = IP(bytes(enc))
        if corrupt:
            raw = bytearray(bytes(enc))
            raw[-1] ^= 0x5A
            enc = IP(bytes(raw))
        eth_src, eth_dst = (ROUTER_MAC, HUB_MAC) if to_hub else (HUB_MAC, ROUTER_MAC)
        if fragment_at:
            for frag in fragment(enc, fragsize=fragment_at):
                self.add(Ether(src=eth_src, dst=eth_dst) / frag, dt=0.001)
            return
        link = Ether(src=eth_src, dst=eth_dst)
        if vlan is not None:
            link = link / Dot1Q(vlan=vlan)
        self.add(link / enc)


def nhrp_registration(spoke: Spoke, request_id: int):
    ext_responder = (3, True, b"")
    ext_fwd = (4, True, b"")
    ext_rev = (5, True, b"")
    ext_nat = (9, False, b"")
    request = nhrp(3, spoke.nbma, spoke.tunnel, "172.16.1.1", request_id, 0x8002,
                   [(0, 32, 1400, 7200, None, None)], [ext_responder, ext_fwd, ext_rev, ext_nat])
    reply_resp = (3, True, cie_bytes(0, 32, 1400, 7200, HUB, "172.16.1.1"))
    reply_nat = (9, False, cie_bytes(0, 32, 1400, 7200, spoke.public_nbma, spoke.tunnel))
    reply = nhrp(4, spoke.nbma, spoke.tunnel, "172.16.1.1", request_id, 0x8002,
                 [(0, 32, 1400, 7200, None, None)], [reply_resp, ext_fwd, ext_rev, reply_nat])
    return request, reply


def forwarded(packet):
    """The packet as the hub forwards it: TTL one less, checksum recomputed."""
    copy = IP(bytes(packet))
    copy.ttl -= 1
    del copy.chksum
    return IP(bytes(copy))


def eigrp_hello(asn: int):
    return EIGRP(opcode=5, asn=asn, seq=0, ack=0, tlvlist=[EIGRPParam(k1=1, k2=0, k3=1, k4=0, k5=0, holdtime=15),
                                                             EIGRPSwVer()])


def eigrp_update(asn: int, seq: int, prefix: str, plen: int, nexthop: str = "0.0.0.0"):
    route = EIGRPIntRoute(nexthop=nexthop, delay=6400, bandwidth=2560000, mtu=1400, hopcount=1, reliability=255,
                          load=1, prefixlen=plen, dst=prefix)
    return EIGRP(opcode=1, flags=0x8, asn=asn, seq=seq, ack=0, tlvlist=[route])


IKE_KA = bytes.fromhex("6b61206f6620746865206473706f6b652061206d61696e20")  # 24 bytes, 3DES


def tdes_cbc(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """3DES-CBC with zero padding to the block, as IKEv1 pads (RFC 2409 §5.3)."""
    plaintext += bytes(-len(plaintext) % 8)
    encryptor = Cipher(TripleDES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(plaintext) + encryptor.finalize()


def ike_main_mode(w: Writer, spoke: Spoke):
    icookie = bytes.fromhex("a1b2c3d4e5f60718")
    rcookie = bytes.fromhex("1122334455667788")
    transform = ISAKMP_payload_Transform(transform_count=1, transform_id=1, transforms=[
        ("Encryption", "3DES-CBC"), ("Hash", "MD5"), ("Authentication", "PSK"),
        ("GroupDesc", "1024MODPgr"), ("LifeType", "Seconds"), ("LifeDuration", 86400)])
    sa = ISAKMP_payload_SA(prop=ISAKMP_payload_Proposal(proposal=1, proto=1, trans_nb=1, trans=transform))
    dpd = ISAKMP_payload_VendorID(VendorID=bytes.fromhex("afcad71368a1f1c96b8696fc77570100"))
    unity = ISAKMP_payload_VendorID(VendorID=bytes.fromhex("12f5f28c457168a9702d9fe274cc0100"))
    src, dst = spoke.nbma, HUB
    mm1 = IP(src=src, dst=dst) / UDP(sport=500, dport=500) / ISAKMP(
        init_cookie=icookie, exch_type=2) / sa / dpd / unity
    mm2 = IP(src=dst, dst=src) / UDP(sport=500, dport=500) / ISAKMP(
        init_cookie=icookie, resp_cookie=rcookie, exch_type=2) / sa / dpd
    ke_i = bytes((i * 7 + 3) & 0xFF for i in range(128))
    ke_r = bytes((i * 11 + 5) & 0xFF for i in range(128))
    mm3 = IP(src=src, dst=dst) / UDP(sport=500, dport=500) / ISAKMP(
        init_cookie=icookie, resp_cookie=rcookie, exch_type=2) / ISAKMP_payload_KE(load=ke_i) / \
        ISAKMP_payload_Nonce(load=bytes(range(20)))
    mm4 = IP(src=dst, dst=src) / UDP(sport=500, dport=500) / ISAKMP(
        init_cookie=icookie, resp_cookie=rcookie, exch_type=2) / ISAKMP_payload_KE(load=ke_r) / \
        ISAKMP_payload_Nonce(load=bytes(range(20, 40)))
    # MM5/MM6 and a Quick Mode message, encrypted with 3DES-CBC under Ka with the IVs of RFC 2409
    # Appendix B: phase 1 IV = MD5(g^xi | g^xr), chained through the last ciphertext block; a phase 2
    # IV = MD5(last phase 1 block | message ID). Ka goes to the ikev1_decryption_table; the HASH
    # payloads are plausible bytes (no real Diffie-Hellman happened).
    ka = IKE_KA
    iv = hashlib.md5(ke_i + ke_r).digest()[:8]
    id_i = ISAKMP_payload_ID(next_payload=8, IDtype=1, ProtoID=17, Port=500, IdentData=spoke.nbma) / \
        ISAKMP_payload_Hash(next_payload=0, load=bytes(range(100, 116)))
    ct5 = tdes_cbc(ka, iv, bytes(id_i))
    mm5 = IP(src=src, dst=dst) / UDP(sport=500, dport=500) / ISAKMP(
        init_cookie=icookie, resp_cookie=rcookie, exch_type=2, flags=1, next_payload=5) / Raw(ct5)
    id_r = ISAKMP_payload_ID(next_payload=8, IDtype=1, ProtoID=17, Port=500, IdentData=HUB) / \
        ISAKMP_payload_Hash(next_payload=0, load=bytes(range(200, 216)))
    ct6 = tdes_cbc(ka, ct5[-8:], bytes(id_r))
    mm6 = IP(src=dst, dst=src) / UDP(sport=500, dport=500) / ISAKMP(
        init_cookie=icookie, resp_cookie=rcookie, exch_type=2, flags=1, next_payload=5) / Raw(ct6)
    message_id = 0x01020304
    qm_iv = hashlib.md5(ct6[-8:] + message_id.to_bytes(4, "big")).digest()[:8]
    qm = ISAKMP_payload_Hash(next_payload=10, load=bytes(range(16))) / ISAKMP_payload_Nonce(
        next_payload=5, load=bytes(range(50, 66))) / \
        ISAKMP_payload_ID(next_payload=5, IDtype=1, ProtoID=47, IdentData=spoke.nbma) / \
        ISAKMP_payload_ID(next_payload=0, IDtype=1, ProtoID=47, IdentData=HUB)
    ct_qm = tdes_cbc(ka, qm_iv, bytes(qm))
    qm1 = IP(src=src, dst=dst) / UDP(sport=500, dport=500) / ISAKMP(
        init_cookie=icookie, resp_cookie=rcookie, exch_type=32, flags=1, id=message_id, next_payload=8) / Raw(ct_qm)
    w.ike_keys.append((icookie, ka))
    for i, msg in enumerate([mm1, mm2, mm3, mm4, mm5, mm6, qm1]):
        to_hub = i % 2 == 0
        w.add(Ether(src=ROUTER_MAC if to_hub else HUB_MAC, dst=HUB_MAC if to_hub else ROUTER_MAC) / IP(bytes(msg)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--keys-out", required=True)
    parser.add_argument("--ike-keys-out", required=True, help="Wireshark ikev1_decryption_table")
    args = parser.parse_args()

    spokes = [
        Spoke("A", "192.0.2.11", "172.16.1.11", "192.168.11.0", "AES-CBC", bytes.fromhex("00112233445566778899aabbccddeeff"),
              "HMAC-SHA1-96", bytes.fromhex("0102030405060708090a0b0c0d0e0f1011121314"), 0x1000A001, 0x2000A001,
              gre_key=123),
        Spoke("B", "192.0.2.12", "172.16.1.12", "192.168.12.0", "3DES",
              bytes.fromhex("0123456789abcdef23456789abcdef01456789abcdef0123"),
              "HMAC-MD5-96", bytes.fromhex("f0e0d0c0b0a090807060504030201000"), 0x1000B002, 0x2000B002),
        Spoke("C", "10.0.0.13", "172.16.1.13", "192.168.13.0", "AES-CBC",
              bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
              "SHA2-256-128", bytes.fromhex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"),
              0x1000C003, 0x2000C003, natt=True, public_nbma="198.51.100.7"),
        Spoke("D", "192.0.2.14", "172.16.1.14", "192.168.14.0", "AES-GCM",
              bytes.fromhex("feffe9928665731c6d6a8f9467308308cafebabe"), "NULL", None, 0x1000D004, 0x2000D004),
        Spoke("E", "192.0.2.15", "172.16.1.15", "192.168.15.0", "NULL", None,
              "HMAC-SHA1-96", bytes.fromhex("aabbccddeeff00112233445566778899aabbccdd"), 0x1000E005, 0x2000E005),
    ]
    a, b, c, d, e = spokes
    w = Writer()

    ike_main_mode(w, a)

    # NAT-T for spoke C: keepalive, then IKE with the non-ESP marker on 4500.
    w.add(Ether(src=ROUTER_MAC, dst=HUB_MAC) / IP(src=c.public_nbma, dst=HUB) / UDP(sport=4500, dport=4500) /
          Raw(b"\xff"))
    natt_ike = ISAKMP(init_cookie=bytes.fromhex("c0c1c2c3c4c5c6c7"), resp_cookie=bytes.fromhex("d0d1d2d3d4d5d6d7"),
                      exch_type=32, flags=1, id=0x0BADCAFE, next_payload=8) / Raw(bytes(range(48)))
    w.add(Ether(src=ROUTER_MAC, dst=HUB_MAC) / IP(src=c.public_nbma, dst=HUB) / UDP(sport=4500, dport=4500) /
          Raw(b"\0\0\0\0" + bytes(natt_ike)))

    # A fragmented IKE datagram (a Main Mode 1 with many vendor IDs), fragmented at 128 bytes.
    big = IP(src=b.nbma, dst=HUB) / UDP(sport=500, dport=500) / ISAKMP(
        init_cookie=bytes.fromhex("b0b1b2b3b4b5b6b7"), exch_type=2) / ISAKMP_payload_SA(
        prop=ISAKMP_payload_Proposal(proposal=1, proto=1, trans_nb=1, trans=ISAKMP_payload_Transform(
            transform_count=1, transform_id=1, transforms=[
            ("Encryption", "3DES-CBC"), ("Hash", "MD5"), ("Authentication", "PSK"), ("GroupDesc", "1024MODPgr")]))) / \
        ISAKMP_payload_VendorID(VendorID=bytes(range(16))) / ISAKMP_payload_VendorID(VendorID=bytes(range(16, 32)))
    for frag in fragment(IP(bytes(big)), fragsize=96):
        w.add(Ether(src=ROUTER_MAC, dst=HUB_MAC) / frag, dt=0.001)

    # Every spoke registers with the hub over NHRP, inside GRE inside ESP.
    for n, spoke in enumerate(spokes, start=1):
        request, reply = nhrp_registration(spoke, request_id=n)
        w.esp(spoke, spoke.gre(0x2001) / Raw(request), to_hub=True)
        w.esp(spoke, spoke.gre(0x2001) / Raw(reply), to_hub=False)

    # EIGRP hellos both ways (multicast inside the tunnel), then an update from each of A and B.
    for spoke in (a, b, c):
        hello = IP(src=spoke.tunnel, dst="224.0.0.10", ttl=2, proto=88) / eigrp_hello(123)
        w.esp(spoke, spoke.gre(0x0800) / hello, to_hub=True)
        hello = IP(src="172.16.1.1", dst="224.0.0.10", ttl=2, proto=88) / eigrp_hello(123)
        w.esp(spoke, spoke.gre(0x0800) / hello, to_hub=False)
    for spoke, seq in ((a, 1), (b, 1)):
        update = IP(src=spoke.tunnel, dst="172.16.1.1", ttl=2, proto=88) / eigrp_update(123, seq, spoke.lan, 24)
        w.esp(spoke, spoke.gre(0x0800) / update, to_hub=True)
        hub_update = IP(src="172.16.1.1", dst=spoke.tunnel, ttl=2, proto=88) / eigrp_update(123, seq, "192.168.1.0", 24)
        w.esp(spoke, spoke.gre(0x0800) / hub_update, to_hub=False)

    # Spoke A's LAN pings spoke B's LAN: it hair-pins through the hub (Phase 1).
    ping = IP(src="192.168.11.10", dst="192.168.12.10", ttl=63) / ICMP(id=7, seq=1) / Raw(b"dmvpn phase 1 ping")
    w.esp(a, a.gre(0x0800) / ping, to_hub=True)
    w.esp(b, b.gre(0x0800) / forwarded(ping), to_hub=False)
    pong = IP(src="192.168.12.10", dst="192.168.11.10", ttl=63) / ICMP(type=0, id=7, seq=1) / Raw(b"dmvpn phase 1 ping")
    w.esp(b, b.gre(0x0800) / pong, to_hub=True)
    w.esp(a, a.gre(0x0800) / forwarded(pong), to_hub=False)

    # A TCP SYN whose MSS (1460) exceeds what adjust-mss 1360 allows.
    syn = IP(src="192.168.11.10", dst="192.168.1.20") / TCP(sport=40000, dport=443, flags="S", seq=1000,
                                                          options=[("MSS", 1460)])
    w.esp(a, a.gre(0x0800) / syn, to_hub=True)

    # A large packet fragmented after encapsulation (outer ESP datagram split at 1000 bytes).
    large = IP(src="192.168.11.10", dst="192.168.1.20") / ICMP(id=8, seq=1) / Raw(bytes(1300))
    w.esp(a, a.gre(0x0800) / large, to_hub=True, fragment_at=1000)

    # Data for spokes D and E, one of them on VLAN 100, and a corrupted ICV.
    w.esp(d, d.gre(0x0800) / IP(src="192.168.14.1", dst="192.168.1.1") / ICMP(id=9, seq=1), to_hub=True, vlan=100)
    w.esp(e, e.gre(0x0800) / IP(src="192.168.15.1", dst="192.168.1.1") / ICMP(id=10, seq=1), to_hub=True)
    w.esp(a, a.gre(0x0800) / IP(src="192.168.11.10", dst="192.168.1.1") / ICMP(id=11, seq=1), to_hub=True,
          corrupt=True)

    # One unprotected GRE packet: an NHRP Resolution Request outside IPsec (misconfiguration evidence).
    res = nhrp(1, b.nbma, b.tunnel, "172.16.1.11", 99, 0x0002, [(0, 32, 1400, 7200, None, None)], [(3, True, b"")])
    w.add(Ether(src=ROUTER_MAC, dst=HUB_MAC) / IP(src=b.nbma, dst=HUB) / GRE(proto=0x2001) / Raw(res))

    wrpcap(args.out, w.frames, linktype=1)
    with open(args.keys_out, "w") as keys:
        keys.write("# Wireshark esp_sa UAT file for %s, written by tools/gen/gen_testdata.py\n" % args.out.split("/")[-1])
        for spoke in spokes:
            for sa, src, dst in ((spoke.sa_out, spoke.public_nbma, HUB), (spoke.sa_in, HUB, spoke.public_nbma)):
                keys.write(esp_sa_line(sa, src, dst) + "\n")
    with open(args.ike_keys_out, "w") as keys:
        # Bare hex, as tshark 4.0 requires.
        for icookie, ka in w.ike_keys:
            keys.write(f"{icookie.hex()},{ka.hex()}\n")
    print(f"wrote {len(w.frames)} frames to {args.out}, {2 * len(spokes)} SAs to {args.keys_out}")
    return 0


def esp_sa_line(sa, src: str, dst: str) -> str:
    enc_label = {"AES-CBC": "AES-CBC [RFC3602]", "3DES": "TripleDES-CBC [RFC2451]", "NULL": "NULL",
                 "AES-GCM": "AES-GCM with 16 octet ICV [RFC4106]"}[sa.crypt_algo.name]
    auth_label = {"HMAC-SHA1-96": "HMAC-SHA-1-96 [RFC2404]", "HMAC-MD5-96": "HMAC-MD5-96 [RFC2403]",
                  "SHA2-256-128": "HMAC-SHA-256-128 [RFC4868]", "NULL": "NULL"}[sa.auth_algo.name]
    # RFC 4106 §8.1: the GCM keying material is the AES key followed by the 4-byte salt (scapy keeps them apart).
    enc_key = "0x" + (sa.crypt_key + (sa.crypt_salt or b"")).hex() if sa.crypt_key else ""
    auth_key = "0x" + sa.auth_key.hex() if sa.auth_key else ""
    return ",".join(f'"{f}"' for f in ("IPv4", src, dst, "0x%08x" % sa.spi, enc_label, enc_key, auth_label, auth_key))


if __name__ == "__main__":
    sys.exit(main())
