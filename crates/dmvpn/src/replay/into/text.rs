//! The timeline as text: one line per event of the machine, and a one-line description of
//! each packet it sent.

use std::fmt;

use dmvpn_eigrp as eigrp;
use dmvpn_gre as gre;
use dmvpn_nhrp as nhrp;
use dmvpn_proto::ike;
use dmvpn_proto::node::{self, Event};
use dmvpn_proto::router as machine;

use super::{EntryKind, Role, Timeline};
use crate::capture::ipv4::{self, ChecksumMode};

fn event_text(event: &Event) -> String {
    use dmvpn_proto::eigrp::{EigrpEvent as Eigrp, Event as Neighbor};
    use dmvpn_proto::nhrp::{ClientEvent, ServerEvent};
    match event {
        Event::NhrpServer(ServerEvent::Registered {
            tunnel,
            nbma,
            natted,
        }) => format!(
            "NHRP registration accepted: {tunnel} at {nbma}{}",
            if *natted { " (behind NAT)" } else { "" }
        ),
        Event::NhrpServer(ServerEvent::Refreshed { tunnel, nbma }) => {
            format!("NHRP registration refreshed: {tunnel} at {nbma}")
        }
        Event::NhrpServer(ServerEvent::Rejected { tunnel, from, code }) => {
            format!("NHRP registration refused: {tunnel} from {from}, {code:?}")
        }
        Event::NhrpServer(ServerEvent::Expired { tunnel, nbma }) => {
            format!("NHRP cache entry expired: {tunnel} at {nbma}")
        }
        Event::NhrpServer(ServerEvent::Resolved { target, code }) => {
            format!("NHRP resolution of {target} answered: {code:?}")
        }
        Event::NhrpServer(ServerEvent::ErrorIndicationSent { to, code }) => {
            format!("NHRP Error Indication sent to {to}: {code:?}")
        }
        Event::NhrpServer(ServerEvent::Purged { tunnel }) => {
            format!("NHRP cache entry purged: {tunnel}")
        }
        Event::Nhrp(ClientEvent::Registered {
            nhs, holding_time, ..
        }) => format!(
            "NHRP registered with {nhs}, holding time {} s",
            holding_time.total_micros() / 1_000_000
        ),
        Event::Nhrp(ClientEvent::Refreshed { nhs }) => {
            format!("NHRP registration with {nhs} refreshed")
        }
        Event::Nhrp(ClientEvent::RegistrationFailed { nhs, code }) => {
            format!("NHRP registration with {nhs} refused: {code:?}")
        }
        Event::Nhrp(ClientEvent::Expired { nhs }) => {
            format!("NHRP registration with {nhs} expired")
        }
        Event::Eigrp(Eigrp::Neighbor(Neighbor::NeighborUp { address, hold_time })) => format!(
            "EIGRP neighbour {address} up, hold {} s",
            hold_time.total_micros() / 1_000_000
        ),
        Event::Eigrp(Eigrp::Neighbor(Neighbor::NeighborDown { address, reason })) => {
            format!("EIGRP neighbour {address} down: {reason}")
        }
        Event::Eigrp(Eigrp::Neighbor(Neighbor::KValueMismatch { address, theirs })) => {
            format!("EIGRP neighbour {address}: K-value mismatch (theirs {theirs:?})")
        }
        Event::RouteAdded(route) => format!(
            "route added: {} {} {:?}",
            route.prefix,
            route
                .next_hop
                .map_or_else(|| "connected".to_owned(), |h| format!("via {h}")),
            route.source
        ),
        Event::RouteRemoved(route) => format!("route removed: {}", route.prefix),
        other => format!("{other:?}"),
    }
}

/// A one-line summary of an NBMA packet: GRE carrying NHRP, or IPv4 (EIGRP and others).
#[must_use]
pub fn describe(protocol: u8, payload: &[u8]) -> String {
    match protocol {
        47 => {
            let Ok(packet) = gre::Packet::new_checked(payload) else {
                return "GRE (malformed)".to_owned();
            };
            let Ok(header) = gre::Repr::parse(&packet) else {
                return "GRE (malformed)".to_owned();
            };
            let inner = packet.payload();
            match header.protocol.0 {
                0x2001 => nhrp::parse(inner).map_or_else(
                    |e| format!("NHRP (malformed: {e})"),
                    |repr| repr.to_string(),
                ),
                0x0800 => describe_inner(inner),
                other => format!("GRE protocol {other:#06x}"),
            }
        }
        node::PROTOCOL_ESP => {
            let spi = payload
                .get(..4)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            format!("ESP SPI {spi:#010x}")
        }
        17 => match payload.get(8..) {
            Some(message) if payload.get(2..4) == Some(&[0x01, 0xf4]) => describe_isakmp(message),
            _ => "UDP".to_owned(),
        },
        other => format!("IP protocol {other}"),
    }
}

fn describe_inner(packet: &[u8]) -> String {
    let Ok(ip) = ipv4::Packet::new_checked(packet) else {
        return "IPv4 (malformed)".to_owned();
    };
    let Ok(header) = ipv4::Repr::parse(&ip, ChecksumMode::Ignore) else {
        return "IPv4 (malformed)".to_owned();
    };
    if header.protocol.0 == 88 {
        let parsed = eigrp::Packet::new_checked(ip.payload())
            .and_then(|p| eigrp::Repr::parse(&p).map(|r| r.to_string()));
        return match parsed {
            Ok(text) => format!("{} > {}: {text}", header.src, header.dst),
            Err(error) => format!("EIGRP (malformed: {error})"),
        };
    }
    format!(
        "IPv4 {} > {} protocol {}",
        header.src, header.dst, header.protocol.0
    )
}

