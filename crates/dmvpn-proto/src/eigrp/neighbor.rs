//! Neighbour discovery (RFC 7868 §5.3.1, §5.3.5): Hellos out on a timer, Hellos in create and
//! keep neighbours, hold timers remove them.
//!
//! - **Hellos** are sent every `hello_interval` (5 s by default, as IOS on a tunnel) to
//!   224.0.0.10, with the Parameters TLV (K values and this router's hold time), the Software
//!   Version TLV and, for a stub, the Stub TLV. On a hub the caller replicates them to every
//!   NBMA address of the NHRP multicast map.
//! - **A Hello in** from an unknown address, in our autonomous system and with our K1–K5,
//!   makes a neighbour ([`Event::NeighborUp`]). K6 is not compared, as FRR does (IOS classic
//!   mode has no K6). IOS declares the adjacency only after the INIT Update exchange of the
//!   reliable transport, which is not implemented yet: here "up" means "Hellos agree".
//! - **Hold timer.** Each neighbour lives for the hold time *it* announced, restarted by every
//!   packet it sends (RFC 7868 §5.3.1); when it runs out the neighbour goes down.
//! - **Checks.** A packet from another AS is ignored ([`Error::AsMismatch`]). A Hello with
//!   other K values is refused and reported ([`Event::KValueMismatch`], IOS's "K-value
//!   mismatch"), taking an existing neighbour down.
//! - **Authentication** (RFC 7868 §6.7.2.1): with an [`Md5Key`], every Hello carries a keyed
//!   MD5 Authentication TLV first, its digest over the whole packet (the Cisco span, see
//!   `dmvpn_eigrp::auth`), and every packet received must carry one that verifies with the key
//!   (over the whole packet, or FRR's header-only span) or it is ignored
//!   ([`Error::AuthenticationFailed`]). Without a key, packets are taken whether they carry
//!   one or not. HMAC-SHA-256 is not offered: its key derivation is not confirmed against IOS.
//! - **Goodbye.** A Hello with K1–K5 all 255 (RFC 7868 §5.3.5.1), or a Peer Termination TLV that
//!   lists this router's address, takes the sender down at once; [`Neighbors::shutdown`] sends
//!   this router's own goodbye.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use core::fmt;

use dmvpn_eigrp::auth::{self, Md5Span};
use dmvpn_eigrp::tlv::{Authentication, Parameters, SoftwareVersion, Tlv};
use dmvpn_eigrp::{self as eigrp, AuthType, Flags, OpCode};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::time::{Duration, Instant};
use crate::timer::TimerTable;

/// 224.0.0.10, where EIGRP sends Hellos (RFC 7868 §5.2).
pub const ALL_EIGRP_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 10);

/// A keyed-MD5 key (`key chain` with one key, `ip authentication mode eigrp <as> md5`): the key
/// ID and the key string. Wiped on drop and never printed.
#[derive(Clone, Eq, PartialEq, Zeroize, ZeroizeOnDrop)]
pub struct Md5Key {
    key_id: u32,
    secret: Vec<u8>,
}

impl Md5Key {
    /// The key `key_id` with key string `secret`.
    #[must_use]
    pub fn new(key_id: u32, secret: &[u8]) -> Self {
        Self {
            key_id,
            secret: secret.to_vec(),
        }
    }

    /// The key ID.
    #[must_use]
    pub const fn key_id(&self) -> u32 {
        self.key_id
    }
}

impl fmt::Debug for Md5Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Md5Key({}, <redacted>)", self.key_id)
    }
}

/// An HMAC-SHA-256 key (`authentication mode hmac-sha-256 <password>` of IOS named mode; RFC
/// 7868 §6.7.2 Auth Type 3): the key ID and the password. The HMAC key of each packet is the
/// password followed by the sender's address ([`auth::sha256_key`]), so a packet is verified
/// with the key of the address it came from. Wiped on drop and never printed.
#[derive(Clone, Eq, PartialEq, Zeroize, ZeroizeOnDrop)]
pub struct Sha256Key {
    key_id: u32,
    password: Vec<u8>,
}

