#!/usr/bin/env python3
"""Independent EIGRP authentication test vectors for crates/dmvpn-eigrp/src/auth.rs.

Builds the same Hello the Rust test builds (AS 123; Authentication TLV with key id 1, key sequence 0;
Parameters K 1/0/1/0/0/0 hold 15; Software Version 8.4 / 2.0) with struct.pack and prints:
  MD5 over header+auth TLV (44 bytes, checksum zeroed) || key zero-padded to 16 || rest of packet,
  MD5 over the 44 bytes || key only (FRR 8.4 Hello span),
  HMAC-SHA-256(key, packet with checksum and digest zeroed).
Usage: python3 tools/gen/eigrp_auth_vectors.py
"""
import hashlib
import hmac
import struct


def hello(auth_type: int, digest_len: int) -> bytes:
    header = struct.pack("!BBHIIIHH", 2, 5, 0, 0, 0, 0, 0, 123)
    auth = struct.pack("!HHHHII8s", 0x0002, 24 + digest_len, auth_type, digest_len, 1, 0, b"\0" * 8)
    auth += b"\0" * digest_len
    params = struct.pack("!HH6BH", 0x0001, 12, 1, 0, 1, 0, 0, 0, 15)
    swver = struct.pack("!HH4B", 0x0004, 8, 8, 4, 2, 0)
    return header + auth + params + swver


def main() -> None:
    key = b"lab-md5-key"
    p = hello(2, 16)
    padded = key + b"\0" * (16 - len(key))
    print("MD5_PACKET", hashlib.md5(p[:44] + padded + p[60:]).hexdigest())
    print("MD5_HEADER", hashlib.md5(p[:44] + padded).hexdigest())
    p = hello(3, 32)
    print("SHA256", hmac.new(b"key", p, hashlib.sha256).hexdigest())


if __name__ == "__main__":
    main()
