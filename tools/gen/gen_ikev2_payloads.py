#!/usr/bin/env python3
"""Writes testdata/ikev2/payloads.pcap: IKEv2 messages with every payload type, over UDP 500 and
4500 (non-ESP marker), IPv4 and IPv6, for the differential test against tshark
(crates/dmvpn/tests/ikev2_tshark.rs). Encrypted payloads carry random bytes (no keys).

    python3 tools/gen/gen_ikev2_payloads.py [OUT.pcap]
"""
import struct
import sys

from scapy.all import Ether, IP, IPv6, UDP, Raw, wrpcap
from scapy.contrib.ikev2 import (
    IKEv2, IKEv2_SA, IKEv2_Proposal, IKEv2_Transform, IKEv2_KE, IKEv2_Nonce, IKEv2_Notify,
    IKEv2_VendorID, IKEv2_IDi, IKEv2_IDr, IKEv2_CERT, IKEv2_CERTREQ, IKEv2_AUTH, IKEv2_TSi,
    IKEv2_TSr, IKEv2_Delete, IKEv2_CP, IKEv2_EAP, IKEv2_Encrypted, IKEv2_Encrypted_Fragment,
    IPv4TrafficSelector, IPv6TrafficSelector, ConfigurationAttribute,
)

SPI_I = bytes.fromhex("a1b2c3d4e5f60718")
SPI_R = bytes.fromhex("1122334455667788")


def ts_v4(start, end, proto=0):
    return [IPv4TrafficSelector(IP_protocol_ID=proto, start_port=0, end_port=65535,
                                starting_address_v4=start, ending_address_v4=end)]


def ts_v6(start, end, proto=0):
    # scapy leaves the IPv6 selector length at 20; RFC 7296 §3.13.1 says 40.
    return [IPv6TrafficSelector(IP_protocol_ID=proto, start_port=500, end_port=500, length=40,
                                starting_address_v6=start, ending_address_v6=end)]


def transforms():
    return (IKEv2_Transform(transform_type=1, transform_id=12, key_length=256)
            / IKEv2_Transform(transform_type=1, transform_id=20, key_length=128)
            / IKEv2_Transform(transform_type=2, transform_id=5)
            / IKEv2_Transform(transform_type=3, transform_id=12)
            / IKEv2_Transform(transform_type=4, transform_id=31))


def raw_message(exch_type, flags, message_id, payloads):
    """An IKEv2 message from (payload type, body) pairs, chained in order."""
    chain = b""
    for n, (_, body) in enumerate(payloads):
        following = payloads[n + 1][0] if n + 1 < len(payloads) else 0
        chain += struct.pack("!BBH", following, 0, 4 + len(body)) + body
    header = SPI_I + SPI_R + struct.pack("!BBBBII", payloads[0][0], 0x20, exch_type, flags, message_id, 28 + len(chain))
    return Raw(header + chain)


