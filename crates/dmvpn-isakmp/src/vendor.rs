//! Vendor ID recognition (RFC 2408 §3.16).
//!
//! Most vendor IDs are the MD5 of a string, some followed by version bytes; the table below matches
//! by prefix where a version follows, so that `CISCO-UNITY` 1.0 and a future 1.1 both match. Hashes
//! were checked against the MD5 of the names (`tools/gen/isakmp_vectors.py` recomputes them) and against
//! the vendor IDs in the shared captures.

use core::fmt;

use dmvpn_wire::fmt::Hex;

use crate::consts::PayloadType;

/// What a recognised vendor ID announces.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Vendor {
    /// Human-readable name.
    pub name: &'static str,
    /// For NAT-T vendor IDs: the payload type this version uses for NAT-D: 20 for RFC 3947, 15 for
    /// drafts 04–08 (Cisco IOS sends NAT-D typed 15 after agreeing on draft 07, packetlife
    /// ISAKMP_sa_setup.cap frames 3–4), and the private 130 for drafts 02/03 (strongSwan's
    /// `PLV1_NAT_D_DRAFT_00_03`); `None` for other vendor IDs and drafts that predate NAT-D.
    pub nat_d: Option<PayloadType>,
}

struct Entry {
    prefix: &'static [u8],
    exact: bool,
    vendor: Vendor,
}

const fn entry(
    prefix: &'static [u8],
    exact: bool,
    name: &'static str,
    nat_d: Option<PayloadType>,
) -> Entry {
    Entry {
        prefix,
        exact,
        vendor: Vendor { name, nat_d },
    }
}

const RFC: Option<PayloadType> = Some(PayloadType::NAT_D);
const DRAFT_130: Option<PayloadType> = Some(PayloadType::NAT_D_DRAFT);
const DRAFT_15: Option<PayloadType> = Some(PayloadType::SAK);