impl fmt::Display for Timeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.node;
        let role = match n.role {
            Role::Hub => "hub",
            Role::Spoke => "spoke",
        };
        write!(f, "{role} {} (tunnel {})", n.nbma, n.tunnel)?;
        if let Some((tunnel, nbma)) = n.nhs {
            write!(f, ", NHS {tunnel} at {nbma}")?;
        }
        if let Some(key) = n.gre_key {
            write!(f, ", tunnel key {key}")?;
        }
        if let Some(asn) = n.eigrp_as {
            write!(f, ", EIGRP AS {asn}")?;
            if !n.networks.is_empty() {
                write!(f, " ({})", n.networks.join(", "))?;
            }
        }
        writeln!(f, "; {} datagram(s) fed", self.fed)?;
        for entry in &self.entries {
            let frame = entry
                .frame
                .map_or_else(|| "timer".to_owned(), |n| format!("#{n}"));
            let secs = entry.time.as_secs_f64();
            match &entry.kind {
                EntryKind::Received { from, what } => {
                    writeln!(f, "{secs:10.6} {frame:>6} <- {from}: {what}")?
                }
                EntryKind::Sent { to, what } => {
                    writeln!(f, "{secs:10.6} {frame:>6} -> {to}: {what}")?
                }
                EntryKind::Event(text) => writeln!(f, "{secs:10.6} {frame:>6} ** {text}")?,
                EntryKind::Dropped(text) => writeln!(f, "{secs:10.6} {frame:>6} !! {text}")?,
            }
        }
        writeln!(f, "At the end of the capture:")?;
        if let Some(registered) = self.registered {
            writeln!(
                f,
                "  registered with the NHS: {}",
                if registered { "yes" } else { "no" }
            )?;
        }
        for entry in &self.registrations {
            writeln!(
                f,
                "  NHRP cache: {} at {}, expires in {} s",
                entry.tunnel, entry.nbma, entry.expires_in
            )?;
        }
        for neighbor in &self.neighbors {
            writeln!(f, "  EIGRP neighbour up: {neighbor}")?;
        }
        for route in &self.routes {
            writeln!(f, "  route: {route}")?;
        }
        for (reason, count) in &self.drops {
            writeln!(f, "  dropped ({reason}): {count}")?;
        }
        for sa in &self.ike_sas {
            writeln!(f, "  IKE SA: {sa}")?;
        }
        for sa in &self.ipsec_sas {
            writeln!(f, "  IPsec SA pair: {sa}")?;
        }
        if self.ike_refused > 0 {
            writeln!(
                f,
                "  ISAKMP messages refused: {} (an encrypted one cannot open: the machine's \
                 Diffie-Hellman value is its own, not the captured router's)",
                self.ike_refused
            )?;
        }
        for sa in &self.capture_ike {
            writeln!(f, "  IKE in the capture: {sa}")?;
        }
        Ok(())
    }
}

/// A one-line summary of an ISAKMP message: exchange, cookies, message ID, encryption.
#[must_use]
pub fn describe_isakmp(message: &[u8]) -> String {
    let Ok(packet) = dmvpn_isakmp::Packet::new_checked(message) else {
        return "ISAKMP (malformed)".to_owned();
    };
    let hex = |c: [u8; 8]| c.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut text = format!(
        "ISAKMP {} i-cookie {} r-cookie {}",
        packet.exchange_type(),
        hex(packet.initiator_cookie()),
        hex(packet.responder_cookie())
    );
    if packet.message_id() != 0 {
        text.push_str(&format!(" msgid {:#010x}", packet.message_id()));
    }
    if packet.flags().encryption() {
        text.push_str(" (encrypted)");
    }
    text
}

/// A line of the timeline for a router event.
pub(super) fn router_event_text(event: &machine::Event) -> String {
    use machine::Event as E;
    match event {
        E::Node(event) => event_text(event),
        E::Ike(ike::Event::Phase1Established {
            peer, role, suite, ..
        }) => format!(
            "IKE phase 1 with {peer} established ({role:?}, {:?} {:?} group {})",
            suite.encryption, suite.hash, suite.group.0
        ),
        E::Ike(ike::Event::Phase1Failed { peer, reason }) => {
            format!("IKE phase 1 with {peer} failed: {reason:?}")
        }
        E::Ike(ike::Event::Phase1Deleted { peer, reason, .. }) => {
            format!("IKE phase 1 with {peer} deleted: {reason:?}")
        }
        E::Ike(ike::Event::ChildOffered(child)) => format!(
            "IKE quick mode with {} offered: inbound spi {:#010x}, outbound spi {:#010x}",
            child.peer, child.inbound.spi, child.outbound.spi
        ),
        E::Ike(ike::Event::ChildFailed { peer, reason }) => {
            format!("IKE quick mode with {peer} failed: {reason:?}")
        }
        E::Ike(ike::Event::ChildDeleted {
            peer,
            inbound_spi,
            reason,
            ..
        }) => format!("IPsec SA with {peer} deleted: spi {inbound_spi:#010x} ({reason:?})"),
        E::Ike(ike::Event::PeerDown { peer }) => format!("IKE: DPD declared {peer} dead"),
        E::SaInstalled(child) => format!(
            "IPsec SA pair with {} installed: inbound spi {:#010x}, outbound spi {:#010x}, {}",
            child.peer, child.inbound.spi, child.outbound.spi, child.transform_set
        ),
        E::IkeStarted { peer } => format!("IKE: initiating Main Mode with {peer}"),
        E::IkeStartFailed { peer, error } => format!("IKE: cannot start with {peer}: {error}"),
        other => format!("{other:?}"),
    }
}
