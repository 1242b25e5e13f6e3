//! The builder against real messages: every plaintext ISAKMP message of the strongSwan captures in
//! `testdata/isakmp` (charon 5.9.8, made by `tools/lab/ike_lab.sh`) rebuilt from its parsed header and
//! decoded payloads is byte-identical to what charon sent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

mod common;

use std::path::Path;

use common::isakmp;
use dmvpn_isakmp::Message;
use dmvpn_isakmp::builder::{Builder, Chain};

#[test]
fn plaintext_messages_rebuild_byte_for_byte() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/isakmp");
    let mut rebuilt = 0;
    for name in [
        "strongswan-xfrm-aes.pcap",
        "strongswan-xfrm-3des.pcap",
        "strongswan-libipsec-aes.pcap",
    ] {
        for datagram in isakmp(&dir.join(name)) {
            let message = Message::parse(&datagram.payload).unwrap();
            let Some(payloads) = message.payloads() else {
                continue;
            };
            let context = message.context(None);
            let mut chain = Chain::new();
            for payload in payloads {
                let payload = payload.unwrap();
                chain.push(payload.ty, &payload.decode(context).unwrap());
            }
            let h = message.header;
            let builder = Builder::new(
                h.initiator_cookie,
                h.responder_cookie,
                h.exchange_type,
                h.flags,
                h.message_id,
            );
            assert_eq!(
                builder.to_vec(&chain).unwrap(),
                datagram.payload,
                "{name} frame {}",
                datagram.frame
            );
            rebuilt += 1;
        }
    }
    // Main Mode 1..4 of each of the three sessions at least.
    assert!(rebuilt >= 12, "{rebuilt}");
}
