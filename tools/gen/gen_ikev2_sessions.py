#!/usr/bin/env python3
"""Writes the IKEv2 session captures: the trigger captures of the IKEv2 diagnosis rules in
testdata/sessions/ (ikev2-auth-failed, ikev2-ts-unacceptable, ikev2-invalid-ke, ikev2-nat-detected,
ikev2-no-reply) and testdata/ikev2/sessions/ (healthy: IKE_SA_INIT, IKE_AUTH with a transport-mode
Child SA, ESP both ways, DPD, a simultaneous Child SA rekey, an IKE SA rekey and Deletes;
no-proposal and child-no-proposal for the rules IKEv2 shares with IKEv1), each encrypted capture
with its ikev2_decryption_table (AES-CBC-128, HMAC-SHA2-256-128; keys made up, fixed). Everything
is deterministic: the same bytes on every run.

    python3 tools/gen/gen_ikev2_sessions.py [--root DIR]   (default: the repository)
"""
import argparse
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from scapy.all import Ether, IP, UDP, Raw, wrpcap

HUB, SPOKE = "192.0.2.1", "192.0.2.11"
SA, KE, IDI, IDR, AUTH, NONCE, NOTIFY, DELETE, TSI, TSR, SK = 33, 34, 35, 36, 39, 40, 41, 42, 44, 45, 46
INIT, AUTH_X, CHILD, INFO = 34, 35, 36, 37
NO_PROPOSAL_CHOSEN, INVALID_KE, AUTH_FAILED, TS_UNACCEPTABLE = 14, 17, 24, 38
NAT_SRC, NAT_DST, TRANSPORT, REKEY_SA = 16388, 16389, 16391, 16393
FLAG_I, FLAG_R = 0x08, 0x20


def det(label, n):
    """n deterministic bytes named by label: SHA-256 of `label/0`, `label/1`, ... end to end."""
    return b"".join(hashlib.sha256(f"{label}/{i}".encode()).digest() for i in range(n // 32 + 1))[:n]


def transform(ty, tid, bits=None, last=False):
    attr = struct.pack("!HH", 0x800E, bits) if bits else b""
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attr), ty, 0, tid) + attr


def proposal(protocol, spi, transforms, number=1):
    body = b"".join(transform(*t, last=(n == len(transforms) - 1)) for n, t in enumerate(transforms))
    return struct.pack("!BBHBBBB", 0, 0, 8 + len(spi) + len(body), number, protocol, len(spi), len(transforms)) + spi + body


def ike_proposal(spi=b"", groups=(14,)):
    return proposal(1, spi, [(1, 12, 128), (2, 5), (3, 12)] + [(4, g) for g in groups])


def esp_proposal(spi, pfs=None):
    ts = [(1, 12, 256), (3, 12)] + ([(4, pfs)] if pfs else []) + [(5, 0)]
    return proposal(3, struct.pack("!I", spi), ts)


def notify(ty, data=b"", protocol=0, spi=b""):
    return (NOTIFY, struct.pack("!BBH", protocol, len(spi), ty) + spi + data)


def ts(addr):
    a = bytes(int(x) for x in addr.split("."))
    # GRE (47) between the NBMA addresses: DMVPN's transport-mode selector.
    return struct.pack("!BBH", 1, 0, 0) + struct.pack("!BBHHH", 7, 47, 16, 0, 65535) + a + a


def chain(payloads):
    out = b""
    for n, (_, body) in enumerate(payloads):
        following = payloads[n + 1][0] if n + 1 < len(payloads) else 0
        out += struct.pack("!BBH", following, 0, 4 + len(body)) + body
    return out


def header(spi_i, spi_r, first, exchange, flags, mid, length):
    return spi_i + spi_r + struct.pack("!BBBBII", first, 0x20, exchange, flags, mid, length)


def nat_hash(spi_i, spi_r, addr, port):
    return hashlib.sha1(spi_i + spi_r + bytes(int(x) for x in addr.split(".")) + struct.pack("!H", port)).digest()


