//! The key log (off by default): Wireshark's `esp_sa`, `ikev1_decryption_table` and
//! `ikev2_decryption_table` files in a directory, appended as SAs are made, so a capture of this
//! router decrypts in tshark and in `dmvpn decode`. They hold live keys: the files are created
//! mode 0600.
//!
//! With IKEv1 the ESP keys of a pair are logged when it is offered (QM 2) or installed, with
//! IKEv2 when its IKE_AUTH or CREATE_CHILD_SA completes; an IKEv2 SA's line (SPIs, SK_e and SK_a
//! of both directions, Wireshark's names of the algorithms) when IKE_SA_INIT (so that an IKE_AUTH
//! refused for a wrong key still decrypts) or an IKE SA rekey completes. The
//! `ikev2_decryption_table` has Wireshark's eight columns (Wireshark refuses more): the ESP of
//! the capture decrypts through `esp_sa`. The same lines with dmvpn's optional
//! ninth to eleventh columns (SK_d, SK_pi, SK_pr) go to `dmvpn_ikev2_decryption_table`, which
//! `dmvpn` reads for Child SA keys and for `sessions --psk`'s check of the AUTH payloads.

use dmvpn_isakmp::v2::crypto::SaKeys;
use dmvpn_proto::ike;
use dmvpn_proto::ikev2::PrfKeys;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The four files, open for appending.
pub(super) struct KeyLog {
    esp_sa: File,
    ikev1: File,
    ikev2: File,
    dmvpn_ikev2: File,
}

impl KeyLog {
    /// Opens (creating) `DIR/esp_sa`, `DIR/ikev1_decryption_table`,
    /// `DIR/ikev2_decryption_table` and `DIR/dmvpn_ikev2_decryption_table`.
    pub(super) fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let open = |name: &str| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(dir.join(name))
        };
        Ok(Self {
            esp_sa: open("esp_sa")?,
            ikev1: open("ikev1_decryption_table")?,
            ikev2: open("ikev2_decryption_table")?,
            dmvpn_ikev2: open(DMVPN_IKEV2_TABLE)?,
        })
    }

    /// One `esp_sa` line (`"IPv4","src","dst","0xSPI",…`).
    pub(super) fn esp_sa(&mut self, line: &str) -> io::Result<()> {
        append_line(&mut self.esp_sa, line)
    }

    /// The two `esp_sa` lines of a pair of SAs (inbound, then outbound; both are tried).
    pub(super) fn child_sa(&mut self, child: &ike::ChildSa) -> io::Result<()> {
        let (peer, local) = (child.peer, child.local);
        let inbound = self.esp_sa(&child.inbound.esp_sa_line(peer, local));
        let outbound = self.esp_sa(&child.outbound.esp_sa_line(local, peer));
        inbound.and(outbound)
    }

    /// One `ikev1_decryption_table` line (`<initiator cookie>,<encryption key>`).
    pub(super) fn ikev1(&mut self, line: &str) -> io::Result<()> {
        append_line(&mut self.ikev1, line)
    }

    /// An IKE SA's `ikev2_decryption_table` line ([`ikev2_line`]) and its
    /// `dmvpn_ikev2_decryption_table` line ([`dmvpn_ikev2_line`]).
    pub(super) fn ikev2(&mut self, keys: &SaKeys, prf_keys: &PrfKeys) -> io::Result<()> {
        append_line(&mut self.ikev2, &ikev2_line(keys))?;
        append_line(&mut self.dmvpn_ikev2, &dmvpn_ikev2_line(keys, prf_keys))
    }
}

/// The name of the key table with dmvpn's extra columns.
pub(crate) const DMVPN_IKEV2_TABLE: &str = "dmvpn_ikev2_decryption_table";

/// [`ikev2_line`] with dmvpn's ninth to eleventh columns: `…,SK_d,SK_pi,SK_pr` (hex). Contains
/// the keys.
pub(crate) fn dmvpn_ikev2_line(keys: &SaKeys, prf_keys: &PrfKeys) -> String {
    format!(
        "{},{},{},{}",
        ikev2_line(keys),
        prf_keys.sk_d.to_hex(),
        prf_keys.sk_pi.to_hex(),
        prf_keys.sk_pr.to_hex()
    )
}

/// The `ikev2_decryption_table` line of an IKE SA, in Wireshark's format:
/// `SPIi,SPIr,SK_ei,SK_er,"encryption",SK_ai,SK_ar,"integrity"` (hex unquoted, the algorithms by
/// Wireshark's names, quoted). Contains the keys.
pub(crate) fn ikev2_line(keys: &SaKeys) -> String {
    let spi = |s: &[u8; 8]| format!("{:016x}", u64::from_be_bytes(*s));
    format!(
        "{},{},{},{},\"{}\",{},{},\"{}\"",
        spi(&keys.initiator_spi),
        spi(&keys.responder_spi),
        keys.sk_ei.to_hex(),
        keys.sk_er.to_hex(),
        keys.encryption,
        keys.sk_ai.to_hex(),
        keys.sk_ar.to_hex(),
        keys.integrity
    )
}