impl Sha256Key {
    /// The key `key_id` with `password`.
    #[must_use]
    pub fn new(key_id: u32, password: &[u8]) -> Self {
        Self {
            key_id,
            password: password.to_vec(),
        }
    }

    /// The key ID.
    #[must_use]
    pub const fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The HMAC key of packets sent by `sender`.
    fn hmac_key(&self, sender: Ipv4Addr) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(auth::sha256_key(&self.password, sender.into()))
    }
}

impl fmt::Debug for Sha256Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Key({}, <redacted>)", self.key_id)
    }
}

/// The configuration of EIGRP on one interface.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct HelloConfig {
    /// This router's address on the interface (the tunnel address).
    pub address: Ipv4Addr,
    /// `router eigrp <as>`.
    pub autonomous_system: u16,
    /// `metric weights 0 k1 k2 k3 k4 k5` (and K6); IOS's default 1 0 1 0 0 0.
    pub k: [u8; 6],
    /// `ip hello-interval eigrp`: 5 s.
    pub hello_interval: Duration,
    /// `ip hold-time eigrp`: 15 s, announced to neighbours.
    pub hold_time: u16,
    /// The Software Version TLV sent.
    pub software_version: SoftwareVersion,
    /// `eigrp stub` flags, if a stub.
    pub stub: Option<u16>,
    /// The MD5 key, if MD5 authentication is on.
    pub md5: Option<Md5Key>,
    /// The HMAC-SHA-256 key, if SHA-256 authentication is on (it wins over `md5`).
    pub sha256: Option<Sha256Key>,
}

impl HelloConfig {
    /// IOS's defaults for `address` in `autonomous_system`.
    #[must_use]
    pub const fn new(address: Ipv4Addr, autonomous_system: u16) -> Self {
        Self {
            address,
            autonomous_system,
            k: Parameters::DEFAULT.k,
            hello_interval: Duration::from_secs(5),
            hold_time: Parameters::DEFAULT.hold_time,
            software_version: SoftwareVersion {
                release: [12, 4],
                tlv_version: [1, 2],
            },
            stub: None,
            md5: None,
            sha256: None,
        }
    }
}

/// A neighbour.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Neighbor {
    /// Its address on the interface.
    pub address: Ipv4Addr,
    /// The hold time it announced.
    pub hold_time: Duration,
    /// When it came up.
    pub up_since: Instant,
    /// When it goes down unless it sends something.
    pub expires_at: Instant,
    /// Its Software Version TLV, if it sent one.
    pub software_version: Option<SoftwareVersion>,
    /// Its stub flags, if it is a stub.
    pub stub: Option<u16>,
}

/// Why a neighbour went down (IOS's `%DUAL-5-NBRCHANGE` reasons; `Display` prints IOS's text).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum DownReason {
    /// "holding time expired".
    HoldTimerExpired,
    /// "Interface Goodbye received": a Hello with K1–K5 all 255.
    Goodbye,
    /// "Interface PEER-TERMINATION received": a Peer Termination TLV listing this router.
    PeerTermination,
    /// "K-value mismatch".
    KValueMismatch,
    /// This router shut down ([`Neighbors::shutdown`]): "interface down".
    Shutdown,
    /// "retry limit exceeded": a reliable packet went unacknowledged 16 times (and for longer
    /// than the neighbour's hold time).
    RetryLimitExceeded,
    /// "peer restarted": an INIT Update from an established neighbour.
    PeerRestarted,
    /// "stuck in active": no SIA-Reply to an SIA-Query.
    StuckInActive,
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HoldTimerExpired => "holding time expired",
            Self::Goodbye => "Interface Goodbye received",
            Self::PeerTermination => "Interface PEER-TERMINATION received",
            Self::KValueMismatch => "K-value mismatch",
            Self::Shutdown => "interface down",
            Self::RetryLimitExceeded => "retry limit exceeded",
            Self::PeerRestarted => "peer restarted",
            Self::StuckInActive => "stuck in active",
        })
    }
}