class Sa:
    """One IKE SA's SPIs and keys; `line` is its ikev2_decryption_table line."""

    def __init__(self, name):
        self.spi_i, self.spi_r = det(name + "spi_i", 8), det(name + "spi_r", 8)
        self.ei, self.er = det(name + "ei", 16), det(name + "er", 16)
        self.ai, self.ar = det(name + "ai", 32), det(name + "ar", 32)
        self.name = name
        self.count = 0

    def line(self):
        return ",".join([self.spi_i.hex(), self.spi_r.hex(), self.ei.hex(), self.er.hex(),
                         '"AES-CBC-128 [RFC3602]"', self.ai.hex(), self.ar.hex(),
                         '"HMAC_SHA2_256_128 [RFC4868]"'])

    def plain(self, exchange, flags, mid, payloads, spi_r=None):
        body = chain(payloads)
        spi_r = self.spi_r if spi_r is None else spi_r
        return header(self.spi_i, spi_r, payloads[0][0] if payloads else 0, exchange, flags, mid, 28 + len(body)) + body

    def sealed(self, exchange, flags, mid, payloads):
        """An SK message: AES-CBC with a deterministic IV, HMAC-SHA2-256-128 ICV."""
        initiator = bool(flags & FLAG_I)
        ek, ak = (self.ei, self.ai) if initiator else (self.er, self.ar)
        inner = chain(payloads)
        pad = (16 - (len(inner) + 1) % 16) % 16
        plaintext = inner + bytes(pad) + bytes([pad])
        self.count += 1
        iv = det(f"{self.name}iv{self.count}", 16)
        enc = Cipher(algorithms.AES(ek), modes.CBC(iv)).encryptor()
        ciphertext = enc.update(plaintext) + enc.finalize()
        sk_len = 4 + 16 + len(ciphertext) + 16
        first = payloads[0][0] if payloads else 0
        msg = header(self.spi_i, self.spi_r, SK, exchange, flags, mid, 28 + sk_len)
        msg += struct.pack("!BBH", first, 0, sk_len) + iv + ciphertext
        return msg + hmac.new(ak, msg, hashlib.sha256).digest()[:16]


class Capture:
    def __init__(self):
        self.frames = []
        self.t = 1700000000.0

    def udp(self, src, dst, payload, sport=500, dport=500, dt=0.05):
        self.t += dt
        marker = b"\0\0\0\0" if dport == 4500 else b""
        frame = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=src, dst=dst, id=len(self.frames) + 1) \
            / UDP(sport=sport, dport=dport) / Raw(marker + payload)
        frame.time = self.t
        self.frames.append(frame)

    def esp(self, src, dst, spi, seq, dt=0.2):
        self.t += dt
        frame = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=src, dst=dst, proto=50, id=len(self.frames) + 1) \
            / Raw(struct.pack("!II", spi, seq) + det(f"esp{spi}{seq}", 96))
        frame.time = self.t
        self.frames.append(frame)

    def write(self, path):
        wrpcap(path, self.frames)


def init(c, sa, groups=(14,), ke_group=14, nat_i=(SPOKE, 500), src=SPOKE, sport=500, answer=True):
    """IKE_SA_INIT with NAT detection hashes; the initiator hashes `nat_i` as its own address."""
    req = [(SA, ike_proposal(groups=groups)),
           (KE, struct.pack("!HH", ke_group, 0) + det("ke" + sa.name + str(ke_group), 256 if ke_group == 14 else 64)),
           (NONCE, det("ni" + sa.name, 32)),
           notify(NAT_SRC, nat_hash(sa.spi_i, bytes(8), *nat_i)),
           notify(NAT_DST, nat_hash(sa.spi_i, bytes(8), HUB, 500))]
    c.udp(src, HUB, sa.plain(INIT, FLAG_I, 0, req, spi_r=bytes(8)), sport=sport)
    if not answer:
        return
    resp = [(SA, ike_proposal(groups=(ke_group,))),
            (KE, struct.pack("!HH", ke_group, 0) + det("kr" + sa.name, 256 if ke_group == 14 else 64)),
            (NONCE, det("nr" + sa.name, 32)),
            notify(NAT_SRC, nat_hash(sa.spi_i, sa.spi_r, HUB, 500)),
            notify(NAT_DST, nat_hash(sa.spi_i, sa.spi_r, src, sport))]
    c.udp(HUB, src, sa.plain(INIT, FLAG_R, 0, resp), dport=sport, sport=500)


def auth_request(sa, spi):
    return [(IDI, struct.pack("!BBH", 1, 0, 0) + bytes([192, 0, 2, 11])),
            (AUTH, struct.pack("!BBH", 2, 0, 0) + det("authi" + sa.name, 32)),
            notify(TRANSPORT), (SA, esp_proposal(spi)), (TSI, ts(SPOKE)), (TSR, ts(HUB))]


def auth_response(sa, spi):
    return [(IDR, struct.pack("!BBH", 1, 0, 0) + bytes([192, 0, 2, 1])),
            (AUTH, struct.pack("!BBH", 2, 0, 0) + det("authr" + sa.name, 32)),
            notify(TRANSPORT), (SA, esp_proposal(spi)), (TSI, ts(SPOKE)), (TSR, ts(HUB))]


def table(path, sas):
    with open(path, "w") as f:
        f.write("".join(sa.line() + "\n" for sa in sas))


