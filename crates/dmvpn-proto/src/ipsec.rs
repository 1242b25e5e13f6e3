//! The IPsec databases of a DMVPN router (RFC 4301 §4.4): the policy database ([`Spd`]) that
//! says "protect GRE between these NBMA addresses", and the SA database ([`Sad`]) that holds the
//! ESP crate's prepared [`Sa`]s with their anti-replay windows, outbound sequence numbers and
//! lifetimes.
//!
//! - **Outbound** ([`Sad::protect`]): the SA for (local, remote) NBMA addresses encrypts a GRE
//!   packet in transport mode (next header 47) with the next sequence number. Sequence numbers
//!   start at 1 and never cycle (RFC 4303 §3.3.3): the SA ends after number 2^32 − 1 (without
//!   ESN).
//! - **Inbound** ([`Sad::unprotect`]): the SA is found by SPI and destination
//!   ([`SaTable`]); [`Inbound`] checks the replay window, verifies the ICV and decrypts, in that
//!   order (RFC 4303 §3.4).
//! - **Lifetimes** (RFC 4301 §4.4.2.1): each SA has optional soft and hard limits by time and by
//!   bytes (the payload bytes protected or accepted, as IOS counts its kilobyte lifetime). The
//!   soft limit raises [`SaEvent::SoftExpired`] once, for the key exchange to rekey; the hard
//!   limit removes the SA and raises [`SaEvent::HardExpired`]. A packet that crosses the hard
//!   byte limit is still processed; the next one finds no SA.
//!
//! The IVs come from the caller (random for CBC, unique for GCM), like every random input of the
//! machines.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_esp::{
    DecryptError, Decrypted, Destination, EncryptError, Inbound, NextHeader, Sa, SaTable,
};

use crate::time::{Duration, Instant};
use crate::timer::TimerTable;

/// IP protocol number of GRE.
pub const GRE: u8 = dmvpn_ip::IpProtocol::GRE.0;
/// IP protocol number of UDP (IKE on ports 500 and 4500).
pub const UDP: u8 = dmvpn_ip::IpProtocol::UDP.0;

/// What the SPD says to do with a packet (RFC 4301 §4.4.1).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Action {
    /// Send it in the clear.
    Bypass,
    /// Drop it.
    Discard,
    /// Protect it with ESP.
    Protect,
}

/// The traffic a policy covers; `None` matches anything.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Selector {
    /// The local NBMA address.
    pub local: Option<Ipv4Addr>,
    /// The remote NBMA address.
    pub remote: Option<Ipv4Addr>,
    /// The IP protocol.
    pub protocol: Option<u8>,
}

impl Selector {
    /// Whether the selector covers a packet between `local` and `remote` carrying `protocol`.
    #[must_use]
    pub fn matches(&self, local: Ipv4Addr, remote: Ipv4Addr, protocol: u8) -> bool {
        self.local.is_none_or(|a| a == local)
            && self.remote.is_none_or(|a| a == remote)
            && self.protocol.is_none_or(|p| p == protocol)
    }
}

/// One SPD entry.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Policy {
    /// The traffic.
    pub selector: Selector,
    /// What to do with it.
    pub action: Action,
}

/// The security policy database: ordered policies, first match wins, and anything unmatched is
/// discarded (RFC 4301 §4.4.1).
#[derive(Clone, Debug, Default)]
pub struct Spd {
    policies: Vec<Policy>,
}

