//! The configuration written back as text, in the order and shape of IOS's
//! `show running-config`: what [`Config::parse`](super::Config::parse) reads to the same
//! [`Config`].

use core::fmt;

use dmvpn_isakmp::v2::crypto::Encryption;

use super::{
    Cipher, Config, EspEncryption, EspIntegrity, EspMode, Hash, Interface, LocalIdentity,
    MulticastMap, PeerAddress, RemoteIdentity, TunnelMode, TunnelSource,
};

/// Writes the configuration, secrets included, ending with `end`. Blocks are separated by `!`.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(hostname) = &self.hostname {
            writeln!(f, "hostname {hostname}\n!")?;
        }
        write_ikev2(f, self)?;
        for policy in &self.isakmp_policies {
            writeln!(f, "crypto isakmp policy {}", policy.priority)?;
            if let Some(encryption) = policy.encryption {
                match encryption {
                    Cipher::Des => writeln!(f, " encryption des")?,
                    Cipher::TripleDes => writeln!(f, " encryption 3des")?,
                    Cipher::Aes128 => writeln!(f, " encryption aes 128")?,
                    Cipher::Aes192 => writeln!(f, " encryption aes 192")?,
                    Cipher::Aes256 => writeln!(f, " encryption aes 256")?,
                }
            }
            if let Some(hash) = policy.hash {
                let name = match hash {
                    Hash::Md5 => "md5",
                    Hash::Sha1 => "sha",
                    Hash::Sha256 => "sha256",
                };
                writeln!(f, " hash {name}")?;
            }
            if policy.pre_share {
                writeln!(f, " authentication pre-share")?;
            }
            if let Some(group) = policy.group {
                writeln!(f, " group {}", group.0)?;
            }
            if let Some(lifetime) = policy.lifetime {
                writeln!(f, " lifetime {lifetime}")?;
            }
        }
        for key in &self.isakmp_keys {
            write!(
                f,
                "crypto isakmp key {} address {}",
                key.key.expose(),
                key.address
            )?;
            optional(f, key.mask)?;
            writeln!(f)?;
        }
        if let Some(n) = self.ike_in_negotiation_sa {
            writeln!(f, "crypto call admission limit ike in-negotiation-sa {n}")?;
        }
        if let Some(n) = self.ike_sa_limit {
            writeln!(f, "crypto call admission limit ike sa {n}")?;
        }
        if !self.isakmp_policies.is_empty() || !self.isakmp_keys.is_empty() {
            writeln!(f, "!")?;
        }
        for set in &self.transform_sets {
            write!(f, "crypto ipsec transform-set {} ", set.name)?;
            match set.encryption {
                EspEncryption::Des => f.write_str("esp-des")?,
                EspEncryption::TripleDes => f.write_str("esp-3des")?,
                EspEncryption::Aes(bits) => write!(f, "esp-aes {bits}")?,
                EspEncryption::Gcm(bits) => write!(f, "esp-gcm {bits}")?,
                EspEncryption::Null => f.write_str("esp-null")?,
            }
            if let Some(integrity) = set.integrity {
                f.write_str(match integrity {
                    EspIntegrity::Md5 => " esp-md5-hmac",
                    EspIntegrity::Sha => " esp-sha-hmac",
                    EspIntegrity::Sha256 => " esp-sha256-hmac",
                    EspIntegrity::Sha384 => " esp-sha384-hmac",
                    EspIntegrity::Sha512 => " esp-sha512-hmac",
                })?;
            }
            writeln!(f)?;
            if let Some(mode) = set.mode {
                let mode = match mode {
                    EspMode::Transport => "transport",
                    EspMode::Tunnel => "tunnel",
                };
                writeln!(f, " mode {mode}")?;
            }
        }
        if !self.transform_sets.is_empty() {
            writeln!(f, "!")?;
        }
        for profile in &self.ipsec_profiles {
            writeln!(f, "crypto ipsec profile {}", profile.name)?;
            if let Some(lifetime) = profile.lifetime {
                writeln!(f, " set security-association lifetime seconds {lifetime}")?;
            }
            if let Some(kb) = profile.lifetime_kilobytes {
                writeln!(f, " set security-association lifetime kilobytes {kb}")?;
            }
            if !profile.transform_sets.is_empty() {
                writeln!(f, " set transform-set {}", profile.transform_sets.join(" "))?;
            }
            if let Some(group) = profile.pfs {
                writeln!(f, " set pfs {}", pfs(group))?;
            }
            if let Some(name) = &profile.ikev2_profile {
                writeln!(f, " set ikev2-profile {name}")?;
            }
            writeln!(f, "!")?;
        }
        for interface in &self.interfaces {
            write_interface(f, interface)?;
            writeln!(f, "!")?;
        }
        for eigrp in &self.eigrp {
            writeln!(f, "router eigrp {}", eigrp.asn)?;
            for network in &eigrp.networks {
                write!(f, " network {}", network.address)?;
                optional(f, network.wildcard)?;
                writeln!(f)?;
            }
            match eigrp.auto_summary {
                Some(true) => writeln!(f, " auto-summary")?,
                Some(false) => writeln!(f, " no auto-summary")?,
                None => {}
            }
            if let Some(id) = eigrp.router_id {
                writeln!(f, " eigrp router-id {id}")?;
            }
            if let Some(limit) = eigrp.maximum_prefix {
                write!(f, " maximum-prefix {}", limit.max)?;
                optional(f, limit.threshold)?;
                if limit.warning_only {
                    write!(f, " warning-only")?;
                }
                writeln!(f)?;
            }
            writeln!(f, "!")?;
        }
        for route in &self.routes {
            let prefix = route.prefix;
            write!(f, "ip route {} {}", prefix.addr(), prefix.mask())?;
            optional(f, route.interface.as_ref())?;
            optional(f, route.next_hop)?;
            optional(f, route.distance)?;
            writeln!(f)?;
        }
        if !self.routes.is_empty() {
            writeln!(f, "!")?;
        }
        writeln!(f, "end")
    }
}

