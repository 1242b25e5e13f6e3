//! A short human summary of a configuration, without secrets (what `dmvpn-router check` prints).

use core::fmt;

use dmvpn_isakmp::v2::crypto::Encryption;

use super::write::optional;
use super::{
    Cipher, Config, EspEncryption, EspIntegrity, EspMode, Hash, LocalIdentity, MulticastMap,
    Prefix, RemoteIdentity, TunnelSource,
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
            optional(f, interface.address)?;
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
                for set in config.profile_transform_sets(profile) {
                    write!(f, ", {} (", set.name)?;
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
                if profile.uses_default_transform_set() {
                    write!(f, " (IOS's default: no `set transform-set`)")?;
                }
                if let Some(group) = profile.pfs {
                    write!(f, ", pfs group {}", group.0)?;
                }
                writeln!(f)?;
                if let Some(name) = &profile.ikev2_profile {
                    ikev2(f, config, name)?;
                }
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
        for policy in (config.isakmp_policies.iter()).filter(|_| !config.uses_ikev2()) {
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
        for key in (config.isakmp_keys.iter()).filter(|_| !config.uses_ikev2()) {
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
            optional(f, route.interface.as_ref())?;
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

/// The IKEv2 part of the protection: the profile, the proposals offered from the NBMA address
/// (IOS's defaults spelled out), and the keyring's peers (keys by length only).
fn ikev2(f: &mut fmt::Formatter<'_>, config: &Config, name: &str) -> fmt::Result {
    let Some(profile) = config.ikev2_profiles.iter().find(|p| p.name == name) else {
        return writeln!(f, "  ikev2 profile {name} (not defined)");
    };
    write!(f, "  keyed by ikev2 profile {name}: identity ")?;
    match &profile.identity_local {
        Some(LocalIdentity::Address(address)) => write!(f, "address {address}")?,
        Some(LocalIdentity::Fqdn(fqdn)) => write!(f, "fqdn {fqdn}")?,
        None => write!(f, "the local address")?,
    }
    write!(f, ", peers matched by")?;
    for remote in &profile.match_remote {
        match remote {
            RemoteIdentity::Any => write!(f, " any")?,
            RemoteIdentity::Address(peer) => {
                // The mask in force, as the IKEv2 machine applies it (`0.0.0.0` alone is every
                // address); it is contiguous (the parser refuses others).
                let mask = peer.effective_mask();
                let prefix = Prefix::new(peer.address, mask.to_bits().count_ones() as u8);
                write!(f, " address {}/{}", prefix.addr(), prefix.prefix_len())?;
            }
            RemoteIdentity::Fqdn(fqdn) => write!(f, " fqdn {fqdn}")?,
        }
    }
    write!(f, ", ike sa lifetime {} s", profile.lifetime())?;
    if let Some(dpd) = profile.dpd {
        let kind = if dpd.on_demand {
            "on-demand"
        } else {
            "periodic"
        };
        write!(f, ", dpd {} s ({kind})", dpd.interval)?;
    }
    writeln!(f)?;
    if let Some(local) = config.nbma_address() {
        let proposals = config.ikev2_proposals_for(local);
        if config.ikev2_policies.is_empty() {
            writeln!(
                f,
                "  ikev2 policy default (IOS's: no `crypto ikev2 policy`)"
            )?;
        }
        for proposal in proposals {
            write!(f, "  ikev2 proposal {}:", proposal.name)?;
            for e in &proposal.algorithms.encryption {
                match e {
                    Encryption::TripleDes => write!(f, " 3des")?,
                    Encryption::AesCbc(bits) => write!(f, " aes-cbc-{bits}")?,
                    other => write!(f, " {other:?}")?,
                }
            }
            for i in &proposal.algorithms.integrity {
                write!(f, " {}", i.prf().map_or("?", super::ikev2::hmac_keyword))?;
            }
            f.write_str(", prf")?;
            for p in proposal.prfs() {
                write!(f, " {}", super::ikev2::hmac_keyword(p))?;
            }
            f.write_str(", group")?;
            for g in &proposal.algorithms.groups {
                write!(f, " {}", g.0)?;
            }
            writeln!(f)?;
        }
    }
    let Some(keyring) = profile.keyring.as_ref().and_then(|k| config.keyring(k)) else {
        return Ok(());
    };
    for peer in &keyring.peers {
        write!(f, "  ikev2 keyring {} peer {}", keyring.name, peer.name)?;
        if let Some(address) = peer.address {
            let mask = address.effective_mask();
            let prefix = Prefix::new(address.address, mask.to_bits().count_ones() as u8);
            write!(f, " for {}/{}", prefix.addr(), prefix.prefix_len())?;
        }
        match (&peer.local_key, &peer.remote_key) {
            (Some(local), Some(remote)) if local == remote => {
                write!(f, " ({} characters)", local.expose().chars().count())?;
            }
            (local, remote) => {
                let count = |k: &Option<super::Secret>| {
                    k.as_ref().map_or_else(
                        || "none".to_owned(),
                        |k| k.expose().chars().count().to_string(),
                    )
                };
                write!(
                    f,
                    " (local {}, remote {} characters)",
                    count(local),
                    count(remote)
                )?;
            }
        }
        writeln!(f)?;
    }
    Ok(())
}