#[rustfmt::skip]
const TABLE: &[Entry] = &[
    entry(b"\x4a\x13\x1c\x81\x07\x03\x58\x45\x5c\x57\x28\xf2\x0e\x95\x45\x2f", true, "RFC 3947 NAT-T", RFC),
    entry(b"\x44\x85\x15\x2d\x18\xb6\xbb\xcd\x0b\xe8\xa8\x46\x95\x79\xdd\xcc", true, "draft-ietf-ipsec-nat-t-ike-00", None),
    entry(b"\x16\xf6\xca\x16\xe4\xa4\x06\x6d\x83\x82\x1a\x0f\x0a\xea\xa8\x62", true, "draft-ietf-ipsec-nat-t-ike-01", None),
    entry(b"\xcd\x60\x46\x43\x35\xdf\x21\xf8\x7c\xfd\xb2\xfc\x68\xb6\xa4\x48", true, "draft-ietf-ipsec-nat-t-ike-02", DRAFT_130),
    entry(b"\x90\xcb\x80\x91\x3e\xbb\x69\x6e\x08\x63\x81\xb5\xec\x42\x7b\x1f", true, "draft-ietf-ipsec-nat-t-ike-02\\n", DRAFT_130),
    entry(b"\x7d\x94\x19\xa6\x53\x10\xca\x6f\x2c\x17\x9d\x92\x15\x52\x9d\x56", true, "draft-ietf-ipsec-nat-t-ike-03", DRAFT_130),
    entry(b"\x99\x09\xb6\x4e\xed\x93\x7c\x65\x73\xde\x52\xac\xe9\x52\xfa\x6b", true, "draft-ietf-ipsec-nat-t-ike-04", DRAFT_15),
    entry(b"\x80\xd0\xbb\x3d\xef\x54\x56\x5e\xe8\x46\x45\xd4\xc8\x5c\xe3\xee", true, "draft-ietf-ipsec-nat-t-ike-05", DRAFT_15),
    entry(b"\x4d\x1e\x0e\x13\x6d\xea\xfa\x34\xc4\xf3\xea\x9f\x02\xec\x72\x85", true, "draft-ietf-ipsec-nat-t-ike-06", DRAFT_15),
    entry(b"\x43\x9b\x59\xf8\xba\x67\x6c\x4c\x77\x37\xae\x22\xea\xb8\xf5\x82", true, "draft-ietf-ipsec-nat-t-ike-07", DRAFT_15),
    entry(b"\x8f\x8d\x83\x82\x6d\x24\x6b\x6f\xc7\xa8\xa6\xa4\x28\xc1\x1d\xe8", true, "draft-ietf-ipsec-nat-t-ike-08", DRAFT_15),
    entry(b"\x42\xea\x5b\x6f\x89\x8d\x97\x73\xa5\x75\xdf\x26\xe7\xdd\x19\xe1", true, "draft-ietf-ipsec-nat-t-ike-09", None),
    entry(b"\x27\xba\xb5\xdc\x01\xea\x07\x60\xea\x4e\x31\x90\xac\x27\xc0\xd0", true, "draft-stenberg-ipsec-nat-traversal-01", None),
    entry(b"\x61\x05\xc4\x22\xe7\x68\x47\xe4\x3f\x96\x84\x80\x12\x92\xae\xcd", true, "draft-stenberg-ipsec-nat-traversal-02", None),
    entry(b"\x6a\x74\x34\xc1\x9d\x7e\x36\x34\x80\x90\xa0\x23\x34\xc9\xc8\x05", true, "draft-huttunen-ipsec-esp-in-udp-00", None),
    entry(b"\xaf\xca\xd7\x13\x68\xa1\xf1\xc9\x6b\x86\x96\xfc\x77\x57", false, "RFC 3706 DPD", None),
    entry(b"\x12\xf5\xf2\x8c\x45\x71\x68\xa9\x70\x2d\x9f\xe2\x74\xcc", false, "Cisco Unity", None),
    entry(b"\x09\x00\x26\x89\xdf\xd6\xb7\x12", true, "XAUTH", None),
    entry(b"\x40\x48\xb7\xd5\x6e\xbc\xe8\x85\x25\xe7\xde\x7f\x00\xd6\xc2\xd3", false, "IKE Fragmentation", None),
    entry(b"\x88\x2f\xe5\x6d\x6f\xd2\x0d\xbc\x22\x51\x61\x3b\x2e\xbe\x5b\xeb", false, "strongSwan", None),
    entry(b"\xb8\x34\xb3\x3a\x26\x09\xea\x99\xd7\x33\x41\x3a\x62\x1f\x90\x48", false, "Libreswan", None),
    entry(b"\xc1\x2f\xad\xf2\xfc\x98\x70\xa5\x55\x2a\x5f\xba\x7c\xba\x79\x49", false, "Openswan", None),
    entry(b"\x70\x03\xcb\xc1\x09\x7d\xbe\x9c\x26\x00\xba\x69\x83\xbc\x8b\x35", true, "KAME/racoon", None),
    entry(b"\xd6\x1a\x0f\x3a\xc8\xe6\x02\xc6\x50\xdb\x8e\x46\x21\xde\x55\xc0", false, "ipsec-tools", None),
    entry(b"\x1e\x2b\x51\x69\x05\x99\x1c\x7d\x7c\x96\xfc\xbf\xb5\x87\xe4\x61", false, "Microsoft Windows (MS NT5 ISAKMPOAKLEY)", None),
    entry(b"\xfb\x1d\xe3\xcd\xf3\x41\xb7\xea\x16\xb7\xe5\xbe\x08\x55\xf1\x20", true, "MS-Negotiation Discovery Capable", None),
    entry(b"\x26\x24\x4d\x38\xed\xdb\x61\xb3\x17\x2a\x36\xe3\xd0\xcf\xb8\x19", true, "Vid-Initial-Contact", None),
    entry(b"\x21\x4c\xa4\xfa\xff\xa7\xf3\x2d\x67\x48\xe5\x30\x33\x95\xae\x83", true, "MS-MamieExists", None),
    entry(b"\x45\xbd\xa4\x79\x52\xb7\xc7\x22\xbb\xfd\x31\x98\xc5\xdc\x7d\xcd", false, "Cisco Delete Reason", None),
    entry(b"\xd1\x5a\xf2\x77\x65\xa3\xda\x1c\x4d\xef\x91\x67\xd2\x88\x56\x7f", false, "Cisco Dynamic Route", None),
    entry(b"\x8d\x48\xc5\xfe\xb5\x89\xad\x1c\x7d\x36\x3d\xdc\x4c\x29\x4a\x7f", false, "Cisco Concentrator", None),
    entry(b"\xb8\x58\xd1\xad\xdd\x08\xc1\xe8\xad\xaf\xea\x15\x06\x08\xaa\x44\x97\xaa\x6c\xc8", true, "ZyXEL ZyWALL Router", None),
    entry(b"\xf7\x58\xf2\x26\x68\x75\x0f\x03\xb0\x8d\xf6\xeb\xe1\xd0", true, "ZyXEL ZyWALL USG 100", None),
    entry(b"\x62\x50\x27\x74\x9d\x5a\xb9\x7f\x56\x16\xc1\x60\x27\x65\xcf\x48\x0a\x3b\x7d\x0b", true, "ZyXEL ZyWALL", None),
    entry(b"\x48\x65\x61\x72\x74\x42\x65\x61\x74\x5f\x4e\x6f\x74\x69\x66\x79", false, "Heartbeat Notify", None),
    entry(b"\xf4\xed\x19\xe0\xc1\x14\xeb\x51\x6f\xaa\xac\x0e\xe3\x7d\xaf\x28\x07\xb4\x38\x1f", false, "Check Point", None),
    entry(b"\x69\x93\x69\x22\x87\x41\xc6\xd4\xca\x09\x4c\x93\xe2\x42\xc9\xde\x19\xe7\xb7\xc6", false, "Netscreen", None),
    entry(b"\xa5\x37\x09\xa4\x01\x1f\xdb\x0a\x3d\x09\xb1\x17\xd8\x06\xf4\xac", true, "Linux FreeS/WAN", None),
];

