//! What `--pcap OUT.pcapng --key-log DIR` writes: the simulated NBMA traffic as pcapng, one
//! interface per router (raw IPv4, `if_name` the router's name; each packet on the interface of
//! the router that sent it, with the source address the network carried, its NAT's outside
//! address for a router behind NAT), and the keys in Wireshark's `esp_sa` and
//! `ikev1_decryption_table` formats, the files `dmvpn --keys` and the live router's key log use.
//!
//! Virtual time 0 is written as 2026-01-01 00:00:00 UTC.

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use dmvpn_proto::Instant;
use dmvpn_proto::node::sim::{Tapped, ipv4_packet};

/// Unix time of virtual time 0 (2026-01-01 00:00:00 UTC).
pub const EPOCH: i64 = 1_767_225_600;

/// `LINKTYPE_RAW`: the packet begins with its IPv4 header.
const LINKTYPE_RAW: u16 = 101;

fn block(out: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let padded = body.len().div_ceil(4) * 4;
    let total = u32::try_from(padded + 12).map_err(io::Error::other)?;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&[0; 3][..padded - body.len()])?;
    out.write_all(&total.to_le_bytes())
}

fn option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&len.to_le_bytes());
    body.extend_from_slice(value.get(..usize::from(len)).unwrap_or_default());
    body.resize(body.len().div_ceil(4) * 4, 0);
}

/// Writes `packets` as a pcapng file at `path`, one interface per name of `routers` (a packet's
/// interface is its sender's index).
///
/// # Errors
///
/// The file's I/O errors.
pub fn write_pcapng(path: &Path, routers: &[String], packets: &[Tapped]) -> io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1A2B_3C4D_u32.to_le_bytes());
    shb.extend_from_slice(&1_u16.to_le_bytes());
    shb.extend_from_slice(&0_u16.to_le_bytes());
    shb.extend_from_slice(&(-1_i64).to_le_bytes());
    option(&mut shb, 4, b"dmvpn-router simulate");
    option(&mut shb, 0, &[]);
    block(&mut out, 0x0A0D_0D0A, &shb)?;
    for name in routers {
        let mut idb = Vec::new();
        idb.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        idb.extend_from_slice(&0_u16.to_le_bytes());
        idb.extend_from_slice(&65_535_u32.to_le_bytes());
        option(&mut idb, 2, name.as_bytes());
        option(&mut idb, 0, &[]);
        block(&mut out, 1, &idb)?;
    }
    for packet in packets {
        let frame = ipv4_packet(packet.from, packet.to, packet.protocol, &packet.bytes);
        let micros = EPOCH * 1_000_000 + (packet.at - Instant::ZERO).total_micros();
        let micros = u64::try_from(micros).unwrap_or(0);
        let len = u32::try_from(frame.len()).map_err(io::Error::other)?;
        let mut epb = Vec::with_capacity(frame.len() + 20);
        epb.extend_from_slice(&u32::try_from(packet.sender).unwrap_or(0).to_le_bytes());
        epb.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(micros as u32).to_le_bytes());
        epb.extend_from_slice(&len.to_le_bytes());
        epb.extend_from_slice(&len.to_le_bytes());
        epb.extend_from_slice(&frame);
        block(&mut out, 6, &epb)?;
    }
    out.flush()
}

/// The keys of a run, each line once, in the order they were made.
#[derive(Clone, Debug, Default)]
pub struct KeyLog {
    esp_sa: Vec<String>,
    ikev1: Vec<String>,
    ikev2: Vec<String>,
    /// The `ikev2` lines with dmvpn's SK_d, SK_pi and SK_pr columns.
    dmvpn_ikev2: Vec<String>,
    seen: BTreeSet<String>,
}

impl KeyLog {
    /// An `esp_sa` line.
    pub fn esp_sa(&mut self, line: String) {
        if self.seen.insert(line.clone()) {
            self.esp_sa.push(line);
        }
    }

    /// An `ikev1_decryption_table` line.
    pub fn ikev1(&mut self, line: String) {
        if self.seen.insert(line.clone()) {
            self.ikev1.push(line);
        }
    }

