#!/usr/bin/env python3
"""ikev2_keys.py -- turn strongSwan charon's IKEv2 debug logs into Wireshark key files.

Debian's strongSwan 5.9.8 has no save-keys plugin. Its file log at `ike = 4` / `chd = 4` (with
`ike_name = yes`) prints, as hex dumps (`<label> => N bytes @ 0x...` then rows of 16 bytes):
  per IKE SA (IKE_SA_INIT, and the new SA of a CREATE_CHILD_SA IKE rekey):
    "Sk_d secret", "Sk_ai secret", "Sk_ar secret", "Sk_ei secret", "Sk_er secret", "Sk_pi secret",
    "Sk_pr secret"
  per Child SA (IKE_AUTH, CREATE_CHILD_SA):
    "seed" (Ni | Nr, or g^ir | Ni | Nr with PFS), "encryption initiator key", "encryption responder
    key", "integrity initiator key", "integrity responder key", then "adding inbound ESP SA" /
    "adding outbound ESP SA" with "SPI 0x.., src X dst Y".
The log names no IKE SPIs next to the IKE keys, so each IKE key set is tied to its SPI pair by checking
the ICV (or the AEAD tag) of the encrypted messages in the capture. A Child SA's keys are tied to its
SPIs by the log: the thread that installs it last parsed a request (this side responded: inbound
traffic uses the initiator's keys) or a response (this side initiated: outbound uses them). Where
ESP was recorded, its ICVs are checked too.

Usage:
  ikev2_keys.py --pcap CAPTURE --out DIR LOG [LOG ...]
Writes DIR/ikev2_decryption_table (Wireshark's 8 columns), DIR/ikev2_decryption_table.sk_d (the same
with SK_d, SK_pi and SK_pr as 9th to 11th columns, which dmvpn reads -- for Child SA keys and for
`sessions --psk`'s check of the AUTH payloads -- and Wireshark refuses) and DIR/esp_sa; use them
with  WIRESHARK_CONFIG_DIR=DIR tshark -o esp.enable_encryption_decode:TRUE -r CAPTURE
Exit status 1 when an encrypted IKE message or an ESP packet of the capture matches no key.
"""
import argparse
import hashlib
import hmac
import os
import re
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LINE = re.compile(r"^\S+ (\d+)\[(\w+)\] (?:<(?:[^|>]*\|)?\d+> )?(.*)$")
HEXROW = re.compile(r"^\s+\d+: ((?:[0-9A-F]{2} ?)+)")
DUMP = re.compile(r"^(.*?) => (\d+) bytes @ 0x[0-9a-f]+$")

IKE_ENC = {  # charon's name -> Wireshark ikev2_decryption_table name
    "AES_CBC_128": "AES-CBC-128 [RFC3602]",
    "AES_CBC_192": "AES-CBC-192 [RFC3602]",
    "AES_CBC_256": "AES-CBC-256 [RFC3602]",
    "3DES_CBC": "3DES [RFC2451]",
    "AES_GCM_16_128": "AES-GCM-128 with 16 octet ICV [RFC5282]",
    "AES_GCM_16_256": "AES-GCM-256 with 16 octet ICV [RFC5282]",
}
IKE_INTEG = {
    "HMAC_SHA1_96": ("HMAC_SHA1_96 [RFC2404]", hashlib.sha1, 12),
    "HMAC_SHA2_256_128": ("HMAC_SHA2_256_128 [RFC4868]", hashlib.sha256, 16),
    "HMAC_SHA2_384_192": ("HMAC_SHA2_384_192 [RFC4868]", hashlib.sha384, 24),
    "HMAC_SHA2_512_256": ("HMAC_SHA2_512_256 [RFC4868]", hashlib.sha512, 32),
}
ESP_ENC = {  # charon's "using X for encryption" (+ key length) -> Wireshark esp_sa name
    "AES_CBC": "AES-CBC [RFC3602]",
    "3DES_CBC": "TripleDES-CBC [RFC2451]",
    "AES_GCM_16": "AES-GCM with 16 octet ICV [RFC4106]",
}
ESP_INTEG = {
    "HMAC_SHA1_96": ("HMAC-SHA-1-96 [RFC2404]", hashlib.sha1, 12),
    "HMAC_SHA2_256_128": ("HMAC-SHA-256-128 [RFC4868]", hashlib.sha256, 16),
}