/// Names a vendor ID, or `None` if it is not in the table.
///
/// Besides the hashed IDs, pluto (FreeS/WAN, Openswan, Libreswan) sends 12-byte IDs that start with
/// `OE` followed by base64 text; those are reported as "Openswan/Libreswan (pluto)".
///
/// ```
/// use dmvpn_isakmp::vendor::identify;
/// let dpd = [0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00];
/// assert_eq!(identify(&dpd).map(|v| v.name), Some("RFC 3706 DPD"));
/// assert!(identify(b"random").is_none());
/// ```
#[must_use]
pub fn identify(vid: &[u8]) -> Option<Vendor> {
    if let Some(entry) = TABLE.iter().find(|entry| {
        if entry.exact {
            vid == entry.prefix
        } else {
            vid.starts_with(entry.prefix)
        }
    }) {
        return Some(entry.vendor);
    }
    if vid.len() == 12
        && vid.starts_with(b"OE")
        && vid[2..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/".contains(b))
    {
        return Some(Vendor {
            name: "Openswan/Libreswan (pluto)",
            nat_d: None,
        });
    }
    None
}

/// A vendor ID printed by name, with version bytes where they matter, or as hex.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct VendorId<'a>(pub &'a [u8]);

impl fmt::Display for VendorId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match identify(self.0) {
            Some(vendor) if vendor.name == "Cisco Unity" => match self.0 {
                [.., major, minor] if self.0.len() == 16 => {
                    write!(f, "Cisco Unity {major}.{minor}")
                }
                _ => f.write_str(vendor.name),
            },
            Some(vendor) if vendor.name == "IKE Fragmentation" && self.0.len() == 20 => {
                write!(f, "{} (caps 0x{})", vendor.name, Hex(&self.0[16..]))
            }
            Some(vendor) => f.write_str(vendor.name),
            None => write!(f, "0x{}", Hex(self.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn vendor_ids_from_the_captures() {
        // VIDs seen in ISAKMP_sa_setup.cap, ikev1-bug-12610, ikev1-certs and isakmp4500.pcap.
        let cases: [(&str, &str); 10] = [
            ("12f5f28c457168a9702d9fe274cc0100", "Cisco Unity 1.0"),
            ("09002689dfd6b712", "XAUTH"),
            ("afcad71368a1f1c96b8696fc77570100", "RFC 3706 DPD"),
            (
                "4048b7d56ebce88525e7de7f00d6c2d380000000",
                "IKE Fragmentation (caps 0x80000000)",
            ),
            ("4a131c81070358455c5728f20e95452f", "RFC 3947 NAT-T"),
            (
                "90cb80913ebb696e086381b5ec427b1f",
                "draft-ietf-ipsec-nat-t-ike-02\\n",
            ),
            ("882fe56d6fd20dbc2251613b2ebe5beb", "strongSwan"),
            (
                "699369228741c6d4ca094c93e242c9de19e7b7c60000000500000500",
                "Netscreen",
            ),
            ("4f456b5262475852766d5045", "Openswan/Libreswan (pluto)"),
            (
                "ed66aee59218e8dfbe01a135a2ad8994",
                "0xed66aee59218e8dfbe01a135a2ad8994",
            ),
        ];
        for (hex_vid, name) in cases {
            let vid = hex::decode(hex_vid).unwrap();
            assert_eq!(VendorId(&vid).to_string(), name);
        }
        let draft = hex::decode("7d9419a65310ca6f2c179d9215529d56").unwrap();
        assert_eq!(
            identify(&draft).unwrap().nat_d,
            Some(PayloadType::NAT_D_DRAFT)
        );
        let draft = hex::decode("439b59f8ba676c4c7737ae22eab8f582").unwrap();
        assert_eq!(identify(&draft).unwrap().nat_d, Some(PayloadType::SAK));
        // XAUTH is exact: a longer ID with the same prefix is something else.
        assert!(identify(&hex::decode("09002689dfd6b71200").unwrap()).is_none());
    }
}