/// The `crypto ikev2` blocks, as IOS prints them: proposals, policies, keyrings, profiles.
fn write_ikev2(f: &mut fmt::Formatter<'_>, config: &Config) -> fmt::Result {
    for proposal in &config.ikev2_proposals {
        writeln!(f, "crypto ikev2 proposal {}", proposal.name)?;
        let algorithms = &proposal.algorithms;
        if !algorithms.encryption.is_empty() {
            f.write_str(" encryption")?;
            for e in &algorithms.encryption {
                f.write_str(match e {
                    Encryption::TripleDes => " 3des",
                    Encryption::AesCbc(192) => " aes-cbc-192",
                    Encryption::AesCbc(256) => " aes-cbc-256",
                    // The parser makes no other.
                    _ => " aes-cbc-128",
                })?;
            }
            writeln!(f)?;
        }
        if !algorithms.integrity.is_empty() {
            f.write_str(" integrity")?;
            for i in &algorithms.integrity {
                write!(f, " {}", i.prf().map_or("sha1", super::ikev2::hmac_keyword))?;
            }
            writeln!(f)?;
        }
        if !algorithms.prf.is_empty() {
            f.write_str(" prf")?;
            for p in &algorithms.prf {
                write!(f, " {}", super::ikev2::hmac_keyword(*p))?;
            }
            writeln!(f)?;
        }
        if !algorithms.groups.is_empty() {
            f.write_str(" group")?;
            for g in &algorithms.groups {
                write!(f, " {}", g.0)?;
            }
            writeln!(f)?;
        }
        writeln!(f, "!")?;
    }
    for policy in &config.ikev2_policies {
        writeln!(f, "crypto ikev2 policy {}", policy.name)?;
        for address in &policy.match_local {
            writeln!(f, " match address local {address}")?;
        }
        for name in &policy.proposals {
            writeln!(f, " proposal {name}")?;
        }
        writeln!(f, "!")?;
    }
    for keyring in &config.keyrings {
        writeln!(f, "crypto ikev2 keyring {}", keyring.name)?;
        for peer in &keyring.peers {
            writeln!(f, " peer {}", peer.name)?;
            if let Some(PeerAddress { address, mask }) = peer.address {
                write!(f, "  address {address}")?;
                optional(f, mask)?;
                writeln!(f)?;
            }
            match (&peer.local_key, &peer.remote_key) {
                (Some(local), Some(remote)) if local == remote => {
                    writeln!(f, "  pre-shared-key {}", key_text(local))?;
                }
                (local, remote) => {
                    if let Some(key) = local {
                        writeln!(f, "  pre-shared-key local {}", key_text(key))?;
                    }
                    if let Some(key) = remote {
                        writeln!(f, "  pre-shared-key remote {}", key_text(key))?;
                    }
                }
            }
            writeln!(f, " !")?;
        }
        writeln!(f, "!")?;
    }
    for profile in &config.ikev2_profiles {
        writeln!(f, "crypto ikev2 profile {}", profile.name)?;
        for remote in &profile.match_remote {
            match remote {
                RemoteIdentity::Any => writeln!(f, " match identity remote any")?,
                RemoteIdentity::Address(PeerAddress { address, mask }) => {
                    write!(f, " match identity remote address {address}")?;
                    optional(f, *mask)?;
                    writeln!(f)?;
                }
                RemoteIdentity::Fqdn(name) => writeln!(f, " match identity remote fqdn {name}")?,
            }
        }
        match &profile.identity_local {
            Some(LocalIdentity::Address(address)) => {
                writeln!(f, " identity local address {address}")?;
            }
            Some(LocalIdentity::Fqdn(name)) => writeln!(f, " identity local fqdn {name}")?,
            None => {}
        }
        if profile.authentication_remote {
            writeln!(f, " authentication remote pre-share")?;
        }
        if profile.authentication_local {
            writeln!(f, " authentication local pre-share")?;
        }
        if let Some(keyring) = &profile.keyring {
            writeln!(f, " keyring local {keyring}")?;
        }
        if let Some(lifetime) = profile.lifetime {
            writeln!(f, " lifetime {lifetime}")?;
        }
        if let Some(dpd) = profile.dpd {
            let kind = if dpd.on_demand {
                "on-demand"
            } else {
                "periodic"
            };
            writeln!(f, " dpd {} {} {kind}", dpd.interval, dpd.retry)?;
        }
        writeln!(f, "!")?;
    }
    if let Some(n) = config.ikev2_cookie_challenge {
        writeln!(f, "crypto ikev2 cookie-challenge {n}\n!")?;
    }
    Ok(())
}

