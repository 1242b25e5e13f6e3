extern crate alloc;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use super::*;

fn round_trip(ty: PayloadType, body: &[u8], context: Context) -> Body<'_> {
    let decoded = Body::parse(ty, body, 0, context).unwrap();
    let mut out = vec![0; decoded.buffer_len()];
    decoded.emit(&mut out);
    assert_eq!(out, body, "{decoded:?}");
    decoded
}

#[test]
fn id_payloads() {
    // A phase-1 IDii as Main Mode sends it: IPV4_ADDR, UDP/500.
    let id = round_trip(
        PayloadType::ID,
        &[1, 17, 0x01, 0xf4, 192, 168, 0, 1],
        Context::default(),
    );
    assert_eq!(id.to_string(), "ID(192.168.0.1 proto 17 port 500)");
    let id = round_trip(
        PayloadType::ID,
        &[4, 47, 0, 0, 10, 0, 0, 0, 255, 255, 255, 0],
        Context::default(),
    );
    assert_eq!(id.to_string(), "ID(10.0.0.0/255.255.255.0 proto 47 port 0)");
    let id = round_trip(
        PayloadType::ID,
        b"\x02\x00\x00\x00vpn.example",
        Context::default(),
    );
    assert_eq!(id.to_string(), "ID(FQDN vpn.example)");
    assert_eq!(
        Id::parse(&[1, 0, 0, 0, 1, 2, 3], 40).unwrap_err(),
        Error::bad_length(Layer::Isakmp, "identification data", 44, 4, 3)
    );
}

#[test]
fn notify_payloads() {
    // INITIAL-CONTACT with a cookie pair as SPI (the shape of ikev1-bug-12610 frame 8).
    #[rustfmt::skip]
    let body = [
        0, 0, 0, 1, 1, 16, 0x60, 0x02,
        0xab, 0x3e, 0x0f, 0x1f, 0x8b, 0xc3, 0xbe, 0x8e, 0x44, 0x5c, 0xc0, 0x1c, 0xd4, 0x36, 0x7e, 0xc0,
    ];
    let n = round_trip(PayloadType::NOTIFY, &body, Context::default());
    assert_eq!(
        n.to_string(),
        "N(INITIAL-CONTACT (24578) spi=0xab3e0f1f8bc3be8e445cc01cd4367ec0)"
    );
    let mut dpd = body.to_vec();
    dpd[6..8].copy_from_slice(&36136u16.to_be_bytes());
    dpd.extend_from_slice(&[0, 0, 0x12, 0x34]);
    let Body::Notify(n) = round_trip(PayloadType::NOTIFY, &dpd, Context::default()) else {
        panic!()
    };
    assert_eq!(n.dpd_sequence(), Some(0x1234));
    dpd.pop();
    assert_eq!(
        Notify::parse(&dpd, 0).unwrap_err(),
        Error::bad_length(Layer::Isakmp, "notification data", 24, 4, 3)
    );
    // RESPONDER-LIFETIME with ESP lifetime attributes.
    let body = [
        0, 0, 0, 1, 3, 4, 0x60, 0x00, 1, 2, 3, 4, 0x80, 1, 0, 1, 0, 2, 0, 4, 0, 0, 0x0e, 0x10,
    ];
    let n = round_trip(PayloadType::NOTIFY, &body, Context::default());
    assert_eq!(
        n.to_string(),
        "N(RESPONDER-LIFETIME (24576) spi=0x01020304 SA-Life-Type=Seconds SA-Life-Duration=3600)"
    );
}

#[test]
fn delete_and_nat_payloads() {
    let body = [
        0, 0, 0, 1, 3, 4, 0, 2, 0xc2, 0x54, 0xfe, 0x64, 0x07, 0x08, 0x83, 0xc2,
    ];
    let d = round_trip(PayloadType::DELETE, &body, Context::default());
    assert_eq!(d.to_string(), "D(ESP (3) 0xc254fe64 0x070883c2)");
    assert_eq!(
        Delete::parse(&body[..15], 0).unwrap_err(),
        Error::truncated(Layer::Isakmp, "spis", 8, 8, 15)
    );
    let mut longer = body.to_vec();
    longer.push(0);
    assert_eq!(
        Delete::parse(&longer, 0).unwrap_err(),
        Error::TrailingBytes {
            layer: Layer::Isakmp,
            offset: 16,
            len: 1
        }
    );
    let oa = round_trip(
        PayloadType::NAT_OA,
        &[1, 0, 0, 0, 192, 1, 2, 45],
        Context::default(),
    );
    assert_eq!(oa.to_string(), "NAT-OA(192.1.2.45)");
    assert!(NatOa::parse(&[9, 0, 0, 0], 0).is_err());
    // Type 15 is the drafts' NAT-D in Main Mode, GDOI's SAK elsewhere.
    let hash = [0xaa; 20];
    let main = Context::new(ExchangeType::MAIN);
    assert_eq!(round_trip(PayloadType::SAK, &hash, main), Body::NatD(&hash));
    let quick = Context::new(ExchangeType::QUICK);
    assert_eq!(
        round_trip(PayloadType::SAK, &hash, quick),
        Body::Unknown {
            ty: PayloadType::SAK,
            value: &hash
        }
    );
    let draft = Context {
        exchange: ExchangeType::QUICK,
        nat_d: Some(PayloadType::SAK),
    };
    assert!(matches!(
        round_trip(PayloadType::SAT, &[1, 0, 0, 0, 10, 0, 0, 1], draft),
        Body::NatOa(_)
    ));
    let rfc = Context {
        exchange: ExchangeType::MAIN,
        nat_d: Some(PayloadType::NAT_D),
    };
    assert!(matches!(
        round_trip(PayloadType::SAK, &hash, rfc),
        Body::Unknown { .. }
    ));
}