def messages():
    sa = IKEv2_SA(prop=IKEv2_Proposal(proposal=1, proto=1, trans_nb=5, trans=transforms())
                  / IKEv2_Proposal(proposal=2, proto=1, trans_nb=1,
                                   trans=IKEv2_Transform(transform_type=4, transform_id=14)))
    init = (IKEv2(init_SPI=SPI_I, exch_type=34, flags="Initiator") / sa
            / IKEv2_KE(group=31, ke=b"\x11" * 32)
            / IKEv2_Nonce(nonce=b"\x22" * 32)
            / IKEv2_Notify(type=16388, notify=b"\x33" * 20)
            / IKEv2_Notify(type=16389, notify=b"\x44" * 20)
            / IKEv2_Notify(type=16430)
            / IKEv2_VendorID(vendorID=b"strongSwan-test"))
    cookie = IKEv2(init_SPI=SPI_I, exch_type=34, flags="Response") / IKEv2_Notify(type=16390, notify=b"\x55" * 16)
    invalid_ke = IKEv2(init_SPI=SPI_I, exch_type=34, flags="Response") / IKEv2_Notify(type=17, notify=b"\x00\x0e")
    no_proposal = IKEv2(init_SPI=SPI_I, resp_SPI=SPI_R, exch_type=34, flags="Response") / IKEv2_Notify(type=14)
    child_sa = IKEv2_SA(prop=IKEv2_Proposal(proposal=1, proto=3, SPIsize=4, SPI=b"\xc0\x00\x00\x01", trans_nb=3,
                                            trans=IKEv2_Transform(transform_type=1, transform_id=12, key_length=128)
                                            / IKEv2_Transform(transform_type=3, transform_id=2)
                                            / IKEv2_Transform(transform_type=5, transform_id=0)))
    auth_plain = (IKEv2(init_SPI=SPI_I, resp_SPI=SPI_R, exch_type=35, flags="Initiator", id=1)
                  / IKEv2_IDi(IDtype=2, ID=b"spoke1.example")
                  / IKEv2_CERT(cert_encoding=4, cert_data=b"\x30\x82" + b"\x01" * 40)
                  / IKEv2_CERTREQ(cert_encoding=4, cert_authority=b"\x02" * 20)
                  / IKEv2_IDr(IDtype=1, ID="192.0.2.1")
                  / IKEv2_AUTH(auth_type=2, load=b"\x66" * 20)
                  / IKEv2_CP(CFGType=1, attributes=[ConfigurationAttribute(type=1), ConfigurationAttribute(type=3)])
                  / child_sa
                  / IKEv2_TSi(number_of_TSs=1, traffic_selector=ts_v4("10.0.0.0", "10.0.0.255", 47))
                  / IKEv2_TSr(number_of_TSs=2, traffic_selector=ts_v4("0.0.0.0", "255.255.255.255") + ts_v6("2001:db8::", "2001:db8::ffff"))
                  / IKEv2_Notify(type=16391)
                  / IKEv2_Notify(proto=3, SPIsize=4, SPI=b"\xc0\x00\x00\x01", type=16393))
    eap = IKEv2(init_SPI=SPI_I, resp_SPI=SPI_R, exch_type=35, flags="Response", id=1) / IKEv2_EAP(load=b"\x01\x07\x00\x0a\x01user1")
    # scapy's IKEv2_Delete miscounts the SPI size: the two Delete payloads are written by hand.
    delete = raw_message(exch_type=37, flags=0x08, message_id=2, payloads=[
        (42, struct.pack("!BBH", 3, 4, 2) + bytes.fromhex("c0000001c0000002")),
        (42, struct.pack("!BBH", 1, 0, 0)),
    ])
    sk = IKEv2(init_SPI=SPI_I, resp_SPI=SPI_R, exch_type=35, flags="Initiator", id=1) / IKEv2_Encrypted(next_payload=35, load=b"\x77" * 80)
    skf = (IKEv2(init_SPI=SPI_I, resp_SPI=SPI_R, exch_type=35, flags="Initiator", id=1)
           / IKEv2_Encrypted_Fragment(next_payload=35, frag_number=1, frag_total=2, load=b"\x88" * 64))
    skf2 = (IKEv2(init_SPI=SPI_I, resp_SPI=SPI_R, exch_type=35, flags="Initiator", id=1)
            / IKEv2_Encrypted_Fragment(next_payload=0, frag_number=2, frag_total=2, load=b"\x99" * 48))
    info_empty = IKEv2(init_SPI=SPI_I, resp_SPI=SPI_R, exch_type=37, flags="Response", id=2)
    rekey = (IKEv2(init_SPI=SPI_I, resp_SPI=SPI_R, exch_type=36, flags="Initiator", id=3)
             / child_sa / IKEv2_Nonce(nonce=b"\x12" * 16) / IKEv2_KE(group=14, ke=b"\x13" * 256))
    return [init, cookie, invalid_ke, no_proposal, auth_plain, eap, delete, sk, skf, skf2, info_empty, rekey]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "testdata/ikev2/payloads.pcap"
    frames = []
    for i, message in enumerate(messages()):
        raw = bytes(message)
        base = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        if i % 3 == 0:
            frames.append(base / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=500, dport=500) / Raw(raw))
        elif i % 3 == 1:
            frames.append(base / IP(src="192.0.2.1", dst="198.51.100.2") / UDP(sport=4500, dport=4500) / Raw(b"\0\0\0\0" + raw))
        else:
            frames.append(base / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=500, dport=500) / Raw(raw))
    for n, frame in enumerate(frames):
        frame.time = 1700000000 + n
    wrpcap(out, frames)


if __name__ == "__main__":
    main()