/// A keyring key as written after `pre-shared-key [local|remote]`: with IOS's type `0` in front
/// when its first word would read as a keyword (`local`, `remote`, a type), so that it reads
/// back as the same key.
fn key_text(key: &super::Secret) -> String {
    let text = key.expose();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or_default();
    // (the parser's test: `pre-shared-key` reads a keyword or type only when a key follows)
    let keyword = first == "0"
        || first == "6"
        || matches!(
            super::grammar::lookup(first, &["local", "remote"], &[]),
            super::grammar::Match::Ours(_)
        );
    if keyword && words.next().is_some() {
        format!("0 {text}")
    } else {
        text.to_owned()
    }
}

fn pfs(group: dmvpn_isakmp::consts::Group) -> String {
    format!("group{}", group.0)
}

fn write_interface(f: &mut fmt::Formatter<'_>, interface: &Interface) -> fmt::Result {
    writeln!(f, "interface {}", interface.name)?;
    if let Some(description) = &interface.description {
        writeln!(f, " description {description}")?;
    }
    if let Some(address) = interface.address {
        writeln!(f, " ip address {} {}", address.address, address.mask)?;
    }
    if interface.dhcp {
        writeln!(f, " ip address dhcp")?;
    }
    if let Some(mtu) = interface.mtu {
        writeln!(f, " ip mtu {mtu}")?;
    }
    if let Some(tunnel) = &interface.tunnel {
        let nhrp = &tunnel.nhrp;
        if let Some(secret) = &nhrp.authentication {
            writeln!(f, " ip nhrp authentication {}", secret.expose())?;
        }
        for map in &nhrp.maps {
            writeln!(f, " ip nhrp map {} {}", map.tunnel, map.nbma)?;
        }
        for map in &nhrp.multicast {
            match map {
                MulticastMap::Dynamic => writeln!(f, " ip nhrp map multicast dynamic")?,
                MulticastMap::Nbma(nbma) => writeln!(f, " ip nhrp map multicast {nbma}")?,
            }
        }
        if let Some(id) = nhrp.network_id {
            writeln!(f, " ip nhrp network-id {id}")?;
        }
        if let Some(holdtime) = nhrp.holdtime {
            writeln!(f, " ip nhrp holdtime {holdtime}")?;
        }
        if let Some(timeout) = nhrp.registration_timeout {
            writeln!(f, " ip nhrp registration timeout {timeout}")?;
        }
        if nhrp.no_unique {
            writeln!(f, " ip nhrp registration no-unique")?;
        }
        match nhrp.redirect {
            Some(Some(timeout)) => writeln!(f, " ip nhrp redirect timeout {timeout}")?,
            Some(None) => writeln!(f, " ip nhrp redirect")?,
            None => {}
        }
        if nhrp.shortcut {
            writeln!(f, " ip nhrp shortcut")?;
        }
        for nhs in &nhrp.nhs {
            write!(f, " ip nhrp nhs {}", nhs.address)?;
            if let Some(nbma) = nhs.nbma {
                write!(f, " nbma {nbma}")?;
            }
            writeln!(f)?;
        }
    }
    if let Some(mss) = interface.adjust_mss {
        writeln!(f, " ip tcp adjust-mss {mss}")?;
    }
    if let Some(tunnel) = &interface.tunnel {
        for asn in &tunnel.no_split_horizon {
            writeln!(f, " no ip split-horizon eigrp {asn}")?;
        }
        for asn in &tunnel.no_next_hop_self {
            writeln!(f, " no ip next-hop-self eigrp {asn}")?;
        }
    }
    match interface.shutdown {
        Some(true) => writeln!(f, " shutdown")?,
        Some(false) => writeln!(f, " no shutdown")?,
        None => {}
    }
    if let Some(tunnel) = &interface.tunnel {
        match &tunnel.source {
            Some(TunnelSource::Interface(name)) => writeln!(f, " tunnel source {name}")?,
            Some(TunnelSource::Address(address)) => writeln!(f, " tunnel source {address}")?,
            None => {}
        }
        if let Some(destination) = tunnel.destination {
            writeln!(f, " tunnel destination {destination}")?;
        }
        match tunnel.mode {
            Some(TunnelMode::GreMultipoint) => writeln!(f, " tunnel mode gre multipoint")?,
            Some(TunnelMode::GreIp) => writeln!(f, " tunnel mode gre ip")?,
            None => {}
        }
        if let Some(key) = tunnel.key {
            writeln!(f, " tunnel key {key}")?;
        }
        if let Some(profile) = &tunnel.protection {
            writeln!(f, " tunnel protection ipsec profile {profile}")?;
        }
    }
    Ok(())
}

/// ` VALUE` after a command's words, when its optional value is there.
pub(super) fn optional(
    f: &mut fmt::Formatter<'_>,
    value: Option<impl fmt::Display>,
) -> fmt::Result {
    value.map_or(Ok(()), |value| write!(f, " {value}"))
}
