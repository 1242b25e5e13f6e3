#!/usr/bin/env python3
"""Writes seeds for the esp_decrypt target: ESP packets that decrypt under dmvpn_esp::fuzzing::test_sa.

    python3 fuzz/gen_esp_seeds.py [OUT_DIR]      (default fuzz/corpus/esp_decrypt)

Each seed is [transform index, variant] + an ESP packet (RFC 4303) built here with the Python
`cryptography` package, independently of the Rust crate, so the fuzzer starts from packets whose ICV,
decryption and padding all succeed and mutates from there. The keys mirror `test_sa`: one 64-byte array,
key[i] = (i * 37 + 11) mod 256; the cipher key is its first bytes (AES size 16/24/32 by variant / 2 mod 3,
plus a 4-byte salt for GCM), the integrity key its first `key_len` bytes; odd variants use ESN
(RFC 4303 §2.2.1: the high 32 bits, here 0, are appended for the ICV only). The payload is GRE carrying
NHRP (testdata/gre/checksum_key_sequence_nhrp.bin), next header 47, as DMVPN sends it in transport mode.
The `transforms` table below must follow `dmvpn_esp::fuzzing::TRANSFORMS`.
"""
import hashlib
import hmac
import pathlib
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # cryptography < 43
    TripleDES = algorithms.TripleDES

KEY = bytes((i * 37 + 11) % 256 for i in range(64))
SPI = 0x00001001
ROOT = pathlib.Path(__file__).resolve().parent.parent
PAYLOAD = (ROOT / "testdata/gre/checksum_key_sequence_nhrp.bin").read_bytes()

# (name, index in TRANSFORMS, encryption, integrity)
TRANSFORMS = [
    ("null-none", 0, "null", None),
    ("null-sha1", 2, "null", ("sha1", 20, 12)),
    ("3des-md5", 7, "3des", ("md5", 16, 12)),
    ("3des-sha1", 8, "3des", ("sha1", 20, 12)),
    ("aes-none", 12, "aes", None),
    ("aes-sha1", 14, "aes", ("sha1", 20, 12)),
    ("aes-sha256", 15, "aes", ("sha256", 32, 16)),
    ("aes-sha384", 16, "aes", ("sha384", 48, 24)),
    ("aes-sha512", 17, "aes", ("sha512", 64, 32)),
    ("aes-gcm16", 20, "gcm16", None),
]


def esp(encryption, integrity, variant, seq=1):
    aes_len = (16, 24, 32)[(variant // 2) % 3]
    esn = variant % 2 == 1
    block, iv_len = {"null": (4, 0), "3des": (8, 8), "aes": (16, 16), "gcm16": (4, 8)}[encryption]
    pad_len = (-(len(PAYLOAD) + 2)) % block
    plaintext = PAYLOAD + bytes(range(1, pad_len + 1)) + bytes([pad_len, 47])
    iv = bytes(range(0xA0, 0xA0 + iv_len))
    header = struct.pack(">II", SPI, seq)
    if encryption == "null":
        body = plaintext
    elif encryption == "3des":
        encryptor = Cipher(TripleDES(KEY[:24]), modes.CBC(iv)).encryptor()
        body = encryptor.update(plaintext) + encryptor.finalize()
    elif encryption == "aes":
        encryptor = Cipher(algorithms.AES(KEY[:aes_len]), modes.CBC(iv)).encryptor()
        body = encryptor.update(plaintext) + encryptor.finalize()
    else:  # RFC 4106: key || 4-byte salt, nonce = salt || explicit IV, AAD = SPI || [seq high] || seq low
        key, salt = KEY[:aes_len], KEY[aes_len : aes_len + 4]
        aad = struct.pack(">III", SPI, 0, seq) if esn else header
        return header + iv + AESGCM(key).encrypt(salt + iv, plaintext, aad)
    packet = header + iv + body
    if integrity:
        name, key_len, icv_len = integrity
        covered = packet + (struct.pack(">I", 0) if esn else b"")
        packet += hmac.new(KEY[:key_len], covered, getattr(hashlib, name)).digest()[:icv_len]
    return packet


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fuzz/corpus/esp_decrypt"
    out.mkdir(parents=True, exist_ok=True)
    for name, index, encryption, integrity in TRANSFORMS:
        variants = (0, 1, 2, 4) if encryption in ("aes", "gcm16") and name in ("aes-sha1", "aes-gcm16") else (0,)
        for variant in variants:
            suffix = {0: "", 1: "-esn", 2: "-192", 4: "-256"}[variant]
            seed = bytes([index, variant]) + esp(encryption, integrity, variant)
            (out / f"seed-{name}{suffix}").write_bytes(seed)
            print(f"seed-{name}{suffix}: {len(seed)} bytes")


if __name__ == "__main__":
    main()
