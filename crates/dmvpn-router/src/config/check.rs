//! Semantic checks: commands that parse on their own but do not fit together, or that the
//! router cannot run.

use super::parse::{Origin, Origins};
use super::{Config, Diagnostic, ErrorKind, KeyringPeer, MulticastMap, Role, TunnelSource};

/// Turns an [`Origin`] into a [`Diagnostic`] at its line, if it has one.
struct Reporter<'a> {
    origins: &'a Origins,
    lines: Vec<&'a str>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Reporter<'_> {
    fn diagnostic(&self, origin: Option<Origin>, kind: ErrorKind) -> Diagnostic {
        match origin.and_then(|o| self.origins.get(o)) {
            Some(place) => Diagnostic {
                line: place.line,
                column: place.column,
                text: (self.lines.get(place.line - 1))
                    .map_or_else(String::new, |t| (*t).to_owned()),
                kind,
            },
            None => Diagnostic::unplaced(kind),
        }
    }

    fn error(&mut self, origin: impl Into<Option<Origin>>, kind: ErrorKind) {
        let diagnostic = self.diagnostic(origin.into(), kind);
        self.errors.push(diagnostic);
    }

    fn warning(&mut self, origin: impl Into<Option<Origin>>, kind: ErrorKind) {
        let diagnostic = self.diagnostic(origin.into(), kind);
        self.warnings.push(diagnostic);
    }
}

