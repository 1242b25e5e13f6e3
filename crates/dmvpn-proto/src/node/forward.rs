//! The outbound data path: inner IPv4 packets through the tunnel (MSS clamping,
//! fragmentation or ICMP "fragmentation needed", multicast replication, NBMA resolution) into
//! GRE, ESP-protected when the SPD says so.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_ip::{icmp, ipv4, tcp};

use super::{DropReason, Node, PROTOCOL_ESP, Role, Transmit};
use crate::ipsec::{self, Action, SadError};

impl Node {
    /// Sends an inner IPv4 packet through the tunnel: TCP SYNs clamped to `ip tcp adjust-mss`;
    /// longer than `ip mtu`, fragmented (RFC 791), or with DF set dropped with an ICMP
    /// "fragmentation needed" (RFC 1191) back to its source, as IOS does.
    pub(super) fn route_out(&mut self, mut packet: Vec<u8>) {
        if let Some(mss) = self.config.tunnel.tcp_adjust_mss {
            tcp::clamp_mss(&mut ipv4::Packet::new_unchecked(&mut packet[..]), mss);
        }
        let Ok(ip) = ipv4::Packet::new_checked(&packet[..]) else {
            self.counters.drop(DropReason::MalformedIpv4);
            return;
        };
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        let mtu = self.config.tunnel.ip_mtu;
        if packet.len() > usize::from(mtu) {
            if ip.dont_frag() {
                self.counters.drop(DropReason::TooBig);
                self.send_frag_needed(&packet, src);
                return;
            }
            let Some(fragments) = ipv4::fragment(&ip, usize::from(mtu)) else {
                self.counters.drop(DropReason::TooBig);
                return;
            };
            self.counters.fragmented += 1;
            for fragment in fragments {
                self.send_routed(fragment, dst);
            }
            return;
        }
        self.send_routed(packet, dst);
    }

    /// Answers a packet too big for the tunnel with ICMP "fragmentation needed": back through
    /// the tunnel if its source is reached through it, else to the host (which routes it to the
    /// LAN the packet came from).
    fn send_frag_needed(&mut self, packet: &[u8], src: Ipv4Addr) {
        self.ip_id = self.ip_id.wrapping_add(1);
        let own = self.config.tunnel.address;
        let mtu = self.config.tunnel.ip_mtu;
        let Some(icmp) = ipv4::Packet::new_checked(packet)
            .ok()
            .and_then(|ip| icmp::frag_needed(own, &ip, mtu, self.ip_id))
        else {
            return;
        };
        self.counters.frag_needed_sent += 1;
        let through_tunnel = src != own
            && !self.is_local(src)
            && self
                .rib
                .lookup(src)
                .is_some_and(|route| route.next_hop != Some(own));
        if through_tunnel {
            // The reply goes back to the packet's source.
            self.send_routed(icmp, src);
        } else {
            self.deliver(icmp);
        }
    }

    /// Sends a packet that fits the tunnel: replicated if multicast, else to the NBMA address of
    /// its next hop.
    fn send_routed(&mut self, packet: Vec<u8>, dst: Ipv4Addr) {
        if dst.is_multicast() || dst.is_broadcast() {
            for nbma in self.multicast_nbma() {
                self.send_gre(nbma, dmvpn_gre::Protocol::IPV4, &packet);
            }
            return;
        }
        let first_nhs = self.config.nhrp.nhs.first().copied();
        let next_hop = match self.rib.lookup(dst) {
            Some(route) => route.next_hop.unwrap_or(dst),
            None => match first_nhs {
                Some(nhs) if self.config.role == Role::Spoke => nhs.tunnel,
                _ => {
                    self.counters.drop(DropReason::NoRoute);
                    return;
                }
            },
        };
        // Phase 3: a shortcut as specific as the route wins; Phase 2: the route's next hop is
        // another spoke, resolved through the NHS.
        let mut nbma = self.shortcut_nbma(dst).or_else(|| self.resolve(next_hop));
        if nbma.is_none() {
            nbma = self.resolve_next_hop(next_hop);
        }
        let nbma = nbma.or_else(|| {
            // Phase 1 (and a shortcut not ready yet): a spoke sends what it cannot map to the
            // hub, which forwards it.
            first_nhs
                .filter(|_| self.config.role == Role::Spoke)
                .map(|nhs| nhs.nbma)
        });
        match nbma {
            Some(nbma) => self.send_gre(nbma, dmvpn_gre::Protocol::IPV4, &packet),
            None => self.counters.drop(DropReason::NoMapping),
        }
    }

    /// Encapsulates `payload` in GRE and sends it to `nbma`, ESP-protected if the SPD says so.
    pub(super) fn send_gre(
        &mut self,
        nbma: Ipv4Addr,
        protocol: dmvpn_gre::Protocol,
        payload: &[u8],
    ) {
        let header = dmvpn_gre::Repr {
            protocol,
            checksum: false,
            key: self.config.tunnel.key,
            sequence: None,
        };
        let mut gre = alloc::vec![0; header.buffer_len() + payload.len()];
        header.emit_with_payload(&mut dmvpn_gre::Packet::new_unchecked(&mut gre[..]), payload);
        let local = self.config.tunnel.nbma;
        let action = self
            .spd
            .as_ref()
            .map_or(Action::Bypass, |spd| spd.lookup(local, nbma, ipsec::GRE));
        match action {
            Action::Bypass => self.transmit(Transmit {
                to: nbma,
                protocol: ipsec::GRE,
                bytes: gre,
            }),
            Action::Discard => self.counters.drop(DropReason::NoOutboundSa),
            Action::Protect => {
                let Some(iv_len) = self.sad.outbound(local, nbma).map(|sa| sa.sa().iv_len()) else {
                    self.counters.drop(DropReason::NoOutboundSa);
                    return;
                };
                let mut iv = [0; 16];
                let iv = iv.get_mut(..iv_len).unwrap_or_default();
                self.entropy.fill(iv);
                let mut out = Vec::new();
                match self.sad.protect(local, nbma, &gre, iv, &mut out) {
                    Ok(_) => {
                        self.counters.esp_out += 1;
                        self.transmit(Transmit {
                            to: nbma,
                            protocol: PROTOCOL_ESP,
                            bytes: out,
                        });
                    }
                    Err(SadError::NoOutboundSa { .. }) => {
                        self.counters.drop(DropReason::NoOutboundSa);
                    }
                    Err(_) => self.counters.drop(DropReason::EspEncrypt),
                }
            }
        }
    }
}