impl Spd {
    /// An empty SPD (which discards everything).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            policies: Vec::new(),
        }
    }

    /// What `tunnel protection ipsec profile` sets up on a router whose NBMA address is
    /// `local`: IKE (UDP) in the clear, GRE to and from any peer protected, nothing else.
    #[must_use]
    pub fn dmvpn(local: Ipv4Addr) -> Self {
        let mut spd = Self::new();
        spd.push(Policy {
            selector: Selector {
                local: Some(local),
                remote: None,
                protocol: Some(UDP),
            },
            action: Action::Bypass,
        });
        spd.push(Policy {
            selector: Selector {
                local: Some(local),
                remote: None,
                protocol: Some(GRE),
            },
            action: Action::Protect,
        });
        spd
    }

    /// Appends a policy (lowest precedence so far).
    pub fn push(&mut self, policy: Policy) {
        self.policies.push(policy);
    }

    /// The policies in order.
    #[must_use]
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The action for a packet between `local` and `remote` carrying `protocol`.
    #[must_use]
    pub fn lookup(&self, local: Ipv4Addr, remote: Ipv4Addr, protocol: u8) -> Action {
        self.policies
            .iter()
            .find(|p| p.selector.matches(local, remote, protocol))
            .map_or(Action::Discard, |p| p.action)
    }
}

/// How long an SA pair replaced by a rekey lives on: the node's inbound SA still decrypts (the
/// peer seals under the old pair until it has the new one itself: a Quick Mode responder only
/// after the third message, which may be retransmitted), and IKE deletes the old pair after it.
pub const REKEY_OVERLAP: Duration = Duration::from_secs(10);

/// Soft and hard limits of an SA (RFC 4301 §4.4.2.1); `None` is no limit.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Lifetime {
    /// Time after installation at which to rekey.
    pub soft_time: Option<Duration>,
    /// Time after installation at which the SA is removed.
    pub hard_time: Option<Duration>,
    /// Bytes after which to rekey.
    pub soft_bytes: Option<u64>,
    /// Bytes after which the SA is removed.
    pub hard_bytes: Option<u64>,
}

impl Lifetime {
    /// IOS's defaults (`crypto ipsec security-association lifetime`): 3600 s and 4 608 000
    /// kilobytes, with the soft limits at 90 % (our choice; IOS rekeys shortly before expiry).
    #[must_use]
    pub const fn ios_default() -> Self {
        const BYTES: u64 = 4_608_000 * 1024;
        Self {
            soft_time: Some(Duration::from_secs(3240)),
            hard_time: Some(Duration::from_secs(3600)),
            soft_bytes: Some(BYTES / 10 * 9),
            hard_bytes: Some(BYTES),
        }
    }
}

/// Which side of the SAD an SA sits in, and how to find it.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub enum SaId {
    /// An inbound SA: its SPI and the local (destination) NBMA address.
    Inbound {
        /// The SPI.
        spi: u32,
        /// The destination address it is bound to.
        dst: Ipv4Addr,
    },
    /// The outbound SA between two NBMA addresses.
    Outbound {
        /// The local address.
        local: Ipv4Addr,
        /// The remote address.
        remote: Ipv4Addr,
        /// The SPI.
        spi: u32,
    },
}

/// Which limit was reached.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Limit {
    /// The time limit.
    Time,
    /// The byte limit.
    Bytes,
    /// The sequence numbers ran out (RFC 4303 §3.3.3).
    Sequence,
}

/// What the SAD reports.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum SaEvent {
    /// A soft limit was reached: rekey.
    SoftExpired {
        /// The SA.
        id: SaId,
        /// Which limit.
        limit: Limit,
    },
    /// A hard limit was reached: the SA is gone.
    HardExpired {
        /// The SA.
        id: SaId,
        /// Which limit.
        limit: Limit,
    },
}

/// Why the SAD could not protect or accept a packet.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SadError {
    /// No outbound SA between the two addresses.
    #[error("ipsec: no outbound sa from {local} to {remote}")]
    NoOutboundSa {
        /// The local address.
        local: Ipv4Addr,
        /// The remote address.
        remote: Ipv4Addr,
    },
    /// No inbound SA for the SPI and destination.
    #[error("ipsec: no inbound sa for spi {spi:#010x} to {dst}")]
    NoInboundSa {
        /// The SPI of the packet.
        spi: u32,
        /// Its destination.
        dst: Ipv4Addr,
    },
    /// The packet is too short to carry an SPI and sequence number.
    #[error("ipsec: esp packet of {len} bytes has no header")]
    Truncated {
        /// Its length.
        len: usize,
    },
    /// Decryption failed (including replays).
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// Encryption failed.
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
}