def dumps(path):
    """Yield (thread, label, bytes) for every hex dump and (thread, None, text) for other lines."""
    pending = {}
    for raw in open(path, errors="replace").read().splitlines():
        m = LINE.match(raw)
        if not m:
            continue
        thread, _grp, msg = m.groups()
        h = HEXROW.match(msg)
        if h and thread in pending:
            pending[thread][2] += bytes.fromhex(h.group(1).replace(" ", ""))
            continue
        if thread in pending:
            label, n, buf = pending.pop(thread)
            yield thread, label, bytes(buf[:n])
        d = DUMP.match(msg)
        if d:
            pending[thread] = [d.group(1).strip(), int(d.group(2)), bytearray()]
            if int(d.group(2)) == 0:
                label, n, buf = pending.pop(thread)
                yield thread, label, b""
            continue
        yield thread, None, msg
    for thread, (label, n, buf) in pending.items():
        yield thread, label, bytes(buf[:n])


def parse_log(path, ike_sets, child_sas):
    ike_prop = None
    cur = {}  # thread -> IKE key set being filled
    child = {}  # thread -> Child SA keys being filled
    parsed = {}  # thread -> "request" / "response": what it last parsed
    for thread, label, val in dumps(path):
        if label is None:
            m = re.search(r"selected proposal: IKE:(\S+)", val)
            if m:
                ike_prop = m.group(1)
            m = re.search(r"parsed \S+ (request|response) \d+", val)
            if m:
                parsed[thread] = m.group(1)
            m = re.match(r"\s*using (\S+) for (encryption|integrity)", val)
            if m:
                child.setdefault(thread, {})[m.group(2) + "_alg"] = m.group(1)
            m = re.search(r"(?:adding|registering) (inbound|outbound) ESP SA", val)
            if m and thread in child:
                child[thread]["_dir"] = m.group(1)
            m = re.search(r"SPI 0x([0-9a-f]{8}), src (\S+) dst (\S+)", val)
            if m and thread in child and "_dir" in child[thread]:
                c = child[thread]
                initiated = parsed.get(thread) == "response"
                # the exchange initiator's outbound SA (= the responder's inbound) uses the initiator keys
                role = "initiator" if (c["_dir"] == "outbound") == initiated else "responder"
                spi, src, dst = m.groups()
                child_sas.setdefault((spi, src, dst), {
                    "spi": spi, "src": src, "dst": dst,
                    "enc_alg": c.get("encryption_alg"), "integ_alg": c.get("integrity_alg"),
                    "enc_key": c.get(f"encryption {role} key", b""),
                    "integ_key": c.get(f"integrity {role} key", b""),
                    "seed_len": len(c.get("seed", b"")),
                })
            continue
        if label == "Sk_d secret":
            cur[thread] = {"SK_d": val, "proposal": ike_prop}
        elif label in ("Sk_ai secret", "Sk_ar secret", "Sk_ei secret", "Sk_er secret") and thread in cur:
            cur[thread][label.split()[0].replace("Sk", "SK")] = val
        elif label == "Sk_pi secret" and thread in cur:
            cur[thread]["SK_pi"] = val
        elif label == "Sk_pr secret" and thread in cur:
            # the last of the set; an AEAD has no SK_ai/SK_ar (charon logs none)
            keys = {"SK_ai": b"", "SK_ar": b"", "SK_pi": b"", **cur.pop(thread), "SK_pr": val}
            if "SK_ei" in keys and "SK_er" in keys:
                ike_sets.setdefault(keys["SK_d"], keys)
        elif label == "seed":
            child[thread] = {"seed": val, **{k: v for k, v in child.get(thread, {}).items() if k.endswith("_alg")}}
        elif label.endswith(" key") and thread in child:
            child[thread][label] = val


def udp_payloads(pcap):
    """(frame number, src, dst, dport, payload) of every IPv4/UDP packet of a pcap (Ethernet)."""
    data = open(pcap, "rb").read()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off, frame = 24, 0
    while off + 16 <= len(data):
        _s, _u, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        frame += 1
        if linktype == 1:
            if pkt[12:14] != b"\x08\x00":
                continue
            pkt = pkt[14:]
        ihl = (pkt[0] & 15) * 4
        src, dst = ".".join(map(str, pkt[12:16])), ".".join(map(str, pkt[16:20]))
        if pkt[9] == 17:
            sport, dport = struct.unpack(">HH", pkt[ihl:ihl + 4])
            yield frame, src, dst, (sport, dport), pkt[ihl + 8:]
        elif pkt[9] == 50:
            yield frame, src, dst, None, pkt[ihl:]


def ike_ok(msg, keys):
    """Whether the SK payload of one IKEv2 message verifies with a key set."""
    initiator = msg[19] & 0x08
    enc = (keys["proposal"] or "").split("/")[0]
    if enc.startswith("AES_GCM"):
        sk_e = keys["SK_ei"] if initiator else keys["SK_er"]
        iv = msg[32:40]
        try:
            AESGCM(sk_e[:-4]).decrypt(sk_e[-4:] + iv, msg[40:], msg[:32])
            return True
        except Exception:
            return False
    integ = next((p for p in (keys["proposal"] or "").split("/") if p in IKE_INTEG), None)
    if not integ:
        return False
    _, h, n = IKE_INTEG[integ]
    sk_a = keys["SK_ai"] if initiator else keys["SK_ar"]
    return hmac.new(sk_a, msg[:-n], h).digest()[:n] == msg[-n:]