/// What happened to the neighbours.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Event {
    /// A new neighbour (`%DUAL-5-NBRCHANGE: … is up: new adjacency`): its first Hello.
    NeighborUp {
        /// Its address on the interface.
        address: Ipv4Addr,
        /// The hold time it announced.
        hold_time: Duration,
    },
    /// A neighbour is gone (`%DUAL-5-NBRCHANGE: … is down: <reason>`).
    NeighborDown {
        /// Its address on the interface.
        address: Ipv4Addr,
        /// Why (`Display` gives IOS's words).
        reason: DownReason,
    },
    /// A Hello with other K values was refused (`K-value mismatch`).
    KValueMismatch {
        /// The sender.
        address: Ipv4Addr,
        /// Its K1–K6.
        theirs: [u8; 6],
    },
}

/// IOS's log lines (without the `%DUAL-n-…` tag and process number), e.g. `Neighbor
/// 172.16.1.2 (Tunnel0) is down: holding time expired`.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NeighborUp { address, .. } => {
                write!(f, "Neighbor {address} (Tunnel0) is up: new adjacency")
            }
            Self::NeighborDown { address, reason } => {
                write!(f, "Neighbor {address} (Tunnel0) is down: {reason}")
            }
            Self::KValueMismatch { address, theirs } => {
                let [k1, k2, k3, k4, k5, k6] = theirs;
                write!(
                    f,
                    "Neighbor {address} (Tunnel0): K-value mismatch (theirs {k1} {k2} {k3} {k4} {k5} {k6})"
                )
            }
        }
    }
}

/// Why a packet was ignored.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The packet belongs to another autonomous system.
    #[error("eigrp: packet for as {theirs}, this router runs as {ours}")]
    AsMismatch {
        /// Ours.
        ours: u16,
        /// The packet's.
        theirs: u16,
    },
    /// A virtual router ID other than 0 (unicast IPv4 AF).
    #[error("eigrp: virtual router id {vrid:#06x} is not supported")]
    VirtualRouterId {
        /// The packet's.
        vrid: u16,
    },
    /// A Hello without a Parameters TLV.
    #[error("eigrp: hello from {address} has no parameters tlv")]
    MissingParameters {
        /// The sender.
        address: Ipv4Addr,
    },
    /// A Hello with other K values ([`Event::KValueMismatch`] was raised).
    #[error("eigrp: k-value mismatch with {address}")]
    KValueMismatch {
        /// The sender.
        address: Ipv4Addr,
    },
    /// Authentication is on and the packet carries no MD5 Authentication TLV that verifies with
    /// the key.
    #[error("eigrp: authentication failed for packet from {address}")]
    AuthenticationFailed {
        /// The sender.
        address: Ipv4Addr,
    },
    /// A packet other than a Hello from an address that is no neighbour.
    #[error("eigrp: {opcode:?} from {address}, which is not a neighbour")]
    NotNeighbor {
        /// The sender.
        address: Ipv4Addr,
        /// The packet's opcode.
        opcode: OpCode,
    },
}

/// An EIGRP packet to send: its IPv4 destination (224.0.0.10 for Hellos) and bytes, checksum
/// included (the IP payload, protocol 88).
pub type Transmit = crate::Transmit<crate::Eigrp>;

impl Transmit {
    /// The packet, parsed back.
    ///
    /// # Errors
    /// Never for packets the machine built; the codec's error otherwise.
    pub fn parse(&self) -> Result<eigrp::Repr<'_>, eigrp::Error> {
        eigrp::Repr::parse(&eigrp::Packet::new_checked(&self.bytes[..])?)
    }
}

