#!/usr/bin/env python3
"""ikev2_auth_check.py -- an independent check of IKEv2 pre-shared key AUTH payloads.

tshark decrypts the capture's IKE_AUTH messages with Wireshark's eight columns of the key table;
Python's hmac recomputes each shared-key AUTH payload (RFC 7296 §2.15):

    AUTH = prf(prf(PSK, "Key Pad for IKEv2"), <the sender's IKE_SA_INIT message> | <the peer's nonce>
               | prf(SK_p, <the sender's ID payload body>))

with SK_pi / SK_pr from the table's 10th and 11th columns (dmvpn's `dmvpn_ikev2_decryption_table`),
the PRF told by SK_p's length (HMAC-MD5, -SHA1, -SHA2-256/384/512). Neither dmvpn's decoder nor its
key schedule is used: `crates/dmvpn/tests/sessions_ikev2_psk.rs` compares this with `dmvpn sessions
--psk`. Prints one line per AUTH payload, `FRAME initiator|responder verified|mismatch`, and
never a key. IKE over UDP 500 only; ID types IPv4 address, FQDN and RFC 822 address.

Usage:
  ikev2_auth_check.py CAPTURE TABLE PSK
"""
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import tempfile

PRFS = {16: hashlib.md5, 20: hashlib.sha1, 32: hashlib.sha256, 48: hashlib.sha384, 64: hashlib.sha512}


def fields(pcap, config, flt, *names):
    cmd = ["tshark", "-r", pcap, "-Y", flt, "-T", "fields", "-E", "separator=|"]
    for name in names:
        cmd += ["-e", name]
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=config)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


def unhex(text):
    return bytes.fromhex(text.replace(":", ""))


def main():
    pcap, table, psk = sys.argv[1], sys.argv[2], sys.argv[3].encode()
    sk_p = {}
    with tempfile.TemporaryDirectory() as config:
        with open(table) as src, open(os.path.join(config, "ikev2_decryption_table"), "w") as dst:
            for line in src:
                if not line.strip() or line.startswith("#"):
                    continue
                cols = line.strip().split(",")
                dst.write(",".join(cols[:8]) + "\n")
                if len(cols) == 11:
                    sk_p[cols[0].lower()] = (unhex(cols[9]), unhex(cols[10]))
        init = {}
        for ispi, resp, payload, nonce in fields(pcap, config, "isakmp.exchangetype == 34 && isakmp.nonce",
                                                 "isakmp.ispi", "isakmp.flag_r", "udp.payload", "isakmp.nonce"):
            init.setdefault(ispi, {})[resp in ("1", "True")] = (unhex(payload), unhex(nonce))
        rows = fields(pcap, config, "isakmp.exchangetype == 35 && isakmp.auth.method == 2", "frame.number",
                      "isakmp.ispi", "isakmp.flag_r", "isakmp.id.type", "isakmp.id.data.ipv4_addr",
                      "isakmp.id.data.fqdn", "isakmp.id.data.user_fqdn", "isakmp.auth.data")
    for frame, ispi, resp, id_type, ipv4, fqdn, rfc822, auth in rows:
        responder = resp in ("1", "True")
        keys = sk_p.get(ispi.replace(":", "").lower())
        sides = init.get(ispi, {})
        if keys is None or responder not in sides or (not responder) not in sides:
            print(f"{frame} {'responder' if responder else 'initiator'} unchecked")
            continue
        message, peer_nonce = sides[responder][0], sides[not responder][1]
        # The ID payload body: type, three reserved bytes, the identification data.
        kind = int(id_type)
        data = socket.inet_aton(ipv4) if kind == 1 else (fqdn or rfc822).encode()
        id_body = bytes([kind, 0, 0, 0]) + data
        key = keys[1] if responder else keys[0]
        digest = PRFS[len(key)]
        prf = lambda k, d: hmac.new(k, d, digest).digest()  # noqa: E731
        want = prf(prf(psk, b"Key Pad for IKEv2"), message + peer_nonce + prf(key, id_body))
        verdict = "verified" if hmac.compare_digest(want, unhex(auth)) else "mismatch"
        print(f"{frame} {'responder' if responder else 'initiator'} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
