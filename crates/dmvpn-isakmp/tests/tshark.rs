//! Differential test against tshark: header fields, payload types (`isakmp.typepayload`, decrypted
//! ones included, using Wireshark's `ikev1_decryption_table`), and the SPIs, notify types, vendor
//! IDs, ID types, transform IDs and mode-config attribute types inside them, frame by frame.
//!
//! Skips with a printed reason when tshark or `../shared/captures` is absent. Where tshark marks
//! a frame malformed (draft NAT-D typed 15; a retransmission it decrypts with the wrong IV), its lists
//! must be a prefix of ours: we decode further.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

mod common;

use common::{CAPTURES, Decoded, decode_capture, decryption_table};
use dmvpn_isakmp::attribute::Attribute;
use dmvpn_isakmp::payload::{Body, Payloads};
use dmvpn_wire::fmt::Hex;

const FIELDS: &[&str] = &[
    "frame.number",
    "_ws.malformed",
    "isakmp.ispi",
    "isakmp.rspi",
    "isakmp.exchangetype",
    "isakmp.flags",
    "isakmp.messageid",
    "isakmp.length",
    "isakmp.typepayload",
    "isakmp.spi",
    "isakmp.notify.msgtype",
    "isakmp.vid_bytes",
    "isakmp.id.type",
    "isakmp.trans.id",
    "isakmp.cfg.attr.type",
];

/// Index of the first list-valued field.
const LISTS: usize = 8;

/// Our row in tshark's field order.
fn collect(message: &Decoded, bytes: &[u8]) -> Vec<String> {
    let h = &message.header;
    let mut row = vec![
        message.frame.to_string(),
        String::new(),
        Hex(&h.initiator_cookie).to_string(),
        Hex(&h.responder_cookie).to_string(),
        h.exchange_type.0.to_string(),
        format!("{:#04x}", h.flags.0),
        format!("{:#010x}", h.message_id),
        h.length.to_string(),
    ];
    let types = message.types.as_ref().unwrap();
    row.push(
        types
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    row.resize(FIELDS.len(), String::new());
    let chain = match &message.plaintext {
        Some(plain) => Payloads::decrypted(h.next_payload, plain, 28),
        None if h.flags.encryption() => return row,
        None => Payloads::new(h.next_payload, &bytes[28..], 28),
    };
    let (mut spi, mut notify, mut vid, mut id, mut trans, mut cfg) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for payload in chain {
        match payload.unwrap().decode(message.context).unwrap() {
            Body::Sa(sa) => {
                for proposal in sa.proposals().map(Result::unwrap) {
                    if !proposal.spi.is_empty() {
                        spi.push(Hex(proposal.spi).to_string());
                    }
                    trans.extend(proposal.transforms().map(|t| t.unwrap().id.to_string()));
                }
            }
            Body::Notify(n) => {
                if !n.spi.is_empty() {
                    spi.push(Hex(n.spi).to_string());
                }
                notify.push(n.ty.0.to_string());
            }
            Body::VendorId(v) => vid.push(Hex(v).to_string()),
            Body::Id(i) => id.push(i.ty.0.to_string()),
            Body::Attributes(m) => {
                cfg.extend(
                    m.attribute_list()
                        .map(|a: Result<Attribute<'_>, _>| a.unwrap().ty.to_string()),
                );
            }
            _ => {}
        }
    }
    for (slot, list) in [spi, notify, vid, id, trans, cfg].into_iter().enumerate() {
        row[LISTS + 1 + slot] = list.join(",");
    }
    row
}

#[test]
fn agrees_with_tshark() {
    let dir = dmvpn_testkit::captures_or_skip!();
    if !dmvpn_testkit::tshark_available() {
        return; // tshark_available says why
    }
    let mut keys = decryption_table(&dir);
    let mut paths: Vec<(String, std::path::PathBuf)> = CAPTURES
        .iter()
        .map(|n| ((*n).to_owned(), dir.join(n)))
        .collect();
    // The strongSwan lab sessions recorded in testdata/ (tools/lab/ike_lab.sh), with the Ka charon logged.
    for scenario in ["xfrm-3des", "xfrm-aes", "libipsec-aes"] {
        let base = dmvpn_testkit::testdata("isakmp");
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(base.join(format!("strongswan-{scenario}.keys.json")))
                .unwrap(),
        )
        .unwrap();
        let ike = &json["ike_sas"][0];
        keys.push(common::ikev1_key(
            ike["cookie_i"].as_str().unwrap(),
            ike["enc_key_Ka"].as_str().unwrap(),
        ));
        paths.push((
            format!("strongswan-{scenario}"),
            base.join(format!("strongswan-{scenario}.pcap")),
        ));
    }
    let mut compared = 0;
    for (name, path) in &paths {
        let decoded = decode_capture(path, &keys);
        let datagrams = common::isakmp(path);
        let mut args = vec!["-Y".to_owned(), "isakmp".to_owned()];
        let cookie = decoded[0].header.initiator_cookie;
        if let Some(key) = keys.iter().find(|k| k.initiator_cookie == cookie) {
            // tshark 4.0 wants the hex unquoted.
            args.push("-o".to_owned());
            args.push(format!(
                "uat:ikev1_decryption_table:{}",
                key.to_table_line()
            ));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let rows = dmvpn_testkit::tshark_fields(path, &args, FIELDS);
        assert_eq!(rows.len(), decoded.len(), "{name}: message count");
        for ((theirs, message), datagram) in rows.iter().zip(&decoded).zip(&datagrams) {
            let mine = collect(message, &datagram.payload);
            let malformed = !theirs[1].is_empty();
            if std::env::var_os("TSHARK_DIFF_VERBOSE").is_some() {
                eprintln!("{name}\n  tshark {theirs:?}\n  ours   {mine:?}");
            }
            for (index, field) in FIELDS.iter().enumerate().skip(2) {
                let (t, m) = (theirs[index].as_str(), mine[index].as_str());
                if malformed && index >= LISTS {
                    assert!(
                        m.starts_with(t),
                        "{name} frame {}: {field}: tshark {t:?} is not a prefix of ours {m:?}",
                        message.frame
                    );
                } else {
                    assert_eq!(t, m, "{name} frame {}: {field}", message.frame);
                }
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 86 + 10 + 10 + 15);
}