#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
enum Timer {
    Hello,
    Hold(Ipv4Addr),
}

/// The neighbour table of one EIGRP interface and its Hello protocol.
#[derive(Debug)]
pub struct Neighbors {
    config: HelloConfig,
    neighbors: BTreeMap<Ipv4Addr, Neighbor>,
    timers: TimerTable<Timer>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
}

impl Neighbors {
    /// Starts the Hello protocol: the first Hello goes out now.
    #[must_use]
    pub fn new(config: HelloConfig, now: Instant) -> Self {
        let first = Parameters {
            k: config.k,
            hold_time: config.hold_time,
        };
        let hello_at = now + config.hello_interval;
        let mut neighbors = Self {
            config,
            neighbors: BTreeMap::new(),
            timers: TimerTable::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        neighbors.send_hello(first);
        neighbors.timers.set(Timer::Hello, hello_at);
        neighbors
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &HelloConfig {
        &self.config
    }

    /// The neighbour at `address`.
    #[must_use]
    pub fn get(&self, address: Ipv4Addr) -> Option<&Neighbor> {
        self.neighbors.get(&address)
    }

    /// Every neighbour, by address.
    pub fn iter(&self) -> impl Iterator<Item = &Neighbor> + '_ {
        self.neighbors.values()
    }

    /// How many neighbours there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.neighbors.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.neighbors.is_empty()
    }