    /// An `ikev2_decryption_table` line.
    pub fn ikev2(&mut self, line: String) {
        if self.seen.insert(line.clone()) {
            self.ikev2.push(line);
        }
    }

    /// An IKE SA's keys: its `ikev2_decryption_table` line (Wireshark's eight columns) and its
    /// `dmvpn_ikev2_decryption_table` line (with SK_d, SK_pi and SK_pr).
    pub fn ikev2_sa(
        &mut self,
        keys: &dmvpn_isakmp::v2::crypto::SaKeys,
        prf_keys: &dmvpn_proto::ikev2::PrfKeys,
    ) {
        let line = crate::io::ikev2_line(keys);
        if self.seen.insert(line.clone()) {
            self.ikev2.push(line);
            self.dmvpn_ikev2
                .push(crate::io::dmvpn_ikev2_line(keys, prf_keys));
        }
    }

    /// The `esp_sa` lines (Wireshark's ESP SA table: addresses, SPI, algorithms, keys).
    #[must_use]
    pub fn esp_sa_lines(&self) -> &[String] {
        &self.esp_sa
    }

    /// How many lines of each: `esp_sa`, `ikev1_decryption_table`, `ikev2_decryption_table`.
    #[must_use]
    pub fn len(&self) -> (usize, usize, usize) {
        (self.esp_sa.len(), self.ikev1.len(), self.ikev2.len())
    }

    /// Writes `DIR/esp_sa`, `DIR/ikev1_decryption_table`, `DIR/ikev2_decryption_table` and
    /// `DIR/dmvpn_ikev2_decryption_table` (mode 0600: they hold keys).
    ///
    /// # Errors
    ///
    /// The files' I/O errors.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, lines) in [
            ("esp_sa", &self.esp_sa),
            ("ikev1_decryption_table", &self.ikev1),
            ("ikev2_decryption_table", &self.ikev2),
            (crate::io::DMVPN_IKEV2_TABLE, &self.dmvpn_ikev2),
        ] {
            let file = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .mode(0o600)
                .open(dir.join(name))?;
            let mut out = BufWriter::new(file);
            for line in lines {
                writeln!(out, "{line}")?;
            }
            out.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file is pcapng as tshark reads it: section, one interface per router, packets on
    /// their sender's interface with the outer IPv4 header.
    #[test]
    fn pcapng_layout() {
        let dir = std::env::temp_dir().join(format!("sim-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.pcapng");
        let packet = Tapped {
            at: Instant::ZERO + dmvpn_proto::Duration::from_millis(1500),
            sender: 1,
            from: "100.1.2.2".parse().unwrap(),
            to: "100.1.1.1".parse().unwrap(),
            protocol: 50,
            bytes: vec![0, 0, 0x10, 1, 0, 0, 0, 1, 0xAA],
            dropped: false,
        };
        write_pcapng(&path, &["R1".into(), "R2".into()], &[packet]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..4], &[0x0A, 0x0D, 0x0D, 0x0A]);
        let shb_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        let idb = &bytes[shb_len..];
        assert_eq!(u32::from_le_bytes(idb[..4].try_into().unwrap()), 1);
        assert_eq!(u16::from_le_bytes(idb[8..10].try_into().unwrap()), 101);
        let idb_len = u32::from_le_bytes(idb[4..8].try_into().unwrap()) as usize;
        let epb = &idb[2 * idb_len..];
        assert_eq!(u32::from_le_bytes(epb[..4].try_into().unwrap()), 6);
        assert_eq!(u32::from_le_bytes(epb[8..12].try_into().unwrap()), 1);
        let caplen = u32::from_le_bytes(epb[20..24].try_into().unwrap());
        assert_eq!(caplen, 29, "20 bytes of IPv4 and 9 of ESP");
        assert_eq!(epb[28], 0x45);
        assert_eq!(epb[28 + 9], 50);
        let mut keys = KeyLog::default();
        keys.esp_sa("a".into());
        keys.esp_sa("a".into());
        keys.ikev1("b".into());
        keys.ikev2("c".into());
        assert_eq!(keys.len(), (1, 1, 1));
        keys.write(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("esp_sa")).unwrap(), "a\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