/// Appends `line` and its newline in one `write` (the file is opened with `O_APPEND`), so the
/// lines of several routers sharing one key-log directory (as in `tools/lab/router_lab.sh`) never
/// interleave.
fn append_line(file: &mut File, line: &str) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    file.write_all(&bytes)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use dmvpn_isakmp::v2::Message;
    use dmvpn_isakmp::v2::crypto::Icv;
    use dmvpn_proto::ikev2;
    use dmvpn_proto::router::Event;

    use super::*;
    use crate::show::tests::{HUB, SPOKE, ikev2_cloud};

    /// The lines a router running IKEv2 writes, read back by `dmvpn`'s key readers, open every
    /// encrypted IKE message of the (simulated) wire between a hub and a spoke and name the SA
    /// of every ESP packet; the files are mode 0600.
    #[test]
    fn ikev2_lines_decrypt_the_wire() {
        use std::os::unix::fs::PermissionsExt;
        let mut cloud = ikev2_cloud();
        let dir = std::env::temp_dir().join(format!("keylog-ikev2-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut log = KeyLog::open(&dir).unwrap();
        // What `io::Router::event` writes: the IKE SA's line at IKE_AUTH, both ESP SAs at
        // installation, each router for itself into one shared directory (as the lab does).
        for member in &cloud.members {
            for (_, event) in &member.events {
                match event {
                    Event::Ikev2(ikev2::Event::Keyed { keys, prf_keys, .. }) => {
                        log.ikev2(keys, prf_keys).unwrap();
                    }
                    Event::SaInstalled(child) => {
                        let (peer, local) = (child.peer, child.local);
                        log.esp_sa(&child.inbound.esp_sa_line(peer, local)).unwrap();
                        log.esp_sa(&child.outbound.esp_sa_line(local, peer))
                            .unwrap();
                    }
                    _ => {}
                }
            }
        }
        drop(log);
        let mode = std::fs::metadata(dir.join("ikev2_decryption_table")).unwrap();
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
        let table = std::fs::read_to_string(dir.join("ikev2_decryption_table")).unwrap();
        let (keys, warnings) = dmvpn::keys::parse_ikev2_decryption_table(&table, None).unwrap();
        assert_eq!(
            (keys.len(), warnings.len()),
            (2, 0),
            "hub and spoke: {table}"
        );
        assert_eq!(keys[0], keys[1], "both ends log the same SA");
        let esp =
            dmvpn::keys::EspKeys::parse(&std::fs::read_to_string(dir.join("esp_sa")).unwrap())
                .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        let tap = cloud.tap.take().unwrap();
        let (mut ike_opened, mut esp_with_keys) = (0, 0);
        for packet in &tap {
            match packet.protocol {
                17 => {
                    let message = Message::parse(&packet.bytes[8..]).unwrap();
                    if let Some(inner) = message.decrypt(&keys[0].keys) {
                        assert_eq!(inner.unwrap().decrypted.icv, Icv::Good);
                        ike_opened += 1;
                    }
                }
                // (that these lines decrypt the ESP: tests/simulate_pcap.rs, same formatter)
                50 => {
                    let (from, to) = (IpAddr::V4(packet.from), IpAddr::V4(packet.to));
                    let spi = u32::from_be_bytes(packet.bytes[..4].try_into().unwrap());
                    assert!(
                        esp.find(from, to, spi).is_some(),
                        "no esp_sa line for {spi:#x}"
                    );
                    esp_with_keys += 1;
                }
                other => panic!("protocol {other} in the clear between {HUB} and {SPOKE}"),
            }
        }
        assert!(
            ike_opened >= 2,
            "IKE_AUTH request and response: {ike_opened}"
        );
        assert!(
            esp_with_keys >= 2,
            "the NHRP registration and its reply: {esp_with_keys}"
        );
    }

    /// Wireshark's format: 16 hex digits per SPI, keys in hex, the algorithms quoted.
    #[test]
    fn ikev2_line_format() {
        use dmvpn_isakmp::keys::Secret;
        use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
        let keys = SaKeys {
            initiator_spi: [0, 0, 0, 0, 0, 0, 0, 1],
            responder_spi: [0xab; 8],
            encryption: Encryption::AesCbc(128),
            sk_ei: Secret::from_slice(&[1; 16]),
            sk_er: Secret::from_slice(&[2; 16]),
            integrity: Integrity::HmacSha1_96,
            sk_ai: Secret::from_slice(&[3; 20]),
            sk_ar: Secret::from_slice(&[4; 20]),
        };
        assert_eq!(
            ikev2_line(&keys),
            format!(
                "0000000000000001,abababababababab,{},{},\"AES-CBC-128 [RFC3602]\",{},{},\"HMAC_SHA1_96 [RFC2404]\"",
                "01".repeat(16),
                "02".repeat(16),
                "03".repeat(20),
                "04".repeat(20)
            )
        );
    }
}
