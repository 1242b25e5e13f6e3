#!/usr/bin/env python3
"""RFC 2409 key-schedule vectors for dmvpn-isakmp, computed independently with Python's hmac/hashlib.

Writes into testdata/isakmp/:
  modp_groups.txt          the MODP primes of groups 1, 2, 5, 14, computed from pi (RFC 2409 §6, RFC 3526)
  keyschedule_vectors.txt  one block per PRF: inputs (PSK, nonces, cookies, DH values from a real
                           modular exponentiation in group 2 / 14) and outputs (SKEYID, SKEYID_d/a/e,
                           Ka for several lengths, IVs, HASH_I/R, Quick Mode HASH(1..3), KEYMAT with
                           and without PFS)

Usage: python3 tools/gen/isakmp_vectors.py [outdir]   (default: testdata/isakmp beside this script's repo)
Everything is deterministic: private values come from SHA-256 of fixed labels.
"""
import hashlib
import hmac
import os
import sys
from decimal import Decimal, getcontext


def pi(prec):
    getcontext().prec = prec + 10

    def arctan_inv(x):
        x = Decimal(x)
        total, term, x2, n, sign = Decimal(0), 1 / x, x * x, 1, 1
        eps = Decimal(10) ** (-(prec + 5))
        while True:
            t = term / n
            if abs(t) < eps:
                return total
            total += sign * t
            term /= x2
            n += 2
            sign = -sign

    return 4 * (4 * arctan_inv(5) - arctan_inv(239))


PI = pi(1000)


def modp(bits, k):
    getcontext().prec = 1100
    return 2**bits - 2**(bits - 64) - 1 + 2**64 * (int((Decimal(2) ** (bits - 130)) * PI) + k)


GROUPS = {1: modp(768, 149686), 2: modp(1024, 129093), 5: modp(1536, 741804), 14: modp(2048, 124476)}
HASHES = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256,
          "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def prf(name, key, *parts):
    return hmac.new(key, b"".join(parts), HASHES[name]).digest()


def expand(name, key, first, seed, length):
    out, block = b"", first
    while len(out) < length:
        block = prf(name, key, (block if out else first), seed)
        out += block
    return out[:length]


def ka(name, skeyid_e, length):
    if len(skeyid_e) >= length:
        return skeyid_e[:length]
    return expand(name, skeyid_e, b"\x00", b"", length)


def det(label, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def dh(group, label):
    p = GROUPS[group]
    plen = (p.bit_length() + 7) // 8
    x = int.from_bytes(det(label, 32), "big")
    return x, pow(2, x, p).to_bytes(plen, "big")


def shared(group, x, peer):
    p = GROUPS[group]
    plen = (p.bit_length() + 7) // 8
    return pow(int.from_bytes(peer, "big"), x, p).to_bytes(plen, "big")  # left-padded to the modulus


def vectors(name, group):
    lines = [f"[{name} group {group}]"]
    put = lambda k, v: lines.append(f"{k} {v.hex() if isinstance(v, bytes) else v}")
    psk = b"dmvpn-lab-psk"
    ni, nr = det("Ni" + name, 16), det("Nr" + name, 20)
    cky_i, cky_r = det("CKY-I", 8), det("CKY-R", 8)
    xi, gxi = dh(group, "xi" + name)
    xr, gxr = dh(group, "xr" + name)
    gxy = shared(group, xi, gxr)
    assert gxy == shared(group, xr, gxi)
    skeyid = prf(name, psk, ni, nr)
    d = prf(name, skeyid, gxy, cky_i, cky_r, b"\x00")
    a = prf(name, skeyid, d, gxy, cky_i, cky_r, b"\x01")
    e = prf(name, skeyid, a, gxy, cky_i, cky_r, b"\x02")
    for k, v in [("psk", psk), ("ni_b", ni), ("nr_b", nr), ("cky_i", cky_i), ("cky_r", cky_r),
                 ("g_xi", gxi), ("g_xr", gxr), ("g_xy", gxy), ("skeyid", skeyid), ("skeyid_d", d),
                 ("skeyid_a", a), ("skeyid_e", e)]:
        put(k, v)
    for length in (8, 16, 24, 32):
        put(f"ka_{length}", ka(name, e, length))
    h = HASHES[name]
    put("iv_phase1_8", h(gxi + gxr).digest()[:8])
    put("iv_phase1_16", h(gxi + gxr).digest()[:16])
    sai_b = bytes.fromhex("00000001000000010000002c01010001000000240101000080010007800e0080800200028004000280030001800b0001000c000400007080")
    idii_b = bytes.fromhex("011101f4c0a80001")
    idir_b = bytes.fromhex("011101f4c0a80064")
    put("sai_b", sai_b)
    put("idii_b", idii_b)
    put("idir_b", idir_b)
    put("hash_i", prf(name, skeyid, gxi, gxr, cky_i, cky_r, sai_b, idii_b))
    put("hash_r", prf(name, skeyid, gxr, gxi, cky_r, cky_i, sai_b, idir_b))
    mid = bytes.fromhex("b1167ba3")
    qm_ni, qm_nr = det("QM-Ni" + name, 16), det("QM-Nr" + name, 16)
    after = det("after-hash" + name, 60)
    put("message_id", mid)
    put("qm_ni_b", qm_ni)
    put("qm_nr_b", qm_nr)
    put("after_hash", after)
    put("qm_hash1", prf(name, a, mid, after))
    put("qm_hash2", prf(name, a, mid, qm_ni, after))
    put("qm_hash3", prf(name, a, b"\x00", mid, qm_ni, qm_nr))
    spi = bytes.fromhex("070883c2")
    put("spi", spi)
    put("keymat_esp_36", expand(name, d, b"", b"\x03" + spi + qm_ni + qm_nr, 36))
    put("keymat_esp_64", expand(name, d, b"", b"\x03" + spi + qm_ni + qm_nr, 64))
    yi, gyi = dh(group, "qm-xi" + name)
    yr, gyr = dh(group, "qm-xr" + name)
    gqm = shared(group, yi, gyr)
    put("g_qm", gqm)
    put("keymat_pfs_esp_52", expand(name, d, b"", gqm + b"\x03" + spi + qm_ni + qm_nr, 52))
    # Phase-2 IV from the phase-1 IV as it stands (here the first one) and the message ID.
    put("iv_phase2_16", h(h(gxi + gxr).digest()[:16] + mid).digest()[:16])
    return lines


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "isakmp")
    out = sys.argv[1] if len(sys.argv) > 1 else root
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "modp_groups.txt"), "w") as f:
        f.write("# group prime-hex, generated by tools/gen/isakmp_vectors.py from pi (RFC 2409 §6, RFC 3526)\n")
        for gid, p in GROUPS.items():
            f.write(f"{gid} {p.to_bytes((p.bit_length() + 7) // 8, 'big').hex()}\n")
    lines = ["# RFC 2409 key schedule vectors, generated by tools/gen/isakmp_vectors.py (Python hmac/hashlib)"]
    for name, group in [("md5", 2), ("sha1", 2), ("sha256", 14), ("sha384", 5), ("sha512", 1)]:
        lines += vectors(name, group) + [""]
    with open(os.path.join(out, "keyschedule_vectors.txt"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