#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
enum Timer {
    Soft,
    Hard,
}

/// What an installed SA has done: when it was installed, the payload bytes and packets it has
/// protected or accepted, against its lifetime.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    installed_at: Instant,
    lifetime: Lifetime,
    bytes: u64,
    packets: u64,
    soft_fired: bool,
}

impl Usage {
    const fn new(now: Instant, lifetime: Lifetime) -> Self {
        Self {
            installed_at: now,
            lifetime,
            bytes: 0,
            packets: 0,
            soft_fired: false,
        }
    }

    /// When the SA was installed.
    #[must_use]
    pub const fn installed_at(&self) -> Instant {
        self.installed_at
    }

    /// Payload bytes protected (outbound) or accepted (inbound) so far.
    #[must_use]
    pub const fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Packets protected (outbound) or accepted (inbound) so far.
    #[must_use]
    pub const fn packets(&self) -> u64 {
        self.packets
    }

    /// Counts a packet and says which byte limit it reached, if any.
    fn count(&mut self, len: usize) -> Option<(Timer, Limit)> {
        self.bytes = self.bytes.saturating_add(len as u64);
        self.packets = self.packets.saturating_add(1);
        if self
            .lifetime
            .hard_bytes
            .is_some_and(|hard| self.bytes >= hard)
        {
            return Some((Timer::Hard, Limit::Bytes));
        }
        if !self.soft_fired
            && self
                .lifetime
                .soft_bytes
                .is_some_and(|soft| self.bytes >= soft)
        {
            self.soft_fired = true;
            return Some((Timer::Soft, Limit::Bytes));
        }
        None
    }
}

/// An outbound SA with its sequence counter.
#[derive(Debug)]
pub struct OutboundSa {
    sa: Sa,
    next_seq: u64,
    usage: Usage,
}

impl OutboundSa {
    /// The SA.
    #[must_use]
    pub fn sa(&self) -> &Sa {
        &self.sa
    }

    /// The sequence number the next packet gets.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// When it was installed and what it has protected.
    #[must_use]
    pub fn usage(&self) -> &Usage {
        &self.usage
    }
}

/// An inbound SA with its replay window.
#[derive(Debug)]
pub struct InboundSa {
    inbound: Inbound,
    usage: Usage,
}

impl InboundSa {
    /// The SA and its window.
    #[must_use]
    pub fn inbound(&self) -> &Inbound {
        &self.inbound
    }

    /// When it was installed and what it has accepted.
    #[must_use]
    pub fn usage(&self) -> &Usage {
        &self.usage
    }
}

/// The security association database.
#[derive(Debug, Default)]
pub struct Sad {
    inbound: SaTable<InboundSa>,
    outbound: BTreeMap<(Ipv4Addr, Ipv4Addr), OutboundSa>,
    timers: TimerTable<(SaId, Timer)>,
    events: VecDeque<SaEvent>,
}

impl Sad {
    /// An empty SAD.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs an inbound SA for packets to `dst`, replacing (and returning) one with the same
    /// SPI and destination.
    pub fn install_inbound(
        &mut self,
        now: Instant,
        dst: Ipv4Addr,
        sa: Sa,
        lifetime: Lifetime,
    ) -> Option<InboundSa> {
        let id = SaId::Inbound { spi: sa.spi(), dst };
        self.arm(id, now, lifetime);
        self.inbound.insert(
            sa.spi(),
            Destination::from(dst.octets()),
            InboundSa {
                inbound: Inbound::new(sa),
                usage: Usage::new(now, lifetime),
            },
        )
    }