#[test]
fn modecfg_and_fragment() {
    // An XAUTH CFG_REQUEST for user name and password (the shape of ikev1-bug-12610 frame 7).
    let body = [1, 0, 0x8a, 0x3d, 0x40, 0x89, 0, 0, 0x40, 0x8a, 0, 0];
    let m = round_trip(PayloadType::ATTRIBUTES, &body, Context::default());
    assert_eq!(
        m.to_string(),
        "ATTR(CFG_REQUEST (1) id=35389 XAUTH-USER-NAME=0x XAUTH-USER-PASSWORD=0x)"
    );
    let frag = round_trip(
        PayloadType::FRAGMENT,
        &[0, 7, 2, 1, 0xde, 0xad],
        Context::default(),
    );
    assert_eq!(frag.to_string(), "FRAG(id 7 #2 last, 2 bytes)");
    let unknown = round_trip(PayloadType(200), &[1, 2, 3], Context::default());
    assert_eq!(unknown.to_string(), "0xc8(3 bytes)");
}

#[test]
fn chain() {
    // Two payloads: a VID then a NONCE, then three bytes of padding.
    let bytes = [10, 0, 0, 6, 0xaa, 0xbb, 0, 0, 0, 5, 1, 0, 0, 0];
    let chain = Payloads::new(PayloadType::VENDOR_ID, &bytes[..11], 100);
    let payloads: Vec<_> = chain.collect::<Result<_>>().unwrap();
    assert_eq!(
        payloads[0],
        Payload {
            ty: PayloadType::VENDOR_ID,
            next: PayloadType::NONCE,
            reserved: 0,
            body: &[0xaa, 0xbb],
            offset: 100
        }
    );
    assert_eq!(payloads[1].body, &[1]);
    assert_eq!(
        Payloads::new(PayloadType::VENDOR_ID, &bytes, 100).check(),
        Err(Error::TrailingBytes {
            layer: Layer::Isakmp,
            offset: 111,
            len: 3
        })
    );
    let mut padded = Payloads::decrypted(PayloadType::VENDOR_ID, &bytes, 100);
    assert_eq!(padded.by_ref().count(), 2);
    assert_eq!(padded.padding(), &[0, 0, 0]);
    // A payload length below 4.
    assert_eq!(
        Payloads::new(PayloadType::HASH, &[0, 0, 0, 3], 0).check(),
        Err(Error::bad_length(Layer::Isakmp, "payload length", 2, 3, 4))
    );
    let mut out = [0; 6];
    assert_eq!(
        emit_payload(PayloadType::NONCE, &Body::VendorId(&[0xaa, 0xbb]), &mut out),
        6
    );
    assert_eq!(out, bytes[..6]);
}

#[test]
fn truncation_loop() {
    let bytes = [10, 0, 0, 6, 0xaa, 0xbb, 0, 0, 0, 5, 1];
    for len in 0..bytes.len() {
        let err = Payloads::new(PayloadType::VENDOR_ID, &bytes[..len], 28)
            .check()
            .unwrap_err();
        let start = if len < 6 { 0 } else { 6 };
        let expected = match len - start {
            0 => Error::truncated(Layer::Isakmp, "next payload", 28 + start, 1, 28 + len),
            1 => Error::truncated(Layer::Isakmp, "reserved", 29 + start, 1, 28 + len),
            2 | 3 => Error::truncated(Layer::Isakmp, "payload length", 30 + start, 2, 28 + len),
            n => Error::BadLength {
                layer: Layer::Isakmp,
                field: "payload length",
                offset: 32 + start,
                claimed: if start == 0 { 2 } else { 1 },
                available: n - 4,
            },
        };
        assert_eq!(err, expected, "len {len}");
    }
}

#[test]
fn arbitrary_chains_never_panic_and_round_trip() {
    bolero::check!().for_each(|data: &[u8]| {
        let Some((&first, rest)) = data.split_first() else {
            return;
        };
        let context = Context::new(ExchangeType(first >> 4));
        let mut out = vec![0; rest.len()];
        let mut at = 0;
        for payload in Payloads::new(PayloadType(first), rest, 0) {
            let Ok(payload) = payload else { return };
            match payload.decode(context) {
                Ok(body) => {
                    let _ = body.to_string();
                    at += emit_payload(payload.next, &body, &mut out[at..]);
                    out[at - body.buffer_len() - 3] = payload.reserved;
                }
                Err(err) => {
                    let _ = err.to_string();
                    return;
                }
            }
        }
        assert_eq!(out, rest);
    });
}