def esp_ok(esp, sa):
    if sa["enc_alg"] == "AES_GCM_16":
        key = sa["enc_key"]
        try:
            AESGCM(key[:-4]).decrypt(key[-4:] + esp[8:16], esp[16:], esp[:8])
            return True
        except Exception:
            return False
    if sa["integ_alg"] not in ESP_INTEG:
        return False
    _, h, n = ESP_INTEG[sa["integ_alg"]]
    return hmac.new(sa["integ_key"], esp[:-n], h).digest()[:n] == esp[-n:]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("logs", nargs="+")
    a = ap.parse_args()
    ike_sets, child_sas = {}, {}
    for p in a.logs:
        parse_log(p, ike_sets, child_sas)
    table, bad, n_sk, esp_count, esp_bad = {}, 0, 0, {}, 0
    for frame, src, dst, ports, payload in udp_payloads(a.pcap):
        if ports is not None and 4500 in ports:
            if payload[:4] != b"\0\0\0\0":
                esp, ike = payload, None
            else:
                esp, ike = None, payload[4:]
        elif ports is not None and 500 in ports:
            esp, ike = None, payload
        elif ports is None:
            esp, ike = payload, None
        else:
            continue
        if esp is not None:
            sa = child_sas.get((esp[:4].hex(), src, dst))
            if sa and esp_ok(esp, sa):
                esp_count[esp[:4].hex()] = esp_count.get(esp[:4].hex(), 0) + 1
            else:
                print(f"frame {frame}: ESP SPI 0x{esp[:4].hex()} {src} -> {dst}: no verifying key", file=sys.stderr)
                esp_bad += 1
            continue
        if len(ike) < 32 or ike[16] not in (46, 53):
            continue
        n_sk += 1
        spis = (ike[:8].hex(), ike[8:16].hex())
        match = table.get(spis)
        if match is None or not ike_ok(ike, match):
            match = next((k for k in ike_sets.values() if ike_ok(ike, k)), None)
        if match is None:
            print(f"frame {frame}: IKE SPIs {spis[0]}/{spis[1]}: no verifying key", file=sys.stderr)
            bad += 1
            continue
        table[spis] = match
    os.makedirs(a.out, exist_ok=True)
    # Wireshark's own table has 8 columns (it refuses more); dmvpn also reads SK_d, SK_pi and SK_pr
    # from a 9th to 11th
    for name, sk_d in (("ikev2_decryption_table", False), ("ikev2_decryption_table.sk_d", True)):
        with open(os.path.join(a.out, name), "w") as f:
            f.write("# SPIi,SPIr,SK_ei,SK_er,encryption,SK_ai,SK_ar,integrity%s (from charon's log)\n"
                    % (",SK_d,SK_pi,SK_pr" if sk_d else ""))
            for (spii, spir), k in table.items():
                parts = k["proposal"].split("/")
                enc = IKE_ENC[parts[0]]
                integ = IKE_INTEG[parts[1]][0] if parts[1] in IKE_INTEG else "NONE [RFC4306]"
                f.write(f'{spii},{spir},{k["SK_ei"].hex()},{k["SK_er"].hex()},"{enc}",'
                        f'{k["SK_ai"].hex()},{k["SK_ar"].hex()},"{integ}"'
                        + (f',{k["SK_d"].hex()},{k["SK_pi"].hex()},{k["SK_pr"].hex()}' if sk_d else "")
                        + "\n")
    with open(os.path.join(a.out, "esp_sa"), "w") as f:
        f.write("# Child SA keys from charon's log\n")
        for sa in child_sas.values():
            enc = ESP_ENC[sa["enc_alg"]]
            integ = ESP_INTEG[sa["integ_alg"]][0] if sa["integ_alg"] in ESP_INTEG else "NULL"
            f.write(f'"IPv4","{sa["src"]}","{sa["dst"]}","0x{sa["spi"]}","{enc}","0x{sa["enc_key"].hex()}",'
                    f'"{integ}","0x{sa["integ_key"].hex()}"\n')
    n_esp = sum(esp_count.values())
    print(f"{len(ike_sets)} IKE key set(s) logged, {len(table)} IKE SA(s) matched, {n_sk} encrypted IKE "
          f"message(s) ({bad} unverified); {len(child_sas)} ESP SA(s) logged, {len(esp_count)} seen, "
          f"{n_esp} ESP packet(s) verified ({esp_bad} not)")
    return 1 if bad or esp_bad else 0


if __name__ == "__main__":
    sys.exit(main())