    /// Installs the outbound SA from `local` to `remote` (sequence numbers from 1), replacing
    /// (and returning) the previous one, as a rekey does.
    pub fn install_outbound(
        &mut self,
        now: Instant,
        local: Ipv4Addr,
        remote: Ipv4Addr,
        sa: Sa,
        lifetime: Lifetime,
    ) -> Option<OutboundSa> {
        let id = SaId::Outbound {
            local,
            remote,
            spi: sa.spi(),
        };
        let old = self.outbound.insert(
            (local, remote),
            OutboundSa {
                sa,
                next_seq: 1,
                usage: Usage::new(now, lifetime),
            },
        );
        if let Some(old) = &old {
            self.disarm(SaId::Outbound {
                local,
                remote,
                spi: old.sa.spi(),
            });
        }
        self.arm(id, now, lifetime);
        old
    }

    /// Makes the outbound SA from `local` to `remote` go on from sequence number `next_seq` (if
    /// it is not past it already): an SA installed again from its keys must not send numbers
    /// its peer's replay window has seen. Returns whether there was such an SA.
    pub fn resume_outbound(&mut self, local: Ipv4Addr, remote: Ipv4Addr, next_seq: u64) -> bool {
        let Some(sa) = self.outbound.get_mut(&(local, remote)) else {
            return false;
        };
        sa.next_seq = sa.next_seq.max(next_seq);
        true
    }

    /// Removes an inbound SA (a Delete payload).
    pub fn remove_inbound(&mut self, spi: u32, dst: Ipv4Addr) -> Option<InboundSa> {
        self.disarm(SaId::Inbound { spi, dst });
        self.inbound.remove(spi, Destination::from(dst.octets()))
    }

    /// Keeps the inbound SA `spi` to `dst` only until `at` and stops reporting its soft limits:
    /// a rekey replaced it, and what the peer sealed under it before switching may still be on
    /// its way (RFC 4301 §4.4.2.1 leaves the overlap to the implementation; IOS keeps the old
    /// inbound SA for a while too). Returns whether there was such an SA.
    pub fn retire_inbound(&mut self, spi: u32, dst: Ipv4Addr, at: Instant) -> bool {
        let Some(entry) = self.inbound.get_mut(spi, Destination::from(dst.octets())) else {
            return false;
        };
        entry.usage.soft_fired = true;
        let id = SaId::Inbound { spi, dst };
        self.timers.stop((id, Timer::Soft));
        let hard = self.timers.get((id, Timer::Hard)).map_or(at, |h| h.min(at));
        self.timers.set((id, Timer::Hard), hard);
        true
    }

    /// Removes the outbound SA between two addresses.
    pub fn remove_outbound(&mut self, local: Ipv4Addr, remote: Ipv4Addr) -> Option<OutboundSa> {
        let old = self.outbound.remove(&(local, remote))?;
        self.disarm(SaId::Outbound {
            local,
            remote,
            spi: old.sa.spi(),
        });
        Some(old)
    }

    /// The outbound SA between two addresses.
    #[must_use]
    pub fn outbound(&self, local: Ipv4Addr, remote: Ipv4Addr) -> Option<&OutboundSa> {
        self.outbound.get(&(local, remote))
    }

    /// The inbound SA for an SPI and destination.
    #[must_use]
    pub fn inbound(&self, spi: u32, dst: Ipv4Addr) -> Option<&InboundSa> {
        self.inbound.get(spi, Destination::from(dst.octets()))
    }

