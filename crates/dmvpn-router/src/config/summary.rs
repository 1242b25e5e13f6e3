//! A short human summary of a configuration, without secrets (what `dmvpn-router check` prints).

use core::fmt;

use super::{
    Cipher, Config, EspEncryption, EspIntegrity, EspMode, Hash, MulticastMap, Prefix, TunnelSource,
};

/// The summary of a [`Config`]: the role, the tunnel, NHRP, crypto and EIGRP, one line each.
/// Secrets show as their length only.
#[derive(Clone, Copy, Debug)]
pub struct Summary<'a>(pub &'a Config);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = self.0;
        if let Some(hostname) = &config.hostname {
            writeln!(f, "hostname {hostname}")?;
        }
        for interface in &config.interfaces {
            write!(f, "interface {}", interface.name)?;
            if let Some(address) = interface.address {
                write!(f, " {address}")?;
            }
            if interface.dhcp {
                write!(f, " (address by dhcp)")?;
            }
            if let Some(mtu) = interface.mtu {
                write!(f, ", ip mtu {mtu}")?;
            }
            if let Some(mss) = interface.adjust_mss {
                write!(f, ", tcp mss {mss}")?;
            }
            if interface.shutdown == Some(true) {
                write!(f, ", shutdown")?;
            }
            writeln!(f)?;
            let Some(tunnel) = &interface.tunnel else {
                continue;
            };
            let mode = if tunnel.is_multipoint() {
                "multipoint gre"
            } else {
                "point-to-point gre"
            };
            write!(f, "  {}, {mode}", tunnel.role())?;
            match &tunnel.source {
                Some(TunnelSource::Interface(name)) => write!(f, ", source {name}")?,
                Some(TunnelSource::Address(address)) => write!(f, ", source {address}")?,
                None => {}
            }
            if let Some(nbma) = config.nbma_address() {
                write!(f, " (nbma {nbma})")?;
            }
            if let Some(destination) = tunnel.destination {
                write!(f, ", destination {destination}")?;
            }
            if let Some(key) = tunnel.key {
                write!(f, ", gre key {key}")?;
            }
            writeln!(f)?;
            let nhrp = &tunnel.nhrp;
            write!(f, "  nhrp")?;
            if let Some(id) = nhrp.network_id {
                write!(f, " network-id {id}")?;
            }
            write!(f, ", holdtime {} s", nhrp.holdtime.unwrap_or(7200))?;
            if let Some(secret) = &nhrp.authentication {
                write!(
                    f,
                    ", authentication ({} characters)",
                    secret.expose().chars().count()
                )?;
            }
            for map in &nhrp.multicast {
                match map {
                    MulticastMap::Dynamic => write!(f, ", multicast to registered spokes")?,
                    MulticastMap::Nbma(nbma) => write!(f, ", multicast to {nbma}")?,
                }
            }
            writeln!(f)?;
            for nhs in &nhrp.nhs {
                match tunnel.nhs_nbma(nhs) {
                    Some(nbma) => writeln!(f, "  nhs {} at nbma {nbma}", nhs.address)?,
                    None => writeln!(f, "  nhs {} (nbma unknown)", nhs.address)?,
                }
            }
            for map in &nhrp.maps {
                writeln!(f, "  static map {} -> {}", map.tunnel, map.nbma)?;
            }
            if let Some(profile) = config.protection() {
                write!(f, "  protection: ipsec profile {}", profile.name)?;
                for name in &profile.transform_sets {
                    if let Some(set) = config.transform_set(name) {
                        write!(f, ", {name} (")?;
                        match set.encryption {
                            EspEncryption::Des => write!(f, "des")?,
                            EspEncryption::TripleDes => write!(f, "3des")?,
                            EspEncryption::Aes(bits) => write!(f, "aes-{bits}-cbc")?,
                            EspEncryption::Gcm(bits) => write!(f, "aes-{bits}-gcm")?,
                            EspEncryption::Null => write!(f, "null")?,
                        }
                        if let Some(integrity) = set.integrity {
                            f.write_str(match integrity {
                                EspIntegrity::Md5 => " hmac-md5-96",
                                EspIntegrity::Sha => " hmac-sha1-96",
                                EspIntegrity::Sha256 => " hmac-sha256-128",
                                EspIntegrity::Sha384 => " hmac-sha384-192",
                                EspIntegrity::Sha512 => " hmac-sha512-256",
                            })?;
                        }
                        let mode = match set.mode {
                            Some(EspMode::Transport) => "transport",
                            Some(EspMode::Tunnel) | None => "tunnel",
                        };
                        write!(f, ", {mode} mode)")?;
                    }
                }
                if let Some(group) = profile.pfs {
                    write!(f, ", pfs group {}", group.0)?;
                }
                writeln!(f)?;
            }
            for asn in &tunnel.no_split_horizon {
                writeln!(f, "  eigrp {asn}: split horizon off")?;
            }
            for asn in &tunnel.no_next_hop_self {
                writeln!(f, "  eigrp {asn}: next-hop-self off")?;
            }
            if let Some(timeout) = tunnel.nhrp.redirect {
                let timeout = timeout.unwrap_or(2);
                writeln!(f, "  nhrp redirect (phase 3 hub), timeout {timeout} s")?;
            }
            if tunnel.nhrp.shortcut {
                writeln!(f, "  nhrp shortcut (phase 3 spoke)")?;
            }
        }
        for policy in &config.isakmp_policies {
            let encryption = match policy.encryption() {
                Cipher::Des => "des".to_owned(),
                Cipher::TripleDes => "3des".to_owned(),
                Cipher::Aes128 => "aes-128".to_owned(),
                Cipher::Aes192 => "aes-192".to_owned(),
                Cipher::Aes256 => "aes-256".to_owned(),
            };
            let hash = match policy.hash() {
                Hash::Md5 => "md5",
                Hash::Sha1 => "sha1",
                Hash::Sha256 => "sha256",
            };
            writeln!(
                f,
                "isakmp policy {}: {encryption} {hash} group {} {}, lifetime {} s",
                policy.priority,
                policy.group().0,
                if policy.pre_share {
                    "pre-share"
                } else {
                    "rsa-sig"
                },
                policy.lifetime(),
            )?;
        }
        for key in &config.isakmp_keys {
            let mask = key.effective_mask();
            // The mask is contiguous (the parser refuses others).
            let peers = Prefix::new(key.address, mask.to_bits().count_ones() as u8);
            writeln!(
                f,
                "isakmp key for {}/{} ({} characters)",
                peers.addr(),
                peers.prefix_len(),
                key.key.expose().chars().count()
            )?;
        }
        for eigrp in &config.eigrp {
            write!(f, "eigrp {}:", eigrp.asn)?;
            for network in &eigrp.networks {
                write!(
                    f,
                    " network {} {}",
                    network.address,
                    network.effective_wildcard()
                )?;
            }
            if let Some(id) = eigrp.router_id {
                write!(f, ", router-id {id}")?;
            }
            if eigrp.auto_summary == Some(true) {
                write!(f, ", auto-summary")?;
            }
            writeln!(f)?;
        }
        let tunnel_routes: Vec<&super::IpRoute> = config.tunnel_routes().map(|(r, _)| r).collect();
        for route in &config.routes {
            write!(f, "ip route {}", route.prefix)?;
            if let Some(interface) = &route.interface {
                write!(f, " {interface}")?;
            }
            if let Some(hop) = route.next_hop {
                write!(f, " via {hop}")?;
            }
            let through = if tunnel_routes.contains(&route) {
                "through the tunnel"
            } else {
                "underlay, the host's"
            };
            writeln!(f, " ({through})")?;
        }
        Ok(())
    }
}