def healthy(out):
    c, sa = Capture(), Sa("healthy")
    init(c, sa)
    spi_i, spi_r = 0xC1000001, 0xC2000001
    c.udp(SPOKE, HUB, sa.sealed(AUTH_X, FLAG_I, 1, auth_request(sa, spi_i)))
    c.udp(HUB, SPOKE, sa.sealed(AUTH_X, FLAG_R, 1, auth_response(sa, spi_r)))
    for seq in (1, 2, 3):
        c.esp(SPOKE, HUB, spi_r, seq)
        c.esp(HUB, SPOKE, spi_i, seq)
    # DPD: an empty INFORMATIONAL and its empty answer.
    c.udp(SPOKE, HUB, sa.sealed(INFO, FLAG_I, 2, []), dt=10)
    c.udp(HUB, SPOKE, sa.sealed(INFO, FLAG_R, 2, []))
    # Simultaneous Child SA rekey (RFC 7296 §2.8.1): both ends rekey before either is answered.
    new_i, new_r = 0xC1000002, 0xC2000002
    c.udp(SPOKE, HUB, sa.sealed(CHILD, FLAG_I, 3, [
        notify(REKEY_SA, protocol=3, spi=struct.pack("!I", spi_i)), notify(TRANSPORT),
        (SA, esp_proposal(new_i)), (NONCE, det("n3i", 32)), (TSI, ts(SPOKE)), (TSR, ts(HUB))]), dt=100)
    c.udp(HUB, SPOKE, sa.sealed(CHILD, 0, 0, [
        notify(REKEY_SA, protocol=3, spi=struct.pack("!I", spi_r)), notify(TRANSPORT),
        (SA, esp_proposal(0xC2000003)), (NONCE, det("n0r", 32)), (TSI, ts(HUB)), (TSR, ts(SPOKE))]), dt=0.001)
    c.udp(HUB, SPOKE, sa.sealed(CHILD, FLAG_R, 3, [
        notify(TRANSPORT), (SA, esp_proposal(new_r)), (NONCE, det("n3r", 32)), (TSI, ts(SPOKE)), (TSR, ts(HUB))]))
    c.udp(SPOKE, HUB, sa.sealed(CHILD, FLAG_I | FLAG_R, 0, [
        notify(TRANSPORT), (SA, esp_proposal(0xC1000003)), (NONCE, det("n0i", 32)), (TSI, ts(HUB)), (TSR, ts(SPOKE))]))
    # The losing pair is deleted, then the old SA.
    c.udp(HUB, SPOKE, sa.sealed(INFO, 0, 1, [(DELETE, struct.pack("!BBH", 3, 4, 1) + struct.pack("!I", 0xC2000003))]))
    c.udp(SPOKE, HUB, sa.sealed(INFO, FLAG_I | FLAG_R, 1, [(DELETE, struct.pack("!BBH", 3, 4, 1) + struct.pack("!I", 0xC1000003))]))
    c.udp(SPOKE, HUB, sa.sealed(INFO, FLAG_I, 4, [(DELETE, struct.pack("!BBH", 3, 4, 1) + struct.pack("!I", spi_i))]))
    c.udp(HUB, SPOKE, sa.sealed(INFO, FLAG_R, 4, [(DELETE, struct.pack("!BBH", 3, 4, 1) + struct.pack("!I", spi_r))]))
    for seq in (1, 2):
        c.esp(SPOKE, HUB, new_r, seq)
        c.esp(HUB, SPOKE, new_i, seq)
    # IKE SA rekey: new SPIs in the IKE proposals, then the old IKE SA is deleted.
    c.udp(SPOKE, HUB, sa.sealed(CHILD, FLAG_I, 5, [
        (SA, ike_proposal(spi=det("rekey_i", 8))), (NONCE, det("n5i", 32)),
        (KE, struct.pack("!HH", 14, 0) + det("ke5i", 256))]), dt=100)
    c.udp(HUB, SPOKE, sa.sealed(CHILD, FLAG_R, 5, [
        (SA, ike_proposal(spi=det("rekey_r", 8))), (NONCE, det("n5r", 32)),
        (KE, struct.pack("!HH", 14, 0) + det("ke5r", 256))]))
    c.udp(SPOKE, HUB, sa.sealed(INFO, FLAG_I, 6, [(DELETE, struct.pack("!BBH", 1, 0, 0))]))
    c.udp(HUB, SPOKE, sa.sealed(INFO, FLAG_R, 6, []))
    c.write(os.path.join(out, "healthy.pcap"))
    table(os.path.join(out, "healthy.ikev2_decryption_table"), [sa])


def refused_auth(out, name, spi, answer):
    """IKE_SA_INIT, then the spoke's IKE_AUTH answered with `answer(sa)`."""
    c, sa = Capture(), Sa(name.removeprefix("ikev2-"))
    init(c, sa)
    c.udp(SPOKE, HUB, sa.sealed(AUTH_X, FLAG_I, 1, auth_request(sa, spi)))
    c.udp(HUB, SPOKE, sa.sealed(AUTH_X, FLAG_R, 1, answer(sa)))
    c.write(os.path.join(out, name + ".pcap"))
    table(os.path.join(out, name + ".ikev2_decryption_table"), [sa])