    /// Handles an EIGRP packet from `from` (its IPv4 source, a tunnel address).
    ///
    /// # Errors
    /// The packet was ignored: see [`Error`].
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        msg: &eigrp::Repr<'_>,
    ) -> Result<(), Error> {
        if msg.autonomous_system != self.config.autonomous_system {
            return Err(Error::AsMismatch {
                ours: self.config.autonomous_system,
                theirs: msg.autonomous_system,
            });
        }
        if msg.virtual_router_id != eigrp::consts::VRID_UNICAST {
            return Err(Error::VirtualRouterId {
                vrid: msg.virtual_router_id,
            });
        }
        if !authentic(&self.config, from, msg) {
            return Err(Error::AuthenticationFailed { address: from });
        }
        let params = msg.parameters().filter(|_| msg.opcode == OpCode::HELLO);
        let Some(params) = params else {
            if msg.opcode == OpCode::HELLO && msg.ack == 0 {
                return Err(Error::MissingParameters { address: from });
            }
            // Any other packet (an acknowledgement, an Update …) restarts the hold timer.
            return match self.neighbors.get(&from).copied() {
                Some(neighbor) => {
                    self.hold(now, neighbor);
                    Ok(())
                }
                None => Err(Error::NotNeighbor {
                    address: from,
                    opcode: msg.opcode,
                }),
            };
        };
        if params.is_goodbye() {
            self.down(from, DownReason::Goodbye);
            return Ok(());
        }
        if self.terminates_us(msg) {
            self.down(from, DownReason::PeerTermination);
            return Ok(());
        }
        if params.k[..5] != self.config.k[..5] {
            self.events.push_back(Event::KValueMismatch {
                address: from,
                theirs: params.k,
            });
            self.down(from, DownReason::KValueMismatch);
            return Err(Error::KValueMismatch { address: from });
        }
        let hold_time = Duration::from_secs(i64::from(params.hold_time));
        let software_version = msg.tlvs.iter().find_map(|tlv| match tlv {
            Tlv::SoftwareVersion(v) => Some(v),
            _ => None,
        });
        let stub = msg.tlvs.iter().find_map(|tlv| match tlv {
            Tlv::Stub(flags) => Some(flags),
            _ => None,
        });
        let neighbor = match self.neighbors.get(&from) {
            Some(known) => Neighbor {
                hold_time,
                software_version,
                stub,
                ..*known
            },
            None => {
                self.events.push_back(Event::NeighborUp {
                    address: from,
                    hold_time,
                });
                Neighbor {
                    address: from,
                    hold_time,
                    up_since: now,
                    expires_at: now,
                    software_version,
                    stub,
                }
            }
        };
        self.hold(now, neighbor);
        Ok(())
    }

    /// Sends the Hellos and runs the hold timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((timer, _)) = self.timers.pop_expired(now) {
            match timer {
                Timer::Hello => {
                    self.send_hello(Parameters {
                        k: self.config.k,
                        hold_time: self.config.hold_time,
                    });
                    self.timers
                        .set(Timer::Hello, now + self.config.hello_interval);
                }
                Timer::Hold(address) => self.down(address, DownReason::HoldTimerExpired),
            }
        }
    }

    /// Sends a goodbye Hello (K1–K5 = 255), drops every neighbour and stops the Hellos
    /// (`shutdown` of the interface or `no router eigrp`).
    pub fn shutdown(&mut self) {
        self.send_hello(Parameters {
            hold_time: self.config.hold_time,
            ..Parameters::GOODBYE
        });
        self.timers.stop(Timer::Hello);
        let addresses: Vec<_> = self.neighbors.keys().copied().collect();
        for address in addresses {
            self.down(address, DownReason::Shutdown);
        }
    }

    /// Takes the neighbour at `address` down for `reason` (the reliable transport's "retry limit
    /// exceeded", "peer restarted" or "stuck in active"); a later Hello brings it back as a new
    /// adjacency. Returns whether it was a neighbour.
    pub fn reset(&mut self, address: Ipv4Addr, reason: DownReason) -> bool {
        let known = self.neighbors.contains_key(&address);
        self.down(address, reason);
        known
    }

    /// When [`Neighbors::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next packet to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn hold(&mut self, now: Instant, neighbor: Neighbor) {
        let neighbor = Neighbor {
            expires_at: now + neighbor.hold_time,
            ..neighbor
        };
        self.timers
            .set(Timer::Hold(neighbor.address), neighbor.expires_at);
        self.neighbors.insert(neighbor.address, neighbor);
    }

    fn down(&mut self, address: Ipv4Addr, reason: DownReason) {
        if self.neighbors.remove(&address).is_some() {
            self.timers.stop(Timer::Hold(address));
            self.events
                .push_back(Event::NeighborDown { address, reason });
        }
    }

    /// Whether the packet has a Peer Termination TLV listing this router: after one byte (FRR
    /// writes 0), IPv4 addresses of 4 bytes each.
    fn terminates_us(&self, msg: &eigrp::Repr<'_>) -> bool {
        let own = self.config.address.octets();
        msg.tlvs.iter().any(|tlv| match tlv {
            Tlv::PeerTermination(value) => value
                .get(1..)
                .is_some_and(|addrs| addrs.chunks_exact(4).any(|a| a == own)),
            _ => false,
        })
    }

    fn send_hello(&mut self, params: Parameters) {
        let mut tlvs = Vec::with_capacity(3);
        tlvs.push(Tlv::Parameters(params));
        tlvs.push(Tlv::SoftwareVersion(self.config.software_version));
        if let Some(flags) = self.config.stub {
            tlvs.push(Tlv::Stub(flags));
        }
        let bytes = encode_tlvs(&tlvs);
        let header = Header {
            opcode: OpCode::HELLO,
            flags: Flags::default(),
            sequence: 0,
            ack: 0,
        };
        let bytes = seal(&self.config, header, &bytes);
        self.transmits
            .push_back(Transmit::new(ALL_EIGRP_ROUTERS, crate::Eigrp, bytes));
    }
}

/// The header fields of a packet [`seal`] builds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub(crate) opcode: OpCode,
    pub(crate) flags: Flags,
    pub(crate) sequence: u32,
    pub(crate) ack: u32,
}