/// The semantic errors and warnings of `config`, placed with `origins` in `text`.
pub(super) fn check(
    config: &Config,
    origins: &Origins,
    text: &str,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut report = Reporter {
        origins,
        lines: text.lines().collect(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    tunnel(config, &mut report);
    crypto(config, &mut report);
    ikev2(config, &mut report);
    interfaces(config, &mut report);
    eigrp(config, &mut report);
    (report.errors, report.warnings)
}

fn tunnel(config: &Config, report: &mut Reporter<'_>) {
    let tunnels: Vec<usize> = (config.interfaces.iter().enumerate())
        .filter(|(_, i)| i.tunnel.is_some())
        .map(|(n, _)| n)
        .collect();
    if tunnels.len() != 1 {
        let count = tunnels.len();
        report.error(
            tunnels.get(1).map(|n| Origin::Interface(*n)),
            ErrorKind::TunnelCount { count },
        );
        return;
    }
    let Some(&index) = tunnels.first() else {
        return;
    };
    let Some(interface) = config.interfaces.get(index) else {
        return;
    };
    let Some(tunnel) = &interface.tunnel else {
        return;
    };
    let header = Origin::Interface(index);
    let block = || format!("interface {}", interface.name);

    if interface.address.is_none() {
        report.error(
            if interface.dhcp {
                Origin::Address(index)
            } else {
                header
            },
            ErrorKind::Missing {
                block: block(),
                command: "ip address",
            },
        );
    }
    match &tunnel.source {
        None => report.error(
            header,
            ErrorKind::Missing {
                block: block(),
                command: "tunnel source",
            },
        ),
        Some(TunnelSource::Interface(name)) => match config.interface(name) {
            None => report.error(
                Origin::TunnelSource(index),
                ErrorKind::undefined("tunnel source interface", name),
            ),
            Some(source) if source.tunnel.is_some() => report.error(
                Origin::TunnelSource(index),
                ErrorKind::undefined("non-tunnel interface", name),
            ),
            Some(source) if source.address.is_none() && !source.dhcp => report.error(
                Origin::TunnelSource(index),
                ErrorKind::Missing {
                    block: format!("interface {} (the tunnel source)", source.name),
                    command: "ip address",
                },
            ),
            Some(_) => {}
        },
        Some(TunnelSource::Address(_)) => {}
    }
    let multipoint = tunnel.is_multipoint();
    match (multipoint, tunnel.destination) {
        (true, Some(_)) => report.error(
            Origin::TunnelDestination(index),
            ErrorKind::Conflict {
                command: "tunnel destination",
                other: "tunnel mode gre multipoint",
            },
        ),
        (false, None) => report.error(
            header,
            ErrorKind::Missing {
                block: format!("{} (point-to-point gre)", block()),
                command: "tunnel destination",
            },
        ),
        _ => {}
    }
    if tunnel.nhrp.network_id.is_none() {
        report.error(
            header,
            ErrorKind::Missing {
                block: block(),
                command: "ip nhrp network-id",
            },
        );
    }
    let role = tunnel.role();
    if role == Role::Hub && !multipoint {
        report.error(header, ErrorKind::HubNotMultipoint);
    }
    if let Some(subnet) = interface.address {
        let outside = |what, address| ErrorKind::OutsideTunnel {
            what,
            address,
            network: subnet.network(),
            prefix: subnet.prefix_len(),
        };
        for (n, nhs) in tunnel.nhrp.nhs.iter().enumerate() {
            if !subnet.contains(nhs.address) {
                report.error(Origin::Nhs(index, n), outside("nhs", nhs.address));
            }
        }
        for (n, map) in tunnel.nhrp.maps.iter().enumerate() {
            if !subnet.contains(map.tunnel) {
                report.error(Origin::Map(index, n), outside("nhrp map", map.tunnel));
            }
        }
    }
    for (n, route) in config.routes.iter().enumerate() {
        if let Some(name) = &route.interface
            && config.interface(name).is_none()
            && !name.starts_with("Null")
        {
            report.error(
                Origin::Route(n),
                ErrorKind::undefined("ip route interface", name),
            );
        }
    }
    for (n, nhs) in tunnel.nhrp.nhs.iter().enumerate() {
        match (tunnel.nhs_nbma(nhs), tunnel.destination) {
            (None, _) => report.error(
                Origin::Nhs(index, n),
                ErrorKind::NhsWithoutNbma { nhs: nhs.address },
            ),
            (Some(nbma), Some(destination)) if !multipoint && nbma != destination => report.error(
                Origin::Nhs(index, n),
                ErrorKind::NhsNotDestination { nbma, destination },
            ),
            _ => {}
        }
    }
    let multicast = &tunnel.nhrp.multicast;
    match role {
        Role::Hub if !multicast.contains(&MulticastMap::Dynamic) => report.warning(
            header,
            ErrorKind::Missing {
                block: format!("{} (a hub: eigrp hellos reach no spoke)", block()),
                command: "ip nhrp map multicast dynamic",
            },
        ),
        Role::Spoke if multipoint && multicast.is_empty() => report.warning(
            header,
            ErrorKind::Missing {
                block: format!(
                    "{} (a multipoint spoke: eigrp hellos reach no hub)",
                    block()
                ),
                command: "ip nhrp map multicast",
            },
        ),
        _ => {}
    }
    let eigrp_commands = (tunnel.no_split_horizon.iter().enumerate())
        .map(|(n, asn)| (Origin::SplitHorizon(index, n), *asn))
        .chain(
            (tunnel.no_next_hop_self.iter().enumerate())
                .map(|(n, asn)| (Origin::NextHopSelf(index, n), *asn)),
        );
    for (origin, asn) in eigrp_commands {
        if !config.eigrp.iter().any(|e| e.asn == asn) {
            // IOS takes it; it does nothing.
            report.warning(origin, ErrorKind::NoSuchEigrp { asn });
        }
    }
    if tunnel.protection.is_some() {
        protection(config, index, report);
    }
    phases(config, index, report);
}

/// What IOS takes but makes no Phase 2/3 cloud: `ip nhrp redirect` on a spoke nobody hairpins
/// through, `ip nhrp shortcut` on a point-to-point tunnel or a hub, a spoke with `no ip
/// next-hop-self` (it has no spokes behind it), a Phase 2 hub that keeps next-hop-self.
fn phases(config: &Config, index: usize, report: &mut Reporter<'_>) {
    let Some(tunnel) = config.tunnel() else {
        return;
    };
    let phase = |command, why| ErrorKind::Phase { command, why };
    let role = tunnel.role();
    if tunnel.nhrp.redirect.is_some() && role == Role::Spoke {
        report.warning(
            Origin::Redirect(index),
            phase(
                "ip nhrp redirect",
                "on a spoke does nothing: no spoke-to-spoke traffic is forwarded through it (put it on the hub)",
            ),
        );
    }
    if tunnel.nhrp.shortcut {
        if !tunnel.is_multipoint() {
            report.warning(
                Origin::Shortcut(index),
                phase(
                    "ip nhrp shortcut",
                    "on a point-to-point tunnel cannot build a spoke-to-spoke tunnel (needs `tunnel mode gre multipoint`)",
                ),
            );
        } else if role == Role::Hub {
            report.warning(
                Origin::Shortcut(index),
                phase(
                    "ip nhrp shortcut",
                    "on a hub (no `ip nhrp nhs`) does nothing: it has no server to resolve through",
                ),
            );
        }
    }
    if role == Role::Hub {
        for (n, asn) in tunnel.no_next_hop_self.iter().enumerate() {
            if !tunnel.no_split_horizon.contains(asn) {
                report.warning(
                    Origin::NextHopSelf(index, n),
                    phase(
                        "no ip next-hop-self eigrp",
                        "without `no ip split-horizon eigrp` on the hub: the spokes never learn each other's routes",
                    ),
                );
            }
        }
    }
}

fn protection(config: &Config, index: usize, report: &mut Reporter<'_>) {
    let Some(tunnel) = config.tunnel() else {
        return;
    };
    let Some(name) = &tunnel.protection else {
        return;
    };
    match config.ipsec_profiles.iter().position(|p| &p.name == name) {
        None => report.error(
            Origin::Protection(index),
            ErrorKind::undefined("ipsec profile", name),
        ),
        Some(p) => {
            let profile = &config.ipsec_profiles[p];
            // (IKEv2: IOS's smart default, the transform set `default`)
            if profile.transform_sets.is_empty() && !profile.uses_default_transform_set() {
                report.error(
                    Origin::Profile(p),
                    ErrorKind::Missing {
                        block: format!("crypto ipsec profile {}", profile.name),
                        command: "set transform-set",
                    },
                );
            }
        }
    }
    if config.uses_ikev2() {
        ikev2_protection(config, index, report);
        return;
    }
    if config.isakmp_policies.is_empty() {
        report.error(Origin::Protection(index), ErrorKind::NoPolicy);
    }
    match tunnel.role() {
        Role::Spoke => {
            for (n, nhs) in tunnel.nhrp.nhs.iter().enumerate() {
                let Some(nbma) = tunnel.nhs_nbma(nhs) else {
                    continue;
                };
                if config.isakmp_key_for(nbma).is_none() {
                    report.error(Origin::Nhs(index, n), ErrorKind::NoKey { peer: nbma });
                }
            }
        }
        Role::Hub if config.isakmp_keys.is_empty() => report.error(
            Origin::Protection(index),
            ErrorKind::Missing {
                block: "the configuration (a protected hub)".to_owned(),
                command: "crypto isakmp key",
            },
        ),
        Role::Hub => {}
    }
}

/// A tunnel keyed with IKEv2: a proposal to offer from the NBMA address, and a keyring key for
/// every NHS (a spoke) or for some peer (a hub).
fn ikev2_protection(config: &Config, index: usize, report: &mut Reporter<'_>) {
    let Some(tunnel) = config.tunnel() else {
        return;
    };
    if let Some(local) = config.nbma_address()
        && config.ikev2_proposals_for(local).is_empty()
    {
        report.error(
            Origin::Protection(index),
            ErrorKind::NoIkev2Proposal { local },
        );
    }
    // (an undefined profile or keyring is reported by `ikev2`)
    let Some(keyring) = (config.ikev2_profile())
        .and_then(|p| p.keyring.as_ref())
        .and_then(|name| config.keyring(name))
    else {
        return;
    };
    let keyed = |peer: &KeyringPeer| peer.local_key.is_some() && peer.remote_key.is_some();
    match tunnel.role() {
        Role::Spoke => {
            for (n, nhs) in tunnel.nhrp.nhs.iter().enumerate() {
                let Some(nbma) = tunnel.nhs_nbma(nhs) else {
                    continue;
                };
                if !keyring.peer_for(nbma).is_some_and(keyed) {
                    report.error(
                        Origin::Nhs(index, n),
                        ErrorKind::NoKeyringKey {
                            peer: nbma,
                            keyring: keyring.name.clone(),
                        },
                    );
                }
            }
        }
        Role::Hub => {
            if !keyring
                .peers
                .iter()
                .any(|p| p.address.is_some() && keyed(p))
            {
                report.error(
                    Origin::Protection(index),
                    ErrorKind::Missing {
                        block: format!("crypto ikev2 keyring {} (a protected hub)", keyring.name),
                        command: "peer with an address and a pre-shared-key",
                    },
                );
            }
        }
    }
}

/// The IKEv2 blocks on their own and their references: what the tunnel's profile uses is an
/// error when incomplete or undefined; another block's problem, a warning (IOS takes it).
fn ikev2(config: &Config, report: &mut Reporter<'_>) {
    let used = config.protection().and_then(|p| p.ikev2_profile.as_ref());
    let used_keyring = config.ikev2_profile().and_then(|p| p.keyring.as_ref());
    for (p, profile) in config.ipsec_profiles.iter().enumerate() {
        if let Some(name) = &profile.ikev2_profile
            && !config.ikev2_profiles.iter().any(|x| &x.name == name)
        {
            report.error(
                Origin::ProfileIkev2(p),
                ErrorKind::undefined("ikev2 profile", name),
            );
        }
    }
    for (n, profile) in config.ikev2_profiles.iter().enumerate() {
        let in_use = used == Some(&profile.name);
        let mut report_one = |origin: Origin, kind: ErrorKind| {
            if in_use {
                report.error(origin, kind);
            } else {
                report.warning(origin, kind);
            }
        };
        let missing = |command| ErrorKind::Missing {
            block: format!("crypto ikev2 profile {}", profile.name),
            command,
        };
        let header = Origin::Ikev2Profile(n);
        if profile.match_remote.is_empty() {
            report_one(header, missing("match identity remote"));
        }
        if !profile.authentication_local {
            report_one(header, missing("authentication local pre-share"));
        }
        if !profile.authentication_remote {
            report_one(header, missing("authentication remote pre-share"));
        }
        match &profile.keyring {
            None => report_one(header, missing("keyring local")),
            Some(name) if config.keyring(name).is_none() => report_one(
                Origin::Ikev2ProfileKeyring(n),
                ErrorKind::undefined("ikev2 keyring", name),
            ),
            Some(_) => {}
        }
    }
    for (k, keyring) in config.keyrings.iter().enumerate() {
        let in_use = used_keyring == Some(&keyring.name);
        for (j, peer) in keyring.peers.iter().enumerate() {
            let missing = |command| ErrorKind::Missing {
                block: format!("crypto ikev2 keyring {} peer {}", keyring.name, peer.name),
                command,
            };
            let problem = match (&peer.local_key, &peer.remote_key) {
                (None, None) => Some((Origin::KeyringPeer(k, j), missing("pre-shared-key"))),
                (Some(_), None) => Some((
                    Origin::KeyringPeerKey(k, j),
                    missing("pre-shared-key remote"),
                )),
                (None, Some(_)) => Some((
                    Origin::KeyringPeerKey(k, j),
                    missing("pre-shared-key local"),
                )),
                (Some(a), Some(b)) if a != b => Some((
                    Origin::KeyringPeerKey(k, j),
                    ErrorKind::AsymmetricKey {
                        peer: peer.name.clone(),
                    },
                )),
                _ => None,
            };
            if let Some((origin, kind)) = problem {
                if in_use {
                    report.error(origin, kind);
                } else {
                    report.warning(origin, kind);
                }
            }
            if peer.address.is_none() {
                // A peer by `hostname` or `identity` only: never looked up by address here.
                report.warning(
                    Origin::KeyringPeer(k, j),
                    missing("address (the router finds keys by peer address)"),
                );
            }
        }
    }
    for (n, policy) in config.ikev2_policies.iter().enumerate() {
        if policy.proposals.is_empty() {
            report.error(
                Origin::Ikev2Policy(n),
                ErrorKind::Missing {
                    block: format!("crypto ikev2 policy {}", policy.name),
                    command: "proposal",
                },
            );
        }
        for (k, name) in policy.proposals.iter().enumerate() {
            if config.ikev2_proposal(name).is_none() {
                report.error(
                    Origin::Ikev2PolicyProposal(n, k),
                    ErrorKind::undefined("ikev2 proposal", name),
                );
            }
        }
    }
    for (n, proposal) in config.ikev2_proposals.iter().enumerate() {
        let command = if proposal.algorithms.encryption.is_empty() {
            "encryption"
        } else if proposal.algorithms.integrity.is_empty() {
            "integrity"
        } else if proposal.algorithms.groups.is_empty() {
            "group"
        } else {
            continue;
        };
        // IOS calls it incomplete and does not offer it.
        report.warning(
            Origin::Ikev2Proposal(n),
            ErrorKind::Missing {
                block: format!(
                    "crypto ikev2 proposal {} (incomplete: not offered)",
                    proposal.name
                ),
                command,
            },
        );
    }
}

fn crypto(config: &Config, report: &mut Reporter<'_>) {
    // A policy for certificates beside a pre-share one (another VPN of the router) is not
    // offered here; with none pre-share, IKE has nothing to offer.
    let any_pre_share = config.isakmp_policies.iter().any(|p| p.pre_share);
    for (n, policy) in config.isakmp_policies.iter().enumerate() {
        if !policy.pre_share {
            let kind = ErrorKind::NotPreShare {
                priority: policy.priority,
            };
            if any_pre_share {
                report.warning(Origin::Policy(n), kind);
            } else {
                report.error(Origin::Policy(n), kind);
            }
        }
    }
    for (p, profile) in config.ipsec_profiles.iter().enumerate() {
        for (n, name) in profile.transform_sets.iter().enumerate() {
            if config.transform_set(name).is_none() {
                report.error(
                    Origin::ProfileSet(p, n),
                    ErrorKind::undefined("transform-set", name),
                );
            }
        }
    }
}

fn interfaces(config: &Config, report: &mut Reporter<'_>) {
    for (n, interface) in config.interfaces.iter().enumerate() {
        let Some(address) = interface.address else {
            continue;
        };
        let earlier = config.interfaces.iter().take(n).find(|other| {
            other
                .address
                .is_some_and(|o| o.contains(address.network()) || address.contains(o.network()))
        });
        if let Some(other) = earlier {
            report.error(
                Origin::Address(n),
                ErrorKind::Overlap {
                    address: address.address,
                    prefix: address.prefix_len(),
                    other: other.name.clone(),
                },
            );
        }
    }
}

fn eigrp(config: &Config, report: &mut Reporter<'_>) {
    let Some(interface) = config.tunnel_interface() else {
        return;
    };
    let Some(address) = interface.address else {
        return;
    };
    for (n, eigrp) in config.eigrp.iter().enumerate() {
        if !eigrp.covers(address.address) {
            report.warning(
                Origin::Eigrp(n),
                ErrorKind::NotCovered {
                    asn: eigrp.asn,
                    interface: interface.name.clone(),
                    address: address.address,
                },
            );
        }
    }
}