    /// Encrypts the GRE packet `gre` from `local` to `remote` into `out` (the ESP packet, from
    /// the SPI to the ICV) with the caller's `iv`, and returns the sequence number used.
    ///
    /// # Errors
    /// [`SadError::NoOutboundSa`] when there is no SA (none was installed, or it expired), and
    /// [`SadError::Encrypt`] for an IV of the wrong length.
    pub fn protect(
        &mut self,
        local: Ipv4Addr,
        remote: Ipv4Addr,
        gre: &[u8],
        iv: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u64, SadError> {
        let entry = self
            .outbound
            .get_mut(&(local, remote))
            .ok_or(SadError::NoOutboundSa { local, remote })?;
        let seq = entry.next_seq;
        entry.sa.encrypt(seq, iv, NextHeader::GRE, gre, out)?;
        entry.next_seq = seq.saturating_add(1);
        let id = SaId::Outbound {
            local,
            remote,
            spi: entry.sa.spi(),
        };
        let last = if entry.sa.esn() {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        let reached = if seq >= last {
            Some((Timer::Hard, Limit::Sequence))
        } else {
            entry.usage.count(gre.len())
        };
        self.limit_reached(id, reached);
        Ok(seq)
    }

    /// Finds the SA of the ESP packet `packet` (from the SPI to the ICV) sent to `dst`, checks
    /// its replay window, verifies and decrypts it in place.
    ///
    /// # Errors
    /// [`SadError::Truncated`], [`SadError::NoInboundSa`], and [`SadError::Decrypt`] for a replay,
    /// a failed integrity check or bad padding (the window is then unchanged).
    pub fn unprotect<'b>(
        &mut self,
        dst: Ipv4Addr,
        packet: &'b mut [u8],
    ) -> Result<Decrypted<'b>, SadError> {
        let len = packet.len();
        let spi = dmvpn_esp::Packet::new_checked(&*packet)
            .map_err(|_| SadError::Truncated { len })?
            .spi();
        let entry = self
            .inbound
            .get_mut(spi, Destination::from(dst.octets()))
            .ok_or(SadError::NoInboundSa { spi, dst })?;
        let decrypted = entry.inbound.decrypt_in_place(packet)?;
        let id = SaId::Inbound { spi, dst };
        let reached = entry.usage.count(decrypted.payload.len());
        self.limit_reached(id, reached);
        Ok(decrypted)
    }

    /// Acts on the limit a packet of SA `id` reached, if any: a hard one removes the SA, a soft
    /// one is reported.
    fn limit_reached(&mut self, id: SaId, reached: Option<(Timer, Limit)>) {
        match reached {
            Some((Timer::Hard, limit)) => {
                self.remove(id);
                self.events.push_back(SaEvent::HardExpired { id, limit });
            }
            Some((Timer::Soft, limit)) => self.events.push_back(SaEvent::SoftExpired { id, limit }),
            None => {}
        }
    }

    /// Removes the SA `id` names; returns whether there was one.
    fn remove(&mut self, id: SaId) -> bool {
        match id {
            SaId::Inbound { spi, dst } => self.remove_inbound(spi, dst).is_some(),
            SaId::Outbound { local, remote, .. } => self.remove_outbound(local, remote).is_some(),
        }
    }

    /// Runs the time limits due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(((id, timer), _)) = self.timers.pop_expired(now) {
            match timer {
                Timer::Soft => {
                    let fired = match id {
                        SaId::Inbound { spi, dst } => self
                            .inbound
                            .get_mut(spi, Destination::from(dst.octets()))
                            .map(|e| &mut e.usage.soft_fired),
                        SaId::Outbound { local, remote, .. } => self
                            .outbound
                            .get_mut(&(local, remote))
                            .map(|e| &mut e.usage.soft_fired),
                    };
                    if let Some(fired) = fired
                        && !*fired
                    {
                        *fired = true;
                        self.events.push_back(SaEvent::SoftExpired {
                            id,
                            limit: Limit::Time,
                        });
                    }
                }
                Timer::Hard => {
                    if self.remove(id) {
                        self.events.push_back(SaEvent::HardExpired {
                            id,
                            limit: Limit::Time,
                        });
                    }
                }
            }
        }
    }

    /// When [`Sad::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<SaEvent> {
        self.events.pop_front()
    }

    fn arm(&mut self, id: SaId, now: Instant, lifetime: Lifetime) {
        self.disarm(id);
        if let Some(soft) = lifetime.soft_time {
            self.timers.set((id, Timer::Soft), now + soft);
        }
        if let Some(hard) = lifetime.hard_time {
            self.timers.set((id, Timer::Hard), now + hard);
        }
    }

    fn disarm(&mut self, id: SaId) {
        self.timers.stop((id, Timer::Soft));
        self.timers.stop((id, Timer::Hard));
    }
}

#[cfg(test)]
mod tests;