/// The TLVs' bytes, back to back.
pub(crate) fn encode_tlvs(tlvs: &[Tlv<'_>]) -> Vec<u8> {
    let mut bytes = alloc::vec![0; tlvs.iter().map(Tlv::buffer_len).sum()];
    let mut pos = 0;
    for tlv in tlvs {
        let len = tlv.buffer_len();
        if let Some(slot) = bytes.get_mut(pos..pos + len) {
            tlv.emit(slot);
        }
        pos += len;
    }
    bytes
}

/// A whole packet from `config`'s AS: the header, the Authentication TLV first when a key is
/// configured (digest over the finished packet: MD5 over the whole packet, the Cisco span; or
/// HMAC-SHA-256 keyed with this router's address), then `tlvs` (already encoded), checksum set.
pub(crate) fn seal(config: &HelloConfig, header: Header, tlvs: &[u8]) -> Vec<u8> {
    const NO_DIGEST: [u8; auth::SHA256_LEN] = [0; auth::SHA256_LEN];
    let auth_tlv = match (&config.sha256, &config.md5) {
        (Some(key), _) => Some(Authentication {
            auth_type: AuthType::SHA256,
            key_id: key.key_id,
            key_sequence: 0,
            nullpad: [0; 8],
            digest: &NO_DIGEST,
        }),
        (None, Some(key)) => Some(Authentication {
            auth_type: AuthType::MD5,
            key_id: key.key_id,
            key_sequence: 0,
            nullpad: [0; 8],
            digest: &NO_DIGEST[..auth::MD5_LEN],
        }),
        (None, None) => None,
    };
    let auth_list = auth_tlv.map(Tlv::Authentication);
    let repr = eigrp::Repr {
        opcode: header.opcode,
        flags: header.flags,
        sequence: header.sequence,
        ack: header.ack,
        virtual_router_id: eigrp::consts::VRID_UNICAST,
        autonomous_system: config.autonomous_system,
        tlvs: eigrp::Tlvs::new(auth_list.as_slice()),
    };
    let head = repr.buffer_len();
    let mut bytes = alloc::vec![0; head + tlvs.len()];
    repr.emit(&mut eigrp::Packet::new_unchecked(&mut bytes[..]));
    if let Some(slot) = bytes.get_mut(head..) {
        slot.copy_from_slice(tlvs);
    }
    eigrp::Packet::new_unchecked(&mut bytes[..]).fill_checksum();
    // `sign` cannot fail: the packet was just built with the Authentication TLV first.
    let _ = match (&config.sha256, &config.md5) {
        (Some(key), _) => auth::sign(&mut bytes, &key.hmac_key(config.address), Md5Span::Packet),
        (None, Some(key)) => auth::sign(&mut bytes, &key.secret, Md5Span::Packet),
        (None, None) => Ok(()),
    };
    bytes
}

/// Whether `msg` passes `config`'s authentication: without a key, anything does; with one, the
/// packet must carry an Authentication TLV of the key's type and ID whose digest verifies (MD5
/// over either span, see `dmvpn_eigrp::auth`; HMAC-SHA-256 keyed with the sender's address).
/// The packet is emitted again to get its bytes (the codec round-trips exactly; the checksum,
/// which no digest covers, is recomputed).
pub(crate) fn authentic(config: &HelloConfig, from: Ipv4Addr, msg: &eigrp::Repr<'_>) -> bool {
    let (ty, key_id) = match (&config.sha256, &config.md5) {
        (Some(key), _) => (AuthType::SHA256, key.key_id),
        (None, Some(key)) => (AuthType::MD5, key.key_id),
        (None, None) => return true,
    };
    let Some(tlv) = msg.authentication() else {
        return false;
    };
    if tlv.auth_type != ty || tlv.key_id != key_id {
        return false;
    }
    let bytes = msg.to_bytes();
    match (&config.sha256, &config.md5) {
        (Some(key), _) => auth::verify(&bytes, &key.hmac_key(from)).is_ok(),
        (None, Some(key)) => auth::verify(&bytes, &key.secret).is_ok(),
        (None, None) => true,
    }
}