def auth_failed(out):
    refused_auth(out, "ikev2-auth-failed", 0xC1000011, lambda sa: [notify(AUTH_FAILED)])


def ts_unacceptable(out):
    # The IKE SA comes up (IDr, AUTH), the Child SA does not.
    refused_auth(out, "ikev2-ts-unacceptable", 0xC1000021,
                 lambda sa: auth_response(sa, 0)[:2] + [notify(TS_UNACCEPTABLE)])


def invalid_ke(out):
    """The initiator guesses group 19; the responder asks for 14; the retry comes up (no keys)."""
    c, sa = Capture(), Sa("invalid-ke")
    init(c, sa, groups=(19, 14), ke_group=19, answer=False)
    c.udp(HUB, SPOKE, sa.plain(INIT, FLAG_R, 0, [notify(INVALID_KE, struct.pack("!H", 14))], spi_r=bytes(8)))
    init(c, sa, groups=(19, 14), ke_group=14)
    c.udp(SPOKE, HUB, sa.sealed(AUTH_X, FLAG_I, 1, auth_request(sa, 0xC1000031)))
    c.udp(HUB, SPOKE, sa.sealed(AUTH_X, FLAG_R, 1, auth_response(sa, 0xC2000031)))
    c.write(os.path.join(out, "ikev2-invalid-ke.pcap"))


def nat_detected(out):
    """The spoke sits behind a NAT (10.0.0.11:500 becomes 198.51.100.7:1025); captured at the hub."""
    c, sa = Capture(), Sa("nat")
    outside = "198.51.100.7"
    global SPOKE
    saved, SPOKE = SPOKE, outside
    try:
        init(c, sa, nat_i=("10.0.0.11", 500), src=outside, sport=1025)
        c.udp(outside, HUB, sa.sealed(AUTH_X, FLAG_I, 1, auth_request(sa, 0xC1000041)), sport=1026, dport=4500)
        c.udp(HUB, outside, sa.sealed(AUTH_X, FLAG_R, 1, auth_response(sa, 0xC2000041)), sport=4500, dport=1026)
    finally:
        SPOKE = saved
    c.write(os.path.join(out, "ikev2-nat-detected.pcap"))
    table(os.path.join(out, "ikev2-nat-detected.ikev2_decryption_table"), [sa])


def no_reply(out):
    """Three copies of IKE_SA_INIT, 2 and 4 s apart, and no answer."""
    c, sa = Capture(), Sa("no-reply")
    for dt in (0, 2, 4):
        c.t += dt
        init(c, sa, answer=False)
    c.write(os.path.join(out, "ikev2-no-reply.pcap"))


def no_proposal(out):
    c, sa = Capture(), Sa("no-proposal")
    init(c, sa, answer=False)
    c.udp(HUB, SPOKE, sa.plain(INIT, FLAG_R, 0, [notify(NO_PROPOSAL_CHOSEN)], spi_r=bytes(8)))
    c.write(os.path.join(out, "no-proposal.pcap"))


def child_no_proposal(out):
    c, sa = Capture(), Sa("child-no-proposal")
    init(c, sa)
    c.udp(SPOKE, HUB, sa.sealed(AUTH_X, FLAG_I, 1, auth_request(sa, 0xC1000051)))
    c.udp(HUB, SPOKE, sa.sealed(AUTH_X, FLAG_R, 1, auth_response(sa, 0xC2000051)))
    c.udp(SPOKE, HUB, sa.sealed(CHILD, FLAG_I, 2, [
        (SA, esp_proposal(0xC1000052, pfs=19)), (NONCE, det("n2i", 32)),
        (KE, struct.pack("!HH", 19, 0) + det("ke2i", 64)), (TSI, ts(SPOKE)), (TSR, ts(HUB))]), dt=5)
    c.udp(HUB, SPOKE, sa.sealed(CHILD, FLAG_R, 2, [notify(NO_PROPOSAL_CHOSEN)]))
    c.write(os.path.join(out, "child-no-proposal.pcap"))
    table(os.path.join(out, "child-no-proposal.ikev2_decryption_table"), [sa])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    root = parser.parse_args().root
    sessions = os.path.join(root, "testdata", "sessions")
    ikev2 = os.path.join(root, "testdata", "ikev2", "sessions")
    os.makedirs(ikev2, exist_ok=True)
    for make in (auth_failed, ts_unacceptable, invalid_ke, nat_detected, no_reply):
        make(sessions)
    for make in (healthy, no_proposal, child_no_proposal):
        make(ikev2)


if __name__ == "__main__":
    main()
