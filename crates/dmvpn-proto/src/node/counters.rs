//! Why the node drops packets, and what it counts.

use crate::eigrp;

/// Why a packet was dropped (the counters of [`Counters::drops`]).
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
#[non_exhaustive]
pub enum DropReason {
    /// An NBMA packet of an IP protocol the node does not take.
    UnknownProtocol,
    /// A GRE header that does not parse (version, routing, checksum, length).
    MalformedGre,
    /// A GRE packet without the configured `tunnel key`, or with another.
    GreKeyMismatch,
    /// A GRE payload that is neither IPv4 nor NHRP.
    GreProtocol,
    /// GRE in the clear with `tunnel protection` on.
    CleartextGre,
    /// ESP without IPsec configured.
    EspNotConfigured,
    /// ESP with an SPI no inbound SA has (IOS: `%CRYPTO-4-RECVD_PKT_INV_SPI`).
    NoInboundSa,
    /// ESP whose SA belongs to another peer.
    EspWrongPeer,
    /// ESP that failed the integrity check, or had bad padding.
    EspIntegrity,
    /// ESP replayed, or older than the window (IOS: `%CRYPTO-4-PKT_REPLAY_ERR`).
    EspReplay,
    /// ESP that does not carry GRE.
    EspNotGre,
    /// An NHRP packet that does not parse or has a bad checksum.
    MalformedNhrp,
    /// An NHRP packet the client or server refused (see [`Counters::last_nhrp_error`]).
    NhrpRefused,
    /// An EIGRP packet that does not parse or has a bad checksum.
    MalformedEigrp,
    /// An EIGRP packet the process ignored (see [`Counters::last_eigrp_error`]).
    EigrpRefused,
    /// An inner IPv4 packet that does not parse.
    MalformedIpv4,
    /// No route through the tunnel (a hub has no default to send to).
    NoRoute,
    /// A next hop with no NBMA mapping (a spoke that is not registered).
    NoMapping,
    /// No outbound SA to the peer (IOS drops the packets while IKE runs).
    NoOutboundSa,
    /// Encryption failed (the SA ran out of sequence numbers).
    EspEncrypt,
    /// A forwarded packet's TTL ran out.
    TtlExpired,
    /// A packet longer than `ip mtu` with Don't Fragment set (an ICMP "fragmentation needed"
    /// goes back to its source), or one that cannot be fragmented.
    TooBig,
    /// An output queue was full.
    QueueFull,
    /// A UDP datagram that is not IKE, or IKE while IKE is not available.
    Ike,
}

impl DropReason {
    /// Every reason, in declaration order.
    pub const ALL: [Self; 24] = [
        Self::UnknownProtocol,
        Self::MalformedGre,
        Self::GreKeyMismatch,
        Self::GreProtocol,
        Self::CleartextGre,
        Self::EspNotConfigured,
        Self::NoInboundSa,
        Self::EspWrongPeer,
        Self::EspIntegrity,
        Self::EspReplay,
        Self::EspNotGre,
        Self::MalformedNhrp,
        Self::NhrpRefused,
        Self::MalformedEigrp,
        Self::EigrpRefused,
        Self::MalformedIpv4,
        Self::NoRoute,
        Self::NoMapping,
        Self::NoOutboundSa,
        Self::EspEncrypt,
        Self::TtlExpired,
        Self::TooBig,
        Self::QueueFull,
        Self::Ike,
    ];

    const fn index(self) -> usize {
        self as usize
    }
}

/// Packet counters.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Counters {
    /// NBMA packets received.
    pub nbma_in: u64,
    /// NBMA packets queued for sending.
    pub nbma_out: u64,
    /// Packets from the host (TUN) taken.
    pub tunnel_in: u64,
    /// Packets queued for the host.
    pub delivered: u64,
    /// Packets forwarded from the tunnel to the tunnel (hub hairpin).
    pub forwarded: u64,
    /// ESP packets decrypted.
    pub esp_in: u64,
    /// ESP packets encrypted.
    pub esp_out: u64,
    /// Packets longer than `ip mtu` sent as fragments (DF clear).
    pub fragmented: u64,
    /// ICMP "fragmentation needed" sent for packets longer than `ip mtu` with DF set.
    pub frag_needed_sent: u64,
    /// Events refused by a full queue.
    pub events_lost: u64,
    /// The latest NHRP refusal.
    pub last_nhrp_error: Option<crate::nhrp::Error>,
    /// The latest EIGRP refusal.
    pub last_eigrp_error: Option<eigrp::Error>,
    drops: [u64; DropReason::ALL.len()],
}

impl Counters {
    /// Packets dropped for `reason`.
    #[must_use]
    pub fn drops(&self, reason: DropReason) -> u64 {
        self.drops.get(reason.index()).copied().unwrap_or(0)
    }

    /// Packets dropped for any reason.
    #[must_use]
    pub fn total_drops(&self) -> u64 {
        self.drops.iter().sum()
    }

    /// The reasons with a non-zero count.
    pub fn nonzero_drops(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL
            .iter()
            .map(|&r| (r, self.drops(r)))
            .filter(|&(_, n)| n > 0)
    }

    pub(super) fn drop(&mut self, reason: DropReason) {
        if let Some(n) = self.drops.get_mut(reason.index()) {
            *n = n.saturating_add(1);
        }
    }
}
