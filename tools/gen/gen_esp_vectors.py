#!/usr/bin/env python3
"""Generate ESP test vectors with scapy's SecurityAssociation, an implementation independent of dmvpn-esp.

Every vector is an IPv4 packet in transport mode: outer IPv4 (protocol 50), then ESP protecting a
GRE packet (next header 47) that carries NHRP-sized filler. Keys, IVs and payloads are derived
from SHA-256 of a label, so the output is the same on every run.

Output (testdata/esp/vectors.txt): `#` comments, then one vector per line as space-separated
`name=value` fields, in this order:

  encryption  Null | TripleDesCbc | AesCbc | AesGcm8 | AesGcm12 | AesGcm16   (dmvpn_esp::Encryption)
  integrity   None | HmacMd5_96 | HmacSha1_96 | HmacSha256_128 | HmacSha384_192 | HmacSha512_256
  spi         hex, no 0x
  esn         0 or 1
  seq         the full 64-bit sequence number, decimal (high 32 bits only with esn=1)
  enc_key     hex (AES-GCM: AES key followed by the 4-byte salt); "-" when empty
  auth_key    hex; "-" when empty
  iv          hex; "-" when empty
  next_header decimal (47)
  payload     hex: the GRE packet that was encrypted
  frame       hex: the whole IPv4 packet scapy produced (ESP starts after the IPv4 header)

Usage: python3 tools/gen/gen_esp_vectors.py > testdata/esp/vectors.txt
"""

import hashlib
import sys

import scapy
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from scapy.all import GRE, IP, Raw
from scapy.layers.ipsec import CRYPT_ALGOS, ESP, CryptAlgo, SecurityAssociation

# scapy's stock 'AES-GCM' goes through cryptography's AEAD API, which always appends the full
# 16-byte tag and ignores crypt_icv_size, so its 8- and 12-byte ICV packets are not RFC 4106
# packets. The same scapy class on cryptography's classic GCM mode truncates the tag as RFC 4106
# says (CryptAlgo.encrypt: `encryptor.tag[:icv_size]`); the 8- and 12-byte ICV vectors use it.
CRYPT_ALGOS["AES-GCM-TRUNCATED-ICV"] = CryptAlgo(
    "AES-GCM",
    cipher=algorithms.AES,
    mode=modes.GCM,
    key_size=(16, 24, 32),
    salt_size=4,
    block_size=1,
    iv_size=8,
    icv_size=16,
    format_mode_iv=lambda sa, iv, **kw: sa.crypt_salt + iv,
)

CRYPT = [
    # (dmvpn name, scapy name, key length, crypt_icv_size)
    ("Null", "NULL", 0, None),
    ("TripleDesCbc", "3DES", 24, None),
    ("AesCbc", "AES-CBC", 16, None),
    ("AesCbc", "AES-CBC", 24, None),
    ("AesCbc", "AES-CBC", 32, None),
    ("AesGcm8", "AES-GCM-TRUNCATED-ICV", 16 + 4, 8),
    ("AesGcm12", "AES-GCM-TRUNCATED-ICV", 24 + 4, 12),
    ("AesGcm12", "AES-GCM-TRUNCATED-ICV", 32 + 4, 12),
    ("AesGcm16", "AES-GCM", 16 + 4, 16),
    ("AesGcm16", "AES-GCM", 24 + 4, 16),
    ("AesGcm16", "AES-GCM", 32 + 4, 16),
    ("AesGcm8", "AES-GCM-TRUNCATED-ICV", 32 + 4, 8),
    ("AesGcm16", "AES-GCM-TRUNCATED-ICV", 16 + 4, 16),
]

AUTH = [
    # (dmvpn name, scapy name, key length)
    ("None", "NULL", 0),
    ("HmacMd5_96", "HMAC-MD5-96", 16),
    ("HmacSha1_96", "HMAC-SHA1-96", 20),
    ("HmacSha256_128", "SHA2-256-128", 32),
    ("HmacSha384_192", "SHA2-384-192", 48),
    ("HmacSha512_256", "SHA2-512-256", 64),
]

IV_LEN = {"NULL": 0, "3DES": 8, "AES-CBC": 16, "AES-GCM": 8, "AES-GCM-TRUNCATED-ICV": 8}


def material(label, length):
    """`length` deterministic bytes for `label`."""
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:length]


def hexfield(data):
    return data.hex() if data else "-"


def vector(number, crypt, auth, payload_len, esn_high):
    enc_name, scapy_crypt, key_len, icv = crypt
    auth_name, scapy_auth, auth_len = auth
    label = f"{number}/{enc_name}/{key_len}/{auth_name}/{payload_len}/{esn_high}"
    spi = int.from_bytes(material(label + "/spi", 4), "big") | 0x100
    enc_key = material(label + "/enc", key_len)
    auth_key = material(label + "/auth", auth_len)
    iv = material(label + "/iv", IV_LEN[scapy_crypt])
    low = 1 + int.from_bytes(material(label + "/seq", 2), "big")
    esn = esn_high is not None
    sa = SecurityAssociation(
        ESP,
        spi=spi,
        crypt_algo=scapy_crypt,
        crypt_key=enc_key or None,
        crypt_icv_size=icv,
        auth_algo=scapy_auth,
        auth_key=auth_key or None,
        esn_en=esn,
        esn=esn_high or 0,
    )
    gre = GRE(proto=0x2001, key_present=1, key=1000) / Raw(material(label + "/payload", payload_len))
    packet = IP(src="192.0.2.1", dst="198.51.100.7", id=number, ttl=255) / gre
    encrypted = sa.encrypt(packet, seq_num=low, iv=iv or None)
    frame = bytes(encrypted)
    assert frame[9] == 50, "not ESP"
    # scapy must read back what it wrote.
    decrypted = sa.decrypt(IP(frame))
    assert bytes(decrypted[GRE]) == bytes(gre), "scapy round trip"
    seq = (esn_high << 32 | low) if esn else low
    return " ".join(
        [
            f"encryption={enc_name}",
            f"integrity={auth_name}",
            f"spi={spi:08x}",
            f"esn={int(esn)}",
            f"seq={seq}",
            f"enc_key={hexfield(enc_key)}",
            f"auth_key={hexfield(auth_key)}",
            f"iv={hexfield(iv)}",
            "next_header=47",
            f"payload={bytes(gre).hex()}",
            f"frame={frame.hex()}",
        ]
    )


def main():
    lines = [
        "# ESP test vectors made by scapy's SecurityAssociation (transport mode, IPv4, GRE inside).",
        f"# scapy {scapy.VERSION}; regenerate with: python3 tools/gen/gen_esp_vectors.py > testdata/esp/vectors.txt",
        "# Fields are documented in tools/gen/gen_esp_vectors.py.",
    ]
    number = 1
    for crypt in CRYPT:
        aead = crypt[1].startswith("AES-GCM")
        for auth in AUTH:
            if aead and auth[0] != "None":
                continue  # RFC 4106: AES-GCM takes no separate integrity transform
            # Payload lengths that give every amount of padding for 16-byte blocks.
            for payload_len in (0, 1, 13, 14, 15, 17, 40, 100):
                lines.append(vector(number, crypt, auth, payload_len, None))
                number += 1
            # Extended sequence numbers: the high half enters the ICV (or the AAD) only.
            lines.append(vector(number, crypt, auth, 33, 0x00000002))
            number += 1
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
